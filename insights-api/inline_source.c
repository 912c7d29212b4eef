/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The embedded path of insights-api: a lender (or `make run`) posts a user's
 * raw SMS, apps and device directly, with no MongoDB in between. The body
 * comes from outside, so it is validated field by field with the same
 * pydantic-style detail items sms-extraction returns, and turned into the
 * same raw form the MongoDB source builds, so nothing downstream knows which
 * path the data took.
 *
 * DESIGN. Validation collects every problem (up to a cap) before failing, as
 * FastAPI clients expect, and builds nothing until the body is known to be
 * good: a second pass converts. Echoed inputs are copies with every message
 * text and every nested list or object replaced by "[redacted]", so a 422
 * can never carry an SMS back to a log or a client.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ist_date.h"
#include "common/validation.h"
#include "insights-api/extraction_client.h"
#include "insights-api/inline_scan.h"
#include "insights-api/inline_source.h"

/* ---- echoed inputs, redacted -------------------------------------------- */

/* A scalar as is; a list or object as "[redacted]". */
static json_t *echo_scalar(const json_t *v)
{
    if (json_is_array(v) || json_is_object(v))
        return validation_redacted();
    return json_deep_copy(v);
}

/* Members whose string values may be echoed; any other string could hold message text. */
static const char *const ECHO_KEYS[] = {
    "client_id",      "user_id",      "sms_id",   "sms_sender",
    "sms_inbox_date", "package_name", "app_name", "install_time",
    "update_time",    "is_system",    NULL,
};

/*
 * An object one level deep, as sms-extraction echoes one: numbers, booleans
 * and null kept; strings kept only for the known id, sender, date and app
 * members; sms_body, unknown strings and every nested list or object redacted.
 */
static json_t *echo_object(const json_t *obj)
{
    json_t *out, *v;
    const char *key;

    if (!json_is_object(obj))
        return echo_scalar(obj);
    out = json_object();
    json_object_foreach((json_t *)obj, key, v)
    {
        if (json_is_string(v) && !validation_key_in(key, ECHO_KEYS))
            json_object_set_new(out, key, validation_redacted());
        else
            json_object_set_new(out, key, echo_scalar(v));
    }
    return out;
}

/* ---- detail items ------------------------------------------------------- */

/* Where a field sits: a top-level member, or member b of item idx of list a. */
struct where {
    const char *list; /* NULL for top-level fields */
    long idx;         /* -1 for a field of device_data */
};

static json_t *loc_of(const struct where *w, const char *key)
{
    if (!w->list)
        return validation_loc(key, -1, NULL);
    return validation_loc(w->list, w->idx, key);
}

/*
 * A string member (null allowed when !required). Returns 0 when acceptable,
 * -1 after recording why not. sms_body values are never echoed.
 */
static int check_string(struct validation *e, const json_t *obj, const char *key, bool required,
                        size_t max_chars, const struct where *w)
{
    const json_t *v = json_object_get(obj, key);
    bool secret = strcmp(key, "sms_body") == 0;

    if (!v || (json_is_null(v) && !required)) {
        if (!v && required) {
            validation_add(e, "missing", loc_of(w, key), "Field required", echo_object(obj), NULL);
            return -1;
        }
        return 0;
    }
    if (!json_is_string(v)) {
        validation_add(e, "string_type", loc_of(w, key), "Input should be a valid string",
                       secret ? validation_redacted() : echo_scalar(v), NULL);
        return -1;
    }
    if (max_chars &&
        validation_utf8_chars(json_string_value(v), json_string_length(v)) > max_chars) {
        validation_add_string_too_long(e, loc_of(w, key), echo_scalar(v), max_chars);
        return -1;
    }
    return 0;
}

/* sms_id: a string or an integer (returned as text), at most 128 characters. */
static int check_sms_id(struct validation *e, const json_t *item, const struct where *w)
{
    const json_t *v = json_object_get(item, "sms_id");

    if (json_is_integer(v))
        return 0;
    return check_string(e, item, "sms_id", true, USER_DATA_ID_MAX, w);
}

/* ---- times -------------------------------------------------------------- */

/* A time value as the extractor accepts it (inline_source.h; also the request's as_of). */
int inline_source_parse_time(const json_t *v, int64_t *ts, const char **why)
{
    char ist[20];
    long long epoch;

    *why = NULL;
    if (json_is_integer(v) || json_is_real(v)) {
        double x = json_number_value(v);

        if (!(x > -1e15 && x < 1e15)) {
            *why = "timestamp is out of range";
            return -1;
        }
        epoch = json_is_integer(v) ? (long long)json_integer_value(v) : (long long)floor(x);
        if (ist_from_epoch(epoch, ist) < 0) {
            *why = "timestamp is out of range";
            return -1;
        }
    } else if (json_is_string(v)) {
        if (ist_date_normalise(json_string_value(v), json_string_length(v), ist, why) < 0)
            return -1;
    } else {
        return -1;
    }
    if (ist_date_to_unix(ist, ts) < 0) {
        *why = "invalid date";
        return -1;
    }
    return 0;
}

int inline_source_check_past_time(struct validation *v, const char *field, const json_t *t,
                                  double latest, json_t *(*echo)(const json_t *), int64_t *ts)
{
    const char *why = NULL;
    char msg[160];

    if (inline_source_parse_time(t, ts, &why) < 0) {
        if (!why) {
            validation_add(v, "datetime_type", validation_loc(field, -1, NULL),
                           "Input should be a valid datetime", echo(t), NULL);
            return -1;
        }
        snprintf(msg, sizeof(msg), "Input should be a valid datetime or date, %s", why);
        validation_add(v, "datetime_from_date_parsing", validation_loc(field, -1, NULL), msg,
                       echo(t), json_pack("{s:s}", "error", why));
        return -1;
    }
    if ((double)*ts > latest) {
        validation_add(v, "datetime_past", validation_loc(field, -1, NULL),
                       "Input should be in the past", echo(t), NULL);
        return -1;
    }
    return 0;
}

static int check_time(struct validation *e, const json_t *obj, const char *key, bool required,
                      const struct where *w)
{
    const json_t *v = json_object_get(obj, key);
    const char *why;
    int64_t ts;
    char msg[160];

    if (!v) {
        if (!required)
            return 0;
        validation_add(e, "missing", loc_of(w, key), "Field required", echo_object(obj), NULL);
        return -1;
    }
    if (json_is_null(v) && !required)
        return 0;
    if (inline_source_parse_time(v, &ts, &why) == 0)
        return 0;
    if (!why) {
        validation_add(e, "datetime_type", loc_of(w, key), "Input should be a valid datetime",
                       echo_scalar(v), NULL);
        return -1;
    }
    snprintf(msg, sizeof(msg), "Input should be a valid datetime or date, %s", why);
    validation_add(e, "datetime_from_date_parsing", loc_of(w, key), msg, echo_scalar(v),
                   json_pack("{s:s}", "error", why));
    return -1;
}

/* Time member as Unix seconds, 0 when absent or null (already validated). */
static int64_t time_member(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    const char *why;
    int64_t ts = 0;

    if (!v || json_is_null(v) || inline_source_parse_time(v, &ts, &why) < 0)
        return 0;
    return ts;
}

/* ---- other scalar types ------------------------------------------------- */

static int check_bool(struct validation *e, const json_t *obj, const char *key,
                      const struct where *w)
{
    const json_t *v = json_object_get(obj, key);

    if (!v || json_is_null(v) || json_is_boolean(v))
        return 0;
    validation_add(e, "bool_type", loc_of(w, key), "Input should be a valid boolean",
                   echo_scalar(v), NULL);
    return -1;
}

static int check_number(struct validation *e, const json_t *obj, const char *key, bool integer,
                        const struct where *w)
{
    const json_t *v = json_object_get(obj, key);

    if (!v || json_is_null(v) || json_is_integer(v))
        return 0;
    if (!integer && json_is_real(v))
        return 0;
    if (integer)
        validation_add(e, "int_type", loc_of(w, key), "Input should be a valid integer",
                       echo_scalar(v), NULL);
    else
        validation_add(e, "float_type", loc_of(w, key), "Input should be a valid number",
                       echo_scalar(v), NULL);
    return -1;
}

/* ---- items -------------------------------------------------------------- */

static void check_sms_item(struct validation *e, const json_t *item, size_t i)
{
    struct where w = {"sms_data", (long)i};

    if (!json_is_object(item)) {
        /* a bare string in the SMS list may well be a message text: never echoed */
        validation_add(e, "model_type", validation_loc("sms_data", (long)i, NULL),
                       "Input should be a valid dictionary or instance of Sms",
                       validation_redacted(), NULL);
        return;
    }
    check_sms_id(e, item, &w);
    check_string(e, item, "sms_sender", false, 0, &w);
    check_string(e, item, "sms_body", true, 0, &w);
    check_time(e, item, "sms_inbox_date", true, &w);
}

static void check_app_item(struct validation *e, const json_t *item, size_t i)
{
    struct where w = {"apps_data", (long)i};

    if (!json_is_object(item)) {
        validation_add(e, "model_type", validation_loc("apps_data", (long)i, NULL),
                       "Input should be a valid dictionary or instance of App", echo_scalar(item),
                       NULL);
        return;
    }
    check_string(e, item, "package_name", true, 0, &w);
    check_string(e, item, "app_name", false, 0, &w);
    check_time(e, item, "install_time", false, &w);
    check_time(e, item, "update_time", false, &w);
    check_bool(e, item, "is_system", &w);
}

static const char *const DEVICE_STRINGS[] = {"brand", "model", "manufacturer", "os_version", NULL};

static void check_device(struct validation *e, const json_t *dev)
{
    struct where w = {"device_data", -1};

    if (!dev || json_is_null(dev))
        return;
    if (!json_is_object(dev)) {
        validation_add(e, "model_type", validation_loc("device_data", -1, NULL),
                       "Input should be a valid dictionary or instance of Device", echo_scalar(dev),
                       NULL);
        return;
    }
    for (size_t i = 0; DEVICE_STRINGS[i]; i++)
        check_string(e, dev, DEVICE_STRINGS[i], false, 0, &w);
    check_number(e, dev, "sdk_int", true, &w);
    check_number(e, dev, "total_ram_mb", false, &w);
    check_number(e, dev, "total_storage_mb", false, &w);
    check_time(e, dev, "captured_at", false, &w);
}

/*
 * A list member (null or absent = empty); items checked by check_item. With
 * scanned, the list in root is inline_scan.c's stand-in: its items, already
 * known to pass, are in scanned.
 */
static void check_list(struct validation *e, const json_t *root, const char *key, size_t max_items,
                       void (*check_item)(struct validation *, const json_t *, size_t),
                       const struct raw_sms_list *scanned)
{
    const json_t *list = json_object_get(root, key);
    size_t n;
    char msg[120];

    if (!list || json_is_null(list))
        return;
    if (!json_is_array(list)) {
        /* a string in place of the SMS list may be message text: not echoed */
        validation_add(e, "list_type", validation_loc(key, -1, NULL),
                       "Input should be a valid list",
                       json_is_string(list) ? validation_redacted() : echo_scalar(list), NULL);
        return;
    }
    n = scanned ? scanned->count : json_array_size(list);
    if (n > max_items) {
        snprintf(msg, sizeof(msg), "List should have at most %zu items after validation, not %zu",
                 max_items, n);
        validation_add(e, "too_long", validation_loc(key, -1, NULL), msg, validation_redacted(),
                       json_pack("{s:s,s:I,s:I}", "field_type", "List", "max_length",
                                 (json_int_t)max_items, "actual_length", (json_int_t)n));
        return;
    }
    for (size_t i = 0; i < n && !scanned && !validation_full(e); i++)
        check_item(e, json_array_get(list, i), i);
}

static void validate(struct validation *e, const json_t *root, size_t max_items,
                     const struct raw_sms_list *scanned)
{
    struct where top = {NULL, -1};

    if (!json_is_object(root)) {
        validation_add(e, "model_attributes_type", validation_loc(NULL, -1, NULL),
                       "Input should be a valid dictionary or object to extract fields from",
                       json_is_string(root) ? validation_redacted() : echo_scalar(root), NULL);
        return;
    }
    check_string(e, root, "client_id", true, USER_DATA_ID_MAX, &top);
    check_string(e, root, "user_id", true, USER_DATA_USER_ID_MAX, &top);
    check_list(e, root, "sms_data", max_items, check_sms_item, scanned);
    check_list(e, root, "apps_data", USER_DATA_MAX_APPS, check_app_item, NULL);
    check_device(e, json_object_get(root, "device_data"));
}

/* ---- conversion (after validation: every value has its type) ------------ */

static const char *str_of(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static size_t len_of(const json_t *obj, const char *key)
{
    return json_string_length(json_object_get(obj, key));
}

static int take_sms(const json_t *list, struct raw_sms_list *sms)
{
    size_t i;
    json_t *item;

    json_array_foreach((json_t *)list, i, item)
    {
        const json_t *id = json_object_get(item, "sms_id");
        char idbuf[24];
        const char *idp = idbuf;
        size_t idlen;

        if (json_is_integer(id)) {
            idlen =
                (size_t)snprintf(idbuf, sizeof(idbuf), "%lld", (long long)json_integer_value(id));
        } else {
            idp = json_string_value(id);
            idlen = json_string_length(id);
        }
        if (raw_sms_list_add(sms, idp, idlen, str_of(item, "sms_sender"),
                             len_of(item, "sms_sender"), str_of(item, "sms_body"),
                             len_of(item, "sms_body"), time_member(item, "sms_inbox_date")) < 0)
            return -1;
    }
    return 0;
}

/*
 * Apps: one per package; a later item for the same package replaces the
 * earlier one, unless it was installed after as_of (then the earlier stays).
 */
static void take_apps(const json_t *list, int64_t as_of, struct user_data *u)
{
    size_t i;
    json_t *item;

    json_array_foreach((json_t *)list, i, item)
    {
        const char *pkg = str_of(item, "package_name");
        struct app_fact *a, got = {.install_ts = time_member(item, "install_time")};

        if (user_data_app_after(&got, as_of))
            continue;
        a = user_data_find_app(u, pkg);
        if (!a) {
            a = user_data_add_app(u);
            a->package_name = user_data_strndup(u, pkg, len_of(item, "package_name"));
        }
        a->app_name = user_data_strndup(u, str_of(item, "app_name"), len_of(item, "app_name"));
        a->install_ts = got.install_ts;
        a->update_ts = time_member(item, "update_time");
        a->is_system = json_is_true(json_object_get(item, "is_system"));
    }
}

static double num_or_nan(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void take_device(const json_t *dev, struct user_data *u)
{
    struct device_fact *d = &u->device;

    user_data_device_clear(d);
    d->brand = user_data_strndup(u, str_of(dev, "brand"), len_of(dev, "brand"));
    d->model = user_data_strndup(u, str_of(dev, "model"), len_of(dev, "model"));
    d->manufacturer =
        user_data_strndup(u, str_of(dev, "manufacturer"), len_of(dev, "manufacturer"));
    d->os_version = user_data_strndup(u, str_of(dev, "os_version"), len_of(dev, "os_version"));
    d->sdk_int = (int)json_integer_value(json_object_get(dev, "sdk_int"));
    d->total_ram_mb = num_or_nan(dev, "total_ram_mb");
    d->total_storage_mb = num_or_nan(dev, "total_storage_mb");
    d->captured_ts = time_member(dev, "captured_at");
}

static int convert(const json_t *root, struct raw_sms_list *scanned, int64_t now, size_t max_sms,
                   struct user_data *u, struct raw_sms_list *sms)
{
    const json_t *apps = json_object_get(root, "apps_data");
    const json_t *dev = json_object_get(root, "device_data");

    user_data_init(u, str_of(root, "client_id"), str_of(root, "user_id"), now);
    if (scanned) {
        *sms = *scanned; /* taken over */
        raw_sms_list_init(scanned);
    } else if (take_sms(json_object_get(root, "sms_data"), sms) < 0) {
        return -1;
    }
    raw_sms_list_dedupe(sms);
    raw_sms_list_sort(sms);
    raw_sms_list_cut(sms, now);
    raw_sms_list_keep_latest(sms, max_sms);
    u->sms_state = sms->count ? SOURCE_NOT_ASKED : SOURCE_EMPTY;
    take_apps(apps, now, u);
    u->apps_state = u->apps_count ? SOURCE_OK : SOURCE_EMPTY;
    if (json_is_object(dev) && json_object_size(dev) > 0) {
        take_device(dev, u);
        u->device_state = SOURCE_OK;
    } else {
        u->device_state = SOURCE_EMPTY;
    }
    user_data_cut(u, now);
    return 0;
}

/* ---- entry points ------------------------------------------------------- */

int inline_source_parse_scanned(const json_t *root, struct raw_sms_list *scanned, int64_t now,
                                size_t max_sms, size_t max_items, struct user_data *u,
                                struct raw_sms_list *sms, json_t **detail)
{
    struct validation e;

    validation_init(&e, INLINE_SOURCE_MAX_ERRORS);
    *detail = NULL;
    if (max_items == 0 || max_items > USER_DATA_MAX_SMS)
        max_items = USER_DATA_MAX_SMS;
    raw_sms_list_init(sms);
    validate(&e, root, max_items, scanned);
    if (json_array_size(e.list) == 0) {
        if (convert(root, scanned, now, max_sms, u, sms) == 0) {
            json_decref(e.list);
            return 0;
        }
        /* only past USER_DATA_MAX_SMS, which validation already bounds */
        user_data_free(u);
        validation_add(&e, "too_long", validation_loc("sms_data", -1, NULL), "Too many messages",
                       validation_redacted(), NULL);
    }
    user_data_init(u, NULL, NULL, now);
    raw_sms_list_free(sms);
    *detail = e.list;
    return -1;
}

int inline_source_parse_json(const json_t *root, int64_t now, size_t max_sms, size_t max_items,
                             struct user_data *u, struct raw_sms_list *sms, json_t **detail)
{
    return inline_source_parse_scanned(root, NULL, now, max_sms, max_items, u, sms, detail);
}

int inline_source_parse(const char *body, size_t len, int64_t now, size_t max_sms, size_t max_items,
                        struct user_data *u, struct raw_sms_list *sms, json_t **detail)
{
    struct raw_sms_list scanned;
    struct validation e;
    json_error_t jerr;
    json_t *root;
    int rc;

    /* the one-pass path first (inline_scan.h); what it declines goes through jansson */
    root = inline_scan_body(body, len, &scanned);
    if (root) {
        rc = inline_source_parse_scanned(root, &scanned, now, max_sms, max_items, u, sms, detail);
        raw_sms_list_free(&scanned);
        json_decref(root);
        return rc;
    }
    validation_init(&e, INLINE_SOURCE_MAX_ERRORS);
    *detail = NULL;
    raw_sms_list_init(sms);
    if (len == 0) {
        validation_add(&e, "missing", validation_loc(NULL, -1, NULL), "Field required", json_null(),
                       NULL);
        goto fail;
    }
    root = validation_load_body(body, len, &jerr);
    if (!root) {
        validation_add_json_invalid(&e, &jerr);
        goto fail;
    }
    json_decref(e.list);
    rc = inline_source_parse_json(root, now, max_sms, max_items, u, sms, detail);
    json_decref(root);
    return rc;
fail:
    user_data_init(u, NULL, NULL, now);
    *detail = e.list;
    return -1;
}
