#!/bin/sh
# A large export is parsed in parts on all cores (cmd_audit.c): the replica
# is the same, and every error is the one a line-by-line reading finds first,
# with its line number, wherever the parts are cut.
. "$TESTS/shell/lib.sh"
export IVL_NOW=2026-03-01T09:00:00+08:00

make_ledger L
"$IVL" -L L budget open B --total 100000000 --cap 100000000 --ratio 50 --until 2026-12-31 \
    --key auth.key >/dev/null || fail "budget"
{
    echo "uscc,amount,until"
    i=0
    while [ $i -lt 900 ]; do echo "$U_SME,1.$((i % 90 + 10)),"; i=$((i + 1)); done
} >many.csv
"$IVL" -L L issue --budget B --batch many.csv --key auth.key >/dev/null || fail "900 vouchers"
"$IVL" -L L export --out e.jsonl >/dev/null || fail "export"
lines=$(wc -l <e.jsonl)
[ "$(wc -c <e.jsonl)" -gt 400000 ] || fail "the export is too small to be cut into parts"

echo "-- the same replica"
"$IVL" --json -L R import e.jsonl >imp.json || fail "import"
[ "$(jget imp.json root)" = "$(ledger_root L)" ] || fail "the replica's root differs"

# e.jsonl with line N replaced by TEXT (and line M by TEXT2), written to FILE.
with_lines() { # FILE N TEXT [M TEXT2]
    "$PY" - "$@" <<'PY'
import sys
out, edits = sys.argv[1], sys.argv[2:]
lines = open("e.jsonl", encoding="utf-8").read().split("\n")
for i in range(0, len(edits), 2):
    lines[int(edits[i]) - 1] = edits[i + 1]
open(out, "w", encoding="utf-8").write("\n".join(lines))
PY
}
echo "-- errors name their line, in the first part and in the last"
for n in 3 $((lines - 5)); do
    with_lines bad.jsonl "$n" '{"seq":1}'
    assert_exit 2 "$IVL" -L R2 import bad.jsonl
    assert_grep "bad.jsonl line $n: an entry needs \"seq\" and \"leaf\"" "$ERR"
    [ ! -e R2/data.mdb ] || fail "a refused import left a ledger"
done
echo "-- two bad lines, one in each part: the first one is reported"
with_lines bad2.jsonl $((lines - 5)) 'not json' 4 '[]'
assert_exit 2 "$IVL" -L R2 import bad2.jsonl
assert_grep "bad2.jsonl line 4: not a JSON object" "$ERR"
with_lines bad3.jsonl $((lines - 5)) '{"seq":1}' 40 '{"seq":39,"leaf":"%%%"}'
assert_exit 3 "$IVL" -L R2 import bad3.jsonl
assert_grep "bad3.jsonl line 40: \"leaf\" is not base64" "$ERR"
echo "-- the checkpoint line in the middle"
"$PY" - <<'PY'
lines = open("e.jsonl", encoding="utf-8").read().split("\n")
cp = lines[-2]
mid = len(lines) // 2
out = lines[:mid] + [cp] + lines[mid:-2] + [""]
open("mid.jsonl", "w", encoding="utf-8").write("\n".join(out))
PY
assert_exit 2 "$IVL" -L R2 import mid.jsonl
mid=$(( (lines + 1) / 2 + 1 ))
assert_grep "mid.jsonl line $((mid + 1)): text after the checkpoint line" "$ERR"
echo "18-import-parts: ok"
