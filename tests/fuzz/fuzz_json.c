/* fuzz_json.c: the JSON string escaper (json_add_string) and the PostgreSQL text[] literal
 * builder (pg_text_array), both fed untrusted text. Invariants: each output decodes back to
 * exactly its input, and the JSON output holds no raw control character. */
#include "fuzz.h"

#include "cmd/labels.h"
#include "common/json.h"
#include "common/strbuf.h"

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the JSON string literal at s (escapes as json.c writes them, \u00XX only). */
static char *
json_decode(const char *s, size_t len)
{
    CHECK(len >= 2 && s[0] == '"' && s[len - 1] == '"');
    char *out = malloc(len);
    size_t n = 0;
    for (size_t i = 1; i < len - 1; i++) {
        unsigned char c = (unsigned char)s[i];
        CHECK(c >= 0x20);
        CHECK(c != '"');
        if (c != '\\') {
            out[n++] = (char)c;
            continue;
        }
        CHECK(i + 1 < len - 1);
        char e = s[++i];
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'u': {
            CHECK(i + 4 < len - 1);
            int v = 0;
            for (int k = 1; k <= 4; k++) {
                int h = hexval(s[i + (size_t)k]);
                CHECK(h >= 0);
                v = v * 16 + h;
            }
            CHECK(v > 0 && v < 0x20);
            out[n++] = (char)v;
            i += 4;
            break;
        }
        default: CHECK(!"unknown escape");
        }
    }
    out[n] = '\0';
    return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);

    struct strbuf sb = STRBUF_INIT;
    json_add_string(&sb, s);
    char *back = json_decode(sb.buf, sb.len);
    CHECK(strcmp(back, s) == 0);
    free(back);
    strbuf_reset(&sb);
    json_add_string(&sb, NULL);
    CHECK(strcmp(sb.buf, "null") == 0);
    strbuf_release(&sb);

    /* text[] literal of the input's lines: split back with the array syntax's rules. */
    const char *items[16];
    size_t n = 0;
    char *copy = strdup(s);
    for (char *line = copy, *next; line && n < 16; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        items[n++] = line;
    }
    pg_text_array(&sb, items, n);
    const char *p = sb.buf;
    CHECK(*p++ == '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            CHECK(*p++ == ',');
        CHECK(*p++ == '"');
        const char *want = items[i];
        while (*p != '"') {
            CHECK(*p != '\0');
            if (*p == '\\')
                p++;
            CHECK(*p == *want);
            p++;
            want++;
        }
        CHECK(*want == '\0');
        p++;
    }
    CHECK(strcmp(p, "}") == 0);
    strbuf_release(&sb);
    free(copy);
    free(s);
    return 0;
}
