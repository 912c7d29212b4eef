/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for the sealed-artifact reader and the key spec parser:
 * sealed files arrive from disk or S3 and key specs from the environment, so
 * any byte string must be refused cleanly or, for a sealed file, open only
 * when it really verifies. The first byte picks the target: even = open the
 * rest as a sealed file with a fixed two-key keyring (ids "k1" and "fz"),
 * odd = parse the rest as an ARTIFACT_KEYS spec.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct seal_keyring *fuzz_ring(void)
{
    static struct seal_keyring *ring;
    char err[256];

    if (!ring) {
        ring = seal_keyring_new();
        if (seal_keyring_add_spec(
                ring,
                "k1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f,"
                "fz:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100",
                err, sizeof(err)) != 0)
            abort();
    }
    return ring;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512], kid[SEAL_KEY_ID_MAX + 1];
    unsigned char *plain = NULL;
    size_t plain_len = 0;

    if (size == 0)
        return 0;
    if ((data[0] & 1) == 0) {
        struct seal_header h;

        if (seal_parse_header(data + 1, size - 1, &h, err, sizeof(err)) == 0 &&
            h.header_len + h.ciphertext_len + SEAL_TAG_LEN != size - 1)
            abort(); /* the header's lengths must account for every byte */
        if (seal_open(fuzz_ring(), data + 1, size - 1, &plain, &plain_len, kid, err, sizeof(err)) ==
            0) {
            if (plain[plain_len] != '\0')
                abort();
            free(plain);
        } else if (plain) {
            abort(); /* no plaintext on failure */
        }
        return 0;
    }
    char *spec = malloc(size);
    struct seal_keyring *ring = seal_keyring_new();

    memcpy(spec, data + 1, size - 1);
    spec[size - 1] = '\0';
    (void)seal_keyring_add_spec(ring, spec, err, sizeof(err));
    seal_keyring_free(ring);
    free(spec);
    return 0;
}
