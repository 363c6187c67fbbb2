/* fuzz_zpl.c: ZPL labels (tube and box) built from database values (IDs, lot, donor code, dates) that
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
    int dpi = data[0] & 4 ? ZPL_DPI_203 : ZPL_DPI_300;
    struct zpl_label l = {.id = f[0], .lot = f[1], .donor = f[2], .processed = f[3],
                          .expires = f[4], .storage = f[5], .dose = data[0] >> 3, .doses = 9,
                          .retained = retained, .reprint = reprint, .dpi = dpi};
    struct zpl_label empty = {.id = "", .lot = "", .donor = "", .processed = "", .expires = "",
                              .storage = "", .dose = data[0] >> 3, .doses = 9,
                              .retained = retained, .reprint = reprint, .dpi = dpi};
    struct zpl_box_label b = {.id = f[0], .freezer = f[1], .freezer_id = f[2], .rack = f[3],
                              .storage = f[4], .rows = 8, .cols = 12, .dpi = dpi};
    struct zpl_box_label bempty = {.id = "", .freezer = "", .freezer_id = "", .rack = "",
                                   .storage = "", .rows = 8, .cols = 12, .dpi = dpi};
    struct strbuf out = STRBUF_INIT, base = STRBUF_INIT;
    zpl_label_append(&out, &l);
    zpl_label_append(&base, &empty);
    /* a box label, empty fields or not, has the same commands (an empty freezer ID or rack is
     * left out or replaced, which changes no command) */
    zpl_box_label_append(&out, &b);
    zpl_box_label_append(&base, &bempty);
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
