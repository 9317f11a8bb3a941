#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Hostile input files (SPEC §6): random, empty, truncated, 100 MB and
# cleverly altered request files (submit, cosign), export files (import, into
# the ledger and into a new directory), CSV batches (party add, issue), key
# files (--key), verifier keys (--pub, --log-pub), checkpoints (checkpoint
# verify, verify --from) and proofs (proof check); also a directory, a FIFO,
# /dev/zero and a missing path. Every run must exit 2, 3, 4 or 5 (never 0,
# never a signal), print one 'ivl: ' line on stderr, finish within 20 s, use
# less than 300 MB of memory, append nothing and create no ledger.
# The variants are made by tests/faults/hostile.py.
set -eu
. "${TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/faults/lib.sh"
export TMPDIR=$W
SME=91140521MA00000018 PROV=12140000405000001F
for k in auth sme prov; do "$IVL" keygen $k --unencrypted >/dev/null; done
ivl init --origin hostile.test/ivl --key auth.key --uscc 11140521MB12345677 --name 科技局 >/dev/null
ivl party add --role sme --uscc "$SME" --name 企业 --pub sme.pub --key auth.key >/dev/null
ivl party add --role provider --uscc "$PROV" --name 研究院 --pub prov.pub --key auth.key >/dev/null
ivl budget open B --total 1000000 --cap 100000 --ratio 50 --until 2026-12-31 --key auth.key >/dev/null
V=$(ivl issue --budget B --to "$SME" --amount 1000 --key auth.key)
echo contract >contract.txt
ivl redeem --voucher "$V" --provider "$PROV" --contract contract.txt --contract-amount 1000 \
    --amount 100 --key sme.key --out req.signed >/dev/null
cp req.signed req.cosigned
ivl cosign req.cosigned --key prov.key >/dev/null
ivl export --out good.jsonl >/dev/null
ivl checkpoint >good.cp
ivl proof inclusion 2 >good.proof
"$IVL" keygen new --unencrypted >/dev/null
printf 'role,uscc,name,pub,related,group,categories\nsme,91140521MA0000002B,新企业,%s,,,\n' "$(cat new.pub)" >good-party.csv
printf 'uscc,amount,until\n%s,10,\n%s,20,2026-06-30\n' "$SME" "$SME" >good-issue.csv
# the valid inputs are accepted (dry: each would append, so only check what
# does not) and the sources of the variants are sound
ivl checkpoint verify good.cp --pub "$L/log.pub" >/dev/null || fail "good checkpoint"
ivl proof check good.proof --log-pub "$L/log.pub" >/dev/null || fail "good proof"
ivl verify --from good.cp >/dev/null || fail "good verify --from"

gen() { "$PY" "$TESTS/faults/hostile.py" "$1" "$2" "$3" >/dev/null; }
gen request req.cosigned v/submit
gen request req.signed v/cosign
gen export good.jsonl v/import
gen csv good-party.csv v/party
gen csv good-issue.csv v/issue
gen key sme.key v/key
gen pub new.pub v/pub
gen pub "$L/log.pub" v/logpub
gen checkpoint good.cp v/cp
gen proof good.proof v/proof

# 100 MB: random bytes, and a sparse file of zeros
dd if=/dev/urandom of=big.rand bs=1M count=100 status=none
truncate -s 100M big.zero
mkfifo fifo
mkdir adir
SPECIAL="$W/big.rand $W/big.zero $W/fifo $W/adir /dev/zero $W/missing"
for d in submit cosign import party issue key pub logpub cp proof; do
    for f in $SPECIAL; do # hard links where possible: --key refuses symbolic links
        ln "$f" "v/$d/zz-$(basename "$f")" 2>/dev/null || ln -s "$f" "v/$d/zz-$(basename "$f")"
    done
done

chmod 600 v/key/[0-9]* big.rand big.zero

runs=0 maxrss=0 maxwhat=""
bugs=0
bug() {
    echo "FAIL (product bug): $*" >&2
    bugs=$((bugs + 1))
}
before=$(state)
# try WHAT CMD...: must be refused cleanly
try() {
    local what=$1 rc=0 rss
    shift
    rm -f rss.txt
    case $what in # max RSS of the 100 MB ones (GNU time), the rest only timed
    *zz-big*) timeout 20 /usr/bin/time -f %M -o rss.txt "$IVL" "$@" >out 2>err </dev/null || rc=$? ;;
    *) timeout 20 "$IVL" "$@" >out 2>err </dev/null || rc=$? ;;
    esac
    runs=$((runs + 1))
    rss=$(tail -n 1 rss.txt 2>/dev/null || echo 0)
    case $rss in '' | *[!0-9]*) rss=0 ;; esac
    if [ "$rss" -gt "$maxrss" ]; then maxrss=$rss maxwhat=$what; fi
    [ "$rc" -ne 124 ] || { bug "$what: timed out (20 s)"; return 0; }
    case $rc in
    2 | 3 | 4 | 5) ;;
    0)
        # an export holding only the checkpoint the ledger already has
        # is a valid no-op for that ledger (it adds nothing)
        case $what in "import v/import/"*checkpoint-only) return 0 ;; esac
        bug "$what: accepted (exit 0): $(head -c 300 out)"
        return 0
        ;;
    *) bug "$what: exit $rc (signal?): $(head -c 300 err)"; return 0 ;;
    esac
    # one line; a CSV batch reports every bad row on its own line (SPEC §5)
    case $what in
    *batch*) [ -s err ] && ! grep -qv '^ivl: ' err ;;
    *) [ "$(wc -l <err)" -eq 1 ] && grep -q '^ivl: ' err ;;
    esac || bug "$what: stderr is not one 'ivl:' line: $(head -c 300 err)"
    [ "$rss" -lt 300000 ] || bug "$what: max RSS $rss KB"
    case $what in *zz-big*) echo "   $what: exit $rc, max RSS $((rss / 1024)) MB: $(head -c 150 err)" ;; esac
}
checkstate() {
    local now
    now=$(state)
    [ "$now" = "$before" ] || fail "the ledger changed after $1: $before -> $now"
}

echo "-- request files: submit, cosign"
for f in v/submit/*; do try "submit $f" -L "$L" submit "$f"; done
checkstate submit
for f in v/cosign/*; do
    case $f in *zz-*) g=$f ;; *) cp "$f" cur.req && g=cur.req ;; esac
    try "cosign $f" -L "$L" cosign "$g" --key prov.key
done
checkstate cosign
echo "-- export files: import into the ledger and into a new directory"
for f in v/import/*; do
    try "import $f" -L "$L" import "$f"
    rm -rf fresh
    try "import (new) $f" -L "$W/fresh" import "$f"
    [ ! -e fresh/data.mdb ] || bug "import of $f left a ledger in a new directory"
done
checkstate import
echo "-- CSV batches"
for f in v/party/*; do try "party batch $f" -L "$L" party add --batch "$f" --key auth.key; done
for f in v/issue/*; do try "issue batch $f" -L "$L" issue --budget B --batch "$f" --key auth.key; done
checkstate batches
echo "-- key files"
for f in v/key/*; do try "--key $f" -L "$L" issue --budget B --to "$SME" --amount 1 --key "$f"; done
for f in v/pub/*; do
    try "--pub $f" -L "$L" party add --role sme --uscc 91140521MA0000002B --name 新 --pub "$f" --key auth.key
    try "checkpoint verify --pub $f" checkpoint verify good.cp --pub "$f"
done
for f in v/logpub/*; do try "proof check --log-pub $f" proof check good.proof --log-pub "$f"; done
checkstate keys
echo "-- checkpoints and proofs"
for f in v/cp/*; do
    try "checkpoint verify $f" checkpoint verify "$f" --pub "$L/log.pub"
    try "verify --from $f" -L "$L" verify --from "$f"
done
for f in v/proof/*; do try "proof check $f" proof check "$f" --log-pub "$L/log.pub"; done
checkstate proofs
rm -f big.rand big.zero
ivl verify >/dev/null || fail "final verify"
echo "53-hostile-files: $runs hostile runs, largest max RSS $((maxrss / 1024)) MB ($maxwhat)"
[ "$bugs" -eq 0 ] || fail "$bugs product bugs (above)"
