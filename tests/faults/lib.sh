# tests/faults/lib.sh - what the fault harnesses (tests/shell/5x-*.sh) share:
# a clean environment in the test's directory, fail(), ivl() on the ledger $L,
# state() (size and root), the fault-injection shim, and a small ledger.
# Sourced, never run.
: "${IVL:?set IVL to the ivl binary}"
TESTS=${TESTS:-$(cd "$(dirname "$0")/.." && pwd)}
PY=/usr/bin/python3
W=$PWD
L=$W/led
SME=91140521MA00000018
export IVL_NOW=2026-03-01T09:00:00+08:00
unset IVL_PASSPHRASE IVL_PASSPHRASE_FILE IVL_LEDGER LD_PRELOAD

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ivl() { "$IVL" -L "$L" "$@"; }
state() { ivl --json status | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["size"], d["root"])'; }

# The LD_PRELOAD shim in $SHIM: $FAILIO if the Makefile built it, else built here.
need_shim() {
    SHIM=${FAILIO:-}
    if [ -z "$SHIM" ] || [ ! -f "$SHIM" ]; then
        SHIM=$W/failio.so
        cc -shared -fPIC -O2 -o "$SHIM" "$TESTS/faults/failio.c" -ldl || fail "cannot build the shim"
    fi
}

# small_ledger ORIGIN TOTAL: the authority, one SME ($SME, key sme.key) and
# budget B of TOTAL yuan (cap the same), in $L.
small_ledger() {
    "$IVL" keygen auth --unencrypted >/dev/null
    "$IVL" keygen sme --unencrypted >/dev/null
    ivl init --origin "$1" --key auth.key --uscc 11140521MB12345677 --name 科技局 >/dev/null
    ivl party add --role sme --uscc "$SME" --name 企业 --pub sme.pub --key auth.key >/dev/null
    ivl budget open B --total "$2" --cap "$2" --ratio 50 --until 2026-12-31 --key auth.key >/dev/null
}
