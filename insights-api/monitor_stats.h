/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The numbers of model monitoring (docs/monitoring.md), as pure functions over
 * arrays: AUC, KS, calibration by score decile and the population stability
 * index. Each one is defined to equal a named outside reference (scikit-learn
 * 1.2's roc_auc_score, max(tpr - fpr) of roc_curve, calibration_curve with
 * strategy="quantile"), so that tests can check them against it.
 */
#ifndef INSIGHTS_MONITOR_STATS_H
#define INSIGHTS_MONITOR_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Count added to every bin, reference and current, before PSI proportions. */
#define MON_PSI_SMOOTHING 0.5
#define MON_DECILES 10

/* Area under the ROC curve (ties counted half); NaN when a class is absent or a score is NaN. */
double mon_auc(const double *score, const bool *bad, size_t n);

/* max over thresholds of (true positive rate - false positive rate); NaN as above. */
double mon_ks(const double *score, const bool *bad, size_t n);

/* One decile of calibration_curve(strategy="quantile", n_bins=10). */
struct mon_calibration_bin {
    int decile;   /* 0..9; empty deciles are left out, as sklearn does */
    double lower; /* the quantile edges of the decile */
    double upper;
    double mean_pred; /* sklearn's prob_pred */
    double bad_rate;  /* sklearn's prob_true */
    size_t count;
};

/* Fills out[] (MON_DECILES entries) and returns how many are used; 0 when n == 0 or a score is NaN.
 */
size_t mon_calibration(const double *score, const bool *bad, size_t n,
                       struct mon_calibration_bin out[MON_DECILES]);

/*
 * Bin of a value against ascending edges: bin i holds edges[i-1] < v <= edges[i]
 * (bin 0 everything <= edges[0], bin n_edges everything above the last);
 * a NaN (missing predictor) goes to the extra bin n_edges + 1.
 */
size_t mon_bin_of(const double *edges, size_t n_edges, double v);

/*
 * PSI of current counts against reference counts over k bins:
 * sum (a_i - e_i) ln(a_i / e_i) with e_i = (ref_i + s) / (sum ref + k s) and
 * a_i = (cur_i + s) / (sum cur + k s), s = MON_PSI_SMOOTHING, so an empty bin on
 * either side counts as half an observation instead of dividing by zero.
 * NaN when either side has no observation at all.
 */
double mon_psi(const double *ref_counts, const double *cur_counts, size_t k);

#endif
