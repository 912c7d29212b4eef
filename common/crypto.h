/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small cryptographic helpers over OpenSSL that the daemons share: hashing for
 * S3 payload signatures and artifact checksums, HMAC, constant-time comparison,
 * random bytes and ids, and the API-token hashing scheme of insights-api.
 *
 * Token hashing: insights-api issues tokens that are random UUIDs (122 random
 * bits). With that much entropy no attacker can brute-force a token from its
 * hash, so a slow password hash (scrypt, PBKDF2) would only cost CPU on every
 * request without adding safety. We store HMAC-SHA256(pepper, token) as lowercase
 * hex: deterministic, so the hash is the database lookup key (one indexed query,
 * no per-row salt to try), and keyed with a per-deployment secret pepper kept
 * outside the database, so a leaked table alone cannot even confirm a guess.
 * An empty pepper degrades to plain SHA-256 (documented, for development only).
 */
#ifndef COMMON_CRYPTO_H
#define COMMON_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_SHA256_HEX_LEN 64 /* without the NUL */
#define CRYPTO_UUID_LEN 36       /* xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx, without the NUL */

/* SHA-256 of data into out (32 bytes). */
void crypto_sha256(const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN]);

/* SHA-256 of data as 64 lowercase hex digits plus NUL. */
void crypto_sha256_hex(const void *data, size_t len, char out[CRYPTO_SHA256_HEX_LEN + 1]);

/* HMAC-SHA256(key, data) into out. Returns 0, or -1 if OpenSSL fails. */
int crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                       unsigned char out[CRYPTO_SHA256_LEN]) __attribute__((warn_unused_result));

/* Compares len bytes in time that does not depend on where they differ. */
bool crypto_equal(const void *a, const void *b, size_t len);

/* Same for two NUL-terminated strings; the length difference is not hidden. */
bool crypto_str_equal(const char *a, const char *b);

/* Fills buf with len bytes from the OpenSSL CSPRNG. Returns 0 or -1. */
int crypto_random(void *buf, size_t len) __attribute__((warn_unused_result));

/* A random version-4 UUID, lowercase with dashes, plus NUL. Returns 0 or -1. */
int crypto_uuid4(char out[CRYPTO_UUID_LEN + 1]) __attribute__((warn_unused_result));

/* Lowercase hex of len bytes into out, which must hold 2 * len + 1 chars. */
void crypto_hex_encode(const unsigned char *in, size_t len, char *out);

/*
 * Decodes exactly 2 * out_len hex digits (either case) from hex into out.
 * Returns 0, or -1 if hex_len != 2 * out_len or a digit is not hex.
 */
int crypto_hex_decode(const char *hex, size_t hex_len, unsigned char *out, size_t out_len)
    __attribute__((warn_unused_result));

/*
 * The stored form of an API token: lowercase hex HMAC-SHA256(pepper, token), or
 * SHA-256(token) when pepper_len is 0. Returns 0 or -1.
 */
int crypto_token_hash(const void *pepper, size_t pepper_len, const char *token,
                      char out[CRYPTO_SHA256_HEX_LEN + 1]) __attribute__((warn_unused_result));

/* Overwrites len bytes in a way the compiler may not remove (for keys). */
void crypto_wipe(void *buf, size_t len);

#endif
