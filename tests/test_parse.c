/*
 * test_parse.c - the value parsers of ledger/parse.c.
 *
 * Expected Unix times come from `date -d ... +%s` (GNU coreutils), not from
 * the code under test; USCC check characters were computed by hand with the
 * GB 32100-2015 weights (the sums are written next to each code).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "parse.h"

/* ---- amounts ---- */

static void amount_ok(const char *s, uint64_t want)
{
    uint64_t fen = 12345;
    int rc = ivl_amount_parse(s, &fen);
    if (rc) fail_msg("amount \"%s\" refused: %s", s, ivl_err_detail(rc));
    if (fen != want)
        fail_msg("amount \"%s\" -> %llu, want %llu", s, (unsigned long long)fen,
                 (unsigned long long)want);
}

static void amount_bad(const char *s, const char *why)
{
    uint64_t fen = 777;
    ivl_err_clear();
    int rc = ivl_amount_parse(s, &fen);
    if (rc != IVL_E_AMOUNT) fail_msg("amount \"%s\" gave %d, want IVL_E_AMOUNT", s, rc);
    assert_int_equal(fen, 777); /* untouched on failure */
    if (!strstr(ivl_err_detail(rc), why))
        fail_msg("amount \"%s\": detail \"%s\" lacks \"%s\"", s, ivl_err_detail(rc), why);
}

static void test_amount_valid(void **state)
{
    (void)state;
    amount_ok("100000", 10000000);
    amount_ok("100000.5", 10000050);
    amount_ok("100000.50", 10000050);
    amount_ok("100000.05", 10000005);
    amount_ok("0", 0);
    amount_ok("0.5", 50);
    amount_ok("0.01", 1);
    amount_ok("0.00", 0);
    amount_ok("1", 100);
    amount_ok("999999999.99", 99999999999ULL);
    amount_ok("1000000000", 100000000000ULL);
    amount_ok("1000000000.00", 100000000000ULL);
    amount_ok("1000000000.0", 100000000000ULL);
}

static void test_amount_invalid(void **state)
{
    (void)state;
    amount_bad("", "empty");
    amount_bad("-1", "sign");
    amount_bad("+1", "sign");
    amount_bad("-0", "sign");
    amount_bad(" 1", "start with a digit");
    amount_bad("1 ", "unexpected character");
    amount_bad("1 000", "unexpected character");
    amount_bad(".5", "before the decimal point");
    amount_bad("5.", "after the decimal point");
    amount_bad("5.123", "more than two decimals");
    amount_bad("0.001", "more than two decimals");
    amount_bad("1e5", "unexpected character");
    amount_bad("1E5", "unexpected character");
    amount_bad("1.5e2", "unexpected character");
    amount_bad("1,000", "unexpected character");
    amount_bad("12a", "unexpected character");
    amount_bad("abc", "start with a digit");
    amount_bad("0x10", "unexpected character");
    amount_bad("1.2.3", "unexpected character");
    amount_bad("\xef\xbc\x91", "start with a digit"); /* fullwidth 1 */
    amount_bad("007", "leading zero");
    amount_bad("00", "leading zero");
    amount_bad("00.5", "leading zero");
    amount_bad("0100", "leading zero");
    amount_bad("1000000000.01", "above the limit");
    amount_bad("1000000001", "above the limit");
    amount_bad("9999999999.99", "above the limit");
    amount_bad("99999999999999999999999", "above the limit");
    amount_bad("18446744073709551617", "above the limit"); /* 2^64 + 1 */
    assert_int_equal(ivl_amount_parse(NULL, &(uint64_t){0}), IVL_E_AMOUNT);
}

static void test_amount_format(void **state)
{
    (void)state;
    char buf[IVL_AMOUNT_BUF];
    static const struct {
        uint64_t fen;
        const char *s;
    } cases[] = {
        {0, "0.00"},
        {1, "0.01"},
        {50, "0.50"},
        {100, "1.00"},
        {10000050, "100000.50"},
        {100000000000ULL, "1000000000.00"},
        {UINT64_MAX, "184467440737095516.15"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ivl_amount_format(cases[i].fen, buf, sizeof buf);
        assert_string_equal(buf, cases[i].s);
    }
    /* Round trip over the boundaries and a sweep of small values. */
    uint64_t probes[] = {0, 1, 9, 10, 99, 100, 101, 123456789, 99999999999ULL, IVL_AMOUNT_MAX};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        uint64_t back;
        ivl_amount_format(probes[i], buf, sizeof buf);
        assert_int_equal(ivl_amount_parse(buf, &back), IVL_OK);
        assert_int_equal(back, probes[i]);
    }
    for (uint64_t f = 0; f < 2000; f++) {
        uint64_t back;
        ivl_amount_format(f, buf, sizeof buf);
        assert_int_equal(ivl_amount_parse(buf, &back), IVL_OK);
        assert_int_equal(back, f);
    }
    ivl_amount_format(12345, buf, 4); /* truncates, stays terminated */
    assert_string_equal(buf, "123");
}

/* ---- percentages ---- */

static void test_percent(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint32_t bp;
    } ok[] = {
        {"50", 5000},    {"50%", 5000},     {"33.5", 3350}, {"33.25", 3325}, {"100", 10000},
        {"100%", 10000}, {"100.00", 10000}, {"0.01", 1},    {"0.5%", 50},    {"1", 100},
        {"99.99", 9999}, {"33.25%", 3325},  {"7", 700},     {"10", 1000},
    };
    static const char *bad[] = {
        "",       "0",     "0%",     "0.00", "100.01",
        "101",    "1000",  "-5",     "+5",   "50%%",
        "%",      "%50",   "50 %",   " 50",  "50 ",
        "33.333", ".5",    "5.",     "050",  "00.5",
        "5e1",    "fifty", "50.0.0", "１",   "50\xef\xbc\x85" /* fullwidth % */,
    };
    uint32_t bp;
    char buf[IVL_PERCENT_BUF];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        bp = 0;
        int rc = ivl_percent_parse(ok[i].s, &bp);
        if (rc) fail_msg("\"%s\" refused: %s", ok[i].s, ivl_err_detail(rc));
        assert_int_equal(bp, ok[i].bp);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ivl_percent_parse(bad[i], &bp) != IVL_E_PERCENT) fail_msg("\"%s\" accepted", bad[i]);
    ivl_percent_format(5000, buf, sizeof buf);
    assert_string_equal(buf, "50.00%");
    ivl_percent_format(3325, buf, sizeof buf);
    assert_string_equal(buf, "33.25%");
    ivl_percent_format(1, buf, sizeof buf);
    assert_string_equal(buf, "0.01%");
    ivl_percent_format(10000, buf, sizeof buf);
    assert_string_equal(buf, "100.00%");
    for (uint32_t v = 1; v <= 10000; v++) {
        ivl_percent_format(v, buf, sizeof buf);
        assert_int_equal(ivl_percent_parse(buf, &bp), IVL_OK);
        assert_int_equal(bp, v);
    }
}

/* ---- dates and times ---- */

static void date_is(const char *s, int64_t want)
{
    int64_t t = 1;
    int rc = ivl_date_parse(s, &t);
    if (rc) fail_msg("date \"%s\" refused: %s", s, ivl_err_detail(rc));
    if (t != want) fail_msg("date \"%s\" -> %lld, want %lld", s, (long long)t, (long long)want);
}

static void test_date_parse(void **state)
{
    (void)state;
    /* date -d '2027-01-01T00:00:00+08:00' +%s  -> 1798732800 */
    date_is("2026-12-31", 1798732800 - 1);
    /* date -d '2028-02-29T23:59:59+08:00' +%s */
    date_is("2028-02-29", 1835452799);
    /* date -d '2000-01-01T23:59:59+08:00' +%s */
    date_is("2000-01-01", 946742399);
    /* date -d '2199-12-31T23:59:59+08:00' +%s */
    date_is("2199-12-31", 7258089599LL);
    /* 2026-03-01T10:00:00+08:00 is 1772330400; the day ends 14h - 1s later */
    date_is("2026-03-01", 1772330400 + 14 * 3600 - 1);
    date_is("2000-02-29", 946742399 + 59 * 86400); /* 2000 is a leap year */

    static const char *bad[] = {
        "2026-02-29", "2100-02-29",  "2026-04-31",  "2026-13-01",
        "2026-00-10", "2026-01-00",  "2026-01-32",  "1999-12-31",
        "2200-01-01", "2026-1-01",   "2026-01-1",   "26-01-01",
        "2026/01/01", "2026-01-01 ", " 2026-01-01", "2026-01-01T00:00:00+08:00",
        "",           "20260101",    "2026-01-0a",  "+026-01-01",
        "2026-06-31", "2026-11-31",
    };
    int64_t t = 42;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ivl_date_parse(bad[i], &t) != IVL_E_DATE) fail_msg("date \"%s\" accepted", bad[i]);
    assert_int_equal(t, 42);
    assert_int_equal(ivl_date_parse(NULL, &t), IVL_E_DATE);
    assert_int_equal(ivl_date_parse("2026-02-29", &t), IVL_E_DATE);
    assert_non_null(strstr(ivl_err_detail(IVL_E_DATE), "calendar"));
}

static void time_is(const char *s, int64_t want)
{
    int64_t t = 1;
    int rc = ivl_time_parse(s, &t);
    if (rc) fail_msg("time \"%s\" refused: %s", s, ivl_err_detail(rc));
    if (t != want) fail_msg("time \"%s\" -> %lld, want %lld", s, (long long)t, (long long)want);
}

static void test_time_parse(void **state)
{
    (void)state;
    /* All expected values from `date -d STRING +%s`. */
    time_is("2026-03-01T10:00:00+08:00", 1772330400);
    time_is("2026-03-01T02:00:00Z", 1772330400);
    time_is("2026-03-01T02:00:00z", 1772330400);
    time_is("2026-03-01t02:00:00Z", 1772330400);
    time_is("2026-03-01T10:00:00-05:00", 1772377200);
    time_is("2026-03-01T10:00:00.999999999+08:00", 1772330400);
    time_is("2026-03-01T10:00:00.5Z", 1772330400 + 8 * 3600);
    time_is("2024-02-29T12:34:56.789Z", 1709210096);
    time_is("1970-01-01T00:00:00Z", 0);
    time_is("1970-01-01T00:00:00+00:00", 0);
    time_is("1970-01-01T00:00:00-00:00", 0);
    time_is("9999-12-31T23:59:59+08:00", 253402271999LL); /* IVL_TIME_MAX */
    time_is("2027-01-01T00:00:00+08:00", 1798732800);
    time_is("2026-12-31T15:59:59Z", 1798732799);
    time_is("2026-12-31T23:59:59+23:59", 1798732799 + 8 * 3600 - 23 * 3600 - 59 * 60);

    static const char *bad[] = {
        /* outside 1970..9999 CST: such a time would not print back as RFC 3339 */
        "1969-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59+03:59",
        "0000-01-01T00:00:00+23:59",
        "2026-03-01",
        "2026-03-01T10:00:00",
        "2026-03-01 10:00:00+08:00",
        "2026-03-01T10:00+08:00",
        "2026-03-01T10:00:00+0800",
        "2026-03-01T10:00:00+08",
        "2026-03-01T10:00:00 +08:00",
        "2026-03-01T10:00:00+08:00 ",
        "2026-03-01T10:00:00.+08:00",
        "2026-03-01T10:00:00,5+08:00",
        "2026-03-01T24:00:00Z",
        "2026-03-01T23:60:00Z",
        "2026-12-31T23:59:60Z", /* leap second: not representable */
        "2026-03-01T10:00:00+24:00",
        "2026-03-01T10:00:00+08:60",
        "2026-02-29T10:00:00Z",
        "2026-03-01T1:00:00Z",
        "2026-03-01T10:00:00ZZ",
        "2026-03-01T10:00:00UTC",
        "",
        "2026-03-01X10:00:00Z",
        "+2026-03-01T10:00:00Z",
    };
    int64_t t = 42;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ivl_time_parse(bad[i], &t) != IVL_E_DATE) fail_msg("time \"%s\" accepted", bad[i]);
    assert_int_equal(t, 42);
    assert_int_equal(ivl_time_parse(NULL, &t), IVL_E_DATE);
}

static void test_time_format(void **state)
{
    (void)state;
    char buf[IVL_TIME_BUF];
    static const struct {
        int64_t t;
        const char *rfc, *human, *date;
    } cases[] = {
        {1772330400, "2026-03-01T10:00:00+08:00", "2026-03-01 10:00:00", "2026-03-01"},
        {1798732799, "2026-12-31T23:59:59+08:00", "2026-12-31 23:59:59", "2026-12-31"},
        {1798732800, "2027-01-01T00:00:00+08:00", "2027-01-01 00:00:00", "2027-01-01"},
        {0, "1970-01-01T08:00:00+08:00", "1970-01-01 08:00:00", "1970-01-01"},
        {-28801, "1969-12-31T23:59:59+08:00", "1969-12-31 23:59:59", "1969-12-31"},
        {-62135596800LL, "0001-01-01T08:00:00+08:00", "0001-01-01 08:00:00", "0001-01-01"},
        {1835452799, "2028-02-29T23:59:59+08:00", "2028-02-29 23:59:59", "2028-02-29"},
        {1709210096, "2024-02-29T20:34:56+08:00", "2024-02-29 20:34:56", "2024-02-29"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ivl_time_format(cases[i].t, buf, sizeof buf);
        assert_string_equal(buf, cases[i].rfc);
        ivl_time_format_human(cases[i].t, buf, sizeof buf);
        assert_string_equal(buf, cases[i].human);
        ivl_date_format(cases[i].t, buf, sizeof buf);
        assert_string_equal(buf, cases[i].date);
    }
    /* Extremes must not crash or overflow (UBSan watches this). */
    ivl_time_format(INT64_MAX, buf, sizeof buf);
    ivl_time_format(INT64_MIN, buf, sizeof buf);
    /* Round trips: every hour across two years, and the date of each day. */
    for (int64_t t = 1767196800; t < 1767196800 + 2 * 366 * 86400; t += 3599) {
        int64_t back;
        ivl_time_format(t, buf, sizeof buf);
        assert_int_equal(ivl_time_parse(buf, &back), IVL_OK);
        assert_int_equal(back, t);
        ivl_date_format(t, buf, sizeof buf);
        assert_int_equal(ivl_date_parse(buf, &back), IVL_OK);
        assert_true(back >= t && back - t < 86400);
    }
}

/* ---- USCC ---- */

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static void test_uscc_valid(void **state)
{
    (void)state;
    /* Sums of value x weight over the first 17 characters, by hand:
     *   91350100M000100Y4 -> 1640; 1640 mod 31 = 28; 31 - 28 = 3  -> '3'
     *   91110000802100433 -> 485;  485 mod 31 = 20;  31 - 20 = 11 -> 'B'
     *   91440300708461136 -> 966;  966 mod 31 = 5;   31 - 5 = 26  -> 'T'
     *   00000000000000000 -> 0;    c = 31, which maps to 0       -> '0'
     *   10000000000000000 -> 1;    31 - 1 = 30                    -> 'Y' */
    static const char *ok[] = {"91350100M000100Y43", "91110000802100433B", "91440300708461136T",
                               "000000000000000000", "10000000000000000Y"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char c = 0;
        int rc = ivl_uscc_check(ok[i]);
        if (rc) fail_msg("%s refused: %s", ok[i], ivl_err_detail(rc));
        assert_int_equal(ivl_uscc_check_char(ok[i], &c), IVL_OK);
        assert_int_equal(c, ok[i][17]);
    }
}

static void test_uscc_invalid(void **state)
{
    (void)state;
    assert_int_equal(ivl_uscc_check("91350100M000100Y44"), IVL_E_USCC_CHECK);
    assert_non_null(strstr(ivl_err_detail(IVL_E_USCC_CHECK), "expected '3'"));
    assert_int_equal(ivl_uscc_check("91110000802100433b"), IVL_E_USCC_FORMAT); /* lowercase */
    assert_non_null(strstr(ivl_err_detail(IVL_E_USCC_FORMAT), "lowercase"));
    assert_int_equal(ivl_uscc_check("91350100m000100Y43"), IVL_E_USCC_FORMAT);
    assert_int_equal(ivl_uscc_check("91350100M000100Y4"), IVL_E_USCC_FORMAT);
    assert_int_equal(ivl_uscc_check("91350100M000100Y433"), IVL_E_USCC_FORMAT);
    assert_int_equal(ivl_uscc_check(""), IVL_E_USCC_FORMAT);
    assert_int_equal(ivl_uscc_check(NULL), IVL_E_USCC_FORMAT);
    assert_int_equal(ivl_uscc_check(" 91350100M000100Y4"), IVL_E_USCC_FORMAT);
    assert_int_equal(ivl_uscc_check("9135010OM000100Y43"), IVL_E_USCC_FORMAT); /* letter O */
    for (const char *p = "IOZSV"; *p; p++) {
        char s[] = "91350100M000100Y43";
        s[8] = *p;
        assert_int_equal(ivl_uscc_check(s), IVL_E_USCC_FORMAT);
    }
    char c;
    assert_int_equal(ivl_uscc_check_char("9135010", &c), IVL_E_USCC_FORMAT);
    assert_int_equal(ivl_uscc_check_char("91350100I000100Y4", &c), IVL_E_USCC_FORMAT);
}

/* The decoders' test: the form, whatever the check character; the same
 * verdict as ivl_uscc_check() on every string that is not only a wrong
 * check character away from valid. */
static void test_uscc_form(void **state)
{
    (void)state;
    assert_true(ivl_uscc_form_ok("91350100M000100Y43"));
    assert_true(ivl_uscc_form_ok("91350100M000100Y44")); /* wrong check character */
    static const char *bad[] = {
        "91110000802100433b", "91350100M000100Y4",  "91350100M000100Y433", "",
        " 91350100M000100Y4", "9135010OM000100Y43", "91350100I000100Y43",  "913501\00100M000100Y4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (ivl_uscc_form_ok(bad[i])) fail_msg("form accepted: %s", bad[i]);
        assert_int_equal(ivl_uscc_check(bad[i]), IVL_E_USCC_FORMAT);
    }
    /* Every byte in every position of a valid code. */
    for (int pos = 0; pos < 18; pos++)
        for (int b = 1; b < 256; b++) {
            char s[] = "91350100M000100Y43";
            s[pos] = (char)b;
            int rc = ivl_uscc_check(s);
            assert_int_equal(ivl_uscc_form_ok(s), rc == IVL_OK || rc == IVL_E_USCC_CHECK);
        }
}

/* Every single-character substitution of a valid code must be refused: the
 * weights are all non-zero modulo the prime 31, so no change can cancel. */
static void test_uscc_every_change(void **state)
{
    (void)state;
    static const char *codes[] = {"91350100M000100Y43", "91110000802100433B"};
    for (size_t k = 0; k < 2; k++) {
        for (size_t pos = 0; pos < 18; pos++) {
            for (int b = 1; b < 256; b++) {
                char s[19];
                memcpy(s, codes[k], 19);
                if ((char)b == s[pos]) continue;
                s[pos] = (char)b;
                int rc = ivl_uscc_check(s);
                int in_set = b != 0 && strchr(uscc_alphabet, b) != NULL;
                if (rc != (in_set ? IVL_E_USCC_CHECK : IVL_E_USCC_FORMAT))
                    fail_msg("%s with byte %d at %zu: rc %d", codes[k], b, pos, rc);
            }
        }
    }
}

/* ---- UTF-8 and text ---- */

static void test_utf8(void **state)
{
    (void)state;
    static const char *ok[] = {
        "",
        "plain",
        "沁水县科技局",
        "\xc2\x80",
        "\xdf\xbf",
        "\xe0\xa0\x80",
        "\xef\xbf\xbf",
        "\xed\x9f\xbf",
        "\xee\x80\x80",
        "\xf0\x90\x80\x80",
        "\xf4\x8f\xbf\xbf",
        "\xf0\x9f\x98\x80",
    };
    static const char *bad[] = {
        "\x80",
        "\xbf",
        "\xc0\xaf",
        "\xc1\xbf",
        "\xe0\x80\xaf",
        "\xe0\x9f\xbf",
        "\xf0\x80\x80\xaf",
        "\xf0\x8f\xbf\xbf",
        "\xed\xa0\x80",
        "\xed\xbf\xbf",
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "\xf8\x88\x80\x80\x80",
        "\xfe",
        "\xff",
        "\xe4\xb8",
        "\344\270A", /* cut character, then ASCII */
        "\xc2",
        "a\xc2",
        "\xc2\x41",
        "\xf0\x9f\x98",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!ivl_utf8_valid(ok[i], strlen(ok[i]))) fail_msg("ok[%zu] refused", i);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ivl_utf8_valid(bad[i], strlen(bad[i]))) fail_msg("bad[%zu] accepted", i);
    assert_true(ivl_utf8_valid("a\0b", 3));          /* NUL is valid UTF-8; length decides */
    assert_false(ivl_utf8_valid("\xe6\xb2\x81", 2)); /* cut inside a character */
    assert_int_equal(ivl_utf8_valid_prefix("ab\xe6\xb2\x81\xff", 6), 5);
}

static void test_display_width(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t w;
    } cases[] = {
        {"", 0},
        {"abc", 3},
        {"沁水县科技局", 12},
        {"沁水县科技局 Qinshui", 20},
        {"晋城市ABC有限公司", 17},
        {"e\xcc\x81", 1},                /* e + COMBINING ACUTE */
        {"\xef\xbd\x81\xef\xbc\xa2", 4}, /* fullwidth a, B */
        {"\xe3\x80\x81\xe3\x80\x82", 4}, /* 、。 */
        {"\xe3\x80\x80", 2},             /* ideographic space */
        {"（有限合伙）", 12},
        {"\xef\xbf\xa5", 2}, /* fullwidth yen U+FFE5 */
        {"\xef\xbd\xa1", 1}, /* halfwidth ideographic full stop U+FF61 */
        {"한국", 4},
        {"\xf0\x9f\x98\x80", 2}, /* U+1F600 */
        {"\xf0\xa0\x80\x80", 2}, /* U+20000, CJK Extension B */
        {"\xe2\x80\x8b", 0},     /* zero width space */
        {"caf\xc3\xa9", 4},
        {"\377a", 2}, /* an invalid byte counts 1 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t w = ivl_display_width(cases[i].s);
        if (w != cases[i].w) fail_msg("width of case %zu is %zu, want %zu", i, w, cases[i].w);
    }
}

static void test_text_valid(void **state)
{
    (void)state;
    assert_true(ivl_text_valid("沁水县科技局", 200));
    assert_true(ivl_text_valid("Shanxi Qinshui Co., Ltd. (有限公司)", 200));
    assert_true(ivl_text_valid("a", 1));
    assert_true(ivl_text_valid("沁", 3));
    assert_false(ivl_text_valid("沁", 2));
    assert_false(ivl_text_valid("ab", 1));
    assert_false(ivl_text_valid("", 10));
    assert_false(ivl_text_valid(NULL, 10));
    assert_false(ivl_text_valid("a\tb", 10));
    assert_false(ivl_text_valid("a\nb", 10));
    assert_false(ivl_text_valid("a\rb", 10));
    assert_false(ivl_text_valid("\x1b[31m", 10));
    assert_false(ivl_text_valid("a\x7f", 10));
    assert_false(ivl_text_valid("a\xc2\x85", 10)); /* NEL, C1 */
    assert_false(ivl_text_valid("a\xc2\x9f", 10)); /* C1 */
    assert_true(ivl_text_valid("a\xc2\xa0", 10));  /* NBSP is not a control */
    assert_false(ivl_text_valid("a\xe2\x80\xae"
                                "b",
                                10)); /* RIGHT-TO-LEFT OVERRIDE */
    assert_false(ivl_text_valid("a\xe2\x81\xa6"
                                "b",
                                10)); /* LEFT-TO-RIGHT ISOLATE */
    assert_false(ivl_text_valid("a\xe2\x80\xa8"
                                "b",
                                10)); /* LINE SEPARATOR */
    assert_false(ivl_text_valid("a\xff", 10));
    assert_false(ivl_text_valid("\xc0\x80", 10)); /* overlong NUL */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amount_valid),      cmocka_unit_test(test_amount_invalid),
        cmocka_unit_test(test_amount_format),     cmocka_unit_test(test_percent),
        cmocka_unit_test(test_date_parse),        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_time_format),       cmocka_unit_test(test_uscc_valid),
        cmocka_unit_test(test_uscc_invalid),      cmocka_unit_test(test_uscc_form),
        cmocka_unit_test(test_uscc_every_change), cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_display_width),     cmocka_unit_test(test_text_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
