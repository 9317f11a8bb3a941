/*
 * fuzz_request.c - the redemption request file parser. A request that
 * parses must format back to exactly the input bytes.
 */
#include "fuzz.h"
#include "entry.h"
#include "request.h"

#include <sodium.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return sodium_init() < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ivl_entry e;
    char origin[IVL_MAX_ORIGIN + 1], *text = NULL;
    if (ivl_request_parse((const char *)data, size, &e, origin)) return 0;
    FUZZ_CHECK(e.type == IVL_T_REDEEM && e.n_sigs >= 1 && e.n_sigs <= 2,
               "parsed request is not a redemption with 1 or 2 signatures (type %u, %u sigs)",
               e.type, e.n_sigs);
    int rc = ivl_request_format(origin, &e, &text);
    FUZZ_CHECK(rc == 0, "parsed request does not format: %s", ivl_err_detail(rc));
    FUZZ_CHECK(strlen(text) == size && memcmp(text, data, size) == 0,
               "re-formatted request differs (%zu bytes in, %zu out)", size, strlen(text));
    free(text);
    ivl_entry_free(&e);
    return 0;
}
