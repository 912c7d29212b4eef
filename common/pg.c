/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blocking libpq helpers shared by both daemons. They run on threads that own
 * their connection (never on an event loop), so blocking calls are the simple
 * and correct choice. What they add over raw libpq: connecting from keyword
 * arrays (the only safe way to pass a password that may contain spaces or
 * quotes), one error shape (err buffer, newline-free, no parameter values),
 * and a migration runner that is safe when several replicas start at once.
 */
#include "common/pg.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PG_KEYWORDS_MAX 8

/* Copies libpq's message without its trailing newline. */
static void set_err(char *err, size_t err_len, const char *what, const char *detail)
{
    size_t n;

    snprintf(err, err_len, "%s: %s", what, detail && *detail ? detail : "unknown error");
    n = strlen(err);
    while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == '\r'))
        err[--n] = '\0';
    for (size_t i = 0; i < n; i++) /* libpq's multi-line messages: keep one line */
        if (err[i] == '\n' || err[i] == '\r' || err[i] == '\t')
            err[i] = ' ';
}

static void add_kw(const char **keys, const char **vals, int *n, const char *k, const char *v)
{
    if (!v || !*v)
        return;
    keys[*n] = k;
    vals[*n] = v;
    (*n)++;
}

/* A CA bundle holds at least one PEM certificate; a placeholder file does not. Closes fd. */
static int check_pem(int fd, const char *path, char *err, size_t err_len)
{
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);

    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    if (n > 0 && strstr(buf, "-----BEGIN CERTIFICATE-----"))
        return 0;
    snprintf(err, err_len, "PGSSLROOTCERT: '%.200s' holds no PEM certificate (a placeholder?)",
             path);
    return -1;
}

int pg_check_tls(const char *sslmode, const char *rootcert, const char *mode_var, char *err,
                 size_t err_len)
{
    struct stat st;
    int fd;

    if (!sslmode ||
        (strcasecmp(sslmode, "verify-ca") != 0 && strcasecmp(sslmode, "verify-full") != 0))
        return 0;
    if (!rootcert || !*rootcert) {
        snprintf(err, err_len,
                 "PGSSLROOTCERT: required with %s=%s (mount the CA bundle of your PostgreSQL "
                 "service, e.g. the RDS or Cloud SQL server CA, and name the file)",
                 mode_var, sslmode);
        return -1;
    }
    if (strcmp(rootcert, "system") == 0 && PQlibVersion() < 160000) {
        snprintf(err, err_len,
                 "PGSSLROOTCERT: \"system\" needs libpq 16 or later (this is %d): name a CA "
                 "bundle file",
                 PQlibVersion());
        return -1;
    }
    if (strcmp(rootcert, "system") == 0)
        return 0;
    fd = open(rootcert, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        snprintf(err, err_len,
                 "PGSSLROOTCERT: '%.200s' is not a readable, non-empty file (needed by %s=%s)",
                 rootcert, mode_var, sslmode);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return check_pem(fd, rootcert, err, err_len);
}

/* Server notices ("relation already exists, skipping") are not errors: drop them. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *pg_connect(const struct pg_params *p, char *err, size_t err_len)
{
    const char *keys[PG_KEYWORDS_MAX + 1];
    const char *vals[PG_KEYWORDS_MAX + 1];
    char timeout[16];
    PGconn *conn;
    int n = 0;

    snprintf(timeout, sizeof(timeout), "%d", p->connect_timeout_s > 0 ? p->connect_timeout_s : 10);
    add_kw(keys, vals, &n, "host", p->host);
    add_kw(keys, vals, &n, "port", p->port);
    add_kw(keys, vals, &n, "user", p->user);
    add_kw(keys, vals, &n, "password", p->password);
    add_kw(keys, vals, &n, "dbname", p->dbname);
    add_kw(keys, vals, &n, "sslmode", p->sslmode);
    add_kw(keys, vals, &n, "application_name", p->application_name);
    add_kw(keys, vals, &n, "connect_timeout", timeout);
    keys[n] = NULL;
    vals[n] = NULL;
    conn = PQconnectdbParams(keys, vals, 0);
    if (!conn) {
        set_err(err, err_len, "connect", "out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        set_err(err, err_len, "connect", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, ignore_notice, NULL);
    return conn;
}

/*
 * Copies a server message with every double-quoted part replaced by "?":
 * PostgreSQL quotes values there ("invalid input syntax for type integer:
 * \"...\""), and a value may be anything a client sent.
 */
static void mask_quoted(const char *in, char *out, size_t out_len)
{
    size_t o = 0;
    bool quoted = false;

    for (; *in && o + 4 < out_len; in++) {
        if (*in == '"') {
            if (!quoted) {
                out[o++] = '"';
                out[o++] = '?';
            } else {
                out[o++] = '"';
            }
            quoted = !quoted;
            continue;
        }
        if (!quoted)
            out[o++] = *in;
    }
    out[o] = '\0';
}

/* The primary message (values masked) and SQLSTATE only: DETAIL lines quote row values. */
static void set_result_err(char *err, size_t err_len, const char *what, PGconn *conn,
                           const PGresult *res)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char msg[400], masked[320];

    if (!primary) {
        set_err(err, err_len, what, PQerrorMessage(conn));
        return;
    }
    mask_quoted(primary, masked, sizeof(masked));
    snprintf(msg, sizeof(msg), "%s (SQLSTATE %s)", masked, state ? state : "?");
    set_err(err, err_len, what, msg);
}

PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *values, char *err,
                   size_t err_len)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, values, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    set_result_err(err, err_len, "query", conn, res);
    PQclear(res);
    return NULL;
}

int pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *values, char *err,
            size_t err_len)
{
    PGresult *res = pg_query(conn, sql, nparams, values, err, err_len);

    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

/* Simple-protocol run for multi-statement migration SQL (no parameters). */
static int exec_script(PGconn *conn, const char *sql, char *err, size_t err_len)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int result = -1;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        result = 0;
    else
        set_result_err(err, err_len, "script", conn, res);
    PQclear(res);
    return result;
}

/* 1 applied, 0 already there, -1 error. Runs inside the advisory lock. */
static int apply_one(PGconn *conn, const struct pg_migration *m, char *err, size_t err_len)
{
    const char *params[1] = {m->name};
    char why[512];
    PGresult *res;
    int found;

    res = pg_query(conn, "SELECT 1 FROM schema_migrations WHERE name = $1", 1, params, why,
                   sizeof(why));
    if (!res)
        goto fail;
    found = PQntuples(res) > 0;
    PQclear(res);
    if (found)
        return 0;
    if (exec_script(conn, "BEGIN", why, sizeof(why)) < 0)
        goto fail;
    if (exec_script(conn, m->sql, why, sizeof(why)) < 0 ||
        pg_exec(conn, "INSERT INTO schema_migrations (name) VALUES ($1)", 1, params, why,
                sizeof(why)) < 0 ||
        exec_script(conn, "COMMIT", why, sizeof(why)) < 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        goto fail;
    }
    return 1;
fail:
    snprintf(err, err_len, "migration '%s': %s", m->name, why);
    return -1;
}

int pg_migrate(PGconn *conn, int64_t lock_key, const struct pg_migration *migrations, size_t n,
               char *err, size_t err_len)
{
    char key[24];
    const char *params[1] = {key};
    char why[512];
    int applied = 0, r;

    snprintf(key, sizeof(key), "%" PRId64, lock_key);
    if (pg_exec(conn, "SELECT pg_advisory_lock($1::bigint)", 1, params, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "migration lock: %s", why);
        return -1;
    }
    if (exec_script(conn,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                    why, sizeof(why)) < 0) {
        snprintf(err, err_len, "migration table: %s", why);
        applied = -1;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        r = apply_one(conn, &migrations[i], err, err_len);
        if (r < 0) {
            applied = -1;
            goto out;
        }
        applied += r;
    }
out:
    /* Unlock even after a failure; a dropped connection releases it anyway. */
    PQclear(PQexecParams(conn, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, params, NULL, NULL,
                         0));
    return applied;
}
