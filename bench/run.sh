#!/usr/bin/env bash
# The benchmark of the three services on loopback, with nginx serving the playlists answer as a
# static file as the ceiling to compare with. One command, from anywhere:
#
#     bench/run.sh
#
# This launcher does what needs root or the package manager: installs what is missing (wrk,
# nginx-light, redis, curl, a profiler, and what the build needs, via scripts/install-deps.sh),
# builds the release binaries (cmake --preset release), picks the profiler and raises the limit
# on open files. bench/bench.py then starts the servers, measures, writes the run as JSON
# (bench/results/) and renders bench/RESULTS.md from it. Settings: bench/README.md.
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
profiler=${BENCH_PROFILER:-auto}

say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    say "FAILED: $*"
    exit 1
}

apt_updated=0
apt_install() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    if [ "$apt_updated" = 0 ]; then
        say "apt-get update"
        $sudo apt-get update -qq >&2
        apt_updated=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

ensure_tools() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v redis-cli >/dev/null || missing+=(redis-tools)
    command -v curl >/dev/null || missing+=(curl) # scripts/run.sh's readiness checks
    command -v python3 >/dev/null || missing+=(python3)
    command -v cmake >/dev/null || missing+=(cmake)
    [ ${#missing[@]} = 0 ] || apt_install "${missing[@]}"
}

hardware_counters() {
    local out
    out=$(perf stat -e instructions true 2>&1) || return 1
    grep -q instructions <<<"$out" && ! grep -q 'not supported' <<<"$out"
}

choose_profiler() {
    if [ "$profiler" = auto ]; then
        command -v perf >/dev/null || apt_install linux-perf || true
        if command -v perf >/dev/null && hardware_counters; then profiler=perf; else profiler=callgrind; fi
    fi
    case $profiler in
    perf) command -v perf >/dev/null || apt_install linux-perf ;;
    callgrind) command -v valgrind >/dev/null || apt_install valgrind ;;
    none) ;;
    *) die "BENCH_PROFILER must be auto, perf, callgrind or none" ;;
    esac
}

build_services() {
    [ "${BENCH_BUILD:-1}" != 0 ] || return 0
    # The build's own dependencies (compiler, -dev packages), as the README's run command
    # installs them: a machine that only ever ran the benchmark has them too.
    "$repo/scripts/install-deps.sh" run >&2 || die "could not install the build dependencies"
    say "building the release binaries"
    (cd "$repo" && { [ -f build/release/CMakeCache.txt ] || cmake --preset release >&2; } &&
        cmake --build build/release -j"$(nproc)" >&2) || die "release build failed"
}

ensure_tools
choose_profiler
build_services
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 2200 ] || die "ulimit -n is $(ulimit -n): 1000 connections need more"
# BENCH_PROFILER as the user gave it goes into the report's command line; the choice is passed on.
BENCH_PROFILER_CHOSEN=$profiler exec python3 "$bench_dir/bench.py"
