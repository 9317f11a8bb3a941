/*
 * replica.c - importing another ledger's log into a replica. Everything
 * received is verified inside one write transaction before it is committed:
 * entries the replica already holds must be byte-identical (else it is a
 * fork, reported with both leaf hashes), new entries go through the same
 * apply path as appends (rules and signatures), and the final checkpoint
 * must be signed by the log key fixed at genesis and match the new root.
 */
#include "ledger.h"
#include "err.h"
#include "merkle.h"
#include "note.h"
#include "sigbatch.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void hex32(const uint8_t h[32], char out[65])
{
    sodium_bin2hex(out, 65, h, 32);
}

static int node_get(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    return ivl_st_node(ctx, level, index, out);
}

/* Verifies a signed checkpoint note against the log key of this ledger and
 * returns its size and root. */
int ivl_ledger_open_checkpoint(struct ivl_state *st, const char *note, size_t len, uint64_t *size,
                               uint8_t root[32], uint8_t sig[64])
{
    struct ivl_vkey k;
    size_t text_len;
    uint32_t mask;
    char origin[IVL_MAX_ORIGIN + 1];
    memset(&k, 0, sizeof k);
    int rc = ivl_ledger_log_pub(st, k.pub);
    if (rc) return rc;
    snprintf(k.name, sizeof k.name, "%s", st->origin);
    k.key_id = ivl_note_key_id(k.name, k.pub);
    rc = ivl_note_open(note, len, &k, 1, &text_len, &mask);
    if (rc)
        return ivl_fail(IVL_E_BAD_CHECKPOINT, _("checkpoint is not signed by this log's key: %s"),
                        ivl_err_detail(rc));
    rc = ivl_checkpoint_parse(note, text_len, origin, sizeof origin, size, root);
    if (rc) return rc;
    if (strcmp(origin, st->origin))
        return ivl_fail(IVL_E_BAD_CHECKPOINT, _("checkpoint is for log '%s', not '%s'"), origin,
                        st->origin);
    if (sig) {
        /* The log's signature line: "— origin base64(keyid || sig)". */
        const char *p = note + text_len + 1;
        char prefix[IVL_MAX_ORIGIN + 8];
        snprintf(prefix, sizeof prefix, "\xe2\x80\x94 %s ", st->origin);
        while (p < note + len) {
            const char *nl = memchr(p, '\n', (size_t)(note + len - p));
            if (!nl) break;
            size_t pl = strlen(prefix), bl;
            uint8_t blob[68];
            if ((size_t)(nl - p) > pl && !memcmp(p, prefix, pl) &&
                !sodium_base642bin(blob, sizeof blob, p + pl, (size_t)(nl - p) - pl, NULL, &bl,
                                   NULL, sodium_base64_VARIANT_ORIGINAL) &&
                bl == 68) {
                uint32_t kid = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
                               (uint32_t)blob[2] << 8 | blob[3];
                if (kid == k.key_id) {
                    memcpy(sig, blob + 4, 64);
                    return 0;
                }
            }
            p = nl + 1;
        }
        return ivl_fail(IVL_E_BAD_CHECKPOINT, _("checkpoint has no signature line of the log key"));
    }
    return 0;
}

static int import_txn(struct ivl_ledger *l, const struct ivl_import_leaf *leaves, size_t n,
                      const char *note, size_t note_len, struct ivl_import_report *rep);

int ivl_ledger_import(struct ivl_ledger *l, const struct ivl_import_leaf *leaves, size_t n,
                      const char *note, size_t note_len, struct ivl_import_report *rep)
{
    /* A full map restarts the whole import: make room first (a replica
     * takes about 2.3 times the leaves' bytes). */
    uint64_t bytes = (uint64_t)1 << 20;
    for (size_t i = 0; i < n; i++)
        bytes += 4 * (uint64_t)leaves[i].len;
    int grown = ivl_ledger_reserve(l, bytes);
    if (grown) return grown;
    for (;;) { /* a full map is grown and the whole import tried again */
        int rc = import_txn(l, leaves, n, note, note_len, rep);
        if (rc != IVL_E_MAP_FULL) return rc;
        if ((rc = ivl_ledger_grow(l))) return rc;
    }
}

static int import_txn(struct ivl_ledger *l, const struct ivl_import_leaf *leaves, size_t n,
                      const char *note, size_t note_len, struct ivl_import_report *rep)
{
    struct ivl_state st;
    struct ivl_head h;
    memset(rep, 0, sizeof *rep);
    struct ivl_sigbatch *sb;
    int rc = ivl_sigbatch_new(0, &sb);
    if (rc) return rc;
    if ((rc = ivl_ledger_begin_write(l, &st))) {
        ivl_sigbatch_free(sb);
        return rc;
    }
    ivl_st_cache_begin(&st); /* as a batch append does: the same puts, fewer reads */
    rc = ivl_st_head(&st, &h);
    rep->had = h.size;
    for (size_t i = 0; !rc && i < n; i++) {
        const struct ivl_import_leaf *lf = &leaves[i];
        uint8_t mine[32], theirs[32];
        char a[65], b[65];
        if (i && i % IVL_PROGRESS_EVERY == 0) ivl_ledger_progress(l, i, n);
        if (lf->seq < h.size) {
            const uint8_t *p;
            size_t len;
            rc = ivl_ledger_leaf(&st, lf->seq, &p, &len);
            if (rc) break;
            if (len != lf->len || memcmp(p, lf->leaf, len)) {
                ivl_merkle_leaf_hash(p, len, mine);
                ivl_merkle_leaf_hash(lf->leaf, lf->len, theirs);
                hex32(mine, a);
                hex32(theirs, b);
                rc = ivl_fail(IVL_E_FORK,
                              _("entry %llu conflicts with the replica: it holds leaf hash %s, the "
                                "import has %s; the import does not extend this log"),
                              (unsigned long long)lf->seq, a, b);
            }
            continue;
        }
        if (lf->seq != h.size) {
            rc = ivl_fail(IVL_E_FORK,
                          _("the import jumps to entry %llu but the replica holds %llu entries"),
                          (unsigned long long)lf->seq, (unsigned long long)h.size);
            break;
        }
        struct ivl_entry e;
        rc = ivl_leaf_decode(lf->leaf, lf->len, &e);
        if (rc) {
            rc = ivl_fail(IVL_E_DECODE, _("entry %llu does not decode: %s"),
                          (unsigned long long)lf->seq, ivl_err_detail(rc));
            break;
        }
        struct ivl_buf again = {0};
        rc = ivl_leaf_encode(&e, &again);
        if (!rc && (again.len != lf->len || memcmp(again.p, lf->leaf, lf->len)))
            rc = ivl_fail(IVL_E_DECODE, _("entry %llu is not canonically encoded"),
                          (unsigned long long)lf->seq);
        ivl_buf_free(&again);
        struct ivl_signers who;
        if (!rc) rc = ivl_ledger_apply(&st, &h, &e, lf->leaf, lf->len, 0, theirs, &who);
        if (!rc && e.type == IVL_T_GENESIS)
            snprintf(st.origin, sizeof st.origin, "%s", e.u.genesis.origin);
        if (!rc) rc = ivl_sigbatch_add(sb, st.origin, &e, &who, lf->leaf, lf->len);
        ivl_entry_free(&e);
        if (rc) { /* an earlier forged signature comes first */
            int f = ivl_sigbatch_flush(sb);
            if (f) {
                rc = f;
                break;
            }
        }
        if (rc) {
            if (ivl_err_exit(rc) == IVL_EXIT_RULE || ivl_err_exit(rc) == IVL_EXIT_KEY)
                rc = ivl_fail(IVL_E_TAMPERED, _("entry %llu breaks a rule: %s"),
                              (unsigned long long)lf->seq, ivl_err_detail(rc));
            /* TRANSLATORS: the start of "entry %llu" in every message naming an entry */
            else if (!strstr(ivl_err_detail(rc), _("entry ")))
                rc = ivl_fail(rc, _("entry %llu: %s"), (unsigned long long)lf->seq,
                              ivl_err_detail(rc));
            break;
        }
        rep->added++;
    }
    if (!rc) rc = ivl_sigbatch_flush(sb);
    if (!rc && n >= IVL_PROGRESS_EVERY) ivl_ledger_progress(l, n, n);
    ivl_sigbatch_free(sb);
    if (!rc) rc = ivl_st_cache_flush(&st);
    ivl_st_cache_end();
    uint64_t cs;
    uint8_t croot[32], sig[64];
    if (!rc) rc = ivl_merkle_root(&st, node_get, h.size, h.root);
    if (!rc) rc = ivl_ledger_open_checkpoint(&st, note, note_len, &cs, croot, sig);
    if (!rc && cs > h.size)
        rc = ivl_fail(IVL_E_BAD_CHECKPOINT,
                      _("the checkpoint is for size %llu but the import ends at %llu"),
                      (unsigned long long)cs, (unsigned long long)h.size);
    if (!rc) {
        uint8_t at[32];
        rc = ivl_merkle_root(&st, node_get, cs, at);
        if (!rc && memcmp(at, croot, 32))
            rc = ivl_fail(IVL_E_BAD_CHECKPOINT,
                          _("the checkpoint's root does not match the log at size %llu"),
                          (unsigned long long)cs);
    }
    if (!rc) rc = ivl_ledger_put_checkpoint_sig(&st, cs, sig);
    if (!rc) rc = ivl_st_put_head(&st, &h);
    if (rc) {
        mdb_txn_abort(st.txn);
        return rc;
    }
    rep->size = h.size;
    memcpy(rep->root, h.root, 32);
    rc = mdb_txn_commit(st.txn);
    return rc ? ivl_st_mdb_err(rc, _("commit")) : 0;
}
