#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The README's bug-zoo figures, regenerated:
#
#   stress/zoo-figures.sh [--seeds=N] [--duration=D] [--update-readme]
#
#  1. Time to detect per injection (foliotorture --zoo, the default build;
#     from each child's start of test to its report, as its repro file's
#     elapsed-ns says): median and max over N seeds (5) with the default
#     break policy (random) and aim, with the kernel's fixed break
#     policy, and with no aiming (--aim=0), and the ratios of their
#     medians to the default's;
#     a run counts as detected only if an oracle the injection declares
#     caught it, and the last column says which oracles did (all runs).
#     Then per zoo scenario the slowest median of its injections, which
#     the clean case of the scenario must run at least as long as.
#  2. The mid-block break experiment (the fork break race of the review of
#     "mm: Batch-copy PTE ranges during fork()", Nov 2023): the spf-midblock
#     scenario for D (60s) with the kernel policy and with the aligned one:
#     fork breaks inside a contpte block, blocks folded while fork was
#     stopped, and resumed write-protects that unfold the parent's
#     block, per second (the release build, as for 3).
#  3. Aimed interference: blocks folded during a fork break, and
#     operations, per second, with --aim=0 and --aim=1 (and the default
#     aim for the default scenario), D each, seed 0x5eed: spf-fold and
#     spf-midblock (faults fold), migrate-fold and the default scenario
#     (upstream locking: migration folds).
#
# Prints the tables in Markdown; --update-readme also puts them between
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
ft_build release >&2
bin=build/default/stress/foliotorture
# The rates (tables 2 and 3) from the build long runs use.
rbin=build/release/stress/foliotorture
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

# random: the defaults; kernel: its break rule; aim0: no aiming.
for run in random kernel aim0; do
  case $run in
    aim0) opts=(--aim=0) ;;
    *) opts=(--break-policy=$run) ;;
  esac
  echo "zoo-figures: $seeds seeds, $run" >&2
  "$bin" --zoo --cases="$cases" --seeds="$seeds" "${opts[@]}" \
    --log-dir="$work/$run" --json="$work/$run.json" >&2 || true
  zoo_rows "$work/$run.json" > "$work/$run.rows"
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
  "$rbin" --scenario=stress/scenarios/spf-midblock --break-policy=$policy \
    --duration="${duration}s" --seed=0x5eed -q --json="$work/mid-$policy.json" >&2
done

# Aimed interference: SCENARIO:AIM ("" is the default aim).
aim_runs="spf-fold:0 spf-fold:1 spf-midblock:0 spf-midblock:1 migrate-fold:0 migrate-fold:1
  default:0 default: default:1"
for r in $aim_runs; do
  scen=${r%%:*} aim=${r#*:}
  echo "zoo-figures: $scen --aim=${aim:-default}, ${duration}s" >&2
  "$rbin" --scenario="$scen" ${aim:+--aim=$aim} --duration="${duration}s" --seed=0x5eed -q \
    --json="$work/aim-$scen-${aim:-default}.json" >&2
done
# Operations per second of a torture --json file.
ops_rate() { # FILE
  awk '$1 == "\"ops\":" { for (i = 3; i <= NF; i += 2) { v = $i; gsub(/[,}]/, "", v); n += v } }
    $1 == "\"elapsed_s\":" { gsub(/,/, "", $2); t = $2 }
    END { printf "%.0f", n / t }' "$1"
}

tables() {
  echo "Time to detect (seconds from each run's start of test to its report;"
  echo "\`$bin --zoo --seeds=$seeds\`, bound 60 s per run; a run that misses counts"
  echo "as the bound):"
  echo
  echo "| injection | default: median | max | detected | kernel policy: median | max | detected | ratio kernel/default | --aim=0: median | max | detected | ratio aim0/default | caught by (runs) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  paste -d' ' "$work/random.rows" <(cut -d' ' -f2- "$work/kernel.rows") \
    <(cut -d' ' -f2- "$work/aim0.rows")
  echo
  echo "The clean case of each zoo scenario runs at least as long as its slowest"
  echo "injection's median (default options):"
  echo
  echo "| scenario | slowest median (injection) |"
  echo "|---|---|"
  awk 'NR == FNR { scen[$1] = $2; next }
       $1 in scen && $2 > worst[scen[$1]] + 0 { worst[scen[$1]] = $2; who[scen[$1]] = $1 }
       END { for (s in worst) printf "| %s | %.3f (%s) |\n", s, worst[s], who[s] }' \
    "$work/scenarios" "$work/random.rows" | sort
  echo
  echo "The mid-block fork break experiment (\`$rbin\`, spf-midblock, ${duration} s, seed 0x5eed):"
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
  echo
  echo "Aimed interference (\`$rbin\`, ${duration} s, seed 0x5eed; blocks folded"
  echo "during a fork break per second, and operations per second):"
  echo
  echo "| scenario | --aim | folded meanwhile/s (count) | fork-break windows aimed at / arrived / opened | ops/s |"
  echo "|---|---|---|---|---|"
  for r in $aim_runs; do
    scen=${r%%:*} aim=${r#*:}
    f="$work/aim-$scen-${aim:-default}.json"
    echo "| $scen | ${aim:-default} | $(rate "$f" fork_break_folds) |" \
         "$(sed -n 's/.*"fork_break": {"opened": \([0-9]*\), "aimed": \([0-9]*\), "arrived": \([0-9]*\)}.*/\2 \/ \3 \/ \1/p' "$f") |" \
         "$(ops_rate "$f") |"
  done
}

# Rows of the three runs: name, then each run's four columns (median, max,
# detected, oracles); the oracles of all joined, with their counts summed.
format_rows() {
  awk '/^[a-z]/ && NF == 13 {
         ratio = ($2 > 0) ? sprintf("%.2f", $6 / $2) : "-"
         ratio0 = ($2 > 0) ? sprintf("%.2f", $10 / $2) : "-"
         delete by; caught = ""
         for (f = 5; f <= 13; f += 4) {
           n = split($f, parts, ",")
           for (i = 1; i <= n; i++)
             if (split(parts[i], kv, "=") == 2) by[kv[1]] += kv[2]
         }
         for (o in by) caught = caught (caught == "" ? "" : ", ") o " (" by[o] ")"
         gsub(/_/, " ", caught)
         printf "| %s | %.3f | %.3f | %s | %.3f | %.3f | %s | %s | %.3f | %.3f | %s | %s | %s |\n",
                $1, $2, $3, $4, $6, $7, $8, ratio, $10, $11, $12, ratio0, caught
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
