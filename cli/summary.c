/*
 * summary.c - the money summary `ivl verify` prints once the stored state is
 * proven equal to the replayed log: per budget, what was issued, redeemed,
 * paid; and how many parties and vouchers there are.
 */
#include "cli.h"

json_t *cli_ledger_summary(struct cli *c);

static size_t count(struct ivl_state *st, int db)
{
    MDB_stat s;
    return mdb_stat(st->txn, st->dbi[db], &s) ? 0 : s.ms_entries;
}

json_t *cli_ledger_summary(struct cli *c)
{
    struct ivl_state st;
    MDB_cursor *cur;
    MDB_val k, v;
    if (ivl_ledger_begin(c->l, &st)) return NULL;
    json_t *budgets = json_array();
    if (!mdb_cursor_open(st.txn, st.dbi[IVL_DB_BUDGETS], &cur)) {
        for (int r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
             r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            struct ivl_budget_rec b;
            if (ivl_rec_budget(&v, &b)) continue;
            json_array_append_new(
                budgets,
                json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "id", b.b.budget, "issued",
                          cli_json_amount(b.issued), "released", cli_json_amount(b.released),
                          "redeemed", cli_json_amount(b.redeemed), "claimed",
                          cli_json_amount(b.claimed), "paid", cli_json_amount(b.paid),
                          "clawed_back", cli_json_amount(b.clawed_back)));
        }
        mdb_cursor_close(cur);
    }
    json_t *j =
        json_pack("{s:I,s:I,s:I,s:I,s:o}", "parties", (json_int_t)count(&st, IVL_DB_PARTIES),
                  "vouchers", (json_int_t)count(&st, IVL_DB_VOUCHERS), "redemptions",
                  (json_int_t)count(&st, IVL_DB_REDEMPTIONS), "claims",
                  (json_int_t)count(&st, IVL_DB_CLAIMS), "budgets", budgets);
    ivl_ledger_end(&st);
    return j;
}

void cli_print_summary(json_t *s);

void cli_print_summary(json_t *s)
{
    size_t i;
    json_t *b;
    if (!s) return;
    printf(_("  %lld parties, %lld vouchers, %lld redemptions, %lld claims\n"),
           (long long)json_integer_value(json_object_get(s, "parties")),
           (long long)json_integer_value(json_object_get(s, "vouchers")),
           (long long)json_integer_value(json_object_get(s, "redemptions")),
           (long long)json_integer_value(json_object_get(s, "claims")));
    json_array_foreach(json_object_get(s, "budgets"), i, b)
    {
        printf("  %s ", _("budget"));
        cli_pad(stdout, json_string_value(json_object_get(b, "id")), 16);
        printf(_(" issued %s  released %s  redeemed %s  paid %s  clawed back %s\n"),
               json_string_value(json_object_get(b, "issued")),
               json_string_value(json_object_get(b, "released")),
               json_string_value(json_object_get(b, "redeemed")),
               json_string_value(json_object_get(b, "paid")),
               json_string_value(json_object_get(b, "clawed_back")));
    }
}
