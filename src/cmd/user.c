/* user.c: "fmtbank user add|list|disable|password|unlock": people and their signature password. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The password from stdin, a terminal prompt (twice), or none when neither is available. */
static int
get_password(struct cmd_ctx *ctx, bool from_stdin, bool required, char **out)
{
    *out = NULL;
    if (!from_stdin && !isatty(STDIN_FILENO)) {
        if (!required)
            return 0;
        fb_error_set(&ctx->err, FB_ERR_USAGE, "no terminal to ask for the password");
        fb_error_hint(&ctx->err, "Use --password-stdin.");
        return -1;
    }
    char *pw = cmd_read_secret("Signature password: ", from_stdin, &ctx->err);
    if (!pw)
        return -1;
    if (!from_stdin) {
        char *again = cmd_read_secret("Repeat signature password: ", false, &ctx->err);
        bool same = again && strcmp(pw, again) == 0;
        free(again);
        if (!same) {
            free(pw);
            if (!ctx->err.message)
                fb_error_set(&ctx->err, FB_ERR_INPUT, "the two passwords differ");
            return -1;
        }
    }
    *out = pw;
    return 0;
}

static int
cmd_user_add(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *role = NULL, *printed = NULL;
    bool pw_stdin = false;
    const struct opt_spec specs[] = {{"role", 0, OPT_STRING, &role},
                                     {"name", 0, OPT_STRING, &printed},
                                     {"password-stdin", 0, OPT_FLAG, &pw_stdin},
                                     {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 1, "user NAME") < 0)
        return cmd_fail(ctx);
    int rc = 0;
    if (!role)
        rc = cmd_usage_error(ctx, "missing --role");
    char *pw = NULL;
    if (rc == 0 && get_password(ctx, pw_stdin, false, &pw) < 0)
        rc = -1;
    if (rc == 0) {
        const char *p[] = {pos.items[0], role, printed, pw};
        PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.user_add($1, $2, $3, $4)", 4, p,
                              &ctx->err);
        if (r)
            out_ids(r);
        else
            rc = -1;
        PQclear(r);
    }
    free(pw);
    opt_args_free(&pos);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_user_list(struct cmd_ctx *ctx, int argc, char **argv)
{
    return cmd_query_noargs(ctx, argc, argv, OUT_LIST,
                            "SELECT name, role, printed_name, has_signature, disabled, locked"
                            " FROM fmtbank.user_list ORDER BY name");
}

/* user disable / unlock / password: one NAME, one function. */
static int
user_one(struct cmd_ctx *ctx, int argc, char **argv, const char *sql, bool password)
{
    bool pw_stdin = false;
    const struct opt_spec specs[] = {{"password-stdin", 0, OPT_FLAG, &pw_stdin}, {0}};
    const struct opt_spec none[] = {{0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, password ? specs : none, &pos, 1, "user NAME") < 0)
        return cmd_fail(ctx);
    int rc = 0;
    char *pw = NULL;
    if (password && get_password(ctx, pw_stdin, true, &pw) < 0)
        rc = -1;
    if (rc == 0) {
        const char *p[] = {pos.items[0], pw};
        rc = db_run(ctx->conn, sql, password ? 2 : 1, p, &ctx->err);
    }
    free(pw);
    opt_args_free(&pos);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_user_disable(struct cmd_ctx *ctx, int argc, char **argv)
{
    return user_one(ctx, argc, argv, "SELECT fmtbank.user_disable($1)", false);
}

static int
cmd_user_unlock(struct cmd_ctx *ctx, int argc, char **argv)
{
    return user_one(ctx, argc, argv, "SELECT fmtbank.user_unlock($1)", false);
}

static int
cmd_user_password(struct cmd_ctx *ctx, int argc, char **argv)
{
    return user_one(ctx, argc, argv, "SELECT fmtbank.user_set_password($1, $2)", true);
}

const struct cmd_def cmd_defs_user[] = {
    {"user add", cmd_user_add, CMD_DB,
     "user add NAME --role ROLE [--name \"Printed Name\"] [--password-stdin]",
     "add a person (admin): a PostgreSQL login role in fmtbank_ROLE",
     "ROLE is technician, quality, auditor or admin. The signature password (8 characters or\n"
     "more, stored as a bcrypt hash) is what the person re-enters to sign; it is read from\n"
     "standard input with --password-stdin, asked twice at a terminal, or left unset.\n"
     "Prints the new user's name.\n"},
    {"user list", cmd_user_list, CMD_DB, "user list", "list people, roles and state", NULL},
    {"user disable", cmd_user_disable, CMD_DB, "user disable NAME --reason TEXT",
     "disable a person (admin): no login, no signing; never deleted", NULL},
    {"user password", cmd_user_password, CMD_DB, "user password NAME [--password-stdin]",
     "set a signature password (admin for anyone, or your own)", NULL},
    {"user unlock", cmd_user_unlock, CMD_DB, "user unlock NAME --reason TEXT",
     "unlock a person locked out by failed signature attempts (admin)", NULL},
    {0},
};
