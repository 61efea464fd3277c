#!/usr/bin/env bash
# Installs every Debian package ticketd needs to build, test and run its demo, when missing.
# Safe to run again: it installs nothing when everything is there.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config
  # rebuilds across build directories (the sanitizer build, several checkouts) reuse objects
  ccache
  # libFuzzer targets in fuzz/ (clang -fsanitize=fuzzer)
  clang
  # libraries ticketd links
  libmimetic-dev libsqlite3-dev libyaml-cpp-dev libboost-dev libcurl4-openssl-dev libssl-dev
  libcli11-dev libspdlog-dev libfmt-dev libre2-dev nlohmann-json3-dev libkainjow-mustache-dev
  libgumbo-dev libsystemd-dev libhowardhinnant-date-dev libicu-dev
  # the process allocator (cmake/Allocator.cmake)
  libmimalloc-dev
  # the IANA time-zone database SLA calendars read (date/tz with USE_OS_TZDB); slim images lack it
  tzdata
  # tests (libjemalloc2: a malloc for the test that preloads one in front of the binary's own)
  googletest libgtest-dev libgmock-dev python3 libjemalloc2
  # real servers for integration tests and the demo (IMAP, SMTP sink), the mbsync peer for bench/
  dovecot-imapd python3-aiosmtpd isync openssl sqlite3
  # system tests: the unit (systemd-analyze, sysusers, tmpfiles), the .deb (cpack's dpkg-shlibdeps), the man page
  systemd dpkg-dev groff-base
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
