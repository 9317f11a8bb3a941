/*
 * parse.h - strict parsers and formatters for the values people type or
 * paste: amounts of money, coverage ratios, dates and times, Unified Social
 * Credit Codes, and UTF-8 text.
 *
 * Everything here is pure: no locale, no environment, no floating point, no
 * allocation. Parsers accept one spelling of each value and refuse anything
 * else with a precise detail (see err.h), because a ledger must never guess
 * what "1,000" or "5." meant.
 *
 * Caveats: times are Unix seconds (int64_t); leap seconds (":60") are
 * refused because Unix time cannot represent them. All formatted times are in
 * China Standard Time (UTC+8), the scheme's legal time zone.
 */
#ifndef IVL_PARSE_H
#define IVL_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* The last second that prints as RFC 3339 in China Standard Time:
 * 9999-12-31T23:59:59+08:00. Times are 0..IVL_TIME_MAX. */
#define IVL_TIME_MAX   253402271999LL
#define IVL_AMOUNT_MAX 100000000000ULL /* 1,000,000,000.00 CNY in fen */
#define IVL_CST_OFFSET 28800           /* UTC+8 in seconds */

/* Buffer sizes that always suffice for the formatters. */
#define IVL_AMOUNT_BUF  24
#define IVL_PERCENT_BUF 16
#define IVL_TIME_BUF    32

/* Amount in yuan ("100000", "100000.5", "100000.50") -> fen. Refuses empty
 * text, signs, spaces, ".5", "5.", more than two decimals, exponents, any
 * other character, leading zeros ("007"; "0" and "0.5" are fine) and values
 * above IVL_AMOUNT_MAX. Zero parses (the rules refuse it later).
 * Errors: IVL_E_AMOUNT. */
int ivl_amount_parse(const char *s, uint64_t *fen);
/* "100000.00": always two decimals, no grouping. `out` needs IVL_AMOUNT_BUF. */
void ivl_amount_format(uint64_t fen, char *out, size_t outlen);

/* Coverage ratio in hundredths of a percent: "50", "50%", "33.5", "33.25",
 * "100" -> 5000, 5000, 3350, 3325, 10000. At most two decimals, a single
 * optional trailing '%', value in (0, 100]. Errors: IVL_E_PERCENT. */
int ivl_percent_parse(const char *s, uint32_t *bp);
/* "50.00%". `out` needs IVL_PERCENT_BUF. */
void ivl_percent_format(uint32_t bp, char *out, size_t outlen);

/* "YYYY-MM-DD", a real calendar date in 2000..2199 -> Unix time of the last
 * second of that day in CST (23:59:59+08:00), since a date on the command
 * line means "until the end of that day". Errors: IVL_E_DATE. */
int ivl_date_parse(const char *s, int64_t *t);
/* RFC 3339 date-time ("2026-03-01T10:00:00+08:00", "...Z", "...-05:00",
 * optional fraction truncated to the second, lowercase 't'/'z' accepted,
 * years 0000..9999) -> Unix seconds. Errors: IVL_E_DATE. */
int ivl_time_parse(const char *s, int64_t *t);
/* RFC 3339 in CST: "2026-03-01T10:00:00+08:00". `out` needs IVL_TIME_BUF. */
void ivl_time_format(int64_t t, char *out, size_t outlen);
/* For people, in CST: "2026-03-01 10:00:00". `out` needs IVL_TIME_BUF. */
void ivl_time_format_human(int64_t t, char *out, size_t outlen);
/* The CST calendar date of `t`: "2026-03-01". `out` needs IVL_TIME_BUF. */
void ivl_date_format(int64_t t, char *out, size_t outlen);

/* Unified Social Credit Code (GB 32100-2015): 18 characters from
 * "0123456789ABCDEFGHJKLMNPQRTUWXY", the last one the check character.
 * Only that check is enforced (not the embedded GB 11714 organisation code).
 * Errors: IVL_E_USCC_FORMAT (length, charset, lowercase), IVL_E_USCC_CHECK
 * (wrong check character; the detail names the expected one). */
int ivl_uscc_check(const char *s);
/* 1 if s is 18 characters of that set, whatever its check character, else
 * 0: the form a decoder accepts (a party may be registered despite a wrong
 * check character). Sets no error. */
int ivl_uscc_form_ok(const char *s);
/* The check character for 17 valid characters, written to *out.
 * Errors: IVL_E_USCC_FORMAT. */
int ivl_uscc_check_char(const char *first17, char *out);

/* 1 if s[0..len) is strict UTF-8 (shortest form, no surrogates, at most
 * U+10FFFF), else 0. */
int ivl_utf8_valid(const char *s, size_t len);
/* Length of the longest valid UTF-8 prefix of s[0..len): equals len when the
 * whole is valid, otherwise the byte offset of the first bad sequence. */
size_t ivl_utf8_valid_prefix(const char *s, size_t len);
/* Terminal columns of a UTF-8 string, independent of the process locale:
 * East Asian Wide/Fullwidth characters (CJK, Hangul, fullwidth forms, CJK
 * punctuation, common emoji) count 2, combining marks and zero-width
 * characters 0, everything else 1. An invalid byte counts 1. */
size_t ivl_display_width(const char *s);
/* 1 if `s` is fit for a name or reason: 1..maxlen bytes of valid UTF-8 with
 * no C0 or C1 control characters (tab and DEL included), no line/paragraph
 * separators (U+2028/9) and no bidirectional embedding, override or isolate
 * controls (U+202A-202E, U+2066-2069), which can make an audit listing lie. */
int ivl_text_valid(const char *s, size_t maxlen);

#endif
