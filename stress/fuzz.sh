#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Fuzz the repro-file parser (stress/fuzz_repro.c) with libFuzzer for a
# while: install what is missing, build the fuzz preset (clang, ASan, UBSan),
# start from the damaged files of tests/stress/repro.  Fails on any crash,
# sanitizer report or harness assertion; the input is left in build/fuzz.
#
#   stress/fuzz.sh [--time=SECONDS]   (60 by default)
set -euo pipefail
cd "$(dirname "$0")/.."

secs=60
for arg in "$@"; do
  case "$arg" in
    --time=*) secs="${arg#*=}"
              [[ "$secs" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --time: '$secs' is not a number of seconds" >&2; exit 4; } ;;
    *) echo "fuzz: unknown option '$arg'" >&2; exit 4 ;;
  esac
done

. stress/setup.sh
ft_setup
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz >/dev/null
mkdir -p build/fuzz/corpus
cd build/fuzz
# -close_fd_mask=2: the option parser's one-line errors, not libFuzzer's.
if ./stress/fuzz_repro -max_total_time="$secs" -max_len=8192 -close_fd_mask=2 \
     -dict=../../stress/fuzz_repro.dict -artifact_prefix=./ \
     corpus ../../tests/stress/repro >fuzz.log 2>&1; then
  echo "fuzz: PASS: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' fuzz.log), no crash"
else
  tail -n 40 fuzz.log
  echo "fuzz: FAIL (log: build/fuzz/fuzz.log)"
  exit 1
fi
