#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# sigint.sh FOLIOTORTURE SRCDIR: SIGINT stops a long run within a second, after a
# final audit, with the summary and the JSON results; a run stopped before
# its --duration that found nothing is INTERRUPTED, exit 5, never a pass.
set -u
ft="$1"; src="$2"
. "$(dirname "$0")/signal.sh"
json=$(mktemp)
out=$(mktemp)
trap 'rm -f "$json" "$out"' EXIT
signal_run INT 2 "$out" "$ft" --duration=10m --stat-interval=1s --json="$json" --repro-file=
fail=0
[ "$rc" = 5 ] || { echo "not ok: exit code $rc, not 5"; fail=1; }
# The bound is generous for the tsan build; a plain build stops in ~100 ms.
[ "$ms" -lt 5000 ] || { echo "not ok: took ${ms} ms"; fail=1; }
grep -Eq "stopped by signal 2 after [0-9.]+ s of --duration=10m" "$out" ||
  { echo "not ok: no signal line"; fail=1; }
grep -q "End of test: INTERRUPTED" "$out" || { echo "not ok: no INTERRUPTED banner"; fail=1; }
grep -q "End of test: SUCCESS" "$out" && { echo "not ok: a SUCCESS banner"; fail=1; }
for key in '"outcome": "INTERRUPTED"' '"exit_code": 5' '"signal": 2' '"seed": "0x' \
           '"requested_duration_s": 600.000' '"elapsed_s": [1-9]' '"ops": {"read": [1-9]' \
           '"vm_events": {"pgfault": [1-9]' '"audits": [1-9]' '"trace_hash": "0x'; do
  grep -q "$key" "$json" || { echo "not ok: JSON lacks $key"; fail=1; }
done
cat "$json"
# The lock torture keeps the same contract.
signal_run TERM 1 "$out" "$ft" --lock-torture --duration=10m -q
[ "$rc" = 5 ] || { echo "not ok: lock torture: exit code $rc, not 5"; fail=1; }
grep -q "stopped by signal 15 after" "$out" || { echo "not ok: lock torture: no signal line"; fail=1; }
grep -q "End of test: INTERRUPTED" "$out" ||
  { echo "not ok: lock torture: no INTERRUPTED banner"; fail=1; }
# And --minimize: stopped in its first run, it says so, exit 5.
signal_run INT 1 "$out" "$ft" --minimize "$src/tests/stress/repro/slow.repro" --time=5m \
  --output="$json.min"
rm -f "$json.min"
[ "$rc" = 5 ] || { echo "not ok: minimize: exit code $rc, not 5"; fail=1; }
grep -q "minimize: interrupted before the first run finished" "$out" ||
  { echo "not ok: minimize: no interrupted line"; fail=1; }
[ "$fail" = 0 ] && echo "ok: SIGINT and SIGTERM end the runs as INTERRUPTED"
exit "$fail"
