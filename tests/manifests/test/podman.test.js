'use strict';
// The pods' containers start as the manifests say, with the real images: every Deployment of the
// base (plus videos-web v2 from the Istio overlay) runs under podman with the rendered command,
// env, user, read-only root filesystem, no capabilities and no privilege escalation, its
// emptyDirs as tmpfs and its ConfigMaps as read-only mounts; then the probes must answer and
// the catalog must come through videos-web.
//
// Needs podman and the images (built by the container test: servicemesh/<service>:1.0.0 and
// redis:7-alpine or its labelled test stand-in), so it runs only with PODMAN_IMAGES=1. Podman
// set-up: shared/containers.md (CONTAINERS_CONF is honoured; without it a temporary config with
// runc and cgroupfs is written).
//
// One difference from Kubernetes, on purpose: podman has no Services, so containers are reached
// by their Service names as network aliases on their container ports; URLs in env that name a
// Service port (http://playlists-api -> port 80) are rewritten to the target container port.
// That mapping itself is checked by the consistency tests.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const m = require('../lib/manifests');
const L = require('../lib/local');
const { podmanEnv, podman, runArgs, hostPort } = require('../lib/podman');

const enabled = process.env.PODMAN_IMAGES === '1';

test('podman: the images start as the rendered pods say and their probes answer',
    { skip: enabled ? false : 'PODMAN_IMAGES=1 not set: needs podman and the images built by the container test (servicemesh/*:1.0.0, redis:7-alpine)' },
    async (t) => {
        const env = podmanEnv();
        assert.equal(podman(env, ['--version'], { check: false }).status, 0, 'podman is not installed (shared/containers.md)');
        const base = m.render('deploy/kubernetes/base');
        const istio = m.render('deploy/kubernetes/overlays/istio');
        const workloads = [...m.workloads(base), m.workloads(istio).find((w) => w.name === 'videos-web-v2')];
        // Env and Service names resolve within the base rendering; v2 shares videos-web's.
        const objects = [...base, ...m.ofKind(istio, 'Deployment').filter((d) => d.metadata.name === 'videos-web-v2')];
        const missing = [...new Set(workloads.map((w) => w.containers[0].image))]
            .filter((image) => podman(env, ['image', 'exists', image], { check: false }).status !== 0);
        assert.deepEqual(missing, [], 'images missing from podman\'s store: run the container test first');

        const prefix = `manifests-${process.pid}`;
        const network = prefix;
        const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'manifest-configmaps-'));
        fs.chmodSync(configDir, 0o755);
        const started = [];
        podman(env, ['network', 'create', network]);
        try {
            // Databases first (nothing depends on start order, but it keeps the logs tidy).
            const order = [...workloads].sort((a, b) => Number(b.name.endsWith('-db')) - Number(a.name.endsWith('-db')));
            // The traffic generator needs wget in the redis image (busybox's in redis:7-alpine). The
            // container test's TEST-ONLY stand-in for redis:7-alpine may not have it: say so and
            // leave the generator out rather than fail on the stand-in's shape.
            const generator = order.find((w) => w.name === 'traffic-generator');
            const hasWget = podman(env, ['run', '--rm', '--entrypoint', '/bin/sh', generator.containers[0].image,
                '-c', 'command -v wget && command -v timeout'], { check: false }).status === 0;
            if (!hasWget) {
                t.diagnostic(`${generator.containers[0].image} has no wget/timeout (the TEST-ONLY stand-in?): traffic generator not run`);
                order.splice(order.indexOf(generator), 1);
                workloads.splice(workloads.indexOf(generator), 1);
            }
            for (const w of order) {
                // Only the report interval differs, so that the generator's summary shows up within seconds.
                const envOverrides = w.name === 'traffic-generator' ? { REPORT_EVERY: '5' } : {};
                podman(env, runArgs(w, objects, { prefix, network, configDir, envOverrides }));
                started.push(w);
            }
            const logs = (w) => podman(env, ['logs', `${prefix}-${w.name}`], { check: false });
            const running = (w) => podman(env, ['inspect', '-f', '{{.State.Running}}', `${prefix}-${w.name}`]).stdout.trim() === 'true';

            for (const w of workloads) {
                const c = w.containers[0];
                const name = `${prefix}-${w.name}`;
                const describe = () => { const l = logs(w); return `${name}: ${(l.stdout + l.stderr).slice(-800)}`; };
                // The user the container really runs as.
                const user = podman(env, ['inspect', '-f', '{{.Config.User}}', name]).stdout.trim();
                assert.match(user, /^10001|^999/, `${name} user`);
                if (!c.readinessProbe) {
                    continue; // the traffic generator, checked below
                }
                if (c.readinessProbe.exec) {
                    await L.until(`${describe()} exec readiness`, () => {
                        const r = podman(env, ['exec', name, ...c.readinessProbe.exec.command], { check: false });
                        return r.status === 0 && /PONG/.test(r.stdout);
                    }, 60000, 500);
                } else {
                    const admin = hostPort(env, name, m.resolvePort(c.readinessProbe.httpGet.port, [c]));
                    for (const probe of ['readinessProbe', 'livenessProbe']) {
                        await L.until(`${describe()} ${c[probe].httpGet.path}`, async () =>
                            (await L.get(`http://127.0.0.1:${admin}${c[probe].httpGet.path}`)).status === 200, 60000, 500);
                    }
                }
                assert.ok(running(w), describe());
            }

            // The catalog through videos-web, as the page asks for it; and v2 is the v2 page.
            const web = workloads.find((w) => w.name === 'videos-web');
            const webPort = hostPort(env, `${prefix}-videos-web`, web.containers[0].ports.find((p) => p.name === 'http').containerPort);
            const r = await L.until('catalog through videos-web', async () => {
                const x = await L.get(`http://127.0.0.1:${webPort}/api/playlists`);
                return x.status === 200 && x;
            }, 30000, 500);
            const playlists = JSON.parse(r.body);
            assert.equal(playlists.length, 4);
            assert.equal(playlists.reduce((n, p) => n + p.videos.length, 0), 9);
            const v2 = workloads.find((w) => w.name === 'videos-web-v2');
            const v2Port = hostPort(env, `${prefix}-videos-web-v2`, v2.containers[0].ports.find((p) => p.name === 'http').containerPort);
            assert.equal(JSON.parse((await L.get(`http://127.0.0.1:${v2Port}/config.json`)).body).version, 'v2');

            // The traffic generator gets answers from both targets. It may have started before
            // its targets were ready, and a summary may still be due for rounds from then: so the
            // count starts at the first summary printed from now on, and from there at least 10
            // more answers must come with no new failure.
            const gen = workloads.find((w) => w.name === 'traffic-generator');
            const summaries = () => [...logs(gen).stdout.matchAll(/rounds=(\d+) ok=(\d+) failed=(\d+)/g)]
                .map((x) => ({ ok: Number(x[2]), failed: Number(x[3]) }));
            if (gen) {
                const seen = summaries().length;
                await L.until('traffic generator succeeding', () => {
                    const all = summaries();
                    if (!running(gen) || all.length < seen + 2) return false;
                    const [start, last] = [all[seen], all[all.length - 1]];
                    return last.ok - start.ok >= 10 && last.failed === start.failed;
                }, 60000, 1000);
                assert.match(logs(gen).stdout, /GET http:\/\/videos-web/);
            }
        } finally {
            for (const w of started) podman(env, ['rm', '-f', '-v', '-t', '2', `${prefix}-${w.name}`], { check: false });
            podman(env, ['network', 'rm', '-f', network], { check: false });
            fs.rmSync(configDir, { recursive: true, force: true });
        }
    });
