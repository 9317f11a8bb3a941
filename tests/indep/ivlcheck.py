#!/usr/bin/python3
"""ivlcheck.py - an independent verifier for what `ivl` publishes.

Written from RFC 9162 (Certificate Transparency v2.0, section 2.1: Merkle
trees, inclusion and consistency proofs) and the C2SP `signed-note` and
`tlog-checkpoint` specifications. It does NOT import, call or share code with
ivl: only the Python standard library and `cryptography` (Ed25519).

    ivlcheck.py vkey VKEY                 check a verifier key file (one line
                                          name+keyid+base64(0x01||pub), key id =
                                          SHA-256(name||0x0A||0x01||pub)[:4]);
                                          prints "NAME KEYIDHEX PUBHEX"
    ivlcheck.py note VKEY NOTE            verify a signed note with a verifier key
    ivlcheck.py checkpoint VKEY NOTE      ... and parse it as a checkpoint of the
                                          key's log; prints "SIZE ROOTHEX"
    ivlcheck.py proof VKEY PROOF... [--export FILE]
                                          verify inclusion or consistency proofs
                                          as printed by `ivl proof ...` (JSON); with
                                          --export, also check the proven leaf hash
                                          against the leaf bytes of that export
    ivlcheck.py export VKEY EXPORT        recompute the Merkle root from the `leaf`
                                          fields of an `ivl export` file and compare
                                          it with the file's final signed checkpoint;
                                          prints "SIZE ROOTHEX"
    ivlcheck.py refuse proof|checkpoint|export VKEY FILE...
                                          exit 0 only if every FILE is refused
    ivlcheck.py root EXPORT [N]           print the root of the first N leaves (hex)
    ivlcheck.py selftest VECTORS_DIR      check this verifier against third-party
                                          vectors (transparency-dev/merkle, golang/mod
                                          sumdb/note, C2SP examples)

Exit status: 0 verified, 3 verification failed (any reason: bad signature,
malformed note or proof, mismatch), 2 usage error.
"""
import base64
import binascii
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH = "\u2014"
ALG_ED25519 = 0x01


class Fail(Exception):
    """Verification failed."""


# ---------------------------------------------------------------- base64

def b64decode_strict(s):
    """Standard base64 with padding; rejects anything non-canonical."""
    if not isinstance(s, str) or len(s) % 4 != 0:
        raise Fail("bad base64 length")
    try:
        raw = base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Fail("bad base64")
    if base64.b64encode(raw).decode("ascii") != s:
        raise Fail("non-canonical base64")
    return raw


# ---------------------------------------------------------------- signed notes (C2SP signed-note)

def name_ok(name):
    """A key name: non-empty, no Unicode whitespace, no '+'."""
    if not name or "+" in name:
        return False
    for ch in name:
        if ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F:
            return False
    return True


def key_id(name, pub):
    """SHA-256(name || 0x0A || 0x01 || pubkey)[:4], C2SP signed-note Ed25519."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + pub).digest()[:4]


def parse_vkey(line):
    """name+hexkeyid+base64(0x01 || pub) -> (name, keyid bytes, pub bytes)."""
    line = line.strip("\n")
    parts = line.split("+", 2)  # the base64 part may contain '+'
    if len(parts) != 3:
        raise Fail("verifier key is not name+id+key")
    name, hid, b64 = parts
    if not name_ok(name):
        raise Fail("bad key name")
    if len(hid) != 8 or hid.lower() != hid:
        raise Fail("key id is not 8 lowercase hex digits")
    try:
        kid = bytes.fromhex(hid)
    except ValueError:
        raise Fail("key id is not hex")
    raw = b64decode_strict(b64)
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise Fail("verifier key is not an Ed25519 (type 0x01) key")
    pub = raw[1:]
    if key_id(name, pub) != kid:
        raise Fail("key id does not match the key")
    return name, kid, pub


def read_vkey_file(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Fail("verifier key file is not UTF-8")
    lines = [l for l in text.split("\n") if l != ""]
    if len(lines) != 1:
        raise Fail("verifier key file must hold one line")
    return parse_vkey(lines[0])


def split_note(data):
    """bytes -> (text bytes, [(name, keyid, sig)]). Enforces the note syntax."""
    try:
        s = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Fail("note is not valid UTF-8")
    for ch in s:
        if ch != "\n" and (ord(ch) < 0x20 or ord(ch) == 0x7F):
            raise Fail("note contains a control character")
    i = s.rfind("\n\n")
    if i < 0:
        raise Fail("note has no blank line before its signatures")
    text, sigs = s[: i + 1], s[i + 2:]
    if not sigs or not sigs.endswith("\n"):
        raise Fail("note has no signatures, or its last line does not end in a newline")
    out = []
    for line in sigs[:-1].split("\n"):
        prefix = EM_DASH + " "
        if not line.startswith(prefix):
            raise Fail("malformed signature line %r" % line)
        rest = line[len(prefix):]
        sp = rest.split(" ")
        if len(sp) != 2:
            raise Fail("malformed signature line %r" % line)
        name, b64 = sp
        if not name_ok(name):
            raise Fail("bad signer name in %r" % line)
        raw = b64decode_strict(b64)
        if len(raw) < 5:
            raise Fail("signature too short")
        out.append((name, raw[:4], raw[4:]))
    if len(out) > 100:
        raise Fail("too many signatures")
    return text.encode("utf-8"), out


def open_note(data, vkey):
    """Verifies note bytes with vkey=(name, kid, pub). Returns the text bytes.
    Lines of other keys are ignored; a line claiming this key must verify."""
    name, kid, pub = vkey
    text, sigs = split_note(data)
    pk = Ed25519PublicKey.from_public_bytes(pub)
    verified = False
    for sname, skid, sig in sigs:
        if sname != name or skid != kid:
            continue
        if len(sig) != 64:
            raise Fail("Ed25519 signature of %s is not 64 bytes" % name)
        try:
            pk.verify(sig, text)
        except InvalidSignature:
            raise Fail("signature of %s does not verify" % name)
        verified = True
    if not verified:
        raise Fail("no signature by %s+%s" % (name, kid.hex()))
    return text


def parse_checkpoint(text):
    """C2SP tlog-checkpoint body: origin, decimal size, base64 root, extensions."""
    s = text.decode("utf-8")
    if not s.endswith("\n"):
        raise Fail("checkpoint text does not end in a newline")
    lines = s[:-1].split("\n")
    if len(lines) < 3:
        raise Fail("checkpoint has fewer than three lines")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not origin:
        raise Fail("empty origin")
    if not size_s.isdigit() or not size_s.isascii() or (size_s != "0" and size_s[0] == "0"):
        raise Fail("tree size %r is not a canonical decimal" % size_s)
    size = int(size_s)
    if size >= 1 << 64:
        raise Fail("tree size out of range")
    root = b64decode_strict(root_s)
    if len(root) != 32:
        raise Fail("root hash is not 32 bytes")
    for ext in lines[3:]:
        if ext == "":
            raise Fail("empty extension line")
    return origin, size, root


def open_checkpoint(data, vkey, want_origin=True):
    text = open_note(data, vkey)
    origin, size, root = parse_checkpoint(text)
    if want_origin and origin != vkey[0]:
        raise Fail("checkpoint origin %r is not the log key's name %r" % (origin, vkey[0]))
    return origin, size, root


# ---------------------------------------------------------------- Merkle trees (RFC 9162 2.1)

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def mth_from_hashes(hs):
    """MTH over leaf hashes (RFC 9162 2.1.1), iterative: k = largest power of 2 < n."""
    n = len(hs)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hs[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth_from_hashes(hs[:k]), mth_from_hashes(hs[k:]))


def verify_inclusion(index, size, lh, proof, root):
    """RFC 9162 2.1.3.2."""
    if len(lh) != 32 or len(root) != 32 or any(len(p) != 32 for p in proof):
        raise Fail("inclusion: value of the wrong length")
    if index >= size:
        raise Fail("inclusion: index %d not below tree size %d" % (index, size))
    fn, sn = index, size - 1
    r = lh
    for p in proof:
        if sn == 0:
            raise Fail("inclusion: proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Fail("inclusion: proof too short")
    if r != root:
        raise Fail("inclusion: computed root does not match")


def verify_consistency(size1, size2, root1, root2, proof):
    """RFC 9162 2.1.4.2 (size1 == size2 requires an empty proof and equal
    roots; size1 == 0 is rejected, as transparency-dev/merkle does)."""
    if size1 > size2:
        raise Fail("consistency: old size above new size")
    if size1 == 0:
        raise Fail("consistency: old size 0")
    if size1 == size2:
        if proof:
            raise Fail("consistency: non-empty proof for equal sizes")
        if root1 != root2:
            raise Fail("consistency: equal sizes, different roots")
        return
    if len(root1) != 32 or len(root2) != 32 or any(len(p) != 32 for p in proof):
        raise Fail("consistency: value of the wrong length")
    if not proof:
        raise Fail("consistency: empty proof")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: prepend first_hash
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Fail("consistency: proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Fail("consistency: proof too short")
    if fr != root1:
        raise Fail("consistency: old root does not match")
    if sr != root2:
        raise Fail("consistency: new root does not match")


# ---------------------------------------------------------------- ivl's JSON files

def hex32(v, what):
    if not isinstance(v, str) or len(v) != 64 or v.lower() != v:
        raise Fail("%s is not 64 lowercase hex digits" % what)
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise Fail("%s is not hex" % what)


def uint(v, what):
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise Fail("%s is not a non-negative integer" % what)
    return v


def load_json(path):
    with open(path, "rb") as f:
        data = f.read()

    def no_dups(pairs):
        d = {}
        for k, v in pairs:
            if k in d:
                raise Fail("duplicate key %r" % k)
            d[k] = v
        return d

    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=no_dups)
    except (UnicodeDecodeError, ValueError):
        raise Fail("%s is not JSON" % path)


def read_export(path):
    """-> (list of leaf bytes, checkpoint note bytes). The file must start at seq 0."""
    leaves = []
    note = None
    with open(path, "rb") as f:
        try:
            lines = f.read().decode("utf-8").split("\n")
        except UnicodeDecodeError:
            raise Fail("%s is not UTF-8" % path)
    if lines and lines[-1] == "":
        lines.pop()
    for no, line in enumerate(lines, 1):
        if note is not None:
            raise Fail("line %d: text after the checkpoint" % no)
        try:
            obj = json.loads(line)
        except ValueError:
            raise Fail("line %d is not JSON" % no)
        if not isinstance(obj, dict):
            raise Fail("line %d is not an object" % no)
        if "checkpoint" in obj:
            if not isinstance(obj["checkpoint"], str):
                raise Fail("line %d: checkpoint is not a string" % no)
            note = obj["checkpoint"].encode("utf-8")
            continue
        seq = uint(obj.get("seq"), "line %d seq" % no)
        if seq != len(leaves):
            raise Fail("line %d: seq %d, expected %d" % (no, seq, len(leaves)))
        for field in ("type", "id", "leaf"):
            if not isinstance(obj.get(field), str):
                raise Fail("line %d: no %s" % (no, field))
        leaves.append(b64decode_strict(obj["leaf"]))
    if note is None:
        raise Fail("the export does not end with a checkpoint line")
    return leaves, note


def check_proof(vkey, path, export=None):
    j = load_json(path)
    if not isinstance(j, dict):
        raise Fail("proof is not a JSON object")
    if "index" in j:
        index = uint(j.get("index"), "index")
        size = uint(j.get("tree_size"), "tree_size")
        lh = hex32(j.get("leaf_hash"), "leaf_hash")
        hs = j.get("hashes")
        if not isinstance(hs, list):
            raise Fail("hashes is not a list")
        proof = [hex32(h, "hashes[%d]" % i) for i, h in enumerate(hs)]
        note = j.get("checkpoint")
        if not isinstance(note, str):
            raise Fail("no checkpoint")
        _, csize, root = open_checkpoint(note.encode("utf-8"), vkey)
        if csize != size:
            raise Fail("checkpoint size %d, proof tree_size %d" % (csize, size))
        verify_inclusion(index, size, lh, proof, root)
        if export is not None:
            leaves, _ = read_export(export)
            if index >= len(leaves) or leaf_hash(leaves[index]) != lh:
                raise Fail("leaf_hash is not the hash of leaf %d of %s" % (index, export))
        return "inclusion %d in %d" % (index, size)
    size1 = uint(j.get("old_size"), "old_size")
    size2 = uint(j.get("new_size"), "new_size")
    r1 = hex32(j.get("old_root"), "old_root")
    r2 = hex32(j.get("new_root"), "new_root")
    hs = j.get("hashes")
    if not isinstance(hs, list):
        raise Fail("hashes is not a list")
    proof = [hex32(h, "hashes[%d]" % i) for i, h in enumerate(hs)]
    # The roots mean something only when the log signed them.
    for fld, sz, r in (("old_checkpoint", size1, r1), ("new_checkpoint", size2, r2)):
        note = j.get(fld)
        if not isinstance(note, str):
            raise Fail("no %s" % fld)
        _, csize, croot = open_checkpoint(note.encode("utf-8"), vkey)
        if csize != sz or croot != r:
            raise Fail("%s does not match the proof's size and root" % fld)
    verify_consistency(size1, size2, r1, r2, proof)
    if export is not None:
        leaves, _ = read_export(export)
        if size2 > len(leaves):
            raise Fail("export too short")
        if mth_from_hashes([leaf_hash(x) for x in leaves[:size1]]) != r1 or \
                mth_from_hashes([leaf_hash(x) for x in leaves[:size2]]) != r2:
            raise Fail("roots do not match the export's leaves")
    return "consistency %d -> %d" % (size1, size2)


def check_export(vkey, path):
    leaves, note = read_export(path)
    _, size, root = open_checkpoint(note, vkey)
    if size != len(leaves):
        raise Fail("checkpoint size %d, export holds %d entries" % (size, len(leaves)))
    got = mth_from_hashes([leaf_hash(x) for x in leaves])
    if got != root:
        raise Fail("recomputed root %s differs from the checkpoint's %s" % (got.hex(), root.hex()))
    return size, root


# ---------------------------------------------------------------- self test on third-party vectors

def selftest(vdir):
    n = 0

    def hx(s):
        return b"" if s == "-" else bytes.fromhex(s)

    def expect(ok, fn, what):
        nonlocal n
        n += 1
        try:
            fn()
            got = True
        except Fail:
            got = False
        if got != ok:
            raise SystemExit("selftest: %s: expected %s" % (what, "ok" if ok else "rejection"))

    # RFC 6962 reference tree: roots of every prefix.
    leaves, roots = {}, {}
    sect = None
    for line in open(os.path.join(vdir, "merkle/reference-tree.txt")):
        line = line.rstrip("\n")
        if line.startswith("["):
            sect = line.split("]")[0][1:]
            continue
        if not line or line.startswith("#"):
            continue
        parts = line.split(" ")
        if sect == "leaf_inputs":
            leaves[int(parts[0])] = hx(parts[1]) if len(parts) > 1 and parts[1] else b""
        elif sect == "roots":
            roots[int(parts[0])] = bytes.fromhex(parts[1])
    lh = [leaf_hash(leaves[i]) for i in range(len(leaves))]
    for size, r in roots.items():
        n += 1
        if mth_from_hashes(lh[:size]) != r:
            raise SystemExit("selftest: root of %d leaves differs" % size)

    # Every derived proof over the 8-leaf tree.
    sect = None
    for line in open(os.path.join(vdir, "merkle/derived-all-proofs-n8.txt")):
        line = line.rstrip("\n")
        if line.startswith("["):
            sect = line.split("]")[0][1:]
            continue
        if not line or line.startswith("#"):
            continue
        p = line.split(" ")
        hs = [bytes.fromhex(x) for x in p[4:] if x != "-"]
        if sect == "inclusion_proofs":
            a, b, l, r = int(p[0]), int(p[1]), bytes.fromhex(p[2]), bytes.fromhex(p[3])
            expect(True, lambda: verify_inclusion(a, b, l, hs, r), line)
            if hs:
                bad = [hs[0][:-1] + bytes([hs[0][-1] ^ 1])] + hs[1:]
                expect(False, lambda: verify_inclusion(a, b, l, bad, r), "flipped " + line)
            expect(False, lambda: verify_inclusion(a, b, l, hs, hs[0] if hs else bytes(32)), "wrong root " + line)
        elif sect == "consistency_proofs":
            a, b, r1, r2 = int(p[0]), int(p[1]), bytes.fromhex(p[2]), bytes.fromhex(p[3])
            expect(True, lambda: verify_consistency(a, b, r1, r2, hs), line)
            expect(False, lambda: verify_consistency(a, b, r2, r1, hs), "swapped " + line)
            if hs:
                bad = hs[:-1] + [hs[-1][:-1] + bytes([hs[-1][-1] ^ 1])]
                expect(False, lambda: verify_consistency(a, b, r1, r2, bad), "flipped " + line)

    # transparency-dev/merkle probes.
    def probe_hashes(field):
        if field == "-":
            return []
        return [b"" if x == '""' else bytes.fromhex(x) for x in field.split(" ")]

    for line in open(os.path.join(vdir, "merkle/probes-inclusion.txt")):
        if line.startswith("#") or not line.strip():
            continue
        f = [x.strip() for x in line.rstrip("\n").split("|")]
        want, idx, size = f[1] == "ok", int(f[2]), int(f[3])
        l, r, pr = hx(f[4]), hx(f[5]), probe_hashes(f[6])
        expect(want, lambda: verify_inclusion(idx, size, l, pr, r), f[0])
    for line in open(os.path.join(vdir, "merkle/probes-consistency.txt")):
        if line.startswith("#") or not line.strip():
            continue
        f = [x.strip() for x in line.rstrip("\n").split("|")]
        want, s1, s2 = f[1] == "ok", int(f[2]), int(f[3])
        r1, r2, pr = hx(f[4]), hx(f[5]), probe_hashes(f[6])
        expect(want, lambda: verify_consistency(s1, s2, r1, r2, pr), f[0])

    # Signed notes (golang/mod sumdb/note, C2SP example).
    def vk(line):
        return parse_vkey(line)

    keys = {}
    for fname in ("signed-note/keys.txt", "checkpoints/keys.txt"):
        for line in open(os.path.join(vdir, fname)):
            p = line.split()
            if len(p) >= 2 and p[0] == "vkey":
                keys[p[1].split("+")[0]] = vk(p[1])
            if len(p) >= 2 and p[0] == "bad_vkey":
                expect(False, lambda: parse_vkey(p[1]), "bad vkey " + p[1])
    sn = os.path.join(vdir, "signed-note")
    rd = lambda f: open(os.path.join(sn, f), "rb").read()
    peter = keys["PeterNeumann"]
    expect(True, lambda: open_note(rd("peterneumann.note"), peter), "peterneumann.note")
    expect(True, lambda: open_note(rd("peterneumann-enochroot.note"), peter), "two sigs, peter")
    expect(True, lambda: open_note(rd("peterneumann-enochroot.note"), keys["EnochRoot"]), "two sigs, enoch")
    expect(False, lambda: open_note(rd("peterneumann.note"), keys["EnochRoot"]), "wrong key")
    expect(True, lambda: open_note(rd("c2sp-example-foo.note"), keys["example.com/foo"]), "c2sp example")
    n += 1
    if open_note(rd("peterneumann.note"), peter) != rd("peterneumann.text"):
        raise SystemExit("selftest: note text differs")
    for f in sorted(os.listdir(os.path.join(sn, "negative"))):
        data = rd(os.path.join("negative", f))
        expect(False, lambda: open_note(data, peter), f)
    tampered = rd("peterneumann.note").replace(b"cryptography", b"Cryptography")
    expect(False, lambda: open_note(tampered, peter), "tampered text")

    # Checkpoints and a consistency proof between two of them.
    cp = os.path.join(vdir, "checkpoints")
    rdc = lambda f: open(os.path.join(cp, f), "rb").read()
    m5 = open_checkpoint(rdc("monkeys-5.note"), keys["monkeys"])
    m8 = open_checkpoint(rdc("monkeys-8.note"), keys["monkeys"])
    expect(True, lambda: open_checkpoint(rdc("sum-golang-org-1514086.note"), keys["sum.golang.org"], False), "sumdb")
    expect(False, lambda: open_checkpoint(rdc("sum-golang-org-1514086.note"), keys["sum.golang.org"], True), "sumdb origin")
    pr = [bytes.fromhex(l.split()[1]) for l in rdc("monkeys-consistency-5-8.txt").decode().splitlines() if l.startswith("proof ")]
    expect(True, lambda: verify_consistency(m5[1], m8[1], m5[2], m8[2], pr), "monkeys 5->8")
    expect(False, lambda: verify_consistency(m5[1], m8[1], m8[2], m5[2], pr), "monkeys swapped")
    l5 = open_checkpoint(rdc("sumdb-localhost-5.note"), keys["localhost.localdev/sumdb"], False)
    l6 = open_checkpoint(rdc("sumdb-localhost-6.note"), keys["localhost.localdev/sumdb"], False)
    fork = [bytes.fromhex(x) for l in rdc("sumdb-localhost-fork-evidence.txt").decode().splitlines()
            for x in l.split()[1:] if l.startswith("proof ")]
    if fork:
        expect(False, lambda: verify_consistency(l5[1], l6[1], l5[2], l6[2], fork), "sumdb fork")
    return n


# ---------------------------------------------------------------- main

def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "vkey" and len(args) == 1:
            name, kid, pub = read_vkey_file(args[0])
            print(name, kid.hex(), pub.hex())
        elif cmd == "note" and len(args) == 2:
            open_note(open(args[1], "rb").read(), read_vkey_file(args[0]))
            print("note verified")
        elif cmd == "checkpoint" and len(args) == 2:
            _, size, root = open_checkpoint(open(args[1], "rb").read(), read_vkey_file(args[0]))
            print(size, root.hex())
        elif cmd == "proof" and len(args) >= 2:
            export = None
            if "--export" in args:
                i = args.index("--export")
                if i + 1 >= len(args):
                    sys.stderr.write(__doc__)
                    return 2
                export = args[i + 1]
                args = args[:i] + args[i + 2:]
            vkey = read_vkey_file(args[0])
            for f in args[1:]:
                try:
                    print(check_proof(vkey, f, export))
                except Fail as e:
                    raise Fail("%s: %s" % (f, e))
        elif cmd == "export" and len(args) == 2:
            size, root = check_export(read_vkey_file(args[0]), args[1])
            print(size, root.hex())
        elif cmd == "root" and len(args) in (1, 2):
            leaves, _ = read_export(args[0])
            k = int(args[1]) if len(args) == 2 else len(leaves)
            if k > len(leaves):
                raise Fail("the export has only %d leaves" % len(leaves))
            print(mth_from_hashes([leaf_hash(x) for x in leaves[:k]]).hex())
        elif cmd == "refuse" and len(args) >= 3 and args[0] in ("proof", "checkpoint", "export"):
            vkey = read_vkey_file(args[1])
            accepted = []
            for f in args[2:]:
                try:
                    if args[0] == "proof":
                        check_proof(vkey, f)
                    elif args[0] == "checkpoint":
                        open_checkpoint(open(f, "rb").read(), vkey)
                    else:
                        check_export(vkey, f)
                    accepted.append(f)
                except Fail as e:
                    print("%s: refused: %s" % (f, e))
                except (OSError, UnicodeDecodeError, ValueError) as e:
                    print("%s: refused: %s" % (f, e))
            if accepted:
                raise Fail("accepted %s" % " ".join(accepted))
        elif cmd == "selftest" and len(args) == 1:
            print("selftest: %d checks passed" % selftest(args[0]))
        else:
            sys.stderr.write(__doc__)
            return 2
    except Fail as e:
        sys.stderr.write("ivlcheck: %s: %s\n" % (cmd, e))
        return 3
    except OSError as e:
        sys.stderr.write("ivlcheck: %s\n" % e)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
