/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-address admission (see the DESIGN note in ratelimit.h): the client
 * address behind trusted proxies (the CIDR lists are common/cidr's), and the
 * sliding-window counter table. Everything is bounded at construction; the request path takes one
 * shard mutex for a few dozen nanoseconds and never allocates.
 */
#include "insights-api/ratelimit.h"

#include "common/metrics.h"

#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATELIMIT_SHARDS 64
#define RATELIMIT_PROBES 32
#define RATELIMIT_WINDOW 60.0

struct slot {
    unsigned char addr[16];
    long long window; /* index of the current minute; 0 = never used */
    unsigned cur, prev;
};

struct shard {
    pthread_mutex_t lock;
    struct slot *slots;
    size_t mask; /* capacity - 1 (power of two) */
};

struct ratelimit {
    long per_minute;
    struct cidr_list allow;
    struct cidr_list trusted;
    struct shard shards[RATELIMIT_SHARDS];
    atomic_ullong allowed, forbidden, limited, evicted;
    struct metrics_counter *m_evicted;
};

static void copy_ip(char out[RATELIMIT_IP_MAX], const char *s, size_t len)
{
    if (len >= RATELIMIT_IP_MAX)
        len = RATELIMIT_IP_MAX - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

void ratelimit_client_ip(const struct cidr_list *trusted, const char *peer, const char *xff,
                         char out[RATELIMIT_IP_MAX])
{
    const char *end;

    if (!peer || !*peer) {
        copy_ip(out, "unknown", 7);
        return;
    }
    copy_ip(out, peer, strlen(peer));
    if (!xff || !cidr_list_match(trusted, peer))
        return;
    /* Walk X-Forwarded-For right to left: the first hop that is not ours is the client. */
    end = xff + strlen(xff);
    while (end > xff) {
        const char *start = end;
        size_t len;
        const char *t;
        unsigned char a[16];
        bool v4;

        while (start > xff && start[-1] != ',')
            start--;
        len = (size_t)(end - start);
        t = cidr_item_trim(start, &len);
        if (len > 0 && cidr_addr_parse(t, len, a, &v4) == 0) {
            copy_ip(out, t, len);
            if (!cidr_list_match_addr(trusted, a))
                return;
        }
        end = start > xff ? start - 1 : xff;
    }
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 16;

    while (p < n)
        p <<= 1;
    return p;
}

struct ratelimit *ratelimit_new(const struct ratelimit_config *cfg, char *err, size_t err_len)
{
    struct ratelimit *rl = calloc(1, sizeof(*rl));
    char why[160];
    size_t per_shard;

    if (!rl) {
        fputs("fatal: out of memory for the rate limiter\n", stderr);
        abort();
    }
    rl->per_minute = cfg->per_minute;
    if (cidr_list_parse(cfg->allow_list, &rl->allow, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "IP_ALLOW_LIST: %s", why);
        free(rl);
        return NULL;
    }
    if (cidr_list_parse(cfg->trusted_cidrs, &rl->trusted, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "TRUSTED_PROXY_CIDRS: %s", why);
        free(rl);
        return NULL;
    }
    per_shard =
        pow2_at_least((size_t)(cfg->max_ips > 0 ? cfg->max_ips : 1024) * 2 / RATELIMIT_SHARDS);
    for (int i = 0; i < RATELIMIT_SHARDS; i++) {
        pthread_mutex_init(&rl->shards[i].lock, NULL);
        rl->shards[i].slots = calloc(per_shard, sizeof(struct slot));
        if (!rl->shards[i].slots) {
            fputs("fatal: out of memory for the rate limiter\n", stderr);
            abort();
        }
        rl->shards[i].mask = per_shard - 1;
    }
    rl->m_evicted =
        metrics_counter_new(cfg->metrics, "ratelimit_evictions_total",
                            "rate-limit entries evicted for a new address (table full)", NULL);
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < RATELIMIT_SHARDS; i++) {
        pthread_mutex_destroy(&rl->shards[i].lock);
        free(rl->shards[i].slots);
    }
    free(rl);
}

/* FNV-1a over the 16 address bytes. */
static uint64_t addr_hash(const unsigned char a[16])
{
    uint64_t h = 1469598103934665603ULL;

    for (int i = 0; i < 16; i++) {
        h ^= a[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Requests an entry counts in the current window (0 for one idle since before it). */
static double slot_weight(const struct slot *s, long long window)
{
    if (s->window == window)
        return (double)s->cur + (double)s->prev;
    return s->window == window - 1 ? (double)s->cur : 0.0;
}

/*
 * The slot of addr in the shard: found, fresh, reused (idle two windows), or
 * when the probe window is full the least active one, evicted (*evicted).
 */
static struct slot *slot_find(struct shard *sh, const unsigned char a[16], uint64_t h,
                              long long window, bool *evicted)
{
    struct slot *reuse = NULL, *coldest = NULL;

    for (size_t i = 0; i < RATELIMIT_PROBES; i++) {
        struct slot *s = &sh->slots[(h + i) & sh->mask];

        if (s->window == 0) {
            if (!reuse)
                reuse = s;
            break;
        }
        if (memcmp(s->addr, a, 16) == 0)
            return s;
        if (!reuse && s->window < window - 1)
            reuse = s;
        if (!coldest || slot_weight(s, window) < slot_weight(coldest, window))
            coldest = s;
    }
    if (!reuse) {
        reuse = coldest;
        *evicted = true;
    }
    memcpy(reuse->addr, a, 16);
    reuse->window = window;
    reuse->cur = reuse->prev = 0;
    return reuse;
}

/* Count one request in the slot; returns the retry-after seconds, or 0 when allowed. */
static int slot_count(struct slot *s, long limit, double now, long long window)
{
    double into = now / RATELIMIT_WINDOW - (double)(window - 1); /* 0..1 into this minute */
    double estimate;

    if (s->window == window - 1) {
        s->prev = s->cur;
        s->cur = 0;
    } else if (s->window != window) {
        s->prev = s->cur = 0;
    }
    s->window = window;
    estimate = (double)s->prev * (1.0 - into) + (double)s->cur;
    if (estimate + 1.0 > (double)limit) {
        int wait = (int)ceil((1.0 - into) * RATELIMIT_WINDOW);

        return wait < 1 ? 1 : wait;
    }
    s->cur++;
    return 0;
}

enum ratelimit_verdict ratelimit_check(struct ratelimit *rl, const char *peer, const char *xff,
                                       double now, char *client_ip, int *retry_after)
{
    char ip[RATELIMIT_IP_MAX];
    unsigned char a[16];
    bool v4, known, evicted = false;
    struct shard *sh;
    struct slot *s;
    long long window = (long long)floor(now / RATELIMIT_WINDOW) + 1; /* 0 = unused slot */
    uint64_t h;
    int wait = 0;

    ratelimit_client_ip(&rl->trusted, peer, xff, ip);
    if (client_ip)
        memcpy(client_ip, ip, strlen(ip) + 1);
    known = cidr_addr_parse(ip, strlen(ip), a, &v4) == 0;
    if (rl->allow.n > 0 && (!known || !cidr_list_match_addr(&rl->allow, a))) {
        atomic_fetch_add(&rl->forbidden, 1);
        return RATELIMIT_FORBIDDEN;
    }
    if (rl->per_minute <= 0 || !known) {
        atomic_fetch_add(&rl->allowed, 1);
        return RATELIMIT_ALLOW;
    }
    h = addr_hash(a);
    sh = &rl->shards[h % RATELIMIT_SHARDS];
    pthread_mutex_lock(&sh->lock);
    s = slot_find(sh, a, h / RATELIMIT_SHARDS, window, &evicted);
    wait = slot_count(s, rl->per_minute, now, window);
    pthread_mutex_unlock(&sh->lock);
    if (evicted) {
        atomic_fetch_add(&rl->evicted, 1);
        metrics_counter_add(rl->m_evicted, 1);
    }
    if (wait > 0) {
        if (retry_after)
            *retry_after = wait;
        atomic_fetch_add(&rl->limited, 1);
        return RATELIMIT_LIMITED;
    }
    atomic_fetch_add(&rl->allowed, 1);
    return RATELIMIT_ALLOW;
}

void ratelimit_get_stats(struct ratelimit *rl, struct ratelimit_stats *out)
{
    out->allowed = atomic_load(&rl->allowed);
    out->forbidden = atomic_load(&rl->forbidden);
    out->limited = atomic_load(&rl->limited);
    out->evicted = atomic_load(&rl->evicted);
}
