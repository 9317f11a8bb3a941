/*
 * merkle.h - the RFC 9162 (RFC 6962) Merkle tree of the log: hashing, the
 * incremental tree over stored complete-subtree nodes, and inclusion and
 * consistency proofs with their verifiers.
 *
 * The tree code owns no storage. The caller (the LMDB store, or a test)
 * supplies get/put callbacks for the hashes of perfect subtrees, so one
 * append, root or proof touches O(log n) stored nodes and never re-hashes the
 * leaves. Node (level, index) is the root of the perfect subtree covering
 * leaves [index << level, (index + 1) << level); level 0 holds leaf hashes.
 *
 * The verifiers need no storage and follow transparency-dev/merkle
 * proof.VerifyInclusion / proof.VerifyConsistency, including its edge cases:
 * a consistency proof from size 0 is refused (even 0 -> 0), and old == new
 * needs an empty proof and equal roots.
 *
 * Caveats: the caller must have called sodium_init(). Proof output buffers
 * must have room for IVL_MERKLE_MAX_PROOF hashes.
 */
#ifndef IVL_MERKLE_H
#define IVL_MERKLE_H

#include <stdint.h>
#include <stddef.h>

#define IVL_HASH_LEN         32
#define IVL_MERKLE_MAX_PROOF 128 /* max hashes in any proof (64 suffice for 2^64 leaves) */

/* SHA-256(0x00 || data): the hash of one leaf. */
void ivl_merkle_leaf_hash(const uint8_t *data, size_t len, uint8_t out[32]);
/* SHA-256(0x01 || left || right): the hash of an interior node. */
void ivl_merkle_node_hash(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]);
/* SHA-256(""): the root of the empty tree. */
void ivl_merkle_empty_root(uint8_t out[32]);

/* Storage of complete-subtree hashes. Callbacks return 0 or an ivl error code,
 * which the tree functions propagate unchanged (e.g. IVL_E_NOT_FOUND). */
typedef int (*ivl_merkle_get_fn)(void *ctx, unsigned level, uint64_t index, uint8_t out[32]);
typedef int (*ivl_merkle_put_fn)(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32]);

/* Appends `leaf_hash` as leaf number `size` of a tree that has `size` leaves:
 * puts the level-0 node and every perfect-subtree node the leaf completes
 * (amortised O(1) hashes, O(log n) worst case).
 * Errors: IVL_E_TOO_LARGE if the tree is full; any get/put error. */
int ivl_merkle_append(void *ctx, ivl_merkle_get_fn get, ivl_merkle_put_fn put, uint64_t size,
                      const uint8_t leaf_hash[32]);

/* Root of the tree of the first `size` leaves, folded from popcount(size)
 * stored nodes; size 0 gives the empty root. Errors: any get error. */
int ivl_merkle_root(void *ctx, ivl_merkle_get_fn get, uint64_t size, uint8_t out[32]);

/* RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size`
 * leaves, leaf-to-root order: writes *n hashes (<= IVL_MERKLE_MAX_PROOF).
 * Errors: IVL_E_USAGE if index >= size; any get error. */
int ivl_merkle_inclusion_proof(void *ctx, ivl_merkle_get_fn get, uint64_t index, uint64_t size,
                               uint8_t out[][32], size_t *n);

/* RFC 9162 §2.1.4.1 consistency proof from old_size to new_size: writes *n
 * hashes (<= IVL_MERKLE_MAX_PROOF; 0 when old_size == new_size).
 * Errors: IVL_E_USAGE unless 0 < old_size <= new_size; any get error. */
int ivl_merkle_consistency_proof(void *ctx, ivl_merkle_get_fn get, uint64_t old_size,
                                 uint64_t new_size, uint8_t out[][32], size_t *n);

/* Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves with
 * `root`. Returns 0, or IVL_E_BAD_PROOF (index out of range, wrong proof
 * length, root mismatch) with a detail. */
int ivl_merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[32],
                                const uint8_t (*proof)[32], size_t n, const uint8_t root[32]);

/* Checks that the tree (new_size, new_root) extends (old_size, old_root).
 * Returns 0, or IVL_E_BAD_PROOF (old_size 0 or > new_size, wrong proof
 * length, either root mismatching) with a detail. */
int ivl_merkle_verify_consistency(uint64_t old_size, uint64_t new_size, const uint8_t old_root[32],
                                  const uint8_t new_root[32], const uint8_t (*proof)[32], size_t n);

/* Root computed directly from all leaf hashes by the recursive MTH
 * definition (O(n) hashes): for tests and independent checks only. */
void ivl_merkle_root_of(const uint8_t (*leaf_hashes)[32], uint64_t n, uint8_t out[32]);

#endif
