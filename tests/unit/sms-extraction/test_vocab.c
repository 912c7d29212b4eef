/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vocabulary's body scan (vocab_scan) below the engine: its two paths
 * (sixteen bytes at a time with SSE2 where the build has it, and the portable
 * one every build has) give the same lower-cased body and the same trigger
 * hits on the same bytes; and its branch-free word table holds more trigger
 * words than the shipped rules have.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/file.h"
#include "sms-extraction/vocab.h"

/* Trigger words the bodies below are made of, and the words the shipped symbols stand for. */
static const char *const words[] = {"rs",
                                    "inr",
                                    "debited",
                                    "credited",
                                    "upi",
                                    "a",
                                    "atsign",
                                    "usd",
                                    "lbracket",
                                    "dashdash",
                                    "lparen",
                                    "semicolon",
                                    "transferredtoyouraccount"};

/* Bytes the random bodies are drawn from: letters of both cases, digits, every byte a shipped
   symbol starts with or holds (the rupee sign is e2 82 b9), other bytes >= 0x80, punctuation. */
static const unsigned char alphabet[] =
    "aAbBcCdDeErRsSiInNuUpPzZ019 .,/:-$@[;(~\x80\xc3\xe2\x82\xb9\xff";

static uint32_t next_random(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 16;
}

/* A body of len bytes: random bytes, runs of trigger words, whole rupee signs. */
static void random_body(unsigned char *body, size_t len, uint32_t *seed)
{
    size_t i = 0;
    while (i < len) {
        uint32_t r = next_random(seed) % 10;
        const char *w = words[next_random(seed) % (sizeof(words) / sizeof(words[0]))];
        if (r == 0 && i + strlen(w) <= len) {
            for (size_t k = 0; w[k]; k++) /* upper case now and then */
                body[i++] = (unsigned char)(next_random(seed) % 4 ? w[k] : w[k] - 32);
        } else if (r == 1 && i + 3 <= len) {
            memcpy(body + i, "\xe2\x82\xb9", 3);
            i += 3;
        } else {
            body[i++] = alphabet[next_random(seed) % (sizeof(alphabet) - 1)];
        }
    }
}

static void same_hits(const struct vocab_hits *a, const struct vocab_hits *b)
{
    assert_memory_equal(&a->present, &b->present, sizeof(a->present));
    assert_int_equal(a->n_occ, b->n_occ);
    assert_int_equal(a->occ_overflow, b->occ_overflow);
    for (uint32_t k = 0; k < a->n_occ && k < VOCAB_MAX_OCCURRENCES; k++) {
        assert_int_equal(a->occ[k].at, b->occ[k].at);
        assert_int_equal(a->occ[k].bit, b->occ[k].bit);
    }
    for (unsigned bit = 0; bit < VOCAB_MAX_TRIGGERS; bit++)
        if ((a->present.w[bit / 64] >> (bit % 64)) & 1)
            assert_int_equal(a->first[bit], b->first[bit]);
}

/*
 * The shipped vocabulary's symbols with the words above as triggers; every
 * length 0..300 (all 16- and 8-byte remainders, the 64-byte bitmap words)
 * and 20 bodies per length: the two paths agree byte for byte and hit for hit.
 */
static void test_scan_paths_agree(void **state)
{
    struct vocab *v = NULL;
    struct vocab_mask mask = {0};
    size_t vlen;
    char err[256];
    static unsigned char body[512];
    static char wide_lower[512 + VOCAB_SCAN_SLACK], portable_lower[512 + VOCAB_SCAN_SLACK];
    struct vocab_hits *wide = calloc(1, sizeof(*wide)), *portable = calloc(1, sizeof(*portable));
    uint32_t seed = 7;
    size_t hits = 0;
    (void)state;
    assert_non_null(wide);
    assert_non_null(portable);
    char *json = file_read("sms-extraction/rules/vocabulary.json", 0, &vlen, NULL, 0);
    assert_non_null(json);
    assert_int_equal(vocab_load(json, vlen, &v, err, sizeof(err)), 0);
    json_t *list = json_array();
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
        json_array_append_new(list, json_string(words[k]));
    assert_int_equal(vocab_add_triggers(v, list, &mask, err, sizeof(err)), 0);
    for (size_t len = 0; len <= 300; len++) {
        for (int round = 0; round < 20; round++) {
            random_body(body, len, &seed);
            vocab_scan_portable(v, false);
            vocab_scan(v, (const char *)body, len, wide_lower, wide);
            vocab_scan_portable(v, true);
            vocab_scan(v, (const char *)body, len, portable_lower, portable);
            assert_memory_equal(wide_lower, portable_lower, len + 1);
            same_hits(wide, portable);
            hits += wide->n_occ;
        }
    }
    assert_true(hits > 10000); /* the bodies did hold trigger words and symbols */
    json_decref(list);
    vocab_free(v);
    free(json);
    free(wide);
    free(portable);
}

/*
 * The scan's branch-free word table (two slots per word, cuckoo placement)
 * holds as many short trigger words as the rules have and more: 440 distinct
 * words of 2-15 letters (the shipped rules have about 380), all found.
 */
static void test_fast_table(void **state)
{
    static const char json[] = "{\"format\":1,\"version\":\"t\",\"entities\":[],\"keywords\":{}}";
    struct vocab *v = NULL;
    struct vocab_mask mask = {0};
    struct vocab_hits *hits = calloc(1, sizeof(*hits));
    char err[256], word[16], body[64], lower[64 + VOCAB_SCAN_SLACK];
    uint32_t seed = 12345;
    (void)state;
    assert_non_null(hits);
    assert_int_equal(vocab_load(json, strlen(json), &v, err, sizeof(err)), 0);
    json_t *list = json_array();
    while (json_array_size(list) < 440) {
        size_t len = 2 + next_random(&seed) % 14;
        for (size_t k = 0; k < len; k++)
            word[k] = (char)('a' + next_random(&seed) % 26);
        word[len] = '\0';
        json_array_append_new(list, json_string(word));
    }
    assert_int_equal(vocab_add_triggers(v, list, &mask, err, sizeof(err)), 0);
    assert_true(vocab_fast_scan(v));
    size_t i;
    json_t *w;
    json_array_foreach(list, i, w)
    {
        struct vocab_mask one = {0};
        json_t *just = json_pack("[O]", w);
        assert_int_equal(vocab_add_triggers(v, just, &one, err, sizeof(err)), 0); /* known */
        int n = snprintf(body, sizeof(body), "Dear %s, ok", json_string_value(w));
        vocab_scan(v, body, (size_t)n, lower, hits);
        assert_true(vocab_mask_all(&one, &hits->present));
        json_decref(just);
    }
    json_decref(list);
    vocab_free(v);
    free(hits);
}

/*
 * The scan marks only the symbols some pattern reads (their word is a trigger), so a
 * symbol whose word becomes a trigger after the vocabulary loaded (the rules register
 * their triggers after it) must be found from then on, on both paths, where it stands,
 * and its bytes consumed ("---" holds one "--"). Before the word is a trigger nothing
 * is marked.
 */
static void test_symbol_registered_late(void **state)
{
    static const char json[] = "{\"format\":1,\"version\":\"t\",\"entities\":[],\"keywords\":{},"
                               "\"symbols\":{\"--\":\"dashdash\",\"@\":\"atsign\"}}";
    static const char body[] = "Rs 500--Rent 05-11-26 a@b x---y";
    struct vocab *v = NULL;
    struct vocab_mask dash = {0}, at = {0};
    struct vocab_hits *hits = calloc(1, sizeof(*hits));
    char err[256], lower[sizeof(body) + VOCAB_SCAN_SLACK];
    (void)state;
    assert_non_null(hits);
    assert_int_equal(vocab_load(json, strlen(json), &v, err, sizeof(err)), 0);
    for (int portable = 0; portable < 2; portable++) {
        vocab_scan_portable(v, portable);
        vocab_scan(v, body, strlen(body), lower, hits);
        assert_int_equal(hits->n_occ, 0);
    }
    json_t *list = json_pack("[s]", "dashdash");
    assert_int_equal(vocab_add_triggers(v, list, &dash, err, sizeof(err)), 0);
    json_decref(list);
    for (int portable = 0; portable < 2; portable++) {
        vocab_scan_portable(v, portable);
        vocab_scan(v, body, strlen(body), lower, hits);
        assert_true(vocab_mask_all(&dash, &hits->present));
        assert_int_equal(hits->n_occ, 2); /* "500--" and the first two of "---" */
        assert_int_equal(hits->occ[0].at, 6);
        assert_int_equal(hits->occ[1].at, 27);
    }
    list = json_pack("[s]", "atsign");
    assert_int_equal(vocab_add_triggers(v, list, &at, err, sizeof(err)), 0);
    json_decref(list);
    vocab_scan(v, body, strlen(body), lower, hits);
    assert_true(vocab_mask_all(&at, &hits->present));
    assert_int_equal(hits->n_occ, 3);
    assert_int_equal(hits->occ[1].at, 23);
    vocab_free(v);
    free(hits);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_paths_agree),
        cmocka_unit_test(test_fast_table),
        cmocka_unit_test(test_symbol_registered_late),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
