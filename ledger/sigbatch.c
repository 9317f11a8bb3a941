/*
 * sigbatch.c - Ed25519 signature checks on worker threads, pipelined with
 * the caller (see sigbatch.h).
 *
 * Two buffers: the caller fills one while `jobs` workers check the other, so
 * the in-order work (rules, tree, state) and the signature checks overlap.
 * Workers claim small chunks of the busy buffer from a shared counter, and a
 * caller that has to wait for the busy buffer claims chunks too instead of
 * sleeping: no core idles while one thread still has a long slice to finish.
 * A buffer holds the messages in one arena and copies of the signatures, so
 * the caller's leaf bytes need not outlive ivl_sigbatch_add(). Small batches
 * are checked on the caller's thread: threads cost more than a few checks.
 * The checks go through ed25519.c, whose tables for the keys that sign often
 * are made with the threads (and shared by them): its verdicts are
 * libsodium's, at about twice the speed for those keys.
 */
#include "sigbatch.h"
#include "ed25519.h"
#include "err.h"
#include "i18n.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_) return rc_;                                                                       \
    } while (0)

#define BATCH        4096 /* signatures per buffer */
#define MAX_JOBS     64
#define INLINE_BELOW 64  /* a final batch smaller than this is checked inline */
#define CHUNK        16  /* signatures claimed at a time */
#define EARLY        256 /* handed over before BATCH if the workers have claimed all */
#define DONE_EARLY   32  /* handed over before BATCH if the workers are idle */

struct sig_task {
    uint64_t seq;
    uint8_t sig[IVL_SIG_LEN];
    uint8_t pub[IVL_PUB_LEN];
    size_t msg_off, msg_len; /* into the buffer's message arena */
};

struct buffer {
    struct sig_task t[BATCH];
    size_t n;
    struct ivl_buf arena;
    atomic_size_t next; /* the first task not yet claimed, while busy */
};

struct ivl_sigbatch {
    struct buffer buf[2];
    int cur;  /* the buffer being filled */
    int busy; /* a buffer is being checked by the workers */
    unsigned jobs;
    unsigned started; /* worker threads running */
    int threads_up;   /* start_workers() has run */
    pthread_t th[MAX_JOBS];
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    uint64_t generation; /* bumped for each buffer handed to the workers */
    atomic_uint pending; /* workers still checking the busy buffer (changed under mu) */
    int quit;
    uint64_t bad_seq;       /* lowest failing entry seen, or UINT64_MAX */
    struct ivl_edcache *ed; /* tables of the frequent keys, made with the threads */
};

static uint64_t check_slice(const struct buffer *bf, size_t from, size_t to, struct ivl_edcache *ed)
{
    uint64_t bad = UINT64_MAX;
    for (size_t i = from; i < to; i++) {
        const struct sig_task *t = &bf->t[i];
        if (t->seq < bad &&
            ivl_ed25519_verify(ed, t->sig, bf->arena.p + t->msg_off, t->msg_len, t->pub))
            bad = t->seq;
    }
    return bad;
}

struct worker {
    struct ivl_sigbatch *b;
};

/* Claims chunks of bf until none are left; returns the lowest failing entry. */
static uint64_t drain(struct buffer *bf, struct ivl_edcache *ed)
{
    uint64_t bad = UINT64_MAX;
    for (;;) {
        size_t from = atomic_fetch_add_explicit(&bf->next, CHUNK, memory_order_relaxed);
        if (from >= bf->n) return bad;
        size_t to = from + CHUNK < bf->n ? from + CHUNK : bf->n;
        uint64_t x = check_slice(bf, from, to, ed);
        if (x < bad) bad = x;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct ivl_sigbatch *b = w->b;
    uint64_t seen = 0;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->quit && b->generation == seen)
            pthread_cond_wait(&b->work, &b->mu);
        if (b->quit) break;
        seen = b->generation;
        struct buffer *bf = &b->buf[b->cur ^ 1];
        pthread_mutex_unlock(&b->mu);
        uint64_t bad = drain(bf, b->ed);
        pthread_mutex_lock(&b->mu);
        if (bad < b->bad_seq) b->bad_seq = bad;
        if (atomic_fetch_sub_explicit(&b->pending, 1, memory_order_release) == 1)
            pthread_cond_signal(&b->done);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* jobs - 1 workers: the caller is the last checking thread. */
static int start_workers(struct ivl_sigbatch *b, struct worker *ws)
{
    for (unsigned j = 0; j + 1 < b->jobs; j++) {
        ws[j].b = b;
        if (pthread_create(&b->th[j], NULL, worker_main, &ws[j])) break;
        b->started++;
    }
    return 0; /* with fewer workers (none: threads refused), the caller checks more */
}

/* Helps check the busy buffer, then waits until the workers are done with it.
 * Caller holds no lock. */
static void wait_busy(struct ivl_sigbatch *b)
{
    if (b->busy) {
        uint64_t bad = drain(&b->buf[b->cur ^ 1], b->ed);
        pthread_mutex_lock(&b->mu);
        if (bad < b->bad_seq) b->bad_seq = bad;
        pthread_mutex_unlock(&b->mu);
    }
    pthread_mutex_lock(&b->mu);
    while (b->busy && atomic_load_explicit(&b->pending, memory_order_relaxed))
        pthread_cond_wait(&b->done, &b->mu);
    b->busy = 0;
    pthread_mutex_unlock(&b->mu);
}

static int bad_sig(const struct ivl_sigbatch *b)
{
    return ivl_fail(IVL_E_BAD_SIG,
                    _("entry %llu: a signature does not verify with the key valid for its signer "
                      "at that point of the log"),
                    (unsigned long long)b->bad_seq);
}

struct ivl_sigbatch_ext {
    struct ivl_sigbatch b;
    struct worker ws[MAX_JOBS];
};

/* Hands the buffer being filled to the workers and switches buffers. */
static int submit(struct ivl_sigbatch *b)
{
    struct buffer *bf = &b->buf[b->cur];
    if (bf->arena.oom) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    wait_busy(b);
    if (b->bad_seq != UINT64_MAX) return bad_sig(b);
    if (!b->threads_up) {
        /* NULL if out of memory: then libsodium checks every signature. */
        b->ed = ivl_edcache_new();
        TRY(start_workers(b, ((struct ivl_sigbatch_ext *)b)->ws));
        b->threads_up = 1;
    }
    pthread_mutex_lock(&b->mu);
    b->cur ^= 1; /* workers read buf[cur ^ 1] */
    atomic_store_explicit(&bf->next, 0, memory_order_relaxed);
    b->busy = 1;
    atomic_store_explicit(&b->pending, b->started, memory_order_relaxed);
    b->generation++;
    pthread_cond_broadcast(&b->work);
    pthread_mutex_unlock(&b->mu);
    b->buf[b->cur].n = 0;
    b->buf[b->cur].arena.len = 0;
    return 0;
}

/* Hands the filling buffer to the workers when it is full; when it holds
 * EARLY or more and the workers have claimed all they had (the caller then
 * waits for their last chunks); and when it holds DONE_EARLY or more and the
 * workers are idle: they never wait for a full buffer (an incremental
 * verification has only a few), and start on the first DONE_EARLY. */
static int maybe_submit(struct ivl_sigbatch *b)
{
    const struct buffer *bf = &b->buf[b->cur], *busy = &b->buf[b->cur ^ 1];
    if (bf->n == BATCH) return submit(b);
    if (bf->n < DONE_EARLY || b->jobs < 2) return 0;
    if (!b->busy || !atomic_load_explicit(&b->pending, memory_order_acquire)) return submit(b);
    if (bf->n >= EARLY && atomic_load_explicit(&busy->next, memory_order_relaxed) >= busy->n)
        return submit(b);
    return 0;
}

int ivl_sigbatch_start(struct ivl_sigbatch *b)
{
    return b->buf[b->cur].n && b->jobs > 1 ? submit(b) : 0;
}

int ivl_sigbatch_flush(struct ivl_sigbatch *b)
{
    struct buffer *bf = &b->buf[b->cur];
    if (bf->n >= INLINE_BELOW || (bf->n && b->busy)) {
        TRY(submit(b));
    } else if (bf->n) {
        if (bf->arena.oom) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
        uint64_t bad = check_slice(bf, 0, bf->n, b->ed);
        if (bad < b->bad_seq) b->bad_seq = bad;
        bf->n = 0;
        bf->arena.len = 0;
    }
    wait_busy(b);
    return b->bad_seq == UINT64_MAX ? 0 : bad_sig(b);
}

int ivl_sigbatch_add(struct ivl_sigbatch *b, const char *origin, const struct ivl_entry *e,
                     const struct ivl_signers *who, const uint8_t *leaf, size_t len)
{
    const uint8_t *body;
    size_t body_len;
    TRY(ivl_leaf_body(leaf, len, &body, &body_len));
    /* Signatures sit at the end of the leaf: 1 count byte, then (uscc, sig) pairs. */
    const uint8_t *sigs = body + body_len + 1;
    for (uint32_t i = 0; i < who->n; i++) {
        TRY(maybe_submit(b));
        struct buffer *bf = &b->buf[b->cur];
        struct sig_task *t = &bf->t[bf->n++];
        t->seq = e->seq;
        memcpy(t->sig, sigs + i * (IVL_USCC_LEN + IVL_SIG_LEN) + IVL_USCC_LEN, IVL_SIG_LEN);
        memcpy(t->pub, who->pub[i], IVL_PUB_LEN);
        t->msg_off = bf->arena.len;
        TRY(ivl_sig_message(origin, body, body_len, &bf->arena));
        t->msg_len = bf->arena.len - t->msg_off;
    }
    return 0;
}

int ivl_sigbatch_add_raw(struct ivl_sigbatch *b, uint64_t seq, const uint8_t *msg, size_t len,
                         const uint8_t sig[IVL_SIG_LEN], const uint8_t pub[IVL_PUB_LEN])
{
    TRY(maybe_submit(b));
    struct buffer *bf = &b->buf[b->cur];
    struct sig_task *t = &bf->t[bf->n++];
    t->seq = seq;
    memcpy(t->sig, sig, IVL_SIG_LEN);
    memcpy(t->pub, pub, IVL_PUB_LEN);
    t->msg_off = bf->arena.len;
    ivl_buf_put(&bf->arena, msg, len);
    t->msg_len = len;
    return bf->arena.oom ? ivl_fail(IVL_E_NOMEM, _("out of memory")) : 0;
}

int ivl_sigbatch_new(unsigned jobs, struct ivl_sigbatch **out)
{
    struct ivl_sigbatch_ext *x = calloc(1, sizeof *x);
    if (!x) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    struct ivl_sigbatch *b = &x->b;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    b->jobs = jobs ? jobs : (unsigned)(cores > 0 ? cores : 1);
    if (b->jobs > MAX_JOBS) b->jobs = MAX_JOBS;
    b->bad_seq = UINT64_MAX;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->work, NULL);
    pthread_cond_init(&b->done, NULL);
    *out = b;
    return 0;
}

void ivl_sigbatch_free(struct ivl_sigbatch *b)
{
    if (!b) return;
    wait_busy(b);
    pthread_mutex_lock(&b->mu);
    b->quit = 1;
    pthread_cond_broadcast(&b->work);
    pthread_mutex_unlock(&b->mu);
    for (unsigned j = 0; j < b->started; j++)
        pthread_join(b->th[j], NULL);
    for (int i = 0; i < 2; i++)
        ivl_buf_free(&b->buf[i].arena);
    ivl_edcache_free(b->ed);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->work);
    pthread_cond_destroy(&b->done);
    free((struct ivl_sigbatch_ext *)b);
}

uint64_t ivl_sigbatch_bad(const struct ivl_sigbatch *b)
{
    return b->bad_seq;
}
