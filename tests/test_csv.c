/*
 * test_csv.c - the RFC 4180 reader of ledger/csv.c: the shapes spreadsheets
 * really export (BOM, CRLF, quoted commas and newlines, Chinese names), every
 * refusal with the line number it must report, and the size limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "csv.h"
#include "err.h"

static struct ivl_csv *parse_ok(const char *data, size_t len)
{
    struct ivl_csv *c = NULL;
    int rc = ivl_csv_parse(data, len, &c);
    if (rc) fail_msg("refused: %s", ivl_err_detail(rc));
    assert_non_null(c);
    return c;
}

#define PARSE_OK(lit) parse_ok(lit, sizeof(lit) - 1)

/* Asserts refusal with `want` and a detail starting "line N:". */
static void parse_bad(const char *data, size_t len, int want, unsigned line, const char *why)
{
    struct ivl_csv *c = (struct ivl_csv *)1;
    char prefix[32];
    ivl_err_clear();
    int rc = ivl_csv_parse(data, len, &c);
    if (rc != want) fail_msg("got %d, want %d (%s)", rc, want, ivl_err_detail(rc));
    assert_null(c);
    snprintf(prefix, sizeof prefix, "line %u: ", line);
    const char *d = ivl_err_detail(rc);
    if (strncmp(d, prefix, strlen(prefix)) != 0 || !strstr(d, why))
        fail_msg("detail \"%s\", want \"%s...%s\"", d, prefix, why);
}

#define PARSE_BAD(lit, line, why) parse_bad(lit, sizeof(lit) - 1, IVL_E_CSV, line, why)

/* The same two-row list in the four encodings a spreadsheet may produce. */
static void check_issue_list(struct ivl_csv *c)
{
    assert_int_equal(ivl_csv_ncols(c), 3);
    assert_int_equal(ivl_csv_nrows(c), 2);
    assert_string_equal(ivl_csv_header(c, 0), "uscc");
    assert_string_equal(ivl_csv_header(c, 2), "until");
    assert_null(ivl_csv_header(c, 3));
    assert_int_equal(ivl_csv_col(c, "amount"), 1);
    assert_string_equal(ivl_csv_field(c, 0, 0), "91350100M000100Y43");
    assert_string_equal(ivl_csv_field(c, 0, 1), "100000");
    assert_string_equal(ivl_csv_field(c, 1, 0), "91110000802100433B");
    assert_string_equal(ivl_csv_field(c, 1, 1), "50000.50");
    assert_string_equal(ivl_csv_field(c, 1, 2), "");
    assert_null(ivl_csv_field(c, 2, 0));
    assert_null(ivl_csv_field(c, 0, 3));
    assert_int_equal(ivl_csv_line(c, 0), 2);
    assert_int_equal(ivl_csv_line(c, 1), 3);
    assert_int_equal(ivl_csv_line(c, 2), 0);
    ivl_csv_free(c);
}

static void test_bom_and_line_endings(void **state)
{
    (void)state;
    check_issue_list(PARSE_OK("uscc,amount,until\n"
                              "91350100M000100Y43,100000,2026-12-31\n"
                              "91110000802100433B,50000.50,\n"));
    check_issue_list(PARSE_OK("\xef\xbb\xbfuscc,amount,until\r\n"
                              "91350100M000100Y43,100000,2026-12-31\r\n"
                              "91110000802100433B,50000.50,\r\n"));
    check_issue_list(PARSE_OK("\xef\xbb\xbfuscc,amount,until\n"
                              "91350100M000100Y43,100000,2026-12-31\r\n"
                              "91110000802100433B,50000.50,"));
    check_issue_list(PARSE_OK("uscc,amount,until\r\n"
                              "91350100M000100Y43,100000,2026-12-31\r\n"
                              "91110000802100433B,50000.50,\r\n\r\n\n"));
}

static void test_quoting(void **state)
{
    (void)state;
    struct ivl_csv *c = PARSE_OK("\"name\",note,n\n"
                                 "\"Qinshui, Ltd.\",\"He said \"\"hi\"\"\",1\n"
                                 "\"\",\"\"\"\",2\n"
                                 "plain,\"a,b,\"\"c\"\"\",3\n");
    assert_int_equal(ivl_csv_nrows(c), 3);
    assert_string_equal(ivl_csv_header(c, 0), "name");
    assert_string_equal(ivl_csv_field(c, 0, 0), "Qinshui, Ltd.");
    assert_string_equal(ivl_csv_field(c, 0, 1), "He said \"hi\"");
    assert_string_equal(ivl_csv_field(c, 1, 0), "");
    assert_string_equal(ivl_csv_field(c, 1, 1), "\"");
    assert_string_equal(ivl_csv_field(c, 2, 1), "a,b,\"c\"");
    assert_int_equal(ivl_csv_line(c, 2), 4);
    ivl_csv_free(c);
}

static void test_quoted_newlines(void **state)
{
    (void)state;
    struct ivl_csv *c = PARSE_OK("name,amount\n"             /* line 1 */
                                 "\"first\nsecond\",1\n"     /* lines 2-3 */
                                 "next,2\n"                  /* line 4 */
                                 "\"a\r\nb\r\n\r\nc\",3\r\n" /* lines 5-8 */
                                 "last,4");                  /* line 9 */
    assert_int_equal(ivl_csv_nrows(c), 4);
    assert_string_equal(ivl_csv_field(c, 0, 0), "first\nsecond");
    assert_string_equal(ivl_csv_field(c, 2, 0), "a\r\nb\r\n\r\nc");
    assert_string_equal(ivl_csv_field(c, 3, 1), "4");
    unsigned want[] = {2, 4, 5, 9};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(ivl_csv_line(c, i), want[i]);
    ivl_csv_free(c);
    /* ...and errors after them still name the right line. */
    PARSE_BAD("name,amount\n\"first\nsecond\",1\nnext,2\n\"x\n\ny\",3,4\n", 5, "3 fields");
    PARSE_BAD("name,amount\n\"first\nsecond\",1\nbad\"quote,2\n", 4, "quote inside");
}

static void test_chinese_and_header_lookup(void **state)
{
    (void)state;
    struct ivl_csv *c = PARSE_OK("\xef\xbb\xbf Role , USCC,name ,Related\n"
                                 "sme,91350100M000100Y43,沁水县科技局,\n"
                                 "provider,91110000802100433B,\"太原理工大学（技术转移中心）\",\n");
    assert_int_equal(ivl_csv_ncols(c), 4);
    assert_string_equal(ivl_csv_header(c, 0), "Role");
    assert_string_equal(ivl_csv_header(c, 2), "name");
    assert_int_equal(ivl_csv_col(c, "role"), 0);
    assert_int_equal(ivl_csv_col(c, "uscc"), 1);
    assert_int_equal(ivl_csv_col(c, " NAME "), 2);
    assert_int_equal(ivl_csv_col(c, "related"), 3);
    assert_int_equal(ivl_csv_col(c, "group"), -1);
    assert_int_equal(ivl_csv_col(c, "rol"), -1);
    assert_int_equal(ivl_csv_col(c, ""), -1);
    assert_string_equal(ivl_csv_field(c, 0, 2), "沁水县科技局");
    assert_string_equal(ivl_csv_field(c, 1, 2), "太原理工大学（技术转移中心）");
    assert_string_equal(ivl_csv_field(c, 0, 3), "");
    ivl_csv_free(c);

    c = PARSE_OK("a"); /* header only, no newline */
    assert_int_equal(ivl_csv_nrows(c), 0);
    assert_int_equal(ivl_csv_ncols(c), 1);
    ivl_csv_free(c);
    c = PARSE_OK("a\n\"\"\n"); /* a quoted empty field is data, not a blank line */
    assert_int_equal(ivl_csv_nrows(c), 1);
    assert_string_equal(ivl_csv_field(c, 0, 0), "");
    ivl_csv_free(c);
    ivl_csv_free(NULL);
}

static void test_malformed(void **state)
{
    (void)state;
    PARSE_BAD("a,b\n1,2\n3,\xff\n", 3, "invalid UTF-8");
    PARSE_BAD("a,b\n1,2\n3,\xff\n", 3, "invalid UTF-8 at byte offset 10");
    PARSE_BAD("\xef\xbb\xbf"
              "a,b\n1,2\n3,\xff\n",
              3, "invalid UTF-8 at byte offset 13");
    PARSE_BAD("a,b\n1,2\n3,4\n5,\0\n", 4, "NUL byte at byte offset 14");
    PARSE_BAD("a,b\n1,\xc0\xaf\n", 2, "invalid UTF-8");        /* overlong */
    PARSE_BAD("a,b\n1,\xed\xa0\x80\n", 2, "invalid UTF-8");    /* surrogate */
    PARSE_BAD("a,b\n\"x\n\xe6\xb2\",1\n", 3, "invalid UTF-8"); /* cut character */
    PARSE_BAD("a,b\n1,2\n3,4\n5,\0\n", 4, "NUL");
    PARSE_BAD("a,b\n1,2\n3,4\nx\"y,5\n", 4, "quote inside an unquoted field");
    PARSE_BAD("a,b\n1, \"2\"\n", 2, "quote inside an unquoted field");
    PARSE_BAD("a,b\n1,\"abc\n\ndef\n", 2, "never closed");
    PARSE_BAD("a,b\n1,\"", 2, "never closed");
    PARSE_BAD("a,b\n1,\"abc\"\"", 2, "never closed");
    PARSE_BAD("a,b\n\"x\ny\"z,1\n", 3, "after a closing quote");
    PARSE_BAD("a,b\n\"x\" ,1\n", 2, "after a closing quote");
    PARSE_BAD("a,b\n1,2\n1,2,3\n", 3, "3 fields, but the header has 2");
    PARSE_BAD("a,b\n1\n", 2, "1 field, but the header has 2");
    PARSE_BAD("a,b\n1,2\n,\n,,\n", 4, "3 fields");
    PARSE_BAD("a,,c\n1,2,3\n", 1, "column 2 has no name");
    PARSE_BAD("a, ,c\n1,2,3\n", 1, "column 2 has no name");
    PARSE_BAD("\"\",b\n", 1, "no name");
    PARSE_BAD("a,b,c,\n", 1, "column 4 has no name");
    PARSE_BAD("uscc,Amount, amount \n1,2,3\n", 1, "columns 2 and 3");
    PARSE_BAD("名称,名称\n", 1, "columns 1 and 2");
    PARSE_BAD("a,b\n1,2\n\n3,4\n", 3, "blank line");
    PARSE_BAD("a,b\r\n1,2\r\n\r\n\r\n3,4\r\n", 3, "blank line");
    PARSE_BAD("\na,b\n1,2\n", 1, "blank line before the header");
    PARSE_BAD("\n\n", 1, "blank line before the header");
    PARSE_BAD("", 1, "no header");
    PARSE_BAD("\xef\xbb\xbf", 1, "no header");
    PARSE_BAD("a,b\r1,2\n", 1, "carriage return");
    PARSE_BAD("a,b\n1,2\r", 2, "carriage return");
    PARSE_BAD("a,b\n1,2\n3,4\r5,6\n", 3, "carriage return");
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail, size_t *len)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    assert_non_null(s);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    *len = hl + ul * n + tl;
    return s;
}

static void test_limits(void **state)
{
    (void)state;
    size_t len;
    struct ivl_csv *c;
    char *s;

    /* A field of exactly 64 KiB is fine, one byte more is not. */
    s = repeat("a,b\n1,", "x", 65536, "\n", &len);
    c = parse_ok(s, len);
    assert_int_equal(strlen(ivl_csv_field(c, 0, 1)), 65536);
    ivl_csv_free(c);
    free(s);
    s = repeat("a,b\n1,2\n3,", "x", 65537, "\n", &len);
    parse_bad(s, len, IVL_E_TOO_LARGE, 3, "longer than");
    free(s);
    s = repeat("a\n\"", "\"\"", 65537, "\"\n", &len); /* quoted: counted after unquoting */
    parse_bad(s, len, IVL_E_TOO_LARGE, 2, "longer than");
    free(s);

    /* 64 columns, not 65. */
    char hdr[64 * 4 + 2] = "";
    for (int i = 0; i < 64; i++) {
        char col[8];
        snprintf(col, sizeof col, "%s%d", i ? "," : "", i);
        strcat(hdr, col);
    }
    c = parse_ok(hdr, strlen(hdr));
    assert_int_equal(ivl_csv_ncols(c), 64);
    assert_int_equal(ivl_csv_col(c, "63"), 63);
    ivl_csv_free(c);
    strcat(hdr, ",64\n");
    parse_bad(hdr, strlen(hdr), IVL_E_TOO_LARGE, 1, "more than 64 fields");
    s = repeat("a\n", ",", 64, "\n", &len); /* a data row of 65 empty fields */
    parse_bad(s, len, IVL_E_TOO_LARGE, 2, "more than 64 fields");
    free(s);

    /* 100,000 data records, not 100,001. */
    s = repeat("n\n", "7\n", 100000, "", &len);
    c = parse_ok(s, len);
    assert_int_equal(ivl_csv_nrows(c), 100000);
    assert_int_equal(ivl_csv_line(c, 99999), 100001);
    assert_string_equal(ivl_csv_field(c, 99999, 0), "7");
    ivl_csv_free(c);
    free(s);
    s = repeat("n\n", "7\n", 100001, "", &len);
    parse_bad(s, len, IVL_E_TOO_LARGE, 100002, "more than 100000 records");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bom_and_line_endings),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_quoted_newlines),
        cmocka_unit_test(test_chinese_and_header_lookup),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
