/* SPDX-License-Identifier: Apache-2.0 */
/*
 * load-user: put users written by tools/gen-users into MongoDB sync_db the way the sync
 * pipeline leaves them, so insights-api can be tested against data it will really meet.
 * Each user is split into several sync requests (--syncs, default 3): SMS batches that
 * overlap a little (the SDK re-sends recent messages), app snapshots that grow over time and
 * device snapshots that change, one document per request and collection, exactly as
 * docs/data-model.md describes. Readers must therefore merge: that is the point.
 *
 *   load-user [--uri URI] [--db NAME] [--syncs N] [--drop] USER.json...
 *   load-user [--uri URI] [--db NAME] --stat --client-id C --user-id U
 *
 * --stat reads one user back with a find on {client_id, user_id}, merges the documents by
 * the data model's rules (SMS deduplicated by sms_id, apps by package_name, latest device
 * document wins) and prints the counts as one JSON line. It is the reference reading of the
 * data model and what tests/integration/test_gen_users.sh checks against. URI defaults to
 * $MONGO_URI, NAME to sync_db. SMS bodies are never printed.
 */
#include <bson/bson.h>

#include "common/alloc.h"
#include <getopt.h>
#include <jansson.h>
#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_COLL_SMS "sms_sync_request_sms_data"
#define LOAD_COLL_APPS "device_sync_request_apps_data"
#define LOAD_COLL_DEVICE "device_sync_request_device_data"
#define LOAD_MAX_SYNCS 10
#define LOAD_SYNC_LAG_MS (5 * 60 * 1000) /* a sync request lands a few minutes after its data */

struct load_opts {
    const char *uri;
    const char *db;
    const char *client_id;
    const char *user_id;
    int syncs;
    bool drop;
    bool stat;
};

/* One user file, validated: the JSON tree owns everything, the rest borrow from it. */
struct load_user {
    json_t *root;
    const char *client_id;
    const char *user_id;
    json_t *sms;     /* array */
    json_t *apps;    /* array */
    json_t *device;  /* object */
    json_t *history; /* array of older device objects, may be NULL */
};

/* ---- JSON -> BSON ------------------------------------------------------------------ */

static bool append_json(bson_t *b, const char *key, const json_t *v);

static bool append_object(bson_t *b, const char *key, const json_t *obj)
{
    bson_t child;
    const char *k;
    json_t *item;
    bool ok = true;

    if (!bson_append_document_begin(b, key, -1, &child))
        return false;
    json_object_foreach((json_t *)obj, k, item)
    {
        if (!append_json(&child, k, item)) {
            ok = false;
            break;
        }
    }
    return bson_append_document_end(b, &child) && ok;
}

static bool append_array(bson_t *b, const char *key, const json_t *arr)
{
    bson_t child;
    char buf[16];
    const char *k;
    size_t i;
    json_t *item;
    bool ok = true;

    if (!bson_append_array_begin(b, key, -1, &child))
        return false;
    json_array_foreach(arr, i, item)
    {
        bson_uint32_to_string((uint32_t)i, &k, buf, sizeof buf);
        if (!append_json(&child, k, item)) {
            ok = false;
            break;
        }
    }
    return bson_append_array_end(b, &child) && ok;
}

/* Numbers become int64 or double; readers accept any BSON number (docs/data-model.md). */
static bool append_json(bson_t *b, const char *key, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return append_object(b, key, v);
    case JSON_ARRAY:
        return append_array(b, key, v);
    case JSON_STRING:
        return bson_append_utf8(b, key, -1, json_string_value(v), (int)json_string_length(v));
    case JSON_INTEGER:
        return bson_append_int64(b, key, -1, json_integer_value(v));
    case JSON_REAL:
        return bson_append_double(b, key, -1, json_real_value(v));
    case JSON_TRUE:
        return bson_append_bool(b, key, -1, true);
    case JSON_FALSE:
        return bson_append_bool(b, key, -1, false);
    case JSON_NULL:
        return bson_append_null(b, key, -1);
    }
    return false;
}

/* ---- reading a user file ------------------------------------------------------------- */

static int64_t json_int_field(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);

    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static int user_check_sms(const json_t *sms, char *err, size_t err_len)
{
    size_t i;
    json_t *item;

    json_array_foreach(sms, i, item)
    {
        if (!json_is_string(json_object_get(item, "sms_id")) ||
            !json_is_string(json_object_get(item, "sms_sender")) ||
            !json_is_string(json_object_get(item, "sms_body")) ||
            !json_is_integer(json_object_get(item, "sms_inbox_date"))) {
            snprintf(err, err_len,
                     "sms[%zu]: needs string sms_id, sms_sender, sms_body and integer "
                     "sms_inbox_date",
                     i);
            return -1;
        }
    }
    return 0;
}

static int user_check_apps(const json_t *apps, char *err, size_t err_len)
{
    size_t i;
    json_t *item;

    json_array_foreach(apps, i, item)
    {
        if (!json_is_string(json_object_get(item, "package_name"))) {
            snprintf(err, err_len, "apps[%zu]: needs a string package_name", i);
            return -1;
        }
    }
    return 0;
}

static int user_load(const char *path, struct load_user *u, char *err, size_t err_len)
{
    json_error_t jerr;

    memset(u, 0, sizeof *u);
    u->root = json_load_file(path, 0, &jerr);
    if (!u->root) {
        if (jerr.line > 0)
            snprintf(err, err_len, "line %d: %s", jerr.line, jerr.text);
        else
            snprintf(err, err_len, "%s", jerr.text);
        return -1;
    }
    u->client_id = json_string_value(json_object_get(u->root, "client_id"));
    u->user_id = json_string_value(json_object_get(u->root, "user_id"));
    u->sms = json_object_get(u->root, "sms");
    u->apps = json_object_get(u->root, "apps");
    u->device = json_object_get(u->root, "device");
    u->history = json_object_get(u->root, "device_history");
    if (!u->client_id || !u->user_id || !json_is_array(u->sms) || !json_is_array(u->apps) ||
        !json_is_object(u->device) || (u->history && !json_is_array(u->history))) {
        snprintf(err, err_len,
                 "needs string client_id and user_id, arrays sms and apps, object device");
        return -1;
    }
    if (user_check_sms(u->sms, err, err_len) < 0 || user_check_apps(u->apps, err, err_len) < 0)
        return -1;
    return 0;
}

/* ---- planning the sync requests -------------------------------------------------------- */

static const json_t *sort_base;

static int cmp_sms_date(const void *a, const void *b)
{
    int64_t x = json_int_field(json_array_get(sort_base, *(const size_t *)a), "sms_inbox_date");
    int64_t y = json_int_field(json_array_get(sort_base, *(const size_t *)b), "sms_inbox_date");

    if (x != y)
        return x < y ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Indices of the SMS in time order (gen-users writes them so, but other files may not). */
static size_t *sms_order(const json_t *sms)
{
    size_t n = json_array_size(sms);
    size_t *idx = alloc_zeroed(n ? n : 1, sizeof *idx);

    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    sort_base = sms;
    qsort(idx, n, sizeof *idx, cmp_sms_date);
    sort_base = NULL;
    return idx;
}

/* A stable 32-hex request id from the user, the collection and the sync number. */
static void request_id(const struct load_user *u, const char *coll, int sync, char out[33])
{
    uint64_t h[2] = {1469598103934665603ULL, 1099511628211ULL * 7};
    const char *parts[2] = {u->user_id, coll};

    for (int k = 0; k < 2; k++) {
        for (int p = 0; p < 2; p++)
            for (const char *c = parts[p]; *c; c++)
                h[k] = (h[k] ^ (unsigned char)*c) * 1099511628211ULL;
        h[k] = (h[k] ^ (uint64_t)(sync + 1)) * 1099511628211ULL;
    }
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h[0], (unsigned long long)h[1]);
}

static void doc_header(bson_t *doc, const struct load_user *u, const char *coll, int sync,
                       int64_t created_ms)
{
    char rid[33];

    request_id(u, coll, sync, rid);
    BSON_APPEND_UTF8(doc, "client_id", u->client_id);
    BSON_APPEND_UTF8(doc, "user_id", u->user_id);
    BSON_APPEND_UTF8(doc, "request_id", rid);
    BSON_APPEND_DATE_TIME(doc, "created_at", created_ms);
}

static int insert(mongoc_collection_t *c, bson_t *doc, char *err, size_t err_len)
{
    bson_error_t berr;

    if (!mongoc_collection_insert_one(c, doc, NULL, NULL, &berr)) {
        snprintf(err, err_len, "insert into %s: %s", mongoc_collection_get_name(c), berr.message);
        return -1;
    }
    return 0;
}

/* The latest time anything in the file happened: the last sync lands after it. */
static int64_t user_last_ms(const struct load_user *u)
{
    int64_t last = json_int_field(u->device, "captured_at");
    size_t i;
    json_t *item;

    json_array_foreach(u->sms, i, item)
    {
        int64_t t = json_int_field(item, "sms_inbox_date");
        last = t > last ? t : last;
    }
    json_array_foreach(u->apps, i, item)
    {
        int64_t t = json_int_field(item, "update_time");
        last = t > last ? t : last;
        t = json_int_field(item, "install_time");
        last = t > last ? t : last;
    }
    return last + LOAD_SYNC_LAG_MS;
}

/*
 * SMS sync k of n carries the k-th slice of the messages in time order, plus the last 5%
 * (at most 50) of the previous slice again: the SDK re-sends what it is unsure was stored.
 */
static int put_sms(mongoc_collection_t *c, const struct load_user *u, const size_t *order, int n,
                   const int64_t *created, char *err, size_t err_len)
{
    size_t total = json_array_size(u->sms);

    for (int k = 0; k < n; k++) {
        size_t lo = total * (size_t)k / (size_t)n, hi = total * (size_t)(k + 1) / (size_t)n;
        size_t overlap = k ? (hi - lo) / 20 : 0;
        bson_t doc = BSON_INITIALIZER, arr;
        char buf[16];
        const char *key;
        int rc;

        if (hi == lo)
            continue;
        overlap = overlap > 50 ? 50 : overlap;
        lo -= overlap < lo ? overlap : lo;
        doc_header(&doc, u, LOAD_COLL_SMS, k, created[k]);
        bson_append_array_begin(&doc, "sms", -1, &arr);
        for (size_t i = lo; i < hi; i++) {
            bson_uint32_to_string((uint32_t)(i - lo), &key, buf, sizeof buf);
            append_json(&arr, key, json_array_get(u->sms, order[i]));
        }
        bson_append_array_end(&doc, &arr);
        rc = insert(c, &doc, err, err_len);
        bson_destroy(&doc);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* App sync k is a snapshot: every app installed by then. The last one lists them all. */
static int put_apps(mongoc_collection_t *c, const struct load_user *u, int n,
                    const int64_t *created, char *err, size_t err_len)
{
    for (int k = 0; k < n; k++) {
        bson_t doc = BSON_INITIALIZER, arr;
        char buf[16];
        const char *key;
        uint32_t count = 0;
        size_t i;
        json_t *item;
        int rc;

        doc_header(&doc, u, LOAD_COLL_APPS, k, created[k]);
        bson_append_array_begin(&doc, "apps", -1, &arr);
        json_array_foreach(u->apps, i, item)
        {
            if (k < n - 1 && json_int_field(item, "install_time") > created[k])
                continue;
            bson_uint32_to_string(count++, &key, buf, sizeof buf);
            append_json(&arr, key, item);
        }
        bson_append_array_end(&doc, &arr);
        rc = count ? insert(c, &doc, err, err_len) : 0;
        bson_destroy(&doc);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Device sync k carries the newest snapshot captured by then; the last carries the current. */
static int put_device(mongoc_collection_t *c, const struct load_user *u, int n,
                      const int64_t *created, char *err, size_t err_len)
{
    for (int k = 0; k < n; k++) {
        const json_t *snap = NULL;
        bson_t doc = BSON_INITIALIZER;
        size_t i;
        json_t *item;
        int rc;

        if (k == n - 1) {
            snap = u->device;
        } else {
            json_array_foreach(u->history, i, item)
            {
                int64_t t = json_int_field(item, "captured_at");
                if (t <= created[k] && (!snap || t > json_int_field(snap, "captured_at")))
                    snap = item;
            }
        }
        if (!snap)
            continue;
        doc_header(&doc, u, LOAD_COLL_DEVICE, k, created[k]);
        append_json(&doc, "device", snap);
        rc = insert(c, &doc, err, err_len);
        bson_destroy(&doc);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int drop_user(mongoc_database_t *db, const char *client_id, const char *user_id, char *err,
                     size_t err_len)
{
    const char *colls[3] = {LOAD_COLL_SMS, LOAD_COLL_APPS, LOAD_COLL_DEVICE};
    bson_t *filter = BCON_NEW("client_id", BCON_UTF8(client_id), "user_id", BCON_UTF8(user_id));
    bson_error_t berr;
    int rc = 0;

    for (int i = 0; i < 3 && rc == 0; i++) {
        mongoc_collection_t *c = mongoc_database_get_collection(db, colls[i]);
        if (!mongoc_collection_delete_many(c, filter, NULL, NULL, &berr)) {
            snprintf(err, err_len, "delete from %s: %s", colls[i], berr.message);
            rc = -1;
        }
        mongoc_collection_destroy(c);
    }
    bson_destroy(filter);
    return rc;
}

/* The indexes of docs/data-model.md; createIndexes is a no-op when they exist. */
static int ensure_indexes(mongoc_database_t *db, char *err, size_t err_len)
{
    const char *colls[3] = {LOAD_COLL_SMS, LOAD_COLL_APPS, LOAD_COLL_DEVICE};
    bson_error_t berr;

    for (int i = 0; i < 3; i++) {
        bson_t *cmd = BCON_NEW("createIndexes", BCON_UTF8(colls[i]), "indexes", "[", "{", "key",
                               "{", "client_id", BCON_INT32(1), "user_id", BCON_INT32(1), "}",
                               "name", BCON_UTF8("client_id_1_user_id_1"), "}", "]");
        bool ok = mongoc_database_write_command_with_opts(db, cmd, NULL, NULL, &berr);
        bson_destroy(cmd);
        if (!ok) {
            snprintf(err, err_len, "createIndexes on %s: %s", colls[i], berr.message);
            return -1;
        }
    }
    bson_t *cmd =
        BCON_NEW("createIndexes", BCON_UTF8(LOAD_COLL_DEVICE), "indexes", "[", "{", "key", "{",
                 "request_id", BCON_INT32(1), "}", "name", BCON_UTF8("request_id_1"), "}", "]");
    bool ok = mongoc_database_write_command_with_opts(db, cmd, NULL, NULL, &berr);
    bson_destroy(cmd);
    if (!ok) {
        snprintf(err, err_len, "createIndexes on %s: %s", LOAD_COLL_DEVICE, berr.message);
        return -1;
    }
    return 0;
}

static int load_file(mongoc_database_t *db, const char *path, const struct load_opts *o, char *err,
                     size_t err_len)
{
    struct load_user u;
    int64_t created[LOAD_MAX_SYNCS];
    size_t *order = NULL;
    mongoc_collection_t *cs = NULL, *ca = NULL, *cd = NULL;
    int result = -1;

    if (user_load(path, &u, err, err_len) < 0)
        goto out;
    if (o->drop && drop_user(db, u.client_id, u.user_id, err, err_len) < 0)
        goto out;
    order = sms_order(u.sms);
    size_t total = json_array_size(u.sms);
    for (int k = 0; k < o->syncs - 1; k++) {
        size_t hi = total * (size_t)(k + 1) / (size_t)o->syncs;
        int64_t t = hi ? json_int_field(json_array_get(u.sms, order[hi - 1]), "sms_inbox_date") : 0;
        created[k] = t + LOAD_SYNC_LAG_MS;
    }
    created[o->syncs - 1] = user_last_ms(&u);
    cs = mongoc_database_get_collection(db, LOAD_COLL_SMS);
    ca = mongoc_database_get_collection(db, LOAD_COLL_APPS);
    cd = mongoc_database_get_collection(db, LOAD_COLL_DEVICE);
    if (put_sms(cs, &u, order, o->syncs, created, err, err_len) < 0 ||
        put_apps(ca, &u, o->syncs, created, err, err_len) < 0 ||
        put_device(cd, &u, o->syncs, created, err, err_len) < 0)
        goto out;
    printf("loaded %s/%s: %zu sms, %zu apps in %d syncs\n", u.client_id, u.user_id, total,
           json_array_size(u.apps), o->syncs);
    result = 0;
out:
    mongoc_collection_destroy(cs);
    mongoc_collection_destroy(ca);
    mongoc_collection_destroy(cd);
    free(order);
    json_decref(u.root);
    return result;
}

/* ---- --stat: the reference reading ------------------------------------------------------ */

struct strset {
    char **v;
    size_t n, cap;
};

static void strset_add(struct strset *s, const char *str)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = alloc_resize(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n] = alloc_strdup(str);
    s->n++;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t strset_unique(struct strset *s)
{
    size_t u = 0;

    if (s->n == 0)
        return 0;
    qsort(s->v, s->n, sizeof *s->v, cmp_str);
    for (size_t i = 0; i < s->n; i++)
        u += i == 0 || strcmp(s->v[i], s->v[i - 1]) != 0;
    return u;
}

static void strset_free(struct strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

struct stat_coll {
    size_t docs, items;
    struct strset keys;
};

/* Walks the array 'field' of every document of the user, collecting each item's 'key'. */
static int stat_array(mongoc_collection_t *c, const bson_t *filter, const char *field,
                      const char *key, struct stat_coll *out, char *err, size_t err_len)
{
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, NULL, NULL);
    const bson_t *doc;
    bson_error_t berr;
    bson_iter_t it, arr, item;
    int rc = 0;

    while (mongoc_cursor_next(cur, &doc)) {
        out->docs++;
        if (!bson_iter_init_find(&it, doc, field) || !BSON_ITER_HOLDS_ARRAY(&it) ||
            !bson_iter_recurse(&it, &arr))
            continue;
        while (bson_iter_next(&arr)) {
            out->items++;
            if (BSON_ITER_HOLDS_DOCUMENT(&arr) && bson_iter_recurse(&arr, &item) &&
                bson_iter_find(&item, key) && BSON_ITER_HOLDS_UTF8(&item))
                strset_add(&out->keys, bson_iter_utf8(&item, NULL));
        }
    }
    if (mongoc_cursor_error(cur, &berr)) {
        snprintf(err, err_len, "find in %s: %s", mongoc_collection_get_name(c), berr.message);
        rc = -1;
    }
    mongoc_cursor_destroy(cur);
    return rc;
}

/* The device document with the latest created_at (ties: the greater request_id). */
static int stat_device(mongoc_collection_t *c, const bson_t *filter, json_t *out, char *err,
                       size_t err_len)
{
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, NULL, NULL);
    const bson_t *doc;
    bson_t *best = NULL;
    int64_t best_t = INT64_MIN;
    char best_rid[64] = "";
    size_t docs = 0;
    bson_error_t berr;
    bson_iter_t it;
    int rc = 0;

    while (mongoc_cursor_next(cur, &doc)) {
        int64_t t = INT64_MIN;
        const char *rid = "";
        docs++;
        if (bson_iter_init_find(&it, doc, "created_at") && BSON_ITER_HOLDS_DATE_TIME(&it))
            t = bson_iter_date_time(&it);
        if (bson_iter_init_find(&it, doc, "request_id") && BSON_ITER_HOLDS_UTF8(&it))
            rid = bson_iter_utf8(&it, NULL);
        if (!best || t > best_t || (t == best_t && strcmp(rid, best_rid) > 0)) {
            bson_destroy(best);
            best = bson_copy(doc);
            best_t = t;
            snprintf(best_rid, sizeof best_rid, "%s", rid);
        }
    }
    if (mongoc_cursor_error(cur, &berr)) {
        snprintf(err, err_len, "find in %s: %s", LOAD_COLL_DEVICE, berr.message);
        rc = -1;
    }
    json_object_set_new(out, "device_docs", json_integer((json_int_t)docs));
    if (best && bson_iter_init_find(&it, best, "device") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        bson_iter_t d;
        bson_iter_recurse(&it, &d);
        while (bson_iter_next(&d)) {
            const char *k = bson_iter_key(&d);
            if (strcmp(k, "model") == 0 && BSON_ITER_HOLDS_UTF8(&d))
                json_object_set_new(out, "device_model", json_string(bson_iter_utf8(&d, NULL)));
            else if (strcmp(k, "captured_at") == 0)
                json_object_set_new(out, "device_captured_at",
                                    json_integer((json_int_t)bson_iter_as_int64(&d)));
        }
    }
    bson_destroy(best);
    mongoc_cursor_destroy(cur);
    return rc;
}

static int stat_user(mongoc_database_t *db, const struct load_opts *o, char *err, size_t err_len)
{
    bson_t *filter =
        BCON_NEW("client_id", BCON_UTF8(o->client_id), "user_id", BCON_UTF8(o->user_id));
    mongoc_collection_t *cs = mongoc_database_get_collection(db, LOAD_COLL_SMS);
    mongoc_collection_t *ca = mongoc_database_get_collection(db, LOAD_COLL_APPS);
    mongoc_collection_t *cd = mongoc_database_get_collection(db, LOAD_COLL_DEVICE);
    struct stat_coll s = {0}, a = {0};
    json_t *out = json_object();
    int result = -1;

    if (stat_array(cs, filter, "sms", "sms_id", &s, err, err_len) < 0 ||
        stat_array(ca, filter, "apps", "package_name", &a, err, err_len) < 0)
        goto out;
    json_object_set_new(out, "sms_docs", json_integer((json_int_t)s.docs));
    json_object_set_new(out, "sms_items", json_integer((json_int_t)s.items));
    json_object_set_new(out, "sms_unique", json_integer((json_int_t)strset_unique(&s.keys)));
    json_object_set_new(out, "apps_docs", json_integer((json_int_t)a.docs));
    json_object_set_new(out, "apps_items", json_integer((json_int_t)a.items));
    json_object_set_new(out, "apps_unique", json_integer((json_int_t)strset_unique(&a.keys)));
    if (stat_device(cd, filter, out, err, err_len) < 0)
        goto out;
    char *text = json_dumps(out, JSON_COMPACT);
    if (!text)
        abort();
    puts(text);
    free(text);
    result = 0;
out:
    json_decref(out);
    strset_free(&s.keys);
    strset_free(&a.keys);
    mongoc_collection_destroy(cs);
    mongoc_collection_destroy(ca);
    mongoc_collection_destroy(cd);
    bson_destroy(filter);
    return result;
}

/* ---- main ---------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: load-user [--uri URI] [--db NAME] [--syncs N] [--drop] USER.json...\n"
          "       load-user [--uri URI] [--db NAME] --stat --client-id C --user-id U\n"
          "URI defaults to $MONGO_URI, NAME to sync_db, N (1-10) to 3.\n",
          f);
}

static int parse_args(int argc, char **argv, struct load_opts *o)
{
    static const struct option longopts[] = {{"uri", required_argument, NULL, 'u'},
                                             {"db", required_argument, NULL, 'd'},
                                             {"syncs", required_argument, NULL, 's'},
                                             {"drop", no_argument, NULL, 'D'},
                                             {"stat", no_argument, NULL, 'S'},
                                             {"client-id", required_argument, NULL, 'c'},
                                             {"user-id", required_argument, NULL, 'i'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int ch;
    char *end;

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'u':
            o->uri = optarg;
            break;
        case 'd':
            o->db = optarg;
            break;
        case 's':
            o->syncs = (int)strtol(optarg, &end, 10);
            if (*end || o->syncs < 1 || o->syncs > LOAD_MAX_SYNCS) {
                fprintf(stderr, "load-user: --syncs must be 1-%d\n", LOAD_MAX_SYNCS);
                return -1;
            }
            break;
        case 'D':
            o->drop = true;
            break;
        case 'S':
            o->stat = true;
            break;
        case 'c':
            o->client_id = optarg;
            break;
        case 'i':
            o->user_id = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (!o->uri || !*o->uri) {
        fputs("load-user: no MongoDB URI: set MONGO_URI or pass --uri\n", stderr);
        return -1;
    }
    if (o->stat ? (!o->client_id || !o->user_id) : optind >= argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct load_opts o = {.uri = getenv("MONGO_URI"), .db = "sync_db", .syncs = 3};
    char err[1024] = "";
    mongoc_client_t *client = NULL;
    mongoc_database_t *db = NULL;
    int rc = 1;

    if (parse_args(argc, argv, &o) < 0)
        return 2;
    mongoc_init();
    client = mongoc_client_new(o.uri);
    if (!client) {
        fputs("load-user: cannot parse the MongoDB URI\n", stderr);
        goto out;
    }
    mongoc_client_set_appname(client, "load-user");
    db = mongoc_client_get_database(client, o.db);
    if (o.stat) {
        rc = stat_user(db, &o, err, sizeof err) < 0;
        goto out;
    }
    if (ensure_indexes(db, err, sizeof err) < 0)
        goto out;
    rc = 0;
    for (int i = optind; i < argc && rc == 0; i++) {
        if (load_file(db, argv[i], &o, err, sizeof err) < 0) {
            fprintf(stderr, "load-user: %s: %s\n", argv[i], err);
            err[0] = '\0';
            rc = 1;
        }
    }
out:
    if (rc && err[0])
        fprintf(stderr, "load-user: %s\n", err);
    mongoc_database_destroy(db);
    mongoc_client_destroy(client);
    mongoc_cleanup();
    return rc;
}
