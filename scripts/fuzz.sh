#!/usr/bin/env bash
# The libFuzzer targets in fuzz/ (issue 8): build them with clang (ASan + UBSan + coverage) in
# build-fuzz/ and run each for SECONDS (default 60), one after the other.
#   scripts/fuzz.sh [SECONDS] [TARGET...]        e.g. scripts/fuzz.sh 600 fuzz_parse
# Fails when a target crashes, leaks, hangs (an input taking over FUZZ_TIMEOUT seconds, default
# 10: ASan and coverage make code 3-5x slower than a release build) or uses over 2 GB; the input
# that did it is kept in build-fuzz/artifacts/ (turn it into a regression test in tests/unit/ with
# the input in tests/data/fuzz-regressions/). Inputs that found new coverage accumulate in
# build-fuzz/corpus/TARGET/, so each run starts where the last one stopped.
# Seeds (read only): ../shared/corpus/ when present (else tests/data/ alone), tests/data/, and the
# small hand-written seeds and dictionaries in fuzz/seeds/.
# Env: FUZZ_BUILD_DIR (build-fuzz), FUZZ_JOBS (targets run at once, default 1), FUZZ_TIMEOUT.
# FUZZ_SEEDS=committed (what scripts/test.sh uses): seed each target from fuzz/corpus/TARGET/ only,
# a merged, minimised corpus kept in the repository, and drop what the short run finds, so a run
# costs its SECONDS instead of loading the whole mail corpus and every input earlier runs kept.
# FUZZ_MERGE=1: instead of fuzzing, rebuild fuzz/corpus/TARGET/ with libFuzzer -merge=1 over it,
# the seeds and build-fuzz/corpus/TARGET/ (the smallest set of inputs with the same coverage).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${1:-60}
[ $# -gt 0 ] && shift
build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-1}
timeout=${FUZZ_TIMEOUT:-10}
shared=${TICKETD_SHARED_DIR:-$root/../shared}
all=(fuzz_parse fuzz_classify fuzz_threading fuzz_imap fuzz_imap_fetch fuzz_config fuzz_rules fuzz_sla
     fuzz_agent_commands fuzz_auth_results fuzz_html fuzz_skeleton)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

echo "== fuzz: build (clang, libFuzzer, ASan + UBSan) in $build"
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DTICKETD_FUZZ=ON -DTICKETD_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}"

mail_seeds=("$root/tests/data")
if [ -d "$shared/corpus" ]; then mail_seeds+=("$shared/corpus"); else echo "(no $shared/corpus: seeding from tests/data only)"; fi
seeds="$root/fuzz/seeds"

# Per target: seed directories, dictionary, largest input. Mail gets room for real messages with
# attachments; YAML and protocol lines stay small so the fuzzer spends its time on structure.
args_for() {
  case "$1" in
    fuzz_parse|fuzz_classify|fuzz_skeleton) echo "-max_len=131072 -dict=$seeds/mail.dict ${mail_seeds[*]}" ;;
    fuzz_threading) echo "-max_len=65536 -dict=$seeds/mail.dict $seeds/threading ${mail_seeds[*]}" ;;
    fuzz_imap) echo "-max_len=4096 $seeds/imap" ;;
    fuzz_imap_fetch) echo "-max_len=8192 $seeds/imap_fetch" ;;
    fuzz_config) echo "-max_len=16384 -dict=$seeds/yaml.dict $seeds/config" ;;
    fuzz_rules) echo "-max_len=16384 -dict=$seeds/yaml.dict $seeds/rules" ;;
    fuzz_sla) echo "-max_len=16384 -dict=$seeds/yaml.dict $seeds/sla" ;;
    fuzz_agent_commands) echo "-max_len=4096 $seeds/agent_commands" ;;
    fuzz_auth_results) echo "-max_len=4096 $seeds/auth_results" ;;
    fuzz_html) echo "-max_len=65536 -dict=$seeds/html.dict $seeds/html" ;;
    *) echo "unknown target $1" >&2; return 1 ;;
  esac
}

mkdir -p "$build/artifacts" "$build/logs" "$build/run"
run_one() {
  local t=$1 corpus="$root/$build/corpus/$1" log="$root/$build/logs/$1.log" rc=0
  mkdir -p "$corpus"
  # An empty working directory: the config target must not find templates/ or rule files.
  local cwd; cwd=$(mktemp -d "$root/$build/run/$t.XXXXXX")
  local args; args=$(args_for "$t")
  if [ "${FUZZ_MERGE:-}" = 1 ]; then
    local kept="$root/fuzz/corpus/$t" merged="$cwd/merged"
    mkdir -p "$kept" "$merged"
    # shellcheck disable=SC2086
    # Kept small on purpose: edges, not hit counts (-use_counters=0), and at most
    # FUZZ_MERGE_MAX_LEN (16384) bytes of each input (libFuzzer truncates longer ones): for
    # fuzz_parse 629 files, 1.1 MB, for 5468 of the 5471 edges the whole kept corpus reached.
    (cd "$cwd" && "$root/$build/fuzz/$t" -merge=1 -timeout="$timeout" -rss_limit_mb=2048 \
       "$merged" "$kept" "$corpus" $args -use_counters=0 -max_len="${FUZZ_MERGE_MAX_LEN:-16384}") \
       > "$log" 2>&1 || rc=$?
    if [ "$rc" = 0 ]; then rm -rf "$kept" && mv "$merged" "$kept"; fi
    rm -rf "$cwd"
    echo "$t: merge rc=$rc: fuzz/corpus/$t holds $(ls "$kept" | wc -l) files, $(du -sk "$kept" | cut -f1) KB"
    return "$rc"
  fi
  if [ "${FUZZ_SEEDS:-}" = committed ]; then
    corpus="$cwd/found"  # this run's finds, dropped with $cwd
    mkdir -p "$corpus"
    # fuzz_skeleton reads the same mail as fuzz_parse: it starts from that target's kept corpus.
    local kept_seeds=$t
    [ "$t" = fuzz_skeleton ] && kept_seeds=fuzz_parse
    args="$(printf '%s\n' $args | grep '^-' | tr '\n' ' ') $root/fuzz/corpus/$kept_seeds"
  fi
  # shellcheck disable=SC2086
  (cd "$cwd" && "$root/$build/fuzz/$t" -max_total_time="$seconds" -timeout="$timeout" \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$root/$build/artifacts/$t-" \
     "$corpus" $args) > "$log" 2>&1 || rc=$?
  local kept_files; kept_files=$(ls "$corpus" | wc -l)
  rm -rf "$cwd"
  local done_line execs
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" = 0 ]; then
    echo "$t: ok, ${execs:-?} runs in ${seconds}s; ${done_line#*DONE   }; corpus $kept_files files"
  else
    echo "$t: FAILED (exit $rc): $(grep -m1 -E 'ERROR: |SUMMARY: ' "$log" || echo see log); log $log"
    ls "$root/$build/artifacts/$t-"* 2>/dev/null | sed 's/^/  input: /' || true
  fi
  return "$rc"
}

echo "== fuzz: ${#targets[@]} targets, ${seconds}s each, $jobs at a time (logs: $build/logs/)"
failed=0
running=0
results=$(mktemp)
for t in "${targets[@]}"; do
  { run_one "$t" || echo "FAILED $t" >> "$results"; } &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait
if [ -s "$results" ]; then failed=1; fi
rm -f "$results"
if [ "$failed" = 1 ]; then echo "== fuzz: FAILED"; exit 1; fi
echo "== fuzz: no crash, leak or hang"
