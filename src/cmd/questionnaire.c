/* questionnaire.c: "fmtbank questionnaire record|list|show". A questionnaire file (item,answer
 * lines) is read here with the CSV reader and sent as one JSON document; the database validates
 * every line as a set and stores the questionnaire whole or not at all
 * (schema/011_questionnaire.sql), so every bad line is reported with its line number. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "common/csv.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void
trim_in_place(char *s)
{
    size_t n = strlen(s), i = 0;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    memmove(s, s + i, n - i + 1);
}

static void
add_line(struct strbuf *json, bool *first, int line, const char *item, const char *answer,
         const char *error)
{
    strbuf_adds(json, *first ? "[" : ",");
    *first = false;
    strbuf_addf(json, "{\"line\":%d,\"item\":", line);
    json_add_string(json, item);
    strbuf_adds(json, error ? ",\"error\":" : ",\"answer\":");
    json_add_string(json, error ? error : answer);
    strbuf_addch(json, '}');
}

/* Reads the file into the JSON array the database validates, by the one CSV path of every import
 * (common/csv.h: BOM, CRLF, ';' from the header). A missing or wrong header is an error of the
 * whole file (nothing is sent); a line the reader cannot split is sent with its error so the
 * database reports it with the others. */
static int
read_answers(struct cmd_ctx *ctx, FILE *in, const char *label, struct strbuf *json)
{
    struct strbuf data = STRBUF_INIT;
    if (csv_read_all(in, &data) < 0) {
        strbuf_release(&data);
        fb_error_set(&ctx->err, FB_ERR_INPUT, "could not read \"%s\"", label);
        return -1;
    }
    struct csv_lines lines;
    csv_lines_init(&lines, strbuf_str(&data), data.len);
    struct csv_record rec = {0};
    const char *why = NULL;
    bool first = true;
    int rc = csv_lines_next(&lines, &rec, &why);
    if (rc > 0) {
        for (size_t i = 0; i < rec.nfields; i++)
            trim_in_place(rec.fields[i]);
        /* a third column "question" (what "questionnaire template" prints) is for people */
        if (rec.nfields < 2 || rec.nfields > 3 || strcasecmp(rec.fields[0], "item") != 0 ||
            strcasecmp(rec.fields[1], "answer") != 0 ||
            (rec.nfields == 3 && strcasecmp(rec.fields[2], "question") != 0)) {
            why = "expected the header \"item,answer\" (or \"item,answer,question\")";
            rc = -1;
        }
    }
    size_t ncols = rc > 0 ? rec.nfields : 2;
    if (rc <= 0) {
        if (rc == 0)
            fb_error_set(&ctx->err, FB_ERR_INPUT, "could not read \"%s\": empty file", label);
        else
            fb_error_set(&ctx->err, FB_ERR_INPUT, "could not read \"%s\": line %d: %s", label,
                         rec.line, why);
        fb_error_hint(&ctx->err, "The first line is the header item,answer "
                                 "(\"fmtbank questionnaire template\" prints the whole file).");
        csv_record_free(&rec);
        csv_lines_free(&lines);
        strbuf_release(&data);
        return -1;
    }
    strbuf_reset(json);
    while ((rc = csv_lines_next(&lines, &rec, &why)) != 0) {
        if (rc < 0) {
            add_line(json, &first, rec.line, "", NULL, why);
            continue;
        }
        if (rec.nfields != ncols) {
            char *msg = xasprintf("expected %zu fields (item,answer%s), found %zu", ncols,
                                  ncols == 3 ? ",question" : "", rec.nfields);
            add_line(json, &first, rec.line, rec.fields[0], NULL, msg);
            free(msg);
            continue;
        }
        add_line(json, &first, rec.line, rec.fields[0], rec.fields[1], NULL);
    }
    strbuf_adds(json, first ? "[]" : "]");
    csv_record_free(&rec);
    csv_lines_free(&lines);
    strbuf_release(&data);
    return 0;
}

/* The items to answer of questionnaire $1 in the catalog in force, in order: code, and the
 * question with what it takes. */
#define ITEMS_SQL                                                                                  \
    "SELECT q.code, q.text || ' [' ||"                                                             \
    " CASE q.type WHEN 'boolean' THEN 'yes or no'"                                                 \
    "   WHEN 'date' THEN 'the last time, YYYY-MM-DD, or never'"                                    \
    "   ELSE pg_catalog.format('%s from %s to %s', CASE WHEN q.integral THEN 'a whole number'"     \
    "        ELSE 'a number' END, q.answer_min, q.answer_max) END || ']'"                         \
    " FROM fmtbank.question_item_at(pg_catalog.clock_timestamp()) q"                               \
    " WHERE q.questionnaire = $1 AND q.derived IS NULL ORDER BY q.sort_order"

/* --interactive: asks each item of the catalog in force in turn on stderr, reads the answer from
 * standard input, and has the database check it at once (fmtbank.questionnaire_answer_check);
 * a refused answer is asked again. The answers become the same JSON array as a file's. End of
 * input before the last item stores nothing. */
static int
ask_answers(struct cmd_ctx *ctx, const char *kind, const char *date, struct strbuf *json)
{
    const char *kp[] = {kind};
    PGresult *items = db_exec(ctx->conn, ITEMS_SQL, 1, kp, &ctx->err);
    if (!items)
        return -1;
    bool first = true;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0, n = PQntuples(items);
    strbuf_reset(json);
    for (int i = 0; i < n && rc == 0; i++) {
        const char *item = PQgetvalue(items, i, 0);
        for (;;) {
            fprintf(stderr, "%d/%d %s\n%s> ", i + 1, n, PQgetvalue(items, i, 1), item);
            fflush(stderr);
            ssize_t len = getline(&line, &cap, stdin);
            if (len < 0) {
                fputc('\n', stderr);
                fb_error_set(&ctx->err, FB_ERR_INPUT,
                             "the answers ended before item \"%s\" (%d of %d)", item, i + 1, n);
                fb_error_detail(&ctx->err, "Nothing was stored.");
                rc = -1;
                break;
            }
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = '\0';
            if (!isatty(STDIN_FILENO))
                fprintf(stderr, "%s\n", line); /* a transcript reads as a dialogue */
            trim_in_place(line);
            const char *cp[] = {kind, date, item, line};
            PGresult *c = db_exec(ctx->conn,
                                  "SELECT fmtbank.questionnaire_answer_check($1, $2, $3, $4)", 4,
                                  cp, &ctx->err);
            if (!c) {
                rc = -1;
                break;
            }
            bool good = PQgetisnull(c, 0, 0);
            if (!good)
                fprintf(stderr, "  %s; again, please\n", PQgetvalue(c, 0, 0));
            PQclear(c);
            if (good) {
                add_line(json, &first, i + 1, item, line, NULL);
                break;
            }
        }
    }
    strbuf_adds(json, first ? "[]" : "]");
    free(line);
    PQclear(items);
    return rc;
}

static int
cmd_questionnaire_record(struct cmd_ctx *ctx)
{
    const char *date = cmd_opt(ctx, "date"), *file = cmd_opt(ctx, "file");
    bool is_short = cmd_flag(ctx, "short"), is_followup = cmd_flag(ctx, "followup");
    int rc = 0;
    if (is_short && is_followup) {
        fb_error_set(&ctx->err, FB_ERR_USAGE, "--short and --followup exclude each other");
        fb_error_hint(&ctx->err, "A questionnaire is full, donation-day (--short) or follow-up (--followup).");
        return cmd_fail(ctx);
    }
    bool interactive = cmd_flag(ctx, "interactive");
    if (interactive == (file != NULL))
        return cmd_usage_error(ctx, interactive ? "--file and --interactive exclude each other"
                                                : "missing --file (or --interactive)");
    const char *kind = is_short ? "short" : is_followup ? "followup" : "full";
    struct strbuf json = STRBUF_INIT;
    PGresult *r = NULL;
    if (interactive) {
        file = "(answers)";
        if (isatty(STDIN_FILENO))
            fprintf(stderr, "Answer each item and press Enter (end of input stops: nothing is "
                            "stored).\n");
        if (ask_answers(ctx, kind, date, &json) < 0) {
            rc = cmd_fail(ctx);
            goto done;
        }
    } else {
        FILE *in = cmd_open_input(ctx, file);
        if (!in) {
            rc = cmd_fail(ctx);
            goto done;
        }
        int read_rc = read_answers(ctx, in, file, &json);
        if (in != stdin)
            fclose(in);
        if (read_rc < 0) {
            rc = cmd_fail(ctx);
            goto done;
        }
    }
    const char *p[] = {ctx->args[0], date, kind, cmd_opt(ctx, "time"), strbuf_str(&json)};
    r = db_exec(ctx->conn,
                "SELECT line, message, questionnaire_id"
                " FROM fmtbank.questionnaire_record($1, $2, $3, $4, $5::jsonb)",
                5, p, &ctx->err);
    if (!r) {
        rc = cmd_fail(ctx);
        goto done;
    }
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 2)) {
        out_id(ctx, PQgetvalue(r, 0, 2));
        goto done;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        if (PQgetisnull(r, i, 0))
            fprintf(stderr, "%s: %s\n", file, PQgetvalue(r, i, 1));
        else
            fprintf(stderr, "%s:%s: %s\n", file, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    }
    fb_error_set(&ctx->err, FB_ERR_INPUT,
                 "could not record the questionnaire from \"%s\": %d bad line%s", file,
                 PQntuples(r), PQntuples(r) == 1 ? "" : "s");
    fb_error_detail(&ctx->err, "Nothing was stored; correct the file and record it again.");
    rc = FB_ERR_INPUT;
done:
    PQclear(r);
    strbuf_release(&json);
    return rc;
}

/* One CSV field, quoted when it holds the delimiter, a quote or a line end. */
static void
put_csv_field(const char *s)
{
    if (!strpbrk(s, ",\";\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* "questionnaire template": the file to fill in, from the catalog in force. */
static int
cmd_questionnaire_template(struct cmd_ctx *ctx)
{
    bool is_short = cmd_flag(ctx, "short"), is_followup = cmd_flag(ctx, "followup");
    if ((int)is_short + (int)is_followup + (int)cmd_flag(ctx, "full") > 1) {
        fb_error_set(&ctx->err, FB_ERR_USAGE, "--full, --short and --followup exclude each other");
        return cmd_fail(ctx);
    }
    const char *p[] = {is_short ? "short" : is_followup ? "followup" : "full"};
    PGresult *r = db_exec(ctx->conn, ITEMS_SQL, 1, p, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    printf("item,answer,question\n");
    for (int i = 0; i < PQntuples(r); i++) {
        put_csv_field(PQgetvalue(r, i, 0));
        fputs(",,", stdout);
        put_csv_field(PQgetvalue(r, i, 1));
        putchar('\n');
    }
    PQclear(r);
    return 0;
}

static int
cmd_questionnaire_list(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    if (db_run(ctx->conn, "SELECT fmtbank.donor_get($1)", 1, p, &ctx->err) < 0) {
        return cmd_fail(ctx);
    }
    int rc = out_query(ctx, OUT_LIST,
                       "SELECT id, fmtbank.questionnaire_kind_name(kind) AS kind,"
                       " date, time, recorded_at, recorded_by, superseded, supersedes, reason,"
                       " pg_catalog.to_jsonb(yes_to) AS yes_to, dates, numbers"
                       " FROM fmtbank.questionnaire_list WHERE donor = (fmtbank.donor_get($1)).code"
                       " ORDER BY date, kind, recorded_at",
                       1, p, NULL);
    return rc;
}

static int
cmd_questionnaire_show(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    if (db_run(ctx->conn, "SELECT fmtbank.questionnaire_get($1)", 1, p, &ctx->err) < 0) {
        return cmd_fail(ctx);
    }
    int rc = out_query(ctx, OUT_LIST,
                       "SELECT a.item, a.answer, i.type, i.text FROM fmtbank.questionnaire_answer a"
                       " JOIN fmtbank.question_item i ON i.code = a.item"
                       " WHERE a.questionnaire_id = fmtbank.questionnaire_get($1)"
                       " ORDER BY i.sort_order",
                       1, p, NULL);
    return rc;
}

const struct cmd_def cmd_defs_questionnaire[] = {
    {"questionnaire record", cmd_questionnaire_record, CMD_DB, {"CODE", 1, 1, "donor CODE"},
     (const struct opt_spec[]){
         {"date", 0, OPT_STRING, "DATE", .help = "the day it was answered (default: today)"},
         {"time", 0, OPT_STRING, "HH:MM", .help = "the time it was answered (default 00:00)"},
         {"short", 0, OPT_FLAG, NULL, .help = "the donation-day questionnaire, not the full one"},
         {"followup", 0, OPT_FLAG, NULL,
          .help = "the follow-up questionnaire after a donation (post-donation health check)"},
         {"file", 0, OPT_STRING, "ANSWERS.csv", .help = "the answers (\"-\": standard input)"},
         {"interactive", 0, OPT_FLAG, NULL,
          .help = "ask each item in turn at the terminal, each answer checked as it is typed"},
         {0}},
     "record a donor's full, donation-day (--short) or follow-up (--followup) questionnaire",
     "ANSWERS.csv has the header item,answer (item;answer: ; is then the delimiter; a byte\n"
     "order mark and CRLF are fine; a third column question is ignored) and one line per item\n"
     "of \"fmtbank catalog questions\" (\"fmtbank questionnaire template\" prints the file to\n"
     "fill in): yes or no for boolean items; the date of the last occurrence (YYYY-MM-DD) or\n"
     "never (or empty) for date items; a number for number items (bmi, phq9 0-27, gad7 0-21).\n"
     "Every item must be answered exactly once. Every bad line is reported with its line\n"
     "number and nothing is stored unless the whole file is good. Recording the same donor,\n"
     "kind and date again supersedes the earlier questionnaire and needs --reason. Prints the\n"
     "questionnaire's ID. An answer recorded after a donation that reveals an event near it\n"
     "opens a case holding the lots it concerns (\"fmtbank case list\").\n"
     "With --interactive instead of --file, each item is asked in turn (question and what it\n"
     "takes on stderr, the answer read from standard input) and checked by the database as it\n"
     "is typed: a refused answer is asked again; end of input before the last item stores\n"
     "nothing.\n"},
    {"questionnaire template", cmd_questionnaire_template, CMD_DB, {0},
     (const struct opt_spec[]){
         {"full", 0, OPT_FLAG, NULL, .help = "the full questionnaire (the default)"},
         {"short", 0, OPT_FLAG, NULL, .help = "the donation-day questionnaire"},
         {"followup", 0, OPT_FLAG, NULL, .help = "the follow-up questionnaire after a donation"},
         {0}},
     "print the questionnaire file to fill in, from the catalog in force",
     "Prints item,answer,question and one line per item to answer, in the catalog's order, the\n"
     "answer empty and the question with what it takes ([yes or no], [the last time,\n"
     "YYYY-MM-DD, or never], [a number from 10 to 80]). Fill in the answer column (a\n"
     "spreadsheet may save it with ; and a byte order mark) and give the file to \"fmtbank\n"
     "questionnaire record --file\"; the question column is ignored there.\n"},
    {"questionnaire list", cmd_questionnaire_list, CMD_DB, {"CODE", 1, 1, "donor CODE"}, NULL,
     "a donor's questionnaires: yes answers, dates, numbers, superseded versions", NULL},
    {"questionnaire show", cmd_questionnaire_show, CMD_DB, {"ID", 1, 1, "questionnaire ID"}, NULL,
     "the answers of one questionnaire", NULL},
    {0},
};
