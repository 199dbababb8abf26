'use strict';
// The rendered workloads run for real, as local processes:
// - the databases with the Deployments' command and env (redis-seeded.sh on the seed file), and
//   their exec readiness probe answering once seeded (needs redis-server and redis-cli);
// - with SERVICE_BIN_DIR pointing at built executables (build/release/services), the catalog
//   through scripts/run.sh --bin with each service's rendered env (ports moved to the
//   launcher's free loopback ports, Service host names to 127.0.0.1): the probe paths answer on
//   the admin port, the env wires the services together, and SIGTERM turns readiness off while
//   SHUTDOWN_DELAY_MS keeps the process serving.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const m = require('../lib/manifests');
const L = require('../lib/local');
const { contract } = require('../lib/contract');
const { answers } = require('../lib/checks');

const C = contract();
const objects = m.render('deploy/kubernetes/base');
const haveRedis = L.commandExists('redis-server') && L.commandExists('redis-cli');
const binDir = process.env.SERVICE_BIN_DIR;

async function probeExec(db) {
    const r = require('node:child_process').spawnSync(db.probe[0], db.probe.slice(1), { encoding: 'utf8', timeout: 2000 });
    return r.status === 0 && /PONG/.test(r.stdout);
}

test('databases start as their Deployments say and their probe passes once seeded',
    { skip: haveRedis ? false : 'redis-server/redis-cli not installed' }, async () => {
        const plan = await L.planPorts(objects);
        const dbs = await L.startDatabases(objects, plan, L.tmpDir('manifest-db-'));
        try {
            for (const db of dbs) await L.until(`${db.name} readiness probe (${db.output})`, () => probeExec(db), 10000);
            const [pl] = dbs.filter((d) => d.name === 'playlists-db');
            const [vd] = dbs.filter((d) => d.name === 'videos-db');
            const cli = (port, ...args) => require('node:child_process').spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
            assert.equal(JSON.parse(cli(pl.port, 'GET', 'playlists')).length, 4);
            assert.equal(Number(cli(vd.port, 'DBSIZE')), 9);
        } finally {
            for (const db of dbs) await L.stop(db);
        }
    });

test('services run with the rendered env: probes answer on the admin port, the env wires them together, SIGTERM drains',
    {
        skip: !binDir ? 'set SERVICE_BIN_DIR to the built executables (e.g. build/release/services) to run this'
            : !haveRedis ? 'redis-server/redis-cli not installed' : false,
    }, async () => {
        const tmp = L.tmpDir('manifest-svc-');
        const { catalog, services } = await L.startCatalog(objects, binDir, tmp);
        const output = () => L.tail(catalog.log_file);
        try {
            assert.deepEqual(Object.keys(services).sort(), ['playlists-api', 'videos-api', 'videos-web']);
            const procs = Object.entries(services).map(([name, s]) => ({
                name,
                ...s,
                admin: `http://127.0.0.1:${s.env.ADMIN_PORT}`,
                http: `http://127.0.0.1:${s.env.PORT}`,
            }));
            for (const p of procs) {
                // The launcher gives PORT and ADMIN_PORT: the pod's env must name its own ports.
                const rendered = m.envOf(p.container);
                const named = Object.fromEntries(p.container.ports.map((x) => [x.name, String(x.containerPort)]));
                assert.equal(rendered.PORT, named.http, `${p.name}: PORT is the container port named http`);
                assert.equal(rendered.ADMIN_PORT, named.admin, `${p.name}: ADMIN_PORT is the container port named admin`);
                const live = p.container.livenessProbe.httpGet.path;
                const ready = p.container.readinessProbe.httpGet.path;
                await L.until(`${p.name} ${live} (${output()})`, async () => (await L.get(p.admin + live)).status === 200);
                await L.until(`${p.name} ${ready} (${output()})`, async () => (await L.get(p.admin + ready)).status === 200);
                // The admin port is where the probes go, not the serving port.
                assert.equal(p.env.ADMIN_PORT !== p.env.PORT, true);
                assert.ok([200, 404].includes((await L.get(`${p.admin}/metrics`)).status));
            }
            const web = procs.find((p) => p.name === 'videos-web');
            // videos-web -> PLAYLISTS_API_URL -> playlists-api -> VIDEOS_API_URL -> videos-api
            // -> REDIS_HOST: the whole chain as the rendered env wires it.
            const r = await L.until('catalog through videos-web', async () => {
                const x = await L.get(`${web.http}/api/playlists`);
                return x.status === 200 && x;
            });
            const playlists = JSON.parse(r.body);
            assert.equal(playlists.length, 4);
            assert.equal(playlists.reduce((n, p) => n + p.videos.length, 0), 9);

            // The entry check (lib/checks.js) relies on answers() for which paths a service
            // serves, unstripped or not: the real executables must agree, path by path.
            const samples = {
                'playlists-api': ['/', '/api/playlists', '/api', '/api/playlists/x', '/home'],
                'videos-web': ['/', '/home', '/home/', '/home/style.css', '/home/api/playlists', '/homepage',
                    '/style.css', '/nope.css', '/home/nope.css', '/config.json', '/api/playlists'],
            };
            for (const [app, paths] of Object.entries(samples)) {
                const p = procs.find((x) => x.name === app);
                for (const x of paths) {
                    const status = (await L.get(p.http + x)).status;
                    assert.equal(status === 200, answers(app, x, m.envOf(p.container)), `${app} ${x} answered ${status}`);
                }
            }
            const config = await L.get(`${web.http}/config.json`);
            assert.equal(config.status, 200);
            assert.equal(JSON.parse(config.body).version, web.env.VERSION);
            const page = await L.get(`${web.http}/`);
            assert.equal(page.status, 200);

            // Graceful shutdown as the pod would see it: not ready at once, still serving during
            // SHUTDOWN_DELAY_MS, gone with exit 0 within terminationGracePeriodSeconds. The
            // launcher passes SIGTERM to every service and exits 0 only if every part did.
            const sentAt = Date.now();
            catalog.child.kill('SIGTERM');
            for (const p of procs) {
                const ready = p.container.readinessProbe.httpGet.path;
                await L.until(`${p.name} not ready after SIGTERM`, async () => (await L.get(p.admin + ready)).status === 503, 2000, 50);
                const delay = Number(p.env.SHUTDOWN_DELAY_MS ?? C.common.SHUTDOWN_DELAY_MS);
                if (Date.now() - sentAt < delay - 1000) {
                    assert.equal(catalog.exit, null, `the catalog stopped before ${p.name}'s SHUTDOWN_DELAY_MS`);
                    assert.equal((await L.get(p.admin + p.container.livenessProbe.httpGet.path)).status, 200, `${p.name} stays live while draining`);
                }
            }
            const grace = m.named(objects, 'Deployment', 'videos-api').spec.template.spec.terminationGracePeriodSeconds * 1000;
            const exited = await L.within(catalog.exited, grace);
            assert.ok(exited, `still running after terminationGracePeriodSeconds:\n${output()}`);
            assert.deepEqual(exited, { code: 0, signal: null }, `every part exits 0:\n${output()}`);
            assert.ok(Date.now() - sentAt >= Number(procs[0].env.SHUTDOWN_DELAY_MS) - 200, 'SHUTDOWN_DELAY_MS honoured');
        } finally {
            await catalog.stop();
        }
    });
