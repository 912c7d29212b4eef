/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One insights-api call: the copy of an HTTP request a pool thread works on
 * (body, credential headers, request id, arrival time), what its body asks
 * once validated, and the reply it receives. Nothing here knows HTTP or the
 * endpoints, so a call can be served on any thread and built without a
 * socket (tests/unit/insights-api/test_api.c). Errors are replied from the
 * error table (common/err.h), in each code's style.
 */
#ifndef INSIGHTS_API_CALL_H
#define INSIGHTS_API_CALL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/json_writer.h"
#include "common/work_pool.h"
#include "insights-api/featurise.h"

#define API_MAX_GROUPINGS 256
#define API_REPLY_MAX FEATURISE_RESULT_MAX /* one reply's bytes at most */
#define API_RETRY_AFTER_S 5                /* Retry-After of this daemon's 503s */

struct api_endpoint; /* api.h */

/* What a request asks, after validation. Strings borrow from root. */
struct api_ask {
    json_t *root; /* the parsed body (owned by api_serve) */
    const char *client_id;
    const char *user_id;
    unsigned mask; /* FEATURES_GROUP_* asked */
    const char *groupings[API_MAX_GROUPINGS];
    size_t n_groupings;
    long threshold; /* cnt_sms_threshold */
    double now;     /* the call's time: the default as_of and the latest one accepted */
    int64_t as_of;  /* Unix seconds the features are computed as of (the call's time by default) */
    bool as_of_given; /* the body named as_of (the async job key then includes it) */
    /* the body's sms_data items when inline_scan.h read it (root then holds a stand-in), or NULL */
    struct raw_sms_list *sms_data;
};

/* One API call: the copy of an HTTP request a pool thread works on, and its reply. */
struct api_call {
    struct work_item item;               /* first: the pool's links */
    const struct api_endpoint *endpoint; /* set by api_call_for (api.h) */
    const char *api_name;                /* the endpoint's name (a literal) */
    struct http_request *req;            /* NULL without HTTP; only touched on its event thread */
    char request_id[72];                 /* the server's: the key of every row */
    char client_request_id[72];          /* the client's X-Request-Id, or "" (stored beside it) */
    bool head_only;                      /* the credentials check from the head (api_serve_head) */
    bool credentials_checked;            /* api_serve_head passed: step 3 only matches the client */
    bool passed; /* head_only: the credentials passed (the body comes next) */
    bool served; /* a pool thread took it (else it was dropped at shutdown) */
    char *body;  /* NUL-terminated; wiped when freed */
    size_t body_len;
    char *hdr_client; /* x-client-id, or NULL */
    char *hdr_token;  /* x-auth-token, or NULL; wiped when freed */
    double requested_at;
    struct timespec t_in; /* monotonic, when the call was made */

    /* the reply */
    int status;
    const char *content_type; /* NULL = application/json */
    char *reply;
    size_t reply_len;
    int retry_after_s; /* > 0: send Retry-After */
};

/*
 * A call of the endpoint named api_name with copies of body[0..len) and the
 * headers (either may be NULL), arriving now. Allocation failure aborts.
 */
struct api_call *api_call_new(const char *api_name, const char *request_id, const char *body,
                              size_t len, const char *client_id, const char *token);
void api_call_free(struct api_call *c);

/* ---- the reply of a call (each replaces what was set before) ---- */

/* status with body (taken: malloc'd). */
void api_reply_take(struct api_call *c, int status, char *body, size_t len);
/* status with the writer's text; a writer in error becomes 500 internal. */
void api_reply_writer(struct api_call *c, int status, struct json_writer *w);
/* status with tree's text (the reference is taken). */
void api_reply_tree(struct api_call *c, int status, json_t *tree);
/* e's reply from the error table, in its style (detail: see err_reply_render). */
void api_reply_error(struct api_call *c, enum err e, const char *detail);

/* Seconds since the call was made (monotonic). */
double api_call_elapsed(const struct api_call *c);

#endif
