'use strict';
// Can the checks fail? Each mutation below is one realistic mistake, made on a deep copy of the
// rendered manifests (and of the walkthrough's text where the mistake is in the doc), as the
// mistake in the source file would render. The same check functions that test/consistency.test.js
// runs on the real files (lib/checks.js) must reject every one of them. A mutation that no
// check catches is a check that passes whatever the manifests say.
const test = require('node:test');
const assert = require('node:assert/strict');
const m = require('../lib/manifests');
const { failures, loadContext, copyContext } = require('../lib/checks');

const BASE = 'deploy/kubernetes/base';
const LINKERD = 'deploy/kubernetes/overlays/linkerd';
const ISTIO = 'deploy/kubernetes/overlays/istio';
const ISTIO_API = 'deploy/kubernetes/overlays/istio-api';
const AMBIENT = 'deploy/kubernetes/overlays/istio-ambient';
const APP = [BASE, LINKERD, ISTIO, ISTIO_API, AMBIENT, 'deploy/kubernetes/overlays/ingress-kong'];
/** The overlays that render the mesh-neutral routes of deploy/kubernetes/components/gamma. */
const GAMMA = [LINKERD, ISTIO, AMBIENT];

/** Applies fn to the object kind/name in every given rendering that has it (as a source file would). */
function edit(ctx, dirs, kind, name, fn) {
    let found = 0;
    for (const dir of dirs) {
        const o = m.named(ctx.renderings[dir], kind, name);
        if (o) {
            fn(o, dir);
            found++;
        }
    }
    assert.ok(found, `mutation target ${kind}/${name} not found in ${dirs}`);
}

const container = (d, name) => d.spec.template.spec.containers.find((c) => c.name === name);
const setEnv = (c, name, value) => {
    const e = c.env.find((x) => x.name === name);
    if (e) e.value = value;
    else c.env.push({ name, value });
};
/** Replaces text in the walkthrough, failing if the text is not there (so the mutation is real). */
function docReplace(ctx, from, to) {
    assert.ok(ctx.doc.includes(from), `mutation: "${from}" not in docs/kubernetes.md`);
    ctx.doc = ctx.doc.replace(from, to);
}

const MUTATIONS = [
    // The four checks of issue 13 that could not fail.
    ['Linkerd Server allows everyone (accessPolicy: all-unauthenticated)', (ctx) =>
        edit(ctx, [LINKERD], 'Server', 'videos-api-http', (o) => { o.spec.accessPolicy = 'all-unauthenticated'; })],
    ['Istio retries turned off (attempts: 0)', (ctx) =>
        edit(ctx, [ISTIO_API], 'VirtualService', 'videos-api', (o) => { o.spec.http[0].retries.attempts = 0; })],
    ['wrong targetPort on the Istio gateway\'s node port Service', (ctx) =>
        edit(ctx, [ISTIO], 'Service', 'servicemesh-entry', (o) => { o.spec.ports[0].targetPort = 8080; })],
    ['/api/playlists rewritten to a path playlists-api does not answer', (ctx) =>
        edit(ctx, [ISTIO], 'HTTPRoute', 'api-playlists', (o) => { o.spec.rules[0].filters[0].urlRewrite.path.replacePrefixMatch = '/v1/'; })],
    // Retries and the walkthrough's numbers.
    ['Linkerd retry limit back to 3 (the doc\'s residual rates no longer hold)', (ctx) =>
        edit(ctx, [LINKERD], 'Service', 'videos-api', (o) => { o.metadata.annotations['retry.linkerd.io/limit'] = '3'; })],
    ['Istio retries on 503 only (FLAKY\'s 500 never retried)', (ctx) =>
        edit(ctx, [ISTIO_API], 'VirtualService', 'videos-api', (o) => { o.spec.http[0].retries.retryOn = '503,reset,connect-failure'; })],
    ['Istio perTryTimeout as long as the whole timeout', (ctx) =>
        edit(ctx, [ISTIO_API], 'VirtualService', 'videos-api', (o) => { o.spec.http[0].retries.perTryTimeout = '900ms'; })],
    ['Linkerd per-try timeout longer than the request timeout', (ctx) =>
        edit(ctx, [LINKERD], 'Service', 'videos-api', (o) => { o.metadata.annotations['retry.linkerd.io/timeout'] = '950ms'; })],
    ['legacy ServiceProfile budget too small for one failure in three', (ctx) =>
        edit(ctx, ['deploy/kubernetes/overlays/linkerd/legacy'], 'ServiceProfile', `videos-api.${m.NAMESPACE}.svc.cluster.local`, (o) => { o.spec.retryBudget.retryRatio = 0.2; })],
    // Ports, labels, identities.
    ['wrong port name as a Service targetPort', (ctx) =>
        edit(ctx, APP, 'Service', 'playlists-api', (o) => { o.spec.ports[0].targetPort = 'htp'; })],
    ['Linkerd Server on the admin port (probes would be refused)', (ctx) =>
        edit(ctx, [LINKERD], 'Server', 'videos-api-http', (o) => { o.spec.port = 'admin'; })],
    ['a label a policy selects on is missing (AuthorizationPolicy selects app: video-api)', (ctx) =>
        edit(ctx, [ISTIO, ISTIO_API], 'AuthorizationPolicy', 'videos-api', (o) => { o.spec.selector.matchLabels.app = 'video-api'; })],
    ['videos-web v2 pods lose their version label (the split\'s Service selects nothing)', (ctx) =>
        edit(ctx, [LINKERD, ISTIO, ISTIO_API, AMBIENT], 'Deployment', 'videos-web-v2', (o) => {
            delete o.spec.template.metadata.labels.version;
            delete o.spec.selector.matchLabels.version;
        })],
    ['wrong service account in an Istio principal', (ctx) =>
        edit(ctx, [ISTIO, ISTIO_API], 'AuthorizationPolicy', 'videos-api', (o) => { o.spec.rules[0].from[0].source.principals = [`cluster.local/ns/${m.NAMESPACE}/sa/videos-web`]; })],
    ['wrong service account in the Linkerd MeshTLSAuthentication', (ctx) =>
        edit(ctx, [LINKERD], 'MeshTLSAuthentication', 'playlists-api', (o) => { o.spec.identityRefs[0].name = 'videos-web'; })],
    ['a split that does not sum to 100 (90/20)', (ctx) =>
        edit(ctx, [ISTIO], 'HTTPRoute', 'home', (o) => { o.spec.rules[1].backendRefs[1].weight = 20; })],
    ['Istio-API split 80/20 (not the documented 90/10)', (ctx) =>
        edit(ctx, [ISTIO_API], 'VirtualService', 'servicemesh', (o) => {
            const h = o.spec.http.find((x) => x.name === 'home');
            h.route[0].weight = 80;
            h.route[1].weight = 20;
        })],
    ['namespace label for Istio injection missing', (ctx) =>
        edit(ctx, [ISTIO, ISTIO_API], 'Namespace', m.NAMESPACE, (o) => { delete o.metadata.labels['istio-injection']; })],
    ['namespace annotation for Linkerd injection missing', (ctx) =>
        edit(ctx, [LINKERD], 'Namespace', m.NAMESPACE, (o) => { delete o.metadata.annotations['linkerd.io/inject']; })],
    ['deprecated native-sidecar annotation (config.beta.linkerd.io)', (ctx) =>
        edit(ctx, [LINKERD], 'Namespace', m.NAMESPACE, (o) => {
            const a = o.metadata.annotations;
            a['config.beta.linkerd.io/proxy-enable-native-sidecar'] = a['config.linkerd.io/proxy-enable-native-sidecar'];
            delete a['config.linkerd.io/proxy-enable-native-sidecar'];
        })],
    // Entry and switching between steps.
    ['Istio overlay deletes the base\'s catch-all route instead of replacing it (stale after apply)', (ctx) => {
        const objects = ctx.renderings[ISTIO];
        const i = objects.findIndex((o) => o.kind === 'HTTPRoute' && o.metadata.name === 'root');
        assert.ok(i >= 0);
        objects.splice(i, 1);
    }],
    ['Istio catch-all route sends / to videos-web, past the split', (ctx) =>
        edit(ctx, [ISTIO], 'HTTPRoute', 'root', (o) => {
            o.spec.rules = [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'videos-web', port: 80 }] }];
        })],
    ['videos-web loses BASE_PATH while the base entry does not strip /home', (ctx) =>
        edit(ctx, [BASE], 'Deployment', 'videos-web', (o) => {
            const c = container(o, 'videos-web');
            c.env = c.env.filter((e) => e.name !== 'BASE_PATH');
        })],
    ['traffic generator sends Host: servicemesh.demo to the in-mesh gateway (PassthroughCluster)', (ctx) =>
        edit(ctx, [ISTIO], 'Deployment', 'traffic-generator', (o) => {
            const c = container(o, 'traffic-generator');
            setEnv(c, 'TARGETS', 'http://servicemesh-istio/home/ http://servicemesh-istio/api/playlists');
            setEnv(c, 'HOST_HEADER', 'servicemesh.demo');
        })],
    ['kind maps host port 443 to a node port nothing listens on', (ctx) => {
        ctx.kind.nodes[0].extraPortMappings.push({ containerPort: 30443, hostPort: 443, listenAddress: '127.0.0.1', protocol: 'TCP' });
    }],
    // Tracing.
    ['Istio Telemetry samples 1%', (ctx) =>
        edit(ctx, [ISTIO, ISTIO_API], 'Telemetry', 'tracing', (o) => { o.spec.tracing[0].randomSamplingPercentage = 1; })],
    ['Istio Telemetry names a provider the install does not declare', (ctx) =>
        edit(ctx, [ISTIO, ISTIO_API], 'Telemetry', 'tracing', (o) => { o.spec.tracing[0].providers[0].name = 'zipkin'; })],
    ['Linkerd proxies pointed at the Jaeger UI port instead of OTLP', (ctx) => {
        ctx.linkerdTracingValues.proxy.tracing.collector.endpoint = 'jaeger.tracing.svc.cluster.local:16686';
    }],
    ['Linkerd collector identity names the wrong service account', (ctx) => {
        ctx.linkerdTracingValues.proxy.tracing.collector.meshIdentity.serviceAccountName = 'default';
    }],
    // The walkthrough.
    ['walkthrough loads redis:7-alpine with kind load (fails on containerd image stores)', (ctx) =>
        docReplace(ctx, 'servicemesh/videos-web:1.0.0\n```', 'servicemesh/videos-web:1.0.0 redis:7-alpine\n```')],
    ['walkthrough: podman save without -m (one image, every tag)', (ctx) =>
        docReplace(ctx, 'podman save -m -o images.tar', 'podman save -o images.tar')],
    ['walkthrough\'s retry table drifts from the manifests (3 retries\' numbers)', (ctx) =>
        docReplace(ctx, '| 10 | 0.0017% | 0.015% |\n\nThat is', '| 4 | 1.2% | 10% |\n\nThat is')],
    ['walkthrough switches to ingress-kong without deleting the base\'s routes', (ctx) =>
        docReplace(ctx, 'kubectl -n servicemesh-demo delete httproute home api-playlists root --ignore-not-found\n', '')],
    ['walkthrough uses helm without listing it in step 0', (ctx) =>
        docReplace(ctx, '[`helm`](https://helm.sh/) 3 for step 11', 'a package manager for step 11')],
    ['walkthrough annotates a different retry limit than the overlay declares', (ctx) =>
        docReplace(ctx, 'retry.linkerd.io/limit=9', 'retry.linkerd.io/limit=3')],
    // The mesh-neutral routes (issue 14). A source file change renders in every overlay that uses
    // the component, so the mutation edits all of them.
    ['neutral route retries only 503 (FLAKY\'s 500 never retried)', (ctx) =>
        edit(ctx, GAMMA, 'HTTPRoute', 'videos-api', (o) => { o.spec.rules[0].retry.codes = [503]; })],
    ['neutral route retry.attempts 0 (retries off)', (ctx) =>
        edit(ctx, GAMMA, 'HTTPRoute', 'videos-api', (o) => { o.spec.rules[0].retry.attempts = 0; })],
    ['neutral route without backendRequest (a slow try takes the whole timeout)', (ctx) =>
        edit(ctx, GAMMA, 'HTTPRoute', 'videos-api', (o) => { delete o.spec.rules[0].timeouts.backendRequest; })],
    ['neutral route request timeout longer than playlists-api\'s own', (ctx) =>
        edit(ctx, GAMMA, 'HTTPRoute', 'videos-api', (o) => { o.spec.rules[0].timeouts.request = '1500ms'; })],
    ['neutral split does not sum to 100 (90/20)', (ctx) =>
        edit(ctx, GAMMA, 'HTTPRoute', 'videos-web', (o) => { o.spec.rules[1].backendRefs[1].weight = 20; })],
    ['neutral split 10/90 (weights swapped)', (ctx) =>
        edit(ctx, GAMMA, 'HTTPRoute', 'videos-web', (o) => { o.spec.rules[1].backendRefs[0].weight = 10; o.spec.rules[1].backendRefs[1].weight = 90; })],
    ['neutral canary leads to v1', (ctx) =>
        edit(ctx, GAMMA, 'HTTPRoute', 'videos-web', (o) => { o.spec.rules[0].backendRefs[0].name = 'videos-web-v1'; })],
    ['neutral route\'s parent names a Service that does not exist (video-api)', (ctx) =>
        edit(ctx, GAMMA, 'HTTPRoute', 'videos-api', (o) => { o.spec.parentRefs[0].name = 'video-api'; })],
    ['one overlay carries a different copy of the neutral route (Istio attempts 3)', (ctx) =>
        edit(ctx, [ISTIO], 'HTTPRoute', 'videos-api', (o) => { o.spec.rules[0].retry.attempts = 3; })],
    ['Istio-API variant keeps the neutral route beside its VirtualService', (ctx) => {
        ctx.renderings[ISTIO_API].push(structuredClone(m.named(ctx.renderings[ISTIO], 'HTTPRoute', 'videos-api')));
    }],
    ['Linkerd retry limit differs from the neutral route\'s attempts', (ctx) =>
        edit(ctx, [LINKERD], 'Service', 'videos-api', (o) => { o.metadata.annotations['retry.linkerd.io/limit'] = '5'; })],
    ['Linkerd overlay drops its retry annotations, trusting the route\'s retry (which Linkerd ignores)', (ctx) =>
        edit(ctx, [LINKERD], 'Service', 'videos-api', (o) => { o.metadata.annotations = {}; })],
    ['Linkerd videos-web Service selects v2 too (the unmeshed entry mixes versions by pod count)', (ctx) =>
        edit(ctx, [LINKERD], 'Service', 'videos-web', (o) => { delete o.spec.selector.version; })],
    ['walkthrough installs the standard-channel Gateway API CRDs (no retry field)', (ctx) =>
        docReplace(ctx, 'download/v1.5.1/experimental-install.yaml', 'download/v1.5.1/standard-install.yaml')],
    // Ambient mode.
    ['ambient namespace without istio.io/dataplane-mode (no pod in the mesh)', (ctx) =>
        edit(ctx, [AMBIENT], 'Namespace', m.NAMESPACE, (o) => { delete o.metadata.labels['istio.io/dataplane-mode']; })],
    ['ambient namespace still labelled for sidecar injection', (ctx) =>
        edit(ctx, [AMBIENT], 'Namespace', m.NAMESPACE, (o) => { o.metadata.labels['istio-injection'] = 'enabled'; })],
    ['ambient overlay keeps a sidecar annotation', (ctx) =>
        edit(ctx, [AMBIENT], 'Deployment', 'videos-api', (o) => { o.spec.template.metadata.annotations['sidecar.istio.io/nativeSidecar'] = 'true'; })],
    ['videos-api Service without istio.io/use-waypoint (its retries apply nowhere)', (ctx) =>
        edit(ctx, [AMBIENT], 'Service', 'videos-api', (o) => { delete o.metadata.labels['istio.io/use-waypoint']; })],
    ['videos-web names a waypoint that does not exist', (ctx) =>
        edit(ctx, [AMBIENT], 'Service', 'videos-web', (o) => { o.metadata.labels['istio.io/use-waypoint'] = 'videos-web-waypoint'; })],
    ['videos-web without istio.io/ingress-use-waypoint (the entry skips the split)', (ctx) =>
        edit(ctx, [AMBIENT], 'Service', 'videos-web', (o) => { delete o.metadata.labels['istio.io/ingress-use-waypoint']; })],
    ['waypoint of class istio instead of istio-waypoint', (ctx) =>
        edit(ctx, [AMBIENT], 'Gateway', 'waypoint', (o) => { o.spec.gatewayClassName = 'istio'; })],
    ['ambient L7 policy with a selector instead of targetRefs (ztunnel never matches it)', (ctx) =>
        edit(ctx, [AMBIENT], 'AuthorizationPolicy', 'videos-api-l7', (o) => {
            delete o.spec.targetRefs;
            o.spec.selector = { matchLabels: { app: 'videos-api' } };
        })],
    ['ambient L4 policy gains an HTTP method (ztunnel never matches the rule)', (ctx) =>
        edit(ctx, [AMBIENT], 'AuthorizationPolicy', 'playlists-api', (o) => { o.spec.rules[0].to[0].operation.methods = ['GET']; })],
    ['ambient L7 policy targets a Service without a waypoint (enforced by nothing)', (ctx) =>
        edit(ctx, [AMBIENT], 'AuthorizationPolicy', 'videos-api-l7', (o) => { o.spec.targetRefs[0].name = 'playlists-api'; })],
    ['ambient: wrong service account in the L7 principal (videos-web may call videos-api)', (ctx) =>
        edit(ctx, [AMBIENT], 'AuthorizationPolicy', 'videos-api-l7', (o) => { o.spec.rules[0].from[0].source.principals = [`cluster.local/ns/${m.NAMESPACE}/sa/videos-web`]; })],
    ['ambient: waypoint principal with the gateway class suffix (waypoint-istio-waypoint)', (ctx) =>
        edit(ctx, [AMBIENT], 'AuthorizationPolicy', 'videos-api', (o) => { o.spec.rules[0].from[0].source.principals = [`cluster.local/ns/${m.NAMESPACE}/sa/waypoint-istio-waypoint`]; })],
    ['ambient: videos-api pods admit playlists-api directly, around the waypoint', (ctx) =>
        edit(ctx, [AMBIENT], 'AuthorizationPolicy', 'videos-api', (o) => { o.spec.rules[0].from[0].source.principals.push(`cluster.local/ns/${m.NAMESPACE}/sa/playlists-api`); })],
    ['ambient: the videos-db policy is missing', (ctx) => {
        const objects = ctx.renderings[AMBIENT];
        objects.splice(objects.findIndex((o) => o.kind === 'AuthorizationPolicy' && o.metadata.name === 'videos-db'), 1);
    }],
    ['ambient: STRICT mTLS relaxed to PERMISSIVE', (ctx) =>
        edit(ctx, [AMBIENT], 'PeerAuthentication', 'default', (o) => { o.spec.mtls.mode = 'PERMISSIVE'; })],
    ['ambient install without gateways.seccompProfile (restricted refuses the gateway and waypoint pods)', (ctx) => {
        delete ctx.istioAmbientOperator.spec.values.gateways.seccompProfile;
    }],
    ['ambient entry splits at the gateway again, past videos-web\'s waypoint', (ctx) =>
        edit(ctx, [AMBIENT], 'HTTPRoute', 'home', (o) => { o.spec.rules[0].backendRefs = [{ name: 'videos-web-v1', port: 80, weight: 90 }, { name: 'videos-web-v2', port: 80, weight: 10 }]; })],
    ['walkthrough: switching from sidecars to ambient without deleting the sidecar overlays (Telemetry left behind)', (ctx) =>
        docReplace(ctx, 'kubectl delete -k deploy/kubernetes/overlays/istio --ignore-not-found\nkubectl delete -k deploy/kubernetes/overlays/istio-api --ignore-not-found\n', '')],
    // Issue 18: the tracing steps' requests must pass every policy on their way to videos-api.
    ['walkthrough: Istio\'s tracing step curls /home/api/playlists again (videos-web -> playlists-api is denied)', (ctx) =>
        docReplace(ctx, "http://servicemesh.demo/api/playlists   # 200\nistioctl dashboard jaeger", "http://servicemesh.demo/home/api/playlists\nistioctl dashboard jaeger")],
    ['walkthrough: Istio\'s tracing step curls the page only (no fan-out in the trace)', (ctx) =>
        docReplace(ctx, "http://servicemesh.demo/api/playlists   # 200\nistioctl dashboard jaeger", "http://servicemesh.demo/home/   # 200\nistioctl dashboard jaeger")],
    ['Istio: playlists-api admits videos-web only, and the tracing request comes from the entry', (ctx) =>
        edit(ctx, [ISTIO], 'AuthorizationPolicy', 'playlists-api', (o) => { o.spec.rules[0].from[0].source.principals = [`cluster.local/ns/${m.NAMESPACE}/sa/videos-web`]; })],
];

test('every realistic mistake makes the consistency checks fail', () => {
    const pristine = loadContext();
    // The unmutated copy passes: a failure below is the mutation's doing.
    assert.deepEqual(failures(copyContext(pristine)).map((f) => `${f.name}: ${f.error.message}`), []);
    const missed = [];
    for (const [name, mutate] of MUTATIONS) {
        const ctx = copyContext(pristine);
        mutate(ctx);
        const failed = failures(ctx);
        if (failed.length === 0) missed.push(name);
    }
    console.log(`mutation check: ${MUTATIONS.length - missed.length} of ${MUTATIONS.length} realistic mistakes caught`);
    assert.deepEqual(missed, [], 'mistakes no check catches');
});
