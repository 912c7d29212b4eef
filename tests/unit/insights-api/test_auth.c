/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials and their cache (auth.c), driven with a fake store and a
 * synthetic clock: a positive answer is reused for exactly the TTL (the
 * documented revocation delay) and never past the token's own expiry, a
 * negative one for at most 5 s, an expired positive one is honoured while
 * the store is down (for at most AUTH_STALE_MAX_SECONDS past its expiry) and
 * an unknown token then gets "unavailable" rather than "denied". The lookup only ever sees the
 * token's peppered hash as cache key material; DEMO_CLIENTS parsing and matching close the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics.h"
#include "insights-api/auth.h"

struct fake {
    int calls;
    int answer; /* 1 valid, 0 invalid, -1 down */
    double expires_at;
    char last_hash[CRYPTO_SHA256_HEX_LEN + 1];
};

static int fake_lookup(void *arg, const char *client_id, const char *token, const char *hash,
                       double *expires_at, char *err, size_t err_len)
{
    struct fake *f = arg;

    (void)client_id;
    (void)token;
    f->calls++;
    snprintf(f->last_hash, sizeof(f->last_hash), "%s", hash);
    if (f->answer < 0)
        snprintf(err, err_len, "database down");
    if (f->answer == 1)
        *expires_at = f->expires_at;
    return f->answer;
}

static struct auth *make(struct fake *f, long ttl)
{
    struct auth_config cfg = {
        .ttl_s = ttl, .stale_max_s = 60, .max_entries = 64, .pepper = "pepper"};
    struct auth_lookup lookup = {fake_lookup, f};

    return auth_new(&cfg, &lookup);
}

static void test_positive_cached_for_ttl(void **state)
{
    struct fake f = {.answer = 1};
    struct auth *a = make(&f, 60);
    char err[128], expect[CRYPTO_SHA256_HEX_LEN + 1];

    (void)state;
    assert_int_equal(auth_check(a, "acme", "tok-1", 1000, err, sizeof(err)), AUTH_OK);
    assert_int_equal(f.calls, 1);
    assert_int_equal(crypto_token_hash("pepper", 6, "tok-1", expect), 0);
    assert_string_equal(f.last_hash, expect);
    /* Revoked in the store: still accepted until the TTL ends, then refused. */
    f.answer = 0;
    assert_int_equal(auth_check(a, "acme", "tok-1", 1059, err, sizeof(err)), AUTH_OK);
    assert_int_equal(f.calls, 1);
    assert_int_equal(auth_check(a, "acme", "tok-1", 1061, err, sizeof(err)), AUTH_DENIED);
    assert_int_equal(f.calls, 2);
    /* The same token under another client id is another key. */
    f.answer = 1;
    assert_int_equal(auth_check(a, "other", "tok-1", 1062, err, sizeof(err)), AUTH_OK);
    assert_int_equal(f.calls, 3);
    auth_free(a);
}

static void test_negative_cached_briefly(void **state)
{
    struct fake f = {.answer = 0};
    struct auth *a = make(&f, 60);
    char err[128];
    struct auth_stats st;

    (void)state;
    assert_int_equal(auth_check(a, "acme", "bad", 1000, err, sizeof(err)), AUTH_DENIED);
    assert_int_equal(auth_check(a, "acme", "bad", 1004, err, sizeof(err)), AUTH_DENIED);
    assert_int_equal(f.calls, 1);
    f.answer = 1; /* the token was just issued */
    assert_int_equal(auth_check(a, "acme", "bad", 1000 + AUTH_NEGATIVE_TTL_S + 1, err, sizeof(err)),
                     AUTH_OK);
    assert_int_equal(f.calls, 2);
    auth_get_stats(a, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.denied, 2);
    auth_free(a);
}

static void test_token_expiry_bounds_cache(void **state)
{
    struct fake f = {.answer = 1, .expires_at = 1010};
    struct auth *a = make(&f, 60);
    char err[128];

    (void)state;
    assert_int_equal(auth_check(a, "acme", "old", 1000, err, sizeof(err)), AUTH_OK);
    f.answer = 0;
    assert_int_equal(auth_check(a, "acme", "old", 1011, err, sizeof(err)), AUTH_DENIED);
    assert_int_equal(f.calls, 2);
    auth_free(a);
}

static void test_store_down(void **state)
{
    struct fake f = {.answer = 1};
    struct auth *a = make(&f, 60);
    char err[128];
    struct auth_stats st;

    (void)state;
    assert_int_equal(auth_check(a, "acme", "good", 1000, err, sizeof(err)), AUTH_OK);
    f.answer = -1;
    /* Past the TTL with the store down: the known token keeps working (stale)... */
    assert_int_equal(auth_check(a, "acme", "good", 1100, err, sizeof(err)), AUTH_OK);
    /* ...an unknown one cannot be judged: 503, not 401. */
    assert_int_equal(auth_check(a, "acme", "never-seen", 1100, err, sizeof(err)), AUTH_UNAVAILABLE);
    auth_get_stats(a, &st);
    assert_int_equal(st.stale, 1);
    assert_int_equal(st.unavailable, 1);
    auth_flush(a);
    assert_int_equal(auth_check(a, "acme", "good", 1101, err, sizeof(err)), AUTH_UNAVAILABLE);
    auth_free(a);
}

/*
 * Issue 11 item 2, the report's traffic: TTL 3 s, the token checked once,
 * then PostgreSQL unreachable for 20 s while the client keeps calling. It
 * used to be accepted for the whole outage; now for TTL + AUTH_STALE_MAX_SECONDS
 * (5 s) at most, then 503, with both counted and the limit in /metrics.
 */
static void test_stale_acceptance_is_bounded(void **state)
{
    struct fake f = {.answer = 1};
    struct metrics *m = metrics_new("t_");
    struct auth_config cfg = {
        .ttl_s = 3, .stale_max_s = 5, .max_entries = 64, .pepper = "p", .metrics = m};
    struct auth_lookup lookup = {fake_lookup, &f};
    struct auth *a = auth_new(&cfg, &lookup);
    char err[128];
    struct auth_stats st;
    int accepted = 0, refused = 0;
    size_t len;
    char *text;

    (void)state;
    assert_int_equal(auth_check(a, "acme", "revoked-later", 1000, err, sizeof(err)), AUTH_OK);
    f.answer = -1; /* the outage begins (and the token is revoked in it, unseen) */
    for (int t = 1; t <= 20; t++) {
        enum auth_result r = auth_check(a, "acme", "revoked-later", 1000 + t, err, sizeof(err));

        if (t <= 8)
            assert_int_equal(r, AUTH_OK); /* within TTL (3) + stale limit (5) */
        else
            assert_int_equal(r, AUTH_UNAVAILABLE);
        accepted += r == AUTH_OK;
        refused += r == AUTH_UNAVAILABLE;
    }
    assert_int_equal(accepted, 8);
    assert_int_equal(refused, 12);
    auth_get_stats(a, &st);
    assert_int_equal(st.stale, 6); /* seconds 3..8: the entry expires at 1003 */
    assert_int_equal(st.stale_refused, 12);
    text = metrics_render(m, &len);
    assert_non_null(strstr(text, "t_auth_stale_total{result=\"accepted\"} 6\n"));
    assert_non_null(strstr(text, "t_auth_stale_total{result=\"refused\"} 12\n"));
    assert_non_null(strstr(text, "t_auth_stale_max_seconds 5\n"));
    free(text);
    auth_free(a);
    metrics_free(m);
}

static void test_missing_headers(void **state)
{
    struct fake f = {.answer = 1};
    struct auth *a = make(&f, 60);
    char err[128], big[400];

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(auth_check(a, NULL, "t", 1, err, sizeof(err)), AUTH_DENIED);
    assert_int_equal(auth_check(a, "acme", NULL, 1, err, sizeof(err)), AUTH_DENIED);
    assert_int_equal(auth_check(a, "", "t", 1, err, sizeof(err)), AUTH_DENIED);
    assert_int_equal(auth_check(a, "acme", big, 1, err, sizeof(err)), AUTH_DENIED);
    assert_int_equal(f.calls, 0);
    assert_null(strstr(err, "xxxx"));
    auth_free(a);
}

static void test_no_cache(void **state)
{
    struct fake f = {.answer = 1};
    struct auth *a = make(&f, 0);
    char err[128];

    (void)state;
    assert_int_equal(auth_check(a, "acme", "t", 1, err, sizeof(err)), AUTH_OK);
    assert_int_equal(auth_check(a, "acme", "t", 1, err, sizeof(err)), AUTH_OK);
    assert_int_equal(f.calls, 2);
    auth_free(a);
}

static void test_static_clients(void **state)
{
    char err[128];
    struct auth_static *s = auth_static_new("demo:demo-token, acme:s3cret", "p", err, sizeof(err));
    struct auth_config cfg = {.ttl_s = 60, .max_entries = 64, .pepper = "p"};
    struct auth_lookup lookup = {auth_static_lookup, s};
    struct auth *a;

    (void)state;
    assert_non_null(s);
    a = auth_new(&cfg, &lookup);
    assert_int_equal(auth_check(a, "demo", "demo-token", 1, err, sizeof(err)), AUTH_OK);
    assert_int_equal(auth_check(a, "acme", "s3cret", 1, err, sizeof(err)), AUTH_OK);
    assert_int_equal(auth_check(a, "acme", "demo-token", 1, err, sizeof(err)), AUTH_DENIED);
    assert_int_equal(auth_check(a, "nobody", "s3cret", 1, err, sizeof(err)), AUTH_DENIED);
    auth_free(a);
    auth_static_free(s);

    assert_null(auth_static_new("demo", "p", err, sizeof(err)));
    assert_null(auth_static_new("demo:", "p", err, sizeof(err)));
    assert_null(auth_static_new(":tok", "p", err, sizeof(err)));
    s = auth_static_new("", "p", err, sizeof(err));
    assert_non_null(s);
    auth_static_free(s);
}

/* Many distinct tokens in a small table: evictions, never a wrong answer. */
static void test_eviction_keeps_answers_right(void **state)
{
    struct fake f = {.answer = 1};
    struct auth *a = make(&f, 60);
    char err[128], tok[32];

    (void)state;
    for (int i = 0; i < 2000; i++) {
        snprintf(tok, sizeof(tok), "tok-%d", i);
        f.answer = i % 3 == 0 ? 0 : 1;
        assert_int_equal(auth_check(a, "acme", tok, 10, err, sizeof(err)),
                         i % 3 == 0 ? AUTH_DENIED : AUTH_OK);
    }
    for (int i = 0; i < 2000; i++) {
        snprintf(tok, sizeof(tok), "tok-%d", i);
        f.answer = i % 3 == 0 ? 0 : 1;
        assert_int_equal(auth_check(a, "acme", tok, 11, err, sizeof(err)),
                         i % 3 == 0 ? AUTH_DENIED : AUTH_OK);
    }
    auth_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positive_cached_for_ttl),
        cmocka_unit_test(test_stale_acceptance_is_bounded),
        cmocka_unit_test(test_negative_cached_briefly),
        cmocka_unit_test(test_token_expiry_bounds_cache),
        cmocka_unit_test(test_store_down),
        cmocka_unit_test(test_missing_headers),
        cmocka_unit_test(test_no_cache),
        cmocka_unit_test(test_static_clients),
        cmocka_unit_test(test_eviction_keeps_answers_right),
    };

    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

    log_set_fd(devnull); /* the stale-answer warnings */
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    close(devnull);
    return rc;
}
