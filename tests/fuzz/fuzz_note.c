/*
 * fuzz_note.c - signed notes (ivl_note_open) against a fixed set of known
 * keys: the Go and C2SP vector keys of ../shared/vectors and the log key of
 * the ledger that made the corpus. An opened note's text must be a valid
 * note text, and each key must verify alone exactly when it verified in the
 * set. Any input that is a valid note text is also signed with the
 * PeterNeumann vector key and must then open.
 */
#include "fuzz.h"
#include "fuzz_keys.h"
#include "note.h"

#include <sodium.h>

static const char *const vkeys[] = {
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
    "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT",
    "bananas+cf639f13+AaPjhFnPCQnid/Ql32KWhmh+uk72FVRfK+2DLmO3BI3M",
    "witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN",
    "localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6",
    FUZZ_PROOF_VKEY,
};
#define NKEYS (sizeof vkeys / sizeof vkeys[0])
static struct ivl_vkey keys[NKEYS];
static uint8_t peter_sk[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const uint8_t seed[32] = {0x81, 0x0a, 0x14, 0x02, 0xd5, 0x14, 0x6c, 0x8d,
                                     0x84, 0xf2, 0x44, 0x33, 0x30, 0xf5, 0x40, 0x80,
                                     0xeb, 0xf9, 0x8e, 0xe1, 0x7d, 0x9c, 0x74, 0xf6,
                                     0x25, 0x2f, 0xc5, 0xd5, 0xc7, 0x28, 0x31, 0x73};
    uint8_t pk[32];
    (void)argc;
    (void)argv;
    if (sodium_init() < 0) abort();
    for (size_t i = 0; i < NKEYS; i++)
        if (ivl_vkey_parse(vkeys[i], strlen(vkeys[i]), &keys[i])) abort();
    crypto_sign_seed_keypair(pk, peter_sk, seed);
    if (memcmp(pk, keys[0].pub, 32)) abort();
    return 0;
}

static void check_opened(const char *note, size_t len, size_t tl, uint32_t mask)
{
    FUZZ_CHECK(tl > 0 && tl < len && note[tl - 1] == '\n' && note[tl] == '\n',
               "text length %zu does not end before the blank line", tl);
    FUZZ_CHECK(ivl_note_text_valid(note, tl) == 0, "opened note's text is not a valid note text");
    FUZZ_CHECK(mask != 0 && mask < (1u << NKEYS), "verified mask %#x", mask);
    for (size_t i = 0; i < NKEYS; i++) {
        size_t tl1;
        uint32_t m1;
        int rc = ivl_note_open(note, len, &keys[i], 1, &tl1, &m1);
        if (mask & (1u << i))
            FUZZ_CHECK(rc == 0 && tl1 == tl && m1 == 1,
                       "key %s verified in the set but not alone: %s", keys[i].name,
                       ivl_err_detail(rc));
        else
            FUZZ_CHECK(rc != 0, "key %s verified alone but not in the set", keys[i].name);
    }
}

/* Signs a valid note text with the PeterNeumann key; the note must open. */
static void sign_and_open(const char *text, size_t len)
{
    char line[IVL_NOTE_SIGLINE_MAX + 1];
    int rc = ivl_note_sign_line(text, len, keys[0].name, peter_sk, line, sizeof line);
    FUZZ_CHECK(rc == 0, "a valid note text cannot be signed: %s", ivl_err_detail(rc));
    size_t ll = strlen(line), n = len + 1 + ll, tl;
    uint32_t mask;
    char *note = malloc(n);
    if (!note) abort();
    memcpy(note, text, len);
    note[len] = '\n';
    memcpy(note + len + 1, line, ll);
    rc = ivl_note_open(note, n, keys, NKEYS, &tl, &mask);
    FUZZ_CHECK(rc == 0 && tl == len && (mask & 1), "a note we signed does not open: %s",
               ivl_err_detail(rc));
    free(note);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *note = (const char *)data;
    size_t tl;
    uint32_t mask;
    if (ivl_note_open(note, size, keys, NKEYS, &tl, &mask) == 0) check_opened(note, size, tl, mask);
    if (ivl_note_text_valid(note, size) == 0) sign_and_open(note, size);
    return 0;
}
