/* fuzz_zpl.c: ZPL labels built from database values (IDs, lot, donor code, dates, status) that
 * may hold anything. Invariant: no field can inject ZPL: the output has exactly as many command
 * prefixes ('^' and '~') and lines as a label with empty fields, and no control character other
 * than its own line ends. */
#include "fuzz.h"

#include "common/strbuf.h"
#include "common/zpl.h"

static void
count(const struct strbuf *sb, size_t *caret, size_t *tilde, size_t *nl)
{
    *caret = *tilde = *nl = 0;
    for (size_t i = 0; i < sb->len; i++) {
        unsigned char c = (unsigned char)sb->buf[i];
        *caret += c == '^';
        *tilde += c == '~';
        *nl += c == '\n';
        CHECK(c >= 0x20 || c == '\n');
        CHECK(c != 0x7f);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool retained = data[0] & 1, reprint = data[0] & 2;
    /* The rest: up to six fields separated by NUL bytes. */
    char *rest = malloc(size);
    memcpy(rest, data + 1, size - 1);
    rest[size - 1] = '\0';
    const char *f[6] = {"", "", "", "", "", ""};
    size_t nf = 0;
    for (size_t i = 0; i < size && nf < 6;) {
        f[nf++] = rest + i;
        i += strlen(rest + i) + 1;
        if (i >= size)
            break;
    }
    struct zpl_label l = {f[0], f[1], f[2], f[3], f[4], f[5], retained, reprint};
    struct zpl_label empty = {"", "", "", "", "", "", retained, reprint};
    struct strbuf out = STRBUF_INIT, base = STRBUF_INIT;
    zpl_label_append(&out, &l);
    zpl_label_append(&base, &empty);
    size_t c1, t1, n1, c0, t0, n0;
    count(&out, &c1, &t1, &n1);
    count(&base, &c0, &t0, &n0);
    CHECK(c1 == c0);
    CHECK(t1 == t0);
    CHECK(n1 == n0);
    CHECK(strncmp(out.buf, "^XA\n", 4) == 0);
    CHECK(out.len >= 4 && strcmp(out.buf + out.len - 4, "^XZ\n") == 0);
    strbuf_release(&out);
    strbuf_release(&base);
    free(rest);
    return 0;
}
