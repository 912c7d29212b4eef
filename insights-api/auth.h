/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials of insights-api calls: the x-client-id and x-auth-token
 * headers, checked against the clients table (through a lookup function the
 * daemon provides: clients.h over the PostgreSQL pool, or the DEMO_CLIENTS
 * list when there is no database) and cached.
 *
 * DESIGN. The cache key is HMAC-SHA256(pepper, token) plus the client id, so
 * no token is kept in memory past the check. A positive answer is trusted
 * for AUTH_CACHE_TTL_SECONDS: that is the documented revocation delay (a
 * revoked or rotated-out token keeps working on a replica for at most that
 * long). A negative answer is cached for at most 5 s, so a burst of bad
 * tokens costs one query per token per 5 s. When the lookup cannot reach the
 * database, an expired positive entry is still honoured ("stale") for at
 * most AUTH_STALE_MAX_SECONDS past its expiry: cached auth keeps working
 * through a short PostgreSQL outage, and a revoked token stops working at
 * most TTL + stale limit after its last check even when the outage lasts
 * longer. Stale answers, and refusals at the limit, are counted in /metrics
 * (insights_auth_stale_total{result}) with the limit beside them
 * (insights_auth_stale_max_seconds) and logged (one line per 10 s at most).
 * An unknown token, or one past the stale limit, gets AUTH_UNAVAILABLE (503),
 * never a 401 that would blame the client.
 * The table is fixed-size (AUTH_CACHE_MAX) with one mutex; a full probe
 * window evicts its oldest entry.
 */
#ifndef INSIGHTS_AUTH_H
#define INSIGHTS_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/crypto.h"

#define AUTH_NEGATIVE_TTL_S 5
#define AUTH_ID_MAX 128 /* longest client id accepted (clients.client_id is varchar(72)) */

enum auth_result {
    AUTH_OK = 0,
    AUTH_DENIED,      /* unknown client, wrong or revoked token, missing header: 401 */
    AUTH_UNAVAILABLE, /* the database could not be asked and nothing is cached: 503 */
};

/*
 * The lookup: is token (whose stored form with the pepper is token_hash,
 * lowercase hex) a valid token of client_id now? Returns 1 yes (*expires_at
 * = epoch seconds when the token stops being valid, 0 = no expiry: the cache
 * never trusts it past that), 0 no, -1 the store could not be asked (err
 * set). Called without any auth lock held, from pipeline threads: must be
 * thread-safe.
 */
struct auth_lookup {
    int (*fn)(void *arg, const char *client_id, const char *token, const char *token_hash,
              double *expires_at, char *err, size_t err_len);
    void *arg;
};

struct metrics;

struct auth_config {
    long ttl_s;              /* AUTH_CACHE_TTL_SECONDS; 0 = no caching */
    long stale_max_s;        /* AUTH_STALE_MAX_SECONDS; 0 = no stale answers */
    long max_entries;        /* AUTH_CACHE_MAX */
    const char *pepper;      /* TOKEN_PEPPER (copied); "" = plain SHA-256 */
    struct metrics *metrics; /* stale answers are counted there; may be NULL */
};

struct auth_stats {
    uint64_t hits, misses, stale, stale_refused, denied, unavailable;
};

struct auth;

/* Copies cfg. Allocation failure aborts. */
struct auth *auth_new(const struct auth_config *cfg, const struct auth_lookup *lookup);
void auth_free(struct auth *a);

/*
 * Check one request's headers (either may be NULL: AUTH_DENIED). now is the
 * wall clock in epoch seconds. err receives the reason for
 * logs (never the token). Thread-safe; may block on the lookup.
 */
enum auth_result auth_check(struct auth *a, const char *client_id, const char *token, double now,
                            char *err, size_t err_len);

/* Forget every cached answer (tests; after `client revoke` in the same process). */
void auth_flush(struct auth *a);

void auth_get_stats(struct auth *a, struct auth_stats *out);

/* The token's stored form with this auth's pepper (for the CLI and the demo clients). */
int auth_token_hash(const struct auth *a, const char *token, char out[CRYPTO_SHA256_HEX_LEN + 1])
    __attribute__((warn_unused_result));

/*
 * A lookup over a fixed "client:token[,client:token]" list (DEMO_CLIENTS,
 * used when there is no database). Returns NULL with err set on a malformed
 * list. Free with auth_static_free.
 */
struct auth_static;
struct auth_static *auth_static_new(const char *spec, const char *pepper, char *err,
                                    size_t err_len);
void auth_static_free(struct auth_static *s);
int auth_static_lookup(void *arg, const char *client_id, const char *token, const char *token_hash,
                       double *expires_at, char *err, size_t err_len);

#endif
