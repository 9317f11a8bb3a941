/*
 * test_codec.c - the canonical entry encoding (ledger/entry.h, ledger/codec.c).
 *
 * Every entry type is built with every field set (Chinese names, sorted
 * related and expiry lists, two signatures on a redemption) and must survive
 * encode -> decode -> encode with identical bytes and equal fields. The
 * strict decoder is then fed what the encoder never writes: every truncation
 * of every leaf (each in a buffer of exactly that size, so the sanitizer
 * build catches an over-read), trailing bytes, unknown types and versions,
 * non-minimal and over-long varints, bad text, unsorted lists, wrong
 * signature counts and out-of-range values. Mutated leaves that still decode
 * must re-encode to the same bytes (one encoding per entry). Two entries are
 * also written out byte by byte here, from the layout in codec.c, so that the
 * format cannot drift unnoticed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entry.h"
#include "err.h"
#include "parse.h"

#define T0 1772326800 /* 2026-03-01T09:00:00+08:00 */

static const char U_AUTH[] = "11140521MB12345677";
static const char U_SME[] = "91140521MA00000018";
static const char U_PROV[] = "91140521MA0000002B";
static const char U_R1[] = "11140521MB11111111";
static const char U_R2[] = "11140521MB76543214";
static const char U_R3[] = "12140000405000001F";

/* ---- building entries ---- */

static void pattern(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + 7 * i);
}

static void set_id(uint8_t id[IVL_ID_LEN], uint8_t first, uint8_t seed)
{
    pattern(id, IVL_ID_LEN, seed);
    id[0] = first;
}

/* A realistic entry of `type` with every field set. Free with ivl_entry_free. */
static void build(struct ivl_entry *e, int type)
{
    memset(e, 0, sizeof *e);
    e->type = (uint8_t)type;
    e->seq = 40 + (uint64_t)type;
    e->appended_at = T0 + 60 * type;
    e->signed_at = T0 + 60 * type - 5;
    set_id(e->id, (uint8_t)(0x30 + type), 0x51);
    e->n_sigs = 1;
    snprintf(e->sigs[0].signer, sizeof e->sigs[0].signer, "%s", U_AUTH);
    pattern(e->sigs[0].sig, IVL_SIG_LEN, 0xa0);
    switch (type) {
    case IVL_T_GENESIS: {
        struct ivl_genesis *g = &e->u.genesis;
        snprintf(g->origin, sizeof g->origin, "qinshui.gov.cn/ivl");
        snprintf(g->authority, sizeof g->authority, "%s", U_AUTH);
        snprintf(g->name, sizeof g->name, "沁水县科学技术局");
        snprintf(g->key_name, sizeof g->key_name, "科技局-authority");
        pattern(g->pub, IVL_PUB_LEN, 0x01);
        pattern(g->log_pub, IVL_PUB_LEN, 0x02);
        break;
    }
    case IVL_T_PARTY: {
        struct ivl_party *p = &e->u.party;
        snprintf(p->uscc, sizeof p->uscc, "%s", U_SME);
        p->role = IVL_ROLE_SME;
        p->flags = IVL_PARTY_USCC_UNCHECKED;
        p->categories = IVL_CAT_RD | IVL_CAT_IP;
        snprintf(p->name, sizeof p->name, "山西沁水煤层气科技有限公司");
        snprintf(p->key_name, sizeof p->key_name, "煤层气-sme");
        pattern(p->pub, IVL_PUB_LEN, 0x03);
        snprintf(p->group, sizeof p->group, "沁水能源集团");
        p->n_related = 3;
        snprintf(p->related[0], sizeof p->related[0], "%s", U_R1);
        snprintf(p->related[1], sizeof p->related[1], "%s", U_R2);
        snprintf(p->related[2], sizeof p->related[2], "%s", U_R3);
        break;
    }
    case IVL_T_SUSPEND:
        snprintf(e->u.suspend.uscc, sizeof e->u.suspend.uscc, "%s", U_SME);
        snprintf(e->u.suspend.reason, sizeof e->u.suspend.reason,
                 "ABCDE违反《科技创新券管理办法》第十二条");
        break;
    case IVL_T_REKEY:
        snprintf(e->u.rekey.uscc, sizeof e->u.rekey.uscc, "%s", U_PROV);
        snprintf(e->u.rekey.key_name, sizeof e->u.rekey.key_name, "检测中心-2026");
        pattern(e->u.rekey.pub, IVL_PUB_LEN, 0x04);
        break;
    case IVL_T_BUDGET: {
        struct ivl_budget *b = &e->u.budget;
        snprintf(b->budget, sizeof b->budget, "2026年度科技创新券");
        b->total = 5000000000ULL; /* 50,000,000.00 */
        b->cap = 20000000ULL;
        b->ratio_bp = 5000;
        b->until = T0 + 300 * 86400;
        b->categories = IVL_CAT_RD | IVL_CAT_TESTING | IVL_CAT_TRANSFER;
        break;
    }
    case IVL_T_ISSUE:
        snprintf(e->u.issue.budget, sizeof e->u.issue.budget, "2026年度科技创新券");
        snprintf(e->u.issue.holder, sizeof e->u.issue.holder, "%s", U_SME);
        e->u.issue.amount = 10000000ULL;
        e->u.issue.until = T0 + 200 * 86400;
        break;
    case IVL_T_REDEEM: {
        struct ivl_redeem *r = &e->u.redeem;
        set_id(r->voucher, 0x11, 0x61);
        snprintf(r->sme, sizeof r->sme, "%s", U_SME);
        snprintf(r->provider, sizeof r->provider, "%s", U_PROV);
        pattern(r->contract, IVL_HASHLEN, 0x05);
        r->contract_amount = 30000000ULL;
        r->amount = 10000000ULL;
        r->category = IVL_CAT_TESTING;
        e->n_sigs = 2;
        snprintf(e->sigs[0].signer, sizeof e->sigs[0].signer, "%s", U_SME);
        snprintf(e->sigs[1].signer, sizeof e->sigs[1].signer, "%s", U_PROV);
        pattern(e->sigs[1].sig, IVL_SIG_LEN, 0xb0);
        break;
    }
    case IVL_T_CANCEL:
    case IVL_T_REJECT:
    case IVL_T_CLAWBACK:
    case IVL_T_REVOKE:
        set_id(e->u.target.target, 0x22, 0x71);
        snprintf(e->u.target.text, sizeof e->u.target.text, "合同解除：双方协商一致 (%d)", type);
        break;
    case IVL_T_PAY:
        set_id(e->u.target.target, 0x22, 0x72);
        snprintf(e->u.target.text, sizeof e->u.target.text, "ICBC-2026030100012345");
        snprintf(e->sigs[0].signer, sizeof e->sigs[0].signer, "%s", U_R3);
        break;
    case IVL_T_APPROVE: set_id(e->u.target.target, 0x22, 0x73); break;
    case IVL_T_CLAIM:
        set_id(e->u.claim.redemption, 0x33, 0x81);
        e->u.claim.amount = 10000000ULL;
        pattern(e->u.claim.invoice, IVL_HASHLEN, 0x06);
        snprintf(e->sigs[0].signer, sizeof e->sigs[0].signer, "%s", U_PROV);
        break;
    case IVL_T_EXPIRE:
        e->u.expire.n = 3;
        e->u.expire.list = calloc(3, sizeof *e->u.expire.list);
        assert_non_null(e->u.expire.list);
        for (int i = 0; i < 3; i++) {
            set_id(e->u.expire.list[i].voucher, (uint8_t)(0x40 + i), 0x91);
            e->u.expire.list[i].amount = 100000ULL * (uint64_t)(i + 1);
        }
        break;
    case IVL_T_ATTEST:
        e->u.attest.size = 12345;
        pattern(e->u.attest.root, IVL_HASHLEN, 0x07);
        pattern(e->u.attest.note_sig, IVL_SIG_LEN, 0x08);
        snprintf(e->sigs[0].signer, sizeof e->sigs[0].signer, "%s", U_R2);
        break;
    }
}

/* ---- comparing entries field by field ---- */

static void assert_party_equal(const struct ivl_party *a, const struct ivl_party *b)
{
    assert_string_equal(a->uscc, b->uscc);
    assert_int_equal(a->role, b->role);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->categories, b->categories);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->key_name, b->key_name);
    assert_memory_equal(a->pub, b->pub, IVL_PUB_LEN);
    assert_string_equal(a->group, b->group);
    assert_int_equal(a->n_related, b->n_related);
    for (uint32_t i = 0; i < a->n_related; i++)
        assert_string_equal(a->related[i], b->related[i]);
}

static void assert_body_equal(const struct ivl_entry *a, const struct ivl_entry *b)
{
    assert_int_equal(a->type, b->type);
    assert_memory_equal(a->id, b->id, IVL_ID_LEN);
    assert_int_equal(a->signed_at, b->signed_at);
    switch (a->type) {
    case IVL_T_GENESIS:
        assert_string_equal(a->u.genesis.origin, b->u.genesis.origin);
        assert_string_equal(a->u.genesis.authority, b->u.genesis.authority);
        assert_string_equal(a->u.genesis.name, b->u.genesis.name);
        assert_string_equal(a->u.genesis.key_name, b->u.genesis.key_name);
        assert_memory_equal(a->u.genesis.pub, b->u.genesis.pub, IVL_PUB_LEN);
        assert_memory_equal(a->u.genesis.log_pub, b->u.genesis.log_pub, IVL_PUB_LEN);
        break;
    case IVL_T_PARTY: assert_party_equal(&a->u.party, &b->u.party); break;
    case IVL_T_SUSPEND:
        assert_string_equal(a->u.suspend.uscc, b->u.suspend.uscc);
        assert_string_equal(a->u.suspend.reason, b->u.suspend.reason);
        break;
    case IVL_T_REKEY:
        assert_string_equal(a->u.rekey.uscc, b->u.rekey.uscc);
        assert_string_equal(a->u.rekey.key_name, b->u.rekey.key_name);
        assert_memory_equal(a->u.rekey.pub, b->u.rekey.pub, IVL_PUB_LEN);
        break;
    case IVL_T_BUDGET:
        assert_string_equal(a->u.budget.budget, b->u.budget.budget);
        assert_int_equal(a->u.budget.total, b->u.budget.total);
        assert_int_equal(a->u.budget.cap, b->u.budget.cap);
        assert_int_equal(a->u.budget.ratio_bp, b->u.budget.ratio_bp);
        assert_int_equal(a->u.budget.until, b->u.budget.until);
        assert_int_equal(a->u.budget.categories, b->u.budget.categories);
        break;
    case IVL_T_ISSUE:
        assert_string_equal(a->u.issue.budget, b->u.issue.budget);
        assert_string_equal(a->u.issue.holder, b->u.issue.holder);
        assert_int_equal(a->u.issue.amount, b->u.issue.amount);
        assert_int_equal(a->u.issue.until, b->u.issue.until);
        break;
    case IVL_T_REDEEM:
        assert_memory_equal(a->u.redeem.voucher, b->u.redeem.voucher, IVL_ID_LEN);
        assert_string_equal(a->u.redeem.sme, b->u.redeem.sme);
        assert_string_equal(a->u.redeem.provider, b->u.redeem.provider);
        assert_memory_equal(a->u.redeem.contract, b->u.redeem.contract, IVL_HASHLEN);
        assert_int_equal(a->u.redeem.contract_amount, b->u.redeem.contract_amount);
        assert_int_equal(a->u.redeem.amount, b->u.redeem.amount);
        assert_int_equal(a->u.redeem.category, b->u.redeem.category);
        break;
    case IVL_T_CANCEL:
    case IVL_T_REJECT:
    case IVL_T_PAY:
    case IVL_T_CLAWBACK:
    case IVL_T_REVOKE:
    case IVL_T_APPROVE:
        assert_memory_equal(a->u.target.target, b->u.target.target, IVL_ID_LEN);
        assert_string_equal(a->u.target.text, b->u.target.text);
        break;
    case IVL_T_CLAIM:
        assert_memory_equal(a->u.claim.redemption, b->u.claim.redemption, IVL_ID_LEN);
        assert_int_equal(a->u.claim.amount, b->u.claim.amount);
        assert_memory_equal(a->u.claim.invoice, b->u.claim.invoice, IVL_HASHLEN);
        break;
    case IVL_T_EXPIRE:
        assert_int_equal(a->u.expire.n, b->u.expire.n);
        for (uint32_t i = 0; i < a->u.expire.n; i++) {
            assert_memory_equal(a->u.expire.list[i].voucher, b->u.expire.list[i].voucher,
                                IVL_ID_LEN);
            assert_int_equal(a->u.expire.list[i].amount, b->u.expire.list[i].amount);
        }
        break;
    case IVL_T_ATTEST:
        assert_int_equal(a->u.attest.size, b->u.attest.size);
        assert_memory_equal(a->u.attest.root, b->u.attest.root, IVL_HASHLEN);
        assert_memory_equal(a->u.attest.note_sig, b->u.attest.note_sig, IVL_SIG_LEN);
        break;
    default: fail_msg("unexpected type %d", a->type);
    }
}

static void assert_leaf_equal(const struct ivl_entry *a, const struct ivl_entry *b)
{
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->appended_at, b->appended_at);
    assert_body_equal(a, b);
    assert_int_equal(a->n_sigs, b->n_sigs);
    for (uint32_t i = 0; i < a->n_sigs; i++) {
        assert_string_equal(a->sigs[i].signer, b->sigs[i].signer);
        assert_memory_equal(a->sigs[i].sig, b->sigs[i].sig, IVL_SIG_LEN);
    }
}

/* ---- byte helpers ---- */

/* The encoded leaf of a freshly built entry of `type`. */
static void leaf_of(int type, struct ivl_buf *out)
{
    struct ivl_entry e;
    build(&e, type);
    memset(out, 0, sizeof *out);
    assert_int_equal(ivl_leaf_encode(&e, out), 0);
    ivl_entry_free(&e);
}

static void body_of(int type, struct ivl_buf *out)
{
    struct ivl_entry e;
    build(&e, type);
    memset(out, 0, sizeof *out);
    assert_int_equal(ivl_body_encode(&e, out), 0);
    ivl_entry_free(&e);
}

/* Decodes p[0..len) from a heap copy of exactly len bytes (so an over-read
 * is caught by the sanitizer build); returns the decoder's code. */
static int decode_exact(const uint8_t *p, size_t len, struct ivl_entry *e)
{
    uint8_t *c = malloc(len ? len : 1);
    assert_non_null(c);
    if (len) memcpy(c, p, len);
    int rc = ivl_leaf_decode(c, len, e);
    free(c);
    return rc;
}

static int body_decode_exact(const uint8_t *p, size_t len, struct ivl_entry *e)
{
    uint8_t *c = malloc(len ? len : 1);
    assert_non_null(c);
    if (len) memcpy(c, p, len);
    int rc = ivl_body_decode(c, len, e);
    free(c);
    return rc;
}

/* Leaf decode of bytes that must be refused. */
static void assert_leaf_refused(const uint8_t *p, size_t len)
{
    struct ivl_entry e;
    int rc = decode_exact(p, len, &e);
    if (rc != IVL_E_DECODE)
        fail_msg("leaf of %zu bytes: expected IVL_E_DECODE, got %d (%s)", len, rc,
                 rc ? ivl_err_detail(rc) : "accepted");
    /* the decoder leaves a zeroed entry behind on failure */
    assert_int_equal(e.type, 0);
}

static void assert_body_refused(const uint8_t *p, size_t len)
{
    struct ivl_entry e;
    int rc = body_decode_exact(p, len, &e);
    if (rc != IVL_E_DECODE)
        fail_msg("body of %zu bytes: expected IVL_E_DECODE, got %d (%s)", len, rc,
                 rc ? ivl_err_detail(rc) : "accepted");
}

/* Offset and length of the body inside a leaf. */
static void body_span(const struct ivl_buf *leaf, size_t *off, size_t *len)
{
    const uint8_t *b;
    assert_int_equal(ivl_leaf_body(leaf->p, leaf->len, &b, len), 0);
    *off = (size_t)(b - leaf->p);
}

/* A leaf with the body of `leaf` replaced by body[0..blen) (the body length
 * varint is rewritten; header and signatures are kept). */
static void rebuild_leaf(const struct ivl_buf *leaf, const uint8_t *body, size_t blen,
                         struct ivl_buf *out)
{
    size_t off, len;
    body_span(leaf, &off, &len);
    memset(out, 0, sizeof *out);
    ivl_buf_put(out, leaf->p, 17);
    ivl_buf_varint(out, blen);
    ivl_buf_put(out, body, blen);
    ivl_buf_put(out, leaf->p + off + len, leaf->len - off - len);
    assert_false(out->oom);
}

/* Body of `type` with one change, checked refused both as a body and inside
 * its leaf. `mutate` edits the copy (and may change its length). */
typedef void (*mutate_fn)(uint8_t *b, size_t *len, void *ctx);

static void refuse_body_mutation(int type, mutate_fn mutate, void *ctx)
{
    struct ivl_buf body, leaf, nl;
    body_of(type, &body);
    leaf_of(type, &leaf);
    uint8_t *b = malloc(body.len + 64);
    assert_non_null(b);
    memcpy(b, body.p, body.len);
    size_t len = body.len;
    mutate(b, &len, ctx);
    assert_body_refused(b, len);
    rebuild_leaf(&leaf, b, len, &nl);
    assert_leaf_refused(nl.p, nl.len);
    free(b);
    ivl_buf_free(&body);
    ivl_buf_free(&leaf);
    ivl_buf_free(&nl);
}

/* Reads/writes a big-endian u64 at p. */
static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Common body head: type (1) id (16) signed_at (8). */
#define HEAD 25

/* ---- round trips ---- */

static void test_round_trip_every_type(void **state)
{
    (void)state;
    for (int t = 1; t <= IVL_T_MAX; t++) {
        struct ivl_entry e, d, db;
        struct ivl_buf leaf = {0}, again = {0}, body = {0}, body2 = {0};
        build(&e, t);
        assert_int_equal(ivl_leaf_encode(&e, &leaf), 0);
        assert_int_equal(decode_exact(leaf.p, leaf.len, &d), 0);
        assert_leaf_equal(&e, &d);
        assert_int_equal(ivl_leaf_encode(&d, &again), 0);
        assert_int_equal(again.len, leaf.len);
        assert_memory_equal(again.p, leaf.p, leaf.len);

        /* the body alone, and the body inside the leaf, are the same bytes */
        assert_int_equal(ivl_body_encode(&e, &body), 0);
        size_t off, blen;
        body_span(&leaf, &off, &blen);
        assert_int_equal(blen, body.len);
        assert_memory_equal(leaf.p + off, body.p, body.len);
        assert_int_equal(body_decode_exact(body.p, body.len, &db), 0);
        assert_body_equal(&e, &db);
        assert_int_equal(ivl_body_encode(&db, &body2), 0);
        assert_int_equal(body2.len, body.len);
        assert_memory_equal(body2.p, body.p, body.len);

        /* leaf layout: version, seq, appended_at, body, signature count */
        assert_int_equal(leaf.p[0], IVL_FORMAT_VERSION);
        assert_int_equal(get_u64(leaf.p + 1), e.seq);
        assert_int_equal(get_u64(leaf.p + 9), (uint64_t)e.appended_at);
        assert_int_equal(leaf.p[off], t);
        assert_int_equal(leaf.p[off + blen], e.n_sigs);
        assert_int_equal(leaf.len - off - blen, 1 + e.n_sigs * (IVL_USCC_LEN + IVL_SIG_LEN));

        ivl_entry_free(&e);
        ivl_entry_free(&d);
        ivl_entry_free(&db);
        ivl_buf_free(&leaf);
        ivl_buf_free(&again);
        ivl_buf_free(&body);
        ivl_buf_free(&body2);
    }
}

/* Edge values that are still valid: empty lists, maximum lengths, maximum
 * amounts and ratio, a 64-entry related list. */
static void test_round_trip_edges(void **state)
{
    (void)state;
    struct ivl_entry e, d;
    struct ivl_buf a = {0}, b = {0};

    build(&e, IVL_T_PARTY);
    e.u.party.group[0] = 0;
    e.u.party.n_related = IVL_MAX_RELATED;
    for (int i = 0; i < IVL_MAX_RELATED; i++) {
        char first17[18], c;
        snprintf(first17, sizeof first17, "9114052100000%04d", i);
        assert_int_equal(ivl_uscc_check_char(first17, &c), 0);
        snprintf(e.u.party.related[i], sizeof e.u.party.related[i], "%s%c", first17, c);
    }
    memset(e.u.party.name, 'N', IVL_MAX_NAME);
    e.u.party.name[IVL_MAX_NAME] = 0;
    memset(e.u.party.key_name, 'k', IVL_MAX_KEYNAME);
    e.u.party.key_name[IVL_MAX_KEYNAME] = 0;
    assert_int_equal(ivl_leaf_encode(&e, &a), 0);
    assert_int_equal(decode_exact(a.p, a.len, &d), 0);
    assert_leaf_equal(&e, &d);
    assert_int_equal(ivl_leaf_encode(&d, &b), 0);
    assert_memory_equal(a.p, b.p, a.len);
    ivl_entry_free(&d);
    ivl_buf_free(&a);
    ivl_buf_free(&b);

    /* one more related party is too many */
    e.u.party.n_related = IVL_MAX_RELATED + 1;
    assert_int_equal(ivl_body_encode(&e, &a), IVL_E_USAGE);
    ivl_buf_free(&a);
    ivl_entry_free(&e);

    build(&e, IVL_T_BUDGET);
    e.u.budget.total = IVL_AMOUNT_MAX;
    e.u.budget.cap = IVL_AMOUNT_MAX;
    e.u.budget.ratio_bp = 10000;
    e.u.budget.categories = IVL_CAT_ALL;
    memset(e.u.budget.budget, 'B', IVL_MAX_BUDGETID);
    e.u.budget.budget[IVL_MAX_BUDGETID] = 0;
    e.u.budget.until = IVL_TIME_MAX; /* the last printable second */
    assert_int_equal(ivl_leaf_encode(&e, &a), 0);
    assert_int_equal(decode_exact(a.p, a.len, &d), 0);
    assert_leaf_equal(&e, &d);
    ivl_entry_free(&d);
    ivl_entry_free(&e);
    ivl_buf_free(&a);

    build(&e, IVL_T_EXPIRE);
    free(e.u.expire.list);
    e.u.expire.list = NULL;
    e.u.expire.n = 0; /* the codec allows an empty list; the rule refuses it */
    assert_int_equal(ivl_leaf_encode(&e, &a), 0);
    assert_int_equal(decode_exact(a.p, a.len, &d), 0);
    assert_int_equal(d.u.expire.n, 0);
    ivl_entry_free(&d);
    ivl_entry_free(&e);
    ivl_buf_free(&a);

    /* a 200-entry expiry list needs a two-byte count */
    build(&e, IVL_T_EXPIRE);
    free(e.u.expire.list);
    e.u.expire.n = 200;
    e.u.expire.list = calloc(200, sizeof *e.u.expire.list);
    for (int i = 0; i < 200; i++) {
        e.u.expire.list[i].voucher[14] = (uint8_t)(i >> 8);
        e.u.expire.list[i].voucher[15] = (uint8_t)i;
        e.u.expire.list[i].amount = (uint64_t)i;
    }
    assert_int_equal(ivl_leaf_encode(&e, &a), 0);
    assert_int_equal(decode_exact(a.p, a.len, &d), 0);
    assert_leaf_equal(&e, &d);
    ivl_entry_free(&d);
    ivl_entry_free(&e);
    ivl_buf_free(&a);
}

/* ---- known bytes ---- */

static void kat_put(uint8_t *out, size_t *n, const void *p, size_t len)
{
    memcpy(out + *n, p, len);
    *n += len;
}

static void kat_u64(uint8_t *out, size_t *n, uint64_t v)
{
    put_u64(out + *n, v);
    *n += 8;
}

static void test_known_bytes(void **state)
{
    (void)state;
    uint8_t want[512];
    size_t n = 0;
    struct ivl_entry e;
    struct ivl_buf leaf = {0};

    /* approve: the smallest body */
    build(&e, IVL_T_APPROVE);
    want[n++] = 0x01;
    kat_u64(want, &n, e.seq);
    kat_u64(want, &n, (uint64_t)e.appended_at);
    want[n++] = 1 + 16 + 8 + 16; /* body length */
    want[n++] = IVL_T_APPROVE;
    kat_put(want, &n, e.id, 16);
    kat_u64(want, &n, (uint64_t)e.signed_at);
    kat_put(want, &n, e.u.target.target, 16);
    want[n++] = 1;
    kat_put(want, &n, U_AUTH, 18);
    kat_put(want, &n, e.sigs[0].sig, 64);
    assert_int_equal(ivl_leaf_encode(&e, &leaf), 0);
    assert_int_equal(leaf.len, n);
    assert_memory_equal(leaf.p, want, n);
    ivl_buf_free(&leaf);
    ivl_entry_free(&e);

    /* budget: text, amounts, ratio as u64, until, categories */
    n = 0;
    build(&e, IVL_T_BUDGET);
    want[n++] = IVL_T_BUDGET;
    kat_put(want, &n, e.id, 16);
    kat_u64(want, &n, (uint64_t)e.signed_at);
    want[n++] = (uint8_t)strlen(e.u.budget.budget);
    kat_put(want, &n, e.u.budget.budget, strlen(e.u.budget.budget));
    kat_u64(want, &n, 5000000000ULL);
    kat_u64(want, &n, 20000000ULL);
    kat_u64(want, &n, 5000);
    kat_u64(want, &n, (uint64_t)e.u.budget.until);
    want[n++] = IVL_CAT_RD | IVL_CAT_TESTING | IVL_CAT_TRANSFER;
    assert_int_equal(ivl_body_encode(&e, &leaf), 0);
    assert_int_equal(leaf.len, n);
    assert_memory_equal(leaf.p, want, n);
    ivl_buf_free(&leaf);
    ivl_entry_free(&e);

    /* a 200-byte name has a two-byte length 0xc8 0x01 */
    build(&e, IVL_T_SUSPEND);
    memset(e.u.suspend.reason, 'r', 200);
    e.u.suspend.reason[200] = 0;
    assert_int_equal(ivl_body_encode(&e, &leaf), 0);
    assert_int_equal(leaf.len, HEAD + 18 + 2 + 200);
    assert_int_equal(leaf.p[HEAD + 18], 0xc8);
    assert_int_equal(leaf.p[HEAD + 19], 0x01);
    ivl_buf_free(&leaf);
    ivl_entry_free(&e);
}

/* ---- refusals ---- */

static void test_truncation_every_byte(void **state)
{
    (void)state;
    for (int t = 1; t <= IVL_T_MAX; t++) {
        struct ivl_buf leaf, body;
        leaf_of(t, &leaf);
        body_of(t, &body);
        for (size_t len = 0; len < leaf.len; len++)
            assert_leaf_refused(leaf.p, len);
        for (size_t len = 0; len < body.len; len++)
            assert_body_refused(body.p, len);
        ivl_buf_free(&leaf);
        ivl_buf_free(&body);
    }
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    for (int t = 1; t <= IVL_T_MAX; t++) {
        struct ivl_buf leaf, body;
        leaf_of(t, &leaf);
        body_of(t, &body);
        ivl_buf_u8(&leaf, 0);
        assert_leaf_refused(leaf.p, leaf.len);
        leaf.p[leaf.len - 1] = 0xff;
        assert_leaf_refused(leaf.p, leaf.len);
        ivl_buf_u8(&body, 0);
        assert_body_refused(body.p, body.len);
        /* one extra byte inside the body (body length grown to match) */
        struct ivl_buf l2, nl;
        leaf_of(t, &l2);
        rebuild_leaf(&l2, body.p, body.len, &nl);
        assert_leaf_refused(nl.p, nl.len);
        ivl_buf_free(&l2);
        ivl_buf_free(&nl);
        ivl_buf_free(&leaf);
        ivl_buf_free(&body);
    }
}

static void test_unknown_type_and_version(void **state)
{
    (void)state;
    static const uint8_t bad_types[] = {0, 17, 255};
    for (int t = 1; t <= IVL_T_MAX; t++) {
        struct ivl_buf leaf, body;
        size_t off, blen;
        leaf_of(t, &leaf);
        body_of(t, &body);
        body_span(&leaf, &off, &blen);
        for (size_t i = 0; i < sizeof bad_types; i++) {
            uint8_t keep = leaf.p[off];
            leaf.p[off] = bad_types[i];
            assert_leaf_refused(leaf.p, leaf.len);
            leaf.p[off] = keep;
            body.p[0] = bad_types[i];
            assert_body_refused(body.p, body.len);
        }
        static const uint8_t bad_versions[] = {0, 2, 0x81, 255};
        for (size_t i = 0; i < sizeof bad_versions; i++) {
            leaf.p[0] = bad_versions[i];
            assert_leaf_refused(leaf.p, leaf.len);
        }
        ivl_buf_free(&leaf);
        ivl_buf_free(&body);
    }
}

/* budget id "BUDG5" (length 5) written as 0x85 0x00 */
static void mut_nonminimal_len(uint8_t *b, size_t *len, void *ctx)
{
    (void)ctx;
    assert_int_equal(b[HEAD], 5);
    memmove(b + HEAD + 2, b + HEAD + 1, *len - HEAD - 1);
    b[HEAD] = 0x85;
    b[HEAD + 1] = 0x00;
    (*len)++;
}

static void test_nonminimal_varint(void **state)
{
    (void)state;
    /* the budget id as a 5-byte string, to match the brief's example */
    struct ivl_entry e;
    struct ivl_buf body = {0}, leaf = {0}, nl;
    build(&e, IVL_T_BUDGET);
    snprintf(e.u.budget.budget, sizeof e.u.budget.budget, "BUDG5");
    assert_int_equal(ivl_body_encode(&e, &body), 0);
    assert_int_equal(ivl_leaf_encode(&e, &leaf), 0);
    uint8_t b[256];
    size_t len = body.len;
    memcpy(b, body.p, len);
    mut_nonminimal_len(b, &len, NULL);
    assert_body_refused(b, len);
    rebuild_leaf(&leaf, b, len, &nl);
    assert_leaf_refused(nl.p, nl.len);
    ivl_buf_free(&nl);

    /* the leaf's own body-length varint written non-minimally */
    size_t off, blen;
    body_span(&leaf, &off, &blen);
    assert_true(blen < 128); /* one byte in the canonical form */
    assert_int_equal(off, 18);
    memset(&nl, 0, sizeof nl);
    ivl_buf_put(&nl, leaf.p, 17);
    ivl_buf_u8(&nl, (uint8_t)(0x80 | blen));
    ivl_buf_u8(&nl, 0x00);
    ivl_buf_put(&nl, leaf.p + 18, leaf.len - 18);
    assert_leaf_refused(nl.p, nl.len);
    ivl_buf_free(&nl);

    /* a long genesis body has a two-byte length; a three-byte spelling is refused */
    struct ivl_buf gl;
    leaf_of(IVL_T_GENESIS, &gl);
    body_span(&gl, &off, &blen);
    assert_true(blen >= 128 && blen < 16384);
    assert_int_equal(off, 19);
    memset(&nl, 0, sizeof nl);
    ivl_buf_put(&nl, gl.p, 17);
    ivl_buf_u8(&nl, (uint8_t)(0x80 | (blen & 0x7f)));
    ivl_buf_u8(&nl, (uint8_t)(0x80 | (blen >> 7)));
    ivl_buf_u8(&nl, 0x00);
    ivl_buf_put(&nl, gl.p + 19, gl.len - 19);
    assert_leaf_refused(nl.p, nl.len);
    ivl_buf_free(&nl);
    ivl_buf_free(&gl);

    /* the related-party count of a party written as 0x83 0x00 */
    struct ivl_buf pb;
    body_of(IVL_T_PARTY, &pb);
    size_t at = pb.len - 3 * 18 - 1;
    assert_int_equal(pb.p[at], 3);
    uint8_t p2[1024];
    memcpy(p2, pb.p, at);
    p2[at] = 0x83;
    p2[at + 1] = 0x00;
    memcpy(p2 + at + 2, pb.p + at + 1, pb.len - at - 1);
    assert_body_refused(p2, pb.len + 1);
    ivl_buf_free(&pb);

    ivl_buf_free(&body);
    ivl_buf_free(&leaf);
    ivl_entry_free(&e);
}

static void test_varint_reader(void **state)
{
    (void)state;
    uint64_t v;
    struct ivl_rd r;
    /* 2^64-1: ten bytes, the last one 0x01 */
    static const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    r = (struct ivl_rd){max, sizeof max, 0};
    assert_int_equal(ivl_rd_varint(&r, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(r.off, 10);
    struct ivl_buf b = {0};
    ivl_buf_varint(&b, UINT64_MAX);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.p, max, 10);
    ivl_buf_free(&b);

    /* tenth byte above 1 overflows 64 bits */
    static const uint8_t over[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    r = (struct ivl_rd){over, sizeof over, 0};
    assert_int_equal(ivl_rd_varint(&r, UINT64_MAX, &v), IVL_E_DECODE);
    /* eleven bytes */
    static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                     0x80, 0x80, 0x80, 0x81, 0x01};
    r = (struct ivl_rd){eleven, sizeof eleven, 0};
    assert_int_equal(ivl_rd_varint(&r, UINT64_MAX, &v), IVL_E_DECODE);
    static const uint8_t eleven2[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0x80, 0x00};
    r = (struct ivl_rd){eleven2, sizeof eleven2, 0};
    assert_int_equal(ivl_rd_varint(&r, UINT64_MAX, &v), IVL_E_DECODE);
    /* non-minimal forms of 0 and 1 */
    static const uint8_t zero2[] = {0x80, 0x00}, one2[] = {0x81, 0x00};
    r = (struct ivl_rd){zero2, 2, 0};
    assert_int_equal(ivl_rd_varint(&r, UINT64_MAX, &v), IVL_E_DECODE);
    r = (struct ivl_rd){one2, 2, 0};
    assert_int_equal(ivl_rd_varint(&r, UINT64_MAX, &v), IVL_E_DECODE);
    /* truncated continuation */
    static const uint8_t cont[] = {0x85};
    r = (struct ivl_rd){cont, 1, 0};
    assert_int_equal(ivl_rd_varint(&r, UINT64_MAX, &v), IVL_E_DECODE);
    /* above the caller's maximum */
    static const uint8_t big[] = {0x81, 0x01}; /* 129 */
    r = (struct ivl_rd){big, 2, 0};
    assert_int_equal(ivl_rd_varint(&r, 128, &v), IVL_E_DECODE);
    r = (struct ivl_rd){big, 2, 0};
    assert_int_equal(ivl_rd_varint(&r, 129, &v), 0);
    assert_int_equal(v, 129);

    /* every value round-trips through the minimal writer */
    static const uint64_t vals[] = {
        0, 1, 127, 128, 16383, 16384, 1u << 26, UINT32_MAX, (uint64_t)1 << 63};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        struct ivl_buf w = {0};
        ivl_buf_varint(&w, vals[i]);
        r = (struct ivl_rd){w.p, w.len, 0};
        assert_int_equal(ivl_rd_varint(&r, UINT64_MAX, &v), 0);
        assert_true(v == vals[i]);
        assert_int_equal(r.off, w.len);
        ivl_buf_free(&w);
    }
}

/* The leaf's body-length varint longer than 10 bytes. */
static void test_varint_too_long_in_leaf(void **state)
{
    (void)state;
    struct ivl_buf leaf, nl = {0};
    size_t off, blen;
    leaf_of(IVL_T_APPROVE, &leaf);
    body_span(&leaf, &off, &blen);
    ivl_buf_put(&nl, leaf.p, 17);
    ivl_buf_u8(&nl, (uint8_t)(0x80 | blen));
    for (int i = 0; i < 10; i++)
        ivl_buf_u8(&nl, 0x80);
    ivl_buf_u8(&nl, 0x00);
    ivl_buf_put(&nl, leaf.p + off, leaf.len - off);
    assert_leaf_refused(nl.p, nl.len);
    ivl_buf_free(&nl);
    ivl_buf_free(&leaf);
}

/* Replaces byte `ctx[0]` of the suspend reason ("ABCDE...") with ctx[1]. */
static void mut_reason_byte(uint8_t *b, size_t *len, void *ctx)
{
    const uint8_t *c = ctx;
    size_t at = HEAD + 18 + 1 + c[0];
    assert_int_equal(b[at], 'A' + c[0]);
    b[at] = c[1];
    (void)len;
}

static void test_bad_text(void **state)
{
    (void)state;
    /* control characters (C0, DEL, NUL), invalid UTF-8, an overlong NUL */
    static const uint8_t bad[] = {0x01, 0x0a, 0x09, 0x1b, 0x7f, 0x00, 0xff, 0xc0, 0x80, 0xfe};
    for (size_t i = 0; i < sizeof bad; i++) {
        uint8_t ctx[2] = {2, bad[i]};
        refuse_body_mutation(IVL_T_SUSPEND, mut_reason_byte, ctx);
    }
    /* a C1 control (U+0085) and a bidi override (U+202E), same length */
    struct ivl_buf body;
    body_of(IVL_T_SUSPEND, &body);
    uint8_t b[1024];
    memcpy(b, body.p, body.len);
    size_t at = HEAD + 18 + 1;
    b[at] = 0xc2;
    b[at + 1] = 0x85;
    assert_body_refused(b, body.len);
    memcpy(b, body.p, body.len);
    b[at] = 0xe2;
    b[at + 1] = 0x80;
    b[at + 2] = 0xae;
    assert_body_refused(b, body.len);
    /* a CJK character cut in half at the end of the text */
    memcpy(b, body.p, body.len);
    b[HEAD + 18]--;
    assert_body_refused(b, body.len - 1);
    ivl_buf_free(&body);

    /* empty strings where text is required: the genesis name */
    struct ivl_buf g;
    body_of(IVL_T_GENESIS, &g);
    size_t olen = strlen("qinshui.gov.cn/ivl");
    size_t name_at = HEAD + 1 + olen + 18;
    size_t nlen = g.p[name_at];
    assert_int_equal(nlen, strlen("沁水县科学技术局"));
    memcpy(b, g.p, name_at);
    b[name_at] = 0;
    memcpy(b + name_at + 1, g.p + name_at + 1 + nlen, g.len - name_at - 1 - nlen);
    assert_body_refused(b, g.len - nlen);
    ivl_buf_free(&g);
}

static void mut_related(uint8_t *b, size_t *len, void *ctx)
{
    int how = *(int *)ctx;
    uint8_t *r0 = b + *len - 3 * 18, *r1 = r0 + 18, *r2 = r1 + 18;
    uint8_t tmp[18];
    assert_memory_equal(r0, U_R1, 18);
    switch (how) {
    case 0: /* swap the first two */
        memcpy(tmp, r0, 18);
        memcpy(r0, r1, 18);
        memcpy(r1, tmp, 18);
        break;
    case 1: /* duplicate */ memcpy(r1, r0, 18); break;
    case 2: /* reversed tail */
        memcpy(tmp, r1, 18);
        memcpy(r1, r2, 18);
        memcpy(r2, tmp, 18);
        break;
    case 3: /* duplicate at the end */ memcpy(r2, r1, 18); break;
    case 4: /* a related USCC with a lowercase letter */ r2[9] = 'f'; break;
    }
}

static void test_related_list(void **state)
{
    (void)state;
    for (int how = 0; how < 5; how++)
        refuse_body_mutation(IVL_T_PARTY, mut_related, &how);
    /* the encoder refuses the same lists */
    struct ivl_entry e;
    struct ivl_buf b = {0};
    build(&e, IVL_T_PARTY);
    snprintf(e.u.party.related[1], sizeof e.u.party.related[1], "%s", U_R1);
    assert_int_equal(ivl_body_encode(&e, &b), IVL_E_USAGE);
    snprintf(e.u.party.related[1], sizeof e.u.party.related[1], "%s", U_R3);
    snprintf(e.u.party.related[2], sizeof e.u.party.related[2], "%s", U_R2);
    assert_int_equal(ivl_body_encode(&e, &b), IVL_E_USAGE);
    ivl_buf_free(&b);
    ivl_entry_free(&e);
}

static void mut_expire(uint8_t *b, size_t *len, void *ctx)
{
    int how = *(int *)ctx;
    uint8_t *x0 = b + *len - 3 * 24, *x1 = x0 + 24, *x2 = x1 + 24;
    uint8_t tmp[24];
    assert_int_equal(x0[0], 0x40);
    switch (how) {
    case 0:
        memcpy(tmp, x0, 24);
        memcpy(x0, x1, 24);
        memcpy(x1, tmp, 24);
        break;
    case 1:
        memcpy(x1, x0, 16); /* same voucher, amounts differ */
        break;
    case 2:
        memcpy(tmp, x1, 24);
        memcpy(x1, x2, 24);
        memcpy(x2, tmp, 24);
        break;
    case 3: /* an amount above the maximum */ put_u64(x2 + 16, IVL_AMOUNT_MAX + 1); break;
    case 4: /* the count claims one more item than the body holds */ b[HEAD] = 4; break;
    case 5: /* a huge count */
        b[HEAD] = 0xff;
        memmove(b + HEAD + 3, b + HEAD + 1, *len - HEAD - 1);
        b[HEAD + 1] = 0xff;
        b[HEAD + 2] = 0x7f;
        *len += 2;
        break;
    }
}

static void test_expire_list(void **state)
{
    (void)state;
    for (int how = 0; how < 6; how++)
        refuse_body_mutation(IVL_T_EXPIRE, mut_expire, &how);
    struct ivl_entry e;
    struct ivl_buf b = {0};
    build(&e, IVL_T_EXPIRE);
    memcpy(e.u.expire.list[2].voucher, e.u.expire.list[1].voucher, IVL_ID_LEN);
    assert_int_equal(ivl_body_encode(&e, &b), IVL_E_USAGE);
    e.u.expire.list[2].voucher[0] = 0x3f;
    assert_int_equal(ivl_body_encode(&e, &b), IVL_E_USAGE);
    ivl_buf_free(&b);
    ivl_entry_free(&e);
}

static void test_signature_count(void **state)
{
    (void)state;
    for (int t = 1; t <= IVL_T_MAX; t++) {
        struct ivl_buf leaf, nl = {0};
        size_t off, blen;
        leaf_of(t, &leaf);
        body_span(&leaf, &off, &blen);
        size_t at = off + blen;
        /* 0 signatures, with and without the signature bytes after it */
        uint8_t keep = leaf.p[at];
        leaf.p[at] = 0;
        assert_leaf_refused(leaf.p, leaf.len);
        assert_leaf_refused(leaf.p, at + 1);
        leaf.p[at] = keep;
        /* 3 signatures, with the third present, and claimed without bytes */
        ivl_buf_put(&nl, leaf.p, leaf.len);
        if (keep == 1) ivl_buf_put(&nl, leaf.p + at + 1, 82);
        ivl_buf_put(&nl, leaf.p + at + 1, 82);
        nl.p[at] = 3;
        assert_leaf_refused(nl.p, nl.len);
        leaf.p[at] = 3;
        assert_leaf_refused(leaf.p, leaf.len);
        /* 2 claimed where 1 is present, 1 where 2 are */
        leaf.p[at] = keep == 1 ? 2 : 1;
        assert_leaf_refused(leaf.p, leaf.len);
        leaf.p[at] = keep;
        /* a signer that is not a USCC */
        leaf.p[at + 1 + 3] = 'i';
        assert_leaf_refused(leaf.p, leaf.len);
        ivl_buf_free(&nl);
        ivl_buf_free(&leaf);
    }
    /* the encoder refuses 0 and 3 */
    struct ivl_entry e;
    struct ivl_buf b = {0};
    build(&e, IVL_T_ISSUE);
    e.n_sigs = 0;
    assert_int_equal(ivl_leaf_encode(&e, &b), IVL_E_USAGE);
    e.n_sigs = 3;
    assert_int_equal(ivl_leaf_encode(&e, &b), IVL_E_USAGE);
    e.n_sigs = 1;
    e.sigs[0].signer[0] = 'o';
    ivl_buf_free(&b);
    assert_int_equal(ivl_leaf_encode(&e, &b), IVL_E_USAGE);
    ivl_buf_free(&b);
    ivl_entry_free(&e);
}

struct patch64 {
    size_t at; /* offset in the body, or SIZE_MAX = from the end: at bytes back */
    size_t from_end;
    uint64_t want; /* value found there */
    uint64_t put;  /* value written */
};

static void mut_u64(uint8_t *b, size_t *len, void *ctx)
{
    struct patch64 *p = ctx;
    size_t at = p->from_end ? *len - p->from_end : p->at;
    assert_true(get_u64(b + at) == p->want);
    put_u64(b + at, p->put);
}

static void test_out_of_range(void **state)
{
    (void)state;
    size_t bl = strlen("2026年度科技创新券");
    size_t total_at = HEAD + 1 + bl, cap_at = total_at + 8, ratio_at = cap_at + 8;
    struct patch64 p;

    /* ratio 10001, and far beyond 32 bits */
    p = (struct patch64){ratio_at, 0, 5000, 10001};
    refuse_body_mutation(IVL_T_BUDGET, mut_u64, &p);
    p.put = ((uint64_t)1 << 32) + 5000;
    refuse_body_mutation(IVL_T_BUDGET, mut_u64, &p);
    /* amounts above 1e11 fen in every amount field */
    p = (struct patch64){total_at, 0, 5000000000ULL, IVL_AMOUNT_MAX + 1};
    refuse_body_mutation(IVL_T_BUDGET, mut_u64, &p);
    p = (struct patch64){cap_at, 0, 20000000ULL, IVL_AMOUNT_MAX + 1};
    refuse_body_mutation(IVL_T_BUDGET, mut_u64, &p);
    p = (struct patch64){0, 16, 10000000ULL, IVL_AMOUNT_MAX + 1}; /* issue amount */
    refuse_body_mutation(IVL_T_ISSUE, mut_u64, &p);
    p = (struct patch64){0, 17, 30000000ULL, IVL_AMOUNT_MAX + 1}; /* redeem contract amount */
    refuse_body_mutation(IVL_T_REDEEM, mut_u64, &p);
    p = (struct patch64){0, 9, 10000000ULL, UINT64_MAX}; /* redeem amount */
    refuse_body_mutation(IVL_T_REDEEM, mut_u64, &p);
    p = (struct patch64){0, 40, 10000000ULL, IVL_AMOUNT_MAX + 1}; /* claim amount */
    refuse_body_mutation(IVL_T_CLAIM, mut_u64, &p);
    /* times beyond IVL_TIME_MAX: signing time, budget end, voucher expiry */
    struct ivl_entry e;
    build(&e, IVL_T_BUDGET);
    p = (struct patch64){17, 0, (uint64_t)e.signed_at, (uint64_t)IVL_TIME_MAX + 1};
    refuse_body_mutation(IVL_T_BUDGET, mut_u64, &p);
    p = (struct patch64){0, 9, (uint64_t)e.u.budget.until, UINT64_MAX};
    refuse_body_mutation(IVL_T_BUDGET, mut_u64, &p);
    ivl_entry_free(&e);

    /* the exact maximum is accepted */
    struct ivl_buf body, nb = {0};
    struct ivl_entry d;
    body_of(IVL_T_BUDGET, &body);
    put_u64(body.p + total_at, IVL_AMOUNT_MAX);
    put_u64(body.p + ratio_at, 10000);
    assert_int_equal(body_decode_exact(body.p, body.len, &d), 0);
    assert_true(d.u.budget.total == IVL_AMOUNT_MAX);
    assert_int_equal(d.u.budget.ratio_bp, 10000);
    assert_int_equal(ivl_body_encode(&d, &nb), 0);
    assert_memory_equal(nb.p, body.p, body.len);
    ivl_entry_free(&d);
    ivl_buf_free(&nb);
    ivl_buf_free(&body);
}

static void mut_last_byte(uint8_t *b, size_t *len, void *ctx)
{
    const uint8_t *v = ctx;
    assert_int_equal(b[*len - 1], v[0]);
    b[*len - 1] = v[1];
}

static void mut_byte_at(uint8_t *b, size_t *len, void *ctx)
{
    const size_t *v = ctx; /* offset, old, new */
    (void)len;
    assert_int_equal(b[v[0]], v[1]);
    b[v[0]] = (uint8_t)v[2];
}

static void test_bad_categories_roles_flags(void **state)
{
    (void)state;
    /* redeem category: two bits, all bits, an unknown bit */
    static const uint8_t cats[] = {0x03, 0x06, 0x3f, 0x40, 0x80, 0xff};
    for (size_t i = 0; i < sizeof cats; i++) {
        uint8_t v[2] = {IVL_CAT_TESTING, cats[i]};
        refuse_body_mutation(IVL_T_REDEEM, mut_last_byte, v);
    }
    /* budget categories: an unknown bit */
    uint8_t v[2] = {IVL_CAT_RD | IVL_CAT_TESTING | IVL_CAT_TRANSFER, 0x40 | IVL_CAT_RD};
    refuse_body_mutation(IVL_T_BUDGET, mut_last_byte, v);
    /* party role 0 and 6, flags 2, categories 0x40 */
    size_t role_at = HEAD + 18;
    size_t r0[3] = {role_at, IVL_ROLE_SME, 0}, r6[3] = {role_at, IVL_ROLE_SME, 6};
    size_t f2[3] = {role_at + 1, IVL_PARTY_USCC_UNCHECKED, 2};
    size_t c40[3] = {role_at + 2, IVL_CAT_RD | IVL_CAT_IP, 0x40};
    refuse_body_mutation(IVL_T_PARTY, mut_byte_at, r0);
    refuse_body_mutation(IVL_T_PARTY, mut_byte_at, r6);
    refuse_body_mutation(IVL_T_PARTY, mut_byte_at, f2);
    refuse_body_mutation(IVL_T_PARTY, mut_byte_at, c40);
    /* a USCC with a character outside the charset (I, O, S, V, Z) */
    size_t u[3] = {HEAD + 3, '4', 'I'};
    refuse_body_mutation(IVL_T_PARTY, mut_byte_at, u);
    refuse_body_mutation(IVL_T_SUSPEND, mut_byte_at, u);
    size_t u2[3] = {HEAD + 16 + 18 + 5, '5', 'O'}; /* redeem provider */
    refuse_body_mutation(IVL_T_REDEEM, mut_byte_at, u2);
}

/* One encoding per entry: any single-byte change either is refused or
 * decodes to an entry that re-encodes to exactly the changed bytes. */
static void test_mutations_stay_canonical(void **state)
{
    (void)state;
    static const uint8_t xors[] = {0x01, 0x02, 0x40, 0x80, 0xff};
    for (int t = 1; t <= IVL_T_MAX; t++) {
        struct ivl_buf leaf;
        leaf_of(t, &leaf);
        for (size_t i = 0; i < leaf.len; i++)
            for (size_t x = 0; x < sizeof xors + 2; x++) {
                uint8_t keep = leaf.p[i];
                leaf.p[i] = x < sizeof xors ? keep ^ xors[x] : (x == sizeof xors ? 0 : 0x7f);
                if (leaf.p[i] == keep) continue;
                struct ivl_entry d;
                int rc = decode_exact(leaf.p, leaf.len, &d);
                if (rc == 0) {
                    struct ivl_buf again = {0};
                    rc = ivl_leaf_encode(&d, &again);
                    if (rc || again.len != leaf.len || memcmp(again.p, leaf.p, leaf.len))
                        fail_msg("type %d byte %zu: accepted but re-encodes differently", t, i);
                    ivl_buf_free(&again);
                    ivl_entry_free(&d);
                } else {
                    assert_int_equal(rc, IVL_E_DECODE);
                }
                leaf.p[i] = keep;
            }
        ivl_buf_free(&leaf);
    }
}

/* ---- encoder validation ---- */

static void expect_usage(struct ivl_entry *e, const char *what)
{
    struct ivl_buf b = {0};
    int rc = ivl_body_encode(e, &b);
    if (rc != IVL_E_USAGE) fail_msg("%s: expected IVL_E_USAGE, got %d", what, rc);
    ivl_buf_free(&b);
    rc = ivl_leaf_encode(e, &b);
    if (rc != IVL_E_USAGE) fail_msg("%s (leaf): expected IVL_E_USAGE, got %d", what, rc);
    ivl_buf_free(&b);
    ivl_entry_free(e);
}

static void test_encoder_refuses(void **state)
{
    (void)state;
    struct ivl_entry e;

    build(&e, 0);
    expect_usage(&e, "type 0");
    build(&e, IVL_T_APPROVE);
    e.type = 17;
    expect_usage(&e, "type 17");
    build(&e, IVL_T_APPROVE);
    e.signed_at = -1;
    expect_usage(&e, "negative signing time");
    build(&e, IVL_T_APPROVE);
    e.signed_at = IVL_TIME_MAX + 1;
    expect_usage(&e, "signing time too large");
    build(&e, IVL_T_APPROVE);
    e.appended_at = -1;
    {
        struct ivl_buf b = {0};
        assert_int_equal(ivl_leaf_encode(&e, &b), IVL_E_USAGE);
        ivl_buf_free(&b);
        ivl_entry_free(&e);
    }

    build(&e, IVL_T_GENESIS);
    e.u.genesis.origin[0] = 0;
    expect_usage(&e, "empty origin");
    build(&e, IVL_T_GENESIS);
    e.u.genesis.authority[0] = 'x';
    expect_usage(&e, "bad authority");
    build(&e, IVL_T_GENESIS);
    e.u.genesis.name[3] = '\n';
    expect_usage(&e, "name with newline");
    build(&e, IVL_T_GENESIS);
    e.u.genesis.key_name[0] = 0;
    expect_usage(&e, "empty key name");
    build(&e, IVL_T_GENESIS);
    memset(e.u.genesis.origin, 'o', IVL_MAX_ORIGIN + 1);
    e.u.genesis.origin[IVL_MAX_ORIGIN] = 0;
    e.u.genesis.name[0] = (char)0xff; /* invalid UTF-8 */
    expect_usage(&e, "invalid UTF-8 name");

    build(&e, IVL_T_PARTY);
    e.u.party.role = 0;
    expect_usage(&e, "role 0");
    build(&e, IVL_T_PARTY);
    e.u.party.role = IVL_ROLE_MAX + 1;
    expect_usage(&e, "role 6");
    build(&e, IVL_T_PARTY);
    e.u.party.flags = 2;
    expect_usage(&e, "flags");
    build(&e, IVL_T_PARTY);
    e.u.party.categories = 0x40;
    expect_usage(&e, "categories");
    build(&e, IVL_T_PARTY);
    e.u.party.group[0] = '\t';
    expect_usage(&e, "group with tab");
    build(&e, IVL_T_PARTY);
    e.u.party.uscc[17] = 'I';
    expect_usage(&e, "uscc charset");
    build(&e, IVL_T_PARTY);
    e.u.party.related[1][0] = 0;
    expect_usage(&e, "empty related");

    build(&e, IVL_T_SUSPEND);
    e.u.suspend.reason[0] = 0;
    expect_usage(&e, "empty reason");
    build(&e, IVL_T_SUSPEND);
    memcpy(e.u.suspend.reason, "\xe2\x80\xae", 3); /* U+202E */
    expect_usage(&e, "bidi override");
    build(&e, IVL_T_REKEY);
    e.u.rekey.key_name[0] = 0;
    expect_usage(&e, "rekey empty key name");

    build(&e, IVL_T_BUDGET);
    e.u.budget.ratio_bp = 10001;
    expect_usage(&e, "ratio 10001");
    build(&e, IVL_T_BUDGET);
    e.u.budget.total = IVL_AMOUNT_MAX + 1;
    expect_usage(&e, "total");
    build(&e, IVL_T_BUDGET);
    e.u.budget.cap = IVL_AMOUNT_MAX + 1;
    expect_usage(&e, "cap");
    build(&e, IVL_T_BUDGET);
    e.u.budget.until = -5;
    expect_usage(&e, "until");
    build(&e, IVL_T_BUDGET);
    e.u.budget.categories = 0x80;
    expect_usage(&e, "budget categories");
    build(&e, IVL_T_BUDGET);
    e.u.budget.budget[0] = 0;
    expect_usage(&e, "budget id");

    build(&e, IVL_T_ISSUE);
    e.u.issue.amount = IVL_AMOUNT_MAX + 1;
    expect_usage(&e, "issue amount");
    build(&e, IVL_T_ISSUE);
    e.u.issue.until = INT64_MIN;
    expect_usage(&e, "issue until");
    build(&e, IVL_T_ISSUE);
    e.u.issue.holder[5] = 0;
    expect_usage(&e, "issue holder");

    build(&e, IVL_T_REDEEM);
    e.u.redeem.category = 3;
    expect_usage(&e, "category 2 bits");
    build(&e, IVL_T_REDEEM);
    e.u.redeem.category = 0x40;
    expect_usage(&e, "category unknown bit");
    build(&e, IVL_T_REDEEM);
    e.u.redeem.amount = IVL_AMOUNT_MAX + 1;
    expect_usage(&e, "redeem amount");
    build(&e, IVL_T_REDEEM);
    e.u.redeem.contract_amount = IVL_AMOUNT_MAX + 1;
    expect_usage(&e, "contract amount");
    build(&e, IVL_T_REDEEM);
    e.u.redeem.provider[0] = 'a';
    expect_usage(&e, "provider");

    for (int t = IVL_T_CANCEL; t <= IVL_T_REVOKE; t++) {
        if (t == IVL_T_CLAIM || t == IVL_T_APPROVE) continue;
        build(&e, t);
        e.u.target.text[0] = 0;
        expect_usage(&e, "target without text");
    }
    build(&e, IVL_T_PAY);
    memset(e.u.target.text, 'R', IVL_MAX_REF + 1);
    e.u.target.text[IVL_MAX_REF + 1] = 0;
    expect_usage(&e, "bank reference too long");
    build(&e, IVL_T_REVOKE);
    memset(e.u.target.text, 'R', IVL_MAX_REASON);
    e.u.target.text[IVL_MAX_REASON] = 0;
    {
        struct ivl_buf b = {0};
        assert_int_equal(ivl_body_encode(&e, &b), 0); /* 500 bytes is fine */
        ivl_buf_free(&b);
        ivl_entry_free(&e);
    }
    build(&e, IVL_T_APPROVE);
    snprintf(e.u.target.text, sizeof e.u.target.text, "ok");
    expect_usage(&e, "approve with text");

    build(&e, IVL_T_CLAIM);
    e.u.claim.amount = IVL_AMOUNT_MAX + 1;
    expect_usage(&e, "claim amount");
    build(&e, IVL_T_EXPIRE);
    e.u.expire.list[1].amount = IVL_AMOUNT_MAX + 1;
    expect_usage(&e, "expire amount");
    build(&e, IVL_T_EXPIRE);
    e.u.expire.n = IVL_MAX_EXPIRE + 1;
    {
        struct ivl_buf b = {0};
        assert_int_equal(ivl_body_encode(&e, &b), IVL_E_USAGE);
        ivl_buf_free(&b);
        e.u.expire.n = 3;
        ivl_entry_free(&e);
    }
}

/* ---- signed message ---- */

static void test_sig_message(void **state)
{
    (void)state;
    static const char ctx[] = "ivl/v1/entry\n";
    struct ivl_buf body, msg = {0};
    body_of(IVL_T_REDEEM, &body);
    const char *origin = "qinshui.gov.cn/ivl";
    assert_int_equal(ivl_sig_message(origin, body.p, body.len, &msg), 0);
    size_t n = 0;
    uint8_t want[1024];
    kat_put(want, &n, ctx, 13);
    want[n++] = (uint8_t)strlen(origin);
    kat_put(want, &n, origin, strlen(origin));
    kat_put(want, &n, body.p, body.len);
    assert_int_equal(msg.len, n);
    assert_memory_equal(msg.p, want, n);
    assert_memory_equal(msg.p, "ivl/v1/entry\n\x12qinshui.gov.cn/ivl", 13 + 1 + 18);
    ivl_buf_free(&msg);

    /* a 128-byte (maximum) origin has a two-byte length 0x80 0x01 */
    char big[IVL_MAX_ORIGIN + 1];
    memset(big, 'o', IVL_MAX_ORIGIN);
    big[IVL_MAX_ORIGIN] = 0;
    assert_int_equal(ivl_sig_message(big, body.p, body.len, &msg), 0);
    assert_int_equal(msg.len, 13 + 2 + IVL_MAX_ORIGIN + body.len);
    assert_int_equal(msg.p[13], 0x80);
    assert_int_equal(msg.p[14], 0x01);
    assert_int_equal(msg.p[15], 'o');
    assert_memory_equal(msg.p + 15 + IVL_MAX_ORIGIN, body.p, body.len);
    ivl_buf_free(&msg);

    /* a UTF-8 origin counts bytes, not characters */
    assert_int_equal(ivl_sig_message("沁水", body.p, 0, &msg), 0);
    assert_int_equal(msg.len, 13 + 1 + 6);
    assert_int_equal(msg.p[13], 6);
    ivl_buf_free(&msg);

    /* appends to what the buffer holds */
    ivl_buf_put(&msg, "x", 1);
    assert_int_equal(ivl_sig_message("o", body.p, body.len, &msg), 0);
    assert_int_equal(msg.len, 1 + 13 + 1 + 1 + body.len);
    assert_int_equal(msg.p[0], 'x');
    ivl_buf_free(&msg);
    ivl_buf_free(&body);
}

/* ---- names ---- */

static void test_names(void **state)
{
    (void)state;
    static const char *const types[] = {
        "genesis", "party",   "suspend", "rekey", "budget",   "issue",  "redeem", "cancel",
        "claim",   "approve", "reject",  "pay",   "clawback", "revoke", "expire", "attest"};
    assert_int_equal(sizeof types / sizeof types[0], IVL_T_MAX);
    for (int t = 1; t <= IVL_T_MAX; t++) {
        assert_string_equal(ivl_type_name(t), types[t - 1]);
        assert_int_equal(ivl_type_from_name(types[t - 1]), t);
    }
    assert_string_equal(ivl_type_name(0), "unknown");
    assert_string_equal(ivl_type_name(17), "unknown");
    assert_string_equal(ivl_type_name(-1), "unknown");
    assert_int_equal(ivl_type_from_name("unknown"), -1);
    assert_int_equal(ivl_type_from_name("Genesis"), -1);
    assert_int_equal(ivl_type_from_name(""), -1);
    assert_int_equal(ivl_type_from_name("pay "), -1);

    static const char *const roles[] = {"authority", "sme", "provider", "finance", "auditor"};
    for (int r = 1; r <= IVL_ROLE_MAX; r++) {
        assert_string_equal(ivl_role_name(r), roles[r - 1]);
        assert_int_equal(ivl_role_from_name(roles[r - 1]), r);
    }
    assert_string_equal(ivl_role_name(0), "unknown");
    assert_string_equal(ivl_role_name(6), "unknown");
    assert_int_equal(ivl_role_from_name("SME"), -1);
    assert_int_equal(ivl_role_from_name(""), -1);

    static const char *const cats[] = {"rd",         "testing",  "ip",
                                       "consulting", "transfer", "instruments"};
    for (int i = 0; i < 6; i++) {
        assert_string_equal(ivl_category_name(1 << i), cats[i]);
        assert_int_equal(ivl_category_from_name(cats[i]), 1 << i);
    }
    assert_string_equal(ivl_category_name(0), "");
    assert_string_equal(ivl_category_name(3), "");
    assert_string_equal(ivl_category_name(64), "");
    assert_int_equal(ivl_category_from_name("RD"), -1);
    assert_int_equal(ivl_category_from_name(""), -1);

    uint8_t m;
    char out[128];
    for (unsigned mask = 0; mask <= IVL_CAT_ALL; mask++) {
        ivl_categories_format((uint8_t)mask, out, sizeof out);
        assert_int_equal(ivl_categories_parse(out, &m), 0);
        assert_int_equal(m, mask);
    }
    ivl_categories_format(IVL_CAT_ALL, out, sizeof out);
    assert_string_equal(out, "rd,testing,ip,consulting,transfer,instruments");
    ivl_categories_format(0, out, sizeof out);
    assert_string_equal(out, "");
    ivl_categories_format(IVL_CAT_TESTING | IVL_CAT_INSTRUMENTS, out, sizeof out);
    assert_string_equal(out, "testing,instruments");
    assert_int_equal(ivl_categories_parse("ip,rd", &m), 0);
    assert_int_equal(m, IVL_CAT_RD | IVL_CAT_IP);
    assert_int_equal(ivl_categories_parse("rd,rd", &m), 0);
    assert_int_equal(m, IVL_CAT_RD);
    static const char *const bad[] = {
        "rd,", ",rd",    "rd,,ip",
        "RD",  "rd ,ip", "rd;ip",
        "x",   ",",      "testingtestingtestingtestingtestingtesting"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ivl_categories_parse(bad[i], &m) != IVL_E_USAGE) fail_msg("accepted '%s'", bad[i]);

    uint8_t id[IVL_ID_LEN], id2[IVL_ID_LEN];
    char s[37];
    set_id(id, 0xab, 0x13);
    ivl_id_format(id, s);
    assert_int_equal(strlen(s), 36);
    assert_int_equal(ivl_id_parse(s, id2), 0);
    assert_memory_equal(id, id2, IVL_ID_LEN);
    assert_int_equal(ivl_id_parse("not-a-uuid", id2), IVL_E_USAGE);
    assert_int_equal(ivl_id_parse("", id2), IVL_E_USAGE);
    char longer[40];
    snprintf(longer, sizeof longer, "%s0", s);
    assert_int_equal(ivl_id_parse(longer, id2), IVL_E_USAGE);
    ivl_id_generate(id);
    ivl_id_generate(id2);
    assert_memory_not_equal(id, id2, IVL_ID_LEN);
}

/* New ids are UUID version 7: the current Unix time in milliseconds first,
 * and strictly increasing even within one millisecond (RFC 9562 §6.2). */
static void test_id_v7(void **state)
{
    (void)state;
    uint8_t prev[IVL_ID_LEN], id[IVL_ID_LEN];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t before = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    ivl_id_generate(prev);
    for (int i = 0; i < 200000; i++) {
        ivl_id_generate(id);
        assert_true(memcmp(prev, id, IVL_ID_LEN) < 0);
        assert_int_equal(id[6] >> 4, 7); /* version */
        assert_int_equal(id[8] >> 6, 2); /* variant 10 */
        memcpy(prev, id, IVL_ID_LEN);
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t after = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000, ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | id[i];
    assert_true(ms >= before && ms <= after + 1);
    char s[37];
    ivl_id_format(id, s);
    assert_int_equal(s[14], '7');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_type),
        cmocka_unit_test(test_id_v7),
        cmocka_unit_test(test_round_trip_edges),
        cmocka_unit_test(test_known_bytes),
        cmocka_unit_test(test_truncation_every_byte),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_unknown_type_and_version),
        cmocka_unit_test(test_nonminimal_varint),
        cmocka_unit_test(test_varint_reader),
        cmocka_unit_test(test_varint_too_long_in_leaf),
        cmocka_unit_test(test_bad_text),
        cmocka_unit_test(test_related_list),
        cmocka_unit_test(test_expire_list),
        cmocka_unit_test(test_signature_count),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_bad_categories_roles_flags),
        cmocka_unit_test(test_mutations_stay_canonical),
        cmocka_unit_test(test_encoder_refuses),
        cmocka_unit_test(test_sig_message),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
