/*
 * tablewalk.h - compares a table in two LMDB environments by reading their
 * leaf pages straight from the maps, without a cursor.
 *
 * verify compares every stored table with the replayed one; at tens of
 * thousands of entries that comparison is most of what an incremental
 * verification does beyond the new entries, and through LMDB's cursors it
 * costs a call, a page search and two memcmp() calls for every record. The
 * two environments are written by the same puts in the same order, so most
 * of their leaf pages hold the same records laid out the same way: such a
 * pair of pages is compared with two memcmp() calls over the used part of
 * the page. Pages laid out differently are compared record by record.
 *
 * It reads LMDB's on-disk format (0.9, the version this library is built
 * against, little-endian, 64-bit), and only what that format makes simple:
 * tables without flags whose records all sit on their leaf pages (no
 * overflow pages, no duplicates). Everything it reads is checked first:
 * page numbers against the last page of the transaction's snapshot (from
 * meta page id & 1, as LMDB bounds them) and against the file; each page's
 * own number and kind, a branch's two keys or more (LMDB asserts it),
 * offsets and sizes against the page; the tree's depth and the records
 * counted against the table's record; an empty table is a root of ~0, as
 * LMDB sees it, whatever the count says. A damaged or forged file makes it
 * stop, never read outside the map, and nothing is asked of LMDB but that
 * record (LMDB trusts what it reads: mdb_stat() asserts on a forged root). It never says
 * "different": when the tables differ, or a walk does not apply, or this
 * is not LMDB 0.9, the caller compares with LMDB's cursors, which give the
 * verdict and name the record. Read-only transactions only: a write
 * transaction's own pages are not in the map.
 */
#ifndef IVL_TABLEWALK_H
#define IVL_TABLEWALK_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

/* An environment's map, found in /proc/self/maps by the data file's inode. */
struct ivl_map {
    const uint8_t *base; /* page 0 */
    size_t len;          /* of the mapping */
    uint64_t npages;     /* pages of the file inside the mapping */
    unsigned psize;
    int fd;    /* the data file, open read-only by LMDB */
    int reads; /* set by the caller: pages are read with pread(), not from the map */
};

/* 0, or -1 when the map cannot be found (then no table is walked). Sets
 * reads to 0.
 *
 * With reads set, the walk copies each page it reads from the file into a
 * buffer of its own (the meta page still comes from the map): the pages do
 * not become resident in this process. A caller that keeps its resident set
 * small by dropping the maps' pages now and then (verify.c) walks a large
 * environment that way: dropping the pages also drops the neighbours the
 * kernel mapped around each fault before the walk reached them, and the
 * walk then faults for each of them again (at 1,000,000 entries, more than
 * half of an incremental verification went there). The bytes read are the same
 * bytes: LMDB writes no page of a read transaction's snapshot while the
 * transaction lives, and writes through the file, not the map. */
int ivl_map_find(MDB_env *env, struct ivl_map *m);

/* Statistics of ivl_tables_same() calls in this process, for tests. */
struct ivl_walk_stats {
    uint64_t pages_same; /* leaf pages found equal by one comparison */
    uint64_t records;    /* records compared one by one */
};
extern struct ivl_walk_stats ivl_walk_stats;

/* 1 when table `name`, open as da in the read-only transaction a (on the
 * environment mapped at ma) and as db in b, holds the same records, byte for
 * byte, in both; 0 when the walk cannot tell (they differ, or a walk does
 * not apply). every(ctx), if given, is called every `every_n` records. */
int ivl_tables_same(const struct ivl_map *ma, MDB_txn *a, MDB_dbi da, const struct ivl_map *mb,
                    MDB_txn *b, MDB_dbi db, const char *name, void (*every)(void *), void *ctx,
                    unsigned every_n);

#endif
