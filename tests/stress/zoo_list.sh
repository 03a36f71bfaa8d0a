#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# zoo_list.sh FOLIOTORTURE NAME...: the injections the binary lists are
# exactly NAME... (the zoo tests of tests/stress/CMakeLists.txt).
set -euo pipefail
bin=$1
shift
want=$(printf '%s\n' "$@" | sort -u)
have=$("$bin" --list-injections | awk '{print $1}' | sort)
if [ "$want" != "$have" ]; then
  echo "zoo_list.sh: the zoo tests and --list-injections differ:"
  diff <(echo "$want") <(echo "$have") || true
  exit 1
fi
echo "ok: $(echo "$have" | wc -l) injections, each with its zoo test"
