/* sign.c: the two phases of an electronic signature (see sign.h). */
#include "cmd/sign.h"
#include "db/db.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *
sign_password(struct cmd_ctx *ctx, const char *what, const char *meaning)
{
    bool from_stdin = cmd_flag(ctx, "password-stdin");
    /* a script never waits on a hidden prompt: without a terminal, --password-stdin */
    if (!from_stdin && !isatty(STDIN_FILENO)) {
        fb_error_set(&ctx->err, FB_ERR_USAGE, "no terminal to ask for the signature password");
        fb_error_hint(&ctx->err, "Use --password-stdin.");
        return NULL;
    }
    char *prompt = xasprintf("Signing %s: \"%s\"\nSignature password: ", what, meaning);
    char *pw = cmd_read_secret(prompt, from_stdin, &ctx->err);
    free(prompt);
    return pw;
}

void
sign_forget(char *pw)
{
    if (pw) {
        explicit_bzero(pw, strlen(pw));
        free(pw);
    }
}

PGresult *
sign_run(struct cmd_ctx *ctx, const char *pw, const char *attempt_sql, const char *target,
         const char *meaning, const char *sign_sql, const char *const *params, int n)
{
    const char *pa[] = {target, meaning, pw};
    PGresult *r = db_exec(ctx->conn, attempt_sql, 3, pa, &ctx->err);
    if (!r)
        return NULL;
    char *attempt = PQgetisnull(r, 0, 0) ? NULL : xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    const char **p = xcalloc((size_t)n + 1, sizeof(*p));
    for (int i = 0; i < n; i++)
        p[i] = params[i];
    p[n] = attempt;
    r = db_exec(ctx->conn, sign_sql, n + 1, p, &ctx->err);
    free(p);
    free(attempt);
    return r;
}

int
sign_outcome(struct cmd_ctx *ctx, const PGresult *r, const char *ok_outcome, int msgcol)
{
    if (strcmp(PQgetvalue(r, 0, 0), ok_outcome) == 0)
        return 0;
    /* a wrong password was recorded (and committed); the signing itself failed */
    fb_error_set(&ctx->err, FB_ERR_REFUSED, "%s", PQgetvalue(r, 0, msgcol));
    if (!PQgetisnull(r, 0, msgcol + 1))
        fb_error_detail(&ctx->err, "%s", PQgetvalue(r, 0, msgcol + 1));
    if (!PQgetisnull(r, 0, msgcol + 2))
        fb_error_hint(&ctx->err, "%s", PQgetvalue(r, 0, msgcol + 2));
    return FB_ERR_REFUSED;
}
