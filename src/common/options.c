/* options.c: the option parser every command uses, so flags behave the same everywhere. */
#include "common/options.h"
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

static int
store(const struct opt_spec *s, const char *value)
{
    switch (s->type) {
    case OPT_STRING:
        *(const char **)s->target = value;
        break;
    case OPT_FLAG:
        *(bool *)s->target = true;
        break;
    case OPT_MULTI: {
        struct opt_list *l = s->target;
        l->items = xrealloc(l->items, (l->n + 1) * sizeof(char *));
        l->items[l->n++] = value;
        break;
    }
    }
    return 0;
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
        *out = NULL;
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

int
opts_parse(int argc, char **argv, int first, const struct opt_spec *specs,
           struct opt_args *pos, struct fb_error *err)
{
    for (int i = first; i < argc; i++) {
        char *a = argv[i];
        const struct opt_spec *s = NULL;
        const char *inline_val = NULL, *value = NULL;

        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                push(pos, argv[i]);
            break;
        }
        if (a[0] != '-' || a[1] == '\0' || is_negative_number(a)) {
            push(pos, a);
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
        store(s, value);
    }
    return 0;
}

void
opt_list_free(struct opt_list *l)
{
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void
opt_args_free(struct opt_args *a)
{
    free(a->items);
    a->items = NULL;
    a->n = 0;
}
