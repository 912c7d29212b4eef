/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for common/http_parse, the first code any client byte
 * meets: the head scan (fed whole, then in two pieces split where the first
 * input byte says, which must agree), the in-place head parse of whatever
 * the scan accepts, and the chunked decoder over the bytes after the head,
 * fed in pieces of 1..16 bytes. Invariants checked: the scan and the parse
 * never read past the input (ASan), a split never changes a verdict, a
 * parsed head's pointers stay inside the buffer, and the decoder's data
 * spans stay inside its input. Crashes found so far are kept in the corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(const char *p, const char *buf, size_t len)
{
    if (p && (p < buf || p >= buf + len))
        abort();
}

static void parse_head(const char *in, size_t len)
{
    static const char *const unique[] = {"x-client-id", "x-auth-token", NULL};
    char *buf = malloc(len ? len : 1);
    struct http_head *h = malloc(sizeof(*h));

    memcpy(buf, in, len);
    if (http_parse_head(buf, len, unique, h) == HTTP_PARSE_OK) {
        check_inside(h->method, buf, len);
        if (strcmp(h->path, "/") != 0) /* "http://host" alone routes as "/" */
            check_inside(h->path, buf, len);
        check_inside(h->query, buf, len);
        for (size_t i = 0; i < h->n_fields; i++) {
            check_inside(h->fields[i].name, buf, len);
            check_inside(h->fields[i].value, buf, len);
        }
        if (h->chunked && h->content_length >= 0)
            abort();
    }
    free(h);
    free(buf);
}

static void decode_chunked(const char *in, size_t len, size_t step)
{
    struct http_chunked c;
    size_t off = 0;

    http_chunked_init(&c);
    while (off < len) {
        size_t piece = len - off < step ? len - off : step;
        size_t used = 0, data_len = 0;
        const char *d = NULL;
        enum http_chunk_result r = http_chunked_step(&c, in + off, piece, &used, &d, &data_len);

        if (used > piece)
            abort();
        if (r == HTTP_CHUNK_DATA && (d < in + off || d + data_len > in + off + piece))
            abort();
        off += used;
        if (r == HTTP_CHUNK_DONE || r == HTTP_CHUNK_BAD)
            return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in;
    struct http_scan whole = {0}, split = {0};
    size_t head_len = 0, split_len = 0, cut;
    const char *reason = NULL;
    enum http_parse_result r, s;

    if (size < 1)
        return 0;
    cut = data[0];
    in = (const char *)data + 1;
    size--;
    if (cut > size)
        cut = size;
    r = http_head_scan(&whole, in, size, &head_len, &reason);
    s = http_head_scan(&split, in, cut, &split_len, &reason);
    if (s == HTTP_PARSE_INCOMPLETE)
        s = http_head_scan(&split, in, size, &split_len, &reason);
    if (s != r || (r == HTTP_PARSE_OK && (split_len != head_len || split.start != whole.start)))
        abort();
    if (r != HTTP_PARSE_OK)
        return 0;
    parse_head(in + whole.start, head_len);
    decode_chunked(in + whole.start + head_len, size - whole.start - head_len, 1 + (data[0] & 15));
    return 0;
}
