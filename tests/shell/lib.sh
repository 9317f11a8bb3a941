# lib.sh - helpers shared by the whole-program tests (POSIX sh; source it:
#   . "$TESTS/shell/lib.sh"
# ). run-shell.sh runs each script in a fresh temporary directory with
# IVL=<binary>, TESTS=<tests dir>, SHARED=<shared dir>.
#
#   fail MSG…                 print "FAIL: MSG" and exit 1
#   assert_exit CODE CMD…     run CMD; its exit status must be CODE. stdout and
#                             stderr are kept in $OUT and $ERR. A status of 128+
#                             (killed by a signal: a crash) always fails. When
#                             CMD is "$IVL …" (or "env VAR=… $IVL …", "setsid -w
#                             $IVL …"; use env, not VAR=… assert_exit, to set
#                             variables for one command) and CODE is not 0, stderr must be
#                             exactly one line: "ivl: …", or with --json the
#                             object {"error":{"code":…,"message":…}}.
#   assert_code JSONCODE      the last assert_exit ran with --json and its error
#                             code (stderr) is JSONCODE
#   assert_grep PATTERN FILE  grep -q, or fail showing the file
#   jget FILE KEY[.KEY|.N…]   print one value of a JSON document (strings raw,
#                             others as JSON); exit 1 if absent
#   ledger_size DIR · ledger_root DIR · ledger_state DIR ("SIZE ROOT")
#                             from `ivl --json -L DIR status`
#   assert_unchanged DIR STATE
#                             ledger_state DIR must still be STATE (after a
#                             rejected command: nothing appended)
#   uscc_of PREFIX17          print PREFIX17 followed by its GB 32100 check char
#   file_mode FILE            octal permission bits (e.g. 600)
#   make_keys                 unencrypted keys auth, sme, prov, fin, aud (.key/.pub)
#                             in the current directory (made once)
#   make_ledger DIR [ORIGIN]  make_keys, then `ivl init` a ledger in DIR
#                             (authority $U_AUTH) and register $U_SME (sme),
#                             $U_PROV (provider, categories rd,testing),
#                             $U_FIN (finance), $U_AUD (auditor): sizes 0..4.
#                             Appended at $IVL_NOW, or 2026-01-01T09:00:00+08:00
#                             when unset (later IVL_NOW may not be earlier).
#   $IVLCHECK                 the independent Python verifier (tests/indep)
#   "$PY" "$LMDB_EDIT" DIR DB INDEX OFFSET
#                             flip the low bit of byte OFFSET (negative: from
#                             the end) of the value of record INDEX of table DB,
#                             through mdb_dump/mdb_load (lmdb-edit.py; also
#                             DIR DB add KEYHEX VALHEX); needs lmdb-utils
#   $PY                       Debian's /usr/bin/python3 (has `cryptography`)

# Run directly (run-shell.sh runs every *.sh), it is not a test: do nothing.
case $0 in */lib.sh | lib.sh) exit 0 ;; esac
set -eu
: "${IVL:?set IVL to the ivl binary}"
: "${TESTS:?set TESTS to the tests directory}"
: "${SHARED:=$TESTS/../../shared}"

PY=/usr/bin/python3
# shellcheck disable=SC2034 # used by the scripts that source this file
IVLCHECK="$PY $TESTS/indep/ivlcheck.py"
LMDB_EDIT="$TESTS/shell/lmdb-edit.py"
OUT=$(pwd)/.out
ERR=$(pwd)/.err
unset IVL_PASSPHRASE IVL_PASSPHRASE_FILE IVL_LEDGER

U_AUTH=11140521MB12345677
U_SME=91140521MA00000018
U_PROV=12140000405000001F
U_FIN=11140521MB76543214
U_AUD=11140521MB11111111

fail()
{
    echo "FAIL: $*" >&2
    exit 1
}

assert_exit()
{
    _want=$1
    shift
    _rc=0
    "$@" >"$OUT" 2>"$ERR" || _rc=$?
    if [ "$_rc" -ge 128 ]; then
        echo "stderr:" >&2
        cat "$ERR" >&2
        fail "crashed (status $_rc): $*"
    fi
    if [ "$_rc" != "$_want" ]; then
        echo "--- stdout:" >&2
        head -c 3000 "$OUT" >&2
        echo "--- stderr:" >&2
        head -c 3000 "$ERR" >&2
        fail "exit $_rc, expected $_want: $*"
    fi
    # The program: "$IVL", possibly behind env VAR=… or setsid -w.
    # Its global options (before the command) say whether errors are JSON.
    _prog=
    _json=
    _skip=
    for _a in "$@"; do
        if [ -z "$_prog" ]; then
            case $_a in
            env | setsid | -w | [A-Z_]*=*) ;;
            *) _prog=$_a ;;
            esac
            continue
        fi
        if [ -n "$_skip" ]; then
            _skip=
            continue
        fi
        case $_a in
        --json) _json=1 ;;
        -L | --ledger) _skip=1 ;;
        -*) ;;
        *) break ;;
        esac
    done
    if [ "$_want" != 0 ] && [ "$_prog" = "$IVL" ]; then
        [ "$(wc -l <"$ERR")" -eq 1 ] || {
            cat "$ERR" >&2
            fail "stderr is not one line: $*"
        }
        case $_json in
        1)
            "$PY" - "$ERR" <<'EOF' || fail "stderr is not a JSON error object: $*"
import json, sys
j = json.load(open(sys.argv[1]))
e = j["error"]
assert set(j) == {"error"} and isinstance(e["code"], str) and e["code"] and isinstance(e["message"], str)
EOF
            ;;
        *)
            grep -q '^ivl: .' "$ERR" || {
                cat "$ERR" >&2
                fail "stderr does not start with 'ivl: ': $*"
            }
            ;;
        esac
    fi
    return 0
}

assert_code()
{
    _got=$(jget "$ERR" error.code) || fail "no JSON error on stderr"
    [ "$_got" = "$1" ] || fail "error code '$_got', expected '$1' ($(cat "$ERR"))"
}

assert_grep()
{
    grep -q -e "$1" "$2" || {
        echo "--- $2:" >&2
        head -c 3000 "$2" >&2
        fail "no '$1' in $2"
    }
}

jget()
{
    "$PY" - "$1" "$2" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1], encoding="utf-8"))
for k in sys.argv[2].split("."):
    if isinstance(v, list) and k.isdigit() and int(k) < len(v):
        v = v[int(k)]
    elif isinstance(v, dict) and k in v:
        v = v[k]
    else:
        sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
EOF
}

ledger_state()
{
    "$IVL" --json -L "$1" status | "$PY" -c 'import json,sys; j=json.load(sys.stdin); print(j["size"], j["root"])'
}

ledger_size()
{
    ledger_state "$1" | cut -d' ' -f1
}

ledger_root()
{
    ledger_state "$1" | cut -d' ' -f2
}

assert_unchanged()
{
    _now=$(ledger_state "$1")
    [ "$_now" = "$2" ] || fail "ledger $1 changed: was '$2', now '$_now'"
}

uscc_of()
{
    echo "$1" | awk '{
        cs = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        split("1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28", w, " ")
        if (length($0) != 17) exit 2
        s = 0
        for (i = 1; i <= 17; i++) {
            v = index(cs, substr($0, i, 1)) - 1
            if (v < 0) exit 2
            s += v * w[i]
        }
        c = 31 - s % 31
        if (c == 31) c = 0
        print $0 substr(cs, c + 1, 1)
    }'
}

file_mode()
{
    stat -c %a "$1"
}

make_keys()
{
    for _k in auth sme prov fin aud; do
        [ -e "$_k.key" ] || "$IVL" keygen "$_k" --unencrypted >/dev/null || fail "keygen $_k"
    done
}

make_ledger()
{
    make_keys
    # The set-up entries carry IVL_NOW, or 2026-01-01 09:00 CST when it is
    # unset, so later commands may use any IVL_NOW from that day on.
    _now=${IVL_NOW:-2026-01-01T09:00:00+08:00}
    IVL_NOW=$_now "$IVL" -L "$1" init --origin "${2:-test.example/ivl}" --key auth.key --uscc "$U_AUTH" \
        --name "Science and Technology Bureau" >/dev/null || fail "init $1"
    IVL_NOW=$_now "$IVL" -L "$1" party add --role sme --uscc "$U_SME" --name "Qinshui Widgets Co" --pub sme.pub \
        --key auth.key >/dev/null || fail "party add sme"
    IVL_NOW=$_now "$IVL" -L "$1" party add --role provider --uscc "$U_PROV" --name "Shanxi Testing Institute" \
        --pub prov.pub --categories rd,testing --key auth.key >/dev/null || fail "party add provider"
    IVL_NOW=$_now "$IVL" -L "$1" party add --role finance --uscc "$U_FIN" --name "Finance Bureau" --pub fin.pub \
        --key auth.key >/dev/null || fail "party add finance"
    IVL_NOW=$_now "$IVL" -L "$1" party add --role auditor --uscc "$U_AUD" --name "Audit Bureau" --pub aud.pub \
        --key auth.key >/dev/null || fail "party add auditor"
}
