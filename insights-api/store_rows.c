/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rows the store writer handles, in their three forms: in memory (the
 * queue), as an INSERT into the table Credeau's schema gives each of them,
 * and as one JSON line of the spool file. Keeping the three side by side
 * makes it hard to add a column to one form and forget another.
 *
 * Dump inserts skip rows of a user forgotten after the row was created (the
 * forgotten_users tombstone) and rows already present (a replayed spool
 * batch after a crash), so a replay never resurrects deleted data and
 * never fails on a duplicate.
 */
#include "insights-api/store_impl.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_row *store_row_new(enum store_row_kind kind)
{
    struct store_row *row = calloc(1, sizeof(*row));

    if (!row)
        abort();
    row->kind = kind;
    row->bytes = -1;
    row->time_to_featurize = -1;
    row->as_of = -1;
    row->value = NAN;
    row->mem = sizeof(*row);
    return row;
}

void store_row_free(struct store_row *row)
{
    if (!row)
        return;
    free(row->request_id);
    free(row->client_request_id);
    free(row->client_id);
    free(row->user_id);
    free(row->api_name);
    free(row->cutoff_date);
    free(row->groupings);
    free(row->token_prefix);
    free(row->payload);
    free(row->time_json);
    free(row->user_key);
    free(row->score_name);
    free(row->model_version);
    free(row->arm);
    free(row->digest);
    free(row->null_reason);
    free(row);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80             ? 1
                 : (s[0] & 0xE0) == 0xC0 ? 2
                 : (s[0] & 0xF0) == 0xE0 ? 3
                 : (s[0] & 0xF8) == 0xF0 ? 4
                                         : 0;
    unsigned cp;

    if (len == 0 || len > n)
        return 0;
    cp = len == 1 ? s[0] : s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    /* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return len;
}

/*
 * Copy s into *field as valid UTF-8, at most max bytes: a byte that is not
 * part of a UTF-8 sequence is written as the four characters \xHH, and a
 * cut never splits a character or an escape. Client-chosen headers
 * (x-client-id) reach these columns: PostgreSQL refuses text that is not
 * UTF-8 and the whole row would be lost, so the attempt would leave no trace.
 */
/* Escape s into dst (NULL: only measure); returns the bytes written, at most max. */
static size_t escape_utf8(const unsigned char *p, size_t n, size_t max, char *dst)
{
    static const char hex[] = "0123456789abcdef";
    size_t out = 0;

    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq(p + i, n - i);
        size_t need = len ? len : 4;

        if (out + need > max)
            break;
        if (dst && len) {
            memcpy(dst + out, p + i, len);
        } else if (dst) {
            dst[out] = '\\';
            dst[out + 1] = 'x';
            dst[out + 2] = hex[p[i] >> 4];
            dst[out + 3] = hex[p[i] & 15];
        }
        i += len ? len : 1;
        out += need;
    }
    return out;
}

void store_row_set(struct store_row *row, char **field, const char *s, size_t max)
{
    size_t n, out;
    char *dst;

    if (!s)
        return;
    n = strlen(s);
    out = escape_utf8((const unsigned char *)s, n, max, NULL);
    dst = malloc(out + 1);
    if (!dst)
        abort();
    escape_utf8((const unsigned char *)s, n, max, dst);
    dst[out] = '\0';
    *field = dst;
    row->mem += out + 1;
}

static const char *const request_tables[] = {"insights_request_dump",
                                             "fetch_extracted_request_dump", "api_request_dump"};
static const char *const response_tables[] = {"insights_response_dump",
                                              "fetch_extracted_response_dump", "api_response_dump"};

const char *store_row_table(const struct store_row *row)
{
    switch (row->kind) {
    case STORE_ROW_USAGE:
        return "usage";
    case STORE_ROW_UNAUTHORIZED:
        return "unauthorized_requests";
    case STORE_ROW_REQUEST:
        return request_tables[row->api];
    case STORE_ROW_RESPONSE:
        return response_tables[row->api];
    case STORE_ROW_PREDICTION:
        return "prediction_log";
    }
    return "unknown";
}

/* ------------------------------------------------------------------ SQL */

#define TS "(to_timestamp($2::float8) AT TIME ZONE 'UTC')"
#define NOT_FORGOTTEN                                                                              \
    " WHERE NOT EXISTS (SELECT 1 FROM forgotten_users f WHERE f.client_id = $4::varchar"           \
    " AND f.user_id = $3::varchar AND f.forgotten_at >= " TS ")"

/*
 * $1 request_id, $2 created_at, $3 user_id, $4 client_id, then per table.
 * request_id is always the server's (unique, so ON CONFLICT only skips a
 * replayed row); the client's X-Request-Id goes beside it in client_request_id.
 */
static const char usage_sql[] =
    "INSERT INTO usage (request_id, created_at, client_id, api_name, response_code,"
    " client_request_id) VALUES ($1, " TS ", $3, $4, $5::int, $6)";
static const char unauthorized_sql[] =
    "INSERT INTO unauthorized_requests (request_id, created_at, client_id, auth_token,"
    " client_request_id) VALUES ($1, " TS ", $3, $4, $5)";
static const char api_request_sql[] =
    "INSERT INTO api_request_dump (request_id, created_at, user_id, client_id, request_dump,"
    " api_name, request_bytes, client_request_id) SELECT $1, " TS ", $3, $4, $5::json, $6,"
    " $7::int, $8" NOT_FORGOTTEN " ON CONFLICT DO NOTHING";
static const char other_request_sql[] =
    "INSERT INTO %s (request_id, created_at, user_id, client_id, cutoff_date, api_name,"
    " request_bytes, client_request_id) SELECT $1, " TS ", $3, $4,"
    " coalesce($5, to_char(" TS ", 'YYYY-MM-DD HH24:MI:SS')), $6, $7::int, $8" NOT_FORGOTTEN
    " ON CONFLICT DO NOTHING";
static const char response_sql[] =
    "INSERT INTO %s (request_id, created_at, user_id, client_id, response_dump,"
    " time_to_featurize, time_json, api_name, response_bytes, client_request_id%s)"
    " SELECT $1, " TS ", $3, $4, $5::json, $6::float8, $7::json, $8, $9::int, $10%s" NOT_FORGOTTEN
    " ON CONFLICT DO NOTHING";

/*
 * $1 request_id, $2 created_at, $3 user_id (only for the tombstone check: the
 * table holds the keyed hash), $4 client_id, $5 user_key, then the score.
 */
static const char prediction_sql[] =
    "INSERT INTO prediction_log (created_at, request_id, client_id, user_key, score_name,"
    " model_version, arm, shadow, value, as_of, predictors_digest, null_reason)"
    " SELECT to_timestamp($2::float8), $1, $4::varchar, $5, $6, $7, $8, $9::boolean, $10::float8,"
    " to_timestamp($11::float8), $12, $13" NOT_FORGOTTEN " ON CONFLICT DO NOTHING";

static enum store_write_result run(PGconn *conn, const char *sql, int n, const char *const *v,
                                   char *err, size_t err_len)
{
    if (pg_exec(conn, sql, n, v, err, err_len) == 0)
        return STORE_WRITE_OK;
    return PQstatus(conn) == CONNECTION_OK ? STORE_WRITE_INVALID : STORE_WRITE_DOWN;
}

static enum store_write_result write_dump(PGconn *conn, const struct store_row *r,
                                          const char *const base[4], char *err, size_t err_len)
{
    char sql[1024], bytes[24], ttf[32];
    const char *v[11] = {base[0], base[1], base[2], base[3]};

    snprintf(bytes, sizeof(bytes), "%lld", r->bytes);
    v[6] = r->bytes >= 0 ? bytes : NULL;
    if (r->kind == STORE_ROW_REQUEST) {
        v[4] = r->api == STORE_API_OTHER ? r->payload : r->cutoff_date;
        v[5] = r->api_name;
        v[7] = r->client_request_id;
        if (r->api == STORE_API_OTHER)
            return run(conn, api_request_sql, 8, v, err, err_len);
        snprintf(sql, sizeof(sql), other_request_sql, request_tables[r->api]);
        return run(conn, sql, 8, v, err, err_len);
    }
    snprintf(ttf, sizeof(ttf), "%.6f", r->time_to_featurize);
    v[4] = r->payload;
    v[5] = r->time_to_featurize >= 0 ? ttf : NULL;
    v[6] = r->time_json;
    v[7] = r->api_name;
    v[8] = r->bytes >= 0 ? bytes : NULL;
    v[9] = r->client_request_id;
    if (r->api == STORE_API_INSIGHTS) {
        v[10] = r->groupings;
        snprintf(sql, sizeof(sql), response_sql, response_tables[r->api], ", groupings",
                 ", coalesce($11::json, '[]'::json)");
        return run(conn, sql, 11, v, err, err_len);
    }
    snprintf(sql, sizeof(sql), response_sql, response_tables[r->api], "", "");
    return run(conn, sql, 10, v, err, err_len);
}

static enum store_write_result write_prediction(PGconn *conn, const struct store_row *r,
                                                const char *const base[4], char *err,
                                                size_t err_len)
{
    char value[40], as_of[40];
    const char *v[13] = {base[0], base[1], base[2], base[3]};

    snprintf(value, sizeof(value), "%.17g", r->value);
    snprintf(as_of, sizeof(as_of), "%.6f", r->as_of);
    v[4] = r->user_key;
    v[5] = r->score_name;
    v[6] = r->model_version;
    v[7] = r->arm;
    v[8] = r->shadow ? "true" : "false";
    v[9] = isfinite(r->value) ? value : NULL;
    v[10] = r->as_of >= 0 ? as_of : NULL;
    v[11] = r->digest;
    v[12] = r->null_reason;
    return run(conn, prediction_sql, 13, v, err, err_len);
}

enum store_write_result store_row_write(PGconn *conn, const struct store_row *r, char *err,
                                        size_t err_len)
{
    char ts[40], code[16];
    const char *base[4];
    const char *v[6];

    snprintf(ts, sizeof(ts), "%.6f", r->created_at);
    base[0] = r->request_id;
    base[1] = ts;
    base[2] = r->user_id;
    base[3] = r->client_id;
    switch (r->kind) {
    case STORE_ROW_USAGE:
        snprintf(code, sizeof(code), "%d", r->response_code);
        v[0] = r->request_id;
        v[1] = ts;
        v[2] = r->client_id;
        v[3] = r->api_name;
        v[4] = code;
        v[5] = r->client_request_id;
        return run(conn, usage_sql, 6, v, err, err_len);
    case STORE_ROW_UNAUTHORIZED:
        v[0] = r->request_id;
        v[1] = ts;
        v[2] = r->client_id;
        v[3] = r->token_prefix;
        v[4] = r->client_request_id;
        return run(conn, unauthorized_sql, 5, v, err, err_len);
    case STORE_ROW_REQUEST:
    case STORE_ROW_RESPONSE:
        return write_dump(conn, r, base, err, err_len);
    case STORE_ROW_PREDICTION:
        return write_prediction(conn, r, base, err, err_len);
    }
    snprintf(err, err_len, "unknown row kind");
    return STORE_WRITE_INVALID;
}

/* ------------------------------------------------------------------ spool lines */

static void put_str(json_t *o, const char *key, const char *s)
{
    if (s)
        json_object_set_new(o, key, json_string(s));
}

char *store_row_encode(const struct store_row *r, size_t *len)
{
    json_t *o = json_object();
    char *line;

    json_object_set_new(o, "k", json_integer(r->kind));
    json_object_set_new(o, "a", json_integer(r->api));
    json_object_set_new(o, "t", json_real(r->created_at));
    put_str(o, "rid", r->request_id);
    put_str(o, "crid", r->client_request_id);
    put_str(o, "cid", r->client_id);
    put_str(o, "uid", r->user_id);
    put_str(o, "api", r->api_name);
    put_str(o, "cut", r->cutoff_date);
    put_str(o, "grp", r->groupings);
    put_str(o, "tok", r->token_prefix);
    put_str(o, "pl", r->payload);
    put_str(o, "tj", r->time_json);
    json_object_set_new(o, "b", json_integer(r->bytes));
    json_object_set_new(o, "rc", json_integer(r->response_code));
    json_object_set_new(o, "ttf", json_real(r->time_to_featurize));
    if (r->kind == STORE_ROW_PREDICTION) {
        put_str(o, "uk", r->user_key);
        put_str(o, "sn", r->score_name);
        put_str(o, "mv", r->model_version);
        put_str(o, "arm", r->arm);
        put_str(o, "pd", r->digest);
        put_str(o, "nr", r->null_reason);
        json_object_set_new(o, "ao", json_real(r->as_of));
        json_object_set_new(o, "sh", json_boolean(r->shadow));
        if (isfinite(r->value))
            json_object_set_new(o, "v", json_real(r->value));
    }
    line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (line)
        *len = strlen(line);
    return line;
}

static void get_str(struct store_row *r, char **field, json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (json_is_string(v))
        store_row_set(r, field, json_string_value(v), (size_t)-1 / 2);
}

static void decode_prediction(struct store_row *r, json_t *o)
{
    json_t *v;

    get_str(r, &r->user_key, o, "uk");
    get_str(r, &r->score_name, o, "sn");
    get_str(r, &r->model_version, o, "mv");
    get_str(r, &r->arm, o, "arm");
    get_str(r, &r->digest, o, "pd");
    get_str(r, &r->null_reason, o, "nr");
    v = json_object_get(o, "ao");
    r->as_of = json_is_number(v) ? json_number_value(v) : -1;
    r->shadow = json_is_true(json_object_get(o, "sh"));
    v = json_object_get(o, "v");
    r->value = json_is_number(v) ? json_number_value(v) : NAN;
}

struct store_row *store_row_decode(const char *line, size_t len)
{
    json_t *o = json_loadb(line, len, 0, NULL);
    struct store_row *r = NULL;
    json_int_t kind, api;

    if (!json_is_object(o))
        goto out;
    kind = json_integer_value(json_object_get(o, "k"));
    api = json_integer_value(json_object_get(o, "a"));
    if (!json_is_integer(json_object_get(o, "k")) || kind < STORE_ROW_USAGE ||
        kind > STORE_ROW_PREDICTION || api < STORE_API_INSIGHTS || api > STORE_API_OTHER ||
        !json_is_number(json_object_get(o, "t")))
        goto out;
    r = store_row_new((enum store_row_kind)kind);
    r->api = (enum store_api)api;
    r->created_at = json_number_value(json_object_get(o, "t"));
    get_str(r, &r->request_id, o, "rid");
    get_str(r, &r->client_request_id, o, "crid");
    get_str(r, &r->client_id, o, "cid");
    get_str(r, &r->user_id, o, "uid");
    get_str(r, &r->api_name, o, "api");
    get_str(r, &r->cutoff_date, o, "cut");
    get_str(r, &r->groupings, o, "grp");
    get_str(r, &r->token_prefix, o, "tok");
    get_str(r, &r->payload, o, "pl");
    get_str(r, &r->time_json, o, "tj");
    r->bytes = json_integer_value(json_object_get(o, "b"));
    r->response_code = (int)json_integer_value(json_object_get(o, "rc"));
    if (json_is_number(json_object_get(o, "ttf")))
        r->time_to_featurize = json_number_value(json_object_get(o, "ttf"));
    if (!json_is_integer(json_object_get(o, "b")))
        r->bytes = -1;
    if (r->kind == STORE_ROW_PREDICTION)
        decode_prediction(r, o);
    if (!r->request_id ||
        (r->kind == STORE_ROW_PREDICTION && (!r->user_key || !r->score_name || !r->arm))) {
        store_row_free(r);
        r = NULL;
    }
out:
    json_decref(o);
    return r;
}
