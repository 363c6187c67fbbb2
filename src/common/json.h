/* json.h: the one small JSON string escaper (most JSON is built by PostgreSQL itself). */
#ifndef FMTBANK_JSON_H
#define FMTBANK_JSON_H
#include "common/strbuf.h"

/* Appends s as a JSON string literal (with quotes), or null when s is NULL. */
void json_add_string(struct strbuf *sb, const char *s);

#endif
