/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the scores (insights-api/score.h) over the real catalogue and the
 * committed demo models (insights-api/models/): predictor lists bound to the
 * catalogue (an unknown feature fails naming it), A/B arms (stable per user,
 * shares near the weights over 10,000 users, moved only by weight changes),
 * nulls with a reason when an input group failed or was not asked and under
 * the evidence gates (no data, stale data, thin file; at the boundaries),
 * reason codes that are exactly the factors pushing toward the bad outcome
 * (checked against TreeSHAP computed here through lgbm.h, for either
 * positive class), missing inputs named as missing, probabilities in [0, 1],
 * the reply members flat and the same keys whether a score is null or not,
 * and shadows that are computed but never written into the reply.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/file.h"
#include "common/json_writer.h"
#include "insights-api/features.h"
#include "insights-api/lgbm.h"
#include "insights-api/score.h"

#define MODELS_DIR "insights-api/models"
#define PAYDAY "credeau_payday_score"

struct fixture {
    struct features_catalogue *cat;
    struct feature_vector v;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char err[512];

    assert_non_null(fx);
    if (features_catalogue_load_file(FEATURES_CATALOGUE_DEFAULT_PATH, &fx->cat, err, sizeof(err)) <
        0)
        fail_msg("catalogue: %s", err);
    assert_int_equal(features_vector_init(&fx->v, fx->cat), 0);
    for (size_t i = 0; i < fx->v.count; i++)
        fx->v.values[i] = NAN;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    features_vector_free(&fx->v);
    features_catalogue_free(fx->cat);
    free(fx);
    return 0;
}

/* Add insights-api/models/<file>.txt with its .predictors.json (or `predictors` when given). */
static int add(struct scores *s, const struct fixture *fx, const char *score, const char *version,
               const char *file, const char *predictors, char *err, size_t err_len)
{
    char path[256];
    size_t mlen = 0, plen = 0;
    char *model, *pred;
    int rc;

    snprintf(path, sizeof(path), "%s/%s.txt", MODELS_DIR, file);
    model = file_read(path, 0, &mlen, NULL, 0);
    assert_non_null(model);
    snprintf(path, sizeof(path), "%s/%s.predictors.json", MODELS_DIR, file);
    pred = predictors ? strdup(predictors) : file_read(path, 0, &plen, NULL, 0);
    assert_non_null(pred);
    if (predictors)
        plen = strlen(predictors);
    rc = scores_add_model(s, fx->cat, score, version, model, mlen, pred, plen, err, err_len);
    free(model);
    free(pred);
    return rc;
}

static struct scores *payday(const struct fixture *fx, const char *arms)
{
    struct scores *s = scores_new();
    char err[512];

    assert_non_null(s);
    if (add(s, fx, PAYDAY, "v2", "demo_payday_v2", NULL, err, sizeof(err)) < 0 ||
        add(s, fx, PAYDAY, "v3", "demo_payday_v3", NULL, err, sizeof(err)) < 0 ||
        add(s, fx, "credeau_emi_score", "v2", "demo_emi_v2", NULL, err, sizeof(err)) < 0 ||
        scores_set_arms(s, arms, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    return s;
}

/* A user with plenty of recent evidence (every gate passed), all groups asked. */
static struct score_request request(const struct fixture *fx, const char *user_id, int top_k)
{
    return (struct score_request){
        .v = &fx->v,
        .asked = FEATURES_GROUP_ALL,
        .evidence = {.sms_count_used = 1800,
                     .data_recency_days = 0,
                     .history_days = 160,
                     .apps_present = true,
                     .device_present = true},
        .gates = {.min_sms_count = 50, .min_history_days = 30, .max_data_recency_days = 30},
        .client_id = "c",
        .user_id = user_id,
        .top_k = top_k,
    };
}

/* The reply members of out[0..n) as a parsed object (reason_keys sets of reason keys). */
static json_t *reply_of(const struct score_outcome *out, size_t n, int reason_keys)
{
    struct json_writer w;
    json_error_t jerr;
    size_t len;
    char *text;
    json_t *j;

    json_writer_init(&w, 1 << 16);
    json_writer_object_begin(&w);
    scores_write_json(out, n, reason_keys, &w);
    json_writer_object_end(&w);
    text = json_writer_take(&w, &len);
    json_writer_free(&w);
    j = json_loadb(text, len, 0, &jerr);
    if (!j)
        fail_msg("not JSON: %s", jerr.text);
    free(text);
    return j;
}

static void set(struct fixture *fx, const char *name, double value)
{
    int i = features_index(fx->cat, name);

    assert_true(i >= 0);
    fx->v.values[i] = value;
}

/* A plausible salaried user with a bounce. */
static void typical_user(struct fixture *fx)
{
    set(fx, "estimated_salary", 42000);
    set(fx, "salary_cycles_count_c180", 6);
    set(fx, "days_since_last_salary", 12);
    set(fx, "bounce_count_c90", 1);
    set(fx, "bounce_count_c180", 2);
    set(fx, "monthly_obligation", 9000);
    set(fx, "loan_rejection_count_c90", 1);
    set(fx, "loan_disbursal_count_c90", 0);
    set(fx, "balance_daily_mean_c30", 23000);
    set(fx, "balance_daily_min_c30", 800);
    set(fx, "debit_sum_c30", 51000);
    set(fx, "income_m1", 47000);
    set(fx, "apps_lending_count", 4);
    set(fx, "apps_gambling_count", 1);
    set(fx, "emi_loans_contracted_count_c90", 2);
}

static void test_arms_stable_and_weighted(void **state)
{
    struct fixture *fx = *state;
    struct scores *s50 = payday(fx, PAYDAY "=v2:50,v3:50");
    struct scores *s30 = payday(fx, PAYDAY "=v2:30,v3:70");
    int v2_50 = 0, v2_30 = 0, moved = 0;

    for (int u = 0; u < 10000; u++) {
        char uid[32];
        unsigned b;
        const char *a50, *a30;

        snprintf(uid, sizeof(uid), "user-%d", u);
        b = scores_bucket("demo_client", uid);
        assert_true(b < SCORE_BUCKETS);
        assert_int_equal(b, scores_bucket("demo_client", uid)); /* stable */
        a50 = scores_arm_for_bucket(s50, 0, b);
        a30 = scores_arm_for_bucket(s30, 0, b);
        v2_50 += strcmp(a50, "v2") == 0;
        v2_30 += strcmp(a30, "v2") == 0;
        /* shrinking v2 from 50% to 30% only moves v2 users to v3, never back */
        if (strcmp(a50, a30) != 0) {
            assert_string_equal(a50, "v2");
            moved++;
        }
    }
    assert_in_range(v2_50, 4700, 5300);
    assert_in_range(v2_30, 2700, 3300);
    assert_in_range(moved, 1700, 2300);
    /* the client is part of the key */
    assert_true(scores_bucket("a", "bc") != scores_bucket("ab", "c"));
    /* the EMI score has one version: 100% to it */
    assert_string_equal(scores_arm_for_bucket(s50, 1, 1234), "v2");
    scores_free(s50);
    scores_free(s30);
}

static void test_arms_refused(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *spec, *want;
    } bad[] = {
        {PAYDAY "=v2:50,v3:40", "sum to 90"},
        {PAYDAY "=v2:50,v9:50", "no loaded version 'v9'"},
        {"credeau_nope=v2:100", "'credeau_nope'"},
        {PAYDAY "=v2:fifty,v3:50", "weight 'fifty'"},
        {PAYDAY "=v2:50,v2:50", "listed twice"},
        {PAYDAY, "expected score="},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct scores *s = scores_new();
        char err[512] = "";

        assert_int_equal(add(s, fx, PAYDAY, "v2", "demo_payday_v2", NULL, err, sizeof(err)), 0);
        assert_int_equal(add(s, fx, PAYDAY, "v3", "demo_payday_v3", NULL, err, sizeof(err)), 0);
        assert_int_equal(scores_set_arms(s, bad[i].spec, err, sizeof(err)), -1);
        if (!strstr(err, bad[i].want))
            fail_msg("'%s': error '%s' lacks '%s'", bad[i].spec, err, bad[i].want);
        scores_free(s);
    }
}

static void test_unknown_feature_named(void **state)
{
    struct fixture *fx = *state;
    struct scores *s = scores_new();
    char err[512] = "";
    /* demo_emi_v2 reads 10 columns: same count, one name the catalogue lacks */
    const char *pred = "[\"emi_loans_contracted_count_c90\",\"monthly_obligation\","
                       "\"emi_max_amount_c90\",\"emi_debited_share_of_contracted_c90\","
                       "\"emi_affordability\",\"bounce_count_c90\",\"nach_bounce_count_c180\","
                       "\"estimated_salary\",\"balance_before_emi_min_c90\","
                       "\"loan_disbursal_sum_c999\"]";

    assert_int_equal(add(s, fx, "credeau_emi_score", "v2", "demo_emi_v2", pred, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "'loan_disbursal_sum_c999' is not in the catalogue"));
    assert_non_null(strstr(err, "credeau_emi_score v2"));
    assert_int_equal(
        add(s, fx, "credeau_emi_score", "v2", "demo_emi_v2", "[\"emi_count\"]", err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "names 1 features, the model reads 10"));
    assert_int_equal(
        add(s, fx, "credeau_emi_score", "v2", "demo_emi_v2", "{\"x\":1}", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "predictor list"));
    assert_int_equal(scores_models(s), 0);
    scores_free(s);
}

static void test_null_when_group_failed_or_not_asked(void **state)
{
    struct fixture *fx = *state;
    struct scores *s = payday(fx, PAYDAY "=v3:100");
    struct scores_scratch *sc = scores_scratch_new(s);
    struct score_outcome out[4];
    struct score_request r = request(fx, "u", 5);
    size_t n;
    json_t *j;

    typical_user(fx);
    r.failed = FEATURES_GROUP_EXTRACTED_SMS;
    n = scores_evaluate(s, &r, sc, out);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_true(out[i].is_null);
        assert_true(isnan(out[i].value));
        assert_string_equal(out[i].null_reason, "inputs_failed:extracted_sms");
        assert_int_equal(out[i].n_reasons, 0);
    }
    j = reply_of(out, n, 5);
    assert_true(json_is_null(json_object_get(j, "credeau_payday_score")));
    assert_string_equal(json_string_value(json_object_get(j, "credeau_payday_score_null_reason")),
                        "inputs_failed:extracted_sms");
    assert_string_equal(json_string_value(json_object_get(j, "credeau_payday_score_arm")), "v3");
    assert_true(json_is_null(json_object_get(j, "credeau_payday_score_reason_1")));
    assert_null(json_object_get(j, "credeau_payday_score_reason_codes"));
    json_decref(j);

    /* v3 reads app features: null when only SMS groups were asked; EMI (SMS only) is scored */
    r.failed = 0;
    r.asked = FEATURES_GROUP_SMS | FEATURES_GROUP_EXTRACTED_SMS;
    n = scores_evaluate(s, &r, sc, out);
    assert_true(out[0].is_null);
    assert_string_equal(out[0].null_reason, "inputs_not_requested:apps");
    assert_false(out[1].is_null);
    assert_true(out[1].value >= 0 && out[1].value <= 1);
    scores_scratch_free(sc);
    scores_free(s);
}

static void test_predictor_list_says_what_it_predicts(void **state)
{
    struct fixture *fx = *state;
    static const char emi_features[] =
        "[\"emi_loans_contracted_count_c90\",\"monthly_obligation\",\"emi_max_amount_c90\","
        "\"emi_debited_share_of_contracted_c90\",\"emi_affordability\",\"bounce_count_c90\","
        "\"nach_bounce_count_c180\",\"estimated_salary\",\"balance_before_emi_min_c90\","
        "\"loan_disbursal_sum_c180\"]";
    static const struct {
        const char *meta, *want; /* want NULL: accepted */
    } cases[] = {
        {"\"probability_of\":\"default_90dpd_12m\",\"positive_class\":\"good\"", NULL},
        {"\"positive_class\":\"meh\"", "\"positive_class\" must be \"bad\" or \"good\""},
        {"\"positive_class\":1", "\"positive_class\""},
        {"\"probability_of\":[\"x\"]", "\"probability_of\" must be a string"},
        {"\"probability_of\":\"\"", "\"probability_of\" must be a string"},
    };
    char pred[1024], err[512];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct scores *s = scores_new();
        int rc;

        snprintf(pred, sizeof(pred), "{%s,\"features\":%s}", cases[i].meta, emi_features);
        rc = add(s, fx, "credeau_emi_score", "v2", "demo_emi_v2", pred, err, sizeof(err));
        if (cases[i].want) {
            assert_int_equal(rc, -1);
            if (!strstr(err, cases[i].want))
                fail_msg("%s: error '%s' lacks '%s'", cases[i].meta, err, cases[i].want);
        } else {
            struct scores_scratch *sc;
            struct score_outcome out[1];
            struct score_request r = request(fx, "u", 5);

            assert_int_equal(rc, 0);
            assert_int_equal(scores_set_arms(s, NULL, err, sizeof(err)), 0);
            sc = scores_scratch_new(s);
            typical_user(fx);
            assert_int_equal(scores_evaluate(s, &r, sc, out), 1);
            assert_string_equal(out[0].probability_of, "default_90dpd_12m");
            assert_false(out[0].higher_is_riskier);
            scores_scratch_free(sc);
        }
        scores_free(s);
    }
}

struct gate_case {
    long sms;
    double recency, history;
    const char *want; /* NULL: scored */
};

static void test_evidence_gates(void **state)
{
    struct fixture *fx = *state;
    struct scores *s = payday(fx, PAYDAY "=v2:100");
    struct scores_scratch *sc = scores_scratch_new(s);
    struct score_outcome out[4];
    /* gates: at least 50 SMS, 30 days of history, newest at most 30 days old */
    static const struct gate_case cases[] = {
        {0, NAN, NAN, "no_data"},       {1800, 31, 160, "stale_data"}, {1800, 30, 160, NULL},
        {10, 0, 160, "thin_file"},      {49, 0, 160, "thin_file"},     {50, 0, 160, NULL},
        {1800, 0, 29, "thin_file"},     {1800, 0, 30, NULL},           {10, 400, 400, "stale_data"},
        {1800, 400, 520, "stale_data"},
    };

    typical_user(fx);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct score_request r = request(fx, "u", 5);
        size_t n;

        r.evidence.sms_count_used = cases[i].sms;
        r.evidence.data_recency_days = cases[i].recency;
        r.evidence.history_days = cases[i].history;
        n = scores_evaluate(s, &r, sc, out);
        assert_int_equal(n, 2);
        for (size_t k = 0; k < n; k++) {
            if (!cases[i].want) {
                assert_false(out[k].is_null);
                assert_true(out[k].n_reasons > 0);
                continue;
            }
            if (!out[k].is_null || strcmp(out[k].null_reason, cases[i].want) != 0)
                fail_msg("case %zu (%ld sms, %g, %g): %s is %s, want %s", i, cases[i].sms,
                         cases[i].recency, cases[i].history, out[k].score,
                         out[k].is_null ? out[k].null_reason : "scored", cases[i].want);
            assert_true(isnan(out[k].value));
            assert_int_equal(out[k].n_reasons, 0);
            assert_string_equal(out[k].arm, "v2");
        }
    }
    /* a failed or unasked group is said before the missing data; no features: no_data */
    {
        struct score_request r = request(fx, "u", 5);

        r.evidence.sms_count_used = 0;
        r.failed = FEATURES_GROUP_EXTRACTED_SMS;
        scores_evaluate(s, &r, sc, out);
        assert_string_equal(out[0].null_reason, "inputs_failed:extracted_sms");
        r.failed = 0;
        r.asked = FEATURES_GROUP_APPS;
        scores_evaluate(s, &r, sc, out);
        assert_string_equal(out[0].null_reason, "inputs_not_requested:extracted_sms");
        r = request(fx, "u", 5);
        r.v = NULL;
        scores_evaluate(s, &r, sc, out);
        assert_string_equal(out[0].null_reason, "no_data");
        assert_string_equal(out[1].null_reason, "no_data");
    }
    scores_scratch_free(sc);
    scores_free(s);
}

/* A model of app and device features only is gated on those sources, not on the SMS. */
static void test_gates_of_a_model_without_sms(void **state)
{
    struct fixture *fx = *state;
    static const char pred[] =
        "[\"apps_count_total\",\"apps_count_user\",\"apps_count_system\",\"apps_mapped_count\","
        "\"apps_installed_c7\",\"apps_installed_c30\",\"apps_installed_c90\",\"apps_updated_c30\","
        "\"apps_lending_count\",\"device_sdk_int\"]";
    struct scores *s = scores_new();
    struct scores_scratch *sc;
    struct score_outcome out[1];
    struct score_request r = request(fx, "u", 5);
    char err[512];

    if (add(s, fx, "credeau_score", "v1", "demo_emi_v2", pred, err, sizeof(err)) < 0 ||
        scores_set_arms(s, NULL, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    sc = scores_scratch_new(s);
    typical_user(fx);
    r.evidence = (struct score_evidence){
        .sms_count_used = 0, .data_recency_days = NAN, .history_days = NAN, .apps_present = true};
    scores_evaluate(s, &r, sc, out);
    assert_false(out[0].is_null); /* no SMS, apps present: scored */
    r.evidence.apps_present = false;
    r.evidence.device_present = true;
    scores_evaluate(s, &r, sc, out);
    assert_false(out[0].is_null);
    r.evidence.device_present = false;
    scores_evaluate(s, &r, sc, out);
    assert_true(out[0].is_null);
    assert_string_equal(out[0].null_reason, "no_data");
    scores_scratch_free(sc);
    scores_free(s);
}

/* The contributions of model file for the user's features, computed here through lgbm.h. */
static int direct_contrib(const struct fixture *fx, const char *file, double *x, double *contrib,
                          const char **names)
{
    char path[256], err[256];
    size_t len;
    char *text;
    struct lgbm_model *m;
    json_t *pred, *list;
    void *scratch;
    int nf;

    snprintf(path, sizeof(path), "%s/%s.txt", MODELS_DIR, file);
    text = file_read(path, 0, &len, NULL, 0);
    assert_non_null(text);
    assert_int_equal(lgbm_model_load(text, len, &m, err, sizeof(err)), 0);
    free(text);
    snprintf(path, sizeof(path), "%s/%s.predictors.json", MODELS_DIR, file);
    pred = json_load_file(path, 0, NULL);
    assert_non_null(pred);
    list = json_is_array(pred) ? pred : json_object_get(pred, "features");
    nf = lgbm_model_num_features(m);
    assert_int_equal((int)json_array_size(list), nf);
    for (int j = 0; j < nf; j++) {
        const char *name = json_string_value(json_array_get(list, (size_t)j));
        int k = features_index(fx->cat, name);

        assert_true(k >= 0);
        names[j] = features_entry(fx->cat, (size_t)k)->name;
        x[j] = fx->v.values[k];
    }
    scratch = malloc(lgbm_contrib_scratch_size(m));
    assert_int_equal(lgbm_predict_contrib(m, x, contrib, scratch, lgbm_contrib_scratch_size(m)), 0);
    free(scratch);
    json_decref(pred);
    lgbm_model_free(m);
    return nf;
}

/*
 * o's reasons must be exactly the columns whose contribution times sign is
 * positive, by that impact descending (ties in column order), the first top_k.
 */
static void expect_reasons(const struct fixture *fx, const struct score_outcome *o,
                           const char *file, double sign, int top_k)
{
    double x[64], contrib[65];
    const char *names[64];
    bool used[64] = {false};
    int nf = direct_contrib(fx, file, x, contrib, names), want = 0;

    for (int j = 0; j < nf; j++)
        want += sign * contrib[j] > 0;
    if (want > top_k)
        want = top_k;
    assert_int_equal(o->n_reasons, want);
    for (int k = 0; k < want; k++) {
        int best = -1;

        for (int j = 0; j < nf; j++)
            if (!used[j] && sign * contrib[j] > 0 &&
                (best < 0 || sign * contrib[j] > sign * contrib[best]))
                best = j;
        used[best] = true;
        assert_string_equal(o->reasons[k].feature, names[best]);
        assert_true(o->reasons[k].impact == sign * contrib[best]);
        assert_true(o->reasons[k].impact > 0);
        assert_int_equal(o->reasons[k].missing, isnan(x[best]));
        if (!isnan(x[best]))
            assert_true(o->reasons[k].value == x[best]);
    }
}

static void test_reason_codes_push_toward_bad(void **state)
{
    struct fixture *fx = *state;
    struct scores *s = payday(fx, PAYDAY "=v2:100");
    struct scores_scratch *sc = scores_scratch_new(s);
    struct score_outcome out[4];
    int with_reasons = 0;

    typical_user(fx);
    for (int u = 0; u < 40; u++) {
        char uid[16];
        struct score_request r;

        snprintf(uid, sizeof(uid), "r%d", u);
        set(fx, "bounce_count_c90", u % 4);
        set(fx, "balance_daily_mean_c30", u % 5 == 0 ? NAN : 1000.0 * u);
        set(fx, "estimated_salary", u % 3 == 0 ? NAN : 9000.0 + 1500.0 * u);
        r = request(fx, uid, SCORE_REASONS_MAX);
        assert_int_equal(scores_evaluate(s, &r, sc, out), 2);
        expect_reasons(fx, &out[0], "demo_payday_v2", 1.0, SCORE_REASONS_MAX);
        expect_reasons(fx, &out[1], "demo_emi_v2", 1.0, SCORE_REASONS_MAX);
        with_reasons += out[0].n_reasons > 0;
        assert_true(fabs(out[0].value - 1.0 / (1.0 + exp(-out[0].raw))) < 1e-15);
        /* the top 2 are the first two of the full list */
        r.top_k = 2;
        scores_evaluate(s, &r, sc, out + 2);
        expect_reasons(fx, &out[2], "demo_payday_v2", 1.0, 2);
    }
    assert_true(with_reasons > 30);
    scores_scratch_free(sc);
    scores_free(s);

    /* the same model declared as predicting the good outcome: the other side's factors */
    {
        char pred[1024], err[512];
        char *text = file_read(MODELS_DIR "/demo_payday_v2.predictors.json", 0, NULL, NULL, 0);
        json_t *j = json_loads(text, 0, NULL);
        char *list = json_dumps(json_object_get(j, "features"), JSON_COMPACT);
        struct score_request r = request(fx, "u", SCORE_REASONS_MAX);

        snprintf(pred, sizeof(pred), "{\"positive_class\":\"good\",\"features\":%s}", list);
        s = scores_new();
        if (add(s, fx, PAYDAY, "v2", "demo_payday_v2", pred, err, sizeof(err)) < 0 ||
            scores_set_arms(s, NULL, err, sizeof(err)) < 0)
            fail_msg("%s", err);
        sc = scores_scratch_new(s);
        scores_evaluate(s, &r, sc, out);
        assert_false(out[0].higher_is_riskier);
        expect_reasons(fx, &out[0], "demo_payday_v2", -1.0, SCORE_REASONS_MAX);
        assert_true(out[0].n_reasons > 0);
        scores_scratch_free(sc);
        scores_free(s);
        free(list);
        json_decref(j);
        free(text);
    }
}

/* A missing input among the reasons is named as missing, its value null. */
static void test_missing_input_named_missing(void **state)
{
    struct fixture *fx = *state;
    struct scores *s = payday(fx, PAYDAY "=v2:100");
    struct scores_scratch *sc = scores_scratch_new(s);
    struct score_outcome out[4];
    const char *const tried[] = {"estimated_salary",       "salary_cycles_count_c180",
                                 "days_since_last_salary", "balance_daily_mean_c30",
                                 "balance_daily_min_c30",  "income_m1"};
    int found = 0;

    for (size_t t = 0; t < sizeof(tried) / sizeof(tried[0]); t++) {
        struct score_request r = request(fx, "u", SCORE_REASONS_MAX);
        char key[128], want[128];
        json_t *j;

        typical_user(fx);
        set(fx, tried[t], NAN);
        scores_evaluate(s, &r, sc, out);
        j = reply_of(out, 1, SCORE_REASONS_MAX);
        for (int k = 0; k < out[0].n_reasons; k++) {
            if (strcmp(out[0].reasons[k].feature, tried[t]) != 0)
                continue;
            assert_true(out[0].reasons[k].missing);
            snprintf(key, sizeof(key), PAYDAY "_reason_%d", k + 1);
            snprintf(want, sizeof(want), "missing:%s", tried[t]);
            assert_string_equal(json_string_value(json_object_get(j, key)), want);
            snprintf(key, sizeof(key), PAYDAY "_reason_%d_value", k + 1);
            assert_true(json_is_null(json_object_get(j, key)));
            snprintf(key, sizeof(key), PAYDAY "_reason_%d_impact", k + 1);
            assert_true(json_real_value(json_object_get(j, key)) > 0);
            found++;
        }
        json_decref(j);
    }
    assert_true(found > 0);
    scores_scratch_free(sc);
    scores_free(s);
}

/* Every member of j is a scalar. */
static void expect_flat(json_t *j)
{
    const char *key;
    json_t *v;

    json_object_foreach(j, key, v)
    {
        if (json_is_array(v) || json_is_object(v))
            fail_msg("%s is not a scalar", key);
    }
}

static void test_reply_flat_and_keys_stable(void **state)
{
    static const char *const no_model_keys[] = {
        "credeau_score",
        "credeau_score_arm",
        "credeau_score_model_version",
        "credeau_score_probability_of",
        "credeau_score_higher_is_riskier",
        "credeau_score_reason_1",
    };
    struct fixture *fx = *state;
    struct scores *s = scores_new();
    struct scores_scratch *sc;
    struct score_outcome ok[4], gated[4];
    struct score_request r = request(fx, "u", 5);
    const char *k1, *k2;
    json_t *a, *b, *v1, *v2;
    void *it1, *it2;
    char err[512];
    size_t n;

    /* credeau_score declared with no model: its keys are there, null, "no_model" */
    if (scores_declare(s, "credeau_score", err, sizeof(err)) < 0 ||
        add(s, fx, PAYDAY, "v2", "demo_payday_v2", NULL, err, sizeof(err)) < 0 ||
        add(s, fx, "credeau_emi_score", "v2", "demo_emi_v2", NULL, err, sizeof(err)) < 0 ||
        scores_set_arms(s, NULL, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    assert_int_equal(scores_declare(s, PAYDAY, err, sizeof(err)), 0); /* known: no change */
    assert_int_equal(scores_set_arms(s, "credeau_score=v1:100", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no model is loaded for score 'credeau_score'"));
    assert_int_equal(scores_set_arms(s, NULL, err, sizeof(err)), 0);
    sc = scores_scratch_new(s);
    typical_user(fx);
    n = scores_evaluate(s, &r, sc, ok);
    assert_int_equal(n, 3);
    r.evidence.sms_count_used = 3;
    assert_int_equal(scores_evaluate(s, &r, sc, gated), 3);
    a = reply_of(ok, n, 5);
    b = reply_of(gated, n, 5);
    expect_flat(a);
    expect_flat(b);
    /* 3 scores x (6 + 3 x 5) keys, the same keys in the same order */
    assert_int_equal(json_object_size(a), 3 * 21);
    for (it1 = json_object_iter(a), it2 = json_object_iter(b); it1 && it2;
         it1 = json_object_iter_next(a, it1), it2 = json_object_iter_next(b, it2)) {
        k1 = json_object_iter_key(it1);
        k2 = json_object_iter_key(it2);
        assert_string_equal(k1, k2);
    }
    assert_null(it1);
    assert_null(it2);
    v1 = json_object_get(a, "credeau_score_null_reason");
    assert_string_equal(json_string_value(v1), "no_model");
    for (size_t k = 0; k < sizeof(no_model_keys) / sizeof(no_model_keys[0]); k++)
        assert_true(json_is_null(json_object_get(a, no_model_keys[k])));
    v1 = json_object_get(a, PAYDAY);
    v2 = json_object_get(b, PAYDAY);
    assert_true(json_is_real(v1));
    assert_true(json_is_null(v2));
    assert_true(json_is_null(json_object_get(a, PAYDAY "_null_reason")));
    assert_string_equal(json_string_value(json_object_get(b, PAYDAY "_null_reason")), "thin_file");
    assert_true(json_is_true(json_object_get(a, PAYDAY "_higher_is_riskier")));
    v1 = json_object_get(a, PAYDAY "_probability_of");
    assert_true(json_is_string(v1));
    assert_non_null(strstr(json_string_value(v1), "synthetic"));
    json_decref(a);
    json_decref(b);
    /* reason keys off: only the six score keys each */
    a = reply_of(ok, n, 0);
    assert_int_equal(json_object_size(a), 3 * 6);
    json_decref(a);
    scores_scratch_free(sc);
    scores_free(s);
}

static void test_probabilities_in_unit_interval(void **state)
{
    struct fixture *fx = *state;
    struct scores *s = payday(fx, PAYDAY "=v2:50,v3:50");
    struct scores_scratch *sc = scores_scratch_new(s);
    struct score_outcome out[4];
    struct score_request r;
    unsigned seed = 12345;

    for (int u = 0; u < 2000; u++) {
        char uid[16];
        size_t n;

        for (size_t i = 0; i < fx->v.count; i++) {
            seed = seed * 1103515245u + 12345u;
            fx->v.values[i] = (seed >> 8) % 7 == 0 ? NAN : ((double)(seed >> 8) - 8e6) * 0.05;
        }
        snprintf(uid, sizeof(uid), "p%d", u);
        r = request(fx, uid, 0);
        n = scores_evaluate(s, &r, sc, out);
        for (size_t i = 0; i < n; i++)
            assert_true(out[i].value >= 0.0 && out[i].value <= 1.0);
    }
    scores_scratch_free(sc);
    scores_free(s);
}

static void test_shadow_not_in_reply(void **state)
{
    struct fixture *fx = *state;
    struct scores *s = payday(fx, PAYDAY "=v2:100,v3:shadow");
    struct scores_scratch *sc = scores_scratch_new(s);
    struct score_outcome out[4];
    struct score_request r = request(fx, "u", 5);
    struct json_writer w;
    char *json, desc[256];
    size_t n, len;

    assert_int_equal(scores_outcomes_max(s), 3);
    scores_describe(s, desc, sizeof(desc));
    assert_string_equal(desc, PAYDAY "=v2:100,v3:shadow;credeau_emi_score=v2:100");
    typical_user(fx);
    n = scores_evaluate(s, &r, sc, out);
    assert_int_equal(n, 3);
    assert_false(out[0].shadow);
    assert_string_equal(out[0].arm, "v2");
    assert_true(out[2].shadow);
    assert_string_equal(out[2].arm, "v3");
    assert_false(out[2].is_null);
    assert_true(out[2].value >= 0 && out[2].value <= 1);
    assert_int_equal(out[2].n_reasons, 0); /* no TreeSHAP for what is not returned */
    json_writer_init(&w, 1 << 16);
    json_writer_object_begin(&w);
    scores_write_json(out, n, 5, &w);
    json_writer_object_end(&w);
    json = json_writer_take(&w, &len);
    assert_non_null(strstr(json, "\"credeau_payday_score_arm\":\"v2\""));
    assert_non_null(strstr(json, "\"credeau_payday_score_model_version\":\"demo-payday-v2\""));
    assert_non_null(strstr(json, "\"credeau_payday_score_reason_1\":\""));
    assert_null(strstr(json, "v3"));
    free(json);
    json_writer_free(&w);
    scores_scratch_free(sc);
    scores_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_arms_stable_and_weighted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arms_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_feature_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_when_group_failed_or_not_asked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_predictor_list_says_what_it_predicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evidence_gates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gates_of_a_model_without_sms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reason_codes_push_toward_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_input_named_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_flat_and_keys_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probabilities_in_unit_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shadow_not_in_reply, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
