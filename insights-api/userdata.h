/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One user's data as insights-api computes features from it: extracted SMS
 * records (from sms-extraction), installed apps and the device, plus which
 * sources were present, empty or failed. This is the contract between the
 * parts that gather data (Mongo source, inline request body, extraction
 * client) and the parts that use it (features, scores).
 *
 * Ownership: a struct user_data owns every array and string it points to
 * (one arena-like block per user, freed by user_data_free). Strings are
 * NUL-terminated UTF-8; NULL means absent. Numbers are NAN when absent.
 * Times are Unix seconds (UTC); features convert to India time (UTC+05:30)
 * for calendar windows.
 */
#ifndef INSIGHTS_USERDATA_H
#define INSIGHTS_USERDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where one source stands for this user; null reasons are derived from it. */
enum source_state {
    SOURCE_OK = 0,    /* data present and processed */
    SOURCE_EMPTY,     /* the user synced none (e.g. no SMS permission) */
    SOURCE_FAILED,    /* a dependency failed (e.g. extraction down): values are null */
    SOURCE_NOT_ASKED, /* the request's groupings did not ask for it */
};

enum sms_direction {
    SMS_DIRECTION_NONE = 0,
    SMS_DIRECTION_DEBIT,
    SMS_DIRECTION_CREDIT,
};

/* One extracted SMS record (the sms-extraction reply, docs/api-sms-extraction.md). */
struct sms_fact {
    int64_t ts; /* sms_inbox_date as Unix seconds */
    const char *sms_id;
    const char *sender; /* normalised header */
    const char *sender_name;
    const char *sender_type;
    const char *sms_type;
    const char *sms_sub_type; /* the record's sms_kind: salary, emi, atm_withdrawal, ... */
    const char *channel;
    const char *transaction_party;
    const char *party_kind; /* self_transfer, atm_cash, cash_deposit, ... or NULL */
    const char *account_last_digits;
    const char *unique_pan;
    const char *reference_no;
    bool is_classified;
    bool is_extracted;
    bool is_transactional;
    enum sms_direction direction;
    double amount;
    double available_balance;
    double credit_limit;
    double available_limit;
    double due_amount;
    double min_due;
    /* delinquency notices: what the message states (record overdue_amount, days_past_due);
       NAN, or 0 in a zeroed struct, when it states none */
    double overdue_amount;
    double days_past_due;
};

struct app_fact {
    const char *package_name;
    const char *app_name;
    int64_t install_ts; /* 0 when unknown */
    int64_t update_ts;  /* 0 when unknown */
    bool is_system;
};

struct device_fact {
    const char *brand;
    const char *model;
    const char *manufacturer;
    const char *os_version;
    int sdk_int;         /* 0 when unknown */
    double total_ram_mb; /* NAN when unknown */
    double total_storage_mb;
    int64_t captured_ts;
};

struct user_data {
    const char *client_id;
    const char *user_id;
    int64_t now; /* the as_of: every window counts back from it; facts dated after it were
                    dropped by the source (the request time unless the request gave as_of) */

    enum source_state sms_state;
    struct sms_fact *sms; /* sorted by ts ascending */
    size_t sms_count;

    enum source_state apps_state;
    struct app_fact *apps;
    size_t apps_count;

    enum source_state device_state;
    struct device_fact device; /* valid when device_state == SOURCE_OK */

    void *owner; /* private: the block that owns the strings */
};

void user_data_free(struct user_data *u);

#endif
