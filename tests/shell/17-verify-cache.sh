#!/bin/sh
# The auditor's verification cache: a full verification keeps the replayed
# state; `verify --from` replays only the entries after it and still compares
# every table; a damaged cache costs a replay from entry 0, never a wrong
# verdict; tampering found from the cache is still found; a history rewritten
# under the same log key is a fork; --cache DIR and --no-cache do what they say.
. "$TESTS/shell/lib.sh"
export IVL_NOW=2026-03-01T09:00:00+08:00
CACHE="$XDG_CACHE_HOME/ivl"

make_ledger L
"$IVL" -L L budget open B --total 100000000 --cap 100000000 --ratio 50 --until 2026-12-31 \
    --key auth.key >/dev/null || fail "budget"
batch() { # FILE N AMOUNT_CENTS: N vouchers for $U_SME
    {
        echo "uscc,amount,until"
        i=0
        while [ "$i" -lt "$2" ]; do echo "$U_SME,$3.$((i % 90 + 10)),"; i=$((i + 1)); done
    } >"$1"
}
batch b1.csv 200 1
"$IVL" -L L issue --budget B --batch b1.csv --key auth.key >/dev/null || fail "200 vouchers"

echo "-- a full verification keeps the replayed state"
[ ! -e "$CACHE" ] || fail "a cache exists before any verification"
"$IVL" --json -L L verify >full.json || fail "full verification"
size=$(ledger_size L)
[ "$(jget full.json replayed)" = "$size" ] || fail "the full verification did not replay all $size entries"
[ "$(jget full.json cache.replayed_from)" = 0 ] || fail "the full verification started from a cache"
dir=$(jget full.json cache.dir)
case $dir in "$CACHE"/*) ;; *) fail "the cache is not under \$XDG_CACHE_HOME/ivl: $dir" ;; esac
[ -f "$dir/data.mdb" ] && [ -f "$dir/head" ] || fail "no state or head in $dir"
[ "$(file_mode "$dir/head")" = 600 ] && [ "$(file_mode "$dir/data.mdb")" = 600 ] || fail "cache files not private"
grep -q "^ivl-verified $size $(ledger_root L)\$" "$dir/head" || fail "head file: $(cat "$dir/head")"
[ ! -e "$dir/head.new" ] || fail "head.new left behind"

echo "-- --from replays only the new entries, onto the kept state"
"$IVL" -L L checkpoint >cp1
batch b2.csv 50 2
"$IVL" -L L issue --budget B --batch b2.csv --key auth.key >/dev/null || fail "50 vouchers"
"$IVL" --json -L L verify --from cp1 >inc.json || fail "incremental verification"
[ "$(jget inc.json replayed)" = 50 ] || fail "replayed $(jget inc.json replayed) entries, not 50"
[ "$(jget inc.json cache.replayed_from)" = "$size" ] || fail "did not start from the kept state at $size"
[ "$(jget inc.json signatures)" = 50 ] || fail "checked $(jget inc.json signatures) signatures, not 50"
[ "$(jget inc.json root)" = "$(ledger_root L)" ] || fail "incremental root differs from the ledger's"
[ "$(jget inc.json entries)" = "$(ledger_size L)" ] || fail "entries should count the whole log"
"$IVL" --json -L L verify --no-cache >nc.json || fail "--no-cache"
[ "$(jget nc.json root)" = "$(jget inc.json root)" ] || fail "cached and uncached verdicts differ"
[ "$(jget nc.json cache)" = null ] || fail "--no-cache used a cache"
"$IVL" -L L verify --from cp1 >inc.txt || fail "text output"
assert_grep "0 entries replayed onto the state verified here at size $(ledger_size L)" inc.txt

echo "-- tampering before the kept state is still found (every table is compared)"
if command -v mdb_dump >/dev/null && command -v mdb_load >/dev/null; then
    "$IVL" -L L checkpoint >cp2
    cp -a L T
    "$PY" "$LMDB_EDIT" T budgets 0 -1 || fail "change a budget"
    cp "$dir/head" head.before # T is L's copy: the same log key, the same cache
    assert_exit 3 "$IVL" --json -L T verify --from cp2
    assert_code tampered
    grep -q "budgets" "$ERR" || fail "the altered table is not named: $(cat "$ERR")"
    cmp -s head.before "$dir/head" || fail "a failed verification replaced the head file"
    [ ! -e "$dir/head.new" ] || fail "a failed verification left head.new"
    rm -rf T
else
    echo "SKIP: lmdb-utils not installed"
fi

echo "-- dropping the maps' pages at every check, and comparing the tables read from the files, changes no verdict"
if command -v mdb_dump >/dev/null && command -v mdb_load >/dev/null; then
    IVL_VERIFY_RESIDENT_MIB=0 "$IVL" --json -L L verify --no-cache >drop.json ||
        fail "verify dropping the pages at every check"
    [ "$(jget drop.json root)" = "$(jget nc.json root)" ] &&
        [ "$(jget drop.json entries)" = "$(ledger_size L)" ] || fail "a different verdict: $(cat drop.json)"
    cp -a L T
    "$PY" "$LMDB_EDIT" T vouchers 100 -1 || fail "change a voucher"
    assert_exit 3 env IVL_VERIFY_RESIDENT_MIB=0 "$IVL" --json -L T verify --no-cache
    assert_code tampered
    grep -q "vouchers" "$ERR" || fail "the altered table is not named: $(cat "$ERR")"
    rm -rf T
fi

echo "-- a damaged cache: the verdict comes from a replay from entry 0"
"$IVL" --json -L L verify >/dev/null || fail "rebuild the cache"
"$IVL" -L L checkpoint >cp3
# (a) the state file is garbage
head -c 65536 /dev/urandom >"$dir/data.mdb"
"$IVL" --json -L L verify --from cp3 >d1.json || fail "garbage cache: $(cat d1.json)"
[ "$(jget d1.json cache.replayed_from)" = 0 ] || fail "a garbage cache was used"
[ "$(jget d1.json replayed)" = "$(ledger_size L)" ] || fail "not replayed from entry 0"
# (b) a state record of the cache altered, so that it disagrees with the ledger
if command -v mdb_dump >/dev/null && command -v mdb_load >/dev/null; then
    "$PY" "$LMDB_EDIT" "$dir" budgets 0 -1 || fail "change the cached budget"
    rm -f "$dir/lock.mdb"
    "$IVL" --json -L L verify --from cp3 >d2.json || fail "altered cache: $(cat d2.json)"
    [ "$(jget d2.json cache.rebuilt)" = true ] || fail "an altered cache was not rebuilt"
    [ "$(jget d2.json replayed)" = "$(ledger_size L)" ] || fail "altered cache: not replayed from 0"
    "$IVL" --json -L L verify --from cp3 >d3.json || fail "after the rebuild"
    [ "$(jget d3.json replayed)" = 0 ] || fail "the rebuilt cache is not used"
fi
# (c) the head file is garbage: no cache use, and no false fork
echo "ivl-verified x" >"$dir/head"
"$IVL" --json -L L verify --from cp3 >d4.json || fail "garbage head file"

echo "-- --from before the signatures the cache checked: replay from entry 0"
"$IVL" --json -L L verify --from cp3 >/dev/null || fail "cache from cp3"
"$IVL" --json -L L verify --from cp1 >early.json || fail "--from an earlier checkpoint"
[ "$(jget early.json cache.replayed_from)" = 0 ] || fail "the cache skipped signatures between cp1 and cp3"

echo "-- a replica behind the verified state is accepted, and leaves the cache alone"
cp -a L Behind
batch b3.csv 20 3
"$IVL" -L L issue --budget B --batch b3.csv --key auth.key >/dev/null || fail "20 vouchers"
"$IVL" --json -L L verify >/dev/null || fail "verify L"
"$IVL" --json -L Behind verify >behind.json || fail "a replica behind: $(cat behind.json)"
[ "$(jget behind.json cache)" = null ] || fail "the shorter replica took over the cache"
"$IVL" --json -L L verify --from cp3 >after.json || fail "L after the replica"
[ "$(jget after.json replayed)" = 0 ] || fail "the cache of L was lost"

echo "-- a history rewritten under the same log key is a fork"
"$IVL" -L Behind issue --budget B --to "$U_SME" --amount 7 --key auth.key >/dev/null || fail "diverge"
assert_exit 3 "$IVL" --json -L Behind verify
assert_code fork
grep -q "rewritten since it was last verified here" "$ERR" || fail "not named: $(cat "$ERR")"
"$IVL" --json -L Behind verify --no-cache >/dev/null || fail "alone, the other history verifies"
"$IVL" -L L verify >/dev/null || fail "L is still the history verified here"

echo "-- once the state is gone, a shorter rewritten history is not accepted either"
# Fork2: Behind's history (which diverged from L above), made longer than L
cp -a Behind Fork2
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24; do
    "$IVL" -L Fork2 issue --budget B --to "$U_SME" --amount 3 --key auth.key >/dev/null || fail "Fork2"
done
"$IVL" -L L verify >/dev/null || fail "L before Fork2"
cp "$dir/head" head.before
assert_exit 3 "$IVL" --json -L Fork2 verify # rewritten at L's size: the state is dropped
assert_code fork
cmp -s head.before "$dir/head" || fail "the refused history replaced the head file: $(cat "$dir/head")"
[ ! -e "$dir/head.new" ] || fail "the refused history left head.new"
assert_exit 3 "$IVL" --json -L Behind verify # shorter, and no tree left to show it is a prefix
assert_code fork
assert_grep "fewer than the" "$ERR"
"$IVL" -L L verify >/dev/null || fail "L is still the history verified here"
"$IVL" --json -L Behind verify >/dev/null 2>&1 && fail "Behind diverged from L: it must not verify against L's head"

echo "-- another verification of the same log holding the cache: wait, then check"
if command -v flock >/dev/null; then
    "$IVL" -L L verify >/dev/null || fail "L"
    flock "$dir/lock" sleep 1 &
    sleep 0.2
    assert_exit 3 "$IVL" --json -L Fork2 verify
    assert_code fork
    wait
fi

echo "-- a state replayed by another build of ivl is not used"
if command -v mdb_dump >/dev/null && command -v mdb_load >/dev/null; then
    "$IVL" -L L verify >/dev/null || fail "L"
    "$IVL" -L L checkpoint >cp4
    "$PY" "$LMDB_EDIT" "$dir" verified 0 -1 || fail "change the build id"  # its last byte
    rm -f "$dir/lock.mdb"
    "$IVL" --json -L L verify --from cp4 >b.json || fail "another build's cache"
    [ "$(jget b.json cache.replayed_from)" = 0 ] || fail "another build's replayed state was used"
fi

echo "-- a ledger that does not open: no stray figures in the JSON"
assert_exit 4 "$IVL" --json -L nowhere verify
"$IVL" --json -L nowhere verify >nw.json 2>/dev/null || true
[ "$(jget nw.json replayed)" = 0 ] || fail "replayed: $(jget nw.json replayed)"

echo "-- --cache DIR, and bad flags"
"$IVL" --json -L L verify --cache mine >mine.json || fail "--cache mine"
case $(jget mine.json cache.dir) in mine/*) ;; *) fail "--cache ignored: $(jget mine.json cache.dir)" ;; esac
assert_exit 2 "$IVL" -L L verify --cache mine --no-cache
assert_exit 2 "$IVL" -L L verify --cache ""
# a cache that cannot be made: a temporary replay, the same verdict
: >notadir
"$IVL" --json -L L verify --cache notadir/x >nd.json || fail "unusable cache dir"
[ "$(jget nd.json cache)" = null ] || fail "reported a cache that could not be made"
echo "17-verify-cache: ok"
