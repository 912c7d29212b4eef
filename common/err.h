/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one error enum of the project. Every failure a client can see is one of
 * these values, and err.c maps each to a stable string code, an HTTP status
 * and a short human message, in one table. Replies, logs, metrics and
 * docs/errors.md (`--error-docs`) all read that table, so they cannot drift;
 * tests/unit/common/test_err.c fails when a value has no row.
 *
 * Adding a value: append it before ERR__COUNT, add its row in err.c, run the
 * unit test, regenerate docs/errors.md. Never renumber or rename a code once
 * shipped: clients match on the string code.
 */
#ifndef COMMON_ERR_H
#define COMMON_ERR_H

#include <stdio.h>

enum err {
    ERR_OK = 0,
    ERR_BAD_JSON,               /* 422 json_invalid: body is not JSON */
    ERR_VALIDATION,             /* 422 validation: JSON does not match the schema */
    ERR_BODY_TOO_LARGE,         /* 413 body_too_large */
    ERR_EMPTY_BODY,             /* 422 empty_body */
    ERR_BAD_UTF8,               /* 422 bad_utf8 */
    ERR_TOO_MANY_SMS,           /* 422 too_many_sms */
    ERR_BAD_REQUEST,            /* 400 bad_request: malformed request line, query or header */
    ERR_UNSUPPORTED_MEDIA_TYPE, /* 415 unsupported_media_type */
    ERR_NOT_FOUND,              /* 404 not_found: no such route */
    ERR_METHOD_NOT_ALLOWED,     /* 405 method_not_allowed */
    ERR_OVERLOADED,             /* 503 overloaded, with Retry-After */
    ERR_DRAINING,               /* 503 draining: shutting down */
    ERR_NOT_READY,              /* 503 not_ready: artifacts not loaded yet */
    ERR_TIMEOUT,                /* 504 timeout */
    ERR_UNAUTHORIZED,           /* 401 unauthorized */
    ERR_FORBIDDEN,              /* 403 forbidden */
    ERR_RATE_LIMITED,           /* 429 rate_limited, with Retry-After */
    ERR_DEPENDENCY_UNAVAILABLE, /* 503 dependency_unavailable, with Retry-After */
    ERR_USER_NOT_FOUND,         /* 404 user_not_found */
    ERR_INTERNAL,               /* 500 internal */
    ERR__COUNT                  /* not an error: number of values */
};

struct err_info {
    const char *code;    /* stable snake_case string, e.g. "body_too_large" */
    int http_status;     /* e.g. 413 */
    int retry_after;     /* 1 = replies carry a Retry-After header */
    const char *message; /* short English sentence, safe to show clients */
};

/*
 * The row for e. Never NULL: an out-of-range value returns the ERR_INTERNAL row.
 * The returned pointer refers to static storage.
 */
const struct err_info *err_info(enum err e);

/* Shorthands for err_info(e)->code / ->http_status / ->message. */
const char *err_code(enum err e);
int err_http_status(enum err e);
const char *err_message(enum err e);

/*
 * Raw row lookup for the completeness test: NULL when e has no row (which the
 * test treats as a failure). Normal code uses err_info().
 */
const struct err_info *err_row(int e);

/* Write the table as Markdown (docs/errors.md). Returns 0, or -1 on write error. */
int err_write_markdown(FILE *out);

#endif
