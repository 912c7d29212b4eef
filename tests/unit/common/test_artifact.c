/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/artifact: location parsing (s3:// and the four-variable
 * form), loading plain and sealed files, the size cap, and errors that name
 * the location. S3 requests go to an in-process libevent HTTP server that
 * records what arrived, to pin the request shape (path-style URL, encoded key,
 * SigV4 headers, session token); signature verification itself is exercised
 * against the real s3rver in tests/integration/test_artifact_s3.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/artifact.h"
#include "common/seal.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define K1_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char content[] = "{\"vocabulary\":[\"upi\",\"neft\"]}";

struct fake_s3 {
    struct event_base *base;
    struct evhttp *http;
    pthread_t thread;
    int port;
    pthread_mutex_t lock;
    char uri[1024];
    char auth[1024];
    char sha[128];
    char token[128];
    const unsigned char *body; /* served for paths ending in "/present" or ".json" */
    size_t body_len;
};

static struct fake_s3 s3;
static char dir[] = "/tmp/test_artifact_XXXXXX";

static void copy_header(struct evkeyvalq *h, const char *name, char *out, size_t len)
{
    const char *v = evhttp_find_header(h, name);

    snprintf(out, len, "%s", v ? v : "");
}

static void on_s3(struct evhttp_request *req, void *arg)
{
    struct evbuffer *out = evbuffer_new();
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *uri = evhttp_request_get_uri(req);
    int status = 404;

    (void)arg;
    pthread_mutex_lock(&s3.lock);
    snprintf(s3.uri, sizeof(s3.uri), "%s", uri);
    copy_header(h, "Authorization", s3.auth, sizeof(s3.auth));
    copy_header(h, "x-amz-content-sha256", s3.sha, sizeof(s3.sha));
    copy_header(h, "X-Amz-Security-Token", s3.token, sizeof(s3.token));
    if (strstr(uri, ".json") && s3.body) {
        evbuffer_add(out, s3.body, s3.body_len);
        status = 200;
    } else {
        evbuffer_add_printf(out, "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>"
                                 "<Message>The specified key does not exist.</Message></Error>");
    }
    pthread_mutex_unlock(&s3.lock);
    evhttp_send_reply(req, status, "x", out);
    evbuffer_free(out);
}

static void *s3_main(void *arg)
{
    (void)arg;
    event_base_dispatch(s3.base);
    return NULL;
}

static int setup(void **state)
{
    struct evhttp_bound_socket *bound;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);

    (void)state;
    if (!mkdtemp(dir))
        return -1;
    memset(&s3, 0, sizeof(s3));
    pthread_mutex_init(&s3.lock, NULL);
    evthread_use_pthreads();
    s3.base = event_base_new();
    s3.http = evhttp_new(s3.base);
    evhttp_set_gencb(s3.http, on_s3, NULL);
    bound = evhttp_bind_socket_with_handle(s3.http, "127.0.0.1", 0);
    if (!bound)
        return -1;
    getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sa, &sl);
    s3.port = ntohs(sa.sin_port);
    return pthread_create(&s3.thread, NULL, s3_main, NULL);
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    event_base_loopbreak(s3.base);
    pthread_join(s3.thread, NULL);
    evhttp_free(s3.http);
    event_base_free(s3.base);
    libevent_global_shutdown();
    pthread_mutex_destroy(&s3.lock);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Seals content with k1 into a malloc'd buffer. */
static unsigned char *sealed_content(size_t *len)
{
    char err[256];
    struct seal_key key;
    unsigned char *out;

    assert_int_equal(seal_key_parse("k1:" K1_HEX, strlen("k1:" K1_HEX), &key, err, sizeof(err)), 0);
    assert_int_equal(seal_seal(&key, (const unsigned char *)content, strlen(content), &out, len,
                               err, sizeof(err)),
                     0);
    return out;
}

static void test_parse_locations(void **state)
{
    struct artifact_source src;
    char err[256], desc[1400];

    (void)state;
    assert_int_equal(
        artifact_source_parse("s3://rules-bucket/sms/v3/regex.json", &src, err, sizeof(err)), 0);
    assert_int_equal(src.kind, ARTIFACT_S3);
    assert_string_equal(src.bucket, "rules-bucket");
    assert_string_equal(src.key, "sms/v3/regex.json");
    assert_string_equal(src.region, "");
    artifact_source_describe(&src, desc, sizeof(desc));
    assert_string_equal(desc, "s3://rules-bucket/sms/v3/regex.json");

    assert_int_equal(
        artifact_source_parse("sms-extraction/rules/vocabulary.json", &src, err, sizeof(err)), 0);
    assert_int_equal(src.kind, ARTIFACT_FILE);
    assert_string_equal(src.path, "sms-extraction/rules/vocabulary.json");

    assert_int_equal(artifact_source_parse("s3://bucket-only", &src, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "s3://bucket/key"));
    assert_int_equal(artifact_source_parse("s3://b/", &src, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "key is empty"));
    assert_int_equal(artifact_source_parse("s3:///k", &src, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bucket is empty"));
    assert_int_equal(artifact_source_parse("", &src, err, sizeof(err)), -1);
}

static void test_four_variable_form(void **state)
{
    struct artifact_source src;
    char err[256];

    (void)state;
    assert_int_equal(artifact_source_from_parts(true, "models", "/v1/vocab.json", "ap-south-1",
                                                "ignored.json", &src, err, sizeof(err)),
                     0);
    assert_int_equal(src.kind, ARTIFACT_S3);
    assert_string_equal(src.bucket, "models");
    assert_string_equal(src.key, "v1/vocab.json");
    assert_string_equal(src.region, "ap-south-1");
    assert_int_equal(artifact_source_from_parts(false, "models", "k", NULL, "local.json", &src, err,
                                                sizeof(err)),
                     0);
    assert_int_equal(src.kind, ARTIFACT_FILE);
    assert_string_equal(src.path, "local.json");
    assert_int_equal(artifact_source_from_parts(true, "", "k", NULL, NULL, &src, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "bucket"));
    assert_int_equal(
        artifact_source_from_parts(true, "b", NULL, NULL, NULL, &src, err, sizeof(err)), -1);
}

static int load(const char *location, const char *keys, size_t max, unsigned char **data,
                size_t *len, bool *sealed, char *err, size_t err_len)
{
    struct artifact_source src;
    struct artifact_keyring *ring = artifact_keyring_new(keys, NULL, err, err_len);
    int rc;

    assert_non_null(ring);
    assert_int_equal(artifact_source_parse(location, &src, err, err_len), 0);
    rc = artifact_load(&src, NULL, ring, max, data, len, sealed, err, err_len);
    artifact_keyring_free(ring);
    return rc;
}

static void test_load_plain_file(void **state)
{
    char path[256], err[512];
    unsigned char *data;
    size_t len;
    bool sealed = true;

    (void)state;
    snprintf(path, sizeof(path), "%s/plain.json", dir);
    write_file(path, content, strlen(content));
    assert_int_equal(load(path, NULL, 0, &data, &len, &sealed, err, sizeof(err)), 0);
    assert_false(sealed);
    assert_int_equal(len, strlen(content));
    assert_string_equal((char *)data, content);
    free(data);
}

static void test_load_sealed_file(void **state)
{
    char path[256], err[512];
    unsigned char *data, *enc;
    size_t len, enc_len;
    bool sealed = false;

    (void)state;
    enc = sealed_content(&enc_len);
    snprintf(path, sizeof(path), "%s/vocab.json.enc", dir);
    write_file(path, enc, enc_len);
    free(enc);
    assert_int_equal(load(path, "k1:" K1_HEX, 0, &data, &len, &sealed, err, sizeof(err)), 0);
    assert_true(sealed);
    assert_string_equal((char *)data, content);
    free(data);

    /* no keys: refused, error names the file and the variables to set */
    assert_int_equal(load(path, NULL, 0, &data, &len, &sealed, err, sizeof(err)), -1);
    assert_null(data);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "ARTIFACT_KEYS"));
}

static void test_file_errors_name_location(void **state)
{
    char path[256], err[512];
    unsigned char *data;
    size_t len;
    bool sealed;

    (void)state;
    snprintf(path, sizeof(path), "%s/missing.json", dir);
    assert_int_equal(load(path, NULL, 0, &data, &len, &sealed, err, sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(load(dir, NULL, 0, &data, &len, &sealed, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a regular file"));
}

static void test_size_cap(void **state)
{
    char path[256], err[512];
    unsigned char *data;
    size_t len;
    bool sealed;

    (void)state;
    snprintf(path, sizeof(path), "%s/plain.json", dir);
    write_file(path, content, strlen(content));
    assert_int_equal(load(path, NULL, strlen(content), &data, &len, &sealed, err, sizeof(err)), 0);
    free(data);
    assert_int_equal(load(path, NULL, strlen(content) - 1, &data, &len, &sealed, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "cap"));
    assert_null(strstr(err, "vocabulary")); /* never the content */
}

static void test_keyring_errors(void **state)
{
    char err[256];

    (void)state;
    assert_null(artifact_keyring_new("k1:nothex", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "64 hex digits"));
    assert_null(artifact_keyring_new(NULL, "/nonexistent/keys", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/keys"));
}

static int load_s3(const char *key, const char *token, size_t max, unsigned char **data,
                   size_t *len, bool *sealed, char *err, size_t err_len)
{
    char endpoint[64];
    struct artifact_source src;
    struct artifact_s3_auth auth = {0};
    struct artifact_keyring *ring = artifact_keyring_new("k1:" K1_HEX, NULL, err, err_len);
    int rc;

    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d/", s3.port);
    auth.access_key_id = "AKIDTEST";
    auth.secret_access_key = "not-a-real-secret";
    auth.session_token = token;
    auth.default_region = "eu-west-1";
    auth.endpoint = endpoint;
    assert_int_equal(artifact_source_from_parts(true, "bkt", key, NULL, NULL, &src, err, err_len),
                     0);
    rc = artifact_load(&src, &auth, ring, max, data, len, sealed, err, err_len);
    artifact_keyring_free(ring);
    return rc;
}

static void test_s3_request_shape(void **state)
{
    char err[512];
    unsigned char *data;
    size_t len;
    bool sealed;

    (void)state;
    s3.body = (const unsigned char *)content;
    s3.body_len = strlen(content);
    assert_int_equal(
        load_s3("dir/with space+plus.json", "tok-123", 0, &data, &len, &sealed, err, sizeof(err)),
        0);
    assert_string_equal((char *)data, content);
    assert_false(sealed);
    free(data);
    pthread_mutex_lock(&s3.lock);
    assert_string_equal(s3.uri, "/bkt/dir/with%20space%2Bplus.json");
    assert_string_equal(s3.sha, EMPTY_SHA);
    assert_string_equal(s3.token, "tok-123");
    assert_non_null(strstr(s3.auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/"));
    assert_non_null(strstr(s3.auth, "/eu-west-1/s3/aws4_request"));
    assert_non_null(strstr(s3.auth, "x-amz-content-sha256"));
    assert_non_null(strstr(s3.auth, "x-amz-security-token"));
    assert_null(strstr(s3.auth, "not-a-real-secret"));
    pthread_mutex_unlock(&s3.lock);
}

static void test_s3_sealed_and_errors(void **state)
{
    char err[512];
    unsigned char *data, *enc;
    size_t len, enc_len;
    bool sealed = false;

    (void)state;
    enc = sealed_content(&enc_len);
    s3.body = enc;
    s3.body_len = enc_len;
    assert_int_equal(load_s3("v1/vocab.json", NULL, 0, &data, &len, &sealed, err, sizeof(err)), 0);
    assert_true(sealed);
    assert_string_equal((char *)data, content);
    free(data);
    pthread_mutex_lock(&s3.lock);
    assert_string_equal(s3.token, "");
    assert_null(strstr(s3.auth, "x-amz-security-token"));
    pthread_mutex_unlock(&s3.lock);

    assert_int_equal(load_s3("v1/vocab.json", NULL, 10, &data, &len, &sealed, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "s3://bkt/v1/vocab.json"));
    assert_non_null(strstr(err, "cap"));

    assert_int_equal(load_s3("v1/absent.bin", NULL, 0, &data, &len, &sealed, err, sizeof(err)), -1);
    assert_null(data);
    assert_non_null(strstr(err, "s3://bkt/v1/absent.bin"));
    assert_non_null(strstr(err, "HTTP 404 NoSuchKey"));
    s3.body = NULL;
    free(enc);
}

static void test_s3_connect_error_and_bad_key(void **state)
{
    struct artifact_source src;
    struct artifact_s3_auth auth = {0};
    char err[512];
    unsigned char *data;
    size_t len;
    bool sealed;

    (void)state;
    auth.endpoint = "http://127.0.0.1:1";
    auth.timeout_ms = 2000;
    assert_int_equal(artifact_source_parse("s3://bkt/a/../b.json", &src, err, sizeof(err)), 0);
    assert_int_equal(artifact_load(&src, &auth, NULL, 0, &data, &len, &sealed, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "'..'"));
    assert_int_equal(artifact_source_parse("s3://bkt/a/b.json", &src, err, sizeof(err)), 0);
    assert_int_equal(artifact_load(&src, &auth, NULL, 0, &data, &len, &sealed, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "s3://bkt/a/b.json"));
    assert_non_null(strstr(err, "request failed"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_locations),
        cmocka_unit_test(test_four_variable_form),
        cmocka_unit_test(test_load_plain_file),
        cmocka_unit_test(test_load_sealed_file),
        cmocka_unit_test(test_file_errors_name_location),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_keyring_errors),
        cmocka_unit_test(test_s3_request_shape),
        cmocka_unit_test(test_s3_sealed_and_errors),
        cmocka_unit_test(test_s3_connect_error_and_bad_key),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
