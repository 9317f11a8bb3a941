/*
 * cli.h - what the command functions share: the parsed global options, the
 * open ledger, flag parsing, output (text or --json) and error reporting.
 * cli/ is the only place that prints, reads the environment or exits.
 */
#ifndef IVL_CLI_H
#define IVL_CLI_H

#include "entry.h"
#include "err.h"
#include "key.h"
#include "ledger.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

struct cli {
    const char *ledger_dir;
    int json;
    const char *cmd_name; /* "party add", for messages and help */
    const struct cli_cmd *cmd;
    struct ivl_ledger *l;
    int64_t now;
    unsigned time_flags; /* IVL_APPEND_CLAMP_TIME unless IVL_NOW is set */
    const char *receipt; /* --receipt FILE of appending commands */
};

typedef int (*cli_fn)(struct cli *c, int argc, char **argv);

struct cli_cmd {
    const char *name; /* "party add" */
    cli_fn fn;
    const char *usage; /* one line after "ivl " */
    const char *help;  /* what it does and its flags */
    int appends;       /* appends entries: accepts --receipt FILE */
};

/* ---- flags ---- */

enum { OPT_STR, OPT_FLAG };
struct cli_opt {
    const char *name; /* "--amount" */
    int kind;
    const char **val; /* OPT_STR: the value; OPT_FLAG: set to "1" */
};

/* Parses argv against `opts`; positional arguments go to pos[0..*npos) (at
 * most maxpos). Unknown flags, missing values and extra positionals are
 * usage errors. Returns 0, IVL_E_USAGE, or -1 after printing --help. */
int cli_parse(struct cli *c, int argc, char **argv, const struct cli_opt *opts, const char **pos,
              int maxpos, int *npos);
/* A required flag is missing: usage error naming it. */
int cli_need(const char *val, const char *flag);

/* Value parsers that name the flag in their error (IVL_E_AMOUNT etc.). */
int cli_amount(const char *s, const char *flag, uint64_t *fen);
int cli_date(const char *s, const char *flag, int64_t *t);
int cli_u64(const char *s, const char *what, uint64_t *v);
int cli_uscc(const char *s, const char *what);
int cli_id(const char *s, const char *what, uint8_t id[IVL_ID_LEN]);
int cli_text(const char *s, const char *what, size_t max);

/* Reads a whole input file, or standard input for "-" (at most max bytes). */
int cli_read_input(const char *path, size_t max, char **out, size_t *len);

/* ---- ledger and keys ---- */

int cli_open(struct cli *c);
/* Loads a secret key, asking for the passphrase if it is encrypted. */
int cli_load_key(struct cli *c, const char *path, struct ivl_seckey **k);
/* The party whose current key `k` is, which must hold `role` (IVL_E_KEY_ROLE). */
int cli_key_party(struct cli *c, const struct ivl_seckey *k, int role, struct ivl_party_rec *p);
/* Signs e's body as signature slot `slot` by party `uscc` with key k. */
int cli_sign(const char *origin, struct ivl_entry *e, unsigned slot, const char *uscc,
             const struct ivl_seckey *k);
/* Signs n entries as slot 0 by `uscc` on all cores, in chunks, while the
 * caller appends them: hook cli_signer_ready into the ledger with
 * ivl_ledger_set_ready(), then cli_signer_finish() (joins; the signing error,
 * if any). The key and entries must outlive the signer. Entries from
 * es[built] on are still being made: cli_signer_built() says how far they
 * are (or, with error, that none will be appended). */
struct cli_signer;
/* Rows signed at a time. Small, so that the appending thread, which signs a
 * chunk itself when the one it needs is not ready, is never long away from
 * appending: with 256, a 1,000-row batch was 4 chunks, and the other core sat
 * idle while the appender signed its second one (docs/PERFORMANCE.md). */
#define CLI_SIGN_CHUNK 32
/* From this many rows on, a batch makes the fast signer's table. */
#define CLI_FAST_SIGN_MIN 256
int cli_signer_start(struct cli_signer **s, const char *origin, struct ivl_entry *es, size_t n,
                     size_t built, const char *uscc, const struct ivl_seckey *k);
void cli_signer_built(struct cli_signer *s, size_t built, int error);
int cli_signer_ready(void *ctx, size_t index);
int cli_signer_finish(struct cli_signer *s);
/* Fills id and signing time of a new entry. */
void cli_new_entry(struct cli *c, struct ivl_entry *e, int type);
/* Signs with the authority (or finance/auditor...) key and appends one
 * entry; prints the result. `key_path` must belong to a party of `role`. */
int cli_append_signed(struct cli *c, struct ivl_entry *e, const char *key_path, int role);
/* Appends already-signed entries and prints the result of each. */
int cli_append(struct cli *c, struct ivl_entry *es, size_t n);
/* Prints the result of appended entries (out may be NULL: leaf hashes are
 * then read back) and writes the --receipt. Returns the exit code. */
int cli_print_appended(struct cli *c, const struct ivl_entry *es, size_t n,
                       const struct ivl_appended *out);
/* Writes --receipt FILE: an inclusion proof of entry seq at the current size. */
int cli_write_receipt(struct cli *c, uint64_t seq);
/* Reads the passphrase twice for a new key (NULL when not interactive and not in env). */
int cli_new_passphrase(struct cli *c, char *buf, size_t cap, size_t *len);

/* ---- output ---- */

/* Prints an error line ("ivl: …" or the JSON object) and returns the exit code. */
int cli_error(struct cli *c, int err);
/* Prints a JSON value to stdout (pretty, one document) and frees it. */
void cli_json_out(json_t *j);
json_t *cli_json_amount(uint64_t fen);
json_t *cli_json_time(int64_t t);
json_t *cli_json_hex(const uint8_t *p, size_t n);
json_t *cli_json_id(const uint8_t id[IVL_ID_LEN]);
/* The decoded fields of an entry, as in `ivl show`, `ivl log --json` and export. */
json_t *cli_entry_json(const struct ivl_entry *e);
/* A one-line human summary of an entry. */
void cli_entry_summary(struct ivl_state *st, const struct ivl_entry *e, char *out, size_t n);
/* Prints `s` padded with spaces to `width` display columns (CJK counts two). */
void cli_pad(FILE *f, const char *s, size_t width);
/* The same, right-aligned: spaces first (numeric columns and their headings). */
void cli_rpad(FILE *f, const char *s, size_t width);
/* One "label   value" line on stdout: the (translated) label padded to `width`
 * columns, then the printf-style rest. */
void cli_field(const char *label, size_t width, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cli_hex(const uint8_t *p, size_t n, char *out);
const char *cli_amt(uint64_t fen, char *buf);                      /* buf of 24 */
const char *cli_id_str(const uint8_t id[IVL_ID_LEN], char *buf);   /* buf of 37 */
const char *cli_id_short(const uint8_t id[IVL_ID_LEN], char *buf); /* last 8 digits; buf of 37 */

/* ---- reports (cmd_report.c, flags.c) ---- */

struct cli_report_opts {
    const char *budget; /* NULL = every budget */
    int64_t from, to;   /* time window (unix seconds); 0 / INT64_MAX = open */
    const char *format; /* "text", "csv", "json" or "html" */
    const char *out;    /* file, or NULL for stdout */
};

/* `ivl report --flags`: the red flags auditors look for, in o->format. */
int cli_report_flags(struct cli *c, const struct cli_report_opts *o);

/* ---- the commands (one table in main.c) ---- */

int cmd_keygen(struct cli *c, int argc, char **argv);
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_party_add(struct cli *c, int argc, char **argv);
int cmd_party_suspend(struct cli *c, int argc, char **argv);
int cmd_party_rekey(struct cli *c, int argc, char **argv);
int cmd_party_list(struct cli *c, int argc, char **argv);
int cmd_party_show(struct cli *c, int argc, char **argv);
int cmd_budget_open(struct cli *c, int argc, char **argv);
int cmd_budget_list(struct cli *c, int argc, char **argv);
int cmd_budget_show(struct cli *c, int argc, char **argv);
int cmd_issue(struct cli *c, int argc, char **argv);
int cmd_redeem(struct cli *c, int argc, char **argv);
int cmd_cosign(struct cli *c, int argc, char **argv);
int cmd_submit(struct cli *c, int argc, char **argv);
int cmd_claim(struct cli *c, int argc, char **argv);
int cmd_approve(struct cli *c, int argc, char **argv);
int cmd_reject(struct cli *c, int argc, char **argv);
int cmd_cancel(struct cli *c, int argc, char **argv);
int cmd_clawback(struct cli *c, int argc, char **argv);
int cmd_pay(struct cli *c, int argc, char **argv);
int cmd_revoke(struct cli *c, int argc, char **argv);
int cmd_expire(struct cli *c, int argc, char **argv);
int cmd_balance(struct cli *c, int argc, char **argv);
int cmd_show(struct cli *c, int argc, char **argv);
int cmd_log(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_verify(struct cli *c, int argc, char **argv);
int cmd_checkpoint(struct cli *c, int argc, char **argv);
int cmd_checkpoint_verify(struct cli *c, int argc, char **argv);
int cmd_attest(struct cli *c, int argc, char **argv);
int cmd_proof_inclusion(struct cli *c, int argc, char **argv);
int cmd_proof_consistency(struct cli *c, int argc, char **argv);
int cmd_proof_check(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_report(struct cli *c, int argc, char **argv);

#endif
