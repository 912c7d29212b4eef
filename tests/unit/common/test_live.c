/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/live: generations count from 1, a reader keeps its value alive
 * past a publish and past the holder itself, every value is freed exactly
 * once, and readers on four threads racing a publisher always see a whole
 * value (both halves written by the same publish) that is still alive.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/live.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

struct pair {
    uint64_t a, b; /* equal while alive */
    atomic_int *freed;
};

static struct pair *pair_new(uint64_t v, atomic_int *freed)
{
    struct pair *p = malloc(sizeof(*p));

    assert_non_null(p);
    p->a = p->b = v;
    p->freed = freed;
    return p;
}

static void pair_free(void *value)
{
    struct pair *p = value;

    atomic_fetch_add(p->freed, 1);
    p->a = 0; /* a reader of a freed value would see a != b under ASan's reuse, or crash */
    p->b = 1;
    free(p);
}

static void test_generations_and_lifetime(void **state)
{
    atomic_int freed = 0;
    struct live *l = live_new(pair_free);
    struct live_ref r1 = {0}, r2 = {0};

    (void)state;
    assert_int_equal(live_generation(l), 0);
    live_acquire(l, &r1);
    assert_null(r1.value);
    live_release(&r1); /* an empty ref releases to nothing */
    assert_int_equal(live_publish(l, pair_new(10, &freed)), 1);
    live_acquire(l, &r1);
    assert_int_equal(r1.generation, 1);
    assert_int_equal(live_publish(l, pair_new(20, &freed)), 2);
    assert_int_equal(live_generation(l), 2);
    assert_int_equal(atomic_load(&freed), 0); /* r1 still holds generation 1 */
    assert_int_equal(((struct pair *)r1.value)->a, 10);
    live_release(&r1);
    assert_int_equal(atomic_load(&freed), 1);
    assert_null(r1.value);
    live_acquire(l, &r2);
    live_free(l); /* the reader outlives the holder */
    assert_int_equal(atomic_load(&freed), 1);
    assert_int_equal(((struct pair *)r2.value)->b, 20);
    live_release(&r2);
    assert_int_equal(atomic_load(&freed), 2);
}

struct race {
    struct live *l;
    atomic_int stop;
    atomic_long reads;
    atomic_long torn;
};

static void *reader(void *arg)
{
    struct race *r = arg;

    while (!atomic_load(&r->stop)) {
        struct live_ref ref = {0};
        const struct pair *p;

        live_acquire(r->l, &ref);
        p = ref.value;
        if (p->a != p->b || p->a != ref.generation)
            atomic_fetch_add(&r->torn, 1);
        live_release(&ref);
        atomic_fetch_add(&r->reads, 1);
    }
    return NULL;
}

static void test_readers_race_publisher(void **state)
{
    atomic_int freed = 0;
    struct race r = {.l = live_new(pair_free)};
    pthread_t t[4];
    const int publishes = 2000;

    (void)state;
    live_publish(r.l, pair_new(1, &freed));
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, &r), 0);
    /* On a loaded machine the publisher could finish before a reader ran: start racing
     * only once readers read, and let them in between publishes. */
    while (atomic_load(&r.reads) == 0)
        sched_yield();
    for (int g = 2; g <= publishes; g++) {
        assert_int_equal(live_publish(r.l, pair_new((uint64_t)g, &freed)), (uint64_t)g);
        if (g % 64 == 0)
            sched_yield();
    }
    atomic_store(&r.stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&r.torn), 0);
    assert_true(atomic_load(&r.reads) > 0);
    assert_int_equal(atomic_load(&freed), publishes - 1);
    live_free(r.l);
    assert_int_equal(atomic_load(&freed), publishes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generations_and_lifetime),
        cmocka_unit_test(test_readers_race_publisher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
