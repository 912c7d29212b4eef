/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for the score configuration that comes from outside the
 * code: a predictor list (JSON artifact) and the SCORE_ARMS string. The input
 * is "<predictor list bytes>\n--\n<arms spec>"; both are bound to the demo EMI
 * model (insights-api/models/demo_emi_v2.txt, 10 columns) and the real
 * catalogue, so any bytes must either be refused with an error or give scores
 * that evaluate, with reason codes, on a vector of nulls and values.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "insights-api/features.h"
#include "insights-api/score.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct features_catalogue *catalogue;
static struct feature_vector vec;
static char *model;
static size_t model_len;

static void init_once(void)
{
    char err[512];
    FILE *f;
    long n;

    if (catalogue)
        return;
    if (features_catalogue_load_file(FEATURES_CATALOGUE_DEFAULT_PATH, &catalogue, err,
                                     sizeof(err)) < 0 ||
        features_vector_init(&vec, catalogue) < 0)
        abort();
    for (size_t i = 0; i < vec.count; i++)
        vec.values[i] = i % 3 ? (double)i * 101.5 : NAN;
    f = fopen("insights-api/models/demo_emi_v2.txt", "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        abort();
    model = malloc((size_t)n);
    if (!model || fread(model, 1, (size_t)n, f) != (size_t)n)
        abort();
    model_len = (size_t)n;
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *sep = memmem(text, size, "\n--\n", 4);
    size_t plen = sep ? (size_t)(sep - text) : size;
    char *spec = NULL, err[512];
    struct scores *s;

    init_once();
    if (sep) {
        size_t slen = size - plen - 4;

        spec = malloc(slen + 1);
        if (!spec)
            return 0;
        memcpy(spec, sep + 4, slen);
        spec[slen] = '\0';
    }
    s = scores_new();
    if (s &&
        scores_add_model(s, catalogue, "credeau_emi_score", "v2", model, model_len, text, plen, err,
                         sizeof(err)) == 0 &&
        scores_set_arms(s, spec, err, sizeof(err)) == 0) {
        struct scores_scratch *sc = scores_scratch_new(s);
        struct score_outcome *out = calloc(scores_outcomes_max(s) + 1, sizeof(*out));

        struct score_request req = {
            .v = &vec,
            .asked = FEATURES_GROUP_ALL,
            .evidence = {.sms_count_used = 100, .data_recency_days = 1, .history_days = 90},
            .gates = {.min_sms_count = 50, .min_history_days = 30, .max_data_recency_days = 30},
            .client_id = "c",
            .user_id = "u",
            .top_k = 5,
        };

        if (sc && out)
            (void)scores_evaluate(s, &req, sc, out);
        free(out);
        scores_scratch_free(sc);
    }
    scores_free(s);
    free(spec);
    return 0;
}
