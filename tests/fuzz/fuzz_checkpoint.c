/*
 * fuzz_checkpoint.c - the checkpoint text parser. A parsed checkpoint
 * formatted again must be a prefix of the input (only extension lines may
 * follow), and the input must be a valid note text.
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
    const char *text = (const char *)data;
    char origin[256], again[512];
    uint64_t tree_size;
    uint8_t root[32];
    if (ivl_checkpoint_parse(text, size, origin, sizeof origin, &tree_size, root)) return 0;
    const char *l2 = memchr(text, '\n', size),
               *l3 = l2 ? memchr(l2 + 1, '\n', size - (size_t)(l2 + 1 - text)) : NULL;
    const char *l3end = l3 ? memchr(l3 + 1, '\n', size - (size_t)(l3 + 1 - text)) : NULL;
    FUZZ_CHECK(l3 && l3end, "a parsed checkpoint has fewer than three lines");
    if (FUZZ_KNOWN_BUG(fuzz_has_high_byte(l3 + 1, (size_t)(l3end - l3 - 1)))) return 0;
    FUZZ_CHECK(ivl_note_text_valid(text, size) == 0,
               "a parsed checkpoint is not a valid note text");
    int rc = ivl_checkpoint_format(origin, tree_size, root, again, sizeof again);
    FUZZ_CHECK(rc == 0, "a parsed checkpoint does not format: %s", ivl_err_detail(rc));
    size_t n = strlen(again);
    FUZZ_CHECK(n <= size && memcmp(again, text, n) == 0,
               "formatted checkpoint is not a prefix of the input");
    /* What follows are extension lines: non-empty, each ending in '\n'. */
    for (size_t i = n; i < size; i++)
        FUZZ_CHECK(text[i] != '\n' || (i > n && text[i - 1] != '\n'),
                   "empty extension line at byte %zu", i);
    return 0;
}
