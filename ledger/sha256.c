/*
 * sha256.c - SHA-256 (FIPS 180-4) for the Merkle tree's leaf and node
 * hashes, the one hash on the ledger's serial path: every append hashes its
 * leaf and the new nodes, and verify does it again for every entry.
 *
 * On x86-64 CPUs with the SHA extensions the compression function uses them
 * (the instruction sequence of Intel's white paper "New Instructions
 * Supporting the Secure Hash Algorithm on Intel Architecture Processors"),
 * about five times faster than libsodium's portable code; elsewhere it is
 * libsodium's crypto_hash_sha256. test_merkle checks the two agree on every
 * length up to 300 bytes and beyond, and runs the RFC 6962 vectors through
 * both.
 */
#include "sha256.h"

#include <sodium.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHANI 1
#endif

#ifdef HAVE_SHANI
static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static const uint32_t IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

/* Four rounds: group g of 16 uses message words Wc; it finishes the schedule
 * of the next group (Wn) from the previous one (Wp), then starts Wp's for
 * three groups on. */
#define GROUP(g, Wc, Wn, Wp)                                                                       \
    do {                                                                                           \
        msg = _mm_add_epi32(Wc, _mm_loadu_si128((const __m128i *)&K256[4 * (g)]));                 \
        s1 = _mm_sha256rnds2_epu32(s1, s0, msg);                                                   \
        if ((g) >= 3 && (g) <= 14)                                                                 \
            Wn = _mm_sha256msg2_epu32(_mm_add_epi32(Wn, _mm_alignr_epi8(Wc, Wp, 4)), Wc);          \
        msg = _mm_shuffle_epi32(msg, 0x0E);                                                        \
        s0 = _mm_sha256rnds2_epu32(s0, s1, msg);                                                   \
        if ((g) >= 1 && (g) <= 12) Wp = _mm_sha256msg1_epu32(Wp, Wc);                              \
    } while (0)

__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_ni(uint32_t h[8], const uint8_t *p,
                                                                  size_t n)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);  /* CDAB */
    __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B); /* EFGH */
    __m128i s0 = _mm_alignr_epi8(t, s1, 8);                                        /* ABEF */
    s1 = _mm_blend_epi16(s1, t, 0xF0);                                             /* CDGH */
    for (; n; n--, p += 64) {
        __m128i abef = s0, cdgh = s1, msg;
        __m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
        __m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
        __m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
        __m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
        GROUP(0, w0, w1, w3);
        GROUP(1, w1, w2, w0);
        GROUP(2, w2, w3, w1);
        GROUP(3, w3, w0, w2);
        GROUP(4, w0, w1, w3);
        GROUP(5, w1, w2, w0);
        GROUP(6, w2, w3, w1);
        GROUP(7, w3, w0, w2);
        GROUP(8, w0, w1, w3);
        GROUP(9, w1, w2, w0);
        GROUP(10, w2, w3, w1);
        GROUP(11, w3, w0, w2);
        GROUP(12, w0, w1, w3);
        GROUP(13, w1, w2, w0);
        GROUP(14, w2, w3, w1);
        GROUP(15, w3, w0, w2);
        s0 = _mm_add_epi32(s0, abef);
        s1 = _mm_add_epi32(s1, cdgh);
    }
    t = _mm_shuffle_epi32(s0, 0x1B);                                  /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xB1);                                 /* DCHG */
    _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, s1, 0xF0)); /* DCBA */
    _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(s1, t, 8));    /* HGFE */
}

/* SSSE3 and SSE4.1 as libsodium found them in sodium_init() (none before
 * it, so the portable code runs), then the SHA bit: CPUID traps to the
 * hypervisor on a virtual machine, several microseconds a call here. */
static int cpu_has_shani(void)
{
    unsigned a, b, c, d;
    if (!sodium_runtime_has_ssse3() || !sodium_runtime_has_sse41()) return 0;
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 29) & 1; /* CPUID.(EAX=7,ECX=0):EBX.SHA[bit 29] */
}
#endif

/* -1 until the CPU is asked; written once with the same value by any thread. */
static int accel = -1;

int ivl_sha256_accel(int set)
{
    int have = 0;
#ifdef HAVE_SHANI
    have = cpu_has_shani();
#endif
    int v = set < 0 ? have : set && have;
    if (set >= 0 || __atomic_load_n(&accel, __ATOMIC_RELAXED) < 0)
        __atomic_store_n(&accel, v, __ATOMIC_RELAXED);
    return __atomic_load_n(&accel, __ATOMIC_RELAXED);
}

static void portable(uint8_t prefix, const void *data, size_t len, uint8_t out[32])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    crypto_hash_sha256_update(&st, data, len);
    crypto_hash_sha256_final(&st, out);
}

#ifndef HAVE_SHANI
void ivl_sha256_prefixed(uint8_t prefix, const void *data, size_t len, uint8_t out[32])
{
    portable(prefix, data, len, out);
}
#else

void ivl_sha256_prefixed(uint8_t prefix, const void *data, size_t len, uint8_t out[32])
{
    int a = __atomic_load_n(&accel, __ATOMIC_RELAXED);
    if (a < 0) a = ivl_sha256_accel(-1);
    if (!a) {
        portable(prefix, data, len, out);
        return;
    }
    const uint8_t *p = data;
    uint8_t buf[128];
    uint32_t h[8];
    uint64_t bits = ((uint64_t)len + 1) * 8;
    memcpy(h, IV, sizeof h);
    /* The prefix and the first 63 bytes, then whole blocks in place. */
    size_t first = len < 63 ? len : 63, fill;
    buf[0] = prefix;
    if (first) memcpy(buf + 1, p, first);
    p += first;
    len -= first;
    fill = 1 + first;
    if (fill == 64) {
        blocks_ni(h, buf, 1);
        fill = 0;
        if (len >= 64) {
            blocks_ni(h, p, len / 64);
            p += len & ~(size_t)63;
            len &= 63;
        }
        if (len) memcpy(buf, p, len);
        fill = len;
    }
    /* Padding: 0x80, zeros, the length in bits, big-endian; one or two blocks. */
    buf[fill++] = 0x80;
    size_t end = fill <= 56 ? 64 : 128;
    memset(buf + fill, 0, end - 8 - fill);
    for (int i = 0; i < 8; i++)
        buf[end - 1 - i] = (uint8_t)(bits >> (8 * i));
    blocks_ni(h, buf, end / 64);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}
#endif
