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
#include <fcntl.h>
#include <netinet/in.h>
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

static struct parked parked;
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

static void not_found_html(struct http_request *req, void *arg)
{
    static const char page[] = "<html>forbidden</html>";

    (void)arg;
    http_reply_raw(req, 403, "text/html; charset=utf-8", page, sizeof(page) - 1);
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
    {HTTP_METHOD_GET, "/thread", handle_thread_data, NULL},
    {HTTP_METHOD_GET, "/slow", handle_slow, NULL},
    {HTTP_METHOD_GET, "/items/*", handle_hello, NULL},
    {HTTP_METHOD_GET, "/peer", handle_peer, NULL},
};

/* ---------- fixture ---------- */

static void *run_server(void *arg)
{
    struct fixture *f = arg;
    char err[256];

    f->run_rc = http_server_run(f->s, err, sizeof(err));
    return NULL;
}

static struct fixture *start(long max_in_flight, bool override_404)
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
    };

    memset(&parked, 0, sizeof(parked));
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

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_true(fd >= 0);
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
    assert_string_equal(header(r, "X-Request-Id", v, sizeof(v)), "abc-DEF_123");

    /* an id with a space or too long is replaced */
    r = exchange(http_server_port(f->s), "GET /hello HTTP/1.1\r\nHost: x\r\n"
                                         "X-Request-Id: a;b\r\nConnection: close\r\n\r\n");
    assert_int_equal(strlen(header(r, "X-Request-Id", v, sizeof(v))), 32);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_and_request_id),
        cmocka_unit_test(test_routes_404_405_prefix),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_overloaded_then_completes),
        cmocka_unit_test(test_graceful_stop),
        cmocka_unit_test(test_thread_data_and_metrics),
        cmocka_unit_test(test_not_found_override),
        cmocka_unit_test(test_healthcheck),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_signals),
    };
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

    log_set_fd(devnull); /* access-log lines would interleave with cmocka's output */
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    close(devnull);
    return rc;
}
