'use strict';
// .github/workflows/kind.yaml cannot run here (no Docker engine): it is checked offline. Against
// GitHub's workflow schema (SchemaStore's, kept as data in schemas/github), and for what it asks
// of scripts/kind-demo.sh: real subcommands only (the script's own --dry-run must accept each
// call), up, a check without a mesh, every mesh followed by a check, down always, logs on
// failure, kind at the pinned version. Each rule is also run on a copy with one mistake.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const k = require('../lib/kinddemo');

const workflow = k.readWorkflow();
const settings = k.scriptSettings(fs.readFileSync(k.SCRIPT, 'utf8'));
const stubs = k.stubTools();
const accepted = new Map();
/** Whether the script accepts these arguments: its --dry-run exits 0 (and runs nothing). */
const accepts = (args) => {
    const key = args.join(' ');
    if (!accepted.has(key)) accepted.set(key, k.runScript(['--dry-run', ...args], stubs).status === 0);
    return accepted.get(key);
};

test('the workflow is valid against GitHub\'s workflow schema', () => {
    assert.deepEqual(k.workflowSchemaProblems(workflow), []);
    // Can fail: a misspelt key and a step with neither run nor uses.
    const bad = structuredClone(workflow);
    bad.jobs.walkthrough['runs_on'] = bad.jobs.walkthrough['runs-on'];
    delete bad.jobs.walkthrough['runs-on'];
    bad.jobs.walkthrough.steps.push({ name: 'nothing' });
    assert.ok(k.workflowSchemaProblems(bad).length >= 2);
});

test('the workflow runs the script\'s real subcommands: up, check, mesh <each mesh>, check, down; logs on failure', () => {
    assert.deepEqual(k.workflowProblems(workflow, settings, accepts), []);
    assert.equal(stubs.calls(), '', 'a dry run called a tool');
    const calls = workflow.jobs.walkthrough.steps.flatMap((s) => k.scriptCalls(s.run || '', workflow.jobs.walkthrough.strategy.matrix));
    assert.deepEqual(calls.filter((a) => a[0] === 'mesh').map((a) => a[1]).sort(), settings.MESHES.split(' ').sort());
});

test('the workflow rules fail on realistic mistakes', () => {
    const mutate = (fn) => {
        const w = structuredClone(workflow);
        fn(w.jobs.walkthrough, w);
        return k.workflowProblems(w, settings, accepts).join('\n');
    };
    const stepRunning = (job, re) => job.steps.find((s) => re.test(s.run || ''));
    // A subcommand the script does not have (e.g. left over from a rename).
    assert.match(mutate((j) => { stepRunning(j, /kind-demo\.sh mesh/).run = 'scripts/kind-demo.sh install ${{ matrix.mesh }}'; }), /is no subcommand the script accepts|never runs scripts\/kind-demo\.sh mesh/);
    // A mesh the script does not know in the matrix.
    assert.match(mutate((j) => { j.strategy.matrix.mesh = ['linkerd', 'istio', 'consul']; }), /mesh consul is no subcommand/);
    // A mesh dropped from the matrix.
    assert.match(mutate((j) => { j.strategy.matrix.mesh = ['linkerd', 'istio']; }), /no job runs scripts\/kind-demo\.sh mesh istio-ambient/);
    // The check after the mesh forgotten.
    assert.match(mutate((j) => { j.steps = j.steps.filter((s) => s.name !== 'check with ${{ matrix.mesh }}'); }), /no check after mesh/);
    // down only on success: a failed run keeps its cluster.
    assert.match(mutate((j) => { delete stepRunning(j, /kind-demo\.sh down/).if; }), /down must run if: always\(\)/);
    // No logs on failure.
    assert.match(mutate((j) => { j.steps = j.steps.filter((s) => !/kind export logs/.test(s.run || '')); }), /no kind export logs on failure/);
    // kind at another version than the doc and the script.
    assert.match(mutate((j, w) => { w.env.KIND_VERSION = 'v0.31.0'; }), /KIND_VERSION v0\.31\.0/);
    // A dry run instead of the real thing.
    assert.match(mutate((j) => { stepRunning(j, /kind-demo\.sh up/).run = 'scripts/kind-demo.sh --dry-run up'; }), /--dry-run proves nothing/);
});
