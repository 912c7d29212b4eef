/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for the model reference distribution (insights-model-reference/1,
 * docs/monitoring.md), a JSON artifact read by `insights-api monitor`: any bytes must be
 * refused with an error or give bins whose PSI against a few binned values is a number
 * (or NaN when a side is empty), never a crash or a read past an array.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "insights-api/monitor.h"
#include "insights-api/monitor_stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const double probe[] = {-1e300, 0, 0.5, 1, 42, 1e300, NAN};
    struct monitor_reference ref;
    char err[512];

    if (monitor_reference_parse((const char *)data, size, &ref, err, sizeof(err)) < 0)
        return 0;
    for (size_t i = 0; i < ref.n_features; i++) {
        const struct monitor_feature_ref *f = &ref.features[i];
        size_t k = f->n_edges + 2;
        double *cur = calloc(k, sizeof(double));

        if (!cur)
            abort();
        for (size_t j = 0; j < sizeof(probe) / sizeof(probe[0]); j++) {
            size_t b = mon_bin_of(f->edges, f->n_edges, probe[j]);

            if (b >= k)
                abort();
            cur[b] += 1;
        }
        (void)mon_psi(f->counts, cur, k);
        free(cur);
    }
    monitor_reference_free(&ref);
    return 0;
}
