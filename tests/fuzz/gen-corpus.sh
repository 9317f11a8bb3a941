#!/bin/bash
# Regenerates the checked-in seed corpora of the fuzz targets from a real
# ledger made with the CLI (every entry type), real request files, CSVs, the
# signed-note vectors of ../shared/vectors and real proofs.
#
#   sh tests/fuzz/gen-corpus.sh [IVL_BINARY]     (from the repository root)
#
# The ledger's log key is new on every run, so this also rewrites
# tests/fuzz/fuzz_keys.h, which the proof target includes. Needs
# /usr/bin/python3 (base64 and JSON only).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
root=$(pwd)
IVL=$(cd "$(dirname "${1:-./ivl}")" && pwd)/$(basename "${1:-./ivl}")
SHARED=${SHARED:-$root/../shared}
C=$root/tests/fuzz/corpus
work=$(mktemp -d "${TMPDIR:-/tmp}/ivl-fuzz-corpus.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export IVL_LEDGER=$work/ledger
at() { export IVL_NOW="$1"; }
ivl() { "$IVL" "$@"; }

for k in auth sme1 sme2 prov fin aud sme1new; do ivl keygen $k --unencrypted >/dev/null; done
at 2026-01-05T09:00:00+08:00
ivl init --origin fuzz.example/ivl --key auth.key --uscc 11140521MB12345677 --name 县科技局 >/dev/null
cat >parties.csv <<CSV
role,uscc,name,pub,related,group,categories
sme,91140521MA00000018,恒达新材料有限公司,$(cat sme1.pub),,恒达集团,
sme,91140521MA0000002B,"金鑫煤层气技术有限公司, ""quoted""",$(cat sme2.pub),"12140000405000001F",,
provider,12140000405000001F,测试中心,$(cat prov.pub),,,"testing,rd"
finance,11140521MB76543214,财政局,$(cat fin.pub),,,
auditor,11140521MB11111111,审计局,$(cat aud.pub),,,
CSV
ivl party add --batch parties.csv --key auth.key >/dev/null
ivl budget open B2026 --total 2000000 --cap 300000 --ratio 50 --until 2026-12-31 \
    --categories testing,rd --key auth.key >/dev/null
at 2026-02-10T10:00:00+08:00
cat >vouchers.csv <<CSV
uscc,amount,until
91140521MA00000018,200000,
91140521MA0000002B,150000.5,2026-09-30
CSV
ivl issue --budget B2026 --batch vouchers.csv --key auth.key >issued.txt
V1=$(sed -n 1p issued.txt)
V2=$(sed -n 2p issued.txt)
at 2026-03-01T10:00:00+08:00
printf 'contract A\n' >contract.txt
printf 'invoice\n' >invoice.txt
redeem() { # AMOUNT [extra args] -> prints redemption id
    ivl redeem --voucher "$V1" --provider 12140000405000001F --contract contract.txt \
        --contract-amount 100000 --amount "$1" --category testing --key sme1.key "${@:2}" | sed -n 1p
}
R1=$(redeem 1000 --out r1.req)
cp r1.req r1-one-sig.req
ivl cosign r1.req --key prov.key >/dev/null
ivl submit r1.req >/dev/null
ivl cancel "$R1" --reason "合同撤销" --key auth.key >/dev/null
R2=$(redeem 2000.5 --cosign prov.key)
C2=$(ivl claim --redemption "$R2" --invoice invoice.txt --key prov.key --receipt receipt-c2.json)
ivl reject "$C2" --reason "发票不符" --key auth.key >/dev/null
R3=$(redeem 3000 --cosign prov.key)
C3=$(ivl claim --redemption "$R3" --invoice invoice.txt --key prov.key)
ivl approve "$C3" --key auth.key >/dev/null
ivl pay "$C3" --ref BANK-0001 --key fin.key >/dev/null
ivl clawback "$C3" --reason "追回" --key auth.key >/dev/null
ivl party suspend 91140521MA0000002B --reason "不符合条件" --key auth.key >/dev/null
ivl party rekey 91140521MA00000018 --pub sme1new.pub --key auth.key >/dev/null
ivl revoke "$V2" --reason "撤销" --key auth.key >/dev/null
at 2027-01-04T09:00:00+08:00
ivl expire --key auth.key >/dev/null
ivl attest --key aud.key >attest.note
ivl export --out export.jsonl >/dev/null
n=$(ivl --json status | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
ivl proof inclusion 0 >incl-0.json
ivl proof inclusion 3 --size 7 >incl-3-7.json
ivl proof inclusion $((n - 1)) >incl-last.json
ivl proof consistency 1 >cons-1.json
ivl proof consistency 5 12 >cons-5-12.json
ivl proof consistency 12 >cons-12.json
ivl checkpoint >checkpoint.note

# The seeds made by hand (ed25519: signatures and flips; tablewalk: patches
# of a file the target makes itself) are kept as they are.
mkdir -p keep
for d in ed25519 tablewalk; do [ ! -d "$C/$d" ] || cp -r "$C/$d" keep/; done
rm -rf "$C"
mkdir -p "$C"/{leaf,body,request,csv,note,checkpoint,vkey,proof,amount,percent,date,time,uscc,jsonscan}
cp -r keep/. "$C/"
# Leaves and bodies: one file per entry, named by seq and type.
/usr/bin/python3 - "$C" <<'PY'
import base64, json, struct, sys
out = sys.argv[1]
def varint(b, off):
    v = s = 0
    while True:
        x = b[off]; off += 1
        v |= (x & 0x7f) << s; s += 7
        if x < 0x80: return v, off
for line in open("export.jsonl"):
    o = json.loads(line)
    if "leaf" not in o: continue
    leaf = base64.b64decode(o["leaf"])
    name = "%02d-%s" % (o["seq"], o["type"])
    open("%s/leaf/%s" % (out, name), "wb").write(leaf)
    open("%s/jsonscan/%s" % (out, name), "w").write(line.rstrip("\n"))
    n, off = varint(leaf, 1 + 8 + 8)      # version, seq, appended_at, varint(body len)
    open("%s/body/%s" % (out, name), "wb").write(leaf[off:off + n])
PY
cp r1.req "$C/request/two-sigs.req"
cp r1-one-sig.req "$C/request/one-sig.req"
# A request carrying an expiry body instead of a redemption (it leaked the
# decoded list until 0cd74bb).
/usr/bin/python3 - "$C" <<'PY'
import base64, sys
body = open(sys.argv[1] + "/body/22-expire", "rb").read()
lines = open("r1-one-sig.req").read().split("\n")
lines = ["body " + base64.b64encode(body).decode() if l.startswith("body ") else l for l in lines]
open(sys.argv[1] + "/request/expire-body-leak.req", "w").write("\n".join(lines))
PY
cp parties.csv "$C/csv/parties.csv"
cp vouchers.csv "$C/csv/vouchers.csv"
printf '\xef\xbb\xbfa,b\r\n"x\r\ny",""\r\n\r\n' >"$C/csv/bom-crlf-quoted.csv"
printf 'h\n""\n' >"$C/csv/one-empty-field.csv"
# Notes: the vectors and our own checkpoints (the note target knows the
# vector keys; ours still exercise the parser up to the signature check).
V=$SHARED/vectors
for f in "$V"/signed-note/*.note "$V"/signed-note/negative/*.note "$V"/checkpoints/*.note \
    "$V"/c2sp-examples/*.note; do
    cp "$f" "$C/note/$(basename "$(dirname "$f")")-$(basename "$f")"
done
cp attest.note "$C/note/ivl-attest.note"
cp checkpoint.note "$C/note/ivl-checkpoint.note"
# Checkpoint texts: the text part of each checkpoint note.
for f in "$V"/checkpoints/*.note "$V"/c2sp-examples/tlog-checkpoint-example.note attest.note; do
    sed '/^$/,$d' "$f" >"$C/checkpoint/$(basename "$f" .note).txt"
done
printf 'example.com/log\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next one\next two\n' \
    >"$C/checkpoint/extensions.txt"
# Verifier keys.
i=0
grep -h '^vkey \|^bad_vkey ' "$V"/signed-note/keys.txt "$V"/checkpoints/keys.txt |
    awk '{print $2}' | while read -r k; do
    i=$((i + 1))
    printf '%s\n' "$k" >"$C/vkey/vector-$i"
done
for k in auth sme1 prov; do cp $k.pub "$C/vkey/ivl-$k.pub"; done
cp ledger/log.pub "$C/vkey/ivl-log.pub"
# Proofs (signed by this ledger's log key, see fuzz_keys.h).
for f in incl-0 incl-3-7 incl-last cons-1 cons-5-12 cons-12; do cp $f.json "$C/proof/$f.json"; done
cp receipt-c2.json "$C/proof/claim-receipt.json"
# Values.
for a in 0 0.5 7 100000 100000.5 100000.50 1000000000 1000000000.00 999999999.99 007 1,000 5. .5 -1 1e5; do
    printf '%s' "$a" >"$C/amount/$(printf '%s' "$a" | tr -c 'A-Za-z0-9.' _)"
done
for p in 50 50% 33.5 33.25 100 100.00% 0.01 0 101 1.234; do
    printf '%s' "$p" >"$C/percent/$(printf '%s' "$p" | tr -c 'A-Za-z0-9.' _)"
done
for d in 2026-03-01 2000-01-01 2199-12-31 2028-02-29 2027-02-29 1999-12-31 2026-13-01 26-03-01; do
    printf '%s' "$d" >"$C/date/$d"
done
for t in 2026-03-01T10:00:00+08:00 2026-03-01T02:00:00Z 2026-03-01t02:00:00z \
    2026-03-01T10:00:00.123456+08:00 0000-01-01T00:00:00-23:59 9999-12-31T23:59:59+23:59 \
    2026-03-01T10:00:60+08:00 '2026-03-01 10:00:00+08:00'; do
    printf '%s' "$t" >"$C/time/$(printf '%s' "$t" | tr -c 'A-Za-z0-9.' _)"
done
for u in 11140521MB12345677 91140521MA00000018 91140521MA0000002B 12140000405000001F \
    11140521MB76543214 11140521MB11111111 11140521MB12345678 11140521mb12345677 91140521MA000000I8; do
    printf '%s' "$u" >"$C/uscc/$u"
done

cat >"$root/tests/fuzz/fuzz_keys.h" <<H
/* Generated by tests/fuzz/gen-corpus.sh: the log key of the ledger that
 * signed the checkpoints in tests/fuzz/corpus/proof/. */
#define FUZZ_PROOF_VKEY "$(tr -d '\n' <ledger/log.pub)"
H
echo "corpus written to $C ($(find "$C" -type f | wc -l) files), log key $(cat ledger/log.pub)"
