/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading and publishing the extraction rules (see the DESIGN note in
 * rules.h). Loading is slow (S3, unsealing, PCRE2 JIT) and happens outside
 * any lock that a request could wait on; only the pointer swap and a view's
 * refresh take the short publish mutex.
 */
#include "sms-extraction/rules.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/artifact.h"
#include "common/aws_credentials.h"

#define RULES_ARTIFACTS 3

static const char *const artifact_names[RULES_ARTIFACTS] = {"vocabulary", "classification",
                                                            "regex"};

struct rules_set {
    struct extract_rules *rules;
    atomic_uint refs;
    uint64_t generation;
};

struct rules {
    const struct smsx_config *cfg;
    struct metrics *metrics;
    struct artifact_source sources[RULES_ARTIFACTS];
    struct aws_provider *aws; /* S3 credentials, cached across reloads */

    pthread_mutex_t reload_lock;  /* one load at a time */
    pthread_mutex_t publish_lock; /* guards current and its refs while swapping */
    struct rules_set *current;
    atomic_uint_fast64_t generation; /* of current; 0 = nothing loaded */

    struct metrics_counter *reloads;
    struct metrics_counter *failures;
    struct metrics_counter *by_source;
};

static void set_release(struct rules_set *set)
{
    if (!set || atomic_fetch_sub(&set->refs, 1) != 1)
        return;
    extract_rules_free(set->rules);
    free(set);
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
    pthread_mutex_init(&r->publish_lock, NULL);
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
    set_release(r->current);
    aws_provider_free(r->aws);
    pthread_mutex_destroy(&r->reload_lock);
    pthread_mutex_destroy(&r->publish_lock);
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
    struct rules_set *set = alloc_zeroed(1, sizeof(*set));
    struct rules_set *old;

    set->rules = loaded;
    atomic_init(&set->refs, 1); /* the holder's reference */
    pthread_mutex_lock(&r->publish_lock);
    old = r->current;
    set->generation = (old ? old->generation : 0) + 1;
    r->current = set;
    atomic_store(&r->generation, set->generation);
    pthread_mutex_unlock(&r->publish_lock);
    set_release(old);
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
    return atomic_load(&((struct rules *)r)->generation) != 0;
}

void rules_describe(struct rules *r, char *buf, size_t buf_len)
{
    buf[0] = '\0';
    pthread_mutex_lock(&r->publish_lock);
    if (r->current)
        snprintf(buf, buf_len, "%s", extract_rules_version(r->current->rules));
    pthread_mutex_unlock(&r->publish_lock);
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
    set_release(view->set);
    view->scratch = NULL;
    view->set = NULL;
    view->generation = 0;
}

const struct extract_rules *rules_view_refresh(struct rules *r, struct rules_view *view)
{
    struct rules_set *set;

    if (view->set && view->generation == atomic_load(&r->generation))
        return view->set->rules;
    pthread_mutex_lock(&r->publish_lock);
    set = r->current;
    if (set)
        atomic_fetch_add(&set->refs, 1);
    pthread_mutex_unlock(&r->publish_lock);
    if (!set)
        return NULL;
    rules_view_release(view);
    view->set = set;
    view->generation = set->generation;
    view->scratch = extract_scratch_new(set->rules);
    if (!view->scratch) {
        rules_view_release(view);
        return NULL;
    }
    return set->rules;
}
