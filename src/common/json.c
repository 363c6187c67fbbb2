/* json.c: JSON string escaping per RFC 8259. */
#include "common/json.h"

void
json_add_string(struct strbuf *sb, const char *s)
{
    if (!s) {
        strbuf_adds(sb, "null");
        return;
    }
    strbuf_addch(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': strbuf_adds(sb, "\\\""); break;
        case '\\': strbuf_adds(sb, "\\\\"); break;
        case '\n': strbuf_adds(sb, "\\n"); break;
        case '\r': strbuf_adds(sb, "\\r"); break;
        case '\t': strbuf_adds(sb, "\\t"); break;
        case '\b': strbuf_adds(sb, "\\b"); break;
        case '\f': strbuf_adds(sb, "\\f"); break;
        default:
            if (*p < 0x20)
                strbuf_addf(sb, "\\u%04x", *p);
            else
                strbuf_addch(sb, (char)*p);
        }
    }
    strbuf_addch(sb, '"');
}
