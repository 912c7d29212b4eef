/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP front of both daemons: our own strict HTTP/1.1 engine on libevent
 * 2.1 bufferevents (libevent stays the event loop; evhttp is not used). It
 * owns everything between the socket and a handler: threads, the memory
 * budget, parsing, limits, routing, request ids, the one reply path
 * (metrics + one access-log line), probes and shutdown. Handlers see a
 * struct http_request and end in exactly one http_reply_*().
 *
 * DESIGN
 * Threads. N workers (config worker_threads, 0 = cpu_available()), each with
 * its own event_base and listening socket on the same port through
 * SO_REUSEPORT, so the kernel spreads connections and no state is shared on
 * the request path except atomics (in-flight count, budget, metrics). With
 * port 0 the first socket binds an ephemeral port and the others bind that
 * one. The admin port (GET /metrics) has its own thread and loop.
 * http_server_run() runs a control loop in the calling thread: signals,
 * reload, drain, and returning memory to the OS after a burst.
 *
 * Parsing (common/http_parse.h): request heads are parsed strictly per RFC
 * 9112 and anything two parsers could read two ways (duplicate or signed
 * Content-Length, whitespace before a colon, NUL or other control bytes,
 * bare LF, obs-fold, Content-Length with Transfer-Encoding, a repeated
 * credential header...) gets 400 before routing. Chunked request bodies are
 * decoded (extensions accepted, a bad chunk 400). Keep-alive and pipelining
 * work, one request at a time per connection; Expect: 100-continue is
 * answered once the head has been accepted.
 *
 * Order of decisions for a request, all before its body is read: malformed
 * head 400 (431 when too large or with too many fields, 408 when it is not
 * complete within head_timeout_ms); /health and /ready; unknown path 404
 * (cfg->not_found replaces it); wrong method 405 with Allow; with
 * json_bodies, a Content-Type other than JSON 415; Content-Length over
 * max_body_bytes 413; in flight past max_in_flight 503 "overloaded" with
 * Retry-After; cfg->head (credentials, say); the body's bytes do not fit in
 * the memory budget 503. Then the body is read (a chunked one past
 * max_body_bytes 413, past the budget 503) and the handler runs. Every one
 * of those replies is our JSON error body; a refusal that leaves a body
 * unread closes the connection after the reply.
 *
 * The memory budget (details in http_conn.c): at most max_connections open
 * connections (accept is paused, not refused, at the cap), at most
 * max_connections_per_ip from one address when set (peers inside
 * trusted_proxies are exempt: a load balancer is one address), at most
 * max_buffered_bytes of request bodies and unsent replies held at once
 * (past it new requests get 503), at most max_headers_bytes of head and
 * 64 KiB of unread input per connection.
 * docs/operations.md ("Memory budget") turns these into a worst-case RSS.
 *
 * Requests. A handler runs on its worker thread with a context (struct
 * http_request) owned by the server. It may reply before returning, or defer:
 * keep the pointer, return, and call one http_reply_*() later from an event on
 * the same worker's loop (http_request_base()). The context is freed by the
 * reply; never touch it afterwards. If the client goes away meanwhile the
 * reply is still required (it is then discarded) so the context is freed.
 * request_timeout_ms bounds reading a body, sending a reply and an idle
 * keep-alive connection, not handler time (deferred handlers bound their
 * own work). HEAD is routed as GET and answered without the body.
 *
 * Built-in routes: GET /health (200 {"status":"ok"} while the process runs),
 * GET /ready (200 {"status":"ready"} when cfg->ready says so and not draining,
 * else 503 not_ready/draining), admin GET /metrics. /health and /ready are
 * exempt from max_in_flight.
 *
 * Lifecycle. SIGTERM/SIGINT (or http_server_stop()): draining starts (/ready
 * -> 503, replies carry Connection: close), listeners close, in-flight
 * requests finish up to shutdown_grace_ms; what is still in flight then is
 * answered 503 "draining" by the server (a handler's later reply is dropped),
 * every loop stops and http_server_run() returns; http_server_free()
 * releases the rest. SIGHUP calls cfg->reload on the control thread
 * (workers keep serving). SIGPIPE is ignored.
 *
 * Request ids: every request gets the server's own, 32 random hex digits,
 * sent back as the X-Request-Id response header: it is the key of every row
 * and log line. A client's X-Request-Id, when sane (1..64 chars of
 * [A-Za-z0-9_-]), is kept beside it (http_request_client_id, the access
 * log's client_request_id), never adopted: a client-chosen id could
 * otherwise collide with another client's rows.
 *
 * Naming: this module uses three prefixes: http_server_ (the server),
 * http_request_ (the handler context), http_reply_ (ending a request).
 */
#ifndef COMMON_HTTP_SERVER_H
#define COMMON_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

struct event_base;
struct json_writer;
struct metrics;
struct http_server;
struct http_request; /* per-request context, owned by the server */

enum http_method {
    HTTP_METHOD_GET = 1,
    HTTP_METHOD_POST,
    HTTP_METHOD_PUT,
    HTTP_METHOD_DELETE,
    HTTP_METHOD_HEAD,
    HTTP_METHOD_PATCH,
    HTTP_METHOD_OPTIONS,
    HTTP_METHOD_OTHER, /* anything else: never matches a route (405) */
};

struct http_route {
    enum http_method method;
    const char *path; /* exact path ("/api/extract"), or a prefix ending in '*'
                         ("/v1/jobs/" followed by '*' matches "/v1/jobs/abc"). Not copied. */
    void (*handler)(struct http_request *req, void *arg);
    void *arg;
};

/* What a head callback decided (see http_server_config.head). */
enum http_head_verdict {
    HTTP_HEAD_CONTINUE = 0, /* read the body, then run the route's handler */
    HTTP_HEAD_REPLIED,      /* it called an http_reply_*(): the body is never read */
    HTTP_HEAD_DEFER,        /* decide later: http_request_continue() or an http_reply_*() */
};

struct http_server_config {
    const char *service;         /* name for logs ("sms-extraction") */
    const char *bind_addr;       /* NULL/"" = "0.0.0.0" */
    int port;                    /* 0 = any free port (see http_server_port) */
    const char *admin_bind_addr; /* NULL/"" = bind_addr */
    int admin_port;              /* 0 = any free port, -1 = no admin listener */
    int worker_threads;          /* 0 = cpu_available() */
    size_t max_body_bytes;       /* 0 = 1 MiB */
    size_t max_headers_bytes;    /* 0 = 16 KiB */
    long request_timeout_ms;     /* 0 = 30000 */
    long head_timeout_ms; /* deadline of a whole request head from its first byte; 0 = 10000 */
    long max_in_flight;   /* 0 = unlimited */
    long max_connections; /* open service connections; 0 = RLIMIT_NOFILE - 128 */
    long max_connections_per_ip; /* 0 = no per-address cap */
    const char *trusted_proxies; /* CIDRs exempt from the per-address cap (NULL = none) */
    size_t max_buffered_bytes;   /* bodies + unsent replies held; 0 = max(64 MiB, max_body_bytes) */
    /* Extra header names (lowercase, NULL-terminated) that may appear at most once, e.g. the
     * credential headers; a repeat is 400. Not copied. Host, Content-Length, Content-Type,
     * Transfer-Encoding, Expect, Authorization and X-Request-Id are always unique. */
    const char *const *unique_headers;
    /* Every route takes a JSON body: a Content-Type other than application/json or
     * application/<x>+json (parameters allowed, absent accepted) on POST/PUT/PATCH is 415. */
    bool json_bodies;
    long shutdown_grace_ms;  /* how long a drain waits for in-flight requests */
    int retry_after_s;       /* Retry-After seconds on 503/429; 0 = 1 */
    bool handle_signals;     /* run() handles SIGTERM/SIGINT/SIGHUP (daemons: true) */
    bool access_log;         /* one info line per request */
    struct metrics *metrics; /* may be NULL; not owned */

    /* Readiness for /ready; NULL = always ready. Called on worker threads: must be thread-safe. */
    bool (*ready)(void *arg);
    void *ready_arg;
    /* SIGHUP; runs on the control thread while workers keep serving. NULL = ignore. */
    void (*reload)(void *arg);
    void *reload_arg;
    /*
     * Per-thread state: thread_init runs on each worker thread before it serves
     * (worker = 0..N-1) and its result is http_request_thread_data(); thread_done
     * runs on the same thread after its loop stops. Either may be NULL.
     * Requests still deferred when thread_done returns are discarded.
     */
    void *(*thread_init)(int worker, void *arg);
    void (*thread_done)(int worker, void *thread_data, void *arg);
    void *thread_arg;
    /* Replaces the built-in 404 reply (must end in an http_reply_*()). NULL = JSON 404. */
    void (*not_found)(struct http_request *req, void *arg);
    void *not_found_arg;
    /*
     * Called on the worker thread for every routed request once its head is
     * accepted and before any body byte is read (route_arg is the route's arg;
     * method, path, query, headers, peer and id are available, the body is
     * not): check credentials here so an unauthenticated client cannot make
     * us buffer a body. Return CONTINUE, REPLIED after an http_reply_*(), or
     * DEFER and later, from an event on the same worker loop, call
     * http_request_continue() or an http_reply_*(). NULL = always continue.
     */
    enum http_head_verdict (*head)(struct http_request *req, void *route_arg, void *arg);
    void *head_arg;
};

/*
 * Validate cfg, copy the route table (strings are not copied: use literals)
 * and bind the service and admin sockets, so the ports are known on return.
 * No thread runs yet. Returns NULL with err set on failure.
 */
struct http_server *http_server_new(const struct http_server_config *cfg,
                                    const struct http_route *routes, size_t n_routes, char *err,
                                    size_t err_len);

/* Bound ports (useful with port 0); admin -1 when disabled. Worker count after sizing. */
int http_server_port(const struct http_server *s);
int http_server_admin_port(const struct http_server *s);
int http_server_workers(const struct http_server *s);

/*
 * Start the worker and admin threads and run the control loop in the calling
 * thread until a graceful stop completes. Returns 0, or -1 with err set when
 * the threads could not start. Call once.
 */
int http_server_run(struct http_server *s, char *err, size_t err_len);

/* Begin a graceful stop, as SIGTERM does. Thread-safe; idempotent; not async-signal-safe. */
void http_server_stop(struct http_server *s);
bool http_server_draining(const struct http_server *s);

/* Free everything (after run() returned, or if it was never called). NULL is fine. */
void http_server_free(struct http_server *s);

/*
 * `--healthcheck`: GET http://host:port/health with a timeout (0 = 2000 ms).
 * Returns 0 when the reply status is 200, else -1.
 */
int http_server_healthcheck(const char *host, int port, long timeout_ms);

/* ---- the handler context ---- */

enum http_method http_request_method(const struct http_request *req);
/* Path without the query string, as sent (not percent-decoded). */
const char *http_request_path(const struct http_request *req);
/* Query string without '?', or NULL. */
const char *http_request_query(const struct http_request *req);
/* Request header (case-insensitive), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);
/* The server's request id (also in the X-Request-Id response header). */
const char *http_request_id(const struct http_request *req);
/* The client's X-Request-Id when it was sane, else NULL (kept beside ours, see above). */
const char *http_request_client_id(const struct http_request *req);
/*
 * The TCP peer's numeric address ("127.0.0.1", "::1"), or NULL when the
 * connection is gone. This is the direct peer: whether X-Forwarded-For may be
 * believed instead is the caller's policy (trusted proxies), not ours.
 */
const char *http_request_peer(const struct http_request *req);
/*
 * The whole body, contiguous and NUL-terminated (the NUL not counted in *len);
 * "" with *len 0 when empty or not read yet (in the head callback). Owned by
 * the context. Never log it.
 */
const char *http_request_body(struct http_request *req, size_t *len);
/* The declared Content-Length, or -1 (none, or a chunked body). */
long long http_request_content_length(const struct http_request *req);
/*
 * After the head callback returned HTTP_HEAD_DEFER: read the body and run
 * the handler. On the request's worker loop only; at most once; the context
 * is the server's again afterwards (if the client left meanwhile it is freed).
 */
void http_request_continue(struct http_request *req);
/* thread_init's result for this worker (NULL without thread_init). */
void *http_request_thread_data(const struct http_request *req);
int http_request_worker(const struct http_request *req);
/* The worker's loop: schedule deferred work here. */
struct event_base *http_request_base(const struct http_request *req);
/* Seconds since the request was admitted. */
double http_request_elapsed(const struct http_request *req);
/* Add a response header (before the reply). Both strings are copied. */
void http_request_set_header(struct http_request *req, const char *name, const char *value);
/*
 * Add an integer to this request's access-log line (counts, sizes: never
 * content). key must be a literal; up to 4 per request, more are ignored.
 */
void http_request_log_int(struct http_request *req, const char *key, long long value);

/* ---- ending a request: exactly one of these, exactly once ---- */

/* JSON reply; the bytes are copied. */
void http_reply_json(struct http_request *req, int status, const char *json, size_t len);
/* JSON reply taking ownership of a malloc'd buffer (freed once sent). */
void http_reply_json_owned(struct http_request *req, int status, char *json, size_t len);
/*
 * JSON reply from a writer: its buffer is moved out (the writer is left empty).
 * A writer in error turns into a 500 "internal" reply.
 */
void http_reply_json_writer(struct http_request *req, int status, struct json_writer *w);
/*
 * {"detail":"<message>","code":"<code>"} with the status of e from the error
 * table (and Retry-After when the table says so). detail NULL = the table's
 * message; otherwise a fixed text of ours, never client input.
 */
void http_reply_error(struct http_request *req, enum err e, const char *detail);
/* Any content type (e.g. "text/html; charset=utf-8"); the bytes are copied. */
void http_reply_raw(struct http_request *req, int status, const char *content_type,
                    const void *data, size_t len);

#endif
