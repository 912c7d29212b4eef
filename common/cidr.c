/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network lists (see cidr.h): parsing "addr[/bits]" items separated by
 * commas, and prefix matching over the 16-byte address form. Bounded: at
 * most CIDR_MAX networks, no allocation.
 */
#include "common/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cidr_addr_parse(const char *text, size_t len, unsigned char out[16], bool *v4)
{
    char buf[CIDR_IP_MAX];
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

const char *cidr_item_trim(const char *s, size_t *len)
{
    while (*len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        (*len)--;
    }
    while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
        (*len)--;
    return s;
}

static int cidr_add(struct cidr_list *out, const char *s, size_t len, char *err, size_t err_len)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    bool v4;
    long bits;
    char *end;
    char num[8];

    if (out->n >= CIDR_MAX) {
        snprintf(err, err_len, "more than %d CIDRs", CIDR_MAX);
        return -1;
    }
    if (cidr_addr_parse(s, alen, out->e[out->n].addr, &v4) < 0)
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

int cidr_list_parse(const char *spec, struct cidr_list *out, char *err, size_t err_len)
{
    const char *p = spec ? spec : "";

    out->n = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        size_t tlen = len;
        const char *t = cidr_item_trim(p, &tlen);

        if (tlen > 0 && cidr_add(out, t, tlen, err, err_len) < 0)
            return -1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

bool cidr_list_match_addr(const struct cidr_list *c, const unsigned char addr[16])
{
    for (size_t i = 0; i < c->n; i++)
        if (prefix_match(addr, c->e[i].addr, c->e[i].bits))
            return true;
    return false;
}

bool cidr_list_match(const struct cidr_list *c, const char *ip)
{
    unsigned char a[16];
    bool v4;

    if (!ip || cidr_addr_parse(ip, strlen(ip), a, &v4) < 0)
        return false;
    return cidr_list_match_addr(c, a);
}
