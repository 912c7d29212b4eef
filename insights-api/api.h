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
 * the loop; tests build one with api_call_for() and call api_serve().
 *
 * Over HTTP the credentials are checked first from the request head alone
 * (api_serve_head, before the body is read: routes.c); the call made once
 * the body is in then has credentials_checked set, and step 3 only matches
 * the header client against the body's.
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
#include "insights-api/admission.h"
#include "insights-api/api_call.h"
#include "insights-api/auth.h"
#include "insights-api/config.h"
#include "insights-api/featurise.h"
#include "insights-api/jobs.h"
#include "insights-api/store.h"

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
    struct admission admission;    /* credentials */
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

/* A call of endpoint e (api_call_new with the endpoint set). */
struct api_call *api_call_for(const struct api_endpoint *e, const char *request_id,
                              const char *body, size_t len, const char *client_id,
                              const char *token);

/* Serve call from start to reply (steps 1-6 above). Blocking; any thread. */
void api_serve(struct api *api, struct api_call *call);

/*
 * The credentials alone, from the request head before its body is read
 * (the front's head callback): an unauthenticated client never makes us
 * buffer a body. Returns 0 when they pass (no reply set; the call that
 * follows with the body sets credentials_checked), or -1 with the 401/503
 * reply set and the unauthorized and usage rows written, as step 3 does.
 */
int api_serve_head(struct api *api, struct api_call *call);

/*
 * A call dropped unserved at shutdown (the server answered its request 503
 * draining): its usage row says 503, so every call stays accounted for.
 */
void api_call_dropped(struct api *api, struct api_call *call);

#endif
