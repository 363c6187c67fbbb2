/* file.h: reading a whole file into memory, the one way every module does it (report
 * definitions, the daemon's configuration, inbox files): bounded, NUL-terminated, errors in the
 * caller's struct fb_error. */
#ifndef FMTBANK_FILE_H
#define FMTBANK_FILE_H
#include "common/error.h"
#include <stddef.h>

enum file_read_flags {
    FILE_READ_NOFOLLOW = 1, /* refuse a symbolic link (files dropped into a shared directory) */
};

/* Reads the file at path (a regular file, /dev/null, a pipe: whatever reads to an end) into a
 * malloc'd buffer with a NUL after its last byte (the file itself may hold NULs: *len tells its
 * length; len may be NULL). max (0: no limit) bounds the size, checked before reading and again
 * while reading, so a file that grows meanwhile is not read without end. Returns 0, or -1 with *out
 * NULL and err set: FB_ERR_NOTFOUND "could not open "PATH": ..." when it does not exist,
 * FB_ERR_INPUT otherwise ("could not open", "file is too large (N bytes, at most MAX)", "could not
 * read", e.g. a directory). */
int file_read_all(const char *path, size_t max, int flags, char **out, size_t *len,
                  struct fb_error *err);

#endif
