/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one place where an allocation that cannot fail, fails (see alloc.h):
 * it says so in the log, with the size asked for, and aborts so that a core
 * dump shows where. The log line is written without allocating.
 */
#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static void out_of_memory(size_t n)
{
    log_error(NULL, "out of memory", LOG_INT("bytes", (long long)n));
    abort();
}

void *alloc_bytes(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        out_of_memory(n);
    return p;
}

void *alloc_zeroed(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p)
        out_of_memory(n * size);
    return p;
}

void *alloc_resize(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        out_of_memory(n);
    return q;
}

char *alloc_strdup(const char *s)
{
    return alloc_strndup(s ? s : "", s ? strlen(s) : 0);
}

char *alloc_strndup(const char *p, size_t n)
{
    char *s = alloc_bytes(n + 1);

    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}
