/* commands.c: global options, the command table, dispatch and --help (help cannot drift from the
 * table because it is printed from it). */
#include "cmd/cmd.h"
#include "db/db.h"
#include "db/embedded.h"
#include "db/migrate.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cmd_def *const cmd_groups[] = {
    cmd_defs_init, cmd_defs_db, cmd_defs_user, cmd_defs_audit, cmd_defs_donor,
    cmd_defs_report,
    cmd_defs_catalog, cmd_defs_rules, cmd_defs_questionnaire, cmd_defs_result,
    cmd_defs_donation, cmd_defs_storage, cmd_defs_scan, cmd_defs_aliquot,
    cmd_defs_aliquot_use, cmd_defs_lot, cmd_defs_release, cmd_defs_lookback,
    cmd_defs_release_report, cmd_defs_case, cmd_defs_trace, cmd_defs_freezer, cmd_defs_todo,
    cmd_defs_recipient,
    cmd_defs_backup,
    cmd_defs_archive,
    cmd_defs_trial,
    cmd_defs_help,
};

const size_t cmd_ngroups = sizeof(cmd_groups) / sizeof(cmd_groups[0]);


/* Accepted before or after the command; --help and --version are taken by cmd_main. */
static const struct opt_spec global_opts[] = {
    {"db", 0, OPT_STRING, "CONNINFO",
     .help = "server to use (else $FMTBANK_DSN, else the libpq PG* environment, else the embedded "
     "instance under $FMTBANK_HOME)"},
    {"user", 0, OPT_STRING, "ROLE",
     .help = "acting PostgreSQL role (else $PGUSER; embedded default: postgres)"},
    {"format", 0, OPT_STRING, "FORMAT", .help = "for commands that print records",
     .choices = "table|tsv|json|csv", .def = "table"},
    {"reason", 0, OPT_STRING, "TEXT", .help = "why: recorded in the audit trail with every change"},
    {"quiet", 'q', OPT_FLAG, NULL,
     .help = "no new IDs on stdout (one per record created) and no progress on a terminal"},
    {"help", 'h', OPT_FLAG, NULL, .help = "help for fmtbank or for one command"},
    {"version", 0, OPT_FLAG, NULL, .help = "print the version"},
    {0},
};

const struct opt_spec *const cmd_global_opts = global_opts;

static void
print_global_help(FILE *out)
{
    fputs("Global options (accepted before or after the command):\n", out);
    opts_print_help(out, global_opts);
}

struct globals {
    const char *db, *user, *format, *reason;
    bool help, version, quiet;
};

/* Whether ARG ("--name" or "--name=value") is an option the command itself declares. */
static bool
own_option(const struct cmd_def *d, const char *arg)
{
    if (!d->opts || strncmp(arg, "--", 2) != 0)
        return false;
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);
    for (const struct opt_spec *s = d->opts; s->name; s++)
        if (strlen(s->name) == n && strncmp(s->name, name, n) == 0)
            return true;
    return false;
}

/* The command named by the longest run of argv[i..] (three words, two or one) that is one. */
static const struct cmd_def *
find_cmd(char **argv, int argc, int i, int *words)
{
    for (int n = 3; n >= 1; n--) {
        if (i + n > argc)
            continue;
        char name[128] = "";
        size_t len = 0;
        for (int k = 0; k < n && len < sizeof(name); k++)
            len += (size_t)snprintf(name + len, sizeof(name) - len, "%s%s", k ? " " : "", argv[i + k]);
        if (len >= sizeof(name))
            continue;
        for (size_t g = 0; g < cmd_ngroups; g++)
            for (const struct cmd_def *d = cmd_groups[g]; d->name; d++)
                if (strcmp(d->name, name) == 0) {
                    *words = n;
                    return d;
                }
    }
    return NULL;
}

static bool
is_group(const char *w)
{
    size_t n = strlen(w);
    for (size_t g = 0; g < cmd_ngroups; g++)
        for (const struct cmd_def *d = cmd_groups[g]; d->name; d++)
            if (strncmp(d->name, w, n) == 0 && d->name[n] == ' ')
                return true;
    return false;
}

static void
print_list(FILE *out, const char *group)
{
    size_t n = group ? strlen(group) : 0;
    for (size_t g = 0; g < cmd_ngroups; g++)
        for (const struct cmd_def *d = cmd_groups[g]; d->name; d++)
            if (!group || (strncmp(d->name, group, n) == 0 && d->name[n] == ' '))
                fprintf(out, "  %-23s %s\n", d->name, d->summary);
}

static void
print_main_help(FILE *out)
{
    fputs("fmtbank: donor screening and biobank inventory for a stool bank\n\n"
          "Usage: fmtbank [GLOBAL OPTIONS] COMMAND [ARGS]\n\nCommands:\n",
          out);
    print_list(out, NULL);
    fputc('\n', out);
    print_global_help(out);
    fputc('\n', out);
    fb_exit_codes_print(out);
    fputs("\nRun \"fmtbank COMMAND --help\" for one command.\n", out);
}

void
cmd_print_main_help(FILE *out)
{
    print_main_help(out);
}

char *
cmd_usage(const struct cmd_def *d)
{
    char *tail = opts_usage(d->opts, &d->args);
    char *u = xasprintf("fmtbank %s%s%s", d->name, tail,
                        (d->flags & CMD_REASON) ? " --reason TEXT" : "");
    free(tail);
    return u;
}

void
cmd_print_help(FILE *out, const struct cmd_def *d)
{
    char *usage = cmd_usage(d);
    fputs("Usage: ", out);
    opts_print_wrapped(out, usage, strlen("Usage: "), strlen("Usage: fmtbank "), true);
    fprintf(out, "\n%s\n", d->summary);
    free(usage);
    if (d->opts && d->opts->name) {
        fputs("\nOptions:\n", out);
        opts_print_help(out, d->opts);
    }
    if (d->help)
        fprintf(out, "\n%s", d->help);
    fputc('\n', out);
    print_global_help(out);
    fputc('\n', out);
    fb_exit_codes_print(out);
}

/* Takes a global option at argv[*i] if it is one; returns 1 if taken, 0 if not, -1 on error. */
/* Takes a global option at argv[*i] if it is one; returns 1 if taken, 0 if not, -1 on error. */
static int
take_global(int argc, char **argv, int *i, struct globals *g, struct fb_error *err)
{
    const char **slots[] = {&g->db, &g->user, &g->format, &g->reason};
    char *a = argv[*i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        g->help = true;
        return 1;
    }
    if (strcmp(a, "--version") == 0) {
        g->version = true;
        return 1;
    }
    if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
        g->quiet = true;
        return 1;
    }
    if (strncmp(a, "--", 2) != 0)
        return 0;
    for (size_t k = 0; k < sizeof(slots) / sizeof(slots[0]); k++) {
        const char *name = global_opts[k].name;
        size_t n = strlen(name);
        if (strncmp(a + 2, name, n) != 0)
            continue;
        if (a[2 + n] == '=') {
            *slots[k] = a + 3 + n;
            return 1;
        }
        if (a[2 + n] == '\0') {
            if (*i + 1 >= argc) {
                fb_error_set(err, FB_ERR_USAGE, "option \"--%s\" requires a value", name);
                return -1;
            }
            *slots[k] = argv[++*i];
            return 1;
        }
    }
    return 0;
}

static int
parse_format(const char *f, enum out_format *out, struct fb_error *err)
{
    static const char *const names[] = {"table", "tsv", "json", "csv"};
    if (opt_check_choice(opt_find(global_opts, "format"), "--format", f, err) < 0)
        return -1;
    *out = OUT_TABLE;
    for (size_t k = 0; f && k < sizeof(names) / sizeof(names[0]); k++)
        if (strcmp(f, names[k]) == 0)
            *out = (enum out_format)k;
    return 0;
}

static int
connect_ctx(struct cmd_ctx *ctx)
{
    /* Schema migrations need a superuser: on the embedded instance that is its service account
     * (peer), unless --user or PGUSER names another role. */
    const char *user = ctx->user;
    if (!user && (ctx->def->flags & CMD_DB_RAW) && db_uses_embedded(ctx->dsn) &&
        str_empty(getenv("PGUSER")))
        user = EMBEDDED_SUPERUSER;
    if ((ctx->def->flags & CMD_DB_RAW) && db_uses_embedded(ctx->dsn)) {
        struct embedded e;
        bool restarted = false;
        int rc = embedded_resolve(&e, &ctx->err);
        if (rc == 0)
            rc = embedded_refresh_module(&e, &restarted, &ctx->err);
        embedded_free(&e);
        if (rc < 0)
            return -1;
        if (restarted)
            fprintf(stderr, "fmtbank: the server module changed: the embedded instance was "
                            "restarted to load it\n");
    }
    ctx->conn = db_connect(ctx->dsn, user, &ctx->err);
    if (!ctx->conn)
        return -1;
    if (ctx->def->flags & CMD_DB_RAW)
        return 0;
    const char *p[] = {ctx->reason ? ctx->reason : ""};
    PGresult *r = db_exec(ctx->conn,
                          "SELECT " MIGRATE_STATE_COLUMNS ","
                          " pg_catalog.set_config('fmtbank.reason', $1, false)",
                          1, p, &ctx->err);
    if (!r)
        return migrate_state_failed(ctx->conn, &ctx->err);
    int rc = migrate_check_row(r, &ctx->err);
    PQclear(r);
    return rc;
}

static int
finish(struct cmd_ctx *ctx, int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fb_error_set(&ctx->err, FB_ERR_INTERNAL, "could not write to standard output");
        rc = FB_ERR_INTERNAL;
    }
    if (rc != 0 && ctx->err.message)
        fb_error_print(&ctx->err, stderr);
    if (ctx->conn)
        PQfinish(ctx->conn);
    fb_error_clear(&ctx->err);
    return rc;
}

/* Parses the command's arguments against its table entry, then connects (so usage errors come
 * before any connection). Returns 0 or -1 with ctx->err set. */
static int
prepare(struct cmd_ctx *ctx, int argc, char **argv)
{
    const struct cmd_def *d = ctx->def;
    if (d->flags & CMD_RAW_ARGS) {
        ctx->args = argv + 1;
        ctx->nargs = (size_t)argc - 1;
    } else {
        const struct opt_pos none = {0};
        if (opts_parse(argc, argv, 1, d->opts, d->args.usage ? &d->args : &none, &ctx->opt,
                       &ctx->err) < 0) {
            if (!ctx->err.hint) {
                char *usage = cmd_usage(d);
                fb_error_hint(&ctx->err, "Usage: %s", usage);
                free(usage);
            }
            return -1;
        }
        ctx->args = ctx->opt.pos.items;
        ctx->nargs = ctx->opt.pos.n;
    }
    if ((d->flags & (CMD_DB | CMD_DB_RAW)) && connect_ctx(ctx) < 0)
        return -1;
    return 0;
}

static int
run_command(const struct cmd_def *d, struct globals *g, int argc, char **argv)
{
    struct cmd_ctx ctx = {0};
    ctx.def = d;
    ctx.dsn = g->db;
    ctx.user = g->user;
    ctx.reason = g->reason;
    ctx.quiet = g->quiet;
    if (parse_format(g->format, &ctx.format, &ctx.err) < 0) {
        fb_error_print(&ctx.err, stderr);
        fb_error_clear(&ctx.err);
        return FB_ERR_USAGE;
    }
    int rc = prepare(&ctx, argc, argv) < 0 ? cmd_fail(&ctx) : d->fn(&ctx);
    if (rc != 0 && ctx.err.message && ctx.err.kind == FB_OK)
        ctx.err.kind = (enum fb_errkind)rc;
    opt_values_free(&ctx.opt);
    return finish(&ctx, rc);
}

int
cmd_main(int argc, char **argv)
{
    struct globals g = {0};
    struct fb_error err = {0};
    int i = 1, rc;

    for (; i < argc; i++) {
        rc = take_global(argc, argv, &i, &g, &err);
        if (rc < 0)
            goto usage_error;
        if (rc == 0)
            break;
    }
    if (g.version && i >= argc) {
        printf("fmtbank %s\n", FMTBANK_VERSION);
        return 0;
    }
    if (i >= argc) {
        print_main_help(g.help ? stdout : stderr);
        return g.help ? 0 : FB_ERR_USAGE;
    }
    if (argv[i][0] == '-') {
        fb_error_set(&err, FB_ERR_USAGE, "unknown option \"%s\"", argv[i]);
        goto usage_error;
    }
    int words = 0;
    const struct cmd_def *d = find_cmd(argv, argc, i, &words);
    if (!d) {
        /* a group of commands ("catalog", "catalog test"): the list of its commands */
        char grp[128];
        snprintf(grp, sizeof(grp), "%s", argv[i]);
        int gw = 1;
        if (i + 1 < argc && argv[i + 1][0] != '-') {
            char two[128];
            snprintf(two, sizeof(two), "%s %s", argv[i], argv[i + 1]);
            if (is_group(two)) {
                snprintf(grp, sizeof(grp), "%s", two);
                gw = 2;
            }
        }
        if (is_group(grp)) {
            FILE *out = g.help || (i + gw < argc && strcmp(argv[i + gw], "--help") == 0) ? stdout
                                                                                         : stderr;
            fprintf(out, "Usage: fmtbank %s COMMAND\n\nCommands:\n", grp);
            print_list(out, grp);
            return out == stdout ? 0 : FB_ERR_USAGE;
        }
        fb_error_set(&err, FB_ERR_USAGE, "unknown command \"%s\"", argv[i]);
        fb_error_hint(&err, "Run \"fmtbank --help\" for the list of commands.");
        goto usage_error;
    }
    /* The handler sees argv[0] = command name, then its own arguments. */
    char **hargv = xcalloc((size_t)argc + 1, sizeof(char *));
    int hargc = 0;
    hargv[hargc++] = (char *)d->name;
    bool raw = false;
    for (int k = i + words; k < argc; k++) {
        if (!raw && strcmp(argv[k], "--") == 0 && !(d->flags & CMD_RAW_ARGS))
            raw = true;
        if ((d->flags & CMD_RAW_ARGS) && !(k == i + words && strcmp(argv[k], "--help") == 0)) {
            hargv[hargc++] = argv[k];
            continue;
        }
        /* an option of the command's own shadows a global one of the same name after the
         * command ("donor consent --version V": the consent form's version) */
        if (!raw && !own_option(d, argv[k]) && (rc = take_global(argc, argv, &k, &g, &err)) != 0) {
            if (rc < 0) {
                free(hargv);
                goto usage_error;
            }
            continue;
        }
        hargv[hargc++] = argv[k];
    }
    if (g.help) {
        cmd_print_help(stdout, d);
        free(hargv);
        return 0;
    }
    rc = run_command(d, &g, hargc, hargv);
    free(hargv);
    return rc;

usage_error:
    fb_error_print(&err, stderr);
    fb_error_clear(&err);
    return FB_ERR_USAGE;
}

int
cmd_usage_error(struct cmd_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        die("out of memory");
    va_end(ap);
    fb_error_set(&ctx->err, FB_ERR_USAGE, "%s", msg);
    char *usage = cmd_usage(ctx->def);
    fb_error_hint(&ctx->err, "Usage: %s", usage);
    free(usage);
    free(msg);
    return FB_ERR_USAGE;
}

int
cmd_fail(struct cmd_ctx *ctx)
{
    return ctx->err.kind != FB_OK ? (int)ctx->err.kind : FB_ERR_INTERNAL;
}

int
cmd_query_noargs(struct cmd_ctx *ctx, enum out_shape shape, const char *sql)
{
    return out_query(ctx, shape, sql, 0, NULL, NULL);
}
