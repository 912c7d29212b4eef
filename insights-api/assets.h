/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data files insights-api computes with, loaded at start-up from the
 * locations in the configuration (file path or s3://bucket/key, plain or
 * sealed through common/artifact.h): the six mapping artifacts into a
 * struct maps, the feature catalogue and the LightGBM score models with their
 * predictor lists (insights-api/score.h). In prod (LAUNCH_ENVIRONMENT) an
 * unsealed artifact is refused. Versions are published in /metrics
 * (insights_artifact_info) and returned for the "up" log line.
 */
#ifndef INSIGHTS_ASSETS_H
#define INSIGHTS_ASSETS_H

#include <stddef.h>

#include "common/metrics.h"
#include "insights-api/config.h"
#include "insights-api/features.h"
#include "insights-api/maps.h"
#include "insights-api/score.h"

struct assets {
    struct maps *maps;
    struct features_catalogue *catalogue;
    struct scores *scores; /* never NULL after a successful load; may hold no score */
    char versions[512];    /* "apps_mapping=v1,...,catalogue=v" */
};

/* Load everything. Returns 0, or -1 with err naming the artifact; free with assets_free either way.
 */
int assets_load(struct assets *a, const struct ins_config *cfg, struct metrics *metrics, char *err,
                size_t err_len) __attribute__((warn_unused_result));
void assets_free(struct assets *a);

#endif
