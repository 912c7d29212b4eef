/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for cnt_sms_threshold (insights-api/admission.c,
 * admission_check_threshold): pydantic's lax int, read from whatever a
 * client sends. The first byte picks how the rest is used: as JSON text (the
 * member's value, read as the API reads bodies: jansson, again with integers
 * as reals when one is too large) or as the bytes of a string value. Any
 * input must give at most one detail item and, without one, a threshold in
 * 1..max; a string must be accepted exactly when the reference below (the
 * rules pydantic-core follows, written independently of admission.c: code
 * points, a pattern) accepts it, with the same value.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/validation.h"
#include "insights-api/admission.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX 5000

/* Rust's char::is_whitespace: Unicode White_Space. */
static bool is_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000;
}

/* Valid UTF-8 (jansson checked it) to code points with their byte offsets; returns the count. */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp, size_t *at)
{
    size_t k = 0;

    for (size_t i = 0; i < n; k++) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        uint32_t v = len == 1 ? c : c & (0x3f >> (len - 1));

        for (size_t j = 1; j < len; j++)
            v = (v << 6) | (s[i + j] & 0x3f);
        cp[k] = v;
        at[k] = i;
        i += len;
    }
    at[k] = n;
    return k;
}

enum outcome { REF_OK, REF_PARSING, REF_SIZE, REF_NEGATIVE };

/* The reference: trim, then ^[+-]?D+(_D+)*(\.0+)?$ with D an ASCII digit. */
static enum outcome reference(const unsigned char *s, size_t n, long *threshold)
{
    uint32_t *cp = malloc((n + 1) * sizeof(*cp));
    size_t *at = malloc((n + 1) * sizeof(*at));
    size_t k = decode(s, n, cp, at), a = 0, b = k, digits = 0;
    char value[20] = "";
    bool neg = false, big = false;
    enum outcome out = REF_PARSING;
    int state = 0; /* 0 start, 1 sign, 2 digit, 3 underscore, 4 point, 5 zeros */

    while (a < b && is_space(cp[a]))
        a++;
    while (b > a && is_space(cp[b - 1]))
        b--;
    if (at[b] - at[a] > 4300) {
        out = REF_SIZE;
        goto done;
    }
    for (size_t i = a; i < b; i++) {
        uint32_t c = cp[i];
        bool digit = c >= '0' && c <= '9';

        if (state == 0 && (c == '+' || c == '-')) {
            neg = c == '-';
            state = 1;
        } else if (digit && state <= 3) {
            if (digits > 0 || c != '0') { /* leading zeros do not count */
                if (digits < sizeof(value) - 1)
                    value[digits] = (char)c;
                digits++;
            }
            state = 2;
        } else if (c == '_' && state == 2) {
            state = 3;
        } else if (c == '.' && state == 2) {
            state = 4;
        } else if (c == '0' && state >= 4) {
            state = 5;
        } else {
            goto done;
        }
    }
    if (state != 2 && state != 5)
        goto done;
    big = digits > 17;
    value[digits < sizeof(value) ? digits : sizeof(value) - 1] = '\0';
    if (neg && digits > 0) {
        out = REF_NEGATIVE;
        goto done;
    }
    long v = big ? MAX : (digits ? strtol(value, NULL, 10) : 0);
    *threshold = v > 0 && v < MAX ? v : MAX;
    out = REF_OK;
done:
    free(cp);
    free(at);
    return out;
}

static json_t *value_of(const uint8_t *data, size_t size)
{
    json_t *v;

    if (data[0] & 1)
        return json_stringn((const char *)data + 1, size - 1); /* NULL: not UTF-8 */
    v = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, NULL);
    if (!v)
        v = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL,
                       NULL);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct validation v;
    struct api_ask ask = {0};
    json_t *root, *t;
    const char *type;
    long want = 0;

    if (size < 1 || !(t = value_of(data, size)))
        return 0;
    root = json_object();
    json_object_set_new(root, "cnt_sms_threshold", t);
    validation_init(&v, 10);
    admission_check_threshold(&v, root, &ask, MAX);
    if (json_array_size(v.list) > 1)
        abort();
    type = json_string_value(json_object_get(json_array_get(v.list, 0), "type"));
    if (!type && (ask.threshold < 1 || ask.threshold > MAX))
        abort();
    if (json_is_string(t)) {
        enum outcome r =
            reference((const unsigned char *)json_string_value(t), json_string_length(t), &want);
        const char *expect_type = r == REF_PARSING    ? "int_parsing"
                                  : r == REF_SIZE     ? "int_parsing_size"
                                  : r == REF_NEGATIVE ? "greater_than_equal"
                                                      : NULL;

        if ((expect_type == NULL) != (type == NULL) || (type && strcmp(type, expect_type) != 0) ||
            (!type && ask.threshold != want))
            abort();
    }
    json_decref(v.list);
    json_decref(root);
    return 0;
}
