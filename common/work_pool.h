/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small pool of threads for work that may block (database, MongoDB, calls
 * to another service), fed from the event loops and handing each finished
 * item back to the loop it came from, so that loops never block and a
 * request's context is only ever touched on its own loop thread.
 *
 * DESIGN. One bounded FIFO (queue_max; full -> work_pool_submit fails and
 * the caller refuses the request) served by `threads` threads. The pool
 * knows nothing of what an item is: callers embed a struct work_item as the
 * first member of their own struct and cast back in the callbacks (the
 * intrusive-list shape of pgbouncer's sbuf / Linux's list_head), so the same
 * pool serves insights-api's API calls and could serve sms-extraction's
 * requests. Life of an item:
 *
 *   submit (loop thread) -> queued -> run (pool thread, may block)
 *     -> posted to its loop (event_base_once) -> deliver (loop thread)
 *
 * deliver owns the item from then on (it replies and frees). Items posted
 * but never delivered (the loop stopped first) are kept on a list and
 * handed to discard by work_pool_free, so shutdown leaks nothing. An item
 * submitted with no loop (base NULL) is delivered on the pool thread right
 * after run: tools and tests use that.
 *
 * Shutdown: work_pool_stop() refuses new items, lets the threads finish the
 * queued ones, joins them; then the owner stops its loops; then
 * work_pool_free() discards what was never delivered.
 */
#ifndef COMMON_WORK_POOL_H
#define COMMON_WORK_POOL_H

#include <stddef.h>
#include <time.h>

struct event_base;
struct metrics_gauge;
struct work_pool;

/* Embed as the first member of the caller's struct; the pool owns these fields. */
struct work_item {
    struct work_item *next, *prev;
    struct work_pool *pool;
    struct event_base *base;   /* where deliver runs; NULL = on the pool thread */
    struct timespec queued_at; /* CLOCK_MONOTONIC, set by work_pool_submit */
};

struct work_pool_config {
    int threads;      /* > 0 */
    size_t queue_max; /* items waiting for a thread, at most; > 0 */
    /* On a pool thread; may block. */
    void (*run)(struct work_item *item, void *arg);
    /* On the item's loop after run (or on the pool thread without a loop); owns the item. */
    void (*deliver)(struct work_item *item, void *arg);
    /* From work_pool_free, for items run but never delivered; owns the item. */
    void (*discard)(struct work_item *item, void *arg);
    void *arg;
    struct metrics_gauge *queue_gauge; /* items waiting; may be NULL */
};

/* Start the threads (cfg is copied). NULL with err set when they cannot start. */
struct work_pool *work_pool_new(const struct work_pool_config *cfg, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/*
 * Queue item, to be delivered on base (may be NULL). Returns 0, or -1 when
 * the queue is full or the pool is stopping: the item is then still the
 * caller's. Thread-safe.
 */
int work_pool_submit(struct work_pool *p, struct work_item *item, struct event_base *base)
    __attribute__((warn_unused_result));

/* Seconds since item was submitted (monotonic clock). */
double work_item_waited(const struct work_item *item);

/*
 * How many times the pool gave its memory back to the OS (malloc_trim once
 * it has stayed idle a second after some work; see work_pool.c). Thread-safe.
 */
unsigned long work_pool_trims(struct work_pool *p);

/* Refuse new items, run the queued ones, join the threads. Safe on NULL; idempotent. */
void work_pool_stop(struct work_pool *p);

/*
 * Shutdown past its grace: refuse new items and hand the queued ones, never
 * run, to discard (on the calling thread, after the loops stopped: the
 * server has already answered their requests 503 draining). Then
 * work_pool_stop only waits for the items in hand. Safe on NULL.
 */
void work_pool_drop_queued(struct work_pool *p);

/* After work_pool_stop and after the loops stopped: discards undelivered items. Safe on NULL. */
void work_pool_free(struct work_pool *p);

#endif
