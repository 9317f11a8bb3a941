/*
 * fuzz_proof.c - the proof JSON checker of `ivl proof check`
 * (ivl_proof_check_json) against the log key of the ledger that made the
 * corpus (fuzz_keys.h). A proof that checks must be one of the two kinds,
 * with an index inside the tree or sizes that grow; a failure must carry a
 * verification-class error.
 */
#include "fuzz.h"
#include "fuzz_keys.h"
#include "proof.h"

#include <sodium.h>

static struct ivl_vkey log_key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0) abort();
    if (ivl_vkey_parse(FUZZ_PROOF_VKEY, strlen(FUZZ_PROOF_VKEY), &log_key)) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ivl_proof_result r;
    int rc = ivl_proof_check_json((const char *)data, size, &log_key, &r);
    if (rc) {
        FUZZ_CHECK(rc == IVL_E_BAD_PROOF || rc == IVL_E_BAD_CHECKPOINT,
                   "proof check failed with %s: %s", ivl_err_code(rc), ivl_err_detail(rc));
        FUZZ_CHECK(r.kind != IVL_PROOF_NONE || rc == IVL_E_BAD_PROOF, "non-JSON input gave %s",
                   ivl_err_code(rc));
        return 0;
    }
    if (r.kind == IVL_PROOF_INCLUSION)
        FUZZ_CHECK(r.index < r.tree_size, "inclusion of leaf %llu in a tree of %llu",
                   (unsigned long long)r.index, (unsigned long long)r.tree_size);
    else
        FUZZ_CHECK(r.kind == IVL_PROOF_CONSISTENCY && r.old_size >= 1 && r.old_size <= r.new_size,
                   "kind %d, consistency %llu -> %llu", r.kind, (unsigned long long)r.old_size,
                   (unsigned long long)r.new_size);
    return 0;
}
