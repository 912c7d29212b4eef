/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the reference distribution loader (insights-api/monitor.h,
 * insights-model-reference/1 in docs/monitoring.md): the shipped demo references load with
 * the score first and counts = edges + 2; every malformed file is refused with an error that
 * names the file and what is wrong, never half-loaded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "insights-api/monitor.h"

static void shipped_references_load(void **state)
{
    static const char *const paths[] = {"insights-api/models/demo_payday_v2.reference.json",
                                        "insights-api/models/demo_payday_v3.reference.json",
                                        "insights-api/models/demo_emi_v2.reference.json"};
    struct monitor_reference ref;
    char err[512];

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(monitor_reference_load(paths[i], &ref, err, sizeof(err)), 0);
        assert_string_equal(ref.features[0].name, "score");
        assert_true(ref.n_features > 5);
        assert_true(ref.auc > 0.5 && ref.auc < 1);
        monitor_reference_free(&ref);
    }
}

static void refused(const char *json, const char *why)
{
    struct monitor_reference ref;
    char err[512];

    if (monitor_reference_parse(json, strlen(json), &ref, err, sizeof(err)) == 0)
        fail_msg("accepted (%s): %s", why, json);
    assert_non_null(strstr(err, "reference"));
    assert_null(ref.features);
}

#define OK_HEAD "{\"format\":\"insights-model-reference/1\",\"score\":\"s\",\"version\":\"v\","

static void malformed_refused(void **state)
{
    struct monitor_reference ref;
    char err[512];
    const char *good = OK_HEAD "\"bins\":[{\"feature\":\"score\",\"top\":true,"
                               "\"edges\":[0.2,0.5],\"counts\":[1,2,3,0]}]}";

    (void)state;
    assert_int_equal(monitor_reference_parse(good, strlen(good), &ref, err, sizeof(err)), 0);
    assert_int_equal(ref.features[0].n_edges, 2);
    assert_true(ref.features[0].top);
    monitor_reference_free(&ref);
    refused("{", "broken JSON");
    refused("{\"format\":\"other/1\",\"bins\":[]}", "another format");
    refused(OK_HEAD "\"bins\":[]}", "no bins");
    refused(OK_HEAD "\"bins\":[{\"feature\":\"x\",\"edges\":[],\"counts\":[1,1]}]}",
            "score not first");
    refused(OK_HEAD "\"bins\":[{\"feature\":\"score\",\"edges\":[0.5,0.2],\"counts\":[1,1,1,1]}]}",
            "edges not ascending");
    refused(OK_HEAD "\"bins\":[{\"feature\":\"score\",\"edges\":[0.5],\"counts\":[1,1]}]}",
            "counts not edges + 2");
    refused(OK_HEAD "\"bins\":[{\"feature\":\"score\",\"edges\":[0.5],\"counts\":[1,-1,1]}]}",
            "negative count");
    refused(OK_HEAD "\"bins\":[{\"feature\":\"score\",\"edges\":[\"a\"],\"counts\":[1,1,1]}]}",
            "an edge that is not a number");
}

static void missing_file_named(void **state)
{
    struct monitor_reference ref;
    char err[512];

    (void)state;
    assert_int_equal(
        monitor_reference_load("/nonexistent/x.reference.json", &ref, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/x.reference.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shipped_references_load),
        cmocka_unit_test(malformed_refused),
        cmocka_unit_test(missing_file_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
