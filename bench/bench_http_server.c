/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Throughput of the HTTP framework itself: the server from common/http_server
 * in-process on port 0 with ONE worker thread and a trivial JSON route (built
 * with json_writer, as real handlers do), loaded by wrk (-t1 -c16) for a few
 * seconds, once without and once with the access log (written to /dev/null,
 * so the cost measured is formatting plus one write per request). Prints
 * wrk's requests/s and average latency per run. Skips when wrk is absent.
 */
#include "common/http_server.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/metrics.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BENCH_SECONDS 4

static void handle_hello(struct http_request *req, void *arg)
{
    struct json_writer w;

    (void)arg;
    json_writer_init(&w, 4096);
    json_writer_object_begin(&w);
    json_writer_kv_string(&w, "status", "ok");
    json_writer_kv_int(&w, "worker", http_request_worker(req));
    json_writer_object_end(&w);
    http_reply_json_writer(req, 200, &w);
    json_writer_free(&w);
}

static void *run(void *arg)
{
    char err[256];

    if (http_server_run(arg, err, sizeof(err)) < 0)
        fprintf(stderr, "bench: %s\n", err);
    return NULL;
}

static int wrk_run(int port, const char *label)
{
    char cmd[256], line[256];
    FILE *p;

    snprintf(cmd, sizeof(cmd), "wrk -t1 -c16 -d%ds http://127.0.0.1:%d/hello 2>&1", BENCH_SECONDS,
             port);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    while (fgets(line, sizeof(line), p)) {
        if (strstr(line, "Requests/sec:") || strstr(line, "Latency") || strstr(line, "Non-2xx") ||
            strstr(line, "Socket errors"))
            printf("bench_http_server %-14s %s", label, line);
    }
    return pclose(p) == 0 ? 0 : -1;
}

static int bench_once(bool access_log, const char *label)
{
    static const struct http_route routes[] = {{HTTP_METHOD_GET, "/hello", handle_hello, NULL}};
    struct metrics *m = metrics_new("bench_");
    struct http_server_config cfg = {
        .service = "bench",
        .bind_addr = "127.0.0.1",
        .admin_port = -1,
        .worker_threads = 1,
        .shutdown_grace_ms = 1000,
        .access_log = access_log,
        .metrics = m,
    };
    char err[256];
    pthread_t t;
    int rc;
    struct http_server *s = http_server_new(&cfg, routes, 1, err, sizeof(err));

    if (!s) {
        fprintf(stderr, "bench: %s\n", err);
        metrics_free(m);
        return -1;
    }
    pthread_create(&t, NULL, run, s);
    rc = wrk_run(http_server_port(s), label);
    http_server_stop(s);
    pthread_join(t, NULL);
    http_server_free(s);
    metrics_free(m);
    return rc;
}

int main(void)
{
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int rc = 0;

    if (system("command -v wrk >/dev/null 2>&1") != 0) {
        printf("bench_http_server SKIP: wrk not installed\n");
        return 0;
    }
    log_set_fd(devnull);
    rc |= bench_once(false, "no-access-log");
    rc |= bench_once(true, "access-log");
    close(devnull);
    return rc ? 1 : 0;
}
