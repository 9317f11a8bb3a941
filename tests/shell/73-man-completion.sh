#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# The manual page, the bash completion, `make install`, the short usage of
# `ivl` alone, and the progress line of long work:
# - docs/ivl.1 renders without a warning (groff -ww; mandoc -Tlint when
#   installed) and has an entry for every command of `ivl --help`, naming each
#   of its flags;
# - docs/ivl.bash-completion, sourced in bash, knows every command and
#   exactly the flags of each (--receipt exactly where ivl accepts it), and
#   completes words as people type them;
# - `make install DESTDIR=… PREFIX=/usr` installs the binary, the man page
#   and the completion where man and bash-completion look;
# - progress on stderr appears on a terminal (a pty from script(1)), is
#   erased when done, and never appears in a pipe or with --json.
. "$TESTS/shell/lib.sh"

ROOT=$(cd "$TESTS/.." && pwd)
MAN=$ROOT/docs/ivl.1
COMP=$ROOT/docs/ivl.bash-completion
export LC_ALL=C # the English help texts are parsed below
[ -f "$MAN" ] || fail "no $MAN"
[ -f "$COMP" ] || fail "no $COMP"

# ---- ivl alone: a short usage on stderr, exit 2
rc=0
"$IVL" >"$OUT" 2>"$ERR" || rc=$?
[ $rc = 2 ] || fail "ivl alone exits $rc, expected 2"
[ ! -s "$OUT" ] || fail "ivl alone wrote to stdout"
assert_grep '^usage: ivl ' "$ERR"
assert_grep "ivl --help" "$ERR"
[ "$(wc -l <"$ERR")" -le 8 ] || fail "ivl alone: usage is not short ($(wc -l <"$ERR") lines)"
assert_grep ' party ' "$ERR"

# ---- the commands: "party add" from "  party add --role R …"
# A command is the first word, and the second when it is a lowercase word.
cmdname() { awk '{ n = $1; if ($2 ~ /^[a-z]+$/) n = n " " $2; print n }'; }
"$IVL" --help >help.txt
grep '^  [a-z]' help.txt | cmdname >commands.txt
[ "$(wc -l <commands.txt)" -ge 30 ] || fail "ivl --help lists only $(wc -l <commands.txt) commands"
grep -qx 'party add' commands.txt || fail "command list parse: $(tr '\n' ',' <commands.txt)"
grep -qx 'checkpoint' commands.txt && grep -qx 'checkpoint verify' commands.txt ||
    fail "command list parse: $(tr '\n' ',' <commands.txt)"

# flags_of CMD: the flags `ivl CMD --help` names (usage and description).
flags_of() { $IVL $1 --help | grep -o -- '--[a-z][a-z-]*' | sort -u; }
# usage_flags_of CMD: the flags of its usage lines only.
usage_flags_of() { $IVL $1 --help | sed '/^$/,$d' | grep -o -- '--[a-z][a-z-]*' | sort -u; }

# ---- the man page renders cleanly
if command -v groff >/dev/null; then
    groff -man -Tutf8 -ww "$MAN" >man.txt 2>groff.err || fail "groff failed: $(cat groff.err)"
    [ ! -s groff.err ] || fail "groff warns: $(cat groff.err)"
    [ "$(wc -l <man.txt)" -gt 300 ] || fail "the rendered man page is short"
else
    echo "groff not installed: rendering not checked"
fi
if command -v mandoc >/dev/null; then
    mandoc -Tlint -Wstyle "$MAN" >mandoc.err 2>&1 || fail "mandoc -Tlint: $(cat mandoc.err)"
fi
for s in NAME SYNOPSIS DESCRIPTION "GLOBAL OPTIONS" COMMANDS ENVIRONMENT FILES "EXIT STATUS" \
    EXAMPLES "SEE ALSO"; do
    grep -q "^\.SH \"*$s\"*\$" "$MAN" || fail "the man page has no $s section"
done
for v in IVL_LEDGER IVL_NOW IVL_PASSPHRASE IVL_PASSPHRASE_FILE TMPDIR LANG; do
    sed -n '/^\.SH ENVIRONMENT/,/^\.SH FILES/p' "$MAN" | grep -q "^\.B.* $v\b" ||
        fail "ENVIRONMENT does not describe $v"
done
for n in 0 1 2 3 4 5; do
    sed -n '/^\.SH EXIT STATUS/,/^\.SH EXAMPLES/p' "$MAN" | grep -qx "\.B $n" ||
        fail "EXIT STATUS does not describe $n"
done

# Every command is an entry (a .TP/.TQ tag "ivl CMD …") naming its flags.
awk 'prev ~ /^\.T[PQ]/ { print } { prev = $0 }' "$MAN" |
    sed -e 's/^\.[A-Z]* //' -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/"//g' |
    awk '$1 == "ivl" { $1 = ""; print }' >man-tags.txt
cmdname <man-tags.txt | sort -u >man-commands.txt
sed 's/\\-/-/g' "$MAN" >man-plain.txt
while read -r c; do
    grep -qxF "$c" man-commands.txt || fail "the man page has no entry for 'ivl $c'"
    for f in $(flags_of "$c"); do
        grep -q -- "$f\b" man-plain.txt || fail "the man page does not name $f of 'ivl $c'"
    done
done <commands.txt
while read -r c; do
    grep -qxF "$c" commands.txt || fail "the man page describes 'ivl $c', which ivl does not have"
done <man-commands.txt

# ---- the completion
command -v bash >/dev/null || fail "bash is needed"
cat >comp.bash <<EOF
. "$COMP"
# comp WORD…: complete the last word (COMP_WORDS as bash sets them).
comp() {
    COMP_WORDS=("\$@")
    COMP_CWORD=\$((\$# - 1))
    COMP_LINE="\$*"
    COMP_POINT=\${#COMP_LINE}
    COMPREPLY=()
    _ivl "$IVL" "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD - 1]}"
    echo "\${COMPREPLY[*]}"
}
EOF
COMPSH=$PWD/comp.bash
comp() { bash -c '. "$0"; comp "$@"' "$COMPSH" "$@"; }
expect() { # expect "WANT" WORD…
    local want=$1 got
    shift
    got=$(comp "$@")
    [ "$got" = "$want" ] || fail "completing '$*': got '$got', expected '$want'"
}
bash -c ". '$COMP'; complete -p ivl" | grep -q '_ivl' || fail "the completion does not register for ivl"

expect "party" ivl par
expect "add" ivl party a
expect "--budget --batch" ivl issue --b
expect "proof" ivl pro
expect "consistency check" ivl proof c
expect "verify" ivl checkpoint v
expect "open list show" ivl -L somewhere --json budget ""
expect "--json" ivl --js
expect "sme" ivl party add --role s
expect "provider" ivl party list --role p
expect "testing transfer" ivl redeem --category t
expect "rd,testing rd,transfer" ivl budget open B --categories rd,t
expect "html" ivl report --format h
expect "--contract --contract-amount" ivl redeem --voucher V --cont
expect "--receipt" ivl pay C --rec
expect "" ivl status --rec

# Files after --key/--pub/--batch/--out/--contract/--invoice, directories after -L.
mkdir -p files/dir.d
cd files
touch bureau.key bureau.pub list.csv contract.pdf invoice.pdf
expect "bureau.key" ivl approve C --key bu
expect "bureau.pub" ivl party rekey U --pub bu
expect "bureau.key" ivl redeem --key = bu
expect "list.csv" ivl issue --budget B --batch l
expect "contract.pdf" ivl redeem --contract co
expect "invoice.pdf" ivl claim --invoice inv
expect "contract.pdf" ivl export --out con
expect "dir.d" ivl -L di
expect "dir.d" ivl --ledger di
cd ..

# Every command, word by word, with exactly its flags.
while read -r c; do
    set -- $c
    got=$(comp ivl "${1:0:3}")
    [[ " $got " == *" $1 "* ]] || fail "'ivl ${1:0:3}' does not complete to $1 (got '$got')"
    if [ $# -eq 2 ]; then
        got=$(comp ivl "$1" "")
        [[ " $got " == *" $2 "* ]] || fail "'ivl $1 ' does not offer $2 (got '$got')"
    fi
    comp ivl $c -- | tr ' ' '\n' | grep . | sort -u >comp-flags.txt
    grep -qx -- --help comp-flags.txt || fail "'ivl $c --' does not offer --help"
    for f in $(usage_flags_of "$c"); do
        grep -qx -- "$f" comp-flags.txt || fail "'ivl $c --' does not offer $f"
    done
    flags_of "$c" >help-flags.txt
    for f in $(grep -vx -e --help -e --receipt comp-flags.txt); do
        grep -qx -- "$f" help-flags.txt || fail "'ivl $c --' offers $f, which 'ivl $c --help' does not name"
    done
    # --receipt is offered exactly where ivl accepts it.
    rc=0
    $IVL $c --receipt r.json --help >/dev/null 2>&1 || rc=$?
    if grep -qx -- --receipt comp-flags.txt; then
        [ $rc = 0 ] || fail "'ivl $c' refuses the --receipt the completion offers"
    else
        [ $rc = 2 ] || fail "'ivl $c' accepts --receipt, which the completion does not offer"
    fi
done <commands.txt
# …and no command ivl does not have.
for w in $(comp ivl ""); do
    grep -q "^$w\( \|\$\)" commands.txt || fail "the completion offers '$w', which is no command"
done

# Values read from the ledger: budget ids and the USCCs of parties.
export IVL_NOW=2026-01-01T09:00:00+08:00
make_ledger L
export IVL_NOW=2026-02-01T09:00:00+08:00
assert_exit 0 "$IVL" -L L budget open B2026 --total 100000 --cap 100000 --ratio 50 \
    --until 2026-12-31 --key auth.key
expect "B2026" ivl -L L issue --budget ""
expect "$U_SME" ivl -L L issue --budget B2026 --to 9
expect "$U_PROV" ivl -L L redeem --provider ""
expect "$U_SME" ivl -L L balance ""

# ---- progress: only on a terminal, erased when done, never piped or with --json
# More than 4096 entries make work long enough to report (CLI_PROGRESS_MIN).
{
    echo "uscc,amount,until"
    for i in $(seq 4100); do echo "$U_SME,1,"; done
} >vouchers.csv
export IVL_LEDGER=L
if command -v script >/dev/null; then
    script -qc "$IVL issue --budget B2026 --batch vouchers.csv --key auth.key" /dev/null \
        </dev/null >tty-issue.txt
    [ "$(grep -c "[0-9a-f-]\{36\}.$" tty-issue.txt)" = 4100 ] || fail "the batch did not print 4100 ids"
    tr '\r' '\n' <tty-issue.txt >tty-issue.lines
    # (the rows are signed on the other cores while they are appended)
    assert_grep '^ivl: appending 4096/4100 (99%)$' tty-issue.lines
    size=$(ledger_size L)
    [ "$size" = 4106 ] || fail "ledger size $size after the batch, expected 4106"

    script -qc "$IVL verify" /dev/null </dev/null >tty-verify.txt
    tr '\r' '\n' <tty-verify.txt >tty-verify.lines
    assert_grep '^ivl: verifying 4096/4106 (99%)$' tty-verify.lines
    assert_grep '^ledger verified: 4106 entries' tty-verify.lines
    # Erased: the last progress line is overwritten with blanks before the result.
    grep -q $'\r *\rledger verified' tty-verify.txt || fail "the progress line is not erased: $(od -c tty-verify.txt | head)"

    script -qc "$IVL --json verify" /dev/null </dev/null >tty-json.txt
    ! grep -q 'verifying' tty-json.txt || fail "progress shown with --json"
    grep -q '"ok": true' tty-json.txt || fail "verify --json on a terminal: $(head -c 300 tty-json.txt)"

    "$IVL" export --out exp.jsonl >/dev/null
    script -qc "$IVL -L replica import exp.jsonl" /dev/null </dev/null >tty-import.txt
    tr '\r' '\n' <tty-import.txt | grep -q '^ivl: importing 4096/4106 (99%)$' ||
        fail "no import progress: $(head -c 300 tty-import.txt)"
else
    echo "script(1) not installed: progress on a terminal not checked"
    "$IVL" issue --budget B2026 --batch vouchers.csv --key auth.key >/dev/null
fi
# Not a terminal: nothing on stderr but errors.
assert_exit 0 "$IVL" verify
[ ! -s "$ERR" ] || fail "verify wrote to a non-terminal stderr: $(head -c 300 "$ERR")"
assert_exit 0 "$IVL" issue --budget B2026 --batch vouchers.csv --key auth.key
[ ! -s "$ERR" ] || fail "a batch wrote to a non-terminal stderr: $(head -c 300 "$ERR")"
unset IVL_LEDGER

# ---- make install: the binary, the man page, the completion
# A make run from this test must not inherit the outer make's variables
# (make asan would otherwise copy its build into ./ivl), and must not rebuild
# an ./ivl that is there.
unset MAKEFLAGS MFLAGS MAKELEVEL
keep=
[ -x "$ROOT/ivl" ] && keep="-o ivl"
make -s -C "$ROOT" $keep install DESTDIR="$PWD/dest" PREFIX=/usr >make.out 2>&1 ||
    fail "make install failed: $(cat make.out)"
[ -x dest/usr/bin/ivl ] || fail "make install did not install dest/usr/bin/ivl"
dest/usr/bin/ivl --version | grep -q '^ivl ' || fail "the installed ivl does not run"
[ -f dest/usr/share/man/man1/ivl.1 ] || fail "make install did not install the man page"
[ -f dest/usr/share/bash-completion/completions/ivl ] || fail "make install did not install the completion"
cmp -s "$COMP" dest/usr/share/bash-completion/completions/ivl || fail "the installed completion differs"
version=$(dest/usr/bin/ivl --version | cut -d' ' -f2)
grep -q "^\.TH IVL 1 .*\"ivl $version\"" dest/usr/share/man/man1/ivl.1 ||
    fail "the installed man page does not carry version $version: $(grep '^\.TH' dest/usr/share/man/man1/ivl.1)"
[ "$(file_mode dest/usr/share/man/man1/ivl.1)" = 644 ] || fail "the man page is not mode 644"
if command -v man >/dev/null; then
    MANPATH=$PWD/dest/usr/share/man man -w ivl 2>/dev/null | grep -q "dest/usr/share/man/man1/ivl.1" ||
        fail "man does not find the installed page"
fi
echo "ok"
