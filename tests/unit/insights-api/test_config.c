/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The insights-api configuration table (config.c): every variable of the
 * Credeau guide's Insights API table has a row (used or accepted-unused,
 * never silently dropped), the pickled-model rows are marked unused so the
 * daemon warns, the defaults are the documented ones, prod refuses to run
 * without a database, cross-checks name the variable, and the MongoDB URI is
 * built with the credentials percent-encoded (or taken whole from
 * DI_MONGODB_URI). The licence key is only ever shown masked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "insights-api/config.h"

/* The guide's table (/work/shared/seeds/000_*, credeau.md §7.1), in its order. */
static const char *const guide[] = {
    "CLIENT_ID",
    "LAUNCH_ENVIRONMENT",
    "DI_POSTGRES_USERNAME",
    "DI_POSTGRES_PASSWORD",
    "DI_POSTGRES_HOST",
    "DI_POSTGRES_PORT",
    "DI_POSTGRES_DATABASE",
    "DI_POSTGRES_SYNC_DATABASE",
    "SMS_EXTRACTOR_SERVICE_URL",
    "SMS_EXTRACTOR_BATCH_SIZE",
    "DI_MONGODB_USERNAME",
    "DI_MONGODB_PASSWORD",
    "DI_MONGODB_HOST",
    "DI_MONGODB_PORT",
    "DI_MONGODB_DATABASE",
    "DI_MONGODB_ENABLED_SOURCES",
    "DI_MONGODB_MAX_POOL_SIZE",
    "DI_MONGODB_MIN_POOL_SIZE",
    "DI_MONGODB_SERVER_SELECTION_TIMEOUT_MS",
    "DI_MONGODB_CONNECT_TIMEOUT_MS",
    "DI_MONGODB_SOCKET_TIMEOUT_MS",
    "DI_MONGODB_RETRY_WRITES",
    "DI_MONGODB_WAIT_QUEUE_TIMEOUT_MS",
    "LICENSE_KEY",
    "SUBSCRIPTION_ID",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "APPS_MAPPING_PATH",
    "FRAUD_APPS_MAPPING_PATH",
    "AVG_DEVICE_MAPPING_PATH",
    "DEVICE_MAPPING_PATH",
    "MERCHANT_MAPPING_PATH",
    "SMS_MAPPING_PATH",
    "SMS_MAPPING_V2_PATH",
    "COMPANY_MODEL_PATH",
    "COMPANY_VECTORIZER_PATH",
    "COUNT_VECTORIZER_PATH",
    "LABEL_MODEL_PATH",
    "LR_MODEL_PATH",
    "MERCHANT_LABEL_V2_PATH",
    "MERCHANT_LABEL_PATH",
    "MERCHANT_MODEL_V2_PATH",
    "MERCHANT_MODEL_PATH",
    "MERCHANT_VECTORIZER_V2_PATH",
    "MERCHANT_VECTORIZER_PATH",
    "LGB_SCORE_MODEL_PATH",
    "PAYDAY_SCORE_LGB_MODEL_PATH",
    "PAYDAY_SCORE_LGB_MODEL_V2_PATH",
    "PAYDAY_SCORE_LGB_MODEL_V3_PATH",
    "PREDICTORS_SCORE_LGB_MODEL_PATH",
    "PREDICTORS_PAYDAY_SCORE_LGB_MODEL_PATH",
    "PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V2_PATH",
    "PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V3_PATH",
    "EMI_LGB_MODEL_V2_PATH",
    "PREDICTORS_EMI_LGB_MODEL_V2_PATH",
};

/* A tiny environment: NAME=value strings. */
struct env {
    const char *const *kv;
    size_t n;
};

static const char *env_get(const char *name, void *arg)
{
    const struct env *e = arg;
    size_t len = strlen(name);

    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->kv[i], name, len) == 0 && e->kv[i][len] == '=')
            return e->kv[i] + len + 1;
    return NULL;
}

static int load(struct ins_config *cfg, const char *const *kv, size_t n, char *err, size_t len)
{
    struct env e = {kv, n};

    memset(cfg, 0, sizeof(*cfg));
    return ins_config_load_with(cfg, env_get, &e, err, len);
}

static const struct config_var *row(const char *name)
{
    return config_find(ins_config_table, ins_config_table_len, name);
}

static void test_every_guide_variable_has_a_row(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(guide) / sizeof(guide[0]); i++) {
        const struct config_var *r = row(guide[i]);

        if (!r)
            fail_msg("guide variable %s has no row", guide[i]);
        assert_non_null(r->doc);
        assert_true(strlen(r->doc) > 10);
    }
    /* Pickled models: accepted but unused; secrets are masked. */
    assert_true(row("COMPANY_MODEL_PATH")->flags & CONFIG_UNUSED);
    assert_true(row("MERCHANT_VECTORIZER_V2_PATH")->flags & CONFIG_UNUSED);
    assert_false(row("LGB_SCORE_MODEL_PATH")->flags & CONFIG_UNUSED); /* scores (issue 6) */
    assert_true(row("DI_POSTGRES_SYNC_DATABASE")->flags & CONFIG_UNUSED);
    assert_false(row("APPS_MAPPING_PATH")->flags & CONFIG_UNUSED);
    assert_true(row("LICENSE_KEY")->flags & CONFIG_SECRET);
    assert_true(row("DI_POSTGRES_PASSWORD")->flags & CONFIG_SECRET);
    assert_true(row("DI_MONGODB_PASSWORD")->flags & CONFIG_SECRET);
    assert_true(row("DI_MONGODB_URI")->flags & CONFIG_SECRET);
    assert_true(row("TOKEN_PEPPER")->flags & CONFIG_SECRET);
}

static void test_defaults(void **state)
{
    struct ins_config cfg;
    char err[256];

    (void)state;
    assert_int_equal(load(&cfg, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(cfg.http_port, 8000);
    assert_int_equal(cfg.admin_port, 9000);
    assert_int_equal(cfg.rate_limit_per_minute, 1000);
    assert_int_equal(cfg.extractor_batch_size, 1000);
    assert_int_equal(cfg.mongo_max_pool, 40);
    assert_int_equal(cfg.mongo_min_pool, 2);
    assert_int_equal(cfg.mongo_wait_queue_timeout_ms, 5000);
    assert_true(cfg.mongo_retry_writes);
    assert_int_equal(cfg.dump_mode, INS_DUMP_METADATA);
    assert_false(cfg.extraction_strict);
    assert_string_equal(cfg.pg_database, "api_insights_db");
    assert_string_equal(cfg.mongo_database, "sync_db");
    assert_false(ins_config_has_db(&cfg));
    assert_false(ins_config_has_mongo(&cfg));
    assert_false(daemon_is_prod(&cfg.service));
    assert_string_equal(cfg.artifacts[INS_ART_APPS_MAPPING],
                        "insights-api/artifacts/apps_mapping.json");
    assert_string_equal(cfg.artifacts[INS_ART_SMS_MAPPING_V2], "");
    ins_config_free(&cfg);
}

static void test_prod_needs_database(void **state)
{
    static const char *const no_db[] = {"LAUNCH_ENVIRONMENT=prod"};
    static const char *const db[] = {"LAUNCH_ENVIRONMENT=Production", "DI_POSTGRES_HOST=db",
                                     "TOKEN_PEPPER=9f3c1a7e5b2d4f60a8c7e1b3d5f70923",
                                     "USER_KEY_SECRET=4be0c29d71a8f356e0d9b2c7a1f48e63"};
    struct ins_config cfg;
    char err[256];

    (void)state;
    assert_int_equal(load(&cfg, no_db, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "DI_POSTGRES_HOST"));
    ins_config_free(&cfg);
    assert_int_equal(load(&cfg, db, 4, err, sizeof(err)), 0);
    assert_true(daemon_is_prod(&cfg.service));
    ins_config_free(&cfg);
}

/*
 * Prod refuses the base Secret's placeholders and weak keys, naming the variable and never
 * echoing the value; the same values are accepted outside prod (dev keeps working).
 */
static void test_prod_refuses_placeholder_secrets(void **state)
{
    static const char *const cases[][2] = {
        {"TOKEN_PEPPER=change-me", "TOKEN_PEPPER"},
        {"TOKEN_PEPPER=short-but-random-9f3c", "TOKEN_PEPPER"},
        {"TOKEN_PEPPER=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "TOKEN_PEPPER"},
        {"DI_POSTGRES_PASSWORD=change-me", "DI_POSTGRES_PASSWORD"},
        {"DI_MONGODB_PASSWORD=your_secure_password", "DI_MONGODB_PASSWORD"},
        {"LICENSE_KEY=<product activation license key shared by Credeau>", "LICENSE_KEY"},
        {"ARTIFACT_KEYS=prod:0000000000000000000000000000000000000000000000000000000000000000",
         "ARTIFACT_KEYS"},
        {"AWS_SECRET_ACCESS_KEY=CHANGEME", "AWS_SECRET_ACCESS_KEY"},
        {"USER_KEY_SECRET=change-me", "USER_KEY_SECRET"},
        {"USER_KEY_SECRET=short-but-random-9f3c", "USER_KEY_SECRET"},
    };
    static const char good_user_key[] = "USER_KEY_SECRET=4be0c29d71a8f356e0d9b2c7a1f48e63";
    const char *env[5] = {"LAUNCH_ENVIRONMENT=prod", "DI_POSTGRES_HOST=db",
                          "TOKEN_PEPPER=9f3c1a7e5b2d4f60a8c7e1b3d5f70923", NULL, good_user_key};
    struct ins_config cfg;
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *secret = strchr(cases[i][0], '=') + 1;

        env[3] = cases[i][0];
        env[2] = strncmp(cases[i][0], "TOKEN_PEPPER=", 13) == 0
                     ? cases[i][0]
                     : "TOKEN_PEPPER=9f3c1a7e5b2d4f60a8c7e1b3d5f70923";
        env[4] = strncmp(cases[i][0], "USER_KEY_SECRET=", 16) == 0 ? cases[i][0] : good_user_key;
        assert_int_equal(load(&cfg, env, 5, err, sizeof(err)), -1);
        if (!strstr(err, cases[i][1]))
            fail_msg("case %zu: error '%s' does not name %s", i, err, cases[i][1]);
        if (strstr(err, secret))
            fail_msg("case %zu: error echoes the secret: %s", i, err);
        ins_config_free(&cfg);
        env[0] = "LAUNCH_ENVIRONMENT=dev"; /* the same value passes outside prod */
        assert_int_equal(load(&cfg, env, 5, err, sizeof(err)), 0);
        ins_config_free(&cfg);
        env[0] = "LAUNCH_ENVIRONMENT=prod";
    }
    env[2] = NULL; /* no pepper at all */
    env[3] = "DI_POSTGRES_PASSWORD=kq3-Vt8r!zP";
    assert_int_equal(load(&cfg, (const char *[]){env[0], env[1], env[3]}, 3, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "TOKEN_PEPPER: required"));
    ins_config_free(&cfg);
    /* no user key: prediction_log and outcomes would hold a hash anyone can recompute */
    assert_int_equal(
        load(&cfg,
             (const char *[]){env[0], env[1], "TOKEN_PEPPER=9f3c1a7e5b2d4f60a8c7e1b3d5f70923"}, 3,
             err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "USER_KEY_SECRET: required"));
    ins_config_free(&cfg);
}

static void test_cross_checks(void **state)
{
    static const char *const cases[][2] = {
        {"DI_POSTGRES_SSLMODE=sometimes", "DI_POSTGRES_SSLMODE"},
        {"DI_MONGODB_ENABLED_SOURCES=sms,calls", "DI_MONGODB_ENABLED_SOURCES"},
        {"SMS_EXTRACTOR_SERVICE_URL=ftp://x", "SMS_EXTRACTOR_SERVICE_URL"},
        {"DUMP_MODE=everything", "DUMP_MODE"},
        {"HTTP_PORT=9000", "ADMIN_PORT"},
        {"RATE_LIMIT_PER_MINUTE=-1", "RATE_LIMIT_PER_MINUTE"},
        {"DI_MONGODB_MIN_POOL_SIZE=50", "DI_MONGODB_MIN_POOL_SIZE"},
    };
    struct ins_config cfg;
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(load(&cfg, &cases[i][0], 1, err, sizeof(err)), -1);
        if (!strstr(err, cases[i][1]))
            fail_msg("'%s': error '%s' does not name %s", cases[i][0], err, cases[i][1]);
        ins_config_free(&cfg);
    }
}

/* The evidence gates' defaults, and the test clock: parsed, off by default, refused in prod. */
static void test_gates_and_test_clock(void **state)
{
    static const char *const clock_ist[] = {"TEST_CLOCK=2026-11-01 00:00:00"};
    static const char *const clock_epoch[] = {"TEST_CLOCK=1793471400"};
    static const char *const clock_bad[] = {"TEST_CLOCK=the first of November"};
    static const char *const clock_prod[] = {"TEST_CLOCK=1793471400", "LAUNCH_ENVIRONMENT=prod",
                                             "DI_POSTGRES_HOST=db"};
    struct ins_config cfg;
    char err[256];

    (void)state;
    assert_int_equal(load(&cfg, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(cfg.score_min_sms_count, 50);
    assert_int_equal(cfg.score_min_history_days, 30);
    assert_int_equal(cfg.score_max_data_recency_days, 30);
    assert_int_equal(cfg.test_clock_s, 0);
    assert_true(ins_config_now(&cfg) > 1.7e9); /* the wall clock */
    ins_config_free(&cfg);
    assert_int_equal(load(&cfg, clock_ist, 1, err, sizeof(err)), 0);
    assert_int_equal(cfg.test_clock_s, 1793471400);
    assert_true(ins_config_now(&cfg) == 1793471400.0);
    ins_config_free(&cfg);
    assert_int_equal(load(&cfg, clock_epoch, 1, err, sizeof(err)), 0);
    assert_int_equal(cfg.test_clock_s, 1793471400);
    ins_config_free(&cfg);
    assert_int_equal(load(&cfg, clock_bad, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "TEST_CLOCK: expected"));
    ins_config_free(&cfg);
    assert_int_equal(load(&cfg, clock_prod, 3, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "TEST_CLOCK: a test-only setting"));
    ins_config_free(&cfg);
}

static void test_unused_listed(void **state)
{
    static const char *const kv[] = {"COMPANY_MODEL_PATH=s3://b/k.pkl.enc",
                                     "LR_MODEL_PATH=s3://b/lr.pickle.enc"};
    struct env e = {kv, 2};
    struct ins_config cfg;
    char err[256], buf[512];
    size_t n;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    assert_int_equal(ins_config_load_with(&cfg, env_get, &e, err, sizeof(err)), 0);
    /* config_unused_present reads the real environment: set the two there too. */
    setenv("COMPANY_MODEL_PATH", "s3://b/k.pkl.enc", 1);
    setenv("LR_MODEL_PATH", "s3://b/lr.pickle.enc", 1);
    n = config_unused_present(ins_config_table, ins_config_table_len, buf, sizeof(buf));
    unsetenv("COMPANY_MODEL_PATH");
    unsetenv("LR_MODEL_PATH");
    assert_int_equal(n, 2);
    assert_non_null(strstr(buf, "COMPANY_MODEL_PATH"));
    assert_non_null(strstr(buf, "LR_MODEL_PATH"));
    ins_config_free(&cfg);
}

static void test_mongo_uri(void **state)
{
    static const char *const parts[] = {"DI_MONGODB_HOST=mongo.local", "DI_MONGODB_USERNAME=us@r",
                                        "DI_MONGODB_PASSWORD=p:ss/w%rd",
                                        "DI_MONGODB_MAX_POOL_SIZE=7"};
    static const char *const full[] = {"DI_MONGODB_URI=mongodb://a,b/?tls=true",
                                       "DI_MONGODB_HOST=ignored"};
    struct ins_config cfg;
    char err[256], *uri;

    (void)state;
    assert_int_equal(load(&cfg, parts, 4, err, sizeof(err)), 0);
    assert_true(ins_config_has_mongo(&cfg));
    uri = ins_config_mongo_uri(&cfg);
    assert_non_null(uri);
    assert_non_null(strstr(uri, "mongodb://us%40r:p%3Ass%2Fw%25rd@mongo.local:27017/sync_db?"));
    assert_non_null(strstr(uri, "maxPoolSize=7"));
    assert_non_null(strstr(uri, "waitQueueTimeoutMS=5000"));
    free(uri);
    ins_config_free(&cfg);

    assert_int_equal(load(&cfg, full, 2, err, sizeof(err)), 0);
    uri = ins_config_mongo_uri(&cfg);
    assert_string_equal(uri, "mongodb://a,b/?tls=true");
    free(uri);
    ins_config_free(&cfg);
}

static void test_license_masked(void **state)
{
    static const char *const kv[] = {"LICENSE_KEY=ABCD-1234-hidden-5678"};
    static const char *const short_key[] = {"LICENSE_KEY=short"};
    struct ins_config cfg;
    char err[256], buf[64], summary[16384];

    (void)state;
    assert_int_equal(load(&cfg, kv, 1, err, sizeof(err)), 0);
    ins_config_license_masked(&cfg, buf, sizeof(buf));
    assert_string_equal(buf, "ABCD****");
    config_summary(ins_config_table, ins_config_table_len, &cfg, summary, sizeof(summary));
    assert_null(strstr(summary, "hidden"));
    ins_config_free(&cfg);
    assert_int_equal(load(&cfg, short_key, 1, err, sizeof(err)), 0);
    ins_config_license_masked(&cfg, buf, sizeof(buf));
    assert_string_equal(buf, "****");
    ins_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_guide_variable_has_a_row),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_prod_needs_database),
        cmocka_unit_test(test_prod_refuses_placeholder_secrets),
        cmocka_unit_test(test_cross_checks),
        cmocka_unit_test(test_gates_and_test_clock),
        cmocka_unit_test(test_unused_listed),
        cmocka_unit_test(test_mongo_uri),
        cmocka_unit_test(test_license_masked),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
