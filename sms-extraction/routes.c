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

static void log_row(struct smsx_routes *ctx, struct http_request *hreq, const struct request *req,
                    long extracted, int status)
{
    struct reqlog_entry e = {
        .request_id = req->request_id[0] ? req->request_id : http_request_id(hreq),
        .client_id = req->client_id,
        .user_id = req->user_id,
        .sms_count = (long)req->sms_count,
        .extracted_count = extracted,
        .status = status,
        .latency_ms = http_request_elapsed(hreq) * 1000.0,
    };

    reqlog_log(ctx->reqlog, &e);
}

static void reply_validation(struct smsx_routes *ctx, struct http_request *hreq,
                             struct routes_worker *w, json_t *detail)
{
    json_t *first = json_array_get(detail, 0);
    json_t *body = json_pack("{s:o}", "detail", detail);
    char *text = json_dumps(body, JSON_COMPACT);

    metrics_counter_add_label(ctx->rejected, json_string_value(json_object_get(first, "type")), 1);
    http_request_log_int(hreq, "errors", (long long)json_array_size(detail));
    json_decref(body);
    log_row(ctx, hreq, &w->req, 0, 422);
    if (!text) {
        http_reply_error(hreq, ERR_INTERNAL, NULL);
        return;
    }
    http_reply_json_owned(hreq, 422, text, strlen(text));
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

static void handle_extract(struct http_request *hreq, void *arg)
{
    struct smsx_routes *ctx = arg;
    struct routes_worker *w = http_request_thread_data(hreq);
    const struct extract_rules *rules;
    json_t *detail = NULL;
    const char *body, *data;
    size_t len;
    long extracted;

    /* a non-JSON Content-Type never gets here: the server answers 415 (json_bodies) */
    rules = rules_view_refresh(ctx->rules, &w->view);
    if (!rules) {
        http_reply_error(hreq, ERR_NOT_READY, NULL);
        return;
    }
    body = http_request_body(hreq, &len);
    if (request_parse(&w->req, body, len, (size_t)ctx->cfg->max_sms_count, http_request_id(hreq),
                      &detail) < 0) {
        reply_validation(ctx, hreq, w, detail);
        return;
    }
    extracted = extract_all(rules, w);
    metrics_counter_add(ctx->messages, w->req.sms_count);
    metrics_counter_add(ctx->extracted, (unsigned long long)extracted);
    http_request_log_int(hreq, "sms", (long long)w->req.sms_count);
    http_request_log_int(hreq, "extracted", extracted);
    if (!json_writer_ok(&w->out)) {
        log_row(ctx, hreq, &w->req, extracted, 500);
        http_reply_error(hreq, ERR_INTERNAL, NULL);
        return;
    }
    log_row(ctx, hreq, &w->req, extracted, 200); /* before the reply frees hreq */
    data = json_writer_data(&w->out, &len);
    http_reply_json(hreq, 200, data, len);
}

size_t smsx_routes_table(struct smsx_routes *ctx, struct http_route *out)
{
    const struct http_route table[] = {
        {HTTP_METHOD_POST, "/api/extract", handle_extract, ctx},
    };

    memcpy(out, table, sizeof(table));
    return sizeof(table) / sizeof(table[0]);
}
