#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Find a serial schedule that catches a bug-zoo injection, for its exact
# replay test (serial_zoo() in tests/stress/CMakeLists.txt):
#
#   stress/serial-seeds.sh [--tries=N] INJECTION MAX_OPS [SCENARIO-OPTION...]
#
# Tries scheduler seeds 1..N (8) with the random strategy, then PCT at
# depths 1..3, each a serial run of the injection with --seed=0x5eed and
# --max-ops=MAX_OPS and --aim=0, as serial_zoo() runs them, in the given
# options (the zoo's scenario for it), and
# prints the serial_zoo() line of the first run that fails by one of the
# oracles the injection declares (--list-injections).  Exit 1 if none did.
# A change to the model moves every schedule: run it again for the tests
# that stop failing.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "serial-seeds: $1" >&2; exit 4; }

tries=8
case "${1:-}" in
  --tries=*) tries=${1#*=}; shift
             [[ $tries =~ ^[1-9][0-9]*$ ]] || usage "--tries: '$tries' is not a number" ;;
esac
[ $# -ge 2 ] || usage "usage: stress/serial-seeds.sh [--tries=N] INJECTION MAX_OPS [OPTION...]"
inj=$1 max_ops=$2
shift 2
[[ $max_ops =~ ^[1-9][0-9]*$ ]] || usage "MAX_OPS: '$max_ops' is not a number"

bin=build/default/stress/foliotorture
[ -x "$bin" ] || usage "no $bin: build the default preset first"
expected=$("$bin" --list-injections | awk -v n="$inj" '$1 == n {
  sub(/^[^[]*\[/, ""); sub(/\].*$/, ""); print }')
[ -n "$expected" ] || usage "no injection '$inj' (see --list-injections)"
work=$(mktemp -d "${TMPDIR:-/tmp}/serial-seeds.XXXXXX")
trap 'rm -rf "$work"' EXIT

# try STRATEGY DEPTH SEED OPTION...: 0 if it failed by an expected oracle.
try() {
  local strategy=$1 depth=$2 seed=$3 inv
  shift 3
  "$bin" --inject="$inj" --seed=0x5eed --sched=serial --strategy="$strategy" \
    --pct-depth="$depth" --sched-seed="$seed" --max-ops="$max_ops" --aim=0 --duration=5m -q \
    --escalate=0 --repro-file="$work/run.repro" "$@" >"$work/run.log" 2>&1 || true
  inv=$(sed -n 's/^invariant //p' "$work/run.repro")
  echo "serial-seeds: $strategy depth $depth seed $seed: ${inv:-no failure}" >&2
  case "|$expected|" in *"|$inv|"*) [ -n "$inv" ] ;; *) return 1 ;; esac
}

for strategy in random pct; do
  for depth in 1 2 3; do
    [ "$strategy" = random ] && [ "$depth" != 1 ] && continue
    for seed in $(seq 1 "$tries"); do
      if try "$strategy" "$depth" "$seed" "$@"; then
        echo "serial_zoo($inj $strategy $depth $seed $max_ops${*:+ ...})"
        exit 0
      fi
    done
  done
done
echo "serial-seeds: no schedule caught $inj" >&2
exit 1
