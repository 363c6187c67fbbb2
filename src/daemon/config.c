/* config.c: fmtbankd's command line and its configuration file ("key = value" lines, "#"
 * comments), validated as a whole so a bad file changes nothing: at startup it is an exit 2, on
 * SIGHUP the daemon keeps the configuration it had. The command line wins over the file. */
#include "daemon/daemon.h"
#include "db/donor_import.h"
#include "db/reading_import.h"
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

/* fmtbankd's command line and configuration keys, declared once: every entry is a command-line
 * option; those marked OPT_KEY are also keys of the --config file (the name with '_' for '-'),
 * validated by config_set, with their default applied by config_defaults. --help is printed
 * from this table, so the options, the keys and their defaults cannot drift apart. */
static const struct opt_spec daemon_opts[] = {
    {"once", 0, OPT_FLAG, NULL, .help = "one pass, then exit (cron, tests)"},
    {"config", 0, OPT_STRING, "FILE",
     .help = "\"key = value\" settings, reloaded on SIGHUP: the keys marked below"},
    {"inbox", 0, OPT_STRING, "DIR",
     .help = "import DIR/*.csv (the format recognised by the header line); done files go to "
             "DIR/processed/, refused ones to DIR/rejected/ with NAME.errors.txt beside them",
     .flags = OPT_KEY},
    {"outbox", 0, OPT_STRING, "DIR", .help = "where the daily reports are written",
     .flags = OPT_KEY},
    {"interval", 0, OPT_STRING, "SECONDS", .help = "between passes",
     .flags = OPT_KEY, .def = "60"},
    {"db", 0, OPT_STRING, "CONNINFO",
     .help = "the database (else FMTBANK_DSN, the PG* environment, else the embedded instance)",
     .flags = OPT_KEY},
    {"user", 0, OPT_STRING, "ROLE",
     .help = "the role (else the conninfo's, PGUSER, else fmtbankd)",
     .flags = OPT_KEY},
    {"settle", 0, OPT_STRING, "SECONDS",
     .help = "how long a new inbox file must stay unchanged before import",
     .flags = OPT_KEY, .def = "2"},
    {"report-time", 0, OPT_STRING, "HH:MM",
     .help = "local time of the daily reports, or off", .flags = OPT_KEY,
     .def = "06:00"},
    {"reports", 0, OPT_STRING, "NAMES",
     .help = "the daily reports, separated by commas", .flags = OPT_KEY,
     .def = "inventory, expiring"},
    {"inbox-format", 0, OPT_STRING, "FORMAT",
     .help = "auto (by each file's header line), result, donor or reading",
     .flags = OPT_KEY, .def = "auto"},
    {"reconnect-max", 0, OPT_STRING, "SECONDS",
     .help = "the cap of the reconnection back-off", .flags = OPT_KEY,
     .def = "30"},
    {"log-level", 0, OPT_STRING, "LEVEL", .help = "the least severe message logged",
     .flags = OPT_KEY, .choices = "debug|info|warning|error", .def = "info"},
    {"help", 'h', OPT_FLAG, NULL, .help = "print this help"},
    {"version", 0, OPT_FLAG, NULL, .help = "print the version"},
    {0},
};

static const char help[] =
    "\nThe batch daemon: imports the result files dropped into the inbox (each content exactly\n"
    "once), runs the sweeps on its interval and at once on NOTIFY fmtbank_result or\n"
    "fmtbank_rules, writes the daily reports into the outbox and a heartbeat that \"fmtbank\n"
    "status\" shows. Runs in the foreground and logs to stderr. One daemon works at a time;\n"
    "others wait as hot standbys and take over within one interval.\n"
    "\n"
    "Options (those marked [key K] are also the setting K of the --config file, with its\n"
    "default; the command line wins over the file, also after a reload):\n";

static const char trailer[] =
    "\n"
    "Signals: SIGTERM or SIGINT finish the current file or sweep and exit 0; SIGHUP reloads the\n"
    "configuration file. Exit status: 0, 2 for a bad command line or configuration, 7 when\n"
    "--once cannot reach the database, 1 for another failure.\n";

/* The key of a setting: its option name with '_' for '-'. */
static bool
is_key(const struct opt_spec *s, const char *key)
{
    size_t i = 0;
    for (; s->name[i] && key[i]; i++)
        if ((s->name[i] == '-' ? '_' : s->name[i]) != key[i])
            return false;
    return s->name[i] == key[i];
}

static const struct opt_spec *
setting_find(const char *key)
{
    for (const struct opt_spec *s = daemon_opts; s->name; s++)
        if ((s->flags & OPT_KEY) && is_key(s, key))
            return s;
    return NULL;
}

int
daemon_options_parse(int argc, char **argv, struct daemon_options *o, struct fb_error *err)
{
    memset(o, 0, sizeof(*o));
    const struct opt_pos none = {0};
    int rc = 0;
    if (opts_parse(argc, argv, 1, daemon_opts, &none, &o->cli, err) < 0) {
        rc = FB_ERR_USAGE;
    } else if (opt_has(&o->cli, "help")) {
        daemon_print_usage(stdout);
        fputs(help, stdout);
        opts_print_help(stdout, daemon_opts);
        fputs(trailer, stdout);
        rc = 1;
    } else if (opt_has(&o->cli, "version")) {
        printf("fmtbankd %s\n", FMTBANK_VERSION);
        rc = 1;
    }
    o->once = opt_has(&o->cli, "once");
    o->config_path = opt_get(&o->cli, "config");
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
    char *u = opts_usage(daemon_opts, NULL);
    fputs("Usage: fmtbankd", out);
    opts_print_wrapped(out, u, strlen("Usage: fmtbankd"), strlen("Usage: fmtbankd "), true);
    free(u);
}

void
config_defaults(struct daemon_config *c)
{
    memset(c, 0, sizeof(*c));
    for (const struct opt_spec *s = daemon_opts; s->name; s++) {
        struct fb_error err = {0};
        char *key = opt_key_name(s);
        if (s->def && config_set(c, key, s->def, &err) < 0)
            die("the default of \"%s\" is refused: %s", key, err.message);
        free(key);
    }
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
    {"donor", "code,birth_year,sex,consent_version,consent_signed,consent_scope,consent_document",
     &donor_import_spec},
    {"reading", "freezer,at,temp_c", &reading_import_spec},
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
    const struct opt_spec *s = setting_find(key);
    if (!s) {
        fb_error_set(err, FB_ERR_USAGE, "unknown setting \"%s\"", key);
        struct strbuf keys = STRBUF_INIT;
        for (s = daemon_opts; s->name; s++)
            if (s->flags & OPT_KEY) {
                char *k = opt_key_name(s);
                strbuf_addf(&keys, "%s%s", keys.len ? ", " : "", k);
                free(k);
            }
        fb_error_hint(err, "Settings: %s.", strbuf_str(&keys));
        strbuf_release(&keys);
        return -1;
    }
    if (opt_check_choice(s, key, v, err) < 0)
        return -1;
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
        /* One of the declared choices, in the order of enum log_level. */
        static const char *const names[] = {"debug", "info", "warning", "error"};
        for (int i = 0; i < 4; i++)
            if (strcmp(v, names[i]) == 0)
                c->log_level = (enum log_level)i;
        return 0;
    }
    die("setting \"%s\" is declared but not handled", key);
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
    for (const struct opt_spec *s = daemon_opts; rc == 0 && s->name; s++) {
        const char *v = (s->flags & OPT_KEY) ? opt_get(&o->cli, s->name) : NULL;
        char *key = opt_key_name(s);
        if (v && config_set(&n, key, v, err) < 0) {
            char *m = xasprintf("--%s: %s", s->name, err->message);
            free(err->message);
            err->message = m;
            rc = -1;
        }
        free(key);
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
