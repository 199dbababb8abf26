'use strict';
// The catalog's metrics where the meshes' users look (issue 16, point 3; docs/metrics.md): the
// dashboard's queries against what the services expose (read from the C++ sources) and what the
// meshes expose, what each mesh's Prometheus really scrapes of the rendered pods, Linkerd's
// Grafana set-up, the walkthrough's commands and numbers (lib/metrics-checks.js). Then the same
// checks on copies with one realistic mistake each: every mistake must fail the check meant to
// catch it, and every check must catch at least one mistake.
const test = require('node:test');
const assert = require('node:assert/strict');
const m = require('../lib/manifests');
const mm = require('../lib/metrics-model');
const { CHECKS, loadMetricsContext, copyMetricsContext, metricsFailures, FILES, LINKERD, ISTIO, ISTIO_API, AMBIENT, AMBIENT_METRICS } = require('../lib/metrics-checks');
const { validateObject, prepare } = require('../lib/validate');

const ctx = loadMetricsContext();
for (const c of CHECKS) test(c.name, () => c.run(ctx));

test('the objects the metrics set-up adds validate against their schemas, unknown fields rejected', () => {
    const objects = [...ctx.renderings[AMBIENT_METRICS], ctx.grafanaAuthz, ...m.ofKind(ctx.renderings[LINKERD], 'ConfigMap')];
    prepare(objects);
    assert.deepEqual(objects.flatMap((o) => validateObject(o)), []);
    // The validator sees them: a misspelt field fails.
    const pa = structuredClone(m.ofKind(ctx.renderings[AMBIENT_METRICS], 'PeerAuthentication')[0]);
    pa.spec.portLevelMTLS = pa.spec.portLevelMtls;
    delete pa.spec.portLevelMtls;
    assert.ok(validateObject(pa).some((p) => /portLevelMTLS: unknown field/.test(p)), 'a misspelt portLevelMtls is reported');
    const authz = structuredClone(ctx.grafanaAuthz);
    authz.spec.requiredAuthenticationRef = authz.spec.requiredAuthenticationRefs;
    assert.ok(validateObject(authz).some((p) => /requiredAuthenticationRef\)/.test(p)), 'a misspelt Linkerd field is reported');
});

test('the model reads the metrics the README lists from the C++ sources', () => {
    const f = mm.exposedMetrics();
    assert.deepEqual(Object.keys(f).sort(), ['build_info', 'fault_injected_failures_total', 'http_client_request_duration_seconds',
        'http_client_requests_total', 'http_server_request_duration_seconds', 'http_server_requests_total',
        'playlists_videos_omitted_total', 'redis_command_errors_total']);
    assert.deepEqual(f.http_client_requests_total.labels.outcome, ['ok', '4xx', '5xx', 'timeout', 'connection_error', 'invalid']);
    assert.deepEqual(Object.keys(f.http_server_requests_total.labels), ['route', 'status']);
    assert.deepEqual(Object.keys(f.build_info.labels), ['service', 'version']);
    assert.equal(f.http_server_request_duration_seconds.type, 'histogram');
    assert.deepEqual([...f.fault_injected_failures_total.services], ['videos-api']);
    const readme = m.readRepo('README.md');
    for (const name of Object.keys(f)) assert.ok(readme.includes(`\`${name}`), `README.md does not list ${name}`);
    assert.throws(() => mm.parsePromQL('sum(rate(x{a="b"[5m]))'), /bad label matcher|unclosed/);
    assert.throws(() => mm.parsePromQL('summ(rate(x[5m]))'), /unknown function summ/);
});

// ---------------------------------------------------------------------------------------------
// Mutations.

/** Rewrites the dashboard as its source file would change, and its ConfigMap with it. */
function editDashboard(c, fn) {
    const d = JSON.parse(c.dashboardText);
    fn(d);
    setDashboardText(c, `${JSON.stringify(d, null, 2)}\n`);
}
function setDashboardText(c, text) {
    c.dashboardText = text;
    for (const cm of m.ofKind(c.renderings[LINKERD], 'ConfigMap')) {
        if (cm.metadata.name === 'servicemesh-demo-dashboard') cm.data = { [Object.keys(cm.data)[0]]: text };
    }
}
/** Replaces text in the dashboard's queries, failing if it is not there (so the mutation is real). */
function editExpr(c, from, to) {
    let found = false;
    editDashboard(c, (d) => {
        for (const p of d.panels) {
            for (const t of p.targets || []) {
                if (t.expr.includes(from)) {
                    t.expr = t.expr.split(from).join(to);
                    found = true;
                }
            }
        }
    });
    assert.ok(found, `mutation: "${from}" in no query`);
}
const panel = (d, title) => {
    const p = d.panels.find((x) => x.title.startsWith(title));
    assert.ok(p, `mutation: no panel "${title}"`);
    return p;
};
/** Applies fn to the object kind/name in every given rendering that has it. */
function edit(c, dirs, kind, name, fn) {
    let found = 0;
    for (const dir of dirs) {
        const o = m.named(c.renderings[dir], kind, name);
        if (o) {
            fn(o);
            found++;
        }
    }
    assert.ok(found, `mutation target ${kind}/${name} not found`);
}
const annotations = (d) => d.spec.template.metadata.annotations;
const APP = ['deploy/kubernetes/base', LINKERD, ISTIO, ISTIO_API, AMBIENT, 'deploy/kubernetes/overlays/ingress-kong'];
const vizJob = (c) => c.vizValues.prometheus.scrapeConfigs[0];
function docReplace(c, from, to) {
    assert.ok(c.doc.includes(from), `mutation: "${from}" not in ${FILES.doc}`);
    c.doc = c.doc.split(from).join(to);
}

const NAMES = 'every dashboard query names only';
const VIEWS = 'the dashboard shows the views';
const GRAFANA_JSON = 'the dashboard is a Grafana dashboard';
const ANNOTATIONS = 'every pod of our services asks to be scraped';
const SIDECARS = 'Istio sidecars';
const AMBIENT_CHECK = 'Istio ambient';
const LINKERD_CHECK = 'Linkerd: the viz values';
const GRAFANA = 'Linkerd\'s Grafana';
const DOC = 'docs/metrics.md';

const MUTATIONS = [
    // The dashboard's queries.
    [NAMES, 'a panel queries a metric no service exposes (playlists_videos_missing_total)', (c) =>
        editExpr(c, 'playlists_videos_omitted_total', 'playlists_videos_missing_total')],
    [NAMES, 'calls grouped by a label the metric does not have (result instead of outcome)', (c) =>
        editExpr(c, 'sum by (outcome) (rate(http_client_requests_total', 'sum by (result) (rate(http_client_requests_total')],
    [NAMES, 'a peer no series has (peer="videos")', (c) =>
        editExpr(c, 'http_client_requests_total{namespace="servicemesh-demo", peer="videos-api"}', 'http_client_requests_total{namespace="servicemesh-demo", peer="videos"}')],
    [NAMES, 'an outcome the service never counts (outcome="connect_error")', (c) =>
        editExpr(c, 'http_client_requests_total{namespace="servicemesh-demo", peer="videos-api"}', 'http_client_requests_total{namespace="servicemesh-demo", peer="videos-api", outcome="connect_error"}')],
    [NAMES, 'a route the services do not have (route="/videos")', (c) =>
        editExpr(c, 'http_server_request_duration_seconds_bucket{namespace="servicemesh-demo"}', 'http_server_request_duration_seconds_bucket{namespace="servicemesh-demo", route="/videos"}')],
    [NAMES, 'the wrong namespace (namespace="default")', (c) =>
        editExpr(c, 'fault_injected_failures_total{namespace="servicemesh-demo"}', 'fault_injected_failures_total{namespace="default"}')],
    [NAMES, 'a label no mesh scrape attaches (service_name on the app\'s metrics)', (c) =>
        editExpr(c, 'sum by (app) (rate(redis_command_errors_total', 'sum by (service_name) (rate(redis_command_errors_total')],
    [NAMES, 'an Istio label misspelt (destination_svc_name)', (c) =>
        editExpr(c, 'source_workload="playlists-api", destination_service_name="videos-api"', 'source_workload="playlists-api", destination_svc_name="videos-api"')],
    [NAMES, 'Linkerd\'s ServiceProfile-era metric (route_response_total), which the Gateway API routes do not produce', (c) =>
        editExpr(c, 'outbound_http_route_request_statuses_total', 'route_response_total')],
    [NAMES, 'a legend names a label the sum drops', (c) =>
        editDashboard(c, (d) => { panel(d, 'Videos left out').targets[0].legendFormat = '{{pod}}'; })],
    [VIEWS, 'latency quantile without le kept (histogram_quantile over nothing)', (c) =>
        editExpr(c, 'sum by (app, route, le) (rate(http_server_request_duration_seconds_bucket', 'sum by (app, route) (rate(http_server_request_duration_seconds_bucket')],
    [VIEWS, 'injected faults as a raw counter, not per second', (c) =>
        editExpr(c, 'sum(rate(fault_injected_failures_total{namespace="servicemesh-demo"}[$__rate_interval]))', 'sum(fault_injected_failures_total{namespace="servicemesh-demo"})')],
    [VIEWS, 'the panel of calls by outcome deleted', (c) =>
        editDashboard(c, (d) => { d.panels = d.panels.filter((p) => !p.title.startsWith('playlists-api\'s calls to videos-api by outcome')); })],
    [GRAFANA_JSON, 'the dashboard file is cut short (not JSON)', (c) => setDashboardText(c, c.dashboardText.slice(0, -3))],
    [GRAFANA_JSON, 'a panel with a hard-coded datasource uid', (c) =>
        editDashboard(c, (d) => { panel(d, 'Injected faults').datasource = { type: 'prometheus', uid: 'prometheus' }; })],
    [GRAFANA_JSON, 'two panels on the same place', (c) =>
        editDashboard(c, (d) => { panel(d, 'Injected faults').gridPos = { ...panel(d, 'Videos left out').gridPos }; })],
    // The pods' annotations.
    [ANNOTATIONS, 'the scrape port is the serving port, not the admin port', (c) =>
        edit(c, APP, 'Deployment', 'videos-api', (o) => { annotations(o)['prometheus.io/port'] = '10010'; })],
    [ANNOTATIONS, 'the annotation path wrong (/metric)', (c) =>
        edit(c, APP, 'Deployment', 'playlists-api', (o) => { annotations(o)['prometheus.io/path'] = '/metric'; })],
    [ANNOTATIONS, 'videos-web v2 without the scrape annotation', (c) =>
        edit(c, [LINKERD, ISTIO, ISTIO_API, AMBIENT], 'Deployment', 'videos-web-v2', (o) => { delete annotations(o)['prometheus.io/scrape']; })],
    // Istio with sidecars.
    [SIDECARS, 'metrics merging turned off in the install', (c) => { c.istioOperator.spec.meshConfig.enablePrometheusMerge = false; }],
    [SIDECARS, 'metrics merging turned off for videos-api\'s pods', (c) =>
        edit(c, [ISTIO, ISTIO_API], 'Deployment', 'videos-api', (o) => { annotations(o)['prometheus.istio.io/merge-metrics'] = 'false'; })],
    // Ambient mode.
    [AMBIENT_CHECK, 'ambient add-on without videos-api\'s PeerAuthentication (ztunnel refuses its scrape)', (c) => {
        c.renderings[AMBIENT_METRICS] = c.renderings[AMBIENT_METRICS].filter((o) => !(o.kind === 'PeerAuthentication' && o.metadata.name === 'videos-api-admin-port'));
    }],
    [AMBIENT_CHECK, 'ambient add-on makes the whole workload PERMISSIVE', (c) =>
        edit(c, [AMBIENT_METRICS], 'PeerAuthentication', 'playlists-api-admin-port', (o) => { o.spec.mtls.mode = 'PERMISSIVE'; })],
    [AMBIENT_CHECK, 'ambient add-on\'s rule without `to` (every port open to everyone)', (c) =>
        edit(c, [AMBIENT_METRICS], 'AuthorizationPolicy', 'videos-web-admin-port', (o) => { delete o.spec.rules[0].to; })],
    [AMBIENT_CHECK, 'ambient add-on opens the http port instead of the admin port', (c) =>
        edit(c, [AMBIENT_METRICS], 'PeerAuthentication', 'videos-api-admin-port', (o) => { o.spec.portLevelMtls = { 10010: { mode: 'PERMISSIVE' } }; })],
    [AMBIENT_CHECK, 'ambient add-on admits Prometheus\'s service account (it has no identity outside the mesh)', (c) =>
        edit(c, [AMBIENT_METRICS], 'AuthorizationPolicy', 'videos-api-admin-port', (o) => { o.spec.rules[0].from = [{ source: { principals: ['cluster.local/ns/istio-system/sa/prometheus'] } }]; })],
    [AMBIENT_CHECK, 'ambient add-on policy as L7 (targetRefs), which ztunnel ignores', (c) =>
        edit(c, [AMBIENT_METRICS], 'AuthorizationPolicy', 'playlists-api-admin-port', (o) => { delete o.spec.selector; o.spec.targetRefs = [{ kind: 'Service', group: '', name: 'playlists-api' }]; })],
    // Linkerd.
    [LINKERD_CHECK, 'viz job keeps the port named http', (c) => {
        vizJob(c).relabel_configs.find((r) => r.regex === 'admin').regex = 'http';
    }],
    [LINKERD_CHECK, 'viz job named like viz\'s own linkerd-proxy job', (c) => { vizJob(c).job_name = 'linkerd-proxy'; }],
    [LINKERD_CHECK, 'viz job looks in the default namespace', (c) => { vizJob(c).kubernetes_sd_configs[0].namespaces.names = ['default']; }],
    [LINKERD_CHECK, 'viz values at a key the chart does not read (scrape_configs)', (c) => {
        c.vizValues.prometheus = { scrape_configs: c.vizValues.prometheus.scrapeConfigs };
    }],
    [LINKERD_CHECK, 'viz job keeps every container port (the proxy\'s and the http port scraped too)', (c) => {
        vizJob(c).relabel_configs = vizJob(c).relabel_configs.filter((r) => r.regex !== 'admin');
    }],
    [LINKERD_CHECK, 'a Linkerd Server takes the admin port (viz\'s Prometheus refused)', (c) =>
        edit(c, [LINKERD], 'Server', 'videos-api-http', (o) => { o.spec.port = 'admin'; })],
    // Grafana for Linkerd.
    [GRAFANA, 'Grafana\'s datasource points at Istio\'s Prometheus', (c) => {
        c.grafanaValues.datasources['datasources.yaml'].datasources[0].url = 'http://prometheus.istio-system.svc.cluster.local:9090';
    }],
    [GRAFANA, 'Grafana not meshed (viz\'s Prometheus refuses it)', (c) => { delete c.grafanaValues.podAnnotations; }],
    [GRAFANA, 'the authorization names another ServiceAccount', (c) => { c.grafanaAuthz.spec.requiredAuthenticationRefs[0].name = 'grafana-sa'; }],
    [GRAFANA, 'the dashboard sidecar searches Grafana\'s own namespace only', (c) => { c.grafanaValues.sidecar.dashboards.searchNamespace = ['grafana']; }],
    [GRAFANA, 'the ConfigMap holds an older copy of the dashboard', (c) => {
        const cm = m.named(c.renderings[LINKERD], 'ConfigMap', 'servicemesh-demo-dashboard');
        const key = Object.keys(cm.data)[0];
        cm.data[key] = cm.data[key].replace('"version": 1', '"version": 0');
    }],
    [GRAFANA, 'a misspelt chart value (podAnnotation)', (c) => {
        c.grafanaValues.podAnnotation = c.grafanaValues.podAnnotations;
        delete c.grafanaValues.podAnnotations;
    }],
    [GRAFANA, 'the walkthrough installs the deprecated chart version', (c) => docReplace(c, '--version 12.11.1', '--version 10.5.15')],
    // The walkthrough.
    [DOC, 'walkthrough forgets the ambient add-on', (c) => docReplace(c, 'kubectl apply -k deploy/kubernetes/overlays/istio-ambient/metrics', 'kubectl apply -k deploy/kubernetes/overlays/istio-ambient')],
    [DOC, 'walkthrough does not restart viz\'s Prometheus (the old config stays)', (c) => docReplace(c, 'kubectl -n linkerd-viz rollout restart deploy/prometheus\n', '')],
    [DOC, 'walkthrough\'s residual rate ten times too high', (c) => docReplace(c, '0.0017%', '0.017%')],
    [DOC, 'walkthrough names a file that does not exist', (c) => docReplace(c, 'overlays/linkerd/metrics/grafana-authorization.yaml', 'overlays/linkerd/metrics/grafana-authz.yaml')],
];

test('every realistic mistake in the metrics set-up fails the check meant for it, and every check catches one', () => {
    assert.deepEqual(metricsFailures(copyMetricsContext(ctx)).map((f) => `${f.name}: ${f.error.message}`), []);
    const missed = [];
    const caughtBy = new Set();
    for (const [expected, name, mutate] of MUTATIONS) {
        const c = copyMetricsContext(ctx);
        mutate(c);
        const failed = metricsFailures(c).map((f) => f.name);
        const hit = failed.find((f) => f.startsWith(expected));
        if (hit) caughtBy.add(hit);
        else missed.push(`${name} (expected to fail "${expected}…", failed: ${failed.join('; ') || 'nothing'})`);
    }
    console.log(`metrics mutation check: ${MUTATIONS.length - missed.length} of ${MUTATIONS.length} realistic mistakes caught`);
    assert.deepEqual(missed, [], 'mistakes the metrics checks miss');
    assert.deepEqual(CHECKS.map((c) => c.name).filter((n) => !caughtBy.has(n)), [], 'checks no mistake makes fail');
});
