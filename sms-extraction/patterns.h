/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The regex artifact, compiled: field templates (amount, balance, account,
 * reference, party, dates, limits, dues) and channel detectors, each a PCRE2
 * pattern JIT-compiled once, matched against the lower-cased body. Also the
 * pattern compiler the classification module shares: {{name}} in a pattern
 * expands to a macro of the regex artifact or to a keyword list of the
 * vocabulary (as an alternation of escaped words).
 */
#ifndef SMSX_PATTERNS_H
#define SMSX_PATTERNS_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdbool.h>
#include <stddef.h>

#include "sms-extraction/vocab.h"

#define PATTERNS_MAX_DUP 4       /* alternatives that may reuse one group name */
#define PATTERNS_MAX_CLAUSES 4   /* "require_any" clauses of one pattern */
#define PATTERNS_BEFORE_REACH 80 /* anchor "before": bytes looked back from a trigger word */

enum patterns_field {
    PATTERNS_AMOUNT = 0,
    PATTERNS_BALANCE,
    PATTERNS_ACCOUNT,
    PATTERNS_REFERENCE,
    PATTERNS_PARTY,
    PATTERNS_DATE,
    PATTERNS_CREDIT_LIMIT,
    PATTERNS_AVAILABLE_LIMIT,
    PATTERNS_DUE_AMOUNT,
    PATTERNS_MIN_DUE,
    PATTERNS_DUE_DATE,
    PATTERNS_OVERDUE_AMOUNT,
    PATTERNS_DAYS_PAST_DUE,
    PATTERNS_PARTY_KIND, /* label templates: the party_kind their match names */
    PATTERNS_FIELD_COUNT
};

enum patterns_direction {
    PATTERNS_ANY = 0,
    PATTERNS_DEBIT = 1,
    PATTERNS_CREDIT = 2,
    PATTERNS_NONE = 3, /* only when the message has no direction */
};

/* One compiled regex with its prefilter. */
struct patterns_regex {
    char *id;
    char *fixture_only; /* why the rule stands on our fixtures alone (rule admission), or NULL */
    pcre2_code *code;
    bool jit;
    bool gated;            /* false: no triggers, always tried */
    struct vocab_mask any; /* tried only when one of these words occurs */
    bool required;         /* "require": every one of these words must occur too */
    struct vocab_mask all;
    bool refused; /* "unless_any": skipped when one of these words occurs */
    struct vocab_mask none;
    bool with; /* "with_any": tried only when one of these words occurs too */
    struct vocab_mask some;
    /* the non-zero words of any / all, so a gate test touches only those */
    uint8_t any_idx[VOCAB_MASK_WORDS], all_idx[VOCAB_MASK_WORDS];
    uint8_t n_any, n_all;
    /* "require_any": clauses, each needs at least one of its words (not used for anchoring) */
    struct vocab_mask clause[PATTERNS_MAX_CLAUSES];
    uint8_t n_clauses;
    bool from_trigger; /* the match starts at a trigger word: search from the first */
    uint32_t reach;    /* "reach" (anchor "trigger"): or up to this many bytes before it */
    /* anchor "each": the match starts exactly at an occurrence of a trigger word, so the
       pattern compiled anchored is tried at each occurrence instead of searched for */
    pcre2_code *anchored;
    bool anchored_jit;
    /* "digit_then": tried only when a digit is directly followed by one of these bytes */
    char digit_then[8];
    /* "then_digit": tried only when one of these bytes is directly followed by a digit */
    char then_digit[8];
    /* "then" (anchor "each"): an occurrence is tried only when the first byte after its
       word and any whitespace is one of these */
    bool has_then;
    uint64_t then[4]; /* bit per byte */
    /* "then" as an object {word: bytes}: each listed trigger word its own set (the word's
       bit -> 1 + its index in then_sets, 0 = not listed: tried at every occurrence) */
    uint8_t *then_word;
    uint64_t (*then_sets)[4];
    /* anchor "before": each match starts at the nearest of these bytes before an occurrence
       of a trigger word (at most PATTERNS_BEFORE_REACH bytes back): "; <name> credited" */
    bool has_before;
    uint64_t before[4];
    uint32_t group[PATTERNS_MAX_DUP];    /* groups of the value (a name may repeat), 0 = none */
    uint32_t currency[PATTERNS_MAX_DUP]; /* groups named "currency" */
    uint32_t debit[PATTERNS_MAX_DUP];    /* groups "debit" (classification; a name may repeat) */
    uint32_t credit[PATTERNS_MAX_DUP];   /* groups "credit" */
    uint32_t slot;                       /* its number in the candidate index */
};

/*
 * The candidate index: which regexes each trigger word lets through its
 * "triggers" gate. Per message the rows of the words present are OR-ed into
 * one bit per regex, so the engine visits only the regexes that can run
 * instead of testing ~120 gates (that testing was an eighth of the time).
 * Regexes are numbered in the order they are added: a list added in one go
 * (a field's templates, the channels, the rules) has consecutive numbers.
 */
struct patterns_index {
    size_t n, cap;        /* regexes numbered so far, and room */
    size_t words;         /* 64-bit words per row: (cap + 63) / 64 */
    uint64_t *by_trigger; /* VOCAB_MAX_TRIGGERS rows */
    uint64_t *ungated;    /* regexes without "triggers": always candidates */
};

struct patterns_template {
    struct patterns_regex re;
    unsigned directions; /* bit per enum patterns_direction it applies to ("direction") */
    bool raw;            /* party: keep the capture as matched, no stop-word cut */
    bool accounts;       /* party: an account phrase ("A/c xxxx9709") may be the party */
    bool narration;      /* party: the capture must be a bank narration (party.h) */
    char **only_types;   /* NULL-terminated; NULL = every type */
    char **skip_types;
    char **also_types; /* applies to these types whatever their direction */
    char *label;       /* party templates: fixed text instead of the capture */
    /* label "{group}" (party_kind): the kind is the name of the named group that took part */
    char **group_names; /* NULL-terminated */
    uint32_t *group_numbers;
};

struct patterns_channel {
    struct patterns_regex re;
    char *channel;
};

struct patterns_account_policy {
    int keep_digits;       /* digits kept from a long number, e.g. 4 */
    int keep_all_min_mask; /* keep every printed digit after >= this many mask chars */
    int keep_all_max_digits;
};

/* A list of words for quick membership tests (case-insensitive): by first byte and length
   first, so most words of a body are turned away without a string compare. */
struct wordset {
    char **words;      /* NULL-terminated */
    uint8_t *lens;     /* their lengths (at most 63) */
    uint64_t first[4]; /* bit per lower-cased first byte */
    uint64_t lengths;  /* bit per length */
};

bool wordset_has(const struct wordset *ws, const char *w, size_t n);

/* What the party code knows of a word, from every word list of the artifact at once. */
enum patterns_word {
    PATTERNS_WORD_STOP = 1,         /* party_stop_words: a name ends before it */
    PATTERNS_WORD_PHRASE = 2,       /* the first word of a stop phrase ("of rs") */
    PATTERNS_WORD_REJECT = 4,       /* party_reject_words */
    PATTERNS_WORD_RAIL = 8,         /* narration.rails */
    PATTERNS_WORD_NOISE = 16,       /* narration.noise */
    PATTERNS_WORD_SKIP = 32,        /* narration.skip */
    PATTERNS_WORD_TO = 64,          /* narration.to */
    PATTERNS_WORD_FROM = 128,       /* narration.from */
    PATTERNS_WORD_STOP_LOWER = 256, /* party_stop_words_lowercase: a stop only in lower case */
    PATTERNS_WORD_WHOLE = 512,      /* party_reject: never a party on its own ("you", "n/a") */
    PATTERNS_WORD_FUNCTION = 1024,  /* party_function_words: a verb, preposition or label */
};

#define PATTERNS_WORDTAB_SLOTS 1024  /* power of two, over twice the words of the lists */
#define PATTERNS_WORDTAB_MAX 23      /* longer words are not looked up (flags 0) */
#define PATTERNS_WORDTAB_FILTER 4096 /* bits of wordtab_filter, a power of two */

struct patterns_wordtab_slot {
    char w[PATTERNS_WORDTAB_MAX + 1]; /* lower case */
    uint8_t len;
    uint16_t flags;
};

struct patterns {
    json_t *root;
    char *version;
    const struct vocab *vocab; /* compiled against it (bank names for party_clean) */
    struct patterns_template *fields[PATTERNS_FIELD_COUNT];
    size_t n_fields[PATTERNS_FIELD_COUNT];
    struct patterns_channel *channels;
    size_t n_channels;
    struct patterns_account_policy account;
    char **party_stop_words; /* NULL-terminated, lower case: a party ends before these */
    size_t *party_stop_lens; /* their lengths */
    unsigned char party_stop_first[256]; /* 1 when some stop word starts with this byte */
    char **party_strip_prefixes;         /* NULL-terminated, lower case */
    unsigned char strip_first[256];      /* 1 when some strip prefix starts with this byte */
    char **party_reject;                 /* NULL-terminated, whole-party rejects, lower case */
    struct wordset party_reject_words;   /* a party holding one of these words is refused */
    char **party_stop_lower;             /* stop words only when written in lower case */
    char **party_function;               /* verbs, prepositions, labels: no name on their own */
    struct wordset narration_rails;      /* words that start a narration (upi, neft, dr) */
    struct wordset narration_noise;      /* other words of no name (inr, bal, ref) */
    struct wordset narration_skip;       /* fields that are never a name (bank codes) */
    struct wordset narration_to, narration_from; /* labels of the payee's and the payer's field */
    uint32_t max_pairs;                          /* most capture pairs of any pattern it compiled */
    struct patterns_wordtab_slot *wordtab; /* the word lists above, hashed (open addressing) */
    /* a bit per (first letter, last letter, length) of the words in wordtab: most words are
       in no list, and this says so before the word is hashed */
    uint64_t wordtab_filter[PATTERNS_WORDTAB_FILTER / 64];
};

/* The patterns_word flags of w[0, n) (case-insensitive), 0 for a word of no list. */
uint16_t patterns_word_flags(const struct patterns *p, const char *w, size_t n);

/* Per-thread match state. */
struct patterns_scratch {
    struct vocab_hits hits; /* trigger words in this message */
    uint64_t *cand;         /* bit per indexed regex: its "triggers" gate passes */
    size_t cand_words;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *stack;
    bool owns_match_state; /* md, mctx and stack are this scratch's (else borrowed) */
};

int patterns_load(const char *json, size_t len, struct vocab *vocab, struct patterns **out,
                  char *err, size_t err_len);
void patterns_free(struct patterns *p);

/*
 * Compile src (macros expanded) into re with the gates read from the JSON
 * object gates ("triggers", "require", "require_any", "anchor"; all optional)
 * and name the value group (may be NULL). Used by the classification module
 * too; macros come from the regex artifact p. Returns 0, or -1 with err set.
 */
int patterns_compile(const struct patterns *p, struct vocab *vocab, const char *id, const char *src,
                     const json_t *gates, const char *group, struct patterns_regex *re,
                     uint32_t *max_pairs, char *err, size_t err_len);
void patterns_regex_free(struct patterns_regex *re);
/* Every group of re called name into out[PATTERNS_MAX_DUP], 0-terminated. */
void patterns_group_numbers(const struct patterns_regex *re, const char *name, uint32_t *out);

int patterns_index_init(struct patterns_index *ix, size_t cap);
/* Number re (its slot) and record its trigger words. At most cap regexes. */
void patterns_index_add(struct patterns_index *ix, struct patterns_regex *re);
void patterns_index_free(struct patterns_index *ix);

/* Scratch for regexes numbered by ix (which may be NULL when none are). */
int patterns_scratch_init(struct patterns_scratch *s, uint32_t max_pairs,
                          const struct patterns_index *ix);
/*
 * Scratch with its own trigger hits but the match state (match data, context,
 * JIT stack) of owner, which must outlive it: a batch of messages in one
 * thread needs one match state, used by one message at a time.
 */
int patterns_scratch_init_sharing(struct patterns_scratch *s, const struct patterns_scratch *owner,
                                  const struct patterns_index *ix);
/* s->cand from the trigger words in s->hits; call after vocab_scan. */
void patterns_candidates(const struct patterns_index *ix, struct patterns_scratch *s);

/* The first candidate slot in [from, end), or end. */
static inline size_t patterns_next(const struct patterns_scratch *s, size_t from, size_t end)
{
    while (from < end) {
        uint64_t w = s->cand[from / 64] >> (from % 64);
        if (w) {
            from += (size_t)__builtin_ctzll(w);
            return from < end ? from : end;
        }
        from = (from / 64 + 1) * 64;
    }
    return end;
}
void patterns_scratch_fini(struct patterns_scratch *s);

/*
 * Try re on subj, gated by the trigger words in s->hits (and started at the
 * first of them for from_trigger regexes). On a match returns true and the
 * ovector of the match is in s->md.
 */
bool patterns_run(const struct patterns_regex *re, struct patterns_scratch *s, const char *subj,
                  size_t len);

/* Every "require" word of re occurs in the message, one "with_any" word, no "unless_any" word. */
static inline bool patterns_required(const struct patterns_regex *re,
                                     const struct patterns_scratch *s)
{
    if (re->refused && vocab_mask_any(&re->none, &s->hits.present))
        return false;
    if (re->with && !vocab_mask_any(&re->some, &s->hits.present))
        return false;
    for (uint8_t i = 0; i < re->n_all; i++) {
        uint64_t need = re->all.w[re->all_idx[i]];
        if ((s->hits.present.w[re->all_idx[i]] & need) != need)
            return false;
    }
    return true;
}

/* The trigger gates of re pass for the words in s->hits (see patterns_run). */
static inline bool patterns_gate(const struct patterns_regex *re, const struct patterns_scratch *s)
{
    if (!((s->cand[re->slot / 64] >> (re->slot % 64)) & 1) || !patterns_required(re, s))
        return false;
    for (uint8_t c = 0; c < re->n_clauses; c++)
        if (!vocab_mask_any(&re->clause[c], &s->hits.present))
            return false;
    return true;
}

/*
 * Whether re's gates and anchors leave its result on subj as it would be
 * without them: patterns_run against a plain search from offset 0. They
 * agree when neither finds a match, or both do and the first group of
 * groups[] that took part (a value, a direction; NULL: none matters) has
 * the same span in both. Every gate is a promise about all matches ("each
 * match starts at a trigger word"); this is how a rule author checks the
 * promise on a corpus (smsx-extract --check-gates). Never on the request
 * path. Uses s->md.
 */
bool patterns_gates_agree(const struct patterns_regex *re, struct patterns_scratch *s,
                          const char *subj, size_t len, const uint32_t *groups);

/* Offsets of group g of the last match, false when the group did not take part. */
bool patterns_group(const struct patterns_scratch *s, uint32_t g, size_t *start, size_t *end);
/* The first of the groups gs[] (a repeated name) that took part in the last match. */
bool patterns_named(const struct patterns_scratch *s, const uint32_t *gs, size_t *start,
                    size_t *end);

const char *patterns_field_name(enum patterns_field f);

#endif
