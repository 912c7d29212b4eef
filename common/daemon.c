/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The part of a daemon that is the same for both (see daemon.h): the
 * service rows of the configuration and the run sequence, with the three
 * log lines an operator reads when a daemon will not start or stops.
 */
#include "common/daemon.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"

#define ROW(name, type, def, doc, field, min, max)                                                 \
    {                                                                                              \
        name, type, def, 0, doc, offsetof(struct daemon_service_config, field), min, max, NULL,    \
            NULL                                                                                   \
    }

const struct config_var daemon_service_rows[] = {
    ROW("HTTP_BIND", CONFIG_STRING, "0.0.0.0", "address both ports bind to", http_bind, 0, 0),
    ROW("WORKER_THREADS", CONFIG_INT, "0", "event-loop threads (0 = from the cgroup CPU quota)",
        worker_threads, 0, 256),
    ROW("MAX_BODY_BYTES", CONFIG_INT, "16777216", "largest request body accepted (413 above)",
        max_body_bytes, 1024, 1073741824),
    ROW("REQUEST_TIMEOUT_MS", CONFIG_INT, "30000",
        "time allowed to read a request and send its reply", request_timeout_ms, 100, 600000),
    ROW("MAX_IN_FLIGHT", CONFIG_INT, "256", "requests admitted at once; more get 503 overloaded",
        max_in_flight, 1, 100000),
    ROW("SHUTDOWN_GRACE_MS", CONFIG_INT, "10000",
        "on SIGTERM, time given to in-flight requests to finish", shutdown_grace_ms, 0, 600000),
    ROW("REQUEST_HEAD_TIMEOUT_MS", CONFIG_INT, "10000",
        "deadline for a whole request head from its first byte; slower clients get 408",
        head_timeout_ms, 100, 600000),
    ROW("MAX_CONNECTIONS", CONFIG_INT, "0",
        "open client connections; at the cap accept pauses "
        "(0 = the open-file limit - 128, at most 10000)",
        max_connections, 0, 1000000),
    ROW("MAX_CONNECTIONS_PER_IP", CONFIG_INT, "0",
        "open connections from one address (0 = no cap; TRUSTED_PROXY_CIDRS are exempt)",
        max_connections_per_ip, 0, 1000000),
    ROW("MAX_BUFFERED_BYTES", CONFIG_INT, "0",
        "request bodies and unsent replies held in memory, all connections together; "
        "past it new requests get 503 "
        "(0 = the larger of 64 MiB and MAX_BODY_BYTES)",
        max_buffered_bytes, 0, 68719476736),
    ROW("MALLOC_ARENAS", CONFIG_INT, "1",
        "glibc malloc arenas all threads share; only the first gives its free memory back "
        "to the OS after a burst (0 = glibc's default, 8 per CPU)",
        malloc_arenas, 0, 1024),
    {"LOG_LEVEL", CONFIG_ENUM, "info", 0, "least severe level logged",
     offsetof(struct daemon_service_config, log_level), 0, 0, "debug|info|warn|error", NULL},
    ROW("LAUNCH_ENVIRONMENT", CONFIG_STRING, "dev",
        "dev, staging, testing or prod (prod refuses unsealed artifacts, and insights-api demo "
        "clients)",
        launch_environment, 0, 0),
    {NULL, CONFIG_STRING, NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

bool daemon_is_prod(const struct daemon_service_config *s)
{
    return s->launch_environment && (strcasecmp(s->launch_environment, "prod") == 0 ||
                                     strcasecmp(s->launch_environment, "production") == 0);
}

struct http_server_config daemon_http_config(const struct daemon_service_config *s,
                                             const char *service, long port, long admin_port,
                                             struct metrics *metrics)
{
    return (struct http_server_config){
        .service = service,
        .port = (int)port,
        .admin_port = (int)admin_port,
        .metrics = metrics,
        .bind_addr = s->http_bind,
        .worker_threads = (int)s->worker_threads,
        .max_body_bytes = (size_t)s->max_body_bytes,
        .request_timeout_ms = s->request_timeout_ms,
        .max_in_flight = s->max_in_flight,
        .shutdown_grace_ms = s->shutdown_grace_ms,
        .head_timeout_ms = s->head_timeout_ms,
        .max_connections = s->max_connections,
        .max_connections_per_ip = s->max_connections_per_ip,
        .max_buffered_bytes = (size_t)s->max_buffered_bytes,
        .json_bodies = true,
        .handle_signals = true,
        .access_log = true,
    };
}

/*
 * Every request allocates and frees buffers of hundreds of KiB to a few MiB
 * (bodies, replies, a user's extraction replies). glibc would serve those
 * with mmap or hand freed heap back to the kernel, so each request paid its
 * page faults again; keeping them in the heap makes the memory reused. The
 * caps in the configuration still bound how much.
 */
static void tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

/*
 * malloc_trim (after a burst: common/work_pool.c, common/http_conn.c) returns
 * the free pages inside every arena, but the free space at the top of a
 * thread's arena only goes back when a free() there finds it above the trim
 * threshold, which tune_malloc sets out of reach. So each extra arena keeps
 * the peak of the threads that used it: insights-api's pipeline threads kept
 * 35-50 MiB after a 30 s burst (issue 11). With one arena (the default) the
 * trim returns it all. daemon_run sets it before the subsystems start their
 * threads (arenas already made stay).
 */
void daemon_limit_arenas(const struct daemon_service_config *s)
{
    if (s->malloc_arenas > 0)
        mallopt(M_ARENA_MAX, (int)s->malloc_arenas);
}

int daemon_check_service(const struct daemon_service_config *s, long http_port, long admin_port,
                         char *err, size_t err_len)
{
    if (http_port != 0 && http_port == admin_port) {
        snprintf(err, err_len, "ADMIN_PORT: must differ from HTTP_PORT (%ld)", http_port);
        return -1;
    }
    if (s->max_buffered_bytes != 0 && s->max_buffered_bytes <= s->max_body_bytes) {
        snprintf(err, err_len, "MAX_BUFFERED_BYTES: must be 0 or more than MAX_BODY_BYTES (%ld)",
                 s->max_body_bytes);
        return -1;
    }
    return 0;
}

int daemon_run(const struct daemon_spec *d)
{
    const struct daemon_service_config *service;
    struct http_server *server;
    char err[1024];
    int rc = 1;

    tune_malloc();
    if (!(service = d->load_config(d->arg, err, sizeof(err)))) {
        log_error(NULL, "invalid configuration", LOG_STR("error", err));
        goto out;
    }
    log_set_level((enum log_level)service->log_level);
    daemon_limit_arenas(service);
    if (!(server = d->start(d->arg, err, sizeof(err)))) {
        log_error(NULL, "start-up failed", LOG_STR("error", err));
        goto out;
    }
    if (http_server_run(server, err, sizeof(err)) < 0) {
        log_error(NULL, "server failed", LOG_STR("error", err));
        goto out;
    }
    log_info(NULL, "down");
    rc = 0;
out:
    d->stop(d->arg);
    return rc;
}

int daemon_main(const struct daemon_spec *d, int argc, char **argv)
{
    bool help;
    int rc;

    log_set_service(d->flags.service);
    if (argc == 1)
        return daemon_run(d);
    help = argc == 2 && strcmp(argv[1], "--help") == 0;
    if (argc == 2 && (rc = daemon_flags_run(&d->flags, argv[1])) >= 0)
        return rc;
    if (argc == 2 && d->own_flag && (rc = d->own_flag(argv[1])) >= 0)
        return rc;
    d->usage(help ? stdout : stderr);
    return help ? 0 : 2;
}
