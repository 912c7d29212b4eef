/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Monitoring statistics (see monitor_stats.h). AUC is the Mann-Whitney form
 * with average ranks for ties, which is the trapezoid area under sklearn's ROC
 * curve; KS walks the thresholds from the highest score down, a tie group at a
 * time, as roc_curve does; the calibration deciles copy numpy's percentile
 * ("linear" method, its two-sided interpolation included) and searchsorted,
 * so a score lying exactly on an edge lands in the same decile as in sklearn.
 */
#include "insights-api/monitor_stats.h"

#include <math.h>
#include <stdlib.h>

struct scored {
    double score;
    bool bad;
};

static int by_score(const void *a, const void *b)
{
    double x = ((const struct scored *)a)->score, y = ((const struct scored *)b)->score;

    return (x > y) - (x < y);
}

/* The samples sorted by ascending score; NULL when out of memory or n == 0. */
static struct scored *sorted_samples(const double *score, const bool *bad, size_t n)
{
    struct scored *s = n ? malloc(n * sizeof(*s)) : NULL;

    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++)
        s[i] = (struct scored){score[i], bad[i]};
    qsort(s, n, sizeof(*s), by_score);
    return s;
}

/* Callers pass scores without NaN (a NaN would break the tie groups below): true if so. */
static bool no_nan(const double *score, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isnan(score[i]))
            return false;
    return true;
}

static void count_classes(const bool *bad, size_t n, double *pos, double *neg)
{
    *pos = 0;
    for (size_t i = 0; i < n; i++)
        *pos += bad[i];
    *neg = (double)n - *pos;
}

/*
 * What AUC and KS start from: the samples sorted by score and the class counts; NULL (the
 * statistic is NaN) when a class is empty, a score is NaN, or out of memory.
 */
static struct scored *ranked_samples(const double *score, const bool *bad, size_t n, double *pos,
                                     double *neg)
{
    count_classes(bad, n, pos, neg);
    if (*pos == 0 || *neg == 0 || !no_nan(score, n))
        return NULL;
    return sorted_samples(score, bad, n);
}

double mon_auc(const double *score, const bool *bad, size_t n)
{
    double pos, neg, rank_sum = 0;
    struct scored *s = ranked_samples(score, bad, n, &pos, &neg);

    if (!s)
        return NAN;
    for (size_t i = 0; i < n;) {
        size_t j = i, bads = 0;

        while (j < n && s[j].score == s[i].score)
            bads += s[j++].bad;
        /* ranks i+1 .. j share their average */
        rank_sum += (double)bads * ((double)(i + 1) + (double)j) / 2.0;
        i = j;
    }
    free(s);
    return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg);
}

double mon_ks(const double *score, const bool *bad, size_t n)
{
    double pos, neg, tp = 0, fp = 0, best = 0;
    struct scored *s = ranked_samples(score, bad, n, &pos, &neg);

    if (!s)
        return NAN;
    for (size_t i = n; i > 0;) {
        size_t j = i;

        while (j > 0 && s[j - 1].score == s[i - 1].score) {
            j--;
            tp += s[j].bad;
            fp += !s[j].bad;
        }
        if (tp / pos - fp / neg > best)
            best = tp / pos - fp / neg;
        i = j;
    }
    free(s);
    return best;
}

/* numpy's _lerp: a + (b-a) t, computed from b's side when t >= 0.5. */
static double lerp(double a, double b, double t)
{
    double d = b - a;

    return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/* np.percentile(sorted, q * 100) with q = np.linspace(0, 1, 11)[i], method "linear". */
static double decile_edge(const struct scored *s, size_t n, int i)
{
    double q = i == MON_DECILES ? 1.0 : (double)i * (1.0 / MON_DECILES);
    double pos = (q * 100.0 / 100.0) * (double)(n - 1);
    double lo = floor(pos);
    size_t a = (size_t)lo, b = a + 1 < n ? a + 1 : n - 1;

    return lerp(s[a].score, s[b].score, pos - lo);
}

size_t mon_calibration(const double *score, const bool *bad, size_t n,
                       struct mon_calibration_bin out[MON_DECILES])
{
    double edges[MON_DECILES + 1], sums[MON_DECILES] = {0}, bads[MON_DECILES] = {0};
    size_t counts[MON_DECILES] = {0}, used = 0;
    struct scored *s = no_nan(score, n) ? sorted_samples(score, bad, n) : NULL;

    if (!s)
        return 0;
    for (int i = 0; i <= MON_DECILES; i++)
        edges[i] = decile_edge(s, n, i);
    free(s);
    for (size_t k = 0; k < n; k++) {
        /* searchsorted(edges[1:-1], score, side="left") */
        size_t d = 0;

        while (d < MON_DECILES - 1 && edges[d + 1] < score[k])
            d++;
        sums[d] += score[k];
        bads[d] += bad[k];
        counts[d]++;
    }
    for (int d = 0; d < MON_DECILES; d++) {
        if (!counts[d])
            continue;
        out[used++] = (struct mon_calibration_bin){
            .decile = d,
            .lower = edges[d],
            .upper = edges[d + 1],
            .mean_pred = sums[d] / (double)counts[d],
            .bad_rate = bads[d] / (double)counts[d],
            .count = counts[d],
        };
    }
    return used;
}

size_t mon_bin_of(const double *edges, size_t n_edges, double v)
{
    size_t lo = 0, hi = n_edges;

    if (isnan(v))
        return n_edges + 1;
    /* first edge >= v */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (edges[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

double mon_psi(const double *ref_counts, const double *cur_counts, size_t k)
{
    double ref_total = 0, cur_total = 0, psi = 0;

    for (size_t i = 0; i < k; i++) {
        ref_total += ref_counts[i];
        cur_total += cur_counts[i];
    }
    if (ref_total <= 0 || cur_total <= 0)
        return NAN;
    for (size_t i = 0; i < k; i++) {
        double e =
            (ref_counts[i] + MON_PSI_SMOOTHING) / (ref_total + (double)k * MON_PSI_SMOOTHING);
        double a =
            (cur_counts[i] + MON_PSI_SMOOTHING) / (cur_total + (double)k * MON_PSI_SMOOTHING);

        psi += (a - e) * log(a / e);
    }
    return psi;
}
