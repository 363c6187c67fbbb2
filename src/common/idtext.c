/* idtext.c: displaying IDs with the check character set apart, and reading the displayed form. */
#include "common/idtext.h"
#include "common/checkchar.h"

#include <ctype.h>
#include <string.h>

static bool
digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

const char *
idtext_kind(const char *s)
{
    size_t n = strlen(s);
    const char *kind = NULL;
    if (n == 6 && s[0] == 'F' && digits(s + 1, 4))
        kind = "freezer";
    else if (n == 8 && s[0] == 'B' && digits(s + 1, 6))
        kind = "box";
    else if (n == 10 && s[0] == 'L' && digits(s + 1, 8))
        kind = "lot";
    else if (n == 14 && s[0] == 'L' && digits(s + 1, 8) && s[9] == '-' && digits(s + 10, 3))
        kind = "aliquot";
    else if (n == 10 && s[0] == 'C' && digits(s + 1, 8))
        kind = "case";
    else if (n == 10 && s[0] == 'E' && digits(s + 1, 8))
        kind = "event";
    return kind && checkchar_valid(s) ? kind : NULL;
}

const char *
idtext_display_into(const char *s, char out[IDTEXT_SHOWN_MAX])
{
    if (!idtext_kind(s))
        return NULL;
    size_t n = strlen(s), sep = sizeof(IDTEXT_SEP) - 1; /* an ID: at most 14 characters */
    memcpy(out, s, n - 1);
    memcpy(out + n - 1, IDTEXT_SEP, sep);
    out[n - 1 + sep] = s[n - 1];
    out[n + sep] = '\0';
    return out;
}

void
idtext_display(struct strbuf *out, const char *s)
{
    char shown[IDTEXT_SHOWN_MAX];
    strbuf_adds(out, idtext_display_into(s, shown) ? shown : s);
}

char *
idtext_display_dup(const char *s)
{
    if (!idtext_kind(s))
        return NULL;
    struct strbuf sb = STRBUF_INIT;
    idtext_display(&sb, s);
    return strbuf_detach(&sb);
}

bool
idtext_plain(char *s)
{
    static const char dot[] = "\xC2\xB7";
    size_t n = strlen(s);
    /* ... [blanks] U+00B7 [blanks] X */
    if (n < 4 || isspace((unsigned char)s[n - 1]))
        return false;
    size_t i = n - 1;
    while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
        i--;
    if (i < 2 || memcmp(s + i - 2, dot, 2) != 0)
        return false;
    i -= 2;
    while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
        i--;
    if (i == 0)
        return false;
    s[i] = s[n - 1];
    s[i + 1] = '\0';
    return true;
}
