/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pins the reply format: the contract's keys in the contract's order, every
 * kind of absence (NULL, "", NAN) as null, numbers as numbers, directions as
 * their two strings, and valid JSON whatever bytes the engine copied from a
 * message into a record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_writer.h"
#include "sms-extraction/response.h"
#include "tests/unit/record_keys.h"

static void empty_record(struct extract_record *r)
{
    memset(r, 0, sizeof(*r));
    r->amount = r->available_balance = r->credit_limit = NAN;
    r->available_limit = r->due_amount = r->min_due = NAN;
    r->overdue_amount = r->days_past_due = NAN;
}

static struct request_sms msg(const char *id, const char *sender)
{
    struct request_sms m = {.sms_id = id, .sender = sender, .sender_len = sender ? 9 : 0};

    snprintf(m.inbox_date, sizeof(m.inbox_date), "2026-11-01 10:00:00");
    return m;
}

/* Serialises the records in a form and parses the reply back; the caller decrefs. */
static json_t *render_form(enum response_form form, const struct request_sms *in,
                           const struct extract_record *recs, size_t n, char **text_out)
{
    struct json_writer w;
    json_error_t jerr;
    const char *text;
    size_t len;
    json_t *root;

    json_writer_init(&w, 0);
    response_begin(&w, form, "rid-1");
    for (size_t i = 0; i < n; i++)
        response_record(&w, form, &in[i], &recs[i]);
    response_end(&w);
    assert_true(json_writer_ok(&w));
    text = json_writer_data(&w, &len);
    root = json_loadb(text, len, JSON_PRESERVE_ORDER, &jerr);
    if (!root)
        fail_msg("reply is not JSON: %s", jerr.text);
    if (text_out)
        *text_out = strdup(text);
    json_writer_free(&w);
    return root;
}

static json_t *render(const struct request_sms *in, const struct extract_record *recs, size_t n,
                      char **text_out)
{
    return render_form(RESPONSE_PUBLIC, in, recs, n, text_out);
}

static void test_key_order_and_nulls(void **state)
{
    (void)state;
    struct request_sms in = msg("1", NULL);
    struct extract_record rec;
    json_t *root, *r;
    const char *key;
    json_t *v;
    size_t i = 0;

    empty_record(&rec);
    rec.sms_type = "not_in_the_list";
    rec.sender_name = ""; /* empty pointer string: absent too */
    root = render(&in, &rec, 1, NULL);
    assert_string_equal(json_string_value(json_object_get(root, "request_id")), "rid-1");
    r = json_array_get(json_object_get(root, "extracted_sms_data"), 0);
    assert_int_equal(json_object_size(r), N_RECORD_KEYS);
    json_object_foreach(r, key, v)
    {
        assert_string_equal(key, RECORD_KEYS[i]);
        i++;
    }
    assert_string_equal(json_string_value(json_object_get(r, "sms_id")), "1");
    assert_true(json_is_null(json_object_get(r, "sms_sender")));
    assert_string_equal(json_string_value(json_object_get(r, "sms_inbox_date")),
                        "2026-11-01 10:00:00");
    assert_true(json_is_null(json_object_get(r, "sender_name")));
    assert_string_equal(json_string_value(json_object_get(r, "sms_type")), "not_in_the_list");
    assert_true(json_is_false(json_object_get(r, "is_classified")));
    static const char *const nulls[] = {"transaction",
                                        "transaction_type",
                                        "account_last_digits",
                                        "transaction_party",
                                        "unique_pan",
                                        "available_balance",
                                        "reference_no",
                                        "channel",
                                        "credit_limit",
                                        "due_date",
                                        "currency",
                                        "template_id",
                                        "min_due"};
    for (size_t k = 0; k < sizeof(nulls) / sizeof(nulls[0]); k++)
        if (!json_is_null(json_object_get(r, nulls[k])))
            fail_msg("%s should be null", nulls[k]);
    json_decref(root);
}

static void test_values(void **state)
{
    (void)state;
    struct request_sms in[2] = {msg("a", "VM-HDFCBK"), msg("b", "AD-ICICIB")};
    struct extract_record rec[2];
    json_t *root, *list, *r;

    empty_record(&rec[0]);
    empty_record(&rec[1]);
    snprintf(rec[0].sender, sizeof(rec[0].sender), "hdfcbk");
    rec[0].sender_name = "example bank";
    rec[0].sender_type = "bank";
    rec[0].is_classified = rec[0].is_extracted = rec[0].is_transactional = true;
    rec[0].direction = EXTRACT_DIRECTION_DEBIT;
    rec[0].amount = 1250.5;
    rec[0].available_balance = 0.0;
    rec[0].currency = "INR";
    snprintf(rec[0].account_last_digits, sizeof(rec[0].account_last_digits), "4821");
    snprintf(rec[0].transaction_party, sizeof(rec[0].transaction_party), "a \"quoted\"\tshop\x01");
    rec[1].direction = EXTRACT_DIRECTION_CREDIT;
    snprintf(rec[1].sender, sizeof(rec[1].sender), "icicib");
    root = render(in, rec, 2, NULL);
    list = json_object_get(root, "extracted_sms_data");
    assert_int_equal(json_array_size(list), 2);
    r = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(r, "sms_sender")), "hdfcbk");
    assert_string_equal(json_string_value(json_object_get(r, "transaction_type")),
                        "debit-transaction");
    assert_true(json_real_value(json_object_get(r, "transaction")) == 1250.5);
    /* A zero balance is a value, not an absence. */
    assert_true(json_is_number(json_object_get(r, "available_balance")));
    assert_true(json_number_value(json_object_get(r, "available_balance")) == 0.0);
    assert_true(json_is_true(json_object_get(r, "is_transactional")));
    assert_string_equal(json_string_value(json_object_get(r, "account_last_digits")), "4821");
    assert_string_equal(json_string_value(json_object_get(r, "transaction_party")),
                        "a \"quoted\"\tshop\x01");
    r = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(r, "sms_id")), "b");
    assert_string_equal(json_string_value(json_object_get(r, "transaction_type")),
                        "credit-transaction");
    json_decref(root);
}

static void test_number_text(void **state)
{
    (void)state;
    struct request_sms in = msg("1", NULL);
    struct extract_record rec;
    char *text = NULL;
    json_t *root;

    empty_record(&rec);
    rec.amount = 1250.0;
    rec.available_balance = 10500.55;
    rec.due_amount = -0.5;
    root = render(&in, &rec, 1, &text);
    assert_non_null(strstr(text, "\"transaction\":1250,"));
    assert_non_null(strstr(text, "\"available_balance\":10500.55,"));
    assert_non_null(strstr(text, "\"due_amount\":-0.5,"));
    free(text);
    json_decref(root);
}

static void test_empty_batch(void **state)
{
    (void)state;
    char *text = NULL;
    json_t *root = render(NULL, NULL, 0, &text);

    assert_string_equal(text, "{\"request_id\":\"rid-1\",\"extracted_sms_data\":[]}");
    free(text);
    json_decref(root);
}

static void test_invalid_utf8_in_record_stays_json(void **state)
{
    (void)state;
    struct request_sms in = msg("1", "VM-HDFCBK");
    struct extract_record rec;
    json_t *root;

    empty_record(&rec);
    snprintf(rec.transaction_party, sizeof(rec.transaction_party), "shop \xff\xfe");
    root = render(&in, &rec, 1, NULL);
    assert_non_null(root);
    json_decref(root);
}

/*
 * The internal rows form: the public record's values, in the contract's key order, after a
 * field list naming that order; only asked for with exactly EXTRACT_FORM_ROWS.
 */
static void test_rows_form(void **state)
{
    (void)state;
    struct request_sms in[3] = {msg("a", "VM-HDFCBK"), msg("b", NULL), msg("c", "AD-ICICIB")};
    struct extract_record rec[3];
    json_t *pub, *rows, *fields, *list, *v;
    const char *key;
    char *text = NULL;
    size_t i = 0;

    for (int k = 0; k < 3; k++)
        empty_record(&rec[k]);
    snprintf(rec[0].sender, sizeof(rec[0].sender), "hdfcbk");
    rec[0].sender_name = "example bank";
    rec[0].is_classified = rec[0].is_transactional = true;
    rec[0].direction = EXTRACT_DIRECTION_DEBIT;
    rec[0].amount = 1250.5;
    rec[0].days_past_due = 21;
    snprintf(rec[0].transaction_party, sizeof(rec[0].transaction_party), "a \"quoted\" shop");
    rec[2].direction = EXTRACT_DIRECTION_CREDIT;
    rec[2].available_balance = 0.0;
    rec[2].template_id = "t-1";
    pub = render(in, rec, 3, NULL);
    rows = render_form(RESPONSE_ROWS, in, rec, 3, &text);
    /* members in this order: form first is how a reader tells the forms apart */
    json_object_foreach(rows, key, v)
    {
        static const char *const order[] = {"form", "request_id", "fields", "rows"};
        assert_true(i < 4);
        assert_string_equal(key, order[i++]);
    }
    assert_string_equal(json_string_value(json_object_get(rows, "form")), "rows-1");
    assert_string_equal(json_string_value(json_object_get(rows, "request_id")), "rid-1");
    fields = json_object_get(rows, "fields");
    assert_int_equal(json_array_size(fields), N_RECORD_KEYS);
    for (size_t k = 0; k < N_RECORD_KEYS; k++)
        assert_string_equal(json_string_value(json_array_get(fields, k)), RECORD_KEYS[k]);
    list = json_object_get(rows, "rows");
    assert_int_equal(json_array_size(list), 3);
    for (size_t r = 0; r < 3; r++) {
        json_t *row = json_array_get(list, r);
        json_t *obj = json_array_get(json_object_get(pub, "extracted_sms_data"), r);

        assert_int_equal(json_array_size(row), N_RECORD_KEYS);
        for (size_t k = 0; k < N_RECORD_KEYS; k++)
            if (!json_equal(json_array_get(row, k), json_object_get(obj, RECORD_KEYS[k])))
                fail_msg("row %zu, %s differs from the public record", r, RECORD_KEYS[k]);
    }
    /* by hand: row 0's values at their places */
    assert_non_null(strstr(text, "[\"a\",\"hdfcbk\",\"2026-11-01 10:00:00\",\"example bank\","
                                 "null,null,null,null,true,false,true,1250.5,\"debit-transaction\","
                                 "null,\"a \\\"quoted\\\" shop\",null,null,null,null,null,null,"
                                 "null,null,null,null,null,null,21,null,null]"));
    free(text);
    json_decref(pub);
    json_decref(rows);

    text = NULL;
    rows = render_form(RESPONSE_ROWS, NULL, NULL, 0, &text);
    assert_non_null(
        strstr(text, "{\"form\":\"rows-1\",\"request_id\":\"rid-1\",\"fields\":[\"sms_id\","));
    assert_non_null(strstr(text, "\"template_id\"],\"rows\":[]}"));
    free(text);
    json_decref(rows);

    assert_int_equal(response_form_asked("rows-1"), RESPONSE_ROWS);
    assert_int_equal(response_form_asked(NULL), RESPONSE_PUBLIC);
    assert_int_equal(response_form_asked(""), RESPONSE_PUBLIC);
    assert_int_equal(response_form_asked("rows-2"), RESPONSE_ROWS_NO_ECHO);
    assert_int_equal(response_form_asked("rows-3"), RESPONSE_PUBLIC);
    assert_int_equal(response_form_asked("ROWS-1"), RESPONSE_PUBLIC);
    assert_int_equal(response_form_asked("rows-2 "), RESPONSE_PUBLIC);
    assert_int_equal(response_form_asked("rows-1 "), RESPONSE_PUBLIC);
}

/*
 * rows-2: rows-1 without sms_id and sms_inbox_date (the caller's own values), every other
 * value equal to the public record's, in the contract's order.
 */
static void test_rows_no_echo_form(void **state)
{
    (void)state;
    struct request_sms in[2] = {msg("a", "VM-HDFCBK"), msg("b", NULL)};
    struct extract_record rec[2];
    json_t *pub, *rows, *fields, *list;
    char *text = NULL;
    size_t k = 0;

    empty_record(&rec[0]);
    empty_record(&rec[1]);
    snprintf(rec[0].sender, sizeof(rec[0].sender), "hdfcbk");
    rec[0].direction = EXTRACT_DIRECTION_DEBIT;
    rec[0].amount = 99.5;
    rec[1].template_id = "t-2";
    pub = render(in, rec, 2, NULL);
    rows = render_form(RESPONSE_ROWS_NO_ECHO, in, rec, 2, &text);
    assert_string_equal(json_string_value(json_object_get(rows, "form")), "rows-2");
    fields = json_object_get(rows, "fields");
    assert_int_equal(json_array_size(fields), N_RECORD_KEYS - 2);
    for (size_t i = 0; i < N_RECORD_KEYS; i++) {
        if (strcmp(RECORD_KEYS[i], "sms_id") == 0 || strcmp(RECORD_KEYS[i], "sms_inbox_date") == 0)
            continue;
        assert_string_equal(json_string_value(json_array_get(fields, k)), RECORD_KEYS[i]);
        k++;
    }
    list = json_object_get(rows, "rows");
    for (size_t r = 0; r < 2; r++) {
        json_t *row = json_array_get(list, r);
        json_t *obj = json_array_get(json_object_get(pub, "extracted_sms_data"), r);

        assert_int_equal(json_array_size(row), N_RECORD_KEYS - 2);
        for (size_t c = 0; c < json_array_size(fields); c++) {
            const char *name = json_string_value(json_array_get(fields, c));

            if (!json_equal(json_array_get(row, c), json_object_get(obj, name)))
                fail_msg("row %zu, %s differs from the public record", r, name);
        }
    }
    /* by hand: the start of the reply and row 0 */
    assert_non_null(strstr(text, "{\"form\":\"rows-2\",\"request_id\":\"rid-1\",\"fields\":["
                                 "\"sms_sender\",\"sender_name\","));
    assert_non_null(strstr(text, "\"rows\":[[\"hdfcbk\",null,null,null,null,null,false,false,"
                                 "false,99.5,\"debit-transaction\","));
    free(text);
    json_decref(rows);
    json_decref(pub);
}

static void test_direction_names(void **state)
{
    (void)state;
    assert_null(response_direction_name(EXTRACT_DIRECTION_NONE));
    assert_string_equal(response_direction_name(EXTRACT_DIRECTION_DEBIT), "debit-transaction");
    assert_string_equal(response_direction_name(EXTRACT_DIRECTION_CREDIT), "credit-transaction");
}

/*
 * Every kind of value at once, both forms byte for byte, written out by hand: escapes
 * (quote, control, backslash), UTF-8 kept and invalid UTF-8 replaced, the three absences,
 * whole numbers as integers (-0 too), two-decimal values, a value needing 17 digits, one
 * past the integer range (1e15), and the bounds of each field's text.
 */
static void test_every_kind_byte_for_byte(void **state)
{
    (void)state;
    struct request_sms in = msg("id\"1", "VM-HDFCBK");
    struct extract_record rec;
    char *text = NULL;
    json_t *root;
    static const char values[] =
        "\"id\\\"1\",\"hdfcbk\",\"2026-11-01 10:00:00\",\"caf\xc3\xa9 bank\",\"bank\","
        "\"transaction\",null,null,true,false,true,1250,\"debit-transaction\",\"00\\u0001\","
        "\"shop \\ufffd/\\\\\",null,\"bank | x | -1\",0.30000000000000004,null,\"upi\","
        "\"24May26\",1e+15,-0.5,0,null,\"\\t\",null,21,\"INR\",\"t-\xe2\x82\xb9\"";
    char want[2048], *p = want;
    const char *v = values;

    empty_record(&rec);
    snprintf(rec.sender, sizeof(rec.sender), "hdfcbk");
    rec.sender_name = "caf\xc3\xa9 bank";
    rec.sender_type = "bank";
    rec.sms_type = "transaction";
    rec.sms_kind = "";
    rec.is_classified = rec.is_transactional = true;
    rec.amount = 1250;
    rec.direction = EXTRACT_DIRECTION_DEBIT;
    snprintf(rec.account_last_digits, sizeof(rec.account_last_digits), "00\x01");
    snprintf(rec.transaction_party, sizeof(rec.transaction_party), "shop \xff/\\");
    snprintf(rec.unique_pan, sizeof(rec.unique_pan), "bank | x | -1");
    rec.available_balance = 0.1 + 0.2;
    rec.channel = "upi";
    snprintf(rec.transaction_date, sizeof(rec.transaction_date), "24May26");
    rec.credit_limit = 1e15;
    rec.available_limit = -0.5;
    rec.due_amount = -0.0;
    snprintf(rec.due_date, sizeof(rec.due_date), "\t");
    rec.overdue_amount = INFINITY;
    rec.days_past_due = 21;
    rec.currency = "INR";
    rec.template_id = "t-\xe2\x82\xb9";

    root = render_form(RESPONSE_ROWS, &in, &rec, 1, &text);
    snprintf(want, sizeof(want), "\"rows\":[[%s]]}", values);
    assert_non_null(strstr(text, want));
    free(text);
    json_decref(root);
    /* rows-2: the same without the first and the third */
    root = render_form(RESPONSE_ROWS_NO_ECHO, &in, &rec, 1, &text);
    snprintf(want, sizeof(want), "\"rows\":[[\"hdfcbk\",%s]]}",
             strstr(values, "\"caf\xc3\xa9 bank\""));
    assert_non_null(strstr(text, want));
    free(text);
    json_decref(root);

    /* the public record: the same values after their keys */
    p += snprintf(p, sizeof(want), "{\"request_id\":\"rid-1\",\"extracted_sms_data\":[{");
    for (size_t k = 0; k < N_RECORD_KEYS; k++) {
        const char *end = v;

        /* the next value: a string (with escapes) or a bare token */
        if (*end == '"') {
            for (end++; *end != '"'; end++)
                if (*end == '\\')
                    end++;
            end++;
        } else {
            while (*end && *end != ',')
                end++;
        }
        p += snprintf(p, (size_t)(want + sizeof(want) - p), "%s\"%s\":%.*s", k ? "," : "",
                      RECORD_KEYS[k], (int)(end - v), v);
        v = *end ? end + 1 : end;
    }
    snprintf(p, (size_t)(want + sizeof(want) - p), "}]}");
    root = render(&in, &rec, 1, &text);
    assert_string_equal(text, want);
    free(text);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_order_and_nulls),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_number_text),
        cmocka_unit_test(test_empty_batch),
        cmocka_unit_test(test_invalid_utf8_in_record_stays_json),
        cmocka_unit_test(test_direction_names),
        cmocka_unit_test(test_rows_form),
        cmocka_unit_test(test_rows_no_echo_form),
        cmocka_unit_test(test_every_kind_byte_for_byte),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
