/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live extraction rules: the three artifacts loaded through
 * common/artifact.h, compiled by extract_rules_load() and published so that
 * a reload (SIGHUP) never disturbs a request in flight.
 *
 * DESIGN. Each load makes a new immutable generation (common/live.h: a
 * refcounted value). Each worker thread keeps a struct rules_view holding one
 * reference and a scratch sized for that generation. At the start of a
 * request the view compares one atomic generation number with its own and,
 * only when they differ, takes the new one under a short mutex and drops its
 * old one; the last reference frees a generation. So the hot path is one
 * atomic load, a request always runs on the rules it started with, and old
 * rules live exactly until the last request using them ends.
 */
#ifndef SMSX_RULES_H
#define SMSX_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/live.h"
#include "common/metrics.h"
#include "sms-extraction/config.h"
#include "sms-extraction/extract.h"

struct rules;

/* A worker thread's view; zero-initialise it, release it when the thread ends. */
struct rules_view {
    struct live_ref ref; /* value: the struct extract_rules in use */
    struct extract_scratch *scratch;
};

/*
 * Holder for cfg's artifacts; nothing is loaded yet. cfg and metrics must
 * outlive it (metrics may be NULL in tests). Returns NULL with err set when an
 * artifact location is malformed. Allocation failure aborts.
 */
struct rules *rules_new(const struct smsx_config *cfg, struct metrics *metrics, char *err,
                        size_t err_len);
void rules_free(struct rules *r);

/*
 * Load all three artifacts and publish them. On failure the current rules
 * (if any) stay in use, the failure is counted in
 * smsx_rules_reload_failures_total and err names the artifact and the reason.
 * Safe to call from any thread; concurrent calls run one after the other.
 */
int rules_reload(struct rules *r, char *err, size_t err_len) __attribute__((warn_unused_result));

/* True once a load has succeeded. */
bool rules_ready(const struct rules *r);

/* "vocabulary=<v>,classification=<v>,regex=<v>" of the current set, or "" before a load. */
void rules_describe(struct rules *r, char *buf, size_t buf_len);

/* Where artifact which (0 vocabulary, 1 classification, 2 regex) is read from. */
void rules_source(const struct rules *r, int which, char *buf, size_t buf_len);

/*
 * Bring view up to date with the current set. Returns the rules to use for
 * this request (and view->scratch to go with them), or NULL when nothing is
 * loaded yet or a scratch could not be allocated.
 */
const struct extract_rules *rules_view_refresh(struct rules *r, struct rules_view *view);
void rules_view_release(struct rules_view *view);

#endif
