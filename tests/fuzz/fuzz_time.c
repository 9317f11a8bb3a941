/*
 * fuzz_time.c - RFC 3339 times. parse -> format (CST) -> parse must give the
 * same second, and the formatted text must be canonical (format of the
 * re-parse is the same text).
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
    char *s = fuzz_cstr(data, size), out[IVL_TIME_BUF], out2[IVL_TIME_BUF], human[IVL_TIME_BUF];
    int64_t t, again;
    /* Known bug time-year-range: times whose CST year is outside 0000..9999
     * format as "10000-..." or "-001-...", which do not parse. */
    if (ivl_time_parse(s, &t) == 0 && !FUZZ_KNOWN_BUG(t < -62167248000LL || t > 253402271999LL)) {
        ivl_time_format(t, out, sizeof out);
        int rc = ivl_time_parse(out, &again);
        FUZZ_CHECK(rc == 0 && again == t, "'%s' -> %lld -> '%s' does not parse back (%s)", s,
                   (long long)t, out, rc ? ivl_err_detail(rc) : "other time");
        ivl_time_format(again, out2, sizeof out2);
        FUZZ_CHECK(!strcmp(out, out2), "'%s' formats as '%s' then '%s'", s, out, out2);
        ivl_time_format_human(t, human, sizeof human);
        FUZZ_CHECK(!strncmp(human, out, 10) && !strncmp(human + 11, out + 11, 8),
                   "human form '%s' differs from '%s'", human, out);
    }
    free(s);
    return 0;
}
