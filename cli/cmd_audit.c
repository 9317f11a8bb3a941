/*
 * cmd_audit.c - the auditor's commands: verify, checkpoints, proofs,
 * attestation, export and import of replicas.
 */
#include "cli.h"
#include "fileio.h"
#include "merkle.h"
#include "note.h"
#include "parse.h"
#include "progress.h"
#include "jsonscan.h"
#include "proof.h"

#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NOTE_FILE   (64u << 10)
#define MAX_EXPORT_FILE ((size_t)16 << 30)

#define PARSE(opts, pos, max, np)                                                                  \
    do {                                                                                           \
        int rc_ = cli_parse(c, argc, argv, opts, pos, max, np);                                    \
        if (rc_) return rc_ < 0 ? 0 : cli_error(c, rc_);                                           \
    } while (0)

json_t *cli_ledger_summary(struct cli *c);
void cli_print_summary(json_t *s);

static int open_read(struct cli *c, struct ivl_state *st)
{
    int rc = cli_open(c);
    return rc ? rc : ivl_ledger_begin(c->l, st);
}

static const char *tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

/* ---- verify ---- */

/* The auditor's cache directory: --cache DIR, else $XDG_CACHE_HOME/ivl, else
 * ~/.cache/ivl; NULL (a temporary replay only) with --no-cache or no home. */
static const char *cache_dir(const char *flag, int off, char *buf, size_t n)
{
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (off) return NULL;
    if (flag) return flag;
    if (x && *x == '/')
        snprintf(buf, n, "%s/ivl", x);
    else if (home && *home == '/')
        snprintf(buf, n, "%s/.cache/ivl", home);
    else
        return NULL;
    return buf;
}

static int read_from_checkpoint(struct cli *c, const char *path, struct ivl_verify_opts *o)
{
    char *buf;
    size_t n;
    struct ivl_state st;
    int rc = ivl_file_read(path, MAX_NOTE_FILE, &buf, &n);
    if (rc) return rc;
    if (!(rc = open_read(c, &st))) {
        rc = ivl_ledger_open_checkpoint(&st, buf, n, &o->from_size, o->from_root, NULL);
        if (rc == IVL_E_BAD_CHECKPOINT || rc == IVL_E_BAD_NOTE)
            rc = ivl_fail(IVL_E_FORK, _("--from %s: %s"), path, ivl_err_detail(rc));
        ivl_ledger_end(&st);
    }
    free(buf);
    o->have_from = 1;
    return rc;
}

/* The log key the auditor trusts (--log-pub FILE) must be the one the
 * genesis entry fixed: otherwise this is another log, whatever it contains. */
static int check_pinned(const char *path, const char *origin, const uint8_t pub[32]);
static int read_vkey_file(const char *path, const char *flag, struct ivl_vkey *k);

static int check_pinned(const char *path, const char *origin, const uint8_t pub[32])
{
    struct ivl_vkey k;
    int rc = read_vkey_file(path, "--log-pub", &k);
    if (rc) return rc;
    if (strcmp(k.name, origin) || memcmp(k.pub, pub, 32))
        return ivl_fail(IVL_E_FORK,
                        _("this log (%s) is not signed by the log key in %s (%s): it is "
                          "another log"),
                        origin, path, k.name);
    return 0;
}

static int check_pinned_ledger(struct cli *c, const char *path)
{
    struct ivl_state st;
    uint8_t pub[32];
    int rc = open_read(c, &st);
    if (rc) return rc;
    rc = ivl_ledger_log_pub(&st, pub);
    if (!rc) rc = check_pinned(path, st.origin, pub);
    ivl_ledger_end(&st);
    return rc;
}

static int run_verify(struct cli *c, struct ivl_verify_opts *o, struct ivl_verify_report *rep)
{
    memset(rep, 0, sizeof *rep); /* reported even when the ledger does not open */
    rep->bad_seq = UINT64_MAX;
    int rc = cli_open(c);
    if (!rc) {
        cli_progress_begin(c, CLI_PHASE_VERIFY);
        rc = ivl_verify(c->l, o, rep);
        cli_progress_end(c);
    }
    /* Whatever the log breaks, the verdict is "verification failed". */
    if (rc && ivl_err_exit(rc) != IVL_EXIT_IO && ivl_err_exit(rc) != IVL_EXIT_VERIFY)
        rc = ivl_fail(IVL_E_TAMPERED, "%s", ivl_err_detail(rc));
    return rc;
}

int cmd_verify(struct cli *c, int argc, char **argv)
{
    const char *from = NULL, *jobs = NULL, *pin = NULL, *cache = NULL, *nocache = NULL;
    struct cli_opt opts[] = {{"--from", OPT_STR, &from},         {"--jobs", OPT_STR, &jobs},
                             {"--log-pub", OPT_STR, &pin},       {"--cache", OPT_STR, &cache},
                             {"--no-cache", OPT_FLAG, &nocache}, {0}};
    PARSE(opts, NULL, 0, NULL);
    struct ivl_verify_opts o = {0};
    struct ivl_verify_report rep;
    char cbuf[PATH_MAX];
    uint64_t j = 0;
    int rc = 0;
    if (cache && nocache)
        return cli_error(c, ivl_fail(IVL_E_USAGE, _("--cache and --no-cache exclude each other")));
    if (cache && !*cache)
        return cli_error(c, ivl_fail(IVL_E_USAGE, _("--cache needs a directory")));
    o.cache_dir = cache_dir(cache, nocache != NULL, cbuf, sizeof cbuf);
    if (jobs && (rc = cli_u64(jobs, "--jobs", &j))) return cli_error(c, rc);
    if (jobs && (j < 1 || j > 64))
        return cli_error(c, ivl_fail(IVL_E_USAGE, _("--jobs must be 1 to 64")));
    o.jobs = (unsigned)j;
    o.tmpdir = tmpdir();
    if (pin && (rc = check_pinned_ledger(c, pin))) return cli_error(c, rc);
    if (from && (rc = read_from_checkpoint(c, from, &o))) return cli_error(c, rc);
    rc = run_verify(c, &o, &rep);
    char hex[65];
    cli_hex(rep.root, 32, hex);
    if (c->json) {
        json_t *jv = json_pack("{s:b,s:I,s:s,s:I,s:I,s:I,s:f}", "ok", rc == 0, "size",
                               (json_int_t)rep.size, "root", hex, "entries",
                               (json_int_t)rep.entries, "signatures", (json_int_t)rep.signatures,
                               "checkpoints", (json_int_t)rep.checkpoints, "seconds", rep.seconds);
        if (o.have_from) {
            json_object_set_new(jv, "from_size", json_integer((json_int_t)o.from_size));
            json_object_set_new(jv, "signatures_skipped",
                                json_integer((json_int_t)rep.skipped_signatures));
        }
        json_object_set_new(jv, "replayed", json_integer((json_int_t)rep.replayed));
        json_object_set_new(
            jv, "cache",
            rep.cache_dir[0] ? json_pack("{s:s,s:I,s:b}", "dir", rep.cache_dir, "replayed_from",
                                         (json_int_t)rep.cache_from, "rebuilt", rep.cache_rebuilt)
                             : json_null());
        json_t *bt = json_object();
        for (int t = 1; t <= IVL_T_MAX; t++)
            if (rep.by_type[t])
                json_object_set_new(bt, ivl_type_name(t), json_integer((json_int_t)rep.by_type[t]));
        json_object_set_new(jv, "by_type", bt);
        if (!rc) json_object_set_new(jv, "summary", cli_ledger_summary(c));
        if (rc) {
            json_object_set_new(
                jv, "error",
                json_pack("{s:s,s:s}", "code", ivl_err_code(rc), "message", ivl_err_detail(rc)));
            if (rep.bad_seq != UINT64_MAX)
                json_object_set_new(jv, "bad_entry", json_integer((json_int_t)rep.bad_seq));
            if (rep.bad_table[0]) json_object_set_new(jv, "bad_table", json_string(rep.bad_table));
        }
        cli_json_out(jv);
        return rc ? cli_error(c, rc) : 0;
    }
    if (rc) return cli_error(c, rc);
    printf(_("ledger verified: %llu entries, %llu signatures checked"),
           (unsigned long long)rep.entries, (unsigned long long)rep.signatures);
    if (o.have_from)
        printf(_(" (entries before %llu covered by the consistency proof from the checkpoint)"),
               (unsigned long long)o.from_size);
    if (rep.cache_from)
        printf(_("\n  %llu entries replayed onto the state verified here at size %llu (%s)"),
               (unsigned long long)rep.replayed, (unsigned long long)rep.cache_from, rep.cache_dir);
    if (rep.cache_rebuilt)
        printf(_("\n  the verification cache did not match the log and was made again from "
                 "entry 0 (%s)"),
               rep.cache_dir);
    printf(_("\n  root %s at size %llu\n  %llu stored checkpoints match, every table equals the "
             "replayed log\n  "),
           hex, (unsigned long long)rep.size, (unsigned long long)rep.checkpoints);
    for (int t = 1; t <= IVL_T_MAX; t++)
        if (rep.by_type[t])
            printf("%s %llu  ", ivl_type_name(t), (unsigned long long)rep.by_type[t]);
    printf("\n");
    json_t *sum = cli_ledger_summary(c);
    cli_print_summary(sum);
    json_decref(sum);
    printf(_("  %.3f s\n"), rep.seconds);
    return 0;
}

/* ---- checkpoints ---- */

int cmd_checkpoint(struct cli *c, int argc, char **argv)
{
    PARSE(NULL, NULL, 0, NULL);
    struct ivl_state st;
    char *note = NULL;
    int rc = open_read(c, &st);
    if (rc) return cli_error(c, rc);
    rc = ivl_ledger_checkpoint(c->l, &st, 0, &note);
    ivl_ledger_end(&st);
    if (rc) return cli_error(c, rc);
    if (c->json)
        cli_json_out(json_pack("{s:s}", "checkpoint", note));
    else
        fputs(note, stdout);
    free(note);
    return 0;
}

static int read_vkey_file(const char *path, const char *flag, struct ivl_vkey *k)
{
    char *buf;
    size_t n;
    int rc = cli_need(path, flag);
    if (!rc) rc = ivl_file_read(path, 4096, &buf, &n);
    if (rc) return rc;
    rc = ivl_vkey_parse(buf, n, k);
    free(buf);
    if (rc)
        return ivl_fail(IVL_E_INPUT, _("%s %s is not a verifier key: %s"), flag, path,
                        ivl_err_detail(rc));
    return 0;
}

int cmd_checkpoint_verify(struct cli *c, int argc, char **argv)
{
    const char *pub = NULL, *pos[1];
    int np;
    struct cli_opt opts[] = {{"--pub", OPT_STR, &pub}, {0}};
    PARSE(opts, pos, 1, &np);
    if (np != 1)
        return cli_error(c, ivl_fail(IVL_E_USAGE, _("checkpoint verify needs a checkpoint file")));
    struct ivl_vkey k;
    char *buf;
    size_t n, tl;
    uint32_t mask;
    char origin[256], hex[65];
    uint64_t size;
    uint8_t root[32];
    int rc = read_vkey_file(pub, "--pub", &k);
    if (!rc) rc = cli_read_input(pos[0], MAX_NOTE_FILE, &buf, &n);
    if (rc) return cli_error(c, rc);
    rc = ivl_note_open(buf, n, &k, 1, &tl, &mask);
    if (!rc) rc = ivl_checkpoint_parse(buf, tl, origin, sizeof origin, &size, root);
    free(buf);
    if (rc)
        return cli_error(c,
                         ivl_fail(ivl_err_exit(rc) == IVL_EXIT_VERIFY ? rc : IVL_E_BAD_CHECKPOINT,
                                  "%s: %s", pos[0], ivl_err_detail(rc)));
    cli_hex(root, 32, hex);
    if (c->json)
        cli_json_out(json_pack("{s:b,s:s,s:I,s:s,s:s}", "ok", 1, "origin", origin, "size",
                               (json_int_t)size, "root", hex, "key", k.name));
    else
        printf(_("checkpoint verified with key %s\n  origin %s\n  size   %llu\n  root   %s\n"),
               k.name, origin, (unsigned long long)size, hex);
    return 0;
}

/* ---- proofs ---- */

static json_t *hashes_json(uint8_t (*h)[32], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, cli_json_hex(h[i], 32));
    return a;
}

int cmd_proof_inclusion(struct cli *c, int argc, char **argv)
{
    const char *size = NULL, *pos[1];
    int np;
    struct cli_opt opts[] = {{"--size", OPT_STR, &size}, {0}};
    PARSE(opts, pos, 1, &np);
    uint64_t seq, sz = 0;
    int rc = np == 1 ? cli_u64(pos[0], "SEQ", &seq)
                     : ivl_fail(IVL_E_USAGE, _("proof inclusion needs SEQ"));
    if (!rc && size) rc = cli_u64(size, "--size", &sz);
    if (rc) return cli_error(c, rc);
    struct ivl_state st;
    struct ivl_head h;
    uint8_t hashes[IVL_MERKLE_MAX_PROOF][32], leaf[32];
    size_t n;
    char *note = NULL;
    if ((rc = open_read(c, &st))) return cli_error(c, rc);
    rc = ivl_st_head(&st, &h);
    if (!size) sz = h.size;
    if (!rc) rc = ivl_ledger_inclusion(&st, seq, sz, leaf, hashes, &n);
    if (!rc) rc = ivl_ledger_checkpoint(c->l, &st, sz, &note);
    ivl_ledger_end(&st);
    if (rc) return cli_error(c, rc);
    cli_json_out(json_pack("{s:I,s:I,s:o,s:o,s:s}", "index", (json_int_t)seq, "tree_size",
                           (json_int_t)sz, "leaf_hash", cli_json_hex(leaf, 32), "hashes",
                           hashes_json(hashes, n), "checkpoint", note));
    free(note);
    return 0;
}

int cmd_proof_consistency(struct cli *c, int argc, char **argv)
{
    const char *pos[2];
    int np;
    PARSE(NULL, pos, 2, &np);
    uint64_t o, nw = 0;
    int rc = np >= 1 ? cli_u64(pos[0], "OLD", &o)
                     : ivl_fail(IVL_E_USAGE, _("proof consistency needs OLD"));
    if (!rc && np == 2) rc = cli_u64(pos[1], "NEW", &nw);
    if (rc) return cli_error(c, rc);
    struct ivl_state st;
    struct ivl_head h;
    uint8_t hashes[IVL_MERKLE_MAX_PROOF][32], r1[32], r2[32];
    size_t n;
    char *n1 = NULL, *n2 = NULL;
    if ((rc = open_read(c, &st))) return cli_error(c, rc);
    rc = ivl_st_head(&st, &h);
    if (np < 2) nw = h.size;
    if (!rc) rc = ivl_ledger_consistency(&st, o, nw, hashes, &n);
    if (!rc) rc = ivl_ledger_root(&st, o, r1);
    if (!rc) rc = ivl_ledger_root(&st, nw, r2);
    if (!rc) rc = ivl_ledger_checkpoint_at(c->l, &st, o, r1, &n1);
    if (!rc) rc = ivl_ledger_checkpoint_at(c->l, &st, nw, r2, &n2);
    ivl_ledger_end(&st);
    if (rc) {
        free(n1);
        return cli_error(c, rc);
    }
    cli_json_out(json_pack("{s:I,s:I,s:o,s:o,s:o,s:s,s:s}", "old_size", (json_int_t)o, "new_size",
                           (json_int_t)nw, "old_root", cli_json_hex(r1, 32), "new_root",
                           cli_json_hex(r2, 32), "hashes", hashes_json(hashes, n), "old_checkpoint",
                           n1, "new_checkpoint", n2));
    free(n1);
    free(n2);
    return 0;
}

int cmd_proof_check(struct cli *c, int argc, char **argv)
{
    const char *pub = NULL, *pos[1];
    int np;
    struct cli_opt opts[] = {{"--log-pub", OPT_STR, &pub}, {0}};
    PARSE(opts, pos, 1, &np);
    if (np != 1) return cli_error(c, ivl_fail(IVL_E_USAGE, _("proof check needs a proof file")));
    struct ivl_vkey k;
    struct ivl_proof_result res;
    char *buf;
    size_t n;
    int rc = read_vkey_file(pub, "--log-pub", &k);
    if (!rc) rc = cli_read_input(pos[0], IVL_PROOF_MAX, &buf, &n);
    if (rc) return cli_error(c, rc);
    rc = ivl_proof_check_json(buf, n, &k, &res);
    free(buf);
    const char *kind = ivl_proof_kind_name(res.kind);
    if (rc && res.kind == IVL_PROOF_NONE)
        return cli_error(c, ivl_fail(rc, _("%s is %s"), pos[0], ivl_err_detail(rc)));
    if (rc)
        return cli_error(
            c, ivl_fail(rc, _("%s proof %s: %s"),
                        res.kind == IVL_PROOF_INCLUSION ? _("inclusion") : _("consistency"), pos[0],
                        ivl_err_detail(rc)));
    if (c->json)
        cli_json_out(json_pack("{s:b,s:s}", "ok", 1, "kind", kind));
    else if (res.kind == IVL_PROOF_INCLUSION)
        printf(_("inclusion proof verified: entry %llu is in the log of size %llu signed by %s\n"),
               (unsigned long long)res.index, (unsigned long long)res.tree_size, k.name);
    else
        printf(_("consistency proof verified: the log of size %llu extends the log of size %llu "
                 "(%s)\n"),
               (unsigned long long)res.new_size, (unsigned long long)res.old_size, k.name);
    return 0;
}

/* ---- attest ---- */

int cmd_attest(struct cli *c, int argc, char **argv)
{
    const char *key = NULL, *cache = NULL, *nocache = NULL;
    struct cli_opt opts[] = {{"--key", OPT_STR, &key},
                             {"--cache", OPT_STR, &cache},
                             {"--no-cache", OPT_FLAG, &nocache},
                             {0}};
    PARSE(opts, NULL, 0, NULL);
    struct ivl_seckey *k = NULL;
    struct ivl_party_rec aud;
    struct ivl_verify_opts o = {0};
    struct ivl_verify_report rep;
    struct ivl_entry e = {0};
    struct ivl_state st;
    char text[512], line[IVL_NOTE_SIGLINE_MAX + 1], *note = NULL;
    int rc = cli_open(c);
    if (!rc) rc = cli_load_key(c, key, &k);
    if (!rc) rc = cli_key_party(c, k, IVL_ROLE_AUDITOR, &aud);
    char cbuf[PATH_MAX];
    if (!rc && cache && nocache)
        rc = ivl_fail(IVL_E_USAGE, _("--cache and --no-cache exclude each other"));
    if (!rc && cache && !*cache) rc = ivl_fail(IVL_E_USAGE, _("--cache needs a directory"));
    o.tmpdir = tmpdir();
    o.cache_dir = cache_dir(cache, nocache != NULL, cbuf, sizeof cbuf);
    if (!rc) rc = run_verify(c, &o, &rep);
    if (rc) {
        ivl_key_free(k);
        return cli_error(c, rc);
    }
    cli_new_entry(c, &e, IVL_T_ATTEST);
    e.u.attest.size = rep.size;
    memcpy(e.u.attest.root, rep.root, 32);
    if (!(rc = ivl_ledger_begin(c->l, &st))) {
        rc = ivl_checkpoint_format(st.origin, rep.size, rep.root, text, sizeof text);
        if (!rc) rc = ivl_key_sign(k, (const uint8_t *)text, strlen(text), e.u.attest.note_sig);
        if (!rc)
            rc = ivl_note_sign_line(text, strlen(text), ivl_key_name(k), ivl_key_secret(k), line,
                                    sizeof line);
        if (!rc) rc = cli_sign(st.origin, &e, 0, aud.p.uscc, k);
        ivl_ledger_end(&st);
    }
    ivl_key_free(k);
    if (rc) return cli_error(c, rc);
    struct ivl_appended out;
    size_t failed;
    rc = ivl_ledger_append(c->l, &e, 1, c->now, c->time_flags, &out, &failed);
    if (!rc && !(rc = ivl_ledger_begin(c->l, &st))) {
        rc = ivl_ledger_checkpoint(c->l, &st, rep.size, &note);
        ivl_ledger_end(&st);
    }
    if (!rc && c->receipt) rc = cli_write_receipt(c, out.seq);
    if (rc) {
        free(note);
        return cli_error(c, rc);
    }
    char id[37], hex[65];
    cli_hex(out.leaf_hash, 32, hex);
    if (c->json)
        cli_json_out(json_pack("{s:I,s:s,s:s,s:s,s:I,s:s+}", "seq", (json_int_t)out.seq, "type",
                               "attest", "id", cli_id_str(e.id, id), "leaf_hash", hex, "tree_size",
                               (json_int_t)rep.size, "checkpoint", note, line));
    else
        printf("%s%s", note, line);
    free(note);
    return 0;
}

/* ---- export and import ---- */

int cmd_export(struct cli *c, int argc, char **argv)
{
    const char *from = NULL, *outp = NULL;
    struct cli_opt opts[] = {{"--from", OPT_STR, &from}, {"--out", OPT_STR, &outp}, {0}};
    PARSE(opts, NULL, 0, NULL);
    uint64_t f = 0;
    int rc = cli_need(outp, "--out");
    if (!rc && from) rc = cli_u64(from, "--from", &f);
    if (rc) return cli_error(c, rc);
    struct ivl_state st;
    struct ivl_head h;
    char tmp[PATH_MAX], *note = NULL;
    int to_stdout = !strcmp(outp, "-");
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", outp, (int)getpid());
    if ((rc = open_read(c, &st))) return cli_error(c, rc);
    FILE *fp = to_stdout ? stdout : fopen(tmp, "wx");
    if (!fp) {
        ivl_ledger_end(&st);
        return cli_error(c, ivl_fail(errno == ENOSPC ? IVL_E_NOSPACE : IVL_E_IO,
                                     _("cannot write %s: %s"), tmp, strerror(errno)));
    }
    rc = ivl_ledger_check_head(&st, &h);
    if (!rc && f > h.size)
        rc = ivl_fail(IVL_E_USAGE, _("--from %llu is beyond the log's %llu entries"),
                      (unsigned long long)f, (unsigned long long)h.size);
    for (uint64_t s = f; !rc && s < h.size; s++) {
        struct ivl_entry e;
        const uint8_t *leaf;
        size_t len;
        if ((rc = ivl_ledger_leaf(&st, s, &leaf, &len)) ||
            (rc = ivl_ledger_entry_checked(&st, &h, s, &e)))
            break;
        json_t *j = cli_entry_json(&e);
        char *b64 = malloc(sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL));
        if (b64) {
            sodium_bin2base64(b64, sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL),
                              leaf, len, sodium_base64_VARIANT_ORIGINAL);
            json_object_set_new(j, "leaf", json_string(b64));
        }
        char *s1 = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!b64 || !s1 || fprintf(fp, "%s\n", s1) < 0)
            rc = ivl_fail(errno == ENOSPC ? IVL_E_NOSPACE : IVL_E_IO, _("cannot write %s: %s"),
                          outp, strerror(errno));
        free(b64);
        free(s1);
        json_decref(j);
        ivl_entry_free(&e);
    }
    if (!rc) rc = ivl_ledger_checkpoint(c->l, &st, h.size, &note);
    ivl_ledger_end(&st);
    if (!rc) {
        json_t *j = json_pack("{s:s}", "checkpoint", note);
        char *s1 = json_dumps(j, JSON_COMPACT);
        if (!s1 || fprintf(fp, "%s\n", s1) < 0)
            rc = ivl_fail(errno == ENOSPC ? IVL_E_NOSPACE : IVL_E_IO, _("cannot write %s: %s"),
                          outp, strerror(errno));
        free(s1);
        json_decref(j);
    }
    free(note);
    if (to_stdout) return rc ? cli_error(c, rc) : 0;
    if (!rc && (fflush(fp) || fsync(fileno(fp))))
        rc = ivl_fail(errno == ENOSPC ? IVL_E_NOSPACE : IVL_E_IO, _("cannot write %s: %s"), outp,
                      strerror(errno));
    if (fclose(fp) && !rc) rc = ivl_fail(IVL_E_IO, _("cannot write %s: %s"), outp, strerror(errno));
    if (!rc && rename(tmp, outp))
        rc = ivl_fail(IVL_E_IO, _("cannot rename %s: %s"), tmp, strerror(errno));
    if (rc) {
        unlink(tmp);
        return cli_error(c, rc);
    }
    ivl_dir_sync_parent(outp);
    if (c->json)
        cli_json_out(json_pack("{s:s,s:I,s:I}", "out", outp, "from", (json_int_t)f, "size",
                               (json_int_t)h.size));
    else
        printf(_("exported entries %llu to %llu to %s\n"), (unsigned long long)f,
               (unsigned long long)(h.size ? h.size - 1 : 0), outp);
    return 0;
}

/* One part of an export (whole lines), parsed on a thread of its own. */
struct export_part {
    const char *path;
    char *from, *to;
    size_t first_line; /* the number of the line before `from` */
    struct ivl_import_leaf *lv;
    size_t count, cap;
    uint8_t *arena; /* the decoded leaves */
    size_t used;
    char *note; /* a checkpoint line, and where it was */
    size_t note_line, lines;
    int rc;
    char *msg; /* the first error's message */
};

static int part_line(struct export_part *pt, char *p, size_t len, size_t line)
{
    if (pt->note)
        return ivl_fail(IVL_E_INPUT, _("%s line %zu: text after the checkpoint line"), pt->path,
                        line);
    struct ivl_json_line jl;
    json_t *j = NULL;
    uint64_t seq = 0;
    const char *leaf = NULL;
    size_t leaf_len = 0;
    int whole;
    if (ivl_json_scan_line(p, len, &jl)) { /* the plain form exports are written in */
        whole = jl.have_seq && jl.have_leaf;
        seq = jl.seq;
        leaf = jl.leaf;
        leaf_len = jl.leaf_len;
    } else { /* anything else: the full parser decides */
        json_error_t je;
        j = json_loadb(p, len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(j)) {
            json_decref(j);
            return ivl_fail(IVL_E_INPUT, _("%s line %zu: not a JSON object"), pt->path, line);
        }
        const char *cp = json_string_value(json_object_get(j, "checkpoint"));
        if (cp) {
            pt->note = strdup(cp);
            pt->note_line = line;
            json_decref(j);
            return pt->note ? 0 : ivl_fail(IVL_E_NOMEM, _("out of memory"));
        }
        json_t *js = json_object_get(j, "seq");
        leaf = json_string_value(json_object_get(j, "leaf"));
        whole = json_is_integer(js) && json_integer_value(js) >= 0 && leaf;
        if (whole) {
            seq = (uint64_t)json_integer_value(js);
            leaf_len = strlen(leaf);
        }
    }
    size_t bl, room = (size_t)(pt->to - pt->from) + 1 - pt->used;
    int rc = 0;
    if (!whole)
        rc = ivl_fail(IVL_E_INPUT, _("%s line %zu: an entry needs \"seq\" and \"leaf\""), pt->path,
                      line);
    else if (sodium_base642bin(pt->arena + pt->used, room, leaf, leaf_len, NULL, &bl, NULL,
                               sodium_base64_VARIANT_ORIGINAL))
        rc = ivl_fail(IVL_E_DECODE, _("%s line %zu: \"leaf\" is not base64"), pt->path, line);
    if (!rc && pt->count == pt->cap) {
        size_t cap = pt->cap ? pt->cap * 2 : 1024;
        struct ivl_import_leaf *nlv = realloc(pt->lv, cap * sizeof *nlv);
        if (!nlv)
            rc = ivl_fail(IVL_E_NOMEM, _("out of memory"));
        else
            pt->lv = nlv, pt->cap = cap;
    }
    if (!rc) {
        pt->lv[pt->count].seq = seq;
        pt->lv[pt->count].leaf = pt->arena + pt->used;
        pt->lv[pt->count++].len = bl;
        pt->used += bl;
    }
    json_decref(j);
    return rc;
}

static void *parse_part(void *arg)
{
    struct export_part *pt = arg;
    size_t line = pt->first_line;
    pt->arena = malloc((size_t)(pt->to - pt->from) + 1);
    if (!pt->arena) pt->rc = ivl_fail(IVL_E_NOMEM, _("out of memory"));
    for (char *p = pt->from; !pt->rc && p < pt->to;) {
        char *nl = memchr(p, '\n', (size_t)(pt->to - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(pt->to - p);
        pt->rc = part_line(pt, p, len, ++line);
        p += len + 1;
    }
    pt->lines = line - pt->first_line;
    if (pt->rc) pt->msg = strdup(ivl_err_detail(pt->rc)); /* the detail is per thread */
    return NULL;
}

#define EXPORT_PARTS_MAX 16

struct export_parse {
    struct export_part part[EXPORT_PARTS_MAX];
    int n;
};

static void export_parse_free(struct export_parse *ep)
{
    for (int i = 0; i < ep->n; i++) {
        free(ep->part[i].lv);
        free(ep->part[i].arena);
        free(ep->part[i].note);
        free(ep->part[i].msg);
    }
    ep->n = 0;
}

/* Parses an export: its leaves (decoded from base64; they point into ep's
 * arenas) and the checkpoint note of its last line. A large export is cut
 * into parts at line ends and the parts are parsed on all cores at once. */
static int parse_export(const char *path, char *buf, size_t n, struct export_parse *ep,
                        struct ivl_import_leaf **out, size_t *count, const char **note)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int parts = n < (256u << 10) || cores < 2 ? 1
                : cores > EXPORT_PARTS_MAX    ? EXPORT_PARTS_MAX
                                              : (int)cores;
    pthread_t th[EXPORT_PARTS_MAX];
    int started[EXPORT_PARTS_MAX] = {0};
    char *from = buf;
    size_t line = 0;
    *out = NULL;
    *count = 0;
    *note = NULL;
    memset(ep, 0, sizeof *ep);
    json_object_seed(0); /* before any thread makes a JSON object */
    for (int i = 0; i < parts && from < buf + n; i++) {
        char *to = i == parts - 1 ? buf + n : buf + n * (size_t)(i + 1) / (size_t)parts;
        if (to < from) to = from;
        if (to < buf + n) { /* cut after a line end */
            char *nl = memchr(to, '\n', (size_t)(buf + n - to));
            to = nl ? nl + 1 : buf + n;
        }
        struct export_part *pt = &ep->part[ep->n++];
        pt->path = path;
        pt->from = from;
        pt->to = to;
        pt->first_line = line;
        for (char *p = from; p < to && (p = memchr(p, '\n', (size_t)(to - p))); p++)
            line++;
        if (to > from && to[-1] != '\n') line++; /* a last line without its newline */
        from = to;
    }
    for (int i = 1; i < ep->n; i++)
        started[i] = !pthread_create(&th[i], NULL, parse_part, &ep->part[i]);
    if (ep->n) parse_part(&ep->part[0]);
    for (int i = 1; i < ep->n; i++)
        if (started[i])
            pthread_join(th[i], NULL);
        else
            parse_part(&ep->part[i]);
    /* The first error in the file, as if it had been read line by line. */
    size_t total = 0;
    for (int i = 0; i < ep->n; i++) {
        struct export_part *pt = &ep->part[i];
        if (pt->rc) return ivl_fail(pt->rc, "%s", pt->msg ? pt->msg : ivl_err_detail(pt->rc));
        for (int k = i + 1; pt->note && k < ep->n; k++)
            if (ep->part[k].lines)
                return ivl_fail(IVL_E_INPUT, _("%s line %zu: text after the checkpoint line"), path,
                                pt->note_line + 1);
        total += pt->count;
    }
    if (total && !(*out = malloc(total * sizeof **out)))
        return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    for (int i = 0; i < ep->n; i++) {
        if (ep->part[i].count) /* (a part may hold no entry: lv is NULL then) */
            memcpy(*out + *count, ep->part[i].lv, ep->part[i].count * sizeof **out);
        *count += ep->part[i].count;
        if (ep->part[i].note) *note = ep->part[i].note;
    }
    for (size_t i = 1; i < *count; i++)
        if ((*out)[i].seq != (*out)[i - 1].seq + 1)
            return ivl_fail(IVL_E_INPUT, _("%s: entries are not consecutive after %llu"), path,
                            (unsigned long long)(*out)[i - 1].seq);
    if (!*note)
        return ivl_fail(IVL_E_BAD_CHECKPOINT, _("%s does not end with a checkpoint line"), path);
    return 0;
}

static void write_log_pub(struct cli *c)
{
    struct ivl_state st;
    uint8_t pub[32];
    char path[PATH_MAX], line[IVL_VKEY_MAX_LEN + 2];
    struct stat sb;
    snprintf(path, sizeof path, "%s/log.pub", c->ledger_dir);
    if (!stat(path, &sb) || ivl_ledger_begin(c->l, &st)) return;
    if (!ivl_ledger_log_pub(&st, pub) && !ivl_vkey_format(st.origin, pub, line, sizeof line - 1)) {
        strcat(line, "\n");
        ivl_file_write(path, line, strlen(line), 0644, 0);
    }
    ivl_ledger_end(&st);
}

int cmd_import(struct cli *c, int argc, char **argv)
{
    const char *pos[1], *pin = NULL;
    int np;
    struct cli_opt opts[] = {{"--log-pub", OPT_STR, &pin}, {0}};
    PARSE(opts, pos, 1, &np);
    if (np != 1) return cli_error(c, ivl_fail(IVL_E_USAGE, _("import needs an export file")));
    char *buf = NULL;
    const char *note = NULL;
    size_t n, count = 0;
    struct ivl_import_leaf *leaves = NULL;
    struct export_parse ep = {0};
    struct ivl_import_report rep;
    int created = 0;
    int rc = ivl_file_read(pos[0], MAX_EXPORT_FILE, &buf, &n);
    if (!rc) rc = parse_export(pos[0], buf, n, &ep, &leaves, &count, &note);
    free(buf);
    if (!rc) {
        rc = ivl_ledger_open(c->ledger_dir, &c->l);
        if (rc == IVL_E_NO_LEDGER) {
            rc = ivl_ledger_create(c->ledger_dir, &c->l);
            created = !rc;
        }
    }
    if (!rc && pin) {
        /* Before anything is written: the log key of the replica, or of the genesis received. */
        struct ivl_entry g;
        if (count && leaves[0].seq == 0 && !ivl_leaf_decode(leaves[0].leaf, leaves[0].len, &g)) {
            rc = g.type == IVL_T_GENESIS
                     ? check_pinned(pin, g.u.genesis.origin, g.u.genesis.log_pub)
                     : ivl_fail(IVL_E_DECODE, _("entry 0 is not a genesis entry"));
            ivl_entry_free(&g);
        }
        if (!rc && !created) rc = check_pinned_ledger(c, pin);
    }
    if (!rc) {
        cli_progress_begin(c, CLI_PHASE_IMPORT);
        rc = ivl_ledger_import(c->l, leaves, count, note, strlen(note), &rep);
        cli_progress_end(c);
    }
    free(leaves);
    export_parse_free(&ep); /* the leaves and the note */
    if (rc) {
        if (created) {
            char p[PATH_MAX];
            ivl_ledger_close(c->l);
            c->l = NULL;
            snprintf(p, sizeof p, "%s/data.mdb", c->ledger_dir);
            unlink(p);
            snprintf(p, sizeof p, "%s/lock.mdb", c->ledger_dir);
            unlink(p);
        }
        return cli_error(c, rc);
    }
    write_log_pub(c);
    char hex[65];
    cli_hex(rep.root, 32, hex);
    if (c->json)
        cli_json_out(json_pack("{s:I,s:I,s:I,s:s}", "had", (json_int_t)rep.had, "added",
                               (json_int_t)rep.added, "size", (json_int_t)rep.size, "root", hex));
    else
        printf(_("imported %llu new entries (the replica held %llu); size %llu, root %s\n"),
               (unsigned long long)rep.added, (unsigned long long)rep.had,
               (unsigned long long)rep.size, hex);
    return 0;
}
