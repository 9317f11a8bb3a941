/*
 * test_keys.c - the secret key module (keys/key.c) and durable file helpers
 * (ledger/fileio.c).
 *
 * Known answers come from the golang/mod signed-note vectors in
 * ../shared/vectors/signed-note; key files are also built here from
 * docs/FORMAT.md (secret key file) with raw libsodium calls, so the loader is checked against
 * the document rather than against its own writer. Every test works in a
 * mkdtemp directory under /tmp that is removed afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "ed25519.h"
#include "key.h"

#define VEC        "../shared/vectors/signed-note/"
#define FAST_OPS   crypto_pwhash_argon2id_OPSLIMIT_MIN
#define FAST_MEM   crypto_pwhash_argon2id_MEMLIMIT_MIN
#define PASSPHRASE "correct horse battery staple"

static char tmpdir[64];

/* ---- helpers ---- */

static const char *at(const char *name)
{
    static char buf[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
    return buf[i];
}

struct pass {
    const char *pw;
    int calls;
    int rc;
};

static int pass_cb(void *ctx, char *buf, size_t cap, size_t *len)
{
    struct pass *p = ctx;
    p->calls++;
    if (p->rc) return p->rc;
    size_t n = strlen(p->pw);
    assert_true(n <= cap);
    memcpy(buf, p->pw, n);
    *len = n;
    return 0;
}

static void write_raw(const char *path, const uint8_t *data, size_t len, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    char *buf;
    assert_int_equal(ivl_file_read(path, 1 << 20, &buf, len), IVL_OK);
    return (uint8_t *)buf;
}

static void reseal(uint8_t *buf, size_t len)
{
    crypto_hash_sha256(buf + len - 32, buf, len - 32);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Loads and expects `want`; the callback may be called only when allowed. */
static void expect_load(const char *path, struct pass *p, int want)
{
    struct ivl_seckey *k = (struct ivl_seckey *)1;
    int rc = ivl_key_load(path, pass_cb, p, &k);
    if (rc != want)
        fail_msg("%s: got %s (%s), want %s", path, ivl_err_code(rc), ivl_err_detail(rc),
                 ivl_err_code(want));
    assert_null(k);
}

static struct ivl_seckey *load_ok(const char *path, const char *pw)
{
    struct pass p = {pw, 0, 0};
    struct ivl_seckey *k = NULL;
    int rc = ivl_key_load(path, pass_cb, &p, &k);
    if (rc != IVL_OK) fail_msg("%s: %s", ivl_err_code(rc), ivl_err_detail(rc));
    assert_int_equal(p.calls, pw ? 1 : 0);
    return k;
}

static void assert_same_key(const struct ivl_seckey *a, const struct ivl_seckey *b)
{
    assert_string_equal(ivl_key_name(a), ivl_key_name(b));
    assert_memory_equal(ivl_key_public(a), ivl_key_public(b), 32);
    assert_memory_equal(ivl_key_secret(a), ivl_key_secret(b), 64);
}

static void assert_signs(const struct ivl_seckey *k, const uint8_t *pk)
{
    static const uint8_t msg[] = "voucher 42 redeemed\n";
    uint8_t sig[64];
    assert_int_equal(ivl_key_sign(k, msg, sizeof msg - 1, sig), IVL_OK);
    assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof msg - 1, pk), 0);
    sig[10] ^= 1;
    assert_int_not_equal(crypto_sign_verify_detached(sig, msg, sizeof msg - 1, pk), 0);
}

/* Finds "<tag> <name> <hex>" in keys.txt and decodes the hex. */
static void vector_hex(const char *keys, const char *tag, uint8_t out[32])
{
    const char *p = strstr(keys, tag);
    assert_non_null(p);
    p += strlen(tag);
    size_t n;
    assert_int_equal(sodium_hex2bin(out, 32, p, 64, NULL, &n, NULL), 0);
    assert_int_equal(n, 32);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/ivl-test-keys-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Saves a fresh plain and a fast encrypted copy of one key; returns it. */
static struct ivl_seckey *two_files(const char *plain, const char *enc)
{
    struct ivl_seckey *k;
    assert_int_equal(ivl_key_generate("example.com/auditor", &k), IVL_OK);
    unlink(at(plain));
    unlink(at(enc));
    assert_int_equal(ivl_key_save(k, at(plain), NULL, 0, 0), IVL_OK);
    assert_int_equal(
        ivl_key_save_params(k, at(enc), PASSPHRASE, strlen(PASSPHRASE), 0, FAST_OPS, FAST_MEM),
        IVL_OK);
    return k;
}

/* ---- known answers ---- */

static void test_known_answer(void **state)
{
    (void)state;
    char *keys, *note, *text;
    size_t kl, nl, tl, sl;
    uint8_t seed[32], pub[32], sig[64], raw[68];
    assert_int_equal(ivl_file_read(VEC "keys.txt", 1 << 16, &keys, &kl), IVL_OK);
    assert_int_equal(ivl_file_read(VEC "peterneumann.note", 1 << 16, &note, &nl), IVL_OK);
    assert_int_equal(ivl_file_read(VEC "peterneumann.text", 1 << 16, &text, &tl), IVL_OK);
    vector_hex(keys, "seed_hex PeterNeumann ", seed);
    vector_hex(keys, "pub_hex PeterNeumann ", pub);

    struct ivl_seckey *k;
    assert_int_equal(ivl_key_from_seed("PeterNeumann", seed, &k), IVL_OK);
    assert_string_equal(ivl_key_name(k), "PeterNeumann");
    assert_memory_equal(ivl_key_public(k), pub, 32);
    assert_memory_equal(ivl_key_secret(k), seed, 32);
    assert_memory_equal(ivl_key_secret(k) + 32, pub, 32);

    /* Ed25519 is deterministic: re-signing must give the note's signature. */
    const char *line = strstr(note, "\xe2\x80\x94 PeterNeumann ");
    assert_non_null(line);
    line += strlen("\xe2\x80\x94 PeterNeumann ");
    assert_int_equal(sodium_base642bin(raw, sizeof raw, line, strcspn(line, "\n"), NULL, &sl, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(sl, 68);
    assert_int_equal(ivl_key_sign(k, (const uint8_t *)text, tl, sig), IVL_OK);
    assert_memory_equal(sig, raw + 4, 64);

    /* So must signing many at once: by libsodium one by one (before the
     * fast signer is prepared, then with IVL_NO_FAST_SIGN), and by the fast
     * signer: the vector among 40 other messages. */
    for (int off = 0; off < 3; off++) {
        const uint8_t *ms[41];
        size_t ls[41];
        uint8_t sigs[41][64], one[64];
        for (int i = 0; i < 41; i++)
            ms[i] = (const uint8_t *)text, ls[i] = (size_t)i * tl / 41;
        ls[37] = tl;
        if (off == 1) assert_int_equal(ivl_ed25519_sign_prepare(), 0);
        if (off == 2) setenv("IVL_NO_FAST_SIGN", "1", 1);
        assert_int_equal(ivl_key_sign_many(k, 41, ms, ls, sigs), IVL_OK);
        unsetenv("IVL_NO_FAST_SIGN");
        assert_memory_equal(sigs[37], raw + 4, 64);
        for (int i = 0; i < 41; i++) {
            assert_int_equal(ivl_key_sign(k, ms[i], ls[i], one), IVL_OK);
            assert_memory_equal(sigs[i], one, 64);
        }
    }
    assert_int_equal(ivl_key_sign_many(NULL, 1, NULL, NULL, NULL), IVL_E_USAGE);

    /* The vector key survives a save/load round trip bit for bit. */
    assert_int_equal(ivl_key_save_params(k, at("pn.key"), "pw", 2, 0, FAST_OPS, FAST_MEM), IVL_OK);
    struct ivl_seckey *k2 = load_ok(at("pn.key"), "pw");
    assert_same_key(k, k2);
    assert_int_equal(ivl_key_sign(k2, (const uint8_t *)text, tl, sig), IVL_OK);
    assert_memory_equal(sig, raw + 4, 64);

    /* EnochRoot is the all-zero seed. */
    uint8_t zero[32] = {0};
    ivl_key_free(k);
    vector_hex(keys, "pub_hex EnochRoot ", pub);
    assert_int_equal(ivl_key_from_seed("EnochRoot", zero, &k), IVL_OK);
    assert_memory_equal(ivl_key_public(k), pub, 32);
    ivl_key_free(k);
    ivl_key_free(k2);
    ivl_key_free(NULL);
    free(keys);
    free(note);
    free(text);
}

static void test_names(void **state)
{
    (void)state;
    static const char *bad[] = {"",         "a+b",           "a b",           "a\tb",
                                "a\nb",     "a\x01",         "a\x7f",         "a\xc2\xa0",
                                "\xc2\x85", "\xe3\x80\x80x", "x\xe2\x80\xa8", "\xff",
                                "\xc0\xaf", "\xed\xa0\x80",  "a\xe2\x80"};
    char name[200];
    struct ivl_seckey *k = (struct ivl_seckey *)1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (ivl_key_generate(bad[i], &k) != IVL_E_USAGE) fail_msg("name %zu accepted", i);
        assert_null(k);
    }
    memset(name, 'a', 129);
    name[129] = 0;
    assert_int_equal(ivl_key_generate(name, &k), IVL_E_USAGE);
    name[128] = 0;
    assert_int_equal(ivl_key_generate(name, &k), IVL_OK);
    assert_string_equal(ivl_key_name(k), name);
    ivl_key_free(k);
    static const char *good[] = {"example.com/foo", "log.ivl.example", "\xe5\xae\xa1\xe8\xae\xa1",
                                 "A-Z_0.9"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(ivl_key_generate(good[i], &k), IVL_OK);
        ivl_key_free(k);
    }
}

/* ---- round trips ---- */

static void test_roundtrip_plain(void **state)
{
    (void)state;
    struct ivl_seckey *k, *k2;
    struct stat st;
    int enc = -1;
    assert_int_equal(ivl_key_generate("alice", &k), IVL_OK);
    assert_int_equal(ivl_key_save(k, at("alice.key"), NULL, 0, 0), IVL_OK);
    assert_int_equal(stat(at("alice.key"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 116 + 5); /* FORMAT.md, secret key file: 116 + N */
    assert_int_equal(ivl_key_is_encrypted(at("alice.key"), &enc), IVL_OK);
    assert_int_equal(enc, 0);
    k2 = load_ok(at("alice.key"), NULL); /* asserts the callback was not called */
    assert_same_key(k, k2);
    assert_signs(k2, ivl_key_public(k));
    assert_signs(k, ivl_key_public(k2));
    ivl_key_free(k);
    ivl_key_free(k2);
}

static void test_roundtrip_encrypted(void **state)
{
    (void)state;
    struct ivl_seckey *k, *k2 = NULL;
    int enc = -1;
    size_t len;
    assert_int_equal(ivl_key_generate("bob", &k), IVL_OK);
    assert_int_equal(ivl_key_save(k, at("bob.key"), "", 0, 0), IVL_E_USAGE);
    assert_int_equal(ivl_key_save(k, at("bob.key"), PASSPHRASE, strlen(PASSPHRASE), 0), IVL_OK);
    assert_int_equal(ivl_key_is_encrypted(at("bob.key"), &enc), IVL_OK);
    assert_int_equal(enc, 1);

    /* Default limits are recorded at the documented offsets; no plaintext. */
    uint8_t *f = slurp(at("bob.key"), &len);
    assert_int_equal(len, 188 + 3);
    assert_memory_equal(f,
                        "ivl-secret-key-v1\n\x01\x03"
                        "bob",
                        23);
    assert_memory_equal(f + 23, ivl_key_public(k), 32);
    uint8_t want[8];
    put_be64(want, crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
    assert_memory_equal(f + 55, want, 8);
    put_be64(want, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
    assert_memory_equal(f + 63, want, 8);
    assert_null(memmem(f, len, ivl_key_secret(k), 32));

    /* A second save of the same key draws a fresh salt and nonce. */
    size_t len2;
    assert_int_equal(ivl_key_save(k, at("bob2.key"), PASSPHRASE, strlen(PASSPHRASE), 0), IVL_OK);
    uint8_t *f2 = slurp(at("bob2.key"), &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(f2, f, 71);
    assert_memory_not_equal(f2 + 71, f + 71, 16);
    assert_memory_not_equal(f2 + 87, f + 87, 24);
    free(f2);
    free(f);

    k2 = load_ok(at("bob.key"), PASSPHRASE);
    assert_same_key(k, k2);
    assert_signs(k2, ivl_key_public(k));
    ivl_key_free(k2);

    struct pass wrong = {"correct horse battery stapler", 0, 0};
    expect_load(at("bob.key"), &wrong, IVL_E_KEY_PASSPHRASE);
    assert_int_equal(wrong.calls, 1);
    struct pass none = {NULL, 0, IVL_E_KEY_NOPASS};
    expect_load(at("bob.key"), &none, IVL_E_KEY_NOPASS);
    assert_int_equal(ivl_key_load(at("bob.key"), NULL, NULL, &k2), IVL_E_KEY_NOPASS);
    assert_null(k2);
    ivl_key_free(k);
}

/* ---- files built from docs/FORMAT.md (secret key file) alone ---- */

static size_t doc_header(uint8_t *f, uint8_t kind, const char *name, const uint8_t pk[32])
{
    size_t n = strlen(name), o = 0;
    memcpy(f, "ivl-secret-key-v1\n", 18);
    o = 18;
    f[o++] = kind;
    f[o++] = (uint8_t)n;
    memcpy(f + o, name, n);
    o += n;
    memcpy(f + o, pk, 32);
    return o + 32;
}

static void test_independent_files(void **state)
{
    (void)state;
    uint8_t seed[32], pk[32], sk[64], f[400], key[32];
    randombytes_buf(seed, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);

    /* kind 0: header | seed | SHA-256 */
    size_t o = doc_header(f, 0, "carol", pk);
    memcpy(f + o, seed, 32);
    o += 32;
    crypto_hash_sha256(f + o, f, o);
    write_raw(at("carol.key"), f, o + 32, 0600);
    struct ivl_seckey *k = load_ok(at("carol.key"), NULL);
    assert_string_equal(ivl_key_name(k), "carol");
    assert_memory_equal(ivl_key_secret(k), sk, 64);
    ivl_key_free(k);

    /* kind 1: header | ops | mem | salt | nonce | AEAD(seed, AD=header) | SHA-256 */
    o = doc_header(f, 1, "dave", pk);
    put_be64(f + o, 3);
    put_be64(f + o + 8, 65536);
    uint8_t *salt = f + o + 16, *nonce = f + o + 32;
    randombytes_buf(salt, 16 + 24);
    o += 56;
    assert_int_equal(crypto_pwhash(key, 32, "pw", 2, salt, 3, 65536, crypto_pwhash_ALG_ARGON2ID13),
                     0);
    unsigned long long cl;
    crypto_aead_xchacha20poly1305_ietf_encrypt(f + o, &cl, seed, 32, f, o, NULL, nonce, key);
    assert_int_equal(cl, 48);
    o += 48;
    crypto_hash_sha256(f + o, f, o);
    write_raw(at("dave.key"), f, o + 32, 0600);
    k = load_ok(at("dave.key"), "pw");
    assert_string_equal(ivl_key_name(k), "dave");
    assert_memory_equal(ivl_key_secret(k), sk, 64);
    ivl_key_free(k);
}

/* ---- refusals ---- */

static void test_unsafe_modes(void **state)
{
    (void)state;
    static const mode_t bad[] = {0644, 0640, 0604, 0660, 0606, 0610, 0601, 0700 | 04};
    struct ivl_seckey *k = two_files("m.key", "m-enc.key");
    struct pass p = {PASSPHRASE, 0, 0};
    char want[300];
    int enc;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(chmod(at("m.key"), bad[i]), 0);
        assert_int_equal(chmod(at("m-enc.key"), bad[i]), 0);
        expect_load(at("m.key"), &p, IVL_E_KEY_UNSAFE);
        snprintf(want, sizeof want, "%s is mode %04o; must be 0600 (chmod 600 %s)", at("m.key"),
                 (unsigned)bad[i], at("m.key"));
        assert_string_equal(ivl_err_detail(IVL_E_KEY_UNSAFE), want);
        expect_load(at("m-enc.key"), &p, IVL_E_KEY_UNSAFE);
        assert_int_equal(ivl_key_is_encrypted(at("m-enc.key"), &enc), IVL_E_KEY_UNSAFE);
    }
    assert_int_equal(p.calls, 0); /* never prompted for an unsafe file */
    assert_int_equal(chmod(at("m.key"), 0400), 0);
    ivl_key_free(load_ok(at("m.key"), NULL));

    /* Owned by someone else: only testable as root. */
    if (geteuid() == 0) {
        assert_int_equal(chmod(at("m.key"), 0600), 0);
        assert_int_equal(chown(at("m.key"), 65534, 65534), 0);
        expect_load(at("m.key"), &p, IVL_E_KEY_UNSAFE);
        assert_non_null(strstr(ivl_err_detail(IVL_E_KEY_UNSAFE), "owned by uid 65534"));
    }
    ivl_key_free(k);
}

static void corrupt_every_way(const char *name, int encrypted)
{
    size_t len;
    uint8_t *orig = slurp(at(name), &len), buf[512];
    struct pass p = {PASSPHRASE, 0, 0};
    const char *path = at("victim.key");
    assert_true(len < sizeof buf - 1);
    for (size_t l = 0; l < len; l++) { /* every truncation */
        write_raw(path, orig, l, 0600);
        expect_load(path, &p, IVL_E_KEY_CORRUPT);
    }
    for (size_t i = 0; i < len; i++) /* every single-bit flip */
        for (int b = 0; b < 8; b++) {
            memcpy(buf, orig, len);
            buf[i] ^= (uint8_t)(1u << b);
            write_raw(path, buf, len, 0600);
            expect_load(path, &p, IVL_E_KEY_CORRUPT);
        }
    memcpy(buf, orig, len); /* one trailing byte, and a trailing byte + reseal */
    buf[len] = '\n';
    write_raw(path, buf, len + 1, 0600);
    expect_load(path, &p, IVL_E_KEY_CORRUPT);
    assert_int_equal(p.calls, 0); /* damage is found before any prompt */
    write_raw(path, orig, len, 0600);
    ivl_key_free(load_ok(path, encrypted ? PASSPHRASE : NULL));
    free(orig);
}

static void test_corruption(void **state)
{
    (void)state;
    struct ivl_seckey *k = two_files("c.key", "c-enc.key");
    corrupt_every_way("c.key", 0);
    corrupt_every_way("c-enc.key", 1);
    ivl_key_free(k);
}

/* Someone who recomputes the checksum still cannot alter a byte unnoticed. */
static void test_forged_checksum(void **state)
{
    (void)state;
    struct ivl_seckey *k = two_files("f.key", "f-enc.key");
    size_t len, elen;
    uint8_t *plain = slurp(at("f.key"), &len), *enc = slurp(at("f-enc.key"), &elen), buf[512];
    const size_t n = strlen("example.com/auditor"), pk = 20 + n, kdf = pk + 32;
    struct pass p = {PASSPHRASE, 0, 0};
    const char *path = at("forged.key");

    for (size_t i = 0; i < elen - 32; i++) { /* encrypted: every byte after the kind */
        if (i == 18 || i == 19) continue;    /* kind and length change the layout */
        memcpy(buf, enc, elen);
        /* 0x01 keeps the name valid and the Argon2id memory small; 0x80
         * elsewhere puts opslimit and memlimit's high bytes out of range */
        int small = (i >= 20 && i < pk) || (i >= kdf + 12 && i < kdf + 16);
        buf[i] ^= small ? 0x01 : 0x80;
        reseal(buf, elen);
        write_raw(path, buf, elen, 0600);
        struct ivl_seckey *got = (struct ivl_seckey *)1;
        int rc = ivl_key_load(path, pass_cb, &p, &got);
        if (rc == IVL_OK || got) fail_msg("altered byte %zu accepted", i);
        assert_true(rc == IVL_E_KEY_PASSPHRASE || rc == IVL_E_KEY_CORRUPT);
    }
    memcpy(buf, enc, elen); /* absurd Argon2id memory demand: refused, no prompt */
    put_be64(buf + kdf + 8, 1ULL << 40);
    reseal(buf, elen);
    write_raw(path, buf, elen, 0600);
    p.calls = 0;
    expect_load(path, &p, IVL_E_KEY_CORRUPT);
    assert_int_equal(p.calls, 0);

    memcpy(buf, plain, len); /* plain: a seed that does not match the public key */
    buf[kdf] ^= 1;
    reseal(buf, len);
    write_raw(path, buf, len, 0600);
    expect_load(path, &p, IVL_E_KEY_CORRUPT);
    memcpy(buf, plain, len); /* a public key that does not match the seed */
    buf[pk] ^= 1;
    reseal(buf, len);
    write_raw(path, buf, len, 0600);
    expect_load(path, &p, IVL_E_KEY_CORRUPT);
    memcpy(buf, plain, len); /* a name with a '+' */
    buf[20] = '+';
    reseal(buf, len);
    write_raw(path, buf, len, 0600);
    expect_load(path, &p, IVL_E_KEY_CORRUPT);
    write_raw(path, (const uint8_t *)"ivl-secret-key-v2\n\x00\x01x", 21, 0600);
    int e;
    assert_int_equal(ivl_key_is_encrypted(path, &e), IVL_E_KEY_CORRUPT);
    write_raw(path, (const uint8_t *)"ivl-secret-key-v1\n\x02\x01x", 21, 0600);
    assert_int_equal(ivl_key_is_encrypted(path, &e), IVL_E_KEY_CORRUPT);
    free(plain);
    free(enc);
    ivl_key_free(k);
}

static void test_overwrite(void **state)
{
    (void)state;
    struct ivl_seckey *a, *b, *got;
    size_t l1, l2;
    assert_int_equal(ivl_key_generate("k", &a), IVL_OK);
    assert_int_equal(ivl_key_generate("k", &b), IVL_OK);
    assert_int_equal(mkdir(at("ow"), 0700), 0);
    assert_int_equal(ivl_key_save(a, at("ow/k.key"), NULL, 0, 0), IVL_OK);
    uint8_t *before = slurp(at("ow/k.key"), &l1);
    assert_int_equal(ivl_key_save(b, at("ow/k.key"), NULL, 0, 0), IVL_E_EXISTS);
    assert_int_equal(ivl_key_save_params(b, at("ow/k.key"), "x", 1, 0, FAST_OPS, FAST_MEM),
                     IVL_E_EXISTS);
    uint8_t *after = slurp(at("ow/k.key"), &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(before, after, l1);
    got = load_ok(at("ow/k.key"), NULL);
    assert_same_key(got, a);
    ivl_key_free(got);

    assert_int_equal(ivl_key_save_params(b, at("ow/k.key"), "x", 1, 1, FAST_OPS, FAST_MEM), IVL_OK);
    got = load_ok(at("ow/k.key"), "x");
    assert_same_key(got, b);
    ivl_key_free(got);
    assert_int_equal(count_entries(at("ow")), 1); /* no temp file left behind */
    free(before);
    free(after);
    ivl_key_free(a);
    ivl_key_free(b);
}

static void test_symlink(void **state)
{
    (void)state;
    struct ivl_seckey *k = two_files("real.key", "real-enc.key");
    struct pass p = {PASSPHRASE, 0, 0};
    struct stat st;
    int e;
    assert_int_equal(symlink(at("real.key"), at("link.key")), 0);
    expect_load(at("link.key"), &p, IVL_E_KEY_UNSAFE);
    assert_non_null(strstr(ivl_err_detail(IVL_E_KEY_UNSAFE), "symbolic link"));
    assert_int_equal(ivl_key_is_encrypted(at("link.key"), &e), IVL_E_KEY_UNSAFE);

    /* A dangling link is not followed to create its target. */
    assert_int_equal(symlink(at("target.key"), at("dangling.key")), 0);
    assert_int_equal(ivl_key_save(k, at("dangling.key"), NULL, 0, 0), IVL_E_EXISTS);
    assert_int_equal(lstat(at("target.key"), &st), -1);
    /* With force the link itself is replaced; its target is untouched. */
    size_t l1, l2;
    uint8_t *before = slurp(at("real.key"), &l1);
    struct ivl_seckey *other;
    assert_int_equal(ivl_key_generate("other", &other), IVL_OK);
    assert_int_equal(ivl_key_save(other, at("link.key"), NULL, 0, 1), IVL_OK);
    assert_int_equal(lstat(at("link.key"), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    uint8_t *after = slurp(at("real.key"), &l2);
    assert_memory_equal(before, after, l1);
    free(before);
    free(after);
    ivl_key_free(other);
    ivl_key_free(k);
}

static void test_unreadable(void **state)
{
    (void)state;
    struct pass p = {PASSPHRASE, 0, 0};
    int e;
    expect_load(at("missing.key"), &p, IVL_E_KEY_READ);
    assert_non_null(strstr(ivl_err_detail(IVL_E_KEY_READ), "missing.key"));
    assert_int_equal(ivl_key_is_encrypted(at("missing.key"), &e), IVL_E_KEY_READ);
    assert_int_equal(mkdir(at("dir.key"), 0700), 0);
    expect_load(at("dir.key"), &p, IVL_E_KEY_READ);
    assert_int_equal(mkfifo(at("fifo.key"), 0600), 0); /* must not hang */
    expect_load(at("fifo.key"), &p, IVL_E_KEY_READ);
    write_raw(at("empty.key"), (const uint8_t *)"", 0, 0600);
    expect_load(at("empty.key"), &p, IVL_E_KEY_CORRUPT);
    assert_int_equal(p.calls, 0);
}

static void test_bad_params(void **state)
{
    (void)state;
    struct ivl_seckey *k;
    assert_int_equal(ivl_key_generate("p", &k), IVL_OK);
    assert_int_equal(ivl_key_save_params(k, at("p.key"), "x", 1, 0, 0, FAST_MEM), IVL_E_USAGE);
    assert_int_equal(ivl_key_save_params(k, at("p.key"), "x", 1, 0, FAST_OPS, 1024), IVL_E_USAGE);
    assert_int_equal(ivl_key_save_params(k, at("p.key"), "x", 1, 0, FAST_OPS, 1ULL << 33),
                     IVL_E_USAGE);
    assert_int_equal(access(at("p.key"), F_OK), -1); /* nothing written */
    ivl_key_free(k);
}

/* ---- fileio ---- */

static void test_file_read(void **state)
{
    (void)state;
    char *buf = (char *)1;
    size_t len = 99;
    write_raw(at("ten"),
              (const uint8_t *)"0123\0"
                               "56789",
              10, 0644);
    assert_int_equal(ivl_file_read(at("ten"), 10, &buf, &len), IVL_OK);
    assert_int_equal(len, 10);
    assert_memory_equal(buf,
                        "0123\0"
                        "56789",
                        11); /* includes the added NUL */
    free(buf);
    assert_int_equal(ivl_file_read(at("ten"), 9, &buf, &len), IVL_E_TOO_LARGE);
    assert_null(buf);
    assert_int_equal(ivl_file_read(at("ten"), SIZE_MAX, &buf, &len), IVL_OK);
    free(buf);
    write_raw(at("empty"), (const uint8_t *)"", 0, 0644);
    assert_int_equal(ivl_file_read(at("empty"), 0, &buf, &len), IVL_OK);
    assert_int_equal(len, 0);
    assert_int_equal(buf[0], 0);
    free(buf);
    assert_int_equal(ivl_file_read(tmpdir, 1 << 20, &buf, &len), IVL_E_INPUT);
    assert_null(buf);
    assert_int_equal(mkfifo(at("fifo"), 0600), 0);
    assert_int_equal(ivl_file_read(at("fifo"), 1 << 20, &buf, &len), IVL_E_INPUT);
    assert_int_equal(ivl_file_read(at("nope"), 1 << 20, &buf, &len), IVL_E_IO);
    assert_non_null(strstr(ivl_err_detail(IVL_E_IO), "nope"));
}

static void test_file_write(void **state)
{
    (void)state;
    struct stat st;
    size_t len;
    mode_t old = umask(022);
    assert_int_equal(ivl_file_write(at("w.pub"), "one\n", 4, 0644, 0), IVL_OK);
    assert_int_equal(stat(at("w.pub"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(ivl_file_write(at("w.pub"), "two\n", 4, 0644, 0), IVL_E_EXISTS);
    assert_non_null(strstr(ivl_err_detail(IVL_E_EXISTS), "w.pub"));
    uint8_t *got = slurp(at("w.pub"), &len);
    assert_memory_equal(got, "one\n", 4);
    free(got);
    assert_int_equal(ivl_file_write(at("w.pub"), "three\n", 6, 0644, 1), IVL_OK);
    got = slurp(at("w.pub"), &len);
    assert_int_equal(len, 6);
    assert_memory_equal(got, "three\n", 6);
    free(got);
    assert_int_equal(ivl_file_write(at("no/such/dir/x"), "x", 1, 0644, 0), IVL_E_IO);
    assert_int_equal(ivl_file_write(at("no/such/dir/x"), "x", 1, 0644, 1), IVL_E_IO);
    assert_int_equal(ivl_file_write(tmpdir, "x", 1, 0644, 1), IVL_E_IO); /* a directory */
    assert_int_equal(ivl_dir_sync(tmpdir), IVL_OK);
    assert_int_equal(ivl_dir_sync(at("nope")), IVL_E_IO);
    umask(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),      cmocka_unit_test(test_names),
        cmocka_unit_test(test_roundtrip_plain),   cmocka_unit_test(test_roundtrip_encrypted),
        cmocka_unit_test(test_independent_files), cmocka_unit_test(test_unsafe_modes),
        cmocka_unit_test(test_corruption),        cmocka_unit_test(test_forged_checksum),
        cmocka_unit_test(test_overwrite),         cmocka_unit_test(test_symlink),
        cmocka_unit_test(test_unreadable),        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_file_read),         cmocka_unit_test(test_file_write),
    };
    if (sodium_init() < 0) return 1;
    return cmocka_run_group_tests(tests, setup, teardown);
}
