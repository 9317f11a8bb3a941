#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Batch registration and issuance from a spreadsheet's CSV export
# (`ivl party add --batch`, `ivl issue --budget B --batch`): all or nothing;
# every bad row reported with its physical line number; BOM, CRLF, quoted
# commas and quotes, Chinese names, multi-line quoted cells.
set -eu
. "$(dirname "$0")/rules-lib.sh"

genesis
BOM=$'\xef\xbb\xbf'
pubof() { cat "$W/$1.pub"; }
for n in a b c d e f g h; do key "$n"; done
UA=$(un 1) UB=$(un 2) UC=$(un 3) UD=$(un 4) UE=$(un 5) UF=$(un 6) UG=$(un 7) UH=$(un 8)

# has_lines FILE N...: stderr names each "line N" (and no other line).
has_lines() {
    local f=$1 n got want
    shift
    for n in "$@"; do
        grep -q "line $n:" "$f" || fail "stderr should report line $n: $(cat "$f")"
    done
    got=$(grep -o 'line [0-9]*:' "$f" | sort -u | tr -d ' :' | tr '\n' ' ')
    want=$(for n in "$@"; do echo "line$n"; done | sort -u | tr '\n' ' ')
    eq "$got" "$want" "reported lines"
}
not_registered() {
    local u
    for u in "$@"; do
        "$IVL" -L "$L" party show "$u" >/dev/null 2>&1 && fail "$u registered by a refused batch" || true
    done
}

note "party batch: a good file with BOM, CRLF, quoted commas, Chinese names"
{
    printf '%s' "$BOM"
    printf 'role,uscc,name,pub,related,group,categories\r\n'
    printf 'provider,%s,"太原理工大学,技术转移中心",%s,,,"rd,testing"\r\n' "$UA" "$(pubof a)"
    printf 'provider,%s,"Say ""hi"" Lab",%s,,,\r\n' "$UB" "$(pubof b)"
    printf 'sme,%s,沁水县煤层气科技有限公司,%s,"%s,%s",晋城集团,\r\n' "$UC" "$(pubof c)" "$UA" "$UB"
    printf 'sme,%s,山西某新材料有限公司,%s,,晋城集团,\r\n' "$UD" "$(pubof d)"
} >"$W/parties.csv"
s0=$(size)
out=$(ok ivl --json party add --batch "$W/parties.csv" --key "$W/auth.key")
eq "$(size)" "$((s0 + 4))" "four entries appended"
eq "$(printf '%s' "$out" | jf 3.type)" party "batch output"
eq "$(ivj party show "$UA" | jf name)" "太原理工大学,技术转移中心" "quoted comma"
eq "$(ivj party show "$UA" | jf categories)" '["rd","testing"]' "categories cell"
eq "$(ivj party show "$UB" | jf name)" 'Say "hi" Lab' "escaped quotes"
eq "$(ivj party show "$UC" | jf name)" "沁水县煤层气科技有限公司" "Chinese name"
eq "$(ivj party show "$UC" | jf related)" "[\"$UA\",\"$UB\"]" "related cell"
eq "$(ivj party show "$UC" | jf role)" sme "role"
eq "$(ivj party show "$UC" | jf key)" "$(pubof c)" "key from the pub cell"
# the group from the CSV counts for caps: C and D share one
budget G 10000 100 50 2026-12-31
issue G "$UC" 59 >/dev/null
refuse 1 over_cap issue --budget G --to "$UD" --amount 41.01 --key auth.key
# the related list from the CSV is enforced
V=$(issue G "$UD" 40)
VC=$(issue G "$UC" 1)
refuse_redeem 1 related_party "$VC" c "$UA" a r1 100 1 --category rd
redeem "$V" d "$UA" a r1 100 1 --category rd >/dev/null

note "party batch: a bad row in the middle appends nothing, names its line"
{
    printf 'role,uscc,name,pub\n'
    printf 'sme,%s,好公司,%s\n' "$UE" "$(pubof e)"
    printf 'sme,91140521MA00000,坏公司,%s\n' "$(pubof f)"
    printf 'sme,%s,另一个好公司,%s\n' "$UG" "$(pubof g)"
} >"$W/bad1.csv"
refuse 2 bad_csv party add --batch "$W/bad1.csv" --key auth.key
has_lines "$W/.err" 3
not_registered "$UE" "$UG"

note "party batch: every bad row reported (format errors)"
{
    printf 'role,uscc,name,pub,related,group,categories\n'
    printf 'boss,%s,x,%s,,,\n' "$UE" "$(pubof e)"             # 2 bad role
    printf 'sme,%s,ok,%s,,,\n' "$UF" "$(pubof f)"              # 3 ok
    printf 'sme,%s,x,not-a-key,,,\n' "$UG"                     # 4 bad pub
    printf 'provider,%s,x,%s,,,chemistry\n' "$UH" "$(pubof h)" # 5 bad category
    printf 'sme,%s,x,%s,"%s,123",,\n' "$UG" "$(pubof g)" "$UA" # 6 bad related
    printf 'sme,%s,,%s,,,\n' "$UG" "$(pubof g)"                # 7 empty name
} >"$W/bad2.csv"
refuse 2 bad_csv party add --batch "$W/bad2.csv" --key auth.key
has_lines "$W/.err" 2 4 5 6 7
grep -q '5 bad rows' "$W/.err" || fail "summary should count 5 bad rows: $(cat "$W/.err")"
not_registered "$UE" "$UF" "$UG" "$UH"

note "party batch: every bad row reported (rule errors), after a multi-line cell"
{
    printf 'role,uscc,name,pub,note\n'
    printf 'sme,%s,x,%s,"first line\nsecond line"\n' "$UE" "$(pubof e)" # lines 2-3
    printf 'sme,%s,x,%s,\n' "$UA" "$(pubof f)"                         # 4 already registered
    printf 'sme,%s,x,%s,\n' "$UF" "$(pubof a)"                         # 5 key in use
    printf 'sme,%s,x,%s,\n' "$UG" "$(pubof g)"                         # 6 ok
    printf 'sme,%s,x,%s,\n' "$UE" "$(pubof h)"                         # 7 same USCC as line 2
    printf 'sme,%s,x,%s,\n' "$UH" "$(pubof g)"                         # 8 same key as line 6
} >"$W/bad3.csv"
refuse 1 party_exists party add --batch "$W/bad3.csv" --key auth.key
has_lines "$W/.err" 4 5 7 8
not_registered "$UE" "$UF" "$UG" "$UH"
refuse 5 key_not_valid party add --batch "$W/bad3.csv" --key c.key

note "party batch: CSV structure errors"
printf 'role,uscc,name\nsme,%s,x\n' "$UE" >"$W/nopub.csv"
refuse 2 bad_csv party add --batch "$W/nopub.csv" --key auth.key
printf 'role,uscc,name,pub\n' >"$W/empty.csv"
refuse 2 bad_csv party add --batch "$W/empty.csv" --key auth.key
printf 'role,uscc,name,pub\nsme,%s,x\n' "$UE" >"$W/short.csv"
refuse 2 bad_csv party add --batch "$W/short.csv" --key auth.key
printf 'role,uscc,name,pub\nsme,%s,"unterminated,%s\n' "$UE" "$(pubof e)" >"$W/quote.csv"
refuse 2 bad_csv party add --batch "$W/quote.csv" --key auth.key
printf 'role,uscc,name,pub\nsme,%s,\xff\xfe,%s\n' "$UE" "$(pubof e)" >"$W/utf.csv"
refuse 2 bad_csv party add --batch "$W/utf.csv" --key auth.key
refuse 2 usage party add --batch "$W/parties.csv" --role sme --key auth.key

note "party batch: the remaining parties, in one go"
{
    printf '%s' "$BOM"
    printf 'UScc , Role ,NAME,pub\n' # header: any case, spaces trimmed, any order
    printf '%s,sme,"E, Ltd.",%s\n' "$UE" "$(pubof e)"
    printf '%s,sme,F,%s\n' "$UF" "$(pubof f)"
    printf '%s,sme,G,%s\n' "$UG" "$(pubof g)"
    printf '%s,sme,H,%s' "$UH" "$(pubof h)" # no final newline
} >"$W/rest.csv"
ok ivl party add --batch "$W/rest.csv" --key auth.key >/dev/null
eq "$(ivj party show "$UE" | jf name)" "E, Ltd." "name"
eq "$(ivj party show "$UH" | jf key)" "$(pubof h)" "last row without newline"

note "issue batch: a good file"
budget B 10000 1000 50 2026-12-31
{
    printf '%s' "$BOM"
    printf 'uscc,amount,until\r\n'
    printf '%s,"100.50",2026-06-30\r\n' "$UE"
    printf '%s,200,\r\n' "$UF"
    printf '"%s",300.05,2026-12-31\r\n' "$UG"
    printf '%s,0.01,\r\n' "$UE"
} >"$W/issue.csv"
s0=$(size)
out=$(ok ivl --json issue --budget B --batch "$W/issue.csv" --key "$W/auth.key")
eq "$(size)" "$((s0 + 4))" "four vouchers"
eq "$(bud B issued)" "600.56" "issued"
eq "$(bal "$UE")" "100.51" "E balance"
eq "$(bal "$UF")" "200.00" "F balance"
VE=$(printf '%s' "$out" | jf 0.id)
eq "$(vch "$VE" until)" "2026-06-30T23:59:59+08:00" "until from the file"
eq "$(vch "$(printf '%s' "$out" | jf 1.id)" until)" "2026-12-31T23:59:59+08:00" "empty until: budget end"
printf 'uscc,amount\n%s,1\n' "$UH" >"$W/nountil.csv"
ok ivl issue --budget B --batch "$W/nountil.csv" --key auth.key >/dev/null
eq "$(bal "$UH")" "1.00" "until column is optional"

note "issue batch: a bad row in the middle"
printf 'uscc,amount,until\n%s,10\n%s,ten\n%s,10\n' "$UE" "$UF" "$UG" | sed 's/^\([^,]*,[^,]*\)$/\1,/' >"$W/ibad1.csv"
s0=$(state)
refuse 2 bad_csv issue --budget B --batch "$W/ibad1.csv" --key auth.key
has_lines "$W/.err" 3
eq "$(bal "$UE")" "100.51" "nothing issued"

note "issue batch: every bad row reported (format errors)"
{
    printf 'uscc,amount,until\n'
    printf '91140521MA0000001,10,\n' # 2 malformed USCC
    printf '%s,10,\n' "$UE"          # 3 ok
    printf '%s,-1,\n' "$UF"          # 4 negative
    printf '%s,1.234,\n' "$UF"       # 5 three decimals
    printf '%s,10,2026-13-01\n' "$UG" # 6 bad date
    printf '%s,1000000000.01,\n' "$UG" # 7 too large
} >"$W/ibad2.csv"
refuse 2 bad_csv issue --budget B --batch "$W/ibad2.csv" --key auth.key
has_lines "$W/.err" 2 4 5 6 7

note "issue batch: every bad row reported (rule errors)"
{
    printf 'uscc,amount,until\n'
    printf '%s,500,\n' "$UE" # 2 ok (E at 600.51)
    printf '%s,399.49,\n' "$UE" # 3 ok: E exactly at the cap
    printf '%s,0.01,\n' "$UE"   # 4 over the cap, counting rows 2-3
    printf '%s,10,\n' "$(un 99)" # 5 unknown party
    printf '%s,10,\n' "$UA"      # 6 a provider
    printf '%s,0,\n' "$UF"       # 7 zero
    printf '%s,10,2027-01-01\n' "$UF" # 8 outlives the budget
    printf '%s,10,\n' "$UF"      # 9 ok
} >"$W/ibad3.csv"
refuse 1 over_cap issue --budget B --batch "$W/ibad3.csv" --key auth.key
has_lines "$W/.err" 4 5 6 7 8
eq "$(bal "$UE")" "100.51" "nothing issued"
refuse 5 key_not_valid issue --budget B --batch "$W/ibad3.csv" --key e.key
refuse 2 usage issue --budget B --batch "$W/issue.csv" --to "$UE" --key auth.key
printf 'amount,until\n10,\n' >"$W/nouscc.csv"
refuse 2 bad_csv issue --budget B --batch "$W/nouscc.csv" --key auth.key

note "issue batch: the whole budget total, to the fen"
budget T 1000 1000 50 2026-12-31
printf 'uscc,amount\n%s,400\n%s,400\n%s,200.01\n' "$UE" "$UF" "$UG" >"$W/tot.csv"
refuse 1 over_budget issue --budget T --batch "$W/tot.csv" --key auth.key
has_lines "$W/.err" 4
printf 'uscc,amount\n%s,400\n%s,400\n%s,200\n' "$UE" "$UF" "$UG" >"$W/tot.csv"
ok ivl issue --budget T --batch "$W/tot.csv" --key auth.key >/dev/null
eq "$(bud T available)" "0.00" "budget exhausted exactly"

note "issue batch: 100 rows, signed in chunks while they are appended"
# More rows than one signing chunk (32): a refused row far into the file
# stops the signing threads and appends nothing; a good file appends every
# row, each signed (verify_ok below checks every signature).
budget W 100000 1000 50 2026-12-31
hundred() { # hundred BADLINE BADAMOUNT: 100 rows of 1.00 to E, F, G, H in turn
    local i u
    printf 'uscc,amount\n'
    for i in $(seq 2 101); do
        case $((i % 4)) in 0) u=$UE ;; 1) u=$UF ;; 2) u=$UG ;; 3) u=$UH ;; esac
        if [ "$i" = "$1" ]; then printf '%s,%s\n' "$u" "$2"; else printf '%s,1.00\n' "$u"; fi
    done
}
s0=$(state)
hundred 71 x >"$W/h1.csv"
refuse 2 bad_csv issue --budget W --batch "$W/h1.csv" --key auth.key
has_lines "$W/.err" 71
eq "$(state)" "$s0" "a bad row at line 71 appends nothing"
hundred 92 1000 >"$W/h2.csv" # E's 23rd row: 22.00 + 1000 > the cap of 1000
refuse 1 over_cap issue --budget W --batch "$W/h2.csv" --key auth.key
has_lines "$W/.err" 92
eq "$(state)" "$s0" "a row over the cap at line 92 appends nothing"
hundred 0 0 >"$W/h3.csv"
out=$(ok ivl --json issue --budget W --batch "$W/h3.csv" --key auth.key)
eq "$(size)" "$(($(echo "$s0" | cut -d' ' -f1) + 100))" "100 vouchers"
eq "$(bud W issued)" "100.00" "issued from W"
eq "$(printf '%s' "$out" | grep -o '"id": *"[^"]*"' | sort -u | wc -l | tr -d ' ')" 100 "100 distinct ids"

verify_ok

note "issue batch: 300 rows, signed by ivl's own signer (from 256 rows on)"
# Every signature must be the one libsodium would make: a verification
# that leaves every check to libsodium (no key tables) accepts them all. A
# refused 300-row batch still appends nothing.
budget V 100000 1000 50 2026-12-31
three() { # three BADLINE: 300 rows of 0.10 to E, F, G, H in turn
    local i u
    printf 'uscc,amount\n'
    for i in $(seq 2 301); do
        case $((i % 4)) in 0) u=$UE ;; 1) u=$UF ;; 2) u=$UG ;; 3) u=$UH ;; esac
        if [ "$i" = "$1" ]; then printf '%s,x\n' "$u"; else printf '%s,0.10\n' "$u"; fi
    done
}
s0=$(state)
three 290 >"$W/v1.csv"
refuse 2 bad_csv issue --budget V --batch "$W/v1.csv" --key auth.key
has_lines "$W/.err" 290
eq "$(state)" "$s0" "a bad row at line 290 appends nothing"
three 0 >"$W/v2.csv"
ok ivl issue --budget V --batch "$W/v2.csv" --key auth.key >/dev/null
eq "$(size)" "$(($(echo "$s0" | cut -d' ' -f1) + 300))" "300 vouchers"
eq "$(bud V issued)" "30.00" "issued from V"
o=$(IVL_NO_KEY_TABLES=1 ok ivl --json verify)
eq "$(printf '%s' "$o" | jf ok)" true "ivl verify with libsodium alone"
IVL_NO_FAST_SIGN=1 ok ivl issue --budget V --batch "$W/v2.csv" --key auth.key >/dev/null
eq "$(bud V issued)" "60.00" "the same batch signed by libsodium"
verify_ok

note "issue batch: an unknown budget is one rule error, as for a single issue"
# (BUG at the time of writing: rows without an until are reported as bad CSV
# rows, "line N: no budget NOPE", exit 2 bad_csv; `ivl issue --budget NOPE
# --to U --amount A` says unknown_budget, exit 1.)
refuse 1 unknown_budget issue --budget NOPE --to "$UE" --amount 1 --key auth.key
refuse 1 unknown_budget issue --budget NOPE --batch "$W/issue.csv" --key auth.key
echo "25-batch-csv: ok"
