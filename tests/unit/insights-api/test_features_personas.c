/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Three borrowers written by hand (the .tsv files of tests/data/personas): a salaried
 * borrower with a credit card, a SIP and a late salary; a gig worker paid
 * weekly by platforms with one loan; a distressed borrower with bounces, an
 * overdue loan, collection messages and a disbursal. Each file holds the raw
 * messages (our own wording, several banks), the apps and the phone, and the
 * expected value of features of every family, each worked out by hand in
 * the file's comments. The raw data go the way a request's do: the
 * inline-body parser, the extraction engine with the shipped rules, the
 * features with the shipped catalogue and artifacts.
 *
 * Values are compared exactly when the expected value is a whole number,
 * else within 1e-6 of it (relative: the files write ratios to 7 digits).
 * "pending" lines need issue 13's delinquency kinds and are only counted
 * until DELINQUENCY_KINDS_EXTRACTED is 1.
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

#include <cmocka.h>

#include "common/ist_date.h"
#include "insights-api/features.h"
#include "tests/unit/insights-api/features_inbox.h"

/* 1: the extraction types delinquency notices (issue 13), so "pending" lines are checked. */
#define DELINQUENCY_KINDS_EXTRACTED 1
#define MAX_LINE 1024

static struct features_catalogue *cat;
static struct maps *maps;

static int setup(void **state)
{
    char err[256];
    (void)state;
    if (features_catalogue_load_file(FEATURES_CATALOGUE_DEFAULT_PATH, &cat, err, sizeof(err)) < 0 ||
        !(maps = maps_load_defaults(NULL, err, sizeof(err))) || inbox_rules_load() < 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    extract_rules_free(inbox_rules);
    features_catalogue_free(cat);
    maps_free(maps);
    return 0;
}

/* "YYYY-MM-DD[ HH:MM[:SS]]" India time (a bare date is noon) to epoch milliseconds; -1 when
 * it does not parse. */
static long long ist_ms(const char *s)
{
    char full[20];
    int64_t t;
    size_t n = strlen(s);
    if (n == 10)
        snprintf(full, sizeof(full), "%s 12:00:00", s);
    else if (n == 16)
        snprintf(full, sizeof(full), "%s:00", s);
    else
        snprintf(full, sizeof(full), "%.19s", s);
    return ist_date_to_unix(full, &t) == 0 ? (long long)t * 1000 : -1;
}

/* Cut line at tabs into at most n fields; returns how many. */
static int fields(char *line, char **f, int n)
{
    int k = 0;
    f[k++] = line;
    for (char *p = line; *p && k < n; p++)
        if (*p == '\t') {
            *p = '\0';
            f[k++] = p + 1;
        }
    return k;
}

struct persona {
    json_t *body;
    long long now_ms;
    char expect[256][2][128]; /* feature, value */
    bool pending[256];
    int n;
};

static void add_line(struct persona *p, char **f, int k, int lineno)
{
    if (strcmp(f[0], "now") == 0 && k == 2) {
        p->now_ms = ist_ms(f[1]);
    } else if (strcmp(f[0], "client") == 0 && k == 2) {
        json_object_set_new(p->body, "client_id", json_string(f[1]));
    } else if (strcmp(f[0], "device") == 0 && k == 6) {
        json_object_set_new(p->body, "device_data",
                            json_pack("{s:s, s:s, s:s, s:f, s:f, s:I}", "brand", f[1], "model",
                                      f[2], "manufacturer", f[3], "total_ram_mb", atof(f[4]),
                                      "total_storage_mb", atof(f[5]), "captured_at",
                                      (json_int_t)p->now_ms - 3600000));
    } else if (strcmp(f[0], "app") == 0 && k == 4) {
        json_int_t t = ist_ms(f[2]);
        json_array_append_new(json_object_get(p->body, "apps_data"),
                              json_pack("{s:s, s:s, s:I, s:I, s:b}", "package_name", f[1],
                                        "app_name", f[1], "install_time", t, "update_time", t,
                                        "is_system", strcmp(f[3], "system") == 0));
    } else if (strcmp(f[0], "sms") == 0 && k == 4) {
        json_t *sms = json_object_get(p->body, "sms_data");
        char id[16];
        snprintf(id, sizeof(id), "p%zu", json_array_size(sms) + 1);
        json_array_append_new(sms, json_pack("{s:s, s:s, s:s, s:I}", "sms_id", id, "sms_sender",
                                             f[2], "sms_body", f[3], "sms_inbox_date",
                                             (json_int_t)ist_ms(f[1])));
    } else if ((strcmp(f[0], "expect") == 0 || strcmp(f[0], "pending") == 0) && k == 3 &&
               p->n < 256) {
        snprintf(p->expect[p->n][0], sizeof(p->expect[0][0]), "%s", f[1]);
        snprintf(p->expect[p->n][1], sizeof(p->expect[0][1]), "%s", f[2]);
        p->pending[p->n++] = f[0][0] == 'p';
    } else {
        fail_msg("persona line %d: not understood", lineno);
    }
}

static void load(const char *path, struct persona *p)
{
    char line[MAX_LINE], *f[8];
    int lineno = 0;
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    memset(p, 0, sizeof(*p));
    p->body = json_pack("{s:s, s:s, s:[], s:[]}", "user_id", path, "client_id", "persona",
                        "sms_data", "apps_data");
    while (fgets(line, sizeof(line), in)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        add_line(p, f, fields(line, f, 8), lineno);
    }
    fclose(in);
    assert_true(p->now_ms > 0);
}

/* One expectation; returns 1 when it does not hold (printed). */
static int check(const struct feature_vector *v, const char *name, const char *want)
{
    int i = features_index(cat, name);
    if (i < 0) {
        printf("  %s: not in the catalogue\n", name);
        return 1;
    }
    const struct features_entry *e = features_entry(cat, (size_t)i);
    if (e->type == FEATURES_TYPE_STRING) {
        const char *got = v->strings[i];
        bool null = strcmp(want, "null") == 0;
        size_t wl = strlen(want);
        bool same =
            null ? !got
                 : got && wl >= 2 && strlen(got) == wl - 2 && strncmp(got, want + 1, wl - 2) == 0;
        if (!same)
            printf("  %s: got \"%s\", want %s\n", name, got ? got : "null", want);
        return !same;
    }
    double got = v->values[i];
    if (strcmp(want, "null") == 0) {
        if (!isnan(got))
            printf("  %s: got %.10g, want null\n", name, got);
        return !isnan(got);
    }
    double w = strtod(want, NULL);
    bool same = w == floor(w) ? got == w : fabs(got - w) <= 1e-6 * fmax(1, fabs(w));
    if (!same)
        printf("  %s: got %.10g, want %s\n", name, got, want);
    return !same;
}

static void run_persona(const char *path)
{
    struct persona *p = calloc(1, sizeof(*p));
    struct feature_vector v;
    struct user_data u;
    assert_non_null(p);
    load(path, p);
    memset(&u, 0, sizeof(u));
    assert_int_equal(inbox_from_body(p->body, p->now_ms / 1000, &u), 0);
    assert_int_equal(features_vector_init(&v, cat), 0);
    features_compute(cat, maps, &u, FEATURES_GROUP_ALL, &v);
    int missed = 0, pending = 0;
    printf("%s\n", path);
    for (int k = 0; k < p->n; k++) {
        if (p->pending[k] && !DELINQUENCY_KINDS_EXTRACTED) {
            pending++;
            continue;
        }
        missed += check(&v, p->expect[k][0], p->expect[k][1]);
    }
    printf("  %d expectations, %d missed, %d pending issue 13\n", p->n, missed, pending);
    features_vector_free(&v);
    user_data_free(&u);
    json_decref(p->body);
    free(p);
    assert_int_equal(missed, 0);
}

static void test_salaried(void **state)
{
    (void)state;
    run_persona("tests/data/personas/salaried.tsv");
}

static void test_gig_worker(void **state)
{
    (void)state;
    run_persona("tests/data/personas/gig_worker.tsv");
}

static void test_distressed(void **state)
{
    (void)state;
    run_persona("tests/data/personas/distressed.tsv");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_salaried),
                                       cmocka_unit_test(test_gig_worker),
                                       cmocka_unit_test(test_distressed)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
