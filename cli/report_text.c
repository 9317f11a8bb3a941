/*
 * report_text.c - `ivl report` as text for the terminal, CSV for
 * spreadsheets and JSON for programs.
 *
 * Text: one table per section, numbers right-aligned, columns measured in
 * display width so that Chinese headings and names line up; names come last
 * on a line so that a long one does not push the numbers out of line.
 * CSV: UTF-8 with a byte order mark (Excel and WPS then read Chinese
 * correctly), CRLF line ends (RFC 4180); one block per section — a title
 * row, a heading row, the rows, an empty row; amounts as plain decimals
 * (100000.00) that spreadsheets read as numbers; text cells that a
 * spreadsheet would run as a formula are prefixed with a quote.
 * JSON: stable English keys, amounts as "100000.00" strings (SPEC §5).
 */
#include "parse.h"
#include "report_model.h"

#include <stdlib.h>
#include <string.h>

/* ---- text ---- */

/* Right-aligns s in `width` display columns. */
static void rpad(FILE *f, const char *s, size_t width)
{
    size_t w = ivl_display_width(s);
    for (; w < width; w++)
        fputc(' ', f);
    fputs(s, f);
}

static void amt_cell(FILE *f, uint64_t fen, size_t width)
{
    char a[IVL_AMOUNT_BUF];
    fputc(' ', f);
    rpad(f, cli_amt(fen, a), width);
}

/* A sparse table's cell: zero as "-". */
static void amt_cell_z(FILE *f, uint64_t fen, size_t width)
{
    if (fen) {
        amt_cell(f, fen, width);
        return;
    }
    fputc(' ', f);
    rpad(f, "-", width);
}

static void num_cell(FILE *f, uint64_t n, size_t width)
{
    char a[24];
    snprintf(a, sizeof a, "%llu", (unsigned long long)n);
    fputc(' ', f);
    rpad(f, a, width);
}

static void head_cell(FILE *f, const char *s, size_t width)
{
    fputc(' ', f);
    rpad(f, s, width);
}

static void heading(FILE *f, const char *s)
{
    size_t w = ivl_display_width(s);
    fprintf(f, "\n%s\n", s);
    for (size_t i = 0; i < w; i++)
        fputc('=', f);
    fputc('\n', f);
}

static void window_text(const struct report *r, char *out, size_t n)
{
    char a[IVL_TIME_BUF], b[IVL_TIME_BUF];
    if (r->from == 0 && r->to == INT64_MAX) {
        snprintf(out, n, "%s", _("all time"));
        return;
    }
    if (r->from) ivl_date_format(r->from, a, sizeof a);
    if (r->to != INT64_MAX) ivl_date_format(r->to, b, sizeof b);
    snprintf(out, n, "%s .. %s", r->from ? a : _("start"), r->to != INT64_MAX ? b : _("now"));
}

#define AW 14 /* amount column: "1000000000.00" */

int rep_write_text(const struct report *r, FILE *f)
{
    char t[IVL_TIME_BUF], hex[65], win[96], m[16];
    cli_hex(r->root, IVL_HASHLEN, hex);
    ivl_time_format_human(r->now, t, sizeof t);
    window_text(r, win, sizeof win);
    fprintf(f, "%s\n", _("Innovation voucher report"));
    fprintf(f, "%-12s %s\n", _("Ledger"), r->origin);
    fprintf(f, "%-12s %s %llu, %s %s\n", _("Checkpoint"), _("size"), (unsigned long long)r->size,
            _("root"), hex);
    fprintf(f, "%-12s %s (%s)\n", _("Made"), t, _("China Standard Time"));
    fprintf(f, "%-12s %s\n", _("Period"), win);
    fprintf(f, "%-12s %s\n", _("Budget"), r->budget ? r->budget : _("all budgets"));
    if (r->attest_size) {
        ivl_time_format_human(r->attest_at, t, sizeof t);
        fprintf(f, "%-12s %s %llu, %s, %s\n", _("Attested"), _("size"),
                (unsigned long long)r->attest_size, t, r->attest_by);
    }

    heading(f, _("Budget use (whole budgets, as of the checkpoint)"));
    for (size_t i = 0; i < r->n_budgets; i++) {
        const struct ivl_budget_rec *b = &r->budgets[i];
        char d[IVL_TIME_BUF], pct[IVL_PERCENT_BUF];
        ivl_date_format(b->b.until, d, sizeof d);
        ivl_percent_format(b->b.ratio_bp, pct, sizeof pct);
        fprintf(f, "%s  (%s %s, %s %s)\n", b->b.budget, _("until"), d, _("ratio"), pct);
        const struct {
            const char *label;
            uint64_t v;
        } rows[] = {{_("total"), b->b.total},           {_("issued"), b->issued},
                    {_("released"), b->released},       {_("redeemed"), b->redeemed},
                    {_("claimed"), b->claimed},         {_("paid"), b->paid},
                    {_("clawed back"), b->clawed_back}, {_("available"), rep_available(b)}};
        for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
            fputs("  ", f);
            cli_pad(f, rows[k].label, 14);
            amt_cell(f, rows[k].v, AW);
            if (b->b.total && k > 0) {
                uint64_t pm = rep_scale(rows[k].v, 1000, b->b.total);
                fprintf(f, "  %3llu.%llu%%", (unsigned long long)(pm / 10),
                        (unsigned long long)(pm % 10));
            }
            fputc('\n', f);
        }
        fprintf(f, "  %s %llu\n", _("vouchers issued:"), (unsigned long long)b->n_vouchers);
    }
    if (!r->n_budgets) fprintf(f, "%s\n", _("(no budgets)"));

    heading(f, _("Vouchers by status (issued in the period)"));
    cli_pad(f, _("status"), 10);
    head_cell(f, _("vouchers"), 9);
    head_cell(f, _("face value"), AW);
    head_cell(f, _("redeemed"), AW);
    head_cell(f, _("released"), AW);
    head_cell(f, _("remaining"), AW);
    fputc('\n', f);
    struct rep_vstat tot = {0};
    for (int s = 0; s < REP_V_N; s++) {
        const struct rep_vstat *v = &r->vs[s];
        cli_pad(f, _(rep_vstat_label[s]), 10);
        num_cell(f, v->count, 9);
        amt_cell(f, v->face, AW);
        amt_cell(f, v->redeemed, AW);
        amt_cell(f, v->released, AW);
        amt_cell(f, v->remaining, AW);
        fputc('\n', f);
        tot.count += v->count, tot.face += v->face, tot.redeemed += v->redeemed;
        tot.released += v->released, tot.remaining += v->remaining;
    }
    cli_pad(f, _("total"), 10);
    num_cell(f, tot.count, 9);
    amt_cell(f, tot.face, AW);
    amt_cell(f, tot.redeemed, AW);
    amt_cell(f, tot.released, AW);
    amt_cell(f, tot.remaining, AW);
    fputc('\n', f);

    heading(f, _("Enterprises (vouchers issued in the period)"));
    head_cell(f, _("vouchers"), 8);
    head_cell(f, _("issued"), AW);
    head_cell(f, _("redeemed"), AW);
    head_cell(f, _("released"), AW);
    head_cell(f, _("unspent"), AW);
    head_cell(f, _("paid out"), AW);
    fprintf(f, "  %-18s %s\n", _("USCC"), _("name"));
    for (size_t i = 0; i < r->n_parties; i++) {
        const struct rep_party *p = &r->parties[i];
        if (!rep_sme_shown(p)) continue;
        num_cell(f, p->vouchers, 8);
        amt_cell(f, p->issued, AW);
        amt_cell(f, p->redeemed, AW);
        amt_cell(f, p->released, AW);
        amt_cell(f, p->remaining, AW);
        amt_cell(f, p->paid, AW);
        fprintf(f, "  %-18s %s%s\n", p->uscc, p->name, p->suspended ? _(" (suspended)") : "");
    }

    heading(f, _("Providers (redemptions made in the period)"));
    head_cell(f, _("redemptions"), 11);
    head_cell(f, _("redeemed"), AW);
    head_cell(f, _("unclaimed"), AW);
    head_cell(f, _("pending"), AW);
    head_cell(f, _("approved"), AW);
    head_cell(f, _("paid"), AW);
    head_cell(f, _("rejected"), AW);
    head_cell(f, _("clawed back"), AW);
    fprintf(f, "  %-18s %s\n", _("USCC"), _("name"));
    for (size_t i = 0; i < r->n_parties; i++) {
        const struct rep_party *p = &r->parties[i];
        if (!rep_provider_shown(p)) continue;
        num_cell(f, p->redemptions, 11);
        amt_cell(f, p->p_redeemed, AW);
        amt_cell(f, p->unclaimed, AW);
        amt_cell(f, p->pending, AW);
        amt_cell(f, p->approved, AW);
        amt_cell(f, p->p_paid, AW);
        amt_cell(f, p->rejected, AW);
        amt_cell(f, p->clawed_back, AW);
        fprintf(f, "  %-18s %s%s\n", p->uscc, p->name, p->suspended ? _(" (suspended)") : "");
    }

    heading(f, _("Claim pipeline (claims made in the period)"));
    cli_pad(f, _("status"), 12);
    head_cell(f, _("claims"), 7);
    head_cell(f, _("amount"), AW);
    head_cell(f, _("average days"), 12);
    head_cell(f, _("most days"), 10);
    fputc('\n', f);
    for (int s = 0; s < REP_C_N; s++) {
        const struct rep_cstat *cs = &r->cs[s];
        cli_pad(f, _(rep_cstat_label[s]), 12);
        num_cell(f, cs->count, 7);
        amt_cell(f, cs->amount, AW);
        num_cell(f, rep_avg(cs->days_sum, cs->count), 12);
        num_cell(f, cs->days_max, 10);
        fputc('\n', f);
    }
    fprintf(f, "%s\n",
            _("Days: from the claim to its payment (paid, clawed back), to its rejection, "
              "or to now while it is open (pending, approved awaiting payment)."));
    if (r->n_open) {
        fprintf(f, "\n%s\n", _("Open claims, oldest first:"));
        for (size_t i = 0; i < r->n_open; i++) {
            const struct rep_claim *o = &r->open[i];
            char id[37], d[IVL_TIME_BUF];
            ivl_date_format(o->claimed_at, d, sizeof d);
            fprintf(f, "  %s  %s", cli_id_str(o->id, id), d);
            num_cell(f, (uint64_t)o->days, 5);
            fprintf(f, " %s ", _("days"));
            cli_pad(f, _(rep_cstat_label[o->status]), 9);
            amt_cell(f, o->amount, AW);
            fprintf(f, "  %s\n", o->provider < r->n_parties ? r->parties[o->provider].name : "?");
        }
    }

    heading(f, _("Monthly flows (China Standard Time)"));
    /* approvals are left out here to keep the table within 130 columns */
    cli_pad(f, _("month"), 8);
    for (int k = 0; k < REP_F_N; k++)
        if (k != REP_F_APPROVED) head_cell(f, _(rep_flow_label[k]), AW);
    fputc('\n', f);
    for (size_t i = 0; i < r->n_months; i++) {
        cli_pad(f, rep_month_str(r->months[i].ym, m), 8);
        for (int k = 0; k < REP_F_N; k++)
            if (k != REP_F_APPROVED) amt_cell_z(f, r->months[i].f[k], AW);
        fputc('\n', f);
    }
    cli_pad(f, _("total"), 8);
    for (int k = 0; k < REP_F_N; k++)
        if (k != REP_F_APPROVED) amt_cell(f, r->flow_total[k], AW);
    fputc('\n', f);

    heading(f, _("Signed checkpoint"));
    fputs(r->checkpoint, f);
    fprintf(f, "\n%s\n  ivl checkpoint verify FILE --pub log.pub\n  ivl verify --from FILE\n",
            _("To check that this report matches the public log, save the checkpoint above to "
              "FILE, then run:"));
    return 0;
}

/* ---- CSV ---- */

static void csv_cell(FILE *f, const char *s, int first)
{
    if (!first) fputc(',', f);
    /* a cell a spreadsheet would evaluate gets a leading quote (OWASP) */
    int formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
    int quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (!quote) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    if (formula) fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_amt(FILE *f, uint64_t fen)
{
    char a[IVL_AMOUNT_BUF];
    fprintf(f, ",%s", cli_amt(fen, a));
}

static void csv_num(FILE *f, uint64_t n)
{
    fprintf(f, ",%llu", (unsigned long long)n);
}

static void csv_end(FILE *f)
{
    fputs("\r\n", f);
}

/* A title row and a heading row of `n` translated labels. */
static void csv_head(FILE *f, const char *title, const char *const *labels, size_t n)
{
    csv_end(f);
    csv_cell(f, title, 1);
    csv_end(f);
    for (size_t i = 0; i < n; i++)
        csv_cell(f, _(labels[i]), i == 0);
    csv_end(f);
}

int rep_write_csv(const struct report *r, FILE *f)
{
    char t[IVL_TIME_BUF], hex[65], win[96], m[16], a[IVL_AMOUNT_BUF];
    fputs("\xEF\xBB\xBF", f);
    cli_hex(r->root, IVL_HASHLEN, hex);
    ivl_time_format(r->now, t, sizeof t);
    window_text(r, win, sizeof win);
    csv_cell(f, _("Innovation voucher report"), 1);
    csv_end(f);
    const char *meta[][2] = {{_("Ledger"), r->origin},
                             {_("Made"), t},
                             {_("Period"), win},
                             {_("Budget"), r->budget ? r->budget : _("all budgets")},
                             {_("Checkpoint root"), hex}};
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        csv_cell(f, meta[i][0], 1);
        csv_cell(f, meta[i][1], 0);
        csv_end(f);
    }
    csv_cell(f, _("Checkpoint size"), 1);
    csv_num(f, r->size);
    csv_end(f);

    static const char *const bh[] = {N_("budget"),   N_("total"),       N_("issued"),
                                     N_("released"), N_("redeemed"),    N_("claimed"),
                                     N_("paid"),     N_("clawed back"), N_("available"),
                                     N_("vouchers"), N_("ratio"),       N_("until")};
    csv_head(f, _("Budget use"), bh, sizeof bh / sizeof bh[0]);
    for (size_t i = 0; i < r->n_budgets; i++) {
        const struct ivl_budget_rec *b = &r->budgets[i];
        char d[IVL_TIME_BUF], pct[IVL_PERCENT_BUF];
        ivl_date_format(b->b.until, d, sizeof d);
        ivl_percent_format(b->b.ratio_bp, pct, sizeof pct);
        csv_cell(f, b->b.budget, 1);
        csv_amt(f, b->b.total);
        csv_amt(f, b->issued);
        csv_amt(f, b->released);
        csv_amt(f, b->redeemed);
        csv_amt(f, b->claimed);
        csv_amt(f, b->paid);
        csv_amt(f, b->clawed_back);
        csv_amt(f, rep_available(b));
        csv_num(f, b->n_vouchers);
        csv_cell(f, pct, 0);
        csv_cell(f, d, 0);
        csv_end(f);
    }

    static const char *const vh[] = {N_("status"),   N_("vouchers"), N_("face value"),
                                     N_("redeemed"), N_("released"), N_("remaining")};
    csv_head(f, _("Vouchers by status"), vh, sizeof vh / sizeof vh[0]);
    for (int s = 0; s < REP_V_N; s++) {
        csv_cell(f, _(rep_vstat_label[s]), 1);
        csv_num(f, r->vs[s].count);
        csv_amt(f, r->vs[s].face);
        csv_amt(f, r->vs[s].redeemed);
        csv_amt(f, r->vs[s].released);
        csv_amt(f, r->vs[s].remaining);
        csv_end(f);
    }

    static const char *const eh[] = {N_("USCC"),    N_("name"),     N_("vouchers"),
                                     N_("issued"),  N_("redeemed"), N_("released"),
                                     N_("unspent"), N_("paid out")};
    csv_head(f, _("Enterprises"), eh, sizeof eh / sizeof eh[0]);
    for (size_t i = 0; i < r->n_parties; i++) {
        const struct rep_party *p = &r->parties[i];
        if (!rep_sme_shown(p)) continue;
        csv_cell(f, p->uscc, 1);
        csv_cell(f, p->name, 0);
        csv_num(f, p->vouchers);
        csv_amt(f, p->issued);
        csv_amt(f, p->redeemed);
        csv_amt(f, p->released);
        csv_amt(f, p->remaining);
        csv_amt(f, p->paid);
        csv_end(f);
    }

    static const char *const ph[] = {
        N_("USCC"),    N_("name"),     N_("redemptions"), N_("redeemed"), N_("unclaimed"),
        N_("pending"), N_("approved"), N_("paid"),        N_("rejected"), N_("clawed back")};
    csv_head(f, _("Providers"), ph, sizeof ph / sizeof ph[0]);
    for (size_t i = 0; i < r->n_parties; i++) {
        const struct rep_party *p = &r->parties[i];
        if (!rep_provider_shown(p)) continue;
        csv_cell(f, p->uscc, 1);
        csv_cell(f, p->name, 0);
        csv_num(f, p->redemptions);
        csv_amt(f, p->p_redeemed);
        csv_amt(f, p->unclaimed);
        csv_amt(f, p->pending);
        csv_amt(f, p->approved);
        csv_amt(f, p->p_paid);
        csv_amt(f, p->rejected);
        csv_amt(f, p->clawed_back);
        csv_end(f);
    }

    static const char *const ch[] = {N_("status"), N_("claims"), N_("amount"), N_("average days"),
                                     N_("most days")};
    csv_head(f, _("Claim pipeline"), ch, sizeof ch / sizeof ch[0]);
    for (int s = 0; s < REP_C_N; s++) {
        csv_cell(f, _(rep_cstat_label[s]), 1);
        csv_num(f, r->cs[s].count);
        csv_amt(f, r->cs[s].amount);
        csv_num(f, rep_avg(r->cs[s].days_sum, r->cs[s].count));
        csv_num(f, r->cs[s].days_max);
        csv_end(f);
    }

    static const char *const oh[] = {N_("claim"),  N_("claimed on"),    N_("days"),    N_("status"),
                                     N_("amount"), N_("provider USCC"), N_("provider")};
    csv_head(f, _("Open claims"), oh, sizeof oh / sizeof oh[0]);
    for (size_t i = 0; i < r->n_open; i++) {
        const struct rep_claim *o = &r->open[i];
        const struct rep_party *p = o->provider < r->n_parties ? &r->parties[o->provider] : NULL;
        char id[37], d[IVL_TIME_BUF];
        ivl_date_format(o->claimed_at, d, sizeof d);
        csv_cell(f, cli_id_str(o->id, id), 1);
        csv_cell(f, d, 0);
        csv_num(f, (uint64_t)o->days);
        csv_cell(f, _(rep_cstat_label[o->status]), 0);
        csv_amt(f, o->amount);
        csv_cell(f, p ? p->uscc : "", 0);
        csv_cell(f, p ? p->name : "", 0);
        csv_end(f);
    }

    csv_end(f);
    csv_cell(f, _("Monthly flows"), 1);
    csv_end(f);
    csv_cell(f, _("month"), 1);
    for (int k = 0; k < REP_F_N; k++)
        csv_cell(f, _(rep_flow_label[k]), 0);
    csv_end(f);
    for (size_t i = 0; i < r->n_months; i++) {
        csv_cell(f, rep_month_str(r->months[i].ym, m), 1);
        for (int k = 0; k < REP_F_N; k++)
            csv_amt(f, r->months[i].f[k]);
        csv_end(f);
    }
    csv_cell(f, _("total"), 1);
    for (int k = 0; k < REP_F_N; k++)
        fprintf(f, ",%s", cli_amt(r->flow_total[k], a));
    csv_end(f);

    csv_end(f);
    csv_cell(f, _("Signed checkpoint"), 1);
    csv_end(f);
    csv_cell(f, r->checkpoint, 1);
    csv_end(f);
    return 0;
}

/* ---- JSON ---- */

static json_t *budget_json(const struct ivl_budget_rec *b)
{
    char pct[IVL_PERCENT_BUF];
    ivl_percent_format(b->b.ratio_bp, pct, sizeof pct);
    json_t *j = json_object();
    json_object_set_new(j, "id", json_string(b->b.budget));
    json_object_set_new(j, "total", cli_json_amount(b->b.total));
    json_object_set_new(j, "cap", cli_json_amount(b->b.cap));
    json_object_set_new(j, "ratio", json_string(pct));
    json_object_set_new(j, "until", cli_json_time(b->b.until));
    json_object_set_new(j, "issued", cli_json_amount(b->issued));
    json_object_set_new(j, "released", cli_json_amount(b->released));
    json_object_set_new(j, "redeemed", cli_json_amount(b->redeemed));
    json_object_set_new(j, "claimed", cli_json_amount(b->claimed));
    json_object_set_new(j, "paid", cli_json_amount(b->paid));
    json_object_set_new(j, "clawed_back", cli_json_amount(b->clawed_back));
    json_object_set_new(j, "available", cli_json_amount(rep_available(b)));
    json_object_set_new(j, "vouchers", json_integer((json_int_t)b->n_vouchers));
    return j;
}

static void set_amt(json_t *j, const char *k, uint64_t fen)
{
    json_object_set_new(j, k, cli_json_amount(fen));
}

int rep_write_json(const struct report *r, FILE *f)
{
    json_t *j = json_object();
    json_object_set_new(j, "origin", json_string(r->origin));
    json_object_set_new(j, "size", json_integer((json_int_t)r->size));
    json_object_set_new(j, "root", cli_json_hex(r->root, IVL_HASHLEN));
    json_object_set_new(j, "checkpoint", json_string(r->checkpoint));
    json_object_set_new(j, "generated_at", cli_json_time(r->now));
    json_object_set_new(j, "from", r->from ? cli_json_time(r->from) : json_null());
    json_object_set_new(j, "to", r->to != INT64_MAX ? cli_json_time(r->to) : json_null());
    json_object_set_new(j, "budget", r->budget ? json_string(r->budget) : json_null());
    json_object_set_new(j, "attested",
                        r->attest_size
                            ? json_pack("{s:I,s:o,s:s}", "size", (json_int_t)r->attest_size, "at",
                                        cli_json_time(r->attest_at), "by", r->attest_by)
                            : json_null());

    json_t *a = json_array();
    for (size_t i = 0; i < r->n_budgets; i++)
        json_array_append_new(a, budget_json(&r->budgets[i]));
    json_object_set_new(j, "budgets", a);

    a = json_array();
    for (int s = 0; s < REP_V_N; s++) {
        json_t *o = json_object();
        json_object_set_new(o, "status", json_string(rep_vstat_key[s]));
        json_object_set_new(o, "count", json_integer((json_int_t)r->vs[s].count));
        set_amt(o, "face", r->vs[s].face);
        set_amt(o, "redeemed", r->vs[s].redeemed);
        set_amt(o, "released", r->vs[s].released);
        set_amt(o, "remaining", r->vs[s].remaining);
        json_array_append_new(a, o);
    }
    json_object_set_new(j, "vouchers_by_status", a);

    json_t *sm = json_array(), *pr = json_array();
    for (size_t i = 0; i < r->n_parties; i++) {
        const struct rep_party *p = &r->parties[i];
        json_t *o = json_object();
        json_object_set_new(o, "uscc", json_string(p->uscc));
        json_object_set_new(o, "name", json_string(p->name));
        json_object_set_new(o, "suspended", json_boolean(p->suspended));
        if (rep_sme_shown(p)) {
            json_object_set_new(o, "vouchers", json_integer((json_int_t)p->vouchers));
            set_amt(o, "issued", p->issued);
            set_amt(o, "redeemed", p->redeemed);
            set_amt(o, "released", p->released);
            set_amt(o, "unspent", p->remaining);
            set_amt(o, "paid", p->paid);
            json_array_append_new(sm, o);
        } else if (rep_provider_shown(p)) {
            json_object_set_new(o, "redemptions", json_integer((json_int_t)p->redemptions));
            set_amt(o, "redeemed", p->p_redeemed);
            set_amt(o, "unclaimed", p->unclaimed);
            set_amt(o, "pending", p->pending);
            set_amt(o, "approved", p->approved);
            set_amt(o, "paid", p->p_paid);
            set_amt(o, "rejected", p->rejected);
            set_amt(o, "clawed_back", p->clawed_back);
            json_array_append_new(pr, o);
        } else {
            json_decref(o);
        }
    }
    json_object_set_new(j, "enterprises", sm);
    json_object_set_new(j, "providers", pr);

    json_t *cl = json_object();
    a = json_array();
    for (int s = 0; s < REP_C_N; s++) {
        json_t *o = json_object();
        json_object_set_new(o, "status", json_string(ivl_claim_status_name(s)));
        json_object_set_new(o, "count", json_integer((json_int_t)r->cs[s].count));
        set_amt(o, "amount", r->cs[s].amount);
        json_object_set_new(o, "average_days",
                            json_integer((json_int_t)rep_avg(r->cs[s].days_sum, r->cs[s].count)));
        json_object_set_new(o, "max_days", json_integer((json_int_t)r->cs[s].days_max));
        json_array_append_new(a, o);
    }
    json_object_set_new(cl, "by_status", a);
    a = json_array();
    for (size_t i = 0; i < r->n_open; i++) {
        const struct rep_claim *o = &r->open[i];
        const struct rep_party *p = o->provider < r->n_parties ? &r->parties[o->provider] : NULL;
        json_t *x = json_object();
        json_object_set_new(x, "id", cli_json_id(o->id));
        json_object_set_new(x, "status", json_string(ivl_claim_status_name(o->status)));
        set_amt(x, "amount", o->amount);
        json_object_set_new(x, "claimed_at", cli_json_time(o->claimed_at));
        json_object_set_new(x, "days", json_integer((json_int_t)o->days));
        json_object_set_new(x, "provider", p ? json_string(p->uscc) : json_null());
        json_array_append_new(a, x);
    }
    json_object_set_new(cl, "open", a);
    json_object_set_new(j, "claims", cl);

    a = json_array();
    char m[16];
    for (size_t i = 0; i < r->n_months; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "month", json_string(rep_month_str(r->months[i].ym, m)));
        for (int k = 0; k < REP_F_N; k++)
            set_amt(o, rep_flow_key[k], r->months[i].f[k]);
        json_array_append_new(a, o);
    }
    json_object_set_new(j, "months", a);
    json_t *ft = json_object();
    for (int k = 0; k < REP_F_N; k++)
        set_amt(ft, rep_flow_key[k], r->flow_total[k]);
    json_object_set_new(j, "flow_totals", ft);

    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    fprintf(f, "%s\n", s);
    free(s);
    return 0;
}
