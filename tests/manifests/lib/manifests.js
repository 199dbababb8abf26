'use strict';
/**
 * Finds the project's kustomizations, renders them with `kubectl kustomize` and gives the tests
 * the rendered objects plus small lookups over them. Every rendering is done once per process.
 */
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const YAML = require('yaml');
const { kubectl } = require('./kubectl');

const REPO = path.resolve(__dirname, '..', '..', '..');
const DEPLOY = path.join(REPO, 'deploy');
const K8S = path.join(DEPLOY, 'kubernetes');
const NAMESPACE = 'servicemesh-demo';
/** The three images the project builds; everything else must be a public image we chose. */
const SERVICES = ['videos-api', 'playlists-api', 'videos-web'];
const OUR_IMAGE = /^servicemesh\/([a-z-]+):(.+)$/;

/**
 * Every folder under deploy/ that holds a kustomization.yaml, relative to the repo. Components
 * (kind: Component, deploy/kubernetes/components/) are left out: they are parts of overlays, have
 * no namespace of their own, and are rendered and checked as part of every overlay that uses them.
 */
function findKustomizations() {
    const found = [];
    const walk = (dir) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (entry.name === 'kustomization.yaml' && YAML.parse(fs.readFileSync(full, 'utf8')).kind !== 'Component') {
                found.push(path.relative(REPO, dir));
            }
        }
    };
    walk(DEPLOY);
    return found.sort();
}

const renderCache = new Map();

/** `kubectl kustomize DIR` with the pinned kubectl, as text (throws with kubectl's message when it fails). */
function renderText(relDir) {
    if (!renderCache.has(relDir)) {
        const text = execFileSync(kubectl(), ['kustomize', path.join(REPO, relDir)], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
            // kubectl must never reach for a cluster while rendering.
            env: { ...process.env, KUBECONFIG: '/dev/null' },
        });
        renderCache.set(relDir, text);
    }
    return renderCache.get(relDir);
}

/** The rendered objects of a kustomization, parsed strictly (duplicate keys are errors). */
function render(relDir) {
    const docs = YAML.parseAllDocuments(renderText(relDir), { uniqueKeys: true });
    const objects = [];
    for (const doc of docs) {
        if (doc.errors.length) throw new Error(`${relDir}: ${doc.errors.join('; ')}`);
        const obj = doc.toJS();
        if (obj !== null) objects.push(obj);
    }
    return objects;
}

/** Parses every YAML file under a folder strictly: the sources, not just the rendering. */
function parseSourceFiles(dir) {
    const problems = [];
    const walk = (d) => {
        for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
            const full = path.join(d, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (/\.ya?ml$/.test(entry.name)) {
                for (const doc of YAML.parseAllDocuments(fs.readFileSync(full, 'utf8'), { uniqueKeys: true })) {
                    for (const e of doc.errors) problems.push(`${path.relative(REPO, full)}: ${e.message}`);
                }
            }
        }
    };
    walk(dir);
    return problems;
}

const ref = (o) => `${o.kind}/${o.metadata && o.metadata.name}`;
const ofKind = (objects, kind) => objects.filter((o) => o.kind === kind);
const named = (objects, kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);

/** Does a label selector (matchLabels/matchExpressions, or a plain map) select these labels? */
function selects(selector, labels = {}) {
    if (!selector) return false;
    const matchLabels = selector.matchLabels || (selector.matchExpressions ? {} : selector);
    for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
    for (const e of selector.matchExpressions || []) {
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false;
        if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false;
        if (e.operator === 'Exists' && !has) return false;
        if (e.operator === 'DoesNotExist' && has) return false;
    }
    return true;
}

/** Workloads as {deployment, pod template labels, containers}. */
function workloads(objects) {
    return ofKind(objects, 'Deployment').map((d) => ({
        name: d.metadata.name,
        deployment: d,
        labels: d.spec.template.metadata.labels || {},
        pod: d.spec.template.spec,
        containers: d.spec.template.spec.containers,
    }));
}

/** The service an image belongs to, for our own images; null for public images. */
function ourService(image) {
    const m = OUR_IMAGE.exec(image || '');
    return m ? { service: m[1], tag: m[2] } : null;
}

/** A container's env as a plain object (value entries only). */
function envOf(container) {
    const env = {};
    for (const e of container.env || []) if ('value' in e) env[e.name] = e.value;
    return env;
}

/** Resolves a Service/probe port (number or container port name) to a container port number. */
function resolvePort(port, containers) {
    if (typeof port === 'number') return port;
    if (/^\d+$/.test(String(port))) return Number(port);
    for (const c of containers) for (const p of c.ports || []) if (p.name === port) return p.containerPort;
    return undefined;
}

/** Project version from docs/contract.md ("Project version: X"). */
function contractVersion() {
    const m = /Project version:\s*([0-9][^\s.]*(?:\.[0-9][^\s.]*)*)\.?\s/.exec(readRepo('docs/contract.md'));
    return m && m[1].replace(/\.$/, '');
}

function readRepo(rel) {
    return fs.readFileSync(path.join(REPO, rel), 'utf8');
}

module.exports = {
    REPO, DEPLOY, K8S, NAMESPACE, SERVICES,
    findKustomizations, render, renderText, parseSourceFiles,
    ref, ofKind, named, selects, workloads, ourService, envOf, resolvePort, contractVersion, readRepo,
};
