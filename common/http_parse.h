/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A strict HTTP/1.1 request-head parser and chunked-body decoder (RFC 9112),
 * with no I/O and no allocation, for common/http_server. Everything a client
 * sends before the body passes through here, so the rules are the server's
 * defence against request smuggling behind a proxy: when two parsers could
 * read the same bytes two ways, we refuse (400) rather than pick one.
 *
 * DESIGN
 * Three steps, each a pure function over bytes the caller owns:
 *   1. http_head_scan finds the end of the head in a growing buffer
 *      (resumable: it never rescans), refusing at once what no valid head
 *      contains (a NUL, a bare LF or CR), so a slow client cannot make it
 *      quadratic and garbage is refused before the header cap is reached.
 *   2. http_parse_head parses the complete head in place (it writes NULs
 *      into the buffer) into a struct http_head: request line, fields, and
 *      the framing decided from them (Content-Length, chunked, keep-alive,
 *      100-continue).
 *   3. http_chunked_step decodes a chunked body incrementally, a data span
 *      at a time, whatever the read boundaries.
 * Refused, each with a fixed reason (never input) in h->error:
 *   - lines not ending in CRLF, NUL or other control bytes in the head,
 *     obs-fold (a line starting with whitespace), whitespace before a colon;
 *   - more than one Content-Length (even equal ones), a Content-Length that
 *     is not 1*DIGIT ("+5", "5, 5", "0x10", ""), Content-Length together
 *     with Transfer-Encoding, Transfer-Encoding in HTTP/1.0 or not ending in
 *     chunked; other codings before chunked are 501 (not implemented);
 *   - a second copy of a field that must be unique: Host, Content-Length,
 *     Transfer-Encoding, Content-Type, Expect, Authorization, X-Request-Id,
 *     plus the caller's list (credential headers);
 *   - no Host in HTTP/1.1; a request target that is not origin-form
 *     ("/path?query"), absolute-form ("http://host/path") or "*" for
 *     OPTIONS; bytes outside visible ASCII in the target;
 *   - versions other than HTTP/1.0 and HTTP/1.1 (505 for a well-formed
 *     HTTP/x.y, 400 otherwise); an Expect other than 100-continue (417).
 * Chunked bodies: chunk extensions are accepted and ignored; a size that is
 * not hex, longer than 15 hex digits, or not followed by CRLF, data not
 * followed by CRLF, and trailers over HTTP_CHUNK_TRAILER_MAX are refused.
 */
#ifndef COMMON_HTTP_PARSE_H
#define COMMON_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_PARSE_MAX_FIELDS 100    /* header fields per request; more: 431 */
#define HTTP_PARSE_MAX_EMPTY_LINES 4 /* CRLFs tolerated before a request line */
#define HTTP_CHUNK_LINE_MAX 4096     /* a chunk-size line with its extensions */
#define HTTP_CHUNK_TRAILER_MAX 8192  /* the whole trailer section */
#define HTTP_PARSE_DETAIL_MAX 96

enum http_parse_result {
    HTTP_PARSE_OK = 0,
    HTTP_PARSE_INCOMPLETE,  /* scan only: the head has not ended yet */
    HTTP_PARSE_BAD,         /* 400 */
    HTTP_PARSE_TOO_LARGE,   /* 431: too many header fields */
    HTTP_PARSE_EXPECTATION, /* 417: an Expect other than 100-continue */
    HTTP_PARSE_UNSUPPORTED, /* 501: a transfer coding other than chunked */
    HTTP_PARSE_VERSION,     /* 505: HTTP/x.y other than 1.0 and 1.1 */
};

/* Where a scan stands; zero it before the first call on a new request. */
struct http_scan {
    size_t pos;        /* next byte to look at */
    size_t start;      /* first byte of the request line (after empty lines) */
    size_t line_start; /* first byte of the current line */
    int empty_lines;
};

/*
 * Look at buf[scan->pos .. len) (buf[0 .. len) is everything received so far
 * for this request). HTTP_PARSE_OK when the head is complete: it is
 * buf[scan->start .. scan->start + *head_len), ending in CRLF CRLF.
 * HTTP_PARSE_INCOMPLETE when more bytes are needed (the head so far is
 * len - scan->start bytes: the caller enforces its size cap).
 * HTTP_PARSE_BAD with *reason set for a byte no head may contain.
 */
enum http_parse_result http_head_scan(struct http_scan *scan, const char *buf, size_t len,
                                      size_t *head_len, const char **reason);

struct http_field {
    const char *name;  /* as sent (case preserved), NUL-terminated */
    const char *value; /* leading/trailing whitespace removed, NUL-terminated */
};

struct http_head {
    const char *method; /* token as sent, NUL-terminated */
    const char *path;   /* "/a/b" (not decoded), "*" for OPTIONS * */
    const char *query;  /* after '?', or NULL */
    int version_minor;  /* 0 or 1 */
    struct http_field fields[HTTP_PARSE_MAX_FIELDS];
    size_t n_fields;
    long long content_length; /* -1: none; saturates at LLONG_MAX */
    bool chunked;
    bool expect_continue;
    bool keep_alive;   /* HTTP/1.1 unless "Connection: close"; 1.0 with keep-alive */
    const char *error; /* why the head was refused: fixed text */
    char detail[HTTP_PARSE_DETAIL_MAX]; /* error, sometimes with our own field name */
};

/*
 * Parse a complete head (as found by http_head_scan: from the request line
 * through the final CRLF CRLF) in place: buf is modified and h points into
 * it, so buf must outlive h. unique: NULL-terminated list of extra field
 * names (lowercase) that may appear at most once, or NULL.
 */
enum http_parse_result http_parse_head(char *buf, size_t len, const char *const *unique,
                                       struct http_head *h);

/* The first field named name (case-insensitive), or NULL. */
const char *http_head_field(const struct http_head *h, const char *name);

/* ---- chunked bodies ---- */

struct http_chunked {
    int state;
    uint64_t remaining; /* data bytes left in the current chunk */
    int digits;
    size_t line; /* bytes of the current size line or trailer section */
    const char *error;
};

enum http_chunk_result {
    HTTP_CHUNK_MORE = 0, /* all of the input used; send more */
    HTTP_CHUNK_DATA,     /* *data / *data_len: body bytes; call again with the rest */
    HTTP_CHUNK_DONE,     /* body and trailers complete; *used counts up to the last CRLF */
    HTTP_CHUNK_BAD,      /* 400; c->error says why */
};

/* Zero state: the decoder expects the first chunk-size line. */
void http_chunked_init(struct http_chunked *c);

/*
 * Decode from in[0 .. len): *used gets the bytes consumed (always set).
 * On HTTP_CHUNK_DATA, *data points into in and the caller continues with
 * in + *used. Never reads past len; any split of the input gives the same
 * result as feeding it whole.
 */
enum http_chunk_result http_chunked_step(struct http_chunked *c, const char *in, size_t len,
                                         size_t *used, const char **data, size_t *data_len);

#endif
