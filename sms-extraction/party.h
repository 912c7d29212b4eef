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

#include <stdbool.h>
#include <stddef.h>

#include "sms-extraction/patterns.h"
#include "sms-extraction/vocab.h"

/* Length of the name at the start of text[0, len): cut at the first stop. */
size_t party_cut(const struct patterns *p, const char *text, size_t len);

/*
 * The text at the start of text[0, len) reads like a bank narration: a field
 * separator ('/', '*', '|') in its first word, or a rail word followed by one
 * ("UPI-<ref>-<name>", "NEFT Cr-<ifsc>-<name>").
 */
bool party_narration_like(const struct patterns *p, const char *text, size_t len);

/*
 * The name field of the narration at text[0, len) in [*start, *end): rails,
 * references, IFSC and bank codes skipped; after a "To"/"From" label the
 * field that suits direction (1 debit, 2 credit, 0 none) wins. False when no
 * field is a name.
 */
bool party_narration(const struct patterns *p, const char *text, size_t len, int direction,
                     size_t *start, size_t *end);

/*
 * Tidy a party in place: underscores to spaces, leading/trailing punctuation,
 * known prefixes and a bank sign-off glued on removed, a VPA reduced to its
 * local part. Empties it when it is not a name: the user's own masked
 * account, an e-mail address, a card, account (unless accounts: the template
 * names a payee's account) or bank phrase, rails only.
 */
void party_clean(const struct patterns *p, char *party, bool accounts);
#endif
