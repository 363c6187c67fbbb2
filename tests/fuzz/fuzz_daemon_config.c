/* fuzz_daemon_config.c: fmtbankd's "key = value" configuration file, and the inbox format
 * detection from a file's first bytes. Invariants: a refused file changes nothing (the
 * configuration stays as it was, so a reload keeps running on the old one) and its error names
 * the line; an accepted one leaves every value in its documented range; a detected format's
 * header is exactly the file's first line. */
#include "fuzz.h"

#include "daemon/daemon.h"

static bool
same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool
same(const struct daemon_config *a, const struct daemon_config *b)
{
    return same_str(a->inbox, b->inbox) && same_str(a->outbox, b->outbox) &&
           same_str(a->db, b->db) && same_str(a->user, b->user) &&
           same_str(a->inbox_format, b->inbox_format) && same_str(a->reports, b->reports) &&
           a->interval == b->interval && a->settle == b->settle &&
           a->reconnect_max == b->reconnect_max && a->report_minute == b->report_minute &&
           a->log_level == b->log_level;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    struct daemon_config c, before;
    config_defaults(&c);
    config_defaults(&before);
    struct fb_error err = {0};
    if (config_parse_text(text, "fuzz.conf", &c, &err) == 0) {
        CHECK(err.message == NULL);
        CHECK(c.interval >= 0.05 && c.interval <= 86400);
        CHECK(c.settle >= 0 && c.settle <= 3600);
        CHECK(c.reconnect_max >= 0.1 && c.reconnect_max <= 3600);
        CHECK(c.report_minute >= -1 && c.report_minute < 24 * 60);
        CHECK(c.log_level >= LOG_DEBUG && c.log_level <= LOG_ERROR);
        CHECK(c.inbox_format != NULL &&
              (strcmp(c.inbox_format, "auto") == 0 || config_inbox_format(c.inbox_format)));
        CHECK(c.reports != NULL && c.reports[0] != '\0');
    } else {
        CHECK(err.message != NULL && strncmp(err.message, "fuzz.conf:", 10) == 0);
        CHECK(same(&c, &before));
    }
    fb_error_clear(&err);
    config_free(&c);
    config_free(&before);

    const struct inbox_format *f = inbox_format_detect((const char *)data, size);
    if (f) {
        size_t skip = size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        size_t hl = strlen(f->header);
        CHECK(size - skip >= hl && memcmp(data + skip, f->header, hl) == 0);
        CHECK(size - skip == hl || data[skip + hl] == '\n' || data[skip + hl] == '\r');
        CHECK(config_inbox_format(f->name) == f);
    }
    free(text);
    return 0;
}
