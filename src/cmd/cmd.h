/* cmd.h: the command table, the context every command handler gets, and output helpers.
 * A new command is one handler in src/cmd/<group>.c plus one entry in that file's table; a new
 * option of a command is one line in that entry's option table.
 *
 * The entry declares the positionals and the options (common/options.h); the dispatcher parses
 * the command line against them (unknown options, "missing --X", "invalid value", the positional
 * count: all usage errors, exit 2, before any connection), connects for CMD_DB commands, then
 * calls the handler with the result in ctx: positionals in ctx->args[0..nargs-1], options by
 * name with cmd_opt / cmd_flag / cmd_multi. --help prints the usage line and the option list
 * from the same entry:
 *
 *     {"donor defer", cmd_donor_defer, CMD_DB | CMD_REASON, {"CODE", 1, 1, "donor CODE"},
 *      (const struct opt_spec[]){
 *          {"until", 0, OPT_STRING, "DATE", "the first day it no longer applies", OPT_REQUIRED},
 *          {0}},
 *      "defer a donor until a date (quality)", NULL},
 */
#ifndef FMTBANK_CMD_H
#define FMTBANK_CMD_H
#include "common/error.h"
#include "common/options.h"
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

enum out_format { OUT_TABLE, OUT_TSV, OUT_JSON, OUT_CSV };

struct cmd_ctx {
    PGconn *conn;        /* connected by the dispatcher for CMD_DB commands */
    const char *dsn;     /* --db */
    const char *user;    /* --user */
    const char *reason;  /* --reason */
    enum out_format format;
    bool quiet;          /* --quiet: no new IDs on stdout, no progress */
    const struct cmd_def *def;
    struct opt_values opt; /* the parsed options (not for CMD_RAW_ARGS) */
    char **args;           /* the positionals (CMD_RAW_ARGS: every argument, untouched) */
    size_t nargs;
    struct fb_error err;
};

/* Returns 0, or an exit code (enum fb_errkind) with ctx->err set when there is a message. */
typedef int (*cmd_fn)(struct cmd_ctx *ctx);

#define CMD_DB 0x1       /* the dispatcher connects and checks the schema version */
#define CMD_DB_RAW 0x2   /* connect, but no schema check (init) */
#define CMD_RAW_ARGS 0x4 /* arguments after the command are passed through untouched */
#define CMD_REASON 0x8   /* a change the database refuses without --reason: in the usage line */

struct cmd_def {
    const char *name;            /* "donor add" */
    cmd_fn fn;
    unsigned flags;
    struct opt_pos args;         /* positionals: {"CODE", 1, 1, "donor CODE"}; {0}: none */
    const struct opt_spec *opts; /* zero-terminated; NULL: no options */
    const char *summary;         /* one line */
    const char *help;            /* paragraphs for --help, may be NULL */
};

static inline const char *
cmd_opt(const struct cmd_ctx *ctx, const char *name)
{
    return opt_get(&ctx->opt, name);
}

static inline bool
cmd_flag(const struct cmd_ctx *ctx, const char *name)
{
    return opt_has(&ctx->opt, name);
}

static inline const struct opt_list *
cmd_multi(const struct cmd_ctx *ctx, const char *name)
{
    return opt_all(&ctx->opt, name);
}

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
extern const struct cmd_def cmd_defs_case[];
extern const struct cmd_def cmd_defs_trace[];
extern const struct cmd_def cmd_defs_freezer[];
extern const struct cmd_def cmd_defs_todo[];
extern const struct cmd_def cmd_defs_recipient[];
extern const struct cmd_def cmd_defs_backup[];
extern const struct cmd_def cmd_defs_archive[];
extern const struct cmd_def cmd_defs_trial[];
extern const struct cmd_def cmd_defs_help[];

int cmd_main(int argc, char **argv);

/* Every command table, for dispatch, --help and the tests. */
extern const struct cmd_def *const cmd_groups[];
extern const size_t cmd_ngroups;
/* The global options (--db, --user, --format, ...), zero-terminated. */
extern const struct opt_spec *const cmd_global_opts;
/* fmtbank --help: the command list, the global options and the exit codes. */
void cmd_print_main_help(FILE *out);
/* "fmtbank donor add CODE [--birth-year YEAR] ..." (allocated). */
char *cmd_usage(const struct cmd_def *d);
/* A command's --help: usage, summary, option list, help text, global options, exit codes. */
void cmd_print_help(FILE *out, const struct cmd_def *d);
/* Sets a usage error naming the command's usage; returns FB_ERR_USAGE. */
int cmd_usage_error(struct cmd_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Returns ctx->err.kind (or FB_ERR_INTERNAL) for handlers to return after a failed call. */
int cmd_fail(struct cmd_ctx *ctx);

enum out_shape { OUT_LIST, OUT_OBJECT };
/* --format tsv or csv: records of fields, one formatter (out_record) for both. */
static inline bool
out_delimited(const struct cmd_ctx *ctx)
{
    return ctx->format == OUT_TSV || ctx->format == OUT_CSV;
}
/* Prints one record of n fields as TSV (tab, newline and backslash escaped) or CSV (RFC 4180). */
void out_record(const struct cmd_ctx *ctx, const char *const *fields, int n);
/* Runs a SELECT and prints it per --format: table (aligned, or vertical for one object; json
 * values as text; fitted to the terminal's width), tsv, csv, or json (built by PostgreSQL: json_agg / row_to_json of the query). OUT_OBJECT with no row is a
 * not-found error with not_found as its message. */
int out_query(struct cmd_ctx *ctx, enum out_shape shape, const char *sql, int nparams,
              const char *const *params, const char *not_found);
/* A command without arguments that prints one query (list or object). */
int cmd_query_noargs(struct cmd_ctx *ctx, enum out_shape shape, const char *sql);
/* Prints every value of column 0, one per line (new identifiers), unless --quiet. */
void out_ids(const struct cmd_ctx *ctx, const PGresult *res);
/* A table cell as a person reads it: an ID with its check character set apart
 * (common/idtext.h), anything else as it is. Returns v or *own (allocated; the caller frees it). */
const char *out_text(const char *v, char **own);
/* Prints one new identifier on its line, unless --quiet. */
void out_id(const struct cmd_ctx *ctx, const char *id);
/* Runs a statement that creates records and prints column 0 of every row it returns, one per
 * line (new identifiers, unless --quiet); returns 0 or cmd_fail's code. */
int out_new_ids(struct cmd_ctx *ctx, const char *sql, int nparams, const char *const *params);
/* Opens an input file ("-" for stdin) or sets a not-found / input error. */
FILE *cmd_open_input(struct cmd_ctx *ctx, const char *path);
struct import_spec;
int cmd_import_file(struct cmd_ctx *ctx, const struct import_spec *spec, bool print_ids,
                    const char *one, const char *many);
/* Reads one line (a password) from stdin, or prompts without echo at a terminal. */
char *cmd_read_secret(const char *prompt, bool from_stdin, struct fb_error *err);

/* "fmtbank audit anchor": signs the audit chain head with the private key at key_path, appends
 * the anchor to the log (checking that the trail still extends its last anchor) and copies it
 * into outbox (may be NULL); prints the anchor line. Returns 0 or an exit code with ctx->err. */
int audit_anchor_sign(struct cmd_ctx *ctx, const char *key_path, const char *log_path,
                      const char *outbox);

#endif
