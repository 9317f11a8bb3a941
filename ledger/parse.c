/*
 * parse.c - strict value parsers and formatters (see parse.h).
 *
 * Hand-written scanners rather than strtoull/strptime/sscanf: those accept
 * signs, spaces, locales and overflow silently, and a ledger must refuse
 * what it cannot read unambiguously. Calendar arithmetic uses Howard
 * Hinnant's days_from_civil/civil_from_days, exact for any int64 time.
 */
#include "parse.h"
#include "err.h"

#include <stdio.h>
#include <string.h>

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n digits at s into *v; 0 if any is not a digit. */
static int fixed_digits(const char *s, int n, unsigned *v)
{
    unsigned x = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i])) return 0;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return 1;
}

/* ---- decimals: amounts and percentages ---- */

/* A non-negative decimal split into its parts, as both amounts and ratios use
 * the same grammar: digits, optionally '.' and one or two digits. */
struct decimal {
    uint64_t ipart;   /* saturates at UINT64_MAX / 10 */
    unsigned frac;    /* hundredths */
    size_t intdigits; /* digits before the point */
    size_t end;       /* bytes consumed */
};

/* Scans the grammar; on failure returns a static reason for the detail
 * (untranslated: the caller translates it with _()). */
static const char *decimal_scan(const char *s, struct decimal *d)
{
    size_t i = 0;
    memset(d, 0, sizeof *d);
    if (s[0] == 0) return N_("is empty");
    if (s[0] == '-' || s[0] == '+') return N_("must not carry a sign");
    if (s[0] == '.') return N_("needs a digit before the decimal point");
    for (; is_digit(s[i]); i++)
        if (d->ipart < UINT64_MAX / 10) d->ipart = d->ipart * 10 + (uint64_t)(s[i] - '0');
    d->intdigits = i;
    if (i == 0) return N_("must start with a digit");
    if (i > 1 && s[0] == '0') return N_("has a leading zero");
    if (s[i] == '.') {
        size_t f = ++i;
        for (; is_digit(s[i]); i++) {
        }
        if (i == f) return N_("needs a digit after the decimal point");
        if (i - f > 2) return N_("has more than two decimals");
        d->frac = (unsigned)(s[f] - '0') * 10 + (i - f == 2 ? (unsigned)(s[f + 1] - '0') : 0);
    }
    d->end = i;
    return NULL;
}

int ivl_amount_parse(const char *s, uint64_t *fen)
{
    struct decimal d;
    if (!s) return ivl_fail(IVL_E_AMOUNT, _("amount is missing"));
    const char *why = decimal_scan(s, &d);
    if (why) return ivl_fail(IVL_E_AMOUNT, _("amount %s"), _(why));
    if (s[d.end] != 0)
        return ivl_fail(IVL_E_AMOUNT,
                        _("amount has an unexpected character at byte %zu "
                          "(only digits and one '.' are allowed)"),
                        d.end + 1);
    if (d.intdigits > 10 || d.ipart * 100 + d.frac > IVL_AMOUNT_MAX)
        return ivl_fail(IVL_E_AMOUNT, _("amount is above the limit of 1000000000.00"));
    *fen = d.ipart * 100 + d.frac;
    return IVL_OK;
}

void ivl_amount_format(uint64_t fen, char *out, size_t outlen)
{
    snprintf(out, outlen, "%llu.%02u", (unsigned long long)(fen / 100), (unsigned)(fen % 100));
}

int ivl_percent_parse(const char *s, uint32_t *bp)
{
    struct decimal d;
    if (!s) return ivl_fail(IVL_E_PERCENT, _("ratio is missing"));
    const char *why = decimal_scan(s, &d);
    if (why) return ivl_fail(IVL_E_PERCENT, _("ratio %s"), _(why));
    size_t end = d.end + (s[d.end] == '%');
    if (s[end] != 0)
        return ivl_fail(IVL_E_PERCENT,
                        _("ratio has an unexpected character at byte %zu "
                          "(like 50, 50%% or 33.25)"),
                        end + 1);
    if (d.intdigits > 3 || d.ipart * 100 + d.frac > 10000)
        return ivl_fail(IVL_E_PERCENT, _("ratio is above 100%%"));
    if (d.ipart == 0 && d.frac == 0) return ivl_fail(IVL_E_PERCENT, _("ratio must be above 0%%"));
    *bp = (uint32_t)(d.ipart * 100 + d.frac);
    return IVL_OK;
}

void ivl_percent_format(uint32_t bp, char *out, size_t outlen)
{
    snprintf(out, outlen, "%u.%02u%%", (unsigned)(bp / 100), (unsigned)(bp % 100));
}

/* ---- calendar ---- */

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

struct civil {
    int64_t y;
    unsigned mo, d, h, mi, s;
};

/* Splits Unix time `t` shifted by `offset` seconds into calendar fields. */
static void civil_from_time(int64_t t, int offset, struct civil *c)
{
    int64_t z = t / 86400, sec = t % 86400;
    if (sec < 0) sec += 86400, z--;
    sec += offset;
    if (sec >= 86400) sec -= 86400, z++;
    if (sec < 0) sec += 86400, z--;
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    c->d = doy - (153 * mp + 2) / 5 + 1;
    c->mo = mp < 10 ? mp + 3 : mp - 9;
    c->y = (int64_t)yoe + era * 400 + (c->mo <= 2);
    c->h = (unsigned)(sec / 3600);
    c->mi = (unsigned)(sec / 60 % 60);
    c->s = (unsigned)(sec % 60);
}

/* Parses "YYYY-MM-DD" at s (no terminator check); 0 with *why on failure. */
static int scan_date(const char *s, unsigned *y, unsigned *m, unsigned *d, const char **why)
{
    *why = N_("must look like YYYY-MM-DD");
    if (!fixed_digits(s, 4, y) || s[4] != '-' || !fixed_digits(s + 5, 2, m) || s[7] != '-' ||
        !fixed_digits(s + 8, 2, d))
        return 0;
    *why = N_("is not a calendar date");
    return *m >= 1 && *m <= 12 && *d >= 1 && *d <= days_in_month(*y, *m);
}

int ivl_date_parse(const char *s, int64_t *t)
{
    unsigned y, m, d;
    const char *why;
    if (!s) return ivl_fail(IVL_E_DATE, _("date is missing"));
    if (strnlen(s, 11) != 10) return ivl_fail(IVL_E_DATE, _("date must look like YYYY-MM-DD"));
    if (!scan_date(s, &y, &m, &d, &why)) return ivl_fail(IVL_E_DATE, _("date %s"), _(why));
    if (y < 2000 || y > 2199) return ivl_fail(IVL_E_DATE, _("date year must be in 2000..2199"));
    *t = days_from_civil(y, m, d) * 86400 + 86399 - IVL_CST_OFFSET;
    return IVL_OK;
}

/* Parses "hh:mm:ss" at s; 0 if malformed or out of range (leap second too). */
static int scan_clock(const char *s, unsigned *h, unsigned *mi, unsigned *sec)
{
    return fixed_digits(s, 2, h) && s[2] == ':' && fixed_digits(s + 3, 2, mi) && s[5] == ':' &&
           fixed_digits(s + 6, 2, sec) && *h < 24 && *mi < 60 && *sec < 60;
}

/* Parses the RFC 3339 time-offset at s into seconds east of UTC. */
static int scan_offset(const char *s, int *off)
{
    unsigned oh, om;
    if ((s[0] == 'Z' || s[0] == 'z') && s[1] == 0) {
        *off = 0;
        return 1;
    }
    if ((s[0] != '+' && s[0] != '-') || !fixed_digits(s + 1, 2, &oh) || s[3] != ':' ||
        !fixed_digits(s + 4, 2, &om) || s[6] != 0 || oh > 23 || om > 59)
        return 0;
    *off = (s[0] == '-' ? -1 : 1) * (int)(oh * 3600 + om * 60);
    return 1;
}

int ivl_time_parse(const char *s, int64_t *t)
{
    unsigned y, mo, d, h, mi, sec;
    const char *why;
    int off;
    if (!s) return ivl_fail(IVL_E_DATE, _("time is missing"));
    if (strnlen(s, 19) < 19 || (s[10] != 'T' && s[10] != 't') || !scan_date(s, &y, &mo, &d, &why))
        return ivl_fail(IVL_E_DATE, _("time must be RFC 3339, like 2026-03-01T10:00:00+08:00"));
    if (!scan_clock(s + 11, &h, &mi, &sec))
        return ivl_fail(IVL_E_DATE, _("time of day must be hh:mm:ss within 00:00:00..23:59:59"));
    size_t i = 19;
    if (s[i] == '.') {
        size_t f = ++i;
        while (is_digit(s[i]))
            i++;
        if (i == f) return ivl_fail(IVL_E_DATE, _("time has no digits after the '.'"));
    }
    if (!scan_offset(s + i, &off))
        return ivl_fail(IVL_E_DATE, _("time needs a zone offset like Z or +08:00 at byte %zu"),
                        i + 1);
    int64_t v = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    /* Every accepted time must print back as RFC 3339 in China Standard Time. */
    if (v < 0 || v > IVL_TIME_MAX)
        return ivl_fail(IVL_E_DATE, _("time must lie between 1970 and 9999 (China Standard Time)"));
    *t = v;
    return IVL_OK;
}

void ivl_time_format(int64_t t, char *out, size_t outlen)
{
    struct civil c;
    civil_from_time(t, IVL_CST_OFFSET, &c);
    snprintf(out, outlen, "%04lld-%02u-%02uT%02u:%02u:%02u+08:00", (long long)c.y, c.mo, c.d, c.h,
             c.mi, c.s);
}

void ivl_time_format_human(int64_t t, char *out, size_t outlen)
{
    struct civil c;
    civil_from_time(t, IVL_CST_OFFSET, &c);
    snprintf(out, outlen, "%04lld-%02u-%02u %02u:%02u:%02u", (long long)c.y, c.mo, c.d, c.h, c.mi,
             c.s);
}

void ivl_date_format(int64_t t, char *out, size_t outlen)
{
    struct civil c;
    civil_from_time(t, IVL_CST_OFFSET, &c);
    snprintf(out, outlen, "%04lld-%02u-%02u", (long long)c.y, c.mo, c.d);
}

/* ---- Unified Social Credit Code ---- */

static const char uscc_chars[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const unsigned uscc_weights[17] = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                          29, 25, 13, 8,  24, 10, 30, 28};

/* Value + 1 of each code character; 0 for every other byte. */
static const unsigned char uscc_map[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
    ['G'] = 17, ['H'] = 18, ['J'] = 19, ['K'] = 20, ['L'] = 21, ['M'] = 22, ['N'] = 23, ['P'] = 24,
    ['Q'] = 25, ['R'] = 26, ['T'] = 27, ['U'] = 28, ['W'] = 29, ['X'] = 30, ['Y'] = 31,
};

/* Value 0..30 of a code character, or -1 (a table: every decoded record has
 * USCCs, so this runs for every entry a verification replays). */
static int uscc_value(char c)
{
    return (int)uscc_map[(unsigned char)c] - 1;
}

/* Checks n characters of s against the charset, naming the first bad one. */
static int uscc_charset(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (uscc_value(s[i]) >= 0) continue;
        if (c >= 'a' && c <= 'z')
            return ivl_fail(IVL_E_USCC_FORMAT, _("USCC character %zu '%c' is lowercase"), i + 1, c);
        if (c > 0x20 && c < 0x7f)
            return ivl_fail(IVL_E_USCC_FORMAT,
                            _("USCC character %zu '%c' is not allowed "
                              "(I, O, S, V and Z are never used)"),
                            i + 1, c);
        return ivl_fail(IVL_E_USCC_FORMAT, _("USCC byte %zu (0x%02x) is not allowed"), i + 1, c);
    }
    return IVL_OK;
}

int ivl_uscc_check_char(const char *first17, char *out)
{
    if (!first17 || strnlen(first17, 17) < 17)
        return ivl_fail(IVL_E_USCC_FORMAT,
                        _("USCC needs 17 characters before the check character"));
    int rc = uscc_charset(first17, 17);
    if (rc) return rc;
    unsigned sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (unsigned)uscc_value(first17[i]) * uscc_weights[i];
    unsigned c = 31 - sum % 31;
    *out = uscc_chars[c == 31 ? 0 : c];
    return IVL_OK;
}

int ivl_uscc_form_ok(const char *s)
{
    for (int i = 0; i < 18; i++)
        if (!uscc_map[(unsigned char)s[i]]) return 0; /* the NUL of a shorter string too */
    return s[18] == 0;
}

int ivl_uscc_check(const char *s)
{
    char want;
    if (!s) return ivl_fail(IVL_E_USCC_FORMAT, _("USCC is missing"));
    size_t n = strnlen(s, 19);
    if (n > 18)
        return ivl_fail(IVL_E_USCC_FORMAT, _("USCC must be 18 characters, not more than 18"));
    if (n != 18) return ivl_fail(IVL_E_USCC_FORMAT, _("USCC must be 18 characters, not %zu"), n);
    int rc = uscc_charset(s, 18);
    if (rc) return rc;
    ivl_uscc_check_char(s, &want);
    if (s[17] != want)
        return ivl_fail(IVL_E_USCC_CHECK, _("USCC check character is '%c', expected '%c'"), s[17],
                        want);
    return IVL_OK;
}

/* ---- UTF-8 text ---- */

/* Decodes one strict UTF-8 sequence at s[0..len); returns its length and the
 * code point, or 0 if the bytes there are not a valid sequence. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, v = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, v = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    if (len < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return n;
}

size_t ivl_utf8_valid_prefix(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;
    uint32_t cp;
    while (i < len && (n = utf8_decode(p + i, len - i, &cp)) != 0)
        i += n;
    return i;
}

int ivl_utf8_valid(const char *s, size_t len)
{
    return ivl_utf8_valid_prefix(s, len) == len;
}

struct range {
    uint32_t lo, hi;
};

/* Zero-width: combining marks and invisible format characters. */
static const struct range zero_width[] = {
    {0x0300, 0x036f}, {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x0610, 0x061a}, {0x064b, 0x065f},
    {0x0e31, 0x0e31}, {0x0e34, 0x0e3a}, {0x0e47, 0x0e4e}, {0x1ab0, 0x1aff}, {0x1dc0, 0x1dff},
    {0x200b, 0x200f}, {0x202a, 0x202e}, {0x2060, 0x2064}, {0x20d0, 0x20ff}, {0x302a, 0x302d},
    {0x3099, 0x309a}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}, {0xfeff, 0xfeff}, {0xe0100, 0xe01ef},
};

/* East Asian Wide and Fullwidth blocks, plus the common emoji blocks. The
 * zero-width table is consulted first, so ranges here may span marks. */
static const struct range wide[] = {
    {0x1100, 0x115f},   {0x231a, 0x231b},   {0x2329, 0x232a},   {0x23e9, 0x23ec},
    {0x23f0, 0x23f0},   {0x23f3, 0x23f3},   {0x25fd, 0x25fe},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267f, 0x267f},   {0x2693, 0x2693},   {0x26a1, 0x26a1},
    {0x26aa, 0x26ab},   {0x26bd, 0x26be},   {0x26c4, 0x26c5},   {0x26ce, 0x26ce},
    {0x26d4, 0x26d4},   {0x26ea, 0x26ea},   {0x26f2, 0x26f3},   {0x26f5, 0x26f5},
    {0x26fa, 0x26fa},   {0x26fd, 0x26fd},   {0x2705, 0x2705},   {0x270a, 0x270b},
    {0x2728, 0x2728},   {0x274c, 0x274c},   {0x274e, 0x274e},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27b0, 0x27b0},   {0x27bf, 0x27bf},
    {0x2b1b, 0x2b1c},   {0x2b50, 0x2b50},   {0x2b55, 0x2b55},   {0x2e80, 0xa4cf},
    {0xa960, 0xa97f},   {0xac00, 0xd7a3},   {0xf900, 0xfaff},   {0xfe10, 0xfe19},
    {0xfe30, 0xfe6f},   {0xff00, 0xff60},   {0xffe0, 0xffe6},   {0x16fe0, 0x16fe4},
    {0x17000, 0x18cff}, {0x1b000, 0x1b2ff}, {0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf},
    {0x1f18e, 0x1f18e}, {0x1f191, 0x1f19a}, {0x1f200, 0x1f2ff}, {0x1f300, 0x1f64f},
    {0x1f680, 0x1f6ff}, {0x1f7e0, 0x1f7eb}, {0x1f900, 0x1f9ff}, {0x1fa70, 0x1faff},
    {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
};

static int in_ranges(uint32_t cp, const struct range *r, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp > r[mid].hi)
            lo = mid + 1;
        else if (cp < r[mid].lo)
            hi = mid;
        else
            return 1;
    }
    return 0;
}

static size_t char_width(uint32_t cp)
{
    if (in_ranges(cp, zero_width, sizeof zero_width / sizeof zero_width[0])) return 0;
    if (in_ranges(cp, wide, sizeof wide / sizeof wide[0])) return 2;
    return 1;
}

size_t ivl_display_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0, w = 0, n;
    uint32_t cp;
    while (i < len) {
        n = utf8_decode(p + i, len - i, &cp);
        w += n ? char_width(cp) : 1;
        i += n ? n : 1;
    }
    return w;
}

/* Characters refused in names and reasons: controls, and the invisible ones
 * that change how the surrounding text is laid out. */
static int forbidden_in_text(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

int ivl_text_valid(const char *s, size_t maxlen)
{
    if (!s) return 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0, n;
    uint32_t cp;
    if (len == 0 || len > maxlen) return 0;
    while (i < len) {
        n = utf8_decode(p + i, len - i, &cp);
        if (n == 0 || forbidden_in_text(cp)) return 0;
        i += n;
    }
    return 1;
}
