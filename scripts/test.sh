#!/usr/bin/env bash
# Quick start, second command: install what is missing, build, and run every test.
#   1. the full suite (unit + integration against real dovecot / SMTP sink on 127.0.0.1)
#   2. the unit tests again, built with AddressSanitizer + UndefinedBehaviorSanitizer
#   3. every libFuzzer target in fuzz/ briefly (scripts/fuzz.sh; clang build in build-fuzz)
# Usage: scripts/test.sh [--no-asan]
set -euo pipefail
cd "$(dirname "$0")/.."

asan=1
[ "${1:-}" = "--no-asan" ] && asan=0
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/install-deps.sh

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"

echo "== tests"
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600

if [ "$asan" = 1 ]; then
  echo "== unit tests under ASan + UBSan"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTICKETD_SANITIZE=ON -DTICKETD_BUILD_BENCH=OFF
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -L unit --output-on-failure -j"$jobs" --timeout 900
fi
echo "== fuzz targets: 45 s each, 2 at a time (fails on a crash, leak or hang; docs/security.md)"
# Seeded from the merged corpus in fuzz/corpus/ only: the run costs its 45 s per target, not the
# loading of the whole mail corpus (long runs: scripts/fuzz.sh SECONDS, without FUZZ_SEEDS).
FUZZ_SEEDS=committed FUZZ_JOBS=2 bash scripts/fuzz.sh 45
echo "== all tests passed"
