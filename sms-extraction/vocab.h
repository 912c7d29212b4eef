/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vocabulary artifact, compiled: who sent a message (sender header ->
 * entity name and type), named keyword lists the other artifacts use, and
 * the table of trigger words behind the keyword prefilter.
 *
 * DESIGN. Every classification rule and field template names the words that
 * must occur in a body for its regex to be worth running ("any of"). At load
 * each such word gets a bit; per message the lower-cased body is split once
 * into letter runs (found from a bitmap of letters, not byte by byte), each
 * run is looked up without a branch in a two-choice table and its bit set.
 * A rule then costs one mask test before any regex runs, so most regexes are
 * never tried on most messages.
 */
#ifndef SMSX_VOCAB_H
#define SMSX_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define VOCAB_MAX_TRIGGERS 1024
#define VOCAB_MASK_WORDS (VOCAB_MAX_TRIGGERS / 64)
#define VOCAB_MAX_WORD 31

struct vocab_mask {
    uint64_t w[VOCAB_MASK_WORDS];
};

struct vocab_entity {
    const char *name; /* "hdfc bank" */
    const char *type; /* bank, credit_card, wallet, nbfc, ... */
};

struct vocab;

/* Parse the vocabulary JSON. Returns 0, or -1 with err set and *out NULL. */
int vocab_load(const char *json, size_t len, struct vocab **out, char *err, size_t err_len);
void vocab_free(struct vocab *v);
const char *vocab_version(const struct vocab *v);

/*
 * Add the trigger words of a rule to its mask, registering new words. Each
 * item of words is a word (letters only, matched as a whole letter run) or
 * "@list" for every word of a keyword list. Returns 0, or -1 with err set.
 */
int vocab_add_triggers(struct vocab *v, const json_t *words, struct vocab_mask *mask, char *err,
                       size_t err_len);
/*
 * Whether vocab_scan looks words up in its branch-free table; false when the
 * short trigger words did not all fit it and the scan probes a hash table.
 */
bool vocab_fast_scan(const struct vocab *v);
/*
 * With on, vocab_scan takes the portable path (eight bytes at a time, then
 * byte by byte) even where the build has the SSE2 one, which is what a build
 * without SSE2 (arm64) runs: for tests that check both paths agree.
 */
void vocab_scan_portable(struct vocab *v, bool on);

#define VOCAB_MAX_OCCURRENCES 256
#define VOCAB_SCAN_MAX 4096 /* vocab_scan reads at most this many bytes of a body */
#define VOCAB_SCAN_SLACK 16 /* bytes vocab_scan may read past the end of lower's text */

/* The trigger words of one message. */
struct vocab_hits {
    struct vocab_mask present;          /* every trigger word found */
    uint32_t first[VOCAB_MAX_TRIGGERS]; /* offset of each one's first occurrence */
    uint32_t n_occ;                     /* every occurrence, in body order: */
    bool occ_overflow;                  /* more than VOCAB_MAX_OCCURRENCES (occ[] incomplete) */
    struct vocab_occurrence {
        uint32_t at;
        uint16_t bit;
    } occ[VOCAB_MAX_OCCURRENCES];
    /* the occurrences of each word chained in body order (when occ[] is complete):
       first_occ[bit] starts the chain, next_occ[k] follows it, VOCAB_NO_OCC ends it */
    uint16_t first_occ[VOCAB_MAX_TRIGGERS];
    uint16_t next_occ[VOCAB_MAX_OCCURRENCES + 1]; /* + a slot that absorbs unused writes */
    uint16_t last_occ[VOCAB_MAX_TRIGGERS];        /* while chaining */
};

#define VOCAB_NO_OCC UINT16_MAX

/*
 * Lower-case text (ASCII letters only; other bytes kept) into lower, which has
 * room for len + VOCAB_SCAN_SLACK bytes (words are compared 16 bytes at a time), and in the same
 * pass set in hits->present the bit of every trigger word found, hits->first[bit] the offset of its
 * first occurrence (only meaningful where present has the bit) and hits->occ every occurrence.
 * Symbols listed in the vocabulary (e.g. the rupee sign) count as the word they stand for.
 */
void vocab_scan(const struct vocab *v, const char *text, size_t len, char *lower,
                struct vocab_hits *hits);

static inline bool vocab_mask_any(const struct vocab_mask *a, const struct vocab_mask *b)
{
    for (int i = 0; i < VOCAB_MASK_WORDS; i++)
        if (a->w[i] & b->w[i])
            return true;
    return false;
}

/* Every bit of need is set in have. */
static inline bool vocab_mask_all(const struct vocab_mask *need, const struct vocab_mask *have)
{
    for (int i = 0; i < VOCAB_MASK_WORDS; i++)
        if ((need->w[i] & have->w[i]) != need->w[i])
            return false;
    return true;
}

/* The keyword list called name as a JSON array, or NULL. Borrowed. */
const json_t *vocab_keywords(const struct vocab *v, const char *name);
/* The bit of trigger word (a phrase: its first word), -1 when none was registered. */
int vocab_trigger_bit(const struct vocab *v, const char *word);
/* Whether a vocabulary symbol stands for word ("inr" for the rupee sign). */
bool vocab_symbol_word(const struct vocab *v, const char *word);

/* Entity for a header normalised by common/sender.h (exact header first, then longest
 * prefix), or NULL. */
const struct vocab_entity *vocab_sender(const struct vocab *v, const char *normalised);

/* Length of the bank name (an entity of type bank) that text[0, len) ends with, or 0. */
size_t vocab_bank_suffix(const struct vocab *v, const char *text, size_t len);

#endif
