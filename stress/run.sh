#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The main job: install what is missing, build the release preset and run a
# bounded default torture run.  Until the mm torture driver exists that is
# the lock-model torture.  Extra arguments go to foliotorture, e.g.
#   stress/run.sh --duration=10m --threads=8
set -euo pipefail
cd "$(dirname "$0")/.."
. stress/setup.sh
ft_setup
ft_build release >/dev/null
exec build/release/stress/foliotorture --lock-torture --duration=60s --stat-interval=10s "$@"
