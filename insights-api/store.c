/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store writer: request threads hand usage, dump and unauthorized rows
 * to a bounded in-memory queue and return at once; one writer thread with
 * its own PostgreSQL connection empties it, so the database's speed or
 * absence never shows in a reply.
 *
 * DESIGN. The writer takes up to STORE_BATCH rows at a time and writes them
 * in one transaction. If the connection fails, the batch goes to the spool
 * file (store_spool.c) and the writer reconnects with exponential backoff.
 * While the spool holds rows, new batches are appended to it too, and each
 * loop replays one spool batch first: rows therefore reach PostgreSQL in the
 * order they were queued, and the queue keeps draining to disk during a long
 * replay instead of overflowing. A row PostgreSQL refuses (bad data rather
 * than a lost connection) is dropped alone, after its batch is retried row
 * by row. Every row that is not written is counted under a reason:
 * queue_full, spool_full (or pg_down when no spool is configured),
 * invalid, shutdown, rate_limited.
 *
 * The same thread migrates the schema on its first successful connection and
 * runs maintenance (try-lock: one replica at a time) every
 * maintain_interval_s.
 */
#include "insights-api/store.h"

#include "common/alloc.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/crypto.h"
#include "insights-api/store_impl.h"

#define STORE_BATCH 128
#define STORE_ID_MAX 128
#define STORE_CUTOFF_MAX 128
#define STORE_GROUPINGS_MAX 4096
#define STORE_BACKOFF_MIN_MS 200
#define STORE_BACKOFF_MAX_MS 10000
#define STORE_IDLE_WAIT_MS 1000
#define STORE_QUEUE_ROWS_DEFAULT 10000
#define STORE_QUEUE_BYTES_DEFAULT ((size_t)64 << 20)
#define STORE_SPOOL_BYTES_DEFAULT ((size_t)256 << 20)
#define STORE_UNAUTH_DEFAULT 5
#define STORE_UNAUTH_BUCKETS 256
#define STORE_UNAUTH_GLOBAL_FACTOR 10 /* all clients together: 10x the per-client limit */

/* Fixed-size per-client rate limit table; clients whose ids collide share a bucket. */
struct unauth_bucket {
    time_t second;
    int count;
};

struct store_metrics {
    struct metrics *m;
    struct metrics_counter *rows, *dropped, *spooled, *replayed, *spool_dropped;
    struct metrics_gauge *queue_rows, *spool_bytes, *pg_up;
};

struct store {
    struct store_config cfg; /* strings below are our copies */
    char *host, *port, *user, *password, *dbname, *sslmode, *appname, *migrations_dir, *spool_path;
    unsigned char *pepper;
    char *user_key_secret;

    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake, drained;
    struct store_row *head, *tail; /* guarded by lock */
    size_t queue_rows, queue_bytes;
    unsigned long long seq_queued, seq_done; /* rows accepted / rows finished (written or not) */
    bool stopping;
    struct timespec stop_deadline;
    struct unauth_bucket buckets[STORE_UNAUTH_BUCKETS];
    struct unauth_bucket global;
    struct store_stats stats; /* guarded by lock */

    /* writer thread only */
    PGconn *conn;
    bool migrated;
    long backoff_ms;
    struct timespec next_connect, next_maintain;
    struct store_spool spool;
    bool have_spool;
    struct store_metrics metrics;
};

int store_dump_mode_parse(const char *text, enum store_dump_mode *out)
{
    static const char *const names[] = {"full", "metadata", "off"};

    for (int i = 0; i < 3; i++) {
        if (text && strcasecmp(text, names[i]) == 0) {
            *out = (enum store_dump_mode)i;
            return 0;
        }
    }
    return -1;
}

const char *store_dump_mode_name(enum store_dump_mode mode)
{
    switch (mode) {
    case STORE_DUMP_FULL:
        return "full";
    case STORE_DUMP_METADATA:
        return "metadata";
    case STORE_DUMP_OFF:
        return "off";
    }
    return "unknown";
}

/* ------------------------------------------------------------------ time */

static struct timespec now_mono(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t;
}

static struct timespec after_ms(long ms)
{
    struct timespec t = now_mono();

    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static bool reached(struct timespec t)
{
    struct timespec n = now_mono();

    return n.tv_sec > t.tv_sec || (n.tv_sec == t.tv_sec && n.tv_nsec >= t.tv_nsec);
}

static double now_epoch(void)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ counting */

/* Callers hold s->lock. */
static void count_dropped(struct store *s, const char *reason, unsigned long long n)
{
    if (n == 0)
        return;
    if (strcmp(reason, "queue_full") == 0)
        s->stats.dropped_queue_full += n;
    else if (strcmp(reason, "spool_full") == 0 || strcmp(reason, "pg_down") == 0)
        s->stats.dropped_spool_full += n;
    else if (strcmp(reason, "shutdown") == 0)
        s->stats.dropped_shutdown += n;
    else if (strcmp(reason, "invalid") == 0)
        s->stats.dropped_invalid += n;
    if (s->metrics.dropped)
        metrics_counter_add_label(s->metrics.dropped, reason, n);
    if (s->metrics.spool_dropped &&
        (strcmp(reason, "spool_full") == 0 || strcmp(reason, "pg_down") == 0))
        metrics_counter_add(s->metrics.spool_dropped, n);
}

static void count_locked(struct store *s, const char *reason, unsigned long long n)
{
    pthread_mutex_lock(&s->lock);
    count_dropped(s, reason, n);
    pthread_mutex_unlock(&s->lock);
}

static void set_error(struct store *s, const char *msg)
{
    size_t n = strnlen(msg, sizeof(s->stats.last_error) - 1);

    pthread_mutex_lock(&s->lock);
    memcpy(s->stats.last_error, msg, n);
    s->stats.last_error[n] = '\0';
    pthread_mutex_unlock(&s->lock);
}

static void set_pg_up(struct store *s, bool up)
{
    pthread_mutex_lock(&s->lock);
    s->stats.pg_up = up;
    pthread_mutex_unlock(&s->lock);
    if (s->metrics.pg_up)
        metrics_gauge_set(s->metrics.pg_up, up ? 1 : 0);
}

/* ------------------------------------------------------------------ enqueue */

static void enqueue(struct store *s, struct store_row *row)
{
    pthread_mutex_lock(&s->lock);
    if (s->stopping || s->queue_rows >= s->cfg.queue_max_rows ||
        s->queue_bytes + row->mem > s->cfg.queue_max_bytes) {
        count_dropped(s, s->stopping ? "shutdown" : "queue_full", 1);
        pthread_mutex_unlock(&s->lock);
        store_row_free(row);
        return;
    }
    if (s->tail)
        s->tail->next = row;
    else
        s->head = row;
    s->tail = row;
    s->queue_rows++;
    s->queue_bytes += row->mem;
    s->seq_queued++;
    s->stats.queued++;
    if (s->metrics.queue_rows)
        metrics_gauge_set(s->metrics.queue_rows, (long long)s->queue_rows);
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

static struct store_row *row_for(struct store *s, enum store_row_kind kind, const char *request_id,
                                 const char *client_request_id, const char *client_id)
{
    struct store_row *row = store_row_new(kind);

    row->created_at = now_epoch();
    store_row_set(row, &row->request_id, request_id ? request_id : "", STORE_ID_MAX);
    store_row_set(row, &row->client_request_id, client_request_id, STORE_ID_MAX);
    store_row_set(row, &row->client_id, client_id, STORE_ID_MAX);
    (void)s;
    return row;
}

void store_usage(struct store *s, const char *request_id, const char *client_request_id,
                 const char *client_id, const char *api_name, int response_code)
{
    struct store_row *row;

    if (!s)
        return;
    row = row_for(s, STORE_ROW_USAGE, request_id, client_request_id, client_id);
    store_row_set(row, &row->api_name, api_name, STORE_ID_MAX);
    row->response_code = response_code;
    enqueue(s, row);
}

/* The payload kept for a dump (full mode only); its size is kept in every mode. */
static void set_payload(struct store *s, struct store_row *row, const char *json, size_t len)
{
    if (!json)
        return;
    row->bytes = (long long)len;
    if (s->cfg.dump_mode != STORE_DUMP_FULL)
        return;
    row->payload = alloc_strndup(json, len);
    row->mem += len + 1;
}

static struct store_row *dump_row(struct store *s, enum store_row_kind kind,
                                  const struct store_dump *d)
{
    struct store_row *row = row_for(s, kind, d->request_id, d->client_request_id, d->client_id);

    row->api = d->api;
    store_row_set(row, &row->user_id, d->user_id, STORE_ID_MAX);
    store_row_set(row, &row->api_name, d->api_name, STORE_ID_MAX);
    return row;
}

void store_dump(struct store *s, const struct store_dump *d)
{
    struct store_row *req, *resp;
    double created_at;

    if (!s || s->cfg.dump_mode == STORE_DUMP_OFF || !d->request_id || d->api > STORE_API_OTHER)
        return;
    req = dump_row(s, STORE_ROW_REQUEST, d);
    store_row_set(req, &req->cutoff_date, d->cutoff_date, STORE_CUTOFF_MAX);
    set_payload(s, req, d->request_json, d->request_len);
    /* the writer thread owns and may free req once it is queued */
    created_at = req->created_at;
    enqueue(s, req);
    if (!d->has_response)
        return;
    resp = dump_row(s, STORE_ROW_RESPONSE, d);
    resp->created_at = created_at;
    if (d->groupings_json && strlen(d->groupings_json) <= STORE_GROUPINGS_MAX)
        store_row_set(resp, &resp->groupings, d->groupings_json, STORE_GROUPINGS_MAX);
    set_payload(s, resp, d->response_json, d->response_len);
    resp->time_to_featurize = isfinite(d->time_to_featurize) ? d->time_to_featurize : -1;
    if (d->time_json && strlen(d->time_json) <= STORE_GROUPINGS_MAX)
        store_row_set(resp, &resp->time_json, d->time_json, STORE_GROUPINGS_MAX);
    enqueue(s, resp);
}

static unsigned hash_id(const char *s)
{
    unsigned h = 2166136261u;

    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* true when one more row for client_id fits this second. Callers hold s->lock. */
static bool unauth_allowed(struct store *s, const char *client_id, time_t now)
{
    struct unauth_bucket *b = &s->buckets[hash_id(client_id) % STORE_UNAUTH_BUCKETS];
    int per = s->cfg.unauthorized_per_second;

    if (b->second != now) {
        b->second = now;
        b->count = 0;
    }
    if (s->global.second != now) {
        s->global.second = now;
        s->global.count = 0;
    }
    if (b->count >= per || s->global.count >= per * STORE_UNAUTH_GLOBAL_FACTOR)
        return false;
    b->count++;
    s->global.count++;
    return true;
}

void store_unauthorized(struct store *s, const char *client_id, const char *request_id,
                        const char *client_request_id, const char *presented_token)
{
    char hash[CRYPTO_SHA256_HEX_LEN + 1];
    struct store_row *row;
    bool allowed;

    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    allowed = unauth_allowed(s, client_id, time(NULL));
    if (!allowed) {
        s->stats.unauthorized_rate_limited++;
        if (s->metrics.dropped)
            metrics_counter_add_label(s->metrics.dropped, "rate_limited", 1);
    }
    pthread_mutex_unlock(&s->lock);
    if (!allowed)
        return;
    row = row_for(s, STORE_ROW_UNAUTHORIZED, request_id, client_request_id, client_id);
    if (presented_token &&
        crypto_token_hash(s->pepper, s->cfg.pepper_len, presented_token, hash) == 0) {
        hash[STORE_TOKEN_PREFIX_LEN] = '\0';
        store_row_set(row, &row->token_prefix, hash, STORE_TOKEN_PREFIX_LEN);
        crypto_wipe(hash, sizeof(hash));
    }
    enqueue(s, row);
}

int store_user_key(const char *secret, const char *user_id, char out[65])
{
    unsigned char mac[CRYPTO_SHA256_LEN];
    const char *key = secret ? secret : "";

    if (crypto_hmac_sha256(key, strlen(key), user_id, strlen(user_id), mac) < 0)
        return -1;
    crypto_hex_encode(mac, sizeof(mac), out);
    return 0;
}

static struct store_row *prediction_row(struct store *s, const char *request_id,
                                        const char *client_id, const char *user_id,
                                        const char *user_key, double as_of,
                                        const struct store_prediction *p)
{
    struct store_row *row = row_for(s, STORE_ROW_PREDICTION, request_id, NULL, client_id);

    store_row_set(row, &row->user_id, user_id, STORE_ID_MAX);
    store_row_set(row, &row->user_key, user_key, CRYPTO_SHA256_HEX_LEN);
    store_row_set(row, &row->score_name, p->score_name, STORE_ID_MAX);
    store_row_set(row, &row->model_version, p->model_version, STORE_ID_MAX);
    store_row_set(row, &row->arm, p->arm, STORE_ID_MAX);
    store_row_set(row, &row->digest, p->digest, CRYPTO_SHA256_HEX_LEN);
    store_row_set(row, &row->null_reason, p->null_reason, STORE_ID_MAX);
    row->shadow = p->shadow;
    row->value = p->value;
    row->as_of = as_of;
    return row;
}

void store_predictions(struct store *s, const char *request_id, const char *client_id,
                       const char *user_id, double as_of, const struct store_prediction *p,
                       size_t n)
{
    char key[CRYPTO_SHA256_HEX_LEN + 1];
    double created_at = 0;

    if (!s || n == 0 || !request_id || !client_id || !user_id)
        return;
    if (store_user_key(s->user_key_secret, user_id, key) < 0) {
        count_locked(s, "invalid", n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct store_row *row;

        if (!p[i].score_name || !p[i].arm) {
            count_locked(s, "invalid", 1);
            continue;
        }
        row = prediction_row(s, request_id, client_id, user_id, key, as_of, &p[i]);
        /* one created_at per request: its rows land in one partition */
        if (i == 0)
            created_at = row->created_at;
        row->created_at = created_at;
        enqueue(s, row);
    }
}

/* ------------------------------------------------------------------ writer */

static void free_rows(struct store_row *r)
{
    while (r) {
        struct store_row *next = r->next;

        store_row_free(r);
        r = next;
    }
}

static size_t count_rows(const struct store_row *r)
{
    size_t n = 0;

    for (; r; r = r->next)
        n++;
    return n;
}

static void disconnect(struct store *s, const char *why)
{
    if (s->conn)
        PQfinish(s->conn);
    s->conn = NULL;
    set_pg_up(s, false);
    set_error(s, why);
    if (s->metrics.m)
        metrics_dependency_error(s->metrics.m, "postgres");
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : STORE_BACKOFF_MIN_MS;
    if (s->backoff_ms > STORE_BACKOFF_MAX_MS)
        s->backoff_ms = STORE_BACKOFF_MAX_MS;
    s->next_connect = after_ms(s->backoff_ms);
}

static void maybe_maintain(struct store *s)
{
    struct store_maintain_report report;
    char err[256];

    if (!s->conn || s->cfg.maintain_interval_s <= 0 || !reached(s->next_maintain))
        return;
    s->next_maintain = after_ms((long)s->cfg.maintain_interval_s * 1000);
    if (store_maintain(s->conn, &s->cfg.maintain, &report, err, sizeof(err)) < 0)
        disconnect(s, err);
}

/* Connects (and migrates) when due. true when a connection is ready. */
static bool ensure_conn(struct store *s)
{
    char err[512];

    if (s->conn)
        return true;
    if (!reached(s->next_connect))
        return false;
    s->conn = pg_connect(&s->cfg.pg, err, sizeof(err));
    if (!s->conn) {
        disconnect(s, err);
        return false;
    }
    if (s->cfg.migrate && !s->migrated) {
        if (store_migrate(s->conn, s->cfg.migrations_dir, err, sizeof(err)) < 0) {
            disconnect(s, err);
            return false;
        }
        s->migrated = true;
    }
    s->backoff_ms = 0;
    set_pg_up(s, true);
    s->next_maintain = now_mono(); /* maintain once right after (re)connecting */
    maybe_maintain(s);
    return s->conn != NULL;
}

static void count_written(struct store *s, const struct store_row *r, bool replayed)
{
    pthread_mutex_lock(&s->lock);
    s->stats.written++;
    if (replayed)
        s->stats.replayed++;
    pthread_mutex_unlock(&s->lock);
    if (s->metrics.rows)
        metrics_counter_add_label(s->metrics.rows, store_row_table(r), 1);
    if (replayed && s->metrics.replayed)
        metrics_counter_add(s->metrics.replayed, 1);
}

/*
 * Write rows one at a time in autocommit (after a batch failed on bad data).
 * Returns the first row not written because the connection went down, or NULL.
 */
static struct store_row *write_each(struct store *s, struct store_row *rows, bool replayed)
{
    char err[512];

    for (struct store_row *r = rows; r; r = r->next) {
        enum store_write_result w = store_row_write(s->conn, r, err, sizeof(err));

        if (w == STORE_WRITE_DOWN) {
            disconnect(s, err);
            return r;
        }
        if (w == STORE_WRITE_INVALID) {
            set_error(s, err);
            count_locked(s, "invalid", 1);
            continue;
        }
        count_written(s, r, replayed);
    }
    return NULL;
}

/*
 * Write a list in one transaction. Returns NULL when every row is done
 * (written or dropped as invalid), else the first row still to be kept
 * (the connection is gone).
 */
static struct store_row *write_rows(struct store *s, struct store_row *rows, bool replayed)
{
    enum store_write_result w = STORE_WRITE_OK;
    char err[512];

    if (pg_exec(s->conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0) {
        disconnect(s, err);
        return rows;
    }
    for (struct store_row *r = rows; r && w == STORE_WRITE_OK; r = r->next)
        w = store_row_write(s->conn, r, err, sizeof(err));
    if (w == STORE_WRITE_OK && pg_exec(s->conn, "COMMIT", 0, NULL, err, sizeof(err)) == 0) {
        for (struct store_row *r = rows; r; r = r->next)
            count_written(s, r, replayed);
        return NULL;
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        disconnect(s, err);
        return rows;
    }
    PQclear(PQexec(s->conn, "ROLLBACK"));
    return write_each(s, rows, replayed);
}

static void spool_rows(struct store *s, struct store_row *rows)
{
    size_t n = count_rows(rows), dropped = 0;
    char err[512];
    int w;

    if (!rows)
        return;
    if (!s->have_spool) {
        count_locked(s, "pg_down", n);
        return;
    }
    w = store_spool_append(&s->spool, rows, &dropped, err, sizeof(err));
    if (w < 0) {
        set_error(s, err);
        count_locked(s, "spool_full", n);
        return;
    }
    pthread_mutex_lock(&s->lock);
    s->stats.spooled += (unsigned long long)w;
    s->stats.spool_bytes = (long long)s->spool.size;
    count_dropped(s, "spool_full", dropped);
    pthread_mutex_unlock(&s->lock);
    if (s->metrics.spooled)
        metrics_counter_add(s->metrics.spooled, (unsigned long long)w);
}

/* Replays one spool batch. */
static void replay_some(struct store *s)
{
    struct store_row *rows, *left;
    size_t bad = 0;
    off_t next;
    char err[512];

    rows = store_spool_read(&s->spool, STORE_BATCH, &next, &bad);
    if (bad)
        count_locked(s, "invalid", bad);
    left = rows ? write_rows(s, rows, true) : NULL;
    free_rows(rows);
    if (left)
        return; /* connection lost: the offset stays, the batch is replayed later */
    if (next != s->spool.offset && store_spool_commit(&s->spool, next, err, sizeof(err)) < 0)
        set_error(s, err);
    pthread_mutex_lock(&s->lock);
    s->stats.spool_bytes = (long long)(s->spool.size);
    pthread_mutex_unlock(&s->lock);
}

/* Handles one batch taken from the queue (ownership moves here). */
static void process_batch(struct store *s, struct store_row *batch)
{
    struct store_row *left = batch;

    if (batch && s->conn && !(s->have_spool && store_spool_pending(&s->spool)))
        left = write_rows(s, batch, false);
    spool_rows(s, left); /* the unwritten tail, in order; NULL when all went through */
    free_rows(batch);
}

/* Takes up to STORE_BATCH rows; NULL when empty. Callers hold s->lock. */
static struct store_row *take_batch(struct store *s, unsigned long long *taken)
{
    struct store_row *head = s->head, *r = head, *last = NULL;
    size_t n = 0;

    while (r && n < STORE_BATCH) {
        s->queue_bytes -= r->mem;
        last = r;
        r = r->next;
        n++;
    }
    if (last)
        last->next = NULL;
    s->head = r;
    if (!r)
        s->tail = NULL;
    s->queue_rows -= n;
    *taken = n;
    if (s->metrics.queue_rows)
        metrics_gauge_set(s->metrics.queue_rows, (long long)s->queue_rows);
    return n ? head : NULL;
}

static void wait_for_work(struct store *s)
{
    struct timespec deadline;
    long ms = STORE_IDLE_WAIT_MS;

    if (s->have_spool && store_spool_pending(&s->spool) && s->conn)
        return; /* replay goes on without waiting */
    if (!s->conn && s->backoff_ms > 0 && s->backoff_ms < ms)
        ms = s->backoff_ms;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    while (!s->head && !s->stopping) {
        if (pthread_cond_timedwait(&s->wake, &s->lock, &deadline) == ETIMEDOUT)
            break;
    }
}

static void *writer_main(void *arg)
{
    struct store *s = arg;
    struct store_row *batch;
    unsigned long long taken;

    for (;;) {
        pthread_mutex_lock(&s->lock);
        wait_for_work(s);
        if (s->stopping && (!s->head || reached(s->stop_deadline))) {
            taken = s->queue_rows;
            batch = take_batch(s, &taken);
            while (batch) {
                count_dropped(s, "shutdown", taken);
                s->seq_done += taken;
                free_rows(batch);
                batch = take_batch(s, &taken);
            }
            pthread_cond_broadcast(&s->drained);
            pthread_mutex_unlock(&s->lock);
            break;
        }
        batch = take_batch(s, &taken);
        pthread_mutex_unlock(&s->lock);

        ensure_conn(s);
        if (s->conn && s->have_spool && store_spool_pending(&s->spool))
            replay_some(s);
        process_batch(s, batch);
        maybe_maintain(s);

        pthread_mutex_lock(&s->lock);
        s->seq_done += taken;
        if (s->metrics.spool_bytes)
            metrics_gauge_set(s->metrics.spool_bytes, s->stats.spool_bytes);
        pthread_cond_broadcast(&s->drained);
        pthread_mutex_unlock(&s->lock);
    }
    if (s->conn)
        PQfinish(s->conn);
    s->conn = NULL;
    return NULL;
}

/* ------------------------------------------------------------------ lifecycle */

static char *dup_or_null(const char *v)
{
    char *c;

    if (!v)
        return NULL;
    c = alloc_strdup(v);
    return c;
}

static void copy_config(struct store *s, const struct store_config *cfg)
{
    s->cfg = *cfg;
    s->cfg.pg.host = s->host = dup_or_null(cfg->pg.host);
    s->cfg.pg.port = s->port = dup_or_null(cfg->pg.port);
    s->cfg.pg.user = s->user = dup_or_null(cfg->pg.user);
    s->cfg.pg.password = s->password = dup_or_null(cfg->pg.password);
    s->cfg.pg.dbname = s->dbname = dup_or_null(cfg->pg.dbname);
    s->cfg.pg.sslmode = s->sslmode = dup_or_null(cfg->pg.sslmode);
    s->cfg.pg.application_name = s->appname =
        dup_or_null(cfg->pg.application_name ? cfg->pg.application_name : "insights-api-store");
    s->cfg.migrations_dir = s->migrations_dir = dup_or_null(cfg->migrations_dir);
    s->cfg.spool_path = s->spool_path = dup_or_null(cfg->spool_path);
    if (cfg->pepper_len) {
        s->pepper = alloc_bytes(cfg->pepper_len);
        memcpy(s->pepper, cfg->pepper, cfg->pepper_len);
    }
    s->cfg.pepper = s->pepper;
    s->cfg.user_key_secret = s->user_key_secret =
        alloc_strdup(cfg->user_key_secret ? cfg->user_key_secret : "");
    if (!s->cfg.queue_max_rows)
        s->cfg.queue_max_rows = STORE_QUEUE_ROWS_DEFAULT;
    if (!s->cfg.queue_max_bytes)
        s->cfg.queue_max_bytes = STORE_QUEUE_BYTES_DEFAULT;
    if (!s->cfg.spool_max_bytes)
        s->cfg.spool_max_bytes = STORE_SPOOL_BYTES_DEFAULT;
    if (s->cfg.unauthorized_per_second <= 0)
        s->cfg.unauthorized_per_second = STORE_UNAUTH_DEFAULT;
}

static void register_metrics(struct store *s, struct metrics *m)
{
    struct store_metrics *sm = &s->metrics;

    sm->m = m;
    if (!m)
        return;
    sm->rows =
        metrics_counter_new(m, "store_rows_total", "Rows written to PostgreSQL, by table", "table");
    sm->dropped = metrics_counter_new(m, "store_rows_dropped_total",
                                      "Rows not written (never silently), by reason", "reason");
    sm->spooled =
        metrics_counter_new(m, "spool_rows_spooled_total",
                            "Rows written to the local spool while PostgreSQL was down", NULL);
    sm->replayed = metrics_counter_new(m, "spool_rows_replayed_total",
                                       "Spooled rows replayed into PostgreSQL", NULL);
    sm->spool_dropped = metrics_counter_new(
        m, "spool_rows_dropped_total", "Rows dropped because the spool was full or absent", NULL);
    sm->queue_rows = metrics_gauge_new(m, "store_queue_rows", "Rows waiting for the writer");
    sm->spool_bytes = metrics_gauge_new(m, "spool_bytes", "Bytes in the local spool file");
    sm->pg_up = metrics_gauge_new(m, "store_postgres_up",
                                  "1 when the store writer's last attempt reached PostgreSQL");
}

static void free_store(struct store *s)
{
    free_rows(s->head);
    if (s->have_spool)
        store_spool_close(&s->spool);
    free(s->host);
    free(s->port);
    free(s->user);
    if (s->password)
        crypto_wipe(s->password, strlen(s->password));
    free(s->password);
    free(s->dbname);
    free(s->sslmode);
    free(s->appname);
    free(s->migrations_dir);
    free(s->spool_path);
    if (s->pepper)
        crypto_wipe(s->pepper, s->cfg.pepper_len);
    free(s->pepper);
    crypto_wipe(s->user_key_secret, strlen(s->user_key_secret));
    free(s->user_key_secret);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->drained);
    free(s);
}

struct store *store_start(const struct store_config *cfg, struct metrics *metrics, char *err,
                          size_t err_len)
{
    struct store *s = alloc_zeroed(1, sizeof(*s));
    pthread_condattr_t ca;
    int rc;

    copy_config(s, cfg);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->drained, &ca);
    pthread_condattr_destroy(&ca);
    s->next_connect = now_mono();
    if (s->spool_path && *s->spool_path) {
        if (store_spool_open(&s->spool, s->spool_path, s->cfg.spool_max_bytes, err, err_len) < 0) {
            free_store(s);
            return NULL;
        }
        s->have_spool = true;
        s->stats.spool_bytes = (long long)s->spool.size;
    }
    register_metrics(s, metrics);
    if (s->metrics.spool_bytes)
        metrics_gauge_set(s->metrics.spool_bytes, s->stats.spool_bytes);
    rc = pthread_create(&s->thread, NULL, writer_main, s);
    if (rc != 0) {
        snprintf(err, err_len, "store writer thread: %s", strerror(rc));
        free_store(s);
        return NULL;
    }
    return s;
}

void store_get_stats(struct store *s, struct store_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    out->queue_rows = s->queue_rows;
    pthread_mutex_unlock(&s->lock);
}

int store_flush(struct store *s, long timeout_ms)
{
    struct timespec deadline;
    unsigned long long target;
    int rc = 0;

    if (!s)
        return 0;
    deadline = after_ms(timeout_ms);
    pthread_mutex_lock(&s->lock);
    target = s->seq_queued;
    pthread_cond_signal(&s->wake);
    while (s->seq_done < target && rc == 0)
        rc = pthread_cond_timedwait(&s->drained, &s->lock, &deadline);
    rc = s->seq_done >= target ? 0 : -1;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void store_stop(struct store *s, long grace_ms)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    s->stop_deadline = after_ms(grace_ms > 0 ? grace_ms : 0);
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    free_store(s);
}
