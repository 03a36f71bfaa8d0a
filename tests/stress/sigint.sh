#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# sigint.sh FOLIOTORTURE: SIGINT stops a long run within a second, after a
# final audit, with the summary, exit code 0 and the JSON result file.
set -u
ft="$1"
json=$(mktemp)
out=$(mktemp)
trap 'rm -f "$json" "$out"' EXIT
"$ft" --duration=10m --stat-interval=1s --json="$json" --repro-file= >"$out" 2>&1 &
pid=$!
sleep 2
start=$(date +%s%N)
kill -INT "$pid"
wait "$pid"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cat "$out"
echo "exit $rc after ${ms} ms"
fail=0
[ "$rc" = 0 ] || { echo "not ok: exit code $rc"; fail=1; }
# The bound is generous for the tsan build; a plain build stops in ~100 ms.
[ "$ms" -lt 5000 ] || { echo "not ok: took ${ms} ms"; fail=1; }
grep -q "stopped by signal 2" "$out" || { echo "not ok: no signal line"; fail=1; }
grep -q "End of test: SUCCESS" "$out" || { echo "not ok: no SUCCESS banner"; fail=1; }
for key in '"outcome": "SUCCESS"' '"exit_code": 0' '"seed": "0x' '"ops": {"read": [1-9]' \
           '"vm_events": {"pgfault": [1-9]' '"audits": [1-9]' '"trace_hash": "0x'; do
  grep -q "$key" "$json" || { echo "not ok: JSON lacks $key"; fail=1; }
done
cat "$json"
[ "$fail" = 0 ] && echo "ok: SIGINT ends the run cleanly"
exit "$fail"
