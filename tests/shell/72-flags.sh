#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# `ivl report --flags` (docs/FLAGS.md): a ledger with one planted anomaly of
# each kind must raise exactly those flags, each naming the right entries; a
# clean ledger (normal spacing, varied amounts) and the demo ledger raise none.
# Also: text / csv / html / json output, --from/--to, --budget, thresholds
# overridden by IVL_FLAG_THRESHOLDS.
set -eu
export IVL_NOW=2026-01-05T09:00:00+08:00
. "$(dirname "$0")/rules-lib.sh"

at() { export IVL_NOW="$1"; }
last() { echo $(($(size) - 1)); }
flags() { ivj report --flags "$@" >"$W/flags.json" || fail "report --flags $*"; }

# check SPEC...: the flags in $W/flags.json are exactly SPEC, each
# "NAME:SEVERITY:SEQ,SEQ,..." (SEVERITY may be '*'); entries compared as sets.
check() {
    "$PY" - "$W/flags.json" "$@" <<'EOF' || fail "flags differ (see above)"
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
got = doc["flags"]
for f in got:
    assert set(f) >= {"flag", "severity", "message", "entries", "parties"}, f
    assert f["severity"] in ("high", "medium", "low"), f
    assert isinstance(f["message"], str) and f["message"], f
    assert all(isinstance(s, int) for s in f["entries"]), f
    assert all(isinstance(p, str) and len(p) == 18 for p in f["parties"]), f
    if "amount" in f:
        assert isinstance(f["amount"], str) and f["amount"].count(".") == 1, f
want = []
for spec in sys.argv[2:]:
    name, sev, seqs = spec.split(":")
    want.append((name, sev, sorted(int(s) for s in seqs.split(",") if s)))
left = list(got)
bad = False
for name, sev, seqs in want:
    hit = [f for f in left if f["flag"] == name and sorted(f["entries"]) == seqs
           and sev in ("*", f["severity"])]
    if not hit:
        print("missing flag %s %s %s" % (name, sev, seqs), file=sys.stderr)
        bad = True
    else:
        left.remove(hit[0])
for f in left:
    print("unexpected flag %s %s %s: %s" % (f["flag"], f["severity"], f["entries"], f["message"]),
          file=sys.stderr)
    bad = True
sys.exit(1 if bad else 0)
EOF
}

genesis
for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
    eval "S$n=$(un "$n")"
done
for n in 1 2 3 4 5; do
    eval "P$n=$(un $((40 + n)))"
    party provider "p$n" "$(un $((40 + n)))"
done
party sme s1 "$S1" --group "Hengda Group"
party sme s2 "$S2" --group "Hengda Group"
party sme s3 "$S3" --group "Hengda Group"
key s4
ok ivl party add --role sme --uscc "$S4" --name 'Acme <b>&"Widgets"</b>' --pub "$W/s4.pub" \
    --key "$W/auth.key" >/dev/null
party sme s5 "$S5"
party sme s6 "$S6"
party sme s7 "$S7" --group "Taihang Group" --related "$P3"
party sme s8 "$S8" --group "Taihang Group"
party sme s9 "$S9"
party sme s10 "$S10"
party sme s11 "$S11"
party sme s12 "$S12"
budget B1 10000000 1000000 50 2026-12-31
budget B2 1000000 100000 50 2026-12-31

note "vouchers, all different amounts"
at 2026-01-10T10:00:00+08:00
A=110000
for n in 1 2 3 4 5 6 7 8 9 10 11; do
    eval "V$n=$(issue B1 "$(eval echo "\$S$n")" $A)"
    eval "I$n=$(last)"
    A=$((A + 10000))
done
V9=$(issue B1 "$S9" 100000) I9=$(last) # V9 is replaced: 100,000 to be drained by one contract
# (the earlier V9 of 190,000 stays unspent: distinct amount, no flag)

note "3 enterprises of one group, all at provider 1"
at 2026-02-01T10:00:00+08:00
R1=$(redeem "$V1" s1 "$P1" p1 c1 61000 20000) Q1=$(last)
R2=$(redeem "$V2" s2 "$P1" p1 c2 72000 25000) Q2=$(last)
R3=$(redeem "$V3" s3 "$P1" p1 c3 83000 30000) Q3=$(last)

note "one enterprise, 3 of 4 redemptions at provider 2 (about 92% of its money)"
at 2026-02-03T10:00:00+08:00
R10a=$(redeem "$V10" s10 "$P2" p2 c10a 31000 10000) Q10a=$(last)
R10b=$(redeem "$V10" s10 "$P2" p2 c10b 33000 12000) Q10b=$(last)
R10c=$(redeem "$V10" s10 "$P2" p2 c10c 35000 15000) Q10c=$(last)
R10d=$(redeem "$V10" s10 "$P4" p4 c10d 9000 3000)

note "a group member spends at the registered related party of another member"
at 2026-02-10T10:00:00+08:00
R8=$(redeem "$V8" s8 "$P3" p3 c8 50000 11000) Q8=$(last)

note "the same odd amount at three unrelated enterprises; one claimed an hour later"
at 2026-03-01T10:00:00+08:00
R4=$(redeem "$V4" s4 "$P4" p4 c4 100000 37654.32) Q4=$(last)
at 2026-03-01T11:00:00+08:00
C4=$(claim "$R4" p4) K4=$(last)
at 2026-03-02T10:00:00+08:00
R5=$(redeem "$V5" s5 "$P2" p2 c5 90000 37654.32) Q5=$(last)
R6=$(redeem "$V6" s6 "$P1" p1 c6 85000 37654.32) Q6=$(last)

note "a contract of exactly twice the voucher, at 50%: the voucher is emptied at the limit"
at 2026-03-10T10:00:00+08:00
R9=$(redeem "$V9" s9 "$P2" p2 c9 200000 100000) Q9=$(last)

note "normal claims and payments for the group"
at 2026-03-15T10:00:00+08:00
C1=$(claim "$R1" p1)
at 2026-03-16T10:00:00+08:00
ok ivl approve "$C1" --key "$W/auth.key" >/dev/null
at 2026-03-20T10:00:00+08:00
C5=$(claim "$R5" p2) K5=$(last)
ok ivl pay "$C1" --ref BANK-1 --key "$W/fin.key" >/dev/null
at 2026-03-25T10:00:00+08:00
ok ivl approve "$C5" --key "$W/auth.key" >/dev/null
A5=$(last)

note "provider 5 is suspended with a claim in flight, which is approved afterwards"
at 2026-04-01T10:00:00+08:00
R11=$(redeem "$V11" s11 "$P5" p5 c11 95000 42000) Q11=$(last)
at 2026-04-12T10:00:00+08:00
C11=$(claim "$R11" p5) K11=$(last)
at 2026-04-15T10:00:00+08:00
ok ivl party suspend "$P5" --reason "forged test reports" --key "$W/auth.key" >/dev/null
U5=$(last)
at 2026-04-20T10:00:00+08:00
ok ivl approve "$C11" --key "$W/auth.key" >/dev/null
A11=$(last)

note "issued, redeemed and claimed within a week"
at 2026-05-01T09:00:00+08:00
V12=$(issue B1 "$S12" 175000) I12=$(last)
at 2026-05-01T10:00:00+08:00
R12=$(redeem "$V12" s12 "$P1" p1 c12 77000 26000) Q12=$(last)
at 2026-05-06T10:00:00+08:00
C12=$(claim "$R12" p1) K12=$(last)
at 2026-05-10T10:00:00+08:00
ok ivl approve "$C12" --key "$W/auth.key" >/dev/null
at 2026-05-20T10:00:00+08:00
ok ivl pay "$C12" --ref BANK-12 --key "$W/fin.key" >/dev/null

note "a payment 120 days after its approval"
at 2026-07-23T10:00:00+08:00
ok ivl pay "$C5" --ref BANK-5 --key "$W/fin.key" >/dev/null
P5PAY=$(last)
: "$R2$R3$R6$R9$R10a$R10b$R10c$R10d$R8$C4$R12"

PLANTED=(
    "claim_soon_after_redeem:high:$Q4,$K4"
    "claim_soon_after_issue:high:$I12,$Q12,$K12"
    "repeated_amounts:medium:$Q4,$Q5,$Q6"
    "contract_at_coverage_limit:medium:$I9,$Q9"
    "group_shared_provider:medium:$Q1,$Q2,$Q3"
    "provider_concentration:medium:$Q1,$Q2,$Q3"
    "provider_concentration:medium:$Q10a,$Q10b,$Q10c"
    "related_provider_in_group:high:$Q8"
    "late_payment:medium:$K5,$A5,$P5PAY"
    "suspended_party_activity:high:$U5,$Q11,$K11,$A11"
    "approved_unpaid:low:$K11,$A11"
)

note "every planted anomaly, and nothing else"
flags
check "${PLANTED[@]}"
eq "$(jf flags.0.severity <"$W/flags.json")" high "high severity first"

note "the messages say why, and amounts are money strings"
"$PY" - "$W/flags.json" "$S4" <<'EOF' || fail "flag details"
import json, sys
fl = json.load(open(sys.argv[1], encoding="utf-8"))["flags"]
by = {}
for f in fl:
    by.setdefault(f["flag"], []).append(f)
r = by["repeated_amounts"][0]
assert r["amount"] == "37654.32", r
assert sys.argv[2] in r["parties"] and len(r["parties"]) == 3, r
c = by["claim_soon_after_redeem"][0]
assert "1 hour" in c["message"] or "60 minutes" in c["message"], c["message"]
assert by["late_payment"][0]["amount"] == "37654.32"
assert "120 days" in by["late_payment"][0]["message"]
assert "%" in by["provider_concentration"][0]["message"]
EOF

note "approved but unpaid: the suspended provider's claim, 94 days on (not yet at 100)"
IVL_FLAG_THRESHOLDS=unpaid_days=100 flags
check "${PLANTED[@]:0:10}"
at 2026-07-29T10:00:00+08:00
IVL_FLAG_THRESHOLDS=unpaid_days=100 flags
check "${PLANTED[@]}"
at 2026-07-23T10:00:00+08:00

note "--from / --to: only entries appended in the window are examined"
flags --from 2026-07-01
check "late_payment:medium:$K5,$A5,$P5PAY"
flags --to 2026-03-01
check "claim_soon_after_redeem:high:$Q4,$K4" "group_shared_provider:medium:$Q1,$Q2,$Q3" \
    "provider_concentration:medium:$Q1,$Q2,$Q3" "provider_concentration:medium:$Q10a,$Q10b,$Q10c" \
    "related_provider_in_group:high:$Q8"

note "--budget: another budget has none of it"
flags --budget B2
check
flags --budget B1
check "${PLANTED[@]}"

note "thresholds can be changed (IVL_FLAG_THRESHOLDS)"
IVL_FLAG_THRESHOLDS="claim_soon_hours=0,claim_issue_days=0 late_days=200" flags
check "repeated_amounts:medium:$Q4,$Q5,$Q6" "contract_at_coverage_limit:medium:$I9,$Q9" \
    "group_shared_provider:medium:$Q1,$Q2,$Q3" "provider_concentration:medium:$Q1,$Q2,$Q3" \
    "provider_concentration:medium:$Q10a,$Q10b,$Q10c" "related_provider_in_group:high:$Q8" \
    "suspended_party_activity:high:$U5,$Q11,$K11,$A11" "approved_unpaid:low:$K11,$A11"
rc=0
IVL_FLAG_THRESHOLDS="no_such=1" "$IVL" -L "$L" report --flags >/dev/null 2>"$W/.err" || rc=$?
eq "$rc" 2 "unknown threshold is a usage error"
rc=0
IVL_FLAG_THRESHOLDS="late_days=-3" "$IVL" -L "$L" report --flags >/dev/null 2>"$W/.err" || rc=$?
eq "$rc" 2 "negative threshold is a usage error"

note "text: one block per flag, with ivl show hints"
ivl report --flags >"$W/flags.txt"
grep -q "^11 red flags" "$W/flags.txt" || fail "text summary line: $(head -1 "$W/flags.txt")"
grep -q "^\[high\] claim_soon_after_redeem" "$W/flags.txt" || fail "text block"
grep -q "ivl show $K4" "$W/flags.txt" || fail "text: ivl show hint"
eq "$(grep -c '^\[' "$W/flags.txt")" 11 "text blocks"

note "csv: UTF-8 BOM, header, one row per flag"
ivl report --flags --format csv --out "$W/flags.csv" >/dev/null
eq "$(head -c 3 "$W/flags.csv" | od -An -tx1 | tr -d ' ')" efbbbf "csv BOM"
"$PY" - "$W/flags.csv" <<'EOF' || fail "csv"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline="")))
assert rows[0] == ["flag", "severity", "message", "entries", "parties", "amount"], rows[0]
assert len(rows) == 12, len(rows)
assert any(r[0] == "repeated_amounts" and r[5] == "37654.32" for r in rows[1:])
EOF

note "html: self-contained, everything escaped"
ivl report --flags --format html --out "$W/flags.html" >/dev/null
grep -q '<table>' "$W/flags.html" || fail "html table"
grep -q 'Acme &lt;b&gt;&amp;&quot;Widgets&quot;&lt;/b&gt;' "$W/flags.html" || fail "html escaping"
! grep -q 'Acme <b>' "$W/flags.html" || fail "html: unescaped party name"
! grep -qi '<script\|src=\|href=' "$W/flags.html" || fail "html is not self-contained"

note "a clean ledger: normal spacing, varied amounts, a group using two providers"
W=$PWD/cleanw L=$PWD/cleanw/led
mkdir "$W"
at 2026-01-05T09:00:00+08:00
genesis
for n in 1 2 3 4 5; do
    if [ "$n" -le 2 ]; then party sme "c$n" "$(un $((60 + n)))" --group G; else party sme "c$n" "$(un $((60 + n)))"; fi
done
for n in 1 2 3; do party provider "q$n" "$(un $((70 + n)))"; done
budget Y 5000000 500000 50 2026-12-31
at 2026-01-20T10:00:00+08:00
for n in 1 2 3 4 5; do eval "W$n=$(issue Y "$(un $((60 + n)))" $((100000 + n * 7300)))"; done
prov() { echo $((($1 % 3) + 1)); }
for n in 1 2 3 4 5; do
    at "2026-03-0${n}T10:00:00+08:00"
    p=$(prov "$n")
    eval "X$n=$(redeem "$(eval echo "\$W$n")" "c$n" "$(un $((70 + p)))" "q$p" "k$n" $((60000 + n * 4100)) $((21000 + n * 1330)))"
done
for n in 1 2 3 4 5; do
    at "2026-03-1${n}T10:00:00+08:00"
    eval "Y$n=$(claim "$(eval echo "\$X$n")" "q$(prov "$n")")"
done
for n in 1 2 3 4 5; do
    at "2026-03-2${n}T10:00:00+08:00"
    ok ivl approve "$(eval echo "\$Y$n")" --key "$W/auth.key" >/dev/null
done
at 2026-04-10T10:00:00+08:00
for n in 1 2 3 4 5; do ok ivl pay "$(eval echo "\$Y$n")" --ref "BANK-$n" --key "$W/fin.key" >/dev/null; done
flags
check
ivl report --flags >"$W/clean.txt"
grep -q "^No red flags" "$W/clean.txt" || fail "clean text: $(head -1 "$W/clean.txt")"

note "the demo ledger raises no flag"
(cd "$W" && IVL="$IVL" sh "$TESTS/demo.sh" demo >/dev/null 2>&1) || fail "demo.sh"
L=$W/demo/ledger
flags
check
echo "all flag checks passed"
