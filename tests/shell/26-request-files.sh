#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Two-step redemption across machines (`ivl redeem ... --out REQ`,
# `ivl cosign REQ --key PROV.key`, `ivl submit REQ...`): the full flow; a
# replayed submission is refused (duplicate id); the rules apply at submit
# time; any altered byte of a request file (every position, one bit) and any
# truncation is refused with a non-zero exit below 128 and nothing appended.
set -eu
. "$(dirname "$0")/rules-lib.sh"

genesis
S1=$(un 1) S2=$(un 2) P1=$(un 31) P2=$(un 32)
party sme s1 "$S1"
party sme s2 "$S2"
party provider p1 "$P1"
party provider p2 "$P2" --categories testing
budget B 10000 10000 50 2026-06-30
V=$(issue B "$S1" 1000)
V2=$(issue B "$S2" 1000)

# mkreq FILE VOUCHER SMEKEY PROVUSCC CONTRACT CAMOUNT AMOUNT [FLAGS] -> id
mkreq() {
    local f=$1 v=$2 sk=$3 pu=$4 c=$5 ca=$6 a=$7
    shift 7
    ok ivl --json redeem --voucher "$v" --provider "$pu" --contract "$(contract "$c")" \
        --contract-amount "$ca" --amount "$a" "$@" --key "$W/$sk.key" --out "$f" | jf id
}

note "the full flow"
s0=$(state)
ID=$(mkreq "$W/req" "$V" s1 "$P1" c1 1000 100)
eq "$(state)" "$s0" "writing a request appends nothing"
head -n 1 "$W/req" | grep -qx 'ivl-redeem-request v1' || fail "request header"
refuse 3 bad_request submit "$W/req" # not countersigned yet
refuse 5 key_not_valid cosign "$W/req" --key p2.key # another provider
refuse 5 key_not_valid cosign "$W/req" --key s1.key # not a provider
refuse 5 key_not_valid cosign "$W/req" --key auth.key
cp "$W/req" "$W/req1" # one signature, for the byte flips below
out=$(ok ivl --json cosign "$W/req" --key "$W/p1.key")
eq "$(printf '%s' "$out" | jf id)" "$ID" "cosign names the redemption"
eq "$(printf '%s' "$out" | jf amount)" "100.00" "cosign shows the amount"
eq "$(grep -c '^sig ' "$W/req")" 2 "two signatures"
refuse 3 bad_request cosign "$W/req" --key p1.key # already countersigned
cp "$W/req" "$W/req2"
eq "$(state)" "$s0" "countersigning appends nothing"
out=$(ok ivl --json submit "$W/req")
eq "$(printf '%s' "$out" | jf id)" "$ID" "submitted id"
eq "$(printf '%s' "$out" | jf type)" redeem "submitted type"
eq "$(ivj show "$ID" | jf amount)" "100.00" "redemption amount"
eq "$(ivj show "$ID" | jf provider)" "$P1" "redemption provider"
eq "$(vch "$V" remaining)" "900.00" "voucher remaining"
eq "$(bud B redeemed)" "100.00" "budget redeemed"

note "a replayed submission is refused"
refuse 1 duplicate_id submit "$W/req"
refuse 1 duplicate_id submit "$W/req2"

note "several requests in one submission: all or nothing"
mkreq "$W/ra" "$V" s1 "$P1" c2 2000 500 >/dev/null
mkreq "$W/rb" "$V" s1 "$P1" c3 2000 400.01 >/dev/null # together over the 900 left
ok ivl cosign "$W/ra" --key "$W/p1.key" >/dev/null
ok ivl cosign "$W/rb" --key "$W/p1.key" >/dev/null
refuse 1 over_balance submit "$W/ra" "$W/rb"
refuse 3 bad_request submit "$W/ra" "$W/req1" # one of them lacks the countersignature
refuse 1 duplicate_id submit "$W/ra" "$W/req" # one of them is a replay
refuse 1 duplicate_id submit "$W/ra" "$W/ra"  # the same request twice
eq "$(vch "$V" remaining)" "900.00" "nothing redeemed"
IDC=$(mkreq "$W/rc" "$V" s1 "$P1" c3 2000 400)
ok ivl cosign "$W/rc" --key "$W/p1.key" >/dev/null
ok ivl submit "$W/ra" "$W/rc" >/dev/null
eq "$(vch "$V" remaining)" "0.00" "both redeemed, the balance exactly spent"
eq "$(ivj show "$IDC" | jf amount)" "400.00" "second of the batch"

note "the rules apply when the request is submitted"
mkreq "$W/rd" "$V2" s2 "$P2" c4 1000 10 --category testing >/dev/null
mkreq "$W/re" "$V2" s2 "$P1" c5 1000 10 >/dev/null
mkreq "$W/rf" "$V2" s2 "$P1" c6 1000 10 >/dev/null
mkreq "$W/rg" "$V2" s2 "$P1" c7 1000 1000.01 >/dev/null # over the balance: caught at submit
mkreq "$W/rh" 12345678-1234-4234-8234-123456789abc s2 "$P1" c8 1000 1 >/dev/null
mkreq "$W/rx" "$V2" s2 "$P2" c9 1000 10 >/dev/null # no category, provider lists some
for r in rd re rf rg rh rx; do
    cosigner=p1
    case $r in rd | rx) cosigner=p2 ;; esac
    ok ivl cosign "$W/$r" --key "$W/$cosigner.key" >/dev/null
done
refuse 1 over_balance submit "$W/rg"
refuse 1 unknown_voucher submit "$W/rh"
refuse 1 category_not_allowed submit "$W/rx"
ok ivl party suspend "$P2" --reason "licence withdrawn" --key auth.key >/dev/null
refuse 1 party_suspended submit "$W/rd"
ok ivl revoke "$V2" --reason "withdrawn" --key auth.key >/dev/null
refuse 1 voucher_revoked submit "$W/re"
V3=$(issue B "$S2" 100 --until 2026-04-30)
mkreq "$W/ri" "$V3" s2 "$P1" c10 1000 10 >/dev/null
ok ivl cosign "$W/ri" --key "$W/p1.key" >/dev/null
IVL_NOW=2026-05-01T00:00:00+08:00 refuse 1 voucher_expired submit "$W/ri"
export IVL_NOW=2026-04-30T23:59:59+08:00
ok ivl submit "$W/ri" >/dev/null # the last second

note "a request is bound to its ledger"
L0=$L
L=$PWD/led-other
ok ivl init --origin other.test/ivl --key "$W/auth.key" --uscc "$AUTH" --name "科技局" >/dev/null
ok ivl party add --role sme --uscc "$S1" --name s1 --pub "$W/s1.pub" --key "$W/auth.key" >/dev/null
ok ivl party add --role provider --uscc "$P1" --name p1 --pub "$W/p1.pub" --key "$W/auth.key" >/dev/null
refuse 3 bad_request submit "$W/req2"
refuse 3 bad_request cosign "$W/req1" --key "$W/p1.key"
L=$L0

note "not request files"
refuse 3 bad_request submit "$W/s1.pub"
: >"$W/empty"
refuse 3 bad_request submit "$W/empty"
rc=0
"$IVL" -L "$L" submit "$W/does-not-exist" >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "missing request file: exit $rc"
refuse 2 usage submit

note "every altered byte and every truncation is refused"
# fresh requests that would be accepted as they are
VF=$(issue B "$S1" 100)
IDF=$(mkreq "$W/fl1" "$VF" s1 "$P1" cflip 1000 12.34)
cp "$W/fl1" "$W/fl2"
ok ivl cosign "$W/fl2" --key "$W/p1.key" >/dev/null
s0=$(state)
"$PY" - "$IVL" "$L" "$W" <<'EOF' || fail "altered request files"
import os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
ivl, led, w = sys.argv[1:4]
bad = []
seen = {}

def run(args, data, tag):
    path = os.path.join(w, "flip-%s" % tag)
    with open(path, "wb") as f:
        f.write(data)
    rc = subprocess.run([ivl, "-L", led] + args(path), stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
    os.unlink(path)
    return rc

def check(what, args, orig, variants):
    def one(iv):
        i, data = iv
        return i, run(args, data, "%s-%d" % (what, i))
    with ThreadPoolExecutor(max_workers=2) as ex:
        for i, rc in ex.map(one, variants):
            seen[(what, rc)] = seen.get((what, rc), 0) + 1
            if rc not in (2, 3, 5):
                bad.append("%s: variant %d gave exit %d" % (what, i, rc))

def flips(orig):
    for i in range(len(orig)):
        d = bytearray(orig)
        d[i] ^= 1 << (i % 8)
        yield i, bytes(d)

def cuts(orig):
    for n in range(len(orig)):
        yield n, orig[:n]
    yield len(orig), orig + b"\n"
    yield len(orig) + 1, orig + b"sig x y\n"
    yield len(orig) + 2, orig.replace(b"\n", b"\r\n")

req1 = open(os.path.join(w, "fl1"), "rb").read()
req2 = open(os.path.join(w, "fl2"), "rb").read()
cosign = lambda p: ["cosign", p, "--key", os.path.join(w, "p1.key")]
submit = lambda p: ["submit", p]
check("cosign-flip", cosign, req1, flips(req1))
check("submit-flip", submit, req2, flips(req2))
check("submit-cut", submit, req2, ((n, d) for n, d in cuts(req2) if n % 2 == 0 or n >= len(req2) - 3))
check("cosign-cut", cosign, req1, ((n, d) for n, d in cuts(req1) if n % 5 == 0 or n >= len(req1) - 3))
print("exit codes:", sorted(seen.items()))
if bad:
    print("\n".join(bad[:40]), file=sys.stderr)
    sys.exit(1)
EOF
eq "$(state)" "$s0" "no altered request was appended"
eq "$(vch "$VF" remaining)" "100.00" "balance unchanged"
# the unaltered request is still good
ok ivl submit "$W/fl2" >/dev/null
eq "$(vch "$VF" remaining)" "87.66" "unaltered request accepted"
eq "$(ivj show "$IDF" | jf amount)" "12.34" "its amount"

verify_ok
echo "26-request-files: ok"
