#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# expect.sh --exit N [--match RE]... [--reject RE]... -- CMD [ARGS...]
#
# Runs CMD, shows its output, and passes only if CMD exited with N, its
# output (stdout and stderr together) matches every --match extended regex
# and no --reject one.  Negative controls use it: "exit 2 and a circular
# locking splat", never merely "failed somehow".
set -u
want=""
matches=()
rejects=()
while [ $# -gt 0 ]; do
  case "$1" in
    --exit) want="$2"; shift 2 ;;
    --match) matches+=("$2"); shift 2 ;;
    --reject) rejects+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) echo "expect.sh: unknown option '$1'" >&2; exit 4 ;;
  esac
done
if [ -z "$want" ] || [ $# -eq 0 ]; then
  echo "expect.sh: usage: expect.sh --exit N [--match RE]... -- CMD..." >&2
  exit 4
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1
rc=$?
cat "$out"
fail=0
if [ "$rc" != "$want" ]; then
  echo "expect.sh: FAIL: exit code $rc, expected $want"
  fail=1
fi
for re in "${matches[@]+"${matches[@]}"}"; do
  if ! grep -Eq -- "$re" "$out"; then
    echo "expect.sh: FAIL: output does not match /$re/"
    fail=1
  fi
done
for re in "${rejects[@]+"${rejects[@]}"}"; do
  if grep -Eq -- "$re" "$out"; then
    echo "expect.sh: FAIL: output matches rejected /$re/"
    fail=1
  fi
done
[ $fail -eq 0 ] && echo "expect.sh: ok: exit $rc as expected"
exit $fail
