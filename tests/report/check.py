"""check.py - reads `ivl report` output back the way its readers do and
checks that the numbers hold together (used by tests/shell/71-report.sh).

  check.py json REPORT.json BUDGET.json...   JSON report vs `ivl --json budget show`
  check.py csv REPORT.csv REPORT.json        CSV (BOM, blocks) vs the JSON report
  check.py html REPORT.html REPORT.json NOTE_OUT
                                             well-formed, self-contained, charts, escaped
                                             names; writes the embedded checkpoint to NOTE_OUT
  check.py text REPORT.txt REPORT.json       the text report shows the same totals

Money is compared as integer fen, never as floats. Exits 1 with a message
on the first problem.
"""
import csv
import html.parser
import io
import json
import re
import sys


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def fen(s):
    """'1234.56' -> 123456 (exactly two decimals, as SPEC §5 says)."""
    s = s.replace(",", "")
    if not re.fullmatch(r"\d+\.\d\d", s):
        fail("not an amount with two decimals: %r" % s)
    a, b = s.split(".")
    return int(a) * 100 + int(b)


BUDGET_KEYS = ["total", "cap", "ratio", "until", "issued", "released", "redeemed", "claimed",
               "paid", "clawed_back", "available"]
FLOWS = ["issued", "redeemed", "cancelled", "claimed", "approved", "rejected", "paid",
         "released", "clawed_back"]


def check_json(path, budget_files):
    r = json.load(open(path, encoding="utf-8"))
    shows = [json.load(open(p, encoding="utf-8")) for p in budget_files]
    got = {b["id"]: b for b in r["budgets"]}
    if sorted(got) != sorted(s["id"] for s in shows):
        fail("budgets %s, budget show has %s" % (sorted(got), [s["id"] for s in shows]))
    for s in shows:
        for k in BUDGET_KEYS:
            if got[s["id"]][k] != s[k]:
                fail("budget %s %s: report %s, budget show %s" % (s["id"], k, got[s["id"]][k], s[k]))
    tot = {k: sum(fen(b[k]) for b in r["budgets"]) for k in BUDGET_KEYS
           if k not in ("ratio", "until")}
    whole = r["from"] is None and r["to"] is None
    # positions: vouchers, enterprises and providers add up to the budgets
    vs = {v["status"]: v for v in r["vouchers_by_status"]}
    if set(vs) != {"active", "spent", "expired", "revoked"}:
        fail("voucher statuses %s" % sorted(vs))
    for v in vs.values():
        if fen(v["face"]) != fen(v["redeemed"]) + fen(v["released"]) + fen(v["remaining"]):
            fail("voucher status %s: face != redeemed + released + remaining" % v["status"])
    if whole:
        sums = {
            "issued": (sum(fen(v["face"]) for v in vs.values()), tot["issued"]),
            "released": (sum(fen(v["released"]) for v in vs.values()), tot["released"]),
            "redeemed": (sum(fen(v["redeemed"]) for v in vs.values()), tot["redeemed"]),
            "enterprise issued": (sum(fen(e["issued"]) for e in r["enterprises"]), tot["issued"]),
            "enterprise redeemed": (sum(fen(e["redeemed"]) for e in r["enterprises"]),
                                    tot["redeemed"]),
            "enterprise released": (sum(fen(e["released"]) for e in r["enterprises"]),
                                    tot["released"]),
            "enterprise paid": (sum(fen(e["paid"]) for e in r["enterprises"]), tot["paid"]),
            "provider redeemed": (sum(fen(p["redeemed"]) for p in r["providers"]),
                                  tot["redeemed"]),
            "provider paid": (sum(fen(p["paid"]) for p in r["providers"]), tot["paid"]),
            "provider clawed back": (sum(fen(p["clawed_back"]) for p in r["providers"]),
                                     tot["clawed_back"]),
            "vouchers": (sum(v["count"] for v in vs.values()),
                         sum(b["vouchers"] for b in r["budgets"])),
            # flows over all time add up to the positions
            "flow issued": (fen(r["flow_totals"]["issued"]), tot["issued"]),
            "flow released": (fen(r["flow_totals"]["released"]), tot["released"]),
            "flow redeemed - cancelled": (fen(r["flow_totals"]["redeemed"]) -
                                          fen(r["flow_totals"]["cancelled"]), tot["redeemed"]),
            "flow claimed - rejected": (fen(r["flow_totals"]["claimed"]) -
                                        fen(r["flow_totals"]["rejected"]), tot["claimed"]),
            "flow paid": (fen(r["flow_totals"]["paid"]), tot["paid"]),
            "flow clawed back": (fen(r["flow_totals"]["clawed_back"]), tot["clawed_back"]),
        }
        cl = {c["status"]: c for c in r["claims"]["by_status"]}
        sums["claims not rejected"] = (
            sum(fen(c["amount"]) for s, c in cl.items() if s != "rejected"), tot["claimed"])
        sums["claims paid"] = (fen(cl["paid"]["amount"]) + fen(cl["clawed_back"]["amount"]),
                               tot["paid"])
        for k, (a, b) in sums.items():
            if a != b:
                fail("%s: %d fen, budgets say %d" % (k, a, b))
    for p in r["providers"]:
        parts = (fen(p["unclaimed"]) + fen(p["pending"]) + fen(p["approved"]) + fen(p["paid"]) +
                 fen(p["rejected"]))
        if parts != fen(p["redeemed"]) or fen(p["clawed_back"]) > fen(p["paid"]):
            fail("provider %s: its parts do not add up to what was redeemed" % p["uscc"])
    for k in FLOWS:
        if sum(fen(m[k]) for m in r["months"]) != fen(r["flow_totals"][k]):
            fail("months of %s do not add up to the total" % k)
    months = [m["month"] for m in r["months"]]
    if months != sorted(months) or len(set(months)) != len(months):
        fail("months out of order: %s" % months)
    if not r["checkpoint"].startswith(r["origin"] + "\n%d\n" % r["size"]):
        fail("checkpoint is not the report's size")
    print("json ok: %d budgets, %d months, %d providers" % (len(r["budgets"]), len(months),
                                                           len(r["providers"])))


def csv_blocks(path):
    raw = open(path, "rb").read()
    if not raw.startswith(b"\xef\xbb\xbf"):
        fail("CSV does not start with the UTF-8 byte order mark")
    if b"\r\n" not in raw:
        fail("CSV lines do not end with CRLF")
    text = raw[3:].decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    blocks, cur = {}, None
    for i, row in enumerate(rows):
        if not row or row == [""]:
            cur = None
            continue
        if cur is None and len(row) == 1 and i + 1 < len(rows) and len(rows[i + 1]) > 1:
            cur = row[0]
            blocks[cur] = []
            continue
        if cur is not None:
            blocks[cur].append(row)
    return rows, blocks


def table(block):
    head = block[0]
    return [dict(zip(head, r)) for r in block[1:]]


def check_csv(path, json_path):
    r = json.load(open(json_path, encoding="utf-8"))
    rows, blocks = csv_blocks(path)
    for name in ["Budget use", "Vouchers by status", "Enterprises", "Providers", "Claim pipeline",
                 "Monthly flows"]:
        if name not in blocks:
            fail("CSV has no block %r (has %s)" % (name, list(blocks)))
    bud = {b["budget"]: b for b in table(blocks["Budget use"])}
    for b in r["budgets"]:
        c = bud.get(b["id"])
        if c is None:
            fail("CSV lacks budget %s" % b["id"])
        for k, col in [("total", "total"), ("issued", "issued"), ("released", "released"),
                       ("redeemed", "redeemed"), ("claimed", "claimed"), ("paid", "paid"),
                       ("clawed_back", "clawed back"), ("available", "available")]:
            if fen(c[col]) != fen(b[k]):
                fail("CSV budget %s %s: %s, JSON %s" % (b["id"], k, c[col], b[k]))
    ent = table(blocks["Enterprises"])
    if [e["name"] for e in ent] != [e["name"] for e in r["enterprises"]]:
        fail("CSV enterprise names %s differ from JSON %s" % ([e["name"] for e in ent],
                                                              [e["name"] for e in r["enterprises"]]))
    if sum(fen(e["issued"]) for e in ent) != sum(fen(e["issued"]) for e in r["enterprises"]):
        fail("CSV enterprise issued does not add up")
    prov = table(blocks["Providers"])
    for p, j in zip(prov, r["providers"]):
        want = j["name"]
        if want[:1] in "=+-@":
            want = "'" + want  # a spreadsheet must not run it as a formula
        if p["name"] != want or p["USCC"] != j["uscc"]:
            fail("CSV provider %r %s, JSON %r %s" % (p["name"], p["USCC"], want, j["uscc"]))
        if fen(p["redeemed"]) != fen(j["redeemed"]) or fen(p["paid"]) != fen(j["paid"]):
            fail("CSV provider %s amounts differ" % p["USCC"])
    mon = table(blocks["Monthly flows"])
    tot = mon[-1]
    if tot["month"] != "total":
        fail("CSV monthly flows do not end with the total")
    for k, col in [("issued", "issued"), ("redeemed", "redeemed"), ("paid", "paid"),
                   ("released", "released"), ("clawed_back", "clawed back")]:
        if sum(fen(m[col]) for m in mon[:-1]) != fen(tot[col]) or \
                fen(tot[col]) != fen(r["flow_totals"][k]):
            fail("CSV monthly %s does not add up" % k)
    for row in rows:
        for cell in row:
            if cell[:1] in "=+-@":
                fail("CSV cell a spreadsheet would evaluate: %r" % cell)
    if r["checkpoint"] not in [c for row in rows for c in row]:
        fail("CSV does not carry the signed checkpoint")
    print("csv ok: %d rows, blocks %s" % (len(rows), ", ".join(blocks)))


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags = [], [], {}
        self.note, self.in_note = None, False
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        a = dict(attrs)
        for k, v in attrs:
            if k.startswith("on"):
                self.errors.append("event handler attribute %s" % k)
            if v and re.search(r"(?i)(https?:|//|url\()", v) and k not in ("content",):
                self.errors.append("external reference in %s=%r" % (k, v))
        if tag in ("script", "link", "iframe", "object", "embed", "img"):
            self.errors.append("<%s> in a self-contained report" % tag)
        if tag == "pre" and a.get("id") == "checkpoint-note":
            self.in_note, self.note = True, ""
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else "nothing"))
            return
        self.stack.pop()
        if tag == "pre":
            self.in_note = False

    def handle_data(self, data):
        if self.in_note:
            self.note += data
        self.text.append(data)


def check_html(path, json_path, note_out):
    r = json.load(open(json_path, encoding="utf-8"))
    src = open(path, encoding="utf-8").read()
    if not src.startswith("<!DOCTYPE html>"):
        fail("HTML does not start with <!DOCTYPE html>")
    for bad in ["http://", "https://", "<script", "<link", "@import", "@font-face", "url("]:
        if bad in src.lower():
            fail("HTML is not self-contained: it has %r" % bad)
    p = Page()
    p.feed(src)
    p.close()
    if p.errors:
        fail("HTML: " + "; ".join(p.errors[:5]))
    if p.stack:
        fail("HTML: unclosed %s" % p.stack)
    if p.tags.get("svg", 0) < 3 or not re.search(r'<svg class="chart"', src):
        fail("HTML has %d svg elements, expected the charts" % p.tags.get("svg", 0))
    for section in ["budgets", "flows", "providers", "vouchers", "enterprises", "claims",
                    "checkpoint"]:
        if 'id="%s"' % section not in src:
            fail("HTML has no section %s" % section)
    if p.note is None or p.note != r["checkpoint"]:
        fail("HTML checkpoint %r differs from the JSON report's %r" % (p.note, r["checkpoint"]))
    text = "".join(p.text)
    for e in r["enterprises"] + r["providers"]:
        if e["name"] not in text:
            fail("HTML does not show %r" % e["name"])
        if "<" in e["name"] and e["name"] in src:
            fail("HTML shows %r unescaped" % e["name"])
    for b in r["budgets"]:
        if b["id"] not in text:
            fail("HTML does not show budget %s" % b["id"])
    open(note_out, "w", encoding="utf-8", newline="").write(p.note)
    print("html ok: %d svg, %d rect, %d tables" % (p.tags.get("svg", 0), p.tags.get("rect", 0),
                                                  p.tags.get("table", 0)))


def check_text(path, json_path):
    r = json.load(open(json_path, encoding="utf-8"))
    t = open(path, encoding="utf-8").read()
    for b in r["budgets"]:
        for k in ["total", "issued", "released", "redeemed", "paid", "available"]:
            if not re.search(r"\b%s\b" % re.escape(b[k]), t):
                fail("text report lacks %s %s of %s" % (k, b[k], b["id"]))
    for e in r["enterprises"] + r["providers"]:
        if e["name"] not in t or e["uscc"] not in t:
            fail("text report lacks %s" % e["name"])
    if r["checkpoint"] not in t:
        fail("text report lacks the checkpoint")
    # columns line up: every row of the enterprise table puts the USCC at the same column
    cols = set()
    for line in t.splitlines():
        for e in r["enterprises"]:
            if e["uscc"] in line and line.rstrip().endswith(e["name"]):
                cols.add(line.index(e["uscc"]))
    if len(cols) > 1:
        fail("enterprise rows are not aligned: %s" % cols)
    print("text ok")


def main():
    mode = sys.argv[1]
    if mode == "json":
        check_json(sys.argv[2], sys.argv[3:])
    elif mode == "csv":
        check_csv(sys.argv[2], sys.argv[3])
    elif mode == "html":
        check_html(sys.argv[2], sys.argv[3], sys.argv[4])
    elif mode == "text":
        check_text(sys.argv[2], sys.argv[3])
    else:
        fail("unknown mode " + mode)


main()
