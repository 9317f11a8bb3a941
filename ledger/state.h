/*
 * state.h - the state tables that the rules read and write, and the LMDB
 * transaction they live in.
 *
 * Every table is a deterministic function of the log: ivl_verify replays the
 * log into an empty environment and compares every table byte for byte, so
 * records are encoded explicitly (big-endian, no struct padding).
 */
#ifndef IVL_STATE_H
#define IVL_STATE_H

#include "entry.h"

#include <lmdb.h>

/* Named databases of the environment. */
enum ivl_dbi {
    IVL_DB_META,     /* "head", "origin", "log_pub", "layout": log-wide facts */
    IVL_DB_LEAVES,   /* seq (u64 BE) -> leaf bytes */
    IVL_DB_NODES,    /* end (u64 BE, (index+1) << level) || level (u8) -> hash of a complete subtree
                        (level
                        >= 1; a level-0 node is the hash of the leaf, not stored) */
    IVL_DB_CPS,      /* size (u64 BE) -> log key's signature of the checkpoint of that size */
    IVL_DB_IDS,      /* entry id (16) -> seq (u64 BE) || type (u8) */
    IVL_DB_PARTIES,  /* USCC (18) -> party record */
    IVL_DB_PUBKEYS,  /* public key (32) -> USCC (18), every key ever registered */
    IVL_DB_BUDGETS,  /* budget id -> budget record */
    IVL_DB_CAPS,     /* budget id || 0x00 || "g:" group | "s:" USCC -> net issued (u64 BE) */
    IVL_DB_VOUCHERS, /* voucher id (16) -> voucher record */
    IVL_DB_HOLDINGS, /* USCC (18) -> voucher id (16), sorted duplicates of one size: the
                        vouchers issued before `recent` was last moved here */
    IVL_DB_RECENT,   /* seq (u64 BE) -> USCC (18) || voucher id (16): the vouchers issued
                        since, in log order (see ivl_st_add_holding) */
    IVL_DB_REDEMPTIONS, /* redemption id (16) -> redemption record */
    IVL_DB_CONTRACTS,   /* contract hash (32) -> contract record */
    IVL_DB_CLAIMS,      /* claim id (16) -> claim record */
    IVL_DB_COUNT
};

/* The layout of the tables other than `leaves` (which hold the log, in its
 * own versioned format): written by the genesis entry under meta "layout"
 * (one byte), so a replay writes it too. 1: until voucher records lost
 * their id and took varints (no "layout" key); 2: until `holdings` kept a
 * holder's vouchers as sorted duplicates under one key; 3: until the
 * vouchers issued since the last move were kept in `recent`; 4: since. A ledger
 * in another layout is refused at open: its tables are rebuilt by importing
 * an export. */
#define IVL_STATE_LAYOUT 4
/* The LMDB flags a table is created with (MDB_DUPSORT | MDB_DUPFIXED for
 * `holdings`, else 0); an existing table keeps those it was created with. */
unsigned ivl_db_flags(int db);

extern const char *const ivl_db_names[IVL_DB_COUNT];

struct ivl_head {
    uint64_t size;
    int64_t last_time;
    uint8_t root[IVL_HASHLEN];
};

enum ivl_party_status { IVL_PARTY_ACTIVE = 0, IVL_PARTY_SUSPENDED = 1 };

struct ivl_party_rec {
    struct ivl_party p; /* as registered, with the current key */
    uint8_t status;
    uint64_t registered_seq, changed_seq; /* changed: last suspend or rekey */
    int64_t registered_at;
};

struct ivl_budget_rec {
    struct ivl_budget b;
    uint64_t seq;
    int64_t opened_at;
    uint64_t issued, released, redeemed, claimed, paid, clawed_back;
    uint64_t n_vouchers;
};

enum ivl_voucher_status { IVL_V_ACTIVE = 0, IVL_V_REVOKED = 1, IVL_V_EXPIRED = 2 };

struct ivl_voucher_rec {
    uint8_t id[IVL_ID_LEN];
    char budget[IVL_MAX_BUDGETID + 1];
    ivl_uscc holder;
    uint64_t face, remaining, released;
    int64_t until, issued_at;
    uint64_t seq;
    uint8_t status;
};

enum ivl_redemption_status { IVL_R_ACTIVE = 0, IVL_R_CANCELLED = 1 };

struct ivl_redemption_rec {
    uint8_t id[IVL_ID_LEN];
    struct ivl_redeem r;
    uint8_t status;
    uint8_t claim[IVL_ID_LEN]; /* all zero = no claim */
    uint64_t seq;
    int64_t at;
};

struct ivl_contract_rec {
    ivl_uscc sme;
    uint64_t contract_amount, redeemed;
};

enum ivl_claim_status {
    IVL_C_PENDING = 0,
    IVL_C_APPROVED,
    IVL_C_REJECTED,
    IVL_C_PAID,
    IVL_C_CLAWED_BACK
};

struct ivl_claim_rec {
    uint8_t id[IVL_ID_LEN];
    uint8_t redemption[IVL_ID_LEN];
    ivl_uscc provider, sme;
    uint8_t voucher[IVL_ID_LEN];
    uint64_t amount;
    uint8_t invoice[IVL_HASHLEN];
    uint8_t status;
    char note[IVL_MAX_REASON + 1]; /* reject / clawback reason */
    char bank_ref[IVL_MAX_REF + 1];
    uint64_t seq;
    int64_t claimed_at, decided_at, paid_at;
};

const char *ivl_claim_status_name(int s);
const char *ivl_voucher_status_name(int s);

/* A write (or read) transaction over the tables. */
struct ivl_state {
    MDB_txn *txn;
    MDB_dbi dbi[IVL_DB_COUNT];
    char origin[IVL_MAX_ORIGIN + 1]; /* "" before genesis */
};

/* Low-level get/put: 0, IVL_E_NOT_FOUND (get), IVL_E_STORE / IVL_E_NOSPACE. */
int ivl_st_get(struct ivl_state *st, int db, const void *k, size_t kl, MDB_val *v);
int ivl_st_put(struct ivl_state *st, int db, const void *k, size_t kl, const void *v, size_t vl);
int ivl_st_del(struct ivl_state *st, int db, const void *k, size_t kl);
/* Puts a record whose key sorts after every key in the table (MDB_APPEND:
 * pages fill completely); IVL_E_CORRUPT if a later key is already there. */
int ivl_st_append(struct ivl_state *st, int db, const void *k, size_t kl, const void *v, size_t vl);
/* Maps an LMDB return code to an ivl error with `what` in the detail. */
int ivl_st_mdb_err(int rc, const char *what);

int ivl_st_head(struct ivl_state *st, struct ivl_head *h);
int ivl_st_put_head(struct ivl_state *st, const struct ivl_head *h);

/* Typed records: get returns IVL_E_NOT_FOUND when absent, IVL_E_CORRUPT when
 * the stored bytes do not decode. */
int ivl_st_party(struct ivl_state *st, const char *uscc, struct ivl_party_rec *p);
int ivl_st_put_party(struct ivl_state *st, const struct ivl_party_rec *p);
int ivl_st_budget(struct ivl_state *st, const char *id, struct ivl_budget_rec *b);
/* The cache of one batch append (state.c): begin after the write transaction
 * begins; flush before anything but the rules reads the tables and before
 * the commit; end on every way out. */
void ivl_st_cache_begin(struct ivl_state *st);
int ivl_st_cache_flush(struct ivl_state *st);
void ivl_st_cache_end(void);
int ivl_st_put_budget(struct ivl_state *st, const struct ivl_budget_rec *b);
int ivl_st_voucher(struct ivl_state *st, const uint8_t id[IVL_ID_LEN], struct ivl_voucher_rec *v);
int ivl_st_put_voucher(struct ivl_state *st, const struct ivl_voucher_rec *v);
int ivl_st_redemption(struct ivl_state *st, const uint8_t id[IVL_ID_LEN],
                      struct ivl_redemption_rec *r);
int ivl_st_put_redemption(struct ivl_state *st, const struct ivl_redemption_rec *r);
int ivl_st_contract(struct ivl_state *st, const uint8_t h[IVL_HASHLEN], struct ivl_contract_rec *c);
int ivl_st_put_contract(struct ivl_state *st, const uint8_t h[IVL_HASHLEN],
                        const struct ivl_contract_rec *c);
int ivl_st_claim(struct ivl_state *st, const uint8_t id[IVL_ID_LEN], struct ivl_claim_rec *c);
int ivl_st_put_claim(struct ivl_state *st, const struct ivl_claim_rec *c);
int ivl_st_cap(struct ivl_state *st, const char *budget, const char *holder_key, uint64_t *net);
int ivl_st_put_cap(struct ivl_state *st, const char *budget, const char *holder_key, uint64_t net);
/* A voucher issued to a holder (`seq`: its entry). It goes to the end of
 * `recent`, so a batch of issues appends to a few pages there instead of
 * touching a page of `holdings` for nearly every holder; once `recent` holds
 * ivl_recent_limit vouchers, they all move into `holdings` in the same
 * transaction. The move happens at the same entry in every replay, so a
 * verification compares both tables as they are. */
int ivl_st_add_holding(struct ivl_state *st, uint64_t seq, const char uscc[IVL_USCC_LEN],
                       const uint8_t id[IVL_ID_LEN]);
/* The size of `recent` at which it moves into `holdings`: IVL_RECENT_LIMIT.
 * Part of the layout (a ledger and its verification must use the same
 * value); only the tests change it, to cross it with a few entries. */
#define IVL_RECENT_LIMIT 65536
extern size_t ivl_recent_limit;
/* The ids of a holder's vouchers (both tables), in id order: *ids is
 * malloc'd (NULL when there are none), the caller frees it. */
int ivl_st_holder_vouchers(struct ivl_state *st, const char uscc[IVL_USCC_LEN],
                           uint8_t (**ids)[IVL_ID_LEN], size_t *n);
/* Id index: seq and type of the entry with this id. */
int ivl_st_id(struct ivl_state *st, const uint8_t id[IVL_ID_LEN], uint64_t *seq, uint8_t *type);
int ivl_st_put_id(struct ivl_state *st, const uint8_t id[IVL_ID_LEN], uint64_t seq, uint8_t type);
/* Merkle nodes: (level, index) -> hash of the complete subtree; level 0 is
 * computed from the stored leaf. */
int ivl_st_node(struct ivl_state *st, unsigned level, uint64_t index, uint8_t out[IVL_HASHLEN]);
int ivl_st_put_node(struct ivl_state *st, unsigned level, uint64_t index,
                    const uint8_t h[IVL_HASHLEN]);
/* Decoders of record bytes, for iteration by callers. */
int ivl_rec_party(const MDB_val *v, struct ivl_party_rec *p);
int ivl_rec_budget(const MDB_val *v, struct ivl_budget_rec *b);
/* k: the record's key (the voucher id). */
int ivl_rec_voucher(const MDB_val *k, const MDB_val *v, struct ivl_voucher_rec *r);
int ivl_rec_redemption(const MDB_val *v, struct ivl_redemption_rec *r);
int ivl_rec_claim(const MDB_val *v, struct ivl_claim_rec *c);

/* ---- rules (rules.c) ---- */

/* The public keys that must have signed each signature slot of an entry. */
struct ivl_signers {
    uint32_t n;
    uint8_t pub[IVL_MAX_SIGS][IVL_PUB_LEN];
};

/* Checks `e` (with seq and appended_at set) against the state and, if every
 * rule holds, applies it to the state tables. Returns the rule's error code
 * (IVL_E_* of exit class 1, or IVL_E_KEY_ROLE when a signer may not sign it)
 * with a message a clerk understands; on error the caller aborts the
 * transaction. Fills `who` with the keys whose signatures the caller must
 * check; ivl_rules_apply itself does no cryptography. */
int ivl_rules_apply(struct ivl_state *st, const struct ivl_entry *e, struct ivl_signers *who);

/* Every active voucher past its expiry at time `at` with money left, in id
 * order (what an expire entry appended at `at` must list). *list is malloc'd. */
int ivl_rules_expirable(struct ivl_state *st, int64_t at, struct ivl_expired **list, uint32_t *n);

#endif
