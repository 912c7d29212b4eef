/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker pool and the hand-back to the event loops (see the DESIGN note
 * in work_pool.h). One mutex guards the queue, the list of items posted to
 * a loop and not yet delivered, and the stopping flag; callbacks run with
 * no lock held.
 *
 * Memory after a burst: by glibc's default each pool thread has an arena
 * (a request's working set: a user's SMS, extraction replies, features), and
 * daemon.c raises glibc's trim threshold so that freed memory is reused, not
 * handed back. A burst would leave that memory with the process for good.
 * So once the pool has run work and then stayed idle for IDLE_TRIM_MS (no
 * item queued or running), one idle thread calls malloc_trim, which returns
 * the free pages of every arena (but not the free top of a thread's own
 * arena: hence MALLOC_ARENAS, common/daemon.c). Under steady load the pool is
 * never idle that long, so requests keep reusing their memory.
 */
#include "common/work_pool.h"

#include <errno.h>
#include <event2/event.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/metrics.h"

/* Idle time after which the memory of the work just done goes back to the OS. */
#define IDLE_TRIM_MS 1000

struct work_pool {
    struct work_pool_config cfg;
    pthread_t *threads;
    int n_threads;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct work_item *head, *tail; /* the queue */
    size_t queued;
    bool stopping;
    struct work_item *posted; /* handed to a loop, not yet delivered */
    int running;              /* items taken by a thread and not finished */
    bool ran_since_trim;      /* work done since the last malloc_trim */
    unsigned long trims;      /* malloc_trim calls (tests, metrics) */
};

double work_item_waited(const struct work_item *item)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - item->queued_at.tv_sec) +
           (double)(now.tv_nsec - item->queued_at.tv_nsec) / 1e9;
}

static void posted_unlink(struct work_pool *p, struct work_item *it)
{
    pthread_mutex_lock(&p->lock);
    if (it->prev)
        it->prev->next = it->next;
    else
        p->posted = it->next;
    if (it->next)
        it->next->prev = it->prev;
    pthread_mutex_unlock(&p->lock);
}

/* On the item's loop thread. */
static void on_posted(evutil_socket_t fd, short what, void *arg)
{
    struct work_item *it = arg;
    struct work_pool *p = it->pool;

    (void)fd;
    (void)what;
    posted_unlink(p, it);
    p->cfg.deliver(it, p->cfg.arg);
}

static void post(struct work_pool *p, struct work_item *it)
{
    const struct timeval now = {0, 0};

    if (!it->base) {
        p->cfg.deliver(it, p->cfg.arg);
        return;
    }
    pthread_mutex_lock(&p->lock);
    it->prev = NULL;
    it->next = p->posted;
    if (p->posted)
        p->posted->prev = it;
    p->posted = it;
    pthread_mutex_unlock(&p->lock);
    /* On failure the item stays posted: work_pool_free discards it. */
    if (event_base_once(it->base, -1, EV_TIMEOUT, on_posted, it, &now) < 0)
        log_error(NULL, "work item could not be handed back to its event loop");
}

/*
 * With the lock held and the pool idle after some work: wait IDLE_TRIM_MS
 * for an item; if none came and the pool is still idle, trim (lock released
 * meanwhile, so submitters are not held up).
 */
static void wait_or_trim(struct work_pool *p)
{
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += IDLE_TRIM_MS / 1000;
    deadline.tv_nsec += (long)(IDLE_TRIM_MS % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    if (pthread_cond_timedwait(&p->cond, &p->lock, &deadline) != ETIMEDOUT)
        return;
    if (p->head || p->stopping || p->running || !p->ran_since_trim)
        return;
    p->ran_since_trim = false;
    p->trims++;
    pthread_mutex_unlock(&p->lock);
    malloc_trim(0);
    pthread_mutex_lock(&p->lock);
}

/* Next item, or NULL once stopping and the queue is empty. finished: the caller's last item is
 * done. */
static struct work_item *take(struct work_pool *p, bool finished)
{
    struct work_item *it;

    pthread_mutex_lock(&p->lock);
    if (finished)
        p->running--;
    while (!p->head && !p->stopping) {
        if (!p->running && p->ran_since_trim)
            wait_or_trim(p);
        else
            pthread_cond_wait(&p->cond, &p->lock);
    }
    it = p->head;
    if (it) {
        p->head = it->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        p->running++;
        p->ran_since_trim = true;
        metrics_gauge_set(p->cfg.queue_gauge, (long long)p->queued);
    }
    pthread_mutex_unlock(&p->lock);
    return it;
}

static void *thread_main(void *arg)
{
    struct work_pool *p = arg;
    struct work_item *it;
    bool finished = false;

    while ((it = take(p, finished)) != NULL) {
        it->next = NULL;
        p->cfg.run(it, p->cfg.arg);
        post(p, it);
        finished = true;
    }
    return NULL;
}

unsigned long work_pool_trims(struct work_pool *p)
{
    unsigned long n;

    pthread_mutex_lock(&p->lock);
    n = p->trims;
    pthread_mutex_unlock(&p->lock);
    return n;
}

int work_pool_submit(struct work_pool *p, struct work_item *item, struct event_base *base)
{
    item->pool = p;
    item->base = base;
    item->next = item->prev = NULL;
    clock_gettime(CLOCK_MONOTONIC, &item->queued_at);
    pthread_mutex_lock(&p->lock);
    if (p->stopping || p->queued >= p->cfg.queue_max) {
        pthread_mutex_unlock(&p->lock);
        return -1;
    }
    if (p->tail)
        p->tail->next = item;
    else
        p->head = item;
    p->tail = item;
    p->queued++;
    metrics_gauge_set(p->cfg.queue_gauge, (long long)p->queued);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

struct work_pool *work_pool_new(const struct work_pool_config *cfg, char *err, size_t err_len)
{
    struct work_pool *p;
    pthread_condattr_t ca;

    if (cfg->threads <= 0 || cfg->queue_max == 0 || !cfg->run || !cfg->deliver || !cfg->discard) {
        snprintf(err, err_len,
                 "work pool: threads, queue_max and the three callbacks are required");
        return NULL;
    }
    p = alloc_zeroed(1, sizeof(*p));
    p->cfg = *cfg;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    p->threads = alloc_zeroed((size_t)cfg->threads, sizeof(pthread_t));
    for (int i = 0; i < cfg->threads; i++) {
        if (pthread_create(&p->threads[i], NULL, thread_main, p) != 0) {
            snprintf(err, err_len, "work pool: cannot start thread %d", i);
            work_pool_stop(p);
            work_pool_free(p);
            return NULL;
        }
        p->n_threads++;
    }
    return p;
}

void work_pool_drop_queued(struct work_pool *p)
{
    struct work_item *it;

    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    it = p->head;
    p->head = p->tail = NULL;
    p->queued = 0;
    metrics_gauge_set(p->cfg.queue_gauge, 0);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    while (it) {
        struct work_item *next = it->next;

        it->next = NULL;
        p->cfg.discard(it, p->cfg.arg);
        it = next;
    }
}

void work_pool_stop(struct work_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    p->n_threads = 0;
}

void work_pool_free(struct work_pool *p)
{
    if (!p)
        return;
    while (p->posted) {
        struct work_item *it = p->posted;

        p->posted = it->next;
        p->cfg.discard(it, p->cfg.arg);
    }
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->threads);
    free(p);
}
