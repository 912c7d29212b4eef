/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The writer's output must always be valid JSON that round-trips: escaping
 * of quotes, backslashes and every control character, UTF-8 passed through,
 * invalid UTF-8 replaced, commas placed by the writer, misuse and the size
 * cap reported, numbers exact. jansson is the independent judge.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/json_writer.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *parse(struct json_writer *w)
{
    size_t len;
    const char *text = json_writer_data(w, &len);
    json_error_t e;
    json_t *v;

    assert_true(json_writer_ok(w));
    assert_int_equal(strlen(text), len);
    v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v)
        fail_msg("invalid JSON '%s': %s", text, e.text);
    return v;
}

static void test_structure(void **state)
{
    struct json_writer w;
    (void)state;

    json_writer_init(&w, 0);
    json_writer_object_begin(&w);
    json_writer_kv_string(&w, "a", "x");
    json_writer_kv_int(&w, "b", -42);
    json_writer_kv_bool(&w, "c", false);
    json_writer_kv_null(&w, "d");
    json_writer_key(&w, "e");
    json_writer_array_begin(&w);
    json_writer_uint(&w, 18446744073709551615ull);
    json_writer_string(&w, NULL);
    json_writer_object_begin(&w);
    json_writer_object_end(&w);
    json_writer_array_begin(&w);
    json_writer_array_end(&w);
    json_writer_array_end(&w);
    json_writer_key(&w, "f");
    json_writer_raw(&w, "{\"r\":1}", 7);
    json_writer_object_end(&w);
    assert_string_equal(json_writer_data(&w, NULL),
                        "{\"a\":\"x\",\"b\":-42,\"c\":false,\"d\":null,"
                        "\"e\":[18446744073709551615,null,{},[]],\"f\":{\"r\":1}}");
    json_writer_free(&w);
}

static void test_escaping(void **state)
{
    struct json_writer w;
    char all_controls[33];
    (void)state;

    for (int i = 1; i < 32; i++)
        all_controls[i - 1] = (char)i;
    all_controls[31] = '"';
    all_controls[32] = '\0';
    json_writer_init(&w, 0);
    json_writer_array_begin(&w);
    json_writer_string(&w, all_controls);
    json_writer_string(&w, "back\\slash \"quoted\" /");
    json_writer_string_len(&w, "nul\0inside", 10);
    json_writer_array_end(&w);
    json_t *v = parse(&w);
    assert_string_equal(json_string_value(json_array_get(v, 0)), all_controls);
    assert_string_equal(json_string_value(json_array_get(v, 1)), "back\\slash \"quoted\" /");
    assert_int_equal(json_string_length(json_array_get(v, 2)), 10);
    assert_memory_equal(json_string_value(json_array_get(v, 2)), "nul\0inside", 10);
    json_decref(v);
    /* short escapes where JSON has them */
    json_writer_reset(&w);
    json_writer_string(&w, "\n\t\r\b\f\x01");
    assert_string_equal(json_writer_data(&w, NULL), "\"\\n\\t\\r\\b\\f\\u0001\"");
    json_writer_free(&w);
}

static void test_utf8(void **state)
{
    struct json_writer w;
    const char *good = "\u20b9 500 debited \u0930\u0941\u092a\u092f\u0947 \U0001F600";
    (void)state;

    json_writer_init(&w, 0);
    json_writer_string(&w, good);
    /* passed through byte for byte, not \u-escaped */
    assert_int_equal(json_writer_data(&w, NULL)[1], good[0]);
    json_t *v = parse(&w);
    assert_string_equal(json_string_value(v), good);
    json_decref(v);

    /* invalid: lone continuation, truncated sequence, overlong, surrogate */
    json_writer_reset(&w);
    json_writer_string(&w, "a\x80"
                           "b\xe2\x82"
                           "c\xc0\xaf"
                           "d\xed\xa0\x80");
    v = parse(&w);
    const char *s = json_string_value(v);
    assert_non_null(strstr(s, "\xef\xbf\xbd")); /* U+FFFD */
    assert_int_equal(s[0], 'a');
    json_decref(v);
    json_writer_free(&w);
}

static void test_numbers(void **state)
{
    struct json_writer w;
    const double values[] = {0.1, -2.5e-10, 123456789.125, 1e300, 3.0};
    (void)state;

    json_writer_init(&w, 0);
    json_writer_array_begin(&w);
    for (size_t i = 0; i < 5; i++)
        json_writer_double(&w, values[i]);
    json_writer_double(&w, NAN);
    json_writer_double(&w, INFINITY);
    json_writer_int(&w, -9223372036854775807LL - 1);
    json_writer_array_end(&w);
    json_t *v = parse(&w);
    for (size_t i = 0; i < 5; i++)
        assert_true(json_number_value(json_array_get(v, i)) == values[i]);
    assert_true(json_is_null(json_array_get(v, 5)));
    assert_true(json_is_null(json_array_get(v, 6)));
    assert_true(json_integer_value(json_array_get(v, 7)) == INT64_MIN);
    json_decref(v);
    json_writer_free(&w);
}

static void test_misuse_is_sticky(void **state)
{
    struct json_writer w;
    (void)state;

    json_writer_init(&w, 0);
    json_writer_object_begin(&w);
    json_writer_int(&w, 1); /* value without key */
    assert_int_equal(json_writer_status(&w), JSON_WRITER_MISUSE);
    json_writer_object_end(&w);
    assert_false(json_writer_ok(&w));

    json_writer_reset(&w);
    json_writer_array_begin(&w);
    json_writer_object_end(&w); /* wrong closer */
    assert_int_equal(json_writer_status(&w), JSON_WRITER_MISUSE);

    json_writer_reset(&w);
    json_writer_array_begin(&w);
    assert_false(json_writer_ok(&w)); /* unclosed */

    json_writer_reset(&w);
    for (int i = 0; i <= JSON_WRITER_MAX_DEPTH; i++)
        json_writer_array_begin(&w);
    assert_int_equal(json_writer_status(&w), JSON_WRITER_MISUSE);

    json_writer_reset(&w);
    json_writer_int(&w, 1);
    json_writer_int(&w, 2); /* two top-level values */
    assert_int_equal(json_writer_status(&w), JSON_WRITER_MISUSE);
    json_writer_free(&w);
}

static void test_cap_and_take(void **state)
{
    struct json_writer w;
    char big[100];
    size_t len;
    (void)state;

    memset(big, 'y', sizeof(big) - 1);
    big[99] = '\0';
    json_writer_init(&w, 64);
    json_writer_array_begin(&w);
    json_writer_string(&w, big);
    json_writer_array_end(&w);
    assert_int_equal(json_writer_status(&w), JSON_WRITER_TOO_LARGE);
    assert_true(json_writer_data(&w, &len) != NULL);
    assert_true(len <= 64);

    json_writer_reset(&w);
    json_writer_string(&w, "ok");
    char *out = json_writer_take(&w, &len);
    assert_string_equal(out, "\"ok\"");
    assert_int_equal(len, 4);
    free(out);
    assert_string_equal(json_writer_data(&w, &len), "");
    assert_int_equal(len, 0);
    /* grows past the initial allocation */
    json_writer_free(&w);
    json_writer_init(&w, 0);
    json_writer_array_begin(&w);
    for (int i = 0; i < 5000; i++)
        json_writer_string(&w, "abcdefgh");
    json_writer_array_end(&w);
    json_t *v = parse(&w);
    assert_int_equal(json_array_size(v), 5000);
    json_decref(v);
    json_writer_free(&w);
}

/*
 * The escaping rules written out independently (RFC 8259 short escapes,
 * other controls as \u00XX, valid UTF-8 as it is, each byte of an invalid
 * sequence as \ufffd), one byte at a time.
 */
static size_t ref_utf8(const unsigned char *s, size_t n)
{
    static const struct {
        unsigned char lo, hi; /* lead byte range */
        size_t len;
        unsigned char lo2, hi2; /* second byte range */
    } forms[] = {
        {0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF}, {0xE1, 0xEC, 3, 0x80, 0xBF},
        {0xED, 0xED, 3, 0x80, 0x9F}, {0xEE, 0xEF, 3, 0x80, 0xBF}, {0xF0, 0xF0, 4, 0x90, 0xBF},
        {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F},
    };
    for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
        if (s[0] < forms[f].lo || s[0] > forms[f].hi)
            continue;
        if (n < forms[f].len || s[1] < forms[f].lo2 || s[1] > forms[f].hi2)
            return 0;
        for (size_t i = 2; i < forms[f].len; i++)
            if (s[i] < 0x80 || s[i] > 0xBF)
                return 0;
        return forms[f].len;
    }
    return 0;
}

static size_t ref_escape(const unsigned char *s, size_t n, char *out)
{
    char *p = out, *end = out + 6 * n + 2;

    *p++ = '"';
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t seq;

        if (c == '"' || c == '\\') {
            p += snprintf(p, (size_t)(end - p), "\\%c", c);
        } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
            p += snprintf(p, (size_t)(end - p), "\\%c",
                          c == '\n'   ? 'n'
                          : c == '\r' ? 'r'
                          : c == '\t' ? 't'
                          : c == '\b' ? 'b'
                                      : 'f');
        } else if (c < 0x20) {
            p += snprintf(p, (size_t)(end - p), "\\u%04x", c);
        } else if (c < 0x80) {
            *p++ = (char)c;
        } else if ((seq = ref_utf8(s + i, n - i)) != 0) {
            memcpy(p, s + i, seq);
            p += seq;
            i += seq;
            continue;
        } else {
            p += snprintf(p, (size_t)(end - p), "\\ufffd");
        }
        i++;
    }
    *p++ = '"';
    return (size_t)(p - out);
}

/* Every byte value alone and in random strings of every length 0..40 (the word-at-a-time
 * copy's boundaries), from an alphabet heavy in plain text, escapes and UTF-8 pieces: the
 * writer's bytes are the reference's, through json_writer_string_len and json_put_string. */
static void test_escaping_against_reference(void **state)
{
    static const unsigned char alphabet[] =
        "abcXYZ 09/\"\\\x01\x1f\x7f\n\t\x80\xbf\xc2\xa0\xe2\x82\xb9"
        "\xed\xa0\xf0\x9f\x98\x80\xf4\x90\xff";
    unsigned char in[48];
    char want[48 * 6 + 2], got[48 * 6 + 2 + 8];
    struct json_writer w;
    uint32_t seed = 12345;
    (void)state;

    json_writer_init(&w, 0);
    for (int round = 0; round < 256 + 40000; round++) {
        size_t n, want_len, got_len;
        const char *text;

        if (round < 256) {
            in[0] = (unsigned char)round;
            n = 1;
        } else {
            n = (size_t)(round % 41);
            for (size_t i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                in[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
            }
        }
        want_len = ref_escape(in, n, want);
        json_writer_reset(&w);
        json_writer_string_len(&w, (const char *)in, n);
        text = json_writer_data(&w, &got_len);
        if (got_len != want_len || memcmp(text, want, want_len) != 0)
            fail_msg("round %d: writer '%.*s', reference '%.*s'", round, (int)got_len, text,
                     (int)want_len, want);
        memset(got, '#', sizeof(got));
        got_len = (size_t)(json_put_string(got, (const char *)in, n) - got);
        assert_true(got_len <= JSON_STRING_BOUND(n));
        if (got_len != want_len || memcmp(got, want, want_len) != 0)
            fail_msg("round %d: json_put_string '%.*s', reference '%.*s'", round, (int)got_len, got,
                     (int)want_len, want);
    }
    json_writer_free(&w);
}

/* A value written in place: comma placed, room as reserved, the output as if written by
 * the writer's own calls; misuse and the cap reported. */
static void test_reserve_commit(void **state)
{
    struct json_writer w;
    char *p;
    (void)state;

    json_writer_init(&w, 0);
    json_writer_array_begin(&w);
    for (int i = 0; i < 3; i++) {
        p = json_writer_value_reserve(&w, 3 * JSON_NUMBER_BOUND + JSON_STRING_BOUND(4) + 8);
        assert_non_null(p);
        *p++ = '[';
        p = json_put_int(p, -42 - i);
        *p++ = ',';
        p = json_put_double(p, 1250.5);
        *p++ = ',';
        p = json_put_double(p, NAN);
        *p++ = ',';
        p = json_put_string(p, "a\"\n\xff", 4);
        *p++ = ']';
        json_writer_value_commit(&w, p);
    }
    json_writer_int(&w, 7);
    json_writer_array_end(&w);
    assert_string_equal(
        json_writer_data(&w, NULL),
        "[[-42,1250.5,null,\"a\\\"\\n\\ufffd\"],[-43,1250.5,null,\"a\\\"\\n\\ufffd\"],"
        "[-44,1250.5,null,\"a\\\"\\n\\ufffd\"],7]");
    json_writer_free(&w);

    /* more than reserved: misuse */
    json_writer_init(&w, 0);
    p = json_writer_value_reserve(&w, 2);
    assert_non_null(p);
    memcpy(p, "12", 2);
    json_writer_value_commit(&w, p + 3);
    assert_int_equal(json_writer_status(&w), JSON_WRITER_MISUSE);
    /* a commit without a reserve: misuse */
    json_writer_reset(&w);
    json_writer_value_commit(&w, json_writer_data(&w, NULL) + 1);
    assert_int_equal(json_writer_status(&w), JSON_WRITER_MISUSE);
    /* where a key is due: misuse, nothing to write */
    json_writer_reset(&w);
    json_writer_object_begin(&w);
    assert_null(json_writer_value_reserve(&w, 4));
    assert_int_equal(json_writer_status(&w), JSON_WRITER_MISUSE);
    json_writer_free(&w);

    /* past the cap: too large, nothing to write */
    json_writer_init(&w, 16);
    json_writer_array_begin(&w);
    assert_null(json_writer_value_reserve(&w, 16));
    assert_int_equal(json_writer_status(&w), JSON_WRITER_TOO_LARGE);
    json_writer_free(&w);
}

/* Near the cap a string whose worst case (6 bytes a byte) does not fit but whose escaped form
 * does is still written; one byte more is too large. */
static void test_string_near_cap(void **state)
{
    struct json_writer w;
    char s[40];
    size_t len;
    (void)state;

    memset(s, 'x', sizeof(s));
    s[3] = '\n'; /* 2 bytes escaped: 43 with the quotes, 45 in the list */
    json_writer_init(&w, 45);
    json_writer_array_begin(&w);
    json_writer_string_len(&w, s, sizeof(s));
    json_writer_array_end(&w);
    assert_true(json_writer_ok(&w));
    json_writer_data(&w, &len);
    assert_int_equal(len, 45);
    json_writer_free(&w);

    json_writer_init(&w, 44);
    json_writer_array_begin(&w);
    json_writer_string_len(&w, s, sizeof(s));
    json_writer_array_end(&w);
    assert_int_equal(json_writer_status(&w), JSON_WRITER_TOO_LARGE);
    json_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_misuse_is_sticky),
        cmocka_unit_test(test_cap_and_take),
        cmocka_unit_test(test_escaping_against_reference),
        cmocka_unit_test(test_reserve_commit),
        cmocka_unit_test(test_string_near_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
