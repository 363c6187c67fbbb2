/* config.c: fmtbankd's command line and its configuration file ("key = value" lines, "#"
 * comments), validated as a whole so a bad file changes nothing: at startup it is an exit 2, on
 * SIGHUP the daemon keeps the configuration it had. The command line wins over the file. */
#include "daemon/daemon.h"
#include "db/donor_import.h"
#include "db/result_import.h"
#include "common/file.h"
#include "common/options.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: fmtbankd [--once] [--inbox DIR] [--outbox DIR] [--interval SECONDS] [--config FILE]\n"
    "                [--db CONNINFO]\n";

static const char help[] =
    "\nThe batch daemon: imports the result files dropped into the inbox (each content exactly\n"
    "once), runs the sweeps on its interval and at once on NOTIFY fmtbank_result or\n"
    "fmtbank_rules, writes the daily reports into the outbox and a heartbeat that \"fmtbank\n"
    "status\" shows. Runs in the foreground and logs to stderr. One daemon works at a time;\n"
    "others wait as hot standbys and take over within one interval.\n"
    "\n"
    "  --once             one pass, then exit (cron, tests)\n"
    "  --inbox DIR        import DIR/*.csv (the format recognised by the header line); done\n"
    "                     files go to DIR/processed/, refused ones to DIR/rejected/ with\n"
    "                     NAME.errors.txt beside them\n"
    "  --outbox DIR       where the daily reports are written\n"
    "  --interval SECONDS between passes (default 60)\n"
    "  --config FILE      \"key = value\" settings, reloaded on SIGHUP: inbox, outbox, interval,\n"
    "                     settle, report_time (HH:MM or off), reports, db, user, inbox_format,\n"
    "                     reconnect_max, log_level (debug, info, warning, error)\n"
    "  --db CONNINFO      the database (else FMTBANK_DSN, the PG* environment, else the\n"
    "                     embedded instance); the role is the conninfo's, PGUSER, the \"user\"\n"
    "                     setting, else fmtbankd\n"
    "\n"
    "Signals: SIGTERM or SIGINT finish the current file or sweep and exit 0; SIGHUP reloads the\n"
    "configuration file. Exit status: 0, 2 for a bad command line or configuration, 7 when\n"
    "--once cannot reach the database, 1 for another failure.\n";

int
daemon_options_parse(int argc, char **argv, struct daemon_options *o, struct fb_error *err)
{
    bool show_help = false, version = false;
    memset(o, 0, sizeof(*o));
    const struct opt_spec specs[] = {{"once", 0, OPT_FLAG, &o->once},
                                     {"inbox", 0, OPT_STRING, &o->inbox},
                                     {"outbox", 0, OPT_STRING, &o->outbox},
                                     {"interval", 0, OPT_STRING, &o->interval},
                                     {"config", 0, OPT_STRING, &o->config_path},
                                     {"db", 0, OPT_STRING, &o->db},
                                     {"help", 'h', OPT_FLAG, &show_help},
                                     {"version", 0, OPT_FLAG, &version},
                                     {0}};
    struct opt_args pos = {0};
    int rc = 0;
    if (opts_parse(argc, argv, 1, specs, &pos, err) < 0) {
        rc = FB_ERR_USAGE;
    } else if (pos.n > 0) {
        fb_error_set(err, FB_ERR_USAGE, "unexpected argument \"%s\"", pos.items[0]);
        rc = FB_ERR_USAGE;
    } else if (show_help) {
        fputs(usage, stdout);
        fputs(help, stdout);
        rc = 1;
    } else if (version) {
        printf("fmtbankd %s\n", FMTBANK_VERSION);
        rc = 1;
    }
    opt_args_free(&pos);
    return rc;
}

const char *
daemon_version(void)
{
    return FMTBANK_VERSION;
}

void
daemon_print_usage(FILE *out)
{
    fputs(usage, out);
}

void
config_defaults(struct daemon_config *c)
{
    memset(c, 0, sizeof(*c));
    c->inbox_format = xstrdup("auto");
    c->interval = 60;
    c->settle = 2;
    c->reconnect_max = 30;
    c->report_minute = 6 * 60;
    c->reports = xstrdup("inventory, expiring");
    c->log_level = LOG_INFO;
}

void
config_free(struct daemon_config *c)
{
    free(c->inbox);
    free(c->outbox);
    free(c->db);
    free(c->user);
    free(c->inbox_format);
    free(c->reports);
    memset(c, 0, sizeof(*c));
}

static struct daemon_config
config_copy(const struct daemon_config *c)
{
    struct daemon_config r = *c;
    r.inbox = c->inbox ? xstrdup(c->inbox) : NULL;
    r.outbox = c->outbox ? xstrdup(c->outbox) : NULL;
    r.db = c->db ? xstrdup(c->db) : NULL;
    r.user = c->user ? xstrdup(c->user) : NULL;
    r.inbox_format = c->inbox_format ? xstrdup(c->inbox_format) : NULL;
    r.reports = c->reports ? xstrdup(c->reports) : NULL;
    return r;
}

/* The inbox formats, with the header line that identifies each; "auto" tries them in order. */
static const struct inbox_format formats[] = {
    {"result", "donor,test,collected,result,unit,lab", &result_import_spec},
    {"donor", "code,birth_year,sex", &donor_import_spec},
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

const struct inbox_format *
config_inbox_format(const char *name)
{
    for (size_t i = 0; name && i < NFORMATS; i++)
        if (strcmp(formats[i].name, name) == 0)
            return &formats[i];
    return NULL;
}

const struct inbox_format *
inbox_format_detect(const char *buf, size_t len)
{
    /* The first line, without a UTF-8 byte order mark or a carriage return. */
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        buf += 3;
        len -= 3;
    }
    const char *nl = memchr(buf, '\n', len);
    size_t n = nl ? (size_t)(nl - buf) : len;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    for (size_t i = 0; i < NFORMATS; i++)
        if (strlen(formats[i].header) == n && memcmp(formats[i].header, buf, n) == 0)
            return &formats[i];
    return NULL;
}

char *
inbox_format_names(void)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < NFORMATS; i++)
        strbuf_addf(&sb, "%s\"%s\" (%s)", i ? ", " : "", formats[i].header, formats[i].name);
    return strbuf_detach(&sb);
}

static int
parse_seconds(const char *key, const char *v, double min, double max, double *out,
              struct fb_error *err)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !isfinite(d) || d < min || d > max) {
        fb_error_set(err, FB_ERR_USAGE, "invalid value \"%s\" for \"%s\"", v, key);
        fb_error_detail(err, "Give a number of seconds from %g to %g.", min, max);
        return -1;
    }
    *out = d;
    return 0;
}

static int
parse_time_of_day(const char *v, int *minute, struct fb_error *err)
{
    if (strcmp(v, "off") == 0 || strcmp(v, "none") == 0) {
        *minute = -1;
        return 0;
    }
    int h, m, n = 0;
    if (sscanf(v, "%2d:%2d%n", &h, &m, &n) == 2 && v[n] == '\0' && strlen(v) == 5 && h >= 0 &&
        h < 24 && m >= 0 && m < 60) {
        *minute = h * 60 + m;
        return 0;
    }
    fb_error_set(err, FB_ERR_USAGE, "invalid value \"%s\" for \"report_time\"", v);
    fb_error_detail(err, "Give a local time of day as HH:MM (e.g. 06:00), or off.");
    return -1;
}

static int
set_string(char **field, const char *key, const char *v, struct fb_error *err)
{
    if (str_empty(v)) {
        fb_error_set(err, FB_ERR_USAGE, "empty value for \"%s\"", key);
        return -1;
    }
    free(*field);
    *field = xstrdup(v);
    return 0;
}

int
config_set(struct daemon_config *c, const char *key, const char *v, struct fb_error *err)
{
    if (strcmp(key, "interval") == 0)
        return parse_seconds(key, v, 0.05, 86400, &c->interval, err);
    if (strcmp(key, "settle") == 0)
        return parse_seconds(key, v, 0, 3600, &c->settle, err);
    if (strcmp(key, "reconnect_max") == 0)
        return parse_seconds(key, v, 0.1, 3600, &c->reconnect_max, err);
    if (strcmp(key, "report_time") == 0)
        return parse_time_of_day(v, &c->report_minute, err);
    if (strcmp(key, "inbox") == 0)
        return set_string(&c->inbox, key, v, err);
    if (strcmp(key, "outbox") == 0)
        return set_string(&c->outbox, key, v, err);
    if (strcmp(key, "user") == 0)
        return set_string(&c->user, key, v, err);
    if (strcmp(key, "db") == 0) {
        char *msg = NULL;
        PQconninfoOption *opts = PQconninfoParse(v, &msg);
        if (!opts) {
            fb_error_set(err, FB_ERR_USAGE, "invalid value for \"db\": %s",
                         msg ? msg : "out of memory");
            if (err->message[strlen(err->message) - 1] == '\n')
                err->message[strlen(err->message) - 1] = '\0';
            PQfreemem(msg);
            return -1;
        }
        PQconninfoFree(opts);
        return set_string(&c->db, key, v, err);
    }
    if (strcmp(key, "reports") == 0) {
        /* Report names (as in reports/NAME.report), separated by commas or spaces. */
        size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-, ");
        if (str_empty(v) || v[n] != '\0' || strspn(v, ", ") == strlen(v)) {
            fb_error_set(err, FB_ERR_USAGE, "invalid value \"%s\" for \"reports\"", v);
            fb_error_detail(err, "Give report names separated by commas, e.g. inventory, expiring.");
            return -1;
        }
        return set_string(&c->reports, key, v, err);
    }
    if (strcmp(key, "inbox_format") == 0) {
        if (strcmp(v, "auto") != 0 && !config_inbox_format(v)) {
            fb_error_set(err, FB_ERR_USAGE, "invalid value \"%s\" for \"inbox_format\"", v);
            char *names = inbox_format_names();
            fb_error_detail(err, "Use auto (by the header line) or one of %s.", names);
            free(names);
            return -1;
        }
        return set_string(&c->inbox_format, key, v, err);
    }
    if (strcmp(key, "log_level") == 0) {
        static const char *const names[] = {"debug", "info", "warning", "error"};
        for (int i = 0; i < 4; i++)
            if (strcmp(v, names[i]) == 0) {
                c->log_level = (enum log_level)i;
                return 0;
            }
        fb_error_set(err, FB_ERR_USAGE, "invalid value \"%s\" for \"log_level\"", v);
        fb_error_detail(err, "Use debug, info, warning or error.");
        return -1;
    }
    fb_error_set(err, FB_ERR_USAGE, "unknown setting \"%s\"", key);
    fb_error_hint(err, "Settings: inbox, outbox, interval, settle, report_time, reports, db, "
                       "user, inbox_format, reconnect_max, log_level.");
    return -1;
}

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

int
config_parse_text(const char *text, const char *label, struct daemon_config *c,
                  struct fb_error *err)
{
    struct daemon_config tmp = config_copy(c);
    char *copy = xstrdup(text);
    int rc = 0, lineno = 0;
    char *save = NULL;
    /* strtok_r would skip empty lines and so miscount: split by hand. */
    for (char *line = copy; line && rc == 0; line = save) {
        lineno++;
        char *nl = strchr(line, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            fb_error_set(err, FB_ERR_USAGE, "%s:%d: expected \"key = value\", got \"%s\"", label,
                         lineno, s);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (config_set(&tmp, key, value, err) < 0) {
            char *m = xasprintf("%s:%d: %s", label, lineno, err->message);
            free(err->message);
            err->message = m;
            rc = -1;
        }
    }
    free(copy);
    if (rc == 0) {
        config_free(c);
        *c = tmp;
    } else {
        config_free(&tmp);
    }
    return rc;
}

static char *
slurp(const char *path, struct fb_error *err)
{
    char *text = NULL;
    size_t len = 0;
    struct fb_error e = {0};
    if (file_read_all(path, 0, 0, &text, &len, &e) < 0) {
        /* The reader says "could not open|read "PATH": why"; say what the file is for. */
        const char *why = strstr(e.message, "\": ");
        fb_error_set(err, FB_ERR_USAGE, "could not %s configuration file \"%s\"%s%s",
                     str_starts_with(e.message, "could not open") ? "open" : "read", path,
                     why ? ": " : "", why ? why + 3 : "");
        fb_error_clear(&e);
        return NULL;
    }
    if (memchr(text, '\0', len)) {
        fb_error_set(err, FB_ERR_USAGE, "could not read configuration file \"%s\"", path);
        fb_error_detail(err, "It contains a NUL byte.");
        free(text);
        return NULL;
    }
    return text;
}

int
config_load(const struct daemon_options *o, struct daemon_config *c, struct fb_error *err)
{
    struct daemon_config n;
    config_defaults(&n);
    int rc = 0;
    if (o->config_path) {
        char *text = slurp(o->config_path, err);
        rc = text ? config_parse_text(text, o->config_path, &n, err) : -1;
        free(text);
    }
    const struct {
        const char *key, *value;
    } cli[] = {{"inbox", o->inbox}, {"outbox", o->outbox}, {"interval", o->interval},
               {"db", o->db}};
    for (size_t i = 0; rc == 0 && i < sizeof(cli) / sizeof(cli[0]); i++)
        if (cli[i].value && config_set(&n, cli[i].key, cli[i].value, err) < 0) {
            char *m = xasprintf("--%s: %s", cli[i].key, err->message);
            free(err->message);
            err->message = m;
            rc = -1;
        }
    if (rc < 0) {
        config_free(&n);
        return -1;
    }
    config_free(c);
    *c = n;
    return 0;
}

static bool
conninfo_names_user(const char *conninfo)
{
    if (str_empty(conninfo))
        return false;
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    bool named = false;
    for (PQconninfoOption *p = opts; p && p->keyword; p++)
        if (strcmp(p->keyword, "user") == 0 && !str_empty(p->val))
            named = true;
    PQconninfoFree(opts);
    return named;
}

const char *
config_db_user(const struct daemon_config *c)
{
    if (c->user)
        return c->user;
    if (!str_empty(getenv("PGUSER")))
        return NULL;
    if (conninfo_names_user(c->db ? c->db : getenv("FMTBANK_DSN")))
        return NULL;
    return "fmtbankd";
}
