/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service's routes and their handlers. The daemon's long-lived parts
 * (config, rules, request log, metrics, the extraction pool) are gathered in
 * one context passed to every handler as its arg. The handler only queues
 * the request on the extraction pool (common/work_pool): the work runs off
 * the event loop, admitted by queue length and queue delay (503 with
 * Retry-After past them), and the reply comes back to the loop. Each pool
 * thread works with its own scratch (parsed request, output buffer, rules
 * view), taken from a spare list.
 */
#ifndef SMSX_ROUTES_H
#define SMSX_ROUTES_H

#include <pthread.h>
#include <stddef.h>

#include "common/err.h"
#include "common/http_server.h"
#include "common/metrics.h"
#include "common/work_pool.h"
#include "sms-extraction/config.h"
#include "sms-extraction/rules.h"
#include "sms-extraction/reqlog.h"
#include "sms-extraction/request.h"
#include "sms-extraction/response.h"

struct smsx_routes {
    const struct smsx_config *cfg;
    struct rules *rules;
    struct reqlog *reqlog; /* NULL when the request log is off */
    struct metrics *metrics;
    struct metrics_counter *messages;  /* messages extracted */
    struct metrics_counter *extracted; /* of which is_extracted */
    struct metrics_counter *rejected;  /* 4xx by reason, and 503 queue_full / queue_timeout */
    struct metrics_gauge *queue;       /* requests waiting for an extraction thread */
    struct work_pool *pool;            /* where requests are extracted (set before serving) */
    pthread_mutex_t spare_lock;
    struct routes_worker *spare; /* per-request scratch not in use (one per pool thread) */
};

/* Registers the handlers' metrics in ctx->metrics. */
void smsx_routes_init(struct smsx_routes *ctx);
/*
 * Starts the extraction pool (ctx->pool): EXTRACT_THREADS threads parse and
 * extract, EXTRACT_QUEUE_MAX requests wait at most. -1 with err set.
 */
int smsx_routes_start(struct smsx_routes *ctx, char *err, size_t err_len);
/* After the server's loops stopped: drops what still waits, joins the pool, frees the rest. */
void smsx_routes_stop(struct smsx_routes *ctx);

/* A scratch for smsx_routes_serve (the pool's spare list; tests serving in process). */
void *smsx_routes_thread_init(int worker, void *arg);
void smsx_routes_thread_done(int worker, void *thread_data, void *arg);

/* Fills out (at least ROUTES_MAX rows) with the route table; returns the row count. */
#define ROUTES_MAX 4
size_t smsx_routes_table(struct smsx_routes *ctx, struct http_route *out);

/* http_server_config.ready (arg = the ctx): rules loaded. */
bool smsx_routes_ready(void *arg);

/*
 * One POST /api/extract without HTTP: the handler copies the request in,
 * serves it and sends what comes out; tests call smsx_routes_serve with a
 * worker from smsx_routes_thread_init and no socket.
 */
struct smsx_call {
    /* in */
    const char *body;
    size_t len;
    const char *request_id;  /* used when the body names none */
    enum response_form form; /* the reply form the caller asked for */
    /* out */
    int status;
    enum err error;    /* ERR_OK: reply holds the records */
    char *detail;      /* ERR_VALIDATION: the detail items (JSON array text) */
    const char *reply; /* the worker's buffer, valid until its next call */
    size_t reply_len;
    long sms, extracted;       /* messages, of which is_extracted */
    long errors;               /* detail items */
    const struct request *req; /* the parsed request (the worker's) */
};

void smsx_routes_serve(struct smsx_routes *ctx, void *thread_data, struct smsx_call *c);

/* Frees what a call owns (its detail). */
void smsx_call_done(struct smsx_call *c);

#endif
