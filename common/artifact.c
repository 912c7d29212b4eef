/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading artifacts (rules, vocabularies, maps, models) from a file or from S3
 * and unsealing them, so the daemons see plain bytes whatever the source. This
 * is the one place that decides what an artifact location means: "s3://b/k",
 * the Credeau guide's four-variable form, or a file path.
 *
 * Every error names the location (never the content) so an operator can tell
 * which of several artifacts failed and why. Every read is capped.
 */
#include "common/artifact.h"

#include "common/alloc.h"

#include "common/seal.h"
#include "common/s3.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARTIFACT_DEFAULT_MAX ((size_t)64 * 1024 * 1024)
#define ARTIFACT_DEFAULT_TIMEOUT_MS 30000L

struct artifact_keyring {
    struct seal_keyring *ring;
};

/* Copies src into a fixed field; -1 if it does not fit. */
static int artifact_copy(char *dst, size_t dst_len, const char *src)
{
    size_t n = strlen(src);

    if (n >= dst_len)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

static int artifact_set_s3(struct artifact_source *out, const char *bucket, size_t bucket_len,
                           const char *key, const char *region, const char *what, char *err,
                           size_t err_len)
{
    while (*key == '/')
        key++;
    if (bucket_len == 0 || bucket_len >= sizeof(out->bucket)) {
        snprintf(err, err_len, "%s: bucket is empty or longer than %zu bytes", what,
                 sizeof(out->bucket) - 1);
        return -1;
    }
    if (!*key || artifact_copy(out->key, sizeof(out->key), key) != 0) {
        snprintf(err, err_len, "%s: key is empty or longer than %zu bytes", what,
                 sizeof(out->key) - 1);
        return -1;
    }
    if (region && artifact_copy(out->region, sizeof(out->region), region) != 0) {
        snprintf(err, err_len, "%s: region longer than %zu bytes", what, sizeof(out->region) - 1);
        return -1;
    }
    memcpy(out->bucket, bucket, bucket_len);
    out->bucket[bucket_len] = '\0';
    out->kind = ARTIFACT_S3;
    return 0;
}

static int artifact_set_file(struct artifact_source *out, const char *path, char *err,
                             size_t err_len)
{
    if (!path || !*path) {
        snprintf(err, err_len, "artifact location is empty");
        return -1;
    }
    if (artifact_copy(out->path, sizeof(out->path), path) != 0) {
        snprintf(err, err_len, "artifact path longer than %zu bytes", sizeof(out->path) - 1);
        return -1;
    }
    out->kind = ARTIFACT_FILE;
    return 0;
}

int artifact_source_parse(const char *location, struct artifact_source *out, char *err,
                          size_t err_len)
{
    const char *bucket, *slash;

    memset(out, 0, sizeof(*out));
    if (!location || strncmp(location, "s3://", 5) != 0)
        return artifact_set_file(out, location, err, err_len);
    bucket = location + 5;
    slash = strchr(bucket, '/');
    if (!slash) {
        snprintf(err, err_len, "\"%.200s\": want s3://bucket/key", location);
        return -1;
    }
    return artifact_set_s3(out, bucket, (size_t)(slash - bucket), slash + 1, NULL, location, err,
                           err_len);
}

int artifact_source_from_parts(bool use_s3, const char *bucket, const char *key, const char *region,
                               const char *path, struct artifact_source *out, char *err,
                               size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (!use_s3)
        return artifact_set_file(out, path, err, err_len);
    if (!bucket || !*bucket || !key || !*key) {
        snprintf(err, err_len, "S3 artifact needs both a bucket and a key (*_S3_BUCKET, *_S3_KEY)");
        return -1;
    }
    return artifact_set_s3(out, bucket, strlen(bucket), key, region, "S3 artifact", err, err_len);
}

void artifact_source_describe(const struct artifact_source *src, char *buf, size_t buf_len)
{
    if (src->kind == ARTIFACT_S3)
        snprintf(buf, buf_len, "s3://%s/%s", src->bucket, src->key);
    else
        snprintf(buf, buf_len, "%s", src->path);
}

struct artifact_keyring *artifact_keyring_new(const char *keys_spec, const char *keys_file,
                                              char *err, size_t err_len)
{
    struct artifact_keyring *k = alloc_bytes(sizeof(*k));

    k->ring = seal_keyring_new();
    if (seal_keyring_add_spec(k->ring, keys_spec, err, err_len) != 0 ||
        seal_keyring_add_file(k->ring, keys_file, err, err_len) != 0) {
        artifact_keyring_free(k);
        return NULL;
    }
    return k;
}

void artifact_keyring_free(struct artifact_keyring *keyring)
{
    if (!keyring)
        return;
    seal_keyring_free(keyring->ring);
    free(keyring);
}

/* Reads a regular file, capped at max. Returns a malloc'd NUL-terminated buffer or NULL. */
static unsigned char *artifact_read_file(const char *path, size_t max, size_t *len, char *err,
                                         size_t err_len)
{
    unsigned char *buf = NULL;
    struct stat st;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(err, err_len, "%s", strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "not a regular file");
        goto fail;
    }
    if ((unsigned long long)st.st_size > max) {
        snprintf(err, err_len, "file of %lld bytes is larger than the %zu-byte cap",
                 (long long)st.st_size, max);
        goto fail;
    }
    buf = alloc_bytes((size_t)st.st_size + 1);
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, err_len, "read failed: %s", n < 0 ? strerror(errno) : "file shrank");
            goto fail;
        }
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *len = got;
    return buf;
fail:
    free(buf);
    close(fd);
    return NULL;
}

static unsigned char *artifact_fetch_s3(const struct artifact_source *src,
                                        const struct artifact_s3_auth *auth, size_t max,
                                        size_t *len, char *err, size_t err_len)
{
    static const struct artifact_s3_auth none = {0};
    struct s3_request req = {0};
    unsigned char *data = NULL;
    long status = 0;

    if (!auth)
        auth = &none;
    req.bucket = src->bucket;
    req.key = src->key;
    req.region = src->region[0] ? src->region : auth->default_region;
    req.endpoint = auth->endpoint;
    req.access_key_id = auth->access_key_id;
    req.secret_access_key = auth->secret_access_key;
    req.session_token = auth->session_token;
    req.credentials = auth->credentials;
    req.timeout_ms = auth->timeout_ms > 0 ? auth->timeout_ms : ARTIFACT_DEFAULT_TIMEOUT_MS;
    req.max_bytes = max;
    if (s3_get(&req, &data, len, &status, err, err_len) != 0)
        return NULL;
    return data;
}

static int artifact_unseal(const struct artifact_keyring *keyring, unsigned char **data,
                           size_t *len, char *err, size_t err_len)
{
    unsigned char *plain = NULL;
    size_t plain_len = 0;

    if (seal_keyring_count(keyring ? keyring->ring : NULL) == 0) {
        snprintf(err, err_len,
                 "artifact is sealed but no keys are configured "
                 "(set ARTIFACT_KEYS or ARTIFACT_KEYS_FILE)");
        return -1;
    }
    if (seal_open(keyring->ring, *data, *len, &plain, &plain_len, NULL, err, err_len) != 0)
        return -1;
    free(*data);
    *data = plain;
    *len = plain_len;
    return 0;
}

int artifact_load(const struct artifact_source *src, const struct artifact_s3_auth *auth,
                  const struct artifact_keyring *keyring, size_t max_bytes, unsigned char **data,
                  size_t *len, bool *sealed, char *err, size_t err_len)
{
    char where[1400];
    char why[1024] = "";
    unsigned char *buf;
    size_t n = 0;

    *data = NULL;
    *len = 0;
    *sealed = false;
    if (!max_bytes)
        max_bytes = ARTIFACT_DEFAULT_MAX;
    artifact_source_describe(src, where, sizeof(where));
    if (src->kind == ARTIFACT_S3)
        buf = artifact_fetch_s3(src, auth, max_bytes, &n, why, sizeof(why));
    else
        buf = artifact_read_file(src->path, max_bytes, &n, why, sizeof(why));
    if (!buf)
        goto fail;
    if (seal_is_sealed(buf, n)) {
        if (artifact_unseal(keyring, &buf, &n, why, sizeof(why)) != 0) {
            free(buf);
            goto fail;
        }
        *sealed = true;
    }
    *data = buf;
    *len = n;
    return 0;
fail:
    snprintf(err, err_len, "artifact \"%s\": %s", where, why);
    return -1;
}

/* ---- a daemon's artifact access ---- */

#define ROW(name, type, def, flags, doc, field, min, max)                                          \
    {                                                                                              \
        name, type, def, flags, doc, offsetof(struct artifact_access, field), min, max, NULL, NULL \
    }

const struct config_var artifact_access_rows[] = {
    ROW("ARTIFACT_MAX_BYTES", CONFIG_INT, "67108864", 0, "largest artifact accepted", max_bytes,
        1024, 1073741824),
    ROW("ARTIFACT_TIMEOUT_MS", CONFIG_INT, "30000", 0, "time allowed to fetch one artifact from S3",
        timeout_ms, 100, 600000),
    AWS_SETTINGS_ROWS(struct artifact_access, aws),
    ROW("ARTIFACT_KEYS", CONFIG_STRING, NULL, CONFIG_SECRET | CONFIG_KEY,
        "keys for sealed artifacts: kid:hex64[,kid:hex64]", keys, 0, 0),
    ROW("ARTIFACT_KEYS_FILE", CONFIG_STRING, NULL, 0,
        "file of kid:hex64 lines, added to ARTIFACT_KEYS", keys_file, 0, 0),
    {NULL, CONFIG_STRING, NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

int artifact_fetcher_init(struct artifact_fetcher *f, const struct artifact_access *a,
                          struct aws_provider *credentials, bool sealed_only, char *err,
                          size_t err_len)
{
    char why[512];

    f->access = a;
    f->credentials = credentials;
    f->sealed_only = sealed_only;
    f->keyring = artifact_keyring_new(a->keys, a->keys_file, why, sizeof(why));
    if (!f->keyring) {
        snprintf(err, err_len, "artifact keys: %s", why);
        return -1;
    }
    return 0;
}

void artifact_fetcher_free(struct artifact_fetcher *f)
{
    artifact_keyring_free(f->keyring);
    f->keyring = NULL;
}

int artifact_fetch(const struct artifact_fetcher *f, const char *name,
                   const struct artifact_source *src, unsigned char **data, size_t *len, char *err,
                   size_t err_len)
{
    const struct artifact_access *a = f->access;
    const struct artifact_s3_auth auth = {
        .default_region = aws_settings_region(&a->aws),
        .endpoint = a->aws.endpoint_url_s3,
        .timeout_ms = a->timeout_ms,
        .credentials = f->credentials,
    };
    char where[1400], why[512];
    bool sealed = false;

    artifact_source_describe(src, where, sizeof(where));
    if (artifact_load(src, &auth, f->keyring, (size_t)a->max_bytes, data, len, &sealed, why,
                      sizeof(why)) < 0) {
        snprintf(err, err_len, "%s (%s): %s", name, where, why);
        return -1;
    }
    if (!sealed && f->sealed_only) {
        snprintf(err, err_len,
                 "%s (%s): unsealed artifact refused in prod (LAUNCH_ENVIRONMENT=prod accepts only "
                 "sealed artifacts)",
                 name, where);
        free(*data);
        *data = NULL;
        return -1;
    }
    return 0;
}
