'use strict';
/**
 * The catalog for Node tests: starts scripts/run.sh --bin on free loopback ports, waits for its
 * "The catalog is running" line, stops it with SIGTERM and waits. Its output goes to a log file.
 * If the test process ends first (a failure, a signal), an exit hook sends SIGTERM to every
 * launcher's process group, so the launcher and everything it started still stop.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const RUN_SH = path.resolve(__dirname, '..', 'run.sh');
const READY_LINE = 'The catalog is running';
const READY_TIMEOUT_MS = 30000;
const STOP_TIMEOUT_MS = 30000;
const PORT_VARIABLES = ['WEB_PORT', 'PLAYLISTS_API_PORT', 'VIDEOS_API_PORT', 'PLAYLISTS_DB_PORT', 'VIDEOS_DB_PORT'];

/** Launchers (process group leaders) not yet seen to exit. */
const live = new Set();
process.on('exit', () => {
    for (const pid of live) kill_group(pid, 'SIGTERM');
});

function kill_group(pid, signal) {
    try {
        process.kill(-pid, signal);
    } catch {
        /* already gone */
    }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function port_free(port) {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.unref();
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
}

/**
 * count consecutive loopback ports that were free a moment ago, below the kernel's ephemeral
 * range (32768+), where a busy machine's outgoing connections could take them meanwhile.
 */
async function free_ports(count) {
    for (;;) {
        const base = 20000 + Math.floor(Math.random() * (12000 - count));
        const ports = Array.from({ length: count }, (_, i) => base + i);
        let all = true;
        for (const port of ports) if (!(all = await port_free(port))) break;
        if (all) return ports;
    }
}

/** The launcher's port variables for a block of 8 ports (five, then three admin ports). */
function port_env(ports) {
    return { ...Object.fromEntries(PORT_VARIABLES.map((name, i) => [name, String(ports[i])])), ADMIN_PORT_BASE: String(ports[5]) };
}

function tail(file, lines = 40) {
    try {
        return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
        return '(no output)';
    }
}

/**
 * One run of scripts/run.sh. options:
 *   bin       folder of the executables (build/<preset>/services)
 *   log_file  where its output goes
 *   env       the environment (settings for every service); port variables are set here
 *   services  { 'videos-api': { FLAKY: 'true' }, ... }: settings for one service (--env)
 *   ports     a block of 8 ports from free_ports(8), to start again on the same ports
 */
class Catalog {
    constructor({ bin, log_file, env = process.env, services = {}, ports }) {
        this.bin = bin;
        this.log_file = log_file;
        this.env = env;
        this.args = ['--bin', bin];
        for (const [service, settings] of Object.entries(services)) {
            for (const [name, value] of Object.entries(settings)) this.args.push('--env', `${service}:${name}=${value}`);
        }
        this.ports = ports;
        this.child = null;
    }

    /** Starts the launcher and resolves once the catalog is running; throws with its output if not. */
    async start() {
        if (!this.ports) this.ports = await free_ports(8);
        const [web, playlists_api, videos_api, playlists_db, videos_db, admin] = this.ports;
        Object.assign(this, {
            web: { port: web, url: `http://127.0.0.1:${web}`, admin_url: `http://127.0.0.1:${admin}` },
            playlists: { port: playlists_api, url: `http://127.0.0.1:${playlists_api}`, admin_url: `http://127.0.0.1:${admin + 1}` },
            videos: { port: videos_api, url: `http://127.0.0.1:${videos_api}`, admin_url: `http://127.0.0.1:${admin + 2}` },
            playlists_db: { port: playlists_db },
            videos_db: { port: videos_db },
        });
        const fd = fs.openSync(this.log_file, 'a');
        const from = fs.fstatSync(fd).size; // a restart appends: look for the line after this
        const child = spawn(RUN_SH, this.args, { env: { ...this.env, ...port_env(this.ports) }, stdio: ['ignore', fd, fd], detached: true });
        fs.closeSync(fd);
        this.child = child;
        this.exit = null;
        this.exited = new Promise((resolve) => {
            child.once('exit', (code, signal) => resolve((this.exit = { code, signal })));
            child.once('error', (error) => resolve((this.exit = { code: null, signal: null, error })));
        });
        this.exited.then(() => live.delete(child.pid));
        if (child.pid) live.add(child.pid);
        const deadline = Date.now() + READY_TIMEOUT_MS;
        for (;;) {
            if (this.exit) throw new Error(`scripts/run.sh ended before the catalog ran (${this.describe_exit()}):\n${tail(this.log_file)}`);
            if (fs.readFileSync(this.log_file).subarray(from).includes(READY_LINE)) return this;
            if (Date.now() > deadline) {
                await this.stop();
                throw new Error(`scripts/run.sh: no "${READY_LINE}" within ${READY_TIMEOUT_MS} ms:\n${tail(this.log_file)}`);
            }
            await sleep(100);
        }
    }

    describe_exit() {
        return this.exit.error ? this.exit.error.message : `exit ${this.exit.code ?? this.exit.signal}`;
    }

    /** SIGTERM to the launcher and wait for it (SIGKILL to its group after 30 s). Returns its exit. */
    async stop() {
        if (!this.child || this.exit) return this.exit;
        this.child.kill('SIGTERM');
        const timer = setTimeout(() => kill_group(this.child.pid, 'SIGKILL'), STOP_TIMEOUT_MS);
        await this.exited;
        clearTimeout(timer);
        return this.exit;
    }
}

/** Starts a catalog (see Catalog) and resolves once it runs. */
function start_catalog(options) {
    return new Catalog(options).start();
}

module.exports = { start_catalog, Catalog, free_ports, port_env, tail, READY_LINE, RUN_SH };
