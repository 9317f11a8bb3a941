/*
 * test_jsonscan.c - the export-line reader against jansson.
 *
 * The reader may decline any line, but a line it accepts must be one jansson
 * (JSON_REJECT_DUPLICATES, as import uses it) parses into an object with the
 * same top-level "seq" and "leaf". Checked on hand-made lines at the edges
 * of the grammar, and on 300,000 random mutations of real export lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "jsonscan.h"

/* An export line as `ivl export` writes it (abridged), with Chinese text. */
static const char *const real[] = {
    "{\"seq\":1,\"type\":\"party\",\"id\":\"01a21d74-2bda-7525-b61b-8fbfa28237b5\","
    "\"signed_at\":\"2026-03-01T09:00:00+08:00\",\"uscc\":\"12140521PB00000003\","
    "\"role\":\"provider\",\"name\":\"沁水县科技研究所 (research institute)\","
    "\"categories\":[\"testing\",\"design\"],\"amount\":1250000,\"group\":null,\"active\":true,"
    "\"signatures\":[{\"signer\":\"11140521MB12345677\",\"signature\":\"6810f5d1\"}],"
    "\"leaf\":\"AAAAAAAAAAEAAAAAZ+JTEAAB\"}",
    "{ \"seq\" : 29997 , \"leaf\" : \"AGiHXQtJnVIulrUwf7E/dwUSUNCQy0yMDI2LTAwMDAwMDQ5ODEBMTE=\" }",
    "{\"leaf\":\"\",\"seq\":0,\"nested\":{\"a\":[1,-2,0,{\"b\":false}],\"c\":{}},\"d\":[]}",
};

/* What jansson makes of the line: 1 and seq/leaf if an object, else 0. */
static int jansson_view(const char *p, size_t len, int *have_seq, json_int_t *seq, int *have_leaf,
                        const char **leaf, size_t *leaf_len, json_t **keep)
{
    json_error_t je;
    json_t *j = json_loadb(p, len, JSON_REJECT_DUPLICATES, &je);
    *keep = j;
    if (!json_is_object(j)) return 0;
    json_t *s = json_object_get(j, "seq"), *l = json_object_get(j, "leaf");
    *have_seq = s != NULL;
    *seq = json_is_integer(s) ? json_integer_value(s) : -1;
    *have_leaf = l != NULL;
    *leaf = json_is_string(l) ? json_string_value(l) : NULL;
    *leaf_len = json_is_string(l) ? json_string_length(l) : 0;
    return 1;
}

/* The contract: accepted -> jansson agrees on everything the import reads. */
static int agrees(const char *p, size_t len, int *accepted)
{
    struct ivl_json_line jl;
    *accepted = ivl_json_scan_line(p, len, &jl);
    if (!*accepted) return 1;
    int hs, hl;
    json_int_t seq;
    const char *leaf;
    size_t ll;
    json_t *keep;
    int ok = jansson_view(p, len, &hs, &seq, &hl, &leaf, &ll, &keep);
    if (ok) ok = !json_object_get(keep, "checkpoint");
    if (ok) ok = hs == jl.have_seq && (!hs || (seq >= 0 && (uint64_t)seq == jl.seq));
    if (ok)
        ok = hl == jl.have_leaf &&
             (!hl || (leaf && ll == jl.leaf_len && !memcmp(leaf, jl.leaf, ll) && jl.leaf >= p &&
                      jl.leaf + jl.leaf_len <= p + len));
    json_decref(keep);
    return ok;
}

static void test_real_lines(void **state)
{
    (void)state;
    struct ivl_json_line jl;
    for (size_t i = 0; i < sizeof real / sizeof *real; i++) {
        int acc;
        assert_true(agrees(real[i], strlen(real[i]), &acc));
        assert_int_equal(acc, 1);
        assert_int_equal(ivl_json_scan_line(real[i], strlen(real[i]), &jl), 1);
        assert_true(jl.have_seq && jl.have_leaf);
    }
    assert_int_equal(ivl_json_scan_line(real[1], strlen(real[1]), &jl), 1);
    const char *want = "AGiHXQtJnVIulrUwf7E/dwUSUNCQy0yMDI2LTAwMDAwMDQ5ODEBMTE=";
    assert_true(jl.seq == 29997 && jl.leaf_len == strlen(want) &&
                !memcmp(jl.leaf, want, jl.leaf_len));
}

/* Lines at the edges: declined (0) or accepted (1), and never against jansson. */
static void test_edges(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        int want;
    } cases[] = {
        {"{}", 1},
        {" {\"seq\":5} \r", 1},
        {"{\"seq\":007,\"leaf\":\"x\"}", 0},                 /* leading zeros */
        {"{\"seq\":-1,\"leaf\":\"x\"}", 0},                  /* negative seq: full parser */
        {"{\"seq\":1.0,\"leaf\":\"x\"}", 0},                 /* a fraction */
        {"{\"seq\":1e3,\"leaf\":\"x\"}", 0},                 /* an exponent */
        {"{\"seq\":1234567890123456789,\"leaf\":\"x\"}", 0}, /* 19 digits */
        {"{\"seq\":123456789012345678,\"leaf\":\"x\"}", 1},
        {"{\"seq\":\"1\",\"leaf\":\"x\"}", 0},       /* seq is not an integer */
        {"{\"seq\":1,\"leaf\":2}", 0},               /* leaf is not a string */
        {"{\"seq\":1,\"leaf\":\"x\",\"seq\":2}", 0}, /* duplicate */
        {"{\"a\":{\"k\":1,\"k\":2},\"seq\":1}", 0},  /* nested duplicate */
        {"{\"seq\":1,\"leaf\":\"a\\nb\"}", 0},       /* an escape */
        {"{\"seq\":1,\"leaf\":\"a\tb\"}", 0},        /* a control byte */
        {"{\"checkpoint\":\"x\"}", 0},               /* the last line */
        {"{\"seq\":1,}", 0},                         /* trailing comma */
        {"{\"seq\":1} x", 0},                        /* text after */
        {"[1,2]", 0},                                /* not an object */
        {"", 0},
        {"{\"n\":\"\xc3\xa9\"}", 1},         /* U+00E9 */
        {"{\"n\":\"\xc0\xa9\"}", 0},         /* overlong */
        {"{\"n\":\"\xed\xa0\x80\"}", 0},     /* a surrogate */
        {"{\"n\":\"\xf4\x90\x80\x80\"}", 0}, /* above U+10FFFF */
        {"{\"n\":\"\xf0\x9f\x98\x80\"}", 1}, /* U+1F600 */
        {"{\"n\":\"\xe6\xb2\x81\"}", 1},     /* 沁 */
        {"{\"n\":\"\xe6\xb2\"}", 0},         /* cut short */
        {"{\"n\":tru}", 0},
        {"{\"n\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", 0},
        {"{\"n\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int acc;
        if (!agrees(cases[i].line, strlen(cases[i].line), &acc))
            fail_msg("case %zu disagrees with jansson: %s", i, cases[i].line);
        if (acc != cases[i].want)
            fail_msg("case %zu: accepted %d, expected %d: %s", i, acc, cases[i].want,
                     cases[i].line);
    }
    /* A NUL byte inside the line is declined, wherever it is. */
    char nul[] = "{\"seq\":1,\"leaf\":\"a b\"}";
    nul[18] = 0;
    struct ivl_json_line jl;
    assert_int_equal(ivl_json_scan_line(nul, sizeof nul - 1, &jl), 0);
}

static void test_random_mutations(void **state)
{
    (void)state;
    static const char alphabet[] =
        "{}[]\":,\\ 0123456789-.eE+tfnul\t\n\x80\xbf\xc3\xe6\xed\xf0\xf4";
    char buf[1024];
    long accepted = 0, total = 0;
    for (int it = 0; it < 300000; it++) {
        const char *src = real[it % (sizeof real / sizeof *real)];
        size_t n = strlen(src);
        memcpy(buf, src, n);
        int muts = 1 + (int)randombytes_uniform(4);
        for (int m = 0; m < muts; m++) {
            uint32_t at = n ? randombytes_uniform((uint32_t)n) : 0;
            char c = randombytes_uniform(4) ? alphabet[randombytes_uniform(sizeof alphabet - 1)]
                                            : (char)randombytes_uniform(256);
            switch (randombytes_uniform(3)) {
            case 0: /* replace */
                if (n) buf[at] = c;
                break;
            case 1: /* insert */
                if (n + 1 < sizeof buf) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = c;
                    n++;
                }
                break;
            default: /* delete */
                if (n) {
                    memmove(buf + at, buf + at + 1, n - at - 1);
                    n--;
                }
            }
        }
        int acc;
        if (!agrees(buf, n, &acc)) fail_msg("disagrees with jansson: %.*s", (int)n, buf);
        accepted += acc;
        total++;
    }
    /* The mutations must reach both sides of the grammar to mean anything. */
    assert_true(accepted > total / 20 && accepted < total - total / 20);
    printf("%ld of %ld mutated lines read by the scanner, the rest declined\n", accepted, total);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    json_object_seed(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_lines),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_random_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
