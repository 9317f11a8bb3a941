/*
 * verify.c - the auditor's full check: replay the raw log through the same
 * rule functions into a fresh environment, check every signature (on worker
 * threads, in batches, while one thread keeps the order-dependent work),
 * then compare every stored table with the replayed one byte for byte, and
 * every stored checkpoint with the replayed tree. The database must be a
 * function of the log: any other byte is tampering.
 *
 * The auditor's state cache: a replay environment kept in the auditor's cache
 * directory (one per log key and origin), with a record of the size, root
 * and first signature-checked entry of the log it was verified at. An
 * incremental verification (--from) starts from it and replays only the
 * entries after that size; the comparison of every table then covers the
 * older entries, byte for byte, exactly as in a full replay. A verification
 * that fails from the cache is run again from entry 0 before it is reported,
 * so a damaged cache can cost time but never changes a verdict.
 */
#include "ledger.h"
#include "err.h"
#include "merkle.h"
#include "note.h"
#include "sigbatch.h"
#include "tablewalk.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_) return rc_;                                                                       \
    } while (0)

#define REPLAY_COMMIT_EVERY 8192 /* entries per replay transaction */
/* The maps' pages are dropped from the resident set when the pages of mapped
 * files resident in this process (the "shared" count of /proc/self/statm:
 * both LMDB maps, the binary) pass this budget, looked at every
 * RESIDENT_CHECK_EVERY entries replayed or records compared. A ledger whose
 * maps fit is never dropped (each drop costs the faults that bring pages
 * back); a larger one stays near the budget whatever its size. */
#define RESIDENT_FILE_BUDGET ((uint64_t)96 << 20) /* IVL_VERIFY_RESIDENT_MIB overrides */
#define RESIDENT_CHECK_EVERY 512

/* ---- the replay environment ---- */

struct replay {
    char dir[PATH_MAX];
    MDB_env *env;
    MDB_dbi dbi[IVL_DB_COUNT];
    MDB_dbi verified; /* a cache: its "verified" table */
    int keep;         /* a cache: kept (and locked), not removed */
    int lock_fd;
};

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    return remove(p);
}

static int env_open(struct replay *r)
{
    MDB_txn *txn;
    int rc = mdb_env_create(&r->env);
    if (!rc) rc = mdb_env_set_maxdbs(r->env, IVL_DB_COUNT + 2);
    if (!rc) rc = mdb_env_set_mapsize(r->env, (size_t)1 << 40);
    if (!rc)
        rc = mdb_env_open(r->env, r->dir, MDB_NOSYNC | MDB_NOMETASYNC | MDB_NOTLS | MDB_NOLOCK,
                          0600);
    if (!rc && !(rc = mdb_txn_begin(r->env, NULL, 0, &txn))) {
        for (int i = 0; !rc && i < IVL_DB_COUNT; i++)
            rc = mdb_dbi_open(txn, ivl_db_names[i], MDB_CREATE | ivl_db_flags(i), &r->dbi[i]);
        if (!rc && r->keep) rc = mdb_dbi_open(txn, "verified", MDB_CREATE, &r->verified);
        if (rc)
            mdb_txn_abort(txn);
        else
            rc = mdb_txn_commit(txn);
    }
    return rc ? ivl_st_mdb_err(rc, _("replay environment")) : 0;
}

static void replay_close(struct replay *r)
{
    if (r->env) mdb_env_close(r->env);
    r->env = NULL;
    if (r->keep) {
        if (r->lock_fd >= 0) close(r->lock_fd); /* releases the lock */
    } else if (r->dir[0]) {
        nftw(r->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    }
}

static int replay_open(struct replay *r, const char *tmpdir)
{
    memset(r, 0, sizeof *r);
    r->lock_fd = -1;
    snprintf(r->dir, sizeof r->dir, "%s/ivl-verify-XXXXXX", tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(r->dir)) {
        r->dir[0] = 0;
        return ivl_fail(IVL_E_IO, _("cannot make a replay directory in %s"),
                        tmpdir ? tmpdir : "/tmp");
    }
    return env_open(r);
}

/* mkdir -p, private. */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int bad = mkdir(path, 0700) && errno != EEXIST;
        *p = '/';
        if (bad) return -1;
    }
    return mkdir(path, 0700) && errno != EEXIST ? -1 : 0;
}

/* Closes the cache's environment and removes its data file (the record goes
 * with it; `head` stays). -1 with errno if the file is there and stays. */
static int cache_drop(struct replay *r)
{
    char data[PATH_MAX + 16];
    if (r->env) mdb_env_close(r->env);
    r->env = NULL;
    snprintf(data, sizeof data, "%s/data.mdb", r->dir);
    return unlink(data) && errno != ENOENT ? -1 : 0;
}

/* The cache of this log under `base`, locked for this process. Fails (and
 * the caller replays into a temporary environment) if it cannot be made or
 * another verification holds it. */
static int cache_open(struct replay *r, const char *base, const uint8_t log_pub[32],
                      const char *origin)
{
    uint8_t id[crypto_hash_sha256_BYTES];
    char hex[2 * 16 + 1];
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, log_pub, 32);
    crypto_hash_sha256_update(&h, (const uint8_t *)origin, strlen(origin));
    crypto_hash_sha256_final(&h, id);
    sodium_bin2hex(hex, sizeof hex, id, 16);
    memset(r, 0, sizeof *r);
    r->keep = 1;
    r->lock_fd = -1;
    struct stat sb;
    if ((size_t)snprintf(r->dir, sizeof r->dir, "%s/%s", base, hex) >= sizeof r->dir ||
        make_dirs(r->dir))
        return -1;
    /* Yours alone: what is verified here decides later verdicts. */
    if (lstat(r->dir, &sb) || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() || (sb.st_mode & 022))
        return -1;
    char lock[PATH_MAX + 8];
    snprintf(lock, sizeof lock, "%s/lock", r->dir);
    r->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    /* Another verification of this log: wait for it, so that the head it
     * keeps is the one this run checks against. */
    if (r->lock_fd < 0 || flock(r->lock_fd, LOCK_EX)) {
        replay_close(r);
        return -1;
    }
    if (env_open(r)) {
        /* Not an environment any more (a crash, a full disk): start afresh. */
        if (cache_drop(r) || env_open(r)) {
            replay_close(r);
            return -1;
        }
    }
    return 0;
}

/* Empties the cache: a new data file. */
static int cache_reset(struct replay *r)
{
    if (cache_drop(r))
        return ivl_fail(IVL_E_IO, _("cannot reset the verification cache %s: %s"), r->dir,
                        strerror(errno));
    return env_open(r);
}

/* What the cache says it holds: the log verified up to `size` (root), every
 * signature from entry `sigs_from` on checked, by the ivl build `build`. */
struct cache_meta {
    uint64_t size, sigs_from;
    uint8_t root[32];
    uint8_t build[32];
};

#define CACHE_MAGIC "ivl-cache-2"
#define CACHE_REC   (sizeof CACHE_MAGIC + 8 + 8 + 32 + 32)

static int build_note(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    crypto_hash_sha256_state *h = ctx;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(const void *)p;
            const uint8_t *name = p + sizeof *nh;
            const uint8_t *desc = name + ((nh->n_namesz + 3) & ~3u);
            if (desc + nh->n_descsz > end) break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4))
                crypto_hash_sha256_update(h, desc, nh->n_descsz);
            p = desc + ((nh->n_descsz + 3) & ~3u);
        }
    }
    return 1; /* the first object is the program itself */
}

/* This build of ivl: its version and the linker's build id of the program.
 * The rules may change between builds, so a state replayed by another build
 * is not trusted (it is replayed again from entry 0). */
static void build_id(uint8_t out[32])
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const uint8_t *)IVL_VERSION, strlen(IVL_VERSION));
    dl_iterate_phdr(build_note, &h);
    crypto_hash_sha256_final(&h, out);
}

static void be64_put(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t be64_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The record, if it names the state the environment holds (0). */
static int cache_meta_get(struct replay *r, struct cache_meta *m)
{
    MDB_txn *txn;
    MDB_val k = {8, "verified"}, v;
    struct ivl_state st = {0};
    struct ivl_head h;
    int ok = 0;
    if (mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn)) return -1;
    if (!mdb_get(txn, r->verified, &k, &v) && v.mv_size == CACHE_REC &&
        !memcmp(v.mv_data, CACHE_MAGIC, sizeof CACHE_MAGIC)) {
        const uint8_t *p = (const uint8_t *)v.mv_data + sizeof CACHE_MAGIC;
        m->size = be64_get(p);
        m->sigs_from = be64_get(p + 8);
        memcpy(m->root, p + 16, 32);
        memcpy(m->build, p + 48, 32);
        st.txn = txn;
        memcpy(st.dbi, r->dbi, sizeof st.dbi);
        /* The replayed head must be the state the record names. */
        ok = !ivl_st_head(&st, &h) && h.size == m->size && !memcmp(h.root, m->root, 32);
    }
    mdb_txn_abort(txn);
    return ok ? 0 : -1;
}

/* Writes (m) or removes (m == NULL) the record, in txn or in its own. */
static int cache_meta_put(struct replay *r, MDB_txn *txn, const struct cache_meta *m)
{
    MDB_txn *own = NULL;
    MDB_val k = {8, "verified"};
    uint8_t rec[CACHE_REC];
    int rc = txn ? 0 : mdb_txn_begin(r->env, NULL, 0, &own);
    if (own) txn = own;
    if (!rc && m) {
        memcpy(rec, CACHE_MAGIC, sizeof CACHE_MAGIC);
        be64_put(rec + sizeof CACHE_MAGIC, m->size);
        be64_put(rec + sizeof CACHE_MAGIC + 8, m->sigs_from);
        memcpy(rec + sizeof CACHE_MAGIC + 16, m->root, 32);
        memcpy(rec + sizeof CACHE_MAGIC + 48, m->build, 32);
        MDB_val v = {sizeof rec, rec};
        rc = mdb_put(txn, r->verified, &k, &v, 0);
    } else if (!rc) {
        rc = mdb_del(txn, r->verified, &k, NULL);
        if (rc == MDB_NOTFOUND) rc = 0;
    }
    if (own) {
        if (rc)
            mdb_txn_abort(own);
        else
            rc = mdb_txn_commit(own);
    }
    return rc ? ivl_st_mdb_err(rc, _("verification cache")) : 0;
}

static int replay_begin(struct replay *r, struct ivl_state *st, const char *origin)
{
    memset(st, 0, sizeof *st);
    int rc = mdb_txn_begin(r->env, NULL, 0, &st->txn);
    if (rc) return ivl_st_mdb_err(rc, _("replay environment"));
    memcpy(st->dbi, r->dbi, sizeof st->dbi);
    snprintf(st->origin, sizeof st->origin, "%s", origin);
    ivl_st_cache_begin(st); /* as a batch append does: the same puts, fewer reads */
    return 0;
}

/* Commits a replay transaction begun by replay_begin(). */
static int replay_commit(struct ivl_state *st)
{
    int rc = ivl_st_cache_flush(st);
    ivl_st_cache_end();
    int c = mdb_txn_commit(st->txn);
    st->txn = NULL;
    return rc ? rc : c ? ivl_st_mdb_err(c, _("replay")) : 0;
}

/* Drops the pages of an environment's map from this process's resident set.
 * The maps are read-only shared file mappings (no MDB_WRITEMAP), so the data
 * stays in the page cache and is read back on the next touch: the resident
 * memory of a verification stays bounded whatever the size of the log. */
static void drop_map(MDB_env *env)
{
    struct ivl_map m;
    if (!ivl_map_find(env, &m)) madvise((void *)m.base, m.len, MADV_DONTNEED);
}

/* Drops both maps when the resident pages of mapped files pass the budget.
 * /proc/self/statm is read with one pread on a descriptor kept open. */
static int statm_fd = -1;
static long statm_page = 4096;
static uint64_t resident_budget = RESIDENT_FILE_BUDGET;
static pthread_once_t statm_once = PTHREAD_ONCE_INIT;

static void statm_open(void)
{
    statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    long p = sysconf(_SC_PAGESIZE);
    if (p > 0) statm_page = p;
    const char *e = getenv("IVL_VERIFY_RESIDENT_MIB");
    char *end;
    unsigned long long mib = e && *e ? strtoull(e, &end, 10) : 0;
    if (e && *e && !*end && mib < ((uint64_t)1 << 40)) resident_budget = (uint64_t)mib << 20;
}

/* Bytes of both environments' committed pages (read from their meta pages,
 * no system call): a map holds no other pages of its file, since a write
 * transaction keeps its new pages in memory of its own until it commits. */
static uint64_t files_size(MDB_env *a, MDB_env *b)
{
    MDB_envinfo ia, ib;
    MDB_stat sa, sb;
    if (mdb_env_info(a, &ia) || mdb_env_info(b, &ib) || mdb_env_stat(a, &sa) ||
        mdb_env_stat(b, &sb))
        return UINT64_MAX;
    return ((uint64_t)ia.me_last_pgno + 1) * sa.ms_psize +
           ((uint64_t)ib.me_last_pgno + 1) * sb.ms_psize;
}

/* Both environments' pages fit in the budget. */
static int envs_fit(MDB_env *a, MDB_env *b)
{
    pthread_once(&statm_once, statm_open);
    return files_size(a, b) < resident_budget;
}

static void drop_if_resident(MDB_env *a, MDB_env *b)
{
    /* Mapped file pages other than the maps' at the first look (the binary,
     * libc), counted with whatever of the maps was resident then. */
    static uint64_t others = UINT64_MAX;
    char buf[128];
    pthread_once(&statm_once, statm_open);
    /* The maps cannot hold more pages than their environments have: while
     * those and the others fit in the budget, /proc need not be read (a read
     * costs microseconds, and this runs every RESIDENT_CHECK_EVERY records). */
    uint64_t files = files_size(a, b);
    if (others < resident_budget && files < resident_budget - others) return;
    unsigned long size, resident, shared;
    ssize_t n = statm_fd >= 0 ? pread(statm_fd, buf, sizeof buf - 1, 0) : -1;
    if (n > 0) {
        buf[n] = 0;
        if (sscanf(buf, "%lu %lu %lu", &size, &resident, &shared) == 3) {
            uint64_t bytes = (uint64_t)shared * (uint64_t)statm_page;
            if (others == UINT64_MAX) others = bytes;
            if (bytes < resident_budget) return;
        }
    }
    /* Unreadable: drop, as if over the budget. */
    drop_map(a);
    drop_map(b);
}

/* Asks the kernel to read both environments' files ahead
 * (POSIX_FADV_WILLNEED): an incremental verification compares every table of
 * both within a second or two, so pages evicted since they were last used
 * arrive in large reads while the replay runs, not one fault at a time
 * during the comparison. */
struct read_ahead {
    int fd[2];
    pthread_t th;
    int started;
};

static void *read_ahead_main(void *arg)
{
    struct read_ahead *ra = arg;
    for (int i = 0; i < 2; i++)
        if (ra->fd[i] >= 0) (void)posix_fadvise(ra->fd[i], 0, 0, POSIX_FADV_WILLNEED);
    return NULL;
}

/* On a thread of its own: the kernel allocates and submits the reads in the
 * caller, a few milliseconds for a small ledger, while the other cores are
 * still idle. */
static void read_ahead_start(struct read_ahead *ra, MDB_env *a, MDB_env *b)
{
    mdb_filehandle_t fa, fb;
    ra->fd[0] = mdb_env_get_fd(a, &fa) ? -1 : fa;
    ra->fd[1] = mdb_env_get_fd(b, &fb) ? -1 : fb;
    ra->started = !pthread_create(&ra->th, NULL, read_ahead_main, ra);
    if (!ra->started) read_ahead_main(ra);
}

static void read_ahead_end(struct read_ahead *ra)
{
    if (ra->started) pthread_join(ra->th, NULL);
    ra->started = 0;
}

/* At the end of a verification, the ledger's map is given back on a thread
 * of its own: the comparison touched every page of it, and releasing them
 * (about 1 ms at 30,000 entries, and all of it on one core when the map is
 * unmapped at exit) overlaps the closing of the replay environment and the
 * sync of the cache's head file. The pages stay in the page cache; a read
 * after this faults them back in. */
struct releaser {
    MDB_env *env;
    pthread_t th;
    int started;
};

static void *release_main(void *arg)
{
    drop_map(((struct releaser *)arg)->env);
    return NULL;
}

static void release_start(struct releaser *r, MDB_env *env)
{
    r->env = env;
    r->started = !pthread_create(&r->th, NULL, release_main, r);
}

static void release_end(struct releaser *r)
{
    if (r->started) pthread_join(r->th, NULL);
    r->started = 0;
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

/* LMDB fills a leaf page from its end down, so a table written in key order
 * (the log's tables, most of the state) keeps its next record just below the
 * one at hand. Asking for those lines now overlaps the misses of the walk
 * with the comparison: the walk over `leaves` (190-byte records) takes half
 * the time. A prefetch never faults, wherever the address falls. */
static inline void prefetch_next(const MDB_val *k)
{
    uintptr_t p = (uintptr_t)k->mv_data;
    for (uintptr_t i = 1; i <= 4; i++)
        __builtin_prefetch((const void *)(p - 64 * i));
}

/* *walked: records compared, carried from one table to the next. */
static int compare_table(MDB_txn *a, MDB_dbi da, MDB_txn *b, MDB_dbi db, int which,
                         struct ivl_verify_report *rep, uint64_t *walked)
{
    MDB_cursor *ca, *cb;
    MDB_val ka, va, kb, vb;
    char kh[80];
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
        if (rb && rb != MDB_NOTFOUND) {
            rc = ivl_st_mdb_err(rb, _("replay"));
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
        prefetch_next(&ka);
        prefetch_next(&kb);
        ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT);
        rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT);
        if (++*walked % RESIDENT_CHECK_EVERY == 0) drop_if_resident(mdb_txn_env(a), mdb_txn_env(b));
    }
    if (rc == IVL_E_TAMPERED)
        snprintf(rep->bad_table, sizeof rep->bad_table, "%s", ivl_db_names[which]);
    mdb_cursor_close(ca);
    mdb_cursor_close(cb);
    return rc;
}

struct envs {
    MDB_env *a, *b;
};

static void drop_envs(void *ctx)
{
    struct envs *e = ctx;
    drop_if_resident(e->a, e->b);
}

static int node_get(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    return ivl_st_node(ctx, level, index, out);
}

/* Every stored checkpoint signature against the replayed tree. */
/* Checkpoints up to `cached` were checked when the cache was made and kept in
 * it: they must be there, byte for byte; the others are checked now. */
static int check_checkpoints(struct ivl_state *orig, struct ivl_state *rep_st,
                             const uint8_t log_pub[32], uint64_t size, uint64_t *count,
                             struct ivl_sigbatch *b, uint64_t cached)
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
        if (++*count % 64 == 0) /* the roots read nodes all over the tree */
            drop_if_resident(mdb_txn_env(orig->txn), mdb_txn_env(rep_st->txn));
        if (s <= cached) {
            MDB_val cv;
            if (ivl_st_get(rep_st, IVL_DB_CPS, k.mv_data, 8, &cv) || cv.mv_size != v.mv_size ||
                memcmp(cv.mv_data, v.mv_data, v.mv_size))
                rc = ivl_fail(IVL_E_BAD_CHECKPOINT,
                              _("the stored checkpoint of size %llu is not the one verified "
                                "before"),
                              (unsigned long long)s);
            continue;
        }
        rc = ivl_merkle_root(rep_st, node_get, s, root);
        if (!rc) rc = ivl_checkpoint_format(orig->origin, s, root, text, sizeof text);
        /* One per commit, so about one per entry: checked on all cores. */
        if (!rc)
            rc =
                ivl_sigbatch_add_raw(b, s, (const uint8_t *)text, strlen(text), v.mv_data, log_pub);
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

/* Replays entries start.. of the log onto the replay environment, which
 * holds the state after the first `start` entries (none, or the cache's). */
static int replay_log(struct ivl_ledger *l, struct ivl_state *orig, struct replay *rp,
                      const struct ivl_verify_opts *o, struct ivl_sigbatch *b,
                      struct ivl_verify_report *rep, uint64_t start)
{
    struct ivl_head stored, h = {0};
    struct ivl_state st;
    TRY(ivl_st_head(orig, &stored));
    char origin[IVL_MAX_ORIGIN + 1] = "";
    if (start) snprintf(origin, sizeof origin, "%s", orig->origin);
    TRY(replay_begin(rp, &st, origin));
    int rc = start ? ivl_st_head(&st, &h) : 0;
    for (uint64_t seq = start; !rc && seq < stored.size; seq++) {
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
            rep->replayed++;
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
        /* The rules read state pages all over both maps: without this, the
         * resident set would grow with the state. */
        if ((seq + 1) % RESIDENT_CHECK_EVERY == 0)
            drop_if_resident(mdb_txn_env(orig->txn), rp->env);
        if ((seq + 1) % REPLAY_COMMIT_EVERY == 0) {
            rc = replay_commit(&st);
            if (!rc) rc = replay_begin(rp, &st, origin);
        }
    }
    /* The last signatures are checked while the tables are compared; after a
     * failure, an earlier forged signature is the error to report. */
    if (!rc) {
        rc = ivl_sigbatch_start(b);
    } else if (ivl_sigbatch_flush(b)) {
        rc = IVL_E_BAD_SIG;
        rep->bad_seq = ivl_sigbatch_bad(b);
    }
    rep->entries = start + rep->replayed;
    if (!rc) rc = ivl_merkle_root(&st, node_get, h.size, h.root);
    if (!rc) rc = ivl_st_put_head(&st, &h);
    if (!rc) {
        rep->size = h.size;
        memcpy(rep->root, h.root, 32);
        if (memcmp(h.root, stored.root, 32) || h.last_time != stored.last_time)
            rc = ivl_fail(IVL_E_TAMPERED, _("the stored head does not match the log's root"));
    }
    if (st.txn) {
        int c = replay_commit(&st);
        if (!rc) rc = c;
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

/* One verification: replay from `start` (0, or the cache's size), compare,
 * check the checkpoints. */
static int verify_run(struct ivl_ledger *l, struct ivl_state *orig, struct replay *rp,
                      const struct ivl_verify_opts *o, const uint8_t log_pub[32], uint64_t start,
                      struct ivl_verify_report *rep)
{
    struct ivl_sigbatch *b;
    struct ivl_state rs;
    memset(rep, 0, sizeof *rep);
    rep->bad_seq = UINT64_MAX;
    rep->cache_from = start;
    TRY(ivl_sigbatch_new(o->jobs, &b));
    int rc = replay_log(l, orig, rp, o, b, rep, start);
    rs.txn = NULL;
    if (!rc && (rc = mdb_txn_begin(rp->env, NULL, MDB_RDONLY, &rs.txn))) {
        rs.txn = NULL;
        rc = ivl_st_mdb_err(rc, _("replay"));
    }
    if (!rc) {
        /* While the last signatures are being checked. */
        memcpy(rs.dbi, rp->dbi, sizeof rs.dbi);
        snprintf(rs.origin, sizeof rs.origin, "%s", orig->origin);
        if (o->have_from) rc = check_from(&rs, o, rep->size, rep->root);
        uint64_t walked = 0;
        struct ivl_map ma, mb;
        struct envs e = {mdb_txn_env(orig->txn), rp->env};
        /* Where the maps' pages are alike, a walk compares them whole;
         * the cursors decide everything else. Environments too large to
         * stay resident are walked with reads, not through the maps
         * (tablewalk.h): nothing then needs dropping on the way. */
        int maps = !ivl_map_find(e.a, &ma) && !ivl_map_find(e.b, &mb);
        if (maps && !envs_fit(e.a, e.b)) ma.reads = mb.reads = 1;
        for (int i = 0; !rc && i < IVL_DB_COUNT; i++)
            if (i != IVL_DB_CPS &&
                (!maps || !ivl_tables_same(&ma, orig->txn, orig->dbi[i], &mb, rs.txn, rs.dbi[i],
                                           ivl_db_names[i], ma.reads ? NULL : drop_envs, &e,
                                           RESIDENT_CHECK_EVERY)))
                rc = compare_table(orig->txn, orig->dbi[i], rs.txn, rs.dbi[i], i, rep, &walked);
    }
    /* A forged signature is the error to report, whatever else differs. */
    if (ivl_err_exit(rc) != IVL_EXIT_IO && ivl_sigbatch_flush(b)) {
        rc = IVL_E_BAD_SIG;
        rep->bad_seq = ivl_sigbatch_bad(b);
        rep->bad_table[0] = 0;
    }
    if (!rc) rc = check_checkpoints(orig, &rs, log_pub, rep->size, &rep->checkpoints, b, start);
    if (rs.txn) mdb_txn_abort(rs.txn);
    ivl_sigbatch_free(b);
    return rc;
}

/* The root at `size` of the tree in an environment, or -1. */
static int env_root(struct replay *r, uint64_t size, uint8_t root[32])
{
    struct ivl_state rs = {0};
    if (mdb_txn_begin(r->env, NULL, MDB_RDONLY, &rs.txn)) return -1;
    memcpy(rs.dbi, r->dbi, sizeof rs.dbi);
    int rc = ivl_merkle_root(&rs, node_get, size, root);
    mdb_txn_abort(rs.txn);
    return rc ? -1 : 0;
}

/* A log verified here before must still have, at that size, the root it had
 * (`was`, from the cache): otherwise its history was rewritten since — the
 * same log key signed two histories. `now`: the verified log's root there. */
static int check_history(uint64_t size, const uint8_t was[32], const uint8_t now[32],
                         const char *dir)
{
    char a[65], b[65];
    if (!memcmp(was, now, 32)) return 0;
    sodium_bin2hex(a, sizeof a, was, 32);
    sodium_bin2hex(b, sizeof b, now, 32);
    return ivl_fail(IVL_E_FORK,
                    _("this log was rewritten since it was last verified here: at size %llu "
                      "its root was %s and is now %s: the same log key signed both histories "
                      "(remove %s to accept the new one)"),
                    (unsigned long long)size, a, b, dir);
}

/* Keeps the verified state: the checkpoints after `start` and the record. */
static int cache_save(struct replay *rp, struct ivl_state *orig, uint64_t start,
                      const struct cache_meta *cm)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t k8[8];
    int rc = mdb_txn_begin(rp->env, NULL, 0, &txn);
    if (rc) return ivl_st_mdb_err(rc, _("verification cache"));
    be64_put(k8, start + 1);
    k.mv_size = 8;
    k.mv_data = k8;
    if (!(rc = mdb_cursor_open(orig->txn, orig->dbi[IVL_DB_CPS], &cur))) {
        int r;
        for (r = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc && !r;
             r = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            rc = mdb_put(txn, rp->dbi[IVL_DB_CPS], &k, &v, 0);
        if (!rc && r != MDB_NOTFOUND) rc = r;
        mdb_cursor_close(cur);
    }
    if (rc) {
        mdb_txn_abort(txn);
        return ivl_st_mdb_err(rc, _("verification cache"));
    }
    if ((rc = cache_meta_put(rp, txn, cm))) {
        mdb_txn_abort(txn);
        return rc;
    }
    rc = mdb_txn_commit(txn);
    return rc ? ivl_st_mdb_err(rc, _("verification cache")) : 0;
}

/* The last head verified here, in a file of its own ("head") that only a
 * successful verification replaces: after a rewritten history is found the
 * state may be rebuilt, but the head it contradicts stays, and the fork is
 * reported again until the auditor removes the cache. */
static int witness_get(const struct replay *rp, uint64_t *size, uint8_t root[32])
{
    char path[PATH_MAX + 8], hex[65];
    unsigned long long n = 0;
    snprintf(path, sizeof path, "%s/head", rp->dir);
    FILE *f = fopen(path, "re");
    if (!f) return -1;
    int ok = fscanf(f, "ivl-verified %llu %64[0-9a-f]", &n, hex) == 2 && strlen(hex) == 64 &&
             !sodium_hex2bin(root, 32, hex, 64, NULL, NULL, NULL);
    fclose(f);
    *size = n;
    return ok ? 0 : -1;
}

/* The head file is replaced in two steps: head.new is written and made
 * durable first, while the log is still being checked (the head a
 * successful verification reaches is the stored one, known from the start),
 * and only a verdict of success renames it over "head". */
struct witness {
    char dir[PATH_MAX];
    uint64_t size;
    uint8_t root[32];
    int ok;       /* head.new holds size and root, on disk */
    int verified; /* the verdict witness_publish() carries out */
    int thread;
    pthread_t th;
};

static void witness_tmp(const struct witness *w, char *tmp, size_t n)
{
    snprintf(tmp, n, "%s/head.new", w->dir);
}

static void witness_write(struct witness *w)
{
    char tmp[PATH_MAX + 16], hex[65];
    witness_tmp(w, tmp, sizeof tmp);
    sodium_bin2hex(hex, sizeof hex, w->root, 32);
    w->ok = 0;
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        if (fd >= 0) close(fd);
        return;
    }
    /* Durable: it is what a later rewrite of the log is caught against. */
    int ok = fprintf(f, "ivl-verified %llu %s\n", (unsigned long long)w->size, hex) > 0 &&
             !fflush(f) && !fsync(fileno(f));
    if (fclose(f) || !ok) {
        unlink(tmp);
        return;
    }
    w->ok = 1;
}

static void *witness_main(void *arg)
{
    witness_write(arg);
    return NULL;
}

/* Starts writing head.new for a verification that would reach size and root. */
static void witness_begin(struct witness *w, const struct replay *rp, uint64_t size,
                          const uint8_t root[32])
{
    memset(w, 0, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "%s", rp->dir);
    w->size = size;
    memcpy(w->root, root, 32);
    w->thread = !pthread_create(&w->th, NULL, witness_main, w);
}

static void witness_join(struct witness *w)
{
    if (w->thread) pthread_join(w->th, NULL);
    w->thread = 0;
}

static void witness_publish(struct witness *w)
{
    char tmp[PATH_MAX + 16], path[PATH_MAX + 8];
    witness_tmp(w, tmp, sizeof tmp);
    if (!w->verified) {
        if (w->ok) unlink(tmp);
        return;
    }
    if (!w->ok) {
        witness_write(w);
        if (!w->ok) return;
    }
    snprintf(path, sizeof path, "%s/head", w->dir);
    if (rename(tmp, path)) {
        unlink(tmp);
        return;
    }
    int dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

static void *witness_publish_main(void *arg)
{
    witness_publish(arg);
    return NULL;
}

/* After the verdict: on success, head.new (rewritten if it does not hold
 * what was verified) replaces head; otherwise it is removed. On a thread of
 * its own, so that the directory's sync overlaps the closing of the
 * environments; witness_join() waits for it, and must come before the
 * cache's lock is released. */
static void witness_end(struct witness *w, int verified, uint64_t size, const uint8_t root[32])
{
    witness_join(w);
    w->verified = verified;
    if (verified && (w->size != size || memcmp(w->root, root, 32))) {
        w->size = size;
        memcpy(w->root, root, 32);
        w->ok = 0;
    }
    w->thread = !pthread_create(&w->th, NULL, witness_publish_main, w);
    if (!w->thread) witness_publish(w);
}

/* A log shorter than the head verified here: it must be a prefix of that
 * history, which only the tree kept with that head can show. */
static int check_shorter(struct replay *rp, int have_tree, uint64_t size, const uint8_t root[32],
                         uint64_t w_size, uint8_t was[32])
{
    if (have_tree && !env_root(rp, size, was)) return 0;
    char a[65];
    sodium_bin2hex(a, sizeof a, root, 32);
    return ivl_fail(IVL_E_FORK,
                    _("this log has %llu entries, fewer than the %llu verified here, and the state "
                      "kept here cannot show that it is a prefix of them: verify the longer log "
                      "first, or remove %s"),
                    (unsigned long long)size, (unsigned long long)w_size, rp->dir);
}

int ivl_verify(struct ivl_ledger *l, const struct ivl_verify_opts *o, struct ivl_verify_report *rep)
{
    struct ivl_state orig;
    struct ivl_head stored;
    struct replay rp;
    struct timespec t0, t1;
    uint8_t log_pub[32], build[32];
    struct cache_meta cm = {0};
    uint64_t start = 0, from = o->have_from ? o->from_size : 0;
    uint8_t was_root[32], now_root[32];
    uint64_t w_size = 0;
    uint8_t w_root[32];
    char cdir[PATH_MAX] = "";
    int cached = 0, had = 0, shorter = 0, witnessed = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(rep, 0, sizeof *rep);
    rep->bad_seq = UINT64_MAX;
    build_id(build);

    int rc = ivl_ledger_begin(l, &orig);
    if (rc) goto out;
    rc = ivl_ledger_log_pub(&orig, log_pub);
    if (!rc) rc = ivl_st_head(&orig, &stored);
    if (rc) goto out_orig;
    if (o->cache_dir && !cache_open(&rp, o->cache_dir, log_pub, orig.origin)) {
        cached = 1;
        int meta = !cache_meta_get(&rp, &cm);
        had = meta && !memcmp(cm.build, build, 32); /* replayed by these rules */
        witnessed = !witness_get(&rp, &w_size, w_root);
        if (witnessed && w_size > stored.size) {
            /* Shorter than what was verified here (a replica behind, or a
             * rollback): it is checked against the tree kept with that head;
             * the cache is left to the longer log. */
            rc = check_shorter(&rp, meta && cm.size == w_size && !memcmp(cm.root, w_root, 32),
                               stored.size, stored.root, w_size, was_root);
            shorter = !rc;
            snprintf(cdir, sizeof cdir, "%s", rp.dir);
            replay_close(&rp);
            cached = had = witnessed = 0;
            if (rc) goto out_orig;
        }
    }
    if (cached) {
        /* Incremental, and every signature the cache skipped is before --from. */
        if (had && o->have_from && (from >= cm.size || cm.sigs_from <= from)) start = cm.size;
        /* Until this run succeeds, the cache holds no verified state. */
        if (start ? cache_meta_put(&rp, NULL, NULL) : cache_reset(&rp)) {
            /* A cache that cannot be written is no reason to fail: replay in
             * $TMPDIR (the head kept there is still checked below). */
            snprintf(cdir, sizeof cdir, "%s", rp.dir);
            replay_close(&rp);
            cached = start = 0;
            ivl_err_clear();
        }
    }
    if (!cached && (rc = replay_open(&rp, o->tmpdir))) goto out_orig;
    struct witness w;
    if (cached) witness_begin(&w, &rp, stored.size, stored.root);
    struct read_ahead ra = {{-1, -1}, 0, 0};
    if (start) read_ahead_start(&ra, mdb_txn_env(orig.txn), rp.env);
    rc = verify_run(l, &orig, &rp, o, log_pub, start, rep);
    read_ahead_end(&ra);
    if (rc && start && ivl_err_exit(rc) != IVL_EXIT_IO) {
        /* Not confirmed from the cache: decide from entry 0 instead. */
        start = 0;
        if (!(rc = cache_reset(&rp))) rc = verify_run(l, &orig, &rp, o, log_pub, 0, rep);
        if (!rc) rep->cache_rebuilt = 1;
    }
    struct releaser rel;
    release_start(&rel, mdb_txn_env(orig.txn));
    /* What this auditor verified before is part of the verdict. */
    if (!rc && witnessed && !env_root(&rp, w_size, now_root))
        rc = check_history(w_size, w_root, now_root, cached ? rp.dir : cdir);
    if (!rc && shorter) rc = check_history(rep->size, was_root, rep->root, cdir);
    if (cached && !rc) {
        struct cache_meta now = {.size = rep->size, .sigs_from = from};
        if (start && from <= start) now.sigs_from = cm.sigs_from;
        memcpy(now.root, rep->root, 32);
        memcpy(now.build, build, 32);
        int saved = !cache_save(&rp, &orig, start, &now);
        witness_end(&w, saved, rep->size, rep->root);
        if (saved) {
            snprintf(rep->cache_dir, sizeof rep->cache_dir, "%s", rp.dir);
        } else {
            cache_drop(&rp); /* the verdict stands; the next run replays from 0 */
            ivl_err_clear();
        }
    } else if (cached) {
        witness_end(&w, 0, 0, NULL);
        cache_drop(&rp);
    }
    /* The cache's map is given back while head is synced and the ledger's
     * map released; the cache's lock is held until head is in place. */
    if (rp.env) mdb_env_close(rp.env);
    rp.env = NULL;
    if (cached) witness_join(&w);
    release_end(&rel);
    replay_close(&rp);
out_orig:
    ivl_ledger_end(&orig);
out:
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rep->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return rc;
}
