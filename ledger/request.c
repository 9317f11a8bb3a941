/*
 * request.c - redemption request files. The text carries the origin, the
 * signed body and the signatures in base64, plus comment lines derived from
 * the body so a person sees what they sign. Parsing re-formats what it read
 * and demands the very same bytes: no byte can change unnoticed, comments
 * included.
 */
#include "request.h"
#include "err.h"
#include "parse.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char MAGIC[] = "ivl-redeem-request v1\n";

static void put_b64(struct ivl_buf *out, const uint8_t *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *b = malloc(cap);
    if (!b) {
        out->oom = 1;
        return;
    }
    sodium_bin2base64(b, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
    ivl_buf_put(out, b, strlen(b));
    free(b);
}

int ivl_request_format(const char *origin, const struct ivl_entry *e, char **text)
{
    struct ivl_buf body = {0}, out = {0};
    char line[1024], id[37], v[37], a1[24], a2[24], t[40], h[65];
    if (e->type != IVL_T_REDEEM || e->n_sigs < 1 || e->n_sigs > 2)
        return ivl_fail(IVL_E_USAGE, _("a request holds a redemption with one or two signatures"));
    int rc = ivl_body_encode(e, &body);
    if (rc) return rc;
    const struct ivl_redeem *r = &e->u.redeem;
    ivl_id_format(e->id, id);
    ivl_id_format(r->voucher, v);
    ivl_amount_format(r->amount, a1, sizeof a1);
    ivl_amount_format(r->contract_amount, a2, sizeof a2);
    ivl_time_format(e->signed_at, t, sizeof t);
    sodium_bin2hex(h, sizeof h, r->contract, 32);
    ivl_buf_put(&out, MAGIC, sizeof MAGIC - 1);
    snprintf(line, sizeof line,
             "# redemption %s signed %s\n# voucher %s of %s, %s at provider %s\n"
             "# contract amount %s, sha256 %s\norigin %s\nbody ",
             id, t, v, r->sme, a1, r->provider, a2, h, origin);
    ivl_buf_put(&out, line, strlen(line));
    put_b64(&out, body.p, body.len);
    ivl_buf_put(&out, "\n", 1);
    for (uint32_t i = 0; i < e->n_sigs; i++) {
        ivl_buf_put(&out, "sig ", 4);
        ivl_buf_put(&out, e->sigs[i].signer, IVL_USCC_LEN);
        ivl_buf_put(&out, " ", 1);
        put_b64(&out, e->sigs[i].sig, IVL_SIG_LEN);
        ivl_buf_put(&out, "\n", 1);
    }
    ivl_buf_u8(&out, 0);
    ivl_buf_free(&body);
    if (out.oom) {
        ivl_buf_free(&out);
        return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    }
    *text = (char *)out.p;
    return 0;
}

static int bad(const char *why)
{
    return ivl_fail(IVL_E_BAD_REQUEST, "%s", why);
}

/* The next line (without '\n') starting with `key`; advances *p. */
static int take_line(const char **p, const char *end, const char *key, const char **val,
                     size_t *len)
{
    size_t kl = strlen(key);
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl || (size_t)(nl - *p) < kl || memcmp(*p, key, kl)) return -1;
    *val = *p + kl;
    *len = (size_t)(nl - *p) - kl;
    *p = nl + 1;
    return 0;
}

int ivl_request_parse(const char *text, size_t len, struct ivl_entry *e, char *origin)
{
    const char *p = text, *end = text + len, *val;
    size_t vl, bl;
    memset(e, 0, sizeof *e);
    if (len < sizeof MAGIC - 1 || memcmp(text, MAGIC, sizeof MAGIC - 1) || memchr(text, 0, len))
        return bad(_("not a redemption request file"));
    p += sizeof MAGIC - 1;
    while (p < end && *p == '#') {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) return bad(_("unterminated comment line"));
        p = nl + 1;
    }
    if (take_line(&p, end, "origin ", &val, &vl) || vl == 0 || vl > IVL_MAX_ORIGIN)
        return bad(_("missing or malformed origin line"));
    memcpy(origin, val, vl);
    origin[vl] = 0;
    if (take_line(&p, end, "body ", &val, &vl) || vl == 0) return bad(_("missing body line"));
    uint8_t *body = malloc(vl);
    if (!body) return ivl_fail(IVL_E_NOMEM, _("out of memory"));
    int rc = 0;
    if (sodium_base642bin(body, vl, val, vl, NULL, &bl, NULL, sodium_base64_VARIANT_ORIGINAL))
        rc = bad(_("the body is not base64"));
    else if (ivl_body_decode(body, bl, e) || e->type != IVL_T_REDEEM)
        rc = bad(_("the body is not a redemption"));
    free(body);
    if (rc) {
        ivl_entry_free(e); /* a decoded expire entry owns its list */
        return rc;
    }
    while (!rc && p < end) {
        struct ivl_sig *s = &e->sigs[e->n_sigs];
        if (e->n_sigs == IVL_MAX_SIGS || take_line(&p, end, "sig ", &val, &vl) ||
            vl < IVL_USCC_LEN + 2 || val[IVL_USCC_LEN] != ' ') {
            rc = bad(_("a signature line is malformed"));
            break;
        }
        memcpy(s->signer, val, IVL_USCC_LEN);
        s->signer[IVL_USCC_LEN] = 0;
        if (sodium_base642bin(s->sig, IVL_SIG_LEN, val + IVL_USCC_LEN + 1, vl - IVL_USCC_LEN - 1,
                              NULL, &bl, NULL, sodium_base64_VARIANT_ORIGINAL) ||
            bl != IVL_SIG_LEN)
            rc = bad(_("a signature is not 64 bytes of base64"));
        else
            e->n_sigs++;
    }
    if (!rc && e->n_sigs == 0) rc = bad(_("it carries no signature"));
    if (!rc) {
        char *again = NULL;
        rc = ivl_request_format(origin, e, &again);
        if (rc || strlen(again) != len || memcmp(again, text, len))
            rc = bad(_("it has been altered (its bytes differ from its content)"));
        free(again);
    }
    if (rc) ivl_entry_free(e);
    return rc;
}
