/*
 * cmd_party.c - registering, suspending, rekeying and listing parties,
 * one at a time or from a spreadsheet's CSV export.
 */
#include "cli.h"
#include "csv.h"
#include "fileio.h"
#include "note.h"
#include "parse.h"
#include "progress.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PUB_FILE 4096
#define MAX_CSV_FILE (64u << 20)

/* Parses a verifier-key line (the content of a .pub file or CSV cell). */
static int parse_vkey(const char *s, size_t len, const char *where, char *name, uint8_t pub[32])
{
    struct ivl_vkey vk;
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
        len--;
    if (ivl_vkey_parse(s, len, &vk))
        return ivl_fail(IVL_E_INPUT, _("%s is not a verifier key (name+keyid+base64): %s"), where,
                        ivl_err_detail(IVL_E_BAD_VKEY));
    snprintf(name, IVL_MAX_KEYNAME + 1, "%s", vk.name);
    memcpy(pub, vk.pub, 32);
    return 0;
}

static int read_pub(const char *path, char *name, uint8_t pub[32])
{
    char *buf;
    size_t n;
    char where[300];
    int rc = cli_need(path, "--pub");
    if (!rc) rc = ivl_file_read(path, MAX_PUB_FILE, &buf, &n);
    if (rc) return rc;
    snprintf(where, sizeof where, "--pub %s", path);
    rc = parse_vkey(buf, n, where, name, pub);
    free(buf);
    return rc;
}

static int cmp_uscc(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* "U,U,…" into a sorted list without duplicates. */
static int parse_related(const char *s, struct ivl_party *p)
{
    p->n_related = 0;
    while (s && *s) {
        size_t n = strcspn(s, ",");
        while (n && s[0] == ' ')
            s++, n--;
        char u[32];
        if (n != IVL_USCC_LEN) {
            snprintf(u, sizeof u, "%.*s", (int)(n < 31 ? n : 31), s);
            return ivl_fail(IVL_E_USCC_FORMAT, _("related party '%s' is not an 18-character USCC"),
                            u);
        }
        memcpy(u, s, n);
        u[n] = 0;
        int rc = cli_uscc(u, N_("related party"));
        if (rc) return rc;
        if (p->n_related == IVL_MAX_RELATED)
            return ivl_fail(IVL_E_USAGE, _("at most %d related parties"), IVL_MAX_RELATED);
        memcpy(p->related[p->n_related++], u, IVL_USCC_LEN + 1);
        s += n;
        if (*s == ',') s++;
    }
    qsort(p->related, p->n_related, sizeof p->related[0], cmp_uscc);
    uint32_t w = 0;
    for (uint32_t i = 0; i < p->n_related; i++)
        if (!w || strcmp(p->related[w - 1], p->related[i]))
            memmove(p->related[w++], p->related[i], sizeof p->related[0]);
    p->n_related = w;
    return 0;
}

/* Fills a party entry from text fields (command line or CSV row). */
static int party_fields(struct ivl_party *p, const char *role, const char *uscc, const char *name,
                        const char *related, const char *group, const char *cats, int unchecked)
{
    int r = role ? ivl_role_from_name(role) : -1;
    int rc;
    if (!role) return ivl_fail(IVL_E_USAGE, _("--role is required"));
    if (r < 1)
        return ivl_fail(IVL_E_USAGE,
                        _("role '%s' is not one of authority, sme, provider, finance, auditor"),
                        role);
    p->role = (uint8_t)r;
    if ((rc = cli_need(uscc, "--uscc")) || (rc = cli_uscc(uscc, N_("USCC")))) return rc;
    snprintf(p->uscc, sizeof p->uscc, "%s", uscc);
    if ((rc = cli_text(name, N_("name"), IVL_MAX_NAME))) return rc;
    snprintf(p->name, sizeof p->name, "%s", name);
    if ((rc = parse_related(related, p))) return rc;
    if (group && *group) {
        if ((rc = cli_text(group, N_("group"), IVL_MAX_GROUP))) return rc;
        snprintf(p->group, sizeof p->group, "%s", group);
    }
    if (cats && (rc = ivl_categories_parse(cats, &p->categories))) return rc;
    p->flags = unchecked ? IVL_PARTY_USCC_UNCHECKED : 0;
    return 0;
}

/* Appends a batch in one transaction. When a rule refuses an item, nothing
 * is appended; dry runs without the items found so far then find every other
 * refused item, so that each is reported with its line. */
int cli_append_batch(struct cli *c, struct ivl_entry *es, size_t n, const unsigned *lines,
                     const char *file, const uint8_t *own, struct cli_signer *signer);

int cli_append_batch(struct cli *c, struct ivl_entry *es, size_t n, const unsigned *lines,
                     const char *file, const uint8_t *own, struct cli_signer *signer)
{
    struct ivl_appended *out = calloc(n ? n : 1, sizeof *out);
    size_t failed = 0;
    int rc = out ? cli_open(c) : ivl_fail(IVL_E_NOMEM, _("out of memory"));
    if (!rc) {
        /* The entries are signed on the other cores while they are appended. */
        if (signer) ivl_ledger_set_ready(c->l, cli_signer_ready, signer);
        cli_progress_begin(c, CLI_PHASE_APPEND);
        rc = ivl_ledger_append_own(c->l, es, n, c->now, c->time_flags, own, out, &failed);
        cli_progress_end(c);
        ivl_ledger_set_ready(c->l, NULL, NULL);
    }
    int src = cli_signer_finish(signer); /* every entry is signed (or failed) from here on */
    if (src) {
        free(out);
        return cli_error(c, src);
    }
    if (!rc) {
        rc = cli_print_appended(c, es, n, out);
        free(out);
        return rc;
    }
    free(out);
    if (ivl_err_exit(rc) != IVL_EXIT_RULE && ivl_err_exit(rc) != IVL_EXIT_KEY)
        return cli_error(c, rc);

    int first = rc, nbad = 1;
    struct ivl_entry *try = calloc(n, sizeof *try);
    size_t *map = calloc(n, sizeof *map);
    char *bad = calloc(n, 1);
    out = calloc(n, sizeof *out);
    if (!try || !map || !bad || !out) {
        free(try), free(map), free(bad), free(out);
        return cli_error(c, ivl_fail(IVL_E_NOMEM, _("out of memory")));
    }
    fprintf(stderr, _("ivl: %s line %u: %s\n"), file, lines[failed], ivl_err_detail(first));
    bad[failed] = 1;
    for (int round = 0; round < 100; round++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (!bad[i]) try[m] = es[i], map[m++] = i;
        int r = m ? ivl_ledger_append_own(c->l, try, m, c->now, c->time_flags | IVL_APPEND_DRY_RUN,
                                          own, out, &failed)
                  : 0;
        if (!r || (ivl_err_exit(r) != IVL_EXIT_RULE && ivl_err_exit(r) != IVL_EXIT_KEY)) break;
        bad[map[failed]] = 1;
        nbad++;
        fprintf(stderr, _("ivl: %s line %u: %s\n"), file, lines[map[failed]], ivl_err_detail(r));
    }
    free(try), free(map), free(bad), free(out);
    return cli_error(
        c, ivl_fail(first,
                    dngettext(IVL_TEXTDOMAIN, "%s: %d row refused; nothing was appended",
                              "%s: %d rows refused; nothing was appended", (unsigned long)nbad),
                    file, nbad));
}

/* Reads and parses a CSV file, checking the header names the columns. */
int cli_read_csv(struct cli *c, const char *path, const char *const *cols, int ncols,
                 struct ivl_csv **csv, int *idx);

int cli_read_csv(struct cli *c, const char *path, const char *const *cols, int ncols,
                 struct ivl_csv **csv, int *idx)
{
    char *buf;
    size_t n;
    (void)c;
    int rc = ivl_file_read(path, MAX_CSV_FILE, &buf, &n);
    if (rc) return rc;
    rc = ivl_csv_parse(buf, n, csv);
    free(buf);
    if (rc) return ivl_fail(rc, "%s: %s", path, ivl_err_detail(rc));
    for (int i = 0; i < ncols; i++) {
        idx[i] = ivl_csv_col(*csv, cols[i]);
        if (idx[i] < 0 && i < 2) {
            ivl_csv_free(*csv);
            return ivl_fail(IVL_E_CSV, _("%s: the header has no '%s' column"), path, cols[i]);
        }
    }
    if (ivl_csv_nrows(*csv) == 0) {
        ivl_csv_free(*csv);
        return ivl_fail(IVL_E_CSV, _("%s has no rows"), path);
    }
    return 0;
}

static const char *cell(struct ivl_csv *csv, size_t row, int col)
{
    return col < 0 ? "" : ivl_csv_field(csv, row, (size_t)col);
}

static int party_batch(struct cli *c, const char *path, const char *keyp)
{
    static const char *const cols[] = {"role",    "uscc",  "name",      "pub",
                                       "related", "group", "categories"};
    int idx[7], rc, nbad = 0;
    struct ivl_csv *csv;
    struct ivl_seckey *k = NULL;
    struct ivl_party_rec auth;
    struct ivl_state st;
    if ((rc = cli_read_csv(c, path, cols, 7, &csv, idx))) return cli_error(c, rc);
    if (idx[2] < 0 || idx[3] < 0) {
        ivl_csv_free(csv);
        return cli_error(c,
                         ivl_fail(IVL_E_CSV, _("%s: the header needs role,uscc,name,pub"), path));
    }
    size_t n = ivl_csv_nrows(csv);
    struct ivl_entry *es = calloc(n, sizeof *es);
    unsigned *lines = calloc(n, sizeof *lines);
    if (!es || !lines) rc = ivl_fail(IVL_E_NOMEM, _("out of memory"));
    for (size_t i = 0; !rc && i < n; i++) {
        struct ivl_party *p = &es[i].u.party;
        char where[64];
        lines[i] = ivl_csv_line(csv, i);
        cli_new_entry(c, &es[i], IVL_T_PARTY);
        snprintf(where, sizeof where, "%s", _("the pub cell"));
        const char *pub = cell(csv, i, idx[3]);
        int r = party_fields(p, cell(csv, i, idx[0]), cell(csv, i, idx[1]), cell(csv, i, idx[2]),
                             cell(csv, i, idx[4]), cell(csv, i, idx[5]), cell(csv, i, idx[6]), 0);
        if (!r) r = parse_vkey(pub, strlen(pub), where, p->key_name, p->pub);
        if (r) {
            fprintf(stderr, _("ivl: %s line %u: %s\n"), path, lines[i], ivl_err_detail(r));
            nbad++;
        }
    }
    ivl_csv_free(csv);
    if (!rc && nbad)
        rc = ivl_fail(IVL_E_CSV,
                      dngettext(IVL_TEXTDOMAIN, "%s: %d bad row; nothing was appended",
                                "%s: %d bad rows; nothing was appended", (unsigned long)nbad),
                      path, nbad);
    if (!rc) rc = cli_load_key(c, keyp, &k);
    if (!rc) rc = cli_key_party(c, k, IVL_ROLE_AUTHORITY, &auth);
    uint8_t own[IVL_PUB_LEN];
    struct cli_signer *signer = NULL;
    if (!rc && !(rc = ivl_ledger_begin(c->l, &st))) {
        rc = cli_signer_start(&signer, st.origin, es, n, n, auth.p.uscc, k);
        memcpy(own, ivl_key_public(k), IVL_PUB_LEN);
        ivl_ledger_end(&st);
    }
    if (!rc)
        rc = cli_append_batch(c, es, n, lines, path, own, signer);
    else
        rc = cli_error(c, rc);
    ivl_key_free(k); /* after the signer has finished */
    free(es);
    free(lines);
    return rc;
}

int cmd_party_add(struct cli *c, int argc, char **argv)
{
    const char *role = NULL, *uscc = NULL, *name = NULL, *pub = NULL, *related = NULL,
               *group = NULL, *cats = NULL, *unchecked = NULL, *key = NULL, *batch = NULL;
    struct cli_opt opts[] = {{"--role", OPT_STR, &role},
                             {"--uscc", OPT_STR, &uscc},
                             {"--name", OPT_STR, &name},
                             {"--pub", OPT_STR, &pub},
                             {"--related", OPT_STR, &related},
                             {"--group", OPT_STR, &group},
                             {"--categories", OPT_STR, &cats},
                             {"--uscc-unchecked", OPT_FLAG, &unchecked},
                             {"--key", OPT_STR, &key},
                             {"--batch", OPT_STR, &batch},
                             {0}};
    int rc = cli_parse(c, argc, argv, opts, NULL, 0, NULL);
    if (rc) return rc < 0 ? 0 : cli_error(c, rc);
    if (batch) {
        if (role || uscc || name || pub || related || group || cats || unchecked)
            return cli_error(c,
                             ivl_fail(IVL_E_USAGE, _("--batch takes every field from the file")));
        return party_batch(c, batch, key);
    }
    struct ivl_entry e = {0};
    cli_new_entry(c, &e, IVL_T_PARTY);
    rc = party_fields(&e.u.party, role, uscc, name, related, group, cats, unchecked != NULL);
    if (!rc) rc = read_pub(pub, e.u.party.key_name, e.u.party.pub);
    if (rc) return cli_error(c, rc);
    return cli_append_signed(c, &e, key, IVL_ROLE_AUTHORITY);
}

int cmd_party_suspend(struct cli *c, int argc, char **argv)
{
    const char *reason = NULL, *key = NULL, *pos[1];
    int np;
    struct cli_opt opts[] = {{"--reason", OPT_STR, &reason}, {"--key", OPT_STR, &key}, {0}};
    int rc = cli_parse(c, argc, argv, opts, pos, 1, &np);
    if (rc) return rc < 0 ? 0 : cli_error(c, rc);
    struct ivl_entry e = {0};
    if (np != 1) rc = ivl_fail(IVL_E_USAGE, _("party suspend needs the party's USCC"));
    if (!rc) rc = cli_uscc(pos[0], N_("USCC"));
    if (!rc) rc = cli_text(reason, "--reason", IVL_MAX_REASON);
    if (rc) return cli_error(c, rc);
    cli_new_entry(c, &e, IVL_T_SUSPEND);
    snprintf(e.u.suspend.uscc, sizeof e.u.suspend.uscc, "%s", pos[0]);
    snprintf(e.u.suspend.reason, sizeof e.u.suspend.reason, "%s", reason);
    return cli_append_signed(c, &e, key, IVL_ROLE_AUTHORITY);
}

int cmd_party_rekey(struct cli *c, int argc, char **argv)
{
    const char *pub = NULL, *key = NULL, *pos[1];
    int np;
    struct cli_opt opts[] = {{"--pub", OPT_STR, &pub}, {"--key", OPT_STR, &key}, {0}};
    int rc = cli_parse(c, argc, argv, opts, pos, 1, &np);
    if (rc) return rc < 0 ? 0 : cli_error(c, rc);
    struct ivl_entry e = {0};
    if (np != 1) rc = ivl_fail(IVL_E_USAGE, _("party rekey needs the party's USCC"));
    if (!rc) rc = cli_uscc(pos[0], N_("USCC"));
    if (!rc) rc = read_pub(pub, e.u.rekey.key_name, e.u.rekey.pub);
    if (rc) return cli_error(c, rc);
    cli_new_entry(c, &e, IVL_T_REKEY);
    snprintf(e.u.rekey.uscc, sizeof e.u.rekey.uscc, "%s", pos[0]);
    return cli_append_signed(c, &e, key, IVL_ROLE_AUTHORITY);
}

/* ---- queries ---- */

json_t *cli_party_json(const struct ivl_party_rec *p);

json_t *cli_party_json(const struct ivl_party_rec *p)
{
    char vk[IVL_VKEY_MAX_LEN + 1] = "";
    ivl_vkey_format(p->p.key_name, p->p.pub, vk, sizeof vk);
    json_t *rel = json_array(), *cats = json_array();
    for (uint32_t i = 0; i < p->p.n_related; i++)
        json_array_append_new(rel, json_string(p->p.related[i]));
    for (int i = 0; i < 6; i++)
        if (p->p.categories & (1 << i))
            json_array_append_new(cats, json_string(ivl_category_name(1 << i)));
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:b,s:I,s:o}", "kind", "party", "uscc",
                     p->p.uscc, "role", ivl_role_name(p->p.role), "name", p->p.name, "status",
                     p->status ? "suspended" : "active", "key", vk, "related", rel, "categories",
                     cats, "uscc_unchecked", (p->p.flags & IVL_PARTY_USCC_UNCHECKED) != 0,
                     "registered_seq", (json_int_t)p->registered_seq, "registered_at",
                     cli_json_time(p->registered_at));
}

int cmd_party_list(struct cli *c, int argc, char **argv)
{
    const char *role = NULL;
    struct cli_opt opts[] = {{"--role", OPT_STR, &role}, {0}};
    int rc = cli_parse(c, argc, argv, opts, NULL, 0, NULL), want = 0;
    if (rc) return rc < 0 ? 0 : cli_error(c, rc);
    if (role && (want = ivl_role_from_name(role)) < 1)
        return cli_error(c, ivl_fail(IVL_E_USAGE, _("unknown role '%s'"), role));
    struct ivl_state st;
    if ((rc = cli_open(c)) || (rc = ivl_ledger_begin(c->l, &st))) return cli_error(c, rc);
    MDB_cursor *cur;
    MDB_val k, v;
    json_t *arr = json_array();
    if (!c->json) {
        cli_pad(stdout, _("USCC"), 20);
        cli_pad(stdout, _("role"), 11);
        cli_pad(stdout, _("status"), 11);
        printf("%s\n", _("name"));
    }
    mdb_cursor_open(st.txn, st.dbi[IVL_DB_PARTIES], &cur);
    int r;
    for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
         r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct ivl_party_rec p;
        if ((rc = ivl_rec_party(&v, &p))) break;
        if (want && p.p.role != want) continue;
        if (c->json) {
            json_array_append_new(arr, cli_party_json(&p));
        } else {
            printf("%s  ", p.p.uscc);
            cli_pad(stdout, ivl_role_name(p.p.role), 11);
            cli_pad(stdout, p.status ? _("suspended") : _("active"), 11);
            printf("%s\n", p.p.name);
        }
    }
    mdb_cursor_close(cur);
    ivl_ledger_end(&st);
    if (rc) {
        json_decref(arr);
        return cli_error(c, rc);
    }
    if (c->json)
        cli_json_out(arr);
    else
        json_decref(arr);
    return 0;
}

int cli_print_party(struct cli *c, const struct ivl_party_rec *p);

int cli_print_party(struct cli *c, const struct ivl_party_rec *p)
{
    if (c->json) {
        cli_json_out(cli_party_json(p));
        return 0;
    }
    char vk[IVL_VKEY_MAX_LEN + 1] = "", cats[80], t[40];
    ivl_vkey_format(p->p.key_name, p->p.pub, vk, sizeof vk);
    ivl_categories_format(p->p.categories, cats, sizeof cats);
    ivl_time_format_human(p->registered_at, t, sizeof t);
    cli_field(_("party"), 12, "%s\n", p->p.uscc);
    cli_field(_("name"), 12, "%s\n", p->p.name);
    cli_field(_("role"), 12, "%s\n", ivl_role_name(p->p.role));
    cli_field(_("status"), 12, "%s\n", p->status ? _("suspended") : _("active"));
    cli_field(_("key"), 12, "%s\n", vk);
    cli_field(_("registered"), 12, _("entry %llu, %s\n"), (unsigned long long)p->registered_seq, t);
    if (p->p.group[0]) cli_field(_("group"), 12, "%s\n", p->p.group);
    if (p->p.n_related) {
        cli_pad(stdout, _("related"), 11);
        for (uint32_t i = 0; i < p->p.n_related; i++)
            printf(" %s", p->p.related[i]);
        printf("\n");
    }
    if (cats[0]) cli_field(_("categories"), 12, "%s\n", cats);
    if (p->p.flags & IVL_PARTY_USCC_UNCHECKED)
        cli_field(_("note"), 12, "%s\n", _("registered with a USCC whose check digit is wrong"));
    return 0;
}

int cmd_party_show(struct cli *c, int argc, char **argv)
{
    const char *pos[1];
    int np;
    int rc = cli_parse(c, argc, argv, NULL, pos, 1, &np);
    if (rc) return rc < 0 ? 0 : cli_error(c, rc);
    if (np != 1) return cli_error(c, ivl_fail(IVL_E_USAGE, _("party show needs a USCC")));
    if ((rc = cli_uscc(pos[0], N_("USCC")))) return cli_error(c, rc);
    struct ivl_state st;
    struct ivl_party_rec p;
    if ((rc = cli_open(c)) || (rc = ivl_ledger_begin(c->l, &st))) return cli_error(c, rc);
    rc = ivl_st_party(&st, pos[0], &p);
    ivl_ledger_end(&st);
    if (rc == IVL_E_NOT_FOUND)
        rc = ivl_fail(IVL_E_NOT_FOUND, _("no party %s is registered"), pos[0]);
    if (rc) return cli_error(c, rc);
    return cli_print_party(c, &p);
}
