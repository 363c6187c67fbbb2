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

int
labels_record(struct cmd_ctx *ctx, const char *const *ids, size_t n, const char *target,
              struct strbuf *zpl)
{
    struct strbuf arr = STRBUF_INIT;
    pg_text_array(&arr, ids, n);
    const char *p[] = {arr.buf, target};
    PGresult *r = db_exec(ctx->conn,
                          "SELECT aliquot_id, lot, donor, processed, expires, status, retained,"
                          " kind FROM fmtbank.label_print($1::text[], $2)",
                          2, p, &ctx->err);
    strbuf_release(&arr);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct zpl_label l = {
            .id = PQgetvalue(r, i, 0),
            .lot = PQgetvalue(r, i, 1),
            .donor = PQgetvalue(r, i, 2),
            .processed = PQgetvalue(r, i, 3),
            .expires = PQgetvalue(r, i, 4),
            .status = PQgetvalue(r, i, 5),
            .retained = PQgetvalue(r, i, 6)[0] == 't',
            .reprint = strcmp(PQgetvalue(r, i, 7), "reprint") == 0,
        };
        zpl_label_append(zpl, &l);
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
