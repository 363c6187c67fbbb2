/* paths.c: locating schema/, reports/ and the PostgreSQL server programs. */
#include "common/paths.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int
is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

char *
paths_data_dir(const char *what)
{
    const char *env = getenv(strcmp(what, "schema") == 0 ? "FMTBANK_SCHEMA" : "FMTBANK_REPORTS");
    if (!str_empty(env))
        return xstrdup(env);
    /* The build's own source tree first, so a developer never runs an older installed schema. */
    char *source = xasprintf("%s/%s", FMTBANK_SOURCE_DIR, what);
    if (is_dir(source))
        return source;
    free(source);
    return xasprintf("%s/%s", FMTBANK_INSTALL_DATADIR, what);
}

const char *
paths_pgbin(void)
{
    const char *env = getenv("FMTBANK_PGBIN");
    return str_empty(env) ? FMTBANK_PGBIN_DEFAULT : env;
}
