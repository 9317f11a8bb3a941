/*
 * sha256.h - SHA-256 of one prefix byte and a message, as RFC 9162 hashes
 * leaves (0x00) and nodes (0x01); with the CPU's SHA instructions if any.
 */
#ifndef IVL_SHA256_H
#define IVL_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* out = SHA-256(prefix || data[0..len)). Safe from any thread. */
void ivl_sha256_prefixed(uint8_t prefix, const void *data, size_t len, uint8_t out[32]);

/* Whether the SHA instructions are used: set < 0 asks (and decides, once),
 * 0 forces the portable code, 1 uses the instructions if the CPU has them.
 * Returns what is used from now on. Forcing is for tests. */
int ivl_sha256_accel(int set);

#endif
