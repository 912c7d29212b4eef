/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admission of insights-api calls (see admission.h). Reading order: the
 * address, the body (the common fields, then the endpoint's), the
 * credentials. Detail items follow pydantic v2's wording and echo only the
 * members known to hold ids or group names; anything else is "[redacted]".
 */
#include "insights-api/admission.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "insights-api/features.h"
#include "insights-api/inline_scan.h"
#include "insights-api/inline_source.h"
#include "insights-api/userdata_build.h"

static double wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ the address */

enum err admission_address(struct ratelimit *rl, const char *peer, const char *xff, double now,
                           int *retry_after_s)
{
    switch (ratelimit_check(rl, peer, xff, now, NULL, retry_after_s)) {
    case RATELIMIT_FORBIDDEN:
        return ERR_FORBIDDEN;
    case RATELIMIT_LIMITED:
        return ERR_RATE_LIMITED;
    default:
        return ERR_OK;
    }
}

/* ------------------------------------------------------------ the body */

/* An object, or an array holding a container: could carry anything, so never echoed. */
static bool nests(const json_t *v)
{
    size_t i;
    json_t *e;

    if (json_is_object(v))
        return true;
    if (!json_is_array(v))
        return false;
    json_array_foreach(v, i, e)
    {
        if (json_is_object(e) || json_is_array(e))
            return true;
    }
    return false;
}

/* A scalar echoed as sent; a container "[redacted]". */
static json_t *echo_scalar(const json_t *v)
{
    return json_is_object(v) || json_is_array(v) ? validation_redacted() : json_deep_copy(v);
}

/* The body echoed in a "missing" item: known small fields as sent, anything else "[redacted]". */
static json_t *echo_body(const json_t *root)
{
    static const char *const keep[] = {"user_id",           "client_id", "groupings",
                                       "cnt_sms_threshold", "as_of",     NULL};
    json_t *out = json_object();
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)root, key, v)
    {
        bool known = validation_key_in(key, keep);

        json_object_set_new(out, key,
                            known && !nests(v) ? json_deep_copy(v) : validation_redacted());
    }
    return out;
}

static void missing(struct validation *v, const json_t *root, const char *field)
{
    validation_add(v, "missing", validation_loc(field, -1, NULL), "Field required", echo_body(root),
                   NULL);
}

/* A required string field of at most max characters. */
static const char *check_string(struct validation *v, const json_t *root, const char *field,
                                size_t max)
{
    const json_t *s = json_object_get(root, field);

    if (!s) {
        missing(v, root, field);
        return NULL;
    }
    if (!json_is_string(s)) {
        validation_add(v, "string_type", validation_loc(field, -1, NULL),
                       "Input should be a valid string", echo_scalar(s), NULL);
        return NULL;
    }
    if (validation_utf8_chars(json_string_value(s), json_string_length(s)) > max) {
        validation_add_string_too_long(v, validation_loc(field, -1, NULL), validation_redacted(),
                                       max);
        return NULL;
    }
    return json_string_value(s);
}

static void check_grouping(struct validation *v, const json_t *g, size_t i, struct api_ask *ask)
{
    char why[256];

    if (!json_is_string(g)) {
        validation_add(v, "string_type", validation_loc("groupings", (long)i, NULL),
                       "Input should be a valid string", echo_scalar(g), NULL);
        return;
    }
    if (features_grouping_add(json_string_value(g), &ask->mask, why, sizeof(why)) < 0) {
        validation_add(v, "literal_error", validation_loc("groupings", (long)i, NULL),
                       "Input should be 'sms', 'extracted_sms', 'fraud', 'apps' or 'device'",
                       json_string_length(g) <= 32 ? json_deep_copy(g) : validation_redacted(),
                       NULL);
        return;
    }
    ask->groupings[ask->n_groupings++] = json_string_value(g);
}

void admission_check_groupings(struct validation *v, const json_t *root, struct api_ask *ask,
                               long max)
{
    const json_t *list = json_object_get(root, "groupings");
    size_t n;
    char msg[96];

    if (!list) {
        missing(v, root, "groupings");
        return;
    }
    if (!json_is_array(list)) {
        validation_add(v, "list_type", validation_loc("groupings", -1, NULL),
                       "Input should be a valid list",
                       json_is_object(list) ? validation_redacted() : json_deep_copy(list), NULL);
        return;
    }
    n = json_array_size(list);
    if (max > API_MAX_GROUPINGS)
        max = API_MAX_GROUPINGS;
    if (n > (size_t)max) {
        snprintf(msg, sizeof(msg), "List should have at most %ld items after validation, not %zu",
                 max, n);
        validation_add(v, "too_long", validation_loc("groupings", -1, NULL), msg,
                       validation_redacted(),
                       json_pack("{s:s,s:I,s:I}", "field_type", "List", "max_length",
                                 (json_int_t)max, "actual_length", (json_int_t)n));
        return;
    }
    for (size_t i = 0; i < n && !validation_full(v); i++)
        check_grouping(v, json_array_get(list, i), i, ask);
}

/*
 * Length of the white space (Rust's char::is_whitespace, which pydantic-core
 * trims strings with) that s[0..n) starts with (at_end false) or ends with
 * (at_end true), one character; 0 when none. s is valid UTF-8 (jansson).
 */
static size_t white_space(const unsigned char *s, size_t n, bool at_end)
{
    static const char *const wide[] = {"\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80",
                                       "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf",
                                       "\xe2\x81\x9f", "\xe3\x80\x80"};
    const unsigned char *c;

    if (n == 0)
        return 0;
    c = at_end ? s + n - 1 : s;
    if (*c == ' ' || (*c >= '\t' && *c <= '\r'))
        return 1;
    for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
        size_t k = strlen(wide[i]);

        if (n >= k && memcmp(at_end ? s + n - k : s, wide[i], k) == 0)
            return k;
    }
    if (n < 3)
        return 0;
    c = at_end ? s + n - 3 : s; /* U+2000..U+200A: e2 80 80..8a */
    return c[0] == 0xe2 && c[1] == 0x80 && c[2] >= 0x80 && c[2] <= 0x8a ? 3 : 0;
}

#define LAX_INT_MAX_DIGITS 4300 /* pydantic-core's limit (int_parsing_size past it) */
#define LAX_INT_BIG                                                                                \
    100000000000000000LL /* 1e17: past it only "big" matters (caps are far lower)                  \
                          */

/*
 * A trimmed string as pydantic-core reads an int: an optional sign, ASCII
 * digits with single underscores between them, then optionally '.' and one
 * or more zeros ("1_000", "-0", "10.00"; not "10.", "1__0", "1e3", "0x10").
 */
static int lax_int_text(const char *s, size_t n, json_int_t *v, const char **type)
{
    size_t i = 0;
    bool neg = false;
    long long acc = 0;

    *type = n > LAX_INT_MAX_DIGITS ? "int_parsing_size" : "int_parsing";
    if (n > LAX_INT_MAX_DIGITS)
        return -1;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i >= n || s[i] < '0' || s[i] > '9')
        return -1;
    for (; i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'); i++) {
        if (s[i] == '_' && !(i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9'))
            return -1;
        if (s[i] != '_')
            acc = acc >= LAX_INT_BIG ? LAX_INT_BIG : acc * 10 + (s[i] - '0');
    }
    if (i < n) { /* the rest: '.' and at least one zero */
        if (s[i] != '.' || i + 1 == n)
            return -1;
        for (i++; i < n; i++)
            if (s[i] != '0')
                return -1;
    }
    *v = neg ? -acc : acc;
    return 0;
}

/*
 * pydantic's lax int: an integer, a float with no fractional part, a string
 * as lax_int_text reads it once white space is trimmed from both ends, a
 * boolean. 0 with *v, or -1 with the error type. Integral floats of any size
 * are taken: jansson reads a body with a too large integer again with every
 * integer as a real, so a huge real may have been written as an integer,
 * which pydantic takes (a value that large is past any cap either way).
 */
static int lax_int(const json_t *t, json_int_t *v, const char **type)
{
    const unsigned char *s;
    size_t n, w;
    double d;

    if (json_is_integer(t) || json_is_boolean(t)) {
        *v = json_is_boolean(t) ? json_is_true(t) : json_integer_value(t);
        return 0;
    }
    if (json_is_real(t)) {
        d = json_real_value(t);
        *type = "int_from_float";
        if (d != floor(d) || isnan(d))
            return -1;
        *v = fabs(d) > 9e15 ? (d > 0 ? (json_int_t)9e15 : -1) : (json_int_t)d;
        return 0;
    }
    *type = "int_type";
    if (!json_is_string(t))
        return -1;
    s = (const unsigned char *)json_string_value(t);
    n = json_string_length(t);
    while ((w = white_space(s, n, false)) > 0)
        s += w, n -= w;
    while ((w = white_space(s, n, true)) > 0)
        n -= w;
    return lax_int_text((const char *)s, n, v, type);
}

void admission_check_threshold(struct validation *v, const json_t *root, struct api_ask *ask,
                               long max)
{
    static const struct {
        const char *type, *msg;
    } msgs[] = {
        {"int_from_float", "Input should be a valid integer, got a number with a fractional part"},
        {"int_parsing", "Input should be a valid integer, unable to parse string as an integer"},
        {"int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size"},
        {"int_type", "Input should be a valid integer"},
    };
    const json_t *t = json_object_get(root, "cnt_sms_threshold");
    const char *type = "int_type";
    json_int_t n;

    /* optional (Credeau's docs); absent, null or 0: no threshold but ours, FETCH_MAX_SMS */
    ask->threshold = max;
    if (!t || json_is_null(t))
        return;
    if (lax_int(t, &n, &type) < 0) {
        for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
            if (strcmp(msgs[i].type, type) == 0)
                validation_add(v, type, validation_loc("cnt_sms_threshold", -1, NULL), msgs[i].msg,
                               echo_scalar(t), NULL);
        return;
    }
    if (n < 0) {
        validation_add(v, "greater_than_equal", validation_loc("cnt_sms_threshold", -1, NULL),
                       "Input should be greater than or equal to 0", echo_scalar(t),
                       json_pack("{s:i}", "ge", 0));
        return;
    }
    if (n > 0 && n < max)
        ask->threshold = (long)n;
}

void admission_check_as_of(struct validation *v, const json_t *root, struct api_ask *ask)
{
    const json_t *t = json_object_get(root, "as_of");
    int64_t as_of;

    ask->as_of = (int64_t)floor(ask->now);
    ask->as_of_given = false;
    if (!t || json_is_null(t))
        return;
    if (inline_source_check_past_time(v, "as_of", t, ask->now, echo_scalar, &as_of) < 0)
        return;
    ask->as_of = as_of;
    ask->as_of_given = true;
}

json_t *admission_parse(const struct api_call *call, struct api_ask *ask,
                        struct raw_sms_list *sms_data, struct validation *v)
{
    json_error_t jerr;
    /* one pass over the messages (inline_scan.h); jansson for what it declines */
    json_t *root = inline_scan_body(call->body, call->body_len, sms_data);

    memset(ask, 0, sizeof(*ask));
    ask->now = call->requested_at;
    if (root)
        ask->sms_data = sms_data;
    else
        root = validation_load_body(call->body, call->body_len, &jerr);
    if (!root) {
        validation_add_json_invalid(v, &jerr);
        return NULL;
    }
    ask->root = root;
    if (!json_is_object(root)) {
        validation_add(v, "model_attributes_type", validation_loc(NULL, -1, NULL),
                       "Input should be a valid dictionary or object to extract fields from",
                       json_is_string(root) ? validation_redacted() : echo_scalar(root), NULL);
        return root;
    }
    ask->user_id = check_string(v, root, "user_id", USER_DATA_USER_ID_MAX);
    ask->client_id = check_string(v, root, "client_id", AUTH_ID_MAX);
    return root;
}

bool admission_refused(struct api_call *call, struct validation *v)
{
    char *items;

    if (json_array_size(v->list) == 0) {
        json_decref(v->list);
        v->list = NULL;
        return false;
    }
    items = json_dumps(v->list, JSON_COMPACT);
    api_reply_error(call, ERR_VALIDATION, items ? items : "[]");
    free(items);
    json_decref(v->list);
    v->list = NULL;
    return true;
}

/* ------------------------------------------------------------ credentials */

void admission_init(struct admission *a, struct auth *auth, struct store *store,
                    struct metrics *metrics)
{
    a->auth = auth;
    a->store = store;
    a->checks =
        metrics_counter_new(metrics, "auth_checks_total",
                            "credential checks by result (ok, denied, unavailable)", "result");
}

int admission_credentials(const struct admission *a, struct api_call *call,
                          const struct api_ask *ask)
{
    char why[256] = "";
    enum auth_result r = AUTH_OK;

    if (!call->credentials_checked) {
        r = auth_check(a->auth, call->hdr_client, call->hdr_token, wall_now(), why, sizeof(why));
        metrics_counter_add_label(a->checks,
                                  r == AUTH_OK       ? "ok"
                                  : r == AUTH_DENIED ? "denied"
                                                     : "unavailable",
                                  1);
    }
    if (r == AUTH_UNAVAILABLE) {
        log_warn(call->request_id, "credentials could not be checked", LOG_STR("error", why));
        api_reply_error(call, ERR_DEPENDENCY_UNAVAILABLE,
                        "Credentials cannot be checked right now");
        return -1;
    }
    if (r == AUTH_OK && ask && strcmp(call->hdr_client, ask->client_id) != 0) {
        r = AUTH_DENIED;
        snprintf(why, sizeof(why), "x-client-id does not match the body's client_id");
    }
    if (r != AUTH_OK) {
        log_info(call->request_id, "credentials refused", LOG_STR("reason", why),
                 LOG_STR("api", call->api_name));
        store_unauthorized(a->store, call->hdr_client, call->request_id,
                           call->client_request_id[0] ? call->client_request_id : NULL,
                           call->hdr_token);
        api_reply_error(call, ERR_UNAUTHORIZED, NULL);
        return -1;
    }
    return 0;
}
