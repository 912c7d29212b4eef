/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/crypto: known-answer vectors (FIPS 180-2 SHA-256, RFC 4231
 * HMAC-SHA256) so a wrong binding to OpenSSL cannot pass, plus the shapes of
 * random ids and the token-hash scheme documented in crypto.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/crypto.h"

#include <string.h>

static void test_sha256_known_answers(void **state)
{
    char hex[CRYPTO_SHA256_HEX_LEN + 1];

    (void)state;
    crypto_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    crypto_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_hmac_sha256_rfc4231_case2(void **state)
{
    unsigned char mac[CRYPTO_SHA256_LEN];
    char hex[CRYPTO_SHA256_HEX_LEN + 1];
    const char *data = "what do ya want for nothing?";

    (void)state;
    assert_int_equal(crypto_hmac_sha256("Jefe", 4, data, strlen(data), mac), 0);
    crypto_hex_encode(mac, sizeof(mac), hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_constant_time_equal(void **state)
{
    (void)state;
    assert_true(crypto_equal("abcdef", "abcdef", 6));
    assert_false(crypto_equal("abcdef", "abcdeF", 6));
    assert_true(crypto_str_equal("token", "token"));
    assert_false(crypto_str_equal("token", "token2"));
    assert_false(crypto_str_equal("", "x"));
}

static void test_hex_round_trip_and_errors(void **state)
{
    unsigned char in[4] = {0x00, 0x7f, 0xa5, 0xff}, out[4];
    char hex[9];

    (void)state;
    crypto_hex_encode(in, 4, hex);
    assert_string_equal(hex, "007fa5ff");
    assert_int_equal(crypto_hex_decode("007FA5ff", 8, out, 4), 0);
    assert_memory_equal(in, out, 4);
    assert_int_equal(crypto_hex_decode("007fa5f", 7, out, 4), -1);
    assert_int_equal(crypto_hex_decode("007fa5fg", 8, out, 4), -1);
}

static void test_uuid4_shape_and_uniqueness(void **state)
{
    char a[CRYPTO_UUID_LEN + 1], b[CRYPTO_UUID_LEN + 1];
    int i;

    (void)state;
    assert_int_equal(crypto_uuid4(a), 0);
    assert_int_equal(crypto_uuid4(b), 0);
    assert_int_equal(strlen(a), 36);
    assert_string_not_equal(a, b);
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(a[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", a[i]));
    }
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
}

static void test_random_fills(void **state)
{
    unsigned char buf[32], zero[32] = {0};

    (void)state;
    assert_int_equal(crypto_random(buf, sizeof(buf)), 0);
    assert_memory_not_equal(buf, zero, sizeof(buf)); /* chance of all-zero: 2^-256 */
}

static void test_token_hash_scheme(void **state)
{
    const char *token = "3f2a9c1e-8b7d-4e6f-a1b2-c3d4e5f60718";
    char h1[65], h2[65], plain[65], expect[65];
    unsigned char mac[32];

    (void)state;
    assert_int_equal(crypto_token_hash("pepper-1", 8, token, h1), 0);
    assert_int_equal(crypto_token_hash("pepper-2", 8, token, h2), 0);
    assert_string_not_equal(h1, h2);
    assert_int_equal(crypto_hmac_sha256("pepper-1", 8, token, strlen(token), mac), 0);
    crypto_hex_encode(mac, 32, expect);
    assert_string_equal(h1, expect);
    assert_int_equal(crypto_token_hash(NULL, 0, token, plain), 0);
    crypto_sha256_hex(token, strlen(token), expect);
    assert_string_equal(plain, expect);
}

static void test_wipe(void **state)
{
    char key[8] = "secret!";

    (void)state;
    crypto_wipe(key, sizeof(key));
    assert_memory_equal(key, "\0\0\0\0\0\0\0\0", 8);
    crypto_wipe(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_known_answers),
        cmocka_unit_test(test_hmac_sha256_rfc4231_case2),
        cmocka_unit_test(test_constant_time_equal),
        cmocka_unit_test(test_hex_round_trip_and_errors),
        cmocka_unit_test(test_uuid4_shape_and_uniqueness),
        cmocka_unit_test(test_random_fills),
        cmocka_unit_test(test_token_hash_scheme),
        cmocka_unit_test(test_wipe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
