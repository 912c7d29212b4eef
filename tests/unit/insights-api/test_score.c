/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the scores (insights-api/score.h) over the real catalogue and the
 * committed demo models (insights-api/models/): predictor lists bound to the
 * catalogue (an unknown feature fails naming it), A/B arms (stable per user,
 * shares near the weights over 10,000 users, moved only by weight changes),
 * nulls with a reason when an input group failed or was not asked, reason
 * codes that add up to the raw score, probabilities in [0, 1], and shadows
 * that are computed but never written into the reply.
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

#include "common/file.h"
#include "common/json_writer.h"
#include "insights-api/features.h"
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
    struct json_writer w;
    size_t n, len;
    char *json;

    typical_user(fx);
    n = scores_evaluate(s, &fx->v, FEATURES_GROUP_ALL, FEATURES_GROUP_EXTRACTED_SMS, "c", "u", 5,
                        sc, out);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_true(out[i].is_null);
        assert_true(isnan(out[i].value));
        assert_string_equal(out[i].null_reason, "inputs_failed:extracted_sms");
        assert_int_equal(out[i].n_reasons, 0);
    }
    json_writer_init(&w, 1 << 16);
    json_writer_object_begin(&w);
    scores_write_json(out, n, &w);
    json_writer_object_end(&w);
    json = json_writer_take(&w, &len);
    assert_non_null(strstr(json, "\"credeau_payday_score\":null"));
    assert_non_null(
        strstr(json, "\"credeau_payday_score_null_reason\":\"inputs_failed:extracted_sms\""));
    assert_non_null(strstr(json, "\"credeau_payday_score_arm\":\"v3\""));
    assert_null(strstr(json, "_reason_codes"));
    free(json);
    json_writer_free(&w);

    /* v3 reads app features: null when only SMS groups were asked; EMI (SMS only) is scored */
    n = scores_evaluate(s, &fx->v, FEATURES_GROUP_SMS | FEATURES_GROUP_EXTRACTED_SMS, 0, "c", "u",
                        5, sc, out);
    assert_true(out[0].is_null);
    assert_string_equal(out[0].null_reason, "inputs_not_requested:apps");
    assert_false(out[1].is_null);
    assert_true(out[1].value >= 0 && out[1].value <= 1);
    scores_scratch_free(sc);
    scores_free(s);
}

static void test_reason_codes_sum_to_raw(void **state)
{
    struct fixture *fx = *state;
    struct scores *s = payday(fx, PAYDAY "=v2:50,v3:50");
    struct scores_scratch *sc = scores_scratch_new(s);
    struct score_outcome out[4];
    int checked = 0;

    typical_user(fx);
    for (int u = 0; u < 40; u++) {
        char uid[16];
        size_t n;

        snprintf(uid, sizeof(uid), "r%d", u);
        set(fx, "bounce_count_c90", u % 4);
        set(fx, "balance_daily_mean_c30", u % 5 == 0 ? NAN : 1000.0 * u);
        n = scores_evaluate(s, &fx->v, FEATURES_GROUP_ALL, 0, "c", uid, SCORE_REASONS_MAX, sc, out);
        for (size_t i = 0; i < n; i++) {
            double sum = out[i].bias;

            assert_false(out[i].is_null);
            for (int k = 0; k < out[i].n_reasons; k++) {
                sum += out[i].reasons[k].contribution;
                if (k > 0)
                    assert_true(fabs(out[i].reasons[k - 1].contribution) >=
                                fabs(out[i].reasons[k].contribution));
            }
            assert_true(fabs(sum - out[i].raw) < 1e-9);
            assert_true(fabs(out[i].value - 1.0 / (1.0 + exp(-out[i].raw))) < 1e-15);
            checked++;
        }
        /* top 2 are the two largest of the full list */
        n = scores_evaluate(s, &fx->v, FEATURES_GROUP_ALL, 0, "c", uid, 2, sc, out + 2);
        assert_true(out[2].n_reasons <= 2);
        for (int k = 0; k < out[2].n_reasons; k++)
            assert_true(out[2].reasons[k].contribution == out[0].reasons[k].contribution);
    }
    assert_int_equal(checked, 80);
    scores_scratch_free(sc);
    scores_free(s);
}

static void test_probabilities_in_unit_interval(void **state)
{
    struct fixture *fx = *state;
    struct scores *s = payday(fx, PAYDAY "=v2:50,v3:50");
    struct scores_scratch *sc = scores_scratch_new(s);
    struct score_outcome out[4];
    unsigned seed = 12345;

    for (int u = 0; u < 2000; u++) {
        char uid[16];
        size_t n;

        for (size_t i = 0; i < fx->v.count; i++) {
            seed = seed * 1103515245u + 12345u;
            fx->v.values[i] = (seed >> 8) % 7 == 0 ? NAN : ((double)(seed >> 8) - 8e6) * 0.05;
        }
        snprintf(uid, sizeof(uid), "p%d", u);
        n = scores_evaluate(s, &fx->v, FEATURES_GROUP_ALL, 0, "c", uid, 0, sc, out);
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
    struct json_writer w;
    char *json, desc[256];
    size_t n, len;

    assert_int_equal(scores_outcomes_max(s), 3);
    scores_describe(s, desc, sizeof(desc));
    assert_string_equal(desc, PAYDAY "=v2:100,v3:shadow;credeau_emi_score=v2:100");
    typical_user(fx);
    n = scores_evaluate(s, &fx->v, FEATURES_GROUP_ALL, 0, "c", "u", 5, sc, out);
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
    scores_write_json(out, n, &w);
    json_writer_object_end(&w);
    json = json_writer_take(&w, &len);
    assert_non_null(strstr(json, "\"credeau_payday_score_arm\":\"v2\""));
    assert_non_null(strstr(json, "\"credeau_payday_score_model_version\":\"demo-payday-v2\""));
    assert_non_null(strstr(json, "\"credeau_payday_score_reason_codes\":[{\"feature\":"));
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
        cmocka_unit_test_setup_teardown(test_reason_codes_sum_to_raw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probabilities_in_unit_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shadow_not_in_reply, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
