/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Outcomes (see outcomes.h): the one validator of an outcome, its INSERT
 * with the idempotency rules, and the CSV import that feeds lines through
 * the same validator. Reading order: validation, storing, CSV.
 */
#include "insights-api/outcomes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/pg.h"
#include "insights-api/auth.h"
#include "insights-api/inline_source.h"
#include "insights-api/store.h"
#include "insights-api/userdata_build.h"

/* ------------------------------------------------------------ validation */

static const char *const known_fields[] = {"client_id", "user_id",     "request_id", "loan_id",
                                           "outcome",   "observed_at", NULL};

/* Numbers, booleans and null are echoed as sent; text never is. */
static json_t *echo(const json_t *v)
{
    return json_is_number(v) || json_is_boolean(v) || json_is_null(v) ? json_deep_copy(v)
                                                                      : validation_redacted();
}

static void missing(struct validation *v, const char *field, const char *msg)
{
    validation_add(v, "missing", validation_loc(field, -1, NULL), msg, json_object(), NULL);
}

/* A string of 1..max characters; optional ones may be absent or null. */
static const char *check_text(struct validation *v, const json_t *root, const char *field,
                              size_t max, bool required)
{
    const json_t *s = json_object_get(root, field);

    if (!s || (!required && json_is_null(s))) {
        if (required)
            missing(v, field, "Field required");
        return NULL;
    }
    if (!json_is_string(s)) {
        validation_add(v, "string_type", validation_loc(field, -1, NULL),
                       "Input should be a valid string", echo(s), NULL);
        return NULL;
    }
    if (json_string_length(s) == 0) {
        validation_add(v, "string_too_short", validation_loc(field, -1, NULL),
                       "String should have at least 1 character", validation_redacted(),
                       json_pack("{s:i}", "min_length", 1));
        return NULL;
    }
    if (validation_utf8_chars(json_string_value(s), json_string_length(s)) > max) {
        validation_add_string_too_long(v, validation_loc(field, -1, NULL), validation_redacted(),
                                       max);
        return NULL;
    }
    return json_string_value(s);
}

static void check_outcome(struct validation *v, const json_t *root, struct outcome *out)
{
    const json_t *o = json_object_get(root, "outcome");
    const char *text;

    if (!o) {
        missing(v, "outcome", "Field required");
        return;
    }
    if (!json_is_string(o)) {
        validation_add(v, "string_type", validation_loc("outcome", -1, NULL),
                       "Input should be a valid string", echo(o), NULL);
        return;
    }
    text = json_string_value(o);
    if (strcmp(text, "good") != 0 && strcmp(text, "bad") != 0) {
        validation_add(v, "literal_error", validation_loc("outcome", -1, NULL),
                       "Input should be 'good' or 'bad'", validation_redacted(),
                       json_pack("{s:s}", "expected", "'good' or 'bad'"));
        return;
    }
    out->bad = strcmp(text, "bad") == 0;
}

static void check_observed_at(struct validation *v, const json_t *root, double now,
                              struct outcome *out)
{
    const json_t *t = json_object_get(root, "observed_at");
    int64_t ts;

    if (!t || json_is_null(t)) {
        missing(v, "observed_at", "Field required");
        return;
    }
    if (inline_source_check_past_time(v, "observed_at", t, now + OUTCOMES_FUTURE_SKEW_S, echo,
                                      &ts) == 0)
        out->observed_at = ts;
}

/* A member that is not there or null. */
static bool absent(const json_t *root, const char *field)
{
    const json_t *m = json_object_get(root, field);

    return !m || json_is_null(m);
}

void outcomes_check(struct validation *v, const json_t *root, double now, bool with_ids,
                    struct outcome *out)
{
    const char *key;
    json_t *val;

    memset(out, 0, sizeof(*out));
    if (with_ids) {
        out->user_id = check_text(v, root, "user_id", USER_DATA_USER_ID_MAX, true);
        out->client_id = check_text(v, root, "client_id", AUTH_ID_MAX, true);
    } else {
        out->user_id = json_string_value(json_object_get(root, "user_id"));
        out->client_id = json_string_value(json_object_get(root, "client_id"));
    }
    out->request_id = check_text(v, root, "request_id", OUTCOMES_ID_MAX, false);
    out->loan_id = check_text(v, root, "loan_id", OUTCOMES_ID_MAX, false);
    if (absent(root, "request_id") && absent(root, "loan_id"))
        missing(v, "loan_id", "Field required: loan_id, or request_id when there is no loan id");
    check_outcome(v, root, out);
    check_observed_at(v, root, now, out);
    json_object_foreach((json_t *)root, key, val)
    {
        if (validation_full(v))
            break;
        if (!validation_key_in(key, known_fields))
            validation_add(v, "extra_forbidden", validation_loc(key, -1, NULL),
                           "Extra inputs are not permitted", echo(val), NULL);
    }
}

/* ------------------------------------------------------------ storing */

const char *outcomes_status_name(enum outcomes_status s)
{
    switch (s) {
    case OUTCOMES_RECORDED:
        return "recorded";
    case OUTCOMES_UPDATED:
        return "updated";
    case OUTCOMES_UNCHANGED:
        return "unchanged";
    }
    return "unknown";
}

/*
 * $1 client_id, $2 user_key, $3 request_id, $4 loan_id, $5 outcome, $6
 * observed_at. RETURNING gives a row only when something was written;
 * xmax = 0 tells an insert from an update.
 */
#define OUTCOMES_INSERT                                                                            \
    "INSERT INTO outcomes (client_id, user_key, request_id, loan_id, outcome, observed_at)"        \
    " VALUES ($1, $2, $3, $4, $5, to_timestamp($6::float8)) ON CONFLICT "
#define OUTCOMES_UPDATE                                                                            \
    " DO UPDATE SET outcome = EXCLUDED.outcome, observed_at = EXCLUDED.observed_at"                \
    " WHERE outcomes.observed_at < EXCLUDED.observed_at RETURNING (xmax = 0)"

static const char by_loan_sql[] =
    OUTCOMES_INSERT "(client_id, loan_id) WHERE loan_id IS NOT NULL" OUTCOMES_UPDATE;
static const char by_request_sql[] =
    OUTCOMES_INSERT "(client_id, request_id) WHERE loan_id IS NULL" OUTCOMES_UPDATE;

int outcomes_record(PGconn *conn, const char *user_key_secret, const struct outcome *o, char *err,
                    size_t err_len)
{
    char key[CRYPTO_SHA256_HEX_LEN + 1], when[32];
    const char *v[6] = {o->client_id, key, o->request_id, o->loan_id, o->bad ? "bad" : "good",
                        when};
    PGresult *res;
    int status;

    if (!o->client_id || !o->user_id || (!o->loan_id && !o->request_id)) {
        snprintf(err, err_len, "outcome: client, user and a loan or request id are required");
        return -1;
    }
    if (store_user_key(user_key_secret, o->user_id, key) < 0) {
        snprintf(err, err_len, "outcome: cannot compute the user key");
        return -1;
    }
    snprintf(when, sizeof(when), "%lld", (long long)o->observed_at);
    res = pg_query(conn, o->loan_id ? by_loan_sql : by_request_sql, 6, v, err, err_len);
    if (!res)
        return -1;
    if (PQntuples(res) == 0)
        status = OUTCOMES_UNCHANGED;
    else
        status = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? OUTCOMES_RECORDED : OUTCOMES_UPDATED;
    PQclear(res);
    return status;
}

/* ------------------------------------------------------------ CSV */

/* A quoted field from *p (past its opening quote) into buf; returns its length or -1. */
static long quoted_field(const char **p, const char *end, char *buf, size_t cap, long *lines,
                         const char **why)
{
    size_t n = 0;

    for (;;) {
        if (*p >= end) {
            *why = "a quoted field is not closed";
            return -1;
        }
        if (**p == '"') {
            if (*p + 1 < end && (*p)[1] == '"') {
                *p += 1;
            } else {
                *p += 1;
                return (long)n;
            }
        }
        if (**p == '\n')
            (*lines)++;
        if (n + 1 >= cap) {
            *why = "a field is too long";
            return -1;
        }
        buf[n++] = **p;
        *p += 1;
    }
}

/* A bare field: up to a comma or the line's end. Returns its length or -1. */
static long bare_field(const char **p, const char *end, char *buf, size_t cap, const char **why)
{
    size_t n = 0;

    while (*p < end && **p != ',' && **p != '\n' &&
           !(**p == '\r' && *p + 1 < end && (*p)[1] == '\n')) {
        if (**p == '"') {
            *why = "a quote inside an unquoted field";
            return -1;
        }
        if (n + 1 >= cap) {
            *why = "a field is too long";
            return -1;
        }
        buf[n++] = **p;
        *p += 1;
    }
    return (long)n;
}

/* After a field: a comma (true: another field follows), a line end or the end (false). */
static int field_end(const char **p, const char *end, long *lines, const char **why)
{
    if (*p >= end)
        return 0;
    if (**p == ',') {
        *p += 1;
        return 1;
    }
    if (**p == '\r' && *p + 1 < end && (*p)[1] == '\n')
        *p += 1;
    if (**p == '\n') {
        *p += 1;
        (*lines)++;
        return 0;
    }
    *why = "text after a closing quote";
    return -1;
}

int outcomes_csv_record(const char **p, const char *end, char *buf, size_t cap, const char **fields,
                        int max, long *lines, const char **why)
{
    int n = 0, more = 1;

    if (*p >= end)
        return 0;
    if (memchr(*p, '\0', (size_t)(end - *p))) {
        *why = "a NUL byte";
        return -1;
    }
    while (more > 0) {
        long len;

        if (n == max) {
            *why = "too many fields";
            return -1;
        }
        if (*p < end && **p == '"') {
            *p += 1;
            len = quoted_field(p, end, buf, cap, lines, why);
        } else {
            len = bare_field(p, end, buf, cap, why);
        }
        if (len < 0)
            return -1;
        fields[n++] = buf;
        buf[len] = '\0';
        buf += len + 1;
        cap -= (size_t)len + 1;
        more = field_end(p, end, lines, why);
        if (more < 0)
            return -1;
    }
    return n;
}

/* Skip the rest of a bad record: up to the next line break outside quotes is not knowable, so
 * the next physical line. */
static void skip_line(const char **p, const char *end, long *lines)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));

    *p = nl ? nl + 1 : end;
    if (nl)
        (*lines)++;
}

struct csv_columns {
    int index[6]; /* of known_fields[i] in a line, -1 when absent */
    int count;
};

static int read_header(const char **p, const char *end, struct csv_columns *cols, long *lines,
                       char *err, size_t err_len)
{
    char buf[1024];
    const char *f[OUTCOMES_CSV_FIELDS], *why = NULL;
    int n = outcomes_csv_record(p, end, buf, sizeof(buf), f, OUTCOMES_CSV_FIELDS, lines, &why);

    if (n <= 0) {
        snprintf(err, err_len, "line 1: no header (%s)", why ? why : "empty file");
        return -1;
    }
    for (int i = 0; i < 6; i++)
        cols->index[i] = -1;
    cols->count = n;
    for (int j = 0; j < n; j++) {
        int k = 0;

        while (known_fields[k] && strcmp(known_fields[k], f[j]) != 0)
            k++;
        if (!known_fields[k] || cols->index[k] >= 0) {
            snprintf(err, err_len,
                     "line 1: column %d is not one of client_id, user_id, "
                     "request_id, loan_id, outcome, observed_at (or is repeated)",
                     j + 1);
            return -1;
        }
        cols->index[k] = j;
    }
    return 0;
}

/* A data line as the JSON object the endpoint would receive (empty cells absent). NULL: not
 * UTF-8. */
static json_t *line_object(const struct csv_columns *cols, const char *const *f)
{
    json_t *o = json_object();

    for (int k = 0; k < 6; k++) {
        json_t *s;

        if (cols->index[k] < 0 || !f[cols->index[k]][0])
            continue;
        s = json_string(f[cols->index[k]]);
        if (!s) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, known_fields[k], s);
    }
    return o;
}

/* Report each detail item of a refused line: "line N: field: message". */
static void report_items(FILE *errs, long line, json_t *list)
{
    size_t i;
    json_t *item;

    json_array_foreach(list, i, item)
    {
        json_t *loc = json_object_get(item, "loc");
        const char *field = json_string_value(json_array_get(loc, 1));

        fprintf(errs, "line %ld: %s: %s\n", line, field ? field : "line",
                json_string_value(json_object_get(item, "msg")));
    }
}

struct import_state {
    PGconn *conn;
    const char *secret;
    double now;
    FILE *errs;
    struct outcomes_import_report *r;
};

/* One data record (fields f[0..n-1] read from line). Returns 0, or -1 on a database error. */
static int import_record(struct import_state *st, const struct csv_columns *cols,
                         const char *const *f, int n, long line, char *err, size_t err_len)
{
    struct validation v;
    struct outcome o;
    json_t *obj;
    int status;

    st->r->records++;
    if (n != cols->count) {
        fprintf(st->errs, "line %ld: line: %d fields, the header has %d\n", line, n, cols->count);
        st->r->rejected++;
        return 0;
    }
    obj = line_object(cols, f);
    if (!obj) {
        fprintf(st->errs, "line %ld: line: not valid UTF-8\n", line);
        st->r->rejected++;
        return 0;
    }
    validation_init(&v, 16);
    outcomes_check(&v, obj, st->now, true, &o);
    if (json_array_size(v.list) > 0) {
        report_items(st->errs, line, v.list);
        st->r->rejected++;
        json_decref(v.list);
        json_decref(obj);
        return 0;
    }
    json_decref(v.list);
    status = outcomes_record(st->conn, st->secret, &o, err, err_len);
    json_decref(obj);
    if (status < 0)
        return -1;
    st->r->recorded += status == OUTCOMES_RECORDED;
    st->r->updated += status == OUTCOMES_UPDATED;
    st->r->unchanged += status == OUTCOMES_UNCHANGED;
    return 0;
}

static int import_lines(struct import_state *st, const struct csv_columns *cols, const char *p,
                        const char *end, long lines, char *err, size_t err_len)
{
    char *buf = malloc((size_t)(end - p) + OUTCOMES_CSV_FIELDS + 1);
    const char *f[OUTCOMES_CSV_FIELDS];
    int rc = 0;

    if (!buf)
        abort();
    while (p < end) {
        long line = lines + 1;
        const char *why = NULL;
        int n = outcomes_csv_record(&p, end, buf, (size_t)(end - p) + OUTCOMES_CSV_FIELDS + 1, f,
                                    OUTCOMES_CSV_FIELDS, &lines, &why);

        if (n < 0) {
            fprintf(st->errs, "line %ld: line: %s\n", line, why);
            st->r->records++;
            st->r->rejected++;
            skip_line(&p, end, &lines);
            continue;
        }
        if (n == 0 || (n == 1 && !f[0][0]))
            continue; /* a blank line */
        if (import_record(st, cols, f, n, line, err, err_len) < 0) {
            char why_db[512];

            snprintf(why_db, sizeof(why_db), "%s", err);
            snprintf(err, err_len, "line %ld: %s", line, why_db);
            rc = -1;
            break;
        }
    }
    free(buf);
    return rc;
}

int outcomes_import(PGconn *conn, const char *user_key_secret, const char *text, size_t len,
                    double now, FILE *errs, struct outcomes_import_report *report, char *err,
                    size_t err_len)
{
    struct import_state st = {conn, user_key_secret, now, errs, report};
    const char *p = text, *end = text + len;
    struct csv_columns cols;
    long lines = 0;

    memset(report, 0, sizeof(*report));
    if (read_header(&p, end, &cols, &lines, err, err_len) < 0)
        return -1;
    if (cols.index[0] < 0 || cols.index[1] < 0 || cols.index[4] < 0 || cols.index[5] < 0) {
        snprintf(err, err_len,
                 "line 1: the header needs client_id, user_id, outcome and observed_at");
        return -1;
    }
    if (pg_exec(conn, "BEGIN", 0, NULL, err, err_len) < 0)
        return -1;
    if (import_lines(&st, &cols, p, end, lines, err, err_len) < 0 ||
        pg_exec(conn, "COMMIT", 0, NULL, err, err_len) < 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        report->recorded = report->updated = report->unchanged = 0;
        return -1;
    }
    return 0;
}
