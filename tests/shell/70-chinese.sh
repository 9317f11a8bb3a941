#!/bin/sh
# Simplified Chinese (gettext, po/zh_CN.po): the catalogue is complete and its
# printf conversions match the English (msgfmt --check), every message of the
# sources is in it (xgettext + msgcmp), and with LANG=zh_CN.UTF-8 help texts,
# table headings and errors are Chinese while --json error codes stay those
# of LANG=C, which prints English.
. "$TESTS/shell/lib.sh"
unset LC_ALL LC_MESSAGES LANGUAGE
ROOT=$(cd "$TESTS/.." && pwd)
PO=$ROOT/po/zh_CN.po

# ---- the catalogue (needs no installed locale) ----
command -v msgfmt >/dev/null || fail "msgfmt is not installed (gettext): the build needs it"
stats=$(msgfmt --check --statistics -o /dev/null "$PO" 2>&1) || fail "msgfmt --check $PO: $stats"
case $stats in
*untranslated* | *fuzzy*) fail "po/zh_CN.po is incomplete: $stats" ;;
esac
echo "$stats" | grep -q '^[0-9][0-9]* translated messages\.$' || fail "msgfmt --statistics: $stats"
echo "catalogue: $stats"

# Every message marked in the sources is translated (msgcmp fails on a
# message the catalogue lacks or leaves untranslated).
if command -v xgettext >/dev/null && command -v msgcmp >/dev/null; then
    here=$(pwd)
    (cd "$ROOT" && xgettext --language=C --from-code=UTF-8 --keyword=_ --keyword=N_ \
        -o "$here/sources.pot" ledger/*.[ch] keys/*.[ch] cli/*.[ch]) ||
        fail "xgettext failed"
    msgcmp "$PO" sources.pot 2>msgcmp.err || {
        cat msgcmp.err >&2
        fail "po/zh_CN.po lacks messages of the sources: run 'make pot' and translate them"
    }
fi

# Translations keep what programs and people type: conversions (checked
# above), command names in quotes, and no message is left in English.
"$PY" - "$PO" <<'EOF' || fail "suspicious translations (see above)"
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
entries = re.findall(r'\nmsgid ((?:"(?:[^"\\]|\\.)*"\s*)+)(?:msgid_plural (?:"(?:[^"\\]|\\.)*"\s*)+)?'
                     r'msgstr(?:\[0\])? ((?:"(?:[^"\\]|\\.)*"\s*)+)', text)
join = lambda s: "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', s))
bad = 0
for mid, mstr in entries:
    i, s = join(mid), join(mstr)
    if not i:
        continue
    words = re.sub(r"%[-+ #0-9.*$]*(hh|h|ll|l|z|j|t|<PRI\w+>)?[a-zA-Z%]|\\.|--?[a-z-]+|'[^']*'|\"[^\"]*\""
                   r"|\b[A-Z_]{2,}\b|[A-Za-z0-9_.+/]*\.[a-z]+\b", " ", i)
    cjk = re.search(r"[\u3000-\u9fff\uff00-\uffef]", s)
    if re.search(r"[a-z]{3,}", words) and not cjk and s != i and i != "en":
        print("no Chinese in the translation of %r: %r" % (i, s)); bad += 1
    for tok in re.findall(r"'ivl [^']*'", i):
        if tok not in s:
            print("command %s is not kept in %r" % (tok, s)); bad += 1
    if i.endswith("\\n") != s.endswith("\\n"):
        print("trailing newline differs: %r -> %r" % (i, s)); bad += 1
sys.exit(1 if bad else 0)
EOF

# ---- the program in Chinese ----
if ! locale -a 2>/dev/null | grep -qix 'zh_CN\.utf-\?8'; then
    echo "SKIP: the zh_CN.UTF-8 locale is not installed (locale-gen zh_CN.UTF-8); Chinese output not tested"
    exit 0
fi
ZH="LANG=zh_CN.UTF-8"

has_cjk()
{
    "$PY" -c 'import re,sys; sys.exit(0 if re.search("[\u4e00-\u9fff]", open(sys.argv[1], encoding="utf-8").read()) else 1)' "$1"
}

assert_exit 0 env $ZH "$IVL" --help
assert_grep '用法：' "$OUT"
assert_grep '命令：' "$OUT"
assert_grep '全局选项' "$OUT"
assert_grep '退出码' "$OUT"
assert_grep '^  issue --budget ID' "$OUT" # the synopsis stays what one types
if grep -q 'Global options' "$OUT"; then fail "ivl --help is still English"; fi

assert_exit 0 env $ZH "$IVL" issue --help
assert_grep '向企业发放创新券' "$OUT"
assert_exit 0 env $ZH "$IVL" budget open --help
assert_grep '50、50% 或 33.5' "$OUT"
assert_exit 0 env LANG=C "$IVL" issue --help
assert_grep 'Issues a voucher to an enterprise' "$OUT"

# Usage errors.
assert_exit 2 env $ZH "$IVL" frobnicate
assert_grep "ivl: 未知命令 'frobnicate'" "$ERR"
assert_exit 2 env LANG=C "$IVL" frobnicate
assert_grep "ivl: unknown command 'frobnicate'" "$ERR"
assert_exit 2 env $ZH "$IVL" budget open --frob
assert_grep '未知选项 --frob' "$ERR"

# A ledger, a budget, a voucher; a refused redemption.
make_ledger L
export IVL_NOW=2026-02-01T10:00:00+08:00
"$IVL" -L L budget open B1 --total 100000 --cap 50000 --ratio 50 --until 2026-12-31 --key auth.key >/dev/null ||
    fail "budget open"
V=$("$IVL" -L L issue --budget B1 --to "$U_SME" --amount 1000 --key auth.key) || fail "issue"
echo "contract" >contract.txt
redeem()
{
    assert_exit "$1" env "$2" "$IVL" -L L redeem --voucher "$V" --provider "$U_PROV" --contract contract.txt \
        --contract-amount 5000 --amount 2000 --category rd --key sme.key --cosign prov.key
}
redeem 1 "$ZH"
assert_grep '拒绝使用' "$ERR"
assert_grep '创新券余额' "$ERR"
redeem 1 LANG=C
assert_grep 'exceeds the voucher' "$ERR"

# The same error codes in both languages; the messages differ.
codes()
{
    for args in "frobnicate" "budget open B2 --total x --cap 1 --ratio 50 --until 2026-12-31 --key auth.key" \
        "budget show NOPE" "party show 91140521MA00000019" "show 999" \
        "issue --budget B1 --to $U_SME --amount 900000 --key auth.key" \
        "issue --budget B1 --to $U_SME --amount 10 --key sme.key" \
        "redeem --voucher $V --provider $U_PROV --contract contract.txt --contract-amount 5000 --amount 2000 --category rd --key sme.key --cosign prov.key"; do
        # shellcheck disable=SC2086 # word splitting of the arguments is meant
        env "$1" "$IVL" --json -L L $args >/dev/null 2>err.json && fail "succeeded: $args"
        jget err.json error.code
        [ "$1" = LANG=C ] || has_cjk err.json || fail "not Chinese: $args: $(cat err.json)"
    done
}
codes LANG=C >codes.c
codes "$ZH" >codes.zh
cmp -s codes.c codes.zh || {
    paste codes.c codes.zh >&2
    fail "--json error codes differ between LANG=C and LANG=zh_CN.UTF-8"
}
grep -qx over_balance codes.zh || fail "no over_balance among: $(cat codes.zh)"

# Tables and reports.
assert_exit 0 env $ZH "$IVL" -L L budget show B1
assert_grep '^总额 *100000.00' "$OUT"
assert_grep '^可用余额 *99000.00   总额 - 已发放 + 已退回' "$OUT"
assert_grep '^资助比例 *50.00%   占每份合同金额' "$OUT"
assert_exit 0 env $ZH "$IVL" -L L budget list
assert_grep '^预算 .*总额 .*已发放 .*可用余额  截止日期$' "$OUT"
assert_exit 0 env LANG=C "$IVL" -L L budget list
assert_grep '^budget .*total .*issued .*available  until$' "$OUT"
assert_exit 0 env $ZH "$IVL" -L L party list
assert_grep '^统一社会信用代码    角色       状态       名称$' "$OUT"
assert_grep "^$U_SME  sme        有效       " "$OUT" # roles stay the words one types
assert_exit 0 env $ZH "$IVL" -L L balance "$U_SME"
assert_grep '有效创新券余额合计：1000.00' "$OUT"
assert_exit 0 env $ZH "$IVL" -L L status
assert_grep '^大小 *7 个条目$' "$OUT"
assert_exit 0 env $ZH "$IVL" -L L log
assert_grep 'issue .*向 Qinshui Widgets Co 发放 1000.00' "$OUT"
assert_exit 0 env $ZH "$IVL" -L L verify
assert_grep '^账本验证通过：7 个条目' "$OUT"
assert_exit 0 env LANG=C "$IVL" -L L verify
assert_grep '^ledger verified: 7 entries' "$OUT"

# JSON stays the same in every language.
env LANG=C "$IVL" --json -L L budget show B1 >c.json
env $ZH "$IVL" --json -L L budget show B1 >zh.json
cmp -s c.json zh.json || fail "budget show --json differs between languages"
env LANG=C "$IVL" --json -L L log >c.json
env $ZH "$IVL" --json -L L log >zh.json
cmp -s c.json zh.json || fail "log --json differs between languages"

# A verification failure is reported in Chinese, with the same code.
cp -r L T
"$PY" - T/data.mdb <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = b.find("Qinshui Widgets Co".encode())
assert i > 0
b[i] ^= 1
open(p, "wb").write(b)
EOF
assert_exit 3 env $ZH "$IVL" --json -L T verify
zh=$(jget "$ERR" error.code)
has_cjk "$ERR" || fail "verify error is not Chinese: $(cat "$ERR")"
assert_exit 3 env LANG=C "$IVL" --json -L T verify
assert_code "$zh"
echo "ok"
