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

static int group_setup(void **state)
{
    (void)state;
    if (!pgt_available())
        return 0;
    return pgt_create("clients", true);
}

static int group_teardown(void **state)
{
    (void)state;
    if (pgt_available())
        pgt_drop();
    return 0;
}

static int clean(void **state)
{
    PGconn *c;

    (void)state;
    if (!pgt_available())
        return 0;
    c = pgt_connect();
    PQclear(pgt_sql(c, "TRUNCATE clients"));
    PQfinish(c);
    return 0;
}

#define NEED_PG()                                                                                  \
    do {                                                                                           \
        if (!pgt_available()) {                                                                    \
            printf(PGT_SKIP_MSG);                                                                  \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static void add(PGconn *c, const char *client, struct clients_issued *out)
{
    char err[256] = "";

    if (clients_add(c, &pepper, client, "ops@acme.test", NULL, out, err, sizeof(err)) != 0)
        fail_msg("clients_add: %s", err);
}

static int lookup(PGconn *c, const struct clients_pepper *p, const char *client, const char *token)
{
    char err[256] = "";
    int rc = clients_lookup(c, p, client, token, NULL, err, sizeof(err));

    if (rc < 0)
        fail_msg("clients_lookup: %s", err);
    return rc;
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
    struct clients_issued a, b;
    struct clients_auth auth;
    char hash[CRYPTO_SHA256_HEX_LEN + 1], wrong[CRYPTO_UUID_LEN + 1], err[256];
    PGresult *r;
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    add(c, "acme_insights", &a);
    add(c, "other_insights", &b);
    assert_true(is_uuid4(a.token));
    assert_true(a.token_id > 0);
    assert_string_not_equal(a.token, b.token);

    assert_int_equal(clients_lookup(c, &pepper, "acme_insights", a.token, &auth, err, sizeof(err)),
                     1);
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
    struct clients_issued old, fresh;
    struct clients_auth auth;
    char err[256];
    time_t now = time(NULL);
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    add(c, "acme_insights", &old);
    assert_int_equal(clients_rotate(c, &pepper, "acme_insights", 3600, &fresh, err, sizeof(err)),
                     0);
    assert_true(is_uuid4(fresh.token));
    assert_true(fresh.token_id != old.token_id);
    /* Both valid during the window; the old one now carries its end. */
    assert_int_equal(lookup(c, &pepper, "acme_insights", fresh.token), 1);
    assert_int_equal(
        clients_lookup(c, &pepper, "acme_insights", old.token, &auth, err, sizeof(err)), 1);
    assert_true(auth.expires_at > (double)now + 3500 && auth.expires_at < (double)now + 3700);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM clients WHERE email = 'ops@acme.test'"), 2);
    /* A second rotation does not extend the old token's window. */
    struct clients_issued third;
    assert_int_equal(clients_rotate(c, &pepper, "acme_insights", 7200, &third, err, sizeof(err)),
                     0);
    assert_int_equal(
        clients_lookup(c, &pepper, "acme_insights", old.token, &auth, err, sizeof(err)), 1);
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
    assert_int_equal(clients_rotate(c, &pepper, "nobody", 0, &fresh, err, sizeof(err)), 1);
    PQfinish(c);
}

static void test_revoke_one_then_all(void **state)
{
    struct clients_issued a, b, other;
    char err[256];
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    add(c, "acme_insights", &a);
    add(c, "acme_insights", &b);
    add(c, "other_insights", &other);
    /* A token id of another client is not revoked through this client. */
    assert_int_equal(clients_revoke(c, "acme_insights", other.token_id, err, sizeof(err)), 0);
    assert_int_equal(clients_revoke(c, "acme_insights", a.token_id, err, sizeof(err)), 1);
    assert_int_equal(lookup(c, &pepper, "acme_insights", a.token), 0);
    assert_int_equal(lookup(c, &pepper, "acme_insights", b.token), 1);
    assert_int_equal(clients_revoke(c, "acme_insights", 0, err, sizeof(err)), 1);
    assert_int_equal(lookup(c, &pepper, "acme_insights", b.token), 0);
    assert_int_equal(lookup(c, &pepper, "other_insights", other.token), 1);
    assert_int_equal(clients_revoke(c, "acme_insights", 0, err, sizeof(err)), 0);
    /* A revoked client has nothing to rotate. */
    assert_int_equal(clients_rotate(c, &pepper, "acme_insights", 0, &a, err, sizeof(err)), 1);
    PQfinish(c);
}

static void test_list_shows_state_not_secrets(void **state)
{
    struct clients_token_info *items;
    struct clients_issued a, b, other;
    char err[256];
    size_t n;
    PGconn *c;

    (void)state;
    NEED_PG();
    c = pgt_connect();
    add(c, "acme_insights", &a);
    assert_int_equal(clients_rotate(c, &pepper, "acme_insights", 60, &b, err, sizeof(err)), 0);
    add(c, "other_insights", &other);
    assert_int_equal(clients_revoke(c, "other_insights", 0, err, sizeof(err)), 1);

    assert_int_equal(clients_list(c, NULL, &items, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
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
    assert_int_equal(clients_list(c, "other_insights", &items, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    free(items);
    assert_int_equal(clients_list(c, "nobody", &items, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    free(items);
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
    NEED_PG();
    c = pgt_connect();
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

    if (!pgt_available())
        printf(PGT_SKIP_MSG);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
