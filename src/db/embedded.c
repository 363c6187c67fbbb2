/* embedded.c: create, start and stop the embedded PostgreSQL instance.
 *
 * Races: every step that creates or starts the instance runs under an exclusive flock on
 * home/fmtbank.lock, so two commands starting it at once neither run initdb twice nor start two
 * postmasters. A stale postmaster.pid after a crash is handled by the postmaster itself.
 * Root: initdb refuses to run as root, so the server programs run as the unprivileged system
 * user "fmtbank" (created on first use); the home directory is then owned by that user and its
 * ancestors must be searchable by it (hence /var/lib/fmtbank, not /root, as root's default).
 * Authentication (product.md §15): pg_hba.conf, pg_ident.conf and fmtbank_auth.conf are written
 * again at every start (and by "fmtbank init --admin-os-user"): scram-sha-256 for every person on
 * the Unix socket; peer only for the service account (the server's OS user, and root who started
 * it and can become that user anyway) as postgres or fmtbankd, and for one configured
 * administrator OS account as its role. The socket directory (home) is 0750 and the socket 0770,
 * group "fmtbank", so persons in that group connect from their own OS accounts. The server module
 * fmtbank_auth.so is copied into home/lib and preloaded. */
#include "db/embedded.h"
#include "db/embedded_internal.h"
#include "db/db.h"
#include "common/file.h"
#include "common/paths.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SOCKET_NAME_LEN 16 /* "/.s.PGSQL.5432" and some slack */
#define AUTH_GROUP "fmtbank"

static char *
default_home(void)
{
    const char *env = getenv("FMTBANK_HOME");
    if (!str_empty(env))
        return xstrdup(env);
    if (geteuid() == 0)
        return xstrdup(EMBEDDED_ROOT_HOME);
    const char *xdg = getenv("XDG_DATA_HOME");
    if (!str_empty(xdg))
        return xasprintf("%s/fmtbank", xdg);
    const char *home = getenv("HOME");
    if (str_empty(home)) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : "/tmp";
    }
    return xasprintf("%s/.local/share/fmtbank", home);
}

int
embedded_resolve(struct embedded *e, struct fb_error *err)
{
    memset(e, 0, sizeof(*e));
    char *home = default_home();
    if (home[0] != '/') {
        char cwd[4096];
        if (!getcwd(cwd, sizeof(cwd))) {
            fb_error_set(err, FB_ERR_INTERNAL, "could not determine the current directory: %s",
                         strerror(errno));
            free(home);
            return -1;
        }
        char *abs = xasprintf("%s/%s", cwd, home);
        free(home);
        home = abs;
    }
    if (strlen(home) + SOCKET_NAME_LEN > 107) {
        fb_error_set(err, FB_ERR_USAGE, "embedded instance home \"%s\" is too long", home);
        fb_error_detail(err, "A Unix socket path is limited to 107 bytes.");
        fb_error_hint(err, "Set FMTBANK_HOME to a shorter path.");
        free(home);
        return -1;
    }
    e->home = home;
    e->datadir = xasprintf("%s/data", home);
    e->logfile = xasprintf("%s/postgres.log", home);
    e->lockfile = xasprintf("%s/fmtbank.lock", home);
    e->drop = geteuid() == 0;
    e->uid = geteuid();
    e->gid = getegid();
    return 0;
}

void
embedded_free(struct embedded *e)
{
    free(e->home);
    free(e->datadir);
    free(e->logfile);
    free(e->lockfile);
    memset(e, 0, sizeof(*e));
}

bool
embedded_initialised(const struct embedded *e)
{
    char *p = xasprintf("%s/PG_VERSION", e->datadir);
    bool ok = access(p, F_OK) == 0;
    free(p);
    return ok;
}

/* A postmaster is alive when the process exists, is not a zombie (a container without an init
 * may never reap it) and is a postgres process (pids get reused). */
static bool
postmaster_alive(long pid)
{
    if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
        return false;
    char path[64], buf[256] = "";
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true; /* no /proc: trust kill() */
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close_paren = strrchr(buf, ')');
    if (!strstr(buf, "(postgres)") || !close_paren || close_paren[1] == '\0')
        return false;
    return close_paren[2] != 'Z' && close_paren[2] != 'X';
}

static long
pidfile_pid(const struct embedded *e)
{
    char *p = xasprintf("%s/postmaster.pid", e->datadir);
    FILE *f = fopen(p, "r");
    long pid = 0;
    free(p);
    if (!f)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    return pid;
}

long
embedded_pid(const struct embedded *e)
{
    long pid = pidfile_pid(e);
    return postmaster_alive(pid) ? pid : 0;
}

/* After a crash the postmaster's pid file stays behind; the server would refuse to start while
 * its pid still answers (a zombie does). Called under the lock, only when that pid is dead. */
/* True when any live process still works in datadir (a backend of the dead postmaster holding its
 * shared memory): then the pid file must stay, so the server keeps refusing to start. */
static bool
datadir_in_use(const struct embedded *e)
{
    DIR *d = opendir("/proc");
    bool busy = false;
    struct dirent *de;
    while (d && !busy && (de = readdir(d)) != NULL) {
        long pid = strtol(de->d_name, NULL, 10);
        if (pid <= 0)
            continue;
        char link[80], cwd[4096];
        snprintf(link, sizeof(link), "/proc/%ld/cwd", pid);
        ssize_t n = readlink(link, cwd, sizeof(cwd) - 1);
        if (n <= 0)
            continue;
        cwd[n] = '\0';
        busy = strcmp(cwd, e->datadir) == 0 && postmaster_alive(pid);
    }
    if (d)
        closedir(d);
    return busy;
}

static void
remove_stale_pidfile(const struct embedded *e)
{
    long pid = pidfile_pid(e);
    if (pid == 0 || postmaster_alive(pid) || datadir_in_use(e))
        return;
    char *p = xasprintf("%s/postmaster.pid", e->datadir);
    char *sock = xasprintf("%s/.s.PGSQL.5432.lock", e->home);
    if (unlink(p) == 0)
        fprintf(stderr, "fmtbank: removed the stale postmaster.pid of dead server process %ld\n",
                pid);
    unlink(sock); /* the socket's lock file names the same dead pid */
    free(sock);
    free(p);
}

/* Runs argv as the server user; output to logpath (appended) or /dev/null. Returns the exit
 * status, or -1 when it could not be run. */
static int
run_as_server(const struct embedded *e, const char *const argv[], const char *logpath)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (e->drop && (setgroups(0, NULL) != 0 || setgid(e->gid) != 0 || setuid(e->uid) != 0))
            _exit(126);
        if (chdir(e->home) != 0)
            _exit(126);
        int fd = open(logpath ? logpath : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *
pgprog(const char *name)
{
    return xasprintf("%s/%s", paths_pgbin(), name);
}

/* Creates the system user on first use. Several fmtbank processes (for other homes too) may race
 * here: useradd then fails on the locked /etc/passwd while another creates the user, so look up
 * the user again and retry for a while before giving up. */
static int
ensure_system_user(struct embedded *e, struct fb_error *err)
{
    struct passwd *pw = getpwnam(EMBEDDED_SYSTEM_USER);
    for (int attempt = 0; !pw && attempt < 50; attempt++) {
        const char *argv[] = {"/usr/sbin/useradd", "--system", "--user-group", "--no-create-home",
                              "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                              EMBEDDED_SYSTEM_USER, NULL};
        struct embedded self = *e;
        self.drop = false;
        if (run_as_server(&self, argv, NULL) != 0)
            usleep(100000);
        pw = getpwnam(EMBEDDED_SYSTEM_USER);
    }
    if (!pw) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not create the system user \"%s\"",
                     EMBEDDED_SYSTEM_USER);
        fb_error_hint(err, "Create it with useradd --system, or run fmtbank as an ordinary user.");
        return -1;
    }
    e->uid = pw->pw_uid;
    e->gid = pw->pw_gid;
    return 0;
}

/* The server user must be able to reach home: every ancestor needs the search bit for others
 * (or to be owned by the server user). */
static int
check_ancestors(const struct embedded *e, struct fb_error *err)
{
    char *path = xstrdup(e->home);
    int rc = 0;
    for (char *slash = strrchr(path, '/'); slash && slash != path; slash = strrchr(path, '/')) {
        *slash = '\0';
        struct stat st;
        if (stat(path, &st) == 0 && !(st.st_mode & S_IXOTH) && st.st_uid != e->uid) {
            fb_error_set(err, FB_ERR_USAGE,
                         "cannot use \"%s\" as the embedded instance home: \"%s\" is not "
                         "searchable by the server user \"%s\"",
                         e->home, path, EMBEDDED_SYSTEM_USER);
            fb_error_hint(err, "Set FMTBANK_HOME to a directory under /var/lib or /srv "
                               "(root's default is %s).",
                          EMBEDDED_ROOT_HOME);
            rc = -1;
            break;
        }
    }
    free(path);
    return rc;
}

static int
mkdir_p(const char *dir, struct fb_error *err)
{
    char *p = xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1; rc == 0; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            fb_error_set(err, FB_ERR_INTERNAL, "could not create directory \"%s\": %s", p,
                         strerror(errno));
            rc = -1;
        }
        *s = saved;
        if (saved == '\0')
            break;
    }
    free(p);
    return rc;
}

/* The group that may use the socket: created when missing (root only). Returns its gid, or -1
 * when there is none (an ordinary user without the group keeps a private 0700 home). */
static gid_t
auth_group(const struct embedded *e)
{
    struct group *g = getgrnam(AUTH_GROUP);
    if (!g && geteuid() == 0) {
        const char *argv[] = {"/usr/sbin/groupadd", "--system", "-f", AUTH_GROUP, NULL};
        struct embedded self = *e;
        self.drop = false;
        run_as_server(&self, argv, NULL);
        g = getgrnam(AUTH_GROUP);
    }
    return g ? g->gr_gid : (gid_t)-1;
}

static int
prepare_home(struct embedded *e, struct fb_error *err)
{
    if (mkdir_p(e->home, err) < 0)
        return -1;
    if (e->drop && (ensure_system_user(e, err) < 0 || check_ancestors(e, err) < 0))
        return -1;
    gid_t g = auth_group(e);
    e->group_ok = g != (gid_t)-1 && chown(e->home, e->drop ? e->uid : (uid_t)-1, g) == 0;
    if (!e->drop && chmod(e->home, e->group_ok ? 0750 : 0700) != 0) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not set the mode of \"%s\": %s", e->home,
                     strerror(errno));
        return -1;
    }
    if (e->drop && (chown(e->home, e->uid, e->group_ok ? g : e->gid) != 0 ||
        chmod(e->home, e->group_ok ? 0750 : 0700) != 0)) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not give \"%s\" to the server user: %s",
                     e->home, strerror(errno));
        return -1;
    }
    return 0;
}

static int
lock_home(const struct embedded *e, struct fb_error *err)
{
    int fd = open(e->lockfile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not lock \"%s\": %s", e->lockfile,
                     strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void
unlock_home(int fd)
{
    flock(fd, LOCK_UN);
    close(fd);
}

static int
write_config(const struct embedded *e, struct fb_error *err)
{
    char *conf = xasprintf("%s/postgresql.conf", e->datadir);
    FILE *f = fopen(conf, "a");
    if (!f) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not open \"%s\": %s", conf, strerror(errno));
        free(conf);
        return -1;
    }
    fprintf(f,
            "\n# fmtbank embedded instance: Unix socket in FMTBANK_HOME only, no TCP.\n"
            "listen_addresses = ''\n"
            "unix_socket_directories = '%s'\n"
            "password_encryption = scram-sha-256\n"
            "include_if_exists = 'fmtbank_auth.conf'\n"
            "fsync = on\n"
            "max_connections = 100\n"
            "shared_buffers = 256MB\n"
            "work_mem = 64MB\n"
            "maintenance_work_mem = 256MB\n",
            e->home);
    int rc = fclose(f);
    free(conf);
    if (rc != 0) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not write the server configuration");
        return -1;
    }
    return 0;
}

/* Writes path (mode 0600, owned by the server user) with content. */
static int
write_file(const struct embedded *e, const char *path, const char *content, struct fb_error *err)
{
    char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t len = strlen(content);
    bool ok = fd >= 0 && write(fd, content, len) == (ssize_t)len;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    if (ok && e->drop)
        ok = chown(tmp, e->uid, e->gid) == 0;
    ok = ok && rename(tmp, path) == 0;
    if (!ok)
        fb_error_set(err, FB_ERR_INTERNAL, "could not write \"%s\": %s", path, strerror(errno));
    free(tmp);
    return ok ? 0 : -1;
}

/* Reads "key=value" from home/fmtbank.conf (malloc'd, or NULL). */
static char *
home_config(const struct embedded *e, const char *key)
{
    char *p = xasprintf("%s/fmtbank.conf", e->home);
    FILE *f = fopen(p, "r");
    free(p);
    char line[512];
    char *val = NULL;
    size_t klen = strlen(key);
    while (f && !val && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, key, klen) == 0 && line[klen] == '=' && line[klen + 1] != '\0')
            val = xstrdup(line + klen + 1);
    }
    if (f)
        fclose(f);
    return val;
}

/* Copies the server module into home/lib (where the server user can read it); false if absent. */
static bool
install_module(const struct embedded *e, char **dest)
{
    char *src = paths_pgmodule();
    char *dir = xasprintf("%s/lib", e->home);
    *dest = xasprintf("%s/fmtbank_auth.so", dir);
    FILE *in = fopen(src, "rb");
    bool ok = in != NULL && (mkdir(dir, 0755) == 0 || errno == EEXIST);
    char *tmp = xasprintf("%s.tmp", *dest);
    FILE *out = ok ? fopen(tmp, "wb") : NULL;
    ok = out != NULL;
    char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (out)
        ok = fclose(out) == 0 && ok;
    if (in)
        fclose(in);
    if (ok && e->drop)
        ok = chown(dir, e->uid, e->gid) == 0 && chown(tmp, e->uid, e->gid) == 0;
    ok = ok && chmod(tmp, 0755) == 0 && rename(tmp, *dest) == 0;
    free(tmp);
    free(dir);
    free(src);
    return ok;
}

int
embedded_write_auth(const struct embedded *e, struct fb_error *err)
{
    struct passwd *pw = getpwuid(e->uid);
    if (!pw) {
        fb_error_set(err, FB_ERR_INTERNAL, "no user name for uid %ld", (long)e->uid);
        return -1;
    }
    char *server_user = xstrdup(pw->pw_name);
    char *admin_os = home_config(e, "admin_os_user");
    char *admin_role = home_config(e, "admin_role");
    struct strbuf hba = STRBUF_INIT, ident = STRBUF_INIT, conf = STRBUF_INIT;
    strbuf_adds(&hba, "# Written by fmtbank at every start; edits are lost (see embedded.c).\n"
                      "local all postgres,fmtbankd peer map=fmtbank_service\n");
    strbuf_addf(&ident, "# Written by fmtbank at every start; edits are lost.\n"
                        "fmtbank_service %s postgres\nfmtbank_service %s fmtbankd\n",
                server_user, server_user);
    if (e->drop)
        strbuf_adds(&ident, "fmtbank_service root postgres\nfmtbank_service root fmtbankd\n");
    if (admin_os && admin_role) {
        strbuf_addf(&hba, "local all %s peer map=fmtbank_admin\n", admin_role);
        strbuf_addf(&ident, "fmtbank_admin %s %s\n", admin_os, admin_role);
    }
    embedded_replication_hba(&hba); /* standby.c */
    strbuf_adds(&hba, "local all all scram-sha-256\n");
    char *module = NULL;
    strbuf_adds(&conf, "# Written by fmtbank at every start; edits are lost.\n"
                       "password_encryption = scram-sha-256\n");
    strbuf_addf(&conf, "unix_socket_permissions = %s\n", e->group_ok ? "0770" : "0700");
    if (e->group_ok)
        strbuf_adds(&conf, "unix_socket_group = '" AUTH_GROUP "'\n");
    if (install_module(e, &module)) {
        strbuf_addf(&conf, "shared_preload_libraries = '%s'\n", module);
        /* the catalog names the module without a directory (migration 260), so a standby's
         * copy in its own home serves the functions the primary created */
        strbuf_addf(&conf, "dynamic_library_path = '$libdir:%s/lib'\n", e->home);
    }
    else
        fprintf(stderr, "fmtbank: warning: the server module fmtbank_auth.so was not found; "
                        "login lockout and password checks in the server are off\n");
    strbuf_adds(&conf, "include_if_exists = '" EMBEDDED_REPLICATION_CONF "'\n");
    char *p_hba = xasprintf("%s/pg_hba.conf", e->datadir);
    char *p_ident = xasprintf("%s/pg_ident.conf", e->datadir);
    char *p_conf = xasprintf("%s/fmtbank_auth.conf", e->datadir);
    int rc = write_file(e, p_hba, hba.buf, err) == 0 && write_file(e, p_ident, ident.buf, err) == 0 &&
                     embedded_write_replication_conf(e, err) == 0 && /* standby.c */
                     write_file(e, p_conf, conf.buf, err) == 0
                 ? 0
                 : -1;
    free(p_hba);
    free(p_ident);
    free(p_conf);
    free(module);
    strbuf_release(&hba);
    strbuf_release(&ident);
    strbuf_release(&conf);
    free(server_user);
    free(admin_os);
    free(admin_role);
    return rc;
}

static bool
valid_name(const char *s)
{
    if (str_empty(s) || strlen(s) > 63 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(s);
}

int
embedded_set_admin(struct embedded *e, const char *os_user, const char *role, struct fb_error *err)
{
    if (!valid_name(os_user) || !valid_name(role) || !getpwnam(os_user)) {
        fb_error_set(err, FB_ERR_USAGE, "invalid administrator OS account \"%s\" or role \"%s\"",
                     os_user ? os_user : "", role ? role : "");
        fb_error_hint(err, "Name an existing OS user and an fmtbank admin user.");
        return -1;
    }
    if (prepare_home(e, err) < 0)
        return -1;
    int fd = lock_home(e, err);
    if (fd < 0)
        return -1;
    char *path = xasprintf("%s/fmtbank.conf", e->home);
    char *content = xasprintf("admin_os_user=%s\nadmin_role=%s\n", os_user, role);
    int rc = write_file(e, path, content, err);
    if (rc == 0 && embedded_initialised(e))
        rc = embedded_write_auth(e, err);
    free(content);
    free(path);
    unlock_home(fd);
    return rc;
}

static int
run_initdb(const struct embedded *e, struct fb_error *err)
{
    struct stat st;
    if (stat(e->datadir, &st) == 0) {
        /* A data directory without PG_VERSION is what an interrupted initdb leaves: keep it
         * aside (nothing is deleted) and start again. */
        char *aside = xasprintf("%s.incomplete.%ld", e->datadir, (long)time(NULL));
        if (rename(e->datadir, aside) != 0) {
            fb_error_set(err, FB_ERR_INTERNAL, "could not move aside \"%s\": %s", e->datadir,
                         strerror(errno));
            free(aside);
            return -1;
        }
        free(aside);
    }
    char *prog = pgprog("initdb");
    char *log = xasprintf("%s/initdb.log", e->home);
    const char *argv[] = {prog, "-D", e->datadir, "-U", EMBEDDED_SUPERUSER, "--auth-local=peer",
                    "--auth-host=reject", "-E", "UTF8", "--no-locale", NULL};
    int rc = run_as_server(e, argv, log);
    if (rc != 0) {
        fb_error_set(err, FB_ERR_DBUNAVAIL, "could not initialise the embedded instance in \"%s\"",
                     e->datadir);
        fb_error_detail(err, "initdb exited with status %d; see \"%s\".", rc, log);
    }
    free(prog);
    free(log);
    return rc == 0 ? write_config(e, err) : -1;
}

static int
run_pg_ctl(const struct embedded *e, const char *action, struct fb_error *err)
{
    char *prog = pgprog("pg_ctl");
    const char *argv[] = {prog, action, "-D", e->datadir, "-l", e->logfile, "-w", "-t", "120",
                    "-m", "fast", NULL};
    int rc = run_as_server(e, argv, strcmp(action, "start") == 0 ? NULL : e->logfile);
    free(prog);
    if (rc != 0) {
        fb_error_set(err, FB_ERR_DBUNAVAIL, "could not %s the embedded instance in \"%s\"", action,
                     e->home);
        fb_error_detail(err, "pg_ctl %s exited with status %d; see \"%s\".", action, rc,
                        e->logfile);
    }
    return rc == 0 ? 0 : -1;
}

static PGconn *
connect_ci(const void *ci)
{
    return PQconnectdb(ci);
}

static int
create_database(const struct embedded *e, struct fb_error *err)
{
    char *ci = xasprintf("host='%s' dbname=postgres user=" EMBEDDED_SUPERUSER
                         " fallback_application_name=fmtbank",
                         e->home);
    PGconn *c = db_recovery_retry(PQconnectdb(ci), connect_ci, ci, err);
    free(ci);
    int rc = -1;
    if (!c)
        return -1;
    if (PQstatus(c) != CONNECTION_OK) {
        fb_error_set(err, FB_ERR_DBUNAVAIL, "could not connect to the embedded instance: %s",
                     PQerrorMessage(c));
        goto done;
    }
    PGresult *r = PQexec(c, "SELECT 1 FROM pg_database WHERE datname = '" EMBEDDED_DBNAME "'");
    bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    PQclear(r);
    if (!exists) {
        r = PQexec(c, "CREATE DATABASE " EMBEDDED_DBNAME);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fb_error_set(err, FB_ERR_DBUNAVAIL, "could not create database \"%s\": %s",
                         EMBEDDED_DBNAME, PQresultErrorMessage(r));
            PQclear(r);
            goto done;
        }
        PQclear(r);
    }
    rc = 0;
done:
    PQfinish(c);
    return rc;
}

int
embedded_start(struct embedded *e, struct fb_error *err)
{
    if (prepare_home(e, err) < 0)
        return -1;
    int fd = lock_home(e, err);
    if (fd < 0)
        return -1;
    int rc = 0;
    if (!embedded_initialised(e))
        rc = run_initdb(e, err);
    if (rc == 0 && embedded_pid(e) == 0) {
        remove_stale_pidfile(e);
        rc = embedded_write_auth(e, err);
        if (rc == 0)
            rc = run_pg_ctl(e, "start", err);
    }
    if (rc == 0)
        rc = create_database(e, err);
    unlock_home(fd);
    return rc;
}

/* Whether the server module installed in home/lib differs from this fmtbank's (absent or
 * unreadable on either side: not stale, nothing to install). */
static bool
module_stale(const struct embedded *e)
{
    char *src = paths_pgmodule(), *dst = xasprintf("%s/lib/fmtbank_auth.so", e->home);
    char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    struct fb_error ignore = {0};
    bool stale = file_read_all(src, 64u << 20, 0, &a, &alen, &ignore) == 0 &&
                 (file_read_all(dst, 64u << 20, 0, &b, &blen, &ignore) != 0 || alen != blen ||
                  memcmp(a, b, alen) != 0);
    fb_error_clear(&ignore);
    free(a);
    free(b);
    free(src);
    free(dst);
    return stale;
}

int
embedded_refresh_module(struct embedded *e, bool *restarted, struct fb_error *err)
{
    *restarted = false;
    if (!embedded_initialised(e) || embedded_pid(e) == 0 ||
        (!module_stale(e) && !embedded_conf_outdated(e) /* standby.c */))
        return 0;
    bool was_running = false;
    if (embedded_stop(e, &was_running, err) < 0)
        return -1;
    *restarted = true;
    return embedded_start(e, err);
}

int
embedded_stop(struct embedded *e, bool *was_running, struct fb_error *err)
{
    *was_running = false;
    if (!embedded_initialised(e))
        return 0;
    if (e->drop && ensure_system_user(e, err) < 0)
        return -1;
    int fd = lock_home(e, err);
    if (fd < 0)
        return -1;
    int rc = 0;
    if (embedded_pid(e) != 0) {
        *was_running = true;
        rc = run_pg_ctl(e, "stop", err);
    }
    unlock_home(fd);
    return rc;
}

/* The helpers standby.c shares with the instance's own code (db/embedded_internal.h). */
int
embedded_run(const struct embedded *e, const char *const argv[], const char *logpath)
{
    return run_as_server(e, argv, logpath);
}

int
embedded_write_file(const struct embedded *e, const char *path, const char *content,
                    struct fb_error *err)
{
    return write_file(e, path, content, err);
}

int
embedded_prepare_home(struct embedded *e, struct fb_error *err)
{
    return prepare_home(e, err);
}

char *
embedded_pgprog(const char *name)
{
    return pgprog(name);
}

int
embedded_lock(const struct embedded *e, struct fb_error *err)
{
    return lock_home(e, err);
}

void
embedded_unlock(int fd)
{
    unlock_home(fd);
}

char *
embedded_conninfo(const struct embedded *e, const char *user)
{
    /* home is ours, but quote it as libpq requires for spaces and quotes. */
    struct strbuf sb = STRBUF_INIT;
    strbuf_adds(&sb, "host='");
    for (const char *p = e->home; *p; p++) {
        if (*p == '\'' || *p == '\\')
            strbuf_addch(&sb, '\\');
        strbuf_addch(&sb, *p);
    }
    strbuf_addf(&sb, "' dbname=%s", EMBEDDED_DBNAME);
    if (user) {
        strbuf_adds(&sb, " user='");
        for (const char *p = user; *p; p++) {
            if (*p == '\'' || *p == '\\')
                strbuf_addch(&sb, '\\');
            strbuf_addch(&sb, *p);
        }
        strbuf_addch(&sb, '\'');
    }
    return strbuf_detach(&sb);
}

static void
add_percent_encoded(struct strbuf *sb, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            strbuf_addch(sb, (char)*p);
        else
            strbuf_addf(sb, "%%%02X", *p);
    }
}

char *
embedded_uri(const struct embedded *e, const char *user)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_adds(&sb, "postgresql:///" EMBEDDED_DBNAME "?host=");
    add_percent_encoded(&sb, e->home);
    strbuf_adds(&sb, "&user=");
    add_percent_encoded(&sb, user ? user : EMBEDDED_SUPERUSER);
    return strbuf_detach(&sb);
}
