#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# zoo_times.sh FOLIOTORTURE: the zoo's time to detect is the child's own,
# from its start of test to its report, read from the repro file's
# elapsed-ns: positive, and shorter than the child's whole life (wall_s),
# which also holds exec, set-up and the report's writing.
set -u
ft="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$ft" --zoo --cases=fork-no-vma-lock --seeds=3 --log-dir="$work" --json="$work/z.json" \
  >"$work/zoo.out" 2>&1 || { echo "not ok: zoo run"; cat "$work/zoo.out"; exit 1; }
grep -q '^elapsed-ns [1-9][0-9]*$' "$work"/fork-no-vma-lock-0x5eed.repro ||
  { echo "not ok: no elapsed-ns in the repro file"; exit 1; }
python3 - "$work/z.json" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["cases"][0]["runs"]
bad = [r for r in runs
       if r["verdict"] != "detected" or not 0 < r["seconds"] < r["wall_s"]]
for r in bad:
    print("not ok: seed %s: %s, seconds %s, wall_s %s"
          % (r["seed"], r["verdict"], r["seconds"], r["wall_s"]))
print("ok: %d runs, time to detect under the child's wall time" % len(runs) if not bad else "")
sys.exit(1 if bad else 0)
PY
