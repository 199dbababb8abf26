#!/usr/bin/env bash
# Installs, from Debian's packages, what the project needs and the machine lacks.
#   scripts/install-deps.sh run    what building and running the catalog needs
#   scripts/install-deps.sh test   that, plus what every test needs
set -euo pipefail

purpose=${1:-run}
packages=(g++ cmake make pkg-config libboost1.81-dev libhiredis-dev nlohmann-json3-dev
          libsimdjson-dev libspdlog-dev libfmt-dev libgtest-dev redis-server redis-tools curl ca-certificates)
if [ "$purpose" = test ]; then
    packages+=(clang libclang-rt-14-dev chromium nginx-light wrk python3
               podman runc debootstrap podman-compose procps iproute2 busybox)
    # Node.js may come from elsewhere (NodeSource's nodejs bundles npm and conflicts with
    # Debian's npm package): install Debian's only when there is no node or npm at all.
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        packages+=(nodejs npm)
    fi
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root or install them first" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
