/*
 * request.h - redemption request files: how an enterprise's signed
 * redemption travels to the provider for countersignature and then to the
 * operator. docs/FORMAT.md describes the text layout.
 */
#ifndef IVL_REQUEST_H
#define IVL_REQUEST_H

#include "entry.h"

#define IVL_REQUEST_MAX (1u << 20) /* largest request file read */

/* Formats a redeem entry (with 1 or 2 signatures) as request text; *out is
 * malloc'd and NUL-terminated. IVL_E_USAGE (not a redeem), IVL_E_NOMEM. */
int ivl_request_format(const char *origin, const struct ivl_entry *e, char **out);
/* Parses request text into a redeem entry and its origin (IVL_MAX_ORIGIN+1
 * bytes). The text must be exactly what ivl_request_format() makes of its
 * content, so any altered byte is refused: IVL_E_BAD_REQUEST. Signatures are
 * not checked here (the signers' keys live in the ledger). */
int ivl_request_parse(const char *text, size_t len, struct ivl_entry *e, char *origin);

#endif
