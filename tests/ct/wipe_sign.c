/*
 * wipe_sign.c - the signer of ledger/ed25519.c leaves no secret on the
 * stack: after signing 40 messages, the 64 KiB below the caller's frame must
 * hold none of the 40 nonces, nor the clamped secret scalar, nor the nonce
 * prefix. Any one nonce gives away the key (a = (S - r) / k mod L), so a
 * copy left in a frame that later code or a core dump could read is a leak.
 * (libsodium's crypto_core_ed25519_scalar_add() keeps such a copy; the
 * signer does that addition itself. Put back, this test finds it.)
 *
 * Run natively by make ct, not under valgrind or a sanitizer (they move or
 * forbid reading the stack below the stack pointer), and linked with
 * -z now, so that the dynamic linker does not save vector registers that
 * still hold a nonce while it resolves a symbol during the scan.
 */
#include "ed25519.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define N    40
#define SPAN (64 * 1024)

static uint8_t msg[N][50], sig[N][64], sk[64], pk[32], snap[SPAN];
static const uint8_t *m[N];
static size_t len[N];

static __attribute__((noinline)) void clear_stack(void)
{
    uint8_t big[2 * SPAN];
    sodium_memzero(big, sizeof big);
}

static __attribute__((noinline)) int sign_it(void)
{
    return ivl_ed25519_sign_many(sk, N, m, len, sig);
}

/* The SPAN bytes below this function's frame (where sign_it's callees ran). */
static __attribute__((noinline)) void snapshot(void)
{
    const uint8_t *fp = __builtin_frame_address(0);
    memcpy(snap, fp - SPAN, SPAN);
}

static int found(const uint8_t pat[32])
{
    for (size_t i = 0; i + 32 <= SPAN; i++)
        if (!memcmp(snap + i, pat, 32)) return 1;
    return 0;
}

int main(void)
{
    uint8_t pub[32], az[64], h[64], r[32];
    int bad = 0;
    if (sodium_init() < 0 || ivl_ed25519_sign_prepare()) {
        fprintf(stderr, "wipe_sign: the fast signer is off\n");
        return 1;
    }
    crypto_sign_keypair(pub, sk);
    memcpy(pk, pub, 32);
    for (int i = 0; i < N; i++) {
        randombytes_buf(msg[i], sizeof msg[i]);
        m[i] = msg[i];
        len[i] = 10 + (size_t)i;
    }
    clear_stack();
    if (sign_it()) return 1;
    snapshot();
    crypto_hash_sha512(az, sk, 32);
    az[0] &= 248, az[31] &= 127, az[31] |= 64;
    if (found(az)) fprintf(stderr, "wipe_sign: the secret scalar is on the stack\n"), bad = 1;
    if (found(az + 32)) fprintf(stderr, "wipe_sign: the nonce prefix is on the stack\n"), bad = 1;
    for (int i = 0; i < N; i++) {
        crypto_hash_sha512_state s;
        crypto_hash_sha512_init(&s);
        crypto_hash_sha512_update(&s, az + 32, 32);
        crypto_hash_sha512_update(&s, m[i], len[i]);
        crypto_hash_sha512_final(&s, h);
        crypto_core_ed25519_scalar_reduce(r, h);
        if (found(r))
            fprintf(stderr, "wipe_sign: the nonce of signature %d is on the stack\n", i), bad = 1;
    }
    sodium_memzero(az, sizeof az);
    if (!bad)
        printf("wipe_sign: no nonce or key left in the %d KiB below the caller\n", SPAN / 1024);
    return bad;
}
