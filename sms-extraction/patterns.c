/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Regex artifact: compiles field templates and channel detectors with PCRE2
 * JIT, and owns the pattern compiler (macro expansion, trigger masks, named
 * groups) shared with classification. Patterns are written in lower case and
 * run on a lower-cased copy of the body, without UTF mode: the rupee sign and
 * other non-ASCII text are matched as byte sequences, which keeps the JIT on
 * its fastest path.
 */
#include "sms-extraction/patterns.h"
#include "sms-extraction/ascii.h"
#include "sms-extraction/rulefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MACRO_DEPTH 8
#define PATTERNS_MATCH_LIMIT 200000

static const char *const field_names[PATTERNS_FIELD_COUNT] = {
    "amount",   "balance",        "account",         "reference",  "party",
    "date",     "credit_limit",   "available_limit", "due_amount", "min_due",
    "due_date", "overdue_amount", "days_past_due",   "party_kind"};

/* The capture group that holds each field's value (party_kind templates are labels). */
static const char *const field_groups[PATTERNS_FIELD_COUNT] = {
    "amount",   "balance",        "account",         "ref",        "party",
    "date",     "credit_limit",   "available_limit", "due_amount", "min_due",
    "due_date", "overdue_amount", "days_past_due",   NULL};

const char *patterns_field_name(enum patterns_field f)
{
    return field_names[f];
}

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sbuf_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            abort();
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* A keyword list as (?:a|b\s+c|...), regex metacharacters escaped. */
static void put_keywords(struct sbuf *b, const json_t *list)
{
    size_t i;
    const json_t *w;

    sbuf_put(b, "(?:", 3);
    json_array_foreach(list, i, w)
    {
        const char *s = json_string_value(w);
        if (!s)
            continue;
        if (i)
            sbuf_put(b, "|", 1);
        for (; *s; s++) {
            if (*s == ' ')
                sbuf_put(b, "\\s+", 3);
            else if (strchr("\\^$.|?*+()[]{}/-", *s)) {
                sbuf_put(b, "\\", 1);
                sbuf_put(b, s, 1);
            } else
                sbuf_put(b, s, 1);
        }
    }
    sbuf_put(b, ")", 1);
}

static int expand(const struct patterns *p, const struct vocab *vocab, const char *src,
                  struct sbuf *b, int depth, char *err, size_t err_len)
{
    if (depth > MACRO_DEPTH) {
        snprintf(err, err_len, "macros nested deeper than %d", MACRO_DEPTH);
        return -1;
    }
    while (*src) {
        const char *open = strstr(src, "{{");
        if (!open) {
            sbuf_put(b, src, strlen(src));
            return 0;
        }
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            snprintf(err, err_len, "unclosed {{ in pattern");
            return -1;
        }
        sbuf_put(b, src, (size_t)(open - src));
        char name[64];
        size_t n = (size_t)(close - open - 2);
        if (n == 0 || n >= sizeof(name)) {
            snprintf(err, err_len, "bad macro name length");
            return -1;
        }
        memcpy(name, open + 2, n);
        name[n] = '\0';
        const json_t *macros = p ? json_object_get(p->root, "macros") : NULL;
        const char *m = macros ? json_string_value(json_object_get(macros, name)) : NULL;
        const json_t *list = m ? NULL : vocab_keywords(vocab, name);
        if (m) {
            if (expand(p, vocab, m, b, depth + 1, err, err_len) < 0)
                return -1;
        } else if (list) {
            put_keywords(b, list);
        } else {
            snprintf(err, err_len, "unknown macro or keyword list '{{%s}}'", name);
            return -1;
        }
        src = close + 2;
    }
    return 0;
}

/* Every group called name (PCRE2_DUPNAMES allows repeats) into out[], 0-terminated. */
static void group_numbers(const pcre2_code *code, const char *name, uint32_t *out)
{
    PCRE2_SPTR first, last;
    uint32_t entry = 0;
    memset(out, 0, PATTERNS_MAX_DUP * sizeof(uint32_t));
    pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
    int rc = pcre2_substring_nametable_scan(code, (PCRE2_SPTR)name, &first, &last);
    if (rc < 0 || entry == 0)
        return;
    size_t n = 0;
    for (PCRE2_SPTR e = first; e <= last && n < PATTERNS_MAX_DUP; e += entry)
        out[n++] = ((uint32_t)e[0] << 8) | e[1];
}

/* "require_any": an array of clauses, each an array of words (see docs/rules.md). */
static int add_clauses(struct vocab *vocab, const json_t *clauses, struct patterns_regex *re,
                       char *err, size_t err_len)
{
    size_t i;
    const json_t *c;

    if (!clauses)
        return 0;
    if (!json_is_array(clauses) || json_array_size(clauses) > PATTERNS_MAX_CLAUSES) {
        snprintf(err, err_len, "must be an array of at most %d arrays of words",
                 PATTERNS_MAX_CLAUSES);
        return -1;
    }
    json_array_foreach(clauses, i, c)
    {
        if (!json_is_array(c) || json_array_size(c) == 0) {
            snprintf(err, err_len, "clause %zu must be a non-empty array of words", i);
            return -1;
        }
        if (vocab_add_triggers(vocab, c, &re->clause[i], err, err_len) < 0)
            return -1;
        re->n_clauses++;
    }
    return 0;
}

/* Copies an optional "digit_then" string; -1 when empty or too long. */
static int copy_chars(char *dst, size_t cap, const char *src)
{
    if (!src)
        return 0;
    size_t n = strlen(src);
    if (n == 0 || n >= cap)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

/* The most alternatives that share one group name (the name table is sorted by name). */
static uint32_t most_same_name(const pcre2_code *code)
{
    PCRE2_SPTR table = NULL;
    uint32_t count = 0, entry = 0, best = 0, run = 0;
    pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
    pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
    for (uint32_t i = 0; i < count; i++) {
        bool same = i > 0 && strcmp((const char *)table + i * entry + 2,
                                    (const char *)table + (i - 1) * entry + 2) == 0;
        run = same ? run + 1 : 1;
        if (run > best)
            best = run;
    }
    return best;
}

/* The pattern (macros expanded into b) compiled and JIT-compiled, its named groups found. */
static int compile_code(const struct patterns *p, struct vocab *vocab, const char *id,
                        const char *src, const char *group, struct sbuf *b,
                        struct patterns_regex *re, uint32_t *max_pairs, char *err, size_t err_len)
{
    char inner[160];
    int ec;
    PCRE2_SIZE off;

    if (!src) {
        snprintf(err, err_len, "'%s': pattern missing", id);
        return -1;
    }
    if (expand(p, vocab, src, b, 0, inner, sizeof(inner)) < 0) {
        snprintf(err, err_len, "'%s': %s", id, inner);
        return -1;
    }
    re->code =
        pcre2_compile((PCRE2_SPTR)b->p, b->len, PCRE2_DOTALL | PCRE2_DUPNAMES, &ec, &off, NULL);
    if (!re->code) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        snprintf(err, err_len, "'%s': pattern error at offset %zu: %s", id, (size_t)off,
                 (const char *)msg);
        return -1;
    }
    if (most_same_name(re->code) > PATTERNS_MAX_DUP) {
        /* the engine reads at most PATTERNS_MAX_DUP groups of one name: refuse, never drop */
        snprintf(err, err_len, "'%s': a group name is used by more than %d alternatives", id,
                 PATTERNS_MAX_DUP);
        return -1;
    }
    re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
    if (group) {
        group_numbers(re->code, group, re->group);
        if (!re->group[0]) {
            snprintf(err, err_len, "'%s': pattern has no (?<%s>...) group", id, group);
            return -1;
        }
    }
    group_numbers(re->code, "currency", re->currency);
    group_numbers(re->code, "debit", re->debit);
    group_numbers(re->code, "credit", re->credit);
    uint32_t caps = 0;
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &caps);
    if (caps + 1 > *max_pairs)
        *max_pairs = caps + 1;
    return 0;
}

/* The word gates: "triggers", "require", "require_any", "unless_any", "with_any". */
static int word_gates(struct vocab *vocab, const char *id, const json_t *gates,
                      struct patterns_regex *re, char *err, size_t err_len)
{
    const json_t *triggers = json_object_get(gates, "triggers");
    const json_t *require = json_object_get(gates, "require");
    char inner[160];

    if (triggers && json_array_size(triggers) > 0) {
        if (vocab_add_triggers(vocab, triggers, &re->any, inner, sizeof(inner)) < 0) {
            snprintf(err, err_len, "'%s': %s", id, inner);
            return -1;
        }
        re->gated = true;
    }
    if (require && json_array_size(require) > 0) {
        if (vocab_add_triggers(vocab, require, &re->all, inner, sizeof(inner)) < 0) {
            snprintf(err, err_len, "'%s': require: %s", id, inner);
            return -1;
        }
        re->required = true;
    }
    const json_t *unless = json_object_get(gates, "unless_any");
    if (unless && json_array_size(unless) > 0) {
        if (vocab_add_triggers(vocab, unless, &re->none, inner, sizeof(inner)) < 0) {
            snprintf(err, err_len, "'%s': unless_any: %s", id, inner);
            return -1;
        }
        re->refused = true;
    }
    const json_t *with = json_object_get(gates, "with_any");
    if (with && json_array_size(with) > 0) {
        if (vocab_add_triggers(vocab, with, &re->some, inner, sizeof(inner)) < 0) {
            snprintf(err, err_len, "'%s': with_any: %s", id, inner);
            return -1;
        }
        re->with = true;
    }
    if (add_clauses(vocab, json_object_get(gates, "require_any"), re, inner, sizeof(inner)) < 0) {
        snprintf(err, err_len, "'%s': require_any: %s", id, inner);
        return -1;
    }
    for (int w = 0; w < VOCAB_MASK_WORDS; w++) {
        if (re->any.w[w])
            re->any_idx[re->n_any++] = (uint8_t)w;
        if (re->all.w[w])
            re->all_idx[re->n_all++] = (uint8_t)w;
    }
    return 0;
}

/* One character gate ("digit_then", "then_digit", "then") into dst[cap]. */
static int char_gate(const json_t *gates, const char *name, const char *id, char *dst, size_t cap,
                     char *err, size_t err_len)
{
    if (copy_chars(dst, cap, json_string_value(json_object_get(gates, name))) == 0)
        return 0;
    snprintf(err, err_len, "'%s': %s must hold 1 to %zu characters", id, name, cap - 1);
    return -1;
}

/* chars (1 to 63 bytes) into the bitmap set; -1 when malformed. */
static int chars_to_set(const char *chars, uint64_t set[4])
{
    if (!chars || !*chars || strlen(chars) > 63)
        return -1;
    for (const unsigned char *c = (const unsigned char *)chars; *c; c++)
        set[*c / 64] |= UINT64_C(1) << (*c % 64);
    return 0;
}

/* A set of bytes ("then", "before": 1 to 63 characters) as a bitmap; -1 when malformed. */
static int byte_set(const json_t *gates, const char *name, const char *id, bool *has,
                    uint64_t set[4], char *err, size_t err_len)
{
    const json_t *v = json_object_get(gates, name);
    *has = false;
    if (!v || (json_is_object(v) && strcmp(name, "then") == 0))
        return 0; /* the object form of "then": then_words */
    if (chars_to_set(json_string_value(v), set) < 0) {
        snprintf(err, err_len, "'%s': %s must hold 1 to 63 characters", id, name);
        return -1;
    }
    *has = true;
    return 0;
}

/* The trigger word w of re as its one bit, or -1 when it is not one of re's triggers. */
static int trigger_bit(const struct vocab *vocab, const struct patterns_regex *re, const char *w)
{
    int bit = vocab_trigger_bit(vocab, w);

    return bit >= 0 && ((re->any.w[bit / 64] >> (bit % 64)) & 1) ? bit : -1;
}

/*
 * "then" as an object {"card": "bpdo", ...} (anchor "each"): an occurrence of a listed
 * trigger word is tried only when the first byte after the word and any whitespace is
 * one of its bytes; the words not listed are tried at every occurrence.
 */
static int then_words(struct vocab *vocab, const char *id, const json_t *gates,
                      struct patterns_regex *re, char *err, size_t err_len)
{
    const json_t *obj = json_object_get(gates, "then"), *v;
    const char *w;
    size_t n = json_is_object(obj) ? json_object_size(obj) : 0, i = 0;

    if (!json_is_object(obj))
        return 0;
    if (n == 0 || n > 255) {
        snprintf(err, err_len, "'%s': then must list 1 to 255 words", id);
        return -1;
    }
    re->then_word = calloc(VOCAB_MAX_TRIGGERS, 1);
    re->then_sets = calloc(n, sizeof(*re->then_sets));
    if (!re->then_word || !re->then_sets) {
        snprintf(err, err_len, "'%s': out of memory", id);
        return -1;
    }
    json_object_foreach((json_t *)obj, w, v)
    {
        int bit = trigger_bit(vocab, re, w);
        if (bit < 0 || re->then_word[bit]) {
            snprintf(err, err_len, "'%s': then: '%.40s' is not one of its trigger words", id, w);
            return -1;
        }
        if (vocab_symbol_word(vocab, w)) { /* an occurrence of the symbol starts at its bytes */
            snprintf(err, err_len, "'%s': then: '%.40s' also stands for a symbol", id, w);
            return -1;
        }
        if (chars_to_set(json_string_value(v), re->then_sets[i]) < 0) {
            snprintf(err, err_len, "'%s': then: '%.40s' must hold 1 to 63 characters", id, w);
            return -1;
        }
        re->then_word[bit] = (uint8_t)++i;
    }
    return 0;
}

/*
 * "reach" (anchor "trigger" only, 1-255): a match may start up to this many bytes
 * before the first trigger word ("x@okaxis": a VPA ends at its "@" trigger).
 */
static int reach_gate(const char *id, const json_t *gates, const char *anchor,
                      struct patterns_regex *re, char *err, size_t err_len)
{
    const json_t *r = json_object_get(gates, "reach");
    if (!r)
        return 0;
    if (!anchor || strcmp(anchor, "trigger") != 0 || !json_is_integer(r) ||
        json_integer_value(r) < 1 || json_integer_value(r) > 255) {
        snprintf(err, err_len, "'%s': reach must be 1-255, with anchor \"trigger\"", id);
        return -1;
    }
    re->reach = (uint32_t)json_integer_value(r);
    return 0;
}

/* "anchor": where matches start; "each" and "before" also compile the anchored copy of b. */
static int anchor_gate(const char *id, const json_t *gates, const struct sbuf *b,
                       struct patterns_regex *re, char *err, size_t err_len)
{
    const char *anchor = json_string_value(json_object_get(gates, "anchor"));
    bool each = anchor && strcmp(anchor, "each") == 0;
    bool before = anchor && strcmp(anchor, "before") == 0;
    int ec;
    PCRE2_SIZE off;

    if (byte_set(gates, "then", id, &re->has_then, re->then, err, err_len) < 0 ||
        byte_set(gates, "before", id, &re->has_before, re->before, err, err_len) < 0)
        return -1;
    if ((re->has_then || json_is_object(json_object_get(gates, "then"))) && !each) {
        snprintf(err, err_len, "'%s': then needs anchor \"each\"", id);
        return -1;
    }
    if (re->has_before != before) {
        snprintf(err, err_len, "'%s': anchor \"before\" and \"before\" go together", id);
        return -1;
    }
    if (reach_gate(id, gates, anchor, re, err, err_len) < 0)
        return -1;
    if (!anchor || strcmp(anchor, "none") == 0)
        return 0;
    if (!each && !before && strcmp(anchor, "trigger") != 0) {
        snprintf(err, err_len, "'%s': anchor must be \"trigger\", \"each\", \"before\" or \"none\"",
                 id);
        return -1;
    }
    if (!re->gated) {
        snprintf(err, err_len, "'%s': anchor \"%s\" needs triggers", id, anchor);
        return -1;
    }
    re->from_trigger = !before;
    if (!each && !before)
        return 0;
    re->anchored = pcre2_compile((PCRE2_SPTR)b->p, b->len,
                                 PCRE2_DOTALL | PCRE2_DUPNAMES | PCRE2_ANCHORED, &ec, &off, NULL);
    if (!re->anchored) {
        snprintf(err, err_len, "'%s': anchored copy does not compile", id);
        return -1;
    }
    re->anchored_jit = pcre2_jit_compile(re->anchored, PCRE2_JIT_COMPLETE) == 0;
    return 0;
}

int patterns_compile(const struct patterns *p, struct vocab *vocab, const char *id, const char *src,
                     const json_t *gates, const char *group, struct patterns_regex *re,
                     uint32_t *max_pairs, char *err, size_t err_len)
{
    struct sbuf b = {0};
    int rc = -1;

    memset(re, 0, sizeof(*re));
    re->id = rulefile_strdup(id);
    const char *why = json_string_value(json_object_get(gates, "fixture_only"));
    re->fixture_only = why ? rulefile_strdup(why) : NULL;
    if (compile_code(p, vocab, id, src, group, &b, re, max_pairs, err, err_len) < 0 ||
        word_gates(vocab, id, gates, re, err, err_len) < 0 ||
        char_gate(gates, "digit_then", id, re->digit_then, sizeof(re->digit_then), err, err_len) <
            0 ||
        char_gate(gates, "then_digit", id, re->then_digit, sizeof(re->then_digit), err, err_len) <
            0 ||
        anchor_gate(id, gates, &b, re, err, err_len) < 0 ||
        then_words(vocab, id, gates, re, err, err_len) < 0)
        goto out;
    rc = 0;
out:
    free(b.p);
    return rc;
}

void patterns_group_numbers(const struct patterns_regex *re, const char *name, uint32_t *out)
{
    group_numbers(re->code, name, out);
}

void patterns_regex_free(struct patterns_regex *re)
{
    pcre2_code_free(re->code);
    pcre2_code_free(re->anchored);
    free(re->id);
    free(re->fixture_only);
    free(re->then_word);
    free(re->then_sets);
    memset(re, 0, sizeof(*re));
}

static char **string_list(const json_t *arr, bool *ok)
{
    size_t i;
    const json_t *s;

    *ok = true;
    if (!arr)
        return NULL;
    if (!json_is_array(arr)) {
        *ok = false;
        return NULL;
    }
    char **out = calloc(json_array_size(arr) + 1, sizeof(char *));
    if (!out)
        abort();
    json_array_foreach(arr, i, s)
    {
        if (!json_is_string(s)) {
            *ok = false;
            out[i] = rulefile_strdup("");
            continue;
        }
        out[i] = rulefile_strdup(json_string_value(s));
    }
    return out;
}

static void free_list(char **l)
{
    if (!l)
        return;
    for (char **x = l; *x; x++)
        free(*x);
    free(l);
}

/* One direction word as its bit (every direction for "any"), 0 when unknown. */
static unsigned direction_bits(const char *s)
{
    if (!s)
        return 0;
    if (strcmp(s, "any") == 0) /* and before classification (PATTERNS_ANY: the amount) */
        return (1u << PATTERNS_ANY) | (1u << PATTERNS_DEBIT) | (1u << PATTERNS_CREDIT) |
               (1u << PATTERNS_NONE);
    if (strcmp(s, "debit") == 0)
        return 1u << PATTERNS_DEBIT;
    if (strcmp(s, "credit") == 0)
        return 1u << PATTERNS_CREDIT;
    if (strcmp(s, "none") == 0)
        return 1u << PATTERNS_NONE;
    return 0;
}

/* "direction": a word or a list of words (absent: any). */
static int parse_direction(const json_t *d, unsigned *bits)
{
    size_t i;
    const json_t *w;
    if (!d) {
        *bits = direction_bits("any");
        return 0;
    }
    *bits = direction_bits(json_string_value(d));
    json_array_foreach(d, i, w)
    {
        unsigned b = direction_bits(json_string_value(w));
        if (!b)
            return -1;
        *bits |= b;
    }
    return *bits ? 0 : -1;
}

/* Every named group of re, for a "{group}" label: names and numbers, in table order. */
static void load_group_names(struct patterns_template *t)
{
    uint32_t count = 0, entry = 0;
    PCRE2_SPTR table;
    pcre2_pattern_info(t->re.code, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(t->re.code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
    pcre2_pattern_info(t->re.code, PCRE2_INFO_NAMETABLE, &table);
    t->group_names = calloc(count + 1, sizeof(char *));
    t->group_numbers = calloc(count + 1, sizeof(uint32_t));
    if (!t->group_names || !t->group_numbers)
        abort();
    for (uint32_t i = 0; i < count; i++) {
        PCRE2_SPTR e = table + (size_t)i * entry;
        t->group_numbers[i] = ((uint32_t)e[0] << 8) | e[1];
        t->group_names[i] = rulefile_strdup((const char *)e + 2);
    }
}

static int load_template(struct patterns *p, struct vocab *vocab, enum patterns_field f,
                         const json_t *t, size_t idx, struct patterns_template *out, char *err,
                         size_t err_len)
{
    char id[96];
    const char *tid = json_string_value(json_object_get(t, "id"));
    bool ok1, ok2;

    snprintf(id, sizeof(id), "%s", tid ? tid : "");
    if (!tid)
        snprintf(id, sizeof(id), "%s[%zu]", field_names[f], idx);
    const char *label = json_string_value(json_object_get(t, "label"));
    if ((f == PATTERNS_PARTY_KIND) != (label != NULL)) { /* a party is never an invented label */
        snprintf(err, err_len, "'%s': party_kind templates, and only they, have a label", id);
        return -1;
    }
    if (patterns_compile(p, vocab, id, json_string_value(json_object_get(t, "pattern")), t,
                         field_groups[f], &out->re, &p->max_pairs, err, err_len) < 0)
        return -1;
    if (parse_direction(json_object_get(t, "direction"), &out->directions)) {
        snprintf(err, err_len, "'%s': direction must be any, debit, credit, none or a list of them",
                 id);
        return -1;
    }
    bool ok3;
    out->only_types = string_list(json_object_get(t, "only_types"), &ok1);
    out->skip_types = string_list(json_object_get(t, "skip_types"), &ok2);
    out->also_types = string_list(json_object_get(t, "also_types"), &ok3);
    if (!ok1 || !ok2 || !ok3) {
        snprintf(err, err_len, "'%s': only_types/skip_types/also_types must be arrays of strings",
                 id);
        return -1;
    }
    out->raw = json_is_true(json_object_get(t, "raw"));
    out->accounts = json_is_true(json_object_get(t, "accounts"));
    out->narration = json_is_true(json_object_get(t, "narration"));
    out->label = label ? rulefile_strdup(label) : NULL;
    if (label && strcmp(label, "{group}") == 0)
        load_group_names(out);
    return 0;
}

static int load_fields(struct patterns *p, struct vocab *vocab, const json_t *fields, char *err,
                       size_t err_len)
{
    if (!json_is_object(fields)) {
        snprintf(err, err_len, "'fields' must be an object");
        return -1;
    }
    for (int f = 0; f < PATTERNS_FIELD_COUNT; f++) {
        const json_t *list = json_object_get(fields, field_names[f]);
        size_t i;
        const json_t *t;
        if (!list)
            continue;
        if (!json_is_array(list)) {
            snprintf(err, err_len, "fields.%s must be an array", field_names[f]);
            return -1;
        }
        p->fields[f] = calloc(json_array_size(list) + 1, sizeof(struct patterns_template));
        if (!p->fields[f])
            abort();
        json_array_foreach(list, i, t)
        {
            if (load_template(p, vocab, (enum patterns_field)f, t, i, &p->fields[f][i], err,
                              err_len) < 0)
                return -1;
            p->n_fields[f]++;
        }
    }
    return 0;
}

static int load_channels(struct patterns *p, struct vocab *vocab, const json_t *arr, char *err,
                         size_t err_len)
{
    size_t i;
    const json_t *c;

    if (!arr)
        return 0;
    if (!json_is_array(arr)) {
        snprintf(err, err_len, "'channels' must be an array");
        return -1;
    }
    p->channels = calloc(json_array_size(arr) + 1, sizeof(*p->channels));
    if (!p->channels)
        abort();
    json_array_foreach(arr, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "channel"));
        const char *id = json_string_value(json_object_get(c, "id"));
        if (!name) {
            snprintf(err, err_len, "channels[%zu]: 'channel' missing", i);
            return -1;
        }
        if (patterns_compile(p, vocab, id ? id : name,
                             json_string_value(json_object_get(c, "pattern")), c, NULL,
                             &p->channels[i].re, &p->max_pairs, err, err_len) < 0)
            return -1;
        p->channels[i].channel = rulefile_strdup(name);
        p->n_channels++;
    }
    return 0;
}

bool wordset_has(const struct wordset *ws, const char *w, size_t n)
{
    if (n == 0 || n > 63 || !((ws->lengths >> n) & 1))
        return false;
    unsigned char f = (unsigned char)(w[0] | 0x20);
    if (!((ws->first[f / 64] >> (f % 64)) & 1))
        return false;
    for (size_t i = 0; ws->words[i]; i++) {
        if (ws->lens[i] != n)
            continue;
        const char *x = ws->words[i];
        size_t k = 0;
        while (k < n && x[k] == (char)ascii_lower((unsigned char)w[k]))
            k++;
        if (k == n)
            return true;
    }
    return false;
}

/* A JSON array of words into ws; false when it is not an array of words of 1-63 bytes. */
static bool wordset_load(struct wordset *ws, const json_t *arr)
{
    bool ok;
    memset(ws, 0, sizeof(*ws));
    ws->words = string_list(arr, &ok);
    size_t n = 0;
    while (ws->words && ws->words[n])
        n++;
    ws->lens = calloc(n + 1, 1);
    if (!ws->lens)
        abort();
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(ws->words[i]);
        unsigned char f = (unsigned char)(ws->words[i][0] | 0x20);
        if (len == 0 || len > 63)
            return false;
        ws->lens[i] = (uint8_t)len;
        ws->lengths |= UINT64_C(1) << len;
        ws->first[f / 64] |= UINT64_C(1) << (f % 64);
    }
    return ok;
}

static void wordset_free(struct wordset *ws)
{
    free_list(ws->words);
    free(ws->lens);
    memset(ws, 0, sizeof(*ws));
}

static uint32_t word_hash(const char *w, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ ascii_lower((unsigned char)w[i])) * 16777619u;
    return h;
}

/* The bit of wordtab_filter for a word of n > 0 letters. */
static inline uint32_t word_filter_bit(const char *w, size_t n)
{
    uint32_t first = ascii_lower((unsigned char)w[0]), last = ascii_lower((unsigned char)w[n - 1]);
    return (first * 131u + last * 7u + (uint32_t)n * 1031u) & (PATTERNS_WORDTAB_FILTER - 1);
}

uint16_t patterns_word_flags(const struct patterns *p, const char *w, size_t n)
{
    if (n == 0 || n > PATTERNS_WORDTAB_MAX || !p->wordtab)
        return 0;
    uint32_t bit = word_filter_bit(w, n);
    if (!((p->wordtab_filter[bit / 64] >> (bit % 64)) & 1))
        return 0;
    for (uint32_t i = word_hash(w, n);; i++) {
        const struct patterns_wordtab_slot *s = &p->wordtab[i & (PATTERNS_WORDTAB_SLOTS - 1)];
        if (!s->len)
            return 0;
        if (s->len != n)
            continue;
        size_t k = 0;
        while (k < n && s->w[k] == (char)ascii_lower((unsigned char)w[k]))
            k++;
        if (k == n)
            return s->flags;
    }
}

static void wordtab_add(struct patterns *p, const char *w, size_t n, uint16_t flag)
{
    if (n == 0 || n > PATTERNS_WORDTAB_MAX)
        return;
    uint32_t bit = word_filter_bit(w, n);
    p->wordtab_filter[bit / 64] |= UINT64_C(1) << (bit % 64);
    for (uint32_t i = word_hash(w, n);; i++) {
        struct patterns_wordtab_slot *s = &p->wordtab[i & (PATTERNS_WORDTAB_SLOTS - 1)];
        if (!s->len) {
            for (size_t k = 0; k < n; k++)
                s->w[k] = (char)ascii_lower((unsigned char)w[k]);
            s->len = (uint8_t)n;
        }
        if (s->len == n && strncasecmp(s->w, w, n) == 0) {
            s->flags |= flag;
            return;
        }
    }
}

/* Every word list of the artifact into one hash table of flags; -1 when too many words. */
static int build_wordtab(struct patterns *p, char *err, size_t err_len)
{
    const struct wordset *lists[6] = {&p->party_reject_words, &p->narration_rails,
                                      &p->narration_noise,    &p->narration_skip,
                                      &p->narration_to,       &p->narration_from};
    static const uint8_t flags[6] = {PATTERNS_WORD_REJECT, PATTERNS_WORD_RAIL, PATTERNS_WORD_NOISE,
                                     PATTERNS_WORD_SKIP,   PATTERNS_WORD_TO,   PATTERNS_WORD_FROM};
    char **extra[3] = {p->party_stop_lower, p->party_reject, p->party_function};
    static const uint16_t extra_flags[3] = {PATTERNS_WORD_STOP_LOWER, PATTERNS_WORD_WHOLE,
                                            PATTERNS_WORD_FUNCTION};
    size_t words = 0;
    for (int l = 0; l < 6; l++)
        for (size_t i = 0; lists[l]->words && lists[l]->words[i]; i++)
            words++;
    for (size_t i = 0; p->party_stop_words && p->party_stop_words[i]; i++)
        words++;
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; extra[l] && extra[l][i]; i++)
            words++;
    if (words * 2 > PATTERNS_WORDTAB_SLOTS) {
        snprintf(err, err_len, "more than %d words in the party and narration lists",
                 PATTERNS_WORDTAB_SLOTS / 2);
        return -1;
    }
    p->wordtab = calloc(PATTERNS_WORDTAB_SLOTS, sizeof(*p->wordtab));
    if (!p->wordtab)
        abort();
    for (int l = 0; l < 6; l++)
        for (size_t i = 0; lists[l]->words && lists[l]->words[i]; i++)
            wordtab_add(p, lists[l]->words[i], lists[l]->lens[i], flags[l]);
    for (size_t i = 0; p->party_stop_words && p->party_stop_words[i]; i++) {
        const char *w = p->party_stop_words[i];
        size_t first = strcspn(w, " ");
        wordtab_add(p, w, first, w[first] ? PATTERNS_WORD_PHRASE : PATTERNS_WORD_STOP);
    }
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; extra[l] && extra[l][i]; i++)
            wordtab_add(p, extra[l][i], strlen(extra[l][i]), extra_flags[l]);
    return 0;
}

/* "party_reject_words" and the "narration" vocabulary ({"rails", "noise", "skip", "to", "from"}).
 */
static int load_narration(struct patterns *p, char *err, size_t err_len)
{
    const json_t *nar = json_object_get(p->root, "narration");
    static const char *const keys[5] = {"rails", "noise", "skip", "to", "from"};
    struct wordset *lists[5] = {&p->narration_rails, &p->narration_noise, &p->narration_skip,
                                &p->narration_to, &p->narration_from};
    bool ok2 = true;

    bool ok3 = true;
    p->party_stop_lower = string_list(json_object_get(p->root, "party_stop_words_lowercase"), &ok2);
    p->party_function = string_list(json_object_get(p->root, "party_function_words"), &ok3);
    if (!wordset_load(&p->party_reject_words, json_object_get(p->root, "party_reject_words")) ||
        !ok2 || !ok3 || (nar && !json_is_object(nar))) {
        snprintf(err, err_len,
                 "party_reject_words, party_stop_words_lowercase and party_function_words must "
                 "be arrays of words and narration an object");
        return -1;
    }
    for (int i = 0; i < 5; i++) {
        if (!wordset_load(lists[i], json_object_get(nar, keys[i]))) {
            snprintf(err, err_len, "narration.%s must be an array of words", keys[i]);
            return -1;
        }
    }
    return 0;
}

static int load_policy(struct patterns *p, char *err, size_t err_len)
{
    const json_t *a = json_object_get(p->root, "account_policy");
    bool ok1, ok2;

    p->account.keep_digits = 4;
    p->account.keep_all_min_mask = 0;
    p->account.keep_all_max_digits = 0;
    if (a) {
        p->account.keep_digits = (int)json_integer_value(json_object_get(a, "keep_digits"));
        p->account.keep_all_min_mask =
            (int)json_integer_value(json_object_get(a, "keep_all_after_mask_of"));
        p->account.keep_all_max_digits =
            (int)json_integer_value(json_object_get(a, "keep_all_max_digits"));
        if (p->account.keep_digits < 1 || p->account.keep_digits > 20) {
            snprintf(err, err_len, "account_policy.keep_digits must be 1-20");
            return -1;
        }
    }
    bool ok3;
    p->party_stop_words = string_list(json_object_get(p->root, "party_stop_words"), &ok3);
    if (!ok3) {
        snprintf(err, err_len, "party_stop_words must be an array of strings");
        return -1;
    }
    size_t n_stop = 0;
    while (p->party_stop_words && p->party_stop_words[n_stop])
        n_stop++;
    p->party_stop_lens = calloc(n_stop + 1, sizeof(size_t));
    if (!p->party_stop_lens)
        abort();
    for (size_t i = 0; i < n_stop; i++) {
        p->party_stop_lens[i] = strlen(p->party_stop_words[i]);
        p->party_stop_first[(unsigned char)p->party_stop_words[i][0]] = 1;
    }
    p->party_strip_prefixes = string_list(json_object_get(p->root, "party_strip_prefixes"), &ok1);
    p->party_reject = string_list(json_object_get(p->root, "party_reject"), &ok2);
    for (size_t i = 0; p->party_strip_prefixes && p->party_strip_prefixes[i]; i++)
        p->strip_first[ascii_lower((unsigned char)p->party_strip_prefixes[i][0])] = 1;
    if (!ok1 || !ok2) {
        snprintf(err, err_len, "party_strip_prefixes/party_reject must be arrays of strings");
        return -1;
    }
    if (load_narration(p, err, err_len) < 0)
        return -1;
    return build_wordtab(p, err, err_len);
}

int patterns_load(const char *json, size_t len, struct vocab *vocab, struct patterns **out,
                  char *err, size_t err_len)
{
    struct patterns *p = calloc(1, sizeof(*p));
    int rc = -1;

    *out = NULL;
    if (!p)
        abort();
    p->max_pairs = 1;
    p->vocab = vocab;
    const char *version;
    p->root = rulefile_parse(json, len, &version, err, err_len);
    if (!p->root)
        goto out;
    p->version = rulefile_strdup(version);
    const json_t *macros = json_object_get(p->root, "macros");
    if (macros && !json_is_object(macros)) {
        snprintf(err, err_len, "'macros' must be an object");
        goto out;
    }
    if (load_policy(p, err, err_len) < 0)
        goto out;
    if (load_fields(p, vocab, json_object_get(p->root, "fields"), err, err_len) < 0)
        goto out;
    if (load_channels(p, vocab, json_object_get(p->root, "channels"), err, err_len) < 0)
        goto out;
    *out = p;
    p = NULL;
    rc = 0;
out:
    patterns_free(p);
    return rc;
}

void patterns_free(struct patterns *p)
{
    if (!p)
        return;
    for (int f = 0; f < PATTERNS_FIELD_COUNT; f++) {
        for (size_t i = 0; p->fields[f] && p->fields[f][i].re.id; i++) {
            struct patterns_template *t = &p->fields[f][i];
            patterns_regex_free(&t->re);
            free_list(t->only_types);
            free_list(t->skip_types);
            free_list(t->also_types);
            free_list(t->group_names);
            free(t->group_numbers);
            free(t->label);
        }
        free(p->fields[f]);
    }
    for (size_t i = 0; p->channels && p->channels[i].re.id; i++) {
        patterns_regex_free(&p->channels[i].re);
        free(p->channels[i].channel);
    }
    free(p->channels);
    free_list(p->party_stop_words);
    free(p->party_stop_lens);
    free_list(p->party_strip_prefixes);
    free_list(p->party_reject);
    wordset_free(&p->party_reject_words);
    free_list(p->party_stop_lower);
    free_list(p->party_function);
    wordset_free(&p->narration_rails);
    wordset_free(&p->narration_noise);
    wordset_free(&p->narration_skip);
    wordset_free(&p->narration_to);
    wordset_free(&p->narration_from);
    free(p->wordtab);
    free(p->version);
    json_decref(p->root);
    free(p);
}

int patterns_index_init(struct patterns_index *ix, size_t cap)
{
    memset(ix, 0, sizeof(*ix));
    ix->cap = cap;
    ix->words = (cap + 63) / 64;
    if (ix->words == 0)
        ix->words = 1;
    ix->by_trigger = calloc((size_t)VOCAB_MAX_TRIGGERS * ix->words, sizeof(uint64_t));
    ix->ungated = calloc(ix->words, sizeof(uint64_t));
    if (!ix->by_trigger || !ix->ungated) {
        patterns_index_free(ix);
        return -1;
    }
    return 0;
}

void patterns_index_add(struct patterns_index *ix, struct patterns_regex *re)
{
    if (ix->n >= ix->cap)
        abort(); /* the caller counted the regexes it adds */
    re->slot = (uint32_t)ix->n++;
    uint64_t bit = UINT64_C(1) << (re->slot % 64);
    size_t word = re->slot / 64;
    if (!re->gated) {
        ix->ungated[word] |= bit;
        return;
    }
    for (size_t t = 0; t < VOCAB_MAX_TRIGGERS; t++)
        if (re->any.w[t / 64] & (UINT64_C(1) << (t % 64)))
            ix->by_trigger[t * ix->words + word] |= bit;
}

void patterns_index_free(struct patterns_index *ix)
{
    free(ix->by_trigger);
    free(ix->ungated);
    memset(ix, 0, sizeof(*ix));
}

void patterns_candidates(const struct patterns_index *ix, struct patterns_scratch *s)
{
    memcpy(s->cand, ix->ungated, ix->words * sizeof(uint64_t));
    for (size_t w = 0; w < VOCAB_MASK_WORDS; w++) {
        uint64_t present = s->hits.present.w[w];
        while (present) {
            const uint64_t *row =
                ix->by_trigger + (w * 64 + (size_t)__builtin_ctzll(present)) * ix->words;
            present &= present - 1;
            for (size_t k = 0; k < ix->words; k++)
                s->cand[k] |= row[k];
        }
    }
}

int patterns_scratch_init(struct patterns_scratch *s, uint32_t max_pairs,
                          const struct patterns_index *ix)
{
    memset(s, 0, sizeof(*s));
    s->md = pcre2_match_data_create(max_pairs, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    s->stack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
    s->cand_words = ix ? ix->words : 1;
    s->cand = calloc(s->cand_words, sizeof(uint64_t));
    if (!s->md || !s->mctx || !s->stack || !s->cand) {
        patterns_scratch_fini(s);
        return -1;
    }
    s->owns_match_state = true;
    pcre2_jit_stack_assign(s->mctx, NULL, s->stack);
    /* Bound the work of one match on a hostile body; hitting it counts as no match. */
    pcre2_set_match_limit(s->mctx, PATTERNS_MATCH_LIMIT);
    return 0;
}

int patterns_scratch_init_sharing(struct patterns_scratch *s, const struct patterns_scratch *owner,
                                  const struct patterns_index *ix)
{
    memset(s, 0, sizeof(*s));
    s->cand_words = ix ? ix->words : 1;
    s->cand = calloc(s->cand_words, sizeof(uint64_t));
    if (!s->cand)
        return -1;
    s->md = owner->md;
    s->mctx = owner->mctx;
    s->stack = owner->stack;
    return 0;
}

void patterns_scratch_fini(struct patterns_scratch *s)
{
    if (s->owns_match_state) {
        pcre2_match_data_free(s->md);
        pcre2_match_context_free(s->mctx);
        pcre2_jit_stack_free(s->stack);
    }
    free(s->cand);
    memset(s, 0, sizeof(*s));
}

/*
 * Anchor "each": the leftmost match is the one at the first occurrence of a
 * trigger word where the anchored pattern matches; each try costs one anchored
 * attempt instead of a search through the rest of the body.
 */
/*
 * The "then" gate of an occurrence at: the first byte after the word (its
 * letters) and any whitespace (PCRE2's \s) is one of then.
 */
static inline bool in_set(const uint64_t set[4], unsigned char c)
{
    return (set[c / 64] >> (c % 64)) & 1;
}

/* PCRE2's \s without UTF or UCP (a table: a strchr per byte showed in profiles). */
static const unsigned char pcre_space[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1,
};

static bool then_at(const uint64_t then[4], const char *subj, size_t len, size_t at)
{
    while (at < len && subj[at] >= 'a' && subj[at] <= 'z')
        at++;
    while (at < len && pcre_space[(unsigned char)subj[at]])
        at++;
    return at < len && in_set(then, (unsigned char)subj[at]);
}

/* One anchored attempt at offset at, after the "then" gate. */
static bool try_at(const struct patterns_regex *re, struct patterns_scratch *s, const char *subj,
                   size_t len, size_t at, uint16_t bit)
{
    if (re->has_then && !then_at(re->then, subj, len, at))
        return false;
    if (re->then_word && re->then_word[bit] &&
        !then_at(re->then_sets[re->then_word[bit] - 1], subj, len, at))
        return false;
    int rc = re->anchored_jit
                 ? pcre2_jit_match(re->anchored, (PCRE2_SPTR)subj, len, at, 0, s->md, s->mctx)
                 : pcre2_match(re->anchored, (PCRE2_SPTR)subj, len, at, 0, s->md, s->mctx);
    return rc > 0;
}

#define EACH_MAX_WORDS 32 /* trigger words of one pattern present at once, merged directly */

/* Every occurrence of the message in order, keeping re's trigger words (the long way). */
static bool run_each_all(const struct patterns_regex *re, struct patterns_scratch *s,
                         const char *subj, size_t len)
{
    for (uint32_t k = 0; k < s->hits.n_occ; k++) {
        uint16_t b = s->hits.occ[k].bit;
        if ((re->any.w[b / 64] & (UINT64_C(1) << (b % 64))) &&
            try_at(re, s, subj, len, s->hits.occ[k].at, b))
            return true;
    }
    return false;
}

/*
 * The occurrences of re's trigger words in body order: the chains of the
 * words present (usually one to three) merged by occurrence index.
 */
static bool run_each(const struct patterns_regex *re, struct patterns_scratch *s, const char *subj,
                     size_t len)
{
    uint16_t next[EACH_MAX_WORDS];
    size_t n = 0;
    for (uint8_t i = 0; i < re->n_any; i++) {
        unsigned w = re->any_idx[i];
        uint64_t m = re->any.w[w] & s->hits.present.w[w];
        for (; m; m &= m - 1) {
            if (n == EACH_MAX_WORDS)
                return run_each_all(re, s, subj, len);
            next[n++] = s->hits.first_occ[w * 64 + (unsigned)__builtin_ctzll(m)];
        }
    }
    while (n) {
        size_t j = 0;
        for (size_t i = 1; i < n; i++)
            if (next[i] < next[j])
                j = i;
        uint16_t k = next[j];
        if (try_at(re, s, subj, len, s->hits.occ[k].at, s->hits.occ[k].bit))
            return true;
        next[j] = s->hits.next_occ[k];
        if (next[j] == VOCAB_NO_OCC)
            next[j] = next[--n];
    }
    return false;
}

/*
 * The "digit_then" and "then_digit" gates: some byte of chars in subj has a
 * digit directly before it (before true) or directly after it (before false).
 */
static bool digit_beside(const char *chars, const char *subj, size_t len, bool before)
{
    const char *end = subj + len;
    for (const char *c = chars; *c; c++)
        for (const char *q = subj; (q = memchr(q, *c, (size_t)(end - q))) != NULL; q++) {
            size_t at = (size_t)(q - subj);
            if (before ? at == 0 : at + 1 == len)
                continue;
            char d = subj[before ? at - 1 : at + 1];
            if (d >= '0' && d <= '9')
                return true;
        }
    return false;
}

/*
 * Anchor "before": for each occurrence of a trigger word in body order, the
 * nearest byte of the "before" set at most PATTERNS_BEFORE_REACH bytes before
 * it is where a match may start; each such offset is tried once, anchored.
 */
static bool run_before(const struct patterns_regex *re, struct patterns_scratch *s,
                       const char *subj, size_t len)
{
    size_t tried = SIZE_MAX;
    for (uint32_t k = 0; k < s->hits.n_occ; k++) {
        uint16_t b = s->hits.occ[k].bit;
        if (!((re->any.w[b / 64] >> (b % 64)) & 1))
            continue;
        size_t at = s->hits.occ[k].at,
               stop = at > PATTERNS_BEFORE_REACH ? at - PATTERNS_BEFORE_REACH : 0;
        while (at > stop && !in_set(re->before, (unsigned char)subj[at - 1]))
            at--;
        if (at == stop || at - 1 == tried)
            continue;
        tried = at - 1;
        if (try_at(re, s, subj, len, tried, b))
            return true;
    }
    return false;
}

bool patterns_run(const struct patterns_regex *re, struct patterns_scratch *s, const char *subj,
                  size_t len)
{
    int rc;
    size_t start = 0;

    if (!patterns_gate(re, s))
        return false;
    if (re->digit_then[0] && !digit_beside(re->digit_then, subj, len, true))
        return false;
    if (re->then_digit[0] && !digit_beside(re->then_digit, subj, len, false))
        return false;
    if (re->anchored && !s->hits.occ_overflow)
        return re->has_before ? run_before(re, s, subj, len) : run_each(re, s, subj, len);
    if (re->from_trigger) {
        /* the first offset of the trigger words present: visit only their set bits */
        start = len;
        for (uint8_t i = 0; i < re->n_any; i++) {
            unsigned w = re->any_idx[i];
            uint64_t m = re->any.w[w] & s->hits.present.w[w];
            while (m) {
                uint32_t at = s->hits.first[w * 64 + (unsigned)__builtin_ctzll(m)];
                m &= m - 1;
                if (at < start)
                    start = at;
            }
        }
        start = start > re->reach ? start - re->reach : 0;
    }
    if (re->jit)
        rc = pcre2_jit_match(re->code, (PCRE2_SPTR)subj, len, start, 0, s->md, s->mctx);
    else
        rc = pcre2_match(re->code, (PCRE2_SPTR)subj, len, start, 0, s->md, s->mctx);
    return rc > 0;
}

/* The span of the first of groups[] in the last match; (1, 0) when none took part. */
static void value_span(const struct patterns_scratch *s, const uint32_t *groups, size_t *start,
                       size_t *end)
{
    *start = 1;
    *end = 0;
    if (groups)
        patterns_named(s, groups, start, end);
}

bool patterns_gates_agree(const struct patterns_regex *re, struct patterns_scratch *s,
                          const char *subj, size_t len, const uint32_t *groups)
{
    size_t gs = 0, ge = 0, ps, pe;
    /* "require" is a condition of the rule, not a promise about its matches */
    if (!patterns_required(re, s))
        return true;
    bool gated = patterns_run(re, s, subj, len);
    if (gated)
        value_span(s, groups, &gs, &ge);
    int rc = re->jit ? pcre2_jit_match(re->code, (PCRE2_SPTR)subj, len, 0, 0, s->md, s->mctx)
                     : pcre2_match(re->code, (PCRE2_SPTR)subj, len, 0, 0, s->md, s->mctx);
    if (rc <= 0)
        return !gated;
    value_span(s, groups, &ps, &pe);
    return gated && ps == gs && pe == ge;
}

bool patterns_group(const struct patterns_scratch *s, uint32_t g, size_t *start, size_t *end)
{
    if (g >= pcre2_get_ovector_count(s->md))
        return false;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
    if (ov[2 * g] == PCRE2_UNSET)
        return false;
    *start = ov[2 * g];
    *end = ov[2 * g + 1];
    return true;
}

bool patterns_named(const struct patterns_scratch *s, const uint32_t *gs, size_t *start,
                    size_t *end)
{
    for (int i = 0; i < PATTERNS_MAX_DUP && gs[i]; i++)
        if (patterns_group(s, gs[i], start, end))
            return true;
    return false;
}
