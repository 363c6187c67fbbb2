/* fuzz_anchor.c: lines of an audit anchor log ("fmtbank-anchor v1 SEQ HASH TIME SIGNATURE"),
 * which verify --anchors reads from a file. Invariants: an accepted line is exactly what
 * anchor_message() and anchor_line_format() write for its parsed values (one spelling per
 * anchor, so the signed text is the line's prefix); a refused one says why. */
#include "fuzz.h"

#include "common/anchor.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = fuzz_cstr(data, size);
    struct anchor_line a;
    struct fb_error err = {0};
    if (anchor_line_parse(line, &a, &err) == 0) {
        CHECK(err.message == NULL);
        CHECK(a.seq > 0);
        CHECK(strlen(a.hash) == ANCHOR_HASH_HEX_LEN && strlen(a.time) == ANCHOR_TIME_LEN);
        char *msg = anchor_message(a.seq, a.hash, a.time);
        CHECK(strlen(msg) == a.msg_len && strncmp(msg, line, a.msg_len) == 0);
        char *again = anchor_line_format(msg, a.sig);
        CHECK(strcmp(again, line) == 0);
        free(again);
        free(msg);
    } else {
        CHECK(err.kind == FB_ERR_INPUT && err.message != NULL);
    }
    fb_error_clear(&err);
    free(line);
    return 0;
}
