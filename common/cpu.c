/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CPU budget detection for sizing worker threads. A container sees the
 * host's CPU count through nproc but is throttled to its cgroup quota;
 * running more event loops than the quota allows only adds context switches
 * and tail latency, so the quota is what counts (see cpu.h for the order).
 */
#include "common/cpu.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read a small text file into buf (NUL-terminated). Returns 0 or -1. */
static int read_small(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "re");
    size_t n;

    if (!f)
        return -1;
    n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0 ? 0 : -1;
}

static int parse_long(const char *s, char **end, long long *out)
{
    errno = 0;
    *out = strtoll(s, end, 10);
    return (errno || *end == s) ? -1 : 0;
}

static int quota_cpus(long long quota, long long period)
{
    if (quota <= 0 || period <= 0)
        return 0;
    long long n = (quota + period - 1) / period;
    return n < 1 ? 1 : (n > 4096 ? 4096 : (int)n);
}

int cpu_parse_cpu_max(const char *text)
{
    long long quota, period = 100000;
    char *end;

    while (*text == ' ')
        text++;
    if (strncmp(text, "max", 3) == 0)
        return 0;
    if (parse_long(text, &end, &quota) < 0)
        return -1;
    if (*end == ' ' && parse_long(end + 1, &end, &period) < 0)
        return -1;
    if (*end != '\0' && *end != '\n')
        return -1;
    if (quota <= 0 || period <= 0)
        return -1;
    return quota_cpus(quota, period);
}

static int cgroup_v1(const char *root)
{
    char path[512], buf[64];
    long long quota, period;
    char *end;

    snprintf(path, sizeof(path), "%s/cpu/cpu.cfs_quota_us", root);
    if (read_small(path, buf, sizeof(buf)) < 0) {
        snprintf(path, sizeof(path), "%s/cpu,cpuacct/cpu.cfs_quota_us", root);
        if (read_small(path, buf, sizeof(buf)) < 0)
            return 0;
    }
    if (parse_long(buf, &end, &quota) < 0 || quota <= 0)
        return 0; /* -1 = unlimited */
    memcpy(path + strlen(path) - strlen("quota_us"), "period_us", sizeof("period_us"));
    if (read_small(path, buf, sizeof(buf)) < 0 || parse_long(buf, &end, &period) < 0)
        return 0;
    return quota_cpus(quota, period);
}

static int cgroup_quota(const char *root)
{
    char path[512], buf[128];

    snprintf(path, sizeof(path), "%s/cpu.max", root);
    if (read_small(path, buf, sizeof(buf)) == 0) {
        int n = cpu_parse_cpu_max(buf);
        return n > 0 ? n : 0;
    }
    return cgroup_v1(root);
}

static int online_cpus(void)
{
    cpu_set_t set;

    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int cpu_available_at(const char *sysfs_root)
{
    int online = online_cpus();
    int quota = cgroup_quota(sysfs_root);

    if (quota > 0 && quota < online)
        return quota;
    return online;
}

int cpu_available(void)
{
    return cpu_available_at("/sys/fs/cgroup");
}
