/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `insights-api monitor` (docs/monitoring.md): reads the prediction log and
 * the outcomes of a time window from PostgreSQL, computes per score, model
 * version, arm and shadow flag the volume, bad rate, AUC, KS, calibration by
 * score decile and the PSI of the score and of each predictor against the
 * reference distribution shipped beside the model, writes them to table
 * monitor_results and, when asked, as Prometheus gauges to a text file.
 */
#ifndef INSIGHTS_MONITOR_H
#define INSIGHTS_MONITOR_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/json_writer.h"
#include "insights-api/config.h"

struct monitor_opts {
    const char *since;     /* window start: a timestamptz PostgreSQL reads or Nd; required */
    const char *until;     /* window end (exclusive); NULL = now */
    const char *prom_path; /* Prometheus text file written (atomically), or NULL */
    const char *push_url;  /* Pushgateway group URL the gauges are PUT to, or NULL */
};

/*
 * One run. Prints one JSON line per group on w/stdout. Returns the number of
 * groups (>= 0) or -1 with err set (nothing is written to monitor_results then).
 */
int monitor_run(PGconn *conn, const struct ins_config *cfg, const struct monitor_opts *o,
                struct json_writer *w, char *err, size_t err_len);

/* One monitored group: shadow is "t" or "f". */
struct monitor_group {
    const char *score, *version, *arm, *shadow;
};

/*
 * The predictions of group g created in [since, until) that have an outcome (join rule in
 * docs/monitoring.md): their scores and whether the outcome is bad, malloc'ed (free both).
 * 0, or -1 with err set.
 */
int monitor_labelled(PGconn *conn, const struct monitor_group *g, const char *since,
                     const char *until, double **score, bool **bad, size_t *n, char *err,
                     size_t err_len);

/* One model's reference distribution (docs/monitoring.md, "Reference distribution"). */
struct monitor_feature_ref {
    char *name; /* "score" for the score itself */
    int top;    /* a top predictor (alerted on) */
    double *edges;
    size_t n_edges;
    double *counts; /* n_edges + 2: the bins of monitor_stats.h, the last one missing values */
};

struct monitor_reference {
    char *score;
    char *version;
    double auc;
    double ks;
    struct monitor_feature_ref *features; /* features[0] is the score */
    size_t n_features;
};

/* Load path (insights-model-reference/1); 0, or -1 with err naming path and the problem. */
int monitor_reference_load(const char *path, struct monitor_reference *ref, char *err,
                           size_t err_len);
/* The same from bytes (the fuzz target's entry). */
int monitor_reference_parse(const char *buf, size_t len, struct monitor_reference *ref, char *err,
                            size_t err_len);
void monitor_reference_free(struct monitor_reference *ref);

#endif
