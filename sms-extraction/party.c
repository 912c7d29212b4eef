/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Counter-party boundaries and tidying (see party.h). The stop words, the
 * prefixes to strip and the words that are never a party all come from the
 * regex artifact; this file only knows the shape of a sentence: where a word
 * starts, what ends a clause, what a date looks like.
 */
#include "sms-extraction/party.h"
#include "sms-extraction/ascii.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Bytes that end a party wherever they occur (NUL too, as strchr counted it). */
static const unsigned char ends_party[256] = {
    [','] = 1, [';'] = 1, ['('] = 1, [')'] = 1,  ['['] = 1,  [']'] = 1,
    ['"'] = 1, ['<'] = 1, ['>'] = 1, ['\n'] = 1, ['\r'] = 1, ['\0'] = 1,
};

/* Punctuation stripped from the start of a party, and from its end. */
static const unsigned char lead_junk[256] = {
    [' '] = 1, ['.'] = 1, [':'] = 1, ['-'] = 1, ['*'] = 1, ['/'] = 1, [','] = 1, [';'] = 1,
};
static const unsigned char tail_junk[256] = {
    [' '] = 1, ['.'] = 1, [','] = 1, [';'] = 1, [':'] = 1,
    ['-'] = 1, ['_'] = 1, ['('] = 1, ['/'] = 1, ['*'] = 1,
};

static bool is_word_char(char c)
{
    return ascii_alnum((unsigned char)c) != 0;
}

/* A stop word (or phrase) of the artifact starts at text[i] and ends at a word boundary. */
static bool stop_word_at(const struct patterns *p, const char *text, size_t len, size_t i)
{
    unsigned char first = ascii_lower((unsigned char)text[i]);
    if (!p->party_stop_first[first])
        return false;
    for (size_t k = 0; p->party_stop_words && p->party_stop_words[k]; k++) {
        const char *w = p->party_stop_words[k];
        if ((unsigned char)w[0] != first)
            continue;
        size_t n = p->party_stop_lens[k];
        if (i + n <= len && strncasecmp(text + i, w, n) == 0 &&
            (i + n == len || !is_word_char(text[i + n])))
            return true;
    }
    return false;
}

/* "12-", "3/", "10:" : a date or time begins at text[i]. */
static bool date_at(const char *text, size_t len, size_t i)
{
    size_t k = i;
    while (k < len && k < i + 2 && ascii_digit((unsigned char)text[k]))
        k++;
    return k > i && k + 1 < len && strchr("-/:", text[k]) &&
           ascii_digit((unsigned char)text[k + 1]);
}

/* A '-' that introduces the sender's sign-off ("-South Indian Bank", "- Axis Bank"). */
static bool bank_signoff_at(const char *text, size_t len, size_t i)
{
    size_t end = i + 28 < len ? i + 28 : len;
    for (size_t k = i + 1; k + 4 <= end; k++)
        if ((text[k] | 0x20) == 'b' && strncasecmp(text + k, "bank", 4) == 0)
            return true;
    return false;
}

static bool dot_ends(const char *text, size_t len, size_t i)
{
    if (i + 1 >= len || ascii_space((unsigned char)text[i + 1]))
        return true;
    /* ".Ref", ".Avl": a new sentence glued on; "amazon.in" stays whole only as a VPA */
    return ascii_alpha((unsigned char)text[i + 1]) && i + 2 < len &&
           ascii_alpha((unsigned char)text[i + 2]);
}

size_t party_cut(const struct patterns *p, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (ends_party[(unsigned char)c])
            return i;
        if (c == '.' && dot_ends(text, len, i))
            return i;
        if (c == '/' && !(i + 1 < len && (text[i + 1] == 'c' || text[i + 1] == 'C') &&
                          (i + 2 == len || !is_word_char(text[i + 2]))))
            return i;
        if (c == '-' && bank_signoff_at(text, len, i))
            return i;
        if (ascii_space((unsigned char)c)) {
            size_t j = i;
            while (j < len && ascii_space((unsigned char)text[j]))
                j++;
            if (j < len && (stop_word_at(p, text, len, j) || date_at(text, len, j)))
                return i;
            if (j < len && text[j] == '-' && bank_signoff_at(text, len, j))
                return i;
        }
    }
    return len;
}

static bool strip_prefix_ci(char *s, const char *prefix)
{
    if (ascii_lower((unsigned char)*s) != ascii_lower((unsigned char)*prefix))
        return false;
    size_t n = strlen(prefix);
    if (strncasecmp(s, prefix, n) != 0)
        return false;
    memmove(s, s + n, strlen(s + n) + 1);
    return true;
}

static bool in_list_ci(char *const *list, const char *s)
{
    int first = ascii_lower((unsigned char)*s);
    for (; list && *list; list++)
        if (ascii_lower((unsigned char)(*list)[0]) == first && strcasecmp(*list, s) == 0)
            return true;
    return false;
}

static bool all_digits(const char *s)
{
    size_t n = 0;
    for (; *s; s++, n++)
        if (!ascii_digit((unsigned char)*s) && *s != '.' && *s != ',')
            return false;
    return n > 0;
}

void party_clean(const struct patterns *p, const struct vocab *v, char *party, size_t cap)
{
    for (char *c = party; *c; c++)
        if (*c == '_')
            *c = ' ';
    bool again = true;
    while (again) {
        again = false;
        while (lead_junk[(unsigned char)*party]) {
            memmove(party, party + 1, strlen(party));
            again = true;
        }
        for (char **x = p->party_strip_prefixes; x && *x; x++)
            again |= strip_prefix_ci(party, *x);
    }
    char *at = strchr(party, '@');
    if (at && at != party) {
        *at = '\0';
        const char *label = vocab_vpa_label(v, party, strlen(party));
        if (label)
            snprintf(party, cap, "%s", label);
    }
    size_t n = strlen(party);
    while (n > 0 && tail_junk[(unsigned char)party[n - 1]])
        party[--n] = '\0';
    if (n < 2 || in_list_ci(p->party_reject, party) || (all_digits(party) && n < 8))
        party[0] = '\0';
}
