/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thin, blocking helpers over libpq for code that talks to PostgreSQL from its
 * own thread (the sms-extraction request log, the insights-api stores):
 * connect from separate parameters, run a statement with parameters, and run
 * an ordered list of idempotent migrations once per database under an
 * advisory lock. Nothing here logs; every failure is described in err, which
 * never contains the password or parameter values.
 */
#ifndef COMMON_PG_H
#define COMMON_PG_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* Connection settings; NULL or "" members are left to libpq's defaults. */
struct pg_params {
    const char *host;
    const char *port;
    const char *user;
    const char *password;
    const char *dbname;
    const char *sslmode;
    const char *application_name;
    int connect_timeout_s; /* 0 = 10 */
};

/*
 * Connect with PQconnectdbParams (keyword arrays: no conninfo string is
 * built, so a password is never spliced into text). Returns a connection in
 * CONNECTION_OK owned by the caller (PQfinish), or NULL with err set.
 */
PGconn *pg_connect(const struct pg_params *params, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/*
 * Run one statement with text parameters (values[i] may be NULL for SQL NULL).
 * Returns 0 when it completed (command or tuples), -1 with err set otherwise.
 */
int pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *values, char *err,
            size_t err_len) __attribute__((warn_unused_result));

/*
 * Like pg_exec but hands back the result (PGRES_TUPLES_OK or
 * PGRES_COMMAND_OK), owned by the caller (PQclear); NULL with err set.
 */
PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *values, char *err,
                   size_t err_len) __attribute__((warn_unused_result));

/*
 * Start-up check of the TLS settings: sslmode verify-ca or verify-full needs a
 * CA bundle libpq can read (PGSSLROOTCERT, which libpq reads from the
 * environment itself; libpq 15 has no "system" store). Returns 0, or -1 with
 * err naming mode_var or "PGSSLROOTCERT" and what to mount.
 */
int pg_check_tls(const char *sslmode, const char *rootcert, const char *mode_var, char *err,
                 size_t err_len) __attribute__((warn_unused_result));

/* One migration: a unique, never-reused name and SQL (may hold several statements). */
struct pg_migration {
    const char *name;
    const char *sql;
};

/*
 * Apply, in order, every migration whose name is not yet recorded in table
 * schema_migrations (created when absent). The whole run holds session
 * advisory lock lock_key, so replicas starting together apply each migration
 * once; each migration runs in its own transaction with its record.
 * Returns the number applied (>= 0), or -1 with err naming the migration.
 */
int pg_migrate(PGconn *conn, int64_t lock_key, const struct pg_migration *migrations, size_t n,
               char *err, size_t err_len) __attribute__((warn_unused_result));

#endif
