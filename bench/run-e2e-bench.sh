#!/usr/bin/env bash
# End-to-end benchmark (issue 3): a dovecot mailbox of N messages of realistic size, from start to
# the last ticket committed, against mbsync (isync) merely downloading the same mailbox into a
# Maildir, in the same run, both with durable writes (mbsync FSync yes; ticketd synchronous=FULL).
# Also: peak memory of ticketd on the whole backlog, and the delay from a message's arrival to its
# ticket with a 5 s poll interval.
#
# usage: bench/run-e2e-bench.sh [N=10000] [BUILD_DIR=build]
# Needs: dovecot-imapd, isync, python3 (scripts/install-deps.sh). Everything on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n=${1:-10000}
build=${2:-build}
ticketd=$root/$build/daemon/ticketd
[ -x "$ticketd" ] || { echo "build ticketd first: cmake --build $build --target ticketd" >&2; exit 1; }
corpus=$root/../shared/corpus
[ -d "$corpus" ] && [ "${SYNTHETIC:-0}" = 0 ] || corpus=""

work=$(mktemp -d /tmp/ticketd-e2e.XXXXXX)
chmod 711 "$work"
source scripts/lib/testbed.sh
trap 'testbed_stop_all; rm -rf "$work"' EXIT

testbed_dovecot_start "$work/dovecot" support secret
maildir=$work/dovecot/mail/support/Maildir
echo "mailbox: $(/usr/bin/python3 bench/make-mailbox.py "$maildir/new" "$n" $corpus)"
[ "$(id -u)" -eq 0 ] && chown -R dovecot:dovecot "$work/dovecot/mail"
# Let dovecot index the new mail once, so neither contender pays for that alone.
curl -s "imap://127.0.0.1:$IMAP_PORT/" -u support:secret -X 'EXAMINE INBOX' >/dev/null

# --- mbsync: download only
mkdir -p "$work/mbsync/INBOX"
cat > "$work/mbsyncrc" <<CONF
IMAPAccount bench
Host 127.0.0.1
Port $IMAP_PORT
User support
Pass secret
SSLType None
AuthMechs LOGIN

IMAPStore bench-far
Account bench

MaildirStore bench-near
Path $work/mbsync/
Inbox $work/mbsync/INBOX

Channel bench
Far :bench-far:
Near :bench-near:
Patterns INBOX
Create Near
Sync Pull
SyncState *
CONF
/usr/bin/time -f '%e %M %U %S' -o "$work/mbsync.time" mbsync -q -c "$work/mbsyncrc" -a
read mb_s mb_kb mb_user mb_sys < "$work/mbsync.time"
mb_n=$(find "$work/mbsync/INBOX" -type f | wc -l)

# --- ticketd: fetch, commit, mark, parse, thread, store
echo secret > "$work/imap.password"
chmod 600 "$work/imap.password"  # as docs/operations.md asks; else every run logs the warning
cat > "$work/ticketd.yaml" <<CONF
desk: {addresses: [support@example.com], subject_tag: BENCH, database: desk.db}
logging: {level: ${LOG_LEVEL:-warn}}
imap:
  - name: support
    url: imap://127.0.0.1:$IMAP_PORT/INBOX
    username: support
    password_file: imap.password
    require_starttls: false
    after_ingest: seen
    batch_size: 100
    connections: ${CONNECTIONS:-4}
CONF
/usr/bin/time -f "%e %M %U %S" -o "$work/ticketd.time" "$ticketd" run --once --config "$work/ticketd.yaml" || echo "ticketd run --once: exit $? (a mailbox cycle failed)"
read td_s td_kb td_user td_sys < "$work/ticketd.time"
td_n=$(/usr/bin/sqlite3 "$work/desk.db" "SELECT COUNT(*) FROM inbox WHERE state <> 'pending'")
td_t=$(/usr/bin/sqlite3 "$work/desk.db" "SELECT COUNT(*) FROM tickets")

# --- arrival-to-ticket delay at a 5 s poll interval
sed -i 's/    batch_size: 100/    batch_size: 100\n    poll_interval: 5s/' "$work/ticketd.yaml"
"$ticketd" run --config "$work/ticketd.yaml" 2>>"$work/daemon.log" &
daemon=$!
TESTBED_PIDS+=("$daemon")
sleep 1
delays=()
for i in 1 2 3 4 5 6; do
  sleep "0.$((RANDOM % 9 + 1))"
  id="latency-$i-$RANDOM@bench.example"
  printf 'From: a@b.example\r\nTo: support@example.com\r\nSubject: latency %s\r\nMessage-ID: <%s>\r\n\r\nhello\r\n' "$i" "$id" > "$work/lat.eml"
  start=$(date +%s.%N)
  curl -s "imap://127.0.0.1:$IMAP_PORT/INBOX" -u support:secret -T "$work/lat.eml"
  while [ "$(/usr/bin/sqlite3 "$work/desk.db" "SELECT COUNT(*) FROM messages WHERE message_id = '$id'" 2>/dev/null || echo 0)" != 1 ]; do sleep 0.05; done
  end=$(date +%s.%N)
  delays+=("$(/usr/bin/python3 -c "print(round($end - $start, 2))")")
done
kill "$daemon"; wait "$daemon" 2>/dev/null || true

/usr/bin/python3 - "$n" "$mb_s" "$mb_kb" "$mb_n" "$td_s" "$td_kb" "$td_n" "$td_t" "$mb_user" "$mb_sys" "$td_user" "$td_sys" "${delays[@]}" <<'PY'
import sys, statistics
n, mb_s, mb_kb, mb_n, td_s, td_kb, td_n, td_t, mb_user, mb_sys, td_user, td_sys = sys.argv[1:13]
delays = [float(d) for d in sys.argv[13:]]
n, mb_s, td_s = int(n), float(mb_s), float(td_s)
print()
print("%-44s %10s %10s %10s" % ("", "seconds", "msg/s", "peak RSS"))
print("%-44s %10.2f %10.0f %8.1f MB" % ("mbsync (download only, FSync yes)", mb_s, int(mb_n) / mb_s, int(mb_kb) / 1024))
print("%-44s %10.2f %10.0f %8.1f MB" % ("ticketd run --once (to last ticket committed)", td_s, int(td_n) / td_s, int(td_kb) / 1024))
print("messages: %d delivered, mbsync downloaded %s, ticketd processed %s into %s tickets" % (n, mb_n, td_n, td_t))
print("ratio ticketd / mbsync: %.2fx (goal: at most 1.5x)" % (td_s / mb_s))
# CPU next to wall-clock: on a loaded machine, waiting (round trips, the disk, a core) shows as
# wall time well above CPU time.
print("CPU user+sys: mbsync %.2f + %.2f s, ticketd %.2f + %.2f s" % (float(mb_user), float(mb_sys), float(td_user), float(td_sys)))
print("arrival to ticket at poll_interval 5s: median %.2f s, max %.2f s over %d messages" % (statistics.median(delays), max(delays), len(delays)))
PY
