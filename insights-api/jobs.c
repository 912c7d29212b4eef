/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Async insights jobs on PostgreSQL (the lifecycle is in jobs.h). The table
 * is the only shared state between replicas: a poll can land anywhere, so
 * every decision (reuse, deliver once, restart) is taken inside one
 * transaction holding the job row's lock, and every write by a worker is
 * conditional on it still owning the job.
 */
#include "insights-api/jobs.h"

#include "common/alloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOBS_GROUPINGS_ITEMS 32

/* Columns every job query returns, in the order parse_job reads them. */
#define JOB_COLS                                                                                   \
    "id, state, client_id, user_id, groupings, request_id, coalesce(owner, ''),"                   \
    " extract(epoch FROM requested_at), coalesce(extract(epoch FROM finished_at), 0), attempts,"   \
    " partial, coalesce(error, ''), result::text, delivered_at IS NOT NULL,"                       \
    " coalesce(extract(epoch FROM now() - finished_at), 0)"

static const char *const state_names[] = {"pending", "running", "done", "failed"};

const char *jobs_state_name(enum jobs_state s)
{
    return (unsigned)s < 4 ? state_names[s] : "unknown";
}

void jobs_job_clear(struct jobs_job *job)
{
    free(job->result);
    job->result = NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int jobs_groupings_key(const char *const *groupings, size_t n, char out[JOBS_GROUPINGS_MAX + 1])
{
    char items[JOBS_GROUPINGS_ITEMS][JOBS_GROUPINGS_MAX + 1];
    char *sorted[JOBS_GROUPINGS_ITEMS];
    size_t len = 0, count = 0;

    out[0] = '\0';
    if (n > JOBS_GROUPINGS_ITEMS)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;

        for (const char *p = groupings[i]; p && *p; p++, k++) {
            if (k >= JOBS_GROUPINGS_MAX || *p == ',')
                return -1;
            items[i][k] = (char)tolower((unsigned char)*p);
        }
        if (k == 0)
            return -1;
        items[i][k] = '\0';
        sorted[i] = items[i];
    }
    qsort(sorted, n, sizeof(sorted[0]), cmp_str);
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(sorted[i]);

        if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
            continue;
        if (len + (count ? 1 : 0) + k > JOBS_GROUPINGS_MAX)
            return -1;
        if (count++)
            out[len++] = ',';
        memcpy(out + len, sorted[i], k);
        len += k;
    }
    out[len] = '\0';
    return 0;
}

int jobs_key_add_as_of(char key[JOBS_GROUPINGS_MAX + 1], int64_t as_of)
{
    size_t len = strlen(key);
    int n = snprintf(key + len, JOBS_GROUPINGS_MAX + 1 - len, "%s%lld", JOBS_AS_OF_MARK,
                     (long long)as_of);

    if (n < 0 || (size_t)n >= JOBS_GROUPINGS_MAX + 1 - len) {
        key[len] = '\0';
        return -1;
    }
    return 0;
}

int jobs_key_add_data(char key[JOBS_GROUPINGS_MAX + 1], const char *stamp)
{
    size_t len = strlen(key);
    int n = snprintf(key + len, JOBS_GROUPINGS_MAX + 1 - len, "%s%s", JOBS_DATA_MARK, stamp);

    if (n < 0 || (size_t)n >= JOBS_GROUPINGS_MAX + 1 - len) {
        key[len] = '\0';
        return -1;
    }
    return 0;
}

size_t jobs_key_split(const char *key, int64_t *as_of, bool *given)
{
    const char *mark = strstr(key, JOBS_AS_OF_MARK);
    char *end;
    long long v;

    *given = false;
    if (mark) {
        v = strtoll(mark + strlen(JOBS_AS_OF_MARK), &end, 10);
        if ((*end == '\0' || *end == ';') && end != mark + strlen(JOBS_AS_OF_MARK)) {
            *as_of = (int64_t)v;
            *given = true;
        }
    }
    return strcspn(key, ";"); /* the groupings part ends at the first mark */
}

static void copy_field(char *dst, size_t cap, const PGresult *res, int row, int col)
{
    snprintf(dst, cap, "%s", PQgetvalue(res, row, col));
}

static enum jobs_state parse_state(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, state_names[i]) == 0)
            return (enum jobs_state)i;
    return JOBS_FAILED;
}

/* Fills job from row 0 of a JOB_COLS result. *delivered and *age_s are optional. */
static void parse_job(const PGresult *res, struct jobs_job *job, bool *delivered, double *age_s)
{
    memset(job, 0, sizeof(*job));
    job->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    job->state = parse_state(PQgetvalue(res, 0, 1));
    copy_field(job->client_id, sizeof(job->client_id), res, 0, 2);
    copy_field(job->user_id, sizeof(job->user_id), res, 0, 3);
    copy_field(job->groupings, sizeof(job->groupings), res, 0, 4);
    copy_field(job->request_id, sizeof(job->request_id), res, 0, 5);
    copy_field(job->owner, sizeof(job->owner), res, 0, 6);
    job->requested_at = strtod(PQgetvalue(res, 0, 7), NULL);
    job->finished_at = strtod(PQgetvalue(res, 0, 8), NULL);
    job->attempts = (int)strtol(PQgetvalue(res, 0, 9), NULL, 10);
    job->partial = strcmp(PQgetvalue(res, 0, 10), "t") == 0;
    copy_field(job->error, sizeof(job->error), res, 0, 11);
    if (!PQgetisnull(res, 0, 12)) {
        job->result = alloc_strdup(PQgetvalue(res, 0, 12));
    }
    if (delivered)
        *delivered = strcmp(PQgetvalue(res, 0, 13), "t") == 0;
    if (age_s)
        *age_s = strtod(PQgetvalue(res, 0, 14), NULL);
}

/* Runs a JOB_COLS query; 1 with *job filled, 0 no row, -1 error. */
static int query_job(PGconn *conn, const char *sql, int n, const char *const *v,
                     struct jobs_job *job, bool *delivered, double *age_s, char *err,
                     size_t err_len)
{
    PGresult *res = pg_query(conn, sql, n, v, err, err_len);
    int found;

    if (!res)
        return -1;
    found = PQntuples(res) > 0;
    if (found)
        parse_job(res, job, delivered, age_s);
    PQclear(res);
    return found;
}

/* ------------------------------------------------------------------ submit */

enum decision { KEEP_RUNNING, REUSE, DELIVER_ONCE, RESTART };

static enum decision decide(const struct jobs_job *job, bool delivered, double age_s, int ttl_s)
{
    switch (job->state) {
    case JOBS_PENDING:
    case JOBS_RUNNING:
        return KEEP_RUNNING;
    case JOBS_DONE:
        if (!job->partial)
            return age_s < ttl_s ? REUSE : RESTART;
        return delivered ? RESTART : DELIVER_ONCE;
    case JOBS_FAILED:
        return delivered ? RESTART : DELIVER_ONCE;
    }
    return RESTART;
}

static int submit_in_tx(PGconn *conn, const char *const v[4], int ttl_s, struct jobs_job *job,
                        char *err, size_t err_len)
{
    char id[24];
    const char *idv[2] = {id, v[3]};
    bool delivered = false;
    double age = 0;
    int found;

    found = query_job(conn,
                      "INSERT INTO insights_jobs (client_id, user_id, groupings, request_id) "
                      "VALUES ($1, $2, $3, $4) ON CONFLICT ON CONSTRAINT insights_jobs_key "
                      "DO NOTHING RETURNING " JOB_COLS,
                      4, v, job, NULL, NULL, err, err_len);
    if (found != 0)
        return found < 0 ? -1 : JOBS_OUTCOME_STARTED;
    found = query_job(conn,
                      "SELECT " JOB_COLS " FROM insights_jobs WHERE client_id = $1 AND "
                      "user_id = $2 AND groupings = $3 FOR UPDATE",
                      3, v, job, &delivered, &age, err, err_len);
    if (found <= 0) {
        if (found == 0)
            snprintf(err, err_len, "job vanished while submitting (deleted concurrently)");
        return -1;
    }
    snprintf(id, sizeof(id), "%lld", job->id);
    switch (decide(job, delivered, age, ttl_s)) {
    case KEEP_RUNNING:
        jobs_job_clear(job);
        return JOBS_OUTCOME_RUNNING;
    case REUSE:
        return JOBS_OUTCOME_RESULT;
    case DELIVER_ONCE:
        if (pg_exec(conn, "UPDATE insights_jobs SET delivered_at = now() WHERE id = $1", 1, idv,
                    err, err_len) < 0)
            return -1;
        return job->state == JOBS_DONE ? JOBS_OUTCOME_RESULT : JOBS_OUTCOME_FAILED;
    case RESTART:
        break;
    }
    jobs_job_clear(job);
    found = query_job(conn,
                      "UPDATE insights_jobs SET state = 'pending', request_id = $2, owner = NULL,"
                      " lease_until = NULL, attempts = 0, partial = false, error = NULL,"
                      " result = NULL, delivered_at = NULL, requested_at = now(),"
                      " started_at = NULL, finished_at = NULL, updated_at = now()"
                      " WHERE id = $1 RETURNING " JOB_COLS,
                      2, idv, job, NULL, NULL, err, err_len);
    return found > 0 ? JOBS_OUTCOME_STARTED : -1;
}

int jobs_submit(PGconn *conn, const char *client_id, const char *user_id, const char *groupings_key,
                const char *request_id, int ttl_s, struct jobs_job *job, char *err, size_t err_len)
{
    const char *v[4] = {client_id, user_id, groupings_key, request_id};
    int rc;

    memset(job, 0, sizeof(*job));
    if (ttl_s <= 0)
        ttl_s = JOBS_RESULT_TTL_DEFAULT;
    if (pg_exec(conn, "BEGIN", 0, NULL, err, err_len) < 0)
        return -1;
    rc = submit_in_tx(conn, v, ttl_s, job, err, err_len);
    if (rc >= 0 && pg_exec(conn, "COMMIT", 0, NULL, err, err_len) < 0)
        rc = -1;
    if (rc < 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        jobs_job_clear(job);
    }
    return rc;
}

/* ------------------------------------------------------------------ workers */

int jobs_claim(PGconn *conn, const char *owner, int lease_s, int attempts_max, struct jobs_job *job,
               char *err, size_t err_len)
{
    char lease[16], max[16];
    const char *v[3] = {owner, lease, max};
    int found;

    snprintf(lease, sizeof(lease), "%d", lease_s > 0 ? lease_s : JOBS_LEASE_DEFAULT);
    snprintf(max, sizeof(max), "%d", attempts_max > 0 ? attempts_max : JOBS_ATTEMPTS_DEFAULT);
    memset(job, 0, sizeof(*job));
    if (pg_exec(conn,
                "UPDATE insights_jobs SET state = 'failed', error = 'lease_expired', owner = NULL,"
                " lease_until = NULL, finished_at = now(), updated_at = now()"
                " WHERE state = 'running' AND lease_until < now() AND attempts >= $1::int",
                1, v + 2, err, err_len) < 0)
        return -1;
    found = query_job(conn,
                      "UPDATE insights_jobs SET state = 'running', owner = $1,"
                      " lease_until = now() + make_interval(secs => $2::int),"
                      " attempts = attempts + 1, started_at = now(), updated_at = now()"
                      " WHERE id = (SELECT id FROM insights_jobs WHERE state = 'pending' OR"
                      " (state = 'running' AND lease_until < now() AND attempts < $3::int)"
                      " ORDER BY requested_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
                      " RETURNING " JOB_COLS,
                      3, v, job, NULL, NULL, err, err_len);
    if (found > 0)
        jobs_job_clear(job); /* a claimed job has no result yet */
    return found;
}

int jobs_heartbeat(PGconn *conn, const char *owner, int lease_s, char *err, size_t err_len)
{
    char lease[16];
    const char *v[2] = {owner, lease};
    PGresult *res;
    int n;

    snprintf(lease, sizeof(lease), "%d", lease_s > 0 ? lease_s : JOBS_LEASE_DEFAULT);
    res = pg_query(conn,
                   "UPDATE insights_jobs SET lease_until = now() + make_interval(secs => $2::int),"
                   " updated_at = now() WHERE owner = $1 AND state = 'running'",
                   2, v, err, err_len);
    if (!res)
        return -1;
    n = (int)strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return n;
}

/* Runs an UPDATE guarded by ownership: 1 applied, 0 not owner, -1 error. */
static int owned_update(PGconn *conn, const char *sql, int n, const char *const *v, char *err,
                        size_t err_len)
{
    PGresult *res = pg_query(conn, sql, n, v, err, err_len);
    int rows;

    if (!res)
        return -1;
    rows = (int)strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return rows > 0 ? 1 : 0;
}

int jobs_finish(PGconn *conn, long long id, const char *owner, const char *result, bool partial,
                char *err, size_t err_len)
{
    char idtext[24];
    const char *v[4] = {idtext, owner, result, partial ? "true" : "false"};

    snprintf(idtext, sizeof(idtext), "%lld", id);
    return owned_update(conn,
                        "UPDATE insights_jobs SET state = 'done', result = $3::json,"
                        " partial = $4::boolean, owner = NULL, lease_until = NULL,"
                        " delivered_at = NULL, finished_at = now(), updated_at = now()"
                        " WHERE id = $1::bigint AND owner = $2 AND state = 'running'",
                        4, v, err, err_len);
}

int jobs_fail(PGconn *conn, long long id, const char *owner, const char *error_code, char *err,
              size_t err_len)
{
    char idtext[24], code[JOBS_ERROR_MAX + 1];
    const char *v[3] = {idtext, owner, code};

    snprintf(idtext, sizeof(idtext), "%lld", id);
    snprintf(code, sizeof(code), "%s", error_code && *error_code ? error_code : "internal");
    return owned_update(conn,
                        "UPDATE insights_jobs SET state = 'failed', error = $3, owner = NULL,"
                        " lease_until = NULL, delivered_at = NULL, finished_at = now(),"
                        " updated_at = now()"
                        " WHERE id = $1::bigint AND owner = $2 AND state = 'running'",
                        3, v, err, err_len);
}

int jobs_get(PGconn *conn, long long id, struct jobs_job *job, char *err, size_t err_len)
{
    char idtext[24];
    const char *v[1] = {idtext};

    snprintf(idtext, sizeof(idtext), "%lld", id);
    memset(job, 0, sizeof(*job));
    return query_job(conn, "SELECT " JOB_COLS " FROM insights_jobs WHERE id = $1::bigint", 1, v,
                     job, NULL, NULL, err, err_len);
}
