/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calling sms-extraction from insights-api. A user has up to a few thousand
 * messages and the extractor takes at most MAX_SMS_COUNT per request, so one
 * user becomes several batch requests; they are sent at once (the extractor
 * scales with its worker threads and replicas) and the user's latency is that
 * of the slowest batch rather than the sum. The replies are turned into
 * struct sms_fact records here so the feature code never sees JSON.
 *
 * DESIGN. Failure is all or nothing per user: a feature computed from half of
 * an inbox is wrong without looking wrong (half the salary credits), so one
 * failed batch fails the whole SMS source and the caller reports it as not
 * computed. The HTTP client does the retries and the breaker; this file only
 * decides what a reply means. Per-thread libcurl handles are kept in a small
 * free list so any worker thread reuses warm keep-alive connections.
 */
#include <ctype.h>

#include "common/alloc.h"
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/extract_form.h"
#include "common/json_writer.h"
#include "insights-api/extraction_client.h"
#include "insights-api/extraction_reply.h"

#define EXTRACT_PATH "/api/extract"
#define POOL_MAX 64      /* idle per-thread HTTP clients kept */
#define RECORD_BYTES 512 /* request body bytes reserved per message, beyond its text */

struct extraction_client {
    char *urls[EXTRACTION_CLIENT_MAX_URLS]; /* full ".../api/extract" URLs */
    size_t url_count;
    size_t batch_size;
    struct http_client_config http_cfg;
    struct http_client_upstream *up;

    pthread_mutex_t pool_lock;
    struct http_client *pool[POOL_MAX];
    size_t pool_count;

    atomic_uint_fast64_t rr; /* round-robin position over urls */
    atomic_uint_fast64_t calls, calls_failed, batches, batches_failed, messages;
    atomic_uint_fast64_t url_batches[EXTRACTION_CLIENT_MAX_URLS];

    struct metrics *metrics;
    struct metrics_counter *m_calls;
    struct metrics_counter *m_batches;
    struct metrics_counter *m_messages;
};

/* ---- configuration ------------------------------------------------------ */

/* One base URL [s, s+len): trimmed, checked, trailing '/' dropped, path appended. */
static int add_url(struct extraction_client *c, const char *s, size_t len, char *err,
                   size_t err_len)
{
    size_t plen = strlen(EXTRACT_PATH);
    char *u;

    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && (isspace((unsigned char)s[len - 1]) || s[len - 1] == '/'))
        len--;
    if (len == 0) {
        snprintf(err, err_len, "SMS_EXTRACTOR_SERVICE_URL: empty URL in the list");
        return -1;
    }
    if (!(len > 7 && strncmp(s, "http://", 7) == 0) &&
        !(len > 8 && strncmp(s, "https://", 8) == 0)) {
        snprintf(err, err_len,
                 "SMS_EXTRACTOR_SERVICE_URL: expected http://host:port or https://..., "
                 "comma-separated");
        return -1;
    }
    if (c->url_count == EXTRACTION_CLIENT_MAX_URLS) {
        snprintf(err, err_len, "SMS_EXTRACTOR_SERVICE_URL: more than %d URLs",
                 EXTRACTION_CLIENT_MAX_URLS);
        return -1;
    }
    u = alloc_bytes(len + plen + 1);
    memcpy(u, s, len);
    memcpy(u + len, EXTRACT_PATH, plen + 1);
    c->urls[c->url_count++] = u;
    return 0;
}

static int parse_urls(struct extraction_client *c, const char *list, char *err, size_t err_len)
{
    const char *p = list;

    if (!list || !*list) {
        snprintf(err, err_len, "SMS_EXTRACTOR_SERVICE_URL is not set");
        return -1;
    }
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);

        if (add_url(c, p, len, err, err_len) < 0)
            return -1;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static void register_metrics(struct extraction_client *c, struct metrics *m)
{
    c->metrics = m;
    if (!m)
        return;
    c->m_calls = metrics_counter_new(m, "extraction_calls_total",
                                     "users sent to sms-extraction, by outcome", "result");
    c->m_batches = metrics_counter_new(m, "extraction_batches_total",
                                       "batch requests to sms-extraction, by outcome", "result");
    c->m_messages = metrics_counter_new(m, "extraction_messages_total",
                                        "messages sent to sms-extraction", NULL);
}

struct extraction_client *extraction_client_new(const struct extraction_client_config *cfg,
                                                char *err, size_t err_len)
{
    struct extraction_client *c = alloc_zeroed(1, sizeof(*c));
    long batch = cfg->batch_size ? cfg->batch_size : EXTRACTION_CLIENT_DEFAULT_BATCH;

    pthread_mutex_init(&c->pool_lock, NULL);
    if (batch < 1 || batch > EXTRACTION_CLIENT_MAX_BATCH) {
        snprintf(err, err_len, "SMS_EXTRACTOR_BATCH_SIZE %ld: expected 1..%d", batch,
                 EXTRACTION_CLIENT_MAX_BATCH);
        goto fail;
    }
    c->batch_size = (size_t)batch;
    if (parse_urls(c, cfg->service_url, err, err_len) < 0)
        goto fail;
    c->http_cfg = cfg->http;
    c->up = http_client_upstream_new(&cfg->http, err, err_len);
    if (!c->up)
        goto fail;
    register_metrics(c, cfg->metrics);
    return c;
fail:
    extraction_client_free(c);
    return NULL;
}

void extraction_client_cancel(struct extraction_client *c)
{
    if (c)
        http_client_upstream_cancel(c->up);
}

void extraction_client_free(struct extraction_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->pool_count; i++)
        http_client_free(c->pool[i]);
    http_client_upstream_free(c->up);
    for (size_t i = 0; i < c->url_count; i++)
        free(c->urls[i]);
    pthread_mutex_destroy(&c->pool_lock);
    free(c);
}

/* ---- per-thread HTTP clients -------------------------------------------- */

static struct http_client *client_get(struct extraction_client *c)
{
    struct http_client *h = NULL;

    pthread_mutex_lock(&c->pool_lock);
    if (c->pool_count)
        h = c->pool[--c->pool_count];
    pthread_mutex_unlock(&c->pool_lock);
    return h ? h : http_client_new(c->up);
}

static void client_put(struct extraction_client *c, struct http_client *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&c->pool_lock);
    if (c->pool_count < POOL_MAX) {
        c->pool[c->pool_count++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->pool_lock);
    http_client_free(h);
}

/* ---- request bodies ----------------------------------------------------- */

/* X-Request-Id must be 1-64 of [A-Za-z0-9_-]; anything else is not sent as a header. */
static bool header_safe(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_')
            return false;
    return true;
}

struct batch {
    char *body; /* holds message text: wiped before free */
    size_t body_len;
    size_t first, count; /* range of msgs */
    char request_id[96];
    char header[128];
    const char *headers[3]; /* X-Request-Id, EXTRACT_FORM_HEADER: those that apply, NULL-ended */
    size_t url;
};

static void batch_body(struct batch *b, const struct raw_sms_list *msgs, const struct user_data *u)
{
    struct json_writer w;
    size_t reserve = 0;

    for (size_t i = b->first; i < b->first + b->count; i++)
        reserve += msgs->items[i].body_len + RECORD_BYTES;
    json_writer_init(&w, reserve * 2 + 65536);
    json_writer_object_begin(&w);
    json_writer_kv_string(&w, "client_id", u->client_id ? u->client_id : "");
    json_writer_kv_string(&w, "user_id", u->user_id ? u->user_id : "");
    if (b->request_id[0])
        json_writer_kv_string(&w, "request_id", b->request_id);
    json_writer_key(&w, "sms");
    json_writer_array_begin(&w);
    for (size_t i = b->first; i < b->first + b->count; i++) {
        const struct raw_sms *m = &msgs->items[i];

        json_writer_object_begin(&w);
        json_writer_kv_string(&w, "sms_id", m->sms_id);
        json_writer_kv_string(&w, "sms_sender", m->sender);
        json_writer_key(&w, "sms_body");
        json_writer_string_len(&w, m->body, m->body_len);
        json_writer_kv_int(&w, "sms_inbox_date", (long long)m->ts);
        json_writer_object_end(&w);
    }
    json_writer_array_end(&w);
    json_writer_object_end(&w);
    if (json_writer_ok(&w)) {
        b->body = json_writer_take(&w, &b->body_len);
    } else {
        size_t len;
        char *junk = json_writer_take(&w, &len);

        explicit_bzero(junk, len);
        free(junk);
        b->body = NULL;
    }
    json_writer_free(&w);
}

static void batches_free(struct batch *bs, size_t n)
{
    if (!bs)
        return;
    for (size_t i = 0; i < n; i++) {
        if (bs[i].body) {
            explicit_bzero(bs[i].body, bs[i].body_len);
            free(bs[i].body);
        }
    }
    free(bs);
}

/* ---- replies ------------------------------------------------------------ */

/*
 * A 4xx reply: name the first detail type (too_long with the extractor's
 * limit gets its own message). Never copies the reply text itself.
 */
static void describe_rejection(const struct http_client_response *r, size_t batch_size, char *why,
                               size_t why_len)
{
    json_t *root = r->body ? json_loadb((const char *)r->body, r->body_len, 0, NULL) : NULL;
    json_t *first = json_array_get(json_object_get(root, "detail"), 0);
    const char *type = json_string_value(json_object_get(first, "type"));
    json_t *max = json_object_get(json_object_get(first, "ctx"), "max_length");
    const char *code = json_string_value(json_object_get(root, "code"));

    if (type && strcmp(type, "too_long") == 0 && json_is_integer(max))
        snprintf(why, why_len,
                 "SMS_EXTRACTOR_BATCH_SIZE %zu is above the extractor's MAX_SMS_COUNT %lld",
                 batch_size, (long long)json_integer_value(max));
    else
        snprintf(why, why_len, "rejected with HTTP %ld (%.40s)", r->status,
                 type   ? type
                 : code ? code
                        : "no detail");
    json_decref(root);
}

/*
 * Check one reply and append its facts. Returns ERR_OK, or an error with why
 * filled; facts already appended are removed by the caller.
 */
static enum err take_reply(struct extraction_client *c, const struct http_client_response *r,
                           const struct raw_sms_list *msgs, const struct batch *b,
                           struct user_data *u, json_t *records, char *why, size_t why_len)
{
    if (r->result != HTTP_CLIENT_OK) {
        snprintf(why, why_len, "%s after %d attempt(s): %s", http_client_result_name(r->result),
                 r->attempts, r->error);
        /* the status our caller answers: 504 timed out, 503 it shed load, 502 it failed */
        if (r->result == HTTP_CLIENT_E_TIMEOUT)
            return ERR_DEPENDENCY_TIMEOUT;
        if (r->result == HTTP_CLIENT_E_HTTP_5XX && r->status == 503)
            return ERR_DEPENDENCY_OVERLOADED;
        return ERR_DEPENDENCY_UNAVAILABLE;
    }
    if (r->status != 200) {
        describe_rejection(r, c->batch_size, why, why_len);
        return ERR_VALIDATION;
    }
    return extraction_reply_parse((const char *)r->body, r->body_len, b->count,
                                  msgs->items + b->first, EXTRACTION_REPLY_AUTO, u, records, why,
                                  why_len);
}

/* ---- the call ----------------------------------------------------------- */

static void count_batch(struct extraction_client *c, const char *label, size_t url)
{
    atomic_fetch_add(&c->batches, 1);
    atomic_fetch_add(&c->url_batches[url], 1);
    if (c->m_batches)
        metrics_counter_add_label(c->m_batches, label, 1);
}

/*
 * Without records wanted, the internal rows form is asked for: about a third of the
 * public reply's bytes to send, receive and scan; rows-2, which leaves out the sms_id and
 * sms_inbox_date we sent (the reader takes them from msgs by position). An extractor that
 * does not know the header value answers the public form, which is read as before.
 */
static void plan_batches(struct extraction_client *c, struct batch *bs, size_t nb,
                         const struct raw_sms_list *msgs, const char *request_id,
                         const struct user_data *u, bool ask_rows)
{
    uint64_t rr = atomic_fetch_add(&c->rr, nb);

    for (size_t k = 0; k < nb; k++) {
        struct batch *b = &bs[k];
        size_t nh = 0;

        b->first = k * c->batch_size;
        b->count = msgs->count - b->first < c->batch_size ? msgs->count - b->first : c->batch_size;
        b->url = (size_t)((rr + k) % c->url_count);
        if (request_id && strlen(request_id) <= 64) {
            snprintf(b->request_id, sizeof(b->request_id), "%s-%zu", request_id, k);
            if (header_safe(b->request_id)) {
                snprintf(b->header, sizeof(b->header), "X-Request-Id: %s", b->request_id);
                b->headers[nh++] = b->header;
            }
        }
        if (ask_rows)
            b->headers[nh++] = EXTRACT_FORM_HEADER ": " EXTRACT_FORM_ROWS_NO_ECHO;
        batch_body(b, msgs, u);
    }
}

static enum err send_batches(struct extraction_client *c, struct batch *bs, size_t nb,
                             const struct raw_sms_list *msgs, struct user_data *u, json_t *records,
                             char *err, size_t err_len)
{
    struct http_client_request *reqs = alloc_zeroed(nb, sizeof(*reqs));
    struct http_client_response *resps = alloc_zeroed(nb, sizeof(*resps));
    struct http_client *h = client_get(c);
    enum err result = ERR_DEPENDENCY_UNAVAILABLE;
    char why[300] = "";
    size_t k;

    if (!h) {
        snprintf(err, err_len, "sms-extraction: cannot set up an HTTP client");
        goto out;
    }
    for (k = 0; k < nb; k++) {
        reqs[k].url = c->urls[bs[k].url];
        reqs[k].body = bs[k].body;
        reqs[k].body_len = bs[k].body_len;
        reqs[k].headers = bs[k].headers[0] ? bs[k].headers : NULL;
    }
    http_client_do_batch(h, reqs, resps, nb);
    result = ERR_OK;
    for (k = 0; k < nb; k++) {
        enum err e = ERR_OK;

        if (result == ERR_OK)
            e = take_reply(c, &resps[k], msgs, &bs[k], u, records, why, sizeof(why));
        count_batch(c,
                    resps[k].result != HTTP_CLIENT_OK ? http_client_result_name(resps[k].result)
                    : resps[k].status != 200          ? "rejected"
                    : e != ERR_OK                     ? "bad_reply"
                                                      : "ok",
                    bs[k].url);
        if (e != ERR_OK) {
            atomic_fetch_add(&c->batches_failed, 1);
            snprintf(err, err_len, "sms-extraction batch %zu of %zu (%zu messages): %s", k + 1, nb,
                     bs[k].count, why);
            result = e;
        }
    }
out:
    for (k = 0; k < nb; k++)
        http_client_response_free(&resps[k]);
    client_put(c, h);
    free(reqs);
    free(resps);
    return result;
}

enum err extraction_client_extract(struct extraction_client *c, const struct raw_sms_list *msgs,
                                   const char *request_id, struct user_data *u, json_t **records,
                                   char *err, size_t err_len)
{
    size_t nb, start = u->sms_count;
    struct batch *bs = NULL;
    json_t *recs = NULL;
    enum err result = ERR_INTERNAL;

    if (records)
        *records = NULL;
    if (err_len)
        err[0] = '\0';
    if (msgs->count == 0) {
        if (records)
            *records = json_array();
        return ERR_OK;
    }
    atomic_fetch_add(&c->calls, 1);
    atomic_fetch_add(&c->messages, msgs->count);
    if (c->m_messages)
        metrics_counter_add(c->m_messages, msgs->count);
    nb = (msgs->count + c->batch_size - 1) / c->batch_size;
    bs = alloc_zeroed(nb, sizeof(*bs));
    plan_batches(c, bs, nb, msgs, request_id, u, records == NULL);
    for (size_t k = 0; k < nb; k++) {
        if (!bs[k].body) {
            snprintf(err, err_len, "sms-extraction batch %zu: request body too large", k + 1);
            goto out;
        }
    }
    recs = records ? json_array() : NULL;
    result = send_batches(c, bs, nb, msgs, u, recs, err, err_len);
out:
    batches_free(bs, nb);
    if (result != ERR_OK) {
        user_data_truncate_sms(u, start);
        json_decref(recs);
        atomic_fetch_add(&c->calls_failed, 1);
        if (c->metrics)
            metrics_dependency_error(c->metrics, "sms-extraction");
    } else if (records) {
        *records = recs;
    }
    if (c->m_calls)
        metrics_counter_add_label(c->m_calls, result == ERR_OK ? "ok" : "failed", 1);
    return result;
}

/* ---- start-up probe ----------------------------------------------------- */

/* batch_size placeholder items: no message text, the reply is 422 either way. */
static char *probe_body(size_t n, size_t *len)
{
    struct json_writer w;

    json_writer_init(&w, n * 2 + 256);
    json_writer_object_begin(&w);
    json_writer_kv_string(&w, "client_id", "insights-api-probe");
    json_writer_kv_string(&w, "user_id", "insights-api-probe");
    json_writer_key(&w, "sms");
    json_writer_array_begin(&w);
    for (size_t i = 0; i < n; i++)
        json_writer_int(&w, 0);
    json_writer_array_end(&w);
    json_writer_object_end(&w);
    return json_writer_take(&w, len);
}

/* Read ctx.max_length of a too_long item from a 422 reply; 0 when there is none. */
static long long probe_limit(const struct http_client_response *r)
{
    json_t *root = json_loadb((const char *)r->body, r->body_len, 0, NULL);
    json_t *detail = json_object_get(root, "detail");
    long long limit = 0;
    size_t i;
    json_t *item;

    json_array_foreach(detail, i, item)
    {
        const char *type = json_string_value(json_object_get(item, "type"));
        json_t *max = json_object_get(json_object_get(item, "ctx"), "max_length");

        if (type && strcmp(type, "too_long") == 0 && json_is_integer(max))
            limit = json_integer_value(max);
    }
    json_decref(root);
    return limit;
}

enum err extraction_client_probe(struct extraction_client *c, long *limit, char *err,
                                 size_t err_len)
{
    struct http_client_config cfg = c->http_cfg;
    struct http_client_upstream *up;
    struct http_client *h = NULL;
    struct http_client_request req = {0};
    struct http_client_response resp = {0};
    enum err result = ERR_OK;
    long long max = 0;

    if (limit)
        *limit = 0;
    if (err_len)
        err[0] = '\0';
    /* a private upstream: a down extractor at start-up must not open the real breaker */
    cfg.max_retries = 0;
    cfg.breaker_threshold = 0;
    cfg.budget_ms = 0;
    up = http_client_upstream_new(&cfg, err, err_len);
    if (up)
        h = http_client_new(up);
    if (!h) {
        snprintf(err, err_len, "batch size not checked: cannot set up an HTTP client");
        result = ERR_DEPENDENCY_UNAVAILABLE;
        goto out;
    }
    req.url = c->urls[0];
    req.body = probe_body(c->batch_size, &req.body_len);
    http_client_do(h, &req, &resp);
    if (resp.result != HTTP_CLIENT_OK || resp.status != 422) {
        snprintf(err, err_len, "batch size not checked: extractor probe got %s (HTTP %ld)",
                 http_client_result_name(resp.result), resp.status);
        result = ERR_DEPENDENCY_UNAVAILABLE;
        goto out;
    }
    max = probe_limit(&resp);
    if (max > 0) {
        if (limit)
            *limit = (long)max;
        snprintf(err, err_len,
                 "SMS_EXTRACTOR_BATCH_SIZE %zu is above the extractor's MAX_SMS_COUNT %lld",
                 c->batch_size, max);
        result = ERR_VALIDATION;
    }
out:
    free((void *)req.body);
    http_client_response_free(&resp);
    http_client_free(h);
    http_client_upstream_free(up);
    return result;
}

void extraction_client_stats(struct extraction_client *c, struct extraction_client_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->calls = atomic_load(&c->calls);
    out->calls_failed = atomic_load(&c->calls_failed);
    out->batches = atomic_load(&c->batches);
    out->batches_failed = atomic_load(&c->batches_failed);
    out->messages = atomic_load(&c->messages);
    out->url_count = c->url_count;
    for (size_t i = 0; i < c->url_count; i++)
        out->url_batches[i] = atomic_load(&c->url_batches[i]);
    http_client_upstream_stats(c->up, &out->http);
}
