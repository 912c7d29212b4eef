/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Refcounted generations of a live value (see the DESIGN note in live.h).
 * The publish mutex guards only the current pointer and the increment of its
 * count, so a reader never waits on a load and a publish never waits on a
 * request; the free of an old value happens on whichever thread drops its
 * last reference.
 */
#include "common/live.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/alloc.h"

struct live_node {
    void *value;
    uint64_t generation;
    atomic_uint refs;
    void (*free_value)(void *value);
};

struct live {
    void (*free_value)(void *value);
    pthread_mutex_t lock; /* guards current and the increment of its refs */
    struct live_node *current;
    atomic_uint_fast64_t generation; /* of current; 0 = nothing published */
};

static void node_release(struct live_node *n)
{
    if (!n || atomic_fetch_sub(&n->refs, 1) != 1)
        return;
    if (n->free_value)
        n->free_value(n->value);
    free(n);
}

struct live *live_new(void (*free_value)(void *value))
{
    struct live *l = alloc_zeroed(1, sizeof(*l));

    l->free_value = free_value;
    pthread_mutex_init(&l->lock, NULL);
    atomic_init(&l->generation, 0);
    return l;
}

void live_free(struct live *l)
{
    if (!l)
        return;
    node_release(l->current);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

uint64_t live_publish(struct live *l, void *value)
{
    struct live_node *n = alloc_zeroed(1, sizeof(*n));
    struct live_node *old;

    n->value = value;
    n->free_value = l->free_value;
    atomic_init(&n->refs, 1); /* the holder's reference */
    pthread_mutex_lock(&l->lock);
    old = l->current;
    n->generation = (old ? old->generation : 0) + 1;
    l->current = n;
    atomic_store(&l->generation, n->generation);
    pthread_mutex_unlock(&l->lock);
    node_release(old);
    return n->generation;
}

uint64_t live_generation(const struct live *l)
{
    return atomic_load(&((struct live *)l)->generation);
}

void live_acquire(struct live *l, struct live_ref *ref)
{
    struct live_node *n;

    pthread_mutex_lock(&l->lock);
    n = l->current;
    if (n)
        atomic_fetch_add(&n->refs, 1);
    pthread_mutex_unlock(&l->lock);
    ref->node = n;
    ref->value = n ? n->value : NULL;
    ref->generation = n ? n->generation : 0;
}

void live_release(struct live_ref *ref)
{
    node_release(ref->node);
    ref->node = NULL;
    ref->value = NULL;
    ref->generation = 0;
}
