'use strict';
// Every rendered object validates against its schema: Kubernetes, Gateway API and Istio models,
// Linkerd's CRDs; unknown (misspelt) fields are errors everywhere.
const test = require('node:test');
const assert = require('node:assert/strict');
const m = require('../lib/manifests');
const { validateObject, prepare } = require('../lib/validate');

const renderings = () => m.findKustomizations().map((dir) => [dir, m.render(dir)]);

test('every rendered object validates against its schema, unknown fields rejected', () => {
    const all = renderings();
    prepare(all.flatMap(([, objects]) => objects));
    const problems = [];
    let count = 0;
    for (const [dir, objects] of all) {
        for (const o of objects) {
            count++;
            for (const p of validateObject(o)) problems.push(`${dir}: ${p}`);
        }
    }
    assert.deepEqual(problems, []);
    assert.ok(count > 100, `only ${count} objects checked`);
});

test('the validator itself catches wrong types, bad enums and misspelt fields', () => {
    const copy = (o) => JSON.parse(JSON.stringify(o));
    const base = m.render('deploy/kubernetes/base');
    const istio = m.render('deploy/kubernetes/overlays/istio-api');
    const linkerd = m.render('deploy/kubernetes/overlays/linkerd');
    const legacy = m.render('deploy/kubernetes/overlays/linkerd/legacy');
    prepare([...base, ...istio, ...linkerd]);
    const expectProblem = (obj, mutate, pattern) => {
        const o = copy(obj);
        mutate(o);
        const problems = validateObject(o);
        assert.ok(problems.some((p) => pattern.test(p)), `expected ${pattern} in ${JSON.stringify(problems)}`);
    };
    const dep = m.named(base, 'Deployment', 'videos-api');
    expectProblem(dep, (o) => { o.spec.template.spec.containers[0].readinesProbe = {}; }, /readinesProbe: unknown field/);
    expectProblem(dep, (o) => { o.spec.template.metadata.annotation = {}; }, /metadata\.annotation: unknown field/);
    expectProblem(dep, (o) => { o.spec.template.spec.containers[0].ports[0].containerPort = '10010'; }, /containerPort must be integer/);
    expectProblem(dep, (o) => { delete o.spec.template.spec.containers[0].name; }, /required property name/);
    const stripping = m.named(m.render('deploy/kubernetes/overlays/istio'), 'HTTPRoute', 'home');
    expectProblem(stripping, (o) => { o.spec.rules[0].filters[0].urlRewrite.path.type = 'ReplacePrefix'; }, /allowed values/);
    expectProblem(m.named(base, 'HTTPRoute', 'home'), (o) => { o.spec.rules[0].backendRef = []; }, /additional properties \(backendRef\)/);
    expectProblem(m.named(istio, 'VirtualService', 'videos-api'), (o) => { o.spec.http[0].retries.retryon = '5xx'; }, /retryon: unknown field/);
    expectProblem(m.named(istio, 'VirtualService', 'servicemesh'), (o) => { o.spec.http[0].match[0].headers.cookie.regx = 'x'; }, /regx: unknown field/);
    expectProblem(m.named(istio, 'AuthorizationPolicy', 'videos-api'), (o) => { o.spec.action = 'PERMIT'; }, /allowed values/);
    expectProblem(m.named(linkerd, 'Server', 'videos-api-http'), (o) => { o.spec.proxyProtocl = 'HTTP/1'; }, /additional properties \(proxyProtocl\)/);
    expectProblem(m.named(linkerd, 'MeshTLSAuthentication', 'playlists-api'), (o) => { o.spec.identities = ['*']; }, /oneOf/);
    expectProblem(legacy[0], (o) => { o.spec.routes[0].isRetriable = true; }, /additional properties \(isRetriable\)/);
    expectProblem(legacy[0], (o) => { o.spec.retryBudget.retryRatio = '0.2'; }, /must be number/);
    // telemetry.istio.io/v1 has no model: Istio's own CRD schema (schemas/istio) checks it.
    const telemetry = m.named(m.render('deploy/kubernetes/overlays/istio'), 'Telemetry', 'tracing');
    expectProblem(telemetry, (o) => { o.spec.tracing[0].randomSamplingPercent = 100; }, /additional properties \(randomSamplingPercent\)/);
    expectProblem(telemetry, (o) => { o.spec.tracing[0].randomSamplingPercentage = '100'; }, /must be number/);
    // HTTPRoute `retry` is newer than @kubernetes-models/gateway-api@0.5.1: the pinned Gateway API
    // CRD (schemas/gateway-api, v1.5.1 experimental) checks the mesh-neutral routes.
    const ambient = m.render('deploy/kubernetes/overlays/istio-ambient');
    const neutral = m.named(ambient, 'HTTPRoute', 'videos-api');
    assert.deepEqual(validateObject(neutral), []);
    expectProblem(neutral, (o) => { o.spec.rules[0].retry.attempt = 9; }, /additional properties \(attempt\)/);
    expectProblem(neutral, (o) => { o.spec.rules[0].retry.codes = ['500']; }, /must be integer/);
    expectProblem(neutral, (o) => { o.spec.rules[0].retry.codes = [200]; }, /must be >= 400/);
    expectProblem(neutral, (o) => { o.spec.rules[0].timeouts.backendRequest = '250'; }, /must match pattern/);
    // AuthorizationPolicy targetRefs: Istio 1.30.3's CRD (the istio models predate the field).
    const l7 = m.named(ambient, 'AuthorizationPolicy', 'videos-api-l7');
    assert.deepEqual(validateObject(l7), []);
    expectProblem(l7, (o) => { o.spec.targetRef = o.spec.targetRefs[0]; o.spec.targetRefz = o.spec.targetRefs; delete o.spec.targetRefs; }, /additional properties \(targetRefz\)/);
    expectProblem(l7, (o) => { o.spec.rules[0].to[0].operation.method = ['GET']; }, /additional properties \(method\)/);
    expectProblem({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }, () => {}, /no schema model/);
});
