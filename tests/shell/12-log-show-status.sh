#!/bin/sh
# The command line itself (usage, --help on every command, unknown commands
# and flags, global options) and the read-only views: status, log, show.
. "$TESTS/shell/lib.sh"
export IVL_NOW=2026-03-01T09:00:00+08:00

# ---- no command: usage on stderr, exit 2
rc=0
"$IVL" >out 2>err || rc=$?
[ "$rc" = 2 ] || fail "ivl with no command: exit $rc"
[ ! -s out ] || fail "ivl with no command wrote to stdout"
grep -q '^usage: ivl' err || fail "ivl with no command: no usage on stderr"
assert_exit 0 "$IVL" --help
assert_grep '^usage: ivl' "$OUT"
assert_exit 0 "$IVL" -h
assert_exit 0 "$IVL" --version
assert_grep '^ivl [0-9a-z]' "$OUT"

# ---- every command listed by `ivl --help` has --help (exit 0, usage on
# stdout, no ledger needed) and refuses an unknown flag with exit 2.
"$IVL" --help | sed -n '/^Commands:/,/^$/p' | sed '1d;/^$/d' |
    awk '{ c = ""; for (i = 1; i <= NF && $i ~ /^[a-z]+$/; i++) c = c (c ? " " : "") $i; print c }' >commands
[ "$(wc -l <commands)" -ge 30 ] || fail "ivl --help lists only $(wc -l <commands) commands"
for c in keygen init "party add" "party list" budget\ open issue redeem verify "checkpoint verify" \
    checkpoint "proof inclusion" "proof consistency" "proof check" export import status log show; do
    grep -qx "$c" commands || fail "ivl --help does not list '$c'"
done
while read -r c; do
    # shellcheck disable=SC2086 # c is several words
    assert_exit 0 "$IVL" -L nowhere $c --help
    assert_grep "^usage: ivl $c" "$OUT"
    [ ! -s "$ERR" ] || fail "ivl $c --help wrote to stderr"
    assert_exit 0 "$IVL" -L nowhere $c -h
    # shellcheck disable=SC2086
    assert_exit 2 "$IVL" --json -L nowhere $c --no-such-flag
    assert_code usage
done <commands
[ ! -e nowhere ] || fail "a --help or a refused command created the ledger directory"

# ---- unknown commands and global options
assert_exit 2 "$IVL" frobnicate
assert_grep "frobnicate" "$ERR"
assert_exit 2 "$IVL" --json frobnicate
assert_code usage
assert_exit 2 "$IVL" party
assert_exit 2 "$IVL" party frobnicate
assert_exit 2 "$IVL" proof
assert_exit 2 "$IVL" --frobnicate status
assert_exit 2 "$IVL" -L
assert_exit 2 "$IVL" --ledger
# Global options come before the command.
assert_exit 2 "$IVL" status --json
assert_exit 2 env IVL_NOW=garbage "$IVL" --json status
assert_code bad_date

# ---- no ledger: exit 4, no_ledger
for c in status log checkpoint verify "party list" "proof inclusion 0"; do
    # shellcheck disable=SC2086
    assert_exit 4 "$IVL" --json -L nowhere $c
    assert_code no_ledger
done
[ ! -e nowhere ] || fail "a read command created the ledger directory"

# ---- a small ledger
make_ledger L
assert_exit 0 "$IVL" -L L party suspend "$U_FIN" --reason "reorganised" --key auth.key

# status (text and --json)
assert_exit 0 "$IVL" --json -L L status
[ "$(jget "$OUT" origin)" = test.example/ivl ] || fail "status origin"
[ "$(jget "$OUT" size)" = 6 ] || fail "status size $(jget "$OUT" size)"
jget "$OUT" root | grep -Eq '^[0-9a-f]{64}$' || fail "status root"
[ "$(jget "$OUT" parties)" = 5 ] || fail "status parties $(jget "$OUT" parties)"
[ "$(jget "$OUT" last_append)" = 2026-03-01T09:00:00+08:00 ] || fail "status last_append"
root=$(jget "$OUT" root)
assert_exit 0 "$IVL" -L L status
assert_grep '^origin  *test.example/ivl$' "$OUT"
assert_grep '^size  *6 entries$' "$OUT"
assert_grep "^root  *$root\$" "$OUT"
# The default ledger: $IVL_LEDGER, else ./ivl-data.
assert_exit 0 env IVL_LEDGER=L "$IVL" --json status
[ "$(jget "$OUT" root)" = "$root" ] || fail "IVL_LEDGER not used"
assert_exit 0 "$IVL" --json --ledger=L status
assert_exit 0 "$IVL" --json --ledger L status
assert_exit 4 "$IVL" status
cp -r L ivl-data
assert_exit 0 "$IVL" --json status
[ "$(jget "$OUT" root)" = "$root" ] || fail "./ivl-data not the default ledger"

# The root of `status` is the root of the signed checkpoint.
"$IVL" -L L checkpoint >cur.cp
[ "$($IVLCHECK checkpoint L/log.pub cur.cp)" = "6 $root" ] || fail "status root differs from the checkpoint"

# log (text): one line per entry, in order, with seq, time and type
assert_exit 0 "$IVL" -L L log
[ "$(wc -l <"$OUT")" = 6 ] || fail "log lists $(wc -l <"$OUT") lines"
awk '{print $1, $4}' "$OUT" >got
printf '0 genesis\n1 party\n2 party\n3 party\n4 party\n5 suspend\n' >want
cmp -s got want || fail "log order/types: $(cat got)"
assert_grep '2026-03-01 09:00:00' "$OUT"
assert_grep "$U_PROV" "$OUT"
# the id column is the last 8 digits of each id (ids are time-ordered, so
# these are the ones that differ), and they differ from line to line
awk '{print $5}' "$OUT" >short
"$IVL" --json -L L log >log.json
"$PY" - log.json >want <<'PY'
import json, sys
for e in json.load(open(sys.argv[1])):
    print(e["id"][-8:])
PY
cmp -s short want || fail "log id column: $(cat short) / $(cat want)"
[ "$(sort -u short | wc -l)" = 6 ] || fail "log shows the same short id twice: $(cat short)"
assert_exit 0 "$IVL" -L L log --from 2 --limit 2
awk '{print $1}' "$OUT" | tr '\n' ' ' | grep -qx '2 3 ' || fail "log --from 2 --limit 2: $(cat "$OUT")"
assert_exit 0 "$IVL" -L L log --from 6
[ ! -s "$OUT" ] || fail "log --from 6 on 6 entries printed something"
assert_exit 0 "$IVL" -L L log --limit 0
[ ! -s "$OUT" ] || fail "log --limit 0 printed something"
assert_exit 2 "$IVL" -L L log --from -1
assert_exit 2 "$IVL" -L L log --from x
assert_exit 2 "$IVL" -L L log --limit 1.5
assert_exit 2 "$IVL" -L L log --from
# log --json: entries with seq, type, id, times
assert_exit 0 "$IVL" --json -L L log
"$PY" - "$OUT" <<'EOF' || fail "log --json"
import json, re, sys
j = json.load(open(sys.argv[1]))
assert [e["seq"] for e in j] == list(range(6))
assert [e["type"] for e in j] == ["genesis"] + ["party"] * 4 + ["suspend"]
ids = [e["id"] for e in j]
assert len(set(ids)) == 6 and all(re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", i) for i in ids)
assert all(e["appended_at"] == "2026-03-01T09:00:00+08:00" for e in j)
assert j[0]["origin"] == "test.example/ivl"
assert all(e["signatures"][0]["signer"] == "11140521MB12345677" for e in j)
EOF
cp "$OUT" log.json

# show SEQ and show ID: the same entry, with its leaf hash
for s in 0 3 5; do
    assert_exit 0 "$IVL" --json -L L show $s
    [ "$(jget "$OUT" kind)" = entry ] && [ "$(jget "$OUT" seq)" = $s ] || fail "show $s"
    id=$(jget "$OUT" id)
    [ "$id" = "$(jget log.json $s.id)" ] || fail "show $s id differs from log"
    lh=$(jget "$OUT" leaf_hash)
    assert_exit 0 "$IVL" --json -L L show "$id"
    [ "$(jget "$OUT" seq)" = $s ] && [ "$(jget "$OUT" leaf_hash)" = "$lh" ] || fail "show $id"
    # The leaf hash is the one an inclusion proof proves.
    "$IVL" -L L proof inclusion $s >p.json
    [ "$(jget p.json leaf_hash)" = "$lh" ] || fail "show $s leaf_hash differs from the proof's"
done
assert_exit 0 "$IVL" -L L show 5
assert_grep '^type  *suspend' "$OUT"
assert_grep '^reason  *reorganised' "$OUT"
assert_exit 2 "$IVL" --json -L L show 6
assert_code not_found
assert_exit 2 "$IVL" -L L show 00000000-0000-4000-8000-000000000000
assert_exit 2 "$IVL" -L L show not-an-id
assert_exit 2 "$IVL" -L L show
assert_exit 2 "$IVL" -L L show 1 2

# IVL_NOW may not move the log back in time: exit 1, nothing appended.
st=$(ledger_state L)
assert_exit 1 env IVL_NOW=2026-02-28T09:00:00+08:00 "$IVL" --json -L L party suspend "$U_AUD" \
    --reason x --key auth.key
assert_code time_backwards
assert_unchanged L "$st"
# The same instant is fine, and is recorded as given.
assert_exit 0 env IVL_NOW=2026-03-01T01:00:00Z "$IVL" -L L party suspend "$U_AUD" --reason x --key auth.key
assert_exit 0 "$IVL" --json -L L show 6
[ "$(jget "$OUT" appended_at)" = 2026-03-01T09:00:00+08:00 ] || fail "appended_at $(jget "$OUT" appended_at)"
assert_exit 0 "$IVL" -L L verify
echo "12-log-show-status: ok"
