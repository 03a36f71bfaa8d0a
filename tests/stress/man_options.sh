#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# man_options.sh FOLIOTORTURE MANPAGE: the man page documents exactly the
# long options (--name) the binary's help prints: `foliotorture --help` and
# `foliotorture MODE --help` for every MODE listed under "modes:" there.
# Each option in one and not the other is named; a mode whose --help does
# not exit 0 is named too.
set -uo pipefail
bin=$1
man=$2
fail=0

# The long options in a text, one a line, sorted and unique.
long_options() {
  grep -oE -- '--[a-z][a-z0-9]*(-[a-z0-9]+)*' | sort -u
}

top=$("$bin" --help) || { echo "not ok: '$bin --help' exits $?"; exit 1; }
modes=$(printf '%s\n' "$top" |
        awk '/^modes:/ { m = 1; next } m && /^$/ { exit } m && $1 ~ /^--/ { print $1 }')
[ -n "$modes" ] || { echo "not ok: no modes under 'modes:' in --help"; exit 1; }
help_text=$top
for mode in $modes; do
  out=$("$bin" "$mode" --help 2>&1)
  rc=$?
  if [ "$rc" != 0 ]; then
    echo "not ok: '$mode --help' exits $rc: $(printf '%s\n' "$out" | head -1)"
    fail=1
    continue
  fi
  help_text+=$'\n'$out
done
in_help=$(printf '%s\n' "$help_text" | long_options)

# The man page's text without roff: \- is a hyphen, font escapes go.
in_man=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\&//g' \
             -e '/^\.\\"/d' "$man" | long_options)

only_help=$(comm -23 <(echo "$in_help") <(echo "$in_man"))
only_man=$(comm -13 <(echo "$in_help") <(echo "$in_man"))
for o in $only_help; do
  echo "not ok: $o is in --help but not in the man page"
  fail=1
done
for o in $only_man; do
  echo "not ok: $o is in the man page but in no --help"
  fail=1
done
if [ "$fail" = 0 ]; then
  echo "ok: $(echo "$in_help" | wc -l) long options, in --help and the man page alike"
fi
exit "$fail"
