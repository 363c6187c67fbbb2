/* daemon.c: fmtbankd's option parsing and main loop. */
#include "daemon/daemon.h"
#include "common/error.h"
#include "common/options.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: fmtbankd [--once] [--inbox DIR] [--outbox DIR] [--interval SECONDS] [--db CONNINFO]\n";

int
daemon_main(int argc, char **argv)
{
    bool once = false, help = false, version = false;
    const char *inbox = NULL, *outbox = NULL, *interval = NULL, *db = NULL;
    const struct opt_spec specs[] = {{"once", 0, OPT_FLAG, &once},
                                     {"inbox", 0, OPT_STRING, &inbox},
                                     {"outbox", 0, OPT_STRING, &outbox},
                                     {"interval", 0, OPT_STRING, &interval},
                                     {"db", 0, OPT_STRING, &db},
                                     {"help", 'h', OPT_FLAG, &help},
                                     {"version", 0, OPT_FLAG, &version},
                                     {0}};
    struct opt_args pos = {0};
    struct fb_error err = {0};
    if (opts_parse(argc, argv, 1, specs, &pos, &err) < 0 || pos.n > 0) {
        if (!err.message)
            fb_error_set(&err, FB_ERR_USAGE, "unexpected argument \"%s\"", pos.items[0]);
        fprintf(stderr, "fmtbankd: error: %s\n%s", err.message, usage);
        fb_error_clear(&err);
        opt_args_free(&pos);
        return FB_ERR_USAGE;
    }
    opt_args_free(&pos);
    if (help) {
        fputs(usage, stdout);
        fputs("\nThe batch daemon: inbox imports, sweeps and scheduled reports.\n"
              "Not yet implemented beyond option parsing.\n", stdout);
        return 0;
    }
    if (version) {
        printf("fmtbankd %s\n", FMTBANK_VERSION);
        return 0;
    }
    fprintf(stderr, "fmtbankd: error: the daemon is not implemented yet\n");
    return FB_ERR_INTERNAL;
}
