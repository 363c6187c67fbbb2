/* fuzz_scanline.c: one line typed by a barcode scanner. Invariants: the parse never fails, the
 * kind is one of the enum, texts stay inside their buffers, a box or aliquot accepted has a valid
 * check character, a position is 1-based, and parsing is deterministic. */
#include "fuzz.h"

#include "common/checkchar.h"
#include "common/scanline.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    struct scan_line a, b;
    memset(&a, 0xA5, sizeof(a));
    scanline_parse(s, &a);
    CHECK(a.kind >= SCAN_EMPTY && a.kind <= SCAN_END);
    CHECK(memchr(a.text, '\0', sizeof(a.text)) != NULL);
    switch (a.kind) {
    case SCAN_INVALID:
    case SCAN_LOT:
    case SCAN_FREEZER:
        CHECK(memchr(a.message, '\0', sizeof(a.message)) != NULL);
        CHECK(a.message[0] != '\0');
        break;
    case SCAN_BOX:
    case SCAN_ALIQUOT:
        CHECK(checkchar_valid(a.text));
        break;
    case SCAN_POSITION:
        CHECK(a.row >= 1 && a.col >= 1);
        break;
    case SCAN_MODE:
        CHECK(a.mode == SCAN_MODE_STORE || a.mode == SCAN_MODE_RETRIEVE ||
              a.mode == SCAN_MODE_AUDIT || a.mode == SCAN_MODE_ISSUE);
        CHECK(scan_mode_name(a.mode) != NULL);
        break;
    default:
        break;
    }
    scanline_parse(s, &b);
    CHECK(b.kind == a.kind);
    CHECK(strcmp(b.text, a.text) == 0);

    enum scan_mode m;
    if (scan_mode_parse(s, &m))
        CHECK(strcasecmp(scan_mode_name(m), s) == 0);
    free(s);
    return 0;
}
