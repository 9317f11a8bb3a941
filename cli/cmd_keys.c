/*
 * cmd_keys.c - `ivl keygen` and `ivl init`: making keys and a new ledger.
 */
#include "cli.h"
#include "fileio.h"
#include "note.h"
#include "parse.h"

#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes NAME.pub: the verifier key line. */
static int write_pub(const char *path, const char *name, const uint8_t pub[32], int force)
{
    char line[IVL_VKEY_MAX_LEN + 2];
    int rc = ivl_vkey_format(name, pub, line, sizeof line - 1);
    if (rc) return rc;
    strcat(line, "\n");
    return ivl_file_write(path, line, strlen(line), 0644, force);
}

int cmd_keygen(struct cli *c, int argc, char **argv)
{
    const char *unenc = NULL, *force = NULL, *pos[1];
    int np;
    struct cli_opt opts[] = {
        {"--unencrypted", OPT_FLAG, &unenc}, {"--force", OPT_FLAG, &force}, {0}};
    int rc = cli_parse(c, argc, argv, opts, pos, 1, &np);
    if (rc) return rc < 0 ? 0 : cli_error(c, rc);
    if (np != 1) return cli_error(c, ivl_fail(IVL_E_USAGE, _("keygen needs a NAME")));

    char keyp[PATH_MAX], pubp[PATH_MAX], tmp[PATH_MAX];
    snprintf(keyp, sizeof keyp, "%s.key", pos[0]);
    snprintf(pubp, sizeof pubp, "%s.pub", pos[0]);
    snprintf(tmp, sizeof tmp, "%s", pos[0]);
    size_t pl = strlen(pos[0]);
    const char *name = basename(tmp);
    if (pl == 0 || pos[0][pl - 1] == '/' || !strcmp(name, ".") || !strcmp(name, ".."))
        return cli_error(c, ivl_fail(IVL_E_USAGE,
                                     _("keygen needs a NAME such as 'bureau' or "
                                       "'keys/bureau', not '%s'"),
                                     pos[0]));
    if (!ivl_note_name_valid(name))
        return cli_error(c, ivl_fail(IVL_E_USAGE,
                                     _("key name '%s' must be 1-128 bytes without spaces or '+'"),
                                     name));
    struct stat sb;
    if (!force && (!lstat(keyp, &sb) || !lstat(pubp, &sb)))
        return cli_error(c, ivl_fail(IVL_E_EXISTS, _("%s exists; use --force to replace it"),
                                     !lstat(keyp, &sb) ? keyp : pubp));

    struct ivl_seckey *k = NULL;
    char *pass = NULL;
    size_t plen = 0;
    rc = ivl_key_generate(name, &k);
    if (!rc && !unenc) {
        pass = sodium_malloc(IVL_KEY_PASS_MAX);
        rc = pass ? cli_new_passphrase(c, pass, IVL_KEY_PASS_MAX, &plen)
                  : ivl_fail(IVL_E_NOMEM, _("out of memory"));
    }
    if (!rc) rc = ivl_key_save(k, keyp, unenc ? NULL : pass, plen, force != NULL);
    if (!rc) rc = write_pub(pubp, name, ivl_key_public(k), force != NULL);
    if (pass) sodium_free(pass);
    if (rc) {
        ivl_key_free(k);
        return cli_error(c, rc);
    }
    char line[IVL_VKEY_MAX_LEN + 1];
    ivl_vkey_format(name, ivl_key_public(k), line, sizeof line);
    ivl_key_free(k);
    if (c->json)
        cli_json_out(json_pack("{s:s,s:s,s:s,s:b}", "key", keyp, "pub", pubp, "verifier_key", line,
                               "encrypted", !unenc));
    else
        printf(unenc ? _("wrote %s (unencrypted) and %s\n%s\n")
                     : _("wrote %s (encrypted) and %s\n%s\n"),
               keyp, pubp, line);
    return 0;
}

enum { MADE_DB = 1, MADE_KEY = 2, MADE_PUB = 4 };

/* A failed init leaves nothing behind, so that it can simply be run again. */
static void remove_new_ledger(struct cli *c, unsigned made)
{
    static const char *const names[] = {"data.mdb", "lock.mdb", "log.key", "log.pub"};
    char p[PATH_MAX];
    if (c->l) ivl_ledger_close(c->l);
    c->l = NULL;
    for (int i = 0; i < 4; i++) {
        if ((i < 2 && !(made & MADE_DB)) || (i == 2 && !(made & MADE_KEY)) ||
            (i == 3 && !(made & MADE_PUB)))
            continue;
        snprintf(p, sizeof p, "%s/%s", c->ledger_dir, names[i]);
        unlink(p);
    }
}

int cmd_init(struct cli *c, int argc, char **argv)
{
    const char *origin = NULL, *keyp = NULL, *uscc = NULL, *name = NULL;
    struct cli_opt opts[] = {{"--origin", OPT_STR, &origin},
                             {"--key", OPT_STR, &keyp},
                             {"--uscc", OPT_STR, &uscc},
                             {"--name", OPT_STR, &name},
                             {0}};
    int rc = cli_parse(c, argc, argv, opts, NULL, 0, NULL);
    if (rc) return rc < 0 ? 0 : cli_error(c, rc);
    if ((rc = cli_need(origin, "--origin")) || (rc = cli_need(keyp, "--key")) ||
        (rc = cli_need(uscc, "--uscc")) || (rc = cli_text(name, "--name", IVL_MAX_NAME)))
        return cli_error(c, rc);
    if (!ivl_note_name_valid(origin) || strlen(origin) > IVL_MAX_ORIGIN)
        return cli_error(c, ivl_fail(IVL_E_USAGE,
                                     _("--origin '%s' must be 1-128 bytes without spaces or '+' "
                                       "(e.g. qinshui.gov.cn/ivl)"),
                                     origin));
    rc = ivl_uscc_check(uscc);
    if (rc) return cli_error(c, ivl_fail(rc, _("--uscc %s: %s"), uscc, ivl_err_detail(rc)));

    struct ivl_seckey *auth = NULL, *logk = NULL;
    struct ivl_entry e = {0};
    char path[PATH_MAX];
    unsigned made = 0;
    if ((rc = cli_load_key(c, keyp, &auth))) return cli_error(c, rc);
    if ((rc = ivl_ledger_create(c->ledger_dir, &c->l))) goto out;
    made |= MADE_DB;
    if ((rc = ivl_key_generate(origin, &logk))) goto out;
    snprintf(path, sizeof path, "%s/log.key", c->ledger_dir);
    if ((rc = ivl_key_save(logk, path, NULL, 0, 0))) goto out;
    made |= MADE_KEY;
    snprintf(path, sizeof path, "%s/log.pub", c->ledger_dir);
    if ((rc = write_pub(path, origin, ivl_key_public(logk), 0))) goto out;
    made |= MADE_PUB;

    cli_new_entry(c, &e, IVL_T_GENESIS);
    struct ivl_genesis *g = &e.u.genesis;
    snprintf(g->origin, sizeof g->origin, "%s", origin);
    snprintf(g->authority, sizeof g->authority, "%s", uscc);
    snprintf(g->name, sizeof g->name, "%s", name);
    snprintf(g->key_name, sizeof g->key_name, "%s", ivl_key_name(auth));
    memcpy(g->pub, ivl_key_public(auth), 32);
    memcpy(g->log_pub, ivl_key_public(logk), 32);
    if ((rc = cli_sign(origin, &e, 0, uscc, auth))) goto out;
    ivl_key_free(auth);
    ivl_key_free(logk);
    rc = cli_append(c, &e, 1);
    if (rc) remove_new_ledger(c, made);
    return rc;
out:
    ivl_key_free(auth);
    ivl_key_free(logk);
    if (made) remove_new_ledger(c, made);
    return cli_error(c, rc);
}
