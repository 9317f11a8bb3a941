/*
 * fuzz_ed25519.c - the table-driven signature check (ledger/ed25519.c)
 * against libsodium's crypto_sign_verify_detached(): for every input the two
 * verdicts must be the same, and the tables must never have been turned off
 * by a disagreement. Four fixed keys have tables from the start.
 *
 * Input: byte 0 picks the key (low 2 bits) and the mode (bit 2):
 *   mode 0: bytes 1-64 are the signature, the rest the message;
 *   mode 1: the rest from byte 9 is the message, signed with the key, then
 *           up to four bits of the signature are flipped, each named by a
 *           pair of bytes among 1-8 (9 bits of position, a bit to apply);
 *   bit 3 set (any mode): the signer instead. Bytes 1-32 are a seed, the
 *           rest is cut into up to 40 messages at the bytes equal to byte
 *           33; ivl_ed25519_sign_many must sign them all as libsodium's
 *           crypto_sign_detached() does, byte for byte.
 */
#include "ed25519.h"
#include "fuzz.h"

#include <sodium.h>

#define NKEYS 4
static uint8_t pk[NKEYS][32], sk[NKEYS][64];
static struct ivl_edcache *cache;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0) abort();
    cache = ivl_edcache_new();
    if (!cache) abort();
    ivl_edcache_set_threshold(cache, 1);
    if (ivl_ed25519_sign_prepare()) abort();
    for (int i = 0; i < NKEYS; i++) {
        uint8_t seed[32] = {0}, sig[64], m[1] = {(uint8_t)i};
        seed[0] = (uint8_t)(0x40 + i);
        crypto_sign_seed_keypair(pk[i], sk[i], seed);
        crypto_sign_detached(sig, NULL, m, 1, sk[i]);
        /* the first builds the table, the second is checked both ways */
        for (int r = 0; r < 2; r++)
            if (ivl_ed25519_verify(cache, sig, m, 1, pk[i])) abort();
    }
    struct ivl_edcache_stats st;
    ivl_edcache_stats(cache, &st);
    if (st.tables != NKEYS || st.disabled) abort();
    return 0;
}

static int sign_case(const uint8_t *data, size_t size)
{
    enum { MAXM = 40 };
    uint8_t pub[32], sec[64], sigs[MAXM][64], want[64];
    const uint8_t *m[MAXM];
    size_t len[MAXM], n = 0;
    if (size < 34) return 0;
    crypto_sign_seed_keypair(pub, sec, data + 1);
    const uint8_t *p = data + 34, *end = data + size;
    while (n < MAXM) {
        const uint8_t *cut = memchr(p, data[33], (size_t)(end - p));
        m[n] = p;
        len[n++] = (size_t)((cut ? cut : end) - p);
        if (!cut) break;
        p = cut + 1;
    }
    FUZZ_CHECK(ivl_ed25519_sign_many(sec, n, m, len, sigs) == 0, "the fast signer is off");
    for (size_t i = 0; i < n; i++) {
        crypto_sign_detached(want, NULL, m[i], len[i], sec);
        FUZZ_CHECK(!memcmp(want, sigs[i], 64), "signature %zu of %zu differs from libsodium's", i,
                   n);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t sig[64];
    const uint8_t *m;
    size_t n;
    if (size < 1) return 0;
    if (data[0] & 8) return sign_case(data, size);
    int k = data[0] & 3;
    if (!(data[0] & 4)) {
        if (size < 65) return 0;
        memcpy(sig, data + 1, 64);
        m = data + 65;
        n = size - 65;
    } else {
        if (size < 9) return 0;
        m = data + 9;
        n = size - 9;
        crypto_sign_detached(sig, NULL, m, n, sk[k]);
        for (int i = 0; i < 4; i++) {
            unsigned lo = data[1 + 2 * i], hi = data[2 + 2 * i];
            unsigned bit = lo | (hi & 1u) << 8;
            if (hi & 2) sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    }
    int fast = ivl_ed25519_verify(cache, sig, m, n, pk[k]);
    int ref = crypto_sign_verify_detached(sig, m, n, pk[k]) ? -1 : 0;
    FUZZ_CHECK(fast == ref, "key %d: ivl_ed25519_verify says %d, libsodium %d", k, fast, ref);
    struct ivl_edcache_stats st;
    ivl_edcache_stats(cache, &st);
    FUZZ_CHECK(!st.disabled, "a table disagreed with libsodium");
    return 0;
}
