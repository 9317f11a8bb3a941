/*
 * state.c - typed access to the state tables: explicit record encodings
 * (so that a replayed state compares byte for byte with the stored one) and
 * thin wrappers over LMDB get/put that turn its codes into ivl errors.
 */
#include "state.h"
#include "err.h"
#include "merkle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ivl_db_names[IVL_DB_COUNT] = {
    "meta", "leaves",   "nodes",    "checkpoints", "ids",         "parties",   "pubkeys", "budgets",
    "caps", "vouchers", "holdings", "recent",      "redemptions", "contracts", "claims",
};

unsigned ivl_db_flags(int db)
{
    return db == IVL_DB_HOLDINGS ? MDB_DUPSORT | MDB_DUPFIXED : 0;
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_) return rc_;                                                                       \
    } while (0)

int ivl_st_mdb_err(int rc, const char *what)
{
    if (rc == MDB_NOTFOUND) return IVL_E_NOT_FOUND;
    if (rc == MDB_MAP_FULL) return ivl_fail(IVL_E_MAP_FULL, "%s: %s", what, mdb_strerror(rc));
    if (rc == ENOSPC || rc == EDQUOT)
        return ivl_fail(IVL_E_NOSPACE, _("%s: no space left on device"), what);
    if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID ||
        rc == MDB_VERSION_MISMATCH)
        return ivl_fail(IVL_E_CORRUPT, _("%s: database is corrupt (%s)"), what, mdb_strerror(rc));
    return ivl_fail(IVL_E_STORE, "%s: %s", what, mdb_strerror(rc));
}

int ivl_st_get(struct ivl_state *st, int db, const void *k, size_t kl, MDB_val *v)
{
    MDB_val key = {kl, (void *)k};
    int rc = mdb_get(st->txn, st->dbi[db], &key, v);
    if (rc == MDB_NOTFOUND) return IVL_E_NOT_FOUND;
    return rc ? ivl_st_mdb_err(rc, ivl_db_names[db]) : 0;
}

int ivl_st_put(struct ivl_state *st, int db, const void *k, size_t kl, const void *v, size_t vl)
{
    MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};
    int rc = mdb_put(st->txn, st->dbi[db], &key, &val, 0);
    return rc ? ivl_st_mdb_err(rc, ivl_db_names[db]) : 0;
}

int ivl_st_del(struct ivl_state *st, int db, const void *k, size_t kl)
{
    MDB_val key = {kl, (void *)k};
    int rc = mdb_del(st->txn, st->dbi[db], &key, NULL);
    return (rc && rc != MDB_NOTFOUND) ? ivl_st_mdb_err(rc, ivl_db_names[db]) : 0;
}

/* Encodes with `enc`, puts under key, frees. */
static int put_buf(struct ivl_state *st, int db, const void *k, size_t kl, struct ivl_buf *b)
{
    int rc = b->oom ? ivl_fail(IVL_E_NOMEM, _("out of memory"))
                    : ivl_st_put(st, db, k, kl, b->p, b->len);
    ivl_buf_free(b);
    return rc;
}

static int corrupt(int db, int rc)
{
    (void)rc;
    return ivl_fail(IVL_E_CORRUPT, _("a record in table '%s' does not decode"), ivl_db_names[db]);
}

static int rd_i64(struct ivl_rd *r, int64_t *t)
{
    uint64_t v;
    TRY(ivl_rd_u64(r, &v));
    *t = (int64_t)v;
    return 0;
}

/* A sequence number or size as a key: u64 big-endian, so keys sort by it. */
static void seq_key(uint64_t seq, uint8_t k[8])
{
    for (int i = 7; i >= 0; i--, seq >>= 8)
        k[i] = (uint8_t)seq;
}

/* ---- head ---- */

int ivl_st_head(struct ivl_state *st, struct ivl_head *h)
{
    MDB_val v;
    memset(h, 0, sizeof *h);
    int rc = ivl_st_get(st, IVL_DB_META, "head", 4, &v);
    if (rc == IVL_E_NOT_FOUND) return 0;
    if (rc) return rc;
    struct ivl_rd r = {v.mv_data, v.mv_size, 0};
    uint64_t t;
    if (ivl_rd_u64(&r, &h->size) || ivl_rd_u64(&r, &t) || ivl_rd_bytes(&r, h->root, 32) ||
        ivl_rd_end(&r))
        return corrupt(IVL_DB_META, 0);
    h->last_time = (int64_t)t;
    return 0;
}

int ivl_st_put_head(struct ivl_state *st, const struct ivl_head *h)
{
    struct ivl_buf b = {0};
    ivl_buf_u64(&b, h->size);
    ivl_buf_u64(&b, (uint64_t)h->last_time);
    ivl_buf_put(&b, h->root, 32);
    return put_buf(st, IVL_DB_META, "head", 4, &b);
}

/* ---- the cache of one batch append ----
 *
 * Within the write transaction of a batch, every issue reads and rewrites the
 * same budget record and looks up the same signer. While ivl_st_cache_begin()
 * is in effect for a transaction (thread-local, matched by the transaction
 * pointer, so no other state sees it), the budget last written stays decoded
 * here and is put once, by ivl_st_cache_flush() before the commit; and the
 * last few party records read are kept decoded (a put of a party drops its
 * copy); and the Merkle tree's right edge, so an append reads no node or
 * leaf back. The bytes in the table at the commit are those the same puts in
 * sequence would leave, which `ivl verify` checks. */
#define PARTY_CACHE 4

static _Thread_local struct {
    MDB_txn *txn;
    int have_b, dirty_b;
    struct ivl_budget_rec b;
    int np, next_p;
    struct ivl_party_rec p[PARTY_CACHE];
    /* The last left and right node put at each level of the Merkle tree:
     * the left siblings the next appends hash with (level 0 is a leaf hash,
     * not in a table). */
    uint64_t node_have[2], node_index[64][2];
    uint8_t node[64][2][IVL_HASHLEN];
} bc;

static int put_budget_now(struct ivl_state *st, const struct ivl_budget_rec *b);

void ivl_st_cache_begin(struct ivl_state *st)
{
    memset(&bc, 0, sizeof bc);
    bc.txn = st->txn;
}

int ivl_st_cache_flush(struct ivl_state *st)
{
    if (bc.txn != st->txn || !bc.dirty_b) return 0;
    bc.dirty_b = 0;
    return put_budget_now(st, &bc.b);
}

void ivl_st_cache_end(void)
{
    memset(&bc, 0, sizeof bc);
}

static int cached(const struct ivl_state *st)
{
    return bc.txn && bc.txn == st->txn;
}

/* ---- parties ---- */

int ivl_rec_party(const MDB_val *v, struct ivl_party_rec *p)
{
    struct ivl_rd r = {v->mv_data, v->mv_size, 0};
    memset(p, 0, sizeof *p);
    if (ivl_rd_party(&r, &p->p) || ivl_rd_u8(&r, &p->status) ||
        ivl_rd_u64(&r, &p->registered_seq) || ivl_rd_u64(&r, &p->changed_seq) ||
        rd_i64(&r, &p->registered_at) || ivl_rd_end(&r) || p->status > IVL_PARTY_SUSPENDED)
        return corrupt(IVL_DB_PARTIES, 0);
    return 0;
}

int ivl_st_party(struct ivl_state *st, const char *uscc, struct ivl_party_rec *p)
{
    MDB_val v;
    if (cached(st))
        for (int i = 0; i < bc.np; i++)
            if (!memcmp(bc.p[i].p.uscc, uscc, IVL_USCC_LEN)) {
                *p = bc.p[i];
                return 0;
            }
    TRY(ivl_st_get(st, IVL_DB_PARTIES, uscc, IVL_USCC_LEN, &v));
    TRY(ivl_rec_party(&v, p));
    if (cached(st)) {
        bc.p[bc.next_p] = *p;
        bc.next_p = (bc.next_p + 1) % PARTY_CACHE;
        if (bc.np < PARTY_CACHE) bc.np++;
    }
    return 0;
}

int ivl_st_put_party(struct ivl_state *st, const struct ivl_party_rec *p)
{
    if (cached(st)) /* read again from the table from now on */
        for (int i = 0; i < bc.np; i++)
            if (!memcmp(bc.p[i].p.uscc, p->p.uscc, IVL_USCC_LEN))
                memset(bc.p[i].p.uscc, 0, sizeof bc.p[i].p.uscc);
    struct ivl_buf b = {0};
    ivl_buf_party(&b, &p->p);
    ivl_buf_u8(&b, p->status);
    ivl_buf_u64(&b, p->registered_seq);
    ivl_buf_u64(&b, p->changed_seq);
    ivl_buf_u64(&b, (uint64_t)p->registered_at);
    return put_buf(st, IVL_DB_PARTIES, p->p.uscc, IVL_USCC_LEN, &b);
}

/* ---- budgets ---- */

int ivl_rec_budget(const MDB_val *v, struct ivl_budget_rec *b)
{
    struct ivl_rd r = {v->mv_data, v->mv_size, 0};
    uint64_t ratio;
    memset(b, 0, sizeof *b);
    if (ivl_rd_str(&r, b->b.budget, IVL_MAX_BUDGETID, 0, N_("budget")) ||
        ivl_rd_u64(&r, &b->b.total) || ivl_rd_u64(&r, &b->b.cap) || ivl_rd_u64(&r, &ratio) ||
        rd_i64(&r, &b->b.until) || ivl_rd_u8(&r, &b->b.categories) || ivl_rd_u64(&r, &b->seq) ||
        rd_i64(&r, &b->opened_at) || ivl_rd_u64(&r, &b->issued) || ivl_rd_u64(&r, &b->released) ||
        ivl_rd_u64(&r, &b->redeemed) || ivl_rd_u64(&r, &b->claimed) || ivl_rd_u64(&r, &b->paid) ||
        ivl_rd_u64(&r, &b->clawed_back) || ivl_rd_u64(&r, &b->n_vouchers) || ivl_rd_end(&r))
        return corrupt(IVL_DB_BUDGETS, 0);
    b->b.ratio_bp = (uint32_t)ratio;
    return 0;
}

int ivl_st_budget(struct ivl_state *st, const char *id, struct ivl_budget_rec *b)
{
    MDB_val v;
    if (cached(st) && bc.have_b && !strcmp(bc.b.b.budget, id)) {
        *b = bc.b;
        return 0;
    }
    TRY(ivl_st_get(st, IVL_DB_BUDGETS, id, strlen(id), &v));
    TRY(ivl_rec_budget(&v, b));
    if (cached(st) && !bc.dirty_b) { /* a dirty one stays until it is flushed */
        bc.b = *b;
        bc.have_b = 1;
    }
    return 0;
}

int ivl_st_put_budget(struct ivl_state *st, const struct ivl_budget_rec *b)
{
    if (!cached(st)) return put_budget_now(st, b);
    if (bc.dirty_b && strcmp(bc.b.b.budget, b->b.budget)) TRY(ivl_st_cache_flush(st));
    bc.b = *b;
    bc.have_b = bc.dirty_b = 1;
    return 0;
}

static int put_budget_now(struct ivl_state *st, const struct ivl_budget_rec *b)
{
    struct ivl_buf o = {0};
    ivl_buf_str(&o, b->b.budget);
    ivl_buf_u64(&o, b->b.total);
    ivl_buf_u64(&o, b->b.cap);
    ivl_buf_u64(&o, b->b.ratio_bp);
    ivl_buf_u64(&o, (uint64_t)b->b.until);
    ivl_buf_u8(&o, b->b.categories);
    ivl_buf_u64(&o, b->seq);
    ivl_buf_u64(&o, (uint64_t)b->opened_at);
    ivl_buf_u64(&o, b->issued);
    ivl_buf_u64(&o, b->released);
    ivl_buf_u64(&o, b->redeemed);
    ivl_buf_u64(&o, b->claimed);
    ivl_buf_u64(&o, b->paid);
    ivl_buf_u64(&o, b->clawed_back);
    ivl_buf_u64(&o, b->n_vouchers);
    return put_buf(st, IVL_DB_BUDGETS, b->b.budget, strlen(b->b.budget), &o);
}

/* ---- vouchers ---- */

/* A voucher record is the most numerous in a ledger (one per issue): its id
 * is its key, not repeated in the value, and its numbers are varints (an
 * amount in fen or a time in seconds takes 3 to 5 bytes, not 8). */
static int rd_vint(struct ivl_rd *r, uint64_t *v)
{
    return ivl_rd_varint(r, UINT64_MAX, v);
}

int ivl_rec_voucher(const MDB_val *k, const MDB_val *v, struct ivl_voucher_rec *x)
{
    struct ivl_rd r = {v->mv_data, v->mv_size, 0};
    uint64_t until, issued_at;
    memset(x, 0, sizeof *x);
    if (k->mv_size != IVL_ID_LEN) return corrupt(IVL_DB_VOUCHERS, 0);
    memcpy(x->id, k->mv_data, IVL_ID_LEN);
    if (ivl_rd_str(&r, x->budget, IVL_MAX_BUDGETID, 0, N_("budget")) ||
        ivl_rd_bytes(&r, x->holder, IVL_USCC_LEN) || rd_vint(&r, &x->face) ||
        rd_vint(&r, &x->remaining) || rd_vint(&r, &x->released) || rd_vint(&r, &until) ||
        rd_vint(&r, &issued_at) || rd_vint(&r, &x->seq) || ivl_rd_u8(&r, &x->status) ||
        ivl_rd_end(&r) || x->status > IVL_V_EXPIRED)
        return corrupt(IVL_DB_VOUCHERS, 0);
    x->until = (int64_t)until;
    x->issued_at = (int64_t)issued_at;
    x->holder[IVL_USCC_LEN] = 0;
    return 0;
}

int ivl_st_voucher(struct ivl_state *st, const uint8_t id[IVL_ID_LEN], struct ivl_voucher_rec *v)
{
    MDB_val val, key = {IVL_ID_LEN, (void *)id};
    TRY(ivl_st_get(st, IVL_DB_VOUCHERS, id, IVL_ID_LEN, &val));
    return ivl_rec_voucher(&key, &val, v);
}

int ivl_st_put_voucher(struct ivl_state *st, const struct ivl_voucher_rec *x)
{
    struct ivl_buf o = {0};
    ivl_buf_str(&o, x->budget);
    ivl_buf_put(&o, x->holder, IVL_USCC_LEN);
    ivl_buf_varint(&o, x->face);
    ivl_buf_varint(&o, x->remaining);
    ivl_buf_varint(&o, x->released);
    ivl_buf_varint(&o, (uint64_t)x->until);
    ivl_buf_varint(&o, (uint64_t)x->issued_at);
    ivl_buf_varint(&o, x->seq);
    ivl_buf_u8(&o, x->status);
    return put_buf(st, IVL_DB_VOUCHERS, x->id, IVL_ID_LEN, &o);
}

/* ---- redemptions ---- */

int ivl_rec_redemption(const MDB_val *v, struct ivl_redemption_rec *x)
{
    struct ivl_rd r = {v->mv_data, v->mv_size, 0};
    memset(x, 0, sizeof *x);
    struct ivl_redeem *d = &x->r;
    if (ivl_rd_bytes(&r, x->id, IVL_ID_LEN) || ivl_rd_bytes(&r, d->voucher, IVL_ID_LEN) ||
        ivl_rd_bytes(&r, d->sme, IVL_USCC_LEN) || ivl_rd_bytes(&r, d->provider, IVL_USCC_LEN) ||
        ivl_rd_bytes(&r, d->contract, IVL_HASHLEN) || ivl_rd_u64(&r, &d->contract_amount) ||
        ivl_rd_u64(&r, &d->amount) || ivl_rd_u8(&r, &d->category) || ivl_rd_u8(&r, &x->status) ||
        ivl_rd_bytes(&r, x->claim, IVL_ID_LEN) || ivl_rd_u64(&r, &x->seq) || rd_i64(&r, &x->at) ||
        ivl_rd_end(&r) || x->status > IVL_R_CANCELLED)
        return corrupt(IVL_DB_REDEMPTIONS, 0);
    return 0;
}

int ivl_st_redemption(struct ivl_state *st, const uint8_t id[IVL_ID_LEN],
                      struct ivl_redemption_rec *x)
{
    MDB_val val;
    TRY(ivl_st_get(st, IVL_DB_REDEMPTIONS, id, IVL_ID_LEN, &val));
    return ivl_rec_redemption(&val, x);
}

int ivl_st_put_redemption(struct ivl_state *st, const struct ivl_redemption_rec *x)
{
    struct ivl_buf o = {0};
    const struct ivl_redeem *d = &x->r;
    ivl_buf_put(&o, x->id, IVL_ID_LEN);
    ivl_buf_put(&o, d->voucher, IVL_ID_LEN);
    ivl_buf_put(&o, d->sme, IVL_USCC_LEN);
    ivl_buf_put(&o, d->provider, IVL_USCC_LEN);
    ivl_buf_put(&o, d->contract, IVL_HASHLEN);
    ivl_buf_u64(&o, d->contract_amount);
    ivl_buf_u64(&o, d->amount);
    ivl_buf_u8(&o, d->category);
    ivl_buf_u8(&o, x->status);
    ivl_buf_put(&o, x->claim, IVL_ID_LEN);
    ivl_buf_u64(&o, x->seq);
    ivl_buf_u64(&o, (uint64_t)x->at);
    return put_buf(st, IVL_DB_REDEMPTIONS, x->id, IVL_ID_LEN, &o);
}

/* ---- contracts ---- */

int ivl_st_contract(struct ivl_state *st, const uint8_t h[IVL_HASHLEN], struct ivl_contract_rec *c)
{
    MDB_val v;
    TRY(ivl_st_get(st, IVL_DB_CONTRACTS, h, IVL_HASHLEN, &v));
    struct ivl_rd r = {v.mv_data, v.mv_size, 0};
    memset(c, 0, sizeof *c);
    if (ivl_rd_bytes(&r, c->sme, IVL_USCC_LEN) || ivl_rd_u64(&r, &c->contract_amount) ||
        ivl_rd_u64(&r, &c->redeemed) || ivl_rd_end(&r))
        return corrupt(IVL_DB_CONTRACTS, 0);
    return 0;
}

int ivl_st_put_contract(struct ivl_state *st, const uint8_t h[IVL_HASHLEN],
                        const struct ivl_contract_rec *c)
{
    struct ivl_buf o = {0};
    ivl_buf_put(&o, c->sme, IVL_USCC_LEN);
    ivl_buf_u64(&o, c->contract_amount);
    ivl_buf_u64(&o, c->redeemed);
    return put_buf(st, IVL_DB_CONTRACTS, h, IVL_HASHLEN, &o);
}

/* ---- claims ---- */

int ivl_rec_claim(const MDB_val *v, struct ivl_claim_rec *c)
{
    struct ivl_rd r = {v->mv_data, v->mv_size, 0};
    memset(c, 0, sizeof *c);
    if (ivl_rd_bytes(&r, c->id, IVL_ID_LEN) || ivl_rd_bytes(&r, c->redemption, IVL_ID_LEN) ||
        ivl_rd_bytes(&r, c->provider, IVL_USCC_LEN) || ivl_rd_bytes(&r, c->sme, IVL_USCC_LEN) ||
        ivl_rd_bytes(&r, c->voucher, IVL_ID_LEN) || ivl_rd_u64(&r, &c->amount) ||
        ivl_rd_bytes(&r, c->invoice, IVL_HASHLEN) || ivl_rd_u8(&r, &c->status) ||
        ivl_rd_str(&r, c->note, IVL_MAX_REASON, 1, N_("note")) ||
        ivl_rd_str(&r, c->bank_ref, IVL_MAX_REF, 1, N_("bank reference")) ||
        ivl_rd_u64(&r, &c->seq) || rd_i64(&r, &c->claimed_at) || rd_i64(&r, &c->decided_at) ||
        rd_i64(&r, &c->paid_at) || ivl_rd_end(&r) || c->status > IVL_C_CLAWED_BACK)
        return corrupt(IVL_DB_CLAIMS, 0);
    return 0;
}

int ivl_st_claim(struct ivl_state *st, const uint8_t id[IVL_ID_LEN], struct ivl_claim_rec *c)
{
    MDB_val v;
    TRY(ivl_st_get(st, IVL_DB_CLAIMS, id, IVL_ID_LEN, &v));
    return ivl_rec_claim(&v, c);
}

int ivl_st_put_claim(struct ivl_state *st, const struct ivl_claim_rec *c)
{
    struct ivl_buf o = {0};
    ivl_buf_put(&o, c->id, IVL_ID_LEN);
    ivl_buf_put(&o, c->redemption, IVL_ID_LEN);
    ivl_buf_put(&o, c->provider, IVL_USCC_LEN);
    ivl_buf_put(&o, c->sme, IVL_USCC_LEN);
    ivl_buf_put(&o, c->voucher, IVL_ID_LEN);
    ivl_buf_u64(&o, c->amount);
    ivl_buf_put(&o, c->invoice, IVL_HASHLEN);
    ivl_buf_u8(&o, c->status);
    ivl_buf_str(&o, c->note);
    ivl_buf_str(&o, c->bank_ref);
    ivl_buf_u64(&o, c->seq);
    ivl_buf_u64(&o, (uint64_t)c->claimed_at);
    ivl_buf_u64(&o, (uint64_t)c->decided_at);
    ivl_buf_u64(&o, (uint64_t)c->paid_at);
    return put_buf(st, IVL_DB_CLAIMS, c->id, IVL_ID_LEN, &o);
}

/* ---- caps and ids ---- */

static size_t cap_key(const char *budget, const char *holder_key, char *k, size_t cap)
{
    size_t a = strlen(budget), b = strlen(holder_key);
    if (a + 1 + b > cap) return 0; /* cannot be: both are bounded; an empty key is refused */
    memcpy(k, budget, a);
    k[a] = 0;
    memcpy(k + a + 1, holder_key, b);
    return a + 1 + b;
}

int ivl_st_cap(struct ivl_state *st, const char *budget, const char *holder_key, uint64_t *net)
{
    char k[IVL_MAX_BUDGETID + IVL_MAX_GROUP + 8];
    MDB_val v;
    *net = 0;
    int rc = ivl_st_get(st, IVL_DB_CAPS, k, cap_key(budget, holder_key, k, sizeof k), &v);
    if (rc == IVL_E_NOT_FOUND) return 0;
    if (rc) return rc;
    struct ivl_rd r = {v.mv_data, v.mv_size, 0};
    if (ivl_rd_u64(&r, net) || ivl_rd_end(&r)) return corrupt(IVL_DB_CAPS, 0);
    return 0;
}

int ivl_st_put_cap(struct ivl_state *st, const char *budget, const char *holder_key, uint64_t net)
{
    char k[IVL_MAX_BUDGETID + IVL_MAX_GROUP + 8];
    struct ivl_buf o = {0};
    ivl_buf_u64(&o, net);
    return put_buf(st, IVL_DB_CAPS, k, cap_key(budget, holder_key, k, sizeof k), &o);
}

/* ---- holdings ---- */

size_t ivl_recent_limit = IVL_RECENT_LIMIT;

static int damaged(int db)
{
    return ivl_fail(IVL_E_CORRUPT, _("table '%s' holds a damaged record; run 'ivl verify'"),
                    ivl_db_names[db]);
}

static int rec_cmp(const void *a, const void *b)
{
    return memcmp(a, b, IVL_USCC_LEN + IVL_ID_LEN);
}

/* Moves every voucher of `recent` into `holdings`, in holder order. */
static int move_recent(struct ivl_state *st, size_t n)
{
    enum { REC = IVL_USCC_LEN + IVL_ID_LEN };
    uint8_t *all = malloc(n ? n * REC : 1);
    if (!all) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    MDB_cursor *cur;
    MDB_val k, v;
    size_t got = 0;
    int rc = mdb_cursor_open(st->txn, st->dbi[IVL_DB_RECENT], &cur);
    if (!rc) {
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && got < n;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size != 8 || v.mv_size != REC) break;
            memcpy(all + got++ * REC, v.mv_data, REC);
        }
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND) rc = 0;
    }
    if (!rc && got != n) {
        free(all);
        return damaged(IVL_DB_RECENT);
    }
    /* Sorted, the puts walk `holdings` once from its first page to its last. */
    if (!rc) qsort(all, n, REC, rec_cmp);
    for (size_t i = 0; !rc && i < n; i++) {
        MDB_val hk = {IVL_USCC_LEN, all + i * REC}, hv = {IVL_ID_LEN, all + i * REC + IVL_USCC_LEN};
        rc = mdb_put(st->txn, st->dbi[IVL_DB_HOLDINGS], &hk, &hv, MDB_NODUPDATA);
    }
    free(all);
    if (rc == MDB_KEYEXIST) return damaged(IVL_DB_HOLDINGS); /* a voucher held twice */
    if (rc) return ivl_st_mdb_err(rc, ivl_db_names[IVL_DB_HOLDINGS]);
    rc = mdb_drop(st->txn, st->dbi[IVL_DB_RECENT], 0);
    return rc ? ivl_st_mdb_err(rc, ivl_db_names[IVL_DB_RECENT]) : 0;
}

int ivl_st_add_holding(struct ivl_state *st, uint64_t seq, const char uscc[IVL_USCC_LEN],
                       const uint8_t id[IVL_ID_LEN])
{
    uint8_t k[8], v[IVL_USCC_LEN + IVL_ID_LEN];
    seq_key(seq, k);
    memcpy(v, uscc, IVL_USCC_LEN);
    memcpy(v + IVL_USCC_LEN, id, IVL_ID_LEN);
    TRY(ivl_st_append(st, IVL_DB_RECENT, k, sizeof k, v, sizeof v));
    MDB_stat ms;
    int rc = mdb_stat(st->txn, st->dbi[IVL_DB_RECENT], &ms);
    if (rc) return ivl_st_mdb_err(rc, ivl_db_names[IVL_DB_RECENT]);
    return ms.ms_entries < ivl_recent_limit ? 0 : move_recent(st, ms.ms_entries);
}

static int id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, IVL_ID_LEN);
}

/* Appends one id to a growing array. */
static int push_id(uint8_t (**a)[IVL_ID_LEN], size_t *len, size_t *cap, const uint8_t *id)
{
    if (*len == *cap) {
        size_t c2 = *cap ? 2 * *cap : 16;
        void *p = realloc(*a, c2 * IVL_ID_LEN);
        if (!p) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
        *a = p;
        *cap = c2;
    }
    memcpy((*a)[(*len)++], id, IVL_ID_LEN);
    return 0;
}

/* The holder's ids in one table: its duplicates in `holdings`, its records
 * among all of `recent`'s. */
static int holder_ids(struct ivl_state *st, int db, const char uscc[IVL_USCC_LEN],
                      uint8_t (**a)[IVL_ID_LEN], size_t *len, size_t *cap)
{
    int recent = db == IVL_DB_RECENT;
    size_t want = recent ? IVL_USCC_LEN + IVL_ID_LEN : IVL_ID_LEN;
    MDB_cursor *cur;
    MDB_val k = {IVL_USCC_LEN, (void *)uscc}, v;
    int rc = mdb_cursor_open(st->txn, st->dbi[db], &cur);
    if (rc) return ivl_st_mdb_err(rc, ivl_db_names[db]);
    int r = mdb_cursor_get(cur, &k, &v, recent ? MDB_FIRST : MDB_SET_KEY);
    for (; !rc && !r; r = mdb_cursor_get(cur, &k, &v, recent ? MDB_NEXT : MDB_NEXT_DUP)) {
        const uint8_t *x = v.mv_data;
        if (v.mv_size != want)
            rc = damaged(db);
        else if (!recent || !memcmp(x, uscc, IVL_USCC_LEN))
            rc = push_id(a, len, cap, recent ? x + IVL_USCC_LEN : x);
    }
    mdb_cursor_close(cur);
    if (!rc && r && r != MDB_NOTFOUND) rc = ivl_st_mdb_err(r, ivl_db_names[db]);
    return rc;
}

int ivl_st_holder_vouchers(struct ivl_state *st, const char uscc[IVL_USCC_LEN],
                           uint8_t (**ids)[IVL_ID_LEN], size_t *n)
{
    uint8_t(*a)[IVL_ID_LEN] = NULL;
    size_t len = 0, cap = 0;
    int rc = holder_ids(st, IVL_DB_HOLDINGS, uscc, &a, &len, &cap);
    if (!rc) rc = holder_ids(st, IVL_DB_RECENT, uscc, &a, &len, &cap);
    if (rc) {
        free(a);
        a = NULL;
        len = 0;
    } else if (len) {
        qsort(a, len, IVL_ID_LEN, id_cmp);
    }
    *ids = a;
    *n = len;
    return rc;
}

int ivl_st_id(struct ivl_state *st, const uint8_t id[IVL_ID_LEN], uint64_t *seq, uint8_t *type)
{
    MDB_val v;
    TRY(ivl_st_get(st, IVL_DB_IDS, id, IVL_ID_LEN, &v));
    struct ivl_rd r = {v.mv_data, v.mv_size, 0};
    if (ivl_rd_u64(&r, seq) || ivl_rd_u8(&r, type) || ivl_rd_end(&r)) return corrupt(IVL_DB_IDS, 0);
    return 0;
}

int ivl_st_put_id(struct ivl_state *st, const uint8_t id[IVL_ID_LEN], uint64_t seq, uint8_t type)
{
    struct ivl_buf o = {0};
    ivl_buf_u64(&o, seq);
    ivl_buf_u8(&o, type);
    return put_buf(st, IVL_DB_IDS, id, IVL_ID_LEN, &o);
}

const char *ivl_claim_status_name(int s)
{
    static const char *const n[] = {"pending", "approved", "rejected", "paid", "clawed_back"};
    return s >= 0 && s <= IVL_C_CLAWED_BACK ? n[s] : "unknown";
}

const char *ivl_voucher_status_name(int s)
{
    static const char *const n[] = {"active", "revoked", "expired"};
    return s >= 0 && s <= IVL_V_EXPIRED ? n[s] : "unknown";
}

/* ---- Merkle nodes ---- */

/* A node is keyed by where it ends, (index + 1) << level, then its level:
 * every node an append completes ends at the new tree size, so keys only
 * ever grow and each insert is an append that fills pages completely. */
static void node_key(unsigned level, uint64_t index, uint8_t k[9])
{
    uint64_t end = (index + 1) << level;
    for (int i = 7; i >= 0; i--, end >>= 8)
        k[i] = (uint8_t)end;
    k[8] = (uint8_t)level;
}

int ivl_st_append(struct ivl_state *st, int db, const void *k, size_t kl, const void *v, size_t vl)
{
    MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};
    int rc = mdb_put(st->txn, st->dbi[db], &key, &val, MDB_APPEND);
    if (rc == MDB_KEYEXIST)
        return ivl_fail(IVL_E_CORRUPT, _("table '%s' already holds a later record"),
                        ivl_db_names[db]);
    return rc ? ivl_st_mdb_err(rc, ivl_db_names[db]) : 0;
}

int ivl_st_node(struct ivl_state *st, unsigned level, uint64_t index, uint8_t out[IVL_HASHLEN])
{
    uint8_t k[9];
    MDB_val v;
    if (cached(st) && level < 64 && (bc.node_have[index & 1] >> level & 1) &&
        bc.node_index[level][index & 1] == index) {
        memcpy(out, bc.node[level][index & 1], IVL_HASHLEN);
        return 0;
    }
    if (level == 0) { /* a leaf hash is the hash of the stored leaf */
        seq_key(index, k);
        int rc = ivl_st_get(st, IVL_DB_LEAVES, k, 8, &v);
        if (rc == IVL_E_NOT_FOUND)
            return ivl_fail(IVL_E_CORRUPT, _("entry %llu is missing"), (unsigned long long)index);
        if (rc) return rc;
        ivl_merkle_leaf_hash(v.mv_data, v.mv_size, out);
        return 0;
    }
    node_key(level, index, k);
    int rc = ivl_st_get(st, IVL_DB_NODES, k, sizeof k, &v);
    if (rc == IVL_E_NOT_FOUND)
        return ivl_fail(IVL_E_CORRUPT, _("Merkle node (level %u, index %llu) is missing"), level,
                        (unsigned long long)index);
    if (rc) return rc;
    if (v.mv_size != IVL_HASHLEN)
        return ivl_fail(IVL_E_CORRUPT, _("Merkle node (level %u, index %llu) has %zu bytes"), level,
                        (unsigned long long)index, v.mv_size);
    memcpy(out, v.mv_data, IVL_HASHLEN);
    return 0;
}

int ivl_st_put_node(struct ivl_state *st, unsigned level, uint64_t index,
                    const uint8_t h[IVL_HASHLEN])
{
    uint8_t k[9];
    if (cached(st) && level < 64) {
        bc.node_have[index & 1] |= (uint64_t)1 << level;
        bc.node_index[level][index & 1] = index;
        memcpy(bc.node[level][index & 1], h, IVL_HASHLEN);
    }
    if (level == 0) return 0; /* derived from the leaf, see ivl_st_node() */
    node_key(level, index, k);
    return ivl_st_append(st, IVL_DB_NODES, k, sizeof k, h, IVL_HASHLEN);
}
