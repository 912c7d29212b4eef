/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The insights-api daemon's configuration: one struct filled from the
 * environment by the one table in config.c (see common/config.h). The daemon
 * and its CLI subcommands share it; nothing else reads getenv. Every variable
 * of the Credeau deployment guide's Insights API table has a row: used, or
 * accepted and documented as unused (a warning at start-up, never fatal).
 */
#ifndef INSIGHTS_CONFIG_H
#define INSIGHTS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/artifact.h"
#include "common/config.h"
#include "common/daemon.h"

enum ins_dump_mode {
    INS_DUMP_FULL = 0, /* request and response bodies stored */
    INS_DUMP_METADATA, /* ids, times, sizes, groupings: no bodies */
    INS_DUMP_OFF,      /* nothing in the *_dump tables */
};

/* The guide's mapping artifacts that the features use (file path or s3://bucket/key). */
enum ins_artifact {
    INS_ART_APPS_MAPPING = 0,
    INS_ART_FRAUD_APPS_MAPPING,
    INS_ART_AVG_DEVICE_MAPPING,
    INS_ART_DEVICE_MAPPING,
    INS_ART_MERCHANT_MAPPING,
    INS_ART_SMS_MAPPING,
    INS_ART_SMS_MAPPING_V2,
    INS_ART_PAYER_MAPPING,     /* ours: payer names -> kind (gig platforms) */
    INS_ART_CLIENT_EXCLUSIONS, /* ours: each client's own SMS headers and apps (leakage) */
    INS_ART__COUNT
};

/* Pickled Python models of the guide: replaced (see config.c), accepted for compatibility. */
#define INS_PICKLED_COUNT 11
/*
 * The LightGBM score versions of the guide (docs/scoring.md), listed once, in
 * config.c: each is a score and a version with two configuration rows, its
 * model and its predictor list. The rows are made from this list, and
 * assets.c loads every version whose model is set.
 */
struct ins_score_model {
    const char *score;          /* "credeau_payday_score" */
    const char *version;        /* "v2" */
    const char *model_env;      /* "PAYDAY_SCORE_LGB_MODEL_V2_PATH" */
    const char *predictors_env; /* "PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V2_PATH" */
};
#define INS_SCORE_MODELS_MAX 16
extern const struct ins_score_model ins_score_models[]; /* ended by a row whose score is NULL */

struct ins_model_paths {
    char *model;
    char *predictors;
};

struct ins_config {
    /* service */
    long http_port;
    long admin_port;
    struct daemon_service_config service; /* the rows both daemons share */
    long pipeline_threads;                /* blocking work (Mongo, extraction, PostgreSQL) */
    long pipeline_queue_max;
    long pipeline_timeout_ms;

    /* Credeau identity */
    char *client_id;
    char *license_key;
    char *subscription_id;

    /* PostgreSQL api_insights_db */
    char *pg_user;
    char *pg_password;
    char *pg_host; /* empty = no database: demo mode, refused in prod */
    long pg_port;
    char *pg_database;
    char *pg_sslmode;
    char *pg_sslrootcert;   /* PGSSLROOTCERT: libpq reads it; checked at start */
    char *pg_sync_database; /* unused */

    /* sms-extraction */
    char *extractor_url;
    long extractor_batch_size;
    long extractor_timeout_ms;
    long extractor_retries;
    long extractor_parallel;
    long extractor_max_conn_age_s;

    /* MongoDB sync_db */
    char *mongo_uri;
    char *mongo_user;
    char *mongo_password;
    char *mongo_host; /* empty (and no URI) = no MongoDB: /api/insights answers 503 */
    long mongo_port;
    char *mongo_database;
    char *mongo_enabled_sources;
    long mongo_max_pool;
    long mongo_min_pool;
    long mongo_server_selection_timeout_ms;
    long mongo_connect_timeout_ms;
    long mongo_socket_timeout_ms;
    bool mongo_retry_writes;
    long mongo_wait_queue_timeout_ms;

    /* artifacts */
    char *artifacts[INS_ART__COUNT];
    char *catalogue_path;
    char *pickled[INS_PICKLED_COUNT];                    /* unused */
    struct ins_model_paths models[INS_SCORE_MODELS_MAX]; /* of ins_score_models[i] */
    char *score_arms;
    char *score_arms_path; /* when set, replaces score_arms; re-read on SIGHUP */
    long score_reason_codes;
    long score_min_sms_count;         /* evidence gates (docs/scoring.md): fewer SMS -> thin_file */
    long score_min_history_days;      /* a shorter history -> thin_file */
    long score_max_data_recency_days; /* a newest SMS older than this -> stale_data */
    struct artifact_access access;    /* sizes, S3 and its credentials, keys: shared rows */

    /* admission */
    long auth_cache_ttl_s;
    long auth_stale_max_s;
    long auth_cache_max;
    char *token_pepper;
    char *user_key_secret; /* HMAC key of prediction_log/outcomes user_key */
    char *demo_clients;    /* "client:token[,client:token]" used when there is no database */
    long rate_limit_per_minute;
    long rate_limit_max_ips;
    char *ip_allow_list;
    char *trusted_proxy_cidrs;

    /* data */
    int dump_mode; /* enum ins_dump_mode */
    long retention_days;
    long partitions_ahead_days;
    long maintain_interval_s;
    char *spool_path;
    long spool_max_bytes;
    long result_ttl_s;
    long job_stale_s;
    long job_sweep_interval_s;
    bool extraction_strict;
    bool prediction_log; /* every computed score written to prediction_log */
    bool fetch_sms_body;
    long max_groupings;
    long fetch_max_sms;
    long max_sms_per_user; /* bounds a user's working set (docs/operations.md) */

    /* tests only */
    char *test_clock;     /* TEST_CLOCK as given ("" = the wall clock) */
    int64_t test_clock_s; /* its Unix seconds; 0 = the wall clock (refused in prod) */
};

extern const struct config_var ins_config_table[];
extern const size_t ins_config_table_len;

/* The names of the artifact rows, indexed by enum ins_artifact ("APPS_MAPPING_PATH", ...). */
extern const char *const ins_artifact_env[INS_ART__COUNT];

/*
 * Load and cross-check the configuration. Returns 0, or -1 with err naming
 * the variable. Call ins_config_free() in both cases.
 */
int ins_config_load(struct ins_config *cfg, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* Same, reading values through getenv_fn (tests). */
int ins_config_load_with(struct ins_config *cfg, const char *(*getenv_fn)(const char *, void *),
                         void *arg, char *err, size_t err_len) __attribute__((warn_unused_result));

void ins_config_free(struct ins_config *cfg);

/*
 * The time a request is stamped with: TEST_CLOCK when set (tests only: a
 * frozen clock), else the wall clock. Unix seconds.
 */
double ins_config_now(const struct ins_config *cfg);

/* A PostgreSQL database is configured (DI_POSTGRES_HOST set). */
bool ins_config_has_db(const struct ins_config *cfg);

/* A MongoDB is configured (DI_MONGODB_URI or DI_MONGODB_HOST set). */
bool ins_config_has_mongo(const struct ins_config *cfg);

/*
 * The MongoDB URI: DI_MONGODB_URI when set, else built from the DI_MONGODB_*
 * parts (user and password percent-encoded, pool and timeout options added).
 * Returns a malloc'd string (it may hold the password: never log it) or NULL.
 */
char *ins_config_mongo_uri(const struct ins_config *cfg);

/* LICENSE_KEY shown as its first 4 characters then "****" ("" when unset). */
void ins_config_license_masked(const struct ins_config *cfg, char *buf, size_t buf_len);

#endif
