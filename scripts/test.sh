#!/usr/bin/env bash
# Runs every test, on a fresh Debian 12 machine as root: installs what is missing, builds with
# warnings as errors, runs the unit and integration tests under AddressSanitizer and
# UndefinedBehaviorSanitizer, then every test (unit, integration, fuzz, end-to-end, browser,
# manifests, containers) on the release build. Ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh test
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/manifests && npm ci --no-audit --no-fund --loglevel=error)
jobs=$(nproc)

echo "== sanitizers: unit and integration tests on the ASan+UBSan build"
cmake --preset asan >/dev/null
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan -L 'unit|integration' -j"$jobs"

echo "== fuzzing: libFuzzer over the request handling, bounded time"
scripts/fuzz.sh

echo "== everything on the release build"
cmake --preset release >/dev/null
cmake --build build/release -j"$jobs"
ctest --preset release -j"$jobs"
