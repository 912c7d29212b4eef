/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Route table and handlers of the sms-extraction service. There is one
 * business endpoint, POST /api/extract; /health, /ready and /metrics are the
 * framework's. The handler only queues the request on the extraction pool
 * (EXTRACT_THREADS; 503 when the queue is full); a pool thread, with a
 * scratch of its own from the spare list, is the whole hot path
 * (smsx_routes_serve): parse the batch (request.c), run the engine on each
 * message, serialise into the scratch's reused buffer (response.c: the
 * public form, or the internal rows form when the caller sent
 * EXTRACT_FORM_HEADER); then the reply is copied out, one request-log row
 * queued, and the event loop sends the reply. Nothing in it allocates per
 * message.
 */
#include "sms-extraction/routes.h"

#include "common/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cpu.h"
#include "common/extract_form.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "sms-extraction/request.h"
#include "sms-extraction/response.h"

/* Output bound per record: every field at its cap, escaped (generous). */
#define ROUTES_RECORD_MAX_BYTES 8192

struct routes_worker {
    struct routes_worker *next; /* in the spare list */
    struct request req;
    struct json_writer out;
    struct rules_view view;
    struct extract_input in[EXTRACT_BATCH];
    struct extract_record rec[EXTRACT_BATCH];
};

void smsx_routes_init(struct smsx_routes *ctx)
{
    ctx->messages = metrics_counter_new(ctx->metrics, "messages_total",
                                        "messages classified and extracted", NULL);
    ctx->extracted = metrics_counter_new(ctx->metrics, "messages_extracted_total",
                                         "messages with is_extracted true", NULL);
    ctx->rejected = metrics_counter_new(ctx->metrics, "requests_rejected_total",
                                        "extract requests refused, by reason", "reason");
    ctx->queue = metrics_gauge_new(ctx->metrics, "extract_queue_requests",
                                   "requests waiting for an extraction thread");
    pthread_mutex_init(&ctx->spare_lock, NULL);
}

void *smsx_routes_thread_init(int worker, void *arg)
{
    struct smsx_routes *ctx = arg;
    struct routes_worker *w = alloc_zeroed(1, sizeof(*w));

    (void)worker;
    request_init(&w->req);
    json_writer_init(&w->out, (size_t)ctx->cfg->max_sms_count * ROUTES_RECORD_MAX_BYTES + 65536);
    return w;
}

void smsx_routes_thread_done(int worker, void *thread_data, void *arg)
{
    struct routes_worker *w = thread_data;

    (void)worker;
    (void)arg;
    if (!w)
        return;
    request_free(&w->req);
    json_writer_free(&w->out);
    rules_view_release(&w->view);
    free(w);
}

bool smsx_routes_ready(void *arg)
{
    struct smsx_routes *ctx = arg;

    return rules_ready(ctx->rules);
}

/*
 * Extract every message, EXTRACT_BATCH at a time, and write the reply into
 * w->out; returns the is_extracted count.
 */
static long extract_all(const struct extract_rules *rules, struct routes_worker *w,
                        enum response_form form)
{
    const struct request *req = &w->req;
    long extracted = 0;

    json_writer_reset(&w->out);
    response_begin(&w->out, form, req->request_id);
    for (size_t done = 0; done < req->sms_count; done += EXTRACT_BATCH) {
        size_t n = req->sms_count - done < EXTRACT_BATCH ? req->sms_count - done : EXTRACT_BATCH;
        const struct request_sms *sms = &req->sms[done];
        for (size_t i = 0; i < n; i++)
            w->in[i] = (struct extract_input){sms[i].sender ? sms[i].sender : "", sms[i].sender_len,
                                              sms[i].body, sms[i].body_len};
        extract_batch(rules, w->view.scratch, w->in, n, w->rec);
        for (size_t i = 0; i < n; i++) {
            extracted += w->rec[i].is_extracted;
            response_record(&w->out, form, &sms[i], &w->rec[i]);
        }
    }
    response_end(&w->out);
    return extracted;
}

void smsx_routes_serve(struct smsx_routes *ctx, void *thread_data, struct smsx_call *c)
{
    struct routes_worker *w = thread_data;
    const struct extract_rules *rules;
    json_t *detail = NULL;

    c->status = 200;
    c->error = ERR_OK;
    c->sms = c->extracted = c->errors = 0;
    c->detail = NULL;
    c->req = &w->req;
    /* a non-JSON Content-Type never gets here: the server answers 415 (json_bodies) */
    if (!(rules = rules_view_refresh(ctx->rules, &w->view))) {
        c->error = ERR_NOT_READY;
    } else if (request_parse(&w->req, c->body, c->len, (size_t)ctx->cfg->max_sms_count,
                             c->request_id, &detail) < 0) {
        metrics_counter_add_label(
            ctx->rejected, json_string_value(json_object_get(json_array_get(detail, 0), "type")),
            1);
        c->errors = (long)json_array_size(detail);
        c->detail = json_dumps(detail, JSON_COMPACT);
        json_decref(detail);
        c->error = ERR_VALIDATION;
    } else {
        c->extracted = extract_all(rules, w, c->form);
        c->sms = (long)w->req.sms_count;
        metrics_counter_add(ctx->messages, w->req.sms_count);
        metrics_counter_add(ctx->extracted, (unsigned long long)c->extracted);
        if (!json_writer_ok(&w->out))
            c->error = ERR_INTERNAL;
        else
            c->reply = json_writer_data(&w->out, &c->reply_len);
    }
    if (c->error != ERR_OK)
        c->status = err_http_status(c->error);
}

void smsx_call_done(struct smsx_call *c)
{
    free(c->detail);
    c->detail = NULL;
}

static void log_row(struct smsx_routes *ctx, struct http_request *hreq, const struct smsx_call *c)
{
    const struct request *req = c->req;
    struct reqlog_entry e = {
        .request_id = req->request_id[0] ? req->request_id : http_request_id(hreq),
        .client_id = req->client_id,
        .user_id = req->user_id,
        .sms_count = (long)req->sms_count,
        .extracted_count = c->extracted,
        .status = c->status,
        .latency_ms = http_request_elapsed(hreq) * 1000.0,
    };

    reqlog_log(ctx->reqlog, &e);
}

/* One /api/extract request on its way through the extraction pool. */
struct extract_job {
    struct work_item item;     /* first: the pool's links */
    struct http_request *hreq; /* replied to on its event thread only */
    struct smsx_call call;     /* its body is the request's own, valid until it is answered */
    char *reply;               /* call.reply copied out of the scratch (ERR_OK) */
};

static struct routes_worker *worker_take(struct smsx_routes *ctx)
{
    struct routes_worker *w;

    pthread_mutex_lock(&ctx->spare_lock);
    w = ctx->spare;
    if (w)
        ctx->spare = w->next;
    pthread_mutex_unlock(&ctx->spare_lock);
    return w ? w : smsx_routes_thread_init(0, ctx);
}

static void worker_put(struct smsx_routes *ctx, struct routes_worker *w)
{
    pthread_mutex_lock(&ctx->spare_lock);
    w->next = ctx->spare;
    ctx->spare = w;
    pthread_mutex_unlock(&ctx->spare_lock);
}

static void pool_run(struct work_item *item, void *arg)
{
    struct smsx_routes *ctx = arg;
    struct extract_job *j = (struct extract_job *)item;
    struct smsx_call *c = &j->call;
    struct routes_worker *w;

    /* admitted by queue delay: past it the client is better off retrying elsewhere */
    if (work_item_waited(item) * 1000.0 > (double)ctx->cfg->extract_queue_timeout_ms) {
        metrics_counter_add_label(ctx->rejected, "queue_timeout", 1);
        c->error = ERR_OVERLOADED;
        return;
    }
    w = worker_take(ctx);
    smsx_routes_serve(ctx, w, c);
    if (c->error != ERR_NOT_READY)
        log_row(ctx, j->hreq, c); /* hreq's id and start time do not change: safe here */
    if (c->error == ERR_OK) {     /* the reply leaves the scratch: the next request reuses it */
        j->reply = alloc_strndup(c->reply, c->reply_len);
        c->reply = j->reply;
    }
    c->req = NULL;
    worker_put(ctx, w);
}

/* On the request's event thread: its reply. */
static void pool_deliver(struct work_item *item, void *arg)
{
    struct extract_job *j = (struct extract_job *)item;
    struct smsx_call *c = &j->call;

    (void)arg;
    if (c->error == ERR_VALIDATION)
        http_request_log_int(j->hreq, "errors", c->errors);
    if (c->error == ERR_OK || c->error == ERR_INTERNAL) {
        http_request_log_int(j->hreq, "sms", c->sms);
        http_request_log_int(j->hreq, "extracted", c->extracted);
    }
    if (c->error == ERR_OK) {
        http_reply_json_owned(j->hreq, 200, j->reply, c->reply_len);
        j->reply = NULL;
    } else {
        http_reply_error(j->hreq, c->error, c->detail);
    }
    smsx_call_done(c);
    free(j->reply);
    free(j);
}

/* At shutdown, for jobs never delivered (the server answered or dropped their requests). */
static void pool_discard(struct work_item *item, void *arg)
{
    struct extract_job *j = (struct extract_job *)item;

    (void)arg;
    smsx_call_done(&j->call);
    free(j->reply);
    free(j);
}

int smsx_routes_start(struct smsx_routes *ctx, char *err, size_t err_len)
{
    int threads = ctx->cfg->extract_threads > 0 ? (int)ctx->cfg->extract_threads : cpu_available();
    struct work_pool_config pc = {
        .threads = threads > 0 ? threads : 1,
        .queue_max = (size_t)ctx->cfg->extract_queue_max,
        .run = pool_run,
        .deliver = pool_deliver,
        .discard = pool_discard,
        .arg = ctx,
        .queue_gauge = ctx->queue,
    };

    ctx->pool = work_pool_new(&pc, err, err_len);
    return ctx->pool ? 0 : -1;
}

void smsx_routes_stop(struct smsx_routes *ctx)
{
    /* past SHUTDOWN_GRACE_MS (the server answered what was left 503 draining): what still
     * waits is dropped, not extracted */
    work_pool_drop_queued(ctx->pool);
    work_pool_stop(ctx->pool);
    work_pool_free(ctx->pool);
    ctx->pool = NULL;
    while (ctx->spare) {
        struct routes_worker *w = ctx->spare;

        ctx->spare = w->next;
        smsx_routes_thread_done(0, w, ctx);
    }
    if (ctx->metrics) /* smsx_routes_init ran */
        pthread_mutex_destroy(&ctx->spare_lock);
}

/*
 * The event loop only hands the request to the extraction pool: the work
 * runs off the loop, so the loop keeps reading, answering /health and
 * refusing what does not fit (issue 11, item 5). A full queue is 503 with
 * Retry-After at once; a request that waited past EXTRACT_QUEUE_TIMEOUT_MS
 * gets the same from the pool thread.
 */
static void handle_extract(struct http_request *hreq, void *arg)
{
    struct smsx_routes *ctx = arg;
    struct extract_job *j = alloc_zeroed(1, sizeof(*j));
    /* the body's request_id defaults to the caller's X-Request-Id (insights-api's id), as
     * documented; the HTTP layer's own id stays the key of our log lines */
    const char *given = http_request_client_id(hreq);

    j->hreq = hreq;
    j->call.request_id = given ? given : http_request_id(hreq);
    j->call.body = http_request_body(hreq, &j->call.len);
    j->call.form = response_form_asked(http_request_header(hreq, EXTRACT_FORM_HEADER));
    if (work_pool_submit(ctx->pool, &j->item, http_request_base(hreq)) < 0) {
        free(j);
        metrics_counter_add_label(ctx->rejected, "queue_full", 1);
        http_reply_error(hreq, ERR_OVERLOADED, NULL);
    }
}

size_t smsx_routes_table(struct smsx_routes *ctx, struct http_route *out)
{
    const struct http_route table[] = {
        {HTTP_METHOD_POST, "/api/extract", handle_extract, ctx},
    };

    memcpy(out, table, sizeof(table));
    return sizeof(table) / sizeof(table[0]);
}
