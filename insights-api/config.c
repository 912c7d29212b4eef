/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one configuration table of the insights-api daemon and its CLI. Every
 * variable of the Credeau guide's Insights API table is a row here, so an
 * existing .env keeps working: the ones we use, and the ones we accept but
 * replace (the pickled Python models: merchant categories now come from the
 * merchant mapping plus rules and the employer from salary credits; the SMS
 * text classifier is sms-extraction's rules). Those rows carry CONFIG_UNUSED:
 * documented, listed in a start-up warning, never fatal. The guide's LightGBM
 * rows are used: each model/predictor-list pair is one version of a score
 * (insights-api/assets.c, docs/scoring.md). Our own rows follow, with the defaults of
 * docs/insights-api.md.
 */
#include "insights-api/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/ist_date.h"

#include "common/pg.h"

#define ROW(name, type, def, flags, doc, field, min, max)                                          \
    {                                                                                              \
        name, type, def, flags, doc, offsetof(struct ins_config, field), min, max, NULL, NULL      \
    }
#define STR(name, def, flags, doc, field) ROW(name, CONFIG_STRING, def, flags, doc, field, 0, 0)
#define INT(name, def, doc, field, min, max) ROW(name, CONFIG_INT, def, 0, doc, field, min, max)
#define BOOL(name, def, doc, field) ROW(name, CONFIG_BOOL, def, 0, doc, field, 0, 0)
#define ART(name, file, doc, i)                                                                    \
    STR(name, "insights-api/artifacts/" file, 0, doc " (file path or s3://bucket/key)",            \
        artifacts[i])
#define PICKLED(name, i)                                                                           \
    STR(name, NULL, CONFIG_UNUSED,                                                                 \
        "pickled Python model of the guide: accepted, not used (merchant categories come from "    \
        "MERCHANT_MAPPING_PATH plus rules, the employer from salary credits, SMS classes from "    \
        "sms-extraction)",                                                                         \
        pickled[i])

const char *const ins_artifact_env[INS_ART__COUNT] = {
    "APPS_MAPPING_PATH",   "FRAUD_APPS_MAPPING_PATH", "AVG_DEVICE_MAPPING_PATH",
    "DEVICE_MAPPING_PATH", "MERCHANT_MAPPING_PATH",   "SMS_MAPPING_PATH",
    "SMS_MAPPING_V2_PATH", "PAYER_MAPPING_PATH",      "CLIENT_EXCLUSIONS_PATH",
};

const struct ins_score_model ins_score_models[] = {
    {"credeau_score", "v1", "LGB_SCORE_MODEL_PATH", "PREDICTORS_SCORE_LGB_MODEL_PATH"},
    {"credeau_payday_score", "v1", "PAYDAY_SCORE_LGB_MODEL_PATH",
     "PREDICTORS_PAYDAY_SCORE_LGB_MODEL_PATH"},
    {"credeau_payday_score", "v2", "PAYDAY_SCORE_LGB_MODEL_V2_PATH",
     "PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V2_PATH"},
    {"credeau_payday_score", "v3", "PAYDAY_SCORE_LGB_MODEL_V3_PATH",
     "PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V3_PATH"},
    {"credeau_emi_score", "v1", "EMI_LGB_MODEL_PATH", "PREDICTORS_EMI_LGB_MODEL_PATH"},
    {"credeau_emi_score", "v2", "EMI_LGB_MODEL_V2_PATH", "PREDICTORS_EMI_LGB_MODEL_V2_PATH"},
    {NULL, NULL, NULL, NULL},
};

/*
 * The two rows of each score version, made from ins_score_models before
 * main() runs (a constructor, because the table below points at them and
 * --config-docs reads it before anything else happens).
 */
static struct config_var model_rows[2 * INS_SCORE_MODELS_MAX + 1];
static char model_docs[2 * INS_SCORE_MODELS_MAX][160];

static size_t model_offset(size_t i, size_t field)
{
    return offsetof(struct ins_config, models) + i * sizeof(struct ins_model_paths) + field;
}

__attribute__((constructor)) static void make_model_rows(void)
{
    size_t n = 0;

    for (size_t i = 0; ins_score_models[i].score && i < INS_SCORE_MODELS_MAX; i++) {
        const struct ins_score_model *m = &ins_score_models[i];

        snprintf(model_docs[n], sizeof(model_docs[n]),
                 "LightGBM text model: %s %s (file path or s3://bucket/key; docs/scoring.md)",
                 m->score, m->version);
        model_rows[n] =
            (struct config_var){.name = m->model_env,
                                .type = CONFIG_STRING,
                                .doc = model_docs[n],
                                .offset = model_offset(i, offsetof(struct ins_model_paths, model))};
        n++;
        snprintf(model_docs[n], sizeof(model_docs[n]),
                 "predictor list (JSON feature names in model column order) of %s %s (file path or "
                 "s3://bucket/key; docs/scoring.md)",
                 m->score, m->version);
        model_rows[n] = (struct config_var){
            .name = m->predictors_env,
            .type = CONFIG_STRING,
            .doc = model_docs[n],
            .offset = model_offset(i, offsetof(struct ins_model_paths, predictors))};
        n++;
    }
    model_rows[n].name = NULL;
}

const struct config_var ins_config_table[] = {
    /* service */
    INT("HTTP_PORT", "8000", "service port: /api/*, /health, /ready (0 = any free port)", http_port,
        0, 65535),
    INT("ADMIN_PORT", "9000", "admin port: /metrics (0 = any free port)", admin_port, 0, 65535),
    CONFIG_INCLUDE(daemon_service_rows, offsetof(struct ins_config, service)),
    INT("PIPELINE_THREADS", "0",
        "threads running the blocking work of requests (MongoDB, extraction, PostgreSQL); "
        "0 = 2 x event-loop threads",
        pipeline_threads, 0, 256),
    INT("PIPELINE_QUEUE_MAX", "1024", "requests waiting for a pipeline thread; more get 503",
        pipeline_queue_max, 1, 1000000),
    INT("PIPELINE_TIMEOUT_MS", "25000",
        "a sync request waiting longer than this for a pipeline thread gets 503",
        pipeline_timeout_ms, 100, 600000),

    /* Credeau identity */
    STR("CLIENT_ID", NULL, 0,
        "client id of this deployment (guide); shown in the start-up line and /metrics", client_id),
    STR("LICENSE_KEY", NULL, CONFIG_SECRET,
        "licence key of the guide: accepted, shown masked in /metrics; never sent anywhere",
        license_key),
    STR("SUBSCRIPTION_ID", NULL, 0,
        "subscription id of the guide: accepted, shown in /metrics; never sent anywhere",
        subscription_id),

    /* PostgreSQL */
    STR("DI_POSTGRES_HOST", NULL, 0,
        "PostgreSQL host of api_insights_db (empty = no database: demo clients, no async, no "
        "dumps; refused in prod)",
        pg_host),
    INT("DI_POSTGRES_PORT", "5432", "PostgreSQL port", pg_port, 1, 65535),
    STR("DI_POSTGRES_USERNAME", NULL, 0, "PostgreSQL user", pg_user),
    STR("DI_POSTGRES_PASSWORD", NULL, CONFIG_SECRET, "PostgreSQL password", pg_password),
    STR("DI_POSTGRES_DATABASE", "api_insights_db", 0, "PostgreSQL database", pg_database),
    STR("DI_POSTGRES_SSLMODE", "prefer", 0,
        "libpq sslmode: disable, allow, prefer, require, verify-ca, verify-full", pg_sslmode),
    STR("PGSSLROOTCERT", NULL, 0,
        "CA bundle (PEM file) for DI_POSTGRES_SSLMODE verify-ca or verify-full, e.g. the RDS or "
        "Cloud SQL server CA mounted from a Secret; libpq reads it",
        pg_sslrootcert),
    STR("DI_POSTGRES_SYNC_DATABASE", NULL, CONFIG_UNUSED,
        "guide's PostgreSQL sync database: accepted, not used (synced data is read from "
        "MongoDB DI_MONGODB_DATABASE)",
        pg_sync_database),

    /* sms-extraction */
    STR("SMS_EXTRACTOR_SERVICE_URL", "http://127.0.0.1:8082", 0,
        "base URL of sms-extraction (POST <url>/api/extract)", extractor_url),
    INT("SMS_EXTRACTOR_BATCH_SIZE", "1000",
        "messages per extraction call (at most the extractor's MAX_SMS_COUNT)",
        extractor_batch_size, 1, 100000),
    INT("SMS_EXTRACTOR_TIMEOUT_MS", "10000", "time allowed for one extraction call attempt",
        extractor_timeout_ms, 100, 600000),
    INT("SMS_EXTRACTOR_RETRIES", "2", "retries of a failed extraction call", extractor_retries, 0,
        10),
    INT("SMS_EXTRACTOR_PARALLEL", "4", "extraction calls in flight at once for one user",
        extractor_parallel, 1, 64),
    INT("SMS_EXTRACTOR_MAX_CONN_AGE_S", "300",
        "never reuse a connection to sms-extraction older than this (spreads load over replicas)",
        extractor_max_conn_age_s, 1, 86400),

    /* MongoDB */
    STR("DI_MONGODB_URI", NULL, CONFIG_SECRET,
        "full MongoDB URI (TLS, DocumentDB, replica sets); overrides the DI_MONGODB_* parts",
        mongo_uri),
    STR("DI_MONGODB_HOST", NULL, 0, "MongoDB host of sync_db (empty and no URI = no MongoDB)",
        mongo_host),
    INT("DI_MONGODB_PORT", "27017", "MongoDB port", mongo_port, 1, 65535),
    STR("DI_MONGODB_USERNAME", NULL, 0, "MongoDB user", mongo_user),
    STR("DI_MONGODB_PASSWORD", NULL, CONFIG_SECRET, "MongoDB password", mongo_password),
    STR("DI_MONGODB_DATABASE", "sync_db", 0, "MongoDB database", mongo_database),
    STR("DI_MONGODB_ENABLED_SOURCES", "sms,apps,device", 0,
        "sources read from MongoDB (comma-separated: sms, apps, device)", mongo_enabled_sources),
    INT("DI_MONGODB_MAX_POOL_SIZE", "40", "MongoDB connection pool maximum", mongo_max_pool, 1,
        10000),
    INT("DI_MONGODB_MIN_POOL_SIZE", "2", "MongoDB connection pool minimum", mongo_min_pool, 0,
        10000),
    INT("DI_MONGODB_SERVER_SELECTION_TIMEOUT_MS", "30000", "MongoDB server selection timeout",
        mongo_server_selection_timeout_ms, 1, 600000),
    INT("DI_MONGODB_CONNECT_TIMEOUT_MS", "30000", "MongoDB connect timeout",
        mongo_connect_timeout_ms, 1, 600000),
    INT("DI_MONGODB_SOCKET_TIMEOUT_MS", "30000", "MongoDB socket timeout", mongo_socket_timeout_ms,
        1, 600000),
    BOOL("DI_MONGODB_RETRY_WRITES", "true", "MongoDB retryWrites (we only read)",
         mongo_retry_writes),
    INT("DI_MONGODB_WAIT_QUEUE_TIMEOUT_MS", "5000", "wait for a free pooled MongoDB connection",
        mongo_wait_queue_timeout_ms, 1, 600000),

    /* artifacts used */
    ART("APPS_MAPPING_PATH", "apps_mapping.json", "app package -> category map",
        INS_ART_APPS_MAPPING),
    ART("FRAUD_APPS_MAPPING_PATH", "fraud_apps_mapping.json", "fraud-assist app list",
        INS_ART_FRAUD_APPS_MAPPING),
    ART("AVG_DEVICE_MAPPING_PATH", "avg_device_price.json", "average device price by brand",
        INS_ART_AVG_DEVICE_MAPPING),
    ART("DEVICE_MAPPING_PATH", "device_pricing.json", "device model -> price",
        INS_ART_DEVICE_MAPPING),
    ART("MERCHANT_MAPPING_PATH", "merchant_mapping.csv", "merchant name -> category (CSV)",
        INS_ART_MERCHANT_MAPPING),
    ART("SMS_MAPPING_PATH", "sms_sender_mapping.json", "SMS sender header -> entity and type",
        INS_ART_SMS_MAPPING),
    STR("SMS_MAPPING_V2_PATH", NULL, 0,
        "SMS sender mapping v2 (file path or s3://bucket/key); when set it is used instead of "
        "SMS_MAPPING_PATH",
        artifacts[INS_ART_SMS_MAPPING_V2]),
    ART("PAYER_MAPPING_PATH", "payer_mapping.json",
        "payer name -> kind (gig platforms), for the income features", INS_ART_PAYER_MAPPING),
    ART("CLIENT_EXCLUSIONS_PATH", "client_exclusions.json",
        "each client's own SMS sender headers and app packages, left out of its users' "
        "features (leakage control)",
        INS_ART_CLIENT_EXCLUSIONS),

    STR("FEATURES_CATALOGUE_PATH", "insights-api/catalogue/features.tsv", 0,
        "the feature catalogue (TSV; file path or s3://bucket/key)", catalogue_path),

    /* the guide's pickled models: replaced */
    PICKLED("COMPANY_MODEL_PATH", 0),
    PICKLED("COMPANY_VECTORIZER_PATH", 1),
    PICKLED("COUNT_VECTORIZER_PATH", 2),
    PICKLED("LABEL_MODEL_PATH", 3),
    PICKLED("LR_MODEL_PATH", 4),
    PICKLED("MERCHANT_LABEL_V2_PATH", 5),
    PICKLED("MERCHANT_LABEL_PATH", 6),
    PICKLED("MERCHANT_MODEL_V2_PATH", 7),
    PICKLED("MERCHANT_MODEL_PATH", 8),
    PICKLED("MERCHANT_VECTORIZER_V2_PATH", 9),
    PICKLED("MERCHANT_VECTORIZER_PATH", 10),

    /* LightGBM scores: model + predictor list per version of ins_score_models */
    CONFIG_INCLUDE(model_rows, 0),
    STR("SCORE_ARMS", NULL, 0,
        "A/B arms per score: score=version:percent,...[,version:shadow][;score=...], e.g. "
        "credeau_payday_score=v2:50,v3:50; a score not named gives 100% to its latest version",
        score_arms),
    STR("SCORE_ARMS_PATH", NULL, 0,
        "A/B arms from a file (file path or s3://bucket/key): lines in SCORE_ARMS form, '#' "
        "comments; when set it replaces SCORE_ARMS and SIGHUP re-reads it (docs/operations.md)",
        score_arms_path),
    INT("SCORE_REASON_CODES", "5",
        "reason codes per score: the features pushing most toward the bad outcome (TreeSHAP), "
        "as <score>_reason_1.._N keys; 0 = none (faster)",
        score_reason_codes, 0, 20),
    INT("SCORE_MIN_SMS_COUNT", "50",
        "evidence gate: a user with fewer SMS (as of the request) gets null scores, "
        "null reason thin_file",
        score_min_sms_count, 1, 1000000),
    INT("SCORE_MIN_HISTORY_DAYS", "30",
        "evidence gate: a user whose oldest SMS is fewer days before as_of gets null scores, "
        "null reason thin_file",
        score_min_history_days, 0, 36500),
    INT("SCORE_MAX_DATA_RECENCY_DAYS", "30",
        "evidence gate: a user whose newest SMS is more days before as_of gets null scores, "
        "null reason stale_data",
        score_max_data_recency_days, 0, 36500),

    /* artifact access */
    CONFIG_INCLUDE(artifact_access_rows, offsetof(struct ins_config, access)),

    /* admission */
    INT("AUTH_CACHE_TTL_SECONDS", "60",
        "how long a checked token is trusted without asking PostgreSQL: the revocation delay",
        auth_cache_ttl_s, 0, 86400),
    INT("AUTH_STALE_MAX_SECONDS", "60",
        "while PostgreSQL cannot be asked, how long past AUTH_CACHE_TTL_SECONDS a cached token "
        "is still accepted (0 = never): with the TTL, the revocation delay during an outage",
        auth_stale_max_s, 0, 86400),
    INT("AUTH_CACHE_MAX", "10000", "distinct tokens cached; the oldest are evicted", auth_cache_max,
        16, 10000000),
    STR("TOKEN_PEPPER", NULL, CONFIG_SECRET | CONFIG_KEY | CONFIG_PROD_REQUIRED,
        "secret mixed into stored token hashes (HMAC-SHA256); keep it outside the database",
        token_pepper),
    STR("USER_KEY_SECRET", NULL, CONFIG_SECRET | CONFIG_KEY | CONFIG_PROD_REQUIRED,
        "HMAC-SHA256 key of the user_key column of prediction_log and outcomes (the user id is "
        "never stored there); changing it breaks the join of old rows to new ones",
        user_key_secret),
    STR("DEMO_CLIENTS", "demo:demo-token", CONFIG_SECRET,
        "client:token pairs accepted when DI_POSTGRES_HOST is empty (make run); refused in prod",
        demo_clients),
    INT("RATE_LIMIT_PER_MINUTE", "1000", "requests per client IP per minute; more get 429",
        rate_limit_per_minute, 0, 100000000),
    INT("RATE_LIMIT_MAX_IPS", "100000", "client IPs tracked at once by the rate limiter",
        rate_limit_max_ips, 16, 100000000),
    STR("IP_ALLOW_LIST", NULL, 0,
        "CIDRs allowed to call /api/* (comma-separated; empty = everyone); others get 403",
        ip_allow_list),
    STR("TRUSTED_PROXY_CIDRS", NULL, 0,
        "proxies whose X-Forwarded-For is believed and that MAX_CONNECTIONS_PER_IP does not cap "
        "(comma-separated CIDRs; empty = none)",
        trusted_proxy_cidrs),

    /* data */
    {"DUMP_MODE", CONFIG_ENUM, "metadata", 0,
     "request/response dumps: full (bodies), metadata (ids, times, sizes) or off",
     offsetof(struct ins_config, dump_mode), 0, 0, "full|metadata|off", NULL},
    INT("RETENTION_DAYS", "90", "days of dumps, usage and logs kept (older partitions dropped)",
        retention_days, 1, 3650),
    INT("PARTITIONS_AHEAD_DAYS", "10", "daily partitions created ahead of today",
        partitions_ahead_days, 1, 365),
    INT("MAINTAIN_INTERVAL_SECONDS", "3600",
        "how often the daemon creates and drops partitions (0 = only `insights-api maintain`)",
        maintain_interval_s, 0, 604800),
    STR("SPOOL_PATH", "/tmp/insights-api-spool", 0,
        "local file where usage and dump rows wait while PostgreSQL is down", spool_path),
    INT("SPOOL_MAX_BYTES", "67108864", "spool file cap; rows past it are dropped and counted",
        spool_max_bytes, 4096, 68719476736),
    INT("RESULT_TTL_SECONDS", "3600",
        "a finished async result is reused this long for the same client, user and groupings",
        result_ttl_s, 1, 2592000),
    INT("JOB_STALE_SECONDS", "30",
        "an async job whose replica sent no heartbeat for this long is claimed again", job_stale_s,
        2, 86400),
    INT("JOB_SWEEP_INTERVAL_SECONDS", "5", "how often stale async jobs are looked for",
        job_sweep_interval_s, 1, 3600),
    BOOL("EXTRACTION_STRICT", "false",
         "extraction down: 502 (504 when it timed out, 503 when it shed load) instead of a "
         "partial reply whose message is \"featurization incomplete\" and whose failed_groups "
         "names the groups",
         extraction_strict),
    BOOL("PREDICTION_LOG", "true",
         "write every computed score (returned and shadow) to prediction_log, off the request "
         "path",
         prediction_log),
    BOOL("FETCH_SMS_BODY", "true",
         "fetch_extracted_data records carry sms_body (the lender's own data; never logged)",
         fetch_sms_body),
    INT("MAX_GROUPINGS", "16", "entries accepted in a request's groupings", max_groupings, 1, 256),
    INT("FETCH_MAX_SMS", "5000",
        "records /api/fetch_extracted_data returns at most (without cnt_sms_threshold, or above)",
        fetch_max_sms, 1, 1000000),
    INT("MAX_SMS_PER_USER", "100000",
        "most messages one request featurises for a borrower (inline or MongoDB): the most "
        "recent N before as_of are kept, and sms_count_used says how many",
        max_sms_per_user, 1, 200000),

    /* tests only */
    STR("TEST_CLOCK", NULL, 0,
        "tests only: freeze the clock requests are stamped with (data_requested_time, the "
        "default as_of) at this India time 'YYYY-MM-DD HH:MM:SS' or epoch seconds; refused in "
        "prod",
        test_clock),
};

const size_t ins_config_table_len = sizeof(ins_config_table) / sizeof(ins_config_table[0]);

static const char *const sslmodes[] = {"disable", "allow",     "prefer",
                                       "require", "verify-ca", "verify-full"};

static int check_sslmode(const struct ins_config *cfg, char *err, size_t err_len)
{
    for (size_t i = 0; i < sizeof(sslmodes) / sizeof(sslmodes[0]); i++)
        if (strcasecmp(cfg->pg_sslmode, sslmodes[i]) == 0)
            return 0;
    snprintf(err, err_len,
             "DI_POSTGRES_SSLMODE: expected disable|allow|prefer|require|verify-ca|verify-full, "
             "got '%.32s'",
             cfg->pg_sslmode);
    return -1;
}

static int check_sources(const struct ins_config *cfg, char *err, size_t err_len)
{
    const char *p = cfg->mongo_enabled_sources;

    while (*p) {
        size_t n = strcspn(p, ",");
        const char *word = p;

        while (n > 0 && (*word == ' ')) {
            word++;
            n--;
        }
        if (!((n == 3 && strncmp(word, "sms", 3) == 0) ||
              (n == 4 && strncmp(word, "apps", 4) == 0) ||
              (n == 6 && strncmp(word, "device", 6) == 0))) {
            snprintf(err, err_len,
                     "DI_MONGODB_ENABLED_SOURCES: expected a list of sms, apps, device, got "
                     "'%.64s'",
                     cfg->mongo_enabled_sources);
            return -1;
        }
        p = word + n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* TEST_CLOCK: an India time or epoch seconds into test_clock_s. */
static int parse_test_clock(struct ins_config *cfg, char *err, size_t err_len)
{
    const char *why = "";
    char ist[20];

    cfg->test_clock_s = 0;
    if (!*cfg->test_clock)
        return 0;
    if (ist_date_normalise(cfg->test_clock, strlen(cfg->test_clock), ist, &why) < 0 ||
        ist_date_to_unix(ist, &cfg->test_clock_s) < 0 || cfg->test_clock_s <= 0) {
        snprintf(err, err_len,
                 "TEST_CLOCK: expected 'YYYY-MM-DD HH:MM:SS' (India time) or epoch seconds "
                 "after 1970 (%s)",
                 why);
        return -1;
    }
    return 0;
}

/* prod: a database is required, no test clock, and no secret may be a placeholder
 * (config_check_prod). */
static int check_prod(const struct ins_config *cfg, char *err, size_t err_len)
{
    if (!daemon_is_prod(&cfg->service))
        return 0;
    if (cfg->test_clock_s) {
        snprintf(err, err_len,
                 "TEST_CLOCK: a test-only setting, refused when LAUNCH_ENVIRONMENT "
                 "is prod");
        return -1;
    }
    if (!ins_config_has_db(cfg)) {
        snprintf(err, err_len,
                 "DI_POSTGRES_HOST: required when LAUNCH_ENVIRONMENT is prod (demo mode refused)");
        return -1;
    }
    return config_check_prod(ins_config_table, ins_config_table_len, cfg, err, err_len);
}

static int cross_check(struct ins_config *cfg, char *err, size_t err_len)
{
    if (parse_test_clock(cfg, err, err_len) < 0 || check_sslmode(cfg, err, err_len) < 0 ||
        check_sources(cfg, err, err_len) < 0 || check_prod(cfg, err, err_len) < 0)
        return -1;
    if (ins_config_has_db(cfg) &&
        pg_check_tls(cfg->pg_sslmode, cfg->pg_sslrootcert, "DI_POSTGRES_SSLMODE", err, err_len) < 0)
        return -1;
    if (daemon_check_service(&cfg->service, cfg->http_port, cfg->admin_port, err, err_len) < 0)
        return -1;
    if (strncmp(cfg->extractor_url, "http://", 7) != 0 &&
        strncmp(cfg->extractor_url, "https://", 8) != 0) {
        snprintf(err, err_len, "SMS_EXTRACTOR_SERVICE_URL: expected an http:// or https:// URL");
        return -1;
    }
    if (cfg->mongo_min_pool > cfg->mongo_max_pool) {
        snprintf(err, err_len,
                 "DI_MONGODB_MIN_POOL_SIZE: must not exceed DI_MONGODB_MAX_POOL_SIZE (%ld)",
                 cfg->mongo_max_pool);
        return -1;
    }
    for (int i = 0; i < INS_ART__COUNT; i++) {
        if (!*cfg->artifacts[i] && i != INS_ART_SMS_MAPPING_V2) {
            snprintf(err, err_len, "%s: expected a file path or s3://bucket/key",
                     ins_artifact_env[i]);
            return -1;
        }
    }
    return 0;
}

int ins_config_load(struct ins_config *cfg, char *err, size_t err_len)
{
    if (config_load(ins_config_table, ins_config_table_len, cfg, err, err_len) < 0)
        return -1;
    return cross_check(cfg, err, err_len);
}

int ins_config_load_with(struct ins_config *cfg, const char *(*getenv_fn)(const char *, void *),
                         void *arg, char *err, size_t err_len)
{
    if (config_load_with(ins_config_table, ins_config_table_len, cfg, getenv_fn, arg, err,
                         err_len) < 0)
        return -1;
    return cross_check(cfg, err, err_len);
}

void ins_config_free(struct ins_config *cfg)
{
    config_free(ins_config_table, ins_config_table_len, cfg);
}

double ins_config_now(const struct ins_config *cfg)
{
    struct timespec ts;

    if (cfg->test_clock_s)
        return (double)cfg->test_clock_s;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool ins_config_has_db(const struct ins_config *cfg)
{
    return cfg->pg_host && *cfg->pg_host;
}

bool ins_config_has_mongo(const struct ins_config *cfg)
{
    return (cfg->mongo_uri && *cfg->mongo_uri) || (cfg->mongo_host && *cfg->mongo_host);
}

/* Appends s percent-encoded (RFC 3986 unreserved kept) to buf at *pos. */
static void append_encoded(char *buf, size_t cap, size_t *pos, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s && *pos + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            buf[(*pos)++] = (char)c;
        } else {
            buf[(*pos)++] = '%';
            buf[(*pos)++] = hex[c >> 4];
            buf[(*pos)++] = hex[c & 15];
        }
    }
    buf[*pos] = '\0';
}

char *ins_config_mongo_uri(const struct ins_config *cfg)
{
    size_t cap = 4096, pos;
    char *buf;
    int n;

    if (cfg->mongo_uri && *cfg->mongo_uri)
        return strdup(cfg->mongo_uri);
    if (!cfg->mongo_host || !*cfg->mongo_host)
        return NULL;
    buf = malloc(cap);
    if (!buf)
        return NULL;
    memcpy(buf, "mongodb://", 11);
    pos = 10;
    if (*cfg->mongo_user) {
        append_encoded(buf, cap, &pos, cfg->mongo_user);
        if (*cfg->mongo_password) {
            buf[pos++] = ':';
            append_encoded(buf, cap, &pos, cfg->mongo_password);
        }
        buf[pos++] = '@';
    }
    n = snprintf(buf + pos, cap - pos,
                 "%s:%ld/%s?maxPoolSize=%ld&minPoolSize=%ld&serverSelectionTimeoutMS=%ld"
                 "&connectTimeoutMS=%ld&socketTimeoutMS=%ld&retryWrites=%s&waitQueueTimeoutMS=%ld",
                 cfg->mongo_host, cfg->mongo_port, cfg->mongo_database, cfg->mongo_max_pool,
                 cfg->mongo_min_pool, cfg->mongo_server_selection_timeout_ms,
                 cfg->mongo_connect_timeout_ms, cfg->mongo_socket_timeout_ms,
                 cfg->mongo_retry_writes ? "true" : "false", cfg->mongo_wait_queue_timeout_ms);
    if (n < 0 || (size_t)n >= cap - pos) {
        free(buf);
        return NULL;
    }
    return buf;
}

void ins_config_license_masked(const struct ins_config *cfg, char *buf, size_t buf_len)
{
    size_t n = cfg->license_key ? strlen(cfg->license_key) : 0;

    if (n == 0) {
        snprintf(buf, buf_len, "%s", "");
        return;
    }
    snprintf(buf, buf_len, "%.*s****", n > 8 ? 4 : 0, cfg->license_key);
}
