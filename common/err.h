/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one error enum of the project. Every failure a client can see is one of
 * these values, and err.c maps each to a stable string code, an HTTP status,
 * whether the reply carries Retry-After, the reply's style (the shape of its
 * body), which daemons send it, and a short human message, in one table.
 * Replies (err_reply_render, used by http_reply_error and by insights-api's
 * API calls), logs, metrics and docs/errors.md (`--error-docs` of each
 * daemon) all read that table, so they cannot drift; every code is sent by
 * tests/integration/test_error_codes.sh, which fails on a code nobody sends.
 *
 * Adding a value: append it before ERR__COUNT, add its row in err.c with the
 * daemons that send it, make a path send it and a case in
 * test_error_codes.sh, run `make docs`. Never rename a code once shipped:
 * clients match on the string code.
 */
#ifndef COMMON_ERR_H
#define COMMON_ERR_H

#include <stddef.h>
#include <stdio.h>

enum err {
    ERR_OK = 0,
    ERR_VALIDATION,             /* 422 validation: the pydantic-v2 detail list */
    ERR_BODY_TOO_LARGE,         /* 413 body_too_large */
    ERR_UNSUPPORTED_MEDIA_TYPE, /* 415 unsupported_media_type */
    ERR_NOT_FOUND,              /* 404 not_found: no such route */
    ERR_METHOD_NOT_ALLOWED,     /* 405 method_not_allowed */
    ERR_OVERLOADED,             /* 503 overloaded, with Retry-After */
    ERR_DRAINING,               /* 503 draining: shutting down */
    ERR_NOT_READY,              /* 503 not_ready: the daemon's readiness hook says no */
    ERR_UNAUTHORIZED,           /* 401 unauthorized: Credeau's body */
    ERR_FORBIDDEN,              /* 403 forbidden: the load balancer's HTML page */
    ERR_RATE_LIMITED,           /* 429 rate_limited, with Retry-After */
    ERR_DEPENDENCY_UNAVAILABLE, /* 502 dependency_unavailable: a dependency failed */
    ERR_INTERNAL,               /* 500 internal */
    ERR_BAD_REQUEST,            /* 400 bad_request: a malformed or ambiguous request head */
    ERR_HEADERS_TOO_LARGE,      /* 431 headers_too_large: request head over the limit */
    ERR_REQUEST_TIMEOUT,        /* 408 request_timeout: head or body not received in time */
    ERR_EXPECTATION_FAILED,     /* 417 expectation_failed: Expect other than 100-continue */
    ERR_NOT_IMPLEMENTED,        /* 501 not_implemented: a transfer coding other than chunked */
    ERR_HTTP_VERSION,           /* 505 http_version_not_supported */
    ERR_DEPENDENCY_TIMEOUT,     /* 504 dependency_timeout: a dependency did not answer in time */
    ERR_DEPENDENCY_OVERLOADED,  /* 503 dependency_overloaded: it shed load, with Retry-After */
    ERR__COUNT                  /* not an error: number of values */
};

/* How a reply of this code is shaped. */
enum err_style {
    ERR_STYLE_JSON = 0,    /* {"detail":"<message>","code":"<code>"} */
    ERR_STYLE_DETAIL_LIST, /* {"detail":[{"type","loc","msg","input"[,"ctx"]}...]} (FastAPI) */
    ERR_STYLE_CREDEAU_401, /* {"error":"Could not validate credentials. (request_id=<id>). ..."} */
    ERR_STYLE_HTML_403,    /* the nginx 403 page of credeau.md §2.4, text/html */
    ERR_STYLE__COUNT
};

/* Which daemons send a code (a bit each). */
#define ERR_BY_SMSX 1u
#define ERR_BY_INSIGHTS 2u

struct err_info {
    const char *code; /* stable snake_case string, e.g. "body_too_large" */
    int http_status;  /* e.g. 413 */
    int retry_after;  /* 1 = replies carry a Retry-After header */
    enum err_style style;
    unsigned sent_by;    /* ERR_BY_* bits */
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

/* The value whose code is code, or ERR__COUNT when none is (stored codes of old versions). */
enum err err_from_code(const char *code);

/*
 * Raw row lookup for the completeness test: NULL when e has no row (which the
 * test treats as a failure). Normal code uses err_info().
 */
const struct err_info *err_row(int e);

/* A rendered error reply. body is malloc'd (the caller frees or hands it on). */
struct err_reply {
    int status;
    const char *content_type; /* "application/json" or "text/html" */
    int retry_after;          /* 1 = add Retry-After */
    char *body;
    size_t len;
};

/*
 * Render e's reply in its style. detail: for ERR_STYLE_JSON the "detail"
 * text (NULL = the table's message; a fixed text of ours, never client
 * input); for ERR_STYLE_DETAIL_LIST the items as a JSON array text from our
 * own serialiser (NULL = "[]"); ignored otherwise. request_id goes into the
 * Credeau 401 body. Allocation failure aborts.
 */
void err_reply_render(enum err e, const char *detail, const char *request_id,
                      struct err_reply *out);

/*
 * Write the section of docs/errors.md for one daemon: "## <service>", the
 * rows whose sent_by has a bit of sender, and the reply styles they use.
 * Returns 0, or -1 on write error.
 */
int err_write_markdown(FILE *out, const char *service, unsigned sender);

#endif
