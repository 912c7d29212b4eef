/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Artifacts: the data files (rules, vocabularies, maps, models) a daemon loads
 * at start and on SIGHUP. An artifact lives in a local file or in S3 (any
 * S3-compatible server, SigV4 signed through libcurl) and is either plain or
 * sealed (the .enc format of common/seal.h: AES-256-GCM with a key id).
 * artifact_load() fetches the bytes and unseals them when sealed, so callers
 * only ever see plain bytes.
 *
 * This module never reads the environment itself: the daemon's config table
 * does, and hands the values in. Errors are written to err (never logged here)
 * and name the location, never the content.
 */
#ifndef COMMON_ARTIFACT_H
#define COMMON_ARTIFACT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/aws_credentials.h"
#include "common/config.h"

enum artifact_kind {
    ARTIFACT_FILE,
    ARTIFACT_S3,
};

struct artifact_source {
    enum artifact_kind kind;
    char path[1024];  /* ARTIFACT_FILE */
    char bucket[256]; /* ARTIFACT_S3 */
    char key[1024];   /* ARTIFACT_S3, without leading '/' */
    char region[64];  /* ARTIFACT_S3; default "us-east-1" when empty */
};

/* S3 access: the standard AWS_* variables, handed in by the daemon's config. */
struct artifact_s3_auth {
    const char *access_key_id;        /* AWS_ACCESS_KEY_ID */
    const char *secret_access_key;    /* AWS_SECRET_ACCESS_KEY */
    const char *session_token;        /* AWS_SESSION_TOKEN, may be NULL or "" */
    const char *default_region;       /* AWS_DEFAULT_REGION, used when the source has none */
    const char *endpoint;             /* S3 endpoint override (S3-compatible servers), e.g.
                                         "http://127.0.0.1:4570"; NULL or "" = AWS virtual host */
    long timeout_ms;                  /* whole-fetch timeout; 0 = 30000 */
    struct aws_provider *credentials; /* the AWS credential chain (common/aws_credentials.h),
                                         asked when access_key_id is empty; NULL = unsigned */
};

/* Sealing keys: "kid:hex64[,kid:hex64...]" (ARTIFACT_KEYS) or a file of such lines. */
struct artifact_keyring;

/*
 * Parse a location: "s3://bucket/key" -> ARTIFACT_S3, anything else -> ARTIFACT_FILE.
 * Returns 0, or -1 with err set.
 */
int artifact_source_parse(const char *location, struct artifact_source *out, char *err,
                          size_t err_len);

/*
 * The Credeau guide's four-variable form (*_USE_S3, *_S3_BUCKET, *_S3_KEY, *_S3_REGION):
 * when use_s3 is true builds an ARTIFACT_S3 source (bucket and key required),
 * otherwise an ARTIFACT_FILE source from path.
 */
int artifact_source_from_parts(bool use_s3, const char *bucket, const char *key, const char *region,
                               const char *path, struct artifact_source *out, char *err,
                               size_t err_len);

/* "s3://bucket/key" or the file path, for logs and metrics. */
void artifact_source_describe(const struct artifact_source *src, char *buf, size_t buf_len);

/*
 * Keyring from a spec string and/or a file (either may be NULL/""). An empty
 * keyring is valid: sealed artifacts then fail to load with a clear error.
 */
struct artifact_keyring *artifact_keyring_new(const char *keys_spec, const char *keys_file,
                                              char *err, size_t err_len);
void artifact_keyring_free(struct artifact_keyring *keyring);

/*
 * Fetch and (if sealed) unseal. On success *data is a malloc'd buffer of *len
 * bytes plus a terminating NUL (not counted), owned by the caller; *sealed says
 * whether it came sealed. Returns 0, or -1 with err set and *data NULL.
 * Caps the size at max_bytes (0 = 64 MiB).
 */
int artifact_load(const struct artifact_source *src, const struct artifact_s3_auth *auth,
                  const struct artifact_keyring *keyring, size_t max_bytes, unsigned char **data,
                  size_t *len, bool *sealed, char *err, size_t err_len);

/* ---- a daemon's artifact access ---- */

/* The settings of artifact_access_rows (each daemon embeds one). */
struct artifact_access {
    long max_bytes;          /* ARTIFACT_MAX_BYTES */
    long timeout_ms;         /* ARTIFACT_TIMEOUT_MS */
    struct aws_settings aws; /* AWS_* (common/aws_credentials.h): S3 and its credentials */
    char *keys;              /* ARTIFACT_KEYS */
    char *keys_file;         /* ARTIFACT_KEYS_FILE */
};

/* ARTIFACT_MAX_BYTES, ARTIFACT_TIMEOUT_MS, the AWS_* settings (AWS_SETTINGS_ROWS),
 * ARTIFACT_KEYS(_FILE): include with CONFIG_INCLUDE. */
extern const struct config_var artifact_access_rows[];

/* What fetching a daemon's artifacts needs, made once per load. */
struct artifact_fetcher {
    const struct artifact_access *access;
    struct aws_provider *credentials; /* borrowed: the daemon's credential chain, which may
                                         outlive a load so its cache serves reloads */
    struct artifact_keyring *keyring;
    bool sealed_only; /* LAUNCH_ENVIRONMENT=prod: unsealed artifacts are refused */
};

/*
 * A fetcher over a and credentials (both borrowed, outliving it; credentials
 * from aws_provider_new(&a->aws, ...), NULL = S3 requests unsigned); -1 with
 * err when the keys are malformed.
 */
int artifact_fetcher_init(struct artifact_fetcher *f, const struct artifact_access *a,
                          struct aws_provider *credentials, bool sealed_only, char *err,
                          size_t err_len) __attribute__((warn_unused_result));
void artifact_fetcher_free(struct artifact_fetcher *f);

/*
 * The bytes of artifact `name` at src (file or S3, unsealed on the way;
 * unsealed bytes refused when sealed_only). *data is malloc'd. Returns 0, or
 * -1 with err "name (where): why".
 */
int artifact_fetch(const struct artifact_fetcher *f, const char *name,
                   const struct artifact_source *src, unsigned char **data, size_t *len, char *err,
                   size_t err_len) __attribute__((warn_unused_result));

#endif
