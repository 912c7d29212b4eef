/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of insights-api/mongo_source.h against a real MongoDB wire server
 * (CongoDB in CI, via MONGO_URI from scripts/run-integration.sh through
 * tests/integration/test_ins_sources.sh). The test writes sync documents in
 * the shapes of docs/data-model.md with libmongoc itself (in a database of
 * its own, dropped at the end), then reads them back through the source:
 * merge of several syncs, dedupe by sms_id with the latest sync winning,
 * apps by package, latest device, caps, empty sources, user not found, the
 * enabled-sources switch, the URI built from parts, and MongoDB down.
 * Without MONGO_URI only the configuration checks run; the rest print SKIP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <bson/bson.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "insights-api/mongo_source.h"

/* read_sources' verdict for a user with no document in what was read (not an error) */
#define NOT_FOUND ERR__COUNT

static char db_name[64];
static const char *mongo_uri;

/* ---- writing documents -------------------------------------------------- */

static mongoc_client_t *writer(void)
{
    bson_error_t e;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(mongo_uri, &e);
    mongoc_client_t *c;

    assert_non_null(uri);
    c = mongoc_client_new_from_uri(uri);
    mongoc_uri_destroy(uri);
    assert_non_null(c);
    return c;
}

static void insert(const char *coll, bson_t *doc)
{
    mongoc_client_t *c = writer();
    mongoc_collection_t *col = mongoc_client_get_collection(c, db_name, coll);
    bson_error_t e;

    if (!mongoc_collection_insert_one(col, doc, NULL, NULL, &e))
        fail_msg("insert into %s: %s", coll, e.message);
    bson_destroy(doc);
    mongoc_collection_destroy(col);
    mongoc_client_destroy(c);
}

/* The document header every sync document carries. */
static bson_t *doc_header(const char *client, const char *user, const char *rid, int64_t created)
{
    bson_t *d = bson_new();

    BSON_APPEND_UTF8(d, "client_id", client);
    BSON_APPEND_UTF8(d, "user_id", user);
    BSON_APPEND_UTF8(d, "request_id", rid);
    BSON_APPEND_DATE_TIME(d, "created_at", created);
    return d;
}

/* epoch ms of message n: one hour apart from 2026-05-01 */
static int64_t msg_ms(int n)
{
    return 1777593600000LL + (int64_t)n * 3600000;
}

/* An SMS document with messages first..last (ids as strings "s<n>"). */
static void put_sms(const char *client, const char *user, const char *rid, int64_t created,
                    int first, int last, const char *body_tag)
{
    bson_t *d = doc_header(client, user, rid, created);
    bson_t arr, item;
    char key[16], id[16], body[96];
    int k = 0;

    bson_append_array_begin(d, "sms", -1, &arr);
    for (int n = first; n <= last; n++, k++) {
        snprintf(key, sizeof(key), "%d", k);
        snprintf(id, sizeof(id), "s%d", n);
        snprintf(body, sizeof(body), "Rs %d.00 debited from A/c XX1234 %s", 100 + n, body_tag);
        bson_append_document_begin(&arr, key, -1, &item);
        BSON_APPEND_UTF8(&item, "sms_id", id);
        BSON_APPEND_UTF8(&item, "sms_sender", "VM-EXBANK-S");
        BSON_APPEND_UTF8(&item, "sms_body", body);
        BSON_APPEND_INT64(&item, "sms_inbox_date", msg_ms(n));
        BSON_APPEND_UTF8(&item, "type", "inbox");
        bson_append_document_end(&arr, &item);
    }
    bson_append_array_end(d, &arr);
    insert(MONGO_SOURCE_SMS_COLLECTION, d);
}

static void put_apps(const char *client, const char *user, const char *rid, int64_t created,
                     const char *const *pkgs, const char *name_tag)
{
    bson_t *d = doc_header(client, user, rid, created);
    bson_t arr, item;
    char key[16], name[64];

    bson_append_array_begin(d, "apps", -1, &arr);
    for (int k = 0; pkgs[k]; k++) {
        snprintf(key, sizeof(key), "%d", k);
        snprintf(name, sizeof(name), "%s %s", pkgs[k], name_tag);
        bson_append_document_begin(&arr, key, -1, &item);
        BSON_APPEND_UTF8(&item, "package_name", pkgs[k]);
        BSON_APPEND_UTF8(&item, "app_name", name);
        BSON_APPEND_INT64(&item, "install_time", 1700000000000LL + k * 1000);
        BSON_APPEND_INT64(&item, "update_time", 1760000000000LL + created);
        BSON_APPEND_BOOL(&item, "is_system", k == 0);
        bson_append_document_end(&arr, &item);
    }
    bson_append_array_end(d, &arr);
    insert(MONGO_SOURCE_APPS_COLLECTION, d);
}

static void put_device(const char *client, const char *user, const char *rid, int64_t created,
                       const char *model, int sdk)
{
    bson_t *d = doc_header(client, user, rid, created);
    bson_t dev;

    bson_append_document_begin(d, "device", -1, &dev);
    BSON_APPEND_UTF8(&dev, "brand", "Exphone");
    BSON_APPEND_UTF8(&dev, "model", model);
    BSON_APPEND_UTF8(&dev, "manufacturer", "Example Mobile");
    BSON_APPEND_UTF8(&dev, "os_version", "13");
    BSON_APPEND_INT32(&dev, "sdk_int", sdk);
    BSON_APPEND_INT32(&dev, "total_ram_mb", 6144);
    BSON_APPEND_DOUBLE(&dev, "total_storage_mb", 131072.0);
    BSON_APPEND_INT64(&dev, "captured_at", 1777593600000LL + created);
    bson_append_document_end(d, &dev);
    insert(MONGO_SOURCE_DEVICE_COLLECTION, d);
}

/* Odd item shapes in one extra document for user-odd. */
static void put_odd_sms(void)
{
    bson_t *d = doc_header("client-a", "user-odd", "r-odd", 5000);
    bson_t arr, item;

    bson_append_array_begin(d, "sms", -1, &arr);
    /* integer id, BSON date */
    bson_append_document_begin(&arr, "0", -1, &item);
    BSON_APPEND_INT64(&item, "sms_id", 777);
    BSON_APPEND_NULL(&item, "sms_sender");
    BSON_APPEND_UTF8(&item, "sms_body", "Your OTP is 000000");
    BSON_APPEND_DATE_TIME(&item, "sms_inbox_date", 1795000060000LL);
    bson_append_document_end(&arr, &item);
    /* India-time text date, epoch seconds as int32 */
    bson_append_document_begin(&arr, "1", -1, &item);
    BSON_APPEND_UTF8(&item, "sms_id", "t1");
    BSON_APPEND_UTF8(&item, "sms_body", "text date");
    BSON_APPEND_UTF8(&item, "sms_inbox_date", "2026-11-18 16:37:41");
    bson_append_document_end(&arr, &item);
    bson_append_document_begin(&arr, "2", -1, &item);
    BSON_APPEND_UTF8(&item, "sms_id", "t2");
    BSON_APPEND_UTF8(&item, "sms_body", "epoch seconds");
    BSON_APPEND_INT32(&item, "sms_inbox_date", 1000000000);
    bson_append_document_end(&arr, &item);
    /* skipped: no body, bad date, no id, not a document */
    bson_append_document_begin(&arr, "3", -1, &item);
    BSON_APPEND_UTF8(&item, "sms_id", "x1");
    BSON_APPEND_INT64(&item, "sms_inbox_date", 1795000060000LL);
    bson_append_document_end(&arr, &item);
    bson_append_document_begin(&arr, "4", -1, &item);
    BSON_APPEND_UTF8(&item, "sms_id", "x2");
    BSON_APPEND_UTF8(&item, "sms_body", "bad date");
    BSON_APPEND_UTF8(&item, "sms_inbox_date", "2026-13-40 99:00:00");
    bson_append_document_end(&arr, &item);
    bson_append_document_begin(&arr, "5", -1, &item);
    BSON_APPEND_UTF8(&item, "sms_body", "no id");
    BSON_APPEND_INT64(&item, "sms_inbox_date", 1795000060000LL);
    bson_append_document_end(&arr, &item);
    BSON_APPEND_UTF8(&arr, "6", "not a document");
    bson_append_array_end(d, &arr);
    insert(MONGO_SOURCE_SMS_COLLECTION, d);
}

static const char *const APPS1[] = {"com.android.settings", "com.example.pay", "com.example.loan",
                                    NULL};
static const char *const APPS2[] = {"com.android.settings", "com.example.loan", "com.example.bet",
                                    NULL};

/* Fixture: written once for all read tests. */
static int load_fixture(void **state)
{
    (void)state;
    mongoc_init();
    mongo_uri = getenv("MONGO_URI");
    if (!mongo_uri || !*mongo_uri)
        return 0;
    snprintf(db_name, sizeof(db_name), "sync_db_test_%ld_%ld", (long)getpid(), (long)time(NULL));
    /* user-a: three SMS syncs, inserted out of order, overlapping (s4..s5 and s8 twice) */
    put_sms("client-a", "user-a", "r3", 3000, 8, 10, "sync3");
    put_sms("client-a", "user-a", "r1", 1000, 1, 5, "sync1");
    put_sms("client-a", "user-a", "r2", 2000, 4, 8, "sync2");
    put_apps("client-a", "user-a", "r2", 2000, APPS2, "new");
    put_apps("client-a", "user-a", "r1", 1000, APPS1, "old");
    put_device("client-a", "user-a", "r3", 3000, "EX-3", 33);
    put_device("client-a", "user-a", "r1", 1000, "EX-1", 31);
    put_device("client-a", "user-a", "r2", 2000, "EX-2", 32);
    /* the same user id under another client must never mix in */
    put_sms("client-b", "user-a", "rb", 9000, 50, 60, "other-client");
    put_device("client-b", "user-a", "rb", 9000, "OTHER", 20);
    /* user-dev: only a device; user-odd: odd item shapes */
    put_device("client-a", "user-dev", "rd", 4000, "EX-D", 30);
    put_odd_sms();
    return 0;
}

static int drop_fixture(void **state)
{
    (void)state;
    if (mongo_uri && *mongo_uri && db_name[0]) {
        mongoc_client_t *c = writer();
        mongoc_database_t *db = mongoc_client_get_database(c, db_name);
        bson_error_t e;
        mongoc_database_drop(db, &e);
        mongoc_database_destroy(db);
        mongoc_client_destroy(c);
    }
    mongoc_cleanup();
    return 0;
}

static bool need_mongo(void)
{
    if (mongo_uri && *mongo_uri)
        return true;
    printf("SKIP: MONGO_URI not set (run via scripts/run-integration.sh)\n");
    return false;
}

/* Skips the calling test (saying why) when there is no server to read from. */
static void require_mongo(void)
{
    if (!need_mongo())
        skip();
}

/* A source from cfg; a refused configuration fails the test with its error. */
static struct mongo_source *source_from(const struct mongo_source_config *cfg)
{
    char err[256];
    struct mongo_source *ms = mongo_source_new(cfg, err, sizeof(err));

    if (!ms)
        fail_msg("mongo_source_new: %s", err);
    return ms;
}

/* A source on the fixture's database (the test skips without one). */
static struct mongo_source *fixture_source(long max_sms, const char *enabled)
{
    struct mongo_source_config cfg = {0};

    require_mongo();
    cfg.uri = mongo_uri;
    cfg.database = db_name;
    cfg.max_sms = max_sms;
    cfg.enabled_sources = enabled;
    cfg.min_pool_size = 2;
    return source_from(&cfg);
}

/* What one read gave back, with the source it came through; reading_free releases all three. */
struct reading {
    struct mongo_source *ms;
    struct user_data u;
    struct raw_sms_list sms;
    char err[512];
};

/*
 * Act: reads the asked-for sources of client/user through ms (which r then
 * owns) into a fresh r; max_sms 0 asks for no cap of the request's own.
 */
static enum err read_as_of(struct mongo_source *ms, const char *client, const char *user, bool sms,
                           bool apps, bool device, size_t max_sms, int64_t as_of, struct reading *r)
{
    bool found = true;
    enum err e;

    r->ms = ms;
    user_data_init(&r->u, client, user, as_of);
    raw_sms_list_init(&r->sms);
    e = mongo_source_read(ms, client, user, sms, apps, device, max_sms, as_of, &r->u, &r->sms,
                          &found, r->err, sizeof(r->err));
    return e == ERR_OK && !found ? NOT_FOUND : e;
}

/* The same with every fact kept (no as_of). */
static enum err read_sources(struct mongo_source *ms, const char *client, const char *user,
                             bool sms, bool apps, bool device, size_t max_sms, struct reading *r)
{
    return read_as_of(ms, client, user, sms, apps, device, max_sms, INT64_MAX, r);
}

/* Act: the whole of client/user, as a plain request reads it. */
static enum err read_all(struct mongo_source *ms, const char *client, const char *user,
                         struct reading *r)
{
    return read_sources(ms, client, user, true, true, true, 0, r);
}

/* Frees what was read, keeping r->ms for the next read through it. */
static void reading_clear(struct reading *r)
{
    user_data_free(&r->u);
    raw_sms_list_free(&r->sms);
}

static void reading_free(struct reading *r)
{
    reading_clear(r);
    mongo_source_free(r->ms);
}

/* ---- configuration (no server needed) ----------------------------------- */

/* cfg is refused with an error (left in err) that names want. */
static void expect_refused(const struct mongo_source_config *cfg, const char *want, char *err,
                           size_t err_len)
{
    assert_null(mongo_source_new(cfg, err, err_len));
    assert_non_null(strstr(err, want));
}

static void test_config_errors(void **state)
{
    struct mongo_source_config cfg = {0};
    char err[256];

    (void)state;
    /* a bad URI: the error never quotes it (it may hold a password) */
    cfg.uri = "mongodb://someone:s3cretpw@host:99999/";
    expect_refused(&cfg, "DI_MONGODB_URI", err, sizeof(err));
    assert_null(strstr(err, "s3cretpw"));

    cfg.uri = "";
    expect_refused(&cfg, "DI_MONGODB_HOST", err, sizeof(err));

    cfg.host = "127.0.0.1";
    cfg.enabled_sources = "sms,contacts";
    expect_refused(&cfg, "contacts", err, sizeof(err));

    cfg.enabled_sources = "";
    cfg.max_pool_size = 2;
    cfg.min_pool_size = 3;
    expect_refused(&cfg, "MIN_POOL_SIZE", err, sizeof(err));

    cfg.min_pool_size = 1;
    cfg.port = 70000;
    expect_refused(&cfg, "DI_MONGODB_PORT", err, sizeof(err));

    /* valid parts, with a password that needs no escaping by us: no I/O at creation */
    cfg.port = 27017;
    cfg.username = "reader";
    cfg.password = "p@ss:w/rd%";
    cfg.enabled_sources = " sms , device";
    mongo_source_free(source_from(&cfg));
    mongo_source_free(NULL);
}

/* ---- reads -------------------------------------------------------------- */

/* user-a's messages: s1..s10 once each, in time order, the latest sync's copy of an overlap. */
static void assert_sms_merged(const struct raw_sms_list *sms)
{
    assert_int_equal(sms->count, 10);
    for (size_t i = 0; i < sms->count; i++) {
        char id[32];
        snprintf(id, sizeof(id), "s%zu", i + 1);
        assert_string_equal(sms->items[i].sms_id, id);
        assert_int_equal(sms->items[i].ts, msg_ms((int)i + 1) / 1000);
        assert_string_equal(sms->items[i].sender, "VM-EXBANK-S");
    }
    assert_non_null(strstr(sms->items[3].body, "sync2")); /* s4: sync1 and sync2 */
    assert_non_null(strstr(sms->items[7].body, "sync3")); /* s8: sync2 and sync3 */
    assert_non_null(strstr(sms->items[0].body, "sync1"));
    assert_int_equal(sms->items[0].body_len, strlen(sms->items[0].body));
}

/* user-a's apps: the union by package, each with the later snapshot's fields. */
static void assert_apps_merged(struct user_data *u)
{
    assert_int_equal(u->apps_state, SOURCE_OK);
    assert_int_equal(u->apps_count, 4);
    struct app_fact *loan = user_data_find_app(u, "com.example.loan");
    assert_non_null(loan);
    assert_string_equal(loan->app_name, "com.example.loan new");
    assert_int_equal(loan->update_ts, 1760000002); /* epoch ms, from the later snapshot */
    assert_int_equal(loan->install_ts, 1700000001);
    struct app_fact *pay = user_data_find_app(u, "com.example.pay");
    assert_non_null(pay);
    assert_string_equal(pay->app_name, "com.example.pay old");
    assert_true(user_data_find_app(u, "com.android.settings")->is_system);
    assert_false(pay->is_system);
}

/* user-a's device: the one of the latest sync. */
static void assert_latest_device(const struct user_data *u)
{
    assert_int_equal(u->device_state, SOURCE_OK);
    assert_string_equal(u->device.model, "EX-3");
    assert_string_equal(u->device.brand, "Exphone");
    assert_int_equal(u->device.sdk_int, 33);
    assert_true(u->device.total_ram_mb == 6144.0);
    assert_true(u->device.total_storage_mb == 131072.0);
    assert_int_equal(u->device.captured_ts, 1777593603); /* epoch ms of the latest */
}

static void test_merge_dedupe(void **state)
{
    struct mongo_source *ms = fixture_source(0, "");
    struct reading r;
    char err[256];

    (void)state;
    assert_int_equal(mongo_source_ping(ms, err, sizeof(err)), ERR_OK);
    assert_int_equal(read_all(ms, "client-a", "user-a", &r), ERR_OK);
    assert_sms_merged(&r.sms);
    assert_int_equal(r.u.sms_state, SOURCE_NOT_ASKED); /* left for extraction */
    assert_apps_merged(&r.u);
    assert_latest_device(&r.u);
    reading_free(&r);
}

static void test_caps(void **state)
{
    struct reading r;
    static const struct {
        long global;
        size_t asked;
        size_t want;
    } cases[] = {{0, 3, 3}, {4, 0, 4}, {4, 100, 4}, {4, 2, 2}, {0, 0, 10}, {0, 10, 10}};

    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        assert_int_equal(read_sources(fixture_source(cases[k].global, ""), "client-a", "user-a",
                                      true, false, false, cases[k].asked, &r),
                         ERR_OK);
        assert_int_equal(r.sms.count, cases[k].want);
        /* the most recent ones: the last is always s10 */
        assert_string_equal(r.sms.items[r.sms.count - 1].sms_id, "s10");
        char first[32];
        snprintf(first, sizeof(first), "s%zu", 11 - cases[k].want);
        assert_string_equal(r.sms.items[0].sms_id, first);
        assert_int_equal(r.u.apps_state, SOURCE_NOT_ASKED);
        assert_int_equal(r.u.device_state, SOURCE_NOT_ASKED);
        reading_free(&r);
    }
}

/*
 * as_of: facts dated after it are not taken. Messages are cut before the
 * cap (the cap keeps the most recent as of then), the latest device captured
 * by then wins, apps installed later are left out and later update times
 * forgotten; a source left with nothing is empty.
 */
static void test_as_of(void **state)
{
    struct reading r;
    int64_t s6 = msg_ms(6) / 1000;

    (void)state;
    /* s1..s10 one hour apart: as of s6, capped to 2, are s5 and s6 (not s9 and s10) */
    assert_int_equal(
        read_as_of(fixture_source(0, ""), "client-a", "user-a", true, true, true, 2, s6, &r),
        ERR_OK);
    assert_int_equal(r.sms.count, 2);
    assert_string_equal(r.sms.items[0].sms_id, "s5");
    assert_string_equal(r.sms.items[1].sms_id, "s6");
    assert_string_equal(r.u.device.model, "EX-3");
    reading_free(&r);
    /* devices captured 1777593601..03 (EX-1..3): as of ..02 EX-2 wins; no SMS yet */
    assert_int_equal(read_as_of(fixture_source(0, ""), "client-a", "user-a", true, true, true, 0,
                                1777593602, &r),
                     ERR_OK);
    assert_int_equal(r.sms.count, 0);
    assert_int_equal(r.u.sms_state, SOURCE_EMPTY);
    assert_int_equal(r.u.device_state, SOURCE_OK);
    assert_string_equal(r.u.device.model, "EX-2");
    assert_int_equal(r.u.device.captured_ts, 1777593602);
    assert_int_equal(r.u.apps_count, 4);
    assert_int_equal(user_data_find_app(&r.u, "com.example.loan")->update_ts, 1760000002);
    reading_free(&r);
    assert_int_equal(read_as_of(fixture_source(0, ""), "client-a", "user-a", false, false, true, 0,
                                1777593600, &r),
                     ERR_OK);
    assert_int_equal(r.u.device_state, SOURCE_EMPTY);
    reading_free(&r);
    /* apps installed at 1700000000 + k: as of ..01 the k = 2 items are out (bet; loan of r1,
     * while loan of r2 is k = 1), and the update times (1760000001..02) are not known yet */
    assert_int_equal(read_as_of(fixture_source(0, ""), "client-a", "user-a", false, true, false, 0,
                                1700000001, &r),
                     ERR_OK);
    assert_int_equal(r.u.apps_count, 3);
    assert_null(user_data_find_app(&r.u, "com.example.bet"));
    assert_string_equal(user_data_find_app(&r.u, "com.example.loan")->app_name,
                        "com.example.loan new");
    for (size_t i = 0; i < r.u.apps_count; i++)
        assert_int_equal(r.u.apps[i].update_ts, 0);
    reading_free(&r);
    assert_int_equal(read_as_of(fixture_source(0, ""), "client-a", "user-a", false, true, false, 0,
                                1699999999, &r),
                     ERR_OK);
    assert_int_equal(r.u.apps_count, 0);
    assert_int_equal(r.u.apps_state, SOURCE_EMPTY);
    reading_free(&r);
}

static void test_empty_and_not_found(void **state)
{
    static const char *const nobody[][2] = {
        {"client-a", "user-nobody"}, {"client-c", "user-a"}, {"client-a", ""}};
    struct mongo_source *ms = fixture_source(0, "");
    struct reading r;

    (void)state;
    /* only a device: SMS and apps are empty sources, not a missing user */
    assert_int_equal(read_all(ms, "client-a", "user-dev", &r), ERR_OK);
    assert_int_equal(r.u.sms_state, SOURCE_EMPTY);
    assert_int_equal(r.u.apps_state, SOURCE_EMPTY);
    assert_int_equal(r.u.device_state, SOURCE_OK);
    assert_string_equal(r.u.device.model, "EX-D");
    assert_int_equal(r.sms.count, 0);
    reading_clear(&r);

    /* asking only for SMS of that user: nothing in what was read */
    assert_int_equal(read_sources(ms, "client-a", "user-dev", true, false, false, 0, &r),
                     NOT_FOUND);
    reading_clear(&r);

    /* nobody: an unknown user, a known user under another client, an empty id */
    for (size_t i = 0; i < sizeof(nobody) / sizeof(nobody[0]); i++) {
        assert_int_equal(read_all(ms, nobody[i][0], nobody[i][1], &r), NOT_FOUND);
        assert_int_equal(r.sms.count, 0);
        assert_int_equal(r.u.apps_count, 0);
        assert_null(r.u.device.model);
        reading_clear(&r);
    }
    /* nothing asked: no query, no verdict */
    assert_int_equal(read_sources(ms, "client-a", "user-nobody", false, false, false, 0, &r),
                     ERR_OK);
    assert_int_equal(r.u.sms_state, SOURCE_NOT_ASKED);
    reading_free(&r); /* the last reading through ms also frees ms */
}

static void test_other_client_isolated(void **state)
{
    struct reading r;

    (void)state;
    assert_int_equal(read_all(fixture_source(0, ""), "client-b", "user-a", &r), ERR_OK);
    assert_int_equal(r.sms.count, 11); /* s50..s60 only */
    assert_string_equal(r.sms.items[0].sms_id, "s50");
    assert_string_equal(r.u.device.model, "OTHER");
    assert_int_equal(r.u.apps_state, SOURCE_EMPTY);
    reading_free(&r);
}

static void test_odd_items(void **state)
{
    /* sorted: t2 (2001), 777 (2026-11-18 16:37:40 IST), t1 one second later */
    static const struct {
        const char *id;
        int64_t ts;
    } want[] = {{"t2", 1000000000}, {"777", 1795000060}, {"t1", 1795000061}};
    struct reading r;

    (void)state;
    assert_int_equal(read_all(fixture_source(0, ""), "client-a", "user-odd", &r), ERR_OK);
    assert_int_equal(r.sms.count, 3);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_string_equal(r.sms.items[i].sms_id, want[i].id);
        assert_int_equal(r.sms.items[i].ts, want[i].ts);
    }
    assert_null(r.sms.items[1].sender); /* 777's sender was BSON null */
    reading_free(&r);
}

static void test_enabled_sources(void **state)
{
    struct reading r;

    (void)state;
    assert_int_equal(read_all(fixture_source(0, "sms,device"), "client-a", "user-a", &r), ERR_OK);
    assert_int_equal(r.u.apps_state, SOURCE_NOT_ASKED);
    assert_int_equal(r.u.apps_count, 0);
    assert_int_equal(r.u.device_state, SOURCE_OK);
    assert_int_equal(r.sms.count, 10);
    reading_free(&r);
}

/* The URI built from DI_MONGODB_HOST/PORT/DATABASE reads the same data. */
static void test_parts(void **state)
{
    struct mongo_source_config cfg = {0};
    struct mongo_source *ms;
    struct reading r;
    bson_error_t be;

    (void)state;
    require_mongo();
    mongoc_uri_t *uri = mongoc_uri_new_with_error(mongo_uri, &be);
    const mongoc_host_list_t *h = mongoc_uri_get_hosts(uri);
    cfg.host = h->host;
    cfg.port = h->port;
    cfg.database = db_name;
    cfg.server_selection_timeout_ms = 3000;
    cfg.max_pool_size = 4;
    cfg.min_pool_size = 1;
    ms = source_from(&cfg);
    mongoc_uri_destroy(uri);
    assert_int_equal(read_all(ms, "client-a", "user-a", &r), ERR_OK);
    assert_int_equal(r.sms.count, 10);
    assert_int_equal(r.u.apps_count, 4);
    reading_free(&r);
}

/* A loopback TCP port with nothing listening on it: bound once, then closed. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);

    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    return ntohs(sa.sin_port);
}

/* A port with nothing listening: a clear 503-class error once server selection gives up. */
static void test_mongo_down(void **state)
{
    struct mongo_source_config cfg = {0};
    struct mongo_source *ms;
    struct reading r;
    char uri[128];
    struct timespec t0, t1;

    (void)state;
    require_mongo();
    snprintf(uri, sizeof(uri), "mongodb://127.0.0.1:%d/?serverSelectionTimeoutMS=300",
             closed_port());
    cfg.uri = uri;
    ms = source_from(&cfg); /* no I/O yet: the read below is what finds the server gone */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(read_all(ms, "client-a", "user-a", &r), ERR_DEPENDENCY_UNAVAILABLE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("mongo down reported after %.0f ms: %s\n",
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6, r.err);
    assert_non_null(strstr(r.err, "mongodb"));
    assert_int_equal(r.sms.count, 0);
    assert_int_equal(r.u.apps_count, 0);
    assert_int_equal(mongo_source_ping(r.ms, r.err, sizeof(r.err)), ERR_DEPENDENCY_UNAVAILABLE);
    reading_free(&r);
}

/*
 * Users written by tools/gen-users and loaded by tools/load-user (several
 * overlapping syncs each): the source must agree with load-user --stat, the
 * data model's reference reading, and with the generated files. MONGO_USERS
 * names a file of lines "<db> <client_id> <user_id> <user.json> <stat json>"
 * written by tests/integration/test_ins_sources.sh.
 */
static void check_generated_user(const char *db, const char *client, const char *user,
                                 const char *file, const char *stat_text)
{
    struct mongo_source_config cfg = {0};
    struct reading r;
    json_t *stat = json_loads(stat_text, 0, NULL);
    json_t *src = json_load_file(file, 0, NULL);

    assert_non_null(stat);
    assert_non_null(src);
    cfg.uri = mongo_uri;
    cfg.database = db;
    assert_int_equal(read_all(source_from(&cfg), client, user, &r), ERR_OK);
    assert_int_equal(r.sms.count, json_integer_value(json_object_get(stat, "sms_unique")));
    assert_int_equal(r.sms.count, json_array_size(json_object_get(src, "sms")));
    assert_int_equal(r.u.apps_count, json_integer_value(json_object_get(stat, "apps_unique")));
    assert_string_equal(r.u.device.model, json_string_value(json_object_get(stat, "device_model")));
    assert_int_equal(r.u.device.captured_ts,
                     json_integer_value(json_object_get(stat, "device_captured_at")) / 1000);
    /* every generated message is there once, with its body and time */
    json_t *items = json_object_get(src, "sms"), *it;
    size_t i;
    size_t matched = 0;
    json_array_foreach(items, i, it)
    {
        const char *id = json_string_value(json_object_get(it, "sms_id"));
        for (size_t k = 0; k < r.sms.count; k++) {
            if (strcmp(r.sms.items[k].sms_id, id) != 0)
                continue;
            assert_string_equal(r.sms.items[k].body,
                                json_string_value(json_object_get(it, "sms_body")));
            assert_int_equal(r.sms.items[k].ts,
                             json_integer_value(json_object_get(it, "sms_inbox_date")) / 1000);
            matched++;
            break;
        }
    }
    assert_int_equal(matched, r.sms.count);
    for (size_t k = 1; k < r.sms.count; k++)
        assert_true(r.sms.items[k - 1].ts <= r.sms.items[k].ts);
    json_decref(stat);
    json_decref(src);
    reading_free(&r);
}

static void test_generated_users(void **state)
{
    const char *path = getenv("MONGO_USERS");
    char line[4096];
    int n = 0;

    (void)state;
    if (!need_mongo() || !path || !*path) {
        if (mongo_uri)
            printf("SKIP: MONGO_USERS not set (tests/integration/test_ins_sources.sh sets it)\n");
        skip();
        return;
    }
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *save = NULL;
        char *db = strtok_r(line, " ", &save);
        char *client = strtok_r(NULL, " ", &save);
        char *user = strtok_r(NULL, " ", &save);
        char *file = strtok_r(NULL, " ", &save);
        char *stat = strtok_r(NULL, "\n", &save);
        assert_non_null(stat);
        check_generated_user(db, client, user, file, stat);
        n++;
    }
    fclose(f);
    assert_true(n > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_merge_dedupe),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_as_of),
        cmocka_unit_test(test_empty_and_not_found),
        cmocka_unit_test(test_other_client_isolated),
        cmocka_unit_test(test_odd_items),
        cmocka_unit_test(test_enabled_sources),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_mongo_down),
        cmocka_unit_test(test_generated_users),
    };
    return cmocka_run_group_tests(tests, load_fixture, drop_fixture);
}
