/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The work behind each insights-api endpoint, run off the event loops: a
 * request's body and headers are copied into a task on its event thread,
 * a pipeline thread does everything that may block (credential lookup,
 * MongoDB, sms-extraction, PostgreSQL job table) and builds the whole reply,
 * and the reply is handed back to the request's own event loop
 * (event_base_once) where the framework sends it. So /health, /ready and
 * cheap refusals stay responsive while users are being featurised.
 *
 * DESIGN. One bounded FIFO of tasks (PIPELINE_QUEUE_MAX; full -> 503
 * overloaded) served by PIPELINE_THREADS threads. A task owns copies of
 * everything it reads; the struct http_request is only touched again on its
 * event thread, in the delivery callback. Tasks posted back but not yet
 * delivered are tracked so that a shutdown frees them.
 *
 * Per request (same order for every endpoint): body validation (422,
 * pydantic-v2 detail, bodies redacted), credentials (401, logged to
 * unauthorized_requests; 503 when they cannot be checked), header client ==
 * body client_id (401), then the endpoint's work. Every call, whatever its
 * outcome, writes one usage row and its dumps (DUMP_MODE) through the store.
 *
 * Featurising one user (sync insights, the async job, generate_features):
 * gather (MongoDB or the inline body) -> extract the SMS (sms-extraction, all
 * or nothing) -> features_compute for the groups asked -> one flat JSON
 * object, with the scores (score.h) after the features. With extraction
 * down the SMS groups are null (and the scores reading them), "failed_groups"
 * names them and the reply is marked partial (EXTRACTION_STRICT: 503
 * instead). A partial async result is never reused as complete (jobs.h).
 */
#ifndef INSIGHTS_PIPELINE_H
#define INSIGHTS_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/http_server.h"
#include "common/metrics.h"
#include "insights-api/auth.h"
#include "insights-api/config.h"
#include "insights-api/extraction_client.h"
#include "insights-api/features.h"
#include "insights-api/jobs.h"
#include "insights-api/maps.h"
#include "insights-api/mongo_source.h"
#include "insights-api/score.h"
#include "insights-api/store.h"

enum pipeline_api {
    PIPELINE_INSIGHTS = 0,
    PIPELINE_ASYNC_INSIGHTS,
    PIPELINE_FETCH_EXTRACTED,
    PIPELINE_GENERATE_FEATURES,
    PIPELINE__COUNT
};

/* What the pipeline works with; everything borrowed, outliving the pipeline. */
struct pipeline_deps {
    const struct ins_config *cfg;
    struct metrics *metrics;
    struct auth *auth;
    struct mongo_source *mongo; /* NULL: /api/insights and fetch answer 503 */
    struct extraction_client *extractor;
    const struct features_catalogue *catalogue;
    const struct maps *maps;
    const struct scores *scores; /* may be NULL or hold no score */
    struct store *store;         /* NULL without a database */
    struct store_pool *pool;     /* NULL without a database: async answers 503 */
    int threads;                 /* > 0 */
};

struct pipeline;

/* Start the threads. NULL with err set when they cannot start. */
struct pipeline *pipeline_new(const struct pipeline_deps *deps, char *err, size_t err_len);

/* Wake the local job runner when jobs_submit started a job (set once the runner exists). */
void pipeline_set_runner(struct pipeline *p, struct jobs_runner *runner);

/*
 * On req's event thread: copy what the endpoint needs and queue it. The
 * request is then replied to later, on the same thread. Returns 0, or -1
 * when the queue is full (the caller replies 503 overloaded itself).
 */
int pipeline_submit(struct pipeline *p, struct http_request *req, enum pipeline_api api);

/* The api name used in usage rows and dumps ("insights", "async_insights", ...). */
const char *pipeline_api_name(enum pipeline_api api);

/*
 * jobs_runner_config.compute (ctx = the pipeline): featurise an async job.
 * Fails with "mongo_down", "extraction_down" (EXTRACTION_STRICT) or
 * "internal"; an unknown user is a result ("user not found"), not a failure.
 */
int pipeline_job_compute(void *ctx, const struct jobs_job *job, char **result_json, bool *partial,
                         char *error_code, size_t error_len);

/* Stop taking tasks, finish the queued ones, join the threads. Safe on NULL. */
void pipeline_stop(struct pipeline *p);
/* After http_server_free: frees tasks whose delivery never ran. Safe on NULL. */
void pipeline_free(struct pipeline *p);

/* "YYYY-MM-DD HH:MM:SS" in India time (UTC+05:30) of Unix seconds t. */
void pipeline_format_time(double t, char out[20]);

#endif
