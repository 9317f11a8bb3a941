/*
 * bench_raw.c - the raw limits of this machine that ivl's figures are
 * compared with (tests/bench/, not part of the product):
 *
 *   - libsodium Ed25519 sign/s and verify/s on 1 thread and on JOBS threads,
 *     and per CPU second (a figure that other load on the machine does not
 *     change much);
 *   - one durable LMDB commit (a small write transaction, synced), median;
 *   - LMDB batched puts/s: one transaction, many puts of ivl-like sizes
 *     (per entry: leaf 8 B key -> LEAF B, id 16 B -> 9 B, Merkle node
 *     9 B -> 32 B, a state record 16 B -> 150 B), one synced commit.
 *
 *   bench_raw DIR [JOBS] [SECONDS] [MSGLEN] [LEAF]
 *
 * DIR is an empty scratch directory on the disk under test (made if
 * missing; its files are removed at the end); "-" measures Ed25519 only.
 * Prints one JSON object.
 */
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_raw: %s: %s\n", what, rc ? mdb_strerror(rc) : "failed");
    exit(1);
}

/* ---- Ed25519 ---- */

struct ed {
    int verify;
    double seconds;
    size_t msglen;
    pthread_barrier_t *ready; /* every thread has its pool: the timed loops start */
    unsigned long long count;
    double start, end; /* CLOCK_MONOTONIC seconds of the timed loop */
    double cpu;        /* CPU seconds the thread used in it */
};

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A pool of distinct keys, messages and signatures, so that the loop sees
 * what a ledger's replay sees: a different key and message every time. */
#define POOL 256

static void *ed_loop(void *arg)
{
    struct ed *e = arg;
    uint8_t(*pk)[32] = malloc(POOL * 32), (*sk)[64] = malloc(POOL * 64),
    (*sig)[64] = malloc(POOL * 64);
    uint8_t *msg = malloc(POOL * e->msglen);
    randombytes_buf(msg, POOL * e->msglen);
    for (int i = 0; i < POOL; i++) {
        crypto_sign_keypair(pk[i], sk[i]);
        crypto_sign_detached(sig[i], NULL, msg + i * e->msglen, e->msglen, sk[i]);
    }
    /* Only the loop is timed: making the pool takes ~15 ms, 5 % of a 0.3 s probe. */
    pthread_barrier_wait(e->ready);
    e->start = now_s();
    double end = e->start + e->seconds, c0 = cpu_s();
    unsigned long long n = 0;
    while (now_s() < end) {
        for (int i = 0; i < 64; i++) {
            int k = (int)((n + (unsigned)i) % POOL);
            if (e->verify) {
                if (crypto_sign_verify_detached(sig[k], msg + k * e->msglen, e->msglen, pk[k]))
                    die("verify", 0);
            } else {
                crypto_sign_detached(sig[k], NULL, msg + k * e->msglen, e->msglen, sk[k]);
            }
        }
        n += 64;
    }
    e->count = n;
    e->cpu = cpu_s() - c0;
    e->end = now_s();
    free(msg), free(pk), free(sk), free(sig);
    return NULL;
}

/* Operations per second summed over `threads` threads running for `seconds`;
 * *per_cpu: operations per CPU second (independent of other load). */
static double ed_rate(int verify, unsigned threads, double seconds, size_t msglen, double *per_cpu)
{
    pthread_t th[256];
    struct ed e[256];
    pthread_barrier_t ready;
    if (pthread_barrier_init(&ready, NULL, threads)) die("pthread_barrier_init", 0);
    for (unsigned i = 0; i < threads; i++) {
        e[i] = (struct ed){.verify = verify, .seconds = seconds, .msglen = msglen, .ready = &ready};
        if (pthread_create(&th[i], NULL, ed_loop, &e[i])) die("pthread_create", 0);
    }
    unsigned long long total = 0;
    double cpu = 0, t0 = 0, t1 = 0;
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += e[i].count;
        cpu += e[i].cpu;
        if (!i || e[i].start < t0) t0 = e[i].start;
        if (!i || e[i].end > t1) t1 = e[i].end;
    }
    pthread_barrier_destroy(&ready);
    if (per_cpu) *per_cpu = cpu > 0 ? (double)total / cpu : 0;
    /* From the first loop's start to the last one's end. */
    return t1 > t0 ? (double)total / (t1 - t0) : 0;
}

/* ---- LMDB ---- */

static MDB_env *env_open(const char *dir, unsigned flags)
{
    MDB_env *env;
    int rc;
    if ((rc = mdb_env_create(&env))) die("mdb_env_create", rc);
    mdb_env_set_maxdbs(env, 8);
    mdb_env_set_mapsize(env, (size_t)8 << 30);
    if ((rc = mdb_env_open(env, dir, flags, 0600))) die(dir, rc);
    return env;
}

static void put(MDB_txn *t, MDB_dbi d, const void *k, size_t kl, const void *v, size_t vl)
{
    MDB_val mk = {kl, (void *)k}, mv = {vl, (void *)v};
    int rc = mdb_put(t, d, &mk, &mv, 0);
    if (rc) die("mdb_put", rc);
}

static void be64(uint8_t k[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        k[i] = (uint8_t)v;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Writes one ivl-like entry's records: leaf, id, node, state record. */
static void put_entry(MDB_txn *t, MDB_dbi *d, uint64_t seq, const uint8_t *leaf, size_t leaflen)
{
    uint8_t k[17], id[16], rec[150], h[32];
    be64(k, seq);
    put(t, d[0], k, 8, leaf, leaflen);
    randombytes_buf(id, sizeof id);
    uint8_t idv[9];
    memcpy(idv, k, 8);
    idv[8] = 6;
    put(t, d[1], id, 16, idv, 9);
    k[0] = 0;
    be64(k + 1, seq);
    randombytes_buf(h, sizeof h);
    put(t, d[2], k, 9, h, 32);
    randombytes_buf(rec, sizeof rec);
    put(t, d[3], id, 16, rec, sizeof rec);
}

static void open_dbs(MDB_env *env, MDB_dbi *d)
{
    MDB_txn *t;
    static const char *names[] = {"leaves", "ids", "nodes", "records"};
    if (mdb_txn_begin(env, NULL, 0, &t)) die("txn", 0);
    for (int i = 0; i < 4; i++)
        if (mdb_dbi_open(t, names[i], MDB_CREATE, &d[i])) die("dbi", 0);
    if (mdb_txn_commit(t)) die("commit", 0);
}

static void rm_env(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_raw DIR [JOBS] [SECONDS] [MSGLEN] [LEAF]\n"
                        "       bench_raw probe sign|verify THREADS SECONDS MSGLEN\n");
        return 2;
    }
    if (sodium_init() < 0) die("sodium_init", 0);
    if (!strcmp(argv[1], "probe") && argc == 6) {
        /* One rate, for pairing with one ivl figure taken just before or after. */
        double per_cpu;
        int th = atoi(argv[3]);
        double rate = ed_rate(!strcmp(argv[2], "verify"), (unsigned)(th > 0 && th <= 256 ? th : 1),
                              atof(argv[4]), (size_t)atol(argv[5]), &per_cpu);
        printf("{\"rate\":%.1f,\"per_cpu\":%.1f}\n", rate, per_cpu);
        return 0;
    }
    const char *dir = argv[1];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned jobs = argc > 2 && atoi(argv[2]) > 0 ? (unsigned)atoi(argv[2]) : (unsigned)cores;
    double secs = argc > 3 ? atof(argv[3]) : 2.0;
    size_t msglen = argc > 4 ? (size_t)atol(argv[4]) : 200;
    size_t leaflen = argc > 5 ? (size_t)atol(argv[5]) : 300;
    if (jobs > 256) jobs = 256;
    /* Per CPU-second on 1 thread and on all: on this kind of VM a thread
     * often runs faster while the other vCPUs are busy too, so the figures of
     * ivl on N threads are compared with the rate per CPU-second on N. */
    double sign_cpu, ver_cpu, sign_cpuN, ver_cpuN;
    double sign1 = ed_rate(0, 1, secs, msglen, &sign_cpu),
           signN = ed_rate(0, jobs, secs, msglen, &sign_cpuN);
    double ver1 = ed_rate(1, 1, secs, msglen, &ver_cpu),
           verN = ed_rate(1, jobs, secs, msglen, &ver_cpuN);
    printf("{\"jobs\":%u,\"msg_bytes\":%zu,\"ed25519_sign_1\":%.1f,\"ed25519_sign_all\":%.1f,"
           "\"ed25519_verify_1\":%.1f,\"ed25519_verify_all\":%.1f,"
           "\"ed25519_sign_per_cpu_s\":%.1f,\"ed25519_verify_per_cpu_s\":%.1f,"
           "\"ed25519_sign_per_cpu_s_all\":%.1f,\"ed25519_verify_per_cpu_s_all\":%.1f",
           jobs, msglen, sign1, signN, ver1, verN, sign_cpu, ver_cpu, sign_cpuN, ver_cpuN);
    if (!strcmp(dir, "-")) {
        printf("}\n");
        return 0;
    }
    if (mkdir(dir, 0700) && errno != EEXIST) die(dir, 0);

    /* One durable commit: a write transaction with one entry's records (and a
     * head and a checkpoint signature, as an ivl append writes), synced. */
    rm_env(dir);
    MDB_env *env = env_open(dir, 0);
    MDB_dbi d[4];
    open_dbs(env, d);
    uint8_t *leaf = malloc(leaflen);
    randombytes_buf(leaf, leaflen);
    enum { COMMITS = 60 };
    double lat[COMMITS];
    for (int i = 0; i < COMMITS + 5; i++) {
        MDB_txn *t;
        uint8_t head[48], sig[64];
        randombytes_buf(head, sizeof head);
        randombytes_buf(sig, sizeof sig);
        double a = now_s();
        if (mdb_txn_begin(env, NULL, 0, &t)) die("txn", 0);
        put_entry(t, d, (uint64_t)i, leaf, leaflen);
        put(t, d[3], "head", 4, head, sizeof head);
        put(t, d[3], "cp", 2, sig, sizeof sig);
        int rc = mdb_txn_commit(t);
        if (rc) die("commit", rc);
        if (i >= 5) lat[i - 5] = now_s() - a; /* the first few grow the file */
    }
    qsort(lat, COMMITS, sizeof lat[0], cmp_d);
    double commit_med = lat[COMMITS / 2], commit_p90 = lat[COMMITS * 9 / 10];
    mdb_env_close(env);
    rm_env(dir);

    /* Batched puts in one transaction, one synced commit. */
    env = env_open(dir, 0);
    open_dbs(env, d);
    const uint64_t entries = 200000;
    MDB_txn *t;
    double a = now_s();
    if (mdb_txn_begin(env, NULL, 0, &t)) die("txn", 0);
    for (uint64_t i = 0; i < entries; i++)
        put_entry(t, d, i, leaf, leaflen);
    double b = now_s();
    int rc = mdb_txn_commit(t);
    if (rc) die("commit", rc);
    double c = now_s();
    mdb_env_close(env);
    rm_env(dir);
    free(leaf);

    printf(",\"lmdb_commit_median_s\":%.6f,\"lmdb_commit_p90_s\":%.6f,"
           "\"lmdb_batch_entries\":%llu,\"lmdb_batch_puts\":%llu,\"lmdb_batch_put_s\":%.6f,"
           "\"lmdb_batch_commit_s\":%.6f,\"lmdb_puts_per_s\":%.1f,\"lmdb_entries_per_s\":%.1f}\n",
           commit_med, commit_p90, (unsigned long long)entries, (unsigned long long)(4 * entries),
           b - a, c - b, (double)(4 * entries) / (c - a), (double)entries / (c - a));
    return 0;
}
