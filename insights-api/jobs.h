/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Async insights jobs in PostgreSQL (table insights_jobs), so that any
 * replica answers a poll, exactly one replica computes a job, and a job
 * whose replica died is computed again.
 *
 * A job is keyed by (client_id, user_id, groupings normalised: lowercase,
 * sorted, duplicates removed, joined with ','), the groupings followed by
 * ";as_of=<Unix seconds>" when the request named an as_of (so two as_of never
 * share a result, and a job without one is computed as of its start), then
 * ";data=<stamp>", the state of the user's synced data when the POST came
 * (so a result is never reused after the user synced again). Its state is
 *
 *   pending --claim--> running --finish--> done
 *                         |   \--fail----> failed
 *                         \-- lease expired: claimable again (pending-like)
 *
 * POST /api/async_insights calls jobs_submit(), which finds or creates the
 * job (INSERT ... ON CONFLICT) and decides, in one transaction:
 *   - no job, or nothing reusable: (re)start it as pending      -> STARTED
 *   - pending or running                                         -> RUNNING (202)
 *   - done, complete, finished less than ttl_s ago: reuse it     -> RESULT
 *   - done but partial (a group failed), not yet delivered:
 *     deliver it once (the answer to the poll that waited for it) -> RESULT
 *   - failed, not yet delivered: deliver the failure once        -> FAILED
 *   - done and older than ttl_s, partial already delivered, or
 *     failed already delivered: recompute (back to pending)      -> STARTED
 * So a partial result is never reused as if complete, and a failed job is
 * retried by the next POST after its failure was reported.
 *
 * Workers claim with UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP
 * LOCKED), setting owner (the replica id) and lease_until; the owner renews
 * the lease while computing (jobs_heartbeat, done by the runner's heartbeat
 * thread); finish/fail only apply while the caller is still the owner, so a
 * replica that lost its lease cannot overwrite the new owner's work. A job
 * whose lease expired attempts_max times is failed ("lease_expired") rather
 * than handed to yet another replica.
 *
 * The functions taking a PGconn are blocking and do not log; the runner
 * owns threads and connections and reports through metrics.
 */
#ifndef INSIGHTS_JOBS_H
#define INSIGHTS_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "common/metrics.h"
#include "common/pg.h"

#define JOBS_ID_MAX 128        /* client_id, user_id, request_id, owner */
#define JOBS_GROUPINGS_MAX 255 /* normalised key */
#define JOBS_ERROR_MAX 63      /* error code stored on failure */
#define JOBS_RESULT_TTL_DEFAULT 900
#define JOBS_LEASE_DEFAULT 30
#define JOBS_ATTEMPTS_DEFAULT 3

enum jobs_state {
    JOBS_PENDING = 0,
    JOBS_RUNNING,
    JOBS_DONE,
    JOBS_FAILED,
};

const char *jobs_state_name(enum jobs_state s);

/* A job row. result is malloc'd (done jobs only when returned to a caller). */
struct jobs_job {
    long long id;
    enum jobs_state state;
    char client_id[JOBS_ID_MAX + 1];
    char user_id[JOBS_ID_MAX + 1];
    char groupings[JOBS_GROUPINGS_MAX + 1]; /* normalised key */
    char request_id[JOBS_ID_MAX + 1];       /* request that (re)started the computation */
    char owner[JOBS_ID_MAX + 1];            /* replica id while running, else "" */
    double requested_at;                    /* epoch seconds of the (re)start */
    double finished_at;                     /* epoch seconds, 0 when not finished */
    int attempts;                           /* claims so far for this computation */
    bool partial;                           /* done, but at least one group failed */
    char error[JOBS_ERROR_MAX + 1];         /* failed: a code such as "extraction_down" */
    char *result;                           /* done: the result JSON (caller frees) */
};

/* Frees job->result and clears it; the struct itself is the caller's. */
void jobs_job_clear(struct jobs_job *job);

/*
 * Normalise groupings into the job key: each lowercased, sorted, duplicates
 * removed, joined with ','. An empty list gives "". Returns 0, or -1 when the
 * key would exceed JOBS_GROUPINGS_MAX or an item is empty or holds ','.
 */
int jobs_groupings_key(const char *const *groupings, size_t n, char out[JOBS_GROUPINGS_MAX + 1]);

/*
 * The key of a job computed as of a given time: key (a groupings key) gets
 * JOBS_AS_OF_MARK and the Unix seconds. Returns 0, or -1 (key unchanged)
 * when it would exceed JOBS_GROUPINGS_MAX.
 */
#define JOBS_AS_OF_MARK ";as_of="
int jobs_key_add_as_of(char key[JOBS_GROUPINGS_MAX + 1], int64_t as_of);

/*
 * The key of a job computed from one state of the user's synced data: key
 * gets JOBS_DATA_MARK and the stamp (mongo_source_stamp), so a result is
 * never reused once the user synced again. Returns 0, or -1 (key unchanged).
 */
#define JOBS_DATA_MARK ";data="
int jobs_key_add_data(char key[JOBS_GROUPINGS_MAX + 1], const char *stamp);

/*
 * The parts of a job key: returns the length of its groupings part (up to
 * the first ';'); *given says whether it names an as_of, then in *as_of.
 */
size_t jobs_key_split(const char *key, int64_t *as_of, bool *given);

enum jobs_outcome {
    JOBS_OUTCOME_STARTED = 0, /* created or restarted: pending now (reply 202) */
    JOBS_OUTCOME_RUNNING,     /* pending or running already (reply 202) */
    JOBS_OUTCOME_RESULT,      /* job->result holds the result, job->partial says if partial */
    JOBS_OUTCOME_FAILED,      /* the computation failed: job->error (reply 5xx once) */
};

/*
 * Find or create the job for (client_id, user_id, groupings_key) and decide
 * as described above. request_id is recorded when the job is (re)started.
 * ttl_s <= 0 means JOBS_RESULT_TTL_DEFAULT. On success fills *job (free with
 * jobs_job_clear) and returns the outcome (>= 0); -1 with err set when the
 * database cannot be used (the caller answers 503 with Retry-After).
 */
int jobs_submit(PGconn *conn, const char *client_id, const char *user_id, const char *groupings_key,
                const char *request_id, int ttl_s, struct jobs_job *job, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/*
 * Claim the oldest pending job, or a running one whose lease expired, for
 * replica owner with a lease of lease_s seconds (attempts + 1). Jobs whose
 * lease expired with attempts >= attempts_max are failed instead. Returns 1
 * with *job filled (no result), 0 when there is nothing to claim, -1 with err.
 */
int jobs_claim(PGconn *conn, const char *owner, int lease_s, int attempts_max, struct jobs_job *job,
               char *err, size_t err_len) __attribute__((warn_unused_result));

/*
 * Renew the leases of every job owner is running (one statement). Returns
 * the number renewed, or -1 with err.
 */
int jobs_heartbeat(PGconn *conn, const char *owner, int lease_s, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/*
 * Mark job id done with result (JSON text, stored as is) and partial, if
 * owner still owns it. Returns 1 when stored, 0 when the job was lost (its
 * lease expired and another replica claimed it: the result is discarded),
 * -1 with err.
 */
int jobs_finish(PGconn *conn, long long id, const char *owner, const char *result, bool partial,
                char *err, size_t err_len) __attribute__((warn_unused_result));

/* Mark job id failed with a short error code, if owner still owns it. 1 / 0 / -1 as above. */
int jobs_fail(PGconn *conn, long long id, const char *owner, const char *error_code, char *err,
              size_t err_len) __attribute__((warn_unused_result));

/* Read one job (with its result). Returns 1 found, 0 not found, -1 with err. */
int jobs_get(PGconn *conn, long long id, struct jobs_job *job, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* ------------------------------------------------------------------ runner */

/*
 * The compute callback: runs on a runner thread, blocking. Returns 0 with
 * *result_json (malloc'd, the runner frees it) and *partial set, or -1 with
 * error_code (e.g. "mongo_down") filled: the job fails.
 */
struct jobs_runner_config {
    struct pg_params pg; /* each thread's own connection; strings copied */
    const char *owner;   /* replica id, unique per process (copied) */
    int threads;         /* 0 = 1 */
    int lease_s;         /* 0 = JOBS_LEASE_DEFAULT; heartbeat every lease_s / 3 */
    int attempts_max;    /* 0 = JOBS_ATTEMPTS_DEFAULT */
    int poll_ms;         /* idle poll for jobs other replicas created; 0 = 250 */
    int (*compute)(void *ctx, const struct jobs_job *job, char **result_json, bool *partial,
                   char *error_code, size_t error_len);
    void *ctx;
};

struct jobs_runner;

/*
 * Start the worker threads and the heartbeat thread. Metrics (may be NULL):
 * insights_jobs_total{outcome} (done, partial, failed, lost),
 * insights_jobs_running. NULL with err when a thread cannot start; the
 * database being down is not an error (threads retry with backoff).
 */
struct jobs_runner *jobs_runner_start(const struct jobs_runner_config *cfg, struct metrics *metrics,
                                      char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* Wake an idle worker now (call after a local jobs_submit returned STARTED). */
void jobs_runner_kick(struct jobs_runner *r);

/*
 * Stop claiming new jobs, wait for the computations in progress to return
 * (compute must bound its own time: it uses the request timeouts), store
 * their outcomes, release the connections, join and free r. A job whose
 * outcome cannot be stored keeps its lease until expiry, then another
 * replica claims it.
 */
void jobs_runner_stop(struct jobs_runner *r);

#endif
