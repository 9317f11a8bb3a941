/*
 * ledger.h - the ledger: an LMDB environment holding the log (leaves, Merkle
 * nodes, checkpoint signatures) and the state tables, with one durable write
 * transaction per append.
 *
 * Caveats (as LMDB's own): one writer at a time across processes (appends
 * wait for the lock); do not fork() with a ledger open; a read transaction
 * sees a consistent snapshot for as long as it is open.
 */
#ifndef IVL_LEDGER_H
#define IVL_LEDGER_H

#include "entry.h"
#include "state.h"

struct ivl_ledger;

/* Creates a new, empty ledger in `dir` (made if missing). IVL_E_LEDGER_EXISTS
 * if it already holds one; IVL_E_IO / IVL_E_STORE. */
int ivl_ledger_create(const char *dir, struct ivl_ledger **out);
/* Opens an existing ledger. IVL_E_NO_LEDGER if there is none; IVL_E_STORE,
 * IVL_E_CORRUPT. Clears reader slots left by dead processes. */
int ivl_ledger_open(const char *dir, struct ivl_ledger **out);
void ivl_ledger_close(struct ivl_ledger *l);
const char *ivl_ledger_dir(const struct ivl_ledger *l);

/* Progress of long work on this handle (ivl_verify's replay, ivl_ledger_import,
 * an append of many entries): fn(ctx, done, total) is called from the calling
 * thread every few thousand entries and once when all are done. NULL = none. */
typedef void (*ivl_progress_fn)(void *ctx, uint64_t done, uint64_t total);
void ivl_ledger_set_progress(struct ivl_ledger *l, ivl_progress_fn fn, void *ctx);
/* Called before an append uses entry `index` of the batch: returns once that
 * entry is complete (signed on another thread, say), or an error that stops
 * the append. NULL: entries are complete when ivl_ledger_append* is called. */
typedef int (*ivl_ready_fn)(void *ctx, size_t index);
void ivl_ledger_set_ready(struct ivl_ledger *l, ivl_ready_fn fn, void *ctx);
/* Internal to ledger/: reports through the handle's callback, if any. */
void ivl_ledger_progress(struct ivl_ledger *l, uint64_t done, uint64_t total);
#define IVL_PROGRESS_EVERY 4096 /* entries between reports */

/* Append flags. */
#define IVL_APPEND_DRY_RUN 1u /* check everything, then abort: nothing is written */
#define IVL_APPEND_CLAMP_TIME                                                                      \
    2u                              /* `now` earlier than the last append becomes that time        \
                                       (a wall clock that stepped back); else IVL_E_TIME */
#define IVL_APPEND_NO_CHECKPOINT 4u /* replay: do not sign a checkpoint */

struct ivl_appended {
    uint64_t seq;
    uint8_t leaf_hash[IVL_HASHLEN];
};

/* Appends `n` signed entries in one transaction, all or nothing: sets their
 * seq and append time, applies the rules, checks every signature against
 * the key valid at that point (IVL_E_BAD_SIG), writes leaves, Merkle nodes,
 * state and head, signs the new checkpoint with DIR/log.key and commits
 * durably. On failure *failed is the index of the offending entry. Errors:
 * any rule error, IVL_E_TIME, IVL_E_BAD_SIG, IVL_E_STORE, IVL_E_NOSPACE. */
int ivl_ledger_append(struct ivl_ledger *l, struct ivl_entry *es, size_t n, int64_t now,
                      unsigned flags, struct ivl_appended *out, size_t *failed);

/* The same for a batch that this process signed itself, each entry with one
 * signature by the key whose public half is `own`: the first entry's
 * signature is verified, the others are accepted when `own` is exactly the
 * key the rules require of their signer (IVL_E_KEY_ROLE otherwise) — a
 * signature just made with a key needs no second check against that key.
 * NULL own = ivl_ledger_append. */
int ivl_ledger_append_own(struct ivl_ledger *l, struct ivl_entry *es, size_t n, int64_t now,
                          unsigned flags, const uint8_t *own, struct ivl_appended *out,
                          size_t *failed);

/* Doubles the LMDB map after IVL_E_MAP_FULL (no transaction may be open). */
int ivl_ledger_grow(struct ivl_ledger *l);
/* Grows the map (doubling) until `bytes` more fit after what is in use, so a
 * large transaction is not restarted by map_full. */
int ivl_ledger_reserve(struct ivl_ledger *l, uint64_t bytes);

/* Read transactions for queries: fill `st`, use the ivl_st_* functions,
 * then ivl_ledger_end(). */
int ivl_ledger_begin(struct ivl_ledger *l, struct ivl_state *st);
void ivl_ledger_end(struct ivl_state *st);

/* The leaf bytes of entry `seq` (valid until the transaction ends). */
int ivl_ledger_leaf(struct ivl_state *st, uint64_t seq, const uint8_t **p, size_t *len);
/* Decodes entry `seq` (IVL_E_NOT_FOUND, IVL_E_DECODE). */
int ivl_ledger_entry(struct ivl_state *st, uint64_t seq, struct ivl_entry *e);
/* Reads the head and checks it against the stored tree and the log key's
 * signature of its checkpoint (IVL_E_CORRUPT): cheap, O(log n). */
int ivl_ledger_check_head(struct ivl_state *st, struct ivl_head *h);
/* Decodes entry `seq` after proving its leaf is in the tree of the checked
 * head `h` (IVL_E_CORRUPT otherwise): what read commands show is what the
 * signed log holds, or they fail. O(log n) per entry. */
int ivl_ledger_entry_checked(struct ivl_state *st, const struct ivl_head *h, uint64_t seq,
                             struct ivl_entry *e);
/* The log's public key (from genesis). */
int ivl_ledger_log_pub(struct ivl_state *st, uint8_t pub[IVL_PUB_LEN]);
/* Root of the tree at `size` (≤ head size). */
int ivl_ledger_root(struct ivl_state *st, uint64_t size, uint8_t root[IVL_HASHLEN]);
/* The signed checkpoint note for `size` (0 = current head). Uses the stored
 * signature, or signs with DIR/log.key when none is stored for that size
 * (Ed25519 is deterministic, so the bytes are the same). *note is malloc'd. */
int ivl_ledger_checkpoint(struct ivl_ledger *l, struct ivl_state *st, uint64_t size, char **note);
/* The same for a caller that has just computed the root at `size` (> 0):
 * the tree is not walked again. */
int ivl_ledger_checkpoint_at(struct ivl_ledger *l, struct ivl_state *st, uint64_t size,
                             const uint8_t root[IVL_HASHLEN], char **note);
/* Proofs (RFC 9162). `hashes` must hold IVL_MERKLE_MAX_PROOF entries. */
int ivl_ledger_inclusion(struct ivl_state *st, uint64_t index, uint64_t size,
                         uint8_t leaf_hash[IVL_HASHLEN], uint8_t (*hashes)[32], size_t *n);
int ivl_ledger_consistency(struct ivl_state *st, uint64_t old_size, uint64_t new_size,
                           uint8_t (*hashes)[32], size_t *n);
/* Finds the key's party: USCC of the party whose CURRENT key is `pub`
 * (IVL_E_KEY_ROLE with a reason when the key is unknown or replaced). */
int ivl_ledger_key_party(struct ivl_state *st, const uint8_t pub[IVL_PUB_LEN],
                         struct ivl_party_rec *p);

/* Applies one decoded entry whose exact leaf bytes are `leaf` at the end of
 * the log in `h` (inside a write transaction): sequence and time order, the
 * rules, the signatures (when check_sigs), the leaf and the Merkle nodes.
 * Shared by append, verify and import so that all three apply the same code. */
int ivl_ledger_apply(struct ivl_state *st, struct ivl_head *h, const struct ivl_entry *e,
                     const uint8_t *leaf, size_t len, int check_sigs, uint8_t leaf_hash[32],
                     struct ivl_signers *who);
/* A write transaction (import); commit with mdb_txn_commit(st->txn). */
int ivl_ledger_begin_write(struct ivl_ledger *l, struct ivl_state *st);
/* Stores the log key's signature of the checkpoint of `size`. */
int ivl_ledger_put_checkpoint_sig(struct ivl_state *st, uint64_t size, const uint8_t sig[64]);

/* ---- verification (verify.c) ---- */

struct ivl_verify_opts {
    unsigned jobs;         /* signature-checking threads; 0 = number of cores */
    const char *tmpdir;    /* where the replay environment is made (and removed) */
    const char *cache_dir; /* the auditor's state cache (one subdirectory per log), or NULL */
    int have_from;         /* incremental: the log must extend this checkpoint */
    uint64_t from_size;
    uint8_t from_root[IVL_HASHLEN];
};

struct ivl_verify_report {
    uint64_t size, entries, signatures, checkpoints, skipped_signatures;
    uint64_t replayed;    /* entries replayed by this run */
    uint64_t cache_from;  /* the size the replay started from (the cache's), or 0 */
    int cache_rebuilt;    /* the cache did not match the log and was made again */
    char cache_dir[4096]; /* the cache kept for the next --from, or "" */
    uint8_t root[IVL_HASHLEN];
    uint64_t bad_seq; /* first bad entry, or UINT64_MAX */
    char bad_table[32];
    uint64_t by_type[IVL_T_MAX + 1];
    double seconds;
};

/* Replays the whole log into a fresh environment through the same rules and
 * compares every stored table with the replayed one byte for byte; checks
 * every signature against the key valid at its point (only after from_size
 * when incremental), the head, the root and every stored checkpoint; with
 * have_from, proves by a consistency proof that the log extends it.
 * With cache_dir, the replayed environment is kept there as this auditor's
 * verified state, and an incremental run whose cache holds an earlier
 * verified state of the log replays only the entries after it (verify.c).
 * Errors: IVL_E_DECODE, IVL_E_BAD_SIG, IVL_E_TAMPERED, IVL_E_FORK (also: the
 * log was rewritten since the cache was made), IVL_E_BAD_CHECKPOINT,
 * IVL_E_CORRUPT or a rule's code (all mean the log is not what it claims;
 * exit class 3 is applied by the caller), IVL_E_IO. */
int ivl_verify(struct ivl_ledger *l, const struct ivl_verify_opts *o, struct ivl_verify_report *r);

/* ---- replicas (replica.c) ---- */

struct ivl_import_leaf {
    uint64_t seq;
    const uint8_t *leaf;
    size_t len;
};

struct ivl_import_report {
    uint64_t had, added, size;
    uint8_t root[IVL_HASHLEN];
};

/* Imports leaves (in order) and the signed checkpoint that ends an export,
 * in one transaction: held entries must be identical (IVL_E_FORK naming the
 * entry and both leaf hashes), new ones pass the rules and signatures, the
 * checkpoint must verify with the genesis log key and match the root.
 * IVL_E_DECODE, IVL_E_TAMPERED, IVL_E_BAD_SIG, IVL_E_BAD_CHECKPOINT. */
int ivl_ledger_import(struct ivl_ledger *l, const struct ivl_import_leaf *leaves, size_t n,
                      const char *note, size_t note_len, struct ivl_import_report *rep);
/* Opens a checkpoint note signed by this ledger's log key: size, root and the
 * log's signature (sig may be NULL). IVL_E_BAD_CHECKPOINT, IVL_E_BAD_NOTE. */
int ivl_ledger_open_checkpoint(struct ivl_state *st, const char *note, size_t len, uint64_t *size,
                               uint8_t root[IVL_HASHLEN], uint8_t sig[64]);

/* Internal to ledger/ (verify.c, replica.c): the environment handle. */
struct MDB_env *ivl_ledger_env(struct ivl_ledger *l);

#endif
