/* outfile.c: output files are regular files, written whole beside the target and renamed. */
#include "common/outfile.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *
kind_of(mode_t m)
{
    if (S_ISLNK(m))
        return "a symbolic link";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISDIR(m))
        return "a directory";
    return "not a regular file";
}

int
outfile_check(const char *path, struct fb_error *err)
{
    /* O_PATH opens nothing (no FIFO blocks, no device is touched); O_NOFOLLOW gives the link. */
    int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        fb_error_set(err, errno == ENOTDIR ? FB_ERR_NOTFOUND : FB_ERR_INPUT,
                     "could not create \"%s\": %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = fstat(fd, &st);
    close(fd);
    if (rc != 0) {
        fb_error_set(err, FB_ERR_INPUT, "could not create \"%s\": %s", path, strerror(errno));
        return -1;
    }
    if (S_ISREG(st.st_mode))
        return 0;
    fb_error_set(err, FB_ERR_INPUT, "refusing to write \"%s\": it is %s, not a regular file", path,
                 kind_of(st.st_mode));
    fb_error_hint(err, "Name a new file or a regular file to replace.");
    return -1;
}

char *
outfile_temp(const char *path, int *fdp, struct fb_error *err)
{
    if (fdp)
        *fdp = -1;
    if (outfile_check(path, err) < 0)
        return NULL;
    char *copy1 = xstrdup(path), *copy2 = xstrdup(path);
    char *tmp = xasprintf("%s/.%s.XXXXXX", dirname(copy1), basename(copy2));
    free(copy1);
    free(copy2);
    int fd = mkstemp(tmp); /* O_CREAT | O_EXCL: a new file, never an existing one */
    if (fd < 0) {
        fb_error_set(err, errno == ENOENT ? FB_ERR_NOTFOUND : FB_ERR_INPUT,
                     "could not create \"%s\": %s", path, strerror(errno));
        free(tmp);
        return NULL;
    }
    /* mkstemp makes it 0600; the finished file gets the usual mode (0666 less the umask). */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) < 0) {
        fb_error_set(err, FB_ERR_INPUT, "could not create \"%s\": %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return NULL;
    }
    if (fdp)
        *fdp = fd;
    else
        close(fd);
    return tmp;
}

int
outfile_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int
outfile_commit(const char *tmp, const char *path, struct fb_error *err)
{
    int fd = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        fb_error_set(err, FB_ERR_INPUT, "could not write \"%s\": %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    /* Checked again: rename would replace a FIFO or device node put there meanwhile. */
    if (outfile_check(path, err) < 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        fb_error_set(err, FB_ERR_INPUT, "could not write \"%s\": %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    char *copy = xstrdup(path);
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* best effort: the rename itself is durable enough */
        fsync(dfd);
        close(dfd);
    }
    free(copy);
    return 0;
}

void
outfile_drop(const char *tmp)
{
    if (tmp)
        unlink(tmp);
}
