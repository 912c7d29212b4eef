/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The route table of insights-api and the cheap, non-blocking front of every
 * request, decided on the event thread: the client address (behind trusted
 * proxies), the IP allow-list (403, the documented nginx HTML page), the
 * per-address rate limit (429 with Retry-After), then a hand-off to the
 * pipeline (pipeline.h) for everything that may block. Any path that is not
 * an API route gets the same 403 HTML page, as Credeau's load balancer does.
 */
#ifndef INSIGHTS_ROUTES_H
#define INSIGHTS_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/http_server.h"
#include "common/metrics.h"
#include "insights-api/config.h"
#include "insights-api/pipeline.h"
#include "insights-api/ratelimit.h"

/* The documented 403 page (credeau.md §2.4), byte for byte. */
#define INS_ROUTES_FORBIDDEN_HTML                                                                  \
    "<html><head><title>403 Forbidden</title></head><body><center><h1>403 "                        \
    "Forbidden</h1></center></body></html>"

struct ins_routes_ctx {
    const struct ins_config *cfg;
    struct metrics *metrics;
    struct ratelimit *ratelimit;
    struct pipeline *pipeline;
    bool (*ready)(void *arg); /* artifacts loaded (and not draining: the framework's part) */
    void *ready_arg;
    struct metrics_counter *refused; /* by reason: forbidden, rate_limited, overloaded */
};

/* Registers the routes' metrics in ctx->metrics. */
void ins_routes_init(struct ins_routes_ctx *ctx);

#define INS_ROUTES_MAX 8
/* Fills out (at least INS_ROUTES_MAX rows) with the route table; returns the row count. */
size_t ins_routes_table(struct ins_routes_ctx *ctx, struct http_route *out);

/* http_server_config.not_found (arg = the ctx): the 403 HTML page. */
void ins_routes_not_found(struct http_request *req, void *arg);

/* http_server_config.ready (arg = the ctx). */
bool ins_routes_ready(void *arg);

#endif
