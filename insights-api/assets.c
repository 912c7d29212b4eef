/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading insights-api's artifacts (see assets.h). Every artifact goes
 * through common/artifact's fetcher, so the S3 credentials, the keyring, the
 * size cap and the prod rule on sealing are applied as sms-extraction applies
 * them to its rules; the score versions are those of ins_score_models.
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

/* Fetch the artifact of config row env at location. */
static int fetch(const struct artifact_fetcher *f, const char *env, const char *location,
                 unsigned char **data, size_t *len, char *err, size_t err_len)
{
    struct artifact_source src;
    char why[512];

    if (artifact_source_parse(location, &src, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "%s: %s", env, why);
        return -1;
    }
    return artifact_fetch(f, env, &src, data, len, err, err_len);
}

static void version_append(struct assets *a, const char *name, const char *version)
{
    size_t n = strlen(a->versions);

    snprintf(a->versions + n, sizeof(a->versions) - n, "%s%s=%s", n ? "," : "", name,
             version && *version ? version : "?");
}

static int load_maps(struct assets *a, const struct ins_config *cfg,
                     const struct artifact_fetcher *f, struct metrics *metrics, char *err,
                     size_t err_len)
{
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

static int load_catalogue(struct assets *a, const struct ins_config *cfg,
                          const struct artifact_fetcher *f, struct metrics *metrics, char *err,
                          size_t err_len)
{
    unsigned char *data = NULL;
    size_t len = 0;
    int r;

    if (fetch(f, "FEATURES_CATALOGUE_PATH", cfg->catalogue_path, &data, &len, err, err_len) < 0)
        return -1;
    r = features_catalogue_load((const char *)data, len, &a->catalogue, err, err_len);
    free(data);
    if (r < 0)
        return -1;
    version_append(a, "features", features_catalogue_version(a->catalogue));
    metrics_artifact_set(metrics, "features", features_catalogue_version(a->catalogue));
    return 0;
}

/* Score version m, whose locations are paths. */
static int load_score(struct assets *a, const struct ins_score_model *m,
                      const struct ins_model_paths *paths, const struct artifact_fetcher *f,
                      char *err, size_t err_len)
{
    unsigned char *model = NULL, *pred = NULL;
    size_t mlen = 0, plen = 0;
    char why[512];
    int rc = -1;

    if (!*paths->predictors) {
        snprintf(err, err_len, "%s: required when %s is set", m->predictors_env, m->model_env);
        return -1;
    }
    if (fetch(f, m->model_env, paths->model, &model, &mlen, err, err_len) < 0 ||
        fetch(f, m->predictors_env, paths->predictors, &pred, &plen, err, err_len) < 0)
        goto out;
    if (scores_add_model(a->scores, a->catalogue, m->score, m->version, (const char *)model, mlen,
                         (const char *)pred, plen, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "%s: %s", m->model_env, why);
        goto out;
    }
    rc = 0;
out:
    free(model);
    free(pred);
    return rc;
}

static int load_scores(struct assets *a, const struct ins_config *cfg,
                       const struct artifact_fetcher *f, char *err, size_t err_len)
{
    a->scores = scores_new();
    if (!a->scores) {
        snprintf(err, err_len, "scores: out of memory");
        return -1;
    }
    for (size_t i = 0; ins_score_models[i].score; i++) {
        const struct ins_score_model *m = &ins_score_models[i];
        const struct ins_model_paths *paths = &cfg->models[i];

        /* every score is in the reply, loaded or not (null, "no_model") */
        if (scores_declare(a->scores, m->score, err, err_len) < 0)
            return -1;
        if (!*paths->model) {
            if (*paths->predictors) {
                snprintf(err, err_len, "%s: set without its model", m->predictors_env);
                return -1;
            }
            continue;
        }
        if (load_score(a, m, paths, f, err, err_len) < 0)
            return -1;
    }
    return scores_set_arms(a->scores, cfg->score_arms, err, err_len);
}

int assets_load(struct assets *a, const struct ins_config *cfg, struct metrics *metrics, char *err,
                size_t err_len)
{
    struct artifact_fetcher f;
    struct aws_provider *aws;
    int rc = -1;

    memset(a, 0, sizeof(*a));
    /* S3 credentials, fetched once for all the artifacts of this load */
    aws = aws_provider_new(&cfg->access.aws, "insights-api");
    if (artifact_fetcher_init(&f, &cfg->access, aws, daemon_is_prod(&cfg->service), err, err_len) <
        0) {
        aws_provider_free(aws);
        return -1;
    }
    if (load_maps(a, cfg, &f, metrics, err, err_len) < 0 ||
        load_catalogue(a, cfg, &f, metrics, err, err_len) < 0 ||
        load_scores(a, cfg, &f, err, err_len) < 0)
        goto out;
    rc = 0;
out:
    artifact_fetcher_free(&f);
    aws_provider_free(aws);
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
