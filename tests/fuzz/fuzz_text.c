/* fuzz_text.c: the text checks and escapes every byte from outside goes through (src/common/
 * text.c). Invariants: an escaped copy is always text; text already clean escapes to itself; a
 * UTF-8 sequence length stays within the input; the escaping stream, written in pieces of any
 * size, gives exactly what text_escape gives for the whole. */
#include "fuzz.h"

#include "common/text.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0] & 3u;
    size_t chunk = (size_t)(data[0] >> 2) + 1;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char why[64];
    size_t at = 0;

    for (size_t i = 0; i < n; i++) {
        size_t l = text_utf8_len(s + i, n - i);
        CHECK(l <= 4 && l <= n - i);
    }
    CHECK(text_bom_len(s, n) == 0 || text_bom_len(s, n) == 3);

    const char *bad = text_check(s, n, flags, &at, why);
    if (bad)
        CHECK(at < n && memchr(why, '\0', sizeof(why)) != NULL);
    char *e = text_escape(s, n, flags);
    CHECK(e != NULL);
    size_t elen = strlen(e);
    CHECK(text_check(e, elen, flags, &at, why) == NULL);
    if (!bad)
        CHECK(elen == n && memcmp(e, s, n) == 0);

    char *out = NULL;
    size_t outlen = 0;
    FILE *mem = open_memstream(&out, &outlen);
    CHECK(mem != NULL);
    FILE *st = text_escaping_stream(mem);
    CHECK(st != NULL);
    for (size_t i = 0; i < n; i += chunk)
        CHECK(fwrite(s + i, 1, n - i < chunk ? n - i : chunk, st) == (n - i < chunk ? n - i : chunk));
    fclose(st);
    fclose(mem);
    char *whole = text_escape(s, n, TEXT_KEEP_LINES);
    if (outlen != strlen(whole) || memcmp(out, whole, outlen) != 0)
        fprintf(stderr, "stream: \"%.*s\"\nwhole:  \"%s\"\n", (int)outlen, out, whole);
    CHECK(outlen == strlen(whole) && memcmp(out, whole, outlen) == 0);
    free(whole);
    free(out);
    free(e);
    return 0;
}
