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

/* The --dpi option of every command that prints labels (one declaration). */
#define LABELS_DPI_OPT_WITH(WITH)                                                                  \
    {"dpi", 0, OPT_STRING, "DPI",                                                                  \
     .help = "the label printer's resolution (default: the site setting label_dpi, shipped 300)", \
     .choices = "203|300", .with = (WITH)}
#define LABELS_DPI_OPT LABELS_DPI_OPT_WITH(NULL)

/* What a label shows, for the --help of the commands that print them. */
#define LABELS_HELP                                                                                \
    "A tube label (1.28 x 0.5 inch, laid out for --dpi 203 or 300) carries a DataMatrix of the\n"  \
    "plain ID (what scanners read), the ID with its check character set apart, the lot, the\n"     \
    "donor code, \"Dose n of N\" or \"Retained sample\", the processed and expiry dates and the\n" \
    "storage temperature (site setting storage_temp_c); no status: a tube's status changes in\n"  \
    "the freezer, so it is scanned, never printed. Send the file to a Zebra printer as raw ZPL:\n" \
    "lp -d PRINTER -o raw FILE.zpl\n"

/* Records a print (or reprint) of each ID with target as where it went, and appends their ZPL,
 * laid out for dpi (NULL: the site's label_dpi), to zpl. Returns 0, or -1 with ctx->err set
 * (nothing recorded once the caller rolls back). */
int labels_record(struct cmd_ctx *ctx, const char *const *ids, size_t n, const char *target,
                  const char *dpi, struct strbuf *zpl);
/* Appends the ZPL of each box's label, laid out for dpi (NULL: the site's), to zpl (nothing is
 * recorded). Returns 0, or -1 with ctx->err set. */
int labels_boxes(struct cmd_ctx *ctx, const char *const *ids, size_t n, const char *dpi,
                 struct strbuf *zpl);

/* Writes data to a new temporary file beside path and returns its name (caller frees), or NULL
 * with ctx->err set. labels_put() renames it over path (after the transaction committed);
 * labels_drop() removes it. */
char *labels_stage(struct cmd_ctx *ctx, const char *path, const struct strbuf *data);
int labels_put(struct cmd_ctx *ctx, char *tmp, const char *path);
void labels_drop(char *tmp);

#endif
