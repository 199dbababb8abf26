'use strict';
// The traffic generator's script, run for real against a local HTTP server: steady rounds, one
// request in flight, the Host header, failures counted, bad settings refused, SIGTERM honoured.
// Runs on busybox applets alone (what the redis:7-alpine image has) when busybox is installed.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const m = require('../lib/manifests');

const SCRIPT = path.join(m.K8S, 'base', 'traffic-generator.sh');
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/**
 * The tools to run the script with: with busybox installed, a PATH of nothing but busybox applets
 * (sh, sleep, timeout, wget), as in the redis:7-alpine image; otherwise the system's sh and wget.
 */
function tools() {
    if (has('busybox')) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-busybox-'));
        // Removed when the test process ends, however it ends.
        process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
        const busybox = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
        for (const applet of ['sh', 'sleep', 'timeout', 'wget']) fs.symlinkSync(busybox, path.join(dir, applet));
        return { PATH: dir, sh: path.join(dir, 'sh'), which: 'busybox applets only' };
    }
    return has('wget') ? { PATH: process.env.PATH, sh: 'sh', which: 'system sh and wget' } : null;
}

async function withServer(fn) {
    const seen = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const server = http.createServer((req, res) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        seen.push({ path: req.url, host: req.headers.host, at: Date.now() });
        setTimeout(() => {
            inFlight--;
            res.statusCode = req.url.startsWith('/fail') ? 500 : 200;
            res.end('ok');
        }, 20);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
        return await fn(`http://127.0.0.1:${server.address().port}`, seen, () => maxInFlight);
    } finally {
        server.close();
    }
}

function run(env, { killAfterMs } = {}) {
    return new Promise((resolve) => {
        const child = spawn(tool.sh, [SCRIPT], { env: { ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => { out += d; });
        child.stderr.on('data', (d) => { out += d; });
        const started = Date.now();
        if (killAfterMs) setTimeout(() => child.kill('SIGTERM'), killAfterMs);
        child.on('exit', (code) => resolve({ code, out, ms: Date.now() - started }));
    });
}

const tool = tools();
const skip = tool ? false : 'neither busybox nor wget is installed';

test('traffic generator: steady rounds through every URL with the Host header, one request at a time', { skip }, async () => {
    await withServer(async (url, seen, maxInFlight) => {
        const r = await run({ PATH: tool.PATH, TARGETS: `${url}/home/ ${url}/api/playlists`, HOST_HEADER: 'servicemesh.demo', INTERVAL: '0.3', MAX_ROUNDS: '3', REPORT_EVERY: '2' });
        assert.equal(r.code, 0, r.out);
        assert.deepEqual(seen.map((s) => s.path), ['/home/', '/api/playlists', '/home/', '/api/playlists', '/home/', '/api/playlists']);
        assert.ok(seen.every((s) => s.host === 'servicemesh.demo'), `Host headers: ${seen.map((s) => s.host)} (${tool.which})`);
        assert.equal(maxInFlight(), 1);
        assert.ok(r.ms >= 600, `two pauses of 0.3 s between three rounds, took ${r.ms} ms`);
        assert.match(r.out, /rounds=2 ok=4 failed=0/);
        assert.match(r.out, /rounds=3 ok=6 failed=0\s*$/);
    });
});

test('traffic generator: failures are counted and reported, the loop goes on', { skip }, async () => {
    await withServer(async (url) => {
        const r = await run({ PATH: tool.PATH, TARGETS: `${url}/fail ${url}/ok http://127.0.0.1:1/refused`, INTERVAL: '0.1', MAX_ROUNDS: '2', REQUEST_TIMEOUT: '2' });
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /GET .*\/fail failed/);
        assert.match(r.out, /rounds=2 ok=2 failed=4/);
    });
});

test('traffic generator: bad settings stop it with a message', { skip }, async () => {
    for (const [env, pattern] of [
        [{ TARGETS: '' }, /TARGETS/],
        [{ TARGETS: 'http://x/', INTERVAL: '0' }, /INTERVAL/],
        [{ TARGETS: 'http://x/', INTERVAL: 'fast' }, /INTERVAL/],
        [{ TARGETS: 'http://x/', REQUEST_TIMEOUT: '1.5' }, /REQUEST_TIMEOUT/],
        [{ TARGETS: 'http://x/', MAX_ROUNDS: '-1' }, /MAX_ROUNDS/],
    ]) {
        const r = await run({ PATH: tool.PATH, ...env });
        assert.equal(r.code, 2, `${JSON.stringify(env)}: ${r.out}`);
        assert.match(r.out, pattern);
    }
});

test('traffic generator: SIGTERM ends it promptly with a summary (it runs as PID 1)', { skip }, async () => {
    await withServer(async (url) => {
        const r = await run({ PATH: tool.PATH, TARGETS: `${url}/ok`, INTERVAL: '0.5' }, { killAfterMs: 1200 });
        assert.equal(r.code, 0, r.out);
        assert.ok(r.ms < 2500, `took ${r.ms} ms to stop`);
        assert.match(r.out, /rounds=\d+ ok=\d+ failed=0/);
    });
});
