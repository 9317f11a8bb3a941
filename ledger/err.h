/*
 * err.h - the one error enum shared by every ivl library.
 *
 * Library functions return an `int`: 0 (IVL_OK) or one of these codes, like
 * LMDB's mdb_* functions. A code names *what* went wrong; the thread-local
 * detail string set with ivl_fail() says *where* (the entry, the amount, the
 * file). The single table in err.c maps each code to its stable JSON name and
 * the process exit code of SPEC §5; the CLI is the only place that prints.
 */
#ifndef IVL_ERR_H
#define IVL_ERR_H

#include "i18n.h"

#include <stddef.h>

/* Exit classes of SPEC §5. */
enum ivl_exit {
    IVL_EXIT_OK = 0,
    IVL_EXIT_RULE = 1,
    IVL_EXIT_USAGE = 2,
    IVL_EXIT_VERIFY = 3,
    IVL_EXIT_IO = 4,
    IVL_EXIT_KEY = 5,
};

/* X-macro: name, json code, exit class, default message (English, translated
 * by ivl_strerror). Append only. */
#define IVL_ERRORS(X)                                                                              \
    X(IVL_OK, "ok", IVL_EXIT_OK, N_("success"))                                                    \
    /* usage (2) */                                                                                \
    X(IVL_E_USAGE, "usage", IVL_EXIT_USAGE, N_("usage error"))                                     \
    X(IVL_E_AMOUNT, "bad_amount", IVL_EXIT_USAGE, N_("malformed amount"))                          \
    X(IVL_E_DATE, "bad_date", IVL_EXIT_USAGE, N_("malformed date or time"))                        \
    X(IVL_E_PERCENT, "bad_ratio", IVL_EXIT_USAGE, N_("malformed percentage"))                      \
    X(IVL_E_USCC_FORMAT, "bad_uscc", IVL_EXIT_USAGE, N_("malformed unified social credit code"))   \
    X(IVL_E_CSV, "bad_csv", IVL_EXIT_USAGE, N_("malformed CSV file"))                              \
    X(IVL_E_INPUT, "bad_input", IVL_EXIT_USAGE, N_("malformed input file"))                        \
    X(IVL_E_NOT_FOUND, "not_found", IVL_EXIT_USAGE, N_("no such object"))                          \
    X(IVL_E_TOO_LARGE, "too_large", IVL_EXIT_USAGE, N_("input too large"))                         \
    /* storage and I/O (4) */                                                                      \
    X(IVL_E_IO, "io_error", IVL_EXIT_IO, N_("I/O error"))                                          \
    X(IVL_E_NOSPACE, "no_space", IVL_EXIT_IO, N_("no space left on device"))                       \
    X(IVL_E_STORE, "storage_error", IVL_EXIT_IO, N_("storage error"))                              \
    X(IVL_E_NOMEM, "out_of_memory", IVL_EXIT_IO, N_("out of memory"))                              \
    X(IVL_E_EXISTS, "file_exists", IVL_EXIT_IO, N_("file exists"))                                 \
    X(IVL_E_NO_LEDGER, "no_ledger", IVL_EXIT_IO, N_("no ledger in this directory"))                \
    X(IVL_E_LEDGER_EXISTS, "ledger_exists", IVL_EXIT_IO, N_("a ledger already exists here"))       \
    /* verification (3) */                                                                         \
    X(IVL_E_DECODE, "bad_encoding", IVL_EXIT_VERIFY, N_("entry is not canonically encoded"))       \
    X(IVL_E_BAD_SIG, "bad_signature", IVL_EXIT_VERIFY, N_("signature does not verify"))            \
    X(IVL_E_BAD_NOTE, "bad_note", IVL_EXIT_VERIFY, N_("malformed signed note"))                    \
    X(IVL_E_BAD_CHECKPOINT, "bad_checkpoint", IVL_EXIT_VERIFY, N_("checkpoint does not verify"))   \
    X(IVL_E_BAD_PROOF, "bad_proof", IVL_EXIT_VERIFY, N_("proof does not verify"))                  \
    X(IVL_E_CORRUPT, "corrupt", IVL_EXIT_VERIFY, N_("ledger data is corrupt"))                     \
    X(IVL_E_TAMPERED, "tampered", IVL_EXIT_VERIFY, N_("stored data does not match the log"))       \
    X(IVL_E_FORK, "fork", IVL_EXIT_VERIFY, N_("log does not extend the known log"))                \
    X(IVL_E_BAD_REQUEST, "bad_request", IVL_EXIT_VERIFY,                                           \
      N_("request file is altered or malformed"))                                                  \
    X(IVL_E_BAD_VKEY, "bad_public_key", IVL_EXIT_VERIFY, N_("malformed public key"))               \
    /* keys (5) */                                                                                 \
    X(IVL_E_KEY_PASSPHRASE, "wrong_passphrase", IVL_EXIT_KEY, N_("wrong passphrase"))              \
    X(IVL_E_KEY_UNSAFE, "unsafe_key_file", IVL_EXIT_KEY, N_("secret key file is not private"))     \
    X(IVL_E_KEY_CORRUPT, "bad_key_file", IVL_EXIT_KEY,                                             \
      N_("secret key file is truncated or altered"))                                               \
    X(IVL_E_KEY_READ, "unreadable_key", IVL_EXIT_KEY, N_("cannot read key file"))                  \
    X(IVL_E_KEY_ROLE, "key_not_valid", IVL_EXIT_KEY, N_("key is not valid for this role"))         \
    X(IVL_E_KEY_NOPASS, "no_passphrase", IVL_EXIT_KEY, N_("no passphrase available"))              \
    /* ledger rules (1) */                                                                         \
    X(IVL_E_RULE, "rejected", IVL_EXIT_RULE, N_("rejected by a ledger rule"))                      \
    X(IVL_E_GENESIS, "genesis_misplaced", IVL_EXIT_RULE,                                           \
      N_("genesis must be the first entry only"))                                                  \
    X(IVL_E_DUP_ID, "duplicate_id", IVL_EXIT_RULE, N_("entry id already used"))                    \
    X(IVL_E_TIME, "time_backwards", IVL_EXIT_RULE, N_("time would move the log backwards"))        \
    X(IVL_E_USCC_CHECK, "uscc_check_digit", IVL_EXIT_RULE, N_("USCC check digit is wrong"))        \
    X(IVL_E_PARTY_EXISTS, "party_exists", IVL_EXIT_RULE, N_("party already registered"))           \
    X(IVL_E_PARTY_UNKNOWN, "unknown_party", IVL_EXIT_RULE, N_("no such party"))                    \
    X(IVL_E_PARTY_SUSPENDED, "party_suspended", IVL_EXIT_RULE, N_("party is suspended"))           \
    X(IVL_E_KEY_IN_USE, "key_in_use", IVL_EXIT_RULE, N_("key already used by another party"))      \
    X(IVL_E_ROLE, "wrong_role", IVL_EXIT_RULE, N_("party does not have the required role"))        \
    X(IVL_E_BUDGET_EXISTS, "budget_exists", IVL_EXIT_RULE, N_("budget id already used"))           \
    X(IVL_E_BUDGET_UNKNOWN, "unknown_budget", IVL_EXIT_RULE, N_("no such budget"))                 \
    X(IVL_E_BUDGET_CLOSED, "budget_closed", IVL_EXIT_RULE, N_("budget has ended"))                 \
    X(IVL_E_BUDGET_PARAM, "bad_budget", IVL_EXIT_RULE, N_("budget parameters out of range"))       \
    X(IVL_E_OVER_BUDGET, "over_budget", IVL_EXIT_RULE, N_("budget total exceeded"))                \
    X(IVL_E_OVER_CAP, "over_cap", IVL_EXIT_RULE, N_("per-enterprise cap exceeded"))                \
    X(IVL_E_ZERO_AMOUNT, "zero_amount", IVL_EXIT_RULE, N_("amount must be positive"))              \
    X(IVL_E_VOUCHER_UNTIL, "voucher_outlives_budget", IVL_EXIT_RULE,                               \
      N_("voucher expiry after budget end"))                                                       \
    X(IVL_E_VOUCHER_UNKNOWN, "unknown_voucher", IVL_EXIT_RULE, N_("no such voucher"))              \
    X(IVL_E_NOT_HOLDER, "not_holder", IVL_EXIT_RULE, N_("voucher is not held by the signer"))      \
    X(IVL_E_VOUCHER_REVOKED, "voucher_revoked", IVL_EXIT_RULE, N_("voucher is revoked"))           \
    X(IVL_E_VOUCHER_EXPIRED, "voucher_expired", IVL_EXIT_RULE, N_("voucher has expired"))          \
    X(IVL_E_RELATED, "related_party", IVL_EXIT_RULE,                                               \
      N_("provider is a related party of the enterprise"))                                         \
    X(IVL_E_CATEGORY, "category_not_allowed", IVL_EXIT_RULE, N_("service category not allowed"))   \
    X(IVL_E_OVER_BALANCE, "over_balance", IVL_EXIT_RULE,                                           \
      N_("amount exceeds the voucher's balance"))                                                  \
    X(IVL_E_OVER_RATIO, "over_ratio", IVL_EXIT_RULE,                                               \
      N_("coverage ratio of the contract exceeded"))                                               \
    X(IVL_E_CONTRACT_OTHER_SME, "contract_reused", IVL_EXIT_RULE,                                  \
      N_("contract already used by another enterprise"))                                           \
    X(IVL_E_CONTRACT_AMOUNT, "contract_amount_mismatch", IVL_EXIT_RULE,                            \
      N_("contract amount differs from earlier use"))                                              \
    X(IVL_E_REDEMPTION_UNKNOWN, "unknown_redemption", IVL_EXIT_RULE, N_("no such redemption"))     \
    X(IVL_E_REDEMPTION_CLAIMED, "redemption_claimed", IVL_EXIT_RULE,                               \
      N_("redemption already has a claim"))                                                        \
    X(IVL_E_REDEMPTION_CANCELLED, "redemption_cancelled", IVL_EXIT_RULE,                           \
      N_("redemption was cancelled"))                                                              \
    X(IVL_E_NOT_PROVIDER, "wrong_provider", IVL_EXIT_RULE,                                         \
      N_("redemption was made with another provider"))                                             \
    X(IVL_E_CLAIM_AMOUNT, "claim_amount", IVL_EXIT_RULE,                                           \
      N_("claim amount differs from the redemption"))                                              \
    X(IVL_E_CLAIM_UNKNOWN, "unknown_claim", IVL_EXIT_RULE, N_("no such claim"))                    \
    X(IVL_E_CLAIM_STATE, "claim_state", IVL_EXIT_RULE, N_("claim is not in the required state"))   \
    X(IVL_E_ALREADY_REVOKED, "already_revoked", IVL_EXIT_RULE, N_("voucher already revoked"))      \
    X(IVL_E_NOTHING_TO_EXPIRE, "nothing_to_expire", IVL_EXIT_RULE, N_("no voucher to expire"))     \
    X(IVL_E_EXPIRE_LIST, "expire_mismatch", IVL_EXIT_RULE,                                         \
      N_("expiry list does not match the ledger"))                                                 \
    X(IVL_E_ATTEST_MISMATCH, "attest_mismatch", IVL_EXIT_RULE,                                     \
      N_("attested size or root is not the ledger's"))                                             \
    X(IVL_E_REASON, "reason_required", IVL_EXIT_RULE, N_("a reason is required"))                  \
    /* internal: the LMDB map is full; the ledger grows it and retries */                          \
    X(IVL_E_MAP_FULL, "map_full", IVL_EXIT_IO, N_("the database map is full"))

enum ivl_err {
#define IVL_ERR_ENUM(name, json, exitc, msg) name,
    IVL_ERRORS(IVL_ERR_ENUM)
#undef IVL_ERR_ENUM
        IVL_ERR_COUNT
};

/* Stable JSON code ("over_balance"); "unknown" for an out-of-range value. */
const char *ivl_err_code(int err);
/* Exit class of SPEC §5 for an error (IVL_EXIT_*). */
int ivl_err_exit(int err);
/* Default one-line message for an error, in the language of the locale. */
const char *ivl_strerror(int err);

/* Sets the thread-local detail for `err` (printf-style) and returns `err`,
 * so a failing function can `return ivl_fail(IVL_E_X, "…%s", …);`. */
int ivl_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The detail set by the last ivl_fail() on this thread, or the default
 * message of `err` when none was set since ivl_err_clear(). */
const char *ivl_err_detail(int err);
/* Forgets the thread-local detail. */
void ivl_err_clear(void);

#endif
