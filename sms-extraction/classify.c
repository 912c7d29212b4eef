/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Classification artifact: loads the ordered rules, compiles their patterns
 * through the shared pattern compiler, and expands type templates such as
 * "{instrument}_{direction}_executed" for every instrument and direction up
 * front, so that classifying a message never builds a string.
 */
#include "sms-extraction/classify.h"
#include "sms-extraction/rulefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const direction_words[3] = {"none", "debit", "credit"};

/* tmpl with {instrument} and {direction} replaced. */
static char *fill_type(const char *tmpl, const char *instrument, const char *direction)
{
    char buf[128];
    size_t n = 0;
    for (const char *s = tmpl; *s && n + 1 < sizeof(buf);) {
        const char *rep = NULL;
        size_t skip = 0;
        if (strncmp(s, "{instrument}", 12) == 0) {
            rep = instrument;
            skip = 12;
        } else if (strncmp(s, "{direction}", 11) == 0) {
            rep = direction;
            skip = 11;
        }
        if (rep) {
            for (; *rep && n + 1 < sizeof(buf); rep++)
                buf[n++] = *rep;
            s += skip;
        } else {
            buf[n++] = *s++;
        }
    }
    buf[n] = '\0';
    return rulefile_strdup(buf);
}

static int add_instrument(struct classify *c, const char *name, char *err, size_t err_len)
{
    for (size_t i = 0; i < c->n_instruments; i++)
        if (strcmp(c->instruments[i], name) == 0)
            return 0;
    if (c->n_instruments >= CLASSIFY_MAX_INSTRUMENTS) {
        snprintf(err, err_len, "more than %d instruments", CLASSIFY_MAX_INSTRUMENTS);
        return -1;
    }
    c->instruments[c->n_instruments++] = rulefile_strdup(name);
    return 0;
}

static struct classify_key *flatten(const struct classify *c, json_t *map, size_t *n)
{
    const char *key;
    json_t *val;
    struct classify_key *keys = calloc(json_object_size(map) + 1, sizeof(*keys));

    if (!keys)
        abort();
    *n = 0;
    json_object_foreach(map, key, val)
    {
        for (size_t i = 0; i < c->n_instruments; i++) {
            if (strcmp(c->instruments[i], json_string_value(val)) == 0) {
                keys[*n].key = key;
                keys[*n].instrument = (int)i;
                (*n)++;
                break;
            }
        }
    }
    return keys;
}

static int load_instruments(struct classify *c, char *err, size_t err_len)
{
    const json_t *ins = json_object_get(c->root, "instruments");
    const char *def = json_string_value(json_object_get(ins, "default"));
    const char *key;
    json_t *val;

    if (!def) {
        snprintf(err, err_len, "instruments.default missing");
        return -1;
    }
    if (add_instrument(c, def, err, err_len) < 0)
        return -1;
    c->by_channel = json_object_get(ins, "by_channel");
    c->by_sender_type = json_object_get(ins, "by_sender_type");
    json_t *maps[2] = {c->by_channel, c->by_sender_type};
    for (int m = 0; m < 2; m++) {
        if (!maps[m])
            continue;
        if (!json_is_object(maps[m])) {
            snprintf(err, err_len, "instruments maps must be objects");
            return -1;
        }
        json_object_foreach(maps[m], key, val)
        {
            if (!json_is_string(val)) {
                snprintf(err, err_len, "instrument for '%.40s' is not a string", key);
                return -1;
            }
            if (add_instrument(c, json_string_value(val), err, err_len) < 0)
                return -1;
        }
    }
    c->channel_keys = flatten(c, c->by_channel, &c->n_channel_keys);
    c->sender_keys = flatten(c, c->by_sender_type, &c->n_sender_keys);
    return 0;
}

static int parse_fields(const json_t *f, unsigned *out, const char *id, char *err, size_t err_len)
{
    size_t i;
    const json_t *x;

    if (!f || (json_is_string(f) && strcmp(json_string_value(f), "all") == 0)) {
        *out = (1u << PATTERNS_FIELD_COUNT) - 1;
        return 0;
    }
    if (json_is_string(f) && strcmp(json_string_value(f), "none") == 0) {
        *out = 0;
        return 0;
    }
    if (!json_is_array(f)) {
        snprintf(err, err_len, "'%s': fields must be \"all\", \"none\" or a list", id);
        return -1;
    }
    *out = 0;
    json_array_foreach(f, i, x)
    {
        const char *name = json_string_value(x);
        int found = -1;
        for (int k = 0; name && k < PATTERNS_FIELD_COUNT; k++)
            if (strcmp(name, patterns_field_name((enum patterns_field)k)) == 0)
                found = k;
        if (found < 0) {
            snprintf(err, err_len, "'%s': unknown field '%.40s'", id, name ? name : "?");
            return -1;
        }
        *out |= 1u << found;
    }
    if (*out & (1u << PATTERNS_PARTY)) /* the party's kind is read with the party */
        *out |= 1u << PATTERNS_PARTY_KIND;
    return 0;
}

static int parse_direction(const char *s, enum classify_direction *d)
{
    if (!s || strcmp(s, "none") == 0)
        *d = CLASSIFY_NONE;
    else if (strcmp(s, "debit") == 0)
        *d = CLASSIFY_DEBIT;
    else if (strcmp(s, "credit") == 0)
        *d = CLASSIFY_CREDIT;
    else if (strcmp(s, "by_group") == 0)
        *d = CLASSIFY_BY_GROUP;
    else
        return -1;
    return 0;
}

static char *opt_string(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? rulefile_strdup(s) : NULL;
}

/*
 * "outcomes": [{"group": "g" or "if_any": [words], "sms_type": "...", "sms_kind": "...",
 * "direction": "...", "transactional": true}]: when the named group g took part in the match
 * (or one of the words occurs in the message), the record gets that type, kind, direction and
 * transactional flag (each by default the rule's) instead.
 */
static int load_outcomes(struct classify *c, struct vocab *vocab, const json_t *list,
                         const char *type, const char *id, struct classify_rule *out, char *err,
                         size_t err_len)
{
    size_t i;
    const json_t *o;
    if (!list)
        return 0;
    if (!json_is_array(list) || json_array_size(list) > CLASSIFY_MAX_OUTCOMES) {
        snprintf(err, err_len, "'%s': outcomes must be an array of at most %d", id,
                 CLASSIFY_MAX_OUTCOMES);
        return -1;
    }
    json_array_foreach(list, i, o)
    {
        struct classify_outcome *oc = &out->outcomes[i];
        const char *group = json_string_value(json_object_get(o, "group"));
        const char *otype = json_string_value(json_object_get(o, "sms_type"));
        const char *kind = json_string_value(json_object_get(o, "sms_kind"));
        const json_t *words = json_object_get(o, "if_any");
        char inner[160];
        if ((!group && !words) || !kind) {
            snprintf(err, err_len, "'%s': outcome %zu needs group or if_any, and sms_kind", id, i);
            return -1;
        }
        if (group)
            patterns_group_numbers(&out->re, group, oc->group);
        if (group && !oc->group[0]) {
            snprintf(err, err_len, "'%s': outcome %zu: pattern has no (?<%s>...) group", id, i,
                     group);
            return -1;
        }
        if (words && vocab_add_triggers(vocab, words, &oc->words, inner, sizeof(inner)) < 0) {
            snprintf(err, err_len, "'%s': outcome %zu: if_any: %s", id, i, inner);
            return -1;
        }
        oc->has_words = words != NULL;
        oc->kind = rulefile_strdup(kind);
        const char *dir = json_string_value(json_object_get(o, "direction"));
        oc->has_direction = dir != NULL;
        if (dir &&
            (parse_direction(dir, &oc->direction) < 0 || oc->direction == CLASSIFY_BY_GROUP)) {
            snprintf(err, err_len, "'%s': outcome %zu: direction must be none, debit or credit", id,
                     i);
            return -1;
        }
        const json_t *tr = json_object_get(o, "transactional");
        oc->transactional = tr ? json_is_true(tr) : out->transactional;
        out->moves_money |= oc->transactional;
        for (size_t k = 0; k < c->n_instruments; k++)
            for (int d = 0; d < 3; d++)
                oc->types[k][d] =
                    fill_type(otype ? otype : type, c->instruments[k], direction_words[d]);
        out->n_outcomes++;
    }
    return 0;
}

static int load_rule(struct classify *c, struct vocab *vocab, const struct patterns *p,
                     const json_t *r, size_t idx, struct classify_rule *out, char *err,
                     size_t err_len)
{
    char id[96];
    const char *rid = json_string_value(json_object_get(r, "id"));
    const char *type = json_string_value(json_object_get(r, "sms_type"));

    if (rid)
        snprintf(id, sizeof(id), "%s", rid);
    else
        snprintf(id, sizeof(id), "rules[%zu]", idx);
    if (!type) {
        snprintf(err, err_len, "'%s': sms_type missing", id);
        return -1;
    }
    if (patterns_compile(p, vocab, id, json_string_value(json_object_get(r, "pattern")), r, NULL,
                         &out->re, &c->max_pairs, err, err_len) < 0)
        return -1;
    if (parse_direction(json_string_value(json_object_get(r, "direction")), &out->direction)) {
        snprintf(err, err_len, "'%s': direction must be none, debit, credit or by_group", id);
        return -1;
    }
    if (out->direction == CLASSIFY_BY_GROUP && !out->re.debit[0] && !out->re.credit[0]) {
        snprintf(err, err_len, "'%s': by_group needs (?<debit>) or (?<credit>) groups", id);
        return -1;
    }
    if (parse_fields(json_object_get(r, "fields"), &out->fields, id, err, err_len) < 0)
        return -1;
    out->transactional = json_is_true(json_object_get(r, "transactional"));
    out->moves_money = out->transactional;
    out->needs_amount = json_is_true(json_object_get(r, "needs_amount"));
    const char *kind = json_string_value(json_object_get(r, "sms_kind"));
    out->kind = rulefile_strdup(kind ? kind : type);
    out->party_kind = opt_string(r, "party_kind");
    for (size_t i = 0; i < c->n_instruments; i++)
        for (int d = 0; d < 3; d++)
            out->types[i][d] = fill_type(type, c->instruments[i], direction_words[d]);
    return load_outcomes(c, vocab, json_object_get(r, "outcomes"), type, id, out, err, err_len);
}

/* "one_transaction": {"verbs": [words or "@list"], "not_after": [words], "max_verbs": N}. */
static int load_bound(struct classify *c, struct vocab *vocab, char *err, size_t err_len)
{
    const json_t *o = json_object_get(c->root, "one_transaction");
    struct classify_bound *b = &c->one_transaction;
    const json_t *words = json_object_get(o, "not_after"), *w;
    const json_t *max = json_object_get(o, "max_verbs");
    char inner[160];
    size_t i;

    if (!o)
        return 0;
    if (!json_is_object(o) || !json_is_integer(max) || json_integer_value(max) < 1 ||
        json_integer_value(max) > 16) {
        snprintf(err, err_len, "one_transaction: an object with max_verbs 1-16");
        return -1;
    }
    if (vocab_add_triggers(vocab, json_object_get(o, "verbs"), &b->verbs, inner, sizeof(inner)) <
        0) {
        snprintf(err, err_len, "one_transaction: verbs: %s", inner);
        return -1;
    }
    if (words && (!json_is_array(words) || json_array_size(words) > CLASSIFY_MAX_NOT_AFTER)) {
        snprintf(err, err_len, "one_transaction: not_after: at most %d words",
                 CLASSIFY_MAX_NOT_AFTER);
        return -1;
    }
    json_array_foreach(words, i, w)
    {
        const char *s = json_string_value(w);
        size_t n = s ? strspn(s, "abcdefghijklmnopqrstuvwxyz") : 0;
        if (!n || s[n] || n > VOCAB_MAX_WORD) {
            snprintf(err, err_len, "one_transaction: not_after %zu: a lower-case word", i);
            return -1;
        }
        memcpy(b->not_after[i], s, n + 1);
        b->n_not_after++;
    }
    for (int k = 0; k < VOCAB_MASK_WORDS; k++)
        if (b->verbs.w[k])
            b->verb_words[b->n_verb_words++] = (unsigned char)k;
    b->max_verbs = (unsigned)json_integer_value(max);
    b->on = true;
    return 0;
}

int classify_load(const char *json, size_t len, struct vocab *vocab, const struct patterns *p,
                  struct classify **out, char *err, size_t err_len)
{
    struct classify *c = calloc(1, sizeof(*c));
    int rc = -1;
    size_t i;
    const json_t *r;

    *out = NULL;
    if (!c)
        abort();
    c->max_pairs = 1;
    const char *version;
    c->root = rulefile_parse(json, len, &version, err, err_len);
    if (!c->root)
        goto out;
    c->version = rulefile_strdup(version);
    const json_t *unknown = json_object_get(c->root, "unknown");
    c->unknown_type = opt_string(unknown, "sms_type");
    c->unknown_sub_type = opt_string(unknown, "sms_sub_type");
    c->unknown_kind = opt_string(unknown, "sms_kind");
    if (!c->unknown_type)
        c->unknown_type = rulefile_strdup("not_in_the_list");
    if (!c->unknown_sub_type)
        c->unknown_sub_type = rulefile_strdup("not_in_the_list");
    if (!c->unknown_kind)
        c->unknown_kind = rulefile_strdup("not_in_the_list");
    if (parse_fields(json_object_get(unknown, "fields"), &c->unknown_fields, "unknown", err,
                     err_len) < 0)
        goto out;
    if (load_instruments(c, err, err_len) < 0 || load_bound(c, vocab, err, err_len) < 0)
        goto out;
    const json_t *rules = json_object_get(c->root, "rules");
    if (!json_is_array(rules)) {
        snprintf(err, err_len, "'rules' must be an array");
        goto out;
    }
    c->rules = calloc(json_array_size(rules) + 1, sizeof(*c->rules));
    if (!c->rules)
        abort();
    json_array_foreach(rules, i, r)
    {
        if (load_rule(c, vocab, p, r, i, &c->rules[i], err, err_len) < 0) {
            c->n_rules = i + 1;
            goto out;
        }
        c->n_rules++;
    }
    *out = c;
    c = NULL;
    rc = 0;
out:
    classify_free(c);
    return rc;
}

void classify_free(struct classify *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_rules; i++) {
        struct classify_rule *r = &c->rules[i];
        patterns_regex_free(&r->re);
        free(r->kind);
        free(r->party_kind);
        for (size_t k = 0; k < CLASSIFY_MAX_INSTRUMENTS; k++)
            for (int d = 0; d < 3; d++)
                free(r->types[k][d]);
        for (size_t o = 0; o < r->n_outcomes; o++) {
            free(r->outcomes[o].kind);
            for (size_t k = 0; k < CLASSIFY_MAX_INSTRUMENTS; k++)
                for (int d = 0; d < 3; d++)
                    free(r->outcomes[o].types[k][d]);
        }
    }
    free(c->rules);
    free(c->channel_keys);
    free(c->sender_keys);
    for (size_t i = 0; i < c->n_instruments; i++)
        free(c->instruments[i]);
    free(c->unknown_type);
    free(c->unknown_sub_type);
    free(c->unknown_kind);
    free(c->version);
    json_decref(c->root);
    free(c);
}

static int instrument_index(const struct classify_key *keys, size_t n, const char *key)
{
    if (!key)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (keys[i].key[0] == key[0] && strcmp(keys[i].key, key) == 0)
            return keys[i].instrument;
    return -1;
}

int classify_instrument(const struct classify *c, const char *channel, const char *sender_type)
{
    int i = instrument_index(c->sender_keys, c->n_sender_keys, sender_type);
    if (i < 0)
        i = instrument_index(c->channel_keys, c->n_channel_keys, channel);
    return i < 0 ? 0 : i;
}
