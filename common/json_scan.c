/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON scanner both big documents are read with (see json_scan.h):
 * white space, literals, strings (in place, or unescaped into the output
 * area), numbers by the RFC 8259 grammar, and skipping values. Hot loops
 * look at plain ASCII runs first; everything unusual takes the slow path or
 * fails.
 */
#include "common/json_scan.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

#define NUMBER_TOKEN_MAX 63 /* longer numbers are left to jansson */

void json_scan_init(struct json_scan *s, const char *text, size_t len)
{
    s->p = (const unsigned char *)text;
    s->end = s->p + len;
    s->out = s->out_end = NULL;
    s->owned = NULL;
}

void json_scan_init_out(struct json_scan *s, const char *text, size_t len, char *out, size_t cap)
{
    json_scan_init(s, text, len);
    s->out = out;
    s->out_end = out + cap;
}

void json_scan_free(struct json_scan *s)
{
    free(s->owned);
    s->owned = NULL;
}

bool json_scan_done(struct json_scan *s)
{
    json_scan_ws(s);
    return s->p == s->end;
}

/* ------------------------------------------------------------ strings */

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    size_t n;
    uint32_t cp;

    if (p[0] < 0xC2 || p[0] > 0xF4)
        return 0;
    n = p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
    if ((size_t)(end - p) < n)
        return 0;
    cp = p[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* The end of the run at q of bytes that stand for themselves: printable ASCII but '"' and
 * '\\', and valid UTF-8. Stops at anything else (the caller looks at it), or returns NULL on
 * invalid UTF-8. */
static const unsigned char *plain_run(const unsigned char *q, const unsigned char *end)
{
    for (;;) {
        q = json_plain_ascii(q, end);
        while (q < end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
            q++;
        if (q >= end || *q < 0x80)
            return q;
        size_t n = utf8_len(q, end);
        if (n == 0)
            return NULL;
        q += n;
    }
}

static int hex4(const unsigned char *p)
{
    int v = 0;

    for (int i = 0; i < 4; i++) {
        int c = p[i], d;

        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static void put_utf8(struct json_scan *s, uint32_t cp)
{
    if (cp < 0x80) {
        *s->out++ = (char)cp;
    } else if (cp < 0x800) {
        *s->out++ = (char)(0xC0 | (cp >> 6));
        *s->out++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *s->out++ = (char)(0xE0 | (cp >> 12));
        *s->out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *s->out++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *s->out++ = (char)(0xF0 | (cp >> 18));
        *s->out++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *s->out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *s->out++ = (char)(0x80 | (cp & 0x3F));
    }
}

/* \uXXXX at s->p (and a following low surrogate); NUL and lone surrogates fail. */
static bool unescape_u(struct json_scan *s)
{
    int hi, lo;
    uint32_t cp;

    if (s->end - s->p < 6 || (hi = hex4(s->p + 2)) < 0)
        return false;
    s->p += 6;
    cp = (uint32_t)hi;
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return false;
    if (hi >= 0xD800 && hi <= 0xDBFF) {
        if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' || (lo = hex4(s->p + 2)) < 0 ||
            lo < 0xDC00 || lo > 0xDFFF)
            return false;
        s->p += 6;
        cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
    }
    if (cp == 0)
        return false;
    put_utf8(s, cp);
    return true;
}

/* The escape at s->p (a backslash), decoded into the output area. */
static bool unescape(struct json_scan *s)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *hit;

    if (s->p + 1 >= s->end)
        return false;
    if (s->p[1] == 'u')
        return unescape_u(s);
    hit = memchr(from, s->p[1], sizeof(from) - 1);
    if (!hit)
        return false;
    *s->out++ = to[hit - from];
    s->p += 2;
    return true;
}

/* An output area for the rest of the input from from, made on the first string that needs one
 * (decoded text is never longer than its source, plus a NUL per string). */
static void need_out(struct json_scan *s, const unsigned char *from)
{
    size_t cap;

    if (s->out)
        return;
    cap = 2 * (size_t)(s->end - from) + 16;
    s->owned = alloc_bytes(cap);
    s->out = s->owned;
    s->out_end = s->owned + cap;
}

/* The string whose text starts at start, s->p on its first byte to decode. */
static bool decode(struct json_scan *s, const unsigned char *start, const char **str, size_t *len)
{
    char *begin;

    need_out(s, start);
    begin = s->out;
    memcpy(s->out, start, (size_t)(s->p - start));
    s->out += s->p - start;
    for (;;) {
        const unsigned char *run = plain_run(s->p, s->end);

        if (!run)
            return false;
        memcpy(s->out, s->p, (size_t)(run - s->p));
        s->out += run - s->p;
        s->p = run;
        if (s->p >= s->end || *s->p < 0x20)
            return false;
        if (*s->p == '"')
            break;
        if (!unescape(s))
            return false;
    }
    s->p++;
    *s->out++ = '\0';
    *str = begin;
    *len = (size_t)(s->out - begin - 1);
    return true;
}

bool json_scan_string(struct json_scan *s, bool copy, const char **str, size_t *len)
{
    const unsigned char *start, *q;

    json_scan_ws(s);
    if (s->p >= s->end || *s->p != '"')
        return false;
    start = s->p + 1;
    q = plain_run(start, s->end);
    if (!q || q >= s->end || *q < 0x20)
        return false;
    if (*q == '"') { /* no escape: in place, or one copy */
        s->p = q + 1;
        *len = (size_t)(q - start);
        if (!copy) {
            *str = (const char *)start;
            return true;
        }
        need_out(s, start);
        memcpy(s->out, start, *len);
        s->out[*len] = '\0';
        *str = s->out;
        s->out += *len + 1;
        return true;
    }
    s->p = q;
    return decode(s, start, str, len);
}

/* ------------------------------------------------------------ numbers */

static bool digit(const unsigned char *q, const unsigned char *end)
{
    return q < end && *q >= '0' && *q <= '9';
}

/* The digits at q; false when there is none. */
static bool digits(const unsigned char **q, const unsigned char *end)
{
    if (!digit(*q, end))
        return false;
    while (digit(*q, end))
        (*q)++;
    return true;
}

/* The integer part at *q ("0" or no leading zero): its value, and whether it has more
 * than 18 digits. */
static bool integer_part(const unsigned char **q, const unsigned char *end, unsigned long long *v,
                         bool *big)
{
    int n = 0;

    *v = 0;
    *big = false;
    if (!digit(*q, end))
        return false;
    if (**q == '0') {
        (*q)++;
        return true;
    }
    for (; digit(*q, end); (*q)++) {
        if (++n > 18)
            *big = true;
        else
            *v = *v * 10 + (unsigned)(**q - '0');
    }
    return true;
}

/* strtod of the token s->p..q, which the grammar above has checked. */
static bool token_value(const struct json_scan *s, const unsigned char *q, double *value)
{
    char token[NUMBER_TOKEN_MAX + 1];
    size_t tlen = (size_t)(q - s->p);

    if (tlen > NUMBER_TOKEN_MAX)
        return false;
    memcpy(token, s->p, tlen);
    token[tlen] = '\0';
    *value = strtod(token, NULL);
    return isfinite(*value);
}

bool json_scan_number(struct json_scan *s, bool want_value, struct json_scan_num *n)
{
    const unsigned char *q = s->p;
    bool neg = q < s->end && *q == '-', frac = false, exp = false, big;
    unsigned long long v;

    q += neg;
    if (!integer_part(&q, s->end, &v, &big))
        return false;
    if (q < s->end && *q == '.') {
        frac = true;
        q++;
        if (!digits(&q, s->end))
            return false;
    }
    if (q < s->end && (*q == 'e' || *q == 'E')) {
        exp = true;
        q++;
        if (q < s->end && (*q == '+' || *q == '-'))
            q++;
        if (!digits(&q, s->end))
            return false;
    }
    n->is_int = !frac && !exp && !big;
    n->exponent = exp || big;
    n->integer = neg ? -(long long)v : (long long)v;
    if (want_value && !token_value(s, q, &n->value))
        return false;
    s->p = q;
    return true;
}

/* ------------------------------------------------------------ skipping */

static bool skip_container(struct json_scan *s, int depth, char close, bool object)
{
    const char *str;
    size_t len;

    if (depth <= 0)
        return false;
    s->p++;
    if (json_scan_eat(s, close))
        return true;
    do {
        if (object && (!json_scan_string(s, false, &str, &len) || !json_scan_eat(s, ':')))
            return false;
        if (!json_scan_skip(s, depth - 1))
            return false;
    } while (json_scan_eat(s, ','));
    return json_scan_eat(s, close);
}

bool json_scan_skip(struct json_scan *s, int depth)
{
    struct json_scan_num n;
    char *mark = s->out;
    const char *str;
    size_t len;
    bool ok;

    json_scan_ws(s);
    if (s->p >= s->end)
        return false;
    switch (*s->p) {
    case '{':
        ok = skip_container(s, depth, '}', true);
        break;
    case '[':
        ok = skip_container(s, depth, ']', false);
        break;
    case '"':
        ok = json_scan_string(s, false, &str, &len);
        break;
    case 't':
        return json_scan_literal(s, "true");
    case 'f':
        return json_scan_literal(s, "false");
    case 'n':
        return json_scan_literal(s, "null");
    default:
        /* numbers a double or a long long may not hold change how jansson reads the whole
         * document: left to it */
        return json_scan_number(s, false, &n) && !n.exponent;
    }
    if (mark)
        s->out = mark; /* skipped strings need no storage */
    return ok;
}
