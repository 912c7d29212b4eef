/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credeau-shaped fetch_extracted_data records (see fetch_records.h). One
 * record in, one out: Credeau's leading fields first in its order, then the
 * extractor's fields (amounts made reals, an unknown sender named as
 * Credeau names what matched nothing), then the *_nlp twins. We have one
 * extraction path, so each *_nlp field is its rule field in Credeau's
 * spelling (acc_number_nlp "x3028" beside account_last_digits "3028").
 */
#include "insights-api/fetch_records.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/ist_date.h"

/* Amounts (numbers Credeau prints as 80.0); days_past_due stays an integer. */
static const char *const amount_fields[] = {
    "transaction", "available_balance", "credit_limit",   "available_limit",
    "due_amount",  "min_due",           "overdue_amount", NULL,
};

static bool is_amount(const char *key)
{
    for (size_t i = 0; amount_fields[i]; i++)
        if (strcmp(key, amount_fields[i]) == 0)
            return true;
    return false;
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    h ^= 0xff; /* a separator byte no UTF-8 text holds */
    h *= 1099511628211ull;
    return h;
}

/* A number as a real (80 -> 80.0); anything else as it is. */
static json_t *as_real(json_t *v)
{
    return json_is_integer(v) ? json_real((double)json_integer_value(v)) : json_incref(v);
}

/*
 * _id: 24 hex digits like Credeau's Mongo ObjectId, stable for one message
 * of one user (we store no extracted record, so it is derived, not stored).
 */
static json_t *record_id(const struct fetch_records_ctx *ctx, const char *sms_id)
{
    uint64_t h = fnv(fnv(fnv(1469598103934665603ull, ctx->client_id), ctx->user_id), sms_id);
    uint64_t h2 = fnv(h, "_id");
    char hex[25];

    snprintf(hex, sizeof(hex), "%016llx%08llx", (unsigned long long)h,
             (unsigned long long)(h2 & 0xffffffffull));
    return json_string(hex);
}

/* template_hash: a UUID-shaped id of the rule that extracted the message; null when none did. */
static json_t *template_hash(const json_t *template_id)
{
    const char *t = json_string_value(template_id);
    uint64_t a, b;
    char uuid[37];

    if (!t)
        return json_null();
    a = fnv(1469598103934665603ull, t);
    b = fnv(a, "template");
    snprintf(uuid, sizeof(uuid), "%08llx-%04llx-%04llx-%04llx-%012llx",
             (unsigned long long)(a >> 32), (unsigned long long)((a >> 16) & 0xffff),
             (unsigned long long)(a & 0xffff), (unsigned long long)(b >> 48),
             (unsigned long long)(b & 0xffffffffffffull));
    return json_string(uuid);
}

static void add_nlp_twins(json_t *out, const json_t *rec)
{
    const char *digits = json_string_value(json_object_get(rec, "account_last_digits"));
    const json_t *type = json_object_get(rec, "sms_type");
    char acc[160];

    /* our finest event class is sms_type (sms_kind says more, under its own name) */
    json_object_set(out, "sms_nlp_tag", type ? (json_t *)type : json_null());
    if (digits) {
        snprintf(acc, sizeof(acc), "x%s", digits);
        json_object_set_new(out, "acc_number_nlp", json_string(acc));
    } else {
        json_object_set_new(out, "acc_number_nlp", json_null());
    }
    json_object_set_new(out, "transaction_nlp", as_real(json_object_get(rec, "transaction")));
    json_object_set(out, "unique_pan_nlp",
                    json_object_get(rec, "unique_pan") ? json_object_get(rec, "unique_pan")
                                                       : json_null());
}

static json_t *one_record(const json_t *rec, const struct raw_sms *m,
                          const struct fetch_records_ctx *ctx, const char *created)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    char date[11];

    memcpy(date, created, 10);
    date[10] = '\0';
    json_object_set_new(out, "_id", record_id(ctx, m ? m->sms_id : NULL));
    json_object_set_new(out, "user_id", json_string(ctx->user_id));
    json_object_set_new(out, "client_id", json_string(ctx->client_id));
    json_object_set_new(out, "request_id", json_string(ctx->request_id));
    json_object_foreach((json_t *)rec, key, v)
    {
        if (strcmp(key, "sender_name") == 0 && json_is_null(v))
            json_object_set_new(out, key, json_string("not_in_the_list"));
        else
            json_object_set_new(out, key, is_amount(key) ? as_real(v) : json_incref(v));
        if (strcmp(key, "sms_inbox_date") == 0 && ctx->with_body && m)
            json_object_set_new(out, "sms_body", json_stringn(m->body, m->body_len));
    }
    json_object_set_new(out, "created_at", json_string(created));
    json_object_set_new(out, "created_date", json_string(date));
    json_object_set_new(out, "template_hash", template_hash(json_object_get(rec, "template_id")));
    add_nlp_twins(out, rec);
    return out;
}

json_t *fetch_records_credeau(const json_t *records, const struct raw_sms_list *raw,
                              const struct fetch_records_ctx *ctx)
{
    size_t n = json_array_size(records);
    json_t *out = json_array();
    char created[20];

    ist_format_unix(ctx->created_at, created);
    for (size_t i = n; i-- > 0;) {
        const struct raw_sms *m = raw && i < raw->count ? &raw->items[i] : NULL;

        json_array_append_new(out, one_record(json_array_get(records, i), m, ctx, created));
    }
    return out;
}
