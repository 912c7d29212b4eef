/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A real HTTP server for client tests: libevent's evhttp on 127.0.0.1, an
 * ephemeral port, its own thread. The test supplies the request callback
 * (what to answer) and keeps its own counters and locks; this file only
 * starts and stops the server, the same way for every client test.
 */
#ifndef TESTS_HTTP_TEST_SERVER_H
#define TESTS_HTTP_TEST_SERVER_H

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

struct http_test_server {
    struct event_base *base;
    struct evhttp *http;
    pthread_t thread;
    int port;
};

static void *http_test_server_main(void *arg)
{
    struct http_test_server *s = arg;
    event_base_dispatch(s->base);
    return NULL;
}

/* Serve cb(request, NULL) on a new port (s->port); max_body 0 keeps libevent's limit. */
static int http_test_server_start(struct http_test_server *s,
                                  void (*cb)(struct evhttp_request *, void *), size_t max_body)
{
    struct evhttp_bound_socket *bound;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);

    memset(s, 0, sizeof(*s));
    evthread_use_pthreads();
    s->base = event_base_new();
    s->http = evhttp_new(s->base);
    if (!s->base || !s->http)
        return -1;
    if (max_body)
        evhttp_set_max_body_size(s->http, max_body);
    evhttp_set_gencb(s->http, cb, NULL);
    bound = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
    if (!bound)
        return -1;
    getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sa, &sl);
    s->port = ntohs(sa.sin_port);
    return pthread_create(&s->thread, NULL, http_test_server_main, s);
}

static void http_test_server_stop(struct http_test_server *s)
{
    event_base_loopbreak(s->base);
    pthread_join(s->thread, NULL);
    evhttp_free(s->http);
    event_base_free(s->base);
    libevent_global_shutdown();
}

#endif
