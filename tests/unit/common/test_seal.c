/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/seal: the .enc format must round-trip, and every kind of
 * damage (a flipped byte in the header, body or tag, truncation, a wrong or
 * missing key) must fail without returning plaintext. Key spec and key file
 * parsing errors must name the entry and never echo key material.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/seal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define K1_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K2_HEX "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static const char plain_text[] = "{\"rules\":[\"debited by\",\"credited to\"]}";

static struct seal_keyring *ring_from(const char *spec)
{
    char err[256];
    struct seal_keyring *ring = seal_keyring_new();

    assert_int_equal(seal_keyring_add_spec(ring, spec, err, sizeof(err)), 0);
    return ring;
}

static void seal_with(const char *spec, const char *kid, const void *plain, size_t len,
                      unsigned char **out, size_t *out_len)
{
    char err[256];
    struct seal_keyring *ring = ring_from(spec);
    const struct seal_key *key = seal_keyring_find(ring, kid);

    assert_non_null(key);
    assert_int_equal(seal_seal(key, plain, len, out, out_len, err, sizeof(err)), 0);
    seal_keyring_free(ring);
}

/* Opens buf with spec; returns the rc and leaves err filled. */
static int open_with(const char *spec, const unsigned char *buf, size_t len, char *err,
                     size_t err_len)
{
    struct seal_keyring *ring = ring_from(spec);
    unsigned char *plain = (unsigned char *)"sentinel";
    size_t plain_len = 99;
    int rc = seal_open(ring, buf, len, &plain, &plain_len, NULL, err, err_len);

    if (rc == 0)
        free(plain);
    else {
        assert_null(plain);
        assert_int_equal(plain_len, 0);
    }
    seal_keyring_free(ring);
    return rc;
}

static void test_round_trip_and_layout(void **state)
{
    unsigned char *sealed, *plain;
    size_t sealed_len, plain_len;
    char kid[SEAL_KEY_ID_MAX + 1], err[256];
    struct seal_header h;
    struct seal_keyring *ring = ring_from("old:" K2_HEX ",k1:" K1_HEX);

    (void)state;
    seal_with("k1:" K1_HEX, "k1", plain_text, strlen(plain_text), &sealed, &sealed_len);
    assert_int_equal(sealed_len, 4 + 1 + 1 + 2 + 12 + strlen(plain_text) + 16);
    assert_memory_equal(sealed, "MFSL\x01\x02k1", 8);
    assert_memory_not_equal(sealed + 20, plain_text, strlen(plain_text));
    assert_true(seal_is_sealed(sealed, sealed_len));
    assert_int_equal(seal_parse_header(sealed, sealed_len, &h, err, sizeof(err)), 0);
    assert_string_equal(h.key_id, "k1");
    assert_int_equal(h.ciphertext_len, strlen(plain_text));
    assert_int_equal(seal_open(ring, sealed, sealed_len, &plain, &plain_len, kid, err, sizeof(err)),
                     0);
    assert_string_equal(kid, "k1");
    assert_int_equal(plain_len, strlen(plain_text));
    assert_string_equal((char *)plain, plain_text);
    free(plain);
    free(sealed);
    seal_keyring_free(ring);
}

static void test_nonce_differs_per_seal(void **state)
{
    unsigned char *a, *b;
    size_t al, bl;

    (void)state;
    seal_with("k1:" K1_HEX, "k1", plain_text, strlen(plain_text), &a, &al);
    seal_with("k1:" K1_HEX, "k1", plain_text, strlen(plain_text), &b, &bl);
    assert_int_equal(al, bl);
    assert_memory_not_equal(a + 8, b + 8, 12);
    free(a);
    free(b);
}

static void test_empty_plaintext(void **state)
{
    unsigned char *sealed, *plain;
    size_t sealed_len, plain_len;
    char err[256];
    struct seal_keyring *ring = ring_from("k1:" K1_HEX);

    (void)state;
    seal_with("k1:" K1_HEX, "k1", "", 0, &sealed, &sealed_len);
    assert_int_equal(sealed_len, 8 + 12 + 16);
    assert_int_equal(
        seal_open(ring, sealed, sealed_len, &plain, &plain_len, NULL, err, sizeof(err)), 0);
    assert_int_equal(plain_len, 0);
    assert_int_equal(plain[0], '\0');
    free(plain);
    free(sealed);
    seal_keyring_free(ring);
}

static void test_wrong_or_missing_key(void **state)
{
    unsigned char *sealed;
    size_t len;
    char err[256];

    (void)state;
    seal_with("k1:" K1_HEX, "k1", plain_text, strlen(plain_text), &sealed, &len);
    /* same id, different key bytes: authentication fails */
    assert_int_equal(open_with("k1:" K2_HEX, sealed, len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "failed authentication"));
    /* id not in the keyring */
    assert_int_equal(open_with("k2:" K1_HEX, sealed, len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "\"k1\""));
    assert_non_null(strstr(err, "not in the keyring"));
    assert_null(strstr(err, K1_HEX));
    free(sealed);
}

static void test_every_flipped_byte_fails(void **state)
{
    unsigned char *sealed;
    size_t len, i;
    char err[256];

    (void)state;
    seal_with("k1:" K1_HEX, "k1", plain_text, strlen(plain_text), &sealed, &len);
    /* header (magic, version, id length, id, nonce), body and tag: each byte matters */
    for (i = 0; i < len; i++) {
        sealed[i] ^= 0x01;
        assert_int_equal(open_with("k1:" K1_HEX ",k0:" K2_HEX, sealed, len, err, sizeof(err)), -1);
        sealed[i] ^= 0x01;
    }
    assert_int_equal(open_with("k1:" K1_HEX, sealed, len, err, sizeof(err)), 0);
    free(sealed);
}

static void test_truncated_fails(void **state)
{
    unsigned char *sealed;
    size_t len, cut;
    char err[256];

    (void)state;
    seal_with("k1:" K1_HEX, "k1", plain_text, strlen(plain_text), &sealed, &len);
    for (cut = 0; cut < len; cut++)
        assert_int_equal(open_with("k1:" K1_HEX, sealed, cut, err, sizeof(err)), -1);
    assert_int_equal(open_with("k1:" K1_HEX, sealed, 10, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "truncated"));
    free(sealed);
}

static void test_bad_version_named(void **state)
{
    unsigned char *sealed;
    size_t len;
    char err[256];

    (void)state;
    seal_with("k1:" K1_HEX, "k1", plain_text, strlen(plain_text), &sealed, &len);
    sealed[4] = 9;
    assert_int_equal(open_with("k1:" K1_HEX, sealed, len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "version 9"));
    free(sealed);
}

static void expect_spec_error(const char *spec, const char *needle)
{
    char err[256] = "";
    struct seal_keyring *ring = seal_keyring_new();

    assert_int_equal(seal_keyring_add_spec(ring, spec, err, sizeof(err)), -1);
    if (!strstr(err, needle))
        fail_msg("spec error \"%s\" lacks \"%s\"", err, needle);
    assert_null(strstr(err, "0102030405"));
    seal_keyring_free(ring);
}

static void test_key_spec_errors(void **state)
{
    (void)state;
    expect_spec_error("k1", "kid:hex64");
    expect_spec_error(":" K1_HEX, "key id");
    expect_spec_error("bad id:" K1_HEX, "key id");
    expect_spec_error("k1:0102030405", "64 hex digits");
    expect_spec_error("k1:" K1_HEX "00", "64 hex digits");
    expect_spec_error("k1:zz02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                      "64 hex digits");
    expect_spec_error("k1:" K1_HEX ",k1:" K2_HEX, "given twice");
    expect_spec_error("k1:" K1_HEX ",nope", "entry 2");
}

static void test_key_spec_accepts_spaces_and_empty(void **state)
{
    struct seal_keyring *ring = ring_from(" k1:" K1_HEX " , k2:" K2_HEX ",");

    (void)state;
    assert_int_equal(seal_keyring_count(ring), 2);
    assert_non_null(seal_keyring_find(ring, "k2"));
    assert_null(seal_keyring_find(ring, "k3"));
    seal_keyring_free(ring);
    ring = ring_from("");
    assert_int_equal(seal_keyring_count(ring), 0);
    seal_keyring_free(ring);
}

static void test_key_file(void **state)
{
    char path[] = "/tmp/test_seal_keys_XXXXXX";
    char err[512];
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    struct seal_keyring *ring = seal_keyring_new();

    (void)state;
    fprintf(f, "# deployment keys\n\nk1:%s\n  k2:%s  \n", K1_HEX, K2_HEX);
    fclose(f);
    assert_int_equal(seal_keyring_add_file(ring, path, err, sizeof(err)), 0);
    assert_int_equal(seal_keyring_count(ring), 2);
    f = fopen(path, "w");
    fprintf(f, "k3:%s\nk4:short\n", K1_HEX);
    fclose(f);
    assert_int_equal(seal_keyring_add_file(ring, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "line 2"));
    unlink(path);
    assert_int_equal(seal_keyring_add_file(ring, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));
    seal_keyring_free(ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_layout),
        cmocka_unit_test(test_nonce_differs_per_seal),
        cmocka_unit_test(test_empty_plaintext),
        cmocka_unit_test(test_wrong_or_missing_key),
        cmocka_unit_test(test_every_flipped_byte_fails),
        cmocka_unit_test(test_truncated_fails),
        cmocka_unit_test(test_bad_version_named),
        cmocka_unit_test(test_key_spec_errors),
        cmocka_unit_test(test_key_spec_accepts_spaces_and_empty),
        cmocka_unit_test(test_key_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
