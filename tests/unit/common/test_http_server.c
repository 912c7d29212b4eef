/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drives common/http_server over real sockets on port 0, in-process: the
 * server runs in a thread, the test is the client (raw sockets, so we can
 * send exactly what we want: oversize Content-Length, keep-alive, a request
 * left hanging). Slow handlers are deferred and released by the test, so
 * nothing depends on timing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/http_server.h"
#include "common/log.h"
#include "common/metrics.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct fixture {
    struct http_server *s;
    struct metrics *m;
    pthread_t thread;
    int run_rc;
};

/* A deferred request, parked until the test releases it. */
struct parked {
    struct http_request *req;
    struct event *ev;
    atomic_int entered;
};

static int devnull_fd = -1;
static struct parked parked;
static struct parked posts[4]; /* POST /park, in arrival order */
static atomic_int n_posts;
static struct parked hooked;      /* a head callback that deferred */
static atomic_long hook_saw_body; /* body bytes visible to the head callback (must be 0) */
static atomic_int thread_inits, thread_dones;

/* ---------- handlers ---------- */

static void handle_hello(struct http_request *req, void *arg)
{
    static const char body[] = "{\"hello\":\"world\"}";

    (void)arg;
    http_reply_json(req, 200, body, sizeof(body) - 1);
}

static void handle_echo_len(struct http_request *req, void *arg)
{
    char out[64];
    size_t len;

    (void)arg;
    http_request_body(req, &len);
    int n = snprintf(out, sizeof(out), "{\"len\":%zu}", len);
    http_reply_json(req, 200, out, (size_t)n);
}

/* {"len":N,"fnv":H}: the body's length and FNV-1a hash, so every byte is checked. */
static void handle_body_sum(struct http_request *req, void *arg)
{
    char out[96];
    size_t len;
    const unsigned char *b = (const unsigned char *)http_request_body(req, &len);
    unsigned long long h = 1469598103934665603ULL;

    (void)arg;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    int n = snprintf(out, sizeof(out), "{\"len\":%zu,\"fnv\":%llu}", len, h);
    http_reply_json(req, 200, out, (size_t)n);
}

static void handle_thread_data(struct http_request *req, void *arg)
{
    char out[64];
    int *data = http_request_thread_data(req);

    (void)arg;
    int n = snprintf(out, sizeof(out), "{\"worker\":%d}", data ? *data : -1);
    http_reply_json(req, 200, out, (size_t)n);
}

static void handle_peer(struct http_request *req, void *arg)
{
    char out[96];
    const char *peer = http_request_peer(req);

    (void)arg;
    int n = snprintf(out, sizeof(out), "{\"peer\":\"%s\"}", peer ? peer : "none");
    http_reply_json(req, 200, out, (size_t)n);
}

static void release_parked(evutil_socket_t fd, short what, void *arg)
{
    struct parked *p = arg;
    static const char body[] = "{\"slow\":true}";

    (void)fd;
    (void)what;
    event_free(p->ev);
    p->ev = NULL;
    http_reply_json(p->req, 200, body, sizeof(body) - 1);
}

static void handle_slow(struct http_request *req, void *arg)
{
    (void)arg;
    parked.req = req;
    parked.ev = event_new(http_request_base(req), -1, 0, release_parked, &parked);
    atomic_store(&parked.entered, 1);
}

static void release_post(evutil_socket_t fd, short what, void *arg)
{
    struct parked *p = arg;
    char out[64];
    size_t len;

    (void)fd;
    (void)what;
    event_free(p->ev);
    p->ev = NULL;
    http_request_body(p->req, &len);
    int n = snprintf(out, sizeof(out), "{\"len\":%zu}", len);
    http_reply_json(p->req, 200, out, (size_t)n);
}

/* POST /park: the body is read, then the request waits for the test. */
static void handle_park(struct http_request *req, void *arg)
{
    struct parked *p = &posts[atomic_fetch_add(&n_posts, 1) % 4];

    (void)arg;
    p->req = req;
    p->ev = event_new(http_request_base(req), -1, 0, release_post, p);
    atomic_store(&p->entered, 1);
}

/* GET /never: never replied by the handler (the drain answers it). */
static void handle_never(struct http_request *req, void *arg)
{
    (void)arg;
    parked.req = req;
    atomic_store(&parked.entered, 1);
}

static void release_hook(evutil_socket_t fd, short what, void *arg)
{
    struct parked *p = arg;

    (void)fd;
    (void)what;
    event_free(p->ev);
    p->ev = NULL;
    http_request_continue(p->req);
}

/*
 * The head callback the tests install (credentials before the body): on
 * /echo, no x-auth-token is 401 at once, "later" defers the decision to the
 * test, anything else goes on to the body.
 */
static enum http_head_verdict head_hook(struct http_request *req, void *route_arg, void *arg)
{
    const char *token = http_request_header(req, "x-auth-token");
    size_t len = 0;

    (void)route_arg;
    (void)arg;
    http_request_body(req, &len);
    atomic_fetch_add(&hook_saw_body, (long)len);
    if (strcmp(http_request_path(req), "/echo") != 0)
        return HTTP_HEAD_CONTINUE;
    if (!token) {
        http_reply_error(req, ERR_UNAUTHORIZED, NULL);
        return HTTP_HEAD_REPLIED;
    }
    if (strcmp(token, "later") == 0) {
        hooked.req = req;
        hooked.ev = event_new(http_request_base(req), -1, 0, release_hook, &hooked);
        atomic_store(&hooked.entered, 1);
        return HTTP_HEAD_DEFER;
    }
    return HTTP_HEAD_CONTINUE;
}

static void not_found_html(struct http_request *req, void *arg)
{
    static const char page[] = "<html>forbidden</html>";

    (void)arg;
    http_reply_raw(req, 403, "text/html; charset=utf-8", page, sizeof(page) - 1);
}

static atomic_bool say_not_ready;

/* The daemon's readiness hook, as the test sets it. */
static bool ready_hook(void *arg)
{
    (void)arg;
    return !atomic_load(&say_not_ready);
}

static void *thread_init(int worker, void *arg)
{
    int *data = malloc(sizeof(int));

    (void)arg;
    *data = worker;
    atomic_fetch_add(&thread_inits, 1);
    return data;
}

static void thread_done(int worker, void *data, void *arg)
{
    (void)worker;
    (void)arg;
    free(data);
    atomic_fetch_add(&thread_dones, 1);
}

static const struct http_route routes[] = {
    {HTTP_METHOD_GET, "/hello", handle_hello, NULL},
    {HTTP_METHOD_POST, "/echo", handle_echo_len, NULL},
    {HTTP_METHOD_POST, "/sum", handle_body_sum, NULL},
    {HTTP_METHOD_GET, "/thread", handle_thread_data, NULL},
    {HTTP_METHOD_GET, "/slow", handle_slow, NULL},
    {HTTP_METHOD_GET, "/items/*", handle_hello, NULL},
    {HTTP_METHOD_GET, "/peer", handle_peer, NULL},
    {HTTP_METHOD_POST, "/park", handle_park, NULL},
    {HTTP_METHOD_GET, "/never", handle_never, NULL},
};

/* ---------- fixture ---------- */

static void *run_server(void *arg)
{
    struct fixture *f = arg;
    char err[256];

    f->run_rc = http_server_run(f->s, err, sizeof(err));
    return NULL;
}

static struct fixture *start_tweaked(long max_in_flight, bool override_404,
                                     void (*tweak)(struct http_server_config *cfg))
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[256] = "";
    struct http_server_config cfg = {
        .service = "test",
        .bind_addr = "127.0.0.1",
        .port = 0,
        .admin_port = 0,
        .worker_threads = 2,
        .max_body_bytes = 1024,
        .request_timeout_ms = 5000,
        .max_in_flight = max_in_flight,
        .shutdown_grace_ms = 5000,
        .retry_after_s = 2,
        .access_log = true,
        .thread_init = thread_init,
        .thread_done = thread_done,
        .not_found = override_404 ? not_found_html : NULL,
        .ready = ready_hook,
    };

    memset(&parked, 0, sizeof(parked));
    memset(posts, 0, sizeof(posts));
    memset(&hooked, 0, sizeof(hooked));
    atomic_store(&n_posts, 0);
    atomic_store(&hook_saw_body, 0);
    if (tweak)
        tweak(&cfg);
    atomic_store(&thread_inits, 0);
    atomic_store(&thread_dones, 0);
    f->m = metrics_new("t_");
    cfg.metrics = f->m;
    f->s = http_server_new(&cfg, routes, sizeof(routes) / sizeof(routes[0]), err, sizeof(err));
    assert_non_null(f->s);
    assert_true(http_server_port(f->s) > 0);
    assert_true(http_server_admin_port(f->s) > 0);
    assert_int_not_equal(http_server_port(f->s), http_server_admin_port(f->s));
    assert_int_equal(pthread_create(&f->thread, NULL, run_server, f), 0);
    return f;
}

static struct fixture *start(long max_in_flight, bool override_404)
{
    return start_tweaked(max_in_flight, override_404, NULL);
}

static void stop(struct fixture *f)
{
    http_server_stop(f->s);
    pthread_join(f->thread, NULL);
    assert_int_equal(f->run_rc, 0);
    http_server_free(f->s);
    metrics_free(f->m);
    free(f);
}

/* ---------- a raw HTTP client ---------- */

struct resp {
    int status;
    char head[2048];
    char body[65536];
    size_t body_len;
};

static int connect_to(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    struct timeval tmo = {20, 0}; /* a missing reply fails the test instead of hanging it */

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void send_all(int fd, const char *text)
{
    size_t len = strlen(text);

    assert_int_equal(send(fd, text, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* "HTTP/1.1 200 OK" -> 200. Returns 0 or -1. */
static int parse_status(const char *head, int *status)
{
    if (strncmp(head, "HTTP/1.1 ", 9) != 0 && strncmp(head, "HTTP/1.0 ", 9) != 0)
        return -1;
    *status = (int)strtol(head + 9, NULL, 10);
    return 0;
}

/* Read one response (headers + Content-Length body) from fd. */
static void read_resp(int fd, struct resp *r)
{
    char buf[sizeof(r->head) + sizeof(r->body)];
    size_t got = 0;
    char *end = NULL;

    memset(r, 0, sizeof(*r));
    while (!end) {
        ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
        buf[got] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    size_t head_len = (size_t)(end - buf) + 4;
    assert_true(head_len < sizeof(r->head));
    memcpy(r->head, buf, head_len);
    r->head[head_len] = '\0';
    assert_int_equal(parse_status(r->head, &r->status), 0);
    const char *cl = strcasestr(r->head, "\r\nContent-Length:");
    size_t want = cl ? strtoul(cl + 17, NULL, 10) : 0;
    assert_true(want < sizeof(r->body));
    size_t have = got - head_len;
    memcpy(r->body, buf + head_len, have);
    while (have < want) {
        ssize_t n = recv(fd, r->body + have, want - have, 0);
        assert_true(n > 0);
        have += (size_t)n;
    }
    r->body_len = want;
    r->body[want] = '\0';
}

static struct resp *exchange(int port, const char *request)
{
    static struct resp r;
    int fd = connect_to(port);

    send_all(fd, request);
    read_resp(fd, &r);
    close(fd);
    return &r;
}

static const char *header(const struct resp *r, const char *name, char *out, size_t len)
{
    char key[64];
    snprintf(key, sizeof(key), "\r\n%s: ", name);
    const char *p = strcasestr(r->head, key);

    if (!p)
        return NULL;
    p += strlen(key);
    size_t n = strcspn(p, "\r");
    snprintf(out, len, "%.*s", (int)n, p);
    return out;
}

/* Wait for a condition the server sets; fail (rather than hang) after ~20 s. */
static void wait_for(atomic_int *flag)
{
    struct timespec ts = {0, 1000000};

    for (int i = 0; !atomic_load(flag); i++) {
        if (i > 20000)
            fail_msg("server never reached the expected state");
        nanosleep(&ts, NULL);
    }
}

/* ---------- tests ---------- */

static void test_health_and_request_id(void **state)
{
    struct fixture *f = start(0, false);
    char v[128];
    (void)state;

    struct resp *r = exchange(http_server_port(f->s), "GET /health HTTP/1.1\r\nHost: x\r\n"
                                                      "Connection: close\r\n\r\n");
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "{\"status\":\"ok\"}");
    assert_non_null(header(r, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "application/json");
    assert_non_null(header(r, "X-Request-Id", v, sizeof(v)));
    assert_int_equal(strlen(v), 32);
    assert_int_equal(strspn(v, "0123456789abcdef"), 32);

    r = exchange(http_server_port(f->s), "GET /hello HTTP/1.1\r\nHost: x\r\n"
                                         "X-Request-Id: abc-DEF_123\r\nConnection: close\r\n\r\n");
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "{\"hello\":\"world\"}");
    /* a client's id is never adopted as ours (issue 11, item 11): ours is fresh */
    assert_non_null(header(r, "X-Request-Id", v, sizeof(v)));
    assert_int_equal(strlen(v), 32);
    assert_int_equal(strspn(v, "0123456789abcdef"), 32);

    /* an id with a space or too long is not kept either */
    r = exchange(http_server_port(f->s), "GET /hello HTTP/1.1\r\nHost: x\r\n"
                                         "X-Request-Id: a;b\r\nConnection: close\r\n\r\n");
    assert_int_equal(strlen(header(r, "X-Request-Id", v, sizeof(v))), 32);
    stop(f);
}

/* /ready answers the daemon's readiness: 503 not_ready (from the error table) while it says no. */
static void test_ready_hook_says_no(void **state)
{
    struct fixture *f = start(0, false);
    static const char ask[] = "GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char v[64];
    (void)state;

    assert_int_equal(exchange(http_server_port(f->s), ask)->status, 200);
    atomic_store(&say_not_ready, true);
    struct resp *r = exchange(http_server_port(f->s), ask);
    assert_int_equal(r->status, 503);
    assert_string_equal(r->body, "{\"detail\":\"Server is not ready\",\"code\":\"not_ready\"}");
    assert_string_equal(header(r, "Retry-After", v, sizeof(v)), "2");
    atomic_store(&say_not_ready, false);
    assert_int_equal(exchange(http_server_port(f->s), ask)->status, 200);
    stop(f);
}

static void test_routes_404_405_prefix(void **state)
{
    struct fixture *f = start(0, false);
    int port = http_server_port(f->s);
    char v[128];
    (void)state;

    struct resp *r = exchange(port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(r->status, 404);
    assert_string_equal(r->body, "{\"detail\":\"Not Found\",\"code\":\"not_found\"}");

    r = exchange(port, "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                       "Connection: close\r\n\r\n");
    assert_int_equal(r->status, 405);
    assert_non_null(strstr(r->body, "\"code\":\"method_not_allowed\""));
    assert_string_equal(header(r, "Allow", v, sizeof(v)), "GET");

    r = exchange(port, "DELETE /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(r->status, 405);

    r = exchange(port, "GET /items/42?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(r->status, 200);

    /* the direct TCP peer, whatever X-Forwarded-For says */
    r = exchange(port, "GET /peer HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.9.9.9\r\n"
                       "Connection: close\r\n\r\n");
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "{\"peer\":\"127.0.0.1\"}");

    r = exchange(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                       "Connection: close\r\n\r\nhello");
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "{\"len\":5}");
    stop(f);
}

static void test_body_too_large(void **state)
{
    struct fixture *f = start(0, false);
    (void)state;

    /* Content-Length over max_body_bytes (1024): refused before any body byte is sent */
    struct resp *r = exchange(http_server_port(f->s),
                              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
    assert_int_equal(r->status, 413);

    /* Over the limit but within the transport cap: read, then refused with our JSON */
    char req[4096];
    int n = snprintf(req, sizeof(req),
                     "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n"
                     "Connection: close\r\n\r\n");
    memset(req + n, 'a', 2000);
    req[n + 2000] = '\0';
    r = exchange(http_server_port(f->s), req);
    assert_int_equal(r->status, 413);
    assert_non_null(strstr(r->body, "\"code\":\"body_too_large\""));
    stop(f);
}

static void test_overloaded_then_completes(void **state)
{
    struct fixture *f = start(1, false);
    int port = http_server_port(f->s);
    struct resp slow;
    char v[64];
    (void)state;

    int fd = connect_to(port);
    send_all(fd, "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    wait_for(&parked.entered);

    struct resp *r = exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(r->status, 503);
    assert_non_null(strstr(r->body, "\"code\":\"overloaded\""));
    assert_string_equal(header(r, "Retry-After", v, sizeof(v)), "2");

    /* probes are not subject to the in-flight cap */
    r = exchange(port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(r->status, 200);

    event_active(parked.ev, EV_TIMEOUT, 0);
    read_resp(fd, &slow);
    close(fd);
    assert_int_equal(slow.status, 200);
    assert_string_equal(slow.body, "{\"slow\":true}");

    r = exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(r->status, 200);
    stop(f);
}

static void test_graceful_stop(void **state)
{
    struct fixture *f = start(0, false);
    int port = http_server_port(f->s);
    struct resp r, slow;
    char v[64];
    (void)state;

    /* a keep-alive connection opened before the stop */
    int keep = connect_to(port);
    send_all(keep, "GET /ready HTTP/1.1\r\nHost: x\r\n\r\n");
    read_resp(keep, &r);
    assert_int_equal(r.status, 200);

    int fd = connect_to(port);
    send_all(fd, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    wait_for(&parked.entered);

    http_server_stop(f->s);
    for (int i = 0; !http_server_draining(f->s); i++) {
        assert_true(i < 20000);
        usleep(1000);
    }

    /* draining: /ready says so on the existing connection, which is then closed */
    send_all(keep, "GET /ready HTTP/1.1\r\nHost: x\r\n\r\n");
    read_resp(keep, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "\"code\":\"draining\""));
    assert_string_equal(header(&r, "Connection", v, sizeof(v)), "close");
    close(keep);

    /* the in-flight request still completes */
    event_active(parked.ev, EV_TIMEOUT, 0);
    read_resp(fd, &slow);
    close(fd);
    assert_int_equal(slow.status, 200);
    assert_string_equal(slow.body, "{\"slow\":true}");

    pthread_join(f->thread, NULL);
    assert_int_equal(f->run_rc, 0);
    assert_int_equal(atomic_load(&thread_inits), 2);
    assert_int_equal(atomic_load(&thread_dones), 2);
    http_server_free(f->s);
    metrics_free(f->m);
    free(f);
}

static void test_thread_data_and_metrics(void **state)
{
    struct fixture *f = start(0, false);
    char req[128];
    (void)state;

    struct resp *r = exchange(http_server_port(f->s),
                              "GET /thread HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(r->status, 200);
    assert_true(strcmp(r->body, "{\"worker\":0}") == 0 || strcmp(r->body, "{\"worker\":1}") == 0);

    exchange(http_server_port(f->s), "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    snprintf(req, sizeof(req), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    r = exchange(http_server_admin_port(f->s), req);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "t_http_requests_total{route=\"/thread\",status=\"200\"} 1\n"));
    assert_non_null(
        strstr(r->body, "t_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n"));
    assert_non_null(strstr(r->body, "t_http_requests_in_flight 0\n"));

    /* /metrics is only on the admin port */
    r = exchange(http_server_port(f->s), req);
    assert_int_equal(r->status, 404);
    stop(f);
}

static void test_not_found_override(void **state)
{
    struct fixture *f = start(0, true);
    char v[64];
    (void)state;

    struct resp *r = exchange(http_server_port(f->s),
                              "GET /admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(r->status, 403);
    assert_string_equal(r->body, "<html>forbidden</html>");
    assert_string_equal(header(r, "Content-Type", v, sizeof(v)), "text/html; charset=utf-8");
    stop(f);
}

static void test_healthcheck(void **state)
{
    struct fixture *f = start(0, false);
    int port = http_server_port(f->s);
    (void)state;

    assert_int_equal(http_server_healthcheck("127.0.0.1", port, 2000), 0);
    stop(f);
    /* nothing listens there any more */
    assert_int_equal(http_server_healthcheck("127.0.0.1", port, 500), -1);
}

static void test_port_in_use(void **state)
{
    struct fixture *f = start(0, false);
    char err[256] = "";
    struct http_server_config cfg = {
        .bind_addr = "127.0.0.1",
        .port = http_server_port(f->s),
        .admin_port = -1,
        .worker_threads = 1,
    };
    (void)state;

    assert_null(http_server_new(&cfg, routes, 1, err, sizeof(err)));
    assert_non_null(strstr(err, "Address already in use"));
    stop(f);
}

static atomic_int reloads;

static void on_reload(void *arg)
{
    (void)arg;
    atomic_fetch_add(&reloads, 1);
}

static void test_signals(void **state)
{
    struct fixture f = {0};
    char err[256];
    struct http_server_config cfg = {
        .bind_addr = "127.0.0.1",
        .admin_port = -1,
        .worker_threads = 1,
        .shutdown_grace_ms = 1000,
        .handle_signals = true,
        .reload = on_reload,
    };
    (void)state;

    f.s = http_server_new(&cfg, routes, 1, err, sizeof(err));
    assert_non_null(f.s);
    assert_int_equal(http_server_admin_port(f.s), -1);
    assert_int_equal(pthread_create(&f.thread, NULL, run_server, &f), 0);
    /* workers start after the signal handlers are installed */
    for (int i = 0; http_server_healthcheck("127.0.0.1", http_server_port(f.s), 1000) != 0; i++) {
        assert_true(i < 20000);
        usleep(1000);
    }
    kill(getpid(), SIGHUP);
    wait_for(&reloads);
    assert_false(http_server_draining(f.s));
    kill(getpid(), SIGTERM);
    pthread_join(f.thread, NULL);
    assert_int_equal(f.run_rc, 0);
    assert_true(http_server_draining(f.s));
    assert_int_equal(atomic_load(&reloads), 1);
    http_server_free(f.s);
}

/* ---------- issue 11: hostile clients and the memory budget ---------- */

/* A reader that keeps what it read past one response, for keep-alive and pipelining. */
struct reader {
    int fd;
    char buf[1 << 17];
    size_t len;
};

/* false on EOF or timeout before a byte arrived */
static bool reader_fill(struct reader *rd)
{
    ssize_t n = recv(rd->fd, rd->buf + rd->len, sizeof(rd->buf) - 1 - rd->len, 0);

    if (n <= 0)
        return false;
    rd->len += (size_t)n;
    rd->buf[rd->len] = '\0';
    return true;
}

/* One response; head_only: a reply to HEAD, whose Content-Length announces no body bytes. */
static void next_resp(struct reader *rd, struct resp *r, bool head_only)
{
    char *end;

    memset(r, 0, sizeof(*r));
    while (!(end = strstr(rd->buf, "\r\n\r\n")))
        assert_true(reader_fill(rd));
    size_t head_len = (size_t)(end - rd->buf) + 4;
    assert_true(head_len < sizeof(r->head));
    memcpy(r->head, rd->buf, head_len);
    assert_int_equal(parse_status(r->head, &r->status), 0);
    const char *cl = strcasestr(r->head, "\r\nContent-Length:");
    size_t want = head_only || !cl ? 0 : strtoul(cl + 17, NULL, 10);
    assert_true(want < sizeof(r->body));
    while (rd->len < head_len + want)
        assert_true(reader_fill(rd));
    memcpy(r->body, rd->buf + head_len, want);
    r->body_len = want;
    memmove(rd->buf, rd->buf + head_len + want, rd->len - head_len - want + 1);
    rd->len -= head_len + want;
}

/* The server closes: EOF (or a reset) after whatever it still sends. */
static void expect_closed(struct reader *rd)
{
    for (int i = 0; i < 100; i++) {
        ssize_t n = recv(rd->fd, rd->buf, sizeof(rd->buf) - 1, 0);

        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return;
        assert_true(n > 0); /* a timeout means the connection stayed open */
    }
    fail_msg("connection still open");
}

/* Nothing arrives within ms (a paused accept, a deferred decision). */
static bool quiet_for(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, ms) == 0;
}

static struct resp *ask(int port, const char *request, bool *closed)
{
    static struct resp r;
    static struct reader rd;
    int fd = connect_to(port);

    rd.fd = fd;
    rd.len = 0;
    rd.buf[0] = '\0';
    send_all(fd, request);
    next_resp(&rd, &r, false);
    if (closed) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char c;

        *closed = poll(&p, 1, 20000) == 1 && recv(fd, &c, 1, 0) <= 0;
    }
    close(fd);
    return &r;
}

/* Item 3: HEAD gets the headers GET would, Content-Length included, and no body bytes. */
static void test_head_has_no_body(void **state)
{
    struct fixture *f = start(0, false);
    struct reader rd = {.fd = connect_to(http_server_port(f->s))};
    struct resp r;
    char v[64];
    (void)state;

    send_all(rd.fd, "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"
                    "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                    "HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    next_resp(&rd, &r, true);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Length", v, sizeof(v)), "15");
    next_resp(&rd, &r, true);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Length", v, sizeof(v)), "17");
    next_resp(&rd, &r, true);
    assert_int_equal(r.status, 405); /* /echo is POST only */
    assert_non_null(header(&r, "Content-Length", v, sizeof(v)));
    /* the connection is still in step: the next reply starts right here */
    next_resp(&rd, &r, false);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"hello\":\"world\"}");
    close(rd.fd);
    stop(f);
}

/* 17 x 1,000 bytes: past the 16 KiB head limit */
#define K1                                                                                         \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
    "aaaaaaaa"
#define K10 K1 K1 K1 K1 K1 K1 K1 K1 K1 K1
#define BIG_VALUE K10 K10 K10 K10 K10 K10 K10 K10 K10 K10 K10 K10 K10 K10 K10 K10 K10

struct strict_case {
    const char *name;
    const char *request; /* NUL bytes written as \x01 are sent as NUL (see send_case) */
    int status;
};

/* Item 8 and RFC 9112: what a smuggling proxy would read two ways is 400 before routing. */
static const struct strict_case strict_cases[] = {
    {"two different Content-Lengths",
     "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
    {"Content-Length +N", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400},
    {"space before the colon", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello",
     400},
    {"NUL cutting a header value",
     "GET /hello HTTP/1.1\r\nHost: x\r\nx-auth-token: token\x01junk\r\n\r\n", 400},
    {"duplicate credential header",
     "GET /hello HTTP/1.1\r\nHost: x\r\nx-auth-token: a\r\nx-auth-token: b\r\n\r\n", 400},
    {"Content-Length and chunked",
     "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
     "0\r\n\r\n",
     400},
    {"bad chunk size",
     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     "zz\r\nhello\r\n0\r\n\r\n",
     400},
    {"bare LF", "GET /hello HTTP/1.1\nHost: x\n\n", 400},
    {"obs-fold", "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n", 400},
    {"no Host", "GET /hello HTTP/1.1\r\n\r\n", 400},
    {"gzip then chunked",
     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
    {"HTTP/2.0 text", "GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", 505},
    {"head over max_headers_bytes",
     "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " BIG_VALUE "\r\n\r\n", 431},
    {"unknown expectation",
     "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 1\r\n\r\n", 417},
};

static void send_case(int fd, const char *text)
{
    char buf[20000];
    size_t n = strlen(text);

    memcpy(buf, text, n);
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\x01')
            buf[i] = '\0';
    assert_int_equal(send(fd, buf, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void unique_auth(struct http_server_config *cfg)
{
    static const char *const unique[] = {"x-auth-token", NULL};

    cfg->unique_headers = unique;
}

static void test_strict_parsing(void **state)
{
    struct fixture *f = start_tweaked(0, false, unique_auth);
    int port = http_server_port(f->s);
    (void)state;

    for (size_t i = 0; i < sizeof(strict_cases) / sizeof(strict_cases[0]); i++) {
        struct reader rd = {.fd = connect_to(port)};
        struct resp r;
        char v[64];

        send_case(rd.fd, strict_cases[i].request);
        next_resp(&rd, &r, false);
        if (r.status != strict_cases[i].status)
            fail_msg("%s: status %d, want %d", strict_cases[i].name, r.status,
                     strict_cases[i].status);
        assert_non_null(strstr(r.body, "\"code\":"));
        assert_string_equal(header(&r, "Connection", v, sizeof(v)), "close");
        expect_closed(&rd);
        close(rd.fd);
    }
    stop(f);
}

/* Chunked bodies (extensions accepted), pipelining and keep-alive, in one connection. */
static void test_chunked_and_pipelining(void **state)
{
    struct fixture *f = start(0, false);
    struct reader rd = {.fd = connect_to(http_server_port(f->s))};
    struct resp r;
    (void)state;

    send_all(rd.fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5;name=value\r\nhello\r\n3 ; q=\"a;b\"\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n"
                    "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd");
    next_resp(&rd, &r, false);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"len\":8}");
    next_resp(&rd, &r, false);
    assert_string_equal(r.body, "{\"hello\":\"world\"}");
    next_resp(&rd, &r, false);
    assert_string_equal(r.body, "{\"len\":4}");
    /* a chunked body past max_body_bytes (1024) is refused as it grows */
    send_all(rd.fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "800\r\n");
    char big[2048 + 3];
    memset(big, 'a', 2048);
    memcpy(big + 2048, "\r\n", 3);
    send_all(rd.fd, big);
    next_resp(&rd, &r, false);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "\"code\":\"body_too_large\""));
    expect_closed(&rd);
    close(rd.fd);
    stop(f);
}

static void big_bodies(struct http_server_config *cfg)
{
    cfg->max_body_bytes = 1 << 20;
}

/* Sends n bytes of p in one send() (asserts all were taken). */
static void send_bytes(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

        assert_true(k > 0);
        p += k;
        n -= (size_t)k;
    }
}

/*
 * A Content-Length body larger than the input buffer's reads, arriving in pieces of every
 * size (the rest of it is read straight from the socket), with the next request pipelined
 * behind its last byte: every body byte arrives, none of the next request's is taken. A
 * peer that stops half-way through a body gets the connection closed, no reply.
 */
static void test_large_body_in_pieces(void **state)
{
    struct fixture *f = start_tweaked(0, false, big_bodies);
    int port = http_server_port(f->s);
    struct reader rd = {.fd = connect_to(port)};
    static const size_t pieces[] = {1, 4095, 4096, 70000, 100, 131072, 17, 65000};
    size_t total = 0, at = 0;
    char *body, want[96], head[128];
    unsigned long long h = 1469598103934665603ULL;
    struct resp r;
    (void)state;

    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
        total += pieces[i];
    body = malloc(total + 64);
    for (size_t i = 0; i < total; i++) {
        body[i] = (char)('a' + (i * 7 + i / 13) % 26);
        h = (h ^ (unsigned char)body[i]) * 1099511628211ULL;
    }
    snprintf(head, sizeof(head), "POST /sum HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
             total);
    send_all(rd.fd, head);
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        size_t n = pieces[i];

        if (i + 1 == sizeof(pieces) / sizeof(pieces[0])) { /* the last piece and the next request */
            static const char next[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
            memcpy(body + at + n, next, sizeof(next) - 1);
            n += sizeof(next) - 1;
        }
        send_bytes(rd.fd, body + at, n);
        at += pieces[i];
        usleep(2000);
    }
    next_resp(&rd, &r, false);
    assert_int_equal(r.status, 200);
    snprintf(want, sizeof(want), "{\"len\":%zu,\"fnv\":%llu}", total, h);
    assert_string_equal(r.body, want);
    next_resp(&rd, &r, false);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"hello\":\"world\"}");

    /* the peer gives up half-way: closed, nothing answered, the server serves on */
    send_all(rd.fd, "POST /sum HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    send_bytes(rd.fd, body, 50000);
    usleep(2000);
    shutdown(rd.fd, SHUT_WR);
    expect_closed(&rd);
    close(rd.fd);
    assert_int_equal(ask(port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", NULL)->status, 200);
    free(body);
    stop(f);
}

/* Item 1: an oversized Content-Length is refused from the head, in our JSON, body unsent. */
static void test_body_limit_from_the_head(void **state)
{
    struct fixture *f = start(0, false);
    int port = http_server_port(f->s);
    bool closed = false;
    (void)state;

    /* within what libevent used to read before answering, and far past it */
    struct resp *r =
        ask(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n", &closed);
    assert_int_equal(r->status, 413);
    assert_non_null(strstr(r->body, "\"code\":\"body_too_large\""));
    assert_true(closed);
    r = ask(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 62914560\r\n\r\n", &closed);
    assert_int_equal(r->status, 413);
    assert_non_null(strstr(r->body, "\"code\":\"body_too_large\""));
    r = ask(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
            &closed);
    assert_int_equal(r->status, 413);
    stop(f);
}

static void small_budget(struct http_server_config *cfg)
{
    cfg->max_buffered_bytes = 2500; /* two 1000-byte bodies (and some replies), not three */
}

static int post_park(int port, size_t len)
{
    char req[2048];
    int fd = connect_to(port);
    int n = snprintf(req, sizeof(req),
                     "POST /park HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", len);

    memset(req + n, 'b', len);
    req[n + (int)len] = '\0';
    send_all(fd, req);
    return fd;
}

/* Item 1: bodies held by requests in progress count against max_buffered_bytes. */
static void test_memory_budget(void **state)
{
    struct fixture *f = start_tweaked(0, false, small_budget);
    int port = http_server_port(f->s);
    struct resp r, *rr;
    char v[64];
    (void)state;

    int a = post_park(port, 1000);
    wait_for(&posts[0].entered);
    int b = post_park(port, 1000);
    wait_for(&posts[1].entered);
    rr = ask(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", NULL);
    assert_int_equal(rr->status, 503);
    assert_non_null(strstr(rr->body, "\"code\":\"overloaded\""));
    assert_string_equal(header(rr, "Retry-After", v, sizeof(v)), "2");
    /* small requests without a body still pass */
    rr = ask(port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", NULL);
    assert_int_equal(rr->status, 200);

    event_active(posts[0].ev, EV_TIMEOUT, 0);
    read_resp(a, &r);
    assert_string_equal(r.body, "{\"len\":1000}");
    close(a);
    /* the released bytes are available again */
    int c = post_park(port, 1000);
    wait_for(&posts[2].entered);
    event_active(posts[1].ev, EV_TIMEOUT, 0);
    event_active(posts[2].ev, EV_TIMEOUT, 0);
    read_resp(b, &r);
    assert_int_equal(r.status, 200);
    read_resp(c, &r);
    assert_string_equal(r.body, "{\"len\":1000}");
    close(b);
    close(c);
    /* back to zero once the replies have left (the server sees that a moment after we do) */
    for (int i = 0;; i++) {
        rr = ask(http_server_admin_port(f->s), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
        if (strstr(rr->body, "t_http_buffered_bytes 0\n"))
            break;
        assert_true(i < 2000);
        usleep(10 * 1000);
    }
    stop(f);
}

static void two_connections(struct http_server_config *cfg)
{
    cfg->max_connections = 2;
}

/* Item 1: at max_connections accept pauses (the third client waits), and resumes on a close. */
static void test_connection_cap(void **state)
{
    struct fixture *f = start_tweaked(0, false, two_connections);
    int port = http_server_port(f->s);
    struct resp r;
    (void)state;

    int a = connect_to(port), b = connect_to(port);
    send_all(a, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    read_resp(a, &r);
    send_all(b, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    read_resp(b, &r);
    int c = connect_to(port); /* the kernel completes it; we do not accept it */
    send_all(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(quiet_for(c, 300));
    close(a);
    read_resp(c, &r);
    assert_int_equal(r.status, 200);
    close(b);
    close(c);
    stop(f);
}

static void with_hook(struct http_server_config *cfg)
{
    cfg->head = head_hook;
}

/* Item 1: credentials are decided from the head, before any body byte is read or buffered. */
static void test_head_callback(void **state)
{
    struct fixture *f = start_tweaked(0, false, with_hook);
    int port = http_server_port(f->s);
    struct reader rd = {.fd = -1};
    struct resp r;
    bool closed = false;
    char v[64];
    (void)state;

    /* no token: 401 while the client has sent only the head */
    struct resp *rr =
        ask(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", &closed);
    assert_int_equal(rr->status, 401);
    assert_true(closed);

    /* Expect: 100-continue is answered only once the head is accepted */
    rd.fd = connect_to(port);
    send_all(rd.fd, "POST /echo HTTP/1.1\r\nHost: x\r\nx-auth-token: ok\r\nContent-Length: 5\r\n"
                    "Expect: 100-continue\r\n\r\n");
    next_resp(&rd, &r, true);
    assert_int_equal(r.status, 100);
    send_all(rd.fd, "hello");
    next_resp(&rd, &r, false);
    assert_string_equal(r.body, "{\"len\":5}");

    /* a deferred decision: nothing is read meanwhile, then the body goes to the handler */
    send_all(rd.fd, "POST /echo HTTP/1.1\r\nHost: x\r\nx-auth-token: later\r\nContent-Length: 3\r\n"
                    "\r\nabc");
    wait_for(&hooked.entered);
    assert_true(quiet_for(rd.fd, 100));
    event_active(hooked.ev, EV_TIMEOUT, 0);
    next_resp(&rd, &r, false);
    assert_string_equal(r.body, "{\"len\":3}");
    assert_null(header(&r, "Connection", v, sizeof(v)));
    close(rd.fd);
    assert_int_equal(atomic_load(&hook_saw_body), 0);
    stop(f);
}

static void short_head_deadline(struct http_server_config *cfg)
{
    cfg->head_timeout_ms = 200;
}

/* Item 7: the head has a deadline from its first byte; an idle connection does not. */
static void test_head_deadline(void **state)
{
    struct fixture *f = start_tweaked(0, false, short_head_deadline);
    int port = http_server_port(f->s);
    struct reader rd = {.fd = connect_to(port)};
    struct resp r;
    (void)state;

    send_all(rd.fd, "GET /hello HTTP/1.1\r\nHo");
    for (int i = 0; i < 3; i++) { /* slowloris: a byte now and then */
        usleep(100 * 1000);
        send(rd.fd, "s", 1, MSG_NOSIGNAL);
    }
    next_resp(&rd, &r, false);
    assert_int_equal(r.status, 408);
    assert_non_null(strstr(r.body, "\"code\":\"request_timeout\""));
    expect_closed(&rd);
    close(rd.fd);

    rd.fd = connect_to(port);
    rd.len = 0;
    rd.buf[0] = '\0';
    usleep(400 * 1000); /* idle, no byte yet: not the head deadline's business */
    send_all(rd.fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    next_resp(&rd, &r, false);
    assert_int_equal(r.status, 200);
    close(rd.fd);
    stop(f);
}

static void two_per_ip(struct http_server_config *cfg)
{
    cfg->max_connections_per_ip = 2;
}

static void two_per_ip_trusted(struct http_server_config *cfg)
{
    cfg->max_connections_per_ip = 2;
    cfg->trusted_proxies = "10.0.0.0/8, 127.0.0.1/32";
}

static void per_ip_round(bool trusted)
{
    struct fixture *f = start_tweaked(0, false, trusted ? two_per_ip_trusted : two_per_ip);
    int port = http_server_port(f->s);
    int fds[3];
    struct resp r;

    for (int i = 0; i < 2; i++) { /* one after the other: two loops accept in parallel */
        fds[i] = connect_to(port);
        send_all(fds[i], "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        read_resp(fds[i], &r);
        assert_int_equal(r.status, 200);
    }
    fds[2] = connect_to(port);
    send(fds[2], "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 33, MSG_NOSIGNAL);
    if (trusted) {
        read_resp(fds[2], &r);
        assert_int_equal(r.status, 200);
    } else {
        struct reader rd = {.fd = fds[2]};
        expect_closed(&rd); /* the third from one address is closed unserved */
    }
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    /* the count goes down with the closes: a new connection is served again */
    for (int i = 0; i < 50; i++) {
        bool closed = false;
        int fd = connect_to(port);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char c;

        send(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 33, MSG_NOSIGNAL);
        closed = poll(&p, 1, 20000) == 1 && recv(fd, &c, 1, MSG_PEEK) <= 0;
        close(fd);
        if (!closed)
            break;
        assert_true(i < 49);
        usleep(10 * 1000);
    }
    stop(f);
}

/* Item 7: an optional per-address connection cap that lets trusted proxies through. */
static void test_per_ip_cap(void **state)
{
    (void)state;
    per_ip_round(false);
    per_ip_round(true);
}

static void json_only(struct http_server_config *cfg)
{
    cfg->json_bodies = true;
}

/* Item 12: a route that takes JSON refuses other media types from the head. */
static void test_json_bodies(void **state)
{
    struct fixture *f = start_tweaked(0, false, json_only);
    int port = http_server_port(f->s);
    static const struct {
        const char *type;
        int status;
    } cases[] = {
        {"text/plain", 415},
        {"multipart/form-data; boundary=x", 415},
        {"application/x-www-form-urlencoded", 415},
        {"application/jsonx", 415},
        {"text/json", 415},
        {"application/json", 200},
        {"Application/JSON; charset=utf-8", 200},
        {"application/vnd.api+json", 200},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char req[256];

        snprintf(req, sizeof(req),
                 "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: 2\r\n"
                 "Connection: close\r\n\r\n{}",
                 cases[i].type);
        struct resp *r = ask(port, req, NULL);
        if (r->status != cases[i].status)
            fail_msg("%s: %d, want %d", cases[i].type, r->status, cases[i].status);
        if (r->status == 415)
            assert_non_null(strstr(r->body, "\"code\":\"unsupported_media_type\""));
    }
    /* no Content-Type is read as JSON (as FastAPI does) */
    struct resp *r =
        ask(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", NULL);
    assert_int_equal(r->status, 200);
    stop(f);
}

static void short_grace(struct http_server_config *cfg)
{
    cfg->shutdown_grace_ms = 200;
}

/* Item 6 (HTTP side): a request still in progress when the grace ends is answered 503. */
static void test_drain_answers_what_is_left(void **state)
{
    struct fixture *f = start_tweaked(0, false, short_grace);
    int fd = connect_to(http_server_port(f->s));
    struct resp r;
    char v[64];
    (void)state;

    send_all(fd, "GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
    wait_for(&parked.entered);
    http_server_stop(f->s);
    read_resp(fd, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "\"code\":\"draining\""));
    assert_non_null(header(&r, "Retry-After", v, sizeof(v)));
    close(fd);
    pthread_join(f->thread, NULL);
    http_server_free(f->s);
    metrics_free(f->m);
    free(f);
}

/* Item 12: log_set_service() puts "service" on every line; the server adds no second one. */
static void test_listening_line_has_one_service_key(void **state)
{
    FILE *tmp = tmpfile();
    char line[4096];
    int lines = 0;
    (void)state;

    log_set_service("test");
    log_set_fd(fileno(tmp));
    struct fixture *f = start(0, false);
    for (int i = 0; i < 20000 && http_server_healthcheck("127.0.0.1", http_server_port(f->s), 1000);
         i++)
        usleep(1000);
    stop(f);
    log_set_fd(devnull_fd);
    log_set_service(NULL);
    rewind(tmp);
    while (fgets(line, sizeof(line), tmp)) {
        const char *first = strstr(line, "\"service\":");

        if (!strstr(line, "\"msg\":\"listening\"") && !strstr(line, "\"msg\":\"stopped\""))
            continue;
        lines++;
        assert_non_null(first);
        assert_null(strstr(first + 1, "\"service\":"));
    }
    assert_int_equal(lines, 2);
    fclose(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_and_request_id),
        cmocka_unit_test(test_ready_hook_says_no),
        cmocka_unit_test(test_routes_404_405_prefix),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_overloaded_then_completes),
        cmocka_unit_test(test_graceful_stop),
        cmocka_unit_test(test_thread_data_and_metrics),
        cmocka_unit_test(test_not_found_override),
        cmocka_unit_test(test_healthcheck),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_signals),
        cmocka_unit_test(test_head_has_no_body),
        cmocka_unit_test(test_strict_parsing),
        cmocka_unit_test(test_chunked_and_pipelining),
        cmocka_unit_test(test_large_body_in_pieces),
        cmocka_unit_test(test_body_limit_from_the_head),
        cmocka_unit_test(test_memory_budget),
        cmocka_unit_test(test_connection_cap),
        cmocka_unit_test(test_head_callback),
        cmocka_unit_test(test_head_deadline),
        cmocka_unit_test(test_per_ip_cap),
        cmocka_unit_test(test_json_bodies),
        cmocka_unit_test(test_drain_answers_what_is_left),
        cmocka_unit_test(test_listening_line_has_one_service_key),
    };

    devnull_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    log_set_fd(devnull_fd); /* access-log lines would interleave with cmocka's output */
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    close(devnull_fd);
    return rc;
}
