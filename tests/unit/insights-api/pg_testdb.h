/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper (header only, static functions) for the insights-api tests
 * that need a real PostgreSQL: each test binary creates its own database
 * from PG_CONNINFO (as scripts/run-integration.sh exports it), migrates it
 * with insights-api/migrations, and drops it at the end, so tests running
 * side by side never see each other's rows.
 *
 * Without PG_CONNINFO the tests print
 *   SKIP: PG_CONNINFO not set (run via scripts/run-integration.sh)
 * and pass as skipped.
 *
 * A binary whose tests all share one migrated database runs them with
 * PGT_RUN_GROUP_TESTS(tests, tag), empties its table before each test with
 * pgt_truncate(), opens each test with pgt_connect_or_skip(), and passes
 * every call it asserts on through pgt_checked() with pgt_err.
 */
#ifndef TESTS_PG_TESTDB_H
#define TESTS_PG_TESTDB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/pg.h"
#include "insights-api/store.h"

#define PGT_SKIP_MSG "SKIP: PG_CONNINFO not set (run via scripts/run-integration.sh)\n"

static char pgt_host[256], pgt_port[32], pgt_user[128], pgt_password[256], pgt_base_db[128];
static char pgt_db[64];
static char pgt_migrations[4096];

static bool pgt_available(void)
{
    const char *ci = getenv("PG_CONNINFO");

    return ci && *ci;
}

static void pgt_copy(char *dst, size_t cap, const char *v)
{
    snprintf(dst, cap, "%s", v ? v : "");
}

/* Parses PG_CONNINFO once. Returns 0 or -1. */
static int pgt_parse(void)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(getenv("PG_CONNINFO"), &errmsg);

    if (!opts) {
        fprintf(stderr, "PG_CONNINFO: %s\n", errmsg ? errmsg : "unparseable");
        PQfreemem(errmsg);
        return -1;
    }
    pgt_copy(pgt_base_db, sizeof(pgt_base_db), "postgres");
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "hostaddr") == 0)
            pgt_copy(pgt_host, sizeof(pgt_host), o->val);
        else if (strcmp(o->keyword, "port") == 0)
            pgt_copy(pgt_port, sizeof(pgt_port), o->val);
        else if (strcmp(o->keyword, "user") == 0)
            pgt_copy(pgt_user, sizeof(pgt_user), o->val);
        else if (strcmp(o->keyword, "password") == 0)
            pgt_copy(pgt_password, sizeof(pgt_password), o->val);
        else if (strcmp(o->keyword, "dbname") == 0)
            pgt_copy(pgt_base_db, sizeof(pgt_base_db), o->val);
    }
    PQconninfoFree(opts);
    return 0;
}

/* Parameters for the test's own database (dbname NULL = the base database). */
static struct pg_params pgt_params(const char *dbname)
{
    return (struct pg_params){
        .host = pgt_host,
        .port = pgt_port,
        .user = pgt_user,
        .password = pgt_password,
        .dbname = dbname ? dbname : pgt_db,
        .sslmode = "disable",
        .application_name = "insights-test",
        .connect_timeout_s = 5,
    };
}

/* Connects to the test database; aborts the test on failure. */
static PGconn *pgt_connect(void)
{
    struct pg_params p = pgt_params(NULL);
    char err[512];
    PGconn *c = pg_connect(&p, err, sizeof(err));

    if (!c) {
        fprintf(stderr, "connect %s: %s\n", pgt_db, err);
        abort();
    }
    return c;
}

/* Runs SQL (printf-style, our literals only) on conn; aborts on failure. */
static PGresult *pgt_sql(PGconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static PGresult *pgt_sql(PGconn *c, const char *fmt, ...)
{
    char sql[4096], err[512];
    va_list ap;
    PGresult *r;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    r = pg_query(c, sql, 0, NULL, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "sql failed: %s\n  %s\n", err, sql);
        abort();
    }
    return r;
}

/* One integer from SQL. */
static long long pgt_int(PGconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long long pgt_int(PGconn *c, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    PGresult *r;
    long long v;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    r = pgt_sql(c, "%s", sql);
    v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return v;
}

static const char *pgt_migrations_dir(void)
{
    const char *root = getenv("REPO_ROOT");

    snprintf(pgt_migrations, sizeof(pgt_migrations), "%s/insights-api/migrations",
             root && *root ? root : ".");
    return pgt_migrations;
}

/*
 * Creates (after dropping a leftover) database t_<tag>_<pid>, optionally
 * migrated. Returns 0 or -1.
 */
static int pgt_create(const char *tag, bool migrate)
{
    struct pg_params p;
    char err[512], sql[200];
    PGconn *c;
    int rc = 0;

    if (pgt_parse() < 0)
        return -1;
    snprintf(pgt_db, sizeof(pgt_db), "t_%s_%ld", tag, (long)getpid());
    p = pgt_params(pgt_base_db);
    c = pg_connect(&p, err, sizeof(err));
    if (!c) {
        fprintf(stderr, "connect %s: %s\n", pgt_base_db, err);
        return -1;
    }
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", pgt_db);
    if (pg_exec(c, sql, 0, NULL, err, sizeof(err)) < 0)
        rc = -1;
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", pgt_db);
    if (rc == 0 && pg_exec(c, sql, 0, NULL, err, sizeof(err)) < 0)
        rc = -1;
    PQfinish(c);
    if (rc < 0) {
        fprintf(stderr, "create %s: %s\n", pgt_db, err);
        return -1;
    }
    if (migrate) {
        c = pgt_connect();
        if (store_migrate(c, pgt_migrations_dir(), err, sizeof(err)) < 0) {
            fprintf(stderr, "migrate %s: %s\n", pgt_db, err);
            rc = -1;
        }
        PQfinish(c);
    }
    return rc;
}

static void pgt_drop(void)
{
    struct pg_params p = pgt_params(pgt_base_db);
    char err[512], sql[200];
    PGconn *c;

    if (!pgt_db[0])
        return;
    c = pg_connect(&p, err, sizeof(err));
    if (!c)
        return;
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", pgt_db);
    if (pg_exec(c, sql, 0, NULL, err, sizeof(err)) < 0)
        fprintf(stderr, "drop %s: %s\n", pgt_db, err);
    PQfinish(c);
}

/*
 * The shared-database group: the tag names the database, set by
 * PGT_RUN_GROUP_TESTS before cmocka runs the group fixtures below. Without
 * PG_CONNINFO the fixtures do nothing and each test skips itself.
 */
static const char *pgt_group_tag;

static inline int pgt_group_setup(void **state)
{
    (void)state;
    if (!pgt_available())
        return 0;
    return pgt_create(pgt_group_tag, true);
}

static inline int pgt_group_teardown(void **state)
{
    (void)state;
    if (pgt_available())
        pgt_drop();
    return 0;
}

/* Names the group's database and says once, up front, when the whole group will skip. */
static inline void pgt_group_begin(const char *tag)
{
    pgt_group_tag = tag;
    if (!pgt_available())
        printf(PGT_SKIP_MSG);
}

/* Runs the cmocka array `tests` in one migrated database t_<tag>_<pid>, dropped at the end. */
#define PGT_RUN_GROUP_TESTS(tests, tag)                                                            \
    (pgt_group_begin(tag), cmocka_run_group_tests(tests, pgt_group_setup, pgt_group_teardown))

/*
 * Empties table (our literal) so a test starts from nothing, whatever the
 * test before it left. For a cmocka per-test setup; 0 also without PG.
 */
static inline int pgt_truncate(const char *table)
{
    PGconn *c;

    if (!pgt_available())
        return 0;
    c = pgt_connect();
    PQclear(pgt_sql(c, "TRUNCATE %s", table));
    PQfinish(c);
    return 0;
}

/* The test's own connection, or the test skipped (saying why) without PG_CONNINFO. */
static inline PGconn *pgt_connect_or_skip(void)
{
    if (!pgt_available()) {
        printf(PGT_SKIP_MSG);
        skip();
    }
    return pgt_connect();
}

/*
 * The error buffer a test hands to the calls it checks, and the check: the
 * call's result passes through, and -1 fails the test with the call's name
 * and error, so an assertion on 0 or 1 never hides a database error behind
 * a bare "-1 != 1".
 */
static char pgt_err[512];

static inline int pgt_checked(const char *call, int rc)
{
    if (rc < 0)
        fail_msg("%s: %s", call, pgt_err);
    return rc;
}

#endif
