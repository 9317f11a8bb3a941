/*
 * fuzz_tablewalk.c - ivl_tables_same() (ledger/tablewalk.c) on a forged file.
 * Two LMDB environments are made once with the same table (400 records,
 * values of 20 to 200 bytes, a branch page above the leaves); for every
 * input A's file is restored and then patched, and the walk compares A with
 * the untouched B. It must never read outside the map (ASan), and it must
 * never call the tables the same when a patch changed a byte of a record's
 * key or value.
 *
 * Input: groups of four bytes, a 24-bit offset (low byte first) and a byte.
 * The top two bits of the offset choose what is patched: 00 and 01, a byte
 * of the table's pages (the rest of the offset modulo every page but the two
 * meta pages and the main table's page, whose other bytes LMDB itself reads);
 * 10, a byte of the table's 48-byte record in the main table (root, depth,
 * counts); 11, a byte of a meta page's last page number or transaction id.
 * An input of odd length is walked with the pages read from the files
 * (map.reads), an even one through the maps.
 */
#include "fuzz.h"
#include "tablewalk.h"

#include <fcntl.h>
#include <lmdb.h>
#include <unistd.h>

#define NREC 400

struct env {
    char dir[64];
    MDB_env *env;
    MDB_dbi dbi;
    struct ivl_map map;
};

static struct env a, b;
static uint8_t *pristine, *in_record;
static size_t fsize, psize, main_page, record_at;
static int fd_a = -1;

static void make(struct env *e)
{
    MDB_txn *t;
    snprintf(e->dir, sizeof e->dir, "/tmp/ivl-fuzz-walk-XXXXXX");
    if (!mkdtemp(e->dir) || mdb_env_create(&e->env) || mdb_env_set_maxdbs(e->env, 2) ||
        mdb_env_open(e->env, e->dir, MDB_NOSYNC, 0600) || mdb_txn_begin(e->env, NULL, 0, &t) ||
        mdb_dbi_open(t, "t", MDB_CREATE, &e->dbi))
        abort();
    for (unsigned i = 0; i < NREC; i++) {
        uint8_t k[8], v[200];
        for (int j = 0; j < 8; j++)
            k[j] = (uint8_t)((i * 2654435761u) >> (j * 4));
        size_t n = 20 + (i * 37) % 181;
        for (size_t j = 0; j < n; j++)
            v[j] = (uint8_t)(i + j * 13);
        MDB_val kv = {8, k}, vv = {n, v};
        if (mdb_put(t, e->dbi, &kv, &vv, 0)) abort();
    }
    if (mdb_txn_commit(t)) abort();
}

static void cleanup(void)
{
    char p[96];
    for (struct env *e = &a; e; e = e == &a ? &b : NULL) {
        mdb_env_close(e->env);
        snprintf(p, sizeof p, "%s/data.mdb", e->dir);
        unlink(p);
        snprintf(p, sizeof p, "%s/lock.mdb", e->dir);
        unlink(p);
        rmdir(e->dir);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    make(&a);
    make(&b);
    atexit(cleanup);
    MDB_txn *t;
    MDB_envinfo info;
    MDB_stat st;
    if (mdb_env_info(a.env, &info) || mdb_env_stat(a.env, &st) ||
        mdb_txn_begin(a.env, NULL, MDB_RDONLY, &t) || ivl_map_find(a.env, &a.map))
        abort();
    psize = st.ms_psize;
    fsize = (info.me_last_pgno + 1) * psize;
    pristine = malloc(fsize);
    in_record = calloc(fsize, 1);
    if (!pristine || !in_record) abort();
    memcpy(pristine, a.map.base, fsize);
    /* The bytes of every record's key and value. */
    MDB_cursor *c;
    MDB_val k, v;
    if (mdb_cursor_open(t, a.dbi, &c)) abort();
    for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); !r;
         r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        memset(in_record + ((const uint8_t *)k.mv_data - a.map.base), 1, k.mv_size);
        memset(in_record + ((const uint8_t *)v.mv_data - a.map.base), 1, v.mv_size);
    }
    mdb_cursor_close(c);
    MDB_dbi main_dbi;
    MDB_val name = {1, "t"}, rec;
    if (mdb_dbi_open(t, NULL, 0, &main_dbi) || mdb_get(t, main_dbi, &name, &rec)) abort();
    record_at = (size_t)((const uint8_t *)rec.mv_data - a.map.base);
    main_page = record_at / psize;
    mdb_txn_abort(t);
    char p[96];
    snprintf(p, sizeof p, "%s/data.mdb", a.dir);
    if ((fd_a = open(p, O_RDWR)) < 0) abort();
    return 0;
}

/* The file offset a patch names, or (size_t)-1 for none. */
static size_t patch_at(const uint8_t *d, size_t span)
{
    size_t x = (size_t)d[0] | (size_t)d[1] << 8 | (size_t)(d[2] & 0x3f) << 16;
    switch (d[2] >> 6) {
    case 2: return record_at + x % 48;
    case 3: /* last page (8 bytes) and id (8) at 136 in meta page 0 or 1 */
        return (x >> 4 & 1) * psize + 136 + x % 16;
    default:
        x = 2 * psize + (x | (size_t)(d[2] & 0x40) << 16) % span;
        return x / psize == main_page ? (size_t)-1 : x;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t span = fsize - 2 * psize, changed = 0, first = 0;
    /* Patch A (the shared map sees the file's pages at once). */
    for (size_t i = 0; i + 4 <= size; i += 4) {
        size_t off = patch_at(data + i, span);
        if (off == (size_t)-1) continue;
        uint8_t x = data[i + 3];
        if (pwrite(fd_a, &x, 1, (off_t)off) != 1) abort();
    }
    /* What the file holds now (a byte may be patched more than once). */
    for (size_t i = 0; i + 4 <= size; i += 4) {
        size_t off = patch_at(data + i, span);
        if (off != (size_t)-1 && in_record[off] && a.map.base[off] != pristine[off] && !changed++)
            first = off;
    }
    MDB_txn *ta, *tb;
    struct ivl_map mb;
    int same = 0;
    if (mdb_txn_begin(b.env, NULL, MDB_RDONLY, &tb) || ivl_map_find(b.env, &mb)) abort();
    /* A forged meta page may make LMDB refuse a reader: nothing to walk. */
    a.map.reads = mb.reads = (int)(size & 1);
    if (!mdb_txn_begin(a.env, NULL, MDB_RDONLY, &ta)) {
        same = ivl_tables_same(&a.map, ta, a.dbi, &mb, tb, b.dbi, "t", NULL, NULL, 512);
        mdb_txn_abort(ta);
    }
    mdb_txn_abort(tb);
    FUZZ_CHECK(!(same && changed), "a record's byte at %zu was changed, and the walk says same",
               first);
    if (!size) FUZZ_CHECK(same, "the pristine file must compare the same");
    /* Restore A. */
    for (size_t i = 0; i + 4 <= size; i += 4) {
        size_t off = patch_at(data + i, span);
        if (off != (size_t)-1 && pwrite(fd_a, pristine + off, 1, (off_t)off) != 1) abort();
    }
    return 0;
}
