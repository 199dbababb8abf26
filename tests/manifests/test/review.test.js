'use strict';
// What a new user's review of the Kubernetes docs and scripts/kind-demo.sh found once, kept from
// coming back (lib/review.js): macOS portability of the script, a teardown that leaves no Envoy
// container and no hosts-file line, leaving Linkerd with docs/metrics.md's meshed Grafana, the
// Prometheus of every Istio path, the GatewayClass wait, the experimental CRDs, pinned versions,
// a reachable "before retries", README's retry and trace sentences, the istio-api entry.
// Each rule runs on the real files and on a copy with one realistic mistake, which must fail it.
const test = require('node:test');
const assert = require('node:assert/strict');
const r = require('../lib/review');
const k = require('../lib/kinddemo');

const texts = r.loadTexts();
const settings = k.scriptSettings(texts.script);
const stubs = k.stubTools();
const steps = (...args) => k.dryRunSteps(k.runScript(['--dry-run', ...args], stubs).stdout);
const down = steps('down');
const up = steps('up');
const meshes = { istio: steps('mesh', 'istio'), 'istio-ambient': steps('mesh', 'istio-ambient') };

/** texts with one replacement, which must change something. */
function edit(key, from, to) {
    assert.ok(texts[key].includes(from), `mutation: "${from}" not in ${key}`);
    return { ...texts, [key]: texts[key].replace(from, to) };
}

test('the review\'s rules hold on the files as they are', () => {
    assert.deepEqual(r.portabilityProblems(texts), []);
    assert.deepEqual(r.teardownProblems(texts, down), []);
    assert.deepEqual(r.hostsProblems(texts), []);
    assert.deepEqual(r.leaveLinkerdProblems(texts), []);
    assert.deepEqual(r.prometheusProblems(meshes), []);
    assert.deepEqual(r.gatewayClassWaitProblems(up), []);
    assert.deepEqual(r.crdProblems(texts), []);
    assert.deepEqual(r.pinningProblems(texts, settings), []);
    assert.deepEqual(r.beforeRetriesProblems(texts), []);
    assert.deepEqual(r.readmeProblems(texts), []);
    assert.deepEqual(r.istioApiProblems(texts), []);
    assert.equal(stubs.calls(), '', 'a dry run called a tool');
});

test('the review\'s rules fail on the mistakes it found', () => {
    const fails = (problems, re) => assert.match(problems.join('\n'), re, `expected a problem matching ${re}`);
    // 1. bash 3.2 and no timeout on macOS.
    fails(r.portabilityProblems(edit('script', '${bounded[@]+"${bounded[@]}"} bash -euo', '"${bounded[@]}" bash -euo')), /unbound under set -u/);
    fails(r.portabilityProblems(edit('script', 'out=$(${bounded[@]+"${bounded[@]}"} kubectl run', 'out=$(timeout 180 kubectl run')), /host's timeout unconditionally/);
    // 2. cloud-provider-kind killed, or stopped too late, or leftovers not removed.
    const downText = (f) => down.map((s) => ({ ...s, text: f(s.text) }));
    fails(r.teardownProblems(texts, downText((t) => t.replace('docker stop --time 60 cloud-provider-kind', 'docker rm -f cloud-provider-kind'))), /never stopped|killed/);
    fails(r.teardownProblems(texts, [down[1], down[0], down[2]]), /after the cluster was deleted/);
    fails(r.teardownProblems(texts, downText((t) => t.replace(/^for c in[^\n]*\n/m, ''))), /labelled io\.x-k8s\.cloud-provider-kind\.cluster=servicemesh/);
    fails(r.teardownProblems(edit('doc', 'until you stop it\n(`docker stop cloud-provider-kind`', 'until you remove it\n(`docker rm -f cloud-provider-kind`'), down), /leaves its Envoy containers running/);
    // 7. The hosts line appended over an old one.
    fails(r.hostsProblems(edit('doc', "sudo sed -i.bak '/[[:space:]]servicemesh\\.demo$/d' /etc/hosts\necho", 'echo')), /without removing the old/);
    // 3. Leave Linkerd with the meshed Grafana still there.
    fails(r.leaveLinkerdProblems(edit('doc', 'helm uninstall grafana -n grafana; kubectl delete ns grafana --ignore-not-found   # if you added docs/metrics.md\'s Grafana\n', '')), /helm uninstall grafana/);
    fails(r.leaveLinkerdProblems(edit('metrics', '## Taking it down', '## Cleaning')), /no section "Taking it down"/);
    // 4. Ambient without the Prometheus add-on.
    const noProm = meshes['istio-ambient'].map((s) => ({ ...s, text: s.text.replace(/^kubectl apply -f \/tmp\/istio-[\d.]+\/samples\/addons\/prometheus\.yaml[^\n]*\n/m, '') }));
    fails(r.prometheusProblems({ ...meshes, 'istio-ambient': noProm }), /mesh istio-ambient: no Prometheus/);
    // 9. The base applied before cloud-provider-kind's GatewayClass exists.
    fails(r.gatewayClassWaitProblems(up.filter((s) => s.name !== 'up/gatewayclass')), /without waiting/);
    // 5. "otherwise apply standard-install.yaml first".
    fails(r.crdProblems(edit('doc', 'install those first if you have not, never\n`standard-install.yaml` on top of them', 'otherwise apply the standard-channel release, `standard-install.yaml`, first')), /applies standard-install\.yaml/);
    // 8, 11. Unpinned downloads and charts, tools without versions.
    fails(r.pinningProblems(edit('doc', 'releases/download/v0.8.1/components.yaml', 'releases/latest/download/components.yaml'), settings), /unpinned/);
    fails(r.pinningProblems(edit('doc', 'kong/ingress --version 0.24.0 -n kong', 'kong/ingress -n kong'), settings), /helm install without --version/);
    fails(r.pinningProblems(edit('doc', '`kubectl` 1.35, 1.36 or 1.37', '`kubectl` 1.33, 1.34 or 1.35'), settings), /leaves out the workflow's v1\.36/);
    fails(r.pinningProblems(edit('doc', 'needs Go ≥ 1.26.0', 'needs Go'), settings), /go install needs Go/);
    // 6. "Before retries" that cannot be reached.
    fails(r.beforeRetriesProblems(edit('metrics', 'label configmap servicemesh-demo-dashboard grafana_dashboard=1', 'label configmap servicemesh-demo-dashboard dashboard=1')), /the label grafana_dashboard=1/);
    fails(r.beforeRetriesProblems(edit('metrics', '**Before retries.**', '**Before retries** (or the base\nwithout a mesh).')), /no Prometheus and no Grafana/);
    // 10. README.
    fails(r.readmeProblems(edit('readme', '; `retryOn: 5xx` in the istio-api variant only;', '; Istio `retryOn: 5xx`;')), /istio-api variant/);
    fails(r.readmeProblems(edit('readme', 'with Istio (step 9) the gateway → playlists-api', 'with Istio (step 9) videos-web → playlists-api')), /starts at the gateway/);
    // 12. istio-api without the hosts-file change, check's entry at 127.0.0.1.
    fails(r.istioApiProblems(edit('script', "kubectl -n istio-system get svc istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}' 2>/dev/null || true", 'echo 127.0.0.1')), /check's entry address for istio-api/);
});
