/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of insights-api/extraction_client.h over real HTTP.
 *
 * Always: a small libevent server in a thread of this process plays a broken
 * extractor (wrong record count, not JSON, records that are not objects,
 * 422 too_long, 500) and a minimal correct one (/echo), so every way a reply
 * can be refused is exercised, with the all-or-nothing rule (no fact left
 * behind) checked each time. A closed port plays an extractor that is down.
 *
 * With EXTRACTOR_URL (one base URL) or EXTRACTOR_URLS (comma-separated), set
 * by tests/integration/test_ins_sources.sh, the same client runs against
 * real sms-extraction daemons: order, times, fields, round-robin over two
 * replicas, the start-up batch size probe and a too-large batch at run time.
 * Without them those tests print SKIP and pass as skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/http_test_server.h"
#include "tests/unit/record_keys.h"
#include "common/ist_date.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "insights-api/extraction_client.h"

/* ---- the fake extractor ------------------------------------------------- */

struct fake {
    struct http_test_server net;
    pthread_mutex_t lock;
    int requests;
    char form[32]; /* the X-Extract-Form header of the last request, "" when absent */
};

static struct fake srv;

/* Unix seconds -> "YYYY-MM-DD HH:MM:SS" India time, as the extractor replies. */
static void ist_text(int64_t ts, char out[32])
{
    assert_int_equal(ist_from_epoch(ts, out), 0);
}

/* A correct reply: one record per message, in order, with a few fields set. */
static json_t *echo_reply(json_t *req)
{
    json_t *list = json_array();
    json_t *item;
    size_t i;

    json_array_foreach(json_object_get(req, "sms"), i, item)
    {
        char date[32];
        ist_text(json_integer_value(json_object_get(item, "sms_inbox_date")), date);
        json_array_append_new(
            list, json_pack("{s:O,s:s,s:s,s:s,s:b,s:b,s:b,s:f,s:s,s:n,s:f}", "sms_id",
                            json_object_get(item, "sms_id"), "sms_sender", "exbank",
                            "sms_inbox_date", date, "sms_type", "account_credit_executed",
                            "is_classified", 1, "is_extracted", 1, "is_transactional", 1,
                            "transaction", 10.0 + (double)i, "transaction_type",
                            "credit-transaction", "available_balance", "credit_limit", 5.5));
    }
    return json_pack("{s:s,s:o}", "request_id", "r", "extracted_sms_data", list);
}

/* Whether the rows-2 form leaves key out (the two fields echoing the message sent). */
static bool echo_key(const char *key)
{
    return strcmp(key, "sms_id") == 0 || strcmp(key, "sms_inbox_date") == 0;
}

/* echo_reply in an internal rows form (rows-1, or rows-2 without the echo fields); short:
 * each row one value short (a broken writer). */
static json_t *rows_reply(json_t *req, bool short_rows, bool no_echo)
{
    json_t *pub = echo_reply(req), *rec;
    json_t *fields = json_array(), *rows = json_array();
    size_t i, n = N_RECORD_KEYS;

    for (size_t k = 0; k < n; k++)
        if (!(no_echo && echo_key(RECORD_KEYS[k])))
            json_array_append_new(fields, json_string(RECORD_KEYS[k]));
    json_array_foreach(json_object_get(pub, "extracted_sms_data"), i, rec)
    {
        json_t *row = json_array();
        for (size_t k = 0; k < n - short_rows; k++) {
            json_t *v = json_object_get(rec, RECORD_KEYS[k]);
            if (!(no_echo && echo_key(RECORD_KEYS[k])))
                json_array_append_new(row, v ? json_incref(v) : json_null());
        }
        json_array_append_new(rows, row);
    }
    json_decref(pub);
    return json_pack("{s:s,s:s,s:o,s:o}", "form", no_echo ? "rows-2" : "rows-1", "request_id", "r",
                     "fields", fields, "rows", rows);
}

static json_t *reply_for(const char *path, json_t *req, int *status)
{
    size_t n = json_array_size(json_object_get(req, "sms"));

    *status = 200;
    /* an extractor that does not know X-Extract-Form: the public form whatever was asked */
    if (strncmp(path, "/echo/", 6) == 0)
        return echo_reply(req);
    if (strncmp(path, "/rows/", 6) == 0) /* rows-1 whatever was asked (the previous release) */
        return rows_reply(req, false, false);
    if (strncmp(path, "/rows2/", 7) == 0) /* rows-2 whatever was asked */
        return rows_reply(req, false, true);
    if (strncmp(path, "/rowsshort/", 11) == 0)
        return rows_reply(req, true, false);
    if (strncmp(path, "/count/", 7) == 0) /* one record short */
        return json_pack("{s:[]}", "extracted_sms_data");
    if (strncmp(path, "/scalars/", 9) == 0) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, json_integer(1));
        return json_pack("{s:o}", "extracted_sms_data", list);
    }
    if (strncmp(path, "/shape/", 7) == 0)
        return json_pack("{s:s}", "extracted_sms_data", "no");
    if (strncmp(path, "/toolong/", 9) == 0) {
        *status = 422;
        return json_pack("{s:[{s:s,s:[s,s],s:s,s:{s:i,s:I}}]}", "detail", "type", "too_long", "loc",
                         "body", "sms", "msg", "List should have at most 3 items", "ctx",
                         "max_length", 3, "actual_length", (json_int_t)n);
    }
    if (strncmp(path, "/items422/", 10) == 0) { /* what a fitting probe batch gets */
        *status = 422;
        return json_pack("{s:[{s:s,s:[s,s,i],s:s,s:s}]}", "detail", "type", "model_type", "loc",
                         "body", "sms", 0, "msg", "Input should be a valid dictionary", "input",
                         "[redacted]");
    }
    if (strncmp(path, "/fail/", 6) == 0) {
        *status = 500;
        return json_pack("{s:s,s:s}", "detail", "boom", "code", "internal");
    }
    *status = 404;
    return json_pack("{s:s}", "detail", "not found");
}

static void on_request(struct evhttp_request *req, void *arg)
{
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    struct evbuffer *out = evbuffer_new();
    size_t len = evbuffer_get_length(in);
    json_t *body = json_loadb((const char *)evbuffer_pullup(in, (ssize_t)len), len, 0, NULL);
    int status;
    json_t *reply;
    char *text;

    const char *form = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Extract-Form");

    (void)arg;
    pthread_mutex_lock(&srv.lock);
    srv.requests++;
    snprintf(srv.form, sizeof(srv.form), "%s", form ? form : "");
    pthread_mutex_unlock(&srv.lock);
    if (strncmp(path, "/notjson/", 9) == 0) {
        evbuffer_add_printf(out, "this is not json");
        evhttp_send_reply(req, 200, "OK", out);
    } else {
        reply = reply_for(path, body, &status);
        text = json_dumps(reply, JSON_COMPACT);
        evbuffer_add(out, text, strlen(text));
        evhttp_send_reply(req, status, "x", out);
        free(text);
        json_decref(reply);
    }
    json_decref(body);
    evbuffer_free(out);
}

static int server_up(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.lock, NULL);
    return http_test_server_start(&srv.net, on_request, 64 << 20);
}

static int server_down(void **state)
{
    (void)state;
    http_test_server_stop(&srv.net);
    pthread_mutex_destroy(&srv.lock);
    return 0;
}

/* The X-Extract-Form value of the last request ("" when absent), compared with want. */
static void last_form_is(const char *want)
{
    char form[sizeof(srv.form)];

    pthread_mutex_lock(&srv.lock);
    memcpy(form, srv.form, sizeof(form));
    pthread_mutex_unlock(&srv.lock); /* before a failure, which never returns */
    if (strcmp(form, want) != 0)
        fail_msg("X-Extract-Form '%s', want '%s'", form, want);
}

static int server_requests(void)
{
    int n;

    pthread_mutex_lock(&srv.lock);
    n = srv.requests;
    srv.requests = 0;
    pthread_mutex_unlock(&srv.lock);
    return n;
}

/* A port where nothing listens: bind an ephemeral port, then close it. */
static int closed_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port;

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* ---- helpers ------------------------------------------------------------ */

static const char *const BODIES[] = {
    "Rs 250.00 debited from A/c XX1234 on 01-11-26 to VPA shop@exupi. Ref 123456789012",
    "Your OTP is 000000. Do not share it.",
    "INR 45,000.00 credited to your A/c XX9876 on 02-11-26 by NEFT. Avl Bal INR 52,310.50",
    "Get a pre-approved loan up to Rs 5,00,000. Apply now, T&C apply.",
};

/* n invented messages, ids "m0".."m<n-1>", one minute apart, in time order. */
static void make_msgs(struct raw_sms_list *l, size_t n)
{
    raw_sms_list_init(l);
    for (size_t i = 0; i < n; i++) {
        char id[16];
        const char *b = BODIES[i % 4];
        int len = snprintf(id, sizeof(id), "m%zu", i);

        assert_int_equal(raw_sms_list_add(l, id, (size_t)len, i % 3 ? "VM-EXBANK-S" : NULL, 11, b,
                                          strlen(b), 1795000000 + (int64_t)i * 60),
                         0);
    }
}

static struct extraction_client *client_for(const char *urls, long batch, int retries, int breaker)
{
    struct extraction_client_config cfg = {0};
    struct extraction_client *c;
    char err[256] = "";

    cfg.service_url = urls;
    cfg.batch_size = batch;
    http_client_config_default(&cfg.http);
    cfg.http.max_retries = retries;
    cfg.http.backoff_base_ms = 5;
    cfg.http.backoff_max_ms = 20;
    cfg.http.breaker_threshold = breaker;
    cfg.http.connect_timeout_ms = 500;
    cfg.http.timeout_ms = 5000;
    c = extraction_client_new(&cfg, err, sizeof(err));
    if (!c)
        fail_msg("extraction_client_new: %s", err);
    return c;
}

static char *fake_url(const char *mode)
{
    static char buf[4][128];
    static int k;
    char *p = buf[k++ % 4];

    snprintf(p, 128, "http://127.0.0.1:%d/%s", srv.net.port, mode);
    return p;
}

/* ---- config ------------------------------------------------------------- */

static void test_config_errors(void **state)
{
    struct extraction_client_config cfg = {0};
    char err[256];
    static const char *const bad[] = {
        "", "ftp://x", "127.0.0.1:8082", "http://a:1,,http://b:2", "http://a:1, ", "http://", NULL};

    (void)state;
    http_client_config_default(&cfg.http);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cfg.service_url = bad[i];
        err[0] = '\0';
        assert_null(extraction_client_new(&cfg, err, sizeof(err)));
        assert_non_null(strstr(err, "SMS_EXTRACTOR_SERVICE_URL"));
    }
    cfg.service_url = "http://a:1";
    cfg.batch_size = -1;
    assert_null(extraction_client_new(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "SMS_EXTRACTOR_BATCH_SIZE"));
    cfg.batch_size = EXTRACTION_CLIENT_MAX_BATCH + 1;
    assert_null(extraction_client_new(&cfg, err, sizeof(err)));

    /* accepted forms: trailing slash, spaces around commas, https */
    cfg.batch_size = 0;
    cfg.service_url = " http://a:1/ , https://b:2//,http://c:3";
    struct extraction_client *c = extraction_client_new(&cfg, err, sizeof(err));
    assert_non_null(c);
    struct extraction_client_stats st;
    extraction_client_stats(c, &st);
    assert_int_equal(st.url_count, 3);
    assert_int_equal(st.calls, 0);
    assert_int_equal(st.http.state, HTTP_CLIENT_BREAKER_CLOSED);
    extraction_client_free(c);
}

/* ---- against the fake --------------------------------------------------- */

static void test_fake_echo_batches(void **state)
{
    struct extraction_client *c = client_for(fake_url("echo"), 4, 0, 5);
    struct raw_sms_list msgs;
    struct user_data u;
    json_t *records = NULL;
    char err[512];
    struct extraction_client_stats st;

    (void)state;
    make_msgs(&msgs, 10);
    user_data_init(&u, "client-x", "user-x", 0);
    server_requests();
    assert_int_equal(extraction_client_extract(c, &msgs, "req-1", &u, &records, err, sizeof(err)),
                     ERR_OK);
    assert_int_equal(server_requests(), 3); /* 4 + 4 + 2 */
    last_form_is("");                       /* records wanted: the public form, not the rows form */
    assert_int_equal(u.sms_count, 10);
    assert_int_equal(json_array_size(records), 10);
    for (size_t i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof(id), "m%zu", i);
        assert_string_equal(u.sms[i].sms_id, id);
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(records, i), "sms_id")), id);
        assert_int_equal(u.sms[i].ts, msgs.items[i].ts);
        assert_int_equal(u.sms[i].direction, SMS_DIRECTION_CREDIT);
        assert_true(u.sms[i].is_transactional);
        assert_string_equal(u.sms[i].sender, "exbank");
        /* position within its batch: 10 + i % 4 */
        assert_true(u.sms[i].amount == 10.0 + (double)(i % 4));
        assert_true(isnan(u.sms[i].available_balance));
        assert_true(u.sms[i].credit_limit == 5.5);
        assert_null(u.sms[i].channel);
    }
    json_decref(records);

    /* empty input: no request */
    struct raw_sms_list none;
    raw_sms_list_init(&none);
    assert_int_equal(extraction_client_extract(c, &none, NULL, &u, &records, err, sizeof(err)),
                     ERR_OK);
    assert_int_equal(server_requests(), 0);
    assert_int_equal(json_array_size(records), 0);
    json_decref(records);

    extraction_client_stats(c, &st);
    assert_int_equal(st.calls, 1);
    assert_int_equal(st.batches, 3);
    assert_int_equal(st.messages, 10);
    assert_int_equal(st.calls_failed, 0);
    user_data_free(&u);
    raw_sms_list_free(&msgs);
    extraction_client_free(c);
}

/* with_records: records asked for (the public form), else facts only (the rows form). */
static void expect_failure_x(const char *urls, enum err want, const char *needle, bool with_records)
{
    struct extraction_client *c = client_for(urls, 3, 0, 0);
    struct raw_sms_list msgs;
    struct user_data u;
    json_t *records = (json_t *)1;
    char err[512] = "";
    struct sms_fact *pre;

    make_msgs(&msgs, 7);
    user_data_init(&u, "c", "u", 0);
    pre = user_data_add_sms(&u); /* a fact already there must survive */
    pre->ts = 42;
    assert_int_equal(extraction_client_extract(c, &msgs, NULL, &u, with_records ? &records : NULL,
                                               err, sizeof(err)),
                     want);
    if (with_records)
        assert_null(records);
    assert_int_equal(u.sms_count, 1);
    assert_int_equal(u.sms[0].ts, 42);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
    /* no message text in the error */
    assert_null(strstr(err, "debited"));
    assert_null(strstr(err, "OTP"));
    struct extraction_client_stats st;
    extraction_client_stats(c, &st);
    assert_int_equal(st.calls_failed, 1);
    assert_true(st.batches_failed >= 1);
    user_data_free(&u);
    raw_sms_list_free(&msgs);
    extraction_client_free(c);
}

static void expect_failure(const char *urls, enum err want, const char *needle)
{
    expect_failure_x(urls, want, needle, true);
}

static void test_fake_bad_replies(void **state)
{
    char dead[64];

    (void)state;
    expect_failure(fake_url("count"), ERR_INTERNAL, "0 records for 3 messages");
    expect_failure(fake_url("notjson"), ERR_DEPENDENCY_UNAVAILABLE, "documented shape");
    expect_failure(fake_url("shape"), ERR_DEPENDENCY_UNAVAILABLE, "documented shape");
    expect_failure(fake_url("scalars"), ERR_DEPENDENCY_UNAVAILABLE, "not an object");
    expect_failure(fake_url("fail"), ERR_DEPENDENCY_UNAVAILABLE, "http_5xx");
    expect_failure(fake_url("toolong"), ERR_VALIDATION, "MAX_SMS_COUNT 3");
    expect_failure(fake_url("nosuch"), ERR_VALIDATION, "HTTP 404");
    snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", closed_port());
    expect_failure(dead, ERR_DEPENDENCY_UNAVAILABLE, "connect");
}

/* Facts of 10 messages through the client, batches of 4, no records: the rows form asked. */
static void extract_facts(const char *url, struct user_data *u)
{
    struct extraction_client *c = client_for(url, 4, 0, 5);
    struct raw_sms_list msgs;
    char err[512];

    make_msgs(&msgs, 10);
    user_data_init(u, "client-x", "user-x", 0);
    server_requests();
    if (extraction_client_extract(c, &msgs, "req-1", u, NULL, err, sizeof(err)) != ERR_OK)
        fail_msg("%s: %s", url, err);
    assert_int_equal(server_requests(), 3);
    last_form_is("rows-2");
    assert_int_equal(u->sms_count, 10);
    for (size_t i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof(id), "m%zu", i);
        assert_string_equal(u->sms[i].sms_id, id);
        assert_int_equal(u->sms[i].ts, msgs.items[i].ts);
        assert_int_equal(u->sms[i].direction, SMS_DIRECTION_CREDIT);
        assert_string_equal(u->sms[i].sender, "exbank");
        assert_true(u->sms[i].amount == 10.0 + (double)(i % 4));
        assert_true(u->sms[i].credit_limit == 5.5);
        assert_true(isnan(u->sms[i].available_balance));
    }
    raw_sms_list_free(&msgs);
    extraction_client_free(c);
}

/*
 * Rolling upgrade: this insights-api asks for rows-2; an extractor that does not know the
 * header value (an older release) answers the public form, read as before, and rows-1 (the
 * form this release asked for before) is still read: the same facts from all three, the
 * sms_id and time of rows-2's records from the messages sent.
 */
static void test_fake_rows_form(void **state)
{
    struct user_data old, rows, rows2;

    (void)state;
    extract_facts(fake_url("echo"), &old);
    extract_facts(fake_url("rows"), &rows);
    extract_facts(fake_url("rows2"), &rows2);
    user_data_free(&old);
    user_data_free(&rows);
    user_data_free(&rows2);
    /* a broken rows reply is the dependency's failure, nothing kept */
    expect_failure_x(fake_url("rowsshort"), ERR_DEPENDENCY_UNAVAILABLE, "internal reply form",
                     false);
    /* the rows form where records were asked for (never sent so by the extractor) */
    expect_failure(fake_url("rows"), ERR_DEPENDENCY_UNAVAILABLE, "public form was asked");
}

/* One good and one broken replica: the user's SMS source fails as a whole. */
static void test_fake_one_replica_broken(void **state)
{
    char urls[300];

    (void)state;
    snprintf(urls, sizeof(urls), "%s,%s", fake_url("echo"), fake_url("fail"));
    expect_failure(urls, ERR_DEPENDENCY_UNAVAILABLE, "http_5xx");
}

static void test_fake_breaker(void **state)
{
    struct extraction_client *c = client_for(fake_url("fail"), 100, 0, 2);
    struct raw_sms_list msgs;
    struct user_data u;
    char err[512];
    struct extraction_client_stats st;

    (void)state;
    make_msgs(&msgs, 5);
    user_data_init(&u, "c", "u", 0);
    server_requests();
    for (int i = 0; i < 2; i++)
        assert_int_equal(extraction_client_extract(c, &msgs, NULL, &u, NULL, err, sizeof(err)),
                         ERR_DEPENDENCY_UNAVAILABLE);
    assert_int_equal(server_requests(), 2);
    /* the circuit is open now: refused without a request */
    assert_int_equal(extraction_client_extract(c, &msgs, NULL, &u, NULL, err, sizeof(err)),
                     ERR_DEPENDENCY_UNAVAILABLE);
    assert_non_null(strstr(err, "circuit_open"));
    assert_int_equal(server_requests(), 0);
    extraction_client_stats(c, &st);
    assert_int_equal(st.http.state, HTTP_CLIENT_BREAKER_OPEN);
    assert_true(st.http.rejected >= 1);
    assert_int_equal(st.calls_failed, 3);
    assert_int_equal(u.sms_count, 0);
    user_data_free(&u);
    raw_sms_list_free(&msgs);
    extraction_client_free(c);
}

static void test_fake_probe(void **state)
{
    struct extraction_client *c;
    long limit = -1;
    char err[256], dead[64];

    (void)state;
    c = client_for(fake_url("toolong"), 10, 0, 5);
    assert_int_equal(extraction_client_probe(c, &limit, err, sizeof(err)), ERR_VALIDATION);
    assert_int_equal(limit, 3);
    assert_non_null(strstr(err, "SMS_EXTRACTOR_BATCH_SIZE 10"));
    extraction_client_free(c);

    c = client_for(fake_url("items422"), 10, 0, 5);
    assert_int_equal(extraction_client_probe(c, &limit, err, sizeof(err)), ERR_OK);
    assert_int_equal(limit, 0);
    assert_string_equal(err, "");
    extraction_client_free(c);

    c = client_for(fake_url("echo"), 10, 0, 5); /* a 200 to garbage is not a check */
    assert_int_equal(extraction_client_probe(c, &limit, err, sizeof(err)),
                     ERR_DEPENDENCY_UNAVAILABLE);
    extraction_client_free(c);

    snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", closed_port());
    c = client_for(dead, 10, 0, 1);
    assert_int_equal(extraction_client_probe(c, &limit, err, sizeof(err)),
                     ERR_DEPENDENCY_UNAVAILABLE);
    assert_int_equal(limit, 0);
    assert_non_null(strstr(err, "not checked"));
    /* the probe does not count against the real breaker */
    struct extraction_client_stats st;
    extraction_client_stats(c, &st);
    assert_int_equal(st.http.state, HTTP_CLIENT_BREAKER_CLOSED);
    assert_int_equal(st.http.attempts, 0);
    extraction_client_free(c);
}

/* ---- against real sms-extraction daemons -------------------------------- */

static const char *real_urls(void)
{
    const char *v = getenv("EXTRACTOR_URLS");

    if (!v || !*v)
        v = getenv("EXTRACTOR_URL");
    return v && *v ? v : NULL;
}

static bool need_real(void)
{
    if (real_urls())
        return true;
    printf("SKIP: EXTRACTOR_URL not set (run via tests/integration/test_ins_sources.sh)\n");
    return false;
}

static void test_real_extract(void **state)
{
    struct extraction_client *c;
    struct raw_sms_list msgs;
    struct user_data u;
    json_t *records = NULL;
    char err[512];
    struct extraction_client_stats st;

    (void)state;
    if (!need_real()) {
        skip();
        return;
    }
    c = client_for(real_urls(), 7, 2, 5);
    make_msgs(&msgs, 25);
    user_data_init(&u, "client-x", "user-x", 0);
    assert_int_equal(
        extraction_client_extract(c, &msgs, "ins-test", &u, &records, err, sizeof(err)), ERR_OK);
    assert_int_equal(u.sms_count, 25);
    assert_int_equal(json_array_size(records), 25);
    for (size_t i = 0; i < 25; i++) {
        const struct sms_fact *f = &u.sms[i];
        json_t *rec = json_array_get(records, i);

        assert_string_equal(f->sms_id, msgs.items[i].sms_id);
        assert_int_equal(f->ts, msgs.items[i].ts);
        assert_int_equal(json_object_size(rec), 30); /* docs/api-sms-extraction.md */
        /* the features' fine kind is the record's sms_kind, never the sender kind */
        const char *kind = json_string_value(json_object_get(rec, "sms_kind"));
        if (kind)
            assert_string_equal(f->sms_sub_type, kind);
        else
            assert_null(f->sms_sub_type);
        /* the typed fact agrees with the record it came from */
        const char *tt = json_string_value(json_object_get(rec, "transaction_type"));
        assert_int_equal(f->direction, !tt ? SMS_DIRECTION_NONE
                                       : strcmp(tt, "debit-transaction") == 0
                                           ? SMS_DIRECTION_DEBIT
                                           : SMS_DIRECTION_CREDIT);
        json_t *amt = json_object_get(rec, "transaction");
        if (json_is_number(amt))
            assert_true(f->amount == json_number_value(amt));
        else
            assert_true(isnan(f->amount));
        assert_int_equal(f->is_transactional,
                         json_is_true(json_object_get(rec, "is_transactional")));
        if (msgs.items[i].sender)
            assert_non_null(f->sender);
        else
            assert_null(f->sender);
    }
    /* the debit message of the API doc is extracted as a 250 debit */
    assert_int_equal(u.sms[0].direction, SMS_DIRECTION_DEBIT);
    assert_true(u.sms[0].amount == 250.0);
    assert_true(u.sms[0].is_extracted);
    extraction_client_stats(c, &st);
    assert_int_equal(st.batches, 4);
    if (st.url_count > 1) /* round-robin: every replica got batches */
        for (size_t i = 0; i < st.url_count; i++)
            assert_true(st.url_batches[i] >= 1);

    /* no records wanted: the daemons answer the rows form, and the facts are the same */
    struct user_data r;
    user_data_init(&r, "client-x", "user-x", 0);
    assert_int_equal(extraction_client_extract(c, &msgs, "ins-test", &r, NULL, err, sizeof(err)),
                     ERR_OK);
    assert_int_equal(r.sms_count, 25);
    for (size_t i = 0; i < 25; i++) {
        const struct sms_fact *a = &u.sms[i], *b = &r.sms[i];
        const char *sa[] = {a->sms_id,   a->sender,       a->sender_name,        a->sender_type,
                            a->sms_type, a->sms_sub_type, a->transaction_party,  a->unique_pan,
                            a->channel,  a->reference_no, a->account_last_digits};
        const char *sb[] = {b->sms_id,   b->sender,       b->sender_name,        b->sender_type,
                            b->sms_type, b->sms_sub_type, b->transaction_party,  b->unique_pan,
                            b->channel,  b->reference_no, b->account_last_digits};
        for (size_t k = 0; k < sizeof(sa) / sizeof(sa[0]); k++)
            if ((sa[k] == NULL) != (sb[k] == NULL) || (sa[k] && strcmp(sa[k], sb[k]) != 0))
                fail_msg("message %zu: string %zu differs between the two forms", i, k);
        assert_int_equal(a->ts, b->ts);
        assert_int_equal(a->direction, b->direction);
        assert_int_equal(a->is_classified, b->is_classified);
        assert_int_equal(a->is_extracted, b->is_extracted);
        assert_int_equal(a->is_transactional, b->is_transactional);
        assert_true((isnan(a->amount) && isnan(b->amount)) || a->amount == b->amount);
        assert_true((isnan(a->available_balance) && isnan(b->available_balance)) ||
                    a->available_balance == b->available_balance);
    }
    user_data_free(&r);
    json_decref(records);
    user_data_free(&u);
    raw_sms_list_free(&msgs);
    extraction_client_free(c);
}

/* Larger volume through several replicas, several calls: the two-replica bar. */
static void test_real_volume(void **state)
{
    struct extraction_client *c;
    struct raw_sms_list msgs;
    char err[512];
    struct extraction_client_stats st;

    (void)state;
    if (!need_real()) {
        skip();
        return;
    }
    c = client_for(real_urls(), 250, 2, 5);
    make_msgs(&msgs, 2000);
    for (int k = 0; k < 3; k++) {
        struct user_data u;
        user_data_init(&u, "client-x", "user-volume", 0);
        assert_int_equal(extraction_client_extract(c, &msgs, NULL, &u, NULL, err, sizeof(err)),
                         ERR_OK);
        assert_int_equal(u.sms_count, 2000);
        user_data_free(&u);
    }
    extraction_client_stats(c, &st);
    assert_int_equal(st.batches, 24);
    assert_int_equal(st.batches_failed, 0);
    for (size_t i = 0; i < st.url_count; i++)
        assert_int_equal(st.url_batches[i], 24 / st.url_count);
    raw_sms_list_free(&msgs);
    extraction_client_free(c);
}

static void test_real_probe_and_too_large(void **state)
{
    struct extraction_client *c;
    long limit = 0;
    char err[512];

    (void)state;
    if (!need_real()) {
        skip();
        return;
    }
    /* far above any sane MAX_SMS_COUNT: the probe learns the real limit */
    c = client_for(real_urls(), 50000, 0, 5);
    assert_int_equal(extraction_client_probe(c, &limit, err, sizeof(err)), ERR_VALIDATION);
    assert_true(limit > 0 && limit < 50000);
    extraction_client_free(c);

    /* exactly the limit passes the probe */
    c = client_for(real_urls(), limit, 0, 5);
    assert_int_equal(extraction_client_probe(c, NULL, err, sizeof(err)), ERR_OK);
    assert_string_equal(err, "");
    extraction_client_free(c);

    /* a batch above the limit at run time fails the source with both numbers */
    struct raw_sms_list msgs;
    struct user_data u;
    c = client_for(real_urls(), limit + 1, 0, 5);
    make_msgs(&msgs, (size_t)limit + 1);
    user_data_init(&u, "c", "u", 0);
    assert_int_equal(extraction_client_extract(c, &msgs, NULL, &u, NULL, err, sizeof(err)),
                     ERR_VALIDATION);
    assert_non_null(strstr(err, "MAX_SMS_COUNT"));
    assert_int_equal(u.sms_count, 0);
    user_data_free(&u);
    raw_sms_list_free(&msgs);
    extraction_client_free(c);
}

static void test_real_with_dead_replica(void **state)
{
    char urls[512];
    const char *real = real_urls();

    (void)state;
    if (!need_real()) {
        skip();
        return;
    }
    snprintf(urls, sizeof(urls), "%s,http://127.0.0.1:%d", real, closed_port());
    expect_failure(urls, ERR_DEPENDENCY_UNAVAILABLE, "connect");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_fake_echo_batches),
        cmocka_unit_test(test_fake_bad_replies),
        cmocka_unit_test(test_fake_rows_form),
        cmocka_unit_test(test_fake_one_replica_broken),
        cmocka_unit_test(test_fake_breaker),
        cmocka_unit_test(test_fake_probe),
        cmocka_unit_test(test_real_extract),
        cmocka_unit_test(test_real_volume),
        cmocka_unit_test(test_real_probe_and_too_large),
        cmocka_unit_test(test_real_with_dead_replica),
    };
    return cmocka_run_group_tests(tests, server_up, server_down);
}
