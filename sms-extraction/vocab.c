/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Vocabulary artifact: sender headers to entities, keyword lists, VPA labels
 * and the trigger-word table that lets the engine skip regexes cheaply.
 * Lookups are hash tables built once at load; the per-message work is one
 * pass over the body (vocab_scan) and one or two header lookups. The scan is
 * a fifth of an extraction's time, so it is written to keep the branch
 * predictor out of it: measured, its misses cost more than the arithmetic.
 */
#include "sms-extraction/vocab.h"

#include "common/sender.h"
#include "sms-extraction/ascii.h"
#include "sms-extraction/rulefile.h"

#include <ctype.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TRIGGER_SLOTS 4096 /* power of two, > 2 * VOCAB_MAX_TRIGGERS */
#define FAST_SLOTS 1024    /* power of two: the two-choice table of words up to FAST_MAX */
#define FAST_MAX 15        /* letters; a word this short fits a 16-byte key with its NUL */
#define FAST_SEEDS 64      /* placements tried before the fast table is given up */
#define HEADER_MAX 64
#define SYMBOL_BYTES_MAX 8 /* distinct first bytes of symbols the 16-byte scan compares */

struct header_entry {
    char *header;
    size_t len;
    int entity;
};

struct vocab_symbol {
    char *bytes; /* e.g. the UTF-8 rupee sign */
    size_t len;
    int bit; /* trigger bit of the word it stands for, -1 until registered */
    char *word;
};

struct vocab {
    json_t *root; /* keeps keyword lists alive */
    char *version;
    struct vocab_entity *entities;
    char **entity_strings; /* owned copies of names and types */
    size_t n_entities, n_strings;
    const char **banks; /* names of the entities of type bank (borrowed), and their lengths */
    size_t *bank_lens, n_banks;
    struct header_entry *headers; /* exact headers, open addressing */
    size_t header_slots;
    struct header_entry *prefixes; /* longest first */
    size_t n_prefixes;
    struct vocab_symbol *symbols;
    size_t n_symbols;
    /* 1 when a symbol whose word some pattern triggers on starts with this byte: the scan
       marks no byte for a symbol nothing reads (a dash, while no pattern asks for "--") */
    unsigned char symbol_first[256];
    /* per byte, 1 + the first symbol (in artifact order) starting with it, 0 for none; per
       symbol, 1 + the next one with the same first byte */
    uint32_t symbol_chain[256];
    uint32_t *symbol_next;
    /* each such byte 16 times, for the 16-byte scan */
    unsigned char symbol_splat[SYMBOL_BYTES_MAX][16];
    bool scan16;     /* the symbols' first bytes fit symbol_splat: the 16-byte scan */
    bool scan16_off; /* vocab_scan_portable: the portable scan only */
    char words[VOCAB_MAX_TRIGGERS][VOCAB_MAX_WORD + 1];
    size_t n_words;
    uint16_t slots[TRIGGER_SLOTS]; /* word index + 1, 0 = empty */
    /*
     * The scan's table: each trigger word of up to FAST_MAX letters, as a
     * zero-padded 16-byte key, sits in one of two slots its hash picks
     * (cuckoo placement at load). A letter run is looked up by comparing
     * both slots at once, without a branch: which runs are trigger words is
     * a coin toss for the branch predictor, and its misses were most of the
     * scan's cost. An empty slot is all zero and equals no run.
     */
    struct fast_slot {
        uint64_t k0, k1;
    } fast[FAST_SLOTS];
    uint16_t fast_idx[FAST_SLOTS];
    uint64_t fast_seed;
    bool fast_off; /* no placement found (more words than the table holds): slow path only */
};

static uint32_t hash_bytes(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Trigger-word hash from the length and three letters: O(1) per word while scanning. */
static inline uint32_t word_hash(const char *w, size_t len)
{
    return ((uint32_t)(unsigned char)w[0] * 131u + (uint32_t)(unsigned char)w[len - 1] * 31u +
            (uint32_t)(unsigned char)w[len / 2] * 7u + (uint32_t)len * 1009u) *
               2654435761u >>
           20;
}

/* Bytes of a run kept by its length: masks[len] for the two halves of a 16-byte key. */
static uint64_t run_mask(size_t len, int half)
{
    size_t bytes = half == 0 ? (len < 8 ? len : 8) : (len > 8 ? len - 8 : 0);
    return bytes >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * bytes)) - 1;
}

static inline uint64_t fast_hash(uint64_t k0, uint64_t k1, uint64_t seed)
{
    uint64_t h = (k0 ^ seed) * UINT64_C(0x9E3779B97F4A7C15);
    h ^= (k1 + seed) * UINT64_C(0xC2B2AE3D27D4EB4F);
    return h ^ (h >> 31);
}

static inline size_t fast_slot_a(uint64_t h)
{
    return (size_t)h & (FAST_SLOTS - 1);
}

static inline size_t fast_slot_b(uint64_t h)
{
    return (size_t)(h >> 40) & (FAST_SLOTS - 1);
}

/*
 * Cuckoo placement of one key; false when it keeps evicting (try another
 * seed). A key evicted from one of its slots moves to its other slot (taking
 * the slot it came from again would evict the key just placed there).
 */
static bool fast_insert(struct vocab *v, struct fast_slot key, uint16_t idx)
{
    size_t from = FAST_SLOTS; /* the slot the key in hand was evicted from */
    for (int kick = 0; kick < 4 * FAST_SLOTS; kick++) {
        uint64_t h = fast_hash(key.k0, key.k1, v->fast_seed);
        size_t a = fast_slot_a(h), b = fast_slot_b(h);
        size_t at = !v->fast[a].k0 ? a : !v->fast[b].k0 ? b : a == from ? b : a;
        from = at;
        struct fast_slot out = v->fast[at];
        uint16_t out_idx = v->fast_idx[at];
        v->fast[at] = key;
        v->fast_idx[at] = idx;
        if (!out.k0)
            return true;
        key = out;
        idx = out_idx;
    }
    return false;
}

static struct fast_slot fast_key(const char *w, size_t len)
{
    char buf[16] = {0};
    struct fast_slot k;
    memcpy(buf, w, len);
    memcpy(&k.k0, buf, 8);
    memcpy(&k.k1, buf + 8, 8);
    return k;
}

/* Place every short word again, trying seeds until all fit. */
static void fast_rebuild(struct vocab *v)
{
    for (int tries = 0; tries < FAST_SEEDS; tries++) {
        bool ok = true;
        memset(v->fast, 0, sizeof(v->fast));
        memset(v->fast_idx, 0, sizeof(v->fast_idx));
        for (size_t i = 0; i < v->n_words && ok; i++) {
            size_t len = strlen(v->words[i]);
            if (len <= FAST_MAX)
                ok = fast_insert(v, fast_key(v->words[i], len), (uint16_t)i);
        }
        if (ok)
            return;
        v->fast_seed += UINT64_C(0x632BE59BD9B4E019);
    }
    v->fast_off = true;
}

static void symbol_splats(struct vocab *v);

static int find_word(const struct vocab *v, const char *w, size_t len)
{
    uint32_t i = word_hash(w, len) & (TRIGGER_SLOTS - 1);
    while (v->slots[i]) {
        const char *cand = v->words[v->slots[i] - 1];
        if (strlen(cand) == len && memcmp(cand, w, len) == 0)
            return v->slots[i] - 1;
        i = (i + 1) & (TRIGGER_SLOTS - 1);
    }
    return -1;
}

static int add_word(struct vocab *v, const char *w, char *err, size_t err_len)
{
    size_t len = strlen(w);
    if (len == 0 || len > VOCAB_MAX_WORD) {
        snprintf(err, err_len, "trigger word '%.40s' must be 1-%d letters", w, VOCAB_MAX_WORD);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (w[i] < 'a' || w[i] > 'z') {
            snprintf(err, err_len, "trigger word '%.40s' must be lower-case letters only", w);
            return -1;
        }
    }
    int found = find_word(v, w, len);
    if (found >= 0)
        return found;
    if (v->n_words >= VOCAB_MAX_TRIGGERS) {
        snprintf(err, err_len, "more than %d distinct trigger words", VOCAB_MAX_TRIGGERS);
        return -1;
    }
    memcpy(v->words[v->n_words], w, len + 1);
    uint32_t i = word_hash(w, len) & (TRIGGER_SLOTS - 1);
    while (v->slots[i])
        i = (i + 1) & (TRIGGER_SLOTS - 1);
    v->slots[i] = (uint16_t)(v->n_words + 1);
    bool symbol_word = false;
    for (size_t k = 0; k < v->n_symbols; k++)
        if (strcmp(v->symbols[k].word, w) == 0) {
            v->symbols[k].bit = (int)v->n_words;
            v->symbol_first[(unsigned char)v->symbols[k].bytes[0]] = 1;
            symbol_word = true;
        }
    if (symbol_word)
        symbol_splats(v);
    int idx = (int)v->n_words++;
    if (len <= FAST_MAX && !v->fast_off && !fast_insert(v, fast_key(w, len), (uint16_t)idx))
        fast_rebuild(v);
    return idx;
}

void vocab_scan_portable(struct vocab *v, bool on)
{
    v->scan16_off = on;
}

bool vocab_fast_scan(const struct vocab *v)
{
    return !v->fast_off;
}

/* A phrase triggers on its first word, its leading lower-case letters: into buf
   (VOCAB_MAX_WORD + 1 bytes), returning their count, 0 when w starts otherwise. */
static size_t trigger_head(const char *w, char *buf)
{
    size_t n = 0;

    while (w[n] >= 'a' && w[n] <= 'z' && n < VOCAB_MAX_WORD) {
        buf[n] = w[n];
        n++;
    }
    buf[n] = '\0';
    return n;
}

int vocab_trigger_bit(const struct vocab *v, const char *word)
{
    char buf[VOCAB_MAX_WORD + 1];
    size_t n = trigger_head(word, buf);

    return n ? find_word(v, buf, n) : -1;
}

int vocab_add_triggers(struct vocab *v, const json_t *words, struct vocab_mask *mask, char *err,
                       size_t err_len)
{
    size_t i;
    const json_t *item;

    if (!json_is_array(words)) {
        snprintf(err, err_len, "triggers must be an array of words");
        return -1;
    }
    json_array_foreach(words, i, item)
    {
        const char *w = json_string_value(item);
        if (!w) {
            snprintf(err, err_len, "trigger %zu is not a string", i);
            return -1;
        }
        if (w[0] == '@') {
            const json_t *list = vocab_keywords(v, w + 1);
            if (!list) {
                snprintf(err, err_len, "unknown keyword list '%.40s'", w + 1);
                return -1;
            }
            if (vocab_add_triggers(v, list, mask, err, err_len) < 0)
                return -1;
            continue;
        }
        char buf[VOCAB_MAX_WORD + 1];
        if (trigger_head(w, buf) == 0) {
            snprintf(err, err_len, "trigger '%.40s' must start with a lower-case letter", w);
            return -1;
        }
        int bit = add_word(v, buf, err, err_len);
        if (bit < 0)
            return -1;
        mask->w[bit / 64] |= UINT64_C(1) << (bit % 64);
    }
    return 0;
}

/*
 * Record an occurrence of word idx at offset at when hit is 1 (present,
 * first[] on its first occurrence, occ[]); hit 0 leaves all as it was. No
 * branch on the outcome: the fast lookup passes whether it found the word.
 */
static inline void mark_if(struct vocab_hits *h, unsigned idx, size_t at, uint64_t hit)
{
    uint64_t bit = hit << (idx % 64);
    uint64_t was = h->present.w[idx / 64];
    uint32_t old = h->first[idx];
    bool keep = (was & bit) || !hit;
    h->first[idx] = keep ? old : (uint32_t)at;
    h->present.w[idx / 64] = was | bit;
    if (h->n_occ < VOCAB_MAX_OCCURRENCES) {
        h->occ[h->n_occ].at = (uint32_t)at;
        h->occ[h->n_occ].bit = (uint16_t)idx;
        h->n_occ += (uint32_t)hit;
    } else {
        h->occ_overflow |= hit != 0;
    }
}

/* The run w[0, wl) (1 <= wl <= FAST_MAX; 16 bytes readable) in the fast table. */
static inline void lookup_short(const struct vocab *v, const char *w, size_t wl,
                                struct vocab_hits *h, size_t start)
{
    uint64_t k0, k1;
    memcpy(&k0, w, 8);
    memcpy(&k1, w + 8, 8);
    k0 &= run_mask(wl, 0);
    k1 &= run_mask(wl, 1);
    uint64_t hash = fast_hash(k0, k1, v->fast_seed);
    size_t a = fast_slot_a(hash), b = fast_slot_b(hash);
    uint64_t in_a = (v->fast[a].k0 == k0) & (v->fast[a].k1 == k1);
    uint64_t in_b = (v->fast[b].k0 == k0) & (v->fast[b].k1 == k1);
    unsigned idx_a = v->fast_idx[a], idx_b = v->fast_idx[b];
    unsigned idx = idx_b ^ ((idx_a ^ idx_b) & (0u - (unsigned)in_a)); /* no branch */
    mark_if(h, idx, start, in_a | in_b);
}

/* Symbol sym at s (its first byte already equal: the chains go by first byte), at most avail
   bytes there. Symbols are 1-4 bytes, and most bytes that start one (a dash in a date) fail
   at the second: an inline compare, not a memcmp call per dash. */
static inline bool symbol_at(const struct vocab_symbol *sym, const char *s, size_t avail)
{
    if (sym->len > avail)
        return false;
    for (size_t i = 1; i < sym->len; i++)
        if (s[i] != sym->bytes[i])
            return false;
    return true;
}

static size_t scan_symbol(const struct vocab *v, const char *s, size_t len, struct vocab_hits *h,
                          size_t at)
{
    for (uint32_t k = v->symbol_chain[(unsigned char)s[at]]; k; k = v->symbol_next[k - 1]) {
        const struct vocab_symbol *sym = &v->symbols[k - 1];
        if (sym->bit >= 0 && symbol_at(sym, s + at, len - at)) {
            mark_if(h, (unsigned)sym->bit, at, 1);
            return sym->len;
        }
    }
    return 1;
}

/* Record the run w[0, wl) at offset start in h when it is a trigger word. */
static inline void lookup_word(const struct vocab *v, const char *w, size_t wl,
                               struct vocab_hits *h, size_t start)
{
    uint32_t s = word_hash(w, wl) & (TRIGGER_SLOTS - 1);
    while (v->slots[s]) {
        int idx = v->slots[s] - 1;
        const char *cand = v->words[idx];
        if (cand[wl] == '\0') {
            size_t k = 0;
            while (k < wl && cand[k] == w[k])
                k++;
            if (k == wl) {
                mark_if(h, (unsigned)idx, start, 1);
                return;
            }
        }
        s = (s + 1) & (TRIGGER_SLOTS - 1);
    }
}

#define HIGH_BITS UINT64_C(0x8080808080808080)

#ifdef __SSE2__
_Static_assert(SYMBOL_BYTES_MAX == 8, "lower_and_classify16 compares eight rows");

/* The bytes of x equal to row k of symbol_splat (0xff), the others 0. */
static inline __m128i symbol_eq(const struct vocab *v, __m128i x, size_t k)
{
    return _mm_cmpeq_epi8(x, _mm_loadu_si128((const __m128i *)(const void *)v->symbol_splat[k]));
}

/*
 * lower_and_classify sixteen bytes at a time (SSE2, which every x86-64 has):
 * the same lower-casing and the same two bitmaps, the marks from one compare
 * per distinct first byte of the symbols instead of a table read per byte.
 * The bits not yet stored stay in *lacc and *macc; returns how far it got.
 */
static size_t lower_and_classify16(const struct vocab *v, const unsigned char *t, size_t len,
                                   char *lower, uint64_t *letters, uint64_t *marks, uint64_t *lacc,
                                   uint64_t *macc)
{
    const __m128i before_a = _mm_set1_epi8('A' - 1), after_z = _mm_set1_epi8('Z' + 1);
    const __m128i before_la = _mm_set1_epi8('a' - 1), after_lz = _mm_set1_epi8('z' + 1);
    const __m128i case_bit = _mm_set1_epi8(0x20);
    size_t i = 0;

    for (; i + 16 <= len; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
        /* signed compares: bytes >= 0x80 are negative, neither capitals nor letters */
        __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(x, before_a), _mm_cmpgt_epi8(after_z, x));
        x = _mm_or_si128(x, _mm_and_si128(upper, case_bit));
        _mm_storeu_si128((__m128i *)(void *)(lower + i), x);
        __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(x, before_la), _mm_cmpgt_epi8(after_lz, x));
        __m128i mark =
            _mm_or_si128(_mm_or_si128(_mm_or_si128(symbol_eq(v, x, 0), symbol_eq(v, x, 1)),
                                      _mm_or_si128(symbol_eq(v, x, 2), symbol_eq(v, x, 3))),
                         _mm_or_si128(_mm_or_si128(symbol_eq(v, x, 4), symbol_eq(v, x, 5)),
                                      _mm_or_si128(symbol_eq(v, x, 6), symbol_eq(v, x, 7))));
        *lacc |= (uint64_t)(uint16_t)_mm_movemask_epi8(letter) << (i % 64);
        *macc |= (uint64_t)(uint16_t)_mm_movemask_epi8(mark) << (i % 64);
        if (i % 64 == 48) {
            letters[i / 64] = *lacc;
            marks[i / 64] = *macc;
            *lacc = *macc = 0;
        }
    }
    return i;
}
#endif

/*
 * The body lower-cased into lower (ASCII capitals only) and, in the same
 * eight-bytes-at-a-time pass, two bitmaps over its bytes: letters (bit i set
 * when byte i is a-z after lowering; the top bits of the eight byte tests
 * gathered with one multiply) and marks (bit i set when byte i may start a
 * symbol, from the byte table). Bits gather in registers, one store per 64
 * bytes: nothing here branches on the text.
 */
static void lower_and_classify(const struct vocab *v, const unsigned char *t, size_t len,
                               char *lower, uint64_t *letters, uint64_t *marks)
{
    const unsigned char *sym = v->symbol_first;
    uint64_t lacc = 0, macc = 0;
    size_t i = 0;

#ifdef __SSE2__
    if (v->scan16 && !v->scan16_off)
        i = lower_and_classify16(v, t, len, lower, letters, marks, &lacc, &macc);
#endif
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, t + i, 8);
        uint64_t seven = x & ~HIGH_BITS;
        uint64_t from_a = seven + UINT64_C(0x3f3f3f3f3f3f3f3f); /* top bit: byte >= 'A' */
        uint64_t past_z = seven + UINT64_C(0x2525252525252525); /* top bit: byte > 'Z' */
        x |= (from_a & ~past_z & ~x & HIGH_BITS) >> 2;
        memcpy(lower + i, &x, 8);
        seven = x & ~HIGH_BITS;
        uint64_t ge_a = seven + UINT64_C(0x1f1f1f1f1f1f1f1f); /* top bit: byte >= 'a' */
        uint64_t gt_z = seven + UINT64_C(0x0505050505050505); /* top bit: byte > 'z' */
        uint64_t top = (ge_a & ~gt_z & ~x & HIGH_BITS) >> 7;
        const unsigned char *b = (const unsigned char *)lower + i;
        uint64_t s = (uint64_t)(sym[b[0]] | sym[b[1]] << 1 | sym[b[2]] << 2 | sym[b[3]] << 3 |
                                sym[b[4]] << 4 | sym[b[5]] << 5 | sym[b[6]] << 6 | sym[b[7]] << 7);
        lacc |= ((top * UINT64_C(0x0102040810204080)) >> 56) << (i % 64);
        macc |= s << (i % 64);
        if (i % 64 == 56) {
            letters[i / 64] = lacc;
            marks[i / 64] = macc;
            lacc = macc = 0;
        }
    }
    for (; i < len; i++) {
        unsigned char c = t[i] >= 'A' && t[i] <= 'Z' ? (unsigned char)(t[i] + ('a' - 'A')) : t[i];
        lower[i] = (char)c;
        lacc |= (uint64_t)(c >= 'a' && c <= 'z') << (i % 64);
        macc |= (uint64_t)sym[c] << (i % 64);
        if (i % 64 == 63) {
            letters[i / 64] = lacc;
            marks[i / 64] = macc;
            lacc = macc = 0;
        }
    }
    letters[len / 64] = lacc;
    marks[len / 64] = macc;
    lower[len] = '\0';
}

/* Offset of the first non-letter at or after at (there is one: bit len is clear). */
static inline size_t run_end(const uint64_t *letters, size_t at)
{
    size_t k = at / 64;
    uint64_t rest = ~letters[k] >> (at % 64);
    if (rest)
        return at + (size_t)__builtin_ctzll(rest);
    for (k++; !~letters[k]; k++)
        ;
    return k * 64 + (size_t)__builtin_ctzll(~letters[k]);
}

/*
 * Chain each word's occurrences so that an "each"-anchored pattern visits
 * only its own words' occurrences, not every occurrence of the message.
 * Without a branch on whether an occurrence is its word's first (the one
 * at first[bit]): a later one links from the previous, a first one writes
 * to the spare slot.
 */
static void chain_occurrences(struct vocab_hits *h)
{
    for (uint32_t k = 0; k < h->n_occ; k++) {
        unsigned bit = h->occ[k].bit;
        bool first = h->occ[k].at == h->first[bit];
        h->next_occ[k] = VOCAB_NO_OCC;
        h->next_occ[first ? VOCAB_MAX_OCCURRENCES : h->last_occ[bit]] = (uint16_t)k;
        h->first_occ[bit] = first ? (uint16_t)k : h->first_occ[bit];
        h->last_occ[bit] = (uint16_t)k;
    }
}

/*
 * Visits, in body order, each letter run (looked up as a word) and each byte
 * that may start a symbol, found from the two bitmaps: no loop over a word's
 * letters, whose exit the branch predictor missed at the end of every word.
 * A matched symbol's bytes are consumed (no other symbol starts inside it;
 * symbols hold no letters, so words are unaffected).
 */
void vocab_scan(const struct vocab *v, const char *text, size_t len, char *lower,
                struct vocab_hits *h)
{
    uint64_t letters[VOCAB_SCAN_MAX / 64 + 1], marks[VOCAB_SCAN_MAX / 64 + 1];
    size_t consumed = 0;

    if (len > VOCAB_SCAN_MAX)
        len = VOCAB_SCAN_MAX;
    memset(&h->present, 0, sizeof(h->present));
    h->n_occ = 0;
    h->occ_overflow = false;
    lower_and_classify(v, (const unsigned char *)text, len, lower, letters, marks);
    for (size_t k = 0; k <= len / 64; k++) {
        uint64_t before = k ? letters[k - 1] >> 63 : 0;
        uint64_t starts = letters[k] & ~((letters[k] << 1) | before);
        uint64_t events = starts | marks[k];
        while (events) {
            unsigned b = (unsigned)__builtin_ctzll(events);
            size_t at = k * 64 + b;
            events &= events - 1;
            if (!(starts & (UINT64_C(1) << b))) {
                if (at >= consumed)
                    consumed = at + scan_symbol(v, lower, at + 4 < len ? at + 4 : len, h, at);
                continue;
            }
            size_t wl = run_end(letters, at) - at;
            if (wl <= FAST_MAX && !v->fast_off)
                lookup_short(v, lower + at, wl, h, at);
            else if (wl <= VOCAB_MAX_WORD)
                lookup_word(v, lower + at, wl, h, at);
        }
    }
    if (!h->occ_overflow)
        chain_occurrences(h);
}

bool vocab_symbol_word(const struct vocab *v, const char *word)
{
    for (size_t i = 0; i < v->n_symbols; i++)
        if (strcmp(v->symbols[i].word, word) == 0)
            return true;
    return false;
}

const json_t *vocab_keywords(const struct vocab *v, const char *name)
{
    const json_t *lists = json_object_get(v->root, "keywords");
    const json_t *list = lists ? json_object_get(lists, name) : NULL;
    return json_is_array(list) ? list : NULL;
}

static const struct header_entry *find_header(const struct vocab *v, const char *h)
{
    if (!v->header_slots)
        return NULL;
    size_t len = strlen(h);
    size_t i = hash_bytes(h, len) & (v->header_slots - 1);
    while (v->headers[i].header) {
        if (strcmp(v->headers[i].header, h) == 0)
            return &v->headers[i];
        i = (i + 1) & (v->header_slots - 1);
    }
    return NULL;
}

const struct vocab_entity *vocab_sender(const struct vocab *v, const char *normalised)
{
    if (!normalised || !*normalised)
        return NULL;
    const struct header_entry *e = find_header(v, normalised);
    if (e)
        return &v->entities[e->entity];
    for (size_t i = 0; i < v->n_prefixes; i++) {
        const char *p = v->prefixes[i].header;
        if (strncmp(normalised, p, v->prefixes[i].len) == 0)
            return &v->entities[v->prefixes[i].entity];
    }
    return NULL;
}

size_t vocab_bank_suffix(const struct vocab *v, const char *text, size_t len)
{
    /* every bank name the suffix can be ends in "bank" or "india": test that first */
    if (len < 4 || (!ascii_starts_ci(text + len - 4, "bank", 4) &&
                    (len < 5 || !ascii_starts_ci(text + len - 5, "india", 5))))
        return 0;
    for (size_t i = 0; i < v->n_banks; i++) {
        size_t n = v->bank_lens[i];
        if (n <= len && strncasecmp(text + len - n, v->banks[i], n) == 0 &&
            (n == len || text[len - n - 1] == ' '))
            return n;
    }
    return 0;
}

static int insert_header(struct vocab *v, const char *h, int entity, char *err, size_t err_len)
{
    if (find_header(v, h)) {
        snprintf(err, err_len, "sender header '%.40s' listed twice", h);
        return -1;
    }
    size_t i = hash_bytes(h, strlen(h)) & (v->header_slots - 1);
    while (v->headers[i].header)
        i = (i + 1) & (v->header_slots - 1);
    v->headers[i].header = rulefile_strdup(h);
    v->headers[i].entity = entity;
    return 0;
}

static int cmp_prefix_len(const void *a, const void *b)
{
    size_t la = strlen(((const struct header_entry *)a)->header);
    size_t lb = strlen(((const struct header_entry *)b)->header);
    return la < lb ? 1 : la > lb ? -1 : 0;
}

static int load_entity(struct vocab *v, const json_t *e, size_t idx, char *err, size_t err_len)
{
    const char *name = json_string_value(json_object_get(e, "name"));
    const char *type = json_string_value(json_object_get(e, "type"));
    const json_t *headers = json_object_get(e, "headers");
    const json_t *prefixes = json_object_get(e, "prefixes");
    size_t i;
    const json_t *h;

    if (!name || !type || !json_is_array(headers)) {
        snprintf(err, err_len, "entity %zu needs name, type and headers", idx);
        return -1;
    }
    v->entity_strings[v->n_strings++] = rulefile_strdup(name);
    v->entities[idx].name = v->entity_strings[v->n_strings - 1];
    v->entity_strings[v->n_strings++] = rulefile_strdup(type);
    v->entities[idx].type = v->entity_strings[v->n_strings - 1];
    json_array_foreach(headers, i, h)
    {
        char norm[HEADER_MAX];
        const char *s = json_string_value(h);
        if (!s) {
            snprintf(err, err_len, "entity '%.40s': header %zu is not a string", name, i);
            return -1;
        }
        sender_normalise(s, strlen(s), norm, sizeof(norm));
        if (insert_header(v, norm, (int)idx, err, err_len) < 0)
            return -1;
    }
    json_array_foreach(prefixes, i, h)
    {
        const char *s = json_string_value(h);
        if (!s || !*s) {
            snprintf(err, err_len, "entity '%.40s': prefix %zu is not a string", name, i);
            return -1;
        }
        v->prefixes[v->n_prefixes].header = rulefile_strdup(s);
        v->prefixes[v->n_prefixes].len = strlen(s);
        v->prefixes[v->n_prefixes].entity = (int)idx;
        v->n_prefixes++;
    }
    return 0;
}

static int load_entities(struct vocab *v, const json_t *arr, char *err, size_t err_len)
{
    size_t i, n_headers = 0, n_prefixes = 0;
    const json_t *e;

    if (!json_is_array(arr)) {
        snprintf(err, err_len, "'entities' must be an array");
        return -1;
    }
    json_array_foreach(arr, i, e)
    {
        n_headers += json_array_size(json_object_get(e, "headers"));
        n_prefixes += json_array_size(json_object_get(e, "prefixes"));
    }
    v->n_entities = json_array_size(arr);
    v->entities = calloc(v->n_entities + 1, sizeof(*v->entities));
    v->entity_strings = calloc(2 * v->n_entities + 1, sizeof(char *));
    v->header_slots = 16;
    while (v->header_slots < 2 * n_headers + 2)
        v->header_slots *= 2;
    v->headers = calloc(v->header_slots, sizeof(*v->headers));
    v->prefixes = calloc(n_prefixes + 1, sizeof(*v->prefixes));
    if (!v->entities || !v->entity_strings || !v->headers || !v->prefixes)
        abort();
    json_array_foreach(arr, i, e)
    {
        if (load_entity(v, e, i, err, err_len) < 0)
            return -1;
    }
    qsort(v->prefixes, v->n_prefixes, sizeof(*v->prefixes), cmp_prefix_len);
    v->banks = calloc(v->n_entities + 1, sizeof(*v->banks));
    v->bank_lens = calloc(v->n_entities + 1, sizeof(*v->bank_lens));
    if (!v->banks || !v->bank_lens)
        abort();
    for (size_t k = 0; k < v->n_entities; k++) {
        if (strcmp(v->entities[k].type, "bank") != 0)
            continue;
        v->banks[v->n_banks] = v->entities[k].name;
        v->bank_lens[v->n_banks++] = strlen(v->entities[k].name);
    }
    return 0;
}

static bool has_letter(const char *s)
{
    for (; *s; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
            return true;
    return false;
}

static int load_symbols(struct vocab *v, const json_t *obj, char *err, size_t err_len)
{
    const char *key;
    const json_t *val;

    if (!obj)
        return 0;
    if (!json_is_object(obj)) {
        snprintf(err, err_len, "'symbols' must be an object");
        return -1;
    }
    v->symbols = calloc(json_object_size(obj) + 1, sizeof(*v->symbols));
    if (!v->symbols)
        abort();
    json_object_foreach((json_t *)obj, key, val)
    {
        const char *w = json_string_value(val);
        if (!w || !*key || has_letter(key)) {
            snprintf(err, err_len, "symbol '%.20s' must be non-letters mapped to a word", key);
            return -1;
        }
        struct vocab_symbol *sym = &v->symbols[v->n_symbols++];
        sym->bytes = rulefile_strdup(key);
        sym->len = strlen(key);
        sym->word = rulefile_strdup(w);
        sym->bit = find_word(v, w, strlen(w));
        if (sym->bit >= 0)
            v->symbol_first[(unsigned char)key[0]] = 1;
    }
    return 0;
}

/* The symbols chained by first byte, each chain in artifact order (the first that matches wins). */
static void symbol_chains(struct vocab *v)
{
    v->symbol_next = calloc(v->n_symbols + 1, sizeof(*v->symbol_next));
    if (!v->symbol_next)
        abort();
    for (size_t k = v->n_symbols; k > 0; k--) {
        unsigned char b = (unsigned char)v->symbols[k - 1].bytes[0];
        v->symbol_next[k - 1] = v->symbol_chain[b];
        v->symbol_chain[b] = (uint32_t)k;
    }
}

/*
 * The distinct first bytes of the symbols for the 16-byte scan, when there
 * are 1 to SYMBOL_BYTES_MAX of them; the rows left repeat the first byte (the
 * scan compares all rows, and a repeat marks nothing new).
 */
static void symbol_splats(struct vocab *v)
{
    size_t n = 0;
    v->scan16 = false;
    for (int b = 0; b < 256; b++) {
        if (!v->symbol_first[b])
            continue;
        if (n == SYMBOL_BYTES_MAX)
            return; /* too many: the byte table alone */
        memset(v->symbol_splat[n++], b, 16);
    }
    for (size_t k = n; k > 0 && k < SYMBOL_BYTES_MAX; k++)
        memcpy(v->symbol_splat[k], v->symbol_splat[0], 16);
    v->scan16 = n > 0;
}

int vocab_load(const char *json, size_t len, struct vocab **out, char *err, size_t err_len)
{
    struct vocab *v = calloc(1, sizeof(*v));
    int rc = -1;

    *out = NULL;
    if (!v)
        abort();
    const char *version;
    v->root = rulefile_parse(json, len, &version, err, err_len);
    if (!v->root)
        goto out;
    v->version = rulefile_strdup(version);
    if (load_entities(v, json_object_get(v->root, "entities"), err, err_len) < 0)
        goto out;
    if (load_symbols(v, json_object_get(v->root, "symbols"), err, err_len) < 0)
        goto out;
    symbol_splats(v);
    symbol_chains(v);
    *out = v;
    v = NULL;
    rc = 0;
out:
    vocab_free(v);
    return rc;
}

void vocab_free(struct vocab *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n_strings; i++)
        free(v->entity_strings[i]);
    for (size_t i = 0; i < v->header_slots; i++)
        free(v->headers[i].header);
    for (size_t i = 0; i < v->n_prefixes; i++)
        free(v->prefixes[i].header);
    for (size_t i = 0; i < v->n_symbols; i++) {
        free(v->symbols[i].bytes);
        free(v->symbols[i].word);
    }
    free(v->symbols);
    free(v->symbol_next);
    free(v->banks);
    free(v->bank_lens);
    free(v->prefixes);
    free(v->headers);
    free(v->entity_strings);
    free(v->entities);
    free(v->version);
    json_decref(v->root);
    free(v);
}

const char *vocab_version(const struct vocab *v)
{
    return v->version;
}
