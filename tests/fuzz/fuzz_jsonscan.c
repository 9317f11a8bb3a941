/*
 * fuzz_jsonscan.c - the export-line reader of `ivl import` against jansson.
 * The reader may decline anything; what it accepts, jansson (with
 * JSON_REJECT_DUPLICATES, as import calls it) must parse into an object with
 * the same top-level "seq" and "leaf", and no "checkpoint".
 */
#include "fuzz.h"
#include "jsonscan.h"

#include <jansson.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ivl_json_line jl;
    const char *p = (const char *)data;
    if (!ivl_json_scan_line(p, size, &jl)) return 0;
    json_error_t je;
    json_t *j = json_loadb(p, size, JSON_REJECT_DUPLICATES, &je);
    FUZZ_CHECK(json_is_object(j), "accepted what jansson refuses: %s", je.text);
    FUZZ_CHECK(!json_object_get(j, "checkpoint"), "accepted a checkpoint line");
    json_t *s = json_object_get(j, "seq"), *l = json_object_get(j, "leaf");
    FUZZ_CHECK(jl.have_seq == (s != NULL), "seq present %d, jansson %d", jl.have_seq, s != NULL);
    if (s)
        FUZZ_CHECK(json_is_integer(s) && json_integer_value(s) >= 0 &&
                       (uint64_t)json_integer_value(s) == jl.seq,
                   "seq %llu, jansson another", (unsigned long long)jl.seq);
    FUZZ_CHECK(jl.have_leaf == (l != NULL), "leaf present %d, jansson %d", jl.have_leaf, l != NULL);
    if (l)
        FUZZ_CHECK(json_is_string(l) && json_string_length(l) == jl.leaf_len &&
                       !memcmp(json_string_value(l), jl.leaf, jl.leaf_len) && jl.leaf >= p &&
                       jl.leaf + jl.leaf_len <= p + size,
                   "leaf differs from jansson's");
    json_decref(j);
    return 0;
}
