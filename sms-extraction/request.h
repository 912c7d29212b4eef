/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The POST /api/extract request: parse the body with jansson and validate it
 * the way the Python service's pydantic model did, so clients see the same
 * 422 detail list. A parsed request borrows its strings from the JSON tree it
 * keeps; one struct request is reused by a worker thread for every request it
 * serves, so the message array is allocated once and only grows to the
 * largest batch seen (bounded by MAX_SMS_COUNT).
 */
#ifndef SMSX_REQUEST_H
#define SMSX_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/validation.h"

#define REQUEST_ID_MAX 128     /* client_id, user_id, request_id: max characters */
#define REQUEST_SMS_ID_MAX 128 /* sms_id: max characters */
#define REQUEST_MAX_ERRORS 100 /* detail items collected before validation stops */
#define REQUEST_REDACTED VALIDATION_REDACTED

/* One message. Strings borrow from the request's JSON tree (or from id_buf). */
struct request_sms {
    const char *sms_id; /* never NULL once parsed */
    const char *sender; /* NULL when sms_sender was null or absent */
    size_t sender_len;
    const char *body; /* not NUL-terminated necessarily: use body_len */
    size_t body_len;
    char inbox_date[20]; /* "YYYY-MM-DD HH:MM:SS" India time */
    char id_buf[24];     /* integer sms_id rendered as text */
};

struct request {
    json_t *root; /* owns every borrowed string; NULL between requests */
    const char *client_id;
    const char *user_id;
    char request_id[REQUEST_ID_MAX + 1]; /* given or generated (32 hex digits) */
    struct request_sms *sms;
    size_t sms_count;
    size_t sms_cap;
    char *text; /* decoded strings of the fast path (request_scan.c), reused */
    size_t text_cap;
};

/* A zeroed struct is a valid empty request; request_free releases it. */
void request_init(struct request *req);
void request_free(struct request *req);

/*
 * Parse and validate one body. On success returns 0 and req borrows from a
 * tree it owns until the next request_parse or request_free. On failure
 * returns -1 and *detail is a new JSON array of pydantic-style items
 * {type, loc, msg, input[, ctx]} owned by the caller; no item ever echoes an
 * sms_body value. max_sms bounds the sms list (MAX_SMS_COUNT). When the body
 * has no request_id, default_id (the HTTP request id; NULL = none) is used,
 * else 32 random hex digits.
 */
int request_parse(struct request *req, const char *body, size_t body_len, size_t max_sms,
                  const char *default_id, json_t **detail);

/*
 * The same, always through jansson (never the fast path). For tests and the
 * fuzzer, which check that both paths agree.
 */
int request_parse_json(struct request *req, const char *body, size_t body_len, size_t max_sms,
                       const char *default_id, json_t **detail);

#endif
