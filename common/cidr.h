/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lists of IPv4/IPv6 networks ("10.0.0.0/8, 2001:db8::/32, 192.0.2.7") and
 * the question both daemons ask of them: is this address inside? Used for
 * trusted proxies (which peers may speak for a client: X-Forwarded-For in
 * insights-api, the per-IP connection cap of common/http_server) and for
 * insights-api's IP allow-list. Addresses are kept in 16-byte form, IPv4
 * mapped (::ffff:a.b.c.d), so one comparison serves both families.
 */
#ifndef COMMON_CIDR_H
#define COMMON_CIDR_H

#include <stdbool.h>
#include <stddef.h>

#define CIDR_MAX 256   /* networks in one list */
#define CIDR_IP_MAX 46 /* INET6_ADDRSTRLEN */

struct cidr_list {
    size_t n;
    struct {
        unsigned char addr[16];
        int bits; /* prefix length over the 128-bit form */
    } e[CIDR_MAX];
};

/* Parse spec (NULL or "" = empty list). Returns 0, or -1 with err naming the bad entry. */
int cidr_list_parse(const char *spec, struct cidr_list *out, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* ip (textual IPv4 or IPv6) is inside one of the networks. Unparseable ip -> false. */
bool cidr_list_match(const struct cidr_list *c, const char *ip);
bool cidr_list_match_addr(const struct cidr_list *c, const unsigned char addr[16]);

/* text[0 .. len) as an address in 16-byte form; *v4 says which family. Returns 0 or -1. */
int cidr_addr_parse(const char *text, size_t len, unsigned char out[16], bool *v4);

/* One item of a comma-separated list without the blanks (spaces, tabs) around it:
 * returns its start and shortens *len (items of CIDR lists and X-Forwarded-For). */
const char *cidr_item_trim(const char *s, size_t *len);

#endif
