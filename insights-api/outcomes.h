/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Outcomes (issue 18): what became of a borrower, as the client observed
 * it: {client_id, user_id, request_id?, loan_id?, outcome: "good"|"bad",
 * observed_at}, posted to POST /api/outcomes or imported from a CSV file
 * (`insights-api outcomes import FILE.csv`). One validator serves both, so
 * a line of the file is refused for exactly what the endpoint refuses.
 *
 * Stored in the outcomes table (migration 0009) with the user as
 * store_user_key(USER_KEY_SECRET, user_id), never the user id. One row per
 * (client, loan), or per (client, request) without a loan id: a repeat is
 * a no-op ("unchanged"), and a later observed_at replaces the outcome
 * ("updated"), since a loan first seen good can turn bad.
 */
#ifndef INSIGHTS_OUTCOMES_H
#define INSIGHTS_OUTCOMES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "common/validation.h"

#define OUTCOMES_ID_MAX 128        /* request_id, loan_id: characters at most */
#define OUTCOMES_FUTURE_SKEW_S 300 /* observed_at may be this far past the clock */

/* One outcome; strings borrowed from the JSON object it was read from. */
struct outcome {
    const char *client_id;
    const char *user_id;
    const char *request_id; /* NULL: not given */
    const char *loan_id;    /* NULL: not given */
    bool bad;
    int64_t observed_at; /* Unix seconds */
};

/*
 * Validate root's outcome fields into out, adding Credeau-style detail items
 * to v: outcome (missing, string_type, literal_error), observed_at
 * (missing, datetime_type, datetime_from_date_parsing, datetime_past: later
 * than now + OUTCOMES_FUTURE_SKEW_S), request_id and loan_id (string_type,
 * string_too_short, string_too_long; one of the two required), and any other
 * member (extra_forbidden). with_ids: also client_id and user_id (the
 * endpoint's admission checks those itself). Inputs are echoed only when
 * they cannot carry text (numbers, booleans, null) or are the enum's value.
 */
void outcomes_check(struct validation *v, const json_t *root, double now, bool with_ids,
                    struct outcome *out);

enum outcomes_status {
    OUTCOMES_RECORDED = 0, /* a new row */
    OUTCOMES_UPDATED,      /* a later observation replaced the outcome */
    OUTCOMES_UNCHANGED,    /* a repeat (or an older observation): nothing written */
};

const char *outcomes_status_name(enum outcomes_status s);

/*
 * Store one validated outcome. Returns its status, or -1 with err set (the
 * server's message; connection state tells whether it was the link).
 */
int outcomes_record(PGconn *conn, const char *user_key_secret, const struct outcome *o, char *err,
                    size_t err_len) __attribute__((warn_unused_result));

/* ------------------------------------------------------------ CSV */

#define OUTCOMES_CSV_FIELDS 16 /* columns of a line at most */

/*
 * One record of RFC 4180 CSV from *p (< end): fields separated by commas,
 * optionally double-quoted (a quote doubled inside), ended by LF or CRLF or
 * the end. Each field is copied NUL-terminated into buf (cap bytes,
 * fields[] pointing into it). *lines is advanced by the line breaks read
 * (quoted ones too). Returns the field count, 0 at the end of input, or -1
 * with *why set (an unclosed quote, text after a closing quote, more than
 * max fields, a field longer than the buffer, a NUL byte).
 */
int outcomes_csv_record(const char **p, const char *end, char *buf, size_t cap, const char **fields,
                        int max, long *lines, const char **why);

struct outcomes_import_report {
    long records;   /* data lines read */
    long recorded;  /* new rows */
    long updated;   /* replaced by a later observation */
    long unchanged; /* repeats */
    long rejected;  /* lines refused (each reported on the error stream) */
};

/*
 * Import a CSV file (text, len bytes) whose header names the columns
 * (client_id, user_id, outcome, observed_at required; request_id, loan_id
 * optional; any order). Every line is validated as the endpoint does; a bad
 * one is reported on errs as "line N: field: message" (never a value) and
 * skipped; the good ones are written in one transaction, so a database
 * failure imports nothing. now bounds observed_at. Returns 0 (report filled;
 * rejected lines possible), or -1 with err set (a bad header or a database
 * failure: nothing imported).
 */
int outcomes_import(PGconn *conn, const char *user_key_secret, const char *text, size_t len,
                    double now, FILE *errs, struct outcomes_import_report *report, char *err,
                    size_t err_len) __attribute__((warn_unused_result));

#endif
