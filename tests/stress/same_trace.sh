#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# same_trace.sh FOLIOTORTURE: with one worker a run is a pure function of
# its options.  Two runs with the same seed must end with the same trace
# hash (every operation, its arguments and its result, break decisions
# included), and a run with another seed with a different one.
set -u
ft="$1"
args=(--threads=1 --max-ops=20000 --duration=10m --break-policy=random
      --resched-ppm=300000 -q --repro-file=)
hash_of() {
  "$ft" "${args[@]}" --seed="$1" | sed -n 's/.*trace hash \(0x[0-9a-f]*\).*/\1/p'
}
a=$(hash_of 0x1234)
b=$(hash_of 0x1234)
c=$(hash_of 0x4321)
echo "seed 0x1234: $a, again: $b; seed 0x4321: $c"
[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$c" ] || { echo "not ok: trace hashes"; exit 1; }
echo "ok: the same seed replays the same operations and breaks"
