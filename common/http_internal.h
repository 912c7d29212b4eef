/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of common/http_server shared by its two files: http_server.c
 * (the server: threads, routing, the handler context and the reply path,
 * probes, drain) and http_conn.c (the connections: accept with its caps,
 * reading heads and bodies under the memory budget, deadlines, writing and
 * closing). Nothing outside those two files includes this header.
 *
 * A connection is in exactly one state; each state says who may touch it:
 *   IDLE, HEAD, BODY, LINGER    the connection code, driven by socket events
 *   HEAD_HOOK                   the head callback deferred; http_request_continue
 *                               or a reply moves it on
 *   HANDLER                     the handler; its reply moves it on
 *   WRITING                     the reply is leaving; then IDLE or LINGER
 * Reading is enabled only in IDLE, HEAD, BODY and LINGER, so a client can
 * never make us buffer more than one request ahead (the bufferevent's read
 * high-water mark bounds that too).
 */
#ifndef COMMON_HTTP_INTERNAL_H
#define COMMON_HTTP_INTERNAL_H

#include "common/http_parse.h"
#include "common/http_server.h"
#include "common/cidr.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define HTTP_REQUEST_ID_MAX 64
#define HTTP_LOG_INTS_MAX 4
#define HTTP_OUT_HEADERS_MAX 16
#define HTTP_RANDOM_POOL 512
#define HTTP_PEER_MAX 64

struct bufferevent;
struct event;
struct event_base;

enum http_conn_state {
    HTTP_CONN_IDLE,      /* between requests: waiting for a first byte */
    HTTP_CONN_HEAD,      /* a request head is arriving */
    HTTP_CONN_HEAD_HOOK, /* the head callback deferred its decision */
    HTTP_CONN_BODY,      /* the body is arriving */
    HTTP_CONN_HANDLER,   /* complete: the handler owns the request */
    HTTP_CONN_WRITING,   /* the reply is being sent */
    HTTP_CONN_LINGER,    /* reply sent, write side shut, input discarded until close */
};

struct http_conn {
    struct worker *w;
    struct bufferevent *bev;
    struct event *timer; /* the deadline of the current state */
    enum http_conn_state state;
    struct http_request *req; /* the request being read or handled, else NULL */
    struct http_scan scan;
    bool close_after; /* close once the reply has left */
    bool peer_eof;
    bool per_ip_counted;
    size_t out_counted;     /* reply bytes counted in the budget until they have left */
    unsigned char addr[16]; /* peer address, IPv4 mapped */
    char peer[HTTP_PEER_MAX];
    struct http_conn *prev, *next;
};

struct worker {
    struct http_server *s;
    int index; /* -1: the admin loop */
    bool admin;
    pthread_t thread;
    bool started;
    struct event_base *base;
    int listen_fd;
    struct event *accept_ev;      /* readable listening socket */
    struct event *accept_sync_ev; /* any thread: re-decide whether to accept */
    struct event *backoff_ev;     /* out of descriptors: accept again later */
    struct event *stop_accept_ev; /* drain: close the listening socket */
    struct event *expire_ev;      /* grace over: answer what is still live */
    long backoff_ms;
    bool accepting;
    long n_conns;
    struct http_conn *conns;
    void *thread_data;
    struct http_request *live; /* admitted, not yet replied */
    unsigned char pool[HTTP_RANDOM_POOL];
    size_t pool_used;
    char date[40];
    time_t date_at;
};

struct http_request {
    struct worker *w;
    struct http_conn *conn; /* NULL once the connection is gone */
    struct http_request *prev, *next;
    const struct http_route *route;
    int metric_route;
    enum http_method method;
    bool head_only;     /* HEAD: the reply goes without its body */
    bool framing_known; /* the head parsed: we know where the request ends */
    bool body_unread;   /* a body was announced and not (fully) read */
    bool answered;      /* the server replied for it (drain); the handler's reply is dropped */
    bool admin;
    long in_flight_before; /* requests in flight when this one arrived */
    struct timespec t0;
    char *head_buf;
    struct http_head head;
    const char *path;
    const char *query;
    char *body;
    size_t body_len, body_cap;
    long long body_want; /* Content-Length, or -1 for chunked */
    size_t reserved;     /* bytes counted in the server's budget */
    struct http_chunked chunked;
    char id[HTTP_REQUEST_ID_MAX + 1];        /* ours: the key of every row and log line */
    char client_id[HTTP_REQUEST_ID_MAX + 1]; /* the client's sane X-Request-Id, or "" */
    char peer[HTTP_PEER_MAX];
    int n_log;
    struct {
        const char *key;
        long long value;
    } log[HTTP_LOG_INTS_MAX];
    int n_out;
    struct {
        char *name, *value;
    } out[HTTP_OUT_HEADERS_MAX];
};

/* The per-IP connection counts (off when max_connections_per_ip is 0). */
struct http_ip_table {
    pthread_mutex_t lock;
    struct {
        unsigned char addr[16];
        unsigned count;
    } * slots;
    size_t mask;
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
    struct worker admin;
    bool has_admin;

    struct event_base *control_base;
    struct event *stop_ev;
    struct event *drain_timer;
    struct event *trim_timer;
    struct event *sig_ev[3];
    struct timespec drain_start;

    atomic_long in_flight;
    atomic_long writing; /* replies not yet fully sent: the drain waits for them too */
    atomic_bool draining;
    bool ran;

    /* the memory budget (http_conn.c) */
    long max_connections;
    atomic_long connections;
    atomic_bool accept_paused;
    atomic_ullong buffered;      /* bodies being read or handled + replies not yet sent */
    atomic_ullong buffered_peak; /* since the last trim */
    atomic_int reserve_fd;       /* spare descriptor for the out-of-descriptors path */
    /* accept4 takes it shared; spending the reserve takes it exclusive, so the slot the
     * reserve frees goes to the client being shed, not to another loop's accept */
    pthread_rwlock_t accept_lock;
    atomic_llong fd_log_at; /* last "out of descriptors" line, monotonic seconds */
    atomic_long fd_log_suppressed;
    struct cidr_list trusted;
    struct http_ip_table ips;
    bool conn_setup;

    struct metrics_gauge *m_connections;
    struct metrics_gauge *m_buffered;
    struct metrics_counter *m_refused;
};

/* ---- http_server.c, for http_conn.c ---- */

/* A new request context on conn (counted in flight); the head is not parsed yet. */
struct http_request *http_request_new(struct http_conn *conn);
/* The head has been read (parse result r): route it and decide. */
void http_request_begin(struct http_request *ctx, enum http_parse_result r);
/* The body is complete: hand the request to its handler. */
void http_request_dispatch(struct http_request *ctx);
/* The connection went away before the request was complete: free it without a reply. */
void http_request_discard(struct http_request *ctx);
/* Reply with an error from the connection code (timeouts, bad chunks, budget). */
void http_request_refuse(struct http_request *ctx, enum err e, const char *detail);
/* The monotonic clock in seconds. */
double http_now(void);

/* ---- http_conn.c, for http_server.c ---- */

int http_conn_setup(struct http_server *s, char *err, size_t err_len);
void http_conn_cleanup(struct http_server *s);
/* Listening socket, accept events and the drain hooks of one loop. */
int http_worker_listen(struct worker *w, int fd, char *err, size_t err_len);
void http_worker_close_all(struct worker *w);
/* Start reading the body of ctx (after the head was accepted), or dispatch it if it has none. */
void http_conn_start_body(struct http_request *ctx);
/* Read what the connection's state allows from its input buffer. */
void http_conn_process(struct http_conn *c);
/* Stop reading and timing: the request is with the head callback or the handler. */
void http_conn_wait(struct http_conn *c, enum http_conn_state state);
/* Where the reply goes; then http_conn_sent() moves the connection to WRITING. */
struct evbuffer *http_conn_output(struct http_conn *c);
void http_conn_sent(struct http_conn *c, bool close_after);
/* Release the bytes ctx holds in the budget. */
void http_budget_release(struct http_server *s, struct http_request *ctx);
/* The budget is spent: new requests are refused (503) until replies leave. */
bool http_budget_full(struct http_server *s);
/* Called from the control loop: return memory to the OS after a burst. */
void http_budget_trim(struct http_server *s);

#endif
