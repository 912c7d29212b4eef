/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sender mapping is keyed by the extractor's rule (common/sender.h): a
 * header written as the phone shows it ("VM-NEWBANK-S") is found under the
 * sms_sender the extractor returns for it ("newbank"), like a bare one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "insights-api/maps.h"

#include <string.h>

static void test_sender_headers_by_the_extractors_rule(void **state)
{
    static const char artifact[] = "{\"format\": 1, \"version\": \"t1\", \"lender_types\": [],"
                                   " \"senders\": [{\"entity\": \"new bank\", \"type\": \"bank\","
                                   " \"headers\": [\"VM-NEWBANK-S\", \"oldbank\", \"AD-NBFCX\"]}]}";
    struct maps *m = maps_new();
    char err[256];
    (void)state;

    assert_non_null(m);
    if (maps_load(m, MAPS_SMS_SENDERS, artifact, strlen(artifact), err, sizeof(err)) < 0)
        fail_msg("%s", err);
    assert_non_null(maps_sender_lookup(m, "newbank"));
    assert_string_equal(maps_sender_lookup(m, "newbank")->entity, "new bank");
    assert_non_null(maps_sender_lookup(m, "oldbank"));
    assert_non_null(maps_sender_lookup(m, "nbfcx"));
    assert_null(maps_sender_lookup(m, "unknown"));
    maps_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sender_headers_by_the_extractors_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
