'use strict';
// scripts/kind-demo.sh and .github/workflows/kind.yaml, offline: what the script prints with
// --dry-run against the command blocks of docs/kubernetes.md, and what the workflow asks of the
// script. The functions return lists of problems (empty: fine) so that the tests can run them on
// the real files and on copies with one mistake each, and see them fail there.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const YAML = require('yaml');
const Ajv = require('ajv');
const m = require('./manifests');

const SCRIPT = path.join(m.REPO, 'scripts', 'kind-demo.sh');
const WORKFLOW = '.github/workflows/kind.yaml';
const WORKFLOW_SCHEMA = path.join(__dirname, '..', 'schemas', 'github', 'github-workflow.json');
/** The subcommands of the issue, with --dry-run, as the tests run them. */
const SUBCOMMANDS = [['up'], ['mesh', 'linkerd'], ['mesh', 'istio'], ['mesh', 'istio-ambient'], ['check'], ['down']];
/** Tools the script would call on a real run; dry-run and argument errors must call none. */
const TOOLS = ['docker', 'kind', 'kubectl', 'curl', 'linkerd', 'istioctl', 'sudo', 'helm', 'go', 'pgrep'];

/**
 * A directory of stand-ins for TOOLS that log their name and fail, put first on PATH: a dry run
 * that touched any of them (or a real docker, kind or kubectl) shows up in the log.
 */
const madeDirs = [];
// Removed when the test process ends, however it ends: tests leave nothing behind.
process.on('exit', () => {
    for (const dir of madeDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function stubTools() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kind-demo-stubs-'));
    madeDirs.push(dir);
    const log = path.join(dir, 'calls.log');
    for (const t of TOOLS) {
        fs.writeFileSync(path.join(dir, t), `#!/bin/sh\necho "${t} $*" >> '${log}'\nexit 97\n`, { mode: 0o755 });
    }
    return { dir, log, calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '') };
}

/** Runs the script with args (stand-ins first on PATH); {status, stdout, stderr}. */
function runScript(args, stubs) {
    const r = spawnSync('bash', [SCRIPT, ...args], {
        encoding: 'utf8',
        cwd: os.tmpdir(), // the script finds the repository itself
        env: { ...process.env, PATH: `${stubs.dir}:${process.env.PATH}`, HOME: stubs.dir },
        timeout: 30000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** "### step NAME" sections of a dry run: [{name, text}], in order. */
function dryRunSteps(stdout) {
    const out = [];
    for (const part of stdout.split(/^### step /m).slice(1)) {
        const nl = part.indexOf('\n');
        out.push({ name: part.slice(0, nl).trim(), text: part.slice(nl + 1).replace(/\n+$/, '\n') });
    }
    return out;
}

/** The doc's marked blocks: [{name, text}] from <!-- kind-demo.sh step: NAME --> + ```sh ... ```. */
function docSteps(doc) {
    const out = [];
    const re = /<!-- kind-demo\.sh step: (\S+) -->\n```sh\n([\s\S]*?)```/g;
    for (const x of doc.matchAll(re)) out.push({ name: x[1], text: x[2] });
    // A marker not directly followed by a sh block would silently mark nothing.
    const markers = (doc.match(/^<!-- kind-demo\.sh step:/gm) || []).length;
    if (markers !== out.length) out.push({ name: '(malformed marker)', text: `${markers} markers, ${out.length} followed by a sh block` });
    return out;
}

/**
 * Doc and script say the same: every step the script prints is one marked block of the doc,
 * character for character, and every marked block is printed by some subcommand.
 */
function sameSteps(doc, printed) {
    const problems = [];
    const blocks = docSteps(doc);
    const byName = new Map();
    for (const b of blocks) {
        if (byName.has(b.name)) problems.push(`docs/kubernetes.md marks two blocks "${b.name}"`);
        byName.set(b.name, b.text);
    }
    const seen = new Set();
    for (const s of printed) {
        seen.add(s.name);
        const d = byName.get(s.name);
        if (d === undefined) problems.push(`the script runs step ${s.name}, which no block of docs/kubernetes.md is marked as`);
        else if (d !== s.text) problems.push(`step ${s.name}: the script runs\n${s.text}but docs/kubernetes.md says\n${d}`);
    }
    for (const b of blocks) if (!seen.has(b.name)) problems.push(`docs/kubernetes.md marks "${b.name}", which no subcommand of the script runs`);
    return problems;
}

/** The script's pinned versions and other settings (NAME=value lines at the top level). */
function scriptSettings(text) {
    const out = {};
    for (const x of text.matchAll(/^([A-Z_]+)=(?:"([^"$]*)"|([^\s"$]\S*))$/gm)) out[x[1]] = x[2] ?? x[3];
    return out;
}

/** The pinned versions: named in the doc's version sentence and used by the steps that need them. */
function versionProblems(doc, settings, printedText) {
    const problems = [];
    const intro = doc.slice(0, doc.indexOf('\n## '));
    const want = [
        ['KIND_VERSION', (v) => intro.includes(`kind ${v}`), (v) => doc.includes(`kind ${v}`)],
        ['CLOUD_PROVIDER_KIND_VERSION', (v) => intro.includes(`cloud-provider-kind ${v}`), (v) => printedText.includes(`cloud-controller-manager:${v}`)],
        ['LINKERD_VERSION', (v) => new RegExp(`Linkerd 2\\.20[^;]{0,120}\`${v}\``).test(intro), (v) => printedText.includes(`LINKERD2_VERSION=${v} sh`)],
        ['ISTIO_VERSION', (v) => intro.includes(`Istio ${v}`), (v) => printedText.includes(`ISTIO_VERSION=${v} sh`) && printedText.includes(`istio-${v}/bin`)],
        ['GATEWAY_API_VERSION', (v) => intro.includes(`Gateway API ${v}`), (v) => printedText.includes(`download/${v}/experimental-install.yaml`)],
    ];
    for (const [name, inDoc, inSteps] of want) {
        const v = settings[name];
        if (!v) problems.push(`scripts/kind-demo.sh: no ${name}`);
        else {
            if (!inDoc(v)) problems.push(`${name}=${v}: not the version docs/kubernetes.md names`);
            if (!inSteps(v)) problems.push(`${name}=${v}: not the version the steps install`);
        }
    }
    return problems;
}

/** The path the tracing step of a walkthrough section curls on servicemesh.demo. */
function tracedPath(sectionText) {
    const start = sectionText.indexOf('**Tracing: one page, one trace.**');
    if (start < 0) return undefined;
    const x = /curl [^\n]*http:\/\/servicemesh\.demo(\/\S*)/.exec(sectionText.slice(start));
    return x && x[1];
}

/** The workflow against GitHub's workflow schema (SchemaStore, kept in schemas/github). */
function workflowSchemaProblems(workflow) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(WORKFLOW_SCHEMA, 'utf8')));
    if (validate(workflow)) return [];
    return validate.errors.map((e) => `${WORKFLOW}${e.instancePath}: ${e.message}`);
}

/** Every scripts/kind-demo.sh call of a run: block, matrix expressions expanded: [[args], ...]. */
function scriptCalls(run, matrix) {
    const calls = [];
    // ${{ matrix.x }} holds spaces: one word first.
    for (const line of run.replace(/\$\{\{\s*matrix\.(\w+)\s*\}\}/g, '${{matrix.$1}}').split('\n')) {
        const x = /(?:^|\s)(?:\.\/)?scripts\/kind-demo\.sh((?:[ \t]+[^\s;&|#]+)*)/.exec(line);
        if (!x) continue;
        const raw = x[1].trim().split(/\s+/).filter(Boolean);
        const variants = [[]];
        for (const word of raw) {
            const e = /^\$\{\{matrix\.(\w+)\}\}$/.exec(word);
            const values = e ? matrix[e[1]] || [undefined] : [word];
            const next = [];
            for (const v of variants) for (const value of values) next.push([...v, value]);
            variants.splice(0, variants.length, ...next);
        }
        calls.push(...variants);
    }
    return calls;
}

/**
 * What the workflow must do with the script: up, a check before any mesh, for every mesh the
 * script knows a `mesh` and then a check, down always; each call one the script accepts (its own
 * --dry-run says so); logs collected and uploaded on failure; kind pinned to the script's version;
 * a hosted Linux runner (Docker) and a time limit.
 */
function workflowProblems(workflow, settings, accepts) {
    const problems = [];
    const jobs = Object.entries(workflow.jobs || {});
    if (jobs.length === 0) return ['no jobs'];
    const meshesCovered = new Set();
    for (const [id, job] of jobs) {
        const where = `job ${id}`;
        if (!/^ubuntu-/.test(String(job['runs-on']))) problems.push(`${where}: runs-on ${job['runs-on']}: a hosted Ubuntu runner has Docker`);
        if (!(job['timeout-minutes'] > 0)) problems.push(`${where}: no timeout-minutes`);
        const matrix = (job.strategy && job.strategy.matrix) || {};
        const steps = job.steps || [];
        const order = [];
        steps.forEach((s, i) => {
            for (const args of scriptCalls(s.run || '', matrix)) {
                if (args.includes(undefined)) problems.push(`${where}, step ${i}: a matrix value the job does not define`);
                else if (!accepts(args)) problems.push(`${where}, step ${i}: scripts/kind-demo.sh ${args.join(' ')} is no subcommand the script accepts`);
                order.push({ i, args, step: s });
            }
        });
        const idx = (pred) => order.findIndex(pred);
        const up = idx((c) => c.args[0] === 'up');
        const meshes = order.filter((c) => c.args[0] === 'mesh');
        if (up < 0) problems.push(`${where}: never runs scripts/kind-demo.sh up`);
        if (meshes.length === 0) problems.push(`${where}: never runs scripts/kind-demo.sh mesh`);
        for (const mc of meshes) {
            meshesCovered.add(mc.args[1]);
            const at = order.indexOf(mc);
            if (at < up) problems.push(`${where}: mesh before up`);
            if (!order.slice(at + 1).some((c) => c.args[0] === 'check' && !c.args.includes('--dry-run'))) problems.push(`${where}: no check after mesh ${mc.args[1]}`);
        }
        const firstMesh = meshes.length ? order.indexOf(meshes[0]) : order.length;
        if (!order.slice(up + 1, firstMesh).some((c) => c.args[0] === 'check')) problems.push(`${where}: no check between up and the first mesh (FLAKY without a mesh)`);
        const down = order.find((c) => c.args[0] === 'down');
        if (!down) problems.push(`${where}: never runs scripts/kind-demo.sh down`);
        else if (!/always\(\)/.test(String(down.step.if || ''))) problems.push(`${where}: down must run if: always(), or a failed run leaves its cluster`);
        for (const c of order) if (c.args.includes('--dry-run')) problems.push(`${where}: --dry-run proves nothing on a runner`);
        // Logs when something failed: kind's own export and an upload of it.
        const onFailure = steps.filter((s) => /failure\(\)|always\(\)/.test(String(s.if || '')));
        if (!onFailure.some((s) => /kind export logs/.test(s.run || ''))) problems.push(`${where}: no kind export logs on failure`);
        if (!onFailure.some((s) => /^actions\/upload-artifact@/.test(s.uses || ''))) problems.push(`${where}: no upload of the logs on failure`);
        const pinned = (workflow.env || {}).KIND_VERSION || (job.env || {}).KIND_VERSION;
        if (pinned !== settings.KIND_VERSION) problems.push(`${where}: KIND_VERSION ${pinned}, the script and the doc pin ${settings.KIND_VERSION}`);
        if (!steps.some((s) => /kind\.sigs\.k8s\.io\/dl\/\$KIND_VERSION\//.test(s.run || ''))) problems.push(`${where}: kind is not installed at KIND_VERSION`);
    }
    for (const mesh of (settings.MESHES || '').split(/\s+/).filter(Boolean)) {
        if (!meshesCovered.has(mesh)) problems.push(`no job runs scripts/kind-demo.sh mesh ${mesh}`);
    }
    return problems;
}

function readWorkflow() {
    return YAML.parse(m.readRepo(WORKFLOW));
}

module.exports = {
    SCRIPT, WORKFLOW, SUBCOMMANDS, stubTools, runScript, dryRunSteps, docSteps, sameSteps, scriptSettings,
    versionProblems, tracedPath, workflowSchemaProblems, workflowProblems, scriptCalls, readWorkflow,
};
