/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP server both daemons run on (contract and DESIGN in http_server.h).
 * Everything a request meets before and after its handler lives here, so the
 * daemons only write handlers: N evhttp loops on one SO_REUSEPORT port,
 * admission (in-flight cap), routing, request ids, one reply path that
 * records metrics and writes one access-log line, probes, an admin loop for
 * /metrics, and a control loop that turns signals into reload and drain.
 *
 * Body size limit, in two tiers. libevent 2.1 gives a server no hook between
 * "headers parsed" and "body read" (evhttp_request_set_header_cb only works on
 * client-side requests; 2.2's evhttp_set_newreqcb is not in Debian 12). So:
 *   - a body up to max_body_bytes reaches its handler;
 *   - a body over max_body_bytes but within the transport cap (4x the limit)
 *     is read, then refused here with our JSON 413 body_too_large, before any
 *     handler sees it, so clients get the documented error;
 *   - past the transport cap evhttp_set_max_body_size() refuses it: a declared
 *     Content-Length is refused before any body byte is read and a chunked
 *     body is cut as soon as it passes the cap; libevent then sends its own
 *     small HTML 413 and closes the connection, and the request never reaches
 *     the access log or the metrics. Memory per connection stays bounded.
 * A body that passes goes through handlers that reply with our JSON.
 */
#include "common/http_server.h"

#include "common/cpu.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY (1u << 20)
#define DEFAULT_MAX_HEADERS (16u << 10)
#define DEFAULT_TIMEOUT_MS 30000
#define MAX_WORKERS 64
#define LISTEN_BACKLOG 1024
#define DRAIN_TICK_MS 10
#define DRAIN_FLUSH_MS 100 /* after the last reply, time for its bytes to leave */
#define REQUEST_ID_MAX 64
#define LOG_INTS_MAX 4
#define RANDOM_POOL 512

struct worker {
    struct http_server *s;
    int index;
    pthread_t thread;
    bool started;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct event *stop_accept_ev;
    void *thread_data;
    struct http_request *live; /* admitted, not yet replied */
    unsigned char pool[RANDOM_POOL];
    size_t pool_used;
};

struct http_request {
    struct evhttp_request *evreq;
    struct worker *w;
    struct http_request *prev, *next;
    int metric_route;
    enum http_method method;
    struct timespec t0;
    const char *path;
    const char *query;
    const char *body;
    size_t body_len;
    bool body_ready;
    char id[REQUEST_ID_MAX + 1];
    int n_log;
    struct {
        const char *key;
        long long value;
    } log[LOG_INTS_MAX];
};

struct http_server {
    struct http_server_config cfg;
    struct http_route *routes;
    int *route_metric;
    size_t n_routes;
    int port, admin_port;
    int metric_health, metric_ready;

    int n_workers;
    struct worker *workers;

    struct event_base *admin_base;
    struct evhttp *admin_http;
    pthread_t admin_thread;
    bool admin_started;

    struct event_base *control_base;
    struct event *stop_ev;
    struct event *drain_timer;
    struct event *sig_ev[3];
    struct timespec drain_start;

    atomic_long in_flight;
    atomic_bool draining;
    bool ran;
};

/* ---------- small helpers ---------- */

static double elapsed_since(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static const char *method_name(enum http_method m)
{
    static const char *const names[] = {"?",    "GET",   "POST",    "PUT",  "DELETE",
                                        "HEAD", "PATCH", "OPTIONS", "OTHER"};

    return (m >= HTTP_METHOD_GET && m <= HTTP_METHOD_OTHER) ? names[m] : "?";
}

static enum http_method method_of(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET:
        return HTTP_METHOD_GET;
    case EVHTTP_REQ_POST:
        return HTTP_METHOD_POST;
    case EVHTTP_REQ_PUT:
        return HTTP_METHOD_PUT;
    case EVHTTP_REQ_DELETE:
        return HTTP_METHOD_DELETE;
    case EVHTTP_REQ_HEAD:
        return HTTP_METHOD_HEAD;
    case EVHTTP_REQ_PATCH:
        return HTTP_METHOD_PATCH;
    case EVHTTP_REQ_OPTIONS:
        return HTTP_METHOD_OPTIONS;
    default:
        return HTTP_METHOD_OTHER;
    }
}

static bool request_id_sane(const char *id)
{
    size_t n = 0;

    if (!id)
        return false;
    for (; id[n]; n++) {
        char c = id[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok || n >= REQUEST_ID_MAX)
            return false;
    }
    return n > 0;
}

/* 32 hex digits, UUIDv4 bit layout, from a per-thread pool refilled with getrandom(2). */
static void request_id_generate(struct worker *w, char out[REQUEST_ID_MAX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];

    if (w->pool_used + sizeof(b) > sizeof(w->pool)) {
        ssize_t got = getrandom(w->pool, sizeof(w->pool), 0);
        if (got != (ssize_t)sizeof(w->pool)) {
            /* never expected after boot; fall back to time + address entropy */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            for (size_t i = 0; i < sizeof(w->pool); i++)
                w->pool[i] ^= (unsigned char)((ts.tv_nsec >> (i % 24)) + i * 131u);
        }
        w->pool_used = 0;
    }
    memcpy(b, w->pool + w->pool_used, sizeof(b));
    w->pool_used += sizeof(b);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    for (size_t i = 0; i < sizeof(b); i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[32] = '\0';
}

/* ---------- the reply path ---------- */

static void ctx_unlink(struct http_request *ctx)
{
    struct worker *w = ctx->w;

    if (ctx->prev)
        ctx->prev->next = ctx->next;
    else
        w->live = ctx->next;
    if (ctx->next)
        ctx->next->prev = ctx->prev;
}

static void access_log(const struct http_request *ctx, int status, size_t bytes_out, double seconds)
{
    struct log_field f[6 + LOG_INTS_MAX];
    size_t n = 0;

    f[n++] = LOG_STR("method", method_name(ctx->method));
    f[n++] = LOG_STR("path", ctx->path);
    f[n++] = LOG_INT("status", status);
    f[n++] = LOG_INT("bytes_in", (long long)ctx->body_len);
    f[n++] = LOG_INT("bytes_out", (long long)bytes_out);
    f[n++] = LOG_DOUBLE("latency_ms", seconds * 1000.0);
    for (int i = 0; i < ctx->n_log; i++)
        f[n++] = LOG_INT(ctx->log[i].key, ctx->log[i].value);
    /* 5xx other than 503 (overload/drain, which could flood) are worth a warning */
    bool warn = status >= 500 && status != 503;
    log_emit(warn ? LOG_LEVEL_WARN : LOG_LEVEL_INFO, ctx->id, "request", f, n);
}

/*
 * The one place a request ends: headers every reply carries, send, metrics,
 * access log, release of the admission slot, free of the context. The body
 * is already in the request's output buffer.
 */
static void finish(struct http_request *ctx, int status, const char *content_type)
{
    struct http_server *s = ctx->w->s;
    struct evkeyvalq *h = evhttp_request_get_output_headers(ctx->evreq);
    size_t bytes_out = evbuffer_get_length(evhttp_request_get_output_buffer(ctx->evreq));
    double seconds;

    if (content_type)
        evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "X-Request-Id", ctx->id);
    if (atomic_load_explicit(&s->draining, memory_order_relaxed))
        evhttp_add_header(h, "Connection", "close");
    evhttp_send_reply(ctx->evreq, status, NULL, NULL);

    seconds = elapsed_since(&ctx->t0);
    metrics_http_observe(s->cfg.metrics, ctx->metric_route, status, seconds);
    metrics_in_flight_add(s->cfg.metrics, -1);
    atomic_fetch_sub_explicit(&s->in_flight, 1, memory_order_relaxed);
    if (s->cfg.access_log)
        access_log(ctx, status, bytes_out, seconds);
    ctx_unlink(ctx);
    free(ctx);
}

static void free_owned(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data);
}

void http_reply_raw(struct http_request *req, int status, const char *content_type,
                    const void *data, size_t len)
{
    if (len)
        evbuffer_add(evhttp_request_get_output_buffer(req->evreq), data, len);
    finish(req, status, content_type);
}

void http_reply_json(struct http_request *req, int status, const char *json, size_t len)
{
    http_reply_raw(req, status, "application/json", json, len);
}

void http_reply_json_owned(struct http_request *req, int status, char *json, size_t len)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req->evreq);

    if (len == 0 || evbuffer_add_reference(out, json, len, free_owned, NULL) < 0) {
        if (len)
            evbuffer_add(out, json, len);
        free(json);
    }
    finish(req, status, "application/json");
}

void http_reply_error(struct http_request *req, enum err e, const char *detail)
{
    struct err_reply r;

    err_reply_render(e, detail, req->id, &r);
    if (r.retry_after) {
        char secs[16];
        int retry = req->w->s->cfg.retry_after_s;

        snprintf(secs, sizeof(secs), "%d", retry > 0 ? retry : 1);
        evhttp_add_header(evhttp_request_get_output_headers(req->evreq), "Retry-After", secs);
    }
    if (strcmp(r.content_type, "application/json") == 0) {
        http_reply_json_owned(req, r.status, r.body, r.len);
        return;
    }
    http_reply_raw(req, r.status, r.content_type, r.body, r.len);
    free(r.body);
}

void http_reply_json_writer(struct http_request *req, int status, struct json_writer *w)
{
    size_t len;
    char *body;

    if (!json_writer_ok(w)) {
        log_error(req->id, "reply serialisation failed", LOG_INT("writer_status", w->status));
        json_writer_reset(w);
        http_reply_error(req, ERR_INTERNAL, NULL);
        return;
    }
    body = json_writer_take(w, &len);
    http_reply_json_owned(req, status, body, len);
}

/* ---------- the handler context ---------- */

enum http_method http_request_method(const struct http_request *req)
{
    return req->method;
}

const char *http_request_path(const struct http_request *req)
{
    return req->path;
}

const char *http_request_query(const struct http_request *req)
{
    return req->query;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req->evreq), name);
}

const char *http_request_id(const struct http_request *req)
{
    return req->id;
}

const char *http_request_peer(const struct http_request *req)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req->evreq);
    char *host = NULL;
    ev_uint16_t port = 0;

    if (!conn)
        return NULL;
    /* evhttp keeps the accepted peer address as a numeric string */
    evhttp_connection_get_peer(conn, &host, &port);
    return host;
}

const char *http_request_body(struct http_request *req, size_t *len)
{
    if (!req->body_ready) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req->evreq);

        req->body_len = evbuffer_get_length(in);
        if (req->body_len == 0 || evbuffer_add(in, "", 1) < 0) {
            req->body = "";
        } else {
            req->body = (const char *)evbuffer_pullup(in, -1);
            if (!req->body) {
                req->body = "";
                req->body_len = 0;
            }
        }
        req->body_ready = true;
    }
    if (len)
        *len = req->body_len;
    return req->body;
}

void *http_request_thread_data(const struct http_request *req)
{
    return req->w->thread_data;
}

int http_request_worker(const struct http_request *req)
{
    return req->w->index;
}

struct event_base *http_request_base(const struct http_request *req)
{
    return req->w->base;
}

double http_request_elapsed(const struct http_request *req)
{
    return elapsed_since(&req->t0);
}

void http_request_set_header(struct http_request *req, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(req->evreq), name, value);
}

void http_request_log_int(struct http_request *req, const char *key, long long value)
{
    if (req->n_log >= LOG_INTS_MAX)
        return;
    req->log[req->n_log].key = key;
    req->log[req->n_log].value = value;
    req->n_log++;
}

/* ---------- routing ---------- */

static bool path_matches(const char *pattern, const char *path)
{
    size_t n = strlen(pattern);

    if (n > 0 && pattern[n - 1] == '*')
        return strncmp(pattern, path, n - 1) == 0;
    return strcmp(pattern, path) == 0;
}

static void reply_health(struct http_request *req)
{
    static const char body[] = "{\"status\":\"ok\"}";

    http_reply_json(req, 200, body, sizeof(body) - 1);
}

static void reply_ready(struct http_request *req)
{
    static const char body[] = "{\"status\":\"ready\"}";
    struct http_server *s = req->w->s;

    if (atomic_load(&s->draining))
        http_reply_error(req, ERR_DRAINING, NULL);
    else if (s->cfg.ready && !s->cfg.ready(s->cfg.ready_arg))
        http_reply_error(req, ERR_NOT_READY, NULL);
    else
        http_reply_json(req, 200, body, sizeof(body) - 1);
}

static void reply_method_not_allowed(struct http_request *req, const char *path)
{
    struct http_server *s = req->w->s;
    char allow[96] = "";
    size_t used = 0;

    for (size_t i = 0; i < s->n_routes; i++) {
        if (!path_matches(s->routes[i].path, path))
            continue;
        int n = snprintf(allow + used, sizeof(allow) - used, "%s%s", used ? ", " : "",
                         method_name(s->routes[i].method));
        if (n < 0 || (size_t)n >= sizeof(allow) - used)
            break;
        used += (size_t)n;
    }
    if (used)
        http_request_set_header(req, "Allow", allow);
    http_reply_error(req, ERR_METHOD_NOT_ALLOWED, NULL);
}

/*
 * Find the route for ctx. Returns it, or NULL with *builtin set (1 health,
 * 2 ready) or *path_known set when another method owns the path.
 */
static const struct http_route *route_find(struct http_server *s, struct http_request *ctx,
                                           int *builtin, bool *path_known)
{
    *builtin = 0;
    *path_known = false;
    if (strcmp(ctx->path, "/health") == 0 || strcmp(ctx->path, "/ready") == 0) {
        bool health = ctx->path[1] == 'h';

        ctx->metric_route = health ? s->metric_health : s->metric_ready;
        if (ctx->method == HTTP_METHOD_GET)
            *builtin = health ? 1 : 2;
        else
            *path_known = true;
        return NULL;
    }
    for (size_t i = 0; i < s->n_routes; i++) {
        if (!path_matches(s->routes[i].path, ctx->path))
            continue;
        ctx->metric_route = s->route_metric[i];
        if (s->routes[i].method == ctx->method)
            return &s->routes[i];
        *path_known = true;
    }
    return NULL;
}

static struct http_request *ctx_new(struct worker *w, struct evhttp_request *evreq)
{
    struct http_request *ctx = calloc(1, sizeof(*ctx));
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(evreq);
    const char *id = evhttp_find_header(evhttp_request_get_input_headers(evreq), "X-Request-Id");

    if (!ctx) {
        fputs("http_server: out of memory\n", stderr);
        abort();
    }
    clock_gettime(CLOCK_MONOTONIC, &ctx->t0);
    ctx->evreq = evreq;
    ctx->w = w;
    ctx->method = method_of(evhttp_request_get_command(evreq));
    ctx->path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!ctx->path || !*ctx->path)
        ctx->path = "/";
    ctx->query = uri ? evhttp_uri_get_query(uri) : NULL;
    ctx->body_len = evbuffer_get_length(evhttp_request_get_input_buffer(evreq));
    if (request_id_sane(id))
        memcpy(ctx->id, id, strlen(id) + 1);
    else
        request_id_generate(w, ctx->id);
    ctx->next = w->live;
    if (w->live)
        w->live->prev = ctx;
    w->live = ctx;
    return ctx;
}

static void on_request(struct evhttp_request *evreq, void *arg)
{
    struct worker *w = arg;
    struct http_server *s = w->s;
    struct http_request *ctx = ctx_new(w, evreq);
    const struct http_route *route;
    int builtin;
    bool path_known;
    long before;

    before = atomic_fetch_add_explicit(&s->in_flight, 1, memory_order_relaxed);
    metrics_in_flight_add(s->cfg.metrics, 1);
    route = route_find(s, ctx, &builtin, &path_known);
    if (builtin == 1) {
        reply_health(ctx);
    } else if (builtin == 2) {
        reply_ready(ctx);
    } else if (!route && path_known) {
        reply_method_not_allowed(ctx, ctx->path);
    } else if (!route && s->cfg.not_found) {
        s->cfg.not_found(ctx, s->cfg.not_found_arg);
    } else if (!route) {
        http_reply_error(ctx, ERR_NOT_FOUND, NULL);
    } else if (s->cfg.max_in_flight > 0 && before >= s->cfg.max_in_flight) {
        http_reply_error(ctx, ERR_OVERLOADED, NULL);
    } else if (ctx->body_len > s->cfg.max_body_bytes) {
        http_reply_error(ctx, ERR_BODY_TOO_LARGE, NULL);
    } else {
        route->handler(ctx, route->arg);
    }
}

/* ---------- admin port ---------- */

static void on_admin_request(struct evhttp_request *evreq, void *arg)
{
    struct http_server *s = arg;
    const char *uri = evhttp_request_get_uri(evreq);
    struct evkeyvalq *h = evhttp_request_get_output_headers(evreq);
    struct evbuffer *out = evhttp_request_get_output_buffer(evreq);
    size_t qlen = strcspn(uri, "?");

    if (qlen == strlen("/metrics") && strncmp(uri, "/metrics", qlen) == 0 &&
        evhttp_request_get_command(evreq) == EVHTTP_REQ_GET) {
        size_t len = 0;
        char *text = s->cfg.metrics ? metrics_render(s->cfg.metrics, &len) : NULL;

        if (!text || evbuffer_add_reference(out, text, len, free_owned, NULL) < 0)
            free(text);
        evhttp_add_header(h, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        evhttp_send_reply(evreq, 200, NULL, NULL);
        return;
    }
    if (qlen == strlen("/health") && strncmp(uri, "/health", qlen) == 0) {
        evbuffer_add(out, "{\"status\":\"ok\"}", 15);
        evhttp_add_header(h, "Content-Type", "application/json");
        evhttp_send_reply(evreq, 200, NULL, NULL);
        return;
    }
    evbuffer_add_printf(out, "{\"detail\":\"%s\",\"code\":\"%s\"}", err_message(ERR_NOT_FOUND),
                        err_code(ERR_NOT_FOUND));
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_send_reply(evreq, err_http_status(ERR_NOT_FOUND), NULL, NULL);
}

static void *admin_main(void *arg)
{
    struct http_server *s = arg;

    event_base_loop(s->admin_base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

/* ---------- workers ---------- */

static void on_stop_accept(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;

    (void)fd;
    (void)what;
    if (w->bound) {
        evhttp_del_accept_socket(w->http, w->bound);
        w->bound = NULL;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const struct http_server_config *cfg = &w->s->cfg;

    if (cfg->thread_init)
        w->thread_data = cfg->thread_init(w->index, cfg->thread_arg);
    event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
    if (cfg->thread_done)
        cfg->thread_done(w->index, w->thread_data, cfg->thread_arg);
    /* Deferred requests never replied: their evhttp requests go with evhttp_free(). */
    while (w->live) {
        struct http_request *ctx = w->live;

        w->live = ctx->next;
        atomic_fetch_sub(&w->s->in_flight, 1);
        metrics_in_flight_add(cfg->metrics, -1);
        free(ctx);
    }
    return NULL;
}

/* ---------- sockets ---------- */

static int listen_on(const char *addr, int port, bool reuseport, char *err, size_t err_len)
{
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM,
                             .ai_family = AF_UNSPEC};
    struct addrinfo *res = NULL;
    char service[16];
    int fd = -1, one = 1, rc;

    snprintf(service, sizeof(service), "%d", port);
    rc = getaddrinfo(addr, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_len, "bind address '%s': %s", addr, gai_strerror(rc));
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        goto fail;
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
        goto fail;
    /* Accepted sockets inherit TCP_NODELAY on Linux. Without it, Nagle holds the
     * short tail of a reply written in several chunks until the peer's delayed
     * ACK, up to 40 ms per reply. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
        goto fail;
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
        goto fail;
    freeaddrinfo(res);
    return fd;
fail:
    snprintf(err, err_len, "listen on %s:%d: %s", addr, port, strerror(errno));
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return -1;
}

/*
 * SO_REUSEPORT would let a second process (same user) silently share a fixed
 * port with us. A socket without it cannot bind a port held by reuseport
 * sockets, so a throwaway bind first turns that mistake into "in use".
 */
static int port_free(const char *addr, int port, char *err, size_t err_len)
{
    int fd = listen_on(addr, port, false, err, err_len);

    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

/* The hard cap evhttp enforces; between max_body_bytes and this we answer in JSON. */
static size_t transport_body_cap(size_t max_body_bytes)
{
    if (max_body_bytes > SIZE_MAX / 4)
        return SIZE_MAX / 4;
    return max_body_bytes * 4;
}

static void configure_evhttp(struct evhttp *http, const struct http_server_config *cfg)
{
    struct timeval tv = {.tv_sec = cfg->request_timeout_ms / 1000,
                         .tv_usec = (cfg->request_timeout_ms % 1000) * 1000};

    evhttp_set_timeout_tv(http, &tv);
    evhttp_set_max_headers_size(http, (ev_ssize_t)cfg->max_headers_bytes);
    evhttp_set_max_body_size(http, (ev_ssize_t)transport_body_cap(cfg->max_body_bytes));
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                         EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH |
                                         EVHTTP_REQ_OPTIONS);
}

static int worker_setup(struct http_server *s, struct worker *w, int index, char *err,
                        size_t err_len)
{
    const char *addr = s->cfg.bind_addr;
    int fd;

    w->s = s;
    w->index = index;
    w->pool_used = RANDOM_POOL; /* empty: first id refills it */
    w->base = event_base_new();
    w->http = w->base ? evhttp_new(w->base) : NULL;
    if (!w->http) {
        snprintf(err, err_len, "worker %d: cannot create event loop", index);
        return -1;
    }
    configure_evhttp(w->http, &s->cfg);
    evhttp_set_gencb(w->http, on_request, w);
    w->stop_accept_ev = event_new(w->base, -1, 0, on_stop_accept, w);
    fd = listen_on(addr, s->port, true, err, err_len);
    if (fd < 0)
        return -1;
    if (s->port == 0)
        s->port = bound_port(fd);
    w->bound = evhttp_accept_socket_with_handle(w->http, fd);
    if (!w->bound || !w->stop_accept_ev) {
        close(fd);
        snprintf(err, err_len, "worker %d: cannot accept on port %d", index, s->port);
        return -1;
    }
    return 0;
}

static int admin_setup(struct http_server *s, char *err, size_t err_len)
{
    const char *addr = s->cfg.admin_bind_addr;
    int fd;

    if (s->cfg.admin_port < 0) {
        s->admin_port = -1;
        return 0;
    }
    s->admin_base = event_base_new();
    s->admin_http = s->admin_base ? evhttp_new(s->admin_base) : NULL;
    if (!s->admin_http) {
        snprintf(err, err_len, "admin: cannot create event loop");
        return -1;
    }
    configure_evhttp(s->admin_http, &s->cfg);
    evhttp_set_gencb(s->admin_http, on_admin_request, s);
    fd = listen_on(addr, s->cfg.admin_port, false, err, err_len);
    if (fd < 0)
        return -1;
    s->admin_port = bound_port(fd);
    if (evhttp_accept_socket(s->admin_http, fd) < 0) {
        close(fd);
        snprintf(err, err_len, "admin: cannot accept on port %d", s->admin_port);
        return -1;
    }
    return 0;
}

/* ---------- control loop: signals, reload, drain ---------- */

static void stop_loops(struct http_server *s)
{
    for (int i = 0; i < s->n_workers; i++)
        event_base_loopexit(s->workers[i].base, NULL);
    if (s->admin_base)
        event_base_loopexit(s->admin_base, NULL);
    event_base_loopexit(s->control_base, NULL);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    struct http_server *s = arg;
    long left = atomic_load(&s->in_flight);
    double waited = elapsed_since(&s->drain_start);

    (void)fd;
    (void)what;
    if (left > 0 && waited * 1000.0 < (double)s->cfg.shutdown_grace_ms)
        return;
    event_del(s->drain_timer);
    if (left > 0)
        log_warn(NULL, "drain grace expired", LOG_INT("in_flight", left),
                 LOG_INT("grace_ms", s->cfg.shutdown_grace_ms));
    else
        log_info(NULL, "drained", LOG_DOUBLE("drain_ms", waited * 1000.0));
    /* Let the last replies' bytes leave before the loops stop. */
    struct timeval flush = {0, DRAIN_FLUSH_MS * 1000};
    for (int i = 0; i < s->n_workers; i++)
        event_base_loopexit(s->workers[i].base, &flush);
    if (s->admin_base)
        event_base_loopexit(s->admin_base, NULL);
    event_base_loopexit(s->control_base, &flush);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct http_server *s = arg;
    struct timeval tick = {0, DRAIN_TICK_MS * 1000};

    (void)fd;
    (void)what;
    if (atomic_exchange(&s->draining, true))
        return; /* already draining */
    clock_gettime(CLOCK_MONOTONIC, &s->drain_start);
    log_info(NULL, "draining", LOG_INT("in_flight", atomic_load(&s->in_flight)),
             LOG_INT("grace_ms", s->cfg.shutdown_grace_ms));
    for (int i = 0; i < s->n_workers; i++)
        event_active(s->workers[i].stop_accept_ev, EV_TIMEOUT, 0);
    event_add(s->drain_timer, &tick);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct http_server *s = arg;

    (void)what;
    if (sig == SIGHUP) {
        log_info(NULL, "reload requested");
        if (s->cfg.reload)
            s->cfg.reload(s->cfg.reload_arg);
        return;
    }
    log_info(NULL, "stop requested", LOG_STR("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
    http_server_stop(s);
}

static int control_setup(struct http_server *s, char *err, size_t err_len)
{
    s->control_base = event_base_new();
    if (!s->control_base) {
        snprintf(err, err_len, "control: cannot create event loop");
        return -1;
    }
    s->stop_ev = event_new(s->control_base, -1, 0, on_stop, s);
    s->drain_timer = event_new(s->control_base, -1, EV_PERSIST, on_drain_tick, s);
    if (!s->stop_ev || !s->drain_timer) {
        snprintf(err, err_len, "control: cannot create events");
        return -1;
    }
    return 0;
}

static int signals_setup(struct http_server *s)
{
    static const int sigs[3] = {SIGTERM, SIGINT, SIGHUP};

    for (int i = 0; i < 3; i++) {
        s->sig_ev[i] = evsignal_new(s->control_base, sigs[i], on_signal, s);
        if (!s->sig_ev[i] || event_add(s->sig_ev[i], NULL) < 0)
            return -1;
    }
    return 0;
}

/* ---------- lifecycle ---------- */

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;
static int threads_rc;

static void threads_init(void)
{
    threads_rc = evthread_use_pthreads();
}

static void apply_defaults(struct http_server_config *c)
{
    if (!c->bind_addr || !*c->bind_addr)
        c->bind_addr = "0.0.0.0";
    if (!c->admin_bind_addr || !*c->admin_bind_addr)
        c->admin_bind_addr = c->bind_addr;
    if (!c->service)
        c->service = "http";
    if (c->max_body_bytes == 0)
        c->max_body_bytes = DEFAULT_MAX_BODY;
    if (c->max_headers_bytes == 0)
        c->max_headers_bytes = DEFAULT_MAX_HEADERS;
    if (c->request_timeout_ms <= 0)
        c->request_timeout_ms = DEFAULT_TIMEOUT_MS;
    if (c->shutdown_grace_ms < 0)
        c->shutdown_grace_ms = 0;
    if (c->worker_threads <= 0)
        c->worker_threads = cpu_available();
    if (c->worker_threads > MAX_WORKERS)
        c->worker_threads = MAX_WORKERS;
}

static int routes_setup(struct http_server *s, const struct http_route *routes, size_t n, char *err,
                        size_t err_len)
{
    s->routes = calloc(n ? n : 1, sizeof(*s->routes));
    s->route_metric = calloc(n ? n : 1, sizeof(*s->route_metric));
    if (!s->routes || !s->route_metric) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!routes[i].path || routes[i].path[0] != '/' || !routes[i].handler) {
            snprintf(err, err_len, "route %zu: path must start with '/' and have a handler", i);
            return -1;
        }
        s->routes[i] = routes[i];
        s->route_metric[i] = metrics_route_id(s->cfg.metrics, routes[i].path);
    }
    s->n_routes = n;
    s->metric_health = metrics_route_id(s->cfg.metrics, "/health");
    s->metric_ready = metrics_route_id(s->cfg.metrics, "/ready");
    return 0;
}

struct http_server *http_server_new(const struct http_server_config *cfg,
                                    const struct http_route *routes, size_t n_routes, char *err,
                                    size_t err_len)
{
    struct http_server *s = NULL;

    pthread_once(&threads_once, threads_init);
    if (threads_rc != 0) {
        snprintf(err, err_len, "libevent: threading support unavailable");
        return NULL;
    }
    signal(SIGPIPE, SIG_IGN);
    if (cfg->port < 0 || cfg->port > 65535 || cfg->admin_port > 65535) {
        snprintf(err, err_len, "port out of range");
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    apply_defaults(&s->cfg);
    s->port = cfg->port;
    if (routes_setup(s, routes, n_routes, err, err_len) < 0 || control_setup(s, err, err_len) < 0)
        goto fail;
    if (s->port != 0 && port_free(s->cfg.bind_addr, s->port, err, err_len) < 0)
        goto fail;
    s->workers = calloc((size_t)s->cfg.worker_threads, sizeof(*s->workers));
    if (!s->workers) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    for (int i = 0; i < s->cfg.worker_threads; i++) {
        s->n_workers = i + 1;
        if (worker_setup(s, &s->workers[i], i, err, err_len) < 0)
            goto fail;
    }
    if (admin_setup(s, err, err_len) < 0)
        goto fail;
    return s;
fail:
    http_server_free(s);
    return NULL;
}

int http_server_port(const struct http_server *s)
{
    return s->port;
}

int http_server_admin_port(const struct http_server *s)
{
    return s->admin_port;
}

int http_server_workers(const struct http_server *s)
{
    return s->n_workers;
}

bool http_server_draining(const struct http_server *s)
{
    return atomic_load(&((struct http_server *)s)->draining);
}

void http_server_stop(struct http_server *s)
{
    event_active(s->stop_ev, EV_TIMEOUT, 0);
}

static int start_threads(struct http_server *s, char *err, size_t err_len)
{
    for (int i = 0; i < s->n_workers; i++) {
        struct worker *w = &s->workers[i];
        int rc = pthread_create(&w->thread, NULL, worker_main, w);

        if (rc != 0) {
            snprintf(err, err_len, "worker %d: pthread_create: %s", i, strerror(rc));
            return -1;
        }
        w->started = true;
    }
    if (s->admin_base) {
        int rc = pthread_create(&s->admin_thread, NULL, admin_main, s);

        if (rc != 0) {
            snprintf(err, err_len, "admin: pthread_create: %s", strerror(rc));
            return -1;
        }
        s->admin_started = true;
    }
    return 0;
}

static void join_threads(struct http_server *s)
{
    for (int i = 0; i < s->n_workers; i++) {
        if (s->workers[i].started)
            pthread_join(s->workers[i].thread, NULL);
        s->workers[i].started = false;
    }
    if (s->admin_started)
        pthread_join(s->admin_thread, NULL);
    s->admin_started = false;
}

int http_server_run(struct http_server *s, char *err, size_t err_len)
{
    int result = -1;

    if (s->ran) {
        snprintf(err, err_len, "http_server_run called twice");
        return -1;
    }
    s->ran = true;
    if (s->cfg.handle_signals && signals_setup(s) < 0) {
        snprintf(err, err_len, "cannot install signal handlers");
        return -1;
    }
    if (start_threads(s, err, err_len) < 0) {
        stop_loops(s);
        goto out;
    }
    log_info(NULL, "listening", LOG_STR("service", s->cfg.service), LOG_INT("port", s->port),
             LOG_INT("admin_port", s->admin_port), LOG_INT("workers", s->n_workers));
    event_base_loop(s->control_base, EVLOOP_NO_EXIT_ON_EMPTY);
    result = 0;
out:
    join_threads(s);
    log_info(NULL, "stopped", LOG_STR("service", s->cfg.service));
    return result;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    if (s->control_base)
        stop_loops(s);
    join_threads(s);
    for (int i = 0; i < s->n_workers; i++) {
        struct worker *w = &s->workers[i];

        if (w->stop_accept_ev)
            event_free(w->stop_accept_ev);
        if (w->http)
            evhttp_free(w->http);
        if (w->base)
            event_base_free(w->base);
    }
    free(s->workers);
    if (s->admin_http)
        evhttp_free(s->admin_http);
    if (s->admin_base)
        event_base_free(s->admin_base);
    for (int i = 0; i < 3; i++)
        if (s->sig_ev[i])
            event_free(s->sig_ev[i]);
    if (s->stop_ev)
        event_free(s->stop_ev);
    if (s->drain_timer)
        event_free(s->drain_timer);
    if (s->control_base)
        event_base_free(s->control_base);
    free(s->routes);
    free(s->route_metric);
    free(s);
}

/* ---------- --healthcheck ---------- */

static int connect_timeout(const char *host, int port, int timeout_ms)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char service[16];
    int fd = -1;

    snprintf(service, sizeof(service), "%d", port);
    if (getaddrinfo(host, service, &hints, &res) != 0)
        return -1;
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int so_err = 0;
    socklen_t len = sizeof(so_err);
    if (poll(&p, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_err, &len) < 0 ||
        so_err != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int http_server_healthcheck(const char *host, int port, long timeout_ms)
{
    static const char req[] =
        "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    char buf[64];
    size_t got = 0;
    int fd, tmo = timeout_ms > 0 ? (int)timeout_ms : 2000;

    fd = connect_timeout(host && *host ? host : "127.0.0.1", port, tmo);
    if (fd < 0)
        return -1;
    if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1))
        goto fail;
    while (got < 12) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, tmo) != 1)
            goto fail;
        ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (n <= 0)
            goto fail;
        got += (size_t)n;
    }
    buf[got] = '\0';
    close(fd);
    return strncmp(buf, "HTTP/1.1 200", 12) == 0 || strncmp(buf, "HTTP/1.0 200", 12) == 0 ? 0 : -1;
fail:
    close(fd);
    return -1;
}
