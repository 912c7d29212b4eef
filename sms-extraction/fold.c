/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Look-alike folding: the characters that only dress up ASCII text are
 * written back as ASCII before the patterns see the body. Banks and apps
 * print mathematical sans-serif or bold letters ("𝗥𝘀 500 𝗱𝗲𝗯𝗶𝘁𝗲𝗱"),
 * fullwidth digits, non-breaking and thin spaces, typographic dashes and
 * quotes; spam filters and phone keyboards add Cyrillic or Greek letters that
 * look Latin and zero-width marks. A pattern written for "debited" matches
 * none of them, so they are folded here, once, into a copy the record's
 * values are then taken from (the party of such a message is its ASCII
 * text). Everything else (the rupee sign, Devanagari, emoji) is kept as is.
 */
#include "sms-extraction/fold.h"

#include <stdint.h>
#include <string.h>

/* Code points folded to one ASCII byte (0 = dropped), sorted by code point. */
static const struct {
    uint32_t cp;
    char to;
} single[] = {
    {0x00A0, ' '},  {0x00AD, 0},    {0x0391, 'A'},  {0x0392, 'B'},  {0x0395, 'E'}, {0x0396, 'Z'},
    {0x0397, 'H'},  {0x0399, 'I'},  {0x039A, 'K'},  {0x039C, 'M'},  {0x039D, 'N'}, {0x039F, 'O'},
    {0x03A1, 'P'},  {0x03A4, 'T'},  {0x03A5, 'Y'},  {0x03A7, 'X'},  {0x03BF, 'o'}, {0x0405, 'S'},
    {0x0406, 'I'},  {0x0408, 'J'},  {0x0410, 'A'},  {0x0412, 'B'},  {0x0415, 'E'}, {0x041A, 'K'},
    {0x041C, 'M'},  {0x041D, 'H'},  {0x041E, 'O'},  {0x0420, 'P'},  {0x0421, 'C'}, {0x0422, 'T'},
    {0x0425, 'X'},  {0x0430, 'a'},  {0x0435, 'e'},  {0x043E, 'o'},  {0x0440, 'p'}, {0x0441, 'c'},
    {0x0443, 'y'},  {0x0445, 'x'},  {0x0455, 's'},  {0x0456, 'i'},  {0x0458, 'j'}, {0x0501, 'd'},
    {0x2010, '-'},  {0x2011, '-'},  {0x2012, '-'},  {0x2013, '-'},  {0x2014, '-'}, {0x2015, '-'},
    {0x2018, '\''}, {0x2019, '\''}, {0x201A, '\''}, {0x201B, '\''}, {0x201C, '"'}, {0x201D, '"'},
    {0x201E, '"'},  {0x201F, '"'},  {0x2024, '.'},  {0x2032, '\''}, {0x2033, '"'}, {0x2060, 0},
    {0x2102, 'C'},  {0x210A, 'g'},  {0x210B, 'H'},  {0x210C, 'H'},  {0x210D, 'H'}, {0x210E, 'h'},
    {0x2110, 'I'},  {0x2111, 'I'},  {0x2112, 'L'},  {0x2115, 'N'},  {0x2119, 'P'}, {0x211A, 'Q'},
    {0x211B, 'R'},  {0x211C, 'R'},  {0x211D, 'R'},  {0x2124, 'Z'},  {0x2128, 'Z'}, {0x212C, 'B'},
    {0x212D, 'C'},  {0x212F, 'e'},  {0x2130, 'E'},  {0x2131, 'F'},  {0x2133, 'M'}, {0x2134, 'o'},
    {0x2212, '-'},  {0xFE58, '-'},  {0xFE63, '-'},  {0xFEFF, 0},
};

/* The ASCII byte for code point cp, 0 to drop it, -1 to keep it as it is. */
static int fold_cp(uint32_t cp)
{
    if ((cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F || cp == 0x3000)
        return ' ';
    if (cp >= 0x200B && cp <= 0x200D)
        return 0;
    if (cp >= 0xFF01 && cp <= 0xFF5E) /* fullwidth forms */
        return (int)(cp - 0xFF01 + 0x21);
    if (cp >= 0x1D400 && cp <= 0x1D6A3) { /* mathematical letters: 13 styles of A-Z a-z */
        uint32_t i = (cp - 0x1D400) % 52;
        return i < 26 ? (int)('A' + i) : (int)('a' + i - 26);
    }
    if (cp == 0x1D6A4 || cp == 0x1D6A5)
        return cp == 0x1D6A4 ? 'i' : 'j';
    if (cp >= 0x1D7CE && cp <= 0x1D7FF) /* mathematical digits: 5 styles of 0-9 */
        return (int)('0' + (cp - 0x1D7CE) % 10);
    size_t lo = 0, hi = sizeof(single) / sizeof(single[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (single[mid].cp == cp)
            return (unsigned char)single[mid].to;
        if (single[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* One UTF-8 sequence at s (n bytes left): its code point and length, or length 1 when broken. */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;
    if (len == 1 || len > n) {
        *cp = s[0];
        return 1;
    }
    uint32_t v = s[0] & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = s[0];
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return len;
}

bool fold_needed(const char *text, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) { /* eight bytes at a time: any high bit set */
        uint64_t w;
        memcpy(&w, text + i, 8);
        if (w & UINT64_C(0x8080808080808080))
            return true;
    }
    for (; i < len; i++)
        if ((unsigned char)text[i] >= 0x80)
            return true;
    return false;
}

size_t fold_lookalikes(const char *text, size_t len, char *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x80) {
            out[n++] = (char)s[i++];
            continue;
        }
        uint32_t cp;
        size_t k = decode(s + i, len - i, &cp);
        int to = k > 1 ? fold_cp(cp) : -1;
        if (cp == 0x20A8) { /* the old rupee sign, as the word banks write */
            memcpy(out + n, "Rs", 2);
            n += 2;
        } else if (to < 0) {
            memcpy(out + n, s + i, k);
            n += k;
        } else if (to > 0) {
            out[n++] = (char)to;
        }
        i += k;
    }
    return n;
}
