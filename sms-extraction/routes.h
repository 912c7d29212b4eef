/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service's routes and their handlers. The daemon's long-lived parts
 * (config, rules, request log, metrics) are gathered in one context passed
 * to every handler as its arg; per-thread state (parsed request, output
 * buffer, rules view with its scratch) comes from the framework's thread hook.
 */
#ifndef SMSX_ROUTES_H
#define SMSX_ROUTES_H

#include <stddef.h>

#include "common/http_server.h"
#include "common/metrics.h"
#include "sms-extraction/config.h"
#include "sms-extraction/rules.h"
#include "sms-extraction/reqlog.h"

struct smsx_routes {
    const struct smsx_config *cfg;
    struct rules *rules;
    struct reqlog *reqlog; /* NULL when the request log is off */
    struct metrics *metrics;
    struct metrics_counter *messages;  /* messages extracted */
    struct metrics_counter *extracted; /* of which is_extracted */
    struct metrics_counter *rejected;  /* 4xx by reason */
};

/* Registers the handlers' metrics in ctx->metrics. */
void smsx_routes_init(struct smsx_routes *ctx);

/* Fills out (at least ROUTES_MAX rows) with the route table; returns the row count. */
#define ROUTES_MAX 4
size_t smsx_routes_table(struct smsx_routes *ctx, struct http_route *out);

/* http_server_config.thread_init / thread_done (arg = the ctx). */
void *smsx_routes_thread_init(int worker, void *arg);
void smsx_routes_thread_done(int worker, void *thread_data, void *arg);

/* http_server_config.ready (arg = the ctx): rules loaded. */
bool smsx_routes_ready(void *arg);

#endif
