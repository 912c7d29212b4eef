/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exposition text for every built-in family and each kind of daemon family,
 * checked line by line against the Prometheus text format; counts from
 * several threads add up exactly; label tables stop at their cap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void has_line(const char *text, const char *line)
{
    char want[512];

    snprintf(want, sizeof(want), "\n%s\n", line);
    if (!strstr(text, want))
        fail_msg("missing line '%s' in:\n%s", line, text);
}

static void test_http_and_builtins(void **state)
{
    struct metrics *m = metrics_new("smsx_");
    size_t len;
    (void)state;

    int r = metrics_route_id(m, "/api/extract");
    assert_true(r > 0);
    assert_int_equal(metrics_route_id(m, "/api/extract"), r);
    metrics_http_observe(m, r, 200, 0.003);
    metrics_http_observe(m, r, 200, 0.2);
    metrics_http_observe(m, r, 422, 20.0);
    metrics_http_observe(m, 0, 404, 0.0001);
    metrics_in_flight_add(m, 3);
    metrics_in_flight_add(m, -1);
    metrics_artifact_set(m, "regex", "v1");
    metrics_artifact_set(m, "regex", "v2"); /* reload replaces */
    metrics_artifact_set(m, "vocab", "2026-11-01");
    metrics_dependency_error(m, "postgres");
    metrics_dependency_error(m, "postgres");
    metrics_dependency_error(m, "s3");

    char *text = metrics_render(m, &len);
    assert_int_equal(strlen(text), len);
    has_line(text, "# TYPE smsx_http_requests_total counter");
    has_line(text, "smsx_http_requests_total{route=\"/api/extract\",status=\"200\"} 2");
    has_line(text, "smsx_http_requests_total{route=\"/api/extract\",status=\"422\"} 1");
    has_line(text, "smsx_http_requests_total{route=\"unmatched\",status=\"404\"} 1");
    has_line(text, "# TYPE smsx_http_request_duration_seconds histogram");
    has_line(text,
             "smsx_http_request_duration_seconds_bucket{route=\"/api/extract\",le=\"0.0025\"} 0");
    has_line(text,
             "smsx_http_request_duration_seconds_bucket{route=\"/api/extract\",le=\"0.005\"} 1");
    has_line(text,
             "smsx_http_request_duration_seconds_bucket{route=\"/api/extract\",le=\"0.25\"} 2");
    has_line(text, "smsx_http_request_duration_seconds_bucket{route=\"/api/extract\",le=\"10\"} 2");
    has_line(text,
             "smsx_http_request_duration_seconds_bucket{route=\"/api/extract\",le=\"+Inf\"} 3");
    has_line(text, "smsx_http_request_duration_seconds_sum{route=\"/api/extract\"} 20.203");
    has_line(text, "smsx_http_request_duration_seconds_count{route=\"/api/extract\"} 3");
    has_line(text, "smsx_http_requests_in_flight 2");
    has_line(text, "smsx_artifact_info{name=\"regex\",version=\"v2\"} 1");
    has_line(text, "smsx_artifact_info{name=\"vocab\",version=\"2026-11-01\"} 1");
    assert_null(strstr(text, "version=\"v1\""));
    has_line(text, "smsx_dependency_errors_total{dependency=\"postgres\"} 2");
    has_line(text, "smsx_dependency_errors_total{dependency=\"s3\"} 1");
    assert_non_null(strstr(text, "\nsmsx_process_start_time_seconds "));
    free(text);
    metrics_free(m);
}

static void test_daemon_families(void **state)
{
    struct metrics *m = metrics_new("insights_");
    const double bounds[] = {1, 10, 100};
    (void)state;

    struct metrics_counter *c =
        metrics_counter_new(m, "messages_extracted_total", "Messages with a transaction", NULL);
    struct metrics_counter *l =
        metrics_counter_new(m, "db_write_failures_total", "Failed database writes", "reason");
    struct metrics_gauge *g = metrics_gauge_new(m, "jobs_queued", "Jobs waiting");
    struct metrics_histogram *h =
        metrics_histogram_new(m, "batch_size", "SMS per request", bounds, 3);
    const double bad[] = {5, 1};
    assert_null(metrics_histogram_new(m, "bad", "unsorted", bad, 2));
    metrics_counter_add(c, 5);
    metrics_counter_add_label(l, "timeout", 1);
    metrics_counter_add_label(l, "conflict \"x\"", 2);
    metrics_gauge_set(g, 7);
    metrics_gauge_add(g, -2);
    metrics_histogram_observe(h, 5);
    metrics_histogram_observe(h, 500);
    char *text = metrics_render(m, NULL);
    has_line(text, "# HELP insights_messages_extracted_total Messages with a transaction");
    has_line(text, "# TYPE insights_messages_extracted_total counter");
    has_line(text, "insights_messages_extracted_total 5");
    has_line(text, "insights_db_write_failures_total{reason=\"timeout\"} 1");
    has_line(text, "insights_db_write_failures_total{reason=\"conflict \\\"x\\\"\"} 2");
    has_line(text, "# TYPE insights_jobs_queued gauge");
    has_line(text, "insights_jobs_queued 5");
    has_line(text, "insights_batch_size_bucket{le=\"1\"} 0");
    has_line(text, "insights_batch_size_bucket{le=\"10\"} 1");
    has_line(text, "insights_batch_size_bucket{le=\"+Inf\"} 2");
    has_line(text, "insights_batch_size_sum 505");
    has_line(text, "insights_batch_size_count 2");
    free(text);
    metrics_free(m);
}

static void test_label_cap(void **state)
{
    struct metrics *m = metrics_new("t_");
    struct metrics_counter *l = metrics_counter_new(m, "x_total", "x", "k");
    char v[32];
    (void)state;

    for (int i = 0; i < METRICS_MAX_LABELS + 10; i++) {
        snprintf(v, sizeof(v), "v%d", i);
        metrics_counter_add_label(l, v, 1);
    }
    char *text = metrics_render(m, NULL);
    has_line(text, "t_x_total{k=\"other\"} 10");
    snprintf(v, sizeof(v), "\"v%d\"", METRICS_MAX_LABELS);
    assert_null(strstr(text, v));
    free(text);
    metrics_free(m);
}

static struct metrics *shared;
static struct metrics_counter *shared_counter;

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++) {
        metrics_http_observe(shared, 1, 200, 0.001);
        metrics_counter_add(shared_counter, 1);
        metrics_dependency_error(shared, (i & 1) ? "a" : "b");
    }
    return NULL;
}

static void test_threads_add_up(void **state)
{
    pthread_t t[4];
    (void)state;

    shared = metrics_new("t_");
    shared_counter = metrics_counter_new(shared, "n_total", "n", NULL);
    assert_int_equal(metrics_route_id(shared, "/r"), 1);
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    char *text = metrics_render(shared, NULL);
    has_line(text, "t_http_requests_total{route=\"/r\",status=\"200\"} 40000");
    has_line(text, "t_n_total 40000");
    has_line(text, "t_dependency_errors_total{dependency=\"a\"} 20000");
    has_line(text, "t_dependency_errors_total{dependency=\"b\"} 20000");
    has_line(text, "t_http_request_duration_seconds_count{route=\"/r\"} 40000");
    free(text);
    metrics_free(shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_and_builtins),
        cmocka_unit_test(test_daemon_families),
        cmocka_unit_test(test_label_cap),
        cmocka_unit_test(test_threads_add_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
