# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the signal tests (sigint.sh, sigint_hold.sh).
#
# signal_run SIG DELAY OUT CMD...: run CMD, its output into OUT; after DELAY
# seconds send it SIG and wait.  Sets rc (its exit code) and ms (from the
# signal to its exit), and shows the output.
signal_run() {
  local sig="$1" delay="$2" out="$3" pid start
  shift 3
  "$@" >"$out" 2>&1 &
  pid=$!
  sleep "$delay"
  start=$(date +%s%N)
  kill -"$sig" "$pid"
  wait "$pid"
  rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  cat "$out"
  echo "exit $rc after ${ms} ms"
}
