#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Budgets and issuance (SPEC §3 `budget`, `issue`): every rule refused for
# its own reason with nothing appended, and each boundary accepted.
set -eu
. "$(dirname "$0")/rules-lib.sh"

genesis
S1=$(un 1) S2=$(un 2) S3=$(un 3) G1=$(un 11) G2=$(un 12) G3=$(un 13) H1=$(un 21) P1=$(un 31)
party sme s1 "$S1"
party sme s2 "$S2"
party sme s3 "$S3"
party sme g1 "$G1" --group "晋城集团"
party sme g2 "$G2" --group "晋城集团"
party sme g3 "$G3" --group "晋城集团"
party sme h1 "$H1" --group "other group"
party provider p1 "$P1"

note "budget parameters"
refuse 1 bad_budget budget open B0 --total 0 --cap 10 --ratio 50 --until 2026-12-31 --key auth.key
refuse 1 bad_budget budget open B0 --total 10 --cap 0 --ratio 50 --until 2026-12-31 --key auth.key
refuse 2 bad_ratio budget open B0 --total 10 --cap 10 --ratio 0 --until 2026-12-31 --key auth.key
refuse 2 bad_ratio budget open B0 --total 10 --cap 10 --ratio 100.01 --until 2026-12-31 --key auth.key
refuse 2 bad_amount budget open B0 --total -1 --cap 10 --ratio 50 --until 2026-12-31 --key auth.key
refuse 2 bad_amount budget open B0 --total 1000000000.01 --cap 10 --ratio 50 --until 2026-12-31 --key auth.key
refuse 2 bad_amount budget open B0 --total 1.001 --cap 10 --ratio 50 --until 2026-12-31 --key auth.key
refuse 2 usage budget open B0 --total 10 --cap 10 --ratio 50 --key auth.key
# an end date already past is not a rule of its own (SPEC §3): the budget
# opens, and nothing can be issued from it (budget_closed)
"$IVL" -L "$L" budget open BPAST --total 10 --cap 10 --ratio 50 --until 2026-02-28 --key auth.key >/dev/null
refuse 1 budget_closed issue --budget BPAST --to "$S1" --amount 1 --key auth.key
# the wrong role's key, an unregistered key: key errors
refuse 5 key_not_valid budget open B0 --total 10 --cap 10 --ratio 50 --until 2026-12-31 --key fin.key
key stranger
refuse 5 key_not_valid budget open B0 --total 10 --cap 10 --ratio 50 --until 2026-12-31 --key stranger.key
# boundaries: ratio exactly 100%, total exactly the maximum, end date today
budget B100 1000000000.00 1 100% 2026-03-01
eq "$(bud B100 ratio)" "100.00%" "ratio 100%"
eq "$(bud B100 total)" "1000000000.00" "max total"
eq "$(bud B100 until)" "2026-03-01T23:59:59+08:00" "end of day"
refuse 1 budget_exists budget open B100 --total 10 --cap 10 --ratio 50 --until 2026-12-31 --key auth.key

note "over budget total"
budget B 1000 600 50 2026-06-30
V1=$(issue B "$S1" 600)
V2=$(issue B "$S2" 399.99)
eq "$(bud B available)" "0.01" "available after two vouchers"
refuse 1 over_budget issue --budget B --to "$S3" --amount 0.02 --key auth.key
# over_budget is checked before the cap
refuse 1 over_budget issue --budget B --to "$S1" --amount 0.02 --key auth.key
V3=$(issue B "$S3" 0.01) # exactly the remainder
eq "$(bud B issued)" "1000.00" "issued = total"
eq "$(bud B available)" "0.00" "nothing left"
eq "$(bud B vouchers)" "3" "voucher count"
refuse 1 over_budget issue --budget B --to "$S3" --amount 0.01 --key auth.key
# revoking frees the unspent balance: exactly that much can be issued again
ok ivl revoke "$V2" --reason "withdrawn" --key auth.key >/dev/null
eq "$(bud B released)" "399.99" "released by revoke"
eq "$(bud B available)" "399.99" "available = total - issued + released"
refuse 1 over_budget issue --budget B --to "$S2" --amount 400 --key auth.key
issue B "$S2" 399.99 >/dev/null

note "per-enterprise cap"
budget C 100000 300 50 2026-06-30
issue C "$S1" 300 >/dev/null # exactly the cap
refuse 1 over_cap issue --budget C --to "$S1" --amount 0.01 --key auth.key
issue C "$S2" 299.99 >/dev/null
refuse 1 over_cap issue --budget C --to "$S2" --amount 0.02 --key auth.key
issue C "$S2" 0.01 >/dev/null
refuse 1 over_cap issue --budget C --to "$S2" --amount 0.01 --key auth.key
# the cap is per budget: another budget gives S1 a fresh cap
budget C2 100000 300 50 2026-06-30
issue C2 "$S1" 300 >/dev/null

note "group caps across several SMEs of one group"
issue C "$G1" 100 >/dev/null
issue C "$G2" 150 >/dev/null
refuse 1 over_cap issue --budget C --to "$G3" --amount 50.01 --key auth.key
grep -q '晋城集团' "$W/.err" || fail "over_cap message should name the group: $(cat "$W/.err")"
refuse 1 over_cap issue --budget C --to "$G1" --amount 50.01 --key auth.key
G3V=$(issue C "$G3" 50) # the group is at its cap exactly
for u in "$G1" "$G2" "$G3"; do
    refuse 1 over_cap issue --budget C --to "$u" --amount 0.01 --key auth.key
done
# another group and an SME without a group are not affected
issue C "$H1" 300 >/dev/null
issue C "$S3" 300 >/dev/null
# revoking one voucher of the group frees room for any member of the group
ok ivl revoke "$G3V" --reason "duplicate" --key auth.key >/dev/null
refuse 1 over_cap issue --budget C --to "$G1" --amount 50.01 --key auth.key
issue C "$G1" 50 >/dev/null
# spending does not free cap: only release does (revoke/expire)
eq "$(bud C issued)" "1550.00" "C issued"
eq "$(bud C released)" "50.00" "C released"
eq "$(bud C available)" "98500.00" "C available"

note "recipient"
refuse 1 unknown_budget issue --budget NOPE --to "$S1" --amount 1 --until 2026-06-30 --key auth.key
refuse 1 unknown_budget issue --budget NOPE --to "$S1" --amount 1 --key auth.key
refuse 1 wrong_role issue --budget C2 --to "$P1" --amount 1 --key auth.key
refuse 1 wrong_role issue --budget C2 --to "$FIN" --amount 1 --key auth.key
refuse 1 unknown_party issue --budget C2 --to "$(un 999)" --amount 1 --key auth.key
refuse 1 zero_amount issue --budget C2 --to "$S2" --amount 0 --key auth.key
refuse 2 bad_amount issue --budget C2 --to "$S2" --amount -5 --key auth.key
refuse 2 bad_amount issue --budget C2 --to "$S2" --amount 0.001 --key auth.key
refuse 2 bad_uscc issue --budget C2 --to 91140521MA000000 --amount 1 --key auth.key
# only the authority issues
refuse 5 key_not_valid issue --budget C2 --to "$S2" --amount 1 --key s2.key
refuse 5 key_not_valid issue --budget C2 --to "$S2" --amount 1 --key p1.key
refuse 5 key_not_valid issue --budget C2 --to "$S2" --amount 1 --key fin.key

note "voucher expiry against the budget end"
refuse 1 voucher_outlives_budget issue --budget C2 --to "$S2" --amount 1 --until 2026-07-01 --key auth.key
# an expiry already past is no rule of its own (SPEC §3): the voucher is born expired
VX=$(issue C2 "$S2" 1 --until 2026-02-28)
eq "$(vch "$VX" status)" "expired" "a voucher issued with a past expiry is expired"
VE=$(issue C2 "$S2" 1 --until 2026-06-30) # exactly the budget end
eq "$(vch "$VE" until)" "2026-06-30T23:59:59+08:00" "voucher until = budget end"
VD=$(issue C2 "$S2" 1) # the default is the budget end
eq "$(vch "$VD" until)" "2026-06-30T23:59:59+08:00" "default voucher until"
VT=$(issue C2 "$S2" 1 --until 2026-03-01) # expires at the end of today
eq "$(vch "$VT" until)" "2026-03-01T23:59:59+08:00" "voucher until today"
eq "$(vch "$VD" face)" "1.00" "face"
eq "$(vch "$VD" holder)" "$S2" "holder"

note "budget closed after its end date"
budget E 1000 1000 50 2026-04-30
export IVL_NOW=2026-04-30T23:59:59+08:00
issue E "$S1" 10 >/dev/null # the last second of the end date
export IVL_NOW=2026-05-01T00:00:00+08:00
refuse 1 budget_closed issue --budget E --to "$S1" --amount 10 --key auth.key
refuse 1 budget_closed issue --budget E --to "$S1" --amount 10 --until 2026-04-30 --key auth.key
# the same instant in another offset is the same instant
IVL_NOW=2026-04-30T16:00:00Z refuse 1 budget_closed issue --budget E --to "$S1" --amount 10 --key auth.key

note "IVL_NOW may not move the log back in time"
IVL_NOW=2026-04-30T23:59:58+08:00 refuse 1 time_backwards issue --budget C2 --to "$S3" --amount 1 --key auth.key
IVL_NOW=2026-03-01T09:00:00+08:00 refuse 1 time_backwards budget open Z --total 1 --cap 1 --ratio 1 --until 2026-12-31 --key auth.key
# the same second as the last append is fine (non-decreasing)
issue C2 "$S3" 1 >/dev/null

note "budget list and show agree"
ivj budget list >"$W/list.json"
eq "$("$PY" -c 'import json,sys; print(sorted(b["id"] for b in json.load(open(sys.argv[1]))))' "$W/list.json")" \
    "['B', 'B100', 'BPAST', 'C', 'C2', 'E']" "budget list"
eq "$(bud E issued)" "10.00" "E issued"
refuse 2 not_found budget show NOPE

verify_ok
echo "20-budget-issue: ok"
