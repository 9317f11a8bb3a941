/*
 * sigbatch.h - Ed25519 signature checks in batches on several threads.
 *
 * The order-dependent work (rules, which decide which key is valid) runs on
 * one thread and queues (message, signature, key) triples here; a batch is
 * checked on `jobs` threads at once. Used by appends of many entries, by
 * import and by verify, so all three check signatures the same way.
 */
#ifndef IVL_SIGBATCH_H
#define IVL_SIGBATCH_H

#include "entry.h"
#include "state.h"

struct ivl_sigbatch;

/* jobs = 0: the number of online cores. */
int ivl_sigbatch_new(unsigned jobs, struct ivl_sigbatch **out);
void ivl_sigbatch_free(struct ivl_sigbatch *b);
/* Queues the signatures of entry e (leaf bytes `leaf`) against the keys in
 * `who`; checks a full batch first. origin: the ledger's origin. Returns
 * IVL_E_BAD_SIG (naming the lowest failing entry) from a checked batch. */
int ivl_sigbatch_add(struct ivl_sigbatch *b, const char *origin, const struct ivl_entry *e,
                     const struct ivl_signers *who, const uint8_t *leaf, size_t len);
/* Queues one signature of `msg` (copied) by `pub`; `seq` names it in errors
 * (an entry, or the size of a checkpoint). */
int ivl_sigbatch_add_raw(struct ivl_sigbatch *b, uint64_t seq, const uint8_t *msg, size_t len,
                         const uint8_t sig[IVL_SIG_LEN], const uint8_t pub[IVL_PUB_LEN]);
/* Hands what is queued to the workers and returns at once (the caller has
 * other work; ivl_sigbatch_flush() then waits). */
int ivl_sigbatch_start(struct ivl_sigbatch *b);
/* Checks everything queued. IVL_E_BAD_SIG naming the lowest failing entry. */
int ivl_sigbatch_flush(struct ivl_sigbatch *b);
/* The lowest failing entry seen, or UINT64_MAX. */
uint64_t ivl_sigbatch_bad(const struct ivl_sigbatch *b);

#endif
