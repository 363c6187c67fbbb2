/* signals.c: the daemon's signal handlers only set flags; the loop looks at them between units of
 * work. Waiting uses pselect() with the signals blocked until the wait itself, so a signal that
 * arrives just before it cannot be slept through. */
#include "daemon/daemon.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/select.h>

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t reload_flag;

static void
on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void
on_reload(int sig)
{
    (void)sig;
    reload_flag = 1;
}

void
signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    /* SA_RESTART: file and libpq I/O carry on; pselect() is interrupted regardless. */
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_reload;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

bool
signals_stop_requested(void)
{
    return stop_flag != 0;
}

bool
signals_take_reload(void)
{
    if (!reload_flag)
        return false;
    reload_flag = 0;
    return true;
}

int
signals_wait(int fd, double timeout)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    int ready = 0;
    /* A flag set before the block is seen here; one arriving later interrupts pselect(). */
    if (!stop_flag && !reload_flag) {
        if (timeout < 0)
            timeout = 0;
        struct timespec ts = {(time_t)timeout,
                              (long)((timeout - floor(timeout)) * 1e9)};
        fd_set rfds;
        FD_ZERO(&rfds);
        if (fd >= 0)
            FD_SET(fd, &rfds);
        int n = pselect(fd >= 0 ? fd + 1 : 0, &rfds, NULL, NULL, &ts, &old);
        ready = n > 0 && fd >= 0 && FD_ISSET(fd, &rfds);
    }
    int saved = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return ready;
}
