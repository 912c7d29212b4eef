/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config table behaviour through a fake environment: defaults, every type,
 * one-line errors naming the variable and the form, required rows, secret
 * masking in errors and summaries, unused rows, and the Markdown table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct demo {
    char *bind;
    long port;
    bool db;
    double ratio;
    int level;
    char *password;
    char *legacy;
};

static const struct config_var table[] = {
    {"T_BIND", CONFIG_STRING, "0.0.0.0", 0, "listen address", offsetof(struct demo, bind), 0, 0,
     NULL, NULL},
    {"T_PORT", CONFIG_INT, "8082", 0, "service port", offsetof(struct demo, port), 0, 65535, NULL,
     NULL},
    {"T_DB", CONFIG_BOOL, "false", 0, "write to the database", offsetof(struct demo, db), 0, 0,
     NULL, NULL},
    {"T_RATIO", CONFIG_DOUBLE, "0.5", 0, "sampling ratio", offsetof(struct demo, ratio), 0, 1, NULL,
     NULL},
    {"T_LEVEL", CONFIG_ENUM, "info", 0, "log level", offsetof(struct demo, level), 0, 0,
     "debug|info|warn|error", NULL},
    {"T_PASSWORD", CONFIG_STRING, NULL, CONFIG_SECRET | CONFIG_REQUIRED, "database password",
     offsetof(struct demo, password), 0, 0, NULL, NULL},
    {"T_LEGACY", CONFIG_STRING, NULL, CONFIG_UNUSED, "kept for compatibility",
     offsetof(struct demo, legacy), 0, 0, NULL, NULL},
};
#define N (sizeof(table) / sizeof(table[0]))

/* fake environment: NULL-terminated name/value pairs */
static const char *fake_get(const char *name, void *arg)
{
    const char *const *env = arg;

    for (size_t i = 0; env[i]; i += 2)
        if (strcmp(env[i], name) == 0)
            return env[i + 1];
    return NULL;
}

static int load(const char *const *env, struct demo *d, char *err, size_t len)
{
    memset(d, 0, sizeof(*d));
    return config_load_with(table, N, d, fake_get, (void *)env, err, len);
}

static void test_defaults_and_values(void **state)
{
    const char *env[] = {"T_PASSWORD", "s3cret", NULL};
    const char *env2[] = {"T_PASSWORD", "x",       "T_PORT", "0",      "T_DB", "YES", "T_RATIO",
                          "1",          "T_LEVEL", "Error",  "T_BIND", "",     NULL};
    struct demo d;
    char err[256] = "";
    (void)state;

    assert_int_equal(load(env, &d, err, sizeof(err)), 0);
    assert_string_equal(d.bind, "0.0.0.0");
    assert_int_equal(d.port, 8082);
    assert_false(d.db);
    assert_true(d.ratio == 0.5);
    assert_int_equal(d.level, 1);
    assert_string_equal(d.password, "s3cret");
    assert_string_equal(d.legacy, "");
    config_free(table, N, &d);
    assert_null(d.bind);

    assert_int_equal(load(env2, &d, err, sizeof(err)), 0);
    assert_int_equal(d.port, 0);
    assert_true(d.db);
    assert_true(d.ratio == 1.0);
    assert_int_equal(d.level, 3);
    assert_string_equal(d.bind, "0.0.0.0"); /* empty = default */
    config_free(table, N, &d);
}

static void expect_error(const char *const *env, const char *want)
{
    struct demo d;
    char err[256] = "";

    assert_int_equal(load(env, &d, err, sizeof(err)), -1);
    assert_string_equal(err, want);
    config_free(table, N, &d);
}

static void test_invalid_values(void **state)
{
    (void)state;
    expect_error((const char *[]){"T_PASSWORD", "x", "T_PORT", "abc", NULL},
                 "T_PORT: expected an integer 0..65535, got 'abc'");
    expect_error((const char *[]){"T_PASSWORD", "x", "T_PORT", "70000", NULL},
                 "T_PORT: expected an integer 0..65535, got '70000'");
    expect_error((const char *[]){"T_PASSWORD", "x", "T_PORT", "80x", NULL},
                 "T_PORT: expected an integer 0..65535, got '80x'");
    expect_error((const char *[]){"T_PASSWORD", "x", "T_DB", "maybe", NULL},
                 "T_DB: expected true|false (or 1|0, yes|no, on|off), got 'maybe'");
    expect_error((const char *[]){"T_PASSWORD", "x", "T_RATIO", "2", NULL},
                 "T_RATIO: expected a number 0..1, got '2'");
    expect_error((const char *[]){"T_PASSWORD", "x", "T_LEVEL", "loud", NULL},
                 "T_LEVEL: expected one of debug|info|warn|error, got 'loud'");
}

static void test_missing_required(void **state)
{
    (void)state;
    expect_error((const char *[]){NULL}, "T_PASSWORD: required (database password), not set");
}

static void test_summary_masks_secrets(void **state)
{
    const char *env[] = {"T_PASSWORD", "hunter2", "T_BIND", "a b", NULL};
    struct demo d;
    char err[256], buf[512];
    json_error_t je;
    (void)state;

    assert_int_equal(load(env, &d, err, sizeof(err)), 0);
    config_summary(table, N, &d, buf, sizeof(buf));
    assert_null(strstr(buf, "hunter2"));
    assert_non_null(strstr(buf, "T_PASSWORD=***"));
    assert_non_null(strstr(buf, "T_BIND=\"a b\""));
    assert_non_null(strstr(buf, "T_PORT=8082"));
    assert_non_null(strstr(buf, "T_LEVEL=info"));

    char *json = config_summary_json(table, N, &d);
    assert_null(strstr(json, "hunter2"));
    json_t *o = json_loads(json, 0, &je);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "T_PASSWORD")), "***");
    assert_int_equal(json_integer_value(json_object_get(o, "T_PORT")), 8082);
    assert_true(json_is_false(json_object_get(o, "T_DB")));
    json_decref(o);
    free(json);

    /* a secret is not echoed in an error either */
    const struct config_var secret_int[] = {{"T_PIN", CONFIG_INT, "1", CONFIG_SECRET, "pin",
                                             offsetof(struct demo, port), 0, 9, NULL, NULL}};
    assert_int_equal(config_load_with(secret_int, 1, &d, fake_get,
                                      (void *)(const char *[]){"T_PIN", "12345", NULL}, err,
                                      sizeof(err)),
                     -1);
    assert_string_equal(err, "T_PIN: expected an integer 0..9, got '***'");
    config_free(table, N, &d);

    /* truncation */
    assert_int_equal(load(env, &d, err, sizeof(err)), 0);
    config_summary(table, N, &d, buf, 20);
    assert_int_equal(strlen(buf), 19);
    assert_string_equal(buf + 16, "...");
    config_free(table, N, &d);
}

static void test_unused_present(void **state)
{
    char buf[128];
    (void)state;

    unsetenv("T_LEGACY");
    assert_int_equal(config_unused_present(table, N, buf, sizeof(buf)), 0);
    setenv("T_LEGACY", "1", 1);
    assert_int_equal(config_unused_present(table, N, buf, sizeof(buf)), 1);
    assert_string_equal(buf, "T_LEGACY");
    unsetenv("T_LEGACY");
}

static void test_markdown(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    (void)state;

    assert_int_equal(config_write_markdown(table, N, "demo", out), 0);
    fclose(out);
    assert_non_null(strstr(text, "## demo\n"));
    assert_non_null(strstr(text, "| `T_PORT` | integer 0..65535 | `8082` |  | service port |"));
    assert_non_null(strstr(text, "| `T_LEVEL` | one of `debug|info|warn|error` | `info` |"));
    assert_non_null(strstr(text, "| `T_PASSWORD` | string | (empty) | required secret  |"));
    assert_non_null(strstr(text, "accepted, unused"));
    free(text);
}

static void test_real_environment(void **state)
{
    struct demo d = {0};
    char err[256];
    (void)state;

    setenv("T_PASSWORD", "p", 1);
    setenv("T_PORT", "9000", 1);
    assert_int_equal(config_load(table, N, &d, err, sizeof(err)), 0);
    assert_int_equal(d.port, 9000);
    config_free(table, N, &d);
    unsetenv("T_PASSWORD");
    unsetenv("T_PORT");
}

/* Rows several daemons share, read into the struct a daemon embeds, where the include stands. */
struct shared {
    long limit;
    char *key;
};
struct outer {
    long first;
    struct shared inner;
    long last;
};
static const struct config_var shared_rows[] = {
    {"S_LIMIT", CONFIG_INT, "7", 0, "a shared limit", offsetof(struct shared, limit), 1, 9, NULL,
     NULL},
    {"S_KEY", CONFIG_STRING, NULL, CONFIG_SECRET | CONFIG_UNUSED, "a shared secret",
     offsetof(struct shared, key), 0, 0, NULL, NULL},
    {NULL, CONFIG_STRING, NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
static const struct config_var outer_rows[] = {
    {"O_FIRST", CONFIG_INT, "1", 0, "first", offsetof(struct outer, first), 0, 0, NULL, NULL},
    CONFIG_INCLUDE(shared_rows, offsetof(struct outer, inner)),
    {"O_LAST", CONFIG_INT, "3", 0, "last", offsetof(struct outer, last), 0, 0, NULL, NULL},
};

static void test_included_rows(void **state)
{
    const char *env[] = {"S_LIMIT", "8", "S_KEY", "k3y", "O_LAST", "4", NULL};
    struct outer o = {0};
    char err[256], buf[256], *json, *md = NULL;
    size_t md_len = 0;
    FILE *f;
    (void)state;

    assert_int_equal(config_load_with(outer_rows, 3, &o, fake_get, (void *)env, err, sizeof(err)),
                     0);
    assert_int_equal(o.first, 1);
    assert_int_equal(o.inner.limit, 8);
    assert_string_equal(o.inner.key, "k3y");
    assert_int_equal(o.last, 4);
    assert_string_equal(config_summary(outer_rows, 3, &o, buf, sizeof(buf)),
                        "O_FIRST=1 S_LIMIT=8 S_KEY=*** O_LAST=4");
    json = config_summary_json(outer_rows, 3, &o);
    assert_string_equal(json, "{\"O_FIRST\":1,\"S_LIMIT\":8,\"S_KEY\":\"***\",\"O_LAST\":4}");
    free(json);
    f = open_memstream(&md, &md_len);
    assert_int_equal(config_write_markdown(outer_rows, 3, NULL, f), 0);
    fclose(f);
    assert_true(strstr(md, "`O_FIRST`") < strstr(md, "`S_LIMIT`"));
    assert_true(strstr(md, "`S_KEY`") < strstr(md, "`O_LAST`"));
    free(md);
    assert_ptr_equal(config_find(outer_rows, 3, "S_KEY"), &shared_rows[1]);
    assert_ptr_equal(config_find(outer_rows, 3, "O_LAST"), &outer_rows[2]);
    assert_null(config_find(outer_rows, 3, "NOPE"));
    config_free(outer_rows, 3, &o);
    assert_null(o.inner.key);
    /* an included row's bounds and name in errors */
    env[1] = "10";
    assert_int_equal(config_load_with(outer_rows, 3, &o, fake_get, (void *)env, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "S_LIMIT: expected an integer 1..9, got '10'");
    config_free(outer_rows, 3, &o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_values), cmocka_unit_test(test_invalid_values),
        cmocka_unit_test(test_missing_required),    cmocka_unit_test(test_summary_masks_secrets),
        cmocka_unit_test(test_unused_present),      cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_real_environment),    cmocka_unit_test(test_included_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
