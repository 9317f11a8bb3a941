/*
 * flags.c - `ivl report --flags`: the patterns auditors of voucher schemes
 * look for, found by walking the signed log.
 *
 * The log is read once, in order (every entry proven in the signed tree),
 * into small tables: vouchers, redemptions (with the voucher balance just
 * before each), claims (with their approval and payment), suspensions. The
 * detectors then run over those tables. Every flag names the entries and
 * parties behind it and says in words why it was raised. docs/FLAGS.md
 * describes each detector, its threshold and why auditors care.
 *
 * Money is integer fen and every share is integer arithmetic. Thresholds are
 * integers; IVL_FLAG_THRESHOLDS="name=N,name=N" overrides them (names below).
 *
 * Window (--from/--to): an entry is examined only when appended inside it;
 * what came before (issuance, balances, suspensions) is context. --budget
 * keeps only vouchers of that budget and what was done with them.
 */
#include "cli.h"
#include "i18n.h"
#include "parse.h"
#include "progress.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define HOUR 3600
#define DAY  86400

/* ---- thresholds ---- */

static struct thresholds {
    uint64_t claim_soon_hours;  /* claim this soon after its redemption: flag */
    uint64_t claim_high_hours;  /* ... and this soon: high severity */
    uint64_t claim_issue_days;  /* claim this soon after the voucher was issued */
    uint64_t concentration_pct; /* one provider's share of an enterprise's redeemed money */
    uint64_t concentration_min; /* ... over at least this many redemptions at that provider */
    uint64_t repeat_min;        /* the same amount at this many different enterprises */
    uint64_t limit_slack_pct;   /* coverage within this % above the voucher balance it drains */
    uint64_t group_min;         /* enterprises of one group at one provider */
    uint64_t late_days;         /* payment this long after approval */
    uint64_t late_high_days;    /* ... high severity */
    uint64_t unpaid_days;       /* approved and still unpaid this long */
    uint64_t suspend_days;      /* activity this long before a suspension */
} th;

static const struct thresholds th_default = {72, 24, 7, 80, 2, 3, 1, 2, 60, 180, 60, 30};

static const struct {
    const char *name;
    uint64_t *v;
} th_names[] = {
    {"claim_soon_hours", &th.claim_soon_hours},
    {"claim_high_hours", &th.claim_high_hours},
    {"claim_issue_days", &th.claim_issue_days},
    {"concentration_pct", &th.concentration_pct},
    {"concentration_min", &th.concentration_min},
    {"repeat_min", &th.repeat_min},
    {"limit_slack_pct", &th.limit_slack_pct},
    {"group_min", &th.group_min},
    {"late_days", &th.late_days},
    {"late_high_days", &th.late_high_days},
    {"unpaid_days", &th.unpaid_days},
    {"suspend_days", &th.suspend_days},
};
#define N_TH (sizeof th_names / sizeof th_names[0])

/* Reads IVL_FLAG_THRESHOLDS="name=N,name=N" over the defaults. */
static int load_thresholds(void)
{
    th = th_default;
    const char *env = getenv("IVL_FLAG_THRESHOLDS");
    if (!env || !*env) return 0;
    char buf[512];
    if (strlen(env) >= sizeof buf)
        return ivl_fail(IVL_E_USAGE, _("IVL_FLAG_THRESHOLDS is too long"));
    strcpy(buf, env);
    char *save = NULL;
    for (char *item = strtok_r(buf, ", ", &save); item; item = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(item, '=');
        size_t i;
        if (eq) *eq = 0;
        for (i = 0; i < N_TH && strcmp(th_names[i].name, item); i++) {
        }
        if (!eq || i == N_TH)
            return ivl_fail(IVL_E_USAGE,
                            _("IVL_FLAG_THRESHOLDS: '%s' is not name=N with a known name "
                              "(see docs/FLAGS.md)"),
                            item);
        char *end;
        errno = 0;
        unsigned long long v = strtoull(eq + 1, &end, 10);
        if (eq[1] < '0' || eq[1] > '9' || *end || errno || v > 1000000)
            return ivl_fail(IVL_E_USAGE, _("IVL_FLAG_THRESHOLDS: %s=%s is not a whole number"),
                            item, eq + 1);
        *th_names[i].v = v;
    }
    if (th.concentration_min == 0) th.concentration_min = 1;
    if (th.repeat_min < 2) th.repeat_min = 2;
    if (th.group_min < 2) th.group_min = 2;
    return 0;
}

/* ---- growable arrays and an id map ---- */

static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, nc * elem);
    if (!q) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    *p = q;
    *cap = nc;
    return 0;
}
#define PUSH(arr, n, cap) grow((void **)&(arr), &(cap), (n), sizeof *(arr))

/* Open addressing over keys of up to 32 bytes (random ids and hashes:
 * their first bytes are already uniformly distributed). */
struct map_slot {
    uint8_t key[32];
    uint32_t val; /* index + 1; 0 = empty */
};
struct map {
    struct map_slot *s;
    size_t cap, n, klen;
};

static uint64_t map_hash(const uint8_t *k)
{
    uint64_t h;
    memcpy(&h, k, sizeof h);
    return h * 0x9E3779B97F4A7C15ull;
}

static int map_put(struct map *m, const uint8_t *k, uint32_t val);

static int map_rehash(struct map *m)
{
    struct map old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->n = 0;
    m->s = calloc(m->cap, sizeof *m->s);
    if (!m->s) {
        *m = old;
        return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    }
    for (size_t i = 0; i < old.cap; i++)
        if (old.s[i].val) map_put(m, old.s[i].key, old.s[i].val - 1);
    free(old.s);
    return 0;
}

static int map_put(struct map *m, const uint8_t *k, uint32_t val)
{
    if ((m->n + 1) * 2 > m->cap) {
        int rc = map_rehash(m);
        if (rc) return rc;
    }
    size_t i = map_hash(k) & (m->cap - 1);
    while (m->s[i].val && memcmp(m->s[i].key, k, m->klen))
        i = (i + 1) & (m->cap - 1);
    if (!m->s[i].val) m->n++;
    memcpy(m->s[i].key, k, m->klen);
    m->s[i].val = val + 1;
    return 0;
}

/* Index stored under k, or -1. */
static long map_get(const struct map *m, const uint8_t *k)
{
    if (!m->cap) return -1;
    size_t i = map_hash(k) & (m->cap - 1);
    while (m->s[i].val) {
        if (!memcmp(m->s[i].key, k, m->klen)) return (long)m->s[i].val - 1;
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

/* ---- what the walk collects ---- */

struct budget_info {
    char id[IVL_MAX_BUDGETID + 1];
    uint32_t ratio_bp;
};

struct voucher {
    uint8_t id[IVL_ID_LEN];
    ivl_uscc holder;
    uint64_t face, remaining;
    uint32_t ratio_bp;
    uint64_t seq;
    int64_t at;
    int in_budget, closed; /* closed: revoked or expired */
};

struct redemption {
    uint8_t id[IVL_ID_LEN];
    uint32_t voucher;
    ivl_uscc sme, provider;
    uint8_t contract[IVL_HASHLEN];
    uint64_t contract_amount, amount, balance_before;
    uint64_t seq;
    int64_t at;
    int cancelled;
};

enum { CL_PENDING, CL_APPROVED, CL_REJECTED, CL_PAID, CL_CLAWED };

struct claim {
    uint8_t id[IVL_ID_LEN];
    uint32_t red;
    uint64_t amount;
    uint64_t seq, approve_seq, pay_seq;
    int64_t at, approve_at, pay_at;
    int status;
};

struct suspension {
    ivl_uscc uscc;
    uint64_t seq;
    int64_t at;
};

struct walk {
    struct ivl_state st;
    const struct cli_report_opts *o;
    int64_t from, to, report_time;
    uint64_t size;
    struct budget_info *bud;
    size_t n_bud, cap_bud;
    struct voucher *v;
    size_t n_v, cap_v;
    struct redemption *r;
    size_t n_r, cap_r;
    struct claim *cl;
    size_t n_cl, cap_cl;
    struct suspension *su;
    size_t n_su, cap_su;
    struct map vmap, rmap, cmap;
    struct ivl_party_rec *pa; /* every party, sorted by USCC (the table's order) */
    size_t n_pa, cap_pa;
};

static int in_window(const struct walk *w, int64_t t)
{
    return t >= w->from && t <= w->to;
}

static const struct ivl_party_rec *party(const struct walk *w, const char *uscc)
{
    size_t lo = 0, hi = w->n_pa;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(w->pa[mid].p.uscc, uscc);
        if (!c) return &w->pa[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const char *group_of(const struct walk *w, const char *uscc)
{
    const struct ivl_party_rec *p = party(w, uscc);
    return p ? p->p.group : "";
}

/* "name (USCC)" for messages. */
static const char *who(const struct walk *w, const char *uscc, char *buf, size_t n)
{
    const struct ivl_party_rec *p = party(w, uscc);
    if (p)
        snprintf(buf, n, "%s (%s)", p->p.name, uscc);
    else
        snprintf(buf, n, "%s", uscc);
    return buf;
}

static int load_parties(struct walk *w)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(w->st.txn, w->st.dbi[IVL_DB_PARTIES], &cur);
    if (rc) return ivl_st_mdb_err(rc, "parties");
    for (int r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
         r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if ((rc = PUSH(w->pa, w->n_pa, w->cap_pa))) break;
        if ((rc = ivl_rec_party(&v, &w->pa[w->n_pa]))) break;
        w->n_pa++;
    }
    mdb_cursor_close(cur);
    return rc;
}

static uint32_t budget_ratio(const struct walk *w, const char *id)
{
    for (size_t i = 0; i < w->n_bud; i++)
        if (!strcmp(w->bud[i].id, id)) return w->bud[i].ratio_bp;
    return 10000;
}

static long find(const struct map *m, const uint8_t *id)
{
    return map_get(m, id);
}

/* One entry of the log into the tables. */
static int take(struct walk *w, const struct ivl_entry *e)
{
    int rc = 0;
    long i;
    switch (e->type) {
    case IVL_T_BUDGET:
        if ((rc = PUSH(w->bud, w->n_bud, w->cap_bud))) return rc;
        snprintf(w->bud[w->n_bud].id, sizeof w->bud[0].id, "%s", e->u.budget.budget);
        w->bud[w->n_bud++].ratio_bp = e->u.budget.ratio_bp;
        break;
    case IVL_T_SUSPEND:
        if ((rc = PUSH(w->su, w->n_su, w->cap_su))) return rc;
        memcpy(w->su[w->n_su].uscc, e->u.suspend.uscc, sizeof(ivl_uscc));
        w->su[w->n_su].seq = e->seq;
        w->su[w->n_su++].at = e->appended_at;
        break;
    case IVL_T_ISSUE: {
        if ((rc = PUSH(w->v, w->n_v, w->cap_v))) return rc;
        struct voucher *v = &w->v[w->n_v];
        memset(v, 0, sizeof *v);
        memcpy(v->id, e->id, IVL_ID_LEN);
        memcpy(v->holder, e->u.issue.holder, sizeof(ivl_uscc));
        v->face = v->remaining = e->u.issue.amount;
        v->ratio_bp = budget_ratio(w, e->u.issue.budget);
        v->seq = e->seq;
        v->at = e->appended_at;
        v->in_budget = !w->o->budget || !strcmp(w->o->budget, e->u.issue.budget);
        if ((rc = map_put(&w->vmap, e->id, (uint32_t)w->n_v))) return rc;
        w->n_v++;
        break;
    }
    case IVL_T_REDEEM: {
        if ((i = find(&w->vmap, e->u.redeem.voucher)) < 0) break;
        if ((rc = PUSH(w->r, w->n_r, w->cap_r))) return rc;
        struct redemption *r = &w->r[w->n_r];
        struct voucher *v = &w->v[i];
        memset(r, 0, sizeof *r);
        memcpy(r->id, e->id, IVL_ID_LEN);
        r->voucher = (uint32_t)i;
        memcpy(r->sme, e->u.redeem.sme, sizeof(ivl_uscc));
        memcpy(r->provider, e->u.redeem.provider, sizeof(ivl_uscc));
        memcpy(r->contract, e->u.redeem.contract, IVL_HASHLEN);
        r->contract_amount = e->u.redeem.contract_amount;
        r->amount = e->u.redeem.amount;
        r->balance_before = v->remaining;
        v->remaining -= r->amount <= v->remaining ? r->amount : v->remaining;
        r->seq = e->seq;
        r->at = e->appended_at;
        if ((rc = map_put(&w->rmap, e->id, (uint32_t)w->n_r))) return rc;
        w->n_r++;
        break;
    }
    case IVL_T_CANCEL:
        if ((i = find(&w->rmap, e->u.target.target)) < 0) break;
        w->r[i].cancelled = 1;
        w->v[w->r[i].voucher].remaining += w->r[i].amount;
        break;
    case IVL_T_CLAIM: {
        if ((i = find(&w->rmap, e->u.claim.redemption)) < 0) break;
        if ((rc = PUSH(w->cl, w->n_cl, w->cap_cl))) return rc;
        struct claim *c = &w->cl[w->n_cl];
        memset(c, 0, sizeof *c);
        memcpy(c->id, e->id, IVL_ID_LEN);
        c->red = (uint32_t)i;
        c->amount = e->u.claim.amount;
        c->seq = e->seq;
        c->at = e->appended_at;
        c->status = CL_PENDING;
        if ((rc = map_put(&w->cmap, e->id, (uint32_t)w->n_cl))) return rc;
        w->n_cl++;
        break;
    }
    case IVL_T_APPROVE:
    case IVL_T_REJECT:
    case IVL_T_PAY:
    case IVL_T_CLAWBACK: {
        if ((i = find(&w->cmap, e->u.target.target)) < 0) break;
        struct claim *c = &w->cl[i];
        if (e->type == IVL_T_APPROVE) {
            c->status = CL_APPROVED;
            c->approve_seq = e->seq;
            c->approve_at = e->appended_at;
        } else if (e->type == IVL_T_PAY) {
            c->status = CL_PAID;
            c->pay_seq = e->seq;
            c->pay_at = e->appended_at;
        } else {
            c->status = e->type == IVL_T_REJECT ? CL_REJECTED : CL_CLAWED;
        }
        break;
    }
    case IVL_T_REVOKE:
        if ((i = find(&w->vmap, e->u.target.target)) < 0) break;
        w->v[i].closed = 1;
        w->v[i].remaining = 0;
        break;
    case IVL_T_EXPIRE:
        for (uint32_t k = 0; k < e->u.expire.n; k++) {
            if ((i = find(&w->vmap, e->u.expire.list[k].voucher)) < 0) continue;
            w->v[i].closed = 1;
            w->v[i].remaining = 0;
        }
        break;
    default: break;
    }
    return rc;
}

/* A redemption the detectors look at: in the window and the budget, not called off. */
static int red_live(const struct walk *w, const struct redemption *r)
{
    return !r->cancelled && w->v[r->voucher].in_budget && in_window(w, r->at);
}

/* ---- the flags ---- */

enum { SEV_HIGH, SEV_MEDIUM, SEV_LOW };
static const char *const sev_name[] = {"high", "medium", "low"};

struct flag {
    const char *name;
    int sev;
    char *msg;
    uint64_t *seqs;
    size_t n_seqs, cap_seqs;
    ivl_uscc *parties;
    size_t n_parties, cap_parties;
    int has_amount;
    uint64_t amount;
};

struct flags {
    struct flag *f;
    size_t n, cap;
    int rc;
};

static struct flag *flag_new(struct flags *fl, const char *name, int sev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static struct flag *flag_new(struct flags *fl, const char *name, int sev, const char *fmt, ...)
{
    if (fl->rc || (fl->rc = PUSH(fl->f, fl->n, fl->cap))) return NULL;
    struct flag *f = &fl->f[fl->n];
    memset(f, 0, sizeof *f);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    f->msg = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (!f->msg) {
        fl->rc = ivl_fail(IVL_E_NOMEM, _("out of memory"));
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(f->msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    f->name = name;
    f->sev = sev;
    fl->n++;
    return f;
}

static void flag_seq(struct flags *fl, struct flag *f, uint64_t seq)
{
    if (!f || fl->rc) return;
    for (size_t i = 0; i < f->n_seqs; i++)
        if (f->seqs[i] == seq) return;
    if ((fl->rc = PUSH(f->seqs, f->n_seqs, f->cap_seqs))) return;
    f->seqs[f->n_seqs++] = seq;
}

static void flag_party(struct flags *fl, struct flag *f, const char *uscc)
{
    if (!f || fl->rc) return;
    for (size_t i = 0; i < f->n_parties; i++)
        if (!strcmp(f->parties[i], uscc)) return;
    if ((fl->rc = PUSH(f->parties, f->n_parties, f->cap_parties))) return;
    memcpy(f->parties[f->n_parties++], uscc, sizeof(ivl_uscc));
}

static void flag_amount(struct flag *f, uint64_t fen)
{
    if (!f) return;
    f->has_amount = 1;
    f->amount = fen;
}

/* "40 minutes", "5 hours", "120 days" */
static const char *dur(int64_t s, char *buf, size_t n)
{
    if (s < 0) s = 0;
    if (s < 2 * HOUR)
        snprintf(buf, n, _("%lld minutes"), (long long)(s / 60));
    else if (s < 3 * DAY)
        snprintf(buf, n, _("%lld hours"), (long long)(s / HOUR));
    else
        snprintf(buf, n, _("%lld days"), (long long)(s / DAY));
    return buf;
}

/* ---- detectors ---- */

/* A claim very soon after its redemption, or after the voucher was issued:
 * too little time for a real service to be delivered and invoiced. */
static void detect_claim_soon(struct walk *w, struct flags *fl)
{
    char a[24], d[48], n1[256], n2[256], t[40];
    for (size_t i = 0; i < w->n_cl; i++) {
        const struct claim *c = &w->cl[i];
        const struct redemption *r = &w->r[c->red];
        const struct voucher *v = &w->v[r->voucher];
        if (!v->in_budget || !in_window(w, c->at)) continue;
        int64_t dr = c->at - r->at, di = c->at - v->at;
        if (dr < (int64_t)(th.claim_soon_hours * HOUR)) {
            ivl_time_format_human(r->at, t, sizeof t);
            struct flag *f = flag_new(
                fl, "claim_soon_after_redeem",
                dr < (int64_t)(th.claim_high_hours * HOUR) ? SEV_HIGH : SEV_MEDIUM,
                _("%s claimed %s only %s after %s redeemed the voucher with it (%s): too little "
                  "time for the service to have been delivered and invoiced (threshold %llu "
                  "hours)"),
                who(w, r->provider, n1, sizeof n1), cli_amt(c->amount, a), dur(dr, d, sizeof d),
                who(w, r->sme, n2, sizeof n2), t, (unsigned long long)th.claim_soon_hours);
            flag_seq(fl, f, r->seq);
            flag_seq(fl, f, c->seq);
            flag_party(fl, f, r->sme);
            flag_party(fl, f, r->provider);
            flag_amount(f, c->amount);
        }
        if (di < (int64_t)(th.claim_issue_days * DAY)) {
            ivl_time_format_human(v->at, t, sizeof t);
            struct flag *f = flag_new(
                fl, "claim_soon_after_issue", SEV_HIGH,
                _("%s claimed %s only %s after the voucher was issued to %s (%s): contract, "
                  "service and invoice all within %llu days"),
                who(w, r->provider, n1, sizeof n1), cli_amt(c->amount, a), dur(di, d, sizeof d),
                who(w, r->sme, n2, sizeof n2), t, (unsigned long long)th.claim_issue_days);
            flag_seq(fl, f, v->seq);
            flag_seq(fl, f, r->seq);
            flag_seq(fl, f, c->seq);
            flag_party(fl, f, r->sme);
            flag_party(fl, f, r->provider);
            flag_amount(f, c->amount);
        }
    }
}

/* Whose redemptions are pooled: one enterprise, or every member of a group. */
static int same_holder(const struct walk *w, const struct redemption *r, const char *sme,
                       const char *group)
{
    if (*group) return !strcmp(group_of(w, r->sme), group);
    return !strcmp(r->sme, sme);
}

/* One provider taking most of an enterprise's (or a group's) voucher money,
 * over several redemptions. */
static void concentration(struct walk *w, struct flags *fl, const char *sme, const char *group)
{
    char a1[24], a2[24], n1[256], n2[256];
    uint64_t total = 0;
    const char *first = NULL;
    int several = 0; /* more than one enterprise redeemed */
    for (size_t i = 0; i < w->n_r; i++) {
        const struct redemption *r = &w->r[i];
        if (!red_live(w, r) || !same_holder(w, r, sme, group)) continue;
        total += r->amount;
        if (!first)
            first = r->sme;
        else if (strcmp(first, r->sme))
            several = 1;
    }
    /* A group with one redeeming member is that member's own flag. */
    if (!total || (*group && !several)) return;
    for (size_t i = 0; i < w->n_r; i++) {
        const struct redemption *r = &w->r[i];
        if (!red_live(w, r) || !same_holder(w, r, sme, group)) continue;
        /* Each provider once: at its first redemption from this holder. */
        size_t j;
        for (j = 0; j < i; j++)
            if (red_live(w, &w->r[j]) && same_holder(w, &w->r[j], sme, group) &&
                !strcmp(w->r[j].provider, r->provider))
                break;
        if (j < i) continue;
        uint64_t at = 0, n = 0;
        for (j = i; j < w->n_r; j++)
            if (red_live(w, &w->r[j]) && same_holder(w, &w->r[j], sme, group) &&
                !strcmp(w->r[j].provider, r->provider)) {
                at += w->r[j].amount;
                n++;
            }
        if (n < th.concentration_min || at * 100 < th.concentration_pct * total) continue;
        unsigned pct = (unsigned)(at * 100 / total);
        struct flag *f;
        int sev = n >= 3 ? SEV_MEDIUM : SEV_LOW;
        if (*group)
            f = flag_new(fl, "provider_concentration", sev,
                         _("%s took %u%% of the voucher money redeemed by the enterprises of "
                           "group %s (%s of %s, in %llu redemptions; threshold %llu%%)"),
                         who(w, r->provider, n1, sizeof n1), pct, group, cli_amt(at, a1),
                         cli_amt(total, a2), (unsigned long long)n,
                         (unsigned long long)th.concentration_pct);
        else
            f = flag_new(fl, "provider_concentration", sev,
                         _("%s took %u%% of the voucher money redeemed by %s (%s of %s, in %llu "
                           "redemptions; threshold %llu%%)"),
                         who(w, r->provider, n1, sizeof n1), pct, who(w, sme, n2, sizeof n2),
                         cli_amt(at, a1), cli_amt(total, a2), (unsigned long long)n,
                         (unsigned long long)th.concentration_pct);
        for (j = i; j < w->n_r; j++)
            if (red_live(w, &w->r[j]) && same_holder(w, &w->r[j], sme, group) &&
                !strcmp(w->r[j].provider, r->provider)) {
                flag_seq(fl, f, w->r[j].seq);
                flag_party(fl, f, w->r[j].sme);
            }
        flag_party(fl, f, r->provider);
        flag_amount(f, at);
    }
}

static void detect_concentration(struct walk *w, struct flags *fl)
{
    for (size_t i = 0; i < w->n_r; i++) {
        const struct redemption *r = &w->r[i];
        if (!red_live(w, r)) continue;
        size_t j;
        for (j = 0; j < i && (!red_live(w, &w->r[j]) || strcmp(w->r[j].sme, r->sme)); j++) {
        }
        if (j == i) concentration(w, fl, r->sme, "");
        const char *g = group_of(w, r->sme);
        if (!*g) continue;
        for (j = 0; j < i && (!red_live(w, &w->r[j]) || strcmp(group_of(w, w->r[j].sme), g)); j++) {
        }
        if (j == i) concentration(w, fl, r->sme, g);
    }
}

/* Several enterprises of one group buying from one provider (one project
 * split among the members?), and a group member buying from a provider that
 * another member registered as its related party. */
static void detect_group(struct walk *w, struct flags *fl)
{
    char n1[256], n2[256], n3[256], a[24];
    for (size_t i = 0; i < w->n_r; i++) {
        const struct redemption *r = &w->r[i];
        if (!red_live(w, r)) continue;
        const char *g = group_of(w, r->sme);
        if (!*g) continue;
        /* related provider of a fellow member */
        for (size_t p = 0; p < w->n_pa; p++) {
            const struct ivl_party_rec *m = &w->pa[p];
            if (!strcmp(m->p.uscc, r->sme) || strcmp(m->p.group, g)) continue;
            for (uint32_t k = 0; k < m->p.n_related; k++) {
                if (strcmp(m->p.related[k], r->provider)) continue;
                struct flag *f = flag_new(
                    fl, "related_provider_in_group", SEV_HIGH,
                    _("%s redeemed %s at %s, a registered related party of %s in the same "
                      "group %s: the related-party rule is sidestepped through a group member"),
                    who(w, r->sme, n1, sizeof n1), cli_amt(r->amount, a),
                    who(w, r->provider, n2, sizeof n2), who(w, m->p.uscc, n3, sizeof n3), g);
                flag_seq(fl, f, r->seq);
                flag_party(fl, f, r->sme);
                flag_party(fl, f, r->provider);
                flag_party(fl, f, m->p.uscc);
                flag_amount(f, r->amount);
            }
        }
        /* shared provider: once per (group, provider), at its first redemption */
        size_t j;
        for (j = 0; j < i; j++)
            if (red_live(w, &w->r[j]) && !strcmp(w->r[j].provider, r->provider) &&
                !strcmp(group_of(w, w->r[j].sme), g))
                break;
        if (j < i) continue;
        size_t members = 0;
        uint64_t sum = 0;
        for (j = i; j < w->n_r; j++) {
            const struct redemption *x = &w->r[j];
            if (!red_live(w, x) || strcmp(x->provider, r->provider) ||
                strcmp(group_of(w, x->sme), g))
                continue;
            sum += x->amount;
            size_t k;
            for (k = i; k < j; k++)
                if (red_live(w, &w->r[k]) && !strcmp(w->r[k].provider, r->provider) &&
                    !strcmp(w->r[k].sme, x->sme))
                    break;
            if (k == j) members++;
        }
        if (members < th.group_min) continue;
        struct flag *f =
            flag_new(fl, "group_shared_provider", members >= 3 ? SEV_MEDIUM : SEV_LOW,
                     _("%zu enterprises of group %s all bought services from %s (%s in all): "
                       "check whether one project was split among the group's members"),
                     members, g, who(w, r->provider, n1, sizeof n1), cli_amt(sum, a));
        for (j = i; j < w->n_r; j++) {
            const struct redemption *x = &w->r[j];
            if (!red_live(w, x) || strcmp(x->provider, r->provider) ||
                strcmp(group_of(w, x->sme), g))
                continue;
            flag_seq(fl, f, x->seq);
            flag_party(fl, f, x->sme);
        }
        flag_party(fl, f, r->provider);
        flag_amount(f, sum);
    }
}

/* The same amount at several different enterprises. */
struct amt_row {
    uint64_t amount, seq;
    const char *sme;
};

static int amt_cmp(const void *a, const void *b)
{
    const struct amt_row *x = a, *y = b;
    if (x->amount != y->amount) return x->amount < y->amount ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void repeated(struct flags *fl, struct amt_row *rows, size_t n, int kind)
{
    char a[24];
    qsort(rows, n, sizeof *rows, amt_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1, distinct = 1;
        for (; j < n && rows[j].amount == rows[i].amount; j++) {
            size_t k;
            for (k = i; k < j && strcmp(rows[k].sme, rows[j].sme); k++) {
            }
            if (k == j) distinct++;
        }
        if (distinct >= th.repeat_min) {
            struct flag *f;
            if (kind == IVL_T_ISSUE)
                f = flag_new(fl, "repeated_amounts", SEV_LOW,
                             _("vouchers of exactly %s were issued to %zu different enterprises"),
                             cli_amt(rows[i].amount, a), distinct);
            else if (kind == IVL_T_REDEEM)
                f = flag_new(fl, "repeated_amounts", SEV_MEDIUM,
                             _("%zu different enterprises redeemed exactly %s each: identical "
                               "amounts across unrelated firms suggest templated contracts"),
                             distinct, cli_amt(rows[i].amount, a));
            else
                f = flag_new(fl, "repeated_amounts", SEV_MEDIUM,
                             _("%zu different enterprises signed contracts of exactly %s each: "
                               "identical contract sums across firms suggest templated "
                               "contracts"),
                             distinct, cli_amt(rows[i].amount, a));
            for (size_t k = i; k < j; k++) {
                flag_seq(fl, f, rows[k].seq);
                flag_party(fl, f, rows[k].sme);
            }
            flag_amount(f, rows[i].amount);
            /* A contract sum that repeats because the redeemed sums already
             * did (same entries) says nothing new. */
            if (f && kind == 0 && fl->n >= 2) {
                for (size_t q = 0; q + 1 < fl->n; q++) {
                    struct flag *g = &fl->f[q];
                    if (strcmp(g->name, "repeated_amounts") || g->n_seqs != f->n_seqs) continue;
                    size_t s;
                    for (s = 0; s < f->n_seqs && g->seqs[s] == f->seqs[s]; s++) {
                    }
                    if (s == f->n_seqs) {
                        free(f->msg);
                        free(f->seqs);
                        free(f->parties);
                        fl->n--;
                        break;
                    }
                }
            }
        }
        i = j;
    }
}

static void detect_repeated(struct walk *w, struct flags *fl)
{
    size_t cap = w->n_v > w->n_r ? w->n_v : w->n_r, n = 0;
    struct amt_row *rows = malloc((cap ? cap : 1) * sizeof *rows);
    if (!rows) {
        fl->rc = ivl_fail(IVL_E_NOMEM, _("out of memory"));
        return;
    }
    for (size_t i = 0; i < w->n_v; i++)
        if (w->v[i].in_budget && in_window(w, w->v[i].at))
            rows[n++] = (struct amt_row){w->v[i].face, w->v[i].seq, w->v[i].holder};
    repeated(fl, rows, n, IVL_T_ISSUE);
    n = 0;
    for (size_t i = 0; i < w->n_r; i++)
        if (red_live(w, &w->r[i]))
            rows[n++] = (struct amt_row){w->r[i].amount, w->r[i].seq, w->r[i].sme};
    repeated(fl, rows, n, IVL_T_REDEEM);
    n = 0;
    for (size_t i = 0; i < w->n_r; i++) {
        if (!red_live(w, &w->r[i])) continue;
        size_t j; /* one row per contract */
        for (j = 0; j < i && memcmp(w->r[j].contract, w->r[i].contract, IVL_HASHLEN); j++) {
        }
        if (j == i) rows[n++] = (struct amt_row){w->r[i].contract_amount, w->r[i].seq, w->r[i].sme};
    }
    repeated(fl, rows, n, 0);
    free(rows);
}

/* A contract whose coverage (ratio x contract) lands just at the voucher
 * balance it drains: the contract looks sized to the voucher, not to the work. */
static void detect_limit(struct walk *w, struct flags *fl)
{
    char a1[24], a2[24], a3[24], n1[256], n2[256], h[65];
    for (size_t i = 0; i < w->n_r; i++) {
        const struct redemption *r = &w->r[i];
        if (!red_live(w, r)) continue;
        size_t j; /* each contract once, at its first live redemption */
        for (j = 0; j < i &&
                    (!red_live(w, &w->r[j]) || memcmp(w->r[j].contract, r->contract, IVL_HASHLEN));
             j++) {
        }
        if (j < i) continue;
        uint64_t sum = 0;
        int drained = 0;
        uint32_t ratio = w->v[r->voucher].ratio_bp;
        for (j = i; j < w->n_r; j++) {
            const struct redemption *x = &w->r[j];
            if (x->cancelled || memcmp(x->contract, r->contract, IVL_HASHLEN)) continue;
            sum += x->amount;
            if (x->amount == x->balance_before) drained = 1;
        }
        /* floor(contract x ratio), without overflow */
        uint64_t limit =
            r->contract_amount / 10000 * ratio + r->contract_amount % 10000 * ratio / 10000;
        if (!drained || sum > limit) continue;
        if ((limit - sum) * 100 > th.limit_slack_pct * limit) continue;
        cli_hex(r->contract, 6, h);
        struct flag *f = flag_new(
            fl, "contract_at_coverage_limit", SEV_MEDIUM,
            _("contract %s… of %s with %s: %s at %u.%02u%% coverage allows %s and %s was redeemed, "
              "emptying the voucher: the contract looks sized to the voucher rather than to the "
              "work (slack %llu%%)"),
            h, who(w, r->sme, n1, sizeof n1), who(w, r->provider, n2, sizeof n2),
            cli_amt(r->contract_amount, a1), ratio / 100, ratio % 100, cli_amt(limit, a2),
            cli_amt(sum, a3), (unsigned long long)th.limit_slack_pct);
        for (j = i; j < w->n_r; j++) {
            const struct redemption *x = &w->r[j];
            if (x->cancelled || memcmp(x->contract, r->contract, IVL_HASHLEN)) continue;
            flag_seq(fl, f, w->v[x->voucher].seq);
            flag_seq(fl, f, x->seq);
        }
        flag_party(fl, f, r->sme);
        flag_party(fl, f, r->provider);
        flag_amount(f, sum);
    }
}

/* Payments long after approval; approvals long unpaid. */
static void detect_late(struct walk *w, struct flags *fl)
{
    char a[24], d[48], n1[256], t[40];
    for (size_t i = 0; i < w->n_cl; i++) {
        const struct claim *c = &w->cl[i];
        const struct redemption *r = &w->r[c->red];
        if (!w->v[r->voucher].in_budget || !c->approve_seq) continue;
        if (c->pay_seq && in_window(w, c->pay_at)) {
            int64_t dt = c->pay_at - c->approve_at;
            if (dt < (int64_t)(th.late_days * DAY)) continue;
            ivl_time_format_human(c->approve_at, t, sizeof t);
            struct flag *f =
                flag_new(fl, "late_payment",
                         dt >= (int64_t)(th.late_high_days * DAY) ? SEV_HIGH : SEV_MEDIUM,
                         _("%s for %s was paid %s after it was approved (%s; threshold %llu days)"),
                         cli_amt(c->amount, a), who(w, r->provider, n1, sizeof n1),
                         dur(dt, d, sizeof d), t, (unsigned long long)th.late_days);
            flag_seq(fl, f, c->seq);
            flag_seq(fl, f, c->approve_seq);
            flag_seq(fl, f, c->pay_seq);
            flag_party(fl, f, r->provider);
            flag_party(fl, f, r->sme);
            flag_amount(f, c->amount);
        } else if (c->status == CL_APPROVED && in_window(w, c->approve_at)) {
            int64_t dt = w->report_time - c->approve_at;
            if (dt < (int64_t)(th.unpaid_days * DAY)) continue;
            ivl_time_format_human(c->approve_at, t, sizeof t);
            struct flag *f = flag_new(
                fl, "approved_unpaid", SEV_LOW,
                _("%s for %s was approved %s ago (%s) and is still unpaid (threshold %llu days)"),
                cli_amt(c->amount, a), who(w, r->provider, n1, sizeof n1), dur(dt, d, sizeof d), t,
                (unsigned long long)th.unpaid_days);
            flag_seq(fl, f, c->seq);
            flag_seq(fl, f, c->approve_seq);
            flag_party(fl, f, r->provider);
            flag_amount(f, c->amount);
        }
    }
}

/* Suspended parties with recent activity: dealings shortly before the
 * suspension, anything done for them after it, and claims or voucher
 * balances it left open (these when the suspension is in the window). */
static void detect_suspended(struct walk *w, struct flags *fl)
{
    char n1[256], t[40], a[24];
    for (size_t s = 0; s < w->n_su; s++) {
        const struct suspension *su = &w->su[s];
        const char *x = su->uscc;
        int64_t lo = su->at - (int64_t)(th.suspend_days * DAY);
        size_t before = 0, after = 0, open = 0, vopen = 0;
        /* gather into a scratch flag, emitted only when something was found */
        struct flag tmp;
        memset(&tmp, 0, sizeof tmp);
        struct flags scratch = {&tmp, 0, 0, 0};
        scratch.n = 1;
        scratch.cap = 1;
        uint64_t money = 0;
#define NOTE(seq, t_, counter)                                                                     \
    do {                                                                                           \
        if (in_window(w, (t_))) {                                                                  \
            flag_seq(&scratch, &tmp, (seq));                                                       \
            counter++;                                                                             \
        }                                                                                          \
    } while (0)
        for (size_t i = 0; i < w->n_v; i++) {
            const struct voucher *v = &w->v[i];
            if (!v->in_budget || strcmp(v->holder, x)) continue;
            if (v->at >= lo && v->at <= su->at) NOTE(v->seq, v->at, before);
            if (!v->closed && v->remaining && v->at <= su->at && in_window(w, su->at)) {
                flag_seq(&scratch, &tmp, v->seq);
                vopen++;
                money += v->remaining;
            }
        }
        for (size_t i = 0; i < w->n_r; i++) {
            const struct redemption *r = &w->r[i];
            if (!w->v[r->voucher].in_budget || (strcmp(r->sme, x) && strcmp(r->provider, x)))
                continue;
            if (r->at >= lo && r->at <= su->at) NOTE(r->seq, r->at, before);
        }
        for (size_t i = 0; i < w->n_cl; i++) {
            const struct claim *c = &w->cl[i];
            const struct redemption *r = &w->r[c->red];
            if (!w->v[r->voucher].in_budget || (strcmp(r->sme, x) && strcmp(r->provider, x)))
                continue;
            if (c->at >= lo && c->at <= su->at) NOTE(c->seq, c->at, before);
            if (c->at > su->at) NOTE(c->seq, c->at, after);
            if (c->approve_seq && c->approve_at >= lo && c->approve_at <= su->at)
                NOTE(c->approve_seq, c->approve_at, before);
            if (c->approve_seq && c->approve_at > su->at)
                NOTE(c->approve_seq, c->approve_at, after);
            if (c->pay_seq && c->pay_at >= lo && c->pay_at <= su->at)
                NOTE(c->pay_seq, c->pay_at, before);
            if (c->pay_seq && c->pay_at > su->at) NOTE(c->pay_seq, c->pay_at, after);
            if ((c->status == CL_PENDING || c->status == CL_APPROVED) && in_window(w, su->at)) {
                flag_seq(&scratch, &tmp, c->seq);
                open++;
            }
        }
#undef NOTE
        if (scratch.rc) {
            fl->rc = scratch.rc;
            free(tmp.seqs);
            return;
        }
        if (!before && !after && !open && !vopen) {
            free(tmp.seqs);
            continue;
        }
        ivl_time_format_human(su->at, t, sizeof t);
        int sev = after ? SEV_HIGH : (before || open) ? SEV_MEDIUM : SEV_LOW;
        char msg[2048];
        size_t off = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (off < sizeof msg) off += (size_t)snprintf(msg + off, sizeof msg - off, __VA_ARGS__);   \
    } while (0)
        ADD(_("%s was suspended on %s."), who(w, x, n1, sizeof n1), t);
        if (before)
            ADD(_(" %zu entries concerning it were appended in the %llu days before."), before,
                (unsigned long long)th.suspend_days);
        if (after)
            ADD(_(" %zu were appended after it: money still moving for a suspended party."), after);
        if (open) ADD(_(" %zu of its claims are still pending or approved but unpaid."), open);
        if (vopen)
            ADD(_(" %zu of its vouchers were not revoked and still hold %s."), vopen,
                cli_amt(money, a));
        ADD("%s", _(" Check what must be stopped or recovered."));
#undef ADD
        struct flag *f = flag_new(fl, "suspended_party_activity", sev, "%s", msg);
        flag_seq(fl, f, su->seq);
        for (size_t i = 0; i < tmp.n_seqs; i++)
            flag_seq(fl, f, tmp.seqs[i]);
        flag_party(fl, f, x);
        free(tmp.seqs);
    }
}

/* ---- output ---- */

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int flag_cmp(const void *a, const void *b)
{
    const struct flag *x = a, *y = b;
    if (x->sev != y->sev) return x->sev - y->sev;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    uint64_t sx = x->n_seqs ? x->seqs[0] : 0, sy = y->n_seqs ? y->seqs[0] : 0;
    return sx < sy ? -1 : sx > sy;
}

static json_t *flag_json(const struct flag *f)
{
    json_t *seqs = json_array(), *parties = json_array();
    for (size_t i = 0; i < f->n_seqs; i++)
        json_array_append_new(seqs, json_integer((json_int_t)f->seqs[i]));
    for (size_t i = 0; i < f->n_parties; i++)
        json_array_append_new(parties, json_string(f->parties[i]));
    json_t *j = json_pack("{s:s,s:s,s:s,s:o,s:o}", "flag", f->name, "severity", sev_name[f->sev],
                          "message", f->msg, "entries", seqs, "parties", parties);
    if (j && f->has_amount) json_object_set_new(j, "amount", cli_json_amount(f->amount));
    return j;
}

static void csv_cell(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void html_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

static void join_seqs(const struct flag *f, char *buf, size_t n, const char *sep)
{
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < f->n_seqs && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%llu", i ? sep : "",
                                (unsigned long long)f->seqs[i]);
}

static void join_parties(const struct flag *f, char *buf, size_t n, const char *sep)
{
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < f->n_parties && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? sep : "", f->parties[i]);
}

static void thresholds_line(char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < N_TH && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s=%llu", i ? " " : "", th_names[i].name,
                                (unsigned long long)*th_names[i].v);
}

static void print_text(FILE *out, const struct walk *w, const struct flags *fl)
{
    char buf[4096], a[24];
    size_t count[3] = {0, 0, 0};
    for (size_t i = 0; i < fl->n; i++)
        count[fl->f[i].sev]++;
    if (!fl->n)
        fprintf(out, _("No red flags in %llu entries.\n"), (unsigned long long)w->size);
    else
        fprintf(out, _("%zu red flags in %llu entries: %zu high, %zu medium, %zu low.\n"), fl->n,
                (unsigned long long)w->size, count[0], count[1], count[2]);
    for (size_t i = 0; i < fl->n; i++) {
        const struct flag *f = &fl->f[i];
        fprintf(out, "\n[%s] %s\n  %s\n", sev_name[f->sev], f->name, f->msg);
        join_seqs(f, buf, sizeof buf, ", ");
        fprintf(out, _("  entries: %s\n"), buf);
        join_parties(f, buf, sizeof buf, ", ");
        if (f->n_parties) fprintf(out, _("  parties: %s\n"), buf);
        if (f->has_amount) fprintf(out, _("  amount:  %s\n"), cli_amt(f->amount, a));
        fputs(_("  see:    "), out);
        for (size_t k = 0; k < f->n_seqs && k < 6; k++)
            fprintf(out, "%sivl show %llu", k ? "; " : "", (unsigned long long)f->seqs[k]);
        if (f->n_seqs > 6) fputs("; …", out);
        fputc('\n', out);
    }
    thresholds_line(buf, sizeof buf);
    fprintf(out, _("\nThresholds (IVL_FLAG_THRESHOLDS, docs/FLAGS.md): %s\n"), buf);
}

static void print_csv(FILE *out, const struct flags *fl)
{
    char buf[4096], a[24];
    fputs("\xEF\xBB\xBF"
          "flag,severity,message,entries,parties,amount\r\n",
          out);
    for (size_t i = 0; i < fl->n; i++) {
        const struct flag *f = &fl->f[i];
        fprintf(out, "%s,%s,", f->name, sev_name[f->sev]);
        csv_cell(out, f->msg);
        join_seqs(f, buf, sizeof buf, " ");
        fprintf(out, ",%s,", buf);
        join_parties(f, buf, sizeof buf, " ");
        fprintf(out, "%s,%s\r\n", buf, f->has_amount ? cli_amt(f->amount, a) : "");
    }
}

static void print_html(FILE *out, const struct walk *w, const struct flags *fl)
{
    char buf[4096], a[24];
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", out);
    html_text(out, _("ivl red flags"));
    fputs("</title>\n<style>body{font-family:sans-serif}table{border-collapse:collapse}"
          "td,th{border:1px solid #999;padding:4px 8px;vertical-align:top;text-align:left}"
          ".high{background:#fdd}.medium{background:#ffd}.low{background:#eef}</style>\n"
          "</head><body>\n<h1>",
          out);
    html_text(out, _("Red flags"));
    fputs("</h1>\n<p>", out);
    snprintf(buf, sizeof buf, _("%zu red flags in %llu entries."), fl->n,
             (unsigned long long)w->size);
    html_text(out, buf);
    fputs("</p>\n<table>\n<tr>", out);
    const char *heads[] = {N_("flag"),    N_("severity"), N_("message"),
                           N_("entries"), N_("parties"),  N_("amount")};
    for (size_t i = 0; i < 6; i++) {
        fputs("<th>", out);
        html_text(out, _(heads[i]));
        fputs("</th>", out);
    }
    fputs("</tr>\n", out);
    for (size_t i = 0; i < fl->n; i++) {
        const struct flag *f = &fl->f[i];
        fprintf(out, "<tr class=\"%s\"><td>", sev_name[f->sev]);
        html_text(out, f->name);
        fputs("</td><td>", out);
        html_text(out, sev_name[f->sev]);
        fputs("</td><td>", out);
        html_text(out, f->msg);
        fputs("</td><td>", out);
        join_seqs(f, buf, sizeof buf, " ");
        html_text(out, buf);
        fputs("</td><td>", out);
        join_parties(f, buf, sizeof buf, " ");
        html_text(out, buf);
        fputs("</td><td>", out);
        html_text(out, f->has_amount ? cli_amt(f->amount, a) : "");
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n<p>", out);
    thresholds_line(buf, sizeof buf);
    html_text(out, buf);
    fputs("</p>\n</body></html>\n", out);
}

static int print_json(FILE *out, const struct walk *w, const struct flags *fl)
{
    json_t *arr = json_array(), *thr = json_object();
    for (size_t i = 0; i < fl->n; i++)
        json_array_append_new(arr, flag_json(&fl->f[i]));
    for (size_t i = 0; i < N_TH; i++)
        json_object_set_new(thr, th_names[i].name, json_integer((json_int_t)*th_names[i].v));
    json_t *j = json_pack("{s:I,s:o,s:o,s:o}", "size", (json_int_t)w->size, "budget",
                          w->o->budget ? json_string(w->o->budget) : json_null(), "thresholds", thr,
                          "flags", arr);
    if (!j) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    if (w->from > 0) json_object_set_new(j, "from", cli_json_time(w->from));
    if (w->to < INT64_MAX) json_object_set_new(j, "to", cli_json_time(w->to));
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    fprintf(out, "%s\n", s);
    free(s);
    return 0;
}

static void free_walk(struct walk *w)
{
    free(w->bud);
    free(w->v);
    free(w->r);
    free(w->cl);
    free(w->su);
    free(w->pa);
    free(w->vmap.s);
    free(w->rmap.s);
    free(w->cmap.s);
}

static void free_flags(struct flags *fl)
{
    for (size_t i = 0; i < fl->n; i++) {
        free(fl->f[i].msg);
        free(fl->f[i].seqs);
        free(fl->f[i].parties);
    }
    free(fl->f);
}

int cli_report_flags(struct cli *c, const struct cli_report_opts *o)
{
    const char *fmt = o->format ? o->format : c->json ? "json" : "text";
    if (strcmp(fmt, "text") && strcmp(fmt, "csv") && strcmp(fmt, "json") && strcmp(fmt, "html"))
        return cli_error(
            c, ivl_fail(IVL_E_USAGE, _("--format must be text, csv, json or html, not '%s'"), fmt));
    int rc = load_thresholds();
    if (rc) return cli_error(c, rc);
    if ((rc = cli_open(c))) return cli_error(c, rc);

    struct walk w;
    memset(&w, 0, sizeof w);
    w.o = o;
    w.from = o->from;
    w.to = o->to ? o->to : INT64_MAX;
    w.vmap.klen = w.rmap.klen = w.cmap.klen = IVL_ID_LEN;
    struct flags fl = {NULL, 0, 0, 0};
    struct ivl_head h;
    if ((rc = ivl_ledger_begin(c->l, &w.st))) return cli_error(c, rc);
    rc = ivl_ledger_check_head(&w.st, &h);
    if (!rc && o->budget) {
        struct ivl_budget_rec b;
        rc = ivl_st_budget(&w.st, o->budget, &b);
        if (rc == IVL_E_NOT_FOUND) rc = ivl_fail(IVL_E_NOT_FOUND, _("no budget '%s'"), o->budget);
    }
    if (!rc) rc = load_parties(&w);
    w.size = h.size;
    if (!rc) cli_progress_begin(c, CLI_PHASE_READ);
    for (uint64_t s = 0; !rc && s < h.size; s++) {
        struct ivl_entry e;
        if ((rc = ivl_ledger_entry_checked(&w.st, &h, s, &e))) break;
        if (s % 1024 == 0) cli_progress(s, h.size);
        if (e.appended_at > w.to) {
            ivl_entry_free(&e);
            break;
        }
        rc = take(&w, &e);
        ivl_entry_free(&e);
    }
    cli_progress_end(c);
    /* "Now" for what is still open: the end of the window, else the later of
     * the clock and the last entry. */
    w.report_time = w.to != INT64_MAX ? w.to : (c->now > h.last_time ? c->now : h.last_time);
    if (!rc) {
        detect_claim_soon(&w, &fl);
        detect_concentration(&w, &fl);
        detect_group(&w, &fl);
        detect_repeated(&w, &fl);
        detect_limit(&w, &fl);
        detect_late(&w, &fl);
        detect_suspended(&w, &fl);
        rc = fl.rc;
    }
    ivl_ledger_end(&w.st);
    if (!rc) {
        for (size_t i = 0; i < fl.n; i++)
            if (fl.f[i].n_seqs) qsort(fl.f[i].seqs, fl.f[i].n_seqs, sizeof(uint64_t), u64_cmp);
        if (fl.n) qsort(fl.f, fl.n, sizeof *fl.f, flag_cmp);
        FILE *out = stdout;
        if (o->out && strcmp(o->out, "-") && !(out = fopen(o->out, "w")))
            rc = ivl_fail(IVL_E_IO, _("cannot write %s: %s"), o->out, strerror(errno));
        if (!rc) {
            if (!strcmp(fmt, "json"))
                rc = print_json(out, &w, &fl);
            else if (!strcmp(fmt, "csv"))
                print_csv(out, &fl);
            else if (!strcmp(fmt, "html"))
                print_html(out, &w, &fl);
            else
                print_text(out, &w, &fl);
            if (fflush(out) || ferror(out))
                if (!rc)
                    rc = ivl_fail(IVL_E_IO, _("cannot write %s: %s"),
                                  o->out ? o->out : "standard output", strerror(errno));
            if (out != stdout && fclose(out) && !rc)
                rc = ivl_fail(IVL_E_IO, _("cannot write %s: %s"), o->out, strerror(errno));
        }
    }
    free_flags(&fl);
    free_walk(&w);
    return rc ? cli_error(c, rc) : 0;
}
