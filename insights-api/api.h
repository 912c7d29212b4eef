/* SPDX-License-Identifier: Apache-2.0 */
/*
 * insights-api's endpoints as one table, and the sequence every call goes
 * through. An endpoint is a row of api_endpoints[] (endpoints.c): its name
 * (usage rows, dumps, metrics), its path, the body fields it validates
 * beyond the common ones, the function that does its work, and where its
 * dumps go. Nothing else names an endpoint: the front (routes.c) registers
 * a route per row, and api_serve() runs any row the same way.
 *
 * DESIGN. A call (struct api_call) holds copies of everything it reads
 * from the HTTP request (body, credential headers, request id, arrival
 * time) and receives its reply (status, body, Retry-After), so it can be
 * served on any thread and built without a socket: the front fills one on
 * the event loop, a work_pool thread serves it, and the reply goes back to
 * the loop; tests build one with api_call_new() and call api_serve().
 *
 * api_serve(), the same for every endpoint:
 *   0. the call is stamped with the clock (TEST_CLOCK in tests, else its arrival)
 *   1. queued longer than PIPELINE_TIMEOUT_MS      -> 503 overloaded
 *   2. body: JSON object, user_id, client_id, then the row's own fields
 *      (admission.c, through common/validation)   -> 422 detail list
 *   3. credentials, and the header client == the body's client_id
 *      (admission.c)                               -> 401 Credeau body / 503
 *   4. the row's run(): gather -> extract -> features -> scores -> reply
 *      (featurise.c) or the endpoint's own work
 *   5. the dumps (DUMP_MODE) of an admitted call, into the row's tables
 *   6. always: one usage row and the api_calls_total count.
 */
#ifndef INSIGHTS_API_H
#define INSIGHTS_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/metrics.h"
#include "common/validation.h"
#include "common/work_pool.h"
#include "insights-api/auth.h"
#include "insights-api/config.h"
#include "insights-api/featurise.h"
#include "insights-api/jobs.h"
#include "insights-api/store.h"

#define API_MAX_GROUPINGS 256
#define API_REPLY_MAX FEATURISE_RESULT_MAX /* one reply's bytes at most */
#define API_RETRY_AFTER_S 5                /* Retry-After of this daemon's 503s */

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
};

/* One API call: the copy of an HTTP request a pool thread works on, and its reply. */
struct api_call {
    struct work_item item; /* first: the pool's links */
    const struct api_endpoint *endpoint;
    struct http_request *req; /* NULL without HTTP; only touched on its event thread */
    char request_id[72];
    char *body; /* NUL-terminated; wiped when freed */
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

/* What the endpoints work with; everything borrowed, outliving the api. */
struct api_deps {
    const struct ins_config *cfg;
    struct metrics *metrics;
    struct auth *auth;
    struct featurise *featurise;
    struct store *store;     /* NULL without a database */
    struct store_pool *pool; /* NULL without a database: async answers 503 */
};

struct api {
    struct api_deps d;
    struct jobs_runner *runner;    /* wakes the local runner after a job started; may be NULL */
    struct metrics_counter *calls; /* by api */
    struct metrics_counter *auth;  /* credential checks by result */
};

/* One row of the table. */
struct api_endpoint {
    const char *name; /* "insights": usage rows, dumps, api_calls_total{api} */
    const char *path; /* "/api/insights" (POST) */
    /* The fields beyond user_id and client_id; adds detail items to v, fills ask. */
    void (*validate)(const struct api *api, const json_t *root, struct api_ask *ask,
                     struct validation *v);
    /* The work of an admitted call: sets the reply (api_reply_*). May block. */
    void (*run)(struct api *api, struct api_call *call, const struct api_ask *ask);
    enum store_api dump; /* the dump tables of this endpoint's calls */
};

extern const struct api_endpoint api_endpoints[];
extern const size_t api_endpoints_count;

/* The row whose name is name, or NULL. */
const struct api_endpoint *api_endpoint_find(const char *name);

/* Registers the metrics of api (deps copied). */
void api_init(struct api *api, const struct api_deps *deps);

/* Set once the job runner exists (it computes through featurise). */
void api_set_runner(struct api *api, struct jobs_runner *runner);

/*
 * A call to endpoint e with copies of body[0..len) and the headers (either
 * may be NULL), arriving now. Allocation failure aborts.
 */
struct api_call *api_call_new(const struct api_endpoint *e, const char *request_id,
                              const char *body, size_t len, const char *client_id,
                              const char *token);
void api_call_free(struct api_call *c);

/* Serve call from start to reply (steps 1-6 above). Blocking; any thread. */
void api_serve(struct api *api, struct api_call *call);

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
