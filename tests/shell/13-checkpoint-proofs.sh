#!/bin/sh
# Checkpoints and Merkle proofs, checked both by ivl and by the independent
# verifier tests/indep/ivlcheck.py (RFC 9162 + C2SP signed-note, no ivl code):
# every inclusion proof of a ledger of a few dozen entries (also at older
# sizes), a spread of consistency proofs, receipts, the auditor's cosigned
# checkpoint, and altered checkpoints and proofs, which both must refuse.
. "$TESTS/shell/lib.sh"
export IVL_NOW=2026-03-01T09:00:00+08:00

# The independent verifier first proves itself on third-party vectors.
$IVLCHECK selftest "$SHARED/vectors" || fail "ivlcheck selftest on the shared vectors"

# ---- a ledger of 38 entries: 5 set-up, a batch of 25 parties, 8 singles
make_ledger L
"$PY" - 25 >batch.csv <<'EOF'
import hashlib, base64, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
cs = "0123456789ABCDEFGHJKLMNPQRTUWXY"
w = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
def uscc(p):
    c = 31 - sum(cs.index(ch) * wi for ch, wi in zip(p, w)) % 31
    return p + cs[0 if c == 31 else c]
print("role,uscc,name,pub,related,group,categories")
for i in range(int(sys.argv[1])):
    name = "batch%02d" % i
    pub = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    kid = hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4]
    vkey = "%s+%s+%s" % (name, kid.hex(), base64.b64encode(b"\x01" + pub).decode())
    print("%s,%s,Batch Company %d,%s,,," % ("sme" if i % 2 else "provider", uscc("9114052100B%06d" % i), i, vkey))
EOF
assert_exit 0 "$IVL" -L L party add --batch batch.csv --key auth.key
[ "$(ledger_size L)" = 30 ] || fail "size after the batch: $(ledger_size L)"
"$IVL" -L L checkpoint >cp30
i=0
while [ $i -lt 8 ]; do
    assert_exit 0 "$IVL" -L L party suspend "$(uscc_of "$(printf '9114052100B%06d' $i)")" --reason "r$i" \
        --key auth.key
    i=$((i + 1))
done
SIZE=$(ledger_size L)
[ "$SIZE" = 38 ] || fail "size $SIZE, expected 38"
ROOT=$(ledger_root L)
"$IVL" -L L export --out all.jsonl >/dev/null || fail "export"

# ---- the checkpoint: ivl and the independent verifier agree
"$IVL" -L L checkpoint >cur.cp
[ "$(sed -n 1p cur.cp)" = test.example/ivl ] && [ "$(sed -n 2p cur.cp)" = 38 ] || fail "checkpoint text: $(cat cur.cp)"
[ "$($IVLCHECK checkpoint L/log.pub cur.cp)" = "38 $ROOT" ] || fail "ivlcheck: checkpoint"
assert_exit 0 "$IVL" --json checkpoint verify cur.cp --pub L/log.pub
[ "$(jget "$OUT" size)" = 38 ] && [ "$(jget "$OUT" root)" = "$ROOT" ] || fail "checkpoint verify --json"
[ "$(jget "$OUT" origin)" = test.example/ivl ] || fail "checkpoint verify origin"
assert_exit 0 "$IVL" checkpoint verify cp30 --pub L/log.pub
[ "$($IVLCHECK checkpoint L/log.pub cp30 | cut -d' ' -f1)" = 30 ] || fail "ivlcheck: cp30"
assert_exit 0 "$IVL" --json -L L checkpoint
"$PY" -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["checkpoint"])' "$OUT" >cpj
cmp -s cur.cp cpj || fail "checkpoint --json differs from the text checkpoint"
# Its root is the root of the exported leaves, recomputed independently.
[ "$($IVLCHECK root all.jsonl)" = "$ROOT" ] || fail "root of the exported leaves"
[ "$($IVLCHECK root all.jsonl 30)" = "$($IVLCHECK checkpoint L/log.pub cp30 | cut -d' ' -f2)" ] ||
    fail "root of the first 30 exported leaves differs from the size-30 checkpoint"

# ---- every inclusion proof at the current size, and at older sizes
s=0
while [ $s -lt "$SIZE" ]; do
    "$IVL" -L L proof inclusion $s >inc-$s.json || fail "proof inclusion $s"
    # at the size right after the entry, and halfway to the end
    mid=$(((s + 1 + SIZE) / 2))
    "$IVL" -L L proof inclusion $s --size $((s + 1)) >incs-$s-a.json || fail "proof inclusion $s --size"
    "$IVL" -L L proof inclusion $s --size $mid >incs-$s-b.json || fail "proof inclusion $s --size $mid"
    for f in inc-$s.json incs-$s-a.json incs-$s-b.json; do
        assert_exit 0 "$IVL" --json proof check $f --log-pub L/log.pub
        grep -q '"kind": *"inclusion"' "$OUT" || fail "proof check $f: $(cat "$OUT")"
    done
    s=$((s + 1))
done
# Each proof is for the entry and tree size asked for.
"$PY" - "$SIZE" <<'EOF2' || fail "inclusion proof fields"
import json, sys
size = int(sys.argv[1])
for s in range(size):
    for f, ts in (("inc-%d.json", size), ("incs-%d-a.json", s + 1), ("incs-%d-b.json", (s + 1 + size) // 2)):
        j = json.load(open(f % s))
        assert j["index"] == s and j["tree_size"] == ts, (f % s, j["index"], j["tree_size"])
        assert j["checkpoint"].split("\n")[1] == str(ts), f % s
EOF2
# One run of the independent verifier over all of them, each leaf hash also
# checked against SHA-256(0x00 || leaf) of the exported entry.
$IVLCHECK proof L/log.pub inc-*.json incs-*.json --export all.jsonl >ind.out ||
    fail "ivlcheck refused an inclusion proof that ivl made"
[ "$(grep -c '^inclusion' ind.out)" = $((SIZE * 3)) ] || fail "ivlcheck checked $(wc -l <ind.out) proofs"
# The checkpoint of a proof at an older size is signed for that size.
[ "$(jget incs-3-b.json checkpoint | sed -n 2p)" = $(((3 + 1 + SIZE) / 2)) ] || fail "older checkpoint size"
# The single-leaf tree: no hashes, root = leaf hash.
[ "$(jget incs-0-a.json hashes)" = "[]" ] || fail "inclusion 0 in size 1 has hashes"
assert_exit 2 "$IVL" -L L proof inclusion "$SIZE"
assert_exit 2 "$IVL" -L L proof inclusion 3 --size 3
assert_exit 2 "$IVL" -L L proof inclusion 3 --size $((SIZE + 1))
assert_exit 2 "$IVL" -L L proof inclusion
assert_exit 2 "$IVL" -L L proof inclusion x

# ---- consistency proofs
pairs=""
a=1
while [ $a -le "$SIZE" ]; do
    pairs="$pairs $a:$SIZE $a:$(((a + SIZE + 1) / 2))"
    [ $((a * 2)) -le "$SIZE" ] && pairs="$pairs $a:$((a * 2))"
    [ $a -lt "$SIZE" ] && pairs="$pairs $a:$((a + 1))"
    a=$((a + 1))
done
pairs="$pairs 16:32 8:37 1:1 31:33 7:8"
n=0
for p in $pairs; do
    o=${p%:*}
    nw=${p#*:}
    n=$((n + 1))
    "$IVL" -L L proof consistency "$o" "$nw" >cons-$n.json || fail "proof consistency $o $nw"
    echo "cons-$n.json $o $nw" >>cons.list
    assert_exit 0 "$IVL" proof check cons-$n.json --log-pub L/log.pub
done
"$PY" - <<'EOF2' || fail "consistency proof fields"
for line in open("cons.list"):
    import json
    f, o, n = line.split()
    j = json.load(open(f))
    assert (j["old_size"], j["new_size"]) == (int(o), int(n)), f
EOF2
$IVLCHECK proof L/log.pub cons-*.json --export all.jsonl >ind.out ||
    fail "ivlcheck refused a consistency proof that ivl made"
[ "$(grep -c '^consistency' ind.out)" = $n ] || fail "ivlcheck checked $(wc -l <ind.out) of $n"
# NEW defaults to the current size.
"$IVL" -L L proof consistency 30 >c30.json
[ "$(jget c30.json new_size)" = "$SIZE" ] && [ "$(jget c30.json new_root)" = "$ROOT" ] || fail "consistency 30"
[ "$(jget c30.json old_root)" = "$($IVLCHECK root all.jsonl 30)" ] || fail "consistency 30 old_root"
assert_exit 2 "$IVL" -L L proof consistency 0 5
assert_exit 2 "$IVL" -L L proof consistency 6 5
assert_exit 2 "$IVL" -L L proof consistency 5 $((SIZE + 1))
assert_exit 2 "$IVL" -L L proof consistency

# ---- altered checkpoints: ivl checkpoint verify and ivlcheck both refuse (3)
refuse_cp()
{
    assert_exit 3 "$IVL" checkpoint verify "$1" --pub "${2:-L/log.pub}"
    [ $# = 2 ] || bad_cps="$bad_cps $1"
    [ $# = 1 ] || $IVLCHECK refuse checkpoint "$2" "$1" >/dev/null ||
        fail "ivlcheck accepted $1 with the key $2"
}
bad_cps=
"$PY" - cur.cp cp30 <<'EOF'
import sys
cp = open(sys.argv[1], "rb").read()
cp30 = open(sys.argv[2], "rb").read()
lines = cp.split(b"\n")
def out(name, data):
    open(name, "wb").write(data)
def flip_b64(s, i):
    c = s[i:i + 1]
    return s[:i] + (b"A" if c != b"A" else b"B") + s[i + 1:]
l = list(lines); l[2] = flip_b64(l[2], 5); out("bad-root.cp", b"\n".join(l))
l = list(lines); l[1] = b"37"; out("bad-size.cp", b"\n".join(l))
l = list(lines); l[1] = b"038"; out("bad-size0.cp", b"\n".join(l))
l = list(lines); l[0] = b"other.example/ivl"; out("bad-origin.cp", b"\n".join(l))
sig = lines[4]
l = list(lines); l[4] = flip_b64(sig, len(sig) - 10); out("bad-sig.cp", b"\n".join(l))
# the signature of another checkpoint (size 30) on this text
l = list(lines); l[4] = cp30.split(b"\n")[4]; out("swapped-sig.cp", b"\n".join(l))
# the root of the size-30 checkpoint with this size and signature
l = list(lines); l[2] = cp30.split(b"\n")[2]; out("swapped-root.cp", b"\n".join(l))
out("no-sig.cp", b"\n".join(lines[:4]) + b"\n")
out("no-newline.cp", cp[:-1])
out("trailing.cp", cp + b"extra\n")
out("empty.cp", b"")
out("extra-line.cp", b"\n".join(lines[:3]) + b"\nextension\n\n" + b"\n".join(lines[4:]))
EOF
for f in bad-root bad-size bad-size0 bad-origin bad-sig swapped-sig swapped-root no-sig no-newline \
    trailing empty extra-line; do
    refuse_cp $f.cp
done
# shellcheck disable=SC2086
$IVLCHECK refuse checkpoint L/log.pub $bad_cps >ind.out || fail "ivlcheck accepted an altered checkpoint"
[ "$(grep -c refused ind.out)" = 12 ] || fail "ivlcheck refused $(grep -c refused ind.out) of 12 checkpoints"
# The right checkpoint with the wrong key.
refuse_cp cur.cp sme.pub
# A key with the log's name (the origin) but not the log's key.
mkdir -p test.example
"$IVL" keygen test.example/ivl --unencrypted >/dev/null
refuse_cp cur.cp test.example/ivl.pub
# A malformed key file is a usage error (2), a missing checkpoint an I/O error.
echo "not a key" >junk.pub
assert_exit 2 "$IVL" checkpoint verify cur.cp --pub junk.pub
assert_exit 2 "$IVL" checkpoint verify cur.cp
assert_exit 4 "$IVL" checkpoint verify nonexistent.cp --pub L/log.pub

# ---- altered proofs: ivl proof check and ivlcheck both refuse (3)
refuse_proof()
{
    assert_exit 3 "$IVL" proof check "$1" --log-pub "${2:-L/log.pub}"
    [ $# = 1 ] || $IVLCHECK refuse proof "$2" "$1" >/dev/null || fail "ivlcheck accepted $1 with the key $2"
}
"$PY" <<'EOF'
import json
def load(f):
    return json.load(open(f))
def out(name, j):
    with open(name, "w") as f:
        if isinstance(j, str):
            f.write(j)
        else:
            json.dump(j, f)
def flip(h, i=0):
    return h[:i] + ("0" if h[i] != "0" else "1") + h[i + 1:]
inc = load("inc-13.json")      # index 13 in 38: five hashes
inc_b = load("incs-13-b.json")  # the same index at size 26
assert len(inc["hashes"]) >= 3
j = dict(inc); j["hashes"] = [flip(inc["hashes"][0])] + inc["hashes"][1:]; out("x-hash0.json", j)
j = dict(inc); j["hashes"] = inc["hashes"][:-1] + [flip(inc["hashes"][-1], 63)]; out("x-hashlast.json", j)
j = dict(inc); j["leaf_hash"] = flip(inc["leaf_hash"], 10); out("x-leaf.json", j)
j = dict(inc); j["index"] = 12; out("x-index.json", j)
j = dict(inc); j["index"] = 38; out("x-index-out.json", j)
j = dict(inc); j["tree_size"] = 37; out("x-size.json", j)
j = dict(inc); j["checkpoint"] = inc_b["checkpoint"]; out("x-cp-other-size.json", j)
j = dict(inc_b); j["tree_size"] = 38; out("x-size-other-cp.json", j)
j = dict(inc); j["hashes"] = inc["hashes"][:-1]; out("x-short.json", j)
j = dict(inc); j["hashes"] = inc["hashes"] + [inc["hashes"][0]]; out("x-long.json", j)
j = dict(inc); j["hashes"] = inc["hashes"][1:2] + inc["hashes"][0:1] + inc["hashes"][2:]; out("x-order.json", j)
j = dict(inc); j["checkpoint"] = inc["checkpoint"].replace("\n38\n", "\n37\n"); out("x-cp-edit.json", j)
j = dict(inc); j["leaf_hash"] = inc["leaf_hash"][:-2]; out("x-leaf-short.json", j)
j = dict(inc); del j["checkpoint"]; out("x-no-cp.json", j)
j = dict(inc); j["index"] = 13 + 2 ** 62; out("x-index-big.json", j)
j = dict(inc); j["index"] = -1; out("x-index-neg.json", j)
j = dict(inc); j["index"] = 13.0; out("x-index-float.json", j)
j = dict(inc); j["index"] = 2 ** 64 + 13; out("x-index-huge.json", j)
j = dict(inc); j["tree_size"] = 2 ** 63 - 1; out("x-size-big.json", j)
out("x-empty.json", "")
out("x-notjson.json", "this is not a proof\n")
out("x-array.json", "[]")
cons = load("cons-1.json")  # 1 -> 38
c2 = [json.load(open("cons-%d.json" % i)) for i in range(1, 200) if __import__("os").path.exists("cons-%d.json" % i)]
c = next(x for x in c2 if x["old_size"] == 13 and x["new_size"] == 38)
j = dict(c); j["hashes"] = [flip(c["hashes"][0])] + c["hashes"][1:]; out("y-hash.json", j)
j = dict(c); j["old_root"], j["new_root"] = c["new_root"], c["old_root"]; out("y-swap-roots.json", j)
j = dict(c); j["old_checkpoint"], j["new_checkpoint"] = c["new_checkpoint"], c["old_checkpoint"]; out("y-swap-cps.json", j)
j = dict(c); j["old_size"] = 12; out("y-old-size.json", j)
j = dict(c); j["new_size"] = 37; out("y-new-size.json", j)
j = dict(c); j["old_root"] = flip(c["old_root"], 30); out("y-old-root.json", j)
j = dict(c); j["hashes"] = c["hashes"][:-1]; out("y-short.json", j)
other = next(x for x in c2 if x["old_size"] == 14 and x["new_size"] == 38)
j = dict(c); j["hashes"] = other["hashes"]; out("y-other-hashes.json", j)
j = dict(c); del j["new_checkpoint"]; out("y-no-cp.json", j)
e = next(x for x in c2 if x["old_size"] == 38 and x["new_size"] == 38)
assert e["hashes"] == []
j = dict(e); j["hashes"] = [e["new_root"]]; out("y-equal-extra.json", j)
EOF
for f in x-*.json y-*.json; do
    refuse_proof "$f"
done
$IVLCHECK refuse proof L/log.pub x-*.json y-*.json >ind.out || fail "ivlcheck accepted an altered proof"
assert_exit 3 "$IVL" --json proof check x-hash0.json --log-pub L/log.pub
assert_code bad_proof
# Genuine proofs with the wrong log key.
refuse_proof inc-13.json sme.pub
refuse_proof inc-13.json test.example/ivl.pub
refuse_proof cons-1.json test.example/ivl.pub
# A size inside the batch has no stored checkpoint: the proof signs one with
# L/log.key, which must be the log's own key, or nothing is printed.
cp -r L Lw
cp test.example/ivl.key Lw/log.key
assert_exit 3 "$IVL" -L Lw proof consistency 12
[ ! -s "$OUT" ] || fail "a proof was printed with a wrong log.key"
grep -q "log.key is not the key of this log" "$ERR" || fail "wrong log.key message: $(cat "$ERR")"
assert_exit 3 "$IVL" -L Lw proof inclusion 3 --size 12
assert_exit 0 "$IVL" -L Lw proof inclusion 3 --size 30
assert_exit 0 "$IVL" -L L proof consistency 12
# With log.key loaded for size 12, the head's stored checkpoint is checked by
# signing it again (Ed25519 is deterministic): an altered one still fails.
cp -r L Lc
"$PY" "$LMDB_EDIT" Lc checkpoints -1 5 || fail "cannot alter the head's checkpoint"
assert_exit 3 "$IVL" -L Lc proof consistency 12
[ ! -s "$OUT" ] || fail "a proof was printed with an altered checkpoint"
grep -q "checkpoint" "$ERR" || fail "altered checkpoint message: $(cat "$ERR")"
assert_exit 0 "$IVL" proof check inc-13.json --log-pub L/log.pub
assert_exit 2 "$IVL" proof check inc-13.json --log-pub junk.pub
assert_exit 2 "$IVL" proof check inc-13.json
assert_exit 4 "$IVL" proof check nonexistent.json --log-pub L/log.pub

# ---- receipts: --receipt FILE on an appending command is an inclusion proof
# that still checks after the ledger has grown.
assert_exit 0 "$IVL" -L L party suspend "$(uscc_of 9114052100B000010)" --reason receipt \
    --key auth.key --receipt rcpt.json
[ "$(jget rcpt.json index)" = 38 ] && [ "$(jget rcpt.json tree_size)" = 39 ] || fail "receipt fields"
assert_exit 0 "$IVL" --json -L L show 38
[ "$(jget rcpt.json leaf_hash)" = "$(jget "$OUT" leaf_hash)" ] || fail "receipt leaf_hash"
assert_exit 0 "$IVL" --json -L L party suspend "$(uscc_of 9114052100B000011)" --reason json-receipt \
    --key auth.key --receipt=rcpt2.json
[ "$(jget "$OUT" seq)" = 39 ] && [ "$(jget rcpt2.json index)" = 39 ] || fail "receipt with --json"
assert_exit 0 "$IVL" -L L party suspend "$(uscc_of 9114052100B000012)" --reason more --key auth.key
[ "$(ledger_size L)" = 41 ] || fail "size after receipts"
assert_exit 0 "$IVL" proof check rcpt.json --log-pub L/log.pub
assert_exit 0 "$IVL" proof check rcpt2.json --log-pub L/log.pub
"$IVL" -L L export --out all2.jsonl >/dev/null
$IVLCHECK proof L/log.pub rcpt.json rcpt2.json --export all2.jsonl >/dev/null || fail "ivlcheck: receipts"
# A rejected command writes no receipt.
assert_exit 1 "$IVL" -L L party suspend "$(uscc_of 91140521MA0000099)" --reason x --key auth.key \
    --receipt rcpt3.json
[ ! -e rcpt3.json ] || fail "a rejected command wrote a receipt"

# ---- the auditor's attestation: the checkpoint cosigned by the log and the
# auditor; a standard signed-note verifier accepts either key.
assert_exit 0 "$IVL" -L L attest --key aud.key
cp "$OUT" attested.cp
[ "$(grep -c '^— ' attested.cp)" = 2 ] || fail "attest: not two signature lines: $(cat attested.cp)"
[ "$(sed -n 2p attested.cp)" = 41 ] || fail "attest checkpoint size"
assert_exit 0 "$IVL" checkpoint verify attested.cp --pub L/log.pub
assert_exit 0 "$IVL" checkpoint verify attested.cp --pub aud.pub
[ "$($IVLCHECK checkpoint L/log.pub attested.cp | cut -d' ' -f1)" = 41 ] || fail "ivlcheck: attested (log key)"
$IVLCHECK note aud.pub attested.cp >/dev/null || fail "ivlcheck: attested (auditor key)"
rc=0
$IVLCHECK note fin.pub attested.cp >/dev/null 2>&1 || rc=$?
[ $rc = 3 ] || fail "ivlcheck accepted the attested checkpoint with the finance key"
assert_exit 3 "$IVL" checkpoint verify attested.cp --pub fin.pub
[ "$(ledger_size L)" = 42 ] || fail "attest did not append"
# An inclusion proof whose checkpoint carries the cosignature still checks.
"$IVL" -L L proof inclusion 40 --size 41 >p41.json
"$PY" - p41.json attested.cp <<'EOF2'
import json, sys
j = json.load(open(sys.argv[1]))
j["checkpoint"] = open(sys.argv[2]).read()
json.dump(j, open("p41-cosigned.json", "w"))
EOF2
assert_exit 0 "$IVL" proof check p41-cosigned.json --log-pub L/log.pub
$IVLCHECK proof L/log.pub p41-cosigned.json >/dev/null || fail "ivlcheck: proof with the cosigned checkpoint"
assert_exit 0 "$IVL" -L L verify
echo "13-checkpoint-proofs: ok"
