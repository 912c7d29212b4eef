/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data files insights-api computes with, loaded at start-up and again on
 * SIGHUP from the locations in the configuration (file path or s3://bucket/key,
 * plain or sealed through common/artifact.h): the mapping artifacts into a
 * struct maps, the feature catalogue, the LightGBM score models with their
 * predictor lists (insights-api/score.h) and the A/B arms. In prod
 * (LAUNCH_ENVIRONMENT) an unsealed artifact is refused.
 *
 * DESIGN. One load makes one immutable struct asset_set, published through
 * common/live.h as sms-extraction publishes its rules: a request takes a
 * reference on the current set once (assets_acquire), computes its features
 * and every score from that set only, and releases it; a reload swaps the
 * set without waiting for anyone, and the old set is freed by the last
 * request that used it. So a reply never mixes two sets' models, and a
 * failed load changes nothing but the failure counter and the log.
 * /metrics: insights_artifact_info (maps, features, each model as
 * "model:<score>:<version>" with its model version, each score's arms as
 * "arms:<score>"), insights_artifact_reloads_total{result},
 * insights_artifact_reload_failures_total{artifact}, insights_artifact_generation.
 */
#ifndef INSIGHTS_ASSETS_H
#define INSIGHTS_ASSETS_H

#include <stddef.h>
#include <stdint.h>

#include "common/live.h"
#include "common/metrics.h"
#include "insights-api/config.h"
#include "insights-api/features.h"
#include "insights-api/maps.h"
#include "insights-api/score.h"

/* One generation of the artifacts; immutable once published. */
struct asset_set {
    struct maps *maps;
    struct features_catalogue *catalogue;
    struct scores *scores; /* never NULL; may hold no score */
    char versions[512];    /* "apps_mapping=v1,...,features=v" */
    uint64_t generation;   /* 1 for the start-up load, +1 per successful reload */
    bool borrowed;         /* assets_of: the parts belong to the caller */
};

struct assets;

/* Holder for cfg's artifacts, nothing loaded yet; cfg and metrics (may be NULL) outlive it. */
struct assets *assets_new(const struct ins_config *cfg, struct metrics *metrics);

/*
 * A holder whose one set is these parts, borrowed (tests and tools that load
 * them themselves); assets_reload on it fails.
 */
struct assets *assets_of(struct maps *maps, struct features_catalogue *catalogue,
                         struct scores *scores);
void assets_free(struct assets *a);

/*
 * Load every artifact and publish the new set (start-up and SIGHUP). On
 * failure the current set (if any) stays, err names the artifact (its
 * configuration variable) and the reason, and a reload (not the first load)
 * is counted as failed. Concurrent calls run one after the other.
 */
int assets_reload(struct assets *a, char *err, size_t err_len) __attribute__((warn_unused_result));

/*
 * The current set, with a reference in *ref that keeps it alive until
 * assets_release(ref): take it once per request, read everything from it.
 * NULL only before the first successful load.
 */
const struct asset_set *assets_acquire(struct assets *a, struct live_ref *ref);
void assets_release(struct live_ref *ref);

#endif
