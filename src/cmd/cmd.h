/* cmd.h: the command table, the context every command handler gets, and output helpers.
 * A new command is one handler in src/cmd/<group>.c plus one entry in that file's table. */
#ifndef FMTBANK_CMD_H
#define FMTBANK_CMD_H
#include "common/error.h"
#include "common/options.h"
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

enum out_format { OUT_TABLE, OUT_TSV, OUT_JSON };

struct cmd_ctx {
    PGconn *conn;        /* connected by the dispatcher for CMD_DB commands */
    const char *dsn;     /* --db */
    const char *user;    /* --user */
    const char *reason;  /* --reason */
    enum out_format format;
    const struct cmd_def *def;
    struct fb_error err;
};

/* Returns 0, or an exit code (enum fb_errkind) with ctx->err set when there is a message. */
typedef int (*cmd_fn)(struct cmd_ctx *ctx, int argc, char **argv);

#define CMD_DB 0x1       /* cmd_parse connects and checks the schema version */
#define CMD_DB_RAW 0x2   /* connect, but no schema check (init) */
#define CMD_RAW_ARGS 0x4 /* arguments after the command are passed through untouched */

struct cmd_def {
    const char *name;    /* "donor add" */
    cmd_fn fn;
    unsigned flags;
    const char *usage;   /* after "fmtbank ": "donor add CODE [--birth-year Y]" */
    const char *summary; /* one line */
    const char *help;    /* paragraphs for --help, may be NULL */
};

/* Each group file defines one NULL-terminated table. */
extern const struct cmd_def cmd_defs_db[];
extern const struct cmd_def cmd_defs_init[];
extern const struct cmd_def cmd_defs_user[];
extern const struct cmd_def cmd_defs_audit[];
extern const struct cmd_def cmd_defs_donor[];
extern const struct cmd_def cmd_defs_report[];
extern const struct cmd_def cmd_defs_catalog[];
extern const struct cmd_def cmd_defs_rules[];
extern const struct cmd_def cmd_defs_questionnaire[];
extern const struct cmd_def cmd_defs_result[];
extern const struct cmd_def cmd_defs_donation[];
extern const struct cmd_def cmd_defs_storage[];
extern const struct cmd_def cmd_defs_scan[];
extern const struct cmd_def cmd_defs_aliquot[];
extern const struct cmd_def cmd_defs_aliquot_use[];
extern const struct cmd_def cmd_defs_lot[];
extern const struct cmd_def cmd_defs_release[];
extern const struct cmd_def cmd_defs_lookback[];
extern const struct cmd_def cmd_defs_release_report[];

int cmd_main(int argc, char **argv);

#define CMD_ANY_ARGS ((size_t)-1)
/* Parses a handler's options and checks it got nargs positionals (CMD_ANY_ARGS: any number;
 * what names them for the message); then, for CMD_DB commands, connects (so usage errors come
 * before any connection). Returns 0, or -1 with ctx->err set (free nothing: pos is released). */
int cmd_parse(struct cmd_ctx *ctx, int argc, char **argv, const struct opt_spec *specs,
              struct opt_args *pos, size_t nargs, const char *what);
/* Sets a usage error naming the command's usage; returns FB_ERR_USAGE. */
int cmd_usage_error(struct cmd_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Fails with a usage error unless exactly n positionals were given. */
int cmd_want_args(struct cmd_ctx *ctx, const struct opt_args *pos, size_t n, const char *what);
/* Returns ctx->err.kind (or FB_ERR_INTERNAL) for handlers to return after a failed call. */
int cmd_fail(struct cmd_ctx *ctx);

enum out_shape { OUT_LIST, OUT_OBJECT };
/* Runs a SELECT and prints it per --format: table (aligned, or vertical for one object), tsv, or
 * json (built by PostgreSQL: json_agg / row_to_json of the query). OUT_OBJECT with no row is a
 * not-found error with not_found as its message. */
int out_query(struct cmd_ctx *ctx, enum out_shape shape, const char *sql, int nparams,
              const char *const *params, const char *not_found);
/* Checks that value (when given) is one of the NULL-terminated choices; otherwise a usage error
 * naming the option, with a hint listing the choices. Returns 0 or FB_ERR_USAGE. */
int cmd_check_choice(struct cmd_ctx *ctx, const char *option, const char *value,
                     const char *const *choices);
/* A command without arguments that prints one query (list or object). */
int cmd_query_noargs(struct cmd_ctx *ctx, int argc, char **argv, enum out_shape shape,
                     const char *sql);
/* Prints every value of column 0, one per line (new identifiers). */
void out_ids(const PGresult *res);
/* Opens an input file ("-" for stdin) or sets a not-found / input error. */
FILE *cmd_open_input(struct cmd_ctx *ctx, const char *path);
/* Reads one line (a password) from stdin, or prompts without echo at a terminal. */
char *cmd_read_secret(const char *prompt, bool from_stdin, struct fb_error *err);

#endif
