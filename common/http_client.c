/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calls from one service to another must survive a replica restarting, a slow
 * peer and a rolling deploy without piling up threads or hammering a peer that
 * is down. This file holds the three mechanisms that do that, retries with
 * backoff, the circuit breaker and bounded connection age, around libcurl's
 * multi interface. The contract is in http_client.h.
 *
 * DESIGN: every call, single or batch, is a run of the same loop over "slots"
 * (one per request). A slot is WAITING (for its first attempt or for its
 * backoff to elapse), RUNNING (an easy handle in the multi) or DONE. Each loop
 * turn starts the waiting slots that are due, as long as the breaker admits
 * them and fewer than max_parallel run, then drives the multi and collects
 * finished transfers. A failed attempt goes back to WAITING with a not-before
 * time, or to DONE when retries, budget or breaker say stop. The multi handle
 * lives as long as the http_client, so its connection cache keeps connections
 * alive from one call to the next.
 */
#include "common/http_client.h"

#include "common/alloc.h"

#include "common/crypto.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTTP_CLIENT_POLL_MAX_MS 100
/* Per recv and per send: curl's 16 KiB and 64 KiB defaults cut a 170 KB extraction batch
 * and its reply into a dozen system calls each, and as many wake-ups of the peer. */
#define HTTP_CLIENT_RECV_BYTES (256L << 10)
#define HTTP_CLIENT_SEND_BYTES (256L << 10)

struct http_client_upstream {
    struct http_client_config cfg;
    pthread_mutex_t lock; /* guards everything below */
    enum http_client_breaker_state state;
    bool probe_in_flight;
    uint64_t opened_at_ms;
    struct http_client_stats stats;
    atomic_bool cancelled; /* shutting down: every call ends now (not under lock) */
};

struct http_client {
    struct http_client_upstream *up;
    CURLM *multi;
};

enum http_client_slot_state {
    HTTP_CLIENT_SLOT_WAITING,
    HTTP_CLIENT_SLOT_RUNNING,
    HTTP_CLIENT_SLOT_DONE,
};

struct http_client_slot {
    const struct http_client_request *req;
    struct http_client_response *resp;
    enum http_client_slot_state state;
    CURL *easy;
    struct curl_slist *headers;
    bool probe;             /* the running attempt is the half-open probe */
    bool too_large;         /* the running attempt hit the body cap */
    uint64_t not_before_ms; /* WAITING: earliest start of the next attempt */
    uint64_t deadline_ms;   /* 0 = none */
    size_t body_cap;        /* allocated bytes of resp->body */
    size_t max_body;
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t http_client_curl_once = PTHREAD_ONCE_INIT;

static void http_client_curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t http_client_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void http_client_config_default(struct http_client_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->connect_timeout_ms = 1000;
    cfg->timeout_ms = 10000;
    cfg->budget_ms = 0;
    cfg->max_conn_age_s = 300;
    cfg->max_idle_s = 60;
    cfg->max_retries = 2;
    cfg->backoff_base_ms = 50;
    cfg->backoff_max_ms = 2000;
    cfg->breaker_threshold = 5;
    cfg->breaker_open_ms = 5000;
    cfg->max_response_bytes = (size_t)16 * 1024 * 1024;
    cfg->max_parallel = 8;
}

static int http_client_check(bool ok, const char *what, char *err, size_t err_len)
{
    if (!ok)
        snprintf(err, err_len, "http client: %s out of range", what);
    return ok ? 0 : -1;
}

struct http_client_upstream *http_client_upstream_new(const struct http_client_config *cfg,
                                                      char *err, size_t err_len)
{
    struct http_client_upstream *up;

    if (http_client_check(cfg->connect_timeout_ms > 0, "connect_timeout_ms", err, err_len) ||
        http_client_check(cfg->timeout_ms > 0, "timeout_ms", err, err_len) ||
        http_client_check(cfg->budget_ms >= 0, "budget_ms", err, err_len) ||
        http_client_check(cfg->max_conn_age_s >= 0, "max_conn_age_s", err, err_len) ||
        http_client_check(cfg->max_idle_s > 0, "max_idle_s", err, err_len) ||
        http_client_check(cfg->max_retries >= 0 && cfg->max_retries <= 10, "max_retries", err,
                          err_len) ||
        http_client_check(cfg->backoff_base_ms >= 0 && cfg->backoff_max_ms >= cfg->backoff_base_ms,
                          "backoff_base_ms/backoff_max_ms", err, err_len) ||
        http_client_check(cfg->breaker_threshold >= 0, "breaker_threshold", err, err_len) ||
        http_client_check(cfg->breaker_open_ms > 0, "breaker_open_ms", err, err_len) ||
        http_client_check(cfg->max_response_bytes > 0, "max_response_bytes", err, err_len) ||
        http_client_check(cfg->max_parallel > 0 && cfg->max_parallel <= 256, "max_parallel", err,
                          err_len))
        return NULL;
    pthread_once(&http_client_curl_once, http_client_curl_init);
    up = alloc_zeroed(1, sizeof(*up));
    up->cfg = *cfg;
    pthread_mutex_init(&up->lock, NULL);
    up->state = HTTP_CLIENT_BREAKER_CLOSED;
    return up;
}

void http_client_upstream_free(struct http_client_upstream *up)
{
    if (!up)
        return;
    pthread_mutex_destroy(&up->lock);
    free(up);
}

void http_client_upstream_stats(struct http_client_upstream *up, struct http_client_stats *out)
{
    pthread_mutex_lock(&up->lock);
    *out = up->stats;
    out->state = up->state;
    /* an OPEN circuit whose interval passed reads as HALF_OPEN: the next call probes */
    if (up->state == HTTP_CLIENT_BREAKER_OPEN &&
        http_client_now_ms() - up->opened_at_ms >= (uint64_t)up->cfg.breaker_open_ms)
        out->state = HTTP_CLIENT_BREAKER_HALF_OPEN;
    pthread_mutex_unlock(&up->lock);
}

/*
 * May an attempt start now? Sets *probe when it is the half-open probe. Counts
 * the attempt (or the rejection, when first is set) in the stats.
 */
static bool http_client_admit(struct http_client_upstream *up, bool first, bool *probe)
{
    bool ok = true;
    uint64_t now = http_client_now_ms();

    *probe = false;
    pthread_mutex_lock(&up->lock);
    if (up->state == HTTP_CLIENT_BREAKER_OPEN &&
        now - up->opened_at_ms >= (uint64_t)up->cfg.breaker_open_ms) {
        up->state = HTTP_CLIENT_BREAKER_HALF_OPEN;
        up->probe_in_flight = false;
    }
    if (up->state == HTTP_CLIENT_BREAKER_OPEN)
        ok = false;
    else if (up->state == HTTP_CLIENT_BREAKER_HALF_OPEN) {
        ok = !up->probe_in_flight;
        up->probe_in_flight = true;
        *probe = ok;
    }
    if (ok) {
        up->stats.attempts++;
        up->stats.retries += first ? 0 : 1;
    } else if (first) {
        up->stats.rejected++;
    }
    pthread_mutex_unlock(&up->lock);
    return ok;
}

static void http_client_open_circuit(struct http_client_upstream *up)
{
    up->state = HTTP_CLIENT_BREAKER_OPEN;
    up->opened_at_ms = http_client_now_ms();
    up->probe_in_flight = false;
    up->stats.breaker_opens++;
}

/* Feeds one attempt's outcome to the breaker. */
static void http_client_record(struct http_client_upstream *up, bool failed, bool probe,
                               long new_conns)
{
    pthread_mutex_lock(&up->lock);
    up->stats.connections_opened += (uint64_t)(new_conns > 0 ? new_conns : 0);
    if (!failed) {
        if (probe)
            up->state = HTTP_CLIENT_BREAKER_CLOSED;
        if (up->state == HTTP_CLIENT_BREAKER_CLOSED)
            up->stats.consecutive_failures = 0;
    } else {
        up->stats.failures++;
        up->stats.consecutive_failures++;
        if (probe || (up->state == HTTP_CLIENT_BREAKER_CLOSED && up->cfg.breaker_threshold > 0 &&
                      up->stats.consecutive_failures >= up->cfg.breaker_threshold))
            http_client_open_circuit(up);
    }
    if (probe)
        up->probe_in_flight = false;
    pthread_mutex_unlock(&up->lock);
}

static bool http_client_breaker_open(struct http_client_upstream *up)
{
    bool open;

    pthread_mutex_lock(&up->lock);
    open = up->state != HTTP_CLIENT_BREAKER_CLOSED;
    pthread_mutex_unlock(&up->lock);
    return open;
}

struct http_client *http_client_new(struct http_client_upstream *up)
{
    struct http_client *c = alloc_zeroed(1, sizeof(*c));

    c->up = up;
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c);
        return NULL;
    }
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)up->cfg.max_parallel * 2);
    return c;
}

void http_client_free(struct http_client *client)
{
    if (!client)
        return;
    curl_multi_cleanup(client->multi);
    free(client);
}

void http_client_response_free(struct http_client_response *resp)
{
    if (!resp)
        return;
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}

const char *http_client_breaker_state_name(enum http_client_breaker_state state)
{
    switch (state) {
    case HTTP_CLIENT_BREAKER_CLOSED:
        return "closed";
    case HTTP_CLIENT_BREAKER_OPEN:
        return "open";
    case HTTP_CLIENT_BREAKER_HALF_OPEN:
        return "half_open";
    }
    return "unknown";
}

const char *http_client_result_name(enum http_client_result result)
{
    static const char *const names[] = {
        [HTTP_CLIENT_OK] = "ok",
        [HTTP_CLIENT_E_HTTP_5XX] = "http_5xx",
        [HTTP_CLIENT_E_CONNECT] = "connect",
        [HTTP_CLIENT_E_TIMEOUT] = "timeout",
        [HTTP_CLIENT_E_TRANSPORT] = "transport",
        [HTTP_CLIENT_E_CIRCUIT_OPEN] = "circuit_open",
        [HTTP_CLIENT_E_TOO_LARGE] = "too_large",
        [HTTP_CLIENT_E_INVALID] = "invalid",
        [HTTP_CLIENT_E_CANCELLED] = "cancelled",
    };

    if ((size_t)result < sizeof(names) / sizeof(names[0]) && names[result])
        return names[result];
    return "unknown";
}

static size_t http_client_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_client_slot *s = userdata;
    struct http_client_response *r = s->resp;
    size_t n = size * nmemb;

    if (n > s->max_body - r->body_len) {
        s->too_large = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (r->body_len + n + 1 > s->body_cap) {
        size_t cap = s->body_cap ? s->body_cap : 4096;
        unsigned char *p;

        while (cap < r->body_len + n + 1)
            cap *= 2;
        p = alloc_resize(r->body, cap);
        r->body = p;
        s->body_cap = cap;
    }
    memcpy(r->body + r->body_len, ptr, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return n;
}

static bool http_client_header_ok(const char *h)
{
    return strchr(h, ':') && !strpbrk(h, "\r\n");
}

/* Prepares a slot; a request that cannot be sent is DONE with HTTP_CLIENT_E_INVALID. */
static void http_client_slot_init(struct http_client *c, struct http_client_slot *s,
                                  const struct http_client_request *req,
                                  struct http_client_response *resp, uint64_t now)
{
    char line[300];
    const char *const *h;
    struct curl_slist *t;

    memset(s, 0, sizeof(*s));
    memset(resp, 0, sizeof(*resp));
    s->req = req;
    s->resp = resp;
    s->max_body = c->up->cfg.max_response_bytes;
    s->deadline_ms = c->up->cfg.budget_ms > 0 ? now + (uint64_t)c->up->cfg.budget_ms : 0;
    s->state = HTTP_CLIENT_SLOT_WAITING;
    snprintf(line, sizeof(line), "Content-Type: %s",
             req->content_type ? req->content_type : "application/json");
    s->headers = curl_slist_append(NULL, line);
    t = s->headers ? curl_slist_append(s->headers, "Expect:") : NULL;
    for (h = req->headers; t && h && *h; h++)
        t = http_client_header_ok(*h) ? curl_slist_append(s->headers, *h) : NULL;
    if (!t || !req->url || strpbrk(line, "\r\n")) {
        resp->result = HTTP_CLIENT_E_INVALID;
        snprintf(resp->error, sizeof(resp->error), "invalid request (url or header)");
        s->state = HTTP_CLIENT_SLOT_DONE;
    }
}

static CURLcode http_client_setup_method(CURL *e, const struct http_client_request *req)
{
    const char *m = req->method ? req->method : "POST";
    CURLcode rc = CURLE_OK;

    if (strcmp(m, "GET") == 0)
        return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
    if (strcmp(m, "POST") != 0)
        rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    return rc;
}

static CURL *http_client_easy(struct http_client *c, struct http_client_slot *s, uint64_t now)
{
    const struct http_client_config *cfg = &c->up->cfg;
    long timeout = cfg->timeout_ms;
    CURLcode rc = CURLE_OK;
    CURL *e = curl_easy_init();

    if (!e)
        return NULL;
    if (s->deadline_ms && (long)(s->deadline_ms - now) < timeout)
        timeout = (long)(s->deadline_ms - now) > 0 ? (long)(s->deadline_ms - now) : 1;
    rc |= curl_easy_setopt(e, CURLOPT_URL, s->req->url);
    rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
    rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    rc |= curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, cfg->max_idle_s);
    if (cfg->max_conn_age_s > 0)
        rc |= curl_easy_setopt(e, CURLOPT_MAXLIFETIME_CONN, cfg->max_conn_age_s);
    rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
    rc |= curl_easy_setopt(e, CURLOPT_BUFFERSIZE, HTTP_CLIENT_RECV_BYTES);
    rc |= curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, HTTP_CLIENT_SEND_BYTES);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_client_write);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    rc |= http_client_setup_method(e, s->req);
    if (rc != CURLE_OK) {
        curl_easy_cleanup(e);
        return NULL;
    }
    return e;
}

/* Starts the slot's next attempt if the breaker admits it; otherwise finishes it. */
static void http_client_start(struct http_client *c, struct http_client_slot *s, uint64_t now)
{
    struct http_client_response *r = s->resp;

    if (s->deadline_ms && now >= s->deadline_ms && r->attempts > 0) {
        s->state = HTTP_CLIENT_SLOT_DONE; /* keep the last attempt's result */
        return;
    }
    if (!http_client_admit(c->up, r->attempts == 0, &s->probe)) {
        if (r->attempts == 0) {
            r->result = HTTP_CLIENT_E_CIRCUIT_OPEN;
            snprintf(r->error, sizeof(r->error), "%.200s: circuit open, not tried", s->req->url);
        }
        s->state = HTTP_CLIENT_SLOT_DONE;
        return;
    }
    r->attempts++;
    r->body_len = 0;
    r->status = 0;
    s->too_large = false;
    s->errbuf[0] = '\0';
    s->easy = http_client_easy(c, s, now);
    if (!s->easy || curl_multi_add_handle(c->multi, s->easy) != CURLM_OK) {
        curl_easy_cleanup(s->easy);
        s->easy = NULL;
        http_client_record(c->up, false, s->probe, 0);
        r->result = HTTP_CLIENT_E_INVALID;
        snprintf(r->error, sizeof(r->error), "%.200s: cannot set up the request", s->req->url);
        s->state = HTTP_CLIENT_SLOT_DONE;
        return;
    }
    s->state = HTTP_CLIENT_SLOT_RUNNING;
}

static enum http_client_result http_client_classify(CURLcode rc, long status, bool too_large)
{
    if (too_large)
        return HTTP_CLIENT_E_TOO_LARGE;
    switch (rc) {
    case CURLE_OK:
        return status >= 500 ? HTTP_CLIENT_E_HTTP_5XX : HTTP_CLIENT_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return HTTP_CLIENT_E_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return HTTP_CLIENT_E_TIMEOUT;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_NOT_BUILT_IN:
        return HTTP_CLIENT_E_INVALID;
    default:
        return HTTP_CLIENT_E_TRANSPORT;
    }
}

/* Delay before retry number k (1-based): uniform in [d/2, d], d = min(max, base * 2^(k-1)). */
static uint64_t http_client_backoff_ms(const struct http_client_config *cfg, int k)
{
    uint64_t d = (uint64_t)cfg->backoff_base_ms;
    uint32_t r = 0;
    int i;

    for (i = 1; i < k && d < (uint64_t)cfg->backoff_max_ms; i++)
        d *= 2;
    if (d > (uint64_t)cfg->backoff_max_ms)
        d = (uint64_t)cfg->backoff_max_ms;
    if (d < 2)
        return d;
    if (crypto_random(&r, sizeof(r)) != 0)
        r = (uint32_t)rand();
    return d / 2 + r % (d - d / 2 + 1);
}

/* Handles one finished transfer: records it and decides between retry and done. */
static void http_client_finish(struct http_client *c, struct http_client_slot *s, CURLcode rc)
{
    const struct http_client_config *cfg = &c->up->cfg;
    struct http_client_response *r = s->resp;
    long conns = 0;
    curl_off_t retry_after_s = 0;
    bool failed, retry;
    uint64_t now, delay;

    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &conns);
    curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &retry_after_s);
    curl_multi_remove_handle(c->multi, s->easy);
    curl_easy_cleanup(s->easy);
    s->easy = NULL;
    r->new_connection = conns > 0;
    r->result = http_client_classify(rc, r->status, s->too_large);
    failed = r->result != HTTP_CLIENT_OK && r->result != HTTP_CLIENT_E_TOO_LARGE &&
             r->result != HTTP_CLIENT_E_INVALID;
    http_client_record(c->up, failed, s->probe, conns);
    r->error[0] = '\0';
    if (r->result == HTTP_CLIENT_E_HTTP_5XX)
        snprintf(r->error, sizeof(r->error), "%.200s: HTTP %ld", s->req->url, r->status);
    else if (r->result == HTTP_CLIENT_E_TOO_LARGE)
        snprintf(r->error, sizeof(r->error), "%.200s: response larger than %zu bytes", s->req->url,
                 s->max_body);
    else if (r->result != HTTP_CLIENT_OK)
        snprintf(r->error, sizeof(r->error), "%.200s: %.280s", s->req->url,
                 s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
    now = http_client_now_ms();
    delay = failed ? http_client_backoff_ms(cfg, r->attempts) : 0;
    if (failed && retry_after_s > 0) { /* the peer asked for a pause (503 overloaded) */
        uint64_t asked = (uint64_t)retry_after_s * 1000u;

        if (asked > (uint64_t)cfg->backoff_max_ms)
            asked = (uint64_t)cfg->backoff_max_ms;
        delay = asked > delay ? asked : delay;
    }
    retry = failed && r->attempts <= cfg->max_retries && !http_client_breaker_open(c->up) &&
            (!s->deadline_ms || now + delay < s->deadline_ms);
    s->state = retry ? HTTP_CLIENT_SLOT_WAITING : HTTP_CLIENT_SLOT_DONE;
    s->not_before_ms = now + delay;
}

static void http_client_collect(struct http_client *c)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        struct http_client_slot *s = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        http_client_finish(c, s, msg->data.result);
    }
}

/* Starts due slots; returns the ms until the next waiting slot is due (capped), -1 if none. */
static long http_client_start_due(struct http_client *c, struct http_client_slot *slots, size_t n,
                                  int *running)
{
    uint64_t now = http_client_now_ms();
    long wait = -1;
    size_t i;

    for (i = 0; i < n; i++) {
        struct http_client_slot *s = &slots[i];

        if (s->state != HTTP_CLIENT_SLOT_WAITING)
            continue;
        if (s->not_before_ms <= now && *running < c->up->cfg.max_parallel) {
            http_client_start(c, s, now);
            *running += s->state == HTTP_CLIENT_SLOT_RUNNING;
            continue;
        }
        long due = s->not_before_ms > now ? (long)(s->not_before_ms - now) : 0;
        if (wait < 0 || due < wait)
            wait = due;
    }
    return wait < 0 || wait > HTTP_CLIENT_POLL_MAX_MS ? (wait < 0 ? -1 : HTTP_CLIENT_POLL_MAX_MS)
                                                      : wait;
}

static void http_client_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

void http_client_upstream_cancel(struct http_client_upstream *up)
{
    atomic_store(&up->cancelled, true);
}

/* Shutting down: end every slot of the call now, the running ones included. */
static void http_client_cancel_all(struct http_client *c, struct http_client_slot *slots, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct http_client_slot *s = &slots[i];

        if (s->state == HTTP_CLIENT_SLOT_DONE)
            continue;
        if (s->easy) {
            curl_multi_remove_handle(c->multi, s->easy);
            curl_easy_cleanup(s->easy);
            s->easy = NULL;
        }
        s->resp->result = HTTP_CLIENT_E_CANCELLED;
        snprintf(s->resp->error, sizeof(s->resp->error), "%.200s: cancelled (shutting down)",
                 s->req->url);
        s->state = HTTP_CLIENT_SLOT_DONE;
    }
}

static void http_client_run(struct http_client *c, struct http_client_slot *slots, size_t n)
{
    int running = 0;

    for (;;) {
        long wait;
        int still = 0;

        if (atomic_load(&c->up->cancelled)) { /* checked at least every POLL_MAX_MS */
            http_client_cancel_all(c, slots, n);
            return;
        }
        wait = http_client_start_due(c, slots, n, &running);
        if (running == 0 && wait < 0)
            return;
        if (running == 0) {
            http_client_sleep_ms(wait > HTTP_CLIENT_POLL_MAX_MS ? HTTP_CLIENT_POLL_MAX_MS : wait);
            continue;
        }
        curl_multi_perform(c->multi, &still);
        http_client_collect(c);
        running = still;
        if (still > 0)
            curl_multi_poll(c->multi, NULL, 0, wait < 0 ? HTTP_CLIENT_POLL_MAX_MS : (int)wait,
                            NULL);
    }
}

size_t http_client_do_batch(struct http_client *client, const struct http_client_request *reqs,
                            struct http_client_response *resps, size_t n)
{
    struct http_client_slot *slots = alloc_zeroed(n, sizeof(*slots));
    uint64_t now = http_client_now_ms();
    size_t i, ok = 0;

    for (i = 0; i < n; i++)
        http_client_slot_init(client, &slots[i], &reqs[i], &resps[i], now);
    pthread_mutex_lock(&client->up->lock);
    client->up->stats.requests += n;
    pthread_mutex_unlock(&client->up->lock);
    http_client_run(client, slots, n);
    for (i = 0; i < n; i++) {
        curl_slist_free_all(slots[i].headers);
        ok += resps[i].result == HTTP_CLIENT_OK;
    }
    free(slots);
    return ok;
}

enum http_client_result http_client_do(struct http_client *client,
                                       const struct http_client_request *req,
                                       struct http_client_response *resp)
{
    http_client_do_batch(client, req, resp, 1);
    return resp->result;
}
