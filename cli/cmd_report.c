/*
 * cmd_report.c - `ivl report`: budget use, vouchers by status, money per
 * enterprise and per provider, the claim pipeline with ages and the month by
 * month flows, as text, CSV (UTF-8 with BOM, for Excel and WPS), JSON or one
 * self-contained HTML file with SVG charts. Every report carries the signed
 * checkpoint it was made from, so that a reader can check it against the
 * public log. `--flags` hands over to cli_report_flags (flags.c).
 *
 * Everything is read in one LMDB read transaction, so the state tables, the
 * log and the checkpoint are one snapshot. See report_model.h for which
 * numbers are positions (state tables) and which are flows (log entries).
 */
#include "fileio.h"
#include "parse.h"
#include "progress.h"
#include "report_model.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define PARSE(opts, pos, max, np)                                                                  \
    do {                                                                                           \
        int rc_ = cli_parse(c, argc, argv, opts, pos, max, np);                                    \
        if (rc_) return rc_ < 0 ? 0 : cli_error(c, rc_);                                           \
    } while (0)

/* ---- names and small helpers shared by the writers ---- */

const char *const rep_vstat_label[REP_V_N] = {N_("active"), N_("spent"), N_("expired"),
                                              N_("revoked")};
const char *const rep_vstat_key[REP_V_N] = {"active", "spent", "expired", "revoked"};
const char *const rep_cstat_label[REP_C_N] = {N_("pending"), N_("approved"), N_("rejected"),
                                              N_("paid"), N_("clawed back")};
const char *const rep_flow_label[REP_F_N] = {N_("issued"),  N_("redeemed"), N_("cancelled"),
                                             N_("claimed"), N_("approved"), N_("rejected"),
                                             N_("paid"),    N_("released"), N_("clawed back")};
const char *const rep_flow_key[REP_F_N] = {"issued",  "redeemed", "cancelled",
                                           "claimed", "approved", "rejected",
                                           "paid",    "released", "clawed_back"};

int rep_sme_shown(const struct rep_party *p)
{
    return p->role == IVL_ROLE_SME && p->vouchers > 0;
}

int rep_provider_shown(const struct rep_party *p)
{
    return p->role == IVL_ROLE_PROVIDER && p->redemptions > 0;
}

uint64_t rep_available(const struct ivl_budget_rec *b)
{
    return b->b.total - b->issued + b->released;
}

const char *rep_month_str(int ym, char *buf)
{
    snprintf(buf, 16, "%04d-%02d", ym / 12, ym % 12 + 1);
    return buf;
}

uint64_t rep_scale(uint64_t a, uint64_t num, uint64_t den)
{
    if (!den) return 0;
    return a / den * num + a % den * num / den;
}

uint64_t rep_avg(uint64_t sum, uint64_t n)
{
    return n ? (sum + n / 2) / n : 0;
}

/* The CST month of a unix time. */
static int month_of(int64_t t)
{
    char d[IVL_TIME_BUF];
    ivl_date_format(t, d, sizeof d);
    return atoi(d) * 12 + atoi(d + 5) - 1;
}

/* ---- vouchers seen in the log: a small replay of their balances ---- */

/* What the log walk needs of each voucher: its balance at each point (a
 * revoke releases what is left at that moment) and whether it belongs to
 * the budget asked for. Open addressing, keyed by voucher id. */
struct vslot {
    uint8_t id[IVL_ID_LEN];
    uint8_t used, active, in_scope;
    uint64_t remaining;
};

struct vmap {
    struct vslot *s;
    size_t mask, n;
};

static size_t vhash(const uint8_t id[IVL_ID_LEN])
{
    uint64_t a, b;
    memcpy(&a, id, 8);
    memcpy(&b, id + 8, 8);
    a ^= b * 0x9E3779B97F4A7C15ull;
    a ^= a >> 29;
    return (size_t)(a * 0xBF58476D1CE4E5B9ull >> 17);
}

static struct vslot *vfind(struct vmap *m, const uint8_t id[IVL_ID_LEN], int add)
{
    for (size_t i = vhash(id) & m->mask;; i = (i + 1) & m->mask) {
        struct vslot *s = &m->s[i];
        if (!s->used) {
            if (!add || 2 * (m->n + 1) > m->mask) return NULL; /* never full: it would not end */
            m->n++;
            s->used = 1;
            memcpy(s->id, id, IVL_ID_LEN);
            return s;
        }
        if (!memcmp(s->id, id, IVL_ID_LEN)) return s;
    }
}

/* ---- gathering ---- */

struct gather {
    struct cli *c;
    struct ivl_state *st;
    struct report *r;
    struct ivl_head head; /* checked against its signed checkpoint */
    struct vmap vm;
    size_t cap_months, cap_open;
    int failed; /* out of memory while counting a flow */
};

static int oom(void)
{
    return ivl_fail(IVL_E_NOMEM, _("out of memory"));
}

static int in_window(const struct report *r, int64_t t)
{
    return t >= r->from && t <= r->to;
}

static void flow(struct gather *g, int64_t at, int kind, uint64_t amount)
{
    struct report *r = g->r;
    if (!amount || !in_window(r, at)) return;
    int ym = month_of(at);
    if (!r->n_months || r->months[r->n_months - 1].ym != ym) {
        if (r->n_months == g->cap_months) {
            size_t nc = g->cap_months ? 2 * g->cap_months : 16;
            struct rep_month *nm = realloc(r->months, nc * sizeof *nm);
            if (!nm) {
                g->failed = 1;
                return;
            }
            r->months = nm;
            g->cap_months = nc;
        }
        memset(&r->months[r->n_months], 0, sizeof r->months[0]);
        r->months[r->n_months++].ym = ym;
    }
    r->months[r->n_months - 1].f[kind] += amount;
    r->flow_total[kind] += amount;
}

/* The voucher a claim is against (state), as a slot of the map. */
static int claim_voucher(struct gather *g, const uint8_t claim[IVL_ID_LEN], struct vslot **vs,
                         uint64_t *amount)
{
    struct ivl_claim_rec cr;
    int rc = ivl_st_claim(g->st, claim, &cr);
    if (rc) return rc;
    *vs = vfind(&g->vm, cr.voucher, 0);
    *amount = cr.amount;
    return *vs ? 0 : ivl_fail(IVL_E_CORRUPT, _("claim's voucher is not in the log"));
}

/* One log entry's money, if it falls in the window and the budget. */
static int walk_entry(struct gather *g, const struct ivl_entry *e)
{
    struct report *r = g->r;
    struct vslot *v = NULL;
    uint64_t amount = 0;
    int rc = 0;
    int64_t at = e->appended_at;
    switch (e->type) {
    case IVL_T_ISSUE:
        if (!(v = vfind(&g->vm, e->id, 1)))
            return ivl_fail(IVL_E_CORRUPT,
                            _("the log issues more vouchers than the voucher table holds"));
        v->active = 1;
        v->remaining = e->u.issue.amount;
        v->in_scope = !r->budget || !strcmp(r->budget, e->u.issue.budget);
        if (v->in_scope) flow(g, at, REP_F_ISSUED, e->u.issue.amount);
        break;
    case IVL_T_REDEEM:
        if (!(v = vfind(&g->vm, e->u.redeem.voucher, 0))) break;
        v->remaining -= e->u.redeem.amount < v->remaining ? e->u.redeem.amount : v->remaining;
        if (v->in_scope) flow(g, at, REP_F_REDEEMED, e->u.redeem.amount);
        break;
    case IVL_T_CANCEL: {
        struct ivl_redemption_rec rr;
        if ((rc = ivl_st_redemption(g->st, e->u.target.target, &rr))) return rc;
        if (!(v = vfind(&g->vm, rr.r.voucher, 0))) break;
        if (v->active)
            v->remaining += rr.r.amount;
        else if (v->in_scope)
            flow(g, at, REP_F_RELEASED, rr.r.amount); /* the voucher is gone: back to the budget */
        if (v->in_scope) flow(g, at, REP_F_CANCELLED, rr.r.amount);
        break;
    }
    case IVL_T_CLAIM: {
        struct ivl_redemption_rec rr;
        if ((rc = ivl_st_redemption(g->st, e->u.claim.redemption, &rr))) return rc;
        if ((v = vfind(&g->vm, rr.r.voucher, 0)) && v->in_scope)
            flow(g, at, REP_F_CLAIMED, e->u.claim.amount);
        break;
    }
    case IVL_T_APPROVE:
    case IVL_T_REJECT:
    case IVL_T_PAY:
    case IVL_T_CLAWBACK:
        if ((rc = claim_voucher(g, e->u.target.target, &v, &amount))) return rc;
        if (v->in_scope)
            flow(g, at,
                 e->type == IVL_T_APPROVE  ? REP_F_APPROVED
                 : e->type == IVL_T_REJECT ? REP_F_REJECTED
                 : e->type == IVL_T_PAY    ? REP_F_PAID
                                           : REP_F_CLAWED_BACK,
                 amount);
        break;
    case IVL_T_REVOKE:
        if (!(v = vfind(&g->vm, e->u.target.target, 0))) break;
        if (v->in_scope) flow(g, at, REP_F_RELEASED, v->remaining);
        v->remaining = 0;
        v->active = 0;
        break;
    case IVL_T_EXPIRE:
        for (uint32_t i = 0; i < e->u.expire.n; i++) {
            if (!(v = vfind(&g->vm, e->u.expire.list[i].voucher, 0))) continue;
            if (v->in_scope) flow(g, at, REP_F_RELEASED, e->u.expire.list[i].amount);
            v->remaining = 0;
            v->active = 0;
        }
        break;
    case IVL_T_ATTEST: {
        struct ivl_party_rec p;
        r->attest_size = e->u.attest.size;
        r->attest_at = at;
        if (ivl_st_party(g->st, e->sigs[0].signer, &p) == 0)
            snprintf(r->attest_by, sizeof r->attest_by, "%s", p.p.name);
        else
            snprintf(r->attest_by, sizeof r->attest_by, "%s", e->sigs[0].signer);
        break;
    }
    default: break;
    }
    return rc;
}

static int walk_log(struct gather *g)
{
    MDB_stat ms;
    size_t n = 1024;
    if (mdb_stat(g->st->txn, g->st->dbi[IVL_DB_VOUCHERS], &ms) == 0)
        while (n < 2 * ms.ms_entries + 16)
            n *= 2;
    g->vm.mask = n - 1;
    if (!(g->vm.s = calloc(n, sizeof *g->vm.s))) return oom();
    for (uint64_t seq = 0; seq < g->r->size; seq++) {
        struct ivl_entry e;
        int rc = ivl_ledger_entry_checked(g->st, &g->head, seq, &e);
        if (rc) return rc;
        if (seq % 1024 == 0) cli_progress(seq, g->r->size);
        rc = walk_entry(g, &e);
        ivl_entry_free(&e);
        if (rc) return rc;
    }
    return 0;
}

/* Contiguous months from the first to the last flow (gaps filled with zero
 * months, so that charts show time evenly), unless that would be absurdly many. */
static int fill_months(struct report *r)
{
    if (r->n_months < 2) return 0;
    int first = r->months[0].ym, last = r->months[r->n_months - 1].ym;
    size_t span = (size_t)(last - first + 1);
    if (span == r->n_months || span > 1200) return 0;
    struct rep_month *m = calloc(span, sizeof *m);
    if (!m) return oom();
    for (size_t i = 0; i < span; i++)
        m[i].ym = first + (int)i;
    for (size_t i = 0; i < r->n_months; i++)
        m[r->months[i].ym - first] = r->months[i];
    free(r->months);
    r->months = m;
    r->n_months = span;
    return 0;
}

/* Parties in USCC order (the table's key order), so lookups can bisect. */
static int load_parties(struct gather *g)
{
    MDB_cursor *cur;
    MDB_val k, v;
    size_t cap = 0;
    int rc = mdb_cursor_open(g->st->txn, g->st->dbi[IVL_DB_PARTIES], &cur);
    if (rc) return ivl_st_mdb_err(rc, "parties");
    rc = 0;
    for (int m = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && m == 0;
         m = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct ivl_party_rec p;
        if ((rc = ivl_rec_party(&v, &p))) break;
        if (p.p.role != IVL_ROLE_SME && p.p.role != IVL_ROLE_PROVIDER) continue;
        if (g->r->n_parties == cap) {
            cap = cap ? 2 * cap : 64;
            struct rep_party *np = realloc(g->r->parties, cap * sizeof *np);
            if (!np) {
                rc = oom();
                break;
            }
            g->r->parties = np;
        }
        struct rep_party *x = &g->r->parties[g->r->n_parties++];
        memset(x, 0, sizeof *x);
        memcpy(x->uscc, p.p.uscc, sizeof x->uscc);
        memcpy(x->name, p.p.name, sizeof x->name);
        x->role = p.p.role;
        x->suspended = p.status == IVL_PARTY_SUSPENDED;
    }
    mdb_cursor_close(cur);
    return rc;
}

static int party_cmp(const void *key, const void *elt)
{
    return strcmp(key, ((const struct rep_party *)elt)->uscc);
}

static struct rep_party *party(struct report *r, const char *uscc)
{
    return bsearch(uscc, r->parties, r->n_parties, sizeof *r->parties, party_cmp);
}

/* Walks one table with a callback per record. */
static int each(struct gather *g, int db,
                int (*fn)(struct gather *, const MDB_val *, const MDB_val *))
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(g->st->txn, g->st->dbi[db], &cur);
    if (rc) return ivl_st_mdb_err(rc, ivl_db_names[db]);
    rc = 0;
    for (int m = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && m == 0;
         m = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        rc = fn(g, &k, &v);
    mdb_cursor_close(cur);
    return rc;
}

static int on_budget(struct gather *g, const MDB_val *k, const MDB_val *v)
{
    (void)k;
    struct report *r = g->r;
    struct ivl_budget_rec b;
    int rc = ivl_rec_budget(v, &b);
    if (rc) return rc;
    if (r->budget && strcmp(r->budget, b.b.budget)) return 0;
    struct ivl_budget_rec *nb = realloc(r->budgets, (r->n_budgets + 1) * sizeof *nb);
    if (!nb) return oom();
    r->budgets = nb;
    r->budgets[r->n_budgets++] = b;
    return 0;
}

static int on_voucher(struct gather *g, const MDB_val *k, const MDB_val *v)
{
    struct report *r = g->r;
    struct ivl_voucher_rec x;
    int rc = ivl_rec_voucher(k, v, &x);
    if (rc) return rc;
    if ((r->budget && strcmp(r->budget, x.budget)) || !in_window(r, x.issued_at)) return 0;
    int s = x.status == IVL_V_REVOKED   ? REP_V_REVOKED
            : x.status == IVL_V_EXPIRED ? REP_V_EXPIRED
            : x.remaining == 0          ? REP_V_SPENT
            : r->now > x.until          ? REP_V_EXPIRED /* past its day, not yet recorded */
                                        : REP_V_ACTIVE;
    uint64_t redeemed = x.face - x.remaining - x.released;
    struct rep_vstat *vs = &r->vs[s];
    vs->count++;
    vs->face += x.face;
    vs->remaining += x.remaining;
    vs->redeemed += redeemed;
    vs->released += x.released;
    struct rep_party *p = party(r, x.holder);
    if (p) {
        p->vouchers++;
        p->issued += x.face;
        p->redeemed += redeemed;
        p->released += x.released;
        if (s == REP_V_ACTIVE) p->remaining += x.remaining;
    }
    return 0;
}

static int scoped_voucher(struct gather *g, const uint8_t id[IVL_ID_LEN])
{
    struct vslot *s = vfind(&g->vm, id, 0);
    return s && s->in_scope;
}

static int on_redemption(struct gather *g, const MDB_val *k, const MDB_val *v)
{
    (void)k;
    struct report *r = g->r;
    struct ivl_redemption_rec x;
    int rc = ivl_rec_redemption(v, &x);
    if (rc) return rc;
    if (x.status == IVL_R_CANCELLED || !scoped_voucher(g, x.r.voucher) || !in_window(r, x.at))
        return 0;
    struct rep_party *p = party(r, x.r.provider);
    if (!p) return 0;
    p->redemptions++;
    p->p_redeemed += x.r.amount;
    static const uint8_t zero[IVL_ID_LEN];
    if (!memcmp(x.claim, zero, IVL_ID_LEN)) {
        p->unclaimed += x.r.amount;
        return 0;
    }
    struct ivl_claim_rec cr;
    if ((rc = ivl_st_claim(g->st, x.claim, &cr))) return rc;
    switch (cr.status) {
    case IVL_C_PENDING: p->pending += x.r.amount; break;
    case IVL_C_APPROVED: p->approved += x.r.amount; break;
    case IVL_C_REJECTED: p->rejected += x.r.amount; break;
    case IVL_C_PAID: p->p_paid += x.r.amount; break;
    default:
        p->p_paid += x.r.amount; /* paid, then clawed back: both */
        p->clawed_back += x.r.amount;
        break;
    }
    return 0;
}

static int on_claim(struct gather *g, const MDB_val *k, const MDB_val *v)
{
    (void)k;
    struct report *r = g->r;
    struct ivl_claim_rec x;
    int rc = ivl_rec_claim(v, &x);
    if (rc) return rc;
    if (!scoped_voucher(g, x.voucher) || !in_window(r, x.claimed_at) || x.status >= REP_C_N)
        return 0;
    /* age: to the decision (rejected), to the payment (paid, clawed back),
     * or to now while the claim is open (pending, approved awaiting payment) */
    int64_t end = x.status == IVL_C_REJECTED                                ? x.decided_at
                  : x.status == IVL_C_PAID || x.status == IVL_C_CLAWED_BACK ? x.paid_at
                                                                            : r->now;
    int64_t days = end > x.claimed_at ? (end - x.claimed_at) / 86400 : 0;
    struct rep_cstat *cs = &r->cs[x.status];
    cs->count++;
    cs->amount += x.amount;
    cs->days_sum += (uint64_t)days;
    if ((uint64_t)days > cs->days_max) cs->days_max = (uint64_t)days;
    struct rep_party *sme = party(r, x.sme);
    if (sme && (x.status == IVL_C_PAID || x.status == IVL_C_CLAWED_BACK)) sme->paid += x.amount;
    if (x.status != IVL_C_PENDING && x.status != IVL_C_APPROVED) return 0;
    if (g->r->n_open == g->cap_open) {
        size_t nc = g->cap_open ? 2 * g->cap_open : 32;
        struct rep_claim *no = realloc(r->open, nc * sizeof *no);
        if (!no) return oom();
        r->open = no;
        g->cap_open = nc;
    }
    struct rep_claim *o = &r->open[r->n_open++];
    memcpy(o->id, x.id, IVL_ID_LEN);
    struct rep_party *prov = party(r, x.provider);
    o->provider = prov ? (size_t)(prov - r->parties) : SIZE_MAX;
    o->status = x.status;
    o->amount = x.amount;
    o->claimed_at = x.claimed_at;
    o->days = days;
    return 0;
}

static int open_cmp(const void *a, const void *b)
{
    const struct rep_claim *x = a, *y = b;
    if (x->claimed_at != y->claimed_at) return x->claimed_at < y->claimed_at ? -1 : 1;
    return memcmp(x->id, y->id, IVL_ID_LEN);
}

static int gather(struct cli *c, struct ivl_state *st, struct report *r)
{
    struct gather g = {.c = c, .st = st, .r = r};
    struct ivl_head h;
    int rc = ivl_ledger_check_head(st, &h);
    if (rc) return rc;
    g.head = h;
    r->size = h.size;
    memcpy(r->root, h.root, IVL_HASHLEN);
    snprintf(r->origin, sizeof r->origin, "%s", st->origin);
    if ((rc = ivl_ledger_checkpoint(c->l, st, h.size, &r->checkpoint))) return rc;
    if (r->budget) {
        struct ivl_budget_rec b;
        rc = ivl_st_budget(st, r->budget, &b);
        if (rc == IVL_E_NOT_FOUND) return ivl_fail(IVL_E_NOT_FOUND, _("no budget %s"), r->budget);
        if (rc) return rc;
    }
    if (!rc) {
        cli_progress_begin(c, CLI_PHASE_READ);
        rc = walk_log(&g);
        cli_progress_end(c);
    }
    if (!rc && g.failed) rc = oom();
    if (!rc) rc = fill_months(r);
    if (!rc) rc = load_parties(&g);
    if (!rc) rc = each(&g, IVL_DB_BUDGETS, on_budget);
    if (!rc) rc = each(&g, IVL_DB_VOUCHERS, on_voucher);
    if (!rc) rc = each(&g, IVL_DB_REDEMPTIONS, on_redemption);
    if (!rc) rc = each(&g, IVL_DB_CLAIMS, on_claim);
    if (!rc && r->n_open) qsort(r->open, r->n_open, sizeof *r->open, open_cmp);
    free(g.vm.s);
    return rc;
}

static void report_free(struct report *r)
{
    free(r->checkpoint);
    free(r->budgets);
    free(r->parties);
    free(r->open);
    free(r->months);
}

/* ---- the command ---- */

int cmd_report(struct cli *c, int argc, char **argv)
{
    const char *budget = NULL, *from = NULL, *to = NULL, *format = NULL, *out = NULL, *flags = NULL;
    struct cli_opt opts[] = {{"--budget", OPT_STR, &budget},
                             {"--from", OPT_STR, &from},
                             {"--to", OPT_STR, &to},
                             {"--format", OPT_STR, &format},
                             {"--out", OPT_STR, &out},
                             {"--flags", OPT_FLAG, &flags},
                             {0}};
    PARSE(opts, NULL, 0, NULL);
    struct cli_report_opts o = {budget, 0, INT64_MAX, format, out};
    int rc = 0;
    if (!o.format) o.format = c->json ? "json" : "text";
    if (strcmp(o.format, "text") && strcmp(o.format, "csv") && strcmp(o.format, "json") &&
        strcmp(o.format, "html"))
        return cli_error(c, ivl_fail(IVL_E_USAGE,
                                     _("--format must be text, csv, json or html, not '%s'"),
                                     o.format));
    if (from && !rc) {
        rc = cli_date(from, "--from", &o.from);
        o.from -= 86399; /* a date means the whole day: from its first second */
    }
    if (to && !rc) rc = cli_date(to, "--to", &o.to);
    if (rc) return cli_error(c, rc);
    if (o.from > o.to)
        return cli_error(c, ivl_fail(IVL_E_USAGE, _("--from %s is after --to %s"), from, to));
    if (budget && !ivl_text_valid(budget, IVL_MAX_BUDGETID))
        return cli_error(c, ivl_fail(IVL_E_USAGE, _("--budget '%s' is not a budget id"), budget));
    if (out && !*out) return cli_error(c, ivl_fail(IVL_E_USAGE, _("--out needs a file name")));
    if (flags) return cli_report_flags(c, &o);

    struct ivl_state st;
    struct report r = {.now = c->now, .from = o.from, .to = o.to, .budget = budget};
    if ((rc = cli_open(c)) || (rc = ivl_ledger_begin(c->l, &st))) return cli_error(c, rc);
    rc = gather(c, &st, &r);
    ivl_ledger_end(&st);
    if (rc) {
        report_free(&r);
        return cli_error(c, rc);
    }

    char *doc = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&doc, &len);
    if (!f) {
        report_free(&r);
        return cli_error(c, oom());
    }
    switch (o.format[0]) {
    case 't': rc = rep_write_text(&r, f); break;
    case 'c': rc = rep_write_csv(&r, f); break;
    case 'j': rc = rep_write_json(&r, f); break;
    default: rc = rep_write_html(&r, f); break;
    }
    if (fclose(f) && !rc) rc = oom();
    report_free(&r);
    if (!rc) {
        if (out) {
            rc = ivl_file_write(out, doc, len, 0644, 1);
        } else if (fwrite(doc, 1, len, stdout) != len || fflush(stdout)) {
            rc = ivl_fail(IVL_E_IO, _("cannot write the report to standard output"));
        }
    }
    free(doc);
    return rc ? cli_error(c, rc) : 0;
}
