/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pins the error table: every enum value has a row sent by some daemon,
 * codes are unique snake_case strings, statuses are real HTTP error
 * statuses, the codes the team contract names keep their status, each reply
 * style renders the bytes clients were promised (written out by hand below),
 * and the Markdown of the two daemons together lists every code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/err.h"

#include <stdlib.h>
#include <string.h>

static void test_every_value_has_a_row(void **state)
{
    (void)state;
    for (int e = 0; e < ERR__COUNT; e++) {
        const struct err_info *row = err_row(e);

        if (!row)
            fail_msg("enum err value %d has no row in common/err.c", e);
        assert_non_null(row->message);
        assert_true(strlen(row->code) > 0);
        assert_int_equal(strspn(row->code, "abcdefghijklmnopqrstuvwxyz0123456789_"),
                         strlen(row->code));
        if (e != ERR_OK) {
            assert_true(row->http_status >= 400 && row->http_status <= 599);
            if (!row->sent_by)
                fail_msg("code '%s' is sent by no daemon", row->code);
        }
    }
    assert_null(err_row(ERR__COUNT));
    assert_null(err_row(-1));
}

static void test_codes_unique(void **state)
{
    (void)state;
    for (int a = 0; a < ERR__COUNT; a++)
        for (int b = a + 1; b < ERR__COUNT; b++)
            if (strcmp(err_row(a)->code, err_row(b)->code) == 0)
                fail_msg("code '%s' used twice", err_row(a)->code);
}

static void test_contract_rows(void **state)
{
    (void)state;
    assert_string_equal(err_code(ERR_VALIDATION), "validation");
    assert_int_equal(err_http_status(ERR_VALIDATION), 422);
    assert_int_equal(err_http_status(ERR_BODY_TOO_LARGE), 413);
    assert_string_equal(err_code(ERR_BODY_TOO_LARGE), "body_too_large");
    assert_int_equal(err_http_status(ERR_OVERLOADED), 503);
    assert_true(err_info(ERR_OVERLOADED)->retry_after);
    assert_int_equal(err_http_status(ERR_NOT_FOUND), 404);
    assert_int_equal(err_http_status(ERR_METHOD_NOT_ALLOWED), 405);
    assert_int_equal(err_http_status(ERR_UNAUTHORIZED), 401);
    assert_int_equal(err_http_status(ERR_FORBIDDEN), 403);
    assert_int_equal(err_http_status(ERR_RATE_LIMITED), 429);
    assert_int_equal(err_http_status(ERR_INTERNAL), 500);
    /* out of range falls back to internal */
    assert_string_equal(err_code((enum err)9999), "internal");
    /* stored codes read back; unknown ones (older versions' "mongo_down") are not a value */
    assert_int_equal(err_from_code("internal"), ERR_INTERNAL);
    assert_int_equal(err_from_code("dependency_unavailable"), ERR_DEPENDENCY_UNAVAILABLE);
    assert_int_equal(err_from_code("mongo_down"), ERR__COUNT);
    assert_int_equal(err_from_code(NULL), ERR__COUNT);
}

static void expect_reply(enum err e, const char *detail, const char *request_id, int status,
                         const char *content_type, int retry_after, const char *body)
{
    struct err_reply r;

    err_reply_render(e, detail, request_id, &r);
    assert_int_equal(r.status, status);
    assert_string_equal(r.content_type, content_type);
    assert_int_equal(r.retry_after, retry_after);
    assert_int_equal(r.len, strlen(body));
    assert_memory_equal(r.body, body, r.len);
    free(r.body);
}

static void test_reply_styles(void **state)
{
    (void)state;
    expect_reply(ERR_OVERLOADED, NULL, "r1", 503, "application/json", 1,
                 "{\"detail\":\"Server is overloaded, retry later\",\"code\":\"overloaded\"}");
    /* a fixed detail of ours replaces the message; quotes are escaped */
    expect_reply(ERR_DEPENDENCY_UNAVAILABLE, "the \"store\" is down", "r1", 502, "application/json",
                 1,
                 "{\"detail\":\"the \\\"store\\\" is down\",\"code\":\"dependency_unavailable\"}");
    /* a dependency: 502 failed, 504 timed out, 503 only when it shed load itself (issue 15) */
    expect_reply(ERR_DEPENDENCY_TIMEOUT, NULL, "r1", 504, "application/json", 1,
                 "{\"detail\":\"A backing service did not answer in time, retry later\",\"code\":"
                 "\"dependency_timeout\"}");
    expect_reply(ERR_DEPENDENCY_OVERLOADED, NULL, "r1", 503, "application/json", 1,
                 "{\"detail\":\"A backing service is overloaded, retry later\",\"code\":"
                 "\"dependency_overloaded\"}");
    expect_reply(ERR_VALIDATION, "[{\"type\":\"missing\"}]", "r1", 422, "application/json", 0,
                 "{\"detail\":[{\"type\":\"missing\"}]}");
    expect_reply(ERR_VALIDATION, NULL, "r1", 422, "application/json", 0, "{\"detail\":[]}");
    /* credeau.md: the request id inside Credeau's sentence */
    expect_reply(ERR_UNAUTHORIZED, "ignored", "abc123", 401, "application/json", 0,
                 "{\"error\":\"Could not validate credentials. (request_id=abc123). It has been "
                 "logged successfully on our servers. Please contact us with the request_id for "
                 "assistance.\"}");
    /* credeau.md §2.4: the load balancer's page */
    expect_reply(ERR_FORBIDDEN, NULL, "r1", 403, "text/html", 0,
                 "<html><head><title>403 Forbidden</title></head><body><center><h1>403 "
                 "Forbidden</h1></center></body></html>");
    expect_reply(ERR_RATE_LIMITED, NULL, NULL, 429, "application/json", 1,
                 "{\"detail\":\"Too many requests, retry later\",\"code\":\"rate_limited\"}");
}

static void test_markdown_lists_every_code(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    (void)state;

    assert_int_equal(err_write_markdown(out, "sms-extraction", ERR_BY_SMSX), 0);
    assert_int_equal(err_write_markdown(out, "insights-api", ERR_BY_INSIGHTS), 0);
    fclose(out);
    assert_non_null(strstr(text, "## sms-extraction\n"));
    assert_non_null(strstr(text, "## insights-api\n"));
    /* the 401 is insights-api's alone, in Credeau's style */
    assert_non_null(strstr(text, "| `unauthorized` | 401 |  | Credeau 401 |"));
    assert_true(strstr(text, "`unauthorized`") > strstr(text, "## insights-api"));
    for (int e = 1; e < ERR__COUNT; e++) {
        char cell[64];
        snprintf(cell, sizeof(cell), "| `%s` | %d |", err_row(e)->code, err_row(e)->http_status);
        if (!strstr(text, cell))
            fail_msg("markdown lacks row %s", cell);
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_value_has_a_row),
        cmocka_unit_test(test_codes_unique),
        cmocka_unit_test(test_contract_rows),
        cmocka_unit_test(test_reply_styles),
        cmocka_unit_test(test_markdown_lists_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
