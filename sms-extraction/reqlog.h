/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The optional request log in PostgreSQL (table smsx_request_log): one row
 * per /api/extract request with ids, counts, status and latency, never
 * message content. Enabled when DB_HOST is set. Request threads only enqueue
 * into a bounded queue; one background thread connects, migrates, writes and
 * reconnects with backoff, so a slow or absent database never slows or fails
 * a request. Every row that cannot be written is counted in /metrics.
 */
#ifndef SMSX_REQLOG_H
#define SMSX_REQLOG_H

#include "common/metrics.h"
#include "sms-extraction/config.h"

struct reqlog;

/* Outcome of one request, as logged. Strings may be NULL (unknown). */
struct reqlog_entry {
    const char *request_id;
    const char *client_id;
    const char *user_id;
    long sms_count;
    long extracted_count;
    int status;
    double latency_ms;
};

/*
 * A request log for cfg (must outlive it), with its writer thread started; NULL when
 * DB_HOST is empty (every function accepts a NULL log). Returns NULL with
 * err set only when the thread cannot start; *enabled says which.
 */
struct reqlog *reqlog_start(const struct smsx_config *cfg, struct metrics *metrics, bool *enabled,
                            char *err, size_t err_len);

/* Queue one row; never blocks on the database. Drops (and counts) when the queue is full. */
void reqlog_log(struct reqlog *s, const struct reqlog_entry *e);

/*
 * Stop: the writer flushes what is queued for up to grace_ms, counts the rest
 * as dropped, closes the connection and exits; then everything is freed.
 */
void reqlog_stop(struct reqlog *s, long grace_ms);

#endif
