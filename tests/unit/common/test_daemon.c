/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared service rows' MALLOC_ARENAS (issue 11: memory back to the OS
 * after a burst): the row's default and bounds, and its effect: with one
 * arena, threads that allocate at the same time all allocate from glibc's
 * main arena, the one whose free top malloc_trim gives back. Without the
 * cap each thread gets an arena of its own (five heaps here), whose top
 * stays with the process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/daemon.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4

static const char *fake_get(const char *name, void *arg)
{
    const char *const *env = arg;

    for (; env && env[0]; env += 2)
        if (strcmp(env[0], name) == 0)
            return env[1];
    return NULL;
}

static size_t service_rows(void)
{
    size_t n = 0;

    while (daemon_service_rows[n].name)
        n++;
    return n;
}

static int load(struct daemon_service_config *c, const char *const *env, char *err, size_t len)
{
    memset(c, 0, sizeof(*c));
    return config_load_with(daemon_service_rows, service_rows(), c, fake_get, (void *)env, err,
                            len);
}

static void test_malloc_arenas_row(void **state)
{
    struct daemon_service_config c;
    char err[256] = "";
    const char *zero[] = {"MALLOC_ARENAS", "0", NULL};
    const char *negative[] = {"MALLOC_ARENAS", "-1", NULL};
    const char *huge[] = {"MALLOC_ARENAS", "1025", NULL};
    (void)state;

    assert_int_equal(load(&c, NULL, err, sizeof(err)), 0);
    assert_int_equal(c.malloc_arenas, 1);
    config_free(daemon_service_rows, service_rows(), &c);
    assert_int_equal(load(&c, zero, err, sizeof(err)), 0);
    assert_int_equal(c.malloc_arenas, 0);
    config_free(daemon_service_rows, service_rows(), &c);
    assert_int_equal(load(&c, negative, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "MALLOC_ARENAS"));
    config_free(daemon_service_rows, service_rows(), &c);
    assert_int_equal(load(&c, huge, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "MALLOC_ARENAS"));
    config_free(daemon_service_rows, service_rows(), &c);
}

static pthread_barrier_t together;

/* Allocates while the others do (so glibc would give it an arena of its own). */
static void *allocate(void *arg)
{
    void *blocks[64];
    (void)arg;

    pthread_barrier_wait(&together);
    for (int i = 0; i < 64; i++)
        blocks[i] = malloc(64 << 10);
    pthread_barrier_wait(&together);
    for (int i = 0; i < 64; i++)
        free(blocks[i]);
    return NULL;
}

/* Arenas (heaps) malloc_info lists. */
static int arenas(void)
{
    char *xml = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&xml, &len);
    int n = 0;

    assert_non_null(f);
    assert_int_equal(malloc_info(0, f), 0);
    fclose(f);
    for (const char *p = xml; (p = strstr(p, "<heap nr=")); p++)
        n++;
    free(xml);
    return n;
}

static void test_one_arena_for_every_thread(void **state)
{
    struct daemon_service_config c = {.malloc_arenas = 1};
    pthread_t t[THREADS];
    (void)state;

    daemon_limit_arenas(&c);
    pthread_barrier_init(&together, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, allocate, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&together);
    assert_int_equal(arenas(), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malloc_arenas_row),
        cmocka_unit_test(test_one_arena_for_every_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
