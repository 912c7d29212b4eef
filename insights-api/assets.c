/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading and publishing insights-api's artifacts (see the DESIGN note in
 * assets.h). Every artifact goes through common/artifact's fetcher, so the
 * S3 credentials, the keyring, the size cap and the prod rule on sealing are
 * applied as sms-extraction applies them to its rules; the score versions are
 * those of ins_score_models. Reading order: fetching, the three loaders, the
 * arms, publishing (metrics), the holder.
 */
#include "insights-api/assets.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/artifact.h"
#include "common/aws_credentials.h"

#define ASSETS_ARMS_MAX 4096 /* an arms file's spec, joined */

struct assets {
    const struct ins_config *cfg; /* NULL: a borrowed set (assets_of) */
    struct metrics *metrics;
    struct aws_provider *aws;         /* S3 credentials, cached across reloads */
    pthread_mutex_t reload_lock;      /* one load at a time */
    struct live *live;                /* of struct asset_set */
    struct metrics_counter *reloads;  /* SIGHUP reloads, by result */
    struct metrics_counter *failures; /* failed loads, by artifact */
    struct metrics_gauge *generation;
};

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

static void version_append(struct asset_set *s, const char *name, const char *version)
{
    size_t n = strlen(s->versions);

    snprintf(s->versions + n, sizeof(s->versions) - n, "%s%s=%s", n ? "," : "", name,
             version && *version ? version : "?");
}

/* ------------------------------------------------------------ loaders */

static int load_maps(struct asset_set *s, const struct ins_config *cfg,
                     const struct artifact_fetcher *f, char *err, size_t err_len)
{
    s->maps = maps_new();
    if (!s->maps) {
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
        r = maps_load(s->maps, (enum maps_kind)k, (const char *)data, len, err, err_len);
        free(data);
        if (r < 0)
            return -1;
        version_append(s, maps_kind_info((enum maps_kind)k)->name,
                       maps_version(s->maps, (enum maps_kind)k));
    }
    return 0;
}

static int load_catalogue(struct asset_set *s, const struct ins_config *cfg,
                          const struct artifact_fetcher *f, char *err, size_t err_len)
{
    unsigned char *data = NULL;
    size_t len = 0;
    int r;

    if (fetch(f, "FEATURES_CATALOGUE_PATH", cfg->catalogue_path, &data, &len, err, err_len) < 0)
        return -1;
    r = features_catalogue_load((const char *)data, len, &s->catalogue, err, err_len);
    free(data);
    if (r < 0)
        return -1;
    version_append(s, "features", features_catalogue_version(s->catalogue));
    return 0;
}

/* Score version m, whose locations are paths. */
static int load_score(struct asset_set *s, const struct ins_score_model *m,
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
    if (scores_add_model(s->scores, s->catalogue, m->score, m->version, (const char *)model, mlen,
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

/* ------------------------------------------------------------ arms */

/*
 * An arms file into the SCORE_ARMS form: each line without its '#' comment
 * and surrounding blanks, empty lines dropped, the rest joined with ';'.
 */
static int arms_from_file(const char *data, size_t len, char *spec, size_t spec_len, char *err,
                          size_t err_len)
{
    size_t out = 0;

    spec[0] = '\0';
    for (size_t i = 0; i < len;) {
        size_t end = i, stop;

        while (end < len && data[end] != '\n')
            end++;
        stop = i;
        while (stop < end && data[stop] != '#')
            stop++;
        while (i < stop && isspace((unsigned char)data[i]))
            i++;
        while (stop > i && isspace((unsigned char)data[stop - 1]))
            stop--;
        if (stop > i) {
            if (out + (stop - i) + 2 > spec_len) {
                snprintf(err, err_len, "SCORE_ARMS_PATH: longer than %zu bytes", spec_len - 1);
                return -1;
            }
            if (out)
                spec[out++] = ';';
            memcpy(spec + out, data + i, stop - i);
            out += stop - i;
            spec[out] = '\0';
        }
        i = end + 1;
    }
    return 0;
}

/* The arms: SCORE_ARMS_PATH's file when set, else SCORE_ARMS. */
static int set_arms(struct asset_set *s, const struct ins_config *cfg,
                    const struct artifact_fetcher *f, char *err, size_t err_len)
{
    unsigned char *data = NULL;
    size_t len = 0;
    char *spec;
    char why[512];
    int r;

    if (!cfg->score_arms_path || !*cfg->score_arms_path)
        return scores_set_arms(s->scores, cfg->score_arms, err, err_len);
    if (fetch(f, "SCORE_ARMS_PATH", cfg->score_arms_path, &data, &len, err, err_len) < 0)
        return -1;
    spec = alloc_zeroed(ASSETS_ARMS_MAX, 1);
    r = arms_from_file((const char *)data, len, spec, ASSETS_ARMS_MAX, err, err_len);
    free(data);
    if (r == 0 && scores_set_arms(s->scores, spec, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "SCORE_ARMS_PATH: %s", why);
        r = -1;
    }
    free(spec);
    return r;
}

static int load_scores(struct asset_set *s, const struct ins_config *cfg,
                       const struct artifact_fetcher *f, char *err, size_t err_len)
{
    s->scores = scores_new();
    if (!s->scores) {
        snprintf(err, err_len, "scores: out of memory");
        return -1;
    }
    for (size_t i = 0; ins_score_models[i].score; i++) {
        const struct ins_score_model *m = &ins_score_models[i];
        const struct ins_model_paths *paths = &cfg->models[i];

        /* every score is in the reply, loaded or not (null, "no_model") */
        if (scores_declare(s->scores, m->score, err, err_len) < 0)
            return -1;
        if (!*paths->model) {
            if (*paths->predictors) {
                snprintf(err, err_len, "%s: set without its model", m->predictors_env);
                return -1;
            }
            continue;
        }
        if (load_score(s, m, paths, f, err, err_len) < 0)
            return -1;
    }
    return set_arms(s, cfg, f, err, err_len);
}

static void set_free(void *value)
{
    struct asset_set *s = value;

    if (!s)
        return;
    if (!s->borrowed) {
        scores_free(s->scores);
        maps_free(s->maps);
        features_catalogue_free(s->catalogue);
    }
    free(s);
}

static struct asset_set *load_set(struct assets *a, char *err, size_t err_len)
{
    struct asset_set *s = alloc_zeroed(1, sizeof(*s));
    struct artifact_fetcher f;
    int r;

    if (artifact_fetcher_init(&f, &a->cfg->access, a->aws, daemon_is_prod(&a->cfg->service), err,
                              err_len) < 0) {
        free(s);
        return NULL;
    }
    r = load_maps(s, a->cfg, &f, err, err_len) < 0 ||
                load_catalogue(s, a->cfg, &f, err, err_len) < 0 ||
                load_scores(s, a->cfg, &f, err, err_len) < 0
            ? -1
            : 0;
    artifact_fetcher_free(&f);
    if (r < 0) {
        set_free(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------ publishing */

/* "arms:<score>" = "v2:50,v3:50,v1:shadow" per score with a model, from scores_describe. */
static void publish_arms(struct metrics *m, const struct scores *sc)
{
    char all[2048], name[128], *save = NULL;

    scores_describe(sc, all, sizeof(all));
    for (char *entry = strtok_r(all, ";", &save); entry; entry = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(entry, '=');

        if (!eq)
            continue;
        *eq = '\0';
        snprintf(name, sizeof(name), "arms:%s", entry);
        metrics_artifact_set(m, name, eq + 1);
    }
}

/* The versions of set s in insights_artifact_info (a reload replaces them). */
static void publish_versions(struct metrics *m, const struct asset_set *s)
{
    const char *score, *version, *model_version;
    char name[128];

    for (int k = 0; k < MAPS_KIND_COUNT; k++)
        metrics_artifact_set(m, maps_kind_info((enum maps_kind)k)->name,
                             maps_version(s->maps, (enum maps_kind)k));
    metrics_artifact_set(m, "features", features_catalogue_version(s->catalogue));
    for (size_t i = 0; scores_model_at(s->scores, i, &score, &version, &model_version); i++) {
        snprintf(name, sizeof(name), "model:%s:%s", score, version);
        metrics_artifact_set(m, name, model_version);
    }
    publish_arms(m, s->scores);
}

/* The configuration variable an error names ("PAYDAY_SCORE_LGB_MODEL_PATH: ..."). */
static void failed_artifact(const char *err, char *buf, size_t len)
{
    size_t n = 0;

    while (err[n] && (isupper((unsigned char)err[n]) || isdigit((unsigned char)err[n]) ||
                      err[n] == '_' || islower((unsigned char)err[n])))
        n++;
    if (n == 0 || n >= len || err[n] != ':')
        snprintf(buf, len, "unknown");
    else
        snprintf(buf, len, "%.*s", (int)n, err);
}

/* ------------------------------------------------------------ the holder */

struct assets *assets_new(const struct ins_config *cfg, struct metrics *metrics)
{
    struct assets *a = alloc_zeroed(1, sizeof(*a));

    a->cfg = cfg;
    a->metrics = metrics;
    a->aws = aws_provider_new(&cfg->access.aws, "insights-api");
    pthread_mutex_init(&a->reload_lock, NULL);
    a->live = live_new(set_free);
    if (metrics) {
        a->reloads = metrics_counter_new(metrics, "artifact_reloads_total",
                                         "SIGHUP reloads of the artifact set, by result", "result");
        a->failures = metrics_counter_new(
            metrics, "artifact_reload_failures_total",
            "failed artifact loads (the current set kept), by configuration variable", "artifact");
        a->generation =
            metrics_gauge_new(metrics, "artifact_generation",
                              "artifact set in use: 1 after start-up, +1 per successful reload");
    }
    return a;
}

struct assets *assets_of(struct maps *maps, struct features_catalogue *catalogue,
                         struct scores *scores)
{
    struct assets *a = alloc_zeroed(1, sizeof(*a));
    struct asset_set *s = alloc_zeroed(1, sizeof(*s));

    pthread_mutex_init(&a->reload_lock, NULL);
    a->live = live_new(set_free);
    *s = (struct asset_set){
        .maps = maps, .catalogue = catalogue, .scores = scores, .generation = 1, .borrowed = true};
    live_publish(a->live, s);
    return a;
}

void assets_free(struct assets *a)
{
    if (!a)
        return;
    live_free(a->live);
    aws_provider_free(a->aws);
    pthread_mutex_destroy(&a->reload_lock);
    free(a);
}

/* Count a load's outcome: reloads by result (the start-up load is not a reload). */
static void count_load(struct assets *a, bool first, const char *err)
{
    char artifact[64];

    if (!a->metrics)
        return;
    if (!first)
        metrics_counter_add_label(a->reloads, err ? "failure" : "success", 1);
    if (err) {
        failed_artifact(err, artifact, sizeof(artifact));
        metrics_counter_add_label(a->failures, artifact, 1);
    }
}

int assets_reload(struct assets *a, char *err, size_t err_len)
{
    struct asset_set *s;
    bool first;

    if (!a->cfg) {
        snprintf(err, err_len, "artifacts: fixed set, nothing to reload");
        return -1;
    }
    pthread_mutex_lock(&a->reload_lock);
    first = live_generation(a->live) == 0;
    s = load_set(a, err, err_len);
    if (s) {
        s->generation = live_generation(a->live) + 1; /* reloads are serialised */
        if (a->metrics)
            publish_versions(a->metrics, s);
        live_publish(a->live, s);
        if (a->generation)
            metrics_gauge_set(a->generation, (long long)s->generation);
    }
    count_load(a, first, s ? NULL : err);
    pthread_mutex_unlock(&a->reload_lock);
    return s ? 0 : -1;
}

const struct asset_set *assets_acquire(struct assets *a, struct live_ref *ref)
{
    live_acquire(a->live, ref);
    return ref->value;
}

void assets_release(struct live_ref *ref)
{
    live_release(ref);
}
