/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service-to-service HTTP client (insights-api -> sms-extraction), on libcurl.
 *
 * Two objects, because libcurl connection caches must not be shared across
 * threads but failure accounting must be:
 *   struct http_client_upstream  one per peer service, shared by all threads
 *                                (thread-safe): config, circuit breaker, counters.
 *   struct http_client           one per thread (NOT thread-safe): a curl multi
 *                                handle whose connection cache keeps connections
 *                                alive between calls.
 *
 * Behaviour per attempt: connect and total timeouts; keep-alive reuse, but no
 * connection is reused once older than max_conn_age_s, so new replicas behind a
 * Kubernetes Service get a share of traffic (CURLOPT_MAXLIFETIME_CONN). Failed
 * attempts (connect error, timeout, transport error, HTTP 5xx) are retried up
 * to max_retries times with exponential backoff and jitter: the delay before
 * retry k is uniform in [d/2, d], d = min(backoff_max_ms, backoff_base_ms * 2^(k-1)),
 * raised to a reply's Retry-After (capped at backoff_max_ms) when it sends one.
 * Only use the client for idempotent requests (extraction is), since a timed-out
 * POST may have been processed.
 *
 * Circuit breaker (per upstream): CLOSED until breaker_threshold consecutive
 * failed attempts, then OPEN: calls fail at once with HTTP_CLIENT_E_CIRCUIT_OPEN.
 * After breaker_open_ms one probe attempt is let through (HALF_OPEN; other calls
 * still fail fast): success closes the circuit, failure re-opens it.
 *
 * All calls block the calling thread; run them on worker threads, not on an
 * event loop thread.
 */
#ifndef COMMON_HTTP_CLIENT_H
#define COMMON_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_client_config {
    long connect_timeout_ms;   /* per attempt */
    long timeout_ms;           /* per attempt, whole request */
    long budget_ms;            /* whole call including retries and backoff; 0 = no limit */
    long max_conn_age_s;       /* never reuse a connection older than this; 0 = no limit */
    long max_idle_s;           /* never reuse a connection idle longer than this */
    int max_retries;           /* attempts after the first */
    long backoff_base_ms;      /* first retry delay (upper bound) */
    long backoff_max_ms;       /* cap on one retry delay */
    int breaker_threshold;     /* consecutive failed attempts that open the circuit; 0 = off */
    long breaker_open_ms;      /* how long the circuit stays open before a probe */
    size_t max_response_bytes; /* response body cap */
    int max_parallel;          /* batch: transfers in flight at once per http_client */
};

enum http_client_breaker_state {
    HTTP_CLIENT_BREAKER_CLOSED,
    HTTP_CLIENT_BREAKER_OPEN,
    HTTP_CLIENT_BREAKER_HALF_OPEN,
};

enum http_client_result {
    HTTP_CLIENT_OK,             /* a response with status < 500 (4xx included) */
    HTTP_CLIENT_E_HTTP_5XX,     /* the last attempt got a 5xx; status and body are filled */
    HTTP_CLIENT_E_CONNECT,      /* could not resolve or connect */
    HTTP_CLIENT_E_TIMEOUT,      /* connect or total timeout */
    HTTP_CLIENT_E_TRANSPORT,    /* connection broke mid-request */
    HTTP_CLIENT_E_CIRCUIT_OPEN, /* refused without trying: the circuit is open */
    HTTP_CLIENT_E_TOO_LARGE,    /* the response exceeded max_response_bytes */
    HTTP_CLIENT_E_INVALID,      /* bad request (URL, method); not retried */
    HTTP_CLIENT_E_CANCELLED,    /* http_client_upstream_cancel(): the process is stopping */
};

struct http_client_request {
    const char *method;       /* NULL = "POST" */
    const char *url;          /* http:// or https:// */
    const char *content_type; /* NULL = "application/json" */
    const void *body;         /* borrowed for the call; may be NULL */
    size_t body_len;
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated; may be NULL */
};

/* Filled by a call; free with http_client_response_free(). */
struct http_client_response {
    enum http_client_result result;
    long status;         /* HTTP status of the last attempt, 0 if none */
    unsigned char *body; /* malloc'd, NUL-terminated (not counted), or NULL */
    size_t body_len;
    int attempts;        /* attempts made (0 when refused by the breaker) */
    bool new_connection; /* the last attempt opened a new TCP connection */
    char error[512];     /* empty on success; never contains the request or response body */
};

struct http_client_stats {
    enum http_client_breaker_state state;
    int consecutive_failures;
    uint64_t requests;           /* calls (one per request in a batch) */
    uint64_t attempts;           /* HTTP attempts, retries included */
    uint64_t retries;            /* attempts after the first */
    uint64_t failures;           /* failed attempts */
    uint64_t rejected;           /* calls refused by the open circuit */
    uint64_t connections_opened; /* new TCP connections */
    uint64_t breaker_opens;      /* CLOSED/HALF_OPEN -> OPEN transitions */
};

struct http_client_upstream;
struct http_client;

/* Defaults: 1 s connect, 10 s total, 300 s max age, 60 s idle, 2 retries, 50-2000 ms
 * backoff, breaker 5 failures / 5 s, 16 MiB responses, 8 in parallel. */
void http_client_config_default(struct http_client_config *cfg);

/* Validates cfg and copies it. Returns NULL with err set if a value is out of range. */
struct http_client_upstream *http_client_upstream_new(const struct http_client_config *cfg,
                                                      char *err, size_t err_len);
/* Free only after every http_client using it is freed. */
void http_client_upstream_free(struct http_client_upstream *up);
/*
 * Shutting down: every call on up, running or to come, ends within about
 * 100 ms with HTTP_CLIENT_E_CANCELLED, so a thread blocked on a slow peer
 * cannot hold the process past its shutdown grace. Thread-safe; not undone.
 */
void http_client_upstream_cancel(struct http_client_upstream *up);

/* Thread-safe snapshot of breaker state and counters (for /metrics). */
void http_client_upstream_stats(struct http_client_upstream *up, struct http_client_stats *out);

/* One per thread; borrows up. Returns NULL if libcurl cannot be set up. */
struct http_client *http_client_new(struct http_client_upstream *up);
void http_client_free(struct http_client *client);

/* One request with retries; returns resp->result. */
enum http_client_result http_client_do(struct http_client *client,
                                       const struct http_client_request *req,
                                       struct http_client_response *resp);

/*
 * n requests run concurrently (at most max_parallel in flight), each with its
 * own retries; resps[i] answers reqs[i]. Returns the number of HTTP_CLIENT_OK.
 */
size_t http_client_do_batch(struct http_client *client, const struct http_client_request *reqs,
                            struct http_client_response *resps, size_t n);

void http_client_response_free(struct http_client_response *resp);

/* "closed", "open", "half_open" */
const char *http_client_breaker_state_name(enum http_client_breaker_state state);
/* "ok", "http_5xx", "connect", "timeout", "transport", "circuit_open", "too_large", "invalid" */
const char *http_client_result_name(enum http_client_result result);

#endif
