/* donor.c: "fmtbank donor add|import|list|show|identity": the pseudonymous donor registry. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "db/donor_import.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmd_donor_add(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *year = NULL, *sex = NULL;
    const struct opt_spec specs[] = {{"birth-year", 0, OPT_STRING, &year},
                                     {"sex", 0, OPT_STRING, &sex},
                                     {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 1, "donor CODE") < 0)
        return cmd_fail(ctx);
    int rc;
    {
        const char *p[] = {pos.items[0], year, sex};
        PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.donor_add($1, $2, $3)", 3, p, &ctx->err);
        rc = r ? 0 : -1;
        if (r)
            out_ids(r);
        PQclear(r);
    }
    opt_args_free(&pos);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

/* Opens FILE ("-" for stdin) for an import command. */
FILE *
cmd_open_input(struct cmd_ctx *ctx, const char *path)
{
    if (strcmp(path, "-") == 0)
        return stdin;
    FILE *f = fopen(path, "rb");
    if (!f)
        fb_error_set(&ctx->err, errno == ENOENT ? FB_ERR_NOTFOUND : FB_ERR_INPUT,
                     "could not open \"%s\": %s", path, strerror(errno));
    return f;
}

static int
cmd_donor_import(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct opt_args pos;
    static const struct opt_spec none[] = {{0}};
    if (cmd_parse(ctx, argc, argv, none, &pos, 1, "FILE.csv") < 0)
        return cmd_fail(ctx);
    int rc;
    FILE *in = cmd_open_input(ctx, pos.items[0]);
    if (in) {
        long nbad, nrows;
        rc = import_csv(ctx->conn, &donor_import_spec, in, pos.items[0], stderr, stdout, &nbad,
                        &nrows, &ctx->err);
        if (rc == 0)
            fprintf(stderr, "imported %ld donor%s from \"%s\"\n", nrows, nrows == 1 ? "" : "s",
                    pos.items[0]);
        if (in != stdin)
            fclose(in);
    } else {
        rc = -1;
    }
    opt_args_free(&pos);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_donor_list(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct opt_args pos;
    static const struct opt_spec none[] = {{0}};
    if (cmd_parse(ctx, argc, argv, none, &pos, 0, "") < 0)
        return cmd_fail(ctx);
    opt_args_free(&pos);
    return out_query(ctx, OUT_LIST,
                     "SELECT code, birth_year, sex, created_at FROM fmtbank.donor_list ORDER BY code",
                     0, NULL, NULL);
}

static int
cmd_donor_show(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct opt_args pos;
    static const struct opt_spec none[] = {{0}};
    if (cmd_parse(ctx, argc, argv, none, &pos, 1, "donor CODE") < 0)
        return cmd_fail(ctx);
    int rc;
    {
        const char *p[] = {pos.items[0]};
        char *msg = xasprintf("donor \"%s\" not found", pos.items[0]);
        rc = out_query(ctx, OUT_OBJECT,
                       "SELECT code, birth_year, sex, created_at FROM fmtbank.donor_list"
                       " WHERE code = upper(btrim($1))",
                       1, p, msg);
        free(msg);
    }
    opt_args_free(&pos);
    return rc;
}

static int
cmd_donor_identity(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *name = NULL, *birth = NULL, *contact = NULL;
    const struct opt_spec specs[] = {{"full-name", 0, OPT_STRING, &name},
                                     {"birth-date", 0, OPT_STRING, &birth},
                                     {"contact", 0, OPT_STRING, &contact},
                                     {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 1, "donor CODE") < 0)
        return cmd_fail(ctx);
    int rc;
    const char *p[] = {pos.items[0], name, birth, contact};
    if (name || birth || contact) {
        rc = db_run(ctx->conn, "SELECT fmtbank.donor_identity_set($1, $2, $3, $4)", 4, p,
                    &ctx->err) == 0 ? 0 : cmd_fail(ctx);
    } else {
        char *msg = xasprintf("no identity recorded for donor \"%s\"", pos.items[0]);
        rc = out_query(ctx, OUT_OBJECT,
                       "SELECT d.code, i.full_name, i.birth_date, i.contact, i.updated_at"
                       " FROM fmtbank.donor_identity i"
                       " JOIN fmtbank.donor d ON d.id = i.donor_id"
                       " WHERE d.id = (fmtbank.donor_get($1)).id",
                       1, p, msg);
        free(msg);
    }
    opt_args_free(&pos);
    return rc;
}

const struct cmd_def cmd_defs_donor[] = {
    {"donor add", cmd_donor_add, CMD_DB, "donor add CODE [--birth-year Y] [--sex F|M|X]",
     "register a candidate donor by pseudonymous code (prints the code)",
     "CODE must match the site's pattern (default D- and 4 to 8 digits, e.g. D-0001).\n"},
    {"donor import", cmd_donor_import, CMD_DB, "donor import FILE.csv",
     "register many donors from a legacy register, all or nothing",
     "The file has the header line code,birth_year,sex. Every bad line is reported with its\n"
     "line number and nothing is imported unless all lines are good. Prints the new codes.\n"},
    {"donor list", cmd_donor_list, CMD_DB, "donor list", "list donors", NULL},
    {"donor show", cmd_donor_show, CMD_DB, "donor show CODE", "one donor", NULL},
    {"donor identity", cmd_donor_identity, CMD_DB,
     "donor identity CODE [--full-name N] [--birth-date D] [--contact C]",
     "show or record a donor's identity (quality and admin only)",
     "Identity (PII) is kept apart from the pseudonymous donor record; technicians and\n"
     "auditors can never read it.\n"},
    {0},
};
