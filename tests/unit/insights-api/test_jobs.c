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

static int group_setup(void **state)
{
    (void)state;
    if (!pgt_available())
        return 0;
    return pgt_create("jobs", true);
}

static int group_teardown(void **state)
{
    (void)state;
    if (pgt_available())
        pgt_drop();
    return 0;
}

static int clean_jobs(void **state)
{
    PGconn *c;

    (void)state;
    if (!pgt_available())
        return 0;
    c = pgt_connect();
    PQclear(pgt_sql(c, "TRUNCATE insights_jobs"));
    PQfinish(c);
    return 0;
}

#define NEED_PG()                                                                                  \
    do {                                                                                           \
        if (!pgt_available()) {                                                                    \
            printf(PGT_SKIP_MSG);                                                                  \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static int submit(PGconn *c, const char *user, const char *rid, int ttl, struct jobs_job *job)
{
    char err[512] = "";
    int rc = jobs_submit(c, CLIENT, user, "fraud,sms", rid, ttl, job, err, sizeof(err));

    if (rc < 0)
        fail_msg("jobs_submit: %s", err);
    return rc;
}

static int claim(PGconn *c, const char *owner, struct jobs_job *job)
{
    char err[512] = "";
    int rc = jobs_claim(c, owner, 30, 3, job, err, sizeof(err));

    if (rc < 0)
        fail_msg("jobs_claim: %s", err);
    return rc;
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
    struct jobs_job job, claimed;
    char err[256];
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    assert_int_equal(submit(c, "u1", "req-a", 900, &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(job.state, JOBS_PENDING);
    assert_string_equal(job.request_id, "req-a");
    assert_string_equal(job.groupings, "fraud,sms");
    /* A second POST (any replica) polls the same job. */
    assert_int_equal(submit(c, "u1", "req-b", 900, &job), JOBS_OUTCOME_RUNNING);
    assert_int_equal(claim(c, "replica-a", &claimed), 1);
    assert_int_equal(claimed.id, job.id);
    assert_int_equal(claimed.state, JOBS_RUNNING);
    assert_string_equal(claimed.owner, "replica-a");
    assert_int_equal(claimed.attempts, 1);
    assert_int_equal(claim(c, "replica-b", &claimed), 0); /* nothing else to claim */
    assert_int_equal(submit(c, "u1", "req-c", 900, &job), JOBS_OUTCOME_RUNNING);
    assert_int_equal(jobs_finish(c, job.id, "replica-a",
                                 "{\"message\":\"featurization "
                                 "completed\",\"x\":1}",
                                 false, err, sizeof(err)),
                     1);
    assert_int_equal(submit(c, "u1", "req-d", 900, &job), JOBS_OUTCOME_RESULT);
    assert_false(job.partial);
    assert_non_null(job.result);
    assert_non_null(strstr(job.result, "\"x\":1"));
    jobs_job_clear(&job);
    /* Reused again and again within the TTL. */
    assert_int_equal(submit(c, "u1", "req-e", 900, &job), JOBS_OUTCOME_RESULT);
    assert_string_equal(job.request_id, "req-a"); /* the computation's request */
    jobs_job_clear(&job);
    /* Another user, or other groupings, is another job. */
    assert_int_equal(submit(c, "u2", "req-f", 900, &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(jobs_get(c, job.id, &job, err, sizeof(err)), 1);
    assert_string_equal(job.user_id, "u2");
    PQfinish(c);
}

static void test_result_ttl_expiry_recomputes(void **state)
{
    struct jobs_job job, claimed;
    char err[256];
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    assert_int_equal(submit(c, "u1", "req-1", 900, &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(claim(c, "r", &claimed), 1);
    assert_int_equal(jobs_finish(c, claimed.id, "r", "{\"v\":1}", false, err, sizeof(err)), 1);
    assert_int_equal(submit(c, "u1", "req-2", 900, &job), JOBS_OUTCOME_RESULT);
    jobs_job_clear(&job);
    /* The result is now 901 s old. */
    PQclear(pgt_sql(c, "UPDATE insights_jobs SET finished_at = now() - interval '901 seconds'"));
    assert_int_equal(submit(c, "u1", "req-3", 900, &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(job.state, JOBS_PENDING);
    assert_null(job.result);
    assert_string_equal(job.request_id, "req-3");
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM insights_jobs WHERE result IS NULL AND "
                                "state = 'pending' AND attempts = 0"),
                     1);
    /* A shorter TTL on the same fresh result also recomputes. */
    assert_int_equal(claim(c, "r", &claimed), 1);
    assert_int_equal(jobs_finish(c, claimed.id, "r", "{\"v\":2}", false, err, sizeof(err)), 1);
    PQclear(pgt_sql(c, "UPDATE insights_jobs SET finished_at = now() - interval '60 seconds'"));
    assert_int_equal(submit(c, "u1", "req-4", 900, &job), JOBS_OUTCOME_RESULT);
    jobs_job_clear(&job);
    assert_int_equal(submit(c, "u1", "req-5", 30, &job), JOBS_OUTCOME_STARTED);
    PQfinish(c);
}

static void test_partial_result_is_delivered_once_never_reused(void **state)
{
    struct jobs_job job, claimed;
    char err[256];
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    assert_int_equal(submit(c, "u1", "req-1", 900, &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(claim(c, "r", &claimed), 1);
    assert_int_equal(jobs_finish(c, claimed.id, "r", "{\"groups_failed\":[\"extracted_sms\"]}",
                                 true, err, sizeof(err)),
                     1);
    /* The poll that waited gets it, marked partial. */
    assert_int_equal(submit(c, "u1", "req-2", 900, &job), JOBS_OUTCOME_RESULT);
    assert_true(job.partial);
    assert_non_null(strstr(job.result, "groups_failed"));
    jobs_job_clear(&job);
    /* The next request recomputes instead of reusing it. */
    assert_int_equal(submit(c, "u1", "req-3", 900, &job), JOBS_OUTCOME_STARTED);
    assert_null(job.result);
    assert_false(job.partial);
    assert_int_equal(submit(c, "u1", "req-4", 900, &job), JOBS_OUTCOME_RUNNING);
    PQfinish(c);
}

static void test_failed_job_reported_once_then_retried(void **state)
{
    struct jobs_job job, claimed;
    char err[256];
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    assert_int_equal(submit(c, "u1", "req-1", 900, &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(claim(c, "r", &claimed), 1);
    assert_int_equal(jobs_fail(c, claimed.id, "r", "mongo_down", err, sizeof(err)), 1);
    assert_int_equal(submit(c, "u1", "req-2", 900, &job), JOBS_OUTCOME_FAILED);
    assert_string_equal(job.error, "mongo_down");
    assert_int_equal(submit(c, "u1", "req-3", 900, &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(claim(c, "r", &claimed), 1);
    assert_int_equal(claimed.attempts, 1); /* a new computation */
    PQfinish(c);
}

static void test_lease_expiry_lets_another_replica_take_over(void **state)
{
    struct jobs_job job, claimed;
    char err[256];
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    assert_int_equal(submit(c, "u1", "req-1", 900, &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(claim(c, "replica-a", &claimed), 1);
    assert_int_equal(claim(c, "replica-b", &claimed), 0); /* lease still valid */
    /* replica-a dies: its lease runs out. */
    PQclear(pgt_sql(c, "UPDATE insights_jobs SET lease_until = now() - interval '1 second'"));
    assert_int_equal(claim(c, "replica-b", &claimed), 1);
    assert_int_equal(claimed.id, job.id);
    assert_string_equal(claimed.owner, "replica-b");
    assert_int_equal(claimed.attempts, 2);
    /* The old owner can neither renew, finish nor fail it any more. */
    assert_int_equal(jobs_heartbeat(c, "replica-a", 30, err, sizeof(err)), 0);
    assert_int_equal(jobs_finish(c, job.id, "replica-a", "{}", false, err, sizeof(err)), 0);
    assert_int_equal(jobs_fail(c, job.id, "replica-a", "x", err, sizeof(err)), 0);
    assert_int_equal(jobs_heartbeat(c, "replica-b", 30, err, sizeof(err)), 1);
    assert_int_equal(jobs_finish(c, job.id, "replica-b", "{\"ok\":true}", false, err, sizeof(err)),
                     1);
    assert_int_equal(submit(c, "u1", "req-2", 900, &job), JOBS_OUTCOME_RESULT);
    assert_non_null(strstr(job.result, "ok"));
    jobs_job_clear(&job);
    PQfinish(c);
}

static void test_heartbeat_extends_the_lease(void **state)
{
    struct jobs_job job, claimed;
    char err[256];
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    assert_int_equal(submit(c, "u1", "req-1", 900, &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(claim(c, "replica-a", &claimed), 1);
    PQclear(pgt_sql(c, "UPDATE insights_jobs SET lease_until = now() + interval '1 second'"));
    assert_int_equal(jobs_heartbeat(c, "replica-a", 120, err, sizeof(err)), 1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM insights_jobs WHERE lease_until > now() + "
                                "interval '100 seconds'"),
                     1);
    PQfinish(c);
}

static void test_job_failed_after_too_many_expired_leases(void **state)
{
    struct jobs_job job, claimed;
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    assert_int_equal(submit(c, "u1", "req-1", 900, &job), JOBS_OUTCOME_STARTED);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(claim(c, "crashy", &claimed), 1);
        PQclear(pgt_sql(c, "UPDATE insights_jobs SET lease_until = now() - interval '1 second'"));
    }
    /* Three replicas died on it: the fourth claim fails it instead of taking it. */
    assert_int_equal(claim(c, "crashy", &claimed), 0);
    assert_int_equal(submit(c, "u1", "req-2", 900, &job), JOBS_OUTCOME_FAILED);
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

static void race(struct racer *racers, bool drain)
{
    pthread_barrier_t barrier;
    pthread_t t[RACERS];

    pthread_barrier_init(&barrier, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        memset(&racers[i], 0, sizeof(racers[i]));
        racers[i].barrier = &barrier;
        racers[i].drain = drain;
        snprintf(racers[i].owner, sizeof(racers[i].owner), "replica-%d", i);
        assert_int_equal(pthread_create(&t[i], NULL, claim_racer, &racers[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
}

static void test_racing_claimers_exactly_one_wins(void **state)
{
    struct racer racers[RACERS];
    struct jobs_job job;
    char user[32];
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    for (int round = 0; round < ROUNDS; round++) {
        int winners = 0;

        snprintf(user, sizeof(user), "race-%d", round);
        assert_int_equal(submit(c, user, "req", 900, &job), JOBS_OUTCOME_STARTED);
        race(racers, false);
        for (int i = 0; i < RACERS; i++)
            winners += racers[i].won;
        assert_int_equal(winners, 1);
    }
    PQfinish(c);
}

static void test_racing_claimers_share_many_jobs_without_overlap(void **state)
{
    struct racer racers[RACERS];
    struct jobs_job job;
    int seen[MANY_JOBS] = {0}, total = 0;
    long long first = 0;
    char user[32];
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    for (int i = 0; i < MANY_JOBS; i++) {
        snprintf(user, sizeof(user), "many-%d", i);
        assert_int_equal(submit(c, user, "req", 900, &job), JOBS_OUTCOME_STARTED);
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
        int rc = submit(c, user, "poll", 900, job);

        if (rc == JOBS_OUTCOME_RESULT || rc == JOBS_OUTCOME_FAILED)
            return rc;
        usleep(50 * 1000);
    }
    fail_msg("job for %s never finished", user);
    return -1;
}

static void test_runner_computes_and_takes_over_a_dead_replicas_job(void **state)
{
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
    char err[256];
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    /* A job claimed by a replica that then died (lease already expired). */
    assert_int_equal(submit(c, "orphan", "req", 900, &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(claim(c, "dead-replica", &claimed), 1);
    PQclear(pgt_sql(c, "UPDATE insights_jobs SET lease_until = now() - interval '1 second'"));

    r = jobs_runner_start(&cfg, NULL, err, sizeof(err));
    assert_non_null(r);
    assert_int_equal(submit(c, "alice", "req", 900, &job), JOBS_OUTCOME_STARTED);
    jobs_runner_kick(r);
    assert_int_equal(submit(c, "partial", "req", 900, &job), JOBS_OUTCOME_STARTED);
    assert_int_equal(submit(c, "fails", "req", 900, &job), JOBS_OUTCOME_STARTED);
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

    if (!pgt_available())
        printf(PGT_SKIP_MSG);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
