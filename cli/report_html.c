/*
 * report_html.c - `ivl report --format html`: one self-contained page for
 * screens and A4 paper.
 *
 * No network: no scripts, no external style sheets, fonts or images; the
 * style is inline, the charts are inline SVG drawn here, and the font stack
 * names system fonts that can show Chinese. Every piece of text that comes
 * from the ledger (party names, budget ids, the origin) is escaped. The
 * signed checkpoint the report was made from is printed verbatim in a <pre>
 * with the commands that check it, so a reader can tie the numbers to the
 * public log.
 *
 * Chart geometry is integer arithmetic on fen; coordinates are computed in
 * tenths of an SVG unit and printed as decimals at the very end.
 */
#include "parse.h"
#include "report_model.h"

#include <stdlib.h>
#include <string.h>

/* ---- text helpers ---- */

/* Writes s escaped for HTML text and attribute values. */
static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Money for people: "1,940,000.00". buf of 32. */
static const char *money(uint64_t fen, char *buf)
{
    char plain[IVL_AMOUNT_BUF];
    ivl_amount_format(fen, plain, sizeof plain);
    size_t int_len = strcspn(plain, "."), o = 0;
    for (size_t i = 0; plain[i]; i++) {
        if (i < int_len && i > 0 && (int_len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = plain[i];
    }
    buf[o] = 0;
    return buf;
}

/* An axis label: whole yuan without ".00". */
static const char *money_short(uint64_t fen, char *buf)
{
    money(fen, buf);
    size_t n = strlen(buf);
    if (n > 3 && !strcmp(buf + n - 3, ".00")) buf[n - 3] = 0;
    return buf;
}

/* Percentage with one decimal of part / whole, integer arithmetic. buf of 16. */
static const char *percent(uint64_t part, uint64_t whole, char *buf)
{
    uint64_t pm = rep_scale(part, 1000, whole);
    snprintf(buf, 16, "%llu.%llu%%", (unsigned long long)(pm / 10), (unsigned long long)(pm % 10));
    return buf;
}

/* A coordinate in tenths, printed as a decimal. */
static void co(FILE *f, int64_t tenths)
{
    if (tenths < 0) {
        fputc('-', f);
        tenths = -tenths;
    }
    if (tenths % 10)
        fprintf(f, "%lld.%lld", (long long)(tenths / 10), (long long)(tenths % 10));
    else
        fprintf(f, "%lld", (long long)(tenths / 10));
}

/* Writes at most `cols` display columns of s (escaped), with "…" when cut. */
static void esc_cut(FILE *f, const char *s, size_t cols)
{
    if (ivl_display_width(s) <= cols) {
        esc(f, s);
        return;
    }
    char buf[IVL_MAX_NAME * 2 + 8];
    size_t n = 0, len = strlen(s);
    while (n < len && n < sizeof buf - 8) {
        size_t k = n + 1;
        while (k < len && ((unsigned char)s[k] & 0xC0) == 0x80)
            k++; /* whole characters */
        memcpy(buf, s, k);
        buf[k] = 0;
        if (ivl_display_width(buf) > cols - 1) break;
        n = k;
    }
    buf[n] = 0;
    esc(f, buf);
    fputs("\xE2\x80\xA6", f);
}

/* ---- style ---- */

static const char style[] =
    ":root{--ink:#1d2733;--muted:#5b6675;--rule:#d5dbe3;--band:#f3f5f8}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
    "body{margin:0;color:var(--ink);background:#fff;font:15px/1.5 \"Noto Sans CJK SC\","
    "\"Source Han Sans SC\",\"Microsoft YaHei\",\"PingFang SC\",sans-serif}\n"
    "main{max-width:1000px;margin:0 auto;padding:28px 32px 40px}\n"
    "h1{font-size:26px;margin:0 0 2px;letter-spacing:.01em}\n"
    "h2{font-size:19px;margin:30px 0 8px;padding-bottom:4px;border-bottom:2px solid var(--ink)}\n"
    "h3{font-size:15px;margin:16px 0 6px}\n"
    ".origin{color:var(--muted);margin:0 0 14px;font-size:14px}\n"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0;"
    "font-size:13px}\n"
    "dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;overflow-wrap:anywhere}\n"
    ".cards{display:grid;grid-template-columns:repeat(5,1fr);gap:10px;margin:18px 0 4px}\n"
    ".card{border:1px solid var(--rule);border-radius:6px;padding:8px 10px;break-inside:avoid}\n"
    ".card b{display:block;font-size:17px;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    ".card span{display:block;font-size:12px;color:var(--muted);min-height:1.5em}\n"
    "figure{margin:8px 0 12px;break-inside:avoid;page-break-inside:avoid}\n"
    "svg.chart{display:block;width:100%;height:auto}\n"
    "figcaption{font-size:12px;color:var(--muted);margin-top:4px}\n"
    "svg.chart text{font-family:inherit}\n"
    "td.z{color:#a3acb8}\n"
    "ul.legend{list-style:none;margin:6px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px;"
    "font-size:12.5px}\n"
    "ul.legend svg{vertical-align:-1px;margin-right:5px}\n"
    "table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 10px}\n"
    "thead{display:table-header-group}\n"
    "th{text-align:left;font-weight:600;color:var(--muted);border-bottom:1.5px solid var(--ink);"
    "padding:4px 6px;vertical-align:bottom}\n"
    "td{padding:3px 6px;border-bottom:1px solid var(--rule)}\n"
    "tr{break-inside:avoid}\n"
    "th.n,td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tfoot td{font-weight:600;border-top:1.5px solid var(--ink);border-bottom:0}\n"
    "tbody tr:nth-child(even) td{background:var(--band)}\n"
    "td.id,code{font-family:\"Noto Sans Mono\",\"DejaVu Sans Mono\",monospace;font-size:12px}\n"
    ".note{font-size:12.5px;color:var(--muted)}\n"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--band);"
    "border:1px solid var(--rule);border-radius:4px;padding:10px 12px;font-size:12.5px;"
    "font-family:\"Noto Sans Mono\",\"DejaVu Sans Mono\",monospace;break-inside:avoid}\n"
    "footer{margin-top:28px;font-size:12px;color:var(--muted)}\n"
    "@page{size:A4;margin:14mm 12mm 16mm}\n"
    "@media print{body{font-size:10pt}main{max-width:none;padding:0}"
    "h2{break-after:avoid;page-break-after:avoid;margin-top:18px}"
    "section{break-inside:auto}.cards{gap:6px}table{font-size:8.5pt}"
    "figure{break-inside:avoid}}\n"
    "@media (max-width:700px){.cards{grid-template-columns:repeat(2,1fr)}}\n";

/* ---- charts ---- */

#define CW 720 /* chart width in SVG units */

struct seg {
    const char *label; /* N_ string */
    const char *color;
    uint64_t v;
};

static void swatch(FILE *f, const char *color)
{
    fprintf(f,
            "<svg width=\"12\" height=\"12\" aria-hidden=\"true\"><rect width=\"12\" "
            "height=\"12\" rx=\"2\" fill=\"%s\" stroke=\"#8a94a3\" stroke-width=\".5\"/></svg>",
            color);
}

static void legend(FILE *f, const struct seg *s, size_t n)
{
    fputs("<ul class=\"legend\">", f);
    for (size_t i = 0; i < n; i++) {
        fputs("<li>", f);
        swatch(f, s[i].color);
        esc(f, _(s[i].label));
        fputs("</li>", f);
    }
    fputs("</ul>\n", f);
}

/* One horizontal stacked bar: segments of `s` from x0 over `w` (tenths) for
 * `whole`; values are placed by their running sum, so the pieces always
 * meet exactly. A segment wide enough carries its share as a label. */
static void stacked_bar(FILE *f, const struct seg *s, size_t n, uint64_t whole, int64_t x0,
                        int64_t w, int64_t y, int64_t h, int labels)
{
    uint64_t cum = 0;
    char pc[16], a[32];
    fputs("<rect x=\"", f);
    co(f, x0);
    fputs("\" y=\"", f);
    co(f, y);
    fputs("\" width=\"", f);
    co(f, w);
    fputs("\" height=\"", f);
    co(f, h);
    fputs("\" fill=\"#ffffff\" stroke=\"#b8c0cc\"/>\n", f);
    for (size_t i = 0; i < n; i++) {
        if (!s[i].v) continue;
        int64_t xa = x0 + (int64_t)rep_scale(cum, (uint64_t)w, whole);
        cum += s[i].v;
        int64_t xb = x0 + (int64_t)rep_scale(cum, (uint64_t)w, whole);
        if (xb - xa < 4) xb = xa + 4; /* a sliver stays visible */
        fputs("<rect x=\"", f);
        co(f, xa);
        fputs("\" y=\"", f);
        co(f, y);
        fputs("\" width=\"", f);
        co(f, xb - xa);
        fputs("\" height=\"", f);
        co(f, h);
        fprintf(f, "\" fill=\"%s\"><title>", s[i].color);
        esc(f, _(s[i].label));
        fprintf(f, ": %s (%s)</title></rect>\n", money(s[i].v, a), percent(s[i].v, whole, pc));
        if (labels && xb - xa >= 560) {
            int dark = !strcmp(s[i].color, "#e4e8ee") || !strcmp(s[i].color, "#a9cdf3") ||
                       !strcmp(s[i].color, "#f6c343");
            fputs("<text x=\"", f);
            co(f, (xa + xb) / 2);
            fputs("\" y=\"", f);
            co(f, y + h / 2 + 42);
            fprintf(f, "\" text-anchor=\"middle\" font-size=\"12\" fill=\"%s\">%s</text>\n",
                    dark ? "#1d2733" : "#ffffff", percent(s[i].v, whole, pc));
        }
    }
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* Budget use: one bar per budget, the whole total split into where the money is. */
static void chart_budgets(FILE *f, const struct report *r)
{
    static const char *const lab[] = {N_("paid"),
                                      N_("clawed back"),
                                      N_("claimed, awaiting payment"),
                                      N_("redeemed, not yet claimed"),
                                      N_("issued, unspent on vouchers"),
                                      N_("available")};
    static const char *const col[] = {"#2e7d32", "#c62828", "#f6c343",
                                      "#1e6fd0", "#a9cdf3", "#e4e8ee"};
    struct seg s[6];
    for (int i = 0; i < 6; i++)
        s[i] = (struct seg){lab[i], col[i], 0};
    int64_t row = 640, h = 300;
    int64_t H = (int64_t)r->n_budgets * row + 20;
    char a[32];
    fprintf(f, "<figure><svg class=\"chart\" viewBox=\"0 0 %d ", CW);
    co(f, H);
    fputs("\" role=\"img\" aria-label=\"", f);
    esc(f, _("Budget use"));
    fputs("\">\n", f);
    for (size_t i = 0; i < r->n_budgets; i++) {
        const struct ivl_budget_rec *b = &r->budgets[i];
        s[0].v = sub0(b->paid, b->clawed_back);
        s[1].v = b->clawed_back;
        s[2].v = sub0(b->claimed, b->paid);
        s[3].v = sub0(b->redeemed, b->claimed);
        s[4].v = sub0(b->issued - b->released, b->redeemed);
        s[5].v = rep_available(b);
        int64_t y = (int64_t)i * row + 20;
        fputs("<text x=\"0\" y=\"", f);
        co(f, y + 150);
        fputs("\" font-size=\"14\" font-weight=\"600\" fill=\"#1d2733\">", f);
        esc_cut(f, b->b.budget, 60);
        fputs("</text><text x=\"", f);
        co(f, CW * 10);
        fputs("\" y=\"", f);
        co(f, y + 150);
        fputs("\" font-size=\"13\" text-anchor=\"end\" fill=\"#5b6675\">", f);
        esc(f, _("total"));
        fprintf(f, " %s</text>\n", money(b->b.total, a));
        stacked_bar(f, s, 6, b->b.total, 0, CW * 10, y + 230, h, 1);
    }
    fputs("</svg>\n", f);
    legend(f, s, 6);
    fputs("<figcaption>", f);
    esc(f, _("Each bar is a whole budget: paid, claimed but not yet paid, redeemed but not yet "
             "claimed, still on vouchers, and available (never issued, or released back by "
             "revocation and expiry)."));
    fputs("</figcaption></figure>\n", f);
}

/* A round axis step in fen (1, 2 or 5 times a power of ten yuan, at least
 * one fen) such that `max` needs at most 5 steps. */
static uint64_t nice_step(uint64_t max)
{
    uint64_t p = 1;
    for (;;) {
        static const uint64_t mul[] = {1, 2, 5};
        for (int i = 0; i < 3; i++)
            if (max <= 5 * mul[i] * p) return mul[i] * p;
        if (p > UINT64_MAX / 100) return p * 10;
        p *= 10;
    }
}

/* Monthly flows: grouped columns per month. */
static void chart_months(FILE *f, const struct report *r)
{
    static const int kinds[] = {REP_F_ISSUED, REP_F_REDEEMED, REP_F_CLAIMED, REP_F_PAID,
                                REP_F_RELEASED};
    static const char *const col[] = {"#1e6fd0", "#00897b", "#f6a623", "#2e7d32", "#8e99a8"};
    enum { NK = 5 };
    struct seg s[NK];
    for (int k = 0; k < NK; k++)
        s[k] = (struct seg){rep_flow_label[kinds[k]], col[k], 0};
    uint64_t max = 0;
    for (size_t i = 0; i < r->n_months; i++)
        for (int k = 0; k < NK; k++)
            if (r->months[i].f[kinds[k]] > max) max = r->months[i].f[kinds[k]];
    fputs("<figure>", f);
    if (!r->n_months || !max) {
        fputs("<p class=\"note\">", f);
        esc(f, _("No money moved in this period."));
        fputs("</p></figure>\n", f);
        return;
    }
    uint64_t step = nice_step(max), ticks = (max + step - 1) / step, top = step * ticks;
    /* plot area in tenths */
    const int64_t L = 880, R = CW * 10 - 20, T = 150, B = 2200, H = 2560;
    int64_t n = (int64_t)r->n_months, gw = (R - L) / n;
    int64_t bw = gw * 8 / 10 / NK;
    if (bw < 4) bw = 4;
    char a[32], m[16];
    fprintf(f, "<svg class=\"chart\" viewBox=\"0 0 %d ", CW);
    co(f, H);
    fputs("\" role=\"img\" aria-label=\"", f);
    esc(f, _("Monthly flows"));
    fputs("\">\n", f);
    for (uint64_t t = 0; t <= ticks; t++) {
        int64_t y = B - (int64_t)rep_scale(t * step, (uint64_t)(B - T), top);
        fputs("<line x1=\"", f);
        co(f, L);
        fputs("\" x2=\"", f);
        co(f, R);
        fputs("\" y1=\"", f);
        co(f, y);
        fputs("\" y2=\"", f);
        co(f, y);
        fprintf(f, "\" stroke=\"%s\" stroke-width=\"%s\"/>", t ? "#dde2e8" : "#1d2733",
                t ? ".8" : "1.2");
        fputs("<text x=\"", f);
        co(f, L - 60);
        fputs("\" y=\"", f);
        co(f, y + 40);
        fprintf(f, "\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6675\">%s</text>\n",
                money_short(t * step, a));
    }
    int64_t every = (n + 11) / 12; /* at most 12 month labels */
    for (int64_t i = 0; i < n; i++) {
        const struct rep_month *mo = &r->months[i];
        int64_t gx = L + i * gw + (gw - bw * NK) / 2;
        for (int k = 0; k < NK; k++) {
            uint64_t v = mo->f[kinds[k]];
            if (!v) continue;
            int64_t bh = (int64_t)rep_scale(v, (uint64_t)(B - T), top);
            if (bh < 6) bh = 6;
            fputs("<rect x=\"", f);
            co(f, gx + k * bw);
            fputs("\" y=\"", f);
            co(f, B - bh);
            fputs("\" width=\"", f);
            co(f, bw > 10 ? bw - 6 : bw);
            fputs("\" height=\"", f);
            co(f, bh);
            fprintf(f, "\" fill=\"%s\"><title>%s ", col[k], rep_month_str(mo->ym, m));
            esc(f, _(rep_flow_label[kinds[k]]));
            fprintf(f, ": %s</title></rect>\n", money(v, a));
        }
        if (i % every == 0) {
            fputs("<text x=\"", f);
            co(f, L + i * gw + gw / 2);
            fputs("\" y=\"", f);
            co(f, B + 170);
            fprintf(f, "\" font-size=\"11\" text-anchor=\"middle\" fill=\"#1d2733\">%s</text>\n",
                    rep_month_str(mo->ym, m));
        }
    }
    fputs("<text x=\"0\" y=\"", f);
    co(f, T - 40);
    fputs("\" font-size=\"11\" fill=\"#5b6675\">", f);
    esc(f, _("yuan"));
    fputs("</text>\n</svg>\n", f);
    legend(f, s, NK);
    fputs("<figcaption>", f);
    esc(f, _("Money that moved each month (China Standard Time), from the log entries: issued "
             "to enterprises, redeemed at providers, claimed by providers, paid by the finance "
             "bureau, and released back to the budget by revocation and expiry."));
    fputs("</figcaption></figure>\n", f);
}

static int by_redeemed(const void *a, const void *b)
{
    const struct rep_party *x = *(const struct rep_party *const *)a;
    const struct rep_party *y = *(const struct rep_party *const *)b;
    if (x->p_redeemed != y->p_redeemed) return x->p_redeemed > y->p_redeemed ? -1 : 1;
    return strcmp(x->uscc, y->uscc);
}

#define MAX_PROVIDER_BARS 15

/* Money per provider: one bar per provider (the largest first), scaled to
 * the largest, split by where each redemption's claim stands. */
static void chart_providers(FILE *f, const struct report *r)
{
    static const char *const lab[] = {
        N_("paid"),    N_("clawed back"),     N_("approved, awaiting payment"),
        N_("pending"), N_("not yet claimed"), N_("rejected")};
    static const char *const col[] = {"#2e7d32", "#c62828", "#ef8a17",
                                      "#f6c343", "#1e6fd0", "#9aa3ae"};
    size_t n = 0;
    for (size_t i = 0; i < r->n_parties; i++)
        n += rep_provider_shown(&r->parties[i]);
    fputs("<figure>", f);
    if (!n) {
        fputs("<p class=\"note\">", f);
        esc(f, _("No redemptions at providers in this period."));
        fputs("</p></figure>\n", f);
        return;
    }
    const struct rep_party **ps = malloc(n * sizeof *ps);
    if (!ps) {
        fputs("</figure>\n", f);
        return;
    }
    n = 0;
    for (size_t i = 0; i < r->n_parties; i++)
        if (rep_provider_shown(&r->parties[i])) ps[n++] = &r->parties[i];
    qsort(ps, n, sizeof *ps, by_redeemed);
    size_t shown = n < MAX_PROVIDER_BARS ? n : MAX_PROVIDER_BARS;
    uint64_t max = ps[0]->p_redeemed;
    int64_t row = 520, h = 220;
    int64_t H = (int64_t)shown * row + 20;
    struct seg s[6];
    char a[32];
    fprintf(f, "<svg class=\"chart\" viewBox=\"0 0 %d ", CW);
    co(f, H);
    fputs("\" role=\"img\" aria-label=\"", f);
    esc(f, _("Money per provider"));
    fputs("\">\n", f);
    for (size_t i = 0; i < shown; i++) {
        const struct rep_party *p = ps[i];
        uint64_t v[6] = {sub0(p->p_paid, p->clawed_back),
                         p->clawed_back,
                         p->approved,
                         p->pending,
                         p->unclaimed,
                         p->rejected};
        for (int k = 0; k < 6; k++)
            s[k] = (struct seg){lab[k], col[k], v[k]};
        int64_t y = (int64_t)i * row + 20;
        fputs("<text x=\"0\" y=\"", f);
        co(f, y + 140);
        fputs("\" font-size=\"13\" fill=\"#1d2733\">", f);
        esc_cut(f, p->name, 72);
        fputs("</text><text x=\"", f);
        co(f, CW * 10);
        fputs("\" y=\"", f);
        co(f, y + 140);
        fprintf(f,
                "\" font-size=\"13\" text-anchor=\"end\" font-weight=\"600\" "
                "fill=\"#1d2733\">%s</text>\n",
                money(p->p_redeemed, a));
        int64_t w = (int64_t)rep_scale(p->p_redeemed, CW * 10, max);
        if (w < 20) w = 20;
        stacked_bar(f, s, 6, p->p_redeemed, 0, w, y + 200, h, 0);
    }
    fputs("</svg>\n", f);
    legend(f, s, 6);
    fputs("<figcaption>", f);
    esc(f, _("Vouchers redeemed at each provider (cancelled redemptions left out), by where the "
             "claim for them stands. Bars share one scale."));
    if (n > shown) {
        fputs(" ", f);
        fprintf(f, _("The %zu largest of %zu providers are drawn; the table lists all."), shown, n);
    }
    fputs("</figcaption></figure>\n", f);
    free(ps);
}

/* ---- tables ---- */

static void th(FILE *f, const char *label, int numeric)
{
    fputs(numeric ? "<th class=\"n\">" : "<th>", f);
    esc(f, label);
    fputs("</th>", f);
}

static void td_text(FILE *f, const char *s)
{
    fputs("<td>", f);
    esc(f, s);
    fputs("</td>", f);
}

static void td_money(FILE *f, uint64_t fen)
{
    char a[32];
    fprintf(f, "<td class=\"n\">%s</td>", money(fen, a));
}

/* A sparse table's cell: zero as a faint dash. */
static void td_money_z(FILE *f, uint64_t fen)
{
    if (fen)
        td_money(f, fen);
    else
        fputs("<td class=\"n z\">\xE2\x80\x93</td>", f);
}

static void td_num(FILE *f, uint64_t n)
{
    fprintf(f, "<td class=\"n\">%llu</td>", (unsigned long long)n);
}

static void section(FILE *f, const char *id, const char *title)
{
    fprintf(f, "<section id=\"%s\">\n<h2>", id);
    esc(f, title);
    fputs("</h2>\n", f);
}

static void note(FILE *f, const char *s)
{
    fputs("<p class=\"note\">", f);
    esc(f, s);
    fputs("</p>\n", f);
}

static void budget_table(FILE *f, const struct report *r)
{
    static const char *const hd[] = {N_("budget"),   N_("total"),       N_("issued"),
                                     N_("released"), N_("redeemed"),    N_("claimed"),
                                     N_("paid"),     N_("clawed back"), N_("available")};
    fputs("<table><thead><tr>", f);
    for (size_t i = 0; i < sizeof hd / sizeof hd[0]; i++)
        th(f, _(hd[i]), i > 0);
    fputs("</tr></thead><tbody>\n", f);
    for (size_t i = 0; i < r->n_budgets; i++) {
        const struct ivl_budget_rec *b = &r->budgets[i];
        fputs("<tr>", f);
        td_text(f, b->b.budget);
        td_money(f, b->b.total);
        td_money(f, b->issued);
        td_money(f, b->released);
        td_money(f, b->redeemed);
        td_money(f, b->claimed);
        td_money(f, b->paid);
        td_money(f, b->clawed_back);
        td_money(f, rep_available(b));
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    fputs("<table><thead><tr>", f);
    th(f, _("budget"), 0);
    th(f, _("vouchers"), 1);
    th(f, _("cap per enterprise or group"), 1);
    th(f, _("share of a contract"), 1);
    th(f, _("until"), 0);
    fputs("</tr></thead><tbody>\n", f);
    for (size_t i = 0; i < r->n_budgets; i++) {
        const struct ivl_budget_rec *b = &r->budgets[i];
        char d[IVL_TIME_BUF], pct[IVL_PERCENT_BUF];
        ivl_date_format(b->b.until, d, sizeof d);
        ivl_percent_format(b->b.ratio_bp, pct, sizeof pct);
        fputs("<tr>", f);
        td_text(f, b->b.budget);
        td_num(f, b->n_vouchers);
        td_money(f, b->b.cap);
        fprintf(f, "<td class=\"n\">%s</td>", pct);
        td_text(f, d);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

static void voucher_table(FILE *f, const struct report *r)
{
    fputs("<table><thead><tr>", f);
    th(f, _("status"), 0);
    th(f, _("vouchers"), 1);
    th(f, _("face value"), 1);
    th(f, _("redeemed"), 1);
    th(f, _("released"), 1);
    th(f, _("remaining"), 1);
    fputs("</tr></thead><tbody>\n", f);
    struct rep_vstat t = {0};
    for (int s = 0; s < REP_V_N; s++) {
        const struct rep_vstat *v = &r->vs[s];
        fputs("<tr>", f);
        td_text(f, _(rep_vstat_label[s]));
        td_num(f, v->count);
        td_money(f, v->face);
        td_money(f, v->redeemed);
        td_money(f, v->released);
        td_money(f, v->remaining);
        fputs("</tr>\n", f);
        t.count += v->count, t.face += v->face, t.redeemed += v->redeemed;
        t.released += v->released, t.remaining += v->remaining;
    }
    fputs("</tbody><tfoot><tr>", f);
    td_text(f, _("total"));
    td_num(f, t.count);
    td_money(f, t.face);
    td_money(f, t.redeemed);
    td_money(f, t.released);
    td_money(f, t.remaining);
    fputs("</tr></tfoot></table>\n", f);
    note(f, _("Active: money left and not past its expiry. Spent: nothing left. Expired: past "
              "its expiry (what was left returned to the budget, or will when expiry is "
              "recorded). Revoked: withdrawn; what was left returned to the budget."));
}

static void party_cell(FILE *f, const struct rep_party *p)
{
    fputs("<td>", f);
    esc(f, p->name);
    if (p->suspended) {
        fputs(" <small>(", f);
        esc(f, _("suspended"));
        fputs(")</small>", f);
    }
    fputs("<br><code>", f);
    esc(f, p->uscc);
    fputs("</code></td>", f);
}

static void enterprise_table(FILE *f, const struct report *r)
{
    fputs("<table><thead><tr>", f);
    th(f, _("enterprise"), 0);
    th(f, _("vouchers"), 1);
    th(f, _("issued"), 1);
    th(f, _("redeemed"), 1);
    th(f, _("released"), 1);
    th(f, _("unspent"), 1);
    th(f, _("paid out"), 1);
    fputs("</tr></thead><tbody>\n", f);
    for (size_t i = 0; i < r->n_parties; i++) {
        const struct rep_party *p = &r->parties[i];
        if (!rep_sme_shown(p)) continue;
        fputs("<tr>", f);
        party_cell(f, p);
        td_num(f, p->vouchers);
        td_money_z(f, p->issued);
        td_money_z(f, p->redeemed);
        td_money_z(f, p->released);
        td_money_z(f, p->remaining);
        td_money_z(f, p->paid);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    note(f, _("Unspent: left on active vouchers. Paid out: paid to providers for the "
              "enterprise's redemptions."));
}

static void provider_table(FILE *f, const struct report *r)
{
    fputs("<table><thead><tr>", f);
    th(f, _("provider"), 0);
    th(f, _("redemptions"), 1);
    th(f, _("redeemed"), 1);
    th(f, _("not yet claimed"), 1);
    th(f, _("pending"), 1);
    th(f, _("approved"), 1);
    th(f, _("paid"), 1);
    th(f, _("rejected"), 1);
    th(f, _("clawed back"), 1);
    fputs("</tr></thead><tbody>\n", f);
    for (size_t i = 0; i < r->n_parties; i++) {
        const struct rep_party *p = &r->parties[i];
        if (!rep_provider_shown(p)) continue;
        fputs("<tr>", f);
        party_cell(f, p);
        td_num(f, p->redemptions);
        td_money_z(f, p->p_redeemed);
        td_money_z(f, p->unclaimed);
        td_money_z(f, p->pending);
        td_money_z(f, p->approved);
        td_money_z(f, p->p_paid);
        td_money_z(f, p->rejected);
        td_money_z(f, p->clawed_back);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    note(f, _("Paid includes money later clawed back, which is also shown on its own."));
}

static void claims_tables(FILE *f, const struct report *r)
{
    fputs("<table><thead><tr>", f);
    th(f, _("status"), 0);
    th(f, _("claims"), 1);
    th(f, _("amount"), 1);
    th(f, _("average days"), 1);
    th(f, _("most days"), 1);
    fputs("</tr></thead><tbody>\n", f);
    for (int s = 0; s < REP_C_N; s++) {
        const struct rep_cstat *cs = &r->cs[s];
        fputs("<tr>", f);
        td_text(f, _(rep_cstat_label[s]));
        td_num(f, cs->count);
        td_money(f, cs->amount);
        td_num(f, rep_avg(cs->days_sum, cs->count));
        td_num(f, cs->days_max);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    note(f, _("Days: from the claim to its payment (paid, clawed back), to its rejection, or to "
              "the day of this report while it is open (pending, approved awaiting payment)."));
    if (!r->n_open) return;
    fputs("<h3>", f);
    esc(f, _("Open claims, oldest first"));
    fputs("</h3>\n<table><thead><tr>", f);
    th(f, _("claim"), 0);
    th(f, _("claimed on"), 0);
    th(f, _("days"), 1);
    th(f, _("status"), 0);
    th(f, _("amount"), 1);
    th(f, _("provider"), 0);
    fputs("</tr></thead><tbody>\n", f);
    for (size_t i = 0; i < r->n_open; i++) {
        const struct rep_claim *o = &r->open[i];
        char id[37], d[IVL_TIME_BUF];
        ivl_date_format(o->claimed_at, d, sizeof d);
        fprintf(f, "<tr><td class=\"id\">%s</td>", cli_id_str(o->id, id));
        td_text(f, d);
        td_num(f, (uint64_t)o->days);
        td_text(f, _(rep_cstat_label[o->status]));
        td_money(f, o->amount);
        td_text(f, o->provider < r->n_parties ? r->parties[o->provider].name : "?");
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

static void month_table(FILE *f, const struct report *r)
{
    static const int kinds[] = {REP_F_ISSUED,   REP_F_REDEEMED, REP_F_CANCELLED, REP_F_CLAIMED,
                                REP_F_REJECTED, REP_F_PAID,     REP_F_RELEASED,  REP_F_CLAWED_BACK};
    enum { NK = sizeof kinds / sizeof kinds[0] };
    char m[16];
    if (!r->n_months) return;
    fputs("<table><thead><tr>", f);
    th(f, _("month"), 0);
    for (int k = 0; k < NK; k++)
        th(f, _(rep_flow_label[kinds[k]]), 1);
    fputs("</tr></thead><tbody>\n", f);
    for (size_t i = 0; i < r->n_months; i++) {
        fprintf(f, "<tr><td>%s</td>", rep_month_str(r->months[i].ym, m));
        for (int k = 0; k < NK; k++)
            td_money_z(f, r->months[i].f[kinds[k]]);
        fputs("</tr>\n", f);
    }
    fputs("</tbody><tfoot><tr>", f);
    td_text(f, _("total"));
    for (int k = 0; k < NK; k++)
        td_money(f, r->flow_total[kinds[k]]);
    fputs("</tr></tfoot></table>\n", f);
}

/* ---- the page ---- */

static void meta_row(FILE *f, const char *label, const char *value)
{
    fputs("<dt>", f);
    esc(f, label);
    fputs("</dt><dd>", f);
    esc(f, value);
    fputs("</dd>\n", f);
}

static void card(FILE *f, const char *label, uint64_t fen, uint64_t whole)
{
    char a[32], pc[16];
    fprintf(f, "<div class=\"card\"><b>%s</b><span>", money(fen, a));
    esc(f, label);
    fputs("</span><span>", f);
    if (whole) {
        /* TRANSLATORS: "12.5% of the total" under a figure in the report */
        fprintf(f, _("%s of the total"), percent(fen, whole, pc));
    }
    fputs("</span></div>\n", f);
}

int rep_write_html(const struct report *r, FILE *f)
{
    char t[IVL_TIME_BUF], hex[65], buf[256], a[IVL_TIME_BUF], b[IVL_TIME_BUF];
    cli_hex(r->root, IVL_HASHLEN, hex);
    /* TRANSLATORS: the language code of the HTML report (zh-CN in Chinese). */
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"");
    esc(f, _("en"));
    fputs("\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"ivl report\">\n<title>",
          f);
    esc(f, _("Innovation voucher report"));
    fputs(" \xE2\x80\x94 ", f);
    esc(f, r->origin);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n<header>\n<h1>", style);
    esc(f, _("Innovation voucher report"));
    fputs("</h1>\n<p class=\"origin\">", f);
    esc(f, r->origin);
    fputs("</p>\n<dl class=\"meta\">\n", f);
    ivl_time_format_human(r->now, t, sizeof t);
    snprintf(buf, sizeof buf, "%s (%s)", t, _("China Standard Time"));
    meta_row(f, _("Made"), buf);
    if (r->from == 0 && r->to == INT64_MAX) {
        snprintf(buf, sizeof buf, "%s", _("all time"));
    } else {
        if (r->from) ivl_date_format(r->from, a, sizeof a);
        if (r->to != INT64_MAX) ivl_date_format(r->to, b, sizeof b);
        snprintf(buf, sizeof buf, "%s \xE2\x80\x93 %s", r->from ? a : _("start"),
                 r->to != INT64_MAX ? b : _("now"));
    }
    meta_row(f, _("Period"), buf);
    meta_row(f, _("Budget"), r->budget ? r->budget : _("all budgets"));
    snprintf(buf, sizeof buf, "%s %llu \xC2\xB7 %s %s", _("size"), (unsigned long long)r->size,
             _("root"), hex);
    meta_row(f, _("Checkpoint"), buf);
    if (r->attest_size) {
        ivl_time_format_human(r->attest_at, t, sizeof t);
        snprintf(buf, sizeof buf, "%s %llu \xC2\xB7 %s \xC2\xB7 ", _("size"),
                 (unsigned long long)r->attest_size, t);
        fputs("<dt>", f);
        esc(f, _("Last audit"));
        fputs("</dt><dd>", f);
        esc(f, buf);
        esc(f, r->attest_by);
        fputs("</dd>\n", f);
    }
    fputs("</dl>\n", f);

    uint64_t total = 0, issued = 0, redeemed = 0, paid = 0, avail = 0;
    for (size_t i = 0; i < r->n_budgets; i++) {
        const struct ivl_budget_rec *bu = &r->budgets[i];
        total += bu->b.total, issued += bu->issued - bu->released, redeemed += bu->redeemed;
        paid += bu->paid, avail += rep_available(bu);
    }
    fputs("<div class=\"cards\">\n", f);
    card(f, _("budget total"), total, 0);
    card(f, _("issued, net of released"), issued, total);
    card(f, _("redeemed"), redeemed, total);
    card(f, _("paid"), paid, total);
    card(f, _("available"), avail, total);
    fputs("</div>\n</header>\n", f);

    section(f, "budgets", _("Budget use"));
    if (r->n_budgets) {
        chart_budgets(f, r);
        budget_table(f, r);
    } else {
        note(f, _("No budget has been opened."));
    }
    note(f, _("Budget totals are whole budgets as of the checkpoint, whatever the period."));
    fputs("</section>\n", f);

    section(f, "flows", _("Monthly flows"));
    chart_months(f, r);
    month_table(f, r);
    fputs("</section>\n", f);

    section(f, "providers", _("Money per provider"));
    chart_providers(f, r);
    provider_table(f, r);
    fputs("</section>\n", f);

    section(f, "vouchers", _("Vouchers by status"));
    voucher_table(f, r);
    fputs("</section>\n", f);

    section(f, "enterprises", _("Enterprises"));
    enterprise_table(f, r);
    fputs("</section>\n", f);

    section(f, "claims", _("Claim pipeline"));
    claims_tables(f, r);
    fputs("</section>\n", f);

    section(f, "checkpoint", _("Signed checkpoint"));
    note(f, _("This report was made from the ledger at the signed checkpoint below. To check "
              "that it matches the public log, save the checkpoint text to a file (FILE) and "
              "run:"));
    fputs("<ol class=\"note\"><li><code>ivl checkpoint verify FILE --pub log.pub</code> "
          "\xE2\x80\x94 ",
          f);
    esc(f, _("the log's key signed it (log.pub is published by the S&T bureau)"));
    fputs("</li><li><code>ivl verify --from FILE</code> \xE2\x80\x94 ", f);
    esc(f, _("on your replica of the log: the log extends this checkpoint and every entry "
             "obeys the rules"));
    fputs("</li><li><code>ivl report</code> \xE2\x80\x94 ", f);
    esc(f, _("on a replica of this size, gives the same numbers"));
    fputs("</li></ol>\n<pre id=\"checkpoint-note\">", f);
    esc(f, r->checkpoint);
    fputs("</pre>\n</section>\n<footer>", f);
    esc(f, _("Amounts in yuan. Made by ivl report; no part of this page is loaded from the "
             "network."));
    fputs("</footer>\n</main>\n</body>\n</html>\n", f);
    return 0;
}
