/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The local spool that keeps usage and dump rows while PostgreSQL is down:
 * an append-only file of JSON lines plus a small sidecar holding how far it
 * has been replayed. Only the writer thread touches it.
 *
 * Durability is per batch: a batch of lines is written and fdatasync'd
 * once, and the replay offset is saved (and synced) after each batch
 * PostgreSQL committed. A crash can therefore replay at most one batch
 * twice; the dump inserts ignore duplicates, usage rows of that batch may
 * be counted twice (documented in docs/database.md). A torn last line left
 * by a crash is terminated on open and skipped (counted) on replay.
 *
 * The file is bounded by max_bytes: a row that does not fit is not written
 * and the caller counts it as dropped. Once everything is replayed the file
 * is truncated to zero.
 */
#include "insights-api/store_impl.h"

#include "common/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

static off_t read_offset(const char *path)
{
    char buf[32] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    long long v;
    char *end;

    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    v = strtoll(buf, &end, 10);
    return v > 0 ? (off_t)v : 0;
}

static int save_offset(const struct store_spool *sp, char *err, size_t err_len)
{
    char buf[32];
    int fd, n, rc = -1;

    fd = open(sp->offset_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto fail;
    n = snprintf(buf, sizeof(buf), "%lld\n", (long long)sp->offset);
    if (write_all(fd, buf, (size_t)n) == 0 && fdatasync(fd) == 0)
        rc = 0;
    close(fd);
    if (rc == 0)
        return 0;
fail:
    snprintf(err, err_len, "spool offset '%s': %s", sp->offset_path, strerror(errno));
    return -1;
}

/* Terminates a torn last line so the next append starts on a line of its own. */
static int fix_tail(struct store_spool *sp)
{
    char c;

    if (sp->size == 0)
        return 0;
    if (pread(sp->fd, &c, 1, sp->size - 1) != 1)
        return -1;
    if (c == '\n')
        return 0;
    if (write_all(sp->fd, "\n", 1) < 0)
        return -1;
    sp->size++;
    return 0;
}

int store_spool_open(struct store_spool *sp, const char *path, size_t max_bytes, char *err,
                     size_t err_len)
{
    struct stat st;

    memset(sp, 0, sizeof(*sp));
    sp->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (sp->fd < 0 || fstat(sp->fd, &st) < 0) {
        snprintf(err, err_len, "spool '%s': %s", path, strerror(errno));
        if (sp->fd >= 0)
            close(sp->fd);
        sp->fd = -1;
        return -1;
    }
    sp->path = alloc_strdup(path);
    sp->offset_path = alloc_bytes(strlen(path) + sizeof(".offset"));
    snprintf(sp->offset_path, strlen(path) + sizeof(".offset"), "%s.offset", path);
    sp->size = st.st_size;
    sp->max_bytes = max_bytes;
    sp->offset = read_offset(sp->offset_path);
    if (sp->offset > sp->size)
        sp->offset = 0; /* the sidecar belongs to an older file: replay it all */
    if (fix_tail(sp) < 0) {
        snprintf(err, err_len, "spool '%s': %s", path, strerror(errno));
        store_spool_close(sp);
        return -1;
    }
    return 0;
}

void store_spool_close(struct store_spool *sp)
{
    if (sp->fd >= 0)
        close(sp->fd);
    sp->fd = -1;
    free(sp->path);
    free(sp->offset_path);
    sp->path = sp->offset_path = NULL;
}

bool store_spool_pending(const struct store_spool *sp)
{
    return sp->fd >= 0 && sp->offset < sp->size;
}

int store_spool_append(struct store_spool *sp, const struct store_row *rows, size_t *dropped,
                       char *err, size_t err_len)
{
    off_t size = sp->size;
    int written = 0;

    *dropped = 0;
    for (const struct store_row *r = rows; r; r = r->next) {
        size_t len = 0;
        char *line = store_row_encode(r, &len);

        if (!line || (size_t)size + len + 1 > sp->max_bytes) {
            free(line);
            (*dropped)++;
            continue;
        }
        line[len] = '\n'; /* replaces the NUL; len + 1 bytes written */
        if (write_all(sp->fd, line, len + 1) < 0) {
            free(line);
            goto fail;
        }
        free(line);
        size += (off_t)len + 1;
        written++;
    }
    if (written > 0 && fdatasync(sp->fd) < 0)
        goto fail;
    sp->size = size;
    return written;
fail:
    snprintf(err, err_len, "spool '%s': %s", sp->path, strerror(errno));
    /* Whatever reached the file may be torn: drop the partial tail. */
    if (ftruncate(sp->fd, sp->size) < 0)
        sp->size = lseek(sp->fd, 0, SEEK_END);
    return -1;
}

struct store_row *store_spool_read(struct store_spool *sp, size_t max, off_t *next, size_t *bad)
{
    struct store_row *head = NULL, **tail = &head;
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0, n = 0;
    off_t pos = sp->offset;
    ssize_t len;
    int fd;

    *next = sp->offset;
    *bad = 0;
    if (!store_spool_pending(sp))
        return NULL;
    fd = open(sp->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || !(f = fdopen(fd, "r"))) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (fseeko(f, pos, SEEK_SET) != 0)
        goto out;
    while (n < max && pos < sp->size && (len = getline(&line, &cap, f)) > 0) {
        struct store_row *r;

        pos += len;
        if (line[len - 1] == '\n')
            len--;
        if (len == 0)
            continue;
        r = store_row_decode(line, (size_t)len);
        if (!r) {
            (*bad)++;
            continue;
        }
        *tail = r;
        tail = &r->next;
        n++;
    }
    *next = pos;
out:
    free(line);
    fclose(f);
    return head;
}

int store_spool_commit(struct store_spool *sp, off_t next, char *err, size_t err_len)
{
    sp->offset = next;
    if (sp->offset >= sp->size) {
        if (ftruncate(sp->fd, 0) < 0) {
            snprintf(err, err_len, "spool '%s': %s", sp->path, strerror(errno));
            return -1;
        }
        sp->size = 0;
        sp->offset = 0;
    }
    return save_offset(sp, err, err_len);
}
