/* test_labels.c: ZPL II label text (well-formed ^XA...^XZ, DataMatrix of the ID, every field,
 * no ZPL injection through a field) and the box map (grid, legend, colour only when asked). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "common/boxmap.h"
#include "common/strbuf.h"
#include "common/zpl.h"

static size_t
count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static const struct zpl_label dose = {
    .id = "L26000001-0011",
    .lot = "L26000001T",
    .donor = "D-0001",
    .processed = "2026-11-27",
    .expires = "2028-11-26",
    .status = "quarantine",
};

static void
test_zpl_fields(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    zpl_label_append(&sb, &dose);
    const char *z = sb.buf;
    assert_true(strncmp(z, "^XA\n", 4) == 0);
    assert_int_equal(strcmp(z + sb.len - 4, "^XZ\n"), 0);
    assert_int_equal(count(z, "^XA"), 1);
    assert_int_equal(count(z, "^XZ"), 1);
    /* DataMatrix (ECC 200) whose data is the ID */
    assert_non_null(strstr(z, "^BXN,6,200^FH^FDL26000001-0011^FS"));
    /* human-readable fields */
    assert_non_null(strstr(z, "^FDL26000001-0011^FS\n^FO"));
    assert_non_null(strstr(z, "^FDLot L26000001T^FS"));
    assert_non_null(strstr(z, "^FDDonor D-0001^FS"));
    assert_non_null(strstr(z, "^FDProc 2026-11-27^FS"));
    assert_non_null(strstr(z, "^FDExp 2028-11-26^FS"));
    assert_non_null(strstr(z, "^FDQUARANTINE^FS"));
    assert_null(strstr(z, "REPRINT"));
    /* label size: 1.28 x 0.5 inch at 300 dpi */
    assert_non_null(strstr(z, "^PW384\n"));
    assert_non_null(strstr(z, "^LL150\n"));
    /* every field opened is closed */
    assert_int_equal(count(z, "^FD"), count(z, "^FS") - 1 /* the ^GB box */);
    strbuf_release(&sb);
}

static void
test_zpl_retained_reprint(void **state)
{
    (void)state;
    struct zpl_label l = dose;
    l.id = "L26000001-0003";
    l.retained = true;
    l.reprint = true;
    struct strbuf sb = STRBUF_INIT;
    zpl_label_append(&sb, &l);
    zpl_label_append(&sb, &dose);
    assert_non_null(strstr(sb.buf, "^FDRETAINED QUARANTINE^FS"));
    assert_non_null(strstr(sb.buf, "^FDREPRINT^FS"));
    assert_int_equal(count(sb.buf, "^XA"), 2);
    assert_int_equal(count(sb.buf, "^XZ"), 2);
    strbuf_release(&sb);
}

static void
test_zpl_escaping(void **state)
{
    (void)state;
    struct zpl_label l = dose;
    l.donor = "D-1^XZ~JA_x";
    struct strbuf sb = STRBUF_INIT;
    zpl_label_append(&sb, &l);
    /* the caret, tilde and hex indicator are hex-escaped under ^FH: no command injected */
    assert_non_null(strstr(sb.buf, "^FDDonor D-1_5EXZ_7EJA_5Fx^FS"));
    assert_int_equal(count(sb.buf, "^XZ"), 1);
    assert_null(strstr(sb.buf, "~JA"));
    strbuf_release(&sb);
}

static void
test_boxmap_plain(void **state)
{
    (void)state;
    char codes[2 * 3 + 1];
    memset(codes, BOXMAP_FREE, 6);
    codes[6] = '\0';
    codes[0] = boxmap_code("quarantine", false);
    codes[1] = boxmap_code("quarantine", true);
    codes[5] = boxmap_code("released", false);
    struct strbuf sb = STRBUF_INIT;
    boxmap_render(&sb, 2, 3, codes, false);
    assert_string_equal(sb.buf, "     1  2  3\n"
                                " A   Q  S  .\n"
                                " B   .  .  R\n"
                                "\n"
                                "Q quarantine  R released  S retained sample  . free\n");
    assert_null(strchr(sb.buf, '\033'));
    strbuf_release(&sb);
}

static void
test_boxmap_colour(void **state)
{
    (void)state;
    const char codes[] = "QX";
    struct strbuf sb = STRBUF_INIT;
    boxmap_render(&sb, 1, 2, codes, true);
    assert_non_null(strstr(sb.buf, "\033[33mQ\033[0m"));
    assert_non_null(strstr(sb.buf, "\033[35mX\033[0m"));
    strbuf_release(&sb);
    assert_int_equal(boxmap_code("recalled", false), 'C');
    assert_int_equal(boxmap_code("expired", true), 'X');
    assert_int_equal(boxmap_code("bogus", false), '?');
    assert_int_equal(boxmap_code(NULL, false), '?');
}

/* Kit labels (product.md §14): trial, kit number (DataMatrix and text), handling; two kits'
 * labels are the same text but for the kit number, whatever arm they hold (the label has no
 * field that could carry one). */
static void
test_zpl_kit_label(void **state)
{
    (void)state;
    const char *handling = "Store at -80 C or colder. For clinical trial use only.";
    struct zpl_kit_label a = {.kit = "K1234567X", .trial = "MOOD-1", .handling = handling};
    struct zpl_kit_label b = {.kit = "K7654321Q", .trial = "MOOD-1", .handling = handling};
    struct strbuf za = STRBUF_INIT, zb = STRBUF_INIT;
    zpl_kit_label_append(&za, &a);
    zpl_kit_label_append(&zb, &b);
    assert_non_null(strstr(za.buf, "^BXN,6,200^FH^FDK1234567X^FS"));
    assert_non_null(strstr(za.buf, "^FDTrial MOOD-1^FS"));
    assert_non_null(strstr(za.buf, handling));
    assert_non_null(strstr(za.buf, "^FDCLINICAL TRIAL^FS"));
    assert_int_equal(count(za.buf, "^XA"), 1);
    assert_int_equal(count(za.buf, "^XZ"), 1);
    assert_int_equal(za.len, zb.len);
    size_t differ = 0;
    for (size_t i = 0; i < za.len; i++)
        differ += za.buf[i] != zb.buf[i];
    /* only the kit number differs: at most its 8 characters, in the two places it is written */
    assert_true(differ > 0 && differ <= 2 * 8);
    char *pa = strstr(za.buf, "K1234567X"), *pb = strstr(zb.buf, "K7654321Q");
    assert_int_equal(pa - za.buf, pb - zb.buf);
    strbuf_release(&za);
    strbuf_release(&zb);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zpl_fields),    cmocka_unit_test(test_zpl_retained_reprint),
        cmocka_unit_test(test_zpl_escaping),  cmocka_unit_test(test_boxmap_plain),
        cmocka_unit_test(test_boxmap_colour), cmocka_unit_test(test_zpl_kit_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
