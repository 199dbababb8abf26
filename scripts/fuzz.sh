#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS (default 20) from the
# corpus in tests/fuzz/corpus. New inputs go to the build folder, never into the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-20}
CXX=clang++ cmake -S tests/fuzz -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/fuzz -j"$(nproc)"
for target in videos_api videos_web playlists_api; do
    work=build/fuzz/corpus/$target
    mkdir -p "$work"
    cp -n tests/fuzz/corpus/$target/* "$work/" 2>/dev/null || true
    echo "fuzz_$target: ${seconds}s"
    build/fuzz/fuzz_$target -max_total_time="$seconds" -max_len=20000 -print_final_stats=0 \
        -artifact_prefix=build/fuzz/ "$work" 2>&1 | tail -n 2
done
