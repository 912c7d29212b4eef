/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sms-extraction daemon's configuration: one struct filled from the
 * environment by the one table in config.c (see common/config.h). The rest
 * of the daemon receives a const pointer to it; nothing else reads getenv.
 */
#ifndef SMSX_CONFIG_H
#define SMSX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/artifact.h"
#include "common/config.h"
#include "common/daemon.h"

/* One artifact's location in both accepted forms. */
struct smsx_artifact_config {
    char *path; /* file path or s3://bucket/key */
    bool use_s3;
    char *s3_bucket;
    char *s3_key;
    char *s3_region;
};

struct smsx_config {
    long http_port;
    long admin_port;
    struct daemon_service_config service; /* the rows both daemons share */
    char *trusted_proxy_cidrs;            /* exempt from MAX_CONNECTIONS_PER_IP */
    long max_sms_count;
    long extract_threads; /* 0 = from the cgroup CPU quota */
    long extract_queue_max;
    long extract_queue_timeout_ms;

    struct smsx_artifact_config vocab;
    struct smsx_artifact_config classification;
    struct smsx_artifact_config regex;
    struct artifact_access access; /* sizes, S3 credentials, keys: shared rows */

    char *db_user;
    char *db_password;
    char *db_host;
    long db_port;
    char *db_name;
    char *db_sslmode;
    char *pg_sslrootcert; /* PGSSLROOTCERT: libpq reads it; checked at start */
    long db_queue_max;
    char *db_encryption_key; /* unused: accepted for compatibility */
};

extern const struct config_var smsx_config_table[];
extern const size_t smsx_config_table_len;

/*
 * Load and cross-check the configuration. Returns 0, or -1 with err naming
 * the variable. Call smsx_config_free() in both cases.
 */
int smsx_config_load(struct smsx_config *cfg, char *err, size_t err_len)
    __attribute__((warn_unused_result));
void smsx_config_free(struct smsx_config *cfg);

#endif
