/* SPDX-License-Identifier: Apache-2.0 */
/*
 * insights-api/jobs against a real PostgreSQL (PG_CONNINFO; own database).
 * Pins the async job lifecycle: groupings normalise into one key; a POST
 * finds or creates the job; racing claimers get each job exactly once; a
 * job whose lease expired (its replica died) is claimed again and the dead
 * owner can no longer store into it; a complete result is reused within the
 * TTL and recomputed after it; a partial result or a failure is delivered
 * once and never reused; the runner computes submitted jobs and takes over
 * a dead replica's job. Lease expiry and TTL ageing are made by moving the
 * stored times back in SQL, not by sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "insights-api/jobs.h"
#include "tests/unit/insights-api/pg_testdb.h"

#define RACERS 4
#define ROUNDS 10
#define MANY_JOBS 24
#define CLIENT "acme_insights"
#define TTL_S 900 /* the result TTL the tests ask for unless they test the TTL itself */

/* Each test starts with no jobs. */
static int clean_jobs(void **state)
{
    (void)state;
    return pgt_truncate("insights_jobs");
}

/* The jobs_* calls the tests assert on; each returns its result (see pgt_checked). */

static int submit_ttl(PGconn *c, const char *user, const char *rid, int ttl, struct jobs_job *job)
{
    return pgt_checked("jobs_submit", jobs_submit(c, CLIENT, user, "fraud,sms", rid, ttl, job,
                                                  pgt_err, sizeof(pgt_err)));
}

static int submit(PGconn *c, const char *user, const char *rid, struct jobs_job *job)
{
    return submit_ttl(c, user, rid, TTL_S, job);
}

static int claim(PGconn *c, const char *owner, struct jobs_job *job)
{
    return pgt_checked("jobs_claim", jobs_claim(c, owner, 30, 3, job, pgt_err, sizeof(pgt_err)));
}

static int finish(PGconn *c, long long id, const char *owner, const char *result, bool partial)
{
    return pgt_checked("jobs_finish",
                       jobs_finish(c, id, owner, result, partial, pgt_err, sizeof(pgt_err)));
}

static int fail_job(PGconn *c, long long id, const char *owner, const char *code)
{
    return pgt_checked("jobs_fail", jobs_fail(c, id, owner, code, pgt_err, sizeof(pgt_err)));
}

static int heartbeat(PGconn *c, const char *owner, int lease_s)
{
    return pgt_checked("jobs_heartbeat",
                       jobs_heartbeat(c, owner, lease_s, pgt_err, sizeof(pgt_err)));
}

/* Arrange: a new job for user, then owner claims it (job: as submitted; claimed: as claimed). */
static void submit_and_claim(PGconn *c, const char *user, const char *rid, const char *owner,
                             struct jobs_job *job, struct jobs_job *claimed)
{
    assert_int_equal(submit(c, user, rid, job), JOBS_OUTCOME_STARTED);
    assert_int_equal(claim(c, owner, claimed), 1);
}

/* Every lease ran out a second ago, as when the owning replica died. */
static void expire_leases(PGconn *c)
{
    PQclear(pgt_sql(c, "UPDATE insights_jobs SET lease_until = now() - interval '1 second'"));
}

/* Every result finished `seconds` ago (ageing without sleeping). */
static void age_results(PGconn *c, int seconds)
{
    PQclear(pgt_sql(c, "UPDATE insights_jobs SET finished_at = now() - interval '%d seconds'",
                    seconds));
}

/* ------------------------------------------------------------------ key */

static void test_groupings_key_normalises(void **state)
{
    const char *const g1[] = {"SMS", "fraud", "sms", "Extracted_SMS"};
    const char *const g2[] = {"extracted_sms", "fraud", "sms"};
    const char *const bad1[] = {"sms", ""};
    const char *const bad2[] = {"sms,fraud"};
    char a[JOBS_GROUPINGS_MAX + 1], b[JOBS_GROUPINGS_MAX + 1];

    (void)state;
    assert_int_equal(jobs_groupings_key(g1, 4, a), 0);
    assert_int_equal(jobs_groupings_key(g2, 3, b), 0);
    assert_string_equal(a, "extracted_sms,fraud,sms");
    assert_string_equal(a, b);
    assert_int_equal(jobs_groupings_key(NULL, 0, a), 0);
    assert_string_equal(a, "");
    assert_int_equal(jobs_groupings_key(bad1, 2, a), -1);
    assert_int_equal(jobs_groupings_key(bad2, 1, a), -1);
}

/* ------------------------------------------------------------------ lifecycle */

static void test_submit_claim_finish_then_reuse(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct jobs_job job, claimed;

    (void)state;
    assert_int_equal(submit(c, "u1", "req-a", &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(job.state, JOBS_PENDING);
    assert_string_equal(job.request_id, "req-a");
    assert_string_equal(job.groupings, "fraud,sms");
    /* A second POST (any replica) polls the same job. */
    assert_int_equal(submit(c, "u1", "req-b", &job), JOBS_OUTCOME_RUNNING);
    assert_int_equal(claim(c, "replica-a", &claimed), 1);
    assert_int_equal(claimed.id, job.id);
    assert_int_equal(claimed.state, JOBS_RUNNING);
    assert_string_equal(claimed.owner, "replica-a");
    assert_int_equal(claimed.attempts, 1);
    assert_int_equal(claim(c, "replica-b", &claimed), 0); /* nothing else to claim */
    assert_int_equal(submit(c, "u1", "req-c", &job), JOBS_OUTCOME_RUNNING);
    assert_int_equal(
        finish(c, job.id, "replica-a", "{\"message\":\"featurization completed\",\"x\":1}", false),
        1);
    assert_int_equal(submit(c, "u1", "req-d", &job), JOBS_OUTCOME_RESULT);
    assert_false(job.partial);
    assert_non_null(job.result);
    assert_non_null(strstr(job.result, "\"x\":1"));
    jobs_job_clear(&job);
    /* Reused again and again within the TTL. */
    assert_int_equal(submit(c, "u1", "req-e", &job), JOBS_OUTCOME_RESULT);
    assert_string_equal(job.request_id, "req-a"); /* the computation's request */
    jobs_job_clear(&job);
    /* Another user, or other groupings, is another job. */
    assert_int_equal(submit(c, "u2", "req-f", &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(pgt_checked("jobs_get", jobs_get(c, job.id, &job, pgt_err, sizeof(pgt_err))),
                     1);
    assert_string_equal(job.user_id, "u2");
    PQfinish(c);
}

static void test_result_ttl_expiry_recomputes(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct jobs_job job, claimed;

    (void)state;
    submit_and_claim(c, "u1", "req-1", "r", &job, &claimed);
    assert_int_equal(finish(c, claimed.id, "r", "{\"v\":1}", false), 1);
    assert_int_equal(submit(c, "u1", "req-2", &job), JOBS_OUTCOME_RESULT);
    jobs_job_clear(&job);
    age_results(c, TTL_S + 1);
    assert_int_equal(submit(c, "u1", "req-3", &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(job.state, JOBS_PENDING);
    assert_null(job.result);
    assert_string_equal(job.request_id, "req-3");
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM insights_jobs WHERE result IS NULL AND "
                                "state = 'pending' AND attempts = 0"),
                     1);
    /* A shorter TTL on the same fresh result also recomputes. */
    assert_int_equal(claim(c, "r", &claimed), 1);
    assert_int_equal(finish(c, claimed.id, "r", "{\"v\":2}", false), 1);
    age_results(c, 60);
    assert_int_equal(submit(c, "u1", "req-4", &job), JOBS_OUTCOME_RESULT);
    jobs_job_clear(&job);
    assert_int_equal(submit_ttl(c, "u1", "req-5", 30, &job), JOBS_OUTCOME_STARTED);
    PQfinish(c);
}

static void test_partial_result_is_delivered_once_never_reused(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct jobs_job job, claimed;

    (void)state;
    submit_and_claim(c, "u1", "req-1", "r", &job, &claimed);
    assert_int_equal(finish(c, claimed.id, "r", "{\"groups_failed\":[\"extracted_sms\"]}", true),
                     1);
    /* The poll that waited gets it, marked partial. */
    assert_int_equal(submit(c, "u1", "req-2", &job), JOBS_OUTCOME_RESULT);
    assert_true(job.partial);
    assert_non_null(strstr(job.result, "groups_failed"));
    jobs_job_clear(&job);
    /* The next request recomputes instead of reusing it. */
    assert_int_equal(submit(c, "u1", "req-3", &job), JOBS_OUTCOME_STARTED);
    assert_null(job.result);
    assert_false(job.partial);
    assert_int_equal(submit(c, "u1", "req-4", &job), JOBS_OUTCOME_RUNNING);
    PQfinish(c);
}

static void test_failed_job_reported_once_then_retried(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct jobs_job job, claimed;

    (void)state;
    submit_and_claim(c, "u1", "req-1", "r", &job, &claimed);
    assert_int_equal(fail_job(c, claimed.id, "r", "mongo_down"), 1);
    assert_int_equal(submit(c, "u1", "req-2", &job), JOBS_OUTCOME_FAILED);
    assert_string_equal(job.error, "mongo_down");
    submit_and_claim(c, "u1", "req-3", "r", &job, &claimed);
    assert_int_equal(claimed.attempts, 1); /* a new computation */
    PQfinish(c);
}

static void test_lease_expiry_lets_another_replica_take_over(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct jobs_job job, claimed;

    (void)state;
    submit_and_claim(c, "u1", "req-1", "replica-a", &job, &claimed);
    assert_int_equal(claim(c, "replica-b", &claimed), 0); /* lease still valid */
    expire_leases(c);                                     /* replica-a dies */
    assert_int_equal(claim(c, "replica-b", &claimed), 1);
    assert_int_equal(claimed.id, job.id);
    assert_string_equal(claimed.owner, "replica-b");
    assert_int_equal(claimed.attempts, 2);
    /* The old owner can neither renew, finish nor fail it any more. */
    assert_int_equal(heartbeat(c, "replica-a", 30), 0);
    assert_int_equal(finish(c, job.id, "replica-a", "{}", false), 0);
    assert_int_equal(fail_job(c, job.id, "replica-a", "x"), 0);
    assert_int_equal(heartbeat(c, "replica-b", 30), 1);
    assert_int_equal(finish(c, job.id, "replica-b", "{\"ok\":true}", false), 1);
    assert_int_equal(submit(c, "u1", "req-2", &job), JOBS_OUTCOME_RESULT);
    assert_non_null(strstr(job.result, "ok"));
    jobs_job_clear(&job);
    PQfinish(c);
}

static void test_heartbeat_extends_the_lease(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct jobs_job job, claimed;

    (void)state;
    submit_and_claim(c, "u1", "req-1", "replica-a", &job, &claimed);
    PQclear(pgt_sql(c, "UPDATE insights_jobs SET lease_until = now() + interval '1 second'"));
    assert_int_equal(heartbeat(c, "replica-a", 120), 1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM insights_jobs WHERE lease_until > now() + "
                                "interval '100 seconds'"),
                     1);
    PQfinish(c);
}

static void test_job_failed_after_too_many_expired_leases(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct jobs_job job, claimed;

    (void)state;
    assert_int_equal(submit(c, "u1", "req-1", &job), JOBS_OUTCOME_STARTED);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(claim(c, "crashy", &claimed), 1);
        expire_leases(c);
    }
    /* Three replicas died on it: the fourth claim fails it instead of taking it. */
    assert_int_equal(claim(c, "crashy", &claimed), 0);
    assert_int_equal(submit(c, "u1", "req-2", &job), JOBS_OUTCOME_FAILED);
    assert_string_equal(job.error, "lease_expired");
    PQfinish(c);
}

/* ------------------------------------------------------------------ races */

struct racer {
    pthread_barrier_t *barrier;
    char owner[32];
    int won;
    long long ids[MANY_JOBS];
    int n_ids;
    bool drain; /* claim until nothing is left */
};

static void *claim_racer(void *arg)
{
    struct racer *r = arg;
    PGconn *c = pgt_connect();
    struct jobs_job job;
    char err[256];
    int rc;

    pthread_barrier_wait(r->barrier);
    do {
        rc = jobs_claim(c, r->owner, 30, 3, &job, err, sizeof(err));
        if (rc == 1) {
            r->won++;
            if (r->n_ids < MANY_JOBS)
                r->ids[r->n_ids++] = job.id;
        }
    } while (rc == 1 && r->drain);
    PQfinish(c);
    return NULL;
}

/* Starts RACERS claimers at once (drain: each claims until nothing is left); the jobs won. */
static int race(struct racer *racers, bool drain)
{
    pthread_barrier_t barrier;
    pthread_t t[RACERS];
    int won = 0;

    pthread_barrier_init(&barrier, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        memset(&racers[i], 0, sizeof(racers[i]));
        racers[i].barrier = &barrier;
        racers[i].drain = drain;
        snprintf(racers[i].owner, sizeof(racers[i].owner), "replica-%d", i);
        assert_int_equal(pthread_create(&t[i], NULL, claim_racer, &racers[i]), 0);
    }
    for (int i = 0; i < RACERS; i++) {
        pthread_join(t[i], NULL);
        won += racers[i].won;
    }
    pthread_barrier_destroy(&barrier);
    return won;
}

/* Arrange: a new job for user "<prefix>-<n>", so that every n is a job of its own. */
static void submit_numbered(PGconn *c, const char *prefix, int n, struct jobs_job *job)
{
    char user[32];

    snprintf(user, sizeof(user), "%s-%d", prefix, n);
    assert_int_equal(submit(c, user, "req", job), JOBS_OUTCOME_STARTED);
}

static void test_racing_claimers_exactly_one_wins(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct racer racers[RACERS];
    struct jobs_job job;

    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        submit_numbered(c, "race", round, &job);
        assert_int_equal(race(racers, false), 1);
    }
    PQfinish(c);
}

static void test_racing_claimers_share_many_jobs_without_overlap(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct racer racers[RACERS];
    struct jobs_job job;
    int seen[MANY_JOBS] = {0}, total = 0;
    long long first = 0;

    (void)state;
    for (int i = 0; i < MANY_JOBS; i++) {
        submit_numbered(c, "many", i, &job);
        if (i == 0)
            first = job.id;
    }
    race(racers, true);
    for (int i = 0; i < RACERS; i++) {
        for (int k = 0; k < racers[i].n_ids; k++) {
            long long idx = racers[i].ids[k] - first;

            assert_true(idx >= 0 && idx < MANY_JOBS);
            seen[idx]++;
            total++;
        }
    }
    assert_int_equal(total, MANY_JOBS);
    for (int i = 0; i < MANY_JOBS; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM insights_jobs WHERE state = 'running' "
                                "AND owner LIKE 'replica-%%' AND attempts = 1"),
                     MANY_JOBS);
    PQfinish(c);
}

/* ------------------------------------------------------------------ runner */

static int compute_cb(void *ctx, const struct jobs_job *job, char **result, bool *partial,
                      char *code, size_t code_len)
{
    (void)ctx;
    if (strcmp(job->user_id, "fails") == 0) {
        snprintf(code, code_len, "mongo_down");
        return -1;
    }
    *partial = strcmp(job->user_id, "partial") == 0;
    if (asprintf(result, "{\"user_id\":\"%s\",\"message\":\"featurization completed\"}",
                 job->user_id) < 0)
        return -1;
    return 0;
}

/* Polls like a client would (bounded wait, not a timing assertion). */
static int poll_until_done(PGconn *c, const char *user, struct jobs_job *job)
{
    for (int i = 0; i < 200; i++) {
        int rc = submit(c, user, "poll", job);

        if (rc == JOBS_OUTCOME_RESULT || rc == JOBS_OUTCOME_FAILED)
            return rc;
        usleep(50 * 1000);
    }
    fail_msg("job for %s never finished", user);
    return -1;
}

static void test_runner_computes_and_takes_over_a_dead_replicas_job(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct jobs_runner_config cfg = {
        .pg = pgt_params(NULL),
        .owner = "runner-replica",
        .threads = 2,
        .lease_s = 3,
        .poll_ms = 50,
        .compute = compute_cb,
    };
    struct jobs_runner *r;
    struct jobs_job job, claimed;

    (void)state;
    /* A job claimed by a replica that then died (lease already expired). */
    submit_and_claim(c, "orphan", "req", "dead-replica", &job, &claimed);
    expire_leases(c);

    r = jobs_runner_start(&cfg, NULL, pgt_err, sizeof(pgt_err));
    assert_non_null(r);
    assert_int_equal(submit(c, "alice", "req", &job), JOBS_OUTCOME_STARTED);
    jobs_runner_kick(r);
    assert_int_equal(submit(c, "partial", "req", &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(submit(c, "fails", "req", &job), JOBS_OUTCOME_STARTED);
    jobs_runner_kick(r);

    assert_int_equal(poll_until_done(c, "alice", &job), JOBS_OUTCOME_RESULT);
    assert_non_null(strstr(job.result, "\"user_id\":\"alice\""));
    assert_false(job.partial);
    jobs_job_clear(&job);
    assert_int_equal(poll_until_done(c, "partial", &job), JOBS_OUTCOME_RESULT);
    assert_true(job.partial);
    jobs_job_clear(&job);
    assert_int_equal(poll_until_done(c, "fails", &job), JOBS_OUTCOME_FAILED);
    assert_string_equal(job.error, "mongo_down");
    assert_int_equal(poll_until_done(c, "orphan", &job), JOBS_OUTCOME_RESULT);
    assert_non_null(strstr(job.result, "orphan"));
    jobs_job_clear(&job);
    assert_int_equal(pgt_int(c, "SELECT attempts FROM insights_jobs WHERE user_id = 'orphan'"), 2);
    jobs_runner_stop(r);
    PQfinish(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groupings_key_normalises),
        cmocka_unit_test_setup(test_submit_claim_finish_then_reuse, clean_jobs),
        cmocka_unit_test_setup(test_result_ttl_expiry_recomputes, clean_jobs),
        cmocka_unit_test_setup(test_partial_result_is_delivered_once_never_reused, clean_jobs),
        cmocka_unit_test_setup(test_failed_job_reported_once_then_retried, clean_jobs),
        cmocka_unit_test_setup(test_lease_expiry_lets_another_replica_take_over, clean_jobs),
        cmocka_unit_test_setup(test_heartbeat_extends_the_lease, clean_jobs),
        cmocka_unit_test_setup(test_job_failed_after_too_many_expired_leases, clean_jobs),
        cmocka_unit_test_setup(test_racing_claimers_exactly_one_wins, clean_jobs),
        cmocka_unit_test_setup(test_racing_claimers_share_many_jobs_without_overlap, clean_jobs),
        cmocka_unit_test_setup(test_runner_computes_and_takes_over_a_dead_replicas_job, clean_jobs),
    };

    return PGT_RUN_GROUP_TESTS(tests, "jobs");
}
