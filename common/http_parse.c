/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The strict request-head parser and chunked decoder of common/http_server
 * (the rules and the reasons are in http_parse.h). Written from RFC 9112's
 * grammar: request-line, field-line, the framing rules of section 6 and
 * chunked transfer coding of section 7.1. Each function looks at one
 * grammar rule; nothing here allocates, logs or knows about sockets, so the
 * whole file is driven by a table-driven unit test and a libFuzzer target.
 */
#include "common/http_parse.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---------- character classes (RFC 9110 section 5.6.2, 5.5) ---------- */

static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Visible ASCII, the only bytes a request target may hold (others are percent-encoded). */
static bool is_target_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '#';
}

/* field-vchar: visible ASCII or obs-text (bytes >= 0x80: not UTF-8 checked here). */
static bool is_field_vchar(unsigned char c)
{
    return (c > 0x20 && c < 0x7f) || c >= 0x80;
}

static bool is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---------- finding the end of the head ---------- */

static enum http_parse_result scan_bad(const char **reason, const char *why)
{
    if (reason)
        *reason = why;
    return HTTP_PARSE_BAD;
}

/* One line ended at buf[i] ('\n'); returns OK when it was the empty line that ends the head. */
static enum http_parse_result scan_line_end(struct http_scan *s, size_t i, size_t *head_len,
                                            const char **reason)
{
    if (i - 1 != s->line_start) {
        s->line_start = i + 1;
        return HTTP_PARSE_INCOMPLETE;
    }
    if (s->line_start == s->start) {
        /* RFC 9112 2.2: empty lines before the request line are tolerated (a few) */
        if (++s->empty_lines > HTTP_PARSE_MAX_EMPTY_LINES)
            return scan_bad(reason, "too many empty lines before the request line");
        s->start = s->line_start = i + 1;
        return HTTP_PARSE_INCOMPLETE;
    }
    *head_len = i + 1 - s->start;
    return HTTP_PARSE_OK;
}

enum http_parse_result http_head_scan(struct http_scan *s, const char *buf, size_t len,
                                      size_t *head_len, const char **reason)
{
    for (size_t i = s->pos; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        bool after_cr = i > 0 && buf[i - 1] == '\r';

        if (after_cr && c != '\n')
            return scan_bad(reason, "CR not followed by LF in the request head");
        if (c == '\0')
            return scan_bad(reason, "NUL byte in the request head");
        if (c != '\n')
            continue;
        if (!after_cr)
            return scan_bad(reason, "line not ending in CRLF in the request head");
        enum http_parse_result r = scan_line_end(s, i, head_len, reason);
        if (r != HTTP_PARSE_INCOMPLETE) {
            s->pos = i + 1;
            return r;
        }
    }
    s->pos = len;
    return HTTP_PARSE_INCOMPLETE;
}

/* ---------- the request line ---------- */

static enum http_parse_result fail(struct http_head *h, enum http_parse_result r, const char *why)
{
    h->error = why;
    snprintf(h->detail, sizeof(h->detail), "%s", why);
    return r;
}

/*
 * absolute-form "http://authority/path" -> "/path" (the authority is not
 * used for routing); "http://authority" alone -> "" (the caller reads "/").
 * NULL when it is not absolute-form either.
 */
static char *absolute_to_path(char *t)
{
    size_t skip = strncasecmp(t, "http://", 7) == 0    ? 7
                  : strncasecmp(t, "https://", 8) == 0 ? 8
                                                       : 0;
    char *slash;

    if (skip == 0 || t[skip] == '\0' || t[skip] == '/' || t[skip] == '?')
        return NULL;
    slash = strchr(t + skip, '/');
    if (slash)
        return slash;
    if (strchr(t + skip, '?'))
        return NULL; /* "http://host?q": a query without a path */
    return t + strlen(t);
}

static enum http_parse_result split_target(char *t, struct http_head *h)
{
    char *path = t;
    char *q;

    if (strcmp(t, "*") == 0) {
        if (strcmp(h->method, "OPTIONS") != 0)
            return fail(h, HTTP_PARSE_BAD, "'*' target is only for OPTIONS");
        h->path = t;
        return HTTP_PARSE_OK;
    }
    if (t[0] != '/') {
        path = absolute_to_path(t);
        if (!path)
            return fail(h, HTTP_PARSE_BAD, "malformed request target");
    }
    q = strchr(path, '?');
    if (q) {
        *q = '\0';
        h->query = q + 1;
    }
    h->path = *path ? path : "/";
    return HTTP_PARSE_OK;
}

static enum http_parse_result parse_version(const char *p, const char *end, struct http_head *h)
{
    if (end - p < 10 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
        p[7] < '0' || p[7] > '9' || p[8] != '\r' || p[9] != '\n')
        return fail(h, HTTP_PARSE_BAD, "malformed HTTP version");
    if (p[5] != '1' || p[7] > '1')
        return fail(h, HTTP_PARSE_VERSION, "HTTP version not supported");
    h->version_minor = p[7] - '0';
    return HTTP_PARSE_OK;
}

static enum http_parse_result parse_request_line(char **pp, char *end, struct http_head *h)
{
    char *p = *pp;
    char *method = p, *target;
    enum http_parse_result r;

    while (p < end && is_tchar((unsigned char)*p))
        p++;
    if (p == method || p >= end || *p != ' ')
        return fail(h, HTTP_PARSE_BAD, "malformed request method");
    *p++ = '\0';
    target = p;
    while (p < end && is_target_char((unsigned char)*p))
        p++;
    if (p == target || p >= end || *p != ' ')
        return fail(h, HTTP_PARSE_BAD, "malformed request target");
    *p++ = '\0';
    h->method = method;
    r = parse_version(p, end, h);
    if (r != HTTP_PARSE_OK)
        return r;
    *pp = p + 10;
    return split_target(target, h);
}

/* ---------- field lines ---------- */

static enum http_parse_result parse_field(char **pp, char *end, struct http_head *h)
{
    char *p = *pp;
    char *name = p, *value, *vend;

    if (is_ows((unsigned char)*p))
        return fail(h, HTTP_PARSE_BAD, "obsolete line folding in a header field");
    while (p < end && is_tchar((unsigned char)*p))
        p++;
    if (p == name)
        return fail(h, HTTP_PARSE_BAD, "malformed header field name");
    if (p < end && is_ows((unsigned char)*p))
        return fail(h, HTTP_PARSE_BAD, "whitespace before the colon of a header field");
    if (p >= end || *p != ':')
        return fail(h, HTTP_PARSE_BAD, "header field without a colon");
    *p++ = '\0';
    while (p < end && is_ows((unsigned char)*p))
        p++;
    value = p;
    while (p < end && (is_field_vchar((unsigned char)*p) || is_ows((unsigned char)*p)))
        p++;
    if (p + 1 >= end || p[0] != '\r' || p[1] != '\n')
        return fail(h, HTTP_PARSE_BAD, "control character in a header field value");
    for (vend = p; vend > value && is_ows((unsigned char)vend[-1]);)
        vend--;
    *vend = '\0';
    *pp = p + 2;
    if (h->n_fields >= HTTP_PARSE_MAX_FIELDS)
        return fail(h, HTTP_PARSE_TOO_LARGE, "too many header fields");
    h->fields[h->n_fields].name = name;
    h->fields[h->n_fields].value = value;
    h->n_fields++;
    return HTTP_PARSE_OK;
}

/* ---------- what the fields mean for framing ---------- */

static const char *const builtin_unique[] = {
    "host",          "content-length", "transfer-encoding", "content-type",
    "authorization", "expect",         "x-request-id",      NULL,
};

static const char *unique_name(const char *name, const char *const *extra)
{
    for (size_t i = 0; builtin_unique[i]; i++)
        if (strcasecmp(name, builtin_unique[i]) == 0)
            return builtin_unique[i];
    for (size_t i = 0; extra && extra[i]; i++)
        if (strcasecmp(name, extra[i]) == 0)
            return extra[i];
    return NULL;
}

static enum http_parse_result check_unique(struct http_head *h, const char *const *extra)
{
    for (size_t i = 1; i < h->n_fields; i++) {
        const char *u = unique_name(h->fields[i].name, extra);

        if (!u)
            continue;
        for (size_t j = 0; j < i; j++) {
            if (strcasecmp(h->fields[j].name, u) != 0)
                continue;
            h->error = "duplicate header field";
            snprintf(h->detail, sizeof(h->detail), "duplicate %s header", u);
            return HTTP_PARSE_BAD;
        }
    }
    return HTTP_PARSE_OK;
}

static enum http_parse_result parse_content_length(const char *v, struct http_head *h)
{
    long long n = 0;
    size_t digits = strspn(v, "0123456789");

    if (digits == 0 || v[digits] != '\0')
        return fail(h, HTTP_PARSE_BAD, "Content-Length is not a decimal number");
    for (size_t i = 0; i < digits; i++) {
        if (n > (LLONG_MAX - 9) / 10) {
            n = LLONG_MAX; /* too large to matter: refused by the body limit */
            break;
        }
        n = n * 10 + (v[i] - '0');
    }
    h->content_length = n;
    return HTTP_PARSE_OK;
}

/* Next comma-separated element of a list value, trimmed; false at the end. */
static bool list_next(const char **p, const char **item, size_t *len)
{
    const char *s = *p;
    size_t n;

    if (*s == '\0')
        return false;
    n = strcspn(s, ",");
    *p = s[n] == ',' ? s + n + 1 : s + n;
    while (n > 0 && is_ows((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_ows((unsigned char)s[n - 1]))
        n--;
    *item = s;
    *len = n;
    return true;
}

static bool token_is(const char *item, size_t len, const char *word)
{
    return len == strlen(word) && strncasecmp(item, word, len) == 0;
}

static enum http_parse_result parse_transfer_encoding(const char *v, struct http_head *h)
{
    const char *p = v, *item = NULL;
    size_t len = 0, n = 0;
    bool last_chunked = false, chunked_before = false;

    while (list_next(&p, &item, &len)) {
        if (len == 0)
            continue; /* RFC 9110 5.6.1: empty list elements are ignored */
        chunked_before |= last_chunked;
        last_chunked = token_is(item, len, "chunked");
        n++;
    }
    if (n == 0 || !last_chunked || chunked_before)
        return fail(h, HTTP_PARSE_BAD, "Transfer-Encoding does not end in a single chunked");
    if (n > 1)
        return fail(h, HTTP_PARSE_UNSUPPORTED, "transfer coding not implemented");
    h->chunked = true;
    return HTTP_PARSE_OK;
}

static void parse_connection(const char *v, bool *close, bool *keep_alive)
{
    const char *p = v, *item = NULL;
    size_t len = 0;

    while (list_next(&p, &item, &len)) {
        if (token_is(item, len, "close"))
            *close = true;
        else if (token_is(item, len, "keep-alive"))
            *keep_alive = true;
    }
}

struct framing {
    size_t hosts;
    bool te_seen, close, keep_alive;
};

static enum http_parse_result apply_field(struct http_head *h, const struct http_field *f,
                                          struct framing *fr)
{
    if (strcasecmp(f->name, "content-length") == 0)
        return parse_content_length(f->value, h);
    if (strcasecmp(f->name, "transfer-encoding") == 0) {
        fr->te_seen = true;
        return parse_transfer_encoding(f->value, h);
    }
    if (strcasecmp(f->name, "connection") == 0) {
        parse_connection(f->value, &fr->close, &fr->keep_alive);
        return HTTP_PARSE_OK;
    }
    if (strcasecmp(f->name, "host") == 0) {
        fr->hosts++;
        return HTTP_PARSE_OK;
    }
    if (strcasecmp(f->name, "expect") == 0 && h->version_minor == 1) {
        if (strcasecmp(f->value, "100-continue") != 0)
            return fail(h, HTTP_PARSE_EXPECTATION, "only Expect: 100-continue is supported");
        h->expect_continue = true;
    }
    return HTTP_PARSE_OK;
}

static enum http_parse_result apply_fields(struct http_head *h, const char *const *unique)
{
    struct framing fr = {0};
    enum http_parse_result r = check_unique(h, unique);

    for (size_t i = 0; r == HTTP_PARSE_OK && i < h->n_fields; i++)
        r = apply_field(h, &h->fields[i], &fr);
    if (r != HTTP_PARSE_OK)
        return r;
    if (fr.te_seen && h->content_length >= 0)
        return fail(h, HTTP_PARSE_BAD, "both Content-Length and Transfer-Encoding");
    if (fr.te_seen && h->version_minor == 0)
        return fail(h, HTTP_PARSE_BAD, "Transfer-Encoding in an HTTP/1.0 request");
    if (h->version_minor == 1 && fr.hosts == 0)
        return fail(h, HTTP_PARSE_BAD, "missing Host header");
    h->keep_alive = !fr.close && (h->version_minor == 1 || fr.keep_alive);
    return HTTP_PARSE_OK;
}

enum http_parse_result http_parse_head(char *buf, size_t len, const char *const *unique,
                                       struct http_head *h)
{
    char *p = buf, *end = buf + len;
    enum http_parse_result r;

    memset(h, 0, sizeof(*h));
    h->content_length = -1;
    if (len < 4 || memcmp(end - 4, "\r\n\r\n", 4) != 0)
        return fail(h, HTTP_PARSE_BAD, "request head does not end in an empty line");
    r = parse_request_line(&p, end, h);
    while (r == HTTP_PARSE_OK && end - p > 2)
        r = parse_field(&p, end - 2, h);
    if (r != HTTP_PARSE_OK)
        return r;
    if (end - p != 2)
        return fail(h, HTTP_PARSE_BAD, "malformed request head");
    return apply_fields(h, unique);
}

const char *http_head_field(const struct http_head *h, const char *name)
{
    for (size_t i = 0; i < h->n_fields; i++)
        if (strcasecmp(h->fields[i].name, name) == 0)
            return h->fields[i].value;
    return NULL;
}

/* ---------- chunked transfer coding ---------- */

enum {
    CH_SIZE = 0,  /* first hex digit of a chunk size */
    CH_SIZE_MORE, /* more hex digits, or what ends the size */
    CH_BWS,       /* whitespace after the size: only ';' may follow */
    CH_EXT,       /* chunk extensions (ignored) up to CR */
    CH_SIZE_LF,   /* LF ending the size line */
    CH_DATA,      /* chunk data */
    CH_DATA_CR,   /* CR after the data */
    CH_DATA_LF,   /* LF after the data */
    CH_TRAILER,   /* start of a trailer line, or the final CR */
    CH_TRAILER_LINE,
    CH_TRAILER_LF,
    CH_FINAL_LF,
    CH_DONE,
};

void http_chunked_init(struct http_chunked *c)
{
    memset(c, 0, sizeof(*c));
}

static int chunk_bad(struct http_chunked *c, const char *why)
{
    c->error = why;
    return -1;
}

static int size_digit(struct http_chunked *c, unsigned char ch)
{
    int v = hex_value(ch);

    if (v < 0)
        return chunk_bad(c, "malformed chunk size");
    if (++c->digits > 15)
        return chunk_bad(c, "chunk size too large");
    c->remaining = c->remaining * 16 + (uint64_t)v;
    c->state = CH_SIZE_MORE;
    return 0;
}

/* A byte of the chunk-size line: size, BWS, extensions, CRLF. */
static int size_line_byte(struct http_chunked *c, unsigned char ch)
{
    if (++c->line > HTTP_CHUNK_LINE_MAX)
        return chunk_bad(c, "chunk size line too long");
    switch (c->state) {
    case CH_SIZE:
        return size_digit(c, ch);
    case CH_SIZE_MORE:
        if (ch == '\r' || ch == ';' || is_ows(ch)) {
            c->state = ch == '\r' ? CH_SIZE_LF : ch == ';' ? CH_EXT : CH_BWS;
            return 0;
        }
        return size_digit(c, ch);
    case CH_BWS:
        if (is_ows(ch) || ch == ';') {
            c->state = ch == ';' ? CH_EXT : CH_BWS;
            return 0;
        }
        return chunk_bad(c, "malformed chunk extension");
    case CH_EXT:
        if (ch == '\r')
            c->state = CH_SIZE_LF;
        else if (!is_field_vchar(ch) && !is_ows(ch))
            return chunk_bad(c, "control character in a chunk extension");
        return 0;
    default: /* CH_SIZE_LF */
        if (ch != '\n')
            return chunk_bad(c, "chunk size line not ending in CRLF");
        c->line = 0;
        c->state = c->remaining ? CH_DATA : CH_TRAILER;
        return 0;
    }
}

/* A byte of the trailer section; 1 when the body is complete. */
static int trailer_byte(struct http_chunked *c, unsigned char ch)
{
    if (++c->line > HTTP_CHUNK_TRAILER_MAX)
        return chunk_bad(c, "chunked trailer section too large");
    switch (c->state) {
    case CH_TRAILER:
        if (ch == '\r') {
            c->state = CH_FINAL_LF;
            return 0;
        }
        if (!is_tchar(ch))
            return chunk_bad(c, "malformed trailer field");
        c->state = CH_TRAILER_LINE;
        return 0;
    case CH_TRAILER_LINE:
        if (ch == '\r')
            c->state = CH_TRAILER_LF;
        else if (!is_field_vchar(ch) && !is_ows(ch))
            return chunk_bad(c, "control character in a trailer field");
        return 0;
    case CH_TRAILER_LF:
        if (ch != '\n')
            return chunk_bad(c, "trailer line not ending in CRLF");
        c->state = CH_TRAILER;
        return 0;
    default: /* CH_FINAL_LF */
        if (ch != '\n')
            return chunk_bad(c, "chunked body not ending in CRLF");
        c->state = CH_DONE;
        return 1;
    }
}

static int chunk_byte(struct http_chunked *c, unsigned char ch)
{
    switch (c->state) {
    case CH_DATA_CR:
    case CH_DATA_LF:
        if (ch != (c->state == CH_DATA_CR ? '\r' : '\n'))
            return chunk_bad(c, "chunk data not followed by CRLF");
        c->state = c->state == CH_DATA_CR ? CH_DATA_LF : CH_SIZE;
        c->digits = 0;
        return 0;
    case CH_TRAILER:
    case CH_TRAILER_LINE:
    case CH_TRAILER_LF:
    case CH_FINAL_LF:
        return trailer_byte(c, ch);
    default:
        return size_line_byte(c, ch);
    }
}

enum http_chunk_result http_chunked_step(struct http_chunked *c, const char *in, size_t len,
                                         size_t *used, const char **data, size_t *data_len)
{
    size_t i = 0;

    *used = 0;
    if (c->state == CH_DONE)
        return HTTP_CHUNK_DONE;
    if (c->error)
        return HTTP_CHUNK_BAD;
    while (i < len) {
        if (c->state == CH_DATA) {
            size_t n = (uint64_t)(len - i) < c->remaining ? len - i : (size_t)c->remaining;

            *data = in + i;
            *data_len = n;
            c->remaining -= n;
            if (c->remaining == 0)
                c->state = CH_DATA_CR;
            *used = i + n;
            return HTTP_CHUNK_DATA;
        }
        int r = chunk_byte(c, (unsigned char)in[i++]);
        if (r != 0) {
            *used = i;
            return r < 0 ? HTTP_CHUNK_BAD : HTTP_CHUNK_DONE;
        }
    }
    *used = i;
    return HTTP_CHUNK_MORE;
}
