/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of insights-api/inline_scan.h: the one-pass reading of a request
 * body's sms_data. The scanner may decline anything, but what it accepts
 * must give exactly what the jansson path gives. Each body below goes both
 * ways (inline_scan_body + inline_source_parse_scanned, and json_loadb +
 * inline_source_parse_json) and the results are compared member by member:
 * return code, detail list, messages (id, sender, body, time, order), apps,
 * device and source states. The bodies the scanner must take (the usual
 * shapes: escapes, integer ids, null senders, unknown members, every date
 * form) are checked to be taken, so the fast path is the one compared; the
 * ones it must decline (duplicates, real dates, overlong ids, bad dates)
 * to be declined, since a wrong guess there would change a reply.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "insights-api/inline_scan.h"
#include "insights-api/inline_source.h"

#define NOW 1795000100

static char *quoted(const char *text)
{
    char *body = strdup(text);

    for (char *p = body; *p; p++)
        if (*p == '\'')
            *p = '"';
    return body;
}

static void assert_same_text(const char *a, const char *b)
{
    if (!a || !b)
        assert_true(a == b);
    else
        assert_string_equal(a, b);
}

static void assert_same_users(const struct user_data *a, const struct user_data *b)
{
    assert_int_equal(a->sms_state, b->sms_state);
    assert_int_equal(a->apps_state, b->apps_state);
    assert_int_equal(a->device_state, b->device_state);
    assert_int_equal(a->apps_count, b->apps_count);
    for (size_t i = 0; i < a->apps_count; i++) {
        assert_same_text(a->apps[i].package_name, b->apps[i].package_name);
        assert_same_text(a->apps[i].app_name, b->apps[i].app_name);
        assert_int_equal(a->apps[i].install_ts, b->apps[i].install_ts);
    }
    assert_same_text(a->device.brand, b->device.brand);
    assert_int_equal(a->device.sdk_int, b->device.sdk_int);
}

static void assert_same_sms(const struct raw_sms_list *a, const struct raw_sms_list *b)
{
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        assert_string_equal(a->items[i].sms_id, b->items[i].sms_id);
        assert_same_text(a->items[i].sender, b->items[i].sender);
        assert_int_equal(a->items[i].body_len, b->items[i].body_len);
        assert_memory_equal(a->items[i].body, b->items[i].body, a->items[i].body_len);
        assert_int_equal(a->items[i].ts, b->items[i].ts);
    }
}

enum expect { TAKEN, DECLINED, TAKEN_IF_VALID };

/* Both paths on text; expect says whether the scanner must accept it. */
static void both_ways(const char *text, enum expect expect, size_t max_items)
{
    char *body = quoted(text);
    struct raw_sms_list scanned, s1, s2;
    struct user_data u1, u2;
    json_t *d1 = NULL, *d2 = NULL;
    json_error_t jerr;
    json_t *root1 = inline_scan_body(body, strlen(body), &scanned);
    json_t *root2 = validation_load_body(body, strlen(body), &jerr);
    int rc1, rc2;

    assert_non_null(root2);
    if (expect == TAKEN_IF_VALID) {
        rc2 = inline_source_parse_json(root2, NOW, 0, max_items, &u2, &s2, &d2);
        expect = rc2 == 0 ? TAKEN : DECLINED;
        json_decref(d2);
        user_data_free(&u2);
        raw_sms_list_free(&s2);
    }
    if ((expect == TAKEN) != (root1 != NULL))
        fail_msg("scanner %s: %s", root1 ? "took" : "declined", text);
    if (!root1) {
        assert_int_equal(scanned.count, 0);
        free(body);
        json_decref(root2);
        return;
    }
    rc1 = inline_source_parse_scanned(root1, &scanned, NOW, 0, max_items, &u1, &s1, &d1);
    rc2 = inline_source_parse_json(root2, NOW, 0, max_items, &u2, &s2, &d2);
    assert_int_equal(rc1, rc2);
    if (rc1 < 0) {
        char *t1 = json_dumps(d1, JSON_COMPACT), *t2 = json_dumps(d2, JSON_COMPACT);

        assert_string_equal(t1, t2);
        free(t1);
        free(t2);
    } else {
        assert_same_users(&u1, &u2);
        assert_same_sms(&s1, &s2);
    }
    json_decref(d1);
    json_decref(d2);
    user_data_free(&u1);
    user_data_free(&u2);
    raw_sms_list_free(&s1);
    raw_sms_list_free(&s2);
    raw_sms_list_free(&scanned);
    json_decref(root1);
    json_decref(root2);
    free(body);
}

/* The shapes lenders send: taken, and the same as jansson's. */
static void test_taken(void **state)
{
    static const char *const bodies[] = {
        "{'client_id':'c','user_id':'u','sms_data':[]}",
        "{'client_id':'c','user_id':'u'}",
        "{'client_id':'c','user_id':'u','sms_data':null,'apps_data':null}",
        /* ids as text and as integers, null and absent senders, unknown members */
        "{'user_id':'u','client_id':'c','sms_data':[{'sms_id':'a1','sms_sender':'VM-HDFCBK',"
        "'sms_body':'Rs 500 debited','sms_inbox_date':'2026-11-01 10:00:00','x':{'y':[1,2]}},"
        "{'sms_id':42,'sms_sender':null,'sms_body':'b','sms_inbox_date':1793000000},"
        "{'sms_id':-7,'sms_body':'c','sms_inbox_date':1793000000123,'read':true}]}",
        /* escapes in bodies, ids, senders and member names; non-ASCII text */
        "{'client_id':'c','user_id':'u','sms_data':[{'sms\\u005fid':'a\\'b','sms_sender':"
        "'AD-\\u0041BC','sms_body':'line1\\nline2 \\u20b9500 \\ud83d\\ude00 caf\\u00e9 "
        "\xe2\x82\xb9 9','sms_inbox_date':'2026-11-01T10:00:00+05:30'}]}",
        /* one dated after as_of, a duplicate id (the last wins) */
        "{'client_id':'c','user_id':'u','sms_data':["
        "{'sms_id':'1','sms_body':'a','sms_inbox_date':'2026-11-01'},"
        "{'sms_id':'5','sms_body':'e','sms_inbox_date':1895000200},"
        "{'sms_id':'1','sms_body':'f','sms_inbox_date':'2026-10-01 09:00:00'}]}",
        /* the other members as jansson reads them, sms_data in the middle */
        "{'client_id':'c','apps_data':[{'package_name':'p','app_name':'A','install_time':"
        "1790000000}],'sms_data':[{'sms_id':'1','sms_body':'a','sms_inbox_date':'2026-11-01'}],"
        "'device_data':{'brand':'b','sdk_int':33},'groupings':['sms'],'user_id':'u'}",
        /* errors elsewhere: the same detail list, sms_data's count kept */
        "{'client_id':7,'sms_data':[{'sms_id':'1','sms_body':'a','sms_inbox_date':'2026-11-01'}],"
        "'apps_data':[{'app_name':'A'}],'device_data':{'sdk_int':'x'}}",
        "{'sms_data':[{'sms_id':'1','sms_body':'a','sms_inbox_date':'2026-11-01'}],'user_id':'u'}",
        "{'client_id':'c','user_id':'u','sms_data':'text'}",
        "{'client_id':'c','user_id':'u','sms_data':{'a':1}}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        both_ways(bodies[i], TAKEN, 0);
}

/* Dates in many forms, good and bad: taken exactly when jansson's path finds them valid. */
static void test_dates(void **state)
{
    static const char *const dates[] = {
        "'2026-11-01'",
        "'2026-11-01 10:00:00'",
        "'2026-11-01T04:30:00Z'",
        "'2026-11-01T10:00:00+05:30'",
        "'01-11-2026 10:00'",
        "'1795000200'",
        "'1795000200123'",
        "1795000200",
        "1795000200123",
        "-5",
        "0",
        "99999999999999",
        "'2026-02-30'",
        "'2026-13-01'",
        "'yesterday'",
        "''",
        "'2026-11-01 25:00:00'",
        "true",
        "null",
        "[1]",
    };
    char body[512];

    (void)state;
    for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
        snprintf(body, sizeof(body),
                 "{'client_id':'c','user_id':'u','sms_data':[{'sms_id':'1','sms_body':'a',"
                 "'sms_inbox_date':%s}]}",
                 dates[i]);
        both_ways(body, TAKEN_IF_VALID, 0);
    }
}

/* More items than allowed: the same too_long item from the scanned count. */
static void test_too_many(void **state)
{
    (void)state;
    both_ways("{'client_id':'c','user_id':'u','sms_data':["
              "{'sms_id':'1','sms_body':'a','sms_inbox_date':'2026-11-01'},"
              "{'sms_id':'2','sms_body':'b','sms_inbox_date':'2026-11-01'},"
              "{'sms_id':'3','sms_body':'c','sms_inbox_date':'2026-11-01'}],'apps_data':7}",
              TAKEN, 2);
}

/* What only the jansson path may judge: declined. */
static void test_declined(void **state)
{
    static const char *const bodies[] = {
        "[1,2]",
        "'text'",
        "{'client_id':'c','client_id':'d','user_id':'u'}",
        "{'client_id':'c','user_id':'u','sms_data':[],'sms_data':[]}",
        "{'client_id':'c','user_id':'u','sms_data':[{'sms_id':'1','sms_id':'2','sms_body':'a',"
        "'sms_inbox_date':'2026-11-01'}]}",
        "{'client_id':'c','user_id':'u','sms_data':[{'sms_id':'1','sms_body':'a',"
        "'sms_inbox_date':1793000000.5}]}",
        "{'client_id':'c','user_id':'u','sms_data':[{'sms_id':1.0,'sms_body':'a',"
        "'sms_inbox_date':'2026-11-01'}]}",
        "{'client_id':'c','user_id':'u','sms_data':[{'sms_id':'1','sms_body':'a',"
        "'sms_inbox_date':'yesterday'}]}",
        "{'client_id':'c','user_id':'u','sms_data':[{'sms_id':'1','sms_body':null,"
        "'sms_inbox_date':'2026-11-01'}]}",
        "{'client_id':'c','user_id':'u','sms_data':[{'sms_id':'1','sms_body':'a'}]}",
        "{'client_id':'c','user_id':'u','sms_data':[{'sms_id':'1','sms_sender':5,'sms_body':'a',"
        "'sms_inbox_date':'2026-11-01'}]}",
        "{'client_id':'c','user_id':'u','sms_data':['a bare text']}",
        "{'client_id':'c','user_id':'u','sms_data':[{'sms_id':'1','sms_body':'a',"
        "'sms_inbox_date':1e20}]}",
        "{'client_id':'c','user_id':'u','sms_data':[{'sms_id':12345678901234567890,"
        "'sms_body':'a','sms_inbox_date':'2026-11-01'}]}",
        "{'client_id':'c','user_id':'u','sms_data':[{'sms_id':'"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "','sms_body':'a','sms_inbox_date':'2026-11-01'}]}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        both_ways(bodies[i], DECLINED, 0);
}

/* Malformed bodies: declined, and nothing kept. */
static void test_malformed(void **state)
{
    static const char *const bodies[] = {
        "",
        "{",
        "{'a':1,}",
        "{'a':1} x",
        "{'a':'\\u0000'}",
        "{'a':'\x80'}",
        "{'a'}",
        "{'a':[1,]}",
        "{'sms_data':[{'sms_id':'1','sms_body':'a','sms_inbox_date':'2026-11-01'}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        char *body = quoted(bodies[i]);
        struct raw_sms_list sms;

        assert_null(inline_scan_body(body, strlen(body), &sms));
        assert_int_equal(sms.count, 0);
        free(body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taken),     cmocka_unit_test(test_dates),
        cmocka_unit_test(test_too_many),  cmocka_unit_test(test_declined),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
