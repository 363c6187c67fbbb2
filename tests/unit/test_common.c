/* test_common.c: CSV records, JSON escaping, the string buffer and the whole-file reader (option
 * parsing: test_options.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/csv.h"
#include "common/file.h"
#include "common/json.h"
#include "common/strbuf.h"

static void
test_csv_quotes_and_empty(void **state)
{
    (void)state;
    struct csv_record rec = {0};
    const char *why = NULL;
    assert_int_equal(csv_parse_line("a,\"b,c\",\"say \"\"hi\"\"\",", &rec, &why), 1);
    assert_int_equal(rec.nfields, 4);
    assert_string_equal(rec.fields[0], "a");
    assert_string_equal(rec.fields[1], "b,c");
    assert_string_equal(rec.fields[2], "say \"hi\"");
    assert_string_equal(rec.fields[3], "");
    csv_record_free(&rec);
}

static void
test_csv_errors(void **state)
{
    (void)state;
    struct csv_record rec = {0};
    const char *why = NULL;
    assert_int_equal(csv_parse_line("a,\"unterminated", &rec, &why), -1);
    assert_string_equal(why, "unterminated quoted field");
    assert_int_equal(csv_parse_line("\"a\"b", &rec, &why), -1);
    assert_string_equal(why, "unexpected character after a closing quote");
    assert_int_equal(csv_parse_line("", &rec, &why), 0);
    csv_record_free(&rec);
}

/* csv_check_bytes: what a line of an import file may hold (issue 15). */
static void
test_csv_check_bytes(void **state)
{
    (void)state;
    char buf[128];
#define CHECK(lit) csv_check_bytes(lit, sizeof(lit) - 1, buf, sizeof(buf))
    assert_null(CHECK("D-0001,1990,F"));
    assert_null(CHECK("a\tb,\\.,\\N,M\xc3\xbcnchen,\xe2\x82\xac,\xf0\x9f\x98\x80"));
    assert_null(CHECK("crlf\r"));
    assert_null(CHECK(""));
    assert_string_equal(CHECK("ab\0c"), "NUL byte at character 3");
    assert_string_equal(CHECK("a\xe9"), "invalid UTF-8 (byte 0xE9) at character 2");
    assert_non_null(CHECK("\xc0\xaf"));         /* overlong "/" */
    assert_non_null(CHECK("\xed\xa0\x80"));     /* surrogate U+D800 */
    assert_non_null(CHECK("\xf4\x90\x80\x80")); /* past U+10FFFF */
    assert_non_null(CHECK("\x80"));             /* lone continuation */
    assert_non_null(CHECK("\xe2\x82"));         /* truncated */
    assert_string_equal(CHECK("\xc3\xbc\x07"),
                        "control character U+0007 at character 2 (only tab is allowed)");
    assert_non_null(CHECK("a\rb"));             /* a carriage return inside the line */
    assert_non_null(CHECK("\x1b[2J"));
    assert_non_null(CHECK("\x7f"));
    assert_string_equal(CHECK("x\xc2\x85"),
                        "control character U+0085 at character 2 (only tab is allowed)");
#undef CHECK
}

static void
test_csv_file_line_numbers(void **state)
{
    (void)state;
    char text[] = "item,answer\r\n\nbmi,22\n\"multi\nline\",x\nlast,1";
    FILE *f = fmemopen(text, strlen(text), "r");
    struct csv_reader r = {f, 0};
    struct csv_record rec = {0};
    const char *why;
    int lines[4], n = 0;
    while (csv_read(&r, &rec, &why) == 1)
        lines[n++] = rec.line;
    assert_int_equal(n, 4);
    assert_int_equal(lines[0], 1);
    assert_int_equal(lines[1], 3);
    assert_int_equal(lines[2], 4);
    assert_int_equal(lines[3], 6);
    csv_record_free(&rec);
    fclose(f);
}

/* Every byte is data or refused: the record is refused naming the field, and the reader goes on
 * with the next record. */
static void
test_csv_bytes(void **state)
{
    (void)state;
    char text[] = "\xEF\xBB\xBFitem,answer\r\n"
                  "a,x\0y\r\n"
                  "b,caf\xE9\r\n"
                  "c,\x1B[31m\n"
                  "\"d\"x,1\n"
                  "e,\"two\r\nlines\"\r\n"
                  "f,tab\there\n";
    FILE *f = fmemopen(text, sizeof(text) - 1, "r");
    struct csv_reader r = {f, 0};
    struct csv_record rec = {0};
    const char *why = NULL;
    assert_int_equal(csv_read(&r, &rec, &why), 1);
    assert_string_equal(rec.fields[0], "item"); /* the byte order mark is dropped */
    assert_string_equal(rec.fields[1], "answer");
    assert_int_equal(csv_read(&r, &rec, &why), -1);
    assert_int_equal(rec.line, 2);
    assert_string_equal(why, "field 2 contains a NUL byte");
    assert_int_equal(csv_read(&r, &rec, &why), -1);
    assert_int_equal(rec.line, 3);
    assert_string_equal(why, "field 2 contains invalid UTF-8");
    assert_int_equal(csv_read(&r, &rec, &why), -1);
    assert_int_equal(rec.line, 4);
    assert_string_equal(why, "field 2 contains a control character (0x1B)");
    assert_int_equal(csv_read(&r, &rec, &why), -1);
    assert_int_equal(rec.line, 5);
    assert_string_equal(why, "unexpected character after a closing quote");
    assert_int_equal(csv_read(&r, &rec, &why), 1); /* not the rest of line 5 */
    assert_int_equal(rec.line, 6);
    assert_string_equal(rec.fields[1], "two\nlines");
    assert_int_equal(csv_read(&r, &rec, &why), 1);
    assert_string_equal(rec.fields[1], "tab\there");
    assert_int_equal(csv_read(&r, &rec, &why), 0);
    csv_record_free(&rec);
    fclose(f);

    /* A partial byte order mark is data. */
    assert_int_equal(csv_parse_line("\xEF\xBBx", &rec, &why), -1);
    assert_string_equal(why, "field 1 contains invalid UTF-8");
    csv_record_free(&rec);
}

/* The one path of every import: BOM dropped, ';' taken from the header, CRLF, blank lines
 * skipped, line numbers of the file, a bad line reported and the next one read. */
static void
test_csv_lines(void **state)
{
    (void)state;
    static const char semi[] = "\xEF\xBB\xBFitem;answer\r\n\r\nbmi;\"2;3\"\r\nx;\"open\r\ny,z;1\r\n";
    struct csv_lines l;
    struct csv_record rec = {0};
    const char *why = NULL;
    csv_lines_init(&l, semi, sizeof(semi) - 1);
    assert_int_equal(csv_lines_next(&l, &rec, &why), 1);
    assert_int_equal(rec.line, 1);
    assert_int_equal(rec.nfields, 2);
    assert_string_equal(rec.fields[0], "item");
    assert_int_equal(l.delim, ';');
    assert_int_equal(csv_lines_next(&l, &rec, &why), 1);
    assert_int_equal(rec.line, 3);
    assert_string_equal(rec.fields[1], "2;3");
    assert_int_equal(csv_lines_next(&l, &rec, &why), -1);
    assert_int_equal(rec.line, 4);
    assert_string_equal(why, "unterminated quoted field");
    assert_int_equal(csv_lines_next(&l, &rec, &why), 1);
    assert_int_equal(rec.line, 5);
    assert_string_equal(rec.fields[0], "y,z"); /* ',' is data in a ';' file */
    assert_int_equal(csv_lines_next(&l, &rec, &why), 0);
    csv_lines_free(&l);

    /* a ',' header stays ','; a control character makes a bad line */
    static const char comma[] = "a,b\nx;y,\x07\n";
    csv_lines_init(&l, comma, sizeof(comma) - 1);
    assert_int_equal(csv_lines_next(&l, &rec, &why), 1);
    assert_int_equal(l.delim, ',');
    assert_int_equal(csv_lines_next(&l, &rec, &why), -1);
    assert_int_equal(rec.line, 2);
    assert_non_null(strstr(why, "control character U+0007"));
    assert_int_equal(csv_lines_next(&l, &rec, &why), 0);
    csv_lines_free(&l);
    csv_record_free(&rec);
}

static void
test_json_escape(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    json_add_string(&sb, "a\"b\\c\n\t\x01é");
    assert_string_equal(strbuf_str(&sb), "\"a\\\"b\\\\c\\n\\t\\u0001é\"");
    strbuf_reset(&sb);
    json_add_string(&sb, NULL);
    assert_string_equal(strbuf_str(&sb), "null");
    strbuf_release(&sb);
}

static void
test_strbuf_growth(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    for (int i = 0; i < 1000; i++)
        strbuf_addf(&sb, "%d,", i);
    assert_int_equal(sb.len, strlen(sb.buf));
    assert_true(strncmp(sb.buf, "0,1,2,", 6) == 0);
    char *s = strbuf_detach(&sb);
    assert_null(sb.buf);
    free(s);
}

/* A scratch directory with a file "data" of len bytes (NULs included). */
static char *
scratch(const char *bytes, size_t len)
{
    char *dir = strdup("/tmp/fmtbank-test-file-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/data", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return dir;
}

static void
test_file_read_all(void **state)
{
    (void)state;
    static const char bytes[] = "one\0two\n";
    char *dir = scratch(bytes, sizeof(bytes) - 1);
    char path[256], link[256], missing[256];
    snprintf(path, sizeof(path), "%s/data", dir);
    snprintf(link, sizeof(link), "%s/link", dir);
    snprintf(missing, sizeof(missing), "%s/missing", dir);
    assert_int_equal(symlink(path, link), 0);
    struct fb_error err = {0};
    char *buf = NULL;
    size_t len = 0;

    /* The whole file, NULs included, with a NUL after it. */
    assert_int_equal(file_read_all(path, 0, 0, &buf, &len, &err), 0);
    assert_int_equal(len, sizeof(bytes) - 1);
    assert_memory_equal(buf, bytes, sizeof(bytes));
    free(buf);
    /* A bound the file just fits. */
    assert_int_equal(file_read_all(path, len, 0, &buf, NULL, &err), 0);
    free(buf);
    /* A symbolic link is followed unless refused. */
    assert_int_equal(file_read_all(link, 0, 0, &buf, &len, &err), 0);
    assert_int_equal(len, sizeof(bytes) - 1);
    free(buf);
    assert_int_equal(file_read_all(link, 0, FILE_READ_NOFOLLOW, &buf, &len, &err), -1);
    assert_null(buf);
    assert_int_equal(err.kind, FB_ERR_INPUT);
    assert_true(strncmp(err.message, "could not open \"", 16) == 0);
    fb_error_clear(&err);
    /* Too large. */
    assert_int_equal(file_read_all(path, 7, 0, &buf, &len, &err), -1);
    assert_null(buf);
    assert_int_equal(err.kind, FB_ERR_INPUT);
    assert_string_equal(err.message, "file is too large (8 bytes, at most 7)");
    fb_error_clear(&err);
    /* Missing: not found, naming the file. */
    assert_int_equal(file_read_all(missing, 0, 0, &buf, &len, &err), -1);
    assert_int_equal(err.kind, FB_ERR_NOTFOUND);
    char want[512];
    snprintf(want, sizeof(want), "could not open \"%s\": No such file or directory", missing);
    assert_string_equal(err.message, want);
    fb_error_clear(&err);
    /* A directory is not a file. */
    assert_int_equal(file_read_all(dir, 0, 0, &buf, &len, &err), -1);
    assert_null(buf);
    assert_int_equal(err.kind, FB_ERR_INPUT);
    snprintf(want, sizeof(want), "could not read \"%s\": Is a directory", dir);
    assert_string_equal(err.message, want);
    fb_error_clear(&err);
    /* /dev/null reads as empty (the daemon's --config /dev/null). */
    assert_int_equal(file_read_all("/dev/null", 16, 0, &buf, &len, &err), 0);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    free(buf);
    /* A file whose size says 0 (as in /proc) is read to its end. */
    assert_int_equal(file_read_all("/proc/self/status", 0, 0, &buf, &len, &err), 0);
    assert_true(len > 0 && strncmp(buf, "Name:", 5) == 0 && strlen(buf) == len);
    free(buf);
    /* ... and its bound holds while reading, whatever the size said. */
    assert_int_equal(file_read_all("/proc/self/status", 10, 0, &buf, &len, &err), -1);
    assert_null(buf);
    assert_string_equal(err.message, "file is too large (more than 10 bytes)");
    fb_error_clear(&err);

    unlink(link);
    unlink(path);
    rmdir(dir);
    free(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quotes_and_empty), cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_file_line_numbers), cmocka_unit_test(test_csv_bytes),
        cmocka_unit_test(test_csv_check_bytes), cmocka_unit_test(test_csv_lines),
        cmocka_unit_test(test_json_escape), cmocka_unit_test(test_file_read_all), cmocka_unit_test(test_strbuf_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
