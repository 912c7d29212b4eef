/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The extraction record's keys in the documented order (docs/api-sms-extraction.md),
 * pinned here by hand for the tests of both daemons: sms-extraction's writer and
 * insights-api's reader are checked against this list, never against each other's
 * tables, so a key dropped or moved on one side fails a test.
 */
#ifndef TESTS_RECORD_KEYS_H
#define TESTS_RECORD_KEYS_H

#include <stddef.h>

static const char *const RECORD_KEYS[] = {
    "sms_id",
    "sms_sender",
    "sms_inbox_date",
    "sender_name",
    "sender_type",
    "sms_type",
    "sms_sub_type",
    "sms_kind",
    "is_classified",
    "is_extracted",
    "is_transactional",
    "transaction",
    "transaction_type",
    "account_last_digits",
    "transaction_party",
    "party_kind",
    "unique_pan",
    "available_balance",
    "reference_no",
    "channel",
    "transaction_date",
    "credit_limit",
    "available_limit",
    "due_amount",
    "min_due",
    "due_date",
    "overdue_amount",
    "days_past_due",
    "currency",
    "template_id",
};
#define N_RECORD_KEYS (sizeof(RECORD_KEYS) / sizeof(RECORD_KEYS[0]))

#endif
