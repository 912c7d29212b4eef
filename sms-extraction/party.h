/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Counter-party text: where a captured name ends and how it is tidied. Party
 * templates capture greedily from where the grammar says a name starts ("to",
 * "at", "from", "by", "UPI/.../"); the end is found here, in one pass, at the
 * first stop word of the regex artifact (on, via, ref, avl, ...), sentence
 * end, list punctuation or a date. Doing this in C instead of a lazy regex
 * with a look-ahead at every character is what keeps party extraction cheap.
 */
#ifndef SMSX_PARTY_H
#define SMSX_PARTY_H

#include <stddef.h>

#include "sms-extraction/patterns.h"
#include "sms-extraction/vocab.h"

/* Length of the name at the start of text[0, len): cut at the first stop. */
size_t party_cut(const struct patterns *p, const char *text, size_t len);

/*
 * Tidy a party in place (cap bytes): underscores to spaces, leading/trailing
 * punctuation and known prefixes removed, a VPA reduced to its local part (or
 * its label from the vocabulary). Empties it when it is not a name.
 */
void party_clean(const struct patterns *p, const struct vocab *v, char *party, size_t cap);

#endif
