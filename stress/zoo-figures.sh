#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The README's bug-zoo figures, regenerated:
#
#   stress/zoo-figures.sh [--seeds=N] [--duration=D] [--update-readme]
#
#  1. Time to detect per injection (foliotorture --zoo, the default build):
#     median and max over N seeds (5) with the default break policy
#     (random) and with the kernel's fixed one, and their ratio.
#  2. The mid-block break experiment (pagetable spec §6): the spf-midblock
#     scenario for D (60s) with the kernel policy and with the aligned one:
#     fork breaks inside a contpte block, blocks folded while fork was
#     stopped, and resumed partial write-protects that unfold the parent's
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
cases=$("$bin" --list-injections | awk '{print $1}' | paste -sd, -)

# One line per case of a --zoo JSON file: name median max detected/runs.
zoo_rows() {
  sed -n 's/.*"name": "\([^"]*\)".*"median_s": \([0-9.]*\), "max_s": \([0-9.]*\), "runs": \(.*\)/\1 \2 \3 \4/p' "$1" |
    awk '{ n = gsub(/"verdict": /, ""); d = gsub(/"detected"/, ""); print $1, $2, $3, d "/" n }'
}

for policy in random kernel; do
  echo "zoo-figures: $seeds seeds, break policy $policy" >&2
  "$bin" --zoo --cases="$cases" --seeds="$seeds" --break-policy=$policy \
    --log-dir="$work/$policy" --json="$work/$policy.json" >&2 || true
  zoo_rows "$work/$policy.json" > "$work/$policy.rows"
done

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
  echo "| injection | random: median | max | detected | kernel: median | max | detected | median ratio kernel/random |"
  echo "|---|---|---|---|---|---|---|---|"
  paste -d' ' "$work/random.rows" <(cut -d' ' -f2- "$work/kernel.rows")
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

format_rows() {
  awk '/^[a-z]/ && NF == 7 {
         ratio = ($2 > 0) ? sprintf("%.2f", $5 / $2) : "-"
         printf "| %s | %.2f | %.2f | %s | %.2f | %.2f | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, ratio
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
