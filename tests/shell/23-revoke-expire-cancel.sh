#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Money going back (SPEC §3 `cancel`, `revoke`, `expire`): cancel frees the
# amount on the voucher and on the contract; revoke returns the unspent
# balance to the budget (available = total − issued + released); expire
# records every voucher past expiry with a balance, to the second.
set -eu
. "$(dirname "$0")/rules-lib.sh"

genesis
S1=$(un 1) S2=$(un 2) S3=$(un 3) P1=$(un 31)
party sme s1 "$S1"
party sme s2 "$S2"
party sme s3 "$S3"
party provider p1 "$P1"
budget B 10000 10000 50 2026-06-30

budget_is() { # budget_is ISSUED RELEASED REDEEMED AVAILABLE
    ivj budget show B >"$W/b.json"
    eq "$(jf issued <"$W/b.json")" "$1" "budget issued"
    eq "$(jf released <"$W/b.json")" "$2" "budget released"
    eq "$(jf redeemed <"$W/b.json")" "$3" "budget redeemed"
    eq "$(jf available <"$W/b.json")" "$4" "budget available"
}

note "cancel frees the amount on the voucher and on the contract"
V1=$(issue B "$S1" 1000)
R1=$(redeem "$V1" s1 "$P1" p1 c1 1000 500) # the contract's ratio exactly met
refuse_redeem 1 over_ratio "$V1" s1 "$P1" p1 c1 1000 0.01
budget_is 1000.00 0.00 500.00 9000.00
refuse 5 key_not_valid cancel "$R1" --reason "called off" --key fin.key
refuse 5 key_not_valid cancel "$R1" --reason "called off" --key s1.key
refuse 2 usage cancel "$R1" --key auth.key
refuse 1 unknown_redemption cancel "$V1" --reason "called off" --key auth.key
ok ivl cancel "$R1" --reason "contract called off" --key auth.key >/dev/null
eq "$(ivj show "$R1" | jf status)" cancelled "redemption cancelled"
eq "$(vch "$V1" remaining)" "1000.00" "amount back on the voucher"
budget_is 1000.00 0.00 0.00 9000.00
refuse 1 redemption_cancelled cancel "$R1" --reason again --key auth.key
refuse 1 redemption_cancelled claim --redemption "$R1" --invoice "$(contract c1)" --key p1.key
# the contract's room is free again: the full 50% can be redeemed once more
redeem "$V1" s1 "$P1" p1 c1 1000 500 >/dev/null
refuse_redeem 1 over_ratio "$V1" s1 "$P1" p1 c1 1000 0.01
# and the voucher's whole face can be spent
redeem "$V1" s1 "$P1" p1 c9 1000 500 >/dev/null
eq "$(vch "$V1" remaining)" "0.00" "voucher spent after cancel"
# the contract stays the first SME's, even with nothing redeemed on it
V2x=$(issue B "$S2" 10)
R2x=$(redeem "$V2x" s2 "$P1" p1 c2x 100 1)
ok ivl cancel "$R2x" --reason "called off" --key auth.key >/dev/null
budget_is 1010.00 0.00 1000.00 8990.00

note "revoke returns the unspent balance to the budget"
V2=$(issue B "$S1" 2000)
refuse_redeem 1 contract_reused "$V2" s1 "$P1" p1 c2x 100 1 # (cancelled, still S2's)
R2=$(redeem "$V2" s1 "$P1" p1 c2 1000 300)
budget_is 3010.00 0.00 1300.00 6990.00
refuse 5 key_not_valid revoke "$V2" --reason fraud --key s1.key
refuse 5 key_not_valid revoke "$V2" --reason fraud --key fin.key
refuse 2 usage revoke "$V2" --key auth.key
refuse 1 unknown_voucher revoke "$R2" --reason fraud --key auth.key
refuse 1 unknown_voucher revoke 12345678-1234-4234-8234-123456789abc --reason fraud --key auth.key
ok ivl revoke "$V2" --reason "false statements in the application" --key auth.key >/dev/null
ivj show "$V2" >"$W/v2.json"
eq "$(jf status <"$W/v2.json")" revoked "revoked status"
eq "$(jf remaining <"$W/v2.json")" "0.00" "revoked remaining"
eq "$(jf released <"$W/v2.json")" "1700.00" "revoked released"
budget_is 3010.00 1700.00 1300.00 8690.00
refuse 1 already_revoked revoke "$V2" --reason again --key auth.key
refuse_redeem 1 voucher_revoked "$V2" s1 "$P1" p1 c3 1000 1
# cancelling a redemption of a revoked voucher sends the money home
ok ivl cancel "$R2" --reason "called off" --key auth.key >/dev/null
eq "$(vch "$V2" remaining)" "0.00" "revoked voucher stays empty"
eq "$(vch "$V2" released)" "2000.00" "whole face released"
budget_is 3010.00 2000.00 1000.00 8990.00
# the freed money can be issued again, to the fen
VBIG=$(issue B "$S3" 8990)
refuse 1 over_budget issue --budget B --to "$S3" --amount 0.01 --key auth.key
ok ivl revoke "$VBIG" --reason "issued in error" --key auth.key >/dev/null
budget_is 12000.00 10990.00 1000.00 8990.00
# revoking a spent voucher releases nothing
ok ivl revoke "$V1" --reason "closing" --key auth.key >/dev/null
budget_is 12000.00 10990.00 1000.00 8990.00

note "expire"
refuse 1 nothing_to_expire expire --key auth.key
VA=$(issue B "$S1" 800 --until 2026-04-30)
VB=$(issue B "$S2" 300 --until 2026-04-30)
VC=$(issue B "$S1" 500)
VD=$(issue B "$S2" 400 --until 2026-04-30)
VE=$(issue B "$S3" 250 --until 2026-04-15)
RA=$(redeem "$VA" s1 "$P1" p1 ca 1000 100)
redeem "$VB" s2 "$P1" p1 cb 1000 300 >/dev/null # spent: nothing to expire
ok ivl revoke "$VD" --reason "withdrawn" --key auth.key >/dev/null # revoked: not expired
budget_is 14250.00 11390.00 1400.00 7140.00

export IVL_NOW=2026-04-15T23:59:59+08:00 # VE's last second
refuse 1 nothing_to_expire expire --key auth.key
export IVL_NOW=2026-04-16T00:00:00+08:00
refuse 5 key_not_valid expire --key s1.key
refuse 5 key_not_valid expire --key fin.key
out=$(ok ivl --json expire --key auth.key)
seq=$(printf '%s' "$out" | jf seq)
eq "$(ivj show "$seq" | jf vouchers)" "[{\"voucher\":\"$VE\",\"amount\":\"250.00\"}]" "first expiry list"
eq "$(vch "$VE" status)" expired "VE expired"
eq "$(vch "$VE" remaining)" "0.00" "VE remaining"
budget_is 14250.00 11640.00 1400.00 7390.00
refuse 1 nothing_to_expire expire --key auth.key

export IVL_NOW=2026-04-30T23:59:59+08:00
refuse 1 nothing_to_expire expire --key auth.key
export IVL_NOW=2026-05-01T00:00:00+08:00
eq "$(ivj balance "$S1" | jf total_remaining)" "500.00" "expired vouchers are not in the balance"
out=$(ok ivl --json expire --key auth.key)
seq=$(printf '%s' "$out" | jf seq)
eq "$(ivj show "$seq" | jf vouchers)" "[{\"voucher\":\"$VA\",\"amount\":\"700.00\"}]" "second expiry list"
ivj show "$VA" >"$W/va.json"
eq "$(jf status <"$W/va.json")" expired "VA status"
eq "$(jf remaining <"$W/va.json")" "0.00" "VA remaining"
eq "$(jf released <"$W/va.json")" "700.00" "VA released"
eq "$(vch "$VB" status)" expired "VB (spent) shows as expired"
eq "$(vch "$VB" remaining)" "0.00" "VB remaining"
eq "$(vch "$VD" status)" revoked "VD stays revoked"
eq "$(vch "$VC" status)" active "VC active"
budget_is 14250.00 12340.00 1400.00 8090.00
refuse 1 nothing_to_expire expire --key auth.key
refuse_redeem 1 voucher_expired "$VA" s1 "$P1" p1 cz 1000 1
# cancelling a redemption of an expired voucher sends the money home too
ok ivl cancel "$RA" --reason "called off" --key auth.key >/dev/null
eq "$(vch "$VA" remaining)" "0.00" "expired voucher stays empty"
eq "$(vch "$VA" released)" "800.00" "VA whole face released"
budget_is 14250.00 12440.00 1300.00 8190.00
# an expired voucher can still be revoked; nothing more is released
ok ivl revoke "$VA" --reason "closing the file" --key auth.key >/dev/null
budget_is 14250.00 12440.00 1300.00 8190.00

note "several vouchers in one expiry, listed in id order"
budget Q 1000 1000 50 2026-06-30
for i in 1 2 3 4 5; do issue Q "$S3" "$i.0$i" --until 2026-05-10 >/dev/null; done
issue Q "$S3" 7 --until 2026-05-11 >/dev/null
export IVL_NOW=2026-05-11T00:00:00+08:00
out=$(ok ivl --json expire --key auth.key)
ivj show "$(printf '%s' "$out" | jf seq)" | jf vouchers >"$W/list.json"
"$PY" - "$W/list.json" <<'EOF' || fail "expiry list"
import json, sys
l = json.load(open(sys.argv[1]))
assert sorted(x["amount"] for x in l) == ["1.01", "2.02", "3.03", "4.04", "5.05"], l
ids = [x["voucher"] for x in l]
assert ids == sorted(ids), ids
EOF
eq "$(bud Q released)" "15.15" "Q released"
eq "$(bud Q available)" "993.00" "Q available"
eq "$(ivj balance "$S3" | jf total_remaining)" "7.00" "S3 balance"

note "available = total − issued + released for every budget"
ivj budget list >"$W/all.json"
"$PY" - "$W/all.json" <<'EOF' || fail "budget identity"
import json, sys
f = lambda s: round(float(s) * 100)
for b in json.load(open(sys.argv[1])):
    assert f(b["available"]) == f(b["total"]) - f(b["issued"]) + f(b["released"]), b
EOF

verify_ok
echo "23-revoke-expire-cancel: ok"
