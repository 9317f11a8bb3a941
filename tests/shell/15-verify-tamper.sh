#!/bin/sh
# `ivl verify` on a sound ledger, with --from a checkpoint and --jobs, and on
# copies whose stored bytes were changed through LMDB itself (mdb_dump, edit
# one value, mdb_load) in every table, and by flipping bytes in data.mdb:
# verify must exit 3 (or 4), never crash, and other commands must not crash.
. "$TESTS/shell/lib.sh"
export IVL_NOW=2026-03-01T09:00:00+08:00

# A ledger that fills every table: parties, a budget, a voucher, a
# redemption, a claim approved and paid.
make_ledger L
"$IVL" -L L checkpoint >cp5
assert_exit 0 "$IVL" -L L budget open B2026 --total 1000000 --cap 200000 --ratio 50 --until 2026-12-31 \
    --key auth.key
assert_exit 0 "$IVL" -L L issue --budget B2026 --to "$U_SME" --amount 100000 --key auth.key
V=$(cat "$OUT")
echo "contract text" >contract.pdf
echo "invoice text" >invoice.pdf
assert_exit 0 "$IVL" -L L redeem --voucher "$V" --provider "$U_PROV" --contract contract.pdf \
    --contract-amount 50000 --amount 20000 --category testing --key sme.key --cosign prov.key
R=$(cat "$OUT")
assert_exit 0 "$IVL" -L L claim --redemption "$R" --invoice invoice.pdf --key prov.key
C=$(cat "$OUT")
assert_exit 0 "$IVL" -L L approve "$C" --key auth.key
assert_exit 0 "$IVL" -L L pay "$C" --ref BANK-0001 --key fin.key
SIZE=$(ledger_size L)
ROOT=$(ledger_root L)
[ "$SIZE" = 11 ] || fail "size $SIZE"

# ---- verify on the sound ledger
assert_exit 0 "$IVL" -L L verify
assert_grep 'verified' "$OUT"
assert_exit 0 "$IVL" --json -L L verify
[ "$(jget "$OUT" ok)" = true ] && [ "$(jget "$OUT" size)" = 11 ] && [ "$(jget "$OUT" root)" = "$ROOT" ] ||
    fail "verify --json: $(cat "$OUT")"
[ "$(jget "$OUT" entries)" = 11 ] || fail "verify entries"
[ "$(jget "$OUT" signatures)" = 12 ] || fail "verify signatures: $(jget "$OUT" signatures) (11 entries, one cosigned)"
assert_exit 0 "$IVL" -L L verify --jobs 2
assert_exit 2 "$IVL" -L L verify --jobs 0
assert_exit 2 "$IVL" -L L verify --jobs 65
assert_exit 2 "$IVL" -L L verify --jobs x
# --from a checkpoint of this log: proves the extension, checks the rest.
assert_exit 0 "$IVL" --json -L L verify --from cp5
[ "$(jget "$OUT" from_size)" = 5 ] || fail "verify --from: from_size"
"$IVL" -L L checkpoint >cp11
assert_exit 0 "$IVL" -L L verify --from cp11
# ... but not a checkpoint of another log with the same origin, nor an altered one.
mkdir other
(cd other && make_ledger F && "$IVL" -L F checkpoint >../fork.cp) >/dev/null || fail "other ledger"
assert_exit 3 "$IVL" --json -L L verify --from fork.cp
sed '3s/^./X/' cp5 >bad5.cp
[ "$(sed -n 3p bad5.cp)" != "$(sed -n 3p cp5)" ] || sed '3s/^./Y/' cp5 >bad5.cp
assert_exit 3 "$IVL" -L L verify --from bad5.cp
assert_exit 4 "$IVL" -L L verify --from nonexistent.cp

# ---- rejected commands append nothing and leave every table as it was
st=$(ledger_state L)
assert_exit 1 "$IVL" -L L party add --role sme --uscc "$U_SME" --name Again --pub fin.pub --key auth.key
assert_exit 1 "$IVL" -L L issue --budget B2026 --to "$U_SME" --amount 150000 --key auth.key
assert_exit 1 "$IVL" -L L pay "$C" --ref BANK-0002 --key fin.key
assert_exit 5 "$IVL" -L L approve "$C" --key sme.key
assert_unchanged L "$st"
assert_exit 0 "$IVL" -L L verify

# Commands a user runs on a ledger, none of which may crash on damaged data.
smoke()
{
    for c in status log checkpoint "party list" "show 3" "show $V" "proof inclusion 2" \
        "proof consistency 3" "balance $U_SME" "budget show B2026" "export --out $1.jsonl"; do
        rc=0
        # shellcheck disable=SC2086
        "$IVL" -L "$1" $c >/dev/null 2>&1 || rc=$?
        [ $rc -lt 128 ] || fail "ivl $c crashed (status $rc) on $1"
    done
}

# verify on a damaged copy: 3 (or 4), a one-line error, never a crash or a 0.
verify_refuses()
{
    rc=0
    "$IVL" --json -L "$1" verify >vout 2>verr || rc=$?
    case $rc in
    3 | 4) ;;
    *)
        cat verr >&2
        fail "verify of $1 ($2) exited $rc"
        ;;
    esac
    [ "$(wc -l <verr)" = 1 ] || fail "verify of $1: stderr is not one line"
    if [ $rc = 3 ]; then
        [ "$(jget vout ok)" = false ] || fail "verify --json of $1 ($2): ok is not false"
    fi
    rc=0
    "$IVL" -L "$1" verify >/dev/null 2>verr || rc=$?
    [ $rc = 3 ] || [ $rc = 4 ] || fail "verify (text) of $1 ($2) exited $rc"
    grep -q '^ivl: ' verr || fail "verify of $1: no 'ivl: ' error"
}

# ---- through LMDB: change one byte of one stored value in each table
if command -v mdb_dump >/dev/null 2>&1 && command -v mdb_load >/dev/null 2>&1; then
    tables=$(mdb_dump -l L)
    for t in budgets caps checkpoints claims contracts holdings ids leaves meta nodes parties pubkeys \
        recent redemptions vouchers; do
        echo "$tables" | grep -qx "$t" || fail "no LMDB table '$t' (tables: $tables)"
    done
    n=0
    for t in $tables; do
        for case in "0 0" "-1 -1"; do
            n=$((n + 1))
            rm -rf T
            cp -r L T
            rc=0
            # shellcheck disable=SC2086
            "$PY" "$LMDB_EDIT" T "$t" $case || rc=$?
            [ $rc = 9 ] && continue # an empty value: nothing to flip
            if [ $rc = 8 ]; then    # an empty table (holdings, below its first move): one more record
                rc=0
                "$PY" "$LMDB_EDIT" T "$t" add ff 00 || rc=$?
            fi
            [ $rc = 0 ] || fail "lmdb-edit.py T $t $case"
            verify_refuses T "table $t, record/offset $case"
            [ "$t" = leaves ] || [ "$t" = meta ] && smoke T
        done
    done
    [ $n -ge 20 ] || fail "only $n tampered copies"
    # A record added to a table.
    rm -rf T && cp -r L T
    "$PY" "$LMDB_EDIT" T parties add "$(printf '%s' "$(uscc_of 91140521MA0000077)" | od -An -tx1 | tr -d ' \n')" \
        "$(mdb_dump -s parties L | sed -n '/HEADER=END/{n;n;p;q}' | tr -d ' ')"
    verify_refuses T "a party added to the table"
    rm -rf T && cp -r L T
    "$PY" "$LMDB_EDIT" T ids add 00112233445566778899aabbccddeeff 0000000000000003
    verify_refuses T "an id added"
    # Tables in another layout (meta "layout", the second key): refused at
    # open by every command, naming both layouts, before anything is read.
    rm -rf T && cp -r L T
    [ "$(mdb_dump -s meta T | sed -n '/HEADER=END/,$p' | sed -n 4p | tr -d ' ')" = 6c61796f7574 ] ||
        fail "meta's second key is not 'layout'"
    layout=$((0x$(mdb_dump -s meta T | sed -n '/HEADER=END/,$p' | sed -n 5p | tr -d ' ')))
    "$PY" "$LMDB_EDIT" T meta 1 0
    for cmd in status verify "log" "export --out t.jsonl"; do
        # shellcheck disable=SC2086
        assert_exit 4 "$IVL" --json -L T $cmd
        assert_code storage_error
        assert_grep "in layout $((layout ^ 1)), and this ivl reads layout $layout" "$ERR"
    done
    # The tampered copy of a leaf cannot be exported as a valid replica either.
    rm -rf T && cp -r L T
    "$PY" "$LMDB_EDIT" T leaves 6 -1
    verify_refuses T "leaf 6"
    rc=0
    "$IVL" -L T export --out t.jsonl >/dev/null 2>&1 || rc=$?
    if [ $rc = 0 ]; then
        rc=0
        $IVLCHECK export L/log.pub t.jsonl >/dev/null 2>&1 || rc=$?
        [ $rc = 3 ] || fail "the export of a tampered ledger passed the independent check"
        assert_exit 3 "$IVL" -L T2 import t.jsonl
    fi
else
    echo "mdb_dump/mdb_load not installed (lmdb-utils): the per-table LMDB tampering is skipped"
fi

# ---- raw bytes: flip a byte in every copy of a party's name in data.mdb
# (every copy, so that the live one is hit whatever pages LMDB reuses)
flip_all()
{
    "$PY" - "$1/data.mdb" "$2" "$3" <<'EOF'
import sys
path, needle, off = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
b = bytearray(open(path, "rb").read())
i, n = b.find(needle), 0
while i >= 0:
    b[i + off] ^= 0x20
    n += 1
    i = b.find(needle, i + 1)
assert n > 0, "string not found"
open(path, "r+b").write(b)
EOF
}
for s in "Shanxi Testing Institute:0" "Finance Bureau:3" "B2026:0" "BANK-0001:5" "test.example/ivl:0"; do
    rm -rf T && cp -r L T
    flip_all T "${s%:*}" "${s##*:}"
    verify_refuses T "bytes of '${s%:*}' flipped in data.mdb"
    smoke T
done
# Truncated database file: exit 3 or 4, no crash.
rm -rf T && cp -r L T
head -c 8192 L/data.mdb >T/data.mdb
rc=0
"$IVL" -L T verify >/dev/null 2>&1 || rc=$?
[ $rc = 3 ] || [ $rc = 4 ] || fail "verify of a truncated data.mdb exited $rc"
smoke T

# The original is untouched and still verifies.
assert_unchanged L "$st"
assert_exit 0 "$IVL" -L L verify
echo "15-verify-tamper: ok"
