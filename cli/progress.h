/*
 * progress.h - a progress line on stderr for long work (verify, attest,
 * import, CSV batches): shown only when stderr is a terminal and the output
 * is not --json, one line rewritten in place with \r at most ten times a
 * second, and cleared when the work ends, so that nothing of it remains in
 * the terminal, in a pipe or in a log file.
 */
#ifndef IVL_CLI_PROGRESS_H
#define IVL_CLI_PROGRESS_H

#include <stdint.h>

struct cli;

/* Work smaller than this many entries shows no progress. */
#define CLI_PROGRESS_MIN 4096

/* What is being done (the word shown, translated). */
enum cli_phase {
    CLI_PHASE_VERIFY,
    CLI_PHASE_IMPORT,
    CLI_PHASE_APPEND,
    CLI_PHASE_READ /* reports reading the log */
};

/* Starts a phase and hooks the callback to the open ledger c->l, if any.
 * Does nothing with --json or when stderr is not a terminal. */
void cli_progress_begin(struct cli *c, enum cli_phase what);
/* Reports `done` of `total` entries; call from the thread that began. */
void cli_progress(uint64_t done, uint64_t total);
/* The same, as an ivl_progress_fn for ivl_ledger_set_progress. */
void cli_progress_cb(void *ctx, uint64_t done, uint64_t total);
/* Ends the phase: unhooks the ledger and clears the line. */
void cli_progress_end(struct cli *c);

#endif
