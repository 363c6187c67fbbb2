/* fmtbank_auth: a small server module for the embedded instance (shared_preload_libraries).
 *
 *  - check_password_hook: ALTER/CREATE ROLE ... PASSWORD is refused when the password arrives
 *    pre-hashed (md5/scram verifier), is shorter than fmtbank_auth.password_min_length, or is not
 *    set through fmtbank's user functions (SECURITY DEFINER, owned by fmtbank_auth.owner_role,
 *    default fmtbank_owner; or by a superuser), so history and expiry cannot be bypassed.
 *  - ClientAuthentication_hook: failed password logins are counted per role in a small file under
 *    $PGDATA/fmtbank_login (no catalog access is possible before authentication completes); after
 *    fmtbank_auth.login_max_failures consecutive failures further logins are refused, even with
 *    the right password, until fmtbank_login_reset(role) (called by "fmtbank user unlock").
 *    A successful login below the limit resets the count.
 *    On a hot standby (recovery in progress) nothing is written: the counts are the primary's
 *    (product.md §15). A standby still refuses a role whose count, as copied from the primary by
 *    pg_basebackup, had reached the limit; its failed logins are logged, not counted.
 */
#include "postgres.h"

#include "commands/user.h"
#include "fmgr.h"
#include "libpq/auth.h"
#include "libpq/crypt.h"
#include "access/xlog.h"
#include "libpq/libpq-be.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

PG_MODULE_MAGIC;

#define COUNT_DIR "fmtbank_login"

void _PG_init(void);
PG_FUNCTION_INFO_V1(fmtbank_login_failures);
PG_FUNCTION_INFO_V1(fmtbank_login_reset);

static int min_length = 12;
static int max_failures = 5;
static char *owner_role = NULL;
static check_password_hook_type prev_check_password = NULL;
static ClientAuthentication_hook_type prev_client_auth = NULL;

static void
count_path(const char *role, char *buf, size_t size)
{
    /* hex of the role name: any name is a safe file name */
    size_t n = (size_t)snprintf(buf, size, "%s/" COUNT_DIR "/", DataDir);
    for (const unsigned char *p = (const unsigned char *)role; *p && n + 3 < size; p++)
        n += (size_t)snprintf(buf + n, size - n, "%02x", *p);
}

/* Reads the count, then (delta > 0) adds delta or (delta < 0) resets it, under flock. */
static int
count_update(const char *role, int delta)
{
    char dir[MAXPGPATH], path[MAXPGPATH], buf[32];
    int fd, n = 0;

    snprintf(dir, sizeof(dir), "%s/" COUNT_DIR, DataDir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return 0;
    count_path(role, path, sizeof(path));
    fd = open(path, O_RDWR | (delta != 0 ? O_CREAT : 0), 0600);
    if (fd < 0)
        return 0;
    if (flock(fd, LOCK_EX) == 0) {
        ssize_t len = read(fd, buf, sizeof(buf) - 1);
        if (len > 0) {
            buf[len] = '\0';
            n = atoi(buf);
        }
        if (delta != 0) {
            n = delta > 0 ? n + delta : 0;
            len = snprintf(buf, sizeof(buf), "%d\n", n);
            if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len)
                ereport(LOG, (errmsg("fmtbank_auth: could not write \"%s\": %m", path)));
        }
        flock(fd, LOCK_UN);
    }
    close(fd);
    return n;
}

static void
check_password(const char *username, const char *shadow_pass, PasswordType password_type,
               Datum validuntil_time, bool validuntil_null)
{
    if (prev_check_password)
        prev_check_password(username, shadow_pass, password_type, validuntil_time,
                            validuntil_null);
    if (password_type != PASSWORD_TYPE_PLAINTEXT)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("pre-hashed passwords are refused"),
                        errhint("Set passwords with \"fmtbank user password %s\".", username)));
    if ((int)strlen(shadow_pass) < min_length)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("password must have at least %d characters", min_length)));
    if (!superuser() && (owner_role == NULL ||
                         strcmp(GetUserNameFromId(GetUserId(), false), owner_role) != 0))
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("passwords are set only through \"fmtbank user password\""),
                        errdetail("It enforces the password history and expiry.")));
}

static void
client_auth(Port *port, int status)
{
    UserAuth m = port->hba ? port->hba->auth_method : uaReject;

    if (prev_client_auth)
        prev_client_auth(port, status);
    if (m != uaSCRAM && m != uaMD5 && m != uaPassword)
        return;
    if (RecoveryInProgress()) {
        /* a standby: read the primary's copied count, never write it */
        int n = count_update(port->user_name, 0);

        if (status == STATUS_ERROR)
            ereport(LOG, (errmsg("fmtbank_auth: failed login of role \"%s\" on a standby: "
                                 "not counted (the counts are kept on the primary)",
                                 port->user_name)));
        else if (status == STATUS_OK && n >= max_failures)
            ereport(FATAL,
                    (errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
                     errmsg("user \"%s\" is locked after %d failed logins", port->user_name, n),
                     errhint("An administrator unlocks it on the primary with \"fmtbank user "
                             "unlock %s\".",
                             port->user_name)));
        return;
    }
    if (status == STATUS_ERROR) {
        int n = count_update(port->user_name, 1);

        if (n >= max_failures)
            ereport(LOG, (errmsg("fmtbank_auth: role \"%s\" locked after %d failed logins",
                                 port->user_name, n)));
    } else if (status == STATUS_OK) {
        int n = count_update(port->user_name, 0);

        if (n >= max_failures)
            ereport(FATAL,
                    (errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
                     errmsg("user \"%s\" is locked after %d failed logins", port->user_name, n),
                     errhint("An administrator unlocks it with \"fmtbank user unlock %s\".",
                             port->user_name)));
        if (n > 0)
            count_update(port->user_name, -1);
    }
}

Datum
fmtbank_login_failures(PG_FUNCTION_ARGS)
{
    char *role = text_to_cstring(PG_GETARG_TEXT_PP(0));
    PG_RETURN_INT32(count_update(role, 0));
}

Datum
fmtbank_login_reset(PG_FUNCTION_ARGS)
{
    char *role = text_to_cstring(PG_GETARG_TEXT_PP(0));
    int n;

    if (RecoveryInProgress())
        ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
                        errmsg("cannot reset the failed logins of \"%s\" on a standby", role),
                        errhint("Unlock the user on the primary.")));
    n = count_update(role, 0);
    if (n > 0)
        count_update(role, -1);
    PG_RETURN_INT32(n);
}

void
_PG_init(void)
{
    DefineCustomIntVariable("fmtbank_auth.password_min_length",
                            "Shortest password accepted by ALTER ROLE ... PASSWORD.", NULL,
                            &min_length, 12, 1, 1024, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("fmtbank_auth.login_max_failures",
                            "Failed logins that lock a role until it is unlocked.", NULL,
                            &max_failures, 5, 1, 1000, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomStringVariable("fmtbank_auth.owner_role",
                               "The owner of fmtbank's user functions: the only non-superuser "
                               "that may set passwords.",
                               NULL, &owner_role, "fmtbank_owner", PGC_SIGHUP, 0, NULL, NULL,
                               NULL);
    MarkGUCPrefixReserved("fmtbank_auth");
    prev_check_password = check_password_hook;
    check_password_hook = check_password;
    prev_client_auth = ClientAuthentication_hook;
    ClientAuthentication_hook = client_auth;
}
