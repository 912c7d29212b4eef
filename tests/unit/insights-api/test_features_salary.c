/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Salary, obligations (EMI, bounces, loans) and affordability families on
 * small inboxes whose expected values are worked out by hand below.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/insights-api/features_fixture.h"

static struct sms_fact typed(int64_t ts, const char *type, enum sms_direction dir, double amount,
                             const char *channel, const char *party, const char *sender)
{
    struct sms_fact f = txn(ts, dir, amount, channel, party, NULL, NAN);
    f.sms_type = type;
    f.sender_name = sender;
    f.is_transactional = dir != SMS_DIRECTION_NONE;
    return f;
}

/* 10:00 India time on the day */
#define NOV1 1793507400
#define OCT1 1790829000
#define SEP1 1788237000
#define AUG1 1785558600
#define NOV5 1793853000
#define OCT5 1791174600
#define SEP5 1788582600

/*
 * Salary 50,000 / 50,000 / 52,000 / 48,000 on the 1st of Nov, Oct, Sep, Aug
 * (m0..m3) from "NEFT-ACME TECH PVT LTD-SAL <MON>": 4 months, median 50,000,
 * day 1, employer "ACME TECH PVT LTD".
 * EMI: NACH 10,000 to Bajaj Finance on the 5th of Nov, Oct, Sep (17, 48, 78
 * days ago): one EMI; c90 sum 30,000; obligation = max((10,000 + 10,000 +
 * 0) / 3 over m1..m3, c30 sum 10,000) = 10,000.
 * Affordability = 50,000 - 10,000 = 40,000; FOIR 0.2; EMI headroom
 * 0.5 x 50,000 - 10,000 = 15,000.
 * Bounces: a return 20 d ago and its 500 charge 19 d ago from the same bank
 * (one event), and a lone 300 charge from another bank 100 d ago: c30 = 1,
 * c90 = 1, c180 = 2; charges c180 = 800.
 * Loans: an application 3 d ago and a rejection 2 d ago.
 */
static void test_salary_emi_bounce(void **state)
{
    (void)state;
    struct sms_fact sms[] = {
        typed(AUG1, "salary_credit", SMS_DIRECTION_CREDIT, 48000, "neft",
              "NEFT-ACME TECH PVT LTD-SAL AUG", "hdfc bank"),
        typed(SEP1, "salary_credit", SMS_DIRECTION_CREDIT, 52000, "neft",
              "NEFT-ACME TECH PVT LTD-SAL SEP", "hdfc bank"),
        typed(SEP5, "account_debit_executed", SMS_DIRECTION_DEBIT, 10000, "nach",
              "BAJAJ FINANCE LTD", "hdfc bank"),
        typed(NOW - 100 * DAY, "bounce_charge", SMS_DIRECTION_DEBIT, 300, NULL, NULL, "icici bank"),
        typed(OCT1, "salary_credit", SMS_DIRECTION_CREDIT, 50000, "neft",
              "NEFT-ACME TECH PVT LTD-SAL OCT", "hdfc bank"),
        typed(OCT5, "account_debit_executed", SMS_DIRECTION_DEBIT, 10000, "nach",
              "BAJAJ FINANCE LTD", "hdfc bank"),
        typed(NOV1, "salary_credit", SMS_DIRECTION_CREDIT, 50000, "neft",
              "NEFT-ACME TECH PVT LTD-SAL NOV", "hdfc bank"),
        typed(NOV5, "account_debit_executed", SMS_DIRECTION_DEBIT, 10000, "nach",
              "BAJAJ FINANCE LTD", "hdfc bank"),
        typed(NOW - 20 * DAY, "bounce_return", SMS_DIRECTION_NONE, NAN, "nach", NULL, "hdfc bank"),
        typed(NOW - 19 * DAY, "bounce_charge", SMS_DIRECTION_DEBIT, 500, NULL, NULL, "hdfc bank"),
        typed(NOW - 3 * DAY, "loan_application", SMS_DIRECTION_NONE, NAN, NULL, NULL, "kreditbee"),
        typed(NOW - 2 * DAY, "loan_rejection", SMS_DIRECTION_NONE, NAN, NULL, NULL, "kreditbee"),
    };
    struct user_data u = {.now = NOW,
                          .sms_state = SOURCE_OK,
                          .sms = sms,
                          .sms_count = sizeof(sms) / sizeof(sms[0]),
                          .apps_state = SOURCE_EMPTY,
                          .device_state = SOURCE_EMPTY};
    /* the inbox must be sorted by time: the 100-day charge sits between Aug 1 and Sep 5 */
    features_compute(cat, maps, &u, FEATURES_GROUP_ALL, &v);

    assert_true(val("salaried_flag") == 1);
    assert_true(val("estimated_salary") == 50000);
    assert_true(val("salary_day_of_month") == 1);
    assert_true(val("salary_months_count") == 4);
    assert_true(val("salary_m2") == 52000);
    assert_true(val("salary_m4") == 0);
    assert_string_equal(features_string(cat, &v, "employer"), "ACME TECH PVT LTD");
    assert_string_equal(features_string(cat, &v, "salary_detection_method"), "salary_keyword");
    assert_true(val("emi_count") == 1);
    assert_true(val("emi_sum_c90") == 30000);
    assert_true(val("emi_m1") == 10000);
    assert_true(val("emi_m3") == 0);
    assert_true(val("monthly_obligation") == 10000);
    assert_true(val("mobilegator_affordability") == 40000);
    assert_true(val("obligation_to_income_ratio") == 0.2);
    assert_true(val("emi_affordability") == 15000);
    assert_true(val("bounce_count_c30") == 1);
    assert_true(val("bounce_count_c90") == 1);
    assert_true(val("bounce_count_c180") == 2);
    assert_true(val("bounce_charge_sum_c180") == 800);
    assert_true(val("nach_bounce_count_c180") == 1);
    assert_true(val("days_since_last_bounce") == 20);
    assert_true(val("loan_application_count_c7") == 1);
    assert_true(val("loan_rejection_count_c30") == 1);
    assert_true(val("loan_rejection_ratio_c180") == 1);
    assert_true(isnan(val("loan_approval_ratio_c180")) == 0); /* 0 approvals / 1 application */
    assert_true(val("loan_approval_ratio_c180") == 0);
}

/*
 * Bounce events from one bank: 20 days ago loan A's notice (bounce_return),
 * three hours later loan B's notice that quotes its fee and so was typed a
 * charge (708), B's charge debit (708) and next day A's charge (500): two
 * events, fees 708 + 500. 100 days ago a cheque notice typed a charge with
 * the cheque amount (11,474) and its 354 fee the next day: one cheque event,
 * fee 354. EMIs: NACH debits of 10,000 and 10,400 from that bank naming no
 * lender, 12 and 10 days ago: two EMIs (within 5% but no lender in common).
 */
static void test_bounce_events_and_emis(void **state)
{
    (void)state;
    int64_t t = NOW - 20 * DAY;
    struct sms_fact sms[] = {
        typed(NOW - 100 * DAY, "bounce_charge", SMS_DIRECTION_DEBIT, 11474, "cheque", NULL,
              "hdfc bank"),
        typed(NOW - 99 * DAY, "bounce_charge", SMS_DIRECTION_DEBIT, 354, NULL, NULL, "hdfc bank"),
        typed(t, "bounce_return", SMS_DIRECTION_NONE, 1800, "nach", NULL, "hdfc bank"),
        typed(t + 3 * 3600, "bounce_charge", SMS_DIRECTION_DEBIT, 708, "nach", NULL, "hdfc bank"),
        typed(t + 8 * 3600, "bounce_charge", SMS_DIRECTION_DEBIT, 708, NULL, NULL, "hdfc bank"),
        typed(t + DAY, "bounce_charge", SMS_DIRECTION_DEBIT, 500, NULL, NULL, "hdfc bank"),
        typed(NOW - 12 * DAY, "account_debit_executed", SMS_DIRECTION_DEBIT, 10000, "nach", NULL,
              "hdfc bank"),
        typed(NOW - 10 * DAY, "account_debit_executed", SMS_DIRECTION_DEBIT, 10400, "nach", NULL,
              "hdfc bank"),
    };
    struct user_data u = {.now = NOW,
                          .sms_state = SOURCE_OK,
                          .sms = sms,
                          .sms_count = sizeof(sms) / sizeof(sms[0]),
                          .apps_state = SOURCE_EMPTY,
                          .device_state = SOURCE_EMPTY};
    features_compute(cat, maps, &u, FEATURES_GROUP_ALL, &v);

    assert_true(val("bounce_count_c30") == 2);
    assert_true(val("bounce_count_c90") == 2);
    assert_true(val("bounce_count_c180") == 3);
    assert_true(val("bounce_charge_sum_c90") == 1208);
    assert_true(val("bounce_charge_sum_c180") == 1562);
    assert_true(val("bounce_charge_count_c180") == 3);
    assert_true(val("nach_bounce_count_c180") == 2);
    assert_true(val("cheque_bounce_count_c180") == 1);
    assert_true(val("days_since_last_bounce") == 19); /* B's notice, 19 days 21 hours ago */
    assert_true(val("emi_count") == 2);
    assert_true(val("emi_count_c30") == 2);
    assert_true(val("emi_sum_c30") == 20400);
}

/*
 * No salary keyword: the same payer credits 30,000 +- 1,000 on the 7th..9th
 * of three months -> a recurring salary of median 30,000; a one-off 40,000
 * from someone else does not count.
 */
static void test_recurring_salary(void **state)
{
    (void)state;
    struct sms_fact sms[] = {
        typed(SEP1 + 7 * DAY, "account_credit_executed", SMS_DIRECTION_CREDIT, 29000, "imps",
              "GLOBEX SERVICES", "hdfc bank"),
        typed(OCT1 + 8 * DAY, "account_credit_executed", SMS_DIRECTION_CREDIT, 30000, "imps",
              "GLOBEX SERVICES", "hdfc bank"),
        typed(OCT1 + 20 * DAY, "account_credit_executed", SMS_DIRECTION_CREDIT, 40000, "imps",
              "RAVI KUMAR", "hdfc bank"),
        typed(NOV1 + 6 * DAY, "account_credit_executed", SMS_DIRECTION_CREDIT, 31000, "imps",
              "GLOBEX SERVICES", "hdfc bank"),
    };
    struct user_data u = {.now = NOW,
                          .sms_state = SOURCE_OK,
                          .sms = sms,
                          .sms_count = sizeof(sms) / sizeof(sms[0]),
                          .apps_state = SOURCE_EMPTY,
                          .device_state = SOURCE_EMPTY};
    features_compute(cat, maps, &u, FEATURES_GROUP_EXTRACTED_SMS, &v);
    assert_true(val("salaried_flag") == 1);
    assert_true(val("estimated_salary") == 30000);
    assert_true(val("salary_months_count") == 3);
    assert_string_equal(features_string(cat, &v, "employer"), "GLOBEX SERVICES");
    assert_string_equal(features_string(cat, &v, "salary_detection_method"), "recurring_credit");
    assert_true(val("monthly_obligation") == 0);
    assert_true(val("mobilegator_affordability") == 30000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_salary_emi_bounce),
                                       cmocka_unit_test(test_bounce_events_and_emis),
                                       cmocka_unit_test(test_recurring_salary)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
