/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of insights-api/inline_source.h: the raw data of POST
 * /api/generate_features. Every validation path gets a body that triggers it
 * and the detail item is checked (type, loc, msg, ctx, echoed input); every
 * message body carries a marker, and no detail list may contain it. The
 * success path checks the conversion: ids, times in every accepted form,
 * dedupe and order, the most-recent-N cap, apps merged by package, the device,
 * and the source states.
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

#include "insights-api/inline_source.h"

#define MARK "zqxmarkerzq" /* inside every SMS body of these tests */
#define NOW 1795000100     /* the as_of: the newest message of test_convert is dated exactly then */

/* ---- helpers ------------------------------------------------------------ */

/* Parse text as of as_of (single quotes become double quotes, for readable literals). */
static int parse_at(const char *text, int64_t as_of, size_t max_sms, size_t max_items,
                    struct user_data *u, struct raw_sms_list *sms, json_t **detail)
{
    char *body = strdup(text);
    int rc;

    for (char *p = body; *p; p++)
        if (*p == '\'')
            *p = '"';
    rc = inline_source_parse(body, strlen(body), as_of, max_sms, max_items, u, sms, detail);
    free(body);
    return rc;
}

static int parse(const char *text, size_t max_sms, size_t max_items, struct user_data *u,
                 struct raw_sms_list *sms, json_t **detail)
{
    return parse_at(text, NOW, max_sms, max_items, u, sms, detail);
}

/* The detail list never carries a message body. */
static void assert_private(const json_t *detail)
{
    char *text = json_dumps(detail, JSON_COMPACT);

    assert_non_null(text);
    if (strstr(text, MARK))
        fail_msg("detail echoes a message body: %s", text);
    free(text);
}

/* Expect failure with exactly one item of this type and loc (loc as compact JSON). */
static json_t *expect_one(const char *body, const char *type, const char *loc)
{
    struct user_data u;
    struct raw_sms_list sms;
    json_t *detail = NULL, *item;
    char *l;

    assert_int_equal(parse(body, 0, 0, &u, &sms, &detail), -1);
    assert_non_null(detail);
    assert_private(detail);
    if (json_array_size(detail) != 1) {
        char *t = json_dumps(detail, JSON_COMPACT);
        fail_msg("expected one item for %s, got %s", type, t);
    }
    item = json_array_get(detail, 0);
    assert_string_equal(json_string_value(json_object_get(item, "type")), type);
    l = json_dumps(json_object_get(item, "loc"), JSON_COMPACT);
    assert_string_equal(l, loc);
    free(l);
    assert_non_null(json_string_value(json_object_get(item, "msg")));
    assert_non_null(json_object_get(item, "input"));
    /* on failure nothing is kept, but u and sms are still safe to free */
    assert_int_equal(sms.count, 0);
    assert_int_equal(u.apps_count, 0);
    user_data_free(&u);
    raw_sms_list_free(&sms);
    json_incref(item);
    json_decref(detail);
    return item; /* caller decrefs */
}

static void check_one(const char *body, const char *type, const char *loc)
{
    json_decref(expect_one(body, type, loc));
}

#define IDS "'client_id':'c1','user_id':'u1'"
#define SMS_OK(id) "{'sms_id':'" id "','sms_body':'body " MARK "','sms_inbox_date':1795000060000}"

/* ---- body level --------------------------------------------------------- */

static void test_body_level(void **state)
{
    json_t *item;

    (void)state;
    item = expect_one("", "missing", "[\"body\"]");
    assert_true(json_is_null(json_object_get(item, "input")));
    json_decref(item);

    /* truncated: the offset is the end of the body */
    static const char truncated[] = "{'client_id': 'c1', 'sms_data': [" SMS_OK("1") ", ";
    char loc[32];
    snprintf(loc, sizeof(loc), "[\"body\",%zu]", strlen(truncated));
    item = expect_one(truncated, "json_invalid", loc);
    assert_int_equal(json_object_size(json_object_get(item, "input")), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(item, "ctx"), "error")),
                        "unexpected end of input");
    json_decref(item);

    item = expect_one("{'client_id': '\xff'}", "json_invalid", "[\"body\",15]");
    assert_string_equal(json_string_value(json_object_get(json_object_get(item, "ctx"), "error")),
                        "invalid UTF-8");
    json_decref(item);

    struct user_data u;
    struct raw_sms_list sms;
    json_t *detail;
    assert_int_equal(parse("nonsense " MARK, 0, 0, &u, &sms, &detail), -1);
    assert_private(detail);
    item = json_array_get(detail, 0);
    assert_string_equal(json_string_value(json_object_get(item, "type")), "json_invalid");
    assert_string_equal(json_string_value(json_array_get(json_object_get(item, "loc"), 0)), "body");
    assert_true(json_is_integer(json_array_get(json_object_get(item, "loc"), 1)));
    json_decref(detail);
    user_data_free(&u);
    raw_sms_list_free(&sms);
    check_one("[1,2]", "model_attributes_type", "[\"body\"]");
    item = expect_one("'text of a message " MARK "'", "model_attributes_type", "[\"body\"]");
    assert_string_equal(json_string_value(json_object_get(item, "input")), INLINE_SOURCE_REDACTED);
    json_decref(item);
    check_one("42", "model_attributes_type", "[\"body\"]");
}

static void test_ids(void **state)
{
    json_t *item, *input;
    char body[1024], longid[200];

    (void)state;
    item = expect_one("{'user_id':'u1','sms_data':[" SMS_OK("1") "],'x':7,'note':'" MARK "'}",
                      "missing", "[\"body\",\"client_id\"]");
    input = json_object_get(item, "input");
    /* the enclosing object is echoed with its lists redacted */
    assert_string_equal(json_string_value(json_object_get(input, "user_id")), "u1");
    assert_string_equal(json_string_value(json_object_get(input, "sms_data")),
                        INLINE_SOURCE_REDACTED);
    assert_int_equal(json_integer_value(json_object_get(input, "x")), 7);
    /* an unknown member's string could be message text */
    assert_string_equal(json_string_value(json_object_get(input, "note")), INLINE_SOURCE_REDACTED);
    assert_string_equal(json_string_value(json_object_get(item, "msg")), "Field required");
    json_decref(item);

    check_one("{'client_id':'c1'}", "missing", "[\"body\",\"user_id\"]");
    check_one("{'client_id':5,'user_id':'u'}", "string_type", "[\"body\",\"client_id\"]");
    check_one("{'client_id':'c','user_id':null}", "string_type", "[\"body\",\"user_id\"]");
    /* Credeau: a user_id has at most 64 characters (the same limit on every endpoint) */
    memset(longid, 'a', 65);
    longid[65] = '\0';
    snprintf(body, sizeof(body), "{'client_id':'c','user_id':'%s'}", longid);
    item = expect_one(body, "string_too_long", "[\"body\",\"user_id\"]");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(item, "ctx"), "max_length")), 64);
    json_decref(item);
    /* 64 characters of multi-byte UTF-8 (128 bytes) is still within the limit */
    char wide[600];
    for (int i = 0; i < 64; i++)
        memcpy(wide + 2 * i, "\xc3\xa9", 2);
    wide[128] = '\0';
    snprintf(body, sizeof(body), "{'client_id':'c','user_id':'%s'}", wide);
    struct user_data u;
    struct raw_sms_list sms;
    json_t *detail;
    assert_int_equal(parse(body, 0, 0, &u, &sms, &detail), 0);
    user_data_free(&u);
    raw_sms_list_free(&sms);
}

/* ---- sms_data ----------------------------------------------------------- */

static void test_sms_list(void **state)
{
    json_t *item, *input;

    (void)state;
    check_one("{" IDS ",'sms_data':{'a':1}}", "list_type", "[\"body\",\"sms_data\"]");
    check_one("{" IDS ",'sms_data':'" MARK "'}", "list_type", "[\"body\",\"sms_data\"]");

    struct user_data u;
    struct raw_sms_list sms;
    json_t *detail;
    assert_int_equal(parse("{" IDS ",'sms_data':[" SMS_OK("1") "," SMS_OK("2") "," SMS_OK(
                               "3") "," SMS_OK("4") "]}",
                           0, 3, &u, &sms, &detail),
                     -1);
    item = json_array_get(detail, 0);
    assert_string_equal(json_string_value(json_object_get(item, "type")), "too_long");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(item, "ctx"), "max_length")), 3);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(item, "ctx"), "actual_length")), 4);
    assert_private(detail);
    json_decref(detail);
    user_data_free(&u);
    raw_sms_list_free(&sms);

    item = expect_one("{" IDS ",'sms_data':['a bare message " MARK "']}", "model_type",
                      "[\"body\",\"sms_data\",0]");
    assert_string_equal(json_string_value(json_object_get(item, "input")), INLINE_SOURCE_REDACTED);
    json_decref(item);

    item = expect_one("{" IDS ",'sms_data':[" SMS_OK("1") ",{'sms_body':'x " MARK
                                                          "','sms_inbox_date':1,'extra':[1]}]}",
                      "missing", "[\"body\",\"sms_data\",1,\"sms_id\"]");
    input = json_object_get(item, "input");
    assert_string_equal(json_string_value(json_object_get(input, "sms_body")),
                        INLINE_SOURCE_REDACTED);
    assert_string_equal(json_string_value(json_object_get(input, "extra")), INLINE_SOURCE_REDACTED);
    json_decref(item);

    check_one("{" IDS ",'sms_data':[{'sms_id':'1','sms_inbox_date':1}]}", "missing",
              "[\"body\",\"sms_data\",0,\"sms_body\"]");
    check_one("{" IDS ",'sms_data':[{'sms_id':'1','sms_body':'" MARK "'}]}", "missing",
              "[\"body\",\"sms_data\",0,\"sms_inbox_date\"]");
}

static void test_sms_fields(void **state)
{
    json_t *item;
    char body[1024], longid[200];

    (void)state;
    check_one("{" IDS ",'sms_data':[{'sms_id':true,'sms_body':'" MARK "','sms_inbox_date':1}]}",
              "string_type", "[\"body\",\"sms_data\",0,\"sms_id\"]");
    check_one("{" IDS ",'sms_data':[{'sms_id':1.5,'sms_body':'" MARK "','sms_inbox_date':1}]}",
              "string_type", "[\"body\",\"sms_data\",0,\"sms_id\"]");
    memset(longid, '7', 129);
    longid[129] = '\0';
    snprintf(body, sizeof(body),
             "{" IDS ",'sms_data':[{'sms_id':'%s','sms_body':'" MARK "','sms_inbox_date':1}]}",
             longid);
    check_one(body, "string_too_long", "[\"body\",\"sms_data\",0,\"sms_id\"]");
    check_one("{" IDS ",'sms_data':[{'sms_id':'1','sms_sender':9,'sms_body':'" MARK
              "','sms_inbox_date':1}]}",
              "string_type", "[\"body\",\"sms_data\",0,\"sms_sender\"]");
    item = expect_one("{" IDS ",'sms_data':[{'sms_id':'1','sms_body':12345,'sms_inbox_date':1}]}",
                      "string_type", "[\"body\",\"sms_data\",0,\"sms_body\"]");
    /* even a non-string body is not echoed */
    assert_string_equal(json_string_value(json_object_get(item, "input")), INLINE_SOURCE_REDACTED);
    json_decref(item);
    check_one("{" IDS ",'sms_data':[{'sms_id':'1','sms_body':null,'sms_inbox_date':1}]}",
              "string_type", "[\"body\",\"sms_data\",0,\"sms_body\"]");
}

static void test_sms_dates(void **state)
{
    json_t *item;

    (void)state;
    check_one("{" IDS ",'sms_data':[{'sms_id':'1','sms_body':'" MARK "','sms_inbox_date':true}]}",
              "datetime_type", "[\"body\",\"sms_data\",0,\"sms_inbox_date\"]");
    check_one("{" IDS ",'sms_data':[{'sms_id':'1','sms_body':'" MARK "','sms_inbox_date':null}]}",
              "datetime_type", "[\"body\",\"sms_data\",0,\"sms_inbox_date\"]");
    check_one("{" IDS ",'sms_data':[{'sms_id':'1','sms_body':'" MARK "','sms_inbox_date':[1]}]}",
              "datetime_type", "[\"body\",\"sms_data\",0,\"sms_inbox_date\"]");
    item = expect_one("{" IDS ",'sms_data':[{'sms_id':'1','sms_body':'" MARK
                      "','sms_inbox_date':'2026-13-01 10:00:00'}]}",
                      "datetime_from_date_parsing", "[\"body\",\"sms_data\",0,\"sms_inbox_date\"]");
    assert_string_equal(json_string_value(json_object_get(item, "input")), "2026-13-01 10:00:00");
    assert_non_null(json_string_value(json_object_get(json_object_get(item, "ctx"), "error")));
    assert_non_null(strstr(json_string_value(json_object_get(item, "msg")),
                           "Input should be a valid datetime or date, "));
    json_decref(item);
    check_one("{" IDS ",'sms_data':[{'sms_id':'1','sms_body':'" MARK
              "','sms_inbox_date':99999999999999999}]}",
              "datetime_from_date_parsing", "[\"body\",\"sms_data\",0,\"sms_inbox_date\"]");
    check_one("{" IDS ",'sms_data':[{'sms_id':'1','sms_body':'" MARK "','sms_inbox_date':1e300}]}",
              "datetime_from_date_parsing", "[\"body\",\"sms_data\",0,\"sms_inbox_date\"]");
}

/* ---- apps_data and device_data ------------------------------------------ */

static void test_apps_and_device(void **state)
{
    (void)state;
    check_one("{" IDS ",'apps_data':5}", "list_type", "[\"body\",\"apps_data\"]");
    check_one("{" IDS ",'apps_data':['com.example']}", "model_type", "[\"body\",\"apps_data\",0]");
    check_one("{" IDS ",'apps_data':[{'app_name':'x'}]}", "missing",
              "[\"body\",\"apps_data\",0,\"package_name\"]");
    check_one("{" IDS ",'apps_data':[{'package_name':'p','app_name':3}]}", "string_type",
              "[\"body\",\"apps_data\",0,\"app_name\"]");
    check_one("{" IDS ",'apps_data':[{'package_name':'p','install_time':'yesterday'}]}",
              "datetime_from_date_parsing", "[\"body\",\"apps_data\",0,\"install_time\"]");
    check_one("{" IDS ",'apps_data':[{'package_name':'p','update_time':{}}]}", "datetime_type",
              "[\"body\",\"apps_data\",0,\"update_time\"]");
    check_one("{" IDS ",'apps_data':[{'package_name':'p','is_system':'yes'}]}", "bool_type",
              "[\"body\",\"apps_data\",0,\"is_system\"]");

    check_one("{" IDS ",'device_data':[1]}", "model_type", "[\"body\",\"device_data\"]");
    check_one("{" IDS ",'device_data':{'brand':1}}", "string_type",
              "[\"body\",\"device_data\",\"brand\"]");
    check_one("{" IDS ",'device_data':{'os_version':14}}", "string_type",
              "[\"body\",\"device_data\",\"os_version\"]");
    check_one("{" IDS ",'device_data':{'sdk_int':33.5}}", "int_type",
              "[\"body\",\"device_data\",\"sdk_int\"]");
    check_one("{" IDS ",'device_data':{'total_ram_mb':'6GB'}}", "float_type",
              "[\"body\",\"device_data\",\"total_ram_mb\"]");
    check_one("{" IDS ",'device_data':{'total_storage_mb':true}}", "float_type",
              "[\"body\",\"device_data\",\"total_storage_mb\"]");
    check_one("{" IDS ",'device_data':{'captured_at':'2026-02-30'}}", "datetime_from_date_parsing",
              "[\"body\",\"device_data\",\"captured_at\"]");
}

/* All problems are reported together, up to the cap. */
static void test_many_errors(void **state)
{
    struct user_data u;
    struct raw_sms_list sms;
    json_t *detail, *root = json_object(), *list = json_array();

    (void)state;
    json_object_set_new(root, "user_id", json_integer(1));
    for (int i = 0; i < 150; i++)
        json_array_append_new(list,
                              json_pack("{s:s,s:b}", "sms_body", "x " MARK, "sms_inbox_date", 1));
    json_object_set_new(root, "sms_data", list);
    assert_int_equal(inline_source_parse_json(root, NOW, 0, 0, &u, &sms, &detail), -1);
    assert_int_equal(json_array_size(detail), INLINE_SOURCE_MAX_ERRORS);
    /* client_id missing and user_id wrong first, then the items in order */
    assert_string_equal(json_string_value(json_object_get(json_array_get(detail, 0), "type")),
                        "missing");
    assert_string_equal(json_string_value(json_object_get(json_array_get(detail, 1), "type")),
                        "string_type");
    assert_private(detail);
    json_decref(detail);
    json_decref(root);
    user_data_free(&u);
    raw_sms_list_free(&sms);
}

/* ---- success ------------------------------------------------------------ */

static void test_convert(void **state)
{
    struct user_data u;
    struct raw_sms_list sms;
    json_t *detail = NULL;
    const char *body =
        "{'client_id':'c1','user_id':'u1','groupings':['all'],"
        "'sms_data':["
        "{'sms_id':'a','sms_sender':'VM-EXBANK-S','sms_body':'first " MARK
        "','sms_inbox_date':1795000060000},"
        "{'sms_id':42,'sms_sender':null,'sms_body':'int id','sms_inbox_date':1795000000},"
        "{'sms_id':'b','sms_body':'ist text','sms_inbox_date':'2026-11-18 16:37:41'},"
        "{'sms_id':'c','sms_body':'zoned','sms_inbox_date':'2026-11-18T11:07:42Z','type':'inbox'},"
        "{'sms_id':'a','sms_sender':'VM-EXBANK-S','sms_body':'second copy','sms_inbox_date':"
        "1795000059000},"
        "{'sms_id':'d','sms_body':'epoch text','sms_inbox_date':'1795000100'}"
        "],"
        "'apps_data':["
        "{'package_name':'com.example.loan','app_name':'Loan','install_time':1700000000000,"
        "'is_system':false},"
        "{'package_name':'com.android.settings','is_system':true},"
        "{'package_name':'com.example.loan','app_name':'Loan 2','update_time':1700000500}"
        "],"
        "'device_data':{'brand':'Exphone','model':'EX-1','manufacturer':'Example','os_version':'14'"
        ","
        "'sdk_int':34,'total_ram_mb':6144,'total_storage_mb':131072.5,"
        "'captured_at':1795000000000,'carrier':'Jio'}}";

    (void)state;
    assert_int_equal(parse(body, 0, 0, &u, &sms, &detail), 0);
    assert_null(detail);
    assert_string_equal(u.client_id, "c1");
    assert_string_equal(u.user_id, "u1");
    assert_int_equal(u.now, NOW);

    /* 'a' deduplicated (the later item wins), then ordered by time */
    assert_int_equal(sms.count, 5);
    static const char *const ids[] = {"42", "a", "b", "c", "d"};
    static const int64_t ts[] = {1795000000, 1795000059, 1795000061, 1795000062, 1795000100};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(sms.items[i].sms_id, ids[i]);
        assert_int_equal(sms.items[i].ts, ts[i]);
    }
    assert_string_equal(sms.items[1].body, "second copy");
    assert_string_equal(sms.items[1].sender, "VM-EXBANK-S");
    assert_null(sms.items[0].sender);
    assert_int_equal(u.sms_state, SOURCE_NOT_ASKED); /* extraction decides */

    assert_int_equal(u.apps_state, SOURCE_OK);
    assert_int_equal(u.apps_count, 2);
    struct app_fact *loan = user_data_find_app(&u, "com.example.loan");
    assert_string_equal(loan->app_name, "Loan 2");
    assert_int_equal(loan->install_ts, 0);
    assert_int_equal(loan->update_ts, 1700000500);
    assert_true(user_data_find_app(&u, "com.android.settings")->is_system);
    assert_null(user_data_find_app(&u, "com.android.settings")->app_name);

    assert_int_equal(u.device_state, SOURCE_OK);
    assert_string_equal(u.device.brand, "Exphone");
    assert_string_equal(u.device.model, "EX-1");
    assert_string_equal(u.device.os_version, "14");
    assert_int_equal(u.device.sdk_int, 34);
    assert_true(u.device.total_ram_mb == 6144.0);
    assert_true(u.device.total_storage_mb == 131072.5);
    assert_int_equal(u.device.captured_ts, 1795000000);
    user_data_free(&u);
    raw_sms_list_free(&sms);

    /* the most recent N */
    assert_int_equal(parse(body, 2, 0, &u, &sms, &detail), 0);
    assert_int_equal(sms.count, 2);
    assert_string_equal(sms.items[0].sms_id, "c");
    assert_string_equal(sms.items[1].sms_id, "d");
    user_data_free(&u);
    raw_sms_list_free(&sms);
}

/*
 * As of a time: messages dated after it, apps installed after it and a
 * device captured after it are left out (an earlier copy of an app wins),
 * update times after it forgotten; the cap keeps the most recent as of then.
 */
static void test_as_of(void **state)
{
    const char *body =
        "{'client_id':'c1','user_id':'u1','sms_data':["
        "{'sms_id':'1','sms_body':'" MARK "','sms_inbox_date':1795000000},"
        "{'sms_id':'2','sms_body':'" MARK "','sms_inbox_date':1795000050},"
        "{'sms_id':'3','sms_body':'" MARK "','sms_inbox_date':1795000051},"
        "{'sms_id':'4','sms_body':'" MARK "','sms_inbox_date':1795000100}],"
        "'apps_data':["
        "{'package_name':'p.old','install_time':1795000000,'update_time':1795000099},"
        "{'package_name':'p.new','install_time':1795000051},"
        "{'package_name':'p.old','app_name':'reinstalled','install_time':1795000090},"
        "{'package_name':'p.undated'}],"
        "'device_data':{'brand':'Exphone','captured_at':1795000051}}";
    struct user_data u;
    struct raw_sms_list sms;
    json_t *detail = NULL;

    (void)state;
    assert_int_equal(parse_at(body, 1795000050, 0, 0, &u, &sms, &detail), 0);
    assert_int_equal(u.now, 1795000050);
    assert_int_equal(sms.count, 2); /* 1 and 2: dated at or before as_of */
    assert_string_equal(sms.items[1].sms_id, "2");
    assert_int_equal(u.apps_count, 2);
    assert_null(user_data_find_app(&u, "p.new"));
    assert_null(user_data_find_app(&u, "p.old")->app_name); /* the reinstall came later */
    assert_int_equal(user_data_find_app(&u, "p.old")->update_ts, 0);
    assert_non_null(user_data_find_app(&u, "p.undated"));
    assert_int_equal(u.device_state, SOURCE_EMPTY); /* captured later */
    assert_null(u.device.brand);
    user_data_free(&u);
    raw_sms_list_free(&sms);

    /* capped to one: the most recent as of then (2), not the most recent of all (4) */
    assert_int_equal(parse_at(body, 1795000050, 1, 0, &u, &sms, &detail), 0);
    assert_int_equal(sms.count, 1);
    assert_string_equal(sms.items[0].sms_id, "2");
    user_data_free(&u);
    raw_sms_list_free(&sms);

    /* before everything: every dated source is empty */
    assert_int_equal(parse_at(body, 1794999999, 0, 0, &u, &sms, &detail), 0);
    assert_int_equal(sms.count, 0);
    assert_int_equal(u.sms_state, SOURCE_EMPTY);
    assert_int_equal(u.apps_count, 1); /* p.undated: nothing says it came later */
    user_data_free(&u);
    raw_sms_list_free(&sms);
}

static void test_empty_sources(void **state)
{
    static const char *const bodies[] = {
        "{'client_id':'c','user_id':'u'}",
        "{'client_id':'c','user_id':'u','sms_data':null,'apps_data':null,'device_data':null}",
        "{'client_id':'c','user_id':'u','sms_data':[],'apps_data':[],'device_data':{}}",
    };

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        struct user_data u;
        struct raw_sms_list sms;
        json_t *detail = NULL;

        assert_int_equal(parse(bodies[i], 0, 0, &u, &sms, &detail), 0);
        assert_int_equal(u.sms_state, SOURCE_EMPTY);
        assert_int_equal(u.apps_state, SOURCE_EMPTY);
        assert_int_equal(u.device_state, SOURCE_EMPTY);
        assert_int_equal(sms.count, 0);
        assert_true(isnan(u.device.total_ram_mb));
        user_data_free(&u);
        raw_sms_list_free(&sms);
    }
}

/* Bytes and an already parsed tree give the same result. */
static void test_json_entry(void **state)
{
    const char *body = "{\"client_id\":\"c\",\"user_id\":\"u\",\"sms_data\":[{\"sms_id\":\"1\","
                       "\"sms_body\":\"x\",\"sms_inbox_date\":\"2026-01-01\"}]}";
    json_t *root = json_loads(body, 0, NULL);
    struct user_data u1, u2;
    struct raw_sms_list s1, s2;
    json_t *d1 = NULL, *d2 = NULL;

    (void)state;
    assert_int_equal(inline_source_parse(body, strlen(body), NOW, 0, 0, &u1, &s1, &d1), 0);
    assert_int_equal(inline_source_parse_json(root, NOW, 0, 0, &u2, &s2, &d2), 0);
    assert_int_equal(s1.count, 1);
    assert_int_equal(s2.count, 1);
    assert_int_equal(s1.items[0].ts, s2.items[0].ts);
    /* "2026-01-01" is midnight India time */
    assert_int_equal(s1.items[0].ts, 1767205800);
    json_decref(root);
    user_data_free(&u1);
    user_data_free(&u2);
    raw_sms_list_free(&s1);
    raw_sms_list_free(&s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_level),  cmocka_unit_test(test_ids),
        cmocka_unit_test(test_sms_list),    cmocka_unit_test(test_sms_fields),
        cmocka_unit_test(test_sms_dates),   cmocka_unit_test(test_apps_and_device),
        cmocka_unit_test(test_many_errors), cmocka_unit_test(test_convert),
        cmocka_unit_test(test_as_of),       cmocka_unit_test(test_empty_sources),
        cmocka_unit_test(test_json_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
