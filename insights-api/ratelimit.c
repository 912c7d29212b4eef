/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-address admission (see the DESIGN note in ratelimit.h): CIDR lists,
 * the client address behind trusted proxies, and the sliding-window counter
 * table. Everything is bounded at construction; the request path takes one
 * shard mutex for a few dozen nanoseconds and never allocates.
 */
#include "insights-api/ratelimit.h"

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
    struct ratelimit_cidrs allow;
    struct ratelimit_cidrs trusted;
    struct shard shards[RATELIMIT_SHARDS];
    atomic_ullong allowed, forbidden, limited, untracked;
};

/* Textual address -> 16-byte form (IPv4 mapped). Returns 0 or -1. */
static int addr_parse(const char *text, size_t len, unsigned char out[16], bool *v4)
{
    char buf[RATELIMIT_IP_MAX];
    struct in_addr a4;

    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        *v4 = true;
        return 0;
    }
    *v4 = false;
    return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
    int full = bits / 8, rest = bits % 8;

    if (memcmp(a, b, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

static const char *trim(const char *s, size_t *len)
{
    while (*len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        (*len)--;
    }
    while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
        (*len)--;
    return s;
}

static int cidr_add(struct ratelimit_cidrs *out, const char *s, size_t len, char *err,
                    size_t err_len)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    bool v4;
    long bits;
    char *end;
    char num[8];

    if (out->n >= RATELIMIT_MAX_CIDRS) {
        snprintf(err, err_len, "more than %d CIDRs", RATELIMIT_MAX_CIDRS);
        return -1;
    }
    if (addr_parse(s, alen, out->e[out->n].addr, &v4) < 0)
        goto bad;
    bits = v4 ? 32 : 128;
    if (slash) {
        size_t nlen = len - alen - 1;

        if (nlen == 0 || nlen >= sizeof(num))
            goto bad;
        memcpy(num, slash + 1, nlen);
        num[nlen] = '\0';
        bits = strtol(num, &end, 10);
        if (*end || bits < 0 || bits > (v4 ? 32 : 128))
            goto bad;
    }
    out->e[out->n].bits = (int)(v4 ? bits + 96 : bits);
    out->n++;
    return 0;
bad:
    snprintf(err, err_len, "expected an address or CIDR, got '%.*s'", (int)(len > 64 ? 64 : len),
             s);
    return -1;
}

int ratelimit_cidrs_parse(const char *spec, struct ratelimit_cidrs *out, char *err, size_t err_len)
{
    const char *p = spec ? spec : "";

    out->n = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        size_t tlen = len;
        const char *t = trim(p, &tlen);

        if (tlen > 0 && cidr_add(out, t, tlen, err, err_len) < 0)
            return -1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static bool cidrs_match_addr(const struct ratelimit_cidrs *c, const unsigned char addr[16])
{
    for (size_t i = 0; i < c->n; i++)
        if (prefix_match(addr, c->e[i].addr, c->e[i].bits))
            return true;
    return false;
}

bool ratelimit_cidrs_match(const struct ratelimit_cidrs *c, const char *ip)
{
    unsigned char a[16];
    bool v4;

    if (!ip || addr_parse(ip, strlen(ip), a, &v4) < 0)
        return false;
    return cidrs_match_addr(c, a);
}

static void copy_ip(char out[RATELIMIT_IP_MAX], const char *s, size_t len)
{
    if (len >= RATELIMIT_IP_MAX)
        len = RATELIMIT_IP_MAX - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

void ratelimit_client_ip(const struct ratelimit_cidrs *trusted, const char *peer, const char *xff,
                         char out[RATELIMIT_IP_MAX])
{
    const char *end;

    if (!peer || !*peer) {
        copy_ip(out, "unknown", 7);
        return;
    }
    copy_ip(out, peer, strlen(peer));
    if (!xff || !ratelimit_cidrs_match(trusted, peer))
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
        t = trim(start, &len);
        if (len > 0 && addr_parse(t, len, a, &v4) == 0) {
            copy_ip(out, t, len);
            if (!cidrs_match_addr(trusted, a))
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
    if (ratelimit_cidrs_parse(cfg->allow_list, &rl->allow, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "IP_ALLOW_LIST: %s", why);
        free(rl);
        return NULL;
    }
    if (ratelimit_cidrs_parse(cfg->trusted_cidrs, &rl->trusted, why, sizeof(why)) < 0) {
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

/* The slot of addr in the shard (found, or a fresh/reused one), or NULL when full. */
static struct slot *slot_find(struct shard *sh, const unsigned char a[16], uint64_t h,
                              long long window)
{
    struct slot *reuse = NULL;

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
    }
    if (reuse) {
        memcpy(reuse->addr, a, 16);
        reuse->window = window;
        reuse->cur = reuse->prev = 0;
    }
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
    bool v4, known;
    struct shard *sh;
    struct slot *s;
    long long window = (long long)floor(now / RATELIMIT_WINDOW) + 1; /* 0 = unused slot */
    uint64_t h;
    int wait = 0;

    ratelimit_client_ip(&rl->trusted, peer, xff, ip);
    if (client_ip)
        memcpy(client_ip, ip, strlen(ip) + 1);
    known = addr_parse(ip, strlen(ip), a, &v4) == 0;
    if (rl->allow.n > 0 && (!known || !cidrs_match_addr(&rl->allow, a))) {
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
    s = slot_find(sh, a, h / RATELIMIT_SHARDS, window);
    if (s)
        wait = slot_count(s, rl->per_minute, now, window);
    pthread_mutex_unlock(&sh->lock);
    if (!s) {
        atomic_fetch_add(&rl->untracked, 1);
        return RATELIMIT_ALLOW;
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
    out->untracked = atomic_load(&rl->untracked);
}
