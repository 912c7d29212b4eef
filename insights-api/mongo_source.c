/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a user's synced phone data from MongoDB sync_db. The SDK syncs
 * several times, and each sync request leaves one document per collection
 * (docs/data-model.md): SMS batches that overlap, app snapshots, device
 * snapshots. The features need one picture of the user, so the documents are
 * merged here, oldest sync first so that the latest copy of anything wins.
 *
 * DESIGN. Queries use only what every MongoDB-compatible server does the
 * same way: an equality filter on {client_id, user_id}, a sort, and a
 * projection of top-level fields. Array items are walked in C with bson
 * iterators (no array-path projection, no server-side dedupe), which also
 * means one pass over the bytes with no intermediate copies. The pool is
 * libmongoc's; its wait queue gets the timeout libmongoc does not enforce
 * (DI_MONGODB_WAIT_QUEUE_TIMEOUT_MS) by polling try_pop. Nothing here logs,
 * and error texts carry server and query status, never document values.
 */
#include <bson/bson.h>

#include "common/alloc.h"
#include <math.h>
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/ist_date.h"
#include "insights-api/extraction_client.h"
#include "insights-api/mongo_source.h"

#define DEFAULT_DB "sync_db"
#define DEFAULT_PORT 27017
#define DEFAULT_MAX_POOL 40
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_WAIT_QUEUE_MS 5000
#define POP_POLL_US 2000
#define EPOCH_MS_ABOVE 2e10 /* pydantic's rule: a larger epoch value is milliseconds */

enum {
    SRC_SMS = 1u,
    SRC_APPS = 2u,
    SRC_DEVICE = 4u,
};

struct mongo_source {
    mongoc_uri_t *uri;
    mongoc_client_pool_t *pool;
    char *database;
    unsigned enabled; /* SRC_* bits */
    long wait_queue_ms;
    size_t max_sms;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/*
 * libmongoc logs its topology monitor's chatter (every failed heartbeat) at
 * DEBUG/INFO to stderr; keep warnings and errors only (they carry hosts and
 * error texts, never document values).
 */
static void quiet_log(mongoc_log_level_t level, const char *domain, const char *message, void *arg)
{
    if (level <= MONGOC_LOG_LEVEL_WARNING)
        mongoc_log_default_handler(level, domain, message, arg);
}

static void init_driver(void)
{
    mongoc_init();
    mongoc_log_set_handler(quiet_log, NULL);
}

/* ---- configuration ------------------------------------------------------ */

static long or_default(long v, long def)
{
    return v > 0 ? v : def;
}

static bool empty(const char *s)
{
    return !s || !*s;
}

/* "sms,apps,device" (any subset, any order, spaces allowed); "" = all. */
static int parse_sources(const char *list, unsigned *out, char *err, size_t err_len)
{
    const char *p = list;

    *out = 0;
    if (empty(list)) {
        *out = SRC_SMS | SRC_APPS | SRC_DEVICE;
        return 0;
    }
    while (*p) {
        size_t n;

        while (*p == ' ' || *p == ',')
            p++;
        n = strcspn(p, ", ");
        if (n == 0)
            break;
        if (n == 3 && strncmp(p, "sms", 3) == 0)
            *out |= SRC_SMS;
        else if (n == 4 && strncmp(p, "apps", 4) == 0)
            *out |= SRC_APPS;
        else if (n == 6 && strncmp(p, "device", 6) == 0)
            *out |= SRC_DEVICE;
        else {
            snprintf(err, err_len,
                     "DI_MONGODB_ENABLED_SOURCES: unknown source '%.*s' (expected sms, apps, "
                     "device)",
                     (int)(n > 32 ? 32 : n), p);
            return -1;
        }
        p += n;
    }
    return 0;
}

static mongoc_uri_t *uri_from_parts(const struct mongo_source_config *cfg, char *err,
                                    size_t err_len)
{
    mongoc_uri_t *uri;

    if (empty(cfg->host)) {
        snprintf(err, err_len, "DI_MONGODB_HOST (or DI_MONGODB_URI) is not set");
        return NULL;
    }
    if (cfg->port < 0 || cfg->port > 65535) {
        snprintf(err, err_len, "DI_MONGODB_PORT %ld: expected 1..65535", cfg->port);
        return NULL;
    }
    uri = mongoc_uri_new_for_host_port(cfg->host, (uint16_t)or_default(cfg->port, DEFAULT_PORT));
    if (!uri) {
        snprintf(err, err_len, "DI_MONGODB_HOST: not a valid host name");
        return NULL;
    }
    if (!empty(cfg->username) &&
        (!mongoc_uri_set_username(uri, cfg->username) ||
         !mongoc_uri_set_password(uri, cfg->password ? cfg->password : ""))) {
        snprintf(err, err_len, "DI_MONGODB_USERNAME/PASSWORD: not valid UTF-8");
        mongoc_uri_destroy(uri);
        return NULL;
    }
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_MAXPOOLSIZE,
                                   (int32_t)or_default(cfg->max_pool_size, DEFAULT_MAX_POOL));
    mongoc_uri_set_option_as_int32(
        uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
        (int32_t)or_default(cfg->server_selection_timeout_ms, DEFAULT_TIMEOUT_MS));
    mongoc_uri_set_option_as_int32(
        uri, MONGOC_URI_CONNECTTIMEOUTMS,
        (int32_t)or_default(cfg->connect_timeout_ms, DEFAULT_TIMEOUT_MS));
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS,
                                   (int32_t)or_default(cfg->socket_timeout_ms, DEFAULT_TIMEOUT_MS));
    mongoc_uri_set_option_as_bool(uri, MONGOC_URI_RETRYWRITES, cfg->retry_writes);
    mongoc_uri_set_option_as_bool(uri, MONGOC_URI_RETRYREADS, true);
    mongoc_uri_set_option_as_utf8(uri, MONGOC_URI_APPNAME, "insights-api");
    return uri;
}

static int check_config(const struct mongo_source_config *cfg, char *err, size_t err_len)
{
    if (cfg->max_pool_size < 0 || cfg->max_pool_size > 10000) {
        snprintf(err, err_len, "DI_MONGODB_MAX_POOL_SIZE %ld: expected 1..10000",
                 cfg->max_pool_size);
        return -1;
    }
    if (cfg->min_pool_size < 0 ||
        cfg->min_pool_size > or_default(cfg->max_pool_size, DEFAULT_MAX_POOL)) {
        snprintf(err, err_len, "DI_MONGODB_MIN_POOL_SIZE %ld: expected 0..max pool size",
                 cfg->min_pool_size);
        return -1;
    }
    if (cfg->server_selection_timeout_ms < 0 || cfg->connect_timeout_ms < 0 ||
        cfg->socket_timeout_ms < 0 || cfg->wait_queue_timeout_ms < 0 || cfg->max_sms < 0) {
        snprintf(err, err_len, "DI_MONGODB_*_TIMEOUT_MS: must not be negative");
        return -1;
    }
    return 0;
}

/* Create min_pool_size clients up front (no I/O: connections open on first use). */
static void prewarm(struct mongo_source *ms, long n)
{
    mongoc_client_t *c[256];
    long k = 0;

    for (; k < n && k < 256; k++) {
        c[k] = mongoc_client_pool_try_pop(ms->pool);
        if (!c[k])
            break;
    }
    while (k > 0)
        mongoc_client_pool_push(ms->pool, c[--k]);
}

struct mongo_source *mongo_source_new(const struct mongo_source_config *cfg, char *err,
                                      size_t err_len)
{
    struct mongo_source *ms = alloc_zeroed(1, sizeof(*ms));
    bson_error_t berr;
    const char *db;

    pthread_once(&init_once, init_driver);
    if (check_config(cfg, err, err_len) < 0 ||
        parse_sources(cfg->enabled_sources, &ms->enabled, err, err_len) < 0)
        goto fail;
    if (!empty(cfg->uri)) {
        ms->uri = mongoc_uri_new_with_error(cfg->uri, &berr);
        if (!ms->uri) {
            /* libmongoc's message may quote the URI, password included: not copied */
            snprintf(err, err_len, "DI_MONGODB_URI is not a valid MongoDB connection string");
            goto fail;
        }
    } else if (!(ms->uri = uri_from_parts(cfg, err, err_len))) {
        goto fail;
    }
    db = !empty(cfg->database) ? cfg->database : mongoc_uri_get_database(ms->uri);
    ms->database = strdup(!empty(db) ? db : DEFAULT_DB);
    ms->pool = mongoc_client_pool_new_with_error(ms->uri, &berr);
    if (!ms->database || !ms->pool) {
        snprintf(err, err_len, "MongoDB client pool: %s",
                 ms->pool ? "out of memory" : berr.message);
        goto fail;
    }
    mongoc_client_pool_set_error_api(ms->pool, MONGOC_ERROR_API_VERSION_2);
    ms->wait_queue_ms = or_default(cfg->wait_queue_timeout_ms, DEFAULT_WAIT_QUEUE_MS);
    ms->max_sms = cfg->max_sms > 0 && cfg->max_sms < USER_DATA_MAX_SMS ? (size_t)cfg->max_sms
                                                                       : USER_DATA_MAX_SMS;
    prewarm(ms, cfg->min_pool_size);
    return ms;
fail:
    mongo_source_free(ms);
    return NULL;
}

void mongo_source_free(struct mongo_source *ms)
{
    if (!ms)
        return;
    if (ms->pool)
        mongoc_client_pool_destroy(ms->pool);
    if (ms->uri)
        mongoc_uri_destroy(ms->uri);
    free(ms->database);
    free(ms);
}

/* ---- pool --------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static mongoc_client_t *pop(struct mongo_source *ms, char *err, size_t err_len)
{
    int64_t deadline = now_ms() + ms->wait_queue_ms;
    mongoc_client_t *c;
    struct timespec nap = {0, POP_POLL_US * 1000L};

    while (!(c = mongoc_client_pool_try_pop(ms->pool))) {
        if (now_ms() >= deadline) {
            snprintf(err, err_len,
                     "mongodb: no free pooled connection within %ld ms "
                     "(DI_MONGODB_WAIT_QUEUE_TIMEOUT_MS; raise DI_MONGODB_MAX_POOL_SIZE)",
                     ms->wait_queue_ms);
            return NULL;
        }
        nanosleep(&nap, NULL);
    }
    return c;
}

/* An error text without document values: connection-level messages only. */
static void describe(const char *what, const bson_error_t *e, char *err, size_t err_len)
{
    if (e->domain == MONGOC_ERROR_SERVER_SELECTION || e->domain == MONGOC_ERROR_STREAM ||
        e->domain == MONGOC_ERROR_CLIENT)
        snprintf(err, err_len, "mongodb %s: %.300s", what, e->message);
    else
        snprintf(err, err_len, "mongodb %s failed (error domain %u, code %u)", what, e->domain,
                 e->code);
}

enum err mongo_source_ping(struct mongo_source *ms, char *err, size_t err_len)
{
    bson_t *cmd = BCON_NEW("ping", BCON_INT32(1));
    mongoc_client_t *c = pop(ms, err, err_len);
    bson_error_t berr;
    enum err result = ERR_DEPENDENCY_UNAVAILABLE;

    if (c) {
        if (mongoc_client_command_simple(c, "admin", cmd, NULL, NULL, &berr))
            result = ERR_OK;
        else
            describe("ping", &berr, err, err_len);
        mongoc_client_pool_push(ms->pool, c);
    }
    bson_destroy(cmd);
    return result;
}

/* ---- values ------------------------------------------------------------- */

/* Unix seconds from an epoch number (s or ms), a BSON date or a date text; -1 = invalid. */
static int iter_time(const bson_iter_t *it, int64_t *out)
{
    double x;
    char ist[20];
    const char *why;
    uint32_t len;
    const char *s;

    switch (bson_iter_type(it)) {
    case BSON_TYPE_DATE_TIME:
        *out = (int64_t)floor((double)bson_iter_date_time(it) / 1000.0);
        return 0;
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DOUBLE:
        x = bson_iter_as_double(it);
        if (!isfinite(x) || fabs(x) > 1e15)
            return -1;
        *out = (int64_t)floor(fabs(x) > EPOCH_MS_ABOVE ? x / 1000.0 : x);
        return 0;
    case BSON_TYPE_UTF8:
        s = bson_iter_utf8(it, &len);
        if (ist_date_normalise(s, len, ist, &why) < 0)
            return -1;
        return ist_date_to_unix(ist, out);
    default:
        return -1;
    }
}

static const char *iter_str(const bson_iter_t *it, uint32_t *len)
{
    if (!BSON_ITER_HOLDS_UTF8(it))
        return NULL;
    return bson_iter_utf8(it, len);
}

static bool iter_number(const bson_iter_t *it)
{
    return BSON_ITER_HOLDS_INT32(it) || BSON_ITER_HOLDS_INT64(it) || BSON_ITER_HOLDS_DOUBLE(it);
}

/* ---- items -------------------------------------------------------------- */

/* One SMS item into the raw list; an item missing an id, body or time is skipped. */
static int take_sms_item(bson_iter_t *item, struct raw_sms_list *sms)
{
    const char *id = NULL, *sender = NULL, *body = NULL;
    uint32_t id_len = 0, sender_len = 0, body_len = 0;
    char idbuf[24];
    int64_t ts = 0;
    bool have_ts = false;

    while (bson_iter_next(item)) {
        const char *k = bson_iter_key(item);

        if (strcmp(k, "sms_id") == 0) {
            if (BSON_ITER_HOLDS_INT32(item) || BSON_ITER_HOLDS_INT64(item)) {
                id_len = (uint32_t)snprintf(idbuf, sizeof(idbuf), "%lld",
                                            (long long)bson_iter_as_int64(item));
                id = idbuf;
            } else {
                id = iter_str(item, &id_len);
            }
        } else if (strcmp(k, "sms_sender") == 0) {
            sender = iter_str(item, &sender_len);
        } else if (strcmp(k, "sms_body") == 0) {
            body = iter_str(item, &body_len);
        } else if (strcmp(k, "sms_inbox_date") == 0) {
            have_ts = iter_time(item, &ts) == 0;
        }
    }
    if (!id || id_len == 0 || id_len > USER_DATA_ID_MAX || !body || !have_ts)
        return 0;
    return raw_sms_list_add(sms, id, id_len, sender, sender_len, body, body_len, ts);
}

/*
 * One app item; a later document's copy of the same package replaces the
 * earlier one, unless it was installed after as_of (then the earlier stays).
 */
static int take_app_item(bson_iter_t *item, int64_t as_of, struct user_data *u)
{
    const char *pkg = NULL, *name = NULL;
    uint32_t pkg_len = 0, name_len = 0;
    int64_t inst = 0, upd = 0;
    bool sys = false;
    struct app_fact *a;
    char key[512];

    while (bson_iter_next(item)) {
        const char *k = bson_iter_key(item);

        if (strcmp(k, "package_name") == 0)
            pkg = iter_str(item, &pkg_len);
        else if (strcmp(k, "app_name") == 0)
            name = iter_str(item, &name_len);
        else if (strcmp(k, "install_time") == 0 && iter_time(item, &inst) < 0)
            inst = 0;
        else if (strcmp(k, "update_time") == 0 && iter_time(item, &upd) < 0)
            upd = 0;
        else if (strcmp(k, "is_system") == 0)
            sys = bson_iter_as_bool(item);
    }
    if (!pkg || pkg_len == 0 || pkg_len >= sizeof(key))
        return 0;
    if (user_data_app_after(&(struct app_fact){.install_ts = inst}, as_of))
        return 0;
    memcpy(key, pkg, pkg_len);
    key[pkg_len] = '\0';
    a = user_data_find_app(u, key);
    if (!a) {
        a = user_data_add_app(u);
        if (!a)
            return -1;
        a->package_name = user_data_strndup(u, pkg, pkg_len);
    }
    a->app_name = user_data_strndup(u, name, name_len);
    a->install_ts = inst;
    a->update_ts = upd;
    a->is_system = sys;
    return 0;
}

static void take_device(bson_iter_t *it, struct user_data *u, struct device_fact *d)
{
    uint32_t len;
    const char *s;

    user_data_device_clear(d);
    while (bson_iter_next(it)) {
        const char *k = bson_iter_key(it);

        if ((s = iter_str(it, &len))) {
            if (strcmp(k, "brand") == 0)
                d->brand = user_data_strndup(u, s, len);
            else if (strcmp(k, "model") == 0)
                d->model = user_data_strndup(u, s, len);
            else if (strcmp(k, "manufacturer") == 0)
                d->manufacturer = user_data_strndup(u, s, len);
            else if (strcmp(k, "os_version") == 0)
                d->os_version = user_data_strndup(u, s, len);
        } else if (strcmp(k, "captured_at") == 0) {
            if (iter_time(it, &d->captured_ts) < 0)
                d->captured_ts = 0;
        } else if (iter_number(it)) {
            if (strcmp(k, "sdk_int") == 0)
                d->sdk_int = (int)bson_iter_as_int64(it);
            else if (strcmp(k, "total_ram_mb") == 0)
                d->total_ram_mb = bson_iter_as_double(it);
            else if (strcmp(k, "total_storage_mb") == 0)
                d->total_storage_mb = bson_iter_as_double(it);
        }
    }
}

/* ---- queries ------------------------------------------------------------ */

struct reader {
    struct user_data *u;
    struct raw_sms_list *sms;
    int64_t as_of; /* facts dated after it are not taken */
    bool device_seen;
    size_t docs;
};

typedef int (*doc_fn)(struct reader *r, const bson_t *doc);

static int on_sms_doc(struct reader *r, const bson_t *doc)
{
    bson_iter_t it, arr, item;

    if (!bson_iter_init_find(&it, doc, "sms") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return 0;
    while (bson_iter_next(&arr))
        if (BSON_ITER_HOLDS_DOCUMENT(&arr) && bson_iter_recurse(&arr, &item) &&
            take_sms_item(&item, r->sms) < 0)
            return -1;
    return 0;
}

static int on_apps_doc(struct reader *r, const bson_t *doc)
{
    bson_iter_t it, arr, item;

    if (!bson_iter_init_find(&it, doc, "apps") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return 0;
    while (bson_iter_next(&arr))
        if (BSON_ITER_HOLDS_DOCUMENT(&arr) && bson_iter_recurse(&arr, &item) &&
            take_app_item(&item, r->as_of, r->u) < 0)
            return -1;
    return 0;
}

/*
 * Documents come oldest first: the last one with a device object wins,
 * among those not captured after as_of.
 */
static int on_device_doc(struct reader *r, const bson_t *doc)
{
    bson_iter_t it, dev;
    struct device_fact d;

    if (bson_iter_init_find(&it, doc, "device") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
        bson_iter_recurse(&it, &dev)) {
        take_device(&dev, r->u, &d);
        if (d.captured_ts > r->as_of)
            return 0;
        r->u->device = d;
        r->device_seen = true;
    }
    return 0;
}

/*
 * The end of a find over coll: a cursor error, when nothing failed before, becomes
 * dependency_unavailable described as "<doing> <coll>"; the query's objects are freed.
 */
static enum err find_finish(mongoc_collection_t *col, bson_t *filter, bson_t *opts,
                            mongoc_cursor_t *cur, enum err result, const char *doing,
                            const char *coll, char *err, size_t err_len)
{
    bson_error_t berr;

    if (result == ERR_OK && mongoc_cursor_error(cur, &berr)) {
        char what[96];

        snprintf(what, sizeof(what), "%s %s", doing, coll);
        describe(what, &berr, err, err_len);
        result = ERR_DEPENDENCY_UNAVAILABLE;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(opts);
    bson_destroy(filter);
    mongoc_collection_destroy(col);
    return result;
}

/*
 * All of the user's documents in one collection, oldest sync first (created_at,
 * then request_id, as docs/data-model.md orders them), only the field needed.
 */
static enum err read_collection(mongoc_client_t *c, const char *db, const char *coll,
                                const char *field, const char *client_id, const char *user_id,
                                struct reader *r, doc_fn fn, char *err, size_t err_len)
{
    mongoc_collection_t *col = mongoc_client_get_collection(c, db, coll);
    bson_t *filter = BCON_NEW("client_id", BCON_UTF8(client_id), "user_id", BCON_UTF8(user_id));
    bson_t *opts = BCON_NEW("sort", "{", "created_at", BCON_INT32(1), "request_id", BCON_INT32(1),
                            "}", "projection", "{", field, BCON_INT32(1), "}");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
    const bson_t *doc;
    enum err result = ERR_OK;

    while (mongoc_cursor_next(cur, &doc)) {
        r->docs++;
        if (fn(r, doc) < 0) {
            snprintf(err, err_len, "mongodb %s: more than the per-user cap of items", coll);
            result = ERR_INTERNAL;
            break;
        }
    }
    return find_finish(col, filter, opts, cur, result, "find in", coll, err, err_len);
}

static enum err read_all(struct mongo_source *ms, mongoc_client_t *c, const char *client_id,
                         const char *user_id, unsigned want, struct reader *r, char *err,
                         size_t err_len)
{
    enum err e = ERR_OK;

    if (want & SRC_SMS)
        e = read_collection(c, ms->database, MONGO_SOURCE_SMS_COLLECTION, "sms", client_id, user_id,
                            r, on_sms_doc, err, err_len);
    if (e == ERR_OK && (want & SRC_APPS))
        e = read_collection(c, ms->database, MONGO_SOURCE_APPS_COLLECTION, "apps", client_id,
                            user_id, r, on_apps_doc, err, err_len);
    if (e == ERR_OK && (want & SRC_DEVICE))
        e = read_collection(c, ms->database, MONGO_SOURCE_DEVICE_COLLECTION, "device", client_id,
                            user_id, r, on_device_doc, err, err_len);
    return e;
}

/* Undo a failed read: u back to no apps/device, sms empty. */
static void reset_user(struct user_data *u, struct raw_sms_list *sms, size_t apps_before)
{
    u->apps_count = apps_before;
    user_data_device_clear(&u->device);
    raw_sms_list_free(sms);
    raw_sms_list_init(sms);
}

static void set_states(struct user_data *u, struct raw_sms_list *sms, unsigned want,
                       const struct reader *r)
{
    u->sms_state = !(want & SRC_SMS) ? SOURCE_NOT_ASKED : sms->count ? u->sms_state : SOURCE_EMPTY;
    u->apps_state = !(want & SRC_APPS) ? SOURCE_NOT_ASKED
                    : u->apps_count    ? SOURCE_OK
                                       : SOURCE_EMPTY;
    u->device_state = !(want & SRC_DEVICE) ? SOURCE_NOT_ASKED
                      : r->device_seen     ? SOURCE_OK
                                           : SOURCE_EMPTY;
}

enum err mongo_source_read(struct mongo_source *ms, const char *client_id, const char *user_id,
                           bool want_sms, bool want_apps, bool want_device, size_t max_sms,
                           int64_t as_of, struct user_data *u, struct raw_sms_list *sms,
                           bool *found, char *err, size_t err_len)
{
    unsigned want = ((want_sms ? SRC_SMS : 0u) | (want_apps ? SRC_APPS : 0u) |
                     (want_device ? SRC_DEVICE : 0u)) &
                    ms->enabled;
    struct reader r = {.u = u, .sms = sms, .as_of = as_of};
    size_t apps_before = u->apps_count;
    mongoc_client_t *c;
    enum err e;

    if (err_len)
        err[0] = '\0';
    *found = true;
    if (!client_id || !user_id) {
        snprintf(err, err_len, "mongodb: client_id and user_id are required");
        return ERR_INTERNAL;
    }
    if (want == 0) {
        set_states(u, sms, want, &r);
        return ERR_OK;
    }
    c = pop(ms, err, err_len);
    if (!c)
        return ERR_DEPENDENCY_UNAVAILABLE;
    e = read_all(ms, c, client_id, user_id, want, &r, err, err_len);
    mongoc_client_pool_push(ms->pool, c);
    if (e == ERR_OK && r.docs == 0) {
        reset_user(u, sms, apps_before);
        *found = false;
        return ERR_OK;
    }
    if (e != ERR_OK) {
        reset_user(u, sms, apps_before);
        return e;
    }
    if (max_sms == 0 || max_sms > ms->max_sms)
        max_sms = ms->max_sms;
    raw_sms_list_dedupe(sms);
    raw_sms_list_sort(sms);
    raw_sms_list_cut(sms, as_of);
    raw_sms_list_keep_latest(sms, max_sms);
    set_states(u, sms, want, &r);
    user_data_cut(u, as_of);
    return ERR_OK;
}

/* ------------------------------------------------------------ the stamp */

/* FNV-1a of one document's bytes (the projected {_id}). */
static uint64_t doc_hash(const bson_t *doc)
{
    const uint8_t *p = bson_get_data(doc);
    uint64_t h = 1469598103934665603ull;

    for (uint32_t i = 0; i < doc->len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Adds one collection's documents of the user to *count and *sum (order does not matter). */
static enum err stamp_collection(mongoc_client_t *c, const char *db, const char *coll,
                                 const char *client_id, const char *user_id, size_t *count,
                                 uint64_t *sum, char *err, size_t err_len)
{
    mongoc_collection_t *col = mongoc_client_get_collection(c, db, coll);
    bson_t *filter = BCON_NEW("client_id", BCON_UTF8(client_id), "user_id", BCON_UTF8(user_id));
    bson_t *opts = BCON_NEW("projection", "{", "_id", BCON_INT32(1), "}");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
    const bson_t *doc;

    while (mongoc_cursor_next(cur, &doc)) {
        (*count)++;
        *sum += doc_hash(doc);
    }
    return find_finish(col, filter, opts, cur, ERR_OK, "stamp of", coll, err, err_len);
}

enum err mongo_source_stamp(struct mongo_source *ms, const char *client_id, const char *user_id,
                            char out[MONGO_SOURCE_STAMP_MAX + 1], bool *found, char *err,
                            size_t err_len)
{
    static const struct {
        unsigned bit;
        const char *name;
    } colls[] = {{SRC_SMS, MONGO_SOURCE_SMS_COLLECTION},
                 {SRC_APPS, MONGO_SOURCE_APPS_COLLECTION},
                 {SRC_DEVICE, MONGO_SOURCE_DEVICE_COLLECTION}};
    size_t count = 0;
    uint64_t sum = 0;
    mongoc_client_t *c;
    enum err e = ERR_OK;

    out[0] = '\0';
    *found = false;
    if (err_len)
        err[0] = '\0';
    c = pop(ms, err, err_len);
    if (!c)
        return ERR_DEPENDENCY_UNAVAILABLE;
    for (size_t i = 0; i < sizeof(colls) / sizeof(colls[0]) && e == ERR_OK; i++)
        if (ms->enabled & colls[i].bit)
            e = stamp_collection(c, ms->database, colls[i].name, client_id, user_id, &count, &sum,
                                 err, err_len);
    mongoc_client_pool_push(ms->pool, c);
    if (e != ERR_OK)
        return e;
    *found = count > 0;
    snprintf(out, MONGO_SOURCE_STAMP_MAX + 1, "%zu-%016llx", count, (unsigned long long)sum);
    return ERR_OK;
}
