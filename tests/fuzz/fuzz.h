/*
 * fuzz.h - shared by the libFuzzer targets in tests/fuzz/ (one target per
 * file, built and run by tests/fuzz/fuzz.mk).
 *
 * FUZZ_CHECK states an invariant: when it does not hold the target prints
 * what it expected and aborts, which libFuzzer reports as a crash and saves
 * the input. Targets never trust the library's own self-checks: a decoder
 * that accepts bytes must give them back unchanged when re-encoded.
 */
#ifndef IVL_FUZZ_H
#define IVL_FUZZ_H

#include "err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "\nFUZZ INVARIANT FAILED at %s:%d: %s\n  ", __FILE__, __LINE__,        \
                    #cond);                                                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The input as a malloc'd NUL-terminated string (it may hold earlier NULs,
 * which end the string as the parsers see it). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = 0;
    return s;
}

/* Known product bugs (see tests/fuzz/crashes/README) stop a target at once.
 * Building with -DFUZZ_SKIP_KNOWN (make fuzz FUZZ_DEFS=-DFUZZ_SKIP_KNOWN)
 * skips exactly those inputs so that fuzzing can go past them; without it
 * the targets stay strict and keep failing until the bugs are fixed. */
#ifdef FUZZ_SKIP_KNOWN
#define FUZZ_KNOWN_BUG(cond) (cond)
#else
#define FUZZ_KNOWN_BUG(cond) 0
#endif

/* 1 if s[0..n) holds a byte >= 0x80: libsodium 1.0.18 decodes each such
 * byte as the base64 digit '/' (known bug: base64-high-bytes). */
static inline int fuzz_has_high_byte(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
