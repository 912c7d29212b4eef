/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process metrics and their Prometheus text exposition (GET /metrics on the
 * admin port). Updates are lock-free atomics so handlers on every worker
 * thread can count without contention; registration takes a mutex and
 * happens at start-up. Every collection has a hard cap (METRICS_MAX_*):
 * registering past it returns NULL / -1 rather than growing.
 *
 * Built in (names get the daemon prefix, e.g. "smsx_"):
 *   <p>http_requests_total{route=,status=}      counter (http_server fills it)
 *   <p>http_request_duration_seconds{route=}    histogram, buckets 0.5 ms .. 10 s
 *   <p>http_requests_in_flight                  gauge
 *   <p>artifact_info{name=,version=} 1          info gauge, one per artifact name
 *   <p>dependency_errors_total{dependency=}     counter
 *   <p>process_start_time_seconds               gauge
 * Daemons add their own with metrics_counter_new() / metrics_gauge_new() /
 * metrics_histogram_new(), optionally with one label.
 */
#ifndef COMMON_METRICS_H
#define COMMON_METRICS_H

#include <stddef.h>

#define METRICS_MAX_ROUTES 64    /* distinct route labels (plus "unmatched") */
#define METRICS_MAX_FAMILIES 64  /* daemon-registered counters/gauges/histograms */
#define METRICS_MAX_LABELS 32    /* distinct label values per labelled family */
#define METRICS_MAX_ARTIFACTS 32 /* artifact_info names (models and arms too) */
#define METRICS_MAX_BUCKETS 24   /* histogram buckets (excluding +Inf) */

struct metrics;
struct metrics_counter;
struct metrics_gauge;
struct metrics_histogram;

/*
 * New registry. prefix is prepended to every metric name ("smsx_",
 * "insights_"); it is copied. Allocation failure aborts.
 */
struct metrics *metrics_new(const char *prefix);
void metrics_free(struct metrics *m);

/*
 * HTTP side, used by common/http_server (daemons rarely call these).
 * metrics_route_id registers a route label (idempotent: same label, same id)
 * and returns its id, or 0 ("unmatched") when the table is full or route is NULL.
 */
int metrics_route_id(struct metrics *m, const char *route);
void metrics_http_observe(struct metrics *m, int route_id, int status, double seconds);
void metrics_in_flight_add(struct metrics *m, long delta);

/* Set the version shown for an artifact (reload replaces it). Strings are copied. */
void metrics_artifact_set(struct metrics *m, const char *name, const char *version);

/* One failed call to a dependency ("postgres", "s3", "mongo", "sms-extraction"). */
void metrics_dependency_error(struct metrics *m, const char *dependency);

/*
 * Daemon families. name is without the prefix ("messages_extracted_total");
 * help is one line; label is NULL for an unlabelled family or the label name
 * ("reason"). Returns NULL when the family table is full. Handles live as long
 * as the registry.
 */
struct metrics_counter *metrics_counter_new(struct metrics *m, const char *name, const char *help,
                                            const char *label);
void metrics_counter_add(struct metrics_counter *c, unsigned long long n);
/* For labelled counters; label values past METRICS_MAX_LABELS are counted under "other". */
void metrics_counter_add_label(struct metrics_counter *c, const char *label_value,
                               unsigned long long n);

struct metrics_gauge *metrics_gauge_new(struct metrics *m, const char *name, const char *help);
void metrics_gauge_set(struct metrics_gauge *g, long long v);
void metrics_gauge_add(struct metrics_gauge *g, long long delta);

/*
 * bounds: n strictly increasing upper bounds (+Inf is implicit), n <= METRICS_MAX_BUCKETS;
 * NULL/0 = the latency buckets used for HTTP (seconds).
 */
struct metrics_histogram *metrics_histogram_new(struct metrics *m, const char *name,
                                                const char *help, const double *bounds, size_t n);
void metrics_histogram_observe(struct metrics_histogram *h, double v);

/*
 * Render the Prometheus text format (version 0.0.4). Returns a malloc'd
 * NUL-terminated string owned by the caller; *len gets its length.
 */
char *metrics_render(struct metrics *m, size_t *len);

#endif
