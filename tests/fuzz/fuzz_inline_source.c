/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for the inline raw data of POST /api/generate_features
 * (insights-api/inline_source.h), which is outside input: any byte string
 * must be converted or refused with a detail list, never touching memory it
 * does not own, and a refusal must never echo message text. The oracle
 * collects what could be message text in the input (every sms_body value at
 * any depth, any string standing in the SMS list or in place of it, the body
 * itself when it is a JSON string, strings of members that are not known
 * fields) and fails if a detail value contains one of them. A conversion
 * must keep nothing dated after the as_of it was given. And the one-pass
 * reader (inline_scan.c) that inline_source_parse tries first must give what
 * the jansson path gives on the same bytes: the same result, detail list and
 * messages.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "insights-api/inline_source.h"

#define MIN_SECRET 6 /* shorter strings match by chance ("null", dates' digits) */
#define FUZZ_AS_OF 1795000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const KNOWN[] = {
    "client_id",    "user_id",      "sms_id",           "sms_sender",  "sms_inbox_date",
    "package_name", "app_name",     "install_time",     "update_time", "is_system",
    "brand",        "model",        "manufacturer",     "os_version",  "captured_at",
    "sdk_int",      "total_ram_mb", "total_storage_mb", NULL};

static bool known(const char *key)
{
    for (size_t i = 0; KNOWN[i]; i++)
        if (strcmp(key, KNOWN[i]) == 0)
            return true;
    return false;
}

static void add(json_t *secrets, const json_t *v)
{
    /* "[redacted]" itself is what the echo holds in place of a secret */
    if (json_is_string(v) && json_string_length(v) >= MIN_SECRET &&
        !strstr(INLINE_SOURCE_REDACTED, json_string_value(v)))
        json_array_append(secrets, (json_t *)v);
}

/* Values of known fields: echoing these is allowed, even when a secret repeats one. */
static void collect_known(const json_t *j, json_t *allowed)
{
    const char *key;
    json_t *v;
    size_t i;

    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, key, v)
        {
            if (json_is_string(v) && known(key))
                json_array_append(allowed, v);
            collect_known(v, allowed);
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            collect_known(v, allowed);
        }
    }
}

static bool within_allowed(const char *secret, const json_t *allowed)
{
    json_t *v;
    size_t i;

    json_array_foreach(allowed, i, v)
    {
        if (strstr(json_string_value(v), secret))
            return true;
    }
    return false;
}

static void collect(const json_t *j, bool in_sms_list, json_t *secrets)
{
    const char *key;
    json_t *v;
    size_t i;

    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, key, v)
        {
            if (json_is_string(v) && (strcmp(key, "sms_body") == 0 || !known(key)))
                add(secrets, v);
            if (strcmp(key, "sms_data") == 0) {
                add(secrets, v);
                collect(v, true, secrets);
            } else {
                collect(v, false, secrets);
            }
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            if (in_sms_list)
                add(secrets, v);
            collect(v, false, secrets);
        }
    }
}

static bool leaks(const json_t *j, const json_t *secrets, const json_t *allowed)
{
    const char *key;
    json_t *v;
    size_t i;

    if (json_is_string(j)) {
        json_array_foreach(secrets, i, v)
        {
            if (strstr(json_string_value(j), json_string_value(v)) &&
                !within_allowed(json_string_value(v), allowed))
                return true;
        }
        return false;
    }
    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, key, v)
        {
            if (leaks(v, secrets, allowed))
                return true;
        }
    }
    if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            if (leaks(v, secrets, allowed))
                return true;
        }
    }
    return false;
}

/* The jansson path alone on the same bytes: the same outcome as rc, detail and sms. */
static void check_same_as_jansson(const uint8_t *data, size_t size, int rc, const json_t *detail,
                                  const struct raw_sms_list *sms)
{
    json_error_t jerr;
    json_t *root = validation_load_body((const char *)data, size, &jerr);
    struct user_data u2;
    struct raw_sms_list s2;
    json_t *d2 = NULL;

    if (!root)
        return; /* a json_invalid item: no scanner took part */
    if (inline_source_parse_json(root, FUZZ_AS_OF, 50, 200, &u2, &s2, &d2) != rc)
        abort();
    if (rc < 0 && !json_equal((json_t *)detail, d2))
        abort();
    if (rc == 0 && s2.count != sms->count)
        abort();
    for (size_t i = 0; rc == 0 && i < sms->count; i++)
        if (strcmp(s2.items[i].sms_id, sms->items[i].sms_id) != 0 ||
            s2.items[i].ts != sms->items[i].ts || s2.items[i].body_len != sms->items[i].body_len ||
            memcmp(s2.items[i].body, sms->items[i].body, sms->items[i].body_len) != 0 ||
            !s2.items[i].sender != !sms->items[i].sender ||
            (s2.items[i].sender && strcmp(s2.items[i].sender, sms->items[i].sender) != 0))
            abort();
    json_decref(d2);
    json_decref(root);
    user_data_free(&u2);
    raw_sms_list_free(&s2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct user_data u;
    struct raw_sms_list sms;
    json_t *detail = NULL;

    int rc = inline_source_parse((const char *)data, size, FUZZ_AS_OF, 50, 200, &u, &sms, &detail);

    check_same_as_jansson(data, size, rc, detail, &sms);
    if (rc < 0) {
        json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
        json_t *secrets = json_array(), *allowed = json_array();

        if (!detail)
            abort();
        if (root) {
            add(secrets, root);
            collect(root, false, secrets);
            collect_known(root, allowed);
        }
        size_t i;
        json_t *item;
        /* only what is echoed: loc, type and msg are ours */
        json_array_foreach(detail, i, item)
        {
            if (leaks(json_object_get(item, "input"), secrets, allowed) ||
                leaks(json_object_get(item, "ctx"), secrets, allowed))
                abort();
        }
        json_decref(secrets);
        json_decref(allowed);
        json_decref(root);
        json_decref(detail);
    } else {
        for (size_t i = 1; i < sms.count; i++)
            if (sms.items[i - 1].ts > sms.items[i].ts)
                abort();
        if (sms.count > 50)
            abort();
        /* as of 1795000000: nothing dated later is kept */
        if (sms.count && sms.items[sms.count - 1].ts > FUZZ_AS_OF)
            abort();
        for (size_t i = 0; i < u.apps_count; i++)
            if (u.apps[i].install_ts > FUZZ_AS_OF || u.apps[i].update_ts > FUZZ_AS_OF)
                abort();
        if (u.device_state == SOURCE_OK && u.device.captured_ts > FUZZ_AS_OF)
            abort();
    }
    user_data_free(&u);
    raw_sms_list_free(&sms);
    return 0;
}
