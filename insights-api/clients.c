/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client tokens in the clients table (see clients.h for the model). Tokens
 * live only in the caller's memory for the moment they are shown; the table
 * holds their peppered HMAC, so a copy of the database does not let anyone
 * call the API, and rotation is a matter of rows with expiry times rather
 * than a shared secret changing in place.
 *
 * Timestamps in this table are UTC wall time (timestamp without time zone,
 * as Credeau's DDL has created_at); every comparison uses NOW_UTC.
 */
#include "insights-api/clients.h"

#include "common/alloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pg.h"

#define NOW_UTC "(now() AT TIME ZONE 'UTC')"
#define VALID "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > " NOW_UTC ")"
#define GEOGRAPHY_MAX 128

bool clients_id_valid(const char *id)
{
    size_t n = 0;

    if (!id)
        return false;
    for (; id[n]; n++) {
        unsigned char c = (unsigned char)id[n];

        if (n >= CLIENTS_ID_MAX || !(isalnum(c) || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return n > 0;
}

static int check_args(const char *client_id, const char *email, const char *geography, char *err,
                      size_t err_len)
{
    if (!clients_id_valid(client_id)) {
        snprintf(err, err_len, "client id must be 1..%d characters of A-Z a-z 0-9 _ . -",
                 CLIENTS_ID_MAX);
        return -1;
    }
    if (email && strlen(email) > CLIENTS_EMAIL_MAX) {
        snprintf(err, err_len, "email longer than %d characters", CLIENTS_EMAIL_MAX);
        return -1;
    }
    if (geography && (!*geography || strlen(geography) > GEOGRAPHY_MAX)) {
        snprintf(err, err_len, "geography must be 1..%d characters", GEOGRAPHY_MAX);
        return -1;
    }
    return 0;
}

/* A new token and its stored hash. */
static int new_token(const struct clients_pepper *pepper, struct clients_issued *out,
                     char hash[CRYPTO_SHA256_HEX_LEN + 1], char *err, size_t err_len)
{
    if (crypto_uuid4(out->token) < 0 ||
        crypto_token_hash(pepper->key, pepper->len, out->token, hash) < 0) {
        crypto_wipe(out->token, sizeof(out->token));
        snprintf(err, err_len, "token generation failed (random source or HMAC)");
        return -1;
    }
    return 0;
}

/* INSERT one token row; fills out->token_id. */
static int insert_token(PGconn *conn, const char *client_id, const char *email,
                        const char *geography, const char *hash, struct clients_issued *out,
                        char *err, size_t err_len)
{
    const char *v[4] = {client_id, email, geography, hash};
    PGresult *res;

    res = pg_query(conn,
                   "INSERT INTO clients (client_id, email, geography, token_hash) "
                   "VALUES ($1, $2, coalesce($3, 'india'), $4) RETURNING id",
                   4, v, err, err_len);
    if (!res)
        return -1;
    out->token_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

int clients_add(PGconn *conn, const struct clients_pepper *pepper, const char *client_id,
                const char *email, const char *geography, struct clients_issued *out, char *err,
                size_t err_len)
{
    char hash[CRYPTO_SHA256_HEX_LEN + 1];
    int rc;

    memset(out, 0, sizeof(*out));
    if (check_args(client_id, email, geography, err, err_len) < 0 ||
        new_token(pepper, out, hash, err, err_len) < 0)
        return -1;
    rc = insert_token(conn, client_id, email, geography, hash, out, err, err_len);
    crypto_wipe(hash, sizeof(hash));
    if (rc < 0)
        crypto_wipe(out, sizeof(*out));
    return rc;
}

static int rotate_in_tx(PGconn *conn, const char *client_id, int window_s, const char *hash,
                        struct clients_issued *out, char *err, size_t err_len)
{
    char window[16], email[CLIENTS_EMAIL_MAX + 1] = "", geo[GEOGRAPHY_MAX + 1] = "";
    const char *v[2] = {client_id, window};
    bool has_email;
    PGresult *res;

    snprintf(window, sizeof(window), "%d", window_s);
    res = pg_query(conn,
                   "SELECT email, geography FROM clients WHERE client_id = $1 AND " VALID
                   " ORDER BY id DESC FOR UPDATE",
                   1, v, err, err_len);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 1;
    }
    has_email = !PQgetisnull(res, 0, 0);
    snprintf(email, sizeof(email), "%s", PQgetvalue(res, 0, 0));
    snprintf(geo, sizeof(geo), "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    if (pg_exec(conn,
                "UPDATE clients SET expires_at = least(coalesce(expires_at, 'infinity'), " NOW_UTC
                " + make_interval(secs => $2::int)), updated_at = " NOW_UTC
                " WHERE client_id = $1 AND " VALID,
                2, v, err, err_len) < 0)
        return -1;
    return insert_token(conn, client_id, has_email ? email : NULL, geo, hash, out, err, err_len);
}

int clients_rotate(PGconn *conn, const struct clients_pepper *pepper, const char *client_id,
                   int window_s, struct clients_issued *out, char *err, size_t err_len)
{
    char hash[CRYPTO_SHA256_HEX_LEN + 1];
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (check_args(client_id, NULL, NULL, err, err_len) < 0 ||
        new_token(pepper, out, hash, err, err_len) < 0)
        return -1;
    if (window_s <= 0)
        window_s = CLIENTS_ROTATION_WINDOW_DEFAULT;
    if (pg_exec(conn, "BEGIN", 0, NULL, err, err_len) < 0)
        goto out;
    rc = rotate_in_tx(conn, client_id, window_s, hash, out, err, err_len);
    if (rc == 0 && pg_exec(conn, "COMMIT", 0, NULL, err, err_len) < 0)
        rc = -1;
    if (rc != 0)
        PQclear(PQexec(conn, "ROLLBACK"));
out:
    crypto_wipe(hash, sizeof(hash));
    if (rc != 0)
        crypto_wipe(out, sizeof(*out));
    return rc;
}

int clients_revoke(PGconn *conn, const char *client_id, long long token_id, char *err,
                   size_t err_len)
{
    char id[24];
    const char *v[2] = {client_id, id};
    PGresult *res;
    int n;

    if (check_args(client_id, NULL, NULL, err, err_len) < 0)
        return -1;
    snprintf(id, sizeof(id), "%lld", token_id);
    res = pg_query(conn,
                   "UPDATE clients SET revoked_at = " NOW_UTC ", updated_at = " NOW_UTC
                   " WHERE client_id = $1 AND ($2::bigint = 0 OR id = $2::bigint) AND " VALID,
                   2, v, err, err_len);
    if (!res)
        return -1;
    n = (int)strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return n;
}

int clients_lookup(PGconn *conn, const struct clients_pepper *pepper, const char *client_id,
                   const char *token, struct clients_auth *out, char *err, size_t err_len)
{
    char hash[CRYPTO_SHA256_HEX_LEN + 1];
    const char *v[1] = {client_id};
    PGresult *res;
    int match = -1;

    if (!clients_id_valid(client_id) || !token || !*token)
        return 0;
    if (crypto_token_hash(pepper->key, pepper->len, token, hash) < 0) {
        snprintf(err, err_len, "token hash failed");
        return -1;
    }
    res = pg_query(conn,
                   "SELECT id, token_hash, coalesce(extract(epoch FROM expires_at), 0) "
                   "FROM clients WHERE client_id = $1 AND " VALID,
                   1, v, err, err_len);
    if (!res) {
        crypto_wipe(hash, sizeof(hash));
        return -1;
    }
    /* Compare with every valid token of the client, without stopping at a match. */
    for (int i = 0; i < PQntuples(res); i++) {
        const char *stored = PQgetvalue(res, i, 1);
        bool eq = PQgetlength(res, i, 1) == CRYPTO_SHA256_HEX_LEN &&
                  crypto_equal(stored, hash, CRYPTO_SHA256_HEX_LEN);

        if (eq && match < 0)
            match = i;
    }
    if (match >= 0 && out) {
        out->token_id = strtoll(PQgetvalue(res, match, 0), NULL, 10);
        out->expires_at = strtod(PQgetvalue(res, match, 2), NULL);
    }
    PQclear(res);
    crypto_wipe(hash, sizeof(hash));
    return match >= 0 ? 1 : 0;
}

static double epoch_or_zero(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtod(PQgetvalue(res, row, col), NULL);
}

int clients_list(PGconn *conn, const char *client_id, struct clients_token_info **out, size_t *n,
                 char *err, size_t err_len)
{
    const char *v[1] = {client_id};
    struct clients_token_info *items;
    PGresult *res;
    int rows;

    *out = NULL;
    *n = 0;
    res = pg_query(conn,
                   "SELECT id, client_id, coalesce(email, ''), extract(epoch FROM created_at), "
                   "extract(epoch FROM expires_at), extract(epoch FROM revoked_at), " VALID
                   " FROM clients WHERE $1::varchar IS NULL OR client_id = $1 "
                   "ORDER BY client_id, id",
                   1, v, err, err_len);
    if (!res)
        return -1;
    rows = PQntuples(res);
    items = alloc_zeroed(rows ? (size_t)rows : 1, sizeof(*items));
    for (int i = 0; i < rows; i++) {
        items[i].token_id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        snprintf(items[i].client_id, sizeof(items[i].client_id), "%s", PQgetvalue(res, i, 1));
        snprintf(items[i].email, sizeof(items[i].email), "%s", PQgetvalue(res, i, 2));
        items[i].created_at = epoch_or_zero(res, i, 3);
        items[i].expires_at = epoch_or_zero(res, i, 4);
        items[i].revoked_at = epoch_or_zero(res, i, 5);
        items[i].valid = strcmp(PQgetvalue(res, i, 6), "t") == 0;
    }
    PQclear(res);
    *out = items;
    *n = (size_t)rows;
    return 0;
}
