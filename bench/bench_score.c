/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How long the scores add to one insights reply: every demo score
 * (insights-api/models/: payday v2 and v3 as a 50/50 A/B pair, EMI v2) on one
 * user's feature vector, as the pipeline does it (scratch allocated per user,
 * arm hash, predictions, TreeSHAP reason codes for the returned scores), with
 * and without reason codes and with a shadow version added. The p99 budget
 * of the whole reply is 100 ms; this is the part scoring takes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/file.h"
#include "insights-api/features.h"
#include "insights-api/score.h"

#define ROUNDS 5
#define USERS 400

volatile double bench_score_sink;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int add(struct scores *s, const struct features_catalogue *c, const char *score,
               const char *version, const char *file)
{
    char path[256], err[512];
    size_t ml = 0, pl = 0;
    char *m, *p;
    int rc = -1;

    snprintf(path, sizeof(path), "insights-api/models/%s.txt", file);
    m = file_read(path, 0, &ml, NULL, 0);
    snprintf(path, sizeof(path), "insights-api/models/%s.predictors.json", file);
    p = file_read(path, 0, &pl, NULL, 0);
    if (!m || !p)
        fprintf(stderr, "bench_score: cannot read insights-api/models/%s.*\n", file);
    else if (scores_add_model(s, c, score, version, m, ml, p, pl, err, sizeof(err)) < 0)
        fprintf(stderr, "bench_score: %s\n", err);
    else
        rc = 0;
    free(m);
    free(p);
    return rc;
}

static double run(const struct scores *s, struct feature_vector *v, int top_k)
{
    struct score_outcome *out = calloc(scores_outcomes_max(s), sizeof(*out));
    double best = 1e9;

    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now();

        for (int u = 0; u < USERS; u++) {
            struct scores_scratch *sc = scores_scratch_new(s);
            char uid[16];
            size_t n;
            struct score_request req = {
                .v = v,
                .asked = FEATURES_GROUP_ALL,
                .evidence = {.sms_count_used = 2000, .data_recency_days = 0, .history_days = 180},
                .gates = {.min_sms_count = 50, .min_history_days = 30, .max_data_recency_days = 30},
                .client_id = "demo",
                .user_id = uid,
                .top_k = top_k,
            };

            snprintf(uid, sizeof(uid), "u%d", u);
            v->values[u % v->count] = u % 3 ? (double)u * 37.0 : NAN;
            n = scores_evaluate(s, &req, sc, out);
            bench_score_sink = n ? out[0].value : 0;
            scores_scratch_free(sc);
        }
        if ((now() - t0) / USERS < best)
            best = (now() - t0) / USERS;
    }
    free(out);
    return best * 1e6;
}

int main(void)
{
    struct features_catalogue *c = NULL;
    struct feature_vector v;
    struct scores *s = scores_new(), *shadow = scores_new();
    char err[512];
    unsigned seed = 7;

    if (features_catalogue_load_file(FEATURES_CATALOGUE_DEFAULT_PATH, &c, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_score: %s\n", err);
        return 1;
    }
    if (!s || !shadow || features_vector_init(&v, c) < 0)
        return 1;
    for (size_t i = 0; i < v.count; i++) {
        seed = seed * 1103515245u + 12345u;
        v.values[i] = (double)((seed >> 8) % 50000);
    }
    for (int k = 0; k < 2; k++) {
        struct scores *t = k ? shadow : s;

        if (add(t, c, "credeau_payday_score", "v2", "demo_payday_v2") < 0 ||
            add(t, c, "credeau_payday_score", "v3", "demo_payday_v3") < 0 ||
            add(t, c, "credeau_emi_score", "v2", "demo_emi_v2") < 0)
            return 1;
    }
    if (scores_set_arms(s, "credeau_payday_score=v2:50,v3:50", err, sizeof(err)) < 0 ||
        scores_set_arms(shadow, "credeau_payday_score=v2:100,v3:shadow", err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_score: %s\n", err);
        return 1;
    }
    printf("bench_score: one user, all demo scores (payday v2/v3 50:50 + EMI v2; 80-100 trees, "
           "depth 4-5), best of %d rounds of %d users\n",
           ROUNDS, USERS);
    printf("%-34s %8.1f us/user\n", "scores, no reason codes", run(s, &v, 0));
    printf("%-34s %8.1f us/user\n", "scores + 5 reason codes each", run(s, &v, 5));
    printf("%-34s %8.1f us/user\n", "+ payday v3 as shadow (no SHAP)", run(shadow, &v, 5));
    scores_free(s);
    scores_free(shadow);
    features_vector_free(&v);
    features_catalogue_free(c);
    return 0;
}
