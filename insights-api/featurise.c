/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Featurising one user (see featurise.h): the sources, extraction, the
 * feature vector, the scores and the one result object, for the sync and
 * inline endpoints and the async job alike. Reading order: gathering,
 * extraction, the result layout, scoring, then the async job callback.
 */
#include "insights-api/featurise.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/ist_date.h"
#include "common/log.h"

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

void featurise_init(struct featurise *fz, const struct featurise_deps *deps)
{
    struct metrics *m = deps->metrics;

    fz->d = *deps;
    fz->featurised =
        metrics_counter_new(m, "users_featurised_total", "users featurised, by outcome", "outcome");
    fz->seconds = metrics_histogram_new(
        m, "featurise_seconds", "time to compute and serialise one user's features", NULL, 0);
    fz->scored = metrics_counter_new(
        m, "scores_total", "scores computed, by score:arm (shadow versions end :shadow)", "arm");
    fz->scores_null = metrics_counter_new(
        m, "scores_null_total", "returned scores that were null, by score:reason", "reason");
}

/* ------------------------------------------------------------ gathering */

void featurise_gather_mongo(struct featurise *fz, const char *request_id, struct user_data *u,
                            struct raw_sms_list *raw, unsigned mask, size_t max_sms, int64_t as_of,
                            struct featurised *f)
{
    char why[512];
    bool want_sms = mask & FEATURISE_SMS_GROUPS;
    bool want_apps = mask & (FEATURES_GROUP_FRAUD | FEATURES_GROUP_APPS);
    bool want_device = mask & (FEATURES_GROUP_FRAUD | FEATURES_GROUP_DEVICE);
    bool found = true;
    enum err e;

    if (!fz->d.mongo) {
        f->fatal = ERR_DEPENDENCY_UNAVAILABLE;
        return;
    }
    if (!(mask & FEATURES_GROUP_ALL)) {
        /* no group asked ("groupings": []): still "user not found" for an unknown user */
        char stamp[MONGO_SOURCE_STAMP_MAX + 1];

        e = mongo_source_stamp(fz->d.mongo, u->client_id, u->user_id, stamp, &found, why,
                               sizeof(why));
    } else {
        e = mongo_source_read(fz->d.mongo, u->client_id, u->user_id, want_sms, want_apps,
                              want_device, max_sms, as_of, u, raw, &found, why, sizeof(why));
    }
    if (e != ERR_OK) {
        log_warn(request_id, "mongodb read failed", LOG_STR("error", why));
        metrics_dependency_error(fz->d.metrics, "mongo");
        f->fatal = ERR_DEPENDENCY_UNAVAILABLE;
        return;
    }
    f->user_not_found = !found;
}

void featurise_extract(struct featurise *fz, const char *request_id, struct raw_sms_list *raw,
                       struct user_data *u, unsigned mask, struct featurised *f)
{
    char why[512];
    enum err e;

    if (raw->count == 0 || !(mask & FEATURISE_SMS_GROUPS))
        return;
    e = extraction_client_extract(fz->d.extractor, raw, request_id, u, NULL, why, sizeof(why));
    if (e == ERR_OK) {
        user_data_sort_sms(u);
        u->sms_state = SOURCE_OK;
        return;
    }
    log_warn(request_id, "sms extraction failed", LOG_STR("error", why),
             LOG_STR("code", err_code(e)));
    u->sms_state = SOURCE_FAILED;
    f->failed |= mask & FEATURISE_SMS_GROUPS;
    if (fz->d.cfg->extraction_strict)
        f->fatal = featurise_dependency_error(e);
}

enum err featurise_dependency_error(enum err e)
{
    return e == ERR_DEPENDENCY_TIMEOUT || e == ERR_DEPENDENCY_OVERLOADED
               ? e
               : ERR_DEPENDENCY_UNAVAILABLE;
}

/* ------------------------------------------------------------ the result */

/*
 * What the evidence gates look at, from the data as of u->now: the messages
 * the features were computed from (sorted, none after as_of) and whether
 * apps and a device were there.
 */
static void evidence_of(const struct user_data *u, bool found, struct score_evidence *e)
{
    size_t n = found && u->sms_state == SOURCE_OK ? u->sms_count : 0;

    e->sms_count_used = (long)n;
    e->data_recency_days = n ? floor((double)(u->now - u->sms[n - 1].ts) / 86400.0) : NAN;
    e->history_days = n ? floor((double)(u->now - u->sms[0].ts) / 86400.0) : NAN;
    e->apps_present = found && u->apps_state == SOURCE_OK && u->apps_count > 0;
    e->device_present = found && u->device_state == SOURCE_OK;
}

static void kv_days(struct json_writer *w, const char *key, double days)
{
    json_writer_key(w, key);
    if (isnan(days))
        json_writer_null(w);
    else
        json_writer_int(w, (long long)days);
}

/*
 * The one flat reply object: ids and times, the as_of and the evidence,
 * every feature (when computed), the scores, failed_groups when partial,
 * message, data_processed_time. Every member is a scalar but failed_groups.
 */
static void write_result(struct json_writer *w, const struct featurise *fz,
                         const struct asset_set *set, const struct user_data *u,
                         const char *request_id, double requested_at,
                         const struct feature_vector *v, const struct featurised *f,
                         const struct score_evidence *e, const struct score_outcome *scores,
                         size_t n_scores)
{
    char when[20];

    json_writer_object_begin(w);
    json_writer_kv_string(w, "user_id", u->user_id);
    json_writer_kv_string(w, "request_id", request_id);
    ist_format_unix(requested_at, when);
    json_writer_kv_string(w, "data_requested_time", when);
    ist_format_unix((double)u->now, when);
    json_writer_kv_string(w, "as_of", when);
    json_writer_key(w, "sms_count_used");
    json_writer_int(w, e->sms_count_used);
    kv_days(w, "data_recency_days", e->data_recency_days);
    kv_days(w, "history_days", e->history_days);
    if (v)
        features_write_json(set->catalogue, v, w);
    scores_write_json(scores, n_scores, (int)fz->d.cfg->score_reason_codes, w);
    if (f->failed) {
        json_writer_key(w, "failed_groups");
        json_writer_array_begin(w);
        for (unsigned bit = 1; bit < FEATURES_GROUP_ALL; bit <<= 1)
            if (f->failed & bit)
                json_writer_string(w, features_group_name((enum features_group)bit));
        json_writer_array_end(w);
    }
    json_writer_kv_string(w, "message",
                          f->user_not_found ? "user not found"
                          : f->failed       ? FEATURISE_MESSAGE_INCOMPLETE
                                            : "featurization completed");
    ist_format_unix(wall_now(), when);
    json_writer_kv_string(w, "data_processed_time", when);
    json_writer_object_end(w);
}

/* Count every outcome per arm; log the shadows (score, arm and value only: never features). */
static void count_scores(struct featurise *fz, const struct score_outcome *out, size_t n,
                         const char *request_id)
{
    for (size_t i = 0; i < n; i++) {
        const struct score_outcome *o = &out[i];
        char label[160];

        if (!o->has_model)
            continue; /* a score not configured here: nothing to count */
        snprintf(label, sizeof(label), "%s:%s%s", o->score, o->arm, o->shadow ? ":shadow" : "");
        metrics_counter_add_label(fz->scored, label, 1);
        if (o->is_null && !o->shadow) {
            snprintf(label, sizeof(label), "%s:%s", o->score, o->null_reason);
            metrics_counter_add_label(fz->scores_null, label, 1);
        }
        if (!o->shadow)
            continue;
        for (size_t k = 0; k < n; k++)
            if (!out[k].shadow && strcmp(out[k].score, o->score) == 0)
                log_info(request_id, "shadow score", LOG_STR("score", o->score),
                         LOG_STR("shadow_arm", o->arm), LOG_DOUBLE("shadow_value", o->value),
                         LOG_STR("returned_arm", out[k].arm),
                         LOG_DOUBLE("returned_value", out[k].value));
    }
}

/* The prediction log: every outcome a loaded model computed, returned or shadow (queued). */
static void log_predictions(struct featurise *fz, const struct score_outcome *out, size_t n,
                            const char *request_id, const struct user_data *u)
{
    struct store_prediction p[SCORE_MAX_MODELS];
    size_t k = 0;

    if (!fz->d.store)
        return;
    for (size_t i = 0; i < n && k < SCORE_MAX_MODELS; i++) {
        const struct score_outcome *o = &out[i];

        if (!o->has_model)
            continue;
        p[k++] = (struct store_prediction){
            .score_name = o->score,
            .model_version = o->model_version,
            .arm = o->arm,
            .shadow = o->shadow,
            .value = o->is_null ? NAN : o->value,
            .null_reason = o->is_null ? o->null_reason : NULL,
            .digest = o->predictors_digest[0] ? o->predictors_digest : NULL,
        };
    }
    store_predictions(fz->d.store, request_id, u->client_id, u->user_id, (double)u->now, p, k);
}

/*
 * Score u (features v, NULL when the user was not found) with scores into
 * *out (malloc'd, NULL without scores); returns the outcome count.
 */
static size_t score_user(struct featurise *fz, const struct scores *scores,
                         const struct feature_vector *v, const struct user_data *u, unsigned mask,
                         const struct featurised *f, const struct score_evidence *e,
                         const char *request_id, struct score_outcome **out)
{
    const struct ins_config *cfg = fz->d.cfg;
    struct score_request r = {
        .v = v,
        .asked = mask,
        .failed = f->failed,
        .evidence = *e,
        .gates = {.min_sms_count = cfg->score_min_sms_count,
                  .min_history_days = cfg->score_min_history_days,
                  .max_data_recency_days = cfg->score_max_data_recency_days},
        .client_id = u->client_id,
        .user_id = u->user_id,
        .top_k = (int)cfg->score_reason_codes,
    };
    struct scores_scratch *sc;
    size_t n;

    *out = NULL;
    if (scores_count(scores) == 0)
        return 0;
    *out = alloc_zeroed(scores_outcomes_max(scores), sizeof(**out));
    sc = scores_scratch_new(scores);
    n = scores_evaluate(scores, &r, sc, *out);
    scores_scratch_free(sc);
    count_scores(fz, *out, n, request_id);
    log_predictions(fz, *out, n, request_id, u);
    return n;
}

void featurise_write(struct featurise *fz, struct json_writer *w, struct user_data *u,
                     unsigned mask, const char *request_id, double requested_at,
                     const struct featurised *f)
{
    struct feature_vector v, *vp = NULL;
    struct score_outcome *scores;
    struct score_evidence e;
    struct live_ref ref = {0};
    const struct asset_set *set = assets_acquire(fz->d.assets, &ref);
    size_t n_scores;
    struct timespec t0;

    if (!set) { /* the daemon loads a set before it serves */
        log_error(request_id, "no artifact set loaded");
        abort();
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    evidence_of(u, !f->user_not_found, &e);
    if (!f->user_not_found) {
        if (features_vector_init(&v, set->catalogue) < 0) {
            log_error(request_id, "out of memory for a feature vector");
            abort();
        }
        features_compute(set->catalogue, set->maps, u, mask, &v);
        vp = &v;
    }
    n_scores = score_user(fz, set->scores, vp, u, mask, f, &e, request_id, &scores);
    write_result(w, fz, set, u, request_id, requested_at, vp, f, &e, scores, n_scores);
    free(scores);
    if (vp)
        features_vector_free(vp);
    assets_release(&ref);
    if (f->user_not_found) {
        metrics_counter_add_label(fz->featurised, "user_not_found", 1);
        return;
    }
    metrics_histogram_observe(fz->seconds, mono_since(&t0));
    metrics_counter_add_label(fz->featurised, f->failed ? "partial" : "complete", 1);
}

/* ------------------------------------------------------------ the async job */

/* The groups of a job key's normalised groupings ("extracted_sms,sms", up to end). */
static unsigned mask_from_key(const char *key, const char *end)
{
    unsigned mask = 0;
    char word[64], why[128];

    while (key < end) {
        size_t n = strcspn(key, ",");

        if (n > (size_t)(end - key))
            n = (size_t)(end - key);

        if (n < sizeof(word)) {
            memcpy(word, key, n);
            word[n] = '\0';
            /* validated at submission; a name dropped since then adds nothing */
            (void)features_grouping_add(word, &mask, why, sizeof(why));
        }
        key += n;
        if (key < end && *key == ',')
            key++;
    }
    return mask;
}

int featurise_job(void *ctx, const struct jobs_job *job, char **result_json, bool *partial,
                  char *error_code, size_t error_len)
{
    struct featurise *fz = ctx;
    struct featurised f = {.fatal = ERR_OK};
    struct raw_sms_list raw;
    struct json_writer w;
    struct user_data u;
    bool given;
    int64_t as_of = 0;
    size_t len = jobs_key_split(job->groupings, &as_of, &given);
    unsigned mask = mask_from_key(job->groupings, job->groupings + len);

    /* without an as_of in the key: as of the job's (re)start, or the test clock */
    if (!given)
        as_of =
            (int64_t)floor(fz->d.cfg->test_clock_s ? ins_config_now(fz->d.cfg) : job->requested_at);
    user_data_init(&u, job->client_id, job->user_id, as_of);
    raw_sms_list_init(&raw);
    featurise_gather_mongo(fz, job->request_id, &u, &raw, mask, 0, as_of, &f);
    if (f.fatal == ERR_OK && !f.user_not_found)
        featurise_extract(fz, job->request_id, &raw, &u, mask, &f);
    raw_sms_list_free(&raw);
    if (f.fatal != ERR_OK) {
        user_data_free(&u);
        snprintf(error_code, error_len, "%s", err_code(f.fatal));
        return -1;
    }
    json_writer_init(&w, FEATURISE_RESULT_MAX);
    featurise_write(fz, &w, &u, mask, job->request_id, job->requested_at, &f);
    user_data_free(&u);
    if (!json_writer_ok(&w)) {
        json_writer_free(&w);
        snprintf(error_code, error_len, "%s", err_code(ERR_INTERNAL));
        return -1;
    }
    *result_json = json_writer_take(&w, &len);
    /* "user not found" is never reused either: the user may sync any moment */
    *partial = f.failed != 0 || f.user_not_found;
    json_writer_free(&w);
    return 0;
}
