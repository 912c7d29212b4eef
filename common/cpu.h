/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How many CPUs this process may really use, for sizing worker threads
 * (WORKER_THREADS=0). In a container nproc reports the host's CPUs while the
 * cgroup CPU quota is what the scheduler enforces, so the quota wins:
 * cgroup v2 /sys/fs/cgroup/cpu.max ("200000 100000" -> 2; "max ..." = none),
 * else cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us, else the affinity
 * mask (sched_getaffinity), else sysconf(_SC_NPROCESSORS_ONLN). Quotas round
 * up (1.5 CPUs -> 2) and the result is never below 1 nor above the affinity count.
 */
#ifndef COMMON_CPU_H
#define COMMON_CPU_H

/* CPUs available to this process (>= 1). */
int cpu_available(void);

/*
 * Same, reading cgroup files under sysfs_root instead of "/sys/fs/cgroup"
 * (tests point it at a temporary directory).
 */
int cpu_available_at(const char *sysfs_root);

/*
 * Parse the text of a cgroup v2 cpu.max file. Returns the CPU count the
 * quota allows (rounded up, >= 1), 0 when unlimited ("max"), -1 when malformed.
 */
int cpu_parse_cpu_max(const char *text);

#endif
