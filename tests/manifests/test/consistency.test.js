'use strict';
// Cross-file consistency, which no schema checks: selectors against pod labels, Service ports
// against container ports, host names in env against Services, probes and settings against the
// service contract, images against the container build, routes and policies against what exists.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const m = require('../lib/manifests');
const { contract } = require('../lib/contract');

const C = contract();
const APP_RENDERINGS = [
    'deploy/kubernetes/base',
    'deploy/kubernetes/overlays/linkerd',
    'deploy/kubernetes/overlays/istio',
    'deploy/kubernetes/overlays/istio-api',
    'deploy/kubernetes/overlays/ingress-kong',
];
const REDIS_IMAGE = 'redis:7-alpine';

/** Runs fn(objects, dir) for every full rendering of the application. */
function eachRendering(fn) {
    for (const dir of APP_RENDERINGS) {
        try {
            fn(m.render(dir), dir);
        } catch (e) {
            e.message = `${dir}: ${e.message}`;
            throw e;
        }
    }
}

/** Pods (workloads) a Service or policy selector selects. */
const selected = (objects, selector) => m.workloads(objects).filter((w) => m.selects(selector, w.labels));

/**
 * Resolves "host[:port]" of a URL, as seen from a pod in our namespace, to a Service of the
 * rendering (or to a Service that a controller creates, see generatedServices).
 */
function serviceFor(objects, url) {
    const u = new URL(url);
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    let host = u.hostname;
    const suffix = `.${m.NAMESPACE}.svc.cluster.local`;
    if (host.endsWith(suffix)) host = host.slice(0, -suffix.length);
    else if (host.endsWith(`.${m.NAMESPACE}`)) host = host.slice(0, -m.NAMESPACE.length - 1);
    const svc = m.named(objects, 'Service', host);
    if (svc) return { svc, port, spec: svc.spec.ports.find((p) => p.port === port) };
    const generated = generatedServices(objects).find((g) => g.host === host);
    return generated ? { generated, port, spec: generated.ports.includes(port) ? { port } : undefined } : null;
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
                ports: gw.spec.listeners.map((l) => l.port),
                principal: `cluster.local/ns/${m.NAMESPACE}/sa/${gw.metadata.name}-istio`,
                hostnames: gw.spec.listeners.map((l) => l.hostname),
                podLabels: { 'gateway.networking.k8s.io/gateway-name': gw.metadata.name },
            });
        }
        if (gw.apiVersion.startsWith('networking.istio.io/') && gw.spec.selector.istio === 'ingressgateway') {
            out.push({
                host: 'istio-ingressgateway.istio-system',
                ports: gw.spec.servers.map((s) => s.port.number),
                principal: 'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account',
                hostnames: gw.spec.servers.flatMap((s) => s.hosts),
            });
        }
    }
    return out;
}

test('Deployments select their own pods, and every pod has app and version labels', () => {
    eachRendering((objects) => {
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

test('Services select pods and their target ports are container ports of those pods', () => {
    eachRendering((objects) => {
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
            }
        }
    });
});

test('images: our three services as servicemesh/<service>:<project version>, Redis as redis:7-alpine', () => {
    assert.equal(C.version, '1.0.0');
    eachRendering((objects) => {
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

test('images match what the container build produces (Dockerfile targets, compose image names)', (t) => {
    const dockerfile = path.join(m.REPO, 'Dockerfile');
    const composeFile = ['docker-compose.yaml', 'docker-compose.yml', 'compose.yaml'].map((f) => path.join(m.REPO, f)).find(fs.existsSync);
    if (!fs.existsSync(dockerfile) && !composeFile) {
        t.skip('no Dockerfile or compose file at the repo root yet (the container issue adds them)');
        return;
    }
    const images = new Set(m.workloads(m.render('deploy/kubernetes/overlays/istio')).flatMap((w) => w.containers.map((c) => c.image)).filter((i) => m.ourService(i)));
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

test('settings, ports and probes agree with the service contract', () => {
    assert.equal(C.liveness, '/healthz');
    assert.equal(C.readiness, '/readyz');
    eachRendering((objects) => {
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

test('host names in env are Services that lead to the intended workload', () => {
    const intended = { REDIS_HOST: null, VIDEOS_API_URL: 'videos-api', PLAYLISTS_API_URL: 'playlists-api' };
    eachRendering((objects) => {
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

test('pods run as the restricted Pod Security Standard asks, with resources and one identity each', () => {
    eachRendering((objects, dir) => {
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

test('databases run redis-seeded.sh on the seed ConfigMap, which holds the canonical files byte for byte', () => {
    const seedText = m.readRepo('deploy/seed/seed.redis');
    const sections = [...seedText.matchAll(/^#@ (\S+)$/gm)].map((x) => x[1]);
    eachRendering((objects) => {
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

/** The entry's routes, whatever the API: [{host, prefix, stripped, backends: [{svc, port, weight, cookie}]}]. */
function entryRoutes(objects) {
    const routes = [];
    for (const r of m.ofKind(objects, 'HTTPRoute')) {
        for (const rule of r.spec.rules) {
            for (const match of rule.matches) {
                const rewrite = (rule.filters || []).find((f) => f.type === 'URLRewrite');
                const cookie = (match.headers || []).find((h) => h.name.toLowerCase() === 'cookie');
                routes.push({
                    api: 'gateway', hosts: r.spec.hostnames, prefix: match.path.value, type: match.path.type,
                    stripped: !!rewrite && rewrite.urlRewrite.path.type === 'ReplacePrefixMatch' && rewrite.urlRewrite.path.replacePrefixMatch === '/',
                    cookie: cookie && cookie.value,
                    backends: rule.backendRefs.map((b) => ({ svc: b.name, port: b.port, weight: b.weight ?? 1 })),
                });
            }
        }
    }
    for (const vs of m.ofKind(objects, 'VirtualService').filter((v) => v.spec.gateways)) {
        for (const h of vs.spec.http) {
            for (const match of h.match) {
                const prefix = match.uri.prefix || match.uri.exact;
                routes.push({
                    api: 'istio', hosts: vs.spec.hosts, prefix: prefix.replace(/\/$/, ''), type: match.uri.prefix ? 'PathPrefix' : 'Exact',
                    stripped: h.rewrite && h.rewrite.uri === '/',
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
                    api: 'ingress', hosts: [rule.host], prefix: p.path, type: p.pathType,
                    stripped: (ing.metadata.annotations || {})['konghq.com/strip-path'] === 'true',
                    backends: [{ svc: p.backend.service.name, port: p.backend.service.port.number ?? p.backend.service.port.name, weight: 1 }],
                });
            }
        }
    }
    return routes;
}

test('the entry: servicemesh.demo/home -> videos-web and /api/playlists -> playlists-api, prefixes stripped', () => {
    eachRendering((objects, dir) => {
        const routes = entryRoutes(objects);
        assert.ok(routes.length > 0, 'no entry');
        for (const r of routes) assert.deepEqual(r.hosts, ['servicemesh.demo']);
        const appOf = (b) => {
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
            return [...new Set(pods.map((p) => p.labels.app))].join();
        };
        const byPrefix = (prefix) => routes.filter((r) => r.prefix === prefix);
        for (const [prefix, app] of [['/home', 'videos-web'], ['/api/playlists', 'playlists-api']]) {
            const rs = byPrefix(prefix);
            assert.ok(rs.length > 0, `no route for ${prefix}`);
            for (const r of rs) {
                // Either the entry strips the prefix, or the backend answers under it: videos-web
                // with BASE_PATH set to the prefix, playlists-api at /api/playlists (contract).
                const web = m.named(objects, 'Deployment', 'videos-web');
                const basePath = web && (web.spec.template.spec.containers[0].env || [])
                    .find((e) => e.name === 'BASE_PATH');
                const answersUnstripped = prefix === '/home'
                    ? Boolean(basePath) && basePath.value === prefix
                    : m.readRepo('docs/contract.md').includes('also `GET /api/playlists`');
                assert.ok(r.stripped || answersUnstripped,
                    `${prefix}: prefix must be stripped, or the backend must answer under it`);
                for (const b of r.backends) assert.equal(appOf(b), app, `${prefix} -> ${b.svc}`);
            }
        }
        // Besides the two, only the catch-all to videos-web that keeps the page (at /) working on
        // Gateways without URLRewrite (cloud-provider-kind); not in the Istio overlays, where it
        // would bypass the traffic split.
        const prefixes = [...new Set(routes.map((r) => r.prefix))].sort();
        const root = byPrefix('/');
        if (dir.includes('istio') || dir.includes('ingress')) assert.deepEqual(prefixes, ['/api/playlists', '/home']);
        else {
            assert.deepEqual(prefixes, ['/', '/api/playlists', '/home']);
            for (const r of root) {
                assert.equal(r.api, 'gateway');
                for (const b of r.backends) assert.equal(appOf(b), 'videos-web', '/ -> videos-web, whose forwarder answers /api/playlists');
            }
        }
        if (dir.includes('istio')) {
            // Cookie canary to v2 only, everything else 90/10.
            const versionOf = (b) => {
                const svc = m.named(objects, 'Service', b.svc);
                let pods = selected(objects, svc.spec.selector);
                if (b.subset) pods = pods.filter((p) => m.selects(m.ofKind(objects, 'DestinationRule').find((d) => d.spec.host === b.svc).spec.subsets.find((s) => s.name === b.subset).labels, p.labels));
                return [...new Set(pods.map((p) => p.labels.version))].join();
            };
            const home = byPrefix('/home');
            const canary = home.filter((r) => r.cookie);
            const split = home.filter((r) => !r.cookie);
            assert.ok(canary.length && split.length);
            for (const r of canary) {
                assert.deepEqual(r.backends.map(versionOf), ['v2']);
                const re = new RegExp(r.cookie);
                for (const yes of ['canary=v2', 'a=b; canary=v2', 'canary=v2; a=b', 'x=1;canary=v2;y=2']) assert.ok(re.test(yes), `${r.cookie} must match "${yes}"`);
                for (const no of ['canary=v1', 'canary=v22', 'xcanary=v2', '']) assert.ok(!re.test(no), `${r.cookie} must not match "${no}"`);
            }
            for (const r of split) {
                const weights = Object.fromEntries(r.backends.map((b) => [versionOf(b), b.weight]));
                assert.deepEqual(weights, { v1: 90, v2: 10 });
            }
        }
    });
});

test('Gateway API routes attach to an existing Gateway listener', () => {
    eachRendering((objects) => {
        for (const r of m.ofKind(objects, 'HTTPRoute')) {
            for (const p of r.spec.parentRefs) {
                const gw = m.ofKind(objects, 'Gateway').find((g) => g.apiVersion.startsWith('gateway.networking.k8s.io/') && g.metadata.name === p.name);
                assert.ok(gw, `HTTPRoute ${r.metadata.name}: Gateway ${p.name} missing`);
                const listener = gw.spec.listeners.find((l) => !p.sectionName || l.name === p.sectionName);
                assert.ok(listener, `HTTPRoute ${r.metadata.name}: no listener ${p.sectionName}`);
                for (const h of r.spec.hostnames || []) assert.ok(!listener.hostname || listener.hostname === h, `${h} is not served by listener ${listener.name}`);
            }
        }
        for (const gw of m.ofKind(objects, 'Gateway').filter((g) => g.apiVersion.startsWith('gateway.networking.k8s.io/'))) {
            assert.ok(['cloud-provider-kind', 'istio'].includes(gw.spec.gatewayClassName), `Gateway class ${gw.spec.gatewayClassName}`);
        }
    });
});

test('autoscalers and disruption budgets point at workloads that can honour them', () => {
    eachRendering((objects) => {
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

test('the traffic generator calls the entry paths, at a bounded rate', () => {
    const expected = {
        'deploy/kubernetes/base': ['http://videos-web/', 'http://playlists-api/'],
        'deploy/kubernetes/overlays/istio': ['http://servicemesh-istio/home/', 'http://servicemesh-istio/api/playlists'],
        'deploy/kubernetes/overlays/istio-api': ['http://istio-ingressgateway.istio-system/home/', 'http://istio-ingressgateway.istio-system/api/playlists'],
    };
    eachRendering((objects, dir) => {
        const w = m.workloads(objects).find((x) => x.name === 'traffic-generator');
        assert.ok(w, 'traffic generator missing');
        const c = w.containers[0];
        assert.equal(c.image, REDIS_IMAGE);
        const env = m.envOf(c);
        const targets = env.TARGETS.split(/\s+/);
        if (expected[dir]) assert.deepEqual(targets, expected[dir]);
        assert.ok(Number(env.INTERVAL) >= 0.1, 'INTERVAL bounds the rate');
        assert.equal(w.deployment.spec.replicas, 1);
        const entries = generatedServices(objects);
        for (const url of targets) {
            const target = serviceFor(objects, url);
            assert.ok(target && target.spec, `${url}: no such Service port`);
            if (target.generated) {
                assert.ok(target.generated.hostnames.includes(env.HOST_HEADER), `${url}: HOST_HEADER must be one the entry serves`);
                const p = new URL(url).pathname;
                assert.ok(['/home/', '/api/playlists'].includes(p), `${url}: the entry's paths`);
            } else {
                assert.equal(env.HOST_HEADER, undefined);
                const app = selected(objects, target.svc.spec.selector)[0].labels.app;
                // Straight to the services: the paths the entry's /home/ and /api/playlists become.
                assert.equal(new URL(url).pathname, '/');
                assert.ok(['videos-web', 'playlists-api'].includes(app));
            }
        }
        assert.ok(entries.length === 0 || targets.every((u) => serviceFor(objects, u).generated), `${dir}: with an in-mesh entry, the generator goes through it`);
        const script = m.named(objects, 'ConfigMap', w.pod.volumes.find((v) => v.configMap).configMap.name);
        assert.equal(script.data['traffic-generator.sh'], m.readRepo('deploy/kubernetes/base/traffic-generator.sh'));
        assert.deepEqual(c.command, ['/bin/sh', '/scripts/traffic-generator.sh']);
    });
});

test('Linkerd: injection, retries within the caller timeout, and only playlists-api may call videos-api', () => {
    const objects = m.render('deploy/kubernetes/overlays/linkerd');
    const ns = m.ofKind(objects, 'Namespace')[0];
    assert.equal(ns.metadata.annotations['linkerd.io/inject'], 'enabled');
    const svc = m.named(objects, 'Service', 'videos-api');
    const a = svc.metadata.annotations;
    assert.equal(a['retry.linkerd.io/http'], '5xx');
    assert.ok(Number(a['retry.linkerd.io/limit']) >= 1);
    const ms = (d) => { const x = /^(\d+)(ms|s)$/.exec(d); assert.ok(x, `duration ${d}`); return Number(x[1]) * (x[2] === 's' ? 1000 : 1); };
    const callerTimeout = Number(m.envOf(m.named(objects, 'Deployment', 'playlists-api').spec.template.spec.containers[0]).VIDEOS_API_TIMEOUT_MS);
    assert.ok(ms(a['timeout.linkerd.io/request']) < callerTimeout, 'request timeout under playlists-api\'s own');
    assert.ok(ms(a['retry.linkerd.io/timeout']) < ms(a['timeout.linkerd.io/request']));

    const servers = m.ofKind(objects, 'Server');
    assert.equal(servers.length, 1);
    const server = servers[0];
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
    const [sp] = m.render('deploy/kubernetes/overlays/linkerd/legacy');
    assert.equal(sp.metadata.name, `videos-api.${m.NAMESPACE}.svc.cluster.local`);
    for (const r of sp.spec.routes) {
        assert.ok(ms(r.timeout) < callerTimeout);
        assert.ok(new RegExp(`^${r.condition.pathRegex}$`).test('/jM36M39MA3I'));
        assert.ok(!new RegExp(`^${r.condition.pathRegex}$`).test('/a/b'));
    }
});

test('Istio: injection, STRICT mTLS, retries, and every workload says who may call it', () => {
    for (const dir of ['deploy/kubernetes/overlays/istio', 'deploy/kubernetes/overlays/istio-api']) {
        const objects = m.render(dir);
        const ns = m.ofKind(objects, 'Namespace')[0];
        assert.equal(ns.metadata.labels['istio-injection'], 'enabled');
        const pa = m.ofKind(objects, 'PeerAuthentication');
        assert.equal(pa.length, 1);
        assert.equal(pa[0].spec.mtls.mode, 'STRICT');
        assert.equal(pa[0].spec.selector, undefined, 'namespace-wide');

        const vs = m.named(objects, 'VirtualService', 'videos-api');
        const route = vs.spec.http[0];
        assert.ok(m.named(objects, 'Service', route.route[0].destination.host));
        assert.ok(m.named(objects, 'Service', 'videos-api').spec.ports.some((p) => p.port === route.route[0].destination.port.number));
        for (const cond of ['5xx', 'reset', 'connect-failure']) assert.ok(route.retries.retryOn.split(',').includes(cond), `retryOn ${cond}`);
        const ms = (d) => Number(/^(\d+)ms$/.exec(d)[1]);
        const callerTimeout = Number(m.envOf(m.named(objects, 'Deployment', 'playlists-api').spec.template.spec.containers[0]).VIDEOS_API_TIMEOUT_MS);
        assert.ok(ms(route.timeout) < callerTimeout);

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

test('the Ingress alternative names its controller and strips the prefixes', () => {
    const objects = m.render('deploy/kubernetes/overlays/ingress-kong');
    assert.equal(m.ofKind(objects, 'Gateway').length + m.ofKind(objects, 'HTTPRoute').length, 0, 'one entry only');
    const [ing] = m.ofKind(objects, 'Ingress');
    assert.equal(ing.spec.ingressClassName, 'kong');
    assert.equal(ing.metadata.annotations['konghq.com/strip-path'], 'true');
    for (const p of ing.spec.rules[0].http.paths) assert.equal(p.pathType, 'Prefix');
});

test('the walkthrough (docs/kubernetes.md) uses the names and values the files use', () => {
    const doc = m.readRepo('docs/kubernetes.md');
    const kind = YAML.parse(fs.readFileSync(path.join(m.K8S, 'kind', 'cluster.yaml'), 'utf8'));
    assert.match(doc, new RegExp(`kind load docker-image --name ${kind.name}\\b`));
    assert.match(doc, /kind create cluster --config deploy\/kubernetes\/kind\/cluster\.yaml/);
    // kind load names every image the pods use.
    const load = /kind load docker-image --name \S+ \\\n\s+([^\n]+)/.exec(doc)[1].split(/\s+/);
    const images = new Set(m.workloads(m.render('deploy/kubernetes/overlays/istio')).flatMap((w) => w.containers.map((c) => c.image)));
    assert.deepEqual([...images].sort(), [...load].sort());
    // Every `kubectl apply -k` / `delete -k` path exists.
    for (const [, dir] of doc.matchAll(/kubectl (?:apply|delete) -k ([\w./-]+)/g)) assert.ok(m.findKustomizations().includes(dir), `${dir} in docs`);
    // The imperative Linkerd steps set exactly what the overlay declares.
    const linkerd = m.render('deploy/kubernetes/overlays/linkerd');
    const annotateSvc = /kubectl -n servicemesh-demo annotate svc videos-api \\\n\s+([^\n]+)/.exec(doc)[1];
    const fromDoc = Object.fromEntries(annotateSvc.trim().split(/\s+/).map((kv) => kv.split('=')));
    const onService = Object.fromEntries(Object.entries(m.named(linkerd, 'Service', 'videos-api').metadata.annotations).filter(([k]) => /linkerd\.io\//.test(k)));
    assert.deepEqual(fromDoc, onService);
    const ns = m.ofKind(linkerd, 'Namespace')[0];
    const annotateNs = /kubectl annotate ns servicemesh-demo ([^\n]+)/.exec(doc)[1];
    assert.deepEqual(Object.fromEntries(annotateNs.trim().split(/\s+/).map((kv) => kv.split('='))), ns.metadata.annotations);
    const relabel = /kubectl label ns servicemesh-demo pod-security\.kubernetes\.io\/enforce=(\S+)/.exec(doc)[1];
    assert.equal(relabel, ns.metadata.labels['pod-security.kubernetes.io/enforce']);
});
