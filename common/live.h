/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A live value that a reload replaces while requests keep using the one
 * they started with: sms-extraction's rules and insights-api's artifact set
 * (models, predictor lists, maps, catalogue) both live in one.
 *
 * DESIGN. Each publish makes a new generation: a node holding the value and
 * a reference count. The holder keeps one reference on the current node; a
 * reader takes one (live_acquire, a short mutex and an atomic increment) and
 * drops it when done (live_release); the last reference frees the value with
 * the holder's free function. So a request always runs on one generation,
 * an old value lives exactly until the last request using it ends, and a
 * reader that only needs to know whether anything changed reads one atomic
 * (live_generation). Loading is the caller's business and happens outside.
 */
#ifndef COMMON_LIVE_H
#define COMMON_LIVE_H

#include <stdint.h>

struct live;
struct live_node;

/* A reader's reference; zero-initialised means none. */
struct live_ref {
    struct live_node *node;
    void *value;         /* NULL when nothing was published yet */
    uint64_t generation; /* of value: 1 for the first publish, 0 for none */
};

/* An empty holder; free_value frees a published value (called on the last release). */
struct live *live_new(void (*free_value)(void *value));
/* Drops the holder's reference; readers still holding one keep their value alive. */
void live_free(struct live *l);

/* Make value (owned from now on) current; returns its generation. Thread-safe. */
uint64_t live_publish(struct live *l, void *value);

/* Generation of the current value, 0 before the first publish: one atomic load. */
uint64_t live_generation(const struct live *l);

/* A reference on the current value (ref->value NULL when none); release it when done. */
void live_acquire(struct live *l, struct live_ref *ref);
/* Drop ref (no-op on an empty one) and zero it. */
void live_release(struct live_ref *ref);

#endif
