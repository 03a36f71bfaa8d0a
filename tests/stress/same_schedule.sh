#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# same_schedule.sh FOLIOTORTURE [OPTION...]: in serial mode a run with
# several workers is a pure function of its options (the OPTIONs added).  For each strategy, two runs of the
# same scenario with the same seeds must end with the same schedule hash
# (every scheduling point: which thread, what point, who ran next) and
# trace hash, and a run with another scheduler seed with another schedule.
set -u
ft="$1"
shift
args=(--threads=4 --max-ops=400 --duration=10m --vma-size=512K --max-mms=4
      --audit-steps=20000 --seed=0x5eed -q --repro-file= "$@")
hashes_of() {
  "$ft" "${args[@]}" "$@" |
    sed -n 's/.*\(trace hash 0x[0-9a-f]*\).*/\1/p; s/.*\(schedule hash 0x[0-9a-f]*\).*/\1/p' |
    tr '\n' ' '
}
status=0
for strategy in random pct; do
  a=$(hashes_of --sched=serial --strategy=$strategy --sched-seed=1)
  b=$(hashes_of --sched=serial --strategy=$strategy --sched-seed=1)
  c=$(hashes_of --sched=serial --strategy=$strategy --sched-seed=2)
  echo "$strategy: sched seed 1: $a; again: $b; sched seed 2: $c"
  if [ -n "$a" ] && [ "$a" = "$b" ] && [ "${a#*schedule}" != "${c#*schedule}" ]; then
    echo "ok: $strategy replays the same schedule"
  else
    echo "not ok: $strategy schedule hashes"
    status=1
  fi
done
exit $status
