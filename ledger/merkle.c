/*
 * merkle.c - RFC 9162 Merkle tree over caller-stored perfect-subtree hashes.
 *
 * Every subtree the RFC recursion names, D[lo:hi], starts at a multiple of a
 * power of two >= its size, so it splits into at most 64 perfect subtrees
 * that are already stored; subtree_hash() folds them. That is how roots and
 * proofs stay O(log n) reads without ever re-hashing leaves. The proof
 * generators walk the RFC recursion top-down and reverse, since the RFC lists
 * proof hashes leaf-to-root. The verifiers are a transcription of
 * transparency-dev/merkle proof/verify.go so they agree on every edge case.
 */
#include "merkle.h"

#include <inttypes.h>
#include <string.h>
#include <sodium.h>

#include "err.h"
#include "sha256.h"

void ivl_merkle_leaf_hash(const uint8_t *data, size_t len, uint8_t out[32])
{
    ivl_sha256_prefixed(0x00, data, len, out);
}

void ivl_merkle_node_hash(const uint8_t left[32], const uint8_t right[32], uint8_t out[32])
{
    uint8_t buf[2 * IVL_HASH_LEN];
    memcpy(buf, left, IVL_HASH_LEN);
    memcpy(buf + IVL_HASH_LEN, right, IVL_HASH_LEN);
    ivl_sha256_prefixed(0x01, buf, sizeof buf, out);
}

void ivl_merkle_empty_root(uint8_t out[32])
{
    crypto_hash_sha256(out, (const unsigned char *)"", 0);
}

/* Largest power of two strictly below n (n >= 2): the RFC's split point k. */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k)
        k <<= 1;
    return k;
}

static int is_pow2(uint64_t n)
{
    return n != 0 && (n & (n - 1)) == 0;
}

/* MTH(D[lo:hi]) from stored nodes, for lo a multiple of a power of two >= hi - lo
 * (true of every range in the RFC recursion). The left half is always perfect,
 * so the recursion goes down the right edge only: popcount(hi - lo) reads. */
static int subtree_hash(void *ctx, ivl_merkle_get_fn get, uint64_t lo, uint64_t hi, uint8_t out[32])
{
    uint64_t n = hi - lo;
    if (is_pow2(n) && lo % n == 0) {
        unsigned level = (unsigned)__builtin_ctzll(n);
        return get(ctx, level, lo >> level, out);
    }
    uint64_t k = split_point(n);
    uint8_t left[IVL_HASH_LEN], right[IVL_HASH_LEN];
    int rc = subtree_hash(ctx, get, lo, lo + k, left);
    if (rc == 0) rc = subtree_hash(ctx, get, lo + k, hi, right);
    if (rc == 0) ivl_merkle_node_hash(left, right, out);
    return rc;
}

int ivl_merkle_append(void *ctx, ivl_merkle_get_fn get, ivl_merkle_put_fn put, uint64_t size,
                      const uint8_t leaf_hash[32])
{
    if (size == UINT64_MAX)
        return ivl_fail(IVL_E_TOO_LARGE, _("merkle tree is full at %" PRIu64 " leaves"), size);
    uint8_t h[IVL_HASH_LEN], left[IVL_HASH_LEN];
    memcpy(h, leaf_hash, IVL_HASH_LEN);
    int rc = put(ctx, 0, size, h);
    /* Each trailing 1 bit of the leaf index is a left sibling now completed. */
    uint64_t index = size;
    for (unsigned level = 0; rc == 0 && (index & 1); level++) {
        rc = get(ctx, level, index - 1, left);
        if (rc) break;
        ivl_merkle_node_hash(left, h, h);
        index >>= 1;
        rc = put(ctx, level + 1, index, h);
    }
    return rc;
}

int ivl_merkle_root(void *ctx, ivl_merkle_get_fn get, uint64_t size, uint8_t out[32])
{
    if (size == 0) {
        ivl_merkle_empty_root(out);
        return 0;
    }
    return subtree_hash(ctx, get, 0, size, out);
}

/* Reverses n hashes in place: generators collect root-to-leaf, the RFC wants leaf-to-root. */
static void reverse_hashes(uint8_t (*h)[32], size_t n)
{
    uint8_t tmp[IVL_HASH_LEN];
    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
        memcpy(tmp, h[i], IVL_HASH_LEN);
        memcpy(h[i], h[j - 1], IVL_HASH_LEN);
        memcpy(h[j - 1], tmp, IVL_HASH_LEN);
    }
}

int ivl_merkle_inclusion_proof(void *ctx, ivl_merkle_get_fn get, uint64_t index, uint64_t size,
                               uint8_t out[][32], size_t *n)
{
    *n = 0;
    if (index >= size)
        return ivl_fail(
            IVL_E_USAGE,
            _("inclusion proof: leaf %" PRIu64 " is not in a tree of %" PRIu64 " leaves"), index,
            size);
    uint64_t lo = 0, hi = size;
    size_t count = 0;
    int rc = 0;
    /* PATH(m, D[lo:hi]) = PATH(m, one half) : MTH(other half). */
    while (rc == 0 && hi - lo > 1) {
        uint64_t k = split_point(hi - lo);
        if (index < lo + k) {
            rc = subtree_hash(ctx, get, lo + k, hi, out[count++]);
            hi = lo + k;
        } else {
            rc = subtree_hash(ctx, get, lo, lo + k, out[count++]);
            lo += k;
        }
    }
    if (rc) return rc;
    reverse_hashes(out, count);
    *n = count;
    return 0;
}

int ivl_merkle_consistency_proof(void *ctx, ivl_merkle_get_fn get, uint64_t old_size,
                                 uint64_t new_size, uint8_t out[][32], size_t *n)
{
    *n = 0;
    if (old_size == 0 || old_size > new_size)
        return ivl_fail(
            IVL_E_USAGE,
            _("consistency proof: sizes %" PRIu64 " -> %" PRIu64 " (need 0 < old <= new)"),
            old_size, new_size);
    uint64_t lo = 0, hi = new_size;
    int whole = 1; /* SUBPROOF's b: D[lo:lo+m] is the whole old tree, whose root the verifier has */
    size_t count = 0;
    int rc = 0;
    while (rc == 0) {
        uint64_t size = hi - lo, m = old_size - lo;
        if (m == size) {
            if (!whole) rc = subtree_hash(ctx, get, lo, hi, out[count++]);
            break;
        }
        uint64_t k = split_point(size);
        if (m <= k) {
            rc = subtree_hash(ctx, get, lo + k, hi, out[count++]);
            hi = lo + k;
        } else {
            rc = subtree_hash(ctx, get, lo, lo + k, out[count++]);
            lo += k;
            whole = 0;
        }
    }
    if (rc) return rc;
    reverse_hashes(out, count);
    *n = count;
    return 0;
}

/* Number of bits needed for x (bits.Len64). */
static unsigned bit_len(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

/* Splits an inclusion proof of `index` in `size` into the levels below the
 * point where the path joins the right border (inner) and the border above. */
static void decomp_inclusion(uint64_t index, uint64_t size, unsigned *inner, unsigned *border)
{
    *inner = bit_len(index ^ (size - 1));
    *border = (unsigned)__builtin_popcountll(*inner >= 64 ? 0 : index >> *inner);
}

/* Hashes up the inner levels: bit i of index says whether proof[i] is on the left. */
static void chain_inner(uint8_t seed[32], const uint8_t (*proof)[32], size_t n, uint64_t index)
{
    for (size_t i = 0; i < n; i++) {
        if ((index >> i) & 1)
            ivl_merkle_node_hash(proof[i], seed, seed);
        else
            ivl_merkle_node_hash(seed, proof[i], seed);
    }
}

/* As chain_inner, keeping only left siblings: rebuilds the old tree's root. */
static void chain_inner_right(uint8_t seed[32], const uint8_t (*proof)[32], size_t n,
                              uint64_t index)
{
    for (size_t i = 0; i < n; i++)
        if ((index >> i) & 1) ivl_merkle_node_hash(proof[i], seed, seed);
}

/* Above the inner levels every sibling is on the left. */
static void chain_border_right(uint8_t seed[32], const uint8_t (*proof)[32], size_t n)
{
    for (size_t i = 0; i < n; i++)
        ivl_merkle_node_hash(proof[i], seed, seed);
}

int ivl_merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[32],
                                const uint8_t (*proof)[32], size_t n, const uint8_t root[32])
{
    if (index >= size)
        return ivl_fail(IVL_E_BAD_PROOF,
                        _("inclusion proof: leaf %" PRIu64 " is beyond tree size %" PRIu64), index,
                        size);
    unsigned inner, border;
    decomp_inclusion(index, size, &inner, &border);
    if (n != (size_t)inner + border)
        return ivl_fail(
            IVL_E_BAD_PROOF,
            _("inclusion proof for leaf %" PRIu64 " of %" PRIu64 " has %zu hashes, want %u"), index,
            size, n, inner + border);
    uint8_t h[IVL_HASH_LEN];
    memcpy(h, leaf_hash, IVL_HASH_LEN);
    chain_inner(h, proof, inner, index);
    chain_border_right(h, proof + inner, border);
    if (sodium_memcmp(h, root, IVL_HASH_LEN) != 0)
        return ivl_fail(
            IVL_E_BAD_PROOF,
            _("inclusion proof for leaf %" PRIu64 " of %" PRIu64 " does not lead to the root"),
            index, size);
    return 0;
}

/* The old == new case: nothing to prove but that the roots agree. */
static int verify_same_size(uint64_t size, const uint8_t old_root[32], const uint8_t new_root[32],
                            size_t n)
{
    if (n != 0)
        return ivl_fail(
            IVL_E_BAD_PROOF,
            _("consistency proof %" PRIu64 " -> %" PRIu64 " must be empty, has %zu hashes"), size,
            size, n);
    if (sodium_memcmp(old_root, new_root, IVL_HASH_LEN) != 0)
        return ivl_fail(IVL_E_BAD_PROOF, _("roots of the same size %" PRIu64 " differ"), size);
    return 0;
}

int ivl_merkle_verify_consistency(uint64_t old_size, uint64_t new_size, const uint8_t old_root[32],
                                  const uint8_t new_root[32], const uint8_t (*proof)[32], size_t n)
{
    if (old_size == 0 || old_size > new_size)
        return ivl_fail(
            IVL_E_BAD_PROOF,
            _("consistency proof: sizes %" PRIu64 " -> %" PRIu64 " (need 0 < old <= new)"),
            old_size, new_size);
    if (old_size == new_size) return verify_same_size(old_size, old_root, new_root, n);
    if (n == 0)
        return ivl_fail(IVL_E_BAD_PROOF, _("consistency proof %" PRIu64 " -> %" PRIu64 " is empty"),
                        old_size, new_size);

    /* The proof is a suffix of the inclusion proof of leaf old_size-1 in the
     * new tree, starting at the level of the old tree's last perfect subtree;
     * that subtree's root comes first unless it is the whole old tree. */
    unsigned inner, border;
    decomp_inclusion(old_size - 1, new_size, &inner, &border);
    unsigned shift = (unsigned)__builtin_ctzll(old_size);
    inner -= shift;
    const uint8_t *seed = proof[0];
    size_t start = 1;
    if (old_size == (UINT64_C(1) << shift)) {
        seed = old_root;
        start = 0;
    }
    if (n != start + inner + border)
        return ivl_fail(IVL_E_BAD_PROOF,
                        _("consistency proof %" PRIu64 " -> %" PRIu64 " has %zu hashes, want %zu"),
                        old_size, new_size, n, start + inner + border);
    proof += start;
    uint64_t mask = (old_size - 1) >> shift;

    uint8_t h1[IVL_HASH_LEN], h2[IVL_HASH_LEN];
    memcpy(h1, seed, IVL_HASH_LEN);
    chain_inner_right(h1, proof, inner, mask);
    chain_border_right(h1, proof + inner, border);
    if (sodium_memcmp(h1, old_root, IVL_HASH_LEN) != 0)
        return ivl_fail(
            IVL_E_BAD_PROOF,
            _("consistency proof %" PRIu64 " -> %" PRIu64 " does not match the old root"), old_size,
            new_size);
    memcpy(h2, seed, IVL_HASH_LEN);
    chain_inner(h2, proof, inner, mask);
    chain_border_right(h2, proof + inner, border);
    if (sodium_memcmp(h2, new_root, IVL_HASH_LEN) != 0)
        return ivl_fail(
            IVL_E_BAD_PROOF,
            _("consistency proof %" PRIu64 " -> %" PRIu64 " does not match the new root"), old_size,
            new_size);
    return 0;
}

void ivl_merkle_root_of(const uint8_t (*leaf_hashes)[32], uint64_t n, uint8_t out[32])
{
    if (n == 0) {
        ivl_merkle_empty_root(out);
        return;
    }
    if (n == 1) {
        memcpy(out, leaf_hashes[0], IVL_HASH_LEN);
        return;
    }
    uint64_t k = split_point(n);
    uint8_t left[IVL_HASH_LEN], right[IVL_HASH_LEN];
    ivl_merkle_root_of(leaf_hashes, k, left);
    ivl_merkle_root_of(leaf_hashes + k, n - k, right);
    ivl_merkle_node_hash(left, right, out);
}
