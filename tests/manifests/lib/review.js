'use strict';
// A new user's reading of docs/kubernetes.md, docs/metrics.md, README.md and scripts/kind-demo.sh:
// mistakes a review found once and that an edit could bring back. Each function takes the texts
// (so that the tests can run it on copies with one mistake) and returns a list of problems.
const YAML = require('yaml');
const m = require('./manifests');

/** The texts the checks read: {doc, metrics, readme, script, workflow, dashboardComponent}. */
function loadTexts() {
    return {
        doc: m.readRepo('docs/kubernetes.md'),
        metrics: m.readRepo('docs/metrics.md'),
        readme: m.readRepo('README.md'),
        script: m.readRepo('scripts/kind-demo.sh'),
        workflow: m.readRepo('.github/workflows/kind.yaml'),
        dashboardComponent: m.readRepo('deploy/kubernetes/grafana/kustomization.yaml'),
    };
}

/** The text of "## title" up to the next "## " heading. */
function section(doc, title) {
    const start = doc.indexOf(`\n## ${title}`);
    if (start < 0) return '';
    const end = doc.indexOf('\n## ', start + 4);
    return doc.slice(start, end < 0 ? undefined : end);
}

/** The ```sh blocks of a text, in order. */
function shBlocks(text) {
    return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((x) => x[1]);
}

/** The script without its step texts (the heredocs of step_text, which run in bash -c). */
function scriptCode(script) {
    return script.replace(/<<'EOF'\n[\s\S]*?\nEOF\n/g, "<<'EOF'\nEOF\n");
}

/** Whether a command line runs `timeout N` on the host (not after a ` -- `: then it runs in a pod). */
function hostTimeout(line) {
    for (const x of line.matchAll(/(^|[\s($])timeout\s+\d+\s/g)) if (!/\s--\s/.test(line.slice(0, x.index + x[1].length))) return true;
    return false;
}

/**
 * The script runs on macOS as it comes: bash 3.2 (an empty array's "${a[@]}" is an unbound
 * variable under set -u before bash 4.4) and no coreutils `timeout` on the host.
 */
function portabilityProblems({ script, doc }) {
    const problems = [];
    const code = scriptCode(script);
    for (const x of code.matchAll(/(.{0,3})"\$\{(\w+)\[@\]\}"/g)) {
        if (!x[1].endsWith('+')) problems.push(`scripts/kind-demo.sh: "\${${x[2]}[@]}" is unbound under set -u in bash < 4.4 when empty: write \${${x[2]}[@]+"\${${x[2]}[@]}"}`);
    }
    // timeout on the host (not inside a pod: kubectl exec/run ... -- timeout is busybox's).
    for (const line of code.replace(/\\\n/g, ' ').split('\n')) {
        if (hostTimeout(line) && !/command -v timeout/.test(line)) problems.push(`scripts/kind-demo.sh runs the host's timeout unconditionally (none on stock macOS): ${line.trim()}`);
    }
    // The doc's marked blocks run on the host too.
    for (const x of doc.matchAll(/<!-- kind-demo\.sh step: (\S+) -->\n```sh\n([\s\S]*?)```/g)) {
        for (const line of x[2].replace(/\\\n/g, ' ').split('\n')) {
            if (hostTimeout(line)) problems.push(`step ${x[1]}: the host's timeout (none on stock macOS): ${line.trim()}`);
        }
    }
    return problems;
}

/**
 * Teardown: cloud-provider-kind stopped (SIGTERM) before the cluster is deleted, never killed;
 * its containers for the cluster removed by label afterwards; the hosts-file line removed.
 * `steps` are the dry run's steps of `down` ([{name, text}]).
 */
function teardownProblems({ doc }, steps) {
    const problems = [];
    const text = steps.map((s) => s.text).join('\n');
    const stop = text.search(/docker stop\b[^\n]*\bcloud-provider-kind/);
    const del = text.search(/kind delete cluster/);
    if (stop < 0) problems.push('down: cloud-provider-kind is never stopped (SIGTERM): its Envoy containers stay');
    else if (del >= 0 && stop > del) problems.push('down: cloud-provider-kind stopped after the cluster was deleted: too late for its cleanup');
    if (/docker (rm|kill) (-f |--force )?[^\n]*cloud-provider-kind\b/.test(text.slice(0, stop < 0 ? text.length : stop)) || /docker (rm -f|kill)[^\n]*\bcloud-provider-kind\b/.test(text)) {
        problems.push('down: cloud-provider-kind killed (docker rm -f / kill): it cleans up only on SIGTERM or SIGINT');
    }
    const label = text.search(/--filter label=io\.x-k8s\.cloud-provider-kind\.cluster=servicemesh\b/);
    if (label < 0) problems.push('down: the containers labelled io.x-k8s.cloud-provider-kind.cluster=servicemesh are not removed');
    else if (del >= 0 && label < del) problems.push('down: leftovers removed before the cluster was deleted');
    // The doc never tells the reader to kill it either.
    for (const x of doc.matchAll(/(.{0,12})`docker rm -f cloud-provider-kind`/g)) {
        if (!/\bnot\b/.test(x[1])) problems.push('docs/kubernetes.md: `docker rm -f cloud-provider-kind` leaves its Envoy containers running');
    }
    return problems;
}

const HOSTS_DELETE = /sed -i\.bak '\/\[\[:space:\]\]servicemesh\\\.demo\$\/d' \/etc\/hosts/;

/** The hosts file: each append removes the old line first, and the teardown removes it. */
function hostsProblems({ doc, script }) {
    const problems = [];
    for (const b of shBlocks(doc)) {
        const append = b.search(/tee -a \/etc\/hosts/);
        if (append < 0) continue;
        const del = b.search(HOSTS_DELETE);
        if (del < 0 || del > append) problems.push('docs/kubernetes.md: a hosts-file append without removing the old servicemesh.demo line first (the first line wins)');
    }
    const teardown = section(doc, 'The walkthrough as one script');
    if (!HOSTS_DELETE.test(teardown)) problems.push('docs/kubernetes.md: the teardown does not remove the servicemesh.demo line (sed -i.bak ... /etc/hosts)');
    if (!/servicemesh\\\\?\.demo\\\$\/d' \/etc\/hosts/.test(scriptCode(script))) problems.push('scripts/kind-demo.sh down: does not say how to remove the hosts-file line');
    return problems;
}

/** Leaving Linkerd: every meshed extra (docs/metrics.md's Grafana) goes before linkerd uninstall. */
function leaveLinkerdProblems({ doc, metrics }) {
    const problems = [];
    const linkerd = section(doc, '8. Linkerd');
    const at = linkerd.indexOf('**Leave Linkerd**');
    const block = shBlocks(linkerd.slice(at))[0] || '';
    const uninstall = block.indexOf('linkerd uninstall');
    if (at < 0 || uninstall < 0) return ['docs/kubernetes.md: no "Leave Linkerd" block with linkerd uninstall'];
    for (const [what, re] of [['helm uninstall grafana -n grafana', /helm uninstall grafana -n grafana/], ['kubectl delete ns grafana', /kubectl delete ns grafana/]]) {
        const i = block.search(re);
        if (i < 0 || i > uninstall) problems.push(`Leave Linkerd: ${what} before linkerd uninstall (the meshed Grafana of docs/metrics.md; linkerd uninstall refuses while injected pods exist)`);
    }
    const down = section(metrics, 'Taking it down');
    if (!down) problems.push('docs/metrics.md: no section "Taking it down"');
    for (const need of ['helm uninstall grafana -n grafana', 'samples/addons/grafana.yaml', 'samples/addons/prometheus.yaml']) {
        if (!down.includes(need)) problems.push(`docs/metrics.md, Taking it down: ${need}`);
    }
    return problems;
}

/** Every Istio path of the script installs the Prometheus add-on docs/metrics.md reads. */
function prometheusProblems(stepsByMesh) {
    const problems = [];
    for (const mesh of ['istio', 'istio-ambient']) {
        const text = (stepsByMesh[mesh] || []).map((s) => s.text).join('\n');
        if (!/kubectl apply [^\n]*-f \/tmp\/istio-[\d.]+\/samples\/addons\/prometheus\.yaml/.test(text)) problems.push(`mesh ${mesh}: no Prometheus add-on (docs/metrics.md has nothing to read)`);
    }
    return problems;
}

/** The up steps wait for cloud-provider-kind's GatewayClass before the base (its Gateway). */
function gatewayClassWaitProblems(upSteps) {
    const wait = upSteps.findIndex((s) => /kubectl get gatewayclass cloud-provider-kind/.test(s.text));
    const base = upSteps.findIndex((s) => /kubectl apply -k deploy\/kubernetes\/base\b/.test(s.text));
    if (base < 0) return ['up: never applies the base'];
    if (wait < 0 || wait > base) return ['up: the base is applied without waiting for the GatewayClass cloud-provider-kind'];
    if (!/for i in \$\(seq \d+\)/.test(upSteps[wait].text)) return ['up: the GatewayClass wait is not bounded'];
    return [];
}

/** The Gateway API CRDs: nothing tells the reader to apply the standard channel; the policy is named. */
function crdProblems({ doc }) {
    const problems = [];
    for (const x of doc.matchAll(/[^.]*standard-install\.yaml[^.]*/g)) {
        if (/\bapply\b/.test(x[0])) problems.push(`docs/kubernetes.md: applies standard-install.yaml, which drops the routes' retry: "${x[0].trim().slice(0, 120)}"`);
    }
    if (!section(doc, '9. Istio').includes('safe-upgrades.gateway.networking.k8s.io')) problems.push('docs/kubernetes.md, step 9: the safe-upgrades ValidatingAdmissionPolicy of the experimental install');
    return problems;
}

/** Versions: nothing unpinned (latest URLs, helm install without --version), tools with versions. */
function pinningProblems({ doc, metrics, workflow }, settings) {
    const problems = [];
    for (const [name, text] of [['docs/kubernetes.md', doc], ['docs/metrics.md', metrics]]) {
        for (const x of text.matchAll(/\S*\/releases\/latest\/\S*/g)) problems.push(`${name}: unpinned ${x[0]}`);
        for (const x of text.matchAll(/helm install [^\n]*(?:\\\n[^\n]*)*/g)) {
            if (!/--version \S+/.test(x[0])) problems.push(`${name}: helm install without --version: ${x[0].split('\n')[0]}`);
        }
    }
    const tools = section(doc, '0. Tools');
    if (!tools.includes(`kind\`](https://kind.sigs.k8s.io/) ${settings.KIND_VERSION}`)) problems.push(`step 0: kind ${settings.KIND_VERSION}`);
    const wf = YAML.parse(workflow);
    const kubectl = /^v(\d+)\.(\d+)\.\d+$/.exec(wf.env.KUBECTL_VERSION);
    const node = /default node image is Kubernetes (v\d+\.\d+\.\d+)/.exec(workflow);
    if (!node || !tools.includes(`Kubernetes ${node[1]}`)) problems.push('step 0: the Kubernetes of kind\'s default node image, as the workflow names it');
    const range = /`kubectl` ((?:1\.\d+, )*1\.\d+ or 1\.\d+)/.exec(tools);
    if (!range) problems.push('step 0: the supported kubectl versions');
    else if (kubectl && !range[1].split(/, | or /).includes(`${kubectl[1]}.${kubectl[2]}`)) problems.push(`step 0: kubectl ${range[1]} leaves out the workflow's ${wf.env.KUBECTL_VERSION}`);
    if (/\ngo install /.test(doc) && !/Go ≥ \d+\.\d+/.test(tools)) problems.push('step 0: go install needs Go (which version)');
    if (/\bwatch -n/.test(doc) && !/`watch`/.test(tools)) problems.push('step 0: `watch` (not on macOS)');
    if (!/`helm`[^\n]*\n?[^\n]*metrics\.md/.test(tools)) problems.push('step 0: helm is needed for docs/metrics.md too');
    return problems;
}

/** docs/metrics.md's "before retries" can be reached: the dashboard ConfigMap without the overlay. */
function beforeRetriesProblems({ metrics, dashboardComponent }) {
    const problems = [];
    const gen = YAML.parse(dashboardComponent).configMapGenerator[0];
    const [label, value] = Object.entries(gen.options.labels)[0];
    const create = new RegExp(`kubectl -n servicemesh-demo create configmap ${gen.name} [^\\n]*\\\\\\n\\s+--from-file=deploy/kubernetes/grafana/${gen.files[0].replace('.', '\\.')}`);
    if (!create.test(metrics)) problems.push(`docs/metrics.md: the ConfigMap ${gen.name} from ${gen.files[0]}, for Grafana before the Linkerd overlay`);
    if (!metrics.includes(`kubectl -n servicemesh-demo label configmap ${gen.name} ${label}=${value}`)) problems.push(`docs/metrics.md: the label ${label}=${value} the dashboard sidecar looks for`);
    const before = metrics.slice(metrics.indexOf('**Before retries'), metrics.indexOf('**After retries'));
    if (/or the base\s+without a mesh/.test(before)) problems.push('docs/metrics.md: the base without a mesh has no Prometheus and no Grafana');
    if (!/patch httproute videos-api [^\n]*"remove","path":"\/spec\/rules\/0\/retry"/.test(before)) problems.push('docs/metrics.md: how to see Istio without retries (the overlays carry them)');
    return problems;
}

/** README's Kubernetes sentences agree with the walkthrough. */
function readmeProblems({ readme, doc }) {
    const problems = [];
    const flaky = (readme.split('\n').find((l) => l.startsWith('| `FLAKY=true`')) || '');
    if (/retryOn: 5xx/.test(flaky) && !/istio-api/.test(flaky)) problems.push('README: `retryOn: 5xx` is the istio-api variant\'s; sidecars and ambient retry on the HTTPRoute\'s codes');
    const obs = readme.slice(readme.indexOf('**Trace context.**'), readme.indexOf('- **Logs.**'));
    const istioTrace = section(doc, '9. Istio');
    if (/the gateway's call to playlists-api/.test(istioTrace) && !/step 9\)[^.]*gateway/.test(obs.replace(/\s+/g, ' '))) problems.push('README: step 9\'s trace starts at the gateway, not at videos-web');
    return problems;
}

/** istio-api: the hosts line moves to the ingress gateway; check's entry knows the variant. */
function istioApiProblems({ doc, script }) {
    const problems = [];
    const s = section(doc, '9. Istio');
    const after = s.slice(s.indexOf('kubectl apply -k deploy/kubernetes/overlays/istio-api'));
    if (!/replace\s+the\s+hosts\s+file's\s+`127\.0\.0\.1 servicemesh\.demo`/.test(after)) problems.push('step 9, istio-api: replace the 127.0.0.1 hosts line (no node port there)');
    const entry = /entry_address\(\) \{[\s\S]*?\n\}/.exec(script);
    if (!entry || !/istio-ingressgateway/.test(entry[0])) problems.push('scripts/kind-demo.sh: check\'s entry address for istio-api (the ingress gateway)');
    return problems;
}

module.exports = {
    loadTexts, section, scriptCode, portabilityProblems, teardownProblems, hostsProblems, leaveLinkerdProblems,
    prometheusProblems, gatewayClassWaitProblems, crdProblems, pinningProblems, beforeRetriesProblems, readmeProblems,
    istioApiProblems,
};
