'use strict';
/**
 * The checks of the catalog's metrics where the meshes' users look (issue 16, point 3): the
 * dashboard (deploy/kubernetes/grafana), what each mesh's Prometheus scrapes of the rendered pods
 * (Istio's add-on with sidecars, with ambient mode, linkerd-viz), the Grafana set-up for Linkerd
 * and the walkthrough docs/metrics.md.
 *
 * As in lib/checks.js, each check is a function of one context, so that test/metrics.test.js runs
 * them on the files as they are and on copies with one realistic mistake each.
 */
const fs = require('node:fs');
const path = require('node:path');
const assert = require('node:assert/strict');
const YAML = require('yaml');
const m = require('./manifests');
const mm = require('./metrics-model');
const { validateObject, prepare } = require('./validate');

const LINKERD = 'deploy/kubernetes/overlays/linkerd';
const ISTIO = 'deploy/kubernetes/overlays/istio';
const ISTIO_API = 'deploy/kubernetes/overlays/istio-api';
const AMBIENT = 'deploy/kubernetes/overlays/istio-ambient';
const AMBIENT_METRICS = 'deploy/kubernetes/overlays/istio-ambient/metrics';
const APP = ['deploy/kubernetes/base', LINKERD, ISTIO, ISTIO_API, AMBIENT, 'deploy/kubernetes/overlays/ingress-kong'];
const FILES = {
    dashboard: 'deploy/kubernetes/grafana/servicemesh-demo-dashboard.json',
    dashboardComponent: 'deploy/kubernetes/grafana/kustomization.yaml',
    vizValues: 'deploy/kubernetes/overlays/linkerd/metrics/linkerd-viz-values.yaml',
    grafanaValues: 'deploy/kubernetes/overlays/linkerd/metrics/grafana-values.yaml',
    grafanaAuthz: 'deploy/kubernetes/overlays/linkerd/metrics/grafana-authorization.yaml',
    istioOperator: 'deploy/kubernetes/istio/istio-operator.yaml',
    doc: 'docs/metrics.md',
    walkthrough: 'docs/kubernetes.md',
};
/** The Grafana Helm chart the doc installs, and the top-level values of that version we may set. */
const GRAFANA_CHART = { repo: 'https://grafana-community.github.io/helm-charts', name: 'grafana-community/grafana', version: '12.11.1' };
const GRAFANA_VALUES = ['podAnnotations', 'grafana.ini', 'datasources', 'sidecar', 'dashboardProviders', 'dashboards', 'persistence', 'service', 'serviceAccount', 'rbac', 'adminUser', 'adminPassword', 'resources'];
const SCRAPE_FIELDS = ['job_name', 'kubernetes_sd_configs', 'relabel_configs', 'metric_relabel_configs', 'scrape_interval', 'scrape_timeout', 'metrics_path', 'scheme', 'honor_labels'];

/** Everything the checks read. */
function loadMetricsContext() {
    const renderings = {};
    for (const dir of [...APP, AMBIENT_METRICS]) renderings[dir] = m.render(dir);
    return {
        renderings,
        dashboardText: m.readRepo(FILES.dashboard),
        dashboardComponent: YAML.parse(m.readRepo(FILES.dashboardComponent)),
        vizValues: YAML.parse(m.readRepo(FILES.vizValues)),
        grafanaValues: YAML.parse(m.readRepo(FILES.grafanaValues)),
        grafanaAuthz: YAML.parse(m.readRepo(FILES.grafanaAuthz)),
        istioOperator: YAML.parse(m.readRepo(FILES.istioOperator)),
        sources: mm.readSources(),
        doc: m.readRepo(FILES.doc),
        walkthrough: m.readRepo(FILES.walkthrough),
    };
}
const copyMetricsContext = (ctx) => structuredClone(ctx);

const CHECKS = [];
const check = (name, run) => CHECKS.push({ name, run });

/** The admin container port of a pod (ports are named http and admin: lib/checks.js checks that). */
const adminPort = (pod) => {
    for (const c of pod.containers) for (const p of c.ports || []) if (p.name === 'admin') return p.containerPort;
    return undefined;
};
const ourPods = (objects) => mm.podsOf(objects).filter((p) => p.containers.some((c) => m.ourService(c.image)));
/** The path the services serve their metrics on: the admin handler's route for metrics_registry::render(). */
function metricsPath(sources) {
    const admin = sources['common/src/admin_routes.cpp'] || '';
    const x = /if \(path == "([^"]+)"\)\s*\{\s*co_return make_response\([^;]*metrics->render\(\)/.exec(admin);
    assert.ok(x, 'common/src/admin_routes.cpp: the path that serves metrics->render()');
    return x[1];
}

// ---------------------------------------------------------------------------------------------
// The pods ask to be scraped on the admin port.

check('every pod of our services asks to be scraped on its admin port, at the path that serves the metrics', (ctx) => {
    const metricsAt = metricsPath(ctx.sources);
    for (const dir of APP) {
        const pods = ourPods(ctx.renderings[dir]);
        assert.ok(pods.length >= 3, `${dir}: our pods`);
        for (const pod of pods) {
            const a = pod.annotations;
            const where = `${dir}: ${pod.name}`;
            assert.equal(a['prometheus.io/scrape'], 'true', `${where}: prometheus.io/scrape`);
            assert.equal(a['prometheus.io/port'], String(adminPort(pod)), `${where}: prometheus.io/port must be the admin container port ${adminPort(pod)}`);
            assert.equal(a['prometheus.io/path'], metricsAt, `${where}: prometheus.io/path must be ${metricsAt}, where the admin port serves the metrics`);
            assert.equal(a['prometheus.io/scheme'] ?? 'http', 'http', `${where}: the admin port speaks plain HTTP`);
        }
    }
});

// ---------------------------------------------------------------------------------------------
// Istio with sidecars: metrics merging.

check('Istio sidecars: the add-on scrapes the agent\'s merged :15020/stats/prometheus, which fetches the app\'s admin port', (ctx) => {
    const meshConfig = ctx.istioOperator.spec.meshConfig || {};
    assert.notEqual(meshConfig.enablePrometheusMerge, false, `${FILES.istioOperator}: metrics merging off, the app's metrics would need a plaintext scrape that STRICT mTLS refuses`);
    const metricsAt = metricsPath(ctx.sources);
    for (const dir of [ISTIO, ISTIO_API]) {
        const objects = ctx.renderings[dir];
        const ns = m.ofKind(objects, 'Namespace')[0];
        assert.equal((ns.metadata.labels || {})['istio-injection'], 'enabled', `${dir}: sidecar injection`);
        for (const pod of ourPods(objects)) {
            const where = `${dir}: ${pod.name}`;
            const admin = adminPort(pod);
            assert.notEqual(pod.annotations['sidecar.istio.io/inject'], 'false', `${where}: not injected, so nothing merges its metrics`);
            const injected = mm.injectIstio(structuredClone(pod), meshConfig);
            const targets = mm.scrapeTargets(mm.ISTIO_ADDON_POD_JOB, [injected]);
            assert.deepEqual(targets.map((t) => `${t.port} ${t.path}`), ['15020 /stats/prometheus'], `${where}: the add-on's kubernetes-pods job scrapes the agent (15020 is outside the sidecar's capture, so STRICT mTLS does not apply)`);
            assert.deepEqual(mm.istioAgentAppScrape(injected), { host: 'localhost', port: admin, path: metricsAt }, `${where}: the agent merges the app's metrics from localhost:${admin}${metricsAt}`);
            assert.equal(targets[0].labels.namespace, m.NAMESPACE);
            assert.equal(targets[0].labels.app, pod.labels.app);
        }
    }
});

// ---------------------------------------------------------------------------------------------
// Istio ambient: no sidecar, no merging; the add-on opens the admin port and nothing else.

check('Istio ambient: the add-on scrapes pod:admin/metrics itself, and ztunnel lets exactly those scrapes through', (ctx) => {
    const metricsAt = metricsPath(ctx.sources);
    const overlay = ctx.renderings[AMBIENT];
    const addOn = ctx.renderings[AMBIENT_METRICS];
    assert.deepEqual([...new Set(addOn.map((o) => o.kind))].sort(), ['AuthorizationPolicy', 'PeerAuthentication'], `${AMBIENT_METRICS}: policies only`);
    for (const o of addOn) assert.equal(o.metadata.namespace, m.NAMESPACE);
    // The add-on only adds: nothing of the overlay is replaced by an object of the same name.
    const ids = new Set(overlay.map((o) => `${o.kind}/${o.metadata.name}`));
    for (const o of addOn) assert.ok(!ids.has(`${o.kind}/${o.metadata.name}`), `${AMBIENT_METRICS}: ${o.kind}/${o.metadata.name} replaces the overlay's`);
    const both = [...overlay, ...addOn];
    const pods = mm.podsOf(overlay);
    const scraped = new Set();
    for (const pod of pods) {
        const targets = mm.scrapeTargets(mm.ISTIO_ADDON_POD_JOB, [pod]);
        const where = `${pod.name}`;
        if (pod.containers.some((c) => m.ourService(c.image))) {
            const admin = adminPort(pod);
            assert.deepEqual(targets.map((t) => `${t.port} ${t.path}`), [`${admin} ${metricsAt}`], `${where}: the add-on scrapes the admin port (no sidecar merges anything in ambient mode)`);
            assert.equal(mm.ambientAdmitsPlaintext(overlay, pod, admin), false, `${where}: the overlay alone must keep STRICT mTLS (the add-on is what opens the admin port)`);
            assert.ok(mm.ambientAdmitsPlaintext(both, pod, admin), `${where}: ztunnel refuses the add-on's plaintext scrape of port ${admin} (port-level PERMISSIVE and an L4 ALLOW rule for it are needed)`);
            scraped.add(pod.name);
        }
        // Nothing else is opened: every other port of every pod stays STRICT or behind the policies.
        for (const c of pod.containers) {
            for (const p of c.ports || []) {
                if (scraped.has(pod.name) && p.containerPort === adminPort(pod)) continue;
                assert.equal(mm.ambientAdmitsPlaintext(both, pod, p.containerPort), false, `${where}: port ${p.containerPort} (${p.name}) accepts plaintext from outside the mesh`);
            }
        }
    }
    assert.ok(scraped.size >= 4, 'the three services\' pods (videos-web v1 and v2) are scraped');
    // The add-on's L4 rules name the admin port only, so they open nothing to meshed callers either.
    for (const p of m.ofKind(addOn, 'AuthorizationPolicy')) {
        assert.equal(p.spec.action ?? 'ALLOW', 'ALLOW');
        for (const r of p.spec.rules || []) {
            assert.ok((r.to || []).length > 0, `${p.metadata.name}: a rule without \`to\` opens every port`);
            for (const t of r.to) {
                const sel = mm.podsOf(overlay).filter((pod) => m.selects(p.spec.selector.matchLabels, pod.labels));
                for (const port of t.operation.ports || []) for (const pod of sel) assert.equal(Number(port), adminPort(pod), `${p.metadata.name}: port ${port} is not the admin port`);
                assert.ok((t.operation.ports || []).length > 0, `${p.metadata.name}: an operation without ports opens every port`);
            }
        }
    }
    for (const pa of m.ofKind(addOn, 'PeerAuthentication')) {
        assert.ok(pa.spec.selector, `${pa.metadata.name}: a workload PeerAuthentication (ztunnel reads port-level modes only from those)`);
        assert.notEqual(pa.spec.mtls?.mode, 'PERMISSIVE', `${pa.metadata.name}: the whole workload PERMISSIVE`);
        assert.notEqual(pa.spec.mtls?.mode, 'DISABLE', `${pa.metadata.name}: the whole workload without mTLS`);
    }
});

// ---------------------------------------------------------------------------------------------
// Linkerd: viz's Prometheus with the extra scrape job.

check('Linkerd: the viz values add one scrape job that takes each service pod\'s admin port at the metrics path, beside viz\'s own', (ctx) => {
    const v = ctx.vizValues;
    assert.deepEqual(Object.keys(v), ['prometheus'], `${FILES.vizValues}: only prometheus values`);
    assert.deepEqual(Object.keys(v.prometheus), ['scrapeConfigs'], `${FILES.vizValues}: prometheus.scrapeConfigs (the chart appends them to viz's jobs)`);
    const jobs = v.prometheus.scrapeConfigs;
    assert.ok(Array.isArray(jobs) && jobs.length >= 1);
    const names = jobs.map((j) => j.job_name);
    assert.equal(new Set(names).size, names.length, 'job names unique');
    for (const j of jobs) {
        assert.ok(!mm.VIZ_JOB_NAMES.includes(j.job_name), `${j.job_name}: viz has a job of that name`);
        for (const k of Object.keys(j)) assert.ok(SCRAPE_FIELDS.includes(k), `${j.job_name}: unknown scrape config field ${k}`);
        for (const r of j.relabel_configs || []) for (const k of Object.keys(r)) assert.ok(mm.RELABEL_FIELDS.has(k), `${j.job_name}: unknown relabel field ${k}`);
    }
    const metricsAt = metricsPath(ctx.sources);
    const objects = ctx.renderings[LINKERD];
    const ns = m.ofKind(objects, 'Namespace')[0];
    assert.equal((ns.metadata.annotations || {})['linkerd.io/inject'], 'enabled');
    const pods = mm.podsOf(objects).map((p) => mm.injectLinkerd(p));
    for (const pod of pods) {
        const targets = jobs.flatMap((j) => mm.scrapeTargets(j, [pod]));
        if (pod.containers.some((c) => m.ourService(c.image))) {
            const admin = adminPort(pod);
            assert.deepEqual(targets.map((t) => `${t.port} ${t.path}`), [`${admin} ${metricsAt}`], `${pod.name}: one target, the admin port at ${metricsAt}`);
            assert.equal(targets[0].labels.namespace, m.NAMESPACE, `${pod.name}: namespace label`);
            assert.equal(targets[0].labels.app, pod.labels.app, `${pod.name}: app label`);
            assert.equal(targets[0].labels.pod, pod.name, `${pod.name}: pod label`);
        } else {
            assert.deepEqual(targets, [], `${pod.name}: scraped, though it serves no metrics`);
        }
    }
    // The admin port stays under the cluster's default policy: no Server of the overlay takes it.
    for (const s of m.ofKind(objects, 'Server')) {
        for (const pod of pods.filter((p) => m.selects(s.spec.podSelector, p.labels))) {
            assert.notEqual(m.resolvePort(s.spec.port, pod.containers), adminPort(pod), `Server ${s.metadata.name} takes the admin port: viz's Prometheus would need an authorization`);
        }
    }
});

// ---------------------------------------------------------------------------------------------
// The labels the dashboard may use beyond a metric's own: those every mesh's scrape attaches.

/** Target labels of our pods under each mesh's scrape: the names all share, and their values. */
function scrapeLabels(ctx) {
    const setups = [
        mm.podsOf(ctx.renderings[ISTIO]).map((p) => mm.injectIstio(p, ctx.istioOperator.spec.meshConfig || {})),
        mm.podsOf(ctx.renderings[AMBIENT]),
    ].map((pods) => pods.flatMap((p) => mm.scrapeTargets(mm.ISTIO_ADDON_POD_JOB, [p])));
    setups.push(mm.podsOf(ctx.renderings[LINKERD]).map((p) => mm.injectLinkerd(p)).flatMap((p) => ctx.vizValues.prometheus.scrapeConfigs.flatMap((j) => mm.scrapeTargets(j, [p]))));
    const names = setups.map((targets) => new Set(targets.flatMap((t) => Object.keys(t.labels))));
    const shared = [...names[0]].filter((n) => names.every((s) => s.has(n)));
    const values = {};
    for (const n of shared) values[n] = [...new Set(setups.flat().map((t) => t.labels[n]))];
    // pod and instance name one pod each: any value.
    for (const n of ['pod', 'instance']) if (n in values) values[n] = null;
    return values;
}

// ---------------------------------------------------------------------------------------------
// The dashboard.

function dashboardOf(ctx) {
    let d;
    try {
        d = JSON.parse(ctx.dashboardText);
    } catch (e) {
        assert.fail(`${FILES.dashboard}: not JSON: ${e.message}`);
    }
    return d;
}
const flatPanels = (d) => (d.panels || []).flatMap((p) => [p, ...(p.panels || [])]);
const queryPanels = (d) => flatPanels(d).filter((p) => p.type !== 'row');

check('the dashboard is a Grafana dashboard: JSON, a Prometheus datasource variable every panel uses, panels that do not overlap', (ctx) => {
    const d = dashboardOf(ctx);
    assert.ok(d.uid && d.title, 'uid and title');
    assert.ok(Number.isInteger(d.schemaVersion), 'schemaVersion');
    const vars = (d.templating && d.templating.list) || [];
    const ds = vars.find((v) => v.type === 'datasource');
    assert.ok(ds && ds.query === 'prometheus', 'a datasource variable of type prometheus');
    const ref = `\${${ds.name}}`;
    const ids = new Set();
    const cells = new Set();
    for (const p of flatPanels(d)) {
        assert.ok(Number.isInteger(p.id) && !ids.has(p.id), `panel id ${p.id} unique`);
        ids.add(p.id);
        const g = p.gridPos;
        assert.ok(g && g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0 && g.y >= 0, `panel ${p.id}: gridPos within 24 columns`);
        for (let x = g.x; x < g.x + g.w; x++) {
            for (let y = g.y; y < g.y + g.h; y++) {
                assert.ok(!cells.has(`${x},${y}`), `panel ${p.id} "${p.title}" overlaps another`);
                cells.add(`${x},${y}`);
            }
        }
    }
    const panels = queryPanels(d);
    assert.ok(panels.length > 0);
    for (const p of panels) {
        assert.deepEqual(p.datasource, { type: 'prometheus', uid: ref }, `panel "${p.title}": datasource ${ref}`);
        assert.ok((p.targets || []).length > 0, `panel "${p.title}": no query`);
        const refIds = new Set();
        for (const t of p.targets) {
            assert.deepEqual(t.datasource, { type: 'prometheus', uid: ref }, `panel "${p.title}" ${t.refId}: datasource`);
            assert.ok(t.refId && !refIds.has(t.refId), `panel "${p.title}": refId ${t.refId}`);
            refIds.add(t.refId);
            assert.equal(typeof t.expr, 'string', `panel "${p.title}" ${t.refId}: expr`);
        }
    }
});

/** Checks one label matcher's value against the values a label can have (null: any). */
function matcherFits(mt, values, where) {
    if (!values || mt.op === '!=' || mt.op === '!~') return;
    if (mt.op === '=') assert.ok(values.includes(mt.value), `${where}: ${mt.label}="${mt.value}" matches no series (${mt.label} is one of ${values.join(', ')})`);
    else assert.ok(values.some((v) => mm.compileRegex(mt.value).test(v)), `${where}: ${mt.label}=~"${mt.value}" matches no series`);
}

check('every dashboard query names only metrics the services or the meshes really expose, with labels those series have', (ctx) => {
    const d = dashboardOf(ctx);
    const families = mm.exposedMetrics(ctx.sources);
    const routes = mm.routesByService(ctx.sources);
    const scrape = scrapeLabels(ctx);
    const apps = scrape.app;
    // Series name -> {labels: {name: values|null}, services}
    const series = {};
    for (const [name, f] of Object.entries(families)) {
        for (const [s, extra] of Object.entries(mm.seriesNames(name, f))) {
            const labels = { ...f.labels, ...scrape };
            for (const e of extra) labels[e] = null;
            if ('route' in f.labels) labels.route = [...new Set([...f.services].flatMap((svc) => routes[svc]))];
            // The app label of a series: the apps of the services that expose it.
            labels.app = apps.filter((a) => f.services.has(a));
            series[s] = { labels, own: true };
        }
    }
    for (const [name, f] of Object.entries(mm.MESH_METRICS)) {
        series[name] = { labels: Object.fromEntries(f.labels.map((l) => [l, (f.values || {})[l] || null])), own: false };
        if (series[name].labels.namespace !== undefined) series[name].labels.namespace = [m.NAMESPACE];
    }
    let own = 0;
    for (const p of queryPanels(d)) {
        for (const t of p.targets) {
            const where = `panel "${p.title}" ${t.refId}`;
            let q;
            try {
                q = mm.parsePromQL(t.expr);
            } catch (e) {
                assert.fail(`${where}: ${e.message}`);
            }
            assert.ok(q.selectors.length > 0, `${where}: no metric`);
            const labelsInQuery = new Set();
            for (const sel of q.selectors) {
                const s = series[sel.name];
                assert.ok(s, `${where}: ${sel.name} is exposed by no service and is no mesh metric the dashboard may use`);
                if (s.own) own++;
                for (const l of Object.keys(s.labels)) labelsInQuery.add(l);
                for (const mt of sel.matchers) {
                    assert.ok(mt.label in s.labels, `${where}: ${sel.name} has no label ${mt.label} (it has ${Object.keys(s.labels).sort().join(', ')})`);
                    matcherFits(mt, s.labels[mt.label], `${where}: ${sel.name}`);
                }
            }
            for (const g of q.grouping) assert.ok(labelsInQuery.has(g), `${where}: groups by ${g}, a label none of its series has`);
            // Legends name labels the query keeps.
            for (const [, l] of (t.legendFormat || '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
                assert.ok(q.grouping.includes(l) || (!q.functions.some((f) => ['sum', 'count', 'avg', 'min', 'max'].includes(f)) && labelsInQuery.has(l)), `${where}: legend {{${l}}} names a label the query does not keep`);
            }
        }
    }
    assert.ok(own > 0, 'the dashboard shows the catalog\'s own metrics');
});

/** Does some panel query metric `name`, keeping `by` labels (a sum by them), with matchers? */
function findQuery(d, name, by = [], matchers = {}) {
    return queryPanels(d).some((p) => p.targets.some((t) => {
        let q;
        try { q = mm.parsePromQL(t.expr); } catch { return false; }
        const sel = q.selectors.find((s) => s.name === name);
        return sel && by.every((b) => q.grouping.includes(b)) &&
            Object.entries(matchers).every(([l, v]) => sel.matchers.some((x) => x.label === l && x.op === '=' && x.value === v)) &&
            (q.functions.includes('rate') || q.functions.includes('irate'));
    }));
}

check('the dashboard shows the views the walkthrough promises: per route, by outcome, left out, injected faults, and each mesh\'s view of the same calls', (ctx) => {
    const d = dashboardOf(ctx);
    const views = [
        ['request rate per route', 'http_server_requests_total', ['route']],
        ['latency per route', 'http_server_request_duration_seconds_bucket', ['route', 'le']],
        ['playlists-api\'s calls to videos-api by outcome', 'http_client_requests_total', ['outcome'], { peer: 'videos-api' }],
        ['videos left out per second', 'playlists_videos_omitted_total'],
        ['injected faults per second', 'fault_injected_failures_total'],
        ['Istio: the calls to videos-api by response code', 'istio_requests_total', ['response_code'], { destination_service_name: 'videos-api' }],
        ['Linkerd: the calls to videos-api after retries', 'outbound_http_route_request_statuses_total', ['http_status'], { parent_name: 'videos-api' }],
        ['Linkerd: every try', 'outbound_http_route_backend_response_statuses_total', ['http_status'], { parent_name: 'videos-api' }],
    ];
    for (const [what, name, by, matchers] of views) assert.ok(findQuery(d, name, by, matchers), `no panel shows ${what} (${name}${by && by.length ? ` by ${by.join(', ')}` : ''}, as a rate)`);
    for (const p of queryPanels(d)) {
        for (const t of p.targets) {
            const q = mm.parsePromQL(t.expr);
            // A counter is shown as a rate, never raw; a histogram through histogram_quantile.
            for (const s of q.selectors) {
                if (/_(total|bucket)$/.test(s.name)) assert.ok(q.functions.some((f) => ['rate', 'irate', 'increase'].includes(f)), `panel "${p.title}": ${s.name} without rate()`);
                if (/_bucket$/.test(s.name)) {
                    assert.ok(q.functions.includes('histogram_quantile'), `panel "${p.title}": ${s.name} without histogram_quantile()`);
                    assert.ok(q.grouping.includes('le'), `panel "${p.title}": histogram_quantile over ${s.name} needs the le label kept`);
                }
            }
        }
    }
});

// ---------------------------------------------------------------------------------------------
// Grafana for Linkerd, and the dashboard's ConfigMap.

check('Linkerd\'s Grafana: meshed, allowed into viz\'s Prometheus, its datasource and dashboard sidecar pointing at the right places', (ctx) => {
    const v = ctx.grafanaValues;
    for (const k of Object.keys(v)) assert.ok(GRAFANA_VALUES.includes(k), `${FILES.grafanaValues}: ${k} is not a value of the grafana chart ${GRAFANA_CHART.version}`);
    assert.equal((v.podAnnotations || {})['linkerd.io/inject'], 'enabled', 'Grafana must be meshed: viz\'s Prometheus admits only meshed clients it authorizes');
    const sources = v.datasources['datasources.yaml'].datasources;
    const prom = sources.filter((s) => s.type === 'prometheus');
    assert.equal(prom.length, 1, 'one Prometheus datasource');
    const url = new URL(prom[0].url);
    assert.equal(url.hostname, `${mm.VIZ_PROMETHEUS.service}.${mm.VIZ_PROMETHEUS.namespace}.svc.cluster.local`, 'the datasource is viz\'s Prometheus');
    assert.equal(Number(url.port), mm.VIZ_PROMETHEUS.port, 'viz\'s Prometheus port');
    assert.equal(prom[0].isDefault, true, 'the default datasource (what the dashboard\'s variable starts on)');
    // The dashboard sidecar finds the overlay's ConfigMap.
    const sc = v.sidecar.dashboards;
    assert.equal(sc.enabled, true, 'the dashboard sidecar');
    const cms = m.ofKind(ctx.renderings[LINKERD], 'ConfigMap').filter((c) => (c.metadata.labels || {})[sc.label] !== undefined &&
        (!sc.labelValue || c.metadata.labels[sc.label] === String(sc.labelValue)));
    assert.equal(cms.length, 1, `one ConfigMap in the Linkerd overlay labelled ${sc.label}=${sc.labelValue}`);
    const namespaces = [].concat(sc.searchNamespace || []);
    assert.ok(namespaces.includes(cms[0].metadata.namespace) || namespaces.includes('ALL'), `sidecar.dashboards.searchNamespace must include ${cms[0].metadata.namespace}`);
    const data = Object.values(cms[0].data || {});
    assert.equal(data.length, 1);
    assert.equal(data[0], ctx.dashboardText, `the ConfigMap holds ${FILES.dashboard} byte for byte`);
    assert.equal(ctx.dashboardComponent.kind, 'Component');
    assert.equal(ctx.dashboardComponent.configMapGenerator[0].options.disableNameSuffixHash, true, 'a fixed ConfigMap name: a renamed copy would stay behind after an apply and load the dashboard twice');
    // The authorization names the chart's ServiceAccount, in the namespace the doc installs into.
    const install = /helm install (\S+) (\S+) --version (\S+) -n (\S+)/.exec(ctx.doc);
    assert.ok(install, `${FILES.doc}: the helm install command`);
    const [, release, chart, version, namespace] = install;
    assert.equal(chart, GRAFANA_CHART.name);
    assert.equal(version, GRAFANA_CHART.version, `${FILES.doc}: the chart version the values are written for`);
    assert.ok(ctx.doc.includes(`helm repo add grafana-community ${GRAFANA_CHART.repo}`), `${FILES.doc}: helm repo add for ${GRAFANA_CHART.repo}`);
    // grafana.fullname: the release name when it contains the chart's name.
    const sa = (v.serviceAccount && v.serviceAccount.name) || (release.includes('grafana') ? release : `${release}-grafana`);
    const a = ctx.grafanaAuthz;
    prepare([a]);
    assert.deepEqual(validateObject(a), [], `${FILES.grafanaAuthz}: Linkerd's AuthorizationPolicy schema`);
    assert.equal(a.metadata.namespace, mm.VIZ_PROMETHEUS.namespace);
    assert.deepEqual([a.spec.targetRef.kind, a.spec.targetRef.name], ['Server', mm.VIZ_PROMETHEUS.server], 'the Server that guards viz\'s Prometheus');
    assert.deepEqual(a.spec.requiredAuthenticationRefs.map((r) => `${r.kind} ${r.namespace}/${r.name}`), [`ServiceAccount ${namespace}/${sa}`], 'the Grafana release\'s ServiceAccount');
});

// ---------------------------------------------------------------------------------------------
// The walkthrough.

check('docs/metrics.md: the commands use the files as they are, the versions the walkthrough names, and honest residual rates', (ctx) => {
    const doc = ctx.doc;
    for (const [, p] of doc.matchAll(/\b(deploy\/kubernetes\/[\w./-]+)/g)) {
        assert.ok(fs.existsSync(path.join(m.REPO, p)), `${FILES.doc}: ${p} does not exist`);
    }
    assert.ok(doc.includes(`kubectl apply -k ${AMBIENT_METRICS}`), `${FILES.doc}: ambient mode needs \`kubectl apply -k ${AMBIENT_METRICS}\``);
    assert.ok(doc.includes(`linkerd viz install --values ${FILES.vizValues} | kubectl apply -f -`), `${FILES.doc}: linkerd viz install with ${FILES.vizValues}`);
    assert.ok(doc.includes('kubectl -n linkerd-viz rollout restart deploy/prometheus'), `${FILES.doc}: viz's Prometheus reads its config once (subPath mount): restart it`);
    assert.ok(doc.includes(`kubectl apply -f ${FILES.grafanaAuthz}`), `${FILES.doc}: the Grafana authorization`);
    assert.ok(doc.includes(`-f ${FILES.grafanaValues}`), `${FILES.doc}: helm install with ${FILES.grafanaValues}`);
    assert.ok(doc.includes(FILES.dashboard), `${FILES.doc}: names the dashboard file`);
    // The versions: those of the walkthrough.
    for (const version of ['1.30.3', 'edge-26.6.3']) {
        assert.ok(ctx.walkthrough.includes(version), `${FILES.walkthrough} no longer names ${version}`);
        assert.ok(doc.includes(version), `${FILES.doc}: names ${version}, as the walkthrough does`);
    }
    assert.ok(doc.includes('/tmp/istio-1.30.3/samples/addons/grafana.yaml'), `${FILES.doc}: the Grafana add-on of the release the walkthrough downloads`);
    // Residual rates: the numbers the manifests give (lib/checks.js computes them for the walkthrough).
    const { residualRates } = require('./checks');
    const { rates } = residualRates({ ...loadWalkthroughContext(ctx) });
    const pct = (x) => `${Number((x * 100).toPrecision(2))}%`;
    for (const r of Object.values(rates)) {
        assert.ok(doc.includes(pct(r.call)), `${FILES.doc}: a call still fails ${pct(r.call)} of the time after the retries`);
        assert.ok(doc.includes(pct(r.page)), `${FILES.doc}: a page still misses a video ${pct(r.page)} of the time`);
    }
});

/** The part of lib/checks.js's context residualRates() reads: the renderings and the README. */
function loadWalkthroughContext(ctx) {
    const renderings = { ...ctx.renderings };
    for (const dir of ['deploy/kubernetes/overlays/linkerd/legacy']) if (!renderings[dir]) renderings[dir] = m.render(dir);
    return { renderings, readme: m.readRepo('README.md'), doc: ctx.walkthrough };
}

/** The checks that fail on a context, with their errors. */
function metricsFailures(ctx) {
    const failed = [];
    for (const c of CHECKS) {
        try {
            c.run(ctx);
        } catch (error) {
            failed.push({ name: c.name, error });
        }
    }
    return failed;
}

module.exports = { CHECKS, loadMetricsContext, copyMetricsContext, metricsFailures, FILES, LINKERD, ISTIO, ISTIO_API, AMBIENT, AMBIENT_METRICS };
