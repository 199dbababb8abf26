'use strict';
/** podman helpers for the image test: the podman run arguments that mirror a rendered pod. */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const m = require('./manifests');

function podmanEnv() {
    if (process.env.CONTAINERS_CONF) return process.env;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'manifest-podman-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const conf = path.join(dir, 'containers.conf');
    fs.writeFileSync(conf, [
        '[containers]', 'default_ulimits = []', 'pids_limit = 0',
        '[engine]', 'runtime = "runc"', 'cgroup_manager = "cgroupfs"', '',
    ].join('\n'));
    return { ...process.env, CONTAINERS_CONF: conf };
}

function podman(env, args, { check = true } = {}) {
    const r = spawnSync('podman', args, { env, encoding: 'utf8', timeout: 120000 });
    if (check && r.status !== 0) throw new Error(`podman ${args.join(' ')}: ${r.stderr || r.stdout}`);
    return r;
}

/** The podman run arguments for one rendered pod's (only) container. */
function runArgs(w, objects, { prefix, network, configDir, envOverrides = {} }) {
    const c = w.containers[0];
    const sc = { ...w.pod.securityContext, ...c.securityContext };
    const args = ['run', '-d', '--name', `${prefix}-${w.name}`, '--network', network,
        '--read-only', '--read-only-tmpfs=false',
        '--user', `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`,
        '--security-opt', 'no-new-privileges'];
    if ((sc.capabilities && sc.capabilities.drop || []).includes('ALL')) args.push('--cap-drop', 'ALL');
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    for (const svc of m.ofKind(objects, 'Service').filter((s) => m.selects(s.spec.selector, w.labels))) {
        args.push('--network-alias', svc.metadata.name);
    }
    for (const vm of c.volumeMounts || []) {
        const vol = w.pod.volumes.find((v) => v.name === vm.name);
        if (vol.emptyDir) {
            args.push('--tmpfs', `${vm.mountPath}:rw,mode=1777${vol.emptyDir.sizeLimit ? `,size=${vol.emptyDir.sizeLimit.replace(/i$/, '').toLowerCase()}` : ''}`);
        } else if (vol.configMap) {
            const cm = m.named(objects, 'ConfigMap', vol.configMap.name);
            const dir = path.join(configDir, vol.configMap.name);
            fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
            fs.chmodSync(dir, 0o755);
            for (const [file, text] of Object.entries(cm.data)) fs.writeFileSync(path.join(dir, file), text, { mode: 0o644 });
            args.push('-v', `${dir}:${vm.mountPath}:ro`);
        } else {
            throw new Error(`${w.name}: volume ${vm.name} of an unexpected kind`);
        }
    }
    for (const [k, v] of Object.entries({ ...m.envOf(c), ...envOverrides })) args.push('-e', `${k}=${withContainerPorts(v, objects)}`);
    for (const p of c.ports || []) args.push('-p', `127.0.0.1::${p.containerPort}`);
    if (c.command) args.push('--entrypoint', JSON.stringify(c.command));
    args.push(c.image, ...(c.args || []));
    return args;
}

/** http://<service>[:port]/... -> http://<service>:<target container port>/... (see top). */
function withContainerPorts(value, objects) {
    return String(value).split(/(\s+)/).map((word) => {
        const origin = /^(https?):\/\/([^/:]+)(?::(\d+))?/.exec(word);
        if (!origin) return word;
        const svc = m.named(objects, 'Service', origin[2]);
        if (!svc) return word;
        const port = svc.spec.ports.find((p) => p.port === Number(origin[3] || 80));
        const pod = m.workloads(objects).find((w) => m.selects(svc.spec.selector, w.labels));
        const target = m.resolvePort(port.targetPort ?? port.port, pod.containers);
        return `${origin[1]}://${origin[2]}:${target}${word.slice(origin[0].length)}`;
    }).join('');
}

function hostPort(env, name, containerPort) {
    const out = podman(env, ['port', name, `${containerPort}/tcp`]).stdout.trim().split('\n')[0];
    return Number(out.split(':').pop());
}

module.exports = { podmanEnv, podman, runArgs, withContainerPorts, hostPort };
