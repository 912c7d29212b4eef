/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every insights-api endpoint driven in process, with a call built by hand
 * (api_call_for: body, credential headers, request id) and no HTTP socket
 * between the test and the API, as h2o tests its handlers. The endpoints'
 * dependencies are real: the shipped catalogue and maps, the DEMO_CLIENTS
 * credentials, a real sms-extraction (its routes and rules on an in-process
 * server: the one socket here is the extraction client's), MongoDB and
 * PostgreSQL peers when MONGO_URI / PG_CONNINFO are set (those cases skip
 * otherwise).
 *
 * Pinned: the table (names, paths, a run for every row); the admission
 * order and its replies byte for byte (422 detail lists, Credeau's 401, 503
 * with Retry-After); each endpoint's work (insights and fetch from MongoDB,
 * generate_features inline, complete and partial, async jobs from submit to
 * result and their failures from the error table).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <bson/bson.h>
#include <jansson.h>
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/http_server.h"
#include "insights-api/admission.h"
#include "insights-api/api.h"
#include "tests/unit/insights-api/pg_testdb.h"
#include "tests/unit/insights-api/smsx_in_process.h"

#define CLIENT "demo"
#define TOKEN "demo-token"

/* ---- the API and its dependencies --------------------------------------- */

static struct {
    struct ins_config cfg;
    struct metrics *metrics;
    struct auth_static *demo;
    struct auth *auth;
    struct features_catalogue *catalogue;
    struct maps *maps;
    struct scores *scores;
    struct extraction_client *extractor, *dead_extractor;
    struct mongo_source *mongo;
    struct store_pool *pool;
    struct featurise fz, fz_dead;
    struct api api, api_dead;
    char mongo_db[64];
} T;

static int mongo_start(void)
{
    const char *uri = getenv("MONGO_URI");
    struct mongo_source_config mc = {.enabled_sources = "sms,apps,device",
                                     .max_pool_size = 4,
                                     .min_pool_size = 0,
                                     .server_selection_timeout_ms = 2000,
                                     .connect_timeout_ms = 2000,
                                     .socket_timeout_ms = 5000,
                                     .wait_queue_timeout_ms = 2000};
    char err[256];

    if (!uri || !*uri)
        return 0;
    snprintf(T.mongo_db, sizeof(T.mongo_db), "t_api_%d", (int)getpid());
    mc.uri = uri;
    mc.database = T.mongo_db;
    T.mongo = mongo_source_new(&mc, err, sizeof(err));
    return T.mongo ? 0 : (fprintf(stderr, "%s\n", err), -1);
}

static void api_of(struct api *api, struct featurise *fz, struct extraction_client *ex)
{
    struct featurise_deps fd = {.cfg = &T.cfg,
                                .metrics = T.metrics,
                                .mongo = T.mongo,
                                .extractor = ex,
                                .assets = assets_of(T.maps, T.catalogue, T.scores)};
    struct api_deps ad = {.cfg = &T.cfg,
                          .metrics = T.metrics,
                          .auth = T.auth,
                          .featurise = fz,
                          .store = NULL,
                          .pool = T.pool};

    featurise_init(fz, &fd);
    api_init(api, &ad);
}

static int setup(void **state)
{
    struct auth_config ac = {.ttl_s = 60, .max_entries = 64, .pepper = ""};
    struct auth_lookup lookup;
    char err[512];

    (void)state;
    if (ins_config_load(&T.cfg, err, sizeof(err)) < 0 || smsx_start() < 0)
        return fprintf(stderr, "setup: %s\n", err), -1;
    T.metrics = metrics_new("t_");
    T.demo = auth_static_new(CLIENT ":" TOKEN, "", err, sizeof(err));
    lookup = (struct auth_lookup){auth_static_lookup, T.demo};
    T.auth = auth_new(&ac, &lookup);
    if (features_catalogue_load_file(FEATURES_CATALOGUE_DEFAULT_PATH, &T.catalogue, err,
                                     sizeof(err)) < 0 ||
        !(T.maps = maps_load_defaults(NULL, err, sizeof(err))))
        return fprintf(stderr, "setup: %s\n", err), -1;
    T.scores = scores_new();
    T.extractor = extraction_client_to(SMSX.url);
    T.dead_extractor = extraction_client_to("http://127.0.0.1:1");
    if (!T.extractor || !T.dead_extractor || mongo_start() < 0)
        return -1;
    if (pgt_available()) {
        struct pg_params p = pgt_params(NULL);

        if (pgt_group_setup(state) < 0)
            return -1;
        T.pool = store_pool_new(&p, 2);
    }
    api_of(&T.api, &T.fz, T.extractor);
    api_of(&T.api_dead, &T.fz_dead, T.dead_extractor);
    return 0;
}

static int teardown(void **state)
{
    if (T.pool)
        store_pool_free(T.pool);
    if (pgt_available())
        pgt_group_teardown(state);
    mongo_source_free(T.mongo);
    extraction_client_free(T.extractor);
    extraction_client_free(T.dead_extractor);
    assets_free(T.fz.d.assets);
    assets_free(T.fz_dead.d.assets);
    scores_free(T.scores);
    maps_free(T.maps);
    features_catalogue_free(T.catalogue);
    auth_free(T.auth);
    auth_static_free(T.demo);
    metrics_free(T.metrics);
    ins_config_free(&T.cfg);
    smsx_stop();
    return 0;
}

/* ---- calls -------------------------------------------------------------- */

/* Serve one call to endpoint name through api; the caller frees it. */
static struct api_call *serve_on(struct api *api, const char *name, const char *body,
                                 const char *client, const char *token)
{
    const struct api_endpoint *e = api_endpoint_find(name);
    struct api_call *c;

    assert_non_null(e);
    c = api_call_for(e, "req-1", body, strlen(body), client, token);
    api_serve(api, c);
    assert_non_null(c->reply);
    return c;
}

static struct api_call *serve(const char *name, const char *body)
{
    return serve_on(&T.api, name, body, CLIENT, TOKEN);
}

static void expect_reply(struct api_call *c, int status, const char *body)
{
    if (c->status != status || strlen(body) != c->reply_len ||
        memcmp(body, c->reply, c->reply_len) != 0)
        fail_msg("expected %d %s\n     got %d %.*s", status, body, c->status, (int)c->reply_len,
                 c->reply);
    api_call_free(c);
}

/* The reply's JSON (the caller decrefs). */
static json_t *reply_json(const struct api_call *c)
{
    json_error_t jerr;
    json_t *j = json_loadb(c->reply, c->reply_len, 0, &jerr);

    if (!j)
        fail_msg("reply is not JSON: %s", jerr.text);
    return j;
}

/* The detail items' types, comma-joined ("missing,missing"). */
static void expect_detail_types(struct api_call *c, const char *types)
{
    json_t *j = reply_json(c), *item;
    char got[512] = "";
    size_t i;

    assert_int_equal(c->status, 422);
    json_array_foreach(json_object_get(j, "detail"), i, item)
    {
        size_t n = strlen(got);

        snprintf(got + n, sizeof(got) - n, "%s%s", n ? "," : "",
                 json_string_value(json_object_get(item, "type")));
    }
    if (strcmp(got, types) != 0)
        fail_msg("detail types: expected %s, got %s", types, got);
    json_decref(j);
    api_call_free(c);
}

/* ---- the table ---------------------------------------------------------- */

static void test_every_row_is_a_whole_endpoint(void **state)
{
    (void)state;
    assert_true(api_endpoints_count >= 4);
    for (size_t i = 0; i < api_endpoints_count; i++) {
        const struct api_endpoint *e = &api_endpoints[i];

        assert_non_null(e->run);
        assert_true(strncmp(e->path, "/api/", 5) == 0);
        assert_ptr_equal(api_endpoint_find(e->name), e);
        for (size_t k = i + 1; k < api_endpoints_count; k++) {
            assert_string_not_equal(e->name, api_endpoints[k].name);
            assert_string_not_equal(e->path, api_endpoints[k].path);
        }
    }
    assert_null(api_endpoint_find("nope"));
}

/* ---- admission ---------------------------------------------------------- */

static void test_bodies_that_are_not_objects(void **state)
{
    (void)state;
    for (size_t i = 0; i < api_endpoints_count; i++) {
        const char *name = api_endpoints[i].name;

        /* a syntax error names its kind and offset (where jansson stopped, after the bad
         * token), never the text near it */
        expect_reply(serve(name, "{\"user_id\": oops}"), 422,
                     "{\"detail\":[{\"type\":\"json_invalid\",\"loc\":[\"body\",16],\"msg\":"
                     "\"JSON decode error\",\"input\":{},\"ctx\":{\"error\":\"invalid JSON "
                     "syntax\"}}]}");
        expect_reply(serve(name, "[\"my secret sms\"]"), 422,
                     "{\"detail\":[{\"type\":\"model_attributes_type\",\"loc\":[\"body\"],\"msg\":"
                     "\"Input should be a valid dictionary or object to extract fields "
                     "from\",\"input\":\"[redacted]\"}]}");
        expect_detail_types(serve(name, "\"text\""), "model_attributes_type");
    }
}

static void test_fields_each_endpoint_requires(void **state)
{
    (void)state;
    /* what is missing, in pydantic's order; unknown members are echoed redacted */
    expect_reply(serve("insights", "{\"user_id\":\"u1\",\"note\":\"x\"}"), 422,
                 "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\",\"client_id\"],\"msg\":"
                 "\"Field required\",\"input\":{\"user_id\":\"u1\",\"note\":\"[redacted]\"}},"
                 "{\"type\":\"missing\",\"loc\":[\"body\",\"groupings\"],\"msg\":\"Field "
                 "required\",\"input\":{\"user_id\":\"u1\",\"note\":\"[redacted]\"}}]}");
    expect_detail_types(serve("async_insights", "{}"), "missing,missing,missing");
    /* fetch_extracted_data: cnt_sms_threshold is optional (Credeau's docs) */
    expect_detail_types(serve("fetch_extracted_data", "{}"), "missing,missing");
    /* generate_features: groupings are optional, the inline data is checked after admission */
    expect_detail_types(serve("generate_features", "{}"), "missing,missing");
}

static void test_field_values(void **state)
{
    char body[512], id65[66];
    (void)state;

    memset(id65, 'u', 65);
    id65[65] = '\0';
    /* Credeau: a user_id has at most 64 characters, on every endpoint */
    snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"client_id\":\"demo\",\"groupings\":[]}",
             id65);
    expect_reply(serve("insights", body), 422,
                 "{\"detail\":[{\"type\":\"string_too_long\",\"loc\":[\"body\",\"user_id\"],"
                 "\"msg\":\"String should have at most 64 characters\",\"input\":\"[redacted]\","
                 "\"ctx\":{\"max_length\":64}}]}");
    snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"client_id\":\"demo\"}", id65);
    expect_detail_types(serve("generate_features", body), "string_too_long");
    expect_detail_types(serve("insights",
                              "{\"user_id\":7,\"client_id\":\"demo\",\"groupings\":[\"sms\",3,"
                              "\"salary\"]}"),
                        "string_type,string_type,literal_error");
    expect_detail_types(
        serve("async_insights", "{\"user_id\":\"u\",\"client_id\":\"demo\",\"groupings\":\"sms\"}"),
        "list_type");
    /* pydantic's lax int: 5, 5.0 and "5" pass; these do not */
    expect_detail_types(
        serve("fetch_extracted_data",
              "{\"user_id\":\"u\",\"client_id\":\"demo\",\"cnt_sms_threshold\":-1}"),
        "greater_than_equal");
    expect_detail_types(
        serve("fetch_extracted_data",
              "{\"user_id\":\"u\",\"client_id\":\"demo\",\"cnt_sms_threshold\":\"five\"}"),
        "int_parsing");
    expect_detail_types(
        serve("fetch_extracted_data",
              "{\"user_id\":\"u\",\"client_id\":\"demo\",\"cnt_sms_threshold\":5.5}"),
        "int_from_float");
    expect_detail_types(
        serve("fetch_extracted_data",
              "{\"user_id\":\"u\",\"client_id\":\"demo\",\"cnt_sms_threshold\":[5]}"),
        "int_type");
    /* an integer too large for jansson (a real to it) is still an integer: above the cap */
    {
        struct api_call *c =
            serve("fetch_extracted_data", "{\"user_id\":\"u\",\"client_id\":\"demo\","
                                          "\"cnt_sms_threshold\":123456789012345678901234567890}");

        assert_int_not_equal(c->status, 422);
        api_call_free(c);
    }
}

/*
 * cnt_sms_threshold read as pydantic 2 reads an int: each row's outcome is what pydantic
 * 2.13.4 gives for Optional[int] = Field(None, ge=0) (0 and values past the cap: no
 * threshold but FETCH_MAX_SMS, here 5000).
 */
static void test_threshold_as_pydantic_reads_it(void **state)
{
    static const struct {
        const char *json; /* the member's value as JSON text */
        long threshold;   /* when accepted */
        const char *type; /* the detail type when refused */
    } cases[] = {
        {"\"10\"", 10, NULL},
        {"\" 10 \"", 10, NULL},
        {"\"\\r10\"", 10, NULL},
        {"\"10\\r\"", 10, NULL},
        {"\"\\u000b10\\f\"", 10, NULL},
        {"\"\\t10\\n\"", 10, NULL},
        {"\"+10\"", 10, NULL},
        {"\" +1 \"", 1, NULL},
        {"\"-0\"", 5000, NULL},
        {"\"1_000\"", 1000, NULL},
        {"\"1_0.0\"", 10, NULL},
        {"\"0_0\"", 5000, NULL},
        {"\"10.0\"", 10, NULL},
        {"\"10.00000\"", 10, NULL},
        {"\"1_000.00\"", 1000, NULL},
        {"\"10.0 \"", 10, NULL},
        {"\"-0.0\"", 5000, NULL},
        {"\"\\u00a010\\u00a0\"", 10, NULL},
        {"\"\\u200010\"", 10, NULL},
        {"\"10\\u3000\"", 10, NULL},
        {"\"\\u008510\"", 10, NULL},
        {"\"00010\"", 10, NULL},
        {"\"99999999999999999999999\"", 5000, NULL},
        {"\"10.\"", 0, "int_parsing"},
        {"\"10.5\"", 0, "int_parsing"},
        {"\"1e3\"", 0, "int_parsing"},
        {"\"0x10\"", 0, "int_parsing"},
        {"\" \"", 0, "int_parsing"},
        {"\"\"", 0, "int_parsing"},
        {"\"-\"", 0, "int_parsing"},
        {"\"+\"", 0, "int_parsing"},
        {"\"\\u0661\\u0660\"", 0, "int_parsing"},
        {"\".0\"", 0, "int_parsing"},
        {"\"1__0\"", 0, "int_parsing"},
        {"\"_10\"", 0, "int_parsing"},
        {"\"10_\"", 0, "int_parsing"},
        {"\"+_1\"", 0, "int_parsing"},
        {"\"10.0_0\"", 0, "int_parsing"},
        {"\"1.0.0\"", 0, "int_parsing"},
        {"\"  -  10\"", 0, "int_parsing"},
        {"\"1 0\"", 0, "int_parsing"},
        {"\"\\u200b10\"", 0, "int_parsing"},
        {"\"\\ufeff10\"", 0, "int_parsing"},
        {"\"\\u180e10\"", 0, "int_parsing"},
        {"\"\\u001c10\"", 0, "int_parsing"},
        {"\"10\\u001e\"", 0, "int_parsing"},
        {"\"-10\"", 0, "greater_than_equal"},
        {"\"-1_0\"", 0, "greater_than_equal"},
        {"true", 1, NULL},
        {"false", 5000, NULL},
        {"10.0", 10, NULL},
        {"-0.0", 5000, NULL},
        {"1.5", 0, "int_from_float"},
        {"[1]", 0, "int_type"},
    };
    char big[4400];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]) + 3; i++) {
        const char *json = i < sizeof(cases) / sizeof(cases[0]) ? cases[i].json : big;
        long want = 0;
        const char *type = NULL;
        struct validation v;
        struct api_ask ask = {0};
        json_t *root = json_object();

        if (json == big) { /* 4,301 digits; 4,300 digits; 4,000 spaces then 1 */
            size_t k = i - sizeof(cases) / sizeof(cases[0]);
            size_t n = k == 0 ? 4301 : k == 1 ? 4300 : 4000;
            big[0] = '"';
            memset(big + 1, k == 2 ? ' ' : '1', n);
            snprintf(big + 1 + n, sizeof(big) - 1 - n, "%s\"", k == 2 ? "1" : "");
            type = k == 0 ? "int_parsing_size" : NULL;
            want = k == 2 ? 1 : 5000;
        } else {
            want = cases[i].threshold;
            type = cases[i].type;
        }
        json_object_set_new(root, "cnt_sms_threshold", json_loads(json, JSON_DECODE_ANY, NULL));
        assert_non_null(json_object_get(root, "cnt_sms_threshold"));
        validation_init(&v, 10);
        admission_check_threshold(&v, root, &ask, 5000);
        const char *got = json_string_value(json_object_get(json_array_get(v.list, 0), "type"));
        if (type ? !got || strcmp(got, type) != 0 : got != NULL || ask.threshold != want)
            fail_msg("%.40s: got %s / %ld, want %s / %ld", json, got ? got : "ok", ask.threshold,
                     type ? type : "ok", want);
        json_decref(v.list);
        json_decref(root);
    }
}

static void test_credentials(void **state)
{
    static const char ok_body[] = "{\"user_id\":\"u\",\"client_id\":\"demo\",\"groupings\":[]}";
    static const char credeau_401[] =
        "{\"error\":\"Could not validate credentials. (request_id=req-1). It has been logged "
        "successfully on our servers. Please contact us with the request_id for assistance.\"}";
    (void)state;

    expect_reply(serve_on(&T.api, "insights", ok_body, NULL, NULL), 401, credeau_401);
    expect_reply(serve_on(&T.api, "insights", ok_body, CLIENT, "wrong"), 401, credeau_401);
    expect_reply(serve_on(&T.api, "fetch_extracted_data",
                          "{\"user_id\":\"u\",\"client_id\":\"other\",\"cnt_sms_threshold\":5}",
                          CLIENT, TOKEN),
                 401, credeau_401);
    /* a bad body is answered before the credentials are looked at */
    expect_detail_types(serve_on(&T.api, "insights", "{}", NULL, NULL), "missing,missing,missing");
}

static void test_a_call_queued_too_long_is_refused(void **state)
{
    const struct api_endpoint *e = api_endpoint_find("generate_features");
    struct api_call *c = api_call_for(e, "req-1", "{}", 2, CLIENT, TOKEN);
    (void)state;

    c->t_in.tv_sec -= T.cfg.pipeline_timeout_ms / 1000 + 1;
    api_serve(&T.api, c);
    assert_int_equal(c->retry_after_s, API_RETRY_AFTER_S);
    expect_reply(c, 503,
                 "{\"detail\":\"Server is overloaded, retry later\",\"code\":\"overloaded\"}");
}

/* ---- generate_features (no MongoDB needed) ------------------------------ */

static const char inline_user[] =
    "{\"user_id\":\"u-inline\",\"client_id\":\"demo\",%s"
    "\"sms_data\":["
    "{\"sms_id\":\"1\",\"sms_sender\":\"VM-HDFCBK\",\"sms_body\":\"Rs 1,250.00 debited from A/c "
    "XX1234 on 01-11-26 to VPA shop@okaxis. Avl Bal Rs 10,000.00\","
    "\"sms_inbox_date\":\"2026-11-01 10:00:00\"},"
    "{\"sms_id\":\"2\",\"sms_sender\":\"AD-HDFCBK\",\"sms_body\":\"Your A/c XX1234 is credited "
    "with Rs 45,000.00 on 30-10-26 by NEFT SALARY ACME LTD\","
    "\"sms_inbox_date\":\"2026-10-30 09:00:00\"}],"
    "\"apps_data\":[{\"package_name\":\"com.whatsapp\",\"app_name\":\"WhatsApp\"}],"
    "\"device_data\":{\"brand\":\"samsung\",\"model\":\"SM-A145F\"}}";

static json_t *generated(struct api *api, const char *groupings, int status)
{
    char body[2048];
    struct api_call *c;
    json_t *j;

    snprintf(body, sizeof(body), inline_user, groupings);
    c = serve_on(api, "generate_features", body, CLIENT, TOKEN);
    assert_int_equal(c->status, status);
    j = reply_json(c);
    api_call_free(c);
    return j;
}

static void test_generate_features(void **state)
{
    json_t *j;
    (void)state;

    /* every group, through the real extractor */
    j = generated(&T.api, "", 200);
    assert_string_equal(json_string_value(json_object_get(j, "user_id")), "u-inline");
    assert_string_equal(json_string_value(json_object_get(j, "request_id")), "req-1");
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "featurization completed");
    assert_int_equal(json_integer_value(json_object_get(j, "all_sms_count_nlp")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "debit_sms_count_nlp")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "credit_sms_count_nlp")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "apps_count_total")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "device_brand")), "samsung");
    assert_null(json_object_get(j, "failed_groups"));
    /* ids, 2 times, message, as_of, sms_count_used, data_recency_days, history_days */
    assert_int_equal(json_object_size(j), features_count(T.catalogue) + 9);
    json_decref(j);

    /* extraction down: the SMS groups are null and named, the rest is computed */
    j = generated(&T.api_dead, "\"groupings\":[\"sms\",\"apps\"],", 200);
    assert_true(json_is_null(json_object_get(j, "all_sms_count_nlp")));
    assert_int_equal(json_integer_value(json_object_get(j, "apps_count_total")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "failed_groups"), 0)),
                        "sms");
    assert_int_equal(json_array_size(json_object_get(j, "failed_groups")), 1);
    json_decref(j);

    /* bad inline data: the inline source's detail list, in the table's style */
    expect_detail_types(serve("generate_features", "{\"user_id\":\"u\",\"client_id\":\"demo\","
                                                   "\"sms_data\":[{\"sms_id\":\"1\"}]}"),
                        "missing,missing");
}

static void test_generate_features_strict_extraction(void **state)
{
    char body[2048];
    (void)state;

    T.cfg.extraction_strict = true;
    snprintf(body, sizeof(body), inline_user, "");
    expect_reply(serve_on(&T.api_dead, "generate_features", body, CLIENT, TOKEN), 502,
                 "{\"detail\":\"A backing service is unavailable, retry later\",\"code\":"
                 "\"dependency_unavailable\"}");
    T.cfg.extraction_strict = false;
}

/* ---- MongoDB endpoints -------------------------------------------------- */

static void test_mongodb_endpoints_without_mongodb(void **state)
{
    struct mongo_source *saved = T.fz.d.mongo;
    struct api_call *c;
    (void)state;

    T.fz.d.mongo = NULL;
    c = serve("insights", "{\"user_id\":\"u\",\"client_id\":\"demo\",\"groupings\":[\"sms\"]}");
    assert_int_equal(c->retry_after_s, API_RETRY_AFTER_S);
    expect_reply(c, 502,
                 "{\"detail\":\"A backing service is unavailable, retry later\",\"code\":"
                 "\"dependency_unavailable\"}");
    expect_reply(serve("fetch_extracted_data",
                       "{\"user_id\":\"u\",\"client_id\":\"demo\",\"cnt_sms_threshold\":5}"),
                 502,
                 "{\"detail\":\"A backing service is unavailable, retry later\",\"code\":"
                 "\"dependency_unavailable\"}");
    T.fz.d.mongo = saved;
}

/* One SMS document of client demo's user u-mongo with three bank messages. */
static void put_user(void)
{
    static const char *const bodies[] = {
        "Rs 500.00 debited from A/c XX1234 on 01-11-26 to VPA cafe@ybl",
        "Rs 700.00 debited from A/c XX1234 on 02-11-26 to VPA books@ybl",
        "Your A/c XX1234 is credited with Rs 45,000.00 on 30-10-26 by NEFT SALARY ACME LTD",
    };
    mongoc_client_t *client = mongoc_client_new(getenv("MONGO_URI"));
    mongoc_collection_t *col =
        mongoc_client_get_collection(client, T.mongo_db, MONGO_SOURCE_SMS_COLLECTION);
    bson_t *d = bson_new(), arr, item;
    bson_error_t e;

    BSON_APPEND_UTF8(d, "client_id", CLIENT);
    BSON_APPEND_UTF8(d, "user_id", "u-mongo");
    BSON_APPEND_UTF8(d, "request_id", "sync-1");
    BSON_APPEND_DATE_TIME(d, "created_at", 1793000000000LL);
    bson_append_array_begin(d, "sms", -1, &arr);
    for (int k = 0; k < 3; k++) {
        char key[16], id[16];

        snprintf(key, sizeof(key), "%d", k);
        snprintf(id, sizeof(id), "m%d", k);
        bson_append_document_begin(&arr, key, -1, &item);
        BSON_APPEND_UTF8(&item, "sms_id", id);
        BSON_APPEND_UTF8(&item, "sms_sender", "VM-HDFCBK");
        BSON_APPEND_UTF8(&item, "sms_body", bodies[k]);
        BSON_APPEND_INT64(&item, "sms_inbox_date", 1793000000000LL - k * 3600000LL);
        BSON_APPEND_UTF8(&item, "type", "inbox");
        bson_append_document_end(&arr, &item);
    }
    bson_append_array_end(d, &arr);
    if (!mongoc_collection_insert_one(col, d, NULL, NULL, &e))
        fail_msg("insert: %s", e.message);
    bson_destroy(d);
    mongoc_collection_destroy(col);
    mongoc_client_destroy(client);
}

static void test_mongodb_endpoints(void **state)
{
    struct api_call *c;
    json_t *j, *records;
    (void)state;

    if (!T.mongo) {
        printf("SKIP: MONGO_URI not set (scripts/peers.sh up)\n");
        skip();
    }
    put_user();
    c = serve("insights",
              "{\"user_id\":\"u-mongo\",\"client_id\":\"demo\",\"groupings\":[\"sms\"]}");
    assert_int_equal(c->status, 200);
    j = reply_json(c);
    api_call_free(c);
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "featurization completed");
    assert_int_equal(json_integer_value(json_object_get(j, "debit_sms_count_nlp")), 2);
    json_decref(j);

    /* fetch: the latest two records (m0 is the newest), newest first (Credeau's example) */
    c = serve("fetch_extracted_data",
              "{\"user_id\":\"u-mongo\",\"client_id\":\"demo\",\"cnt_sms_threshold\":2}");
    assert_int_equal(c->status, 200);
    j = reply_json(c);
    api_call_free(c);
    assert_int_equal(json_array_size(json_object_get(j, "extracted_sms_data")), 2);
    records = json_object_get(j, "extracted_sms_data");
    assert_string_equal(json_string_value(json_object_get(json_array_get(records, 0), "sms_id")),
                        "m0");
    assert_string_equal(json_string_value(json_object_get(json_array_get(records, 1), "sms_id")),
                        "m1");
    assert_null(json_object_get(j, "message"));
    json_decref(j);

    /* nobody: an answer, not an error */
    c = serve("insights",
              "{\"user_id\":\"nobody\",\"client_id\":\"demo\",\"groupings\":[\"sms\"]}");
    assert_int_equal(c->status, 200);
    j = reply_json(c);
    api_call_free(c);
    assert_string_equal(json_string_value(json_object_get(j, "message")), "user not found");
    assert_null(json_object_get(j, "all_sms_count_nlp"));
    json_decref(j);
    expect_reply(serve("fetch_extracted_data",
                       "{\"user_id\":\"nobody\",\"client_id\":\"demo\",\"cnt_sms_threshold\":2}"),
                 200,
                 "{\"user_id\":\"nobody\",\"request_id\":\"req-1\",\"extracted_sms_data\":[],"
                 "\"message\":\"user not found\"}");
}

/* ---- async jobs --------------------------------------------------------- */

static const char async_body[] =
    "{\"user_id\":\"u-async\",\"client_id\":\"demo\",\"groupings\":[\"apps\",\"device\"]}";

static void test_async_without_a_database(void **state)
{
    struct store_pool *saved = T.api.d.pool;
    (void)state;

    T.api.d.pool = NULL;
    expect_reply(serve("async_insights", async_body), 502,
                 "{\"detail\":\"Async jobs need a database (DI_POSTGRES_HOST)\",\"code\":"
                 "\"dependency_unavailable\"}");
    T.api.d.pool = saved;
}

/* The job of u-async: claimed by this test and finished with compute's outcome. */
static void run_job(PGconn *conn)
{
    char *result = NULL, code[64] = "";
    struct jobs_job job;
    bool partial = false;

    memset(&job, 0, sizeof(job));
    assert_int_equal(
        pgt_checked("jobs_claim", jobs_claim(conn, "me", 30, 3, &job, pgt_err, sizeof(pgt_err))),
        1);
    if (featurise_job(&T.fz, &job, &result, &partial, code, sizeof(code)) == 0)
        assert_int_equal(jobs_finish(conn, job.id, "me", result, partial, pgt_err, sizeof(pgt_err)),
                         1);
    else
        assert_int_equal(jobs_fail(conn, job.id, "me", code, pgt_err, sizeof(pgt_err)), 1);
    free(result);
    jobs_job_clear(&job);
}

static void test_async_jobs(void **state)
{
    PGconn *conn = pgt_connect_or_skip();
    struct mongo_source *saved = T.fz.d.mongo;
    struct api_call *c;
    json_t *j;
    (void)state;

    PQclear(pgt_sql(conn, "TRUNCATE insights_jobs"));
    /* submitted: 202 in progress, then the same while it runs */
    c = serve("async_insights", async_body);
    assert_int_equal(c->status, 202);
    j = reply_json(c);
    api_call_free(c);
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "featurization in progress");
    assert_string_equal(json_string_value(json_object_get(j, "request_id")), "req-1");
    json_decref(j);
    c = serve("async_insights", async_body);
    assert_int_equal(c->status, 202);
    api_call_free(c);

    /* MongoDB down while computing: the job fails with the table's code, reported once */
    T.fz.d.mongo = NULL;
    run_job(conn);
    T.fz.d.mongo = saved;
    assert_int_equal(pgt_int(conn, "SELECT count(*) FROM insights_jobs WHERE error = "
                                   "'dependency_unavailable'"),
                     1);
    expect_reply(serve("async_insights", async_body), 502,
                 "{\"detail\":\"The job failed: a dependency was down\",\"code\":"
                 "\"dependency_unavailable\"}");

    /* asked again: recomputed, and the result is the answer */
    c = serve("async_insights", async_body);
    assert_int_equal(c->status, 202);
    api_call_free(c);
    if (T.mongo) {
        run_job(conn);
        c = serve("async_insights", async_body);
        assert_int_equal(c->status, 200);
        j = reply_json(c);
        api_call_free(c);
        assert_string_equal(json_string_value(json_object_get(j, "user_id")), "u-async");
        json_decref(j);
    }

    /* an internal failure is the table's 500; an older version's code is a dependency */
    PQclear(pgt_sql(conn, "UPDATE insights_jobs SET state = 'failed', error = 'internal', "
                          "delivered_at = NULL, finished_at = now()"));
    expect_reply(serve("async_insights", async_body), 500,
                 "{\"detail\":\"Internal Server Error\",\"code\":\"internal\"}");
    PQfinish(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row_is_a_whole_endpoint),
        cmocka_unit_test(test_bodies_that_are_not_objects),
        cmocka_unit_test(test_fields_each_endpoint_requires),
        cmocka_unit_test(test_field_values),
        cmocka_unit_test(test_threshold_as_pydantic_reads_it),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_a_call_queued_too_long_is_refused),
        cmocka_unit_test(test_generate_features),
        cmocka_unit_test(test_generate_features_strict_extraction),
        cmocka_unit_test(test_mongodb_endpoints_without_mongodb),
        cmocka_unit_test(test_mongodb_endpoints),
        cmocka_unit_test(test_async_without_a_database),
        cmocka_unit_test(test_async_jobs),
    };

    pgt_group_tag = "api";
    return cmocka_run_group_tests(tests, setup, teardown);
}
