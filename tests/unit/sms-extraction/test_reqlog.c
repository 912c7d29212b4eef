/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request log (reqlog.c): rows reach PostgreSQL with no message content;
 * with the database down nothing blocks, and every row that cannot be
 * written is counted, whether the queue overflowed or shutdown came first.
 * The "database up" part needs PGHOST/PGPORT (the harness exports them) and
 * prints SKIP without; the "database down" part always runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/pg.h"
#include "sms-extraction/reqlog.h"

static void base_config(struct smsx_config *cfg, const char *host, long port, long queue)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->db_host = (char *)host;
    cfg->db_port = port;
    cfg->db_user = getenv("PGUSER") ? getenv("PGUSER") : "postgres";
    cfg->db_password = getenv("PGPASSWORD") ? getenv("PGPASSWORD") : "";
    cfg->db_name = getenv("PGDATABASE") ? getenv("PGDATABASE") : "postgres";
    cfg->db_sslmode = "disable";
    cfg->db_queue_max = queue;
}

/* The value of an unlabelled sample in the rendered metrics, or -1. */
static long long metric(struct metrics *m, const char *name)
{
    size_t len;
    char *text = metrics_render(m, &len);
    char needle[128];
    const char *p;
    long long v = -1;

    snprintf(needle, sizeof(needle), "\n%s ", name);
    p = strstr(text, needle);
    if (p)
        v = strtoll(p + strlen(needle), NULL, 10);
    free(text);
    return v;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_disabled_without_host(void **state)
{
    (void)state;
    struct smsx_config cfg;
    bool enabled = true;
    char err[256];

    base_config(&cfg, "", 5432, 10);
    assert_null(reqlog_start(&cfg, NULL, &enabled, err, sizeof(err)));
    assert_false(enabled);
    reqlog_log(NULL, &(struct reqlog_entry){.request_id = "r"}); /* a no-op */
    reqlog_stop(NULL, 0);
}

static void test_database_down_counts_every_row(void **state)
{
    (void)state;
    struct smsx_config cfg;
    struct metrics *m = metrics_new("t_");
    bool enabled = false;
    char err[256];
    struct reqlog *s;
    double t0;

    base_config(&cfg, "127.0.0.1", 1, 10); /* nothing listens on port 1 */
    s = reqlog_start(&cfg, m, &enabled, err, sizeof(err));
    assert_true(enabled);
    assert_non_null(s);
    t0 = now_s();
    for (int i = 0; i < 15; i++)
        reqlog_log(s, &(struct reqlog_entry){.request_id = "r", .sms_count = 1, .status = 200});
    assert_true(now_s() - t0 < 1.0); /* never waits for the database */
    assert_int_equal(metric(m, "t_request_log_rows_dropped_total"), 5);
    reqlog_stop(s, 300);
    assert_int_equal(metric(m, "t_request_log_rows_dropped_total"), 15);
    assert_int_equal(metric(m, "t_request_log_rows_written_total"), 0);
    metrics_free(m);
}

static void test_rows_written(void **state)
{
    (void)state;
    const char *host = getenv("PGHOST");
    struct smsx_config cfg;
    struct metrics *m;
    bool enabled = false;
    char err[512], rid[64], sql[256];
    const char *params[1] = {rid};
    struct reqlog *s;
    PGconn *c;
    PGresult *r;

    if (!host || !*host) {
        printf("SKIP: no PostgreSQL (PGHOST unset): rows-written part\n");
        skip();
    }
    m = metrics_new("t_");
    base_config(&cfg, host, getenv("PGPORT") ? strtol(getenv("PGPORT"), NULL, 10) : 5432, 100);
    s = reqlog_start(&cfg, m, &enabled, err, sizeof(err));
    assert_non_null(s);
    snprintf(rid, sizeof(rid), "test-store-%ld-%ld", (long)getpid(), (long)time(NULL));
    for (int i = 0; i < 20; i++)
        reqlog_log(s, &(struct reqlog_entry){.request_id = rid,
                                             .client_id = i % 2 ? "c1" : NULL,
                                             .user_id = "u1",
                                             .sms_count = 1000,
                                             .extracted_count = i,
                                             .status = i == 0 ? 422 : 200,
                                             .latency_ms = 12.5});
    reqlog_stop(s, 10000);
    assert_int_equal(metric(m, "t_request_log_rows_written_total"), 20);
    assert_int_equal(metric(m, "t_request_log_rows_dropped_total"), 0);
    metrics_free(m);

    struct pg_params p = {.host = host,
                          .port = getenv("PGPORT"),
                          .user = cfg.db_user,
                          .password = cfg.db_password,
                          .dbname = cfg.db_name};
    c = pg_connect(&p, err, sizeof(err));
    assert_non_null(c);
    snprintf(sql, sizeof(sql),
             "SELECT count(*), sum(extracted_count), count(client_id), max(status), "
             "max(sms_count) FROM smsx_request_log WHERE request_id = $1");
    r = pg_query(c, sql, 1, params, err, sizeof(err));
    assert_non_null(r);
    assert_string_equal(PQgetvalue(r, 0, 0), "20");
    assert_string_equal(PQgetvalue(r, 0, 1), "190");
    assert_string_equal(PQgetvalue(r, 0, 2), "10");
    assert_string_equal(PQgetvalue(r, 0, 3), "422");
    assert_string_equal(PQgetvalue(r, 0, 4), "1000");
    PQclear(r);
    assert_int_equal(pg_exec(c, "DELETE FROM smsx_request_log WHERE request_id = $1", 1, params,
                             err, sizeof(err)),
                     0);
    PQfinish(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disabled_without_host),
        cmocka_unit_test(test_database_down_counts_every_row),
        cmocka_unit_test(test_rows_written),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
