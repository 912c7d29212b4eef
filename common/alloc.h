/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Memory that must be had. Every buffer, queue and table of the project has
 * a cap fixed from configuration, so running out of memory below those caps
 * is a broken machine, not an input: these helpers log one "out of memory"
 * line naming the size and abort, in this one place, instead of every file
 * carrying its own copy of the check (style rule 8).
 *
 * Use them where failure cannot be answered; where it can (a request that
 * may be refused), call malloc and handle NULL.
 */
#ifndef COMMON_ALLOC_H
#define COMMON_ALLOC_H

#include <stddef.h>

/* malloc(n); never NULL (n == 0 gives a unique pointer). */
void *alloc_bytes(size_t n) __attribute__((malloc, returns_nonnull));

/* calloc(n, size); never NULL. */
void *alloc_zeroed(size_t n, size_t size) __attribute__((malloc, returns_nonnull));

/* realloc(p, n); never NULL (p is then freed by realloc's contract or reused). */
void *alloc_resize(void *p, size_t n) __attribute__((returns_nonnull));

/* strdup(s); NULL s gives "". */
char *alloc_strdup(const char *s) __attribute__((malloc, returns_nonnull));

/* A NUL-terminated copy of p[0..n). */
char *alloc_strndup(const char *p, size_t n) __attribute__((malloc, returns_nonnull));

#endif
