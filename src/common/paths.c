/* paths.c: locating schema/, reports/ and the PostgreSQL server programs. */
#include "common/paths.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

static int
is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether this executable lies in the build directory (or a directory below it: test tools). */
static bool
running_from_build_dir(void)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    size_t len = strlen(FMTBANK_BUILD_DIR);
    return strncmp(exe, FMTBANK_BUILD_DIR, len) == 0 && exe[len] == '/';
}

/* PREFIX/DIR/NAME for an executable installed as PREFIX/bin/fmtbank (cmake --install --prefix
 * may put it elsewhere than the configured prefix), or NULL. */
static char *
installed_beside(const char *dir, const char *name)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0'; /* PREFIX/bin */
    slash = strrchr(exe, '/');
    if (!slash || strcmp(slash, "/bin") != 0)
        return NULL;
    *slash = '\0';
    return xasprintf("%s/%s/%s", exe, dir, name);
}

char *
paths_data_dir(const char *what)
{
    const char *env = getenv(strcmp(what, "schema") == 0 ? "FMTBANK_SCHEMA" : "FMTBANK_REPORTS");
    if (!str_empty(env))
        return xstrdup(env);
    /* A binary run from its build directory uses the source tree it was built from (a developer
     * never runs an older installed schema); an installed binary uses its installed data
     * directory, whatever source tree is left on the build machine. */
    if (running_from_build_dir()) {
        char *source = xasprintf("%s/%s", FMTBANK_SOURCE_DIR, what);
        if (is_dir(source))
            return source;
        free(source);
    }
    char *beside = installed_beside("share/fmtbank", what);
    if (beside && is_dir(beside))
        return beside;
    free(beside);
    return xasprintf("%s/%s", FMTBANK_INSTALL_DATADIR, what);
}

const char *
paths_pgbin(void)
{
    const char *env = getenv("FMTBANK_PGBIN");
    return str_empty(env) ? FMTBANK_PGBIN_DEFAULT : env;
}

char *
paths_pgmodule(void)
{
    const char *env = getenv("FMTBANK_PGMODULE");
    if (!str_empty(env))
        return xstrdup(env);
    if (running_from_build_dir() && access(FMTBANK_PGMODULE_BUILD, R_OK) == 0)
        return xstrdup(FMTBANK_PGMODULE_BUILD);
    char *beside =
        running_from_build_dir() ? NULL : installed_beside("lib/fmtbank", "fmtbank_auth.so");
    if (beside && access(beside, R_OK) == 0)
        return beside;
    free(beside);
    return xstrdup(FMTBANK_PGMODULE_INSTALL);
}
