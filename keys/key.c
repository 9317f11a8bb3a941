/*
 * key.c - Ed25519 secret keys in guarded memory and the secret key file.
 *
 * Layout of the file (docs/FORMAT.md (secret key file) is the normative description):
 *
 *   magic "ivl-secret-key-v1\n" | kind | name length | name | public key
 *   [kind 1: opslimit | memlimit | salt | nonce]           <- header (AEAD AD)
 *   seed (kind 0) or XChaCha20-Poly1305(seed) (kind 1)     <- body
 *   SHA-256 of everything before it                        <- checksum
 *
 * The unkeyed checksum is there to tell a damaged file (IVL_E_KEY_CORRUPT)
 * from a wrong passphrase (IVL_E_KEY_PASSPHRASE): without it a flipped bit in
 * the header would look like a wrong passphrase. Authenticity of an encrypted
 * file comes from the AEAD tag, which covers the whole header.
 */
#include "key.h"
#include "ed25519.h"
#include "err.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC         "ivl-secret-key-v1\n"
#define MAGIC_LEN     18
#define OFF_KIND      18
#define OFF_NAMELEN   19
#define OFF_NAME      20
#define KIND_PLAIN    0x00
#define KIND_ARGON2ID 0x01 /* Argon2id v1.3 + XChaCha20-Poly1305-IETF */
#define PK_LEN        32
#define SEED_LEN      32
#define SALT_LEN      16
#define NONCE_LEN     24
#define TAG_LEN       16
#define SUM_LEN       32
#define KDF_LEN       (8 + 8 + SALT_LEN + NONCE_LEN)
#define FILE_MAX      (OFF_NAME + IVL_KEY_NAME_MAX + PK_LEN + KDF_LEN + SEED_LEN + TAG_LEN + SUM_LEN)
/* A hostile file must not make loading hang: refuse limits beyond these. */
#define OPSLIMIT_CAP 64ULL         /* 16 x OPSLIMIT_SENSITIVE */
#define MEMLIMIT_CAP 4294967296ULL /* 4 GiB */

struct ivl_seckey {
    uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* seed || public key */
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    char name[IVL_KEY_NAME_MAX + 1];
};

/* Where the parts of a file of a given kind and name length lie. */
struct layout {
    unsigned kind;
    size_t name_len;
    size_t header_len; /* bytes before the body: the AEAD associated data */
    size_t body_len;
    size_t total;
};

static void layout_for(unsigned kind, size_t name_len, struct layout *l)
{
    l->kind = kind;
    l->name_len = name_len;
    l->header_len = OFF_NAME + name_len + PK_LEN + (kind == KIND_ARGON2ID ? KDF_LEN : 0);
    l->body_len = kind == KIND_ARGON2ID ? SEED_LEN + TAG_LEN : SEED_LEN;
    l->total = l->header_len + l->body_len + SUM_LEN;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- names ---- */

/* Decodes one UTF-8 sequence strictly (no overlongs, surrogates or values
 * above U+10FFFF); returns its length, or 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
    if (len == 0 || len > n || s[0] > 0xF4) return 0;
    uint32_t v = len == 1 ? s[0] : s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min_cp[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

/* Control characters and Unicode White_Space, which Go's unicode.IsSpace
 * (used by the signed-note reference implementation) also rejects. */
static int forbidden_cp(uint32_t c)
{
    if (c < 0x21 || c == 0x7F || (c >= 0x80 && c <= 0xA0) || c == '+') return 1;
    if (c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029) return 1;
    return c == 0x202F || c == 0x205F || c == 0x3000;
}

static int name_check(const char *name, size_t n)
{
    if (n == 0) return ivl_fail(IVL_E_USAGE, _("key name is empty"));
    if (n > IVL_KEY_NAME_MAX)
        return ivl_fail(IVL_E_USAGE, _("key name is longer than %d bytes"), IVL_KEY_NAME_MAX);
    const unsigned char *s = (const unsigned char *)name;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = utf8_decode(s + i, n - i, &cp);
        if (l == 0) return ivl_fail(IVL_E_USAGE, _("key name is not valid UTF-8 at byte %zu"), i);
        if (forbidden_cp(cp))
            return ivl_fail(IVL_E_USAGE,
                            _("key name has U+%04X at byte %zu ('+', spaces and control "
                              "characters are not allowed)"),
                            (unsigned)cp, i);
        i += l;
    }
    return IVL_OK;
}

int ivl_key_name_valid(const char *name)
{
    if (!name) return ivl_fail(IVL_E_USAGE, _("key name is missing"));
    return name_check(name, strnlen(name, IVL_KEY_NAME_MAX + 1));
}

/* ---- the key object ---- */

/* A process holding a secret must never dump core. */
static int no_core_dumps(void)
{
    struct rlimit rl = {0, 0};
    if (setrlimit(RLIMIT_CORE, &rl) != 0)
        return ivl_fail(IVL_E_IO, _("cannot disable core dumps: %s"), strerror(errno));
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return ivl_fail(IVL_E_IO, _("cannot mark the process non-dumpable: %s"), strerror(errno));
    return IVL_OK;
}

static int key_alloc(struct ivl_seckey **out)
{
    *out = NULL;
    if (sodium_init() < 0) return ivl_fail(IVL_E_IO, _("libsodium failed to initialise"));
    int rc = no_core_dumps();
    if (rc != IVL_OK) return rc;
    struct ivl_seckey *k = sodium_malloc(sizeof *k);
    if (!k) return ivl_fail(IVL_E_NOMEM, _("cannot allocate guarded memory for a secret key"));
    memset(k, 0, sizeof *k);
    *out = k;
    return IVL_OK;
}

/* Derives the key pair from the seed and seals the object read-only. */
static int key_finish(struct ivl_seckey *k, const uint8_t seed[SEED_LEN])
{
    if (crypto_sign_seed_keypair(k->pk, k->sk, seed) != 0)
        return ivl_fail(IVL_E_IO, _("libsodium could not derive an Ed25519 key pair"));
    sodium_mprotect_readonly(k);
    return IVL_OK;
}

int ivl_key_from_seed(const char *name, const uint8_t seed[32], struct ivl_seckey **out)
{
    struct ivl_seckey *k;
    *out = NULL;
    int rc = ivl_key_name_valid(name);
    if (rc == IVL_OK) rc = key_alloc(&k);
    if (rc != IVL_OK) return rc;
    memcpy(k->name, name, strlen(name) + 1);
    rc = key_finish(k, seed);
    if (rc != IVL_OK) {
        ivl_key_free(k);
        return rc;
    }
    *out = k;
    return IVL_OK;
}

int ivl_key_generate(const char *name, struct ivl_seckey **out)
{
    *out = NULL;
    if (sodium_init() < 0) return ivl_fail(IVL_E_IO, _("libsodium failed to initialise"));
    uint8_t *seed = sodium_malloc(SEED_LEN);
    if (!seed) return ivl_fail(IVL_E_NOMEM, _("cannot allocate guarded memory for a seed"));
    randombytes_buf(seed, SEED_LEN);
    int rc = ivl_key_from_seed(name, seed, out);
    sodium_free(seed);
    return rc;
}

void ivl_key_free(struct ivl_seckey *k)
{
    /* sodium_free makes the region writable, zeroes it and checks the canary */
    if (k) sodium_free(k);
}

const char *ivl_key_name(const struct ivl_seckey *k)
{
    return k->name;
}

const uint8_t *ivl_key_public(const struct ivl_seckey *k)
{
    return k->pk;
}

const uint8_t *ivl_key_secret(const struct ivl_seckey *k)
{
    return k->sk;
}

int ivl_key_sign(const struct ivl_seckey *k, const uint8_t *msg, size_t len, uint8_t sig[64])
{
    static const uint8_t empty[1];
    if (!k) return ivl_fail(IVL_E_USAGE, _("no secret key to sign with"));
    if (crypto_sign_detached(sig, NULL, msg ? msg : empty, len, k->sk) != 0)
        return ivl_fail(IVL_E_IO, _("libsodium failed to sign"));
    return IVL_OK;
}

int ivl_key_sign_many(const struct ivl_seckey *k, size_t n, const uint8_t *const msg[],
                      const size_t len[], uint8_t (*sig)[64])
{
    if (!k) return ivl_fail(IVL_E_USAGE, _("no secret key to sign with"));
    if (!n || !ivl_ed25519_sign_many(k->sk, n, msg, len, sig)) return IVL_OK;
    int rc = IVL_OK;
    for (size_t i = 0; !rc && i < n; i++)
        rc = ivl_key_sign(k, msg[i], len[i], sig[i]);
    return rc;
}

/* ---- saving ---- */

static int check_limits(uint64_t ops, uint64_t mem)
{
    if (ops < crypto_pwhash_argon2id_OPSLIMIT_MIN || ops > OPSLIMIT_CAP ||
        ops > crypto_pwhash_argon2id_OPSLIMIT_MAX)
        return ivl_fail(IVL_E_USAGE, _("Argon2id opslimit %llu is out of range"),
                        (unsigned long long)ops);
    if (mem < crypto_pwhash_argon2id_MEMLIMIT_MIN || mem > MEMLIMIT_CAP ||
        mem > crypto_pwhash_argon2id_MEMLIMIT_MAX)
        return ivl_fail(IVL_E_USAGE, _("Argon2id memlimit %llu is out of range"),
                        (unsigned long long)mem);
    return IVL_OK;
}

/* Argon2id(passphrase, salt, ops, mem) -> 32-byte AEAD key in guarded memory. */
static int derive_key(const char *pass, size_t passlen, const uint8_t *salt, uint64_t ops,
                      uint64_t mem, uint8_t **key)
{
    *key = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
    if (!*key) return ivl_fail(IVL_E_NOMEM, _("cannot allocate guarded memory for a key"));
    if (crypto_pwhash(*key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, pass, passlen, salt,
                      (unsigned long long)ops, (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_free(*key);
        *key = NULL;
        return ivl_fail(IVL_E_NOMEM, _("Argon2id could not get %llu bytes of memory"),
                        (unsigned long long)mem);
    }
    return IVL_OK;
}

/* Writes the header (magic .. public key [.. nonce]) into buf. */
static void encode_header(const struct ivl_seckey *k, const struct layout *l, uint8_t *buf,
                          uint64_t ops, uint64_t mem)
{
    memcpy(buf, MAGIC, MAGIC_LEN);
    buf[OFF_KIND] = (uint8_t)l->kind;
    buf[OFF_NAMELEN] = (uint8_t)l->name_len;
    memcpy(buf + OFF_NAME, k->name, l->name_len);
    uint8_t *p = buf + OFF_NAME + l->name_len;
    memcpy(p, k->pk, PK_LEN);
    if (l->kind != KIND_ARGON2ID) return;
    p += PK_LEN;
    put_u64(p, ops);
    put_u64(p + 8, mem);
    randombytes_buf(p + 16, SALT_LEN + NONCE_LEN); /* salt, then nonce */
}

static int encrypt_seed(const struct ivl_seckey *k, const struct layout *l, uint8_t *buf,
                        const char *pass, size_t passlen)
{
    const uint8_t *kdf = buf + OFF_NAME + l->name_len + PK_LEN;
    uint8_t *key;
    int rc = derive_key(pass, passlen, kdf + 16, get_u64(kdf), get_u64(kdf + 8), &key);
    if (rc != IVL_OK) return rc;
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + l->header_len, NULL, k->sk, SEED_LEN, buf,
                                               l->header_len, NULL, kdf + 16 + SALT_LEN, key);
    sodium_free(key);
    return IVL_OK;
}

int ivl_key_save_params(const struct ivl_seckey *k, const char *path, const char *passphrase,
                        size_t passlen, int force, uint64_t opslimit, uint64_t memlimit)
{
    struct layout l = {0};
    if (!k) return ivl_fail(IVL_E_USAGE, _("no secret key to save"));
    if (passphrase && passlen == 0)
        return ivl_fail(IVL_E_USAGE, _("empty passphrase for %s (save it unencrypted instead)"),
                        path);
    if (passphrase) {
        int rc = check_limits(opslimit, memlimit);
        if (rc != IVL_OK) return rc;
    }
    layout_for(passphrase ? KIND_ARGON2ID : KIND_PLAIN, strlen(k->name), &l);
    uint8_t *buf = sodium_malloc(l.total); /* a plain file holds the seed itself */
    if (!buf) return ivl_fail(IVL_E_NOMEM, _("cannot allocate guarded memory for %s"), path);
    encode_header(k, &l, buf, opslimit, memlimit);
    int rc = IVL_OK;
    if (passphrase)
        rc = encrypt_seed(k, &l, buf, passphrase, passlen);
    else
        memcpy(buf + l.header_len, k->sk, SEED_LEN);
    if (rc == IVL_OK) {
        crypto_hash_sha256(buf + l.total - SUM_LEN, buf, l.total - SUM_LEN);
        rc = ivl_file_write(path, buf, l.total, 0600, force);
    }
    sodium_free(buf);
    return rc;
}

int ivl_key_save(const struct ivl_seckey *k, const char *path, const char *passphrase,
                 size_t passlen, int force)
{
    if (sodium_init() < 0) return ivl_fail(IVL_E_IO, _("libsodium failed to initialise"));
    return ivl_key_save_params(k, path, passphrase, passlen, force,
                               crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
}

/* ---- loading ---- */

/* The ownership and mode checks are made on the open descriptor (fstat), so
 * the file cannot be swapped between the check and the read. */
static int check_private(const char *path, int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return ivl_fail(IVL_E_KEY_READ, _("cannot stat %s: %s"), path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return ivl_fail(IVL_E_KEY_READ, _("%s is not a regular file"), path);
    if (st.st_uid != geteuid())
        return ivl_fail(IVL_E_KEY_UNSAFE, _("%s is owned by uid %lu, not by you (uid %lu)"), path,
                        (unsigned long)st.st_uid, (unsigned long)geteuid());
    if (st.st_mode & 077)
        return ivl_fail(IVL_E_KEY_UNSAFE, _("%s is mode %04o; must be 0600 (chmod 600 %s)"), path,
                        (unsigned)(st.st_mode & 07777), path);
    return IVL_OK;
}

static int open_private(const char *path, int *fd)
{
    *fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (*fd < 0 && errno == ELOOP)
        return ivl_fail(IVL_E_KEY_UNSAFE, _("%s is a symbolic link; give the key file itself"),
                        path);
    if (*fd < 0) return ivl_fail(IVL_E_KEY_READ, _("cannot open %s: %s"), path, strerror(errno));
    int rc = check_private(path, *fd);
    if (rc != IVL_OK) close(*fd);
    return rc;
}

/* Reads up to cap bytes; reading exactly cap means the file is too long. */
static int read_up_to(const char *path, int fd, uint8_t *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return ivl_fail(IVL_E_KEY_READ, _("cannot read %s: %s"), path, strerror(errno));
        if (r == 0) break;
        n += (size_t)r;
    }
    *len = n;
    return IVL_OK;
}

static int read_key_file(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
    int fd = -1;
    int rc = open_private(path, &fd);
    if (rc != IVL_OK) return rc;
    rc = read_up_to(path, fd, buf, cap, len);
    close(fd);
    return rc;
}

/* Checks magic, kind and name length, the only fields needed to find the
 * rest; `len` may be a prefix of the file. */
static int parse_start(const char *path, const uint8_t *buf, size_t len, unsigned *kind)
{
    size_t m = len < MAGIC_LEN ? len : MAGIC_LEN;
    if (memcmp(buf, MAGIC, m) != 0)
        return ivl_fail(IVL_E_KEY_CORRUPT, _("%s is not an ivl secret key file (bad magic)"), path);
    if (len <= OFF_NAMELEN)
        return ivl_fail(IVL_E_KEY_CORRUPT, _("%s is truncated at %zu bytes"), path, len);
    *kind = buf[OFF_KIND];
    if (*kind != KIND_PLAIN && *kind != KIND_ARGON2ID)
        return ivl_fail(IVL_E_KEY_CORRUPT, _("%s: unknown kind 0x%02x at byte %d"), path, *kind,
                        OFF_KIND);
    return IVL_OK;
}

static int parse_layout(const char *path, const uint8_t *buf, size_t len, struct layout *l)
{
    unsigned kind = 0;
    int rc = parse_start(path, buf, len, &kind);
    if (rc != IVL_OK) return rc;
    size_t n = buf[OFF_NAMELEN];
    if (n == 0 || n > IVL_KEY_NAME_MAX)
        return ivl_fail(IVL_E_KEY_CORRUPT, _("%s: name length %zu at byte %d is out of range"),
                        path, n, OFF_NAMELEN);
    layout_for(kind, n, l);
    if (len < l->total)
        return ivl_fail(IVL_E_KEY_CORRUPT, _("%s is truncated: %zu of %zu bytes"), path, len,
                        l->total);
    if (len > l->total)
        return ivl_fail(IVL_E_KEY_CORRUPT, _("%s has trailing bytes after byte %zu"), path,
                        l->total);
    uint8_t sum[SUM_LEN];
    crypto_hash_sha256(sum, buf, l->total - SUM_LEN);
    if (sodium_memcmp(sum, buf + l->total - SUM_LEN, SUM_LEN) != 0)
        return ivl_fail(IVL_E_KEY_CORRUPT, _("%s is altered: checksum mismatch"), path);
    return IVL_OK;
}

/* Asks the callback for the passphrase and opens the AEAD box into seed. */
static int decrypt_seed(const char *path, const uint8_t *buf, const struct layout *l,
                        ivl_pass_fn pass, void *ctx, uint8_t *seed)
{
    const uint8_t *kdf = buf + OFF_NAME + l->name_len + PK_LEN;
    uint64_t ops = get_u64(kdf), mem = get_u64(kdf + 8);
    if (check_limits(ops, mem) != IVL_OK)
        return ivl_fail(IVL_E_KEY_CORRUPT,
                        _("%s: Argon2id limits (ops %llu, mem %llu) out of range"), path,
                        (unsigned long long)ops, (unsigned long long)mem);
    if (!pass)
        return ivl_fail(IVL_E_KEY_NOPASS, _("%s is encrypted and no passphrase is available"),
                        path);
    char *pw = sodium_malloc(IVL_KEY_PASS_MAX);
    if (!pw) return ivl_fail(IVL_E_NOMEM, _("cannot allocate guarded memory for a passphrase"));
    size_t pwlen = 0;
    uint8_t *key = NULL;
    int rc = pass(ctx, pw, IVL_KEY_PASS_MAX, &pwlen);
    if (rc == IVL_OK && pwlen > IVL_KEY_PASS_MAX)
        rc = ivl_fail(IVL_E_USAGE, _("passphrase callback returned %zu bytes (limit %d)"), pwlen,
                      IVL_KEY_PASS_MAX);
    if (rc == IVL_OK) rc = derive_key(pw, pwlen, kdf + 16, ops, mem, &key);
    sodium_free(pw);
    if (rc != IVL_OK) return rc;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed, NULL, NULL, buf + l->header_len,
                                                   l->body_len, buf, l->header_len,
                                                   kdf + 16 + SALT_LEN, key) != 0)
        rc = ivl_fail(IVL_E_KEY_PASSPHRASE, _("wrong passphrase for %s"), path);
    sodium_free(key);
    return rc;
}

/* Builds the key from a checked file image; buf is guarded memory. */
static int key_from_image(const char *path, const uint8_t *buf, const struct layout *l,
                          ivl_pass_fn pass, void *ctx, struct ivl_seckey **out)
{
    char name[IVL_KEY_NAME_MAX + 1];
    memcpy(name, buf + OFF_NAME, l->name_len);
    name[l->name_len] = 0;
    if (name_check(name, l->name_len) != IVL_OK) /* also rejects NUL bytes */
        return ivl_fail(IVL_E_KEY_CORRUPT, _("%s: invalid key name at byte %d"), path, OFF_NAME);
    int rc = IVL_OK;
    if (l->kind == KIND_ARGON2ID) {
        uint8_t *seed = sodium_malloc(SEED_LEN);
        if (!seed) return ivl_fail(IVL_E_NOMEM, _("cannot allocate guarded memory for a seed"));
        rc = decrypt_seed(path, buf, l, pass, ctx, seed);
        if (rc == IVL_OK) rc = ivl_key_from_seed(name, seed, out);
        sodium_free(seed);
    } else {
        /* The caller's image is itself in guarded memory. */
        rc = ivl_key_from_seed(name, buf + l->header_len, out);
    }
    if (rc != IVL_OK) return rc;
    if (sodium_memcmp((*out)->pk, buf + OFF_NAME + l->name_len, PK_LEN) != 0) {
        ivl_key_free(*out);
        *out = NULL;
        return ivl_fail(IVL_E_KEY_CORRUPT, _("%s: the public key does not match the secret key"),
                        path);
    }
    return IVL_OK;
}

int ivl_key_load(const char *path, ivl_pass_fn pass, void *pass_ctx, struct ivl_seckey **out)
{
    struct layout l = {0};
    size_t len = 0;
    *out = NULL;
    if (sodium_init() < 0) return ivl_fail(IVL_E_IO, _("libsodium failed to initialise"));
    uint8_t *buf = sodium_malloc(FILE_MAX + 1);
    if (!buf) return ivl_fail(IVL_E_NOMEM, _("cannot allocate guarded memory for %s"), path);
    int rc = read_key_file(path, buf, FILE_MAX + 1, &len);
    if (rc == IVL_OK) rc = parse_layout(path, buf, len, &l);
    if (rc == IVL_OK) rc = key_from_image(path, buf, &l, pass, pass_ctx, out);
    sodium_free(buf);
    return rc;
}

int ivl_key_is_encrypted(const char *path, int *encrypted)
{
    uint8_t buf[OFF_NAMELEN + 1];
    size_t len = 0;
    unsigned kind = 0;
    int rc = read_key_file(path, buf, sizeof buf, &len);
    if (rc == IVL_OK) rc = parse_start(path, buf, len, &kind);
    if (rc != IVL_OK) return rc;
    *encrypted = kind == KIND_ARGON2ID;
    return IVL_OK;
}
