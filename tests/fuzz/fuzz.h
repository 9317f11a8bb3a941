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
            fprintf(stderr, "\nFUZZ INVARIANT FAILED at %s:%d: %s\n  ", __FILE__, __LINE__, #cond); \
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
