/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SMS sender headers, as both daemons key them. A sender arrives as the DLT
 * header with an operator prefix and a route suffix ("VM-HDFCBK-S",
 * "AD-HDFCBK"); the same sender is "hdfcbk" once normalised. sms-extraction
 * normalises every header it reads (requests, its vocabulary) and returns
 * the normalised form as a record's sms_sender; insights-api's
 * sms_sender_mapping headers go through the same rule when loaded, and its
 * lookups take sms_sender as the extractor returned it. This is the one
 * place the rule is written.
 */
#ifndef COMMON_SENDER_H
#define COMMON_SENDER_H

#include <stddef.h>

/*
 * Normalise sender[0..len) into out (NUL-terminated, cut to out_len - 1):
 * an operator prefix of two letters and a dash ("VM-") removed, a route
 * suffix of a dash and one letter ("-S") removed, leading and trailing white
 * space trimmed, lower case. NULL sender gives "".
 */
void sender_normalise(const char *sender, size_t len, char *out, size_t out_len);

#endif
