/*
 * entry.h - the ledger's entries in memory and their canonical encoding.
 *
 * An entry is a signed body (what the parties authorised) wrapped in a leaf
 * (what the ledger added: sequence number, append time, signatures). The
 * encoding is canonical: ivl_leaf_decode() accepts exactly the bytes that
 * ivl_leaf_encode() produces for some entry and nothing else, so the leaf
 * hash identifies the entry. docs/FORMAT.md describes every byte.
 */
#ifndef IVL_ENTRY_H
#define IVL_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define IVL_FORMAT_VERSION 1
#define IVL_USCC_LEN       18
#define IVL_ID_LEN         16
#define IVL_PUB_LEN        32
#define IVL_SIG_LEN        64
#define IVL_HASHLEN        32

/* Maximum byte lengths of text fields (UTF-8, no control characters). */
#define IVL_MAX_ORIGIN   128
#define IVL_MAX_NAME     200
#define IVL_MAX_KEYNAME  128
#define IVL_MAX_GROUP    128
#define IVL_MAX_BUDGETID 64
#define IVL_MAX_REASON   500
#define IVL_MAX_REF      64
#define IVL_MAX_RELATED  64
#define IVL_MAX_EXPIRE   1000000
#define IVL_MAX_SIGS     2
#define IVL_MAX_LEAF     (1u << 26)

enum ivl_type {
    IVL_T_GENESIS = 1,
    IVL_T_PARTY,
    IVL_T_SUSPEND,
    IVL_T_REKEY,
    IVL_T_BUDGET,
    IVL_T_ISSUE,
    IVL_T_REDEEM,
    IVL_T_CANCEL,
    IVL_T_CLAIM,
    IVL_T_APPROVE,
    IVL_T_REJECT,
    IVL_T_PAY,
    IVL_T_CLAWBACK,
    IVL_T_REVOKE,
    IVL_T_EXPIRE,
    IVL_T_ATTEST,
    IVL_T_MAX = IVL_T_ATTEST
};

enum ivl_role {
    IVL_ROLE_AUTHORITY = 1,
    IVL_ROLE_SME,
    IVL_ROLE_PROVIDER,
    IVL_ROLE_FINANCE,
    IVL_ROLE_AUDITOR,
    IVL_ROLE_MAX = IVL_ROLE_AUDITOR
};

/* Service categories, a bit each. */
enum ivl_category {
    IVL_CAT_RD = 1 << 0,
    IVL_CAT_TESTING = 1 << 1,
    IVL_CAT_IP = 1 << 2,
    IVL_CAT_CONSULTING = 1 << 3,
    IVL_CAT_TRANSFER = 1 << 4,
    IVL_CAT_INSTRUMENTS = 1 << 5,
    IVL_CAT_ALL = (1 << 6) - 1
};

#define IVL_PARTY_USCC_UNCHECKED 1u /* party flag: registered despite a bad check digit */

typedef char ivl_uscc[IVL_USCC_LEN + 1]; /* NUL-terminated */

struct ivl_genesis {
    char origin[IVL_MAX_ORIGIN + 1];
    ivl_uscc authority;
    char name[IVL_MAX_NAME + 1];
    char key_name[IVL_MAX_KEYNAME + 1];
    uint8_t pub[IVL_PUB_LEN];
    uint8_t log_pub[IVL_PUB_LEN];
};

struct ivl_party {
    ivl_uscc uscc;
    uint8_t role;
    uint8_t flags;
    uint8_t categories;
    char name[IVL_MAX_NAME + 1];
    char key_name[IVL_MAX_KEYNAME + 1];
    uint8_t pub[IVL_PUB_LEN];
    char group[IVL_MAX_GROUP + 1]; /* "" = none */
    uint32_t n_related;
    ivl_uscc related[IVL_MAX_RELATED]; /* strictly increasing */
};

struct ivl_suspend {
    ivl_uscc uscc;
    char reason[IVL_MAX_REASON + 1];
};

struct ivl_rekey {
    ivl_uscc uscc;
    char key_name[IVL_MAX_KEYNAME + 1];
    uint8_t pub[IVL_PUB_LEN];
};

struct ivl_budget {
    char budget[IVL_MAX_BUDGETID + 1];
    uint64_t total, cap;
    uint32_t ratio_bp; /* hundredths of a percent, 1..10000 */
    int64_t until;
    uint8_t categories; /* 0 = any */
};

struct ivl_issue {
    char budget[IVL_MAX_BUDGETID + 1];
    ivl_uscc holder;
    uint64_t amount;
    int64_t until;
};

struct ivl_redeem {
    uint8_t voucher[IVL_ID_LEN];
    ivl_uscc sme, provider;
    uint8_t contract[IVL_HASHLEN];
    uint64_t contract_amount, amount;
    uint8_t category; /* one IVL_CAT_* bit, or 0 = none */
};

/* cancel, approve, reject, clawback, revoke: a target id and maybe a reason/reference. */
struct ivl_target {
    uint8_t target[IVL_ID_LEN];
    char text[IVL_MAX_REASON + 1]; /* reason, or the bank reference of pay */
};

struct ivl_claim {
    uint8_t redemption[IVL_ID_LEN];
    uint64_t amount;
    uint8_t invoice[IVL_HASHLEN];
};

struct ivl_expired {
    uint8_t voucher[IVL_ID_LEN];
    uint64_t amount;
};

struct ivl_expire {
    uint32_t n;
    struct ivl_expired *list; /* malloc'd, strictly increasing voucher ids */
};

struct ivl_attest {
    uint64_t size;
    uint8_t root[IVL_HASHLEN];
    uint8_t note_sig[IVL_SIG_LEN]; /* auditor's signed-note signature of the checkpoint */
};

struct ivl_sig {
    ivl_uscc signer;
    uint8_t sig[IVL_SIG_LEN];
};

struct ivl_entry {
    /* Leaf fields, set by the ledger when it appends. */
    uint64_t seq;
    int64_t appended_at;
    /* Body, signed by the parties. */
    uint8_t type;
    uint8_t id[IVL_ID_LEN];
    int64_t signed_at;
    union {
        struct ivl_genesis genesis;
        struct ivl_party party;
        struct ivl_suspend suspend;
        struct ivl_rekey rekey;
        struct ivl_budget budget;
        struct ivl_issue issue;
        struct ivl_redeem redeem;
        struct ivl_target target; /* cancel approve reject pay clawback revoke */
        struct ivl_claim claim;
        struct ivl_expire expire;
        struct ivl_attest attest;
    } u;
    uint32_t n_sigs;
    struct ivl_sig sigs[IVL_MAX_SIGS];
};

/* Copies the string src into dst[cap], cut to fit and always terminated:
 * snprintf(dst, cap, "%s", src) without the cost of a format, for loops that
 * copy identifiers per entry. */
static inline void ivl_strcpy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* A growable byte buffer used by the encoders. */
struct ivl_buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
};
void ivl_buf_free(struct ivl_buf *b);
void ivl_buf_put(struct ivl_buf *b, const void *p, size_t n);
void ivl_buf_u8(struct ivl_buf *b, uint8_t v);
void ivl_buf_u64(struct ivl_buf *b, uint64_t v);
void ivl_buf_varint(struct ivl_buf *b, uint64_t v);
void ivl_buf_str(struct ivl_buf *b, const char *s);

/* A bounds-checked reader used by the decoders: every getter fails (returns
 * IVL_E_DECODE with the offset) on truncation or a non-canonical value. */
struct ivl_rd {
    const uint8_t *p;
    size_t len, off;
};
int ivl_rd_u8(struct ivl_rd *r, uint8_t *v);
int ivl_rd_u64(struct ivl_rd *r, uint64_t *v);
int ivl_rd_varint(struct ivl_rd *r, uint64_t max, uint64_t *v);
int ivl_rd_bytes(struct ivl_rd *r, void *out, size_t n);
int ivl_rd_str(struct ivl_rd *r, char *out, size_t maxlen, int allow_empty, const char *field);
int ivl_rd_end(struct ivl_rd *r);

/* The party fields as in a party body (shared with the state records). */
void ivl_buf_party(struct ivl_buf *b, const struct ivl_party *p);
int ivl_rd_party(struct ivl_rd *r, struct ivl_party *p);

/* Zeroes an entry (and frees what it owns). */
void ivl_entry_free(struct ivl_entry *e);
/* Encodes the signed body (type, id, signed_at, fields). Validates field
 * ranges first: IVL_E_USAGE with the field name; IVL_E_NOMEM. */
int ivl_body_encode(const struct ivl_entry *e, struct ivl_buf *out);
/* Encodes the whole leaf: version, seq, appended_at, body, signatures. */
int ivl_leaf_encode(const struct ivl_entry *e, struct ivl_buf *out);
/* Strict decoders (IVL_E_DECODE with the byte offset). The entry must be
 * released with ivl_entry_free(). */
int ivl_body_decode(const uint8_t *p, size_t len, struct ivl_entry *e);
int ivl_leaf_decode(const uint8_t *p, size_t len, struct ivl_entry *e);
/* Locates the body inside leaf bytes without a full decode. */
int ivl_leaf_body(const uint8_t *leaf, size_t len, const uint8_t **body, size_t *body_len);

/* The exact message a party signs: "ivl/v1/entry\n" || varint(len origin) ||
 * origin || body. */
int ivl_sig_message(const char *origin, const uint8_t *body, size_t body_len, struct ivl_buf *out);

/* Names: "genesis", "sme", "rd", ... and back (0 / -1 when unknown). */
const char *ivl_type_name(int type);
int ivl_type_from_name(const char *s);
const char *ivl_role_name(int role);
int ivl_role_from_name(const char *s);
const char *ivl_category_name(int bit);
int ivl_category_from_name(const char *s);
/* Parses "rd,testing" into a bitmask (IVL_E_USAGE naming the bad item). */
int ivl_categories_parse(const char *s, uint8_t *mask);
/* Formats a bitmask as "rd,testing" ("" for 0). */
void ivl_categories_format(uint8_t mask, char *out, size_t outlen);
/* UUID text (36 chars + NUL) and back (IVL_E_USAGE). */
void ivl_id_format(const uint8_t id[IVL_ID_LEN], char out[37]);
int ivl_id_parse(const char *s, uint8_t id[IVL_ID_LEN]);
void ivl_id_generate(uint8_t id[IVL_ID_LEN]);

#endif
