/*
 * test_note.c - signed notes, verifier keys and checkpoints against the
 * third-party vectors in ../shared/vectors/{signed-note,checkpoints,
 * c2sp-examples} (Go's x/mod sumdb/note tests, transparency-dev/witness, the
 * C2SP specs). Every expected value comes from those files, read at run time:
 * keys.txt for keys and key ids, the .note files for exact bytes, the proof
 * files for roots. Run from the repository root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "merkle.h"
#include "note.h"

#define VEC     "../shared/vectors/"
#define SN      VEC "signed-note/"
#define CP      VEC "checkpoints/"
#define EX      VEC "c2sp-examples/"
#define MAXTOK  4
#define NOTEMAX 16384

/* ---- helpers: files, keys.txt, hex ------------------------------------ */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL) fail_msg("cannot open %s (run from the repository root)", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    size_t got = 0;

    assert_int_equal(strlen(hex), 2 * n);
    assert_int_equal(sodium_hex2bin(out, n, hex, 2 * n, NULL, &got, NULL), 0);
    assert_int_equal(got, n);
}

/* Splits `line` in place into whitespace tokens, stopping at a '#' token. */
static int tokens(char *line, char *tok[MAXTOK])
{
    int n = 0;

    for (char *t = strtok(line, " \t\n"); t && n < MAXTOK; t = strtok(NULL, " \t\n")) {
        if (t[0] == '#') break;
        tok[n++] = t;
    }
    return n;
}

/* Calls fn(tok, ntok, ctx) for every line of a vector file whose first
 * token is `tag`. Returns how many lines matched. */
static int each_line(const char *path, const char *tag, void (*fn)(char **, int, void *), void *ctx)
{
    size_t len;
    char *buf = slurp(path, &len), *save = NULL;
    int count = 0;

    for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char copy[512], *tok[MAXTOK];
        int n;

        snprintf(copy, sizeof copy, "%s", l);
        n = tokens(copy, tok);
        if (n >= 2 && strcmp(tok[0], tag) == 0) {
            fn(tok, n, ctx);
            count++;
        }
    }
    free(buf);
    return count;
}

struct find {
    const char *name;
    char val[256];
    int found;
};

static void find_cb(char **tok, int n, void *ctx)
{
    struct find *f = ctx;

    if (n >= 3 && strcmp(tok[1], f->name) == 0) {
        snprintf(f->val, sizeof f->val, "%s", tok[2]);
        f->found = 1;
    }
}

/* The value of the line "tag name value" in a keys file. */
static void lookup(const char *path, const char *tag, const char *name, char *out, size_t outlen)
{
    struct find f = {.name = name};

    each_line(path, tag, find_cb, &f);
    if (!f.found) fail_msg("%s: no '%s %s' line", path, tag, name);
    snprintf(out, outlen, "%s", f.val);
}

static void vkey_cb(char **tok, int n, void *ctx)
{
    struct find *f = ctx;
    size_t nl = strlen(f->name);

    if (n >= 2 && strncmp(tok[1], f->name, nl) == 0 && tok[1][nl] == '+') {
        snprintf(f->val, sizeof f->val, "%s", tok[1]);
        f->found = 1;
    }
}

/* The vkey line for key `name` in a keys file. */
static void vkey_line(const char *path, const char *name, char *out, size_t outlen)
{
    struct find f = {.name = name};

    each_line(path, "vkey", vkey_cb, &f);
    if (!f.found) fail_msg("%s: no vkey for %s", path, name);
    snprintf(out, outlen, "%s", f.val);
}

/* The vkey line for key `name` in a keys file, parsed. */
static void load_vkey(const char *path, const char *name, struct ivl_vkey *k)
{
    char s[256];

    vkey_line(path, name, s, sizeof s);
    assert_int_equal(ivl_vkey_parse(s, strlen(s), k), IVL_OK);
    assert_string_equal(k->name, name);
}

/* Loads "tag hex" lines of a proof/evidence file. */
struct hexlines {
    const char *tag;
    uint8_t h[8][32];
    size_t n;
};

static void hexline_cb(char **tok, int n, void *ctx)
{
    struct hexlines *hl = ctx;

    assert_true(n >= 2);
    assert_true(hl->n < 8);
    unhex(tok[1], hl->h[hl->n++], 32);
}

static void load_hash(const char *path, const char *tag, uint8_t out[32])
{
    struct hexlines hl = {.tag = tag};

    assert_int_equal(each_line(path, tag, hexline_cb, &hl), 1);
    memcpy(out, hl.h[0], 32);
}

/* Opens a note file; returns ivl_note_open's result. */
static int open_file(const char *path, const struct ivl_vkey *keys, size_t nkeys, size_t *text_len,
                     uint32_t *mask)
{
    size_t len;
    char *buf = slurp(path, &len);
    int rc = ivl_note_open(buf, len, keys, nkeys, text_len, mask);

    free(buf);
    return rc;
}

/* Opens and parses a signed checkpoint file with one key. */
static void open_checkpoint(const char *path, const struct ivl_vkey *key, char *origin,
                            size_t originlen, uint64_t *size, uint8_t root[32])
{
    size_t len, tl = 0;
    char *buf = slurp(path, &len);
    uint32_t mask = 0;

    assert_int_equal(ivl_note_open(buf, len, key, 1, &tl, &mask), IVL_OK);
    assert_int_equal(mask, 1);
    assert_int_equal(ivl_checkpoint_parse(buf, tl, origin, originlen, size, root), IVL_OK);
    free(buf);
}

/* ---- verifier keys ----------------------------------------------------- */

struct vk_ctx {
    const char *path;
    int has_keyid_lines;
};

static void check_one_vkey(char **tok, int n, void *ctx)
{
    const struct vk_ctx *c = ctx;
    const char *s = tok[1];
    struct ivl_vkey k;
    char hex[256], out[IVL_VKEY_MAX_LEN + 1];
    uint8_t pub[32];
    uint32_t want;

    assert_true(n >= 2);
    assert_int_equal(ivl_vkey_parse(s, strlen(s), &k), IVL_OK);
    /* The key id spelled in the vkey itself. */
    want = (uint32_t)strtoul(strchr(s, '+') + 1, NULL, 16);
    assert_int_equal(k.key_id, want);
    assert_int_equal(ivl_note_key_id(k.name, k.pub), want);
    lookup(c->path, "pub_hex", k.name, hex, sizeof hex);
    unhex(hex, pub, 32);
    assert_memory_equal(k.pub, pub, 32);
    if (c->has_keyid_lines) {
        uint8_t pre[256], h[32], id[4];
        size_t nl = strlen(k.name);

        lookup(c->path, "keyid", k.name, hex, sizeof hex);
        unhex(hex, id, 4);
        assert_int_equal(k.key_id, (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 |
                                       (uint32_t)id[2] << 8 | id[3]);
        /* The published preimage is name || 0x0A || 0x01 || pub, and its
         * SHA-256 (libsodium directly, not our code) starts with the id. */
        lookup(c->path, "keyid_preimage_hex", k.name, hex, sizeof hex);
        unhex(hex, pre, strlen(hex) / 2);
        assert_int_equal(strlen(hex) / 2, nl + 2 + 32);
        assert_memory_equal(pre, k.name, nl);
        assert_int_equal(pre[nl], 0x0a);
        assert_int_equal(pre[nl + 1], 0x01);
        assert_memory_equal(pre + nl + 2, pub, 32);
        crypto_hash_sha256(h, pre, nl + 2 + 32);
        assert_memory_equal(h, id, 4);
    }
    assert_int_equal(ivl_vkey_format(k.name, k.pub, out, sizeof out), IVL_OK);
    assert_string_equal(out, s);
}

static void test_vkeys_from_vectors(void **state)
{
    struct vk_ctx sn = {SN "keys.txt", 1}, cp = {CP "keys.txt", 0};

    (void)state;
    assert_int_equal(each_line(sn.path, "vkey", check_one_vkey, &sn), 3);
    assert_int_equal(each_line(cp.path, "vkey", check_one_vkey, &cp), 5);
}

static void bad_vkey_cb(char **tok, int n, void *ctx)
{
    struct ivl_vkey k;

    (void)ctx;
    assert_true(n >= 2);
    assert_int_equal(ivl_vkey_parse(tok[1], strlen(tok[1]), &k), IVL_E_BAD_VKEY);
}

static void test_bad_vkeys(void **state)
{
    char peter[256], buf[300];
    struct ivl_vkey k;
    size_t len;

    (void)state;
    assert_int_equal(each_line(SN "keys.txt", "bad_vkey", bad_vkey_cb, NULL), 2);
    vkey_line(SN "keys.txt", "PeterNeumann", peter, sizeof peter);
    len = strlen(peter);
    assert_int_equal(ivl_vkey_parse(peter, len, &k), IVL_OK);

    /* Every proper substring (so every proper prefix) is refused. */
    for (size_t i = 0; i < len; i++)
        for (size_t j = i + 1; j <= len; j++) {
            if (i == 0 && j == len) continue;
            assert_int_equal(ivl_vkey_parse(peter + i, j - i, &k), IVL_E_BAD_VKEY);
        }
    /* Every single-byte +1 mutation is refused. */
    for (size_t i = 0; i < len; i++) {
        memcpy(buf, peter, len);
        buf[i]++;
        assert_int_equal(ivl_vkey_parse(buf, len, &k), IVL_E_BAD_VKEY);
    }
    /* One trailing newline is allowed, nothing else around the key. */
    snprintf(buf, sizeof buf, "%s\n", peter);
    assert_int_equal(ivl_vkey_parse(buf, len + 1, &k), IVL_OK);
    const char *around[] = {"%s\n\n", "%s\r\n", " %s", "%s ", "%s=", "%s====", "%s+"};
    for (size_t i = 0; i < sizeof around / sizeof around[0]; i++) {
        int n = snprintf(buf, sizeof buf, around[i], peter);
        assert_int_equal(ivl_vkey_parse(buf, (size_t)n, &k), IVL_E_BAD_VKEY);
    }
    /* Key id spelled in uppercase: we only accept the canonical lowercase. */
    assert_int_equal(ivl_vkey_parse("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
                                    "LDE4izWy10TW",
                                    len, &k),
                     IVL_E_BAD_VKEY);
    /* An embedded NUL (the length says the key goes on). */
    memcpy(buf, peter, len);
    buf[len] = '\0';
    assert_int_equal(ivl_vkey_parse(buf, len + 1, &k), IVL_E_BAD_VKEY);
}

static void test_name_valid(void **state)
{
    char longname[IVL_NOTE_MAX_NAME + 2];

    (void)state;
    assert_true(ivl_note_name_valid("PeterNeumann"));
    assert_true(ivl_note_name_valid("localhost.localdev/sumdb"));
    assert_true(ivl_note_name_valid("caf\xc3\xa9/log")); /* é */
    const char *bad[] = {
        "",
        "a b",
        "a+b",
        "a\tb",
        "a\nb",
        "a\x7f",
        "a\xc2\x85",
        "a\xc2\xa0",
        "a\xe3\x80\x80",
        "a\xe2\x80\xa8",
        "a\xff",
        "a\xc0\xaf",
        "a\xe0\x80\xaf",
        "a\xf0\x80\x80\xaf",
        "a\xed\xa0\x80",
        "a\xe2\x80",
        "a\xf4\x90\x80\x80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(ivl_note_name_valid(bad[i]));
    memset(longname, 'a', sizeof longname);
    longname[IVL_NOTE_MAX_NAME] = '\0';
    assert_true(ivl_note_name_valid(longname));
    longname[IVL_NOTE_MAX_NAME] = 'a';
    longname[IVL_NOTE_MAX_NAME + 1] = '\0';
    assert_false(ivl_note_name_valid(longname));
}

/* ---- signing and opening the Go vectors -------------------------------- */

/* libsodium keypair from the seed_hex line of signed-note/keys.txt, checked
 * against the published public key. */
static void keypair_from_vectors(const char *name, uint8_t pk[32], uint8_t sk[64])
{
    char hex[256];
    uint8_t seed[32], pub[32];

    lookup(SN "keys.txt", "seed_hex", name, hex, sizeof hex);
    unhex(hex, seed, 32);
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
    lookup(SN "keys.txt", "pub_hex", name, hex, sizeof hex);
    unhex(hex, pub, 32);
    assert_memory_equal(pk, pub, 32);
}

static void test_sign_reproduces_go(void **state)
{
    size_t tlen, nlen, n2len, tl = 0;
    char *text = slurp(SN "peterneumann.text", &tlen);
    char *note = slurp(SN "peterneumann.note", &nlen);
    char *two = slurp(SN "peterneumann-enochroot.note", &n2len);
    char line[IVL_NOTE_SIGLINE_MAX + 1], line2[IVL_NOTE_SIGLINE_MAX + 1];
    uint8_t pk[32], sk[64];
    struct ivl_vkey peter;
    uint32_t mask = 0;

    (void)state;
    keypair_from_vectors("PeterNeumann", pk, sk);
    assert_int_equal(ivl_note_sign_line(text, tlen, "PeterNeumann", sk, line, sizeof line), IVL_OK);
    /* text + blank line + our line == Go's note, byte for byte. */
    assert_int_equal(tlen + 1 + strlen(line), nlen);
    assert_memory_equal(note, text, tlen);
    assert_int_equal(note[tlen], '\n');
    assert_memory_equal(note + tlen + 1, line, strlen(line));

    load_vkey(SN "keys.txt", "PeterNeumann", &peter);
    assert_memory_equal(peter.pub, pk, 32);
    assert_int_equal(ivl_note_open(note, nlen, &peter, 1, &tl, &mask), IVL_OK);
    assert_int_equal(tl, tlen);
    assert_int_equal(mask, 1);

    /* EnochRoot's seed is 32 zero bytes: its line of the two-signature note
     * must come out of our signer too. */
    keypair_from_vectors("EnochRoot", pk, sk);
    assert_int_equal(ivl_note_sign_line(text, tlen, "EnochRoot", sk, line2, sizeof line2), IVL_OK);
    assert_int_equal(n2len, nlen + strlen(line2));
    assert_memory_equal(two, note, nlen);
    assert_memory_equal(two + nlen, line2, strlen(line2));
    free(text);
    free(note);
    free(two);
}

static void test_open_two_signatures(void **state)
{
    struct ivl_vkey k[2], rev[2];
    size_t len, tl = 0;
    char *two = slurp(SN "peterneumann-enochroot.note", &len);
    uint32_t mask = 0;

    (void)state;
    load_vkey(SN "keys.txt", "PeterNeumann", &k[0]);
    load_vkey(SN "keys.txt", "EnochRoot", &k[1]);
    rev[0] = k[1], rev[1] = k[0];
    assert_int_equal(ivl_note_open(two, len, k, 1, &tl, &mask), IVL_OK);
    assert_int_equal(mask, 1); /* EnochRoot's line ignored, not an error */
    assert_int_equal(ivl_note_open(two, len, k, 2, &tl, &mask), IVL_OK);
    assert_int_equal(mask, 3);
    assert_int_equal(ivl_note_open(two, len, &k[1], 1, &tl, &mask), IVL_OK);
    assert_int_equal(mask, 1);
    assert_int_equal(ivl_note_open(two, len, rev, 2, &tl, &mask), IVL_OK);
    assert_int_equal(mask, 3);
    /* Keys past the 32nd still verify, but have no bit in the mask. */
    struct ivl_vkey many[33];
    for (size_t i = 0; i < 32; i++)
        many[i] = k[1];
    many[32] = k[0];
    free(two);
    two = slurp(SN "peterneumann.note", &len);
    assert_int_equal(ivl_note_open(two, len, many, 33, &tl, &mask), IVL_OK);
    assert_int_equal(mask, 0);
    free(two);
    two = slurp(SN "peterneumann-enochroot.note", &len);
    /* No known key at all: well-formed but unverified. */
    assert_int_equal(ivl_note_open(two, len, NULL, 0, &tl, &mask), IVL_E_BAD_SIG);

    /* Damage EnochRoot's signature (a base64 digit in its middle): ignored
     * while the key is unknown, fatal once it is known. */
    char *bad = malloc(len);
    assert_non_null(bad);
    memcpy(bad, two, len);
    size_t off = len - 30;
    bad[off] = bad[off] == 'A' ? 'B' : 'A';
    assert_int_equal(ivl_note_open(bad, len, k, 1, &tl, &mask), IVL_OK);
    assert_int_equal(ivl_note_open(bad, len, k, 2, &tl, &mask), IVL_E_BAD_SIG);
    assert_int_equal(ivl_note_open(bad, len, rev, 2, &tl, &mask), IVL_E_BAD_SIG);
    free(bad);
    free(two);
}

/* A line that shares the name but not the key id of a known key (or the key
 * id but not the name) belongs to another key and is ignored. */
static void test_name_or_id_collision_ignored(void **state)
{
    size_t tlen, len, tl;
    char *text = slurp(SN "peterneumann.text", &tlen);
    char *note = slurp(SN "peterneumann.note", &len);
    char buf[NOTEMAX], line[IVL_NOTE_SIGLINE_MAX + 1];
    const char *b64 = strrchr(note, ' ') + 1; /* Peter's base64, key id c74f20a3 */
    struct ivl_vkey k[2];
    uint8_t pk[32], sk[64];
    uint32_t mask;
    int n;

    (void)state;
    load_vkey(SN "keys.txt", "PeterNeumann", &k[0]);
    load_vkey(SN "keys.txt", "EnochRoot", &k[1]);
    /* EnochRoot's name with PeterNeumann's key id: known name, unknown id. */
    n = snprintf(buf, sizeof buf, "%.*s\n\xe2\x80\x94 EnochRoot %s", (int)tlen, text, b64);
    assert_int_equal(ivl_note_open(buf, (size_t)n, k, 2, &tl, &mask), IVL_E_BAD_SIG);
    /* Names that merely share a prefix with the known name are other keys. */
    n = snprintf(buf, sizeof buf, "%.*s\n\xe2\x80\x94 Peter %s", (int)tlen, text, b64);
    assert_int_equal(ivl_note_open(buf, (size_t)n, k, 2, &tl, &mask), IVL_E_BAD_SIG);
    n = snprintf(buf, sizeof buf, "%.*s\n\xe2\x80\x94 PeterNeumannX %s", (int)tlen, text, b64);
    assert_int_equal(ivl_note_open(buf, (size_t)n, k, 2, &tl, &mask), IVL_E_BAD_SIG);
    /* ... next to a valid PeterNeumann line it does not spoil the note. */
    n = snprintf(buf, sizeof buf, "%s\xe2\x80\x94 EnochRoot %s", note, b64);
    assert_int_equal(ivl_note_open(buf, (size_t)n, k, 2, &tl, &mask), IVL_OK);
    assert_int_equal(mask, 1);

    /* A repeated line of a known key is verified again: a bad repeat of a
     * verified key is refused (Go would skip it; C2SP says verify). */
    keypair_from_vectors("PeterNeumann", pk, sk);
    assert_int_equal(ivl_note_sign_line(text, tlen, "PeterNeumann", sk, line, sizeof line), IVL_OK);
    n = snprintf(buf, sizeof buf, "%s%s", note, line);
    assert_int_equal(ivl_note_open(buf, (size_t)n, k, 1, &tl, &mask), IVL_OK);
    size_t off = strlen(line) - 20; /* inside the signature, past the key id */
    line[off] = line[off] == 'A' ? 'B' : 'A';
    n = snprintf(buf, sizeof buf, "%s%s", note, line);
    assert_int_equal(ivl_note_open(buf, (size_t)n, k, 1, &tl, &mask), IVL_E_BAD_SIG);
    free(text);
    free(note);
}

static void test_negative_vectors(void **state)
{
    DIR *d = opendir(SN "negative");
    struct dirent *e;
    struct ivl_vkey k[2];
    int count = 0;

    (void)state;
    assert_non_null(d);
    load_vkey(SN "keys.txt", "PeterNeumann", &k[0]);
    load_vkey(SN "keys.txt", "EnochRoot", &k[1]);
    while ((e = readdir(d)) != NULL) {
        char path[512];
        size_t tl = 12345;
        uint32_t mask = 0xdead;
        int want, rc;

        if (strstr(e->d_name, ".note") == NULL) continue;
        snprintf(path, sizeof path, SN "negative/%s", e->d_name);
        /* bad-08 is well-formed with a known key's invalid signature. */
        want = strstr(e->d_name, "invalid-signature") ? IVL_E_BAD_SIG : IVL_E_BAD_NOTE;
        rc = open_file(path, k, 1, &tl, &mask);
        if (rc != want)
            fail_msg("%s: got %s, want %s", e->d_name, ivl_err_code(rc), ivl_err_code(want));
        assert_int_equal(open_file(path, k, 2, &tl, &mask), want);
        assert_int_equal(tl, 12345); /* outputs untouched on failure */
        assert_int_equal(mask, 0xdead);
        count++;
    }
    closedir(d);
    assert_int_equal(count, 9);
}

/* Go allows 100 signature lines and refuses 101, known or not. */
static void test_signature_limit(void **state)
{
    size_t tlen, len, tl;
    char *text = slurp(SN "peterneumann.text", &tlen);
    char *note = slurp(SN "peterneumann.note", &len);
    const char *sig = note + tlen + 1;
    size_t siglen = len - tlen - 1;
    static char buf[200 * 120];
    struct ivl_vkey k;
    uint32_t mask;
    size_t n = tlen + 1;

    (void)state;
    load_vkey(SN "keys.txt", "PeterNeumann", &k);
    memcpy(buf, note, n);
    for (int i = 0; i < IVL_NOTE_MAX_SIGS; i++, n += siglen)
        memcpy(buf + n, sig, siglen);
    assert_int_equal(ivl_note_open(buf, n, &k, 1, &tl, &mask), IVL_OK);
    assert_int_equal(mask, 1);
    /* The 101st line counts even when it is an unknown key's. */
    static const char other[] = "\xe2\x80\x94 someone AAAAAAAA\n";
    memcpy(buf + n, other, sizeof other - 1);
    assert_int_equal(ivl_note_open(buf, n + sizeof other - 1, &k, 1, &tl, &mask), IVL_E_BAD_NOTE);
    free(text);
    free(note);
}

/* Malformations not covered by the Go vectors. */
static void test_malformed_notes(void **state)
{
    size_t tlen, len, tl;
    char *text = slurp(SN "peterneumann.text", &tlen);
    char *note = slurp(SN "peterneumann.note", &len);
    const char *b64 = strrchr(note, ' ') + 1;
    char buf[NOTEMAX];
    struct ivl_vkey k;
    uint32_t mask;
    int n;

    (void)state;
    load_vkey(SN "keys.txt", "PeterNeumann", &k);
#define OPEN_FMT(want, ...)                                                                        \
    do {                                                                                           \
        n = snprintf(buf, sizeof buf, __VA_ARGS__);                                                \
        assert_int_equal(ivl_note_open(buf, (size_t)n, &k, 1, &tl, &mask), want);                  \
    } while (0)
    /* Sanity: the same construction with nothing wrong opens. */
    OPEN_FMT(IVL_OK, "%.*s\n\xe2\x80\x94 PeterNeumann %s", (int)tlen, text, b64);
    /* hyphen instead of em dash; no space; two spaces; CR */
    OPEN_FMT(IVL_E_BAD_NOTE, "%.*s\n- PeterNeumann %s", (int)tlen, text, b64);
    OPEN_FMT(IVL_E_BAD_NOTE, "%.*s\n\xe2\x80\x94PeterNeumann %s", (int)tlen, text, b64);
    OPEN_FMT(IVL_E_BAD_NOTE, "%.*s\n\xe2\x80\x94 PeterNeumann  %s", (int)tlen, text, b64);
    OPEN_FMT(IVL_E_BAD_NOTE, "%.*s\n\xe2\x80\x94 PeterNeumann %.*s\r\n", (int)tlen, text,
             (int)strlen(b64) - 1, b64);
    /* no name; name with '+'; base64 without its padding; too short (4 bytes) */
    OPEN_FMT(IVL_E_BAD_NOTE, "%.*s\n\xe2\x80\x94  %s", (int)tlen, text, b64);
    OPEN_FMT(IVL_E_BAD_NOTE, "%.*s\n\xe2\x80\x94 Peter+Neumann %s", (int)tlen, text, b64);
    OPEN_FMT(IVL_E_BAD_NOTE, "%.*s\n\xe2\x80\x94 PeterNeumann %.*s\n", (int)tlen, text,
             (int)strlen(b64) - 2, b64);
    OPEN_FMT(IVL_E_BAD_NOTE, "%.*s\n\xe2\x80\x94 PeterNeumann x08goA==\n", (int)tlen, text);
    /* A blank line between two signature lines makes the first one part of
     * the text (the last blank line splits, as in Go), so the signature no
     * longer covers the text. An empty note is malformed. */
    OPEN_FMT(IVL_E_BAD_SIG, "%s\n\xe2\x80\x94 PeterNeumann %s", note, b64);
    assert_int_equal(ivl_note_open("", 0, &k, 1, &tl, &mask), IVL_E_BAD_NOTE);
    /* A valid signature followed by extra bytes is not a 64-byte Ed25519
     * signature (libsodium would read only the first 64). */
    {
        uint8_t blob[80];
        char b64x[128];
        size_t got = 0;

        assert_int_equal(sodium_base642bin(blob, sizeof blob, b64, strlen(b64) - 1, NULL, &got,
                                           NULL, sodium_base64_VARIANT_ORIGINAL),
                         0);
        assert_int_equal(got, 68);
        memset(blob + 68, 0, 3);
        sodium_bin2base64(b64x, sizeof b64x, blob, 71, sodium_base64_VARIANT_ORIGINAL);
        OPEN_FMT(IVL_E_BAD_SIG, "%.*s\n\xe2\x80\x94 PeterNeumann %s\n", (int)tlen, text, b64x);
    }
    /* Overlong UTF-8 ('/' as 3 and 4 bytes) and a surrogate in the text. */
    OPEN_FMT(IVL_E_BAD_NOTE, "a\xe0\x80\xaf\n%s", note + tlen);
    OPEN_FMT(IVL_E_BAD_NOTE, "a\xf0\x80\x80\xaf\n%s", note + tlen);
    OPEN_FMT(IVL_E_BAD_NOTE, "a\xed\xbf\xbf\n%s", note + tlen);
    /* An embedded NUL in the text. */
    memcpy(buf, note, len);
    buf[3] = '\0';
    assert_int_equal(ivl_note_open(buf, len, &k, 1, &tl, &mask), IVL_E_BAD_NOTE);
#undef OPEN_FMT
    free(text);
    free(note);
}

static void test_sign_refuses_bad_input(void **state)
{
    uint8_t pk[32], sk[64];
    char line[IVL_NOTE_SIGLINE_MAX + 1];

    (void)state;
    keypair_from_vectors("PeterNeumann", pk, sk);
    assert_int_equal(ivl_note_sign_line("abc", 3, "P", sk, line, sizeof line), IVL_E_USAGE);
    assert_int_equal(ivl_note_sign_line("a\x01\n", 3, "P", sk, line, sizeof line), IVL_E_USAGE);
    assert_int_equal(ivl_note_sign_line("\xff\n", 2, "P", sk, line, sizeof line), IVL_E_USAGE);
    assert_int_equal(ivl_note_sign_line("", 0, "P", sk, line, sizeof line), IVL_E_USAGE);
    assert_int_equal(ivl_note_sign_line("a\n", 2, "a b", sk, line, sizeof line), IVL_E_USAGE);
    assert_int_equal(ivl_note_sign_line("a\n", 2, "a+b", sk, line, sizeof line), IVL_E_USAGE);
    assert_int_equal(ivl_note_sign_line("a\n", 2, "P", sk, line, 20), IVL_E_USAGE);
    assert_int_equal(ivl_note_sign_line("a\n", 2, "P", sk, line, sizeof line), IVL_OK);
    /* A secret key whose public half is not its seed's is caught. */
    sk[40] ^= 1;
    assert_int_equal(ivl_note_sign_line("a\n", 2, "P", sk, line, sizeof line), IVL_E_KEY_CORRUPT);
}

/* ---- checkpoints ------------------------------------------------------- */

static void test_checkpoint_vectors(void **state)
{
    struct ivl_vkey k;
    char origin[256];
    uint64_t size;
    uint8_t root[32], want[32], r5[32], proof[8][32];
    size_t len, tl;
    uint32_t mask;

    (void)state;
    /* The real sum.golang.org checkpoint. */
    load_vkey(CP "keys.txt", "sum.golang.org", &k);
    open_checkpoint(CP "sum-golang-org-1514086.note", &k, origin, sizeof origin, &size, root);
    assert_string_equal(origin, "go.sum database tree");
    assert_int_equal(size, 1514086);

    /* monkeys 5 and 8: the roots are those of the published consistency
     * proof, which verifies between them. */
    load_vkey(CP "keys.txt", "monkeys", &k);
    open_checkpoint(CP "monkeys-5.note", &k, origin, sizeof origin, &size, r5);
    assert_string_equal(origin, "monkeys");
    assert_int_equal(size, 5);
    load_hash(CP "monkeys-consistency-5-8.txt", "root1", want);
    assert_memory_equal(r5, want, 32);
    open_checkpoint(CP "monkeys-8.note", &k, origin, sizeof origin, &size, root);
    assert_string_equal(origin, "monkeys");
    assert_int_equal(size, 8);
    load_hash(CP "monkeys-consistency-5-8.txt", "root2", want);
    assert_memory_equal(root, want, 32);
    struct hexlines hl = {.tag = "proof"};
    assert_int_equal(each_line(CP "monkeys-consistency-5-8.txt", "proof", hexline_cb, &hl), 4);
    memcpy(proof, hl.h, sizeof proof);
    assert_int_equal(ivl_merkle_verify_consistency(5, 8, r5, root, (const uint8_t(*)[32])proof, 4),
                     IVL_OK);
    /* The sum.golang.org key does not open a monkeys checkpoint. */
    load_vkey(CP "keys.txt", "sum.golang.org", &k);
    assert_int_equal(open_file(CP "monkeys-5.note", &k, 1, &tl, &mask), IVL_E_BAD_SIG);

    /* C2SP signed-note example, key example.com/foo. */
    load_vkey(SN "keys.txt", "example.com/foo", &k);
    assert_int_equal(open_file(SN "c2sp-example-foo.note", &k, 1, &tl, &mask), IVL_OK);
    assert_int_equal(tl, strlen("This is an example message.\n"));

    /* C2SP examples: well-formed, not verifiable (no published key): the
     * checkpoint text parses, and the notes are refused only for want of a
     * known signer (the 76-byte cosignature line is no formatting error). */
    const char *ex[] = {EX "tlog-checkpoint-example.note", EX "tlog-cosignature-example.note"};
    for (size_t i = 0; i < 2; i++) {
        char *buf = slurp(ex[i], &len);
        const char *blank = strstr(buf, "\n\n");

        assert_non_null(blank);
        assert_int_equal(ivl_checkpoint_parse(buf, (size_t)(blank - buf) + 1, origin, sizeof origin,
                                              &size, root),
                         IVL_OK);
        assert_string_equal(origin, "example.com/behind-the-sofa");
        assert_int_equal(size, 20852163);
        assert_int_equal(ivl_note_open(buf, len, &k, 1, &tl, &mask), IVL_E_BAD_SIG);
        free(buf);
    }
}

/* A witness cosignature (type 0x04, 4+8+64 bytes) from an unknown key is
 * ignored next to a verifying log signature. */
static void test_cosignature_line_ignored(void **state)
{
    size_t len, clen, tl;
    char *note = slurp(CP "monkeys-5.note", &len);
    char *co = slurp(EX "tlog-cosignature-example.note", &clen);
    const char *cl = strstr(co, "\xe2\x80\x94 witness.example.com/w1 ");
    char buf[NOTEMAX];
    struct ivl_vkey k;
    uint32_t mask = 0;
    int n;

    (void)state;
    assert_non_null(cl);
    load_vkey(CP "keys.txt", "monkeys", &k);
    n = snprintf(buf, sizeof buf, "%s%s", note, cl);
    assert_int_equal(ivl_note_open(buf, (size_t)n, &k, 1, &tl, &mask), IVL_OK);
    assert_int_equal(mask, 1);
    n = snprintf(buf, sizeof buf, "%.*s\n%s%s", (int)tl, note, cl, note + tl + 1);
    assert_int_equal(ivl_note_open(buf, (size_t)n, &k, 1, &tl, &mask), IVL_OK);
    free(note);
    free(co);
}

/* The split view of Go's TestClientFork: both checkpoints carry valid
 * signatures of the same key, and the consistency proof shows the size-6
 * tree does not extend the signed size-5 tree. */
static void test_split_view(void **state)
{
    const char *ev = CP "sumdb-localhost-fork-evidence.txt";
    struct ivl_vkey k;
    char origin[64];
    uint64_t s5, s6;
    uint8_t r5[32], r6[32], want[32], other5[32], proof[8][32];

    (void)state;
    load_vkey(CP "keys.txt", "localhost.localdev/sumdb", &k);
    assert_int_equal(k.key_id, 0x00000c67);
    open_checkpoint(CP "sumdb-localhost-5.note", &k, origin, sizeof origin, &s5, r5);
    assert_string_equal(origin, "go.sum database tree");
    open_checkpoint(CP "sumdb-localhost-6.note", &k, origin, sizeof origin, &s6, r6);
    assert_string_equal(origin, "go.sum database tree");
    assert_int_equal(s5, 5);
    assert_int_equal(s6, 6);
    load_hash(ev, "signed_root5", want);
    assert_memory_equal(r5, want, 32);
    load_hash(ev, "signed_root6", want);
    assert_memory_equal(r6, want, 32);
    load_hash(ev, "other_root5", other5);
    struct hexlines hl = {.tag = "proof"};
    assert_int_equal(each_line(ev, "proof", hexline_cb, &hl), 3);
    memcpy(proof, hl.h, sizeof proof);
    const uint8_t(*p)[32] = (const uint8_t(*)[32])proof;
    /* The proof is genuine: it links the log's other size-5 root to r6 ... */
    assert_int_equal(ivl_merkle_verify_consistency(s5, s6, other5, r6, p, 3), IVL_OK);
    /* ... so the signed size-5 root cannot be a prefix of r6: a fork. */
    assert_int_equal(ivl_merkle_verify_consistency(s5, s6, r5, r6, p, 3), IVL_E_BAD_PROOF);
    assert_memory_not_equal(r5, other5, 32);
}

static void test_checkpoint_parse_strict(void **state)
{
    static const char root_b64[] = "kn9DgqDhXzoZMM8828SQsbuovr/WRn7QfFd5Qe1rpwA=";
    uint8_t root[32], want[32];
    char origin[16], buf[512];
    uint64_t size;
    size_t got;
    int n;

    (void)state;
    assert_int_equal(
        sodium_base642bin(want, 32, root_b64, 44, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL),
        0);
#define PARSE(...)                                                                                 \
    (n = snprintf(buf, sizeof buf, __VA_ARGS__),                                                   \
     ivl_checkpoint_parse(buf, (size_t)n, origin, sizeof origin, &size, root))
    assert_int_equal(PARSE("o\n0\n%s\n", root_b64), IVL_OK);
    assert_int_equal(size, 0);
    assert_memory_equal(root, want, 32);
    assert_int_equal(PARSE("o\n18446744073709551615\n%s\n", root_b64), IVL_OK);
    assert_true(size == UINT64_MAX);
    assert_int_equal(PARSE("o\n7\n%s\next 1\nmore\n", root_b64), IVL_OK);
    assert_int_equal(size, 7);
    assert_int_equal(PARSE("0123456789abcde\n1\n%s\n", root_b64), IVL_OK); /* 15 fits in 16 */
    assert_string_equal(origin, "0123456789abcde");
    const char *bad_sizes[] = {"",
                               "00",
                               "01",
                               "-1",
                               "+1",
                               " 1",
                               "1 ",
                               "1.0",
                               "0x10",
                               "18446744073709551616",
                               "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++)
        assert_int_equal(PARSE("o\n%s\n%s\n", bad_sizes[i], root_b64), IVL_E_BAD_CHECKPOINT);
    /* roots: non-zero pad bits, missing or extra padding, garbage, 31/33 bytes */
    const char *bad_roots[] = {"kn9DgqDhXzoZMM8828SQsbuovr/WRn7QfFd5Qe1rpwB=",
                               "kn9DgqDhXzoZMM8828SQsbuovr/WRn7QfFd5Qe1rpwA",
                               "kn9DgqDhXzoZMM8828SQsbuovr/WRn7QfFd5Qe1rpwA==",
                               "kn9DgqDhXzoZMM8828SQsbuovr/WRn7QfFd5Qe1rpwA=A",
                               "kn9DgqDhXzoZMM8828SQsbuovr/WRn7QfFd5Qe1rpw==",
                               "kn9DgqDhXzoZMM8828SQsbuovr/WRn7QfFd5Qe1rpwAA",
                               "kn9DgqDhXzoZMM8828SQsbuovr/WRn7QfFd5Qe1r-wA=",
                               " kn9DgqDhXzoZMM8828SQsbuovr/WRn7QfFd5Qe1rpwA=",
                               "kn9D=qDhXzoZMM8828SQsbuovr/WRn7QfFd5Qe1rpwA=",
                               /* 1 + 30 + 1 = 32 bytes, but padded mid-stream */
                               "QQ==AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQQ==", "===="};
    for (size_t i = 0; i < sizeof bad_roots / sizeof bad_roots[0]; i++)
        assert_int_equal(PARSE("o\n1\n%s\n", bad_roots[i]), IVL_E_BAD_CHECKPOINT);
    /* structure: empty origin, missing lines, no final newline, empty
     * extension line (e.g. a whole note passed in), origin too long, CR */
    assert_int_equal(PARSE("\n1\n%s\n", root_b64), IVL_E_BAD_CHECKPOINT);
    assert_int_equal(PARSE("o\n1\n"), IVL_E_BAD_CHECKPOINT);
    assert_int_equal(PARSE("o\n"), IVL_E_BAD_CHECKPOINT);
    assert_int_equal(PARSE("o\n1\n%s", root_b64), IVL_E_BAD_CHECKPOINT);
    assert_int_equal(PARSE("o\n1\n%s\n\n\xe2\x80\x94 o AAAAAAAA\n", root_b64),
                     IVL_E_BAD_CHECKPOINT);
    assert_int_equal(PARSE("0123456789abcdef\n1\n%s\n", root_b64), IVL_E_BAD_CHECKPOINT);
    assert_int_equal(PARSE("o\r\n1\n%s\n", root_b64), IVL_E_BAD_CHECKPOINT);
    assert_int_equal(PARSE("o\n1\r\n%s\n", root_b64), IVL_E_BAD_CHECKPOINT);
#undef PARSE
    assert_int_equal(ivl_checkpoint_format("", 1, want, buf, sizeof buf), IVL_E_USAGE);
    assert_int_equal(ivl_checkpoint_format("a\nb", 1, want, buf, sizeof buf), IVL_E_USAGE);
    assert_int_equal(ivl_checkpoint_format("o", 1, want, buf, 10), IVL_E_USAGE);
}

/* ---- round trip -------------------------------------------------------- */

static void test_round_trip_and_tamper(void **state)
{
    static const char origin[] = "example.org/ivl/county-vouchers";
    uint8_t pk[32], sk[64], root[32], root2[32];
    char body[256], line[IVL_NOTE_SIGLINE_MAX + 1], note[512], bad[512], vk[IVL_VKEY_MAX_LEN + 1];
    char origin2[64];
    struct ivl_vkey k;
    size_t blen, nlen, tl = 0;
    uint64_t size = 0;
    uint32_t mask = 0;

    (void)state;
    crypto_sign_keypair(pk, sk);
    randombytes_buf(root, sizeof root);
    assert_int_equal(ivl_vkey_format(origin, pk, vk, sizeof vk), IVL_OK);
    assert_int_equal(ivl_vkey_parse(vk, strlen(vk), &k), IVL_OK);
    assert_int_equal(ivl_checkpoint_format(origin, 1234567890123ULL, root, body, sizeof body),
                     IVL_OK);
    blen = strlen(body);
    assert_int_equal(ivl_note_sign_line(body, blen, origin, sk, line, sizeof line), IVL_OK);
    nlen = (size_t)snprintf(note, sizeof note, "%s\n%s", body, line);
    assert_int_equal(ivl_note_open(note, nlen, &k, 1, &tl, &mask), IVL_OK);
    assert_int_equal(tl, blen);
    assert_int_equal(mask, 1);
    assert_int_equal(ivl_checkpoint_parse(note, tl, origin2, sizeof origin2, &size, root2), IVL_OK);
    assert_string_equal(origin2, origin);
    assert_true(size == 1234567890123ULL);
    assert_memory_equal(root2, root, 32);

    /* Any changed byte, and any truncation, is refused. */
    static const int deltas[] = {1, -1, 0x80};
    for (size_t i = 0; i < nlen; i++)
        for (size_t d = 0; d < 3; d++) {
            memcpy(bad, note, nlen);
            bad[i] = (char)(deltas[d] == 0x80 ? bad[i] ^ 0x80 : bad[i] + deltas[d]);
            if (ivl_note_open(bad, nlen, &k, 1, &tl, &mask) == IVL_OK)
                fail_msg("note with byte %zu changed by %d opened", i, deltas[d]);
        }
    for (size_t i = 0; i < nlen; i++)
        assert_int_not_equal(ivl_note_open(note, i, &k, 1, &tl, &mask), IVL_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vkeys_from_vectors),
        cmocka_unit_test(test_bad_vkeys),
        cmocka_unit_test(test_name_valid),
        cmocka_unit_test(test_sign_reproduces_go),
        cmocka_unit_test(test_open_two_signatures),
        cmocka_unit_test(test_name_or_id_collision_ignored),
        cmocka_unit_test(test_negative_vectors),
        cmocka_unit_test(test_signature_limit),
        cmocka_unit_test(test_malformed_notes),
        cmocka_unit_test(test_sign_refuses_bad_input),
        cmocka_unit_test(test_checkpoint_vectors),
        cmocka_unit_test(test_cosignature_line_ignored),
        cmocka_unit_test(test_split_view),
        cmocka_unit_test(test_checkpoint_parse_strict),
        cmocka_unit_test(test_round_trip_and_tamper),
    };

    if (sodium_init() < 0) return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
