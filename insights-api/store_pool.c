/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small bounded pool of PostgreSQL connections for the request path
 * (async job submits and polls, token lookups on an auth-cache miss). The
 * request threads block on these calls, so the pool caps how many
 * connections one replica opens and how long a caller may wait for one;
 * a connection that failed is closed rather than handed to the next caller.
 */
#include "insights-api/store.h"

#include "common/alloc.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/crypto.h"

#define STORE_POOL_DEFAULT 4

struct store_pool {
    struct pg_params params;
    char *strs[7];
    pthread_mutex_t lock;
    pthread_cond_t freed;
    PGconn **idle;
    size_t size, n_idle, n_open; /* guarded by lock */
};

static const char *keep(struct store_pool *p, int i, const char *v)
{
    if (!v)
        return NULL;
    p->strs[i] = alloc_strdup(v);
    return p->strs[i];
}

struct store_pool *store_pool_new(const struct pg_params *params, size_t size)
{
    struct store_pool *p = alloc_zeroed(1, sizeof(*p));
    pthread_condattr_t ca;

    p->size = size ? size : STORE_POOL_DEFAULT;
    p->idle = alloc_zeroed(p->size, sizeof(*p->idle));
    p->params = *params;
    p->params.host = keep(p, 0, params->host);
    p->params.port = keep(p, 1, params->port);
    p->params.user = keep(p, 2, params->user);
    p->params.password = keep(p, 3, params->password);
    p->params.dbname = keep(p, 4, params->dbname);
    p->params.sslmode = keep(p, 5, params->sslmode);
    p->params.application_name =
        keep(p, 6, params->application_name ? params->application_name : "insights-api");
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->freed, &ca);
    pthread_condattr_destroy(&ca);
    return p;
}

/*
 * An idle connection has nothing to read: input waiting on its socket means
 * the server closed it or is about to (a terminated backend first sends an
 * error, then closes), so such a connection is replaced rather than handed
 * to a caller whose first query would fail.
 */
static bool idle_conn_usable(PGconn *conn)
{
    struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};

    if (PQstatus(conn) != CONNECTION_OK || pfd.fd < 0)
        return false;
    return poll(&pfd, 1, 0) == 0;
}

PGconn *store_pool_get(struct store_pool *p, long wait_ms, char *err, size_t err_len)
{
    struct timespec deadline;
    PGconn *conn = NULL;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->lock);
    while (p->n_idle == 0 && p->n_open >= p->size && rc == 0)
        rc = pthread_cond_timedwait(&p->freed, &p->lock, &deadline);
    if (p->n_idle > 0) {
        conn = p->idle[--p->n_idle];
        pthread_mutex_unlock(&p->lock);
        if (idle_conn_usable(conn))
            return conn;
        PQfinish(conn); /* dead while idle: replace it below, keeping the slot */
        goto connect;
    }
    if (p->n_open >= p->size) {
        pthread_mutex_unlock(&p->lock);
        snprintf(err, err_len, "postgres pool: all %zu connections busy", p->size);
        return NULL;
    }
    p->n_open++;
    pthread_mutex_unlock(&p->lock);
connect:
    conn = pg_connect(&p->params, err, err_len);
    if (conn)
        return conn;
    pthread_mutex_lock(&p->lock);
    p->n_open--;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

void store_pool_put(struct store_pool *p, PGconn *conn, bool broken)
{
    if (!conn)
        return;
    if (!broken && PQtransactionStatus(conn) != PQTRANS_IDLE)
        broken = true; /* a caller left a transaction open: do not reuse */
    pthread_mutex_lock(&p->lock);
    if (broken || PQstatus(conn) != CONNECTION_OK) {
        p->n_open--;
        pthread_mutex_unlock(&p->lock);
        PQfinish(conn);
        pthread_mutex_lock(&p->lock);
    } else {
        p->idle[p->n_idle++] = conn;
    }
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

void store_pool_free(struct store_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_idle; i++)
        PQfinish(p->idle[i]);
    for (int i = 0; i < 7; i++) {
        if (i == 3 && p->strs[i])
            crypto_wipe(p->strs[i], strlen(p->strs[i]));
        free(p->strs[i]);
    }
    free(p->idle);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->freed);
    free(p);
}
