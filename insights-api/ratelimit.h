/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admission by client address, before any credential is looked at: which
 * address a request really comes from (X-Forwarded-For believed only when the
 * TCP peer is a trusted proxy), whether that address may call the API at all
 * (IP_ALLOW_LIST -> 403 HTML page), and whether it is over its per-minute
 * budget (RATE_LIMIT_PER_MINUTE -> 429 with Retry-After).
 *
 * DESIGN. The limit is a sliding window approximated from two fixed
 * one-minute windows (count of the previous minute weighted by the share of
 * it still inside the last 60 s, plus the current minute), which smooths the
 * burst a fixed window allows at its edges for 8 bytes per address. Counters
 * live in a fixed table sized from RATE_LIMIT_MAX_IPS, split in shards with
 * one mutex each; an entry idle for two windows is reused in place. When a
 * probe finds neither the address nor a reusable slot, the least active
 * entry of the probe window is evicted for it and counted
 * (ratelimit_stats.evicted, insights_ratelimit_evictions_total): an attacker
 * spraying addresses cannot make the table grow, cannot lock a newcomer
 * out (it always gets a slot) and cannot buy an address out of its limit
 * (the busiest entries are the last to go; a full table used to let every
 * untracked address through). Each replica counts on its own: N replicas
 * behind a balancer allow up to N times the limit per address (documented in
 * docs/insights-api.md).
 */
#ifndef INSIGHTS_RATELIMIT_H
#define INSIGHTS_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/cidr.h"

#define RATELIMIT_IP_MAX CIDR_IP_MAX

struct metrics;

/*
 * The client address of a request: peer itself unless peer is a trusted
 * proxy, in which case the right-most X-Forwarded-For entry that is not a
 * trusted proxy (the left-most when all are). xff may be NULL. Writes at most
 * RATELIMIT_IP_MAX bytes into out. peer NULL or "" gives "unknown".
 */
void ratelimit_client_ip(const struct cidr_list *trusted, const char *peer, const char *xff,
                         char out[RATELIMIT_IP_MAX]);

enum ratelimit_verdict {
    RATELIMIT_ALLOW = 0,
    RATELIMIT_FORBIDDEN, /* not in the allow-list: 403 */
    RATELIMIT_LIMITED,   /* over the limit: 429, Retry-After */
};

struct ratelimit_config {
    long per_minute;           /* 0 = no limit */
    long max_ips;              /* tracked addresses */
    const char *allow_list;    /* IP_ALLOW_LIST */
    const char *trusted_cidrs; /* TRUSTED_PROXY_CIDRS */
    struct metrics *metrics;   /* evictions are counted there; may be NULL */
};

struct ratelimit_stats {
    uint64_t allowed, forbidden, limited, evicted;
};

struct ratelimit;

/* Returns NULL with err set when a CIDR list is malformed. Allocation failure aborts. */
struct ratelimit *ratelimit_new(const struct ratelimit_config *cfg, char *err, size_t err_len);
void ratelimit_free(struct ratelimit *rl);

/*
 * Decide one request. peer is the TCP peer address, xff the X-Forwarded-For
 * header (may be NULL), now the current time in seconds. client_ip (may be
 * NULL) receives the address decided on; *retry_after (may be NULL) the
 * seconds to wait when RATELIMIT_LIMITED. Thread-safe.
 */
enum ratelimit_verdict ratelimit_check(struct ratelimit *rl, const char *peer, const char *xff,
                                       double now, char *client_ip, int *retry_after);

void ratelimit_get_stats(struct ratelimit *rl, struct ratelimit_stats *out);

#endif
