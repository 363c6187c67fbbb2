/* audit.c: "fmtbank audit log|verify": read the audit trail and check its hash chain. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>

static int
cmd_audit_log(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *since = NULL, *until = NULL, *table = NULL, *key = NULL;
    const struct opt_spec specs[] = {{"since", 0, OPT_STRING, &since},
                                     {"until", 0, OPT_STRING, &until},
                                     {"table", 0, OPT_STRING, &table},
                                     {"key", 0, OPT_STRING, &key},
                                     {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 0, "") < 0)
        return cmd_fail(ctx);
    opt_args_free(&pos);
    const char *p[] = {since, until, table, key};
    /* A date alone for --until means through the end of that day. */
    return out_query(ctx, OUT_LIST,
                     "SELECT id, at, who, tbl AS \"table\", op, key, reason, old_row, new_row"
                     " FROM fmtbank.audit_log"
                     " WHERE ($1::text IS NULL OR at >= fmtbank.parse_ts($1, '--since'))"
                     "   AND ($2::text IS NULL OR at < CASE WHEN $2 ~ '^\\d{4}-\\d{2}-\\d{2}$'"
                     "        THEN fmtbank.parse_ts($2, '--until') + interval '1 day'"
                     "        ELSE fmtbank.parse_ts($2, '--until') END)"
                     "   AND ($3::text IS NULL OR tbl = $3)"
                     "   AND ($4::text IS NULL OR key = $4)"
                     " ORDER BY id",
                     4, p, NULL);
}

static int
cmd_audit_verify(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct opt_args pos;
    static const struct opt_spec none[] = {{0}};
    if (cmd_parse(ctx, argc, argv, none, &pos, 0, "") < 0)
        return cmd_fail(ctx);
    opt_args_free(&pos);
    PGresult *r = db_exec(ctx->conn,
                          "SELECT ok, rows_checked, first_broken, last_id FROM fmtbank.audit_verify()",
                          0, NULL, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    bool ok = PQgetvalue(r, 0, 0)[0] == 't';
    if (ok) {
        printf("audit trail intact: %s rows verified\n", PQgetvalue(r, 0, 1));
    } else {
        fb_error_set(&ctx->err, FB_ERR_REFUSED, "audit trail broken at row %s",
                     PQgetvalue(r, 0, 2));
        fb_error_detail(&ctx->err,
                        "Row %s does not match the hash chain: it, or a row before it, was "
                        "changed or removed outside fmtbank (%s rows checked).",
                        PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return ok ? 0 : FB_ERR_REFUSED;
}

const struct cmd_def cmd_defs_audit[] = {
    {"audit log", cmd_audit_log, CMD_DB,
     "audit log [--since WHEN] [--until WHEN] [--table T] [--key K]",
     "the audit trail: who changed what, when and why",
     "WHEN is a date or timestamp; a date for --until includes that whole day.\n"
     "Audit rows of donor identity are shown to quality and admin only.\n"},
    {"audit verify", cmd_audit_verify, CMD_DB, "audit verify",
     "check the audit trail's hash chain; exit 5 naming the first broken row", NULL},
    {0},
};
