/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Apps, fraud and device families on a small app list and device whose
 * expected values are worked out by hand below (mappings: the shipped
 * insights-api/artifacts/).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/insights-api/features_fixture.h"

/*
 * Apps: two lending apps (KreditBee 10 d ago, Navi 60 d ago), Dream11
 * (gambling, 5 d ago), WhatsApp (communication, 400 d ago), Magisk (root,
 * fraud, 2 d ago), one unknown system package.
 *   apps_count_total 6, user 5, system 1; mapped 4 (Magisk is only in the
 *   fraud mapping); lending 2, lending installed c30 1, c90 2;
 *   lending share 2/5; fraud: root 1 -> rooted_flag, fraud_flag, reasons "root".
 * Device: Samsung SM-A145F (Galaxy A14, 13,999 INR, 2023) -> mid (12,000 <= p < 25,000: rank 1),
 *   age 2026 - 2023 = 3; 4096 MB RAM = 4 GB.
 */
static void test_apps_fraud_device(void **state)
{
    (void)state;
    struct app_fact apps[] = {
        {.package_name = "com.kreditbee.android", .install_ts = NOW - 10 * DAY},
        {.package_name = "com.navi.android", .install_ts = NOW - 60 * DAY},
        {.package_name = "com.dream11.fantasy", .install_ts = NOW - 5 * DAY},
        {.package_name = "com.whatsapp", .install_ts = NOW - 400 * DAY},
        {.package_name = "com.topjohnwu.magisk", .install_ts = NOW - 2 * DAY},
        {.package_name = "com.android.vendor.thing", .is_system = true},
    };
    struct user_data u = {.now = NOW,
                          .sms_state = SOURCE_EMPTY,
                          .apps_state = SOURCE_OK,
                          .apps = apps,
                          .apps_count = sizeof(apps) / sizeof(apps[0]),
                          .device_state = SOURCE_OK,
                          .device = {.brand = "samsung",
                                     .model = "SM-A145F",
                                     .manufacturer = "samsung",
                                     .total_ram_mb = 4096,
                                     .total_storage_mb = NAN}};
    char err[64];
    unsigned mask = 0;
    assert_int_equal(features_groupings_parse("fraud", &mask, err, sizeof(err)), 0);
    features_compute(cat, maps, &u, mask, &v);
    assert_true(val("apps_count_total") == 6);
    assert_true(val("apps_count_user") == 5);
    assert_true(val("apps_count_system") == 1);
    assert_true(val("apps_mapped_count") == 4);
    assert_true(val("apps_lending_count") == 2);
    assert_true(val("apps_lending_installed_c30") == 1);
    assert_true(val("apps_lending_installed_c90") == 2);
    assert_true(val("apps_gambling_count") == 1);
    assert_true(val("apps_sub_fantasy_sports_count") == 1);
    assert_true(val("apps_lending_share") == 2.0 / 5.0);
    assert_true(val("days_since_last_lending_app_install") == 10);
    assert_true(val("apps_installed_c7") == 2);
    assert_true(val("fraud_apps_root_count") == 1);
    assert_true(val("fraud_apps_fake_gps_count") == 0);
    assert_true(val("rooted_flag") == 1);
    assert_true(val("emulator_flag") == 0);
    assert_true(val("fraud_flag") == 1);
    assert_string_equal(features_string(cat, &v, "fraud_reasons"), "root");
    assert_string_equal(features_string(cat, &v, "device_model"), "SM-A145F");
    assert_true(val("device_price_inr") == 13999);
    assert_string_equal(features_string(cat, &v, "device_price_source"), "model");
    assert_string_equal(features_string(cat, &v, "device_price_band"), "mid");
    assert_true(val("device_price_band_rank") == 1);
    assert_true(val("device_launch_year") == 2023);
    assert_true(val("device_age_years") == 3);
    assert_true(val("device_total_ram_gb") == 4);
    assert_true(isnan(val("device_total_storage_gb")));
    /* the SMS groups were not asked */
    assert_string_equal(features_string(cat, &v, "sms_data_null_reason"), "not_requested");
    assert_true(isnan(val("all_sms_count_nlp")));
}

/*
 * An emulator with no fraud apps: brand "google", model "sdk_gphone64_x86_64"
 * matches the model marker -> emulator_flag and fraud_flag with reason
 * "emulated_device"; an unknown model of a known brand is priced at the brand
 * average with no launch year.
 */
static void test_emulator_and_brand_average(void **state)
{
    (void)state;
    struct app_fact apps[] = {{.package_name = "com.whatsapp"}};
    struct user_data u = {.now = NOW,
                          .sms_state = SOURCE_EMPTY,
                          .apps_state = SOURCE_OK,
                          .apps = apps,
                          .apps_count = 1,
                          .device_state = SOURCE_OK,
                          .device = {.brand = "google",
                                     .model = "sdk_gphone64_x86_64",
                                     .total_ram_mb = NAN,
                                     .total_storage_mb = NAN}};
    features_compute(cat, maps, &u, FEATURES_GROUP_ALL, &v);
    assert_true(val("emulator_flag") == 1);
    assert_true(val("fraud_flag") == 1);
    assert_string_equal(features_string(cat, &v, "fraud_reasons"), "emulated_device");
    assert_string_equal(features_string(cat, &v, "device_price_source"), "brand_average");
    assert_true(val("device_price_inr") > 0);
    assert_true(isnan(val("device_launch_year")));

    /* without the app list the flag cannot be false: null */
    u.apps_state = SOURCE_FAILED;
    u.device.model = "Pixel 8";
    features_compute(cat, maps, &u, FEATURES_GROUP_ALL, &v);
    assert_true(isnan(val("fraud_flag")));
    assert_true(isnan(val("fraud_apps_count")));
    assert_string_equal(features_string(cat, &v, "apps_data_null_reason"), "fetch_failed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_apps_fraud_device),
                                       cmocka_unit_test(test_emulator_and_brand_average)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
