/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one configuration table of the sms-extraction daemon. Every variable
 * the daemon reads is a row here, with its default, bounds, secrecy and a
 * one-line meaning; the same rows parse the environment, print the effective
 * configuration in the start-up line and generate the docs (--config-docs).
 * Names follow the Credeau deployment guide where it has one (MAX_SMS_COUNT,
 * VOCAB_USE_S3, DB_*), so an existing .env keeps working.
 */
#include "sms-extraction/config.h"

#include <stdio.h>
#include <strings.h>

#include "common/pg.h"

#define ROW(name, type, def, flags, doc, field, min, max)                                          \
    {                                                                                              \
        name, type, def, flags, doc, offsetof(struct smsx_config, field), min, max, NULL, NULL     \
    }
#define STR(name, def, flags, doc, field) ROW(name, CONFIG_STRING, def, flags, doc, field, 0, 0)
#define INT(name, def, doc, field, min, max) ROW(name, CONFIG_INT, def, 0, doc, field, min, max)

/* The four-variable S3 form plus the single-location form, for one artifact. */
#define ARTIFACT_ROWS(P, member, file)                                                             \
    STR(P "_PATH", "sms-extraction/rules/" file, 0,                                                \
        "artifact location: file path or s3://bucket/key (used when " P "_USE_S3 is false)",       \
        member.path),                                                                              \
        ROW(P "_USE_S3", CONFIG_BOOL, "false", 0,                                                  \
            "load the artifact from " P "_S3_BUCKET/" P "_S3_KEY instead of " P "_PATH",           \
            member.use_s3, 0, 0),                                                                  \
        STR(P "_S3_BUCKET", NULL, 0, "bucket of the artifact when " P "_USE_S3 is true",           \
            member.s3_bucket),                                                                     \
        STR(P "_S3_KEY", NULL, 0, "object key of the artifact when " P "_USE_S3 is true",          \
            member.s3_key),                                                                        \
        STR(P "_S3_REGION", NULL, 0, "region of the bucket (default AWS_DEFAULT_REGION)",          \
            member.s3_region)

const struct config_var smsx_config_table[] = {
    INT("HTTP_PORT", "8082", "service port: /api/extract, /health, /ready (0 = any free port)",
        http_port, 0, 65535),
    INT("ADMIN_PORT", "9082", "admin port: /metrics (0 = any free port)", admin_port, 0, 65535),
    CONFIG_INCLUDE(daemon_service_rows, offsetof(struct smsx_config, service)),
    STR("TRUSTED_PROXY_CIDRS", NULL, 0,
        "proxies exempt from MAX_CONNECTIONS_PER_IP (comma-separated CIDRs; empty = none)",
        trusted_proxy_cidrs),
    INT("MAX_SMS_COUNT", "1000", "most messages accepted in one request (422 above)", max_sms_count,
        1, 100000),
    INT("EXTRACT_THREADS", "0",
        "threads extracting requests off the event loops (0 = from the cgroup CPU quota)",
        extract_threads, 0, 256),
    INT("EXTRACT_QUEUE_MAX", "64",
        "requests waiting for an extraction thread; more get 503 overloaded with Retry-After",
        extract_queue_max, 1, 100000),
    INT("EXTRACT_QUEUE_TIMEOUT_MS", "2000",
        "a request that waited longer than this for an extraction thread gets 503 overloaded "
        "with Retry-After instead of being extracted",
        extract_queue_timeout_ms, 1, 600000),
    ARTIFACT_ROWS("VOCAB", vocab, "vocabulary.json"),
    ARTIFACT_ROWS("CLASSIFICATION", classification, "classification.json"),
    ARTIFACT_ROWS("REGEX", regex, "regex.json"),
    CONFIG_INCLUDE(artifact_access_rows, offsetof(struct smsx_config, access)),
    STR("DB_HOST", NULL, 0, "PostgreSQL host for the request log (empty = no request log)",
        db_host),
    INT("DB_PORT", "5432", "PostgreSQL port", db_port, 1, 65535),
    STR("DB_USER", NULL, 0, "PostgreSQL user", db_user),
    STR("DB_PASSWORD", NULL, CONFIG_SECRET, "PostgreSQL password", db_password),
    STR("DB_NAME", "api_insights_db", 0, "PostgreSQL database", db_name),
    STR("DB_SSLMODE", "prefer", 0, "libpq sslmode: disable, prefer, require, verify-full, ...",
        db_sslmode),
    STR("PGSSLROOTCERT", NULL, 0,
        "CA bundle (PEM file) for DB_SSLMODE/DI_POSTGRES_SSLMODE verify-ca or verify-full, e.g. "
        "the RDS or Cloud SQL server CA mounted from a Secret; libpq reads it",
        pg_sslrootcert),
    INT("DB_QUEUE_MAX", "10000",
        "request-log rows queued while the database is slow or down; "
        "more are dropped and counted",
        db_queue_max, 1, 10000000),
    STR("DB_ENCRYPTION_KEY", NULL, CONFIG_SECRET | CONFIG_UNUSED,
        "accepted for compatibility with older deployments; has no effect", db_encryption_key),
};

const size_t smsx_config_table_len = sizeof(smsx_config_table) / sizeof(smsx_config_table[0]);

static const char *const sslmodes[] = {"disable", "allow",     "prefer",
                                       "require", "verify-ca", "verify-full"};

/* Checks across variables, after each row's own checks passed. */
static int cross_check(const struct smsx_config *cfg, char *err, size_t err_len)
{
    const struct smsx_artifact_config *arts[3] = {&cfg->vocab, &cfg->classification, &cfg->regex};
    static const char *const prefix[3] = {"VOCAB", "CLASSIFICATION", "REGEX"};
    bool ok = false;

    for (size_t i = 0; i < 3; i++) {
        if (arts[i]->use_s3 && (!*arts[i]->s3_bucket || !*arts[i]->s3_key)) {
            snprintf(err, err_len, "%s_USE_S3: true needs %s_S3_BUCKET and %s_S3_KEY", prefix[i],
                     prefix[i], prefix[i]);
            return -1;
        }
        if (!arts[i]->use_s3 && !*arts[i]->path) {
            snprintf(err, err_len, "%s_PATH: expected a file path or s3://bucket/key", prefix[i]);
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof(sslmodes) / sizeof(sslmodes[0]); i++)
        ok |= strcasecmp(cfg->db_sslmode, sslmodes[i]) == 0;
    if (!ok) {
        snprintf(err, err_len,
                 "DB_SSLMODE: expected disable|allow|prefer|require|verify-ca|verify-full, got "
                 "'%.32s'",
                 cfg->db_sslmode);
        return -1;
    }
    if (daemon_check_service(&cfg->service, cfg->http_port, cfg->admin_port, err, err_len) < 0)
        return -1;
    if (*cfg->db_host &&
        pg_check_tls(cfg->db_sslmode, cfg->pg_sslrootcert, "DB_SSLMODE", err, err_len) < 0)
        return -1;
    if (daemon_is_prod(&cfg->service) &&
        config_check_prod(smsx_config_table, smsx_config_table_len, cfg, err, err_len) < 0)
        return -1;
    return 0;
}

int smsx_config_load(struct smsx_config *cfg, char *err, size_t err_len)
{
    if (config_load(smsx_config_table, smsx_config_table_len, cfg, err, err_len) < 0)
        return -1;
    return cross_check(cfg, err, err_len);
}

void smsx_config_free(struct smsx_config *cfg)
{
    config_free(smsx_config_table, smsx_config_table_len, cfg);
}
