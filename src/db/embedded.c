/* embedded.c: create, start and stop the embedded PostgreSQL instance.
 *
 * Races: every step that creates or starts the instance runs under an exclusive flock on
 * home/fmtbank.lock, so two commands starting it at once neither run initdb twice nor start two
 * postmasters. A stale postmaster.pid after a crash is handled by the postmaster itself.
 * Root: initdb refuses to run as root, so the server programs run as the unprivileged system
 * user "fmtbank" (created on first use); the home directory is then owned by that user and its
 * ancestors must be searchable by it (hence /var/lib/fmtbank, not /root, as root's default). */
#include "db/embedded.h"
#include "db/db.h"
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

static int
prepare_home(struct embedded *e, struct fb_error *err)
{
    if (mkdir_p(e->home, err) < 0)
        return -1;
    if (!e->drop)
        return 0;
    if (ensure_system_user(e, err) < 0 || check_ancestors(e, err) < 0)
        return -1;
    if (chown(e->home, e->uid, e->gid) != 0 || chmod(e->home, 0700) != 0) {
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
            "unix_socket_permissions = 0700\n"
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
    const char *argv[] = {prog, "-D", e->datadir, "-U", EMBEDDED_SUPERUSER, "--auth-local=trust",
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
        rc = run_pg_ctl(e, "start", err);
    }
    if (rc == 0)
        rc = create_database(e, err);
    unlock_home(fd);
    return rc;
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
