/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event-thread front of insights-api: a route per row of the endpoint
 * table (api.h); from the request head, the cheap non-blocking admission of
 * the client address (admission.c: the IP allow-list -> 403 page, the
 * per-address rate limit -> 429 with Retry-After) and the credentials (on
 * the work pool, before any body byte is read); then the call with its body
 * handed to the work pool (common/work_pool.h) for everything that may
 * block, and its reply sent when the pool hands it back to this loop. Any path that is not an API
 * route gets the same 403 page, as Credeau's load balancer does.
 */
#ifndef INSIGHTS_ROUTES_H
#define INSIGHTS_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/http_server.h"
#include "common/metrics.h"
#include "common/work_pool.h"
#include "insights-api/api.h"
#include "insights-api/ratelimit.h"

#define INS_ROUTES_MAX 16

struct ins_routes_ctx;

/* A route's handler argument: which endpoint, through which front. */
struct ins_route {
    struct ins_routes_ctx *ctx;
    const struct api_endpoint *endpoint;
};

struct ins_routes_ctx {
    struct api *api;
    struct metrics *metrics;
    struct ratelimit *ratelimit;
    struct work_pool *pool;
    bool (*ready)(void *arg); /* NULL = ready (draining is the framework's part) */
    void *ready_arg;
    struct metrics_counter *refused; /* by reason: forbidden, rate_limited, overloaded, ... */
    struct metrics_gauge *queue;     /* calls waiting for a pool thread */
    struct ins_route routes[INS_ROUTES_MAX];
};

/* Registers the routes' metrics in ctx->metrics. */
void ins_routes_init(struct ins_routes_ctx *ctx);

/*
 * The pool's callbacks (arg = the ctx): a pool thread serves a call, the
 * call's loop sends its reply, undelivered calls are freed at shutdown.
 */
struct work_pool_config ins_routes_pool_config(struct ins_routes_ctx *ctx, int threads,
                                               size_t queue_max);

/* Fills out (INS_ROUTES_MAX rows) with a POST route per endpoint; returns the count. */
size_t ins_routes_table(struct ins_routes_ctx *ctx, struct http_route *out);

/*
 * http_server_config.head (route_arg = a route of the table): address
 * admission, then the credentials on the pool, before the body is read.
 */
enum http_head_verdict ins_routes_head(struct http_request *req, void *route_arg, void *arg);

/* http_server_config.not_found (arg = the ctx): the 403 HTML page. */
void ins_routes_not_found(struct http_request *req, void *arg);

/* http_server_config.ready (arg = the ctx). */
bool ins_routes_ready(void *arg);

#endif
