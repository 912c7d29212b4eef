/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The 422 detail lists of both daemons, in one place so that sms-extraction
 * and insights-api cannot drift apart in what a FastAPI client sees: the
 * item layout and key order, the cap, the loc paths, pydantic's wording for
 * the checks both make, and the privacy rule that an error never quotes a
 * request body (a JSON syntax error names its kind and offset, echoed text
 * becomes "[redacted]"). Which members a model may echo stays with the model.
 */
#include "common/validation.h"

#include <stdio.h>
#include <string.h>

void validation_init(struct validation *v, size_t cap)
{
    v->list = json_array();
    v->cap = cap;
}

void validation_add(struct validation *v, const char *type, json_t *loc, const char *msg,
                    json_t *input, json_t *ctx)
{
    json_t *item;

    if (validation_full(v)) {
        json_decref(loc);
        json_decref(input);
        json_decref(ctx);
        return;
    }
    item = json_object();
    json_object_set_new(item, "type", json_string(type));
    json_object_set_new(item, "loc", loc);
    json_object_set_new(item, "msg", json_string(msg));
    json_object_set_new(item, "input", input ? input : json_null());
    if (ctx)
        json_object_set_new(item, "ctx", ctx);
    json_array_append_new(v->list, item);
}

bool validation_full(const struct validation *v)
{
    return json_array_size(v->list) >= v->cap;
}

json_t *validation_loc(const char *a, long idx, const char *b)
{
    json_t *loc = json_array();

    json_array_append_new(loc, json_string("body"));
    if (!a)
        return loc;
    json_array_append_new(loc, json_string(a));
    if (idx >= 0)
        json_array_append_new(loc, json_integer(idx));
    if (b)
        json_array_append_new(loc, json_string(b));
    return loc;
}

json_t *validation_redacted(void)
{
    return json_string(VALIDATION_REDACTED);
}

bool validation_key_in(const char *key, const char *const *known)
{
    for (; *known; known++)
        if (strcmp(key, *known) == 0)
            return true;
    return false;
}

size_t validation_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

void validation_add_string_too_long(struct validation *v, json_t *loc, json_t *input, size_t max)
{
    char msg[80];

    snprintf(msg, sizeof(msg), "String should have at most %zu characters", max);
    validation_add(v, "string_too_long", loc, msg, input,
                   json_pack("{s:I}", "max_length", (json_int_t)max));
}

static const char *json_error_kind(const json_error_t *jerr)
{
    switch (json_error_code(jerr)) {
    case json_error_invalid_utf8:
        return "invalid UTF-8";
    case json_error_premature_end_of_input:
        return "unexpected end of input";
    case json_error_null_character:
    case json_error_null_byte_in_key:
        return "NUL characters are not allowed";
    case json_error_duplicate_key:
        return "duplicate object key";
    default:
        return "invalid JSON syntax";
    }
}

void validation_add_json_invalid(struct validation *v, const json_error_t *jerr)
{
    validation_add(v, "json_invalid", json_pack("[s,I]", "body", (json_int_t)jerr->position),
                   "JSON decode error", json_object(),
                   json_pack("{s:s}", "error", json_error_kind(jerr)));
}

json_t *validation_load_body(const char *body, size_t len, json_error_t *jerr)
{
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY, jerr);

    if (!root && json_error_code(jerr) == json_error_numeric_overflow)
        root = json_loadb(body, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, jerr);
    return root;
}
