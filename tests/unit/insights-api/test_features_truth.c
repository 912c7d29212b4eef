/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The planted truth of generated users is recovered exactly: tools/gen-users
 * writes users with known salary (one paid late now and then), EMIs and
 * bounces, SIPs, self-transfers, disbursals, accounts, credit cards and
 * their limits, lending and gambling apps, a phone of a known price band and
 * an application in progress with the client's own lender; their raw data go
 * through the inline-body parser and the real extraction engine
 * (sms-extraction/rules) into features_compute, and every feature below must
 * equal the truth field that counts the same thing over the same window
 * (docs/data-model.md). The salary amount is compared exactly too.
 *
 * Seeds: 1-20, one user each (the bar), and the seeds the random
 * draw once failed on, kept so that each fault stays caught (docs/data-model.md):
 * one EMI counted twice under two spellings of its lender (789675, 200003,
 * 200006, 200039, 200097, 200110, 200116), a settlement offer typed a
 * promotion (200027, 200081, 200082), two same-fee bounces made three
 * events (200249), the employer lost to salary remarks (200114, 200173).
 * FEATURES_TRUTH_RANDOM=1 adds one seed drawn at random and printed, so a
 * failure can be replayed with FEATURES_TRUTH_SEEDS=<seed>: exploration, not
 * part of `make test`, whose result must not depend on the draw (2026-12-08:
 * 1 of 301 seeds in 200000-200300 still fails, 200049, an extraction gap).
 * FEATURES_TRUTH_SEEDS ("3", "1-20", "5,9") replaces the set;
 * FEATURES_TRUTH_NOW (India time) moves "now".
 * Needs python3 to run the generator; prints SKIP without it.
 */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/ist_date.h"
#include "insights-api/features.h"
#include "tests/unit/insights-api/features_inbox.h"

#define SEEDS                                                                                      \
    "1-20,789675,200003,200006,200039,200097,200110,200116,200027,200081,200082,200249,200114,"    \
    "200173"
#define NOW_TEXT "2026-11-22 12:00:00"
#define MAX_SEEDS 1024 /* FEATURES_TRUTH_SEEDS=200000-200300 in one run */

static int64_t now = 1795329000;

static struct features_catalogue *cat;
static struct maps *maps;
static char dir[64];
static long seeds[MAX_SEEDS];
static int nseeds;

/* "YYYY-MM-DD HH:MM:SS" India time to epoch seconds; the text unchanged when it parses. */
static const char *parse_now(const char *text)
{
    return text && ist_date_to_unix(text, &now) == 0 ? text : NULL;
}

/* "1-20", "7", "3,9,12-14" into seeds[]; false on anything else. */
static bool parse_seeds(const char *s)
{
    nseeds = 0;
    while (s && *s) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (end == s || a < 0)
            return false;
        if (*end == '-') {
            s = end + 1;
            b = strtol(s, &end, 10);
            if (end == s || b < a)
                return false;
        }
        for (long k = a; k <= b; k++) {
            if (nseeds == MAX_SEEDS)
                return false;
            seeds[nseeds++] = k;
        }
        if (*end == ',')
            end++;
        else if (*end)
            return false;
        s = end;
    }
    return nseeds > 0;
}

static int setup(void **state)
{
    char err[256], cmd[512];
    (void)state;
    if (features_catalogue_load_file(FEATURES_CATALOGUE_DEFAULT_PATH, &cat, err, sizeof(err)) < 0 ||
        !(maps = maps_load_defaults(NULL, err, sizeof(err))) || inbox_rules_load() < 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    snprintf(dir, sizeof(dir), "/tmp/test_features_truth.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    const char *now_text = parse_now(getenv("FEATURES_TRUTH_NOW"));
    if (!now_text)
        now_text = parse_now(NOW_TEXT);
    const char *wanted = getenv("FEATURES_TRUTH_SEEDS");
    if (!parse_seeds(wanted && *wanted ? wanted : SEEDS))
        return -1;
    const char *random = getenv("FEATURES_TRUTH_RANDOM");
    if ((!wanted || !*wanted) && random && strcmp(random, "1") == 0) {
        /* one more user the fixed set has never shown */
        seeds[nseeds] = 1000 + (long)(((unsigned)time(NULL) ^ ((unsigned)getpid() << 8)) % 900000u);
        printf("random seed %ld (replay: FEATURES_TRUTH_SEEDS=%ld)\n", seeds[nseeds],
               seeds[nseeds]);
        nseeds++;
    }
    for (int i = 0; i < nseeds; i++) {
        snprintf(cmd, sizeof(cmd),
                 "python3 tools/gen-users --users 1 --seed %ld --now '%s' --out %s/s%ld "
                 ">/dev/null 2>&1",
                 seeds[i], now_text, dir, seeds[i]);
        if (system(cmd) != 0) {
            dir[0] = '\0'; /* no python3: the test skips */
            break;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    if (dir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    extract_rules_free(inbox_rules);
    features_catalogue_free(cat);
    maps_free(maps);
    return 0;
}

/* ---- truth -> expected value ---- */

/* A number at a dotted path of the truth ("salary.amount"); NAN for null or absent. */
static double tnum(json_t *t, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *v = t;
    for (char *p = buf, *dot; p && v; p = dot) {
        dot = strchr(p, '.');
        if (dot)
            *dot++ = '\0';
        v = json_object_get(v, p);
    }
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static double tlen(json_t *t, const char *key)
{
    json_t *a = json_object_get(t, key);
    return json_is_array(a) ? (double)json_array_size(a) : NAN;
}

/*
 * The rows marked pending need the extraction to type delinquency notices
 * (overdue, final notice, collection, legal notice, settlement offer); it
 * does since issue 13, so they are required (0 would print them only).
 */
#define DELINQUENCY_KINDS_EXTRACTED 1

struct truth_row {
    const char *feature;
    const char *truth; /* dotted path of a number, or "#key" = length of an array */
    bool pending;      /* needs DELINQUENCY_KINDS_EXTRACTED */
};

/* Each row: the feature and the truth field that counts the same thing (docs/data-model.md). */
static const struct truth_row rows[] = {
    {"estimated_salary", "salary.amount", false},
    {"salary_day_of_month", "salary.day_of_month", false},
    {"salary_latest_delay_days", "salary.latest_delay_days", false},
    {"salary_missed_cycles_c180", "salary.missed_cycles_c180", false},
    {"salary_credit_count_c180", "salary.credit_count_c180", false},
    {"emi_loans_debited_count_c90", "emi_count_c90", false},
    {"emi_debit_count_c180", "emi_debit_count_c180", false},
    {"bounce_count_c180", "bounce_count_c180", false},
    {"emi_loans_contracted_count_c90", "emi_contracted_count_c90", false},
    {"monthly_obligation", "emi_contracted_monthly", false},
    {"sip_monthly_amount", "sip_monthly", false},
    {"loan_disbursal_count_c180", "loan_disbursal_count_c180", false},
    {"loan_disbursal_sum_c180", "loan_disbursal_sum_c180", false},
    {"self_transfer_count_c180", "self_transfer_count_c180", false},
    {"accounts_count", "#accounts", false},
    {"cc_count", "#credit_cards", false},
    {"cc_total_limit", "cc_total_limit", false},
    {"cc_total_available_limit", "cc_total_available_limit", false},
    {"apps_lending_count", "#lending_apps", false},
    {"apps_gambling_count", "#gambling_apps", false},
    {"apps_installed_c7", "apps_installed_c7", false},
    {"loan_application_count_c7", "loan_application_count_c7", false},
    {"overdue_notice_count_c30", "delinquency.overdue_notice_count_c30", true},
    {"overdue_notice_count_c180", "delinquency.overdue_notice_count_c180", true},
    {"final_notice_count_c90", "delinquency.final_notice_count_c90", true},
    {"collection_msg_count_c90", "delinquency.collection_msg_count_c90", true},
    {"legal_notice_count_c180", "delinquency.legal_notice_count_c180", true},
    {"settlement_offer_count_c180", "delinquency.settlement_offer_count_c180", true},
    {"delinquency_notice_count_c180", "delinquency.notice_count_c180", true},
    {"delinquency_max_days_past_due_c180", "delinquency.max_days_past_due_c180", true},
    {"delinquency_max_overdue_amount_c180", "delinquency.max_overdue_amount_c180", true},
    {"delinquency_lenders_count_c90", "delinquency.lenders_count_c90", true},
    {"days_since_last_delinquency_notice", "delinquency.days_since_last", true},
};

static int check_string(const char *id, const char *what, const char *got, const char *want)
{
    if (got && want && strcmp(got, want) == 0)
        return 0;
    printf("%s: %s '%s' (truth '%s')\n", id, what, got ? got : "null", want ? want : "null");
    return 1;
}

/* Returns the number of planted facts not recovered (each printed). */
static int check_user(const char *path, struct feature_vector *v)
{
    char tpath[256];
    json_error_t je;
    struct user_data u;
    memset(&u, 0, sizeof(u));
    snprintf(tpath, sizeof(tpath), "%.*s.truth.json", (int)(strlen(path) - 5), path);
    json_t *truth = json_load_file(tpath, 0, &je);
    assert_non_null(truth);
    assert_int_equal(inbox_from_user_file(path, now, &u), 0);
    features_compute(cat, maps, &u, FEATURES_GROUP_ALL, v);
    const char *id = json_string_value(json_object_get(truth, "user_id"));
    int missed = 0, pending = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (features_index(cat, rows[i].feature) < 0)
            fail_msg("feature %s is not in the catalogue", rows[i].feature);
        if (rows[i].truth[0] != '#' && !json_is_number(json_object_get(truth, rows[i].truth)) &&
            !strchr(rows[i].truth, '.') && !json_is_null(json_object_get(truth, rows[i].truth)))
            fail_msg("truth %s is not planted", rows[i].truth);
        double want =
            rows[i].truth[0] == '#' ? tlen(truth, rows[i].truth + 1) : tnum(truth, rows[i].truth);
        double got = features_value(cat, v, rows[i].feature);
        bool same = isnan(want) ? isnan(got) : fabs(got - want) < 0.005;
        if (!same && rows[i].pending && !DELINQUENCY_KINDS_EXTRACTED) {
            pending++;
            continue;
        }
        if (!same) {
            printf("%s: %s %.2f (truth %s %.2f)\n", id, rows[i].feature, got, rows[i].truth, want);
            missed++;
        }
    }
    json_t *sal = json_object_get(truth, "salary"), *dev = json_object_get(truth, "device");
    missed += check_string(id, "employer", features_string(cat, v, "employer"),
                           json_string_value(json_object_get(sal, "employer")));
    missed += check_string(id, "device_price_band", features_string(cat, v, "device_price_band"),
                           json_string_value(json_object_get(dev, "price_band")));
    if (pending)
        printf("%s: %d delinquency fact(s) not recovered, pending issue 13\n", id, pending);
    printf("%s: %s (salary %.0f day %.0f, accounts %.0f, cards %.0f limit %.0f, band %s)\n", id,
           missed ? "MISSED" : "all planted facts recovered",
           features_value(cat, v, "estimated_salary"),
           features_value(cat, v, "salary_day_of_month"), features_value(cat, v, "accounts_count"),
           features_value(cat, v, "cc_count"), features_value(cat, v, "cc_total_limit"),
           features_string(cat, v, "device_price_band")
               ? features_string(cat, v, "device_price_band")
               : "-");
    user_data_free(&u);
    json_decref(truth);
    return missed;
}

static void test_planted_truth(void **state)
{
    struct feature_vector v;
    char cmd[160], line[256];
    (void)state;
    if (!dir[0]) {
        printf("SKIP: python3 tools/gen-users did not run\n");
        skip();
    }
    assert_int_equal(features_vector_init(&v, cat), 0);
    snprintf(cmd, sizeof(cmd), "ls %s/*/*.json | grep -v '[.]truth[.]json$'", dir);
    FILE *ls = popen(cmd, "r");
    int users = 0, missed = 0;
    assert_non_null(ls);
    while (fgets(line, sizeof(line), ls)) {
        line[strcspn(line, "\n")] = '\0';
        missed += check_user(line, &v);
        users++;
    }
    pclose(ls);
    features_vector_free(&v); /* before the checks, which leave the function when they fail */
    assert_int_equal(users, nseeds);
    assert_int_equal(missed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_planted_truth)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
