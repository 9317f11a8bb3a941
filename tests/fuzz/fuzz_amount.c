/*
 * fuzz_amount.c - amounts of money. parse -> format -> parse must give the
 * same fen, and the formatted text must be the input spelt with exactly two
 * decimals (the only spelling differences the grammar allows).
 */
#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), out[IVL_AMOUNT_BUF], want[IVL_AMOUNT_BUF + 4];
    uint64_t fen, again;
    if (ivl_amount_parse(s, &fen) == 0) {
        FUZZ_CHECK(fen <= IVL_AMOUNT_MAX, "amount '%s' parsed above the limit: %llu", s,
                   (unsigned long long)fen);
        ivl_amount_format(fen, out, sizeof out);
        int rc = ivl_amount_parse(out, &again);
        FUZZ_CHECK(rc == 0 && again == fen, "'%s' -> %llu -> '%s' does not parse back", s,
                   (unsigned long long)fen, out);
        size_t n = strlen(s);
        const char *dot = strchr(s, '.');
        FUZZ_CHECK(n < IVL_AMOUNT_BUF, "accepted amount of %zu characters", n);
        snprintf(want, sizeof want, "%s%s", s,
                 !dot                         ? ".00"
                 : (size_t)(s + n - dot) == 2 ? "0"
                                              : "");
        FUZZ_CHECK(!strcmp(out, want), "'%s' formats as '%s', expected '%s'", s, out, want);
    }
    free(s);
    return 0;
}
