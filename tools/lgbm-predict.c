/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lgbm-predict: run insights-api's LightGBM evaluator (insights-api/lgbm.h)
 * over rows of numbers, so a model produced elsewhere (tools/train-demo-models
 * converting scikit-learn, or a data scientist's save_model file) can be
 * checked against the predictions of the library that trained it, from any
 * language, without linking C.
 *
 *     lgbm-predict MODEL.txt [--contrib] < rows.csv
 *
 * Each input line is num_features comma-separated numbers ("nan" or an empty
 * field is missing). Each output line is "raw,output" with 17 significant
 * digits, followed with --contrib by the contributions and the bias.
 */
#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "insights-api/lgbm.h"

/* Parse one CSV line into x[n]. Returns 0, or -1 when the field count or a number is wrong. */
static int parse_row(char *line, double *x, int n)
{
    char *p = line;

    for (int j = 0; j < n; j++) {
        char *end;

        if (*p == ',' || *p == '\0' || *p == '\n') {
            x[j] = NAN;
            end = p;
        } else {
            errno = 0;
            x[j] = strtod(p, &end);
            if (end == p || errno == ERANGE)
                return -1;
        }
        if (j + 1 < n && *end != ',')
            return -1;
        p = end + (j + 1 < n);
    }
    return *p == '\0' || *p == '\n' ? 0 : -1;
}

static int run(const struct lgbm_model *m, bool contrib)
{
    int n = lgbm_model_num_features(m);
    double *x = calloc((size_t)n, sizeof(double));
    double *c = calloc((size_t)n + 1, sizeof(double));
    size_t scratch_len = lgbm_contrib_scratch_size(m);
    void *scratch = malloc(scratch_len ? scratch_len : 1);
    char *line = NULL;
    size_t cap = 0;
    long row = 0;
    int rc = 0;

    while (x && c && scratch && getline(&line, &cap, stdin) > 0) {
        double raw, out;

        row++;
        if (parse_row(line, x, n) < 0) {
            fprintf(stderr, "lgbm-predict: row %ld: expected %d comma-separated numbers\n", row, n);
            rc = 1;
            break;
        }
        lgbm_predict_raw(m, x, &raw);
        lgbm_transform(m, &raw, &out);
        printf("%.17g,%.17g", raw, out);
        if (contrib && lgbm_predict_contrib(m, x, c, scratch, scratch_len) == 0)
            for (int j = 0; j <= n; j++)
                printf(",%.17g", c[j]);
        putchar('\n');
    }
    free(line);
    free(x);
    free(c);
    free(scratch);
    return rc;
}

int main(int argc, char **argv)
{
    struct lgbm_model *m = NULL;
    char err[512];
    size_t len = 0;
    char *text;
    int rc;

    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--contrib") != 0)) {
        fputs("usage: lgbm-predict MODEL.txt [--contrib] < rows.csv\n", stderr);
        return 2;
    }
    text = file_read(argv[1], 0, &len, NULL, 0);
    if (!text) {
        fprintf(stderr, "lgbm-predict: cannot read %s\n", argv[1]);
        return 1;
    }
    rc = lgbm_model_load(text, len, &m, err, sizeof(err));
    free(text);
    if (rc < 0) {
        fprintf(stderr, "lgbm-predict: %s: %s\n", argv[1], err);
        return 1;
    }
    rc = run(m, argc == 3);
    lgbm_model_free(m);
    return rc;
}
