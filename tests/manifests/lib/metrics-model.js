'use strict';
/**
 * What the metrics checks (lib/metrics-checks.js) reason with, apart from the files they check:
 *
 * - the metrics the services really expose, read from the C++ sources (names, types, label names,
 *   label values where the source fixes them), so that a dashboard cannot ask for a metric or a
 *   label that no service has;
 * - the mesh metrics the dashboard may show beside them, with the labels each really carries, at
 *   the versions the walkthrough names (sources next to each entry);
 * - a small PromQL reader: the selectors (metric name and label matchers) and grouping labels of
 *   an expression, which is all a name-and-label check needs;
 * - Prometheus's target discovery (kubernetes_sd_configs, role pod) and relabelling, to compute
 *   what a scrape job really scrapes from the rendered pods: address, path and target labels;
 * - what injection does to a pod before Prometheus sees it (Istio's sidecar and its metrics
 *   merging, Linkerd's proxy), and whether ztunnel lets a plaintext scrape through in ambient mode.
 */
const fs = require('node:fs');
const path = require('node:path');
const m = require('./manifests');

// ---------------------------------------------------------------------------------------------
// The services' own metrics, from the C++ sources.

/** The C++ sources the metrics come from: common/src and every service's folder. */
function readSources() {
    const files = {};
    const add = (dir) => {
        for (const f of fs.readdirSync(path.join(m.REPO, dir))) {
            if (/\.(cpp|hpp)$/.test(f)) files[`${dir}/${f}`] = m.readRepo(`${dir}/${f}`);
        }
    };
    add('common/src');
    for (const svc of m.SERVICES) add(`services/${svc}`);
    return files;
}

/** The text of a call's argument list, from the opening parenthesis at `open` (balanced). */
function callArguments(text, open) {
    let depth = 0;
    for (let i = open; i < text.length; i++) {
        if (text[i] === '"') {
            for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
        } else if (text[i] === '(') depth++;
        else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
    }
    throw new Error('unbalanced call');
}

/** Splits an argument list at its top-level commas. */
function splitArguments(args) {
    const out = [];
    let depth = 0;
    let start = 0;
    for (let i = 0; i < args.length; i++) {
        const c = args[i];
        if (c === '"') {
            for (i++; args[i] !== '"'; i++) if (args[i] === '\\') i++;
        } else if ('({['.includes(c)) depth++;
        else if (')}]'.includes(c)) depth--;
        else if (c === ',' && depth === 0) {
            out.push(args.slice(start, i).trim());
            start = i + 1;
        }
    }
    out.push(args.slice(start).trim());
    return out;
}

/** A string literal, or a `const std::string X = "..."` / `const char* X = "..."` of the same file. */
function stringValue(expr, text) {
    const lit = /^"([^"]*)"$/.exec(expr);
    if (lit) return lit[1];
    const id = /^\w+$/.exec(expr) && new RegExp(`(?:std::string|char\\s*\\*)\\s+${expr}\\s*=\\s*"([^"]*)"`).exec(text);
    return id ? id[1] : null;
}

/** Label values a C++ expression can take: a literal, an element of a literal array, or any (null). */
function labelValues(expr, text) {
    const s = stringValue(expr.trim(), text);
    if (s !== null) return [s];
    const indexed = /^(\w+)\[\w+\]$/.exec(expr.trim());
    if (indexed) {
        const arr = new RegExp(`\\b${indexed[1]}\\[\\]\\s*=\\s*\\{([^}]*)\\}`).exec(text);
        if (arr) return [...arr[1].matchAll(/"([^"]*)"/g)].map((x) => x[1]);
    }
    return null;
}

/** `{{"key", value}, ...}` as [{name, values}] (values null when the source does not fix them). */
function labelList(expr, text) {
    return [...(expr || '').matchAll(/\{\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*,\s*([^{}]+?)\s*\}/g)]
        .map(([, name, value]) => ({ name, values: labelValues(value, text) }));
}

/** The function a position lies in: the last definition line ("... name(" at column 0) before it. */
function enclosingFunction(text, at) {
    let found = null;
    for (const x of text.slice(0, at).matchAll(/^(?:[A-Za-z][^\n;(]*?[\s*&])?((?:[A-Za-z_]\w*::)*[A-Za-z_]\w*)\(/gm)) found = x[1];
    return found;
}

/** Which services run a metric registered in `file` inside `fn`. */
function servicesOf(file, fn, sources) {
    const own = /^services\/([^/]+)\//.exec(file);
    if (own) return [own[1]];
    // In common/: service_runtime belongs to every service (run_service); a free function to the
    // services whose sources call it.
    if (/^service_runtime::/.test(fn)) return [...m.SERVICES];
    const name = fn.replace(/^\w+::/, '');
    return m.SERVICES.filter((svc) => Object.entries(sources).some(([f, t]) => f.startsWith(`services/${svc}/`) && t.includes(`${name}(`)));
}

/**
 * Every metric family the services expose: {name: {type, labels: {label: values|null}, services}}.
 * Histograms expose name_bucket (with le), name_sum and name_count (seriesNames()).
 */
function exposedMetrics(sources = readSources()) {
    const families = {};
    const addFamily = (name, type, labels, services, where) => {
        if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`${where}: metric name ${name}`);
        const f = families[name] || (families[name] = { type, labels: {}, services: new Set() });
        if (f.type !== type) throw new Error(`${where}: ${name} is both ${f.type} and ${type}`);
        for (const l of labels) {
            const prev = f.labels[l.name];
            f.labels[l.name] = prev === undefined ? l.values : (prev && l.values ? [...new Set([...prev, ...l.values])] : null);
        }
        for (const s of services) f.services.add(s);
    };
    for (const [file, text] of Object.entries(sources)) {
        for (const call of text.matchAll(/(?<![:\w])(?:\w+\s*(?:\.|->)\s*)?(?:metrics\(\)\s*\.\s*)?add_(counter|histogram|info)\s*\(/g)) {
            const open = call.index + call[0].length - 1;
            const args = splitArguments(callArguments(text, open));
            const name = stringValue(args[0], text);
            if (name === null) throw new Error(`${file}: cannot read the metric name in add_${call[1]}(${args[0]}, ...)`);
            const type = { counter: 'counter', histogram: 'histogram', info: 'gauge' }[call[1]];
            const fn = enclosingFunction(text, call.index);
            addFamily(name, type, labelList(args[2], text), servicesOf(file, fn, sources), file);
        }
    }
    // The HTTP server's per-route metrics: http_server_metrics's constructor registers their
    // families with prometheus-cpp's builders (`x = prometheus::BuildCounter().Name("...")`), and
    // the series are added with their labels (`x->Add({{"route", ...}, ...})`).
    const runtime = Object.entries(sources).find(([, t]) => /\bhttp_server_metrics::http_server_metrics\s*\(/.test(t));
    if (!runtime) throw new Error('common/src: no http_server_metrics constructor');
    const built = [...runtime[1].matchAll(/(\w+)\s*(?:\(\s*&|=)\s*prometheus::Build(Counter|Histogram)\(\)\s*\.Name\("([^"]+)"\)/g)];
    if (built.length === 0) throw new Error(`${runtime[0]}: http_server_metrics registers no metric`);
    const servers = m.SERVICES.filter((svc) => Object.entries(sources).some(([f, t]) => f.startsWith(`services/${svc}/`) && /\bserve\s*\(/.test(t)));
    for (const [, variable, type, name] of built) {
        const labels = [...runtime[1].matchAll(new RegExp(`\\b${variable}(?:->|\\.)Add\\(\\s*(\\{\\{[\\s\\S]*?\\}\\})`, 'g'))]
            .flatMap((x) => labelList(x[1], runtime[1]));
        addFamily(name, type.toLowerCase(), labels, servers, runtime[0]);
    }
    return families;
}

/** The route label values each service uses: the route list it passes to serve(). */
function routesByService(sources = readSources()) {
    const routes = {};
    for (const svc of m.SERVICES) {
        const main = sources[`services/${svc}/main.cpp`] || '';
        const x = /\bserve\s*\(\s*\w+\s*,\s*(\{(?:"[^"]*"|[\s,])*\})/.exec(main);
        routes[svc] = x ? [...x[1].matchAll(/"([^"]*)"/g)].map((r) => r[1]) : [];
    }
    return routes;
}

/** The series names of a family as Prometheus stores them, each with the extra labels it has. */
function seriesNames(name, family) {
    if (family.type === 'histogram') return { [`${name}_bucket`]: ['le'], [`${name}_sum`]: [], [`${name}_count`]: [] };
    return { [name]: [] };
}

// ---------------------------------------------------------------------------------------------
// The mesh metrics the dashboard may show beside the catalog's, with the labels they carry.

const ISTIO_LABELS = ['reporter', 'source_workload', 'source_workload_namespace', 'source_principal', 'source_app',
    'source_version', 'source_canonical_service', 'destination_workload', 'destination_workload_namespace',
    'destination_principal', 'destination_app', 'destination_version', 'destination_service',
    'destination_service_name', 'destination_service_namespace', 'destination_canonical_service',
    'request_protocol', 'response_code', 'response_flags', 'connection_security_policy'];
/**
 * Istio 1.30.3: the standard metrics (istio.io, "Istio Standard Metrics": istio_requests_total, a
 * counter, istio_request_duration_milliseconds, a distribution, and their labels); reporter is
 * "source" or "destination" for sidecars and "waypoint" for a waypoint (what Kiali queries).
 * Linkerd edge-26.6.3 (2.20): the proxy's metrics as `linkerd viz stat` and `stat-outbound` query
 * them (viz/metrics-api, viz/cmd/stat-outbound.go), with the labels viz's linkerd-proxy scrape job
 * adds (namespace, pod, and deployment from linkerd.io/proxy-deployment).
 */
const MESH_METRICS = {
    istio_requests_total: { mesh: 'istio', labels: ISTIO_LABELS, values: { reporter: ['source', 'destination', 'waypoint'] } },
    istio_request_duration_milliseconds_bucket: { mesh: 'istio', labels: [...ISTIO_LABELS, 'le'], values: { reporter: ['source', 'destination', 'waypoint'] } },
    response_total: { mesh: 'linkerd', labels: ['namespace', 'pod', 'deployment', 'direction', 'classification', 'tls'], values: { direction: ['inbound', 'outbound'], classification: ['success', 'failure'] } },
    outbound_http_route_request_statuses_total: { mesh: 'linkerd', labels: ['namespace', 'pod', 'deployment', 'parent_name', 'parent_port', 'route_name', 'route_kind', 'http_status', 'error'] },
    outbound_http_route_backend_response_statuses_total: { mesh: 'linkerd', labels: ['namespace', 'pod', 'deployment', 'parent_name', 'parent_port', 'backend_name', 'backend_port', 'route_name', 'route_kind', 'http_status', 'error'] },
    outbound_http_route_retry_requests_total: { mesh: 'linkerd', labels: ['namespace', 'pod', 'deployment', 'parent_name', 'parent_port', 'route_name', 'route_kind'] },
    outbound_http_route_request_duration_seconds_bucket: { mesh: 'linkerd', labels: ['namespace', 'pod', 'deployment', 'parent_name', 'parent_port', 'route_name', 'route_kind', 'le'] },
};

// ---------------------------------------------------------------------------------------------
// PromQL, as far as names and labels go.

const FUNCTIONS = new Set(['abs', 'absent', 'absent_over_time', 'avg_over_time', 'ceil', 'changes', 'clamp',
    'clamp_max', 'clamp_min', 'count_over_time', 'delta', 'deriv', 'exp', 'floor', 'histogram_quantile',
    'idelta', 'increase', 'irate', 'label_join', 'label_replace', 'last_over_time', 'ln', 'log10', 'log2',
    'max_over_time', 'min_over_time', 'quantile_over_time', 'rate', 'resets', 'round', 'scalar', 'sort',
    'sort_desc', 'sqrt', 'sum_over_time', 'time', 'timestamp', 'vector']);
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values',
    'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const WORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);

function tokenize(expr) {
    const tokens = [];
    let i = 0;
    while (i < expr.length) {
        const c = expr[i];
        if (/\s/.test(c)) { i++; continue; }
        if (c === '"' || c === "'") {
            let j = i + 1;
            let s = '';
            while (j < expr.length && expr[j] !== c) {
                if (expr[j] === '\\') { s += expr[j + 1]; j += 2; } else s += expr[j++];
            }
            if (j >= expr.length) throw new Error(`unterminated string in ${expr}`);
            tokens.push({ t: 'str', v: s });
            i = j + 1;
            continue;
        }
        if (c === '[') {
            // A range or subquery: durations and Grafana's $__rate_interval, no names.
            const j = expr.indexOf(']', i);
            if (j < 0) throw new Error(`unclosed [ in ${expr}`);
            tokens.push({ t: 'range', v: expr.slice(i + 1, j) });
            i = j + 1;
            continue;
        }
        const ident = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i));
        if (ident) { tokens.push({ t: 'id', v: ident[0] }); i += ident[0].length; continue; }
        const num = /^(?:0x[0-9a-f]+|\d+(?:\.\d+)?(?:e[+-]?\d+)?|\.\d+)/i.exec(expr.slice(i));
        if (num) { tokens.push({ t: 'num', v: num[0] }); i += num[0].length; continue; }
        const variable = /^\$(?:\{\w+\}|\w+)/.exec(expr.slice(i));
        if (variable) { tokens.push({ t: 'var', v: variable[0] }); i += variable[0].length; continue; }
        const op = /^(?:=~|!~|!=|==|>=|<=|[-+*/%^=<>(){},])/.exec(expr.slice(i));
        if (!op) throw new Error(`unexpected "${c}" in ${expr}`);
        tokens.push({ t: 'op', v: op[0] });
        i += op[0].length;
    }
    return tokens;
}

/**
 * The selectors and grouping labels of a PromQL expression:
 * {selectors: [{name, matchers: [{label, op, value}]}], grouping: [label], functions: [name]}.
 */
function parsePromQL(expr) {
    const tokens = tokenize(expr);
    const out = { selectors: [], grouping: [], functions: [] };
    let depth = 0;
    const readMatchers = (i) => {
        const matchers = [];
        for (i++; tokens[i] && !(tokens[i].t === 'op' && tokens[i].v === '}'); i++) {
            if (tokens[i].t === 'op' && tokens[i].v === ',') continue;
            const [label, op, value] = [tokens[i], tokens[i + 1], tokens[i + 2]];
            if (!label || label.t !== 'id' || !op || !['=', '!=', '=~', '!~'].includes(op.v) || !value || value.t !== 'str') {
                throw new Error(`bad label matcher in ${expr}`);
            }
            matchers.push({ label: label.v, op: op.v, value: value.v });
            i += 2;
        }
        if (!tokens[i]) throw new Error(`unclosed { in ${expr}`);
        return [matchers, i];
    };
    for (let i = 0; i < tokens.length; i++) {
        const tok = tokens[i];
        const next = tokens[i + 1];
        const opens = next && next.t === 'op' && next.v === '(';
        if (tok.t === 'op' && tok.v === '(') depth++;
        else if (tok.t === 'op' && tok.v === ')') depth--;
        if (tok.t === 'id' && GROUPING.has(tok.v)) {
            if (opens) {
                let j = i + 2;
                for (; tokens[j] && !(tokens[j].t === 'op' && tokens[j].v === ')'); j++) {
                    if (tokens[j].t === 'id') out.grouping.push(tokens[j].v);
                    else if (!(tokens[j].t === 'op' && tokens[j].v === ',')) throw new Error(`bad grouping in ${expr}`);
                }
                i = j;
            }
            continue;
        }
        if (tok.t === 'id' && (FUNCTIONS.has(tok.v) || AGGREGATIONS.has(tok.v)) && (opens || (next && next.t === 'id' && GROUPING.has(next.v)))) {
            out.functions.push(tok.v);
            continue;
        }
        if (tok.t === 'id' && WORDS.has(tok.v.toLowerCase())) continue;
        if (tok.t === 'id') {
            if (opens) throw new Error(`unknown function ${tok.v} in ${expr}`);
            let matchers = [];
            if (next && next.t === 'op' && next.v === '{') [matchers, i] = readMatchers(i + 1);
            out.selectors.push({ name: tok.v, matchers });
            continue;
        }
        if (tok.t === 'op' && tok.v === '{') {
            const [matchers, j] = readMatchers(i);
            const name = matchers.find((x) => x.label === '__name__' && x.op === '=');
            if (!name) throw new Error(`a selector without a metric name in ${expr}`);
            out.selectors.push({ name: name.value, matchers: matchers.filter((x) => x !== name) });
            i = j;
        }
    }
    if (depth !== 0) throw new Error(`unbalanced parentheses in ${expr}`);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Prometheus: kubernetes_sd_configs (role pod) and relabel_configs.

const sanitize = (name) => name.replace(/[^a-zA-Z0-9_]/g, '_');
const POD_IP = '10.0.0.1'; // a placeholder: every target of a pod has this address

/**
 * What role-pod discovery offers for a pod as it runs: one target per container port (init
 * containers included), or one without a port for a container that declares none.
 */
function discoverPod(pod) {
    const meta = {
        __meta_kubernetes_namespace: pod.namespace,
        __meta_kubernetes_pod_name: pod.name,
        __meta_kubernetes_pod_ip: POD_IP,
        __meta_kubernetes_pod_phase: 'Running',
        __meta_kubernetes_pod_node_name: 'node',
    };
    for (const [k, v] of Object.entries(pod.labels)) {
        meta[`__meta_kubernetes_pod_label_${sanitize(k)}`] = v;
        meta[`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`] = 'true';
    }
    for (const [k, v] of Object.entries(pod.annotations)) {
        meta[`__meta_kubernetes_pod_annotation_${sanitize(k)}`] = v;
        meta[`__meta_kubernetes_pod_annotationpresent_${sanitize(k)}`] = 'true';
    }
    const targets = [];
    for (const [containers, init] of [[pod.containers, 'false'], [pod.initContainers, 'true']]) {
        for (const c of containers) {
            const base = { ...meta, __meta_kubernetes_pod_container_name: c.name, __meta_kubernetes_pod_container_init: init };
            if (!(c.ports || []).length) {
                if (init === 'false') targets.push({ ...base, __address__: POD_IP });
                continue;
            }
            for (const p of c.ports) {
                targets.push({
                    ...base,
                    __address__: `${POD_IP}:${p.containerPort}`,
                    __meta_kubernetes_pod_container_port_name: p.name || '',
                    __meta_kubernetes_pod_container_port_number: String(p.containerPort),
                    __meta_kubernetes_pod_container_port_protocol: p.protocol || 'TCP',
                });
            }
        }
    }
    return targets;
}

const RELABEL_FIELDS = new Set(['source_labels', 'separator', 'regex', 'modulus', 'target_label', 'replacement', 'action']);
const RELABEL_ACTIONS = new Set(['replace', 'keep', 'drop', 'labelmap', 'labeldrop', 'labelkeep', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal']);

/** Prometheus's regular expressions are RE2, anchored at both ends; no backreferences. */
function compileRegex(regex) {
    const source = regex === undefined ? '(.*)' : String(regex);
    if (/\\[1-9]|\(\?[=!<]/.test(source)) throw new Error(`regex ${source}: RE2 has no backreferences or lookaround`);
    return new RegExp(`^(?:${source})$`);
}
const expand = (replacement, match) => replacement.replace(/\$\{?(\d+)\}?/g, (_, n) => match[Number(n)] ?? '');

/** Applies relabel_configs to one target's labels; null when the target is dropped. */
function relabel(labels, rules) {
    let ls = { ...labels };
    for (const r of rules) {
        for (const k of Object.keys(r)) if (!RELABEL_FIELDS.has(k)) throw new Error(`relabel rule: unknown field ${k}`);
        const action = r.action || 'replace';
        if (!RELABEL_ACTIONS.has(action)) throw new Error(`relabel rule: unknown action ${action}`);
        const re = compileRegex(r.regex);
        const value = (r.source_labels || []).map((l) => ls[l] ?? '').join(r.separator ?? ';');
        if (action === 'keep') { if (!re.test(value)) return null; } else if (action === 'drop') { if (re.test(value)) return null; } else if (action === 'replace') {
            const x = re.exec(value);
            if (x) {
                const v = expand(r.replacement ?? '$1', x);
                if (!r.target_label) throw new Error('relabel replace without target_label');
                if (v === '') delete ls[r.target_label];
                else ls[r.target_label] = v;
            }
        } else if (action === 'labelmap') {
            const add = {};
            for (const [k, v] of Object.entries(ls)) {
                const x = re.exec(k);
                if (x) add[expand(r.replacement ?? '$1', x)] = v;
            }
            ls = { ...ls, ...add };
        } else if (action === 'labeldrop') {
            for (const k of Object.keys(ls)) if (re.test(k)) delete ls[k];
        } else if (action === 'labelkeep') {
            for (const k of Object.keys(ls)) if (!k.startsWith('__') && !re.test(k)) delete ls[k];
        } else {
            throw new Error(`relabel action ${action} is not modelled here`);
        }
    }
    return ls;
}

/**
 * The targets one scrape job makes of the given pods, as Prometheus scrapes them:
 * [{pod, address, port, path, scheme, labels}], identical targets once.
 */
function scrapeTargets(job, pods) {
    const out = new Map();
    for (const sd of job.kubernetes_sd_configs || []) {
        if (sd.role !== 'pod') throw new Error(`${job.job_name}: role ${sd.role} is not modelled here`);
        const names = sd.namespaces && sd.namespaces.names;
        for (const pod of pods.filter((p) => !names || names.includes(p.namespace))) {
            for (const discovered of discoverPod(pod)) {
                const ls = relabel({ ...discovered, job: job.job_name, __metrics_path__: job.metrics_path || '/metrics', __scheme__: job.scheme || 'http' }, job.relabel_configs || []);
                if (!ls) continue;
                const [host, port] = ls.__address__.split(':');
                const labels = Object.fromEntries(Object.entries(ls).filter(([k]) => !k.startsWith('__')));
                labels.instance = labels.instance || ls.__address__;
                const target = { pod: pod.name, host, port: port === undefined ? undefined : Number(port), path: ls.__metrics_path__, scheme: ls.__scheme__, labels };
                out.set(JSON.stringify([ls.__address__, ls.__metrics_path__, ls.__scheme__, labels]), target);
            }
        }
    }
    return [...out.values()];
}

/**
 * The kubernetes-pods job of Istio's Prometheus add-on (samples/addons/prometheus.yaml, Istio
 * 1.30.3), in its effect on IPv4 pods: pods annotated prometheus.io/scrape=true and not
 * prometheus.io/scrape_slow; scheme, path and port from the prometheus.io/ annotations; every pod
 * label as a target label, plus namespace, pod and node; pods not running are dropped.
 */
const ISTIO_ADDON_POD_JOB = {
    job_name: 'kubernetes-pods',
    kubernetes_sd_configs: [{ role: 'pod' }],
    relabel_configs: [
        { action: 'keep', source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], regex: 'true' },
        { action: 'drop', source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape_slow'], regex: 'true' },
        { action: 'replace', source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scheme'], regex: '(https?)', target_label: '__scheme__' },
        { action: 'replace', source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'], regex: '(.+)', target_label: '__metrics_path__' },
        { action: 'replace', source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_port', '__meta_kubernetes_pod_ip'], regex: '(\\d+);((([0-9]+?)(\\.|$)){4})', replacement: '$2:$1', target_label: '__address__' },
        { action: 'labelmap', regex: '__meta_kubernetes_pod_label_(.+)' },
        { action: 'replace', source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
        { action: 'replace', source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        { action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Pending|Succeeded|Failed|Completed' },
        { action: 'replace', source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'node' },
    ],
};

/** linkerd-viz's own scrape jobs (viz/charts/linkerd-viz/templates/prometheus.yaml, edge-26.6.3). */
const VIZ_JOB_NAMES = ['prometheus', 'kubernetes-nodes-cadvisor', 'linkerd-controller', 'linkerd-multicluster-controller', 'linkerd-proxy'];
/** linkerd-viz's Prometheus: Service prometheus, port 9090 (named admin), guarded by the Server prometheus-admin. */
const VIZ_PROMETHEUS = { namespace: 'linkerd-viz', service: 'prometheus', port: 9090, server: 'prometheus-admin' };

// ---------------------------------------------------------------------------------------------
// Pods as they run: after injection.

/** The pods of a rendering: every Deployment's pod template, with its namespace. */
function podsOf(objects) {
    return m.workloads(objects).map((w) => ({
        name: w.name,
        namespace: w.deployment.metadata.namespace,
        labels: { ...w.labels },
        annotations: { ...(w.deployment.spec.template.metadata.annotations || {}) },
        containers: structuredClone(w.pod.containers || []),
        initContainers: structuredClone(w.pod.initContainers || []),
        env: {},
    }));
}

/**
 * Istio 1.30.3 sidecar injection as far as scraping goes (pkg/kube/inject/webhook.go,
 * applyPrometheusMerge; pilot/cmd/pilot-agent/status/server.go, handleStats): the istio-proxy
 * container (Envoy's stats on 15090), and, unless merging is off (meshConfig.enablePrometheusMerge
 * or the pod's prometheus.istio.io/merge-metrics), the pod's prometheus.io annotations moved into
 * the proxy's ISTIO_PROMETHEUS_ANNOTATIONS and replaced by the agent's :15020/stats/prometheus,
 * which serves Envoy's and then the app's metrics, fetched from http://localhost:<port><path>.
 */
function injectIstio(pod, meshConfig = {}) {
    const proxy = { name: 'istio-proxy', ports: [{ name: 'http-envoy-prom', containerPort: 15090 }] };
    if (pod.annotations['sidecar.istio.io/nativeSidecar'] === 'true') pod.initContainers.push(proxy);
    else pod.containers.push(proxy);
    const a = pod.annotations;
    const merge = a['prometheus.istio.io/merge-metrics'] !== undefined ? a['prometheus.istio.io/merge-metrics'] === 'true' : meshConfig.enablePrometheusMerge !== false;
    if (a['prometheus.io/scrape'] !== 'false' && merge) {
        const app = { scrape: a['prometheus.io/scrape'], port: a['prometheus.io/port'], path: a['prometheus.io/path'] };
        if (app.port || app.path) pod.env.ISTIO_PROMETHEUS_ANNOTATIONS = JSON.stringify(app);
        for (const k of Object.keys(a)) if (/^prometheus\.io\//.test(k)) delete a[k];
        Object.assign(a, { 'prometheus.io/port': '15020', 'prometheus.io/path': '/stats/prometheus', 'prometheus.io/scrape': 'true' });
    }
    return pod;
}

/** What the Istio agent fetches from the app when Prometheus scrapes :15020/stats/prometheus. */
function istioAgentAppScrape(pod) {
    const raw = pod.env.ISTIO_PROMETHEUS_ANNOTATIONS;
    if (!raw) return null;
    const app = JSON.parse(raw);
    return { host: 'localhost', port: Number(app.port), path: app.path || '/metrics' };
}

/**
 * Linkerd's injection as far as scraping goes: the linkerd-proxy container (its ports
 * linkerd-proxy 4143 and linkerd-admin 4191; a native sidecar, so an init container, from 2.20 on
 * by default) and the linkerd.io/ pod labels viz's scrape jobs read.
 */
function injectLinkerd(pod) {
    pod.initContainers.push({ name: 'linkerd-proxy', ports: [{ name: 'linkerd-proxy', containerPort: 4143 }, { name: 'linkerd-admin', containerPort: 4191 }] });
    Object.assign(pod.labels, {
        'linkerd.io/control-plane-ns': 'linkerd',
        'linkerd.io/proxy-deployment': pod.name,
        'linkerd.io/workload-ns': pod.namespace,
    });
    return pod;
}

// ---------------------------------------------------------------------------------------------
// Ambient mode: does ztunnel let a plaintext connection from outside the mesh through?

const selectsPod = (selector, pod) => !selector || m.selects(selector.matchLabels || {}, pod.labels);

/**
 * The mTLS mode ztunnel applies to a pod's port (Istio 1.30.3,
 * pilot/pkg/serviceregistry/ambient/authorization.go): a workload PeerAuthentication's port-level
 * mode, else its mode, else the namespace's, else PERMISSIVE.
 */
function mtlsMode(peerAuthentications, pod, port) {
    const ns = peerAuthentications.filter((p) => !p.spec.selector);
    const workload = peerAuthentications.filter((p) => p.spec.selector && selectsPod(p.spec.selector, pod));
    if (workload.length > 1) throw new Error(`${pod.name}: ${workload.length} workload PeerAuthentications; Istio applies only the oldest`);
    const set = (mode) => mode && mode !== 'UNSET';
    let mode = ns.length && ns[0].spec.mtls && set(ns[0].spec.mtls.mode) ? ns[0].spec.mtls.mode : 'PERMISSIVE';
    if (workload.length) {
        const w = workload[0].spec;
        if (w.mtls && set(w.mtls.mode)) mode = w.mtls.mode;
        const portMode = (w.portLevelMtls || {})[String(port)];
        if (portMode && set(portMode.mode)) mode = portMode.mode;
    }
    return mode;
}

/**
 * Whether ztunnel's L4 authorization admits a caller without an identity (plaintext) on a port:
 * DENY policies first, then, if any ALLOW policy selects the pod, one of its rules must match.
 * ztunnel reads only policies with a selector (or none), never targetRefs, and a rule with an L7
 * condition never matches there.
 */
function l4AllowsAnonymous(policies, pod, port) {
    const L4_SOURCE = ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'];
    const ruleMatches = (rule) => {
        if ((rule.when || []).length) return false;
        const fromOk = !rule.from || rule.from.some((f) => Object.keys(f.source || {}).every((k) => L4_SOURCE.includes(k) || /^not/.test(k)));
        const toOk = !rule.to || rule.to.some((t) => {
            const op = t.operation || {};
            if (Object.keys(op).some((k) => !['ports', 'notPorts'].includes(k))) return false;
            return (!op.ports || op.ports.includes(String(port))) && !(op.notPorts || []).includes(String(port));
        });
        return fromOk && toOk;
    };
    const ztunnel = policies.filter((p) => !p.spec.targetRefs && !p.spec.targetRef && selectsPod(p.spec.selector, pod));
    const action = (p) => p.spec.action || 'ALLOW';
    if (ztunnel.some((p) => action(p) === 'DENY' && (p.spec.rules || []).some(ruleMatches))) return false;
    const allow = ztunnel.filter((p) => action(p) === 'ALLOW');
    return allow.length === 0 || allow.some((p) => (p.spec.rules || []).some(ruleMatches));
}

/** Plaintext from outside the mesh to a pod's port in ambient mode: both layers must let it in. */
function ambientAdmitsPlaintext(objects, pod, port) {
    const mode = mtlsMode(m.ofKind(objects, 'PeerAuthentication'), pod, port);
    return ['PERMISSIVE', 'DISABLE'].includes(mode) && l4AllowsAnonymous(m.ofKind(objects, 'AuthorizationPolicy'), pod, port);
}

module.exports = {
    readSources, exposedMetrics, routesByService, seriesNames, MESH_METRICS,
    parsePromQL, compileRegex, relabel, scrapeTargets, discoverPod, RELABEL_FIELDS,
    ISTIO_ADDON_POD_JOB, VIZ_JOB_NAMES, VIZ_PROMETHEUS,
    podsOf, injectIstio, istioAgentAppScrape, injectLinkerd, ambientAdmitsPlaintext, mtlsMode,
};
