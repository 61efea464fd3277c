#!/bin/sh
# Outbox benchmark: 5,000 queued mails to a local aiosmtpd sink by ticketd's sender, then the same
# bytes by Python's smtplib over one connection to the same sink, in one run.
# usage: bench/run-outbox-bench.sh [BUILD_DIR] [extra bench_outbox args...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=${1:-$src/build}
[ $# -gt 0 ] && shift
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target bench_outbox >/dev/null
exec "$build/bench/bench_outbox" --mails 5000 --peer "$here/py_smtplib_send.py" "$@"
