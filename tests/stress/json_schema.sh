#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# json_schema.sh FOLIOTORTURE SRCDIR: the JSON results of a successful, a
# failing (escalated, written to standard output; an injection no race
# detector sees, so that TSan builds fail the same way), an interrupted and a
# replayed run validate against doc/result.schema.json, whose keys are all
# documented in doc/json.md; and the validator refuses what it must.
set -u
ft="$1"; src="$2"
schema="$src/doc/result.schema.json"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

# valid FILE: 0 if it validates; the errors are shown.
valid() {
  python3 - "$schema" "$1" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))
for e in errors:
    print("  %s: %s" % ("/".join(map(str, e.absolute_path)) or "(top)", e.message))
sys.exit(1 if errors else 0)
PY
}

# validate FILE WHAT
validate() {
  if valid "$1"; then
    echo "ok: $2 validates"
  else
    echo "not ok: $2 does not validate"; fail=1
  fi
}

# expect WHAT WANT GOT
expect() {
  [ "$2" = "$3" ] || { echo "not ok: $1: exit code $3, expected $2"; fail=1; }
}

"$ft" --duration=1s --seed=1 -q --escalate=0 --json="$work/ok.json" >"$work/ok.log" 2>&1
expect success 0 $?
validate "$work/ok.json" "a successful run"

# --json=-: standard output is the JSON alone, the rest goes to stderr.
"$ft" --duration=30s --seed=3 -q --inject=dup-with-parent-mm-id --escalate=20s \
  --repro-file="$work/fail.repro" --json=- >"$work/fail.json" 2>"$work/fail.log"
expect failure 1 $?
validate "$work/fail.json" "a failing, escalated run (--json=-)"
grep -q '"escalation": {' "$work/fail.json" || { echo "not ok: no escalation result"; fail=1; }

"$ft" --duration=10m -q --escalate=0 --json="$work/int.json" >"$work/int.log" 2>&1 &
pid=$!
sleep 1
kill -INT "$pid"
wait "$pid"
expect interrupted 5 $?
validate "$work/int.json" "an interrupted run"

"$ft" --replay "$src/tests/stress/repro/good.repro" -q --json="$work/replay.json" \
  >"$work/replay.log" 2>&1
expect replay 6 $?
validate "$work/replay.json" "a replay, not reproduced"

# Negative controls: an undocumented key, a missing one, a wrong outcome.
python3 - "$work/ok.json" "$work" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = [dict(d, frob=1), {k: v for k, v in d.items() if k != "schema"},
       dict(d, outcome="INTERRUPTED")]
for i, b in enumerate(bad):
    json.dump(b, open("%s/bad%d.json" % (sys.argv[2], i), "w"))
PY
for i in 0 1 2; do
  if valid "$work/bad$i.json" >/dev/null; then
    echo "not ok: the schema accepts bad$i.json"; fail=1
  else
    echo "ok: the schema refuses bad$i.json"
  fi
done

# Every key the schema knows is documented in doc/json.md's table.
python3 - "$schema" "$src/doc/json.md" <<'PY' || fail=1
import json, re, sys
schema = json.load(open(sys.argv[1]))
keys = set()
def walk(node):
    if isinstance(node, dict):
        keys.update(node.get("properties", {}))
        for v in node.values():
            walk(v)
    elif isinstance(node, list):
        for v in node:
            walk(v)
walk(schema)
documented = set(re.findall(r"^\| `([a-z_]+)` \|", open(sys.argv[2]).read(), re.M))
missing, extra = keys - documented, documented - keys
for k in sorted(missing):
    print("not ok: key '%s' is not documented in doc/json.md" % k)
for k in sorted(extra):
    print("not ok: doc/json.md documents '%s', which the schema does not have" % k)
if not missing and not extra:
    print("ok: %d keys, each documented" % len(keys))
sys.exit(1 if missing or extra else 0)
PY
[ "$fail" = 0 ] && echo "ok: the JSON results follow their documented schema"
exit "$fail"
