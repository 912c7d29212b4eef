/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/aws_credentials: the three reply parsers on replies written
 * by hand from AWS's documentation (STS XML, container and IMDS JSON), their
 * error codes and malformed forms; ISO 8601 expiry times worked out by hand;
 * the order of the chain and what each configuration chooses.
 *
 * The live part runs when AWS_CREDS_TEST_ENDPOINT and AWS_CREDS_TEST_S3 are set
 * (tests/integration/test_aws_credentials.sh does, against the local STS /
 * container / IMDS stand-in and the S3 server that verifies the session
 * token): 8 threads share one provider and GET an object 80 times each while
 * the credentials live a few seconds, so several expire and are refreshed
 * under load; every GET must succeed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/aws_credentials.h"
#include "common/s3.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char sts_ok[] =
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleWithWebIdentityResult>\n"
    "    <SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>\n"
    "    <Credentials>\n"
    "      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>\n"
    "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\n"
    "      <Expiration>2014-10-24T23:00:23Z</Expiration>\n"
    "      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
    "    </Credentials>\n"
    "  </AssumeRoleWithWebIdentityResult>\n"
    "</AssumeRoleWithWebIdentityResponse>\n";

static void test_parse_time(void **state)
{
    (void)state;
    /* 2014-10-24T23:00:23Z: 16367 days after 1970-01-01 (1414108800) + 23:00:23 (82823). */
    assert_int_equal(aws_parse_time("2014-10-24T23:00:23Z"), 1414191623);
    assert_int_equal(aws_parse_time("2014-10-24T23:00:23.123Z"), 1414191623);
    assert_int_equal(aws_parse_time("2014-10-24T23:00:23+00:00"), 1414191623);
    assert_int_equal(aws_parse_time("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(aws_parse_time("2014-13-24T23:00:23Z"), -1);
    assert_int_equal(aws_parse_time("2014-10-24T23:00:23+05:30"), -1); /* only UTC is sent */
    assert_int_equal(aws_parse_time("2014-10-24 23:00:23Z"), -1);
    assert_int_equal(aws_parse_time("tomorrow"), -1);
    assert_int_equal(aws_parse_time(""), -1);
}

static void test_sts_reply(void **state)
{
    struct aws_credentials c;
    char err[256];

    (void)state;
    assert_int_equal(aws_parse_sts_reply(sts_ok, strlen(sts_ok), &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
    assert_string_equal(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
    assert_string_equal(c.session_token, "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE");
    assert_int_equal(c.expiration, 1414191623);
}

static void test_sts_errors(void **state)
{
    static const char denied[] =
        "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
        "<Message>secret-ish text eyJhbGciOi</Message></Error></ErrorResponse>";
    static const char evil_code[] = "<Error><Code>Bad\"Code<script></Code></Error>";
    struct aws_credentials c;
    char err[256];
    char broken[sizeof(sts_ok)];

    (void)state;
    assert_int_equal(aws_parse_sts_reply(denied, strlen(denied), &c, err, sizeof(err)), -1);
    assert_string_equal(err, "STS error InvalidIdentityToken");
    assert_int_equal(aws_parse_sts_reply(evil_code, strlen(evil_code), &c, err, sizeof(err)), -1);
    assert_null(strchr(err, '"')); /* a server's text is never echoed as is */
    assert_int_equal(aws_parse_sts_reply("<x/>", 4, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no <Credentials>"));
    /* A truncated reply (no closing tag) and a missing field. */
    assert_int_equal(aws_parse_sts_reply(sts_ok, 200, &c, err, sizeof(err)), -1);
    memcpy(broken, sts_ok, sizeof(sts_ok));
    memcpy(strstr(broken, "<AccessKeyId>"), "<AccessKeyXX>", 13);
    assert_int_equal(aws_parse_sts_reply(broken, strlen(broken), &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AccessKeyId"));
    memcpy(broken, sts_ok, sizeof(sts_ok));
    memcpy(strstr(broken, "2014-10-24T"), "2014-10-24 ", 11);
    assert_int_equal(aws_parse_sts_reply(broken, strlen(broken), &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "Expiration"));
}

static void test_json_replies(void **state)
{
    /* ECS / EKS Pod Identity (Token) and IMDS (Code, Type, LastUpdated). */
    static const char ecs[] =
        "{\"AccessKeyId\":\"ASIAIOSFODNN7EXAMPLE\",\"Expiration\":"
        "\"2014-10-24T23:00:23Z\",\"RoleArn\":\"arn:aws:iam::1:role/r\","
        "\"SecretAccessKey\":\"wJalrXUtnFEMI/K7MDENG\",\"Token\":\"IQoJb3Jp\"}";
    static const char imds[] =
        "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : "
        "\"2012-04-26T16:39:16Z\",\n  \"Type\" : \"AWS-HMAC\",\n"
        "  \"AccessKeyId\" : \"ASIAIMDS\",\n  \"SecretAccessKey\" : \"s3cr\",\n"
        "  \"Token\" : \"tok\",\n  \"Expiration\" : \"2017-05-17T15:09:54Z\"\n}";
    static const char failed[] = "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"x\"}";
    static const char no_secret[] = "{\"AccessKeyId\":\"A\",\"Token\":\"t\"}";
    static const char space_in_key[] = "{\"AccessKeyId\":\"A B\",\"SecretAccessKey\":\"s\"}";
    static const char dup[] =
        "{\"AccessKeyId\":\"A\",\"AccessKeyId\":\"B\",\"SecretAccessKey\":\"s\"}";
    struct aws_credentials c;
    char err[256];

    (void)state;
    assert_int_equal(aws_parse_json_reply(ecs, strlen(ecs), &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
    assert_string_equal(c.session_token, "IQoJb3Jp");
    assert_int_equal(c.expiration, 1414191623);
    assert_int_equal(aws_parse_json_reply(imds, strlen(imds), &c, err, sizeof(err)), 0);
    assert_string_equal(c.secret_access_key, "s3cr");
    /* 2017-05-17T15:09:54Z: 17303 days (1494979200) + 15:09:54 (54594). */
    assert_int_equal(c.expiration, 1495033794);
    assert_int_equal(aws_parse_json_reply(failed, strlen(failed), &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AssumeRoleUnauthorizedAccess"));
    assert_int_equal(aws_parse_json_reply(no_secret, strlen(no_secret), &c, err, sizeof(err)), -1);
    assert_int_equal(aws_parse_json_reply(space_in_key, strlen(space_in_key), &c, err, sizeof(err)),
                     -1);
    assert_int_equal(aws_parse_json_reply(dup, strlen(dup), &c, err, sizeof(err)), -1);
    assert_int_equal(aws_parse_json_reply("[]", 2, &c, err, sizeof(err)), -1);
    assert_int_equal(aws_parse_json_reply("{", 1, &c, err, sizeof(err)), -1);
}

/* Settings with every string set to "" (as the config table leaves them). */
static void empty_settings(struct aws_settings *s)
{
    static char empty[] = "";

    memset(s, 0, sizeof(*s));
    s->access_key_id = s->secret_access_key = s->session_token = s->region = empty;
    s->default_region = s->endpoint_url_s3 = s->endpoint_url_sts = s->role_arn = empty;
    s->role_session_name = s->web_identity_token_file = s->container_full_uri = empty;
    s->container_relative_uri = s->container_auth_token = s->container_auth_token_file = empty;
    s->imds_endpoint = empty;
}

static void test_region_and_env_source(void **state)
{
    struct aws_settings s;
    struct aws_credentials c;
    struct aws_provider *p;
    char err[256];

    (void)state;
    empty_settings(&s);
    assert_string_equal(aws_settings_region(&s), "us-east-1");
    s.default_region = "ap-south-1";
    assert_string_equal(aws_settings_region(&s), "ap-south-1");
    s.region = "eu-west-1";
    assert_string_equal(aws_settings_region(&s), "eu-west-1");

    /* Environment keys win over everything else configured after them. */
    s.access_key_id = "AKIAENV";
    s.secret_access_key = "envsecret";
    s.session_token = "envtoken";
    s.role_arn = "arn:aws:iam::111122223333:role/r";
    s.web_identity_token_file = "/nonexistent/token";
    s.container_full_uri = "http://127.0.0.1:9/creds";
    p = aws_provider_new(&s, "test");
    assert_int_equal(aws_provider_get(p, &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "AKIAENV");
    assert_string_equal(c.session_token, "envtoken");
    assert_string_equal(c.source, "environment");
    assert_int_equal(c.expiration, 0);
    assert_false(aws_provider_expire(p)); /* a fixed key cannot be refreshed */
    aws_provider_free(p);

    /* A key without its secret is an error naming both variables. */
    s.secret_access_key = "";
    p = aws_provider_new(&s, "test");
    assert_int_equal(aws_provider_get(p, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY"));
    aws_provider_free(p);
}

static void test_next_sources(void **state)
{
    struct aws_settings s;
    struct aws_credentials c;
    struct aws_provider *p;
    char err[512];

    (void)state;
    /* Web identity chosen next: its token file is read first, and named when missing. */
    empty_settings(&s);
    s.role_arn = "arn:aws:iam::111122223333:role/r";
    s.web_identity_token_file = "/nonexistent/token";
    s.container_full_uri = "http://127.0.0.1:9/creds";
    p = aws_provider_new(&s, "test");
    assert_int_equal(aws_provider_get(p, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AWS_WEB_IDENTITY_TOKEN_FILE"));
    aws_provider_free(p);

    /* Container credentials: a full URI over plain http only to loopback or the agents. */
    empty_settings(&s);
    s.container_full_uri = "http://metadata.attacker.example/creds";
    p = aws_provider_new(&s, "test");
    assert_int_equal(aws_provider_get(p, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
    aws_provider_free(p);
    s.container_full_uri = "http://127.0.0.1@attacker.example/creds"; /* userinfo trick */
    p = aws_provider_new(&s, "test");
    assert_int_equal(aws_provider_get(p, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
    aws_provider_free(p);

    /* Nothing configured and instance metadata disabled: no credentials (unsigned). */
    empty_settings(&s);
    s.imds_disabled = true;
    p = aws_provider_new(&s, "test");
    assert_int_equal(aws_provider_get(p, &c, err, sizeof(err)), 1);
    aws_provider_free(p);
}

/* ---- live: many threads, one provider, short-lived credentials ----------------------- */

struct live {
    struct aws_provider *p;
    const char *endpoint;
    const char *bucket;
    const char *key;
    int failures;
    pthread_mutex_t lock;
    char last_err[512];
};

static void *live_worker(void *arg)
{
    struct live *l = arg;

    for (int i = 0; i < 80; i++) {
        struct s3_request req = {.bucket = l->bucket,
                                 .key = l->key,
                                 .endpoint = l->endpoint,
                                 .credentials = l->p,
                                 .timeout_ms = 10000};
        unsigned char *data = NULL;
        size_t len = 0;
        long status = 0;
        char err[512];

        if (s3_get(&req, &data, &len, &status, err, sizeof(err)) != 0) {
            pthread_mutex_lock(&l->lock);
            l->failures++;
            snprintf(l->last_err, sizeof(l->last_err), "%s", err);
            pthread_mutex_unlock(&l->lock);
        }
        free(data);
        usleep(100 * 1000);
    }
    return NULL;
}

static void test_live_refresh_under_load(void **state)
{
    const char *creds = getenv("AWS_CREDS_TEST_ENDPOINT");
    const char *s3 = getenv("AWS_CREDS_TEST_S3");
    struct aws_settings s;
    struct live l = {0};
    pthread_t t[8];

    (void)state;
    if (!creds || !s3) {
        printf("    SKIP: AWS_CREDS_TEST_ENDPOINT not set (run via "
               "tests/integration/test_aws_credentials.sh)\n");
        return;
    }
    empty_settings(&s);
    s.container_full_uri = getenv("AWS_CREDS_TEST_FULL_URI");
    s.container_auth_token = getenv("AWS_CREDS_TEST_AUTH");
    assert_non_null(s.container_full_uri);
    assert_non_null(s.container_auth_token);
    l.p = aws_provider_new(&s, "unit");
    l.endpoint = s3;
    l.bucket = getenv("AWS_CREDS_TEST_BUCKET");
    l.key = getenv("AWS_CREDS_TEST_KEY");
    pthread_mutex_init(&l.lock, NULL);
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, live_worker, &l), 0);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    if (l.failures)
        fail_msg("%d of 640 GETs failed, last: %s", l.failures, l.last_err);
    pthread_mutex_destroy(&l.lock);
    aws_provider_free(l.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_sts_reply),
        cmocka_unit_test(test_sts_errors),
        cmocka_unit_test(test_json_replies),
        cmocka_unit_test(test_region_and_env_source),
        cmocka_unit_test(test_next_sources),
        cmocka_unit_test(test_live_refresh_under_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
