/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CPU budget: cpu.max parsing, and the cgroup v2 / v1 / no-quota paths
 * through a fake sysfs tree in a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/cpu.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int online(void)
{
    cpu_set_t set;

    assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
    return CPU_COUNT(&set);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_parse_cpu_max(void **state)
{
    (void)state;
    assert_int_equal(cpu_parse_cpu_max("max 100000\n"), 0);
    assert_int_equal(cpu_parse_cpu_max("200000 100000\n"), 2);
    assert_int_equal(cpu_parse_cpu_max("150000 100000"), 2); /* rounds up */
    assert_int_equal(cpu_parse_cpu_max("50000 100000"), 1);
    assert_int_equal(cpu_parse_cpu_max("garbage"), -1);
    assert_int_equal(cpu_parse_cpu_max("100000 x"), -1);
    assert_int_equal(cpu_parse_cpu_max("-5 100000"), -1);
}

static void test_fake_trees(void **state)
{
    char dir[] = "/tmp/test_cpu_XXXXXX";
    char sub[600];
    (void)state;

    assert_non_null(mkdtemp(dir));
    /* nothing there: affinity count */
    assert_int_equal(cpu_available_at(dir), online());

    /* cgroup v1 */
    snprintf(sub, sizeof(sub), "%s/cpu", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(sub, "cpu.cfs_quota_us", "100000\n");
    write_file(sub, "cpu.cfs_period_us", "100000\n");
    assert_int_equal(cpu_available_at(dir), 1);
    write_file(sub, "cpu.cfs_quota_us", "-1\n");
    assert_int_equal(cpu_available_at(dir), online());

    /* cgroup v2 wins over v1 */
    write_file(dir, "cpu.max", "100000 100000\n");
    assert_int_equal(cpu_available_at(dir), 1);
    /* a quota above the CPUs we may run on is capped by them */
    write_file(dir, "cpu.max", "100000000 100000\n");
    assert_int_equal(cpu_available_at(dir), online());
    write_file(dir, "cpu.max", "max 100000\n");
    assert_int_equal(cpu_available_at(dir), online());

    snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
    assert_int_equal(system(sub), 0);
    assert_true(cpu_available() >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_cpu_max),
        cmocka_unit_test(test_fake_trees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
