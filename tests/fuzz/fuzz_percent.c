/*
 * fuzz_percent.c - coverage ratios. parse -> format -> parse must give the
 * same value, within (0, 100%].
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
    char *s = fuzz_cstr(data, size), out[IVL_PERCENT_BUF];
    uint32_t bp, again;
    if (ivl_percent_parse(s, &bp) == 0) {
        FUZZ_CHECK(bp >= 1 && bp <= 10000, "ratio '%s' parsed as %u", s, bp);
        ivl_percent_format(bp, out, sizeof out);
        int rc = ivl_percent_parse(out, &again);
        FUZZ_CHECK(rc == 0 && again == bp, "'%s' -> %u -> '%s' does not parse back", s, bp, out);
    }
    free(s);
    return 0;
}
