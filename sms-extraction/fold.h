/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Look-alike folding (see fold.c): mathematical and fullwidth letters and
 * digits, Cyrillic and Greek letters that look Latin, typographic spaces,
 * dashes and quotes written as the ASCII they stand for; zero-width marks
 * dropped. The folded text is never longer than the original.
 */
#ifndef SMSX_FOLD_H
#define SMSX_FOLD_H

#include <stdbool.h>
#include <stddef.h>

/* The text has a byte outside ASCII (only then can folding change it). */
bool fold_needed(const char *text, size_t len);

/* Fold text[0, len) into out (room for len bytes); returns the folded length. */
size_t fold_lookalikes(const char *text, size_t len, char *out);

#endif
