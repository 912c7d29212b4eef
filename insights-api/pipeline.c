/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pipeline threads and the endpoint work they run (see the DESIGN note
 * in pipeline.h). Reading order: the task and its queue, validation of the
 * small bodies (insights, fetch), admission (credentials, client match),
 * featurising one user, the four endpoints, the async job callback, then
 * the threads and delivery back to the event loops.
 */
#include "insights-api/pipeline.h"

#include <event2/event.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json_writer.h"
#include "common/log.h"
#include "insights-api/inline_source.h"
#include "insights-api/userdata_build.h"

#define PIPELINE_USER_ID_MAX 64 /* Credeau: user_id max 64 chars, non-PII */
#define PIPELINE_REPLY_MAX (64u << 20)
#define PIPELINE_POOL_WAIT_MS 2000
#define PIPELINE_RETRY_AFTER "5"
#define PIPELINE_SMS_GROUPS (FEATURES_GROUP_SMS | FEATURES_GROUP_EXTRACTED_SMS)
#define PIPELINE_MAX_GROUPINGS 256

static const char *const api_names[PIPELINE__COUNT] = {"insights", "async_insights",
                                                       "fetch_extracted_data", "generate_features"};

static const char unauthorized_fmt[] =
    "Could not validate credentials. (request_id=%s). It has been logged successfully on our "
    "servers. Please contact us with the request_id for assistance.";

struct task {
    struct task *next, *prev;
    struct pipeline *p;
    enum pipeline_api api;
    struct http_request *req; /* touched only on its event thread */
    struct event_base *base;
    char request_id[72];
    char *body;
    size_t body_len;
    char *hdr_client;
    char *hdr_token;
    double requested_at;  /* wall clock, seconds */
    struct timespec t_in; /* monotonic, when queued */

    /* the reply */
    int status;
    bool html;
    char *reply;
    size_t reply_len;
    char retry_after[16];
};

struct pipeline {
    struct pipeline_deps d;
    struct jobs_runner *runner;
    pthread_t *threads;
    int n_threads;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct task *head, *tail; /* queue */
    size_t queued;
    bool stopping;
    struct task *posted; /* replies handed to event loops, not yet delivered */

    struct metrics_gauge *queue_gauge;
    struct metrics_counter *calls;      /* by api */
    struct metrics_counter *auth;       /* credential checks by result */
    struct metrics_counter *featurised; /* by outcome */
    struct metrics_histogram *featurise_seconds;
    struct metrics_counter *scored;      /* by "score:arm" (":shadow" for shadows) */
    struct metrics_counter *scores_null; /* by "score:reason" */
};

/* What a request asks, after validation. Strings borrow from the parsed body. */
struct ask {
    const char *client_id;
    const char *user_id;
    unsigned mask;
    const char *groupings[PIPELINE_MAX_GROUPINGS];
    size_t n_groupings;
    long threshold;
};

static double wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono_since(const struct timespec *t0)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)(ts.tv_sec - t0->tv_sec) + (double)(ts.tv_nsec - t0->tv_nsec) / 1e9;
}

void pipeline_format_time(double t, char out[20])
{
    time_t ist = (time_t)floor(t) + 19800; /* UTC+05:30 */
    struct tm tm;

    gmtime_r(&ist, &tm);
    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

const char *pipeline_api_name(enum pipeline_api api)
{
    return api >= 0 && api < PIPELINE__COUNT ? api_names[api] : "unknown";
}

static char *xstrdup(const char *s)
{
    char *c = strdup(s ? s : "");

    if (!c) {
        fputs("fatal: out of memory in the pipeline\n", stderr);
        abort();
    }
    return c;
}

/* ------------------------------------------------------------ replies */

static void reply_set(struct task *t, int status, char *body, size_t len)
{
    free(t->reply);
    t->status = status;
    t->reply = body;
    t->reply_len = len;
    t->html = false;
}

static void reply_writer(struct task *t, int status, struct json_writer *w)
{
    size_t len;
    char *body;

    if (!json_writer_ok(w)) {
        log_error(t->request_id, "reply serialisation failed", LOG_INT("status", status));
        status = 500;
        json_writer_reset(w);
        json_writer_object_begin(w);
        json_writer_kv_string(w, "detail", err_message(ERR_INTERNAL));
        json_writer_kv_string(w, "code", err_code(ERR_INTERNAL));
        json_writer_object_end(w);
    }
    body = json_writer_take(w, &len);
    reply_set(t, status, body, len);
}

/* {"detail": message, "code": code} with the error table's status (and Retry-After). */
static void reply_error(struct task *t, enum err e, const char *detail)
{
    struct json_writer w;

    json_writer_init(&w, 4096);
    json_writer_object_begin(&w);
    json_writer_kv_string(&w, "detail", detail ? detail : err_message(e));
    json_writer_kv_string(&w, "code", err_code(e));
    json_writer_object_end(&w);
    reply_writer(t, err_http_status(e), &w);
    json_writer_free(&w);
    if (err_info(e)->retry_after)
        snprintf(t->retry_after, sizeof(t->retry_after), "%s", PIPELINE_RETRY_AFTER);
}

/* Reply with tree, whose reference is taken (decref'd here). */
static void reply_json_tree(struct task *t, int status, json_t *tree)
{
    char *text = json_dumps(tree, JSON_COMPACT);

    json_decref(tree);
    if (!text) {
        reply_error(t, ERR_INTERNAL, NULL);
        return;
    }
    reply_set(t, status, text, strlen(text));
}

static void reply_unauthorized(struct task *t)
{
    char msg[sizeof(unauthorized_fmt) + 80];
    struct json_writer w;

    snprintf(msg, sizeof(msg), unauthorized_fmt, t->request_id);
    json_writer_init(&w, 4096);
    json_writer_object_begin(&w);
    json_writer_kv_string(&w, "error", msg);
    json_writer_object_end(&w);
    reply_writer(t, 401, &w);
    json_writer_free(&w);
}

/* ------------------------------------------------------------ validation */

static json_t *loc2(const char *a, const char *b)
{
    return b ? json_pack("[ss]", a, b) : json_pack("[s]", a);
}

/* An object, or an array holding a container: could carry anything, so never echoed. */
static bool nests(const json_t *v)
{
    size_t i;
    json_t *e;

    if (json_is_object(v))
        return true;
    if (!json_is_array(v))
        return false;
    json_array_foreach(v, i, e)
    {
        if (json_is_object(e) || json_is_array(e))
            return true;
    }
    return false;
}

/* The body echoed in a detail item: known small fields as sent, anything else "[redacted]". */
static json_t *echo_body(const json_t *root)
{
    static const char *const keep[] = {"user_id", "client_id", "groupings", "cnt_sms_threshold"};
    json_t *out;
    const char *key;
    json_t *v;

    if (!json_is_object(root))
        return json_string("[redacted]");
    out = json_object();
    json_object_foreach((json_t *)root, key, v)
    {
        bool known = false;

        for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
            known |= strcmp(key, keep[i]) == 0;
        json_object_set_new(out, key,
                            known && !nests(v) ? json_deep_copy(v) : json_string("[redacted]"));
    }
    return out;
}

static void detail_add(json_t *detail, const char *type, json_t *loc, const char *msg,
                       json_t *input, json_t *ctx)
{
    json_t *item = json_pack("{s:s,s:o,s:s,s:o}", "type", type, "loc", loc, "msg", msg, "input",
                             input ? input : json_null());

    if (ctx)
        json_object_set_new(item, "ctx", ctx);
    json_array_append_new(detail, item);
}

/* A required string field no longer than max characters. */
static const char *check_string(json_t *detail, const json_t *root, const char *field, size_t max)
{
    json_t *v = json_object_get(root, field);
    const char *s;

    if (!v) {
        detail_add(detail, "missing", loc2("body", field), "Field required", echo_body(root), NULL);
        return NULL;
    }
    if (!json_is_string(v)) {
        detail_add(detail, "string_type", loc2("body", field), "Input should be a valid string",
                   json_is_object(v) || json_is_array(v) ? json_string("[redacted]")
                                                         : json_deep_copy(v),
                   NULL);
        return NULL;
    }
    s = json_string_value(v);
    if (json_string_length(v) > max || json_string_length(v) != strlen(s)) {
        char msg[64];

        snprintf(msg, sizeof(msg), "String should have at most %zu characters", max);
        detail_add(detail, "string_too_long", loc2("body", field), msg, json_string("[redacted]"),
                   json_pack("{s:I}", "max_length", (json_int_t)max));
        return NULL;
    }
    return s;
}

static void check_groupings(json_t *detail, const json_t *root, struct ask *a, long max)
{
    json_t *v = json_object_get(root, "groupings");
    size_t i;
    json_t *g;

    if (!v) {
        detail_add(detail, "missing", loc2("body", "groupings"), "Field required", echo_body(root),
                   NULL);
        return;
    }
    if (!json_is_array(v)) {
        detail_add(detail, "list_type", loc2("body", "groupings"), "Input should be a valid list",
                   json_is_object(v) ? json_string("[redacted]") : json_deep_copy(v), NULL);
        return;
    }
    if (json_array_size(v) > (size_t)max || json_array_size(v) > PIPELINE_MAX_GROUPINGS) {
        detail_add(detail, "too_long", loc2("body", "groupings"),
                   "List should have at most MAX_GROUPINGS items", json_string("[redacted]"),
                   json_pack("{s:I}", "max_length", (json_int_t)max));
        return;
    }
    json_array_foreach(v, i, g)
    {
        char why[256];
        json_t *loc = json_pack("[ssI]", "body", "groupings", (json_int_t)i);

        if (!json_is_string(g)) {
            detail_add(detail, "string_type", loc, "Input should be a valid string",
                       json_is_object(g) || json_is_array(g) ? json_string("[redacted]")
                                                             : json_deep_copy(g),
                       NULL);
            continue;
        }
        if (features_grouping_add(json_string_value(g), &a->mask, why, sizeof(why)) < 0) {
            detail_add(
                detail, "literal_error", loc,
                "Input should be 'sms', 'extracted_sms', 'fraud', 'apps' or 'device'",
                json_string(json_string_length(g) <= 32 ? json_string_value(g) : "[redacted]"),
                NULL);
            continue;
        }
        json_decref(loc);
        a->groupings[a->n_groupings++] = json_string_value(g);
    }
}

static void check_threshold(json_t *detail, const json_t *root, struct ask *a, long max)
{
    json_t *v = json_object_get(root, "cnt_sms_threshold");

    if (!v) {
        detail_add(detail, "missing", loc2("body", "cnt_sms_threshold"), "Field required",
                   echo_body(root), NULL);
        return;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max) {
        char msg[96];

        snprintf(msg, sizeof(msg), "Input should be an integer between 1 and %ld", max);
        detail_add(detail, json_is_integer(v) ? "less_than_equal" : "int_type",
                   loc2("body", "cnt_sms_threshold"), msg,
                   json_is_object(v) || json_is_array(v) ? json_string("[redacted]")
                                                         : json_deep_copy(v),
                   json_pack("{s:I}", "le", (json_int_t)max));
        return;
    }
    a->threshold = (long)json_integer_value(v);
}

/*
 * Parse and validate t's body for its endpoint. Returns the tree (caller
 * decrefs) with *a filled, or NULL with the 422 reply set on t.
 */
static json_t *validate(struct pipeline *p, struct task *t, struct ask *a)
{
    json_error_t jerr;
    json_t *root = json_loadb(t->body, t->body_len, 0, &jerr);
    json_t *detail = json_array();

    memset(a, 0, sizeof(*a));
    if (!root) {
        detail_add(detail, "json_invalid", json_pack("[sI]", "body", (json_int_t)jerr.position),
                   "JSON decode error", json_object(),
                   json_pack("{s:s}", "error", "Expecting value"));
    } else if (!json_is_object(root)) {
        detail_add(detail, "model_attributes_type", json_pack("[s]", "body"),
                   "Input should be a valid dictionary or object to extract fields from",
                   json_string("[redacted]"), NULL);
    } else {
        a->user_id = check_string(detail, root, "user_id", PIPELINE_USER_ID_MAX);
        a->client_id = check_string(detail, root, "client_id", AUTH_ID_MAX);
        if (t->api == PIPELINE_INSIGHTS || t->api == PIPELINE_ASYNC_INSIGHTS)
            check_groupings(detail, root, a, p->d.cfg->max_groupings);
        if (t->api == PIPELINE_FETCH_EXTRACTED)
            check_threshold(detail, root, a, p->d.cfg->fetch_max_sms);
        if (t->api == PIPELINE_GENERATE_FEATURES && json_object_get(root, "groupings"))
            check_groupings(detail, root, a, p->d.cfg->max_groupings);
        else if (t->api == PIPELINE_GENERATE_FEATURES)
            a->mask = FEATURES_GROUP_ALL;
    }
    if (json_array_size(detail) == 0) {
        json_decref(detail);
        return root;
    }
    reply_json_tree(t, 422, json_pack("{s:o}", "detail", detail));
    json_decref(root);
    return NULL;
}

/* ------------------------------------------------------------ admission */

/* Credentials and the header/body client match. Returns 0, or -1 with the reply set. */
static int admit(struct pipeline *p, struct task *t, const struct ask *a)
{
    char why[256] = "";
    enum auth_result r =
        auth_check(p->d.auth, t->hdr_client, t->hdr_token, wall_now(), why, sizeof(why));

    metrics_counter_add_label(p->auth,
                              r == AUTH_OK       ? "ok"
                              : r == AUTH_DENIED ? "denied"
                                                 : "unavailable",
                              1);
    if (r == AUTH_UNAVAILABLE) {
        log_warn(t->request_id, "credentials could not be checked", LOG_STR("error", why));
        reply_error(t, ERR_DEPENDENCY_UNAVAILABLE, "Credentials cannot be checked right now");
        return -1;
    }
    if (r == AUTH_OK && strcmp(t->hdr_client, a->client_id) != 0) {
        r = AUTH_DENIED;
        snprintf(why, sizeof(why), "x-client-id does not match the body's client_id");
    }
    if (r != AUTH_OK) {
        log_info(t->request_id, "credentials refused", LOG_STR("reason", why),
                 LOG_STR("api", pipeline_api_name(t->api)));
        store_unauthorized(p->d.store, t->hdr_client, t->request_id, t->hdr_token);
        reply_unauthorized(t);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ featurising */

struct featurised {
    bool user_not_found;
    unsigned failed; /* groups asked whose source failed */
    enum err fatal;  /* ERR_OK, or the error to answer with */
    const char *fatal_code;
};

/* Extract raw into u (all or nothing); sets u->sms_state. */
static void extract_into(struct pipeline *p, const char *request_id, struct raw_sms_list *raw,
                         struct user_data *u, unsigned mask, struct featurised *f)
{
    char why[512];
    enum err e;

    if (raw->count == 0 || !(mask & PIPELINE_SMS_GROUPS))
        return;
    e = extraction_client_extract(p->d.extractor, raw, request_id, u, NULL, why, sizeof(why));
    if (e == ERR_OK) {
        user_data_sort_sms(u);
        u->sms_state = SOURCE_OK;
        return;
    }
    log_warn(request_id, "sms extraction failed", LOG_STR("error", why),
             LOG_STR("code", err_code(e)));
    u->sms_state = SOURCE_FAILED;
    f->failed |= mask & PIPELINE_SMS_GROUPS;
    if (p->d.cfg->extraction_strict) {
        f->fatal = ERR_DEPENDENCY_UNAVAILABLE;
        f->fatal_code = "extraction_down";
    }
}

/* Read one user from MongoDB into u and raw. */
static void gather_mongo(struct pipeline *p, const char *request_id, struct user_data *u,
                         struct raw_sms_list *raw, unsigned mask, size_t max_sms,
                         struct featurised *f)
{
    char why[512];
    bool want_sms = mask & PIPELINE_SMS_GROUPS;
    bool want_apps = mask & (FEATURES_GROUP_FRAUD | FEATURES_GROUP_APPS);
    bool want_device = mask & (FEATURES_GROUP_FRAUD | FEATURES_GROUP_DEVICE);
    enum err e;

    if (!p->d.mongo) {
        f->fatal = ERR_DEPENDENCY_UNAVAILABLE;
        f->fatal_code = "mongo_down";
        return;
    }
    e = mongo_source_read(p->d.mongo, u->client_id, u->user_id, want_sms, want_apps, want_device,
                          max_sms, u, raw, why, sizeof(why));
    if (e == ERR_USER_NOT_FOUND) {
        f->user_not_found = true;
    } else if (e != ERR_OK) {
        log_warn(request_id, "mongodb read failed", LOG_STR("error", why));
        metrics_dependency_error(p->d.metrics, "mongo");
        f->fatal = ERR_DEPENDENCY_UNAVAILABLE;
        f->fatal_code = "mongo_down";
    }
}

/*
 * The one flat reply object: ids and times, every feature (when computed),
 * the scores, failed_groups when partial, message, data_processed_time.
 */
static void write_result(struct json_writer *w, const struct pipeline *p, const char *user_id,
                         const char *request_id, double requested_at,
                         const struct feature_vector *v, const struct featurised *f,
                         const struct score_outcome *scores, size_t n_scores)
{
    char when[20];

    json_writer_object_begin(w);
    json_writer_kv_string(w, "user_id", user_id);
    json_writer_kv_string(w, "request_id", request_id);
    pipeline_format_time(requested_at, when);
    json_writer_kv_string(w, "data_requested_time", when);
    if (v)
        features_write_json(p->d.catalogue, v, w);
    scores_write_json(scores, n_scores, w);
    if (f->failed) {
        json_writer_key(w, "failed_groups");
        json_writer_array_begin(w);
        for (unsigned bit = 1; bit < FEATURES_GROUP_ALL; bit <<= 1)
            if (f->failed & bit)
                json_writer_string(w, features_group_name((enum features_group)bit));
        json_writer_array_end(w);
    }
    json_writer_kv_string(w, "message",
                          f->user_not_found ? "user not found" : "featurization completed");
    pipeline_format_time(wall_now(), when);
    json_writer_kv_string(w, "data_processed_time", when);
    json_writer_object_end(w);
}

/*
 * Score u's features: count every outcome per arm, log the shadows (score,
 * arm and value only: never features) beside the returned value.
 */
static size_t score_user(struct pipeline *p, const struct feature_vector *v,
                         const struct user_data *u, unsigned mask, const struct featurised *f,
                         const char *request_id, struct score_outcome **out)
{
    struct scores_scratch *sc;
    size_t n;

    *out = NULL;
    if (scores_count(p->d.scores) == 0)
        return 0;
    *out = calloc(scores_outcomes_max(p->d.scores), sizeof(**out));
    sc = scores_scratch_new(p->d.scores);
    if (!*out || !sc) {
        fputs("fatal: out of memory for scores\n", stderr);
        abort();
    }
    n = scores_evaluate(p->d.scores, v, mask, f->failed, u->client_id, u->user_id,
                        (int)p->d.cfg->score_reason_codes, sc, *out);
    scores_scratch_free(sc);
    for (size_t i = 0; i < n; i++) {
        const struct score_outcome *o = &(*out)[i];
        char label[160];

        snprintf(label, sizeof(label), "%s:%s%s", o->score, o->arm, o->shadow ? ":shadow" : "");
        metrics_counter_add_label(p->scored, label, 1);
        if (o->is_null && !o->shadow) {
            snprintf(label, sizeof(label), "%s:%s", o->score, o->null_reason);
            metrics_counter_add_label(p->scores_null, label, 1);
        }
        if (!o->shadow)
            continue;
        for (size_t k = 0; k < n; k++)
            if (!(*out)[k].shadow && strcmp((*out)[k].score, o->score) == 0)
                log_info(request_id, "shadow score", LOG_STR("score", o->score),
                         LOG_STR("shadow_arm", o->arm), LOG_DOUBLE("shadow_value", o->value),
                         LOG_STR("returned_arm", (*out)[k].arm),
                         LOG_DOUBLE("returned_value", (*out)[k].value));
    }
    return n;
}

/* Compute the features of u for mask and write the reply into w. */
static void compute_and_write(struct pipeline *p, struct json_writer *w, struct user_data *u,
                              unsigned mask, const char *request_id, double requested_at,
                              struct featurised *f)
{
    struct feature_vector v;
    struct score_outcome *scores;
    size_t n_scores;
    struct timespec t0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (f->user_not_found) {
        write_result(w, p, u->user_id, request_id, requested_at, NULL, f, NULL, 0);
        metrics_counter_add_label(p->featurised, "user_not_found", 1);
        return;
    }
    if (features_vector_init(&v, p->d.catalogue) < 0) {
        fputs("fatal: out of memory for a feature vector\n", stderr);
        abort();
    }
    features_compute(p->d.catalogue, p->d.maps, u, mask, &v);
    n_scores = score_user(p, &v, u, mask, f, request_id, &scores);
    write_result(w, p, u->user_id, request_id, requested_at, &v, f, scores, n_scores);
    free(scores);
    features_vector_free(&v);
    metrics_histogram_observe(p->featurise_seconds, mono_since(&t0));
    metrics_counter_add_label(p->featurised, f->failed ? "partial" : "complete", 1);
}

/* ------------------------------------------------------------ endpoints */

static void dump(struct pipeline *p, struct task *t, const struct ask *a, enum store_api api,
                 const char *groupings_json, bool with_response)
{
    struct store_dump d = {
        .api = api,
        .api_name = pipeline_api_name(t->api),
        .request_id = t->request_id,
        .client_id = a->client_id,
        .user_id = a->user_id,
        .groupings_json = groupings_json,
        .request_json = t->body,
        .request_len = t->body_len,
        .has_response = with_response && t->status == 200,
        .response_json = t->reply,
        .response_len = t->reply_len,
        .time_to_featurize = mono_since(&t->t_in),
    };
    char cutoff[20];

    pipeline_format_time(t->requested_at, cutoff);
    d.cutoff_date = cutoff;
    store_dump(p->d.store, &d);
}

static char *groupings_json(const struct ask *a)
{
    json_t *arr = json_array();
    char *s;

    for (size_t i = 0; i < a->n_groupings; i++)
        json_array_append_new(arr, json_string(a->groupings[i]));
    s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}

static void run_insights(struct pipeline *p, struct task *t, const struct ask *a)
{
    struct user_data u;
    struct raw_sms_list raw;
    struct featurised f = {.fatal = ERR_OK};
    struct json_writer w;
    char *gj;

    user_data_init(&u, a->client_id, a->user_id, (int64_t)t->requested_at);
    raw_sms_list_init(&raw);
    gather_mongo(p, t->request_id, &u, &raw, a->mask, 0, &f);
    if (f.fatal == ERR_OK && !f.user_not_found)
        extract_into(p, t->request_id, &raw, &u, a->mask, &f);
    raw_sms_list_free(&raw);
    if (f.fatal != ERR_OK) {
        reply_error(t, f.fatal, NULL);
    } else {
        json_writer_init(&w, PIPELINE_REPLY_MAX);
        compute_and_write(p, &w, &u, a->mask, t->request_id, t->requested_at, &f);
        reply_writer(t, 200, &w);
        json_writer_free(&w);
    }
    user_data_free(&u);
    gj = groupings_json(a);
    dump(p, t, a, STORE_API_INSIGHTS, gj, true);
    free(gj);
}

static void run_generate(struct pipeline *p, struct task *t, const struct ask *a, json_t *root)
{
    struct user_data u;
    struct raw_sms_list raw;
    struct featurised f = {.fatal = ERR_OK};
    struct json_writer w;
    json_t *detail = NULL;

    memset(&u, 0, sizeof(u));
    raw_sms_list_init(&raw);
    if (inline_source_parse_json(root, (int64_t)t->requested_at, 0, 0, &u, &raw, &detail) < 0) {
        reply_json_tree(t, 422, json_pack("{s:o}", "detail", detail));
        goto out;
    }
    extract_into(p, t->request_id, &raw, &u, a->mask, &f);
    raw_sms_list_free(&raw);
    if (f.fatal != ERR_OK) {
        reply_error(t, f.fatal, NULL);
        goto out;
    }
    json_writer_init(&w, PIPELINE_REPLY_MAX);
    compute_and_write(p, &w, &u, a->mask, t->request_id, t->requested_at, &f);
    reply_writer(t, 200, &w);
    json_writer_free(&w);
out:
    raw_sms_list_free(&raw);
    user_data_free(&u);
    dump(p, t, a, STORE_API_OTHER, NULL, true);
}

static void run_fetch(struct pipeline *p, struct task *t, const struct ask *a)
{
    struct user_data u;
    struct raw_sms_list raw;
    struct featurised f = {.fatal = ERR_OK};
    json_t *records = NULL;
    char why[512];
    enum err e = ERR_OK;

    user_data_init(&u, a->client_id, a->user_id, (int64_t)t->requested_at);
    raw_sms_list_init(&raw);
    gather_mongo(p, t->request_id, &u, &raw, FEATURES_GROUP_EXTRACTED_SMS, (size_t)a->threshold,
                 &f);
    if (f.fatal == ERR_OK && !f.user_not_found && raw.count > 0)
        e = extraction_client_extract(p->d.extractor, &raw, t->request_id, &u, &records, why,
                                      sizeof(why));
    raw_sms_list_free(&raw);
    if (f.fatal != ERR_OK) {
        reply_error(t, f.fatal, NULL);
    } else if (e != ERR_OK) {
        log_warn(t->request_id, "sms extraction failed", LOG_STR("error", why));
        reply_error(t, ERR_DEPENDENCY_UNAVAILABLE, "SMS extraction is unavailable");
    } else {
        json_t *out = json_pack("{s:s,s:s,s:o}", "user_id", a->user_id, "request_id", t->request_id,
                                "extracted_sms_data", records ? records : json_array());

        records = NULL;
        if (f.user_not_found)
            json_object_set_new(out, "message", json_string("user not found"));
        reply_json_tree(t, 200, out);
    }
    json_decref(records);
    user_data_free(&u);
    dump(p, t, a, STORE_API_FETCH_EXTRACTED, NULL, true);
}

/* 202 {user_id, request_id, data_requested_time, message: featurization in progress}. */
static void reply_in_progress(struct task *t, const struct jobs_job *job)
{
    struct json_writer w;
    char when[20];

    pipeline_format_time(job->requested_at, when);
    json_writer_init(&w, 4096);
    json_writer_object_begin(&w);
    json_writer_kv_string(&w, "user_id", job->user_id);
    json_writer_kv_string(&w, "request_id", job->request_id);
    json_writer_kv_string(&w, "data_requested_time", when);
    json_writer_kv_string(&w, "message", "featurization in progress");
    json_writer_object_end(&w);
    reply_writer(t, 202, &w);
    json_writer_free(&w);
}

static void answer_job(struct pipeline *p, struct task *t, int outcome, struct jobs_job *job)
{
    switch (outcome) {
    case JOBS_OUTCOME_STARTED:
        if (p->runner)
            jobs_runner_kick(p->runner);
        reply_in_progress(t, job);
        break;
    case JOBS_OUTCOME_RUNNING:
        reply_in_progress(t, job);
        break;
    case JOBS_OUTCOME_RESULT:
        reply_set(t, 200, job->result, job->result ? strlen(job->result) : 0);
        job->result = NULL;
        break;
    default:
        log_warn(t->request_id, "async job failed", LOG_STR("code", job->error));
        if (strcmp(job->error, "internal") == 0)
            reply_error(t, ERR_INTERNAL, NULL);
        else
            reply_error(t, ERR_DEPENDENCY_UNAVAILABLE, "The job failed: a dependency was down");
        break;
    }
}

static void run_async(struct pipeline *p, struct task *t, const struct ask *a)
{
    char why[512], key[JOBS_GROUPINGS_MAX + 1];
    struct jobs_job job;
    PGconn *conn;
    int outcome;
    char *gj;

    memset(&job, 0, sizeof(job));
    if (jobs_groupings_key(a->groupings, a->n_groupings, key) < 0) {
        reply_error(t, ERR_VALIDATION, "groupings are too long");
        return;
    }
    conn = p->d.pool ? store_pool_get(p->d.pool, PIPELINE_POOL_WAIT_MS, why, sizeof(why)) : NULL;
    if (!conn) {
        if (p->d.pool) {
            log_warn(t->request_id, "postgres unavailable for an async job", LOG_STR("error", why));
            metrics_dependency_error(p->d.metrics, "postgres");
        }
        reply_error(t, ERR_DEPENDENCY_UNAVAILABLE,
                    p->d.pool ? "Async jobs are unavailable: the database is down"
                              : "Async jobs need a database (DI_POSTGRES_HOST)");
        return;
    }
    outcome = jobs_submit(conn, a->client_id, a->user_id, key, t->request_id,
                          (int)p->d.cfg->result_ttl_s, &job, why, sizeof(why));
    store_pool_put(p->d.pool, conn, outcome < 0);
    if (outcome < 0) {
        log_warn(t->request_id, "async job submission failed", LOG_STR("error", why));
        metrics_dependency_error(p->d.metrics, "postgres");
        reply_error(t, ERR_DEPENDENCY_UNAVAILABLE, "Async jobs are unavailable right now");
    } else {
        answer_job(p, t, outcome, &job);
    }
    jobs_job_clear(&job);
    gj = groupings_json(a);
    dump(p, t, a, STORE_API_INSIGHTS, gj, true);
    free(gj);
}

static unsigned mask_from_key(const char *key)
{
    unsigned mask = 0;
    char word[64], why[128];

    while (*key) {
        size_t n = strcspn(key, ",");

        if (n < sizeof(word)) {
            memcpy(word, key, n);
            word[n] = '\0';
            if (features_grouping_add(word, &mask, why, sizeof(why)) < 0)
                mask |= 0; /* validated at submission; an old key with a dropped name */
        }
        key += n;
        if (*key == ',')
            key++;
    }
    return mask;
}

int pipeline_job_compute(void *ctx, const struct jobs_job *job, char **result_json, bool *partial,
                         char *error_code, size_t error_len)
{
    struct pipeline *p = ctx;
    unsigned mask = mask_from_key(job->groupings);
    struct user_data u;
    struct raw_sms_list raw;
    struct featurised f = {.fatal = ERR_OK};
    struct json_writer w;
    size_t len;

    user_data_init(&u, job->client_id, job->user_id, (int64_t)job->requested_at);
    raw_sms_list_init(&raw);
    gather_mongo(p, job->request_id, &u, &raw, mask, 0, &f);
    if (f.fatal == ERR_OK && !f.user_not_found)
        extract_into(p, job->request_id, &raw, &u, mask, &f);
    raw_sms_list_free(&raw);
    if (f.fatal != ERR_OK) {
        user_data_free(&u);
        snprintf(error_code, error_len, "%s", f.fatal_code ? f.fatal_code : "internal");
        return -1;
    }
    json_writer_init(&w, PIPELINE_REPLY_MAX);
    compute_and_write(p, &w, &u, mask, job->request_id, job->requested_at, &f);
    user_data_free(&u);
    if (!json_writer_ok(&w)) {
        json_writer_free(&w);
        snprintf(error_code, error_len, "internal");
        return -1;
    }
    *result_json = json_writer_take(&w, &len);
    *partial = f.failed != 0;
    json_writer_free(&w);
    return 0;
}

/* ------------------------------------------------------------ one task */

static void run_task(struct pipeline *p, struct task *t)
{
    struct ask a;
    json_t *root;

    if (mono_since(&t->t_in) * 1000.0 > (double)p->d.cfg->pipeline_timeout_ms) {
        reply_error(t, ERR_OVERLOADED, NULL);
        goto usage;
    }
    root = validate(p, t, &a);
    if (!root)
        goto usage;
    if (admit(p, t, &a) == 0) {
        switch (t->api) {
        case PIPELINE_INSIGHTS:
            run_insights(p, t, &a);
            break;
        case PIPELINE_ASYNC_INSIGHTS:
            run_async(p, t, &a);
            break;
        case PIPELINE_FETCH_EXTRACTED:
            run_fetch(p, t, &a);
            break;
        default:
            run_generate(p, t, &a, root);
            break;
        }
    }
    json_decref(root);
usage:
    store_usage(p->d.store, t->request_id, t->hdr_client, pipeline_api_name(t->api), t->status);
    metrics_counter_add_label(p->calls, pipeline_api_name(t->api), 1);
}

/* ------------------------------------------------------------ threads and delivery */

static void task_free(struct task *t)
{
    if (!t)
        return;
    if (t->body)
        crypto_wipe(t->body, t->body_len);
    free(t->body);
    free(t->hdr_client);
    if (t->hdr_token)
        crypto_wipe(t->hdr_token, strlen(t->hdr_token));
    free(t->hdr_token);
    free(t->reply);
    free(t);
}

static void posted_unlink(struct pipeline *p, struct task *t)
{
    pthread_mutex_lock(&p->lock);
    if (t->prev)
        t->prev->next = t->next;
    else
        p->posted = t->next;
    if (t->next)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&p->lock);
}

/* On the request's event thread: send the reply built by a pipeline thread. */
static void deliver(evutil_socket_t fd, short what, void *arg)
{
    struct task *t = arg;

    (void)fd;
    (void)what;
    posted_unlink(t->p, t);
    if (t->retry_after[0])
        http_request_set_header(t->req, "Retry-After", t->retry_after);
    if (t->reply && t->reply_len) {
        http_reply_json_owned(t->req, t->status, t->reply, t->reply_len);
        t->reply = NULL;
    } else {
        http_reply_json(t->req, t->status ? t->status : 500, "{}", 2);
    }
    task_free(t);
}

static void post(struct pipeline *p, struct task *t)
{
    const struct timeval now = {0, 0};

    pthread_mutex_lock(&p->lock);
    t->prev = NULL;
    t->next = p->posted;
    if (p->posted)
        p->posted->prev = t;
    p->posted = t;
    pthread_mutex_unlock(&p->lock);
    if (event_base_once(t->base, -1, EV_TIMEOUT, deliver, t, &now) < 0)
        log_error(t->request_id, "reply could not be handed to its event loop");
}

static void *thread_main(void *arg)
{
    struct pipeline *p = arg;

    for (;;) {
        struct task *t;

        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        t = p->head;
        if (!t) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        p->head = t->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        metrics_gauge_set(p->queue_gauge, (long long)p->queued);
        pthread_mutex_unlock(&p->lock);
        t->next = NULL;
        run_task(p, t);
        post(p, t);
    }
}

int pipeline_submit(struct pipeline *p, struct http_request *req, enum pipeline_api api)
{
    struct task *t;
    const char *body;
    size_t len;
    const char *client = http_request_header(req, "x-client-id");
    const char *token = http_request_header(req, "x-auth-token");

    pthread_mutex_lock(&p->lock);
    if (p->stopping || p->queued >= (size_t)p->d.cfg->pipeline_queue_max) {
        pthread_mutex_unlock(&p->lock);
        return -1;
    }
    pthread_mutex_unlock(&p->lock);
    t = calloc(1, sizeof(*t));
    if (!t) {
        fputs("fatal: out of memory in the pipeline\n", stderr);
        abort();
    }
    body = http_request_body(req, &len);
    t->body = malloc(len + 1);
    if (!t->body) {
        fputs("fatal: out of memory in the pipeline\n", stderr);
        abort();
    }
    memcpy(t->body, body, len + 1);
    t->body_len = len;
    t->p = p;
    t->api = api;
    t->req = req;
    t->base = http_request_base(req);
    snprintf(t->request_id, sizeof(t->request_id), "%s", http_request_id(req));
    t->hdr_client = client ? xstrdup(client) : NULL;
    t->hdr_token = token ? xstrdup(token) : NULL;
    t->requested_at = wall_now();
    clock_gettime(CLOCK_MONOTONIC, &t->t_in);
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    p->queued++;
    metrics_gauge_set(p->queue_gauge, (long long)p->queued);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

struct pipeline *pipeline_new(const struct pipeline_deps *deps, char *err, size_t err_len)
{
    struct pipeline *p = calloc(1, sizeof(*p));

    if (!p) {
        fputs("fatal: out of memory in the pipeline\n", stderr);
        abort();
    }
    p->d = *deps;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->queue_gauge = metrics_gauge_new(p->d.metrics, "pipeline_queue_tasks",
                                       "requests waiting for a pipeline thread");
    p->calls = metrics_counter_new(p->d.metrics, "api_calls_total", "API calls by endpoint", "api");
    p->auth =
        metrics_counter_new(p->d.metrics, "auth_checks_total",
                            "credential checks by result (ok, denied, unavailable)", "result");
    p->featurised = metrics_counter_new(p->d.metrics, "users_featurised_total",
                                        "users featurised, by outcome", "outcome");
    p->featurise_seconds =
        metrics_histogram_new(p->d.metrics, "featurise_seconds",
                              "time to compute and serialise one user's features", NULL, 0);
    p->scored =
        metrics_counter_new(p->d.metrics, "scores_total",
                            "scores computed, by score:arm (shadow versions end :shadow)", "arm");
    p->scores_null =
        metrics_counter_new(p->d.metrics, "scores_null_total",
                            "returned scores that were null, by score:reason", "reason");
    p->threads = calloc((size_t)deps->threads, sizeof(pthread_t));
    if (!p->threads) {
        fputs("fatal: out of memory in the pipeline\n", stderr);
        abort();
    }
    for (int i = 0; i < deps->threads; i++) {
        if (pthread_create(&p->threads[i], NULL, thread_main, p) != 0) {
            snprintf(err, err_len, "pipeline: cannot start thread %d", i);
            pipeline_stop(p);
            pipeline_free(p);
            return NULL;
        }
        p->n_threads++;
    }
    return p;
}

void pipeline_set_runner(struct pipeline *p, struct jobs_runner *runner)
{
    p->runner = runner;
}

void pipeline_stop(struct pipeline *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    p->n_threads = 0;
}

void pipeline_free(struct pipeline *p)
{
    if (!p)
        return;
    while (p->posted) {
        struct task *t = p->posted;

        p->posted = t->next;
        task_free(t);
    }
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->threads);
    free(p);
}
