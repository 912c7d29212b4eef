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

#include "common/aws_credentials.h"
#include "common/config.h"

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
    char *http_bind;
    long worker_threads; /* 0 = from the cgroup CPU quota */
    long max_body_bytes;
    long request_timeout_ms;
    long max_in_flight;
    long shutdown_grace_ms;
    long head_timeout_ms;
    long max_connections;
    long max_connections_per_ip;
    long max_buffered_bytes;
    char *trusted_proxy_cidrs;
    int log_level; /* index into "debug|info|warn|error" */
    long max_sms_count;

    struct smsx_artifact_config vocab;
    struct smsx_artifact_config classification;
    struct smsx_artifact_config regex;
    long artifact_max_bytes;
    long artifact_timeout_ms;

    struct aws_settings aws; /* AWS_* (common/aws_credentials.h): S3 and its credentials */
    char *artifact_keys;
    char *artifact_keys_file;
    char *launch_environment;

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

/* LAUNCH_ENVIRONMENT is "prod" or "production" (any case): unsealed artifacts refused. */
bool smsx_config_is_prod(const struct smsx_config *cfg);

#endif
