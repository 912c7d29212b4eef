/* SPDX-License-Identifier: Apache-2.0 */
/*
 * insights-api/clients against a real PostgreSQL (PG_CONNINFO; own
 * database). Pins: tokens are UUID4, shown once and stored only as
 * HMAC(pepper, token) (no clear token anywhere in the table); lookups
 * accept the right token and refuse a wrong token, a wrong client or a
 * different pepper; rotation keeps the old token valid until the window
 * ends; revocation ends one token or all; listing never exposes hashes.
 * Expiry is tested by moving expires_at back in SQL, not by sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "insights-api/clients.h"
#include "tests/unit/insights-api/pg_testdb.h"

static const struct clients_pepper pepper = {"pepper-for-tests", 16};
static const struct clients_pepper other_pepper = {"another-pepper", 14};

/* Each test starts with no clients. */
static int clean(void **state)
{
    (void)state;
    return pgt_truncate("clients");
}

/* The clients_* calls the tests assert on; each returns its result (see pgt_checked). */

static void add(PGconn *c, const char *client, struct clients_issued *out)
{
    assert_int_equal(pgt_checked("clients_add", clients_add(c, &pepper, client, "ops@acme.test",
                                                            NULL, out, pgt_err, sizeof(pgt_err))),
                     0);
}

static int lookup_auth(PGconn *c, const struct clients_pepper *p, const char *client,
                       const char *token, struct clients_auth *auth)
{
    return pgt_checked("clients_lookup",
                       clients_lookup(c, p, client, token, auth, pgt_err, sizeof(pgt_err)));
}

static int lookup(PGconn *c, const struct clients_pepper *p, const char *client, const char *token)
{
    return lookup_auth(c, p, client, token, NULL);
}

static int rotate(PGconn *c, const char *client, int window_s, struct clients_issued *out)
{
    return pgt_checked("clients_rotate",
                       clients_rotate(c, &pepper, client, window_s, out, pgt_err, sizeof(pgt_err)));
}

/* token_id 0 revokes all of the client's tokens. */
static int revoke_tokens(PGconn *c, const char *client, long long token_id)
{
    return pgt_checked("clients_revoke",
                       clients_revoke(c, client, token_id, pgt_err, sizeof(pgt_err)));
}

/* The tokens listed for client (NULL: all); the caller frees the array. */
static size_t list(PGconn *c, const char *client, struct clients_token_info **items)
{
    size_t n = 0;

    assert_int_equal(
        pgt_checked("clients_list", clients_list(c, client, items, &n, pgt_err, sizeof(pgt_err))),
        0);
    return n;
}

/* How many tokens are listed for client. */
static size_t count_listed(PGconn *c, const char *client)
{
    struct clients_token_info *items;
    size_t n = list(c, client, &items);

    free(items);
    return n;
}

static bool is_uuid4(const char *t)
{
    if (strlen(t) != CRYPTO_UUID_LEN || t[8] != '-' || t[13] != '-' || t[18] != '-' ||
        t[23] != '-' || t[14] != '4')
        return false;
    return strchr("89ab", t[19]) != NULL;
}

static void test_add_and_lookup(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct clients_issued a, b;
    struct clients_auth auth;
    char hash[CRYPTO_SHA256_HEX_LEN + 1], wrong[CRYPTO_UUID_LEN + 1];
    PGresult *r;

    (void)state;
    add(c, "acme_insights", &a);
    add(c, "other_insights", &b);
    assert_true(is_uuid4(a.token));
    assert_true(a.token_id > 0);
    assert_string_not_equal(a.token, b.token);

    assert_int_equal(lookup_auth(c, &pepper, "acme_insights", a.token, &auth), 1);
    assert_int_equal(auth.token_id, a.token_id);
    assert_true(auth.expires_at == 0);
    snprintf(wrong, sizeof(wrong), "%s", a.token);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    assert_int_equal(lookup(c, &pepper, "acme_insights", wrong), 0);
    assert_int_equal(lookup(c, &pepper, "acme_insights", b.token), 0); /* another client's */
    assert_int_equal(lookup(c, &pepper, "nobody", a.token), 0);
    assert_int_equal(lookup(c, &pepper, "acme_insights", ""), 0);
    assert_int_equal(lookup(c, &pepper, "bad id!", a.token), 0);
    /* Without the pepper, the table alone does not validate a token. */
    assert_int_equal(lookup(c, &other_pepper, "acme_insights", a.token), 0);

    /* Stored: the peppered hash, never the token. */
    assert_int_equal(crypto_token_hash(pepper.key, pepper.len, a.token, hash), 0);
    assert_int_equal(pgt_int(c,
                             "SELECT count(*) FROM clients WHERE token_hash = '%s' AND "
                             "auth_token IS NULL AND geography = 'india'",
                             hash),
                     1);
    r = pgt_sql(c, "SELECT row_to_json(x)::text FROM clients x");
    for (int i = 0; i < PQntuples(r); i++) {
        assert_null(strstr(PQgetvalue(r, i, 0), a.token));
        assert_null(strstr(PQgetvalue(r, i, 0), b.token));
    }
    PQclear(r);
    PQfinish(c);
}

static void test_rotation_overlaps_then_old_token_expires(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct clients_issued old, fresh, third;
    struct clients_auth auth;
    time_t now = time(NULL);

    (void)state;
    add(c, "acme_insights", &old);
    assert_int_equal(rotate(c, "acme_insights", 3600, &fresh), 0);
    assert_true(is_uuid4(fresh.token));
    assert_true(fresh.token_id != old.token_id);
    /* Both valid during the window; the old one now carries its end. */
    assert_int_equal(lookup(c, &pepper, "acme_insights", fresh.token), 1);
    assert_int_equal(lookup_auth(c, &pepper, "acme_insights", old.token, &auth), 1);
    assert_true(auth.expires_at > (double)now + 3500 && auth.expires_at < (double)now + 3700);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM clients WHERE email = 'ops@acme.test'"), 2);
    /* A second rotation does not extend the old token's window. */
    assert_int_equal(rotate(c, "acme_insights", 7200, &third), 0);
    assert_int_equal(lookup_auth(c, &pepper, "acme_insights", old.token, &auth), 1);
    assert_true(auth.expires_at < (double)now + 3700);
    /* The window ends. */
    PQclear(pgt_sql(c,
                    "UPDATE clients SET expires_at = (now() AT TIME ZONE 'UTC') - interval "
                    "'1 second' WHERE id = %lld",
                    old.token_id));
    assert_int_equal(lookup(c, &pepper, "acme_insights", old.token), 0);
    assert_int_equal(lookup(c, &pepper, "acme_insights", fresh.token), 1);
    assert_int_equal(lookup(c, &pepper, "acme_insights", third.token), 1);
    /* Nothing to rotate for an unknown client. */
    assert_int_equal(rotate(c, "nobody", 0, &fresh), 1);
    PQfinish(c);
}

static void test_revoke_one_then_all(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct clients_issued a, b, other;

    (void)state;
    add(c, "acme_insights", &a);
    add(c, "acme_insights", &b);
    add(c, "other_insights", &other);
    /* A token id of another client is not revoked through this client. */
    assert_int_equal(revoke_tokens(c, "acme_insights", other.token_id), 0);
    assert_int_equal(revoke_tokens(c, "acme_insights", a.token_id), 1);
    assert_int_equal(lookup(c, &pepper, "acme_insights", a.token), 0);
    assert_int_equal(lookup(c, &pepper, "acme_insights", b.token), 1);
    assert_int_equal(revoke_tokens(c, "acme_insights", 0), 1);
    assert_int_equal(lookup(c, &pepper, "acme_insights", b.token), 0);
    assert_int_equal(lookup(c, &pepper, "other_insights", other.token), 1);
    assert_int_equal(revoke_tokens(c, "acme_insights", 0), 0);
    /* A revoked client has nothing to rotate. */
    assert_int_equal(rotate(c, "acme_insights", 0, &a), 1);
    PQfinish(c);
}

static void test_list_shows_state_not_secrets(void **state)
{
    PGconn *c = pgt_connect_or_skip();
    struct clients_token_info *items;
    struct clients_issued a, b, other;

    (void)state;
    add(c, "acme_insights", &a);
    assert_int_equal(rotate(c, "acme_insights", 60, &b), 0);
    add(c, "other_insights", &other);
    assert_int_equal(revoke_tokens(c, "other_insights", 0), 1);

    assert_int_equal(list(c, NULL, &items), 3);
    assert_string_equal(items[0].client_id, "acme_insights");
    assert_int_equal(items[0].token_id, a.token_id);
    assert_true(items[0].valid);
    assert_true(items[0].expires_at > 0); /* rotated: ends with the window */
    assert_true(items[1].expires_at == 0);
    assert_string_equal(items[1].email, "ops@acme.test");
    assert_string_equal(items[2].client_id, "other_insights");
    assert_false(items[2].valid);
    assert_true(items[2].revoked_at > 0);
    assert_true(items[0].created_at > 0);
    free(items);
    assert_int_equal(count_listed(c, "other_insights"), 1);
    assert_int_equal(count_listed(c, "nobody"), 0);
    PQfinish(c);
}

static void test_arguments_are_checked(void **state)
{
    struct clients_issued a;
    char err[256];
    PGconn *c;

    (void)state;
    assert_true(clients_id_valid("acme_insights"));
    assert_true(clients_id_valid("a.b-c_9"));
    assert_false(clients_id_valid(""));
    assert_false(clients_id_valid("has space"));
    assert_false(clients_id_valid("quote'"));
    assert_false(clients_id_valid(
        "0123456789012345678901234567890123456789012345678901234567890123456789012")); /* 73 */
    c = pgt_connect_or_skip();
    assert_int_equal(clients_add(c, &pepper, "bad id", NULL, NULL, &a, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "client id"));
    assert_int_equal(clients_add(c, &pepper, "ok", "much-too-long-address@example.invalid", NULL,
                                 &a, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "email"));
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM clients"), 0);
    PQfinish(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_arguments_are_checked, clean),
        cmocka_unit_test_setup(test_add_and_lookup, clean),
        cmocka_unit_test_setup(test_rotation_overlaps_then_old_token_expires, clean),
        cmocka_unit_test_setup(test_revoke_one_then_all, clean),
        cmocka_unit_test_setup(test_list_shows_state_not_secrets, clean),
    };

    return PGT_RUN_GROUP_TESTS(tests, "clients");
}
