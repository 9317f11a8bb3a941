# lmdb-edit.py - changes a ledger (or a verification cache) through LMDB
# itself, as someone with write access to the files would: used by the
# whole-program tests (see lib.sh: $LMDB_EDIT). Not a test itself.
# lmdb-edit.py DIR DB INDEX OFFSET: flips the low bit of byte OFFSET of the value
# of record INDEX (negative: from the end) of table DB, via mdb_dump/mdb_load.
# lmdb-edit.py DIR DB add KEYHEX VALHEX: adds a record.
# Exit 9 when the value is empty, 8 when the table is.
import subprocess, sys
d, db = sys.argv[1], sys.argv[2]
out = subprocess.run(["mdb_dump", "-s", db, d], check=True, capture_output=True, text=True).stdout
lines = out.split("\n")
h = lines.index("HEADER=END")
header = [l for l in lines[:h + 1] if not l.startswith("db_pagesize")]
body = [l for l in lines[h + 1:] if l.startswith(" ")]
recs = [(bytes.fromhex(body[i][1:]), bytes.fromhex(body[i + 1][1:])) for i in range(0, len(body), 2)]
if sys.argv[3] == "add":
    new = [(bytes.fromhex(sys.argv[4]), bytes.fromhex(sys.argv[5]))]
else:
    if not recs:
        sys.exit(8)
    k, v = recs[int(sys.argv[3])]
    v = bytearray(v)
    if not v:
        sys.exit(9)
    v[int(sys.argv[4])] ^= 0x01
    new = [(k, bytes(v))]
text = "\n".join(header) + "\n" + "".join(" %s\n %s\n" % (k.hex(), v.hex()) for k, v in new) + "DATA=END\n"
subprocess.run(["mdb_load", "-s", db, d], input=text, check=True, text=True, stderr=subprocess.DEVNULL)
