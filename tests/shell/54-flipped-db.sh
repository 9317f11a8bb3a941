#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Flipped bytes in the database (SPEC §6 "Hostile input ... flipped bytes in
# the database"): a realistic ledger (every entry type), then TRIALS (200)
# fresh copies of its directory, each with 1 to 8 random bytes of data.mdb
# changed (anywhere, in the meta pages, in the last pages written), and
# `ivl verify`, `ivl status`, `ivl log` run on each: exit 0 only if what they
# report is the original ledger, otherwise exit 3 or 4; never a signal, never
# a hang (20 s). The trials run in tests/faults/flipdb.py.
set -eu
. "${TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/faults/lib.sh"
export TMPDIR=$W
ivl() { "$IVL" -L "$L" "$@" || fail "ivl $*"; } # here every setup step must succeed
AUTH=11140521MB12345677 FIN=12140000405000001F AUD=11140521MB76543214
S1=91140521MA00000018 S2=91140521MA0000002B P1=11140521MB11111111 P2=91140521MA0000003D
for k in auth fin aud s1 s2 p1 p2; do "$IVL" keygen $k --unencrypted >/dev/null; done
# P2's check digit: computed, as the others are fixed examples
P2=$("$PY" -c '
cs = "0123456789ABCDEFGHJKLMNPQRTUWXY"
w = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
b = "91140521MA0000003"
c = 31 - sum(cs.index(x) * y for x, y in zip(b, w)) % 31
print(b + cs[0 if c == 31 else c])')
ivl init --origin flip.test/ivl --key auth.key --uscc $AUTH --name 科技局 >/dev/null
ivl party add --role finance --uscc $FIN --name 财政局 --pub fin.pub --key auth.key >/dev/null
ivl party add --role auditor --uscc $AUD --name 审计局 --pub aud.pub --key auth.key >/dev/null
ivl party add --role sme --uscc $S1 --name 企业一 --pub s1.pub --group 集团 --related $P2 --key auth.key >/dev/null
ivl party add --role sme --uscc $S2 --name 企业二 --pub s2.pub --key auth.key >/dev/null
ivl party add --role provider --uscc $P1 --name 研究院 --pub p1.pub --categories rd,testing --key auth.key >/dev/null
ivl party add --role provider --uscc $P2 --name 检测站 --pub p2.pub --key auth.key >/dev/null
ivl budget open B1 --total 1000000 --cap 200000 --ratio 50 --until 2026-12-31 --key auth.key >/dev/null
ivl budget open B2 --total 500000 --cap 100000 --ratio 40% --until 2026-09-30 --categories rd --key auth.key >/dev/null
n=0
for i in $(seq 1 12); do
    V=$(ivl issue --budget B1 --to $S1 --amount 1000 --key auth.key)
    W2=$(ivl issue --budget B2 --to $S2 --amount 2000 --key auth.key)
    n=$((n + 1))
    echo "contract $i" >c$i
    R=$(ivl redeem --voucher "$V" --provider $P1 --contract c$i --contract-amount 1000 --amount 400 \
        --category rd --key s1.key --cosign p1.key)
    echo "invoice $i" >inv$i
    C=$(ivl claim --redemption "$R" --invoice inv$i --key p1.key)
    case $((i % 4)) in
    0) ivl approve "$C" --key auth.key >/dev/null && ivl pay "$C" --ref BANK$i --key fin.key >/dev/null ;;
    1) ivl reject "$C" --reason "no report" --key auth.key >/dev/null ;;
    2) ivl approve "$C" --key auth.key >/dev/null ;;
    3) ivl revoke "$W2" --reason "withdrawn" --key auth.key >/dev/null ;;
    esac
done
echo "contract x" >cx
R=$(ivl redeem --voucher "$V" --provider $P1 --contract cx --contract-amount 1000 --amount 100 \
    --category rd --key s1.key --out req | head -n 1)
ivl cosign req --key p1.key >/dev/null
ivl submit req >/dev/null
ivl cancel "$R" --reason "called off" --key auth.key >/dev/null
ivl party suspend $S2 --reason "closed" --key auth.key >/dev/null
ivl attest --key aud.key >/dev/null
ivl verify >/dev/null
echo "-- ledger: $("$IVL" -L "$L" --json status | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["size"], "entries")'), data.mdb $(stat -c %s "$L/data.mdb") bytes"

"$PY" "$TESTS/faults/flipdb.py" "$IVL" "$L" "$W" "${TRIALS:-200}"
