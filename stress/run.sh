#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The main job: install what is missing, build the release preset and run a
# bounded default mm torture run (60 s), ending with its summary and
# verdict.  Extra arguments go to foliotorture and win, e.g.
#   stress/run.sh --duration=10m --threads=8 --scenario=stress/scenarios/spf-midblock
set -euo pipefail
cd "$(dirname "$0")/.."
. stress/setup.sh
ft_setup
ft_build release >/dev/null
exec build/release/stress/foliotorture --duration=60s --stat-interval=10s "$@"
