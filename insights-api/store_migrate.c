/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schema side of the store: applying the SQL files of
 * insights-api/migrations/, keeping daily partitions ahead of time and past
 * retention, and forgetting a user. These run from the daemon's writer
 * thread and from the CLI (`insights-api migrate|maintain|forget`), always
 * on a connection the caller owns.
 *
 * Migrations are data files rather than C strings so that an operator can
 * read and apply them by hand, and so that each one has a stable version
 * (its file name) in schema_migrations. Both migrate and maintain run under
 * advisory locks: replicas that start together queue on the migrate lock
 * (the second finds nothing to do) and skip maintenance another replica is
 * already doing.
 */
#include "common/file.h"

#include "common/alloc.h"
#include "common/crypto.h"
#include "insights-api/store.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MIGRATIONS_MAX 128
#define MIGRATION_BYTES_MAX (1 << 20)
#define JOBS_KEEP_S 86400 /* finished jobs older than this are deleted by maintenance */

/* The partitioned tables, and which retention applies to each (dump: DUMP retention). */
static const struct {
    const char *name;
    bool dump;
} partitioned[] = {
    {"fetch_extracted_request_dump", true},
    {"fetch_extracted_response_dump", true},
    {"insights_request_dump", true},
    {"insights_response_dump", true},
    {"prediction_log", true},
    {"sync_events_log", false},
    {"unauthorized_requests", false},
    {"usage", false},
};

static const char *const forget_tables[STORE_FORGET_TABLES] = {
    "api_request_dump",
    "api_response_dump",
    "fetch_extracted_request_dump",
    "fetch_extracted_response_dump",
    "insights_request_dump",
    "insights_response_dump",
    "sync_events_log",
    "insights_jobs",
    /* these hold the keyed hash of user_id (store_user_key), not user_id */
    "prediction_log",
    "outcomes",
};
#define FORGET_FIRST_KEYED 8

/* ------------------------------------------------------------------ migrate */

static int has_sql_suffix(const char *name)
{
    size_t n = strlen(name);

    return n > 4 && strcmp(name + n - 4, ".sql") == 0 && name[0] != '.';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted *.sql names of dir (malloc'd array of malloc'd names). Returns count or -1. */
static int list_migrations(const char *dir, char **names, char *err, size_t err_len)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d) {
        snprintf(err, err_len, "migrations directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (!has_sql_suffix(e->d_name))
            continue;
        if (n == MIGRATIONS_MAX) {
            snprintf(err, err_len, "migrations directory '%s': more than %d files", dir,
                     MIGRATIONS_MAX);
            for (int i = 0; i < n; i++)
                free(names[i]);
            closedir(d);
            return -1;
        }
        names[n] = alloc_strdup(e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
    return n;
}

int store_migrate(PGconn *conn, const char *dir, char *err, size_t err_len)
{
    struct pg_migration steps[MIGRATIONS_MAX];
    char *names[MIGRATIONS_MAX], *sql[MIGRATIONS_MAX], path[4096];
    int n, loaded = 0, result = -1;

    if (!dir || !*dir)
        dir = STORE_MIGRATIONS_DIR_DEFAULT;
    n = list_migrations(dir, names, err, err_len);
    if (n < 0)
        return -1;
    if (n == 0) {
        snprintf(err, err_len, "migrations directory '%s': no .sql files", dir);
        return -1;
    }
    for (; loaded < n; loaded++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[loaded]);
        sql[loaded] = file_read(path, MIGRATION_BYTES_MAX, NULL, err, err_len);
        if (!sql[loaded])
            goto out;
        names[loaded][strlen(names[loaded]) - 4] = '\0'; /* version = name without .sql */
        steps[loaded] = (struct pg_migration){names[loaded], sql[loaded]};
    }
    result = pg_migrate(conn, STORE_LOCK_MIGRATE, steps, (size_t)n, err, err_len);
out:
    for (int i = 0; i < n; i++) {
        free(names[i]);
        if (i < loaded)
            free(sql[i]);
    }
    return result;
}

/* ------------------------------------------------------------------ maintain */

/* Best effort: a failed log line must not stop maintenance. */
static void log_operation(PGconn *conn, const char *table, const char *partition, const char *op,
                          const char *status, const char *detail)
{
    const char *v[5] = {table, partition, op, status, detail};
    char why[64];

    if (pg_exec(conn,
                "INSERT INTO partition_operations_log (table_name, partition_name, "
                "operation_type, status, detail) VALUES ($1, $2, $3, $4, $5)",
                5, v, why, sizeof(why)) < 0)
        return;
}

/* Runs a statement returning one integer; -1 on failure (why filled). */
static long long query_count(PGconn *conn, const char *sql, int nparams, const char *const *v,
                             char *why, size_t why_len)
{
    PGresult *res = pg_query(conn, sql, nparams, v, why, why_len);
    long long n = -1;

    if (!res)
        return -1;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    else if (PQntuples(res) == 0)
        n = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return n;
}

/*
 * Runs one maintenance statement in its own transaction, so that a failure
 * rolls back only its own work; failures are logged and counted.
 */
static long long maintain_step(PGconn *conn, const char *table, const char *op, const char *sql,
                               int nparams, const char *const *v,
                               struct store_maintain_report *report)
{
    char why[400];
    long long n;

    if (pg_exec(conn, "BEGIN", 0, NULL, why, sizeof(why)) < 0)
        goto fail;
    n = query_count(conn, sql, nparams, v, why, sizeof(why));
    if (n < 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        goto fail;
    }
    if (pg_exec(conn, "COMMIT", 0, NULL, why, sizeof(why)) < 0)
        goto fail;
    return n;
fail:
    report->failures++;
    log_operation(conn, table, NULL, op, "failed", why);
    return -1;
}

static void delete_old_rows(PGconn *conn, const char *table, const char *sql, int days,
                            struct store_maintain_report *report)
{
    char d[16], detail[48];
    const char *v[1] = {d};
    long long n;

    snprintf(d, sizeof(d), "%d", days);
    n = maintain_step(conn, table, "delete_rows", sql, 1, v, report);
    if (n <= 0)
        return;
    report->rows_deleted += n;
    snprintf(detail, sizeof(detail), "%lld rows", n);
    log_operation(conn, table, NULL, "delete_rows", "success", detail);
}

static void maintain_partitioned(PGconn *conn, const char *table, int days_ahead, int retention,
                                 struct store_maintain_report *report)
{
    char ahead[16], keep[16], sql[256];
    const char *v[2];
    long long n;

    snprintf(ahead, sizeof(ahead), "%d", days_ahead);
    snprintf(keep, sizeof(keep), "%d", retention);
    v[0] = table;
    v[1] = ahead;
    n = maintain_step(conn, table, "create",
                      "SELECT public.create_daily_partition($1, "
                      "(now() AT TIME ZONE 'UTC')::date, $2::int)",
                      2, v, report);
    if (n > 0)
        report->partitions_created += (int)n;
    v[1] = keep;
    n = maintain_step(conn, table, "drop",
                      "SELECT public.cleanup_old_partitions_for_table($1, $2::int)", 2, v, report);
    if (n > 0)
        report->partitions_dropped += (int)n;
    /* Table names come from the fixed list above, never from input. */
    snprintf(sql, sizeof(sql),
             "DELETE FROM %s_default WHERE created_at < (now() AT TIME ZONE 'UTC') - "
             "make_interval(days => $1::int)",
             table);
    delete_old_rows(conn, table, sql, retention, report);
}

static int take_lock(PGconn *conn, bool wait, bool *got, char *err, size_t err_len)
{
    char key[24];
    const char *v[1] = {key};
    PGresult *res;

    snprintf(key, sizeof(key), "%" PRId64, (int64_t)STORE_LOCK_MAINTAIN);
    res = pg_query(conn,
                   wait ? "SELECT pg_advisory_lock($1::bigint), true"
                        : "SELECT 1, pg_try_advisory_lock($1::bigint)",
                   1, v, err, err_len);
    if (!res)
        return -1;
    *got = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    PQclear(res);
    return 0;
}

int store_maintain(PGconn *conn, const struct store_maintain_opts *opts,
                   struct store_maintain_report *report, char *err, size_t err_len)
{
    int ahead = opts->days_ahead > 0 ? opts->days_ahead : STORE_DAYS_AHEAD_DEFAULT;
    int keep = opts->retention_days > 0 ? opts->retention_days : STORE_RETENTION_DAYS_DEFAULT;
    int dump_keep = opts->dump_retention_days > 0 ? opts->dump_retention_days : keep;
    char key[24];
    const char *v[1] = {key};
    bool got = false;

    memset(report, 0, sizeof(*report));
    if (take_lock(conn, opts->wait_for_lock, &got, err, err_len) < 0)
        return -1;
    if (!got) {
        report->skipped = true;
        return 0;
    }
    for (size_t i = 0; i < sizeof(partitioned) / sizeof(partitioned[0]); i++)
        maintain_partitioned(conn, partitioned[i].name, ahead,
                             partitioned[i].dump ? dump_keep : keep, report);
    delete_old_rows(conn, "api_request_dump",
                    "DELETE FROM api_request_dump WHERE created_at < (now() AT TIME ZONE 'UTC') - "
                    "make_interval(days => $1::int)",
                    dump_keep, report);
    delete_old_rows(conn, "api_response_dump",
                    "DELETE FROM api_response_dump WHERE created_at < (now() AT TIME ZONE 'UTC') - "
                    "make_interval(days => $1::int)",
                    dump_keep, report);
    delete_old_rows(
        conn, "outcomes",
        "DELETE FROM outcomes WHERE created_at < now() - make_interval(days => $1::int)", dump_keep,
        report);
    delete_old_rows(conn, "forgotten_users",
                    "DELETE FROM forgotten_users WHERE forgotten_at < (now() AT TIME ZONE 'UTC') - "
                    "make_interval(days => $1::int)",
                    keep, report);
    delete_old_rows(conn, "partition_operations_log",
                    "DELETE FROM partition_operations_log WHERE created_at < "
                    "(now() AT TIME ZONE 'UTC') - make_interval(days => $1::int)",
                    keep, report);
    /* delete_old_rows passes its number as $1: seconds here. */
    delete_old_rows(conn, "insights_jobs",
                    "DELETE FROM insights_jobs WHERE state IN ('done', 'failed') AND "
                    "updated_at < now() - make_interval(secs => $1::int)",
                    JOBS_KEEP_S, report);
    snprintf(key, sizeof(key), "%" PRId64, (int64_t)STORE_LOCK_MAINTAIN);
    PQclear(PQexecParams(conn, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, v, NULL, NULL, 0));
    return 0;
}

/* ------------------------------------------------------------------ forget */

int store_forget(PGconn *conn, const char *client_id, const char *user_id,
                 const char *user_key_secret, struct store_forget_result *out, char *err,
                 size_t err_len)
{
    char key[CRYPTO_SHA256_HEX_LEN + 1];
    const char *v[2] = {client_id, user_id};
    const char *kv[2] = {client_id, key};
    char sql[160], why[400];
    long long n;

    memset(out, 0, sizeof(*out));
    if (!client_id || !*client_id || !user_id || !*user_id) {
        snprintf(err, err_len, "forget: client id and user id are required");
        return -1;
    }
    if (store_user_key(user_key_secret, user_id, key) < 0) {
        snprintf(err, err_len, "forget: cannot compute the user key");
        return -1;
    }
    if (pg_exec(conn, "BEGIN", 0, NULL, why, sizeof(why)) < 0)
        goto fail;
    for (int i = 0; i < STORE_FORGET_TABLES; i++) {
        bool keyed = i >= FORGET_FIRST_KEYED;

        out->table[i] = forget_tables[i];
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE client_id = $1 AND %s = $2",
                 forget_tables[i], keyed ? "user_key" : "user_id");
        n = query_count(conn, sql, 2, keyed ? kv : v, why, sizeof(why));
        if (n < 0)
            goto rollback;
        out->rows[i] = n;
        out->total += n;
    }
    if (pg_exec(conn,
                "INSERT INTO forgotten_users (client_id, user_id) VALUES ($1, $2) "
                "ON CONFLICT (client_id, user_id) DO UPDATE SET forgotten_at = "
                "(now() AT TIME ZONE 'UTC')",
                2, v, why, sizeof(why)) < 0 ||
        pg_exec(conn, "COMMIT", 0, NULL, why, sizeof(why)) < 0)
        goto rollback;
    return 0;
rollback:
    PQclear(PQexec(conn, "ROLLBACK"));
fail:
    memset(out->rows, 0, sizeof(out->rows));
    out->total = 0;
    snprintf(err, err_len, "forget: %s", why);
    return -1;
}
