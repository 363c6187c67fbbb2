/* def.c: parsing report definitions. The layout (NAME.report) is an INI-like file of sections
 * [report], [param NAME] and [sheet NAME] with "key = value" lines; the queries (NAME.sql) are
 * plain SQL, several of them separated by "-- @query NAME" lines. Every problem is reported with
 * its file and line, so a site editing a definition is told exactly what to fix. */
#include "report/def.h"
#include "report/cell.h"
#include "common/file.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const report_boxmap_columns[] = {"box", "caption", "nrows", "ncols", "row",
                                             "col", "label",   "state", NULL};
const char *const report_meta_columns[] = {"created", "title",   "subtitle", "banner",
                                           "subject", "protect", NULL};

static const char *const type_names[] = {"text", "integer",   "number",
                                         "date", "timestamp", "boolean"};

const char *
cell_type_name(enum cell_type t)
{
    return type_names[t];
}

static int
parse_type(const char *s, enum cell_type *out)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (strcmp(s, type_names[i]) == 0) {
            *out = (enum cell_type)i;
            return 0;
        }
    return -1;
}

static bool
ident_valid(const char *s)
{
    if (!s || !(islower((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

bool
report_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 63 || !(islower((unsigned char)name[0]) || isdigit((unsigned char)name[0])))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
              name[i] == '_' || name[i] == '-'))
            return false;
    return true;
}

/* ------------------------------------------------------------------ parse state */

struct parser {
    struct report_def *def;
    const char *file;
    int line;
    struct fb_error *err;
    enum { SEC_NONE, SEC_REPORT, SEC_PARAM, SEC_SHEET } sec;
    struct strbuf seen; /* "\n"-separated keys of the current section, to refuse duplicates */
};

__attribute__((format(printf, 2, 3))) static int
fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        die("out of memory");
    va_end(ap);
    fb_error_set(p->err, FB_ERR_INPUT, "\"%s\", line %d: %s", p->file, p->line, msg);
    free(msg);
    return -1;
}

static char *
trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int
parse_yes_no(struct parser *p, const char *key, const char *v, bool *out)
{
    if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
        *out = true;
    else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
        *out = false;
    else
        return fail(p, "invalid value \"%s\" for \"%s\" (use yes or no)", v, key);
    return 0;
}

/* Refuses a key given twice in one section. */
static int
once(struct parser *p, const char *key)
{
    if (p->seen.len == 0)
        strbuf_addch(&p->seen, '\n');
    char *k = xasprintf("\n%s\n", key);
    bool dup = strstr(p->seen.buf, k) != NULL;
    free(k);
    if (dup)
        return fail(p, "\"%s\" is given twice in this section", key);
    strbuf_adds(&p->seen, key);
    strbuf_addch(&p->seen, '\n');
    return 0;
}

static struct report_sheet *
cur_sheet(struct parser *p)
{
    return &p->def->sheets[p->def->nsheets - 1];
}

static struct report_param *
cur_param(struct parser *p)
{
    return &p->def->params[p->def->nparams - 1];
}

/* Splits "a | b | c" into at most max trimmed fields (in place). Returns the count. */
static size_t
split_bars(char *v, char **fields, size_t max)
{
    size_t n = 0;
    char *s = v;
    while (n < max) {
        char *bar = strchr(s, '|');
        if (bar)
            *bar = '\0';
        fields[n++] = trim(s);
        if (!bar)
            break;
        s = bar + 1;
    }
    return n;
}

static int
section_header(struct parser *p, char *line)
{
    size_t n = strlen(line);
    if (line[n - 1] != ']')
        return fail(p, "section header \"%s\" lacks its closing \"]\"", line);
    line[n - 1] = '\0';
    char *body = trim(line + 1);
    strbuf_reset(&p->seen);
    if (strcmp(body, "report") == 0) {
        if (p->def->title || p->def->description || p->def->meta)
            return fail(p, "[report] is given twice");
        p->sec = SEC_REPORT;
        return 0;
    }
    if (strncmp(body, "param", 5) == 0 && isspace((unsigned char)body[5])) {
        char *name = trim(body + 6);
        if (!ident_valid(name))
            return fail(p, "invalid parameter name \"%s\" (use lower-case letters, digits and _)",
                        name);
        for (size_t i = 0; i < p->def->nparams; i++)
            if (strcmp(p->def->params[i].name, name) == 0)
                return fail(p, "parameter \"%s\" is declared twice", name);
        p->def->params = xrealloc(p->def->params, (p->def->nparams + 1) * sizeof(*p->def->params));
        struct report_param *par = &p->def->params[p->def->nparams++];
        memset(par, 0, sizeof(*par));
        par->name = xstrdup(name);
        par->type = (enum cell_type) - 1;
        par->line = p->line;
        p->sec = SEC_PARAM;
        return 0;
    }
    if (strncmp(body, "sheet", 5) == 0 && isspace((unsigned char)body[5])) {
        char *name = trim(body + 6);
        const char *why = cell_sheet_name_problem(name);
        if (why)
            return fail(p, "invalid sheet name \"%s\": %s", name, why);
        for (size_t i = 0; i < p->def->nsheets; i++)
            if (strcasecmp(p->def->sheets[i].name, name) == 0)
                return fail(p, "sheet \"%s\" is declared twice", name);
        p->def->sheets = xrealloc(p->def->sheets, (p->def->nsheets + 1) * sizeof(*p->def->sheets));
        struct report_sheet *sh = &p->def->sheets[p->def->nsheets++];
        memset(sh, 0, sizeof(*sh));
        sh->name = xstrdup(name);
        sh->line = p->line;
        p->sec = SEC_SHEET;
        return 0;
    }
    return fail(p, "unknown section [%s] (expected [report], [param NAME] or [sheet NAME])", body);
}

static int
column_line(struct parser *p, const char *name, char *value)
{
    struct report_sheet *sh = cur_sheet(p);
    if (!ident_valid(name))
        return fail(p, "invalid column name \"%s\" (use the query's lower-case column name)", name);
    for (size_t i = 0; i < sh->ncols; i++)
        if (strcmp(sh->cols[i].name, name) == 0)
            return fail(p, "column \"%s\" is declared twice", name);
    char *f[4] = {NULL, NULL, NULL, NULL};
    size_t nf = split_bars(value, f, 4);
    enum cell_type t;
    if (parse_type(f[0], &t) < 0)
        return fail(p,
                    "invalid type \"%s\" for column \"%s\" (use text, integer, number, date, "
                    "timestamp or boolean)",
                    f[0], name);
    double width = 0;
    if (nf > 2 && *f[2]) {
        char *end;
        errno = 0;
        width = strtod(f[2], &end);
        if (*end || errno || !(width > 0 && width <= 255))
            return fail(p,
                        "invalid width \"%s\" for column \"%s\" (a number of characters, 1 to "
                        "255)",
                        f[2], name);
    }
    sh->cols = xrealloc(sh->cols, (sh->ncols + 1) * sizeof(*sh->cols));
    struct report_column *c = &sh->cols[sh->ncols++];
    c->name = xstrdup(name);
    c->type = t;
    c->header = xstrdup(nf > 1 && *f[1] ? f[1] : name);
    c->width = width;
    c->format = nf > 3 && *f[3] ? xstrdup(f[3]) : NULL;
    c->line = p->line;
    return 0;
}

static int
color_line(struct parser *p, const char *state, char *value)
{
    struct report_sheet *sh = cur_sheet(p);
    if (!*state)
        return fail(p, "\"color\" needs a state: color STATE = RRGGBB | LABEL");
    for (size_t i = 0; i < sh->ncolors; i++)
        if (strcmp(sh->colors[i].state, state) == 0)
            return fail(p, "color of \"%s\" is given twice", state);
    char *f[2] = {NULL, NULL};
    size_t nf = split_bars(value, f, 2);
    const char *hex = f[0][0] == '#' ? f[0] + 1 : f[0];
    char *end;
    unsigned long rgb = strtoul(hex, &end, 16);
    if (strlen(hex) != 6 || *end || !isxdigit((unsigned char)hex[0]))
        return fail(p, "invalid colour \"%s\" for \"%s\" (use six hex digits, RRGGBB)", f[0],
                    state);
    sh->colors = xrealloc(sh->colors, (sh->ncolors + 1) * sizeof(*sh->colors));
    struct report_color *c = &sh->colors[sh->ncolors++];
    c->state = xstrdup(state);
    c->label = xstrdup(nf > 1 && *f[1] ? f[1] : state);
    c->rgb = (uint32_t)rgb;
    c->line = p->line;
    return 0;
}

static int
report_key(struct parser *p, const char *key, const char *v)
{
    char **slot = strcmp(key, "title") == 0         ? &p->def->title
                  : strcmp(key, "description") == 0 ? &p->def->description
                  : strcmp(key, "meta") == 0        ? &p->def->meta
                                                    : NULL;
    if (!slot)
        return fail(p, "unknown key \"%s\" in [report] (expected title, description or meta)", key);
    if (once(p, key) < 0)
        return -1;
    if (!*v)
        return fail(p, "\"%s\" is empty", key);
    *slot = xstrdup(v);
    return 0;
}

static int
param_key(struct parser *p, const char *key, const char *v)
{
    struct report_param *par = cur_param(p);
    if (once(p, key) < 0)
        return -1;
    if (strcmp(key, "type") == 0) {
        if (parse_type(v, &par->type) < 0)
            return fail(p,
                        "invalid type \"%s\" for parameter \"%s\" (use text, integer, number, "
                        "date, timestamp or boolean)",
                        v, par->name);
    } else if (strcmp(key, "default") == 0) {
        par->def = xstrdup(v);
    } else if (strcmp(key, "required") == 0) {
        return parse_yes_no(p, key, v, &par->required);
    } else if (strcmp(key, "end_of_day") == 0) {
        return parse_yes_no(p, key, v, &par->end_of_day);
    } else if (strcmp(key, "min") == 0 || strcmp(key, "max") == 0) {
        if (!*v)
            return fail(p, "\"%s\" is empty", key);
        *(key[1] == 'i' ? &par->min : &par->max) = xstrdup(v);
    } else if (strcmp(key, "help") == 0) {
        par->help = xstrdup(v);
    } else {
        return fail(p,
                    "unknown key \"%s\" in [param %s] (expected type, default, required, "
                    "end_of_day, min, max or help)",
                    key, par->name);
    }
    return 0;
}

static int
sheet_key(struct parser *p, const char *key, char *v)
{
    struct report_sheet *sh = cur_sheet(p);
    if (strncmp(key, "column", 6) == 0 && (key[6] == '\0' || isspace((unsigned char)key[6])))
        return column_line(p, trim((char *)key + 6), v);
    if (strncmp(key, "color", 5) == 0 && (key[5] == '\0' || isspace((unsigned char)key[5])))
        return color_line(p, trim((char *)key + 5), v);
    if (once(p, key) < 0)
        return -1;
    if (strcmp(key, "kind") == 0) {
        if (strcmp(v, "table") == 0)
            sh->kind = SHEET_TABLE;
        else if (strcmp(v, "record") == 0)
            sh->kind = SHEET_RECORD;
        else if (strcmp(v, "boxmap") == 0)
            sh->kind = SHEET_BOXMAP;
        else
            return fail(p, "invalid kind \"%s\" (use table, record or boxmap)", v);
    } else if (strcmp(key, "query") == 0) {
        if (!ident_valid(v))
            return fail(p, "invalid query name \"%s\"", v);
        sh->query = xstrdup(v);
    } else if (strcmp(key, "title") == 0) {
        sh->title = xstrdup(v);
    } else if (strcmp(key, "empty") == 0) {
        sh->empty = xstrdup(v);
    } else if (strcmp(key, "filter") == 0) {
        if (!ident_valid(v))
            return fail(p, "invalid filter column \"%s\"", v);
        sh->filter = xstrdup(v);
    } else {
        return fail(p,
                    "unknown key \"%s\" in [sheet %s] (expected kind, query, title, empty, "
                    "filter, column NAME or color STATE)",
                    key, sh->name);
    }
    return 0;
}

static int
layout_line(struct parser *p, char *line)
{
    if (line[0] == '[')
        return section_header(p, line);
    char *eq = strchr(line, '=');
    if (!eq)
        return fail(p, "expected \"key = value\" or a [section], not \"%s\"", line);
    *eq = '\0';
    char *key = trim(line), *value = trim(eq + 1);
    if (!*key)
        return fail(p, "a line begins with \"=\"");
    switch (p->sec) {
    case SEC_NONE:
        return fail(p, "\"%s\" is outside any section (begin with [report])", key);
    case SEC_REPORT:
        return report_key(p, key, value);
    case SEC_PARAM:
        return param_key(p, key, value);
    case SEC_SHEET:
        return sheet_key(p, key, value);
    }
    return 0;
}

static int
parse_layout(struct parser *p, const char *text)
{
    char *copy = xstrdup(text);
    char *s = copy;
    int rc = 0;
    p->line = 0;
    /* strtok_r would merge empty lines and lose the count; walk the lines by hand. */
    while (s && rc == 0) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        p->line++;
        char *line = trim(s);
        if (*line && *line != '#' && *line != ';')
            rc = layout_line(p, line);
        s = nl ? nl + 1 : NULL;
    }
    free(copy);
    return rc;
}

/* ------------------------------------------------------------------ queries */

static void
add_query(struct report_def *def, const char *name, const char *body, size_t len, int line)
{
    /* The end is trimmed of blanks and one final ";", the start kept so error positions map to
     * lines of the file. */
    while (len > 0 && isspace((unsigned char)body[len - 1]))
        len--;
    if (len > 0 && body[len - 1] == ';')
        len--;
    while (len > 0 && isspace((unsigned char)body[len - 1]))
        len--;
    def->queries = xrealloc(def->queries, (def->nqueries + 1) * sizeof(*def->queries));
    struct report_query *q = &def->queries[def->nqueries++];
    q->name = xstrdup(name);
    q->sql = xstrndup(body, len);
    q->line = line;
}

/* True when s (up to end) holds only blanks and "--" comments. */
static bool
only_comments(const char *s, const char *end)
{
    while (s < end) {
        if (isspace((unsigned char)*s)) {
            s++;
        } else if (s + 1 < end && s[0] == '-' && s[1] == '-') {
            while (s < end && *s != '\n')
                s++;
        } else {
            return false;
        }
    }
    return true;
}

static int
parse_sql(struct parser *p, const char *text)
{
    static const char marker[] = "-- @query";
    const char *s = text, *body = NULL;
    char *name = NULL;
    int line = 1, body_line = 1;
    bool any = false;

    for (;;) {
        const char *nl = strchr(s, '\n');
        const char *end = nl ? nl : s + strlen(s);
        const char *t = s;
        while (t < end && (*t == ' ' || *t == '\t'))
            t++;
        if ((size_t)(end - t) >= sizeof(marker) - 1 &&
            strncmp(t, marker, sizeof(marker) - 1) == 0) {
            size_t mlen = sizeof(marker) - 1;
            char *raw = xstrndup(t + mlen, (size_t)(end - t) - mlen);
            char *owned = xstrdup(trim(raw));
            bool spaced = raw[0] == '\0' || raw[0] == ' ' || raw[0] == '\t';
            free(raw);
            if (!spaced) {
                /* "-- @queryx" is not a marker; leave it to PostgreSQL as a comment. */
                free(owned);
                goto next_line;
            }
            p->line = line;
            if (!ident_valid(owned)) {
                fail(p, "invalid query name \"%s\" after \"-- @query\"", owned);
                free(owned);
                free(name);
                return -1;
            }
            bool dup = name && strcmp(name, owned) == 0;
            for (size_t i = 0; i < p->def->nqueries && !dup; i++)
                dup = strcmp(p->def->queries[i].name, owned) == 0;
            if (dup) {
                fail(p, "query \"%s\" is defined twice", owned);
                free(owned);
                free(name);
                return -1;
            }
            if (name) {
                add_query(p->def, name, body, (size_t)(s - body), body_line);
                free(name);
            } else if (!only_comments(text, s)) {
                fail(p, "text before the first \"-- @query NAME\" line");
                free(owned);
                return -1;
            }
            name = owned;
            any = true;
            body = nl ? nl + 1 : end;
            body_line = line + 1;
        }
    next_line:
        if (!nl)
            break;
        s = nl + 1;
        line++;
    }
    if (!any) {
        add_query(p->def, "main", text, strlen(text), 1);
    } else {
        add_query(p->def, name, body, strlen(body), body_line);
        free(name);
    }
    for (size_t i = 0; i < p->def->nqueries; i++)
        if (only_comments(p->def->queries[i].sql,
                          p->def->queries[i].sql + strlen(p->def->queries[i].sql))) {
            p->line = p->def->queries[i].line;
            return fail(p, "query \"%s\" is empty", p->def->queries[i].name);
        }
    return 0;
}

const struct report_query *
report_def_query(const struct report_def *def, const char *name)
{
    for (size_t i = 0; i < def->nqueries; i++)
        if (strcmp(def->queries[i].name, name) == 0)
            return &def->queries[i];
    return NULL;
}

/* ------------------------------------------------------------------ whole definition */

static int
validate(struct parser *p)
{
    struct report_def *def = p->def;
    p->file = def->layout_file;
    p->line = 1;
    if (!def->title)
        return fail(p, "the [report] section must give a title");
    if (def->nsheets == 0)
        return fail(p, "no [sheet NAME] section: a report needs at least one sheet");
    for (size_t i = 0; i < def->nparams; i++) {
        struct report_param *par = &def->params[i];
        p->line = par->line;
        if ((int)par->type < 0)
            return fail(p, "parameter \"%s\" has no type", par->name);
        if (par->required && par->def)
            return fail(p, "parameter \"%s\" is required and has a default", par->name);
        if (par->end_of_day && par->type != CELL_TIMESTAMP)
            return fail(p, "\"end_of_day\" applies to timestamp parameters only");
        if ((par->min || par->max) && (par->type == CELL_TEXT || par->type == CELL_BOOLEAN))
            return fail(p, "\"%s\" applies to integer, number, date and timestamp parameters only",
                        par->min ? "min" : "max");
    }
    bool *used = xcalloc(def->nqueries ? def->nqueries : 1, sizeof(bool));
    int rc = 0;
    for (size_t i = 0; i < def->nsheets && rc == 0; i++) {
        struct report_sheet *sh = &def->sheets[i];
        p->line = sh->line;
        if (!sh->query)
            sh->query = xstrdup("main");
        const struct report_query *q = report_def_query(def, sh->query);
        if (!q) {
            rc = fail(p, "sheet \"%s\" uses query \"%s\", which \"%s\" does not define", sh->name,
                      sh->query, def->sql_file);
            break;
        }
        used[q - def->queries] = true;
        /* Table and box-map sheets of one query run it once together (report_run.c): they must
         * come one after another. A record sheet always runs its query on its own. */
        for (size_t j = 0; j < i && rc == 0 && sh->kind != SHEET_RECORD; j++) {
            const struct report_sheet *o = &def->sheets[j];
            if (o->kind == SHEET_RECORD || strcmp(o->query, sh->query) != 0)
                continue;
            if (def->sheets[i - 1].kind == SHEET_RECORD ||
                strcmp(def->sheets[i - 1].query, sh->query) != 0)
                rc = fail(p,
                          "sheet \"%s\" shares query \"%s\" with sheet \"%s\" but does not "
                          "follow it: sheets that share a query come one after another",
                          sh->name, sh->query, o->name);
        }
        if (rc < 0)
            break;
        if (sh->filter && sh->kind == SHEET_RECORD) {
            rc =
                fail(p, "\"filter\" is for table and box-map sheets only (sheet \"%s\")", sh->name);
            break;
        }
        if (sh->kind == SHEET_BOXMAP) {
            if (sh->ncols > 0)
                rc = fail(p,
                          "box-map sheet \"%s\" declares columns: its query returns the fixed "
                          "columns box, caption, nrows, ncols, row, col, label, state",
                          sh->name);
            else if (sh->ncolors == 0)
                rc = fail(p, "box-map sheet \"%s\" gives no \"color STATE = RRGGBB\"", sh->name);
        } else {
            if (sh->ncols == 0)
                rc = fail(p, "sheet \"%s\" declares no column", sh->name);
            else if (sh->ncolors > 0)
                rc = fail(p, "\"color\" is for box-map sheets only (sheet \"%s\")", sh->name);
        }
    }
    if (rc == 0 && def->meta) {
        const struct report_query *q = report_def_query(def, def->meta);
        if (!q)
            rc = fail(p, "meta query \"%s\" is not defined in \"%s\"", def->meta, def->sql_file);
        else
            used[q - def->queries] = true;
    }
    for (size_t i = 0; i < def->nqueries && rc == 0; i++)
        if (!used[i]) {
            p->file = def->sql_file;
            p->line = def->queries[i].line;
            rc = fail(p, "query \"%s\" is used by no sheet", def->queries[i].name);
        }
    free(used);
    return rc;
}

struct report_def *
report_def_parse(const char *name, const char *layout, const char *layout_file, const char *sql,
                 const char *sql_file, struct fb_error *err)
{
    struct report_def *def = xcalloc(1, sizeof(*def));
    def->name = xstrdup(name);
    def->layout_file = xstrdup(layout_file);
    def->sql_file = xstrdup(sql_file);
    struct parser p = {def, layout_file, 0, err, SEC_NONE, STRBUF_INIT};
    int rc = parse_layout(&p, layout);
    if (rc == 0) {
        p.file = sql_file;
        rc = parse_sql(&p, sql);
    }
    if (rc == 0)
        rc = validate(&p);
    strbuf_release(&p.seen);
    if (rc < 0) {
        report_def_free(def);
        return NULL;
    }
    return def;
}

static char *
read_file(const char *path, struct fb_error *err)
{
    char *text = NULL;
    size_t len = 0;
    if (file_read_all(path, 0, 0, &text, &len, err) < 0)
        return NULL;
    if (memchr(text, '\0', len)) {
        fb_error_set(err, FB_ERR_INPUT, "could not read \"%s\": it contains a NUL byte", path);
        free(text);
        return NULL;
    }
    return text;
}

struct report_def *
report_def_load(const char *dir, const char *name, struct fb_error *err)
{
    char *lpath = xasprintf("%s/%s.report", dir, name);
    char *spath = xasprintf("%s/%s.sql", dir, name);
    struct report_def *def = NULL;
    char *layout = read_file(lpath, err), *sql = NULL;
    if (layout)
        sql = read_file(spath, err);
    if (layout && !sql && err->kind == FB_ERR_NOTFOUND) {
        /* The layout exists but its queries do not: a broken definition, not a missing one. */
        err->kind = FB_ERR_INPUT;
        fb_error_hint(err, "A report is two files: %s.report (layout) and %s.sql (queries).", name,
                      name);
    }
    if (layout && sql)
        def = report_def_parse(name, layout, lpath, sql, spath, err);
    free(layout);
    free(sql);
    free(lpath);
    free(spath);
    return def;
}

void
report_def_free(struct report_def *def)
{
    if (!def)
        return;
    for (size_t i = 0; i < def->nparams; i++) {
        free(def->params[i].name);
        free(def->params[i].def);
        free(def->params[i].min);
        free(def->params[i].max);
        free(def->params[i].help);
    }
    for (size_t i = 0; i < def->nsheets; i++) {
        struct report_sheet *sh = &def->sheets[i];
        for (size_t c = 0; c < sh->ncols; c++) {
            free(sh->cols[c].name);
            free(sh->cols[c].header);
            free(sh->cols[c].format);
        }
        for (size_t c = 0; c < sh->ncolors; c++) {
            free(sh->colors[c].state);
            free(sh->colors[c].label);
        }
        free(sh->cols);
        free(sh->colors);
        free(sh->name);
        free(sh->query);
        free(sh->title);
        free(sh->empty);
        free(sh->filter);
    }
    for (size_t i = 0; i < def->nqueries; i++) {
        free(def->queries[i].name);
        free(def->queries[i].sql);
    }
    free(def->params);
    free(def->sheets);
    free(def->queries);
    free(def->name);
    free(def->layout_file);
    free(def->sql_file);
    free(def->title);
    free(def->description);
    free(def->meta);
    free(def);
}
