/* fuzz_boxmap.c: the terminal box map: boxmap_code over arbitrary status text, and
 * boxmap_render over any grid size up to 26 x 32 and any mix of codes. Invariants: a code is
 * always a letter of the legend; the plain rendering has one line per row plus the header, the
 * grid's codes in order, and no escape sequence. */
#include "fuzz.h"

#include "common/boxmap.h"
#include "common/strbuf.h"

static const char codes_known[] = "QRCXSID?.";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    char *status = fuzz_cstr(data + 3, size - 3);
    char code = boxmap_code(status, data[2] & 1);
    CHECK(code != '\0' && strchr(codes_known, code) != NULL);
    CHECK(boxmap_code(NULL, false) == '?');
    free(status);

    int rows = data[0] % 27, cols = data[1] % 33;
    size_t n = (size_t)rows * (size_t)cols;
    char *codes = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t b = 3 + i < size ? data[3 + i] : 0;
        codes[i] = codes_known[b % (sizeof(codes_known) - 1)];
    }
    codes[n] = '\0';
    for (int colour = 0; colour <= 1; colour++) {
        struct strbuf out = STRBUF_INIT;
        boxmap_render(&out, rows, cols, codes, colour);
        CHECK(out.buf != NULL);
        if (!colour) {
            CHECK(memchr(out.buf, '\033', out.len) == NULL);
            size_t lines = 0;
            for (size_t i = 0; i < out.len; i++)
                lines += out.buf[i] == '\n';
            CHECK(lines == (size_t)rows + 1 + (n ? 2 : 0));
            /* Row r's line: " X " then "  c" per column. */
            const char *line = strchr(out.buf, '\n') + 1;
            for (int r = 0; r < rows; r++) {
                CHECK(line[1] == 'A' + r);
                for (int c = 0; c < cols; c++)
                    CHECK(line[3 + 3 * c + 2] == codes[r * cols + c]);
                line = strchr(line, '\n') + 1;
            }
        }
        strbuf_release(&out);
    }
    free(codes);
    return 0;
}
