/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Route table and the event-thread front of insights-api (see routes.h).
 * Handlers here never block: they decide from memory (CIDR lists, the rate
 * limiter's table) and either reply at once or queue the request on the
 * pipeline, whose reply comes back to this same event loop.
 */
#include "insights-api/routes.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

void ins_routes_init(struct ins_routes_ctx *ctx)
{
    ctx->refused = metrics_counter_new(ctx->metrics, "requests_refused_total",
                                       "requests refused before any work, by reason", "reason");
}

bool ins_routes_ready(void *arg)
{
    struct ins_routes_ctx *ctx = arg;

    return !ctx->ready || ctx->ready(ctx->ready_arg);
}

static void reply_forbidden(struct http_request *req)
{
    static const char page[] = INS_ROUTES_FORBIDDEN_HTML;

    http_reply_raw(req, 403, "text/html", page, sizeof(page) - 1);
}

void ins_routes_not_found(struct http_request *req, void *arg)
{
    struct ins_routes_ctx *ctx = arg;

    metrics_counter_add_label(ctx->refused, "unknown_path", 1);
    reply_forbidden(req);
}

static double wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void reply_rate_limited(struct http_request *req, int retry_after)
{
    static const char body[] = "{\"detail\":\"Too many requests, retry later\","
                               "\"code\":\"rate_limited\"}";
    char secs[16];

    snprintf(secs, sizeof(secs), "%d", retry_after);
    http_request_set_header(req, "Retry-After", secs);
    http_reply_json(req, 429, body, sizeof(body) - 1);
}

/* Address admission; returns true when the request may go on (else it was replied to). */
static bool admit_address(struct ins_routes_ctx *ctx, struct http_request *req)
{
    const char *peer = http_request_peer(req);
    const char *xff = http_request_header(req, "X-Forwarded-For");
    int retry_after = 1;
    enum ratelimit_verdict v =
        ratelimit_check(ctx->ratelimit, peer, xff, wall_now(), NULL, &retry_after);

    if (v == RATELIMIT_FORBIDDEN) {
        metrics_counter_add_label(ctx->refused, "forbidden", 1);
        reply_forbidden(req);
        return false;
    }
    if (v == RATELIMIT_LIMITED) {
        metrics_counter_add_label(ctx->refused, "rate_limited", 1);
        reply_rate_limited(req, retry_after);
        return false;
    }
    return true;
}

static void handle(struct ins_routes_ctx *ctx, struct http_request *req, enum pipeline_api api)
{
    if (!admit_address(ctx, req))
        return;
    if (pipeline_submit(ctx->pipeline, req, api) < 0) {
        metrics_counter_add_label(ctx->refused, "overloaded", 1);
        http_reply_error(req, ERR_OVERLOADED, NULL);
    }
}

static void handle_insights(struct http_request *req, void *arg)
{
    handle(arg, req, PIPELINE_INSIGHTS);
}

static void handle_async_insights(struct http_request *req, void *arg)
{
    handle(arg, req, PIPELINE_ASYNC_INSIGHTS);
}

static void handle_fetch_extracted(struct http_request *req, void *arg)
{
    handle(arg, req, PIPELINE_FETCH_EXTRACTED);
}

static void handle_generate_features(struct http_request *req, void *arg)
{
    handle(arg, req, PIPELINE_GENERATE_FEATURES);
}

size_t ins_routes_table(struct ins_routes_ctx *ctx, struct http_route *out)
{
    const struct http_route table[] = {
        {HTTP_METHOD_POST, "/api/insights", handle_insights, ctx},
        {HTTP_METHOD_POST, "/api/async_insights", handle_async_insights, ctx},
        {HTTP_METHOD_POST, "/api/fetch_extracted_data", handle_fetch_extracted, ctx},
        {HTTP_METHOD_POST, "/api/generate_features", handle_generate_features, ctx},
    };

    memcpy(out, table, sizeof(table));
    return sizeof(table) / sizeof(table[0]);
}
