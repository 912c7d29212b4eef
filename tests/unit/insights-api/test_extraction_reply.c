/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of insights-api/extraction_reply.h: the scanner and the jansson
 * parser must give identical facts. Hand-written replies cover escapes,
 * layout, key order, duplicates, missing and mistyped members, and every
 * shape the scanner refuses (where AUTO must fall back to jansson and still
 * agree). With EXTRACTOR_URL set (tests/integration/test_ins_sources.sh),
 * the raw bytes of real sms-extraction replies are compared too.
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

#include "common/http_client.h"
#include "common/json_writer.h"
#include "insights-api/extraction_reply.h"
#include "tests/unit/record_keys.h"

/* ---- comparing facts ---------------------------------------------------- */

static void same_str(const char *a, const char *b, const char *what, size_t i)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
        fail_msg("record %zu %s: '%s' vs '%s'", i, what, a ? a : "(null)", b ? b : "(null)");
}

static void same_num(double a, double b, const char *what, size_t i)
{
    if (isnan(a) != isnan(b) || (!isnan(a) && a != b))
        fail_msg("record %zu %s: %g vs %g", i, what, a, b);
}

static void same_facts(const struct user_data *x, const struct user_data *y)
{
    assert_int_equal(x->sms_count, y->sms_count);
    for (size_t i = 0; i < x->sms_count; i++) {
        const struct sms_fact *a = &x->sms[i], *b = &y->sms[i];

        assert_int_equal(a->ts, b->ts);
        same_str(a->sms_id, b->sms_id, "sms_id", i);
        same_str(a->sender, b->sender, "sender", i);
        same_str(a->sender_name, b->sender_name, "sender_name", i);
        same_str(a->sender_type, b->sender_type, "sender_type", i);
        same_str(a->sms_type, b->sms_type, "sms_type", i);
        same_str(a->sms_sub_type, b->sms_sub_type, "sms_sub_type", i);
        same_str(a->channel, b->channel, "channel", i);
        same_str(a->transaction_party, b->transaction_party, "transaction_party", i);
        same_str(a->account_last_digits, b->account_last_digits, "account_last_digits", i);
        same_str(a->unique_pan, b->unique_pan, "unique_pan", i);
        same_str(a->reference_no, b->reference_no, "reference_no", i);
        assert_int_equal(a->is_classified, b->is_classified);
        assert_int_equal(a->is_extracted, b->is_extracted);
        assert_int_equal(a->is_transactional, b->is_transactional);
        assert_int_equal(a->direction, b->direction);
        same_num(a->amount, b->amount, "amount", i);
        same_num(a->available_balance, b->available_balance, "available_balance", i);
        same_num(a->credit_limit, b->credit_limit, "credit_limit", i);
        same_num(a->available_limit, b->available_limit, "available_limit", i);
        same_num(a->due_amount, b->due_amount, "due_amount", i);
        same_num(a->min_due, b->min_due, "min_due", i);
        same_num(a->overdue_amount, b->overdue_amount, "overdue_amount", i);
        same_num(a->days_past_due, b->days_past_due, "days_past_due", i);
    }
}

/* The messages the replies answer: ids m0.., times 1795000000 + i. */
static struct raw_sms msgs[8];

static int setup(void **state)
{
    static char ids[8][16];

    (void)state;
    for (int i = 0; i < 8; i++) {
        snprintf(ids[i], sizeof(ids[i]), "m%d", i);
        msgs[i].sms_id = ids[i];
        msgs[i].body = "";
        msgs[i].ts = 1795000000 + i;
    }
    return 0;
}

/* Parse text with both parsers (and AUTO); returns the AUTO result, facts compared. */
static enum err both(const char *text, size_t expect, struct user_data *out, bool scan_ok)
{
    struct user_data j, s;
    char why[256];
    enum err ej, es, ea;
    size_t len = strlen(text);

    user_data_init(&j, "c", "u", 0);
    user_data_init(&s, "c", "u", 0);
    user_data_init(out, "c", "u", 0);
    ej = extraction_reply_parse(text, len, expect, msgs, EXTRACTION_REPLY_JANSSON, &j, NULL, why,
                                sizeof(why));
    es = extraction_reply_parse(text, len, expect, msgs, EXTRACTION_REPLY_SCAN, &s, NULL, why,
                                sizeof(why));
    ea = extraction_reply_parse(text, len, expect, msgs, EXTRACTION_REPLY_AUTO, out, NULL, why,
                                sizeof(why));
    assert_int_equal(ea, ej);
    if (scan_ok) {
        assert_int_equal(es, ERR_OK);
        same_facts(&j, &s);
    } else {
        assert_int_not_equal(es, ERR_OK);
        assert_int_equal(s.sms_count, 0); /* nothing left behind */
    }
    same_facts(&j, out);
    user_data_free(&j);
    user_data_free(&s);
    return ea;
}

/* Single quotes become double quotes, for readable literals. */
static char *q(const char *text)
{
    char *t = strdup(text);

    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    return t;
}

/* both() on a literal written with single quotes (see q()). */
static enum err both_q(const char *quoted, size_t expect, struct user_data *out, bool scan_ok)
{
    char *t = q(quoted);
    enum err e = both(t, expect, out, scan_ok);

    free(t); /* out holds copies of its strings */
    return e;
}

/* A reply the scanner takes and both parsers read alike; out gets the facts (caller frees). */
static void parse_ok(const char *quoted, size_t expect, struct user_data *out)
{
    assert_int_equal(both_q(quoted, expect, out, true), ERR_OK);
}

#define REC_A                                                                                      \
    "{'sms_id':'m0','sms_sender':'exbank','sms_inbox_date':'2026-11-18 16:37:40',"                 \
    "'sender_name':'example bank','sender_type':'bank','sms_type':'account_debit_executed',"       \
    "'sms_sub_type':'bank','sms_kind':'emi','is_classified':true,'is_extracted':true,"             \
    "'is_transactional':true,'transaction':250,'transaction_type':'debit-transaction',"            \
    "'account_last_digits':'1234','transaction_party':'shop@exupi','party_kind':null,"             \
    "'unique_pan':'bank | example bank | 34','available_balance':1.5e3,"                           \
    "'reference_no':'123456789012','channel':'upi','transaction_date':'01-11-26',"                 \
    "'credit_limit':null,'available_limit':null,'due_amount':null,'min_due':-0.25,"                \
    "'due_date':null,'overdue_amount':null,'days_past_due':null,'currency':'INR',"                 \
    "'template_id':'debit_upi_vpa'}"

/* ---- cases -------------------------------------------------------------- */

static void test_plain(void **state)
{
    struct user_data u;

    (void)state;
    parse_ok("{'request_id':'r1','extracted_sms_data':[" REC_A "]}", 1, &u);
    assert_int_equal(u.sms_count, 1);
    assert_int_equal(u.sms[0].ts, 1795000060);
    assert_string_equal(u.sms[0].sender_name, "example bank");
    /* the features' fine kind is the record's sms_kind; sms_sub_type is the sender kind */
    assert_string_equal(u.sms[0].sms_sub_type, "emi");
    assert_int_equal(u.sms[0].direction, SMS_DIRECTION_DEBIT);
    assert_true(u.sms[0].amount == 250.0);
    assert_true(u.sms[0].available_balance == 1500.0);
    assert_true(u.sms[0].min_due == -0.25);
    assert_true(isnan(u.sms[0].credit_limit));
    assert_true(u.sms[0].is_transactional);
    assert_true(isnan(u.sms[0].overdue_amount) && isnan(u.sms[0].days_past_due));
    user_data_free(&u);

    /* a delinquency notice: its kind and the numbers it states reach the features */
    parse_ok("{'extracted_sms_data':[{'sms_id':'m0','sms_type':'delinquency_notice','sms_sub_type':"
             "'lender','sms_kind':'final_notice','overdue_amount':7300,'days_past_due':21}]}",
             1, &u);
    assert_string_equal(u.sms[0].sms_sub_type, "final_notice");
    assert_true(u.sms[0].overdue_amount == 7300.0);
    assert_true(u.sms[0].days_past_due == 21.0);
    user_data_free(&u);

    /* number forms; scalar members around the list */
    parse_ok("{'n':-0,'extracted_sms_data':[{'transaction':1.5E+2,'min_due':-12e-1}],'ok':true}", 1,
             &u);
    assert_true(u.sms[0].amount == 150.0);
    assert_true(u.sms[0].min_due == -1.2);
    user_data_free(&u);
}

static void test_layout_and_order(void **state)
{
    struct user_data u;
    /* pretty-printed, keys shuffled, extra members at both levels, request_id last */
    const char *text =
        " {\n  'extracted_sms_data' : [\n   { 'is_extracted' : false ,\t'sms_type':"
        "'otp', 'sms_id' : 'm1', 'zz_new_field': 3, 'sms_inbox_date':'2026-01-01 "
        "00:00:00', 'transaction_type' : 'credit-transaction', 'transaction': 0 } ,\r\n"
        "   {}\n  ] ,\n  'version' : 2 , 'request_id' : 'r' }\n";

    (void)state;
    parse_ok(text, 2, &u);
    assert_string_equal(u.sms[0].sms_type, "otp");
    assert_int_equal(u.sms[0].direction, SMS_DIRECTION_CREDIT);
    assert_true(u.sms[0].amount == 0.0);
    assert_int_equal(u.sms[0].ts, 1767205800); /* midnight India time */
    /* an empty record: id and time from the message sent */
    assert_string_equal(u.sms[1].sms_id, "m1");
    assert_int_equal(u.sms[1].ts, 1795000001);
    assert_null(u.sms[1].sms_type);
    user_data_free(&u);
}

static void test_escapes(void **state)
{
    struct user_data u;
    const char *text = "{'extracted_sms_data':[{'sms_id':'m0','transaction_party':"
                       "'A \\'quoted\\' \\\\ back\\/slash\\n\\t\\b\\f\\r caf\\u00e9 \\u20ac "
                       "\\ud83d\\ude00 \\u00E9','sender_name':'plain'}]}";

    (void)state;
    parse_ok(text, 1, &u);
    assert_string_equal(u.sms[0].transaction_party,
                        "A \"quoted\" \\ back/slash\n\t\b\f\r caf\xc3\xa9 \xe2\x82\xac "
                        "\xf0\x9f\x98\x80 \xc3\xa9");
    assert_string_equal(u.sms[0].sender_name, "plain");
    user_data_free(&u);
}

static void test_types_and_duplicates(void **state)
{
    struct user_data u;
    const char *text = "{'extracted_sms_data':[{'sms_id':7,'sms_sender':false,'transaction':'250',"
                       "'is_classified':1,'is_extracted':'true','transaction_type':'debit',"
                       "'sms_inbox_date':1795000060,'channel':'upi','channel':'neft',"
                       "'available_balance':12,'available_balance':null}]}";

    (void)state;
    parse_ok(text, 1, &u);
    assert_string_equal(u.sms[0].sms_id, "m0"); /* not a string: the id sent */
    assert_null(u.sms[0].sender);
    assert_true(isnan(u.sms[0].amount));
    assert_false(u.sms[0].is_classified);
    assert_false(u.sms[0].is_extracted);
    assert_int_equal(u.sms[0].direction, SMS_DIRECTION_NONE);
    assert_int_equal(u.sms[0].ts, 1795000000);     /* not a date text: the time sent */
    assert_string_equal(u.sms[0].channel, "neft"); /* duplicates: the last wins */
    assert_true(isnan(u.sms[0].available_balance));
    user_data_free(&u);
}

/* Shapes the scanner refuses: AUTO still agrees with jansson. */
static void test_fallbacks(void **state)
{
    static const char *const texts[] = {
        "{'extracted_sms_data':[{'sms_id':'m0','extra':{'nested':true}}]}",
        "{'extracted_sms_data':[{'sms_id':'m0','extra':[1,2]}],'request_id':'r'}",
        "{'meta':{'a':1},'extracted_sms_data':[{'sms_id':'m0'}]}",
    };
    struct user_data u;

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        assert_int_equal(both_q(texts[i], 1, &u, false), ERR_OK);
        assert_int_equal(u.sms_count, 1);
        user_data_free(&u);
    }
    /* an escaped key is decoded like any string (the scanner no longer leaves it to jansson) */
    assert_int_equal(both_q("{'extracted_sms_data':[{'s\\u006ds_id':'m5'}]}", 1, &u, true), ERR_OK);
    assert_string_equal(u.sms[0].sms_id, "m5");
    user_data_free(&u);
}

static void test_errors(void **state)
{
    static const struct {
        const char *text;
        size_t expect;
        enum err want;
    } cases[] = {
        {"", 1, ERR_DEPENDENCY_UNAVAILABLE},
        {"not json", 1, ERR_DEPENDENCY_UNAVAILABLE},
        {"{'extracted_sms_data':", 1, ERR_DEPENDENCY_UNAVAILABLE},
        {"{'extracted_sms_data':[{'sms_id':'m0'}]", 1, ERR_DEPENDENCY_UNAVAILABLE},
        {"{'extracted_sms_data':[{'sms_id':'m0'}]} trailing", 1, ERR_DEPENDENCY_UNAVAILABLE},
        {"{'extracted_sms_data':{}}", 1, ERR_DEPENDENCY_UNAVAILABLE},
        {"{'records':[]}", 0, ERR_DEPENDENCY_UNAVAILABLE},
        {"[]", 0, ERR_DEPENDENCY_UNAVAILABLE},
        {"{'extracted_sms_data':[1]}", 1, ERR_DEPENDENCY_UNAVAILABLE},
        {"{'extracted_sms_data':[{'sms_id':'a\\u0000b'}]}", 1, ERR_DEPENDENCY_UNAVAILABLE},
        {"{'extracted_sms_data':[{'sms_id':'\\ud800'}]}", 1, ERR_DEPENDENCY_UNAVAILABLE},
        {"{'extracted_sms_data':[{'sms_id':'m0','transaction':1e999}]}", 1,
         ERR_DEPENDENCY_UNAVAILABLE},
        {"{'extracted_sms_data':[{},{}]}", 1, ERR_INTERNAL},
        {"{'extracted_sms_data':[]}", 2, ERR_INTERNAL},
        {"{'extracted_sms_data':[]}", 0, ERR_OK},
    };
    struct user_data u;
    char why[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum err e = both_q(cases[i].text, cases[i].expect, &u, cases[i].want == ERR_OK);
        if (e != cases[i].want)
            fail_msg("case %zu: got %d, want %d", i, e, cases[i].want);
        assert_int_equal(u.sms_count, 0);
        user_data_free(&u);
    }
    /* NULL body, and the records array with the jansson path */
    user_data_init(&u, "c", "u", 0);
    assert_int_equal(
        extraction_reply_parse(NULL, 0, 1, msgs, EXTRACTION_REPLY_AUTO, &u, NULL, why, sizeof(why)),
        ERR_DEPENDENCY_UNAVAILABLE);
    json_t *records = json_array();
    char *t = q("{'extracted_sms_data':[" REC_A "," REC_A "]}");
    assert_int_equal(extraction_reply_parse(t, strlen(t), 2, msgs, EXTRACTION_REPLY_SCAN, &u,
                                            records, why, sizeof(why)),
                     ERR_OK);
    assert_int_equal(json_array_size(records), 2);
    assert_int_equal(json_object_size(json_array_get(records, 1)), 30);
    assert_int_equal(u.sms_count, 2);
    json_decref(records);
    free(t);
    user_data_free(&u);
}

/* ---- the internal rows form -------------------------------------------- */

/*
 * A public reply rewritten in the rows form with jansson: fields = the record's keys
 * (reversed when shuffle, so the reader cannot rely on the order), values by key, an
 * absent member as null. NULL when the text is not a public reply of object records.
 */
static char *rows_of(const char *public_text, bool shuffle)
{
    json_t *root = json_loads(public_text, 0, NULL);
    json_t *list = json_object_get(root, "extracted_sms_data");
    json_t *fields = json_array(), *rows = json_array(), *out, *rec;
    size_t i;
    char *text = NULL;

    for (size_t k = 0; k < N_RECORD_KEYS; k++)
        json_array_append_new(fields,
                              json_string(RECORD_KEYS[shuffle ? N_RECORD_KEYS - 1 - k : k]));
    json_array_foreach(list, i, rec)
    {
        json_t *row = json_array();
        size_t k;
        json_t *name;

        if (!json_is_object(rec))
            goto out;
        json_array_foreach(fields, k, name)
        {
            json_t *v = json_object_get(rec, json_string_value(name));
            json_array_append_new(row, v ? json_incref(v) : json_null());
        }
        json_array_append_new(rows, row);
    }
    if (!json_is_array(list))
        goto out;
    out = json_pack("{s:s,s:s,s:O,s:O}", "form", "rows-1", "request_id", "r", "fields", fields,
                    "rows", rows);
    text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(out);
out:
    json_decref(fields);
    json_decref(rows);
    json_decref(root);
    return text;
}

/* Parse a rows reply (AUTO: the mode does not matter for it); the facts go to out. */
static enum err rows_parse(const char *text, size_t expect, struct user_data *out, char *why,
                           size_t why_len)
{
    user_data_init(out, "c", "u", 0);
    why[0] = '\0';
    return extraction_reply_parse(text, strlen(text), expect, msgs, EXTRACTION_REPLY_AUTO, out,
                                  NULL, why, why_len);
}

/* Every public reply the other tests read OK gives the same facts in the rows form. */
static void test_rows_same_facts(void **state)
{
    static const char *const texts[] = {
        "{'request_id':'r1','extracted_sms_data':[" REC_A "]}",
        "{'extracted_sms_data':[{'sms_id':'m0','sms_type':'delinquency_notice','sms_sub_type':"
        "'lender','sms_kind':'final_notice','overdue_amount':7300,'days_past_due':21}]}",
        "{'extracted_sms_data':[{'sms_id':7,'sms_sender':false,'transaction':'250',"
        "'is_classified':1,'is_extracted':'true','transaction_type':'debit',"
        "'sms_inbox_date':1795000060,'channel':'neft','available_balance':null}]}",
        "{'extracted_sms_data':[{'sms_id':'m0','transaction_party':'A \\'q\\' \\\\ caf\\u00e9 "
        "\\ud83d\\ude00','sender_name':'plain'},{}," REC_A "]}",
    };
    char why[256];

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char *pub = q(texts[i]);
        json_t *root = json_loads(pub, 0, NULL);
        size_t n = json_array_size(json_object_get(root, "extracted_sms_data"));
        struct user_data p, r;

        json_decref(root);
        assert_int_equal(both(pub, n, &p, true), ERR_OK);
        for (int shuffle = 0; shuffle < 2; shuffle++) {
            char *rows = rows_of(pub, shuffle);

            assert_non_null(rows);
            if (rows_parse(rows, n, &r, why, sizeof(why)) != ERR_OK)
                fail_msg("case %zu: %s", i, why);
            same_facts(&p, &r);
            user_data_free(&r);
            free(rows);
        }
        user_data_free(&p);
        free(pub);
    }
}

/* A rows reply written by hand, values worked out by hand. */
static void test_rows_by_hand(void **state)
{
    /* the fields the facts skip (sms_sub_type, dates as printed, currency, template) left out;
       an unknown field with a value in each row; the second row all null */
    const char *text =
        "{'form':'rows-1','request_id':'r','fields':['sms_id','sms_sender','sms_inbox_date',"
        "'sender_name','sender_type','sms_type','sms_kind','is_classified','is_extracted',"
        "'is_transactional','transaction','transaction_type','account_last_digits',"
        "'transaction_party','party_kind','unique_pan','available_balance','reference_no',"
        "'channel','credit_limit','available_limit','due_amount','min_due','overdue_amount',"
        "'days_past_due','zz_future']," /* 26 names */
        "'rows':[['m0','exbank','2026-11-18 16:37:40','example bank','bank',"
        "'account_debit_executed','emi',true,true,true,250,'debit-transaction','1234',"
        "'shop \\'x\\'',null,'bank | example bank | 34',1500.5,'123','upi',null,null,null,-0.25,"
        "7300,21,{}],"
        " [null,null,null,null,null,null,null,false,false,false,null,null,null,null,null,null,"
        "null,null,null,null,null,null,null,null,null,'later']]}";
    struct user_data u;
    char why[256];
    char *t = q(text);

    (void)state;
    /* a container where the unknown field is: refused, even unknown values must be scalars */
    assert_int_equal(rows_parse(t, 2, &u, why, sizeof(why)), ERR_DEPENDENCY_UNAVAILABLE);
    assert_int_equal(u.sms_count, 0);
    assert_non_null(strstr(why, "internal reply form"));
    user_data_free(&u);
    memcpy(strstr(t, "{}"), "99", 2);

    assert_int_equal(rows_parse(t, 2, &u, why, sizeof(why)), ERR_OK);
    assert_int_equal(u.sms_count, 2);
    assert_string_equal(u.sms[0].sms_id, "m0");
    assert_string_equal(u.sms[0].sender, "exbank");
    assert_int_equal(u.sms[0].ts, 1795000060); /* 16:37:40 IST on 18 Nov 2026 */
    assert_string_equal(u.sms[0].sender_name, "example bank");
    assert_string_equal(u.sms[0].sender_type, "bank");
    assert_string_equal(u.sms[0].sms_type, "account_debit_executed");
    assert_string_equal(u.sms[0].sms_sub_type, "emi"); /* the record's sms_kind */
    assert_true(u.sms[0].is_classified && u.sms[0].is_extracted && u.sms[0].is_transactional);
    assert_true(u.sms[0].amount == 250.0);
    assert_int_equal(u.sms[0].direction, SMS_DIRECTION_DEBIT);
    assert_string_equal(u.sms[0].account_last_digits, "1234");
    assert_string_equal(u.sms[0].transaction_party, "shop \"x\"");
    assert_null(u.sms[0].party_kind);
    assert_string_equal(u.sms[0].unique_pan, "bank | example bank | 34");
    assert_true(u.sms[0].available_balance == 1500.5);
    assert_string_equal(u.sms[0].reference_no, "123");
    assert_string_equal(u.sms[0].channel, "upi");
    assert_true(isnan(u.sms[0].credit_limit) && isnan(u.sms[0].due_amount));
    assert_true(u.sms[0].min_due == -0.25);
    assert_true(u.sms[0].overdue_amount == 7300.0 && u.sms[0].days_past_due == 21.0);
    /* all null: id and time from the message sent, nothing else */
    assert_string_equal(u.sms[1].sms_id, "m1");
    assert_int_equal(u.sms[1].ts, 1795000001);
    assert_null(u.sms[1].sms_type);
    assert_null(u.sms[1].sender);
    assert_false(u.sms[1].is_classified);
    assert_int_equal(u.sms[1].direction, SMS_DIRECTION_NONE);
    assert_true(isnan(u.sms[1].amount));
    user_data_free(&u);
    free(t);
}

/*
 * rows-2 by hand: test_rows_by_hand's reply without sms_id and sms_inbox_date; the facts
 * take both from the messages sent, row i from message i. Refused without the messages.
 */
static void test_rows_no_echo_by_hand(void **state)
{
    const char *text =
        "{'form':'rows-2','request_id':'r','fields':['sms_sender',"
        "'sender_name','sender_type','sms_type','sms_kind','is_classified','is_extracted',"
        "'is_transactional','transaction','transaction_type','account_last_digits',"
        "'transaction_party','party_kind','unique_pan','available_balance','reference_no',"
        "'channel','credit_limit','available_limit','due_amount','min_due','overdue_amount',"
        "'days_past_due'],"
        "'rows':[['exbank','example bank','bank',"
        "'account_debit_executed','emi',true,true,true,250,'debit-transaction','1234',"
        "'shop',null,'bank | example bank | 34',1500.5,'123','upi',null,null,null,-0.25,"
        "7300,21],"
        " [null,null,null,null,null,false,false,false,null,null,null,null,null,null,"
        "null,null,null,null,null,null,null,null,null],"
        " ['x2',null,null,'otp',null,true,false,false,null,null,null,null,null,null,"
        "null,null,null,null,null,null,null,null,null]]}";
    struct user_data u;
    char why[256];
    char *t = q(text);

    (void)state;
    assert_int_equal(rows_parse(t, 3, &u, why, sizeof(why)), ERR_OK);
    assert_int_equal(u.sms_count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(u.sms[i].sms_id, msgs[i].sms_id);
        assert_int_equal(u.sms[i].ts, msgs[i].ts);
    }
    assert_string_equal(u.sms[0].sender, "exbank");
    assert_string_equal(u.sms[0].sms_sub_type, "emi");
    assert_true(u.sms[0].amount == 250.0 && u.sms[0].available_balance == 1500.5);
    assert_int_equal(u.sms[0].direction, SMS_DIRECTION_DEBIT);
    assert_true(u.sms[0].min_due == -0.25 && u.sms[0].days_past_due == 21.0);
    assert_null(u.sms[1].sender);
    assert_true(isnan(u.sms[1].amount));
    assert_string_equal(u.sms[2].sender, "x2");
    assert_string_equal(u.sms[2].sms_type, "otp");
    assert_true(u.sms[2].is_classified && !u.sms[2].is_extracted);
    user_data_free(&u);

    /* no messages to take the echo fields from: refused, nothing kept */
    user_data_init(&u, "c", "u", 0);
    assert_int_equal(extraction_reply_parse(t, strlen(t), 3, NULL, EXTRACTION_REPLY_AUTO, &u, NULL,
                                            why, sizeof(why)),
                     ERR_DEPENDENCY_UNAVAILABLE);
    assert_non_null(strstr(why, "without the messages sent"));
    assert_int_equal(u.sms_count, 0);
    user_data_free(&u);
    free(t);
}

/* Rows replies that must be refused: the dependency's fault, nothing left behind. */
static void test_rows_refused(void **state)
{
    static const struct {
        const char *text; /* %s: the field list of the whole record */
        size_t expect;
        enum err want;
        const char *why;
    } cases[] = {
        /* the field list does not match what the facts need */
        {"{'form':'rows-1','fields':['sms_id','sms_type','transaction'],'rows':[['m0','otp',1]]}",
         1, ERR_DEPENDENCY_UNAVAILABLE, "lacks sms_sender"},
        /* another form, or none readable */
        {"{'form':'rows-3','fields':[],'rows':[]}", 0, ERR_DEPENDENCY_UNAVAILABLE, "rows-1"},
        {"{'form':'rows-3','fields':[],'rows':[]}", 0, ERR_DEPENDENCY_UNAVAILABLE, "rows-2"},
        /* rows-1 still needs the echo fields; rows-2 needs every other field */
        {"{'form':'rows-1','fields':['sms_sender','sender_name','sender_type','sms_type',"
         "'sms_kind','is_classified','is_extracted','is_transactional','transaction',"
         "'transaction_type','account_last_digits','transaction_party','party_kind','unique_pan',"
         "'available_balance','reference_no','channel','credit_limit','available_limit',"
         "'due_amount','min_due','overdue_amount','days_past_due'],'rows':[]}",
         0, ERR_DEPENDENCY_UNAVAILABLE, "lacks sms_id"},
        {"{'form':'rows-2','fields':['sms_id','sms_type','transaction'],'rows':[['m0','otp',1]]}",
         1, ERR_DEPENDENCY_UNAVAILABLE, "lacks sms_sender"},
        {"{'form':1,'fields':[],'rows':[]}", 0, ERR_DEPENDENCY_UNAVAILABLE, "rows-1"},
        {"{'form':'rows-1'}", 0, ERR_DEPENDENCY_UNAVAILABLE, "no rows"},
        {"{'form':'rows-1','rows':[]}", 0, ERR_DEPENDENCY_UNAVAILABLE, "rows before fields"},
        {"{'form':'rows-1','fields':'x','rows':[]}", 0, ERR_DEPENDENCY_UNAVAILABLE, "fields"},
        {"{'form':'rows-1','fields':[1],'rows':[]}", 0, ERR_DEPENDENCY_UNAVAILABLE, "name"},
        {"{'form':'rows-1','request_id':'r'", 0, ERR_DEPENDENCY_UNAVAILABLE, "object"},
        {"{'form':'rows-1',%s,'rows':[]} x", 0, ERR_DEPENDENCY_UNAVAILABLE, "object"},
        {"{'form':'rows-1',%s,%s,'rows':[]}", 0, ERR_DEPENDENCY_UNAVAILABLE, "fields given twice"},
        {"{'form':'rows-1',%s,'rows':[],'rows':[]}", 0, ERR_DEPENDENCY_UNAVAILABLE, "given twice"},
        {"{'form':'rows-1',%s,'rows':[1]}", 1, ERR_DEPENDENCY_UNAVAILABLE, "a row is not a list"},
        {"{'form':'rows-1',%s,'rows':[[]]}", 1, ERR_DEPENDENCY_UNAVAILABLE, "shorter"},
        /* and the same well-formed: accepted (other members are skipped) */
        {"{'form':'rows-1','request_id':'r',%s,'later':{'a':[1]},'rows':[]}", 0, ERR_OK, ""},
    };
    struct user_data u;
    char why[256], text[4096], all[1024] = "'fields':[";

    (void)state;
    for (size_t k = 0; k < N_RECORD_KEYS; k++)
        snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s'%s'", k ? "," : "",
                 RECORD_KEYS[k]);
    snprintf(all + strlen(all), sizeof(all) - strlen(all), "]");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), cases[i].text, all, all);
        char *t = q(text);
        enum err e = rows_parse(t, cases[i].expect, &u, why, sizeof(why));

        if (e != cases[i].want || !strstr(why, cases[i].why))
            fail_msg("case %zu: got %d '%s', want %d '%s'", i, e, why, cases[i].want, cases[i].why);
        assert_int_equal(u.sms_count, 0);
        user_data_free(&u);
        free(t);
    }
}

/* A valid rows reply changed one way at a time; each change refused with the right error. */
static void test_rows_mismatch(void **state)
{
    char *pub = q("{'extracted_sms_data':[" REC_A "," REC_A "]}");
    char *good = rows_of(pub, false);
    static const struct {
        const char *from, *to;
        enum err want;
        const char *why;
    } edits[] = {
        {"\"sms_type\",", "\"sms_type\",\"sms_type\",", ERR_DEPENDENCY_UNAVAILABLE, "twice"},
        {"\"sms_type\",", "", ERR_DEPENDENCY_UNAVAILABLE, "lacks sms_type"},
        {"\"template_id\"]", "\"template_id\",\"extra\"]", ERR_DEPENDENCY_UNAVAILABLE, "shorter"},
        {"\"debit_upi_vpa\"]", "\"debit_upi_vpa\",1]", ERR_DEPENDENCY_UNAVAILABLE, "longer"},
        {"[\"m0\"", "[[\"m0\"]", ERR_DEPENDENCY_UNAVAILABLE, "non-scalar"},
        {"250,", "1e999,", ERR_DEPENDENCY_UNAVAILABLE, "shorter"},
        {"\"rows\":[", "\"rows\":[[],", ERR_DEPENDENCY_UNAVAILABLE, "shorter"},
        {"\"rows\":[", "\"rows\":{", ERR_DEPENDENCY_UNAVAILABLE, "rows is not a list"},
    };
    struct user_data u;
    char why[256];

    (void)state;
    assert_non_null(good);
    assert_int_equal(rows_parse(good, 2, &u, why, sizeof(why)), ERR_OK);
    user_data_free(&u);
    /* record count against the messages sent: as in the public form */
    assert_int_equal(rows_parse(good, 3, &u, why, sizeof(why)), ERR_INTERNAL);
    assert_non_null(strstr(why, "2 records for 3 messages"));
    assert_int_equal(u.sms_count, 0);
    user_data_free(&u);
    assert_int_equal(rows_parse(good, 1, &u, why, sizeof(why)), ERR_INTERNAL);
    assert_non_null(strstr(why, "more than 1 records"));
    assert_int_equal(u.sms_count, 0);
    user_data_free(&u);
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        const char *at = strstr(good, edits[i].from);
        char text[8192];

        assert_non_null(at);
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good, edits[i].to,
                 at + strlen(edits[i].from));
        enum err e = rows_parse(text, 2, &u, why, sizeof(why));
        if (e != edits[i].want || !strstr(why, edits[i].why))
            fail_msg("edit %zu: got %d '%s', want %d '%s'", i, e, why, edits[i].want, edits[i].why);
        assert_int_equal(u.sms_count, 0);
        user_data_free(&u);
    }
    /* every truncation: refused, never a crash or a short list of facts */
    for (size_t n = 0; n < strlen(good); n++) {
        char *cut = strndup(good, n);

        assert_int_not_equal(rows_parse(cut, 2, &u, why, sizeof(why)), ERR_OK);
        assert_int_equal(u.sms_count, 0);
        user_data_free(&u);
        free(cut);
    }
    /* a rows reply where the records themselves were asked for (fetch): refused */
    json_t *records = json_array();
    user_data_init(&u, "c", "u", 0);
    assert_int_equal(extraction_reply_parse(good, strlen(good), 2, msgs, EXTRACTION_REPLY_AUTO, &u,
                                            records, why, sizeof(why)),
                     ERR_DEPENDENCY_UNAVAILABLE);
    assert_non_null(strstr(why, "public form was asked"));
    assert_int_equal(json_array_size(records), 0);
    json_decref(records);
    user_data_free(&u);
    free(good);
    free(pub);
}

/* ---- real replies ------------------------------------------------------- */

static void test_real_replies(void **state)
{
    const char *urls = getenv("EXTRACTOR_URLS");
    char url[256];
    size_t n;

    (void)state;
    if (!urls || !*urls)
        urls = getenv("EXTRACTOR_URL");
    if (!urls || !*urls) {
        printf("SKIP: EXTRACTOR_URL not set (run via tests/integration/test_ins_sources.sh)\n");
        skip();
        return;
    }
    n = strcspn(urls, ",");
    snprintf(url, sizeof(url), "%.*s/api/extract", (int)n, urls);

    /* invented messages of the common kinds, with quotes and non-ASCII text */
    static const char *const bodies[] = {
        "Rs 250.00 debited from A/c XX1234 on 01-11-26 to VPA shop@exupi. Ref 123456789012",
        "INR 45,000.00 credited to your A/c XX9876 on 02-11-26 by NEFT from \"ACME PVT LTD\". "
        "Avl Bal INR 52,310.50",
        "Your OTP is 000000. Do not share it.",
        "Rs.1,299 spent on Credit Card XX4321 at CAF\xc3\x89 M\xc3\x9cNCHEN on 03-11-26. Avl Lmt "
        "Rs 48,701",
        "Your Credit Card XX4321 bill of Rs 12,345.00 is due on 05-12-2026. Min amt due Rs 620.",
        "Txn of Rs 500 on card XX1111 declined due to insufficient balance.",
        "Rs 2000 withdrawn at ATM from A/c XX1234 on 04-11-26. Avl Bal Rs 10,000.00",
        "Get a pre-approved loan up to Rs 5,00,000. Apply now \xe2\x82\xb9 T&C",
    };
    struct json_writer w;
    json_writer_init(&w, 0);
    json_writer_object_begin(&w);
    json_writer_kv_string(&w, "client_id", "c");
    json_writer_kv_string(&w, "user_id", "u");
    json_writer_key(&w, "sms");
    json_writer_array_begin(&w);
    for (int i = 0; i < 8; i++) {
        json_writer_object_begin(&w);
        json_writer_kv_string(&w, "sms_id", msgs[i].sms_id);
        json_writer_kv_string(&w, "sms_sender", i % 2 ? "VM-HDFCBK" : "AD-ICICIB-S");
        json_writer_kv_string(&w, "sms_body", bodies[i]);
        json_writer_kv_int(&w, "sms_inbox_date", msgs[i].ts);
        json_writer_object_end(&w);
    }
    json_writer_array_end(&w);
    json_writer_object_end(&w);
    size_t blen;
    const char *body = json_writer_data(&w, &blen);

    struct http_client_config cfg;
    http_client_config_default(&cfg);
    char err[256];
    struct http_client_upstream *up = http_client_upstream_new(&cfg, err, sizeof(err));
    struct http_client *h = http_client_new(up);
    struct http_client_request req = {.url = url, .body = body, .body_len = blen};
    struct http_client_response resp = {0};
    assert_int_equal(http_client_do(h, &req, &resp), HTTP_CLIENT_OK);
    assert_int_equal(resp.status, 200);

    struct user_data u;
    assert_int_equal(both((const char *)resp.body, 8, &u, true), ERR_OK);
    assert_int_equal(u.sms_count, 8);
    /* something was really extracted, so the comparison covered numbers and strings */
    assert_int_equal(u.sms[0].direction, SMS_DIRECTION_DEBIT);
    assert_true(u.sms[0].amount == 250.0);
    assert_non_null(u.sms[0].sms_type);
    http_client_response_free(&resp);

    /* the same batch in the internal rows form: the same facts */
    static const char *const ask[] = {"X-Extract-Form: rows-1", NULL};
    struct user_data r;
    char why[256];
    memset(&resp, 0, sizeof(resp));
    req.headers = ask;
    assert_int_equal(http_client_do(h, &req, &resp), HTTP_CLIENT_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(strncmp((const char *)resp.body, "{\"form\":\"rows-1\",", 17), 0);
    if (rows_parse((const char *)resp.body, 8, &r, why, sizeof(why)) != ERR_OK)
        fail_msg("rows reply: %s", why);
    same_facts(&u, &r);
    user_data_free(&r);
    http_client_response_free(&resp);

    /* rows-2: the same facts, the echo fields taken from the messages sent */
    static const char *const ask2[] = {"X-Extract-Form: rows-2", NULL};
    memset(&resp, 0, sizeof(resp));
    req.headers = ask2;
    assert_int_equal(http_client_do(h, &req, &resp), HTTP_CLIENT_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(strncmp((const char *)resp.body, "{\"form\":\"rows-2\",", 17), 0);
    assert_null(strstr((const char *)resp.body, "sms_inbox_date"));
    if (rows_parse((const char *)resp.body, 8, &r, why, sizeof(why)) != ERR_OK)
        fail_msg("rows-2 reply: %s", why);
    same_facts(&u, &r);
    user_data_free(&r);
    user_data_free(&u);
    http_client_response_free(&resp);
    http_client_free(h);
    http_client_upstream_free(up);
    json_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),           cmocka_unit_test(test_layout_and_order),
        cmocka_unit_test(test_escapes),         cmocka_unit_test(test_types_and_duplicates),
        cmocka_unit_test(test_fallbacks),       cmocka_unit_test(test_errors),
        cmocka_unit_test(test_rows_same_facts), cmocka_unit_test(test_rows_by_hand),
        cmocka_unit_test(test_rows_refused),    cmocka_unit_test(test_rows_mismatch),
        cmocka_unit_test(test_real_replies),    cmocka_unit_test(test_rows_no_echo_by_hand),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
