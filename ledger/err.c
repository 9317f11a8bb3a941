/*
 * err.c - the single table mapping error codes to JSON names, exit codes and
 * default messages, plus the thread-local detail buffer.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *json;
    int exitc;
    const char *msg;
} table[IVL_ERR_COUNT] = {
#define IVL_ERR_ROW(name, json, exitc, msg) [name] = {json, exitc, msg},
    IVL_ERRORS(IVL_ERR_ROW)
#undef IVL_ERR_ROW
};

static _Thread_local char detail[1024]; /* Chinese takes 3 bytes a character */
static _Thread_local int detail_set;

const char *ivl_err_code(int err)
{
    return (err >= 0 && err < IVL_ERR_COUNT) ? table[err].json : "unknown";
}

int ivl_err_exit(int err)
{
    return (err >= 0 && err < IVL_ERR_COUNT) ? table[err].exitc : IVL_EXIT_IO;
}

const char *ivl_strerror(int err)
{
    return (err >= 0 && err < IVL_ERR_COUNT) ? _(table[err].msg) : _("unknown error");
}

int ivl_fail(int err, const char *fmt, ...)
{
    /* Format aside first: callers often wrap the previous detail, e.g.
     * ivl_fail(rc, _("entry %llu: %s"), seq, ivl_err_detail(rc)). */
    char tmp[sizeof detail];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof tmp) { /* cut: never leave half a UTF-8 character */
        size_t end = sizeof tmp - 1, lead = end;
        while (lead > 0 && ((unsigned char)tmp[lead - 1] & 0xC0) == 0x80)
            lead--;
        if (lead > 0) {
            unsigned char c = (unsigned char)tmp[lead - 1];
            size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            if (end - (lead - 1) < need) tmp[lead - 1] = 0;
        }
    }
    memcpy(detail, tmp, sizeof detail);
    detail_set = 1;
    return err;
}

const char *ivl_err_detail(int err)
{
    return detail_set ? detail : ivl_strerror(err);
}

void ivl_err_clear(void)
{
    detail_set = 0;
    detail[0] = 0;
}
