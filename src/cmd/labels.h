/* labels.h: printing aliquot labels (ZPL) for "donation process --labels" and "aliquot label":
 * the prints are recorded in the database (fmtbank.label_print) in the caller's transaction, and
 * a file is only put in place when that transaction commits. */
#ifndef FMTBANK_CMD_LABELS_H
#define FMTBANK_CMD_LABELS_H
#include "cmd/cmd.h"
#include "common/strbuf.h"
#include <stddef.h>

/* Appends a PostgreSQL text[] literal of the n strings to sb. */
void pg_text_array(struct strbuf *sb, const char *const *items, size_t n);

/* Records a print (or reprint) of each ID with target as where it went, and appends their ZPL to
 * zpl. Returns 0, or -1 with ctx->err set (nothing recorded once the caller rolls back). */
int labels_record(struct cmd_ctx *ctx, const char *const *ids, size_t n, const char *target,
                  struct strbuf *zpl);

/* Writes data to a new temporary file beside path and returns its name (caller frees), or NULL
 * with ctx->err set. labels_put() renames it over path (after the transaction committed);
 * labels_drop() removes it. */
char *labels_stage(struct cmd_ctx *ctx, const char *path, const struct strbuf *data);
int labels_put(struct cmd_ctx *ctx, char *tmp, const char *path);
void labels_drop(char *tmp);

#endif
