#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The TSan merge gate: install what is missing, build the tsan preset, run
# every shipped scenario (stress/scenarios/, or those named) under
# ThreadSanitizer, and fail on any TSan report, invariant failure, lock-model
# splat or stall.  Prints the repro line of every failure.
#
#   stress/gate.sh [--duration=D] [--seed=S] [--threads=N] [--inject=LIST]
#                  [--escalate=D] [--no-build] [SCENARIO...]
#
# D (default 10m; 30s, 10m, 1h) is the total, split evenly between the
# scenarios (at least 2s each).  Without --seed each scenario draws its own
# seed from the clock; the repro line names it.  --inject is for the gate's
# own negative control; --escalate is the runs' (a failure is tried again in
# serial mode for that long, 60s by default, 0 not at all); --no-build uses build/tsan as it is (the test suite
# runs the gate from inside that build).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "gate: $1" >&2; exit 4; }

to_seconds() {
  case "$1" in
    *[!0-9smh]* | "" ) return 1 ;;
    *h) echo $(( ${1%h} * 3600 )) ;;
    *m) echo $(( ${1%m} * 60 )) ;;
    *s) echo "${1%s}" ;;
    *) return 1 ;;
  esac
}

total=600
build=1
extra=()
scenarios=()
for arg in "$@"; do
  case "$arg" in
    --duration=*) total=$(to_seconds "${arg#*=}") ||
                    usage "--duration: '${arg#*=}' is not a duration (like 30s, 10m, 1h)" ;;
    --seed=* | --threads=* | --inject=* | --escalate=*) extra+=("$arg") ;;
    --no-build) build=0 ;;
    -*) usage "unknown option '$arg'" ;;
    *) [ -f "stress/scenarios/$arg" ] || usage "no scenario '$arg' in stress/scenarios"
       scenarios+=("$arg") ;;
  esac
done
if [ ${#scenarios[@]} -eq 0 ]; then
  for f in stress/scenarios/*; do scenarios+=("$(basename "$f")"); done
fi
each=$(( total / ${#scenarios[@]} ))
[ "$each" -ge 2 ] || each=2

if [ "$build" = 1 ]; then
  . stress/setup.sh
  ft_setup
  ft_build tsan >/dev/null
fi

# A report fails the run at once, with TSan's exit code.
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
ft=build/tsan/stress/foliotorture
logdir=build/tsan/gate
mkdir -p "$logdir"
failed=0
for s in "${scenarios[@]}"; do
  log="$logdir/$s.log"
  set +e
  "$ft" --scenario="stress/scenarios/$s" --duration="${each}s" -q \
        --repro-file="$logdir/$s.repro" "${extra[@]}" >"$log" 2>&1
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then
    echo "gate: ok   $s (${each}s)"
    continue
  fi
  failed=1
  case "$rc" in
    1) why="invariant failure" ;; 2) why="lock-model splat" ;;
    3) why="stall" ;; 66) why="ThreadSanitizer report" ;; *) why="exit $rc" ;;
  esac
  echo "gate: FAIL $s: $why (log: $log)"
  grep -m1 -E "^(WARNING: ThreadSanitizer|!!! oracle|BUG|WARNING|INFO)" "$log" | sed 's/^/gate:   /' || true
  # The two accesses of a race: enough to start on when only CI saw it.
  grep -E "^  (Read|Write|Previous|Atomic)|^    #[0-2] |^SUMMARY: ThreadSanitizer" "$log" |
    head -n 12 | sed 's/^/gate:   /' || true
  grep -m1 "repro: " "$log" | sed 's/^/gate:   /' || true
  grep -E "escalation: (REPRODUCED|not reproduced)" "$log" | sed 's/^/gate:   /' || true
done
if [ "$failed" = 0 ]; then
  echo "gate: PASS: ${#scenarios[@]} scenarios, ${each}s each, tsan build"
else
  echo "gate: FAIL"
fi
exit "$failed"
