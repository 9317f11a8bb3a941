/*
 * test_tablewalk.c - ivl_tables_same() (ledger/tablewalk.c) on real LMDB
 * environments: it must say "same" for tables with the same records (laid
 * out alike, or not), never for tables that differ, and must stop without
 * reading outside the map, and without saying "same", when the file's pages
 * are forged: wrong page numbers and kinds, offsets and sizes past the page,
 * child pages past the file or looping back, values on overflow pages.
 * Tables it does not read (duplicates, overflow pages) get "cannot tell".
 * A last test flips single bytes all over the pages and checks that every
 * flip inside a record is seen. Every test runs twice: walking the maps, and
 * reading the pages from the files with pread() (map.reads), as verify does
 * for environments too large to stay resident.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tablewalk.h"

struct env {
    char dir[64];
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *rd;
    struct ivl_map map;
};

static void env_open(struct env *e, unsigned flags)
{
    snprintf(e->dir, sizeof e->dir, "/tmp/ivl-tablewalk-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    assert_int_equal(mdb_env_create(&e->env), 0);
    assert_int_equal(mdb_env_set_maxdbs(e->env, 4), 0);
    assert_int_equal(mdb_env_set_mapsize(e->env, (size_t)256 << 20), 0);
    assert_int_equal(mdb_env_open(e->env, e->dir, MDB_NOSYNC, 0600), 0);
    MDB_txn *t;
    assert_int_equal(mdb_txn_begin(e->env, NULL, 0, &t), 0);
    assert_int_equal(mdb_dbi_open(t, "t", MDB_CREATE | flags, &e->dbi), 0);
    assert_int_equal(mdb_txn_commit(t), 0);
    e->rd = NULL;
}

static void env_close(struct env *e)
{
    char path[96];
    if (e->rd) mdb_txn_abort(e->rd);
    mdb_env_close(e->env);
    snprintf(path, sizeof path, "%s/data.mdb", e->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", e->dir);
    unlink(path);
    rmdir(e->dir);
}

static void key_of(uint64_t i, uint8_t k[8])
{
    for (int j = 7; j >= 0; j--, i >>= 8)
        k[j] = (uint8_t)i;
}

static size_t value_of(uint64_t i, size_t vlen, uint8_t *v)
{
    for (size_t j = 0; j < vlen; j++)
        v[j] = (uint8_t)(i * 31 + j * 7);
    return vlen;
}

/* Puts records i in order[0..n) in transactions of `per` records. */
static void put_all(struct env *e, const uint64_t *order, size_t n, size_t per, size_t vlen)
{
    uint8_t k[8], *v = malloc(vlen ? vlen : 1);
    assert_non_null(v);
    for (size_t at = 0; at < n; at += per) {
        MDB_txn *t;
        assert_int_equal(mdb_txn_begin(e->env, NULL, 0, &t), 0);
        for (size_t j = at; j < n && j < at + per; j++) {
            key_of(order[j], k);
            MDB_val kv = {8, k}, vv = {value_of(order[j], vlen, v), v};
            assert_int_equal(mdb_put(t, e->dbi, &kv, &vv, 0), 0);
        }
        assert_int_equal(mdb_txn_commit(t), 0);
    }
    free(v);
}

static uint64_t *ascending(size_t n)
{
    uint64_t *o = malloc(n * sizeof *o);
    assert_non_null(o);
    for (size_t i = 0; i < n; i++)
        o[i] = i;
    return o;
}

static uint64_t *shuffled(size_t n, uint32_t seed)
{
    uint64_t *o = ascending(n);
    for (size_t i = n - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        size_t j = (seed >> 8) % (i + 1);
        uint64_t x = o[i];
        o[i] = o[j];
        o[j] = x;
    }
    return o;
}

/* 1 in the second run of every test: pages are read from the files. */
static int read_pages;

static void reader(struct env *e)
{
    if (e->rd) mdb_txn_abort(e->rd);
    assert_int_equal(mdb_txn_begin(e->env, NULL, MDB_RDONLY, &e->rd), 0);
    assert_int_equal(ivl_map_find(e->env, &e->map), 0);
    assert_int_equal(e->map.reads, 0);
    e->map.reads = read_pages;
}

static int calls;
static void count_call(void *ctx)
{
    (void)ctx;
    calls++;
}

static int same(struct env *a, struct env *b)
{
    reader(a);
    reader(b);
    return ivl_tables_same(&a->map, a->rd, a->dbi, &b->map, b->rd, b->dbi, "t", count_call, NULL,
                           512);
}

/* The reference: LMDB's cursors. */
static int cursor_same(struct env *a, struct env *b)
{
    MDB_cursor *ca, *cb;
    MDB_val ka, va, kb, vb;
    reader(a);
    reader(b);
    assert_int_equal(mdb_cursor_open(a->rd, a->dbi, &ca), 0);
    assert_int_equal(mdb_cursor_open(b->rd, b->dbi, &cb), 0);
    int ra = mdb_cursor_get(ca, &ka, &va, MDB_FIRST), rb = mdb_cursor_get(cb, &kb, &vb, MDB_FIRST);
    int eq = 1;
    while (eq && !ra && !rb) {
        eq = ka.mv_size == kb.mv_size && va.mv_size == vb.mv_size &&
             !memcmp(ka.mv_data, kb.mv_data, ka.mv_size) &&
             !memcmp(va.mv_data, vb.mv_data, va.mv_size);
        ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT);
        rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT);
    }
    mdb_cursor_close(ca);
    mdb_cursor_close(cb);
    return eq && ra == MDB_NOTFOUND && rb == MDB_NOTFOUND;
}

static void pair(struct env *a, struct env *b, size_t n, size_t vlen)
{
    uint64_t *o = ascending(n);
    env_open(a, 0);
    env_open(b, 0);
    put_all(a, o, n, 1000, vlen);
    put_all(b, o, n, 1000, vlen);
    free(o);
}

static void test_map_found(void **state)
{
    (void)state;
    struct env a, b;
    pair(&a, &b, 100, 40);
    reader(&a);
    MDB_envinfo info;
    MDB_stat st;
    assert_int_equal(mdb_env_info(a.env, &info), 0);
    assert_int_equal(mdb_env_stat(a.env, &st), 0);
    assert_int_equal(a.map.psize, st.ms_psize);
    assert_true(a.map.npages >= info.me_last_pgno + 1);
    mdb_filehandle_t fd;
    assert_int_equal(mdb_env_get_fd(a.env, &fd), 0);
    assert_int_equal(a.map.fd, fd);
    /* Page 0 is a meta page: its number 0, its flags P_META. */
    uint64_t pgno;
    uint16_t flags;
    memcpy(&pgno, a.map.base, 8);
    memcpy(&flags, a.map.base + 10, 2);
    assert_int_equal(pgno, 0);
    assert_int_equal(flags, 0x08);
    env_close(&a);
    env_close(&b);
}

static void test_same_layout(void **state)
{
    (void)state;
    struct env a, b;
    pair(&a, &b, 60000, 60);
    reader(&a);
    MDB_stat st;
    assert_int_equal(mdb_stat(a.rd, a.dbi, &st), 0);
    assert_true(st.ms_depth >= 3);
    struct ivl_walk_stats before = ivl_walk_stats;
    calls = 0;
    assert_int_equal(same(&a, &b), 1);
    /* Every leaf page compared whole, no record one by one. */
    assert_int_equal(ivl_walk_stats.pages_same - before.pages_same, st.ms_leaf_pages);
    assert_int_equal(ivl_walk_stats.records - before.records, 0);
    assert_true(calls >= 60000 / 512 - 1);
    env_close(&a);
    env_close(&b);
}

static void test_other_layout(void **state)
{
    (void)state;
    struct env a, b;
    uint64_t *o = ascending(20000), *r = shuffled(20000, 7);
    env_open(&a, 0);
    env_open(&b, 0);
    put_all(&a, o, 20000, 20000, 100);
    put_all(&b, r, 20000, 333, 100);
    struct ivl_walk_stats before = ivl_walk_stats;
    assert_int_equal(cursor_same(&a, &b), 1);
    assert_int_equal(same(&a, &b), 1);
    /* Split differently: records were compared one by one. */
    assert_true(ivl_walk_stats.records > before.records);
    free(o);
    free(r);
    env_close(&a);
    env_close(&b);
}

static void put_one(struct env *e, uint64_t i, const void *v, size_t vlen)
{
    MDB_txn *t;
    uint8_t k[8];
    key_of(i, k);
    MDB_val kv = {8, k}, vv = {vlen, (void *)v};
    if (e->rd) {
        mdb_txn_abort(e->rd);
        e->rd = NULL;
    }
    assert_int_equal(mdb_txn_begin(e->env, NULL, 0, &t), 0);
    if (v)
        assert_int_equal(mdb_put(t, e->dbi, &kv, &vv, 0), 0);
    else
        assert_int_equal(mdb_del(t, e->dbi, &kv, NULL), 0);
    assert_int_equal(mdb_txn_commit(t), 0);
}

static void test_differences(void **state)
{
    (void)state;
    uint8_t v[100];
    for (int c = 0; c < 6; c++) {
        struct env a, b;
        pair(&a, &b, 3000, 100);
        assert_int_equal(same(&a, &b), 1);
        value_of(1500, 100, v);
        switch (c) {
        case 0: /* one byte of one value */
            v[50] ^= 1;
            put_one(&a, 1500, v, 100);
            break;
        case 1: /* a value one byte shorter */ put_one(&a, 1500, v, 99); break;
        case 2: /* a record missing */ put_one(&a, 1500, NULL, 0); break;
        case 3: /* a record more, at the end */ put_one(&a, 3000, v, 100); break;
        case 4: /* a record more, at the start, in the other table */
            put_one(&b, (uint64_t)1 << 60, v, 100);
            put_one(&a, (uint64_t)1 << 60, v, 100);
            put_one(&b, 0, NULL, 0);
            break;
        default: /* the last record's value */
            value_of(2999, 100, v);
            v[99] ^= 0x80;
            put_one(&a, 2999, v, 100);
            break;
        }
        assert_int_equal(cursor_same(&a, &b), 0);
        assert_int_equal(same(&a, &b), 0);
        assert_int_equal(same(&b, &a), 0);
        env_close(&a);
        env_close(&b);
    }
}

static void test_empty(void **state)
{
    (void)state;
    struct env a, b;
    env_open(&a, 0);
    env_open(&b, 0);
    assert_int_equal(same(&a, &b), 1);
    uint8_t v[10] = {0};
    put_one(&a, 1, v, sizeof v);
    assert_int_equal(same(&a, &b), 0);
    assert_int_equal(same(&b, &a), 0);
    put_one(&b, 1, v, sizeof v);
    assert_int_equal(same(&a, &b), 1);
    env_close(&a);
    env_close(&b);
}

/* A reader whose snapshot is neither meta page any more (two commits since
 * it began): the walk cannot know the snapshot's last page and says so. */
static void test_old_snapshot(void **state)
{
    (void)state;
    struct env a, b;
    pair(&a, &b, 2000, 50);
    reader(&a);
    reader(&b);
    MDB_txn *old = a.rd;
    a.rd = NULL;
    uint8_t v[50] = {0};
    put_one(&a, 5000, v, sizeof v);
    assert_int_equal(ivl_tables_same(&a.map, old, a.dbi, &b.map, b.rd, b.dbi, "t", NULL, NULL, 512),
                     1);
    put_one(&a, 5001, v, sizeof v);
    assert_int_equal(ivl_tables_same(&a.map, old, a.dbi, &b.map, b.rd, b.dbi, "t", NULL, NULL, 512),
                     0);
    mdb_txn_abort(old);
    env_close(&a);
    env_close(&b);
}

/* Equal tables the walk does not read: "cannot tell", for the cursors. */
static void test_not_walked(void **state)
{
    (void)state;
    struct env a, b;
    pair(&a, &b, 500, 3000); /* values on overflow pages */
    assert_int_equal(cursor_same(&a, &b), 1);
    assert_int_equal(same(&a, &b), 0);
    env_close(&a);
    env_close(&b);

    env_open(&a, MDB_DUPSORT);
    env_open(&b, MDB_DUPSORT);
    uint64_t *o = ascending(2000);
    put_all(&a, o, 2000, 2000, 16);
    put_all(&b, o, 2000, 2000, 16);
    free(o);
    assert_int_equal(cursor_same(&a, &b), 1);
    assert_int_equal(same(&a, &b), 0);
    env_close(&a);
    env_close(&b);
}

/* ---- forged pages ---- */

static int data_fd(const struct env *e)
{
    char path[96];
    snprintf(path, sizeof path, "%s/data.mdb", e->dir);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    return fd;
}

/* Writes n bytes at a file offset; the shared map sees them at once. */
static void poke(const struct env *e, off_t off, const void *p, size_t n)
{
    int fd = data_fd(e);
    assert_int_equal(pwrite(fd, p, n, off), (ssize_t)n);
    close(fd);
}

static void peek(const struct env *e, off_t off, void *p, size_t n)
{
    int fd = data_fd(e);
    assert_int_equal(pread(fd, p, n, off), (ssize_t)n);
    close(fd);
}

/* File offsets of the page holding record i, and of the table's root. */
static off_t leaf_of(struct env *e, uint64_t i)
{
    MDB_cursor *c;
    uint8_t k[8];
    key_of(i, k);
    MDB_val kv = {8, k}, vv;
    reader(e);
    assert_int_equal(mdb_cursor_open(e->rd, e->dbi, &c), 0);
    assert_int_equal(mdb_cursor_get(c, &kv, &vv, MDB_SET_KEY), 0);
    mdb_cursor_close(c);
    uintptr_t p = (uintptr_t)kv.mv_data & ~(uintptr_t)(e->map.psize - 1);
    return (off_t)(p - (uintptr_t)e->map.base);
}

static off_t root_of(struct env *e)
{
    MDB_dbi main_dbi;
    MDB_val k = {1, "t"}, v;
    uint64_t root;
    reader(e);
    assert_int_equal(mdb_dbi_open(e->rd, NULL, 0, &main_dbi), 0);
    assert_int_equal(mdb_get(e->rd, main_dbi, &k, &v), 0);
    memcpy(&root, (const uint8_t *)v.mv_data + 40, 8);
    return (off_t)(root * e->map.psize);
}

static uint16_t u16_at(const struct env *e, off_t off)
{
    uint16_t x;
    peek(e, off, &x, 2);
    return x;
}

static void put16(const struct env *e, off_t off, uint16_t x)
{
    poke(e, off, &x, 2);
}

/* A copy of the leaf at file offset `leaf`, numbered as the page just past
 * the end of the file and written there, and the offset in the root (at
 * `root`) of the node that points to that leaf. */
struct past {
    uint64_t pgno;
    uint16_t at;
    off_t size;
};

static struct past copy_past_end(struct env *e, off_t leaf, off_t root)
{
    struct stat sb;
    struct past p = {0};
    int fd = data_fd(e);
    assert_int_equal(fstat(fd, &sb), 0);
    close(fd);
    p.size = sb.st_size;
    p.pgno = (uint64_t)sb.st_size / e->map.psize;
    uint8_t *copy = malloc(e->map.psize);
    assert_non_null(copy);
    peek(e, leaf, copy, e->map.psize);
    memcpy(copy, &p.pgno, 8);
    poke(e, (off_t)(p.pgno * e->map.psize), copy, e->map.psize);
    free(copy);
    uint64_t was = (uint64_t)leaf / e->map.psize;
    uint16_t n = (u16_at(e, root + 12) - 16) / 2;
    for (uint16_t i = 0; i < n && !p.at; i++) {
        uint16_t o = u16_at(e, root + 16 + 2 * i);
        uint64_t c = 0;
        peek(e, root + o, &c, 6);
        if (c == was) p.at = o;
    }
    assert_true(p.at != 0);
    return p;
}

static void undo_past_end(struct env *e, const struct past *p)
{
    int fd = data_fd(e);
    assert_int_equal(ftruncate(fd, p->size), 0);
    close(fd);
}

/* One forgery of A's file, undone afterwards: the walk must not say same. */
static void forged(struct env *a, struct env *b, off_t off, const void *bytes, size_t n)
{
    uint8_t save[16];
    assert_true(n <= sizeof save);
    peek(a, off, save, n);
    poke(a, off, bytes, n);
    assert_int_equal(same(a, b), 0);
    poke(a, off, save, n);
    assert_int_equal(same(a, b), 1);
}

static void test_forged_pages(void **state)
{
    (void)state;
    struct env a, b;
    pair(&a, &b, 5000, 100);
    assert_int_equal(same(&a, &b), 1);
    off_t leaf = leaf_of(&a, 2500), root = root_of(&a);
    uint16_t lower = u16_at(&a, leaf + 12), upper = u16_at(&a, leaf + 14);
    uint16_t first = u16_at(&a, leaf + 16); /* the page's first node */
    uint64_t big = 1u << 30, self = (uint64_t)root / a.map.psize;

    uint64_t wrong = (uint64_t)leaf / a.map.psize + 1;
    forged(&a, &b, leaf, &wrong, 8);          /* the page's own number */
    forged(&a, &b, leaf + 10, "\x04\x00", 2); /* an overflow page, not a leaf */
    forged(&a, &b, leaf + 10, "\x01\x00", 2); /* a branch where a leaf is */
    forged(&a, &b, leaf + 12, &upper, 2);     /* more offsets than nodes */
    uint16_t past = (uint16_t)(a.map.psize + 8);
    forged(&a, &b, leaf + 14, &past, 2); /* upper past the page */
    uint16_t low = lower - 2;
    forged(&a, &b, leaf + 14, &low, 2); /* upper below lower */
    uint16_t last = (uint16_t)(a.map.psize - 4);
    forged(&a, &b, leaf + 16, &last, 2); /* a node's header past the page */
    uint16_t below = upper - 2;
    forged(&a, &b, leaf + 16, &below, 2);                /* a node in the free space */
    forged(&a, &b, leaf + first, "\xff\xff\x00\x00", 4); /* a value past the page */
    forged(&a, &b, leaf + first + 4, "\x01\x00", 2);     /* F_BIGDATA */
    forged(&a, &b, leaf + first + 4, "\x04\x00", 2);     /* F_DUPDATA */
    forged(&a, &b, leaf + first + 6, "\xff\x00", 2);     /* a longer key */

    /* Branch: the root's first child past the file, or the root itself. */
    uint16_t child = u16_at(&a, root + 16);
    forged(&a, &b, root + child, &big, 6);
    forged(&a, &b, root + child, &self, 6);
    forged(&a, &b, root + 12, "\x10\x00", 2); /* a branch with no node */

    /* A copy of a leaf past the last page the snapshot has (LMDB would not
     * read it: MDB_PAGE_NOTFOUND), in place of that leaf. */
    {
        struct past p = copy_past_end(&a, leaf, root);
        forged(&a, &b, root + p.at, &p.pgno, 6);
        undo_past_end(&a, &p);
    }

    /* The same forgery in both: equal bytes, but a value LMDB would read
     * from an overflow page, which the walk does not compare. */
    off_t leaf_b = leaf_of(&b, 2500);
    uint16_t first_b = u16_at(&b, leaf_b + 16);
    assert_int_equal(first_b, first);
    poke(&b, leaf_b + first + 4, "\x01\x00", 2);
    poke(&a, leaf + first + 4, "\x01\x00", 2);
    assert_int_equal(same(&a, &b), 0);
    poke(&a, leaf + first + 4, "\x00\x00", 2);
    poke(&b, leaf_b + first + 4, "\x00\x00", 2);
    assert_int_equal(same(&a, &b), 1);

    /* Both pages' first offset into the free space, which holds different
     * bytes in each: the pages are alike where they are compared whole, but
     * their first records are not. */
    uint16_t into = upper - 8;
    uint8_t junk_a[8] = {4, 0, 0, 0, 0, 0, 8, 0}, junk_b[8] = {4, 0, 0, 0, 0, 0, 9, 0};
    uint8_t keep_a[8], keep_b[8];
    peek(&a, leaf + into, keep_a, 8);
    peek(&b, leaf_b + into, keep_b, 8);
    poke(&a, leaf + into, junk_a, 8);
    poke(&b, leaf_b + into, junk_b, 8);
    put16(&b, leaf_b + 16, into);
    put16(&a, leaf + 16, into);
    assert_int_equal(same(&a, &b), 0);
    put16(&a, leaf + 16, first);
    put16(&b, leaf_b + 16, first);
    poke(&a, leaf + into, keep_a, 8);
    poke(&b, leaf_b + into, keep_b, 8);
    assert_int_equal(same(&a, &b), 1);

    /* Bytes that hold no record: the free space of a leaf. */
    uint8_t junk[8] = {1, 2, 3, 4, 5, 6, 7, 8}, save[8];
    assert_true(upper - lower >= (int)sizeof junk);
    peek(&a, leaf + lower, save, sizeof save);
    poke(&a, leaf + lower, junk, sizeof junk);
    assert_int_equal(same(&a, &b), 1);
    poke(&a, leaf + lower, save, sizeof save);
    env_close(&a);
    env_close(&b);
}

/* File offset of a table's 48-byte record (MDB_db) in the main table. */
static off_t record_of(struct env *e, const char *name)
{
    MDB_dbi main_dbi;
    MDB_val k = {strlen(name), (void *)name}, v;
    reader(e);
    assert_int_equal(mdb_dbi_open(e->rd, NULL, 0, &main_dbi), 0);
    assert_int_equal(mdb_get(e->rd, main_dbi, &k, &v), 0);
    assert_int_equal(v.mv_size, 48);
    return (off_t)((const uint8_t *)v.mv_data - e->map.base);
}

/* A's record says 0 records, its root holds some: LMDB reads the root (an
 * empty table is a root of ~0, whatever the count says). */
static void test_forged_count(void **state)
{
    (void)state;
    struct env a, b;
    env_open(&a, 0);
    env_open(&b, 0);
    uint8_t v[10] = {0};
    put_one(&a, 1, v, sizeof v);
    put_one(&a, 2, v, sizeof v);
    off_t rec = record_of(&a, "t");
    uint64_t zero = 0, two;
    assert_int_equal(same(&a, &b), 0);
    peek(&a, rec + 32, &two, 8);
    assert_int_equal(two, 2);
    poke(&a, rec + 32, &zero, 8);
    assert_int_equal(same(&a, &b), 0);
    assert_int_equal(same(&b, &a), 0);
    poke(&a, rec + 32, &two, 8);
    env_close(&a);
    env_close(&b);
}

/* The other meta page forged to carry the reader's transaction id and a
 * later last page: LMDB reads meta page (id & 1), and so must the walk, or
 * a leaf copied past the snapshot's end would be read. */
static void test_forged_meta(void **state)
{
    (void)state;
    struct env a, b;
    pair(&a, &b, 3000, 100);
    uint8_t v[100] = {1};
    reader(&a);
    if (!(mdb_txn_id(a.rd) & 1)) { /* make the id odd: the forged slot is then 0, read first */
        put_one(&a, 1u << 30, v, sizeof v);
        put_one(&b, 1u << 30, v, sizeof v);
    }
    assert_int_equal(same(&a, &b), 1);
    uint64_t id = (uint64_t)mdb_txn_id(a.rd);
    assert_true(id & 1);
    off_t root = root_of(&a);
    struct past p = copy_past_end(&a, leaf_of(&a, 1500), root);
    /* Meta page 0: its last page and its transaction id (16 + 120, + 128). */
    uint8_t meta0[16], forged_meta[16];
    peek(&a, 136, meta0, 16);
    memcpy(forged_meta, &p.pgno, 8);
    memcpy(forged_meta + 8, &id, 8);
    poke(&a, 136, forged_meta, 16);
    forged(&a, &b, root + p.at, &p.pgno, 6);
    poke(&a, 136, meta0, 16);
    assert_int_equal(same(&a, &b), 1);
    undo_past_end(&a, &p);
    env_close(&a);
    env_close(&b);
}

/* A root branch with a single key over B's only leaf: the same records, but
 * LMDB asserts that a named table's branch pages have two keys or more. The
 * branch goes on a page freed by dropping another table (inside the
 * snapshot). */
static void test_one_key_branch(void **state)
{
    (void)state;
    struct env a, b;
    env_open(&a, 0);
    env_open(&b, 0);
    uint8_t v[10] = {7};
    for (uint64_t i = 0; i < 3; i++) {
        put_one(&a, i, v, sizeof v);
        put_one(&b, i, v, sizeof v);
    }
    MDB_txn *t;
    MDB_dbi u;
    assert_int_equal(mdb_txn_begin(a.env, NULL, 0, &t), 0);
    assert_int_equal(mdb_dbi_open(t, "u", MDB_CREATE, &u), 0);
    uint8_t k[8] = {0};
    MDB_val kv = {8, k}, vv = {sizeof v, v};
    assert_int_equal(mdb_put(t, u, &kv, &vv, 0), 0);
    assert_int_equal(mdb_txn_commit(t), 0);
    reader(&a);
    uint64_t spare, leaf;
    peek(&a, record_of(&a, "u") + 40, &spare, 8);
    peek(&a, record_of(&a, "t") + 40, &leaf, 8);
    assert_int_equal(mdb_txn_begin(a.env, NULL, 0, &t), 0);
    assert_int_equal(mdb_dbi_open(t, "u", 0, &u), 0);
    assert_int_equal(mdb_drop(t, u, 1), 0);
    assert_int_equal(mdb_txn_commit(t), 0);
    assert_int_equal(same(&a, &b), 1);
    /* The branch: one node (8 bytes, no key) at the page's end, to the leaf. */
    uint8_t *pg = calloc(1, a.map.psize);
    assert_non_null(pg);
    uint16_t flags = 0x01, lower = 18, upper = (uint16_t)(a.map.psize - 8);
    memcpy(pg, &spare, 8);
    memcpy(pg + 10, &flags, 2);
    memcpy(pg + 12, &lower, 2);
    memcpy(pg + 14, &upper, 2);
    memcpy(pg + 16, &upper, 2);
    memcpy(pg + upper, &leaf, 6);
    poke(&a, (off_t)(spare * a.map.psize), pg, a.map.psize);
    /* The record: root the branch, depth 2, one branch page. */
    off_t rec = record_of(&a, "t");
    uint8_t dbrec[48], was[48];
    peek(&a, rec, was, 48);
    memcpy(dbrec, was, 48);
    uint16_t depth = 2;
    uint64_t one = 1;
    memcpy(dbrec + 6, &depth, 2);
    memcpy(dbrec + 8, &one, 8);
    memcpy(dbrec + 40, &spare, 8);
    poke(&a, rec, dbrec, 48);
    assert_int_equal(same(&a, &b), 0);
    poke(&a, rec, was, 48);
    assert_int_equal(same(&a, &b), 1);
    free(pg);
    env_close(&a);
    env_close(&b);
}

/* Every byte of every record's node, flipped, is seen; flips anywhere else
 * (headers, offsets, branch pages, free pages) never crash the walk. */
static void test_flips(void **state)
{
    (void)state;
    struct env a, b;
    pair(&a, &b, 1500, 50);
    reader(&a);
    MDB_envinfo info;
    assert_int_equal(mdb_env_info(a.env, &info), 0);
    /* Mark the bytes of each record's key and value. */
    size_t fsize = (info.me_last_pgno + 1) * a.map.psize;
    uint8_t *in_record = calloc(fsize, 1);
    assert_non_null(in_record);
    MDB_cursor *c;
    MDB_val k, v;
    assert_int_equal(mdb_cursor_open(a.rd, a.dbi, &c), 0);
    for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); !r;
         r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        memset(in_record + ((const uint8_t *)k.mv_data - a.map.base), 1, k.mv_size);
        memset(in_record + ((const uint8_t *)v.mv_data - a.map.base), 1, v.mv_size);
    }
    mdb_cursor_close(c);
    /* The main table's page is read through LMDB itself: not flipped. */
    MDB_dbi main_dbi;
    MDB_val name = {1, "t"}, rec;
    assert_int_equal(mdb_dbi_open(a.rd, NULL, 0, &main_dbi), 0);
    assert_int_equal(mdb_get(a.rd, main_dbi, &name, &rec), 0);
    size_t main_page = ((const uint8_t *)rec.mv_data - a.map.base) / a.map.psize;
    uint32_t seed = 12345;
    int seen = 0;
    for (int i = 0; i < 3000; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t off = 2 * a.map.psize + (seed >> 4) % (fsize - 2 * a.map.psize);
        if (off / a.map.psize == main_page) continue;
        uint8_t x, y;
        peek(&a, (off_t)off, &x, 1);
        y = x ^ (uint8_t)(1u << (seed & 7));
        poke(&a, (off_t)off, &y, 1);
        int s = same(&a, &b);
        if (in_record[off]) {
            assert_int_equal(s, 0);
            seen++;
        }
        poke(&a, (off_t)off, &x, 1);
    }
    assert_true(seen > 500);
    assert_int_equal(same(&a, &b), 1);
    free(in_record);
    env_close(&a);
    env_close(&b);
}

/* With reads, the pages come from the file, not from the map: a private
 * copy of the map with a record's byte changed is seen as different when
 * walked, and not when the pages are read (the meta pages still come from
 * the map). Without a file to read, a walk cannot tell. */
static void test_reads_from_file(void **state)
{
    (void)state;
    struct env a, b;
    pair(&a, &b, 3000, 50);
    reader(&a);
    reader(&b);
    MDB_envinfo info;
    assert_int_equal(mdb_env_info(a.env, &info), 0);
    size_t fsize = (info.me_last_pgno + 1) * a.map.psize;
    uint8_t *copy = malloc(fsize);
    assert_non_null(copy);
    memcpy(copy, a.map.base, fsize);
    uint8_t k[8];
    key_of(1234, k);
    MDB_val kv = {8, k}, vv;
    assert_int_equal(mdb_get(a.rd, a.dbi, &kv, &vv), 0);
    copy[(const uint8_t *)vv.mv_data - a.map.base + 3] ^= 0x40;
    struct ivl_map m = a.map;
    m.base = copy;
    m.len = fsize;
    m.reads = 0;
    assert_int_equal(ivl_tables_same(&m, a.rd, a.dbi, &b.map, b.rd, b.dbi, "t", NULL, NULL, 512),
                     0);
    m.reads = 1;
    assert_int_equal(ivl_tables_same(&m, a.rd, a.dbi, &b.map, b.rd, b.dbi, "t", NULL, NULL, 512),
                     1);
    m.fd = -1;
    assert_int_equal(ivl_tables_same(&m, a.rd, a.dbi, &b.map, b.rd, b.dbi, "t", NULL, NULL, 512),
                     0);
    free(copy);
    env_close(&a);
    env_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_found),       cmocka_unit_test(test_same_layout),
        cmocka_unit_test(test_other_layout),    cmocka_unit_test(test_differences),
        cmocka_unit_test(test_empty),           cmocka_unit_test(test_old_snapshot),
        cmocka_unit_test(test_not_walked),      cmocka_unit_test(test_forged_pages),
        cmocka_unit_test(test_forged_count),    cmocka_unit_test(test_forged_meta),
        cmocka_unit_test(test_one_key_branch),  cmocka_unit_test(test_flips),
        cmocka_unit_test(test_reads_from_file),
    };
    int failed = cmocka_run_group_tests_name("walking the maps", tests, NULL, NULL);
    read_pages = 1;
    return failed + cmocka_run_group_tests_name("reading the files", tests, NULL, NULL);
}
