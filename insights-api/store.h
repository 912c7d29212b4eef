/* SPDX-License-Identifier: Apache-2.0 */
/*
 * insights-api's PostgreSQL side (database api_insights_db, docs/database.md):
 *
 *  - schema: the documented DDL as numbered, idempotent SQL files in
 *    insights-api/migrations/, applied by store_migrate() under an advisory
 *    lock (replicas starting together apply each file once; schema_migrations
 *    records what ran; re-running is a no-op);
 *  - partitions: daily partitions of the seven partitioned tables created
 *    ahead and dropped after retention by store_maintain() (also under an
 *    advisory lock, every operation logged in partition_operations_log), plus
 *    a default partition so an insert never fails for lack of a partition;
 *  - the writer: usage, request/response dumps (by DUMP_MODE) and
 *    unauthorized attempts are queued by request threads and written by one
 *    thread with its own connection. While PostgreSQL is down, rows go to a
 *    bounded local spool file (JSON lines, fsync'd per batch) and are
 *    replayed in order when it returns. Nothing is dropped silently: every
 *    lost row is counted (struct store_stats and /metrics);
 *  - forget: delete one user's rows everywhere user_id is held;
 *  - a small bounded connection pool for the request-path callers (jobs.h,
 *    clients.h take a PGconn so they can be tested and used from the CLI).
 *
 * Nothing here logs (library code): failures are reported through err
 * buffers, and the writer's failures through counters and store_stats().
 * Neither err nor any counter ever carries a token, a payload or a user id.
 */
#ifndef INSIGHTS_STORE_H
#define INSIGHTS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "common/metrics.h"
#include "common/pg.h"

/* Advisory lock keys (cluster-wide per database); documented in docs/database.md. */
#define STORE_LOCK_MIGRATE 0x696e735f6d696772LL  /* "ins_migr" */
#define STORE_LOCK_MAINTAIN 0x696e735f6d61696eLL /* "ins_main" */

#define STORE_DAYS_AHEAD_DEFAULT 10
#define STORE_RETENTION_DAYS_DEFAULT 90
#define STORE_MIGRATIONS_DIR_DEFAULT "insights-api/migrations"
#define STORE_TOKEN_PREFIX_LEN 12 /* hex chars of the token HMAC kept in unauthorized_requests */

/* ------------------------------------------------------------------ schema */

/*
 * Apply every insights-api/migrations/NNNN_name.sql file of dir (NULL =
 * STORE_MIGRATIONS_DIR_DEFAULT, relative to the working directory) in name
 * order, each once, under advisory lock STORE_LOCK_MIGRATE (common/pg.h
 * pg_migrate; the version recorded is the file name without ".sql").
 * Returns the number applied (0 when up to date), or -1 with err set (a
 * missing directory, an unreadable file, or the failing file's name and the
 * server message).
 */
int store_migrate(PGconn *conn, const char *dir, char *err, size_t err_len)
    __attribute__((warn_unused_result));

struct store_maintain_opts {
    int days_ahead;          /* daily partitions for today .. today+days_ahead (UTC); 0 = 10 */
    int retention_days;      /* usage, unauthorized_requests, sync_events_log; 0 = 90 */
    int dump_retention_days; /* the six dump tables; 0 = retention_days */
    bool wait_for_lock;      /* false: return 0 with *skipped when another replica holds it */
};

struct store_maintain_report {
    int partitions_created;
    int partitions_dropped;
    long long rows_deleted; /* old rows of default partitions and unpartitioned tables */
    int failures;           /* operations that failed (each logged with status 'failed') */
    bool skipped;           /* the lock was busy and wait_for_lock was false */
};

/*
 * Create partitions ahead and drop those past retention (whole days, UTC),
 * delete expired rows of the default partitions, api_request_dump,
 * api_response_dump and old finished jobs, under advisory lock
 * STORE_LOCK_MAINTAIN. Each create/drop/delete is logged in
 * partition_operations_log. Returns 0 (report filled; a failed single
 * operation counts in report->failures and maintenance goes on), or -1 with
 * err set when the database cannot be used at all.
 */
int store_maintain(PGconn *conn, const struct store_maintain_opts *opts,
                   struct store_maintain_report *report, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* ------------------------------------------------------------------ forget */

/*
 * Tables holding user_id, then those holding its keyed hash (prediction_log,
 * outcomes), in the order store_forget() reports them.
 */
#define STORE_FORGET_TABLES 10

struct store_forget_result {
    const char *table[STORE_FORGET_TABLES]; /* static names */
    long long rows[STORE_FORGET_TABLES];    /* rows deleted per table */
    long long total;
};

/*
 * Delete every row of (client_id, user_id) from every table that holds
 * user_id (the six dump tables, sync_events_log, insights_jobs) or its keyed
 * hash under user_key_secret (prediction_log, outcomes: see store_user_key)
 * in one transaction, and record a tombstone in forgotten_users so that rows
 * queued or spooled before the call are not inserted afterwards. usage and
 * unauthorized_requests hold no user_id. Returns 0 with out filled, or -1
 * with err set (nothing deleted).
 */
int store_forget(PGconn *conn, const char *client_id, const char *user_id,
                 const char *user_key_secret, struct store_forget_result *out, char *err,
                 size_t err_len) __attribute__((warn_unused_result));

/*
 * The user key of prediction_log and outcomes: lowercase hex
 * HMAC-SHA256(secret, user_id), the secret being USER_KEY_SECRET as bytes
 * (NULL or "" = an empty key, development only; prod refuses it). Returns 0
 * or -1 (OpenSSL failed).
 */
int store_user_key(const char *secret, const char *user_id, char out[65])
    __attribute__((warn_unused_result));

/* ------------------------------------------------------------------ writer */

enum store_dump_mode {
    STORE_DUMP_FULL = 0, /* request and response JSON */
    STORE_DUMP_METADATA, /* ids, times, sizes, groupings; payload columns NULL */
    STORE_DUMP_OFF,      /* no dump rows at all (usage is still written) */
};

/* "full" | "metadata" | "off" (any case). Returns 0 or -1. */
int store_dump_mode_parse(const char *text, enum store_dump_mode *out);
const char *store_dump_mode_name(enum store_dump_mode mode);

struct store_config {
    struct pg_params pg;        /* the writer's own connection; strings copied at start */
    const char *migrations_dir; /* NULL = default; migrated on the first connection */
    bool migrate;               /* run store_migrate on connect (daemon: true) */
    int maintain_interval_s;    /* run store_maintain (try-lock) this often; 0 = never */
    struct store_maintain_opts maintain;
    enum store_dump_mode dump_mode;
    size_t queue_max_rows;  /* 0 = 10000 */
    size_t queue_max_bytes; /* payload bytes queued; 0 = 64 MiB */
    const char *spool_path; /* NULL/"" = no spool: rows are dropped (counted) while PG is down */
    size_t spool_max_bytes; /* 0 = 256 MiB */
    int unauthorized_per_second; /* per client id; 0 = 5; excess counted, not written */
    const void *pepper;          /* token pepper (copied): hash prefix in unauthorized_requests */
    size_t pepper_len;
    const char *user_key_secret; /* USER_KEY_SECRET (copied): prediction_log.user_key */
};

/* Which dump tables a call goes to (credeau.md §6.1). */
enum store_api {
    STORE_API_INSIGHTS = 0,    /* insights_request_dump / insights_response_dump */
    STORE_API_FETCH_EXTRACTED, /* fetch_extracted_request_dump / _response_dump */
    STORE_API_OTHER,           /* api_request_dump / api_response_dump (generate_features...) */
};

/*
 * One dump. Strings are copied by store_dump(); NULL = SQL NULL unless noted.
 * request_json/response_json must be JSON our own code produced or parsed
 * (they go into json columns); they are only kept in STORE_DUMP_FULL.
 */
struct store_dump {
    enum store_api api;
    const char *api_name;          /* "insights", "async_insights", "generate_features", ... */
    const char *request_id;        /* required: the server's id */
    const char *client_request_id; /* the client's X-Request-Id, or NULL */
    const char *client_id;
    const char *user_id;
    const char *cutoff_date;    /* "YYYY-MM-DD HH:MM:SS" (insights/fetch_extracted requests) */
    const char *groupings_json; /* e.g. ["sms","fraud"]; NULL = [] (insights response) */
    const char *request_json;   /* the request body */
    size_t request_len;
    bool has_response; /* false: only the request row is written */
    const char *response_json;
    size_t response_len;
    double time_to_featurize; /* seconds */
    const char *time_json;    /* per-stage timings object from our serialiser, or NULL */
};

struct store_stats {
    unsigned long long queued, written, dropped_queue_full, dropped_spool_full, dropped_shutdown,
        dropped_invalid, unauthorized_rate_limited;
    unsigned long long spooled, replayed;
    long long spool_bytes;
    size_t queue_rows;
    bool pg_up;           /* the writer's last attempt reached PostgreSQL */
    char last_error[256]; /* the writer's last failure (no values, no secrets), or "" */
};

struct store;

/*
 * Start the writer thread for cfg (copied). Counters and gauges are
 * registered in metrics (may be NULL): insights_store_rows_total{table},
 * insights_store_rows_dropped_total{reason}, insights_store_queue_rows,
 * insights_spool_bytes, insights_spool_rows_spooled_total,
 * insights_spool_rows_replayed_total, insights_spool_rows_dropped_total.
 * An existing spool file is replayed first once PostgreSQL is reachable.
 * Returns NULL with err set when the spool cannot be opened or the thread
 * cannot start. PostgreSQL being down is not an error.
 */
struct store *store_start(const struct store_config *cfg, struct metrics *metrics, char *err,
                          size_t err_len) __attribute__((warn_unused_result));

/*
 * One API call: a usage row. Never blocks on the database; s may be NULL.
 * request_id is the server's; client_request_id the client's X-Request-Id
 * (or NULL), stored beside it (docs/api-insights.md, "Request ids").
 */
void store_usage(struct store *s, const char *request_id, const char *client_request_id,
                 const char *client_id, const char *api_name, int response_code);

/* Request (and response) dump rows, as DUMP_MODE says; s may be NULL. */
void store_dump(struct store *s, const struct store_dump *d);

/*
 * A failed authentication: client_id as presented (may be NULL), request_id
 * and the first STORE_TOKEN_PREFIX_LEN hex chars of HMAC(pepper, token)
 * (token may be NULL: no header). Never the token, never the body. At most
 * unauthorized_per_second rows per client id per second; the rest counted.
 */
void store_unauthorized(struct store *s, const char *client_id, const char *request_id,
                        const char *client_request_id, const char *presented_token);

/* One score of one request, for the prediction log; strings copied. */
struct store_prediction {
    const char *score_name;
    const char *model_version; /* may be NULL */
    const char *arm;           /* required: the version that computed it */
    bool shadow;
    double value;            /* NAN: the score was null */
    const char *null_reason; /* NULL unless null */
    const char *digest;      /* hex SHA-256 of the predictor values, or NULL */
};

/*
 * Prediction log rows of one request (returned and shadow scores). The user
 * is stored as store_user_key(user_key_secret, user_id). Never blocks on the
 * database; queued, spooled and counted like usage rows. s may be NULL.
 */
void store_predictions(struct store *s, const char *request_id, const char *client_id,
                       const char *user_id, double as_of, const struct store_prediction *p,
                       size_t n);

/* Thread-safe snapshot of the counters. */
void store_get_stats(struct store *s, struct store_stats *out);

/*
 * Block until every row queued before the call is written or spooled, or
 * timeout_ms passes. Returns 0 when drained, -1 on timeout. For tests, the
 * CLI and shutdown.
 */
int store_flush(struct store *s, long timeout_ms);

/*
 * Stop: the writer writes (or spools) what is queued for up to grace_ms,
 * counts the rest as dropped_shutdown, closes its connection; all freed.
 */
void store_stop(struct store *s, long grace_ms);

/* ------------------------------------------------------------------ pool */

/*
 * A bounded pool of connections for request-path callers (async jobs,
 * token lookups on an auth-cache miss). Connections are opened lazily up to
 * size; a caller that finds none free waits up to wait_ms.
 */
struct store_pool;

/* params are copied. size 0 = 4. Never connects here. */
struct store_pool *store_pool_new(const struct pg_params *params, size_t size);

/*
 * A ready connection owned by the caller until store_pool_put, or NULL with
 * err set (PostgreSQL down: callers answer 503; pool exhausted past wait_ms).
 */
PGconn *store_pool_get(struct store_pool *p, long wait_ms, char *err, size_t err_len);

/*
 * Return conn. broken=true (a query failed for connection reasons, or the
 * caller is unsure of its state) closes it instead of reusing it.
 */
void store_pool_put(struct store_pool *p, PGconn *conn, bool broken);

/* All connections must have been put back. */
void store_pool_free(struct store_pool *p);

#endif
