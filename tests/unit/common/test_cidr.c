/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network lists (common/cidr.c) in both address families: parsing with its
 * refusals, prefix matching, IPv4 in its mapped IPv6 form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "common/cidr.h"

static void test_cidrs_parse_and_match(void **state)
{
    struct cidr_list c;
    char err[200];

    (void)state;
    assert_int_equal(
        cidr_list_parse(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,", &c, err, sizeof(err)), 0);
    assert_int_equal(c.n, 3);
    assert_true(cidr_list_match(&c, "10.1.2.3"));
    assert_false(cidr_list_match(&c, "11.0.0.1"));
    assert_true(cidr_list_match(&c, "192.0.2.7"));
    assert_false(cidr_list_match(&c, "192.0.2.8"));
    assert_true(cidr_list_match(&c, "2001:db8:1::5"));
    assert_false(cidr_list_match(&c, "2001:db9::5"));
    assert_true(cidr_list_match(&c, "::ffff:10.9.9.9")); /* mapped form of an IPv4 */
    assert_false(cidr_list_match(&c, "not-an-ip"));
    assert_false(cidr_list_match(&c, NULL));

    assert_int_equal(cidr_list_parse("", &c, err, sizeof(err)), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(cidr_list_parse(NULL, &c, err, sizeof(err)), 0);
    assert_int_equal(cidr_list_parse("10.0.0.0/33", &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "10.0.0.0/33"));
    assert_int_equal(cidr_list_parse("10.0.0.0/", &c, err, sizeof(err)), -1);
    assert_int_equal(cidr_list_parse("300.1.1.1", &c, err, sizeof(err)), -1);
    assert_int_equal(cidr_list_parse("::/129", &c, err, sizeof(err)), -1);

    assert_int_equal(cidr_list_parse("0.0.0.0/0", &c, err, sizeof(err)), 0);
    assert_true(cidr_list_match(&c, "203.0.113.9"));
    assert_false(cidr_list_match(&c, "2001:db8::1")); /* /0 of IPv4 covers IPv4 only */
    assert_int_equal(cidr_list_parse("10.0.0.0/12", &c, err, sizeof(err)), 0);
    assert_true(cidr_list_match(&c, "10.15.255.255"));
    assert_false(cidr_list_match(&c, "10.16.0.0"));
}

static void test_match_addr(void **state)
{
    struct cidr_list c;
    unsigned char a[16];
    bool v4 = false;
    char err[200];

    (void)state;
    assert_int_equal(cidr_list_parse("127.0.0.0/8", &c, err, sizeof(err)), 0);
    assert_int_equal(cidr_addr_parse("127.9.9.9", 9, a, &v4), 0);
    assert_true(v4);
    assert_true(cidr_list_match_addr(&c, a));
    assert_int_equal(cidr_addr_parse("::1", 3, a, &v4), 0);
    assert_false(v4);
    assert_false(cidr_list_match_addr(&c, a));
    assert_int_equal(cidr_addr_parse("", 0, a, &v4), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidrs_parse_and_match),
        cmocka_unit_test(test_match_addr),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
