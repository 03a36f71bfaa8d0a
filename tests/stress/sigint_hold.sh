#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# sigint_hold.sh FOLIOTORTURE BOUND_MS: SIGINT during --long-hold (a PTL held
# across a 20s sleep) still ends the run within BOUND_MS: the hold sleeps in
# slices and ends once the run stops; exit 5 (interrupted).
set -u
ft="$1"; bound="$2"
. "$(dirname "$0")/signal.sh"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# An audit every second: by the signal one is waiting for the holder to
# park, and must not wait out the hold either.
signal_run INT 2 "$out" "$ft" --duration=10m --long-hold=20s --stall-timeout=30s \
  --audit-interval=1s --repro-file= -q
fail=0
[ "$rc" = 5 ] || { echo "not ok: exit code $rc, not 5"; fail=1; }
[ "$ms" -lt "$bound" ] || { echo "not ok: took ${ms} ms, more than ${bound} ms"; fail=1; }
grep -q "stopped by signal 2" "$out" || { echo "not ok: no signal line"; fail=1; }
[ "$fail" = 0 ] && echo "ok: SIGINT ends a long hold"
exit "$fail"
