/* user.c: "fmtbank user add|list|disable|enable|role|password|unlock": people and their one
 * password (login and signature alike, product.md §15). */
#include "cmd/cmd.h"
#include "db/db.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The password from stdin, a terminal prompt (twice), or none when neither is available. */
static int
get_password(struct cmd_ctx *ctx, const char *prompt, bool from_stdin, bool required, char **out)
{
    *out = NULL;
    if (!from_stdin && !isatty(STDIN_FILENO)) {
        if (!required)
            return 0;
        fb_error_set(&ctx->err, FB_ERR_USAGE, "no terminal to ask for the password");
        fb_error_hint(&ctx->err, "Use --password-stdin.");
        return -1;
    }
    char *pw = cmd_read_secret(prompt, from_stdin, &ctx->err);
    if (!pw)
        return -1;
    if (!from_stdin) {
        char *again = cmd_read_secret("Repeat the new password: ", false, &ctx->err);
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
    if (rc == 0 && get_password(ctx, "Password: ", pw_stdin, false, &pw) < 0)
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

/* user disable / enable / unlock / role: NAME (and ROLE), one function. */
static int
user_one(struct cmd_ctx *ctx, int argc, char **argv, const char *sql, int nargs)
{
    const struct opt_spec none[] = {{0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, none, &pos, nargs, nargs == 1 ? "user NAME" : "user NAME ROLE") < 0)
        return cmd_fail(ctx);
    const char *p[] = {pos.items[0], nargs > 1 ? pos.items[1] : NULL};
    int rc = db_run(ctx->conn, sql, nargs, p, &ctx->err);
    opt_args_free(&pos);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_user_disable(struct cmd_ctx *ctx, int argc, char **argv)
{
    return user_one(ctx, argc, argv, "SELECT fmtbank.user_disable($1)", 1);
}

static int
cmd_user_enable(struct cmd_ctx *ctx, int argc, char **argv)
{
    return user_one(ctx, argc, argv, "SELECT fmtbank.user_enable($1)", 1);
}

static int
cmd_user_unlock(struct cmd_ctx *ctx, int argc, char **argv)
{
    return user_one(ctx, argc, argv, "SELECT fmtbank.user_unlock($1)", 1);
}

static int
cmd_user_role(struct cmd_ctx *ctx, int argc, char **argv)
{
    return user_one(ctx, argc, argv, "SELECT fmtbank.user_role($1, $2)", 2);
}

/* One's own password: the current one first (first line of stdin with --password-stdin, the new
 * one on the second line); another person's (admin): only the new one. */
static int
cmd_user_password(struct cmd_ctx *ctx, int argc, char **argv)
{
    bool pw_stdin = false;
    const struct opt_spec specs[] = {{"password-stdin", 0, OPT_FLAG, &pw_stdin}, {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 1, "user NAME") < 0)
        return cmd_fail(ctx);
    const char *name[] = {pos.items[0]};
    char *own = db_scalar(ctx->conn,
                          "SELECT session_user = $1 AND EXISTS (SELECT 1 FROM fmtbank.user_list"
                          " WHERE name = $1 AND has_signature)",
                          1, name, &ctx->err);
    int rc = own ? 0 : -1;
    char *current = NULL, *pw = NULL;
    if (rc == 0 && strcmp(own, "t") == 0 &&
        get_password(ctx, "Current password: ", pw_stdin, true, &current) < 0)
        rc = -1;
    if (rc == 0 && get_password(ctx, "New password: ", pw_stdin, true, &pw) < 0)
        rc = -1;
    if (rc == 0) {
        const char *p[] = {pos.items[0], pw, current};
        rc = db_run(ctx->conn, "SELECT fmtbank.user_password($1, $2, $3)", 3, p, &ctx->err);
    }
    free(own);
    free(current);
    free(pw);
    opt_args_free(&pos);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

const struct cmd_def cmd_defs_user[] = {
    {"user add", cmd_user_add, CMD_DB,
     "user add NAME --role ROLE [--name \"Printed Name\"] [--password-stdin]",
     "add a person (admin): a PostgreSQL login role in fmtbank_ROLE",
     "ROLE is technician, quality, auditor or admin. The password (password_min_length, 12\n"
     "characters by default) is both the login password (scram-sha-256) and the one the\n"
     "person re-enters to sign (bcrypt); it is read from standard input with\n"
     "--password-stdin, asked twice at a terminal (no echo), or left unset (no login).\n"
     "Prints the new user's name.\n"},
    {"user list", cmd_user_list, CMD_DB, "user list", "list people, roles and state", NULL},
    {"user disable", cmd_user_disable, CMD_DB, "user disable NAME --reason TEXT",
     "disable a person (admin): no login, no signing; never deleted", NULL},
    {"user enable", cmd_user_enable, CMD_DB, "user enable NAME --reason TEXT",
     "enable a disabled person again (admin)", NULL},
    {"user role", cmd_user_role, CMD_DB, "user role NAME ROLE --reason TEXT",
     "change a person's role (admin; not one's own)", NULL},
    {"user password", cmd_user_password, CMD_DB, "user password NAME [--password-stdin]",
     "set the login and signature password (your own, or anyone's as admin)",
     "Your own: the current password is asked first (with --password-stdin: the current one on\n"
     "the first line, the new one on the second). Enforces password_min_length and\n"
     "password_history; the password expires after password_max_days.\n"},
    {"user unlock", cmd_user_unlock, CMD_DB, "user unlock NAME --reason TEXT",
     "unlock a person locked out by failed logins or signature attempts (admin)", NULL},
    {0},
};
