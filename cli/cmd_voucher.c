/*
 * cmd_voucher.c - the voucher lifecycle on the command line: budgets,
 * issuance (one or from CSV), redemption in one step or across machines
 * (request files), claims, approval, payment, cancellation, clawback,
 * revocation and expiry.
 */
#include "cli.h"
#include "csv.h"
#include "fileio.h"
#include "parse.h"
#include "progress.h"
#include "request.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DOC_FILE ((size_t)1 << 32)

int cli_append_batch(struct cli *c, struct ivl_entry *es, size_t n, const unsigned *lines,
                     const char *file, const uint8_t *own, struct cli_signer *signer);
int cli_read_csv(struct cli *c, const char *path, const char *const *cols, int ncols,
                 struct ivl_csv **csv, int *idx);

#define PARSE(opts, pos, max, np)                                                                  \
    do {                                                                                           \
        int rc_ = cli_parse(c, argc, argv, opts, pos, max, np);                                    \
        if (rc_) return rc_ < 0 ? 0 : cli_error(c, rc_);                                           \
    } while (0)

/* ---- budgets ---- */

int cmd_budget_open(struct cli *c, int argc, char **argv)
{
    const char *total = NULL, *cap = NULL, *ratio = NULL, *until = NULL, *cats = NULL, *key = NULL,
               *pos[1];
    int np, rc;
    struct cli_opt opts[] = {{"--total", OPT_STR, &total},
                             {"--cap", OPT_STR, &cap},
                             {"--ratio", OPT_STR, &ratio},
                             {"--until", OPT_STR, &until},
                             {"--categories", OPT_STR, &cats},
                             {"--key", OPT_STR, &key},
                             {0}};
    PARSE(opts, pos, 1, &np);
    struct ivl_entry e = {0};
    struct ivl_budget *b = &e.u.budget;
    cli_new_entry(c, &e, IVL_T_BUDGET);
    rc = np == 1 ? cli_text(pos[0], N_("budget ID"), IVL_MAX_BUDGETID)
                 : ivl_fail(IVL_E_USAGE, _("budget open needs an ID"));
    if (!rc) rc = cli_amount(total, "--total", &b->total);
    if (!rc) rc = cli_amount(cap, "--cap", &b->cap);
    if (!rc && !(rc = cli_need(ratio, "--ratio")) && (rc = ivl_percent_parse(ratio, &b->ratio_bp)))
        rc = ivl_fail(rc, _("--ratio '%s': %s"), ratio, ivl_err_detail(rc));
    if (!rc) rc = cli_date(until, "--until", &b->until);
    if (!rc && cats) rc = ivl_categories_parse(cats, &b->categories);
    if (rc) return cli_error(c, rc);
    snprintf(b->budget, sizeof b->budget, "%s", pos[0]);
    return cli_append_signed(c, &e, key, IVL_ROLE_AUTHORITY);
}

/* ---- issue ---- */

/* known: the budget's record when the caller has read it (a batch), or NULL. */
static int issue_fields(struct ivl_state *st, struct ivl_issue *is, const char *budget,
                        const char *to, const char *amount, const char *until,
                        const struct ivl_budget_rec *known)
{
    struct ivl_budget_rec b;
    int rc = cli_need(to, "--to");
    if (!rc) rc = cli_uscc(to, "--to");
    if (!rc) rc = cli_amount(amount, "--amount", &is->amount);
    if (!rc && until && *until) rc = cli_date(until, "--until", &is->until);
    if (rc) return rc;
    ivl_strcpy(is->budget, sizeof is->budget, budget);
    ivl_strcpy(is->holder, sizeof is->holder, to);
    if ((!until || !*until) && known) {
        is->until = known->b.until;
    } else if (!until || !*until) { /* default: the budget's end */
        rc = ivl_st_budget(st, budget, &b);
        if (rc == IVL_E_NOT_FOUND) return ivl_fail(IVL_E_BUDGET_UNKNOWN, _("no budget %s"), budget);
        if (rc) return rc;
        is->until = b.b.until;
    }
    return 0;
}

static int issue_batch(struct cli *c, const char *budget, const char *path, const char *keyp)
{
    static const char *const cols[] = {"uscc", "amount", "until"};
    int idx[3], rc, nbad = 0;
    struct ivl_csv *csv;
    struct ivl_seckey *k = NULL;
    struct ivl_party_rec auth;
    struct cli_signer *signer = NULL;
    struct ivl_state st;
    struct ivl_budget_rec br;
    if ((rc = cli_open(c)) || (rc = ivl_ledger_begin(c->l, &st))) return cli_error(c, rc);
    rc = ivl_st_budget(&st, budget, &br); /* one rule error, as for a single issue */
    ivl_ledger_end(&st);
    if (rc == IVL_E_NOT_FOUND) rc = ivl_fail(IVL_E_BUDGET_UNKNOWN, _("no budget %s"), budget);
    if (rc) return cli_error(c, rc);
    if ((rc = cli_read_csv(c, path, cols, 3, &csv, idx))) return cli_error(c, rc);
    size_t n = ivl_csv_nrows(csv);
    struct ivl_entry *es = calloc(n, sizeof *es);
    unsigned *lines = calloc(n, sizeof *lines);
    if (!es || !lines) rc = ivl_fail(IVL_E_NOMEM, _("out of memory"));
    if (!rc) rc = cli_load_key(c, keyp, &k);
    if (!rc) rc = cli_key_party(c, k, IVL_ROLE_AUTHORITY, &auth);
    if (!rc && !(rc = ivl_ledger_begin(c->l, &st))) {
        /* Signed on the other cores from the first rows made. */
        rc = cli_signer_start(&signer, st.origin, es, n, 0, auth.p.uscc, k);
        for (size_t i = 0; !rc && i < n; i++) {
            lines[i] = ivl_csv_line(csv, i);
            cli_new_entry(c, &es[i], IVL_T_ISSUE);
            int r = issue_fields(&st, &es[i].u.issue, budget, ivl_csv_field(csv, i, idx[0]),
                                 ivl_csv_field(csv, i, idx[1]),
                                 idx[2] < 0 ? "" : ivl_csv_field(csv, i, idx[2]), &br);
            if (r == IVL_E_NOMEM || ivl_err_exit(r) == IVL_EXIT_IO) {
                rc = r;
            } else if (r) {
                fprintf(stderr, _("ivl: %s line %u: %s\n"), path, lines[i], ivl_err_detail(r));
                nbad++;
            }
            if (!nbad && (i + 1) % CLI_SIGN_CHUNK == 0) cli_signer_built(signer, i + 1, 0);
        }
        if (signer) cli_signer_built(signer, rc || nbad ? 0 : n, rc || nbad ? IVL_E_CSV : 0);
        ivl_ledger_end(&st);
    }
    uint8_t own[IVL_PUB_LEN];
    if (k) memcpy(own, ivl_key_public(k), IVL_PUB_LEN);
    ivl_csv_free(csv);
    if (!rc && nbad)
        rc = ivl_fail(IVL_E_CSV,
                      dngettext(IVL_TEXTDOMAIN, "%s: %d bad row; nothing was appended",
                                "%s: %d bad rows; nothing was appended", (unsigned long)nbad),
                      path, nbad);
    if (rc) {
        cli_signer_finish(signer);
        rc = cli_error(c, rc);
    } else {
        rc = cli_append_batch(c, es, n, lines, path, own, signer);
    }
    ivl_key_free(k); /* after the signer has finished */
    free(es);
    free(lines);
    return rc;
}

int cmd_issue(struct cli *c, int argc, char **argv)
{
    const char *budget = NULL, *to = NULL, *amount = NULL, *until = NULL, *key = NULL,
               *batch = NULL;
    struct cli_opt opts[] = {{"--budget", OPT_STR, &budget},
                             {"--to", OPT_STR, &to},
                             {"--amount", OPT_STR, &amount},
                             {"--until", OPT_STR, &until},
                             {"--key", OPT_STR, &key},
                             {"--batch", OPT_STR, &batch},
                             {0}};
    PARSE(opts, NULL, 0, NULL);
    int rc = cli_text(budget, "--budget", IVL_MAX_BUDGETID);
    if (rc) return cli_error(c, rc);
    if (batch) {
        if (to || amount || until)
            return cli_error(
                c, ivl_fail(IVL_E_USAGE, _("--batch takes uscc, amount, until from the file")));
        return issue_batch(c, budget, batch, key);
    }
    struct ivl_entry e = {0};
    struct ivl_state st;
    cli_new_entry(c, &e, IVL_T_ISSUE);
    if ((rc = cli_open(c)) || (rc = ivl_ledger_begin(c->l, &st))) return cli_error(c, rc);
    rc = issue_fields(&st, &e.u.issue, budget, to, amount, until, NULL);
    ivl_ledger_end(&st);
    if (rc) return cli_error(c, rc);
    return cli_append_signed(c, &e, key, IVL_ROLE_AUTHORITY);
}

/* ---- redemption requests ---- */

static int bad_req(const char *path, const char *why)
{
    return ivl_fail(IVL_E_BAD_REQUEST, _("request %s: %s"), path, why);
}

static int request_read(const char *path, struct ivl_entry *e, char *origin)
{
    char *buf;
    size_t n;
    int rc = ivl_file_read(path, IVL_REQUEST_MAX, &buf, &n);
    if (rc) return rc;
    rc = ivl_request_parse(buf, n, e, origin);
    free(buf);
    if (rc) return ivl_fail(rc, _("request %s: %s"), path, ivl_err_detail(rc));
    return 0;
}

static char *request_format(const char *origin, const struct ivl_entry *e, void *unused)
{
    char *out = NULL;
    (void)unused;
    return ivl_request_format(origin, e, &out) ? NULL : out;
}

/* Did one of the party's earlier (replaced) keys make this signature? */
static int signed_by_old_key(struct cli *c, const char *uscc, const uint8_t sig[64],
                             const struct ivl_buf *msg)
{
    struct ivl_state st;
    MDB_cursor *cur;
    MDB_val k, v;
    int found = 0;
    if (ivl_ledger_begin(c->l, &st)) return 0;
    if (!mdb_cursor_open(st.txn, st.dbi[IVL_DB_PUBKEYS], &cur)) {
        for (int r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !found && r == 0;
             r = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            if (k.mv_size == IVL_PUB_LEN && v.mv_size == IVL_USCC_LEN &&
                !memcmp(v.mv_data, uscc, IVL_USCC_LEN))
                found = !crypto_sign_verify_detached(sig, msg->p, msg->len, k.mv_data);
        mdb_cursor_close(cur);
    }
    ivl_ledger_end(&st);
    return found;
}

/* Checks signature `slot` of a request against the signer's current key. */
static int request_check_sig(struct cli *c, const char *origin, const struct ivl_entry *e,
                             unsigned slot, const char *path)
{
    struct ivl_state st;
    struct ivl_party_rec p;
    struct ivl_buf body = {0}, msg = {0};
    int rc = cli_open(c);
    if (rc || (rc = ivl_ledger_begin(c->l, &st))) return rc;
    if (strcmp(origin, st.origin))
        rc = ivl_fail(IVL_E_BAD_REQUEST, _("request %s is for ledger %s, not %s"), path, origin,
                      st.origin);
    if (!rc) rc = ivl_st_party(&st, e->sigs[slot].signer, &p);
    ivl_ledger_end(&st);
    if (rc == IVL_E_NOT_FOUND)
        rc = ivl_fail(IVL_E_BAD_REQUEST, _("request %s is signed by %s, who is not registered"),
                      path, e->sigs[slot].signer);
    if (!rc) rc = ivl_body_encode(e, &body);
    if (!rc) rc = ivl_sig_message(origin, body.p, body.len, &msg);
    if (!rc && crypto_sign_verify_detached(e->sigs[slot].sig, msg.p, msg.len, p.p.pub)) {
        rc = ivl_fail(IVL_E_BAD_SIG, _("request %s: signature of %s does not verify"), path,
                      e->sigs[slot].signer);
        if (signed_by_old_key(c, e->sigs[slot].signer, e->sigs[slot].sig, &msg))
            rc = ivl_fail(IVL_E_KEY_ROLE,
                          _("request %s was signed with a key of %s that has since been replaced; "
                            "sign it again with the current key"),
                          path, e->sigs[slot].signer);
    }
    ivl_buf_free(&body);
    ivl_buf_free(&msg);
    return rc;
}

static int hash_file(const char *path, const char *flag, uint8_t out[32])
{
    char *buf;
    size_t n;
    int rc = cli_need(path, flag);
    if (!rc) rc = ivl_file_read(path, MAX_DOC_FILE, &buf, &n);
    if (rc) return rc;
    crypto_hash_sha256(out, (const uint8_t *)buf, n);
    free(buf);
    return 0;
}

int cmd_redeem(struct cli *c, int argc, char **argv)
{
    const char *voucher = NULL, *prov = NULL, *contract = NULL, *camount = NULL, *amount = NULL,
               *cat = NULL, *key = NULL, *cosign = NULL, *outp = NULL;
    struct cli_opt opts[] = {
        {"--voucher", OPT_STR, &voucher},   {"--provider", OPT_STR, &prov},
        {"--contract", OPT_STR, &contract}, {"--contract-amount", OPT_STR, &camount},
        {"--amount", OPT_STR, &amount},     {"--category", OPT_STR, &cat},
        {"--key", OPT_STR, &key},           {"--cosign", OPT_STR, &cosign},
        {"--out", OPT_STR, &outp},          {0}};
    PARSE(opts, NULL, 0, NULL);
    struct ivl_entry e = {0};
    struct ivl_redeem *r = &e.u.redeem;
    struct ivl_seckey *sk = NULL, *pk = NULL;
    struct ivl_party_rec sme, pp;
    struct ivl_state st;
    char origin[IVL_MAX_ORIGIN + 1];
    cli_new_entry(c, &e, IVL_T_REDEEM);
    int rc = 0;
    if (!cosign == !outp)
        rc = ivl_fail(IVL_E_USAGE, _("give exactly one of --cosign PROV.key and --out REQ"));
    if (!rc) rc = cli_need(voucher, "--voucher");
    if (!rc) rc = cli_id(voucher, "--voucher", r->voucher);
    if (!rc) rc = cli_need(prov, "--provider");
    if (!rc) rc = cli_uscc(prov, "--provider");
    if (!rc) rc = cli_amount(camount, "--contract-amount", &r->contract_amount);
    if (!rc) rc = cli_amount(amount, "--amount", &r->amount);
    if (!rc && cat) {
        int bit = ivl_category_from_name(cat);
        if (bit < 0)
            rc = ivl_fail(IVL_E_USAGE,
                          _("--category '%s' is not one of rd, testing, ip, consulting, transfer, "
                            "instruments"),
                          cat);
        r->category = (uint8_t)(bit < 0 ? 0 : bit);
    }
    if (!rc) rc = hash_file(contract, "--contract", r->contract);
    if (!rc) rc = cli_load_key(c, key, &sk);
    if (!rc) rc = cli_key_party(c, sk, IVL_ROLE_SME, &sme);
    if (!rc && cosign) rc = cli_load_key(c, cosign, &pk);
    if (!rc && cosign) rc = cli_key_party(c, pk, IVL_ROLE_PROVIDER, &pp);
    if (!rc && cosign && strcmp(pp.p.uscc, prov))
        rc = ivl_fail(IVL_E_KEY_ROLE, _("--cosign key belongs to %s, not to provider %s"),
                      pp.p.uscc, prov);
    if (!rc && !(rc = ivl_ledger_begin(c->l, &st))) {
        snprintf(origin, sizeof origin, "%s", st.origin);
        ivl_ledger_end(&st);
    }
    if (!rc) {
        snprintf(r->sme, sizeof r->sme, "%s", sme.p.uscc);
        snprintf(r->provider, sizeof r->provider, "%s", prov);
        rc = cli_sign(origin, &e, 0, sme.p.uscc, sk);
    }
    if (!rc && cosign) rc = cli_sign(origin, &e, 1, prov, pk);
    ivl_key_free(sk);
    ivl_key_free(pk);
    if (rc) return cli_error(c, rc);
    if (cosign) return cli_append(c, &e, 1);

    char *text = request_format(origin, &e, NULL);
    if (!text) return cli_error(c, ivl_fail(IVL_E_NOMEM, _("out of memory")));
    rc = ivl_file_write(outp, text, strlen(text), 0644, 0);
    free(text);
    if (rc) return cli_error(c, rc);
    char id[37];
    if (c->json)
        cli_json_out(json_pack("{s:s,s:s}", "request", outp, "id", cli_id_str(e.id, id)));
    else
        printf(_("%s\nwrote request %s: the provider countersigns it with 'ivl cosign %s --key "
                 "PROV.key'\n"),
               cli_id_str(e.id, id), outp, outp);
    return 0;
}

int cmd_cosign(struct cli *c, int argc, char **argv)
{
    const char *key = NULL, *pos[1];
    int np, rc;
    struct cli_opt opts[] = {{"--key", OPT_STR, &key}, {0}};
    PARSE(opts, pos, 1, &np);
    if (np != 1) return cli_error(c, ivl_fail(IVL_E_USAGE, _("cosign needs a request file")));
    struct ivl_entry e;
    struct ivl_seckey *pk = NULL;
    struct ivl_party_rec pp;
    char origin[IVL_MAX_ORIGIN + 1];
    if ((rc = request_read(pos[0], &e, origin))) return cli_error(c, rc);
    if (e.n_sigs != 1) rc = bad_req(pos[0], _("it is already countersigned"));
    if (!rc) rc = request_check_sig(c, origin, &e, 0, pos[0]);
    if (!rc) rc = cli_load_key(c, key, &pk);
    if (!rc) rc = cli_key_party(c, pk, IVL_ROLE_PROVIDER, &pp);
    if (!rc && strcmp(pp.p.uscc, e.u.redeem.provider))
        rc = ivl_fail(IVL_E_KEY_ROLE, _("this request names provider %s; the key belongs to %s"),
                      e.u.redeem.provider, pp.p.uscc);
    if (!rc) rc = cli_sign(origin, &e, 1, pp.p.uscc, pk);
    ivl_key_free(pk);
    if (rc) return cli_error(c, rc);
    char *text = request_format(origin, &e, NULL);
    if (!text) return cli_error(c, ivl_fail(IVL_E_NOMEM, _("out of memory")));
    rc = ivl_file_write(pos[0], text, strlen(text), 0644, 1);
    free(text);
    if (rc) return cli_error(c, rc);
    char a[24], id[37];
    if (c->json)
        cli_json_out(json_pack("{s:s,s:s,s:s}", "request", pos[0], "id", cli_id_str(e.id, id),
                               "amount", cli_amt(e.u.redeem.amount, a)));
    else
        printf(_("countersigned redemption %s of %s by %s; submit it with 'ivl submit %s'\n"),
               cli_id_str(e.id, id), cli_amt(e.u.redeem.amount, a), e.u.redeem.sme, pos[0]);
    return 0;
}

int cmd_submit(struct cli *c, int argc, char **argv)
{
    const char *pos[4096];
    int np, rc = 0;
    PARSE(NULL, pos, 4096, &np);
    if (np < 1) return cli_error(c, ivl_fail(IVL_E_USAGE, _("submit needs request files")));
    struct ivl_entry *es = calloc((size_t)np, sizeof *es);
    unsigned *lines = calloc((size_t)np, sizeof *lines);
    if (!es || !lines) rc = ivl_fail(IVL_E_NOMEM, _("out of memory"));
    for (int i = 0; !rc && i < np; i++) {
        char origin[IVL_MAX_ORIGIN + 1];
        lines[i] = (unsigned)i + 1;
        rc = request_read(pos[i], &es[i], origin);
        if (!rc && es[i].n_sigs != 2)
            rc = bad_req(pos[i], _("it lacks the provider's countersignature (ivl cosign)"));
        if (!rc) rc = request_check_sig(c, origin, &es[i], 0, pos[i]);
        if (!rc) rc = request_check_sig(c, origin, &es[i], 1, pos[i]);
    }
    free(lines);
    if (rc) {
        free(es);
        return cli_error(c, rc);
    }
    rc = cli_append(c, es, (size_t)np);
    free(es);
    return rc;
}

/* ---- claims and decisions ---- */

int cmd_claim(struct cli *c, int argc, char **argv)
{
    const char *red = NULL, *inv = NULL, *key = NULL;
    struct cli_opt opts[] = {{"--redemption", OPT_STR, &red},
                             {"--invoice", OPT_STR, &inv},
                             {"--key", OPT_STR, &key},
                             {0}};
    PARSE(opts, NULL, 0, NULL);
    struct ivl_entry e = {0};
    struct ivl_state st;
    struct ivl_redemption_rec rr;
    cli_new_entry(c, &e, IVL_T_CLAIM);
    int rc = cli_need(red, "--redemption");
    if (!rc) rc = cli_id(red, "--redemption", e.u.claim.redemption);
    if (!rc) rc = hash_file(inv, "--invoice", e.u.claim.invoice);
    if (!rc && !(rc = cli_open(c)) && !(rc = ivl_ledger_begin(c->l, &st))) {
        /* The claim is for the redeemed amount; the rule checks it again. */
        int r = ivl_st_redemption(&st, e.u.claim.redemption, &rr);
        if (r == IVL_E_NOT_FOUND)
            rc = ivl_fail(IVL_E_REDEMPTION_UNKNOWN, _("no redemption %s"), red);
        else if (r)
            rc = r;
        else
            e.u.claim.amount = rr.r.amount;
        ivl_ledger_end(&st);
    }
    if (rc) return cli_error(c, rc);
    return cli_append_signed(c, &e, key, IVL_ROLE_PROVIDER);
}

/* approve, reject, cancel, clawback, pay, revoke: an id, maybe a text. */
static int target_cmd(struct cli *c, int argc, char **argv, int type, const char *what,
                      const char *textflag, size_t textmax, int role)
{
    const char *text = NULL, *key = NULL, *pos[1];
    int np;
    struct cli_opt opts[] = {{"--key", OPT_STR, &key}, {textflag, OPT_STR, &text}, {0}};
    PARSE(opts, pos, 1, &np);
    struct ivl_entry e = {0};
    cli_new_entry(c, &e, type);
    int rc = np == 1 ? cli_id(pos[0], what, e.u.target.target)
                     : ivl_fail(IVL_E_USAGE, _("%s needs the %s id"), ivl_type_name(type), _(what));
    if (!rc && textflag) rc = cli_text(text, textflag, textmax);
    if (rc) return cli_error(c, rc);
    if (text) snprintf(e.u.target.text, sizeof e.u.target.text, "%s", text);
    return cli_append_signed(c, &e, key, role);
}

int cmd_approve(struct cli *c, int argc, char **argv)
{
    return target_cmd(c, argc, argv, IVL_T_APPROVE, N_("claim"), NULL, 0, IVL_ROLE_AUTHORITY);
}

int cmd_reject(struct cli *c, int argc, char **argv)
{
    return target_cmd(c, argc, argv, IVL_T_REJECT, N_("claim"), "--reason", IVL_MAX_REASON,
                      IVL_ROLE_AUTHORITY);
}

int cmd_cancel(struct cli *c, int argc, char **argv)
{
    return target_cmd(c, argc, argv, IVL_T_CANCEL, N_("redemption"), "--reason", IVL_MAX_REASON,
                      IVL_ROLE_AUTHORITY);
}

int cmd_clawback(struct cli *c, int argc, char **argv)
{
    return target_cmd(c, argc, argv, IVL_T_CLAWBACK, N_("claim"), "--reason", IVL_MAX_REASON,
                      IVL_ROLE_AUTHORITY);
}

int cmd_pay(struct cli *c, int argc, char **argv)
{
    return target_cmd(c, argc, argv, IVL_T_PAY, N_("claim"), "--ref", IVL_MAX_REF,
                      IVL_ROLE_FINANCE);
}

int cmd_revoke(struct cli *c, int argc, char **argv)
{
    return target_cmd(c, argc, argv, IVL_T_REVOKE, N_("voucher"), "--reason", IVL_MAX_REASON,
                      IVL_ROLE_AUTHORITY);
}

int cmd_expire(struct cli *c, int argc, char **argv)
{
    const char *key = NULL;
    struct cli_opt opts[] = {{"--key", OPT_STR, &key}, {0}};
    PARSE(opts, NULL, 0, NULL);
    struct ivl_entry e = {0};
    struct ivl_state st;
    struct ivl_head h;
    cli_new_entry(c, &e, IVL_T_EXPIRE);
    int rc = cli_open(c);
    if (!rc && !(rc = ivl_ledger_begin(c->l, &st))) {
        rc = ivl_st_head(&st, &h);
        /* The list the rule will demand at append time. */
        int64_t at = c->now < h.last_time ? h.last_time : c->now;
        if (!rc) rc = ivl_rules_expirable(&st, at, &e.u.expire.list, &e.u.expire.n);
        ivl_ledger_end(&st);
    }
    if (!rc && e.u.expire.n == 0)
        rc = ivl_fail(IVL_E_NOTHING_TO_EXPIRE, _("no voucher is past its expiry with money left"));
    if (rc) {
        ivl_entry_free(&e);
        return cli_error(c, rc);
    }
    rc = cli_append_signed(c, &e, key, IVL_ROLE_AUTHORITY);
    ivl_entry_free(&e);
    return rc;
}
