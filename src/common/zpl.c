/* zpl.c: ZPL II label text. Layout in 300-dpi dots (384 x 150 = 32.5 x 12.7 mm, the common
 * cryovial label), scaled for 203 dpi: a DataMatrix (ECC 200, 6 dots per module at 300 dpi, 4 at
 * 203; 16x16 modules = 8 mm for an aliquot ID) at the left with the storage temperature and
 * "REPRINT" under it, the ID and five text lines to its right. */
#include "common/zpl.h"
#include "common/idtext.h"

#include <stdio.h>
#include <string.h>

struct zpl {
    struct strbuf *out;
    int dpi;
};

int
zpl_scale(int v, int dpi)
{
    if (dpi != ZPL_DPI_203)
        return v;
    return (v * ZPL_DPI_203 + 150) / 300;
}

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

/* A text field at (x, y) in font 0 of height h and width w, all in 300-dpi dots. */
static void
text(const struct zpl *z, int x, int y, int h, int w, const char *label, const char *value)
{
    strbuf_addf(z->out, "^FO%d,%d^A0N,%d,%d", zpl_scale(x, z->dpi), zpl_scale(y, z->dpi),
                zpl_scale(h, z->dpi), zpl_scale(w, z->dpi));
    struct strbuf sb = STRBUF_INIT;
    if (label)
        strbuf_addf(&sb, "%s ", label);
    strbuf_adds(&sb, value ? value : "");
    field(z->out, sb.buf);
    strbuf_release(&sb);
}

/* ^XA, the character set (UTF-8), the label size and the DataMatrix of id. */
static void
begin(const struct zpl *z, const char *id)
{
    strbuf_adds(z->out, "^XA\n^CI28\n");
    strbuf_addf(z->out, "^PW%d\n^LL%d\n^LH0,0\n", zpl_scale(ZPL_WIDTH_DOTS, z->dpi),
                zpl_scale(ZPL_HEIGHT_DOTS, z->dpi));
    strbuf_addf(z->out, "^FO%d,%d^BXN,%d,200", zpl_scale(10, z->dpi), zpl_scale(10, z->dpi),
                zpl_scale(6, z->dpi));
    field(z->out, id);
}

static void
end(const struct zpl *z)
{
    strbuf_adds(z->out, "^PQ1\n^XZ\n");
}

void
zpl_label_append(struct strbuf *out, const struct zpl_label *l)
{
    const struct zpl z = {out, l->dpi == ZPL_DPI_203 ? ZPL_DPI_203 : ZPL_DPI_300};
    begin(&z, l->id);
    struct strbuf id = STRBUF_INIT, lot = STRBUF_INIT, dose = STRBUF_INIT;
    idtext_display(&id, l->id);
    idtext_display(&lot, l->lot);
    if (l->retained)
        strbuf_adds(&dose, "Retained sample");
    else
        strbuf_addf(&dose, "Dose %d of %d", l->dose, l->doses);
    text(&z, 118, 6, 24, 20, NULL, id.buf);
    text(&z, 118, 34, 18, 16, "Lot", lot.buf);
    text(&z, 118, 54, 18, 16, "Donor", l->donor);
    text(&z, 118, 74, 18, 16, NULL, dose.buf);
    text(&z, 118, 94, 18, 16, "Proc", l->processed);
    text(&z, 118, 114, 18, 16, "Exp", l->expires);
    text(&z, 10, 110, 18, 16, NULL, l->storage);
    if (l->reprint)
        text(&z, 10, 130, 16, 14, NULL, "REPRINT");
    strbuf_release(&id);
    strbuf_release(&lot);
    strbuf_release(&dose);
    end(&z);
}

void
zpl_box_label_append(struct strbuf *out, const struct zpl_box_label *b)
{
    const struct zpl z = {out, b->dpi == ZPL_DPI_203 ? ZPL_DPI_203 : ZPL_DPI_300};
    begin(&z, b->id);
    struct strbuf id = STRBUF_INIT, fr = STRBUF_INIT, size = STRBUF_INIT;
    idtext_display(&id, b->id);
    strbuf_adds(&fr, b->freezer ? b->freezer : "");
    if (b->freezer_id && *b->freezer_id) {
        strbuf_adds(&fr, " (");
        idtext_display(&fr, b->freezer_id);
        strbuf_addch(&fr, ')');
    }
    strbuf_addf(&size, "%d x %d", b->rows, b->cols);
    text(&z, 118, 6, 28, 24, NULL, id.buf);
    text(&z, 118, 40, 18, 16, NULL, fr.buf);
    text(&z, 118, 62, 18, 16, "Rack", b->rack && *b->rack ? b->rack : "-");
    text(&z, 118, 84, 18, 16, "Size", size.buf);
    text(&z, 10, 110, 18, 16, NULL, b->storage);
    strbuf_release(&id);
    strbuf_release(&fr);
    strbuf_release(&size);
    end(&z);
}

void
zpl_kit_label_append(struct strbuf *out, const struct zpl_kit_label *k)
{
    const struct zpl z = {out, ZPL_DPI_300}; /* kit labels: 300 dpi */
    begin(&z, k->kit);
    text(&z, 118, 6, 24, 20, NULL, k->kit);
    text(&z, 118, 34, 18, 16, "Trial", k->trial);
    /* the handling text, wrapped in a fixed block (^FB: width, 3 lines) */
    strbuf_adds(out, "^FO118,56^A0N,14,12^FB260,3,0,L");
    field(out, k->handling);
    strbuf_adds(out, "^FO118,116^GB260,32,32^FS\n");
    strbuf_adds(out, "^FO118,120^FR^FB260,1,0,C^A0N,24,22");
    field(out, "CLINICAL TRIAL");
    end(&z);
}
