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
 * every score. A score refuses to guess: a model reading a group that failed
 * (SMS extraction down) or was not asked, or a user under the evidence gates
 * (no data, stale data, a thin file), is null with a reason, never computed;
 * NaN features are passed as NaN (LightGBM's missing-value routing). A
 * predictor list says what the model's output is the probability of and
 * whether that is the bad outcome, so reason codes list only the factors
 * pushing toward it. Reason codes (TreeSHAP) are computed for returned
 * scores only: they cost ~1000x a prediction.
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
#define SCORE_TEXT_MAX 127 /* a predictor list's "probability_of" */
#define SCORE_SMS_GROUPS (FEATURES_GROUP_SMS | FEATURES_GROUP_EXTRACTED_SMS)

struct scores;

/* One reason code: a factor that pushed this user's score toward the bad outcome. */
struct score_reason {
    const char *feature; /* catalogue name (borrowed from the scores) */
    bool missing;        /* the feature had no value: its absence is the reason */
    bool is_bool;        /* a bool feature: value 0/1 is false/true */
    double value;        /* the feature's value; NAN when missing */
    double impact;       /* TreeSHAP contribution toward the bad outcome, raw (log-odds), > 0 */
};

/*
 * One score's result for one user: what the reply shows and what a
 * prediction log records. Strings are borrowed from the scores.
 */
struct score_outcome {
    const char *score;          /* "credeau_payday_score" */
    const char *arm;            /* "v2"; NULL when no version of the score is loaded */
    const char *model_version;  /* the predictor list's "version", else the arm; NULL likewise */
    const char *probability_of; /* what value is the probability of; NULL when not stated */
    bool has_model;             /* a version served this user (false: null "no_model") */
    bool higher_is_riskier;     /* the predictor list's positive_class is "bad" (the default) */
    bool shadow;                /* computed for comparison; never in the reply */
    bool is_null;
    char null_reason[96]; /* no_data, stale_data, thin_file, inputs_failed:<group>, ... */
    double raw;           /* sum of leaf values */
    double value;         /* probability (binary) or the objective's output; NAN when null */
    double bias;          /* expected raw value, when reasons were computed */
    /* hex SHA-256 of the model's predictor values (predictor order, IEEE-754 doubles
     * little-endian, missing = the quiet NaN 0x7ff8000000000000); "" when null */
    char predictors_digest[65];
    int n_reasons; /* strongest first */
    struct score_reason reasons[SCORE_REASONS_MAX];
};

/* What the evidence gates look at: the user's data as of the request. */
struct score_evidence {
    long sms_count_used;      /* messages the features were computed from (0: none) */
    double data_recency_days; /* whole days from the newest of them to as_of; NAN: none */
    double history_days;      /* whole days from the oldest of them to as_of; NAN: none */
    bool apps_present;        /* the user had apps as of the request */
    bool device_present;      /* and a device */
};

/* The minimums under which a score is null (SCORE_MIN_* configuration rows). */
struct score_gates {
    long min_sms_count;         /* fewer messages: thin_file */
    long min_history_days;      /* a shorter history: thin_file */
    long max_data_recency_days; /* a newest message older than this: stale_data */
};

/* Everything one user's scoring reads. */
struct score_request {
    const struct feature_vector *v; /* NULL: no features (user not found): every score null */
    unsigned asked;                 /* groups asked */
    unsigned failed;                /* groups asked whose source failed */
    struct score_evidence evidence;
    struct score_gates gates;
    const char *client_id;
    const char *user_id;
    int top_k; /* reason codes of returned non-null scores, 0..SCORE_REASONS_MAX */
};

struct scores *scores_new(void);
void scores_free(struct scores *s);

/*
 * A score the reply always carries, loaded or not: with no version of it its
 * keys are null with null reason "no_model". Returns 0 (also when known),
 * or -1 with err for a bad name or too many scores.
 */
int scores_declare(struct scores *s, const char *score, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/*
 * Add version `version` of score `score`: model is LightGBM v4 text; predictors
 * is either a JSON array of catalogue feature names in model column order or an
 * object {"features": [...], "version": "...", "label": "...",
 * "probability_of": "...", "positive_class": "bad"|"good"}. Returns 0, or -1
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

/*
 * Model i (0 <= i < scores_models) as loaded: its score, version (arm name)
 * and model_version (the predictor list's "version", else the version).
 * Returns false past the end. Strings are borrowed from s.
 */
bool scores_model_at(const struct scores *s, size_t i, const char **score, const char **version,
                     const char **model_version);

/* The user's bucket in [0, SCORE_BUCKETS). */
unsigned scores_bucket(const char *client_id, const char *user_id);
/* The version returned for score i (0 <= i < scores_count) to this bucket. */
const char *scores_arm_for_bucket(const struct scores *s, size_t i, unsigned bucket);

/* Per-thread buffers for scores_evaluate (feature rows and TreeSHAP scratch); never NULL. */
struct scores_scratch *scores_scratch_new(const struct scores *s);
void scores_scratch_free(struct scores_scratch *sc);

/*
 * Evaluate every score for one user (r). Writes up to scores_outcomes_max(s)
 * outcomes into out (returned scores first, in score order, then shadows)
 * and returns how many. A score is null, with the first reason that applies:
 * no_model; inputs_failed:<group> (a group it reads had a failed source);
 * inputs_not_requested:<group>; and for a model reading SMS groups no_data
 * (no message used), stale_data (newest message older than the gate),
 * thin_file (too few messages or too short a history); for a model of app
 * and device features only, no_data when those sources are empty. Reason
 * codes (at most r->top_k, only factors pushing toward the bad outcome,
 * strongest first) are computed for returned non-null scores only.
 */
size_t scores_evaluate(const struct scores *s, const struct score_request *r,
                       struct scores_scratch *sc, struct score_outcome *out);

/*
 * The reply members of the returned (non-shadow) outcomes, into the object
 * open on w, every key always present (null when it does not apply), all
 * scalars: <score>, <score>_probability_of, <score>_higher_is_riskier,
 * <score>_model_version, <score>_arm, <score>_null_reason, then for N in
 * 1..reason_keys <score>_reason_N (the feature, or "missing:<feature>"),
 * <score>_reason_N_value and <score>_reason_N_impact.
 */
void scores_write_json(const struct score_outcome *out, size_t n, int reason_keys,
                       struct json_writer *w);

#endif
