/*
 * test_ed25519.c - the table-driven Ed25519 check (ledger/ed25519.c) against
 * libsodium's crypto_sign_verify_detached(), which is the reference: every
 * verdict must be the same. Valid signatures, every kind of alteration
 * (R, s, the message, the key), s at and above the group order, a signature
 * whose equation holds with R the identity (libsodium refuses R of small
 * order), keys of small order and keys that do not decode. The tests also
 * check that the fast path really ran (its counters), that it never disagreed
 * with libsodium (which would turn it off), and that IVL_NO_KEY_TABLES turns
 * it off. The signer (ivl_ed25519_sign_many) must give libsodium's
 * signatures byte for byte, and its constant-time multiples of B
 * libsodium's points. The field's canonical encoding is checked on the values around p
 * by including the module itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ledger/ed25519.c"
#include "err.h"
#include "sigbatch.h"

#define NKEYS 5
#define NMSG  300

struct key {
    uint8_t pk[32], sk[64];
};

static void make_keys(struct key *k, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t seed[32];
        memset(seed, 0, sizeof seed);
        seed[0] = (uint8_t)(i + 1);
        seed[31] = 0x5a;
        crypto_sign_seed_keypair(k[i].pk, k[i].sk, seed);
    }
}

static int ref(const uint8_t sig[64], const uint8_t *m, size_t n, const uint8_t pk[32])
{
    return crypto_sign_verify_detached(sig, m, n, pk) ? -1 : 0;
}

/* Checks one (sig, m, pk) both ways; returns the verdict. */
static int same(struct ivl_edcache *c, const uint8_t sig[64], const uint8_t *m, size_t n,
                const uint8_t pk[32])
{
    int a = ivl_ed25519_verify(c, sig, m, n, pk), b = ref(sig, m, n, pk);
    if (a != b) fail_msg("ivl_ed25519_verify says %d, libsodium %d", a, b);
    return a;
}

static void random_message(uint8_t *m, size_t *n)
{
    *n = randombytes_uniform(700);
    randombytes_buf(m, *n);
}

static void test_valid_and_altered(void **state)
{
    (void)state;
    struct key k[NKEYS];
    make_keys(k, NKEYS);
    struct ivl_edcache *c = ivl_edcache_new();
    assert_non_null(c);
    ivl_edcache_set_threshold(c, 2);
    uint8_t m[700], sig[64], bad[64], mm[700];
    size_t n;
    int accepted = 0, rejected = 0;
    for (int i = 0; i < NMSG; i++) {
        const struct key *kk = &k[i % NKEYS];
        random_message(m, &n);
        crypto_sign_detached(sig, NULL, m, n, kk->sk);
        if (same(c, sig, m, n, kk->pk) == 0) accepted++;
        /* one bit flipped anywhere in the signature */
        memcpy(bad, sig, 64);
        unsigned bit = randombytes_uniform(512);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (same(c, bad, m, n, kk->pk) != 0) rejected++;
        /* the message changed */
        if (n) {
            memcpy(mm, m, n);
            mm[randombytes_uniform((uint32_t)n)] ^= 1;
            if (same(c, sig, mm, n, kk->pk) != 0) rejected++;
        }
        /* another key's signature */
        if (same(c, sig, m, n, k[(i + 1) % NKEYS].pk) != 0) rejected++;
        /* a random R, a random s below 2^252 */
        memcpy(bad, sig, 64);
        randombytes_buf(bad, 32);
        if (same(c, bad, m, n, kk->pk) != 0) rejected++;
        memcpy(bad, sig, 64);
        randombytes_buf(bad + 32, 32);
        bad[63] &= 0x0f;
        if (same(c, bad, m, n, kk->pk) != 0) rejected++;
    }
    assert_int_equal(accepted, NMSG);
    assert_true(rejected >= NMSG * 4 - 2); /* n = 0 skips the message change */
    struct ivl_edcache_stats st;
    ivl_edcache_stats(c, &st);
    assert_int_equal(st.disabled, 0);
    assert_int_equal(st.tables, NKEYS);
    assert_true(st.fast > (uint64_t)NMSG * 4); /* nearly all went through the tables */
    ivl_edcache_free(c);
}

/* s + L (the same point, s not reduced) and s = L: libsodium refuses both. */
static void test_unreduced_s(void **state)
{
    (void)state;
    static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                  0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                  0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
    struct key k;
    make_keys(&k, 1);
    struct ivl_edcache *c = ivl_edcache_new();
    ivl_edcache_set_threshold(c, 1);
    uint8_t m[32] = "unreduced s", sig[64], bad[64];
    crypto_sign_detached(sig, NULL, m, sizeof m, k.sk);
    assert_int_equal(same(c, sig, m, sizeof m, k.pk), 0);
    assert_int_equal(same(c, sig, m, sizeof m, k.pk), 0); /* now with the table */
    memcpy(bad, sig, 64);
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        carry += (unsigned)bad[32 + i] + L[i];
        bad[32 + i] = (uint8_t)carry;
        carry >>= 8;
    }
    assert_int_equal(same(c, bad, m, sizeof m, k.pk), -1);
    memcpy(bad + 32, L, 32);
    assert_int_equal(same(c, bad, m, sizeof m, k.pk), -1);
    struct ivl_edcache_stats st;
    ivl_edcache_stats(c, &st);
    assert_int_equal(st.disabled, 0);
    assert_int_equal(st.tables, 1);
    ivl_edcache_free(c);
}

/* R = the identity and s = h a: [s]B - [h]A is the identity, so the
 * equation holds, and only the small-order rule refuses it. */
static void test_small_order_r(void **state)
{
    (void)state;
    struct key k;
    make_keys(&k, 1);
    struct ivl_edcache *c = ivl_edcache_new();
    ivl_edcache_set_threshold(c, 1);
    uint8_t m[16] = "identity R", sig[64], hh[64], h[32], a[32];
    crypto_sign_detached(sig, NULL, m, sizeof m, k.sk);
    assert_int_equal(same(c, sig, m, sizeof m, k.pk), 0); /* builds the table */
    assert_int_equal(same(c, sig, m, sizeof m, k.pk), 0);
    memset(sig, 0, 32);
    sig[0] = 1; /* the identity (0, 1) */
    crypto_hash_sha512_state hs;
    crypto_hash_sha512_init(&hs);
    crypto_hash_sha512_update(&hs, sig, 32);
    crypto_hash_sha512_update(&hs, k.pk, 32);
    crypto_hash_sha512_update(&hs, m, sizeof m);
    crypto_hash_sha512_final(&hs, hh);
    crypto_core_ed25519_scalar_reduce(h, hh);
    uint8_t x[32];
    assert_int_equal(crypto_sign_ed25519_sk_to_curve25519(x, k.sk), 0); /* clamped a */
    uint8_t wide[64] = {0};
    memcpy(wide, x, 32);
    crypto_core_ed25519_scalar_reduce(a, wide);
    crypto_core_ed25519_scalar_mul(sig + 32, h, a);
    /* The equation holds (the fast path computes R' = identity)... */
    ge_p2 r;
    uint8_t enc[32];
    double_comb(&r, sig + 32, h, lookup(c, k.pk)->t);
    ge_tobytes(enc, &r);
    assert_memory_equal(enc, sig, 32);
    /* ...and both refuse it. */
    assert_int_equal(same(c, sig, m, sizeof m, k.pk), -1);
    struct ivl_edcache_stats st;
    ivl_edcache_stats(c, &st);
    assert_int_equal(st.disabled, 0);
    ivl_edcache_free(c);
}

/* Keys libsodium refuses never get a table and are refused every time. */
static void test_bad_keys(void **state)
{
    (void)state;
    static const uint8_t order8[2][32] = {
        {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
         0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
         0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
        {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
         0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
         0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a}};
    struct ivl_edcache *c = ivl_edcache_new();
    ivl_edcache_set_threshold(c, 1);
    uint8_t pk[32], sig[64], m[8] = "bad key";
    randombytes_buf(sig, 64);
    sig[63] &= 0x0f;
    for (int t = 0; t < 40; t++) {
        memset(pk, 0, 32);
        if (t < 2)
            memcpy(pk, order8[t], 32);
        else if (t == 2)
            pk[0] = 1; /* the identity */
        else if (t == 3)
            memset(pk, 0xff, 32), pk[0] = 0xed, pk[31] = 0x7f; /* y = p */
        else
            randombytes_buf(pk, 32); /* about half do not decode */
        for (int r = 0; r < 3; r++)
            assert_int_equal(same(c, sig, m, sizeof m, pk), -1);
    }
    struct ivl_edcache_stats st;
    ivl_edcache_stats(c, &st);
    assert_int_equal(st.tables, 0);
    assert_int_equal(st.fast, 0);
    ivl_edcache_free(c);
}

static void test_switched_off(void **state)
{
    (void)state;
    struct key k;
    make_keys(&k, 1);
    setenv("IVL_NO_KEY_TABLES", "1", 1);
    struct ivl_edcache *c = ivl_edcache_new();
    unsetenv("IVL_NO_KEY_TABLES");
    ivl_edcache_set_threshold(c, 1);
    uint8_t m[4] = "off", sig[64];
    crypto_sign_detached(sig, NULL, m, sizeof m, k.sk);
    for (int i = 0; i < 5; i++)
        assert_int_equal(same(c, sig, m, sizeof m, k.pk), 0);
    struct ivl_edcache_stats st;
    ivl_edcache_stats(c, &st);
    assert_int_equal(st.fast, 0);
    assert_int_equal(st.fallback, 5);
    assert_int_equal(st.tables, 0);
    ivl_edcache_free(c);
    /* NULL cache: libsodium alone */
    assert_int_equal(ivl_ed25519_verify(NULL, sig, m, sizeof m, k.pk), 0);
    sig[5] ^= 4;
    assert_int_equal(ivl_ed25519_verify(NULL, sig, m, sizeof m, k.pk), -1);
}

/* Values from p - 2 to 2^255 - 1 encode as themselves reduced mod p. */
static void test_field_encoding(void **state)
{
    (void)state;
    for (int d = -2; d <= 18; d++) {
        uint8_t in[32], out[32], want[32];
        /* p + d = 2^255 - 19 + d */
        memset(in, 0xff, 32);
        in[31] = 0x7f;
        int low = 0xed + d; /* p's low byte is 0xed */
        in[0] = (uint8_t)low;
        memset(want, 0, 32);
        if (d >= 0) {
            want[0] = (uint8_t)d;
        } else {
            memcpy(want, in, 32);
        }
        fe f;
        fe_frombytes(f, in);
        fe_tobytes(out, f);
        assert_memory_equal(out, want, 32);
        /* and after arithmetic that leaves limbs unreduced: f + p*k - ... */
        fe z, g;
        fe_set(z, 0);
        fe_sub(g, f, z);
        fe_tobytes(out, g);
        assert_memory_equal(out, want, 32);
    }
    /* sqrt(-1)^2 = -1, and the base point round-trips */
    assert_true(K.ok);
    uint8_t b[32];
    ge_p3 B;
    assert_int_equal(ge_frombytes(&B, K.base.pk), 0);
    ge_p2 b2;
    p3_to_p2(&b2, &B);
    ge_tobytes(b, &b2);
    assert_memory_equal(b, K.base.pk, 32);
}

/* [a]B from the base table against libsodium's scalar multiplication. */
static void test_base_multiples(void **state)
{
    (void)state;
    uint8_t zero[32] = {0};
    for (int i = 0; i < 200; i++) {
        uint8_t a[32], want[32], got[32];
        crypto_core_ed25519_scalar_random(a);
        if (i == 0) memset(a, 0, 32), a[0] = 1;
        if (i == 1) memset(a, 0, 32), a[0] = 8;
        assert_int_equal(crypto_scalarmult_ed25519_base_noclamp(want, a), 0);
        ge_p2 r;
        /* [a]B - [0]B */
        double_comb(&r, a, zero, K.base.t);
        ge_tobytes(got, &r);
        assert_memory_equal(got, want, 32);
    }
}

/* The constant-time [a]B of the signer against libsodium's, for scalars
 * whose digits take every value -8..8: all 0x88 bytes (each digit 8, then
 * carries), 0x77 (digits 7), 0x99 (-7 with carries), single bits, L - 1, and
 * random scalars below L and below 2^255. Each encoding goes through the
 * batch inversion, in groups of one and of all. */
static void test_sign_base_mul(void **state)
{
    (void)state;
    enum { N = 120 };
    static const uint8_t L1[32] = {
        0xec, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,       0xd6,
        0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, [31] = 0x10}; /* L - 1 */
    uint8_t a[N][32], want[N][32], one[32], all[N][32];
    ge_p3 P[N];
    fe acc[N];
    assert_int_equal(sign_tab_build(), 0);
    for (int i = 0; i < N; i++) {
        if (i < 3)
            memset(a[i], (int[]){0x88, 0x77, 0x99}[i], 32);
        else if (i < 40)
            memset(a[i], 0, 32), a[i][(i - 3) * 7 / 8] = (uint8_t)(1u << (i % 7));
        else if (i == 40)
            memcpy(a[i], L1, 32);
        else if (i < 80)
            crypto_core_ed25519_scalar_random(a[i]);
        else
            randombytes_buf(a[i], 32);
        a[i][31] &= 127;
        if (crypto_scalarmult_ed25519_base_noclamp(want[i], a[i]))
            fail_msg("libsodium refused scalar %d", i);
        base_mul_ct(&P[i], a[i]);
        encode_many(&one, &P[i], acc, 1);
        assert_memory_equal(one, want[i], 32);
    }
    encode_many(all, P, acc, N);
    for (int i = 0; i < N; i++)
        assert_memory_equal(all[i], want[i], 32);
}

/* Every digit, alone: select_ct from row q gives e 2^(8 q) B (libsodium's
 * [e 256^q]B; negated, its encoding's sign bit flips), or the identity for
 * 0, in every row. */
static void test_sign_select(void **state)
{
    (void)state;
    assert_int_equal(sign_tab_build(), 0);
    for (int q = 0; q < SROWS; q++)
        for (int e = -8; e <= 8; e++) {
            uint8_t a[32] = {0}, want[32] = {1}, got[32];
            if (e) {
                a[q] = (uint8_t)(e > 0 ? e : -e);
                assert_int_equal(crypto_scalarmult_ed25519_base_noclamp(want, a), 0);
                if (e < 0) want[31] ^= 0x80;
            }
            ge_precomp t;
            ge_p3 acc;
            ge_p1p1 r;
            ge_p2 p2;
            select_ct(&t, sign_tab[q], (int8_t)e);
            ge_identity(&acc);
            ge_madd(&r, &acc, &t, 0);
            p1p1_to_p3(&acc, &r);
            p3_to_p2(&p2, &acc);
            ge_tobytes(got, &p2);
            assert_memory_equal(got, want, 32);
        }
}

/* ivl_ed25519_sign_many against crypto_sign_detached(), byte for byte: 300
 * keys, messages of 0 to 700 bytes, batches of 1 to 70 (across the groups
 * of 32 that share an inversion). */
static void test_sign_many(void **state)
{
    (void)state;
    enum { MAXN = 70 };
    static uint8_t msg[MAXN][700];
    const uint8_t *m[MAXN];
    size_t len[MAXN];
    uint8_t sig[MAXN][64], want[64], pk[32], sk[64];
    int sizes[] = {1, 2, 31, 32, 33, 64, 65, 70};
    /* Not prepared yet: refused, nothing written. */
    const uint8_t *m0[1] = {msg[0]};
    size_t l0[1] = {0};
    crypto_sign_keypair(pk, sk);
    memset(sig, 0, sizeof sig);
    assert_int_equal(ivl_ed25519_sign_many(sk, 1, m0, l0, sig), -1);
    assert_true(sodium_is_zero(sig[0], 64));
    assert_int_equal(ivl_ed25519_sign_prepare(), 0);
    assert_int_equal(ivl_ed25519_sign_prepare(), 0); /* once */
    for (int i = 0; i < 300; i++) {
        crypto_sign_keypair(pk, sk);
        size_t n = (size_t)sizes[i % 8];
        for (size_t j = 0; j < n; j++) {
            len[j] = (size_t)randombytes_uniform(i % 3 ? 200 : 701);
            randombytes_buf(msg[j], len[j]);
            m[j] = msg[j];
        }
        memset(sig, 0, sizeof sig);
        assert_int_equal(ivl_ed25519_sign_many(sk, n, m, len, sig), 0);
        for (size_t j = 0; j < n; j++) {
            crypto_sign_detached(want, NULL, m[j], len[j], sk);
            assert_memory_equal(sig[j], want, 64);
        }
        for (size_t j = n; j < MAXN; j++) /* nothing written past n */
            assert_true(sodium_is_zero(sig[j], 64));
    }
    assert_int_equal(ivl_ed25519_sign_many(sk, 0, m, len, sig), 0);
    setenv("IVL_NO_FAST_SIGN", "1", 1);
    assert_int_equal(ivl_ed25519_sign_many(sk, 1, m, len, sig), -1);
    unsetenv("IVL_NO_FAST_SIGN");
    assert_true(atomic_load(&sign_ok));
}

/* Through sigbatch on two threads, as verify and import check a log: 3,000
 * signatures by three keys (tables are made after 8 uses), bad ones at
 * 2,100 and 2,900: the lowest is named. Then all good: none is. */
static void run_batch(const struct key *k, int bad1, int bad2, uint64_t *bad_out, int *rc_out)
{
    struct ivl_sigbatch *b;
    assert_int_equal(ivl_sigbatch_new(2, &b), 0);
    uint8_t m[64], sig[64];
    int rc = 0;
    for (int i = 0; i < 3000 && !rc; i++) {
        snprintf((char *)m, sizeof m, "entry %d of the log", i);
        size_t n = strlen((char *)m);
        const struct key *kk = &k[i % 3];
        crypto_sign_detached(sig, NULL, m, n, kk->sk);
        if (i == bad1 || i == bad2) sig[i % 64] ^= 0x10;
        rc = ivl_sigbatch_add_raw(b, (uint64_t)i, m, n, sig, kk->pk);
    }
    if (!rc) rc = ivl_sigbatch_flush(b);
    *rc_out = rc;
    *bad_out = ivl_sigbatch_bad(b);
    ivl_sigbatch_free(b);
}

static void test_sigbatch(void **state)
{
    (void)state;
    struct key k[3];
    make_keys(k, 3);
    uint64_t bad;
    int rc;
    run_batch(k, 2100, 2900, &bad, &rc);
    assert_int_equal(rc, IVL_E_BAD_SIG);
    assert_int_equal(bad, 2100);
    run_batch(k, -1, -1, &bad, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(bad, UINT64_MAX);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    ivl_edcache_free(ivl_edcache_new()); /* the constants */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_encoding),    cmocka_unit_test(test_base_multiples),
        cmocka_unit_test(test_valid_and_altered), cmocka_unit_test(test_unreduced_s),
        cmocka_unit_test(test_small_order_r),     cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_switched_off),      cmocka_unit_test(test_sigbatch),
        cmocka_unit_test(test_sign_base_mul),     cmocka_unit_test(test_sign_select),
        cmocka_unit_test(test_sign_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
