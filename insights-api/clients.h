/* SPDX-License-Identifier: Apache-2.0 */
/*
 * API clients and their tokens (table clients, credeau.md §6.1, with the
 * columns token rotation needs: docs/database.md).
 *
 * One row is one token: id is the token id, client_id its owner. A token is
 * a random UUID4 (36 chars) shown once, by clients_add or clients_rotate;
 * only token_hash = HMAC-SHA256(pepper, token) (common/crypto.h
 * crypto_token_hash) is stored. The documented auth_token column is kept
 * for schema compatibility and always NULL.
 *
 * A token is valid while revoked_at is NULL and expires_at is NULL or in the
 * future. Rotation issues a new token and sets expires_at = now + window on
 * the client's other valid tokens (unless they already expire sooner), so
 * old and new overlap during the window. Revocation sets revoked_at on all
 * tokens of a client, or on one token id.
 *
 * The caller (insights-api auth) caches successful lookups with a TTL; that
 * TTL is the delay before a revocation takes effect. Nothing here logs and
 * no error message contains a token or a hash.
 */
#ifndef INSIGHTS_CLIENTS_H
#define INSIGHTS_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "common/crypto.h"

#define CLIENTS_ID_MAX 72    /* client_id varchar(72) */
#define CLIENTS_EMAIL_MAX 32 /* email varchar(32) */
#define CLIENTS_ROTATION_WINDOW_DEFAULT 86400

/* The token pepper (not copied; must outlive the calls). len 0 = plain SHA-256 (dev only). */
struct clients_pepper {
    const void *key;
    size_t len;
};

/* A freshly issued token: shown once, then wiped by the caller (crypto_wipe). */
struct clients_issued {
    long long token_id;
    char token[CRYPTO_UUID_LEN + 1];
};

/*
 * Issue a first (or additional) token for client_id (1..72 chars of
 * [A-Za-z0-9_.-]). email and geography may be NULL (geography defaults to
 * 'india'). Returns 0 with *out filled, or -1 with err set.
 */
int clients_add(PGconn *conn, const struct clients_pepper *pepper, const char *client_id,
                const char *email, const char *geography, struct clients_issued *out, char *err,
                size_t err_len) __attribute__((warn_unused_result));

/*
 * Issue a new token for an existing client (email and geography copied from
 * its latest token) and make its other valid tokens expire window_s seconds
 * from now (window_s <= 0 = CLIENTS_ROTATION_WINDOW_DEFAULT), in one
 * transaction. Returns 0 with *out filled, 1 when the client has no valid
 * token (nothing to rotate: use add), or -1 with err.
 */
int clients_rotate(PGconn *conn, const struct clients_pepper *pepper, const char *client_id,
                   int window_s, struct clients_issued *out, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/*
 * Revoke every valid token of client_id (token_id 0) or just token_id (which
 * must belong to client_id). Returns the number of tokens revoked (0 when
 * none matched), or -1 with err.
 */
int clients_revoke(PGconn *conn, const char *client_id, long long token_id, char *err,
                   size_t err_len) __attribute__((warn_unused_result));

/* What a successful lookup learnt (for the auth cache). */
struct clients_auth {
    long long token_id;
    double expires_at; /* epoch seconds; 0 = no expiry. The cache must not outlive it. */
};

/*
 * Check a presented (client_id, token): hash it with the pepper, read the
 * client's valid tokens and compare each stored hash in constant time (all
 * of them, no early exit). Returns 1 valid (*out filled when not NULL), 0
 * invalid (unknown client, wrong, expired or revoked token), -1 with err
 * (database unusable: the caller falls back to its cache or answers 503).
 */
int clients_lookup(PGconn *conn, const struct clients_pepper *pepper, const char *client_id,
                   const char *token, struct clients_auth *out, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* One token as listed: never the token, never its hash. Times are epoch seconds, 0 = none. */
struct clients_token_info {
    long long token_id;
    char client_id[CLIENTS_ID_MAX + 1];
    char email[CLIENTS_EMAIL_MAX + 1];
    double created_at, expires_at, revoked_at;
    bool valid; /* not revoked and not expired at the time of the query */
};

/*
 * Tokens of client_id (NULL = every client), ordered by client_id then id.
 * Returns 0 with *out (malloc'd array, caller frees) and *n, or -1 with err.
 */
int clients_list(PGconn *conn, const char *client_id, struct clients_token_info **out, size_t *n,
                 char *err, size_t err_len) __attribute__((warn_unused_result));

/* true when client_id is 1..CLIENTS_ID_MAX chars of [A-Za-z0-9_.-]. */
bool clients_id_valid(const char *client_id);

#endif
