/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker pool: items run on pool threads and come back to the event
 * loop they were submitted from (and only there), in any number; a full
 * queue and a stopping pool refuse; items whose loop never ran are handed
 * to discard at free, so shutdown loses and leaks nothing; an item without
 * a loop is delivered on the pool thread; bad configurations are refused;
 * a pool gives its memory back (malloc_trim) once idle after work, and
 * only then.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/work_pool.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct job {
    struct work_item item; /* first, as the pool wants */
    int value;
    pthread_t ran_on, delivered_on;
    bool ran;
};

struct fixture {
    atomic_int delivered, discarded, sum;
    sem_t started; /* run() posts it when hold is set, */
    sem_t gate;    /* then waits on this */
    bool hold;
    struct event_base *base;
};

static void run(struct work_item *item, void *arg)
{
    struct fixture *f = arg;
    struct job *j = (struct job *)item;

    if (f->hold) {
        sem_post(&f->started);
        sem_wait(&f->gate);
    }
    j->ran = true;
    j->ran_on = pthread_self();
}

static void deliver(struct work_item *item, void *arg)
{
    struct fixture *f = arg;
    struct job *j = (struct job *)item;

    j->delivered_on = pthread_self();
    atomic_fetch_add(&f->sum, j->value);
    if (atomic_fetch_add(&f->delivered, 1) + 1 == 50 && f->base)
        event_base_loopbreak(f->base);
}

static void discard(struct work_item *item, void *arg)
{
    struct fixture *f = arg;

    (void)item;
    atomic_fetch_add(&f->discarded, 1);
}

static struct work_pool *pool_of(struct fixture *f, int threads, size_t queue_max)
{
    struct work_pool_config cfg = {.threads = threads,
                                   .queue_max = queue_max,
                                   .run = run,
                                   .deliver = deliver,
                                   .discard = discard,
                                   .arg = f};
    char err[128];
    struct work_pool *p = work_pool_new(&cfg, err, sizeof(err));

    assert_non_null(p);
    return p;
}

static void test_items_come_back_to_their_loop(void **state)
{
    struct fixture f = {0};
    struct job jobs[50];
    struct work_pool *p;
    (void)state;

    evthread_use_pthreads();
    f.base = event_base_new();
    p = pool_of(&f, 3, 64);
    for (int i = 0; i < 50; i++) {
        jobs[i] = (struct job){.value = i + 1};
        assert_int_equal(work_pool_submit(p, &jobs[i].item, f.base), 0);
    }
    /* the loop keeps running until the 50th delivery breaks it */
    event_base_loop(f.base, EVLOOP_NO_EXIT_ON_EMPTY);
    assert_int_equal(atomic_load(&f.delivered), 50);
    assert_int_equal(atomic_load(&f.sum), 50 * 51 / 2);
    for (int i = 0; i < 50; i++) {
        assert_true(jobs[i].ran);
        assert_false(pthread_equal(jobs[i].ran_on, pthread_self()));
        assert_true(pthread_equal(jobs[i].delivered_on, pthread_self()));
        assert_true(work_item_waited(&jobs[i].item) >= 0.0);
    }
    work_pool_stop(p);
    work_pool_free(p);
    assert_int_equal(atomic_load(&f.discarded), 0);
    event_base_free(f.base);
}

static void test_full_queue_and_stopping_refuse(void **state)
{
    struct fixture f = {.hold = true};
    struct job jobs[4] = {{.value = 1}, {.value = 2}, {.value = 3}, {.value = 4}};
    struct work_pool *p;
    (void)state;

    sem_init(&f.started, 0, 0);
    sem_init(&f.gate, 0, 0);
    p = pool_of(&f, 1, 2);
    /* the one thread takes the first and waits at the gate; two more fill the queue */
    assert_int_equal(work_pool_submit(p, &jobs[0].item, NULL), 0);
    sem_wait(&f.started);
    assert_int_equal(work_pool_submit(p, &jobs[1].item, NULL), 0);
    assert_int_equal(work_pool_submit(p, &jobs[2].item, NULL), 0);
    assert_int_equal(work_pool_submit(p, &jobs[3].item, NULL), -1); /* full: still the caller's */
    for (int i = 0; i < 3; i++)
        sem_post(&f.gate);
    work_pool_stop(p); /* finishes what was queued */
    assert_int_equal(atomic_load(&f.delivered), 3);
    assert_int_equal(atomic_load(&f.sum), 1 + 2 + 3);
    assert_false(jobs[3].ran);
    /* without a loop, delivery happened on the pool thread */
    assert_true(pthread_equal(jobs[0].ran_on, jobs[0].delivered_on));
    assert_int_equal(work_pool_submit(p, &jobs[3].item, NULL), -1); /* stopping */
    work_pool_free(p);
    sem_destroy(&f.gate);
    sem_destroy(&f.started);
}

static void test_undelivered_items_are_discarded_at_free(void **state)
{
    struct fixture f = {0};
    struct job jobs[5];
    struct event_base *base;
    struct work_pool *p;
    (void)state;

    evthread_use_pthreads();
    base = event_base_new();
    p = pool_of(&f, 2, 8);
    for (int i = 0; i < 5; i++) {
        jobs[i] = (struct job){.value = i};
        assert_int_equal(work_pool_submit(p, &jobs[i].item, base), 0);
    }
    work_pool_stop(p); /* all run, all posted to a loop that never runs */
    assert_int_equal(atomic_load(&f.delivered), 0);
    event_base_free(base);
    work_pool_free(p);
    assert_int_equal(atomic_load(&f.discarded), 5);
}

/*
 * Shutdown past its grace (issue 11, item 6): queued items are handed to
 * discard without running; the item in hand finishes; nothing more is taken.
 */
static void test_drop_queued_discards_without_running(void **state)
{
    struct fixture f = {.hold = true};
    struct job jobs[4], late = {0};
    struct work_pool *p;
    (void)state;

    sem_init(&f.started, 0, 0);
    sem_init(&f.gate, 0, 0);
    p = pool_of(&f, 1, 8);
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct job){.value = i};
        assert_int_equal(work_pool_submit(p, &jobs[i].item, NULL), 0);
    }
    sem_wait(&f.started); /* job 0 is in hand; 1..3 wait */
    work_pool_drop_queued(p);
    assert_int_equal(atomic_load(&f.discarded), 3);
    assert_int_equal(work_pool_submit(p, &late.item, NULL), -1);
    sem_post(&f.gate);
    work_pool_stop(p);
    assert_true(jobs[0].ran);
    for (int i = 1; i < 4; i++)
        assert_false(jobs[i].ran);
    assert_int_equal(atomic_load(&f.delivered), 1);
    work_pool_free(p);
    sem_destroy(&f.started);
    sem_destroy(&f.gate);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/*
 * Issue 11: insights-api kept ~48 MiB after a burst because the pool
 * threads' arenas were never trimmed. A pool that never ran anything does
 * not trim; after work and a second of idleness it trims once; idleness
 * without new work does not trim again; new work then idleness trims again.
 */
static void test_trims_once_idle_after_work(void **state)
{
    struct fixture f = {0};
    struct job jobs[5];
    struct work_pool *p;
    int waited;
    (void)state;

    p = pool_of(&f, 2, 8);
    sleep_ms(1300);
    assert_int_equal(work_pool_trims(p), 0);
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct job){.value = i};
        assert_int_equal(work_pool_submit(p, &jobs[i].item, NULL), 0);
    }
    for (waited = 0; work_pool_trims(p) == 0 && waited < 10000; waited += 50)
        sleep_ms(50);
    assert_int_equal(atomic_load(&f.delivered), 4);
    assert_int_equal(work_pool_trims(p), 1);
    sleep_ms(1300);
    assert_int_equal(work_pool_trims(p), 1);
    jobs[4] = (struct job){.value = 4};
    assert_int_equal(work_pool_submit(p, &jobs[4].item, NULL), 0);
    for (waited = 0; work_pool_trims(p) == 1 && waited < 10000; waited += 50)
        sleep_ms(50);
    assert_int_equal(work_pool_trims(p), 2);
    work_pool_stop(p);
    work_pool_free(p);
}

static void test_bad_config_refused(void **state)
{
    struct work_pool_config cfg = {.threads = 0, .queue_max = 4};
    char err[128] = "";
    (void)state;

    assert_null(work_pool_new(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "required"));
    work_pool_stop(NULL);
    work_pool_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_come_back_to_their_loop),
        cmocka_unit_test(test_full_queue_and_stopping_refuse),
        cmocka_unit_test(test_undelivered_items_are_discarded_at_free),
        cmocka_unit_test(test_drop_queued_discards_without_running),
        cmocka_unit_test(test_trims_once_idle_after_work),
        cmocka_unit_test(test_bad_config_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
