/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The credential check and its cache (see the DESIGN note in auth.h). The
 * token is hashed with the pepper as soon as it arrives; from there on only
 * the hash is compared (constant time), cached and handed to the lookup.
 */
#include "insights-api/auth.h"

#include "common/log.h"
#include "common/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_PROBES 16
#define AUTH_TOKEN_MAX 256 /* longer tokens are refused before hashing */
#define AUTH_STATIC_MAX 64
#define AUTH_STALE_LOG_INTERVAL_S 10

struct entry {
    unsigned char key[CRYPTO_SHA256_LEN]; /* SHA-256(client_id NUL token_hash) */
    bool used;
    bool valid;
    double expires;
    double token_expires; /* the token's own expiry, 0 = none: even stale use stops there */
    double stored;
};

struct auth {
    long ttl_s;
    long stale_max_s;
    char *pepper;
    size_t pepper_len;
    struct auth_lookup lookup;
    pthread_mutex_t lock;
    struct entry *slots;
    size_t mask;
    atomic_ullong hits, misses, stale, stale_refused, denied, unavailable;
    struct metrics_counter *m_stale;
    double stale_logged_at[2]; /* under lock: [0] accepted, [1] refused */
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);

    if (!p) {
        fputs("fatal: out of memory in auth\n", stderr);
        abort();
    }
    return p;
}

struct auth *auth_new(const struct auth_config *cfg, const struct auth_lookup *lookup)
{
    struct auth *a = xcalloc(1, sizeof(*a));
    size_t cap = 16;

    while (cap < (size_t)(cfg->max_entries > 0 ? cfg->max_entries : 1024) * 2)
        cap <<= 1;
    a->ttl_s = cfg->ttl_s;
    a->stale_max_s = cfg->stale_max_s > 0 ? cfg->stale_max_s : 0;
    a->stale_logged_at[0] = a->stale_logged_at[1] = -1e18;
    a->m_stale = metrics_counter_new(cfg->metrics, "auth_stale_total",
                                     "cached tokens past their TTL while PostgreSQL could not be "
                                     "asked: accepted within AUTH_STALE_MAX_SECONDS, refused after",
                                     "result");
    metrics_gauge_set(metrics_gauge_new(cfg->metrics, "auth_stale_max_seconds",
                                        "AUTH_STALE_MAX_SECONDS: the bound on stale acceptance"),
                      a->stale_max_s);
    a->pepper = strdup(cfg->pepper ? cfg->pepper : "");
    if (!a->pepper) {
        fputs("fatal: out of memory in auth\n", stderr);
        abort();
    }
    a->pepper_len = strlen(a->pepper);
    a->lookup = *lookup;
    pthread_mutex_init(&a->lock, NULL);
    a->slots = xcalloc(cap, sizeof(struct entry));
    a->mask = cap - 1;
    return a;
}

void auth_free(struct auth *a)
{
    if (!a)
        return;
    crypto_wipe(a->pepper, a->pepper_len);
    free(a->pepper);
    pthread_mutex_destroy(&a->lock);
    free(a->slots);
    free(a);
}

int auth_token_hash(const struct auth *a, const char *token, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
    return crypto_token_hash(a->pepper, a->pepper_len, token, out);
}

static void cache_key(const char *client_id, const char *hash, unsigned char key[CRYPTO_SHA256_LEN])
{
    char buf[AUTH_ID_MAX + CRYPTO_SHA256_HEX_LEN + 2];
    size_t n = strlen(client_id);

    memcpy(buf, client_id, n);
    buf[n] = '\0';
    memcpy(buf + n + 1, hash, CRYPTO_SHA256_HEX_LEN);
    crypto_sha256(buf, n + 1 + CRYPTO_SHA256_HEX_LEN, key);
}

static size_t key_slot(const struct auth *a, const unsigned char key[CRYPTO_SHA256_LEN])
{
    size_t h;

    memcpy(&h, key, sizeof(h));
    return h & a->mask;
}

/* Under the lock: the entry for key, or NULL. */
static struct entry *cache_find(struct auth *a, const unsigned char key[CRYPTO_SHA256_LEN])
{
    size_t h = key_slot(a, key);

    for (size_t i = 0; i < AUTH_PROBES; i++) {
        struct entry *e = &a->slots[(h + i) & a->mask];

        if (e->used && crypto_equal(e->key, key, CRYPTO_SHA256_LEN))
            return e;
    }
    return NULL;
}

/* Under the lock: store (replace, take a free slot, or evict the oldest in the window). */
static void cache_store(struct auth *a, const unsigned char key[CRYPTO_SHA256_LEN], bool valid,
                        double now, double token_expires)
{
    size_t h = key_slot(a, key);
    struct entry *victim = NULL;
    double ttl = valid ? (double)a->ttl_s
                       : (double)(a->ttl_s < AUTH_NEGATIVE_TTL_S ? a->ttl_s : AUTH_NEGATIVE_TTL_S);

    for (size_t i = 0; i < AUTH_PROBES; i++) {
        struct entry *e = &a->slots[(h + i) & a->mask];

        if (e->used && memcmp(e->key, key, CRYPTO_SHA256_LEN) == 0) {
            victim = e;
            break;
        }
        if (!e->used) {
            if (!victim || victim->used)
                victim = e;
        } else if (!victim || (victim->used && e->stored < victim->stored)) {
            victim = e;
        }
    }
    memcpy(victim->key, key, CRYPTO_SHA256_LEN);
    victim->used = true;
    victim->valid = valid;
    victim->stored = now;
    victim->expires = now + ttl;
    victim->token_expires = valid ? token_expires : 0;
    if (valid && token_expires > 0 && token_expires < victim->expires)
        victim->expires = token_expires;
}

static bool header_ok(const char *s, size_t max)
{
    size_t n;

    if (!s)
        return false;
    n = strlen(s);
    return n > 0 && n <= max;
}

/*
 * The store cannot be asked: a cached positive answer past its TTL still
 * counts within stale_max_s of its expiry (and never past the token's own
 * expiry). Under the lock; returns AUTH_OK or AUTH_UNAVAILABLE.
 */
static enum auth_result stale_answer(struct auth *a, const unsigned char key[CRYPTO_SHA256_LEN],
                                     double now, bool *known, double *age)
{
    struct entry *e = cache_find(a, key);

    *known = e && e->valid && (e->token_expires == 0 || e->token_expires > now);
    if (!*known)
        return AUTH_UNAVAILABLE;
    *age = now - e->expires;
    return *age <= (double)a->stale_max_s ? AUTH_OK : AUTH_UNAVAILABLE;
}

/* Count it; one log line per kind and interval (the limit is a security bound worth seeing). */
static void stale_report(struct auth *a, enum auth_result res, double now, double age)
{
    int kind = res == AUTH_OK ? 0 : 1;
    bool log_it;

    atomic_fetch_add(kind == 0 ? &a->stale : &a->stale_refused, 1);
    metrics_counter_add_label(a->m_stale, kind == 0 ? "accepted" : "refused", 1);
    pthread_mutex_lock(&a->lock);
    log_it = now - a->stale_logged_at[kind] >= AUTH_STALE_LOG_INTERVAL_S;
    if (log_it)
        a->stale_logged_at[kind] = now;
    pthread_mutex_unlock(&a->lock);
    if (!log_it)
        return;
    if (res == AUTH_OK)
        log_warn(NULL, "database unreachable: accepting a cached token past its TTL",
                 LOG_DOUBLE("stale_s", age), LOG_INT("stale_max_s", a->stale_max_s));
    else
        log_warn(NULL, "database unreachable: cached token past the stale limit refused",
                 LOG_DOUBLE("stale_s", age), LOG_INT("stale_max_s", a->stale_max_s));
}

/* Ask the store and remember the answer. */
static enum auth_result ask(struct auth *a, const char *client_id, const char *token,
                            const char *hash, const unsigned char key[CRYPTO_SHA256_LEN],
                            double now, char *err, size_t err_len)
{
    double expires_at = 0, age = 0;
    int r = a->lookup.fn(a->lookup.arg, client_id, token, hash, &expires_at, err, err_len);
    enum auth_result res;
    bool known = false;

    pthread_mutex_lock(&a->lock);
    if (r < 0) {
        res = stale_answer(a, key, now, &known, &age);
        pthread_mutex_unlock(&a->lock);
        if (known)
            stale_report(a, res, now, age);
        else
            atomic_fetch_add(&a->unavailable, 1);
        return res;
    }
    if (a->ttl_s > 0)
        cache_store(a, key, r == 1, now, expires_at);
    pthread_mutex_unlock(&a->lock);
    if (r != 1) {
        atomic_fetch_add(&a->denied, 1);
        snprintf(err, err_len, "unknown client or token");
        return AUTH_DENIED;
    }
    return AUTH_OK;
}

enum auth_result auth_check(struct auth *a, const char *client_id, const char *token, double now,
                            char *err, size_t err_len)
{
    char hash[CRYPTO_SHA256_HEX_LEN + 1];
    unsigned char key[CRYPTO_SHA256_LEN];
    struct entry *e;
    int hit = -1; /* -1 miss, 0 cached no, 1 cached yes */

    if (!header_ok(client_id, AUTH_ID_MAX) || !header_ok(token, AUTH_TOKEN_MAX)) {
        atomic_fetch_add(&a->denied, 1);
        snprintf(err, err_len, "missing or oversized x-client-id / x-auth-token header");
        return AUTH_DENIED;
    }
    if (crypto_token_hash(a->pepper, a->pepper_len, token, hash) < 0) {
        snprintf(err, err_len, "token hashing failed");
        return AUTH_UNAVAILABLE;
    }
    cache_key(client_id, hash, key);
    pthread_mutex_lock(&a->lock);
    e = cache_find(a, key);
    if (e && e->expires > now)
        hit = e->valid ? 1 : 0;
    pthread_mutex_unlock(&a->lock);
    if (hit >= 0) {
        atomic_fetch_add(&a->hits, 1);
        if (hit == 1)
            return AUTH_OK;
        atomic_fetch_add(&a->denied, 1);
        snprintf(err, err_len, "unknown client or token (cached)");
        return AUTH_DENIED;
    }
    atomic_fetch_add(&a->misses, 1);
    return ask(a, client_id, token, hash, key, now, err, err_len);
}

void auth_flush(struct auth *a)
{
    pthread_mutex_lock(&a->lock);
    memset(a->slots, 0, (a->mask + 1) * sizeof(struct entry));
    pthread_mutex_unlock(&a->lock);
}

void auth_get_stats(struct auth *a, struct auth_stats *out)
{
    out->hits = atomic_load(&a->hits);
    out->misses = atomic_load(&a->misses);
    out->stale = atomic_load(&a->stale);
    out->stale_refused = atomic_load(&a->stale_refused);
    out->denied = atomic_load(&a->denied);
    out->unavailable = atomic_load(&a->unavailable);
}

/* ---- the static list (DEMO_CLIENTS) ---- */

struct auth_static {
    size_t n;
    struct {
        char client[AUTH_ID_MAX + 1];
        char hash[CRYPTO_SHA256_HEX_LEN + 1];
    } e[AUTH_STATIC_MAX];
};

static int static_add(struct auth_static *s, const char *item, size_t len, const char *pepper,
                      char *err, size_t err_len)
{
    const char *colon = memchr(item, ':', len);
    char token[AUTH_TOKEN_MAX + 1];
    size_t clen, tlen;
    int r;

    if (!colon || colon == item || colon + 1 == item + len) {
        snprintf(err, err_len, "DEMO_CLIENTS: expected client:token pairs");
        return -1;
    }
    clen = (size_t)(colon - item);
    tlen = len - clen - 1;
    if (s->n >= AUTH_STATIC_MAX || clen > AUTH_ID_MAX || tlen > AUTH_TOKEN_MAX) {
        snprintf(err, err_len, "DEMO_CLIENTS: at most %d pairs of reasonable length",
                 AUTH_STATIC_MAX);
        return -1;
    }
    memcpy(s->e[s->n].client, item, clen);
    s->e[s->n].client[clen] = '\0';
    memcpy(token, colon + 1, tlen);
    token[tlen] = '\0';
    r = crypto_token_hash(pepper, strlen(pepper), token, s->e[s->n].hash);
    crypto_wipe(token, sizeof(token));
    if (r < 0) {
        snprintf(err, err_len, "DEMO_CLIENTS: token hashing failed");
        return -1;
    }
    s->n++;
    return 0;
}

struct auth_static *auth_static_new(const char *spec, const char *pepper, char *err, size_t err_len)
{
    struct auth_static *s = xcalloc(1, sizeof(*s));
    const char *p = spec ? spec : "";

    while (*p) {
        size_t len = strcspn(p, ",");

        while (len > 0 && *p == ' ') {
            p++;
            len--;
        }
        if (len > 0 && static_add(s, p, len, pepper ? pepper : "", err, err_len) < 0) {
            auth_static_free(s);
            return NULL;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return s;
}

void auth_static_free(struct auth_static *s)
{
    if (!s)
        return;
    crypto_wipe(s, sizeof(*s));
    free(s);
}

int auth_static_lookup(void *arg, const char *client_id, const char *token, const char *token_hash,
                       double *expires_at, char *err, size_t err_len)
{
    const struct auth_static *s = arg;
    int found = 0;

    (void)token;
    (void)err;
    (void)err_len;
    *expires_at = 0;
    for (size_t i = 0; i < s->n; i++)
        found |= strcmp(s->e[i].client, client_id) == 0 &&
                 crypto_equal(s->e[i].hash, token_hash, CRYPTO_SHA256_HEX_LEN);
    return found;
}
