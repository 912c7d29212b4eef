/* SPDX-License-Identifier: Apache-2.0 */
/*
 * insights-api/store against a real PostgreSQL (PG_CONNINFO; each run uses
 * its own database). Pins: migrations apply once even when replicas race,
 * the documented tables exist and seven are partitioned with a default
 * partition; maintenance creates partitions ahead, moves rows out of the
 * default partition, drops partitions past retention and logs each step;
 * the writer honours DUMP_MODE, never stores a token, rate-limits
 * unauthorized rows, spools while PostgreSQL is unreachable and replays in
 * order (skipping forgotten users), and counts every row it does not write;
 * forget deletes a user's rows everywhere; the pool is bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.h"
#include "insights-api/store.h"
#include "insights-api/store_impl.h"
#include "tests/unit/insights-api/pg_testdb.h"

#define MIGRATION_FILES 10 /* insights-api/migrations/0001 .. 0010 */
#define FORGET_ME_KEY "72b93f159bb117227532df01dffb24e4a3b0332c270eafcbba2bc85f687e0278"
#define RACERS 4
#define PEPPER "test-pepper"

static char spool_path[256];

static int group_setup(void **state)
{
    (void)state;
    if (!pgt_available())
        return 0;
    snprintf(spool_path, sizeof(spool_path), "/tmp/test_store_spool_%ld.jsonl", (long)getpid());
    return pgt_create("store", false);
}

static int group_teardown(void **state)
{
    char off[300];

    (void)state;
    if (!pgt_available())
        return 0;
    pgt_drop();
    snprintf(off, sizeof(off), "%s.offset", spool_path);
    unlink(spool_path);
    unlink(off);
    return 0;
}

/* Each test starts from a freshly created and migrated database. */
static int fresh_db(void **state)
{
    (void)state;
    if (!pgt_available())
        return 0;
    pgt_drop();
    unlink(spool_path);
    return pgt_create("store", true);
}

#define NEED_PG()                                                                                  \
    do {                                                                                           \
        if (!pgt_available()) {                                                                    \
            printf(PGT_SKIP_MSG);                                                                  \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ------------------------------------------------------------------ migrations */

static void test_migrate_is_idempotent_and_complete(void **state)
{
    static const char *const tables[] = {
        "api_request_dump",
        "api_response_dump",
        "clients",
        "fetch_extracted_request_dump",
        "fetch_extracted_response_dump",
        "insights_request_dump",
        "insights_response_dump",
        "sync_events_log",
        "unauthorized_requests",
        "usage",
        "partition_operations_log",
        "insights_jobs",
        "forgotten_users",
        "prediction_log",
        "outcomes",
    };
    char err[512];
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    /* fresh_db already migrated: a second run applies nothing. */
    assert_int_equal(store_migrate(c, pgt_migrations_dir(), err, sizeof(err)), 0);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM schema_migrations"), MIGRATION_FILES);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM schema_migrations WHERE name = "
                                "'0001_partition_helpers'"),
                     1);
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        assert_int_equal(
            pgt_int(c, "SELECT count(*) FROM pg_class WHERE relname = '%s'", tables[i]), 1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM pg_partitioned_table"), 8);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM pg_class WHERE relname LIKE '%%\\_default' "
                                "AND relispartition"),
                     8);
    /* The clients table cannot hold a clear token. */
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM information_schema.check_constraints WHERE "
                                "constraint_name = 'clients_auth_token_unused'"),
                     1);
    PQfinish(c);
}

static void test_migrate_missing_dir_is_an_error(void **state)
{
    char err[512] = "";
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    assert_int_equal(store_migrate(c, "/nonexistent/migrations", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/migrations"));
    PQfinish(c);
}

struct racer {
    const char *dir; /* computed before the threads start: pgt_migrations_dir() writes a
                        static buffer, and four threads writing it while others read it
                        once made a racer open a half-written path */
    int applied;
    char err[512];
};

static void *migrate_racer(void *arg)
{
    struct racer *r = arg;
    PGconn *c = pgt_connect();

    r->err[0] = '\0';
    r->applied = store_migrate(c, r->dir, r->err, sizeof(r->err));
    PQfinish(c);
    return NULL;
}

static void test_migrate_racing_replicas_apply_each_file_once(void **state)
{
    pthread_t t[RACERS];
    struct racer racer[RACERS];
    int sum = 0;

    (void)state;
    NEED_PG();
    pgt_drop();
    assert_int_equal(pgt_create("store", false), 0);
    const char *dir = pgt_migrations_dir(); /* once: see struct racer */
    for (int i = 0; i < RACERS; i++) {
        racer[i].dir = dir;
        assert_int_equal(pthread_create(&t[i], NULL, migrate_racer, &racer[i]), 0);
    }
    for (int i = 0; i < RACERS; i++) {
        pthread_join(t[i], NULL);
        if (racer[i].applied < 0)
            fprintf(stderr, "racer %d: %s\n", i, racer[i].err);
        assert_true(racer[i].applied >= 0);
        sum += racer[i].applied;
    }
    assert_int_equal(sum, MIGRATION_FILES);
}

/* ------------------------------------------------------------------ maintenance */

static void test_maintain_creates_ahead_drops_old_and_logs(void **state)
{
    struct store_maintain_opts opts = {
        .days_ahead = 3, .retention_days = 90, .wait_for_lock = true};
    struct store_maintain_report rep;
    char err[512];
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    /* A row that landed in the default partition today, one 100 days old, and an old partition. */
    PQclear(pgt_sql(c, "INSERT INTO usage (request_id, api_name, response_code) VALUES "
                       "('today', 'insights', 200)"));
    PQclear(pgt_sql(c, "INSERT INTO usage (request_id, api_name, response_code, created_at) "
                       "VALUES ('ancient', 'insights', 200, (now() AT TIME ZONE 'UTC') - "
                       "interval '100 days')"));
    PQclear(pgt_sql(c, "SELECT create_daily_partition('insights_request_dump', "
                       "(now() AT TIME ZONE 'UTC')::date - 120)"));

    assert_int_equal(store_maintain(c, &opts, &rep, err, sizeof(err)), 0);
    assert_false(rep.skipped);
    assert_int_equal(rep.failures, 0);
    assert_int_equal(rep.partitions_created, 8 * 4);
    assert_int_equal(rep.partitions_dropped, 1);
    assert_int_equal(rep.rows_deleted, 1); /* 'ancient' from usage_default */
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM pg_inherits i JOIN pg_class p ON "
                                "p.oid = i.inhparent WHERE p.relname = 'usage'"),
                     1 + 4);
    /* Today's row moved out of the default partition into today's. */
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM usage_default"), 0);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM usage WHERE request_id = 'today' AND "
                                "tableoid::regclass::text = 'usage_' || to_char((now() AT TIME "
                                "ZONE 'UTC')::date, 'YYYY_MM_DD')"),
                     1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM partition_operations_log WHERE "
                                "operation_type = 'drop' AND status = 'success'"),
                     1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM partition_operations_log WHERE "
                                "operation_type = 'create' AND detail LIKE '1 rows moved%%'"),
                     1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM partition_operations_log WHERE "
                                "operation_type = 'delete_rows' AND table_name = 'usage'"),
                     1);

    /* Again: nothing to do. */
    assert_int_equal(store_maintain(c, &opts, &rep, err, sizeof(err)), 0);
    assert_int_equal(rep.partitions_created, 0);
    assert_int_equal(rep.partitions_dropped, 0);
    /* An insert for a day without a partition still succeeds (default partition). */
    PQclear(pgt_sql(c, "INSERT INTO usage (request_id, created_at) VALUES ('future', "
                       "(now() AT TIME ZONE 'UTC') + interval '30 days')"));
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM usage_default"), 1);
    PQfinish(c);
}

static void test_maintain_skips_when_another_replica_holds_the_lock(void **state)
{
    struct store_maintain_opts opts = {.wait_for_lock = false};
    struct store_maintain_report rep;
    char err[512];
    PGconn *holder, *c;

    (void)state;
    NEED_PG();
    holder = pgt_connect();
    c = pgt_connect();
    PQclear(pgt_sql(holder, "SELECT pg_advisory_lock(%" PRId64 ")", (int64_t)STORE_LOCK_MAINTAIN));
    assert_int_equal(store_maintain(c, &opts, &rep, err, sizeof(err)), 0);
    assert_true(rep.skipped);
    assert_int_equal(rep.partitions_created, 0);
    PQclear(
        pgt_sql(holder, "SELECT pg_advisory_unlock(%" PRId64 ")", (int64_t)STORE_LOCK_MAINTAIN));
    assert_int_equal(store_maintain(c, &opts, &rep, err, sizeof(err)), 0);
    assert_false(rep.skipped);
    assert_true(rep.partitions_created > 0);
    PQfinish(holder);
    PQfinish(c);
}

/* ------------------------------------------------------------------ writer */

static struct store_config writer_config(enum store_dump_mode mode, const char *spool)
{
    struct store_config cfg = {
        .pg = pgt_params(NULL),
        .migrations_dir = pgt_migrations_dir(),
        .migrate = true,
        .dump_mode = mode,
        .spool_path = spool,
        .unauthorized_per_second = 100,
        .pepper = PEPPER,
        .pepper_len = strlen(PEPPER),
    };
    return cfg;
}

static struct store *start(const struct store_config *cfg)
{
    char err[512] = "";
    struct store *s = store_start(cfg, NULL, err, sizeof(err));

    if (!s)
        fail_msg("store_start: %s", err);
    return s;
}

static struct store_dump insights_dump(const char *rid, const char *user)
{
    static const char req[] = "{\"user_id\":\"u\",\"client_id\":\"c\",\"groupings\":[\"sms\"]}";
    static const char resp[] = "{\"message\":\"featurization completed\",\"all_sms_count_nlp\":3}";

    return (struct store_dump){
        .api = STORE_API_INSIGHTS,
        .api_name = "insights",
        .request_id = rid,
        .client_id = "acme_insights",
        .user_id = user,
        .cutoff_date = "2026-11-22 10:00:00",
        .groupings_json = "[\"sms\"]",
        .request_json = req,
        .request_len = strlen(req),
        .has_response = true,
        .response_json = resp,
        .response_len = strlen(resp),
        .time_to_featurize = 0.25,
        .time_json = "{\"mongo\":0.1}",
    };
}

/* Every row of every table of the test database as text, for "never stored" checks. */
static char *all_rows_text(PGconn *c)
{
    PGresult *t = pgt_sql(c, "SELECT relname FROM pg_class WHERE relkind = 'r' AND "
                             "relnamespace = 'public'::regnamespace");
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);

    for (int i = 0; i < PQntuples(t); i++) {
        PGresult *r = pgt_sql(c, "SELECT row_to_json(x)::text FROM \"%s\" x", PQgetvalue(t, i, 0));

        for (int j = 0; j < PQntuples(r); j++) {
            size_t n = strlen(PQgetvalue(r, j, 0));

            while (len + n + 2 > cap)
                out = realloc(out, cap *= 2);
            memcpy(out + len, PQgetvalue(r, j, 0), n);
            len += n;
            out[len++] = '\n';
            out[len] = '\0';
        }
        PQclear(r);
    }
    PQclear(t);
    return out;
}

static void test_writer_full_mode_writes_every_table(void **state)
{
    struct store_config cfg = writer_config(STORE_DUMP_FULL, NULL);
    struct store_dump d = insights_dump("req-1", "user-1");
    const char token[] = "0f6b3c1e-9a4d-4c55-8e2a-4b1d2c3e4f50";
    char hash[CRYPTO_SHA256_HEX_LEN + 1], *text;
    struct store_stats st;
    struct store *s;
    PGconn *c;

    (void)state;
    NEED_PG();
    s = start(&cfg);
    store_usage(s, "req-1", "their-id", "acme_insights", "insights", 200);
    d.client_request_id = "their-id";
    store_dump(s, &d);
    d.api = STORE_API_FETCH_EXTRACTED;
    d.api_name = "fetch_extracted_data";
    d.request_id = "req-2";
    store_dump(s, &d);
    d.api = STORE_API_OTHER;
    d.api_name = "generate_features";
    d.request_id = "req-3";
    store_dump(s, &d);
    store_unauthorized(s, "acme_insights", "req-4", "their-id", token);
    store_unauthorized(s, "acme_insights", "req-5", NULL, NULL);
    assert_int_equal(store_flush(s, 10000), 0);
    store_get_stats(s, &st);
    assert_true(st.pg_up);
    assert_int_equal(st.written, 1 + 2 + 2 + 2 + 2);
    assert_int_equal(st.dropped_invalid + st.dropped_queue_full + st.dropped_spool_full, 0);
    store_stop(s, 1000);

    c = pgt_connect();
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM usage WHERE request_id = 'req-1' AND "
                                "response_code = 200 AND api_name = 'insights'"),
                     1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM insights_request_dump WHERE request_id = "
                                "'req-1' AND cutoff_date = '2026-11-22 10:00:00' AND "
                                "request_bytes > 0"),
                     1);
    assert_int_equal(pgt_int(c, "SELECT (response_dump->>'all_sms_count_nlp')::int FROM "
                                "insights_response_dump WHERE request_id = 'req-1' AND "
                                "groupings::text = '[\"sms\"]' AND time_to_featurize = 0.25"),
                     3);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM fetch_extracted_response_dump WHERE "
                                "request_id = 'req-2' AND response_dump IS NOT NULL"),
                     1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM api_request_dump WHERE request_id = "
                                "'req-3' AND request_dump->>'user_id' = 'u'"),
                     1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM api_response_dump WHERE request_id = "
                                "'req-3' AND api_name = 'generate_features'"),
                     1);
    /* Unauthorized: a 12-hex prefix of HMAC(pepper, token), no body, never the token. */
    assert_int_equal(crypto_token_hash(PEPPER, strlen(PEPPER), token, hash), 0);
    hash[STORE_TOKEN_PREFIX_LEN] = '\0';
    assert_int_equal(pgt_int(c,
                             "SELECT count(*) FROM unauthorized_requests WHERE request_id = "
                             "'req-4' AND auth_token = '%s' AND req_body IS NULL",
                             hash),
                     1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM unauthorized_requests WHERE request_id = "
                                "'req-5' AND auth_token IS NULL"),
                     1);
    /* the client's X-Request-Id beside ours in every table (issue 11, item 11) */
    assert_int_equal(pgt_int(c, "SELECT (SELECT count(*) FROM usage WHERE client_request_id ="
                                " 'their-id') + (SELECT count(*) FROM unauthorized_requests WHERE"
                                " client_request_id = 'their-id') + (SELECT count(*) FROM"
                                " insights_request_dump WHERE client_request_id = 'their-id') +"
                                " (SELECT count(*) FROM insights_response_dump WHERE"
                                " client_request_id = 'their-id') + (SELECT count(*) FROM"
                                " fetch_extracted_response_dump WHERE client_request_id ="
                                " 'their-id') + (SELECT count(*) FROM api_request_dump WHERE"
                                " client_request_id = 'their-id')"),
                     6);
    text = all_rows_text(c);
    assert_null(strstr(text, token));
    assert_null(strstr(text, "0f6b3c1e"));
    free(text);
    PQfinish(c);
}

static void test_writer_metadata_and_off_modes_keep_no_payload(void **state)
{
    struct store_config cfg = writer_config(STORE_DUMP_METADATA, NULL);
    struct store_dump d = insights_dump("meta-1", "user-1");
    struct store *s;
    char *text;
    PGconn *c;

    (void)state;
    NEED_PG();
    s = start(&cfg);
    store_dump(s, &d);
    d.api = STORE_API_OTHER;
    d.request_id = "meta-2";
    store_dump(s, &d);
    assert_int_equal(store_flush(s, 10000), 0);
    store_stop(s, 1000);

    cfg.dump_mode = STORE_DUMP_OFF;
    s = start(&cfg);
    d.request_id = "off-1";
    store_dump(s, &d);
    store_usage(s, "off-1", NULL, "acme_insights", "insights", 200);
    assert_int_equal(store_flush(s, 10000), 0);
    store_stop(s, 1000);

    c = pgt_connect();
    assert_int_equal(pgt_int(c,
                             "SELECT count(*) FROM insights_response_dump WHERE request_id = "
                             "'meta-1' AND response_dump IS NULL AND response_bytes = %zu AND "
                             "groupings::text = '[\"sms\"]'",
                             strlen(d.response_json)),
                     1);
    assert_int_equal(pgt_int(c,
                             "SELECT count(*) FROM api_request_dump WHERE request_id = "
                             "'meta-2' AND request_dump IS NULL AND request_bytes = %zu",
                             strlen(d.request_json)),
                     1);
    text = all_rows_text(c);
    assert_null(strstr(text, "all_sms_count_nlp"));
    assert_null(strstr(text, "off-1\",\"user_id")); /* no dump row for off-1 */
    free(text);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM api_request_dump WHERE request_id = "
                                "'off-1'"),
                     0);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM usage WHERE request_id = 'off-1'"), 1);
    PQfinish(c);
}

static void test_writer_rate_limits_unauthorized_rows(void **state)
{
    struct store_config cfg = writer_config(STORE_DUMP_FULL, NULL);
    struct store_stats st;
    struct store *s;
    PGconn *c;
    long long rows;

    (void)state;
    NEED_PG();
    cfg.unauthorized_per_second = 3;
    s = start(&cfg);
    for (int i = 0; i < 10; i++)
        store_unauthorized(s, "attacker", "r", NULL, "guess");
    store_unauthorized(s, "other_client", "r", NULL, "guess"); /* its own budget */
    assert_int_equal(store_flush(s, 10000), 0);
    store_get_stats(s, &st);
    store_stop(s, 1000);
    c = pgt_connect();
    rows = pgt_int(c, "SELECT count(*) FROM unauthorized_requests WHERE client_id = 'attacker'");
    /* 10 calls fall in one second, or two if a boundary passes: never more than 2 x 3 rows. */
    assert_true(rows >= 3 && rows <= 6);
    assert_int_equal((long long)st.unauthorized_rate_limited, 10 - rows);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM unauthorized_requests WHERE client_id = "
                                "'other_client'"),
                     1);
    PQfinish(c);
}

static void test_writer_drops_only_the_invalid_row(void **state)
{
    struct store_config cfg = writer_config(STORE_DUMP_FULL, NULL);
    struct store_dump d = insights_dump("bad-1", "user-1");
    struct store_stats st;
    struct store *s;
    PGconn *c;

    (void)state;
    NEED_PG();
    s = start(&cfg);
    store_usage(s, "ok-1", NULL, "acme_insights", "insights", 200);
    d.api = STORE_API_OTHER;
    d.request_json = "{not json";
    d.request_len = strlen(d.request_json);
    d.has_response = false;
    store_dump(s, &d);
    store_usage(s, "ok-2", NULL, "acme_insights", "insights", 200);
    assert_int_equal(store_flush(s, 10000), 0);
    store_get_stats(s, &st);
    store_stop(s, 1000);
    assert_int_equal(st.dropped_invalid, 1);
    assert_int_equal(st.written, 2);
    assert_null(strstr(st.last_error, "not json")); /* errors carry no values */
    c = pgt_connect();
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM usage WHERE request_id LIKE 'ok-%%'"), 2);
    PQfinish(c);
}

/*
 * Issue 11 item 9: a byte that is not UTF-8 in x-client-id used to make
 * PostgreSQL refuse the usage and unauthorized_requests rows (the attempt
 * left no trace). Both rows are written, the value stored escaped.
 */
static void test_writer_escapes_a_client_id_that_is_not_utf8(void **state)
{
    struct store_config cfg = writer_config(STORE_DUMP_OFF, NULL);
    struct store_stats st;
    struct store *s;
    PGconn *c;

    (void)state;
    NEED_PG();
    s = start(&cfg);
    store_usage(s, "nu-1", NULL, "ac\xffme\xc3", "generate_features", 401);
    store_unauthorized(s, "ac\xffme\xc3", "nu-1", NULL, "some-token");
    assert_int_equal(store_flush(s, 10000), 0);
    store_get_stats(s, &st);
    store_stop(s, 1000);
    assert_int_equal(st.dropped_invalid, 0);
    assert_int_equal(st.written, 2);
    c = pgt_connect();
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM usage WHERE request_id = 'nu-1' AND "
                                "client_id = E'ac\\\\xffme\\\\xc3' AND response_code = 401"),
                     1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM unauthorized_requests WHERE request_id = "
                                "'nu-1' AND client_id = E'ac\\\\xffme\\\\xc3'"),
                     1);
    PQfinish(c);
}

/* The text columns' copy: valid UTF-8 kept, other bytes as \xHH, never cut mid-character. */
static void test_row_text_is_always_utf8(void **state)
{
    static const struct {
        const char *in;
        size_t max;
        const char *out;
    } cases[] = {
        {"acme", 128, "acme"},
        {"ac\xffme", 128, "ac\\xffme"},
        {"caf\xc3\xa9", 128, "caf\xc3\xa9"},
        {"caf\xc3", 128, "caf\\xc3"},                      /* a sequence cut short */
        {"\xc0\xaf", 128, "\\xc0\\xaf"},                   /* overlong '/' */
        {"\xed\xa0\x80", 128, "\\xed\\xa0\\x80"},          /* a surrogate */
        {"\xf4\x90\x80\x80", 128, "\\xf4\\x90\\x80\\x80"}, /* past U+10FFFF */
        {"abc\xff", 5, "abc"},                             /* the escape does not fit: not cut */
        {"ab\xc3\xa9", 3, "ab"},                           /* nor is a character */
        {"a\\xff", 128, "a\\xff"},                         /* a literal backslash stays as sent */
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct store_row *row = store_row_new(STORE_ROW_USAGE);

        store_row_set(row, &row->client_id, cases[i].in, cases[i].max);
        assert_string_equal(row->client_id, cases[i].out);
        store_row_free(row);
    }
}

static long count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = 0;
    int ch;

    if (!f)
        return -1;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* Waits (bounded, not a timing assertion) until the store has replayed n rows. */
static void wait_replayed(struct store *s, unsigned long long n)
{
    struct store_stats st;

    for (int i = 0; i < 300; i++) {
        store_get_stats(s, &st);
        if (st.replayed >= n && st.spool_bytes == 0)
            return;
        usleep(50 * 1000);
    }
    fail_msg("replayed %llu of %llu rows (spool %lld bytes, last error '%s')", st.replayed, n,
             st.spool_bytes, st.last_error);
}

static void test_spool_while_down_then_replay_in_order(void **state)
{
    struct store_config cfg = writer_config(STORE_DUMP_FULL, spool_path);
    struct store_dump d = insights_dump("sp-dump", "user-1");
    struct store_stats st;
    struct store *s;
    char rid[32];
    PGconn *c;

    (void)state;
    NEED_PG();
    cfg.pg.port = "1"; /* nothing listens there: PostgreSQL is "down" */
    cfg.pg.connect_timeout_s = 2;
    s = start(&cfg);
    for (int i = 0; i < 50; i++) {
        snprintf(rid, sizeof(rid), "sp-%03d", i);
        store_usage(s, rid, NULL, "acme_insights", "insights", 200);
    }
    store_dump(s, &d);
    assert_int_equal(store_flush(s, 20000), 0);
    store_get_stats(s, &st);
    assert_false(st.pg_up);
    assert_int_equal(st.spooled, 52);
    assert_int_equal(st.written, 0);
    assert_true(st.spool_bytes > 0);
    assert_int_equal(count_lines(spool_path), 52);
    store_stop(s, 1000);

    /* A restart with PostgreSQL reachable replays the file, then empties it. */
    cfg.pg.port = pgt_port;
    s = start(&cfg);
    wait_replayed(s, 52);
    store_get_stats(s, &st);
    assert_int_equal(st.written, 52);
    store_stop(s, 1000);
    struct stat sb;
    assert_int_equal(stat(spool_path, &sb), 0);
    assert_int_equal(sb.st_size, 0);

    c = pgt_connect();
    /* In order: ids increase with request ids, and created_at is the original time. */
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM usage WHERE request_id LIKE 'sp-%%'"), 50);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM (SELECT request_id, row_number() OVER "
                                "(ORDER BY id) AS n FROM usage WHERE request_id LIKE 'sp-%%') x "
                                "WHERE x.request_id <> 'sp-' || lpad((n - 1)::text, 3, '0')"),
                     0);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM insights_response_dump WHERE request_id = "
                                "'sp-dump' AND response_dump IS NOT NULL"),
                     1);
    PQfinish(c);
}

static void test_spool_survives_a_torn_last_line(void **state)
{
    struct store_config cfg = writer_config(STORE_DUMP_FULL, spool_path);
    struct store_stats st;
    struct stat sb;
    struct store *s;
    FILE *f;
    PGconn *c;

    (void)state;
    NEED_PG();
    cfg.pg.port = "1";
    cfg.pg.connect_timeout_s = 2;
    s = start(&cfg);
    store_usage(s, "torn-1", NULL, "acme_insights", "insights", 200);
    store_usage(s, "torn-2", NULL, "acme_insights", "insights", 200);
    assert_int_equal(store_flush(s, 20000), 0);
    store_stop(s, 1000);
    assert_int_equal(stat(spool_path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600); /* payloads may be in it: owner only */
    /* A crash in the middle of a write leaves half a line. */
    f = fopen(spool_path, "a");
    assert_non_null(f);
    fputs("{\"k\":0,\"a\":2,\"t\":17", f);
    fclose(f);
    s = start(&cfg);
    store_usage(s, "torn-3", NULL, "acme_insights", "insights", 200);
    assert_int_equal(store_flush(s, 20000), 0);
    store_stop(s, 1000);
    assert_int_equal(count_lines(spool_path), 4);

    cfg.pg.port = pgt_port;
    s = start(&cfg);
    wait_replayed(s, 3);
    store_get_stats(s, &st);
    store_stop(s, 1000);
    assert_int_equal(st.dropped_invalid, 1); /* the torn line, counted */
    c = pgt_connect();
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM usage WHERE request_id LIKE 'torn-%%'"), 3);
    PQfinish(c);
}

static void test_spool_full_is_counted_not_silent(void **state)
{
    struct store_config cfg = writer_config(STORE_DUMP_FULL, spool_path);
    struct store_stats st;
    struct store *s;

    (void)state;
    NEED_PG();
    cfg.pg.port = "1";
    cfg.pg.connect_timeout_s = 2;
    cfg.spool_max_bytes = 1000; /* room for a few usage lines only */
    s = start(&cfg);
    for (int i = 0; i < 40; i++)
        store_usage(s, "full", NULL, "acme_insights", "insights", 200);
    assert_int_equal(store_flush(s, 20000), 0);
    store_get_stats(s, &st);
    store_stop(s, 1000);
    assert_true(st.spooled > 0);
    assert_true(st.dropped_spool_full > 0);
    assert_int_equal(st.spooled + st.dropped_spool_full, 40);
    assert_true(st.spool_bytes <= 1000);
    assert_int_equal(count_lines(spool_path), (long)st.spooled);
}

static void test_connection_lost_mid_run_spools_and_replays(void **state)
{
    struct store_config cfg = writer_config(STORE_DUMP_FULL, spool_path);
    struct store_stats st;
    struct store *s;
    PGconn *c;

    (void)state;
    NEED_PG();
    cfg.pg.application_name = "store-under-test";
    s = start(&cfg);
    store_usage(s, "before", NULL, "acme_insights", "insights", 200);
    assert_int_equal(store_flush(s, 10000), 0);
    c = pgt_connect();
    /* Kill the writer's backend: its next write fails on a dead connection. */
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                                "pg_stat_activity WHERE application_name = 'store-under-test') x"),
                     1);
    for (int i = 0; i < 5; i++)
        store_usage(s, "after", NULL, "acme_insights", "insights", 200);
    assert_int_equal(store_flush(s, 10000), 0);
    wait_replayed(s, 5);
    store_get_stats(s, &st);
    store_stop(s, 1000);
    assert_int_equal(st.spooled, 5);
    assert_int_equal(st.written, 6);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM usage WHERE request_id = 'after'"), 5);
    PQfinish(c);
}

/* ------------------------------------------------------------------ forget */

static void test_forget_deletes_user_everywhere_and_blocks_spooled_rows(void **state)
{
    struct store_config cfg = writer_config(STORE_DUMP_FULL, spool_path);
    struct store_dump d = insights_dump("f-1", "forget-me");
    struct store_prediction pred = {
        .score_name = "credeau_payday_score", .arm = "v2", .value = 0.25};
    struct store_forget_result res;
    struct store *s;
    char err[512];
    PGconn *c;

    (void)state;
    NEED_PG();
    s = start(&cfg);
    store_dump(s, &d); /* insights request + response */
    d.api = STORE_API_OTHER;
    d.request_id = "f-2";
    store_dump(s, &d); /* api request + response */
    d.api = STORE_API_FETCH_EXTRACTED;
    d.request_id = "f-3";
    store_dump(s, &d);
    d.user_id = "keep-me";
    d.request_id = "k-1";
    store_dump(s, &d);
    store_usage(s, "f-1", NULL, "acme_insights", "insights", 200);
    store_predictions(s, "f-1", "acme_insights", "forget-me", 1790000000, &pred, 1);
    assert_int_equal(store_flush(s, 10000), 0);
    store_stop(s, 1000);
    c = pgt_connect();
    /* HMAC-SHA256 with an empty key of "forget-me" (Python's hmac module) */
    PQclear(pgt_sql(c, "INSERT INTO outcomes (client_id, user_key, loan_id, outcome, observed_at) "
                       "VALUES ('acme_insights', '" FORGET_ME_KEY "', 'L1', 'bad', now())"));
    assert_int_equal(
        pgt_int(c, "SELECT count(*) FROM prediction_log WHERE user_key = '" FORGET_ME_KEY "'"), 1);
    PQclear(pgt_sql(c, "INSERT INTO sync_events_log (event_type, client_id, user_id) VALUES "
                       "('sms', 'acme_insights', 'forget-me'), ('sms', 'acme_insights', "
                       "'keep-me')"));
    PQclear(pgt_sql(c, "INSERT INTO insights_jobs (client_id, user_id, groupings, request_id) "
                       "VALUES ('acme_insights', 'forget-me', 'sms', 'j')"));

    /* A row spooled while PostgreSQL was down, then the user is forgotten, then replay. */
    cfg.pg.port = "1";
    cfg.pg.connect_timeout_s = 2;
    s = start(&cfg);
    d.user_id = "forget-me";
    d.api = STORE_API_INSIGHTS;
    d.request_id = "f-late";
    store_dump(s, &d);
    store_predictions(s, "f-late", "acme_insights", "forget-me", 1790000000, &pred, 1);
    assert_int_equal(store_flush(s, 20000), 0);
    store_stop(s, 1000);

    assert_int_equal(store_forget(c, "acme_insights", "forget-me", "", &res, err, sizeof(err)), 0);
    assert_int_equal(res.total, 2 + 2 + 2 + 1 + 1 + 1 + 1);
    for (int i = 0; i < STORE_FORGET_TABLES; i++) { /* one row of the user in each */
        assert_non_null(res.table[i]);
        assert_int_equal(res.rows[i], 1);
    }
    cfg.pg.port = pgt_port;
    s = start(&cfg);
    wait_replayed(s, 3);
    store_stop(s, 1000);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM insights_request_dump WHERE user_id = "
                                "'forget-me'"),
                     0);
    assert_int_equal(
        pgt_int(c, "SELECT count(*) FROM prediction_log WHERE user_key = '" FORGET_ME_KEY "'"), 0);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM insights_response_dump WHERE user_id = "
                                "'forget-me'"),
                     0);
    /* The other user and the usage row (no user_id) stay. */
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM fetch_extracted_request_dump WHERE user_id "
                                "= 'keep-me'"),
                     1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM sync_events_log WHERE user_id = 'keep-me'"),
                     1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM usage WHERE request_id = 'f-1'"), 1);
    /* Forgetting again finds nothing. */
    assert_int_equal(store_forget(c, "acme_insights", "forget-me", "", &res, err, sizeof(err)), 0);
    assert_int_equal(res.total, 0);
    assert_int_equal(store_forget(c, "", "x", "", &res, err, sizeof(err)), -1);
    PQfinish(c);
}

/* ------------------------------------------------------------------ pool */

static void test_pool_is_bounded(void **state)
{
    struct pg_params p;
    struct store_pool *pool;
    PGconn *a, *b, *x;
    char err[256];

    (void)state;
    NEED_PG();
    p = pgt_params(NULL);
    pool = store_pool_new(&p, 2);
    a = store_pool_get(pool, 1000, err, sizeof(err));
    b = store_pool_get(pool, 1000, err, sizeof(err));
    assert_non_null(a);
    assert_non_null(b);
    assert_null(store_pool_get(pool, 50, err, sizeof(err)));
    assert_non_null(strstr(err, "busy"));
    store_pool_put(pool, a, false);
    x = store_pool_get(pool, 50, err, sizeof(err));
    assert_ptr_equal(x, a);        /* reused */
    store_pool_put(pool, x, true); /* closed */
    x = store_pool_get(pool, 50, err, sizeof(err));
    assert_non_null(x); /* a new one in the freed slot */
    store_pool_put(pool, x, false);
    /* A connection the server closed while it sat idle is replaced, not handed out. */
    int pid = PQbackendPID(x);
    PQclear(pgt_sql(b, "SELECT pg_terminate_backend(%d)", pid));
    for (int i = 0;
         i < 250 && pgt_int(b, "SELECT count(*) FROM pg_stat_activity WHERE pid = %d", pid) > 0;
         i++)
        usleep(20 * 1000); /* until the backend has exited (and so closed the socket) */
    x = store_pool_get(pool, 1000, err, sizeof(err));
    assert_non_null(x);
    PGresult *r = PQexec(x, "SELECT 1");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    store_pool_put(pool, x, false);
    store_pool_put(pool, b, false);
    store_pool_free(pool);

    p.port = "1";
    pool = store_pool_new(&p, 1);
    assert_null(store_pool_get(pool, 50, err, sizeof(err)));
    assert_null(store_pool_get(pool, 50, err, sizeof(err))); /* the slot was given back */
    store_pool_free(pool);
}

static void test_dump_mode_names(void **state)
{
    enum store_dump_mode m;

    (void)state;
    assert_int_equal(store_dump_mode_parse("FULL", &m), 0);
    assert_int_equal(m, STORE_DUMP_FULL);
    assert_int_equal(store_dump_mode_parse("metadata", &m), 0);
    assert_int_equal(m, STORE_DUMP_METADATA);
    assert_int_equal(store_dump_mode_parse("off", &m), 0);
    assert_string_equal(store_dump_mode_name(m), "off");
    assert_int_equal(store_dump_mode_parse("on", &m), -1);
    assert_int_equal(store_dump_mode_parse(NULL, &m), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_mode_names),
        cmocka_unit_test_setup(test_migrate_is_idempotent_and_complete, fresh_db),
        cmocka_unit_test_setup(test_migrate_missing_dir_is_an_error, fresh_db),
        cmocka_unit_test_setup(test_migrate_racing_replicas_apply_each_file_once, fresh_db),
        cmocka_unit_test_setup(test_maintain_creates_ahead_drops_old_and_logs, fresh_db),
        cmocka_unit_test_setup(test_maintain_skips_when_another_replica_holds_the_lock, fresh_db),
        cmocka_unit_test_setup(test_writer_full_mode_writes_every_table, fresh_db),
        cmocka_unit_test_setup(test_writer_metadata_and_off_modes_keep_no_payload, fresh_db),
        cmocka_unit_test_setup(test_writer_rate_limits_unauthorized_rows, fresh_db),
        cmocka_unit_test_setup(test_writer_drops_only_the_invalid_row, fresh_db),
        cmocka_unit_test_setup(test_writer_escapes_a_client_id_that_is_not_utf8, fresh_db),
        cmocka_unit_test(test_row_text_is_always_utf8),
        cmocka_unit_test_setup(test_spool_while_down_then_replay_in_order, fresh_db),
        cmocka_unit_test_setup(test_spool_survives_a_torn_last_line, fresh_db),
        cmocka_unit_test_setup(test_spool_full_is_counted_not_silent, fresh_db),
        cmocka_unit_test_setup(test_connection_lost_mid_run_spools_and_replays, fresh_db),
        cmocka_unit_test_setup(test_forget_deletes_user_everywhere_and_blocks_spooled_rows,
                               fresh_db),
        cmocka_unit_test_setup(test_pool_is_bounded, fresh_db),
    };

    if (!pgt_available())
        printf(PGT_SKIP_MSG);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
