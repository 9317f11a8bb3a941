# rules-lib.sh - helpers shared by the rule tests 20-27 (sourced by bash).
#
# Not a test itself. Each test sources it with
#     . "$(dirname "$0")/rules-lib.sh"
# and gets: a ledger in ./led with an authority, fixed time (IVL_NOW), and
# helpers that assert exit codes, JSON error codes and that a refused
# command appended nothing (size and root of `ivl status` unchanged).
# Run directly (as run-shell.sh does with every *.sh), it does nothing.
case $0 in *rules-lib.sh) exit 0 ;; esac
: "${IVL:?set IVL to the ivl binary}"

PY=/usr/bin/python3
L=$PWD/led
W=$PWD
export IVL_NOW=${IVL_NOW:-2026-03-01T09:00:00+08:00}
unset IVL_PASSPHRASE IVL_PASSPHRASE_FILE IVL_LEDGER

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

note() { echo "-- $*"; }

ivl() { "$IVL" -L "$L" "$@"; }
ivj() { "$IVL" -L "$L" --json "$@"; }

# jf PATH: prints the value at dotted PATH (list indices as numbers) of the
# JSON on stdin; objects/lists are printed as compact JSON, null as "null".
jf() {
    "$PY" -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split(".") if sys.argv[1] else []:
    v = v[int(k)] if isinstance(v, list) else v[k]
if isinstance(v, (dict, list)) or v is None or isinstance(v, bool):
    print(json.dumps(v, separators=(",", ":"), ensure_ascii=False))
else:
    print(v)' "$1"
}

# state: "size root" of the ledger (from the text status: no Python, fast).
state() {
    "$IVL" -L "$L" status | sed -n 's/^size *\([0-9]*\).*/\1/p; s/^root *//p' | tr '\n' ' '
}
size() { state | cut -d' ' -f1; }

eq() { # eq ACTUAL EXPECTED WHAT
    [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# ok CMD...: runs CMD, which must exit 0; prints its stdout.
ok() {
    local rc=0 o
    o=$("$@" 2>"$W/.ok.err") || rc=$?
    [ "$rc" -eq 0 ] || fail "expected success (exit $rc): $* :: $(cat "$W/.ok.err")"
    printf '%s\n' "$o"
}

# errcode: the error code of the last JSON error line of stdin.
errcode() {
    local c
    c=$(sed -n 's/^{"error":{"code":"\([^"]*\)".*/\1/p' | tail -n 1)
    printf '%s\n' "${c:-NONE}"
}

# refuse EXIT CODE ARGS...: `ivl --json ARGS` must exit EXIT with error CODE
# and append nothing. Leaves stderr in $W/.err.
refuse() {
    local want=$1 code=$2 rc=0 before after got
    shift 2
    before=$(state)
    "$IVL" -L "$L" --json "$@" >"$W/.out" 2>"$W/.err" || rc=$?
    after=$(state)
    [ -n "$before" ] || fail "ivl status failed before: ivl $*"
    [ "$rc" -eq "$want" ] || fail "expected exit $want ($code), got $rc: ivl $* :: $(cat "$W/.err")"
    got=$(errcode <"$W/.err")
    [ "$got" = "$code" ] || fail "expected error code $code, got $got: ivl $* :: $(cat "$W/.err")"
    [ "$before" = "$after" ] || fail "refused command changed the ledger ($before -> $after): ivl $*"
    [ ! -s "$W/.out" ] || fail "refused command printed on stdout: ivl $* :: $(cat "$W/.out")"
}

# uscc BODY17: BODY17 followed by its GB 32100 check character.
uscc() {
    local s=$1 cs=0123456789ABCDEFGHJKLMNPQRTUWXY sum=0 i c p
    local -a w=(1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28)
    for ((i = 0; i < 17; i++)); do
        c=${s:i:1}
        p=${cs%%"$c"*}
        sum=$((sum + ${#p} * w[i]))
    done
    c=$((31 - sum % 31))
    [ "$c" -ne 31 ] || c=0
    printf '%s%s\n' "$s" "${cs:c:1}"
}
# un N: a valid USCC numbered N (distinct N give distinct codes).
un() { uscc "$(printf '91140521MA%07d' "$1")"; }

# Fixed bureaus.
AUTH=11140521MB12345677
FIN=12140000405000001F
AUD=11140521MB76543214

key() { "$IVL" keygen "$W/$1" --unencrypted >/dev/null || fail "keygen $1"; }

# genesis [ORIGIN]: ledger with authority (auth.key), finance (fin.key).
genesis() {
    key auth
    key fin
    ok ivl init --origin "${1:-rules.test/ivl}" --key "$W/auth.key" --uscc "$AUTH" --name "科技局" >/dev/null
    ok ivl party add --role finance --uscc "$FIN" --name "财政局" --pub "$W/fin.pub" --key "$W/auth.key" >/dev/null
}

# party ROLE NAME USCC [FLAGS...]: new key NAME.key and registers it.
party() {
    local role=$1 name=$2 u=$3
    shift 3
    key "$name"
    ok ivl party add --role "$role" --uscc "$u" --name "$name" --pub "$W/$name.pub" "$@" --key "$W/auth.key" >/dev/null
}

budget() { # budget ID TOTAL CAP RATIO UNTIL [FLAGS...]
    local id=$1 t=$2 c=$3 r=$4 u=$5
    shift 5
    ok ivl budget open "$id" --total "$t" --cap "$c" --ratio "$r" --until "$u" "$@" --key "$W/auth.key" >/dev/null
}

issue() { # issue BUDGET USCC AMOUNT [FLAGS...] -> voucher id
    local b=$1 u=$2 a=$3
    shift 3
    ok ivl issue --budget "$b" --to "$u" --amount "$a" "$@" --key "$W/auth.key"
}

# contract NAME: a contract document file (distinct NAME, distinct hash).
contract() {
    [ -e "$W/$1.contract" ] || printf 'contract %s\n' "$1" >"$W/$1.contract"
    printf '%s\n' "$W/$1.contract"
}

# redeem VOUCHER SMEKEY PROVUSCC PROVKEY CONTRACT CAMOUNT AMOUNT [FLAGS...] -> redemption id
redeem() {
    local v=$1 sk=$2 pu=$3 pk=$4 c=$5 ca=$6 a=$7
    shift 7
    ok ivl redeem --voucher "$v" --provider "$pu" --contract "$(contract "$c")" \
        --contract-amount "$ca" --amount "$a" "$@" --key "$W/$sk.key" --cosign "$W/$pk.key"
}

# claim REDEMPTION PROVKEY -> claim id
claim() {
    printf 'invoice for %s\n' "$1" >"$W/inv-$1"
    ok ivl claim --redemption "$1" --invoice "$W/inv-$1" --key "$W/$2.key"
}

# bud ID FIELD: a field of `budget show`.
bud() { ivj budget show "$1" | jf "$2"; }
# vch ID FIELD: a field of `show VOUCHER`.
vch() { ivj show "$1" | jf "$2"; }
# bal USCC: total_remaining of `balance`.
bal() { ivj balance "$1" | jf total_remaining; }

verify_ok() {
    local o
    o=$(ok ivl --json verify)
    eq "$(printf '%s' "$o" | jf ok)" true "ivl verify"
}

# refuse_redeem EXIT CODE VOUCHER SMEKEY PROVUSCC PROVKEY CONTRACT CAMOUNT AMOUNT [FLAGS...]
refuse_redeem() {
    local x=$1 code=$2 v=$3 sk=$4 pu=$5 pk=$6 c=$7 ca=$8 a=$9
    shift 9
    refuse "$x" "$code" redeem --voucher "$v" --provider "$pu" --contract "$(contract "$c")" \
        --contract-amount "$ca" --amount "$a" "$@" --key "$W/$sk.key" --cosign "$W/$pk.key"
}
