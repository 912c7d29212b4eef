/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The catalogue contract: the shipped TSV matches the code both ways, a
 * missing or extra row fails the load naming the feature, groupings map to
 * groups as documented, and the null rules for failed, empty and unrequested
 * sources hold. Expected values are worked out by hand in the comments.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/file.h"
#include "insights-api/features.h"

#define NOW 1795329000 /* 2026-11-22 12:00 India time */
#define DAY 86400

static struct features_catalogue *cat;
static struct maps *maps;

static int setup(void **state)
{
    char err[256];
    (void)state;
    if (features_catalogue_load_file(FEATURES_CATALOGUE_DEFAULT_PATH, &cat, err, sizeof(err)) < 0) {
        fprintf(stderr, "catalogue: %s\n", err);
        return -1;
    }
    maps = maps_load_defaults(NULL, err, sizeof(err));
    if (!maps) {
        fprintf(stderr, "maps: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    features_catalogue_free(cat);
    maps_free(maps);
    return 0;
}

static void test_shipped_catalogue(void **state)
{
    (void)state;
    /* the issue asks for at least 500 features */
    assert_true(features_count(cat) >= 500);
    assert_true(features_index(cat, "all_sms_count_nlp") >= 0);
    assert_true(features_index(cat, "estimated_salary") >= 0);
    assert_true(features_index(cat, "fraud_flag") >= 0);
    assert_true(features_index(cat, "mobilegator_affordability") >= 0);
    assert_int_equal(features_index(cat, "no_such_feature"), -1);
    assert_string_equal(features_catalogue_version(cat), "2026.12.08-1");
    const struct features_entry *e =
        features_entry(cat, (size_t)features_index(cat, "otp_count_c30"));
    assert_string_equal(e->window, "c30");
    assert_int_equal(e->group, FEATURES_GROUP_SMS);
}

static void test_mismatch_fails(void **state)
{
    size_t len;
    char err[256], *text = file_read(FEATURES_CATALOGUE_DEFAULT_PATH, 0, &len, NULL, 0);
    struct features_catalogue *c = NULL;
    static const char extra[] = "made_up_feature\tsms\tnumber\tall\tnot computed\n";
    (void)state;
    assert_non_null(text);

    /* a row nothing computes */
    char *grown = realloc(text, len + sizeof(extra));
    assert_non_null(grown);
    memcpy(grown + len, extra, sizeof(extra));
    assert_int_equal(features_catalogue_load(grown, len + sizeof(extra) - 1, &c, err, sizeof(err)),
                     -1);
    assert_null(c);
    assert_non_null(strstr(err, "'made_up_feature' has no computing function"));

    /* a type that disagrees with the code: fraud_flag is a bool */
    grown[len] = '\0';
    char *t = strstr(grown, "\nfraud_flag\tfraud\tbool\t");
    assert_non_null(t);
    memcpy(t + strlen("\nfraud_flag\tfraud\t"), "xool", 4);
    assert_int_equal(features_catalogue_load(grown, len, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "fraud_flag"));
    memcpy(t + strlen("\nfraud_flag\tfraud\t"), "bool", 4);

    /* drop the otp_count_c30 row: the code still computes it */
    char *row = strstr(grown, "\notp_count_c30\t");
    assert_non_null(row);
    char *end = strchr(row + 1, '\n');
    memmove(row, end, strlen(end) + 1);
    assert_int_equal(features_catalogue_load(grown, strlen(grown), &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "computed feature 'otp_count_c30' is not in the catalogue"));
    free(grown);
}

static void test_groupings(void **state)
{
    unsigned m = 0;
    char err[128];
    (void)state;
    assert_int_equal(features_groupings_parse("sms,fraud,extracted_sms", &m, err, sizeof(err)), 0);
    assert_int_equal(m, FEATURES_GROUP_ALL);
    assert_int_equal(features_groupings_parse("fraud", &m, err, sizeof(err)), 0);
    assert_int_equal(m, FEATURES_GROUP_FRAUD | FEATURES_GROUP_APPS | FEATURES_GROUP_DEVICE);
    assert_int_equal(features_groupings_parse("sms, apps", &m, err, sizeof(err)), 0);
    assert_int_equal(m, FEATURES_GROUP_SMS | FEATURES_GROUP_APPS);
    assert_int_equal(features_groupings_parse("sms,bogus", &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown grouping"));
}

static struct sms_fact debit(int64_t ts, double amount)
{
    return (struct sms_fact){.ts = ts,
                             .sender = "hdfcbk",
                             .sender_name = "hdfc bank",
                             .sender_type = "bank",
                             .sms_type = "upi_debit_executed",
                             .channel = "upi",
                             .is_classified = true,
                             .is_extracted = true,
                             .is_transactional = true,
                             .direction = SMS_DIRECTION_DEBIT,
                             .amount = amount,
                             .available_balance = NAN,
                             .credit_limit = NAN,
                             .available_limit = NAN,
                             .due_amount = NAN,
                             .min_due = NAN};
}

/*
 * "# param:" lines tune a definition: a balance floor of 9,000 puts the
 * single 8,000 reading under it (low_balance_count_c30 1, where the shipped
 * 1,000 floor gives 0); an unknown name or a value out of range stops the
 * load naming the line.
 */
static void test_params(void **state)
{
    size_t len;
    char err[256], *text = file_read(FEATURES_CATALOGUE_DEFAULT_PATH, 0, &len, NULL, 0);
    struct features_catalogue *c = NULL;
    struct feature_vector v;
    (void)state;
    assert_non_null(text);
    char *p = strstr(text, "# param: balance_floor_inr 1000\n");
    assert_non_null(p);
    memcpy(p, "# param: balance_floor_inr 9000\n", 32);
    assert_int_equal(features_catalogue_load(text, len, &c, err, sizeof(err)), 0);
    struct sms_fact f = debit(NOW - DAY, 100);
    f.available_balance = 8000;
    f.account_last_digits = "1234";
    struct user_data u = {.now = NOW,
                          .sms_state = SOURCE_OK,
                          .sms = &f,
                          .sms_count = 1,
                          .apps_state = SOURCE_EMPTY,
                          .device_state = SOURCE_EMPTY};
    assert_int_equal(features_vector_init(&v, c), 0);
    features_compute(c, maps, &u, FEATURES_GROUP_ALL, &v);
    assert_true(features_value(c, &v, "low_balance_count_c30") == 1);
    assert_true(features_value(c, &v, "balance_days_under_floor_c30") == 2); /* yesterday, today */
    features_vector_free(&v);
    features_catalogue_free(c);
    memcpy(p, "# param: balance_floor_inr -100\n", 32);
    assert_int_equal(features_catalogue_load(text, len, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "param balance_floor_inr: expected a number in [0, 1e+09]"));
    memcpy(p, "# param: balance_floor_usd 1000\n", 32);
    assert_int_equal(features_catalogue_load(text, len, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown param"));
    free(text);
}

static void test_null_rules(void **state)
{
    struct feature_vector v;
    struct sms_fact sms[1] = {debit(NOW - DAY, 100)};
    struct user_data u = {.now = NOW,
                          .sms_state = SOURCE_FAILED,
                          .sms = sms,
                          .sms_count = 1,
                          .apps_state = SOURCE_EMPTY,
                          .device_state = SOURCE_NOT_ASKED};
    (void)state;
    assert_int_equal(features_vector_init(&v, cat), 0);

    /* extraction failed: every SMS feature null, the reason says why */
    features_compute(cat, maps, &u, FEATURES_GROUP_ALL, &v);
    assert_true(isnan(features_value(cat, &v, "all_sms_count_nlp")));
    assert_true(isnan(features_value(cat, &v, "debit_count_c30")));
    assert_string_equal(features_string(cat, &v, "sms_data_null_reason"), "extraction_failed");
    /* apps empty: counts 0, shares null */
    assert_true(features_value(cat, &v, "apps_count_total") == 0);
    assert_true(isnan(features_value(cat, &v, "apps_lending_share")));
    assert_string_equal(features_string(cat, &v, "apps_data_null_reason"), "no_data");
    assert_string_equal(features_string(cat, &v, "device_data_null_reason"), "not_requested");
    assert_null(features_string(cat, &v, "device_model"));

    /* no SMS at all: counts 0, means null */
    u.sms_state = SOURCE_EMPTY;
    features_compute(cat, maps, &u, FEATURES_GROUP_ALL, &v);
    assert_true(features_value(cat, &v, "all_sms_count_nlp") == 0);
    assert_true(features_value(cat, &v, "debit_count_c30") == 0);
    assert_true(isnan(features_value(cat, &v, "debit_mean_c30")));
    assert_true(isnan(features_value(cat, &v, "estimated_salary")));
    assert_string_equal(features_string(cat, &v, "sms_data_null_reason"), "no_data");

    /* data present, but only "fraud" asked: SMS features null, reason not_requested */
    u.sms_state = SOURCE_OK;
    features_compute(cat, maps, &u, FEATURES_GROUP_FRAUD | FEATURES_GROUP_APPS, &v);
    assert_true(isnan(features_value(cat, &v, "all_sms_count_nlp")));
    assert_string_equal(features_string(cat, &v, "sms_data_null_reason"), "not_requested");

    /* asked and present: one debit of 100 a day ago */
    features_compute(cat, maps, &u, FEATURES_GROUP_ALL, &v);
    assert_true(features_value(cat, &v, "all_sms_count_nlp") == 1);
    assert_true(features_value(cat, &v, "debit_sum_c7") == 100);
    assert_null(features_string(cat, &v, "sms_data_null_reason"));
    features_vector_free(&v);
}

static void test_json(void **state)
{
    struct feature_vector v;
    struct json_writer w;
    struct sms_fact sms[1] = {debit(NOW - DAY, 100.5)};
    struct user_data u = {.now = NOW,
                          .sms_state = SOURCE_OK,
                          .sms = sms,
                          .sms_count = 1,
                          .apps_state = SOURCE_EMPTY,
                          .device_state = SOURCE_EMPTY};
    size_t len;
    (void)state;
    assert_int_equal(features_vector_init(&v, cat), 0);
    features_compute(cat, maps, &u, FEATURES_GROUP_ALL, &v);
    json_writer_init(&w, 0);
    json_writer_object_begin(&w);
    features_write_json(cat, &v, &w);
    json_writer_object_end(&w);
    assert_true(json_writer_ok(&w));
    const char *j = json_writer_data(&w, &len);
    assert_non_null(strstr(j, "\"all_sms_count_nlp\":1,"));
    assert_non_null(strstr(j, "\"debit_sum_c30\":100.5"));
    assert_non_null(strstr(j, "\"estimated_salary\":null"));
    assert_non_null(strstr(j, "\"salaried_flag\":false"));
    assert_non_null(strstr(j, "\"apps_data_null_reason\":\"no_data\""));
    json_writer_free(&w);
    features_vector_free(&v);
}

static void test_markdown(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)state;
    features_write_markdown(cat, f);
    fclose(f);
    assert_non_null(strstr(buf, "| `all_sms_count_nlp` | number | all |"));
    assert_non_null(strstr(buf, "## Group `fraud`"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_catalogue), cmocka_unit_test(test_mismatch_fails),
        cmocka_unit_test(test_groupings),         cmocka_unit_test(test_params),
        cmocka_unit_test(test_null_rules),        cmocka_unit_test(test_json),
        cmocka_unit_test(test_markdown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
