/*
 * fuzz_vkey.c - the verifier key parser. A parsed key must format back to
 * the input (less one optional final newline) and carry its own key id.
 */
#include "fuzz.h"
#include "note.h"

#include <sodium.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return sodium_init() < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ivl_vkey k;
    char again[IVL_VKEY_MAX_LEN + 1];
    if (ivl_vkey_parse((const char *)data, size, &k)) return 0;
    if (FUZZ_KNOWN_BUG(fuzz_has_high_byte((const char *)data, size))) return 0;
    FUZZ_CHECK(ivl_note_name_valid(k.name), "parsed key name '%s' is not valid", k.name);
    FUZZ_CHECK(k.key_id == ivl_note_key_id(k.name, k.pub), "key id %08x is not the key's",
               k.key_id);
    int rc = ivl_vkey_format(k.name, k.pub, again, sizeof again);
    FUZZ_CHECK(rc == 0, "parsed key does not format: %s", ivl_err_detail(rc));
    size_t n = strlen(again), in = size && data[size - 1] == '\n' ? size - 1 : size;
    FUZZ_CHECK(n == in && memcmp(again, data, n) == 0, "formatted key differs: %s", again);
    return 0;
}
