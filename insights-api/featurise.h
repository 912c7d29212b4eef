/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Featurising one user, the work shared by /api/insights, the async job and
 * /api/generate_features: gather (MongoDB, or the inline body the caller
 * parsed) -> extract the SMS (sms-extraction, all or nothing) ->
 * features_compute for the groups asked (as of u->now: the request's as_of)
 * -> the evidence gates and the scores -> one flat JSON object of scalars:
 * ids and times, as_of and the evidence, every feature, the scores,
 * failed_groups when partial (the one array), message, data_processed_time.
 *
 * With extraction down the SMS groups are null (and the scores reading
 * them), "failed_groups" names them, the message is
 * FEATURISE_MESSAGE_INCOMPLETE (never "featurization completed") and the
 * result is partial; with EXTRACTION_STRICT the call fails instead: 502
 * dependency_unavailable, 504 dependency_timeout, or 503
 * dependency_overloaded when the extractor shed load. A partial async
 * result, and a "user not found" one, is never reused (jobs.h).
 *
 * Every computed score (returned or shadow) goes to the prediction log
 * (store_predictions: queued, never waited for) when PREDICTION_LOG is on.
 */
#ifndef INSIGHTS_FEATURISE_H
#define INSIGHTS_FEATURISE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/json_writer.h"
#include "common/metrics.h"
#include "insights-api/assets.h"
#include "insights-api/config.h"
#include "insights-api/extraction_client.h"
#include "insights-api/features.h"
#include "insights-api/jobs.h"
#include "insights-api/maps.h"
#include "insights-api/mongo_source.h"
#include "insights-api/score.h"
#include "insights-api/store.h"
#include "insights-api/userdata.h"

#define FEATURISE_SMS_GROUPS (FEATURES_GROUP_SMS | FEATURES_GROUP_EXTRACTED_SMS)
#define FEATURISE_RESULT_MAX (64u << 20) /* one result object's bytes at most */
/* The message of a reply some requested group of which failed (failed_groups names them). */
#define FEATURISE_MESSAGE_INCOMPLETE "featurization incomplete"

/* What featurising works with; everything borrowed. */
struct featurise_deps {
    const struct ins_config *cfg;
    struct metrics *metrics;
    struct mongo_source *mongo; /* NULL: gathering from MongoDB fails (dependency_unavailable) */
    struct extraction_client *extractor;
    struct assets *assets; /* catalogue, maps, scores: one set per user featurised */
    struct store *store;   /* the prediction log (PREDICTION_LOG); NULL: none */
};

struct featurise {
    struct featurise_deps d;
    struct metrics_counter *featurised; /* by outcome */
    struct metrics_histogram *seconds;
    struct metrics_counter *scored;      /* by "score:arm" (":shadow" for shadows) */
    struct metrics_counter *scores_null; /* by "score:reason" */
};

/* How gathering and extraction went for one user. */
struct featurised {
    bool user_not_found;
    unsigned failed; /* groups asked whose source failed */
    enum err fatal;  /* ERR_OK, or the error the call fails with */
};

/* Registers the metrics (deps copied). */
void featurise_init(struct featurise *fz, const struct featurise_deps *deps);

/*
 * Read u's data from MongoDB for the groups in mask as of as_of (facts dated
 * after it dropped; INT64_MAX keeps all), at most max_sms messages when > 0;
 * the raw SMS go to raw. A missing user sets f->user_not_found; MongoDB down
 * sets f->fatal.
 */
void featurise_gather_mongo(struct featurise *fz, const char *request_id, struct user_data *u,
                            struct raw_sms_list *raw, unsigned mask, size_t max_sms, int64_t as_of,
                            struct featurised *f);

/* The error a call fails with when extraction failed with e: 502, 504 or 503 (see above). */
enum err featurise_dependency_error(enum err e);

/* Extract raw into u when mask asks for SMS groups (all or nothing); sets u->sms_state. */
void featurise_extract(struct featurise *fz, const char *request_id, struct raw_sms_list *raw,
                       struct user_data *u, unsigned mask, struct featurised *f);

/*
 * Compute u's features (as of u->now) and scores for mask and write the one
 * result object into w: with the as_of and the evidence (sms_count_used,
 * data_recency_days, history_days) and every score's keys, also when the
 * user was not found (scores null, no_data). Features and scores come from
 * one artifact set, taken once (assets_acquire) and released on return, so
 * a SIGHUP reload never mixes two sets in one reply.
 */
void featurise_write(struct featurise *fz, struct json_writer *w, struct user_data *u,
                     unsigned mask, const char *request_id, double requested_at,
                     const struct featurised *f);

/*
 * jobs_runner_config.compute (ctx = the struct featurise): featurise an
 * async job. Fails with an error table code (dependency_unavailable,
 * internal) in error_code; an unknown user is a result ("user not found").
 */
int featurise_job(void *ctx, const struct jobs_job *job, char **result_json, bool *partial,
                  char *error_code, size_t error_len);

#endif
