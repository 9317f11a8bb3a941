#!/usr/bin/python3
"""hostile.py KIND VALID_FILE OUTDIR: writes hostile variants of a valid input
file into OUTDIR (one file each, named after what was done) for
tests/shell/53-hostile-files.sh. KIND is request, export, csv, key, pub,
checkpoint or proof; every kind also gets the generic ones (empty, random,
truncated, a flipped byte, trailing garbage, a very long line, ...).
Every variant must be refused: none is the valid content in another form.
"""
import base64, json, os, random, sys

kind, src, out = sys.argv[1:4]
random.seed(int(os.environ.get("SEED", "1")))
good = open(src, "rb").read()
os.makedirs(out, exist_ok=True)
n = 0


def put(name, data):
    global n
    n += 1
    with open(os.path.join(out, "%02d-%s" % (n, name)), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def flip(data, pos):
    b = bytearray(data)
    b[pos] ^= 1 << random.randrange(8)
    return bytes(b)


# ---- generic ----
put("empty", b"")
put("newline", b"\n")
put("random64", os.urandom(64))
put("random4k", os.urandom(4096))
put("nul4k", b"\0" * 4096)
put("half", good[: len(good) // 2])
put("minus1", good[:-1] if not good.endswith(b"\n") else good[:-2])
if good.count(b"\n") > 1:
    put("firstline", good.split(b"\n")[0] + b"\n")
put("nul-inside", good[: len(good) // 3] + b"\0" + good[len(good) // 3:])
put("longline", b"A" * (1 << 20) + b"\n" + good)
put("utf16", good.decode("utf-8", "replace").encode("utf-16"))

lines = good.decode("utf-8", "replace").split("\n")


def b64flip(s):
    """the same base64 with one character changed (another valid character)"""
    i = random.randrange(min(len(s) - 4, 40))
    c = "A" if s[i] != "A" else "B"
    return s[:i] + c + s[i + 1:]


if kind == "request":
    def edit(prefix, fn, name):
        put(name, "\n".join(fn(l) if l.startswith(prefix) else l for l in lines))
    edit("body ", lambda l: "body " + b64flip(l[5:]), "body-flipped")
    edit("body ", lambda l: "body " + l[5:-8], "body-cut")
    edit("body ", lambda l: "body " + "!!" + l[7:], "body-not-base64")
    edit("body ", lambda l: "body " + base64.b64encode(os.urandom(3 << 20)).decode(), "body-huge")
    edit("sig ", lambda l: " ".join(l.split(" ")[:2] + [b64flip(l.split(" ")[2])]), "sig-flipped")
    edit("sig ", lambda l: "sig 91140521MA0000002B " + l.split(" ")[2], "sig-other-signer")
    edit("sig ", lambda l: "\n".join([l] * 3), "sig-thrice")
    edit("origin ", lambda l: "origin other.test/ivl", "origin-other")
    edit("ivl-redeem-request", lambda l: "ivl-redeem-request v2", "version-2")
    put("no-sig", "\n".join(l for l in lines if not l.startswith("sig ")))
    put("no-body", "\n".join(l for l in lines if not l.startswith("body ")))
elif kind == "export":
    objs = [l for l in lines if l.strip()]
    entries, cp = objs[:-1], objs[-1]
    def leafflip(i):
        o = json.loads(entries[i])
        raw = bytearray(base64.b64decode(o["leaf"]))
        raw[len(raw) // 2] ^= 0x10
        o["leaf"] = base64.b64encode(bytes(raw)).decode()
        return json.dumps(o, ensure_ascii=False)
    put("leaf-flipped", "\n".join(entries[:2] + [leafflip(2)] + entries[3:] + [cp]) + "\n")
    put("leaf-flipped-last", "\n".join(entries[:-1] + [leafflip(len(entries) - 1)] + [cp]) + "\n")
    put("entry-dropped", "\n".join(entries[:2] + entries[3:] + [cp]) + "\n")
    put("entries-swapped", "\n".join(entries[:1] + [entries[2], entries[1]] + entries[3:] + [cp]) + "\n")
    put("entry-doubled", "\n".join(entries[:3] + [entries[2]] + entries[3:] + [cp]) + "\n")
    put("no-checkpoint", "\n".join(entries) + "\n")
    c = json.loads(cp)
    c["checkpoint"] = c["checkpoint"].replace("\n%d\n" % len(entries), "\n%d\n" % (len(entries) + 1))
    put("checkpoint-size", "\n".join(entries + [json.dumps(c)]) + "\n")
    c = json.loads(cp)
    t = c["checkpoint"].split("\n")
    t[2] = b64flip(t[2])
    c["checkpoint"] = "\n".join(t)
    put("checkpoint-root", "\n".join(entries + [json.dumps(c)]) + "\n")
    put("checkpoint-only", cp + "\n")
    put("nested", "[" * 200000 + "\n" + cp + "\n")
    put("bignum", '{"seq":1e999999,"leaf":"AA=="}\n' + cp + "\n")
    put("leaf-huge", '{"seq":0,"type":"genesis","id":"x","leaf":"%s"}\n' % ("A" * (8 << 20)) + cp + "\n")
    put("not-objects", "1\n2\n3\n" + cp + "\n")
    put("seq-negative", entries[0].replace('"seq": 0', '"seq": -1').replace('"seq":0', '"seq":-1') + "\n" + cp + "\n")
elif kind == "csv":
    hdr = lines[0]
    put("header-only", hdr + "\n")
    put("quote-open", hdr + '\n"' + lines[1] + "\n")
    put("bom-garbage", "\ufeff\ufeff" + good.decode())
    put("many-columns", hdr + "\n" + ",".join(["x"] * 200000) + "\n")
    put("many-blank", hdr + "\n" + "\n" * 200000)
    put("field-1mb", hdr + "\n" + lines[1].split(",")[0] + "," + "9" * (1 << 20) + ",\n")
    put("bad-amount", hdr + "\n" + ",".join(lines[1].split(",")[:1] + ["1e9999"] + lines[1].split(",")[2:]) + "\n")
    put("nul-field", hdr + "\n" + lines[1].replace(",", ",\0", 1) + "\n")
    put("cr-only", good.decode().replace("\n", "\r"))
    put("header-wrong", "a,b,c\n" + "\n".join(lines[1:]))
elif kind == "key":
    put("magic-only", good.split(b"\n")[0] + b"\n")
    put("body-flipped", flip(good, len(good) - 10))
    put("longer", good + os.urandom(32))
    put("pub-as-key", b"k+00000000+" + base64.b64encode(b"\x01" + os.urandom(32)) + b"\n")
elif kind == "pub":
    l = lines[0]
    name, h, k = l.split("+", 2)
    put("hash-wrong", "%s+%08x+%s\n" % (name, random.getrandbits(32), k))
    put("b64-bad", "%s+%s+%s\n" % (name, h, "!" + k[1:]))
    put("short-key", "%s+%s+%s\n" % (name, h, base64.b64encode(base64.b64decode(k)[:20]).decode()))
    put("alg-2", "%s+%s+%s\n" % (name, h, base64.b64encode(b"\x02" + base64.b64decode(k)[1:]).decode()))
    put("three-lines", (l + "\n") * 3)
    put("no-name", "+%s+%s\n" % (h, k))
elif kind == "checkpoint":
    t = good.decode().split("\n")
    put("size-huge", "\n".join([t[0], "18446744073709551616"] + t[2:]))
    put("size-negative", "\n".join([t[0], "-1"] + t[2:]))
    put("size-leading-zero", "\n".join([t[0], "0" + t[1]] + t[2:]))
    put("root-flipped", "\n".join(t[:2] + [b64flip(t[2])] + t[3:]))
    put("root-short", "\n".join(t[:2] + [t[2][:20]] + t[3:]))
    put("sig-flipped", "\n".join(t[:-2] + [t[-2][:-10] + b64flip(t[-2][-10:])] + t[-1:]))
    put("sigs-1000", "\n".join(t[:4]) + "\n" + "".join(
        "\u2014 other%d %s\n" % (i, base64.b64encode(os.urandom(68)).decode()) for i in range(1000)))
    put("no-blank", "\n".join(t[:3] + t[4:]))
    put("origin-other", "\n".join(["other.test/ivl"] + t[1:]))
    put("no-sigs", "\n".join(t[:4]) + "\n")
elif kind == "proof":
    p = json.loads(good)
    def var(name, **kw):
        q = dict(p)
        q.update(kw)
        put(name, json.dumps(q))
    var("index-beyond", index=p["tree_size"] + 5)
    var("index-negative", index=-1)
    var("size-huge", tree_size=2 ** 63)
    var("size-float", tree_size=1.5)
    var("hashes-1000", hashes=p["hashes"] * 1000)
    var("hashes-nothex", hashes=["zz" * 32] * len(p["hashes"]))
    var("hashes-short", hashes=[h[:10] for h in p["hashes"]])
    var("hash-dropped", hashes=p["hashes"][1:])
    var("leaf-other", leaf_hash="00" * 32)
    var("checkpoint-int", checkpoint=5)
    var("hashes-object", hashes={"a": 1})
    put("nested", "[" * 200000)
    put("array", "[1,2,3]")
print(n)
