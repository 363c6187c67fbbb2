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
cmd_user_add(struct cmd_ctx *ctx)
{
    const char *role = cmd_opt(ctx, "role"), *printed = cmd_opt(ctx, "name");
    bool pw_stdin = cmd_flag(ctx, "password-stdin");
    int rc = 0;
    char *pw = NULL;
    if (rc == 0 && get_password(ctx, "Password: ", pw_stdin, false, &pw) < 0)
        rc = -1;
    if (rc == 0) {
        const char *p[] = {ctx->args[0], role, printed, pw};
        PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.user_add($1, $2, $3, $4)", 4, p,
                              &ctx->err);
        if (r)
            out_ids(r);
        else
            rc = -1;
        PQclear(r);
    }
    free(pw);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_user_list(struct cmd_ctx *ctx)
{
    return cmd_query_noargs(ctx, OUT_LIST,
                            "SELECT name, role, printed_name, has_signature, disabled, locked, unblinded"
                            " FROM fmtbank.user_list ORDER BY name");
}

/* user disable / enable / unlock / role: NAME (and ROLE), one function. */
static int
user_one(struct cmd_ctx *ctx, const char *sql, int nargs)
{
    const char *p[] = {ctx->args[0], nargs > 1 ? ctx->args[1] : NULL};
    int rc = db_run(ctx->conn, sql, nargs, p, &ctx->err);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_user_disable(struct cmd_ctx *ctx)
{
    return user_one(ctx, "SELECT fmtbank.user_disable($1)", 1);
}

static int
cmd_user_enable(struct cmd_ctx *ctx)
{
    return user_one(ctx, "SELECT fmtbank.user_enable($1)", 1);
}

static int
cmd_user_unlock(struct cmd_ctx *ctx)
{
    return user_one(ctx, "SELECT fmtbank.user_unlock($1)", 1);
}

static int
cmd_user_role(struct cmd_ctx *ctx)
{
    return user_one(ctx, "SELECT fmtbank.user_role($1, $2)", 2);
}

static int
cmd_user_unblinded(struct cmd_ctx *ctx)
{
    return user_one(ctx, "SELECT fmtbank.user_unblinded($1, $2)", 2);
}

/* One's own password: the current one first (first line of stdin with --password-stdin, the new
 * one on the second line); another person's (admin): only the new one. */
static int
cmd_user_password(struct cmd_ctx *ctx)
{
    bool pw_stdin = cmd_flag(ctx, "password-stdin");
    const char *name[] = {ctx->args[0]};
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
        const char *p[] = {ctx->args[0], pw, current};
        rc = db_run(ctx->conn, "SELECT fmtbank.user_password($1, $2, $3)", 3, p, &ctx->err);
    }
    free(own);
    free(current);
    free(pw);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

#define NAME_ARG {"NAME", 1, 1, "user NAME"}
#define PASSWORD_STDIN_OPT                                                                         \
    {"password-stdin", 0, OPT_FLAG, NULL, .help = "read the password from standard input"}

const struct cmd_def cmd_defs_user[] = {
    {"user add", cmd_user_add, CMD_DB, NAME_ARG,
     (const struct opt_spec[]){
         {"role", 0, OPT_STRING, "ROLE", .help = "technician, quality, auditor, admin or site",
          .flags = OPT_REQUIRED},
         {"name", 0, OPT_STRING, "\"Printed Name\"",
          .help = "the printed name shown with signatures"},
         PASSWORD_STDIN_OPT,
         {0}},
     "add a person (admin): a PostgreSQL login role in fmtbank_ROLE",
     "The password (password_min_length, 12 characters by default) is both the login password\n"
     "(scram-sha-256) and the one the person re-enters to sign (bcrypt); it is read from\n"
     "standard input with --password-stdin, asked twice at a terminal (no echo), or left unset\n"
     "(no login). Prints the new user's name.\n"},
    {"user list", cmd_user_list, CMD_DB, {0}, NULL, "list people, roles and state", NULL},
    {"user disable", cmd_user_disable, CMD_DB | CMD_REASON, NAME_ARG, NULL,
     "disable a person (admin): no login, no signing; never deleted", NULL},
    {"user enable", cmd_user_enable, CMD_DB | CMD_REASON, NAME_ARG, NULL,
     "enable a disabled person again (admin)", NULL},
    {"user role", cmd_user_role, CMD_DB | CMD_REASON, {"NAME ROLE", 2, 2, "user NAME ROLE"},
     NULL, "change a person's role (admin; not one's own)", NULL},
    {"user password", cmd_user_password, CMD_DB, NAME_ARG,
     (const struct opt_spec[]){PASSWORD_STDIN_OPT, {0}},
     "set the login and signature password (your own, or anyone's as admin)",
     "Your own: the current password is asked first (with --password-stdin: the current one on\n"
     "the first line, the new one on the second). Enforces password_min_length and\n"
     "password_history; the password expires after password_max_days.\n"},
    {"user unblinded", cmd_user_unblinded, CMD_DB | CMD_REASON,
     {"NAME yes|no", 2, 2, "user NAME and yes or no"}, NULL,
     "grant (yes) or revoke (no) fmtbank_unblinded, held in addition to the role (admin)",
     "The unblinded role (the stool bank's trial pharmacist) reads trial allocations, makes\n"
     "kits and unblinds; never a site person (trial site staff stay blind).\n"},
    {"user unlock", cmd_user_unlock, CMD_DB | CMD_REASON, NAME_ARG, NULL,
     "unlock a person locked out by failed logins or signature attempts (admin)", NULL},
    {0},
};
