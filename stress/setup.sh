#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install what foliotorture needs on Debian 12, and nothing if it is all
# there already (idempotent).  Sourced by run.sh and test.sh; run as root,
# or with sudo available.
set -euo pipefail

# clang and its runtimes: the fuzz preset (libFuzzer); python3-jsonschema:
# the test that checks the JSON results against doc/result.schema.json.
FT_PACKAGES=(build-essential cmake pkg-config libck-dev libtsan2 clang libclang-rt-14-dev
             python3-jsonschema)

ft_missing_packages() {
  local p
  for p in "${FT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      echo "$p"
  done
}

ft_setup() {
  local missing sudo=""
  missing=$(ft_missing_packages)
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || {
      echo "setup: missing packages ($missing) and not root; install them" >&2
      return 1
    }
    sudo=sudo
  fi
  echo "setup: installing:" $missing
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
}

# cmake --preset PRESET and build it; $1 = preset.
ft_build() {
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cd "$(dirname "$0")/.."
  ft_setup
fi
