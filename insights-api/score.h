/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scores: the LightGBM models (insights-api/lgbm.h) a deployment serves, each
 * tied to the catalogue features it reads, grouped into named scores
 * ("credeau_payday_score") with one or more versions ("v2", "v3") among which
 * users are split into A/B arms, plus shadow versions that are computed and
 * logged for comparison but never returned. docs/scoring.md is the manual.
 *
 * DESIGN
 * No I/O here: the caller (assets.c) fetches the model and its predictor list
 * and hands the bytes to scores_add_model, which resolves every predictor to
 * its catalogue index once (an unknown or string feature fails start-up naming
 * it) and records which feature groups the model reads. scores_set_arms then
 * turns the arm specification into cumulative weights over 10000 buckets.
 * Once set up the struct scores is immutable and shared by the pipeline threads.
 *
 * Per user the bucket is the first 8 bytes of SHA-256("client_id:user_id")
 * mod 10000, so a user keeps the arm as long as the weights stay (and moves
 * only as far as changed weights move the boundaries). The same bucket serves
 * every score. A model reading a group that failed (SMS extraction down) or was
 * not asked is null with a reason, never computed on the nulls; NaN features
 * are passed as NaN (LightGBM's missing-value routing). Reason codes
 * (TreeSHAP) are computed for returned scores only: they cost ~1000x a
 * prediction.
 */
#ifndef INSIGHTS_SCORE_H
#define INSIGHTS_SCORE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/json_writer.h"
#include "insights-api/features.h"

#define SCORE_BUCKETS 10000
#define SCORE_NAME_MAX 63
#define SCORE_REASONS_MAX 20
#define SCORE_MAX_MODELS 64

struct scores;

struct score_reason {
    const char *feature; /* catalogue name (borrowed from the scores) */
    double contribution; /* TreeSHAP, in raw (log-odds) units */
};

/* One model's result for one user. Strings are borrowed from the scores. */
struct score_outcome {
    const char *score;         /* "credeau_payday_score" */
    const char *arm;           /* "v2" */
    const char *model_version; /* the predictor list's "version", else the arm */
    bool shadow;               /* computed for comparison; never in the reply */
    bool is_null;
    char null_reason[96]; /* "inputs_failed:extracted_sms", "inputs_not_requested:fraud" */
    double raw;           /* sum of leaf values */
    double value;         /* probability (binary) or the objective's output */
    double bias;          /* expected raw value, when reasons were computed */
    int n_reasons;
    struct score_reason reasons[SCORE_REASONS_MAX];
};

struct scores *scores_new(void);
void scores_free(struct scores *s);

/*
 * Add version `version` of score `score`: model is LightGBM v4 text; predictors
 * is either a JSON array of catalogue feature names in model column order or an
 * object {"features": [...], "version": "...", "label": "..."}. Returns 0, or -1
 * with err naming the problem (the unknown feature, the count mismatch, ...).
 */
int scores_add_model(struct scores *s, const struct features_catalogue *c, const char *score,
                     const char *version, const char *model, size_t model_len,
                     const char *predictors, size_t predictors_len, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/*
 * Arms: "score=v2:50,v3:50,v1:shadow;other=v2:100". Weights are whole
 * percentages summing to 100 per score (0 allowed); "shadow" marks a version
 * scored and logged only. A score absent from spec (or spec NULL/empty) gives
 * 100% to its last added version. Returns 0, or -1 with err naming the score
 * or version. Call once, after every scores_add_model.
 */
int scores_set_arms(struct scores *s, const char *spec, char *err, size_t err_len)
    __attribute__((warn_unused_result));

size_t scores_count(const struct scores *s);  /* distinct scores */
size_t scores_models(const struct scores *s); /* models loaded (versions of all scores) */
/* Upper bound of outcomes scores_evaluate writes (one per score plus shadows). */
size_t scores_outcomes_max(const struct scores *s);
/* "credeau_payday_score=v2:50,v3:50,v1:shadow;..." for the start-up line. */
void scores_describe(const struct scores *s, char *buf, size_t len);

/* The user's bucket in [0, SCORE_BUCKETS). */
unsigned scores_bucket(const char *client_id, const char *user_id);
/* The version returned for score i (0 <= i < scores_count) to this bucket. */
const char *scores_arm_for_bucket(const struct scores *s, size_t i, unsigned bucket);

/* Per-thread buffers for scores_evaluate (feature rows and TreeSHAP scratch). */
struct scores_scratch *scores_scratch_new(const struct scores *s);
void scores_scratch_free(struct scores_scratch *sc);

/*
 * Evaluate every score for one user: v computed with the groups in `asked`,
 * of which `failed` had a failed source. Writes up to scores_outcomes_max(s)
 * outcomes into out (returned scores first, in score order, then shadows) and
 * returns how many. top_k reason codes (0..SCORE_REASONS_MAX, ordered by
 * |contribution|) are computed for returned non-null scores only.
 */
size_t scores_evaluate(const struct scores *s, const struct feature_vector *v, unsigned asked,
                       unsigned failed, const char *client_id, const char *user_id, int top_k,
                       struct scores_scratch *sc, struct score_outcome *out);

/*
 * The reply members of the returned (non-shadow) outcomes, into the object
 * open on w: <score>, <score>_model_version, <score>_arm,
 * <score>_reason_codes ([{"feature","contribution"}], only when computed),
 * <score>_null_reason (only when null).
 */
void scores_write_json(const struct score_outcome *out, size_t n, struct json_writer *w);

#endif
