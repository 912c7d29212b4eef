/* SPDX-License-Identifier: Apache-2.0 */
/*
 * insights-api's endpoints: the table, then one function per endpoint (and
 * the fields each validates beyond user_id and client_id). Adding an
 * endpoint is a row here and its function (docs/ARCHITECTURE.md shows one);
 * admission, dumps, usage, metrics and the route come with the row.
 */
#include "insights-api/api.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ist_date.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "insights-api/admission.h"
#include "insights-api/fetch_records.h"
#include "insights-api/inline_source.h"
#include "insights-api/outcomes.h"

#define ENDPOINTS_POOL_WAIT_MS 2000

/* ------------------------------------------------------------ validation */

/* insights, async_insights: groupings and as_of. */
static void ask_groupings(const struct api *api, const json_t *root, struct api_ask *ask,
                          struct validation *v)
{
    admission_check_groupings(v, root, ask, api->d.cfg->max_groupings);
    admission_check_as_of(v, root, ask);
}

static void ask_threshold(const struct api *api, const json_t *root, struct api_ask *ask,
                          struct validation *v)
{
    admission_check_threshold(v, root, ask, api->d.cfg->fetch_max_sms);
}

/* generate_features: groupings are optional (all groups when absent); as_of. */
static void ask_inline(const struct api *api, const json_t *root, struct api_ask *ask,
                       struct validation *v)
{
    if (json_object_get(root, "groupings"))
        admission_check_groupings(v, root, ask, api->d.cfg->max_groupings);
    else
        ask->mask = FEATURES_GROUP_ALL;
    admission_check_as_of(v, root, ask);
}

/* outcomes: outcome, observed_at, request_id / loan_id; no other member (outcomes.h). */
static void ask_outcome(const struct api *api, const json_t *root, struct api_ask *ask,
                        struct validation *v)
{
    struct outcome o;

    (void)api;
    outcomes_check(v, root, ask->now, false, &o);
}

/* ------------------------------------------------------------ the endpoints */

/* POST /api/insights: one user from MongoDB, featurised now. */
static void run_insights(struct api *api, struct api_call *c, const struct api_ask *ask)
{
    struct featurise *fz = api->d.featurise;
    struct featurised f = {.fatal = ERR_OK};
    struct raw_sms_list raw;
    struct json_writer w;
    struct user_data u;

    user_data_init(&u, ask->client_id, ask->user_id, ask->as_of);
    raw_sms_list_init(&raw);
    featurise_gather_mongo(fz, c->request_id, &u, &raw, ask->mask, 0, ask->as_of, &f);
    if (f.fatal == ERR_OK && !f.user_not_found)
        featurise_extract(fz, c->request_id, &raw, &u, ask->mask, &f);
    raw_sms_list_free(&raw);
    if (f.fatal != ERR_OK) {
        api_reply_error(c, f.fatal, NULL);
    } else {
        json_writer_init(&w, API_REPLY_MAX);
        featurise_write(fz, &w, &u, ask->mask, c->request_id, c->requested_at, &f);
        api_reply_writer(c, 200, &w);
        json_writer_free(&w);
    }
    user_data_free(&u);
}

/* POST /api/generate_features: the user's data is in the body. */
static void run_generate(struct api *api, struct api_call *c, const struct api_ask *ask)
{
    struct featurise *fz = api->d.featurise;
    struct featurised f = {.fatal = ERR_OK};
    struct raw_sms_list raw;
    struct json_writer w;
    struct user_data u;
    json_t *detail = NULL;

    memset(&u, 0, sizeof(u));
    raw_sms_list_init(&raw);
    if (inline_source_parse_scanned(ask->root, ask->sms_data, ask->as_of,
                                    (size_t)api->d.cfg->max_sms_per_user, 0, &u, &raw,
                                    &detail) < 0) {
        char *items = json_dumps(detail, JSON_COMPACT);

        api_reply_error(c, ERR_VALIDATION, items ? items : "[]");
        free(items);
        json_decref(detail);
        goto out;
    }
    featurise_extract(fz, c->request_id, &raw, &u, ask->mask, &f);
    if (f.fatal != ERR_OK) {
        api_reply_error(c, f.fatal, NULL);
        goto out;
    }
    json_writer_init(&w, API_REPLY_MAX);
    featurise_write(fz, &w, &u, ask->mask, c->request_id, c->requested_at, &f);
    api_reply_writer(c, 200, &w);
    json_writer_free(&w);
out:
    raw_sms_list_free(&raw);
    user_data_free(&u);
}

/*
 * POST /api/fetch_extracted_data: the latest cnt_sms_threshold records
 * (FETCH_MAX_SMS without one), newest first, in Credeau's record shape.
 */
static void run_fetch(struct api *api, struct api_call *c, const struct api_ask *ask)
{
    struct featurise *fz = api->d.featurise;
    struct featurised f = {.fatal = ERR_OK};
    struct raw_sms_list raw;
    struct user_data u;
    json_t *records = NULL;
    enum err e = ERR_OK;
    char why[512];

    user_data_init(&u, ask->client_id, ask->user_id, (int64_t)c->requested_at);
    raw_sms_list_init(&raw);
    /* the latest messages as synced: no as_of here */
    featurise_gather_mongo(fz, c->request_id, &u, &raw, FEATURES_GROUP_EXTRACTED_SMS,
                           (size_t)ask->threshold, INT64_MAX, &f);
    if (f.fatal == ERR_OK && !f.user_not_found && raw.count > 0)
        e = extraction_client_extract(fz->d.extractor, &raw, c->request_id, &u, &records, why,
                                      sizeof(why));
    if (records) {
        struct fetch_records_ctx ctx = {.client_id = ask->client_id,
                                        .user_id = ask->user_id,
                                        .request_id = c->request_id,
                                        .created_at = c->requested_at,
                                        .with_body = api->d.cfg->fetch_sms_body};
        json_t *shaped = fetch_records_credeau(records, &raw, &ctx);

        json_decref(records);
        records = shaped;
    }
    raw_sms_list_free(&raw);
    if (f.fatal != ERR_OK) {
        api_reply_error(c, f.fatal, NULL);
    } else if (e != ERR_OK) {
        log_warn(c->request_id, "sms extraction failed", LOG_STR("error", why));
        api_reply_error(c, featurise_dependency_error(e), "SMS extraction is unavailable");
    } else {
        json_t *out =
            json_pack("{s:s,s:s,s:o}", "user_id", ask->user_id, "request_id", c->request_id,
                      "extracted_sms_data", records ? records : json_array());

        records = NULL;
        if (f.user_not_found)
            json_object_set_new(out, "message", json_string("user not found"));
        api_reply_tree(c, 200, out);
    }
    json_decref(records);
    user_data_free(&u);
}

/* 202 {user_id, request_id, data_requested_time, message: featurization in progress}. */
static void reply_in_progress(struct api_call *c, const struct jobs_job *job)
{
    struct json_writer w;
    char when[20];

    ist_format_unix(job->requested_at, when);
    json_writer_init(&w, 4096);
    json_writer_object_begin(&w);
    json_writer_kv_string(&w, "user_id", job->user_id);
    json_writer_kv_string(&w, "request_id", job->request_id);
    json_writer_kv_string(&w, "data_requested_time", when);
    json_writer_kv_string(&w, "message", "featurization in progress");
    json_writer_object_end(&w);
    api_reply_writer(c, 202, &w);
    json_writer_free(&w);
}

static void answer_job(struct api *api, struct api_call *c, int outcome, struct jobs_job *job)
{
    enum err e;

    switch (outcome) {
    case JOBS_OUTCOME_STARTED:
        if (api->runner)
            jobs_runner_kick(api->runner);
        reply_in_progress(c, job);
        break;
    case JOBS_OUTCOME_RUNNING:
        reply_in_progress(c, job);
        break;
    case JOBS_OUTCOME_RESULT:
        api_reply_take(c, 200, job->result, job->result ? strlen(job->result) : 0);
        job->result = NULL;
        break;
    default:
        log_warn(c->request_id, "async job failed", LOG_STR("code", job->error));
        /* codes of the error table; older versions stored others ("mongo_down"): a dependency */
        e = err_from_code(job->error);
        e = e == ERR_INTERNAL ? ERR_INTERNAL : featurise_dependency_error(e);
        api_reply_error(c, e, e == ERR_INTERNAL ? NULL : "The job failed: a dependency was down");
        break;
    }
}

/*
 * The state of the user's synced data joins the job key, so that a result
 * is never reused after the user synced again. -1 when answered (MongoDB down).
 */
static int key_add_stamp(struct api *api, struct api_call *c, const struct api_ask *ask,
                         char key[JOBS_GROUPINGS_MAX + 1])
{
    struct mongo_source *mongo = api->d.featurise->d.mongo;
    char stamp[MONGO_SOURCE_STAMP_MAX + 1], why[512];
    bool found;
    enum err e;

    if (!mongo)
        return 0; /* no MongoDB configured: the job fails when computed, as a sync call does */
    e = mongo_source_stamp(mongo, ask->client_id, ask->user_id, stamp, &found, why, sizeof(why));
    if (e != ERR_OK) {
        log_warn(c->request_id, "mongodb read failed", LOG_STR("error", why));
        metrics_dependency_error(api->d.metrics, "mongo");
        api_reply_error(c, e, NULL);
        return -1;
    }
    if (jobs_key_add_data(key, stamp) < 0) {
        api_reply_error(c, ERR_INTERNAL, NULL); /* cannot happen: the stamp is short */
        return -1;
    }
    return 0;
}

/*
 * POST /api/async_insights: the job of (client, user, groupings[, as_of]),
 * started or answered. Without as_of the job is computed as of its start.
 */
static void run_async(struct api *api, struct api_call *c, const struct api_ask *ask)
{
    char why[512], key[JOBS_GROUPINGS_MAX + 1];
    struct jobs_job job;
    PGconn *conn;
    int outcome;

    memset(&job, 0, sizeof(job));
    if (jobs_groupings_key(ask->groupings, ask->n_groupings, key) < 0 ||
        (ask->as_of_given && jobs_key_add_as_of(key, ask->as_of) < 0)) {
        /* cannot happen: validated names always make a key */
        api_reply_error(c, ERR_INTERNAL, NULL);
        return;
    }
    if (key_add_stamp(api, c, ask, key) < 0)
        return;
    conn =
        api->d.pool ? store_pool_get(api->d.pool, ENDPOINTS_POOL_WAIT_MS, why, sizeof(why)) : NULL;
    if (!conn) {
        if (api->d.pool) {
            log_warn(c->request_id, "postgres unavailable for an async job", LOG_STR("error", why));
            metrics_dependency_error(api->d.metrics, "postgres");
        }
        api_reply_error(c, ERR_DEPENDENCY_UNAVAILABLE,
                        api->d.pool ? "Async jobs are unavailable: the database is down"
                                    : "Async jobs need a database (DI_POSTGRES_HOST)");
        return;
    }
    outcome = jobs_submit(conn, ask->client_id, ask->user_id, key, c->request_id,
                          (int)api->d.cfg->result_ttl_s, &job, why, sizeof(why));
    store_pool_put(api->d.pool, conn, outcome < 0);
    if (outcome < 0) {
        log_warn(c->request_id, "async job submission failed", LOG_STR("error", why));
        metrics_dependency_error(api->d.metrics, "postgres");
        api_reply_error(c, ERR_DEPENDENCY_UNAVAILABLE, "Async jobs are unavailable right now");
    } else {
        answer_job(api, c, outcome, &job);
    }
    jobs_job_clear(&job);
}

/* A connection from the pool, or NULL with the 503 reply set (what, e.g. "Outcomes", names it). */
static PGconn *pool_conn(struct api *api, struct api_call *c, const char *what)
{
    char why[512], msg[160];
    PGconn *conn =
        api->d.pool ? store_pool_get(api->d.pool, ENDPOINTS_POOL_WAIT_MS, why, sizeof(why)) : NULL;

    if (conn)
        return conn;
    if (api->d.pool) {
        log_warn(c->request_id, "postgres unavailable", LOG_STR("api", c->api_name),
                 LOG_STR("error", why));
        metrics_dependency_error(api->d.metrics, "postgres");
    }
    snprintf(msg, sizeof(msg),
             api->d.pool ? "%s are unavailable: the database is down"
                         : "%s need a database (DI_POSTGRES_HOST)",
             what);
    api_reply_error(c, ERR_DEPENDENCY_UNAVAILABLE, msg);
    return NULL;
}

/* POST /api/outcomes: one outcome stored (idempotent by client and loan, else request). */
static void run_outcome(struct api *api, struct api_call *c, const struct api_ask *ask)
{
    struct validation v;
    struct outcome o;
    struct json_writer w;
    char why[512];
    PGconn *conn;
    int status;

    validation_init(&v, ADMISSION_MAX_ERRORS);
    outcomes_check(&v, ask->root, ask->now, false, &o); /* passed in ask_outcome */
    json_decref(v.list);
    conn = pool_conn(api, c, "Outcomes");
    if (!conn)
        return;
    status = outcomes_record(conn, api->d.cfg->user_key_secret, &o, why, sizeof(why));
    store_pool_put(api->d.pool, conn, status < 0);
    if (status < 0) {
        log_warn(c->request_id, "outcome not stored", LOG_STR("error", why));
        metrics_dependency_error(api->d.metrics, "postgres");
        api_reply_error(c, ERR_DEPENDENCY_UNAVAILABLE, "Outcomes are unavailable right now");
        return;
    }
    json_writer_init(&w, 4096);
    json_writer_object_begin(&w);
    json_writer_kv_string(&w, "user_id", ask->user_id);
    json_writer_kv_string(&w, "request_id", c->request_id);
    json_writer_kv_string(&w, "status", outcomes_status_name((enum outcomes_status)status));
    json_writer_kv_string(&w, "message", "outcome recorded");
    json_writer_object_end(&w);
    api_reply_writer(c, 200, &w);
    json_writer_free(&w);
}

/* ------------------------------------------------------------ the table */

const struct api_endpoint api_endpoints[] = {
    {"insights", "/api/insights", ask_groupings, run_insights, STORE_API_INSIGHTS},
    {"async_insights", "/api/async_insights", ask_groupings, run_async, STORE_API_INSIGHTS},
    {"fetch_extracted_data", "/api/fetch_extracted_data", ask_threshold, run_fetch,
     STORE_API_FETCH_EXTRACTED},
    {"generate_features", "/api/generate_features", ask_inline, run_generate, STORE_API_OTHER},
    {"outcomes", "/api/outcomes", ask_outcome, run_outcome, STORE_API_OTHER},
};
const size_t api_endpoints_count = sizeof(api_endpoints) / sizeof(api_endpoints[0]);
