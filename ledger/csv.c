/*
 * csv.c - strict RFC 4180 reader (see csv.h).
 *
 * One pass over the bytes with a tiny state machine per field. Unquoted
 * field text is copied into a single buffer sized up front (content bytes
 * plus one NUL per possible field), so cell pointers never move and the
 * table is freed with three calls. Encoding problems are found by a pre-scan
 * so that they are reported by line and byte offset before any parsing.
 */
#include "csv.h"
#include "err.h"
#include "parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ivl_csv {
    size_t nrows, ncols;
    char **cells;    /* (nrows + 1) * ncols, row 0 is the header */
    unsigned *lines; /* nrows + 1 record start lines */
    char *buf;       /* the unquoted text of every cell */
};

struct parser {
    const char *p;
    size_t len, i;
    unsigned line; /* physical line of p[i] */
    struct ivl_csv *t;
    size_t used, ncells, capcells, nrec, caprec;
};

/* 1-based line of byte offset `off` of data. */
static unsigned line_of(const char *data, size_t off)
{
    unsigned line = 1;
    for (size_t i = 0; i < off; i++)
        line += data[i] == '\n';
    return line;
}

/* Refuses NUL bytes and invalid UTF-8; counts separators for sizing. `skip`
 * is the length of a stripped BOM, so offsets count from the file start. */
static int prescan(const char *data, size_t len, size_t skip, size_t *nsep)
{
    const char *nul = memchr(data, 0, len);
    size_t bad = ivl_utf8_valid_prefix(data, len);
    if (nul && (size_t)(nul - data) < bad)
        return ivl_fail(IVL_E_CSV, _("line %u: NUL byte at byte offset %zu"),
                        line_of(data, (size_t)(nul - data)), (size_t)(nul - data) + skip);
    if (bad < len)
        return ivl_fail(IVL_E_CSV, _("line %u: invalid UTF-8 at byte offset %zu"),
                        line_of(data, bad), bad + skip);
    *nsep = 0;
    for (size_t i = 0; i < len; i++)
        *nsep += data[i] == ',' || data[i] == '\n';
    return IVL_OK;
}

static int push_cell(struct parser *ps, char *cell)
{
    if (ps->ncells == ps->capcells) {
        size_t cap = ps->capcells ? ps->capcells * 2 : 64;
        char **n = realloc(ps->t->cells, cap * sizeof *n);
        if (!n) return ivl_fail(IVL_E_NOMEM, _("CSV: out of memory for %zu cells"), cap);
        ps->t->cells = n;
        ps->capcells = cap;
    }
    ps->t->cells[ps->ncells++] = cell;
    return IVL_OK;
}

static int push_record(struct parser *ps, unsigned line)
{
    if (ps->nrec == ps->caprec) {
        size_t cap = ps->caprec ? ps->caprec * 2 : 64;
        unsigned *n = realloc(ps->t->lines, cap * sizeof *n);
        if (!n) return ivl_fail(IVL_E_NOMEM, _("CSV: out of memory for %zu records"), cap);
        ps->t->lines = n;
        ps->caprec = cap;
    }
    ps->t->lines[ps->nrec++] = line;
    return IVL_OK;
}

/* Appends one byte to the current cell, enforcing the field size limit. */
static int put(struct parser *ps, char *cell, char c, unsigned start_line)
{
    if ((size_t)(ps->t->buf + ps->used - cell) >= IVL_CSV_MAX_FIELD)
        return ivl_fail(IVL_E_TOO_LARGE, _("line %u: a field is longer than %u bytes"), start_line,
                        (unsigned)IVL_CSV_MAX_FIELD);
    ps->t->buf[ps->used++] = c;
    return IVL_OK;
}

/* A quoted field, from its opening quote to just after its closing quote. */
static int quoted_field(struct parser *ps, char *cell)
{
    unsigned open_line = ps->line;
    int rc;
    for (ps->i++;; ps->i++) {
        if (ps->i >= ps->len)
            return ivl_fail(IVL_E_CSV, _("line %u: quoted field is never closed"), open_line);
        char c = ps->p[ps->i];
        if (c == '"') {
            if (ps->i + 1 >= ps->len || ps->p[ps->i + 1] != '"') break;
            ps->i++;
        }
        if ((rc = put(ps, cell, c, open_line))) return rc;
        ps->line += c == '\n';
    }
    ps->i++;
    if (ps->i < ps->len && ps->p[ps->i] != ',' && ps->p[ps->i] != '\n' && ps->p[ps->i] != '\r')
        return ivl_fail(IVL_E_CSV, _("line %u: text after a closing quote"), ps->line);
    return IVL_OK;
}

/* An unquoted field, up to (not including) its terminator. */
static int plain_field(struct parser *ps, char *cell)
{
    int rc;
    for (; ps->i < ps->len; ps->i++) {
        char c = ps->p[ps->i];
        if (c == ',' || c == '\n' || c == '\r') break;
        if (c == '"')
            return ivl_fail(IVL_E_CSV, _("line %u: quote inside an unquoted field"), ps->line);
        if ((rc = put(ps, cell, c, ps->line))) return rc;
    }
    return IVL_OK;
}

/* Reads one field and its terminator; *end is set at the end of a record. */
static int field(struct parser *ps, int *quoted, int *end)
{
    char *cell = ps->t->buf + ps->used;
    int rc;
    *quoted = ps->i < ps->len && ps->p[ps->i] == '"';
    rc = *quoted ? quoted_field(ps, cell) : plain_field(ps, cell);
    if (rc) return rc;
    ps->t->buf[ps->used++] = 0;
    if ((rc = push_cell(ps, cell))) return rc;
    *end = 1;
    if (ps->i >= ps->len) return IVL_OK;
    char c = ps->p[ps->i];
    if (c == '\r' && (ps->i + 1 >= ps->len || ps->p[ps->i + 1] != '\n'))
        return ivl_fail(IVL_E_CSV, _("line %u: carriage return without a line feed"), ps->line);
    ps->i += c == '\r' ? 2 : 1;
    if (c == ',')
        *end = 0;
    else
        ps->line++;
    return IVL_OK;
}

/* Reads one record; *nfields and *blank describe it. */
static int record(struct parser *ps, unsigned line, size_t *nfields, int *blank)
{
    int quoted = 0, end = 0, rc;
    size_t first = ps->ncells;
    while (!end) {
        if (ps->ncells - first == IVL_CSV_MAX_COLS)
            return ivl_fail(IVL_E_TOO_LARGE, _("line %u: more than %d fields"), line,
                            IVL_CSV_MAX_COLS);
        if ((rc = field(ps, &quoted, &end))) return rc;
    }
    *nfields = ps->ncells - first;
    *blank = *nfields == 1 && !quoted && ps->t->cells[first][0] == 0;
    return IVL_OK;
}

static int is_space(char c)
{
    return c == ' ';
}

/* Compares two byte ranges ignoring ASCII case only (not the locale). */
static int name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen) return 0;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z') x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (unsigned char)(y - 'A' + 'a');
        if (x != y) return 0;
    }
    return 1;
}

/* Trims the header names in place, then refuses empty and duplicate ones. */
static int check_header(struct ivl_csv *t)
{
    for (size_t i = 0; i < t->ncols; i++) {
        char *s = t->cells[i];
        while (is_space(*s))
            s++;
        size_t n = strlen(s);
        while (n > 0 && is_space(s[n - 1]))
            s[--n] = 0;
        t->cells[i] = s;
        if (n == 0) return ivl_fail(IVL_E_CSV, _("line 1: header column %zu has no name"), i + 1);
        for (size_t j = 0; j < i; j++) {
            if (!name_eq(t->cells[j], strlen(t->cells[j]), s, n)) continue;
            if (ivl_text_valid(s, 64))
                return ivl_fail(IVL_E_CSV, _("line 1: header columns %zu and %zu are both \"%s\""),
                                j + 1, i + 1, s);
            return ivl_fail(IVL_E_CSV, _("line 1: header columns %zu and %zu have the same name"),
                            j + 1, i + 1);
        }
    }
    return IVL_OK;
}

/* Files a finished non-blank record as the header or a data row. */
static int accept(struct parser *ps, unsigned line, size_t nfields)
{
    struct ivl_csv *t = ps->t;
    int rc;
    if (ps->nrec == 0) {
        t->ncols = nfields;
        if ((rc = check_header(t))) return rc;
    } else if (nfields != t->ncols) {
        return ivl_fail(IVL_E_CSV,
                        dngettext(IVL_TEXTDOMAIN, "line %u: %zu field, but the header has %zu",
                                  "line %u: %zu fields, but the header has %zu", nfields),
                        line, nfields, t->ncols);
    } else if (ps->nrec > IVL_CSV_MAX_ROWS) {
        return ivl_fail(IVL_E_TOO_LARGE, _("line %u: more than %d records"), line,
                        IVL_CSV_MAX_ROWS);
    }
    return push_record(ps, line);
}

static int parse_all(struct parser *ps)
{
    unsigned blank_line = 0;
    size_t nfields = 0;
    int blank = 0, rc;
    while (ps->i < ps->len) {
        unsigned line = ps->line;
        size_t used = ps->used, ncells = ps->ncells;
        if ((rc = record(ps, line, &nfields, &blank))) return rc;
        if (blank) {
            if (ps->nrec == 0)
                return ivl_fail(IVL_E_CSV, _("line %u: blank line before the header"), line);
            if (!blank_line) blank_line = line;
            ps->used = used, ps->ncells = ncells;
            continue;
        }
        if (blank_line) return ivl_fail(IVL_E_CSV, _("line %u: blank line"), blank_line);
        if ((rc = accept(ps, line, nfields))) return rc;
    }
    if (ps->nrec == 0) return ivl_fail(IVL_E_CSV, _("line 1: no header"));
    return IVL_OK;
}

int ivl_csv_parse(const char *data, size_t len, struct ivl_csv **out)
{
    struct parser ps = {.line = 1};
    size_t nsep = 0;
    int rc;
    *out = NULL;
    if (!data) data = "", len = 0;
    size_t skip = len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    data += skip, len -= skip;
    if ((rc = prescan(data, len, skip, &nsep))) return rc;
    if (len > SIZE_MAX / 2 - 1) return ivl_fail(IVL_E_TOO_LARGE, _("CSV file is too large"));
    ps.p = data;
    ps.len = len;
    if (!(ps.t = calloc(1, sizeof *ps.t)) || !(ps.t->buf = malloc(len + nsep + 1))) {
        free(ps.t);
        return ivl_fail(IVL_E_NOMEM, _("CSV: out of memory for %zu bytes"), len);
    }
    if ((rc = parse_all(&ps))) {
        ivl_csv_free(ps.t);
        return rc;
    }
    ps.t->nrows = ps.nrec - 1;
    *out = ps.t;
    return IVL_OK;
}

void ivl_csv_free(struct ivl_csv *c)
{
    if (!c) return;
    free(c->cells);
    free(c->lines);
    free(c->buf);
    free(c);
}

size_t ivl_csv_nrows(const struct ivl_csv *c)
{
    return c->nrows;
}

size_t ivl_csv_ncols(const struct ivl_csv *c)
{
    return c->ncols;
}

const char *ivl_csv_header(const struct ivl_csv *c, size_t col)
{
    return col < c->ncols ? c->cells[col] : NULL;
}

int ivl_csv_col(const struct ivl_csv *c, const char *name)
{
    size_t n = strlen(name);
    while (n > 0 && is_space(*name))
        name++, n--;
    while (n > 0 && is_space(name[n - 1]))
        n--;
    for (size_t i = 0; i < c->ncols && i < INT32_MAX; i++)
        if (name_eq(c->cells[i], strlen(c->cells[i]), name, n)) return (int)i;
    return -1;
}

const char *ivl_csv_field(const struct ivl_csv *c, size_t row, size_t col)
{
    if (row >= c->nrows || col >= c->ncols) return NULL;
    return c->cells[(row + 1) * c->ncols + col];
}

unsigned ivl_csv_line(const struct ivl_csv *c, size_t row)
{
    return row < c->nrows ? c->lines[row + 1] : 0;
}
