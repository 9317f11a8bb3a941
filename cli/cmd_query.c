/*
 * cmd_query.c - what people ask the ledger: budgets and their totals, an
 * enterprise's balance, one object by id, the log, the status.
 */
#include "cli.h"
#include "parse.h"

#include <stdlib.h>
#include <string.h>

int cli_print_party(struct cli *c, const struct ivl_party_rec *p);

#define PARSE(opts, pos, max, np)                                                                  \
    do {                                                                                           \
        int rc_ = cli_parse(c, argc, argv, opts, pos, max, np);                                    \
        if (rc_) return rc_ < 0 ? 0 : cli_error(c, rc_);                                           \
    } while (0)

static int open_read(struct cli *c, struct ivl_state *st)
{
    int rc = cli_open(c);
    return rc ? rc : ivl_ledger_begin(c->l, st);
}

/* Display status of a voucher: an active voucher past its day is expired. */
static const char *voucher_status(const struct ivl_voucher_rec *v, int64_t now)
{
    if (v->status == IVL_V_ACTIVE && now > v->until) return "expired";
    return ivl_voucher_status_name(v->status);
}

/* ---- budgets ---- */

static uint64_t available(const struct ivl_budget_rec *b)
{
    return b->b.total - b->issued + b->released;
}

static json_t *budget_json(const struct ivl_budget_rec *b)
{
    char r[16];
    ivl_percent_format(b->b.ratio_bp, r, sizeof r);
    json_t *cats = json_array();
    for (int i = 0; i < 6; i++)
        if (b->b.categories & (1 << i))
            json_array_append_new(cats, json_string(ivl_category_name(1 << i)));
    json_t *j = json_object();
    json_object_set_new(j, "kind", json_string("budget"));
    json_object_set_new(j, "id", json_string(b->b.budget));
    json_object_set_new(j, "total", cli_json_amount(b->b.total));
    json_object_set_new(j, "cap", cli_json_amount(b->b.cap));
    json_object_set_new(j, "ratio", json_string(r));
    json_object_set_new(j, "until", cli_json_time(b->b.until));
    json_object_set_new(j, "categories", cats);
    json_object_set_new(j, "issued", cli_json_amount(b->issued));
    json_object_set_new(j, "released", cli_json_amount(b->released));
    json_object_set_new(j, "redeemed", cli_json_amount(b->redeemed));
    json_object_set_new(j, "claimed", cli_json_amount(b->claimed));
    json_object_set_new(j, "paid", cli_json_amount(b->paid));
    json_object_set_new(j, "clawed_back", cli_json_amount(b->clawed_back));
    json_object_set_new(j, "available", cli_json_amount(available(b)));
    json_object_set_new(j, "vouchers", json_integer((json_int_t)b->n_vouchers));
    json_object_set_new(j, "opened_seq", json_integer((json_int_t)b->seq));
    return j;
}

int cmd_budget_list(struct cli *c, int argc, char **argv)
{
    PARSE(NULL, NULL, 0, NULL);
    struct ivl_state st;
    int rc = open_read(c, &st);
    if (rc) return cli_error(c, rc);
    MDB_cursor *cur;
    MDB_val k, v;
    json_t *arr = json_array();
    char a[7][24], d[16];
    if (!c->json) {
        const char *h[] = {_("total"), _("issued"), _("redeemed"), _("paid"), _("available")};
        cli_pad(stdout, _("budget"), 16);
        for (int i = 0; i < 5; i++) {
            putchar(' ');
            cli_rpad(stdout, h[i], 16);
        }
        printf("  %s\n", _("until"));
    }
    mdb_cursor_open(st.txn, st.dbi[IVL_DB_BUDGETS], &cur);
    for (int r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && r == 0;
         r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct ivl_budget_rec b;
        if ((rc = ivl_rec_budget(&v, &b))) break;
        if (c->json) {
            json_array_append_new(arr, budget_json(&b));
            continue;
        }
        ivl_date_format(b.b.until, d, sizeof d);
        cli_pad(stdout, b.b.budget, 16);
        printf(" %16s %16s %16s %16s %16s  %s\n", cli_amt(b.b.total, a[0]), cli_amt(b.issued, a[1]),
               cli_amt(b.redeemed, a[2]), cli_amt(b.paid, a[3]), cli_amt(available(&b), a[4]), d);
    }
    mdb_cursor_close(cur);
    ivl_ledger_end(&st);
    if (rc) {
        json_decref(arr);
        return cli_error(c, rc);
    }
    if (c->json)
        cli_json_out(arr);
    else
        json_decref(arr);
    return 0;
}

static void print_budget(const struct ivl_budget_rec *b)
{
    char a[24], r[16], d[16], cats[80];
    ivl_percent_format(b->b.ratio_bp, r, sizeof r);
    ivl_date_format(b->b.until, d, sizeof d);
    ivl_categories_format(b->b.categories, cats, sizeof cats);
    cli_field(_("budget"), 13, "%s\n", b->b.budget);
    cli_field(_("total"), 13, "%16s\n", cli_amt(b->b.total, a));
    cli_field(_("cap"), 13, _("%16s   per enterprise or group\n"), cli_amt(b->b.cap, a));
    cli_field(_("ratio"), 13, _("%16s   of each contract\n"), r);
    cli_field(_("until"), 13, _("%16s   (end of day, China Standard Time)\n"), d);
    cli_field(_("categories"), 13, "%s", "");
    cli_rpad(stdout, cats[0] ? cats : _("any"), 16);
    putchar('\n');
    cli_field(_("vouchers"), 13, "%16llu\n", (unsigned long long)b->n_vouchers);
    cli_field(_("issued"), 13, "%16s\n", cli_amt(b->issued, a));
    cli_field(_("released"), 13, _("%16s   revoked or expired, back in the budget\n"),
              cli_amt(b->released, a));
    cli_field(_("redeemed"), 13, "%16s\n", cli_amt(b->redeemed, a));
    cli_field(_("claimed"), 13, "%16s\n", cli_amt(b->claimed, a));
    cli_field(_("paid"), 13, "%16s\n", cli_amt(b->paid, a));
    cli_field(_("clawed back"), 13, "%16s\n", cli_amt(b->clawed_back, a));
    cli_field(_("available"), 13, _("%16s   total - issued + released\n"),
              cli_amt(available(b), a));
}

int cmd_budget_show(struct cli *c, int argc, char **argv)
{
    const char *pos[1];
    int np;
    PARSE(NULL, pos, 1, &np);
    if (np != 1) return cli_error(c, ivl_fail(IVL_E_USAGE, _("budget show needs an ID")));
    struct ivl_state st;
    struct ivl_budget_rec b;
    int rc = open_read(c, &st);
    if (rc) return cli_error(c, rc);
    rc = ivl_st_budget(&st, pos[0], &b);
    ivl_ledger_end(&st);
    if (rc == IVL_E_NOT_FOUND) rc = ivl_fail(IVL_E_NOT_FOUND, _("no budget %s"), pos[0]);
    if (rc) return cli_error(c, rc);
    if (c->json)
        cli_json_out(budget_json(&b));
    else
        print_budget(&b);
    return 0;
}

/* ---- balance ---- */

static json_t *voucher_json(const struct ivl_voucher_rec *v, int64_t now)
{
    json_t *j = json_object();
    json_object_set_new(j, "kind", json_string("voucher"));
    json_object_set_new(j, "id", cli_json_id(v->id));
    json_object_set_new(j, "budget", json_string(v->budget));
    json_object_set_new(j, "holder", json_string(v->holder));
    json_object_set_new(j, "face", cli_json_amount(v->face));
    json_object_set_new(j, "remaining", cli_json_amount(v->remaining));
    json_object_set_new(j, "released", cli_json_amount(v->released));
    json_object_set_new(j, "status", json_string(voucher_status(v, now)));
    json_object_set_new(j, "until", cli_json_time(v->until));
    json_object_set_new(j, "issued_at", cli_json_time(v->issued_at));
    json_object_set_new(j, "seq", json_integer((json_int_t)v->seq));
    return j;
}

int cmd_balance(struct cli *c, int argc, char **argv)
{
    const char *pos[1];
    int np;
    PARSE(NULL, pos, 1, &np);
    if (np != 1) return cli_error(c, ivl_fail(IVL_E_USAGE, _("balance needs a USCC")));
    int rc = cli_uscc(pos[0], N_("USCC"));
    if (rc) return cli_error(c, rc);
    struct ivl_state st;
    struct ivl_party_rec p;
    if ((rc = open_read(c, &st))) return cli_error(c, rc);
    rc = ivl_st_party(&st, pos[0], &p);
    if (rc == IVL_E_NOT_FOUND)
        rc = ivl_fail(IVL_E_NOT_FOUND, _("no party %s is registered"), pos[0]);
    /* The holder's vouchers, in id order, all read before anything is
     * printed: a damaged record is one error line, not half a table. */
    uint8_t(*ids)[IVL_ID_LEN] = NULL;
    struct ivl_voucher_rec *v = NULL;
    size_t n = 0;
    if (!rc) rc = ivl_st_holder_vouchers(&st, p.p.uscc, &ids, &n);
    if (!rc && n && !(v = calloc(n, sizeof *v))) rc = ivl_fail(IVL_E_NOMEM, _("out of memory"));
    for (size_t i = 0; !rc && i < n; i++)
        rc = ivl_st_voucher(&st, ids[i], &v[i]);
    free(ids);
    ivl_ledger_end(&st);
    if (rc) {
        free(v);
        return cli_error(c, rc);
    }
    json_t *arr = json_array();
    uint64_t total = 0;
    char a[3][24], d[16], id[37];
    if (!c->json) {
        printf("%s  %s\n\n", p.p.uscc, p.p.name);
        cli_pad(stdout, _("voucher"), 38);
        cli_pad(stdout, _("budget"), 12);
        putchar(' ');
        cli_rpad(stdout, _("face"), 14);
        putchar(' ');
        cli_rpad(stdout, _("remaining"), 14);
        printf("  ");
        cli_pad(stdout, _("status"), 9);
        printf("%s\n", _("until"));
    }
    for (size_t i = 0; i < n; i++) {
        const struct ivl_voucher_rec *x = &v[i];
        const char *status = voucher_status(x, c->now);
        if (!strcmp(status, "active")) total += x->remaining;
        if (c->json) {
            json_array_append_new(arr, voucher_json(x, c->now));
            continue;
        }
        ivl_date_format(x->until, d, sizeof d);
        printf("%s  ", cli_id_str(x->id, id));
        cli_pad(stdout, x->budget, 12);
        printf(" %14s %14s  ", cli_amt(x->face, a[0]), cli_amt(x->remaining, a[1]));
        cli_pad(stdout, _(status), 9);
        printf("%s\n", d);
    }
    free(v);
    if (c->json)
        cli_json_out(json_pack("{s:s,s:s,s:o,s:o}", "uscc", pos[0], "name", p.p.name,
                               "total_remaining", cli_json_amount(total), "vouchers", arr));
    else {
        json_decref(arr);
        printf(_("\ntotal remaining on active vouchers: %s\n"), cli_amt(total, a[2]));
    }
    return 0;
}

/* ---- show ---- */

static json_t *redemption_json(const struct ivl_redemption_rec *r)
{
    static const uint8_t zero[IVL_ID_LEN];
    json_t *j = json_object();
    json_object_set_new(j, "kind", json_string("redemption"));
    json_object_set_new(j, "id", cli_json_id(r->id));
    json_object_set_new(j, "voucher", cli_json_id(r->r.voucher));
    json_object_set_new(j, "sme", json_string(r->r.sme));
    json_object_set_new(j, "provider", json_string(r->r.provider));
    json_object_set_new(j, "amount", cli_json_amount(r->r.amount));
    json_object_set_new(j, "contract_amount", cli_json_amount(r->r.contract_amount));
    json_object_set_new(j, "contract_hash", cli_json_hex(r->r.contract, 32));
    json_object_set_new(
        j, "category", r->r.category ? json_string(ivl_category_name(r->r.category)) : json_null());
    json_object_set_new(j, "status", json_string(r->status ? "cancelled" : "active"));
    json_object_set_new(j, "claim",
                        memcmp(r->claim, zero, IVL_ID_LEN) ? cli_json_id(r->claim) : json_null());
    json_object_set_new(j, "seq", json_integer((json_int_t)r->seq));
    json_object_set_new(j, "at", cli_json_time(r->at));
    return j;
}

static json_t *claim_json(const struct ivl_claim_rec *x)
{
    json_t *j = json_object();
    json_object_set_new(j, "kind", json_string("claim"));
    json_object_set_new(j, "id", cli_json_id(x->id));
    json_object_set_new(j, "redemption", cli_json_id(x->redemption));
    json_object_set_new(j, "voucher", cli_json_id(x->voucher));
    json_object_set_new(j, "provider", json_string(x->provider));
    json_object_set_new(j, "sme", json_string(x->sme));
    json_object_set_new(j, "amount", cli_json_amount(x->amount));
    json_object_set_new(j, "invoice_hash", cli_json_hex(x->invoice, 32));
    json_object_set_new(j, "status", json_string(ivl_claim_status_name(x->status)));
    if (x->note[0]) json_object_set_new(j, "reason", json_string(x->note));
    if (x->bank_ref[0]) json_object_set_new(j, "bank_ref", json_string(x->bank_ref));
    json_object_set_new(j, "seq", json_integer((json_int_t)x->seq));
    json_object_set_new(j, "claimed_at", cli_json_time(x->claimed_at));
    if (x->decided_at) json_object_set_new(j, "decided_at", cli_json_time(x->decided_at));
    if (x->paid_at) json_object_set_new(j, "paid_at", cli_json_time(x->paid_at));
    return j;
}

/* The labels `ivl show` prints for people: the JSON keys, translated. */
static const char *const show_labels[] = {
    N_("amount"),
    N_("appended_at"),
    N_("at"),
    N_("authority"),
    N_("bank_ref"),
    N_("budget"),
    N_("categories"),
    N_("category"),
    N_("claim"),
    N_("claimed_at"),
    N_("contract_amount"),
    N_("contract_hash"),
    N_("cosignature"),
    N_("decided_at"),
    N_("face"),
    N_("group"),
    N_("holder"),
    N_("id"),
    N_("invoice_hash"),
    N_("issued_at"),
    N_("key_name"),
    N_("kind"),
    N_("leaf_bytes"),
    N_("leaf_hash"),
    N_("log_public_key"),
    N_("name"),
    N_("origin"),
    N_("paid_at"),
    N_("provider"),
    N_("public_key"),
    N_("reason"),
    N_("redemption"),
    N_("related"),
    N_("released"),
    N_("remaining"),
    N_("role"),
    N_("root"),
    N_("seq"),
    N_("signatures"),
    N_("signed_at"),
    N_("sme"),
    N_("status"),
    N_("to"),
    N_("tree_size"),
    N_("type"),
    N_("until"),
    N_("uscc"),
    N_("uscc_unchecked"),
    N_("voucher"),
    N_("vouchers"),
};
/* The values of "kind" and "status" that people read (JSON keeps the token). */
static const char *const show_words[] = {
    N_("voucher"),  N_("redemption"), N_("claim"),       N_("entry"),   N_("active"),
    N_("expired"),  N_("revoked"),    N_("cancelled"),   N_("pending"), N_("approved"),
    N_("rejected"), N_("paid"),       N_("clawed_back"),
};

static const char *show_tr(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], s)) return _(list[i]);
    return s;
}

/* Prints an RFC 3339 time field ("until", "at", "…_at") as people read it
 * ("2026-03-01 10:00:00", China Standard Time); 0 if `key` is not one. */
static int show_time(const char *key, const char *s)
{
    size_t n = strlen(key);
    int64_t t;
    char buf[IVL_TIME_BUF];
    if (strcmp(key, "until") && strcmp(key, "at") && (n < 4 || strcmp(key + n - 3, "_at")))
        return 0;
    if (ivl_time_parse(s, &t)) return 0;
    ivl_time_format_human(t, buf, sizeof buf);
    printf("%s\n", buf);
    return 1;
}

/* Prints a JSON object as aligned "key  value" lines for people. */
static void print_fields(json_t *j)
{
    const char *key;
    json_t *val;
    json_object_foreach(j, key, val)
    {
        if (json_is_null(val)) continue;
        cli_pad(stdout, show_tr(show_labels, sizeof show_labels / sizeof *show_labels, key), 16);
        if (json_is_string(val) && (!strcmp(key, "kind") || !strcmp(key, "status"))) {
            printf("%s\n", show_tr(show_words, sizeof show_words / sizeof *show_words,
                                   json_string_value(val)));
        } else if (json_is_string(val) && show_time(key, json_string_value(val))) {
            /* printed by show_time: CST for people, as `ivl log` prints it */
        } else if (json_is_string(val)) {
            printf("%s\n", json_string_value(val));
        } else {
            char *s = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
            printf("%s\n", s ? s : "");
            free(s);
        }
    }
}

static int show_json(struct cli *c, json_t *j)
{
    if (!j) return cli_error(c, ivl_fail(IVL_E_NOMEM, _("out of memory")));
    if (c->json) {
        cli_json_out(j);
    } else {
        print_fields(j);
        json_decref(j);
    }
    return 0;
}

static int show_entry(struct cli *c, struct ivl_state *st, uint64_t seq)
{
    struct ivl_entry e;
    struct ivl_head h;
    const uint8_t *leaf;
    size_t n;
    int rc = ivl_ledger_check_head(st, &h);
    if (!rc) rc = ivl_ledger_entry_checked(st, &h, seq, &e);
    if (!rc) rc = ivl_ledger_leaf(st, seq, &leaf, &n);
    if (rc) return rc;
    json_t *j = json_object();
    json_object_set_new(j, "kind", json_string("entry"));
    json_t *fields = cli_entry_json(&e);
    json_object_update(j, fields);
    json_decref(fields);
    json_object_set_new(j, "leaf_bytes", json_integer((json_int_t)n));
    uint8_t lh[32];
    if (!ivl_st_node(st, 0, seq, lh)) json_object_set_new(j, "leaf_hash", cli_json_hex(lh, 32));
    ivl_entry_free(&e);
    show_json(c, j);
    return 0;
}

int cmd_show(struct cli *c, int argc, char **argv)
{
    const char *pos[1];
    int np;
    PARSE(NULL, pos, 1, &np);
    if (np != 1)
        return cli_error(c,
                         ivl_fail(IVL_E_USAGE, _("show needs an id, a sequence number or a USCC")));
    const char *a = pos[0];
    struct ivl_state st;
    int rc = open_read(c, &st);
    if (rc) return cli_error(c, rc);
    uint64_t seq;
    uint8_t id[IVL_ID_LEN], type;
    json_t *j = NULL;
    if (strlen(a) == IVL_USCC_LEN && !cli_uscc(a, N_("USCC"))) {
        struct ivl_party_rec p;
        rc = ivl_st_party(&st, a, &p);
        ivl_ledger_end(&st);
        if (rc == IVL_E_NOT_FOUND)
            rc = ivl_fail(IVL_E_NOT_FOUND, _("no party %s is registered"), a);
        return rc ? cli_error(c, rc) : cli_print_party(c, &p);
    }
    if (!cli_u64(a, N_("sequence number"), &seq)) {
        rc = show_entry(c, &st, seq);
    } else if (!ivl_id_parse(a, id)) {
        rc = ivl_st_id(&st, id, &seq, &type);
        if (rc == IVL_E_NOT_FOUND) rc = ivl_fail(IVL_E_NOT_FOUND, _("no entry has id %s"), a);
        if (!rc && type == IVL_T_ISSUE) {
            struct ivl_voucher_rec v;
            if (!(rc = ivl_st_voucher(&st, id, &v))) j = voucher_json(&v, c->now);
        } else if (!rc && type == IVL_T_REDEEM) {
            struct ivl_redemption_rec r;
            if (!(rc = ivl_st_redemption(&st, id, &r))) j = redemption_json(&r);
        } else if (!rc && type == IVL_T_CLAIM) {
            struct ivl_claim_rec x;
            if (!(rc = ivl_st_claim(&st, id, &x))) j = claim_json(&x);
        } else if (!rc) {
            rc = show_entry(c, &st, seq);
        }
    } else {
        rc = ivl_fail(IVL_E_USAGE, _("'%s' is not an id, a sequence number or a USCC"), a);
    }
    ivl_ledger_end(&st);
    if (rc) return cli_error(c, rc);
    return j ? show_json(c, j) : 0;
}

/* ---- log and status ---- */

int cmd_log(struct cli *c, int argc, char **argv)
{
    const char *from = NULL, *limit = NULL;
    struct cli_opt opts[] = {{"--from", OPT_STR, &from}, {"--limit", OPT_STR, &limit}, {0}};
    PARSE(opts, NULL, 0, NULL);
    uint64_t f = 0, lim = UINT64_MAX;
    int rc = 0;
    if (from) rc = cli_u64(from, "--from", &f);
    if (!rc && limit) rc = cli_u64(limit, "--limit", &lim);
    struct ivl_state st;
    struct ivl_head h;
    if (!rc) rc = open_read(c, &st);
    if (rc) return cli_error(c, rc);
    rc = ivl_ledger_check_head(&st, &h);
    json_t *arr = json_array();
    for (uint64_t s = f; !rc && s < h.size && s - f < lim; s++) {
        struct ivl_entry e;
        if ((rc = ivl_ledger_entry_checked(&st, &h, s, &e))) break;
        if (c->json) {
            json_array_append_new(arr, cli_entry_json(&e));
        } else {
            char t[40], sum[600], id[37];
            ivl_time_format_human(e.appended_at, t, sizeof t);
            cli_entry_summary(&st, &e, sum, sizeof sum);
            printf("%6llu  %s  %-8s  %s  %s\n", (unsigned long long)s, t, ivl_type_name(e.type),
                   cli_id_short(e.id, id), sum);
        }
        ivl_entry_free(&e);
    }
    ivl_ledger_end(&st);
    if (rc) {
        json_decref(arr);
        return cli_error(c, rc);
    }
    if (c->json)
        cli_json_out(arr);
    else
        json_decref(arr);
    return 0;
}

/* Counts the records of a table by walking it and decoding each one (its key
 * must be the record's own): LMDB's entry counter and page links are covered
 * by no check, so a damaged file could otherwise make the count say anything. */
static size_t count(struct ivl_state *st, int db, int *rc)
{
    MDB_cursor *cur;
    MDB_val k, v;
    size_t n = 0;
    int r = mdb_cursor_open(st->txn, st->dbi[db], &cur);
    if (!r) {
        for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
             r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            int bad = 0;
            union {
                struct ivl_party_rec p;
                struct ivl_budget_rec b;
                struct ivl_voucher_rec v;
                struct ivl_redemption_rec r;
                struct ivl_claim_rec c;
            } x;
            switch (db) {
            case IVL_DB_PARTIES:
                bad = ivl_rec_party(&v, &x.p) || k.mv_size != IVL_USCC_LEN ||
                      memcmp(k.mv_data, x.p.p.uscc, IVL_USCC_LEN);
                break;
            case IVL_DB_BUDGETS:
                bad = ivl_rec_budget(&v, &x.b) || k.mv_size != strlen(x.b.b.budget) ||
                      memcmp(k.mv_data, x.b.b.budget, k.mv_size);
                break;
            case IVL_DB_VOUCHERS: bad = ivl_rec_voucher(&k, &v, &x.v); break;
            case IVL_DB_REDEMPTIONS:
                bad = ivl_rec_redemption(&v, &x.r) || k.mv_size != IVL_ID_LEN ||
                      memcmp(k.mv_data, x.r.id, IVL_ID_LEN);
                break;
            case IVL_DB_CLAIMS:
                bad = ivl_rec_claim(&v, &x.c) || k.mv_size != IVL_ID_LEN ||
                      memcmp(k.mv_data, x.c.id, IVL_ID_LEN);
                break;
            }
            if (bad) {
                r = -1;
                break;
            }
            n++;
        }
        mdb_cursor_close(cur);
        if (r == MDB_NOTFOUND) r = 0;
    }
    if (r == -1 && !*rc)
        *rc = ivl_fail(IVL_E_CORRUPT, _("table '%s' holds a damaged record; run 'ivl verify'"),
                       ivl_db_names[db]);
    else if (r && !*rc)
        *rc = ivl_st_mdb_err(r, ivl_db_names[db]);
    return n;
}

int cmd_status(struct cli *c, int argc, char **argv)
{
    PARSE(NULL, NULL, 0, NULL);
    struct ivl_state st;
    struct ivl_head h;
    int rc = open_read(c, &st);
    if (rc) return cli_error(c, rc);
    rc = ivl_ledger_check_head(&st, &h);
    size_t np = count(&st, IVL_DB_PARTIES, &rc), nb = count(&st, IVL_DB_BUDGETS, &rc),
           nv = count(&st, IVL_DB_VOUCHERS, &rc), nr = count(&st, IVL_DB_REDEMPTIONS, &rc),
           nc = count(&st, IVL_DB_CLAIMS, &rc);
    char origin[IVL_MAX_ORIGIN + 1];
    snprintf(origin, sizeof origin, "%s", st.origin);
    ivl_ledger_end(&st);
    if (rc) return cli_error(c, rc);
    char hex[65], t[40];
    cli_hex(h.root, 32, hex);
    if (c->json) {
        cli_json_out(json_pack(
            "{s:s,s:I,s:s,s:o,s:s,s:I,s:I,s:I,s:I,s:I}", "origin", origin, "size",
            (json_int_t)h.size, "root", hex, "last_append", cli_json_time(h.last_time), "ledger",
            c->ledger_dir, "parties", (json_int_t)np, "budgets", (json_int_t)nb, "vouchers",
            (json_int_t)nv, "redemptions", (json_int_t)nr, "claims", (json_int_t)nc));
        return 0;
    }
    ivl_time_format_human(h.last_time, t, sizeof t);
    cli_field(_("origin"), 13, "%s\n", origin);
    cli_field(_("ledger"), 13, "%s\n", c->ledger_dir);
    cli_field(_("size"), 13, _("%llu entries\n"), (unsigned long long)h.size);
    cli_field(_("root"), 13, "%s\n", hex);
    cli_field(_("last append"), 13, "%s\n", t);
    cli_field(_("parties"), 13, "%zu\n", np);
    cli_field(_("budgets"), 13, "%zu\n", nb);
    cli_field(_("vouchers"), 13, "%zu\n", nv);
    cli_field(_("redemptions"), 13, "%zu\n", nr);
    cli_field(_("claims"), 13, "%zu\n", nc);
    return 0;
}
