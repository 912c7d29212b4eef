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
 * probe finds neither the address nor a reusable slot the request is let
 * through and counted (ratelimit_stats.untracked): an attacker spraying
 * addresses cannot make the table grow nor lock real clients out. Each
 * replica counts on its own: N replicas behind a balancer allow up to N times
 * the limit per address (documented in docs/insights-api.md).
 */
#ifndef INSIGHTS_RATELIMIT_H
#define INSIGHTS_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RATELIMIT_MAX_CIDRS 256
#define RATELIMIT_IP_MAX 46 /* INET6_ADDRSTRLEN */

/* A parsed list of CIDRs ("10.0.0.0/8, 2001:db8::/32, 192.0.2.7"). */
struct ratelimit_cidrs {
    size_t n;
    struct {
        unsigned char addr[16]; /* IPv4 as ::ffff:a.b.c.d */
        int bits;               /* prefix length over the 128-bit form */
    } e[RATELIMIT_MAX_CIDRS];
};

/* Parse spec (NULL or "" = empty list). Returns 0, or -1 with err naming the bad entry. */
int ratelimit_cidrs_parse(const char *spec, struct ratelimit_cidrs *out, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* ip (textual IPv4 or IPv6) is inside one of the CIDRs. Unparseable ip -> false. */
bool ratelimit_cidrs_match(const struct ratelimit_cidrs *c, const char *ip);

/*
 * The client address of a request: peer itself unless peer is a trusted
 * proxy, in which case the right-most X-Forwarded-For entry that is not a
 * trusted proxy (the left-most when all are). xff may be NULL. Writes at most
 * RATELIMIT_IP_MAX bytes into out. peer NULL or "" gives "unknown".
 */
void ratelimit_client_ip(const struct ratelimit_cidrs *trusted, const char *peer, const char *xff,
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
};

struct ratelimit_stats {
    uint64_t allowed, forbidden, limited, untracked;
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
