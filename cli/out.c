/*
 * out.c - output for people and for programs: JSON values in the formats
 * SPEC §5 fixes (amounts as "100000.00", RFC 3339 times, lowercase hex),
 * the decoded fields of entries, and table cells padded by display width so
 * that Chinese names line up.
 */
#include "cli.h"
#include "parse.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_json_out(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) printf("%s\n", s);
    free(s);
    json_decref(j);
}

const char *cli_amt(uint64_t fen, char *buf)
{
    ivl_amount_format(fen, buf, 24);
    return buf;
}

const char *cli_id_str(const uint8_t id[IVL_ID_LEN], char *buf)
{
    ivl_id_format(id, buf);
    return buf;
}

/* The last 8 hex digits of an id, for listings: ids are time-ordered (UUID
 * version 7), so their first digits are the same for ids made close
 * together; the last ones differ. buf of 37. */
const char *cli_id_short(const uint8_t id[IVL_ID_LEN], char *buf)
{
    cli_id_str(id, buf);
    return buf + 36 - 8;
}

void cli_hex(const uint8_t *p, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, p, n);
}

json_t *cli_json_amount(uint64_t fen)
{
    char b[24];
    return json_string(cli_amt(fen, b));
}

json_t *cli_json_time(int64_t t)
{
    char b[40];
    ivl_time_format(t, b, sizeof b);
    return json_string(b);
}

json_t *cli_json_hex(const uint8_t *p, size_t n)
{
    char *b = malloc(2 * n + 1);
    if (!b) return json_null();
    cli_hex(p, n, b);
    json_t *j = json_string(b);
    free(b);
    return j;
}

json_t *cli_json_id(const uint8_t id[IVL_ID_LEN])
{
    char b[37];
    return json_string(cli_id_str(id, b));
}

static json_t *cats_json(uint8_t mask)
{
    json_t *a = json_array();
    for (int i = 0; i < 6; i++)
        if (mask & (1 << i)) json_array_append_new(a, json_string(ivl_category_name(1 << i)));
    return a;
}

json_t *cli_entry_json(const struct ivl_entry *e)
{
    json_t *j = json_object();
    json_object_set_new(j, "seq", json_integer((json_int_t)e->seq));
    json_object_set_new(j, "type", json_string(ivl_type_name(e->type)));
    json_object_set_new(j, "id", cli_json_id(e->id));
    json_object_set_new(j, "signed_at", cli_json_time(e->signed_at));
    json_object_set_new(j, "appended_at", cli_json_time(e->appended_at));
    switch (e->type) {
    case IVL_T_GENESIS: {
        const struct ivl_genesis *g = &e->u.genesis;
        json_object_set_new(j, "origin", json_string(g->origin));
        json_object_set_new(j, "authority", json_string(g->authority));
        json_object_set_new(j, "name", json_string(g->name));
        json_object_set_new(j, "key_name", json_string(g->key_name));
        json_object_set_new(j, "public_key", cli_json_hex(g->pub, 32));
        json_object_set_new(j, "log_public_key", cli_json_hex(g->log_pub, 32));
        break;
    }
    case IVL_T_PARTY: {
        const struct ivl_party *p = &e->u.party;
        json_object_set_new(j, "uscc", json_string(p->uscc));
        json_object_set_new(j, "role", json_string(ivl_role_name(p->role)));
        json_object_set_new(j, "name", json_string(p->name));
        json_object_set_new(j, "key_name", json_string(p->key_name));
        json_object_set_new(j, "public_key", cli_json_hex(p->pub, 32));
        json_object_set_new(j, "uscc_unchecked", json_boolean(p->flags & IVL_PARTY_USCC_UNCHECKED));
        json_object_set_new(j, "group", json_string(p->group));
        json_object_set_new(j, "categories", cats_json(p->categories));
        json_t *rel = json_array();
        for (uint32_t i = 0; i < p->n_related; i++)
            json_array_append_new(rel, json_string(p->related[i]));
        json_object_set_new(j, "related", rel);
        break;
    }
    case IVL_T_SUSPEND:
        json_object_set_new(j, "uscc", json_string(e->u.suspend.uscc));
        json_object_set_new(j, "reason", json_string(e->u.suspend.reason));
        break;
    case IVL_T_REKEY:
        json_object_set_new(j, "uscc", json_string(e->u.rekey.uscc));
        json_object_set_new(j, "key_name", json_string(e->u.rekey.key_name));
        json_object_set_new(j, "public_key", cli_json_hex(e->u.rekey.pub, 32));
        break;
    case IVL_T_BUDGET: {
        const struct ivl_budget *b = &e->u.budget;
        char r[16];
        ivl_percent_format(b->ratio_bp, r, sizeof r);
        json_object_set_new(j, "budget", json_string(b->budget));
        json_object_set_new(j, "total", cli_json_amount(b->total));
        json_object_set_new(j, "cap", cli_json_amount(b->cap));
        json_object_set_new(j, "ratio", json_string(r));
        json_object_set_new(j, "until", cli_json_time(b->until));
        json_object_set_new(j, "categories", cats_json(b->categories));
        break;
    }
    case IVL_T_ISSUE:
        json_object_set_new(j, "budget", json_string(e->u.issue.budget));
        json_object_set_new(j, "to", json_string(e->u.issue.holder));
        json_object_set_new(j, "amount", cli_json_amount(e->u.issue.amount));
        json_object_set_new(j, "until", cli_json_time(e->u.issue.until));
        break;
    case IVL_T_REDEEM: {
        const struct ivl_redeem *r = &e->u.redeem;
        json_object_set_new(j, "voucher", cli_json_id(r->voucher));
        json_object_set_new(j, "sme", json_string(r->sme));
        json_object_set_new(j, "provider", json_string(r->provider));
        json_object_set_new(j, "contract_hash", cli_json_hex(r->contract, 32));
        json_object_set_new(j, "contract_amount", cli_json_amount(r->contract_amount));
        json_object_set_new(j, "amount", cli_json_amount(r->amount));
        json_object_set_new(
            j, "category", r->category ? json_string(ivl_category_name(r->category)) : json_null());
        break;
    }
    case IVL_T_CLAIM:
        json_object_set_new(j, "redemption", cli_json_id(e->u.claim.redemption));
        json_object_set_new(j, "amount", cli_json_amount(e->u.claim.amount));
        json_object_set_new(j, "invoice_hash", cli_json_hex(e->u.claim.invoice, 32));
        break;
    case IVL_T_CANCEL:
        json_object_set_new(j, "redemption", cli_json_id(e->u.target.target));
        json_object_set_new(j, "reason", json_string(e->u.target.text));
        break;
    case IVL_T_APPROVE:
    case IVL_T_REJECT:
    case IVL_T_CLAWBACK:
    case IVL_T_PAY:
        json_object_set_new(j, "claim", cli_json_id(e->u.target.target));
        if (e->type != IVL_T_APPROVE)
            json_object_set_new(j, e->type == IVL_T_PAY ? "bank_ref" : "reason",
                                json_string(e->u.target.text));
        break;
    case IVL_T_REVOKE:
        json_object_set_new(j, "voucher", cli_json_id(e->u.target.target));
        json_object_set_new(j, "reason", json_string(e->u.target.text));
        break;
    case IVL_T_EXPIRE: {
        json_t *a = json_array();
        for (uint32_t i = 0; i < e->u.expire.n; i++)
            json_array_append_new(a, json_pack("{s:o,s:o}", "voucher",
                                               cli_json_id(e->u.expire.list[i].voucher), "amount",
                                               cli_json_amount(e->u.expire.list[i].amount)));
        json_object_set_new(j, "vouchers", a);
        break;
    }
    case IVL_T_ATTEST:
        json_object_set_new(j, "tree_size", json_integer((json_int_t)e->u.attest.size));
        json_object_set_new(j, "root", cli_json_hex(e->u.attest.root, 32));
        json_object_set_new(j, "cosignature", cli_json_hex(e->u.attest.note_sig, 64));
        break;
    }
    json_t *sigs = json_array();
    for (uint32_t i = 0; i < e->n_sigs; i++)
        json_array_append_new(sigs, json_pack("{s:s,s:o}", "signer", e->sigs[i].signer, "signature",
                                              cli_json_hex(e->sigs[i].sig, 64)));
    json_object_set_new(j, "signatures", sigs);
    return j;
}

static const char *party_name(struct ivl_state *st, const char *uscc, char *buf, size_t n)
{
    struct ivl_party_rec p;
    if (st && !ivl_st_party(st, uscc, &p))
        snprintf(buf, n, "%s", p.p.name);
    else
        snprintf(buf, n, "%s", uscc);
    return buf;
}

void cli_entry_summary(struct ivl_state *st, const struct ivl_entry *e, char *out, size_t n)
{
    char a1[24], a2[24], id[37], nm[IVL_MAX_NAME + 1], nm2[IVL_MAX_NAME + 1], cats[80];
    switch (e->type) {
    case IVL_T_GENESIS:
        snprintf(out, n, _("ledger %s opened by %s (%s)"), e->u.genesis.origin, e->u.genesis.name,
                 e->u.genesis.authority);
        break;
    case IVL_T_PARTY:
        snprintf(out, n, "%s %s %s", ivl_role_name(e->u.party.role), e->u.party.uscc,
                 e->u.party.name);
        break;
    case IVL_T_SUSPEND:
        snprintf(out, n, _("%s suspended: %s"), party_name(st, e->u.suspend.uscc, nm, sizeof nm),
                 e->u.suspend.reason);
        break;
    case IVL_T_REKEY:
        snprintf(out, n, _("new key for %s"), party_name(st, e->u.rekey.uscc, nm, sizeof nm));
        break;
    case IVL_T_BUDGET:
        ivl_categories_format(e->u.budget.categories, cats, sizeof cats);
        snprintf(out, n, _("budget %s: total %s, cap %s"), e->u.budget.budget,
                 cli_amt(e->u.budget.total, a1), cli_amt(e->u.budget.cap, a2));
        break;
    case IVL_T_ISSUE:
        snprintf(out, n, _("%s to %s from %s"), cli_amt(e->u.issue.amount, a1),
                 party_name(st, e->u.issue.holder, nm, sizeof nm), e->u.issue.budget);
        break;
    case IVL_T_REDEEM:
        snprintf(out, n, _("%s by %s at %s"), cli_amt(e->u.redeem.amount, a1),
                 party_name(st, e->u.redeem.sme, nm, sizeof nm),
                 party_name(st, e->u.redeem.provider, nm2, sizeof nm2));
        break;
    case IVL_T_CLAIM:
        snprintf(out, n, _("%s for redemption %s"), cli_amt(e->u.claim.amount, a1),
                 cli_id_short(e->u.claim.redemption, id));
        break;
    case IVL_T_APPROVE:
        snprintf(out, n, _("claim %s"), cli_id_short(e->u.target.target, id));
        break;
    case IVL_T_PAY:
        snprintf(out, n, _("claim %s, bank ref %s"), cli_id_short(e->u.target.target, id),
                 e->u.target.text);
        break;
    case IVL_T_CANCEL:
    case IVL_T_REJECT:
    case IVL_T_CLAWBACK:
    case IVL_T_REVOKE:
        snprintf(out, n, "%s: %s", cli_id_short(e->u.target.target, id), e->u.target.text);
        break;
    case IVL_T_EXPIRE: {
        uint64_t sum = 0;
        for (uint32_t i = 0; i < e->u.expire.n; i++)
            sum += e->u.expire.list[i].amount;
        snprintf(out, n,
                 dngettext(IVL_TEXTDOMAIN, "%u voucher, %s released", "%u vouchers, %s released",
                           e->u.expire.n),
                 e->u.expire.n, cli_amt(sum, a1));
        break;
    }
    case IVL_T_ATTEST:
        snprintf(out, n, _("verified up to size %llu by %s"), (unsigned long long)e->u.attest.size,
                 party_name(st, e->sigs[0].signer, nm, sizeof nm));
        break;
    default: snprintf(out, n, "?");
    }
}

void cli_pad(FILE *f, const char *s, size_t width)
{
    size_t w = ivl_display_width(s);
    fputs(s, f);
    for (; w < width; w++)
        fputc(' ', f);
}

void cli_rpad(FILE *f, const char *s, size_t width)
{
    for (size_t w = ivl_display_width(s); w < width; w++)
        fputc(' ', f);
    fputs(s, f);
}

void cli_field(const char *label, size_t width, const char *fmt, ...)
{
    va_list ap;
    size_t w = ivl_display_width(label);
    cli_pad(stdout, label, w < width ? width : w + 1); /* never glued to the value */
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}
