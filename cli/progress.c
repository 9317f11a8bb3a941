/*
 * progress.c - the progress line (see progress.h). One phase at a time, in
 * the main thread; the line looks like
 *
 *     ivl: verifying 40960/102104 (40%)
 *
 * and is rewritten with \r, then blanked and the cursor returned to the
 * start of the line, so the next message (an error, the result) starts clean.
 */
#include "progress.h"
#include "cli.h"
#include "i18n.h"
#include "parse.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static struct {
    int on; /* a phase is running and may print */
    enum cli_phase what;
    int64_t last_ms; /* when the line was last drawn */
    size_t width;    /* display width of the line drawn, to blank it */
} pg;

static const char *const phase_names[] = {
    [CLI_PHASE_VERIFY] = N_("verifying"),
    [CLI_PHASE_IMPORT] = N_("importing"),
    [CLI_PHASE_APPEND] = N_("appending"),
    [CLI_PHASE_READ] = N_("reading the log"),
};

#define PROGRESS_INTERVAL_MS 100 /* ten updates a second at most */

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void cli_progress_begin(struct cli *c, enum cli_phase what)
{
    pg.on = !c->json && isatty(STDERR_FILENO);
    pg.what = what;
    pg.last_ms = 0;
    pg.width = 0;
    if (pg.on && c->l) ivl_ledger_set_progress(c->l, cli_progress_cb, NULL);
}

void cli_progress(uint64_t done, uint64_t total)
{
    char line[160];
    if (!pg.on || total < CLI_PROGRESS_MIN) return;
    int64_t t = now_ms();
    if (pg.last_ms && t - pg.last_ms < PROGRESS_INTERVAL_MS && done < total) return;
    pg.last_ms = t;
    if (done > total) done = total;
    snprintf(line, sizeof line, "ivl: %s %llu/%llu (%u%%)", _(phase_names[pg.what]),
             (unsigned long long)done, (unsigned long long)total, (unsigned)(done * 100 / total));
    size_t w = ivl_display_width(line);
    fprintf(stderr, "\r%s%*s", line, w < pg.width ? (int)(pg.width - w) : 0, "");
    fflush(stderr);
    if (w > pg.width) pg.width = w;
}

void cli_progress_cb(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    cli_progress(done, total);
}

void cli_progress_end(struct cli *c)
{
    if (c->l) ivl_ledger_set_progress(c->l, NULL, NULL);
    if (pg.on && pg.width) {
        fprintf(stderr, "\r%*s\r", (int)pg.width, "");
        fflush(stderr);
    }
    pg.on = 0;
    pg.width = 0;
}
