/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming JSON output for replies. Handlers build large arrays of records
 * (one per SMS) on the hot path, so this writes straight into one buffer,
 * with the escaping fast path handling runs of plain ASCII at once, and
 * keeps only a small stack of container states to place commas and check
 * that the caller's structure is well formed. The buffer has a hard cap so a
 * reply cannot grow without bound.
 */
#include "common/json_writer.h"

#include "common/alloc.h"
#include "common/json_scan.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JW_DEFAULT_MAX (16u << 20)
#define JW_INITIAL 1024

#define LVL_OBJECT 0x1
#define LVL_MEMBER 0x2
#define LVL_KEY 0x4

void json_writer_init(struct json_writer *w, size_t max_bytes)
{
    memset(w, 0, sizeof(*w));
    w->max = max_bytes ? max_bytes : JW_DEFAULT_MAX;
}

void json_writer_reset(struct json_writer *w)
{
    w->len = 0;
    w->status = JSON_WRITER_OK;
    w->depth = 0;
    w->level[0] = 0;
    w->reserved = 0;
    if (w->buf)
        w->buf[0] = '\0';
}

void json_writer_free(struct json_writer *w)
{
    size_t max = w->max;

    free(w->buf);
    json_writer_init(w, max);
}

/* Make room for n more bytes (+ NUL) when the buffer is short. Returns 0, or -1 with the sticky
 * error set. */
static int grow(struct json_writer *w, size_t n)
{
    size_t need;

    if (w->status != JSON_WRITER_OK)
        return -1;
    if (n > w->max || w->len > w->max - n) {
        w->status = JSON_WRITER_TOO_LARGE;
        return -1;
    }
    need = w->len + n + 1;
    if (need <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : JW_INITIAL;
    while (cap < need)
        cap *= 2;
    if (cap > w->max + 1)
        cap = w->max + 1;
    w->buf = alloc_resize(w->buf, cap);
    w->cap = cap;
    return 0;
}

/* Room for n more bytes (+ NUL) without growing, and no error. */
static inline bool has_room(const struct json_writer *w, size_t n)
{
    return w->status == JSON_WRITER_OK && w->cap - w->len > n && w->max - w->len >= n;
}

/* Called for every token of every record: the common case (room left) is the inline test. */
static inline void append(struct json_writer *w, const char *s, size_t n)
{
    if (!has_room(w, n) && grow(w, n) < 0)
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* Before any value: comma when needed, and structure checks. */
static int before_value(struct json_writer *w)
{
    unsigned char *lvl = &w->level[w->depth];

    if (w->status != JSON_WRITER_OK)
        return -1;
    if (*lvl & LVL_OBJECT) {
        if (!(*lvl & LVL_KEY)) {
            w->status = JSON_WRITER_MISUSE;
            return -1;
        }
        *lvl &= (unsigned char)~LVL_KEY;
        return 0;
    }
    if (w->depth == 0 && w->len > 0) {
        w->status = JSON_WRITER_MISUSE; /* a second top-level value */
        return -1;
    }
    if (*lvl & LVL_MEMBER)
        append(w, ",", 1);
    *lvl |= LVL_MEMBER;
    return w->status == JSON_WRITER_OK ? 0 : -1;
}

static void open_container(struct json_writer *w, char c, unsigned char kind)
{
    if (before_value(w) < 0)
        return;
    if (w->depth >= JSON_WRITER_MAX_DEPTH) {
        w->status = JSON_WRITER_MISUSE;
        return;
    }
    append(w, &c, 1);
    w->level[++w->depth] = kind;
}

static void close_container(struct json_writer *w, char c, unsigned char kind)
{
    unsigned char lvl = w->level[w->depth];

    if (w->status != JSON_WRITER_OK)
        return;
    if (w->depth == 0 || (lvl & LVL_OBJECT) != kind || (lvl & LVL_KEY)) {
        w->status = JSON_WRITER_MISUSE;
        return;
    }
    w->depth--;
    append(w, &c, 1);
}

void json_writer_object_begin(struct json_writer *w)
{
    open_container(w, '{', LVL_OBJECT);
}

void json_writer_object_end(struct json_writer *w)
{
    close_container(w, '}', LVL_OBJECT);
}

void json_writer_array_begin(struct json_writer *w)
{
    open_container(w, '[', 0);
}

void json_writer_array_end(struct json_writer *w)
{
    close_container(w, ']', 0);
}

/* Length of a valid UTF-8 sequence starting at s (n bytes left), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned int cp;

    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1Fu;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0Fu;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07u;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

/* c (ASCII, needing an escape) as JSON writes it, at p; returns the end. */
static char *escape_byte(char *p, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char two = 0;

    switch (c) {
    case '"':
        two = '"';
        break;
    case '\\':
        two = '\\';
        break;
    case '\n':
        two = 'n';
        break;
    case '\r':
        two = 'r';
        break;
    case '\t':
        two = 't';
        break;
    case '\b':
        two = 'b';
        break;
    case '\f':
        two = 'f';
        break;
    default:
        break;
    }
    *p++ = '\\';
    if (two) {
        *p++ = two;
        return p;
    }
    memcpy(p, "u00", 3);
    p[3] = hex[c >> 4];
    p[4] = hex[c & 15];
    return p + 5;
}

/* How many bytes at the start of s[0..len) need no escape. */
static size_t plain_prefix(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    const unsigned char *q = json_plain_ascii(s, end);

    while (q < end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
        q++;
    return (size_t)(q - s);
}

/*
 * "s" after prefix (a comma, or nothing) and before suffix (a colon, or
 * nothing), in one copy, when s needs no escape and there is room: most
 * keys and values. Returns false (nothing written) otherwise.
 */
static bool put_plain(struct json_writer *w, char prefix, const char *s, size_t len, char suffix)
{
    char *p;

    if (!has_room(w, len + 4) || plain_prefix(s, len) != len)
        return false;
    p = w->buf + w->len;
    if (prefix)
        *p++ = prefix;
    *p++ = '"';
    memcpy(p, s, len);
    p += len;
    *p++ = '"';
    if (suffix)
        *p++ = suffix;
    *p = '\0';
    w->len = (size_t)(p - w->buf);
    return true;
}

/* The bytes JSON strings carry as they are: printable ASCII but the quote and the backslash. */
static const bool PLAIN_BYTE[256] = {
    [0x20] = 1, 1, 0 /* '"' */, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1,          1, 1, /* 0x20-0x2f */
    [0x30] = 1, 1, 1,           1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1,          1, 1, /* 0x30-0x3f */
    [0x40] = 1, 1, 1,           1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1,          1, 1, /* 0x40-0x4f */
    [0x50] = 1, 1, 1,           1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* '\\' */,
    1,          1, 1, /* 0x50-0x5f */
    [0x60] = 1, 1, 1,           1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1,          1, 1, /* 0x60-0x6f */
    [0x70] = 1, 1, 1,           1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1,          1, 1, /* 0x70-0x7f */
};

/* Record values are short: plain words are copied as they are tested and the rest byte by
 * byte, with no call per run. */
char *json_put_string(char *out, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    size_t seq;

    *out++ = '"';
    while (s < end) {
        uint64_t word;

        while (end - s >= 8 && (memcpy(&word, s, 8), json_plain_word(word))) {
            memcpy(out, &word, 8);
            out += 8;
            s += 8;
        }
        while (s < end && PLAIN_BYTE[*s])
            *out++ = (char)*s++;
        if (s == end)
            break;
        if (*s < 0x80) {
            out = escape_byte(out, *s++);
        } else if ((seq = utf8_seq(s, (size_t)(end - s))) != 0) {
            memcpy(out, s, seq);
            out += seq;
            s += seq;
        } else {
            memcpy(out, "\\ufffd", 6);
            out += 6;
            s++;
        }
    }
    *out++ = '"';
    return out;
}

/* Room for n more bytes (+ NUL), growing within the cap; false (status set) when it cannot. */
static bool make_room(struct json_writer *w, size_t n)
{
    return has_room(w, n) || grow(w, n) == 0;
}

static void put_string(struct json_writer *w, const char *str, size_t len)
{
    char *aside, *end;

    if (w->status != JSON_WRITER_OK || put_plain(w, 0, str, len, 0))
        return;
    if (len + 2 > w->max - w->len || len > (SIZE_MAX - 2) / 6) { /* never fits: len + 2 at least */
        w->status = JSON_WRITER_TOO_LARGE;
        return;
    }
    if (JSON_STRING_BOUND(len) <= w->max - w->len && make_room(w, JSON_STRING_BOUND(len))) {
        end = json_put_string(w->buf + w->len, str, len);
        w->len = (size_t)(end - w->buf);
        w->buf[w->len] = '\0';
        return;
    }
    /* near the cap, where the worst case does not fit but the string may: escaped aside */
    aside = alloc_resize(NULL, JSON_STRING_BOUND(len));
    end = json_put_string(aside, str, len);
    append(w, aside, (size_t)(end - aside));
    free(aside);
}

void json_writer_key(struct json_writer *w, const char *key)
{
    json_writer_key_len(w, key, key ? strlen(key) : 0);
}

void json_writer_key_len(struct json_writer *w, const char *key, size_t len)
{
    unsigned char *lvl = &w->level[w->depth];

    if (w->status != JSON_WRITER_OK)
        return;
    if (!(*lvl & LVL_OBJECT) || (*lvl & LVL_KEY) || !key) {
        w->status = JSON_WRITER_MISUSE;
        return;
    }
    if (!put_plain(w, *lvl & LVL_MEMBER ? ',' : 0, key, len, ':')) {
        if (*lvl & LVL_MEMBER)
            append(w, ",", 1);
        put_string(w, key, len);
        append(w, ":", 1);
    }
    *lvl |= LVL_MEMBER | LVL_KEY;
}

void json_writer_string_len(struct json_writer *w, const char *s, size_t len)
{
    if (before_value(w) < 0)
        return;
    if (!s)
        append(w, "null", 4);
    else
        put_string(w, s, len);
}

void json_writer_string(struct json_writer *w, const char *s)
{
    json_writer_string_len(w, s, s ? strlen(s) : 0);
}

void json_writer_raw(struct json_writer *w, const char *json, size_t len)
{
    if (before_value(w) < 0)
        return;
    append(w, json, len);
}

/* The decimal digits of v, as "%llu" writes them, ending at end; returns where they start. */
static char *digits_of(unsigned long long v, char *end)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

/* v as "%lld" writes it, ending at end (no snprintf: records and features hold many numbers). */
static char *int_text(long long v, char *end)
{
    /* the magnitude as unsigned: -LLONG_MIN does not fit a long long */
    unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char *p = digits_of(mag, end);

    if (v < 0)
        *--p = '-';
    return p;
}

char *json_put_int(char *out, long long v)
{
    char num[24];
    char *p = int_text(v, num + sizeof(num));
    size_t n = (size_t)(num + sizeof(num) - p);

    memcpy(out, p, n);
    return out + n;
}

void json_writer_int(struct json_writer *w, long long v)
{
    char num[JSON_NUMBER_BOUND];

    json_writer_raw(w, num, (size_t)(json_put_int(num, v) - num));
}

void json_writer_uint(struct json_writer *w, unsigned long long v)
{
    char num[24];
    char *p = digits_of(v, num + sizeof(num));

    json_writer_raw(w, p, (size_t)(num + sizeof(num) - p));
}

/*
 * v in at most two decimals when it is the double nearest to such a number
 * (amounts, balances, whole counts) and below 1e13: the text "%.15g" gives
 * for it, without snprintf and strtod. Why the same: the decimal k/100 has
 * at most 15 significant digits, so "%.15g" of its nearest double prints it
 * back (DBL_DIG), in fixed notation (its exponent is between -2 and 12), and
 * reads back exactly. Returns the length, or 0 for any other value.
 */
static size_t short_decimal(double v, char out[24])
{
    char tmp[24], *end = tmp + sizeof(tmp), *p = end;
    long long k, mag, frac;

    if (!(fabs(v) < 1e13) || (v == 0 && signbit(v)))
        return 0;
    k = llround(v * 100.0);
    if ((double)k / 100.0 != v)
        return 0;
    mag = k < 0 ? -k : k;
    frac = mag % 100;
    if (frac % 10)
        *--p = (char)('0' + frac % 10);
    if (frac) {
        *--p = (char)('0' + frac / 10);
        *--p = '.';
    }
    p = digits_of((unsigned long long)(mag / 100), p);
    if (k < 0)
        *--p = '-';
    memcpy(out, p, (size_t)(end - p));
    return (size_t)(end - p);
}

char *json_put_double(char *out, double v)
{
    char num[JSON_NUMBER_BOUND];
    int n;

    if (!isfinite(v)) {
        memcpy(out, "null", 4);
        return out + 4;
    }
    n = (int)short_decimal(v, out);
    if (n > 0)
        return out + n;
    /* shortest of %.15g / %.17g that reads back exactly */
    n = snprintf(num, sizeof(num), "%.15g", v);
    if (strtod(num, NULL) != v)
        n = snprintf(num, sizeof(num), "%.17g", v);
    memcpy(out, num, (size_t)n);
    return out + n;
}

void json_writer_double(struct json_writer *w, double v)
{
    char num[JSON_NUMBER_BOUND];

    json_writer_raw(w, num, (size_t)(json_put_double(num, v) - num));
}

char *json_writer_value_reserve(struct json_writer *w, size_t n)
{
    if (before_value(w) < 0 || !make_room(w, n))
        return NULL;
    w->reserved = n;
    return w->buf + w->len;
}

void json_writer_value_commit(struct json_writer *w, const char *end)
{
    size_t n;

    if (w->status != JSON_WRITER_OK)
        return;
    n = (size_t)(end - (w->buf + w->len));
    if (end < w->buf + w->len || n > w->reserved) { /* wrote outside what it reserved */
        w->status = JSON_WRITER_MISUSE;
        return;
    }
    w->len += n;
    w->buf[w->len] = '\0';
    w->reserved = 0;
}

void json_writer_bool(struct json_writer *w, bool v)
{
    if (v)
        json_writer_raw(w, "true", 4);
    else
        json_writer_raw(w, "false", 5);
}

void json_writer_null(struct json_writer *w)
{
    json_writer_raw(w, "null", 4);
}

void json_writer_kv_string(struct json_writer *w, const char *key, const char *s)
{
    json_writer_key(w, key);
    json_writer_string(w, s);
}

void json_writer_kv_int(struct json_writer *w, const char *key, long long v)
{
    json_writer_key(w, key);
    json_writer_int(w, v);
}

void json_writer_kv_double(struct json_writer *w, const char *key, double v)
{
    json_writer_key(w, key);
    json_writer_double(w, v);
}

void json_writer_kv_bool(struct json_writer *w, const char *key, bool v)
{
    json_writer_key(w, key);
    json_writer_bool(w, v);
}

void json_writer_kv_null(struct json_writer *w, const char *key)
{
    json_writer_key(w, key);
    json_writer_null(w);
}

bool json_writer_ok(const struct json_writer *w)
{
    return w->status == JSON_WRITER_OK && w->depth == 0 && w->len > 0;
}

enum json_writer_status json_writer_status(const struct json_writer *w)
{
    return w->status;
}

const char *json_writer_data(const struct json_writer *w, size_t *len)
{
    if (len)
        *len = w->len;
    return w->buf ? w->buf : "";
}

char *json_writer_take(struct json_writer *w, size_t *len)
{
    char *out = w->buf;
    size_t max = w->max;

    if (!out) {
        out = alloc_resize(NULL, 1);
        out[0] = '\0';
    }
    if (len)
        *len = w->len;
    json_writer_init(w, max);
    return out;
}
