/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads a whole file into memory (see file.h). The size comes from fstat,
 * so a file growing meanwhile is read up to the size seen, and a short read
 * is an error rather than a silently truncated artifact. Only regular files:
 * a directory opens fine but has no meaningful size.
 */
#include "common/file.h"

#include "common/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *file_read(const char *path, size_t max, size_t *len, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    struct stat st;
    size_t n;

    if (!f) {
        snprintf(err, err_len, "open '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0) {
        snprintf(err, err_len, "read '%s': %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "read '%s': not a regular file", path);
        goto out;
    }
    n = (size_t)st.st_size;
    if (max > 0 && n > max) {
        snprintf(err, err_len, "read '%s': larger than %zu bytes", path, max);
        goto out;
    }
    buf = alloc_bytes(n + 1);
    if (fread(buf, 1, n, f) != n) {
        snprintf(err, err_len, "read '%s': short read", path);
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
out:
    fclose(f);
    return buf;
}
