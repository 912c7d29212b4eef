/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Log lines are parsed back with jansson from a pipe: each is one JSON
 * object with ts (ISO-8601 UTC, ms), level, msg, request_id when given and
 * typed fields; the threshold filters; long strings are capped; escaping
 * keeps the line valid; concurrent writers never split a line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/log.h"

#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int pipe_fd[2];

static int setup(void **state)
{
    (void)state;
    if (pipe2(pipe_fd, O_NONBLOCK) < 0)
        return -1;
    fcntl(pipe_fd[0], F_SETPIPE_SZ, 1 << 20);
    log_set_fd(pipe_fd[1]);
    log_set_level(LOG_LEVEL_INFO);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    log_set_fd(1);
    close(pipe_fd[0]);
    close(pipe_fd[1]);
    return 0;
}

/* Everything written so far. Caller frees. */
static char *drain(void)
{
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap + 1);
    ssize_t n;

    while ((n = read(pipe_fd[0], buf + len, cap - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    return buf;
}

static json_t *one_line(void)
{
    char *text = drain();
    json_error_t e;
    size_t len = strlen(text);

    assert_true(len > 0);
    assert_int_equal(text[len - 1], '\n');
    assert_null(memchr(text, '\n', len - 1)); /* exactly one line */
    json_t *obj = json_loads(text, 0, &e);
    if (!obj)
        fail_msg("not JSON: %s (%s)", text, e.text);
    free(text);
    return obj;
}

static void test_line_shape(void **state)
{
    (void)state;
    log_info("req-1", "listening", LOG_INT("port", 8082), LOG_STR("name", "a\"b\\c\n\x01"),
             LOG_BOOL("ok", true), LOG_DOUBLE("ms", 1.5), LOG_STR("none", NULL),
             LOG_JSON("cfg", "{\"A\":1}"));
    json_t *o = one_line();
    const char *ts = json_string_value(json_object_get(o, "ts"));

    assert_non_null(ts);
    /* 2026-11-22T19:17:20.123Z */
    assert_int_equal(strlen(ts), 24);
    assert_int_equal(ts[10], 'T');
    assert_int_equal(ts[19], '.');
    assert_int_equal(ts[23], 'Z');
    assert_string_equal(json_string_value(json_object_get(o, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(o, "msg")), "listening");
    assert_string_equal(json_string_value(json_object_get(o, "request_id")), "req-1");
    assert_int_equal(json_integer_value(json_object_get(o, "port")), 8082);
    assert_string_equal(json_string_value(json_object_get(o, "name")), "a\"b\\c\n\x01");
    assert_true(json_is_true(json_object_get(o, "ok")));
    assert_true(json_real_value(json_object_get(o, "ms")) == 1.5);
    assert_true(json_is_null(json_object_get(o, "none")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "cfg"), "A")), 1);
    json_decref(o);

    log_warn(NULL, "bare");
    o = one_line();
    assert_null(json_object_get(o, "request_id"));
    assert_string_equal(json_string_value(json_object_get(o, "level")), "warn");
    json_decref(o);
}

static void test_threshold(void **state)
{
    enum log_level lv;
    (void)state;

    log_debug(NULL, "hidden");
    char *text = drain();
    assert_string_equal(text, "");
    free(text);
    assert_int_equal(log_level_parse("DEBUG", &lv), 0);
    assert_int_equal(lv, LOG_LEVEL_DEBUG);
    assert_int_equal(log_level_parse("warning", &lv), 0);
    assert_int_equal(lv, LOG_LEVEL_WARN);
    assert_int_equal(log_level_parse("loud", &lv), -1);
    log_set_level(LOG_LEVEL_DEBUG);
    log_debug(NULL, "shown");
    json_t *o = one_line();
    assert_string_equal(json_string_value(json_object_get(o, "level")), "debug");
    json_decref(o);
    log_set_level(LOG_LEVEL_ERROR);
    log_warn(NULL, "hidden");
    text = drain();
    assert_string_equal(text, "");
    free(text);
    log_set_level(LOG_LEVEL_INFO);
}

static void test_long_strings_are_capped(void **state)
{
    char big[5000];
    (void)state;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_info(NULL, "cap", LOG_STR("value", big));
    json_t *o = one_line();
    const char *v = json_string_value(json_object_get(o, "value"));
    assert_int_equal(strlen(v), LOG_STR_MAX + 3);
    assert_string_equal(v + LOG_STR_MAX, "...");
    json_decref(o);
}

static void *writer(void *arg)
{
    for (int i = 0; i < 200; i++)
        log_info(NULL, "concurrent", LOG_INT("thread", (long long)(size_t)arg), LOG_INT("i", i));
    return NULL;
}

static void test_concurrent_lines_stay_whole(void **state)
{
    pthread_t t[4];
    (void)state;

    for (size_t i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, writer, (void *)i);
    for (size_t i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    char *text = drain();
    int lines = 0;
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1, lines++) {
        json_t *o = json_loadb(line, (size_t)(nl - line), 0, NULL);
        assert_non_null(o);
        json_decref(o);
    }
    assert_int_equal(lines, 800);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_strings_are_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_lines_stay_whole, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
