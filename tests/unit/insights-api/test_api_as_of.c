/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scores that refuse to guess and features at a point in time, driven
 * through the endpoints in process (api_call_for + api_serve, no socket
 * between the test and the API, as tests/unit/insights-api/test_api.c does)
 * with real dependencies: the shipped catalogue and maps, the committed demo
 * models (insights-api/models/, NOT credit models), the DEMO_CLIENTS
 * credentials and a real sms-extraction (its routes and rules on an
 * in-process server). PostgreSQL when PG_CONNINFO is set (async keys).
 *
 * Pinned: as_of validated on the three endpoints (malformed, wrong type, in
 * the future: 422 with the pydantic types; accepted forms); an inbox around
 * month boundaries gives, at as_of = T, exactly the reply of the same inbox
 * cut at T and of a run with the clock set to T (TEST_CLOCK), with the
 * month windows worked out by hand; the empty, stale (newest message 400
 * days old) and thin (10 messages) users get every score null with
 * no_data, stale_data and thin_file, and the evidence in the reply; the
 * reply is one flat object of scalars (failed_groups the one list), with
 * and without models, every score's keys always there; two as_of are two
 * async jobs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/file.h"
#include "common/http_server.h"
#include "common/ist_date.h"
#include "insights-api/api.h"
#include "tests/unit/insights-api/pg_testdb.h"
#include "tests/unit/insights-api/smsx_in_process.h"

#define CLIENT "demo"
#define TOKEN "demo-token"
#define DAY 86400
#define HOUR 3600

/* ---- two APIs: with the demo models, and with none ---------------------- */

static struct {
    struct ins_config cfg;
    struct metrics *metrics;
    struct auth_static *demo;
    struct auth *auth;
    struct features_catalogue *catalogue;
    struct maps *maps;
    struct scores *demo_scores, *no_scores;
    struct extraction_client *extractor, *dead;
    struct store_pool *pool;
    struct featurise fz_models, fz_none, fz_dead;
    struct api models, none, down;
} T;

static const char *const score_names[] = {"credeau_score", "credeau_payday_score",
                                          "credeau_emi_score"};

/* insights-api/models/<file> as version `version` of score; -1 with err. */
static int add_model(struct scores *s, const char *score, const char *version, const char *file,
                     char *err, size_t err_len)
{
    char path[256];
    size_t mlen = 0, plen = 0;
    char *model, *pred;
    int rc = -1;

    snprintf(path, sizeof(path), "insights-api/models/%s.txt", file);
    model = file_read(path, 0, &mlen, err, err_len);
    snprintf(path, sizeof(path), "insights-api/models/%s.predictors.json", file);
    pred = model ? file_read(path, 0, &plen, err, err_len) : NULL;
    if (pred)
        rc =
            scores_add_model(s, T.catalogue, score, version, model, mlen, pred, plen, err, err_len);
    free(model);
    free(pred);
    return rc;
}

/* The scores as assets.c makes them: every score declared, then the models given. */
static struct scores *scores_of(bool models, char *err, size_t err_len)
{
    struct scores *s = scores_new();

    for (size_t i = 0; i < 3; i++)
        if (scores_declare(s, score_names[i], err, err_len) < 0)
            return NULL;
    if (models && (add_model(s, "credeau_payday_score", "v2", "demo_payday_v2", err, err_len) < 0 ||
                   add_model(s, "credeau_payday_score", "v3", "demo_payday_v3", err, err_len) < 0 ||
                   add_model(s, "credeau_emi_score", "v2", "demo_emi_v2", err, err_len) < 0))
        return NULL;
    if (scores_set_arms(s, models ? "credeau_payday_score=v2:50,v3:50" : NULL, err, err_len) < 0)
        return NULL;
    return s;
}

static void api_of(struct api *api, struct featurise *fz, struct extraction_client *ex,
                   struct scores *scores)
{
    struct featurise_deps fd = {.cfg = &T.cfg,
                                .metrics = T.metrics,
                                .extractor = ex,
                                .assets = assets_of(T.maps, T.catalogue, scores)};
    struct api_deps ad = {
        .cfg = &T.cfg, .metrics = T.metrics, .auth = T.auth, .featurise = fz, .pool = T.pool};

    featurise_init(fz, &fd);
    api_init(api, &ad);
}

static int setup(void **state)
{
    struct auth_config ac = {.ttl_s = 60, .max_entries = 64, .pepper = ""};
    struct auth_lookup lookup;
    char err[512];

    if (ins_config_load(&T.cfg, err, sizeof(err)) < 0 || smsx_start() < 0)
        return fprintf(stderr, "setup: %s\n", err), -1;
    /* the defaults, said here because the tests below are worked out with them */
    T.cfg.score_min_sms_count = 50;
    T.cfg.score_min_history_days = 30;
    T.cfg.score_max_data_recency_days = 30;
    T.cfg.score_reason_codes = 5;
    T.metrics = metrics_new("t_");
    T.demo = auth_static_new(CLIENT ":" TOKEN, "", err, sizeof(err));
    lookup = (struct auth_lookup){auth_static_lookup, T.demo};
    T.auth = auth_new(&ac, &lookup);
    if (features_catalogue_load_file(FEATURES_CATALOGUE_DEFAULT_PATH, &T.catalogue, err,
                                     sizeof(err)) < 0 ||
        !(T.maps = maps_load_defaults(NULL, err, sizeof(err))) ||
        !(T.demo_scores = scores_of(true, err, sizeof(err))) ||
        !(T.no_scores = scores_of(false, err, sizeof(err))))
        return fprintf(stderr, "setup: %s\n", err), -1;
    T.extractor = extraction_client_to(SMSX.url);
    T.dead = extraction_client_to("http://127.0.0.1:1");
    if (!T.extractor || !T.dead)
        return -1;
    if (pgt_available()) {
        struct pg_params p = pgt_params(NULL);

        if (pgt_group_setup(state) < 0)
            return -1;
        T.pool = store_pool_new(&p, 2);
    }
    api_of(&T.models, &T.fz_models, T.extractor, T.demo_scores);
    api_of(&T.none, &T.fz_none, T.extractor, T.no_scores);
    api_of(&T.down, &T.fz_dead, T.dead, T.demo_scores);
    return 0;
}

static int teardown(void **state)
{
    if (T.pool)
        store_pool_free(T.pool);
    if (pgt_available())
        pgt_group_teardown(state);
    extraction_client_free(T.extractor);
    extraction_client_free(T.dead);
    assets_free(T.fz_models.d.assets);
    assets_free(T.fz_none.d.assets);
    assets_free(T.fz_dead.d.assets);
    scores_free(T.demo_scores);
    scores_free(T.no_scores);
    maps_free(T.maps);
    features_catalogue_free(T.catalogue);
    auth_free(T.auth);
    auth_static_free(T.demo);
    metrics_free(T.metrics);
    ins_config_free(&T.cfg);
    smsx_stop();
    return 0;
}

/* ---- calls and replies -------------------------------------------------- */

/* Serve body (a JSON tree, taken) to endpoint name through api; the caller frees the call. */
static struct api_call *serve(struct api *api, const char *name, json_t *body)
{
    const struct api_endpoint *e = api_endpoint_find(name);
    char *text = json_dumps(body, JSON_COMPACT);
    struct api_call *c;

    assert_non_null(e);
    assert_non_null(text);
    c = api_call_for(e, "req-asof", text, strlen(text), CLIENT, TOKEN);
    api_serve(api, c);
    assert_non_null(c->reply);
    free(text);
    json_decref(body);
    return c;
}

/* The 200 reply of body, parsed (the caller decrefs). */
static json_t *reply_200(struct api *api, const char *name, json_t *body)
{
    struct api_call *c = serve(api, name, body);
    json_error_t jerr;
    json_t *j;

    if (c->status != 200)
        fail_msg("expected 200, got %d %.*s", c->status, (int)c->reply_len, c->reply);
    j = json_loadb(c->reply, c->reply_len, 0, &jerr);
    if (!j)
        fail_msg("reply is not JSON: %s", jerr.text);
    api_call_free(c);
    return j;
}

/* The detail types of a 422 reply, comma-joined, and the first item's loc as JSON. */
static void expect_422(struct api *api, const char *name, json_t *body, const char *types)
{
    struct api_call *c = serve(api, name, body);
    json_t *j = json_loadb(c->reply, c->reply_len, 0, NULL), *item;
    char got[256] = "";
    size_t i;

    if (c->status != 422)
        fail_msg("%s: expected 422, got %d %.*s", name, c->status, (int)c->reply_len, c->reply);
    json_array_foreach(json_object_get(j, "detail"), i, item)
    {
        size_t n = strlen(got);
        char *loc = json_dumps(json_object_get(item, "loc"), JSON_COMPACT);

        snprintf(got + n, sizeof(got) - n, "%s%s@%s", n ? "," : "",
                 json_string_value(json_object_get(item, "type")), loc);
        free(loc);
    }
    if (strcmp(got, types) != 0)
        fail_msg("%s: detail: expected %s, got %s", name, types, got);
    json_decref(j);
    api_call_free(c);
}

/* Every member of a reply is a scalar, but failed_groups (a list of strings). */
static void expect_flat(const json_t *j)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)j, key, v)
    {
        if (strcmp(key, "failed_groups") == 0) {
            size_t i;
            json_t *g;

            assert_true(json_is_array(v));
            json_array_foreach(v, i, g) assert_true(json_is_string(g));
            continue;
        }
        if (json_is_array(v) || json_is_object(v))
            fail_msg("reply member %s is not a scalar", key);
    }
}

/* A reply without what differs by call: the request id and the wall-clock times. */
static json_t *comparable(json_t *j)
{
    json_object_del(j, "request_id");
    json_object_del(j, "data_requested_time");
    json_object_del(j, "data_processed_time");
    return j;
}

static void expect_same(json_t *a, json_t *b, const char *what)
{
    comparable(a);
    comparable(b);
    if (!json_equal(a, b)) {
        const char *key;
        json_t *v;

        json_object_foreach(a, key, v)
        {
            if (!json_equal(v, json_object_get(b, key))) {
                char *x = json_dumps(v, JSON_ENCODE_ANY),
                     *y = json_dumps(json_object_get(b, key), JSON_ENCODE_ANY);
                fprintf(stderr, "%s: %s: %s vs %s\n", what, key, x, y ? y : "(absent)");
                free(x);
                free(y);
            }
        }
        fail_msg("%s: the replies differ", what);
    }
    json_decref(a);
    json_decref(b);
}

static int64_t ist(const char *text)
{
    int64_t t;

    assert_int_equal(ist_date_to_unix(text, &t), 0);
    return t;
}

static long long int_of(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);

    if (!json_is_integer(v))
        fail_msg("%s is not an integer", key);
    return (long long)json_integer_value(v);
}

/* ---- inboxes ------------------------------------------------------------ */

static const char *const bodies[] = {
    "Rs 1,250.00 debited from A/c XX1234 to VPA shop@okaxis. Avl Bal Rs 10,000.00",
    "Your A/c XX1234 is credited with Rs 2,000.00 by UPI ref 412345678901",
    "Your OTP for login is 482913. Do not share it with anyone.",
    "Rs 640.00 spent on your HDFC Bank Card ending 4321 at GROCERY MART",
};

/* A message of the inbox: id, time, body. */
static json_t *message(const char *id, int64_t ts, int k)
{
    return json_pack("{s:s,s:s,s:s,s:I}", "sms_id", id, "sms_sender", "VM-HDFCBK", "sms_body",
                     bodies[k % 4], "sms_inbox_date", (json_int_t)ts * 1000);
}

/*
 * The month-boundary inbox: a message every 7 hours from 2026-09-15 to
 * 2026-11-15 (India time), plus one at 2026-10-31 23:59:59 and one at
 * 2026-11-01 00:00:00; apps installed on 2026-08-01, 2026-10-20 and
 * 2026-11-10; a device captured on 2026-11-05. Only what is dated at or
 * before cut is included (cut INT64_MAX: everything).
 */
static json_t *boundary_user(const char *user_id, int64_t cut)
{
    json_t *sms = json_array(), *apps = json_array(), *body;
    int64_t start = ist("2026-09-15 00:00:00"), end = ist("2026-11-15 00:00:00");
    static const struct {
        const char *pkg, *when;
    } app_rows[] = {{"com.whatsapp", "2026-08-01 10:00:00"},
                    {"com.kreditbee.android", "2026-10-20 10:00:00"},
                    {"com.dream11.fantasy", "2026-11-10 10:00:00"}};
    char id[32];
    int k = 0;

    for (int64_t t = start; t <= end; t += 7 * HOUR, k++) {
        snprintf(id, sizeof(id), "m%d", k);
        if (t <= cut)
            json_array_append_new(sms, message(id, t, k));
    }
    if (ist("2026-10-31 23:59:59") <= cut)
        json_array_append_new(sms, message("b1", ist("2026-10-31 23:59:59"), 0));
    if (ist("2026-11-01 00:00:00") <= cut)
        json_array_append_new(sms, message("b2", ist("2026-11-01 00:00:00"), 1));
    for (size_t i = 0; i < 3; i++)
        if (ist(app_rows[i].when) <= cut)
            json_array_append_new(apps, json_pack("{s:s,s:I}", "package_name", app_rows[i].pkg,
                                                  "install_time",
                                                  (json_int_t)ist(app_rows[i].when) * 1000));
    body = json_pack("{s:s,s:s,s:o,s:o}", "user_id", user_id, "client_id", CLIENT, "sms_data", sms,
                     "apps_data", apps);
    if (ist("2026-11-05 09:00:00") <= cut)
        json_object_set_new(body, "device_data",
                            json_pack("{s:s,s:s,s:I}", "brand", "samsung", "model", "SM-A145F",
                                      "captured_at",
                                      (json_int_t)ist("2026-11-05 09:00:00") * 1000));
    return body;
}

/* n messages, the newest `newest_age` seconds before now, one every `gap` seconds back. */
static json_t *inbox_user(const char *user_id, int n, int64_t now, int64_t newest_age, int64_t gap)
{
    json_t *sms = json_array();
    char id[32];

    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "x%d", i);
        json_array_append_new(sms, message(id, now - newest_age - (int64_t)i * gap, i));
    }
    return json_pack("{s:s,s:s,s:o}", "user_id", user_id, "client_id", CLIENT, "sms_data", sms);
}

static json_t *with_as_of(json_t *body, const char *as_of)
{
    json_object_set_new(body, "as_of", json_string(as_of));
    return body;
}

/* ---- as_of: validation -------------------------------------------------- */

static void test_as_of_refused(void **state)
{
    static const char *const endpoints[] = {"insights", "async_insights", "generate_features"};
    char future[20];
    (void)state;

    ist_format_unix((double)time(NULL) + 3600, future);
    for (size_t i = 0; i < 3; i++) {
        const char *e = endpoints[i];
        json_t *b =
            json_pack("{s:s,s:s,s:[s]}", "user_id", "u", "client_id", CLIENT, "groupings", "sms");

        expect_422(&T.none, e, with_as_of(json_deep_copy(b), "2026-13-01 00:00:00"),
                   "datetime_from_date_parsing@[\"body\",\"as_of\"]");
        expect_422(&T.none, e, with_as_of(json_deep_copy(b), "yesterday"),
                   "datetime_from_date_parsing@[\"body\",\"as_of\"]");
        expect_422(&T.none, e, with_as_of(json_deep_copy(b), future),
                   "datetime_past@[\"body\",\"as_of\"]");
        json_object_set_new(b, "as_of", json_pack("{s:i}", "t", 1));
        expect_422(&T.none, e, json_deep_copy(b), "datetime_type@[\"body\",\"as_of\"]");
        json_object_set_new(b, "as_of", json_true());
        expect_422(&T.none, e, json_deep_copy(b), "datetime_type@[\"body\",\"as_of\"]");
        /* in the far future as epoch milliseconds */
        json_object_set_new(b, "as_of", json_integer(4102444800000LL));
        expect_422(&T.none, e, json_deep_copy(b), "datetime_past@[\"body\",\"as_of\"]");
        json_decref(b);
    }
    /* a refused as_of is echoed as sent (it is not private), the rest redacted as ever */
    {
        struct api_call *c =
            serve(&T.none, "insights",
                  json_pack("{s:s,s:s}", "client_id", CLIENT, "as_of", "2026-02-30 10:00:00"));

        assert_int_equal(c->status, 422);
        assert_non_null(strstr(c->reply, "\"as_of\":\"2026-02-30 10:00:00\""));
        api_call_free(c);
    }
}

static void test_as_of_forms(void **state)
{
    static const struct {
        const char *as_of; /* as JSON text */
        const char *want;  /* the reply's as_of */
    } forms[] = {
        {"\"2026-11-01 00:00:00\"", "2026-11-01 00:00:00"},
        {"\"2026-10-31T18:30:00Z\"", "2026-11-01 00:00:00"},
        {"\"2026-11-01\"", "2026-11-01 00:00:00"},
        {"1793471400", "2026-11-01 00:00:00"},
        {"1793471400000", "2026-11-01 00:00:00"},
        {"\"1793471400\"", "2026-11-01 00:00:00"},
        {"null", NULL},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        json_t *b = json_pack("{s:s,s:s}", "user_id", "u-forms", "client_id", CLIENT), *j;
        char now[20];

        json_object_set_new(b, "as_of", json_loads(forms[i].as_of, JSON_DECODE_ANY, NULL));
        j = reply_200(&T.none, "generate_features", b);
        if (forms[i].want) {
            assert_string_equal(json_string_value(json_object_get(j, "as_of")), forms[i].want);
        } else {
            /* absent or null: now, the same second as data_requested_time */
            snprintf(now, sizeof(now), "%s",
                     json_string_value(json_object_get(j, "data_requested_time")));
            assert_string_equal(json_string_value(json_object_get(j, "as_of")), now);
        }
        json_decref(j);
    }
}

/* ---- as_of: the same features as the inbox cut, and as the clock set ---- */

/* The reply of the boundary user cut at `cut`, as of as_of (NULL: the clock's time). */
static json_t *boundary_reply(struct api *api, int64_t cut, const char *as_of)
{
    json_t *b = boundary_user("u-boundary", cut);

    return reply_200(api, "generate_features", as_of ? with_as_of(b, as_of) : b);
}

static void test_as_of_equals_the_cut_inbox_and_the_clock(void **state)
{
    static const char *const times[] = {"2026-10-31 23:59:59", "2026-11-01 00:00:00",
                                        "2026-09-30 23:59:59", "2026-11-12 08:00:00"};
    (void)state;

    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        int64_t t = ist(times[i]);
        json_t *full = boundary_reply(&T.models, INT64_MAX, times[i]);
        json_t *cut = boundary_reply(&T.models, t, times[i]), *clock_full, *clock_cut;

        expect_flat(full);
        assert_string_equal(json_string_value(json_object_get(full, "as_of")), times[i]);
        assert_true(int_of(full, "sms_count_used") > 0);
        assert_int_equal(int_of(full, "data_recency_days"), 0);
        /* the clock set to T (TEST_CLOCK), no as_of: the clock's time is the as_of */
        T.cfg.test_clock_s = t;
        clock_full = boundary_reply(&T.models, INT64_MAX, NULL);
        clock_cut = boundary_reply(&T.models, t, NULL);
        T.cfg.test_clock_s = 0;
        assert_string_equal(json_string_value(json_object_get(clock_full, "data_requested_time")),
                            times[i]);
        expect_same(json_deep_copy(full), cut, times[i]);
        expect_same(json_deep_copy(full), clock_full, times[i]);
        expect_same(full, clock_cut, times[i]);
    }
}

/* The month windows count back from as_of, worked out by hand at the boundary. */
static void test_month_windows_move_with_as_of(void **state)
{
    json_t *before, *after;
    int64_t start = ist("2026-09-15 00:00:00");
    long long october = 0, november = 0;
    (void)state;

    /* the 7-hourly messages dated in October, and in November up to the 12th 08:00 */
    for (int64_t t = start; t <= ist("2026-11-15 00:00:00"); t += 7 * HOUR) {
        october += t >= ist("2026-10-01 00:00:00") && t < ist("2026-11-01 00:00:00");
        november += t >= ist("2026-11-01 00:00:00") && t <= ist("2026-11-12 08:00:00");
    }
    before = boundary_reply(&T.none, INT64_MAX, "2026-10-31 23:59:59");
    after = boundary_reply(&T.none, INT64_MAX, "2026-11-01 00:00:00");
    /* one second before November: b1 closes October; one second later b2 opens November */
    assert_int_equal(int_of(before, "all_sms_count_m0"), october + 1);
    assert_int_equal(int_of(after, "all_sms_count_m0"), 1);
    assert_int_equal(int_of(after, "all_sms_count_m1"), october + 1);
    assert_int_equal(int_of(after, "sms_count_used"), int_of(before, "sms_count_used") + 1);
    /* an app installed later is not there yet, nor the device captured on Nov 5 */
    assert_int_equal(int_of(after, "apps_count_total"), 2);
    assert_string_equal(json_string_value(json_object_get(after, "device_data_null_reason")),
                        "no_data");
    json_decref(before);
    json_decref(after);
    after = boundary_reply(&T.none, INT64_MAX, "2026-11-12 08:00:00");
    assert_int_equal(int_of(after, "all_sms_count_m0"), november + 1);
    assert_int_equal(int_of(after, "apps_count_total"), 3);
    assert_string_equal(json_string_value(json_object_get(after, "device_brand")), "samsung");
    json_decref(after);
}

/* ---- evidence gates ----------------------------------------------------- */

/* Every score of j is null with reason why; the payday and EMI scores still name their arm. */
static void expect_scores_null(const json_t *j, const char *why)
{
    char key[96];

    for (size_t i = 1; i < 3; i++) {
        snprintf(key, sizeof(key), "%s", score_names[i]);
        if (!json_is_null(json_object_get(j, key)))
            fail_msg("%s is not null", key);
        snprintf(key, sizeof(key), "%s_null_reason", score_names[i]);
        if (!json_is_string(json_object_get(j, key)) ||
            strcmp(json_string_value(json_object_get(j, key)), why) != 0)
            fail_msg("%s: expected %s, got %s", key, why,
                     json_string_value(json_object_get(j, key)));
        snprintf(key, sizeof(key), "%s_arm", score_names[i]);
        assert_true(json_is_string(json_object_get(j, key)));
        snprintf(key, sizeof(key), "%s_reason_1", score_names[i]);
        assert_true(json_is_null(json_object_get(j, key)));
    }
    assert_string_equal(json_string_value(json_object_get(j, "credeau_score_null_reason")),
                        "no_model");
}

static void test_empty_stale_and_thin_users(void **state)
{
    int64_t now = (int64_t)time(NULL);
    json_t *j;
    (void)state;

    /* empty: no SMS, no apps, no device */
    j = reply_200(&T.models, "generate_features",
                  json_pack("{s:s,s:s}", "user_id", "u-empty", "client_id", CLIENT));
    expect_flat(j);
    expect_scores_null(j, "no_data");
    assert_int_equal(int_of(j, "sms_count_used"), 0);
    assert_true(json_is_null(json_object_get(j, "data_recency_days")));
    assert_true(json_is_null(json_object_get(j, "history_days")));
    json_decref(j);

    /* stale: 100 messages, the newest 400 days old (and 6 hours apart) */
    j = reply_200(&T.models, "generate_features",
                  inbox_user("u-stale", 100, now, 400 * DAY + HOUR, 6 * HOUR));
    expect_flat(j);
    expect_scores_null(j, "stale_data");
    assert_int_equal(int_of(j, "sms_count_used"), 100);
    assert_int_equal(int_of(j, "data_recency_days"), 400);
    assert_int_equal(int_of(j, "history_days"), 400 + 99 * 6 / 24);
    json_decref(j);

    /* thin: 10 messages, one a day up to an hour ago */
    j = reply_200(&T.models, "generate_features", inbox_user("u-thin", 10, now, HOUR, DAY));
    expect_flat(j);
    expect_scores_null(j, "thin_file");
    assert_int_equal(int_of(j, "sms_count_used"), 10);
    assert_int_equal(int_of(j, "data_recency_days"), 0);
    assert_int_equal(int_of(j, "history_days"), 9);
    json_decref(j);

    /* enough: 100 messages over 74 days up to an hour ago: scored */
    j = reply_200(&T.models, "generate_features",
                  inbox_user("u-enough", 100, now, HOUR, 18 * HOUR));
    expect_flat(j);
    for (size_t i = 1; i < 3; i++) {
        char key[96];

        snprintf(key, sizeof(key), "%s", score_names[i]);
        assert_true(json_is_real(json_object_get(j, key)));
        snprintf(key, sizeof(key), "%s_null_reason", score_names[i]);
        assert_true(json_is_null(json_object_get(j, key)));
    }
    assert_int_equal(int_of(j, "history_days"), 74);
    json_decref(j);

    /* the same user as of 400 days ago has no data then */
    {
        char then[20];

        ist_format_unix((double)(now - 400 * DAY), then);
        j = reply_200(&T.models, "generate_features",
                      with_as_of(inbox_user("u-enough", 100, now, HOUR, 18 * HOUR), then));
        expect_scores_null(j, "no_data");
        assert_int_equal(int_of(j, "sms_count_used"), 0);
        json_decref(j);
    }
}

/* ---- the flat reply ----------------------------------------------------- */

static void test_reply_is_flat_with_and_without_models(void **state)
{
    int64_t now = (int64_t)time(NULL);
    json_t *j;
    size_t keys_none, keys_models;
    char key[96];
    (void)state;

    j = reply_200(&T.none, "generate_features", boundary_user("u-flat", INT64_MAX));
    expect_flat(j);
    /* no model: every score's keys are there, null, "no_model" */
    for (size_t i = 0; i < 3; i++) {
        snprintf(key, sizeof(key), "%s", score_names[i]);
        assert_non_null(json_object_get(j, key));
        assert_true(json_is_null(json_object_get(j, key)));
        snprintf(key, sizeof(key), "%s_null_reason", score_names[i]);
        assert_string_equal(json_string_value(json_object_get(j, key)), "no_model");
        snprintf(key, sizeof(key), "%s_reason_5_impact", score_names[i]);
        assert_non_null(json_object_get(j, key));
    }
    keys_none = json_object_size(j);
    json_decref(j);

    j = reply_200(&T.models, "generate_features",
                  inbox_user("u-flat-models", 120, now, HOUR, 12 * HOUR));
    expect_flat(j);
    keys_models = json_object_size(j);
    assert_int_equal(keys_models, keys_none); /* the same shape, models or not */
    assert_true(json_is_real(json_object_get(j, "credeau_payday_score")));
    assert_true(json_is_true(json_object_get(j, "credeau_payday_score_higher_is_riskier")));
    assert_true(json_is_string(json_object_get(j, "credeau_payday_score_probability_of")));
    assert_non_null(strstr(
        json_string_value(json_object_get(j, "credeau_payday_score_probability_of")), "synthetic"));
    assert_true(json_is_string(json_object_get(j, "credeau_payday_score_reason_1")));
    assert_true(json_real_value(json_object_get(j, "credeau_payday_score_reason_1_impact")) > 0);
    assert_null(json_object_get(j, "credeau_payday_score_reason_codes"));
    json_decref(j);

    /* extraction down: failed_groups is the one list, the scores say why they are null */
    j = reply_200(&T.down, "generate_features",
                  inbox_user("u-flat-down", 120, now, HOUR, 12 * HOUR));
    expect_flat(j);
    assert_true(json_is_array(json_object_get(j, "failed_groups")));
    expect_scores_null(j, "inputs_failed:extracted_sms");
    json_decref(j);
}

/* ---- async: as_of is part of the job's key ------------------------------ */

static void test_async_as_of_is_part_of_the_key(void **state)
{
    PGconn *conn = pgt_connect_or_skip();
    static const char *const as_ofs[] = {"2026-10-31 23:59:59", "2026-11-01 00:00:00", NULL};
    (void)state;

    PQclear(pgt_sql(conn, "TRUNCATE insights_jobs"));
    for (size_t i = 0; i < 3; i++) {
        json_t *b = json_pack("{s:s,s:s,s:[s]}", "user_id", "u-async-asof", "client_id", CLIENT,
                              "groupings", "sms");
        struct api_call *c;

        if (as_ofs[i])
            with_as_of(b, as_ofs[i]);
        c = serve(&T.none, "async_insights", b);
        assert_int_equal(c->status, 202); /* a new job each: none is a poll of another */
        api_call_free(c);
    }
    assert_int_equal(pgt_int(conn, "SELECT count(*) FROM insights_jobs"), 3);
    assert_int_equal(pgt_int(conn,
                             "SELECT count(*) FROM insights_jobs WHERE groupings = "
                             "'sms;as_of=%lld'",
                             (long long)ist("2026-11-01 00:00:00")),
                     1);
    assert_int_equal(pgt_int(conn, "SELECT count(*) FROM insights_jobs WHERE groupings = 'sms'"),
                     1);
    /* the same as_of written another way is the same job: a poll */
    {
        json_t *b =
            json_pack("{s:s,s:s,s:[s],s:I}", "user_id", "u-async-asof", "client_id", CLIENT,
                      "groupings", "sms", "as_of", (json_int_t)ist("2026-11-01 00:00:00") * 1000);
        struct api_call *c = serve(&T.none, "async_insights", b);

        assert_int_equal(c->status, 202);
        api_call_free(c);
        assert_int_equal(pgt_int(conn, "SELECT count(*) FROM insights_jobs"), 3);
    }
    PQfinish(conn);
}

/* The job's key gives its computation the as_of (and the groupings), also from the key alone. */
static void test_job_key_round_trip(void **state)
{
    const char *g[] = {"sms", "extracted_sms"};
    char key[JOBS_GROUPINGS_MAX + 1], big[JOBS_GROUPINGS_MAX + 1];
    int64_t as_of = 0;
    bool given = true;
    (void)state;

    assert_int_equal(jobs_groupings_key(g, 2, key), 0);
    assert_int_equal(jobs_key_split(key, &as_of, &given), strlen("extracted_sms,sms"));
    assert_false(given);
    assert_int_equal(jobs_key_add_as_of(key, 1793471400), 0);
    assert_string_equal(key, "extracted_sms,sms;as_of=1793471400");
    assert_int_equal(jobs_key_split(key, &as_of, &given), strlen("extracted_sms,sms"));
    assert_true(given);
    assert_int_equal(as_of, 1793471400);
    memset(big, 'a', JOBS_GROUPINGS_MAX - 5);
    big[JOBS_GROUPINGS_MAX - 5] = '\0';
    assert_int_equal(jobs_key_add_as_of(big, 1793471400), -1);
    assert_int_equal(strlen(big), JOBS_GROUPINGS_MAX - 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_as_of_refused),
        cmocka_unit_test(test_as_of_forms),
        cmocka_unit_test(test_as_of_equals_the_cut_inbox_and_the_clock),
        cmocka_unit_test(test_month_windows_move_with_as_of),
        cmocka_unit_test(test_empty_stale_and_thin_users),
        cmocka_unit_test(test_reply_is_flat_with_and_without_models),
        cmocka_unit_test(test_async_as_of_is_part_of_the_key),
        cmocka_unit_test(test_job_key_round_trip),
    };

    pgt_group_tag = "api_as_of";
    return cmocka_run_group_tests(tests, setup, teardown);
}
