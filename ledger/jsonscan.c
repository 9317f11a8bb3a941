/*
 * jsonscan.c - the plain form of an export line, read without building it.
 *
 * Accepted (a subset of RFC 8259 that jansson also accepts): one object,
 * whitespace around tokens, nested objects and arrays to depth 32, strings
 * of printable ASCII and well-formed UTF-8 with no escapes, integers of at
 * most 18 digits without leading zeros, true, false, null. Anything else -
 * an escape, a fraction, a duplicate key, a "checkpoint" member - is left to
 * the full parser. The reader never reads outside [p, p + len).
 */
#include "jsonscan.h"

#include <string.h>

#define MAX_DEPTH 32
#define MAX_KEYS  48 /* per object, for the duplicate check */

struct scan {
    const unsigned char *p, *end;
};

static void ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* A string with no escape or control byte and valid UTF-8 (no overlong
 * form, no surrogate, nothing above U+10FFFF): its bytes between quotes. */
static int string(struct scan *s, const unsigned char **b, size_t *n)
{
    if (s->p >= s->end || *s->p != '"') return 0;
    const unsigned char *q = s->p + 1;
    while (q < s->end) {
        unsigned c = *q;
        if (c == '"') {
            *b = s->p + 1;
            *n = (size_t)(q - *b);
            s->p = q + 1;
            return 1;
        }
        if (c < 0x20 || c == '\\' || c == 0x7f) return 0;
        if (c < 0x80) {
            q++;
            continue;
        }
        size_t k;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            if (c == 0xe0) lo = 0xa0; /* overlong */
            if (c == 0xed) hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            if (c == 0xf0) lo = 0x90; /* overlong */
            if (c == 0xf4) hi = 0x8f; /* above U+10FFFF */
        } else {
            return 0;
        }
        if ((size_t)(s->end - q) <= k || q[1] < lo || q[1] > hi) return 0;
        for (size_t i = 2; i <= k; i++)
            if ((q[i] & 0xc0) != 0x80) return 0;
        q += k + 1;
    }
    return 0;
}

/* -?(0|[1-9][0-9]{0,17}) not followed by a fraction or an exponent. */
static int integer(struct scan *s, int *neg, uint64_t *v)
{
    const unsigned char *q = s->p;
    uint64_t x = 0;
    size_t d = 0;
    *neg = q < s->end && *q == '-';
    if (*neg) q++;
    if (q >= s->end || *q < '0' || *q > '9') return 0;
    if (*q == '0' && q + 1 < s->end && q[1] >= '0' && q[1] <= '9') return 0;
    for (; q < s->end && *q >= '0' && *q <= '9'; q++) {
        if (++d > 18) return 0;
        x = x * 10 + (uint64_t)(*q - '0');
    }
    if (q < s->end && (*q == '.' || *q == 'e' || *q == 'E')) return 0;
    *v = x;
    s->p = q;
    return 1;
}

static int literal(struct scan *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n)) return 0;
    s->p += n;
    return 1;
}

/* After a member or an element: 1 past the closing `close`, 2 past a comma
 * and the space after it (another item follows), 0 on anything else. */
static int next_item(struct scan *s, char close)
{
    ws(s);
    if (s->p >= s->end) return 0;
    if (*s->p == close) {
        s->p++;
        return 1;
    }
    if (*s->p != ',') return 0;
    s->p++;
    ws(s);
    return 2;
}

static int value(struct scan *s, int depth);

static int object(struct scan *s, int depth, struct ivl_json_line *top)
{
    const unsigned char *key[MAX_KEYS];
    size_t klen[MAX_KEYS];
    int nk = 0;
    s->p++; /* '{' */
    ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 1;
    }
    for (;;) {
        const unsigned char *k;
        size_t kn;
        if (!string(s, &k, &kn) || nk == MAX_KEYS) return 0;
        for (int i = 0; i < nk; i++)
            if (klen[i] == kn && !memcmp(key[i], k, kn)) return 0; /* a duplicate */
        key[nk] = k;
        klen[nk++] = kn;
        ws(s);
        if (s->p >= s->end || *s->p != ':') return 0;
        s->p++;
        ws(s);
        if (top && kn == 3 && !memcmp(k, "seq", 3)) {
            int neg;
            if (!integer(s, &neg, &top->seq) || neg) return 0;
            top->have_seq = 1;
        } else if (top && kn == 4 && !memcmp(k, "leaf", 4)) {
            const unsigned char *b;
            if (!string(s, &b, &top->leaf_len)) return 0;
            top->leaf = (const char *)b;
            top->have_leaf = 1;
        } else if (top && kn == 10 && !memcmp(k, "checkpoint", 10)) {
            return 0;
        } else if (!value(s, depth + 1)) {
            return 0;
        }
        int r = next_item(s, '}');
        if (r != 2) return r;
    }
}

static int array(struct scan *s, int depth)
{
    s->p++; /* '[' */
    ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 1;
    }
    for (;;) {
        if (!value(s, depth + 1)) return 0;
        int r = next_item(s, ']');
        if (r != 2) return r;
    }
}

static int value(struct scan *s, int depth)
{
    const unsigned char *b;
    size_t n;
    int neg;
    uint64_t v;
    if (depth > MAX_DEPTH || s->p >= s->end) return 0;
    switch (*s->p) {
    case '{': return object(s, depth, NULL);
    case '[': return array(s, depth);
    case '"': return string(s, &b, &n);
    case 't': return literal(s, "true", 4);
    case 'f': return literal(s, "false", 5);
    case 'n': return literal(s, "null", 4);
    default: return integer(s, &neg, &v);
    }
}

int ivl_json_scan_line(const char *p, size_t len, struct ivl_json_line *out)
{
    struct scan s = {(const unsigned char *)p, (const unsigned char *)p + len};
    memset(out, 0, sizeof *out);
    ws(&s);
    if (s.p >= s.end || *s.p != '{' || !object(&s, 1, out)) return 0;
    ws(&s);
    return s.p == s.end;
}
