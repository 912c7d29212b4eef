/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AWS credentials the way a cluster hands them out, resolved in the AWS SDKs'
 * order and cached until shortly before they expire:
 *
 *   1. environment keys: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
 *   2. web identity (EKS IRSA, any OIDC federation): AWS_ROLE_ARN +
 *      AWS_WEB_IDENTITY_TOKEN_FILE -> STS AssumeRoleWithWebIdentity at
 *      AWS_ENDPOINT_URL_STS (default https://sts.<region>.amazonaws.com);
 *   3. container credentials (ECS tasks, EKS Pod Identity):
 *      AWS_CONTAINER_CREDENTIALS_FULL_URI or http://169.254.170.2 +
 *      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, with the Authorization header
 *      from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read each time) or
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN;
 *   4. EC2 instance metadata, IMDSv2 only (a session token first), at
 *      AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254),
 *      unless AWS_EC2_METADATA_DISABLED is true.
 *
 * The first source that is configured is the one used (as the SDKs do, a
 * configured source that fails is an error, not a reason to try the next);
 * with none configured and no instance metadata service answering, there are
 * no credentials and S3 requests go unsigned (public or S3-compatible stores).
 * Shared config and credentials files (~/.aws) are not read: a container has
 * none. Temporary credentials are fetched again when a quarter of their life,
 * at most 5 minutes, remains; when a refresh fails the cached ones are used
 * until they really expire. A provider is safe to share between threads.
 *
 * This module reads no environment itself: the daemon's config table does
 * (AWS_SETTINGS_ROWS below gives both daemons the same rows) and hands the
 * values in. Errors name the source and the server's error code, never a key,
 * secret, token or the identity token.
 */
#ifndef COMMON_AWS_CREDENTIALS_H
#define COMMON_AWS_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/config.h"

#define AWS_KEY_ID_MAX 128
#define AWS_SECRET_MAX 128
#define AWS_SESSION_TOKEN_MAX 4096

/* The standard AWS_* variables, filled by the config rows of AWS_SETTINGS_ROWS. */
struct aws_settings {
    char *access_key_id;             /* AWS_ACCESS_KEY_ID */
    char *secret_access_key;         /* AWS_SECRET_ACCESS_KEY */
    char *session_token;             /* AWS_SESSION_TOKEN */
    char *region;                    /* AWS_REGION (wins over AWS_DEFAULT_REGION) */
    char *default_region;            /* AWS_DEFAULT_REGION */
    char *endpoint_url_s3;           /* AWS_ENDPOINT_URL_S3 */
    char *endpoint_url_sts;          /* AWS_ENDPOINT_URL_STS */
    char *role_arn;                  /* AWS_ROLE_ARN */
    char *role_session_name;         /* AWS_ROLE_SESSION_NAME */
    char *web_identity_token_file;   /* AWS_WEB_IDENTITY_TOKEN_FILE */
    char *container_full_uri;        /* AWS_CONTAINER_CREDENTIALS_FULL_URI */
    char *container_relative_uri;    /* AWS_CONTAINER_CREDENTIALS_RELATIVE_URI */
    char *container_auth_token;      /* AWS_CONTAINER_AUTHORIZATION_TOKEN */
    char *container_auth_token_file; /* AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE */
    char *imds_endpoint;             /* AWS_EC2_METADATA_SERVICE_ENDPOINT */
    bool imds_disabled;              /* AWS_EC2_METADATA_DISABLED */
};

#define AWS_ROW_(name, type, def, flags, doc, t, field)                                            \
    {                                                                                              \
        name, type, def, flags, doc, offsetof(t, field), 0, 0, NULL, NULL                          \
    }
#define AWS_STR_(name, def, flags, doc, t, field)                                                  \
    AWS_ROW_(name, CONFIG_STRING, def, flags, doc, t, field)

/* The config rows of struct aws_settings member m of daemon struct type t. */
#define AWS_SETTINGS_ROWS(t, m)                                                                    \
    AWS_STR_("AWS_ACCESS_KEY_ID", NULL, CONFIG_SECRET,                                             \
             "S3 access key id (first source of the credential chain; docs/deployment.md)", t,     \
             m.access_key_id),                                                                     \
        AWS_STR_("AWS_SECRET_ACCESS_KEY", NULL, CONFIG_SECRET, "secret key of AWS_ACCESS_KEY_ID",  \
                 t, m.secret_access_key),                                                          \
        AWS_STR_("AWS_SESSION_TOKEN", NULL, CONFIG_SECRET,                                         \
                 "session token of temporary AWS_ACCESS_KEY_ID credentials", t, m.session_token),  \
        AWS_STR_("AWS_REGION", NULL, 0, "region for S3 and STS; wins over AWS_DEFAULT_REGION", t,  \
                 m.region),                                                                        \
        AWS_STR_("AWS_DEFAULT_REGION", "us-east-1", 0,                                             \
                 "region used when AWS_REGION and the artifact name none", t, m.default_region),   \
        AWS_STR_("AWS_ENDPOINT_URL_S3", NULL, 0,                                                   \
                 "S3-compatible endpoint, e.g. http://127.0.0.1:4570 (empty = AWS)", t,            \
                 m.endpoint_url_s3),                                                               \
        AWS_STR_("AWS_ENDPOINT_URL_STS", NULL, 0,                                                  \
                 "STS endpoint for web identity (empty = https://sts.<region>.amazonaws.com)", t,  \
                 m.endpoint_url_sts),                                                              \
        AWS_STR_("AWS_ROLE_ARN", NULL, 0,                                                          \
                 "role assumed with AWS_WEB_IDENTITY_TOKEN_FILE (EKS IRSA sets both)", t,          \
                 m.role_arn),                                                                      \
        AWS_STR_("AWS_ROLE_SESSION_NAME", NULL, 0,                                                 \
                 "session name for AssumeRoleWithWebIdentity (empty = daemon name and pid)", t,    \
                 m.role_session_name),                                                             \
        AWS_STR_("AWS_WEB_IDENTITY_TOKEN_FILE", NULL, 0,                                           \
                 "file holding the OIDC token (re-read on every refresh: it rotates)", t,          \
                 m.web_identity_token_file),                                                       \
        AWS_STR_("AWS_CONTAINER_CREDENTIALS_FULL_URI", NULL, 0,                                    \
                 "container credentials URL (EKS Pod Identity, ECS); loopback, the link-local "    \
                 "agent or https only",                                                            \
                 t, m.container_full_uri),                                                         \
        AWS_STR_("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", NULL, 0,                                \
                 "container credentials path on http://169.254.170.2 (ECS)", t,                    \
                 m.container_relative_uri),                                                        \
        AWS_STR_("AWS_CONTAINER_AUTHORIZATION_TOKEN", NULL, CONFIG_SECRET,                         \
                 "Authorization header for the container credentials URL", t,                      \
                 m.container_auth_token),                                                          \
        AWS_STR_("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", NULL, 0,                                \
                 "file holding that header (re-read each time; wins over the variable)", t,        \
                 m.container_auth_token_file),                                                     \
        AWS_STR_("AWS_EC2_METADATA_SERVICE_ENDPOINT", NULL, 0,                                     \
                 "instance metadata endpoint (empty = http://169.254.169.254)", t,                 \
                 m.imds_endpoint),                                                                 \
        AWS_ROW_("AWS_EC2_METADATA_DISABLED", CONFIG_BOOL, "false", 0,                             \
                 "never ask the instance metadata service for credentials", t, m.imds_disabled)

/* One set of credentials; expiration 0 = they do not expire (environment keys). */
struct aws_credentials {
    char access_key_id[AWS_KEY_ID_MAX];
    char secret_access_key[AWS_SECRET_MAX];
    char session_token[AWS_SESSION_TOKEN_MAX];
    time_t expiration;
    const char *source; /* "environment", "web-identity", "container", "imds" */
};

struct aws_provider;

/* The region: AWS_REGION, else AWS_DEFAULT_REGION, else "us-east-1". */
const char *aws_settings_region(const struct aws_settings *s);

/*
 * A provider over a copy of the settings (the caller's strings may go away).
 * session_name_prefix names the daemon in the default role session name.
 * Never NULL (aborts when out of memory).
 */
struct aws_provider *aws_provider_new(const struct aws_settings *s,
                                      const char *session_name_prefix);
void aws_provider_free(struct aws_provider *p);

/*
 * Current credentials: the cached ones while fresh, else fetched from the
 * chosen source. Returns 0 with *out filled, 1 when no source is configured
 * and no instance metadata service answered (sign nothing), or -1 with err
 * naming the source and why. Wipe *out after use (crypto_wipe).
 */
int aws_provider_get(struct aws_provider *p, struct aws_credentials *out, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/*
 * The server refused these credentials (expired, unknown key): forget the
 * cache so the next get fetches again. Returns true when that can help (the
 * source issues temporary credentials), false for environment keys.
 */
bool aws_provider_expire(struct aws_provider *p);

/*
 * Parsers of the three replies (exported for the unit tests and the fuzz
 * target). Each returns 0 with *out filled, or -1 with err (the error code of
 * the reply when it carries one). now is the time the reply arrived.
 */
int aws_parse_sts_reply(const char *xml, size_t len, struct aws_credentials *out, char *err,
                        size_t err_len);
int aws_parse_json_reply(const char *json, size_t len, struct aws_credentials *out, char *err,
                         size_t err_len);

/* "2026-12-07T14:00:00Z" (fraction and "+00:00" accepted) -> Unix seconds, or -1. */
time_t aws_parse_time(const char *text);

#endif
