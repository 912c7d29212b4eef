/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The classification artifact, compiled: an ordered list of rules, the first
 * that matches gives sms_type, sms_kind, direction, whether money moved
 * and which fields to extract. Types may name the instrument ("{instrument}")
 * and direction ("{direction}"), filled in per message from the channel and
 * the sender type; every such combination is built at load so records only
 * ever point at strings the rules own.
 */
#ifndef SMSX_CLASSIFY_H
#define SMSX_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "sms-extraction/patterns.h"
#include "sms-extraction/vocab.h"

#define CLASSIFY_MAX_INSTRUMENTS 8

enum classify_direction {
    CLASSIFY_NONE = 0,
    CLASSIFY_DEBIT,
    CLASSIFY_CREDIT,
    CLASSIFY_BY_GROUP, /* the (?<debit>) or (?<credit>) group that matched decides */
};

#define CLASSIFY_MAX_OUTCOMES 8

/* A rule's other result, chosen when its named group took part in the match ("outcomes"). */
struct classify_outcome {
    uint32_t group[PATTERNS_MAX_DUP]; /* chosen when this group took part, */
    bool has_words;                   /* or when one of these words occurs ("if_any") */
    struct vocab_mask words;
    char *kind;
    char *types[CLASSIFY_MAX_INSTRUMENTS][3];
    bool has_direction; /* direction (none, debit or credit) replaces the rule's */
    enum classify_direction direction;
    bool transactional; /* replaces the rule's */
};

struct classify_rule {
    struct patterns_regex re;
    enum classify_direction direction;
    bool transactional;
    bool moves_money; /* transactional, or one of its outcomes is (one_transaction skips it) */
    bool needs_amount;
    unsigned fields;  /* bit per enum patterns_field to extract */
    char *kind;       /* sms_kind */
    char *party_kind; /* party_kind of every record of this rule, or NULL */
    /* sms_type per [instrument][direction] (direction 0 none, 1 debit, 2 credit) */
    char *types[CLASSIFY_MAX_INSTRUMENTS][3];
    struct classify_outcome outcomes[CLASSIFY_MAX_OUTCOMES]; /* tried in order */
    size_t n_outcomes;
};

#define CLASSIFY_MAX_NOT_AFTER 4

/*
 * "one_transaction": a transaction SMS reports one movement, seen at most from the
 * user's account and the other party's ("debited from your a/c and credited to X").
 * A body naming more than max_verbs executed movements (occurrences of the verbs
 * words, not right after a not_after word: "if not withdrawn by you", "will be
 * credited") reports no single transaction, so the rules that move money
 * (transactional, or with a transactional outcome) are not tried on it.
 */
struct classify_bound {
    bool on;
    struct vocab_mask verbs;
    unsigned char verb_words[VOCAB_MASK_WORDS]; /* the words of verbs that have a bit set */
    int n_verb_words;
    char not_after[CLASSIFY_MAX_NOT_AFTER][VOCAB_MAX_WORD + 1];
    size_t n_not_after;
    unsigned max_verbs;
};

struct classify {
    json_t *root;
    char *version;
    struct classify_rule *rules;
    size_t n_rules;
    char *instruments[CLASSIFY_MAX_INSTRUMENTS]; /* [0] is the default */
    size_t n_instruments;
    json_t *by_channel;     /* channel -> instrument */
    json_t *by_sender_type; /* sender_type -> instrument */
    /* the two maps flattened (key -> index into instruments), so a lookup is a few strcmp */
    struct classify_key {
        const char *key; /* borrowed from root */
        int instrument;
    } * channel_keys, *sender_keys;
    size_t n_channel_keys, n_sender_keys;
    char *unknown_type, *unknown_sub_type, *unknown_kind;
    unsigned unknown_fields; /* fields read when no rule matched */
    uint32_t max_pairs;
    struct classify_bound one_transaction;
};

int classify_load(const char *json, size_t len, struct vocab *vocab, const struct patterns *p,
                  struct classify **out, char *err, size_t err_len);
void classify_free(struct classify *c);

/* Index into c->instruments for this channel / sender type (0 = default). */
int classify_instrument(const struct classify *c, const char *channel, const char *sender_type);

#endif
