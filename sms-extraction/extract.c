/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The extraction engine's entry points (see extract.h): load the three
 * artifacts into one immutable rule set, and turn one message into one record.
 *
 * DESIGN. Per message: normalise the sender and look it up; fold look-alike
 * characters to ASCII when the body has any (fold.c); lower-case the
 * body once into the scratch and scan it for trigger words; read the amount
 * (templates are generic grammar, the first that matches wins); run the
 * ordered classification rules (first match wins; a rule may require an
 * amount); detect the channel; then run only the field templates the rule
 * asks for, filtered by direction and type, each gated by its trigger words.
 * Captures are offsets, so values are copied from the (folded) body with
 * their case intact. Nothing is allocated per message.
 */
#include "sms-extraction/extract.h"
#include "sms-extraction/ascii.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/sender.h"
#include "sms-extraction/classify.h"
#include "sms-extraction/fold.h"
#include "sms-extraction/party.h"
#include "sms-extraction/patterns.h"
#include "sms-extraction/vocab.h"

/* Longer bodies are read up to this many bytes (real SMS stay far below). */
#define EXTRACT_MAX_BODY VOCAB_SCAN_MAX

struct extract_rules {
    struct vocab *vocab;
    struct patterns *pat;
    struct classify *cls;
    struct patterns_index index; /* every regex above, numbered */
    char version[256];
    uint32_t max_pairs;
};

/* What the field pass needs to know about the message so far. */
struct msg {
    const char *body;
    const char *lower;
    size_t len;
    enum patterns_direction direction;
    const char *sms_type;
};

/* One message of a batch on its way through the steps. */
struct slot {
    struct patterns_scratch ps; /* its trigger words; the match state is slot 0's */
    struct msg m;
    const struct classify_rule *rule;
    bool transactional;          /* the rule's (or its outcome's) flag */
    struct extract_trace *trace; /* NULL unless a rule author asked */
    int dir;                     /* 0 none, 1 debit, 2 credit */
    char lower[EXTRACT_MAX_BODY + VOCAB_SCAN_SLACK];
    char folded[EXTRACT_MAX_BODY]; /* the body with look-alikes folded, when it had any */
};

struct extract_scratch {
    struct slot slot[EXTRACT_BATCH];
};

/* A pattern decided part of the record: remembered when tracing. */
static inline void trace_add(struct slot *sc, const char *id)
{
    if (sc->trace && sc->trace->n < EXTRACT_TRACE_MAX)
        sc->trace->id[sc->trace->n++] = id;
}

/* Number every regex in the candidate index: each list's slots consecutive. */
static int index_regexes(struct extract_rules *r)
{
    const struct patterns *p = r->pat;
    size_t n = p->n_channels + r->cls->n_rules;
    for (int f = 0; f < PATTERNS_FIELD_COUNT; f++)
        n += p->n_fields[f];
    if (patterns_index_init(&r->index, n) < 0)
        return -1;
    for (int f = 0; f < PATTERNS_FIELD_COUNT; f++)
        for (size_t i = 0; i < p->n_fields[f]; i++)
            patterns_index_add(&r->index, &p->fields[f][i].re);
    for (size_t i = 0; i < p->n_channels; i++)
        patterns_index_add(&r->index, &p->channels[i].re);
    for (size_t i = 0; i < r->cls->n_rules; i++)
        patterns_index_add(&r->index, &r->cls->rules[i].re);
    return 0;
}

int extract_rules_load(const char *vocabulary, size_t vocabulary_len, const char *classification,
                       size_t classification_len, const char *regex, size_t regex_len,
                       struct extract_rules **out, char *err, size_t err_len)
{
    struct extract_rules *r = calloc(1, sizeof(*r));
    char inner[300];
    int rc = -1;

    *out = NULL;
    if (!r)
        abort();
    if (vocab_load(vocabulary, vocabulary_len, &r->vocab, inner, sizeof(inner)) < 0) {
        snprintf(err, err_len, "vocabulary: %s", inner);
        goto out;
    }
    if (patterns_load(regex, regex_len, r->vocab, &r->pat, inner, sizeof(inner)) < 0) {
        snprintf(err, err_len, "regex: %s", inner);
        goto out;
    }
    if (classify_load(classification, classification_len, r->vocab, r->pat, &r->cls, inner,
                      sizeof(inner)) < 0) {
        snprintf(err, err_len, "classification: %s", inner);
        goto out;
    }
    if (index_regexes(r) < 0)
        abort();
    r->max_pairs = r->pat->max_pairs > r->cls->max_pairs ? r->pat->max_pairs : r->cls->max_pairs;
    snprintf(r->version, sizeof(r->version), "vocabulary=%s,classification=%s,regex=%s",
             vocab_version(r->vocab), r->cls->version, r->pat->version);
    *out = r;
    r = NULL;
    rc = 0;
out:
    extract_rules_free(r);
    return rc;
}

void extract_rules_free(struct extract_rules *rules)
{
    if (!rules)
        return;
    patterns_index_free(&rules->index);
    classify_free(rules->cls);
    patterns_free(rules->pat);
    vocab_free(rules->vocab);
    free(rules);
}

const char *extract_rules_version(const struct extract_rules *rules)
{
    return rules->version;
}

const char *extract_rules_artifact_version(const struct extract_rules *rules, int which)
{
    switch (which) {
    case 0:
        return vocab_version(rules->vocab);
    case 1:
        return rules->cls->version;
    case 2:
        return rules->pat->version;
    default:
        return NULL;
    }
}

struct extract_scratch *extract_scratch_new(const struct extract_rules *rules)
{
    struct extract_scratch *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (patterns_scratch_init(&s->slot[0].ps, rules->max_pairs, &rules->index) < 0) {
        free(s);
        return NULL;
    }
    for (size_t i = 1; i < EXTRACT_BATCH; i++) {
        if (patterns_scratch_init_sharing(&s->slot[i].ps, &s->slot[0].ps, &rules->index) < 0) {
            extract_scratch_free(s);
            return NULL;
        }
    }
    return s;
}

void extract_scratch_free(struct extract_scratch *scratch)
{
    if (!scratch)
        return;
    for (size_t i = EXTRACT_BATCH; i-- > 0;)
        patterns_scratch_fini(&scratch->slot[i].ps);
    free(scratch);
}

/*
 * Field by field, strings as empty: a memset of the ~600-byte record was a
 * visible share of a message's time (a string compiler's rep stos).
 */
static void record_init(struct extract_record *out)
{
    out->sender[0] = '\0';
    out->sender_name = out->sender_type = out->sms_type = out->sms_sub_type = NULL;
    out->sms_kind = out->party_kind = NULL;
    out->template_id = out->channel = out->currency = NULL;
    out->is_classified = out->is_extracted = out->is_transactional = false;
    out->direction = EXTRACT_DIRECTION_NONE;
    out->amount = out->available_balance = out->credit_limit = NAN;
    out->available_limit = out->due_amount = out->min_due = NAN;
    out->overdue_amount = out->days_past_due = NAN;
    out->account_last_digits[0] = out->transaction_party[0] = out->reference_no[0] = '\0';
    out->transaction_date[0] = out->due_date[0] = out->unique_pan[0] = '\0';
}

/*
 * A number as printed ("1,25,000.50", "-579822.00"), or NAN. Digits are
 * gathered into one integer and divided once by a power of ten: both are exact
 * doubles below 2^53, so the quotient is correctly rounded, as strtod's would
 * be, without strtod's cost. Longer numbers fall back to strtod.
 */
static double parse_number(const char *s, size_t len)
{
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};
    char buf[48];
    size_t n = 0, digits = 0, frac = 0;
    uint64_t v = 0;
    bool dot = false, neg = false;
    for (size_t i = 0; i < len && n + 1 < sizeof(buf); i++) {
        char c = s[i];
        if (c == ',')
            continue;
        if (c >= '0' && c <= '9') {
            v = v * 10 + (uint64_t)(c - '0');
            digits++;
            frac += dot;
        } else if (c == '.' && !dot) {
            dot = true;
        } else if (c == '-' && n == 0) {
            neg = true;
        } else {
            break;
        }
        buf[n++] = c;
    }
    if (digits == 0)
        return NAN;
    if (digits <= 15 && frac < sizeof(pow10) / sizeof(pow10[0])) {
        double d = (double)v / pow10[frac];
        return neg ? -d : d;
    }
    buf[n] = '\0';
    char *end;
    double d = strtod(buf, &end);
    return end == buf ? NAN : d;
}

static const char *currency_code(const char *s, size_t len)
{
    static const char *const map[][2] = {{"rs", "INR"},  {"inr", "INR"}, {"\xe2\x82\xb9", "INR"},
                                         {"usd", "USD"}, {"eur", "EUR"}, {"gbp", "GBP"},
                                         {"aed", "AED"}, {"sgd", "SGD"}, {"$", "USD"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        size_t n = strlen(map[i][0]);
        if (len >= n && memcmp(s, map[i][0], n) == 0)
            return map[i][1];
    }
    return "INR";
}

static bool in_list(char *const *list, const char *s)
{
    if (!list || !s)
        return false;
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

static inline bool template_applies(const struct patterns_template *t, const struct msg *m)
{
    if (!((t->directions >> m->direction) & 1u))
        return t->also_types && in_list(t->also_types, m->sms_type);
    if (!t->only_types && !t->skip_types)
        return true;
    if (t->only_types && !in_list(t->only_types, m->sms_type))
        return false;
    if (t->skip_types && in_list(t->skip_types, m->sms_type))
        return false;
    return true;
}

/*
 * First template of field f that matches; its value offsets in *s, *e.
 * Returns the template or NULL.
 */
static const struct patterns_template *find_field(const struct extract_rules *r, struct slot *sc,
                                                  enum patterns_field f, const struct msg *m,
                                                  size_t *s, size_t *e)
{
    const struct patterns_template *list = r->pat->fields[f];
    size_t n = r->pat->n_fields[f], base = n ? list[0].re.slot : 0;
    for (size_t k = patterns_next(&sc->ps, base, base + n); k < base + n;
         k = patterns_next(&sc->ps, k + 1, base + n)) {
        const struct patterns_template *t = &list[k - base];
        if (!patterns_gate(&t->re, &sc->ps) || !template_applies(t, m))
            continue;
        if (!patterns_run(&t->re, &sc->ps, m->lower, m->len))
            continue;
        if (t->label) {
            *s = *e = 0;
            trace_add(sc, t->re.id);
            return t;
        }
        if (patterns_named(&sc->ps, t->re.group, s, e) && *e > *s) {
            trace_add(sc, t->re.id);
            return t;
        }
    }
    return NULL;
}

static double find_number(const struct extract_rules *r, struct slot *sc, enum patterns_field f,
                          const struct msg *m)
{
    size_t s, e;
    if (!find_field(r, sc, f, m, &s, &e))
        return NAN;
    return parse_number(m->body + s, e - s);
}

/* Copy body[s,e) into dst with whitespace runs collapsed to one space. */
static void copy_text(char *dst, size_t cap, const char *src, size_t len)
{
    size_t n = 0;
    bool space = false;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        if (ascii_space(c)) {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < cap)
            dst[n++] = ' ';
        space = false;
        dst[n++] = (char)c;
    }
    dst[n] = '\0';
}

static void account_digits(const struct patterns_account_policy *pol, const char *s, size_t len,
                           char *out, size_t cap)
{
    char digits[64];
    size_t nd = 0, mask = 0, tail = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (ascii_digit((unsigned char)c)) {
            if (nd + 1 < sizeof(digits))
                digits[nd++] = c;
            tail++;
        } else {
            if (c == 'x' || c == 'X' || c == '*' || c == '#' || c == 'n' || c == 'N')
                mask++;
            tail = 0;
        }
    }
    size_t keep = nd > (size_t)pol->keep_digits ? (size_t)pol->keep_digits : nd;
    if (pol->keep_all_min_mask > 0 && mask >= (size_t)pol->keep_all_min_mask && tail > keep &&
        tail <= (size_t)pol->keep_all_max_digits)
        keep = tail;
    if (keep + 1 > cap)
        keep = cap - 1;
    memcpy(out, digits + nd - keep, keep);
    out[keep] = '\0';
}

/*
 * The name in a party template's capture [*s, *e): an opening quote skipped,
 * a narration split into its fields and its name field taken, the end cut
 * where the name ends (party.c). False when nothing of it is a name.
 */
static bool party_span(const struct patterns *p, const struct msg *m,
                       const struct patterns_template *t, size_t *s, size_t *e)
{
    if (t->raw)
        return true;
    if (m->body[*s] == '"' || m->body[*s] == '\'')
        (*s)++;
    bool narration = *e > *s && party_narration_like(p, m->body + *s, *e - *s);
    if (t->narration && !narration)
        return false;
    if (narration) {
        size_t ns, ne;
        int dir = m->direction == PATTERNS_DEBIT ? 1 : m->direction == PATTERNS_CREDIT ? 2 : 0;
        if (!party_narration(p, m->body + *s, *e - *s, dir, &ns, &ne))
            return false;
        *e = *s + ne;
        *s += ns;
    }
    *e = *s + party_cut(p, m->body + *s, *e - *s);
    return *e > *s;
}

/*
 * The party: the first template whose capture holds a name (party.c decides
 * where it ends and whether it is one). Always text of the body: no rule or
 * template may put an invented label here (what kind of party it is goes in
 * party_kind).
 */
static void extract_party(const struct extract_rules *r, struct slot *sc, const struct msg *m,
                          struct extract_record *out)
{
    size_t s, e;
    const struct patterns *p = r->pat;
    const struct patterns_template *list = p->fields[PATTERNS_PARTY];
    size_t n = p->n_fields[PATTERNS_PARTY], base = n ? list[0].re.slot : 0;
    for (size_t k = patterns_next(&sc->ps, base, base + n); k < base + n;
         k = patterns_next(&sc->ps, k + 1, base + n)) {
        const struct patterns_template *t = &list[k - base];
        if (!template_applies(t, m) || !patterns_run(&t->re, &sc->ps, m->lower, m->len))
            continue;
        if (!patterns_named(&sc->ps, t->re.group, &s, &e) || e <= s || !party_span(p, m, t, &s, &e))
            continue;
        copy_text(out->transaction_party, sizeof(out->transaction_party), m->body + s, e - s);
        party_clean(p, out->transaction_party, t->accounts);
        if (out->transaction_party[0]) {
            trace_add(sc, t->re.id);
            return;
        }
    }
}

static void extract_text(const struct extract_rules *r, struct slot *sc, enum patterns_field f,
                         const struct msg *m, char *dst, size_t cap)
{
    size_t s, e;
    if (find_field(r, sc, f, m, &s, &e))
        copy_text(dst, cap, m->body + s, e - s);
}

/* The party_kind a template names: its label, or for "{group}" the named group that matched. */
static const char *find_kind(const struct extract_rules *r, struct slot *sc, const struct msg *m)
{
    size_t s, e;
    const struct patterns_template *t = find_field(r, sc, PATTERNS_PARTY_KIND, m, &s, &e);
    if (!t || !t->group_names)
        return t ? t->label : NULL;
    for (size_t i = 0; t->group_names[i]; i++)
        if (patterns_group(&sc->ps, t->group_numbers[i], &s, &e))
            return t->group_names[i];
    return NULL;
}

static void extract_fields(const struct extract_rules *r, struct slot *sc, const struct msg *m,
                           const struct classify_rule *rule, struct extract_record *out)
{
    unsigned want = rule ? rule->fields : r->cls->unknown_fields;
    size_t s, e;

    if (!(want & (1u << PATTERNS_AMOUNT)))
        out->amount = NAN;
    if (want & (1u << PATTERNS_BALANCE))
        out->available_balance = find_number(r, sc, PATTERNS_BALANCE, m);
    if ((want & (1u << PATTERNS_ACCOUNT)) && find_field(r, sc, PATTERNS_ACCOUNT, m, &s, &e))
        account_digits(&r->pat->account, m->body + s, e - s, out->account_last_digits,
                       sizeof(out->account_last_digits));
    if (want & (1u << PATTERNS_REFERENCE))
        extract_text(r, sc, PATTERNS_REFERENCE, m, out->reference_no, sizeof(out->reference_no));
    if (want & (1u << PATTERNS_PARTY))
        extract_party(r, sc, m, out);
    if (want & (1u << PATTERNS_DATE))
        extract_text(r, sc, PATTERNS_DATE, m, out->transaction_date, sizeof(out->transaction_date));
    if (want & (1u << PATTERNS_CREDIT_LIMIT))
        out->credit_limit = find_number(r, sc, PATTERNS_CREDIT_LIMIT, m);
    if (want & (1u << PATTERNS_AVAILABLE_LIMIT))
        out->available_limit = find_number(r, sc, PATTERNS_AVAILABLE_LIMIT, m);
    if (want & (1u << PATTERNS_DUE_AMOUNT))
        out->due_amount = find_number(r, sc, PATTERNS_DUE_AMOUNT, m);
    if (want & (1u << PATTERNS_MIN_DUE))
        out->min_due = find_number(r, sc, PATTERNS_MIN_DUE, m);
    if (want & (1u << PATTERNS_DUE_DATE))
        extract_text(r, sc, PATTERNS_DUE_DATE, m, out->due_date, sizeof(out->due_date));
    if (want & (1u << PATTERNS_OVERDUE_AMOUNT))
        out->overdue_amount = find_number(r, sc, PATTERNS_OVERDUE_AMOUNT, m);
    if (want & (1u << PATTERNS_DAYS_PAST_DUE))
        out->days_past_due = find_number(r, sc, PATTERNS_DAYS_PAST_DUE, m);
    if ((want & (1u << PATTERNS_PARTY_KIND)) && !out->party_kind)
        out->party_kind = find_kind(r, sc, m);
}

/* The first outcome of rule whose group took part in its match (the match just made). */
static const struct classify_outcome *outcome_of(const struct classify_rule *rule,
                                                 const struct slot *sc)
{
    size_t s, e;
    for (size_t i = 0; i < rule->n_outcomes; i++) {
        const struct classify_outcome *o = &rule->outcomes[i];
        if ((o->group[0] && patterns_named(&sc->ps, o->group, &s, &e)) ||
            (o->has_words && vocab_mask_any(&o->words, &sc->ps.hits.present)))
            return o;
    }
    return NULL;
}

/* The letter run that ends at most 8 non-letters before at is one of b's not_after words. */
static bool after_negator(const struct classify_bound *b, const char *lower, size_t at)
{
    size_t end = at, gap = 0;
    while (end > 0 && !(lower[end - 1] >= 'a' && lower[end - 1] <= 'z') && gap++ < 8)
        end--;
    size_t start = end;
    while (start > 0 && lower[start - 1] >= 'a' && lower[start - 1] <= 'z')
        start--;
    for (size_t i = 0; i < b->n_not_after && start < end; i++)
        if (strlen(b->not_after[i]) == end - start &&
            memcmp(b->not_after[i], lower + start, end - start) == 0)
            return true;
    return false;
}

/*
 * More executed movements named than one transaction has (see struct classify_bound). Most
 * bodies name one or two verbs: their occurrences are counted from the chains of the verbs
 * present, and only a body over the bound has each occurrence checked for a negator before
 * it. When the scan overflowed (no chains) every recorded occurrence is looked at.
 */
static bool many_movements(const struct classify_bound *b, const struct vocab_hits *h,
                           const char *lower)
{
    uint32_t at[VOCAB_MAX_OCCURRENCES];
    unsigned n = 0, counted = 0;
    if (!b->on)
        return false;
    if (h->occ_overflow) {
        for (uint32_t k = 0; k < h->n_occ; k++)
            if ((b->verbs.w[h->occ[k].bit / 64] >> (h->occ[k].bit % 64)) & 1)
                at[n++] = h->occ[k].at;
    } else {
        for (int i = 0; i < b->n_verb_words; i++) {
            int w = b->verb_words[i];
            for (uint64_t m = b->verbs.w[w] & h->present.w[w]; m; m &= m - 1) {
                unsigned bit = (unsigned)(w * 64 + __builtin_ctzll(m));
                for (uint16_t k = h->first_occ[bit]; k != VOCAB_NO_OCC; k = h->next_occ[k])
                    at[n++] = h->occ[k].at;
            }
        }
    }
    if (n <= b->max_verbs)
        return false;
    for (unsigned k = 0; k < n; k++)
        if (!after_negator(b, lower, at[k]) && ++counted > b->max_verbs)
            return true;
    return false;
}

static const struct classify_rule *classify(const struct extract_rules *r, struct slot *sc,
                                            const struct msg *m, bool have_amount, int *direction,
                                            const struct classify_outcome **outcome)
{
    const struct classify *c = r->cls;
    size_t n = c->n_rules, base = n ? c->rules[0].re.slot : 0;
    int many = -1; /* many_movements, found when first needed */
    for (size_t k = patterns_next(&sc->ps, base, base + n); k < base + n;
         k = patterns_next(&sc->ps, k + 1, base + n)) {
        const struct classify_rule *rule = &c->rules[k - base];
        if ((rule->needs_amount && !have_amount) || !patterns_gate(&rule->re, &sc->ps))
            continue;
        if (rule->moves_money && many < 0)
            many = many_movements(&c->one_transaction, &sc->ps.hits, m->lower);
        if (rule->moves_money && many)
            continue;
        if (!patterns_run(&rule->re, &sc->ps, m->lower, m->len))
            continue;
        size_t s, e;
        switch (rule->direction) {
        case CLASSIFY_DEBIT:
            *direction = 1;
            break;
        case CLASSIFY_CREDIT:
            *direction = 2;
            break;
        case CLASSIFY_BY_GROUP:
            *direction = patterns_named(&sc->ps, rule->re.debit, &s, &e) ? 1 : 2;
            break;
        default:
            *direction = 0;
        }
        *outcome = outcome_of(rule, sc);
        if (*outcome && (*outcome)->has_direction)
            *direction = (int)(*outcome)->direction;
        return rule;
    }
    *direction = 0;
    *outcome = NULL;
    return NULL;
}

static const char *detect_channel(const struct extract_rules *r, struct slot *sc,
                                  const struct msg *m)
{
    const struct patterns_channel *list = r->pat->channels;
    size_t n = r->pat->n_channels, base = n ? list[0].re.slot : 0;
    for (size_t k = patterns_next(&sc->ps, base, base + n); k < base + n;
         k = patterns_next(&sc->ps, k + 1, base + n))
        if (patterns_run(&list[k - base].re, &sc->ps, m->lower, m->len)) {
            trace_add(sc, list[k - base].re.id);
            return list[k - base].channel;
        }
    return NULL;
}

/* Append s to dst[*n] within cap, keeping the NUL (no snprintf: it showed in profiles). */
static void append(char *dst, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s);
    if (*n + len + 1 > cap)
        len = cap - 1 - *n;
    memcpy(dst + *n, s, len);
    *n += len;
    dst[*n] = '\0';
}

static void fill_unique_pan(struct extract_record *out)
{
    size_t n = strlen(out->account_last_digits), k = 0;
    const char *last2 = n >= 2 ? out->account_last_digits + n - 2 : "-1";
    append(out->unique_pan, sizeof(out->unique_pan), &k,
           out->sender_type ? out->sender_type : "unknown");
    append(out->unique_pan, sizeof(out->unique_pan), &k, " | ");
    append(out->unique_pan, sizeof(out->unique_pan), &k,
           out->sender_name ? out->sender_name : out->sender);
    append(out->unique_pan, sizeof(out->unique_pan), &k, " | ");
    append(out->unique_pan, sizeof(out->unique_pan), &k, last2);
}

/* Step 1: sender, the lower-cased body and its trigger words. */
static void step_begin(const struct extract_rules *rules, struct slot *sc,
                       const struct extract_input *in, struct extract_record *out)
{
    record_init(out);
    sender_normalise(in->sender, in->sender_len, out->sender, sizeof(out->sender));
    const struct vocab_entity *ent = vocab_sender(rules->vocab, out->sender);
    if (ent) {
        out->sender_name = ent->name;
        out->sender_type = ent->type;
    }
    memset(&sc->m, 0, sizeof(sc->m));
    sc->m.body = in->body ? in->body : "";
    sc->m.len = in->body_len > EXTRACT_MAX_BODY ? EXTRACT_MAX_BODY : in->body_len;
    if (fold_needed(sc->m.body, sc->m.len)) {
        sc->m.len = fold_lookalikes(sc->m.body, sc->m.len, sc->folded);
        sc->m.body = sc->folded;
    }
    vocab_scan(rules->vocab, sc->m.body, sc->m.len, sc->lower, &sc->ps.hits);
    patterns_candidates(&rules->index, &sc->ps);
    sc->m.lower = sc->lower;
}

/* Step 2: the amount (classification rules may require one). */
static void step_amount(const struct extract_rules *rules, struct slot *sc,
                        struct extract_record *out)
{
    size_t s, e, cs, ce;
    const struct patterns_template *amt = find_field(rules, sc, PATTERNS_AMOUNT, &sc->m, &s, &e);
    if (!amt)
        return;
    out->amount = parse_number(sc->m.body + s, e - s);
    if (!isnan(out->amount))
        out->currency = patterns_named(&sc->ps, amt->re.currency, &cs, &ce)
                            ? currency_code(sc->m.lower + cs, ce - cs)
                            : "INR";
    out->template_id = amt->re.id;
}

/*
 * Step 3: classification, channel, and the type they give together. An amount
 * of 0 moves no money: a rule that needs an amount does not fire on it.
 */
static void step_classify(const struct extract_rules *rules, struct slot *sc,
                          struct extract_record *out)
{
    const struct classify_outcome *oc;
    const struct classify_rule *rule =
        classify(rules, sc, &sc->m, !isnan(out->amount) && out->amount > 0, &sc->dir, &oc);
    int dir = sc->dir;
    sc->rule = rule;
    sc->transactional = rule && (oc ? oc->transactional : rule->transactional);
    if (rule)
        trace_add(sc, rule->re.id);
    out->channel = detect_channel(rules, sc, &sc->m);
    if (rule) {
        int ins = classify_instrument(rules->cls, out->channel, out->sender_type);
        out->sms_type = oc ? oc->types[ins][dir] : rule->types[ins][dir];
        out->sms_sub_type = out->sender_type;
        out->sms_kind = oc ? oc->kind : rule->kind;
        out->party_kind = rule->party_kind;
        out->is_classified = true;
        out->direction = dir == 1   ? EXTRACT_DIRECTION_DEBIT
                         : dir == 2 ? EXTRACT_DIRECTION_CREDIT
                                    : EXTRACT_DIRECTION_NONE;
    } else {
        out->sms_type = rules->cls->unknown_type;
        out->sms_sub_type = rules->cls->unknown_sub_type;
        out->sms_kind = rules->cls->unknown_kind;
    }
    sc->m.direction = (enum patterns_direction)(dir == 0 ? PATTERNS_NONE : dir);
    sc->m.sms_type = out->sms_type;
}

/* Step 5: what follows from all the fields. */
static void step_finish(const struct slot *sc, struct extract_record *out)
{
    if (isnan(out->amount)) {
        out->currency = NULL;
        out->template_id = NULL;
    }
    out->is_transactional = sc->transactional && !isnan(out->amount);
    out->is_extracted = !isnan(out->amount) || !isnan(out->available_balance);
    if (out->is_transactional || out->account_last_digits[0])
        fill_unique_pan(out);
}

/*
 * Each step runs over the whole batch before the next (step 4 is the
 * fields). A message's record is what extract_message would give; the
 * batch only changes the order of work: the patterns a step runs (their
 * JIT code, the tables they read) are then still in the CPU's caches for
 * the next message.
 */
void extract_batch_traced(const struct extract_rules *rules, struct extract_scratch *scratch,
                          const struct extract_input *in, size_t n, struct extract_record *out,
                          struct extract_trace *trace)
{
    struct slot *sl = scratch->slot;
    for (size_t done = 0; done < n; done += EXTRACT_BATCH) {
        size_t k = n - done < EXTRACT_BATCH ? n - done : EXTRACT_BATCH;
        for (size_t i = 0; i < k; i++) {
            sl[i].trace = trace ? &trace[done + i] : NULL;
            if (sl[i].trace)
                sl[i].trace->n = 0;
            step_begin(rules, &sl[i], &in[done + i], &out[done + i]);
        }
        for (size_t i = 0; i < k; i++)
            step_amount(rules, &sl[i], &out[done + i]);
        for (size_t i = 0; i < k; i++)
            step_classify(rules, &sl[i], &out[done + i]);
        for (size_t i = 0; i < k; i++)
            extract_fields(rules, &sl[i], &sl[i].m, sl[i].rule, &out[done + i]);
        for (size_t i = 0; i < k; i++)
            step_finish(&sl[i], &out[done + i]);
    }
}

void extract_batch(const struct extract_rules *rules, struct extract_scratch *scratch,
                   const struct extract_input *in, size_t n, struct extract_record *out)
{
    extract_batch_traced(rules, scratch, in, n, out, NULL);
}

void extract_patterns(const struct extract_rules *rules,
                      void (*each)(const char *id, const char *what, const char *fixture_only,
                                   void *arg),
                      void *arg)
{
    const struct patterns *p = rules->pat;
    for (size_t i = 0; i < rules->cls->n_rules; i++)
        each(rules->cls->rules[i].re.id, "rule", rules->cls->rules[i].re.fixture_only, arg);
    for (size_t i = 0; i < p->n_channels; i++)
        each(p->channels[i].re.id, "channel", p->channels[i].re.fixture_only, arg);
    for (int f = 0; f < PATTERNS_FIELD_COUNT; f++)
        for (size_t i = 0; i < p->n_fields[f]; i++)
            each(p->fields[f][i].re.id, patterns_field_name((enum patterns_field)f),
                 p->fields[f][i].re.fixture_only, arg);
}

void extract_message(const struct extract_rules *rules, struct extract_scratch *scratch,
                     const char *sender, size_t sender_len, const char *body, size_t body_len,
                     struct extract_record *out)
{
    struct extract_input in = {sender, sender_len, body, body_len};
    extract_batch(rules, scratch, &in, 1, out);
}

/* One pattern for extract_check_gates; groups: what of its match is used (NULL: whether). */
static size_t check_one(const struct patterns_regex *re, const uint32_t *groups, struct slot *sc,
                        void (*report)(const char *, void *), void *arg)
{
    if (patterns_gates_agree(re, &sc->ps, sc->m.lower, sc->m.len, groups))
        return 0;
    report(re->id, arg);
    return 1;
}

size_t extract_check_gates(const struct extract_rules *rules, struct extract_scratch *scratch,
                           const char *body, size_t body_len,
                           void (*report)(const char *pattern_id, void *arg), void *arg)
{
    struct extract_input in = {"", 0, body, body_len};
    struct extract_record rec;
    struct slot *sc = &scratch->slot[0];
    const struct patterns *p = rules->pat;
    size_t bad = 0;

    sc->trace = NULL;
    step_begin(rules, sc, &in, &rec);
    for (int f = 0; f < PATTERNS_FIELD_COUNT; f++)
        for (size_t i = 0; i < p->n_fields[f]; i++)
            bad += check_one(&p->fields[f][i].re, p->fields[f][i].re.group, sc, report, arg);
    for (size_t i = 0; i < p->n_channels; i++)
        bad += check_one(&p->channels[i].re, NULL, sc, report, arg);
    for (size_t i = 0; i < rules->cls->n_rules; i++) {
        const struct patterns_regex *re = &rules->cls->rules[i].re;
        bad += check_one(re, re->debit[0] ? re->debit : NULL, sc, report, arg);
    }
    return bad;
}

/* A cycle counter where there is one (x86), else the monotonic clock in ns. */
static inline uint64_t ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_ia32_rdtsc();
#else
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
#endif
}

/* One pattern's gated run on the body in sc, timed. */
static double time_one(const struct patterns_regex *re, struct slot *sc)
{
    uint64_t a = ticks();
    (void)patterns_run(re, &sc->ps, sc->m.lower, sc->m.len);
    return (double)(ticks() - a);
}

void extract_pattern_cost(const struct extract_rules *rules, struct extract_scratch *scratch,
                          const char *body, size_t body_len, double *cost)
{
    struct extract_input in = {"", 0, body, body_len};
    struct extract_record rec;
    struct slot *sc = &scratch->slot[0];
    const struct patterns *p = rules->pat;
    size_t k = 0;

    sc->trace = NULL;
    step_begin(rules, sc, &in, &rec);
    for (size_t i = 0; i < rules->cls->n_rules; i++)
        cost[k++] += time_one(&rules->cls->rules[i].re, sc);
    for (size_t i = 0; i < p->n_channels; i++)
        cost[k++] += time_one(&p->channels[i].re, sc);
    for (int f = 0; f < PATTERNS_FIELD_COUNT; f++)
        for (size_t i = 0; i < p->n_fields[f]; i++)
            cost[k++] += time_one(&p->fields[f][i].re, sc);
}
