/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ASCII character classes for the extraction engine's hot loops. The engine
 * runs in the C locale, where these agree with <ctype.h>; written out they
 * cost a compare instead of a call for the locale's table per byte.
 */
#ifndef SMSX_ASCII_H
#define SMSX_ASCII_H

#include <stdbool.h>
#include <stddef.h>

static inline bool ascii_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline bool ascii_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static inline bool ascii_alpha(unsigned char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26;
}

static inline bool ascii_alnum(unsigned char c)
{
    return ascii_digit(c) || ascii_alpha(c);
}

static inline unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/*
 * s begins with the n bytes of lit (lower case, no NUL among them), ASCII case
 * ignored: what strncasecmp says in the C locale, without a library call for
 * a word of three to five letters.
 */
static inline bool ascii_starts_ci(const char *s, const char *lit, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (ascii_lower((unsigned char)s[k]) != (unsigned char)lit[k])
            return false;
    return true;
}

#endif
