/*
 * rules.c - the voucher rules of SPEC §3, one function per entry type.
 *
 * Each function checks an entry against the state and, when every rule
 * holds, applies it to the state tables of the same transaction. Appends and
 * `ivl verify` both go through ivl_rules_apply(), so a rule exists in exactly
 * one place. The functions do no cryptography: they name the keys that must
 * have signed (struct ivl_signers) and the caller checks the signatures,
 * which lets verification check them on several threads.
 */
#include "state.h"
#include "err.h"
#include "merkle.h"
#include "note.h"
#include "parse.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_) return rc_;                                                                       \
    } while (0)

/* How far a signature's own time may lie ahead of the append time. */
#define IVL_SIGN_SKEW 600

static const uint8_t zero_id[IVL_ID_LEN];

static const char *fmt_amt(uint64_t fen, char *buf)
{
    ivl_amount_format(fen, buf, 24);
    return buf;
}

static const char *fmt_id(const uint8_t id[IVL_ID_LEN], char *buf)
{
    ivl_id_format(id, buf);
    return buf;
}

/* ---- signers ---- */

/* Resolves signature slot `slot`, which must be by `uscc` (or any party when
 * NULL) holding `role`, active; records the key that must have signed. */
static int signer(struct ivl_state *st, const struct ivl_entry *e, unsigned slot, const char *uscc,
                  int role, struct ivl_signers *who, struct ivl_party_rec *out)
{
    struct ivl_party_rec p;
    const char *s = e->sigs[slot].signer;
    if (uscc && strcmp(s, uscc))
        return ivl_fail(IVL_E_KEY_ROLE, _("%s must be signed by %s, not %s"),
                        ivl_type_name(e->type), uscc, s);
    int rc = ivl_st_party(st, s, &p);
    if (rc == IVL_E_NOT_FOUND)
        return ivl_fail(IVL_E_KEY_ROLE, _("signer %s is not a registered party"), s);
    if (rc) return rc;
    if (p.p.role != role)
        return ivl_fail(
            IVL_E_KEY_ROLE, _("%s must be signed by a party with role %s; %s (%s) has role %s"),
            ivl_type_name(e->type), ivl_role_name(role), s, p.p.name, ivl_role_name(p.p.role));
    if (p.status == IVL_PARTY_SUSPENDED)
        return ivl_fail(IVL_E_PARTY_SUSPENDED, _("%s (%s) is suspended and can sign nothing"), s,
                        p.p.name);
    memcpy(who->pub[slot], p.p.pub, IVL_PUB_LEN);
    if (out) *out = p;
    return 0;
}

static int one_signer(struct ivl_state *st, const struct ivl_entry *e, int role,
                      struct ivl_signers *who, struct ivl_party_rec *out)
{
    if (e->n_sigs != 1)
        return ivl_fail(IVL_E_KEY_ROLE, _("%s takes exactly one signature, has %u"),
                        ivl_type_name(e->type), e->n_sigs);
    who->n = 1;
    return signer(st, e, 0, NULL, role, who, out);
}

/* An active party of the given role that can receive (SPEC: a suspended party
 * receives nothing). */
static int receiver(struct ivl_state *st, const char *uscc, int role, struct ivl_party_rec *p)
{
    int rc = ivl_st_party(st, uscc, p);
    if (rc == IVL_E_NOT_FOUND)
        return ivl_fail(IVL_E_PARTY_UNKNOWN, _("no party %s is registered"), uscc);
    if (rc) return rc;
    if (p->p.role != role)
        return ivl_fail(IVL_E_ROLE, _("%s (%s) is a %s, not a %s"), uscc, p->p.name,
                        ivl_role_name(p->p.role), ivl_role_name(role));
    if (p->status == IVL_PARTY_SUSPENDED)
        return ivl_fail(IVL_E_PARTY_SUSPENDED, _("%s (%s) is suspended and can receive nothing"),
                        uscc, p->p.name);
    return 0;
}

static int key_free(struct ivl_state *st, const uint8_t pub[IVL_PUB_LEN])
{
    MDB_val v;
    int rc = ivl_st_get(st, IVL_DB_PUBKEYS, pub, IVL_PUB_LEN, &v);
    if (rc == IVL_E_NOT_FOUND) return 0;
    if (rc) return rc;
    char u[IVL_USCC_LEN + 1] = {0};
    memcpy(u, v.mv_data, v.mv_size < IVL_USCC_LEN ? v.mv_size : IVL_USCC_LEN);
    return ivl_fail(IVL_E_KEY_IN_USE, _("this public key is already registered to %s"), u);
}

/* The key under which the per-enterprise cap is counted: the SME's group
 * (same actual controller) when it has one, else the SME itself. */
static void cap_holder(const struct ivl_party *p, char *out, size_t n)
{
    if (p->group[0])
        snprintf(out, n, "g:%s", p->group);
    else
        snprintf(out, n, "s:%s", p->uscc);
}

/* Money leaving a voucher back to its budget (revoke, expire, a cancel on a
 * voucher that is no longer active). */
static int release(struct ivl_state *st, struct ivl_voucher_rec *v, uint64_t amount)
{
    struct ivl_budget_rec b;
    struct ivl_party_rec p;
    char holder[IVL_MAX_GROUP + 3];
    uint64_t net;
    TRY(ivl_st_budget(st, v->budget, &b));
    TRY(ivl_st_party(st, v->holder, &p));
    cap_holder(&p.p, holder, sizeof holder);
    TRY(ivl_st_cap(st, v->budget, holder, &net));
    if (net < amount || b.issued - b.released < amount)
        return ivl_fail(IVL_E_CORRUPT, _("released amount exceeds issued amount (budget %s)"),
                        v->budget);
    b.released += amount;
    v->released += amount;
    TRY(ivl_st_put_cap(st, v->budget, holder, net - amount));
    return ivl_st_put_budget(st, &b);
}

/* ---- genesis and parties ---- */

static int rule_genesis(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    const struct ivl_genesis *g = &e->u.genesis;
    if (e->seq != 0)
        return ivl_fail(IVL_E_GENESIS, _("genesis may only be entry 0, not %llu"),
                        (unsigned long long)e->seq);
    if (e->n_sigs != 1 || strcmp(e->sigs[0].signer, g->authority))
        return ivl_fail(IVL_E_KEY_ROLE, _("genesis must be signed by the authority %s alone"),
                        g->authority);
    if (ivl_uscc_check(g->authority))
        return ivl_fail(IVL_E_USCC_CHECK, _("authority USCC %s: %s"), g->authority,
                        ivl_err_detail(IVL_E_USCC_CHECK));
    if (!ivl_note_name_valid(g->origin))
        return ivl_fail(IVL_E_RULE,
                        _("the origin must be a signed-note key name (no spaces or '+')"));
    if (!memcmp(g->pub, g->log_pub, IVL_PUB_LEN))
        return ivl_fail(IVL_E_KEY_IN_USE, _("the log key must differ from the authority's key"));
    who->n = 1;
    memcpy(who->pub[0], g->pub, IVL_PUB_LEN);

    struct ivl_party_rec p = {0};
    memcpy(p.p.uscc, g->authority, sizeof p.p.uscc);
    p.p.role = IVL_ROLE_AUTHORITY;
    snprintf(p.p.name, sizeof p.p.name, "%s", g->name);
    snprintf(p.p.key_name, sizeof p.p.key_name, "%s", g->key_name);
    memcpy(p.p.pub, g->pub, IVL_PUB_LEN);
    p.registered_at = e->appended_at;
    TRY(ivl_st_put_party(st, &p));
    TRY(ivl_st_put(st, IVL_DB_PUBKEYS, g->pub, IVL_PUB_LEN, g->authority, IVL_USCC_LEN));
    TRY(ivl_st_put(st, IVL_DB_PUBKEYS, g->log_pub, IVL_PUB_LEN, g->authority, IVL_USCC_LEN));
    TRY(ivl_st_put(st, IVL_DB_META, "origin", 6, g->origin, strlen(g->origin)));
    TRY(ivl_st_put(st, IVL_DB_META, "log_pub", 7, g->log_pub, IVL_PUB_LEN));
    const uint8_t layout = IVL_STATE_LAYOUT;
    TRY(ivl_st_put(st, IVL_DB_META, "layout", 6, &layout, 1));
    snprintf(st->origin, sizeof st->origin, "%s", g->origin);
    return 0;
}

static int rule_party(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    const struct ivl_party *p = &e->u.party;
    struct ivl_party_rec old;
    TRY(one_signer(st, e, IVL_ROLE_AUTHORITY, who, NULL));
    int rc = ivl_uscc_check(p->uscc);
    if (rc == IVL_E_USCC_CHECK && !(p->flags & IVL_PARTY_USCC_UNCHECKED))
        return ivl_fail(IVL_E_USCC_CHECK, _("%s: %s (register it anyway with --uscc-unchecked)"),
                        p->uscc, ivl_err_detail(rc));
    if (rc && rc != IVL_E_USCC_CHECK) return rc;
    rc = ivl_st_party(st, p->uscc, &old);
    if (rc == 0)
        return ivl_fail(IVL_E_PARTY_EXISTS, _("%s is already registered as %s (%s)"), p->uscc,
                        old.p.name, ivl_role_name(old.p.role));
    if (rc != IVL_E_NOT_FOUND) return rc;
    if (p->role != IVL_ROLE_SME && (p->n_related || p->group[0]))
        return ivl_fail(IVL_E_ROLE, _("only an sme has related parties or a group"));
    if (p->role != IVL_ROLE_PROVIDER && p->categories)
        return ivl_fail(IVL_E_ROLE, _("only a provider has service categories"));
    for (uint32_t i = 0; i < p->n_related; i++)
        if (!strcmp(p->related[i], p->uscc))
            return ivl_fail(IVL_E_RULE, _("%s cannot be its own related party"), p->uscc);
    TRY(key_free(st, p->pub));

    struct ivl_party_rec rec = {0};
    rec.p = *p;
    rec.registered_seq = rec.changed_seq = e->seq;
    rec.registered_at = e->appended_at;
    TRY(ivl_st_put_party(st, &rec));
    return ivl_st_put(st, IVL_DB_PUBKEYS, p->pub, IVL_PUB_LEN, p->uscc, IVL_USCC_LEN);
}

static int existing_party(struct ivl_state *st, const char *uscc, struct ivl_party_rec *p)
{
    int rc = ivl_st_party(st, uscc, p);
    if (rc == IVL_E_NOT_FOUND)
        return ivl_fail(IVL_E_PARTY_UNKNOWN, _("no party %s is registered"), uscc);
    return rc;
}

static int rule_suspend(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    struct ivl_party_rec p;
    TRY(one_signer(st, e, IVL_ROLE_AUTHORITY, who, NULL));
    TRY(existing_party(st, e->u.suspend.uscc, &p));
    if (p.status == IVL_PARTY_SUSPENDED)
        return ivl_fail(IVL_E_PARTY_SUSPENDED, _("%s (%s) is already suspended"), p.p.uscc,
                        p.p.name);
    if (!strcmp(p.p.uscc, e->sigs[0].signer))
        return ivl_fail(IVL_E_RULE, _("an authority cannot suspend itself"));
    p.status = IVL_PARTY_SUSPENDED;
    p.changed_seq = e->seq;
    return ivl_st_put_party(st, &p);
}

static int rule_rekey(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    struct ivl_party_rec p;
    TRY(one_signer(st, e, IVL_ROLE_AUTHORITY, who, NULL));
    TRY(existing_party(st, e->u.rekey.uscc, &p));
    TRY(key_free(st, e->u.rekey.pub));
    memcpy(p.p.pub, e->u.rekey.pub, IVL_PUB_LEN);
    snprintf(p.p.key_name, sizeof p.p.key_name, "%s", e->u.rekey.key_name);
    p.changed_seq = e->seq;
    TRY(ivl_st_put_party(st, &p));
    return ivl_st_put(st, IVL_DB_PUBKEYS, e->u.rekey.pub, IVL_PUB_LEN, p.p.uscc, IVL_USCC_LEN);
}

/* ---- budgets and issuance ---- */

static int rule_budget(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    const struct ivl_budget *b = &e->u.budget;
    struct ivl_budget_rec old;
    TRY(one_signer(st, e, IVL_ROLE_AUTHORITY, who, NULL));
    int rc = ivl_st_budget(st, b->budget, &old);
    if (rc == 0) return ivl_fail(IVL_E_BUDGET_EXISTS, _("budget %s already exists"), b->budget);
    if (rc != IVL_E_NOT_FOUND) return rc;
    if (b->total == 0) return ivl_fail(IVL_E_BUDGET_PARAM, _("budget total must be positive"));
    if (b->cap == 0) return ivl_fail(IVL_E_BUDGET_PARAM, _("per-enterprise cap must be positive"));
    if (b->ratio_bp == 0 || b->ratio_bp > 10000)
        return ivl_fail(IVL_E_BUDGET_PARAM, _("coverage ratio must be in (0, 100%%]"));
    struct ivl_budget_rec rec = {0};
    rec.b = *b;
    rec.seq = e->seq;
    rec.opened_at = e->appended_at;
    return ivl_st_put_budget(st, &rec);
}

static int rule_issue(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    const struct ivl_issue *is = &e->u.issue;
    struct ivl_budget_rec b;
    struct ivl_party_rec p;
    char a1[24], a2[24], a3[24], holder[IVL_MAX_GROUP + 3];
    uint64_t net;
    TRY(one_signer(st, e, IVL_ROLE_AUTHORITY, who, NULL));
    int rc = ivl_st_budget(st, is->budget, &b);
    if (rc == IVL_E_NOT_FOUND) return ivl_fail(IVL_E_BUDGET_UNKNOWN, _("no budget %s"), is->budget);
    if (rc) return rc;
    if (e->appended_at > b.b.until)
        return ivl_fail(IVL_E_BUDGET_CLOSED,
                        _("budget %s ended; no more vouchers can be issued from it"), is->budget);
    TRY(receiver(st, is->holder, IVL_ROLE_SME, &p));
    if (is->amount == 0) return ivl_fail(IVL_E_ZERO_AMOUNT, _("voucher amount must be positive"));
    uint64_t outstanding = b.issued - b.released;
    if (is->amount > b.b.total - outstanding)
        return ivl_fail(IVL_E_OVER_BUDGET, _("issue refused: %s exceeds the %s left in budget %s"),
                        fmt_amt(is->amount, a1), fmt_amt(b.b.total - outstanding, a2), is->budget);
    cap_holder(&p.p, holder, sizeof holder);
    TRY(ivl_st_cap(st, is->budget, holder, &net));
    if (net > b.b.cap || is->amount > b.b.cap - net)
        return ivl_fail(IVL_E_OVER_CAP,
                        p.p.group[0]
                            ? _("issue refused: %s would bring group %s to %s, over the "
                                "cap of %s")
                            : _("issue refused: %s would bring %s to %s, over the cap of %s"),
                        fmt_amt(is->amount, a1), p.p.group[0] ? p.p.group : p.p.uscc,
                        fmt_amt(net + is->amount, a2), fmt_amt(b.b.cap, a3));
    if (is->until > b.b.until)
        return ivl_fail(IVL_E_VOUCHER_UNTIL, _("voucher expiry is after the end of budget %s"),
                        is->budget);

    struct ivl_voucher_rec v = {0};
    memcpy(v.id, e->id, IVL_ID_LEN);
    snprintf(v.budget, sizeof v.budget, "%s", is->budget);
    memcpy(v.holder, is->holder, sizeof v.holder);
    v.face = v.remaining = is->amount;
    v.until = is->until;
    v.issued_at = e->appended_at;
    v.seq = e->seq;
    b.issued += is->amount;
    b.n_vouchers++;
    TRY(ivl_st_put_voucher(st, &v));
    TRY(ivl_st_add_holding(st, e->seq, is->holder, e->id));
    TRY(ivl_st_put_cap(st, is->budget, holder, net + is->amount));
    return ivl_st_put_budget(st, &b);
}

/* ---- redemption ---- */

static int check_category(const struct ivl_redeem *r, const struct ivl_budget_rec *b,
                          const struct ivl_party_rec *prov)
{
    uint8_t bl = b->b.categories, pl = prov->p.categories;
    if (!bl && !pl) return 0;
    if (!r->category)
        return ivl_fail(IVL_E_CATEGORY, _("a service category is required (--category)"));
    if (bl && !(bl & r->category))
        return ivl_fail(IVL_E_CATEGORY, _("budget %s does not fund category %s"), b->b.budget,
                        ivl_category_name(r->category));
    if (pl && !(pl & r->category))
        return ivl_fail(IVL_E_CATEGORY, _("provider %s is not registered for category %s"),
                        prov->p.uscc, ivl_category_name(r->category));
    return 0;
}

static int check_contract(struct ivl_state *st, const struct ivl_redeem *r,
                          const struct ivl_budget_rec *b, struct ivl_contract_rec *c)
{
    char a1[24], a2[24], a3[24], a4[24], pct[16];
    int rc = ivl_st_contract(st, r->contract, c);
    if (rc == IVL_E_NOT_FOUND) {
        memset(c, 0, sizeof *c);
        memcpy(c->sme, r->sme, sizeof c->sme);
        c->contract_amount = r->contract_amount;
    } else if (rc) {
        return rc;
    } else if (strcmp(c->sme, r->sme)) {
        return ivl_fail(IVL_E_CONTRACT_OTHER_SME,
                        _("redeem refused: this contract was already used by enterprise %s"),
                        c->sme);
    } else if (c->contract_amount != r->contract_amount) {
        return ivl_fail(
            IVL_E_CONTRACT_AMOUNT,
            _("redeem refused: this contract was redeemed before with amount %s, not %s"),
            fmt_amt(c->contract_amount, a1), fmt_amt(r->contract_amount, a2));
    }
    /* ≤ 1e11 fen × ≤ 1e4: fits in 64 bits; rounds down to the fen. */
    uint64_t limit = r->contract_amount * b->b.ratio_bp / 10000;
    ivl_percent_format(b->b.ratio_bp, pct, sizeof pct);
    if (c->redeemed > limit || r->amount > limit - c->redeemed)
        return ivl_fail(IVL_E_OVER_RATIO,
                        _("redeem refused: %s would bring vouchers on this contract to %s, over "
                          "%s of %s (at most %s)"),
                        fmt_amt(r->amount, a1), fmt_amt(c->redeemed + r->amount, a2), pct,
                        fmt_amt(r->contract_amount, a3), fmt_amt(limit, a4));
    return 0;
}

static int rule_redeem(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    const struct ivl_redeem *r = &e->u.redeem;
    struct ivl_voucher_rec v;
    struct ivl_budget_rec b;
    struct ivl_party_rec sme, prov;
    struct ivl_contract_rec c;
    char a1[24], a2[24], idb[37];
    if (e->n_sigs != 2)
        return ivl_fail(IVL_E_KEY_ROLE,
                        _("redeem needs the enterprise's and the provider's signature"));
    who->n = 2;
    TRY(signer(st, e, 0, r->sme, IVL_ROLE_SME, who, &sme));
    TRY(signer(st, e, 1, r->provider, IVL_ROLE_PROVIDER, who, &prov));
    int rc = ivl_st_voucher(st, r->voucher, &v);
    if (rc == IVL_E_NOT_FOUND)
        return ivl_fail(IVL_E_VOUCHER_UNKNOWN, _("no voucher %s"), fmt_id(r->voucher, idb));
    if (rc) return rc;
    if (strcmp(v.holder, r->sme))
        return ivl_fail(IVL_E_NOT_HOLDER, _("voucher %s is held by %s, not %s"),
                        fmt_id(r->voucher, idb), v.holder, r->sme);
    if (v.status == IVL_V_REVOKED)
        return ivl_fail(IVL_E_VOUCHER_REVOKED, _("voucher %s is revoked"), fmt_id(r->voucher, idb));
    if (v.status == IVL_V_EXPIRED || e->appended_at > v.until)
        return ivl_fail(IVL_E_VOUCHER_EXPIRED, _("voucher %s has expired"),
                        fmt_id(r->voucher, idb));
    for (uint32_t i = 0; i < sme.p.n_related; i++)
        if (!strcmp(sme.p.related[i], r->provider))
            return ivl_fail(IVL_E_RELATED,
                            _("redeem refused: provider %s (%s) is a related party of %s"),
                            r->provider, prov.p.name, r->sme);
    TRY(ivl_st_budget(st, v.budget, &b));
    TRY(check_category(r, &b, &prov));
    if (r->amount == 0 || r->contract_amount == 0)
        return ivl_fail(IVL_E_ZERO_AMOUNT, _("amount and contract amount must be positive"));
    if (r->amount > v.remaining)
        return ivl_fail(IVL_E_OVER_BALANCE,
                        _("redeem refused: %s exceeds the voucher's remaining %s (voucher %s)"),
                        fmt_amt(r->amount, a1), fmt_amt(v.remaining, a2), fmt_id(r->voucher, idb));
    TRY(check_contract(st, r, &b, &c));

    struct ivl_redemption_rec rec = {0};
    memcpy(rec.id, e->id, IVL_ID_LEN);
    rec.r = *r;
    rec.seq = e->seq;
    rec.at = e->appended_at;
    v.remaining -= r->amount;
    b.redeemed += r->amount;
    c.redeemed += r->amount;
    TRY(ivl_st_put_redemption(st, &rec));
    TRY(ivl_st_put_voucher(st, &v));
    TRY(ivl_st_put_budget(st, &b));
    return ivl_st_put_contract(st, r->contract, &c);
}

static int find_redemption(struct ivl_state *st, const uint8_t id[IVL_ID_LEN],
                           struct ivl_redemption_rec *r)
{
    char idb[37];
    int rc = ivl_st_redemption(st, id, r);
    if (rc == IVL_E_NOT_FOUND)
        return ivl_fail(IVL_E_REDEMPTION_UNKNOWN, _("no redemption %s"), fmt_id(id, idb));
    if (rc) return rc;
    if (r->status == IVL_R_CANCELLED)
        return ivl_fail(IVL_E_REDEMPTION_CANCELLED, _("redemption %s was cancelled"),
                        fmt_id(id, idb));
    return 0;
}

static int rule_cancel(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    struct ivl_redemption_rec r;
    struct ivl_voucher_rec v;
    struct ivl_budget_rec b;
    struct ivl_contract_rec c;
    char idb[37], idc[37];
    TRY(one_signer(st, e, IVL_ROLE_AUTHORITY, who, NULL));
    TRY(find_redemption(st, e->u.target.target, &r));
    if (memcmp(r.claim, zero_id, IVL_ID_LEN))
        return ivl_fail(IVL_E_REDEMPTION_CLAIMED, _("redemption %s already has claim %s"),
                        fmt_id(r.id, idb), fmt_id(r.claim, idc));
    TRY(ivl_st_voucher(st, r.r.voucher, &v));
    TRY(ivl_st_contract(st, r.r.contract, &c));
    r.status = IVL_R_CANCELLED;
    c.redeemed -= r.r.amount;
    TRY(ivl_st_budget(st, v.budget, &b));
    b.redeemed -= r.r.amount;
    TRY(ivl_st_put_budget(st, &b));
    if (v.status == IVL_V_ACTIVE)
        v.remaining += r.r.amount;
    else
        TRY(release(st, &v, r.r.amount)); /* the voucher is gone: the money goes home */
    TRY(ivl_st_put_voucher(st, &v));
    TRY(ivl_st_put_contract(st, r.r.contract, &c));
    return ivl_st_put_redemption(st, &r);
}

/* ---- claims and payment ---- */

static int rule_claim(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    struct ivl_redemption_rec r;
    struct ivl_budget_rec b;
    struct ivl_voucher_rec v;
    char a1[24], a2[24], idb[37], idc[37];
    TRY(one_signer(st, e, IVL_ROLE_PROVIDER, who, NULL));
    TRY(find_redemption(st, e->u.claim.redemption, &r));
    if (strcmp(r.r.provider, e->sigs[0].signer))
        return ivl_fail(IVL_E_NOT_PROVIDER, _("redemption %s was made with provider %s, not %s"),
                        fmt_id(r.id, idb), r.r.provider, e->sigs[0].signer);
    if (memcmp(r.claim, zero_id, IVL_ID_LEN))
        return ivl_fail(IVL_E_REDEMPTION_CLAIMED, _("redemption %s already has claim %s"),
                        fmt_id(r.id, idb), fmt_id(r.claim, idc));
    if (e->u.claim.amount != r.r.amount)
        return ivl_fail(IVL_E_CLAIM_AMOUNT, _("claim of %s must equal the redeemed %s"),
                        fmt_amt(e->u.claim.amount, a1), fmt_amt(r.r.amount, a2));
    TRY(ivl_st_voucher(st, r.r.voucher, &v));
    TRY(ivl_st_budget(st, v.budget, &b));
    struct ivl_claim_rec c = {0};
    memcpy(c.id, e->id, IVL_ID_LEN);
    memcpy(c.redemption, r.id, IVL_ID_LEN);
    memcpy(c.provider, r.r.provider, sizeof c.provider);
    memcpy(c.sme, r.r.sme, sizeof c.sme);
    memcpy(c.voucher, r.r.voucher, IVL_ID_LEN);
    c.amount = r.r.amount;
    memcpy(c.invoice, e->u.claim.invoice, IVL_HASHLEN);
    c.status = IVL_C_PENDING;
    c.seq = e->seq;
    c.claimed_at = e->appended_at;
    memcpy(r.claim, e->id, IVL_ID_LEN);
    b.claimed += c.amount;
    TRY(ivl_st_put_claim(st, &c));
    TRY(ivl_st_put_redemption(st, &r));
    return ivl_st_put_budget(st, &b);
}

/* Loads the claim named by the entry and checks it is in state `want`. */
static int claim_in(struct ivl_state *st, const struct ivl_entry *e, int want,
                    struct ivl_claim_rec *c, struct ivl_budget_rec *b)
{
    char idb[37];
    struct ivl_voucher_rec v;
    int rc = ivl_st_claim(st, e->u.target.target, c);
    if (rc == IVL_E_NOT_FOUND)
        return ivl_fail(IVL_E_CLAIM_UNKNOWN, _("no claim %s"), fmt_id(e->u.target.target, idb));
    if (rc) return rc;
    if (c->status != want)
        return ivl_fail(IVL_E_CLAIM_STATE, _("%s refused: claim %s is %s, not %s"),
                        ivl_type_name(e->type), fmt_id(c->id, idb),
                        _(ivl_claim_status_name(c->status)), _(ivl_claim_status_name(want)));
    TRY(ivl_st_voucher(st, c->voucher, &v));
    return ivl_st_budget(st, v.budget, b);
}

static int rule_decide(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    struct ivl_claim_rec c;
    struct ivl_budget_rec b;
    TRY(one_signer(st, e, IVL_ROLE_AUTHORITY, who, NULL));
    TRY(claim_in(st, e, IVL_C_PENDING, &c, &b));
    c.decided_at = e->appended_at;
    if (e->type == IVL_T_APPROVE) {
        c.status = IVL_C_APPROVED;
    } else {
        c.status = IVL_C_REJECTED;
        snprintf(c.note, sizeof c.note, "%s", e->u.target.text);
        b.claimed -= c.amount;
        TRY(ivl_st_put_budget(st, &b));
    }
    return ivl_st_put_claim(st, &c);
}

static int rule_pay(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    struct ivl_claim_rec c;
    struct ivl_budget_rec b;
    struct ivl_party_rec prov;
    TRY(one_signer(st, e, IVL_ROLE_FINANCE, who, NULL));
    TRY(claim_in(st, e, IVL_C_APPROVED, &c, &b));
    TRY(receiver(st, c.provider, IVL_ROLE_PROVIDER,
                 &prov)); /* a suspended party receives nothing */
    c.status = IVL_C_PAID;
    c.paid_at = e->appended_at;
    snprintf(c.bank_ref, sizeof c.bank_ref, "%s", e->u.target.text);
    b.paid += c.amount;
    TRY(ivl_st_put_budget(st, &b));
    return ivl_st_put_claim(st, &c);
}

static int rule_clawback(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    struct ivl_claim_rec c;
    struct ivl_budget_rec b;
    TRY(one_signer(st, e, IVL_ROLE_AUTHORITY, who, NULL));
    TRY(claim_in(st, e, IVL_C_PAID, &c, &b));
    c.status = IVL_C_CLAWED_BACK;
    snprintf(c.note, sizeof c.note, "%s", e->u.target.text);
    b.clawed_back += c.amount;
    TRY(ivl_st_put_budget(st, &b));
    return ivl_st_put_claim(st, &c);
}

/* ---- revocation and expiry ---- */

static int rule_revoke(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    struct ivl_voucher_rec v;
    char idb[37];
    TRY(one_signer(st, e, IVL_ROLE_AUTHORITY, who, NULL));
    int rc = ivl_st_voucher(st, e->u.target.target, &v);
    if (rc == IVL_E_NOT_FOUND)
        return ivl_fail(IVL_E_VOUCHER_UNKNOWN, _("no voucher %s"), fmt_id(e->u.target.target, idb));
    if (rc) return rc;
    if (v.status == IVL_V_REVOKED)
        return ivl_fail(IVL_E_ALREADY_REVOKED, _("voucher %s is already revoked"),
                        fmt_id(v.id, idb));
    uint64_t amount = v.remaining;
    v.remaining = 0;
    v.status = IVL_V_REVOKED;
    if (amount) TRY(release(st, &v, amount));
    return ivl_st_put_voucher(st, &v);
}

/* Every active voucher past its expiry at time `at` with money left, in id
 * order: what an expire entry at that time must list. */
int ivl_rules_expirable(struct ivl_state *st, int64_t at, struct ivl_expired **list, uint32_t *n)
{
    MDB_cursor *cur;
    MDB_val k, v;
    size_t cap = 0;
    *list = NULL;
    *n = 0;
    int rc = mdb_cursor_open(st->txn, st->dbi[IVL_DB_VOUCHERS], &cur);
    if (rc) return ivl_st_mdb_err(rc, "vouchers");
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct ivl_voucher_rec x;
        int r2 = ivl_rec_voucher(&k, &v, &x);
        if (r2) {
            mdb_cursor_close(cur);
            free(*list);
            return r2;
        }
        if (x.status != IVL_V_ACTIVE || x.until >= at || x.remaining == 0) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            struct ivl_expired *nl = realloc(*list, cap * sizeof **list);
            if (!nl) {
                mdb_cursor_close(cur);
                free(*list);
                return ivl_fail(IVL_E_NOMEM, _("out of memory"));
            }
            *list = nl;
        }
        memcpy((*list)[*n].voucher, x.id, IVL_ID_LEN);
        (*list)[(*n)++].amount = x.remaining;
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND) {
        free(*list);
        return ivl_st_mdb_err(rc, "vouchers");
    }
    return 0;
}

static int rule_expire(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    struct ivl_expired *want;
    uint32_t n;
    char idb[37];
    TRY(one_signer(st, e, IVL_ROLE_AUTHORITY, who, NULL));
    TRY(ivl_rules_expirable(st, e->appended_at, &want, &n));
    int rc = 0;
    if (n == 0)
        rc = ivl_fail(IVL_E_NOTHING_TO_EXPIRE, _("no voucher is past its expiry with money left"));
    else if (n != e->u.expire.n)
        rc = ivl_fail(IVL_E_EXPIRE_LIST, _("%u vouchers are past expiry, the entry lists %u"), n,
                      e->u.expire.n);
    for (uint32_t i = 0; !rc && i < n; i++)
        if (memcmp(want[i].voucher, e->u.expire.list[i].voucher, IVL_ID_LEN) ||
            want[i].amount != e->u.expire.list[i].amount)
            rc = ivl_fail(IVL_E_EXPIRE_LIST, _("expiry list differs at voucher %s"),
                          fmt_id(want[i].voucher, idb));
    for (uint32_t i = 0; !rc && i < n; i++) {
        struct ivl_voucher_rec v;
        rc = ivl_st_voucher(st, want[i].voucher, &v);
        if (rc) break;
        v.status = IVL_V_EXPIRED;
        v.remaining = 0;
        rc = release(st, &v, want[i].amount);
        if (!rc) rc = ivl_st_put_voucher(st, &v);
    }
    free(want);
    return rc;
}

/* ---- attestation ---- */

static int node_get(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    return ivl_st_node(ctx, level, index, out);
}

static int rule_attest(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    const struct ivl_attest *a = &e->u.attest;
    struct ivl_party_rec aud;
    uint8_t root[IVL_HASHLEN];
    char text[512];
    TRY(one_signer(st, e, IVL_ROLE_AUDITOR, who, &aud));
    if (a->size == 0 || a->size > e->seq)
        return ivl_fail(IVL_E_ATTEST_MISMATCH,
                        _("attested size %llu is not in the log (size %llu)"),
                        (unsigned long long)a->size, (unsigned long long)e->seq);
    TRY(ivl_merkle_root(st, node_get, a->size, root));
    if (memcmp(root, a->root, IVL_HASHLEN))
        return ivl_fail(IVL_E_ATTEST_MISMATCH,
                        _("attested root is not the log's root at size %llu"),
                        (unsigned long long)a->size);
    /* The cosignature is a signed-note signature of the checkpoint text by the
     * auditor's key: Ed25519 over the text bytes. */
    TRY(ivl_checkpoint_format(st->origin, a->size, a->root, text, sizeof text));
    if (crypto_sign_verify_detached(a->note_sig, (const uint8_t *)text, strlen(text), aud.p.pub))
        return ivl_fail(IVL_E_BAD_SIG, _("the auditor's checkpoint signature does not verify"));
    return 0;
}

/* ---- dispatch ---- */

typedef int (*rule_fn)(struct ivl_state *, const struct ivl_entry *, struct ivl_signers *);

static const rule_fn rules[IVL_T_MAX + 1] = {
    [IVL_T_GENESIS] = rule_genesis,   [IVL_T_PARTY] = rule_party,   [IVL_T_SUSPEND] = rule_suspend,
    [IVL_T_REKEY] = rule_rekey,       [IVL_T_BUDGET] = rule_budget, [IVL_T_ISSUE] = rule_issue,
    [IVL_T_REDEEM] = rule_redeem,     [IVL_T_CANCEL] = rule_cancel, [IVL_T_CLAIM] = rule_claim,
    [IVL_T_APPROVE] = rule_decide,    [IVL_T_REJECT] = rule_decide, [IVL_T_PAY] = rule_pay,
    [IVL_T_CLAWBACK] = rule_clawback, [IVL_T_REVOKE] = rule_revoke, [IVL_T_EXPIRE] = rule_expire,
    [IVL_T_ATTEST] = rule_attest,
};

int ivl_rules_apply(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who)
{
    uint64_t seq;
    uint8_t type;
    memset(who, 0, sizeof *who);
    if (e->type < 1 || e->type > IVL_T_MAX) return ivl_fail(IVL_E_DECODE, _("unknown entry type"));
    if (e->type != IVL_T_GENESIS && e->seq == 0)
        return ivl_fail(IVL_E_GENESIS, _("the first entry must be genesis"));
    if (e->signed_at > e->appended_at + IVL_SIGN_SKEW)
        return ivl_fail(IVL_E_TIME, _("entry is signed in the future (more than %d s ahead)"),
                        IVL_SIGN_SKEW);
    if (!memcmp(e->id, zero_id, IVL_ID_LEN))
        return ivl_fail(IVL_E_RULE, _("an entry id may not be all zero"));
    int rc = ivl_st_id(st, e->id, &seq, &type);
    if (rc == 0) {
        char idb[37];
        return ivl_fail(IVL_E_DUP_ID, _("id %s is already used by entry %llu (%s)"),
                        fmt_id(e->id, idb), (unsigned long long)seq, ivl_type_name(type));
    }
    if (rc != IVL_E_NOT_FOUND) return rc;
    TRY(rules[e->type](st, e, who));
    return ivl_st_put_id(st, e->id, e->seq, e->type);
}
