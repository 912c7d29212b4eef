/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small, fast JSON serialiser into one bounded growable buffer, for
 * replies on the hot path (no tree, no per-value allocation). The writer
 * inserts commas and colons itself; the caller states the structure:
 *
 *   struct json_writer w;
 *   json_writer_init(&w, 1 << 20);
 *   json_writer_object_begin(&w);
 *   json_writer_kv_string(&w, "status", "ok");
 *   json_writer_key(&w, "items");
 *   json_writer_array_begin(&w);
 *   json_writer_int(&w, 42);
 *   json_writer_array_end(&w);
 *   json_writer_object_end(&w);
 *   if (!json_writer_ok(&w)) ... (too large or misuse)
 *   http_reply_json_writer(req, 200, &w);   // or json_writer_data() / json_writer_take()
 *   json_writer_free(&w);
 *
 * Strings are escaped per RFC 8259: quote, backslash and control characters
 * (\n \r \t \b \f, others as \u00XX); valid UTF-8 passes through unchanged;
 * each byte of an invalid UTF-8 sequence becomes \ufffd, so the output is
 * always valid JSON in UTF-8.
 *
 * Errors are sticky: past max_bytes, or on structural misuse (value where a
 * key is due, unbalanced end, nesting deeper than JSON_WRITER_MAX_DEPTH),
 * every later call is a no-op and json_writer_ok() returns false. Allocation
 * failure aborts (the cap is what bounds memory).
 */
#ifndef COMMON_JSON_WRITER_H
#define COMMON_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_WRITER_MAX_DEPTH 32

enum json_writer_status {
    JSON_WRITER_OK = 0,
    JSON_WRITER_TOO_LARGE, /* would exceed max_bytes */
    JSON_WRITER_MISUSE,    /* structure error (bug in the caller) */
};

struct json_writer {
    char *buf;
    size_t len, cap, max;
    enum json_writer_status status;
    int depth;
    /* per level: bit0 = container is an object, bit1 = has a member, bit2 = key pending */
    unsigned char level[JSON_WRITER_MAX_DEPTH + 1];
    size_t reserved; /* bytes of the pending json_writer_value_reserve */
};

/* Empty writer capped at max_bytes of output (0 = 16 MiB). Allocates lazily. */
void json_writer_init(struct json_writer *w, size_t max_bytes);
/* Forget the content and the error, keep the buffer (reuse per request). */
void json_writer_reset(struct json_writer *w);
/* Release the buffer; the writer may be re-initialised. */
void json_writer_free(struct json_writer *w);

void json_writer_object_begin(struct json_writer *w);
void json_writer_object_end(struct json_writer *w);
void json_writer_array_begin(struct json_writer *w);
void json_writer_array_end(struct json_writer *w);
void json_writer_key(struct json_writer *w, const char *key);
/* The same with the key's length known (tables of keys: no strlen per record). */
void json_writer_key_len(struct json_writer *w, const char *key, size_t len);

/* Values. string(NULL) writes null. */
void json_writer_string(struct json_writer *w, const char *s);
void json_writer_string_len(struct json_writer *w, const char *s, size_t len);
void json_writer_int(struct json_writer *w, long long v);
void json_writer_uint(struct json_writer *w, unsigned long long v);
void json_writer_double(struct json_writer *w, double v); /* %.17g trimmed; NaN/Inf -> null */
void json_writer_bool(struct json_writer *w, bool v);
void json_writer_null(struct json_writer *w);
/* A pre-encoded JSON value copied verbatim (trusted: from our own serialisers). */
void json_writer_raw(struct json_writer *w, const char *json, size_t len);

/*
 * A value the caller writes in place, in one go (a record row: one room
 * check instead of one per field): reserve returns where to write at most n
 * bytes, after the comma the value needs, or NULL (error set, nothing to
 * write); commit(end) ends the value where the caller stopped. The value
 * must be valid JSON; the json_put_* functions below write its pieces.
 */
char *json_writer_value_reserve(struct json_writer *w, size_t n);
void json_writer_value_commit(struct json_writer *w, const char *end);

/* Pieces for such a value, each returning the end of what it wrote at out. */
/* Most bytes json_put_string writes for len bytes: each as a 6-byte escape, and the quotes. */
#define JSON_STRING_BOUND(len) (6 * (size_t)(len) + 2)
/* Most bytes json_put_int and json_put_double write. */
#define JSON_NUMBER_BOUND 32
/* s[0..len) quoted and escaped exactly as json_writer_string_len writes it. */
char *json_put_string(char *out, const char *s, size_t len);
/* As json_writer_int and json_writer_double write them (non-finite: null). */
char *json_put_int(char *out, long long v);
char *json_put_double(char *out, double v);

/* key + value shorthands */
void json_writer_kv_string(struct json_writer *w, const char *key, const char *s);
void json_writer_kv_int(struct json_writer *w, const char *key, long long v);
void json_writer_kv_double(struct json_writer *w, const char *key, double v);
void json_writer_kv_bool(struct json_writer *w, const char *key, bool v);
void json_writer_kv_null(struct json_writer *w, const char *key);

/* True when no error occurred and every container is closed. */
bool json_writer_ok(const struct json_writer *w);
enum json_writer_status json_writer_status(const struct json_writer *w);

/* The output so far, NUL-terminated (never NULL: "" when empty). Owned by the writer. */
const char *json_writer_data(const struct json_writer *w, size_t *len);
/*
 * Move the buffer out: returns the malloc'd NUL-terminated output (caller frees)
 * and leaves the writer empty and reusable (as after json_writer_init).
 */
char *json_writer_take(struct json_writer *w, size_t *len);

#endif
