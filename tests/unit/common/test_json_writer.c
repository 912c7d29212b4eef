/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The writer's output must always be valid JSON that round-trips: escaping
 * of quotes, backslashes and every control character, UTF-8 passed through,
 * invalid UTF-8 replaced, commas placed by the writer, misuse and the size
 * cap reported, numbers exact. jansson is the independent judge.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/json_writer.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static json_t *parse(struct json_writer *w)
{
    size_t len;
    const char *text = json_writer_data(w, &len);
    json_error_t e;
    json_t *v;

    assert_true(json_writer_ok(w));
    assert_int_equal(strlen(text), len);
    v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v)
        fail_msg("invalid JSON '%s': %s", text, e.text);
    return v;
}

static void test_structure(void **state)
{
    struct json_writer w;
    (void)state;

    json_writer_init(&w, 0);
    json_writer_object_begin(&w);
    json_writer_kv_string(&w, "a", "x");
    json_writer_kv_int(&w, "b", -42);
    json_writer_kv_bool(&w, "c", false);
    json_writer_kv_null(&w, "d");
    json_writer_key(&w, "e");
    json_writer_array_begin(&w);
    json_writer_uint(&w, 18446744073709551615ull);
    json_writer_string(&w, NULL);
    json_writer_object_begin(&w);
    json_writer_object_end(&w);
    json_writer_array_begin(&w);
    json_writer_array_end(&w);
    json_writer_array_end(&w);
    json_writer_key(&w, "f");
    json_writer_raw(&w, "{\"r\":1}", 7);
    json_writer_object_end(&w);
    assert_string_equal(json_writer_data(&w, NULL),
                        "{\"a\":\"x\",\"b\":-42,\"c\":false,\"d\":null,"
                        "\"e\":[18446744073709551615,null,{},[]],\"f\":{\"r\":1}}");
    json_writer_free(&w);
}

static void test_escaping(void **state)
{
    struct json_writer w;
    char all_controls[33];
    (void)state;

    for (int i = 1; i < 32; i++)
        all_controls[i - 1] = (char)i;
    all_controls[31] = '"';
    all_controls[32] = '\0';
    json_writer_init(&w, 0);
    json_writer_array_begin(&w);
    json_writer_string(&w, all_controls);
    json_writer_string(&w, "back\\slash \"quoted\" /");
    json_writer_string_len(&w, "nul\0inside", 10);
    json_writer_array_end(&w);
    json_t *v = parse(&w);
    assert_string_equal(json_string_value(json_array_get(v, 0)), all_controls);
    assert_string_equal(json_string_value(json_array_get(v, 1)), "back\\slash \"quoted\" /");
    assert_int_equal(json_string_length(json_array_get(v, 2)), 10);
    assert_memory_equal(json_string_value(json_array_get(v, 2)), "nul\0inside", 10);
    json_decref(v);
    /* short escapes where JSON has them */
    json_writer_reset(&w);
    json_writer_string(&w, "\n\t\r\b\f\x01");
    assert_string_equal(json_writer_data(&w, NULL), "\"\\n\\t\\r\\b\\f\\u0001\"");
    json_writer_free(&w);
}

static void test_utf8(void **state)
{
    struct json_writer w;
    const char *good = "\u20b9 500 debited \u0930\u0941\u092a\u092f\u0947 \U0001F600";
    (void)state;

    json_writer_init(&w, 0);
    json_writer_string(&w, good);
    /* passed through byte for byte, not \u-escaped */
    assert_int_equal(json_writer_data(&w, NULL)[1], good[0]);
    json_t *v = parse(&w);
    assert_string_equal(json_string_value(v), good);
    json_decref(v);

    /* invalid: lone continuation, truncated sequence, overlong, surrogate */
    json_writer_reset(&w);
    json_writer_string(&w, "a\x80"
                           "b\xe2\x82"
                           "c\xc0\xaf"
                           "d\xed\xa0\x80");
    v = parse(&w);
    const char *s = json_string_value(v);
    assert_non_null(strstr(s, "\xef\xbf\xbd")); /* U+FFFD */
    assert_int_equal(s[0], 'a');
    json_decref(v);
    json_writer_free(&w);
}

static void test_numbers(void **state)
{
    struct json_writer w;
    const double values[] = {0.1, -2.5e-10, 123456789.125, 1e300, 3.0};
    (void)state;

    json_writer_init(&w, 0);
    json_writer_array_begin(&w);
    for (size_t i = 0; i < 5; i++)
        json_writer_double(&w, values[i]);
    json_writer_double(&w, NAN);
    json_writer_double(&w, INFINITY);
    json_writer_int(&w, -9223372036854775807LL - 1);
    json_writer_array_end(&w);
    json_t *v = parse(&w);
    for (size_t i = 0; i < 5; i++)
        assert_true(json_number_value(json_array_get(v, i)) == values[i]);
    assert_true(json_is_null(json_array_get(v, 5)));
    assert_true(json_is_null(json_array_get(v, 6)));
    assert_true(json_integer_value(json_array_get(v, 7)) == INT64_MIN);
    json_decref(v);
    json_writer_free(&w);
}

static void test_misuse_is_sticky(void **state)
{
    struct json_writer w;
    (void)state;

    json_writer_init(&w, 0);
    json_writer_object_begin(&w);
    json_writer_int(&w, 1); /* value without key */
    assert_int_equal(json_writer_status(&w), JSON_WRITER_MISUSE);
    json_writer_object_end(&w);
    assert_false(json_writer_ok(&w));

    json_writer_reset(&w);
    json_writer_array_begin(&w);
    json_writer_object_end(&w); /* wrong closer */
    assert_int_equal(json_writer_status(&w), JSON_WRITER_MISUSE);

    json_writer_reset(&w);
    json_writer_array_begin(&w);
    assert_false(json_writer_ok(&w)); /* unclosed */

    json_writer_reset(&w);
    for (int i = 0; i <= JSON_WRITER_MAX_DEPTH; i++)
        json_writer_array_begin(&w);
    assert_int_equal(json_writer_status(&w), JSON_WRITER_MISUSE);

    json_writer_reset(&w);
    json_writer_int(&w, 1);
    json_writer_int(&w, 2); /* two top-level values */
    assert_int_equal(json_writer_status(&w), JSON_WRITER_MISUSE);
    json_writer_free(&w);
}

static void test_cap_and_take(void **state)
{
    struct json_writer w;
    char big[100];
    size_t len;
    (void)state;

    memset(big, 'y', sizeof(big) - 1);
    big[99] = '\0';
    json_writer_init(&w, 64);
    json_writer_array_begin(&w);
    json_writer_string(&w, big);
    json_writer_array_end(&w);
    assert_int_equal(json_writer_status(&w), JSON_WRITER_TOO_LARGE);
    assert_true(json_writer_data(&w, &len) != NULL);
    assert_true(len <= 64);

    json_writer_reset(&w);
    json_writer_string(&w, "ok");
    char *out = json_writer_take(&w, &len);
    assert_string_equal(out, "\"ok\"");
    assert_int_equal(len, 4);
    free(out);
    assert_string_equal(json_writer_data(&w, &len), "");
    assert_int_equal(len, 0);
    /* grows past the initial allocation */
    json_writer_free(&w);
    json_writer_init(&w, 0);
    json_writer_array_begin(&w);
    for (int i = 0; i < 5000; i++)
        json_writer_string(&w, "abcdefgh");
    json_writer_array_end(&w);
    json_t *v = parse(&w);
    assert_int_equal(json_array_size(v), 5000);
    json_decref(v);
    json_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_misuse_is_sticky),
        cmocka_unit_test(test_cap_and_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
