/*
 * ledger.c - the LMDB environment and the append transaction.
 *
 * An append is one write transaction: rules and state, signature checks,
 * leaf, Merkle nodes, head and the checkpoint signature commit together
 * with fsync, or not at all. The map grows on MDB_MAP_FULL and the append is
 * retried, so a ledger never stops at a fixed size.
 */
#include "ledger.h"
#include "err.h"
#include "fileio.h"
#include "key.h"
#include "merkle.h"
#include "note.h"
#include "sigbatch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_) return rc_;                                                                       \
    } while (0)

#define INITIAL_MAP ((size_t)64 << 20)

struct ivl_ledger {
    MDB_env *env;
    MDB_dbi dbi[IVL_DB_COUNT];
    char dir[PATH_MAX];
    struct ivl_seckey *log_key; /* loaded on first append */
    ivl_progress_fn progress;   /* ivl_ledger_set_progress */
    void *progress_ctx;
    ivl_ready_fn ready; /* ivl_ledger_set_ready */
    void *ready_ctx;
};

void ivl_ledger_set_ready(struct ivl_ledger *l, ivl_ready_fn fn, void *ctx)
{
    l->ready = fn;
    l->ready_ctx = ctx;
}

void ivl_ledger_set_progress(struct ivl_ledger *l, ivl_progress_fn fn, void *ctx)
{
    l->progress = fn;
    l->progress_ctx = ctx;
}

void ivl_ledger_progress(struct ivl_ledger *l, uint64_t done, uint64_t total)
{
    if (l && l->progress) l->progress(l->progress_ctx, done, total);
}

MDB_env *ivl_ledger_env(struct ivl_ledger *l)
{
    return l->env;
}

const char *ivl_ledger_dir(const struct ivl_ledger *l)
{
    return l->dir;
}

/* LMDB writes its lock file through a shared mapping of a sparse file; on a
 * full filesystem that write faults (SIGBUS) instead of failing. Giving the
 * file its blocks first turns a full disk into an ordinary ENOSPC. */
static int reserve_lock_file(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    const off_t need = 8192 + 64 * 300;
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return 0; /* LMDB will report what is wrong */
    struct stat sb;
    /* Already given its blocks (every open but the first): fallocate would
     * still dirty the inode, a journal write on each read-only command. */
    if (!fstat(fd, &sb) && sb.st_size >= need && (off_t)sb.st_blocks * 512 >= need) {
        close(fd);
        return 0;
    }
    int rc = posix_fallocate(fd, 0, need);
    close(fd);
    if (rc == ENOSPC || rc == EDQUOT)
        return ivl_fail(IVL_E_NOSPACE, _("%s: no space left on device"), p);
    return 0;
}

/* LMDB keeps two meta pages and writes the one of the older transaction at
 * each commit, so their transaction ids always differ by one. A damaged
 * meta page that looks newer would silently roll the ledger back to an
 * earlier (self-consistent) state; refuse to open it instead. */
static int check_meta_pages(const char *dir)
{
    char p[PATH_MAX];
    uint64_t id[2], again[2];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    long page = sysconf(_SC_PAGESIZE);
    /* 16-byte page header + magic, version, address, mapsize, 2 x 48-byte db, last_pg */
    const off_t txnid_at = 16 + 4 + 4 + 8 + 8 + 2 * 48 + 8;
    int rc = 0;
    /* Other processes may commit while we read: a live file changes between
     * two reads, a damaged one does not. Judge only a stable pair. */
    for (int tries = 0; tries < 1000; tries++) {
        if (pread(fd, &id[0], 8, txnid_at) != 8 || pread(fd, &id[1], 8, page + txnid_at) != 8)
            break; /* too short: LMDB will refuse it */
        uint64_t d = id[0] > id[1] ? id[0] - id[1] : id[1] - id[0];
        if (d == 1) break;
        if (pread(fd, &again[0], 8, txnid_at) != 8 || pread(fd, &again[1], 8, page + txnid_at) != 8)
            break;
        if (again[0] == id[0] && again[1] == id[1] && tries >= 2) {
            rc = ivl_fail(IVL_E_CORRUPT,
                          _("%s is damaged: its two meta pages hold transactions %llu and %llu, "
                            "which a commit never leaves; restore it from a replica or backup"),
                          p, (unsigned long long)id[0], (unsigned long long)id[1]);
            break;
        }
        usleep(1000);
    }
    close(fd);
    return rc;
}

/* A ledger with a genesis entry must have its tables in this build's layout
 * (state.h): older tables would not decode, or would differ from a replay and
 * look tampered with. */
static int check_layout(MDB_txn *txn, MDB_dbi meta, const char *dir)
{
    MDB_val k = {6, "origin"}, v;
    if (mdb_get(txn, meta, &k, &v)) return 0; /* no genesis yet */
    k = (MDB_val){6, "layout"};
    unsigned have = 1;
    if (!mdb_get(txn, meta, &k, &v)) have = v.mv_size == 1 ? *(const uint8_t *)v.mv_data : 0;
    if (have == IVL_STATE_LAYOUT) return 0;
    return ivl_fail(IVL_E_STORE,
                    _("the tables in %s are in layout %u, and this ivl reads layout %u: export the "
                      "log with the ivl that wrote them and import the export with this one"),
                    dir, have, (unsigned)IVL_STATE_LAYOUT);
}

static int env_open(const char *dir, int create, struct ivl_ledger **out)
{
    struct ivl_ledger *l = calloc(1, sizeof *l);
    MDB_txn *txn = NULL;
    int rc;
    if (!l) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    snprintf(l->dir, sizeof l->dir, "%s", dir);
    /* An existing ledger is mapped at the size its meta page records (LMDB
     * adopts it when none is set), so the map is made once, not made and
     * made again at that size. */
    if ((rc = mdb_env_create(&l->env)) || (rc = mdb_env_set_maxdbs(l->env, IVL_DB_COUNT + 2)) ||
        (rc = mdb_env_set_maxreaders(l->env, 256)) ||
        (create && (rc = mdb_env_set_mapsize(l->env, INITIAL_MAP)))) {
        rc = ivl_st_mdb_err(rc, dir);
        goto fail;
    }
    if ((rc = reserve_lock_file(dir))) goto fail;
    if ((rc = check_meta_pages(dir))) goto fail;
    rc = mdb_env_open(l->env, dir, MDB_NOTLS, 0600);
    if (rc) {
        rc = rc == ENOENT ? ivl_fail(IVL_E_NO_LEDGER, _("no ledger in %s"), dir)
                          : ivl_st_mdb_err(rc, dir);
        goto fail;
    }
    int dead;
    mdb_reader_check(l->env, &dead);
    rc = mdb_txn_begin(l->env, NULL, create ? 0 : MDB_RDONLY, &txn);
    if (rc) {
        rc = ivl_st_mdb_err(rc, dir);
        goto fail;
    }
    for (int i = 0; i < IVL_DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, ivl_db_names[i], create ? MDB_CREATE | ivl_db_flags(i) : 0,
                          &l->dbi[i]);
        if (rc) {
            rc = rc == MDB_NOTFOUND
                     ? ivl_fail(IVL_E_CORRUPT,
                                _("the ledger database in %s is damaged: table '%s' is missing"),
                                dir, ivl_db_names[i])
                     : ivl_st_mdb_err(rc, dir);
            goto fail;
        }
        /* Before the other tables: an older layout may lack some of them. */
        if (i == IVL_DB_META && !create && (rc = check_layout(txn, l->dbi[IVL_DB_META], dir)))
            goto fail;
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc) {
        rc = ivl_st_mdb_err(rc, dir);
        goto fail;
    }
    *out = l;
    return 0;
fail:
    if (txn) mdb_txn_abort(txn);
    if (l->env) mdb_env_close(l->env);
    free(l);
    return rc;
}

static int has_ledger(const char *dir)
{
    char p[PATH_MAX];
    struct stat sb;
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    return stat(p, &sb) == 0;
}

int ivl_ledger_create(const char *dir, struct ivl_ledger **out)
{
    if (mkdir(dir, 0700) && errno != EEXIST)
        return ivl_fail(IVL_E_IO, _("cannot create %s: %s"), dir, strerror(errno));
    if (has_ledger(dir)) return ivl_fail(IVL_E_LEDGER_EXISTS, _("%s already holds a ledger"), dir);
    TRY(env_open(dir, 1, out));
    return ivl_dir_sync(dir);
}

int ivl_ledger_open(const char *dir, struct ivl_ledger **out)
{
    if (!has_ledger(dir))
        return ivl_fail(IVL_E_NO_LEDGER,
                        _("no ledger in %s (create one with 'ivl init', or use -L DIR)"), dir);
    return env_open(dir, 0, out);
}

void ivl_ledger_close(struct ivl_ledger *l)
{
    if (!l) return;
    ivl_key_free(l->log_key);
    mdb_env_close(l->env);
    free(l);
}

/* ---- transactions ---- */

static int begin(struct ivl_ledger *l, unsigned flags, struct ivl_state *st)
{
    memset(st, 0, sizeof *st);
    int rc = mdb_txn_begin(l->env, NULL, flags, &st->txn);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize(l->env, 0);
        rc = mdb_txn_begin(l->env, NULL, flags, &st->txn);
    }
    if (rc) return ivl_st_mdb_err(rc, l->dir);
    memcpy(st->dbi, l->dbi, sizeof st->dbi);
    MDB_val v;
    rc = ivl_st_get(st, IVL_DB_META, "origin", 6, &v);
    if (rc == 0 && v.mv_size <= IVL_MAX_ORIGIN) {
        memcpy(st->origin, v.mv_data, v.mv_size);
        st->origin[v.mv_size] = 0;
    }
    /* The origin names the log in every checkpoint: a damaged one is corruption. */
    if (rc == 0 && (v.mv_size > IVL_MAX_ORIGIN || strlen(st->origin) != v.mv_size ||
                    !ivl_note_name_valid(st->origin)))
        rc = ivl_fail(IVL_E_CORRUPT, _("the ledger's origin record is damaged; run 'ivl verify' on "
                                       "a replica or restore a backup"));
    if (rc && rc != IVL_E_NOT_FOUND) {
        mdb_txn_abort(st->txn);
        st->txn = NULL;
        return rc;
    }
    return 0;
}

int ivl_ledger_begin(struct ivl_ledger *l, struct ivl_state *st)
{
    return begin(l, MDB_RDONLY, st);
}

int ivl_ledger_begin_write(struct ivl_ledger *l, struct ivl_state *st)
{
    return begin(l, 0, st);
}

int ivl_ledger_put_checkpoint_sig(struct ivl_state *st, uint64_t size, const uint8_t sig[64])
{
    uint8_t k[8];
    for (int i = 7, s = 0; i >= 0; i--, s += 8)
        k[i] = (uint8_t)(size >> s);
    return ivl_st_put(st, IVL_DB_CPS, k, 8, sig, 64);
}

void ivl_ledger_end(struct ivl_state *st)
{
    if (st->txn) mdb_txn_abort(st->txn);
    st->txn = NULL;
}

/* ---- Merkle callbacks over the nodes table ---- */

static int node_get(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    return ivl_st_node(ctx, level, index, out);
}

static int node_put(void *ctx, unsigned level, uint64_t index, const uint8_t h[32])
{
    return ivl_st_put_node(ctx, level, index, h);
}

/* ---- append ---- */

static int load_log_key(struct ivl_ledger *l)
{
    char p[PATH_MAX];
    if (l->log_key) return 0;
    snprintf(p, sizeof p, "%s/log.key", l->dir);
    return ivl_key_load(p, NULL, NULL, &l->log_key);
}

static int check_sigs_of(const struct ivl_state *st, const struct ivl_entry *e,
                         const struct ivl_signers *who, const uint8_t *body, size_t body_len)
{
    struct ivl_buf msg = {0};
    const char *origin = e->type == IVL_T_GENESIS ? e->u.genesis.origin : st->origin;
    int rc = ivl_sig_message(origin, body, body_len, &msg);
    for (uint32_t i = 0; !rc && i < who->n; i++)
        if (crypto_sign_verify_detached(e->sigs[i].sig, msg.p, msg.len, who->pub[i]))
            rc = ivl_fail(IVL_E_BAD_SIG, _("signature %u of the %s entry (by %s) does not verify"),
                          i + 1, ivl_type_name(e->type), e->sigs[i].signer);
    ivl_buf_free(&msg);
    return rc;
}

int ivl_ledger_apply(struct ivl_state *st, struct ivl_head *h, const struct ivl_entry *e,
                     const uint8_t *leaf, size_t len, int check_sigs, uint8_t leaf_hash[32],
                     struct ivl_signers *who_out)
{
    struct ivl_signers who;
    const uint8_t *body;
    size_t body_len;
    uint8_t k[8];
    if (e->seq != h->size)
        return ivl_fail(IVL_E_CORRUPT, _("entry %llu carries sequence number %llu"),
                        (unsigned long long)h->size, (unsigned long long)e->seq);
    if (e->appended_at < h->last_time)
        return ivl_fail(IVL_E_TIME, _("entry %llu was appended before the entry preceding it"),
                        (unsigned long long)e->seq);
    h->last_time = e->appended_at;
    TRY(ivl_rules_apply(st, e, &who));
    TRY(ivl_leaf_body(leaf, len, &body, &body_len));
    if (check_sigs) TRY(check_sigs_of(st, e, &who, body, body_len));
    for (int i = 7, s = 0; i >= 0; i--, s += 8)
        k[i] = (uint8_t)(e->seq >> s);
    TRY(ivl_st_append(st, IVL_DB_LEAVES, k, 8, leaf, len));
    ivl_merkle_leaf_hash(leaf, len, leaf_hash);
    TRY(ivl_merkle_append(st, node_get, node_put, h->size, leaf_hash));
    h->size++;
    if (who_out) *who_out = who;
    return 0;
}

/* Encodes a new entry at the end of the log and applies it; its signatures
 * are checked at once, or queued in `sb` to be checked on several threads. */
static int append_one(struct ivl_state *st, struct ivl_head *h, struct ivl_entry *e,
                      struct ivl_appended *out, struct ivl_sigbatch *sb, const uint8_t *own)
{
    struct ivl_buf leaf = {0};
    struct ivl_signers who;
    e->seq = h->size;
    e->appended_at = h->last_time;
    int rc = ivl_leaf_encode(e, &leaf);
    if (!rc) rc = ivl_ledger_apply(st, h, e, leaf.p, leaf.len, !sb && !own, out->leaf_hash, &who);
    if (!rc && own) {
        /* Signed in this process by the key `own`: it is valid iff it is the
         * key the rules require (one sample is verified by the caller). */
        if (who.n != 1 || memcmp(who.pub[0], own, IVL_PUB_LEN))
            rc = ivl_fail(IVL_E_KEY_ROLE,
                          _("entry %llu: the signing key is not the key of its signer"),
                          (unsigned long long)e->seq);
    } else if (!rc && sb) {
        const char *origin = e->type == IVL_T_GENESIS ? e->u.genesis.origin : st->origin;
        rc = ivl_sigbatch_add(sb, origin, e, &who, leaf.p, leaf.len);
    }
    out->seq = e->seq;
    ivl_buf_free(&leaf);
    return rc;
}

static int put_checkpoint(struct ivl_ledger *l, struct ivl_state *st, const struct ivl_head *h)
{
    char text[512];
    uint8_t sig[IVL_SIG_LEN], k[8];
    TRY(load_log_key(l));
    TRY(ivl_checkpoint_format(st->origin, h->size, h->root, text, sizeof text));
    TRY(ivl_key_sign(l->log_key, (const uint8_t *)text, strlen(text), sig));
    for (int i = 7, s = 0; i >= 0; i--, s += 8)
        k[i] = (uint8_t)(h->size >> s);
    return ivl_st_put(st, IVL_DB_CPS, k, 8, sig, sizeof sig);
}

static int append_txn(struct ivl_ledger *l, struct ivl_entry *es, size_t n, int64_t now,
                      unsigned flags, const uint8_t *own, struct ivl_appended *out, size_t *failed)
{
    struct ivl_state st;
    struct ivl_head h;
    TRY(begin(l, 0, &st));
    ivl_st_cache_begin(&st);
    int rc = ivl_st_head(&st, &h);
    if (!rc && now < h.last_time) {
        if (flags & IVL_APPEND_CLAMP_TIME)
            now = h.last_time;
        else
            rc = ivl_fail(IVL_E_TIME, _("append time would move the log back in time"));
    }
    if (!rc) h.last_time = now;
    uint64_t first = h.size;
    struct ivl_sigbatch *sb = NULL;
    if (!rc && n > 1 && !own) rc = ivl_sigbatch_new(0, &sb);
    for (size_t i = 0; !rc && i < n; i++) {
        /* Entries may still be being signed on other threads. */
        if (l->ready) rc = l->ready(l->ready_ctx, i);
        /* With an own signer, the first entry's signature is verified for real. */
        if (!rc) rc = append_one(&st, &h, &es[i], &out[i], sb, own && i ? own : NULL);
        if (rc && failed) *failed = i;
        if (!rc && n >= IVL_PROGRESS_EVERY && ((i + 1) % IVL_PROGRESS_EVERY == 0 || i + 1 == n))
            ivl_ledger_progress(l, i + 1, n);
    }
    if (!rc && sb) {
        rc = ivl_sigbatch_flush(sb);
        if (rc && failed) *failed = (size_t)(ivl_sigbatch_bad(sb) - first);
    } else if (rc && sb && ivl_sigbatch_bad(sb) != UINT64_MAX && failed) {
        *failed = (size_t)(ivl_sigbatch_bad(sb) - first);
    }
    ivl_sigbatch_free(sb);
    if (!rc) rc = ivl_st_cache_flush(&st);
    ivl_st_cache_end();
    if (!rc) rc = ivl_merkle_root(&st, node_get, h.size, h.root);
    if (!rc) rc = ivl_st_put_head(&st, &h);
    if (!rc && !(flags & IVL_APPEND_NO_CHECKPOINT)) rc = put_checkpoint(l, &st, &h);
    if (rc || (flags & IVL_APPEND_DRY_RUN)) {
        mdb_txn_abort(st.txn);
        return rc;
    }
    rc = mdb_txn_commit(st.txn);
    return rc ? ivl_st_mdb_err(rc, _("commit")) : 0;
}

int ivl_ledger_append(struct ivl_ledger *l, struct ivl_entry *es, size_t n, int64_t now,
                      unsigned flags, struct ivl_appended *out, size_t *failed)
{
    return ivl_ledger_append_own(l, es, n, now, flags, NULL, out, failed);
}

/* Bytes of map to have free per entry of a batch: what an entry and its
 * records take (about 550 B on disk) with room for page splits. */
#define APPEND_RESERVE 4096

int ivl_ledger_append_own(struct ivl_ledger *l, struct ivl_entry *es, size_t n, int64_t now,
                          unsigned flags, const uint8_t *own, struct ivl_appended *out,
                          size_t *failed)
{
    /* A full map restarts the whole transaction: make room for a batch first. */
    if (n > 1) TRY(ivl_ledger_reserve(l, (uint64_t)n * APPEND_RESERVE + ((uint64_t)1 << 20)));
    for (;;) {
        ivl_err_clear();
        int rc = append_txn(l, es, n, now, flags, own, out, failed);
        if (rc != IVL_E_MAP_FULL) return rc;
        TRY(ivl_ledger_grow(l));
    }
}

int ivl_ledger_grow(struct ivl_ledger *l)
{
    MDB_envinfo info;
    mdb_env_info(l->env, &info);
    int rc = mdb_env_set_mapsize(l->env, info.me_mapsize * 2);
    return rc ? ivl_st_mdb_err(rc, _("growing the map")) : 0;
}

int ivl_ledger_reserve(struct ivl_ledger *l, uint64_t bytes)
{
    MDB_envinfo info;
    MDB_stat ms;
    if (mdb_env_info(l->env, &info) || mdb_env_stat(l->env, &ms)) return 0; /* grown on demand */
    uint64_t used = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize, want = info.me_mapsize;
    while (want < used + bytes && want < ((uint64_t)1 << 46))
        want *= 2;
    if (want == info.me_mapsize) return 0;
    int rc = mdb_env_set_mapsize(l->env, (size_t)want);
    return rc ? ivl_st_mdb_err(rc, _("growing the map")) : 0;
}

/* ---- reads ---- */

int ivl_ledger_leaf(struct ivl_state *st, uint64_t seq, const uint8_t **p, size_t *len)
{
    uint8_t k[8];
    MDB_val v;
    for (int i = 7, s = 0; i >= 0; i--, s += 8)
        k[i] = (uint8_t)(seq >> s);
    int rc = ivl_st_get(st, IVL_DB_LEAVES, k, 8, &v);
    if (rc == IVL_E_NOT_FOUND) {
        struct ivl_head h;
        if (!ivl_st_head(st, &h) && seq < h.size)
            return ivl_fail(IVL_E_CORRUPT, _("entry %llu is missing from the database"),
                            (unsigned long long)seq);
        return ivl_fail(IVL_E_NOT_FOUND, _("no entry %llu"), (unsigned long long)seq);
    }
    if (rc) return rc;
    *p = v.mv_data;
    *len = v.mv_size;
    return 0;
}

int ivl_ledger_entry(struct ivl_state *st, uint64_t seq, struct ivl_entry *e)
{
    const uint8_t *p;
    size_t n;
    TRY(ivl_ledger_leaf(st, seq, &p, &n));
    int rc = ivl_leaf_decode(p, n, e);
    if (rc)
        return ivl_fail(IVL_E_DECODE, _("entry %llu: %s"), (unsigned long long)seq,
                        ivl_err_detail(rc));
    if (e->seq != seq) {
        ivl_entry_free(e);
        return ivl_fail(IVL_E_CORRUPT, _("entry %llu is stored under sequence number %llu"),
                        (unsigned long long)e->seq, (unsigned long long)seq);
    }
    return 0;
}

int ivl_ledger_log_pub(struct ivl_state *st, uint8_t pub[IVL_PUB_LEN])
{
    MDB_val v;
    int rc = ivl_st_get(st, IVL_DB_META, "log_pub", 7, &v);
    if (rc == IVL_E_NOT_FOUND)
        return ivl_fail(IVL_E_NO_LEDGER, _("the ledger has no genesis entry"));
    if (rc) return rc;
    if (v.mv_size != IVL_PUB_LEN) return ivl_fail(IVL_E_CORRUPT, _("log key record is damaged"));
    memcpy(pub, v.mv_data, IVL_PUB_LEN);
    return 0;
}

int ivl_ledger_root(struct ivl_state *st, uint64_t size, uint8_t root[IVL_HASHLEN])
{
    struct ivl_head h;
    TRY(ivl_st_head(st, &h));
    if (size > h.size)
        return ivl_fail(IVL_E_USAGE, _("size %llu is beyond the log's %llu entries"),
                        (unsigned long long)size, (unsigned long long)h.size);
    return ivl_merkle_root(st, node_get, size, root);
}

int ivl_ledger_checkpoint(struct ivl_ledger *l, struct ivl_state *st, uint64_t size, char **note)
{
    struct ivl_head h;
    uint8_t root[IVL_HASHLEN];
    TRY(ivl_st_head(st, &h));
    if (size == 0) size = h.size;
    if (size == 0) return ivl_fail(IVL_E_NO_LEDGER, _("the ledger is empty"));
    TRY(ivl_ledger_root(st, size, root));
    return ivl_ledger_checkpoint_at(l, st, size, root, note);
}

/* Whether the log key, if this process has loaded it (`proof consistency`
 * signs the old size first), gives exactly sig for text. Ed25519 signing is
 * deterministic, so the same bytes prove the signature valid for a third of
 * the cost of verifying it; anything else is verified as usual. */
static int signed_here(const struct ivl_ledger *l, const uint8_t pub[IVL_PUB_LEN], const char *text,
                       const uint8_t sig[IVL_SIG_LEN])
{
    uint8_t mine[IVL_SIG_LEN];
    return l->log_key && !memcmp(ivl_key_public(l->log_key), pub, IVL_PUB_LEN) &&
           !ivl_key_sign(l->log_key, (const uint8_t *)text, strlen(text), mine) &&
           !memcmp(mine, sig, IVL_SIG_LEN);
}

int ivl_ledger_checkpoint_at(struct ivl_ledger *l, struct ivl_state *st, uint64_t size,
                             const uint8_t root[IVL_HASHLEN], char **note)
{
    uint8_t k[8], pub[IVL_PUB_LEN];
    char text[512], line[512];
    MDB_val v;
    TRY(ivl_ledger_log_pub(st, pub));
    TRY(ivl_checkpoint_format(st->origin, size, root, text, sizeof text));
    for (int i = 7, s = 0; i >= 0; i--, s += 8)
        k[i] = (uint8_t)(size >> s);
    int rc = ivl_st_get(st, IVL_DB_CPS, k, 8, &v);
    uint8_t sig[IVL_SIG_LEN];
    if (rc == 0 && v.mv_size == IVL_SIG_LEN) {
        memcpy(sig, v.mv_data, IVL_SIG_LEN);
        if (!signed_here(l, pub, text, sig) &&
            crypto_sign_verify_detached(sig, (const uint8_t *)text, strlen(text), pub))
            return ivl_fail(IVL_E_BAD_CHECKPOINT,
                            _("stored checkpoint of size %llu does not verify"),
                            (unsigned long long)size);
    } else if (rc == 0 || rc == IVL_E_NOT_FOUND) {
        if (load_log_key(l))
            return ivl_fail(IVL_E_NOT_FOUND,
                            _("no checkpoint of size %llu is stored here and the log key is not "
                              "available to sign one"),
                            (unsigned long long)size);
        /* A signature made here needs no verifying, only the right key. */
        if (sodium_memcmp(ivl_key_public(l->log_key), pub, IVL_PUB_LEN))
            return ivl_fail(IVL_E_BAD_CHECKPOINT,
                            _("%s/log.key is not the key of this log: it cannot sign a checkpoint "
                              "of size %llu"),
                            l->dir, (unsigned long long)size);
        TRY(ivl_key_sign(l->log_key, (const uint8_t *)text, strlen(text), sig));
    } else {
        return rc;
    }
    /* Re-encode the stored signature as a note line. */
    uint8_t blob[4 + IVL_SIG_LEN];
    uint32_t kid = ivl_note_key_id(st->origin, pub);
    for (int i = 0; i < 4; i++)
        blob[i] = (uint8_t)(kid >> (24 - 8 * i));
    memcpy(blob + 4, sig, IVL_SIG_LEN);
    char b64[sodium_base64_ENCODED_LEN(sizeof blob, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    snprintf(line, sizeof line, "\xe2\x80\x94 %s %s\n", st->origin, b64);
    if (asprintf(note, "%s\n%s", text, line) < 0) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    return 0;
}

int ivl_ledger_inclusion(struct ivl_state *st, uint64_t index, uint64_t size,
                         uint8_t leaf_hash[IVL_HASHLEN], uint8_t (*hashes)[32], size_t *n)
{
    struct ivl_head h;
    TRY(ivl_st_head(st, &h));
    if (size > h.size || index >= size)
        return ivl_fail(IVL_E_USAGE, _("no entry %llu in a tree of size %llu (the log has %llu)"),
                        (unsigned long long)index, (unsigned long long)size,
                        (unsigned long long)h.size);
    TRY(ivl_st_node(st, 0, index, leaf_hash));
    return ivl_merkle_inclusion_proof(st, node_get, index, size, hashes, n);
}

int ivl_ledger_consistency(struct ivl_state *st, uint64_t old_size, uint64_t new_size,
                           uint8_t (*hashes)[32], size_t *n)
{
    struct ivl_head h;
    TRY(ivl_st_head(st, &h));
    if (old_size == 0 || old_size > new_size || new_size > h.size)
        return ivl_fail(IVL_E_USAGE, _("need 0 < old size %llu <= new size %llu <= %llu"),
                        (unsigned long long)old_size, (unsigned long long)new_size,
                        (unsigned long long)h.size);
    return ivl_merkle_consistency_proof(st, node_get, old_size, new_size, hashes, n);
}

int ivl_ledger_key_party(struct ivl_state *st, const uint8_t pub[IVL_PUB_LEN],
                         struct ivl_party_rec *p)
{
    MDB_val v;
    char u[IVL_USCC_LEN + 1] = {0};
    int rc = ivl_st_get(st, IVL_DB_PUBKEYS, pub, IVL_PUB_LEN, &v);
    if (rc == IVL_E_NOT_FOUND)
        return ivl_fail(IVL_E_KEY_ROLE, _("this key belongs to no registered party"));
    if (rc) return rc;
    if (v.mv_size != IVL_USCC_LEN) return ivl_fail(IVL_E_CORRUPT, _("public key index is damaged"));
    memcpy(u, v.mv_data, IVL_USCC_LEN);
    TRY(ivl_st_party(st, u, p));
    if (memcmp(p->p.pub, pub, IVL_PUB_LEN))
        return ivl_fail(
            IVL_E_KEY_ROLE,
            _("this key of %s (%s) has been replaced by a newer one (see ivl party show %s)"), u,
            p->p.name, u);
    return 0;
}

int ivl_ledger_check_head(struct ivl_state *st, struct ivl_head *h)
{
    uint8_t k[8], pub[IVL_PUB_LEN], root[IVL_HASHLEN];
    char text[512];
    MDB_val v;
    TRY(ivl_st_head(st, h));
    if (h->size == 0) return 0;
    TRY(ivl_ledger_log_pub(st, pub));
    TRY(ivl_merkle_root(st, node_get, h->size, root));
    if (memcmp(root, h->root, IVL_HASHLEN))
        return ivl_fail(IVL_E_CORRUPT,
                        _("the stored tree does not match the head; run 'ivl verify'"));
    for (int i = 7, s = 0; i >= 0; i--, s += 8)
        k[i] = (uint8_t)(h->size >> s);
    int rc = ivl_st_get(st, IVL_DB_CPS, k, 8, &v);
    if (rc == IVL_E_NOT_FOUND)
        return ivl_fail(IVL_E_CORRUPT, _("the head's checkpoint is missing; run 'ivl verify'"));
    if (rc) return rc;
    TRY(ivl_checkpoint_format(st->origin, h->size, h->root, text, sizeof text));
    if (v.mv_size != IVL_SIG_LEN ||
        crypto_sign_verify_detached(v.mv_data, (const uint8_t *)text, strlen(text), pub))
        return ivl_fail(IVL_E_CORRUPT,
                        _("the head does not match its signed checkpoint; run 'ivl verify'"));
    return 0;
}

int ivl_ledger_entry_checked(struct ivl_state *st, const struct ivl_head *h, uint64_t seq,
                             struct ivl_entry *e)
{
    const uint8_t *leaf;
    size_t len, n;
    uint8_t lh[IVL_HASHLEN], proof[IVL_MERKLE_MAX_PROOF][32];
    TRY(ivl_ledger_leaf(st, seq, &leaf, &len));
    ivl_merkle_leaf_hash(leaf, len, lh);
    if (seq >= h->size)
        return ivl_fail(IVL_E_NOT_FOUND, _("no entry %llu"), (unsigned long long)seq);
    int rc = ivl_merkle_inclusion_proof(st, node_get, seq, h->size, proof, &n);
    if (!rc)
        rc = ivl_merkle_verify_inclusion(seq, h->size, lh, (const uint8_t(*)[32])proof, n, h->root);
    if (rc) {
        /* The first hash of the path is the neighbour's leaf hash, taken from
         * its stored leaf: a damaged neighbour fails this proof too. */
        uint64_t nb = seq ^ 1;
        if (nb < h->size)
            return ivl_fail(IVL_E_CORRUPT,
                            _("entry %llu or its neighbour %llu is not what the signed log holds "
                              "(damaged or altered); run 'ivl verify'"),
                            (unsigned long long)seq, (unsigned long long)nb);
        return ivl_fail(IVL_E_CORRUPT,
                        _("entry %llu is not the one the signed log holds (damaged or altered); "
                          "run 'ivl verify'"),
                        (unsigned long long)seq);
    }
    return ivl_ledger_entry(st, seq, e);
}
