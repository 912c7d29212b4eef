/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request log writer (see reqlog.h). Producers are the request threads;
 * the consumer is one writer thread that owns the PostgreSQL connection. The
 * queue is a ring of fixed-size rows allocated once (DB_QUEUE_MAX): the writer
 * copies a batch out under the lock, writes it in one transaction without the
 * lock, and only then removes it, so a failed write loses nothing that is
 * still queued. Rows are lost only when the queue is full or at shutdown, and
 * each such row is counted in smsx_request_log_rows_dropped_total.
 *
 * The table is created by a migration under an advisory lock on the first
 * successful connection, so replicas starting together do not collide and a
 * database that comes up late is migrated when it appears.
 */
#include "sms-extraction/reqlog.h"

#include "common/alloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/pg.h"

#define REQLOG_BATCH_MAX 128
#define REQLOG_BACKOFF_MIN_MS 200
#define REQLOG_BACKOFF_MAX_MS 10000
#define REQLOG_LOG_EVERY_S 30 /* at most one failure line per this many seconds */
#define REQLOG_ID_MAX 128
#define REQLOG_LOCK_KEY 0x736d73785f6c6f67LL /* "smsx_log" */

static const struct pg_migration reqlog_migrations[] = {
    {"smsx_0001_request_log", "CREATE TABLE IF NOT EXISTS smsx_request_log ("
                              " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                              " request_id varchar(128) NOT NULL,"
                              " client_id varchar(128),"
                              " user_id varchar(128),"
                              " sms_count integer NOT NULL,"
                              " extracted_count integer NOT NULL,"
                              " status integer NOT NULL,"
                              " latency_ms double precision NOT NULL,"
                              " created_at timestamptz NOT NULL DEFAULT now());"
                              "CREATE INDEX IF NOT EXISTS smsx_request_log_created_at_idx"
                              " ON smsx_request_log (created_at);"
                              "CREATE INDEX IF NOT EXISTS smsx_request_log_client_id_idx"
                              " ON smsx_request_log (client_id, created_at);"},
};

static const char insert_sql[] =
    "INSERT INTO smsx_request_log (request_id, client_id, user_id, sms_count, "
    "extracted_count, status, latency_ms, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8::double precision))";

struct reqlog_row {
    char request_id[REQLOG_ID_MAX + 1];
    char client_id[REQLOG_ID_MAX + 1];
    char user_id[REQLOG_ID_MAX + 1];
    bool has_client, has_user;
    long sms_count, extracted_count;
    int status;
    double latency_ms;
    double created_at; /* epoch seconds */
};

struct reqlog {
    const struct smsx_config *cfg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct reqlog_row *ring;
    size_t cap, head, count; /* guarded by lock */
    bool stopping;           /* guarded by lock */
    long grace_ms;           /* guarded by lock */

    /* writer thread only */
    PGconn *conn;
    bool migrated;
    long backoff_ms;
    time_t last_log;
    unsigned long suppressed;
    struct reqlog_row batch[REQLOG_BATCH_MAX];

    struct metrics *metrics;
    struct metrics_counter *written, *dropped, *failures;
    struct metrics_gauge *depth;
};

static void copy_id(char *dst, const char *src, bool *has)
{
    if (has)
        *has = src != NULL;
    snprintf(dst, REQLOG_ID_MAX + 1, "%s", src ? src : "");
}

static double now_epoch(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void reqlog_log(struct reqlog *s, const struct reqlog_entry *e)
{
    struct reqlog_row *row;

    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    if (s->count == s->cap || s->stopping) {
        pthread_mutex_unlock(&s->lock);
        metrics_counter_add(s->dropped, 1);
        return;
    }
    row = &s->ring[(s->head + s->count) % s->cap];
    copy_id(row->request_id, e->request_id, NULL);
    copy_id(row->client_id, e->client_id, &row->has_client);
    copy_id(row->user_id, e->user_id, &row->has_user);
    row->sms_count = e->sms_count;
    row->extracted_count = e->extracted_count;
    row->status = e->status;
    row->latency_ms = e->latency_ms;
    row->created_at = now_epoch();
    s->count++;
    metrics_gauge_set(s->depth, (long long)s->count);
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

/* One warn line per REQLOG_LOG_EVERY_S; the others are counted into the next. */
static void log_failure(struct reqlog *s, const char *what, const char *why)
{
    time_t now = time(NULL);

    metrics_dependency_error(s->metrics, "postgres");
    if (s->last_log && now - s->last_log < REQLOG_LOG_EVERY_S) {
        s->suppressed++;
        return;
    }
    log_warn(NULL, what, LOG_STR("dependency", "postgres"), LOG_STR("error", why),
             LOG_INT("suppressed", s->suppressed), LOG_INT("retry_in_ms", s->backoff_ms));
    s->last_log = now;
    s->suppressed = 0;
}

static void disconnect(struct reqlog *s)
{
    PQfinish(s->conn);
    s->conn = NULL;
}

static int connect_db(struct reqlog *s)
{
    const struct smsx_config *cfg = s->cfg;
    char port[16], err[512];
    struct pg_params p = {
        .host = cfg->db_host,
        .port = port,
        .user = cfg->db_user,
        .password = cfg->db_password,
        .dbname = cfg->db_name,
        .sslmode = cfg->db_sslmode,
        .application_name = "sms-extraction",
        .connect_timeout_s = 5,
    };

    snprintf(port, sizeof(port), "%ld", cfg->db_port);
    s->conn = pg_connect(&p, err, sizeof(err));
    if (!s->conn) {
        log_failure(s, "request log connect failed", err);
        return -1;
    }
    if (!s->migrated) {
        if (pg_migrate(s->conn, REQLOG_LOCK_KEY, reqlog_migrations,
                       sizeof(reqlog_migrations) / sizeof(reqlog_migrations[0]), err,
                       sizeof(err)) < 0) {
            log_failure(s, "request log migration failed", err);
            disconnect(s);
            return -1;
        }
        s->migrated = true;
    }
    log_info(NULL, "request log connected", LOG_STR("dependency", "postgres"),
             LOG_STR("host", cfg->db_host), LOG_STR("database", cfg->db_name));
    s->last_log = 0;
    return 0;
}

static int write_row(struct reqlog *s, const struct reqlog_row *r, char *err, size_t err_len)
{
    char sms[24], extracted[24], status[16], latency[32], created[32];
    const char *params[8] = {r->request_id,
                             r->has_client ? r->client_id : NULL,
                             r->has_user ? r->user_id : NULL,
                             sms,
                             extracted,
                             status,
                             latency,
                             created};

    snprintf(sms, sizeof(sms), "%ld", r->sms_count);
    snprintf(extracted, sizeof(extracted), "%ld", r->extracted_count);
    snprintf(status, sizeof(status), "%d", r->status);
    snprintf(latency, sizeof(latency), "%.3f", r->latency_ms);
    snprintf(created, sizeof(created), "%.6f", r->created_at);
    return pg_exec(s->conn, insert_sql, 8, params, err, err_len);
}

/* Writes n rows of s->batch in one transaction. */
static int write_batch(struct reqlog *s, size_t n)
{
    char err[512];

    if (pg_exec(s->conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (write_row(s, &s->batch[i], err, sizeof(err)) < 0)
            goto fail;
    if (pg_exec(s->conn, "COMMIT", 0, NULL, err, sizeof(err)) < 0)
        goto fail;
    return 0;
fail:
    metrics_counter_add(s->failures, 1);
    log_failure(s, "request log write failed", err);
    disconnect(s); /* a fresh connection also clears an aborted transaction */
    return -1;
}

/* Waits up to ms for work or a stop; called with the lock held. */
static void wait_locked(struct reqlog *s, long ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->wake, &s->lock, &ts);
}

static void backoff(struct reqlog *s, double deadline)
{
    long ms = s->backoff_ms;

    pthread_mutex_lock(&s->lock);
    if (s->stopping) {
        /* Never wait past the shutdown grace deadline. */
        double left_ms = (deadline - now_epoch()) * 1000.0;

        ms = left_ms < 0 ? 0 : (left_ms < ms ? (long)left_ms : ms);
    }
    if (ms > 0)
        wait_locked(s, ms);
    pthread_mutex_unlock(&s->lock);
    s->backoff_ms =
        s->backoff_ms * 2 > REQLOG_BACKOFF_MAX_MS ? REQLOG_BACKOFF_MAX_MS : s->backoff_ms * 2;
}

/* Copies up to REQLOG_BATCH_MAX queued rows; returns how many (0 = stop now). */
static size_t take_batch(struct reqlog *s, double *deadline)
{
    size_t n;

    pthread_mutex_lock(&s->lock);
    while (s->count == 0 && !s->stopping)
        wait_locked(s, 1000);
    if (s->stopping && *deadline == 0)
        *deadline = now_epoch() + s->grace_ms / 1000.0;
    n = s->count < REQLOG_BATCH_MAX ? s->count : REQLOG_BATCH_MAX;
    if (s->stopping && now_epoch() >= *deadline)
        n = 0;
    for (size_t i = 0; i < n; i++)
        s->batch[i] = s->ring[(s->head + i) % s->cap];
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void pop_batch(struct reqlog *s, size_t n)
{
    pthread_mutex_lock(&s->lock);
    s->head = (s->head + n) % s->cap;
    s->count -= n;
    metrics_gauge_set(s->depth, (long long)s->count);
    pthread_mutex_unlock(&s->lock);
    metrics_counter_add(s->written, n);
}

static void *writer_main(void *arg)
{
    struct reqlog *s = arg;
    double deadline = 0; /* set when stopping begins */
    size_t n;

    /* Connect (and migrate) right away, so the table exists before the first request;
     * a failure here is retried when there is something to write. */
    connect_db(s);

    while ((n = take_batch(s, &deadline)) > 0) {
        if (!s->conn && connect_db(s) < 0) {
            backoff(s, deadline);
            continue;
        }
        if (write_batch(s, n) < 0) {
            backoff(s, deadline);
            continue;
        }
        s->backoff_ms = REQLOG_BACKOFF_MIN_MS;
        pop_batch(s, n);
    }
    disconnect(s);
    return NULL;
}

static void register_metrics(struct reqlog *s)
{
    struct metrics *m = s->metrics;

    s->written = metrics_counter_new(m, "request_log_rows_written_total",
                                     "request-log rows written to PostgreSQL", NULL);
    s->dropped = metrics_counter_new(m, "request_log_rows_dropped_total",
                                     "request-log rows lost (queue full or shutdown)", NULL);
    s->failures = metrics_counter_new(m, "request_log_write_failures_total",
                                      "request-log batches that failed to write (retried)", NULL);
    s->depth = metrics_gauge_new(m, "request_log_queue_depth", "request-log rows waiting");
}

struct reqlog *reqlog_start(const struct smsx_config *cfg, struct metrics *metrics, bool *enabled,
                            char *err, size_t err_len)
{
    struct reqlog *s;
    int rc;

    *enabled = cfg->db_host && *cfg->db_host;
    if (!*enabled)
        return NULL;
    s = alloc_zeroed(1, sizeof(*s));
    s->ring = alloc_zeroed((size_t)cfg->db_queue_max, sizeof(*s->ring));
    s->cfg = cfg;
    s->cap = (size_t)cfg->db_queue_max;
    s->metrics = metrics;
    s->backoff_ms = REQLOG_BACKOFF_MIN_MS;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (metrics)
        register_metrics(s);
    rc = pthread_create(&s->thread, NULL, writer_main, s);
    if (rc != 0) {
        snprintf(err, err_len, "request log: cannot start writer thread: %s", strerror(rc));
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->wake);
        free(s->ring);
        free(s);
        return NULL;
    }
    return s;
}

void reqlog_stop(struct reqlog *s, long grace_ms)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    s->grace_ms = grace_ms;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    if (s->count > 0) {
        metrics_counter_add(s->dropped, s->count);
        log_warn(NULL, "request log rows dropped at shutdown", LOG_INT("rows", s->count));
    }
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s->ring);
    free(s);
}
