/* lot.h: the state of one lot as "lot show" and "release check" print it. */
#ifndef FMTBANK_CMD_LOT_H
#define FMTBANK_CMD_LOT_H
#include "cmd/cmd.h"
#include <stdbool.h>

/* Evaluates lot (as typed) once and prints its state per --format: lot, donor, status,
 * blocking, aliquots and more. Sets *releasable when nothing blocks its release. Returns 0 or an
 * exit code with ctx->err set. */
int lot_print_state(struct cmd_ctx *ctx, const char *lot, bool *releasable);

#endif
