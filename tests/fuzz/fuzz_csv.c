/* fuzz_csv.c: the CSV reader over arbitrary bytes, from a FILE (csv_read) and from memory
 * (csv_parse_line). Invariant: every record read re-serialises (each field quoted, quotes
 * doubled) to text that reads back as the same fields. Which bytes are refused is not asserted:
 * only that what was accepted once is accepted again, unchanged. */
#include "fuzz.h"

#include "common/csv.h"
#include "common/strbuf.h"

#define MAX_RECORDS 64

static void
serialise(struct strbuf *sb, const struct csv_record *rec)
{
    for (size_t i = 0; i < rec->nfields; i++) {
        if (i)
            strbuf_addch(sb, ',');
        strbuf_addch(sb, '"');
        for (const char *p = rec->fields[i]; *p; p++) {
            if (*p == '"')
                strbuf_addch(sb, '"');
            strbuf_addch(sb, *p);
        }
        strbuf_addch(sb, '"');
    }
    strbuf_adds(sb, "\n");
}

static void
check_round_trip(const struct csv_record *rec)
{
    struct strbuf sb = STRBUF_INIT;
    serialise(&sb, rec);
    FILE *f = fmemopen(sb.buf, sb.len, "r");
    CHECK(f != NULL);
    struct csv_reader r = {f, 0};
    struct csv_record again = {0};
    const char *why = NULL;
    int rc = csv_read(&r, &again, &why);
    if (rc != 1)
        fprintf(stderr, "re-read of %zu fields gave %d (%s)\n", rec->nfields, rc, why ? why : "");
    CHECK(rc == 1);
    CHECK(again.nfields == rec->nfields);
    for (size_t i = 0; i < rec->nfields; i++)
        CHECK(strcmp(again.fields[i], rec->fields[i]) == 0);
    CHECK(csv_read(&r, &again, &why) == 0); /* one record, nothing after it */
    csv_record_free(&again);
    fclose(f);
    strbuf_release(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0) {
        /* csv_read: the file as the importers and the questionnaire loader see it. */
        FILE *f = fmemopen((void *)data, size, "r");
        CHECK(f != NULL);
        struct csv_reader r = {f, 0};
        struct csv_record rec = {0};
        const char *why = NULL;
        int last_line = 0;
        for (int n = 0; n < MAX_RECORDS; n++) {
            int rc = csv_read(&r, &rec, &why);
            CHECK(rc >= -1 && rc <= 1);
            if (rc <= 0) {
                CHECK(rc == 0 || why != NULL);
                break;
            }
            CHECK(rec.nfields >= 1);
            CHECK(rec.line > last_line); /* line numbers only go forward */
            CHECK(r.line >= rec.line);
            last_line = rec.line;
            check_round_trip(&rec);
        }
        csv_record_free(&rec);
        fclose(f);
    }

    /* csv_parse_line: the same bytes as one line held in memory. */
    char *s = fuzz_cstr(data, size);
    struct csv_record rec = {0};
    const char *why = NULL;
    int rc = csv_parse_line(s, &rec, &why);
    CHECK(rc >= -1 && rc <= 1);
    if (rc == 1 && !strchr(s, '\n'))
        check_round_trip(&rec);
    csv_record_free(&rec);
    free(s);
    return 0;
}
