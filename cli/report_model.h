/*
 * report_model.h - what `ivl report` gathers from one read transaction (the
 * state tables and the log, both as of one signed checkpoint) and the
 * writers that print it as text, CSV, JSON or HTML.
 *
 * Two kinds of numbers, never mixed in one table:
 *  - positions, from the state tables as of the checkpoint: budget use,
 *    vouchers by status, money per enterprise and per provider, the claim
 *    pipeline. With --from/--to only the objects created in the window count
 *    (vouchers by issue time, redemptions by redemption time, claims by claim
 *    time); a budget's own totals are always whole.
 *  - flows, from the log entries appended in the window: month by month (in
 *    China Standard Time) what was issued, redeemed, cancelled, claimed,
 *    approved, rejected, paid, released and clawed back.
 * Money is integer fen everywhere (the charts scale integers at the end).
 */
#ifndef IVL_REPORT_MODEL_H
#define IVL_REPORT_MODEL_H

#include "cli.h"

#include <stdint.h>
#include <stdio.h>

/* Voucher states as people see them. */
enum { REP_V_ACTIVE, REP_V_SPENT, REP_V_EXPIRED, REP_V_REVOKED, REP_V_N };
/* Claim states, as ivl_claim_status (pending approved rejected paid clawed_back). */
enum { REP_C_N = 5 };
/* Monthly flow kinds. */
enum {
    REP_F_ISSUED,
    REP_F_REDEEMED,
    REP_F_CANCELLED,
    REP_F_CLAIMED,
    REP_F_APPROVED,
    REP_F_REJECTED,
    REP_F_PAID,
    REP_F_RELEASED,
    REP_F_CLAWED_BACK,
    REP_F_N
};

struct rep_vstat {
    uint64_t count, face, remaining, redeemed, released;
};

struct rep_cstat {
    uint64_t count, amount, days_sum, days_max;
};

struct rep_party {
    ivl_uscc uscc;
    char name[IVL_MAX_NAME + 1];
    uint8_t role, suspended;
    /* as enterprise (sme): its vouchers */
    uint64_t vouchers, issued, redeemed, released, remaining, paid;
    /* as provider: its redemptions, split by the state of their claim */
    uint64_t redemptions, p_redeemed, unclaimed, pending, approved, p_paid, rejected, clawed_back;
};

struct rep_claim {
    uint8_t id[IVL_ID_LEN];
    size_t provider; /* index into parties */
    uint8_t status;
    uint64_t amount;
    int64_t claimed_at, days;
};

struct rep_month {
    int ym; /* year * 12 + month - 1, China Standard Time */
    uint64_t f[REP_F_N];
};

struct report {
    /* where it was made from */
    char origin[IVL_MAX_ORIGIN + 1];
    uint64_t size;
    uint8_t root[IVL_HASHLEN];
    char *checkpoint; /* the signed note of `size` (malloc'd) */
    int64_t now, from, to;
    const char *budget; /* filter, or NULL */
    /* the last auditor attestation in the log (attest_size 0 = none) */
    uint64_t attest_size;
    int64_t attest_at;
    char attest_by[IVL_MAX_NAME + 1];

    struct ivl_budget_rec *budgets;
    size_t n_budgets;
    struct rep_vstat vs[REP_V_N];
    struct rep_party *parties; /* every registered sme and provider, by USCC */
    size_t n_parties;
    struct rep_cstat cs[REP_C_N];
    struct rep_claim *open; /* pending and approved claims, oldest first */
    size_t n_open;
    struct rep_month *months; /* contiguous months with any flow */
    size_t n_months;
    uint64_t flow_total[REP_F_N];
};

/* Names (N_ strings: translate with _() when shown to people). */
extern const char *const rep_vstat_label[REP_V_N];
extern const char *const rep_vstat_key[REP_V_N];
extern const char *const rep_cstat_label[REP_C_N];
extern const char *const rep_flow_label[REP_F_N];
extern const char *const rep_flow_key[REP_F_N];

/* Enterprise / provider rows worth a line: the party has something in scope. */
int rep_sme_shown(const struct rep_party *p);
int rep_provider_shown(const struct rep_party *p);
uint64_t rep_available(const struct ivl_budget_rec *b);
/* "2026-03" for a month index. buf of 16. */
const char *rep_month_str(int ym, char *buf);
/* Integer a * num / den without overflow for a, num < 2^63, den > 0 (rounded down). */
uint64_t rep_scale(uint64_t a, uint64_t num, uint64_t den);
/* Average of `sum` over `n`, rounded half up (0 when n is 0). */
uint64_t rep_avg(uint64_t sum, uint64_t n);

/* The writers. Each writes the whole document to f. */
int rep_write_text(const struct report *r, FILE *f);
int rep_write_csv(const struct report *r, FILE *f);
int rep_write_json(const struct report *r, FILE *f);
int rep_write_html(const struct report *r, FILE *f);

#endif
