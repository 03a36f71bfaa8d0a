#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# time_by_cause.sh FOLIOTORTURE: the JSON's time by cause adds up and
# names the cause a run was made to have.
#   - hold: a PTL held across a 200 ms sleep (--long-hold) once in 4096
#     writes, without aiming, 60000 operations a worker: about 10 holds,
#     under TSan too (a 3 s run there made too few writes to hold at
#     all), in one process of one table for both workers.  The hold and
#     lock waits show, among them the PTL's (which of mmap_lock and the
#     PTL the other worker waits for depends on its operation);
#   - plain, without aiming: no window waits for an aimer, and the
#     audits' parking shows.
# In both: the causes and work add up to the workers' wall time, which is
# at most the threads times the run (about that for the timed run), and
# CPU time does not exceed it.
set -u
ft="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$ft" --threads=2 --duration=5m --max-ops=60000 --seed=7 -q --escalate=0 --aim=0 --long-hold=200ms \
  --max-mms=1 --vma-size=1M \
  --json="$work/hold.json" >"$work/hold.log" 2>&1 || { echo "not ok: hold run"; exit 1; }
"$ft" --threads=2 --duration=2s --seed=7 -q --escalate=0 --aim=0 --audit-interval=100ms \
  --json="$work/plain.json" >"$work/plain.log" 2>&1 || { echo "not ok: plain run"; exit 1; }

python3 - "$work/hold.json" "$work/plain.json" <<'PY'
import json, sys
fail = 0
def check(ok, what):
    global fail
    print(("ok: " if ok else "not ok: ") + what)
    fail |= not ok

for path in sys.argv[1:]:
    d = json.load(open(path))
    t = d["time_ns"]
    causes = ["perturb", "lock", "tlb", "audit", "oracle", "page"]
    name = path.rsplit("/", 1)[1]
    threads = d["options"]["threads"]
    expect_wall = int(threads) * d["elapsed_s"] * 1e9
    timed = name == "plain.json"
    check((not timed or 0.8 * expect_wall < t["wall"]) and t["wall"] <= 1.01 * expect_wall,
          "%s: wall %.2f s for %s threads over %.2f s" % (name, t["wall"] / 1e9, threads, d["elapsed_s"]))
    check(t["work"] + sum(t[c] for c in causes) <= t["wall"] * 1.01,
          "%s: the causes and work add up to at most the wall time" % name)
    check(t["cpu"] <= t["wall"] * 1.01, "%s: CPU time within wall time" % name)
    check(sum(th["wall"] for th in t["threads"]) == t["wall"],
          "%s: the workers' wall times sum to the total" % name)
    check(abs(sum(t["perturb_by"].values()) - t["perturb"]) <= 1000 * len(t["threads"]),
          "%s: perturb_by sums to perturb" % name)
    check(abs(sum(t["lock_classes"].values()) - t["lock"]) <= 1000 * len(t["threads"]),
          "%s: lock_classes sum to lock" % name)

hold = json.load(open(sys.argv[1]))["time_ns"]
ptl = hold["lock_classes"].get("&ptdesc->ptl", 0)
check(hold["lock"] > 0.02 * hold["wall"], "hold: lock waits %.1f%% of the time (> 2%%)"
      % (100.0 * hold["lock"] / hold["wall"]))
check(hold["perturb_by"]["hold"] > 0.1e9, "hold: %.2f s held" % (hold["perturb_by"]["hold"] / 1e9))
check(ptl > 0, "hold: the PTL's class waited for (%.3f s)" % (ptl / 1e9))
plain = json.load(open(sys.argv[2]))["time_ns"]
check(plain["perturb_by"]["window"] == 0, "plain: no window waited for an aimer (--aim=0)")
check(plain["audit"] > 0, "plain: parked for audits %.3f s" % (plain["audit"] / 1e9))
sys.exit(fail)
PY
