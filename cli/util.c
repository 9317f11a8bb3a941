/*
 * util.c - what every command uses: flag parsing, value parsing with the
 * flag named in the error, the one place errors become messages and exit
 * codes, passphrases, key-to-party checks, signing and appending.
 */
#include "cli.h"
#include "ed25519.h"
#include "merkle.h"
#include "fileio.h"
#include "parse.h"
#include "progress.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* ---- flags ---- */

static void cmd_help(const struct cli *c)
{
    printf("%s ivl %s\n\n", _("usage:"), c->cmd->usage);
    fputs(_(c->cmd->help), stdout);
}

int cli_parse(struct cli *c, int argc, char **argv, const struct cli_opt *opts, const char **pos,
              int maxpos, int *npos)
{
    int np = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || !a[1]) {
            if (np >= maxpos)
                return ivl_fail(IVL_E_USAGE, _("%s: unexpected argument '%s'"), c->cmd_name, a);
            pos[np++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cmd_help(c);
            return -1;
        }
        size_t nl = strcspn(a, "=");
        const char *inl = a[nl] == '=' ? a + nl + 1 : NULL;
        const struct cli_opt *o = opts;
        for (; o && o->name; o++)
            if (strlen(o->name) == nl && !strncmp(o->name, a, nl)) break;
        int receipt = c->cmd->appends && nl == 9 && !strncmp(a, "--receipt", 9);
        if ((!o || !o->name) && !receipt)
            return ivl_fail(IVL_E_USAGE, _("%s: unknown flag %.*s (see ivl %s --help)"),
                            c->cmd_name, (int)nl, a, c->cmd_name);
        if (!receipt && o->kind == OPT_FLAG) {
            if (inl) return ivl_fail(IVL_E_USAGE, _("%s takes no value"), o->name);
            *o->val = "1";
            continue;
        }
        const char *v = inl;
        if (!v) {
            if (i + 1 >= argc) return ivl_fail(IVL_E_USAGE, _("%.*s needs a value"), (int)nl, a);
            v = argv[++i];
        }
        if (receipt)
            c->receipt = v;
        else
            *o->val = v;
    }
    if (npos) *npos = np;
    return 0;
}

int cli_need(const char *val, const char *flag)
{
    return val ? 0 : ivl_fail(IVL_E_USAGE, _("%s is required"), _(flag));
}

int cli_amount(const char *s, const char *flag, uint64_t *fen)
{
    int rc = cli_need(s, flag);
    if (!rc && (rc = ivl_amount_parse(s, fen)))
        return ivl_fail(rc, "%s '%s': %s", flag, s, ivl_err_detail(rc));
    return rc;
}

int cli_date(const char *s, const char *flag, int64_t *t)
{
    int rc = cli_need(s, flag);
    if (!rc && (rc = ivl_date_parse(s, t)))
        return ivl_fail(rc, "%s '%s': %s", flag, s, ivl_err_detail(rc));
    return rc;
}

int cli_u64(const char *s, const char *what, uint64_t *v)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+' || (s[0] == '0' && s[1]))
        return ivl_fail(IVL_E_USAGE, _("%s '%s' is not a number"), _(what), s ? s : "");
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end || errno) return ivl_fail(IVL_E_USAGE, _("%s '%s' is not a number"), _(what), s);
    *v = x;
    return 0;
}

int cli_uscc(const char *s, const char *what)
{
    int rc = ivl_uscc_check(s);
    if (rc == IVL_E_USCC_FORMAT) return ivl_fail(rc, "%s '%s': %s", _(what), s, ivl_err_detail(rc));
    return 0; /* a wrong check digit is the rules' to judge */
}

int cli_id(const char *s, const char *what, uint8_t id[IVL_ID_LEN])
{
    if (ivl_id_parse(s, id)) return ivl_fail(IVL_E_USAGE, _("%s '%s' is not an id"), _(what), s);
    return 0;
}

int cli_text(const char *s, const char *what, size_t max)
{
    int rc = cli_need(s, what);
    if (!rc && !ivl_text_valid(s, max))
        return ivl_fail(IVL_E_USAGE,
                        _("%s must be 1 to %zu bytes of text without control characters"), _(what),
                        max);
    return rc;
}

/* ---- input ---- */

int cli_read_input(const char *path, size_t max, char **out, size_t *len)
{
    if (strcmp(path, "-")) return ivl_file_read(path, max, out, len);
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (!b) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
        ssize_t r = read(0, b + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            free(b);
            return ivl_fail(IVL_E_IO, _("cannot read standard input: %s"), strerror(errno));
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n > max) {
            free(b);
            return ivl_fail(IVL_E_TOO_LARGE, _("standard input is larger than %zu bytes"), max);
        }
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(b, cap + 1);
            if (!nb) free(b);
            b = nb;
        }
    }
    b[n] = 0;
    *out = b;
    *len = n;
    return 0;
}

/* ---- errors ---- */

int cli_error(struct cli *c, int err)
{
    const char *msg = ivl_err_detail(err);
    if (c->json) {
        json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", ivl_err_code(err), "message", msg);
        char *s = json_dumps(j, JSON_COMPACT);
        fprintf(stderr, "%s\n", s ? s : "{\"error\":{\"code\":\"out_of_memory\"}}");
        free(s);
        json_decref(j);
    } else {
        fprintf(stderr, "ivl: %s\n", msg);
    }
    return ivl_err_exit(err);
}

/* ---- ledger, keys, passphrases ---- */

int cli_open(struct cli *c)
{
    if (c->l) return 0;
    return ivl_ledger_open(c->ledger_dir, &c->l);
}

/* The terminal's state while echo is off, restored if the prompt is interrupted. */
static int tty_fd = -1;
static struct termios tty_saved;

static void on_interrupt(int sig)
{
    if (tty_fd >= 0) tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int read_tty_pass(const char *prompt, char *buf, size_t cap, size_t *len)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct termios old, t;
    if (fd < 0 || tcgetattr(fd, &old)) {
        if (fd >= 0) close(fd);
        return ivl_fail(IVL_E_KEY_NOPASS,
                        _("the key is encrypted and there is no terminal to ask for the passphrase "
                          "(set IVL_PASSPHRASE_FILE)"));
    }
    t = old;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    if (write(fd, prompt, strlen(prompt)) < 0) { /* best effort */
    }
    tty_saved = old;
    tty_fd = fd;
    void (*oint)(int) = signal(SIGINT, on_interrupt);
    void (*oterm)(int) = signal(SIGTERM, on_interrupt);
    tcsetattr(fd, TCSAFLUSH, &t);
    size_t n = 0;
    char ch;
    while (n + 1 < cap && read(fd, &ch, 1) == 1 && ch != '\n')
        buf[n++] = ch;
    tcsetattr(fd, TCSAFLUSH, &old);
    signal(SIGINT, oint);
    signal(SIGTERM, oterm);
    tty_fd = -1;
    if (write(fd, "\n", 1) < 0) {
    }
    close(fd);
    *len = n;
    return 0;
}

static int passphrase_cb(void *ctx, char *buf, size_t cap, size_t *len)
{
    const char *path = ctx;
    const char *f = getenv("IVL_PASSPHRASE_FILE");
    if (f && *f) {
        struct stat sb;
        if (stat(f, &sb) == 0 && (sb.st_mode & 077))
            return ivl_fail(IVL_E_KEY_UNSAFE,
                            _("IVL_PASSPHRASE_FILE %s is mode %04o; must be 0600 "
                              "(chmod 600 %s)"),
                            f, (unsigned)(sb.st_mode & 07777), f);
        char *data = NULL;
        size_t n = 0;
        int rc = ivl_file_read(f, cap, &data, &n);
        if (rc)
            return ivl_fail(IVL_E_KEY_NOPASS, _("IVL_PASSPHRASE_FILE %s: %s"), f,
                            ivl_err_detail(rc));
        while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
            n--; /* one line */
        memcpy(buf, data, n);
        sodium_memzero(data, n);
        free(data);
        *len = n;
        return 0;
    }
    const char *v = getenv("IVL_PASSPHRASE");
    if (v) {
        size_t n = strlen(v);
        if (n >= cap) return ivl_fail(IVL_E_KEY_NOPASS, _("IVL_PASSPHRASE is too long"));
        memcpy(buf, v, n);
        *len = n;
        return 0;
    }
    char prompt[512];
    snprintf(prompt, sizeof prompt, _("Passphrase for %s: "), path);
    return read_tty_pass(prompt, buf, cap, len);
}

int cli_new_passphrase(struct cli *c, char *buf, size_t cap, size_t *len)
{
    (void)c;
    if ((getenv("IVL_PASSPHRASE_FILE") && *getenv("IVL_PASSPHRASE_FILE")) ||
        getenv("IVL_PASSPHRASE"))
        return passphrase_cb(_("new key"), buf, cap, len);
    char *again = sodium_malloc(cap);
    size_t n2;
    if (!again) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    int rc = read_tty_pass(_("New passphrase: "), buf, cap, len);
    if (!rc) rc = read_tty_pass(_("Repeat passphrase: "), again, cap, &n2);
    if (!rc && (n2 != *len || sodium_memcmp(buf, again, n2)))
        rc = ivl_fail(IVL_E_USAGE, _("the passphrases differ"));
    if (!rc && *len == 0)
        rc = ivl_fail(IVL_E_USAGE, _("empty passphrase (use --unencrypted for a key without one)"));
    sodium_free(again);
    return rc;
}

int cli_load_key(struct cli *c, const char *path, struct ivl_seckey **k)
{
    (void)c;
    int rc = cli_need(path, "--key");
    if (rc) return rc;
    return ivl_key_load(path, passphrase_cb, (void *)path, k);
}

int cli_key_party(struct cli *c, const struct ivl_seckey *k, int role, struct ivl_party_rec *p)
{
    struct ivl_state st;
    int rc = cli_open(c);
    if (rc) return rc;
    if ((rc = ivl_ledger_begin(c->l, &st))) return rc;
    rc = ivl_ledger_key_party(&st, ivl_key_public(k), p);
    ivl_ledger_end(&st);
    if (rc) return rc;
    if (role && p->p.role != role)
        return ivl_fail(IVL_E_KEY_ROLE,
                        _("this key belongs to %s (%s), role %s; %s needs the key of a "
                          "party with role %s"),
                        p->p.uscc, p->p.name, ivl_role_name(p->p.role), c->cmd_name,
                        ivl_role_name(role));
    return 0;
}

int cli_sign(const char *origin, struct ivl_entry *e, unsigned slot, const char *uscc,
             const struct ivl_seckey *k)
{
    struct ivl_buf body = {0}, msg = {0};
    int rc = ivl_body_encode(e, &body);
    if (!rc) rc = ivl_sig_message(origin, body.p, body.len, &msg);
    if (!rc) rc = ivl_key_sign(k, msg.p, msg.len, e->sigs[slot].sig);
    if (!rc) {
        ivl_strcpy(e->sigs[slot].signer, sizeof e->sigs[slot].signer, uscc);
        if (e->n_sigs < slot + 1) e->n_sigs = slot + 1;
    }
    ivl_buf_free(&body);
    ivl_buf_free(&msg);
    return rc;
}

/* ---- signing while appending ---- */

struct cli_signer {
    char origin[IVL_MAX_ORIGIN + 1];
    ivl_uscc uscc;
    struct ivl_entry *es;
    size_t n, next; /* next chunk to claim */
    size_t built;   /* entries es[0..built) are complete and may be signed */
    const struct ivl_seckey *k;
    unsigned char *done; /* per chunk */
    int rc;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th[64];
    unsigned nth;
};

/* Signs chunk ch (all its signatures in one call, which shares work among
 * them); called without the lock, takes it to publish. */
static void sign_chunk(struct cli_signer *s, size_t ch)
{
    int rc = 0;
    size_t lo = ch * CLI_SIGN_CHUNK, n = s->n - lo < CLI_SIGN_CHUNK ? s->n - lo : CLI_SIGN_CHUNK;
    struct ivl_buf body = {0}, msg[CLI_SIGN_CHUNK] = {{0}};
    const uint8_t *mp[CLI_SIGN_CHUNK] = {0};
    size_t ml[CLI_SIGN_CHUNK] = {0};
    uint8_t sig[CLI_SIGN_CHUNK][64];
    for (size_t i = 0; !rc && i < n; i++) {
        body.len = 0;
        rc = ivl_body_encode(&s->es[lo + i], &body);
        if (!rc) rc = ivl_sig_message(s->origin, body.p, body.len, &msg[i]);
        mp[i] = msg[i].p, ml[i] = msg[i].len;
    }
    if (!rc) rc = ivl_key_sign_many(s->k, n, mp, ml, sig);
    for (size_t i = 0; !rc && i < n; i++) {
        struct ivl_entry *e = &s->es[lo + i];
        memcpy(e->sigs[0].sig, sig[i], sizeof sig[i]);
        ivl_strcpy(e->sigs[0].signer, sizeof e->sigs[0].signer, s->uscc);
        if (e->n_sigs < 1) e->n_sigs = 1;
    }
    ivl_buf_free(&body);
    for (size_t i = 0; i < n; i++)
        ivl_buf_free(&msg[i]);
    pthread_mutex_lock(&s->mu);
    if (rc && !s->rc) s->rc = rc;
    s->done[ch] = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

#define NONE_LEFT ((size_t)-1)
#define NOT_YET   ((size_t)-2)

/* The next chunk nobody has claimed; NONE_LEFT, or NOT_YET while the caller
 * is still making its entries. Caller holds the lock. */
static size_t claim(struct cli_signer *s)
{
    if (s->rc || s->next * CLI_SIGN_CHUNK >= s->n) return NONE_LEFT;
    if (s->built < s->n && (s->next + 1) * CLI_SIGN_CHUNK > s->built) return NOT_YET;
    return s->next++;
}

static void *signer_main(void *arg)
{
    struct cli_signer *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        size_t ch = claim(s);
        if (ch == NONE_LEFT) break;
        if (ch == NOT_YET) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        sign_chunk(s, ch);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* A signing thread. The fast signer's table (half a millisecond) is made
 * by the first to get here, while the appending thread still makes rows (the
 * other signing threads wait for it); a chunk the appending thread signs
 * before it is ready is signed by libsodium. Not worth it for a small
 * batch. */
static void *signer_thread(void *arg)
{
    struct cli_signer *s = arg;
    if (s->n >= CLI_FAST_SIGN_MIN) ivl_ed25519_sign_prepare();
    return signer_main(s);
}

void cli_signer_built(struct cli_signer *s, size_t built, int error)
{
    pthread_mutex_lock(&s->mu);
    s->built = built;
    if (error && !s->rc) s->rc = error; /* stop: nothing will be appended */
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int cli_signer_start(struct cli_signer **out, const char *origin, struct ivl_entry *es, size_t n,
                     size_t built, const char *uscc, const struct ivl_seckey *k)
{
    struct cli_signer *s = calloc(1, sizeof *s);
    if (!s || !(s->done = calloc(n / CLI_SIGN_CHUNK + 1, 1))) {
        free(s);
        return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    }
    snprintf(s->origin, sizeof s->origin, "%s", origin);
    snprintf(s->uscc, sizeof s->uscc, "%s", uscc);
    s->es = es;
    s->n = n;
    s->built = built;
    s->k = k;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    /* One thread per core but one: the appending thread signs too, whenever
     * the chunk it needs next is not signed yet (cli_signer_ready). */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned want = cores > 2 ? (cores > 65 ? 64 : (unsigned)cores - 1) : 1;
    for (unsigned i = 0; i < want; i++)
        if (!pthread_create(&s->th[s->nth], NULL, signer_thread, s)) s->nth++;
    *out = s;
    return 0;
}

int cli_signer_ready(void *ctx, size_t index)
{
    struct cli_signer *s = ctx;
    pthread_mutex_lock(&s->mu);
    while (!s->done[index / CLI_SIGN_CHUNK] && !s->rc) {
        size_t ch = claim(s);
        if (ch == NONE_LEFT || ch == NOT_YET) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        sign_chunk(s, ch); /* rather than wait: the chunk needed, or a later one */
        pthread_mutex_lock(&s->mu);
    }
    int rc = s->rc;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int cli_signer_finish(struct cli_signer *s)
{
    if (!s) return 0;
    pthread_mutex_lock(&s->mu);
    if (s->built < s->n) s->n = s->built; /* the caller stopped making entries */
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    signer_main(s); /* what no thread has claimed yet (an append that stopped early) */
    for (unsigned i = 0; i < s->nth; i++)
        pthread_join(s->th[i], NULL);
    int rc = s->rc;
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->done);
    free(s);
    return rc;
}

void cli_new_entry(struct cli *c, struct ivl_entry *e, int type)
{
    e->type = (uint8_t)type;
    ivl_id_generate(e->id);
    e->signed_at = c->now;
}

static int origin_of(struct cli *c, char *origin, size_t n)
{
    struct ivl_state st;
    int rc = cli_open(c);
    if (rc || (rc = ivl_ledger_begin(c->l, &st))) return rc;
    snprintf(origin, n, "%s", st.origin);
    ivl_ledger_end(&st);
    return 0;
}

int cli_append_signed(struct cli *c, struct ivl_entry *e, const char *key_path, int role)
{
    struct ivl_seckey *k = NULL;
    struct ivl_party_rec p;
    char origin[IVL_MAX_ORIGIN + 1];
    int rc = cli_open(c);
    if (!rc) rc = cli_load_key(c, key_path, &k);
    if (!rc) rc = cli_key_party(c, k, role, &p);
    if (!rc) rc = origin_of(c, origin, sizeof origin);
    if (!rc) rc = cli_sign(origin, e, 0, p.p.uscc, k);
    ivl_key_free(k);
    if (rc) return cli_error(c, rc);
    return cli_append(c, e, 1);
}

/* ---- receipts ---- */

int cli_write_receipt(struct cli *c, uint64_t seq)
{
    struct ivl_state st;
    struct ivl_head h;
    uint8_t hashes[IVL_MERKLE_MAX_PROOF][32], leaf[32];
    size_t n;
    char *note = NULL;
    int rc = ivl_ledger_begin(c->l, &st);
    if (rc) return rc;
    rc = ivl_st_head(&st, &h);
    if (!rc) rc = ivl_ledger_inclusion(&st, seq, h.size, leaf, hashes, &n);
    if (!rc) rc = ivl_ledger_checkpoint(c->l, &st, h.size, &note);
    ivl_ledger_end(&st);
    if (rc) return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, cli_json_hex(hashes[i], 32));
    json_t *j = json_pack("{s:I,s:I,s:o,s:o,s:s}", "index", (json_int_t)seq, "tree_size",
                          (json_int_t)h.size, "leaf_hash", cli_json_hex(leaf, 32), "hashes", arr,
                          "checkpoint", note);
    free(note);
    char *s = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    if (!s) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    size_t len = strlen(s);
    s[len] = '\n';
    rc = ivl_file_write(c->receipt, s, len + 1, 0644, 1);
    free(s);
    return rc;
}

int cli_print_appended(struct cli *c, const struct ivl_entry *es, size_t n,
                       const struct ivl_appended *out)
{
    char idb[37], hex[65];
    json_t *arr = c->json ? json_array() : NULL;
    struct ivl_state st;
    int have_st = 0;
    for (size_t i = 0; i < n; i++) {
        cli_id_str(es[i].id, idb);
        if (arr) {
            uint8_t lh[32];
            if (out) {
                memcpy(lh, out[i].leaf_hash, 32);
            } else {
                if (!have_st) have_st = !ivl_ledger_begin(c->l, &st);
                if (!have_st || ivl_st_node(&st, 0, es[i].seq, lh)) memset(lh, 0, 32);
            }
            cli_hex(lh, 32, hex);
            json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s}", "seq", (json_int_t)es[i].seq,
                                                 "type", ivl_type_name(es[i].type), "id", idb,
                                                 "leaf_hash", hex));
        } else if (es[i].type == IVL_T_ISSUE || es[i].type == IVL_T_REDEEM ||
                   es[i].type == IVL_T_CLAIM) {
            printf("%s\n", idb);
        } else {
            printf(_("appended entry %llu (%s) %s\n"), (unsigned long long)es[i].seq,
                   ivl_type_name(es[i].type), idb);
        }
    }
    if (have_st) ivl_ledger_end(&st);
    if (arr) {
        if (n == 1) {
            json_t *one = json_incref(json_array_get(arr, 0));
            json_decref(arr);
            arr = one;
        }
        cli_json_out(arr);
    }
    int rc = c->receipt ? cli_write_receipt(c, es[n - 1].seq) : 0;
    return rc ? cli_error(c, rc) : 0;
}

int cli_append(struct cli *c, struct ivl_entry *es, size_t n)
{
    struct ivl_appended *out = calloc(n ? n : 1, sizeof *out);
    size_t failed = 0;
    if (!out) return cli_error(c, ivl_fail(IVL_E_NOMEM, _("out of memory")));
    int rc = cli_open(c);
    if (!rc) rc = ivl_ledger_append(c->l, es, n, c->now, c->time_flags, out, &failed);
    if (rc) {
        free(out);
        if (n > 1)
            rc = ivl_fail(rc, _("item %zu: %s; nothing was appended"), failed + 1,
                          ivl_err_detail(rc));
        return cli_error(c, rc);
    }
    rc = cli_print_appended(c, es, n, out);
    free(out);
    return rc;
}
