/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Table-driven tests of common/http_parse: each row is a request head as a
 * client (or an attacker behind a proxy) would send it, with the verdict and
 * framing RFC 9112 gives it, worked out by hand. The scan and the parse are
 * both run, the scan once on the whole input and once a byte at a time (it
 * must agree). Chunked bodies are decoded whole and split at every offset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/http_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct head_case {
    const char *name;
    const char *text;
    size_t len; /* 0 = strlen(text) (set for inputs holding a NUL) */
    enum http_parse_result want;
    const char *path;
    const char *query;
    long long content_length;
    bool chunked, keep_alive, expect;
};

#define OK_(n, t, p, q, cl, ch, ka)                                                                \
    {                                                                                              \
        n, t, 0, HTTP_PARSE_OK, p, q, cl, ch, ka, false                                            \
    }
#define BAD_(n, t, r)                                                                              \
    {                                                                                              \
        n, t, 0, r, NULL, NULL, -1, false, false, false                                            \
    }

static const struct head_case heads[] = {
    OK_("plain GET", "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", "/health", NULL, -1, false, true),
    OK_("query split", "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: x\r\n\r\n", "/a/b", "x=1&y=2", -1, false,
        true),
    OK_("POST with length", "POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 42\r\n\r\n", "/api",
        NULL, 42, false, true),
    OK_("zero length", "POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "/api", NULL,
        0, false, true),
    OK_("leading zeros are digits", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 007\r\n\r\n",
        "/", NULL, 7, false, true),
    OK_("chunked", "POST /api HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", "/api",
        NULL, -1, true, true),
    OK_("chunked any case", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  ChUnKeD \r\n\r\n",
        "/", NULL, -1, true, true),
    OK_("connection close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "/", NULL, -1,
        false, false),
    OK_("connection list", "GET / HTTP/1.1\r\nHost: x\r\nConnection: TE, Close\r\n\r\n", "/", NULL,
        -1, false, false),
    OK_("1.0 closes by default", "GET / HTTP/1.0\r\n\r\n", "/", NULL, -1, false, false),
    OK_("1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "/", NULL, -1, false,
        true),
    OK_("empty lines before the request", "\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n", "/x", NULL,
        -1, false, true),
    OK_("absolute form", "GET http://example.com/p?q HTTP/1.1\r\nHost: example.com\r\n\r\n", "/p",
        "q", -1, false, true),
    OK_("absolute form without a path", "GET HTTPS://example.com HTTP/1.1\r\nHost: e\r\n\r\n", "/",
        NULL, -1, false, true),
    OK_("asterisk for OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", "*", NULL, -1, false,
        true),
    OK_("tabs and spaces around values", "GET / HTTP/1.1\r\nHost:\t x \t\r\nX-A:b\r\n\r\n", "/",
        NULL, -1, false, true),
    OK_("empty value", "GET / HTTP/1.1\r\nHost: x\r\nX-Empty:\r\n\r\n", "/", NULL, -1, false, true),
    OK_("obs-text in a value", "GET / HTTP/1.1\r\nHost: x\r\nx-client-id: caf\xc3\xa9\xff\r\n\r\n",
        "/", NULL, -1, false, true),
    OK_("unknown method is a token", "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", "/pot", NULL, -1,
        false, true),
    OK_("huge length saturates",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", "/", NULL,
        9223372036854775807LL, false, true),
    OK_("two different fields may repeat",
        "GET / HTTP/1.1\r\nHost: x\r\nAccept: a\r\nAccept: b\r\n\r\n", "/", NULL, -1, false, true),

    /* smuggling forms of issue 11 item 8 */
    BAD_("two different Content-Lengths",
         "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("two equal Content-Lengths",
         "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("Content-Length list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("Content-Length +N", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("Content-Length -1", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("Content-Length hex", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("Content-Length empty", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("space before the colon", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("tab before the colon", "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", HTTP_PARSE_BAD),
    {"NUL inside a value", "GET / HTTP/1.1\r\nHost: x\r\nx-auth-token: token\0junk\r\n\r\n", 53,
     HTTP_PARSE_BAD, NULL, NULL, -1, false, false, false},
    BAD_("duplicate x-auth-token (caller's list)",
         "GET / HTTP/1.1\r\nHost: x\r\nx-auth-token: a\r\nX-Auth-Token: b\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("duplicate x-client-id (caller's list)",
         "GET / HTTP/1.1\r\nHost: x\r\nx-client-id: a\r\nx-client-id: a\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("duplicate Content-Type",
         "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\nContent-Type: c/d\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("Content-Length with chunked",
         "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("chunked then identity",
         "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("chunked twice",
         "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("duplicate Transfer-Encoding",
         "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
         "chunked\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("identity alone", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n",
         HTTP_PARSE_BAD),
    OK_("empty list elements are ignored",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,chunked,\r\n\r\n", "/", NULL, -1, true,
        true),
    BAD_("only empty elements", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("gzip then chunked: not implemented",
         "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
         HTTP_PARSE_UNSUPPORTED),
    BAD_("Transfer-Encoding in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("no Host in 1.1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("field without colon", "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("empty field name", "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("control byte in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01z\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("DEL in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fz\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("two spaces in the request line", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("tab in the request line", "GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("trailing space after the version", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("lowercase version", "GET / http/1.1\r\nHost: x\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("no version", "GET /\r\nHost: x\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", HTTP_PARSE_VERSION),
    BAD_("HTTP/1.2", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", HTTP_PARSE_VERSION),
    BAD_("HTTP/1.10", "GET / HTTP/1.10\r\nHost: x\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("raw UTF-8 in the target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("fragment in the target", "GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("relative target", "GET a/b HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("authority form", "CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("asterisk for GET", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_PARSE_BAD),
    BAD_("absolute form without authority", "GET http:///p HTTP/1.1\r\nHost: x\r\n\r\n",
         HTTP_PARSE_BAD),
    BAD_("Expect other than 100-continue",
         "POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\n",
         HTTP_PARSE_EXPECTATION),
};

static void check_head(const struct head_case *c)
{
    size_t len = c->len ? c->len : strlen(c->text);
    char *buf = malloc(len + 1);
    struct http_scan scan = {0}, slow = {0};
    struct http_head *h = calloc(1, sizeof(*h));
    size_t head_len = 0, slow_len = 0;
    const char *reason = NULL;
    enum http_parse_result r, s = HTTP_PARSE_INCOMPLETE;

    memcpy(buf, c->text, len);
    buf[len] = 'Z';
    r = http_head_scan(&scan, buf, len, &head_len, &reason);
    /* byte at a time: the same verdict, the same head */
    for (size_t i = 1; i <= len && s == HTTP_PARSE_INCOMPLETE; i++)
        s = http_head_scan(&slow, buf, i, &slow_len, &reason);
    if (s != r || (r == HTTP_PARSE_OK && slow_len != head_len))
        fail_msg("%s: byte-at-a-time scan disagrees (%d vs %d)", c->name, s, r);
    if (r == HTTP_PARSE_OK) {
        assert_int_equal(scan.start + head_len, len);
        r = http_parse_head(buf + scan.start, head_len,
                            (const char *const[]){"x-client-id", "x-auth-token", NULL}, h);
    }
    if (r != c->want)
        fail_msg("%s: result %d, want %d (%s)", c->name, r, c->want, h->error ? h->error : "");
    if (r == HTTP_PARSE_OK) {
        assert_string_equal(h->path, c->path);
        if (c->query)
            assert_string_equal(h->query, c->query);
        else
            assert_null(h->query);
        assert_int_equal(h->content_length, c->content_length);
        assert_int_equal(h->chunked, c->chunked);
        assert_int_equal(h->keep_alive, c->keep_alive);
    } else {
        assert_true(r == HTTP_PARSE_BAD || (h->error && h->detail[0]));
    }
    free(h);
    free(buf);
}

static void test_heads(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
        check_head(&heads[i]);
}

static void test_fields_and_expect(void **state)
{
    char buf[] = "POST /x HTTP/1.1\r\nHost: h\r\nX-Client-Id:  abc \r\nExpect: 100-Continue\r\n"
                 "Content-Length: 3\r\n\r\n";
    struct http_head *h = calloc(1, sizeof(*h));
    (void)state;

    assert_int_equal(http_parse_head(buf, strlen(buf), NULL, h), HTTP_PARSE_OK);
    assert_string_equal(h->method, "POST");
    assert_int_equal(h->n_fields, 4);
    assert_string_equal(http_head_field(h, "x-client-id"), "abc");
    assert_string_equal(http_head_field(h, "HOST"), "h");
    assert_null(http_head_field(h, "x-auth-token"));
    assert_true(h->expect_continue);
    assert_int_equal(h->version_minor, 1);
    free(h);
}

static void test_duplicate_detail_names_the_field(void **state)
{
    char buf[] = "GET / HTTP/1.1\r\nHost: h\r\nx-auth-token: a\r\nx-auth-token: b\r\n\r\n";
    struct http_head *h = calloc(1, sizeof(*h));
    (void)state;

    assert_int_equal(
        http_parse_head(buf, strlen(buf), (const char *const[]){"x-auth-token", NULL}, h),
        HTTP_PARSE_BAD);
    assert_string_equal(h->detail, "duplicate x-auth-token header");
    free(h);
}

static void test_too_many_fields(void **state)
{
    char *buf = malloc(64 * 1024);
    size_t n = 0;
    struct http_head *h = calloc(1, sizeof(*h));
    (void)state;

    n += (size_t)snprintf(buf + n, 64 * 1024 - n, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < HTTP_PARSE_MAX_FIELDS; i++)
        n += (size_t)snprintf(buf + n, 64 * 1024 - n, "X-%d: v\r\n", i);
    n += (size_t)snprintf(buf + n, 64 * 1024 - n, "\r\n");
    assert_int_equal(http_parse_head(buf, n, NULL, h), HTTP_PARSE_TOO_LARGE);
    free(h);
    free(buf);
}

struct scan_case {
    const char *name;
    const char *text;
    size_t len;
    enum http_parse_result want;
};

static const struct scan_case scans[] = {
    {"bare LF line endings", "GET / HTTP/1.1\nHost: x\n\n", 0, HTTP_PARSE_BAD},
    {"bare LF after a good line", "GET / HTTP/1.1\r\nHost: x\n\r\n", 0, HTTP_PARSE_BAD},
    {"bare CR", "GET / HTTP/1.1\rHost: x\r\n\r\n", 0, HTTP_PARSE_BAD},
    {"NUL byte", "GET / HTTP/1.1\r\nHost: \0\r\n\r\n", 27, HTTP_PARSE_BAD},
    {"too many empty lines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n", 0, HTTP_PARSE_BAD},
    {"a head still arriving", "GET / HTTP/1.1\r\nHost: x\r\n", 0, HTTP_PARSE_INCOMPLETE},
    {"a head ending in CR", "GET / HTTP/1.1\r\nHost: x\r\n\r", 0, HTTP_PARSE_INCOMPLETE},
};

static void test_scan(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(scans) / sizeof(scans[0]); i++) {
        struct http_scan s = {0};
        size_t head_len = 0, len = scans[i].len ? scans[i].len : strlen(scans[i].text);
        const char *reason = NULL;
        enum http_parse_result r = http_head_scan(&s, scans[i].text, len, &head_len, &reason);

        if (r != scans[i].want)
            fail_msg("%s: %d, want %d", scans[i].name, r, scans[i].want);
        if (r == HTTP_PARSE_BAD)
            assert_non_null(reason);
    }
}

/* The next request's bytes after a head are not part of it. */
static void test_scan_stops_at_the_head(void **state)
{
    const char text[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n";
    struct http_scan s = {0};
    size_t head_len = 0;
    const char *reason = NULL;
    (void)state;

    assert_int_equal(http_head_scan(&s, text, strlen(text), &head_len, &reason), HTTP_PARSE_OK);
    assert_int_equal(head_len, strlen("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
}

/* ---------- chunked ---------- */

struct chunk_case {
    const char *name;
    const char *text;
    enum http_chunk_result want;
    const char *body; /* when DONE */
    size_t tail;      /* bytes after the body left unused */
};

static const struct chunk_case chunks[] = {
    {"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", HTTP_CHUNK_DONE, "hello world", 0},
    {"extensions are accepted", "5;name=value\r\nhello\r\n0;last\r\n\r\n", HTTP_CHUNK_DONE, "hello",
     0},
    {"quoted extension", "3 ; a=\"x;y\"\r\nabc\r\n0\r\n\r\n", HTTP_CHUNK_DONE, "abc", 0},
    {"uppercase hex", "A\r\n0123456789\r\n0\r\n\r\n", HTTP_CHUNK_DONE, "0123456789", 0},
    {"leading zeros", "0005\r\nhello\r\n0000\r\n\r\n", HTTP_CHUNK_DONE, "hello", 0},
    {"trailers are skipped", "3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-B: 2\r\n\r\n", HTTP_CHUNK_DONE, "abc",
     0},
    {"bytes after the body stay", "1\r\na\r\n0\r\n\r\nGET", HTTP_CHUNK_DONE, "a", 3},
    {"empty body", "0\r\n\r\n", HTTP_CHUNK_DONE, "", 0},
    {"not hex", "g\r\nhello\r\n0\r\n\r\n", HTTP_CHUNK_BAD, NULL, 0},
    {"negative size", "-5\r\nhello\r\n0\r\n\r\n", HTTP_CHUNK_BAD, NULL, 0},
    {"0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", HTTP_CHUNK_BAD, NULL, 0},
    {"empty size", "\r\nhello\r\n0\r\n\r\n", HTTP_CHUNK_BAD, NULL, 0},
    {"size too large", "10000000000000000\r\n", HTTP_CHUNK_BAD, NULL, 0},
    {"space then no extension", "5 \r\nhello\r\n0\r\n\r\n", HTTP_CHUNK_BAD, NULL, 0},
    {"bare LF after size", "5\nhello\r\n0\r\n\r\n", HTTP_CHUNK_BAD, NULL, 0},
    {"data longer than the size", "3\r\nhello\r\n0\r\n\r\n", HTTP_CHUNK_BAD, NULL, 0},
    {"data without CRLF", "5\r\nhelloX\r\n0\r\n\r\n", HTTP_CHUNK_BAD, NULL, 0},
    {"control byte in an extension", "5;a\x01\r\nhello\r\n0\r\n\r\n", HTTP_CHUNK_BAD, NULL, 0},
    {"folded trailer", "0\r\nX-A: 1\r\n 2\r\n\r\n", HTTP_CHUNK_BAD, NULL, 0},
    {"trailer with bare LF", "0\r\nX-A: 1\n\r\n", HTTP_CHUNK_BAD, NULL, 0},
    {"final line without LF", "0\r\n\rX", HTTP_CHUNK_BAD, NULL, 0},
    {"incomplete", "5\r\nhel", HTTP_CHUNK_MORE, NULL, 0},
};

/* Decode text fed in pieces of at most step bytes; returns the result and the body. */
static enum http_chunk_result decode(const char *text, size_t step, char *body, size_t *body_len,
                                     size_t *tail)
{
    struct http_chunked c;
    size_t len = strlen(text), off = 0, in_piece = 0;
    enum http_chunk_result r = HTTP_CHUNK_MORE;

    http_chunked_init(&c);
    *body_len = 0;
    while (off < len) {
        size_t piece = len - off < step ? len - off : step;
        size_t used = 0;
        const char *data = NULL;
        size_t data_len = 0;

        r = http_chunked_step(&c, text + off, piece, &used, &data, &data_len);
        off += used;
        in_piece = piece - used;
        if (r == HTTP_CHUNK_DATA) {
            memcpy(body + *body_len, data, data_len);
            *body_len += data_len;
            continue;
        }
        if (r != HTTP_CHUNK_MORE)
            break;
    }
    (void)in_piece;
    *tail = len - off;
    body[*body_len] = '\0';
    return r == HTTP_CHUNK_DATA ? HTTP_CHUNK_MORE : r;
}

static void test_chunked(void **state)
{
    char body[256];
    (void)state;

    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        const struct chunk_case *c = &chunks[i];
        size_t len = strlen(c->text);

        for (size_t step = 1; step <= len; step++) {
            size_t body_len = 0, tail = 0;
            enum http_chunk_result r = decode(c->text, step, body, &body_len, &tail);

            if (r != c->want)
                fail_msg("%s (pieces of %zu): %d, want %d", c->name, step, r, c->want);
            if (r == HTTP_CHUNK_DONE) {
                assert_string_equal(body, c->body);
                assert_int_equal(tail, c->tail);
            }
        }
    }
}

static void test_chunked_trailer_cap(void **state)
{
    size_t n = HTTP_CHUNK_TRAILER_MAX + 64;
    char *text = malloc(n + 16);
    char body[16];
    size_t body_len, tail;
    (void)state;

    memcpy(text, "0\r\nX-Big: ", 10);
    memset(text + 10, 'a', n - 10);
    memcpy(text + n, "\r\n\r\n", 5);
    assert_int_equal(decode(text, 4096, body, &body_len, &tail), HTTP_CHUNK_BAD);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heads),
        cmocka_unit_test(test_fields_and_expect),
        cmocka_unit_test(test_duplicate_detail_names_the_field),
        cmocka_unit_test(test_too_many_fields),
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_scan_stops_at_the_head),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_chunked_trailer_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
