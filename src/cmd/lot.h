/* lot.h: the state of one lot as "lot show" and "release check" print it. */
#ifndef FMTBANK_CMD_LOT_H
#define FMTBANK_CMD_LOT_H
#include "cmd/cmd.h"
#include <stdbool.h>

/* Evaluates lot (as typed) once and prints its state per --format: lot, donor, status,
 * blocking, aliquots and more. Sets *releasable when nothing blocks its release. Returns 0 or an
 * exit code with ctx->err set. */
int lot_print_state(struct cmd_ctx *ctx, const char *lot, bool *releasable);

/* --as-of TS, for the commands that answer as of a past moment (schema/code/160_asof.sql). */
#define LOT_AS_OF_OPT                                                                              \
    {"as-of", 0, OPT_STRING, "TS",                                                                 \
     .help = "answer with what had been recorded by then, states included (a date: its end)"}
#define LOT_AS_OF_HELP                                                                             \
    "--as-of TS answers with only what had been recorded by TS (a date alone: the end of that\n" \
    "day), states included: the status stored then, the holds in force then, the rules, results\n" \
    "and questionnaires in force then; JSON then carries as_of. The answer for a past moment\n"   \
    "does not change when later events are recorded.\n"
#define LOT_AS_OF_OPTS lot_as_of_opts
extern const struct opt_spec lot_as_of_opts[];

#endif
