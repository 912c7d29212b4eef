/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replica's job workers: a few threads that claim jobs (jobs_claim) and
 * run the compute callback, plus one heartbeat thread that renews the
 * leases of everything this replica is running with a single UPDATE. Each
 * thread owns its connection, reconnecting with backoff, so PostgreSQL
 * going away only pauses the workers; their jobs' leases then expire and
 * whichever replica reaches the database first takes them over.
 *
 * Workers wait on a condition variable between polls: a local submit wakes
 * one at once (jobs_runner_kick), jobs created by other replicas are found
 * by the poll every poll_ms.
 */
#include "insights-api/jobs.h"

#include "common/alloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNNER_THREADS_MAX 64
#define RUNNER_POLL_DEFAULT_MS 250
#define RUNNER_BACKOFF_MAX_MS 5000
#define RUNNER_STORE_TRIES 3

struct jobs_runner {
    struct jobs_runner_config cfg;
    char *strs[8]; /* our copies of the pg params and owner */
    pthread_t workers[RUNNER_THREADS_MAX];
    int n_workers;
    pthread_t heartbeat;
    bool heartbeat_started;

    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;            /* guarded by lock */
    unsigned long long kicks; /* guarded by lock */
    int running;              /* guarded by lock */

    struct metrics_counter *outcomes;
    struct metrics_gauge *running_gauge;
};

static const char *keep(struct jobs_runner *r, int i, const char *v)
{
    if (!v)
        return NULL;
    r->strs[i] = alloc_strdup(v);
    return r->strs[i];
}

static bool stopping(struct jobs_runner *r)
{
    bool s;

    pthread_mutex_lock(&r->lock);
    s = r->stopping;
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* Sleeps up to ms, or until a kick (seen > *seen_kicks) or stop. */
static void nap(struct jobs_runner *r, long ms, unsigned long long *seen_kicks)
{
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->lock);
    while (!r->stopping && (!seen_kicks || r->kicks == *seen_kicks)) {
        if (pthread_cond_timedwait(&r->wake, &r->lock, &deadline) == ETIMEDOUT)
            break;
    }
    if (seen_kicks)
        *seen_kicks = r->kicks;
    pthread_mutex_unlock(&r->lock);
}

static void set_running(struct jobs_runner *r, int delta)
{
    pthread_mutex_lock(&r->lock);
    r->running += delta;
    if (r->running_gauge)
        metrics_gauge_set(r->running_gauge, r->running);
    pthread_mutex_unlock(&r->lock);
}

static void count(struct jobs_runner *r, const char *outcome)
{
    if (r->outcomes)
        metrics_counter_add_label(r->outcomes, outcome, 1);
}

/* A usable connection, reconnecting when needed; NULL while the database is away. */
static PGconn *connection(struct jobs_runner *r, PGconn **conn, long *backoff_ms)
{
    char err[256];

    if (*conn && PQstatus(*conn) == CONNECTION_OK)
        return *conn;
    if (*conn)
        PQfinish(*conn);
    *conn = pg_connect(&r->cfg.pg, err, sizeof(err));
    if (*conn) {
        *backoff_ms = 0;
        return *conn;
    }
    *backoff_ms = *backoff_ms ? *backoff_ms * 2 : 100;
    if (*backoff_ms > RUNNER_BACKOFF_MAX_MS)
        *backoff_ms = RUNNER_BACKOFF_MAX_MS;
    return NULL;
}

/*
 * Stores the outcome of one computation, retrying through reconnects:
 * losing it would make another replica compute the job again.
 */
static void store_outcome(struct jobs_runner *r, PGconn **conn, const struct jobs_job *job, int crc,
                          const char *result, bool partial, const char *code)
{
    long backoff = 0;
    char err[256];
    int rc = -1;

    for (int i = 0; i < RUNNER_STORE_TRIES && rc < 0; i++) {
        if (i > 0)
            nap(r, backoff ? backoff : 100, NULL);
        if (!connection(r, conn, &backoff))
            continue;
        if (crc == 0)
            rc = jobs_finish(*conn, job->id, r->cfg.owner, result, partial, err, sizeof(err));
        else
            rc = jobs_fail(*conn, job->id, r->cfg.owner, code, err, sizeof(err));
        if (rc < 0 && crc == 0 && PQstatus(*conn) == CONNECTION_OK) {
            /* The result itself was refused (not JSON): fail the job instead. */
            crc = -1;
            code = "bad_result";
        }
    }
    if (rc < 0)
        count(r, "unstored");
    else if (rc == 0)
        count(r, "lost");
    else if (crc != 0)
        count(r, "failed");
    else
        count(r, partial ? "partial" : "done");
}

static void run_one(struct jobs_runner *r, PGconn **conn, const struct jobs_job *job)
{
    char code[JOBS_ERROR_MAX + 1] = "";
    char *result = NULL;
    bool partial = false;
    int crc;

    set_running(r, 1);
    crc = r->cfg.compute(r->cfg.ctx, job, &result, &partial, code, sizeof(code));
    if (crc == 0 && !result) {
        crc = -1;
        snprintf(code, sizeof(code), "no_result");
    }
    store_outcome(r, conn, job, crc, result, partial, code);
    free(result);
    set_running(r, -1);
}

static void *worker_main(void *arg)
{
    struct jobs_runner *r = arg;
    unsigned long long seen = 0;
    PGconn *conn = NULL;
    long backoff = 0;
    char err[256];

    while (!stopping(r)) {
        struct jobs_job job;
        int rc;

        if (!connection(r, &conn, &backoff)) {
            nap(r, backoff, NULL);
            continue;
        }
        rc = jobs_claim(conn, r->cfg.owner, r->cfg.lease_s, r->cfg.attempts_max, &job, err,
                        sizeof(err));
        if (rc <= 0) {
            nap(r, rc < 0 ? 200 : r->cfg.poll_ms, &seen);
            continue;
        }
        run_one(r, &conn, &job);
        jobs_job_clear(&job);
    }
    if (conn)
        PQfinish(conn);
    return NULL;
}

static void *heartbeat_main(void *arg)
{
    struct jobs_runner *r = arg;
    long period_ms = (long)r->cfg.lease_s * 1000 / 3, backoff = 0;
    PGconn *conn = NULL;
    char err[256];
    int running;

    while (!stopping(r)) {
        nap(r, period_ms, NULL);
        pthread_mutex_lock(&r->lock);
        running = r->running;
        pthread_mutex_unlock(&r->lock);
        if (running == 0 || !connection(r, &conn, &backoff))
            continue;
        if (jobs_heartbeat(conn, r->cfg.owner, r->cfg.lease_s, err, sizeof(err)) < 0) {
            PQfinish(conn);
            conn = NULL;
        }
    }
    if (conn)
        PQfinish(conn);
    return NULL;
}

static void free_runner(struct jobs_runner *r)
{
    for (int i = 0; i < 8; i++)
        free(r->strs[i]);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    free(r);
}

static void copy_config(struct jobs_runner *r, const struct jobs_runner_config *cfg)
{
    r->cfg = *cfg;
    r->cfg.pg.host = keep(r, 0, cfg->pg.host);
    r->cfg.pg.port = keep(r, 1, cfg->pg.port);
    r->cfg.pg.user = keep(r, 2, cfg->pg.user);
    r->cfg.pg.password = keep(r, 3, cfg->pg.password);
    r->cfg.pg.dbname = keep(r, 4, cfg->pg.dbname);
    r->cfg.pg.sslmode = keep(r, 5, cfg->pg.sslmode);
    r->cfg.pg.application_name =
        keep(r, 6, cfg->pg.application_name ? cfg->pg.application_name : "insights-api-jobs");
    r->cfg.owner = keep(r, 7, cfg->owner);
    if (r->cfg.threads <= 0)
        r->cfg.threads = 1;
    if (r->cfg.threads > RUNNER_THREADS_MAX)
        r->cfg.threads = RUNNER_THREADS_MAX;
    if (r->cfg.lease_s <= 0)
        r->cfg.lease_s = JOBS_LEASE_DEFAULT;
    if (r->cfg.attempts_max <= 0)
        r->cfg.attempts_max = JOBS_ATTEMPTS_DEFAULT;
    if (r->cfg.poll_ms <= 0)
        r->cfg.poll_ms = RUNNER_POLL_DEFAULT_MS;
}

struct jobs_runner *jobs_runner_start(const struct jobs_runner_config *cfg, struct metrics *metrics,
                                      char *err, size_t err_len)
{
    struct jobs_runner *r;
    pthread_condattr_t ca;
    int rc = 0;

    if (!cfg->compute || !cfg->owner || !*cfg->owner) {
        snprintf(err, err_len, "jobs runner: compute callback and owner id are required");
        return NULL;
    }
    r = alloc_zeroed(1, sizeof(*r));
    copy_config(r, cfg);
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (metrics) {
        r->outcomes = metrics_counter_new(
            metrics, "jobs_total", "Async jobs computed by this replica, by outcome", "outcome");
        r->running_gauge =
            metrics_gauge_new(metrics, "jobs_running", "Async jobs this replica is computing");
    }
    for (; r->n_workers < r->cfg.threads; r->n_workers++) {
        rc = pthread_create(&r->workers[r->n_workers], NULL, worker_main, r);
        if (rc != 0)
            break;
    }
    if (rc == 0) {
        rc = pthread_create(&r->heartbeat, NULL, heartbeat_main, r);
        r->heartbeat_started = rc == 0;
    }
    if (rc != 0) {
        snprintf(err, err_len, "jobs runner thread: %s", strerror(rc));
        jobs_runner_stop(r);
        return NULL;
    }
    return r;
}

void jobs_runner_kick(struct jobs_runner *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->kicks++;
    pthread_cond_broadcast(&r->wake); /* the heartbeat thread waits on it too */
    pthread_mutex_unlock(&r->lock);
}

void jobs_runner_stop(struct jobs_runner *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
    for (int i = 0; i < r->n_workers; i++)
        pthread_join(r->workers[i], NULL);
    if (r->heartbeat_started)
        pthread_join(r->heartbeat, NULL);
    free_runner(r);
}
