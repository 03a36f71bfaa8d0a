#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bench_thp.sh FOLIOTORTURE: --bench --orders=0,4 names the work each
# table's kernel column did (base pages for order 0, the kernel's 64K mTHP
# for order 4) and leaves every THP knob as it found it: after a run, and
# after a SIGTERM while it has the knob set.  Not root, or no writable
# hugepages-64kB knob: skipped (77), as --bench then never sets it.
set -u
ft="$1"
thp=/sys/kernel/mm/transparent_hugepage
knob=$thp/hugepages-64kB/enabled
[ "$(id -u)" = 0 ] || { echo "skip: not root"; exit 77; }
[ -f "$knob" ] || { echo "skip: no $knob"; exit 77; }
[ -w "$knob" ] || { echo "skip: $knob is not writable"; exit 77; }

# Every knob's line, to compare before and after.
knobs() {
  local f
  for f in "$thp/enabled" "$thp"/hugepages-*/enabled; do
    [ -f "$f" ] && echo "$f: $(cat "$f")"
  done
}

# A knob already on madvise is left alone by --bench: nothing to restore,
# nothing to see.  Then this test puts it on never for its runs, and back.
was=$(sed 's/.*\[\(.*\)\].*/\1/' "$knob")
out=$(mktemp)
trap 'rm -f "$out"; if [ "$was" = madvise ]; then echo madvise > "$knob"; fi' EXIT
[ "$was" = madvise ] && echo never > "$knob"
before=$(knobs)
fail=0
not_ok() { echo "not ok: $*"; fail=1; }

# A whole run: both comparisons named, the knobs back after it.
"$ft" --bench --orders=0,4 --pages=1024 --repeat=3 > "$out" 2>&1
rc=$?
cat "$out"
[ "$rc" = 0 ] || not_ok "exit code $rc, not 0"
grep -Eq '^kernel: base pages \(order 0, MADV_NOHUGEPAGE\)$' "$out" ||
  not_ok "order 0's table does not name base pages"
# 1024 pages, 3 runs: 192 64K folios (more if another process faults them).
grep -Eq '^kernel: 64K mTHP \(anon_fault_alloc \+(192\)|[0-9]+, 192 ours)' "$out" ||
  not_ok "order 4's table does not name 64K mTHP with the folios counted"
grep -Eq '^kernel knobs for these runs: hugepages-64kB [a-z]+ -> madvise' "$out" ||
  not_ok "the knob's change is not said"
[ "$(knobs)" = "$before" ] || { not_ok "the knobs changed:"; diff <(echo "$before") <(knobs); }

# SIGTERM while the knob is set: it is restored, and the run is INTERRUPTED.
"$ft" --bench --orders=4 --repeat=99 > "$out" 2>&1 &
pid=$!
for ((i = 0; i < 1000; i++)); do
  [ "$(knobs)" != "$before" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
if [ "$(knobs)" = "$before" ]; then
  not_ok "the bench never set the knob"
else
  sleep 0.2
fi
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
cat "$out"
[ "$rc" = 5 ] || not_ok "after SIGTERM: exit code $rc, not 5"
grep -q "stopped by signal 15, the THP knobs restored" "$out" ||
  not_ok "after SIGTERM: no line saying the knobs were restored"
[ "$(knobs)" = "$before" ] ||
  { not_ok "after SIGTERM: the knobs changed:"; diff <(echo "$before") <(knobs); }

# Not root: base pages, and it says why.
if command -v setpriv > /dev/null &&
   setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$ft"; then
  setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$ft" --bench --orders=4 --pages=64 --repeat=1 -q > "$out" 2>&1
  rc=$?
  cat "$out"
  [ "$rc" = 0 ] || not_ok "not root: exit code $rc, not 0"
  grep -q "^kernel: base pages (reason: not root), not the model's order-4 folios$" "$out" ||
    not_ok "not root: the table does not say base pages and why"
fi
[ "$fail" = 0 ] && echo "ok: --bench names its comparisons and restores the THP knobs"
exit "$fail"
