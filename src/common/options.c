/* options.c: the option layer every command and fmtbankd use, so options behave the same
 * everywhere and their help is printed from the same declaration that parses them. */
#include "common/options.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

static const struct opt_spec *
find_long(const struct opt_spec *specs, const char *name, size_t len)
{
    for (const struct opt_spec *s = specs; s && s->name; s++)
        if (strlen(s->name) == len && strncmp(s->name, name, len) == 0)
            return s;
    return NULL;
}

static const struct opt_spec *
find_short(const struct opt_spec *specs, char c)
{
    for (const struct opt_spec *s = specs; s && s->name; s++)
        if (s->short_name && s->short_name == c)
            return s;
    return NULL;
}

/* "-5", "-0.25": a negative number, which is a value (a positional or an option's value), not an
 * option. */
static bool
is_negative_number(const char *a)
{
    if (a[0] != '-')
        return false;
    bool digits = false, dot = false;
    for (const char *p = a + 1; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits = true;
        else if (*p == '.' && !dot)
            dot = true;
        else
            return false;
    }
    return digits;
}

static void
push(struct opt_args *pos, char *arg)
{
    pos->items = xrealloc(pos->items, (pos->n + 1) * sizeof(char *));
    pos->items[pos->n++] = arg;
}

static void
store(struct opt_list *l, const char *value)
{
    l->items = xrealloc(l->items, (l->n + 1) * sizeof(char *));
    l->items[l->n++] = value;
}

static int
take_value(const struct opt_spec *s, const char *inline_val, int argc, char **argv, int *i,
           const char **out, struct fb_error *err)
{
    if (s->type == OPT_FLAG) {
        if (inline_val) {
            fb_error_set(err, FB_ERR_USAGE, "option \"--%s\" takes no value", s->name);
            return -1;
        }
        *out = "";
        return 0;
    }
    if (inline_val) {
        *out = inline_val;
        return 0;
    }
    if (*i + 1 >= argc) {
        fb_error_set(err, FB_ERR_USAGE, "option \"--%s\" requires a value", s->name);
        return -1;
    }
    *out = argv[++*i];
    return 0;
}

/* How the usage line and the messages show an option: "-o FILE.xlsx" or "--until DATE". */
static void
add_synopsis(struct strbuf *sb, const struct opt_spec *s)
{
    if (s->short_name)
        strbuf_addf(sb, "-%c", s->short_name);
    else
        strbuf_addf(sb, "--%s", s->name);
    if (s->value_name)
        strbuf_addf(sb, " %s", s->value_name);
}

/* "a|b|c" as "a, b or c". */
static void
add_choices(struct strbuf *sb, const char *choices)
{
    for (const char *p = choices; *p;) {
        size_t n = strcspn(p, "|");
        strbuf_add(sb, p, n);
        p += n;
        if (*p == '|') {
            p++;
            strbuf_adds(sb, strchr(p, '|') ? ", " : " or ");
        }
    }
}

int
opt_check_choice(const struct opt_spec *s, const char *label, const char *value,
                 struct fb_error *err)
{
    if (!s->choices || !value)
        return 0;
    size_t len = strlen(value);
    for (const char *p = s->choices; *p;) {
        size_t n = strcspn(p, "|");
        if (n == len && strncmp(p, value, n) == 0)
            return 0;
        p += n + (p[n] == '|');
    }
    fb_error_set(err, FB_ERR_USAGE, "invalid value \"%s\" for \"%s\"", value, label);
    struct strbuf hint = STRBUF_INIT;
    strbuf_adds(&hint, "Use ");
    add_choices(&hint, s->choices);
    fb_error_hint(err, "%s.", strbuf_str(&hint));
    strbuf_release(&hint);
    return -1;
}

/* The refusals that need the whole command line: choices, required options, partners. */
static int
check_values(const struct opt_values *v, struct fb_error *err)
{
    const struct opt_spec *specs = v->specs;
    for (size_t k = 0; specs && specs[k].name; k++) {
        const struct opt_spec *s = &specs[k];
        char *label = xasprintf("--%s", s->name);
        int rc = 0;
        for (size_t j = 0; rc == 0 && j < v->vals[k].n; j++)
            rc = opt_check_choice(s, label, v->vals[k].items[j], err);
        free(label);
        if (rc < 0)
            return -1;
    }
    for (size_t k = 0; specs && specs[k].name; k++) {
        const struct opt_spec *s = &specs[k];
        if ((s->flags & OPT_REQUIRED) && v->vals[k].n == 0) {
            struct strbuf sb = STRBUF_INIT;
            add_synopsis(&sb, s);
            if (s->short_name)
                fb_error_set(err, FB_ERR_USAGE, "missing \"%s\"", strbuf_str(&sb));
            else
                fb_error_set(err, FB_ERR_USAGE, "missing --%s", s->name);
            if (s->help)
                fb_error_detail(err, "%s: %s", strbuf_str(&sb), s->help);
            strbuf_release(&sb);
            return -1;
        }
        if (s->with && v->vals[k].n > 0 && !opt_has(v, s->with)) {
            fb_error_set(err, FB_ERR_USAGE, "missing --%s (it goes with --%s)", s->with, s->name);
            return -1;
        }
    }
    return 0;
}

static int
check_positionals(const struct opt_args *a, const struct opt_pos *pos, struct fb_error *err)
{
    if (a->n < pos->min) {
        fb_error_set(err, FB_ERR_USAGE, "missing %s", pos->what ? pos->what : pos->usage);
        return -1;
    }
    if (a->n > pos->max) {
        fb_error_set(err, FB_ERR_USAGE, "unexpected argument \"%s\"", a->items[pos->max]);
        return -1;
    }
    return 0;
}

int
opts_parse(int argc, char **argv, int first, const struct opt_spec *specs,
           const struct opt_pos *pos, struct opt_values *out, struct fb_error *err)
{
    size_t nspecs = 0;
    while (specs && specs[nspecs].name)
        nspecs++;
    memset(out, 0, sizeof(*out));
    out->specs = specs;
    out->vals = xcalloc(nspecs + 1, sizeof(struct opt_list));
    for (int i = first; i < argc; i++) {
        char *a = argv[i];
        const struct opt_spec *s = NULL;
        const char *inline_val = NULL, *value = NULL;

        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                push(&out->pos, argv[i]);
            break;
        }
        if (a[0] != '-' || a[1] == '\0' || is_negative_number(a)) {
            push(&out->pos, a);
            continue;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            s = find_long(specs, a + 2, len);
            inline_val = eq ? eq + 1 : NULL;
        } else if (a[2] == '\0') {
            s = find_short(specs, a[1]);
        }
        if (!s) {
            fb_error_set(err, FB_ERR_USAGE, "unknown option \"%s\"", a);
            return -1;
        }
        if (take_value(s, inline_val, argc, argv, &i, &value, err) < 0)
            return -1;
        store(&out->vals[s - specs], value);
    }
    if (check_values(out, err) < 0 || (pos && check_positionals(&out->pos, pos, err) < 0))
        return -1;
    return 0;
}

void
opt_values_free(struct opt_values *v)
{
    for (const struct opt_spec *s = v->specs; v->vals && s && s->name; s++)
        free(v->vals[s - v->specs].items);
    free(v->vals);
    free(v->pos.items);
    memset(v, 0, sizeof(*v));
}

const struct opt_spec *
opt_find(const struct opt_spec *specs, const char *name)
{
    return find_long(specs, name, strlen(name));
}

const struct opt_list *
opt_all(const struct opt_values *v, const char *name)
{
    const struct opt_spec *s = opt_find(v->specs, name);
    if (!s)
        die("option \"--%s\" is not declared", name);
    return &v->vals[s - v->specs];
}

const char *
opt_get(const struct opt_values *v, const char *name)
{
    const struct opt_list *l = opt_all(v, name);
    return l->n ? l->items[l->n - 1] : NULL;
}

bool
opt_has(const struct opt_values *v, const char *name)
{
    return opt_all(v, name)->n > 0;
}

char *
opt_key_name(const struct opt_spec *s)
{
    char *k = xstrdup(s->name);
    for (char *p = k; *p; p++)
        if (*p == '-')
            *p = '_';
    return k;
}

char *
opts_usage(const struct opt_spec *specs, const struct opt_pos *pos)
{
    struct strbuf sb = STRBUF_INIT;
    if (pos && pos->usage)
        strbuf_addf(&sb, " %s", pos->usage);
    for (const struct opt_spec *s = specs; s && s->name; s++) {
        bool req = s->flags & OPT_REQUIRED;
        strbuf_adds(&sb, req ? " " : " [");
        add_synopsis(&sb, s);
        if (s->type == OPT_MULTI)
            strbuf_adds(&sb, " ...");
        if (!req)
            strbuf_adds(&sb, "]");
    }
    return strbuf_detach(&sb);
}

void
opts_print_wrapped(FILE *out, const char *text, size_t col, size_t indent, bool usage)
{
    const size_t width = 100;
    const char *p = text;
    int depth = 0; /* inside [...], which stays whole: "[--until DATE]", "[key log_level]" */
    while (*p) {
        /* The next word: up to a space where a line may break (in a usage line only before an
         * option). */
        const char *end = p;
        do {
            depth += (*end == '[') - (*end == ']');
            end++;
        } while (*end && !(*end == ' ' && depth <= 0 && (!usage || end[1] == '[' || end[1] == '-')));
        size_t n = (size_t)(end - p);
        if (col > indent && col + n > width) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
            while (*p == ' ')
                p++, n--;
        }
        fwrite(p, 1, n, out);
        col += n;
        p = end;
    }
    fputc('\n', out);
}

char *
opt_describe(const struct opt_spec *s)
{
    struct strbuf right = STRBUF_INIT;
    strbuf_adds(&right, s->help ? s->help : "");
    if (s->choices) {
        strbuf_adds(&right, " (");
        add_choices(&right, s->choices);
        strbuf_adds(&right, ")");
    }
    if (s->flags & OPT_REQUIRED)
        strbuf_adds(&right, " (required)");
    if (s->type == OPT_MULTI)
        strbuf_adds(&right, " (repeatable)");
    if (s->with)
        strbuf_addf(&right, " (with --%s)", s->with);
    if (s->flags & OPT_KEY) {
        char *key = opt_key_name(s);
        strbuf_addf(&right, " [key %s]", key);
        free(key);
    }
    if (s->def)
        strbuf_addf(&right, " (default %s)", s->def);
    return strbuf_detach(&right);
}

void
opts_print_help(FILE *out, const struct opt_spec *specs)
{
    for (const struct opt_spec *s = specs; s && s->name; s++) {
        struct strbuf left = STRBUF_INIT;
        if (s->short_name)
            strbuf_addf(&left, "-%c, ", s->short_name);
        strbuf_addf(&left, "--%s", s->name);
        if (s->value_name)
            strbuf_addf(&left, " %s", s->value_name);
        char *right = opt_describe(s);
        if (left.len < 22)
            fprintf(out, "  %-22s ", strbuf_str(&left));
        else
            fprintf(out, "  %s\n%25s", strbuf_str(&left), "");
        opts_print_wrapped(out, right, 25, 25, false);
        strbuf_release(&left);
        free(right);
    }
}
