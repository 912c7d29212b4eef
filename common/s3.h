/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A signed S3 GET (AWS Signature Version 4) through libcurl, for loading
 * artifacts from AWS S3 or an S3-compatible server. Only GET: the daemons read
 * artifacts, they never write them.
 */
#ifndef COMMON_S3_H
#define COMMON_S3_H

#include <stddef.h>

struct aws_provider;

#define S3_URL_MAX 4096

struct s3_request {
    const char *bucket;
    const char *key;                  /* object key, no leading '/' */
    const char *region;               /* NULL or "" = "us-east-1" */
    const char *endpoint;             /* NULL or "" = https://<bucket>.s3.<region>.amazonaws.com;
                                         else path style <endpoint>/<bucket>/<key> */
    const char *access_key_id;        /* NULL or "" = anonymous, unsigned request */
    const char *secret_access_key;    /* required with access_key_id */
    const char *session_token;        /* NULL or "" = none; else X-Amz-Security-Token */
    struct aws_provider *credentials; /* asked when access_key_id is empty (the AWS credential
                                         chain, common/aws_credentials.h); NULL = anonymous */
    long timeout_ms;                  /* whole request; 0 = 30000 */
    long connect_timeout_ms;          /* 0 = 5000 */
    size_t max_bytes;                 /* body cap; 0 = 64 MiB */
};

/*
 * Builds the request URL into url (S3_URL_MAX bytes), percent-encoding each key
 * segment per RFC 3986 (unreserved characters and '/' kept). Returns 0 or -1.
 */
int s3_build_url(const struct s3_request *req, char *url, size_t url_len, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/*
 * GETs the object. On success (HTTP 2xx) *data is a malloc'd buffer of *len
 * bytes plus a NUL (not counted), owned by the caller. On failure returns -1,
 * *data is NULL, *http_status holds the HTTP status (0 if none was received)
 * and err gives the cause, with the S3 error code (e.g. "HTTP 403
 * SignatureDoesNotMatch") when the server sent one. err never contains the
 * credentials or the object bytes. With a credentials provider, a reply that
 * says the temporary credentials are no longer good (ExpiredToken,
 * InvalidAccessKeyId, InvalidToken, TokenRefreshRequired) makes it forget them
 * and the GET is sent once more with fresh ones.
 */
int s3_get(const struct s3_request *req, unsigned char **data, size_t *len, long *http_status,
           char *err, size_t err_len) __attribute__((warn_unused_result));

#endif
