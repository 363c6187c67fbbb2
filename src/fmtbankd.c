/* fmtbankd.c: main() of the batch daemon, straight-line as in redis: options, configuration,
 * folders, signal flags, then the loop (src/daemon/loop.c) until SIGTERM or the end of --once. */
#include "common/text.h"
#include "daemon/daemon.h"

#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
    struct daemon d;
    struct fb_error err = {0};
    daemon_init(&d);

    int rc = daemon_options_parse(argc, argv, &d.opts, &err);
    if (rc == 1) {
        daemon_free(&d);
        return 0;
    }
    if (rc != 0) {
        char *safe = text_escape_str(err.message ? err.message : "unknown error", 0);
        fprintf(stderr, "fmtbankd: error: %s\n", safe);
        free(safe);
        if (err.hint)
            fprintf(stderr, "HINT: %s\n", err.hint);
        daemon_print_usage(stderr);
        goto fail;
    }
    if (config_load(&d.opts, &d.cfg, &err) < 0 || daemon_prepare_dirs(&d.cfg, &err) < 0) {
        rc = FB_ERR_USAGE;
        log_msg(LOG_ERROR, "%s%s%s", err.message, err.hint ? " HINT: " : "",
                err.hint ? err.hint : "");
        goto fail;
    }
    log_set_level(d.cfg.log_level);
    signals_install();
    log_msg(LOG_INFO, "fmtbankd %s starting (pid %ld on %s)%s", daemon_version(), (long)d.pid,
            d.host, d.opts.once ? ": one pass" : "");

    rc = daemon_loop(&d);

    log_msg(LOG_INFO, "fmtbankd exiting with status %d", rc);
    daemon_free(&d);
    return rc;
fail:
    fb_error_clear(&err);
    daemon_free(&d);
    return rc;
}
