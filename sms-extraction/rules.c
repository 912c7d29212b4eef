/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading and publishing the extraction rules (see the DESIGN note in
 * rules.h). Loading is slow (S3, unsealing, PCRE2 JIT) and happens outside
 * any lock that a request could wait on; the generations themselves are
 * common/live's, shared with insights-api's artifact set.
 */
#include "sms-extraction/rules.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/artifact.h"
#include "common/aws_credentials.h"
#include "common/live.h"

#define RULES_ARTIFACTS 3

static const char *const artifact_names[RULES_ARTIFACTS] = {"vocabulary", "classification",
                                                            "regex"};

struct rules {
    const struct smsx_config *cfg;
    struct metrics *metrics;
    struct artifact_source sources[RULES_ARTIFACTS];
    struct aws_provider *aws; /* S3 credentials, cached across reloads */

    pthread_mutex_t reload_lock; /* one load at a time */
    struct live *live;           /* of struct extract_rules */

    struct metrics_counter *reloads;
    struct metrics_counter *failures;
    struct metrics_counter *by_source;
};

static void free_rules(void *value)
{
    extract_rules_free(value);
}

static int build_source(const struct smsx_artifact_config *a, struct artifact_source *out,
                        const char *name, char *err, size_t err_len)
{
    char why[256];
    int r;

    if (a->use_s3)
        r = artifact_source_from_parts(true, a->s3_bucket, a->s3_key, a->s3_region, a->path, out,
                                       why, sizeof(why));
    else
        r = artifact_source_parse(a->path, out, why, sizeof(why));
    if (r < 0)
        snprintf(err, err_len, "%s: %s", name, why);
    return r;
}

struct rules *rules_new(const struct smsx_config *cfg, struct metrics *metrics, char *err,
                        size_t err_len)
{
    const struct smsx_artifact_config *arts[RULES_ARTIFACTS] = {&cfg->vocab, &cfg->classification,
                                                                &cfg->regex};
    struct rules *r = alloc_zeroed(1, sizeof(*r));

    r->cfg = cfg;
    r->metrics = metrics;
    for (int i = 0; i < RULES_ARTIFACTS; i++) {
        if (build_source(arts[i], &r->sources[i], artifact_names[i], err, err_len) < 0) {
            free(r);
            return NULL;
        }
    }
    pthread_mutex_init(&r->reload_lock, NULL);
    r->live = live_new(free_rules);
    r->aws = aws_provider_new(&cfg->access.aws, "sms-extraction");
    if (metrics) {
        r->reloads = metrics_counter_new(metrics, "rules_loads_total",
                                         "successful rule loads (start-up and SIGHUP)", NULL);
        r->failures = metrics_counter_new(metrics, "rules_reload_failures_total",
                                          "rule loads that failed (old rules kept)", NULL);
        r->by_source = metrics_counter_new(metrics, "rules_artifact_loads_total",
                                           "artifacts loaded, by location", "source");
    }
    return r;
}

void rules_free(struct rules *r)
{
    if (!r)
        return;
    live_free(r->live);
    aws_provider_free(r->aws);
    pthread_mutex_destroy(&r->reload_lock);
    free(r);
}

static struct extract_rules *load_rules(struct rules *r, char *err, size_t err_len)
{
    unsigned char *data[RULES_ARTIFACTS] = {NULL};
    size_t len[RULES_ARTIFACTS] = {0};
    struct artifact_fetcher fetcher;
    struct extract_rules *out = NULL;

    if (artifact_fetcher_init(&fetcher, &r->cfg->access, r->aws, daemon_is_prod(&r->cfg->service),
                              err, err_len) < 0)
        return NULL;
    for (int i = 0; i < RULES_ARTIFACTS; i++)
        if (artifact_fetch(&fetcher, artifact_names[i], &r->sources[i], &data[i], &len[i], err,
                           err_len) < 0)
            goto out;
    if (extract_rules_load((const char *)data[0], len[0], (const char *)data[1], len[1],
                           (const char *)data[2], len[2], &out, err, err_len) < 0)
        out = NULL;
out:
    for (int i = 0; i < RULES_ARTIFACTS; i++)
        free(data[i]);
    artifact_fetcher_free(&fetcher);
    return out;
}

static void publish(struct rules *r, struct extract_rules *loaded)
{
    /* reloads run one at a time (reload_lock), so loaded outlives this function */
    live_publish(r->live, loaded);
    if (!r->metrics)
        return;
    for (int i = 0; i < RULES_ARTIFACTS; i++) {
        char where[1100];

        metrics_artifact_set(r->metrics, artifact_names[i],
                             extract_rules_artifact_version(loaded, i));
        artifact_source_describe(&r->sources[i], where, sizeof(where));
        metrics_counter_add_label(r->by_source, where, 1);
    }
}

int rules_reload(struct rules *r, char *err, size_t err_len)
{
    struct extract_rules *loaded;

    pthread_mutex_lock(&r->reload_lock);
    loaded = load_rules(r, err, err_len);
    if (loaded)
        publish(r, loaded);
    pthread_mutex_unlock(&r->reload_lock);
    if (!loaded) {
        if (r->failures)
            metrics_counter_add(r->failures, 1);
        return -1;
    }
    if (r->reloads)
        metrics_counter_add(r->reloads, 1);
    return 0;
}

bool rules_ready(const struct rules *r)
{
    return live_generation(r->live) != 0;
}

void rules_describe(struct rules *r, char *buf, size_t buf_len)
{
    struct live_ref ref = {0};

    buf[0] = '\0';
    live_acquire(r->live, &ref);
    if (ref.value)
        snprintf(buf, buf_len, "%s", extract_rules_version(ref.value));
    live_release(&ref);
}

void rules_source(const struct rules *r, int which, char *buf, size_t buf_len)
{
    if (which < 0 || which >= RULES_ARTIFACTS) {
        buf[0] = '\0';
        return;
    }
    artifact_source_describe(&r->sources[which], buf, buf_len);
}

void rules_view_release(struct rules_view *view)
{
    extract_scratch_free(view->scratch);
    live_release(&view->ref);
    view->scratch = NULL;
}

const struct extract_rules *rules_view_refresh(struct rules *r, struct rules_view *view)
{
    struct live_ref ref = {0};

    if (view->ref.value && view->ref.generation == live_generation(r->live))
        return view->ref.value;
    live_acquire(r->live, &ref);
    if (!ref.value)
        return NULL;
    rules_view_release(view);
    view->ref = ref;
    view->scratch = extract_scratch_new(ref.value);
    if (!view->scratch) {
        rules_view_release(view);
        return NULL;
    }
    return ref.value;
}
