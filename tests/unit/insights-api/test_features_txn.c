/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transaction, SMS-count, merchant and balance families on a small inbox
 * whose expected values are worked out by hand below.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/insights-api/features_fixture.h"

static struct sms_fact plain(int64_t ts, const char *type)
{
    return (struct sms_fact){.ts = ts,
                             .sender = "amazon",
                             .sms_type = type,
                             .is_classified = true,
                             .amount = NAN,
                             .available_balance = NAN,
                             .credit_limit = NAN,
                             .available_limit = NAN,
                             .due_amount = NAN,
                             .min_due = NAN};
}

/*
 * Inbox (ages from now = 2026-11-22 12:00 IST):
 *   2 d   debit  500 UPI  "swiggy@icici"  ref R1  bal 9,500
 *   2 d   debit  500 UPI  same ref R1 (a duplicate alert: not counted)
 *   10 d  credit 20,000 NEFT "ACME LTD"           bal 10,000
 *   40 d  debit  2,000 ATM "Cash Withdrawal"       bal 8,000
 *   100 d debit  60,000 IMPS "9876543210@ybl"       (outside c90, inside c180)
 *   5 d   otp, 6 d promotion
 */
static void test_small_inbox(void **state)
{
    (void)state;
    struct sms_fact sms[] = {
        txn(NOW - 100 * DAY, SMS_DIRECTION_DEBIT, 60000, "imps", "9876543210@ybl", "R9", NAN),
        txn(NOW - 40 * DAY, SMS_DIRECTION_DEBIT, 2000, "atm", "Cash Withdrawal", NULL, 8000),
        txn(NOW - 10 * DAY, SMS_DIRECTION_CREDIT, 20000, "neft", "ACME LTD", NULL, 10000),
        plain(NOW - 6 * DAY, "promotion"),
        plain(NOW - 5 * DAY, "otp"),
        txn(NOW - 2 * DAY, SMS_DIRECTION_DEBIT, 500, "upi", "swiggy@icici", "R1", 9500),
        txn(NOW - 2 * DAY + 30, SMS_DIRECTION_DEBIT, 500, "upi", "swiggy@icici", "R1", 9500),
    };
    static const struct feature_want want[] = {
        /* counts: 7 SMS, 5 transactional (the duplicate alert is still an SMS), 4 of them debits */
        {"all_sms_count_nlp", 7},
        {"txn_sms_count_nlp", 5},
        {"credit_sms_count_nlp", 1},
        {"debit_sms_count_nlp", 4},
        {"otp_count_c7", 1},
        {"promo_count_c30", 1},
        {"all_sms_count_c7", 4}, /* 2 d x2, 5 d, 6 d */
        {"sms_count_sender_bank", 5},
        /* debits: c7 = 500 (duplicate dropped); c60 = 500 + 2000; c180 = + 60000 */
        {"debit_count_c7", 1},
        {"debit_sum_c7", 500},
        {"debit_sum_c30", 500},
        {"debit_sum_c60", 2500},
        {"debit_sum_c90", 2500},
        {"debit_sum_c180", 62500},
        {"debit_max_c180", 60000},
        {"debit_mean_c60", 1250},
        {"credit_mean_c7", NAN}, /* no credit in 7 days */
        {"credit_sum_c30", 20000},
        /* channels */
        {"upi_debit_count_c30", 1},
        {"atm_debit_sum_c90", 2000},
        {"imps_debit_sum_c90", 0},
        {"imps_debit_sum_c180", 60000},
        {"neft_credit_sum_c30", 20000},
        /* months (now is Nov): 10 d ago = 12 Nov (m0), 40 d = 13 Oct (m1), 100 d = 14 Aug (m3) */
        {"credit_sum_m0", 20000},
        {"debit_sum_m1", 2000},
        {"debit_sum_m3", 60000},
        {"debit_sum_m2", 0},
        /* flow: c30 = 20000 - 500 */
        {"net_flow_c30", 19500},
        {"debit_credit_ratio_c30", 500.0 / 20000.0},
        {"large_debit_count_c90", 0},
        /* merchants: swiggy -> food; ATM -> cash; a phone-number VPA -> transfers (c180 only) */
        {"spend_food_sum_c30", 500},
        {"spend_cash_sum_c90", 2000},
        {"spend_transfers_sum_c90", 0},
        /* balance: one account; readings 8000 (40 d), 10000 (10 d), 9500 (2 d, once per SMS) */
        {"accounts_count", 1},
        {"acc0_latest_balance", 9500},
        {"acc0_min_balance_c90", 8000},
        {"min_balance_c30", 9500},
        {"mean_balance_c30", (10000 + 9500 + 9500) / 3.0},
        {"acc1_latest_balance", NAN},
        {"acc0_eom_balance_m1", 8000},
    };
    COMPUTE_INBOX(sms, FEATURES_GROUP_ALL);

    EXPECT_FEATURES(want);
    /* the string features: top category (cash outweighs food in c90) and the one account's id */
    assert_string_equal(str("top_spend_category_c90"), "cash");
    assert_null(str("acc1_id"));
    assert_string_equal(str("acc0_id"), "bank | hdfc bank | 34");
}

static struct sms_fact card(int64_t ts, const char *type, enum sms_direction dir, double amount)
{
    struct sms_fact f = txn(ts, dir, amount, "card", "AMAZON", NULL, NAN);
    f.sender = "sbicrd";
    f.sender_name = "sbi card";
    f.sender_type = "credit_card";
    f.sms_type = type;
    f.unique_pan = "credit_card | sbi card | 56";
    f.is_transactional = dir != SMS_DIRECTION_NONE;
    return f;
}

/*
 * One SBI card: a 2,000 spend 3 days ago (limit 50,000, available 48,000),
 * a statement 10 days ago (due 5,000, min 250) and its payment of 5,000
 * received 8 days ago:
 *   cc_count 1, limit 50,000, available 48,000, utilisation 1 - 48/50 = 0.04,
 *   spend c30 2,000, bill 5,000, min due 250, paid 5,000 -> ratio 1.
 * Card SMS never count as bank balances: accounts_count 0.
 */
static void test_credit_card(void **state)
{
    (void)state;
    struct sms_fact sms[] = {
        card(NOW - 10 * DAY, "statement_generated", SMS_DIRECTION_NONE, NAN),
        card(NOW - 8 * DAY, "card_credit_executed", SMS_DIRECTION_CREDIT, 5000),
        card(NOW - 3 * DAY, "card_debit_executed", SMS_DIRECTION_DEBIT, 2000),
    };
    sms[0].due_amount = 5000;
    sms[0].min_due = 250;
    sms[2].credit_limit = 50000;
    sms[2].available_limit = 48000;
    static const struct feature_want want[] = {
        {"cc_count", 1},
        {"cc_total_limit", 50000},
        {"cc_total_available_limit", 48000},
        {"cc_spend_sum_c30", 2000},
        {"cc_spend_count_c30", 1},
        {"cc_latest_bill_amount", 5000},
        {"cc_latest_min_due", 250},
        {"cc_payment_sum_c90", 5000},
        {"cc_payment_to_bill_ratio_c90", 1},
        {"cc_bill_m0", 5000},
        {"accounts_count", 0},
    };
    COMPUTE_INBOX(sms, FEATURES_GROUP_EXTRACTED_SMS);

    EXPECT_FEATURES(want);
    /* 1 - 48000 / 50000 is not exactly 0.04 in binary */
    assert_true(fabs(val("cc_utilisation") - 0.04) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_small_inbox),
                                       cmocka_unit_test(test_credit_card)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
