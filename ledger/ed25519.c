/*
 * ed25519.c - Ed25519 signature checks with per-key tables, and a signer
 * for batches (see ed25519.h).
 *
 * Field elements mod p = 2^255 - 19 are five 51-bit limbs multiplied with
 * 128-bit products; points are in extended twisted Edwards coordinates
 * (Hisil, Wong, Carter and Dawson, "Twisted Edwards Curves Revisited",
 * 2008), the formulas of the Ed25519 paper's reference code. The checks
 * work on public data only (keys, signatures, messages), so they need not
 * run in constant time; the signer at the end, which works on a secret key,
 * does (see "signing").
 *
 * A table holds k * 2^(16 q) * P for q = 0..15 and k = 1..8, in affine form
 * (y + x, y - x, 2 d x y). A scalar written in 64 signed digits of radix 16
 * (-8..8) is then a sum of 64 table entries, taken in four passes (digits
 * 4q + 3, 4q + 2, 4q + 1, 4q) with four doublings between passes: 12
 * doublings and at most 64 additions per scalar. The check computes
 * [s]B - [h]A with one such walk over both tables at once and compares the
 * encoding of the result with R.
 */
#include "ed25519.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SIZEOF_INT128__)
#define IVL_ED_FAST 1
#endif

#define THRESHOLD_DEFAULT 8    /* libsodium-accepted checks before a key gets a table */
#define TABLES_MAX        2048 /* 15.4 KiB each: at most about 31 MiB */
#define INDEX_SLOTS       4096 /* open addressing, twice TABLES_MAX */
#define COUNT_SLOTS       65536

struct keytab;

struct ivl_edcache {
    _Atomic(struct keytab *) index[INDEX_SLOTS];
    _Atomic uint64_t count[COUNT_SLOTS]; /* tag << 32 | uses */
    pthread_mutex_t mu;                  /* taken to add a table */
    atomic_uint tables;                  /* written under mu */
    unsigned threshold;
    atomic_int disabled;
    char pad0[64];
    atomic_uint_fast64_t fast; /* the two threads' counters on lines of their own */
    char pad1[64];
    atomic_uint_fast64_t fallback;
    char pad2[64];
};

#ifdef IVL_ED_FAST

static uint64_t load64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

__extension__ typedef unsigned __int128 u128;
typedef uint64_t fe[5];

/* The small helpers are always inlined: fe_mul and fe_sq pass five 128-bit
 * values to the reduction, which costs more as a call than it computes. */
#define INLINE static inline __attribute__((always_inline))

#define M51 ((UINT64_C(1) << 51) - 1)

/* --- field arithmetic mod 2^255 - 19 ---------------------------------- */

static void fe_set(fe h, uint64_t v)
{
    h[0] = v, h[1] = h[2] = h[3] = h[4] = 0;
}

static void fe_copy(fe h, const fe f)
{
    memcpy(h, f, sizeof(fe));
}

/* Limbs back below 2^51 (limb 0 below 2^51 + 2^17). */
INLINE void fe_carry(fe h)
{
    h[1] += h[0] >> 51, h[0] &= M51;
    h[2] += h[1] >> 51, h[1] &= M51;
    h[3] += h[2] >> 51, h[2] &= M51;
    h[4] += h[3] >> 51, h[3] &= M51;
    h[0] += 19 * (h[4] >> 51), h[4] &= M51;
}

/* Inputs of add, mul and sq have limbs below 2^53; fe_sub's g below
 * 4 (2^51 - 19) (a carried value, or a sum of two). */
INLINE void fe_add(fe h, const fe f, const fe g)
{
    for (int i = 0; i < 5; i++)
        h[i] = f[i] + g[i];
}

/* f - g + 4p, carried. */
INLINE void fe_sub(fe h, const fe f, const fe g)
{
    h[0] = f[0] + (UINT64_C(4) * (M51 - 18)) - g[0];
    for (int i = 1; i < 5; i++)
        h[i] = f[i] + UINT64_C(4) * M51 - g[i];
    fe_carry(h);
}

static void fe_neg(fe h, const fe f)
{
    fe z;
    fe_set(z, 0);
    fe_sub(h, z, f);
}

INLINE void fe_reduce128(fe h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
    r1 += (uint64_t)(r0 >> 51);
    r2 += (uint64_t)(r1 >> 51);
    r3 += (uint64_t)(r2 >> 51);
    r4 += (uint64_t)(r3 >> 51);
    uint64_t c = (uint64_t)(r4 >> 51);
    h[0] = ((uint64_t)r0 & M51) + 19 * c;
    h[1] = ((uint64_t)r1 & M51) + (h[0] >> 51);
    h[0] &= M51;
    h[2] = (uint64_t)r2 & M51;
    h[3] = (uint64_t)r3 & M51;
    h[4] = (uint64_t)r4 & M51;
}

static void fe_mul(fe h, const fe f, const fe g)
{
    uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
    uint64_t g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4];
    uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
    u128 r0 =
        (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
    u128 r1 =
        (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
    u128 r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
    u128 r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
    u128 r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
    fe_reduce128(h, r0, r1, r2, r3, r4);
}

static void fe_sq(fe h, const fe f)
{
    uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
    uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f2_2 = 2 * f2, f3_2 = 2 * f3;
    uint64_t f3_19 = 19 * f3, f4_19 = 19 * f4;
    u128 r0 = (u128)f0 * f0 + (u128)f1_2 * f4_19 + (u128)f2_2 * f3_19;
    u128 r1 = (u128)f0_2 * f1 + (u128)f2_2 * f4_19 + (u128)f3 * f3_19;
    u128 r2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)f3_2 * f4_19;
    u128 r3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4 * f4_19;
    u128 r4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
    fe_reduce128(h, r0, r1, r2, r3, r4);
}

static void fe_sqn(fe h, const fe f, int n)
{
    fe_sq(h, f);
    while (--n > 0)
        fe_sq(h, h);
}

/* The low 255 bits of s (bit 255 is ignored, as Ed25519 decoding does). */
static void fe_frombytes(fe h, const uint8_t s[32])
{
    uint64_t x0 = load64(s), x1 = load64(s + 8), x2 = load64(s + 16), x3 = load64(s + 24);
    h[0] = x0 & M51;
    h[1] = (x0 >> 51 | x1 << 13) & M51;
    h[2] = (x1 >> 38 | x2 << 26) & M51;
    h[3] = (x2 >> 25 | x3 << 39) & M51;
    h[4] = (x3 >> 12) & M51;
}

/* The canonical encoding: the value reduced below p, little-endian. */
static void fe_tobytes(uint8_t s[32], const fe f)
{
    fe t;
    fe_copy(t, f);
    fe_carry(t);
    fe_carry(t);
    /* t < 2^255 + 2^17 (limb 0 may still be a little past 2^51): add 19, so
     * that the carry out of bit 255 says whether t >= p, and fold it back. */
    t[0] += 19;
    fe_carry(t);
    fe_carry(t);
    /* t + 19 reduced; now subtract 19 again, borrowing across 2^255. */
    t[0] += (M51 + 1) - 19;
    for (int i = 1; i < 5; i++)
        t[i] += M51;
    t[1] += t[0] >> 51, t[0] &= M51;
    t[2] += t[1] >> 51, t[1] &= M51;
    t[3] += t[2] >> 51, t[2] &= M51;
    t[4] += t[3] >> 51, t[3] &= M51;
    t[4] &= M51;
    uint64_t w[4] = {t[0] | t[1] << 51, t[1] >> 13 | t[2] << 38, t[2] >> 26 | t[3] << 25,
                     t[3] >> 39 | t[4] << 12};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 8; b++)
            s[8 * i + b] = (uint8_t)(w[i] >> (8 * b));
}

static int fe_isnegative(const fe f)
{
    uint8_t s[32];
    fe_tobytes(s, f);
    return s[0] & 1;
}

static int fe_iszero(const fe f)
{
    uint8_t s[32], z = 0;
    fe_tobytes(s, f);
    for (int i = 0; i < 32; i++)
        z |= s[i];
    return z == 0;
}

/* z^(2^250 - 1) and z^11, the common start of inversion and square roots. */
static void fe_pow2_250_1(fe out, fe z11, const fe z)
{
    fe t0, t1, t2;
    fe_sq(t0, z);        /* 2 */
    fe_sqn(t1, t0, 2);   /* 8 */
    fe_mul(t1, z, t1);   /* 9 */
    fe_mul(z11, t0, t1); /* 11 */
    fe_sq(t0, z11);      /* 22 */
    fe_mul(t0, t1, t0);  /* 2^5 - 1 */
    fe_sqn(t1, t0, 5);   /* 2^10 - 2^5 */
    fe_mul(t0, t1, t0);  /* 2^10 - 1 */
    fe_sqn(t1, t0, 10);  /* 2^20 - 2^10 */
    fe_mul(t1, t1, t0);  /* 2^20 - 1 */
    fe_sqn(t2, t1, 20);  /* 2^40 - 2^20 */
    fe_mul(t1, t2, t1);  /* 2^40 - 1 */
    fe_sqn(t1, t1, 10);  /* 2^50 - 2^10 */
    fe_mul(t0, t1, t0);  /* 2^50 - 1 */
    fe_sqn(t1, t0, 50);  /* 2^100 - 2^50 */
    fe_mul(t1, t1, t0);  /* 2^100 - 1 */
    fe_sqn(t2, t1, 100); /* 2^200 - 2^100 */
    fe_mul(t1, t2, t1);  /* 2^200 - 1 */
    fe_sqn(t1, t1, 50);  /* 2^250 - 2^50 */
    fe_mul(out, t1, t0); /* 2^250 - 1 */
}

/* z^(p - 2) = 1/z. */
static void fe_invert(fe out, const fe z)
{
    fe t, z11;
    fe_pow2_250_1(t, z11, z);
    fe_sqn(t, t, 5);     /* 2^255 - 2^5 */
    fe_mul(out, t, z11); /* 2^255 - 21 */
}

/* z^((p - 5) / 8) = z^(2^252 - 3). */
static void fe_pow22523(fe out, const fe z)
{
    fe t, z11;
    fe_pow2_250_1(t, z11, z);
    fe_sqn(t, t, 2);   /* 2^252 - 4 */
    fe_mul(out, t, z); /* 2^252 - 3 */
}

/* --- the curve -x^2 + y^2 = 1 + d x^2 y^2 -------------------------------- */

typedef struct {
    fe X, Y, Z;
} ge_p2; /* x = X/Z, y = Y/Z */
typedef struct {
    fe X, Y, Z, T;
} ge_p3; /* and XY = ZT */
typedef struct {
    fe X, Y, Z, T;
} ge_p1p1; /* x = X/Z, y = Y/T */
typedef struct {
    fe yplusx, yminusx, xy2d;
} ge_precomp; /* affine */
typedef struct {
    fe YplusX, YminusX, Z, T2d;
} ge_cached;

#define ROWS 16 /* rows 2^16 apart: digits 4q + r of a 64-digit scalar */

struct keytab {
    uint8_t pk[32];
    atomic_int checked; /* the first fast check was also made by libsodium */
    ge_precomp t[ROWS][8];
};

static struct {
    fe d, d2, sqrtm1;
    struct keytab base; /* B's table (pk: B's encoding) */
    ge_p3 B;
    int ok; /* the constants passed their self-checks */
} K;

static void p1p1_to_p2(ge_p2 *r, const ge_p1p1 *p)
{
    fe_mul(r->X, p->X, p->T);
    fe_mul(r->Y, p->Y, p->Z);
    fe_mul(r->Z, p->Z, p->T);
}

static void p1p1_to_p3(ge_p3 *r, const ge_p1p1 *p)
{
    fe_mul(r->X, p->X, p->T);
    fe_mul(r->Y, p->Y, p->Z);
    fe_mul(r->Z, p->Z, p->T);
    fe_mul(r->T, p->X, p->Y);
}

static void p3_to_p2(ge_p2 *r, const ge_p3 *p)
{
    fe_copy(r->X, p->X);
    fe_copy(r->Y, p->Y);
    fe_copy(r->Z, p->Z);
}

static void p3_to_cached(ge_cached *r, const ge_p3 *p)
{
    fe_add(r->YplusX, p->Y, p->X);
    fe_sub(r->YminusX, p->Y, p->X);
    fe_copy(r->Z, p->Z);
    fe_mul(r->T2d, p->T, K.d2);
}

static void ge_identity(ge_p3 *h)
{
    fe_set(h->X, 0);
    fe_set(h->Y, 1);
    fe_set(h->Z, 1);
    fe_set(h->T, 0);
}

/* r = 2p (a = -1: dbl-2008-hwcd, all four coordinates negated). */
static void ge_dbl(ge_p1p1 *r, const ge_p2 *p)
{
    fe t0;
    fe_sq(r->X, p->X);
    fe_sq(r->Z, p->Y);
    fe_sq(r->T, p->Z);
    fe_add(r->T, r->T, r->T);
    fe_add(r->Y, p->X, p->Y);
    fe_sq(t0, r->Y);
    fe_add(r->Y, r->Z, r->X);
    fe_sub(r->Z, r->Z, r->X);
    fe_sub(r->X, t0, r->Y);
    fe_sub(r->T, r->T, r->Z);
}

/* r = p + q (add-2008-hwcd-3). */
static void ge_add(ge_p1p1 *r, const ge_p3 *p, const ge_cached *q)
{
    fe t0;
    fe_add(r->X, p->Y, p->X);
    fe_sub(r->Y, p->Y, p->X);
    fe_mul(r->Z, r->X, q->YplusX);
    fe_mul(r->Y, r->Y, q->YminusX);
    fe_mul(r->T, q->T2d, p->T);
    fe_mul(r->X, p->Z, q->Z);
    fe_add(t0, r->X, r->X);
    fe_sub(r->X, r->Z, r->Y);
    fe_add(r->Y, r->Z, r->Y);
    fe_add(r->Z, t0, r->T);
    fe_sub(r->T, t0, r->T);
}

/* r = p + q for an affine q, or r = p - q when neg: -q has y + x and y - x
 * swapped and 2dxy negated. */
static void ge_madd(ge_p1p1 *r, const ge_p3 *p, const ge_precomp *q, int neg)
{
    fe t0;
    fe_add(r->X, p->Y, p->X);
    fe_sub(r->Y, p->Y, p->X);
    fe_mul(r->Z, r->X, neg ? q->yminusx : q->yplusx);
    fe_mul(r->Y, r->Y, neg ? q->yplusx : q->yminusx);
    fe_mul(r->T, q->xy2d, p->T);
    fe_add(t0, p->Z, p->Z);
    fe_sub(r->X, r->Z, r->Y);
    fe_add(r->Y, r->Z, r->Y);
    if (neg) {
        fe_sub(r->Z, t0, r->T);
        fe_add(r->T, t0, r->T);
    } else {
        fe_add(r->Z, t0, r->T);
        fe_sub(r->T, t0, r->T);
    }
}

static void ge_tobytes(uint8_t s[32], const ge_p2 *h)
{
    fe recip, x, y;
    fe_invert(recip, h->Z);
    fe_mul(x, h->X, recip);
    fe_mul(y, h->Y, recip);
    fe_tobytes(s, y);
    s[31] ^= (uint8_t)(fe_isnegative(x) << 7);
}

/* The point with encoding s; -1 if y has no x on the curve. */
static int ge_frombytes(ge_p3 *h, const uint8_t s[32])
{
    fe u, v, v3, vxx, chk;
    fe_frombytes(h->Y, s);
    fe_set(h->Z, 1);
    fe_sq(u, h->Y);
    fe_mul(v, u, K.d);
    fe_sub(u, u, h->Z); /* y^2 - 1 */
    fe_add(v, v, h->Z); /* d y^2 + 1 */
    fe_sq(v3, v);
    fe_mul(v3, v3, v); /* v^3 */
    fe_sq(h->X, v3);
    fe_mul(h->X, h->X, v);
    fe_mul(h->X, h->X, u); /* u v^7 */
    fe_pow22523(h->X, h->X);
    fe_mul(h->X, h->X, v3);
    fe_mul(h->X, h->X, u); /* u v^3 (u v^7)^((p-5)/8) */
    fe_sq(vxx, h->X);
    fe_mul(vxx, vxx, v);
    fe_sub(chk, vxx, u);
    if (!fe_iszero(chk)) {
        fe_add(chk, vxx, u);
        if (!fe_iszero(chk)) return -1;
        fe_mul(h->X, h->X, K.sqrtm1);
    }
    if (fe_isnegative(h->X) != (s[31] >> 7)) fe_neg(h->X, h->X);
    fe_mul(h->T, h->X, h->Y);
    return 0;
}

/* p, doubled n times, as p2 (n >= 1). */
static void ge_dbln(ge_p2 *r, const ge_p2 *p, int n)
{
    ge_p1p1 t;
    ge_dbl(&t, p);
    p1p1_to_p2(r, &t);
    while (--n > 0) {
        ge_dbl(&t, r);
        p1p1_to_p2(r, &t);
    }
}

/* zinv[i] = 1 / p[i].Z for n >= 1 points, with one inversion for all
 * (Montgomery's trick): zinv first holds the running products. */
static void invert_z(fe *zinv, const ge_p3 *p, size_t n)
{
    fe inv;
    fe_copy(zinv[0], p[0].Z);
    for (size_t i = 1; i < n; i++)
        fe_mul(zinv[i], zinv[i - 1], p[i].Z);
    fe_invert(inv, zinv[n - 1]);
    for (size_t i = n - 1; i > 0; i--) {
        fe_mul(zinv[i], inv, zinv[i - 1]);
        fe_mul(inv, inv, p[i].Z);
    }
    fe_copy(zinv[0], inv);
}

/* Fills tab[0..rows) with k 2^(shift q) P for k = 1..8, affine. Returns -1
 * on allocation failure. */
static int table_build(ge_precomp (*tab)[8], int rows, int shift, const ge_p3 *P)
{
    ge_p3 *pt = malloc(sizeof(ge_p3) * (size_t)rows * 8);
    fe *acc = malloc(sizeof(fe) * (size_t)rows * 8);
    if (!pt || !acc) {
        free(pt);
        free(acc);
        return -1;
    }
    ge_p3 base = *P;
    for (int q = 0; q < rows; q++) {
        ge_cached c;
        ge_p1p1 t;
        p3_to_cached(&c, &base);
        pt[8 * q] = base;
        for (int k = 1; k < 8; k++) {
            ge_add(&t, &pt[8 * q + k - 1], &c);
            p1p1_to_p3(&pt[8 * q + k], &t);
        }
        if (q + 1 < rows) { /* base = 2^shift base */
            ge_p2 b;
            p3_to_p2(&b, &base);
            ge_dbln(&b, &b, shift - 1);
            ge_dbl(&t, &b);
            p1p1_to_p3(&base, &t);
        }
    }
    invert_z(acc, pt, (size_t)rows * 8);
    for (int i = 0; i < rows * 8; i++) {
        fe x, y;
        ge_precomp *e = &tab[i / 8][i % 8];
        fe_mul(x, pt[i].X, acc[i]);
        fe_mul(y, pt[i].Y, acc[i]);
        fe_add(e->yplusx, y, x);
        fe_carry(e->yplusx);
        fe_sub(e->yminusx, y, x);
        fe_mul(e->xy2d, x, y);
        fe_mul(e->xy2d, e->xy2d, K.d2);
    }
    free(pt);
    free(acc);
    return 0;
}

/* 64 signed digits of radix 16, each in -8..8, for a < 2^255. */
static void recode(int8_t e[64], const uint8_t a[32])
{
    for (int i = 0; i < 32; i++) {
        e[2 * i] = (int8_t)(a[i] & 15);
        e[2 * i + 1] = (int8_t)(a[i] >> 4);
    }
    int8_t carry = 0;
    for (int i = 0; i < 63; i++) {
        e[i] = (int8_t)(e[i] + carry);
        carry = (int8_t)((e[i] + 8) >> 4);
        e[i] = (int8_t)(e[i] - carry * 16);
    }
    e[63] = (int8_t)(e[63] + carry);
}

static void add_digit(ge_p3 *acc, const ge_precomp row[8], int e)
{
    ge_p1p1 t;
    if (e == 0) return;
    ge_madd(&t, acc, &row[(e > 0 ? e : -e) - 1], e < 0);
    p1p1_to_p3(acc, &t);
}

/* r = [a]B - [b]P, P given by its table. */
static void double_comb(ge_p2 *r, const uint8_t a[32], const uint8_t b[32],
                        const ge_precomp tp[ROWS][8])
{
    int8_t ea[64], eb[64];
    recode(ea, a);
    recode(eb, b);
    ge_p3 acc;
    ge_identity(&acc);
    for (int pass = 3; pass >= 0; pass--) {
        for (int q = 0; q < ROWS; q++) {
            add_digit(&acc, K.base.t[q], ea[4 * q + pass]);
            add_digit(&acc, tp[q], -eb[4 * q + pass]);
        }
        if (pass > 0) {
            ge_p2 d;
            ge_p1p1 t;
            p3_to_p2(&d, &acc);
            ge_dbln(&d, &d, 3);
            ge_dbl(&t, &d);
            p1p1_to_p3(&acc, &t);
        }
    }
    p3_to_p2(r, &acc);
}

/* 8p is the identity: p is one of the eight points of small order. */
static int small_order(const ge_p2 *p)
{
    ge_p2 q;
    ge_dbln(&q, p, 3);
    return fe_iszero(q.X);
}

static pthread_once_t k_once = PTHREAD_ONCE_INIT;

static void constants_init(void)
{
    fe t, one;
    fe_set(one, 1);
    /* d = -121665 / 121666 */
    fe_set(t, 121666);
    fe_invert(t, t);
    fe_set(K.d, 121665);
    fe_mul(K.d, K.d, t);
    fe_neg(K.d, K.d);
    fe_add(K.d2, K.d, K.d);
    fe_carry(K.d2);
    /* sqrt(-1) = 2^((p - 1) / 4), (p - 1) / 4 = 2^253 - 5 */
    fe two, r;
    fe_set(two, 2);
    fe_set(r, 1);
    for (int bit = 252; bit >= 0; bit--) {
        fe_sq(r, r);
        int set = bit >= 3 || bit == 1 || bit == 0; /* 2^253 - 5 = 1...1011 */
        if (set) fe_mul(r, r, two);
    }
    fe_copy(K.sqrtm1, r);
    fe_sq(t, K.sqrtm1);
    fe_add(t, t, one);
    int ok = fe_iszero(t);
    /* B: y = 4/5, x even. */
    uint8_t enc[32];
    fe_set(t, 5);
    fe_invert(t, t);
    fe_set(r, 4);
    fe_mul(r, r, t);
    fe_tobytes(enc, r);
    ge_p3 B;
    ok = ok && ge_frombytes(&B, enc) == 0;
    uint8_t back[32];
    ge_p2 b2;
    if (ok) {
        p3_to_p2(&b2, &B);
        ge_tobytes(back, &b2);
        ok = !memcmp(back, enc, 32) && enc[0] == 0x58 && enc[31] == 0x66;
    }
    ok = ok && table_build(K.base.t, ROWS, 16, &B) == 0;
    if (ok) K.B = B;
    memcpy(K.base.pk, enc, 32);
    K.ok = ok;
}

/* 0 accept, -1 reject, 1 let libsodium decide (s >= 2^252, R of small
 * order: both rejected by it, but its rules, not a copy of them, decide). */
static int fast_verify(const struct keytab *k, const uint8_t sig[64], const uint8_t *m, size_t n)
{
    if (sig[63] & 0xf0) return 1;
    crypto_hash_sha512_state hs;
    uint8_t hh[64], h[32], rc[32];
    crypto_hash_sha512_init(&hs);
    crypto_hash_sha512_update(&hs, sig, 32);
    crypto_hash_sha512_update(&hs, k->pk, 32);
    crypto_hash_sha512_update(&hs, m, n);
    crypto_hash_sha512_final(&hs, hh);
    crypto_core_ed25519_scalar_reduce(h, hh);
    ge_p2 r;
    double_comb(&r, sig + 32, h, k->t);
    ge_tobytes(rc, &r);
    if (memcmp(rc, sig, 32) != 0) return -1;
    return small_order(&r) ? 1 : 0;
}

static struct keytab *key_build(const uint8_t pk[32])
{
    struct keytab *k = malloc(sizeof *k);
    ge_p3 A;
    ge_p2 a2;
    uint8_t back[32];
    if (!k) return NULL;
    memcpy(k->pk, pk, 32);
    atomic_init(&k->checked, 0);
    /* libsodium accepted a signature by pk, so pk decodes; decoding it again
     * must give back the same bytes. */
    if (ge_frombytes(&A, pk) != 0) goto bad;
    p3_to_p2(&a2, &A);
    ge_tobytes(back, &a2);
    if (memcmp(back, pk, 32) != 0 || table_build(k->t, ROWS, 16, &A) != 0) goto bad;
    return k;
bad:
    free(k);
    return NULL;
}

/* --- signing --------------------------------------------------------------
 * Everything below depends on a secret key and on the nonces derived from
 * it, so it runs in constant time: no branch and no memory address depends
 * on them. A digit's table entry is chosen by reading all eight entries of
 * its row and keeping one with masks, as libsodium's signing does. */

/* All ones when a == b, else 0. */
INLINE uint64_t ct_eq(uint64_t a, uint64_t b)
{
    uint64_t x = a ^ b;
    return ((x | (0 - x)) >> 63) - 1;
}

INLINE void fe_cmov(fe f, const fe g, uint64_t mask)
{
    for (int i = 0; i < 5; i++)
        f[i] ^= (f[i] ^ g[i]) & mask;
}

INLINE void fe_cswap(fe f, fe g, uint64_t mask)
{
    for (int i = 0; i < 5; i++) {
        uint64_t x = (f[i] ^ g[i]) & mask;
        f[i] ^= x;
        g[i] ^= x;
    }
}

/* For signing, B's multiples k 2^(8 q) B for q = 0..31, k = 1..8 (as
 * libsodium's): a scalar's odd digits, four doublings, its even digits. An
 * entry's fifteen limbs (y + x, y - x, 2dxy) are padded to sixteen, as eight
 * pairs that a constant-time selection reads and masks two limbs at a time. */
#define SROWS 32
typedef uint64_t v2u64 __attribute__((vector_size(16)));
static v2u64 sign_tab[SROWS][8][8];

/* Returns -1 on allocation failure. */
static int sign_tab_build(void)
{
    ge_precomp(*t)[8] = malloc(sizeof(ge_precomp[SROWS][8]));
    if (!t || table_build(t, SROWS, 8, &K.B) != 0) {
        free(t);
        return -1;
    }
    for (int q = 0; q < SROWS; q++)
        for (int k = 0; k < 8; k++) {
            uint64_t l[16] = {0};
            memcpy(l, t[q][k].yplusx, sizeof(fe));
            memcpy(l + 5, t[q][k].yminusx, sizeof(fe));
            memcpy(l + 10, t[q][k].xy2d, sizeof(fe));
            memcpy(sign_tab[q][k], l, sizeof l);
        }
    free(t);
    return 0;
}

/* t = e times the row's point: entry |e| - 1, negated when e < 0, the
 * identity when e = 0. Every entry is read; masks keep one. */
static void select_ct(ge_precomp *t, const v2u64 row[8][8], int8_t e)
{
    int64_t v = e;
    uint64_t negm = (uint64_t)(v >> 63);        /* all ones when e < 0 */
    uint64_t abs = ((uint64_t)v ^ negm) - negm; /* |e|, 0..8 */
    v2u64 a0 = {0}, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int k = 0; k < 8; k++) { /* eight variables: they stay in registers */
        uint64_t mk = ct_eq(abs, (uint64_t)k + 1);
        v2u64 m = {mk, mk};
        const v2u64 *r = row[k];
        a0 |= r[0] & m, a1 |= r[1] & m, a2 |= r[2] & m, a3 |= r[3] & m;
        a4 |= r[4] & m, a5 |= r[5] & m, a6 |= r[6] & m, a7 |= r[7] & m;
    }
    uint64_t l[16];
    v2u64 acc[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
    memcpy(l, acc, sizeof l);
    l[0] |= ct_eq(abs, 0) & 1; /* the identity: y + x = y - x = 1, 2dxy = 0 */
    l[5] |= ct_eq(abs, 0) & 1;
    memcpy(t->yplusx, l, sizeof(fe));
    memcpy(t->yminusx, l + 5, sizeof(fe));
    memcpy(t->xy2d, l + 10, sizeof(fe));
    fe minus;
    fe_neg(minus, t->xy2d);
    fe_cswap(t->yplusx, t->yminusx, negm);
    fe_cmov(t->xy2d, minus, negm);
}

/* acc = [a]B for a < 2^255: an addition for every digit (of the identity
 * for a 0 digit), the odd digits' first. */
static void base_mul_ct(ge_p3 *acc, const uint8_t a[32])
{
    int8_t e[64];
    ge_precomp t;
    ge_p1p1 r;
    ge_p2 d;
    recode(e, a);
    ge_identity(acc);
    for (int i = 1; i < 64; i += 2) {
        select_ct(&t, sign_tab[i / 2], e[i]);
        ge_madd(&r, acc, &t, 0);
        p1p1_to_p3(acc, &r);
    }
    p3_to_p2(&d, acc);
    ge_dbln(&d, &d, 3);
    ge_dbl(&r, &d);
    p1p1_to_p3(acc, &r);
    for (int i = 0; i < 64; i += 2) {
        select_ct(&t, sign_tab[i / 2], e[i]);
        ge_madd(&r, acc, &t, 0);
        p1p1_to_p3(acc, &r);
    }
    sodium_memzero(e, sizeof e);
    sodium_memzero(&t, sizeof t);
    sodium_memzero(&r, sizeof r);
    sodium_memzero(&d, sizeof d);
}

/* The encodings of n >= 1 points with one inversion for all; zinv is
 * scratch for n elements. */
static void encode_many(uint8_t (*out)[32], const ge_p3 *p, fe *zinv, size_t n)
{
    fe x, y;
    uint8_t xs[32];
    invert_z(zinv, p, n);
    for (size_t i = 0; i < n; i++) {
        fe_mul(x, p[i].X, zinv[i]);
        fe_mul(y, p[i].Y, zinv[i]);
        fe_tobytes(out[i], y);
        fe_tobytes(xs, x);
        out[i][31] ^= (uint8_t)((xs[0] & 1) << 7);
    }
}

#define SIGN_GROUP 32 /* nonces whose R share one inversion */

/* Ed25519 (RFC 8032 5.1.6) as crypto_sign_detached() computes it: r =
 * H(prefix || m) mod L, R = [r]B, S = (r + H(R || A || m) a) mod L. */
static void sign_group(const uint8_t az[64], const uint8_t pk[32], size_t n,
                       const uint8_t *const m[], const size_t len[], uint8_t (*sig)[64])
{
    uint8_t h[64], nonce[SIGN_GROUP][32], renc[SIGN_GROUP][32], k[32], ka[32], wide[64];
    ge_p3 R[SIGN_GROUP];
    fe zinv[SIGN_GROUP];
    crypto_hash_sha512_state hs;
    for (size_t i = 0; i < n; i++) {
        crypto_hash_sha512_init(&hs);
        crypto_hash_sha512_update(&hs, az + 32, 32);
        crypto_hash_sha512_update(&hs, m[i], len[i]);
        crypto_hash_sha512_final(&hs, h);
        crypto_core_ed25519_scalar_reduce(nonce[i], h);
        base_mul_ct(&R[i], nonce[i]);
    }
    encode_many(renc, R, zinv, n);
    for (size_t i = 0; i < n; i++) {
        crypto_hash_sha512_init(&hs);
        crypto_hash_sha512_update(&hs, renc[i], 32);
        crypto_hash_sha512_update(&hs, pk, 32);
        crypto_hash_sha512_update(&hs, m[i], len[i]);
        crypto_hash_sha512_final(&hs, h);
        crypto_core_ed25519_scalar_reduce(k, h);
        crypto_core_ed25519_scalar_mul(ka, k, az);
        memcpy(sig[i], renc[i], 32);
        /* S = (k a + r) mod L, added here rather than by
         * crypto_core_ed25519_scalar_add(), which leaves its copy of the
         * nonce on the stack (and the nonce gives away the key). Both
         * terms are below L < 2^253: no carry past 32 bytes. */
        memcpy(wide, ka, 32);
        memset(wide + 32, 0, 32);
        sodium_add(wide, nonce[i], 32);
        crypto_core_ed25519_scalar_reduce(sig[i] + 32, wide);
    }
    sodium_memzero(h, sizeof h);
    sodium_memzero(nonce, sizeof nonce);
    sodium_memzero(ka, sizeof ka);
    sodium_memzero(wide, sizeof wide);
    sodium_memzero(R, sizeof R);
    sodium_memzero(zinv, sizeof zinv);
    sodium_memzero(&hs, sizeof hs);
}

/* Zeroes the stack below the caller's frame, where sign_group and what it
 * called kept copies the explicit wipes cannot reach: the table entry
 * selected last (one digit of the last nonce), Z values, libsodium's
 * scalar temporaries. sign_group's frame is about 7 KiB. */
static __attribute__((noinline)) void scrub_stack(void)
{
    uint8_t b[32768];
    sodium_memzero(b, sizeof b);
}

static void sign_many(const uint8_t sk[64], size_t n, const uint8_t *const m[], const size_t len[],
                      uint8_t (*sig)[64])
{
    uint8_t az[64];
    crypto_hash_sha512(az, sk, 32);
    az[0] &= 248;
    az[31] &= 127;
    az[31] |= 64;
    for (size_t at = 0; at < n; at += SIGN_GROUP)
        sign_group(az, sk + 32, n - at < SIGN_GROUP ? n - at : SIGN_GROUP, m + at, len + at,
                   sig + at);
    sodium_memzero(az, sizeof az);
    scrub_stack();
}

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static atomic_int sign_ok; /* set once the table is built and checked */

/* Signs three messages with a fixed key both ways once per process: the
 * signer is used only when every byte agrees with libsodium's. */
static void sign_selfcheck(void)
{
    static const uint8_t msg[3][70] = {{0}, {0x72}, {"ivl: the fast signer agrees with libsodium"}};
    static const size_t lens[3] = {0, 1, 70};
    const uint8_t *m[3] = {msg[0], msg[1], msg[2]};
    uint8_t seed[32], pk[32], sk[64], mine[3][64], ref[64];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(7 * i + 1);
    int ok = K.ok && sign_tab_build() == 0 && crypto_sign_seed_keypair(pk, sk, seed) == 0;
    if (ok) sign_many(sk, 3, m, lens, mine);
    for (int i = 0; ok && i < 3; i++)
        ok = crypto_sign_detached(ref, NULL, m[i], lens[i], sk) == 0 && !memcmp(ref, mine[i], 64);
    sodium_memzero(sk, sizeof sk);
    atomic_store(&sign_ok, ok);
}

#endif /* IVL_ED_FAST */

struct ivl_edcache *ivl_edcache_new(void)
{
#ifdef IVL_ED_FAST
    pthread_once(&k_once, constants_init);
#endif
    struct ivl_edcache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
#if ATOMIC_POINTER_LOCK_FREE != 2 || ATOMIC_LLONG_LOCK_FREE != 2 || ATOMIC_INT_LOCK_FREE != 2
    for (int i = 0; i < INDEX_SLOTS; i++)
        atomic_init(&c->index[i], NULL);
    for (int i = 0; i < COUNT_SLOTS; i++)
        atomic_init(&c->count[i], 0);
#endif
    /* Lock-free atomics are plain words, so calloc's zeros are already the
     * empty index and counters: the 0.5 MiB of them is touched only where
     * keys fall, not page by page (about 0.4 ms) at the start of every
     * verification, whose first signatures wait for it. */
    atomic_init(&c->disabled, 0);
    atomic_init(&c->tables, 0);
    atomic_init(&c->fast, 0);
    atomic_init(&c->fallback, 0);
    c->threshold = THRESHOLD_DEFAULT;
    const char *off = getenv("IVL_NO_KEY_TABLES");
#ifdef IVL_ED_FAST
    if (!K.ok || (off && *off && strcmp(off, "0") != 0)) atomic_store(&c->disabled, 1);
#else
    (void)off;
    atomic_store(&c->disabled, 1);
#endif
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void ivl_edcache_free(struct ivl_edcache *c)
{
    if (!c) return;
    for (int i = 0; i < INDEX_SLOTS; i++)
        free(atomic_load(&c->index[i]));
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void ivl_edcache_set_threshold(struct ivl_edcache *c, unsigned uses)
{
    if (c) c->threshold = uses ? uses : 1;
}

void ivl_edcache_stats(const struct ivl_edcache *c, struct ivl_edcache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!c) return;
    out->fast = atomic_load(&c->fast);
    out->fallback = atomic_load(&c->fallback);
    out->disabled = atomic_load(&c->disabled);
    out->tables = atomic_load(&c->tables);
}

#ifdef IVL_ED_FAST
static struct keytab *lookup(struct ivl_edcache *c, const uint8_t pk[32])
{
    for (size_t s = load64(pk) & (INDEX_SLOTS - 1);; s = (s + 1) & (INDEX_SLOTS - 1)) {
        struct keytab *k = atomic_load_explicit(&c->index[s], memory_order_acquire);
        if (!k || !memcmp(k->pk, pk, 32)) return k;
    }
}

/* Counts a libsodium-accepted check by pk; returns the uses so far. */
static uint32_t count_use(struct ivl_edcache *c, const uint8_t pk[32])
{
    uint64_t tag = (load64(pk + 16) | 1) & 0xffffffffu;
    _Atomic uint64_t *slot = &c->count[load64(pk + 8) & (COUNT_SLOTS - 1)];
    uint64_t old = atomic_load_explicit(slot, memory_order_relaxed), nv;
    do
        nv = old >> 32 == tag ? old + 1 : (tag << 32 | 1);
    while (!atomic_compare_exchange_weak_explicit(slot, &old, nv, memory_order_relaxed,
                                                  memory_order_relaxed));
    return (uint32_t)nv;
}

static void insert(struct ivl_edcache *c, const uint8_t pk[32])
{
    if (atomic_load_explicit(&c->tables, memory_order_relaxed) >= TABLES_MAX) return;
    struct keytab *k = key_build(pk); /* outside the lock: it takes a while */
    if (!k) {
        /* Out of memory, or a key libsodium accepted that this code decodes
         * differently: either way, libsodium alone from now on. */
        atomic_store(&c->disabled, 1);
        return;
    }
    pthread_mutex_lock(&c->mu);
    size_t s = load64(pk) & (INDEX_SLOTS - 1);
    struct keytab *cur;
    while ((cur = atomic_load_explicit(&c->index[s], memory_order_relaxed)) &&
           memcmp(cur->pk, pk, 32))
        s = (s + 1) & (INDEX_SLOTS - 1);
    if (!cur && atomic_load_explicit(&c->tables, memory_order_relaxed) < TABLES_MAX) {
        atomic_store_explicit(&c->index[s], k, memory_order_release);
        atomic_fetch_add_explicit(&c->tables, 1, memory_order_relaxed);
        k = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    free(k); /* another thread built it first, or the cache is full */
}
#endif

int ivl_ed25519_verify(struct ivl_edcache *c, const uint8_t sig[64], const uint8_t *m, size_t n,
                       const uint8_t pk[32])
{
#ifdef IVL_ED_FAST
    if (c && !atomic_load_explicit(&c->disabled, memory_order_relaxed)) {
        struct keytab *k = lookup(c, pk);
        if (k) {
            int v = fast_verify(k, sig, m, n);
            if (v <= 0) {
                atomic_fetch_add_explicit(&c->fast, 1, memory_order_relaxed);
                if (atomic_exchange_explicit(&k->checked, 1, memory_order_relaxed)) return v;
                int ref = crypto_sign_verify_detached(sig, m, n, pk) ? -1 : 0;
                if (ref != v) atomic_store(&c->disabled, 1);
                return ref;
            }
        }
        atomic_fetch_add_explicit(&c->fallback, 1, memory_order_relaxed);
        if (crypto_sign_verify_detached(sig, m, n, pk)) return -1;
        if (!k && count_use(c, pk) >= c->threshold) insert(c, pk);
        return 0;
    }
#endif
    if (c) atomic_fetch_add_explicit(&c->fallback, 1, memory_order_relaxed);
    return crypto_sign_verify_detached(sig, m, n, pk) ? -1 : 0;
}

int ivl_ed25519_sign_prepare(void)
{
#ifdef IVL_ED_FAST
    pthread_once(&k_once, constants_init);
    pthread_once(&s_once, sign_selfcheck);
    return atomic_load(&sign_ok) ? 0 : -1;
#else
    return -1;
#endif
}

int ivl_ed25519_sign_many(const uint8_t sk[64], size_t n, const uint8_t *const m[],
                          const size_t len[], uint8_t (*sig)[64])
{
#ifdef IVL_ED_FAST
    const char *off = getenv("IVL_NO_FAST_SIGN");
    if (off && *off && strcmp(off, "0") != 0) return -1;
    if (!atomic_load_explicit(&sign_ok, memory_order_acquire)) return -1; /* not prepared */
    sign_many(sk, n, m, len, sig);
    return 0;
#else
    (void)sk, (void)n, (void)m, (void)len, (void)sig;
    return -1;
#endif
}
