/*
 * csv.h - a strict RFC 4180 reader for the approved lists that the S&T
 * bureau exports from a spreadsheet (batch registration and issuance).
 *
 * The whole file is parsed in memory into an immutable table; every record
 * remembers the physical line it starts on, so that a batch command can say
 * "line 17: ..." about a bad row even when earlier fields contained quoted
 * newlines. Anything ambiguous is refused rather than repaired.
 *
 * Caveats: a bare CR (old Mac line ending) outside quotes is refused; inside
 * quotes CR and LF are kept verbatim. A line holding only `""` is a record
 * with one empty field, not a blank line.
 */
#ifndef IVL_CSV_H
#define IVL_CSV_H

#include <stddef.h>

#define IVL_CSV_MAX_ROWS  100000 /* data records, the header excluded */
#define IVL_CSV_MAX_COLS  64
#define IVL_CSV_MAX_FIELD 65536 /* bytes, after unquoting */

struct ivl_csv;

/* Parses `len` bytes of CSV into *out (free with ivl_csv_free). A leading
 * UTF-8 BOM is skipped; records end in CRLF or LF, the last one may lack it;
 * fields may be quoted with "" escapes and embedded commas and newlines. The
 * first record is the header. Blank lines at the end are ignored.
 * Errors: IVL_E_CSV (detail "line N: ..."): invalid UTF-8, NUL bytes, a quote
 * inside an unquoted field, an unterminated quote, text after a closing
 * quote, a bare CR, a blank line before other records, a record whose field
 * count differs from the header's, an empty or duplicate header name, no
 * header at all. IVL_E_TOO_LARGE: beyond the limits above.
 * IVL_E_NOMEM. */
int ivl_csv_parse(const char *data, size_t len, struct ivl_csv **out);
/* Frees a table; NULL is fine. */
void ivl_csv_free(struct ivl_csv *c);
/* Number of data records (the header excluded). */
size_t ivl_csv_nrows(const struct ivl_csv *c);
/* Number of columns, the same for every record. */
size_t ivl_csv_ncols(const struct ivl_csv *c);
/* Header name of a column with surrounding ASCII spaces trimmed; NULL if
 * `col` is out of range. */
const char *ivl_csv_header(const struct ivl_csv *c, size_t col);
/* Index of the column named `name` (both sides trimmed of ASCII spaces,
 * ASCII case ignored), or -1. */
int ivl_csv_col(const struct ivl_csv *c, const char *name);
/* Field `col` of data record `row` (0-based), unquoted and NUL-terminated;
 * NULL if out of range. */
const char *ivl_csv_field(const struct ivl_csv *c, size_t row, size_t col);
/* 1-based physical line on which data record `row` starts (the header starts
 * on line 1); 0 if out of range. */
unsigned ivl_csv_line(const struct ivl_csv *c, size_t row);

#endif
