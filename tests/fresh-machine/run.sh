#!/usr/bin/env bash
# Fresh-machine test: the project's install step, run in a clean debootstrapped Debian 12 root,
# must leave every command and helper binary the scripts and tests call in place (podman's
# catatonit and the CNI dnsname plugin included), Node.js 20 and the manifest tests' pinned
# kubectl. A package that only a used machine has is caught here in minutes, not by a user.
#
# Usage (as root, Debian 12):  bash tests/fresh-machine/run.sh
# Environment:
#   CONTAINER_TEST_CACHE   cache shared with the container test (default
#                          /var/cache/servicemesh-demo-test): the debootstrapped rootfs tarball
#   FRESH_MACHINE_KEEP=1   keep the root afterwards (its path is printed), for debugging
#
# The root lives in a private mount and PID namespace: every process started in it ends with
# the test and its mounts vanish with it; the folder is removed on exit, even on failure.
set -euo pipefail

# shellcheck source=tests/lib/debian-rootfs.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/debian-rootfs.sh"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache_dir=${CONTAINER_TEST_CACHE:-/var/cache/servicemesh-demo-test}
tarball=$cache_dir/debian-bookworm-slim-rootfs.tar
root=

log() { printf '[fresh-machine] %s\n' "$*"; }
fail() {
    printf '[fresh-machine] FAIL: %s\n' "$*" >&2
    exit 1
}

cleanup() {
    local rc=$?
    trap - EXIT
    if [[ -n $root ]]; then
        if [[ ${FRESH_MACHINE_KEEP:-} == 1 ]]; then
            log "kept the root: $root"
        else
            rm -rf --one-file-system "$root"
        fi
    fi
    [[ $rc -eq 0 ]] && log "PASS" || log "FAILED (exit $rc)"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ $(id -u) -eq 0 ]] || fail "run as root (debootstrap, chroot, namespaces)"
command -v debootstrap >/dev/null || fail "debootstrap is missing: scripts/install-deps.sh test installs it"
mkdir -p "$cache_dir"
if [[ ! -s $tarball ]]; then
    log "debootstrap --variant=minbase bookworm (cached in $tarball)"
    make_debian_rootfs "$tarball" "$cache_dir/debootstrap.log" || fail "debootstrap failed"
fi

root=$(mktemp -d /var/tmp/smdemo-fresh-machine.XXXXXX)
tar -C "$root" -xf "$tarball"
# Only what a user's clone holds that the install step and the kubectl check read.
mkdir -p "$root/opt/repo/scripts" "$root/opt/repo/tests/manifests/lib"
cp "$repo/scripts/install-deps.sh" "$root/opt/repo/scripts/"
cp "$repo/tests/manifests/"{package.json,package-lock.json,.npmrc} "$root/opt/repo/tests/manifests/"
cp "$repo/tests/manifests/lib/kubectl.js" "$root/opt/repo/tests/manifests/lib/"
# The machine's own network set-up, not the project's: its name servers and, where its traffic
# passes a TLS-inspecting egress proxy, the CA that proxy signs with (a new machine of this kind
# has both in its image; ca-certificates' postinst adds them to the root's trust store).
cp /etc/resolv.conf "$root/etc/resolv.conf"
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
missing_before=$(chroot "$root" /opt/repo/scripts/install-deps.sh check test 2>&1 || true)
log "before the install step: ${missing_before#install-deps: }"

log "scripts/install-deps.sh test in the clean root (apt-get, npm)"
start=$SECONDS
unshare --mount --pid --fork --propagation private -- bash -euo pipefail -c '
    root=$1
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --rbind /sys "$root/sys"
    chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root ${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS} bash -euo pipefail -c "
            /opt/repo/scripts/install-deps.sh test
            /opt/repo/scripts/install-deps.sh check test
            export PATH=/opt/repo/.cache/node/bin:\$PATH
            echo \"node \$(node --version), npm \$(npm --version)\"
            cd /opt/repo/tests/manifests
            npm ci --no-audit --no-fund --loglevel=error
            kubectl=\$(node lib/kubectl.js)
            \$kubectl version --client | sed -n 1p  # sed reads it all: head could leave kubectl a SIGPIPE
        "
' fresh-machine "$root" 2>&1 | sed 's/^/    | /'
log "install step and checks: $((SECONDS - start)) s"
