/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-address admission (ratelimit.c): CIDR lists in both address families,
 * which address X-Forwarded-For is believed for, the allow-list, and the
 * sliding-window limit driven with a synthetic clock (no sleeping, no timing
 * assertions): the limit holds inside a minute, smooths across the window
 * edge, frees up after two, and reports a Retry-After inside the window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "insights-api/ratelimit.h"

static void test_cidrs_parse_and_match(void **state)
{
    struct ratelimit_cidrs c;
    char err[200];

    (void)state;
    assert_int_equal(
        ratelimit_cidrs_parse(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,", &c, err, sizeof(err)), 0);
    assert_int_equal(c.n, 3);
    assert_true(ratelimit_cidrs_match(&c, "10.1.2.3"));
    assert_false(ratelimit_cidrs_match(&c, "11.0.0.1"));
    assert_true(ratelimit_cidrs_match(&c, "192.0.2.7"));
    assert_false(ratelimit_cidrs_match(&c, "192.0.2.8"));
    assert_true(ratelimit_cidrs_match(&c, "2001:db8:1::5"));
    assert_false(ratelimit_cidrs_match(&c, "2001:db9::5"));
    assert_true(ratelimit_cidrs_match(&c, "::ffff:10.9.9.9")); /* mapped form of an IPv4 */
    assert_false(ratelimit_cidrs_match(&c, "not-an-ip"));
    assert_false(ratelimit_cidrs_match(&c, NULL));

    assert_int_equal(ratelimit_cidrs_parse("", &c, err, sizeof(err)), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(ratelimit_cidrs_parse(NULL, &c, err, sizeof(err)), 0);
    assert_int_equal(ratelimit_cidrs_parse("10.0.0.0/33", &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "10.0.0.0/33"));
    assert_int_equal(ratelimit_cidrs_parse("10.0.0.0/", &c, err, sizeof(err)), -1);
    assert_int_equal(ratelimit_cidrs_parse("300.1.1.1", &c, err, sizeof(err)), -1);
    assert_int_equal(ratelimit_cidrs_parse("::/129", &c, err, sizeof(err)), -1);

    assert_int_equal(ratelimit_cidrs_parse("0.0.0.0/0", &c, err, sizeof(err)), 0);
    assert_true(ratelimit_cidrs_match(&c, "203.0.113.9"));
    assert_false(ratelimit_cidrs_match(&c, "2001:db8::1")); /* /0 of IPv4 covers IPv4 only */
    assert_int_equal(ratelimit_cidrs_parse("10.0.0.0/12", &c, err, sizeof(err)), 0);
    assert_true(ratelimit_cidrs_match(&c, "10.15.255.255"));
    assert_false(ratelimit_cidrs_match(&c, "10.16.0.0"));
}

static void test_client_ip(void **state)
{
    struct ratelimit_cidrs trusted;
    char err[200], ip[RATELIMIT_IP_MAX];

    (void)state;
    assert_int_equal(ratelimit_cidrs_parse("10.0.0.0/8", &trusted, err, sizeof(err)), 0);
    /* An untrusted peer: its X-Forwarded-For is ignored (anyone can send one). */
    ratelimit_client_ip(&trusted, "203.0.113.5", "1.2.3.4", ip);
    assert_string_equal(ip, "203.0.113.5");
    /* A trusted proxy: the right-most address that is not one of ours. */
    ratelimit_client_ip(&trusted, "10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.9", ip);
    assert_string_equal(ip, "198.51.100.7");
    /* All hops ours: the left-most. */
    ratelimit_client_ip(&trusted, "10.0.0.2", "10.1.1.1,10.2.2.2", ip);
    assert_string_equal(ip, "10.1.1.1");
    /* Garbage entries are skipped. */
    ratelimit_client_ip(&trusted, "10.0.0.2", "198.51.100.8, junk", ip);
    assert_string_equal(ip, "198.51.100.8");
    /* Trusted proxy without the header. */
    ratelimit_client_ip(&trusted, "10.0.0.2", NULL, ip);
    assert_string_equal(ip, "10.0.0.2");
    ratelimit_client_ip(&trusted, NULL, "1.2.3.4", ip);
    assert_string_equal(ip, "unknown");
}

static void test_allow_list(void **state)
{
    struct ratelimit_config cfg = {.per_minute = 0, .max_ips = 100, .allow_list = "192.0.2.0/24"};
    char err[200], ip[RATELIMIT_IP_MAX];
    struct ratelimit *rl = ratelimit_new(&cfg, err, sizeof(err));
    struct ratelimit_stats st;

    (void)state;
    assert_non_null(rl);
    assert_int_equal(ratelimit_check(rl, "192.0.2.1", NULL, 1000.0, ip, NULL), RATELIMIT_ALLOW);
    assert_string_equal(ip, "192.0.2.1");
    assert_int_equal(ratelimit_check(rl, "198.51.100.1", NULL, 1000.0, NULL, NULL),
                     RATELIMIT_FORBIDDEN);
    /* An untrusted peer cannot talk its way in with X-Forwarded-For. */
    assert_int_equal(ratelimit_check(rl, "198.51.100.1", "192.0.2.1", 1000.0, NULL, NULL),
                     RATELIMIT_FORBIDDEN);
    /* An unknown peer is refused when a list is set (fail closed). */
    assert_int_equal(ratelimit_check(rl, NULL, NULL, 1000.0, NULL, NULL), RATELIMIT_FORBIDDEN);
    ratelimit_get_stats(rl, &st);
    assert_int_equal(st.allowed, 1);
    assert_int_equal(st.forbidden, 3);
    ratelimit_free(rl);

    cfg.allow_list = "10.0.0.0/33";
    assert_null(ratelimit_new(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "IP_ALLOW_LIST"));
    cfg.allow_list = NULL;
    cfg.trusted_cidrs = "nonsense";
    assert_null(ratelimit_new(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "TRUSTED_PROXY_CIDRS"));
}

static void test_sliding_window(void **state)
{
    struct ratelimit_config cfg = {.per_minute = 10, .max_ips = 1000};
    char err[200];
    struct ratelimit *rl = ratelimit_new(&cfg, err, sizeof(err));
    int retry = 0, allowed = 0;
    double t0 = 6000.0; /* the start of a minute */

    (void)state;
    assert_non_null(rl);
    for (int i = 0; i < 10; i++)
        assert_int_equal(ratelimit_check(rl, "198.51.100.1", NULL, t0 + i, NULL, &retry),
                         RATELIMIT_ALLOW);
    assert_int_equal(ratelimit_check(rl, "198.51.100.1", NULL, t0 + 30, NULL, &retry),
                     RATELIMIT_LIMITED);
    assert_true(retry >= 1 && retry <= 60);
    /* Another address has its own budget. */
    assert_int_equal(ratelimit_check(rl, "198.51.100.2", NULL, t0 + 30, NULL, &retry),
                     RATELIMIT_ALLOW);
    /* 15 s into the next minute, 3/4 of the last minute's 10 still count: 2 more fit. */
    for (int i = 0; i < 5; i++)
        allowed +=
            ratelimit_check(rl, "198.51.100.1", NULL, t0 + 75, NULL, &retry) == RATELIMIT_ALLOW;
    assert_int_equal(allowed, 2);
    /* Two minutes later the history is gone. */
    allowed = 0;
    for (int i = 0; i < 12; i++)
        allowed +=
            ratelimit_check(rl, "198.51.100.1", NULL, t0 + 200, NULL, &retry) == RATELIMIT_ALLOW;
    assert_int_equal(allowed, 10);
    ratelimit_free(rl);
}

/* A table far too small for the addresses seen: never blocks a newcomer, counts it. */
static void test_table_full_fails_open(void **state)
{
    struct ratelimit_config cfg = {.per_minute = 1, .max_ips = 16};
    char err[200], ip[64];
    struct ratelimit *rl = ratelimit_new(&cfg, err, sizeof(err));
    struct ratelimit_stats st;
    int limited = 0;

    (void)state;
    for (int i = 0; i < 5000; i++) {
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16 & 255, i >> 8 & 255, i & 255);
        limited += ratelimit_check(rl, ip, NULL, 100.0, NULL, NULL) == RATELIMIT_LIMITED;
    }
    ratelimit_get_stats(rl, &st);
    assert_int_equal(limited, 0);
    assert_true(st.untracked > 0);
    assert_int_equal(st.allowed + st.untracked, 5000);
    ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidrs_parse_and_match),
        cmocka_unit_test(test_client_ip),
        cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_sliding_window),
        cmocka_unit_test(test_table_full_fails_open),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
