/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sealing and opening artifacts, and the keyring that holds the keys. The
 * format is fixed in seal.h; this file keeps two promises: no plaintext leaves
 * seal_open() unless the GCM tag verified over header and body, and no error
 * message ever contains key material or artifact bytes.
 *
 * Keys live in a fixed array capped at SEAL_MAX_KEYS and are wiped on free.
 */
#include "common/seal.h"

#include "common/alloc.h"

#include "common/crypto.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seal_keyring {
    size_t count;
    struct seal_key keys[SEAL_MAX_KEYS];
};

#define SEAL_FIXED_HEADER (SEAL_MAGIC_LEN + 2) /* magic, version, key id length */

bool seal_is_sealed(const unsigned char *data, size_t len)
{
    return len >= SEAL_MAGIC_LEN && memcmp(data, SEAL_MAGIC, SEAL_MAGIC_LEN) == 0;
}

bool seal_key_id_valid(const char *id, size_t len)
{
    size_t i;

    if (len == 0 || len > SEAL_KEY_ID_MAX)
        return false;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];

        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

int seal_parse_header(const unsigned char *data, size_t len, struct seal_header *out, char *err,
                      size_t err_len)
{
    size_t id_len;

    memset(out, 0, sizeof(*out));
    if (!seal_is_sealed(data, len)) {
        snprintf(err, err_len, "not a sealed artifact (bad magic)");
        return -1;
    }
    if (len < SEAL_FIXED_HEADER) {
        snprintf(err, err_len, "sealed artifact truncated in header");
        return -1;
    }
    if (data[4] != SEAL_VERSION) {
        snprintf(err, err_len, "sealed artifact version %u not supported (want %u)", data[4],
                 SEAL_VERSION);
        return -1;
    }
    id_len = data[5];
    if (len < SEAL_FIXED_HEADER + id_len + SEAL_NONCE_LEN + SEAL_TAG_LEN) {
        snprintf(err, err_len, "sealed artifact truncated (%zu bytes)", len);
        return -1;
    }
    if (!seal_key_id_valid((const char *)data + SEAL_FIXED_HEADER, id_len)) {
        snprintf(err, err_len, "sealed artifact has an invalid key id");
        return -1;
    }
    out->version = data[4];
    memcpy(out->key_id, data + SEAL_FIXED_HEADER, id_len);
    out->key_id[id_len] = '\0';
    out->header_len = SEAL_FIXED_HEADER + id_len + SEAL_NONCE_LEN;
    out->ciphertext_len = len - out->header_len - SEAL_TAG_LEN;
    return 0;
}

/*
 * One AES-256-GCM pass. encrypt=1 writes the tag to tag; encrypt=0 checks it.
 * out must hold len bytes. Returns 0, or -1 (for decryption: tag mismatch).
 */
static int seal_gcm(int encrypt, const unsigned char *key, const unsigned char *nonce,
                    const unsigned char *aad, size_t aad_len, const unsigned char *in, size_t len,
                    unsigned char *out, unsigned char *tag)
{
    int result = -1;
    int n = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

    if (!ctx || aad_len > INT32_MAX || len > INT32_MAX)
        goto out;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, encrypt) != 1)
        goto out;
    if (EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
        goto out;
    if (len && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
        goto out;
    if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(ctx, out + (len ? n : 0), &n) != 1)
        goto out;
    if (encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, tag) != 1)
        goto out;
    result = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    return result;
}

int seal_seal(const struct seal_key *key, const unsigned char *plain, size_t len,
              unsigned char **out, size_t *out_len, char *err, size_t err_len)
{
    size_t id_len = strlen(key->id);
    size_t header_len = SEAL_FIXED_HEADER + id_len + SEAL_NONCE_LEN;
    unsigned char *buf = NULL;
    unsigned char *nonce;

    *out = NULL;
    *out_len = 0;
    if (!seal_key_id_valid(key->id, id_len)) {
        snprintf(err, err_len, "invalid key id");
        return -1;
    }
    if (len > INT32_MAX - header_len - SEAL_TAG_LEN) {
        snprintf(err, err_len, "plaintext too large to seal (%zu bytes)", len);
        return -1;
    }
    buf = alloc_bytes(header_len + len + SEAL_TAG_LEN);
    memcpy(buf, SEAL_MAGIC, SEAL_MAGIC_LEN);
    buf[4] = SEAL_VERSION;
    buf[5] = (unsigned char)id_len;
    memcpy(buf + SEAL_FIXED_HEADER, key->id, id_len);
    nonce = buf + SEAL_FIXED_HEADER + id_len;
    if (crypto_random(nonce, SEAL_NONCE_LEN) != 0) {
        snprintf(err, err_len, "no random bytes for the nonce");
        goto fail;
    }
    if (seal_gcm(1, key->key, nonce, buf, header_len, plain, len, buf + header_len,
                 buf + header_len + len) != 0) {
        snprintf(err, err_len, "encryption failed");
        goto fail;
    }
    *out = buf;
    *out_len = header_len + len + SEAL_TAG_LEN;
    return 0;
fail:
    free(buf);
    return -1;
}

int seal_open(const struct seal_keyring *ring, const unsigned char *in, size_t len,
              unsigned char **out, size_t *out_len, char *key_id, char *err, size_t err_len)
{
    struct seal_header h;
    const struct seal_key *key;
    unsigned char *plain;
    unsigned char tag[SEAL_TAG_LEN];

    *out = NULL;
    *out_len = 0;
    if (seal_parse_header(in, len, &h, err, err_len) != 0)
        return -1;
    if (key_id)
        memcpy(key_id, h.key_id, sizeof(h.key_id));
    key = ring ? seal_keyring_find(ring, h.key_id) : NULL;
    if (!key) {
        snprintf(err, err_len, "sealed with key id \"%s\", which is not in the keyring (%zu keys)",
                 h.key_id, ring ? ring->count : 0);
        return -1;
    }
    memcpy(tag, in + h.header_len + h.ciphertext_len, SEAL_TAG_LEN);
    plain = alloc_bytes(h.ciphertext_len + 1);
    if (seal_gcm(0, key->key, in + h.header_len - SEAL_NONCE_LEN, in, h.header_len,
                 in + h.header_len, h.ciphertext_len, plain, tag) != 0) {
        crypto_wipe(plain, h.ciphertext_len);
        free(plain);
        snprintf(err, err_len,
                 "sealed artifact failed authentication with key id \"%s\" (tampered, "
                 "truncated or wrong key)",
                 h.key_id);
        return -1;
    }
    plain[h.ciphertext_len] = '\0';
    *out = plain;
    *out_len = h.ciphertext_len;
    return 0;
}

int seal_key_parse(const char *text, size_t len, struct seal_key *out, char *err, size_t err_len)
{
    const char *colon = memchr(text, ':', len);
    size_t id_len;

    memset(out, 0, sizeof(*out));
    if (!colon) {
        snprintf(err, err_len, "key entry is not of the form kid:hex64");
        return -1;
    }
    id_len = (size_t)(colon - text);
    if (!seal_key_id_valid(text, id_len)) {
        snprintf(err, err_len, "key id must be 1-%d chars of [A-Za-z0-9._-]", SEAL_KEY_ID_MAX);
        return -1;
    }
    memcpy(out->id, text, id_len);
    if (crypto_hex_decode(colon + 1, len - id_len - 1, out->key, SEAL_KEY_LEN) != 0) {
        crypto_wipe(out, sizeof(*out));
        snprintf(err, err_len, "key \"%.*s\" must be 64 hex digits (32 bytes)", (int)id_len, text);
        return -1;
    }
    return 0;
}

struct seal_keyring *seal_keyring_new(void)
{
    struct seal_keyring *ring = alloc_bytes(sizeof(*ring));

    memset(ring, 0, sizeof(*ring));
    return ring;
}

void seal_keyring_free(struct seal_keyring *ring)
{
    if (!ring)
        return;
    crypto_wipe(ring, sizeof(*ring));
    free(ring);
}

int seal_keyring_add(struct seal_keyring *ring, const struct seal_key *key, char *err,
                     size_t err_len)
{
    if (seal_keyring_find(ring, key->id)) {
        snprintf(err, err_len, "key id \"%s\" given twice", key->id);
        return -1;
    }
    if (ring->count >= SEAL_MAX_KEYS) {
        snprintf(err, err_len, "too many keys (max %d)", SEAL_MAX_KEYS);
        return -1;
    }
    ring->keys[ring->count++] = *key;
    return 0;
}

/* Adds one entry [start, end) after trimming blanks; empty entries are skipped. */
static int seal_keyring_add_entry(struct seal_keyring *ring, const char *start, const char *end,
                                  char *err, size_t err_len)
{
    struct seal_key key;
    int rc;

    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    if (start == end || *start == '#')
        return 0;
    if (seal_key_parse(start, (size_t)(end - start), &key, err, err_len) != 0)
        return -1;
    rc = seal_keyring_add(ring, &key, err, err_len);
    crypto_wipe(&key, sizeof(key));
    return rc;
}

/* Splits text on sep and adds each entry; entry numbers (1-based) go into errors. */
static int seal_keyring_add_list(struct seal_keyring *ring, const char *text, size_t len, char sep,
                                 const char *what, char *err, size_t err_len)
{
    const char *p = text;
    const char *end = text + len;
    unsigned n = 0;
    char why[256];

    while (p <= end) {
        const char *next = memchr(p, sep, (size_t)(end - p));

        if (!next)
            next = end;
        n++;
        if (seal_keyring_add_entry(ring, p, next, why, sizeof(why)) != 0) {
            snprintf(err, err_len, "%s %u: %s", what, n, why);
            return -1;
        }
        p = next + 1;
    }
    return 0;
}

int seal_keyring_add_spec(struct seal_keyring *ring, const char *spec, char *err, size_t err_len)
{
    if (!spec)
        return 0;
    return seal_keyring_add_list(ring, spec, strlen(spec), ',', "ARTIFACT_KEYS entry", err,
                                 err_len);
}

/* Reads a whole small file into a NUL-terminated malloc'd buffer, capped at max. */
static char *seal_read_small_file(const char *path, size_t max, size_t *len, char *err,
                                  size_t err_len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (!f) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = alloc_bytes(max + 1);
    n = fread(buf, 1, max + 1, f);
    if (ferror(f) || n > max) {
        snprintf(err, err_len, "%s: %s", path,
                 ferror(f) ? "read error" : "keys file larger than the cap");
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

int seal_keyring_add_file(struct seal_keyring *ring, const char *path, char *err, size_t err_len)
{
    size_t len = 0;
    char why[320];
    char *buf;
    int rc;

    if (!path || !*path)
        return 0;
    buf = seal_read_small_file(path, SEAL_KEYS_FILE_MAX, &len, err, err_len);
    if (!buf)
        return -1;
    rc = seal_keyring_add_list(ring, buf, len, '\n', "line", why, sizeof(why));
    if (rc != 0)
        snprintf(err, err_len, "%s: %s", path, why);
    crypto_wipe(buf, len);
    free(buf);
    return rc;
}

const struct seal_key *seal_keyring_find(const struct seal_keyring *ring, const char *id)
{
    size_t i;

    for (i = 0; i < ring->count; i++)
        if (strcmp(ring->keys[i].id, id) == 0)
            return &ring->keys[i];
    return NULL;
}

size_t seal_keyring_count(const struct seal_keyring *ring)
{
    return ring ? ring->count : 0;
}
