#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The whole test suite: install what is missing, then build and run ctest
# in the default (debug, -Werror) and tsan presets.  Fails if either fails.
set -euo pipefail
cd "$(dirname "$0")/.."
. stress/setup.sh
ft_setup
status=0
for preset in default tsan; do
  echo "=== preset $preset"
  ft_build "$preset"
  ctest --preset "$preset" || status=1
done
exit $status
