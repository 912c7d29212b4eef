/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared JSON scanner: strings in place and unescaped (every escape,
 * surrogate pairs, UTF-8 kept), what it refuses (control characters, \u0000,
 * lone surrogates, invalid UTF-8, numbers off the grammar), numbers by kind,
 * skipping nested values with a depth limit, and the output area it makes on
 * demand. The callers' agreement with jansson is fuzzed (fuzz_extract_request,
 * fuzz_extraction_reply); these pin the pieces by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/json_scan.h"

#include <math.h>
#include <string.h>

/* One string of text (the whole input), or NULL when refused. */
static const char *string_of(const char *text, bool copy, size_t *len, struct json_scan *s)
{
    const char *str = NULL;

    json_scan_init(s, text, strlen(text));
    return json_scan_string(s, copy, &str, len) ? str : NULL;
}

static void test_strings(void **state)
{
    static const char in_place[] = "  \"plain caf\xc3\xa9 \xe2\x82\xb9 5\" ,";
    struct json_scan s;
    const char *str;
    size_t len;
    (void)state;

    /* no escape: read in place, nothing allocated */
    str = string_of(in_place, false, &len, &s);
    assert_ptr_equal(str, in_place + 3);
    assert_int_equal(len, 17); /* "plain caf" 9, e-acute 2, space, rupee sign 3, " 5" */
    assert_null(s.owned);
    assert_true(json_scan_eat(&s, ','));
    json_scan_free(&s);
    /* escapes: decoded into the area made on demand, NUL-terminated */
    str = string_of("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"", false, &len, &s);
    assert_non_null(str);
    assert_int_equal(len, 18); /* 12 one-byte characters, e-acute 2, the emoji 4 */
    assert_memory_equal(str, "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80", 19);
    assert_non_null(s.owned);
    json_scan_free(&s);
    /* an escape after a long plain run: the area made on demand holds the whole string
     * (it was sized from the escape on and overflowed; fuzz_extraction_reply found it) */
    {
        char text[400];

        text[0] = '"';
        memset(text + 1, 'a', 300);
        memcpy(text + 301, "\\n\"", 4);
        json_scan_init(&s, text, 304);
        assert_true(json_scan_string(&s, false, &str, &len));
        assert_int_equal(len, 301);
        assert_int_equal(str[300], '\n');
        json_scan_free(&s);
    }
    /* copy: into the caller's area even without escapes, one after the other */
    {
        char area[64];
        const char *a, *b;
        size_t la, lb;

        json_scan_init_out(&s, "\"one\" \"two\"", 11, area, sizeof(area));
        assert_true(json_scan_string(&s, true, &a, &la));
        assert_true(json_scan_string(&s, true, &b, &lb));
        assert_string_equal(a, "one");
        assert_string_equal(b, "two");
        assert_ptr_equal(a, area);
        assert_ptr_equal(b, area + 4);
        assert_true(json_scan_done(&s));
    }
    /* refused: control character, \u0000, lone surrogates, bad escape, invalid or overlong
     * UTF-8, an encoded surrogate, no closing quote */
    static const char *const bad[] = {
        "\"a\tb\"",           "\"a\\u0000\"",     "\"\\ud800\"", "\"\\udc00x\"",
        "\"\\ud800\\u0041\"", "\"\\x\"",          "\"\\u12\"",   "\"\xff\"",
        "\"\xc0\xaf\"",       "\"\xed\xa0\x80\"", "\"open",      "x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (string_of(bad[i], false, &len, &s))
            fail_msg("accepted %s", bad[i]);
        json_scan_free(&s);
    }
}

static void test_numbers(void **state)
{
    struct json_scan s;
    struct json_scan_num n;
    (void)state;

    json_scan_init(&s, "-1234]", 6);
    assert_true(json_scan_number(&s, true, &n));
    assert_true(n.is_int);
    assert_false(n.exponent);
    assert_int_equal(n.integer, -1234);
    assert_true(n.value == -1234.0);
    assert_true(json_scan_eat(&s, ']'));

    json_scan_init(&s, "1250.75,", 8);
    assert_true(json_scan_number(&s, true, &n));
    assert_false(n.is_int);
    assert_false(n.exponent);
    assert_true(n.value == 1250.75);

    json_scan_init(&s, "2.5E+3 ", 7);
    assert_true(json_scan_number(&s, true, &n));
    assert_true(n.exponent);
    assert_true(n.value == 2500.0);

    /* 19 digits: no long long, an exponent in all but name */
    json_scan_init(&s, "1234567890123456789", 19);
    assert_true(json_scan_number(&s, false, &n));
    assert_false(n.is_int);
    assert_true(n.exponent);

    /* off the grammar, or not finite */
    static const char *const bad[] = {"+1", "01", ".5", "1.", "1e", "-", "1e999", "--1", "x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_scan_init(&s, bad[i], strlen(bad[i]));
        if (json_scan_number(&s, true, &n) && s.p == s.end)
            fail_msg("accepted %s", bad[i]);
    }
}

static void test_skip(void **state)
{
    static const char doc[] = "{\"a\":[1,2.5,true,false,null,\"x\\\"y\",{\"b\":{}}],\"c\":[]} ,";
    char deep[200];
    struct json_scan s;
    (void)state;

    json_scan_init(&s, doc, strlen(doc));
    assert_true(json_scan_skip(&s, 4)); /* {"a":[{"b":{}}]} nests four levels */
    assert_true(json_scan_eat(&s, ','));
    json_scan_free(&s);
    json_scan_init(&s, doc, strlen(doc));
    assert_false(json_scan_skip(&s, 3));
    json_scan_free(&s);
    /* numbers jansson may read differently are left to it */
    json_scan_init(&s, "[1e5]", 5);
    assert_false(json_scan_skip(&s, 4));
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    json_scan_init(&s, deep, sizeof(deep));
    assert_false(json_scan_skip(&s, 64));
    json_scan_init(&s, deep, sizeof(deep));
    assert_true(json_scan_skip(&s, 100));
    assert_true(json_scan_done(&s));
    json_scan_init(&s, " null true", 10);
    assert_true(json_scan_null(&s));
    json_scan_ws(&s);
    assert_true(json_scan_literal(&s, "true"));
    assert_false(json_scan_literal(&s, "true"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_skip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
