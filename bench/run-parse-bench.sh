#!/bin/sh
# Parsing benchmark: ticketd's parse() and Python's email over the shared corpus in one run,
# and peak memory on a message with a 50 MB base64 attachment.
# usage: bench/run-parse-bench.sh [BUILD_DIR] [extra bench_parse args...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=${1:-$src/build}
[ $# -gt 0 ] && shift
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target bench_parse >/dev/null
exec "$build/bench/bench_parse" --corpus "$src/../shared/corpus" --peer "$here/py_email_parse.py" "$@"
