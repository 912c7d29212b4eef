/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for the replies of the credential servers (common/aws_credentials):
 * STS answers XML, the container agent and instance metadata answer JSON, and
 * an expiry time is text; all three come from the network, so any byte string
 * must be parsed or refused cleanly, and a parsed reply must hold
 * NUL-terminated fields without control characters. The first byte picks the
 * parser: 0 = STS XML, 1 = JSON, 2 = an ISO 8601 time.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/aws_credentials.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_fields(const struct aws_credentials *c)
{
    const char *fields[3] = {c->access_key_id, c->secret_access_key, c->session_token};

    for (int i = 0; i < 3; i++)
        for (const char *p = fields[i]; *p; p++)
            if ((unsigned char)*p < 0x21)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aws_credentials c;
    char err[256], text[128];
    int rc = -1;

    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0:
        rc = aws_parse_sts_reply((const char *)data + 1, size - 1, &c, err, sizeof(err));
        break;
    case 1:
        rc = aws_parse_json_reply((const char *)data + 1, size - 1, &c, err, sizeof(err));
        break;
    default:
        if (size - 1 >= sizeof(text))
            return 0;
        memcpy(text, data + 1, size - 1);
        text[size - 1] = '\0';
        (void)aws_parse_time(text);
        return 0;
    }
    if (rc == 0)
        check_fields(&c);
    return 0;
}
