#!/usr/bin/python3
"""bigparties.py N OUT.csv [START]: a `party add --batch` CSV of N SMEs with
the longest names, groups and related lists the rules allow (about 2.5 KB of
ledger each), every one with its own Ed25519 key: makes a ledger grow fast.
"""
import base64, hashlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

CS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc(body):
    c = 31 - sum(CS.index(ch) * w for ch, w in zip(body, W)) % 31
    return body + CS[0 if c == 31 else c]


def vkey(name, pub):
    h = hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4]
    return "%s+%s+%s" % (name, h.hex(), base64.b64encode(b"\x01" + pub).decode())


n, out = int(sys.argv[1]), sys.argv[2]
start = int(sys.argv[3]) if len(sys.argv) > 3 else 0
related = ",".join(uscc("91140521MD%07d" % i) for i in range(64))
raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
with open(out, "w") as f:
    f.write("role,uscc,name,pub,related,group,categories\n")
    for i in range(start, start + n):
        pub = Ed25519PrivateKey.generate().public_key().public_bytes(*raw)
        name = ("企业%08d" % i + "科" * 70)[:66]  # 66 chars, 200 bytes of UTF-8
        f.write('sme,%s,%s,%s,"%s",%s,\n' % (uscc("91140521ME%07d" % i), name,
                                             vkey("k%d" % i, pub), related, "G" * 128))
