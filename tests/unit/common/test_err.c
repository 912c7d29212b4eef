/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pins the error table: every enum value has a row, codes are unique
 * snake_case strings, statuses are real HTTP error statuses, the codes the
 * team contract names keep their status, and the Markdown lists every code.
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
        if (e != ERR_OK)
            assert_true(row->http_status >= 400 && row->http_status <= 599);
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
    assert_string_equal(err_code(ERR_BAD_JSON), "json_invalid");
    assert_int_equal(err_http_status(ERR_BAD_JSON), 422);
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
}

static void test_markdown_lists_every_code(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    (void)state;

    assert_int_equal(err_write_markdown(out), 0);
    fclose(out);
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
        cmocka_unit_test(test_markdown_lists_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
