/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of insights-api/fetch_records.h: the extractor's records of two
 * messages (oldest first) become Credeau's records (credeau.md 3.2) newest
 * first. Expected values by hand: Credeau's first example record is an SBI
 * UPI debit of 80.0 from account x3028, unique_pan "bank | state bank of
 * india | 28"; an unknown sender is named "not_in_the_list".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "insights-api/fetch_records.h"

static const char extracted[] =
    "[{\"sms_id\":\"m1\",\"sms_sender\":\"sbiupi\",\"sms_inbox_date\":\"2026-09-22 16:27:01\","
    "\"sender_name\":\"state bank of india\",\"sender_type\":\"bank\","
    "\"sms_type\":\"upi_debit_executed\",\"sms_kind\":\"transaction\",\"transaction\":80,"
    "\"account_last_digits\":\"3028\",\"unique_pan\":\"bank | state bank of india | 28\","
    "\"days_past_due\":3,\"template_id\":\"amount-after-verb-bare\"},"
    "{\"sms_id\":\"m2\",\"sms_sender\":\"zqxwvu\",\"sms_inbox_date\":\"2026-09-23 10:00:00\","
    "\"sender_name\":null,\"sender_type\":null,\"sms_type\":\"not_in_the_list\","
    "\"transaction\":null,\"account_last_digits\":null,\"unique_pan\":null,"
    "\"template_id\":null}]";

static json_t *shaped(bool with_body)
{
    struct raw_sms_list raw;
    struct fetch_records_ctx ctx = {
        .client_id = "acme",
        .user_id = "u1",
        .request_id = "r1",
        .created_at = 1790000000.0, /* 2026-09-21 19:43:20 IST (date -d @1790000000) */
        .with_body = with_body};
    json_t *in = json_loads(extracted, 0, NULL), *out;

    assert_non_null(in);
    raw_sms_list_init(&raw);
    assert_int_equal(raw_sms_list_add(&raw, "m1", 2, "VM-SBIUPI", 9, "debited by 80.0", 15, 1), 0);
    assert_int_equal(raw_sms_list_add(&raw, "m2", 2, "VM-ZQXWVU", 9, "parcel", 6, 2), 0);
    out = fetch_records_credeau(in, &raw, &ctx);
    raw_sms_list_free(&raw);
    json_decref(in);
    return out;
}

static const char *str(const json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

static void test_credeau_shape(void **state)
{
    json_t *out = shaped(true), *newest, *oldest;
    char *text;
    (void)state;

    assert_int_equal(json_array_size(out), 2);
    newest = json_array_get(out, 0);
    oldest = json_array_get(out, 1);
    assert_string_equal(str(newest, "sms_id"), "m2");
    assert_string_equal(str(oldest, "sms_id"), "m1");
    /* the owner and the request; created_* the call's time in India time */
    assert_string_equal(str(oldest, "user_id"), "u1");
    assert_string_equal(str(oldest, "client_id"), "acme");
    assert_string_equal(str(oldest, "request_id"), "r1");
    assert_string_equal(str(oldest, "created_at"), "2026-09-21 19:43:20");
    assert_string_equal(str(oldest, "created_date"), "2026-09-21");
    assert_string_equal(str(oldest, "sms_body"), "debited by 80.0");
    assert_int_equal(strlen(str(oldest, "_id")), 24);
    assert_int_equal(strlen(str(oldest, "template_hash")), 36);
    assert_true(json_is_null(json_object_get(newest, "template_hash")));
    /* the _nlp twins */
    assert_string_equal(str(oldest, "acc_number_nlp"), "x3028");
    assert_string_equal(str(oldest, "unique_pan_nlp"), "bank | state bank of india | 28");
    assert_string_equal(str(oldest, "sms_nlp_tag"), "upi_debit_executed");
    assert_true(json_is_null(json_object_get(newest, "acc_number_nlp")));
    assert_true(json_is_null(json_object_get(newest, "transaction_nlp")));
    /* an unknown sender, named as Credeau names what matched nothing */
    assert_string_equal(str(newest, "sender_name"), "not_in_the_list");
    /* amounts as reals (80.0), days_past_due stays an integer; sms_body after the date */
    text = json_dumps(oldest, JSON_COMPACT);
    assert_non_null(strstr(text, "\"transaction\":80.0,"));
    assert_non_null(strstr(text, "\"transaction_nlp\":80.0,"));
    assert_non_null(strstr(text, "\"days_past_due\":3,"));
    assert_non_null(strstr(text, "\"sms_inbox_date\":\"2026-09-22 16:27:01\",\"sms_body\":"));
    free(text);
    json_decref(out);
}

static void test_body_off_and_ids_stable(void **state)
{
    json_t *a = shaped(false), *b = shaped(true);
    (void)state;

    assert_null(json_object_get(json_array_get(a, 0), "sms_body"));
    /* the same message of the same user: the same _id, call after call */
    assert_string_equal(str(json_array_get(a, 1), "_id"), str(json_array_get(b, 1), "_id"));
    assert_string_not_equal(str(json_array_get(a, 0), "_id"), str(json_array_get(a, 1), "_id"));
    json_decref(a);
    json_decref(b);
    a = fetch_records_credeau(NULL, NULL, &(struct fetch_records_ctx){.client_id = "c"});
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_credeau_shape),
        cmocka_unit_test(test_body_off_and_ids_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
