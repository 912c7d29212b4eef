/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads a whole file into memory (see file.h). The size comes from seeking
 * to the end, so a file growing meanwhile is read up to the size seen, and a
 * short read is an error rather than a silently truncated artifact.
 */
#include "common/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *file_read(const char *path, size_t max, size_t *len, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f) {
        snprintf(err, err_len, "open '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, err_len, "read '%s': %s", path, strerror(errno));
        goto out;
    }
    if (max > 0 && (size_t)n > max) {
        snprintf(err, err_len, "read '%s': larger than %zu bytes", path, max);
        goto out;
    }
    buf = malloc((size_t)n + 1);
    if (!buf)
        abort();
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        snprintf(err, err_len, "read '%s': short read", path);
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
out:
    fclose(f);
    return buf;
}
