#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Redemption (SPEC §3 `redeem`): holder, revoked, expired (to the second),
# related party, categories, balance, contract ratio with rounding down to the
# fen, contract reuse within one SME and across SMEs; keys of the wrong role.
set -eu
. "$(dirname "$0")/rules-lib.sh"

genesis
S1=$(un 1) S2=$(un 2) S3=$(un 3) P1=$(un 31) P2=$(un 32) PC=$(un 33)
party provider p1 "$P1"
party provider p2 "$P2"
party provider pc "$PC" --categories testing,ip
party sme s1 "$S1"
party sme s2 "$S2" --related "$P2"
party sme s3 "$S3"
budget B 100000 100000 50 2026-06-30
budget R 100000 100000 33.33 2026-06-30
budget K 100000 100000 50% 2026-06-30 --categories rd,testing

note "a redemption and what it changes"
V1=$(issue B "$S1" 1000)
R1=$(redeem "$V1" s1 "$P1" p1 c1 400 200)
eq "$(vch "$V1" remaining)" "800.00" "voucher remaining"
eq "$(bal "$S1")" "800.00" "balance"
eq "$(bud B redeemed)" "200.00" "budget redeemed"
eq "$(bud B available)" "99000.00" "redeeming does not change available"
ivj show "$R1" >"$W/r1.json"
eq "$(jf kind <"$W/r1.json")" redemption "show kind"
eq "$(jf amount <"$W/r1.json")" "200.00" "redemption amount"
eq "$(jf contract_amount <"$W/r1.json")" "400.00" "contract amount"
eq "$(jf sme <"$W/r1.json")" "$S1" "redemption sme"
eq "$(jf provider <"$W/r1.json")" "$P1" "redemption provider"
eq "$(jf voucher <"$W/r1.json")" "$V1" "redemption voucher"
eq "$(jf contract_hash <"$W/r1.json")" "$(sha256sum "$(contract c1)" | cut -d' ' -f1)" "contract hash"
eq "$(jf claim <"$W/r1.json")" null "no claim yet"

note "amount against the voucher's remaining balance"
V2=$(issue B "$S1" 100)
refuse_redeem 1 over_balance "$V2" s1 "$P1" p1 c2 1000 100.01
redeem "$V2" s1 "$P1" p1 c2 1000 60 >/dev/null
refuse_redeem 1 over_balance "$V2" s1 "$P1" p1 c2 1000 40.01
redeem "$V2" s1 "$P1" p1 c2 1000 40 >/dev/null # exactly the remaining balance
eq "$(vch "$V2" remaining)" "0.00" "voucher spent"
refuse_redeem 1 over_balance "$V2" s1 "$P1" p1 c2 1000 0.01
refuse_redeem 1 zero_amount "$V1" s1 "$P1" p1 c3 1000 0
refuse_redeem 1 zero_amount "$V1" s1 "$P1" p1 c3 0 1
refuse_redeem 2 bad_amount "$V1" s1 "$P1" p1 c3 1000 1.005
refuse_redeem 2 bad_amount "$V1" s1 "$P1" p1 c3 1000 -1

note "holder and voucher"
refuse_redeem 1 not_holder "$V1" s2 "$P1" p1 c3 1000 1
refuse_redeem 1 unknown_voucher 12345678-1234-4234-8234-123456789abc s1 "$P1" p1 c3 1000 1
refuse_redeem 2 usage not-an-id s1 "$P1" p1 c3 1000 1

note "contract ratio, rounded down to the fen"
VR=$(issue R "$S3" 1000)
# 33.33% of 100.01 = 33.333333: the limit is floor(10001*3333/10000) fen = 33.33
refuse_redeem 1 over_ratio "$VR" s3 "$P1" p1 cr 100.01 33.34
redeem "$VR" s3 "$P1" p1 cr 100.01 33.33 >/dev/null
refuse_redeem 1 over_ratio "$VR" s3 "$P1" p1 cr 100.01 0.01
# 50% of 0.03 = 0.015: the limit is 0.01
V3=$(issue B "$S3" 1000)
refuse_redeem 1 over_ratio "$V3" s3 "$P1" p1 codd 0.03 0.02
redeem "$V3" s3 "$P1" p1 codd 0.03 0.01 >/dev/null
# 100% contract from a 100% budget, the voucher's whole face
budget F 1000 1000 100 2026-06-30
VF=$(issue F "$S3" 1000)
redeem "$VF" s3 "$P1" p1 cfull 1000 1000 >/dev/null
eq "$(vch "$VF" remaining)" "0.00" "full redemption"

note "contract reuse across vouchers of one SME (sum limited by the ratio)"
VA=$(issue B "$S1" 1000)
VB=$(issue B "$S1" 1000)
redeem "$VA" s1 "$P1" p1 cx 1000 300 >/dev/null
redeem "$VB" s1 "$P1" p1 cx 1000 199.99 >/dev/null
refuse_redeem 1 over_ratio "$VB" s1 "$P1" p1 cx 1000 0.02
refuse_redeem 1 over_ratio "$VA" s1 "$P1" p1 cx 1000 0.02
redeem "$VB" s1 "$P1" p1 cx 1000 0.01 >/dev/null # the ratio exactly met
refuse_redeem 1 over_ratio "$VA" s1 "$P1" p1 cx 1000 0.01
# the same contract with another amount
refuse_redeem 1 contract_amount_mismatch "$VA" s1 "$P1" p1 cx 2000 1
# the same contract under any provider still counts
refuse_redeem 1 over_ratio "$VA" s1 "$PC" pc cx 1000 0.01 --category testing

note "contract reuse across SMEs"
V4=$(issue B "$S2" 1000)
refuse_redeem 1 contract_reused "$V4" s2 "$P1" p1 cx 1000 1
# the contract is its content (SHA-256), not its file name
cp "$(contract cx)" "$W/copy.contract"
refuse_redeem 1 contract_reused "$V4" s2 "$P1" p1 copy 1000 1
refuse_redeem 1 contract_reused "$V4" s2 "$P1" p1 c1 400 1
redeem "$V4" s2 "$P1" p1 c4 1000 1 >/dev/null

note "related party"
refuse_redeem 1 related_party "$V4" s2 "$P2" p2 c5 1000 1
grep -q "$P2" "$W/.err" || fail "related_party message should name the provider"
redeem "$V1" s1 "$P2" p2 c6 1000 1 >/dev/null # p2 is not related to s1

note "categories"
VK=$(issue K "$S1" 1000)
refuse_redeem 1 category_not_allowed "$VK" s1 "$PC" pc k1 1000 1                     # none named
refuse_redeem 1 category_not_allowed "$VK" s1 "$PC" pc k1 1000 1 --category rd        # provider lacks it
refuse_redeem 1 category_not_allowed "$VK" s1 "$PC" pc k1 1000 1 --category ip        # budget lacks it
refuse_redeem 1 category_not_allowed "$VK" s1 "$P1" p1 k1 1000 1                      # budget list, none named
refuse_redeem 1 category_not_allowed "$VK" s1 "$P1" p1 k1 1000 1 --category instruments
refuse_redeem 2 usage "$VK" s1 "$P1" p1 k1 1000 1 --category chemistry
RK=$(redeem "$VK" s1 "$PC" pc k1 1000 1 --category testing) # both allow
eq "$(ivj show "$RK" | jf category)" testing "category recorded"
redeem "$VK" s1 "$P1" p1 k2 1000 1 --category rd >/dev/null # budget allows, provider has no list
# budget without a list: the provider's list decides
refuse_redeem 1 category_not_allowed "$V1" s1 "$PC" pc k3 1000 1
refuse_redeem 1 category_not_allowed "$V1" s1 "$PC" pc k3 1000 1 --category rd
redeem "$V1" s1 "$PC" pc k3 1000 1 --category ip >/dev/null
# no list on either side: a category is optional, any is accepted
redeem "$V1" s1 "$P1" p1 k4 1000 1 >/dev/null
redeem "$V1" s1 "$P1" p1 k5 1000 1 --category consulting >/dev/null

note "keys of the wrong role or party"
refuse_redeem 5 key_not_valid "$V1" p1 "$P1" p1 k6 1000 1           # provider key as the SME's
refuse_redeem 5 key_not_valid "$V1" auth "$P1" p1 k6 1000 1         # authority key as the SME's
refuse_redeem 5 key_not_valid "$V1" s1 "$P1" p2 k6 1000 1           # another provider countersigns
refuse_redeem 5 key_not_valid "$V1" s1 "$P1" s3 k6 1000 1           # an SME countersigns
refuse_redeem 5 key_not_valid "$V1" s1 "$S3" s3 k6 1000 1           # an SME as the provider
key nobody
refuse_redeem 5 key_not_valid "$V1" nobody "$P1" p1 k6 1000 1
refuse_redeem 5 key_not_valid "$V1" s1 "$P1" nobody k6 1000 1
refuse 2 usage redeem --voucher "$V1" --provider "$P1" --contract "$(contract k6)" \
    --contract-amount 1000 --amount 1 --key s1.key
refuse 2 usage redeem --voucher "$V1" --provider "$P1" --contract "$(contract k6)" \
    --contract-amount 1000 --amount 1 --key s1.key --cosign p1.key --out "$W/req"
[ ! -e "$W/req" ] || fail "a refused redeem wrote a request file"

note "revoked voucher"
VV=$(issue B "$S3" 100)
ok ivl revoke "$VV" --reason "fraud suspected" --key auth.key >/dev/null
refuse_redeem 1 voucher_revoked "$VV" s3 "$P1" p1 k7 1000 1

note "expiry to the second"
VX=$(issue B "$S3" 500 --until 2026-04-30)
export IVL_NOW=2026-04-30T23:59:59+08:00
eq "$(ivj balance "$S3" | jf total_remaining)" "2466.66" "balance before expiry"
redeem "$VX" s3 "$P1" p1 x1 1000 10 >/dev/null # the last second of the expiry day
export IVL_NOW=2026-05-01T00:00:00+08:00
refuse_redeem 1 voucher_expired "$VX" s3 "$P1" p1 x1 1000 10
IVL_NOW=2026-04-30T16:00:00Z refuse_redeem 1 voucher_expired "$VX" s3 "$P1" p1 x1 1000 10
ivj balance "$S3" >"$W/bal.json"
"$PY" - "$W/bal.json" "$VX" <<'EOF' || fail "expired voucher in balance"
import json, sys
b = json.load(open(sys.argv[1]))
v = [x for x in b["vouchers"] if x["id"] == sys.argv[2]][0]
assert v["status"] == "expired", v
assert v["remaining"] == "490.00", v
# active vouchers only: VR 966.67 + V3 999.99 + VF 0 ; VV revoked, VX expired
assert b["total_remaining"] == "1966.66", b["total_remaining"]
EOF
# other vouchers of the same SME still work
redeem "$V3" s3 "$P1" p1 x2 1000 1 >/dev/null

verify_ok
echo "21-redeem: ok"
