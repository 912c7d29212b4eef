/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Routes and the event-thread front of insights-api (see routes.h).
 * Handlers here never block: they decide from memory (CIDR lists, the rate
 * limiter's table) and either reply at once or hand the call to the work
 * pool, whose reply comes back to this same event loop. Each request goes
 * to the pool twice: from its head for the credentials (the body is not
 * read yet), then with its body once they passed.
 */
#include "insights-api/routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "insights-api/admission.h"

void ins_routes_init(struct ins_routes_ctx *ctx)
{
    ctx->refused = metrics_counter_new(ctx->metrics, "requests_refused_total",
                                       "requests refused before any work, by reason", "reason");
    ctx->queue = metrics_gauge_new(ctx->metrics, "pipeline_queue_tasks",
                                   "requests waiting for a pipeline thread");
}

bool ins_routes_ready(void *arg)
{
    struct ins_routes_ctx *ctx = arg;

    return !ctx->ready || ctx->ready(ctx->ready_arg);
}

/* Reply to req with e from the error table; retry_after_s > 0 overrides the framework's. */
static void reply_refusal(struct ins_routes_ctx *ctx, struct http_request *req, enum err e,
                          int retry_after_s)
{
    struct err_reply r;
    char secs[16];

    metrics_counter_add_label(ctx->refused, e == ERR_NOT_FOUND ? "unknown_path" : err_code(e), 1);
    if (retry_after_s <= 0) {
        http_reply_error(req, e, NULL);
        return;
    }
    err_reply_render(e, NULL, http_request_id(req), &r);
    snprintf(secs, sizeof(secs), "%d", retry_after_s);
    http_request_set_header(req, "Retry-After", secs);
    http_reply_json_owned(req, r.status, r.body, r.len);
}

void ins_routes_not_found(struct http_request *req, void *arg)
{
    struct ins_routes_ctx *ctx = arg;

    metrics_counter_add_label(ctx->refused, "unknown_path", 1);
    http_reply_error(req, ERR_FORBIDDEN, NULL);
}

static double wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A call for req (its body when read), handed to the pool; false (and 503 sent) when full. */
static bool submit(struct http_request *req, const struct api_endpoint *e,
                   struct ins_routes_ctx *ctx, bool head_only)
{
    const char *body = NULL;
    size_t len = 0;
    struct api_call *call;

    if (!head_only)
        body = http_request_body(req, &len);
    call = api_call_for(e, http_request_id(req), body, len, http_request_header(req, "x-client-id"),
                        http_request_header(req, "x-auth-token"));
    call->req = req;
    call->head_only = head_only;
    call->credentials_checked = !head_only; /* the body is only read once they passed */
    if (http_request_client_id(req))
        snprintf(call->client_request_id, sizeof(call->client_request_id), "%s",
                 http_request_client_id(req));
    if (work_pool_submit(ctx->pool, &call->item, http_request_base(req)) < 0) {
        api_call_free(call);
        reply_refusal(ctx, req, ERR_OVERLOADED, 0);
        return false;
    }
    return true;
}

/*
 * http_server_config.head: before a body byte is read, the client address
 * (403/429 from memory) and then the credentials (on the pool: the lookup
 * may block), so an unauthenticated client is refused without us buffering
 * its body (issue 11, item 1). The body is read only after they passed.
 */
enum http_head_verdict ins_routes_head(struct http_request *req, void *route_arg, void *arg)
{
    const struct ins_route *route = route_arg;
    struct ins_routes_ctx *ctx = route->ctx;
    int retry_after = 1;
    enum err verdict =
        admission_address(ctx->ratelimit, http_request_peer(req),
                          http_request_header(req, "X-Forwarded-For"), wall_now(), &retry_after);

    (void)arg;
    if (verdict != ERR_OK) {
        reply_refusal(ctx, req, verdict, verdict == ERR_RATE_LIMITED ? retry_after : 0);
        return HTTP_HEAD_REPLIED;
    }
    return submit(req, route->endpoint, ctx, true) ? HTTP_HEAD_DEFER : HTTP_HEAD_REPLIED;
}

/* ------------------------------------------------------------ the pool's side */

static void pool_run(struct work_item *item, void *arg)
{
    struct ins_routes_ctx *ctx = arg;
    struct api_call *c = (struct api_call *)item;

    c->served = true;
    if (c->head_only)
        c->passed = api_serve_head(ctx->api, c) == 0;
    else
        api_serve(ctx->api, c);
}

/* On the request's event thread: send the reply built by a pool thread. */
static void pool_deliver(struct work_item *item, void *arg)
{
    struct api_call *c = (struct api_call *)item;
    char secs[16];

    (void)arg;
    if (c->head_only && c->passed) { /* credentials passed: now read the body */
        struct http_request *req = c->req;

        api_call_free(c);
        http_request_continue(req);
        return;
    }
    if (c->retry_after_s > 0) {
        snprintf(secs, sizeof(secs), "%d", c->retry_after_s);
        http_request_set_header(c->req, "Retry-After", secs);
    }
    if (!c->reply || !c->reply_len) {
        http_reply_json(c->req, c->status ? c->status : 500, "{}", 2);
    } else if (c->content_type) {
        http_reply_raw(c->req, c->status, c->content_type, c->reply, c->reply_len);
    } else {
        http_reply_json_owned(c->req, c->status, c->reply, c->reply_len);
        c->reply = NULL;
    }
    api_call_free(c);
}

/* At shutdown: calls run but never delivered, and calls dropped unrun (usage row 503). */
static void pool_discard(struct work_item *item, void *arg)
{
    struct ins_routes_ctx *ctx = arg;
    struct api_call *c = (struct api_call *)item;

    if (!c->served)
        api_call_dropped(ctx->api, c);
    api_call_free(c);
}

struct work_pool_config ins_routes_pool_config(struct ins_routes_ctx *ctx, int threads,
                                               size_t queue_max)
{
    return (struct work_pool_config){
        .threads = threads,
        .queue_max = queue_max,
        .run = pool_run,
        .deliver = pool_deliver,
        .discard = pool_discard,
        .arg = ctx,
        .queue_gauge = ctx->queue,
    };
}

/* ------------------------------------------------------------ the routes */

static void handle_endpoint(struct http_request *req, void *arg)
{
    const struct ins_route *route = arg;

    submit(req, route->endpoint, route->ctx, false);
}

size_t ins_routes_table(struct ins_routes_ctx *ctx, struct http_route *out)
{
    size_t n = 0;

    for (size_t i = 0; i < api_endpoints_count && n < INS_ROUTES_MAX; i++, n++) {
        ctx->routes[n] = (struct ins_route){ctx, &api_endpoints[i]};
        out[n] = (struct http_route){HTTP_METHOD_POST, api_endpoints[i].path, handle_endpoint,
                                     &ctx->routes[n]};
    }
    return n;
}
