/*
 * fuzz_body.c - the body decoder (what parties sign). Accepted bytes must
 * re-encode identically. A decoded redemption is also written as a request
 * file with one made-up signature and read back, which must give the same
 * body again (the request file carries the body in base64, so the request
 * target alone rarely reaches a well-formed one).
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

static void request_round_trip(struct ivl_entry *e, const uint8_t *body, size_t len)
{
    struct ivl_entry back;
    char origin[IVL_MAX_ORIGIN + 1], *text = NULL;
    e->n_sigs = 1;
    memcpy(e->sigs[0].signer, "91140521MA00000018", IVL_USCC_LEN);
    memset(e->sigs[0].sig, 0xa5, sizeof e->sigs[0].sig);
    int rc = ivl_request_format("fuzz.example/ivl", e, &text);
    FUZZ_CHECK(rc == 0, "a decoded redemption cannot be formatted as a request: %s",
               ivl_err_detail(rc));
    rc = ivl_request_parse(text, strlen(text), &back, origin);
    FUZZ_CHECK(rc == 0, "a formatted request does not parse: %s\n%s", ivl_err_detail(rc), text);
    FUZZ_CHECK(!strcmp(origin, "fuzz.example/ivl") && back.n_sigs == 1 &&
                   !memcmp(back.sigs[0].sig, e->sigs[0].sig, sizeof e->sigs[0].sig),
               "request origin or signature changed");
    struct ivl_buf b = {0};
    rc = ivl_body_encode(&back, &b);
    FUZZ_CHECK(rc == 0 && b.len == len && !memcmp(b.p, body, len), "request changed the body");
    ivl_buf_free(&b);
    ivl_entry_free(&back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ivl_entry e;
    if (ivl_body_decode(data, size, &e)) return 0;
    struct ivl_buf b = {0};
    int rc = ivl_body_encode(&e, &b);
    FUZZ_CHECK(rc == 0, "decoded body does not re-encode: %s", ivl_err_detail(rc));
    FUZZ_CHECK(b.len == size && memcmp(b.p, data, size) == 0,
               "re-encoded body differs (%zu bytes in, %zu out)", size, b.len);
    ivl_buf_free(&b);
    if (e.type == IVL_T_REDEEM) request_round_trip(&e, data, size);
    ivl_entry_free(&e);
    return 0;
}
