/*
 * codec.c - canonical binary encoding of entries: encoder and strict decoder
 * side by side, so that each field is written and read in one place.
 *
 * Integers are fixed-width big-endian; lengths and counts are minimal
 * unsigned LEB128 varints; text is UTF-8 without control characters; lists
 * are strictly increasing. The decoder refuses anything the encoder would
 * not produce: truncation, trailing bytes, unknown type or version, a
 * non-minimal varint, out-of-range values, unsorted lists.
 */
#include "entry.h"
#include "err.h"
#include "parse.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <uuid.h>

/* ---- buffer ---- */

void ivl_buf_free(struct ivl_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void ivl_buf_put(struct ivl_buf *b, const void *p, size_t n)
{
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
}

void ivl_buf_u8(struct ivl_buf *b, uint8_t v)
{
    ivl_buf_put(b, &v, 1);
}

void ivl_buf_u64(struct ivl_buf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        x[i] = (uint8_t)v;
    ivl_buf_put(b, x, 8);
}

void ivl_buf_varint(struct ivl_buf *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        ivl_buf_u8(b, v ? (uint8_t)(c | 0x80) : c);
    } while (v);
}

void ivl_buf_str(struct ivl_buf *b, const char *s)
{
    size_t n = strlen(s);
    ivl_buf_varint(b, n);
    ivl_buf_put(b, s, n);
}

/* ---- reader ---- */

static int trunc_err(struct ivl_rd *r, size_t need)
{
    return ivl_fail(IVL_E_DECODE, _("truncated at byte %zu (need %zu more)"), r->off,
                    need - (r->len - r->off));
}

int ivl_rd_bytes(struct ivl_rd *r, void *out, size_t n)
{
    if (r->len - r->off < n) return trunc_err(r, n);
    memcpy(out, r->p + r->off, n);
    r->off += n;
    return 0;
}

int ivl_rd_u8(struct ivl_rd *r, uint8_t *v)
{
    return ivl_rd_bytes(r, v, 1);
}

int ivl_rd_u64(struct ivl_rd *r, uint64_t *v)
{
    uint8_t x[8];
    int rc = ivl_rd_bytes(r, x, 8);
    if (rc) return rc;
    *v = 0;
    for (int i = 0; i < 8; i++)
        *v = (*v << 8) | x[i];
    return 0;
}

int ivl_rd_varint(struct ivl_rd *r, uint64_t max, uint64_t *v)
{
    size_t start = r->off;
    uint64_t x = 0;
    for (unsigned shift = 0;; shift += 7) {
        uint8_t c = 0;
        if (shift > 63) return ivl_fail(IVL_E_DECODE, _("varint too long at byte %zu"), start);
        int rc = ivl_rd_u8(r, &c);
        if (rc) return rc;
        if (shift == 63 && (c & 0x7e))
            return ivl_fail(IVL_E_DECODE, _("varint overflows at byte %zu"), start);
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            if (c == 0 && shift > 0)
                return ivl_fail(IVL_E_DECODE, _("non-minimal varint at byte %zu"), start);
            break;
        }
    }
    if (x > max)
        return ivl_fail(IVL_E_DECODE, _("length %llu too large at byte %zu"), (unsigned long long)x,
                        start);
    *v = x;
    return 0;
}

int ivl_rd_str(struct ivl_rd *r, char *out, size_t maxlen, int allow_empty, const char *field)
{
    uint64_t n;
    size_t start = r->off;
    int rc = ivl_rd_varint(r, maxlen, &n);
    if (rc) return rc;
    if (r->len - r->off < n) return trunc_err(r, n);
    memcpy(out, r->p + r->off, n);
    out[n] = 0;
    r->off += n;
    if (n == 0 ? !allow_empty : !ivl_text_valid(out, maxlen) || strlen(out) != n)
        return ivl_fail(IVL_E_DECODE, _("invalid text in %s at byte %zu"), _(field), start);
    return 0;
}

int ivl_rd_end(struct ivl_rd *r)
{
    if (r->off != r->len)
        return ivl_fail(IVL_E_DECODE, _("%zu trailing bytes at byte %zu"), r->len - r->off, r->off);
    return 0;
}

/* ---- field helpers shared by encoder and decoder ---- */

/* Any check character: a party may be registered despite a wrong one. */
static int uscc_ok(const char *s)
{
    return ivl_uscc_form_ok(s);
}

static int rd_uscc(struct ivl_rd *r, char *out, const char *field)
{
    size_t start = r->off;
    int rc = ivl_rd_bytes(r, out, IVL_USCC_LEN);
    if (rc) return rc;
    out[IVL_USCC_LEN] = 0;
    if (!uscc_ok(out))
        return ivl_fail(IVL_E_DECODE, _("invalid USCC in %s at byte %zu"), _(field), start);
    return 0;
}

static int rd_time(struct ivl_rd *r, int64_t *t, const char *field)
{
    uint64_t v;
    size_t start = r->off;
    int rc = ivl_rd_u64(r, &v);
    if (rc) return rc;
    if (v > (uint64_t)IVL_TIME_MAX)
        return ivl_fail(IVL_E_DECODE, _("%s out of range at byte %zu"), _(field), start);
    *t = (int64_t)v;
    return 0;
}

static int rd_amount(struct ivl_rd *r, uint64_t *v, const char *field)
{
    size_t start = r->off;
    int rc = ivl_rd_u64(r, v);
    if (rc) return rc;
    if (*v > IVL_AMOUNT_MAX)
        return ivl_fail(IVL_E_DECODE, _("%s out of range at byte %zu"), _(field), start);
    return 0;
}

static int text_ok(const char *s, size_t max, int allow_empty)
{
    return s[0] ? ivl_text_valid(s, max) : allow_empty;
}

/* ---- body: validation (encoder side) ---- */

static int bad(const char *field)
{
    return ivl_fail(IVL_E_USAGE, _("invalid %s"), _(field));
}

static int check_time(int64_t t, const char *field)
{
    return (t < 0 || t > IVL_TIME_MAX) ? bad(field) : 0;
}

static int check_body(const struct ivl_entry *e)
{
    if (check_time(e->signed_at, N_("signing time"))) return IVL_E_USAGE;
    switch (e->type) {
    case IVL_T_GENESIS: {
        const struct ivl_genesis *g = &e->u.genesis;
        if (!text_ok(g->origin, IVL_MAX_ORIGIN, 0)) return bad(N_("origin"));
        if (!uscc_ok(g->authority)) return bad(N_("authority USCC"));
        if (!text_ok(g->name, IVL_MAX_NAME, 0)) return bad(N_("name"));
        if (!text_ok(g->key_name, IVL_MAX_KEYNAME, 0)) return bad(N_("key name"));
        return 0;
    }
    case IVL_T_PARTY: {
        const struct ivl_party *p = &e->u.party;
        if (!uscc_ok(p->uscc)) return bad(N_("USCC"));
        if (p->role < 1 || p->role > IVL_ROLE_MAX) return bad(N_("role"));
        if (p->flags & ~IVL_PARTY_USCC_UNCHECKED) return bad(N_("flags"));
        if (p->categories & ~IVL_CAT_ALL) return bad(N_("categories"));
        if (!text_ok(p->name, IVL_MAX_NAME, 0)) return bad(N_("name"));
        if (!text_ok(p->key_name, IVL_MAX_KEYNAME, 0)) return bad(N_("key name"));
        if (!text_ok(p->group, IVL_MAX_GROUP, 1)) return bad(N_("group"));
        if (p->n_related > IVL_MAX_RELATED) return bad(N_("related parties (too many)"));
        for (uint32_t i = 0; i < p->n_related; i++) {
            if (!uscc_ok(p->related[i])) return bad(N_("related USCC"));
            if (i && strcmp(p->related[i - 1], p->related[i]) >= 0)
                return bad(N_("related parties (must be sorted and unique)"));
        }
        return 0;
    }
    case IVL_T_SUSPEND:
        if (!uscc_ok(e->u.suspend.uscc)) return bad(N_("USCC"));
        if (!text_ok(e->u.suspend.reason, IVL_MAX_REASON, 0)) return bad(N_("reason"));
        return 0;
    case IVL_T_REKEY:
        if (!uscc_ok(e->u.rekey.uscc)) return bad(N_("USCC"));
        if (!text_ok(e->u.rekey.key_name, IVL_MAX_KEYNAME, 0)) return bad(N_("key name"));
        return 0;
    case IVL_T_BUDGET: {
        const struct ivl_budget *b = &e->u.budget;
        if (!text_ok(b->budget, IVL_MAX_BUDGETID, 0)) return bad(N_("budget id"));
        if (b->total > IVL_AMOUNT_MAX || b->cap > IVL_AMOUNT_MAX) return bad(N_("amount"));
        if (b->ratio_bp > 10000) return bad(N_("ratio"));
        if (b->categories & ~IVL_CAT_ALL) return bad(N_("categories"));
        return check_time(b->until, N_("end date"));
    }
    case IVL_T_ISSUE:
        if (!text_ok(e->u.issue.budget, IVL_MAX_BUDGETID, 0)) return bad(N_("budget id"));
        if (!uscc_ok(e->u.issue.holder)) return bad(N_("USCC"));
        if (e->u.issue.amount > IVL_AMOUNT_MAX) return bad(N_("amount"));
        return check_time(e->u.issue.until, N_("expiry date"));
    case IVL_T_REDEEM: {
        const struct ivl_redeem *r = &e->u.redeem;
        if (!uscc_ok(r->sme) || !uscc_ok(r->provider)) return bad(N_("USCC"));
        if (r->amount > IVL_AMOUNT_MAX || r->contract_amount > IVL_AMOUNT_MAX)
            return bad(N_("amount"));
        if (r->category & (r->category - 1) || r->category & ~IVL_CAT_ALL)
            return bad(N_("category"));
        return 0;
    }
    case IVL_T_CANCEL:
    case IVL_T_REJECT:
    case IVL_T_CLAWBACK:
    case IVL_T_REVOKE: return text_ok(e->u.target.text, IVL_MAX_REASON, 0) ? 0 : bad(N_("reason"));
    case IVL_T_PAY:
        return text_ok(e->u.target.text, IVL_MAX_REF, 0) ? 0 : bad(N_("bank reference"));
    case IVL_T_APPROVE: return e->u.target.text[0] ? bad(N_("approve (takes no text)")) : 0;
    case IVL_T_CLAIM: return e->u.claim.amount > IVL_AMOUNT_MAX ? bad(N_("amount")) : 0;
    case IVL_T_EXPIRE:
        if (e->u.expire.n > IVL_MAX_EXPIRE) return bad(N_("expiry list (too long)"));
        for (uint32_t i = 0; i < e->u.expire.n; i++) {
            if (e->u.expire.list[i].amount > IVL_AMOUNT_MAX) return bad(N_("amount"));
            if (i && memcmp(e->u.expire.list[i - 1].voucher, e->u.expire.list[i].voucher,
                            IVL_ID_LEN) >= 0)
                return bad(N_("expiry list (must be sorted and unique)"));
        }
        return 0;
    case IVL_T_ATTEST: return 0;
    default: return bad(N_("entry type"));
    }
}

/* ---- body: encoder ---- */

void ivl_buf_party(struct ivl_buf *b, const struct ivl_party *p)
{
    ivl_buf_put(b, p->uscc, IVL_USCC_LEN);
    ivl_buf_u8(b, p->role);
    ivl_buf_u8(b, p->flags);
    ivl_buf_u8(b, p->categories);
    ivl_buf_str(b, p->name);
    ivl_buf_str(b, p->key_name);
    ivl_buf_put(b, p->pub, IVL_PUB_LEN);
    ivl_buf_str(b, p->group);
    ivl_buf_varint(b, p->n_related);
    for (uint32_t i = 0; i < p->n_related; i++)
        ivl_buf_put(b, p->related[i], IVL_USCC_LEN);
}

int ivl_body_encode(const struct ivl_entry *e, struct ivl_buf *b)
{
    int rc = check_body(e);
    if (rc) return rc;
    ivl_buf_u8(b, e->type);
    ivl_buf_put(b, e->id, IVL_ID_LEN);
    ivl_buf_u64(b, (uint64_t)e->signed_at);
    switch (e->type) {
    case IVL_T_GENESIS: {
        const struct ivl_genesis *g = &e->u.genesis;
        ivl_buf_str(b, g->origin);
        ivl_buf_put(b, g->authority, IVL_USCC_LEN);
        ivl_buf_str(b, g->name);
        ivl_buf_str(b, g->key_name);
        ivl_buf_put(b, g->pub, IVL_PUB_LEN);
        ivl_buf_put(b, g->log_pub, IVL_PUB_LEN);
        break;
    }
    case IVL_T_PARTY: ivl_buf_party(b, &e->u.party); break;
    case IVL_T_SUSPEND:
        ivl_buf_put(b, e->u.suspend.uscc, IVL_USCC_LEN);
        ivl_buf_str(b, e->u.suspend.reason);
        break;
    case IVL_T_REKEY:
        ivl_buf_put(b, e->u.rekey.uscc, IVL_USCC_LEN);
        ivl_buf_str(b, e->u.rekey.key_name);
        ivl_buf_put(b, e->u.rekey.pub, IVL_PUB_LEN);
        break;
    case IVL_T_BUDGET: {
        const struct ivl_budget *bu = &e->u.budget;
        ivl_buf_str(b, bu->budget);
        ivl_buf_u64(b, bu->total);
        ivl_buf_u64(b, bu->cap);
        ivl_buf_u64(b, bu->ratio_bp);
        ivl_buf_u64(b, (uint64_t)bu->until);
        ivl_buf_u8(b, bu->categories);
        break;
    }
    case IVL_T_ISSUE:
        ivl_buf_str(b, e->u.issue.budget);
        ivl_buf_put(b, e->u.issue.holder, IVL_USCC_LEN);
        ivl_buf_u64(b, e->u.issue.amount);
        ivl_buf_u64(b, (uint64_t)e->u.issue.until);
        break;
    case IVL_T_REDEEM: {
        const struct ivl_redeem *r = &e->u.redeem;
        ivl_buf_put(b, r->voucher, IVL_ID_LEN);
        ivl_buf_put(b, r->sme, IVL_USCC_LEN);
        ivl_buf_put(b, r->provider, IVL_USCC_LEN);
        ivl_buf_put(b, r->contract, IVL_HASHLEN);
        ivl_buf_u64(b, r->contract_amount);
        ivl_buf_u64(b, r->amount);
        ivl_buf_u8(b, r->category);
        break;
    }
    case IVL_T_CANCEL:
    case IVL_T_REJECT:
    case IVL_T_PAY:
    case IVL_T_CLAWBACK:
    case IVL_T_REVOKE:
        ivl_buf_put(b, e->u.target.target, IVL_ID_LEN);
        ivl_buf_str(b, e->u.target.text);
        break;
    case IVL_T_APPROVE: ivl_buf_put(b, e->u.target.target, IVL_ID_LEN); break;
    case IVL_T_CLAIM:
        ivl_buf_put(b, e->u.claim.redemption, IVL_ID_LEN);
        ivl_buf_u64(b, e->u.claim.amount);
        ivl_buf_put(b, e->u.claim.invoice, IVL_HASHLEN);
        break;
    case IVL_T_EXPIRE:
        ivl_buf_varint(b, e->u.expire.n);
        for (uint32_t i = 0; i < e->u.expire.n; i++) {
            ivl_buf_put(b, e->u.expire.list[i].voucher, IVL_ID_LEN);
            ivl_buf_u64(b, e->u.expire.list[i].amount);
        }
        break;
    case IVL_T_ATTEST:
        ivl_buf_u64(b, e->u.attest.size);
        ivl_buf_put(b, e->u.attest.root, IVL_HASHLEN);
        ivl_buf_put(b, e->u.attest.note_sig, IVL_SIG_LEN);
        break;
    }
    return b->oom ? ivl_fail(IVL_E_NOMEM, _("out of memory encoding an entry")) : 0;
}

/* ---- body: decoder ---- */

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_) return rc_;                                                                       \
    } while (0)

int ivl_rd_party(struct ivl_rd *r, struct ivl_party *p)
{
    uint64_t n;
    TRY(rd_uscc(r, p->uscc, N_("party")));
    size_t at = r->off;
    TRY(ivl_rd_u8(r, &p->role));
    TRY(ivl_rd_u8(r, &p->flags));
    TRY(ivl_rd_u8(r, &p->categories));
    if (p->role < 1 || p->role > IVL_ROLE_MAX || (p->flags & ~IVL_PARTY_USCC_UNCHECKED) ||
        (p->categories & ~IVL_CAT_ALL))
        return ivl_fail(IVL_E_DECODE, _("invalid role, flags or categories at byte %zu"), at);
    TRY(ivl_rd_str(r, p->name, IVL_MAX_NAME, 0, N_("name")));
    TRY(ivl_rd_str(r, p->key_name, IVL_MAX_KEYNAME, 0, N_("key name")));
    TRY(ivl_rd_bytes(r, p->pub, IVL_PUB_LEN));
    TRY(ivl_rd_str(r, p->group, IVL_MAX_GROUP, 1, N_("group")));
    TRY(ivl_rd_varint(r, IVL_MAX_RELATED, &n));
    p->n_related = (uint32_t)n;
    for (uint32_t i = 0; i < p->n_related; i++) {
        at = r->off;
        TRY(rd_uscc(r, p->related[i], N_("related")));
        if (i && strcmp(p->related[i - 1], p->related[i]) >= 0)
            return ivl_fail(IVL_E_DECODE, _("related parties not sorted at byte %zu"), at);
    }
    return 0;
}

static int rd_expire(struct ivl_rd *r, struct ivl_expire *x)
{
    uint64_t n;
    TRY(ivl_rd_varint(r, IVL_MAX_EXPIRE, &n));
    if (n > (r->len - r->off) / (IVL_ID_LEN + 8))
        return ivl_fail(IVL_E_DECODE, _("expiry list longer than the entry at byte %zu"), r->off);
    x->list = calloc(n ? n : 1, sizeof *x->list);
    if (!x->list) return ivl_fail(IVL_E_NOMEM, _("out of memory decoding an expiry list"));
    x->n = (uint32_t)n;
    for (uint32_t i = 0; i < x->n; i++) {
        size_t at = r->off;
        TRY(ivl_rd_bytes(r, x->list[i].voucher, IVL_ID_LEN));
        TRY(rd_amount(r, &x->list[i].amount, N_("amount")));
        if (i && memcmp(x->list[i - 1].voucher, x->list[i].voucher, IVL_ID_LEN) >= 0)
            return ivl_fail(IVL_E_DECODE, _("expiry list not sorted at byte %zu"), at);
    }
    return 0;
}

static int rd_fields(struct ivl_rd *r, struct ivl_entry *e)
{
    uint64_t v;
    size_t at;
    switch (e->type) {
    case IVL_T_GENESIS: {
        struct ivl_genesis *g = &e->u.genesis;
        TRY(ivl_rd_str(r, g->origin, IVL_MAX_ORIGIN, 0, N_("origin")));
        TRY(rd_uscc(r, g->authority, N_("authority")));
        TRY(ivl_rd_str(r, g->name, IVL_MAX_NAME, 0, N_("name")));
        TRY(ivl_rd_str(r, g->key_name, IVL_MAX_KEYNAME, 0, N_("key name")));
        TRY(ivl_rd_bytes(r, g->pub, IVL_PUB_LEN));
        return ivl_rd_bytes(r, g->log_pub, IVL_PUB_LEN);
    }
    case IVL_T_PARTY: return ivl_rd_party(r, &e->u.party);
    case IVL_T_SUSPEND:
        TRY(rd_uscc(r, e->u.suspend.uscc, N_("party")));
        return ivl_rd_str(r, e->u.suspend.reason, IVL_MAX_REASON, 0, N_("reason"));
    case IVL_T_REKEY:
        TRY(rd_uscc(r, e->u.rekey.uscc, N_("party")));
        TRY(ivl_rd_str(r, e->u.rekey.key_name, IVL_MAX_KEYNAME, 0, N_("key name")));
        return ivl_rd_bytes(r, e->u.rekey.pub, IVL_PUB_LEN);
    case IVL_T_BUDGET: {
        struct ivl_budget *b = &e->u.budget;
        TRY(ivl_rd_str(r, b->budget, IVL_MAX_BUDGETID, 0, N_("budget id")));
        TRY(rd_amount(r, &b->total, N_("total")));
        TRY(rd_amount(r, &b->cap, N_("cap")));
        at = r->off;
        TRY(ivl_rd_u64(r, &v));
        if (v > 10000) return ivl_fail(IVL_E_DECODE, _("ratio out of range at byte %zu"), at);
        b->ratio_bp = (uint32_t)v;
        TRY(rd_time(r, &b->until, N_("end date")));
        at = r->off;
        TRY(ivl_rd_u8(r, &b->categories));
        if (b->categories & ~IVL_CAT_ALL)
            return ivl_fail(IVL_E_DECODE, _("unknown category bits at byte %zu"), at);
        return 0;
    }
    case IVL_T_ISSUE:
        TRY(ivl_rd_str(r, e->u.issue.budget, IVL_MAX_BUDGETID, 0, N_("budget id")));
        TRY(rd_uscc(r, e->u.issue.holder, N_("holder")));
        TRY(rd_amount(r, &e->u.issue.amount, N_("amount")));
        return rd_time(r, &e->u.issue.until, N_("expiry date"));
    case IVL_T_REDEEM: {
        struct ivl_redeem *d = &e->u.redeem;
        TRY(ivl_rd_bytes(r, d->voucher, IVL_ID_LEN));
        TRY(rd_uscc(r, d->sme, N_("enterprise")));
        TRY(rd_uscc(r, d->provider, N_("provider")));
        TRY(ivl_rd_bytes(r, d->contract, IVL_HASHLEN));
        TRY(rd_amount(r, &d->contract_amount, N_("contract amount")));
        TRY(rd_amount(r, &d->amount, N_("amount")));
        at = r->off;
        TRY(ivl_rd_u8(r, &d->category));
        if ((d->category & (d->category - 1)) || (d->category & ~IVL_CAT_ALL))
            return ivl_fail(IVL_E_DECODE, _("invalid category at byte %zu"), at);
        return 0;
    }
    case IVL_T_CANCEL:
    case IVL_T_REJECT:
    case IVL_T_CLAWBACK:
    case IVL_T_REVOKE:
        TRY(ivl_rd_bytes(r, e->u.target.target, IVL_ID_LEN));
        return ivl_rd_str(r, e->u.target.text, IVL_MAX_REASON, 0, N_("reason"));
    case IVL_T_PAY:
        TRY(ivl_rd_bytes(r, e->u.target.target, IVL_ID_LEN));
        return ivl_rd_str(r, e->u.target.text, IVL_MAX_REF, 0, N_("bank reference"));
    case IVL_T_APPROVE: return ivl_rd_bytes(r, e->u.target.target, IVL_ID_LEN);
    case IVL_T_CLAIM:
        TRY(ivl_rd_bytes(r, e->u.claim.redemption, IVL_ID_LEN));
        TRY(rd_amount(r, &e->u.claim.amount, N_("amount")));
        return ivl_rd_bytes(r, e->u.claim.invoice, IVL_HASHLEN);
    case IVL_T_EXPIRE: return rd_expire(r, &e->u.expire);
    case IVL_T_ATTEST:
        TRY(ivl_rd_u64(r, &e->u.attest.size));
        TRY(ivl_rd_bytes(r, e->u.attest.root, IVL_HASHLEN));
        return ivl_rd_bytes(r, e->u.attest.note_sig, IVL_SIG_LEN);
    default: return ivl_fail(IVL_E_DECODE, _("unknown entry type %u"), e->type);
    }
}

static int rd_body(struct ivl_rd *r, struct ivl_entry *e)
{
    size_t at = r->off;
    TRY(ivl_rd_u8(r, &e->type));
    if (e->type < 1 || e->type > IVL_T_MAX)
        return ivl_fail(IVL_E_DECODE, _("unknown entry type %u at byte %zu"), e->type, at);
    TRY(ivl_rd_bytes(r, e->id, IVL_ID_LEN));
    TRY(rd_time(r, &e->signed_at, N_("signing time")));
    return rd_fields(r, e);
}

int ivl_body_decode(const uint8_t *p, size_t len, struct ivl_entry *e)
{
    struct ivl_rd r = {p, len, 0};
    memset(e, 0, sizeof *e);
    int rc = rd_body(&r, e);
    if (!rc) rc = ivl_rd_end(&r);
    if (rc) ivl_entry_free(e);
    return rc;
}

/* ---- leaf ---- */

int ivl_leaf_encode(const struct ivl_entry *e, struct ivl_buf *b)
{
    struct ivl_buf body = {0};
    if (e->n_sigs < 1 || e->n_sigs > IVL_MAX_SIGS)
        return ivl_fail(IVL_E_USAGE, _("an entry needs 1 or 2 signatures, has %u"), e->n_sigs);
    if (check_time(e->appended_at, N_("append time"))) return IVL_E_USAGE;
    int rc = ivl_body_encode(e, &body);
    if (rc) return rc;
    ivl_buf_u8(b, IVL_FORMAT_VERSION);
    ivl_buf_u64(b, e->seq);
    ivl_buf_u64(b, (uint64_t)e->appended_at);
    ivl_buf_varint(b, body.len);
    ivl_buf_put(b, body.p, body.len);
    ivl_buf_free(&body);
    ivl_buf_u8(b, (uint8_t)e->n_sigs);
    for (uint32_t i = 0; i < e->n_sigs; i++) {
        if (!uscc_ok(e->sigs[i].signer)) return bad(N_("signer USCC"));
        ivl_buf_put(b, e->sigs[i].signer, IVL_USCC_LEN);
        ivl_buf_put(b, e->sigs[i].sig, IVL_SIG_LEN);
    }
    return b->oom ? ivl_fail(IVL_E_NOMEM, _("out of memory encoding an entry")) : 0;
}

static int rd_leaf_head(struct ivl_rd *r, struct ivl_entry *e, uint64_t *body_len)
{
    uint8_t ver;
    TRY(ivl_rd_u8(r, &ver));
    if (ver != IVL_FORMAT_VERSION)
        return ivl_fail(IVL_E_DECODE, _("unknown format version %u"), ver);
    TRY(ivl_rd_u64(r, &e->seq));
    TRY(rd_time(r, &e->appended_at, N_("append time")));
    TRY(ivl_rd_varint(r, IVL_MAX_LEAF, body_len));
    if (*body_len > r->len - r->off) return trunc_err(r, *body_len);
    return 0;
}

int ivl_leaf_body(const uint8_t *leaf, size_t len, const uint8_t **body, size_t *body_len)
{
    struct ivl_entry e;
    struct ivl_rd r = {leaf, len, 0};
    uint64_t n;
    TRY(rd_leaf_head(&r, &e, &n));
    *body = leaf + r.off;
    *body_len = (size_t)n;
    return 0;
}

int ivl_leaf_decode(const uint8_t *p, size_t len, struct ivl_entry *e)
{
    uint64_t body_len;
    uint8_t nsig;
    struct ivl_rd r = {p, len, 0};
    memset(e, 0, sizeof *e);
    int rc = rd_leaf_head(&r, e, &body_len);
    if (rc) return rc;
    struct ivl_rd br = {p + r.off, (size_t)body_len, 0};
    rc = rd_body(&br, e);
    if (!rc) rc = ivl_rd_end(&br);
    if (rc) {
        ivl_entry_free(e);
        return ivl_fail(IVL_E_DECODE, _("body at byte %zu: %s"), r.off, ivl_err_detail(rc));
    }
    r.off += (size_t)body_len;
    size_t at = r.off;
    rc = ivl_rd_u8(&r, &nsig);
    if (!rc && (nsig < 1 || nsig > IVL_MAX_SIGS))
        rc = ivl_fail(IVL_E_DECODE, _("invalid signature count %u at byte %zu"), nsig, at);
    e->n_sigs = nsig;
    for (uint32_t i = 0; !rc && i < e->n_sigs; i++) {
        rc = rd_uscc(&r, e->sigs[i].signer, N_("signer"));
        if (!rc) rc = ivl_rd_bytes(&r, e->sigs[i].sig, IVL_SIG_LEN);
    }
    if (!rc) rc = ivl_rd_end(&r);
    if (rc) ivl_entry_free(e);
    return rc;
}

void ivl_entry_free(struct ivl_entry *e)
{
    if (e->type == IVL_T_EXPIRE) free(e->u.expire.list);
    memset(e, 0, sizeof *e);
}

int ivl_sig_message(const char *origin, const uint8_t *body, size_t body_len, struct ivl_buf *out)
{
    static const char ctx[] = "ivl/v1/entry\n";
    ivl_buf_put(out, ctx, sizeof ctx - 1);
    ivl_buf_str(out, origin);
    ivl_buf_put(out, body, body_len);
    return out->oom ? ivl_fail(IVL_E_NOMEM, _("out of memory")) : 0;
}

/* ---- names ---- */

static const char *const type_names[] = {
    NULL,    "genesis", "party",  "suspend", "rekey",    "budget", "issue",  "redeem", "cancel",
    "claim", "approve", "reject", "pay",     "clawback", "revoke", "expire", "attest",
};
static const char *const role_names[] = {NULL,       "authority", "sme",
                                         "provider", "finance",   "auditor"};
static const char *const cat_names[] = {"rd",         "testing",  "ip",
                                        "consulting", "transfer", "instruments"};

static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (names[i] && !strcmp(names[i], s)) return i;
    return -1;
}

const char *ivl_type_name(int t)
{
    return t >= 1 && t <= IVL_T_MAX ? type_names[t] : "unknown";
}

int ivl_type_from_name(const char *s)
{
    return name_index(type_names, IVL_T_MAX + 1, s);
}

const char *ivl_role_name(int r)
{
    return r >= 1 && r <= IVL_ROLE_MAX ? role_names[r] : "unknown";
}

int ivl_role_from_name(const char *s)
{
    return name_index(role_names, IVL_ROLE_MAX + 1, s);
}

const char *ivl_category_name(int bit)
{
    for (int i = 0; i < 6; i++)
        if (bit == 1 << i) return cat_names[i];
    return "";
}

int ivl_category_from_name(const char *s)
{
    int i = name_index(cat_names, 6, s);
    return i < 0 ? -1 : 1 << i;
}

int ivl_categories_parse(const char *s, uint8_t *mask)
{
    char item[32];
    *mask = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n == 0 || n >= sizeof item)
            return ivl_fail(IVL_E_USAGE, _("invalid category list '%s'"), s);
        memcpy(item, s, n);
        item[n] = 0;
        int bit = ivl_category_from_name(item);
        if (bit < 0)
            return ivl_fail(IVL_E_USAGE,
                            _("unknown category '%s' (rd, testing, ip, consulting, transfer, "
                              "instruments)"),
                            item);
        *mask |= (uint8_t)bit;
        s += n;
        if (*s == ',' && !*++s) return ivl_fail(IVL_E_USAGE, _("category list ends with a comma"));
    }
    return 0;
}

void ivl_categories_format(uint8_t mask, char *out, size_t outlen)
{
    size_t off = 0;
    out[0] = 0;
    for (int i = 0; i < 6; i++)
        if (mask & (1 << i)) {
            int n = snprintf(out + off, outlen - off, "%s%s", off ? "," : "", cat_names[i]);
            if (n < 0 || (size_t)n >= outlen - off) return;
            off += (size_t)n;
        }
}

void ivl_id_format(const uint8_t id[IVL_ID_LEN], char out[37])
{
    uuid_unparse_lower(id, out);
}

int ivl_id_parse(const char *s, uint8_t id[IVL_ID_LEN])
{
    if (strlen(s) != 36 || uuid_parse(s, id))
        return ivl_fail(IVL_E_USAGE, _("'%s' is not an id (UUID)"), s);
    return 0;
}

/* UUID version 7 (RFC 9562): 48 bits of Unix time in milliseconds, then 74
 * random bits, so that ids made later sort later. Within one millisecond the
 * 74 bits count up from the last id (RFC 9562 §6.2, method 2), so that the
 * ids of a batch are strictly increasing too. Why: every table keyed by an id
 * (ids, vouchers, redemptions, claims) then grows at its end, and a batch of
 * thousands of entries dirties a few pages instead of one page per entry. */
void ivl_id_generate(uint8_t id[IVL_ID_LEN])
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static uint64_t last_ms;
    static uint8_t last[IVL_ID_LEN];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    pthread_mutex_lock(&mu);
    int carry = 1;
    if (ms <= last_ms) {
        /* The same millisecond (or the clock went back): the next value. */
        for (int i = IVL_ID_LEN - 1; carry && i >= 6; i--) {
            if (i == 8) { /* 6 bits here, under the variant */
                carry = (last[8] & 0x3f) == 0x3f;
                last[8] = (uint8_t)(0x80 | ((last[8] + 1) & 0x3f));
            } else if (i == 6) { /* 4 bits here, under the version */
                carry = (last[6] & 0x0f) == 0x0f;
                last[6] = (uint8_t)(0x70 | ((last[6] + 1) & 0x0f));
            } else {
                carry = ++last[i] == 0;
            }
        }
        ms = last_ms + carry; /* 2^74 ids in one millisecond: move on */
    }
    if (carry) {
        randombytes_buf(last + 6, IVL_ID_LEN - 6);
        last[6] = (uint8_t)(0x70 | (last[6] & 0x07)); /* top counter bit clear: room */
        last[8] = (uint8_t)(0x80 | (last[8] & 0x3f));
    }
    for (int i = 5; i >= 0; i--)
        last[i] = (uint8_t)(ms >> (8 * (5 - i)));
    last_ms = ms;
    memcpy(id, last, IVL_ID_LEN);
    pthread_mutex_unlock(&mu);
}
