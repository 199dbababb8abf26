'use strict';
// scripts/kind-demo.sh without a cluster (no Docker engine here): every subcommand's --dry-run,
// the argument errors, shellcheck, and the proof that doc and script say the same thing: each
// step the script runs is a marked command block of docs/kubernetes.md, character for character.
// Each comparison is also run once on a copy with a realistic mistake, to see it fail.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const m = require('../lib/manifests');
const k = require('../lib/kinddemo');

const doc = m.readRepo('docs/kubernetes.md');
const scriptText = fs.readFileSync(k.SCRIPT, 'utf8');
const settings = k.scriptSettings(scriptText);
const stubs = k.stubTools();

/** Every subcommand's dry run, once: {args, status, stdout, stderr, steps}. */
const dryRuns = k.SUBCOMMANDS.map((args) => {
    const r = k.runScript(['--dry-run', ...args], stubs);
    return { args, ...r, steps: k.dryRunSteps(r.stdout) };
});
const printed = dryRuns.flatMap((r) => r.steps);
const printedText = printed.map((s) => s.text).join('\n');

test('--dry-run of every subcommand exits 0, prints its steps and runs nothing', () => {
    for (const r of dryRuns) {
        const what = `--dry-run ${r.args.join(' ')}`;
        assert.equal(r.status, 0, `${what}: exit ${r.status}\n${r.stderr}`);
        if (r.args[0] === 'check') assert.match(r.stdout, /^### check$/m, `${what} prints the checks it would make`);
        else assert.ok(r.steps.length > 0, `${what} prints no step`);
    }
    // The stand-ins for docker, kind, kubectl, curl, linkerd, istioctl, sudo... were never called.
    assert.equal(stubs.calls(), '', 'a dry run called a tool');
    const names = (args) => dryRuns.find((r) => r.args.join(' ') === args).steps.map((s) => s.name);
    assert.deepEqual(names('up'), ['up/cluster', 'up/images', 'up/cloud-provider-kind', 'up/gatewayclass', 'up/catalog', 'up/entry']);
    assert.deepEqual(names('mesh linkerd'), ['mesh/gateway-api-crds', 'linkerd/install', 'linkerd/mesh', 'linkerd/overlay']);
    assert.deepEqual(names('mesh istio'), ['mesh/gateway-api-crds', 'istio/download', 'istio/install', 'istio/mesh']);
    assert.deepEqual(names('mesh istio-ambient'), ['mesh/gateway-api-crds', 'istio/download', 'istio-ambient/leave-istio', 'istio-ambient/install', 'istio-ambient/mesh']);
    assert.deepEqual(names('down'), ['down/stop-cloud-provider-kind', 'down/cluster', 'down/remove-cloud-provider-kind']);
});

test('argument errors: usage on stderr, exit 2, nothing run', () => {
    const cases = [[], ['bogus'], ['mesh'], ['mesh', 'consul'], ['mesh', 'linkerd', 'istio'], ['up', 'now'], ['--dry-run'], ['--dry-run', 'mesh'], ['check', '--dry-run']];
    for (const args of cases) {
        const r = k.runScript(args, stubs);
        assert.equal(r.status, 2, `${JSON.stringify(args)}: exit ${r.status}`);
        assert.match(r.stderr, /usage: scripts\/kind-demo\.sh/, `${JSON.stringify(args)}: usage`);
        assert.equal(r.stdout, '', `${JSON.stringify(args)}: nothing on stdout`);
    }
    assert.match(k.runScript(['mesh', 'consul'], stubs).stderr, /mesh needs one of: linkerd istio istio-ambient/);
    assert.equal(stubs.calls(), '', 'an argument error called a tool');
});

test('doc and script say the same: every step is a marked block of docs/kubernetes.md, character for character', () => {
    assert.deepEqual(k.sameSteps(doc, printed), []);
    // The doc's markers mark what they should: 20 blocks, the setup ones.
    assert.equal(k.docSteps(doc).length, new Set(printed.map((s) => s.name)).size);
});

test('the doc/script comparison fails on drift (one changed version, a step the doc lacks, a stray marker)', () => {
    const bumped = doc.replace('LINKERD2_VERSION=edge-26.6.3 sh', 'LINKERD2_VERSION=edge-26.7.1 sh');
    assert.notEqual(bumped, doc);
    assert.match(k.sameSteps(bumped, printed).join('\n'), /step linkerd\/install: the script runs/);
    const unmarked = doc.replace('<!-- kind-demo.sh step: linkerd/overlay -->\n', '');
    assert.match(k.sameSteps(unmarked, printed).join('\n'), /the script runs step linkerd\/overlay, which no block/);
    const stray = doc.replace('## 6. Traffic', '<!-- kind-demo.sh step: up/traffic -->\n```sh\nkubectl get pods\n```\n\n## 6. Traffic');
    assert.match(k.sameSteps(stray, printed).join('\n'), /marks "up\/traffic", which no subcommand/);
    const comment = doc.replace('kubectl apply -k deploy/kubernetes/overlays/linkerd\nkubectl -n', 'kubectl apply -k deploy/kubernetes/overlays/linkerd   # the overlay\nkubectl -n');
    assert.notEqual(comment, doc);
    assert.ok(k.sameSteps(comment, printed).length > 0, 'even a comment is a difference: the reader copies it');
});

test('pinned versions: the ones the doc names, used by the steps', () => {
    assert.deepEqual(k.versionProblems(doc, settings, printedText), []);
    // Can fail: a script pinning another Istio than the doc names.
    assert.match(k.versionProblems(doc, { ...settings, ISTIO_VERSION: '1.29.0' }, printedText).join('\n'), /ISTIO_VERSION=1\.29\.0: not the version docs\/kubernetes\.md names/);
    assert.match(k.versionProblems(doc.replace('the edge release `edge-26.6.3`', 'the edge release'), settings, printedText).join('\n'), /LINKERD_VERSION/);
});

test('check asserts the tracing requests the doc makes (Linkerd: /home/api/playlists; Istio: /api/playlists)', () => {
    const section = (title) => {
        const start = doc.indexOf(`\n## ${title}`);
        return doc.slice(start, doc.indexOf('\n## ', start + 4));
    };
    assert.equal(k.tracedPath(section('8. Linkerd')), settings.TRACE_PATH_LINKERD);
    assert.equal(k.tracedPath(section('9. Istio')), settings.TRACE_PATH_ISTIO);
    const check = dryRuns.find((r) => r.args[0] === 'check').stdout;
    for (const p of [settings.TRACE_PATH_LINKERD, settings.TRACE_PATH_ISTIO]) assert.ok(check.includes(p), `check --dry-run names ${p}`);
    // Which hops those requests take, and whether the policies allow them, is the consistency
    // check "tracing: every hop of the walkthrough's traced request ..." (lib/checks.js).
});

test('shellcheck: the script and every step it runs', (t) => {
    if (spawnSync('shellcheck', ['--version']).status !== 0) {
        t.skip('shellcheck is not installed: the Debian package shellcheck (scripts/install-deps.sh test is to bring it)');
        return;
    }
    const r = spawnSync('shellcheck', [k.SCRIPT], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // The steps run under bash -euo pipefail -c; checked as such. SC2034: up/entry sets
    // GATEWAY_IP for the reader's next block (the hosts file), which the script leaves out.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kind-demo-steps-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    for (const s of printed) {
        const file = path.join(dir, `${s.name.replace('/', '_')}.sh`);
        fs.writeFileSync(file, `#!/usr/bin/env bash\nset -euo pipefail\n${s.text}`);
        const c = spawnSync('shellcheck', ['-e', 'SC2034', file], { encoding: 'utf8' });
        assert.equal(c.status, 0, `step ${s.name}:\n${c.stdout}${c.stderr}`);
    }
    // Can fail: the same check on a step with an unquoted expansion in a test.
    const bad = path.join(dir, 'bad.sh');
    fs.writeFileSync(bad, '#!/usr/bin/env bash\nGATEWAY_IP=$(kubectl get gateway)\n[ -n $GATEWAY_IP ] && echo "$GATEWAY_IP"\n');
    assert.notEqual(spawnSync('shellcheck', [bad]).status, 0);
});
