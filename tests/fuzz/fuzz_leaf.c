/*
 * fuzz_leaf.c - the leaf decoder. The encoding is canonical, so whatever
 * ivl_leaf_decode() accepts must re-encode to the very same bytes, and the
 * body that ivl_leaf_body() finds in it must decode and re-encode alike.
 */
#include "fuzz.h"
#include "entry.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ivl_entry e, eb;
    const uint8_t *body;
    size_t body_len;
    int located = ivl_leaf_body(data, size, &body, &body_len) == 0;
    if (located)
        FUZZ_CHECK(body >= data && body_len <= size && (size_t)(body - data) <= size - body_len,
                   "ivl_leaf_body points outside the leaf");
    if (ivl_leaf_decode(data, size, &e)) return 0;

    struct ivl_buf b = {0};
    int rc = ivl_leaf_encode(&e, &b);
    FUZZ_CHECK(rc == 0, "decoded leaf does not re-encode: %s", ivl_err_detail(rc));
    FUZZ_CHECK(b.len == size && memcmp(b.p, data, size) == 0,
               "re-encoded leaf differs (%zu bytes in, %zu out)", size, b.len);
    ivl_buf_free(&b);

    FUZZ_CHECK(located, "ivl_leaf_body fails on a leaf that decodes");
    rc = ivl_body_decode(body, body_len, &eb);
    FUZZ_CHECK(rc == 0, "body of a decoded leaf does not decode: %s", ivl_err_detail(rc));
    struct ivl_buf bb = {0};
    rc = ivl_body_encode(&eb, &bb);
    FUZZ_CHECK(rc == 0 && bb.len == body_len && memcmp(bb.p, body, body_len) == 0,
               "body of a decoded leaf does not re-encode to itself");
    FUZZ_CHECK(eb.type == e.type && !memcmp(eb.id, e.id, IVL_ID_LEN) && eb.signed_at == e.signed_at,
               "leaf and body decoders disagree");
    ivl_buf_free(&bb);
    ivl_entry_free(&eb);
    ivl_entry_free(&e);
    return 0;
}
