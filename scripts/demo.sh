#!/usr/bin/env bash
# Quick start, first command: install what is missing, build, and run the demo desk.
#
# A throwaway dovecot IMAP server on 127.0.0.1 (free ports, scratch directory) receives the
# sample conversations in examples/demo/; `ticketd run --once` empties the mailbox into tickets
# (moving each message to "Processed" only after it is committed); the tickets are printed.
# Nothing outside a temporary directory is touched and the server is stopped by PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target ticketd

work=$(mktemp -d /tmp/ticketd-demo.XXXXXX)
chmod 711 "$work"  # dovecot's auth process (user dovecot) must reach its passwd file below
source scripts/lib/testbed.sh
cleanup() { testbed_stop_all; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

echo
echo "== a throwaway IMAP server on 127.0.0.1, with the demo conversations in its INBOX"
testbed_dovecot_start "$work/dovecot" support demo-secret
testbed_dovecot_deliver "$work/dovecot" support examples/demo/*.eml
echo "dovecot pid $DOVECOT_PID, imap://127.0.0.1:$IMAP_PORT/INBOX, $(ls examples/demo/*.eml | wc -l) messages"

printf 'demo-secret\n' > "$work/imap.password"
chmod 600 "$work/imap.password"
{
  cat examples/demo/ticketd.yaml
  cat <<CONF
imap:
  - name: support
    url: imap://127.0.0.1:$IMAP_PORT/INBOX
    username: support
    password_file: imap.password
    require_starttls: false   # loopback demo server; real servers: imaps:// or STARTTLS
    after_ingest: move
    processed_folder: Processed
    poll_interval: 5s
CONF
} > "$work/ticketd.yaml"
ticketd() { "$root/build/daemon/ticketd" "$@"; }

echo
echo "== ticketd check"
ticketd check --config "$work/ticketd.yaml"

echo
echo "== ticketd run --once   (poll, store, move, thread)"
ticketd run --once --config "$work/ticketd.yaml"

echo
echo "== ticketd tickets list"
ticketd tickets list --config "$work/ticketd.yaml"

for n in $(ticketd tickets list --config "$work/ticketd.yaml" --json |
           /usr/bin/python3 -c 'import json,sys; print(" ".join(str(t["number"]) for t in json.load(sys.stdin)))'); do
  echo
  echo "== ticketd tickets show $n"
  ticketd tickets show "$n" --config "$work/ticketd.yaml"
done

echo
echo "== the bounce and the unmatched automatic mail are kept, never turned into tickets:"
/usr/bin/sqlite3 "$work/demo.db" "SELECT id, source, state, outcome FROM inbox WHERE outcome <> 'created' AND outcome <> 'appended';" 2>/dev/null || true
