/*
 * bench_gen.c - the benchmark's ledger generator (tests/bench/, not part of
 * the product). It derives every party's Ed25519 key from its index, so the
 * same program can write the CSV files that the real `ivl party add --batch`
 * and `ivl issue --batch` read, and later sign, as those parties, the bulk of
 * the voucher traffic (redeem with the enterprise's and the provider's
 * signatures, claim, approve, pay) and append it through the library
 * (ivl_ledger_append, the same call the CLI makes) in batches. Every entry
 * is real: it passes the rules and its signatures are checked on append.
 *
 *   bench_gen parties OUT.csv NSME NPROV
 *   bench_gen issues OUT.csv NSME FROM COUNT AMOUNT
 *   bench_gen flow LEDGER_DIR AUTH.key NSME NPROV CYCLES BATCH NOW_UNIX [JOBS]
 *
 * `flow` prints one JSON line: entries, signatures, seconds, sign_seconds,
 * append_seconds.
 */
#include "entry.h"
#include "err.h"
#include "key.h"
#include "ledger.h"
#include "note.h"
#include "parse.h"
#include "state.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define AUTH_USCC "11140521MB12345677"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_gen: %s: %s\n", what, rc ? ivl_err_detail(rc) : "failed");
    exit(1);
}

/* ---- parties: USCC and key from (role letter, index) ---- */

static void make_uscc(char kind, unsigned i, char out[IVL_USCC_LEN + 1])
{
    /* 91140521MA + 7 digits (SMEs), 12140521PB + 7 digits (providers), 11140521MB + 7 (bureaus). */
    const char *prefix = kind == 's' ? "91140521MA" : kind == 'p' ? "12140521PB" : "11140521MC";
    char c;
    snprintf(out, IVL_USCC_LEN + 1, "%s%07u", prefix, i);
    if (ivl_uscc_check_char(out, &c)) die("uscc", 0);
    out[17] = c;
    out[18] = 0;
}

struct party_key {
    char uscc[IVL_USCC_LEN + 1];
    char name[32];
    uint8_t pk[32], sk[64];
};

static void make_key(char kind, unsigned i, struct party_key *k)
{
    char label[64];
    uint8_t seed[32];
    make_uscc(kind, i, k->uscc);
    snprintf(k->name, sizeof k->name, "%s-%06u",
             kind == 's' ? "sme" : kind == 'p' ? "prov" : kind == 'f' ? "finance" : "auditor", i);
    snprintf(label, sizeof label, "ivl-bench/%c/%u", kind, i);
    crypto_hash_sha256(seed, (const uint8_t *)label, strlen(label));
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

static unsigned to_u(const char *s)
{
    return (unsigned)strtoul(s, NULL, 10);
}

static int cmd_parties(int argc, char **argv)
{
    if (argc != 5) return 2;
    unsigned nsme = to_u(argv[3]), nprov = to_u(argv[4]);
    FILE *f = fopen(argv[2], "w");
    if (!f) die(argv[2], 0);
    fprintf(f, "role,uscc,name,pub,related,group,categories\r\n");
    struct party_key k, r;
    char vkey[IVL_VKEY_MAX_LEN + 1];
    for (unsigned i = 0; i < nprov; i++) {
        make_key('p', i, &k);
        ivl_vkey_format(k.name, k.pk, vkey, sizeof vkey);
        fprintf(f, "provider,%s,Bench Provider %u (research institute),%s,,,\"rd,testing\"\r\n",
                k.uscc, i, vkey);
    }
    for (unsigned i = 0; i < nsme; i++) {
        char related[64] = "", group[32] = "";
        make_key('s', i, &k);
        ivl_vkey_format(k.name, k.pk, vkey, sizeof vkey);
        if (i % 10 == 0 && nprov) { /* a related provider, never chosen for this SME below */
            make_key('p', i % nprov, &r);
            snprintf(related, sizeof related, "%s", r.uscc);
        }
        if (i % 20 == 5) snprintf(group, sizeof group, "Holding %u", i / 100);
        fprintf(f, "sme,%s,Bench Enterprise %u Co. Ltd.,%s,%s,%s,\r\n", k.uscc, i, vkey, related,
                group);
    }
    make_key('f', 0, &k);
    ivl_vkey_format(k.name, k.pk, vkey, sizeof vkey);
    fprintf(f, "finance,%s,County Finance Bureau,%s,,,\r\n", k.uscc, vkey);
    make_key('a', 1, &k);
    ivl_vkey_format(k.name, k.pk, vkey, sizeof vkey);
    fprintf(f, "auditor,%s,County Audit Bureau,%s,,,\r\n", k.uscc, vkey);
    return fclose(f) ? 1 : 0;
}

static int cmd_issues(int argc, char **argv)
{
    if (argc != 7) return 2;
    unsigned nsme = to_u(argv[3]), from = to_u(argv[4]), count = to_u(argv[5]);
    FILE *f = fopen(argv[2], "w");
    if (!f) die(argv[2], 0);
    fprintf(f, "uscc,amount\r\n");
    for (unsigned i = from; i < from + count; i++) {
        char u[IVL_USCC_LEN + 1];
        make_uscc('s', (i * 2654435761u) % nsme, u);
        fprintf(f, "%s,%s\r\n", u, argv[6]);
    }
    return fclose(f) ? 1 : 0;
}

/* ---- flow: redeem, claim, approve, pay ---- */

struct signer {
    const uint8_t *sk;           /* raw libsodium secret key, or */
    const struct ivl_seckey *k;  /* a loaded key file (the authority) */
    const char *uscc;
};

struct job {
    struct ivl_entry *es;
    struct signer (*who)[2];
    size_t from, to;
    const char *origin;
    int rc;
};

static void *sign_range(void *arg)
{
    struct job *j = arg;
    for (size_t i = j->from; !j->rc && i < j->to; i++) {
        struct ivl_entry *e = &j->es[i];
        struct ivl_buf body = {0}, msg = {0};
        int rc = ivl_body_encode(e, &body);
        if (!rc) rc = ivl_sig_message(j->origin, body.p, body.len, &msg);
        for (unsigned s = 0; !rc && s < e->n_sigs; s++) {
            const struct signer *w = &j->who[i][s];
            snprintf(e->sigs[s].signer, sizeof e->sigs[s].signer, "%s", w->uscc);
            if (w->k)
                rc = ivl_key_sign(w->k, msg.p, msg.len, e->sigs[s].sig);
            else
                crypto_sign_detached(e->sigs[s].sig, NULL, msg.p, msg.len, w->sk);
        }
        ivl_buf_free(&body);
        ivl_buf_free(&msg);
        j->rc = rc;
    }
    return NULL;
}

static int sign_all(struct ivl_entry *es, struct signer (*who)[2], size_t n, const char *origin,
                    unsigned jobs)
{
    pthread_t th[64];
    struct job j[64];
    if (jobs < 1) jobs = 1;
    if (jobs > 64) jobs = 64;
    size_t per = (n + jobs - 1) / jobs;
    for (unsigned t = 0; t < jobs; t++) {
        j[t] = (struct job){es, who, t * per < n ? t * per : n, (t + 1) * per < n ? (t + 1) * per : n,
                            origin, 0};
        if (t && pthread_create(&th[t], NULL, sign_range, &j[t])) die("pthread_create", 0);
    }
    sign_range(&j[0]);
    int rc = j[0].rc;
    for (unsigned t = 1; t < jobs; t++) {
        pthread_join(th[t], NULL);
        if (!rc) rc = j[t].rc;
    }
    return rc;
}

struct voucher {
    uint8_t id[IVL_ID_LEN];
    unsigned sme;
    uint64_t remaining;
};

struct cycle {
    uint8_t red[IVL_ID_LEN], claim[IVL_ID_LEN];
    unsigned sme, prov;
    size_t voucher;
    uint64_t amount;
};

static int cmd_flow(int argc, char **argv)
{
    if (argc != 9 && argc != 10) return 2;
    const char *dir = argv[2], *authp = argv[3];
    unsigned nsme = to_u(argv[4]), nprov = to_u(argv[5]);
    size_t cycles = strtoull(argv[6], NULL, 10), batch = strtoull(argv[7], NULL, 10);
    int64_t now = strtoll(argv[8], NULL, 10);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned jobs = argc == 10 ? to_u(argv[9]) : (unsigned)(cores > 0 ? cores : 1);
    struct ivl_ledger *l;
    struct ivl_seckey *auth;
    int rc;
    if ((rc = ivl_ledger_open(dir, &l))) die(dir, rc);
    if ((rc = ivl_key_load(authp, NULL, NULL, &auth))) die(authp, rc);

    struct party_key *smes = calloc(nsme, sizeof *smes), *provs = calloc(nprov, sizeof *provs),
                     fin;
    for (unsigned i = 0; i < nsme; i++) make_key('s', i, &smes[i]);
    for (unsigned i = 0; i < nprov; i++) make_key('p', i, &provs[i]);
    make_key('f', 0, &fin);

    /* The vouchers with money left, from the state table. */
    struct ivl_state st;
    char origin[IVL_MAX_ORIGIN + 1];
    size_t nv = 0, capv = 1024;
    struct voucher *vs = malloc(capv * sizeof *vs);
    if ((rc = ivl_ledger_begin(l, &st))) die("begin", rc);
    snprintf(origin, sizeof origin, "%s", st.origin);
    MDB_cursor *cur;
    MDB_val k, v;
    if (mdb_cursor_open(st.txn, st.dbi[IVL_DB_VOUCHERS], &cur)) die("cursor", 0);
    for (int r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
         r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct ivl_voucher_rec rec;
        if ((rc = ivl_rec_voucher(&k, &v, &rec))) die("voucher record", rc);
        if (rec.status != IVL_V_ACTIVE || rec.remaining < 400) continue;
        if (strncmp(rec.holder, "91140521MA", 10)) continue;
        if (nv == capv) vs = realloc(vs, (capv *= 2) * sizeof *vs);
        memcpy(vs[nv].id, rec.id, IVL_ID_LEN);
        char digits[8];
        memcpy(digits, rec.holder + 10, 7); /* the 7-digit index, not the check character */
        digits[7] = 0;
        vs[nv].sme = (unsigned)strtoul(digits, NULL, 10) % nsme;
        vs[nv].remaining = rec.remaining;
        nv++;
    }
    mdb_cursor_close(cur);
    ivl_ledger_end(&st);
    if (!nv) die("no vouchers with money left", 0);

    /* Plan the cycles: each voucher gives a quarter of its remaining value per redemption. */
    struct cycle *cy = calloc(cycles ? cycles : 1, sizeof *cy);
    size_t vi = 0;
    for (size_t c = 0; c < cycles; c++) {
        size_t tries = 0;
        while (vs[vi].remaining < 400) {
            vi = (vi + 1) % nv;
            if (++tries > nv) die("vouchers exhausted (fewer cycles, please)", 0);
        }
        struct voucher *w = &vs[vi];
        uint64_t amt = w->remaining / 4 >= 100 ? w->remaining / 4 : w->remaining;
        amt -= amt % 100; /* whole yuan */
        w->remaining -= amt;
        cy[c].voucher = vi;
        cy[c].sme = w->sme;
        unsigned rel = w->sme % nprov; /* the related provider of every 10th SME */
        cy[c].prov = nprov > 1 ? (rel + 1 + (unsigned)(c % (nprov - 1))) % nprov : 0;
        cy[c].amount = amt;
        ivl_id_generate(cy[c].red);
        ivl_id_generate(cy[c].claim);
        vi = (vi + 1) % nv;
    }

    /* Interleave the stages as a pipeline: redeem c, claim c-D, approve c-2D, pay c-3D. */
    const size_t D = 64;
    size_t total = 4 * cycles, done = 0;
    struct ivl_entry *es = calloc(batch + 4, sizeof *es);
    struct signer (*who)[2] = calloc(batch + 4, sizeof *who);
    struct ivl_appended *out = calloc(batch + 4, sizeof *out);
    double t0 = now_s(), t_sign = 0, t_app = 0;
    uint64_t nsigs = 0;
    size_t t = 0, n = 0;
    while (done < total) {
        n = 0; /* fill one batch (a step adds up to 4 entries: room for 3 over) */
        for (; n < batch && t < cycles + 3 * D + 1; t++) {
            for (int stage = 0; stage < 4; stage++) {
                if (t < (size_t)stage * D || t - (size_t)stage * D >= cycles) continue;
                struct cycle *c = &cy[t - (size_t)stage * D];
                struct ivl_entry *e = &es[n];
                memset(e, 0, sizeof *e);
                e->signed_at = now;
                e->n_sigs = 1;
                if (stage == 0) {
                    e->type = IVL_T_REDEEM;
                    memcpy(e->id, c->red, IVL_ID_LEN);
                    struct ivl_redeem *r = &e->u.redeem;
                    memcpy(r->voucher, vs[c->voucher].id, IVL_ID_LEN);
                    snprintf(r->sme, sizeof r->sme, "%s", smes[c->sme].uscc);
                    snprintf(r->provider, sizeof r->provider, "%s", provs[c->prov].uscc);
                    randombytes_buf(r->contract, sizeof r->contract);
                    r->amount = c->amount;
                    r->contract_amount = 2 * c->amount;
                    r->category = IVL_CAT_RD;
                    e->n_sigs = 2;
                    who[n][0] = (struct signer){smes[c->sme].sk, NULL, smes[c->sme].uscc};
                    who[n][1] = (struct signer){provs[c->prov].sk, NULL, provs[c->prov].uscc};
                } else if (stage == 1) {
                    e->type = IVL_T_CLAIM;
                    memcpy(e->id, c->claim, IVL_ID_LEN);
                    memcpy(e->u.claim.redemption, c->red, IVL_ID_LEN);
                    e->u.claim.amount = c->amount;
                    randombytes_buf(e->u.claim.invoice, sizeof e->u.claim.invoice);
                    who[n][0] = (struct signer){provs[c->prov].sk, NULL, provs[c->prov].uscc};
                } else if (stage == 2) {
                    e->type = IVL_T_APPROVE;
                    ivl_id_generate(e->id);
                    memcpy(e->u.target.target, c->claim, IVL_ID_LEN);
                    who[n][0] = (struct signer){NULL, auth, AUTH_USCC};
                } else {
                    e->type = IVL_T_PAY;
                    ivl_id_generate(e->id);
                    memcpy(e->u.target.target, c->claim, IVL_ID_LEN);
                    snprintf(e->u.target.text, sizeof e->u.target.text, "ICBC-2026-%010zu",
                             (size_t)(c - cy));
                    who[n][0] = (struct signer){fin.sk, NULL, fin.uscc};
                }
                nsigs += e->n_sigs;
                n++;
            }
        }
        if (!n) break;
        double a = now_s();
        if ((rc = sign_all(es, who, n, origin, jobs))) die("sign", rc);
        double b = now_s();
        size_t failed = 0;
        rc = ivl_ledger_append(l, es, n, now, IVL_APPEND_CLAMP_TIME, out, &failed);
        if (rc) {
            char m[64];
            snprintf(m, sizeof m, "append (batch item %zu, type %s)", failed,
                     ivl_type_name(es[failed].type));
            die(m, rc);
        }
        t_app += now_s() - b;
        t_sign += b - a;
        done += n;
    }
    printf("{\"entries\":%zu,\"signatures\":%llu,\"seconds\":%.6f,\"sign_seconds\":%.6f,"
           "\"append_seconds\":%.6f}\n",
           done, (unsigned long long)nsigs, now_s() - t0, t_sign, t_app);
    free(es);
    free(who);
    free(out);
    free(cy);
    free(vs);
    free(smes);
    free(provs);
    ivl_key_free(auth);
    ivl_ledger_close(l);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) die("sodium_init", 0);
    int rc = 2;
    if (argc >= 2 && !strcmp(argv[1], "parties")) rc = cmd_parties(argc, argv);
    else if (argc >= 2 && !strcmp(argv[1], "issues")) rc = cmd_issues(argc, argv);
    else if (argc >= 2 && !strcmp(argv[1], "flow")) rc = cmd_flow(argc, argv);
    if (rc == 2)
        fprintf(stderr, "usage: bench_gen parties OUT.csv NSME NPROV\n"
                        "       bench_gen issues OUT.csv NSME FROM COUNT AMOUNT\n"
                        "       bench_gen flow DIR AUTH.key NSME NPROV CYCLES BATCH NOW_UNIX [JOBS]\n");
    return rc;
}
