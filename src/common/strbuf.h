/* strbuf.h: a growable string buffer (git's strbuf), used instead of sprintf into fixed arrays. */
#ifndef FMTBANK_STRBUF_H
#define FMTBANK_STRBUF_H
#include <stddef.h>

struct strbuf {
    char *buf;
    size_t len;
    size_t alloc;
};

#define STRBUF_INIT {NULL, 0, 0}

void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const char *data, size_t n);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_reset(struct strbuf *sb);
/* Returns the buffer (never NULL) and leaves sb empty; the caller frees it. */
char *strbuf_detach(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
const char *strbuf_str(const struct strbuf *sb);

#endif
