/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Launcher of the insights-api daemon and entry of its operator
 * subcommands (cli.c): read the configuration, start the subsystems in
 * order, say "up" once with what an operator needs to know, serve until
 * SIGTERM, then take everything down in reverse so a valgrind run ends
 * clean. No business logic lives here: the front is routes.c's, the
 * endpoints endpoints.c's (served by api.c on a common/work_pool), admission
 * admission.c's, featurising featurise.c's, credentials auth.c's, the database store*.c / jobs.c /
 * clients.c's, the data sources mongo_source.c / inline_source.c /
 * extraction_client.c's, the features features*.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/cpu.h"
#include "common/crypto.h"
#include "common/daemon.h"
#include "common/daemon_flags.h"
#include "common/err.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/work_pool.h"
#include "insights-api/api.h"
#include "insights-api/assets.h"
#include "insights-api/auth.h"
#include "insights-api/cli.h"
#include "insights-api/clients.h"
#include "insights-api/config.h"
#include "insights-api/extraction_client.h"
#include "insights-api/featurise.h"
#include "insights-api/jobs.h"
#include "insights-api/mongo_source.h"
#include "insights-api/ratelimit.h"
#include "insights-api/routes.h"
#include "insights-api/store.h"

#define INS_VERSION "0.1.0"
#define INS_SERVICE "insights-api"
#define INS_POOL_WAIT_MS 1000
#define INS_PROBE_TIMEOUT_MS 2000

struct daemon {
    struct ins_config cfg;
    struct metrics *metrics;
    struct assets *assets;
    struct extraction_client *extractor;
    struct mongo_source *mongo;
    struct store *store;
    struct store_pool *pool;
    struct auth_static *demo;
    struct auth *auth;
    struct ratelimit *ratelimit;
    struct featurise featurise;
    struct api api;
    struct work_pool *pool_threads;
    struct jobs_runner *runner;
    struct http_server *server;
    struct ins_routes_ctx routes;
    char port_text[16];
    char owner[128];
};

/* ---- dependencies as the other modules want them ---- */

static void pg_params_of(struct daemon *d, struct pg_params *p, const char *app)
{
    snprintf(d->port_text, sizeof(d->port_text), "%ld", d->cfg.pg_port);
    *p = (struct pg_params){
        .host = d->cfg.pg_host,
        .port = d->port_text,
        .user = d->cfg.pg_user,
        .password = d->cfg.pg_password,
        .dbname = d->cfg.pg_database,
        .sslmode = d->cfg.pg_sslmode,
        .application_name = app,
        .connect_timeout_s = 3,
    };
}

/* auth's lookup over the clients table (a pooled connection per call). */
static int pg_lookup(void *arg, const char *client_id, const char *token, const char *token_hash,
                     double *expires_at, char *err, size_t err_len)
{
    struct daemon *d = arg;
    struct clients_pepper pepper = {d->cfg.token_pepper, strlen(d->cfg.token_pepper)};
    struct clients_auth out = {0};
    PGconn *conn;
    int r;

    (void)token_hash;
    if (!clients_id_valid(client_id))
        return 0;
    conn = store_pool_get(d->pool, INS_POOL_WAIT_MS, err, err_len);
    if (!conn) {
        metrics_dependency_error(d->metrics, "postgres");
        return -1;
    }
    r = clients_lookup(conn, &pepper, client_id, token, &out, err, err_len);
    store_pool_put(d->pool, conn, r < 0);
    if (r < 0)
        metrics_dependency_error(d->metrics, "postgres");
    if (r == 1)
        *expires_at = out.expires_at;
    return r;
}

static int start_auth(struct daemon *d, char *err, size_t err_len)
{
    struct auth_config ac = {
        .ttl_s = d->cfg.auth_cache_ttl_s,
        .stale_max_s = d->cfg.auth_stale_max_s,
        .max_entries = d->cfg.auth_cache_max,
        .pepper = d->cfg.token_pepper,
        .metrics = d->metrics,
    };
    struct auth_lookup lookup = {pg_lookup, d};

    if (!ins_config_has_db(&d->cfg)) {
        d->demo = auth_static_new(d->cfg.demo_clients, d->cfg.token_pepper, err, err_len);
        if (!d->demo)
            return -1;
        lookup = (struct auth_lookup){auth_static_lookup, d->demo};
    }
    d->auth = auth_new(&ac, &lookup);
    return 0;
}

static int start_database(struct daemon *d, char *err, size_t err_len)
{
    struct store_config sc = {
        .migrate = true,
        .maintain_interval_s = (int)d->cfg.maintain_interval_s,
        .maintain = {.days_ahead = (int)d->cfg.partitions_ahead_days,
                     .retention_days = (int)d->cfg.retention_days},
        .dump_mode = (enum store_dump_mode)d->cfg.dump_mode,
        .spool_path = d->cfg.spool_path,
        .spool_max_bytes = (size_t)d->cfg.spool_max_bytes,
        .pepper = d->cfg.token_pepper,
        .pepper_len = strlen(d->cfg.token_pepper),
        .user_key_secret = d->cfg.user_key_secret,
    };
    struct pg_params pool_params;

    if (!ins_config_has_db(&d->cfg))
        return 0;
    pg_params_of(d, &sc.pg, "insights-api-store");
    d->store = store_start(&sc, d->metrics, err, err_len);
    if (!d->store)
        return -1;
    pg_params_of(d, &pool_params, "insights-api");
    d->pool = store_pool_new(&pool_params, 8);
    return 0;
}

static int start_runner(struct daemon *d, char *err, size_t err_len)
{
    char host[64] = "host";
    unsigned char rnd[4] = {0};
    struct jobs_runner_config rc = {
        .threads = 1,
        .lease_s = (int)d->cfg.job_stale_s,
        .poll_ms = (int)d->cfg.job_sweep_interval_s * 1000 / 4,
        .compute = featurise_job,
        .ctx = &d->featurise,
    };

    if (!ins_config_has_db(&d->cfg))
        return 0;
    gethostname(host, sizeof(host) - 1);
    if (crypto_random(rnd, sizeof(rnd)) < 0)
        rnd[0] = (unsigned char)getpid();
    snprintf(d->owner, sizeof(d->owner), "%.63s-%d-%02x%02x%02x%02x", host, (int)getpid(), rnd[0],
             rnd[1], rnd[2], rnd[3]);
    pg_params_of(d, &rc.pg, "insights-api-jobs");
    rc.owner = d->owner;
    d->runner = jobs_runner_start(&rc, d->metrics, err, err_len);
    if (!d->runner)
        return -1;
    api_set_runner(&d->api, d->runner);
    return 0;
}

/*
 * The start-up batch-size check, through a client of its own with a short
 * timeout: an extractor that accepts connections but hangs must not hold the
 * daemon's start for SMS_EXTRACTOR_TIMEOUT_MS.
 */
static enum err probe_batch_size(const struct extraction_client_config *ec, long *limit, char *why,
                                 size_t why_len)
{
    struct extraction_client_config pc = *ec;
    struct extraction_client *probe;
    enum err e;

    pc.metrics = NULL;
    if (pc.http.timeout_ms > INS_PROBE_TIMEOUT_MS)
        pc.http.timeout_ms = INS_PROBE_TIMEOUT_MS;
    if (pc.http.connect_timeout_ms > INS_PROBE_TIMEOUT_MS)
        pc.http.connect_timeout_ms = INS_PROBE_TIMEOUT_MS;
    probe = extraction_client_new(&pc, why, why_len);
    if (!probe)
        return ERR_INTERNAL;
    e = extraction_client_probe(probe, limit, why, why_len);
    extraction_client_free(probe);
    return e;
}

static int start_sources(struct daemon *d, char *err, size_t err_len)
{
    struct extraction_client_config ec = {
        .service_url = d->cfg.extractor_url,
        .batch_size = d->cfg.extractor_batch_size,
        .metrics = d->metrics,
    };
    struct mongo_source_config mc = {
        .uri = d->cfg.mongo_uri,
        .username = d->cfg.mongo_user,
        .password = d->cfg.mongo_password,
        .host = d->cfg.mongo_host,
        .port = d->cfg.mongo_port,
        .database = d->cfg.mongo_database,
        .enabled_sources = d->cfg.mongo_enabled_sources,
        .max_pool_size = d->cfg.mongo_max_pool,
        .min_pool_size = d->cfg.mongo_min_pool,
        .server_selection_timeout_ms = d->cfg.mongo_server_selection_timeout_ms,
        .connect_timeout_ms = d->cfg.mongo_connect_timeout_ms,
        .socket_timeout_ms = d->cfg.mongo_socket_timeout_ms,
        .retry_writes = d->cfg.mongo_retry_writes,
        .wait_queue_timeout_ms = d->cfg.mongo_wait_queue_timeout_ms,
        .max_sms = d->cfg.max_sms_per_user,
    };
    long limit = 0;
    char why[512] = "";

    http_client_config_default(&ec.http);
    ec.http.timeout_ms = d->cfg.extractor_timeout_ms;
    ec.http.max_retries = (int)d->cfg.extractor_retries;
    ec.http.max_parallel = (int)d->cfg.extractor_parallel;
    ec.http.max_conn_age_s = d->cfg.extractor_max_conn_age_s;
    d->extractor = extraction_client_new(&ec, err, err_len);
    if (!d->extractor || probe_batch_size(&ec, &limit, why, sizeof(why)) == ERR_VALIDATION) {
        if (d->extractor)
            snprintf(err, err_len, "SMS_EXTRACTOR_BATCH_SIZE: %s", why);
        return -1;
    }
    if (why[0])
        log_warn(NULL, "extraction batch size not checked", LOG_STR("reason", why));
    if (ins_config_has_mongo(&d->cfg)) {
        d->mongo = mongo_source_new(&mc, err, err_len);
        if (!d->mongo)
            return -1;
    }
    return 0;
}

/* The endpoints' dependencies, the rate limiter and the work pool that serves the calls. */
static int start_front(struct daemon *d, char *err, size_t err_len)
{
    struct ratelimit_config rl = {
        .per_minute = d->cfg.rate_limit_per_minute,
        .max_ips = d->cfg.rate_limit_max_ips,
        .allow_list = d->cfg.ip_allow_list,
        .trusted_cidrs = d->cfg.trusted_proxy_cidrs,
        .metrics = d->metrics,
    };
    int workers =
        d->cfg.service.worker_threads > 0 ? (int)d->cfg.service.worker_threads : cpu_available();
    int threads = d->cfg.pipeline_threads > 0 ? (int)d->cfg.pipeline_threads : 2 * workers;
    struct featurise_deps fd = {
        .cfg = &d->cfg,
        .metrics = d->metrics,
        .mongo = d->mongo,
        .extractor = d->extractor,
        .assets = d->assets,
        .store = d->cfg.prediction_log ? d->store : NULL,
    };
    struct api_deps ad = {
        .cfg = &d->cfg,
        .metrics = d->metrics,
        .auth = d->auth,
        .featurise = &d->featurise,
        .store = d->store,
        .pool = d->pool,
    };
    struct work_pool_config pc;

    d->ratelimit = ratelimit_new(&rl, err, err_len);
    if (!d->ratelimit)
        return -1;
    featurise_init(&d->featurise, &fd);
    api_init(&d->api, &ad);
    d->routes =
        (struct ins_routes_ctx){.api = &d->api, .metrics = d->metrics, .ratelimit = d->ratelimit};
    ins_routes_init(&d->routes);
    pc = ins_routes_pool_config(&d->routes, threads, (size_t)d->cfg.pipeline_queue_max);
    d->pool_threads = work_pool_new(&pc, err, err_len);
    d->routes.pool = d->pool_threads;
    return d->pool_threads ? 0 : -1;
}

/*
 * SIGHUP, on the server's control thread: a new artifact set or the old one,
 * never none; requests in flight finish on the set they started with.
 */
static void on_reload(void *arg)
{
    struct daemon *d = arg;
    struct live_ref ref = {0};
    const struct asset_set *set;
    char err[1024], arms[1024];

    if (assets_reload(d->assets, err, sizeof(err)) < 0) {
        log_error(NULL, "artifact reload failed, keeping the current set", LOG_STR("error", err));
        return;
    }
    set = assets_acquire(d->assets, &ref);
    scores_describe(set->scores, arms, sizeof(arms));
    log_info(NULL, "artifacts reloaded", LOG_INT("generation", (long long)set->generation),
             LOG_STR("artifacts", set->versions), LOG_STR("scores", arms));
    assets_release(&ref);
}

/* A second copy of a credential header is refused (400): never "first one wins". */
static const char *const credential_headers[] = {"x-client-id", "x-auth-token", NULL};

static int start_server(struct daemon *d, char *err, size_t err_len)
{
    struct http_route routes[INS_ROUTES_MAX];
    size_t n = ins_routes_table(&d->routes, routes);
    struct http_server_config sc = daemon_http_config(
        &d->cfg.service, INS_SERVICE, d->cfg.http_port, d->cfg.admin_port, d->metrics);

    sc.trusted_proxies = d->cfg.trusted_proxy_cidrs;
    sc.unique_headers = credential_headers;
    sc.retry_after_s = API_RETRY_AFTER_S;
    sc.ready = ins_routes_ready;
    sc.ready_arg = &d->routes;
    sc.head = ins_routes_head;
    sc.not_found = ins_routes_not_found;
    sc.not_found_arg = &d->routes;
    sc.reload = on_reload;
    sc.reload_arg = d;
    d->server = http_server_new(&sc, routes, n, err, err_len);
    return d->server ? 0 : -1;
}

/* LICENSE_KEY (masked), SUBSCRIPTION_ID and CLIENT_ID as info series in /metrics. */
static void publish_identity(struct daemon *d)
{
    char masked[32];
    struct metrics_counter *c;

    ins_config_license_masked(&d->cfg, masked, sizeof(masked));
    c = metrics_counter_new(d->metrics, "license_info",
                            "licence key (masked) as configured; never sent anywhere",
                            "license_key");
    metrics_counter_add_label(c, *masked ? masked : "none", 1);
    c = metrics_counter_new(d->metrics, "subscription_info", "subscription id as configured",
                            "subscription_id");
    metrics_counter_add_label(c, *d->cfg.subscription_id ? d->cfg.subscription_id : "none", 1);
    c = metrics_counter_new(d->metrics, "client_info", "CLIENT_ID of this deployment", "client_id");
    metrics_counter_add_label(c, *d->cfg.client_id ? d->cfg.client_id : "none", 1);
}

static void log_up(struct daemon *d)
{
    char *summary = config_summary_json(ins_config_table, ins_config_table_len, &d->cfg);
    char unused[2048], arms[1024];
    struct live_ref ref = {0};
    const struct asset_set *set = assets_acquire(d->assets, &ref);

    scores_describe(set->scores, arms, sizeof(arms));
    log_info(
        NULL, "up", LOG_STR("version", INS_VERSION), LOG_INT("port", http_server_port(d->server)),
        LOG_INT("admin_port", http_server_admin_port(d->server)),
        LOG_INT("workers", http_server_workers(d->server)), LOG_STR("artifacts", set->versions),
        LOG_INT("features", (long long)features_count(set->catalogue)), LOG_STR("scores", arms),
        LOG_BOOL("database", ins_config_has_db(&d->cfg)),
        LOG_BOOL("mongodb", ins_config_has_mongo(&d->cfg)), LOG_STR("replica", d->owner),
        LOG_JSON("config", summary));
    assets_release(&ref);
    free(summary);
    if (config_unused_present(ins_config_table, ins_config_table_len, unused, sizeof(unused)) > 0)
        log_warn(NULL,
                 "configuration variables accepted but not used (pickled models are replaced)",
                 LOG_STR("variables", unused));
    if (!ins_config_has_db(&d->cfg))
        log_warn(NULL, "no database: demo clients only, no async jobs, no dumps or usage rows");
    if (!ins_config_has_mongo(&d->cfg))
        log_warn(NULL, "no mongodb: /api/insights and /api/fetch_extracted_data answer 503");
}

/*
 * Subsystems, order important: metrics first (everyone registers into it);
 * the artifacts (no point serving without them: a failure is a refusal to
 * start); the data sources; the database writer and pool (PostgreSQL being
 * down is not an error: rows spool, async answers 503); credentials; the
 * front (rate limiter, endpoints, the work pool's threads); the job runner
 * (it computes through featurise); the server last, which binds the ports.
 */
static struct http_server *start(void *arg, char *err, size_t err_len)
{
    struct daemon *d = arg;

    d->metrics = metrics_new("insights_");
    publish_identity(d);
    d->assets = assets_new(&d->cfg, d->metrics);
    if (assets_reload(d->assets, err, err_len) < 0 || start_sources(d, err, err_len) < 0 ||
        start_database(d, err, err_len) < 0 || start_auth(d, err, err_len) < 0 ||
        start_front(d, err, err_len) < 0 || start_runner(d, err, err_len) < 0 ||
        start_server(d, err, err_len) < 0)
        return NULL;
    log_up(d);
    return d->server;
}

/* Reverse order of start(); each step accepts what start() left NULL. */
static void stop(void *arg)
{
    struct daemon *d = arg;

    /* SHUTDOWN_GRACE_MS is over (the server answered what was left 503 draining): calls
     * still queued are dropped, not run, and a call blocked on a slow sms-extraction ends
     * now, so a slow dependency cannot hold the exit (issue 11, item 6) */
    work_pool_drop_queued(d->pool_threads);
    jobs_runner_stop(d->runner);
    extraction_client_cancel(d->extractor);
    work_pool_stop(d->pool_threads);
    http_server_free(d->server);
    work_pool_free(d->pool_threads);
    ratelimit_free(d->ratelimit);
    auth_free(d->auth);
    auth_static_free(d->demo);
    if (d->pool)
        store_pool_free(d->pool);
    store_stop(d->store, d->cfg.service.shutdown_grace_ms);
    mongo_source_free(d->mongo);
    extraction_client_free(d->extractor);
    assets_free(d->assets);
    metrics_free(d->metrics);
    ins_config_free(&d->cfg);
}

static const struct daemon_service_config *load_config(void *arg, char *err, size_t err_len)
{
    struct daemon *d = arg;

    return ins_config_load(&d->cfg, err, err_len) < 0 ? NULL : &d->cfg.service;
}

static int features_docs(void)
{
    struct features_catalogue *c = NULL;
    char err[512];

    if (features_catalogue_load_file(FEATURES_CATALOGUE_DEFAULT_PATH, &c, err, sizeof(err)) < 0) {
        fprintf(stderr, "insights-api: %s\n", err);
        return 1;
    }
    features_write_markdown(c, stdout);
    features_catalogue_free(c);
    return 0;
}

/* insights-api's own flag; -1 when arg is not one. */
static int own_flag(const char *arg)
{
    return strcmp(arg, "--features-docs") == 0 ? features_docs() : -1;
}

int main(int argc, char **argv)
{
    struct daemon d;
    const struct daemon_spec spec = {
        .flags = {.service = INS_SERVICE,
                  .version = INS_VERSION,
                  .config_table = ins_config_table,
                  .config_table_len = ins_config_table_len,
                  .err_sender = ERR_BY_INSIGHTS,
                  .config_size = sizeof(struct ins_config),
                  .http_port_offset = offsetof(struct ins_config, http_port),
                  .default_http_port = 8000},
        .usage = cli_usage,
        .own_flag = own_flag,
        .load_config = load_config,
        .start = start,
        .stop = stop,
        .arg = &d,
    };

    memset(&d, 0, sizeof(d));
    if (argc >= 2 && cli_is_subcommand(argv[1])) {
        log_set_service(INS_SERVICE);
        return cli_main(argc, argv);
    }
    return daemon_main(&spec, argc, argv);
}
