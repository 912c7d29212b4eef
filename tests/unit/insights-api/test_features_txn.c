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
        /* months (now is Nov): 10 d ago = 12 Nov (m0), 40 d = 13 Oct (m1), 100 d = 14 Aug (m3);
         * the inbox starts on 14 Aug, so August (m3) is not observed: null, not 60,000 */
        {"credit_sum_m0", 20000},
        {"debit_sum_m1", 2000},
        {"debit_sum_m3", NAN},
        {"debit_count_m3", NAN},
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
        /* the daily series: 8,000 from 13 Oct (40 d), 10,000 from 12 Nov (10 d), 9,500 from
         * 20 Nov (2 d); unknown before 13 Oct. c30 (days 0..29 ago): 19 days of 8,000,
         * 8 of 10,000, 3 of 9,500; c90: 41 known days, 30 of them 8,000. */
        {"balance_days_known_c30", 30},
        {"balance_days_known_c90", 41},
        {"balance_daily_min_c30", 8000},
        {"balance_daily_mean_c30", 260500.0 / 30},
        {"balance_daily_mean_c90", 8500},
        {"balance_days_negative_c30", 0},
        {"balance_days_under_floor_c90", 0},
        {"balance_month_end_m1", 8000}, /* 31 Oct: the 13 Oct reading carried forward */
        {"balance_month_end_m2", NAN},  /* 30 Sep: before the first reading */
        {"balance_month_end_m4", NAN},  /* July: not observed */
    };
    COMPUTE_INBOX(sms, FEATURES_GROUP_ALL);

    EXPECT_FEATURES(want);
    /* the string features: top category (cash outweighs food in c90) and the one account's id */
    assert_string_equal(str("top_spend_category_c90"), "cash");
    assert_null(str("acc1_id"));
    assert_string_equal(str("acc0_id"), "hdfc bank | account | 1234");
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
 * Card SMS never count as bank balances: accounts_count 0. The inbox starts on
 * 12 Nov, so even this month (m0) is not observed from its first day: cc_bill_m0
 * is null.
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
        {"cc_bill_m0", NAN},
        {"cc_limit_known_count", 1},
        {"accounts_count", 0},
    };
    COMPUTE_INBOX(sms, FEATURES_GROUP_EXTRACTED_SMS);

    EXPECT_FEATURES(want);
    /* 1 - 48000 / 50000 is not exactly 0.04 in binary */
    assert_true(fabs(val("cc_utilisation") - 0.04) < 1e-12);
}

static struct sms_fact at(struct sms_fact f, const char *digits, const char *type, const char *sub)
{
    f.account_last_digits = digits;
    if (type)
        f.sms_type = type;
    f.sms_sub_type = sub;
    return f;
}

static struct sms_fact from(struct sms_fact f, const char *sender, const char *name,
                            const char *type)
{
    f.sender = sender;
    f.sender_name = name;
    f.sender_type = type;
    return f;
}

/*
 * Instruments, rails and clean income (now = 22 Nov; a promotion on 14 Aug
 * starts the history, so m0..m2 are observed, m3 is not):
 *   20 d  KreditBee's disbursal SMS, 50,000 "to your account XX1234"
 *   20 d  HDFC a/c 1234 credit 47,640 from KRAZYBEE SERVICES (the disbursal
 *         less 4.7% fees: its bank credit)
 *   15 d  HDFC a/c 1234 IMPS 10,000 to ROHAN JOSHI ref R77, and 5 minutes
 *         later ICICI a/c 9876 credit 10,000 from ROHAN JOSHI ref R77: a
 *         self-transfer
 *   12 d  HDFC card 5555 spend 800 at DMART (only ever seen as a card)
 *   10 d  HDFC a/c 1234 debit 3,000 typed an ATM withdrawal, no rail named
 *    9 d  HDFC a/c 1234 debit 250 to zomato@hdfc, no rail named
 *    8 d  HDFC a/c 1234 refund 2,000
 *    6 d  HDFC a/c 1234 NEFT credit 30,000 from BUNDL TECHNOLOGIES (Swiggy)
 *    5 d  HDFC a/c XX34 UPI credit 5,000 from MEERA BHAT (joins 1234)
 *    4 d  SBI Card 4321 spend 1,000, available limit 59,000
 * Accounts: HDFC 1234 and ICICI 9876 -> 2 (the debit card, the credit card
 * and the lender's "XX1234" are not accounts); cards 1. Rails: atm 1 (3,000),
 * upi debit 1 (the VPA), upi credit 1, card debits 2. Self-transfers 1
 * (10,000). Income: 30,000 + 5,000 = 35,000 in m0 (the disbursal, its bank
 * credit, the self-transfer and the refund are not income); m1 = m2 = 0;
 * m3 null. Gig: 30,000 from one platform, share 30/35, which is also the
 * top payer's share. No salary and income 0 in m1..m3: estimated_income
 * null. The cash-flow view keeps every credit: 144,640 in 30 days.
 * Disbursals: 1 of 50,000 in 30 days.
 */
static void test_instruments_income(void **state)
{
    (void)state;
    const char *cred = "account_credit_executed", *deb = "account_debit_executed";
    struct sms_fact dis = txn(NOW - 20 * DAY, SMS_DIRECTION_CREDIT, 50000, NULL, NULL, NULL, NAN);
    dis = at(from(dis, "kbee", "kreditbee", "lender"), "1234", "loan_disbursal", "loan_disbursal");
    struct sms_fact icici = from(
        txn(NOW - 15 * DAY + 300, SMS_DIRECTION_CREDIT, 10000, "imps", "ROHAN JOSHI", "R77", 15000),
        "icicib", "icici bank", "bank");
    struct sms_fact cc =
        from(txn(NOW - 4 * DAY, SMS_DIRECTION_DEBIT, 1000, "card", "AMAZON", NULL, NAN), "sbicrd",
             "sbi card", "credit_card");
    cc.available_limit = 59000;
    struct sms_fact sms[] = {
        plain(NOW - 100 * DAY, "promotion"),
        dis,
        at(txn(NOW - 20 * DAY + 600, SMS_DIRECTION_CREDIT, 47640, "imps", "KRAZYBEE SERVICES", NULL,
               NAN),
           "1234", cred, "transaction"),
        txn(NOW - 15 * DAY, SMS_DIRECTION_DEBIT, 10000, "imps", "ROHAN JOSHI", "R77", 5000),
        at(icici, "9876", cred, "transaction"),
        at(txn(NOW - 12 * DAY, SMS_DIRECTION_DEBIT, 800, "card", "DMART", NULL, NAN), "5555",
           "card_debit_executed", "transaction"),
        at(txn(NOW - 10 * DAY, SMS_DIRECTION_DEBIT, 3000, NULL, NULL, NULL, NAN), "1234", deb,
           "atm_withdrawal"),
        txn(NOW - 9 * DAY, SMS_DIRECTION_DEBIT, 250, NULL, "zomato@hdfc", NULL, NAN),
        at(txn(NOW - 8 * DAY, SMS_DIRECTION_CREDIT, 2000, NULL, "ACME ONLINE", NULL, NAN), "1234",
           "refund_reversal", "refund"),
        txn(NOW - 6 * DAY, SMS_DIRECTION_CREDIT, 30000, "neft", "NEFT-BUNDL TECHNOLOGIES", NULL,
            NAN),
        at(txn(NOW - 5 * DAY, SMS_DIRECTION_CREDIT, 5000, "upi", "MEERA BHAT", NULL, NAN), "34",
           cred, "transaction"),
        at(cc, "4321", "card_debit_executed", "transaction"),
    };
    static const struct feature_want want[] = {
        {"accounts_count", 2},
        {"cc_count", 1},
        {"cc_total_available_limit", 59000},
        {"atm_debit_count_c30", 1},
        {"atm_debit_sum_c30", 3000},
        {"upi_debit_count_c30", 1},
        {"upi_credit_count_c30", 1},
        {"card_debit_count_c30", 2},
        {"self_transfer_count_c180", 1},
        {"self_transfer_sum_c180", 10000},
        {"income_m0", 35000},
        {"income_m1", 0},
        {"income_m2", 0},
        {"income_m3", NAN},
        {"income_gig_sum_c90", 30000},
        {"income_gig_share_c90", 30000.0 / 35000.0},
        {"gig_platforms_count_c90", 1},
        {"income_top_payer_share_c90", 30000.0 / 35000.0},
        {"income_cv_6m", NAN}, /* two observed months (m1, m2): fewer than 3 */
        {"estimated_income", NAN},
        {"credit_sum_c30", 144640},
        {"loan_disbursal_count_c30", 1},
        {"loan_disbursal_sum_c180", 50000},
    };
    COMPUTE_INBOX(sms, FEATURES_GROUP_ALL);
    EXPECT_FEATURES(want);
}

/*
 * A leg the extractor gives no party but the kind self_transfer ("to own a/c") is a
 * self-transfer by itself: 1 of 4,000; the other debit (party SWIGGY) is not.
 */
static void test_self_transfer_kind(void **state)
{
    (void)state;
    struct sms_fact own = txn(NOW - 3 * DAY, SMS_DIRECTION_DEBIT, 4000, "imps", NULL, NULL, NAN);
    own.party_kind = "self_transfer";
    struct sms_fact sms[] = {
        plain(NOW - 100 * DAY, "promotion"),
        own,
        txn(NOW - 2 * DAY, SMS_DIRECTION_DEBIT, 600, "upi", "SWIGGY", NULL, NAN),
    };
    static const struct feature_want want[] = {
        {"self_transfer_count_c180", 1},
        {"self_transfer_sum_c180", 4000},
    };
    COMPUTE_INBOX(sms, FEATURES_GROUP_ALL);
    EXPECT_FEATURES(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_inbox), cmocka_unit_test(test_credit_card),
        cmocka_unit_test(test_instruments_income), cmocka_unit_test(test_self_transfer_kind)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
