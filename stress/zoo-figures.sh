#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The README's bug-zoo figures, regenerated:
#
#   stress/zoo-figures.sh [--seeds=N] [--duration=D] [--update-readme]
#
#  1. Time to detect per injection (foliotorture --zoo, the default build):
#     median and max over N seeds (5) with the default break policy
#     (random) and with the kernel's fixed one, and their ratio; a run
#     counts as detected only if an oracle the injection declares caught
#     it, and the last column says which oracles did (runs of both).
#     Then per zoo scenario the slowest median of its injections, which
#     the clean case of the scenario must run at least as long as.
#  2. The mid-block break experiment (the fork break race of the review of
#     "mm: Batch-copy PTE ranges during fork()", Nov 2023): the spf-midblock
#     scenario for D (60s) with the kernel policy and with the aligned one:
#     fork breaks inside a contpte block, blocks folded while fork was
#     stopped, and resumed write-protects that unfold the parent's
#     block, per second.
#
# Prints the two tables in Markdown; --update-readme also puts them between
# the zoo-figures markers of README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "zoo-figures: $1" >&2; exit 4; }

seeds=5
duration=60
update=0
for arg in "$@"; do
  case "$arg" in
    --seeds=*) seeds=${arg#*=}
               [[ $seeds =~ ^[1-9][0-9]?$ ]] || usage "--seeds: '$seeds' is not 1..99" ;;
    --duration=*) duration=${arg#*=}; duration=${duration%s}
                  [[ $duration =~ ^[1-9][0-9]*$ ]] ||
                    usage "--duration: '${arg#*=}' is not a number of seconds" ;;
    --update-readme) update=1 ;;
    *) usage "unknown option '$arg'" ;;
  esac
done

. stress/setup.sh
ft_setup >&2
ft_build default >&2
bin=build/default/stress/foliotorture
work=$(mktemp -d "${TMPDIR:-/tmp}/zoo-figures.XXXXXX")
# The injections of the default case list: those only a serial run shows
# (gup-fast-pin-no-barrier) would count a parallel miss as the bound.
cases=$("$bin" --zoo --list | awk '/; caught by / {print $1}' | paste -sd, -)

# One line per case of a --zoo JSON file: name median max detected/runs
# oracle=count,... (who caught its runs).
zoo_rows() {
  awk -F'"' '/"name": / {
    name = $4; caught = ""; n = 0; d = 0; delete by
    for (i = 1; i < NF; i++) {
      if ($i == "median_s") { split($(i + 1), v, /[:, ]+/); median = v[2] }
      if ($i == "max_s") { split($(i + 1), v, /[:, ]+/); max = v[2] }
      if ($i == "verdict") { n++; d += $(i + 2) == "detected" }
      if ($i == "caught_by" && $(i + 2) != "") by[$(i + 2)]++
    }
    for (o in by) caught = caught (caught == "" ? "" : ",") o "=" by[o]
    gsub(/ /, "_", caught)
    print name, median, max, d "/" n, (caught == "" ? "-" : caught)
  }' "$1"
}

for policy in random kernel; do
  echo "zoo-figures: $seeds seeds, break policy $policy" >&2
  "$bin" --zoo --cases="$cases" --seeds="$seeds" --break-policy=$policy \
    --log-dir="$work/$policy" --json="$work/$policy.json" >&2 || true
  zoo_rows "$work/$policy.json" > "$work/$policy.rows"
done
"$bin" --zoo --list | awk '{ sub(/:$/, "", $6); print $1, $6 }' > "$work/scenarios"

# A counter of a torture --json file, per second of the run, and its count
# (the rare events are a handful per minute).
rate() { # FILE KEY
  awk -v key="\"$2\":" '$1 == key { gsub(/,/, "", $2); v = $2 }
    $1 == "\"elapsed_s\":" { gsub(/,/, "", $2); t = $2 }
    END { printf "%.2f (%d)", v / t, v }' "$1"
}
fork_breaks() { # FILE
  sed -n 's/.*"breaks": {"fork": \([0-9]*\),.*/\1/p' "$1"
}

for policy in kernel aligned; do
  echo "zoo-figures: mid-block experiment, break policy $policy, ${duration}s" >&2
  "$bin" --scenario=stress/scenarios/spf-midblock --break-policy=$policy \
    --duration="${duration}s" --seed=0x5eed -q --json="$work/mid-$policy.json" >&2
done

tables() {
  echo "Time to detect (seconds; \`$bin --zoo --seeds=$seeds\`, bound 60 s per run;"
  echo "a run that misses counts as the bound):"
  echo
  echo "| injection | random: median | max | detected | kernel: median | max | detected | median ratio kernel/random | caught by (runs) |"
  echo "|---|---|---|---|---|---|---|---|---|"
  paste -d' ' "$work/random.rows" <(cut -d' ' -f2- "$work/kernel.rows")
  echo
  echo "The clean case of each zoo scenario runs at least as long as its slowest"
  echo "injection's median (random policy):"
  echo
  echo "| scenario | slowest median (injection) |"
  echo "|---|---|"
  awk 'NR == FNR { scen[$1] = $2; next }
       $1 in scen && $2 > worst[scen[$1]] + 0 { worst[scen[$1]] = $2; who[scen[$1]] = $1 }
       END { for (s in worst) printf "| %s | %.2f (%s) |\n", s, worst[s], who[s] }' \
    "$work/scenarios" "$work/random.rows" | sort
  echo
  echo "The mid-block fork break experiment (spf-midblock, ${duration} s, seed 0x5eed):"
  echo
  echo "| break policy | fork breaks/s | inside a block/s (count) | folded meanwhile/s (count) | resume unfolds/s (count) |"
  echo "|---|---|---|---|---|"
  for policy in kernel aligned; do
    f="$work/mid-$policy.json"
    t=$(awk '$1 == "\"elapsed_s\":" { gsub(/,/, "", $2); print $2 }' "$f")
    echo "| $policy | $(awk -v b="$(fork_breaks "$f")" -v t="$t" 'BEGIN { printf "%.1f", b / t }') |" \
         "$(rate "$f" fork_breaks_mid_block) | $(rate "$f" fork_break_folds) |" \
         "$(rate "$f" fork_resume_unfolds) |"
  done
}

# Rows of both policies: name, random's four columns, kernel's four; the
# oracles of both joined, with their counts summed.
format_rows() {
  awk '/^[a-z]/ && NF == 9 {
         ratio = ($2 > 0) ? sprintf("%.2f", $6 / $2) : "-"
         delete by; caught = ""
         for (f = 5; f <= 9; f += 4) {
           n = split($f, parts, ",")
           for (i = 1; i <= n; i++)
             if (split(parts[i], kv, "=") == 2) by[kv[1]] += kv[2]
         }
         for (o in by) caught = caught (caught == "" ? "" : ", ") o " (" by[o] ")"
         gsub(/_/, " ", caught)
         printf "| %s | %.2f | %.2f | %s | %.2f | %.2f | %s | %s | %s |\n", $1, $2, $3, $4, $6, $7, $8, ratio, caught
         next }
       { print }'
}

out=$(tables | format_rows)
echo "$out"
if [ "$update" = 1 ]; then
  awk -v body="$out" '/<!-- zoo-figures:begin -->/ { print; print body; skip = 1; next }
                      /<!-- zoo-figures:end -->/ { skip = 0 }
                      !skip' README.md > "$work/README.md"
  grep -q "zoo-figures:begin" "$work/README.md" || usage "README.md has no zoo-figures markers"
  cp "$work/README.md" README.md
  echo "zoo-figures: README.md updated" >&2
fi
