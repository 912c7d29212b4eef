/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A one-pass JSON scanner specialised for the extraction request. Parsing a
 * 1000-message batch with jansson builds ~5000 nodes and hash tables only to
 * read four fields of each message, and it was the largest cost of a request;
 * this scanner reads the bytes once, unescapes strings into one buffer reused
 * across requests, and allocates nothing per message.
 *
 * It is deliberately partial. It accepts only input that jansson would accept
 * and that validates; everything else, including anything it is unsure of,
 * is declined so that the one validating implementation (request.c) decides
 * and explains. So the scanner never has to produce an error message.
 */
#include "sms-extraction/request_scan.h"

#include "common/ist_date.h"

#include <stdbool.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_MAX_DEPTH 64

struct scan {
    const unsigned char *p, *end;
    char *out; /* next free byte of the text buffer */
    char *out_end;
};

/* A decoded string: NUL-terminated in the text buffer. */
struct str {
    const char *s;
    size_t len;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);

    if (!q) {
        fputs("fatal: out of memory in request scanner\n", stderr);
        abort();
    }
    return q;
}

static void skip_ws(struct scan *sc)
{
    while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\n' || *sc->p == '\r' || *sc->p == '\t'))
        sc->p++;
}

static bool eat(struct scan *sc, char c)
{
    skip_ws(sc);
    if (sc->p < sc->end && *sc->p == (unsigned char)c) {
        sc->p++;
        return true;
    }
    return false;
}

static bool literal(struct scan *sc, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
        return false;
    sc->p += n;
    return true;
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

static void put_utf8(struct scan *sc, uint32_t cp)
{
    if (cp < 0x80) {
        *sc->out++ = (char)cp;
    } else if (cp < 0x800) {
        *sc->out++ = (char)(0xC0 | (cp >> 6));
        *sc->out++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *sc->out++ = (char)(0xE0 | (cp >> 12));
        *sc->out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *sc->out++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *sc->out++ = (char)(0xF0 | (cp >> 18));
        *sc->out++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *sc->out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *sc->out++ = (char)(0x80 | (cp & 0x3F));
    }
}

/* \uXXXX (and a following low surrogate); NUL and lone surrogates decline. */
static bool unescape_u(struct scan *sc)
{
    int hi, lo;
    uint32_t cp;

    if (sc->end - sc->p < 5 || (hi = hex4(sc->p + 1)) < 0)
        return false;
    sc->p += 5;
    cp = (uint32_t)hi;
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return false;
    if (hi >= 0xD800 && hi <= 0xDBFF) {
        if (sc->end - sc->p < 6 || sc->p[0] != '\\' || sc->p[1] != 'u' ||
            (lo = hex4(sc->p + 2)) < 0 || lo < 0xDC00 || lo > 0xDFFF)
            return false;
        sc->p += 6;
        cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
    }
    if (cp == 0)
        return false;
    put_utf8(sc, cp);
    return true;
}

static bool unescape(struct scan *sc)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *hit;

    if (sc->p + 1 >= sc->end)
        return false;
    if (sc->p[1] == 'u')
        return unescape_u(sc);
    hit = memchr(from, sc->p[1], sizeof(from) - 1);
    if (!hit)
        return false;
    *sc->out++ = to[hit - from];
    sc->p += 2;
    return true;
}

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

/* A JSON string at sc->p (after whitespace), decoded into the text buffer. */
static bool read_string(struct scan *sc, struct str *out)
{
    char *start;

    skip_ws(sc);
    if (sc->p >= sc->end || *sc->p != '"')
        return false;
    sc->p++;
    start = sc->out;
    while (sc->p < sc->end) {
        const unsigned char *run = sc->p;
        size_t n;

        while (run < sc->end && *run >= 0x20 && *run < 0x80 && *run != '"' && *run != '\\')
            run++;
        memcpy(sc->out, sc->p, (size_t)(run - sc->p));
        sc->out += run - sc->p;
        sc->p = run;
        if (sc->p >= sc->end)
            return false;
        if (*sc->p == '"') {
            sc->p++;
            *sc->out++ = '\0';
            out->s = start;
            out->len = (size_t)(sc->out - start - 1);
            return true;
        }
        if (*sc->p == '\\') {
            if (!unescape(sc))
                return false;
            continue;
        }
        if (*sc->p < 0x20 || (n = utf8_len(sc->p, sc->end)) == 0)
            return false;
        memcpy(sc->out, sc->p, n);
        sc->out += n;
        sc->p += n;
    }
    return false;
}

/* A JSON number; *is_int when it has no fraction or exponent and fits in 64 bits. */
static bool read_number(struct scan *sc, long long *value, bool *is_int)
{
    const unsigned char *s = sc->p;
    bool neg = false;
    unsigned long long v = 0;
    bool overflow = false;
    size_t digits = 0;

    if (s < sc->end && *s == '-') {
        neg = true;
        s++;
    }
    if (s >= sc->end || *s < '0' || *s > '9')
        return false;
    if (*s == '0') {
        s++;
    } else {
        for (; s < sc->end && *s >= '0' && *s <= '9'; s++) {
            if (++digits > 18)
                overflow = true;
            else
                v = v * 10 + (unsigned)(*s - '0');
        }
    }
    *is_int = true;
    if (s < sc->end && *s == '.') {
        *is_int = false;
        if (++s >= sc->end || *s < '0' || *s > '9')
            return false;
        while (s < sc->end && *s >= '0' && *s <= '9')
            s++;
    }
    /* Exponents and long integers may overflow jansson's int or double, which changes
     * how it reads the whole body: leave those to the slow path. */
    if (s < sc->end && (*s == 'e' || *s == 'E'))
        return false;
    if (overflow)
        return false;
    *value = neg ? -(long long)v : (long long)v;
    sc->p = s;
    return true;
}

static bool skip_value(struct scan *sc, int depth);

static bool skip_container(struct scan *sc, int depth, char close, bool object)
{
    struct str key;

    if (depth > SCAN_MAX_DEPTH)
        return false;
    sc->p++;
    if (eat(sc, close))
        return true;
    do {
        if (object) {
            char *mark = sc->out;

            if (!read_string(sc, &key) || !eat(sc, ':'))
                return false;
            sc->out = mark; /* skipped keys need no storage */
        }
        if (!skip_value(sc, depth + 1))
            return false;
    } while (eat(sc, ','));
    return eat(sc, close);
}

static bool skip_value(struct scan *sc, int depth)
{
    struct str s;
    long long v;
    bool is_int;
    char *mark = sc->out;

    skip_ws(sc);
    if (sc->p >= sc->end)
        return false;
    switch (*sc->p) {
    case '{':
        return skip_container(sc, depth, '}', true);
    case '[':
        return skip_container(sc, depth, ']', false);
    case '"':
        if (!read_string(sc, &s))
            return false;
        sc->out = mark;
        return true;
    case 't':
        return literal(sc, "true");
    case 'f':
        return literal(sc, "false");
    case 'n':
        return literal(sc, "null");
    default:
        return read_number(sc, &v, &is_int);
    }
}

/* Characters (code points) in valid UTF-8, as pydantic counts length. */
static size_t chars(const struct str *s)
{
    size_t n = 0;

    for (size_t i = 0; i < s->len; i++)
        n += ((unsigned char)s->s[i] & 0xC0) != 0x80;
    return n;
}

static bool read_id(struct scan *sc, const char **out, size_t max_chars)
{
    struct str s;

    if (*out || !read_string(sc, &s) || chars(&s) > max_chars)
        return false;
    *out = s.s;
    return true;
}

static bool is_null(struct scan *sc)
{
    skip_ws(sc);
    return literal(sc, "null");
}

enum { SEEN_ID = 1, SEEN_SENDER = 2, SEEN_BODY = 4, SEEN_DATE = 8 };

static bool sms_id(struct scan *sc, struct request_sms *m)
{
    long long v;
    bool is_int;

    skip_ws(sc);
    if (sc->p < sc->end && *sc->p == '"')
        return read_id(sc, &m->sms_id, REQUEST_SMS_ID_MAX);
    if (!read_number(sc, &v, &is_int) || !is_int)
        return false;
    snprintf(m->id_buf, sizeof(m->id_buf), "%lld", v);
    m->sms_id = m->id_buf;
    return true;
}

static bool sms_date(struct scan *sc, struct request_sms *m)
{
    struct str s;
    long long v;
    bool is_int;
    const char *why;
    char *mark = sc->out;

    skip_ws(sc);
    if (sc->p < sc->end && *sc->p == '"') {
        if (!read_string(sc, &s) || ist_date_normalise(s.s, s.len, m->inbox_date, &why) < 0)
            return false;
        sc->out = mark; /* the normalised copy is in m */
        return true;
    }
    return read_number(sc, &v, &is_int) && is_int && ist_from_epoch(v, m->inbox_date) == 0;
}

static bool sms_field(struct scan *sc, const struct str *key, struct request_sms *m, int *seen)
{
    static const char *const names[] = {"sms_id", "sms_sender", "sms_body", "sms_inbox_date"};
    struct str s;
    int bit = 0;

    for (int i = 0; i < 4; i++)
        if (key->len == strlen(names[i]) && memcmp(key->s, names[i], key->len) == 0)
            bit = 1 << i;
    if (!bit)
        return skip_value(sc, 2);
    if (*seen & bit)
        return false; /* duplicate: let jansson's last-wins rule apply */
    *seen |= bit;
    switch (bit) {
    case SEEN_ID:
        return sms_id(sc, m);
    case SEEN_SENDER:
        if (is_null(sc))
            return true;
        if (!read_string(sc, &s))
            return false;
        m->sender = s.s;
        m->sender_len = s.len;
        return true;
    case SEEN_BODY:
        if (!read_string(sc, &s))
            return false;
        m->body = s.s;
        m->body_len = s.len;
        return true;
    default:
        return sms_date(sc, m);
    }
}

static bool read_sms(struct scan *sc, struct request_sms *m)
{
    struct str key;
    int seen = 0;

    memset(m, 0, offsetof(struct request_sms, id_buf));
    if (!eat(sc, '{'))
        return false;
    if (!eat(sc, '}')) {
        do {
            char *mark = sc->out;

            if (!read_string(sc, &key) || !eat(sc, ':'))
                return false;
            sc->out = mark;
            if (!sms_field(sc, &key, m, &seen))
                return false;
        } while (eat(sc, ','));
        if (!eat(sc, '}'))
            return false;
    }
    return (seen & (SEEN_ID | SEEN_BODY | SEEN_DATE)) == (SEEN_ID | SEEN_BODY | SEEN_DATE);
}

static bool read_sms_list(struct scan *sc, struct request *req, size_t max_sms)
{
    if (!eat(sc, '['))
        return false;
    if (eat(sc, ']'))
        return true;
    do {
        if (req->sms_count == max_sms)
            return false;
        if (req->sms_count == req->sms_cap) {
            size_t cap = req->sms_cap ? req->sms_cap * 2 : 64;

            cap = cap > max_sms ? max_sms : cap;
            req->sms = xrealloc(req->sms, cap * sizeof(*req->sms));
            req->sms_cap = cap;
        }
        if (!read_sms(sc, &req->sms[req->sms_count]))
            return false;
        req->sms_count++;
    } while (eat(sc, ','));
    return eat(sc, ']');
}

static bool top_field(struct scan *sc, const struct str *key, struct request *req, size_t max_sms,
                      const char **request_id, bool *seen_sms, bool *seen_rid)
{
    if (strcmp(key->s, "client_id") == 0)
        return read_id(sc, &req->client_id, REQUEST_ID_MAX);
    if (strcmp(key->s, "user_id") == 0)
        return read_id(sc, &req->user_id, REQUEST_ID_MAX);
    if (strcmp(key->s, "request_id") == 0) {
        if (*seen_rid)
            return false;
        *seen_rid = true;
        return is_null(sc) || read_id(sc, request_id, REQUEST_ID_MAX);
    }
    if (strcmp(key->s, "sms") == 0) {
        if (*seen_sms)
            return false;
        *seen_sms = true;
        return read_sms_list(sc, req, max_sms);
    }
    return skip_value(sc, 1);
}

int request_scan(struct request *req, const char *body, size_t len, size_t max_sms,
                 const char **request_id)
{
    struct scan sc = {(const unsigned char *)body, (const unsigned char *)body + len, NULL, NULL};
    bool seen_sms = false, seen_rid = false;
    struct str key;

    /* Decoded strings never exceed their escaped form, plus one NUL each. */
    if (req->text_cap < 2 * len + 16) {
        req->text_cap = 2 * len + 16;
        req->text = xrealloc(req->text, req->text_cap);
    }
    sc.out = req->text;
    sc.out_end = req->text + req->text_cap;
    *request_id = NULL;
    if (!eat(&sc, '{'))
        return -1;
    if (!eat(&sc, '}')) {
        do {
            if (!read_string(&sc, &key) || memchr(key.s, '\0', key.len) || !eat(&sc, ':') ||
                !top_field(&sc, &key, req, max_sms, request_id, &seen_sms, &seen_rid))
                return -1;
        } while (eat(&sc, ','));
        if (!eat(&sc, '}'))
            return -1;
    }
    skip_ws(&sc);
    if (sc.p != sc.end || !req->client_id || !req->user_id || !seen_sms)
        return -1;
    return 0;
}
