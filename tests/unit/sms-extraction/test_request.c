/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pins the request parser's contract: every validation path gives the
 * pydantic-v2 item a client of the Python service expects (type, loc, msg,
 * input), all problems are reported together, dates come out in India time,
 * and no detail ever carries an SMS body (each failing case plants a marker
 * in a body and checks the serialised detail does not contain it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sms-extraction/request.h"

#define MARK "BODYMARK7f3a"

static struct request req;

static int setup(void **state)
{
    (void)state;
    request_init(&req);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    request_free(&req);
    return 0;
}

/* The fast path and the jansson path must agree on every accepted request. */
static void assert_same_as_json_path(const char *text, size_t len, size_t max_sms, int rc)
{
    struct request slow;
    json_t *detail = NULL;
    int rc_slow;

    request_init(&slow);
    rc_slow = request_parse_json(&slow, text, len, max_sms, "hreq-id", &detail);
    json_decref(detail);
    assert_int_equal(rc, rc_slow);
    if (rc == 0) {
        assert_string_equal(req.client_id, slow.client_id);
        assert_string_equal(req.user_id, slow.user_id);
        assert_string_equal(req.request_id, slow.request_id);
        assert_int_equal(req.sms_count, slow.sms_count);
        for (size_t i = 0; i < req.sms_count; i++) {
            const struct request_sms *a = &req.sms[i], *b = &slow.sms[i];

            assert_string_equal(a->sms_id, b->sms_id);
            assert_int_equal(a->sender == NULL, b->sender == NULL);
            assert_int_equal(a->sender_len, b->sender_len);
            if (a->sender)
                assert_memory_equal(a->sender, b->sender, a->sender_len);
            assert_int_equal(a->body_len, b->body_len);
            assert_memory_equal(a->body, b->body, a->body_len);
            assert_string_equal(a->inbox_date, b->inbox_date);
        }
    }
    request_free(&slow);
}

/* Parses text; returns the detail (or NULL on success) after the privacy check. */
static json_t *parse_max(const char *text, size_t len, size_t max_sms)
{
    json_t *detail = NULL;
    int rc = request_parse(&req, text, len, max_sms, "hreq-id", &detail);

    assert_same_as_json_path(text, len, max_sms, rc);
    if (rc == 0) {
        assert_null(detail);
        return NULL;
    }
    assert_non_null(detail);
    assert_true(json_array_size(detail) > 0);
    char *dump = json_dumps(detail, JSON_COMPACT);
    assert_non_null(dump);
    assert_null(strstr(dump, MARK));
    free(dump);
    return detail;
}

static json_t *parse(const char *text)
{
    return parse_max(text, strlen(text), 1000);
}

static const char *item_str(json_t *detail, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(detail, i), key));
}

/* The item's loc as compact JSON text, e.g. ["body","sms",0,"sms_id"]. */
static void assert_loc(json_t *detail, size_t i, const char *want)
{
    char *loc = json_dumps(json_object_get(json_array_get(detail, i), "loc"), JSON_COMPACT);

    assert_string_equal(loc, want);
    free(loc);
}

/* json_invalid: loc is ["body", <byte offset>], input {} (nothing of the body). */
static void assert_json_position(json_t *detail)
{
    json_t *item = json_array_get(detail, 0);
    json_t *loc = json_object_get(item, "loc");

    assert_int_equal(json_array_size(detail), 1);
    assert_int_equal(json_array_size(loc), 2);
    assert_string_equal(json_string_value(json_array_get(loc, 0)), "body");
    assert_true(json_is_integer(json_array_get(loc, 1)));
    assert_int_equal(json_object_size(json_object_get(item, "input")), 0);
}

static void assert_one(json_t *detail, const char *type, const char *loc)
{
    assert_non_null(detail);
    assert_int_equal(json_array_size(detail), 1);
    assert_string_equal(item_str(detail, 0, "type"), type);
    assert_loc(detail, 0, loc);
    assert_non_null(json_object_get(json_array_get(detail, 0), "input"));
    assert_non_null(item_str(detail, 0, "msg"));
}

#define GOOD_SMS(id, date)                                                                         \
    "{\"sms_id\":" id ",\"sms_sender\":\"VM-HDFCBK\",\"sms_body\":\"Rs 5 debited " MARK "\","      \
    "\"sms_inbox_date\":" date "}"
#define BODY(sms) "{\"client_id\":\"c1\",\"user_id\":\"u1\",\"sms\":[" sms "]}"

static void test_valid_request(void **state)
{
    (void)state;
    assert_null(parse(
        BODY(GOOD_SMS("\"a1\"", "\"2026-11-01 10:00:00\"") "," GOOD_SMS("42", "1795000060000"))));
    assert_string_equal(req.client_id, "c1");
    assert_string_equal(req.user_id, "u1");
    assert_string_equal(req.request_id, "hreq-id");
    assert_int_equal(req.sms_count, 2);
    assert_string_equal(req.sms[0].sms_id, "a1");
    assert_string_equal(req.sms[1].sms_id, "42");
    assert_int_equal(req.sms[0].sender_len, 9);
    assert_memory_equal(req.sms[0].sender, "VM-HDFCBK", 9);
    assert_int_equal(req.sms[0].body_len, strlen("Rs 5 debited " MARK));
    assert_string_equal(req.sms[0].inbox_date, "2026-11-01 10:00:00");
    assert_string_equal(req.sms[1].inbox_date, "2026-11-18 16:37:40");
}

static void test_request_id_given_or_generated(void **state)
{
    json_t *detail = NULL;
    (void)state;
    assert_null(parse("{\"client_id\":\"c\",\"user_id\":\"u\",\"request_id\":\"r-9\",\"sms\":[]}"));
    assert_string_equal(req.request_id, "r-9");
    assert_int_equal(request_parse(&req, "{\"client_id\":\"c\",\"user_id\":\"u\",\"sms\":[]}", 40,
                                   10, NULL, &detail),
                     0);
    assert_int_equal(strlen(req.request_id), 32);
    assert_int_equal(strspn(req.request_id, "0123456789abcdef"), 32);
    detail = parse("{\"client_id\":\"c\",\"user_id\":\"u\",\"request_id\":5,\"sms\":[]}");
    assert_one(detail, "string_type", "[\"body\",\"request_id\"]");
    json_decref(detail);
}

static void test_empty_body(void **state)
{
    (void)state;
    json_t *detail = parse_max("", 0, 10);

    assert_one(detail, "missing", "[\"body\"]");
    assert_string_equal(item_str(detail, 0, "msg"), "Field required");
    assert_true(json_is_null(json_object_get(json_array_get(detail, 0), "input")));
    json_decref(detail);
}

static void test_not_json(void **state)
{
    (void)state;
    json_t *detail = parse("this is not json " MARK);

    assert_string_equal(item_str(detail, 0, "type"), "json_invalid");
    assert_json_position(detail);
    assert_string_equal(item_str(detail, 0, "msg"), "JSON decode error");
    json_decref(detail);

    detail = parse("{\"client_id\": \"c\", \"user_id\": ");
    assert_string_equal(item_str(detail, 0, "type"), "json_invalid");
    json_decref(detail);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    json_t *detail = parse(BODY("{\"sms_id\":\"1\",\"sms_body\":\"\xff\xfe " MARK "\","
                                "\"sms_inbox_date\":\"2026-11-01 10:00:00\"}"));

    assert_string_equal(item_str(detail, 0, "type"), "json_invalid");
    assert_json_position(detail);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(detail, 0), "ctx"), "error")),
                        "invalid UTF-8");
    json_decref(detail);
}

static void test_top_level_not_object(void **state)
{
    (void)state;
    json_t *detail = parse("[1,2,3]");

    assert_one(detail, "model_attributes_type", "[\"body\"]");
    json_decref(detail);
    detail = parse("\"" MARK "\"");
    assert_one(detail, "model_attributes_type", "[\"body\"]");
    json_decref(detail);
}

static void test_missing_fields_all_reported(void **state)
{
    (void)state;
    json_t *detail = parse("{\"sms\":[" GOOD_SMS("\"1\"", "\"2026-11-01 10:00:00\"") "]}");

    assert_int_equal(json_array_size(detail), 2);
    assert_string_equal(item_str(detail, 0, "type"), "missing");
    assert_loc(detail, 0, "[\"body\",\"client_id\"]");
    assert_loc(detail, 1, "[\"body\",\"user_id\"]");
    /* The echoed input is the whole body, with the SMS body redacted. */
    json_t *input = json_object_get(json_array_get(detail, 0), "input");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(input, "sms"), 0), "sms_body")),
                        REQUEST_REDACTED);
    json_decref(detail);

    detail = parse("{\"client_id\":\"c\",\"user_id\":\"u\"}");
    assert_one(detail, "missing", "[\"body\",\"sms\"]");
    json_decref(detail);
}

static void test_wrong_types(void **state)
{
    (void)state;
    json_t *detail = parse("{\"client_id\":null,\"user_id\":12345678901234567890,\"sms\":\"x\"}");

    /* 12345678901234567890 overflows a 64-bit integer: still a type error, not a JSON one. */
    assert_int_equal(json_array_size(detail), 3);
    assert_string_equal(item_str(detail, 1, "type"), "string_type");
    assert_loc(detail, 1, "[\"body\",\"user_id\"]");
    json_decref(detail);

    detail = parse("{\"client_id\":null,\"user_id\":123,\"sms\":{\"a\":1}}");
    assert_int_equal(json_array_size(detail), 3);
    assert_string_equal(item_str(detail, 0, "type"), "string_type");
    assert_loc(detail, 0, "[\"body\",\"client_id\"]");
    assert_string_equal(item_str(detail, 1, "type"), "string_type");
    assert_loc(detail, 1, "[\"body\",\"user_id\"]");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(detail, 1), "input")), 123);
    assert_string_equal(item_str(detail, 2, "type"), "list_type");
    assert_loc(detail, 2, "[\"body\",\"sms\"]");
    json_decref(detail);
}

static void test_item_wrong_types(void **state)
{
    (void)state;
    json_t *detail =
        parse(BODY("\"" MARK "\",{\"sms_id\":1.5,\"sms_sender\":7,\"sms_body\":[\"" MARK
                   "\"],\"sms_inbox_date\":true}"));

    assert_int_equal(json_array_size(detail), 5);
    assert_string_equal(item_str(detail, 0, "type"), "model_type");
    assert_loc(detail, 0, "[\"body\",\"sms\",0]");
    assert_string_equal(json_string_value(json_object_get(json_array_get(detail, 0), "input")),
                        REQUEST_REDACTED);
    assert_string_equal(item_str(detail, 1, "type"), "string_type");
    assert_loc(detail, 1, "[\"body\",\"sms\",1,\"sms_id\"]");
    assert_loc(detail, 2, "[\"body\",\"sms\",1,\"sms_sender\"]");
    assert_loc(detail, 3, "[\"body\",\"sms\",1,\"sms_body\"]");
    assert_string_equal(json_string_value(json_object_get(json_array_get(detail, 3), "input")),
                        REQUEST_REDACTED);
    assert_string_equal(item_str(detail, 4, "type"), "datetime_type");
    assert_loc(detail, 4, "[\"body\",\"sms\",1,\"sms_inbox_date\"]");
    json_decref(detail);
}

static void test_item_missing_fields(void **state)
{
    (void)state;
    json_t *detail = parse(BODY("{\"sms_sender\":null,\"sms_body\":\"" MARK "\"}"));

    assert_int_equal(json_array_size(detail), 2);
    assert_loc(detail, 0, "[\"body\",\"sms\",0,\"sms_id\"]");
    assert_loc(detail, 1, "[\"body\",\"sms\",0,\"sms_inbox_date\"]");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(detail, 0), "input"), "sms_body")),
                        REQUEST_REDACTED);
    json_decref(detail);

    detail = parse(BODY("{\"sms_id\":\"1\",\"sms_inbox_date\":\"2026-01-01\"}"));
    assert_one(detail, "missing", "[\"body\",\"sms\",0,\"sms_body\"]");
    json_decref(detail);
}

static void test_null_sender_is_absent(void **state)
{
    (void)state;
    assert_null(parse(BODY("{\"sms_id\":\"1\",\"sms_sender\":null,\"sms_body\":\"x\","
                           "\"sms_inbox_date\":\"2026-01-01\"}")));
    assert_null(req.sms[0].sender);
    assert_string_equal(req.sms[0].inbox_date, "2026-01-01 00:00:00");
}

static void test_too_many_messages(void **state)
{
    (void)state;
    const char *text = BODY(GOOD_SMS("\"1\"", "\"2026-01-01\"") "," GOOD_SMS(
        "\"2\"", "\"2026-01-01\"") "," GOOD_SMS("\"3\"", "\"2026-01-01\""));
    json_t *detail = parse_max(text, strlen(text), 2);
    json_t *ctx;

    assert_one(detail, "too_long", "[\"body\",\"sms\"]");
    assert_string_equal(item_str(detail, 0, "msg"),
                        "List should have at most 2 items after validation, not 3");
    ctx = json_object_get(json_array_get(detail, 0), "ctx");
    assert_int_equal(json_integer_value(json_object_get(ctx, "max_length")), 2);
    assert_int_equal(json_integer_value(json_object_get(ctx, "actual_length")), 3);
    json_decref(detail);
    assert_null(parse_max(text, strlen(text), 3));
    assert_int_equal(req.sms_count, 3);
}

static void test_strings_too_long(void **state)
{
    (void)state;
    char text[4096];
    char id[200];
    json_t *detail;

    memset(id, 'a', 129);
    id[129] = '\0';
    snprintf(text, sizeof(text), "{\"client_id\":\"%s\",\"user_id\":\"u\",\"sms\":[]}", id);
    detail = parse(text);
    assert_one(detail, "string_too_long", "[\"body\",\"client_id\"]");
    assert_string_equal(item_str(detail, 0, "msg"), "String should have at most 128 characters");
    json_decref(detail);

    /* 128 characters of two bytes each: length counts characters, not bytes. */
    text[0] = '\0';
    size_t n = (size_t)snprintf(text, sizeof(text), "{\"client_id\":\"");
    for (int i = 0; i < 128; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "\xc3\xa9");
    snprintf(text + n, sizeof(text) - n, "\",\"user_id\":\"u\",\"sms\":[]}");
    assert_null(parse(text));

    snprintf(text, sizeof(text),
             BODY("{\"sms_id\":\"%s\",\"sms_body\":\"x\","
                  "\"sms_inbox_date\":\"2026-01-01\"}"),
             id);
    detail = parse(text);
    assert_one(detail, "string_too_long", "[\"body\",\"sms\",0,\"sms_id\"]");
    json_decref(detail);
}

static void test_huge_body_accepted(void **state)
{
    (void)state;
    size_t body_len = 1 << 20;
    size_t cap = body_len + 256;
    char *text = malloc(cap);
    size_t n;

    assert_non_null(text);
    n = (size_t)snprintf(text, cap,
                         "{\"client_id\":\"c\",\"user_id\":\"u\",\"sms\":[{\"sms_id\":"
                         "1,\"sms_inbox_date\":0,\"sms_body\":\"");
    memset(text + n, 'y', body_len);
    n += body_len;
    n += (size_t)snprintf(text + n, cap - n, "\"}]}");
    assert_null(parse_max(text, n, 10));
    assert_int_equal(req.sms[0].body_len, body_len);
    assert_string_equal(req.sms[0].inbox_date, "1970-01-01 05:30:00");
    free(text);
}

static void test_date_errors_in_detail(void **state)
{
    (void)state;
    json_t *detail = parse(BODY(
        GOOD_SMS("\"1\"", "\"2026-13-45 99:00:00\"") "," GOOD_SMS("\"2\"", "-99999999999999999")));

    assert_int_equal(json_array_size(detail), 2);
    assert_string_equal(item_str(detail, 0, "type"), "datetime_from_date_parsing");
    assert_loc(detail, 0, "[\"body\",\"sms\",0,\"sms_inbox_date\"]");
    assert_string_equal(item_str(detail, 0, "msg"),
                        "Input should be a valid datetime or date, month value is outside "
                        "expected range of 1-12");
    assert_string_equal(item_str(detail, 0, "input"), "2026-13-45 99:00:00");
    assert_loc(detail, 1, "[\"body\",\"sms\",1,\"sms_inbox_date\"]");
    json_decref(detail);
}

static void test_escapes_and_unknown_members(void **state)
{
    (void)state;
    assert_null(
        parse(" {\"extra\": {\"deep\": [1, 2.5, -3e2, true, false, null, \"x\\\"\"]},\n"
              "\"client_id\": \"c\\u00e9\\ud83d\\ude00\", \"user_id\": \"u\\/\\n\",\n"
              "\"request_id\": null, \"sms\": [ {\"sms_body\": \"a\\tb \xe2\x82\xb9 5\","
              " \"sms_id\": -12, \"other\": {}, \"sms_inbox_date\": \"2026-01-02T03:04:05Z\","
              " \"sms_sender\": \"VM-X\"} ] } \t"));
    assert_string_equal(req.client_id, "c\xc3\xa9\xf0\x9f\x98\x80");
    assert_string_equal(req.user_id, "u/\n");
    assert_string_equal(req.request_id, "hreq-id");
    assert_string_equal(req.sms[0].sms_id, "-12");
    assert_int_equal(req.sms[0].body_len, 9);
    assert_memory_equal(req.sms[0].body, "a\tb \xe2\x82\xb9 5", 9);
    assert_string_equal(req.sms[0].inbox_date, "2026-01-02 08:34:05");
    /* Inputs the fast path leaves to jansson: both paths must still agree. */
    static const char *const odd[] = {
        "{\"client_id\":\"a\",\"client_id\":\"b\",\"user_id\":\"u\",\"sms\":[]}",
        "{\"client_id\":\"c\",\"user_id\":\"u\",\"x\":1e999,\"sms\":[]}",
        "{\"client_id\":\"c\",\"user_id\":\"u\",\"x\":123456789012345678901234,\"sms\":[]}",
        "{\"client_id\":\"c\\ud800\",\"user_id\":\"u\",\"sms\":[]}",
        "{\"client_id\":\"c\\u0000\",\"user_id\":\"u\",\"sms\":[]}",
        "{\"client_id\":\"c\",\"user_id\":\"u\",\"sms\":[{\"sms_id\":3.0,\"sms_body\":\"b\","
        "\"sms_inbox_date\":\"2026-01-01\"}]}",
        "{\"client_id\":\"c\",\"user_id\":\"u\",\"sms\":[]} x",
        "{\"client_id\":\"\xed\xa0\x80\",\"user_id\":\"u\",\"sms\":[]}",
    };
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
        json_decref(parse(odd[i]));
}

static void test_float_epoch(void **state)
{
    (void)state;
    assert_null(parse(BODY(GOOD_SMS("1", "1795000060000.75"))));
    assert_string_equal(req.sms[0].inbox_date, "2026-11-18 16:37:40");
}

static void test_error_cap(void **state)
{
    (void)state;
    size_t n_items = REQUEST_MAX_ERRORS + 20;
    size_t cap = n_items * 16 + 128;
    char *text = malloc(cap);
    size_t n;
    json_t *detail;

    assert_non_null(text);
    n = (size_t)snprintf(text, cap, "{\"client_id\":\"c\",\"user_id\":\"u\",\"sms\":[");
    for (size_t i = 0; i < n_items; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s{}", i ? "," : "");
    n += (size_t)snprintf(text + n, cap - n, "]}");
    detail = parse_max(text, n, n_items);
    assert_int_equal(json_array_size(detail), REQUEST_MAX_ERRORS);
    json_decref(detail);
    free(text);
}

static void test_reuse_after_failure(void **state)
{
    (void)state;
    json_t *detail = parse(BODY("{}"));

    json_decref(detail);
    assert_null(req.root);
    assert_null(parse(BODY(GOOD_SMS("7", "\"2026-01-01\""))));
    assert_int_equal(req.sms_count, 1);
    assert_string_equal(req.sms[0].sms_id, "7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_id_given_or_generated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top_level_not_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_fields_all_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_item_wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_item_missing_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_sender_is_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_body_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_date_errors_in_detail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes_and_unknown_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_float_epoch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse_after_failure, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
