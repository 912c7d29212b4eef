/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Counter-party boundaries and tidying (see party.h). The stop words, the
 * prefixes to strip, the words that are never a party and the narration
 * vocabulary all come from the regex artifact; this file only knows the
 * shape of a sentence: where a word starts, what ends a clause, what a date
 * looks like, how a bank narration is put together.
 *
 * DESIGN. A party template says where a name starts; the name's end and its
 * validity are decided here, the same way for every template (the name-span
 * model): the span ends at a stop word, a sentence end, list punctuation, a
 * date (also one glued to the name), or a "- <bank>" sign-off; a narration
 * ("UPI/DR/<ref>/<name>/<bank>", "NEFT Cr-<ifsc>-<name>-<ref>",
 * "BIL*ONL*<ref>*<name>", "To:<name>/From:<name>") is split into tokens and
 * its name token chosen (rails, references, IFSC and bank codes skipped);
 * then slot guards refuse what is never a counter-party: the user's own
 * masked account, an e-mail address, a card or account phrase, a bank.
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
    [' '] = 1, ['.'] = 1, [':'] = 1, ['-'] = 1, ['*'] = 1, ['/'] = 1,
    [','] = 1, [';'] = 1, ['"'] = 1, ['#'] = 1, ['='] = 1,
};
static const unsigned char tail_junk[256] = {
    [' '] = 1, ['.'] = 1, [','] = 1, [';'] = 1, [':'] = 1, ['-'] = 1,
    ['_'] = 1, ['('] = 1, ['/'] = 1, ['*'] = 1, ['"'] = 1, ['#'] = 1,
};

/* Separators between the fields of a bank narration. */
static const unsigned char narration_sep[256] = {
    ['/'] = 1, ['*'] = 1, ['|'] = 1, ['\\'] = 1, [':'] = 1, ['-'] = 1,
};

static bool is_word_char(char c)
{
    return ascii_alnum((unsigned char)c) != 0;
}

/*
 * A stop word (or phrase) of the artifact starts at text[i] and ends at a word
 * boundary (a lower-case-only stop word, only when written in lower case).
 */
static bool stop_word_at(const struct patterns *p, const char *text, size_t len, size_t i)
{
    if (!p->party_stop_first[ascii_lower((unsigned char)text[i])])
        return false;
    size_t w = i;
    while (w < len && is_word_char(text[w]))
        w++;
    uint16_t flags = patterns_word_flags(p, text + i, w - i);
    if (flags & PATTERNS_WORD_STOP)
        return true;
    if ((flags & PATTERNS_WORD_STOP_LOWER) && text[i] >= 'a' && text[i] <= 'z')
        return true;
    if (!(flags & PATTERNS_WORD_PHRASE)) /* only phrases need the list ("of rs", "not you") */
        return false;
    for (size_t k = 0; p->party_stop_words && p->party_stop_words[k]; k++) {
        const char *sw = p->party_stop_words[k];
        size_t n = p->party_stop_lens[k];
        if (ascii_lower((unsigned char)sw[0]) != ascii_lower((unsigned char)text[i]))
            continue; /* no strncasecmp for a word of another first letter */
        if (i + n <= len && strncasecmp(text + i, sw, n) == 0 &&
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

static bool month_at(const char *text, size_t len, size_t i)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (i + 3 > len)
        return false;
    for (size_t m = 0; m < 36; m += 3)
        if (ascii_starts_ci(text + i, months + m, 3))
            return true;
    return false;
}

/*
 * A whole date glued to the end of a name ("SHARMA STORES12-05-26",
 * "RAVI KUMAR05MAY26"): one or two digits, then a separator and digits or a
 * month, then two or four digits. Names with digits of their own
 * ("T2 MUM GATE2", "24SEVEN") are not dates.
 */
static bool glued_date_at(const char *text, size_t len, size_t i)
{
    size_t k = i;
    while (k < len && k < i + 2 && ascii_digit((unsigned char)text[k]))
        k++;
    if (k == i || k >= len)
        return false;
    if (strchr("-/.", text[k]) && k + 1 < len && ascii_digit((unsigned char)text[k + 1])) {
        size_t d = k + 1;
        while (d < len && ascii_digit((unsigned char)text[d]))
            d++;
        return d - k - 1 <= 2 && d < len && strchr("-/.", text[d]) && d + 2 < len &&
               ascii_digit((unsigned char)text[d + 1]) && ascii_digit((unsigned char)text[d + 2]);
    }
    if (text[k] == '-' || text[k] == ' ')
        k++;
    return month_at(text, len, k) && k + 5 <= len &&
           (text[k + 3] == '-' || text[k + 3] == ' ' || ascii_digit((unsigned char)text[k + 3]));
}

/* A '-' that introduces the sender's sign-off ("-South Indian Bank", "- Axis Bank"). */
static bool bank_signoff_at(const char *text, size_t len, size_t i)
{
    size_t end = i + 28 < len ? i + 28 : len;
    for (size_t k = i + 1; k + 4 <= end; k++)
        if (ascii_starts_ci(text + k, "bank", 4))
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

/* "a/c", "m/s", "s/o", "w/o", "d/o", "c/o": a slash inside a word, not a field separator. */
static bool slash_in_word(const char *text, size_t len, size_t i)
{
    if (i == 0 || i + 1 >= len || (i >= 2 && is_word_char(text[i - 2])) ||
        (i + 2 < len && is_word_char(text[i + 2])))
        return false;
    char a = (char)ascii_lower((unsigned char)text[i - 1]);
    char b = (char)ascii_lower((unsigned char)text[i + 1]);
    return (a == 'a' && b == 'c') || (a == 'm' && b == 's') || (strchr("swdc", a) && a && b == 'o');
}

/* The end of the name at text[i] when a stop follows the whitespace at i, else 0. */
static bool stop_after_space(const struct patterns *p, const char *text, size_t len, size_t i)
{
    size_t j = i;
    while (j < len && ascii_space((unsigned char)text[j]))
        j++;
    if (j >= len)
        return false;
    return stop_word_at(p, text, len, j) || date_at(text, len, j) ||
           (text[j] == '-' && bank_signoff_at(text, len, j));
}

size_t party_cut(const struct patterns *p, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (ends_party[(unsigned char)c])
            return i;
        if (c == '.' && dot_ends(text, len, i))
            return i;
        if (c == '/' && !slash_in_word(text, len, i))
            return i;
        if (c == '-' && bank_signoff_at(text, len, i))
            return i;
        if (ascii_digit((unsigned char)c) && i > 0 && ascii_alpha((unsigned char)text[i - 1]) &&
            glued_date_at(text, len, i))
            return i;
        if (ascii_space((unsigned char)c) && stop_after_space(p, text, len, i))
            return i;
    }
    return len;
}

/* ---- narrations ---------------------------------------------------------- */

static bool word_is(const struct patterns *p, const char *w, size_t n, uint16_t flags)
{
    return (patterns_word_flags(p, w, n) & flags) != 0;
}

/* Bytes that end a narration wherever they occur (a '.' only before a space or the end). */
static const unsigned char ends_narration[256] = {
    [','] = 1, [';'] = 1, ['('] = 1,  [')'] = 1,  ['['] = 1,
    [']'] = 1, ['"'] = 1, ['\n'] = 1, ['\r'] = 1,
};

/* Where a narration ends: list punctuation, a sentence end, a line end. */
static size_t narration_extent(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (ends_narration[(unsigned char)c])
            return i;
        if (c == '.' && (i + 1 >= len || ascii_space((unsigned char)text[i + 1])))
            return i;
    }
    return len;
}

/*
 * A word that is no part of a name in a narration: a rail, a month name, a
 * short number (flags: the word's patterns_word_flags, looked up once).
 */
static bool noise_word(uint16_t flags, const char *w, size_t n, bool rail_only)
{
    if (n == 0)
        return false;
    if (flags & PATTERNS_WORD_RAIL)
        return true;
    if (rail_only)
        return false;
    if (flags & PATTERNS_WORD_NOISE)
        return true;
    if (n == 3 && month_at(w, n, 0))
        return true;
    bool number = n <= 4;
    for (size_t k = 0; number && k < n; k++)
        number = ascii_digit((unsigned char)w[k]);
    return number;
}

/*
 * "NEFTINWARD", "IMPSCR", "UPIOUT": a rail of 3-4 letters glued to another rail, as the
 * first word [b, w) of a capture. Looked up only when a separator or a reference (six
 * digits or more) follows it, which a name as first word seldom has: the lookups cost.
 */
static bool glued_rails(const struct patterns *p, const char *text, size_t len, size_t b, size_t w)
{
    size_t n = w - b, i = w, digits = 0;
    if (n < 5)
        return false;
    while (i < len && text[i] == ' ')
        i++;
    for (; i < len && ascii_alnum((unsigned char)text[i]); i++)
        digits += ascii_digit((unsigned char)text[i]);
    if (!(w < len && narration_sep[(unsigned char)text[w]]) && digits < 6)
        return false;
    for (size_t k = 3; k <= 4 && k + 2 <= n; k++) {
        if (word_is(p, text + b, k, PATTERNS_WORD_RAIL) &&
            word_is(p, text + b + k, n - k, PATTERNS_WORD_RAIL))
            return true;
    }
    return false;
}

/* Word number `words` [b, w) of a capture that may start with a rail: may it come before the
 * separator? */
static bool rail_word_ok(const struct patterns *p, const char *text, size_t len, size_t b, size_t w,
                         int words, int digits)
{
    uint16_t flags = patterns_word_flags(p, text + b, w - b);
    if (words == 0 && !(flags & PATTERNS_WORD_RAIL) && glued_rails(p, text, len, b, w))
        flags |= PATTERNS_WORD_RAIL;
    bool label = w < len && text[w] == ':'; /* "TXN:" names the narration that follows */
    bool ref = words > 0 && digits >= 6;    /* "<utr>/<name>" after the rail */
    if (!noise_word(flags, text + b, w - b, words == 0) && !ref)
        return false;
    /* "UPI on 26-02-26" is a date after a rail, not a narration */
    return !(words > 0 && (flags & PATTERNS_WORD_NOISE) && !label);
}

/*
 * "UPI-612345678906-SWIGGY", "NEFT Cr-...", "SALARY JUN 26 / ACME", "UPI TXN: /<ref>-...",
 * "NEFTINWARD <utr>/<name>": a rail (two glued rails are one), then only rails, month
 * names, short numbers, one reference or a label and its colon, then a separator.
 */
static bool rail_then_separator(const struct patterns *p, const char *text, size_t len)
{
    size_t w = 0;
    for (int words = 0; w < len && words < 4; words++) {
        size_t b = w;
        int digits = 0;
        for (; w < len && ascii_alnum((unsigned char)text[w]); w++)
            digits += ascii_digit((unsigned char)text[w]);
        if (!rail_word_ok(p, text, len, b, w, words, digits))
            return false;
        while (w < len && text[w] == ' ')
            w++;
        if (w < len && narration_sep[(unsigned char)text[w]])
            return true;
    }
    return false;
}

bool party_narration_like(const struct patterns *p, const char *text, size_t len)
{
    size_t first = 0; /* the first word, up to a space or the end of the clause */
    while (first < len && !ascii_space((unsigned char)text[first]) && text[first] != ',' &&
           text[first] != ';' && text[first] != '(')
        first++;
    for (size_t i = 0; i < first; i++) {
        char c = text[i];
        if ((c == '/' && !slash_in_word(text, first, i)) || c == '*' || c == '|') {
            len = narration_extent(text, len);
            /* a link is not a narration */
            return !memmem(text, len, "://", 3) && !(len >= 4 && strncasecmp(text, "www.", 4) == 0);
        }
    }
    return rail_then_separator(p, text, len);
}

/* One field of a narration: its words, less leading rail words, month names and short numbers. */
struct token {
    size_t s, e; /* the field's name part in text */
    int digits, letters;
    int role; /* 1: it began with a "to" label ("to NAME"), 2: with "from" */
    bool vpa;
};

static void token_trim(const struct patterns *p, const char *text, struct token *t)
{
    while (t->s < t->e && ascii_space((unsigned char)text[t->s]))
        t->s++;
    while (t->e > t->s && (ascii_space((unsigned char)text[t->e - 1]) || text[t->e - 1] == '.'))
        t->e--;
    for (;;) { /* leading words that are rails, months or short numbers ("NEFT Cr", "JUN 26") */
        size_t w = t->s;
        while (w < t->e && !ascii_space((unsigned char)text[w]))
            w++;
        uint16_t flags = patterns_word_flags(p, text + t->s, w - t->s);
        bool to = flags & PATTERNS_WORD_TO;
        if (to || (flags & PATTERNS_WORD_FROM))
            t->role = to ? 1 : 2;
        else if (!noise_word(flags, text + t->s, w - t->s, false))
            break;
        t->s = w;
        while (t->s < t->e && ascii_space((unsigned char)text[t->s]))
            t->s++;
    }
    if (t->s < t->e && !ascii_digit((unsigned char)text[t->s])) /* a name: "NAME Not you? ..." */
        t->e = t->s + party_cut(p, text + t->s, t->e - t->s);
    t->digits = t->letters = 0;
    t->vpa = false;
    for (size_t k = t->s; k < t->e; k++) {
        t->digits += ascii_digit((unsigned char)text[k]);
        t->letters += ascii_alpha((unsigned char)text[k]);
        t->vpa |= text[k] == '@';
    }
}

/* A field that can be a name: letters, few digits, not a code the narration vocabulary skips. */
static bool token_is_name(const struct patterns *p, const char *text, const struct token *t)
{
    /* two letters alone are a code ("<ref>-MR /..."), not a name */
    if (t->letters < 3 || t->digits >= 4 || t->digits * 2 > t->letters)
        return false;
    if (word_is(p, text + t->s, t->e - t->s,
                PATTERNS_WORD_SKIP | PATTERNS_WORD_RAIL | PATTERNS_WORD_NOISE))
        return false;
    bool mask = true; /* "XXXXXXXX": a masked number */
    for (size_t k = t->s; k < t->e && mask; k++)
        mask = strchr("xX*", text[k]) && text[k];
    return !mask;
}

/*
 * The name among the fields of a narration. A field after a "To" label names
 * the payee, after "From" / "By" the payer: a debit takes the first, a credit
 * the second. Failing that, the first name field after a reference (in
 * "UPI/<bank code>/<ref>/<name>" and "NEFT Cr-<ifsc>-<name>" the name follows
 * the reference; a code before it is not the name), else the first name
 * field. A VPA field is taken only when no field is a plain name.
 */
/* The candidate name fields of a narration, by kind; the first of each kind is kept. */
enum pick { PICK_LABELLED, PICK_AFTER_REF, PICK_FIRST, PICK_VPA, PICK_KINDS };

struct picks {
    struct token t[PICK_KINDS];
    bool have[PICK_KINDS];
    bool seen_ref;
    int role; /* 1: after "to", 2: after "from" */
};

static void keep(struct picks *pk, enum pick k, const struct token *t)
{
    if (!pk->have[k]) {
        pk->t[k] = *t;
        pk->have[k] = true;
    }
}

/* One field of the narration, in order, against the picks so far. */
static void consider(const struct patterns *p, const char *text, const struct token *t,
                     int direction, struct picks *pk)
{
    bool name = token_is_name(p, text, t);
    if (!name) {
        pk->seen_ref |= t->digits >= 4;
        pk->role = 0;
        return;
    }
    if (t->vpa) {
        keep(pk, PICK_VPA, t);
        pk->role = 0;
        return;
    }
    if (pk->seen_ref)
        keep(pk, PICK_AFTER_REF, t);
    keep(pk, PICK_FIRST, t);
    int role = t->role ? t->role : pk->role;
    if (role && role == direction)
        keep(pk, PICK_LABELLED, t);
    pk->role = 0;
}

bool party_narration(const struct patterns *p, const char *text, size_t len, int direction,
                     size_t *start, size_t *end)
{
    struct picks pk = {0};
    len = narration_extent(text, len);
    for (size_t i = 0; i < len;) {
        struct token t = {.s = i, .role = 0};
        while (i < len && !narration_sep[(unsigned char)text[i]])
            i++;
        t.e = i++;
        token_trim(p, text, &t);
        if (t.e == t.s && t.role) /* a "To" / "From" label field */
            pk.role = t.role;
        else
            consider(p, text, &t, direction, &pk);
    }
    for (int k = 0; k < PICK_KINDS; k++) {
        if (pk.have[k]) {
            *start = pk.t[k].s;
            *end = pk.t[k].e;
            return true;
        }
    }
    return false;
}

/* ---- tidying and slot guards --------------------------------------------- */

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

static bool all_digits(const char *s)
{
    size_t n = 0;
    for (; *s; s++, n++)
        if (!ascii_digit((unsigned char)*s) && *s != '.' && *s != ',')
            return false;
    return n > 0;
}

/* A reference number glued in front of the name ("612345678906-SWIGGY", "N1234567/RAVI"). */
static void strip_leading_reference(char *party)
{
    size_t i = 0, digits = 0;
    while (is_word_char(party[i])) {
        digits += ascii_digit((unsigned char)party[i]);
        i++;
    }
    if (digits >= 6 && digits * 2 >= i && (party[i] == '-' || party[i] == '/'))
        memmove(party, party + i + 1, strlen(party + i + 1) + 1);
}

/* The first word is a masked account or card number ("XX1234", "xxxxxx9722", "*1234"). */
static bool starts_with_mask(const char *party)
{
    size_t mask = 0, digits = 0, i = 0;
    for (; party[i] && !ascii_space((unsigned char)party[i]); i++) {
        char c = party[i];
        if (c == 'x' || c == 'X' || c == '*' || c == '#')
            mask++;
        else if (ascii_digit((unsigned char)c))
            digits++;
        else if (c != '.' && c != '-')
            return false;
    }
    return mask > 0 && digits >= 2;
}

/* An e-mail address: a local part, '@', and a domain with a dot. */
static bool is_email(const char *party)
{
    const char *at = strchr(party, '@');
    return at && at != party && strchr(at, '.') && !strchr(at, ' ');
}

static bool is_account_word(const char *w, size_t n)
{
    return (n == 3 && ascii_starts_ci(w, "a/c", 3)) || (n == 4 && ascii_starts_ci(w, "acct", 4)) ||
           (n == 7 && ascii_starts_ci(w, "account", 7));
}

/* Words that are no name on their own: a verb, a preposition, a label, a rail, a currency. */
#define NO_NAME_WORD                                                                               \
    (PATTERNS_WORD_RAIL | PATTERNS_WORD_NOISE | PATTERNS_WORD_TO | PATTERNS_WORD_FROM |            \
     PATTERNS_WORD_FUNCTION)

/* A word of no letters: 1 with fewer than 8 digits ("0", "1,234.56", "@"), 2 with more. */
static int number_word(const char *w, size_t n)
{
    size_t digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (ascii_alpha((unsigned char)w[i]))
            return 0;
        digits += ascii_digit((unsigned char)w[i]);
    }
    return digits < 8 ? 1 : 2;
}

/* 1: a word that is no name (a listed word, a short number, a mask); 2: a long number. */
static int no_name_kind(uint16_t flags, const char *w, size_t n)
{
    int number = number_word(w, n);
    if ((flags & NO_NAME_WORD) || number == 1 || starts_with_mask(w))
        return 1;
    return number;
}

/* w[0, n) ends in "bank" and " of " follows: "bank of " in the party (no strcasestr per party). */
static bool word_then_of(const char *w, size_t n)
{
    return n >= 4 && ascii_starts_ci(w + n - 4, "bank", 4) && w[n] == ' ' &&
           ascii_starts_ci(w + n + 1, "of ", 3);
}

/*
 * A phrase about the user's own product, a bank, or only rails: a word of
 * party_reject_words ("your", "card", ...), an account word unless the
 * template names a payee's account ("to A/c xxxx9709"), a name ending in
 * "bank" (maybe "ltd" after it) or holding "bank of", or nothing but words
 * that are no name: rails, verbs, prepositions, labels, numbers, masks
 * ("IMPS Transfer", "credited", "to OTP", "0 INR", "Ref XX1234").
 */
static bool not_a_party(const struct patterns *p, const char *party, bool accounts)
{
    const char *w = party, *last = NULL, *before = NULL;
    size_t words = 0, rails = 0, longs = 0;
    bool own = false; /* a masked account the template may name ("to A/c xxxx9709") */
    bool bank_of = false;
    while (*w) {
        while (*w == ' ')
            w++;
        if (!*w)
            break;
        size_t n = 0;
        while (w[n] && w[n] != ' ')
            n++;
        uint16_t flags = patterns_word_flags(p, w, n);
        if ((flags & PATTERNS_WORD_REJECT) || (!accounts && is_account_word(w, n)))
            return true;
        own |= accounts && starts_with_mask(w);
        int kind = no_name_kind(flags, w, n);
        rails += kind == 1 || (accounts && is_account_word(w, n)); /* "A/c INR" names none */
        longs += kind == 2; /* a phone number alone may name a payee, beside a label not */
        bank_of |= word_then_of(w, n);
        before = last;
        last = w;
        words++;
        w += n;
    }
    if (!last || (!own && rails > 0 && rails + longs == words))
        return true;
    if (words > 5)
        return false;
    bool ends_bank = ascii_starts_ci(last, "bank", 4) && !is_word_char(last[4]);
    bool bank_ltd = before && ascii_starts_ci(before, "bank ", 5) &&
                    (strcasecmp(last, "ltd") == 0 || strcasecmp(last, "limited") == 0 ||
                     strcasecmp(last, "l") == 0 || strcasecmp(last, "ltd.") == 0);
    return ends_bank || bank_ltd || bank_of;
}

void party_clean(const struct patterns *p, char *party, bool accounts)
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
        if (p->strip_first[ascii_lower((unsigned char)*party)])
            for (char **x = p->party_strip_prefixes; x && *x; x++)
                again |= strip_prefix_ci(party, *x);
    }
    strip_leading_reference(party);
    if (starts_with_mask(party) || is_email(party)) {
        party[0] = '\0';
        return;
    }
    char *at = strchr(party, '@');
    if (at && at != party)
        *at = '\0'; /* a VPA: its local part */
    size_t n = strlen(party);
    while (n > 0 && tail_junk[(unsigned char)party[n - 1]])
        party[--n] = '\0';
    size_t bank =
        vocab_bank_suffix(p->vocab, party, n); /* a sign-off glued on: "VARUN K Axis Bank" */
    if (bank && bank < n) {
        n -= bank;
        while (n > 0 && tail_junk[(unsigned char)party[n - 1]])
            n--;
        party[n] = '\0';
    }
    if (n < 2 || word_is(p, party, n, PATTERNS_WORD_WHOLE) || (all_digits(party) && n < 8) ||
        not_a_party(p, party, accounts))
        party[0] = '\0';
}
