/* strbuf.c: growable string buffer. */
#include "common/strbuf.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
strbuf_grow(struct strbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->alloc)
        return;
    size_t want = sb->alloc ? sb->alloc : 64;
    while (want < sb->len + extra + 1)
        want *= 2;
    sb->buf = xrealloc(sb->buf, want);
    sb->alloc = want;
}

void
strbuf_add(struct strbuf *sb, const char *data, size_t n)
{
    strbuf_grow(sb, n);
    memcpy(sb->buf + sb->len, data, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void
strbuf_adds(struct strbuf *sb, const char *s)
{
    strbuf_add(sb, s, strlen(s));
}

void
strbuf_addch(struct strbuf *sb, char c)
{
    strbuf_add(sb, &c, 1);
}

void
strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("invalid format");
    strbuf_grow(sb, (size_t)n);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    sb->len += (size_t)n;
}

void
strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = '\0';
}

char *
strbuf_detach(struct strbuf *sb)
{
    char *out = sb->buf ? sb->buf : xstrdup("");
    sb->buf = NULL;
    sb->len = sb->alloc = 0;
    return out;
}

void
strbuf_release(struct strbuf *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->alloc = 0;
}

const char *
strbuf_str(const struct strbuf *sb)
{
    return sb->buf ? sb->buf : "";
}
