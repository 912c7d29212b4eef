/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The insights-api side of sms-extraction: send a user's raw messages to
 * POST <SMS_EXTRACTOR_SERVICE_URL>/api/extract in batches of
 * SMS_EXTRACTOR_BATCH_SIZE, all batches concurrently through common's HTTP
 * client (keep-alive with a maximum connection age, retries with backoff, a
 * circuit breaker), and turn the replies into struct sms_fact records owned
 * by the user's struct user_data.
 *
 * Replicas. SMS_EXTRACTOR_SERVICE_URL is one base URL (a Kubernetes Service
 * spreads the connections over replicas; the maximum connection age makes
 * new replicas get traffic) or a comma-separated list of base URLs, used
 * round-robin per batch, for deployments without a load balancer. All URLs
 * share one breaker and one set of counters: they are one service.
 *
 * All or nothing. If any batch fails (after its retries, or refused by an
 * open circuit, or an unusable reply), the call fails and no fact is left
 * appended: the caller marks the SMS source SOURCE_FAILED; partial data is
 * never presented as complete.
 *
 * Batch size check. The extractor refuses more than its MAX_SMS_COUNT
 * messages per request (422 too_long, ctx.max_length). extraction_client_probe
 * learns that limit at start-up by sending one request of batch_size dummy
 * items (no message text; the extractor answers 422 either way, too_long
 * only when the batch is too big). A batch size above the limit is a
 * start-up error; an unreachable extractor is not (it may start later), and a
 * too_long reply at run time fails the call with a message naming both
 * values.
 *
 * Thread safety: one struct extraction_client is shared by all worker
 * threads. It keeps a small free list of per-thread HTTP clients (libcurl
 * connection caches) under a mutex, so calls from any thread reuse warm
 * connections.
 */
#ifndef INSIGHTS_EXTRACTION_CLIENT_H
#define INSIGHTS_EXTRACTION_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/http_client.h"
#include "common/metrics.h"
#include "insights-api/userdata.h"
#include "insights-api/userdata_build.h"

#define EXTRACTION_CLIENT_MAX_URLS 16        /* base URLs in SMS_EXTRACTOR_SERVICE_URL */
#define EXTRACTION_CLIENT_DEFAULT_BATCH 1000 /* SMS_EXTRACTOR_BATCH_SIZE default */
#define EXTRACTION_CLIENT_MAX_BATCH 100000   /* sanity cap on SMS_EXTRACTOR_BATCH_SIZE */

struct extraction_client_config {
    const char *service_url;        /* "http://h:8082" or "http://a:8082,http://b:8082"; copied */
    long batch_size;                /* 1..EXTRACTION_CLIENT_MAX_BATCH; 0 = default 1000 */
    struct http_client_config http; /* http_client_config_default() unless tuned */
    struct metrics *metrics;        /* optional (NULL = none): counters registered at _new */
};

struct extraction_client_stats {
    uint64_t calls;        /* extraction_client_extract calls with >= 1 message */
    uint64_t calls_failed; /* of which failed (source marked failed) */
    uint64_t batches;      /* batch requests sent (or refused by the breaker) */
    uint64_t batches_failed;
    uint64_t messages;                                /* messages sent */
    uint64_t url_batches[EXTRACTION_CLIENT_MAX_URLS]; /* batches per base URL */
    size_t url_count;
    struct http_client_stats http; /* breaker state and HTTP counters */
};

struct extraction_client;

/*
 * Validate cfg (URLs must be http:// or https://, batch size in range) and
 * build the client. With cfg->metrics set, registers the counters
 *   <p>extraction_calls_total{result="ok|failed"}
 *   <p>extraction_batches_total{result="ok|http_5xx|connect|timeout|...|bad_reply|rejected"}
 *   <p>extraction_messages_total
 * and counts metrics_dependency_error(m, "sms-extraction") per failed call.
 * Returns NULL with err set.
 */
struct extraction_client *extraction_client_new(const struct extraction_client_config *cfg,
                                                char *err, size_t err_len);
/* Shutting down: calls in progress or to come end at once (the grace is over). */
void extraction_client_cancel(struct extraction_client *c);
void extraction_client_free(struct extraction_client *c);

/*
 * Start-up batch size check (see above). Returns
 *   ERR_OK                      checked: the batch size fits (err "")
 *   ERR_VALIDATION              batch_size exceeds the extractor's limit (*limit set,
 *                               err names both): refuse to start
 *   ERR_DEPENDENCY_UNAVAILABLE  not checked (extractor unreachable or an unexpected
 *                               reply; err says why): warn and go on
 * *limit is 0 unless ERR_VALIDATION. limit may be NULL. Uses a private HTTP
 * upstream without retries, so a down extractor does not open the breaker.
 */
enum err extraction_client_probe(struct extraction_client *c, long *limit, char *err,
                                 size_t err_len);

/*
 * Extract msgs (in their order) for one user. On ERR_OK, msgs->count facts
 * are appended to u->sms in the same order (call user_data_sort_sms if msgs
 * was not sorted); the facts' strings are owned by u. If records is not
 * NULL, *records receives a new JSON array of the extractor's records, in the
 * same order, as they came (for fetch_extracted_data; caller decrefs).
 *
 * Errors (u->sms unchanged, *records NULL, err says which batch and why, with
 * no message content):
 *   ERR_DEPENDENCY_TIMEOUT      the last attempt timed out
 *   ERR_DEPENDENCY_OVERLOADED   the last attempt got 503 (the extractor shed load)
 *   ERR_DEPENDENCY_UNAVAILABLE  connect/other 5xx after retries, circuit open,
 *                               or a reply that is not the documented shape
 *   ERR_VALIDATION              the extractor rejected a batch (4xx), e.g. too_long
 *   ERR_INTERNAL                a reply record count that does not match
 * An empty msgs succeeds at once without any request.
 * request_id (may be NULL) is sent as the batches' request_id / X-Request-Id.
 */
enum err extraction_client_extract(struct extraction_client *c, const struct raw_sms_list *msgs,
                                   const char *request_id, struct user_data *u, json_t **records,
                                   char *err, size_t err_len);

/* Snapshot of the counters and breaker state (thread-safe). */
void extraction_client_stats(struct extraction_client *c, struct extraction_client_stats *out);

#endif
