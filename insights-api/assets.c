/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading insights-api's artifacts (see assets.h). One fetch helper serves
 * every artifact so that the S3 credentials, the keyring, the size cap and
 * the prod rule on sealing are applied the same way to all of them.
 */
#include "insights-api/assets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/artifact.h"
#include "common/aws_credentials.h"

/* Config rows of the maps kinds, in enum maps_kind order. */
static const enum ins_artifact kind_artifact[MAPS_KIND_COUNT] = {
    [MAPS_APPS] = INS_ART_APPS_MAPPING,
    [MAPS_FRAUD_APPS] = INS_ART_FRAUD_APPS_MAPPING,
    [MAPS_DEVICE_PRICING] = INS_ART_DEVICE_MAPPING,
    [MAPS_AVG_DEVICE_PRICE] = INS_ART_AVG_DEVICE_MAPPING,
    [MAPS_MERCHANTS] = INS_ART_MERCHANT_MAPPING,
    [MAPS_SMS_SENDERS] = INS_ART_SMS_MAPPING,
    [MAPS_PAYERS] = INS_ART_PAYER_MAPPING,
    [MAPS_CLIENT_EXCLUSIONS] = INS_ART_CLIENT_EXCLUSIONS,
};

/* The guide's model/predictor-list rows (config.h lgbm[]) and the score version each is. */
static const struct {
    int model, predictors;
    const char *model_env, *predictors_env, *score, *version;
} score_rows[] = {
    {0, 4, "LGB_SCORE_MODEL_PATH", "PREDICTORS_SCORE_LGB_MODEL_PATH", "credeau_score", "v1"},
    {1, 5, "PAYDAY_SCORE_LGB_MODEL_PATH", "PREDICTORS_PAYDAY_SCORE_LGB_MODEL_PATH",
     "credeau_payday_score", "v1"},
    {2, 6, "PAYDAY_SCORE_LGB_MODEL_V2_PATH", "PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V2_PATH",
     "credeau_payday_score", "v2"},
    {3, 7, "PAYDAY_SCORE_LGB_MODEL_V3_PATH", "PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V3_PATH",
     "credeau_payday_score", "v3"},
    {10, 11, "EMI_LGB_MODEL_PATH", "PREDICTORS_EMI_LGB_MODEL_PATH", "credeau_emi_score", "v1"},
    {8, 9, "EMI_LGB_MODEL_V2_PATH", "PREDICTORS_EMI_LGB_MODEL_V2_PATH", "credeau_emi_score", "v2"},
};

struct fetcher {
    const struct ins_config *cfg;
    struct artifact_keyring *keyring;
    struct aws_provider *aws; /* S3 credentials, fetched once for all the artifacts */
};

static int fetch(struct fetcher *f, const char *env, const char *location, unsigned char **data,
                 size_t *len, char *err, size_t err_len)
{
    const struct ins_config *cfg = f->cfg;
    struct artifact_s3_auth auth = {
        .default_region = aws_settings_region(&cfg->aws),
        .endpoint = cfg->aws.endpoint_url_s3,
        .timeout_ms = cfg->artifact_timeout_ms,
        .credentials = f->aws,
    };
    struct artifact_source src;
    char why[512], where[1100];
    bool sealed = false;

    if (artifact_source_parse(location, &src, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "%s: %s", env, why);
        return -1;
    }
    artifact_source_describe(&src, where, sizeof(where));
    if (artifact_load(&src, &auth, f->keyring, (size_t)cfg->artifact_max_bytes, data, len, &sealed,
                      why, sizeof(why)) < 0) {
        snprintf(err, err_len, "%s (%s): %s", env, where, why);
        return -1;
    }
    if (!sealed && ins_config_is_prod(cfg)) {
        snprintf(err, err_len, "%s (%s): unsealed artifact refused in prod", env, where);
        free(*data);
        *data = NULL;
        return -1;
    }
    return 0;
}

static void version_append(struct assets *a, const char *name, const char *version)
{
    size_t n = strlen(a->versions);

    snprintf(a->versions + n, sizeof(a->versions) - n, "%s%s=%s", n ? "," : "", name,
             version && *version ? version : "?");
}

static int load_maps(struct assets *a, struct fetcher *f, struct metrics *metrics, char *err,
                     size_t err_len)
{
    const struct ins_config *cfg = f->cfg;

    a->maps = maps_new();
    if (!a->maps) {
        snprintf(err, err_len, "maps: out of memory");
        return -1;
    }
    for (int k = 0; k < MAPS_KIND_COUNT; k++) {
        enum ins_artifact which = kind_artifact[k];
        unsigned char *data = NULL;
        size_t len = 0;
        int r;

        /* SMS_MAPPING_V2_PATH, when set, replaces the v1 sender mapping. */
        if (k == MAPS_SMS_SENDERS && *cfg->artifacts[INS_ART_SMS_MAPPING_V2])
            which = INS_ART_SMS_MAPPING_V2;
        if (fetch(f, ins_artifact_env[which], cfg->artifacts[which], &data, &len, err, err_len) < 0)
            return -1;
        r = maps_load(a->maps, (enum maps_kind)k, (const char *)data, len, err, err_len);
        free(data);
        if (r < 0)
            return -1;
        version_append(a, maps_kind_info((enum maps_kind)k)->name,
                       maps_version(a->maps, (enum maps_kind)k));
        metrics_artifact_set(metrics, maps_kind_info((enum maps_kind)k)->name,
                             maps_version(a->maps, (enum maps_kind)k));
    }
    return 0;
}

static int load_catalogue(struct assets *a, struct fetcher *f, struct metrics *metrics, char *err,
                          size_t err_len)
{
    unsigned char *data = NULL;
    size_t len = 0;
    int r;

    if (fetch(f, "FEATURES_CATALOGUE_PATH", f->cfg->catalogue_path, &data, &len, err, err_len) < 0)
        return -1;
    r = features_catalogue_load((const char *)data, len, &a->catalogue, err, err_len);
    free(data);
    if (r < 0)
        return -1;
    version_append(a, "features", features_catalogue_version(a->catalogue));
    metrics_artifact_set(metrics, "features", features_catalogue_version(a->catalogue));
    return 0;
}

static int load_score(struct assets *a, struct fetcher *f, int row, char *err, size_t err_len)
{
    const struct ins_config *cfg = f->cfg;
    const char *menv = score_rows[row].model_env;
    const char *penv = score_rows[row].predictors_env;
    unsigned char *model = NULL, *pred = NULL;
    size_t mlen = 0, plen = 0;
    char why[512];
    int rc = -1;

    if (!*cfg->lgbm[score_rows[row].predictors]) {
        snprintf(err, err_len, "%s: required when %s is set", penv, menv);
        return -1;
    }
    if (fetch(f, menv, cfg->lgbm[score_rows[row].model], &model, &mlen, err, err_len) < 0 ||
        fetch(f, penv, cfg->lgbm[score_rows[row].predictors], &pred, &plen, err, err_len) < 0)
        goto out;
    if (scores_add_model(a->scores, a->catalogue, score_rows[row].score, score_rows[row].version,
                         (const char *)model, mlen, (const char *)pred, plen, why,
                         sizeof(why)) < 0) {
        snprintf(err, err_len, "%s: %s", menv, why);
        goto out;
    }
    rc = 0;
out:
    free(model);
    free(pred);
    return rc;
}

static int load_scores(struct assets *a, struct fetcher *f, char *err, size_t err_len)
{
    const struct ins_config *cfg = f->cfg;

    a->scores = scores_new();
    if (!a->scores) {
        snprintf(err, err_len, "scores: out of memory");
        return -1;
    }
    for (size_t i = 0; i < sizeof(score_rows) / sizeof(score_rows[0]); i++) {
        /* every score is in the reply, loaded or not (null, "no_model") */
        if (scores_declare(a->scores, score_rows[i].score, err, err_len) < 0)
            return -1;
        if (!*cfg->lgbm[score_rows[i].model]) {
            if (*cfg->lgbm[score_rows[i].predictors]) {
                snprintf(err, err_len, "%s: set without its model", score_rows[i].predictors_env);
                return -1;
            }
            continue;
        }
        if (load_score(a, f, (int)i, err, err_len) < 0)
            return -1;
    }
    return scores_set_arms(a->scores, cfg->score_arms, err, err_len);
}

int assets_load(struct assets *a, const struct ins_config *cfg, struct metrics *metrics, char *err,
                size_t err_len)
{
    struct fetcher f = {.cfg = cfg};
    int rc = -1;

    memset(a, 0, sizeof(*a));
    f.keyring = artifact_keyring_new(cfg->artifact_keys, cfg->artifact_keys_file, err, err_len);
    if (!f.keyring)
        return -1;
    f.aws = aws_provider_new(&cfg->aws, "insights-api");
    if (load_maps(a, &f, metrics, err, err_len) < 0 ||
        load_catalogue(a, &f, metrics, err, err_len) < 0 || load_scores(a, &f, err, err_len) < 0)
        goto out;
    rc = 0;
out:
    aws_provider_free(f.aws);
    artifact_keyring_free(f.keyring);
    return rc;
}

void assets_free(struct assets *a)
{
    scores_free(a->scores);
    maps_free(a->maps);
    features_catalogue_free(a->catalogue);
    a->scores = NULL;
    a->maps = NULL;
    a->catalogue = NULL;
}
