/*
 * fuzz_date.c - dates. A parsed date is the last second of that day in CST
 * and formats back to the input; the RFC 3339 form of that second parses to
 * the same time.
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
    char *s = fuzz_cstr(data, size), out[IVL_TIME_BUF];
    int64_t t, again;
    if (ivl_date_parse(s, &t) == 0) {
        FUZZ_CHECK((t + IVL_CST_OFFSET) % 86400 == 86399,
                   "date '%s' is not the day's last second: %lld", s, (long long)t);
        ivl_date_format(t, out, sizeof out);
        FUZZ_CHECK(!strcmp(out, s), "date '%s' formats as '%s'", s, out);
        ivl_time_format(t, out, sizeof out);
        FUZZ_CHECK(ivl_time_parse(out, &again) == 0 && again == t,
                   "date '%s' -> '%s' does not parse back", s, out);
    }
    free(s);
    return 0;
}
