/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What both daemons are, besides their work: the service settings every
 * daemon reads (one set of configuration rows, included in each daemon's
 * table), the HTTP server configuration made from them, and the run
 * sequence of a daemon's main(): tune malloc, read the configuration, set
 * the log level, start the subsystems, serve until SIGTERM, say "down",
 * stop the subsystems. A daemon supplies its start/stop (the order of its
 * subsystems is its own business) through struct daemon_spec; common knows
 * no daemon's config struct, only where the service settings sit in it.
 */
#ifndef COMMON_DAEMON_H
#define COMMON_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/config.h"
#include "common/daemon_flags.h"
#include "common/http_server.h"

/* The settings of daemon_service_rows (each daemon embeds one). */
struct daemon_service_config {
    char *http_bind;
    long worker_threads; /* 0 = cpu_available() */
    long max_body_bytes;
    long request_timeout_ms;
    long max_in_flight;
    long shutdown_grace_ms;
    long head_timeout_ms;        /* REQUEST_HEAD_TIMEOUT_MS */
    long max_connections;        /* 0 = from the open-file limit */
    long max_connections_per_ip; /* 0 = no cap */
    long max_buffered_bytes;     /* 0 = the larger of 64 MiB and max_body_bytes */
    long malloc_arenas;          /* M_ARENA_MAX; 0 = glibc's default */
    int log_level;               /* enum log_level */
    char *launch_environment;
};

/* HTTP_BIND, WORKER_THREADS, MAX_BODY_BYTES, REQUEST_TIMEOUT_MS, MAX_IN_FLIGHT,
 * SHUTDOWN_GRACE_MS, REQUEST_HEAD_TIMEOUT_MS, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_IP,
 * MAX_BUFFERED_BYTES, MALLOC_ARENAS, LOG_LEVEL, LAUNCH_ENVIRONMENT: include with CONFIG_INCLUDE. */
extern const struct config_var daemon_service_rows[];

/* MALLOC_ARENAS: caps glibc's arenas (threads created later share them); 0 leaves glibc's. */
void daemon_limit_arenas(const struct daemon_service_config *s);

/* LAUNCH_ENVIRONMENT is prod (or production): unsealed artifacts are refused. */
bool daemon_is_prod(const struct daemon_service_config *s);

/*
 * The HTTP server configuration of a daemon named service on its ports, from
 * its service settings (bind, threads, limits, grace, connection caps, memory
 * budget; JSON bodies, signals handled, access log on), counting into
 * metrics. The caller adds trusted proxies and its hooks.
 */
struct http_server_config daemon_http_config(const struct daemon_service_config *s,
                                             const char *service, long port, long admin_port,
                                             struct metrics *metrics);

struct daemon_spec {
    struct daemon_flags flags; /* the shared flags: name, version, tables, port */
    void (*usage)(FILE *out);
    int (*own_flag)(const char *arg); /* a flag of this daemon's, or -1; may be NULL */
    /* Read the daemon's configuration (its table and its cross-checks): its service
     * settings, or NULL with err set. */
    const struct daemon_service_config *(*load_config)(void *arg, char *err, size_t err_len);
    /* Start the subsystems in order: the server to run, or NULL with err set (stop still runs). */
    struct http_server *(*start)(void *arg, char *err, size_t err_len);
    /* Stop everything in reverse; accepts whatever start() left NULL. Frees the config. */
    void (*stop)(void *arg);
    void *arg;
};

/* The service settings' cross-checks: ADMIN_PORT must differ from HTTP_PORT (0 = any free
 * port is fine), MAX_BUFFERED_BYTES is 0 or more than MAX_BODY_BYTES. -1 with err set. */
int daemon_check_service(const struct daemon_service_config *s, long http_port, long admin_port,
                         char *err, size_t err_len);

/* The run sequence above. Returns the process exit status (0 after a clean stop). */
int daemon_run(const struct daemon_spec *d);

/*
 * A daemon's main(): with one argument, a shared flag (daemon_flags.h), else
 * the daemon's own, else usage (exit 2; --help: 0); more arguments are
 * usage; none is daemon_run(). Returns the process exit status.
 */
int daemon_main(const struct daemon_spec *d, int argc, char **argv);

#endif
