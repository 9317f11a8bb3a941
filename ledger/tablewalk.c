/*
 * tablewalk.c - a table's records straight from an LMDB map (see
 * tablewalk.h). The layout read here is LMDB 0.9's (mdb.c): a page is a
 * 16-byte header (number, pad, flags, lower, upper), then `lower - 16` bytes
 * of 16-bit offsets to its nodes, in key order; a node is an 8-byte header
 * (data size low and high halves, flags, key size), the key, the value. A
 * branch node keeps its child's page number in the first three 16-bit
 * fields. A table's root, depth and counts are the 48-byte record named
 * after it in the main table.
 */
#include "tablewalk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#if MDB_VERSION_MAJOR == 0 && MDB_VERSION_MINOR == 9 && SIZE_MAX == UINT64_MAX &&                  \
    defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WALKS 1
#else
#define WALKS 0
#endif

struct ivl_walk_stats ivl_walk_stats;

int ivl_map_find(MDB_env *env, struct ivl_map *m)
{
    mdb_filehandle_t fd;
    struct stat sb;
    MDB_stat ms;
    char *line = NULL;
    size_t cap = 0;
    memset(m, 0, sizeof *m);
    m->fd = -1;
    if (mdb_env_get_fd(env, &fd) || fstat(fd, &sb) || mdb_env_stat(env, &ms) || !ms.ms_psize)
        return -1;
    m->fd = fd;
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f) return -1;
    int found = -1;
    /* Whole lines (getline): a long path must not be read as another line. */
    while (found && getline(&line, &cap, f) > 0) {
        unsigned long lo, hi, off, ino;
        unsigned maj, min;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perms, &off, &maj, &min, &ino) !=
                7 ||
            ino != (unsigned long)sb.st_ino || makedev(maj, min) != sb.st_dev || perms[3] != 's' ||
            off != 0 || hi <= lo)
            continue;
        size_t len = hi - lo, file = (size_t)sb.st_size;
        m->base = (const uint8_t *)lo;
        m->len = len;
        m->psize = ms.ms_psize;
        m->npages = (len < file ? len : file) / ms.ms_psize;
        found = 0;
    }
    free(line);
    fclose(f);
    return found;
}

#if WALKS

enum { PAGE_HDR = 16, NODE_HDR = 8, P_BRANCH = 0x01, P_LEAF = 0x02, MAX_DEPTH = 24 };

/* LMDB's MDB_db, as the main table stores it. */
struct lmdb_db {
    uint32_t pad;
    uint16_t flags, depth;
    uint64_t branch_pages, leaf_pages, overflow_pages, entries, root;
};

struct walk {
    const struct ivl_map *map;
    uint64_t npages; /* the pages of the transaction's snapshot */
    uint64_t root, entries, seen;
    unsigned depth, top; /* top: branch pages on the stack */
    int started, done;
    const uint8_t *pg[MAX_DEPTH];
    unsigned ix[MAX_DEPTH], n[MAX_DEPTH];
    const uint8_t *leaf; /* the current leaf page, its nodes, the next one to read */
    unsigned ln, li, upper;
    uint8_t *buf; /* with map->reads: a page for each level of the tree */
};

static inline unsigned rd16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* LMDB reads a page only below the snapshot's next page number: the last
 * page recorded in the meta page the transaction started from, plus one. A
 * read transaction takes meta page (id & 1) (mdb_txn_renew0), so the bound
 * comes from that slot, which must hold the transaction's id before and
 * after its last page is read; -1 otherwise (another commit since, or a
 * forged meta page). */
static int snapshot_pages(const struct ivl_map *m, MDB_txn *txn, uint64_t *n)
{
    enum {
        META_LAST_PG = 16 + 4 + 4 + 8 + 8 + 2 * sizeof(struct lmdb_db),
        META_TXNID = META_LAST_PG + 8
    };
    uint64_t id = (uint64_t)mdb_txn_id(txn);
    if (m->npages < 2) return -1;
    const uint8_t *meta = m->base + (size_t)(id & 1) * m->psize;
    uint64_t before, last, after;
    memcpy(&before, meta + META_TXNID, 8);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    memcpy(&last, meta + META_LAST_PG, 8);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    memcpy(&after, meta + META_TXNID, 8);
    if (before != id || after != id) return -1;
    *n = last < m->npages ? last + 1 : m->npages;
    return 0;
}

static int walk_open(struct walk *w, const struct ivl_map *map, MDB_txn *txn, MDB_dbi dbi,
                     const char *name)
{
    MDB_dbi main_dbi;
    MDB_val k = {strlen(name), (void *)name}, v;
    unsigned flags;
    struct lmdb_db db;
    memset(w, 0, sizeof *w);
    /* The table's record, as LMDB reads it for the handle in this
     * transaction; nothing else is asked of LMDB, which trusts what it reads
     * (mdb_stat() asserts on a forged root). */
    if (!map->base || mdb_dbi_flags(txn, dbi, &flags) || flags ||
        mdb_dbi_open(txn, NULL, 0, &main_dbi) || mdb_get(txn, main_dbi, &k, &v) ||
        v.mv_size != sizeof db)
        return -1;
    memcpy(&db, v.mv_data, sizeof db);
    if (snapshot_pages(map, txn, &w->npages)) return -1;
    if (db.flags || db.overflow_pages || db.depth > MAX_DEPTH) return -1;
    w->map = map;
    w->entries = db.entries;
    /* LMDB finds a table empty by its root alone, not by the count. */
    if (db.root == UINT64_MAX) {
        if (db.entries || db.depth || db.branch_pages || db.leaf_pages) return -1;
        w->done = 1;
        return 0;
    }
    if (!db.entries || !db.depth || db.root >= w->npages) return -1;
    w->root = db.root;
    w->depth = db.depth;
    if (map->reads && (map->fd < 0 || !(w->buf = malloc((size_t)db.depth * map->psize)))) return -1;
    return 0;
}

/* The bytes of page pgno: in the map, or read into the buffer of `level`. */
static const uint8_t *page_bytes(const struct walk *w, uint64_t pgno, unsigned level)
{
    const struct ivl_map *m = w->map;
    if (!m->reads) return m->base + pgno * m->psize;
    uint8_t *p = w->buf + (size_t)level * m->psize;
    size_t got = 0;
    while (got < m->psize) {
        ssize_t r = pread(m->fd, p + got, m->psize - got, (off_t)(pgno * m->psize + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return NULL;
        got += (size_t)r;
    }
    return p;
}

/* Page pgno, checked to be a `kind` page numbered pgno with at least one
 * node; its node count and the start of its nodes. NULL if it is not.
 * `level`: where in the tree (a leaf is at depth - 1), for the buffer a page
 * read from the file goes to. */
static const uint8_t *page(const struct walk *w, uint64_t pgno, unsigned kind, unsigned level,
                           unsigned *n, unsigned *upper)
{
    const struct ivl_map *m = w->map;
    if (pgno >= w->npages) return NULL;
    const uint8_t *p = page_bytes(w, pgno, level);
    if (!p) return NULL;
    unsigned lower = rd16(p + 12);
    *upper = rd16(p + 14);
    if (rd64(p) != pgno || rd16(p + 10) != kind || lower <= PAGE_HDR || lower > *upper ||
        *upper > m->psize || (lower - PAGE_HDR) % 2)
        return NULL;
    *n = (lower - PAGE_HDR) / 2;
    /* LMDB asserts that a named table's branch pages have two keys or more. */
    if (kind == P_BRANCH && *n < 2) return NULL;
    return p;
}

/* The node at index i of page p (nodes from `upper`), with room for its
 * header; with len, a leaf node: no flags (a value kept elsewhere), and room
 * for its key and value, whose total with the header goes to *len (read
 * once: the sizes checked are the sizes used). */
static const uint8_t *node(const struct walk *w, const uint8_t *p, unsigned upper, unsigned i,
                           size_t *len)
{
    unsigned psize = w->map->psize, off = rd16(p + PAGE_HDR + 2 * i);
    if (off < upper || off + NODE_HDR > psize) return NULL;
    const uint8_t *nd = p + off;
    if (!len) return nd;
    size_t n = NODE_HDR + rd16(nd + 6) + (rd16(nd) | (size_t)rd16(nd + 2) << 16);
    if (rd16(nd + 4) || off + n > psize) return NULL;
    *len = n;
    return nd;
}

/* Moves to the next leaf page, in key order: 1, 0 at the end (when every
 * record LMDB counts was seen), -1 on anything unexpected. */
static int next_leaf(struct walk *w)
{
    uint64_t pgno = 0;
    unsigned n, upper;
    if (w->done) return w->seen == w->entries ? 0 : -1;
    if (!w->started) {
        w->started = 1;
        pgno = w->root;
        if (w->depth > 1) {
            if (!(w->pg[0] = page(w, pgno, P_BRANCH, 0, &w->n[0], &upper))) return -1;
            w->ix[0] = 0;
            w->top = 1;
        }
    }
    while (w->top) {
        unsigned l = w->top - 1;
        if (w->ix[l] == w->n[l]) {
            w->top--;
            continue;
        }
        const uint8_t *p = w->pg[l], *nd = node(w, p, rd16(p + 14), w->ix[l]++, NULL);
        if (!nd) return -1;
        pgno = rd16(nd) | (uint64_t)rd16(nd + 2) << 16 | (uint64_t)rd16(nd + 4) << 32;
        if (l + 2 == w->depth) break;
        if (!(w->pg[l + 1] = page(w, pgno, P_BRANCH, l + 1, &w->n[l + 1], &upper))) return -1;
        w->ix[l + 1] = 0;
        w->top = l + 2;
    }
    if (!w->top && w->leaf) {
        w->done = 1;
        return w->seen == w->entries ? 0 : -1;
    }
    if (!(w->leaf = page(w, pgno, P_LEAF, w->depth - 1, &n, &upper))) return -1;
    w->ln = n;
    w->li = 0;
    w->upper = upper;
    return 1;
}

/* The next record, as its node (header, key, value) and the node's length:
 * 1, 0 at the end, -1 on anything unexpected. */
static int next_record(struct walk *w, const uint8_t **nd, size_t *len)
{
    while (w->li == w->ln) {
        int r = next_leaf(w);
        if (r <= 0) return r;
    }
    const uint8_t *p = node(w, w->leaf, w->upper, w->li++, len);
    if (!p || ++w->seen > w->entries) return -1;
    *nd = p;
    return 1;
}

/* The current leaves of a and b, both unread, hold the same bytes where
 * LMDB keeps records (the offsets, and the nodes from `upper` on), and b's
 * nodes are plain records: then they hold the same records. */
static int leaves_same(const struct walk *a, const struct walk *b)
{
    unsigned n = a->ln, upper = a->upper, psize = a->map->psize;
    if (n != b->ln || upper != b->upper || a->li || b->li ||
        memcmp(a->leaf + PAGE_HDR, b->leaf + PAGE_HDR, 2 * n) ||
        memcmp(a->leaf + upper, b->leaf + upper, psize - upper))
        return 0;
    size_t len;
    for (unsigned i = 0; i < n; i++)
        if (!node(b, b->leaf, upper, i, &len)) return 0;
    return 1;
}

static int walk_both(struct walk *pa, struct walk *pb, void (*every)(void *), void *ctx,
                     unsigned every_n)
{
    const uint8_t *na, *nb;
    size_t la, lb;
    unsigned since = 0;
    for (;;) {
        if (pa->li == pa->ln && pb->li == pb->ln) {
            /* Both at the start of a page: compare them whole if they are alike. */
            int ra = next_leaf(pa), rb = next_leaf(pb);
            if (ra != rb || ra < 0) return 0;
            if (!ra) return 1;
            if (leaves_same(pa, pb)) {
                pa->seen += pa->ln;
                pb->seen += pb->ln;
                if (pa->seen > pa->entries || pb->seen > pb->entries) return 0;
                pa->li = pa->ln;
                pb->li = pb->ln;
                ivl_walk_stats.pages_same++;
                if ((since += pa->ln) >= every_n && every) {
                    every(ctx);
                    since -= every_n;
                }
                continue;
            }
        }
        /* A node's header holds the sizes of its key and value: equal nodes
         * are equal records. */
        int ra = next_record(pa, &na, &la), rb = next_record(pb, &nb, &lb);
        if (ra != rb || ra < 0) return 0;
        if (!ra) return 1;
        if (la != lb || memcmp(na, nb, la)) return 0;
        ivl_walk_stats.records++;
        if (++since >= every_n && every) {
            every(ctx);
            since -= every_n;
        }
    }
}

int ivl_tables_same(const struct ivl_map *ma, MDB_txn *a, MDB_dbi da, const struct ivl_map *mb,
                    MDB_txn *b, MDB_dbi db, const char *name, void (*every)(void *), void *ctx,
                    unsigned every_n)
{
    struct walk wa, wb;
    int same = 0;
    if (ma->psize != mb->psize || walk_open(&wa, ma, a, da, name)) return 0;
    if (!walk_open(&wb, mb, b, db, name)) {
        same = walk_both(&wa, &wb, every, ctx, every_n);
        free(wb.buf);
    }
    free(wa.buf);
    return same;
}

#else /* not LMDB 0.9 on a little-endian 64-bit machine: cursors only */

int ivl_tables_same(const struct ivl_map *ma, MDB_txn *a, MDB_dbi da, const struct ivl_map *mb,
                    MDB_txn *b, MDB_dbi db, const char *name, void (*every)(void *), void *ctx,
                    unsigned every_n)
{
    (void)ma, (void)a, (void)da, (void)mb, (void)b, (void)db, (void)name, (void)every, (void)ctx,
        (void)every_n;
    return 0;
}

#endif
