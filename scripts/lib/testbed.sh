# Throwaway mail servers on 127.0.0.1 for the demo and the benchmarks (source this file).
# Everything lives in one scratch directory; servers are stopped by PID. See ../shared/TESTBED.md.
#
#   testbed_free_port                       -> prints a free TCP port on 127.0.0.1
#   testbed_dovecot_start DIR USER PASSWORD -> sets DOVECOT_PID, IMAP_PORT, IMAPS_PORT
#   testbed_dovecot_deliver DIR USER FILE.. -> drops messages into USER's Maildir/new
#   testbed_smtp_sink_start DIR             -> sets SMTP_PID, SMTP_PORT; mail lands in DIR/sink
#   testbed_stop_all                        -> stops what was started (also on EXIT if trapped)

testbed_free_port() {
  /usr/bin/python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# Waits until a TCP server on 127.0.0.1:$1 sends a greeting starting with $2 (max ~10 s).
testbed_wait_greeting() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, want = int(sys.argv[1]), sys.argv[2].encode()
for _ in range(100):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            if s.recv(64).startswith(want):
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
}

testbed_dovecot_start() {
  local dir=$1 user=$2 password=$3
  IMAP_PORT=$(testbed_free_port)
  IMAPS_PORT=$(testbed_free_port)
  mkdir -p "$dir/run" "$dir/mail"
  chmod 755 "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1
  printf '%s:{PLAIN}%s::::\n' "$user" "$password" > "$dir/passwd"
  local login_user=dovenull internal_user=dovecot userdb_args="uid=dovecot gid=dovecot home=$dir/mail/%u"
  if [ "$(id -u)" -ne 0 ]; then
    # Started as a normal user, dovecot runs everything as that user (TESTBED.md).
    login_user=$(id -un) internal_user=$(id -un) userdb_args="home=$dir/mail/%u"
  fi
  cat > "$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/run/state
instance_name = ticketd-testbed-$IMAP_PORT
log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_fsync = never
first_valid_uid = 1
first_valid_gid = 1
default_internal_user = $internal_user
default_internal_group = $internal_user
default_login_user = $login_user
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
  chroot =
}
service anvil {
  chroot =
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = static
  args = $userdb_args
}
namespace inbox {
  inbox = yes
  mailbox Processed {
    auto = create
  }
}
CONF
  mkdir -p "$dir/mail/$user/Maildir/"{new,cur,tmp}
  [ "$(id -u)" -eq 0 ] && chown -R dovecot:dovecot "$dir/mail"
  dovecot -F -c "$dir/dovecot.conf" >>"$dir/dovecot.stdout" 2>&1 &
  DOVECOT_PID=$!
  TESTBED_PIDS+=("$DOVECOT_PID")
  testbed_wait_greeting "$IMAP_PORT" "* OK" || {
    echo "testbed: dovecot did not come up; see $dir/dovecot.log" >&2
    return 1
  }
}

testbed_dovecot_deliver() {
  local dir=$1 user=$2
  shift 2
  local n=0 f
  for f in "$@"; do
    n=$((n + 1))
    cp "$f" "$dir/mail/$user/Maildir/new/$(date +%s).$$_$n.testbed"
  done
  [ "$(id -u)" -eq 0 ] && chown -R dovecot:dovecot "$dir/mail/$user/Maildir"
  return 0
}

testbed_smtp_sink_start() {
  local dir=$1
  SMTP_PORT=$(testbed_free_port)
  mkdir -p "$dir/sink/"{tmp,new,cur}
  /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$dir/sink" \
    >>"$dir/smtp-sink.log" 2>&1 &
  SMTP_PID=$!
  TESTBED_PIDS+=("$SMTP_PID")
  testbed_wait_greeting "$SMTP_PORT" "220" || {
    echo "testbed: SMTP sink did not come up; see $dir/smtp-sink.log" >&2
    return 1
  }
}

testbed_stop_all() {
  local pid
  for pid in "${TESTBED_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${TESTBED_PIDS[@]:-}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  TESTBED_PIDS=()
}

TESTBED_PIDS=()
