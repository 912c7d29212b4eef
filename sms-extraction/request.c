/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing and validating the extraction request. Clients of the Python
 * service were written against FastAPI + pydantic v2 replies, so a bad
 * request here yields the same kind of 422 detail list: every problem found
 * (up to REQUEST_MAX_ERRORS) as {type, loc, msg, input[, ctx]}, with the same
 * type names and messages pydantic uses. Two rules pydantic does not have:
 * an echoed input never carries an sms_body value (bodies are borrowers'
 * messages; they are replaced by "[redacted]"), and a JSON syntax error is
 * described by its kind and offset only, never by the text near it.
 *
 * A successful parse borrows every string from the jansson tree, which the
 * struct request keeps until the next parse, so the hot path copies nothing.
 */
#include "sms-extraction/request.h"

#include "common/alloc.h"

#include "common/ist_date.h"
#include "common/validation.h"
#include "sms-extraction/request_scan.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void request_init(struct request *req)
{
    memset(req, 0, sizeof(*req));
}

static void request_reset(struct request *req)
{
    json_decref(req->root);
    req->root = NULL;
    req->client_id = NULL;
    req->user_id = NULL;
    req->request_id[0] = '\0';
    req->sms_count = 0;
}

void request_free(struct request *req)
{
    request_reset(req);
    free(req->sms);
    free(req->text);
    req->sms = NULL;
    req->sms_cap = 0;
    req->text = NULL;
    req->text_cap = 0;
}

/* ---- echoed inputs --------------------------------------------------- */

/*
 * What a detail item echoes. pydantic echoes the offending input verbatim;
 * we echo only what cannot be message text: known id and date fields as
 * given, numbers, booleans and null. Everything else (sms_body, unknown
 * members holding strings or containers, list items that are not objects)
 * becomes "[redacted]", so a client that misnames "sms_body" as "body" does
 * not get its message back either.
 */
static json_t *echo_scalar(json_t *v)
{
    if (json_is_string(v) || json_is_array(v) || json_is_object(v))
        return validation_redacted();
    return json_incref(v);
}

/* Known fields that hold ids or dates: echoed when they are not containers. */
static json_t *echo_known(json_t *v)
{
    if (json_is_array(v) || json_is_object(v))
        return validation_redacted();
    return json_incref(v);
}

static json_t *echo_item(json_t *item)
{
    static const char *const known[] = {"sms_id", "sms_sender", "sms_inbox_date", NULL};
    json_t *out, *v;
    const char *key;

    if (!json_is_object(item))
        return echo_scalar(item);
    out = json_object();
    json_object_foreach(item, key, v)
    {
        json_object_set_new(out, key,
                            validation_key_in(key, known) ? echo_known(v) : echo_scalar(v));
    }
    return out;
}

static json_t *echo_list(json_t *list)
{
    json_t *out, *v;
    size_t i;

    if (!json_is_array(list))
        return echo_scalar(list);
    out = json_array();
    json_array_foreach(list, i, v)
    {
        json_array_append_new(out, echo_item(v));
    }
    return out;
}

static json_t *echo_root(json_t *root)
{
    static const char *const known[] = {"client_id", "user_id", "request_id", NULL};
    json_t *out, *v;
    const char *key;

    if (json_is_array(root))
        return echo_list(root);
    if (!json_is_object(root))
        return echo_scalar(root);
    out = json_object();
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "sms") == 0)
            json_object_set_new(out, key, echo_list(v));
        else
            json_object_set_new(out, key,
                                validation_key_in(key, known) ? echo_known(v) : echo_scalar(v));
    }
    return out;
}

/* ---- detail items ----------------------------------------------------- */

/* container is the request itself (is_root) or one message of it. */
static void err_missing(struct validation *e, json_t *loc, json_t *container, bool is_root)
{
    validation_add(e, "missing", loc, "Field required",
                   is_root ? echo_root(container) : echo_item(container), NULL);
}

static void err_string_type(struct validation *e, json_t *loc, json_t *input)
{
    validation_add(e, "string_type", loc, "Input should be a valid string", echo_known(input),
                   NULL);
}

/* ---- strings ---------------------------------------------------------- */

static json_t *loc_top(const char *key, size_t idx);

/*
 * A string member: returns its value, or NULL after recording why not.
 * Absent members are "missing" when required, otherwise NULL without error.
 */
static const char *check_string(struct validation *e, json_t *obj, const char *key, bool required,
                                size_t max_chars, json_t *(*loc)(const char *, size_t), size_t idx)
{
    json_t *v = json_object_get(obj, key);

    if (!v) {
        if (required)
            err_missing(e, loc(key, idx), obj, loc == loc_top);
        return NULL;
    }
    if (!json_is_string(v)) {
        err_string_type(e, loc(key, idx), v);
        return NULL;
    }
    if (max_chars &&
        validation_utf8_chars(json_string_value(v), json_string_length(v)) > max_chars) {
        validation_add_string_too_long(e, loc(key, idx), json_incref(v), max_chars);
        return NULL;
    }
    return json_string_value(v);
}

static json_t *loc_top(const char *key, size_t idx)
{
    (void)idx;
    return validation_loc(key, -1, NULL);
}

static json_t *loc_sms(const char *key, size_t idx)
{
    return validation_loc("sms", (long)idx, key);
}

/* ---- the message list ------------------------------------------------- */

static void check_date(struct validation *e, json_t *item, size_t idx, struct request_sms *m)
{
    json_t *v = json_object_get(item, "sms_inbox_date");
    const char *why = NULL;
    char msg[160];

    if (!v) {
        err_missing(e, loc_sms("sms_inbox_date", idx), item, false);
        return;
    }
    if (json_is_integer(v)) {
        if (ist_from_epoch(json_integer_value(v), m->inbox_date) < 0)
            validation_add(e, "datetime_from_date_parsing", loc_sms("sms_inbox_date", idx),
                           "Input should be a valid datetime or date, timestamp is out of range",
                           json_incref(v),
                           json_pack("{s:s}", "error", "timestamp is out of range"));
        return;
    }
    if (json_is_real(v)) {
        /* pydantic takes a float as epoch time too; the fraction is dropped. */
        double x = json_real_value(v);

        if (x > -1e15 && x < 1e15 && ist_from_epoch((long long)floor(x), m->inbox_date) == 0)
            return;
        validation_add(e, "datetime_from_date_parsing", loc_sms("sms_inbox_date", idx),
                       "Input should be a valid datetime or date, timestamp is out of range",
                       json_incref(v), json_pack("{s:s}", "error", "timestamp is out of range"));
        return;
    }
    if (!json_is_string(v)) {
        validation_add(e, "datetime_type", loc_sms("sms_inbox_date", idx),
                       "Input should be a valid datetime", json_incref(v), NULL);
        return;
    }
    if (ist_date_normalise(json_string_value(v), json_string_length(v), m->inbox_date, &why) < 0) {
        snprintf(msg, sizeof(msg), "Input should be a valid datetime or date, %s", why);
        validation_add(e, "datetime_from_date_parsing", loc_sms("sms_inbox_date", idx), msg,
                       json_incref(v), json_pack("{s:s}", "error", why));
    }
}

static void check_sms_id(struct validation *e, json_t *item, size_t idx, struct request_sms *m)
{
    json_t *v = json_object_get(item, "sms_id");

    if (json_is_integer(v)) {
        snprintf(m->id_buf, sizeof(m->id_buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        m->sms_id = m->id_buf;
        return;
    }
    if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
        fabs(json_real_value(v)) < 9007199254740992.0) {
        /* pydantic (lax) takes 12.0 as the integer 12. */
        snprintf(m->id_buf, sizeof(m->id_buf), "%lld", (long long)json_real_value(v));
        m->sms_id = m->id_buf;
        return;
    }
    m->sms_id = check_string(e, item, "sms_id", true, REQUEST_SMS_ID_MAX, loc_sms, idx);
}

static void check_sender(struct validation *e, json_t *item, size_t idx, struct request_sms *m)
{
    json_t *v = json_object_get(item, "sms_sender");

    m->sender = NULL;
    m->sender_len = 0;
    if (!v || json_is_null(v))
        return;
    if (!json_is_string(v)) {
        err_string_type(e, loc_sms("sms_sender", idx), v);
        return;
    }
    m->sender = json_string_value(v);
    m->sender_len = json_string_length(v);
}

static void check_body(struct validation *e, json_t *item, size_t idx, struct request_sms *m)
{
    json_t *v = json_object_get(item, "sms_body");

    if (!v) {
        err_missing(e, loc_sms("sms_body", idx), item, false);
        return;
    }
    if (!json_is_string(v)) {
        /* Whatever the client put there is treated as a body: never echoed. */
        validation_add(e, "string_type", loc_sms("sms_body", idx), "Input should be a valid string",
                       validation_redacted(), NULL);
        return;
    }
    m->body = json_string_value(v);
    m->body_len = json_string_length(v);
}

static void check_item(struct validation *e, json_t *item, size_t idx, struct request_sms *m)
{
    if (!json_is_object(item)) {
        validation_add(e, "model_type", validation_loc("sms", (long)idx, NULL),
                       "Input should be a valid dictionary or instance of Sms", echo_scalar(item),
                       json_pack("{s:s}", "class_name", "Sms"));
        return;
    }
    check_sms_id(e, item, idx, m);
    check_sender(e, item, idx, m);
    check_body(e, item, idx, m);
    check_date(e, item, idx, m);
}

static void check_sms_list(struct validation *e, struct request *req, json_t *root, size_t max_sms)
{
    json_t *list = json_object_get(root, "sms");
    size_t n;
    char msg[120];

    if (!list) {
        err_missing(e, validation_loc("sms", -1, NULL), root, true);
        return;
    }
    if (!json_is_array(list)) {
        validation_add(e, "list_type", validation_loc("sms", -1, NULL),
                       "Input should be a valid list", echo_scalar(list), NULL);
        return;
    }
    n = json_array_size(list);
    if (n > max_sms) {
        snprintf(msg, sizeof(msg), "List should have at most %zu items after validation, not %zu",
                 max_sms, n);
        validation_add(e, "too_long", validation_loc("sms", -1, NULL), msg, echo_list(list),
                       json_pack("{s:s,s:I,s:I}", "field_type", "List", "max_length",
                                 (json_int_t)max_sms, "actual_length", (json_int_t)n));
        return;
    }
    if (n > req->sms_cap) {
        req->sms = alloc_resize(req->sms, n * sizeof(*req->sms));
        req->sms_cap = n;
    }
    for (size_t i = 0; i < n && !validation_full(e); i++)
        check_item(e, json_array_get(list, i), i, &req->sms[i]);
    req->sms_count = n;
}

/* ---- the whole request ------------------------------------------------ */

static void generate_request_id(char out[REQUEST_ID_MAX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];

    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        /* Never expected on Linux >= 3.17; ids only need to be unlikely to repeat. */
        for (size_t i = 0; i < sizeof(raw); i++)
            raw[i] = (unsigned char)rand();
    }
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[32] = '\0';
}

/* The body's id when given, else the HTTP request's, else a new one. */
static void set_request_id(struct request *req, const char *given, const char *default_id)
{
    if (given)
        snprintf(req->request_id, sizeof(req->request_id), "%s", given);
    else if (default_id && *default_id && strlen(default_id) <= REQUEST_ID_MAX)
        snprintf(req->request_id, sizeof(req->request_id), "%s", default_id);
    else
        generate_request_id(req->request_id);
}

static void check_request_id(struct validation *e, struct request *req, json_t *root,
                             const char *default_id)
{
    json_t *v = json_object_get(root, "request_id");

    if (!v || json_is_null(v)) {
        set_request_id(req, NULL, default_id);
        return;
    }
    set_request_id(req, check_string(e, root, "request_id", false, REQUEST_ID_MAX, loc_top, 0),
                   default_id);
}

static void validate(struct validation *e, struct request *req, json_t *root, size_t max_sms,
                     const char *default_id)
{
    if (!json_is_object(root)) {
        validation_add(e, "model_attributes_type", validation_loc(NULL, -1, NULL),
                       "Input should be a valid dictionary or object to extract fields from",
                       echo_root(root), NULL);
        return;
    }
    req->client_id = check_string(e, root, "client_id", true, REQUEST_ID_MAX, loc_top, 0);
    req->user_id = check_string(e, root, "user_id", true, REQUEST_ID_MAX, loc_top, 0);
    check_request_id(e, req, root, default_id);
    check_sms_list(e, req, root, max_sms);
}

int request_parse(struct request *req, const char *body, size_t body_len, size_t max_sms,
                  const char *default_id, json_t **detail)
{
    const char *given_id;

    request_reset(req);
    *detail = NULL;
    if (body_len > 0 && request_scan(req, body, body_len, max_sms, &given_id) == 0) {
        set_request_id(req, given_id, default_id);
        return 0;
    }
    return request_parse_json(req, body, body_len, max_sms, default_id, detail);
}

int request_parse_json(struct request *req, const char *body, size_t body_len, size_t max_sms,
                       const char *default_id, json_t **detail)
{
    struct validation e;
    json_error_t jerr;

    validation_init(&e, REQUEST_MAX_ERRORS);
    request_reset(req);
    *detail = NULL;
    if (body_len == 0) {
        validation_add(&e, "missing", validation_loc(NULL, -1, NULL), "Field required", json_null(),
                       NULL);
        goto fail;
    }
    req->root = validation_load_body(body, body_len, &jerr);
    if (!req->root) {
        validation_add_json_invalid(&e, &jerr);
        goto fail;
    }
    validate(&e, req, req->root, max_sms, default_id);
    if (json_array_size(e.list) > 0)
        goto fail;
    json_decref(e.list);
    return 0;
fail:
    request_reset(req);
    *detail = e.list;
    return -1;
}
