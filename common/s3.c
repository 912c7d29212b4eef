/* SPDX-License-Identifier: Apache-2.0 */
/*
 * S3 GET with SigV4, leaning on libcurl's CURLOPT_AWS_SIGV4 for the signature
 * and covering the two things libcurl 7.88 leaves to the caller: the
 * x-amz-content-sha256 header (S3 rejects requests without it; we send the
 * SHA-256 of the empty GET body) and the encoding of the object key. The key is
 * percent-encoded here, one segment at a time per RFC 3986, so the path libcurl
 * signs is the path S3 canonicalises. We send no query string, which sidesteps
 * libcurl 7.88's unsorted canonical query.
 *
 * The body is capped while it streams in; error replies are read only far
 * enough to pick the S3 <Code> out of the XML for the error message.
 *
 * Credentials are either handed in (access_key_id) or asked of the provider
 * of common/aws_credentials.h; a temporary key the server no longer accepts
 * gets one retry with freshly fetched ones, so an expiry between the cache
 * check and the request never fails an artifact load.
 */
#include "common/s3.h"

#include "common/alloc.h"
#include "common/aws_credentials.h"
#include "common/crypto.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S3_DEFAULT_REGION "us-east-1"
#define S3_DEFAULT_MAX_BYTES ((size_t)64 * 1024 * 1024)
#define S3_ERROR_BODY_MAX 4096
#define S3_TOKEN_MAX 4096

struct s3_body {
    unsigned char *data;
    size_t len;
    size_t cap;   /* allocated */
    size_t limit; /* hard cap */
    bool too_large;
    CURL *handle; /* to learn the status while the body streams in */
};

static pthread_once_t s3_curl_once = PTHREAD_ONCE_INIT;

static void s3_curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool s3_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static bool s3_name_ok(const char *s, size_t max, bool lower_only)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool lower = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';

        if (!(lower || (!lower_only && ((c >= 'A' && c <= 'Z') || c == '_'))))
            return false;
    }
    return true;
}

/* "." and ".." segments would be collapsed by URL parsing and change the signed path. */
static bool s3_key_ok(const char *key)
{
    const char *seg = key;

    if (!*key || *key == '/')
        return false;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);

        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        if (!end)
            return true;
        seg = end + 1;
    }
}

/* Appends the percent-encoded key to url at *pos. Returns -1 if it does not fit. */
static int s3_append_key(char *url, size_t url_len, size_t *pos, const char *key)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p;

    for (p = (const unsigned char *)key; *p; p++) {
        size_t need = (s3_unreserved(*p) || *p == '/') ? 1 : 3;

        if (*pos + need >= url_len)
            return -1;
        if (need == 1) {
            url[(*pos)++] = (char)*p;
            continue;
        }
        url[(*pos)++] = '%';
        url[(*pos)++] = hex[*p >> 4];
        url[(*pos)++] = hex[*p & 0x0f];
    }
    url[*pos] = '\0';
    return 0;
}

static const char *s3_region(const struct s3_request *req)
{
    return req->region && *req->region ? req->region : S3_DEFAULT_REGION;
}

int s3_build_url(const struct s3_request *req, char *url, size_t url_len, char *err, size_t err_len)
{
    bool path_style = req->endpoint && *req->endpoint;
    size_t ep_len;
    int n;

    if (!s3_name_ok(s3_region(req), 63, true)) {
        snprintf(err, err_len, "invalid region (want [a-z0-9-])");
        return -1;
    }
    if (!req->bucket || !s3_name_ok(req->bucket, 255, path_style)) {
        snprintf(err, err_len, "invalid bucket name");
        return -1;
    }
    if (!req->key || !s3_key_ok(req->key)) {
        snprintf(err, err_len, "invalid object key (empty, leading '/', or a '.'/'..' segment)");
        return -1;
    }
    if (path_style) {
        if (strncmp(req->endpoint, "http://", 7) != 0 &&
            strncmp(req->endpoint, "https://", 8) != 0) {
            snprintf(err, err_len, "S3 endpoint must start with http:// or https://");
            return -1;
        }
        ep_len = strlen(req->endpoint);
        while (ep_len > 0 && req->endpoint[ep_len - 1] == '/')
            ep_len--;
        n = snprintf(url, url_len, "%.*s/%s/", (int)ep_len, req->endpoint, req->bucket);
    } else {
        n = snprintf(url, url_len, "https://%s.s3.%s.amazonaws.com/", req->bucket, s3_region(req));
    }
    if (n < 0 || (size_t)n >= url_len) {
        snprintf(err, err_len, "S3 URL too long");
        return -1;
    }
    size_t pos = (size_t)n;

    if (s3_append_key(url, url_len, &pos, req->key) != 0) {
        snprintf(err, err_len, "S3 URL too long");
        return -1;
    }
    return 0;
}

static void s3_body_append(struct s3_body *b, const char *ptr, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        unsigned char *p;

        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > b->len + n + 1 && cap > b->limit + 1) /* never beyond what is needed */
            cap = b->limit + 1 > b->len + n + 1 ? b->limit + 1 : b->len + n + 1;
        p = alloc_resize(b->data, cap);
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static size_t s3_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct s3_body *b = userdata;
    size_t n = size * nmemb;
    long status = 0;

    curl_easy_getinfo(b->handle, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300) { /* an error reply: keep only its start, for the <Code> */
        size_t room = b->len < S3_ERROR_BODY_MAX ? S3_ERROR_BODY_MAX - b->len : 0;

        s3_body_append(b, ptr, n < room ? n : room);
        return n;
    }
    if (n > b->limit - b->len) {
        b->too_large = true;
        return 0; /* aborts the transfer */
    }
    s3_body_append(b, ptr, n);
    return n;
}

/* Copies the <Code> element of an S3 XML error body into code, or leaves it empty. */
static void s3_error_code(const struct s3_body *b, char *code, size_t code_len)
{
    const char *start, *end;
    size_t n, i;

    code[0] = '\0';
    if (!b->data)
        return;
    start = strstr((const char *)b->data, "<Code>");
    if (!start)
        return;
    start += 6;
    end = strstr(start, "</Code>");
    if (!end)
        return;
    n = (size_t)(end - start);
    if (n >= code_len)
        n = code_len - 1;
    for (i = 0; i < n; i++) { /* keep only what an S3 code can contain */
        unsigned char c = (unsigned char)start[i];

        code[i] = (char)((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                 (c >= '0' && c <= '9') || c == '.'
                             ? c
                             : '?');
    }
    code[n] = '\0';
}

/* The two headers SigV4 needs from us; NULL only when out of memory. */
static struct curl_slist *s3_headers(const struct s3_request *req)
{
    char line[4200];
    char empty_sha[CRYPTO_SHA256_HEX_LEN + 1];
    struct curl_slist *h = NULL, *t;

    crypto_sha256_hex("", 0, empty_sha);
    snprintf(line, sizeof(line), "x-amz-content-sha256: %s", empty_sha);
    h = curl_slist_append(NULL, line);
    if (!h || !req->session_token || !*req->session_token)
        return h;
    snprintf(line, sizeof(line), "X-Amz-Security-Token: %s", req->session_token);
    t = curl_slist_append(h, line);
    crypto_wipe(line, sizeof(line));
    if (!t) {
        curl_slist_free_all(h);
        return NULL;
    }
    return t;
}

static bool s3_token_ok(const char *token)
{
    return !token || (strlen(token) <= S3_TOKEN_MAX && !strpbrk(token, "\r\n"));
}

/* Sets every option of the GET. Returns 0, or -1 with err set. */
static int s3_setup(CURL *h, const struct s3_request *req, const char *url,
                    struct curl_slist *headers, struct s3_body *body, char *sigv4, size_t sigv4_len,
                    char *errbuf)
{
    CURLcode rc = CURLE_OK;
    bool sign = req->access_key_id && *req->access_key_id;

    snprintf(sigv4, sigv4_len, "aws:amz:%s:s3", s3_region(req));
    rc |= curl_easy_setopt(h, CURLOPT_URL, url);
    rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    rc |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    rc |= curl_easy_setopt(h, CURLOPT_USERAGENT, "mobileforge-artifact/1");
    rc |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 30000L);
    rc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                           req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 5000L);
    rc |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)body->limit);
    rc |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s3_write);
    rc |= curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    rc |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (sign) {
        rc |= curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
        rc |= curl_easy_setopt(h, CURLOPT_USERNAME, req->access_key_id);
        rc |= curl_easy_setopt(h, CURLOPT_PASSWORD,
                               req->secret_access_key ? req->secret_access_key : "");
    }
    return rc == CURLE_OK ? 0 : -1;
}

static void s3_report(CURLcode rc, long status, const struct s3_body *body, const char *errbuf,
                      char *err, size_t err_len)
{
    char code[64];

    if (body->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, err_len, "object larger than the %zu-byte cap", body->limit);
        return;
    }
    if (rc != CURLE_OK) {
        snprintf(err, err_len, "request failed: %s", *errbuf ? errbuf : curl_easy_strerror(rc));
        return;
    }
    s3_error_code(body, code, sizeof(code));
    snprintf(err, err_len, "HTTP %ld%s%s", status, *code ? " " : "", code);
}

/* One GET with the credentials in req. code gets the S3 error code of a refusal. */
static int s3_get_once(const struct s3_request *req, unsigned char **data, size_t *len,
                       long *http_status, char *code, size_t code_len, char *err, size_t err_len)
{
    int result = -1;
    char url[S3_URL_MAX];
    char sigv4[128];
    char errbuf[CURL_ERROR_SIZE] = "";
    struct s3_body body = {0};
    struct curl_slist *headers = NULL;
    CURL *h = NULL;
    CURLcode rc;

    *data = NULL;
    *len = 0;
    *http_status = 0;
    body.limit = req->max_bytes ? req->max_bytes : S3_DEFAULT_MAX_BYTES;
    if (s3_build_url(req, url, sizeof(url), err, err_len) != 0)
        return -1;
    pthread_once(&s3_curl_once, s3_curl_init);
    if (!s3_token_ok(req->session_token)) {
        snprintf(err, err_len, "invalid session token (too long or has a line break)");
        return -1;
    }
    headers = s3_headers(req);
    if (!headers) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    h = curl_easy_init();
    body.handle = h;
    if (!h || s3_setup(h, req, url, headers, &body, sigv4, sizeof(sigv4), errbuf) != 0) {
        snprintf(err, err_len, "cannot set up the HTTP request");
        goto out;
    }
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http_status);
    if (rc != CURLE_OK || *http_status < 200 || *http_status > 299 || body.too_large) {
        s3_report(rc, *http_status, &body, errbuf, err, err_len);
        if (rc == CURLE_OK)
            s3_error_code(&body, code, code_len);
        goto out;
    }
    if (!body.data) { /* empty object */
        body.data = alloc_bytes(1);
        body.data[0] = '\0';
    }
    *data = body.data;
    *len = body.len;
    body.data = NULL;
    result = 0;
out:
    free(body.data);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return result;
}

/* The codes S3 answers when temporary credentials ran out or were replaced. */
static bool s3_stale_credentials(long status, const char *code)
{
    static const char *const codes[] = {"ExpiredToken", "InvalidAccessKeyId", "InvalidToken",
                                        "TokenRefreshRequired"};

    if (status != 400 && status != 403)
        return false;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(code, codes[i]) == 0)
            return true;
    return false;
}

/* req signed with the provider's credentials (or unsigned when it has none). */
static int s3_get_with_provider(const struct s3_request *req, unsigned char **data, size_t *len,
                                long *http_status, char *code, size_t code_len, char *err,
                                size_t err_len)
{
    struct aws_credentials creds;
    struct s3_request signed_req = *req;
    char why[512];
    int rc = aws_provider_get(req->credentials, &creds, why, sizeof(why));

    if (rc < 0) {
        *data = NULL;
        *len = 0;
        *http_status = 0;
        snprintf(err, err_len, "credentials: %s", why);
        return -1;
    }
    if (rc == 0) {
        signed_req.access_key_id = creds.access_key_id;
        signed_req.secret_access_key = creds.secret_access_key;
        signed_req.session_token = creds.session_token;
    }
    rc = s3_get_once(&signed_req, data, len, http_status, code, code_len, err, err_len);
    crypto_wipe(&creds, sizeof(creds));
    return rc;
}

int s3_get(const struct s3_request *req, unsigned char **data, size_t *len, long *http_status,
           char *err, size_t err_len)
{
    char code[64] = "";

    if ((req->access_key_id && *req->access_key_id) || !req->credentials)
        return s3_get_once(req, data, len, http_status, code, sizeof(code), err, err_len);
    if (s3_get_with_provider(req, data, len, http_status, code, sizeof(code), err, err_len) == 0)
        return 0;
    if (!s3_stale_credentials(*http_status, code) || !aws_provider_expire(req->credentials))
        return -1;
    code[0] = '\0';
    return s3_get_with_provider(req, data, len, http_status, code, sizeof(code), err, err_len);
}
