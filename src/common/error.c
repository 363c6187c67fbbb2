/* error.c: fill, print and clear caller-owned errors; the exit-code table. */
#include "common/error.h"
#include "common/text.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    enum fb_errkind kind;
    const char *name;
    const char *meaning;
} kinds[] = {
    {FB_OK, "ok", "success"},
    {FB_ERR_INTERNAL, "internal", "unexpected failure"},
    {FB_ERR_USAGE, "usage", "usage error (unknown command or option, missing argument)"},
    {FB_ERR_INPUT, "invalid input",
     "invalid input (bad check character, malformed file or field, unknown code); nothing changed"},
    {FB_ERR_NOTFOUND, "not found", "not found"},
    {FB_ERR_REFUSED, "refused",
     "refused by a rule (ineligible donor, occupied position, unreleased aliquot, ...)"},
    {FB_ERR_PERMISSION, "permission denied", "permission denied for the acting role"},
    {FB_ERR_DBUNAVAIL, "database unavailable",
     "database unavailable (not running, not initialised, wrong schema; a change sent to a read-only standby)"},
    {FB_ERR_TRANSIENT, "temporary conflict",
     "temporary conflict with a concurrent writer (lock held too long); nothing changed, try again"},
};

static char *
vfmt(const char *fmt, va_list ap)
{
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0)
        die("out of memory");
    return out;
}

void
fb_error_set(struct fb_error *e, enum fb_errkind kind, const char *fmt, ...)
{
    va_list ap;
    fb_error_clear(e);
    e->kind = kind;
    va_start(ap, fmt);
    e->message = vfmt(fmt, ap);
    va_end(ap);
}

void
fb_error_detail(struct fb_error *e, const char *fmt, ...)
{
    va_list ap;
    free(e->detail);
    va_start(ap, fmt);
    e->detail = vfmt(fmt, ap);
    va_end(ap);
}

void
fb_error_hint(struct fb_error *e, const char *fmt, ...)
{
    va_list ap;
    free(e->hint);
    va_start(ap, fmt);
    e->hint = vfmt(fmt, ap);
    va_end(ap);
}

void
fb_error_clear(struct fb_error *e)
{
    free(e->message);
    free(e->detail);
    free(e->hint);
    memset(e, 0, sizeof(*e));
}

/* Text from files and scanners reaches messages: control characters and invalid bytes are
 * printed escaped (\x1B), never raw. */
static void
print_escaped(FILE *out, const char *label, const char *text)
{
    char *safe = text_escape_str(text, TEXT_KEEP_LINES);
    fprintf(out, "%s%s\n", label, safe);
    free(safe);
}

void
fb_error_print(const struct fb_error *e, FILE *out)
{
    print_escaped(out, "fmtbank: error: ", e->message ? e->message : "unknown error");
    if (e->detail)
        print_escaped(out, "DETAIL: ", e->detail);
    if (e->hint)
        print_escaped(out, "HINT: ", e->hint);
}

const char *
fb_errkind_name(enum fb_errkind kind)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return "unknown";
}

void
fb_exit_codes_print(FILE *out)
{
    fputs("Exit codes:\n", out);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        fprintf(out, "  %d  %s\n", (int)kinds[i].kind, kinds[i].meaning);
}
