/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sender-header rule both daemons key senders by (see sender.h), moved
 * here unchanged from sms-extraction's vocabulary so that insights-api's
 * sender mapping is loaded by the same rule the extractor's records carry.
 */
#include "common/sender.h"

#include <ctype.h>

void sender_normalise(const char *sender, size_t len, char *out, size_t out_len)
{
    size_t n = 0;

    if (out_len == 0)
        return;
    if (!sender)
        len = 0;
    /* operator prefix: two letters and a dash, as in "VM-" or "AD-" */
    if (len > 3 && isalpha((unsigned char)sender[0]) && isalpha((unsigned char)sender[1]) &&
        sender[2] == '-') {
        sender += 3;
        len -= 3;
    }
    /* route suffix: a dash and one letter, as in "-S" or "-T" */
    if (len > 2 && sender[len - 2] == '-' && isalpha((unsigned char)sender[len - 1]))
        len -= 2;
    while (len > 0 && isspace((unsigned char)*sender)) {
        sender++;
        len--;
    }
    for (size_t i = 0; i < len && n + 1 < out_len; i++)
        out[n++] = (char)tolower((unsigned char)sender[i]);
    while (n > 0 && isspace((unsigned char)out[n - 1]))
        n--;
    out[n] = '\0';
}
