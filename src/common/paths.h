/* paths.h: where fmtbank finds its data directories (schema/, reports/) and the PostgreSQL programs. */
#ifndef FMTBANK_PATHS_H
#define FMTBANK_PATHS_H

/* Directory for "schema" or "reports": $FMTBANK_SCHEMA / $FMTBANK_REPORTS, else the installed
 * source tree when it exists, else the installed share directory. Returns a malloc'd path. */
char *paths_data_dir(const char *what);
/* Directory holding initdb, pg_ctl and postgres: $FMTBANK_PGBIN, else the one found at build. */
const char *paths_pgbin(void);

/* The server module fmtbank_auth.so: $FMTBANK_PGMODULE, else the build's (for a binary in the
 * build directory), else the installed one. Returns a malloc'd path. */
char *paths_pgmodule(void);

#endif
