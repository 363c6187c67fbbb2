/* zpl.c: ZPL II label text. Layout (300 dpi, 384 x 150 dots = 32.5 x 12.7 mm, the common
 * cryovial label): a DataMatrix (ECC 200, 6 dots per module; 16x16 modules = 8 mm for an
 * aliquot ID) at the left, five text lines to its right, a reversed status banner below them,
 * and "REPRINT" under the symbol on reprints. */
#include "common/zpl.h"

#include <ctype.h>
#include <string.h>

/* ^FD data under ^FH: '^', '~', the hex indicator '_' and control characters as _XX. */
static void
field(struct strbuf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    strbuf_adds(out, "^FH^FD");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '^' || *p == '~' || *p == '_' || *p < 0x20 || *p == 0x7f) {
            strbuf_addch(out, '_');
            strbuf_addch(out, hex[*p >> 4]);
            strbuf_addch(out, hex[*p & 0xf]);
        } else {
            strbuf_addch(out, (char)*p);
        }
    }
    strbuf_adds(out, "^FS\n");
}

static void
text(struct strbuf *out, int x, int y, int h, int w, const char *label, const char *value)
{
    strbuf_addf(out, "^FO%d,%d^A0N,%d,%d", x, y, h, w);
    if (label) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_addf(&sb, "%s %s", label, value ? value : "");
        field(out, sb.buf);
        strbuf_release(&sb);
    } else {
        field(out, value);
    }
}

void
zpl_label_append(struct strbuf *out, const struct zpl_label *l)
{
    strbuf_adds(out, "^XA\n^CI28\n");
    strbuf_addf(out, "^PW%d\n^LL%d\n^LH0,0\n", ZPL_WIDTH_DOTS, ZPL_HEIGHT_DOTS);
    /* DataMatrix, ECC 200, module 6 dots. */
    strbuf_adds(out, "^FO10,10^BXN,6,200");
    field(out, l->id);
    text(out, 118, 6, 24, 20, NULL, l->id);
    text(out, 118, 34, 18, 16, "Lot", l->lot);
    text(out, 118, 54, 18, 16, "Donor", l->donor);
    text(out, 118, 74, 18, 16, "Proc", l->processed);
    text(out, 118, 94, 18, 16, "Exp", l->expires);
    if (l->reprint)
        text(out, 10, 122, 18, 16, NULL, "REPRINT");

    /* Status banner: white on black across the bottom. */
    struct strbuf banner = STRBUF_INIT;
    if (l->retained)
        strbuf_adds(&banner, "RETAINED ");
    for (const char *p = l->status ? l->status : ""; *p; p++)
        strbuf_addch(&banner, (char)toupper((unsigned char)*p));
    strbuf_adds(out, "^FO118,116^GB260,32,32^FS\n");
    strbuf_adds(out, "^FO118,120^FR^FB260,1,0,C^A0N,24,22");
    field(out, banner.buf);
    strbuf_release(&banner);
    strbuf_adds(out, "^PQ1\n^XZ\n");
}

void
zpl_kit_label_append(struct strbuf *out, const struct zpl_kit_label *k)
{
    strbuf_adds(out, "^XA\n^CI28\n");
    strbuf_addf(out, "^PW%d\n^LL%d\n^LH0,0\n", ZPL_WIDTH_DOTS, ZPL_HEIGHT_DOTS);
    strbuf_adds(out, "^FO10,10^BXN,6,200");
    field(out, k->kit);
    text(out, 118, 6, 24, 20, NULL, k->kit);
    text(out, 118, 34, 18, 16, "Trial", k->trial);
    /* the handling text, wrapped in a fixed block (^FB: width, 3 lines) */
    strbuf_adds(out, "^FO118,56^A0N,14,12^FB260,3,0,L");
    field(out, k->handling);
    strbuf_adds(out, "^FO118,116^GB260,32,32^FS\n");
    strbuf_adds(out, "^FO118,120^FR^FB260,1,0,C^A0N,24,22");
    field(out, "CLINICAL TRIAL");
    strbuf_adds(out, "^PQ1\n^XZ\n");
}
