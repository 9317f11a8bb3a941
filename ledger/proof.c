/*
 * proof.c - checks inclusion and consistency proofs in the JSON that the
 * proof commands print, against the log's verifier key only (see proof.h).
 * Lives in the library rather than the CLI so that the parser can be fuzzed.
 */
#include "proof.h"
#include "err.h"
#include "merkle.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

const char *ivl_proof_kind_name(int kind)
{
    return kind == IVL_PROOF_INCLUSION     ? "inclusion"
           : kind == IVL_PROOF_CONSISTENCY ? "consistency"
                                           : "";
}

/* Reads a JSON array of 32-byte hex hashes. */
static int proof_hashes(json_t *a, uint8_t (*out)[32], size_t *n)
{
    if (!json_is_array(a) || json_array_size(a) > IVL_MERKLE_MAX_PROOF)
        return ivl_fail(IVL_E_BAD_PROOF, _("\"hashes\" is not a list of at most %d hashes"),
                        IVL_MERKLE_MAX_PROOF);
    *n = json_array_size(a);
    for (size_t i = 0; i < *n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        size_t bl;
        if (!s || strlen(s) != 64 || sodium_hex2bin(out[i], 32, s, 64, NULL, &bl, NULL) || bl != 32)
            return ivl_fail(IVL_E_BAD_PROOF, _("hash %zu of the proof is not 32 bytes of hex"), i);
    }
    return 0;
}

static int hex32_field(json_t *j, const char *name, uint8_t out[32])
{
    const char *s = json_string_value(json_object_get(j, name));
    size_t bl;
    if (!s || strlen(s) != 64 || sodium_hex2bin(out, 32, s, 64, NULL, &bl, NULL) || bl != 32)
        return ivl_fail(IVL_E_BAD_PROOF, _("\"%s\" is not 32 bytes of hex"), name);
    return 0;
}

static int u64_field(json_t *j, const char *name, uint64_t *v)
{
    json_t *x = json_object_get(j, name);
    if (!json_is_integer(x) || json_integer_value(x) < 0)
        return ivl_fail(IVL_E_BAD_PROOF, _("\"%s\" is not a non-negative integer"), name);
    *v = (uint64_t)json_integer_value(x);
    return 0;
}

/* Opens a checkpoint note with the log key: its size and root. */
static int note_checkpoint(json_t *j, const char *field, const struct ivl_vkey *k, uint64_t *size,
                           uint8_t root[32])
{
    const char *note = json_string_value(json_object_get(j, field));
    size_t tl;
    uint32_t mask;
    char origin[256];
    if (!note) return ivl_fail(IVL_E_BAD_PROOF, _("the proof has no \"%s\""), field);
    int rc = ivl_note_open(note, strlen(note), k, 1, &tl, &mask);
    if (!rc) rc = ivl_checkpoint_parse(note, tl, origin, sizeof origin, size, root);
    if (!rc && strcmp(origin, k->name))
        rc = ivl_fail(IVL_E_BAD_CHECKPOINT, _("the checkpoint is for log '%s', the key for '%s'"),
                      origin, k->name);
    if (rc) return ivl_fail(IVL_E_BAD_CHECKPOINT, "%s: %s", field, ivl_err_detail(rc));
    return 0;
}

static int check_inclusion(json_t *j, const struct ivl_vkey *k, struct ivl_proof_result *out)
{
    uint8_t hashes[IVL_MERKLE_MAX_PROOF][32], leaf[32], root[32];
    uint64_t index, size, cs;
    size_t nh;
    int rc = u64_field(j, "index", &index);
    if (!rc) rc = u64_field(j, "tree_size", &size);
    if (!rc) rc = hex32_field(j, "leaf_hash", leaf);
    if (!rc) rc = proof_hashes(json_object_get(j, "hashes"), hashes, &nh);
    if (!rc) rc = note_checkpoint(j, "checkpoint", k, &cs, root);
    if (!rc && cs != size)
        rc = ivl_fail(IVL_E_BAD_PROOF, _("the checkpoint is for size %llu, the proof for %llu"),
                      (unsigned long long)cs, (unsigned long long)size);
    if (!rc)
        rc = ivl_merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[32])hashes, nh, root);
    if (!rc) {
        out->index = index;
        out->tree_size = size;
    }
    return rc;
}

static int check_consistency(json_t *j, const struct ivl_vkey *k, struct ivl_proof_result *out)
{
    uint8_t hashes[IVL_MERKLE_MAX_PROOF][32], root[32], r1[32], r2[32];
    uint64_t cs, o, nw;
    size_t nh;
    int rc = u64_field(j, "old_size", &o);
    if (!rc) rc = u64_field(j, "new_size", &nw);
    if (!rc) rc = hex32_field(j, "old_root", r1);
    if (!rc) rc = hex32_field(j, "new_root", r2);
    if (!rc) rc = proof_hashes(json_object_get(j, "hashes"), hashes, &nh);
    /* The roots count only when the log key signed them. */
    if (!rc) rc = note_checkpoint(j, "old_checkpoint", k, &cs, root);
    if (!rc && (cs != o || memcmp(root, r1, 32)))
        rc = ivl_fail(IVL_E_BAD_PROOF, _("old_checkpoint does not match old_size and old_root"));
    if (!rc) rc = note_checkpoint(j, "new_checkpoint", k, &cs, root);
    if (!rc && (cs != nw || memcmp(root, r2, 32)))
        rc = ivl_fail(IVL_E_BAD_PROOF, _("new_checkpoint does not match new_size and new_root"));
    if (!rc) rc = ivl_merkle_verify_consistency(o, nw, r1, r2, (const uint8_t(*)[32])hashes, nh);
    if (!rc) {
        out->old_size = o;
        out->new_size = nw;
    }
    return rc;
}

int ivl_proof_check_json(const char *json, size_t len, const struct ivl_vkey *log_key,
                         struct ivl_proof_result *out)
{
    json_error_t je;
    if (!out) return ivl_fail(IVL_E_USAGE, _("proof check: no result"));
    memset(out, 0, sizeof *out);
    if (!json || !log_key) return ivl_fail(IVL_E_USAGE, _("proof check: no proof or no key"));
    json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        return ivl_fail(IVL_E_BAD_PROOF, _("not a proof (JSON: %s)"), je.text);
    }
    int rc;
    if (json_object_get(j, "index")) {
        out->kind = IVL_PROOF_INCLUSION;
        rc = check_inclusion(j, log_key, out);
    } else {
        out->kind = IVL_PROOF_CONSISTENCY;
        rc = check_consistency(j, log_key, out);
    }
    json_decref(j);
    if (rc && ivl_err_exit(rc) != IVL_EXIT_VERIFY)
        rc = ivl_fail(IVL_E_BAD_PROOF, "%s", ivl_err_detail(rc));
    return rc;
}
