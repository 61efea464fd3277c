#!/bin/sh
# Runs the team's scorer over the shared corpus with the real binary; fails below 97% or on any
# crash, skips (77) when the shared folder is absent.
# usage: check_score.sh TICKETD_BINARY SHARED_DIR
bin=$1
shared=$2
if [ ! -x "$shared/tools/score-parse" ] || [ ! -d "$shared/corpus/parse" ]; then
    echo "no shared corpus at $shared: skipped"
    exit 77
fi
out=$("$shared/tools/score-parse" "$shared/corpus/parse" -- "$bin" parse --json) || { echo "$out"; exit 1; }
echo "$out"
last=$(printf '%s\n' "$out" | tail -n 1)
# "score: P% (passed/checked checks), crashes: N"
passed=$(printf '%s\n' "$last" | sed -n 's/.*(\([0-9]*\)\/\([0-9]*\) checks).*/\1/p')
checked=$(printf '%s\n' "$last" | sed -n 's/.*(\([0-9]*\)\/\([0-9]*\) checks).*/\2/p')
crashes=$(printf '%s\n' "$last" | sed -n 's/.*crashes: \([0-9]*\).*/\1/p')
if [ -z "$passed" ] || [ -z "$checked" ] || [ -z "$crashes" ]; then
    echo "cannot read the scorer's last line: $last"
    exit 1
fi
if [ "$crashes" -ne 0 ]; then
    echo "FAIL: $crashes crash(es)"
    exit 1
fi
# at least 97%, in integers: passed * 100 >= checked * 97
if [ $((passed * 100)) -lt $((checked * 97)) ]; then
    echo "FAIL: below 97%"
    exit 1
fi
exit 0
