/*
 * verify.c - the auditor's full check: replay the raw log through the same
 * rule functions into a fresh environment, check every signature (on worker
 * threads, in batches, while one thread keeps the order-dependent work),
 * then compare every stored table with the replayed one byte for byte, and
 * every stored checkpoint with the replayed tree. The database must be a
 * function of the log: any other byte is tampering.
 */
#include "ledger.h"
#include "err.h"
#include "merkle.h"
#include "note.h"
#include "sigbatch.h"

#include <ftw.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_) return rc_;                                                                       \
    } while (0)

#define REPLAY_COMMIT_EVERY 20000 /* entries per replay transaction */

/* ---- the replay environment ---- */

struct replay {
    char dir[PATH_MAX];
    MDB_env *env;
    MDB_dbi dbi[IVL_DB_COUNT];
};

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    return remove(p);
}

static void replay_close(struct replay *r)
{
    if (r->env) mdb_env_close(r->env);
    if (r->dir[0]) nftw(r->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int replay_open(struct replay *r, const char *tmpdir)
{
    MDB_txn *txn;
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s/ivl-verify-XXXXXX", tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(r->dir)) {
        r->dir[0] = 0;
        return ivl_fail(IVL_E_IO, _("cannot make a replay directory in %s"),
                        tmpdir ? tmpdir : "/tmp");
    }
    int rc = mdb_env_create(&r->env);
    if (!rc) rc = mdb_env_set_maxdbs(r->env, IVL_DB_COUNT + 2);
    if (!rc) rc = mdb_env_set_mapsize(r->env, (size_t)1 << 40);
    if (!rc)
        rc = mdb_env_open(r->env, r->dir, MDB_NOSYNC | MDB_NOMETASYNC | MDB_NOTLS | MDB_NOLOCK,
                          0600);
    if (!rc) rc = mdb_txn_begin(r->env, NULL, 0, &txn);
    for (int i = 0; !rc && i < IVL_DB_COUNT; i++)
        rc = mdb_dbi_open(txn, ivl_db_names[i], MDB_CREATE, &r->dbi[i]);
    if (!rc) rc = mdb_txn_commit(txn);
    return rc ? ivl_st_mdb_err(rc, _("replay environment")) : 0;
}

static int replay_begin(struct replay *r, struct ivl_state *st, const char *origin)
{
    memset(st, 0, sizeof *st);
    int rc = mdb_txn_begin(r->env, NULL, 0, &st->txn);
    if (rc) return ivl_st_mdb_err(rc, _("replay environment"));
    memcpy(st->dbi, r->dbi, sizeof st->dbi);
    snprintf(st->origin, sizeof st->origin, "%s", origin);
    return 0;
}

/* Drops the pages of an environment's map from this process's resident set.
 * The maps are read-only shared file mappings (no MDB_WRITEMAP), so the data
 * stays in the page cache and is read back on the next touch: the resident
 * memory of a verification stays bounded whatever the size of the log. */
static void drop_map(MDB_env *env)
{
    /* LMDB reports its map address only for MDB_FIXEDMAP: find the mapping
     * of the environment's data file in /proc/self/maps by its inode. */
    mdb_filehandle_t fd;
    struct stat sb;
    char line[512];
    if (mdb_env_get_fd(env, &fd) || fstat(fd, &sb)) return;
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, ino;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %*s %*s %lu", &lo, &hi, perms, &ino) == 4 &&
            ino == (unsigned long)sb.st_ino && perms[3] == 's')
            madvise((void *)lo, hi - lo, MADV_DONTNEED);
    }
    fclose(f);
}

/* ---- comparison ---- */

static void hexpart(const MDB_val *v, char *out, size_t n)
{
    size_t m = v->mv_size < 24 ? v->mv_size : 24;
    char *o = out;
    for (size_t i = 0; i < m && (size_t)(o - out) + 3 < n; i++)
        o += sprintf(o, "%02x", ((uint8_t *)v->mv_data)[i]);
    if (m < v->mv_size && (size_t)(o - out) + 4 < n) strcpy(o, "...");
}

static int compare_table(MDB_txn *a, MDB_dbi da, MDB_txn *b, MDB_dbi db, int which,
                         struct ivl_verify_report *rep)
{
    MDB_cursor *ca, *cb;
    MDB_val ka, va, kb, vb;
    char kh[80];
    uint64_t walked = 0;
    int rc = mdb_cursor_open(a, da, &ca);
    if (rc) return ivl_st_mdb_err(rc, ivl_db_names[which]);
    if ((rc = mdb_cursor_open(b, db, &cb))) {
        mdb_cursor_close(ca);
        return ivl_st_mdb_err(rc, _("replay"));
    }
    int ra = mdb_cursor_get(ca, &ka, &va, MDB_FIRST), rb = mdb_cursor_get(cb, &kb, &vb, MDB_FIRST);
    rc = 0;
    for (;;) {
        if (ra && ra != MDB_NOTFOUND) {
            rc = ivl_st_mdb_err(ra, ivl_db_names[which]);
            break;
        }
        if (ra == MDB_NOTFOUND && rb == MDB_NOTFOUND) break;
        if (ra == MDB_NOTFOUND ||
            (rb == 0 && (ka.mv_size != kb.mv_size || memcmp(ka.mv_data, kb.mv_data, ka.mv_size)))) {
            hexpart(ra == MDB_NOTFOUND ? &kb : &ka, kh, sizeof kh);
            rc = ivl_fail(IVL_E_TAMPERED,
                          _("table '%s' differs from the replayed log at key %s (%s)"),
                          ivl_db_names[which], kh,
                          ra == MDB_NOTFOUND ? _("missing from the database")
                                             : _("not made by the log or out of place"));
            break;
        }
        if (rb == MDB_NOTFOUND) {
            hexpart(&ka, kh, sizeof kh);
            rc =
                ivl_fail(IVL_E_TAMPERED, _("table '%s' has a record the log does not make, key %s"),
                         ivl_db_names[which], kh);
            break;
        }
        if (va.mv_size != vb.mv_size || memcmp(va.mv_data, vb.mv_data, va.mv_size)) {
            hexpart(&ka, kh, sizeof kh);
            rc = ivl_fail(IVL_E_TAMPERED,
                          _("table '%s' differs from the replayed log in the record with key %s"),
                          ivl_db_names[which], kh);
            break;
        }
        ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT);
        rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT);
        if (++walked % 65536 == 0) {
            drop_map(mdb_txn_env(a));
            drop_map(mdb_txn_env(b));
        }
    }
    if (rc == IVL_E_TAMPERED)
        snprintf(rep->bad_table, sizeof rep->bad_table, "%s", ivl_db_names[which]);
    mdb_cursor_close(ca);
    mdb_cursor_close(cb);
    return rc;
}

static int node_get(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    return ivl_st_node(ctx, level, index, out);
}

/* Every stored checkpoint signature against the replayed tree. */
static int check_checkpoints(struct ivl_state *orig, struct ivl_state *rep_st,
                             const uint8_t log_pub[32], uint64_t size, uint64_t *count,
                             struct ivl_sigbatch *b)
{
    MDB_cursor *cur;
    MDB_val k, v;
    char text[512];
    uint8_t root[32];
    int rc = mdb_cursor_open(orig->txn, orig->dbi[IVL_DB_CPS], &cur);
    if (rc) return ivl_st_mdb_err(rc, "checkpoints");
    int r;
    for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && r == 0;
         r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t s = 0;
        if (k.mv_size != 8 || v.mv_size != IVL_SIG_LEN) {
            rc = ivl_fail(IVL_E_TAMPERED, _("table 'checkpoints' has a malformed record"));
            break;
        }
        for (int i = 0; i < 8; i++)
            s = s << 8 | ((uint8_t *)k.mv_data)[i];
        if (s == 0 || s > size) {
            rc = ivl_fail(IVL_E_BAD_CHECKPOINT,
                          _("a stored checkpoint has size %llu, beyond the log's %llu"),
                          (unsigned long long)s, (unsigned long long)size);
            break;
        }
        rc = ivl_merkle_root(rep_st, node_get, s, root);
        if (!rc) rc = ivl_checkpoint_format(orig->origin, s, root, text, sizeof text);
        /* One per commit, so about one per entry: checked on all cores. */
        if (!rc)
            rc =
                ivl_sigbatch_add_raw(b, s, (const uint8_t *)text, strlen(text), v.mv_data, log_pub);
        (*count)++;
    }
    if (!rc && r != MDB_NOTFOUND) rc = ivl_st_mdb_err(r, "checkpoints");
    mdb_cursor_close(cur);
    if (!rc && ivl_sigbatch_flush(b))
        rc = ivl_fail(
            IVL_E_BAD_CHECKPOINT,
            _("the stored checkpoint of size %llu does not match the log (root or signature)"),
            (unsigned long long)ivl_sigbatch_bad(b));
    /* Every commit stores the checkpoint of its size: the head's must be there. */
    uint8_t k8[8];
    MDB_val hv;
    for (int i = 7, sh = 0; i >= 0; i--, sh += 8)
        k8[i] = (uint8_t)(size >> sh);
    if (!rc && size && ivl_st_get(orig, IVL_DB_CPS, k8, 8, &hv))
        rc = ivl_fail(IVL_E_BAD_CHECKPOINT, _("the checkpoint of the head (size %llu) is missing"),
                      (unsigned long long)size);
    return rc;
}

/* ---- the replay ---- */

static int replay_log(struct ivl_ledger *l, struct ivl_state *orig, struct replay *rp,
                      const struct ivl_verify_opts *o, struct ivl_sigbatch *b,
                      struct ivl_verify_report *rep)
{
    struct ivl_head stored, h = {0};
    struct ivl_state st;
    TRY(ivl_st_head(orig, &stored));
    char origin[IVL_MAX_ORIGIN + 1] = "";
    TRY(replay_begin(rp, &st, ""));
    int rc = 0;
    for (uint64_t seq = 0; !rc && seq < stored.size; seq++) {
        const uint8_t *leaf;
        size_t len;
        struct ivl_entry e;
        struct ivl_signers who;
        uint8_t lh[32];
        struct ivl_buf again = {0};
        rc = ivl_ledger_leaf(orig, seq, &leaf, &len);
        if (rc == IVL_E_NOT_FOUND || rc == IVL_E_CORRUPT)
            rc = ivl_fail(IVL_E_TAMPERED, _("entry %llu is missing"), (unsigned long long)seq);
        if (rc) {
            rep->bad_seq = seq;
            break;
        }
        if ((rc = ivl_leaf_decode(leaf, len, &e))) {
            rc = ivl_fail(IVL_E_DECODE, _("entry %llu does not decode: %s"),
                          (unsigned long long)seq, ivl_err_detail(rc));
            rep->bad_seq = seq;
            break;
        }
        /* Canonical: the decoder is strict, and re-encoding must give the same bytes. */
        rc = ivl_leaf_encode(&e, &again);
        if (!rc && (again.len != len || memcmp(again.p, leaf, len)))
            rc = ivl_fail(IVL_E_DECODE, _("entry %llu is not canonically encoded"),
                          (unsigned long long)seq);
        ivl_buf_free(&again);
        if (!rc) rc = ivl_ledger_apply(&st, &h, &e, leaf, len, 0, lh, &who);
        if (!rc && e.type == IVL_T_GENESIS)
            snprintf(origin, sizeof origin, "%s", e.u.genesis.origin);
        int check = !o->have_from || seq >= o->from_size;
        if (!rc && check) rc = ivl_sigbatch_add(b, origin, &e, &who, leaf, len);
        if (!rc) {
            rep->entries++;
            rep->by_type[e.type]++;
            if (check)
                rep->signatures += who.n;
            else
                rep->skipped_signatures += who.n;
        }
        ivl_entry_free(&e);
        if (rc && ivl_sigbatch_flush(b)) {
            /* An earlier entry's forged signature explains the later break. */
            rc = IVL_E_BAD_SIG;
            rep->bad_seq = ivl_sigbatch_bad(b);
            break;
        }
        if (rc) {
            if (ivl_err_exit(rc) == IVL_EXIT_RULE || ivl_err_exit(rc) == IVL_EXIT_KEY)
                rc = ivl_fail(IVL_E_TAMPERED, _("entry %llu breaks a rule: %s"),
                              (unsigned long long)seq, ivl_err_detail(rc));
            else if (!strstr(ivl_err_detail(rc), _("entry "))) /* not named yet */
                rc = ivl_fail(rc, _("entry %llu: %s"), (unsigned long long)seq, ivl_err_detail(rc));
            rep->bad_seq = seq;
            break;
        }
        if ((seq + 1) % IVL_PROGRESS_EVERY == 0 || seq + 1 == stored.size)
            ivl_ledger_progress(l, seq + 1, stored.size);
        if ((seq + 1) % REPLAY_COMMIT_EVERY == 0) {
            drop_map(mdb_txn_env(orig->txn));
            drop_map(rp->env);
            rc = mdb_txn_commit(st.txn);
            st.txn = NULL;
            rc = rc ? ivl_st_mdb_err(rc, _("replay")) : replay_begin(rp, &st, origin);
        }
    }
    if (!rc) rc = ivl_sigbatch_flush(b);
    if (rc && ivl_sigbatch_bad(b) != UINT64_MAX) rep->bad_seq = ivl_sigbatch_bad(b);
    if (!rc) rc = ivl_merkle_root(&st, node_get, h.size, h.root);
    if (!rc) rc = ivl_st_put_head(&st, &h);
    if (!rc) {
        rep->size = h.size;
        memcpy(rep->root, h.root, 32);
        if (memcmp(h.root, stored.root, 32) || h.last_time != stored.last_time)
            rc = ivl_fail(IVL_E_TAMPERED, _("the stored head does not match the log's root"));
    }
    if (st.txn) {
        int c = mdb_txn_commit(st.txn);
        if (!rc && c) rc = ivl_st_mdb_err(c, _("replay"));
    }
    return rc;
}

static int check_from(struct ivl_state *rs, const struct ivl_verify_opts *o, uint64_t size,
                      const uint8_t root[32])
{
    uint8_t proof[IVL_MERKLE_MAX_PROOF][32], old_root[32];
    size_t n;
    char a[65], b[65];
    if (o->from_size > size)
        return ivl_fail(IVL_E_FORK,
                        _("the checkpoint has size %llu but the log only %llu entries: the "
                          "log was truncated or is another log"),
                        (unsigned long long)o->from_size, (unsigned long long)size);
    TRY(ivl_merkle_consistency_proof(rs, node_get, o->from_size, size, proof, &n));
    if (ivl_merkle_verify_consistency(o->from_size, size, o->from_root, root,
                                      (const uint8_t(*)[32])proof, n)) {
        ivl_merkle_root(rs, node_get, o->from_size, old_root);
        sodium_bin2hex(a, sizeof a, o->from_root, 32);
        sodium_bin2hex(b, sizeof b, old_root, 32);
        return ivl_fail(IVL_E_FORK,
                        _("the log does not extend the checkpoint: at size %llu the "
                          "checkpoint's root is %s, the log's is %s"),
                        (unsigned long long)o->from_size, a, b);
    }
    return 0;
}

int ivl_verify(struct ivl_ledger *l, const struct ivl_verify_opts *o, struct ivl_verify_report *rep)
{
    struct ivl_state orig, rs;
    struct replay rp;
    struct timespec t0, t1;
    uint8_t log_pub[32];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(rep, 0, sizeof *rep);
    rep->bad_seq = UINT64_MAX;
    struct ivl_sigbatch *b;
    TRY(ivl_sigbatch_new(o->jobs, &b));

    int rc = ivl_ledger_begin(l, &orig);
    if (rc) goto out_b;
    rc = ivl_ledger_log_pub(&orig, log_pub);
    if (!rc) rc = replay_open(&rp, o->tmpdir);
    if (rc) goto out_orig;
    rc = replay_log(l, &orig, &rp, o, b, rep);
    if (!rc && !(rc = mdb_txn_begin(rp.env, NULL, MDB_RDONLY, &rs.txn))) {
        memcpy(rs.dbi, rp.dbi, sizeof rs.dbi);
        snprintf(rs.origin, sizeof rs.origin, "%s", orig.origin);
        if (o->have_from) rc = check_from(&rs, o, rep->size, rep->root);
        for (int i = 0; !rc && i < IVL_DB_COUNT; i++)
            if (i != IVL_DB_CPS)
                rc = compare_table(orig.txn, orig.dbi[i], rs.txn, rs.dbi[i], i, rep);
        if (!rc) rc = check_checkpoints(&orig, &rs, log_pub, rep->size, &rep->checkpoints, b);
        mdb_txn_abort(rs.txn);
    } else if (!rc) {
        rc = ivl_st_mdb_err(rc, _("replay"));
    }
    replay_close(&rp);
out_orig:
    ivl_ledger_end(&orig);
out_b:
    ivl_sigbatch_free(b);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rep->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return rc;
}
