/*
 * ct_sign.c - the signer of ledger/ed25519.c runs in constant time: run
 * under valgrind's memcheck (make ct), with the secret key's seed marked
 * undefined. Memcheck then reports every branch and every memory address
 * that depends on the seed, on anything derived from it (the expanded key,
 * the nonces, the digits that pick table entries), so a secret-dependent
 * branch or table index fails the run (valgrind --error-exitcode=1). The
 * signatures themselves are public and are marked defined before use.
 *
 * Tried: an `if (abs == 0)` in select_ct makes memcheck report "Conditional
 * jump or move depends on uninitialised value(s)" there.
 */
#include "ed25519.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#define N 40 /* more than one group of 32 */

int main(void)
{
    static uint8_t msg[N][120];
    const uint8_t *m[N];
    size_t len[N];
    uint8_t pk[32], sk[64], sig[N][64], want[64];
    if (sodium_init() < 0) return 1;
    /* the table and the comparison with libsodium, on no secret of ours */
    if (ivl_ed25519_sign_prepare()) {
        fprintf(stderr, "ct_sign: the fast signer is off\n");
        return 1;
    }
    for (int i = 0; i < N; i++) {
        memset(msg[i], 'a' + i % 26, sizeof msg[i]);
        m[i] = msg[i];
        len[i] = (size_t)(i * 3);
    }
    for (int k = 0; k < 3; k++) {
        crypto_sign_keypair(pk, sk);
        VALGRIND_MAKE_MEM_UNDEFINED(sk, 32);
        int rc = ivl_ed25519_sign_many(sk, N, m, len, sig);
        VALGRIND_MAKE_MEM_DEFINED(sk, 32);
        VALGRIND_MAKE_MEM_DEFINED(sig, sizeof sig);
        if (rc) return 1;
        for (int i = 0; i < N; i++) {
            crypto_sign_detached(want, NULL, m[i], len[i], sk);
            if (memcmp(want, sig[i], 64)) {
                fprintf(stderr, "ct_sign: signature %d differs from libsodium's\n", i);
                return 1;
            }
        }
    }
    printf("ct_sign: %d signatures by 3 secret keys, no branch or address on a secret\n", 3 * N);
    return 0;
}
