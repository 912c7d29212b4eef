/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OpenSSL behind a handful of calls, so the rest of the tree never touches EVP
 * contexts and every caller gets the same constant-time comparison and the same
 * random source. The token-hashing rationale is in crypto.h.
 */
#include "common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

void crypto_sha256(const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN])
{
    SHA256(data, len, out);
}

void crypto_sha256_hex(const void *data, size_t len, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
    unsigned char md[CRYPTO_SHA256_LEN];

    crypto_sha256(data, len, md);
    crypto_hex_encode(md, sizeof(md), out);
}

int crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                       unsigned char out[CRYPTO_SHA256_LEN])
{
    unsigned int out_len = 0;
    static const unsigned char empty_key[1];

    if (key_len > (size_t)INT32_MAX)
        return -1;
    if (!HMAC(EVP_sha256(), key_len ? key : empty_key, (int)key_len, data, len, out, &out_len))
        return -1;
    return out_len == CRYPTO_SHA256_LEN ? 0 : -1;
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

bool crypto_str_equal(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);

    if (la != lb)
        return false;
    return crypto_equal(a, b, la);
}

int crypto_random(void *buf, size_t len)
{
    if (len > (size_t)INT32_MAX)
        return -1;
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

int crypto_uuid4(char out[CRYPTO_UUID_LEN + 1])
{
    unsigned char b[16];
    char hex[33];
    size_t i, o = 0;

    if (crypto_random(b, sizeof(b)) != 0)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    crypto_hex_encode(b, sizeof(b), hex);
    for (i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            out[o++] = '-';
        out[o++] = hex[i];
    }
    out[o] = '\0';
    return 0;
}

void crypto_hex_encode(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int crypto_hex_decode(const char *hex, size_t hex_len, unsigned char *out, size_t out_len)
{
    size_t i;

    if (hex_len != 2 * out_len)
        return -1;
    for (i = 0; i < out_len; i++) {
        int hi = hex_value(hex[2 * i]);
        int lo = hex_value(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int crypto_token_hash(const void *pepper, size_t pepper_len, const char *token,
                      char out[CRYPTO_SHA256_HEX_LEN + 1])
{
    unsigned char md[CRYPTO_SHA256_LEN];

    if (pepper_len == 0) {
        crypto_sha256_hex(token, strlen(token), out);
        return 0;
    }
    if (crypto_hmac_sha256(pepper, pepper_len, token, strlen(token), md) != 0)
        return -1;
    crypto_hex_encode(md, sizeof(md), out);
    crypto_wipe(md, sizeof(md));
    return 0;
}

void crypto_wipe(void *buf, size_t len)
{
    if (buf && len)
        OPENSSL_cleanse(buf, len);
}
