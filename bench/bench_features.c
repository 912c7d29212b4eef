/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How long features_compute takes for one realistic user: 2,000 extracted
 * SMS over six months (salary, UPI/card spends, EMIs, bounces, OTPs,
 * promotions from several banks) and 150 apps, built here with a fixed seed.
 * Prints microseconds per user (mean and p99 over the runs) and the feature count.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "insights-api/features.h"

#define NSMS 2000
#define NAPPS 150
#define RUNS 300
#define NOW 1795329000
#define DAY 86400

static const char *const banks[][3] = {
    {"hdfcbk", "hdfc bank", "bank | hdfc bank | 34"},
    {"sbiupi", "state bank of india", "bank | state bank of india | 12"},
    {"icicib", "icici bank", "bank | icici bank | 77"}};
static const char *const parties[] = {
    "swiggy@icici", "zomato@hdfc", "AMAZON PAY INDIA", "9876543210@ybl", "BIGBASKET",
    "IRCTC",        "RAVI KUMAR",  "INDIAN OIL",       "NETFLIX",        "APOLLO PHARMACY"};
static const char *const channels[] = {"upi", "upi", "upi", "card", "imps", "neft", "atm"};
static const char *const pkgs[] = {"com.kreditbee.android", "com.whatsapp",
                                   "com.dream11.fantasy",   "com.phonepe.app",
                                   "in.swiggy.android",     "com.unknown.app"};

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static void build(struct sms_fact *sms, struct app_fact *apps)
{
    unsigned seed = 42;
    for (int i = 0; i < NSMS; i++) {
        struct sms_fact *f = &sms[i];
        unsigned r = rnd(&seed) % 100;
        const char *const *b = banks[rnd(&seed) % 3];
        memset(f, 0, sizeof(*f));
        f->ts = NOW - (int64_t)(180.0 * DAY * (NSMS - i) / NSMS);
        f->sender = b[0];
        f->sender_name = b[1];
        f->sender_type = "bank";
        f->unique_pan = b[2];
        f->account_last_digits = "1234";
        f->amount = f->available_balance = f->credit_limit = f->available_limit = NAN;
        f->due_amount = f->min_due = NAN;
        f->is_classified = true;
        if (i % 333 == 5) { /* one salary a month */
            f->sms_type = "salary_credit";
            f->direction = SMS_DIRECTION_CREDIT;
            f->amount = 50000;
            f->transaction_party = "NEFT-ACME TECH PVT LTD-SALARY";
        } else if (r < 20) {
            f->sms_type = "otp";
        } else if (r < 40) {
            f->sms_type = "promotion";
        } else if (r < 45) {
            f->sms_type = "account_debit_executed";
            f->channel = "nach";
            f->direction = SMS_DIRECTION_DEBIT;
            f->amount = 8000;
            f->transaction_party = "BAJAJ FINANCE LTD";
        } else if (r < 46) {
            f->sms_type = "bounce_return";
        } else if (r < 50) {
            f->sms_type = "balance_update";
            f->available_balance = 1000 + rnd(&seed) * 3;
        } else {
            bool credit = r < 60;
            f->sms_type = credit ? "upi_credit_executed" : "upi_debit_executed";
            f->direction = credit ? SMS_DIRECTION_CREDIT : SMS_DIRECTION_DEBIT;
            f->channel = channels[rnd(&seed) % 7];
            f->transaction_party = parties[rnd(&seed) % 10];
            f->amount = 10 + rnd(&seed) % 5000;
            f->available_balance = 1000 + rnd(&seed) * 3;
            f->reference_no = NULL;
        }
        f->is_transactional = f->direction != SMS_DIRECTION_NONE;
        f->is_extracted = f->is_transactional;
    }
    for (int i = 0; i < NAPPS; i++)
        apps[i] = (struct app_fact){.package_name = pkgs[i % 6],
                                    .install_ts = NOW - (int64_t)(i * 3) * DAY};
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    static struct sms_fact sms[NSMS];
    static struct app_fact apps[NAPPS];
    static double t[RUNS];
    struct features_catalogue *cat;
    struct feature_vector v;
    char err[256];
    struct maps *maps = maps_load_defaults(getenv("REPO_ROOT"), err, sizeof(err));
    char path[2048];
    snprintf(path, sizeof(path), "%s%s%s", getenv("REPO_ROOT") ? getenv("REPO_ROOT") : "",
             getenv("REPO_ROOT") ? "/" : "", FEATURES_CATALOGUE_DEFAULT_PATH);
    if (!maps || features_catalogue_load_file(path, &cat, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_features: %s\n", err);
        return 1;
    }
    build(sms, apps);
    struct user_data u = {.now = NOW,
                          .sms_state = SOURCE_OK,
                          .sms = sms,
                          .sms_count = NSMS,
                          .apps_state = SOURCE_OK,
                          .apps = apps,
                          .apps_count = NAPPS,
                          .device_state = SOURCE_OK,
                          .device = {.brand = "samsung",
                                     .model = "SM-A145F",
                                     .total_ram_mb = 4096,
                                     .total_storage_mb = 65536}};
    if (features_vector_init(&v, cat) < 0)
        return 1;
    double sum = 0;
    for (int i = 0; i < RUNS; i++) {
        double t0 = now_us();
        features_compute(cat, maps, &u, FEATURES_GROUP_ALL, &v);
        t[i] = now_us() - t0;
        sum += t[i];
    }
    qsort(t, RUNS, sizeof(t[0]), cmp);
    printf("bench_features: %d SMS, %d apps, %zu features: mean %.0f us/user, p50 %.0f us, "
           "p99 %.0f us (estimated_salary=%.0f)\n",
           NSMS, NAPPS, features_count(cat), sum / RUNS, t[RUNS / 2], t[RUNS * 99 / 100],
           features_value(cat, &v, "estimated_salary"));
    features_vector_free(&v);
    features_catalogue_free(cat);
    maps_free(maps);
    return 0;
}
