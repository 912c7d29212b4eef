/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Route table and handlers of the sms-extraction service. There is one
 * business endpoint, POST /api/extract; /health, /ready and /metrics are the
 * framework's. The handler is the whole hot path of the daemon: parse the
 * batch (request.c), run the engine on each message with this thread's
 * scratch, serialise into this thread's reused buffer (response.c), reply,
 * and queue one request-log row. Nothing in it allocates per message.
 */
#include "sms-extraction/routes.h"

#include "common/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_writer.h"
#include "common/log.h"
#include "sms-extraction/request.h"
#include "sms-extraction/response.h"

/* Output bound per record: every field at its cap, escaped (generous). */
#define ROUTES_RECORD_MAX_BYTES 8192

struct routes_worker {
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
static long extract_all(const struct extract_rules *rules, struct routes_worker *w)
{
    const struct request *req = &w->req;
    long extracted = 0;

    json_writer_reset(&w->out);
    response_begin(&w->out, req->request_id);
    for (size_t done = 0; done < req->sms_count; done += EXTRACT_BATCH) {
        size_t n = req->sms_count - done < EXTRACT_BATCH ? req->sms_count - done : EXTRACT_BATCH;
        const struct request_sms *sms = &req->sms[done];
        for (size_t i = 0; i < n; i++)
            w->in[i] = (struct extract_input){sms[i].sender ? sms[i].sender : "", sms[i].sender_len,
                                              sms[i].body, sms[i].body_len};
        extract_batch(rules, w->view.scratch, w->in, n, w->rec);
        for (size_t i = 0; i < n; i++) {
            extracted += w->rec[i].is_extracted;
            response_record(&w->out, &sms[i], &w->rec[i]);
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
        c->extracted = extract_all(rules, w);
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

static void handle_extract(struct http_request *hreq, void *arg)
{
    struct smsx_routes *ctx = arg;
    /* the body's request_id defaults to the caller's X-Request-Id (insights-api's id), as
     * documented; the HTTP layer's own id stays the key of our log lines */
    const char *given = http_request_client_id(hreq);
    struct smsx_call c = {.request_id = given ? given : http_request_id(hreq)};

    c.body = http_request_body(hreq, &c.len);
    smsx_routes_serve(ctx, http_request_thread_data(hreq), &c);
    if (c.error == ERR_VALIDATION)
        http_request_log_int(hreq, "errors", c.errors);
    if (c.error == ERR_OK || c.error == ERR_INTERNAL) {
        http_request_log_int(hreq, "sms", c.sms);
        http_request_log_int(hreq, "extracted", c.extracted);
    }
    if (c.error != ERR_NOT_READY)
        log_row(ctx, hreq, &c); /* before the reply frees hreq */
    if (c.error == ERR_OK)
        http_reply_json(hreq, 200, c.reply, c.reply_len);
    else
        http_reply_error(hreq, c.error, c.detail);
    smsx_call_done(&c);
}

size_t smsx_routes_table(struct smsx_routes *ctx, struct http_route *out)
{
    const struct http_route table[] = {
        {HTTP_METHOD_POST, "/api/extract", handle_extract, ctx},
    };

    memcpy(out, table, sizeof(table));
    return sizeof(table) / sizeof(table[0]);
}
