#!/bin/sh
# render.sh REPORT.html OUTDIR - opens an `ivl report --format html` page in
# headless Chromium the way a reader's browser does, and checks that:
#  - it renders without console errors or network requests (A4 at 150 dpi:
#    1240x1754 pixels; the screenshot is OUTDIR/report.png, to look at);
#  - the charts were painted (their colours are in the screenshot);
#  - the rendered DOM has the SVG charts and the signed checkpoint;
#  - it prints to a PDF on A4 paper.
# Needs Debian's packages chromium and, for Chinese text, fonts-noto-cjk.
# Called by tests/shell/71-report.sh when chromium is installed.
set -eu
PY=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
html=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
mkdir -p "$2"
out=$(cd "$2" && pwd)
CHROMIUM=${CHROMIUM:-chromium}
fail() {
    echo "FAIL: render: $*" >&2
    exit 1
}

# A private profile and home: nothing is read from or written to the user's.
export HOME="$out/home"
mkdir -p "$HOME"
chrome() {
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --no-default-browser-check --disable-extensions --hide-scrollbars \
        --user-data-dir="$out/profile" "$@"
}

if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    echo "warning: no Chinese font installed (fonts-noto-cjk): names will render as boxes" >&2
fi

# 1. The page as a reader's screen shows it, with the console on stderr.
chrome --enable-logging=stderr --v=0 --window-size=1240,1754 --screenshot="$out/report.png" \
    "file://$html" >"$out/screenshot.out" 2>"$out/screenshot.log" || {
    tail -20 "$out/screenshot.log" >&2
    fail "chromium could not render $html"
}
[ -s "$out/report.png" ] || fail "no screenshot"
if grep -E 'Uncaught|ERROR:CONSOLE|:CONSOLE\(|net::ERR|Refused to|Failed to load' \
    "$out/screenshot.log" >"$out/console-errors.txt"; then
    cat "$out/console-errors.txt" >&2
    fail "console errors or network requests while rendering"
fi
$PY "$here/pngcheck.py" "$out/report.png" 1240 1754 || fail "screenshot"

# 2. The DOM after rendering: the charts and the checkpoint are there.
chrome --dump-dom "file://$html" >"$out/dom.html" 2>"$out/dom.log" || fail "--dump-dom"
$PY - "$out/dom.html" <<'EOF' || fail "rendered DOM"
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
charts = re.findall(r'<svg class="chart"[^>]*>(.*?)</svg>', dom, re.S)
assert len(charts) >= 3, "%d SVG charts in the DOM" % len(charts)
assert all(c.count("<rect") >= 2 for c in charts), "a chart without bars"
assert re.search(r'<pre id="checkpoint-note">[^<]+\n\d+\n[A-Za-z0-9+/=]+\n\n\u2014 ', dom), \
    "no signed checkpoint in the DOM"
assert "<script" not in dom and "<link" not in dom and "http://" not in dom
print("dom ok: %d charts, %d bars" % (len(charts), sum(c.count("<rect") for c in charts)))
EOF

# 3. Printing: a PDF of A4 pages (595 x 842 points).
chrome --no-pdf-header-footer --print-to-pdf="$out/report.pdf" "file://$html" \
    >"$out/pdf.out" 2>"$out/pdf.log" || fail "--print-to-pdf"
$PY - "$out/report.pdf" <<'EOF' || fail "PDF"
import re, sys
pdf = open(sys.argv[1], "rb").read()
assert pdf.startswith(b"%PDF-"), "not a PDF"
pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
boxes = set(re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf))
assert pages >= 1, "no pages"
assert boxes and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in boxes), \
    "pages are not A4: %s" % boxes
print("pdf ok: %d A4 pages" % pages)
EOF
rm -rf "$out/profile" "$HOME"
echo "render ok: $out/report.png"
