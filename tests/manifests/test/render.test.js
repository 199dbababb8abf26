'use strict';
// Every kustomization renders, every source file is well-formed YAML, and the kind cluster config
// is what docs/kubernetes.md says it is (that each host port has an entry behind it is one of the
// checks in lib/checks.js).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const m = require('../lib/manifests');

const EXPECTED = [
    'deploy/seed',
    'deploy/kubernetes/base',
    'deploy/kubernetes/overlays/linkerd',
    'deploy/kubernetes/overlays/linkerd/legacy',
    'deploy/kubernetes/overlays/linkerd/tracing',
    'deploy/kubernetes/overlays/istio',
    'deploy/kubernetes/overlays/istio-api',
    'deploy/kubernetes/overlays/istio-ambient',
    'deploy/kubernetes/overlays/ingress-kong',
];

test('every kustomization under deploy/ renders with kubectl kustomize', () => {
    const found = m.findKustomizations();
    for (const dir of EXPECTED) assert.ok(found.includes(dir), `missing kustomization ${dir}`);
    for (const dir of found) {
        const objects = m.render(dir);
        assert.ok(objects.length > 0, `${dir} renders nothing`);
        const ids = new Set();
        for (const o of objects) {
            const id = `${o.apiVersion} ${o.kind} ${o.metadata.namespace || ''}/${o.metadata.name}`;
            assert.ok(!ids.has(id), `${dir}: ${id} twice`);
            ids.add(id);
        }
    }
});

// The trace backend for Linkerd lives in a namespace of its own, as Istio's add-ons do.
const OWN_NAMESPACE = { 'deploy/kubernetes/overlays/linkerd/tracing': 'tracing' };

test('everything but the Namespace lands in the servicemesh-demo namespace (the trace backend in its own)', () => {
    for (const dir of m.findKustomizations().filter((d) => d !== 'deploy/seed')) {
        const ns = OWN_NAMESPACE[dir] || m.NAMESPACE;
        for (const o of m.render(dir)) {
            if (o.kind === 'Namespace') assert.equal(o.metadata.name, ns);
            else assert.equal(o.metadata.namespace, ns, `${dir}: ${m.ref(o)} namespace`);
        }
    }
});

test('source YAML files parse without errors or duplicate keys', () => {
    assert.deepEqual(m.parseSourceFiles(m.K8S), []);
    assert.deepEqual(m.parseSourceFiles(path.join(m.DEPLOY, 'seed')), []);
});

// kind's v1alpha4 config types (sigs.k8s.io/kind/pkg/apis/config/v1alpha4): the fields we may use.
const KIND_FIELDS = {
    cluster: ['kind', 'apiVersion', 'name', 'nodes', 'networking', 'featureGates', 'runtimeConfig',
        'kubeadmConfigPatches', 'kubeadmConfigPatchesJSON6902', 'containerdConfigPatches',
        'containerdConfigPatchesJSON6902'],
    node: ['role', 'image', 'labels', 'extraMounts', 'extraPortMappings', 'kubeadmConfigPatches',
        'kubeadmConfigPatchesJSON6902'],
    portMapping: ['containerPort', 'hostPort', 'listenAddress', 'protocol'],
};

test('kind cluster config maps host port 80 on loopback to the entry node port, and nothing else', () => {
    const file = path.join(m.K8S, 'kind', 'cluster.yaml');
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'), { uniqueKeys: true });
    assert.equal(docs.length, 1);
    assert.deepEqual(docs[0].errors, []);
    const cfg = docs[0].toJS();
    assert.equal(cfg.kind, 'Cluster');
    assert.equal(cfg.apiVersion, 'kind.x-k8s.io/v1alpha4');
    const unknown = (obj, allowed, where) => Object.keys(obj).filter((k) => !allowed.includes(k)).map((k) => `${where}.${k}`);
    const problems = unknown(cfg, KIND_FIELDS.cluster, 'cluster');
    for (const [i, node] of cfg.nodes.entries()) {
        problems.push(...unknown(node, KIND_FIELDS.node, `nodes[${i}]`));
        assert.ok(['control-plane', 'worker'].includes(node.role), `nodes[${i}].role`);
        for (const [j, pm] of (node.extraPortMappings || []).entries()) {
            problems.push(...unknown(pm, KIND_FIELDS.portMapping, `nodes[${i}].extraPortMappings[${j}]`));
            assert.ok(['TCP', 'UDP', 'SCTP', undefined].includes(pm.protocol));
        }
    }
    assert.deepEqual(problems, []);
    const cp = cfg.nodes.filter((n) => n.role === 'control-plane');
    assert.equal(cp.length, 1, 'one control-plane node');
    assert.ok(cfg.nodes.filter((n) => n.role === 'worker').length >= 2, 'at least two workers, so spreading and PDBs mean something');
    const maps = Object.fromEntries(cp[0].extraPortMappings.map((p) => [p.hostPort, p]));
    // Only 80: the demo serves plain HTTP, and a 443 mapping had nothing listening behind it.
    assert.deepEqual(Object.keys(maps), ['80']);
    assert.equal(maps[80].containerPort, 30080);
    for (const p of Object.values(maps)) assert.equal(p.listenAddress, '127.0.0.1');

    // The Istio overlay's entry really sits on node port 30080.
    const entry = m.named(m.render('deploy/kubernetes/overlays/istio'), 'Service', 'servicemesh-entry');
    assert.equal(entry.spec.type, 'NodePort');
    assert.equal(entry.spec.ports.find((p) => p.port === 80).nodePort, maps[80].containerPort);
});
