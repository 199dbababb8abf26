'use strict';
/* Starts the real demo on loopback for the browser tests: the catalog through scripts/run.sh
   --bin with the executables from BUILD_DIR (scripts/lib/catalog.js), and (when asked) a
   prefix-stripping nginx, which is the test's own. nginx runs in its own process group and is
   stopped by its PID (SIGTERM, then SIGKILL after 5 s); an exit hook kills whatever is left,
   so nothing outlives the test. */

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO_DIR = path.resolve(__dirname, '..', '..');
const { start_catalog } = require(path.join(REPO_DIR, 'scripts', 'lib', 'catalog'));

const BUILD_DIR = path.resolve(process.env.BUILD_DIR || path.join(REPO_DIR, 'build', 'release'));
const WEB_ROOT = path.join(REPO_DIR, 'web');
const LOG_DIR = path.join(BUILD_DIR, 'browser-logs');
const READY_TIMEOUT_MS = 15000;
// The contract's settings: never inherited from the caller's environment, only set here.
const SETTINGS = ['PORT', 'ADMIN_PORT', 'REDIS_HOST', 'REDIS_PORT', 'ENVIRONMENT', 'FLAKY', 'FLAKY_RATE',
    'FLAKY_STATUS', 'FLAKY_MODE', 'LATENCY_MS', 'LATENCY_JITTER_MS', 'VIDEOS_API_URL', 'VIDEOS_API_TIMEOUT_MS',
    'FANOUT_LIMIT', 'PLAYLISTS_API_URL', 'WEB_ROOT', 'VERSION', 'THREADS', 'LOG_LEVEL', 'LOG_FORMAT',
    'MAX_CONNECTIONS', 'IDLE_TIMEOUT_MS', 'READ_TIMEOUT_MS', 'SHUTDOWN_DELAY_MS', 'SHUTDOWN_GRACE_MS'];
const STOP_GRACE_MS = 5000;

/** Every process group this module started and has not seen exit yet (pid -> child). */
const live = new Map();
/** Temporary folders to remove if the run is cut short (a signal, an uncaught error). */
const temp_dirs = new Set();

function make_temp_dir(prefix) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    temp_dirs.add(dir);
    return dir;
}

function remove_temp_dir(dir) {
    temp_dirs.delete(dir);
    try {
        fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (e) {
        /* best effort */
    }
}

function kill_group(pid, signal) {
    try {
        process.kill(-pid, signal); // the child leads its own group (detached)
    } catch (e) {
        try {
            process.kill(pid, signal);
        } catch (e2) {
            /* already gone */
        }
    }
}

// Last resort: the test process is exiting (normally, on an uncaught error, or on a signal).
process.on('exit', () => {
    for (const pid of live.keys()) kill_group(pid, 'SIGKILL');
    for (const dir of [...temp_dirs]) remove_temp_dir(dir);
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => process.exit(128 + os.constants.signals[signal]));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loopback TCP port that was free a moment ago (bind port 0, read it, close). */
function free_port() {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}

function port_accepts(port) {
    return new Promise((resolve) => {
        const socket = net.connect({ host: '127.0.0.1', port });
        const done = (ok) => {
            socket.destroy();
            resolve(ok);
        };
        socket.setTimeout(1000, () => done(false));
        socket.once('connect', () => done(true));
        socket.once('error', () => done(false));
    });
}

function tail(file, lines = 25) {
    try {
        return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch (e) {
        return '(no log)';
    }
}

/** One started process: its log file, its exit, and a stop() that escalates to SIGKILL. */
class Proc {
    constructor(name, command, args, env, log_file) {
        this.name = name;
        this.log_file = log_file;
        const fd = fs.openSync(log_file, 'a');
        this.child = spawn(command, args, { env, stdio: ['ignore', fd, fd], detached: true });
        fs.closeSync(fd);
        this.exit_code = undefined;
        this.exited = new Promise((resolve) => {
            this.child.once('exit', (code, signal) => {
                this.exit_code = code === null ? signal : code;
                live.delete(this.child.pid);
                resolve(this.exit_code);
            });
            this.child.once('error', (err) => {
                this.exit_code = `spawn error: ${err.message}`;
                live.delete(this.child.pid);
                resolve(this.exit_code);
            });
        });
        if (this.child.pid) live.set(this.child.pid, this);
    }

    get running() {
        return this.exit_code === undefined;
    }

    describe() {
        return `${this.name} (pid ${this.child.pid}, exit ${this.exit_code}); log ${this.log_file}:\n` +
            tail(this.log_file);
    }

    async stop() {
        if (!this.running || !this.child.pid) return this.exited;
        const pid = this.child.pid;
        kill_group(pid, 'SIGTERM');
        const timer = setTimeout(() => kill_group(pid, 'SIGKILL'), STOP_GRACE_MS);
        await this.exited;
        clearTimeout(timer);
        kill_group(pid, 'SIGKILL'); // anything else left in its group (a shell script's child)
        return this.exit_code;
    }
}

async function wait_until(what, proc, check, timeout_ms = READY_TIMEOUT_MS) {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
        if (!proc.running) throw new Error(`${what}: exited before it was ready\n${proc.describe()}`);
        if (await check()) return;
        if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeout_ms} ms\n${proc.describe()}`);
        await sleep(100);
    }
}

/**
 * A set of processes started for one test file, sharing one temporary folder.
 * Use: const stack = new Stack('name'); ...; after(() => stack.stop_all()).
 */
class Stack {
    constructor(label) {
        this.label = label;
        this.dir = make_temp_dir(`browser-${label}-`);
        this.catalogs = [];
        this.procs = [];
    }

    _spawn(name, command, args, env) {
        const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_');
        const proc = new Proc(name, command, args, env, path.join(this.dir, `${safe}.log`));
        this.procs.push(proc);
        return proc;
    }

    /**
     * The catalog (scripts/run.sh --bin BUILD_DIR/services) on free ports: the two seeded
     * databases and the three services, with each service's own settings (FLAKY for videos-api,
     * VERSION for videos-web, ...). Returns the running catalog: web, playlists, videos (port,
     * url, admin_url), playlists_db, videos_db (port), stop() and start() (same ports, same
     * settings).
     */
    async start_demo({ videos_api = {}, playlists_api = {}, videos_web = {} } = {}) {
        const inherited = { ...process.env };
        for (const name of SETTINGS) delete inherited[name];
        const catalog = await start_catalog({
            bin: path.join(BUILD_DIR, 'services'),
            log_file: path.join(this.dir, `catalog-${this.catalogs.length + 1}.log`),
            // PATH, and ASAN_OPTIONS/UBSAN_OPTIONS for a sanitizer build
            env: { ...inherited, VERSION: 'v1', FLAKY: 'false', LOG_FORMAT: 'json', THREADS: '1' },
            services: { 'videos-api': videos_api, 'playlists-api': playlists_api, 'videos-web': videos_web },
        });
        this.catalogs.push(catalog);
        return catalog;
    }

    /**
     * Debian's nginx as a prefix-stripping entry like the Kubernetes one: /home and /home/x go to
     * videos-web as / and /x, /api/playlists goes straight to playlists-api.
     */
    async start_proxy({ web_port, playlists_port }) {
        const port = await free_port();
        const prefix = path.join(this.dir, 'nginx');
        fs.mkdirSync(prefix, { recursive: true });
        const conf = path.join(prefix, 'nginx.conf');
        fs.writeFileSync(conf, `# Written by tests/browser/stack.js for one test run.
daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log info;
events { worker_connections 128; }
http {
    access_log ${prefix}/access.log;
    client_body_temp_path ${prefix}/client_body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;
    server {
        listen 127.0.0.1:${port};
        location = /home { rewrite ^ / break; proxy_pass http://127.0.0.1:${web_port}; }
        location /home/ { proxy_pass http://127.0.0.1:${web_port}/; }
        location /api/playlists { proxy_pass http://127.0.0.1:${playlists_port}/; }
    }
}
`);
        const proc = this._spawn('nginx', '/usr/sbin/nginx', ['-p', prefix, '-c', conf, '-e', path.join(prefix, 'error.log')],
            { PATH: process.env.PATH });
        await wait_until('nginx', proc, () => port_accepts(port));
        return { port, url: `http://127.0.0.1:${port}`, proc, access_log: path.join(prefix, 'access.log'), stop: () => proc.stop() };
    }

    /** Stops every process of this stack, keeps their logs under BUILD_DIR/browser-logs/<label>/. */
    async stop_all() {
        const exits = [];
        for (const proc of this.procs.splice(0)) {
            try {
                exits.push(`${proc.name} (pid ${proc.child.pid}): exit ${await proc.stop()}`);
            } catch (e) {
                exits.push(`${proc.name}: ${e.message}`);
            }
        }
        for (const catalog of this.catalogs.splice(0)) {
            try {
                const exit = await catalog.stop();
                exits.push(`scripts/run.sh (pid ${catalog.child && catalog.child.pid}): exit ${exit && (exit.code ?? exit.signal)}`);
            } catch (e) {
                exits.push(`scripts/run.sh: ${e.message}`);
            }
        }
        try {
            const keep = path.join(LOG_DIR, this.label);
            fs.rmSync(keep, { recursive: true, force: true });
            fs.mkdirSync(keep, { recursive: true });
            fs.writeFileSync(path.join(keep, 'exit-codes.txt'), exits.join('\n') + '\n');
            for (const file of fs.readdirSync(this.dir, { recursive: true })) {
                if (String(file).endsWith('.log')) {
                    fs.copyFileSync(path.join(this.dir, file), path.join(keep, String(file).replace(/[\\/]/g, '-')));
                }
            }
        } catch (e) {
            /* logs are a convenience */
        }
        remove_temp_dir(this.dir);
    }
}

module.exports = { Stack, free_port, make_temp_dir, remove_temp_dir, BUILD_DIR, REPO_DIR, WEB_ROOT };
