/*
 * note.c - C2SP signed notes, Ed25519 verifier keys and checkpoint texts.
 *
 * Everything here is a strict parser or its exact inverse: a checkpoint we
 * accept has one spelling, so two parties comparing notes byte for byte agree
 * on what was signed. Inputs are (pointer, length) pairs, never trusted to be
 * NUL-terminated; the text check rejects NUL along with the other controls.
 * Base64 is decoded in 4-character blocks so that signature lines of unknown
 * algorithms (post-quantum ones run to kilobytes) can be validated without
 * allocating.
 */
#include "note.h"

#include "err.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define EM_DASH_SP     "\xe2\x80\x94 " /* U+2014 EM DASH, then a space */
#define EM_DASH_SP_LEN 4
#define ALG_ED25519    0x01
#define SIG_LEN        64

/* ---- UTF-8, names, texts ---------------------------------------------- */

/* Decodes the UTF-8 scalar at s[0..len) into *cp; returns its byte length, or
 * 0 if it is truncated, overlong, a surrogate or above U+10FFFF. */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
    size_t n;
    uint32_t c = s[0], min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, c &= 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, c &= 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, c &= 0x07, min = 0x10000;
    else
        return 0;
    if (len < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    *cp = c;
    return n;
}

/* Unicode White_Space, which is what Go's unicode.IsSpace tests. */
static int is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

/* Checks a key name. `ours` adds the limits for names we create or store
 * (length, DEL and C1 controls) to the C2SP rule every name must meet. */
static int name_ok(const char *name, size_t len, int ours)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t i = 0, n;
    uint32_t c;

    if (len == 0 || (ours && len > IVL_NOTE_MAX_NAME)) return 0;
    while (i < len) {
        if ((n = utf8_next(s + i, len - i, &c)) == 0) return 0;
        if (c < 0x20 || c == '+' || is_space(c)) return 0;
        if (ours && (c == 0x7f || (c >= 0x80 && c <= 0x9f))) return 0;
        i += n;
    }
    return 1;
}

int ivl_note_name_valid(const char *name)
{
    return name != NULL && name_ok(name, strnlen(name, IVL_NOTE_MAX_NAME + 1), 1);
}

/* Finds the first byte of s[0..len) that a note may not contain (invalid
 * UTF-8 or a control character other than '\n'); returns len if none. */
static size_t text_bad_offset(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, n;
    uint32_t c;

    while (i < len) {
        if ((n = utf8_next(s + i, len - i, &c)) == 0) return i;
        if (c < 0x20 && c != '\n') return i;
        i += n;
    }
    return len;
}

/* 1-based line number of byte offset off in s. */
static size_t line_of(const char *s, size_t off)
{
    size_t line = 1;

    for (size_t i = 0; i < off; i++)
        line += s[i] == '\n';
    return line;
}

/* Checks s[0..len) as note content, failing with `err` and a located detail. */
static int check_text(const char *s, size_t len, int err, const char *what)
{
    size_t bad = text_bad_offset(s, len);

    if (bad < len)
        return ivl_fail(err, _("%s line %zu (byte %zu): invalid UTF-8 or control character"),
                        _(what), line_of(s, bad), bad);
    if (len == 0) return ivl_fail(err, _("%s is empty"), _(what));
    if (s[len - 1] != '\n') return ivl_fail(err, _("%s does not end in a newline"), _(what));
    return IVL_OK;
}

int ivl_note_text_valid(const char *text, size_t len)
{
    if (text == NULL) return ivl_fail(IVL_E_USAGE, _("note text is NULL"));
    return check_text(text, len, IVL_E_BAD_NOTE, N_("note text"));
}

/* ---- base64 and key ids ------------------------------------------------ */

/* Strictly decodes standard padded base64 s[0..len): stores the first `cap`
 * bytes into out and the full decoded length into *total. Returns 0, or -1
 * for empty input, a length not a multiple of 4, padding before the last
 * block, non-zero pad bits or any non-alphabet byte. */
static int b64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *total)
{
    size_t n = 0;

    if (len == 0 || len % 4 != 0) return -1;
    /* libsodium reads any byte >= 0x80 as '/': only RFC 4648 characters are
     * base64 here, so that no altered byte decodes to the same value. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            return -1;
    }
    for (size_t i = 0; i < len; i += 4) {
        uint8_t blk[3];
        size_t got = 0;

        if (i + 4 < len && memchr(s + i, '=', 4) != NULL) return -1;
        if (sodium_base642bin(blk, sizeof blk, s + i, 4, NULL, &got, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
            return -1;
        for (size_t k = 0; k < got; k++, n++)
            if (n < cap) out[n] = blk[k];
    }
    *total = n;
    return 0;
}

uint32_t ivl_note_key_id(const char *name, const uint8_t pub[32])
{
    static const uint8_t sep[2] = {'\n', ALG_ED25519};
    crypto_hash_sha256_state st;
    uint8_t h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
    crypto_hash_sha256_update(&st, sep, sizeof sep);
    crypto_hash_sha256_update(&st, pub, 32);
    crypto_hash_sha256_final(&st, h);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

static uint32_t be32(const uint8_t b[4])
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* ---- verifier keys ----------------------------------------------------- */

/* Parses exactly 8 lowercase hex digits. */
static int hex8(const char *s, size_t len, uint32_t *out)
{
    uint32_t v = 0;

    if (len != 8) return -1;
    for (size_t i = 0; i < 8; i++) {
        char c = s[i];

        if (c >= '0' && c <= '9')
            v = v << 4 | (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v << 4 | (uint32_t)(c - 'a' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

int ivl_vkey_parse(const char *s, size_t len, struct ivl_vkey *out)
{
    const char *p1, *p2, *end;
    uint8_t key[33];
    size_t keylen, namelen;
    struct ivl_vkey k;

    if (s == NULL || out == NULL) return ivl_fail(IVL_E_USAGE, _("vkey: NULL argument"));
    if (len > 0 && s[len - 1] == '\n') len--;
    end = s + len;
    p1 = memchr(s, '+', len);
    p2 = p1 ? memchr(p1 + 1, '+', (size_t)(end - p1 - 1)) : NULL;
    if (p2 == NULL) return ivl_fail(IVL_E_BAD_VKEY, _("vkey: want name+keyid+key"));
    namelen = (size_t)(p1 - s);
    if (!name_ok(s, namelen, 1)) return ivl_fail(IVL_E_BAD_VKEY, _("vkey: invalid key name"));
    if (hex8(p1 + 1, (size_t)(p2 - p1 - 1), &k.key_id) != 0)
        return ivl_fail(IVL_E_BAD_VKEY, _("vkey: key id is not 8 lowercase hex digits"));
    if (b64_decode(p2 + 1, (size_t)(end - p2 - 1), key, sizeof key, &keylen) != 0)
        return ivl_fail(IVL_E_BAD_VKEY, _("vkey: key is not canonical base64"));
    if (keylen != sizeof key)
        return ivl_fail(IVL_E_BAD_VKEY, _("vkey: key is %zu bytes, want 33"), keylen);
    if (key[0] != ALG_ED25519)
        return ivl_fail(IVL_E_BAD_VKEY, _("vkey: signature type 0x%02x, want 0x01 (Ed25519)"),
                        key[0]);
    memcpy(k.name, s, namelen);
    k.name[namelen] = '\0';
    memcpy(k.pub, key + 1, 32);
    if (ivl_note_key_id(k.name, k.pub) != k.key_id)
        return ivl_fail(IVL_E_BAD_VKEY, _("vkey %s: key id %08" PRIx32 " does not match the key"),
                        k.name, k.key_id);
    *out = k;
    return IVL_OK;
}

int ivl_vkey_format(const char *name, const uint8_t pub[32], char *out, size_t outlen)
{
    uint8_t key[33];
    char b64[sodium_base64_ENCODED_LEN(33, sodium_base64_VARIANT_ORIGINAL)];
    int n;

    if (name == NULL || pub == NULL || out == NULL) return ivl_fail(IVL_E_USAGE, _("vkey: NULL"));
    if (!ivl_note_name_valid(name)) return ivl_fail(IVL_E_USAGE, _("vkey: invalid key name"));
    key[0] = ALG_ED25519;
    memcpy(key + 1, pub, 32);
    sodium_bin2base64(b64, sizeof b64, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
    n = snprintf(out, outlen, "%s+%08" PRIx32 "+%s", name, ivl_note_key_id(name, pub), b64);
    if (n < 0 || (size_t)n >= outlen)
        return ivl_fail(IVL_E_USAGE, _("vkey: output buffer of %zu bytes too small"), outlen);
    return IVL_OK;
}

/* ---- signing ----------------------------------------------------------- */

int ivl_note_sign_line(const char *text, size_t len, const char *name, const uint8_t sk[64],
                       char *line, size_t linelen)
{
    uint8_t blob[4 + SIG_LEN], pub[32];
    char b64[sodium_base64_ENCODED_LEN(4 + SIG_LEN, sodium_base64_VARIANT_ORIGINAL)];
    uint32_t id;
    int n, rc;

    if (text == NULL || name == NULL || sk == NULL || line == NULL)
        return ivl_fail(IVL_E_USAGE, _("sign note: NULL argument"));
    if ((rc = check_text(text, len, IVL_E_USAGE, N_("text to sign"))) != IVL_OK) return rc;
    if (!ivl_note_name_valid(name)) return ivl_fail(IVL_E_USAGE, _("sign note: invalid key name"));
    crypto_sign_ed25519_sk_to_pk(pub, sk);
    id = ivl_note_key_id(name, pub);
    blob[0] = (uint8_t)(id >> 24), blob[1] = (uint8_t)(id >> 16);
    blob[2] = (uint8_t)(id >> 8), blob[3] = (uint8_t)id;
    crypto_sign_ed25519_detached(blob + 4, NULL, (const uint8_t *)text, len, sk);
    /* As signify does: never hand out a signature its own public key rejects. */
    if (crypto_sign_ed25519_verify_detached(blob + 4, (const uint8_t *)text, len, pub) != 0)
        return ivl_fail(IVL_E_KEY_CORRUPT,
                        _("sign note: secret key does not match its public key"));
    sodium_bin2base64(b64, sizeof b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    n = snprintf(line, linelen, EM_DASH_SP "%s %s\n", name, b64);
    if (n < 0 || (size_t)n >= linelen)
        return ivl_fail(IVL_E_USAGE, _("sign note: line buffer of %zu bytes too small"), linelen);
    return IVL_OK;
}

/* ---- opening ----------------------------------------------------------- */

/* One parsed signature line. */
struct sig_line {
    const char *name;
    size_t namelen;
    uint32_t key_id;
    uint8_t sig[SIG_LEN];
    size_t siglen; /* bytes after the key id; only SIG_LEN of them kept */
};

/* Parses "— name base64" (without its '\n'); `no` is its line number. */
static int parse_sig_line(const char *s, size_t len, size_t no, struct sig_line *out)
{
    uint8_t blob[4 + SIG_LEN];
    const char *sp;
    size_t total;

    if (len < EM_DASH_SP_LEN || memcmp(s, EM_DASH_SP, EM_DASH_SP_LEN) != 0)
        return ivl_fail(IVL_E_BAD_NOTE, _("note line %zu: not a signature line"), no);
    s += EM_DASH_SP_LEN, len -= EM_DASH_SP_LEN;
    sp = memchr(s, ' ', len);
    if (sp == NULL) return ivl_fail(IVL_E_BAD_NOTE, _("note line %zu: no signature"), no);
    out->name = s;
    out->namelen = (size_t)(sp - s);
    if (!name_ok(s, out->namelen, 0))
        return ivl_fail(IVL_E_BAD_NOTE, _("note line %zu: invalid key name"), no);
    if (b64_decode(sp + 1, len - out->namelen - 1, blob, sizeof blob, &total) != 0)
        return ivl_fail(IVL_E_BAD_NOTE, _("note line %zu: signature is not canonical base64"), no);
    if (total < 5)
        return ivl_fail(IVL_E_BAD_NOTE, _("note line %zu: signature of %zu bytes too short"), no,
                        total);
    out->key_id = be32(blob);
    out->siglen = total - 4;
    memcpy(out->sig, blob + 4, out->siglen < SIG_LEN ? out->siglen : SIG_LEN);
    return IVL_OK;
}

/* Checks one signature line against every known key with the same name and
 * key id, adding those that verify to *mask / *any. */
static int check_sig(const struct sig_line *sl, size_t no, const char *text, size_t text_len,
                     const struct ivl_vkey *keys, size_t nkeys, uint32_t *mask, int *any)
{
    for (size_t i = 0; i < nkeys; i++) {
        const struct ivl_vkey *k = &keys[i];

        if (k->key_id != sl->key_id || strlen(k->name) != sl->namelen ||
            memcmp(k->name, sl->name, sl->namelen) != 0)
            continue;
        if (sl->siglen != SIG_LEN || crypto_sign_ed25519_verify_detached(
                                         sl->sig, (const uint8_t *)text, text_len, k->pub) != 0)
            return ivl_fail(IVL_E_BAD_SIG,
                            _("note line %zu: signature by %s+%08" PRIx32 " does not verify"), no,
                            k->name, k->key_id);
        if (i < 32) *mask |= (uint32_t)1 << i;
        *any = 1;
    }
    return IVL_OK;
}

/* Byte offset of the last "\n\n" in s[0..len), or len if there is none. */
static size_t last_blank(const char *s, size_t len)
{
    for (size_t i = len; i >= 2; i--)
        if (s[i - 2] == '\n' && s[i - 1] == '\n') return i - 2;
    return len;
}

int ivl_note_open(const char *note, size_t len, const struct ivl_vkey *keys, size_t nkeys,
                  size_t *text_len, uint32_t *verified)
{
    size_t split, pos, no, nsig = 0, bad;
    uint32_t mask = 0;
    int any = 0, rc;

    if (note == NULL || (keys == NULL && nkeys > 0))
        return ivl_fail(IVL_E_USAGE, _("open note: NULL argument"));
    if ((bad = text_bad_offset(note, len)) < len)
        return ivl_fail(IVL_E_BAD_NOTE,
                        _("note line %zu (byte %zu): invalid UTF-8 or control "
                          "character"),
                        line_of(note, bad), bad);
    if ((split = last_blank(note, len)) == len)
        return ivl_fail(IVL_E_BAD_NOTE, _("note has no blank line before its signatures"));
    pos = split + 2;
    if (pos == len) return ivl_fail(IVL_E_BAD_NOTE, _("note has no signature lines"));
    if (note[len - 1] != '\n')
        return ivl_fail(IVL_E_BAD_NOTE, _("note's last line does not end in a newline"));
    no = line_of(note, pos);
    for (; pos < len; pos++, no++) {
        const char *nl = memchr(note + pos, '\n', len - pos);
        struct sig_line sl;

        if (++nsig > IVL_NOTE_MAX_SIGS)
            return ivl_fail(IVL_E_BAD_NOTE, _("note has more than %d signature lines"),
                            IVL_NOTE_MAX_SIGS);
        if ((rc = parse_sig_line(note + pos, (size_t)(nl - note) - pos, no, &sl)) != IVL_OK)
            return rc;
        if ((rc = check_sig(&sl, no, note, split + 1, keys, nkeys, &mask, &any)) != IVL_OK)
            return rc;
        pos = (size_t)(nl - note);
    }
    if (!any) return ivl_fail(IVL_E_BAD_SIG, _("note is not signed by any known key"));
    if (text_len) *text_len = split + 1;
    if (verified) *verified = mask;
    return IVL_OK;
}

/* ---- checkpoints ------------------------------------------------------- */

int ivl_checkpoint_format(const char *origin, uint64_t size, const uint8_t root[32], char *out,
                          size_t outlen)
{
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    size_t olen;
    int n;

    if (origin == NULL || root == NULL || out == NULL)
        return ivl_fail(IVL_E_USAGE, _("checkpoint: NULL argument"));
    olen = strlen(origin);
    if (olen == 0 || text_bad_offset(origin, olen) < olen || memchr(origin, '\n', olen))
        return ivl_fail(IVL_E_USAGE, _("checkpoint: origin is empty, not UTF-8 or has a control "
                                       "character"));
    sodium_bin2base64(b64, sizeof b64, root, 32, sodium_base64_VARIANT_ORIGINAL);
    n = snprintf(out, outlen, "%s\n%" PRIu64 "\n%s\n", origin, size, b64);
    if (n < 0 || (size_t)n >= outlen)
        return ivl_fail(IVL_E_USAGE, _("checkpoint: buffer of %zu bytes too small"), outlen);
    return IVL_OK;
}

/* Parses canonical decimal s[0..len) into a uint64. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || (len > 1 && s[0] == '0')) return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');

        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Cuts the next line off *pos in text[0..len) (which ends in '\n'). */
static const char *next_line(const char *text, size_t len, size_t *pos, size_t *linelen)
{
    const char *start = text + *pos;
    const char *nl = memchr(start, '\n', len - *pos);

    *linelen = (size_t)(nl - start);
    *pos += *linelen + 1;
    return start;
}

int ivl_checkpoint_parse(const char *text, size_t len, char *origin, size_t originlen,
                         uint64_t *size, uint8_t root[32])
{
    const char *o, *sz, *r;
    size_t olen, szlen, rlen, rootlen, pos = 0, no = 3;
    uint8_t h[32];
    uint64_t v;
    int rc;

    if (text == NULL || origin == NULL || size == NULL || root == NULL)
        return ivl_fail(IVL_E_USAGE, _("checkpoint: NULL argument"));
    if ((rc = check_text(text, len, IVL_E_BAD_CHECKPOINT, N_("checkpoint"))) != IVL_OK) return rc;
    o = next_line(text, len, &pos, &olen);
    if (olen == 0) return ivl_fail(IVL_E_BAD_CHECKPOINT, _("checkpoint line 1: empty origin"));
    if (olen >= originlen)
        return ivl_fail(IVL_E_BAD_CHECKPOINT, _("checkpoint line 1: origin longer than %zu bytes"),
                        originlen ? originlen - 1 : 0);
    if (pos == len) return ivl_fail(IVL_E_BAD_CHECKPOINT, _("checkpoint has no size line"));
    sz = next_line(text, len, &pos, &szlen);
    if (parse_u64(sz, szlen, &v) != 0)
        return ivl_fail(IVL_E_BAD_CHECKPOINT, _("checkpoint line 2: size is not canonical decimal "
                                                "within 64 bits"));
    if (pos == len) return ivl_fail(IVL_E_BAD_CHECKPOINT, _("checkpoint has no root line"));
    r = next_line(text, len, &pos, &rlen);
    if (b64_decode(r, rlen, h, sizeof h, &rootlen) != 0 || rootlen != sizeof h)
        return ivl_fail(IVL_E_BAD_CHECKPOINT, _("checkpoint line 3: root is not canonical base64 "
                                                "of 32 bytes"));
    while (pos < len) {
        size_t elen;

        no++;
        (void)next_line(text, len, &pos, &elen);
        if (elen == 0)
            return ivl_fail(IVL_E_BAD_CHECKPOINT, _("checkpoint line %zu: empty extension line"),
                            no);
    }
    memcpy(origin, o, olen);
    origin[olen] = '\0';
    *size = v;
    memcpy(root, h, sizeof h);
    return IVL_OK;
}
