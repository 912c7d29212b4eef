/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A one-pass JSON scanner for the two big, flat documents of the project:
 * sms-extraction's batch request and its reply as insights-api reads it.
 * jansson builds a node and a hash table per object for those, only for
 * the caller to read a few members of each and throw the tree away; a
 * scanner reads the bytes once and allocates nothing per member.
 *
 * DESIGN. The scanner is deliberately partial: it accepts only what is
 * valid JSON (RFC 8259 grammar, UTF-8 checked, no \u0000, no lone
 * surrogate) and anything it is unsure of fails, so that each caller falls
 * back to its jansson path, which alone judges malformed input and writes
 * the error. The grammar of a document (which members, in which shape) is
 * the caller's: request_scan.c and extraction_reply.c call the pieces here.
 *
 * Strings. Without escapes a string may be read in place (copy false: a
 * pointer into the input, not NUL-terminated); otherwise, or with copy
 * true, it is decoded into the output area, NUL-terminated, and the area
 * advances. The caller either gives an area (json_scan_init_out: it must
 * hold the rest of the input plus one byte per string, as decoded text is
 * never longer than its source) or lets the scanner allocate one on the
 * first escape (freed by json_scan_free).
 */
#ifndef COMMON_JSON_SCAN_H
#define COMMON_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct json_scan {
    const unsigned char *p, *end; /* what is left to read */
    char *out, *out_end;          /* where decoded strings go */
    char *owned;                  /* the area the scanner allocated, if any */
};

/* A number as read: is_int when it has no fraction or exponent and at most 18 digits. */
struct json_scan_num {
    long long integer; /* when is_int */
    double value;      /* when asked for (strtod of the token) */
    bool is_int;
    bool exponent; /* an exponent or more than 18 integer digits: doubles may not hold it */
};

#define JSON_ONES 0x0101010101010101ULL
#define JSON_HIGHS 0x8080808080808080ULL

/*
 * Whether the 8 bytes of w (as loaded from memory) are all printable ASCII
 * other than '"' and '\\' (message text is mostly that: a word at a time
 * instead of a byte; the scanner's strings and json_writer's both). Each
 * test sets a byte's high bit where the byte is < 0x20, >= 0x80, '"' or
 * '\\' (the classic zero-byte test: exact as to whether any byte matches).
 */
static inline bool json_plain_word(uint64_t w)
{
    uint64_t quote = w ^ (JSON_ONES * '"'), backslash = w ^ (JSON_ONES * '\\');
    uint64_t special = ((w - JSON_ONES * 0x20) & ~w) | ((quote - JSON_ONES) & ~quote) |
                       ((backslash - JSON_ONES) & ~backslash) | w;

    return !(special & JSON_HIGHS);
}

/* Past the plain 8-byte words at q (to end). */
static inline const unsigned char *json_plain_ascii(const unsigned char *q,
                                                    const unsigned char *end)
{
    while (end - q >= 8) {
        uint64_t w;

        memcpy(&w, q, 8);
        if (!json_plain_word(w))
            break;
        q += 8;
    }
    return q;
}

/* Scan text[0..len); decoded strings go to an area allocated on demand. */
void json_scan_init(struct json_scan *s, const char *text, size_t len);

/* Scan text[0..len); decoded strings go to out[0..cap) (see above for the size). */
void json_scan_init_out(struct json_scan *s, const char *text, size_t len, char *out, size_t cap);

/* Frees the area the scanner allocated (not one given with json_scan_init_out). */
void json_scan_free(struct json_scan *s);

/*
 * The small steps below run several times per member of a document, so they
 * are inline here: as calls into json_scan.c they cost the request scan an
 * eighth more instructions (cachegrind, a 1,000-message batch).
 */

/* Skips white space. */
static inline void json_scan_ws(struct json_scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* After white space, c: consumed and true, else false. */
static inline bool json_scan_eat(struct json_scan *s, char c)
{
    json_scan_ws(s);
    if (s->p < s->end && *s->p == (unsigned char)c) {
        s->p++;
        return true;
    }
    return false;
}

/* At the current byte (no white space skipped), word: consumed and true. */
static inline bool json_scan_literal(struct json_scan *s, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* After white space, null: consumed and true. */
static inline bool json_scan_null(struct json_scan *s)
{
    json_scan_ws(s);
    return json_scan_literal(s, "null");
}

/* After white space, a string: *str and *len as described above. */
bool json_scan_string(struct json_scan *s, bool copy, const char **str, size_t *len);

/* At the current byte, a number; value is computed only when want_value. */
bool json_scan_number(struct json_scan *s, bool want_value, struct json_scan_num *n);

/* After white space, any value, containers nested at most depth levels deep; a number with
 * an exponent or more than 18 digits fails (jansson may not read it as a scanner would). */
bool json_scan_skip(struct json_scan *s, int depth);

/* Nothing but white space is left. */
bool json_scan_done(struct json_scan *s);

#endif
