/*
 * fuzz_csv.c - the strict CSV reader. Whatever parses must be a consistent
 * table (every cell present and valid UTF-8, lines increasing, each header
 * found by its own name), and writing the table back out fully quoted must
 * parse to the same table.
 */
#include "fuzz.h"
#include "csv.h"
#include "parse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void put(char **p, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        if (!(*p = realloc(*p, *cap))) abort();
    }
    memcpy(*p + *len, s, n);
    *len += n;
}

static void put_field(char **p, size_t *len, size_t *cap, const char *f)
{
    put(p, len, cap, "\"", 1);
    for (; *f; f++)
        put(p, len, cap, *f == '"' ? "\"\"" : f, *f == '"' ? 2 : 1);
    put(p, len, cap, "\"", 1);
}

/* The table as RFC 4180 text, every field quoted, LF line ends. */
static char *write_csv(const struct ivl_csv *c, size_t *len)
{
    char *p = NULL;
    size_t cap = 0;
    *len = 0;
    for (size_t r = 0; r <= ivl_csv_nrows(c); r++) {
        for (size_t k = 0; k < ivl_csv_ncols(c); k++) {
            if (k) put(&p, len, &cap, ",", 1);
            put_field(&p, len, &cap, r ? ivl_csv_field(c, r - 1, k) : ivl_csv_header(c, k));
        }
        put(&p, len, &cap, "\n", 1);
    }
    return p;
}

static void check_table(const struct ivl_csv *c, size_t size)
{
    size_t nr = ivl_csv_nrows(c), nc = ivl_csv_ncols(c);
    FUZZ_CHECK(nc >= 1 && nc <= IVL_CSV_MAX_COLS && nr <= IVL_CSV_MAX_ROWS, "table is %zu x %zu",
               nr, nc);
    for (size_t k = 0; k < nc; k++) {
        const char *h = ivl_csv_header(c, k);
        FUZZ_CHECK(h && *h && ivl_utf8_valid(h, strlen(h)),
                   "header %zu is missing, empty or not UTF-8", k);
        FUZZ_CHECK(ivl_csv_col(c, h) == (int)k, "header %zu '%s' is found as column %d", k, h,
                   ivl_csv_col(c, h));
    }
    FUZZ_CHECK(!ivl_csv_header(c, nc) && !ivl_csv_field(c, nr, 0) && !ivl_csv_field(c, 0, nc) &&
                   ivl_csv_line(c, nr) == 0,
               "out-of-range access does not fail");
    unsigned prev = 1;
    for (size_t r = 0; r < nr; r++) {
        unsigned line = ivl_csv_line(c, r);
        FUZZ_CHECK(line > prev && line <= size + 1, "row %zu starts on line %u after line %u", r,
                   line, prev);
        prev = line;
        for (size_t k = 0; k < nc; k++) {
            const char *f = ivl_csv_field(c, r, k);
            FUZZ_CHECK(f && strlen(f) <= IVL_CSV_MAX_FIELD && ivl_utf8_valid(f, strlen(f)),
                       "field %zu,%zu is missing, too long or not UTF-8", r, k);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ivl_csv *c, *c2;
    if (ivl_csv_parse((const char *)data, size, &c)) return 0;
    check_table(c, size);
    size_t len;
    char *text = write_csv(c, &len);
    int rc = ivl_csv_parse(text, len, &c2);
    FUZZ_CHECK(rc == 0, "the table written back does not parse: %s", ivl_err_detail(rc));
    FUZZ_CHECK(ivl_csv_nrows(c2) == ivl_csv_nrows(c) && ivl_csv_ncols(c2) == ivl_csv_ncols(c),
               "the table written back has another shape");
    for (size_t k = 0; k < ivl_csv_ncols(c); k++)
        FUZZ_CHECK(!strcmp(ivl_csv_header(c, k), ivl_csv_header(c2, k)), "header %zu changed", k);
    for (size_t r = 0; r < ivl_csv_nrows(c); r++)
        for (size_t k = 0; k < ivl_csv_ncols(c); k++)
            FUZZ_CHECK(!strcmp(ivl_csv_field(c, r, k), ivl_csv_field(c2, r, k)),
                       "field %zu,%zu changed", r, k);
    ivl_csv_free(c2);
    free(text);
    ivl_csv_free(c);
    return 0;
}
