/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sealed artifact format (.enc): AES-256-GCM with a key id, so artifacts
 * can sit in S3 or a container image without exposing rules or models, and keys
 * can rotate (a keyring holds several keys; each file names the one it needs).
 *
 * Byte layout (docs/sealed-artifacts.md is the reference):
 *   offset 0   4 bytes  magic "MFSL"
 *          4   1 byte   version (1)
 *          5   1 byte   key id length n (1..64)
 *          6   n bytes  key id ([A-Za-z0-9._-])
 *        6+n  12 bytes  nonce (random per seal)
 *       18+n   m bytes  ciphertext (m = plaintext length)
 *     18+n+m  16 bytes  GCM tag
 * The header (bytes 0 .. 18+n) is the GCM additional authenticated data, so a
 * changed magic, version, key id or nonce fails the tag check like a changed
 * ciphertext byte does.
 */
#ifndef COMMON_SEAL_H
#define COMMON_SEAL_H

#include <stdbool.h>
#include <stddef.h>

#define SEAL_MAGIC "MFSL"
#define SEAL_MAGIC_LEN 4
#define SEAL_VERSION 1
#define SEAL_KEY_ID_MAX 64
#define SEAL_KEY_LEN 32
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_MAX_KEYS 64
#define SEAL_KEYS_FILE_MAX (64 * 1024) /* a keys file larger than this is refused */

struct seal_key {
    char id[SEAL_KEY_ID_MAX + 1];
    unsigned char key[SEAL_KEY_LEN];
};

/* What seal_parse_header() reads without any key. */
struct seal_header {
    unsigned version;
    char key_id[SEAL_KEY_ID_MAX + 1];
    size_t header_len;     /* bytes authenticated as AAD */
    size_t ciphertext_len; /* = plaintext length */
};

struct seal_keyring;

/* True when data starts with the sealed magic (it may still be malformed). */
bool seal_is_sealed(const unsigned char *data, size_t len);

/* Reads and checks the header and overall length. Returns 0, or -1 with err set. */
int seal_parse_header(const unsigned char *data, size_t len, struct seal_header *out, char *err,
                      size_t err_len) __attribute__((warn_unused_result));

/*
 * Seals plain (len may be 0) with key under a fresh random nonce. On success
 * *out is a malloc'd buffer of *out_len bytes owned by the caller.
 */
int seal_seal(const struct seal_key *key, const unsigned char *plain, size_t len,
              unsigned char **out, size_t *out_len, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/*
 * Opens a sealed buffer with the key its header names. On success *out is a
 * malloc'd buffer of *out_len bytes plus a NUL (not counted), owned by the
 * caller; key_id (if not NULL, SEAL_KEY_ID_MAX + 1 bytes) receives the key id.
 * Plaintext is never returned when the tag does not verify.
 */
int seal_open(const struct seal_keyring *ring, const unsigned char *in, size_t len,
              unsigned char **out, size_t *out_len, char *key_id, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* One key from "kid:hex64". Returns 0, or -1 with err naming the problem (never the key). */
int seal_key_parse(const char *text, size_t len, struct seal_key *out, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* Valid key id: 1..64 chars of [A-Za-z0-9._-]. */
bool seal_key_id_valid(const char *id, size_t len);

struct seal_keyring *seal_keyring_new(void);
void seal_keyring_free(struct seal_keyring *ring);

/* Adds one key; a second key with the same id is an error. */
int seal_keyring_add(struct seal_keyring *ring, const struct seal_key *key, char *err,
                     size_t err_len) __attribute__((warn_unused_result));

/* Adds "kid:hex64[,kid:hex64...]" (whitespace around entries is ignored). */
int seal_keyring_add_spec(struct seal_keyring *ring, const char *spec, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* Adds a file of "kid:hex64" lines ('#' comments and blank lines allowed). */
int seal_keyring_add_file(struct seal_keyring *ring, const char *path, char *err, size_t err_len)
    __attribute__((warn_unused_result));

const struct seal_key *seal_keyring_find(const struct seal_keyring *ring, const char *id);
size_t seal_keyring_count(const struct seal_keyring *ring);

#endif
