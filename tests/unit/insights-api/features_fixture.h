/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper (header only) for the feature-family tests: the shipped
 * catalogue and maps loaded once per test group, one feature vector, a
 * fixed "now", a plain bank transaction record to build inboxes from,
 * COMPUTE_INBOX() to run the families on an SMS-only inbox, val() and str()
 * to read one feature by name, and EXPECT_FEATURES() to check a table of
 * hand-worked values. The family tests differ only in the inboxes they build
 * and the values they expect.
 */
#ifndef TESTS_FEATURES_FIXTURE_H
#define TESTS_FEATURES_FIXTURE_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "insights-api/features.h"

#define NOW 1795329000 /* Sun 2026-11-22 12:00 India time */
#define DAY 86400

static struct features_catalogue *cat;
static struct maps *maps;
static struct feature_vector v;

static inline int setup(void **state)
{
    char err[256];
    (void)state;
    if (features_catalogue_load_file(FEATURES_CATALOGUE_DEFAULT_PATH, &cat, err, sizeof(err)) < 0)
        return -1;
    maps = maps_load_defaults(NULL, err, sizeof(err));
    return maps && features_vector_init(&v, cat) == 0 ? 0 : -1;
}

static inline int teardown(void **state)
{
    (void)state;
    features_vector_free(&v);
    features_catalogue_free(cat);
    maps_free(maps);
    return 0;
}

static inline struct sms_fact txn(int64_t ts, enum sms_direction dir, double amount,
                                  const char *channel, const char *party, const char *ref,
                                  double balance)
{
    return (struct sms_fact){.ts = ts,
                             .sender = "hdfcbk",
                             .sender_name = "hdfc bank",
                             .sender_type = "bank",
                             .sms_type = dir == SMS_DIRECTION_DEBIT ? "account_debit_executed"
                                                                    : "account_credit_executed",
                             .sms_sub_type = "transaction",
                             .channel = channel,
                             .transaction_party = party,
                             .account_last_digits = "1234",
                             .unique_pan = "bank | hdfc bank | 34",
                             .reference_no = ref,
                             .is_classified = true,
                             .is_extracted = true,
                             .is_transactional = true,
                             .direction = dir,
                             .amount = amount,
                             .available_balance = balance,
                             .credit_limit = NAN,
                             .available_limit = NAN,
                             .due_amount = NAN,
                             .min_due = NAN};
}

static inline double val(const char *name)
{
    int i = features_index(cat, name);
    if (i < 0)
        fail_msg("no feature %s", name);
    return v.values[i];
}

static inline const char *str(const char *name)
{
    return features_string(cat, &v, name);
}

/*
 * Runs the families in groups_mask on an inbox of SMS alone (apps and device
 * empty) at NOW, into v. The inbox must be sorted by time, as every source
 * hands it over.
 */
static inline void compute_inbox(struct sms_fact *sms, size_t n, unsigned groups_mask)
{
    struct user_data u = {.now = NOW,
                          .sms_state = SOURCE_OK,
                          .sms = sms,
                          .sms_count = n,
                          .apps_state = SOURCE_EMPTY,
                          .device_state = SOURCE_EMPTY};
    features_compute(cat, maps, &u, groups_mask, &v);
}

#define COMPUTE_INBOX(sms, groups_mask)                                                            \
    compute_inbox((sms), sizeof(sms) / sizeof((sms)[0]), (groups_mask))

/* One hand-worked value; NAN means the feature must be absent (NAN). */
struct feature_want {
    const char *name;
    double want;
};

/*
 * Exact comparison on purpose: the expected values are worked out by hand
 * from small inboxes, so any difference is a bug. The message names the
 * feature, since a table row has no line of its own to point at.
 */
static inline void expect_features(const struct feature_want *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double got = val(w[i].name);

        if (isnan(w[i].want) ? !isnan(got) : got != w[i].want)
            fail_msg("feature %s: got %.17g, want %.17g", w[i].name, got, w[i].want);
    }
}

#define EXPECT_FEATURES(table) expect_features((table), sizeof(table) / sizeof((table)[0]))

#endif
