#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Claims, decisions, payment and clawback (SPEC §3 `claim`, `approve`,
# `reject`, `pay`, `clawback`): only the redemption's provider claims, once,
# for the redeemed amount; decisions only on pending claims; payment only of
# approved claims with a finance key; clawback only of paid claims; budget
# totals claimed / paid / clawed_back follow every step.
set -eu
. "$(dirname "$0")/rules-lib.sh"

genesis
S1=$(un 1) P1=$(un 31) P2=$(un 32)
party sme s1 "$S1"
party provider p1 "$P1"
party provider p2 "$P2"
budget B 100000 100000 50 2026-06-30
V=$(issue B "$S1" 10000)
R1=$(redeem "$V" s1 "$P1" p1 c1 1000 100)
R2=$(redeem "$V" s1 "$P1" p1 c2 1000 200)
R3=$(redeem "$V" s1 "$P2" p2 c3 1000 300.5)
R4=$(redeem "$V" s1 "$P1" p1 c4 1000 400)
printf 'invoice\n' >"$W/inv"

totals() { # totals CLAIMED PAID CLAWED
    eq "$(bud B claimed)" "$1" "budget claimed"
    eq "$(bud B paid)" "$2" "budget paid"
    eq "$(bud B clawed_back)" "$3" "budget clawed_back"
    eq "$(bud B redeemed)" "1000.50" "budget redeemed"
}
cstatus() { ivj show "$1" | jf status; }

note "claim: only the redemption's provider, once, for the redeemed amount"
refuse 1 wrong_provider claim --redemption "$R1" --invoice "$W/inv" --key p2.key
refuse 5 key_not_valid claim --redemption "$R1" --invoice "$W/inv" --key s1.key
refuse 5 key_not_valid claim --redemption "$R1" --invoice "$W/inv" --key auth.key
refuse 1 unknown_redemption claim --redemption 12345678-1234-4234-8234-123456789abc --invoice "$W/inv" --key p1.key
refuse 1 unknown_redemption claim --redemption "$V" --invoice "$W/inv" --key p1.key
C1=$(claim "$R1" p1)
ivj show "$C1" >"$W/c1.json"
eq "$(jf amount <"$W/c1.json")" "100.00" "claim amount = redeemed"
eq "$(jf status <"$W/c1.json")" pending "new claim"
eq "$(jf redemption <"$W/c1.json")" "$R1" "claim redemption"
eq "$(jf provider <"$W/c1.json")" "$P1" "claim provider"
eq "$(jf invoice_hash <"$W/c1.json")" "$(sha256sum "$W/inv-$R1" | cut -d' ' -f1)" "invoice hash"
eq "$(ivj show "$R1" | jf claim)" "$C1" "redemption names its claim"
refuse 1 redemption_claimed claim --redemption "$R1" --invoice "$W/inv" --key p1.key
refuse 1 redemption_claimed cancel "$R1" --reason "called off" --key auth.key
C2=$(claim "$R2" p1)
C3=$(claim "$R3" p2)
C4=$(claim "$R4" p1)
eq "$(ivj show "$C3" | jf amount)" "300.50" "claim amount = redeemed"
totals 1000.50 0.00 0.00

note "approve / reject only when pending"
refuse 5 key_not_valid approve "$C1" --key fin.key
refuse 5 key_not_valid approve "$C1" --key p1.key
refuse 1 unknown_claim approve "$R1" --key auth.key
refuse 1 unknown_claim approve 12345678-1234-4234-8234-123456789abc --key auth.key
refuse 2 usage reject "$C2" --key auth.key # a reason is required
ok ivl approve "$C1" --key auth.key >/dev/null
eq "$(cstatus "$C1")" approved "approved"
refuse 1 claim_state approve "$C1" --key auth.key
refuse 1 claim_state reject "$C1" --reason "too late" --key auth.key
ok ivl reject "$C2" --reason "invoice does not match" --key auth.key >/dev/null
eq "$(cstatus "$C2")" rejected "rejected"
eq "$(ivj show "$C2" | jf reason)" "invoice does not match" "reject reason"
refuse 1 claim_state approve "$C2" --key auth.key
refuse 1 claim_state reject "$C2" --reason again --key auth.key
refuse 1 claim_state pay "$C2" --ref BANK-2 --key fin.key
# a redemption whose claim was rejected keeps its one claim
refuse 1 redemption_claimed claim --redemption "$R2" --invoice "$W/inv" --key p1.key
totals 800.50 0.00 0.00

note "pay only approved claims, only with a finance key"
refuse 1 claim_state pay "$C3" --ref BANK-3 --key fin.key # pending
refuse 5 key_not_valid pay "$C1" --ref BANK-1 --key auth.key
refuse 5 key_not_valid pay "$C1" --ref BANK-1 --key p1.key
refuse 2 usage pay "$C1" --key fin.key # a bank reference is required
refuse 1 unknown_claim pay "$R1" --ref BANK-1 --key fin.key
ok ivl pay "$C1" --ref "BANK-0001" --key fin.key >/dev/null
eq "$(cstatus "$C1")" paid "paid"
eq "$(ivj show "$C1" | jf bank_ref)" "BANK-0001" "bank reference"
refuse 1 claim_state pay "$C1" --ref BANK-1b --key fin.key
refuse 1 claim_state approve "$C1" --key auth.key
totals 800.50 100.00 0.00

note "clawback only when paid, and it shows in the totals"
refuse 1 claim_state clawback "$C3" --reason x --key auth.key # pending
ok ivl approve "$C3" --key auth.key >/dev/null
refuse 1 claim_state clawback "$C3" --reason x --key auth.key # approved
refuse 1 claim_state clawback "$C2" --reason x --key auth.key # rejected
refuse 5 key_not_valid clawback "$C1" --reason x --key fin.key
refuse 2 usage clawback "$C1" --key auth.key
ok ivl clawback "$C1" --reason "service never delivered" --key auth.key >/dev/null
eq "$(cstatus "$C1")" clawed_back "clawed back"
refuse 1 claim_state clawback "$C1" --reason again --key auth.key
refuse 1 claim_state pay "$C1" --ref BANK-1c --key fin.key
totals 800.50 100.00 100.00
ok ivl pay "$C3" --ref "BANK-0003" --key fin.key >/dev/null
totals 800.50 400.50 100.00
ok ivl reject "$C4" --reason "duplicate invoice" --key auth.key >/dev/null
totals 400.50 400.50 100.00
# the voucher's balance is what was redeemed, whatever became of the claims
eq "$(vch "$V" remaining)" "8999.50" "voucher remaining"
eq "$(bal "$S1")" "8999.50" "balance"
eq "$(bud B available)" "90000.00" "available"

note "a suspended provider can neither claim nor be paid"
R5=$(redeem "$V" s1 "$P2" p2 c5 1000 1)
R6=$(redeem "$V" s1 "$P2" p2 c6 1000 2)
C5=$(claim "$R5" p2)
ok ivl party suspend "$P2" --reason "licence withdrawn" --key auth.key >/dev/null
refuse 1 party_suspended claim --redemption "$R6" --invoice "$W/inv" --key p2.key
ok ivl approve "$C5" --key auth.key >/dev/null
refuse 1 party_suspended pay "$C5" --ref BANK-5 --key fin.key
eq "$(cstatus "$C5")" approved "unpaid"
eq "$(bud B paid)" "400.50" "nothing more paid"

verify_ok
echo "22-claims-pay: ok"
