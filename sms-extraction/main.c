/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Launcher of the sms-extraction daemon: read the configuration, start the
 * subsystems in order, say "up" once with everything an operator needs to
 * know what is running, serve until SIGTERM, then take it all down again so
 * that a valgrind run ends with nothing left. No business logic lives here:
 * requests are routes.c's, rules are rules.c's, the request log is reqlog.c's.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/daemon_flags.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "sms-extraction/config.h"
#include "sms-extraction/routes.h"
#include "sms-extraction/rules.h"
#include "sms-extraction/reqlog.h"

#define SMSX_VERSION "0.1.0"
#define SMSX_SERVICE "sms-extraction"

struct daemon {
    struct smsx_config cfg;
    struct metrics *metrics;
    struct rules *rules;
    struct reqlog *reqlog;
    struct http_server *server;
    struct smsx_routes routes;
};

static void usage(FILE *out)
{
    fputs("usage: sms-extraction [--version | --config-docs | --error-docs | --healthcheck]\n"
          "  configuration comes from the environment: see --config-docs\n",
          out);
}

/* SIGHUP, on the server's control thread: new rules or the old ones, never none. */
static void on_reload(void *arg)
{
    struct daemon *d = arg;
    char err[1024], versions[512];

    if (rules_reload(d->rules, err, sizeof(err)) < 0) {
        log_error(NULL, "rules reload failed, keeping the current rules", LOG_STR("error", err));
        return;
    }
    rules_describe(d->rules, versions, sizeof(versions));
    log_info(NULL, "rules reloaded", LOG_STR("artifacts", versions));
}

static int start_server(struct daemon *d, char *err, size_t err_len)
{
    struct http_route routes[ROUTES_MAX];
    size_t n = smsx_routes_table(&d->routes, routes);
    struct http_server_config sc = {
        .service = SMSX_SERVICE,
        .bind_addr = d->cfg.http_bind,
        .port = (int)d->cfg.http_port,
        .admin_port = (int)d->cfg.admin_port,
        .worker_threads = (int)d->cfg.worker_threads,
        .max_body_bytes = (size_t)d->cfg.max_body_bytes,
        .request_timeout_ms = d->cfg.request_timeout_ms,
        .max_in_flight = d->cfg.max_in_flight,
        .shutdown_grace_ms = d->cfg.shutdown_grace_ms,
        .head_timeout_ms = d->cfg.head_timeout_ms,
        .max_connections = d->cfg.max_connections,
        .max_connections_per_ip = d->cfg.max_connections_per_ip,
        .trusted_proxies = d->cfg.trusted_proxy_cidrs,
        .max_buffered_bytes = (size_t)d->cfg.max_buffered_bytes,
        .json_bodies = true,
        .handle_signals = true,
        .access_log = true,
        .metrics = d->metrics,
        .ready = smsx_routes_ready,
        .ready_arg = &d->routes,
        .reload = on_reload,
        .reload_arg = d,
        .thread_init = smsx_routes_thread_init,
        .thread_done = smsx_routes_thread_done,
        .thread_arg = &d->routes,
    };

    d->server = http_server_new(&sc, routes, n, err, err_len);
    return d->server ? 0 : -1;
}

static void log_up(struct daemon *d, bool db_enabled)
{
    char *summary = config_summary_json(smsx_config_table, smsx_config_table_len, &d->cfg);
    char versions[512], sources[3][1100], unused[256];

    rules_describe(d->rules, versions, sizeof(versions));
    for (int i = 0; i < 3; i++)
        rules_source(d->rules, i, sources[i], sizeof(sources[i]));
    log_info(NULL, "up", LOG_STR("version", SMSX_VERSION),
             LOG_INT("port", http_server_port(d->server)),
             LOG_INT("admin_port", http_server_admin_port(d->server)),
             LOG_INT("workers", http_server_workers(d->server)), LOG_STR("artifacts", versions),
             LOG_STR("vocabulary", sources[0]), LOG_STR("classification", sources[1]),
             LOG_STR("regex", sources[2]), LOG_BOOL("request_log", db_enabled),
             LOG_JSON("config", summary));
    free(summary);
    if (config_unused_present(smsx_config_table, smsx_config_table_len, unused, sizeof(unused)) > 0)
        log_warn(NULL, "ignored configuration variables are set", LOG_STR("variables", unused));
}

/*
 * Subsystems, order important: metrics first (everyone registers into it),
 * then the rules (no point serving without them; a failure here is a refusal
 * to start), then the request log (its thread may take its time to reach
 * the database), then the routes and the server, which binds the ports.
 */
static int start(struct daemon *d, char *err, size_t err_len)
{
    bool db_enabled = false;

    d->metrics = metrics_new("smsx_");
    d->rules = rules_new(&d->cfg, d->metrics, err, err_len);
    if (!d->rules || rules_reload(d->rules, err, err_len) < 0)
        return -1;
    d->reqlog = reqlog_start(&d->cfg, d->metrics, &db_enabled, err, err_len);
    if (db_enabled && !d->reqlog)
        return -1;
    d->routes = (struct smsx_routes){
        .cfg = &d->cfg, .rules = d->rules, .reqlog = d->reqlog, .metrics = d->metrics};
    smsx_routes_init(&d->routes);
    if (start_server(d, err, err_len) < 0)
        return -1;
    log_up(d, db_enabled);
    return 0;
}

/* Reverse order of start(); each step accepts what start() left NULL. */
static void stop(struct daemon *d)
{
    http_server_free(d->server);
    reqlog_stop(d->reqlog, d->cfg.shutdown_grace_ms);
    rules_free(d->rules);
    metrics_free(d->metrics);
    smsx_config_free(&d->cfg);
}

/*
 * Every request allocates and frees buffers of hundreds of KiB (body, reply).
 * glibc would serve those with mmap or hand freed heap back to the kernel,
 * so each request paid its page faults again; keeping them in the heap makes
 * the memory reused instead. The caps in the config still bound how much.
 */
static void tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

static int run(struct daemon *d)
{
    char err[1024];
    int rc = 1;

    tune_malloc();

    if (smsx_config_load(&d->cfg, err, sizeof(err)) < 0) {
        log_error(NULL, "invalid configuration", LOG_STR("error", err));
        goto out;
    }
    log_set_level((enum log_level)d->cfg.log_level);
    if (start(d, err, sizeof(err)) < 0) {
        log_error(NULL, "start-up failed", LOG_STR("error", err));
        goto out;
    }
    if (http_server_run(d->server, err, sizeof(err)) < 0) {
        log_error(NULL, "server failed", LOG_STR("error", err));
        goto out;
    }
    log_info(NULL, "down");
    rc = 0;
out:
    stop(d);
    return rc;
}

/* --healthcheck needs HTTP_PORT only; the rest of the configuration may be anything. */
static int http_port(void)
{
    struct smsx_config cfg = {0};
    char err[512];
    int port = 8082;

    if (smsx_config_load(&cfg, err, sizeof(err)) == 0)
        port = (int)cfg.http_port;
    smsx_config_free(&cfg);
    return port;
}

int main(int argc, char **argv)
{
    struct daemon d = {0};

    log_set_service(SMSX_SERVICE);
    if (argc > 2) {
        usage(stderr);
        return 2;
    }
    if (argc == 2) {
        const struct daemon_flags flags = {.service = SMSX_SERVICE,
                                           .version = SMSX_VERSION,
                                           .config_table = smsx_config_table,
                                           .config_table_len = smsx_config_table_len,
                                           .err_sender = ERR_BY_SMSX,
                                           .http_port = http_port};
        int rc = daemon_flags_run(&flags, argv[1]);

        if (rc >= 0)
            return rc;
        usage(strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    return run(&d);
}
