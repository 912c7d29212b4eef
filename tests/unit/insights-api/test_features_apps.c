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
        {.package_name = "com.naviapp", .install_ts = NOW - 60 * DAY},
        {.package_name = "com.app.dream11Pro", .install_ts = NOW - 5 * DAY},
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

static void price_of(const char *brand, const char *model, double ram_mb, double storage_mb)
{
    struct user_data u = {.now = NOW,
                          .sms_state = SOURCE_EMPTY,
                          .apps_state = SOURCE_EMPTY,
                          .device_state = SOURCE_OK,
                          .device = {.brand = brand,
                                     .model = model,
                                     .total_ram_mb = ram_mb,
                                     .total_storage_mb = storage_mb}};
    features_compute(cat, maps, &u, FEATURES_GROUP_DEVICE, &v);
}

/*
 * Price fallbacks (artifacts of 2026.12.08-1):
 * - "itel A665L" (brand repeated before the code): the a665l row, itel A70,
 *   6,299, 2024 -> budget, from the model.
 * - "Redmi 12C": its own row, 8,999 -> budget (the brand average, 18,700,
 *   would have made it mid).
 * - vivo "V2303" is not in the table; Android shows 7,680 MB of an 8 GB
 *   phone's RAM and 119 GiB (121,856 MB) of its 128 GB: sold as 8 GB/128 GB,
 *   the class price 19,000 -> mid (rank 1), no launch year.
 * - 2 GB/32 GB of an unknown model: the 2 GB/16 GB class (6,000) -> budget.
 * - the same vivo without RAM: the brand average, 24,800 -> mid.
 * - Pixel 7a at 43,999 -> upper_mid (rank 2); Galaxy S24 at 79,999 -> premium.
 */
static void test_device_price_fallbacks(void **state)
{
    (void)state;
    price_of("itel", "itel A665L", 2048, 32768);
    assert_true(val("device_price_inr") == 6299);
    assert_string_equal(str("device_price_source"), "model");
    assert_string_equal(str("device_price_band"), "budget");
    assert_true(val("device_launch_year") == 2024);
    price_of("Redmi", "Redmi 12C", 4096, 65536);
    assert_true(val("device_price_inr") == 8999);
    assert_string_equal(str("device_price_band"), "budget");
    price_of("vivo", "V2303", 7680, 121856);
    assert_true(val("device_price_inr") == 19000);
    assert_string_equal(str("device_price_source"), "memory_class");
    assert_string_equal(str("device_price_band"), "mid");
    assert_true(val("device_price_band_rank") == 1);
    assert_true(isnan(val("device_launch_year")));
    price_of("acme", "X1", 2048, 32768);
    assert_true(val("device_price_inr") == 6000);
    assert_string_equal(str("device_price_band"), "budget");
    price_of("vivo", "V2303", NAN, NAN);
    assert_true(val("device_price_inr") == 24800);
    assert_string_equal(str("device_price_source"), "brand_average");
    price_of("google", "Pixel 7a", 8192, 131072);
    assert_string_equal(str("device_price_band"), "upper_mid");
    assert_true(val("device_price_band_rank") == 2);
    price_of("samsung", "SM-S921B", 8192, 262144);
    assert_string_equal(str("device_price_band"), "premium");
}

/*
 * Leakage control with the shipped client_exclusions.json (demo_client's
 * own lender: header KSHVIC, app in.kashvicredit.app). One day ago the
 * applicant got "JM-KSHVIC-S"'s application SMS and installed its app; two
 * days ago an application with KreditBee (kbee) and its app three days ago.
 * For demo_client the own SMS and app are not there: 1 SMS, 1 application
 * in 7 days, 1 app (the lending one) installed in 7 days. For any other
 * client both count: 2, 2, 2.
 */
static void test_leakage(void **state)
{
    (void)state;
    struct sms_fact sms[] = {
        {.ts = NOW - 2 * DAY, .sender = "kbee", .sms_type = "loan_application"},
        {.ts = NOW - DAY, .sender = "JM-KSHVIC-S", .sms_type = "loan_application"},
    };
    struct app_fact apps[] = {
        {.package_name = "com.kreditbee.android", .install_ts = NOW - 3 * DAY},
        {.package_name = "in.kashvicredit.app", .install_ts = NOW - DAY},
    };
    for (size_t i = 0; i < 2; i++)
        sms[i].amount = sms[i].available_balance = sms[i].credit_limit = sms[i].available_limit =
            sms[i].due_amount = sms[i].min_due = NAN;
    struct user_data u = {.client_id = "demo_client",
                          .now = NOW,
                          .sms_state = SOURCE_OK,
                          .sms = sms,
                          .sms_count = 2,
                          .apps_state = SOURCE_OK,
                          .apps = apps,
                          .apps_count = 2,
                          .device_state = SOURCE_EMPTY};
    features_compute(cat, maps, &u, FEATURES_GROUP_ALL, &v);
    assert_true(val("all_sms_count_nlp") == 1);
    assert_true(val("loan_application_count_c7") == 1);
    assert_true(val("apps_count_total") == 1);
    assert_true(val("apps_installed_c7") == 1);
    assert_true(val("apps_lending_installed_c30") == 1);
    u.client_id = "another_client";
    features_compute(cat, maps, &u, FEATURES_GROUP_ALL, &v);
    assert_true(val("all_sms_count_nlp") == 2);
    assert_true(val("loan_application_count_c7") == 2);
    assert_true(val("apps_count_total") == 2);
    assert_true(val("apps_installed_c7") == 2);
    assert_true(maps_client_has(maps, false, "demo_client", "AX-KSHVIC"));
    assert_true(maps_client_has(maps, false, "demo_client", "kshvic"));
    assert_false(maps_client_has(maps, false, "demo_client", "KSHVICX"));
    assert_false(maps_client_has(maps, false, "another_client", "kshvic"));
    assert_true(maps_client_has(maps, true, "demo_client", "IN.KASHVICREDIT.APP"));
}

/* Each bad artifact is refused naming the entry, never echoing values. */
static void test_bad_artifacts(void **state)
{
    static const struct {
        enum maps_kind kind;
        const char *json, *want;
    } bad[] = {
        {MAPS_DEVICE_PRICING,
         "{\"format\":1,\"version\":\"v\",\"devices\":[{\"models\":[\"x1\"],"
         "\"price_inr\":9999}]}",
         "devices[0] needs a \"source\" and a \"price_date\""},
        {MAPS_DEVICE_PRICING,
         "{\"format\":1,\"version\":\"v\",\"devices\":[{\"models\":[\"x1\"],"
         "\"price_inr\":9999,\"source\":\"s\",\"price_date\":\"2024-13\"}]}",
         "(YYYY or YYYY-MM)"},
        {MAPS_AVG_DEVICE_PRICE,
         "{\"format\":1,\"version\":\"v\",\"brands\":{},\"bands\":[{\"name\":\"b\"}],"
         "\"memory_classes\":[{\"ram_gb\":4,\"storage_gb\":0,\"price_inr\":9000}]}",
         "memory_classes[0] needs positive ram_gb"},
        {MAPS_PAYERS,
         "{\"format\":1,\"version\":\"v\",\"kinds\":[\"gig_platform\"],\"payers\":[{"
         "\"name\":\"A\",\"kind\":\"pension\",\"keys\":[\"a\"]}]}",
         "payers[0] needs \"name\", a \"kind\" listed in \"kinds\""},
        {MAPS_CLIENT_EXCLUSIONS,
         "{\"format\":1,\"version\":\"v\",\"clients\":[{\"sender_headers\":[\"X\"]}]}",
         "clients[0] needs a \"client_id\""},
        {MAPS_CLIENT_EXCLUSIONS,
         "{\"format\":1,\"version\":\"v\",\"clients\":[{\"client_id\":\"c\","
         "\"app_packages\":[7]}]}",
         "clients[0].app_packages[0] is not a package name"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct maps *m = maps_new();
        char err[256] = "";
        assert_int_equal(
            maps_load(m, bad[i].kind, bad[i].json, strlen(bad[i].json), err, sizeof(err)), -1);
        if (!strstr(err, bad[i].want))
            fail_msg("case %zu: error '%s' lacks '%s'", i, err, bad[i].want);
        maps_free(m);
    }
}

/* Gig platforms by brand or legal name, as whole words of the party. */
static void test_payers(void **state)
{
    (void)state;
    const struct maps_payer *p = maps_payer_lookup(maps, "NEFT-BUNDL TECHNOLOGIES PVT LTD");
    assert_non_null(p);
    assert_string_equal(p->name, "Swiggy");
    assert_string_equal(p->kind, "gig_platform");
    assert_non_null(maps_payer_lookup(maps, "IMPS/ROPPEN TRANSPORTATION SERVICES"));
    assert_null(maps_payer_lookup(maps, "SWIGGYMART GROCERS"));
    assert_null(maps_payer_lookup(maps, "RAVI KUMAR"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_apps_fraud_device),
                                       cmocka_unit_test(test_emulator_and_brand_average),
                                       cmocka_unit_test(test_device_price_fallbacks),
                                       cmocka_unit_test(test_leakage),
                                       cmocka_unit_test(test_bad_artifacts),
                                       cmocka_unit_test(test_payers)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
