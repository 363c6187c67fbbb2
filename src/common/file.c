/* file.c: the whole-file reader (see file.h). */
#include "common/file.h"
#include "common/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
file_read_all(const char *path, size_t max, int flags, char **out, size_t *len,
              struct fb_error *err)
{
    struct strbuf sb = STRBUF_INIT;
    struct stat st;
    int rc = -1;
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | ((flags & FILE_READ_NOFOLLOW) ? O_NOFOLLOW : 0));
    if (fd < 0) {
        fb_error_set(err, errno == ENOENT ? FB_ERR_NOTFOUND : FB_ERR_INPUT,
                     "could not open \"%s\": %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        fb_error_set(err, FB_ERR_INPUT, "could not read \"%s\": %s", path, strerror(errno));
        goto done;
    }
    /* Not only regular files: /dev/null or a pipe (--config <(...)) read as their contents; a
     * directory fails to read (EISDIR). */
    if (max && S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max) {
        fb_error_set(err, FB_ERR_INPUT, "file is too large (%lld bytes, at most %zu)",
                     (long long)st.st_size, max);
        goto done;
    }
    /* The size is a hint (files in /proc say 0): read until the end either way. */
    strbuf_grow(&sb, S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096);
    sb.buf[0] = '\0'; /* an empty file reads as "" */
    for (;;) {
        char chunk[65536];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fb_error_set(err, FB_ERR_INPUT, "could not read \"%s\": %s", path, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        if (max && sb.len + (size_t)n > max) {
            fb_error_set(err, FB_ERR_INPUT, "file is too large (more than %zu bytes)", max);
            goto done;
        }
        strbuf_add(&sb, chunk, (size_t)n);
    }
    if (len)
        *len = sb.len;
    *out = strbuf_detach(&sb);
    rc = 0;
done:
    strbuf_release(&sb);
    close(fd);
    return rc;
}
