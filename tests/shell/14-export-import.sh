#!/bin/sh
# Replicas: `ivl export` (JSON Lines ending with the signed checkpoint), its
# root recomputed independently from the `leaf` fields, `ivl import` into a
# new directory and incrementally, and imports that must be refused (altered
# leaves, a forked log, a broken file) without changing the replica.
. "$TESTS/shell/lib.sh"
export IVL_NOW=2026-03-01T09:00:00+08:00

make_ledger L
"$IVL" keygen sme2 --unencrypted >/dev/null
assert_exit 0 "$IVL" -L L party rekey "$U_SME" --pub sme2.pub --key auth.key
assert_exit 0 "$IVL" -L L party suspend "$U_FIN" --reason "merged" --key auth.key
SIZE=$(ledger_size L)
ROOT=$(ledger_root L)
[ "$SIZE" = 7 ] || fail "size $SIZE"

# ---- export
assert_exit 0 "$IVL" -L L export --out e.jsonl
assert_grep 'exported entries 0 to 6' "$OUT"
[ "$(wc -l <e.jsonl)" = 8 ] || fail "export has $(wc -l <e.jsonl) lines, expected 8"
"$PY" - e.jsonl <<'EOF' || fail "export lines"
import base64, json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "no final newline"
objs = [json.loads(l) for l in lines[:-1]]
for i, o in enumerate(objs[:-1]):
    assert o["seq"] == i and isinstance(o["type"], str) and re.fullmatch(r"[0-9a-f-]{36}", o["id"]), o
    base64.b64decode(o["leaf"], validate=True)
assert [o["type"] for o in objs[:-1]] == ["genesis"] + ["party"] * 4 + ["rekey", "suspend"]
assert objs[0]["origin"] == "test.example/ivl"
assert set(objs[-1]) == {"checkpoint"}
EOF
# Root recomputed from the leaves by the independent verifier = the signed checkpoint = status.
[ "$($IVLCHECK export L/log.pub e.jsonl)" = "$SIZE $ROOT" ] || fail "ivlcheck export: root differs"
# Every leaf hash of the export is the one `ivl show` reports.
"$PY" - e.jsonl >leafhashes <<'EOF'
import base64, hashlib, json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if "leaf" in o:
        print(o["seq"], hashlib.sha256(b"\0" + base64.b64decode(o["leaf"])).hexdigest())
EOF
while read -r s h; do
    "$IVL" --json -L L show "$s" >show.json
    [ "$(jget show.json leaf_hash)" = "$h" ] || fail "leaf hash of entry $s differs from the export"
done <leafhashes
# --out - writes the same to stdout.
"$IVL" -L L export --out - >stdout.jsonl || fail "export --out -"
cmp -s e.jsonl stdout.jsonl || fail "export --out - differs from export --out FILE"
# A partial export starts at --from.
assert_exit 0 "$IVL" -L L export --from 5 --out e5.jsonl
[ "$(wc -l <e5.jsonl)" = 3 ] && [ "$(head -n1 e5.jsonl | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["seq"])')" = 5 ] ||
    fail "export --from 5"
assert_exit 0 "$IVL" -L L export --from "$SIZE" --out eempty.jsonl
[ "$(wc -l <eempty.jsonl)" = 1 ] || fail "export --from SIZE: $(cat eempty.jsonl)"
assert_exit 2 "$IVL" -L L export --from $((SIZE + 1)) --out x.jsonl
assert_exit 2 "$IVL" -L L export
assert_exit 2 "$IVL" -L L export --from x --out x.jsonl
assert_exit 4 "$IVL" -L L export --out no/such/dir/x.jsonl
[ ! -e x.jsonl ] || fail "a refused export wrote x.jsonl"

# ---- import into a new directory: the same log
assert_exit 0 "$IVL" --json -L R import e.jsonl
[ "$(jget "$OUT" size)" = "$SIZE" ] && [ "$(jget "$OUT" root)" = "$ROOT" ] || fail "import --json: $(cat "$OUT")"
[ "$(jget "$OUT" added)" = "$SIZE" ] && [ "$(jget "$OUT" had)" = 0 ] || fail "import counts"
[ "$(ledger_state R)" = "$SIZE $ROOT" ] || fail "replica state differs"
cmp -s R/log.pub L/log.pub || fail "replica log.pub differs"
[ ! -e R/log.key ] || fail "the replica has the log's secret key"
assert_exit 0 "$IVL" -L R verify
"$IVL" -L R checkpoint >rcp || fail "replica checkpoint"
[ "$($IVLCHECK checkpoint L/log.pub rcp)" = "$SIZE $ROOT" ] || fail "replica checkpoint"
assert_exit 0 "$IVL" --json -L R party show "$U_SME"
[ "$(jget "$OUT" key)" = "$(cat sme2.pub)" ] || fail "replica state: the rekey is missing"
# The replica's own export is the same file.
"$IVL" -L R export --out r.jsonl >/dev/null
cmp -s e.jsonl r.jsonl || fail "the replica exports different bytes"
# Importing what it already has adds nothing.
assert_exit 0 "$IVL" --json -L R import e.jsonl
[ "$(jget "$OUT" added)" = 0 ] || fail "re-import added entries"
# A replica has no log key: appending to it is refused and changes nothing.
assert_exit 5 "$IVL" -L R party suspend "$U_PROV" --reason x --key auth.key
[ "$(ledger_state R)" = "$SIZE $ROOT" ] || fail "a refused append changed the replica"

# ---- incremental import
i=0
while [ $i -lt 5 ]; do
    "$IVL" keygen "n$i" --unencrypted >/dev/null
    assert_exit 0 "$IVL" -L L party add --role provider --uscc "$(uscc_of "1214000040500010$i")" \
        --name "Institute $i" --pub "n$i.pub" --key auth.key
    i=$((i + 1))
done
SIZE2=$(ledger_size L)
ROOT2=$(ledger_root L)
assert_exit 0 "$IVL" -L L export --from "$SIZE" --out inc.jsonl
assert_exit 0 "$IVL" --json -L R import inc.jsonl
[ "$(jget "$OUT" had)" = "$SIZE" ] && [ "$(jget "$OUT" added)" = 5 ] || fail "incremental import counts"
[ "$(ledger_state R)" = "$SIZE2 $ROOT2" ] || fail "replica after the incremental import"
assert_exit 0 "$IVL" -L R verify
# A full export onto a replica that has part of it.
assert_exit 0 "$IVL" -L L export --out e2.jsonl
[ "$($IVLCHECK export L/log.pub e2.jsonl)" = "$SIZE2 $ROOT2" ] || fail "ivlcheck export 2"
assert_exit 0 "$IVL" -L R3 import e.jsonl
assert_exit 0 "$IVL" -L R3 import e2.jsonl
[ "$(ledger_state R3)" = "$SIZE2 $ROOT2" ] || fail "R3 after two imports"
# A gap is refused.
assert_exit 0 "$IVL" -L L export --from $((SIZE + 2)) --out gap.jsonl
assert_exit 0 "$IVL" -L R5 import e.jsonl
st5=$(ledger_state R5)
assert_exit 3 "$IVL" -L R5 import gap.jsonl
assert_unchanged R5 "$st5"
# A partial export into an empty directory: refused, and no ledger is left.
assert_exit 3 "$IVL" -L R6 import inc.jsonl
[ ! -e R6/data.mdb ] || fail "a refused import left R6/data.mdb"

# ---- a forked log: same origin, other keys and entries
mkdir other
(cd other && make_ledger F >/dev/null && "$IVL" -L F export --out ../fork.jsonl >/dev/null) || fail "other ledger"
st=$(ledger_state R)
assert_exit 3 "$IVL" --json -L R import fork.jsonl
assert_unchanged R "$st"
# Its checkpoint does not verify with this log's key (independently).
rc=0
$IVLCHECK export L/log.pub fork.jsonl >/dev/null 2>&1 || rc=$?
[ $rc = 3 ] || fail "ivlcheck accepted the fork with this log's key"

# ---- altered exports: refused (3 or 2), replica unchanged, nothing created
"$PY" - e2.jsonl <<'EOF'
import base64, json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1]
def out(name, ls):
    open(name, "w", encoding="utf-8").write("\n".join(ls) + "\n")
def with_leaf(i, f):
    o = json.loads(lines[i])
    b = bytearray(base64.b64decode(o["leaf"]))
    f(b)
    o["leaf"] = base64.b64encode(bytes(b)).decode()
    ls = list(lines)
    ls[i] = json.dumps(o, ensure_ascii=False, separators=(",", ":"))
    return ls
def flip(pos):
    def f(b):
        b[pos if pos >= 0 else len(b) + pos] ^= 0x01
    return f
out("t-leaf-first.jsonl", with_leaf(3, flip(40)))
out("t-leaf-last.jsonl", with_leaf(len(lines) - 2, flip(-1)))    # inside the last signature
out("t-leaf-trail.jsonl", with_leaf(4, lambda b: b.extend(b"\0")))
out("t-leaf-trunc.jsonl", with_leaf(4, lambda b: b.__delitem__(slice(len(b) - 1, None))))
out("t-no-checkpoint.jsonl", lines[:-1])
ls = list(lines); ls[2], ls[3] = ls[3], ls[2]; out("t-swapped.jsonl", ls)
ls = list(lines); del ls[4]; out("t-missing.jsonl", ls)
ls = list(lines); ls[5] = "{not json"; out("t-notjson.jsonl", ls)
cp = json.loads(lines[-1])["checkpoint"]
ls = list(lines); ls[-1] = json.dumps({"checkpoint": cp.replace("\n12\n", "\n11\n")}); out("t-cp-size.jsonl", ls)
ls = list(lines[:-2]) + [lines[-1]]; out("t-cp-longer.jsonl", ls)   # checkpoint for one more entry
# the leaves of the first 7 entries with the checkpoint of 12
ls = list(lines[:7]) + [lines[-1]]; out("t-short.jsonl", ls)
EOF
for t in t-*.jsonl; do
    rc=0
    "$IVL" --json -L "new-$t" import "$t" >out 2>err || rc=$?
    case $rc in 2 | 3) ;; *) fail "import $t into a new directory: exit $rc $(cat err)" ;; esac
    [ ! -e "new-$t/data.mdb" ] || fail "refused import of $t left a ledger"
    # into a replica holding the first 7 entries
    rc=0
    "$IVL" -L R5 import "$t" >out 2>err || rc=$?
    case $rc in 2 | 3) ;; *) fail "import $t into the replica: exit $rc $(cat err)" ;; esac
    assert_unchanged R5 "$st5"
done
# the independent verifier refuses each too
$IVLCHECK refuse export L/log.pub t-*.jsonl >/dev/null || fail "ivlcheck accepted an altered export"
# Altered leaves are verification failures (3), not usage errors.
assert_exit 3 "$IVL" -L R7 import t-leaf-first.jsonl
assert_exit 3 "$IVL" -L R7 import t-leaf-last.jsonl
assert_exit 3 "$IVL" -L R7 import t-leaf-trail.jsonl
assert_exit 3 "$IVL" -L R7 import t-no-checkpoint.jsonl
assert_exit 4 "$IVL" -L R7 import nonexistent.jsonl
assert_exit 2 "$IVL" -L R7 import
assert_exit 0 "$IVL" -L R verify
echo "14-export-import: ok"
