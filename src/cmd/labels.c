/* labels.c: label prints: the database records each print, the ZPL text comes from common/zpl. */
#include "cmd/labels.h"
#include "common/outfile.h"
#include "db/db.h"
#include "common/util.h"
#include "common/zpl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
pg_text_array(struct strbuf *sb, const char *const *items, size_t n)
{
    strbuf_addch(sb, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_addch(sb, ',');
        strbuf_addch(sb, '"');
        for (const char *p = items[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                strbuf_addch(sb, '\\');
            strbuf_addch(sb, *p);
        }
        strbuf_addch(sb, '"');
    }
    strbuf_addch(sb, '}');
}

/* Runs one label function over the IDs (an array parameter), or NULL with ctx->err set. */
static PGresult *
labels_query(struct cmd_ctx *ctx, const char *sql, const char *const *ids, size_t n,
             const char *arg2, const char *dpi)
{
    struct strbuf arr = STRBUF_INIT;
    pg_text_array(&arr, ids, n);
    const char *p[] = {arr.buf, dpi, arg2};
    PGresult *r = db_exec(ctx->conn, sql, arg2 ? 3 : 2, p, &ctx->err);
    strbuf_release(&arr);
    return r;
}

int
labels_record(struct cmd_ctx *ctx, const char *const *ids, size_t n, const char *target,
              const char *dpi, struct strbuf *zpl)
{
    PGresult *r = labels_query(ctx,
                               "SELECT aliquot_id, lot, donor, processed, expires, dose, doses,"
                               " retained, kind, storage, dpi"
                               " FROM fmtbank.label_print($1::text[], $3, $2)",
                               ids, n, target, dpi);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct zpl_label l = {
            .id = PQgetvalue(r, i, 0),
            .lot = PQgetvalue(r, i, 1),
            .donor = PQgetvalue(r, i, 2),
            .processed = PQgetvalue(r, i, 3),
            .expires = PQgetvalue(r, i, 4),
            .dose = atoi(PQgetvalue(r, i, 5)),
            .doses = atoi(PQgetvalue(r, i, 6)),
            .retained = PQgetvalue(r, i, 7)[0] == 't',
            .reprint = strcmp(PQgetvalue(r, i, 8), "reprint") == 0,
            .storage = PQgetvalue(r, i, 9),
            .dpi = atoi(PQgetvalue(r, i, 10)),
        };
        zpl_label_append(zpl, &l);
    }
    PQclear(r);
    return 0;
}

int
labels_boxes(struct cmd_ctx *ctx, const char *const *ids, size_t n, const char *dpi,
             struct strbuf *zpl)
{
    PGresult *r = labels_query(ctx,
                               "SELECT box_id, freezer, freezer_id, rack, nrows, ncols, storage, dpi"
                               " FROM fmtbank.box_label($1::text[], $2)",
                               ids, n, NULL, dpi);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct zpl_box_label b = {
            .id = PQgetvalue(r, i, 0),
            .freezer = PQgetvalue(r, i, 1),
            .freezer_id = PQgetvalue(r, i, 2),
            .rack = PQgetvalue(r, i, 3),
            .rows = atoi(PQgetvalue(r, i, 4)),
            .cols = atoi(PQgetvalue(r, i, 5)),
            .storage = PQgetvalue(r, i, 6),
            .dpi = atoi(PQgetvalue(r, i, 7)),
        };
        zpl_box_label_append(zpl, &b);
    }
    PQclear(r);
    return 0;
}

char *
labels_stage(struct cmd_ctx *ctx, const char *path, const struct strbuf *data)
{
    int fd;
    char *tmp = outfile_temp(path, &fd, &ctx->err);
    if (!tmp)
        return NULL;
    int rc = outfile_write_all(fd, data->buf ? data->buf : "", data->len);
    if (close(fd) != 0)
        rc = -1;
    if (rc != 0) {
        fb_error_set(&ctx->err, FB_ERR_INTERNAL, "could not write \"%s\": %s", path,
                     strerror(errno));
        labels_drop(tmp);
        return NULL;
    }
    return tmp;
}

int
labels_put(struct cmd_ctx *ctx, char *tmp, const char *path)
{
    int rc = outfile_commit(tmp, path, &ctx->err);
    if (rc != 0)
        fb_error_hint(&ctx->err,
                      "The prints are recorded; reprint with \"fmtbank aliquot label\".");
    free(tmp);
    return rc;
}

void
labels_drop(char *tmp)
{
    if (tmp)
        unlink(tmp);
    free(tmp);
}
