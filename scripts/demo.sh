#!/usr/bin/env bash
# Quick start, first command: install what is missing, build, and run the demo desk.
# The demo files the sample conversations in examples/demo/ into a scratch database and prints
# the tickets ticketd made of them. Nothing outside a temporary directory is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target ticketd

work=$(mktemp -d /tmp/ticketd-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp examples/demo/ticketd.yaml "$work/ticketd.yaml"
ticketd() { "$root/build/daemon/ticketd" "$@"; }

echo
echo "== ticketd check"
ticketd check --config "$work/ticketd.yaml"

echo
echo "== ticketd ingest examples/demo/*.eml"
ticketd ingest --config "$work/ticketd.yaml" examples/demo/*.eml

echo
echo "== ticketd tickets list"
ticketd tickets list --config "$work/ticketd.yaml"

for n in $(ticketd tickets list --config "$work/ticketd.yaml" --json |
           /usr/bin/python3 -c 'import json,sys; print(" ".join(str(t["number"]) for t in json.load(sys.stdin)))'); do
  echo
  echo "== ticketd tickets show $n"
  ticketd tickets show "$n" --config "$work/ticketd.yaml"
done
