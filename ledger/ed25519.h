/*
 * ed25519.h - Ed25519 signature checks with precomputed tables for the keys
 * that sign again and again.
 *
 * A ledger's signatures come from few keys: the bureau signs every issue and
 * approval, the finance bureau every payment, a provider each of its claims.
 * libsodium's crypto_sign_verify_detached() decodes the public key for every
 * call and computes [h](-A) + [s]B with 253 doublings. Once a key has signed
 * often enough, this module keeps a table of its multiples (as libsodium's
 * signing keeps one of the base point's), so that a check takes 12
 * doublings and at most 128 additions instead, and needs no square root.
 *
 * The verdict is libsodium's, bit for bit: a key gets a table only after
 * libsodium has accepted a signature by it (so the key passed libsodium's
 * checks of canonical encoding and small order, which depend on the key
 * alone), and for a signature the fast path accepts exactly when libsodium
 * would: s below 2^252 (anything else goes to libsodium), the encoding of
 * [s]B - [h]A equal to R byte for byte, and R not of small order. The first
 * check with each new table is made both ways; a disagreement turns the fast
 * path off for the process and libsodium's verdict stands. tests/test_ed25519
 * and tests/fuzz/fuzz_ed25519 compare the two on valid, altered and
 * edge-case signatures.
 *
 * Without 128-bit integers every check is libsodium's.
 *
 * The same arithmetic also signs many messages at once with one key
 * (ivl_ed25519_sign_many), for the batch commands.
 */
#ifndef IVL_ED25519_H
#define IVL_ED25519_H

#include <stddef.h>
#include <stdint.h>

/* A cache of key tables, shared by the threads that check signatures. */
struct ivl_edcache;

/* Returns NULL when out of memory (checks then use libsodium alone). */
struct ivl_edcache *ivl_edcache_new(void);
void ivl_edcache_free(struct ivl_edcache *c);

/* 0 if sig is a valid signature of m by pk, -1 if not: the verdict of
 * crypto_sign_verify_detached(). c may be NULL. Safe to call from several
 * threads on the same cache. */
int ivl_ed25519_verify(struct ivl_edcache *c, const uint8_t sig[64], const uint8_t *m, size_t n,
                       const uint8_t pk[32]);

/* For tests and the benchmark. */
struct ivl_edcache_stats {
    uint64_t fast;     /* checks made with a table */
    uint64_t fallback; /* checks left to libsodium */
    unsigned tables;   /* tables built */
    int disabled;      /* a table disagreed with libsodium */
};
void ivl_edcache_stats(const struct ivl_edcache *c, struct ivl_edcache_stats *out);

/* The number of libsodium-accepted checks after which a key gets a table
 * (default 8; 1 or 2 in tests). Set before the cache is used. */
void ivl_edcache_set_threshold(struct ivl_edcache *c, unsigned uses);

/* Builds the signer's table and compares the signer once with libsodium
 * (about half a millisecond, once per process). Returns 0 when the signer
 * is ready, -1 when it cannot be used (no 128-bit integers, out of memory,
 * or the comparison failed). Safe to call from several threads; the batch
 * commands call it on a signing thread while the rows are still being
 * made. */
int ivl_ed25519_sign_prepare(void);

/* Signs the n messages m[i] (len[i] bytes) with libsodium's 64-byte secret
 * key sk (seed || public key) into sig[i]: the signatures of
 * crypto_sign_detached(), byte for byte (Ed25519 is deterministic), in
 * about three quarters of its time: the multiples of B come from a table
 * laid out as libsodium's but read two limbs at a time in constant time,
 * the arithmetic is the checks' own, and the 32 signatures of a group
 * share one inversion. It runs in constant time in the key and the nonces
 * (make ct checks it under valgrind). Returns 0, or -1, having written
 * nothing, until ivl_ed25519_sign_prepare() has succeeded or when
 * IVL_NO_FAST_SIGN is set: the caller then signs with libsodium. Safe to
 * call from several threads. */
int ivl_ed25519_sign_many(const uint8_t sk[64], size_t n, const uint8_t *const m[],
                          const size_t len[], uint8_t (*sig)[64]);

#endif
