/*
 * note.h - C2SP signed notes (c2sp.org/signed-note), their Ed25519 verifier
 * keys, and the tlog-checkpoint note body (c2sp.org/tlog-checkpoint).
 *
 * The log publishes its tree heads as checkpoints: a three-line text
 * (origin, tree size, base64 root) signed as a note, so that any standard
 * signed-note verifier (Go's golang.org/x/mod/sumdb/note, the transparency-dev
 * witness) can check them. An auditor's attestation is just one more
 * signature line on the same text.
 *
 * Behaviour follows Go's note.Open, with these deliberate differences:
 *  - base64 is decoded strictly (RFC 4648 §4: padding required, zero pad
 *    bits, no trailing bytes); Go's decoder is lenient about pad bits;
 *  - every signature line whose key name AND key id match a known key is
 *    verified, including repeats (Go skips repeats of a verified key);
 *  - verifier keys must spell the key id in lowercase hex (as every
 *    implementation prints it);
 *  - key names of our own keys are limited to IVL_NOTE_MAX_NAME bytes
 *    and may not contain C1 or DEL control characters (names in foreign
 *    signature lines are only held to the C2SP rule: non-empty, no spaces,
 *    no '+').
 *
 * Caveats: the caller must have called sodium_init(). Error details name
 * the line and byte offset; they never contain key material.
 */
#ifndef IVL_NOTE_H
#define IVL_NOTE_H

#include <stdint.h>
#include <stddef.h>

#define IVL_NOTE_MAX_NAME 128
#define IVL_NOTE_MAX_SIGS 100 /* signature lines per note, as in Go; C2SP requires >= 16 */

/* Longest vkey line "name+hex8+base64(33 bytes)", without newline or NUL. */
#define IVL_VKEY_MAX_LEN (IVL_NOTE_MAX_NAME + 1 + 8 + 1 + 44)
/* Longest signature line "— name base64(68 bytes)\n", without NUL. */
#define IVL_NOTE_SIGLINE_MAX (3 + 1 + IVL_NOTE_MAX_NAME + 1 + 92 + 1)

/* A parsed Ed25519 (signature type 0x01) verifier key. */
struct ivl_vkey {
    char name[IVL_NOTE_MAX_NAME + 1];
    uint32_t key_id;
    uint8_t pub[32];
};

/* Key id = first 4 bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || pub). */
uint32_t ivl_note_key_id(const char *name, const uint8_t pub[32]);

/* 1 if `name` (NUL-terminated) may name one of our keys: non-empty, at most
 * IVL_NOTE_MAX_NAME bytes, valid UTF-8, no '+', no Unicode white space, no
 * control characters (C0, DEL, C1); else 0. */
int ivl_note_name_valid(const char *name);

/* 0 if text[0..len) is a valid note text: non-empty, valid UTF-8, no control
 * characters below U+0020 except '\n', ending in '\n'. Else IVL_E_BAD_NOTE
 * with the line and byte offset. */
int ivl_note_text_valid(const char *text, size_t len);

/* Parses a verifier key "name+hex8+base64(0x01||pub)" (one trailing '\n'
 * allowed), splitting on the first two '+' only since base64 may contain '+'.
 * Errors: IVL_E_BAD_VKEY (bad name, key id not 8 lowercase hex digits,
 * non-canonical base64, type byte not 0x01, key not 32 bytes, key id
 * mismatch); IVL_E_USAGE for NULL arguments. */
int ivl_vkey_parse(const char *s, size_t len, struct ivl_vkey *out);

/* Writes the vkey line (no newline, NUL-terminated) of (name, pub) into out;
 * IVL_VKEY_MAX_LEN + 1 bytes always suffice.
 * Errors: IVL_E_USAGE if the name is invalid or out is too small. */
int ivl_vkey_format(const char *name, const uint8_t pub[32], char *out, size_t outlen);

/* Signs text[0..len) (a valid note text, see ivl_note_text_valid) with the
 * libsodium 64-byte Ed25519 secret key `sk` under key `name`, and writes the
 * signature line "— name base64(keyid_be32 || sig)\n" NUL-terminated into
 * line; IVL_NOTE_SIGLINE_MAX + 1 bytes always suffice. The signature is
 * verified against the public half of sk before it is written.
 * Errors: IVL_E_USAGE (invalid text or name, line too small);
 * IVL_E_KEY_CORRUPT (sk's public half does not match its seed). */
int ivl_note_sign_line(const char *text, size_t len, const char *name, const uint8_t sk[64],
                       char *line, size_t linelen);

/* Opens the signed note note[0..len) (text, blank line, 1..100 signature
 * lines) against nkeys known keys. Succeeds iff the note is well-formed, at
 * least one known key verifies, and every line whose key name and key id
 * both match a known key verifies; other lines (unknown keys, cosignatures)
 * are ignored. On success *text_len = length of the text including its
 * final '\n', *verified = bitmask of keys[i] (i < 32) that verified; either
 * pointer may be NULL.
 * Errors: IVL_E_BAD_NOTE (malformed: what and which line);
 * IVL_E_BAD_SIG (a known key's signature fails, or no known key signed);
 * IVL_E_USAGE for NULL arguments. */
int ivl_note_open(const char *note, size_t len, const struct ivl_vkey *keys, size_t nkeys,
                  size_t *text_len, uint32_t *verified);

/* Writes the checkpoint text "origin\nsize\nbase64(root)\n" NUL-terminated
 * into out. Errors: IVL_E_USAGE if the origin is empty, not valid UTF-8 or
 * contains a control character, or if out is too small. */
int ivl_checkpoint_format(const char *origin, uint64_t size, const uint8_t root[32], char *out,
                          size_t outlen);

/* Parses a checkpoint text (the note text, before the blank line): origin
 * line (non-empty), size (decimal, no leading zeros except "0", fits
 * uint64), root (canonical base64 of 32 bytes), then optional non-empty
 * extension lines, which are ignored. Outputs are written only on success;
 * origin is copied NUL-terminated.
 * Errors: IVL_E_BAD_CHECKPOINT (any malformation, or origin longer than
 * originlen - 1); IVL_E_USAGE for NULL arguments. */
int ivl_checkpoint_parse(const char *text, size_t len, char *origin, size_t originlen,
                         uint64_t *size, uint8_t root[32]);

#endif
