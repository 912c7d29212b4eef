/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper (header only, static functions) for the insights-api tests
 * that drive the endpoints in process: a real sms-extraction (its config,
 * rules, routes and HTTP server) on a thread of the test binary, and an
 * extraction client pointed at any URL. The one socket in such a test is
 * the extraction client's, so the two daemons still talk real HTTP.
 *
 *   smsx_start() / smsx_stop()     the server on a free port; SMSX.url
 *   extraction_client_to(url)      a client with no retries and short
 *                                  timeouts ("http://127.0.0.1:1" is a
 *                                  dead extractor)
 */
#ifndef TESTS_SMSX_IN_PROCESS_H
#define TESTS_SMSX_IN_PROCESS_H

#include <pthread.h>
#include <stdio.h>

#include "common/http_server.h"
#include "insights-api/extraction_client.h"
#include "sms-extraction/config.h"
#include "sms-extraction/routes.h"
#include "sms-extraction/rules.h"

static struct {
    struct smsx_config cfg;
    struct metrics *metrics;
    struct rules *rules;
    struct smsx_routes routes;
    struct http_server *server;
    pthread_t thread;
    char url[64];
} SMSX;

static void *smsx_thread_main(void *arg)
{
    char err[256];

    (void)arg;
    if (http_server_run(SMSX.server, err, sizeof(err)) < 0)
        fprintf(stderr, "sms-extraction: %s\n", err);
    return NULL;
}

/* 0 once the server is accepting on SMSX.url; -1 with the reason on stderr. */
static int smsx_start(void)
{
    struct http_route routes[ROUTES_MAX];
    char err[512];
    size_t n;
    struct http_server_config sc = {.service = "sms-extraction",
                                    .bind_addr = "127.0.0.1",
                                    .admin_port = -1,
                                    .worker_threads = 1,
                                    .shutdown_grace_ms = 1000};

    if (smsx_config_load(&SMSX.cfg, err, sizeof(err)) < 0)
        return fprintf(stderr, "%s\n", err), -1;
    SMSX.metrics = metrics_new("smsx_");
    SMSX.rules = rules_new(&SMSX.cfg, SMSX.metrics, err, sizeof(err));
    if (!SMSX.rules || rules_reload(SMSX.rules, err, sizeof(err)) < 0)
        return fprintf(stderr, "%s\n", err), -1;
    SMSX.routes =
        (struct smsx_routes){.cfg = &SMSX.cfg, .rules = SMSX.rules, .metrics = SMSX.metrics};
    smsx_routes_init(&SMSX.routes);
    n = smsx_routes_table(&SMSX.routes, routes);
    sc.max_body_bytes = (size_t)SMSX.cfg.service.max_body_bytes;
    sc.ready = smsx_routes_ready;
    sc.ready_arg = &SMSX.routes;
    if (smsx_routes_start(&SMSX.routes, err, sizeof(err)) < 0)
        return fprintf(stderr, "%s\n", err), -1;
    SMSX.server = http_server_new(&sc, routes, n, err, sizeof(err));
    if (!SMSX.server)
        return fprintf(stderr, "%s\n", err), -1;
    snprintf(SMSX.url, sizeof(SMSX.url), "http://127.0.0.1:%d", http_server_port(SMSX.server));
    return pthread_create(&SMSX.thread, NULL, smsx_thread_main, NULL);
}

static void smsx_stop(void)
{
    http_server_stop(SMSX.server);
    pthread_join(SMSX.thread, NULL);
    smsx_routes_stop(&SMSX.routes);
    http_server_free(SMSX.server);
    rules_free(SMSX.rules);
    metrics_free(SMSX.metrics);
    smsx_config_free(&SMSX.cfg);
}

static struct extraction_client *extraction_client_to(const char *url)
{
    struct extraction_client_config ec = {.service_url = url, .batch_size = 1000};
    char err[256];

    http_client_config_default(&ec.http);
    ec.http.max_retries = 0;
    ec.http.connect_timeout_ms = 500;
    ec.http.timeout_ms = 5000;
    return extraction_client_new(&ec, err, sizeof(err));
}

#endif
