/* sign.h: the two phases of an electronic signature (schema/code/070_sign_attempt.sql), shared by
 * "release sign" and "case decide": the signer's signature password (asked without echo at a
 * terminal, or read from standard input with --password-stdin), its check committed on its own
 * first (so a wrong password stays recorded whatever happens next), then the signing call that
 * uses the check. */
#ifndef FMTBANK_SIGN_H
#define FMTBANK_SIGN_H
#include "cmd/cmd.h"

/* The password for signing WHAT with MEANING; NULL with ctx->err set. Free with sign_forget. */
char *sign_password(struct cmd_ctx *ctx, const char *what, const char *meaning);
void sign_forget(char *pw);
/* Both phases with the password PW: ATTEMPT_SQL (a function returning the check's id, or NULL when
 * the signer is locked) with (TARGET, MEANING, PW), committed on its own; then SIGN_SQL with
 * PARAMS[0..n-1] and the check's id appended as parameter n+1. Returns SIGN_SQL's result, or NULL
 * with ctx->err set. */
PGresult *sign_run(struct cmd_ctx *ctx, const char *pw, const char *attempt_sql, const char *target,
                   const char *meaning, const char *sign_sql, const char *const *params, int n);
/* Phase 2's answer R, whose first column is the outcome: 0 when it is OK_OUTCOME, else the
 * refusal (a wrong password: message, detail and hint from columns MSGCOL..MSGCOL+2) set in
 * ctx->err and FB_ERR_REFUSED. */
int sign_outcome(struct cmd_ctx *ctx, const PGresult *r, const char *ok_outcome, int msgcol);

#endif
