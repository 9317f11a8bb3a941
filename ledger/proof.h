/*
 * proof.h - checking the proofs that `ivl proof inclusion` and `ivl proof
 * consistency` print (SPEC "Inclusion proof JSON", "Consistency proof
 * JSON") with nothing but the log's verifier key.
 *
 * A proof's roots count only when the log key signed them: an inclusion
 * proof carries the checkpoint of its tree size, a consistency proof the
 * checkpoints of both sizes, and each must open with the key and name the
 * key's log as its origin.
 *
 * Caveats: the caller must have called sodium_init() (signatures are
 * checked). The detail of a failure never names the file; the CLI adds it.
 */
#ifndef IVL_PROOF_H
#define IVL_PROOF_H

#include "note.h"

#include <stddef.h>
#include <stdint.h>

#define IVL_PROOF_MAX (1u << 20) /* largest proof file read */

enum ivl_proof_kind {
    IVL_PROOF_NONE = 0, /* the text is not a JSON object */
    IVL_PROOF_INCLUSION,
    IVL_PROOF_CONSISTENCY,
};

struct ivl_proof_result {
    int kind; /* enum ivl_proof_kind, set even when the proof fails */
    /* Inclusion: entry `index` is in the tree of `tree_size` leaves. */
    uint64_t index, tree_size;
    /* Consistency: the tree of `new_size` leaves extends that of `old_size`. */
    uint64_t old_size, new_size;
};

/* "inclusion", "consistency" or "" for IVL_PROOF_NONE. */
const char *ivl_proof_kind_name(int kind);

/* Checks the proof json[0..len) against the log key. An object with an
 * "index" member is an inclusion proof, any other object a consistency
 * proof; out->kind says which (IVL_PROOF_NONE when the text is not a JSON
 * object, duplicate keys refused; the detail then reads "not a proof (JSON:
 * ...)"). The other fields of *out are meaningful only on success.
 * Errors: IVL_E_BAD_PROOF (not JSON, malformed field, wrong proof length,
 * root or size mismatch, no checkpoint), IVL_E_BAD_CHECKPOINT (a checkpoint is
 * not signed by the key, malformed, or for another log); IVL_E_USAGE for NULL
 * arguments. */
int ivl_proof_check_json(const char *json, size_t len, const struct ivl_vkey *log_key,
                         struct ivl_proof_result *out);

#endif
