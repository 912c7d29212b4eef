/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/http_client against a real HTTP server: libevent's evhttp
 * on 127.0.0.1 port 0, run in a thread of this process. The server records the
 * peer port of every request, so connection reuse and connection age are
 * checked from the server's side, not taken from the client's word.
 *
 * Paths: /ok echoes the body; /flaky answers 503 while fail_remaining > 0 (and
 * /retry_after the same with "Retry-After: 1");
 * /fail always 500; /slow sleeps slow_ms before answering; /big sends 64 KiB.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/unit/http_test_server.h"

#include "common/http_client.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PEERS 64

struct test_server {
    struct http_test_server net;
    pthread_mutex_t lock;
    int requests;
    int fail_remaining;
    long slow_ms;
    int peers[MAX_PEERS];
    int n_peers;
};

static struct test_server srv;

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void note_peer(struct evhttp_request *req)
{
    char *addr = NULL;
    ev_uint16_t port = 0;
    int i;

    evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr, &port);
    pthread_mutex_lock(&srv.lock);
    srv.requests++;
    for (i = 0; i < srv.n_peers; i++)
        if (srv.peers[i] == port)
            break;
    if (i == srv.n_peers && srv.n_peers < MAX_PEERS)
        srv.peers[srv.n_peers++] = port;
    pthread_mutex_unlock(&srv.lock);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    struct evbuffer *out = evbuffer_new();
    int status = 200;

    (void)arg;
    note_peer(req);
    if (strcmp(path, "/ok") == 0) {
        evbuffer_add_buffer(out, evhttp_request_get_input_buffer(req));
    } else if (strcmp(path, "/flaky") == 0) {
        pthread_mutex_lock(&srv.lock);
        if (srv.fail_remaining > 0) {
            srv.fail_remaining--;
            status = 503;
        }
        pthread_mutex_unlock(&srv.lock);
        evbuffer_add_printf(out, status == 200 ? "fine" : "busy");
    } else if (strcmp(path, "/retry_after") == 0) {
        pthread_mutex_lock(&srv.lock);
        if (srv.fail_remaining > 0) {
            srv.fail_remaining--;
            status = 503;
            evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        }
        pthread_mutex_unlock(&srv.lock);
    } else if (strcmp(path, "/fail") == 0) {
        status = 500;
    } else if (strcmp(path, "/slow") == 0) {
        sleep_ms(srv.slow_ms); /* blocks this test server only; the client must time out */
        evbuffer_add_printf(out, "late");
    } else if (strcmp(path, "/big") == 0) {
        static char chunk[65536];
        memset(chunk, 'x', sizeof(chunk));
        evbuffer_add(out, chunk, sizeof(chunk));
    } else {
        status = 404;
    }
    evhttp_send_reply(req, status, "x", out);
    evbuffer_free(out);
}

static int server_up(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.lock, NULL);
    return http_test_server_start(&srv.net, on_request, 0);
}

static int server_down(void **state)
{
    (void)state;
    http_test_server_stop(&srv.net);
    pthread_mutex_destroy(&srv.lock);
    return 0;
}

static void server_reset(int fail_remaining)
{
    pthread_mutex_lock(&srv.lock);
    srv.requests = 0;
    srv.n_peers = 0;
    srv.fail_remaining = fail_remaining;
    srv.slow_ms = 600;
    pthread_mutex_unlock(&srv.lock);
}

static int server_requests(void)
{
    int n;

    pthread_mutex_lock(&srv.lock);
    n = srv.requests;
    pthread_mutex_unlock(&srv.lock);
    return n;
}

static int server_peers(void)
{
    int n;

    pthread_mutex_lock(&srv.lock);
    n = srv.n_peers;
    pthread_mutex_unlock(&srv.lock);
    return n;
}

static void url_for(char *buf, size_t len, const char *path)
{
    snprintf(buf, len, "http://127.0.0.1:%d%s", srv.net.port, path);
}

static void fast_config(struct http_client_config *cfg)
{
    http_client_config_default(cfg);
    cfg->backoff_base_ms = 5;
    cfg->backoff_max_ms = 20;
}

static struct http_client_upstream *upstream_new(const struct http_client_config *cfg)
{
    char err[256];
    struct http_client_upstream *up = http_client_upstream_new(cfg, err, sizeof(err));

    assert_non_null(up);
    return up;
}

/* The client under test, the upstream it runs on and the config both were built from. */
struct rig {
    struct http_client_config cfg;
    struct http_client_upstream *up;
    struct http_client *c;
};

/*
 * Setup is in two steps so each test can set only the config fields it is
 * about in between: rig_prepare makes the server forget earlier tests and
 * fail its next fail_remaining /flaky or /retry_after requests, and gives
 * cfg fast backoff; rig_open builds the upstream and client from cfg.
 */
static void rig_prepare(struct rig *r, int fail_remaining)
{
    server_reset(fail_remaining);
    fast_config(&r->cfg);
}

static void rig_open(struct rig *r)
{
    r->up = upstream_new(&r->cfg);
    r->c = http_client_new(r->up);
}

static void rig_close(struct rig *r)
{
    http_client_free(r->c);
    http_client_upstream_free(r->up);
}

static struct http_client_stats stats(struct rig *r)
{
    struct http_client_stats st;

    http_client_upstream_stats(r->up, &st);
    return st;
}

static enum http_client_result post(struct http_client *c, const char *path, const char *body,
                                    struct http_client_response *resp)
{
    char url[128];
    struct http_client_request req = {0};

    url_for(url, sizeof(url), path);
    req.url = url;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    return http_client_do(c, &req, resp);
}

/*
 * A call whose reply matters only by its outcome: checks it is want and
 * frees the reply. Returns whether the call opened a new connection, for
 * the tests about connection reuse.
 */
static bool post_expect(struct http_client *c, const char *path, const char *body,
                        enum http_client_result want)
{
    struct http_client_response resp;
    enum http_client_result got = post(c, path, body, &resp);
    bool opened = resp.new_connection;

    http_client_response_free(&resp);
    assert_int_equal(got, want);
    return opened;
}

static void test_keep_alive_reuses_one_connection(void **state)
{
    struct rig r;
    struct http_client_stats st;
    int i;

    (void)state;
    rig_prepare(&r, 0);
    rig_open(&r);
    for (i = 0; i < 5; i++) {
        struct http_client_response resp;

        assert_int_equal(post(r.c, "/ok", "{\"n\":1}", &resp), HTTP_CLIENT_OK);
        assert_int_equal(resp.status, 200);
        assert_string_equal((char *)resp.body, "{\"n\":1}");
        assert_int_equal(resp.new_connection, i == 0);
        http_client_response_free(&resp);
    }
    assert_int_equal(server_requests(), 5);
    assert_int_equal(server_peers(), 1);
    st = stats(&r);
    assert_int_equal(st.connections_opened, 1);
    assert_int_equal(st.requests, 5);
    rig_close(&r);
}

static void test_retries_503_then_succeeds(void **state)
{
    struct rig r;
    struct http_client_response resp;
    struct http_client_stats st;

    (void)state;
    rig_prepare(&r, 2);
    r.cfg.max_retries = 3;
    rig_open(&r);
    assert_int_equal(post(r.c, "/flaky", "{}", &resp), HTTP_CLIENT_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 3);
    assert_string_equal((char *)resp.body, "fine");
    assert_int_equal(server_requests(), 3);
    st = stats(&r);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.failures, 2);
    assert_int_equal(st.consecutive_failures, 0);
    assert_int_equal(st.state, HTTP_CLIENT_BREAKER_CLOSED);
    http_client_response_free(&resp);
    rig_close(&r);
}

static void test_retries_exhausted_returns_last_5xx(void **state)
{
    struct rig r;
    struct http_client_response resp;

    (void)state;
    rig_prepare(&r, 100);
    r.cfg.max_retries = 2;
    r.cfg.breaker_threshold = 0;
    rig_open(&r);
    assert_int_equal(post(r.c, "/flaky", "{}", &resp), HTTP_CLIENT_E_HTTP_5XX);
    assert_int_equal(resp.status, 503);
    assert_int_equal(resp.attempts, 3);
    assert_int_equal(server_requests(), 3);
    assert_non_null(strstr(resp.error, "HTTP 503"));
    http_client_response_free(&resp);
    rig_close(&r);
}

static void test_total_timeout(void **state)
{
    struct rig r;
    struct http_client_response resp;

    (void)state;
    rig_prepare(&r, 0);
    r.cfg.timeout_ms = 150;
    r.cfg.max_retries = 0;
    rig_open(&r);
    assert_int_equal(post(r.c, "/slow", "{}", &resp), HTTP_CLIENT_E_TIMEOUT);
    assert_int_equal(resp.attempts, 1);
    assert_int_equal(resp.status, 0);
    assert_non_null(strstr(resp.error, "/slow"));
    http_client_response_free(&resp);
    rig_close(&r);
}

static void test_circuit_opens_then_half_opens(void **state)
{
    struct rig r;
    struct http_client_response resp;
    struct http_client_stats st;
    int i;

    (void)state;
    rig_prepare(&r, 0);
    r.cfg.max_retries = 0;
    r.cfg.breaker_threshold = 3;
    r.cfg.breaker_open_ms = 300;
    rig_open(&r);
    for (i = 0; i < 3; i++)
        post_expect(r.c, "/fail", NULL, HTTP_CLIENT_E_HTTP_5XX);
    st = stats(&r);
    assert_int_equal(st.state, HTTP_CLIENT_BREAKER_OPEN);
    assert_int_equal(st.breaker_opens, 1);

    /* open: refused without reaching the server */
    assert_int_equal(post(r.c, "/ok", "{}", &resp), HTTP_CLIENT_E_CIRCUIT_OPEN);
    assert_int_equal(resp.attempts, 0);
    assert_int_equal(server_requests(), 3);
    http_client_response_free(&resp);

    /* after the interval one probe goes through; its failure re-opens the circuit */
    sleep_ms(350);
    assert_int_equal(stats(&r).state, HTTP_CLIENT_BREAKER_HALF_OPEN);
    post_expect(r.c, "/fail", NULL, HTTP_CLIENT_E_HTTP_5XX);
    st = stats(&r);
    assert_int_equal(st.state, HTTP_CLIENT_BREAKER_OPEN);
    assert_int_equal(st.breaker_opens, 2);
    assert_int_equal(server_requests(), 4);

    /* a successful probe closes it */
    sleep_ms(350);
    post_expect(r.c, "/ok", "{}", HTTP_CLIENT_OK);
    st = stats(&r);
    assert_int_equal(st.state, HTTP_CLIENT_BREAKER_CLOSED);
    assert_int_equal(st.consecutive_failures, 0);
    assert_int_equal(st.rejected, 1);
    rig_close(&r);
}

static void test_max_conn_age_forces_new_connection(void **state)
{
    struct rig r;

    (void)state;
    rig_prepare(&r, 0);
    r.cfg.max_conn_age_s = 1;
    rig_open(&r);
    assert_true(post_expect(r.c, "/ok", "a", HTTP_CLIENT_OK));  /* opens one */
    assert_false(post_expect(r.c, "/ok", "b", HTTP_CLIENT_OK)); /* reuses it */
    assert_int_equal(server_peers(), 1);
    /* libcurl retires a connection once its age in whole seconds exceeds the limit */
    sleep_ms(2600);
    assert_true(post_expect(r.c, "/ok", "c", HTTP_CLIENT_OK));
    assert_int_equal(server_peers(), 2);
    rig_close(&r);
}

static void test_batch_runs_all_and_keeps_order(void **state)
{
    struct rig r;
    struct http_client_request reqs[7];
    struct http_client_response resps[7];
    char urls[7][128], bodies[7][32];
    size_t i, ok;

    (void)state;
    rig_prepare(&r, 0);
    r.cfg.max_parallel = 3;
    r.cfg.max_retries = 1;
    r.cfg.breaker_threshold = 0;
    rig_open(&r);
    memset(reqs, 0, sizeof(reqs));
    for (i = 0; i < 7; i++) {
        url_for(urls[i], sizeof(urls[i]), i == 4 ? "/fail" : "/ok");
        snprintf(bodies[i], sizeof(bodies[i]), "{\"batch\":%zu}", i);
        reqs[i].url = urls[i];
        reqs[i].body = bodies[i];
        reqs[i].body_len = strlen(bodies[i]);
    }
    ok = http_client_do_batch(r.c, reqs, resps, 7);
    assert_int_equal(ok, 6);
    for (i = 0; i < 7; i++) {
        if (i == 4) {
            assert_int_equal(resps[i].result, HTTP_CLIENT_E_HTTP_5XX);
            assert_int_equal(resps[i].attempts, 2);
        } else {
            assert_int_equal(resps[i].result, HTTP_CLIENT_OK);
            assert_string_equal((char *)resps[i].body, bodies[i]);
        }
        http_client_response_free(&resps[i]);
    }
    assert_int_equal(server_requests(), 8);
    assert_true(server_peers() <= 3);
    rig_close(&r);
}

static void test_response_cap(void **state)
{
    struct rig r;
    struct http_client_response resp;

    (void)state;
    rig_prepare(&r, 0);
    r.cfg.max_response_bytes = 1000;
    rig_open(&r);
    assert_int_equal(post(r.c, "/big", NULL, &resp), HTTP_CLIENT_E_TOO_LARGE);
    assert_int_equal(resp.attempts, 1);
    http_client_response_free(&resp);
    rig_close(&r);
}

static void test_connect_error_is_retried(void **state)
{
    struct rig r;
    struct http_client_response resp;
    struct http_client_request req = {0};
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sa);
    char url[128];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    (void)state;
    /* a port that was just free: bound then closed, nothing listens there */
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", ntohs(sa.sin_port));
    fast_config(&r.cfg); /* not rig_prepare: the test server plays no part here */
    r.cfg.max_retries = 2;
    rig_open(&r);
    req.url = url;
    assert_int_equal(http_client_do(r.c, &req, &resp), HTTP_CLIENT_E_CONNECT);
    assert_int_equal(resp.attempts, 3);
    assert_non_null(strstr(resp.error, url));
    assert_int_equal(stats(&r).failures, 3);
    http_client_response_free(&resp);
    rig_close(&r);
}

static void test_config_validation(void **state)
{
    struct http_client_config cfg;
    char err[256] = "";

    (void)state;
    http_client_config_default(&cfg);
    cfg.max_parallel = 0;
    assert_null(http_client_upstream_new(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "max_parallel"));
    http_client_config_default(&cfg);
    cfg.backoff_max_ms = 1;
    assert_null(http_client_upstream_new(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "backoff"));
    assert_string_equal(http_client_breaker_state_name(HTTP_CLIENT_BREAKER_HALF_OPEN), "half_open");
    assert_string_equal(http_client_result_name(HTTP_CLIENT_E_CIRCUIT_OPEN), "circuit_open");
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void test_retry_after_is_honoured_up_to_cap(void **state)
{
    struct rig r;
    struct http_client_response resp;
    uint64_t t0;

    (void)state;
    rig_prepare(&r, 1);
    r.cfg.backoff_max_ms = 300; /* Retry-After: 1 s is capped to this */
    rig_open(&r);
    t0 = now_ms();
    assert_int_equal(post(r.c, "/retry_after", "{}", &resp), HTTP_CLIENT_OK);
    /* a lower bound only: the pause asked for must have happened (backoff alone is <= 20 ms) */
    assert_true(now_ms() - t0 >= 290);
    assert_int_equal(resp.attempts, 2);
    http_client_response_free(&resp);
    rig_close(&r);
}

struct worker {
    struct http_client_upstream *up;
    int ok;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct http_client *c = http_client_new(w->up);
    int i;

    for (i = 0; i < 20; i++) {
        struct http_client_response resp;

        w->ok += post(c, "/ok", "{}", &resp) == HTTP_CLIENT_OK;
        http_client_response_free(&resp);
    }
    http_client_free(c);
    return NULL;
}

static void test_threads_share_one_upstream(void **state)
{
    struct rig r; /* its client stays unopened: each thread makes its own */
    struct http_client_stats st;
    struct worker w[4];
    pthread_t t[4];
    int i;

    (void)state;
    rig_prepare(&r, 0);
    r.up = upstream_new(&r.cfg);
    for (i = 0; i < 4; i++) {
        w[i].up = r.up;
        w[i].ok = 0;
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].ok, 20);
    }
    st = stats(&r);
    assert_int_equal(st.requests, 80);
    assert_int_equal(st.attempts, 80);
    assert_int_equal(server_requests(), 80);
    /* one connection per thread's client, each kept alive for its 20 calls */
    assert_int_equal(st.connections_opened, 4);
    assert_int_equal(server_peers(), 4);
    http_client_upstream_free(r.up);
}

/* A call on another thread, for the cancel test. */
struct slow_call {
    struct http_client *c;
    struct http_client_response resp;
    enum http_client_result result;
};

static void *slow_call_main(void *arg)
{
    struct slow_call *sc = arg;

    sc->result = post(sc->c, "/slow", "{}", &sc->resp);
    return NULL;
}

/*
 * Shutdown (issue 11, item 6): a call waiting on a slow peer, with retries
 * left, ends when the upstream is cancelled instead of running to its
 * timeouts (here the peer would have answered 200 after 1 s); later calls
 * end at once.
 */
static void test_cancel_ends_calls_in_progress(void **state)
{
    struct rig r;
    struct slow_call sc = {0};
    struct http_client_response resp;
    pthread_t t;

    (void)state;
    rig_prepare(&r, 0);
    srv.slow_ms = 1000;
    r.cfg.timeout_ms = 10000;
    r.cfg.max_retries = 2;
    rig_open(&r);
    sc.c = r.c;
    assert_int_equal(pthread_create(&t, NULL, slow_call_main, &sc), 0);
    while (server_requests() == 0) /* the call reached the peer */
        sleep_ms(5);
    http_client_upstream_cancel(r.up);
    pthread_join(t, NULL);
    assert_int_equal(sc.result, HTTP_CLIENT_E_CANCELLED);
    assert_non_null(strstr(sc.resp.error, "cancelled"));
    assert_string_equal(http_client_result_name(sc.result), "cancelled");
    http_client_response_free(&sc.resp);
    assert_int_equal(post(r.c, "/ok", "{}", &resp), HTTP_CLIENT_E_CANCELLED);
    assert_int_equal(resp.attempts, 0);
    http_client_response_free(&resp);
    sleep_ms(1100); /* the test server's handler is still sleeping: let it finish */
    rig_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_alive_reuses_one_connection),
        cmocka_unit_test(test_retries_503_then_succeeds),
        cmocka_unit_test(test_retries_exhausted_returns_last_5xx),
        cmocka_unit_test(test_total_timeout),
        cmocka_unit_test(test_circuit_opens_then_half_opens),
        cmocka_unit_test(test_max_conn_age_forces_new_connection),
        cmocka_unit_test(test_batch_runs_all_and_keeps_order),
        cmocka_unit_test(test_response_cap),
        cmocka_unit_test(test_connect_error_is_retried),
        cmocka_unit_test(test_config_validation),
        cmocka_unit_test(test_retry_after_is_honoured_up_to_cap),
        cmocka_unit_test(test_threads_share_one_upstream),
        cmocka_unit_test(test_cancel_ends_calls_in_progress),
    };

    return cmocka_run_group_tests(tests, server_up, server_down);
}
