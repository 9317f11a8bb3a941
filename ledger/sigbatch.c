/*
 * sigbatch.c - Ed25519 signature checks in batches on worker threads (see
 * sigbatch.h). The messages of a batch live in one arena; signatures
 * are copied, so the caller's leaf bytes need not outlive the call.
 */
#include "sigbatch.h"
#include "err.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_) return rc_;                                                                       \
    } while (0)

#define BATCH 8192 /* signatures checked together */

struct sig_task {
    uint64_t seq;
    uint8_t sig[IVL_SIG_LEN];
    uint8_t pub[IVL_PUB_LEN];
    size_t msg_off, msg_len; /* into the batch's message arena */
};

struct ivl_sigbatch {
    struct sig_task t[BATCH];
    size_t n;
    struct ivl_buf arena;
    unsigned jobs;
    uint64_t bad_seq; /* lowest failing seq or UINT64_MAX */
    pthread_mutex_t mu;
};

struct worker {
    struct ivl_sigbatch *b;
    size_t from, to;
};

static void *check_range(void *arg)
{
    struct worker *w = arg;
    uint64_t bad = UINT64_MAX;
    for (size_t i = w->from; i < w->to; i++) {
        struct sig_task *t = &w->b->t[i];
        if (crypto_sign_verify_detached(t->sig, w->b->arena.p + t->msg_off, t->msg_len, t->pub) &&
            t->seq < bad)
            bad = t->seq;
    }
    pthread_mutex_lock(&w->b->mu);
    if (bad < w->b->bad_seq) w->b->bad_seq = bad;
    pthread_mutex_unlock(&w->b->mu);
    return NULL;
}

/* Checks the batch's signatures on b->jobs threads (this one included). */
int ivl_sigbatch_flush(struct ivl_sigbatch *b)
{
    pthread_t th[64];
    struct worker w[64];
    unsigned jobs = b->jobs > 64 ? 64 : b->jobs, started = 0;
    if (b->arena.oom) return ivl_fail(IVL_E_NOMEM, "out of memory");
    if (b->n == 0) return b->bad_seq == UINT64_MAX ? 0 : IVL_E_BAD_SIG;
    if (b->n < 64) jobs = 1; /* threads cost more than a few checks */
    size_t per = (b->n + jobs - 1) / jobs;
    for (unsigned j = 0; j < jobs; j++) {
        w[j].b = b;
        w[j].from = j * per < b->n ? j * per : b->n;
        w[j].to = (j + 1) * per < b->n ? (j + 1) * per : b->n;
    }
    for (unsigned j = 1; j < jobs; j++)
        if (w[j].from < w[j].to && !pthread_create(&th[j], NULL, check_range, &w[j])) started |= 1u << j;
        else if (w[j].from < w[j].to) check_range(&w[j]);
    check_range(&w[0]);
    for (unsigned j = 1; j < jobs; j++)
        if (started & (1u << j)) pthread_join(th[j], NULL);
    b->n = 0;
    b->arena.len = 0;
    if (b->bad_seq != UINT64_MAX)
        return ivl_fail(IVL_E_BAD_SIG, "entry %llu: a signature does not verify with the key valid "
                                       "for its signer at that point of the log",
                        (unsigned long long)b->bad_seq);
    return 0;
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
        if (b->n == BATCH) TRY(ivl_sigbatch_flush(b));
        struct sig_task *t = &b->t[b->n++];
        t->seq = e->seq;
        memcpy(t->sig, sigs + i * (IVL_USCC_LEN + IVL_SIG_LEN) + IVL_USCC_LEN, IVL_SIG_LEN);
        memcpy(t->pub, who->pub[i], IVL_PUB_LEN);
        t->msg_off = b->arena.len;
        TRY(ivl_sig_message(origin, body, body_len, &b->arena));
        t->msg_len = b->arena.len - t->msg_off;
    }
    return 0;
}


int ivl_sigbatch_new(unsigned jobs, struct ivl_sigbatch **out)
{
    struct ivl_sigbatch *b = calloc(1, sizeof *b);
    if (!b) return ivl_fail(IVL_E_NOMEM, "out of memory");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    b->jobs = jobs ? jobs : (unsigned)(cores > 0 ? cores : 1);
    b->bad_seq = UINT64_MAX;
    pthread_mutex_init(&b->mu, NULL);
    *out = b;
    return 0;
}

void ivl_sigbatch_free(struct ivl_sigbatch *b)
{
    if (!b) return;
    ivl_buf_free(&b->arena);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

uint64_t ivl_sigbatch_bad(const struct ivl_sigbatch *b)
{
    return b->bad_seq;
}
