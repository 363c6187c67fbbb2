/* scanline_dump: prints how src/common/scanline.c classifies each line of stdin, one output line
 * per input line: "EMPTY", "OK<TAB>kind", or "REFUSED<TAB>message" (an ID of the wrong kind or a
 * malformed scan). t0205-scan-grammar.sh compares it with what fmtbank.scan() answers. */
#include "common/scanline.h"

#include <stdio.h>
#include <string.h>

static const char *
kind_name(enum scan_kind k)
{
    switch (k) {
    case SCAN_BOX: return "box";
    case SCAN_POSITION: return "position";
    case SCAN_ALIQUOT: return "aliquot";
    case SCAN_MODE: return "mode";
    case SCAN_END: return "end";
    default: return "?";
    }
}

int
main(void)
{
    char buf[4096];
    while (fgets(buf, sizeof(buf), stdin)) {
        buf[strcspn(buf, "\n")] = '\0';
        struct scan_line s;
        scanline_parse(buf, &s);
        if (s.kind == SCAN_EMPTY)
            puts("EMPTY");
        else if (s.kind == SCAN_INVALID || s.kind == SCAN_LOT || s.kind == SCAN_FREEZER)
            printf("REFUSED\t%s\n", s.message);
        else
            printf("OK\t%s\n", kind_name(s.kind));
    }
    return 0;
}
