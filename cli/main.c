/*
 * main.c - ivl's entry point: global options and the one table of commands
 * (git.c style), so that adding a command is one row and one function and
 * `ivl CMD --help` works the same everywhere.
 */
#include "cli.h"
#include "parse.h"

#include <libgen.h>
#include <limits.h>
#include <locale.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef IVL_VERSION
#define IVL_VERSION "dev"
#endif
/* Where `make install` puts the message catalogues (po/po.mk sets it). */
#ifndef IVL_LOCALEDIR
#define IVL_LOCALEDIR "/usr/local/share/locale"
#endif

static const struct cli_cmd commands[] = {
    {"keygen", cmd_keygen, "keygen NAME [--unencrypted] [--force]",
     N_("Creates an Ed25519 key pair: NAME.key (secret, mode 0600, encrypted with a passphrase\n"
        "unless --unencrypted) and NAME.pub (the signed-note verifier key line).\n"
        "  --unencrypted  store the secret key without a passphrase (unattended service keys)\n"
        "  --force        replace existing files\n"),
     0},
    {"init", cmd_init, "init --origin ORIGIN --key AUTH.key --uscc U --name N",
     N_("Creates the ledger in -L DIR with its checkpoint key DIR/log.key (key name = ORIGIN)\n"
        "and DIR/log.pub, and appends the genesis entry signed by the authority.\n"
        "  --origin ORIGIN  the log's name, e.g. qinshui.gov.cn/ivl/2026\n"
        "  --key AUTH.key   the authority's secret key\n"
        "  --uscc U         the authority's unified social credit code\n"
        "  --name N         the authority's name\n"),
     1},
    {"party add", cmd_party_add,
     "party add --role R --uscc U --name N --pub FILE [--related U,U…] [--group G]\n"
     "          [--categories C,C…] [--uscc-unchecked] --key AUTH.key\n"
     "    | party add --batch FILE.csv --key AUTH.key",
     N_("Registers a party. Roles: authority, sme, provider, finance, auditor.\n"
        "  --related U,U…    (sme) related parties that may not be paid with its vouchers\n"
        "  --group G         (sme) its group (same actual controller); the cap counts the group\n"
        "  --categories C,…  (provider) rd, testing, ip, consulting, transfer, instruments\n"
        "  --uscc-unchecked  register a code whose check digit is wrong (recorded in the entry)\n"
        "  --batch FILE.csv  columns role,uscc,name,pub,related,group,categories; all or "
        "nothing\n"),
     1},
    {"party suspend", cmd_party_suspend, "party suspend U --reason TEXT --key AUTH.key",
     N_("Suspends a party: from now on it can sign nothing and receive nothing.\n"), 1},
    {"party rekey", cmd_party_rekey, "party rekey U --pub FILE --key AUTH.key",
     N_("Replaces a party's key; the old key is refused for every later entry.\n"), 1},
    {"party list", cmd_party_list, "party list [--role R]", N_("Lists the registered parties.\n"),
     0},
    {"party show", cmd_party_show, "party show U", N_("Shows one party.\n"), 0},
    {"budget open", cmd_budget_open,
     "budget open ID --total AMT --cap AMT --ratio PCT --until DATE [--categories C,C…]\n"
     "            --key AUTH.key",
     /* xgettext:no-c-format */
     N_("Opens a budget.\n"
        "  --total AMT   the budget, in yuan (at most two decimals)\n"
        "  --cap AMT     the most one enterprise (or its group) may hold from it\n"
        "  --ratio PCT   the share of a contract vouchers may pay: 50, 50% or 33.5\n"
        "  --until DATE  last day (YYYY-MM-DD, China Standard Time) to issue and spend\n"),
     1},
    {"budget list", cmd_budget_list, "budget list", N_("Lists budgets with their totals.\n"), 0},
    {"budget show", cmd_budget_show, "budget show ID",
     N_("Totals issued, redeemed, claimed, paid, released, clawed back, available.\n"), 0},
    {"issue", cmd_issue,
     "issue --budget ID --to U --amount AMT [--until DATE] --key AUTH.key\n"
     "    | issue --budget ID --batch FILE.csv --key AUTH.key",
     N_("Issues a voucher to an enterprise and prints its id. The expiry defaults to the\n"
        "budget's end. --batch FILE.csv has columns uscc,amount,until (until may be empty).\n"),
     1},
    {"redeem", cmd_redeem,
     "redeem --voucher V --provider U --contract FILE --contract-amount AMT --amount AMT\n"
     "       [--category C] --key SME.key (--cosign PROV.key | --out REQ)",
     N_("Spends a voucher on a provider's service. The contract document is hashed (SHA-256),\n"
        "not stored. With --cosign the provider's key countersigns here and the redemption is\n"
        "appended; with --out the enterprise's signed request is written to REQ for the\n"
        "provider to countersign ('ivl cosign') and the operator to submit ('ivl submit').\n"),
     1},
    {"cosign", cmd_cosign, "cosign REQ --key PROV.key",
     N_("Shows a redemption request and countersigns it as the provider (REQ is updated).\n"), 0},
    {"submit", cmd_submit, "submit REQ…",
     N_("Appends countersigned redemption requests (all in one transaction).\n"), 1},
    {"claim", cmd_claim, "claim --redemption R --invoice FILE --key PROV.key",
     N_("The provider claims payment of a redemption; the invoice file is hashed.\n"), 1},
    {"approve", cmd_approve, "approve C --key AUTH.key", N_("Approves a pending claim.\n"), 1},
    {"reject", cmd_reject, "reject C --reason TEXT --key AUTH.key",
     N_("Rejects a pending claim.\n"), 1},
    {"cancel", cmd_cancel, "cancel R --reason TEXT --key AUTH.key",
     N_("Cancels a redemption that has no claim; its amount returns to the voucher.\n"), 1},
    {"clawback", cmd_clawback, "clawback C --reason TEXT --key AUTH.key",
     N_("Records that a paid claim's money is to be recovered.\n"), 1},
    {"pay", cmd_pay, "pay C --ref BANKREF --key FIN.key",
     N_("Finance records payment of an approved claim with the bank reference.\n"), 1},
    {"revoke", cmd_revoke, "revoke V --reason TEXT --key AUTH.key",
     N_("Revokes a voucher; its unspent balance returns to the budget.\n"), 1},
    {"expire", cmd_expire, "expire --key AUTH.key",
     N_("Records every voucher past its expiry with money left; that money returns to its "
        "budget.\n"),
     1},
    {"balance", cmd_balance, "balance U",
     N_("An enterprise's vouchers and what remains on them.\n"), 0},
    {"show", cmd_show, "show ID",
     N_("Shows a voucher, redemption, claim (by id), an entry (by sequence number) or a party\n"
        "(by USCC).\n"),
     0},
    {"log", cmd_log, "log [--from N] [--limit K]", N_("Lists entries in order.\n"), 0},
    {"status", cmd_status, "status", N_("The ledger's origin, size, root and counts.\n"), 0},
    {"verify", cmd_verify,
     "verify [--from CHECKPOINT_FILE] [--jobs N] [--log-pub FILE] [--cache DIR | --no-cache]",
     N_("Replays the whole log: decoding, hashes, signatures with the keys valid at each point,\n"
        "every rule, the stored state against the replayed state, the stored checkpoints.\n"
        "With --from, first proves that the log extends that checkpoint (kept from the last\n"
        "audit) and checks signatures only after it. --log-pub FILE pins the log key you\n"
        "trust (the log.pub you obtained out of band). --jobs N: signature threads (default:\n"
        "all cores).\n"
        "The replayed state is kept in your cache directory (--cache DIR; default\n"
        "$XDG_CACHE_HOME/ivl or ~/.cache/ivl); a later --from run replays only the entries\n"
        "after the state kept there, and still compares every table. A run the cache cannot\n"
        "confirm is repeated from entry 0, and a log rewritten since it was verified here is\n"
        "reported as a fork. --no-cache: a temporary replay only.\n"
        "A key that has signed often gets a table that checks its signatures about twice\n"
        "as fast, with libsodium's verdict; IVL_NO_KEY_TABLES=1 leaves every check to\n"
        "libsodium.\n"),
     0},
    {"checkpoint verify", cmd_checkpoint_verify, "checkpoint verify FILE --pub FILE",
     N_("Checks a C2SP signed checkpoint against a verifier key; needs no ledger.\n"), 0},
    {"checkpoint", cmd_checkpoint, "checkpoint", N_("Prints the current signed checkpoint.\n"), 0},
    {"attest", cmd_attest, "attest --key AUD.key [--cache DIR | --no-cache]",
     N_("The auditor verifies the ledger, appends an attest entry and prints the checkpoint\n"
        "cosigned by the log key and the auditor. --cache, --no-cache: as for verify.\n"),
     1},
    {"proof inclusion", cmd_proof_inclusion, "proof inclusion SEQ [--size N]",
     N_("Prints an inclusion proof (JSON) with the signed checkpoint of that size.\n"), 0},
    {"proof consistency", cmd_proof_consistency, "proof consistency OLD [NEW]",
     N_("Prints a consistency proof (JSON) between two tree sizes.\n"), 0},
    {"proof check", cmd_proof_check, "proof check PROOF_FILE --log-pub FILE",
     N_("Checks an inclusion proof (with its checkpoint) using only the log's public key.\n"), 0},
    {"export", cmd_export, "export [--from N] --out FILE",
     N_("Writes entries as JSON Lines, ending with the signed checkpoint.\n"), 0},
    {"report", cmd_report,
     "report [--budget ID] [--from DATE] [--to DATE] [--format text|csv|json|html] [--out FILE]\n"
     "       [--flags]",
     N_("Reports on the scheme as of the current signed checkpoint: budget use (issued,\n"
        "redeemed, claimed, paid, released, clawed back, available), vouchers by status, money\n"
        "per enterprise and per provider, the claim pipeline with ages in days, and the money\n"
        "that moved month by month (China Standard Time). Every report carries the signed\n"
        "checkpoint it was made from: check it with 'ivl checkpoint verify FILE --pub log.pub'\n"
        "and 'ivl verify --from FILE'.\n"
        "  --budget ID     only this budget\n"
        "  --from DATE     from the start of this day (YYYY-MM-DD, China Standard Time)\n"
        "  --to DATE       to the end of this day; the period selects the monthly flows and\n"
        "                  the vouchers, redemptions and claims made in it (a budget's own\n"
        "                  totals are always whole)\n"
        "  --format F      text (default; json with --json), csv (UTF-8 with BOM, for Excel\n"
        "                  and WPS), json, or html (one self-contained page with SVG charts,\n"
        "                  for screen and A4 paper)\n"
        "  --out FILE      write to FILE (replacing it) instead of standard output\n"
        "  --flags         the red flags auditors look for, in the same formats\n"),
     0},
    {"import", cmd_import, "import FILE [--log-pub FILE]",
     N_("Verifies an export and appends it to this replica (creating it if needed), in one\n"
        "transaction; refuses anything that does not extend what the replica holds.\n"
        "--log-pub FILE pins the log key you trust.\n"),
     0},
};
#define NCMD (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "%s ivl [-L DIR] [--json] COMMAND [ARGS]\n\n", _("usage:"));
    fputs(_("ivl keeps the public record of science-and-technology innovation vouchers.\n\n"
            "Commands:\n"),
          f);
    for (size_t i = 0; i < NCMD; i++) {
        const char *u = commands[i].usage;
        fprintf(f, "  %.*s\n", (int)strcspn(u, "\n"), u);
    }
    fputs(
        _("\nGlobal options:\n"
          "  -L, --ledger DIR  the ledger directory (default $IVL_LEDGER, else ./ivl-data)\n"
          "  --json            machine-readable output; errors as JSON on stderr\n"
          "  --help, --version\n"
          "Every command has --help; every command that appends takes --receipt FILE (an\n"
          "inclusion proof of the new entry). Passphrases are asked on the terminal, or read from\n"
          "IVL_PASSPHRASE_FILE or IVL_PASSPHRASE. IVL_NOW (RFC 3339) sets the append time.\n"
          "Exit codes: 0 done, 1 rejected by a rule, 2 usage, 3 verification failed,\n"
          "4 storage or I/O, 5 key error.\n"),
        f);
}

/* `ivl` alone: the usage line and the command words, no more. */
static void short_usage(FILE *f)
{
    size_t col = 0;
    fprintf(f, "%s ivl [-L DIR] [--json] COMMAND [ARGS]\n", _("usage:"));
    for (size_t i = 0; i < NCMD; i++) {
        int len = (int)strcspn(commands[i].name, " ");
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = (int)strcspn(commands[k].name, " ") == len &&
                   !strncmp(commands[k].name, commands[i].name, (size_t)len);
        if (seen) continue;
        if (col + (size_t)len + 1 > 78) {
            fputc('\n', f);
            col = 0;
        }
        col += (size_t)fprintf(f, "%s%.*s", col ? " " : "  ", len, commands[i].name);
    }
    fputs(_("\nSee 'ivl --help' for every command and option, 'ivl COMMAND --help' for one.\n"), f);
}

/* Finds the longest command whose words match argv (e.g. "party add"). */
static const struct cli_cmd *find(int argc, char **argv, int *words)
{
    const struct cli_cmd *best = NULL;
    for (size_t i = 0; i < NCMD; i++) {
        const char *n = commands[i].name;
        int w = 0;
        const char *p = n;
        while (*p && w < argc) {
            size_t len = strcspn(p, " ");
            if (strlen(argv[w]) != len || strncmp(argv[w], p, len)) break;
            w++;
            p += len;
            if (*p == ' ') p++;
        }
        if (!*p && (!best || w > *words)) {
            best = &commands[i];
            *words = w;
        }
    }
    return best;
}

/* LMDB does not checksum its pages: a damaged database file can make a read
 * fault. Report it as what it is, corruption (exit 3), never a crash. */
/* The message is made (and translated) before the fault: the handler may
 * only write(2). */
static char fault_msg[1024];
static size_t fault_len;

static void on_fault(int sig)
{
    (void)sig;
    if (write(2, fault_msg, fault_len)) {
    }
    _exit(IVL_EXIT_VERIFY);
}

static void fault_message(int json)
{
    const char *m = _("the ledger database is corrupt (a page could not be read)");
    int n;
    if (json) {
        json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", "corrupt", "message", m);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        n = snprintf(fault_msg, sizeof fault_msg, "%s\n",
                     s ? s : "{\"error\":{\"code\":\"corrupt\",\"message\":\"\"}}");
        free(s);
        json_decref(j);
    } else {
        n = snprintf(fault_msg, sizeof fault_msg, "ivl: %s; %s\n", m,
                     _("restore it from a replica or backup and run 'ivl verify'"));
    }
    fault_len = n < 0 ? 0 : (size_t)n < sizeof fault_msg ? (size_t)n : sizeof fault_msg - 1;
}

static void guard_faults(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sigemptyset(&sa.sa_mask);
    /* A fault here is a read of a damaged or truncated mapped page (LMDB
     * follows page numbers it finds in the file). Under a sanitizer too: its
     * instrumentation reports our own memory errors before they can fault. */
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
}

static int is_dir(const char *path)
{
    struct stat sb;
    return !stat(path, &sb) && S_ISDIR(sb.st_mode);
}

/* The message catalogues: build/locale when this binary runs from the source
 * tree (./ivl or build/<variant>/ivl), else the installed IVL_LOCALEDIR. */
static void setup_locale(void)
{
    static char dir[PATH_MAX + 32];
    char exe[PATH_MAX];
    const char *use = IVL_LOCALEDIR;
    /* Only the messages are localised; numbers for programs keep their '.'
     * as LC_NUMERIC stays "C". In the C locale (and C.UTF-8 without
     * $LANGUAGE) gettext translates nothing, so the locale is not loaded at
     * all: for C.UTF-8 that is a dozen files and most of a short command's
     * start-up. */
    const char *m = getenv("LC_ALL"), *language = getenv("LANGUAGE");
    if (!m || !*m) m = getenv("LC_MESSAGES");
    if (!m || !*m) m = getenv("LANG");
    int untranslated = !m || !*m || !strcmp(m, "C") || !strcmp(m, "POSIX") ||
                       (!strncmp(m, "C.", 2) && (!language || !*language));
    if (!untranslated) {
        setlocale(LC_CTYPE, "");
        setlocale(LC_MESSAGES, "");
    }
    ssize_t n = untranslated ? -1 : readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *d = dirname(exe); /* the tree's root, or its build/<variant> */
        snprintf(dir, sizeof dir, "%s/build/locale", d);
        if (is_dir(dir)) {
            use = dir;
        } else {
            char *slash = strrchr(d, '/');
            if (slash && slash > d) {
                *slash = 0;
                const char *base = strrchr(d, '/');
                snprintf(dir, sizeof dir, "%s/locale", d);
                if (!strcmp(base ? base + 1 : d, "build") && is_dir(dir)) use = dir;
            }
        }
    }
    bindtextdomain(IVL_TEXTDOMAIN, use);
    bind_textdomain_codeset(IVL_TEXTDOMAIN, "UTF-8");
}

int main(int argc, char **argv)
{
    struct cli c = {0};
    int i = 1;
    setup_locale();
    c.ledger_dir = getenv("IVL_LEDGER");
    if (!c.ledger_dir || !*c.ledger_dir) c.ledger_dir = "ivl-data";
    c.cmd_name = "ivl";
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) {
            c.json = 1;
        } else if (!strcmp(a, "-L") || !strcmp(a, "--ledger")) {
            if (++i >= argc)
                return cli_error(&c, ivl_fail(IVL_E_USAGE, _("%s needs a directory"), a));
            c.ledger_dir = argv[i];
        } else if (!strncmp(a, "--ledger=", 9)) {
            c.ledger_dir = a + 9;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("ivl %s\n", IVL_VERSION);
            return 0;
        } else {
            return cli_error(&c, ivl_fail(IVL_E_USAGE, _("unknown option %s (see ivl --help)"), a));
        }
    }
    if (i >= argc) {
        short_usage(stderr);
        return IVL_EXIT_USAGE;
    }
    fault_message(c.json);
    guard_faults();
    if (sodium_init() < 0)
        return cli_error(&c, ivl_fail(IVL_E_NOMEM, _("libsodium failed to start")));
    /* jansson would read /dev/urandom for its hash seed on first use. */
    json_object_seed(randombytes_random() | 1u);

    int words = 0;
    const struct cli_cmd *cmd = find(argc - i, argv + i, &words);
    if (!cmd)
        return cli_error(
            &c, ivl_fail(IVL_E_USAGE, _("unknown command '%s' (see ivl --help)"), argv[i]));
    c.cmd = cmd;
    c.cmd_name = cmd->name;

    const char *now = getenv("IVL_NOW");
    if (now && *now) {
        if (ivl_time_parse(now, &c.now))
            return cli_error(
                &c, ivl_fail(IVL_E_DATE, _("IVL_NOW '%s': %s"), now, ivl_err_detail(IVL_E_DATE)));
    } else {
        c.now = (int64_t)time(NULL);
        c.time_flags = IVL_APPEND_CLAMP_TIME;
    }
    /* argv[i + words - 1] becomes the command's argv[0]. */
    int rc = cmd->fn(&c, argc - i - words + 1, argv + i + words - 1);
    if (c.l) ivl_ledger_close(c.l);
    return rc;
}
