/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Launcher of the sms-extraction daemon: read the configuration, start the
 * subsystems in order, say "up" once with everything an operator needs to
 * know what is running, serve until SIGTERM, then take it all down again so
 * that a valgrind run ends with nothing left. No business logic lives here:
 * requests are routes.c's, rules are rules.c's, the request log is reqlog.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/daemon.h"
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
    struct http_server_config sc = daemon_http_config(
        &d->cfg.service, SMSX_SERVICE, d->cfg.http_port, d->cfg.admin_port, d->metrics);

    sc.trusted_proxies = d->cfg.trusted_proxy_cidrs;
    sc.ready = smsx_routes_ready;
    sc.ready_arg = &d->routes;
    sc.reload = on_reload;
    sc.reload_arg = d;
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
static struct http_server *start(void *arg, char *err, size_t err_len)
{
    struct daemon *d = arg;
    bool db_enabled = false;

    d->metrics = metrics_new("smsx_");
    d->rules = rules_new(&d->cfg, d->metrics, err, err_len);
    if (!d->rules || rules_reload(d->rules, err, err_len) < 0)
        return NULL;
    d->reqlog = reqlog_start(&d->cfg, d->metrics, &db_enabled, err, err_len);
    if (db_enabled && !d->reqlog)
        return NULL;
    d->routes = (struct smsx_routes){
        .cfg = &d->cfg, .rules = d->rules, .reqlog = d->reqlog, .metrics = d->metrics};
    smsx_routes_init(&d->routes);
    if (smsx_routes_start(&d->routes, err, err_len) < 0 || start_server(d, err, err_len) < 0)
        return NULL;
    log_up(d, db_enabled);
    return d->server;
}

/* Reverse order of start(); each step accepts what start() left NULL. */
static void stop(void *arg)
{
    struct daemon *d = arg;

    smsx_routes_stop(&d->routes);
    http_server_free(d->server);
    reqlog_stop(d->reqlog, d->cfg.service.shutdown_grace_ms);
    rules_free(d->rules);
    metrics_free(d->metrics);
    smsx_config_free(&d->cfg);
}

static const struct daemon_service_config *load_config(void *arg, char *err, size_t err_len)
{
    struct daemon *d = arg;

    return smsx_config_load(&d->cfg, err, err_len) < 0 ? NULL : &d->cfg.service;
}

int main(int argc, char **argv)
{
    struct daemon d = {0};
    const struct daemon_spec spec = {
        .flags = {.service = SMSX_SERVICE,
                  .version = SMSX_VERSION,
                  .config_table = smsx_config_table,
                  .config_table_len = smsx_config_table_len,
                  .err_sender = ERR_BY_SMSX,
                  .config_size = sizeof(struct smsx_config),
                  .http_port_offset = offsetof(struct smsx_config, http_port),
                  .default_http_port = 8082},
        .usage = usage,
        .load_config = load_config,
        .start = start,
        .stop = stop,
        .arg = &d,
    };

    return daemon_main(&spec, argc, argv);
}
