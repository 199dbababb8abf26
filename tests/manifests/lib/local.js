'use strict';
/**
 * Runs the rendered workloads as local processes: the databases with the rendered command (the
 * seed script from deploy/seed), and the catalog through scripts/run.sh --bin SERVICE_BIN_DIR
 * with each service's rendered env. Ports become free loopback ports and Service host names
 * become 127.0.0.1; nothing else changes.
 */
const fs = require('node:fs');
const net = require('node:net');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const m = require('./manifests');
const { start_catalog, free_ports, tail } = require(path.join(m.REPO, 'scripts', 'lib', 'catalog'));

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.unref();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** promise's value, or null after ms (the timer does not keep the process alive). */
function within(promise, ms) {
    let timer;
    const limit = new Promise((r) => { timer = setTimeout(() => r(null), ms); });
    return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** GET url -> {status, headers, body}; rejects on connection errors or after timeoutMs. */
function get(url, { timeoutMs = 3000, headers = {} } = {}) {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { headers, timeout: timeoutMs, agent: false }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { body += d; });
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
        });
        req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${url}`)));
        req.on('error', reject);
    });
}

/** Polls fn until it returns a truthy value (errors count as "not yet"), or throws after ms. */
async function until(what, fn, ms = 10000, every = 100) {
    const end = Date.now() + ms;
    let last;
    while (Date.now() < end) {
        try {
            const v = await fn();
            if (v) return v;
        } catch (e) {
            last = e;
        }
        await sleep(every);
    }
    throw new Error(`${what}: not within ${ms} ms${last ? ` (${last.message})` : ''}`);
}

const commandExists = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** A started process with its output kept for failure messages. */
function start(name, file, args, env) {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = { name, child, output: '', exited: null };
    child.stdout.on('data', (d) => { proc.output += d; });
    child.stderr.on('data', (d) => { proc.output += d; });
    proc.exit = new Promise((resolve) => child.on('exit', (code, signal) => { proc.exited = { code, signal }; resolve(proc.exited); }));
    return proc;
}

async function stop(proc, ms = 20000) {
    if (!proc || proc.exited) return proc && proc.exited;
    proc.child.kill('SIGTERM');
    const done = await within(proc.exit, ms);
    if (!done) {
        proc.child.kill('SIGKILL');
        await proc.exit;
    }
    return proc.exited;
}

/**
 * Plans local ports for every container port of every workload of a rendering, and the mapping
 * "<service>:<port>" -> local port that the Services give. fixed: { workload: { port name:
 * local port } } for ports chosen elsewhere (the launcher's); free ports for the rest.
 */
async function planPorts(objects, fixed = {}) {
    const local = {};
    for (const w of m.workloads(objects)) {
        local[w.name] = {};
        for (const c of w.containers) {
            for (const p of c.ports || []) local[w.name][p.containerPort] = fixed[w.name]?.[p.name] ?? await freePort();
        }
    }
    const services = {};
    for (const svc of m.ofKind(objects, 'Service')) {
        const pods = m.workloads(objects).filter((w) => m.selects(svc.spec.selector, w.labels));
        if (pods.length === 0) continue;
        const w = pods[0];
        for (const p of svc.spec.ports) services[`${svc.metadata.name}:${p.port}`] = local[w.name][m.resolvePort(p.targetPort ?? p.port, w.containers)];
    }
    return { local, services };
}

/** The container's rendered env rewritten for loopback (see the file comment). */
function localEnv(container, workload, plan) {
    const env = m.envOf(container);
    const byName = Object.fromEntries((container.ports || []).map((p) => [p.name, p.containerPort]));
    const out = { ...env };
    for (const [k, v] of Object.entries(env)) {
        if (k === 'PORT') out[k] = String(plan.local[workload][byName.http]);
        else if (k === 'ADMIN_PORT') out[k] = String(plan.local[workload][byName.admin]);
        else if (k === 'WEB_ROOT' && v === '/app/web') out[k] = path.join(m.REPO, 'web');
        else if (k.endsWith('_HOST') && plan.services[`${v}:${env[k.replace(/_HOST$/, '_PORT')]}`]) {
            out[k] = '127.0.0.1';
            out[k.replace(/_HOST$/, '_PORT')] = String(plan.services[`${v}:${env[k.replace(/_HOST$/, '_PORT')]}`]);
        } else if (/^https?:\/\//.test(v)) {
            const u = new URL(v);
            const key = `${u.hostname}:${u.port || 80}`;
            if (plan.services[key]) out[k] = `${u.protocol}//127.0.0.1:${plan.services[key]}${u.pathname === '/' && !v.endsWith('/') ? '' : u.pathname}`;
        }
    }
    return out;
}

/** Runs the two databases as their Deployments say (command, env), on loopback ports. */
async function startDatabases(objects, plan, tmp) {
    const procs = [];
    for (const w of m.workloads(objects).filter((x) => x.name.endsWith('-db'))) {
        const c = w.containers[0];
        const port = plan.local[w.name][c.ports[0].containerPort];
        const runDir = fs.mkdtempSync(path.join(tmp, `${w.name}-`));
        const env = { PATH: process.env.PATH, ...m.envOf(c), REDIS_BIND: '127.0.0.1', RUN_DIR: runDir };
        // The ConfigMap mounted at /seed holds exactly deploy/seed's files (checked elsewhere).
        const [shell, script, database, containerPort] = c.command;
        assertEqual(String(containerPort), String(c.ports[0].containerPort));
        const proc = start(w.name, shell, [script.replace(/^\/seed\//, path.join(m.DEPLOY, 'seed') + '/'), database, String(port)], env);
        proc.port = port;
        proc.probe = c.readinessProbe.exec.command.map((a) => (a === String(containerPort) ? String(port) : a));
        procs.push(proc);
    }
    return procs;
}

/** What scripts/run.sh sets for a service itself (besides PORT and ADMIN_PORT, from its ports). */
const LAUNCHER_WIRING = ['REDIS_HOST', 'REDIS_PORT', 'VIDEOS_API_URL', 'PLAYLISTS_API_URL', 'WEB_ROOT'];

/** scripts/run.sh's ports (a block of 8 from free_ports) by workload and container port name. */
function launcherPorts([web, playlistsApi, videosApi, playlistsDb, videosDb, admin]) {
    return {
        'videos-web': { http: web, admin },
        'playlists-api': { http: playlistsApi, admin: admin + 1 },
        'videos-api': { http: videosApi, admin: admin + 2 },
        'playlists-db': { redis: playlistsDb },
        'videos-db': { redis: videosDb },
    };
}

/**
 * The catalog through scripts/run.sh --bin binDir, each service with its container's rendered
 * env (localEnv) and nothing of the launcher's own wiring: a wiring variable the pod does not
 * set is passed empty, which the services read as unset, as in the pod. Returns the running
 * catalog (scripts/lib/catalog.js) and, per service, { workload, container, env } where env
 * holds the ports the launcher gives (PORT, ADMIN_PORT).
 */
async function startCatalog(objects, binDir, tmp) {
    const ports = await free_ports(8);
    const plan = await planPorts(objects, launcherPorts(ports));
    const services = {};
    const settings = {};
    for (const w of m.workloads(objects).filter((x) => m.ourService(x.containers[0].image))) {
        const c = w.containers[0];
        const service = m.ourService(c.image).service;
        const env = localEnv(c, w.name, plan);
        services[service] = { workload: w.name, container: c, env };
        settings[service] = Object.fromEntries(LAUNCHER_WIRING.map((k) => [k, env[k] ?? '']));
        for (const [k, v] of Object.entries(env)) if (k !== 'PORT' && k !== 'ADMIN_PORT') settings[service][k] = v;
    }
    const catalog = await start_catalog({ bin: binDir, log_file: path.join(tmp, 'catalog.log'), env: { PATH: process.env.PATH }, services: settings, ports });
    return { catalog, services, plan };
}

function assertEqual(a, b) {
    if (a !== b) throw new Error(`${a} !== ${b}`);
}

function tmpDir(prefix) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    // Removed when the test process ends, however it ends (the processes in it are gone by then).
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
}

module.exports = { freePort, get, until, sleep, within, start, stop, planPorts, localEnv, startDatabases, startCatalog, tail, commandExists, tmpDir };
