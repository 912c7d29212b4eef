/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connections of common/http_server, on libevent bufferevents: accept
 * under the connection caps, read request heads and bodies under the memory
 * budget and the deadlines, send replies, close. The server side
 * (http_server.c) decides what a request means; this file decides what a
 * socket may cost. States and ownership are described in http_internal.h.
 *
 * DESIGN: the memory budget.
 *   - Connections: at most max_connections open service connections across
 *     all loops. Reaching the cap pauses accept on every loop (the listening
 *     sockets are simply not polled, so the kernel backlog holds the rest);
 *     the first close below the cap resumes it. Nothing spins.
 *   - Bytes: a request body is counted in the server-wide budget
 *     (max_buffered_bytes) from the moment it is admitted until its reply is
 *     sent: a Content-Length body is reserved whole before its first byte
 *     is read, a chunked one as it grows. A reply is counted from when it is
 *     queued until it has left the socket, so clients that never read their
 *     replies spend the budget too. A request that does not fit, or arrives
 *     while the budget is spent, is answered 503 with Retry-After from its
 *     head: the budget is a hard bound (replies already produced are still
 *     sent, so it is overshot by at most the requests in flight).
 *   - Per connection: the input buffer stops reading at READ_HIGH_WATER, a
 *     head is at most max_headers_bytes, and nothing is read while a request
 *     is being handled or its reply sent, so a connection holds at most one
 *     request ahead.
 *   - Afterwards: buffers of 4 MiB and more are mmap'd by glibc (the
 *     threshold is pinned, so it cannot drift up after a burst) and go back
 *     to the OS when freed; after a burst the control loop trims the heap
 *     (malloc_trim returns the free pages of every arena).
 * Out of file descriptors: accept backs off (50 ms doubling to 1 s) instead
 * of spinning on EMFILE, a reserve descriptor lets it shed one waiting
 * client per attempt, and one JSON line per 10 s says so.
 * Deadlines: a head must arrive within head_timeout_ms of its first byte
 * (slowloris gets 408 and the door), a body within request_timeout_ms, a
 * reply must leave within request_timeout_ms, an idle keep-alive
 * connection closes after request_timeout_ms. Closing after a reply shuts
 * the write side and discards input for up to LINGER_MS, so a client still
 * sending a refused body reads our reply instead of a reset.
 */
#include "common/http_internal.h"

#include "common/log.h"
#include "common/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_BATCH 64
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000
#define FD_LOG_INTERVAL_S 10
#define FD_KEPT_FOR_PROCESS 128 /* files, databases, outgoing calls: not for clients */
#define DEFAULT_MAX_CONNECTIONS 10000
#define ADMIN_MAX_CONNECTIONS 64
#define LINGER_MS 1000
#define READ_HIGH_WATER (64u << 10)
#define MAX_SINGLE_WRITE (256u << 10) /* per loop pass and connection: large replies, fairly */
#define CHUNKED_BODY_FIRST (16u << 10)
#define TRIM_MIN_PEAK (4u << 20)
/* Buffers this large are mmap'd and go back to the OS when freed. Lower costs throughput:
 * at 128 KiB every 1,000-SMS request's buffers were mapped and unmapped, and requests/s
 * halved (bench/http.sh); smaller buffers reuse the heap, trimmed after a burst. */
#define MMAP_THRESHOLD (4 << 20)

static void oom(void)
{
    fputs("http_server: out of memory\n", stderr);
    abort();
}

static void arm(struct http_conn *c, long ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    evtimer_add(c->timer, &tv);
}

static void refused(struct http_server *s, const char *reason)
{
    metrics_counter_add_label(s->m_refused, reason, 1);
}

/* ---------- the byte budget ---------- */

static bool budget_reserve(struct http_server *s, struct http_request *ctx, size_t n)
{
    unsigned long long cur = atomic_load(&s->buffered), peak;

    do {
        if (cur + n > s->cfg.max_buffered_bytes)
            return false;
    } while (!atomic_compare_exchange_weak(&s->buffered, &cur, cur + n));
    ctx->reserved += n;
    metrics_gauge_add(s->m_buffered, (long long)n);
    peak = atomic_load(&s->buffered_peak);
    while (cur + n > peak && !atomic_compare_exchange_weak(&s->buffered_peak, &peak, cur + n))
        ;
    return true;
}

/* Bytes that exist already (a reply): counted even past the budget, never refused. */
static void budget_add(struct http_server *s, size_t n)
{
    unsigned long long now = atomic_fetch_add(&s->buffered, n) + n;
    unsigned long long peak = atomic_load(&s->buffered_peak);

    metrics_gauge_add(s->m_buffered, (long long)n);
    while (now > peak && !atomic_compare_exchange_weak(&s->buffered_peak, &peak, now))
        ;
}

static void budget_sub(struct http_server *s, size_t n)
{
    if (!n)
        return;
    atomic_fetch_sub(&s->buffered, n);
    metrics_gauge_add(s->m_buffered, -(long long)n);
}

bool http_budget_full(struct http_server *s)
{
    return atomic_load(&s->buffered) >= s->cfg.max_buffered_bytes;
}

void http_budget_release(struct http_server *s, struct http_request *ctx)
{
    budget_sub(s, ctx->reserved);
    ctx->reserved = 0;
}

void http_budget_trim(struct http_server *s)
{
    unsigned long long peak = atomic_load(&s->buffered_peak);
    unsigned long long cur = atomic_load(&s->buffered);

    if (peak < TRIM_MIN_PEAK || cur > peak / 8)
        return;
    malloc_trim(0);
    atomic_store(&s->buffered_peak, cur);
}

/* ---------- per-IP connection counts ---------- */

static size_t ip_hash(const unsigned char a[16])
{
    size_t h = 1469598103934665603ULL;

    for (int i = 0; i < 16; i++) {
        h ^= a[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Count one more connection of addr; false when it is at its cap (or the table is full). */
static bool ip_acquire(struct http_server *s, const unsigned char addr[16])
{
    struct http_ip_table *t = &s->ips;
    bool ok = false;

    pthread_mutex_lock(&t->lock);
    for (size_t i = 0, h = ip_hash(addr); i <= t->mask; i++) {
        size_t k = (h + i) & t->mask;

        if (t->slots[k].count == 0) {
            memcpy(t->slots[k].addr, addr, 16);
            t->slots[k].count = 1;
            ok = true;
            break;
        }
        if (memcmp(t->slots[k].addr, addr, 16) == 0) {
            ok = t->slots[k].count < (unsigned)s->cfg.max_connections_per_ip;
            t->slots[k].count += ok;
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return ok;
}

/* Linear probing with backward-shift deletion: no tombstones to clean up. */
static void ip_delete(struct http_ip_table *t, size_t i)
{
    for (size_t j = i;;) {
        j = (j + 1) & t->mask;
        if (t->slots[j].count == 0)
            break;
        size_t k = ip_hash(t->slots[j].addr) & t->mask;
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        t->slots[i] = t->slots[j];
        i = j;
    }
    t->slots[i].count = 0;
}

static void ip_release(struct http_server *s, const unsigned char addr[16])
{
    struct http_ip_table *t = &s->ips;

    pthread_mutex_lock(&t->lock);
    for (size_t i = 0, h = ip_hash(addr); i <= t->mask; i++) {
        size_t k = (h + i) & t->mask;

        if (t->slots[k].count == 0)
            break;
        if (memcmp(t->slots[k].addr, addr, 16) != 0)
            continue;
        if (--t->slots[k].count == 0)
            ip_delete(t, k);
        break;
    }
    pthread_mutex_unlock(&t->lock);
}

/* ---------- accept, paused at the connection cap ---------- */

static void accept_update(struct worker *w)
{
    struct http_server *s = w->s;
    bool want = w->listen_fd >= 0 && !evtimer_pending(w->backoff_ev, NULL) &&
                (w->admin || !atomic_load(&s->accept_paused));

    if (want == w->accepting)
        return;
    if (want)
        event_add(w->accept_ev, NULL);
    else
        event_del(w->accept_ev);
    w->accepting = want;
}

static void sync_all(struct http_server *s)
{
    for (int i = 0; i < s->n_workers; i++)
        event_active(s->workers[i].accept_sync_ev, EV_TIMEOUT, 0);
}

static void pause_accept(struct http_server *s)
{
    if (!atomic_exchange(&s->accept_paused, true)) {
        refused(s, "accept_paused");
        sync_all(s);
    }
}

static void release_connection(struct http_server *s)
{
    long n = atomic_fetch_sub(&s->connections, 1) - 1;

    metrics_gauge_add(s->m_connections, -1);
    if (n < s->max_connections && atomic_load(&s->accept_paused) &&
        atomic_exchange(&s->accept_paused, false))
        sync_all(s);
}

/* Take one connection slot (and its per-IP share); false = refused, the caller closes. */
static bool admit_connection(struct worker *w, struct http_conn *c)
{
    struct http_server *s = w->s;
    long n;

    if (w->admin) {
        if (w->n_conns >= ADMIN_MAX_CONNECTIONS)
            return false;
        w->n_conns++;
        return true;
    }
    n = atomic_fetch_add(&s->connections, 1) + 1;
    metrics_gauge_add(s->m_connections, 1);
    if (n >= s->max_connections)
        pause_accept(s);
    if (n > s->max_connections) {
        /* another loop took the last slot at the same moment */
        release_connection(s);
        refused(s, "max_connections");
        return false;
    }
    if (s->cfg.max_connections_per_ip > 0 && !cidr_list_match_addr(&s->trusted, c->addr)) {
        if (!ip_acquire(s, c->addr)) {
            release_connection(s);
            refused(s, "per_ip");
            return false;
        }
        c->per_ip_counted = true;
    }
    return true;
}

static void peer_of(const struct sockaddr_storage *ss, struct http_conn *c)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

        inet_ntop(AF_INET, &sin->sin_addr, c->peer, sizeof(c->peer));
        c->addr[10] = c->addr[11] = 0xff;
        memcpy(c->addr + 12, &sin->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

        inet_ntop(AF_INET6, &sin6->sin6_addr, c->peer, sizeof(c->peer));
        memcpy(c->addr, &sin6->sin6_addr, 16);
    } else {
        snprintf(c->peer, sizeof(c->peer), "unknown");
    }
}

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);

static void conn_open(struct worker *w, int fd, const struct sockaddr_storage *ss)
{
    struct http_server *s = w->s;
    struct http_conn *c = calloc(1, sizeof(*c));

    if (!c)
        oom();
    c->w = w;
    peer_of(ss, c);
    if (!admit_connection(w, c)) {
        close(fd);
        free(c);
        return;
    }
    c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->timer = evtimer_new(w->base, on_timer, c);
    if (!c->bev || !c->timer)
        oom();
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_set_max_single_read(c->bev, READ_HIGH_WATER);
    bufferevent_set_max_single_write(c->bev, MAX_SINGLE_WRITE);
    bufferevent_setwatermark(c->bev, EV_READ, 0,
                             s->cfg.max_headers_bytes + 64 > READ_HIGH_WATER
                                 ? s->cfg.max_headers_bytes + 64
                                 : READ_HIGH_WATER);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->state = HTTP_CONN_IDLE;
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    arm(c, s->cfg.request_timeout_ms);
}

static void log_out_of_descriptors(struct worker *w)
{
    struct http_server *s = w->s;
    long long now = (long long)http_now();
    long long last = atomic_load(&s->fd_log_at);

    if (now - last < FD_LOG_INTERVAL_S ||
        !atomic_compare_exchange_strong(&s->fd_log_at, &last, now)) {
        atomic_fetch_add(&s->fd_log_suppressed, 1);
        return;
    }
    log_warn(NULL, "accept paused: out of file descriptors", LOG_INT("backoff_ms", w->backoff_ms),
             LOG_INT("connections", atomic_load(&s->connections)),
             LOG_INT("suppressed", atomic_exchange(&s->fd_log_suppressed, 0)));
}

/* Keep one descriptor in hand for the next shedding (see out_of_descriptors). */
static void restore_reserve(struct http_server *s)
{
    int expected = -1;
    int spare;

    if (atomic_load(&s->reserve_fd) >= 0)
        return;
    spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (spare >= 0 && !atomic_compare_exchange_strong(&s->reserve_fd, &expected, spare))
        close(spare);
}

/* Close one waiting client with the reserve descriptor: it sees a close rather than a hang. */
static void shed_one_client(struct http_server *s, int listen_fd)
{
    int spare;

    pthread_rwlock_wrlock(&s->accept_lock);
    spare = atomic_exchange(&s->reserve_fd, -1);
    if (spare >= 0) {
        close(spare);
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            close(fd);
            refused(s, "out_of_descriptors");
        }
        restore_reserve(s);
    }
    pthread_rwlock_unlock(&s->accept_lock);
}

/*
 * EMFILE and friends: the listening socket stays readable, so retrying at
 * once would spin. Shed one waiting client, then back off.
 */
static void out_of_descriptors(struct worker *w)
{
    struct timeval tv;

    shed_one_client(w->s, w->listen_fd);
    w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (w->backoff_ms > BACKOFF_MAX_MS)
        w->backoff_ms = BACKOFF_MAX_MS;
    tv.tv_sec = w->backoff_ms / 1000;
    tv.tv_usec = (w->backoff_ms % 1000) * 1000;
    evtimer_add(w->backoff_ev, &tv);
    accept_update(w);
    log_out_of_descriptors(w);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct worker *w = arg;
    struct http_server *s = w->s;

    (void)what;
    for (int i = 0; i < ACCEPT_BATCH && (w->admin || !atomic_load(&s->accept_paused)); i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd;

        pthread_rwlock_rdlock(&s->accept_lock);
        fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        pthread_rwlock_unlock(&s->accept_lock);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                out_of_descriptors(w);
            return;
        }
        w->backoff_ms = 0;
        conn_open(w, fd, &ss);
    }
}

static void on_accept_sync(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    accept_update(arg);
}

static void on_stop_accept(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;

    (void)fd;
    (void)what;
    if (w->listen_fd < 0)
        return;
    event_del(w->accept_ev);
    w->accepting = false;
    close(w->listen_fd);
    w->listen_fd = -1;
}

int http_worker_listen(struct worker *w, int fd, char *err, size_t err_len)
{
    w->listen_fd = fd;
    w->accept_ev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_accept, w);
    w->accept_sync_ev = event_new(w->base, -1, 0, on_accept_sync, w);
    w->backoff_ev = evtimer_new(w->base, on_accept_sync, w);
    w->stop_accept_ev = event_new(w->base, -1, 0, on_stop_accept, w);
    if (!w->accept_ev || !w->accept_sync_ev || !w->backoff_ev || !w->stop_accept_ev) {
        snprintf(err, err_len, "cannot create accept events");
        return -1;
    }
    accept_update(w);
    return 0;
}

/* ---------- closing ---------- */

/* The state changes from WRITING: the drain counts replies still leaving. */
static void set_state(struct http_conn *c, enum http_conn_state state)
{
    if (c->state == HTTP_CONN_WRITING && state != HTTP_CONN_WRITING) {
        atomic_fetch_sub(&c->w->s->writing, 1);
        budget_sub(c->w->s, c->out_counted);
        c->out_counted = 0;
    } else if (c->state != HTTP_CONN_WRITING && state == HTTP_CONN_WRITING)
        atomic_fetch_add(&c->w->s->writing, 1);
    c->state = state;
}

static void conn_close(struct http_conn *c)
{
    struct worker *w = c->w;
    struct http_request *ctx = c->req;

    if (ctx) {
        c->req = NULL;
        if (c->state == HTTP_CONN_HEAD_HOOK || c->state == HTTP_CONN_HANDLER)
            ctx->conn = NULL; /* its reply, when it comes, is discarded */
        else
            http_request_discard(ctx);
    }
    set_state(c, HTTP_CONN_LINGER);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    event_free(c->timer);
    bufferevent_free(c->bev);
    if (w->admin) {
        w->n_conns--;
    } else {
        if (c->per_ip_counted)
            ip_release(w->s, c->addr);
        release_connection(w->s);
    }
    free(c);
    /* a shedding that lost its descriptor to another open takes the one just freed */
    restore_reserve(w->s);
}

void http_worker_close_all(struct worker *w)
{
    while (w->conns)
        conn_close(w->conns);
}

static void start_linger(struct http_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);

    if (c->peer_eof) {
        conn_close(c);
        return;
    }
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    set_state(c, HTTP_CONN_LINGER);
    evbuffer_drain(in, evbuffer_get_length(in));
    bufferevent_enable(c->bev, EV_READ);
    arm(c, LINGER_MS);
}

/* ---------- reading ---------- */

static void refuse_head(struct http_conn *c, enum err e, const char *reason)
{
    struct http_request *ctx = c->req ? c->req : http_request_new(c);

    http_request_refuse(ctx, e, reason);
}

/* A head completed, or was refused; returns 1 when the state moved on. */
static int read_head(struct http_conn *c)
{
    struct http_server *s = c->w->s;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t len = evbuffer_get_length(in), head_len = 0;
    size_t window = s->cfg.max_headers_bytes + 2 * HTTP_PARSE_MAX_EMPTY_LINES + 1;
    size_t look = len < window ? len : window;
    const char *buf, *reason = NULL;
    struct http_request *ctx;
    enum http_parse_result r;

    if (len == 0)
        return 0;
    if (c->state == HTTP_CONN_IDLE) {
        c->state = HTTP_CONN_HEAD;
        arm(c, s->cfg.head_timeout_ms);
    }
    buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
    r = http_head_scan(&c->scan, buf, look, &head_len, &reason);
    if (r == HTTP_PARSE_INCOMPLETE) {
        if (look - c->scan.start > s->cfg.max_headers_bytes)
            refuse_head(c, ERR_HEADERS_TOO_LARGE, NULL);
        return 0;
    }
    if (r != HTTP_PARSE_OK) {
        refuse_head(c, ERR_BAD_REQUEST, reason);
        return 0;
    }
    ctx = http_request_new(c);
    ctx->head_buf = malloc(head_len + 1);
    if (!ctx->head_buf)
        oom();
    memcpy(ctx->head_buf, buf + c->scan.start, head_len);
    ctx->head_buf[head_len] = '\0';
    evbuffer_drain(in, c->scan.start + head_len);
    memset(&c->scan, 0, sizeof(c->scan));
    r = http_parse_head(ctx->head_buf, head_len, s->cfg.unique_headers, &ctx->head);
    http_request_begin(ctx, r);
    return 1;
}

static void body_complete(struct http_conn *c, struct http_request *ctx)
{
    evtimer_del(c->timer);
    if (ctx->body)
        ctx->body[ctx->body_len] = '\0';
    ctx->body_unread = false;
    http_request_dispatch(ctx);
}

/*
 * The rest of a Content-Length body straight from the socket into the body,
 * once the input buffer is empty. libevent 2.1 reads at most 4 KiB per call
 * (EVBUFFER_MAX_READ), each with an ioctl and a trip round the loop: a 500 KB
 * body was 125 of each. One recv takes whatever has arrived, never more than
 * the body (a pipelined request stays in the socket). End of file and errors
 * are left to the bufferevent: the socket stays readable, its next read sees
 * them and on_event closes as before.
 */
static void recv_body(struct http_conn *c, struct http_request *ctx)
{
    size_t left = (size_t)ctx->body_want - ctx->body_len;
    ssize_t got;

    while (left > 0) {
        got = recv(bufferevent_getfd(c->bev), ctx->body + ctx->body_len, left, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return;
        ctx->body_len += (size_t)got;
        if ((size_t)got < left) /* all there was: the loop says when more arrives */
            return;
        left -= (size_t)got;
    }
}

static int read_fixed(struct http_conn *c, struct http_request *ctx)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t left = (size_t)ctx->body_want - ctx->body_len;
    size_t n = evbuffer_get_length(in);

    if (n > left)
        n = left;
    if (n > 0 && evbuffer_remove(in, ctx->body + ctx->body_len, n) != (int)n)
        oom();
    ctx->body_len += n;
    if (ctx->body_len < (size_t)ctx->body_want && evbuffer_get_length(in) == 0)
        recv_body(c, ctx);
    if (ctx->body_len < (size_t)ctx->body_want)
        return 0;
    body_complete(c, ctx);
    return 1;
}

/* Append chunk data, growing the body within max_body_bytes and the budget. */
static int body_append(struct http_request *ctx, const char *data, size_t n)
{
    struct http_server *s = ctx->w->s;
    size_t need = ctx->body_len + n + 1, cap = ctx->body_cap;

    if (need > s->cfg.max_body_bytes + 1) {
        http_request_refuse(ctx, ERR_BODY_TOO_LARGE, NULL);
        return -1;
    }
    if (need > cap) {
        size_t grown = cap ? cap * 2 : CHUNKED_BODY_FIRST;

        grown = grown < need ? need : grown;
        grown = grown > s->cfg.max_body_bytes + 1 ? s->cfg.max_body_bytes + 1 : grown;
        if (!budget_reserve(s, ctx, grown - cap)) {
            http_request_refuse(ctx, ERR_OVERLOADED, "request memory budget exhausted");
            return -1;
        }
        ctx->body = realloc(ctx->body, grown);
        if (!ctx->body)
            oom();
        ctx->body_cap = grown;
    }
    memcpy(ctx->body + ctx->body_len, data, n);
    ctx->body_len += n;
    return 0;
}

static int read_chunked(struct http_conn *c, struct http_request *ctx)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);

    for (;;) {
        size_t len = evbuffer_get_length(in), used = 0, data_len = 0;
        size_t look = len < READ_HIGH_WATER ? len : READ_HIGH_WATER;
        const char *data = NULL, *buf;
        enum http_chunk_result r;

        if (len == 0)
            return 0;
        buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
        r = http_chunked_step(&ctx->chunked, buf, look, &used, &data, &data_len);
        if (r == HTTP_CHUNK_DATA && body_append(ctx, data, data_len) < 0)
            return 0;
        evbuffer_drain(in, used);
        if (r == HTTP_CHUNK_BAD) {
            http_request_refuse(ctx, ERR_BAD_REQUEST, ctx->chunked.error);
            return 0;
        }
        if (r == HTTP_CHUNK_DONE) {
            body_complete(c, ctx);
            return 1;
        }
        if (r == HTTP_CHUNK_MORE && look == len)
            return 0;
    }
}

void http_conn_process(struct http_conn *c)
{
    for (;;) {
        int moved = 0;
        struct evbuffer *in = bufferevent_get_input(c->bev);

        switch (c->state) {
        case HTTP_CONN_IDLE:
        case HTTP_CONN_HEAD:
            moved = read_head(c);
            break;
        case HTTP_CONN_BODY:
            moved = c->req->body_want >= 0 ? read_fixed(c, c->req) : read_chunked(c, c->req);
            break;
        case HTTP_CONN_LINGER:
            evbuffer_drain(in, evbuffer_get_length(in));
            break;
        default:
            break;
        }
        if (!moved)
            return;
    }
}

void http_conn_start_body(struct http_request *ctx)
{
    struct http_conn *c = ctx->conn;
    struct http_server *s = ctx->w->s;

    if (!ctx->body_unread) {
        http_request_dispatch(ctx);
        return;
    }
    if (ctx->head.chunked) {
        ctx->body_want = -1;
        http_chunked_init(&ctx->chunked);
    } else {
        size_t n = (size_t)ctx->head.content_length + 1;

        if (!budget_reserve(s, ctx, n)) {
            http_request_refuse(ctx, ERR_OVERLOADED, "request memory budget exhausted");
            return;
        }
        ctx->body = malloc(n);
        if (!ctx->body)
            oom();
        ctx->body_cap = n;
        ctx->body_want = ctx->head.content_length;
    }
    if (ctx->head.expect_continue)
        bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    set_state(c, HTTP_CONN_BODY);
    arm(c, s->cfg.request_timeout_ms);
    bufferevent_enable(c->bev, EV_READ);
}

void http_conn_wait(struct http_conn *c, enum http_conn_state state)
{
    set_state(c, state);
    evtimer_del(c->timer);
    bufferevent_disable(c->bev, EV_READ);
}

struct evbuffer *http_conn_output(struct http_conn *c)
{
    return bufferevent_get_output(c->bev);
}

void http_conn_sent(struct http_conn *c, bool close_after)
{
    size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));

    budget_add(c->w->s, n - c->out_counted);
    c->out_counted = n;
    c->req = NULL;
    c->close_after |= close_after;
    set_state(c, HTTP_CONN_WRITING);
    bufferevent_disable(c->bev, EV_READ);
    arm(c, c->w->s->cfg.request_timeout_ms);
}

/* ---------- socket events ---------- */

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    http_conn_process(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct http_conn *c = arg;

    if (c->state != HTTP_CONN_WRITING || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
        return;
    if (c->close_after) {
        start_linger(c);
        return;
    }
    set_state(c, HTTP_CONN_IDLE);
    arm(c, c->w->s->cfg.request_timeout_ms);
    bufferevent_enable(bev, EV_READ);
    http_conn_process(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct http_conn *c = arg;

    (void)bev;
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
        c->peer_eof = true;
        if (c->state == HTTP_CONN_WRITING) {
            c->close_after = true; /* finish sending, then close */
            return;
        }
    }
    conn_close(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;

    (void)fd;
    (void)what;
    if (c->state == HTTP_CONN_HEAD)
        refuse_head(c, ERR_REQUEST_TIMEOUT, "request head not received in time");
    else if (c->state == HTTP_CONN_BODY)
        http_request_refuse(c->req, ERR_REQUEST_TIMEOUT, "request body not received in time");
    else
        conn_close(c);
}

/* ---------- setup ---------- */

/* The open-file limit less what the process needs besides clients, at most 10,000. */
static long default_max_connections(void)
{
    struct rlimit rl;
    long n;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return DEFAULT_MAX_CONNECTIONS;
    n = (long)rl.rlim_cur <= 2 * FD_KEPT_FOR_PROCESS ? (long)rl.rlim_cur / 2
                                                     : (long)rl.rlim_cur - FD_KEPT_FOR_PROCESS;
    return n < DEFAULT_MAX_CONNECTIONS ? n : DEFAULT_MAX_CONNECTIONS;
}

static int ip_table_setup(struct http_server *s, char *err, size_t err_len)
{
    size_t cap = 16;

    if (cidr_list_parse(s->cfg.trusted_proxies, &s->trusted, err, err_len) < 0)
        return -1;
    if (s->cfg.max_connections_per_ip <= 0)
        return 0;
    while (cap < (size_t)(s->max_connections + ADMIN_MAX_CONNECTIONS) * 2)
        cap <<= 1;
    s->ips.slots = calloc(cap, sizeof(*s->ips.slots));
    if (!s->ips.slots)
        oom();
    s->ips.mask = cap - 1;
    return 0;
}

int http_conn_setup(struct http_server *s, char *err, size_t err_len)
{
    pthread_mutex_init(&s->ips.lock, NULL);
    pthread_rwlock_init(&s->accept_lock, NULL);
    atomic_store(&s->reserve_fd, -1);
    s->conn_setup = true;
    s->max_connections =
        s->cfg.max_connections > 0 ? s->cfg.max_connections : default_max_connections();
    if (s->cfg.max_buffered_bytes < s->cfg.max_body_bytes + 1) {
        snprintf(err, err_len, "the request memory budget (%zu) is smaller than one body (%zu)",
                 s->cfg.max_buffered_bytes, s->cfg.max_body_bytes);
        return -1;
    }
    if (ip_table_setup(s, err, err_len) < 0)
        return -1;
    atomic_store(&s->reserve_fd, open("/dev/null", O_RDONLY | O_CLOEXEC));
    atomic_store(&s->fd_log_at, -2 * FD_LOG_INTERVAL_S);
    /* Pinned: glibc would otherwise raise it (up to 32 MiB) after the first large free,
     * and later large bodies would come from (and stay in) the heap. */
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    s->m_connections =
        metrics_gauge_new(s->cfg.metrics, "http_connections", "open service connections");
    s->m_buffered = metrics_gauge_new(s->cfg.metrics, "http_buffered_bytes",
                                      "request bytes held in memory (the budget in use)");
    s->m_refused =
        metrics_counter_new(s->cfg.metrics, "http_connections_refused_total",
                            "connections closed unserved or accept paused, by reason", "reason");
    return 0;
}

void http_conn_cleanup(struct http_server *s)
{
    int spare;

    if (!s->conn_setup)
        return;
    spare = atomic_exchange(&s->reserve_fd, -1);

    if (spare >= 0)
        close(spare);
    free(s->ips.slots);
    s->ips.slots = NULL;
    pthread_mutex_destroy(&s->ips.lock);
    pthread_rwlock_destroy(&s->accept_lock);
}
