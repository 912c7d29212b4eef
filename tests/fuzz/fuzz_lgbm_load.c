/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for the LightGBM model loader: model files are outside
 * input (artifacts from disk or S3), so any byte string must either load into
 * a model that predicts without touching memory it does not own, or be
 * refused with an error. When a model loads, one prediction, its transform and
 * (for non-linear models) its contributions are computed on a fixed input
 * mixing ordinary values, NaN, zero, tiny values and infinities.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "insights-api/lgbm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const double pattern[] = {0.5, NAN, 0.0, -1e-36, 3.0, -INFINITY, 40.0, 1e300, -2.5};
    struct lgbm_model *m = NULL;
    char err[256];

    if (lgbm_model_load((const char *)data, size, &m, err, sizeof(err)) != 0)
        return 0;
    int nf = lgbm_model_num_features(m), k = lgbm_model_num_class(m);
    double *x = malloc(sizeof(double) * (size_t)nf);
    double *out = malloc(sizeof(double) * (size_t)k);
    /* the output, not the model, would be large: (features + 1) x classes doubles */
    double *contrib = (size_t)(nf + 1) * (size_t)k <= 1000000
                          ? malloc(sizeof(double) * (size_t)(nf + 1) * (size_t)k)
                          : NULL;
    size_t scratch_len = lgbm_contrib_scratch_size(m);
    void *scratch = malloc(scratch_len);
    if (x && out) {
        for (int i = 0; i < nf; i++)
            x[i] = pattern[i % (int)(sizeof(pattern) / sizeof(pattern[0]))];
        lgbm_predict(m, x, out);
        if (contrib && scratch)
            (void)lgbm_predict_contrib(m, x, contrib, scratch, scratch_len);
    }
    free(scratch);
    free(contrib);
    free(out);
    free(x);
    lgbm_model_free(m);
    return 0;
}
