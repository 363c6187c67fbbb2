/* text.c: UTF-8 validity, control characters and their escaping for messages. */
#include "common/text.h"
#include "common/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

size_t
text_utf8_len(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0)
        return 0;
    unsigned char c = u[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned long cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (u[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* The code point of a valid sequence of len bytes. */
static unsigned long
code_point(const unsigned char *u, size_t len)
{
    if (len == 1)
        return u[0];
    unsigned long cp = u[0] & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
    for (size_t i = 1; i < len; i++)
        cp = (cp << 6) | (u[i] & 0x3f);
    return cp;
}

static bool
is_control(unsigned long cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

const char *
text_check(const char *s, size_t n, unsigned flags, size_t *at, char *why)
{
    for (size_t i = 0; i < n;) {
        size_t len = text_utf8_len(s + i, n - i);
        *at = i;
        if (len == 0) {
            strcpy(why, "invalid UTF-8");
            return why;
        }
        unsigned long cp = code_point((const unsigned char *)s + i, len);
        if (cp == 0) {
            strcpy(why, "a NUL byte");
            return why;
        }
        bool keep = (cp == '\t' && (flags & (TEXT_KEEP_TAB | TEXT_KEEP_LINES))) ||
                    (cp == '\n' && (flags & TEXT_KEEP_LINES));
        if (is_control(cp) && !keep) {
            snprintf(why, 48, "a control character (0x%02lX)", cp);
            return why;
        }
        i += len;
    }
    return NULL;
}

char *
text_escape(const char *s, size_t n, unsigned flags)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_grow(&sb, n + 1);
    sb.buf[0] = '\0'; /* an empty input gives "" */
    for (size_t i = 0; i < n;) {
        size_t len = text_utf8_len(s + i, n - i);
        if (len == 0) {
            strbuf_addf(&sb, "\\x%02X", (unsigned char)s[i]);
            i++;
            continue;
        }
        unsigned long cp = code_point((const unsigned char *)s + i, len);
        if (!is_control(cp) || (cp == '\t' && (flags & (TEXT_KEEP_TAB | TEXT_KEEP_LINES))) ||
            (cp == '\n' && (flags & TEXT_KEEP_LINES)))
            strbuf_add(&sb, s + i, len);
        else if (cp == '\t')
            strbuf_adds(&sb, "\\t");
        else if (cp == '\n')
            strbuf_adds(&sb, "\\n");
        else if (cp == '\r')
            strbuf_adds(&sb, "\\r");
        else if (cp < 0x80)
            strbuf_addf(&sb, "\\x%02lX", cp);
        else
            strbuf_addf(&sb, "\\u%04lX", cp);
        i += len;
    }
    return strbuf_detach(&sb);
}

char *
text_escape_str(const char *s, unsigned flags)
{
    return text_escape(s, strlen(s), flags);
}

size_t
text_bom_len(const char *s, size_t n)
{
    return n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

struct escaping {
    FILE *out;
    char carry[4]; /* the start of a UTF-8 sequence cut by the end of a write */
    size_t ncarry;
};

/* How many bytes at the end of s[0..n) may be the start of a sequence still to come. */
static size_t
cut_tail(const char *s, size_t n)
{
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        unsigned char c = (unsigned char)s[n - k];
        if ((c & 0xc0) == 0x80)
            continue; /* a continuation byte: look further back */
        size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 1;
        return need > k && c >= 0xc2 && c <= 0xf4 ? k : 0;
    }
    return 0;
}

static ssize_t
escaping_write(void *cookie, const char *buf, size_t size)
{
    struct escaping *e = cookie;
    struct strbuf in = STRBUF_INIT;
    strbuf_add(&in, e->carry, e->ncarry);
    strbuf_add(&in, buf, size);
    size_t keep = cut_tail(in.buf, in.len);
    e->ncarry = keep;
    memcpy(e->carry, in.buf + in.len - keep, keep);
    char *safe = text_escape(in.buf, in.len - keep, TEXT_KEEP_LINES);
    fputs(safe, e->out);
    free(safe);
    strbuf_release(&in);
    return (ssize_t)size;
}

static int
escaping_close(void *cookie)
{
    struct escaping *e = cookie;
    if (e->ncarry) {
        char *safe = text_escape(e->carry, e->ncarry, TEXT_KEEP_LINES);
        fputs(safe, e->out);
        free(safe);
    }
    fflush(e->out);
    free(e);
    return 0;
}

FILE *
text_escaping_stream(FILE *out)
{
    struct escaping *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->out = out;
    cookie_io_functions_t io = {.read = NULL, .write = escaping_write, .seek = NULL,
                                .close = escaping_close};
    FILE *f = fopencookie(e, "w", io);
    if (!f) {
        free(e);
        return NULL;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    return f;
}
