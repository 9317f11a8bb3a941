/*
 * key.h - Ed25519 secret keys and the secret key file (SPEC §5 keygen, §6).
 *
 * A struct ivl_seckey holds one signing key: its signed-note key name, the
 * 32-byte public key and libsodium's 64-byte secret key (seed || public key),
 * all in sodium_malloc (guarded, mlocked) memory that is read-only once
 * filled and wiped by ivl_key_free. The file format, plain or encrypted with
 * Argon2id + XChaCha20-Poly1305, is specified byte by byte in docs/FORMAT.md (secret key file).
 *
 * Caveats:
 * - Creating or loading a key disables core dumps for the whole process
 *   (RLIMIT_CORE 0, PR_SET_DUMPABLE 0): a crash must not write the key to disk.
 *   This also stops same-user debuggers from attaching.
 * - The library never prompts: ivl_key_load asks the caller's callback for a
 *   passphrase, and only when the file is encrypted.
 * - The checksum in a plain file only detects accidents; anyone who can write a
 *   plain key file can replace the key. Encrypted files are authenticated.
 */
#ifndef IVL_KEY_H
#define IVL_KEY_H

#include <stddef.h>
#include <stdint.h>

struct ivl_seckey; /* opaque, lives in sodium_malloc memory */

/* Longest key name in bytes (signed-note names; the basename of keygen NAME). */
#define IVL_KEY_NAME_MAX 128
/* Size of the buffer handed to an ivl_pass_fn. */
#define IVL_KEY_PASS_MAX 1024

/* Passphrase callback: writes up to cap bytes into buf, sets *len; returns 0
 * or an ivl error (e.g. IVL_E_KEY_NOPASS), which ivl_key_load passes on. buf is
 * guarded memory that is wiped after use. */
typedef int (*ivl_pass_fn)(void *ctx, char *buf, size_t cap, size_t *len);

/* Checks a signed-note key name: 1..128 bytes of valid UTF-8 with no '+', no
 * Unicode white space and no control characters. Errors: IVL_E_USAGE. */
int ivl_key_name_valid(const char *name);

/* Creates a new random key. Errors: IVL_E_USAGE (invalid name), IVL_E_NOMEM,
 * IVL_E_IO (libsodium or core-dump setup failed). */
int ivl_key_generate(const char *name, struct ivl_seckey **out);

/* Creates the key with a given 32-byte Ed25519 seed (RFC 8032 private key),
 * for tests and known-answer vectors. Errors: as ivl_key_generate. */
int ivl_key_from_seed(const char *name, const uint8_t seed[32], struct ivl_seckey **out);

/* Writes the secret key file at mode 0600. passphrase NULL = unencrypted;
 * otherwise it is encrypted under Argon2id with the INTERACTIVE limits. force
 * = replace an existing file atomically (temp + rename); without it an
 * existing file gives IVL_E_EXISTS. Errors: IVL_E_USAGE (empty passphrase),
 * IVL_E_EXISTS, IVL_E_IO, IVL_E_NOSPACE, IVL_E_NOMEM. */
int ivl_key_save(const struct ivl_seckey *k, const char *path, const char *passphrase,
                 size_t passlen, int force);

/* As ivl_key_save with explicit Argon2id limits (recorded in the file), e.g.
 * crypto_pwhash_argon2id_OPSLIMIT_MIN/MEMLIMIT_MIN in tests. Ignored when
 * passphrase is NULL. Additional error: IVL_E_USAGE (limits out of range:
 * opslimit 1..64, memlimit 8192..2^32 bytes). */
int ivl_key_save_params(const struct ivl_seckey *k, const char *path, const char *passphrase,
                        size_t passlen, int force, uint64_t opslimit, uint64_t memlimit);

/* Loads a secret key file. The file must be a regular file (not a symlink:
 * O_NOFOLLOW), owned by the effective user with no group or other permission
 * bits. pass is called only for an encrypted file (it may be NULL if the caller
 * has no passphrase source; an encrypted file then gives IVL_E_KEY_NOPASS).
 * Errors: IVL_E_KEY_READ (missing, unreadable, not a regular file),
 * IVL_E_KEY_UNSAFE (symlink, wrong owner or mode), IVL_E_KEY_CORRUPT
 * (truncated, extended or altered; bad name or limits; public key does not
 * match), IVL_E_KEY_PASSPHRASE (decryption failed), whatever pass returns,
 * IVL_E_NOMEM, IVL_E_IO. On error *out is NULL. */
int ivl_key_load(const char *path, ivl_pass_fn pass, void *pass_ctx, struct ivl_seckey **out);

/* Reads only the fixed header to tell whether the file needs a passphrase.
 * Applies the same safety checks as ivl_key_load so that nobody is prompted
 * for an unsafe file. Errors: IVL_E_KEY_READ, IVL_E_KEY_UNSAFE,
 * IVL_E_KEY_CORRUPT (not an ivl secret key file, unknown kind). */
int ivl_key_is_encrypted(const char *path, int *encrypted);

/* Wipes and frees a key; NULL is ignored. */
void ivl_key_free(struct ivl_seckey *k);

/* The key's signed-note name (NUL-terminated). */
const char *ivl_key_name(const struct ivl_seckey *k);
/* The 32-byte Ed25519 public key. */
const uint8_t *ivl_key_public(const struct ivl_seckey *k);
/* libsodium's 64-byte secret key (seed || public key). */
const uint8_t *ivl_key_secret(const struct ivl_seckey *k);

/* Signs msg (pure Ed25519, RFC 8032) into sig. Errors: IVL_E_USAGE (NULL
 * key), IVL_E_IO (libsodium failure). */
int ivl_key_sign(const struct ivl_seckey *k, const uint8_t *msg, size_t len, uint8_t sig[64]);

/* Signs msg[i] (len[i] bytes) into sig[i] for i < n: the same signatures as
 * ivl_key_sign(), made by ivl_ed25519_sign_many() once
 * ivl_ed25519_sign_prepare() has made it ready (about a quarter less work
 * per signature), else one by one by libsodium. Errors as ivl_key_sign. */
int ivl_key_sign_many(const struct ivl_seckey *k, size_t n, const uint8_t *const msg[],
                      const size_t len[], uint8_t (*sig)[64]);

#endif
