#!/bin/sh
# A fork made the way an operator would make one — copy the ledger, then
# append different entries to each copy with the same keys — is refused by
# `verify --from` a checkpoint of the other copy and by `import` into a
# replica; and incremental verification after thousands of entries gives the
# same verdict as the full one, on a sound ledger and on tampered copies.
. "$TESTS/shell/lib.sh"
export IVL_NOW=2026-03-01T09:00:00+08:00

make_ledger L
"$IVL" -L L budget open B --total 100000000 --cap 100000000 --ratio 50 --until 2026-12-31 \
    --key auth.key >/dev/null || fail "budget"
"$IVL" -L L checkpoint >base.cp

echo "-- a copy that diverges under the same keys"
cp -a L L2
"$IVL" -L L issue --budget B --to "$U_SME" --amount 100 --key auth.key >/dev/null || fail "issue on L"
"$IVL" -L L2 issue --budget B --to "$U_SME" --amount 999 --key auth.key >/dev/null || fail "issue on L2"
"$IVL" -L L checkpoint >L.cp
"$IVL" -L L2 checkpoint >L2.cp
[ "$(ledger_size L)" = "$(ledger_size L2)" ] || fail "the two copies should have the same size"
# each copy, seen alone, still extends the common checkpoint...
"$IVL" -L L verify --no-cache --from base.cp >/dev/null || fail "L does not extend the common checkpoint"
"$IVL" -L L2 verify --no-cache --from base.cp >/dev/null || fail "L2 does not extend the common checkpoint"
# ...but an auditor who has verified one of them is shown a second history
# of the same log when handed the other: a split view, every time
"$IVL" -L L verify --from base.cp >/dev/null || fail "L with the auditor's cache"
for run in 1 2; do
    assert_exit 3 "$IVL" --json -L L2 verify --from base.cp
    assert_code fork
    grep -q "rewritten since it was last verified here: at size $(ledger_size L)" "$ERR" ||
        fail "run $run: the split view is not named: $(cat "$ERR")"
done
assert_exit 3 "$IVL" -L L2 verify
"$IVL" -L L verify >/dev/null || fail "L is still the history this auditor verified"
# ...but neither extends the other's
assert_exit 3 "$IVL" --json -L L verify --from L2.cp
assert_code fork
assert_exit 3 "$IVL" --json -L L2 verify --from L.cp
assert_code fork

echo "-- import refuses the other copy, naming the entry and both leaf hashes"
"$IVL" -L L export --out L.jsonl >/dev/null
"$IVL" -L L2 export --out L2.jsonl >/dev/null
"$IVL" -L R import L.jsonl >/dev/null || fail "replica of L"
before=$(ledger_state R)
assert_exit 3 "$IVL" -L R import L2.jsonl
seq=$(ledger_size L)
seq=$((seq - 1))
grep -q "entry $seq conflicts" "$ERR" || fail "the refusal does not name entry $seq: $(cat "$ERR")"
"$IVL" -L L --json show "$seq" >s1.json && h1=$(jget s1.json leaf_hash)
"$IVL" -L L2 --json show "$seq" >s2.json && h2=$(jget s2.json leaf_hash)
grep -q "$h1" "$ERR" && grep -q "$h2" "$ERR" || fail "both leaf hashes should be given as evidence: $(cat "$ERR")"
[ "$(ledger_state R)" = "$before" ] || fail "the replica changed"

echo "-- incremental after thousands of entries: the same verdict as the full verification"
"$IVL" -L L checkpoint >kept.cp
{
    echo "uscc,amount,until"
    i=0
    while [ $i -lt 3000 ]; do echo "$U_SME,1.$((i % 90 + 10)),"; i=$((i + 1)); done
} >many.csv
"$IVL" -L L issue --budget B --batch many.csv --key auth.key >/dev/null || fail "3000 vouchers"
"$IVL" --json -L L verify >full.json || fail "full verification"
"$IVL" --json -L L verify --no-cache --from kept.cp >incr.json || fail "incremental verification"
full=$(jget full.json root)
incr=$(jget incr.json root)
[ -n "$full" ] && [ "$full" = "$incr" ] || fail "full and incremental verification disagree: $full / $incr"
skipped=$(jget incr.json signatures_skipped)
[ "$skipped" -gt 0 ] || fail "incremental verification checked the signatures before the checkpoint"
# from the state the full verification kept: nothing to replay, same root
"$IVL" --json -L L verify --from kept.cp >cached.json || fail "incremental verification, cached"
[ "$(jget cached.json root)" = "$full" ] || fail "the cached verification disagrees"
[ "$(jget cached.json replayed)" = 0 ] || fail "the cached verification replayed the log again"

if command -v mdb_dump >/dev/null && command -v mdb_load >/dev/null; then
    # change one budget total through LMDB itself: both verdicts must be 3
    cp -a L T
    "$PY" "$LMDB_EDIT" T budgets 0 -1 || fail "change a budget"
    assert_exit 3 "$IVL" -L T verify
    assert_exit 3 "$IVL" -L T verify --from kept.cp

    # damage one stored entry: what reads the log refuses it instead of using it
    rm -rf T && cp -a L T
    # the last byte of entry 8 (an issue): its signature
    "$PY" "$LMDB_EDIT" T leaves 8 -1 || fail "change entry 8"
    for cmd in "log" "export --out x.jsonl" "report" "report --format csv" "report --flags" "show 8"; do
        # shellcheck disable=SC2086
        assert_exit 3 "$IVL" -L T $cmd
    done
else
    echo "SKIP tampering part: lmdb-utils not installed"
fi
echo "16-fork-incremental: ok"
