/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/pg.c against a real PostgreSQL (PGHOST/PGPORT/PGUSER, as the test
 * harness exports them; without PGHOST the test prints SKIP and passes as
 * skipped). Pins: keyword connection, parameterised statements, errors that
 * carry no parameter value, and a migration runner that applies each step
 * exactly once even when several connections race for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/pg.h"

#define LOCK_KEY 4242424242LL
#define RACERS 4

static char table[64];
static struct pg_migration steps[2];
static char sql0[256], sql1[256], name0[80], name1[80];

static struct pg_params params(void)
{
    return (struct pg_params){
        .host = getenv("PGHOST"),
        .port = getenv("PGPORT"),
        .user = getenv("PGUSER") ? getenv("PGUSER") : "postgres",
        .password = getenv("PGPASSWORD"),
        .dbname = getenv("PGDATABASE") ? getenv("PGDATABASE") : "postgres",
        .application_name = "test_pg",
    };
}

static PGconn *connect_ok(void)
{
    struct pg_params p = params();
    char err[512];
    PGconn *c = pg_connect(&p, err, sizeof(err));

    if (!c)
        fail_msg("connect: %s", err);
    return c;
}

static int setup(void **state)
{
    (void)state;
    if (!getenv("PGHOST") || !*getenv("PGHOST"))
        return 0;
    /* Unique names per run, so reruns against the same server start clean. */
    snprintf(table, sizeof(table), "test_pg_%ld", (long)getpid());
    snprintf(name0, sizeof(name0), "%s_0001", table);
    snprintf(name1, sizeof(name1), "%s_0002", table);
    snprintf(sql0, sizeof(sql0), "CREATE TABLE %s (id int PRIMARY KEY, note text)", table);
    snprintf(sql1, sizeof(sql1), "INSERT INTO %s VALUES (1, 'first')", table);
    steps[0] = (struct pg_migration){name0, sql0};
    steps[1] = (struct pg_migration){name1, sql1};
    return 0;
}

static void test_exec_with_params(void **state)
{
    (void)state;
    PGconn *c = connect_ok();
    const char *vals[2] = {"41", "a'b\"c; DROP TABLE x"};
    char err[512];
    PGresult *r = pg_query(c, "SELECT $1::int + 1, $2::text", 2, vals, err, sizeof(err));

    assert_non_null(r);
    assert_string_equal(PQgetvalue(r, 0, 0), "42");
    assert_string_equal(PQgetvalue(r, 0, 1), vals[1]);
    PQclear(r);
    /* A failing statement: the error says what, never the parameter values. */
    const char *secret[1] = {"s3cr3t-value"};
    assert_int_equal(pg_exec(c, "SELECT $1::int", 1, secret, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "SQLSTATE"));
    assert_null(strstr(err, "s3cr3t"));
    assert_null(strchr(err, '\n'));
    PQfinish(c);
}

static void test_connect_failure(void **state)
{
    (void)state;
    struct pg_params p = params();
    char err[512];

    p.port = "1"; /* nothing listens there */
    p.password = "pw with spaces ' and quotes";
    assert_null(pg_connect(&p, err, sizeof(err)));
    assert_true(strncmp(err, "connect: ", 9) == 0);
    assert_null(strstr(err, "quotes"));
}

static void *racer(void *arg)
{
    PGconn *c = connect_ok();
    char err[512];
    int n = pg_migrate(c, LOCK_KEY, steps, 2, err, sizeof(err));

    if (n < 0)
        fprintf(stderr, "migrate: %s\n", err);
    *(int *)arg = n;
    PQfinish(c);
    return NULL;
}

static void test_migrations_once_under_race(void **state)
{
    (void)state;
    pthread_t t[RACERS];
    int applied[RACERS];
    int total = 0;
    char err[512], sql[128];
    PGconn *c;
    PGresult *r;

    for (int i = 0; i < RACERS; i++)
        pthread_create(&t[i], NULL, racer, &applied[i]);
    for (int i = 0; i < RACERS; i++) {
        pthread_join(t[i], NULL);
        assert_true(applied[i] >= 0);
        total += applied[i];
    }
    assert_int_equal(total, 2);
    c = connect_ok();
    assert_int_equal(pg_migrate(c, LOCK_KEY, steps, 2, err, sizeof(err)), 0);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    r = pg_query(c, sql, 0, NULL, err, sizeof(err));
    assert_non_null(r);
    assert_string_equal(PQgetvalue(r, 0, 0), "1");
    PQclear(r);
    snprintf(sql, sizeof(sql), "DROP TABLE %s", table);
    assert_int_equal(pg_exec(c, sql, 0, NULL, err, sizeof(err)), 0);
    const char *names[2] = {name0, name1};
    assert_int_equal(pg_exec(c, "DELETE FROM schema_migrations WHERE name IN ($1, $2)", 2, names,
                             err, sizeof(err)),
                     0);
    PQfinish(c);
}

static void test_failed_migration_rolls_back(void **state)
{
    (void)state;
    struct pg_migration bad[1] = {{"test_pg_bad_step", "CREATE TABLE test_pg_never (id int); "
                                                       "SELECT no_such_function()"}};
    PGconn *c = connect_ok();
    char err[512];
    PGresult *r;

    assert_int_equal(pg_migrate(c, LOCK_KEY, bad, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "test_pg_bad_step"));
    r = pg_query(c, "SELECT to_regclass('test_pg_never') IS NULL", 0, NULL, err, sizeof(err));
    assert_non_null(r);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    PQfinish(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_with_params),
        cmocka_unit_test(test_connect_failure),
        cmocka_unit_test(test_migrations_once_under_race),
        cmocka_unit_test(test_failed_migration_rolls_back),
    };

    if (!getenv("PGHOST") || !*getenv("PGHOST")) {
        printf("SKIP: no PostgreSQL (PGHOST unset)\n");
        return 0;
    }
    setup(NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
