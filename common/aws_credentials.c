/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AWS credential chain (see aws_credentials.h for the order and the
 * variables). One provider per daemon holds the settings, the source it
 * chose and the cached credentials behind a mutex; a refresh runs under that
 * mutex, so threads that ask meanwhile wait for it instead of sending a
 * second STS call. Refreshes happen at start-up and SIGHUP reloads, never per
 * request, so the wait costs nothing in serving.
 *
 * The three credential servers are plain HTTP(S) peers reached with libcurl:
 * STS answers XML, the container agent and IMDS answer JSON (parsed with
 * jansson). Every reply is capped; nothing a server sends is echoed into an
 * error except its error code, filtered to what such a code may contain.
 */
#include "common/aws_credentials.h"

#include "common/alloc.h"
#include "common/crypto.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define AWS_REPLY_MAX ((size_t)64 * 1024)
#define AWS_TOKEN_FILE_MAX ((size_t)16 * 1024)
#define AWS_REFRESH_MAX_S 300    /* refresh at most this long before expiry... */
#define AWS_RETRY_AFTER_FAIL_S 1 /* ...and, while a refresh fails, retry this often */
#define AWS_IMDS_ABSENT_S 60     /* no IMDS answered: do not ask again for this long */
#define AWS_CONTAINER_HOST "http://169.254.170.2"
#define AWS_IMDS_HOST "http://169.254.169.254"

enum aws_source {
    AWS_SRC_NONE,
    AWS_SRC_ENV,
    AWS_SRC_WEB_IDENTITY,
    AWS_SRC_CONTAINER,
    AWS_SRC_IMDS,
};

static const char *const source_names[] = {"none", "environment", "web-identity", "container",
                                           "imds"};

struct aws_provider {
    pthread_mutex_t lock;
    struct aws_settings s; /* own copies */
    char session_name[65];
    enum aws_source source;
    struct aws_credentials cached;
    bool have;
    time_t obtained;
    time_t retry_after;
    time_t imds_absent_until;
};

struct aws_reply {
    char *data;
    size_t len;
    bool too_large;
};

static pthread_once_t aws_curl_once = PTHREAD_ONCE_INIT;

static void aws_curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool set(const char *s)
{
    return s && *s;
}

static char *dup_or_empty(const char *s)
{
    return alloc_strdup(s ? s : "");
}

const char *aws_settings_region(const struct aws_settings *s)
{
    if (set(s->region))
        return s->region;
    return set(s->default_region) ? s->default_region : "us-east-1";
}

/* ---- time and small parsers ---------------------------------------------------------- */

/* n decimal digits at s into *out; false when one is not a digit. */
static bool digits(const char *s, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *out = *out * 10 + (s[i] - '0');
    }
    return true;
}

/* "YYYY-MM-DDTHH:MM:SS" at text into tm; false when the shape or a range is wrong. */
static bool parse_datetime(const char *text, struct tm *tm)
{
    static const struct {
        int at, len, min, max;
    } part[6] = {{0, 4, 1970, 9999}, {5, 2, 1, 12},  {8, 2, 1, 31},
                 {11, 2, 0, 23},     {14, 2, 0, 59}, {17, 2, 0, 60}};
    int v[6];

    if (strlen(text) < 19 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
        text[13] != ':' || text[16] != ':')
        return false;
    for (int i = 0; i < 6; i++)
        if (!digits(text + part[i].at, part[i].len, &v[i]) || v[i] < part[i].min ||
            v[i] > part[i].max)
            return false;
    memset(tm, 0, sizeof(*tm));
    tm->tm_year = v[0] - 1900;
    tm->tm_mon = v[1] - 1;
    tm->tm_mday = v[2];
    tm->tm_hour = v[3];
    tm->tm_min = v[4];
    tm->tm_sec = v[5];
    return true;
}

time_t aws_parse_time(const char *text)
{
    struct tm tm;
    const char *rest;

    if (!text || !parse_datetime(text, &tm))
        return -1;
    rest = text + 19;
    if (*rest == '.')
        for (rest++; *rest >= '0' && *rest <= '9'; rest++)
            ;
    if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0 && strcmp(rest, "") != 0)
        return -1;
    return timegm(&tm);
}

/* Copies src into a fixed field; -1 when empty, too long or holding a control character. */
static int copy_field(char *dst, size_t dst_len, const char *src, size_t n)
{
    if (n == 0 || n >= dst_len)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)src[i] < 0x21 || src[i] == 0x7f)
            return -1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* An error code from a reply, keeping only [A-Za-z0-9.] (never echo more of a reply). */
static void copy_code(char *dst, size_t dst_len, const char *src, size_t n)
{
    size_t i;

    if (n >= dst_len)
        n = dst_len - 1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];

        dst[i] = (char)((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '.'
                            ? c
                            : '?');
    }
    dst[i] = '\0';
}

/* The text of <name>...</name> inside [xml, end), or NULL. */
static const char *xml_element(const char *xml, const char *end, const char *name, size_t *n)
{
    char open[64], close[64];
    const char *a, *b;
    size_t olen;

    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    olen = strlen(open);
    for (a = xml; a + olen <= end; a++) {
        if (memcmp(a, open, olen) != 0)
            continue;
        a += olen;
        for (b = a; b + strlen(close) <= end; b++)
            if (memcmp(b, close, strlen(close)) == 0) {
                *n = (size_t)(b - a);
                return a;
            }
        return NULL;
    }
    return NULL;
}

int aws_parse_sts_reply(const char *xml, size_t len, struct aws_credentials *out, char *err,
                        size_t err_len)
{
    static const char *const names[3] = {"AccessKeyId", "SecretAccessKey", "SessionToken"};
    char *fields[3] = {out->access_key_id, out->secret_access_key, out->session_token};
    const size_t sizes[3] = {sizeof(out->access_key_id), sizeof(out->secret_access_key),
                             sizeof(out->session_token)};
    const char *end = xml + len, *creds, *v;
    char when[64], code[64];
    size_t n, cn;

    memset(out, 0, sizeof(*out));
    if ((v = xml_element(xml, end, "Code", &n)) != NULL) {
        copy_code(code, sizeof(code), v, n);
        snprintf(err, err_len, "STS error %s", code);
        return -1;
    }
    creds = xml_element(xml, end, "Credentials", &cn);
    if (!creds) {
        snprintf(err, err_len, "STS reply has no <Credentials>");
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        v = xml_element(creds, creds + cn, names[i], &n);
        if (!v || copy_field(fields[i], sizes[i], v, n) < 0) {
            snprintf(err, err_len, "STS reply: missing or malformed %s", names[i]);
            return -1;
        }
    }
    v = xml_element(creds, creds + cn, "Expiration", &n);
    if (!v || copy_field(when, sizeof(when), v, n) < 0 ||
        (out->expiration = aws_parse_time(when)) < 0) {
        snprintf(err, err_len, "STS reply: missing or malformed Expiration");
        return -1;
    }
    return 0;
}

/* One string member of a JSON credentials object into a field; -1 when absent or bad. */
static int json_field(json_t *obj, const char *name, char *dst, size_t dst_len)
{
    json_t *v = json_object_get(obj, name);

    if (!json_is_string(v))
        return -1;
    return copy_field(dst, dst_len, json_string_value(v), json_string_length(v));
}

static int json_reply_fields(json_t *root, struct aws_credentials *out, char *err, size_t err_len)
{
    json_t *code = json_object_get(root, "Code"), *exp;
    char tmp[64];

    if (json_is_string(code) && strcmp(json_string_value(code), "Success") != 0) {
        copy_code(tmp, sizeof(tmp), json_string_value(code), json_string_length(code));
        snprintf(err, err_len, "credentials server answered Code %s", tmp);
        return -1;
    }
    if (json_field(root, "AccessKeyId", out->access_key_id, sizeof(out->access_key_id)) < 0 ||
        json_field(root, "SecretAccessKey", out->secret_access_key,
                   sizeof(out->secret_access_key)) < 0) {
        snprintf(err, err_len,
                 "credentials reply: missing or malformed AccessKeyId/SecretAccessKey");
        return -1;
    }
    if (json_object_get(root, "Token") &&
        json_field(root, "Token", out->session_token, sizeof(out->session_token)) < 0) {
        snprintf(err, err_len, "credentials reply: malformed Token");
        return -1;
    }
    exp = json_object_get(root, "Expiration");
    if (exp &&
        (!json_is_string(exp) || (out->expiration = aws_parse_time(json_string_value(exp))) < 0)) {
        snprintf(err, err_len, "credentials reply: malformed Expiration");
        return -1;
    }
    return 0;
}

int aws_parse_json_reply(const char *json, size_t len, struct aws_credentials *out, char *err,
                         size_t err_len)
{
    json_error_t jerr;
    json_t *root;
    int rc;

    memset(out, 0, sizeof(*out));
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, err_len, "credentials reply is not a JSON object");
        return -1;
    }
    rc = json_reply_fields(root, out, err, err_len);
    json_decref(root);
    if (rc < 0)
        crypto_wipe(out, sizeof(*out));
    return rc;
}

/* ---- HTTP ---------------------------------------------------------------------------- */

static size_t reply_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct aws_reply *r = userdata;
    size_t n = size * nmemb;

    if (r->len + n > AWS_REPLY_MAX) {
        r->too_large = true;
        return 0;
    }
    r->data = alloc_resize(r->data, r->len + n + 1);
    memcpy(r->data + r->len, ptr, n);
    r->len += n;
    r->data[r->len] = '\0';
    return n;
}

struct aws_http {
    const char *method; /* "GET", "PUT" or "POST" */
    const char *url;
    struct curl_slist *headers;
    const char *body; /* POST/PUT body or NULL */
    long connect_timeout_ms;
    long timeout_ms;
};

/* One request. Returns the HTTP status (> 0) with *reply filled, or -1 (no reply) with err. */
static long http_call(const struct aws_http *h, struct aws_reply *reply, char *err, size_t err_len)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode rc = CURLE_OK;
    long status = 0;
    CURL *c;

    pthread_once(&aws_curl_once, aws_curl_init);
    memset(reply, 0, sizeof(*reply));
    c = curl_easy_init();
    if (!c) {
        snprintf(err, err_len, "cannot set up the HTTP request");
        return -1;
    }
    rc |= curl_easy_setopt(c, CURLOPT_URL, h->url);
    rc |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, h->method);
    rc |= curl_easy_setopt(c, CURLOPT_USERAGENT, "mobileforge-credentials/1");
    rc |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
    rc |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    rc |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reply_write);
    rc |= curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
    rc |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (h->headers)
        rc |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
    if (h->body)
        rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, h->body);
    else if (strcmp(h->method, "PUT") == 0)
        rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    if (rc != CURLE_OK) {
        curl_easy_cleanup(c);
        snprintf(err, err_len, "cannot set up the HTTP request");
        return -1;
    }
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || reply->too_large) {
        snprintf(err, err_len, "%s",
                 reply->too_large ? "reply too large"
                 : *errbuf        ? errbuf
                                  : curl_easy_strerror(rc));
        free(reply->data);
        reply->data = NULL;
        return -1;
    }
    if (!reply->data)
        reply_write((char *)"", 1, 0, reply);
    return status;
}

/* RFC 3986 percent-encoding of s appended to buf (form values). -1 when it does not fit. */
static int form_append(char *buf, size_t cap, size_t *pos, const char *name, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int w = snprintf(buf + *pos, cap - *pos, "%s%s=", *pos ? "&" : "", name);

    if (w < 0 || (size_t)w >= cap - *pos)
        return -1;
    *pos += (size_t)w;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';

        if (*pos + 4 >= cap)
            return -1;
        if (plain) {
            buf[(*pos)++] = (char)*p;
            continue;
        }
        buf[(*pos)++] = '%';
        buf[(*pos)++] = hex[*p >> 4];
        buf[(*pos)++] = hex[*p & 15];
    }
    buf[*pos] = '\0';
    return 0;
}

/* A small secret file (a token), trailing white space removed. malloc'd, or NULL with err. */
static char *read_token_file(const char *path, const char *var, char *err, size_t err_len)
{
    struct stat st;
    char *buf = NULL;
    ssize_t got;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (size_t)st.st_size > AWS_TOKEN_FILE_MAX) {
        snprintf(err, err_len, "%s: '%.200s' is not a readable token file (%s)", var, path,
                 fd < 0 ? strerror(errno) : "empty, too large or not a regular file");
        goto fail;
    }
    buf = alloc_bytes((size_t)st.st_size + 1);
    got = read(fd, buf, (size_t)st.st_size);
    if (got <= 0) {
        snprintf(err, err_len, "%s: cannot read '%.200s'", var, path);
        goto fail;
    }
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r' || buf[got - 1] == ' '))
        got--;
    buf[got] = '\0';
    close(fd);
    if (got == 0 || strpbrk(buf, "\r\n")) {
        snprintf(err, err_len, "%s: '%.200s' holds no single-line token", var, path);
        crypto_wipe(buf, (size_t)st.st_size);
        free(buf);
        return NULL;
    }
    return buf;
fail:
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

/* ---- the sources --------------------------------------------------------------------- */

static int from_env(const struct aws_settings *s, struct aws_credentials *out, char *err,
                    size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (copy_field(out->access_key_id, sizeof(out->access_key_id), s->access_key_id,
                   strlen(s->access_key_id)) < 0 ||
        copy_field(out->secret_access_key, sizeof(out->secret_access_key), s->secret_access_key,
                   strlen(s->secret_access_key)) < 0) {
        snprintf(err, err_len,
                 "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: both must be set, "
                 "without white space");
        return -1;
    }
    if (set(s->session_token) && copy_field(out->session_token, sizeof(out->session_token),
                                            s->session_token, strlen(s->session_token)) < 0) {
        snprintf(err, err_len, "AWS_SESSION_TOKEN: malformed (too long or holding white space)");
        return -1;
    }
    return 0;
}

static int web_identity_body(const struct aws_provider *p, const char *token, char *body,
                             size_t cap)
{
    size_t pos = 0;

    return form_append(body, cap, &pos, "Action", "AssumeRoleWithWebIdentity") |
           form_append(body, cap, &pos, "RoleArn", p->s.role_arn) |
           form_append(body, cap, &pos, "RoleSessionName", p->session_name) |
           form_append(body, cap, &pos, "Version", "2011-06-15") |
           form_append(body, cap, &pos, "WebIdentityToken", token);
}

static int from_web_identity(struct aws_provider *p, struct aws_credentials *out, char *err,
                             size_t err_len)
{
    char url[1024], why[256];
    size_t body_cap = AWS_TOKEN_FILE_MAX * 3 + 2048;
    char *body = NULL, *token;
    struct curl_slist *hdrs = NULL;
    struct aws_reply reply;
    long status;
    int rc = -1;

    token =
        read_token_file(p->s.web_identity_token_file, "AWS_WEB_IDENTITY_TOKEN_FILE", err, err_len);
    if (!token)
        return -1;
    if (set(p->s.endpoint_url_sts))
        snprintf(url, sizeof(url), "%s", p->s.endpoint_url_sts);
    else
        snprintf(url, sizeof(url), "https://sts.%s.amazonaws.com/", aws_settings_region(&p->s));
    body = alloc_bytes(body_cap);
    if (web_identity_body(p, token, body, body_cap) != 0) {
        snprintf(err, err_len, "web identity: request too large");
        goto out;
    }
    hdrs = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
    hdrs = curl_slist_append(hdrs, "Accept: application/xml");
    status = http_call(&(struct aws_http){"POST", url, hdrs, body, 5000, 10000}, &reply, why,
                       sizeof(why));
    if (status < 0) {
        snprintf(err, err_len, "web identity: STS %.300s: %s", url, why);
        goto out;
    }
    rc = aws_parse_sts_reply(reply.data, reply.len, out, why, sizeof(why));
    if (rc < 0 || status != 200) {
        snprintf(err, err_len, "web identity: STS %.300s: HTTP %ld: %s", url, status,
                 rc < 0 ? why : "unexpected status");
        rc = -1;
    }
    crypto_wipe(reply.data, reply.len);
    free(reply.data);
out:
    curl_slist_free_all(hdrs);
    crypto_wipe(body, body_cap);
    crypto_wipe(token, strlen(token));
    free(body);
    free(token);
    return rc;
}

/* The host part of an http(s) URL into host (brackets of IPv6 kept); false if unparsable. */
static bool url_host(const char *url, char *host, size_t host_len, bool *https)
{
    const char *h, *e;

    *https = strncmp(url, "https://", 8) == 0;
    if (!*https && strncmp(url, "http://", 7) != 0)
        return false;
    h = url + (*https ? 8 : 7);
    if (*h == '[')
        e = strchr(h, ']') ? strchr(h, ']') + 1 : NULL;
    else
        e = h + strcspn(h, ":/?#");
    if (!e || e == h || (size_t)(e - h) >= host_len || memchr(h, '@', (size_t)(e - h)))
        return false;
    memcpy(host, h, (size_t)(e - h));
    host[e - h] = '\0';
    return true;
}

/* As the SDKs: a full URI over plain HTTP may only reach the local agents. */
static bool container_host_allowed(const char *url)
{
    static const char *const ok[] = {"localhost", "[::1]", "169.254.170.2", "169.254.170.23",
                                     "[fd00:ec2::23]"};
    char host[256];
    bool https;

    if (!url_host(url, host, sizeof(host), &https))
        return false;
    if (https || strncmp(host, "127.", 4) == 0)
        return true;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcasecmp(host, ok[i]) == 0)
            return true;
    return false;
}

static int container_url(const struct aws_settings *s, char *url, size_t url_len, char *err,
                         size_t err_len)
{
    if (set(s->container_relative_uri)) {
        snprintf(url, url_len, "%s%s%s", AWS_CONTAINER_HOST,
                 s->container_relative_uri[0] == '/' ? "" : "/", s->container_relative_uri);
        return 0;
    }
    if (!container_host_allowed(s->container_full_uri)) {
        snprintf(err, err_len,
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http only to loopback or the "
                 "container agent (169.254.170.2/.23); use https otherwise");
        return -1;
    }
    snprintf(url, url_len, "%s", s->container_full_uri);
    return 0;
}

/* The Authorization header line, from the token file (wins) or the variable; NULL = none. */
static struct curl_slist *container_auth(const struct aws_settings *s, bool *failed, char *err,
                                         size_t err_len)
{
    char *token = NULL, *line;
    struct curl_slist *h;
    size_t n;

    *failed = false;
    if (set(s->container_auth_token_file)) {
        token = read_token_file(s->container_auth_token_file,
                                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", err, err_len);
        if (!token) {
            *failed = true;
            return NULL;
        }
    } else if (set(s->container_auth_token)) {
        token = dup_or_empty(s->container_auth_token);
    } else {
        return NULL;
    }
    if (strpbrk(token, "\r\n")) {
        snprintf(err, err_len, "AWS_CONTAINER_AUTHORIZATION_TOKEN: holds a line break");
        *failed = true;
        free(token);
        return NULL;
    }
    n = strlen(token) + 32;
    line = alloc_bytes(n);
    snprintf(line, n, "Authorization: %s", token);
    h = curl_slist_append(NULL, line);
    crypto_wipe(line, n);
    crypto_wipe(token, strlen(token));
    free(line);
    free(token);
    return h;
}

static int from_container(struct aws_provider *p, struct aws_credentials *out, char *err,
                          size_t err_len)
{
    char url[2048], why[256];
    struct curl_slist *hdrs;
    struct aws_reply reply;
    bool failed;
    long status;
    int rc;

    if (container_url(&p->s, url, sizeof(url), err, err_len) < 0)
        return -1;
    hdrs = container_auth(&p->s, &failed, err, err_len);
    if (failed)
        return -1;
    status =
        http_call(&(struct aws_http){"GET", url, hdrs, NULL, 2000, 5000}, &reply, why, sizeof(why));
    curl_slist_free_all(hdrs);
    if (status < 0) {
        snprintf(err, err_len, "container credentials: %.300s: %s", url, why);
        return -1;
    }
    rc = status == 200 ? aws_parse_json_reply(reply.data, reply.len, out, why, sizeof(why)) : -1;
    if (rc < 0)
        snprintf(err, err_len, "container credentials: %.300s: HTTP %ld%s%s", url, status,
                 status == 200 ? ": " : "", status == 200 ? why : "");
    crypto_wipe(reply.data, reply.len);
    free(reply.data);
    return rc;
}

/* IMDSv2: the session token, then the role name, then its credentials. 1 = no IMDS / no role. */
static int imds_get(const char *base, const char *path, const char *token_line, char *buf,
                    size_t buf_len, long *status, char *err, size_t err_len)
{
    char url[1200];
    struct curl_slist *hdrs = curl_slist_append(NULL, token_line);
    struct aws_reply reply;

    snprintf(url, sizeof(url), "%s%s", base, path);
    *status =
        http_call(&(struct aws_http){"GET", url, hdrs, NULL, 1000, 2000}, &reply, err, err_len);
    curl_slist_free_all(hdrs);
    if (*status < 0)
        return -1;
    snprintf(buf, buf_len, "%s", reply.data);
    crypto_wipe(reply.data, reply.len);
    free(reply.data);
    return *status == 200 && reply.len < buf_len ? 0 : -1;
}

static int imds_session(const char *base, char *line, size_t line_len, char *err, size_t err_len)
{
    char url[1100];
    struct curl_slist *hdrs =
        curl_slist_append(NULL, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
    struct aws_reply reply;
    long status;
    int rc = -1;

    snprintf(url, sizeof(url), "%s/latest/api/token", base);
    status =
        http_call(&(struct aws_http){"PUT", url, hdrs, NULL, 1000, 2000}, &reply, err, err_len);
    curl_slist_free_all(hdrs);
    if (status < 0)
        return 1; /* nothing answered: not on EC2 */
    if (status == 200 && reply.len > 0 && reply.len < 1024 && !strpbrk(reply.data, "\r\n")) {
        snprintf(line, line_len, "X-aws-ec2-metadata-token: %s", reply.data);
        rc = 0;
    } else {
        snprintf(err, err_len, "imds: token request answered HTTP %ld", status);
    }
    crypto_wipe(reply.data, reply.len);
    free(reply.data);
    return rc;
}

static int from_imds(struct aws_provider *p, struct aws_credentials *out, char *err, size_t err_len)
{
    char base[1024], line[1200], role[256], path[512], why[256];
    char *json = NULL;
    long status;
    size_t n;
    int rc;

    snprintf(base, sizeof(base), "%s",
             set(p->s.imds_endpoint) ? p->s.imds_endpoint : AWS_IMDS_HOST);
    for (n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
        base[n - 1] = '\0';
    rc = imds_session(base, line, sizeof(line), err, err_len);
    if (rc != 0)
        return rc;
    if (imds_get(base, "/latest/meta-data/iam/security-credentials/", line, role, sizeof(role),
                 &status, why, sizeof(why)) < 0) {
        crypto_wipe(line, sizeof(line));
        if (status == 404)
            return 1; /* an instance without a role */
        snprintf(err, err_len, "imds: role name: %s", status < 0 ? why : "unexpected reply");
        return -1;
    }
    role[strcspn(role, "\r\n")] = '\0';
    snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s", role);
    json = alloc_bytes(AWS_REPLY_MAX);
    rc = imds_get(base, path, line, json, AWS_REPLY_MAX, &status, why, sizeof(why));
    crypto_wipe(line, sizeof(line));
    if (rc == 0)
        rc = aws_parse_json_reply(json, strlen(json), out, why, sizeof(why));
    if (rc < 0)
        snprintf(err, err_len, "imds: credentials of the instance role: %s", why);
    crypto_wipe(json, AWS_REPLY_MAX);
    free(json);
    return rc;
}

/* ---- the provider -------------------------------------------------------------------- */

static enum aws_source choose_source(const struct aws_settings *s)
{
    if (set(s->access_key_id) || set(s->secret_access_key))
        return AWS_SRC_ENV;
    if (set(s->role_arn) && set(s->web_identity_token_file))
        return AWS_SRC_WEB_IDENTITY;
    if (set(s->container_full_uri) || set(s->container_relative_uri))
        return AWS_SRC_CONTAINER;
    return s->imds_disabled ? AWS_SRC_NONE : AWS_SRC_IMDS;
}

struct aws_provider *aws_provider_new(const struct aws_settings *s, const char *session_name_prefix)
{
    struct aws_provider *p = alloc_zeroed(1, sizeof(*p));

    pthread_mutex_init(&p->lock, NULL);
    p->s.access_key_id = dup_or_empty(s->access_key_id);
    p->s.secret_access_key = dup_or_empty(s->secret_access_key);
    p->s.session_token = dup_or_empty(s->session_token);
    p->s.region = dup_or_empty(s->region);
    p->s.default_region = dup_or_empty(s->default_region);
    p->s.endpoint_url_s3 = dup_or_empty(s->endpoint_url_s3);
    p->s.endpoint_url_sts = dup_or_empty(s->endpoint_url_sts);
    p->s.role_arn = dup_or_empty(s->role_arn);
    p->s.role_session_name = dup_or_empty(s->role_session_name);
    p->s.web_identity_token_file = dup_or_empty(s->web_identity_token_file);
    p->s.container_full_uri = dup_or_empty(s->container_full_uri);
    p->s.container_relative_uri = dup_or_empty(s->container_relative_uri);
    p->s.container_auth_token = dup_or_empty(s->container_auth_token);
    p->s.container_auth_token_file = dup_or_empty(s->container_auth_token_file);
    p->s.imds_endpoint = dup_or_empty(s->imds_endpoint);
    p->s.imds_disabled = s->imds_disabled;
    if (set(s->role_session_name))
        snprintf(p->session_name, sizeof(p->session_name), "%s", s->role_session_name);
    else
        snprintf(p->session_name, sizeof(p->session_name), "%s-%ld",
                 set(session_name_prefix) ? session_name_prefix : "sms-insights", (long)getpid());
    p->source = choose_source(&p->s);
    return p;
}

static void free_secret(char **s)
{
    if (*s)
        crypto_wipe(*s, strlen(*s));
    free(*s);
    *s = NULL;
}

void aws_provider_free(struct aws_provider *p)
{
    if (!p)
        return;
    char **all[] = {&p->s.access_key_id,        &p->s.secret_access_key,
                    &p->s.session_token,        &p->s.region,
                    &p->s.default_region,       &p->s.endpoint_url_s3,
                    &p->s.endpoint_url_sts,     &p->s.role_arn,
                    &p->s.role_session_name,    &p->s.web_identity_token_file,
                    &p->s.container_full_uri,   &p->s.container_relative_uri,
                    &p->s.container_auth_token, &p->s.container_auth_token_file,
                    &p->s.imds_endpoint};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        free_secret(all[i]);
    crypto_wipe(&p->cached, sizeof(p->cached));
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* Fresh enough to hand out without asking again: a quarter of the life, at most 5 min, left. */
static bool still_fresh(const struct aws_provider *p, time_t now)
{
    time_t life, margin;

    if (p->cached.expiration == 0)
        return true;
    life = p->cached.expiration - p->obtained;
    margin = life / 4 < AWS_REFRESH_MAX_S ? life / 4 : AWS_REFRESH_MAX_S;
    return now < p->cached.expiration - margin;
}

static int fetch(struct aws_provider *p, struct aws_credentials *out, char *err, size_t err_len)
{
    time_t now = time(NULL);
    int rc;

    switch (p->source) {
    case AWS_SRC_ENV:
        return from_env(&p->s, out, err, err_len);
    case AWS_SRC_WEB_IDENTITY:
        return from_web_identity(p, out, err, err_len);
    case AWS_SRC_CONTAINER:
        return from_container(p, out, err, err_len);
    case AWS_SRC_IMDS:
        if (now < p->imds_absent_until)
            return 1;
        rc = from_imds(p, out, err, err_len);
        if (rc == 1)
            p->imds_absent_until = now + AWS_IMDS_ABSENT_S;
        return rc;
    case AWS_SRC_NONE:
        break;
    }
    return 1;
}

int aws_provider_get(struct aws_provider *p, struct aws_credentials *out, char *err, size_t err_len)
{
    struct aws_credentials fresh;
    time_t now = time(NULL);
    int rc;

    pthread_mutex_lock(&p->lock);
    if (p->have && (still_fresh(p, now) || (now < p->retry_after && now < p->cached.expiration))) {
        *out = p->cached;
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    rc = fetch(p, &fresh, err, err_len);
    if (rc == 0) {
        fresh.source = source_names[p->source];
        p->cached = fresh;
        p->have = true;
        p->obtained = now;
        *out = fresh;
    } else if (rc < 0 && p->have && now < p->cached.expiration) {
        p->retry_after = now + AWS_RETRY_AFTER_FAIL_S; /* still valid: use them meanwhile */
        *out = p->cached;
        rc = 0;
    } else {
        p->have = false;
    }
    crypto_wipe(&fresh, sizeof(fresh));
    pthread_mutex_unlock(&p->lock);
    return rc;
}

bool aws_provider_expire(struct aws_provider *p)
{
    bool temporary;

    pthread_mutex_lock(&p->lock);
    temporary = p->source != AWS_SRC_ENV && p->source != AWS_SRC_NONE;
    if (temporary) {
        p->have = false;
        p->retry_after = 0;
        crypto_wipe(&p->cached, sizeof(p->cached));
    }
    pthread_mutex_unlock(&p->lock);
    return temporary;
}
