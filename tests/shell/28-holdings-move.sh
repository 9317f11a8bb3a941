#!/bin/sh
# The vouchers of a holder live in two tables (docs/ARCHITECTURE.md): the
# last ones issued in `recent`, in log order, and the older ones in
# `holdings`, where the issue that brings `recent` to 65,536 moves them all.
# Across that move, on real processes: `balance` lists each holder's
# vouchers from both tables in id order with the right total; `verify`
# (--from a checkpoint before the move, replaying across it) passes; a
# changed record in `holdings` is caught.
. "$TESTS/shell/lib.sh"
export IVL_NOW=2026-03-01T09:00:00+08:00
LIMIT=65536

count() { mdb_stat -s "$2" "$1" | awk '/Entries:/ {print $2}'; }

make_ledger L
U_SME2=$(uscc_of 91140521MA0000002)
"$IVL" keygen sme2 --unencrypted >/dev/null || fail "keygen sme2"
assert_exit 0 "$IVL" -L L party add --role sme --uscc "$U_SME2" --name "Qinshui Gears Co" --pub sme2.pub \
    --key auth.key
assert_exit 0 "$IVL" -L L budget open B2026 --total 1000000 --cap 500000 --ratio 50 --until 2026-12-31 \
    --key auth.key

# One short of the limit, in one batch: all of it in `recent`.
awk -v n=$((LIMIT - 1)) -v a="$U_SME" -v b="$U_SME2" \
    'BEGIN { print "uscc,amount"; for (i = 0; i < n; i++) print (i % 2 ? b : a) ",1" }' >issue.csv
assert_exit 0 "$IVL" -L L issue --budget B2026 --batch issue.csv --key auth.key
[ "$(count L recent)" = $((LIMIT - 1)) ] || fail "recent holds $(count L recent), not $((LIMIT - 1))"
[ "$(count L holdings)" = 0 ] || fail "holdings holds $(count L holdings) before the move"
"$IVL" -L L checkpoint >before.cp
assert_exit 0 "$IVL" -L L verify

# The issue that fills it moves everything, the next one starts it again.
assert_exit 0 "$IVL" -L L issue --budget B2026 --to "$U_SME" --amount 2.50 --key auth.key
V1=$(cat "$OUT")
[ "$(count L recent)" = 0 ] || fail "recent holds $(count L recent) after the move"
[ "$(count L holdings)" = $LIMIT ] || fail "holdings holds $(count L holdings), not $LIMIT"
assert_exit 0 "$IVL" -L L issue --budget B2026 --to "$U_SME2" --amount 3.25 --key auth.key
V2=$(cat "$OUT")
[ "$(count L recent)" = 1 ] || fail "recent holds $(count L recent), not 1"

# balance: every voucher of the holder, from both tables, in id order.
check_balance() # USCC COUNT TOTAL NEWEST
{
    assert_exit 0 "$IVL" --json -L L balance "$1"
    "$PY" - "$OUT" "$2" "$3" "$4" <<'EOF' || fail "balance $1"
import json, sys
b = json.load(open(sys.argv[1]))
ids = [v["id"] for v in b["vouchers"]]
assert len(ids) == int(sys.argv[2]), (len(ids), sys.argv[2])
assert len(set(ids)) == len(ids), "an id listed twice"
assert ids == sorted(ids), "not in id order"
assert ids[-1] == sys.argv[4], ("the newest voucher is not last", ids[-1], sys.argv[4])
assert b["total_remaining"] == sys.argv[3], (b["total_remaining"], sys.argv[3])
EOF
}
# rows 0, 2, 4 ... went to the first SME: 32,768 of them, then V1; 32,767 and V2 to the second
check_balance "$U_SME" 32769 32770.50 "$V1"
check_balance "$U_SME2" 32768 32770.25 "$V2"
assert_exit 0 "$IVL" -L L balance "$U_SME2"
[ "$(grep -c '^[0-9a-f]\{8\}-' "$OUT")" = 32768 ] || fail "balance (text) lists $(grep -c '^[0-9a-f]\{8\}-' "$OUT") vouchers"

# verify: incremental across the move, from the state the run before it kept
# (its replay makes the same move, and every table is compared).
assert_exit 0 "$IVL" --json -L L verify --from before.cp
[ "$(jget "$OUT" ok)" = true ] || fail "verify --from: $(cat "$OUT")"
[ "$(jget "$OUT" replayed)" = 2 ] || fail "verify --from replayed $(jget "$OUT" replayed) entries, not 2"

# A moved record changed is caught (a full replay: the cache is another log's).
rm -rf T && cp -r L T
"$PY" "$LMDB_EDIT" T holdings -1 0 || fail "lmdb-edit.py T holdings"
assert_exit 3 "$IVL" -L T verify --no-cache
assert_grep "table 'holdings'" "$ERR"

# A record in `recent` after every sequence number (the next issue could not
# go after it): the issue is refused as damage, and nothing is appended.
rm -rf T && cp -r L T
"$PY" "$LMDB_EDIT" T recent add ffffffffffffffff 00 || fail "lmdb-edit.py T recent add"
size=$(ledger_size T)
assert_exit 3 "$IVL" -L T issue --budget B2026 --to "$U_SME" --amount 1 --key auth.key
assert_grep "table 'recent' already holds a later record" "$ERR"
[ "$(ledger_size T)" = "$size" ] || fail "an entry was appended over a damaged recent"
# balance reads every voucher before it prints: one error line, no half table
assert_exit 3 "$IVL" -L T balance "$U_SME"
assert_grep "table 'recent' holds a damaged record" "$ERR"
[ ! -s "$OUT" ] || fail "balance printed a table before its error: $(head -3 "$OUT")"

echo "28-holdings-move: ok"
