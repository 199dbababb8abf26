'use strict';
/**
 * The project's own checks of the manifests, which no schema makes: selectors against pod labels,
 * Service ports against container ports, host names in env against Services, probes and settings
 * against the service contract, images against the container build, routes and policies against
 * what exists, retry budgets against what the walkthrough promises, and the walkthrough's
 * commands against the files.
 *
 * Each check is a function of one context (the rendered objects of every kustomization, the kind
 * config and the walkthrough's text), so that test/consistency.test.js runs them on the files as
 * they are and test/mutations.test.js runs the very same functions on copies with one realistic
 * mistake each, which every mistake must fail.
 */
const fs = require('node:fs');
const path = require('node:path');
const assert = require('node:assert/strict');
const YAML = require('yaml');
const m = require('./manifests');
const { contract } = require('./contract');

const APP_RENDERINGS = [
    'deploy/kubernetes/base',
    'deploy/kubernetes/overlays/linkerd',
    'deploy/kubernetes/overlays/istio',
    'deploy/kubernetes/overlays/istio-api',
    'deploy/kubernetes/overlays/istio-ambient',
    'deploy/kubernetes/overlays/ingress-kong',
];
const LINKERD = 'deploy/kubernetes/overlays/linkerd';
const ISTIO = 'deploy/kubernetes/overlays/istio';
const ISTIO_API = 'deploy/kubernetes/overlays/istio-api';
const AMBIENT = 'deploy/kubernetes/overlays/istio-ambient';
/** The overlays that apply the mesh-neutral routes of deploy/kubernetes/components/gamma. */
const GAMMA_RENDERINGS = [LINKERD, ISTIO, AMBIENT];
const ISTIO_AMBIENT_INSTALL = 'deploy/kubernetes/istio/istio-ambient.yaml';
/** The Gateway API CRD the tests validate HTTPRoutes against, and the walkthrough installs. */
const GATEWAY_API_CRD = 'tests/manifests/schemas/gateway-api/httproute-experimental-v1.5.1.yaml';
const REDIS_IMAGE = 'redis:7-alpine';
const ISTIO_OPERATOR = 'deploy/kubernetes/istio/istio-operator.yaml';
const LINKERD_TRACING = 'deploy/kubernetes/overlays/linkerd/tracing';
const LINKERD_TRACING_VALUES = `${LINKERD_TRACING}/linkerd-values.yaml`;
/** Istio's Jaeger add-on (samples/addons/jaeger.yaml of Istio 1.30.3): its OTLP/gRPC collector. */
const ISTIO_ADDON_COLLECTOR = { service: 'jaeger-collector.istio-system.svc.cluster.local', port: 4317 };

/**
 * The paths each service answers besides `/`, read from the rendered env: what an entry may send
 * it unstripped. test/executables.test.js proves this function against the real executables
 * (when they are built), so the entry check below rests on behaviour, not on a sentence.
 */
function answers(app, requestPath, env = {}) {
    const p = requestPath.split('?')[0];
    if (app === 'playlists-api') return p === '/' || p === '/api/playlists';
    if (app === 'videos-web') {
        // BASE_PATH is a prefix the site also answers under ("/homepage" is not under "/home").
        const base = env.BASE_PATH || '';
        const rest = base && (p === base || p.startsWith(`${base}/`)) ? (p.slice(base.length) || '/') : p;
        if (['/', '/api/playlists', '/api/playlists/', '/config.json'].includes(rest)) return true;
        const file = path.join(m.REPO, 'web', rest);
        return file.startsWith(path.join(m.REPO, 'web') + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile();
    }
    return false;
}

/** Loads everything the checks read: the renderings, the kind config, the docs, other files. */
function loadContext() {
    const renderings = {};
    for (const dir of m.findKustomizations()) renderings[dir] = m.render(dir);
    return {
        renderings,
        kind: YAML.parse(m.readRepo('deploy/kubernetes/kind/cluster.yaml')),
        doc: m.readRepo('docs/kubernetes.md'),
        readme: m.readRepo('README.md'),
        istioOperator: YAML.parse(m.readRepo(ISTIO_OPERATOR)),
        istioAmbientOperator: YAML.parse(m.readRepo(ISTIO_AMBIENT_INSTALL)),
        gatewayApiCrd: YAML.parse(m.readRepo(GATEWAY_API_CRD)),
        linkerdTracingValues: YAML.parse(m.readRepo(LINKERD_TRACING_VALUES)),
    };
}

/** A deep copy of a context, for a mutation to change. */
const copyContext = (ctx) => structuredClone(ctx);

const C = contract();

function rendering(ctx, dir) {
    const objects = ctx.renderings[dir];
    assert.ok(objects, `${dir}: not rendered`);
    return objects;
}

/** Runs fn(objects, dir) for every full rendering of the application. */
function eachRendering(ctx, fn) {
    for (const dir of APP_RENDERINGS) {
        try {
            fn(rendering(ctx, dir), dir);
        } catch (e) {
            e.message = `${dir}: ${e.message}`;
            throw e;
        }
    }
}

/** Pods (workloads) a Service or policy selector selects. */
const selected = (objects, selector) => m.workloads(objects).filter((w) => m.selects(selector, w.labels));

const ms = (d) => {
    const x = /^(\d+)(ms|s)$/.exec(String(d));
    assert.ok(x, `duration ${d}`);
    return Number(x[1]) * (x[2] === 's' ? 1000 : 1);
};

/** The names a Service is known by inside the mesh (what a sidecar matches a Host header to). */
function meshNames(host, namespace) {
    return [host, `${host}.${namespace}`, `${host}.${namespace}.svc`, `${host}.${namespace}.svc.cluster.local`];
}

/**
 * Services and identities that a controller creates at run time rather than our files:
 * Istio's deployment for a Gateway API Gateway of class istio ("<name>-istio", same namespace),
 * and the shared ingress gateway of `istioctl install --set profile=default` when an Istio
 * Gateway selects it.
 */
function generatedServices(objects) {
    const out = [];
    for (const gw of m.ofKind(objects, 'Gateway')) {
        if (gw.apiVersion.startsWith('gateway.networking.k8s.io/') && gw.spec.gatewayClassName === 'istio') {
            out.push({
                host: `${gw.metadata.name}-istio`,
                namespace: m.NAMESPACE,
                ports: gw.spec.listeners.map((l) => l.port),
                principal: `cluster.local/ns/${m.NAMESPACE}/sa/${gw.metadata.name}-istio`,
                hostnames: gw.spec.listeners.map((l) => l.hostname),
                podLabels: { 'gateway.networking.k8s.io/gateway-name': gw.metadata.name },
            });
        }
        if (gw.apiVersion.startsWith('networking.istio.io/') && gw.spec.selector.istio === 'ingressgateway') {
            out.push({
                host: 'istio-ingressgateway',
                namespace: 'istio-system',
                ports: gw.spec.servers.map((s) => s.port.number),
                principal: 'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account',
                hostnames: gw.spec.servers.flatMap((s) => s.hosts),
            });
        }
    }
    return out;
}

/**
 * The waypoints of a rendering: Gateways of class istio-waypoint. Istio deploys each under the
 * Gateway's own name (the class has no name suffix, gatewaycommon/classinfo.go), ServiceAccount
 * included, so that name is the identity a destination's ztunnel sees on calls the waypoint makes.
 */
function waypoints(objects) {
    return m.ofKind(objects, 'Gateway')
        .filter((g) => g.apiVersion.startsWith('gateway.networking.k8s.io/') && g.spec.gatewayClassName === 'istio-waypoint')
        .map((g) => ({ name: g.metadata.name, gateway: g, principal: `cluster.local/ns/${m.NAMESPACE}/sa/${g.metadata.name}` }));
}

/** A mesh (GAMMA) route: an HTTPRoute whose parents are Services, not Gateways. */
const isMeshRoute = (r) => r.spec.parentRefs.every((p) => p.kind === 'Service' && (p.group ?? '') === '');
const meshRoutes = (objects) => m.ofKind(objects, 'HTTPRoute').filter(isMeshRoute);

/**
 * Resolves "host[:port]" of a URL, as seen from a pod in our namespace, to a Service of the
 * rendering (or to a Service that a controller creates, see generatedServices).
 */
function serviceFor(objects, url) {
    const u = new URL(url);
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const host = u.hostname;
    const svc = m.ofKind(objects, 'Service').find((s) => meshNames(s.metadata.name, m.NAMESPACE).includes(host));
    if (svc) return { svc, port, spec: svc.spec.ports.find((p) => p.port === port) };
    const generated = generatedServices(objects).find((g) => meshNames(g.host, g.namespace).includes(host));
    return generated ? { generated, port, spec: generated.ports.includes(port) ? { port } : undefined } : null;
}

/** The entry's routes, whatever the API: [{host, prefix, rewriteTo, backends: [{svc, port, weight, cookie}]}]. */
function entryRoutes(objects) {
    const routes = [];
    for (const r of m.ofKind(objects, 'HTTPRoute').filter((x) => !isMeshRoute(x))) {
        for (const rule of r.spec.rules) {
            for (const match of rule.matches) {
                const rewrite = (rule.filters || []).find((f) => f.type === 'URLRewrite');
                const redirect = (rule.filters || []).find((f) => f.type === 'RequestRedirect');
                const cookie = (match.headers || []).find((h) => h.name.toLowerCase() === 'cookie');
                let rewriteTo;
                if (rewrite) {
                    assert.equal(rewrite.urlRewrite.path.type, 'ReplacePrefixMatch', `${r.metadata.name}: only prefix rewrites are used`);
                    rewriteTo = rewrite.urlRewrite.path.replacePrefixMatch;
                }
                routes.push({
                    api: 'gateway', name: r.metadata.name, hosts: r.spec.hostnames, prefix: match.path.value, type: match.path.type,
                    rewriteTo, redirect: redirect && redirect.requestRedirect,
                    cookie: cookie && cookie.value,
                    backends: (rule.backendRefs || []).map((b) => ({ svc: b.name, port: b.port, weight: b.weight ?? 1 })),
                });
            }
        }
    }
    for (const vs of m.ofKind(objects, 'VirtualService').filter((v) => v.spec.gateways)) {
        for (const h of vs.spec.http) {
            for (const match of h.match) {
                const prefix = match.uri.prefix || match.uri.exact;
                routes.push({
                    api: 'istio', name: vs.metadata.name, hosts: vs.spec.hosts, prefix: prefix.replace(/(.)\/$/, '$1'), type: match.uri.prefix ? 'PathPrefix' : 'Exact',
                    // Istio replaces the matched part (here "/home/" or "/home" exactly) with rewrite.uri.
                    rewriteTo: h.rewrite && h.rewrite.uri,
                    cookie: match.headers && match.headers.cookie && match.headers.cookie.regex,
                    backends: h.route.map((d) => ({ svc: d.destination.host, port: d.destination.port.number, weight: d.weight ?? 100, subset: d.destination.subset })),
                });
            }
        }
    }
    for (const ing of m.ofKind(objects, 'Ingress')) {
        for (const rule of ing.spec.rules) {
            for (const p of rule.http.paths) {
                routes.push({
                    api: 'ingress', name: ing.metadata.name, hosts: [rule.host], prefix: p.path, type: p.pathType,
                    rewriteTo: (ing.metadata.annotations || {})['konghq.com/strip-path'] === 'true' ? '/' : undefined,
                    backends: [{ svc: p.backend.service.name, port: p.backend.service.port.number ?? p.backend.service.port.name, weight: 1 }],
                });
            }
        }
    }
    return routes;
}

/**
 * The cookie canary and the 90/10 split, whatever carries them (the entry's routes, or a mesh
 * route): requests with canary=v2 go to v2 only, the rest 90/10 between v1 and v2 by weights that
 * sum to 100. versionOf maps a backend to the version label of the pods it leads to.
 */
function assertCanaryAndSplit(routes, versionOf, where) {
    const canary = routes.filter((r) => r.cookie);
    const split = routes.filter((r) => !r.cookie);
    assert.ok(canary.length && split.length, `${where}: a canary rule and a split rule`);
    for (const r of canary) {
        assert.deepEqual(r.backends.map(versionOf), ['v2'], `${where}: the canary leads to v2 only`);
        const re = new RegExp(r.cookie);
        for (const yes of ['canary=v2', 'a=b; canary=v2', 'canary=v2; a=b', 'x=1;canary=v2;y=2']) assert.ok(re.test(yes), `${r.cookie} must match "${yes}"`);
        for (const no of ['canary=v1', 'canary=v22', 'xcanary=v2', '']) assert.ok(!re.test(no), `${r.cookie} must not match "${no}"`);
    }
    for (const r of split) {
        // Weights are relative: 90/20 is a 82/18 split, not the documented 90/10.
        assert.equal(r.backends.reduce((n, b) => n + b.weight, 0), 100, `${where}: ${r.name}'s weights sum to 100`);
        const weights = {};
        for (const b of r.backends) weights[versionOf(b)] = (weights[versionOf(b)] || 0) + b.weight;
        assert.deepEqual(weights, { v1: 90, v2: 10 }, `${where}: ${r.name}: the split is 90/10`);
    }
}

/** The path a backend receives for a request path, after the route's rewrite (if any). */
function pathAtBackend(route, requestPath) {
    if (route.rewriteTo === undefined) return requestPath;
    const rest = requestPath.slice(route.prefix.length);
    if (route.rewriteTo.endsWith('/')) return (route.rewriteTo + rest.replace(/^\//, '')) || '/';
    return (route.rewriteTo + rest) || '/';
}

/** A `kubectl ...` command of the walkthrough, backslash continuations joined. */
function commands(text) {
    return text.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l.startsWith('kubectl '));
}

/** The text of one "## N. Title" section of the walkthrough. */
function section(doc, title) {
    const start = doc.indexOf(`\n## ${title}`);
    assert.ok(start >= 0, `docs/kubernetes.md has no section "## ${title}"`);
    const end = doc.indexOf('\n## ', start + 4);
    return doc.slice(start, end < 0 ? undefined : end);
}

/** What the retries of each mesh leave failing, from the manifests' own settings. */
function residualRates(ctx) {
    const flaky = /\|\s*`FLAKY_RATE`\s*\|[^|]*\|\s*([0-9.]+)\s*\|/.exec(ctx.readme);
    assert.ok(flaky, 'README.md: FLAKY_RATE default not found in the settings table');
    const p = Number(flaky[1]);
    const seed = m.readRepo('deploy/seed/seed.redis');
    const playlists = JSON.parse(/^SET playlists '(.*)'$/m.exec(seed)[1]);
    const calls = playlists.reduce((n, pl) => n + pl.videos.length, 0);
    const out = {};
    const linkerd = m.named(rendering(ctx, 'deploy/kubernetes/overlays/linkerd'), 'Service', 'videos-api').metadata.annotations || {};
    // FLAKY answers 500: only a 5xx condition retries it. Linkerd's limit counts retries (default 1).
    const linkerdRetries = (linkerd['retry.linkerd.io/http'] || '').split(',').includes('5xx') ? Number(linkerd['retry.linkerd.io/limit'] ?? 1) : 0;
    out.Linkerd = linkerdRetries + 1;
    for (const dir of [ISTIO, AMBIENT, ISTIO_API]) {
        let retries;
        const route = m.named(rendering(ctx, dir), 'HTTPRoute', 'videos-api');
        if (route) {
            // The mesh-neutral route: Istio turns retry.attempts into its own attempts (2 when
            // unset) and retries the listed codes (pilot/pkg/config/kube/gateway/conversion.go).
            const r = route.spec.rules[0].retry;
            retries = r && (r.codes || []).includes(500) ? Math.max(0, r.attempts ?? 2) : 0;
        } else {
            const vs = m.named(rendering(ctx, dir), 'VirtualService', 'videos-api');
            const r = vs.spec.http[0].retries || {};
            // Istio's attempts counts retries, not tries (Envoy's num_retries); 0 turns retries off.
            retries = (r.retryOn || '').split(',').includes('5xx') ? Math.max(0, r.attempts ?? 0) : 0;
        }
        assert.ok(out.Istio === undefined || out.Istio === retries + 1, `${dir}: retries differ between the Istio overlays`);
        out.Istio = retries + 1;
    }
    const rates = {};
    for (const [mesh, tries] of Object.entries(out)) {
        const call = p ** tries;
        rates[mesh] = { tries, call, page: 1 - (1 - call) ** calls };
    }
    return { p, calls, rates };
}

/** "0.0017%" -> 0.0017 / 100. */
const percent = (s) => Number(s.replace('%', '')) / 100;
/** Two significant digits, as the walkthrough writes them. */
const sig2 = (x) => Number(x.toPrecision(2));

const CHECKS = [];
const check = (name, run) => CHECKS.push({ name, run });

check('Deployments select their own pods, and every pod has app and version labels', (ctx) => {
    eachRendering(ctx, (objects) => {
        const ws = m.workloads(objects);
        for (const w of ws) {
            assert.ok(m.selects(w.deployment.spec.selector, w.labels), `${w.name}: selector does not match its template`);
            assert.ok(w.labels.app && w.labels.version, `${w.name}: app and version labels`);
            for (const other of ws.filter((o) => o !== w)) {
                assert.ok(!m.selects(w.deployment.spec.selector, other.labels), `${w.name}'s selector also selects ${other.name}'s pods`);
            }
        }
    });
});

check('Services select pods and their target ports are container ports of those pods (or the gateway\'s listener ports)', (ctx) => {
    eachRendering(ctx, (objects) => {
        for (const svc of m.ofKind(objects, 'Service')) {
            const pods = selected(objects, svc.spec.selector);
            const generated = generatedServices(objects).find((g) => g.podLabels && m.selects(svc.spec.selector, g.podLabels));
            assert.ok(pods.length > 0 || generated, `Service ${svc.metadata.name} selects no pods`);
            for (const p of svc.spec.ports) {
                assert.ok(p.name, `Service ${svc.metadata.name}: port ${p.port} needs a name`);
                if (p.name === 'http') assert.equal(p.appProtocol, 'http', `Service ${svc.metadata.name}: appProtocol`);
                for (const w of pods) {
                    const target = m.resolvePort(p.targetPort ?? p.port, w.containers);
                    const all = w.containers.flatMap((c) => (c.ports || []).map((cp) => cp.containerPort));
                    assert.ok(all.includes(target), `Service ${svc.metadata.name} port ${p.port} -> ${p.targetPort}: not a container port of ${w.name}`);
                }
                if (generated) {
                    // Istio's gateway pods listen on the Gateway listeners' ports themselves (its
                    // deployment lowers net.ipv4.ip_unprivileged_port_start), and have no named ports.
                    const target = p.targetPort ?? p.port;
                    assert.ok(generated.ports.includes(target), `Service ${svc.metadata.name} port ${p.port} -> ${target}: the gateway pods listen on ${generated.ports}`);
                }
            }
        }
    });
});

check('images: our three services as servicemesh/<service>:<project version>, Redis as redis:7-alpine', (ctx) => {
    assert.equal(C.version, '1.0.0');
    eachRendering(ctx, (objects) => {
        const seen = new Set();
        for (const w of m.workloads(objects)) {
            for (const c of w.containers) {
                assert.equal(c.imagePullPolicy, 'IfNotPresent', `${w.name}/${c.name}: images come from kind load, not a registry`);
                const ours = m.ourService(c.image);
                if (ours) {
                    assert.ok(m.SERVICES.includes(ours.service), `${c.image}: not one of ${m.SERVICES}`);
                    assert.equal(ours.tag, C.version, `${c.image}: tag`);
                    assert.equal(c.name, ours.service, `${w.name}: container name`);
                    assert.equal(w.labels.app, ours.service, `${w.name}: app label`);
                    seen.add(ours.service);
                } else {
                    assert.equal(c.image, REDIS_IMAGE, `${w.name}/${c.name}: unexpected image ${c.image}`);
                }
            }
        }
        assert.deepEqual([...seen].sort(), [...m.SERVICES].sort());
    });
});

check('images match what the container build produces (Dockerfile targets, compose image names)', (ctx) => {
    const dockerfile = path.join(m.REPO, 'Dockerfile');
    const composeFile = ['docker-compose.yaml', 'docker-compose.yml', 'compose.yaml'].map((f) => path.join(m.REPO, f)).find(fs.existsSync);
    assert.ok(fs.existsSync(dockerfile) || composeFile, 'no Dockerfile or compose file at the repo root');
    const images = new Set(m.workloads(rendering(ctx, 'deploy/kubernetes/overlays/istio')).flatMap((w) => w.containers.map((c) => c.image)).filter((i) => m.ourService(i)));
    const stages = fs.existsSync(dockerfile)
        ? [...fs.readFileSync(dockerfile, 'utf8').matchAll(/^\s*FROM\s+\S+(?:\s+AS\s+(\S+))?/gim)].map((x) => x[1]).filter(Boolean)
        : [];
    const targets = new Map();
    if (composeFile) {
        const compose = YAML.parse(fs.readFileSync(composeFile, 'utf8'));
        for (const svc of Object.values(compose.services || {})) {
            if (svc.image && m.ourService(svc.image.replace(/\$\{[^}]*:-([^}]*)\}/g, '$1'))) {
                const image = svc.image.replace(/\$\{[^}]*:-([^}]*)\}/g, '$1');
                targets.set(image, svc.build && typeof svc.build === 'object' ? svc.build.target : undefined);
            }
        }
        for (const image of images) assert.ok(targets.has(image), `${image} is not an image the compose file builds (${[...targets.keys()]})`);
    }
    if (stages.length) {
        for (const image of images) {
            const target = targets.get(image) || m.ourService(image).service;
            assert.ok(stages.includes(target), `${image}: no Dockerfile stage "${target}" (stages: ${stages})`);
        }
    }
});

check('settings, ports and probes agree with the service contract', (ctx) => {
    assert.equal(C.liveness, '/healthz');
    assert.equal(C.readiness, '/readyz');
    eachRendering(ctx, (objects) => {
        for (const w of m.workloads(objects)) {
            for (const c of w.containers.filter((x) => m.ourService(x.image))) {
                const svc = m.ourService(c.image).service;
                const env = m.envOf(c);
                const where = `${w.name}/${c.name}`;
                for (const name of Object.keys(env)) assert.ok(C.settings.has(name), `${where}: ${name} is not a setting of the contract`);
                const ports = Object.fromEntries((c.ports || []).map((p) => [p.name, p.containerPort]));
                assert.deepEqual(Object.keys(ports).sort(), ['admin', 'http'], `${where}: ports named http and admin`);
                assert.equal(Number(env.PORT ?? C.defaults[svc].PORT), ports.http, `${where}: PORT vs the http container port`);
                assert.equal(Number(env.ADMIN_PORT ?? C.defaults[svc].ADMIN_PORT), ports.admin, `${where}: ADMIN_PORT vs the admin container port`);
                assert.equal(ports.admin, C.defaults[svc].ADMIN_PORT);
                for (const [probe, p] of [['readinessProbe', C.readiness], ['livenessProbe', C.liveness]]) {
                    assert.ok(c[probe] && c[probe].httpGet, `${where}: ${probe} must be an HTTP probe`);
                    assert.equal(c[probe].httpGet.path, p, `${where}: ${probe} path`);
                    assert.equal(m.resolvePort(c[probe].httpGet.port, [c]), ports.admin, `${where}: ${probe} must use the admin port`);
                }
                if (svc === 'videos-web') {
                    assert.equal(env.WEB_ROOT, '/app/web', `${where}: WEB_ROOT is /app/web in the image`);
                    assert.equal(env.VERSION, w.labels.version, `${where}: VERSION env vs version label`);
                }
                // Graceful shutdown must fit in the pod's grace period.
                const delay = Number(env.SHUTDOWN_DELAY_MS ?? C.common.SHUTDOWN_DELAY_MS);
                const grace = Number(env.SHUTDOWN_GRACE_MS ?? C.common.SHUTDOWN_GRACE_MS);
                assert.ok(delay >= 5000, `${where}: SHUTDOWN_DELAY_MS keeps serving while endpoints update`);
                assert.ok(w.pod.terminationGracePeriodSeconds * 1000 > delay + grace, `${where}: terminationGracePeriodSeconds too short for ${delay}+${grace} ms`);
            }
        }
    });
});

check('host names in env are Services that lead to the intended workload', (ctx) => {
    const intended = { REDIS_HOST: null, VIDEOS_API_URL: 'videos-api', PLAYLISTS_API_URL: 'playlists-api' };
    eachRendering(ctx, (objects) => {
        for (const w of m.workloads(objects)) {
            for (const c of w.containers.filter((x) => m.ourService(x.image))) {
                const svc = m.ourService(c.image).service;
                const env = { ...C.defaults[svc], ...m.envOf(c) };
                const where = `${w.name}: `;
                if (env.REDIS_HOST !== undefined) {
                    const target = serviceFor(objects, `tcp://${env.REDIS_HOST}:${env.REDIS_PORT}`);
                    assert.ok(target && target.svc && target.spec, `${where}REDIS_HOST ${env.REDIS_HOST}:${env.REDIS_PORT} is no Service port`);
                    const pods = selected(objects, target.svc.spec.selector);
                    assert.ok(pods.length === 1 && pods[0].containers[0].image === REDIS_IMAGE, `${where}REDIS_HOST must lead to one Redis`);
                    assert.equal(pods[0].name, svc === 'videos-api' ? 'videos-db' : 'playlists-db', `${where}its own database`);
                }
                for (const name of ['VIDEOS_API_URL', 'PLAYLISTS_API_URL']) {
                    if (env[name] === undefined) continue;
                    const target = serviceFor(objects, env[name]);
                    assert.ok(target && target.svc && target.spec, `${where}${name}=${env[name]} is no Service port`);
                    assert.ok(selected(objects, target.svc.spec.selector).every((p) => p.labels.app === intended[name]), `${where}${name} leads elsewhere`);
                }
            }
        }
    });
});

check('pods run as the restricted Pod Security Standard asks, with resources and one identity each', (ctx) => {
    eachRendering(ctx, (objects, dir) => {
        const accounts = new Map();
        for (const w of m.workloads(objects)) {
            const pod = w.pod;
            assert.ok(m.named(objects, 'ServiceAccount', pod.serviceAccountName), `${w.name}: ServiceAccount ${pod.serviceAccountName} missing`);
            assert.equal(pod.automountServiceAccountToken, false, `${w.name}: no API token in the pod`);
            const owner = accounts.get(pod.serviceAccountName);
            assert.ok(!owner || owner === w.labels.app, `${pod.serviceAccountName} shared by ${owner} and ${w.labels.app}`);
            accounts.set(pod.serviceAccountName, w.labels.app);
            for (const c of w.containers) {
                const sc = { ...pod.securityContext, ...c.securityContext };
                const where = `${w.name}/${c.name}`;
                assert.equal(sc.runAsNonRoot, true, `${where}: runAsNonRoot`);
                assert.ok([C.uid, 999].includes(sc.runAsUser), `${where}: runAsUser ${sc.runAsUser}`);
                assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
                assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
                assert.deepEqual(sc.capabilities && sc.capabilities.drop, ['ALL'], `${where}: drop ALL`);
                assert.equal(sc.seccompProfile && sc.seccompProfile.type, 'RuntimeDefault', `${where}: seccomp`);
                for (const kind of ['requests', 'limits']) {
                    assert.ok(c.resources[kind] && c.resources[kind].cpu && c.resources[kind].memory, `${where}: resources.${kind}`);
                }
                for (const vm of c.volumeMounts || []) {
                    const vol = (pod.volumes || []).find((v) => v.name === vm.name);
                    assert.ok(vol, `${where}: volume ${vm.name} not declared`);
                    if (vol.configMap) assert.ok(m.named(objects, 'ConfigMap', vol.configMap.name), `${where}: ConfigMap ${vol.configMap.name} missing`);
                }
            }
        }
        if (dir === 'deploy/kubernetes/base') {
            const ns = m.ofKind(objects, 'Namespace')[0];
            assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
        }
    });
});

check('databases run redis-seeded.sh on the seed ConfigMap, which holds the canonical files byte for byte', (ctx) => {
    const seedText = m.readRepo('deploy/seed/seed.redis');
    const sections = [...seedText.matchAll(/^#@ (\S+)$/gm)].map((x) => x[1]);
    eachRendering(ctx, (objects) => {
        const dbs = m.workloads(objects).filter((w) => w.containers[0].image === REDIS_IMAGE && w.name.endsWith('-db'));
        assert.deepEqual(dbs.map((w) => w.name).sort(), ['playlists-db', 'videos-db']);
        for (const w of dbs) {
            const c = w.containers[0];
            const [sh, script, database, port] = c.command;
            assert.equal(sh, '/bin/sh');
            assert.equal(script, '/seed/redis-seeded.sh');
            assert.equal(database, w.name, `${w.name}: seeds its own section`);
            assert.ok(sections.includes(database), `${database}: no such section in seed.redis`);
            assert.equal(Number(port), c.ports.find((p) => p.name === 'redis').containerPort);
            const env = m.envOf(c);
            assert.equal(env.REDIS_BIND, '0.0.0.0');
            const mounts = Object.fromEntries(c.volumeMounts.map((v) => [v.mountPath, w.pod.volumes.find((x) => x.name === v.name)]));
            assert.ok(mounts[env.RUN_DIR] && mounts[env.RUN_DIR].emptyDir, `${w.name}: RUN_DIR must be a writable emptyDir`);
            const seed = mounts['/seed'] && mounts['/seed'].configMap;
            assert.ok(seed, `${w.name}: seed ConfigMap at /seed`);
            const cm = m.named(objects, 'ConfigMap', seed.name);
            assert.ok(!cm.binaryData, 'seed ConfigMap stored as text');
            assert.equal(cm.data['seed.redis'], seedText, 'seed.redis byte for byte');
            assert.equal(cm.data['redis-seeded.sh'], m.readRepo('deploy/seed/redis-seeded.sh'), 'redis-seeded.sh byte for byte');
            assert.deepEqual(Object.keys(cm.data).sort(), ['redis-seeded.sh', 'seed.redis']);
            for (const probe of ['readinessProbe', 'livenessProbe']) {
                assert.deepEqual(c[probe].exec.command, ['redis-cli', '-p', port, 'ping'], `${w.name}: ${probe}`);
            }
        }
    });
});

check('the entry: servicemesh.demo/home -> videos-web and /api/playlists -> playlists-api, at paths they answer', (ctx) => {
    eachRendering(ctx, (objects, dir) => {
        const routes = entryRoutes(objects);
        assert.ok(routes.length > 0, 'no entry');
        const inMesh = generatedServices(objects).map((g) => `${g.host}.${g.namespace}.svc.cluster.local`);
        for (const r of routes) {
            assert.equal(r.hosts[0], 'servicemesh.demo', `${r.name}: hosts`);
            // Besides the browsers' name, only the in-mesh name of the gateway itself (for callers
            // inside the mesh, such as the traffic generator).
            for (const h of r.hosts.slice(1)) assert.ok(inMesh.includes(h), `${r.name}: host ${h} is not the entry's in-mesh name (${inMesh})`);
        }
        const backendPods = (b) => {
            const svc = m.named(objects, 'Service', b.svc);
            assert.ok(svc, `backend Service ${b.svc} missing`);
            const port = svc.spec.ports.find((p) => p.port === b.port || p.name === b.port);
            assert.ok(port, `backend ${b.svc}:${b.port} is no port of the Service`);
            let pods = selected(objects, svc.spec.selector);
            if (b.subset) {
                const dr = m.ofKind(objects, 'DestinationRule').find((d) => d.spec.host === b.svc);
                const subset = dr && dr.spec.subsets.find((s) => s.name === b.subset);
                assert.ok(subset, `subset ${b.svc}/${b.subset} missing`);
                pods = pods.filter((p) => m.selects(subset.labels, p.labels));
            }
            assert.ok(pods.length > 0, `${b.svc}${b.subset ? '/' + b.subset : ''} selects no pods`);
            return pods;
        };
        const byPrefix = (prefix) => routes.filter((r) => r.prefix === prefix);
        // Each prefix with requests a browser makes under it: the backend must answer the path it
        // receives, after the route's rewrite if any (answers() is proven against the executables).
        const requests = { '/home': ['/home', '/home/', '/home/style.css', '/home/api/playlists'], '/api/playlists': ['/api/playlists'] };
        for (const [prefix, app] of [['/home', 'videos-web'], ['/api/playlists', 'playlists-api']]) {
            const rs = byPrefix(prefix);
            assert.ok(rs.length > 0, `no route for ${prefix}`);
            for (const r of rs) {
                for (const b of r.backends) {
                    const pods = backendPods(b);
                    for (const w of pods) {
                        assert.equal(w.labels.app, app, `${prefix} -> ${b.svc}`);
                        const env = m.envOf(w.containers[0]);
                        for (const req of requests[prefix].filter((x) => r.type !== 'Exact' || x === r.prefix)) {
                            const at = pathAtBackend(r, req);
                            assert.ok(answers(app, at, env), `${r.name}: ${req} reaches ${w.name} as ${at}, which it does not answer`);
                        }
                    }
                }
            }
        }
        // Besides the two, only `/`: in the base the catch-all to videos-web that keeps the page
        // (at /) working on Gateways without URLRewrite (cloud-provider-kind); in the Istio
        // overlay a redirect to /home/, so that nothing bypasses the traffic split.
        const prefixes = [...new Set(routes.map((r) => r.prefix))].sort();
        if (dir.includes('istio-api') || dir.includes('ingress')) assert.deepEqual(prefixes, ['/api/playlists', '/home']);
        else {
            assert.deepEqual(prefixes, ['/', '/api/playlists', '/home']);
            for (const r of byPrefix('/')) {
                assert.equal(r.api, 'gateway');
                if (dir.includes('istio')) {
                    assert.equal(r.backends.length, 0, '/ must not lead past the split');
                    assert.equal(r.type, 'Exact');
                    assert.ok(r.redirect && r.redirect.path.replaceFullPath === '/home/', '/ redirects to /home/');
                } else {
                    for (const b of r.backends) for (const w of backendPods(b)) assert.equal(w.labels.app, 'videos-web', '/ -> videos-web, whose forwarder answers /api/playlists');
                }
            }
        }
        if (dir === ISTIO || dir === ISTIO_API) {
            // With sidecars the entry splits itself: a gateway applies the routes attached to it,
            // not a Service's mesh routes. (In ambient, videos-web's waypoint does: see the
            // ambient check.) Cookie canary to v2 only, everything else 90/10.
            const versionOf = (b) => [...new Set(backendPods(b).map((p) => p.labels.version))].join();
            assertCanaryAndSplit(byPrefix('/home'), versionOf, dir);
        }
    });
});

check('Gateway API routes attach to an existing Gateway listener', (ctx) => {
    eachRendering(ctx, (objects) => {
        // Mesh routes (parent: a Service) are the GAMMA check's.
        for (const r of m.ofKind(objects, 'HTTPRoute').filter((x) => !isMeshRoute(x))) {
            for (const p of r.spec.parentRefs) {
                const gw = m.ofKind(objects, 'Gateway').find((g) => g.apiVersion.startsWith('gateway.networking.k8s.io/') && g.metadata.name === p.name);
                assert.ok(gw, `HTTPRoute ${r.metadata.name}: Gateway ${p.name} missing`);
                const listener = gw.spec.listeners.find((l) => !p.sectionName || l.name === p.sectionName);
                assert.ok(listener, `HTTPRoute ${r.metadata.name}: no listener ${p.sectionName}`);
                assert.ok(!listener.hostname || (r.spec.hostnames || []).includes(listener.hostname), `HTTPRoute ${r.metadata.name}: none of its hostnames is served by listener ${listener.name}`);
            }
        }
        for (const gw of m.ofKind(objects, 'Gateway').filter((g) => g.apiVersion.startsWith('gateway.networking.k8s.io/'))) {
            assert.ok(['cloud-provider-kind', 'istio', 'istio-waypoint'].includes(gw.spec.gatewayClassName), `Gateway class ${gw.spec.gatewayClassName}`);
        }
    });
});

check('autoscalers and disruption budgets point at workloads that can honour them', (ctx) => {
    eachRendering(ctx, (objects) => {
        const hpas = m.ofKind(objects, 'HorizontalPodAutoscaler');
        assert.deepEqual(hpas.map((h) => h.spec.scaleTargetRef.name).sort(), ['playlists-api', 'videos-api']);
        for (const h of hpas) {
            const d = m.named(objects, 'Deployment', h.spec.scaleTargetRef.name);
            assert.ok(d && h.spec.scaleTargetRef.kind === 'Deployment');
            assert.equal(d.spec.replicas, undefined, `${d.metadata.name}: the HPA owns replicas, the Deployment must not set them`);
            assert.ok(h.spec.minReplicas >= 2 && h.spec.maxReplicas > h.spec.minReplicas);
        }
        const pdbs = m.ofKind(objects, 'PodDisruptionBudget');
        assert.deepEqual(pdbs.map((p) => p.metadata.name).sort(), ['playlists-api', 'videos-api', 'videos-web']);
        for (const pdb of pdbs) {
            const pods = selected(objects, pdb.spec.selector);
            assert.ok(pods.length > 0, `PDB ${pdb.metadata.name} selects nothing`);
            const replicas = pods.reduce((n, w) => n + (w.deployment.spec.replicas ?? (hpas.find((h) => h.spec.scaleTargetRef.name === w.name) || {}).spec?.minReplicas ?? 1), 0);
            assert.ok(pdb.spec.minAvailable < replicas, `PDB ${pdb.metadata.name}: minAvailable ${pdb.spec.minAvailable} would block every drain (${replicas} replicas)`);
        }
    });
});

check('the traffic generator calls the entry paths, as the mesh sees them, at a bounded rate', (ctx) => {
    eachRendering(ctx, (objects, dir) => {
        const w = m.workloads(objects).find((x) => x.name === 'traffic-generator');
        assert.ok(w, 'traffic generator missing');
        const c = w.containers[0];
        assert.equal(c.image, REDIS_IMAGE);
        const env = m.envOf(c);
        const targets = env.TARGETS.split(/\s+/);
        assert.ok(Number(env.INTERVAL) >= 0.1, 'INTERVAL bounds the rate');
        assert.equal(w.deployment.spec.replicas, 1);
        const entries = generatedServices(objects);
        for (const url of targets) {
            const target = serviceFor(objects, url);
            assert.ok(target && target.spec, `${url}: no such Service port`);
            const u = new URL(url);
            if (target.generated) {
                // A sidecar routes an outbound call by its Host header: a Host that is not a name of
                // a Service in the mesh (e.g. servicemesh.demo) goes to PassthroughCluster, outside
                // the mesh's routing and telemetry. So the Host is the gateway's in-mesh name, and
                // the gateway must serve that name.
                const host = env.HOST_HEADER ?? u.hostname;
                assert.ok(meshNames(target.generated.host, target.generated.namespace).includes(host), `${url}: Host ${host} is not a name of ${target.generated.host} in the mesh (a sidecar would pass it through)`);
                assert.ok(target.generated.hostnames.includes(host), `${url}: the entry does not serve Host ${host} (${target.generated.hostnames})`);
                assert.ok(['/home/', '/api/playlists'].includes(u.pathname), `${url}: the entry's paths`);
            } else {
                assert.equal(env.HOST_HEADER, undefined);
                const app = selected(objects, target.svc.spec.selector)[0].labels.app;
                // Straight to the services: the paths the entry's /home/ and /api/playlists become.
                assert.equal(u.pathname, '/');
                assert.ok(['videos-web', 'playlists-api'].includes(app));
            }
        }
        assert.ok(entries.length === 0 || targets.every((u) => serviceFor(objects, u).generated), `${dir}: with an in-mesh entry, the generator goes through it`);
        const script = m.named(objects, 'ConfigMap', w.pod.volumes.find((v) => v.configMap).configMap.name);
        assert.equal(script.data['traffic-generator.sh'], m.readRepo('deploy/kubernetes/base/traffic-generator.sh'));
        assert.deepEqual(c.command, ['/bin/sh', '/scripts/traffic-generator.sh']);
    });
});

check('Linkerd: injection as a native sidecar, retries within the caller timeout, and only playlists-api may call videos-api', (ctx) => {
    const objects = rendering(ctx, 'deploy/kubernetes/overlays/linkerd');
    const ns = m.ofKind(objects, 'Namespace')[0];
    const nsa = ns.metadata.annotations || {};
    assert.equal(nsa['linkerd.io/inject'], 'enabled', 'namespace annotation linkerd.io/inject');
    // The name current Linkerd reads (2.20+); the alpha/beta names are deprecated there.
    assert.equal(nsa['config.linkerd.io/proxy-enable-native-sidecar'], 'true');
    for (const k of Object.keys(nsa)) assert.ok(!/^config\.(alpha|beta)\.linkerd\.io\//.test(k), `${k}: deprecated annotation name`);
    const svc = m.named(objects, 'Service', 'videos-api');
    const a = svc.metadata.annotations;
    // Linkerd 2.20 takes retries from retry.linkerd.io/* annotations only (not the HTTPRoute's
    // `retry` field), the route's first and then the Service's: the same policy as the route's.
    const route = m.named(objects, 'HTTPRoute', 'videos-api');
    assert.ok(route, 'the mesh-neutral route for videos-api');
    const [rule] = route.spec.rules;
    assert.equal(a['retry.linkerd.io/http'], '5xx');
    assert.ok(Number(a['retry.linkerd.io/limit']) >= 1);
    assert.equal(Number(a['retry.linkerd.io/limit']), rule.retry.attempts, 'Linkerd retries as often as the neutral route says the other meshes do');
    // The whole call's timeout is the route's timeouts.request, which Linkerd reads; the per-try
    // timeout the annotation, as Linkerd ignores timeouts.backendRequest.
    assert.equal(a['timeout.linkerd.io/request'], undefined, 'the request timeout lives in the neutral route, once');
    const callerTimeout = Number(m.envOf(m.named(objects, 'Deployment', 'playlists-api').spec.template.spec.containers[0]).VIDEOS_API_TIMEOUT_MS);
    assert.ok(ms(rule.timeouts.request) < callerTimeout, 'request timeout under playlists-api\'s own');
    assert.ok(ms(a['retry.linkerd.io/timeout']) < ms(rule.timeouts.request), 'a try must be shorter than the whole request');
    assert.equal(a['retry.linkerd.io/timeout'], rule.timeouts.backendRequest, 'the per-try timeout the other meshes get from backendRequest');
    // The split is made by callers' proxies; cloud-provider-kind's entry is outside the mesh and
    // must not mix v1 and v2 by pod count.
    const web = m.named(objects, 'Service', 'videos-web');
    assert.deepEqual(selected(objects, web.spec.selector).map((w) => w.name), ['videos-web'], 'unmeshed callers of videos-web reach v1 only');

    const servers = m.ofKind(objects, 'Server');
    assert.equal(servers.length, 1);
    const server = servers[0];
    // Without deny, traffic matching no AuthorizationPolicy falls back to an allowing policy
    // (e.g. all-unauthenticated) and the "only playlists-api" rule means nothing.
    assert.equal(server.spec.accessPolicy, 'deny', 'Server accessPolicy must be deny');
    const pods = selected(objects, server.spec.podSelector);
    assert.deepEqual(pods.map((p) => p.name), ['videos-api']);
    const port = m.resolvePort(server.spec.port, pods[0].containers);
    assert.equal(port, pods[0].containers[0].ports.find((p) => p.name === 'http').containerPort);
    assert.notEqual(port, pods[0].containers[0].ports.find((p) => p.name === 'admin').containerPort, 'probes go to the admin port: keep it out of the Server');
    const policies = m.ofKind(objects, 'AuthorizationPolicy');
    assert.equal(policies.length, 1);
    assert.deepEqual(policies[0].spec.targetRef, { group: 'policy.linkerd.io', kind: 'Server', name: server.metadata.name });
    const identities = policies[0].spec.requiredAuthenticationRefs.flatMap((r) => {
        const authn = m.named(objects, r.kind, r.name);
        assert.ok(authn, `${r.kind} ${r.name} missing`);
        return authn.spec.identityRefs.map((i) => {
            assert.equal(i.kind, 'ServiceAccount');
            assert.ok(m.named(objects, 'ServiceAccount', i.name), `ServiceAccount ${i.name} missing`);
            return i.name;
        });
    });
    assert.deepEqual(identities, ['playlists-api']);
    assert.equal(m.named(objects, 'Deployment', 'playlists-api').spec.template.spec.serviceAccountName, 'playlists-api');

    // The legacy ServiceProfile names the real Service and keeps within the caller's timeout.
    const [sp] = rendering(ctx, 'deploy/kubernetes/overlays/linkerd/legacy');
    assert.equal(sp.metadata.name, `videos-api.${m.NAMESPACE}.svc.cluster.local`);
    for (const r of sp.spec.routes) {
        assert.ok(ms(r.timeout) < callerTimeout);
        assert.ok(r.isRetryable, `${r.name}: retryable`);
        assert.ok(new RegExp(`^${r.condition.pathRegex}$`).test('/jM36M39MA3I'));
        assert.ok(!new RegExp(`^${r.condition.pathRegex}$`).test('/a/b'));
    }
    // Retrying until success costs p/(1-p) retries per call; the budget must allow that much.
    const { p } = residualRates(ctx);
    assert.ok(sp.spec.retryBudget.retryRatio >= p / (1 - p), `retryRatio ${sp.spec.retryBudget.retryRatio} cuts retries short at FLAKY_RATE ${p}`);
});

check('Istio: injection, STRICT mTLS, retries, and every workload says who may call it', (ctx) => {
    for (const dir of ['deploy/kubernetes/overlays/istio', 'deploy/kubernetes/overlays/istio-api']) {
        const objects = rendering(ctx, dir);
        const ns = m.ofKind(objects, 'Namespace')[0];
        assert.equal((ns.metadata.labels || {})['istio-injection'], 'enabled', `${dir}: namespace label istio-injection`);
        const pa = m.ofKind(objects, 'PeerAuthentication');
        assert.equal(pa.length, 1);
        assert.equal(pa[0].spec.mtls.mode, 'STRICT');
        assert.equal(pa[0].spec.selector, undefined, 'namespace-wide');

        const vs = m.named(objects, 'VirtualService', 'videos-api');
        // The sidecar overlay uses the mesh-neutral route (the GAMMA check); never both at once.
        assert.ok(Boolean(vs) !== Boolean(m.named(objects, 'HTTPRoute', 'videos-api')), `${dir}: videos-api's retries from a VirtualService or the neutral HTTPRoute, one of them`);
        if (vs) {
            const route = vs.spec.http[0];
            assert.ok(m.named(objects, 'Service', route.route[0].destination.host));
            assert.ok(m.named(objects, 'Service', 'videos-api').spec.ports.some((p) => p.port === route.route[0].destination.port.number));
            assert.ok(route.retries, `${dir}: videos-api retries`);
            for (const cond of ['5xx', 'reset', 'connect-failure']) assert.ok(route.retries.retryOn.split(',').includes(cond), `retryOn ${cond}`);
            // attempts counts retries; 0 turns retries off altogether.
            assert.ok(Number.isInteger(route.retries.attempts) && route.retries.attempts >= 1, `${dir}: retries.attempts ${route.retries.attempts}`);
            const callerTimeout = Number(m.envOf(m.named(objects, 'Deployment', 'playlists-api').spec.template.spec.containers[0]).VIDEOS_API_TIMEOUT_MS);
            assert.ok(ms(route.timeout) < callerTimeout, `${dir}: timeout under playlists-api's own`);
            assert.ok(route.retries.perTryTimeout, `${dir}: perTryTimeout (without it a slow try takes the whole timeout)`);
            assert.ok(ms(route.retries.perTryTimeout) < ms(route.timeout), `${dir}: a try must be shorter than the whole request`);
        }

        const entry = generatedServices(objects);
        assert.equal(entry.length, 1, `${dir}: one entry`);
        const known = new Set([
            ...m.ofKind(objects, 'ServiceAccount').map((s) => `cluster.local/ns/${m.NAMESPACE}/sa/${s.metadata.name}`),
            entry[0].principal,
        ]);
        const callers = {};
        for (const p of m.ofKind(objects, 'AuthorizationPolicy')) {
            assert.equal(p.spec.action, 'ALLOW');
            const pods = selected(objects, p.spec.selector);
            assert.equal(pods.length >= 1, true, `policy ${p.metadata.name} selects nothing`);
            const app = [...new Set(pods.map((w) => w.labels.app))];
            assert.equal(app.length, 1);
            for (const rule of p.spec.rules) {
                for (const f of rule.from) for (const pr of f.source.principals) assert.ok(known.has(pr), `${p.metadata.name}: unknown principal ${pr}`);
                for (const t of rule.to) {
                    for (const port of t.operation.ports) {
                        for (const w of pods) assert.ok(w.containers.some((c) => (c.ports || []).some((cp) => cp.containerPort === Number(port) && cp.name !== 'admin')), `${p.metadata.name}: port ${port} is not a serving port of ${w.name}`);
                    }
                }
                callers[app[0]] = rule.from.flatMap((f) => f.source.principals).map((x) => x.replace(/^.*\/sa\//, ''));
            }
        }
        const entrySa = entry[0].principal.replace(/^.*\/sa\//, '');
        assert.deepEqual(callers, {
            'videos-web': [entrySa],
            'playlists-api': [entrySa],
            'videos-api': ['playlists-api'],
            'playlists-db': ['playlists-api'],
            'videos-db': ['videos-api'],
        });
        // Every workload with a port has a policy.
        for (const w of m.workloads(objects).filter((x) => x.containers.some((c) => c.ports))) assert.ok(callers[w.labels.app], `${w.name}: no AuthorizationPolicy`);
        // Identities in the policies are the ones the pods run as.
        for (const w of m.workloads(objects).filter((x) => x.labels.app !== 'traffic-generator')) assert.equal(w.pod.serviceAccountName, w.labels.app);
        // v2 runs the same image as v1.
        const [v1, v2] = ['videos-web', 'videos-web-v2'].map((n) => m.named(objects, 'Deployment', n).spec.template.spec.containers[0]);
        assert.equal(v1.image, v2.image);
        assert.equal(m.envOf(v2).VERSION, 'v2');
    }
});

check('mesh-neutral routes (GAMMA): one policy for videos-api and videos-web, the same in every mesh that applies it', (ctx) => {
    const specs = {};
    for (const dir of GAMMA_RENDERINGS) {
        const objects = rendering(ctx, dir);
        const where = (r) => `${dir}: HTTPRoute ${r.metadata.name}`;
        const routes = meshRoutes(objects);
        assert.deepEqual(routes.map((r) => r.metadata.name).sort(), ['videos-api', 'videos-web'], `${dir}: the mesh routes`);
        for (const r of routes) {
            for (const p of r.spec.parentRefs) {
                const parent = m.named(objects, 'Service', p.name);
                assert.ok(parent, `${where(r)}: parent Service ${p.name} missing`);
                assert.ok(p.port === undefined || parent.spec.ports.some((sp) => sp.port === p.port), `${where(r)}: parent port ${p.port} is no port of Service ${p.name}`);
            }
            for (const rule of r.spec.rules) {
                for (const b of rule.backendRefs) {
                    const svc = m.named(objects, 'Service', b.name);
                    assert.ok(svc && svc.spec.ports.some((sp) => sp.port === b.port), `${where(r)}: backend ${b.name}:${b.port} is no Service port`);
                    const pods = selected(objects, svc.spec.selector);
                    assert.ok(pods.length > 0, `${where(r)}: backend ${b.name} selects no pods`);
                    assert.ok(pods.every((w) => w.labels.app === r.spec.parentRefs[0].name), `${where(r)}: backend ${b.name} leads to another app`);
                }
            }
        }
        // videos-api: FLAKY answers 500, so 500 must be a retried code; attempts counts retries.
        const api = m.named(objects, 'HTTPRoute', 'videos-api');
        assert.equal(api.spec.rules.length, 1, `${dir}: one rule for every call to videos-api`);
        const [rule] = api.spec.rules;
        assert.ok(rule.retry && (rule.retry.codes || []).includes(500), `${dir}: videos-api retries HTTP 500 (FLAKY's failure)`);
        assert.ok(Number.isInteger(rule.retry.attempts) && rule.retry.attempts >= 1, `${dir}: retry.attempts ${rule.retry.attempts}`);
        const callerTimeout = Number(m.envOf(m.named(objects, 'Deployment', 'playlists-api').spec.template.spec.containers[0]).VIDEOS_API_TIMEOUT_MS);
        assert.ok(ms(rule.timeouts.request) < callerTimeout, `${dir}: timeouts.request under playlists-api's own ${callerTimeout} ms`);
        // Istio makes backendRequest the per-try timeout when retry is set: without it a slow try
        // takes the whole request's time.
        assert.ok(rule.timeouts.backendRequest && ms(rule.timeouts.backendRequest) < ms(rule.timeouts.request), `${dir}: a try (backendRequest) shorter than the whole request`);
        // videos-web: the canary and the 90/10 split.
        const web = m.named(objects, 'HTTPRoute', 'videos-web');
        const versionOf = (b) => [...new Set(selected(objects, m.named(objects, 'Service', b.name).spec.selector).map((w) => w.labels.version))].join();
        const rules = web.spec.rules.map((x) => {
            const cookie = (x.matches || []).flatMap((mm) => mm.headers || []).find((h) => h.name.toLowerCase() === 'cookie');
            return { name: web.metadata.name, cookie: cookie && cookie.value, backends: x.backendRefs.map((b) => ({ ...b, weight: b.weight ?? 1 })) };
        });
        assertCanaryAndSplit(rules, versionOf, dir);
        specs[dir] = routes.map((r) => ({ name: r.metadata.name, spec: r.spec }));
    }
    // Written once: every mesh applies the very same routes.
    for (const dir of GAMMA_RENDERINGS.slice(1)) assert.deepEqual(specs[dir], specs[GAMMA_RENDERINGS[0]], `${dir}: the mesh routes differ from ${GAMMA_RENDERINGS[0]}'s`);
    // The Istio-API variant shows the mesh-native alternative instead, never both.
    assert.deepEqual(meshRoutes(rendering(ctx, ISTIO_API)), [], `${ISTIO_API}: Istio's own APIs, no mesh routes`);
    // `retry` is experimental-channel only (Gateway API v1.0-v1.6): the walkthrough must install the
    // experimental HTTPRoute CRD of the version the tests validate against, or kubectl refuses the
    // field (or, with validation off, the API server drops it and nothing retries).
    const crd = ctx.gatewayApiCrd.metadata.annotations;
    assert.equal(crd['gateway.networking.k8s.io/channel'], 'experimental', `${GATEWAY_API_CRD}: the channel with retry`);
    const version = crd['gateway.networking.k8s.io/bundle-version'];
    const install = new RegExp(`\\nkubectl apply --server-side (--force-conflicts )?-f https://github\\.com/kubernetes-sigs/gateway-api/releases/download/${version.replace(/\./g, '\\.')}/experimental-install\\.yaml\\n`);
    assert.match(section(ctx.doc, 'Before the meshes'), install, `docs/kubernetes.md: install the experimental Gateway API CRDs ${version} before the meshes`);
    assert.ok(!/standard-install\.yaml/.test(section(ctx.doc, 'Before the meshes')), 'the mesh-neutral routes need the experimental channel, not standard-install.yaml');
});

check('Istio ambient: no sidecars, waypoints where L7 is needed, STRICT mTLS, L4 rules for ztunnel and L7 rules on the waypoint', (ctx) => {
    const objects = rendering(ctx, AMBIENT);
    const ns = m.ofKind(objects, 'Namespace')[0];
    const labels = ns.metadata.labels || {};
    assert.equal(labels['istio.io/dataplane-mode'], 'ambient', 'namespace label istio.io/dataplane-mode: ambient');
    assert.equal(labels['istio-injection'], undefined, 'no sidecar injection in ambient');
    assert.equal(labels['istio.io/rev'], undefined, 'no sidecar injection in ambient');
    // No init container needs NET_ADMIN: the namespace keeps the restricted level, and the Istio
    // install must then give its generated gateway and waypoint pods a seccomp profile.
    assert.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted', 'ambient keeps the restricted Pod Security level');
    const op = ctx.istioAmbientOperator;
    assert.equal(op.spec.profile, 'ambient', `${ISTIO_AMBIENT_INSTALL}: the ambient profile (istio-cni, ztunnel)`);
    assert.equal(((op.spec.values || {}).gateways || {}).seccompProfile?.type, 'RuntimeDefault', `${ISTIO_AMBIENT_INSTALL}: values.gateways.seccompProfile, or restricted refuses the gateway and waypoint pods`);
    assert.ok(ctx.doc.includes(`istioctl install -f ${ISTIO_AMBIENT_INSTALL} -y`), 'docs/kubernetes.md installs Istio from the ambient file');
    for (const w of m.workloads(objects)) {
        const a = w.deployment.spec.template.metadata.annotations || {};
        for (const k of Object.keys(a)) assert.ok(!/^(sidecar|proxy)\.istio\.io\//.test(k), `${w.name}: sidecar annotation ${k} in ambient`);
    }
    // STRICT mutual TLS for the whole namespace.
    const pa = m.ofKind(objects, 'PeerAuthentication');
    assert.equal(pa.length, 1);
    assert.equal(pa[0].spec.mtls.mode, 'STRICT');
    assert.equal(pa[0].spec.selector, undefined, 'namespace-wide');

    // The waypoint, and the Services that must use it: videos-api (retries, timeouts) and
    // videos-web (split, canary), i.e. every parent of a mesh route.
    const wps = waypoints(objects);
    assert.equal(wps.length, 1, 'one waypoint');
    const [wp] = wps;
    assert.deepEqual(wp.gateway.spec.listeners.map((l) => [l.port, l.protocol]), [[15008, 'HBONE']], 'a waypoint listens on HBONE 15008');
    assert.ok(['service', undefined].includes((wp.gateway.metadata.labels || {})['istio.io/waypoint-for']), 'the waypoint serves traffic addressed to Services');
    const usesWaypoint = (svcName) => {
        const svc = m.named(objects, 'Service', svcName);
        const w = svc && (svc.metadata.labels || {})['istio.io/use-waypoint'];
        return w && wps.find((x) => x.name === w);
    };
    const l7Services = [...new Set(meshRoutes(objects).flatMap((r) => r.spec.parentRefs.map((p) => p.name)))].sort();
    assert.deepEqual(l7Services, ['videos-api', 'videos-web']);
    for (const s of l7Services) assert.ok(usesWaypoint(s), `Service ${s}: istio.io/use-waypoint must name the waypoint, or its HTTPRoute applies nowhere`);
    // The entry reaches videos-web's pods directly unless the Service says otherwise: no split.
    assert.equal(m.named(objects, 'Service', 'videos-web').metadata.labels['istio.io/ingress-use-waypoint'], 'true', 'videos-web: istio.io/ingress-use-waypoint, so the entry\'s calls get the split');
    const home = entryRoutes(objects).filter((r) => r.prefix === '/home');
    assert.ok(home.length > 0);
    for (const r of home) assert.deepEqual(r.backends.map((b) => b.svc), ['videos-web'], 'the entry leaves the split to videos-web\'s waypoint');

    // Authorization.
    const entry = generatedServices(objects);
    assert.equal(entry.length, 1, 'one entry');
    const known = new Set([
        ...m.ofKind(objects, 'ServiceAccount').map((s) => `cluster.local/ns/${m.NAMESPACE}/sa/${s.metadata.name}`),
        entry[0].principal, wp.principal,
    ]);
    const sa = (p) => p.replace(/^.*\/sa\//, '');
    // Fields ztunnel can enforce; anything else in a rule it enforces never matches (ALLOW).
    const L4 = { source: ['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'], operation: ['ports', 'notPorts'] };
    const l4 = {};
    const l7 = {};
    for (const p of m.ofKind(objects, 'AuthorizationPolicy')) {
        const name = `AuthorizationPolicy ${p.metadata.name}`;
        assert.equal(p.spec.action, 'ALLOW', `${name}: ALLOW`);
        assert.ok(Boolean(p.spec.selector) !== Boolean(p.spec.targetRefs), `${name}: either a selector (ztunnel) or targetRefs (waypoint)`);
        const callers = (p.spec.rules || []).flatMap((r) => (r.from || []).flatMap((f) => f.source.principals || []));
        for (const pr of callers) assert.ok(known.has(pr), `${name}: unknown principal ${pr}`);
        const hasL7 = (p.spec.rules || []).some((r) => (r.when || []).length > 0 ||
            (r.from || []).some((f) => Object.keys(f.source).some((k) => !L4.source.includes(k))) ||
            (r.to || []).some((t) => Object.keys(t.operation).some((k) => !L4.operation.includes(k))));
        if (p.spec.selector) {
            // ztunnel enforces it: L7 conditions would make the rule match nothing.
            assert.ok(!hasL7, `${name}: L7 conditions in a selector policy, which ztunnel enforces and never matches (attach it to the waypoint with targetRefs)`);
            const pods = selected(objects, p.spec.selector);
            const app = [...new Set(pods.map((w) => w.labels.app))];
            assert.equal(app.length, 1, `${name} selects one app`);
            for (const r of p.spec.rules) {
                for (const t of r.to || []) {
                    for (const port of t.operation.ports || []) {
                        for (const w of pods) assert.ok(w.containers.some((c) => (c.ports || []).some((cp) => cp.containerPort === Number(port) && cp.name !== 'admin')), `${name}: port ${port} is not a serving port of ${w.name}`);
                    }
                }
            }
            l4[app[0]] = callers.map(sa).sort();
        } else {
            // The waypoint enforces it, and only for a Service that uses it: ztunnel ignores
            // targetRefs, so a policy whose Service has no waypoint is enforced nowhere.
            for (const t of p.spec.targetRefs) {
                if (t.kind === 'Service') {
                    assert.ok(usesWaypoint(t.name), `${name}: targets Service ${t.name}, which uses no waypoint: nothing enforces it`);
                    l7[t.name] = callers.map(sa).sort();
                } else {
                    assert.equal(t.kind, 'Gateway', `${name}: targetRefs kind ${t.kind}`);
                    assert.ok(wps.find((x) => x.name === t.name), `${name}: Gateway ${t.name} is no waypoint`);
                }
            }
        }
    }
    // Every workload that serves has an L4 rule; behind a waypoint only the waypoint may reach
    // its pods (ztunnel sees the waypoint's identity there), and the callers are checked at L7.
    const effective = {};
    for (const w of m.workloads(objects).filter((x) => x.containers.some((c) => c.ports))) {
        const app = w.labels.app;
        assert.ok(l4[app], `${w.name}: no L4 AuthorizationPolicy`);
        const svc = m.ofKind(objects, 'Service').find((s) => s.metadata.name === app);
        const viaWaypoint = svc && usesWaypoint(svc.metadata.name);
        if (viaWaypoint) {
            assert.deepEqual(l4[app], [viaWaypoint.name], `${app}: behind the waypoint, its pods admit the waypoint only`);
            assert.ok(l7[app], `${app}: uses the waypoint but no L7 policy says who may call it`);
            effective[app] = l7[app];
        } else {
            assert.ok(!l4[app].includes(wp.name), `${app}: does not use the waypoint, yet admits it`);
            effective[app] = l4[app];
        }
    }
    const entrySa = sa(entry[0].principal);
    assert.deepEqual(effective, {
        'videos-web': [entrySa],
        'playlists-api': [entrySa],
        'videos-api': ['playlists-api'],
        'playlists-db': ['playlists-api'],
        'videos-db': ['videos-api'],
    }, 'exactly the catalog\'s flows');
    // The principals name the accounts the pods run as.
    for (const w of m.workloads(objects).filter((x) => x.labels.app !== 'traffic-generator')) assert.equal(w.pod.serviceAccountName, w.labels.app);
});

check('the Ingress alternative names its controller and strips the prefixes', (ctx) => {
    const objects = rendering(ctx, 'deploy/kubernetes/overlays/ingress-kong');
    assert.equal(m.ofKind(objects, 'Gateway').length + m.ofKind(objects, 'HTTPRoute').length, 0, 'one entry only');
    const [ing] = m.ofKind(objects, 'Ingress');
    assert.equal(ing.spec.ingressClassName, 'kong');
    assert.equal(ing.metadata.annotations['konghq.com/strip-path'], 'true');
    for (const p of ing.spec.rules[0].http.paths) assert.equal(p.pathType, 'Prefix');
});

check('retries: the residual failure rates in the walkthrough are the ones the manifests give', (ctx) => {
    const { p, calls, rates } = residualRates(ctx);
    // The walkthrough's table: | mesh | setting | tries per call | a call still fails | a page ... |
    const rows = {};
    for (const line of ctx.doc.split('\n')) {
        const cells = line.split('|').slice(1, -1).map((x) => x.trim());
        if (cells.length === 5 && /^(Linkerd|Istio)$/.test(cells[0]) && /%$/.test(cells[3])) rows[cells[0]] = cells;
    }
    assert.deepEqual(Object.keys(rows).sort(), ['Istio', 'Linkerd'], 'docs/kubernetes.md: the residual-rate table (one row per mesh)');
    assert.match(ctx.doc, new RegExp(`FLAKY_RATE[^\\n]*${String(p).replace('.', '\\.')}`), `docs/kubernetes.md must name the FLAKY_RATE it assumes (${p})`);
    assert.match(ctx.doc, new RegExp(`${calls} (video )?calls`), `docs/kubernetes.md must say a page makes ${calls} calls`);
    for (const [mesh, r] of Object.entries(rates)) {
        const [, setting, tries, call, page] = rows[mesh];
        assert.equal(Number(tries), r.tries, `${mesh}: tries per call (setting ${setting})`);
        assert.equal(sig2(percent(call)), sig2(r.call), `${mesh}: a call still fails ${call}; the manifests give ${(r.call * 100).toPrecision(2)}%`);
        assert.equal(sig2(percent(page)), sig2(r.page), `${mesh}: a page misses a video ${page}; the manifests give ${(r.page * 100).toPrecision(2)}%`);
        // "~100%" and "0 omitted" are only honest when what is left is this small.
        assert.ok(r.page < 0.001, `${mesh}: ${(r.page * 100).toPrecision(2)}% of pages still miss a video: not "~100%"`);
    }
});

check('switching between the walkthrough\'s steps leaves no stale object behind', (ctx) => {
    // [from, to, section of the walkthrough that makes the switch]. `kubectl apply -k` never
    // prunes: whatever the "from" rendering has and the "to" rendering does not must be deleted
    // by a command in that section.
    const switches = [
        ['deploy/kubernetes/base', 'deploy/kubernetes/overlays/linkerd', '8. Linkerd'],
        ['deploy/kubernetes/base', 'deploy/kubernetes/overlays/istio', '9. Istio'],
        ['deploy/kubernetes/overlays/istio', 'deploy/kubernetes/overlays/istio-api', '9. Istio'],
        ['deploy/kubernetes/overlays/istio', 'deploy/kubernetes/overlays/istio-ambient', '10. Istio ambient mode'],
        ['deploy/kubernetes/base', 'deploy/kubernetes/overlays/istio-ambient', '10. Istio ambient mode'],
        ['deploy/kubernetes/base', 'deploy/kubernetes/overlays/ingress-kong', '11. The Ingress alternative'],
    ];
    const kindOf = { 'gateways.gateway.networking.k8s.io': 'Gateway', httproute: 'HTTPRoute', httproutes: 'HTTPRoute', 'httproutes.gateway.networking.k8s.io': 'HTTPRoute' };
    const id = (o) => `${o.kind}/${o.metadata.name}`;
    for (const [from, to, title] of switches) {
        const text = section(ctx.doc, title);
        const applyAt = text.indexOf(`kubectl apply -k ${to}\n`);
        assert.ok(applyAt >= 0, `section ${title}: no \`kubectl apply -k ${to}\``);
        const deleted = new Set();
        for (const cmd of commands(text.slice(0, applyAt))) {
            const k = /^kubectl delete -k (\S+)/.exec(cmd);
            if (k) for (const o of rendering(ctx, k[1])) deleted.add(id(o));
            const d = /^kubectl -n servicemesh-demo delete (\S+) ((?:[\w-]+ ?)+)/.exec(cmd);
            if (d) for (const name of d[2].trim().split(' ').filter((n) => !n.startsWith('-'))) deleted.add(`${kindOf[d[1]] || d[1]}/${name}`);
        }
        const have = new Set(rendering(ctx, to).map(id));
        const stale = rendering(ctx, from).map(id).filter((x) => !have.has(x) && !deleted.has(x));
        assert.deepEqual(stale, [], `${from} -> ${to} (${title}): left behind`);
    }
});

check('kind: every host port leads to a node port that an entry listens on', (ctx) => {
    const cp = ctx.kind.nodes.filter((n) => n.role === 'control-plane');
    assert.equal(cp.length, 1, 'one control-plane node');
    const nodePorts = new Set(Object.values(ctx.renderings).flat()
        .filter((o) => o.kind === 'Service' && o.spec.type === 'NodePort')
        .flatMap((s) => s.spec.ports.map((p) => p.nodePort)));
    const maps = cp[0].extraPortMappings || [];
    assert.ok(maps.some((p) => p.hostPort === 80), 'host port 80 is mapped');
    for (const p of maps) {
        assert.equal(p.listenAddress, '127.0.0.1', `host port ${p.hostPort}: loopback only`);
        // A mapping with nothing behind it only refuses connections (was: 443 -> 30443).
        assert.ok(nodePorts.has(p.containerPort), `host port ${p.hostPort} -> ${p.containerPort}: no NodePort Service listens there`);
    }
});

check('tracing: Istio samples every request of the namespace to a provider the install declares', (ctx) => {
    const op = ctx.istioOperator;
    assert.equal(op.kind, 'IstioOperator');
    assert.equal(op.spec.profile, 'default');
    assert.equal(op.spec.meshConfig.enableTracing, true);
    const providers = Object.fromEntries((op.spec.meshConfig.extensionProviders || []).map((p) => [p.name, p]));
    for (const dir of ['deploy/kubernetes/overlays/istio', 'deploy/kubernetes/overlays/istio-api']) {
        const telemetry = m.ofKind(rendering(ctx, dir), 'Telemetry');
        assert.equal(telemetry.length, 1, `${dir}: one Telemetry`);
        const t = telemetry[0];
        assert.equal(t.spec.selector, undefined, 'namespace-wide, the gateway included');
        assert.equal(t.spec.tracing.length, 1);
        const [tr] = t.spec.tracing;
        assert.equal(tr.randomSamplingPercentage, 100, 'every request traced');
        // Istio's defaults declare no tracing provider: a Telemetry naming none traces nowhere.
        assert.equal(tr.providers.length, 1);
        const provider = providers[tr.providers[0].name];
        assert.ok(provider, `provider ${tr.providers[0].name} is not declared in ${ISTIO_OPERATOR}`);
        assert.deepEqual(provider.opentelemetry, ISTIO_ADDON_COLLECTOR, 'the Jaeger add-on\'s OTLP/gRPC collector');
    }
    assert.match(ctx.doc, new RegExp(`istioctl install -f ${ISTIO_OPERATOR.replace(/\./g, '\\.')} -y`));
    assert.match(ctx.doc, /kubectl apply -f \S*samples\/addons\/jaeger\.yaml/);
});

check('tracing: Linkerd proxies send their spans to the Jaeger of the tracing folder, by its mesh identity', (ctx) => {
    const objects = rendering(ctx, LINKERD_TRACING);
    const ns = m.ofKind(objects, 'Namespace')[0];
    assert.equal((ns.metadata.annotations || {})['linkerd.io/inject'], 'enabled', 'the collector must be meshed: the proxies check its identity');
    const t = ctx.linkerdTracingValues.proxy.tracing;
    assert.equal(t.enabled, true);
    const [host, port] = t.collector.endpoint.split(':');
    const [name, namespace] = host.split('.');
    assert.equal(namespace, ns.metadata.name, 'endpoint namespace');
    assert.ok(meshNames(name, namespace).includes(host), `endpoint ${host}`);
    const svc = m.named(objects, 'Service', name);
    assert.ok(svc, `Service ${name} missing`);
    const sp = svc.spec.ports.find((p) => p.port === Number(port));
    assert.ok(sp, `Service ${name} has no port ${port}`);
    const pods = selected(objects, svc.spec.selector);
    assert.equal(pods.length, 1);
    const cport = m.resolvePort(sp.targetPort, pods[0].containers);
    const cfgMap = m.named(objects, 'ConfigMap', pods[0].pod.volumes.find((v) => v.configMap).configMap.name);
    const cfg = YAML.parse(cfgMap.data['config.yaml']);
    assert.equal(cfg.receivers.otlp.protocols.grpc.endpoint, `0.0.0.0:${cport}`, 'Jaeger receives OTLP/gRPC on the Service\'s target port');
    assert.deepEqual(t.collector.meshIdentity, { serviceAccountName: pods[0].pod.serviceAccountName, namespace: ns.metadata.name }, 'meshIdentity is the collector pod\'s ServiceAccount');
    assert.ok(ctx.doc.includes(`linkerd upgrade --values ${LINKERD_TRACING_VALUES} | kubectl apply -f -`), 'docs/kubernetes.md: the linkerd upgrade command with these values');
});

/** Whether a Gateway API path match takes requestPath (PathPrefix matches whole segments). */
function pathMatches(route, requestPath) {
    const p = requestPath.split('?')[0];
    if (route.type === 'Exact') return p === route.prefix;
    const prefix = route.prefix.replace(/\/$/, '');
    return prefix === '' || p === prefix || p.startsWith(`${prefix}/`);
}

/**
 * The calls a request makes through the entry of a rendering, hop by hop: [{from, to, port}],
 * where from is 'entry' or a workload and to the workload called, with the container port. The
 * entry's route is the longest matching prefix (no cookie); then each service calls what the
 * README says it calls, at the addresses its rendered env names: videos-web forwards
 * /api/playlists (under its BASE_PATH too) to PLAYLISTS_API_URL; playlists-api calls
 * VIDEOS_API_URL and its Redis; videos-api its Redis.
 */
function requestHops(objects, host, requestPath) {
    const routes = entryRoutes(objects).filter((r) => r.hosts.includes(host) && !r.cookie && !r.redirect && pathMatches(r, requestPath));
    assert.ok(routes.length, `no entry route for http://${host}${requestPath}`);
    const route = routes.sort((a, b) => b.prefix.length - a.prefix.length)[0];
    const hops = [];
    const toService = (from, svcName, port, reqPath) => {
        const svc = m.named(objects, 'Service', svcName);
        assert.ok(svc, `Service ${svcName}`);
        const spec = svc.spec.ports.find((x) => x.port === Number(port) || x.name === port);
        assert.ok(spec, `Service ${svcName} has no port ${port}`);
        for (const w of selected(objects, svc.spec.selector)) {
            hops.push({ from, to: w, port: m.resolvePort(spec.targetPort ?? spec.port, w.containers), portName: spec.targetPort });
            follow(w, reqPath);
        }
    };
    const toUrl = (from, url, reqPath) => {
        const target = serviceFor(objects, url);
        assert.ok(target && target.svc, `${from.name}: ${url} is no Service`);
        toService(from, target.svc.metadata.name, target.port, reqPath);
    };
    const follow = (w, reqPath) => {
        const env = m.envOf(w.containers[0]);
        const app = w.labels.app;
        if (app === 'videos-web') {
            const base = env.BASE_PATH || '';
            const rest = base && (reqPath === base || reqPath.startsWith(`${base}/`)) ? reqPath.slice(base.length) || '/' : reqPath;
            if (['/api/playlists', '/api/playlists/'].includes(rest.split('?')[0])) toUrl(w, env.PLAYLISTS_API_URL, '/');
        } else if (app === 'playlists-api') {
            toUrl(w, env.VIDEOS_API_URL, '/jM36M39MA3I');
            toUrl(w, `redis://${env.REDIS_HOST}:${env.REDIS_PORT || 6379}`, '');
        } else if (app === 'videos-api') {
            toUrl(w, `redis://${env.REDIS_HOST}:${env.REDIS_PORT || 6379}`, '');
        }
    };
    for (const b of route.backends) toService('entry', b.svc, b.port, pathAtBackend(route, requestPath));
    return hops;
}

/** Istio (sidecars): does an ALLOW policy on the callee admit the caller's principal on that port? */
function istioAllows(objects, callerPrincipal, hop) {
    const policies = m.ofKind(objects, 'AuthorizationPolicy').filter((p) => p.spec.selector && m.selects(p.spec.selector, hop.to.labels));
    if (policies.length === 0) return { ok: true };
    const ok = policies.some((p) => p.spec.action === 'ALLOW' && (p.spec.rules || []).some((r) =>
        (!r.from || r.from.some((f) => (f.source.principals || []).includes(callerPrincipal))) &&
        (!r.to || r.to.some((t) => !t.operation.ports || t.operation.ports.map(Number).includes(hop.port)))));
    return { ok, by: policies.map((p) => `AuthorizationPolicy ${p.metadata.name} (admits ${p.spec.rules.flatMap((r) => (r.from || []).flatMap((f) => f.source.principals || [])).join(', ')})`).join('; ') };
}

/**
 * Linkerd: a Server on the callee's port decides (accessPolicy, then AuthorizationPolicies with
 * MeshTLSAuthentication identities); without one the default policy, all-unauthenticated unless
 * the namespace or pod says otherwise. callerSa is null for a caller outside the mesh.
 */
function linkerdAllows(objects, callerSa, hop) {
    const servers = m.ofKind(objects, 'Server').filter((s) => m.selects(s.spec.podSelector, hop.to.labels) &&
        (s.spec.port === hop.port || m.resolvePort(s.spec.port, hop.to.containers) === hop.port));
    const byAccess = (policy) => policy === 'all-unauthenticated' || ((policy === 'all-authenticated' || policy === 'cluster-authenticated') && callerSa !== null);
    if (servers.length === 0) {
        const ns = m.ofKind(objects, 'Namespace')[0];
        const key = 'config.linkerd.io/default-inbound-policy';
        const policy = ((hop.to.deployment.spec.template.metadata.annotations || {})[key]) || ((ns.metadata.annotations || {})[key]) || 'all-unauthenticated';
        return { ok: byAccess(policy), by: `the default inbound policy ${policy}` };
    }
    const ok = servers.some((s) => byAccess(s.spec.accessPolicy || 'deny') || m.ofKind(objects, 'AuthorizationPolicy').some((a) =>
        a.spec.targetRef && a.spec.targetRef.kind === 'Server' && a.spec.targetRef.name === s.metadata.name &&
        a.spec.requiredAuthenticationRefs.every((ref) => {
            if (ref.kind === 'NetworkAuthentication') return true;
            const mtls = m.named(objects, 'MeshTLSAuthentication', ref.name);
            return callerSa !== null && mtls && (mtls.spec.identityRefs || []).some((i) => i.kind === 'ServiceAccount' && i.name === callerSa);
        })));
    return { ok, by: servers.map((s) => `Server ${s.metadata.name} (accessPolicy ${s.spec.accessPolicy})`).join('; ') };
}

check('tracing: every hop of the request the walkthrough traces is allowed by that mesh\'s policies, down to videos-api', (ctx) => {
    // Issue 18's question: Istio's tracing step curled /home/api/playlists, which the entry sends
    // to videos-web, whose forwarder then calls playlists-api as videos-web; Istio's policies
    // admit only the entry there, so the trace ended in a 403 at videos-web.
    for (const [title, dir] of [['8. Linkerd', LINKERD], ['9. Istio', ISTIO]]) {
        const text = section(ctx.doc, title);
        const at = text.indexOf('**Tracing: one page, one trace.**');
        assert.ok(at >= 0, `${title}: no tracing step`);
        const curl = /curl [^\n]*http:\/\/servicemesh\.demo(\/\S*)/.exec(text.slice(at));
        assert.ok(curl, `${title}: the tracing step curls no http://servicemesh.demo/... URL`);
        const requestPath = curl[1];
        const objects = rendering(ctx, dir);
        const hops = requestHops(objects, 'servicemesh.demo', requestPath);
        // "nine calls to videos-api": the traced request must reach the fan-out at all.
        assert.ok(hops.some((h) => h.to.labels.app === 'videos-api'), `${title}: the traced request ${requestPath} never reaches videos-api, so the trace has no fan-out`);
        const entry = generatedServices(objects)[0];
        for (const h of hops) {
            const caller = h.from === 'entry' ? 'the entry' : h.from.labels.app;
            let verdict;
            if (dir === LINKERD) {
                // cloud-provider-kind's Envoy is outside the mesh: no identity.
                verdict = linkerdAllows(objects, h.from === 'entry' ? null : h.from.pod.serviceAccountName, h);
            } else {
                const principal = h.from === 'entry' ? entry.principal : `cluster.local/ns/${m.NAMESPACE}/sa/${h.from.pod.serviceAccountName}`;
                verdict = istioAllows(objects, principal, h);
            }
            assert.ok(verdict.ok, `${title}: the tracing step's request ${requestPath}: ${caller} -> ${h.to.labels.app}:${h.port} is denied by ${verdict.by}`);
        }
    }
});

check('the walkthrough (docs/kubernetes.md) uses the names and values the files use', (ctx) => {
    const doc = ctx.doc;
    assert.match(doc, new RegExp(`kind load docker-image --name ${ctx.kind.name}\\b`));
    assert.match(doc, /kind create cluster --config deploy\/kubernetes\/kind\/cluster\.yaml/);
    // kind load names exactly our three images: kind stops at the first image that is not in the
    // local store, and `ctr import --all-platforms` of a multi-platform image (redis from Docker's
    // containerd store) fails; the nodes pull Redis themselves.
    const load = /kind load docker-image --name \S+ \\\n\s+([^\n]+)/.exec(doc)[1].trim().split(/\s+/);
    const images = new Set(m.workloads(rendering(ctx, 'deploy/kubernetes/overlays/istio')).flatMap((w) => w.containers.map((c) => c.image)));
    assert.deepEqual([...load].sort(), [...images].filter((i) => m.ourService(i)).sort());
    // podman save without -m writes one image carrying every tag: every pod would run the first.
    const save = /podman save ([^\n`]+)/.exec(doc);
    assert.ok(save, 'the podman variant of step 2');
    assert.match(save[1], /(^|\s)(-m|--multi-image-archive)(\s|$)/, 'podman save needs -m for several images');
    for (const i of [...images].filter((x) => m.ourService(x))) assert.ok(save[1].includes(i), `podman save: ${i}`);
    // Every `kubectl apply -k` / `delete -k` path exists.
    for (const [, dir] of doc.matchAll(/kubectl (?:apply|delete) -k ([\w./-]+)/g)) assert.ok(m.findKustomizations().includes(dir), `${dir} in docs`);
    // Step 0 names every tool the steps run.
    const tools = section(doc, '0. Tools');
    for (const tool of ['helm', 'kind', 'kubectl', 'cloud-provider-kind', 'linkerd', 'istioctl']) {
        if (new RegExp(`\\n${tool} `).test(doc.replace(/```sh\n/g, '\n'))) assert.ok(tools.includes(`\`${tool}\``), `step 0 must list ${tool}`);
    }
    // The imperative Linkerd steps set exactly what the overlay declares.
    const linkerd = rendering(ctx, 'deploy/kubernetes/overlays/linkerd');
    const annotateSvc = /kubectl -n servicemesh-demo annotate svc videos-api \\\n\s+([^\n]+)/.exec(doc)[1];
    const fromDoc = Object.fromEntries(annotateSvc.trim().split(/\s+/).map((kv) => kv.split('=')));
    const onService = Object.fromEntries(Object.entries(m.named(linkerd, 'Service', 'videos-api').metadata.annotations).filter(([k]) => /linkerd\.io\//.test(k)));
    // The annotations-only way sets the Service's retry annotations and, as an annotation, the
    // request timeout that the overlay takes from the neutral route's timeouts.request.
    onService['timeout.linkerd.io/request'] = m.named(linkerd, 'HTTPRoute', 'videos-api').spec.rules[0].timeouts.request;
    assert.deepEqual(fromDoc, onService);
    const ns = m.ofKind(linkerd, 'Namespace')[0];
    const annotateNs = /kubectl annotate ns servicemesh-demo ([^\n]+)/.exec(doc)[1];
    assert.deepEqual(Object.fromEntries(annotateNs.trim().split(/\s+/).map((kv) => kv.split('='))), ns.metadata.annotations);
    const relabel = /kubectl label ns servicemesh-demo pod-security\.kubernetes\.io\/enforce=(\S+)/.exec(doc)[1];
    assert.equal(relabel, ns.metadata.labels['pod-security.kubernetes.io/enforce']);
});

/** Runs every check on a context; returns [{name, error}] for those that fail. */
function failures(ctx) {
    const out = [];
    for (const c of CHECKS) {
        try {
            c.run(ctx);
        } catch (e) {
            out.push({ name: c.name, error: e });
        }
    }
    return out;
}

module.exports = { CHECKS, failures, loadContext, copyContext, answers, residualRates, APP_RENDERINGS };
