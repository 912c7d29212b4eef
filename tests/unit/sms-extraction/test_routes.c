/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /api/extract driven in process, with no socket: a worker from the
 * routes' thread hook, the shipped rules, and smsx_routes_serve on bodies
 * written by hand. Pinned: the records of a small batch byte for byte, the
 * 422 detail list (through the error table's style) and the counts the
 * handler logs (a non-JSON body is the server's 415, test_http_server).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sms-extraction/routes.h"

#include <stdio.h>
#include <string.h>

static struct smsx_config cfg;
static struct metrics *metrics;
static struct rules *rules;
static struct smsx_routes ctx;
static void *worker;

static int setup(void **state)
{
    char err[512];
    (void)state;

    if (smsx_config_load(&cfg, err, sizeof(err)) < 0)
        return fprintf(stderr, "%s\n", err), -1;
    metrics = metrics_new("t_");
    rules = rules_new(&cfg, metrics, err, sizeof(err));
    if (!rules || rules_reload(rules, err, sizeof(err)) < 0)
        return fprintf(stderr, "%s\n", err), -1;
    ctx = (struct smsx_routes){.cfg = &cfg, .rules = rules, .metrics = metrics};
    smsx_routes_init(&ctx);
    worker = smsx_routes_thread_init(0, &ctx);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    smsx_routes_thread_done(0, worker, &ctx);
    rules_free(rules);
    metrics_free(metrics);
    smsx_config_free(&cfg);
    return 0;
}

static void serve(const char *body, struct smsx_call *c)
{
    memset(c, 0, sizeof(*c));
    c->body = body;
    c->len = strlen(body);
    c->request_id = "hreq-1";
    smsx_routes_serve(&ctx, worker, c);
}

static void test_a_batch(void **state)
{
    struct smsx_call c;
    (void)state;

    serve("{\"client_id\":\"c\",\"user_id\":\"u\",\"sms\":[{\"sms_id\":\"1\",\"sms_sender\":"
          "\"VM-HDFCBK\",\"sms_body\":\"Your OTP is 123456\",\"sms_inbox_date\":"
          "\"2026-11-01 10:00:00\"}]}",
          &c);
    assert_int_equal(c.status, 200);
    assert_int_equal(c.error, ERR_OK);
    assert_int_equal(c.sms, 1);
    assert_int_equal(c.extracted, 0);
    assert_non_null(strstr(c.reply,
                           "{\"request_id\":\"hreq-1\",\"extracted_sms_data\":[{\"sms_id\":"
                           "\"1\",\"sms_sender\":\"hdfcbk\",\"sms_inbox_date\":"
                           "\"2026-11-01 10:00:00\",\"sender_name\":\"hdfc bank\","
                           "\"sender_type\":\"bank\",\"sms_type\":\"otp\""));
    assert_int_equal(c.reply[c.reply_len - 1], '}');
    smsx_call_done(&c);
}

static void test_refusals(void **state)
{
    struct smsx_call c;
    (void)state;

    serve("{\"client_id\": 7}", &c);
    assert_int_equal(c.status, 422);
    assert_int_equal(c.error, ERR_VALIDATION);
    assert_int_equal(c.errors, 3);
    assert_non_null(strstr(c.detail, "\"loc\":[\"body\",\"client_id\"]"));
    assert_null(strstr(c.detail, "\"detail\"")); /* the items; the table wraps them */
    smsx_call_done(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_batch),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
