#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# serial_replay.sh FOLIOTORTURE NAME OPTION...: a failing serial run (bug
# zoo injection NAME with the scheduler seed that catches it) must fail by
# one of the oracles the injection declares (--list-injections), leave a
# repro file that says where, and fail again the same way at the same step
# when replayed from that file alone.
set -u
ft="$1"; name="$2"; shift 2
repro="serial_replay_$name.repro"
rm -f "$repro"
"$ft" "$@" --sched=serial --duration=5m -q --repro-file="$repro" >"$repro.log" 2>&1
rc=$?
inv=$(sed -n 's/^invariant //p' "$repro" 2>/dev/null)
step=$(sed -n 's/^step //p' "$repro" 2>/dev/null)
echo "$name: exit $rc, '$inv' at step $step"
if [ "$rc" = 0 ] || [ "$rc" = 4 ] || [ -z "$inv" ] || [ -z "$step" ]; then
  tail -n 20 "$repro.log"
  echo "not ok: the serial run did not fail with a repro file"
  exit 1
fi
# The oracles NAME declares: "[a|b]" on its --list-injections line.
expected=$("$ft" --list-injections | awk -v n="$name" '$1 == n {
  sub(/^[^[]*\[/, ""); sub(/\].*$/, ""); print }')
case "|$expected|" in
  *"|$inv|"*) ;;
  *) echo "not ok: caught by '$inv', not by the oracles $name declares ($expected)"
     exit 1 ;;
esac
out=$("$ft" --replay "$repro" -q 2>&1)
rc2=$?
echo "$out" | grep "replay:"
if [ "$rc2" = "$rc" ] &&
   echo "$out" | grep -q "replay: REPRODUCED: expected '$inv' (exit $rc) at step $step,"; then
  echo "ok: replayed: '$inv' at step $step"
else
  echo "not ok: the replay did not fail the same way (exit $rc2)"
  exit 1
fi
