/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pins the shared 422 detail lists: item layout and key order (clients and
 * the daemons' tests compare bytes), the cap, every loc shape, pydantic's
 * string_too_long wording, and that a JSON syntax error is reported by kind
 * and offset without any text of the body.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/validation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compact JSON of v, compared as text and freed. */
static void assert_json(const json_t *v, const char *want)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

    assert_non_null(text);
    if (strcmp(text, want) != 0)
        fail_msg("got %s, want %s", text, want);
    free(text);
}

static void test_item_layout(void **state)
{
    struct validation v;

    (void)state;
    validation_init(&v, 10);
    validation_add(&v, "missing", validation_loc("user_id", -1, NULL), "Field required", NULL,
                   NULL);
    validation_add(&v, "model_type", validation_loc("sms", 2, NULL), "Input should be a dict",
                   json_integer(7), json_pack("{s:s}", "class_name", "Sms"));
    assert_json(v.list, "[{\"type\":\"missing\",\"loc\":[\"body\",\"user_id\"],"
                        "\"msg\":\"Field required\",\"input\":null},"
                        "{\"type\":\"model_type\",\"loc\":[\"body\",\"sms\",2],"
                        "\"msg\":\"Input should be a dict\",\"input\":7,"
                        "\"ctx\":{\"class_name\":\"Sms\"}}]");
    json_decref(v.list);
}

static void test_cap(void **state)
{
    struct validation v;

    (void)state;
    validation_init(&v, 3);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(validation_full(&v), i >= 3);
        /* past the cap the owned arguments are freed (ASan/valgrind would report a leak) */
        validation_add(&v, "string_type", validation_loc("sms", i, "sms_id"), "m", json_string("x"),
                       json_object());
    }
    assert_int_equal(json_array_size(v.list), 3);
    assert_true(validation_full(&v));
    json_decref(v.list);
}

static void test_loc_shapes(void **state)
{
    json_t *loc;

    (void)state;
    loc = validation_loc(NULL, 4, "ignored");
    assert_json(loc, "[\"body\"]");
    json_decref(loc);
    loc = validation_loc("client_id", -1, NULL);
    assert_json(loc, "[\"body\",\"client_id\"]");
    json_decref(loc);
    loc = validation_loc("sms_data", 0, NULL);
    assert_json(loc, "[\"body\",\"sms_data\",0]");
    json_decref(loc);
    loc = validation_loc("device_data", -1, "model");
    assert_json(loc, "[\"body\",\"device_data\",\"model\"]");
    json_decref(loc);
    loc = validation_loc("sms", 12, "sms_body");
    assert_json(loc, "[\"body\",\"sms\",12,\"sms_body\"]");
    json_decref(loc);
}

static void test_string_too_long(void **state)
{
    struct validation v;

    (void)state;
    validation_init(&v, 5);
    validation_add_string_too_long(&v, validation_loc("user_id", -1, NULL), json_string("abc"), 2);
    assert_json(v.list, "[{\"type\":\"string_too_long\",\"loc\":[\"body\",\"user_id\"],"
                        "\"msg\":\"String should have at most 2 characters\",\"input\":\"abc\","
                        "\"ctx\":{\"max_length\":2}}]");
    json_decref(v.list);
}

static void test_utf8_chars(void **state)
{
    (void)state;
    assert_int_equal(validation_utf8_chars("", 0), 0);
    assert_int_equal(validation_utf8_chars("abc", 3), 3);
    /* é (2 bytes), € (3 bytes), 😀 (4 bytes): one character each */
    assert_int_equal(validation_utf8_chars("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9), 3);
}

static void test_redaction_helpers(void **state)
{
    static const char *const known[] = {"sms_id", "sms_sender", NULL};
    json_t *r = validation_redacted();

    (void)state;
    assert_string_equal(json_string_value(r), VALIDATION_REDACTED);
    assert_string_equal(VALIDATION_REDACTED, "[redacted]");
    json_decref(r);
    assert_true(validation_key_in("sms_id", known));
    assert_true(validation_key_in("sms_sender", known));
    assert_false(validation_key_in("sms_body", known));
    assert_false(validation_key_in("sms", known));
}

/* Body must fail to parse into one json_invalid item at jansson's offset naming kind;
 * nothing of the body (the word "secret" in each) may appear in the item. */
static void check_json_invalid(const char *body, size_t len, const char *kind)
{
    struct validation v;
    json_error_t jerr;
    json_t *root = validation_load_body(body, len, &jerr);
    char want[256];
    char *text;

    assert_null(root);
    validation_init(&v, 5);
    validation_add_json_invalid(&v, &jerr);
    snprintf(want, sizeof(want),
             "[{\"type\":\"json_invalid\",\"loc\":[\"body\",%d],\"msg\":\"JSON decode "
             "error\",\"input\":{},\"ctx\":{\"error\":\"%s\"}}]",
             jerr.position, kind);
    assert_json(v.list, want);
    text = json_dumps(v.list, JSON_COMPACT);
    assert_null(strstr(text, "secret"));
    free(text);
    json_decref(v.list);
}

static void test_json_invalid(void **state)
{
    (void)state;
    check_json_invalid("{\"sms_body\": \"secret", 20, "unexpected end of input");
    check_json_invalid("{\"a\": secret}", 13, "invalid JSON syntax");
    check_json_invalid("{\"a\": \"secret\xff\"}", 16, "invalid UTF-8");
    check_json_invalid("{\"a\": \"secret\\u0000\"}", 21, "NUL characters are not allowed");
}

static void test_load_body(void **state)
{
    static const char big[] = "{\"client_id\": 123456789012345678901234567890}";
    json_error_t jerr;
    json_t *root;

    (void)state;
    /* any JSON value, not only objects */
    root = validation_load_body("[1]", 3, &jerr);
    assert_true(json_is_array(root));
    json_decref(root);
    /* an integer too large for jansson is kept, as a real */
    root = validation_load_body(big, strlen(big), &jerr);
    assert_non_null(root);
    assert_true(json_is_real(json_object_get(root, "client_id")));
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item_layout),  cmocka_unit_test(test_cap),
        cmocka_unit_test(test_loc_shapes),   cmocka_unit_test(test_string_too_long),
        cmocka_unit_test(test_utf8_chars),   cmocka_unit_test(test_redaction_helpers),
        cmocka_unit_test(test_json_invalid), cmocka_unit_test(test_load_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
