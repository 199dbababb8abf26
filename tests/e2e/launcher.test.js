'use strict';
// scripts/run.sh --bin, the launcher every Node test uses: it runs the catalog with one
// service's own settings, stops everything on SIGTERM, and ends with a clear message and
// nothing left behind when a port is taken, a part cannot start, or a part stops.
// Needs the built services: BUILD_DIR (default build/release) holds services/<name>/<name>.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');
const { Catalog, free_ports, tail } = require(path.join(REPO, 'scripts', 'lib', 'catalog'));
const BIN = path.join(path.resolve(process.env.BUILD_DIR || path.join(REPO, 'build', 'release')), 'services');

const log_dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-test-'));
process.on('exit', () => fs.rmSync(log_dir, { recursive: true, force: true }));
let runs = 0;

function catalog(options = {}) {
    return new Catalog({ bin: BIN, log_file: path.join(log_dir, `run-${++runs}.log`), ...options });
}

/** Every process below pid, by name: { pid, name, env }. */
function descendants(pid) {
    const children = new Map();
    for (const entry of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
            const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
            children.set(ppid, [...(children.get(ppid) || []), Number(entry)]);
        } catch { /* gone meanwhile */ }
    }
    const found = [];
    for (const todo = [pid]; todo.length;) {
        for (const child of children.get(todo.pop()) || []) {
            found.push(child);
            todo.push(child);
        }
    }
    return found.map((p) => {
        try {
            const name = path.basename(fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split(/[\0 ]/)[0]); // redis-server retitles itself
            const env = Object.fromEntries(fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').filter(Boolean)
                .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
            return { pid: p, name, env };
        } catch {
            return { pid: p, name: '(gone)', env: {} };
        }
    });
}

function alive(pid) {
    try {
        return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
        return false;
    }
}

function port_closed(port) {
    return new Promise((resolve) => {
        const socket = net.connect({ host: '127.0.0.1', port }, () => {
            socket.destroy();
            resolve(false);
        });
        socket.on('error', () => resolve(true));
    });
}

function assert_nothing_left(processes, run_dir, what) {
    const left = processes.filter((p) => alive(p.pid));
    assert.deepEqual(left.map((p) => `${p.name} ${p.pid}`), [], `${what}: processes left running`);
    if (run_dir) assert.equal(fs.existsSync(run_dir), false, `${what}: temporary folder ${run_dir} left`);
}

/** Runs the launcher to its end (it must not reach the catalog line); returns exit and output. */
async function run_to_failure(run) {
    await assert.rejects(run.start(), /ended before the catalog ran/);
    return { exit: run.exit, output: fs.readFileSync(run.log_file, 'utf8') };
}

test('runs the catalog, with settings for one service; SIGTERM stops every part, exit 0', async () => {
    const run = catalog({ services: { 'videos-api': { FLAKY: 'true', FLAKY_RATE: '0' }, 'videos-web': { VERSION: 'v9' } } });
    await run.start();
    let processes = [];
    try {
        processes = descendants(run.child.pid);
        const by_name = (name) => processes.find((p) => p.name === name);
        for (const name of ['videos-api', 'playlists-api', 'videos-web', 'redis-server']) assert.ok(by_name(name), `${name} is running`);
        assert.equal(by_name('videos-api').env.FLAKY, 'true', 'videos-api has its own setting');
        assert.equal(by_name('playlists-api').env.FLAKY, undefined, 'playlists-api does not have videos-api\'s setting');
        const catalog_answer = await fetch(`${run.web.url}/api/playlists`);
        assert.equal(catalog_answer.status, 200);
        const playlists = await catalog_answer.json();
        assert.equal(playlists.length, 4);
        assert.equal(playlists.reduce((n, p) => n + p.videos.length, 0), 9);
        assert.equal((await (await fetch(`${run.web.url}/config.json`)).json()).version, 'v9');
        for (const s of [run.web, run.playlists, run.videos]) assert.equal((await fetch(`${s.admin_url}/readyz`)).status, 200);
    } finally {
        assert.deepEqual(await run.stop(), { code: 0, signal: null }, `exit after SIGTERM:\n${tail(run.log_file)}`);
    }
    assert.match(fs.readFileSync(run.log_file, 'utf8'), /^catalog stopped: .*videos-api 0/m);
    const run_dir = processes.find((p) => p.name === 'videos-api').env.RUN_DIR;
    assert_nothing_left(processes, run_dir, 'after SIGTERM');
    for (const port of run.ports) assert.ok(await port_closed(port), `port ${port} still open after SIGTERM`);
});

test('a port already taken: a message naming it, exit 1, nothing started', async () => {
    const ports = await free_ports(8);
    const holder = net.createServer();
    await new Promise((resolve) => holder.listen(ports[2], '127.0.0.1', resolve));
    try {
        const { exit, output } = await run_to_failure(catalog({ ports }));
        assert.equal(exit.code, 1, output);
        assert.match(output, new RegExp(`port ${ports[2]} \\(VIDEOS_API_PORT\\) is already in use`));
        assert.doesNotMatch(output, /^\[/m, 'nothing was started');
    } finally {
        holder.close();
    }
});

test('a part that cannot start: its own message, the launcher names it, exit 1, nothing left', async () => {
    const run = catalog({ services: { 'playlists-api': { FANOUT_LIMIT: 'many' } } });
    const { exit, output } = await run_to_failure(run);
    assert.equal(exit.code, 1, output);
    assert.match(output, /invalid setting FANOUT_LIMIT/);
    assert.match(output, /run: playlists-api stopped while starting \(exit [1-9]\d*\)/);
    assert.match(output, /^catalog stopped: /m);
    // Every part it had started is gone, by port: the databases and videos-api were up.
    for (const port of [run.playlists_db.port, run.videos_db.port, run.videos.port]) {
        assert.ok(await port_closed(port), `port ${port} still open`);
    }
});

test('a part that stops while running ends the run: named, exit 1, nothing left', async () => {
    const run = catalog();
    await run.start();
    const processes = descendants(run.child.pid);
    const videos_api = processes.find((p) => p.name === 'videos-api');
    try {
        process.kill(videos_api.pid, 'SIGKILL');
        const exit = await Promise.race([run.exited, new Promise((resolve) => setTimeout(() => resolve(null), 20000))]);
        assert.ok(exit, 'the launcher still runs 20 s after videos-api was killed');
        assert.equal(exit.code, 1);
        assert.match(fs.readFileSync(run.log_file, 'utf8'), /run: videos-api stopped \(exit 137\); stopping the rest/);
    } finally {
        await run.stop();
    }
    assert_nothing_left(processes, videos_api.env.RUN_DIR, 'after videos-api stopped');
});
