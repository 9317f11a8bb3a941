/*
 * fuzz_uscc.c - Unified Social Credit Codes. A code passes the check
 * exactly when its 18th character is the check character of the first 17;
 * a wrong check character is reported as such, not as a format error.
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
    char *s = fuzz_cstr(data, size), c = 0;
    int rc = ivl_uscc_check(s);
    if (rc == 0 || rc == IVL_E_USCC_CHECK) {
        FUZZ_CHECK(strlen(s) == 18, "'%s' checked with %zu characters", s, strlen(s));
        int rc2 = ivl_uscc_check_char(s, &c);
        FUZZ_CHECK(rc2 == 0, "'%s': no check character for its first 17: %s", s,
                   ivl_err_detail(rc2));
        FUZZ_CHECK((rc == 0) == (c == s[17]), "'%s' %s but its check character is %c", s,
                   rc ? "fails the check" : "passes", c);
    } else {
        FUZZ_CHECK(rc == IVL_E_USCC_FORMAT, "'%s' gave %s", s, ivl_err_code(rc));
    }
    if (strlen(s) >= 17 && ivl_uscc_check_char(s, &c) == 0) {
        char full[19];
        memcpy(full, s, 17);
        full[17] = c;
        full[18] = 0;
        FUZZ_CHECK(ivl_uscc_check(full) == 0, "'%s' with its check character %c fails", full, c);
    }
    free(s);
    return 0;
}
