#!/bin/sh
# ivl report: text, CSV, JSON and HTML on the demo ledger and on a second
# year with something in every column (tests/report/data.sh). The numbers
# must equal `ivl --json budget show` and add up across every table; the
# CSV must open in a spreadsheet (BOM, CRLF, Chinese intact, no formulas);
# the HTML must be well-formed, self-contained, escaped, and carry a
# checkpoint that `ivl checkpoint verify` accepts. With chromium installed,
# tests/report/render.sh renders it headless (SKIP otherwise).
. "$TESTS/shell/lib.sh"
CHECK="$PY $TESTS/report/check.py"

sh "$TESTS/demo.sh" demo >demo.out 2>&1 || {
    tail -30 demo.out
    fail "demo"
}
cd demo
export IVL_LEDGER=ledger
export IVL_NOW=2027-01-05T09:00:00+08:00 # the report's "now" (claim ages); appends nothing

# all formats of one ledger state, checked against budget show
check_all() { # TAG
    rm -rf "$1" && mkdir "$1"
    for b in $("$IVL" --json budget list | "$PY" -c 'import json,sys; [print(b["id"]) for b in json.load(sys.stdin)]'); do
        "$IVL" --json budget show "$b" >"$1/budget-$(ls "$1" | wc -l).json"
    done
    assert_exit 0 "$IVL" report --format json --out "$1/r.json"
    $CHECK json "$1/r.json" "$1"/budget-*.json || fail "$1: json"
    assert_exit 0 "$IVL" report
    cp "$OUT" "$1/r.txt"
    $CHECK text "$1/r.txt" "$1/r.json" || fail "$1: text"
    assert_exit 0 "$IVL" report --format csv --out "$1/r.csv"
    $CHECK csv "$1/r.csv" "$1/r.json" || fail "$1: csv"
    assert_exit 0 "$IVL" report --format html --out "$1/r.html"
    $CHECK html "$1/r.html" "$1/r.json" "$1/checkpoint.note" || fail "$1: html"
    assert_exit 0 "$IVL" checkpoint verify "$1/checkpoint.note" --pub ledger/log.pub
    assert_exit 0 "$IVL" verify --from "$1/checkpoint.note"
    [ "$(jget "$1/r.json" size)" = "$(ledger_size ledger)" ] || fail "$1: report size is not the ledger's"
}

# ---- the demo year ----
check_all y1
r=y1/r.json
[ "$(jget $r budgets.0.issued)" = 450000.00 ] || fail "issued"
[ "$(jget $r budgets.0.available)" = 1940000.00 ] || fail "available"
[ "$(jget $r flow_totals.released)" = 390000.00 ] || fail "released flow"
[ "$(jget $r months.0.month)" = 2026-02 ] || fail "first month"
[ "$(jget $r providers.0.name)" = 太原理工大学分析测试中心 ] || fail "provider name"
[ "$(jget $r enterprises.0.name)" = 沁水恒达新材料有限公司 ] || fail "enterprise name"
[ "$(jget $r claims.by_status.3.count)" = 1 ] || fail "one paid claim"
[ "$(jget $r claims.by_status.3.max_days)" = 14 ] || fail "paid after 14 days"
[ "$(jget $r attested.size)" = 17 ] || fail "attestation"
grep -q "沁水恒达新材料有限公司" y1/r.csv || fail "Chinese name in the CSV"
grep -q '^2026-科技创新券' y1/r.txt || fail "budget in the text report"
# stdout is the same document as --out
"$IVL" report --format html >y1/stdout.html
cmp -s y1/stdout.html y1/r.html || fail "--out and stdout differ"
# --json without --format gives the JSON report
assert_exit 0 "$IVL" --json report
cmp -s "$OUT" y1/r.json || fail "ivl --json report is not the JSON report"
# --out replaces an earlier report
assert_exit 0 "$IVL" report --format text --out y1/r.html
assert_grep 'Innovation voucher report' y1/r.html

# ---- a second year: every claim state, cancellation, clawback, odd names ----
IVL="$IVL" sh "$TESTS/report/data.sh" . || fail "data.sh"
export IVL_NOW=2027-07-01T09:00:00+08:00
check_all y2
r=y2/r.json
[ "$(jget $r budgets.1.redeemed)" = 230000.00 ] || fail "2027 redeemed"
[ "$(jget $r budgets.1.clawed_back)" = 45000.00 ] || fail "2027 clawed back"
[ "$(jget $r flow_totals.cancelled)" = 30000.00 ] || fail "cancelled flow"
# open claims, oldest first, aged to "now"
[ "$(jget $r claims.open.0.status)" = approved ] || fail "oldest open claim"
[ "$(jget $r claims.open.0.days)" = 28 ] || fail "approved claim age"
[ "$(jget $r claims.open.1.status)" = pending ] || fail "pending claim"
[ "$(jget $r claims.open.1.days)" = 11 ] || fail "pending claim age"
[ "$(jget $r claims.by_status.2.amount)" = 50000.00 ] || fail "rejected amount"
# names with markup are escaped in HTML and intact in JSON and CSV
grep -q '&lt;有限公司&gt;' y2/r.html || fail "HTML does not escape a party name"
grep -q '<有限公司>' y2/r.html && fail "HTML shows markup from a party name"
grep -q '晋城市""精诚""检测 & 咨询 <有限公司>' y2/r.csv || fail "CSV quoting of a name"
grep -q "\"'=1+1 技术转移服务中心\"" y2/r.csv || fail "CSV formula guard"

# ---- filters ----
assert_exit 0 "$IVL" report --budget 2027-科技创新券 --format json --out y2/b.json
"$IVL" --json budget show 2027-科技创新券 >y2/b-show.json
$CHECK json y2/b.json y2/b-show.json || fail "--budget json"
[ "$(jget y2/b.json flow_totals.issued)" = 700000.00 ] || fail "--budget flows"
[ "$(jget y2/b.json providers.0.redeemed)" = 50000.00 ] || fail "--budget providers"
assert_exit 0 "$IVL" report --from 2027-04-01 --to 2027-04-30 --format json --out y2/w.json
$CHECK json y2/w.json y2/budget-*.json || fail "window json"
"$PY" - y2/w.json <<'EOF' || fail "window"
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
assert [m["month"] for m in r["months"]] == ["2027-04"], r["months"]
t = r["flow_totals"]
assert (t["redeemed"], t["cancelled"], t["claimed"], t["approved"], t["rejected"], t["paid"]) == \
    ("65000.00", "30000.00", "175000.00", "125000.00", "50000.00", "0.00"), t
assert all(v["count"] == 0 for v in r["vouchers_by_status"]), "no voucher was issued in April"
c = {x["status"]: x["count"] for x in r["claims"]["by_status"]}
assert c == {"pending": 0, "approved": 0, "rejected": 1, "paid": 1, "clawed_back": 1}, c
assert r["from"].startswith("2027-04-01T00:00:00") and r["to"].startswith("2027-04-30T23:59:59")
EOF
assert_exit 0 "$IVL" report --from 2027-04-01 --to 2027-04-30
assert_grep '2027-04-01 .. 2027-04-30' "$OUT"

# ---- refusals ----
assert_exit 2 "$IVL" --json report --format xml
assert_code usage
assert_exit 2 "$IVL" --json report --budget no-such-budget
assert_code not_found
assert_exit 2 "$IVL" --json report --from 2027-13-01
assert_code bad_date
assert_exit 2 "$IVL" report --from 2027-05-01 --to 2027-04-01
assert_exit 2 "$IVL" report --bogus
assert_exit 2 "$IVL" report extra
assert_exit 4 "$IVL" report --format html --out no-such-dir/r.html
assert_exit 4 "$IVL" -L nowhere report
[ ! -e no-such-dir ] || fail "report made a directory"

# ---- in a browser ----
if command -v chromium >/dev/null 2>&1; then
    sh "$TESTS/report/render.sh" y2/r.html y2/render || fail "render"
else
    echo "SKIP: chromium is not installed (apt-get install chromium fonts-noto-cjk)"
fi
echo "report ok"
