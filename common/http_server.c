/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP server both daemons run on (contract and DESIGN in http_server.h).
 * Everything a request meets before and after its handler lives here, so the
 * daemons only write handlers: N loops on one SO_REUSEPORT port, routing and
 * the decisions taken from the head (404/405/415/413/503, the head callback),
 * request ids, one reply path that records metrics and writes one
 * access-log line, probes, an admin loop for /metrics, and a control loop
 * that turns signals into reload and drain. What a connection may cost
 * (accept, the memory budget, deadlines, reading and writing bytes) is
 * http_conn.c's; parsing is http_parse.c's.
 */
#include "common/http_internal.h"

#include "common/cpu.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY (1u << 20)
#define DEFAULT_MAX_HEADERS (16u << 10)
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_HEAD_TIMEOUT_MS 10000
#define DEFAULT_MAX_BUFFERED ((size_t)64 << 20)
#define MAX_WORKERS 64
#define LISTEN_BACKLOG 1024
#define DRAIN_TICK_MS 10
#define DRAIN_FLUSH_MS 100 /* after the last reply, time for its bytes to leave */
#define TRIM_TICK_MS 1000
#define REQUEST_ID_MAX HTTP_REQUEST_ID_MAX
#define RANDOM_POOL HTTP_RANDOM_POOL

/* ---------- small helpers ---------- */

static void oom(void)
{
    fputs("http_server: out of memory\n", stderr);
    abort();
}

double http_now(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

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

/* Methods are case-sensitive (RFC 9110 9.1): "get" is some other method. */
static enum http_method method_of(const char *m)
{
    static const struct {
        const char *name;
        enum http_method method;
    } known[] = {
        {"GET", HTTP_METHOD_GET},         {"POST", HTTP_METHOD_POST}, {"PUT", HTTP_METHOD_PUT},
        {"DELETE", HTTP_METHOD_DELETE},   {"HEAD", HTTP_METHOD_HEAD}, {"PATCH", HTTP_METHOD_PATCH},
        {"OPTIONS", HTTP_METHOD_OPTIONS},
    };

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(m, known[i].name) == 0)
            return known[i].method;
    return HTTP_METHOD_OTHER;
}

static const char *reason_phrase(int status)
{
    static const struct {
        int status;
        const char *text;
    } reasons[] = {
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {204, "No Content"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {413, "Content Too Large"},
        {415, "Unsupported Media Type"},
        {417, "Expectation Failed"},
        {422, "Unprocessable Content"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
    };

    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return "Status";
}

/* RFC 9110 date, recomputed once a second per loop. */
static const char *http_date(struct worker *w)
{
    time_t now = time(NULL);

    if (now != w->date_at) {
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        w->date_at = now;
    }
    return w->date;
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
    ctx->prev = ctx->next = NULL;
}

static void request_free(struct http_request *ctx)
{
    http_budget_release(ctx->w->s, ctx);
    ctx_unlink(ctx);
    for (int i = 0; i < ctx->n_out; i++) {
        free(ctx->out[i].name);
        free(ctx->out[i].value);
    }
    free(ctx->head_buf);
    free(ctx->body);
    free(ctx);
}

static void access_log(const struct http_request *ctx, int status, size_t bytes_out, double seconds)
{
    struct log_field f[7 + HTTP_LOG_INTS_MAX];
    size_t n = 0;

    f[n++] = LOG_STR("method", method_name(ctx->method));
    f[n++] = LOG_STR("path", ctx->path);
    f[n++] = LOG_INT("status", status);
    f[n++] = LOG_INT("bytes_in", (long long)ctx->body_len);
    f[n++] = LOG_INT("bytes_out", (long long)bytes_out);
    f[n++] = LOG_DOUBLE("latency_ms", seconds * 1000.0);
    if (ctx->client_id[0])
        f[n++] = LOG_STR("client_request_id", ctx->client_id);
    for (int i = 0; i < ctx->n_log; i++)
        f[n++] = LOG_INT(ctx->log[i].key, ctx->log[i].value);
    /* 5xx other than 503 (overload/drain, which could flood) are worth a warning */
    bool warn = status >= 500 && status != 503;
    log_emit(warn ? LOG_LEVEL_WARN : LOG_LEVEL_INFO, ctx->id, "request", f, n);
}

static void free_owned(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data);
}

/* Whether the connection must close after this reply. */
static bool reply_closes(const struct http_request *ctx)
{
    return !ctx->framing_known || ctx->body_unread || !ctx->head.keep_alive ||
           atomic_load_explicit(&ctx->w->s->draining, memory_order_relaxed);
}

/* Status line, headers, body into the connection's output; the body is taken when owned. */
static void write_reply(struct http_request *ctx, int status, const char *content_type,
                        const void *data, size_t len, bool owned)
{
    struct evbuffer *out = http_conn_output(ctx->conn);
    bool close = reply_closes(ctx);

    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, reason_phrase(status),
                        http_date(ctx->w));
    if (content_type)
        evbuffer_add_printf(out, "Content-Type: %s\r\n", content_type);
    evbuffer_add_printf(out, "Content-Length: %zu\r\nX-Request-Id: %s\r\n", len, ctx->id);
    for (int i = 0; i < ctx->n_out; i++)
        evbuffer_add_printf(out, "%s: %s\r\n", ctx->out[i].name, ctx->out[i].value);
    if (close)
        evbuffer_add(out, "Connection: close\r\n", 19);
    else if (ctx->head.version_minor == 0)
        evbuffer_add(out, "Connection: keep-alive\r\n", 24);
    evbuffer_add(out, "\r\n", 2);
    if (ctx->head_only || len == 0) {
        if (owned)
            free((void *)data);
    } else if (!owned) {
        evbuffer_add(out, data, len);
    } else if (evbuffer_add_reference(out, data, len, free_owned, NULL) < 0) {
        evbuffer_add(out, data, len);
        free((void *)data);
    }
    http_conn_sent(ctx->conn, close);
}

/* Send (when the client is still there) and account: metrics, in-flight, access log. */
static void reply_and_account(struct http_request *ctx, int status, const char *content_type,
                              const void *data, size_t len, bool owned)
{
    struct http_server *s = ctx->w->s;
    size_t bytes_out = ctx->head_only ? 0 : len;
    double seconds = elapsed_since(&ctx->t0);

    if (ctx->conn)
        write_reply(ctx, status, content_type, data, len, owned);
    else if (owned)
        free((void *)data);
    ctx->conn = NULL;
    if (ctx->admin)
        return;
    metrics_http_observe(s->cfg.metrics, ctx->metric_route, status, seconds);
    metrics_in_flight_add(s->cfg.metrics, -1);
    atomic_fetch_sub_explicit(&s->in_flight, 1, memory_order_relaxed);
    if (s->cfg.access_log)
        access_log(ctx, status, bytes_out, seconds);
}

/*
 * The one place a request ends. A request the server already answered
 * (drain expiry) only needs freeing: the handler's late reply is dropped.
 */
static void finish(struct http_request *ctx, int status, const char *content_type, const void *data,
                   size_t len, bool owned)
{
    if (ctx->answered) {
        if (owned)
            free((void *)data);
    } else {
        reply_and_account(ctx, status, content_type, data, len, owned);
    }
    request_free(ctx);
}

void http_reply_raw(struct http_request *req, int status, const char *content_type,
                    const void *data, size_t len)
{
    finish(req, status, content_type, data, len, false);
}

void http_reply_json(struct http_request *req, int status, const char *json, size_t len)
{
    finish(req, status, "application/json", json, len, false);
}

void http_reply_json_owned(struct http_request *req, int status, char *json, size_t len)
{
    finish(req, status, "application/json", json, len, true);
}

/* e's reply, in its style from the error table, with Retry-After when the table says so. */
static void error_reply(struct http_request *req, enum err e, const char *detail,
                        struct err_reply *r)
{
    err_reply_render(e, detail, req->id, r);
    if (r->retry_after) {
        char secs[16];
        int retry = req->w->s->cfg.retry_after_s;

        snprintf(secs, sizeof(secs), "%d", retry > 0 ? retry : 1);
        http_request_set_header(req, "Retry-After", secs);
    }
}

void http_reply_error(struct http_request *req, enum err e, const char *detail)
{
    struct err_reply r;

    error_reply(req, e, detail, &r);
    finish(req, r.status, r.content_type, r.body, r.len, true);
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
    return req->framing_known ? http_head_field(&req->head, name) : NULL;
}

const char *http_request_id(const struct http_request *req)
{
    return req->id;
}

const char *http_request_client_id(const struct http_request *req)
{
    return req->client_id[0] ? req->client_id : NULL;
}

const char *http_request_peer(const struct http_request *req)
{
    return req->peer[0] ? req->peer : NULL;
}

const char *http_request_body(struct http_request *req, size_t *len)
{
    bool ready = req->body && !req->body_unread;

    if (len)
        *len = ready ? req->body_len : 0;
    return ready ? req->body : "";
}

long long http_request_content_length(const struct http_request *req)
{
    return req->framing_known ? req->head.content_length : -1;
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

/* Values with CR, LF or NUL would split the reply: dropped (they never come from clients). */
void http_request_set_header(struct http_request *req, const char *name, const char *value)
{
    if (req->n_out >= HTTP_OUT_HEADERS_MAX || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
        return;
    req->out[req->n_out].name = strdup(name);
    req->out[req->n_out].value = strdup(value);
    if (!req->out[req->n_out].name || !req->out[req->n_out].value)
        oom();
    req->n_out++;
}

void http_request_log_int(struct http_request *req, const char *key, long long value)
{
    if (req->n_log >= HTTP_LOG_INTS_MAX)
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

/* HEAD is answered as GET without the body, unless a route asks for HEAD itself. */
static bool method_matches(enum http_method route, enum http_method req)
{
    return route == req || (req == HTTP_METHOD_HEAD && route == HTTP_METHOD_GET);
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
        if (method_matches(HTTP_METHOD_GET, ctx->method))
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
    for (size_t i = 0; ctx->method == HTTP_METHOD_HEAD && i < s->n_routes; i++)
        if (s->routes[i].method == HTTP_METHOD_GET && path_matches(s->routes[i].path, ctx->path))
            return &s->routes[i];
    return NULL;
}

/* application/json or application/<x>+json, any parameters; absent is accepted. */
static bool content_type_ok(const struct http_server *s, const struct http_request *ctx)
{
    const char *ct;
    size_t n;

    if (!s->cfg.json_bodies || (ctx->method != HTTP_METHOD_POST && ctx->method != HTTP_METHOD_PUT &&
                                ctx->method != HTTP_METHOD_PATCH))
        return true;
    ct = http_head_field(&ctx->head, "content-type");
    if (!ct || !*ct)
        return true;
    n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return true;
    return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
           memchr(ct + 12, '/', n - 12) == NULL && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

/* ---------- a request's life: head, decisions, body, handler ---------- */

struct http_request *http_request_new(struct http_conn *conn)
{
    struct worker *w = conn->w;
    struct http_server *s = w->s;
    struct http_request *ctx = calloc(1, sizeof(*ctx));

    if (!ctx)
        oom();
    clock_gettime(CLOCK_MONOTONIC, &ctx->t0);
    ctx->w = w;
    ctx->conn = conn;
    conn->req = ctx;
    ctx->admin = w->admin;
    ctx->path = "-";
    snprintf(ctx->peer, sizeof(ctx->peer), "%s", conn->peer);
    request_id_generate(w, ctx->id);
    ctx->next = w->live;
    if (w->live)
        w->live->prev = ctx;
    w->live = ctx;
    if (!ctx->admin) {
        ctx->in_flight_before = atomic_fetch_add_explicit(&s->in_flight, 1, memory_order_relaxed);
        metrics_in_flight_add(s->cfg.metrics, 1);
    }
    return ctx;
}

void http_request_discard(struct http_request *ctx)
{
    struct http_server *s = ctx->w->s;

    if (!ctx->admin && !ctx->answered) {
        metrics_in_flight_add(s->cfg.metrics, -1);
        atomic_fetch_sub_explicit(&s->in_flight, 1, memory_order_relaxed);
    }
    request_free(ctx);
}

void http_request_refuse(struct http_request *ctx, enum err e, const char *detail)
{
    http_reply_error(ctx, e, detail);
}

void http_request_dispatch(struct http_request *ctx)
{
    http_conn_wait(ctx->conn, HTTP_CONN_HANDLER);
    ctx->route->handler(ctx, ctx->route->arg);
}

void http_request_continue(struct http_request *req)
{
    struct http_conn *conn = req->conn;

    if (!conn) { /* the client left while the decision was pending: nothing to read */
        http_request_discard(req);
        return;
    }
    if (conn->state != HTTP_CONN_HEAD_HOOK || conn->req != req)
        return;
    http_conn_start_body(req);
    http_conn_process(conn);
}

static enum err parse_error(enum http_parse_result r)
{
    switch (r) {
    case HTTP_PARSE_TOO_LARGE:
        return ERR_HEADERS_TOO_LARGE;
    case HTTP_PARSE_EXPECTATION:
        return ERR_EXPECTATION_FAILED;
    case HTTP_PARSE_UNSUPPORTED:
        return ERR_NOT_IMPLEMENTED;
    case HTTP_PARSE_VERSION:
        return ERR_HTTP_VERSION;
    default:
        return ERR_BAD_REQUEST;
    }
}

static void admin_dispatch(struct http_request *ctx);

/* The decisions taken from a routed request's head, cheapest first; then the head callback. */
static void admit_routed(struct http_server *s, struct http_request *ctx,
                         const struct http_route *route)
{
    enum http_head_verdict v = HTTP_HEAD_CONTINUE;

    if (!content_type_ok(s, ctx)) {
        http_request_refuse(ctx, ERR_UNSUPPORTED_MEDIA_TYPE, NULL);
        return;
    }
    if (ctx->head.content_length > (long long)s->cfg.max_body_bytes) {
        http_request_refuse(ctx, ERR_BODY_TOO_LARGE, NULL);
        return;
    }
    if (s->cfg.max_in_flight > 0 && ctx->in_flight_before >= s->cfg.max_in_flight) {
        http_request_refuse(ctx, ERR_OVERLOADED, NULL);
        return;
    }
    if (http_budget_full(s)) { /* unsent replies fill it: no new work until they leave */
        http_request_refuse(ctx, ERR_OVERLOADED, "request memory budget exhausted");
        return;
    }
    ctx->route = route;
    if (s->cfg.head)
        v = s->cfg.head(ctx, route->arg, s->cfg.head_arg);
    if (v == HTTP_HEAD_CONTINUE)
        http_conn_start_body(ctx);
    else if (v == HTTP_HEAD_DEFER)
        http_conn_wait(ctx->conn, HTTP_CONN_HEAD_HOOK);
}

void http_request_begin(struct http_request *ctx, enum http_parse_result r)
{
    struct http_server *s = ctx->w->s;
    const struct http_route *route;
    const char *id;
    int builtin;
    bool path_known;

    if (r != HTTP_PARSE_OK) {
        http_request_refuse(ctx, parse_error(r), ctx->head.detail);
        return;
    }
    ctx->framing_known = true;
    ctx->method = method_of(ctx->head.method);
    ctx->head_only = ctx->method == HTTP_METHOD_HEAD;
    ctx->path = ctx->head.path;
    ctx->query = ctx->head.query;
    ctx->body_unread = ctx->head.chunked || ctx->head.content_length > 0;
    id = http_head_field(&ctx->head, "x-request-id");
    /* never adopted as ours: a client-chosen id could collide with another client's rows */
    if (request_id_sane(id))
        memcpy(ctx->client_id, id, strlen(id) + 1);
    if (ctx->admin) {
        admin_dispatch(ctx);
        return;
    }
    route = route_find(s, ctx, &builtin, &path_known);
    if (builtin == 1)
        reply_health(ctx);
    else if (builtin == 2)
        reply_ready(ctx);
    else if (!route && path_known)
        reply_method_not_allowed(ctx, ctx->path);
    else if (!route && s->cfg.not_found)
        s->cfg.not_found(ctx, s->cfg.not_found_arg);
    else if (!route)
        http_reply_error(ctx, ERR_NOT_FOUND, NULL);
    else
        admit_routed(s, ctx, route);
}

/* ---------- admin port ---------- */

static void admin_dispatch(struct http_request *ctx)
{
    struct http_server *s = ctx->w->s;
    bool get = method_matches(HTTP_METHOD_GET, ctx->method);

    if (get && strcmp(ctx->path, "/metrics") == 0) {
        size_t len = 0;
        char *text = s->cfg.metrics ? metrics_render(s->cfg.metrics, &len) : NULL;

        finish(ctx, 200, "text/plain; version=0.0.4; charset=utf-8", text, text ? len : 0, true);
        return;
    }
    if (get && strcmp(ctx->path, "/health") == 0) {
        reply_health(ctx);
        return;
    }
    http_reply_error(ctx, ERR_NOT_FOUND, NULL);
}

/* ---------- workers ---------- */

/* Grace is over: answer what is still in flight, so every client gets a reply. */
static void on_expire(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    struct err_reply r;

    (void)fd;
    (void)what;
    for (struct http_request *ctx = w->live; ctx; ctx = ctx->next) {
        if (ctx->answered || ctx->admin)
            continue;
        ctx->body_unread = true; /* the connection closes after this reply */
        error_reply(ctx, ERR_DRAINING, NULL, &r);
        reply_and_account(ctx, r.status, r.content_type, r.body, r.len, true);
        ctx->answered = true;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const struct http_server_config *cfg = &w->s->cfg;

    if (!w->admin && cfg->thread_init)
        w->thread_data = cfg->thread_init(w->index, cfg->thread_arg);
    event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
    if (!w->admin && cfg->thread_done)
        cfg->thread_done(w->index, w->thread_data, cfg->thread_arg);
    /* Connections first (a request being read is discarded), then the requests
     * still deferred: never replied, they go without a reply. */
    http_worker_close_all(w);
    while (w->live) {
        struct http_request *ctx = w->live;

        ctx->conn = NULL;
        http_request_discard(ctx);
    }
    return NULL;
}

static void *admin_main(void *arg)
{
    return worker_main(arg);
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

static int loop_setup(struct http_server *s, struct worker *w, int index, int fd, char *err,
                      size_t err_len)
{
    w->s = s;
    w->index = index;
    w->admin = index < 0;
    w->listen_fd = -1;
    w->pool_used = RANDOM_POOL; /* empty: first id refills it */
    w->base = event_base_new();
    w->expire_ev = w->base ? event_new(w->base, -1, 0, on_expire, w) : NULL;
    if (!w->expire_ev) {
        close(fd);
        snprintf(err, err_len, "loop %d: cannot create event loop", index);
        return -1;
    }
    return http_worker_listen(w, fd, err, err_len);
}

static int worker_setup(struct http_server *s, struct worker *w, int index, char *err,
                        size_t err_len)
{
    int fd = listen_on(s->cfg.bind_addr, s->port, true, err, err_len);

    if (fd < 0)
        return -1;
    if (s->port == 0)
        s->port = bound_port(fd);
    return loop_setup(s, w, index, fd, err, err_len);
}

static int admin_setup(struct http_server *s, char *err, size_t err_len)
{
    int fd;

    if (s->cfg.admin_port < 0) {
        s->admin_port = -1;
        return 0;
    }
    fd = listen_on(s->cfg.admin_bind_addr, s->cfg.admin_port, false, err, err_len);
    if (fd < 0)
        return -1;
    s->admin_port = bound_port(fd);
    s->has_admin = true;
    return loop_setup(s, &s->admin, -1, fd, err, err_len);
}

static void loop_free(struct worker *w)
{
    http_worker_close_all(w);
    while (w->live)
        http_request_discard(w->live);
    if (w->listen_fd >= 0)
        close(w->listen_fd);
    w->listen_fd = -1;
    struct event *evs[] = {w->accept_ev, w->accept_sync_ev, w->backoff_ev, w->stop_accept_ev,
                           w->expire_ev};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i])
            event_free(evs[i]);
    if (w->base)
        event_base_free(w->base);
    w->base = NULL;
}

/* ---------- control loop: signals, reload, drain, trim ---------- */

static void stop_loops(struct http_server *s)
{
    for (int i = 0; i < s->n_workers; i++)
        event_base_loopexit(s->workers[i].base, NULL);
    if (s->has_admin)
        event_base_loopexit(s->admin.base, NULL);
    event_base_loopexit(s->control_base, NULL);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    struct http_server *s = arg;
    long left = atomic_load(&s->in_flight);
    long sending = atomic_load(&s->writing);
    double waited = elapsed_since(&s->drain_start);

    (void)fd;
    (void)what;
    if ((left > 0 || sending > 0) && waited * 1000.0 < (double)s->cfg.shutdown_grace_ms)
        return;
    event_del(s->drain_timer);
    if (left > 0) {
        log_warn(NULL, "drain grace expired: answering what is left with 503",
                 LOG_INT("in_flight", left), LOG_INT("grace_ms", s->cfg.shutdown_grace_ms));
        for (int i = 0; i < s->n_workers; i++)
            event_active(s->workers[i].expire_ev, EV_TIMEOUT, 0);
    } else {
        log_info(NULL, "drained", LOG_DOUBLE("drain_ms", waited * 1000.0));
    }
    /* Let the last replies' bytes leave before the loops stop. */
    struct timeval flush = {0, DRAIN_FLUSH_MS * 1000};
    for (int i = 0; i < s->n_workers; i++)
        event_base_loopexit(s->workers[i].base, &flush);
    if (s->has_admin)
        event_base_loopexit(s->admin.base, NULL);
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

static void on_trim(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    http_budget_trim(arg);
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
    s->trim_timer = event_new(s->control_base, -1, EV_PERSIST, on_trim, s);
    if (!s->stop_ev || !s->drain_timer || !s->trim_timer) {
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

/* libevent's own warnings, as our JSON lines (it would print plain text on stderr). */
static void libevent_log(int severity, const char *msg)
{
    if (severity >= EVENT_LOG_WARN)
        log_warn(NULL, "libevent", LOG_STR("message", msg));
}

static void threads_init(void)
{
    threads_rc = evthread_use_pthreads();
    event_set_log_callback(libevent_log);
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
    if (c->head_timeout_ms <= 0)
        c->head_timeout_ms = DEFAULT_HEAD_TIMEOUT_MS;
    if (c->max_buffered_bytes == 0)
        c->max_buffered_bytes = c->max_body_bytes + 1 > DEFAULT_MAX_BUFFERED ? c->max_body_bytes + 1
                                                                             : DEFAULT_MAX_BUFFERED;
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

static int loops_setup(struct http_server *s, char *err, size_t err_len)
{
    if (s->port != 0 && port_free(s->cfg.bind_addr, s->port, err, err_len) < 0)
        return -1;
    s->workers = calloc((size_t)s->cfg.worker_threads, sizeof(*s->workers));
    if (!s->workers) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (int i = 0; i < s->cfg.worker_threads; i++) {
        s->n_workers = i + 1;
        if (worker_setup(s, &s->workers[i], i, err, err_len) < 0)
            return -1;
    }
    return admin_setup(s, err, err_len);
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
    s->admin.listen_fd = -1;
    if (routes_setup(s, routes, n_routes, err, err_len) < 0 ||
        http_conn_setup(s, err, err_len) < 0 || control_setup(s, err, err_len) < 0 ||
        loops_setup(s, err, err_len) < 0) {
        http_server_free(s);
        return NULL;
    }
    return s;
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
    if (s->has_admin) {
        int rc = pthread_create(&s->admin.thread, NULL, admin_main, &s->admin);

        if (rc != 0) {
            snprintf(err, err_len, "admin: pthread_create: %s", strerror(rc));
            return -1;
        }
        s->admin.started = true;
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
    if (s->admin.started)
        pthread_join(s->admin.thread, NULL);
    s->admin.started = false;
}

int http_server_run(struct http_server *s, char *err, size_t err_len)
{
    struct timeval trim = {TRIM_TICK_MS / 1000, (TRIM_TICK_MS % 1000) * 1000};
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
    /* no "service" field: log_set_service() already puts it on every line */
    log_info(NULL, "listening", LOG_INT("port", s->port), LOG_INT("admin_port", s->admin_port),
             LOG_INT("workers", s->n_workers), LOG_INT("max_connections", s->max_connections),
             LOG_INT("max_buffered_bytes", (long long)s->cfg.max_buffered_bytes));
    event_add(s->trim_timer, &trim);
    event_base_loop(s->control_base, EVLOOP_NO_EXIT_ON_EMPTY);
    result = 0;
out:
    join_threads(s);
    log_info(NULL, "stopped");
    return result;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    if (s->control_base)
        stop_loops(s);
    join_threads(s);
    for (int i = 0; i < s->n_workers; i++)
        loop_free(&s->workers[i]);
    free(s->workers);
    if (s->has_admin || s->admin.base)
        loop_free(&s->admin);
    for (int i = 0; i < 3; i++)
        if (s->sig_ev[i])
            event_free(s->sig_ev[i]);
    struct event *evs[] = {s->stop_ev, s->drain_timer, s->trim_timer};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i])
            event_free(evs[i]);
    if (s->control_base)
        event_base_free(s->control_base);
    http_conn_cleanup(s);
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
