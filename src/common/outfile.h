/* outfile.h: writing an output file the user named (labels, reports): only ever a regular file.
 * The target is never opened for writing: the content goes to a new temporary file beside it
 * (same directory, O_EXCL) that is renamed over the target when complete. A target that exists
 * and is not a regular file (a symbolic link, a FIFO, a device node, a socket, a directory) is
 * refused before anything is written, and again just before the rename; a symbolic link is never
 * followed. */
#ifndef FMTBANK_OUTFILE_H
#define FMTBANK_OUTFILE_H
#include "common/error.h"
#include <stddef.h>

/* 0 when path does not exist or is a regular file, else -1 with err set (FB_ERR_INPUT). */
int outfile_check(const char *path, struct fb_error *err);
/* After outfile_check: a new empty temporary file beside path with the usual mode (0666 less the
 * umask). Returns its name (caller frees) and, when fd is not NULL, an open descriptor on it; NULL
 * with err set (FB_ERR_NOTFOUND when the directory does not exist, else FB_ERR_INPUT). */
char *outfile_temp(const char *path, int *fd, struct fb_error *err);
/* Writes all of data to fd. 0, or -1 with errno. */
int outfile_write_all(int fd, const void *data, size_t len);
/* fsyncs tmp, checks path again and renames tmp over it. 0, or -1 with err set (tmp removed). */
int outfile_commit(const char *tmp, const char *path, struct fb_error *err);
/* Removes an unfinished temporary file (NULL is fine). */
void outfile_drop(const char *tmp);

#endif
