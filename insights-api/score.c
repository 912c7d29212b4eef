/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scores (see the DESIGN note in score.h): binding LightGBM models to the
 * feature catalogue, splitting users into A/B arms, and turning one user's
 * feature vector into the score members of the reply. Kept apart from the
 * evaluator so lgbm.c stays a faithful LightGBM reimplementation and this file
 * holds the serving policy (arms, shadows, evidence gates and other nulls,
 * what a score predicts, reason codes toward the bad outcome, flat keys).
 */
#include "insights-api/score.h"

#include "common/alloc.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "insights-api/lgbm.h"

#define SCORE_VERSION_MAX 31
#define SCORE_VERSIONS_MAX 16

struct score_model {
    char score[SCORE_NAME_MAX + 1];
    char version[SCORE_VERSION_MAX + 1];
    char model_version[64];
    char probability_of[SCORE_TEXT_MAX + 1]; /* "" when the predictor list does not say */
    bool higher_is_riskier;                  /* positive_class "bad" (default) */
    struct lgbm_model *lgbm;
    int n_features;
    int *index;    /* catalogue index of model column j */
    char **names;  /* catalogue name of model column j */
    bool *is_bool; /* model column j is a bool feature */
    unsigned groups;
};

struct score_group {
    char name[SCORE_NAME_MAX + 1];
    int versions[SCORE_VERSIONS_MAX]; /* model indices, in the order added */
    int n_versions;
    int arms[SCORE_VERSIONS_MAX];       /* model indices with weight > 0 */
    unsigned upper[SCORE_VERSIONS_MAX]; /* cumulative bucket bound of arms[k] */
    int weight[SCORE_VERSIONS_MAX];
    int n_arms;
    int shadows[SCORE_VERSIONS_MAX];
    int n_shadows;
};

struct scores {
    struct score_model models[SCORE_MAX_MODELS];
    int n_models;
    struct score_group groups[SCORE_MAX_MODELS];
    int n_groups;
    bool arms_set; /* scores_set_arms succeeded: every score has an arm */
};

struct scores_scratch {
    double *x;       /* the widest model's row */
    double *contrib; /* its contributions */
    void *shap;
    size_t shap_len;
    unsigned char *digest_buf; /* the widest model's row as bytes (predictors_digest) */
};

struct scores *scores_new(void)
{
    return calloc(1, sizeof(struct scores));
}

static void model_clear(struct score_model *m)
{
    lgbm_model_free(m->lgbm);
    for (int j = 0; m->names && j < m->n_features; j++)
        free(m->names[j]);
    free(m->names);
    free(m->index);
    free(m->is_bool);
    memset(m, 0, sizeof(*m));
}

void scores_free(struct scores *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_models; i++)
        model_clear(&s->models[i]);
    free(s);
}

static bool name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

static struct score_group *group_find(struct scores *s, const char *name)
{
    for (int i = 0; i < s->n_groups; i++)
        if (strcmp(s->groups[i].name, name) == 0)
            return &s->groups[i];
    return NULL;
}

/* An optional short string member of the predictor list into buf; -1 with err when not one. */
static int optional_text(json_t *root, const char *key, char *buf, size_t len, char *err,
                         size_t err_len)
{
    json_t *v = json_object_get(root, key);

    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= len) {
        snprintf(err, err_len, "predictor list: \"%s\" must be a string of 1 to %zu bytes", key,
                 len - 1);
        return -1;
    }
    snprintf(buf, len, "%s", json_string_value(v));
    return 0;
}

/* What the model says of itself: version, probability_of, positive_class. */
static int predictor_meta(json_t *root, struct score_model *m, char *err, size_t err_len)
{
    char positive[8] = "bad";

    if (optional_text(root, "version", m->model_version, sizeof(m->model_version), err, err_len) <
            0 ||
        optional_text(root, "probability_of", m->probability_of, sizeof(m->probability_of), err,
                      err_len) < 0)
        return -1;
    if (json_object_get(root, "positive_class") &&
        (optional_text(root, "positive_class", positive, sizeof(positive), err, err_len) < 0 ||
         (strcmp(positive, "bad") != 0 && strcmp(positive, "good") != 0))) {
        snprintf(err, err_len, "predictor list: \"positive_class\" must be \"bad\" or \"good\"");
        return -1;
    }
    m->higher_is_riskier = strcmp(positive, "bad") == 0;
    return 0;
}

/* The predictor list: names[] borrowed from root; returns the array or NULL with err. */
static json_t *predictor_array(json_t *root, struct score_model *m, char *err, size_t err_len)
{
    json_t *arr = root;

    m->higher_is_riskier = true; /* a plain list: the credit convention, 1 = the bad outcome */
    if (json_is_object(root)) {
        arr = json_object_get(root, "features");
        if (predictor_meta(root, m, err, err_len) < 0)
            return NULL;
    }
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        snprintf(err, err_len,
                 "predictor list: expected a JSON array of feature names or an object with "
                 "\"features\"");
        return NULL;
    }
    return arr;
}

static int bind_predictors(struct score_model *m, const struct features_catalogue *c, json_t *arr,
                           char *err, size_t err_len)
{
    size_t n = json_array_size(arr);

    if ((int)n != lgbm_model_num_features(m->lgbm)) {
        snprintf(err, err_len, "predictor list names %zu features, the model reads %d", n,
                 lgbm_model_num_features(m->lgbm));
        return -1;
    }
    m->index = calloc(n, sizeof(int));
    m->names = calloc(n, sizeof(char *));
    m->is_bool = calloc(n, sizeof(bool));
    if (!m->index || !m->names || !m->is_bool) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    m->n_features = (int)n;
    for (size_t j = 0; j < n; j++) {
        json_t *e = json_array_get(arr, j);
        const struct features_entry *fe;
        int k;

        if (!json_is_string(e)) {
            snprintf(err, err_len, "predictor list: item %zu is not a string", j);
            return -1;
        }
        k = features_index(c, json_string_value(e));
        if (k < 0) {
            snprintf(err, err_len, "predictor list: feature '%.80s' is not in the catalogue",
                     json_string_value(e));
            return -1;
        }
        fe = features_entry(c, (size_t)k);
        if (fe->type == FEATURES_TYPE_STRING) {
            snprintf(err, err_len, "predictor list: feature '%.80s' is a string, not a number",
                     fe->name);
            return -1;
        }
        m->index[j] = k;
        m->is_bool[j] = fe->type == FEATURES_TYPE_BOOL;
        m->names[j] = strdup(fe->name);
        if (!m->names[j]) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        m->groups |= (unsigned)fe->group;
    }
    return 0;
}

static int model_init(struct score_model *m, const struct features_catalogue *c, const char *model,
                      size_t model_len, const char *predictors, size_t predictors_len, char *err,
                      size_t err_len)
{
    json_error_t jerr;
    json_t *root, *arr;
    char why[400];
    int rc = -1;

    if (lgbm_model_load(model, model_len, &m->lgbm, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "model: %s", why);
        return -1;
    }
    if (lgbm_model_num_class(m->lgbm) != 1) {
        snprintf(err, err_len, "model: %d classes; a score is one number (binary or regression)",
                 lgbm_model_num_class(m->lgbm));
        return -1;
    }
    root = json_loadb(predictors, predictors_len, 0, &jerr);
    if (!root) {
        snprintf(err, err_len, "predictor list: not JSON (line %d)", jerr.line);
        return -1;
    }
    arr = predictor_array(root, m, err, err_len);
    if (arr && bind_predictors(m, c, arr, err, err_len) == 0)
        rc = 0;
    json_decref(root);
    return rc;
}

static struct score_group *group_add(struct scores *s, const char *score)
{
    struct score_group *g = &s->groups[s->n_groups++];

    memset(g, 0, sizeof(*g));
    snprintf(g->name, sizeof(g->name), "%s", score);
    return g;
}

int scores_declare(struct scores *s, const char *score, char *err, size_t err_len)
{
    if (!name_ok(score, SCORE_NAME_MAX)) {
        snprintf(err, err_len, "score name is empty, too long or not [A-Za-z0-9_.-]");
        return -1;
    }
    if (group_find(s, score))
        return 0;
    if (s->n_groups == SCORE_MAX_MODELS) {
        snprintf(err, err_len, "%s: too many scores", score);
        return -1;
    }
    group_add(s, score);
    s->arms_set = false;
    return 0;
}

int scores_add_model(struct scores *s, const struct features_catalogue *c, const char *score,
                     const char *version, const char *model, size_t model_len,
                     const char *predictors, size_t predictors_len, char *err, size_t err_len)
{
    struct score_model *m;
    struct score_group *g;
    char why[512];

    if (!name_ok(score, SCORE_NAME_MAX) || !name_ok(version, SCORE_VERSION_MAX)) {
        snprintf(err, err_len, "score or version name is empty, too long or not [A-Za-z0-9_.-]");
        return -1;
    }
    g = group_find(s, score);
    for (int i = 0; g && i < g->n_versions; i++)
        if (strcmp(s->models[g->versions[i]].version, version) == 0) {
            snprintf(err, err_len, "%s %s: loaded twice", score, version);
            return -1;
        }
    if (s->n_models == SCORE_MAX_MODELS || (g && g->n_versions == SCORE_VERSIONS_MAX) ||
        (!g && s->n_groups == SCORE_MAX_MODELS)) {
        snprintf(err, err_len, "%s %s: too many models", score, version);
        return -1;
    }
    m = &s->models[s->n_models];
    memset(m, 0, sizeof(*m));
    snprintf(m->score, sizeof(m->score), "%s", score);
    snprintf(m->version, sizeof(m->version), "%s", version);
    if (model_init(m, c, model, model_len, predictors, predictors_len, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "%s %s: %s", score, version, why);
        model_clear(m);
        return -1;
    }
    if (!m->model_version[0])
        snprintf(m->model_version, sizeof(m->model_version), "%s", version);
    if (!g)
        g = group_add(s, score);
    g->versions[g->n_versions++] = s->n_models++;
    s->arms_set = false; /* scores_set_arms again before evaluating */
    return 0;
}

/* ------------------------------------------------------------ arms */

static int version_index(const struct scores *s, const struct score_group *g, const char *v,
                         size_t n)
{
    for (int i = 0; i < g->n_versions; i++) {
        const char *have = s->models[g->versions[i]].version;

        if (strlen(have) == n && strncmp(have, v, n) == 0)
            return g->versions[i];
    }
    return -1;
}

/* "v2:50,v3:50,v1:shadow" for g. */
static int parse_arms(struct scores *s, struct score_group *g, const char *p, size_t len, char *err,
                      size_t err_len)
{
    const char *end = p + len;
    int total = 0;

    g->n_arms = 0;
    g->n_shadows = 0;
    while (p < end) {
        const char *item_end = memchr(p, ',', (size_t)(end - p));
        const char *colon;
        size_t vn;
        int model;
        char wbuf[16];
        char *wend;
        long w;

        if (!item_end)
            item_end = end;
        colon = memchr(p, ':', (size_t)(item_end - p));
        if (!colon || (size_t)(item_end - colon - 1) >= sizeof(wbuf)) {
            snprintf(err, err_len, "SCORE_ARMS: %s: expected version:percent or version:shadow",
                     g->name);
            return -1;
        }
        vn = (size_t)(colon - p);
        model = version_index(s, g, p, vn);
        if (model < 0) {
            snprintf(err, err_len, "SCORE_ARMS: %s has no loaded version '%.*s'", g->name,
                     (int)(vn > 32 ? 32 : vn), p);
            return -1;
        }
        memcpy(wbuf, colon + 1, (size_t)(item_end - colon - 1));
        wbuf[item_end - colon - 1] = '\0';
        if (strcmp(wbuf, "shadow") == 0) {
            g->shadows[g->n_shadows++] = model;
        } else {
            w = strtol(wbuf, &wend, 10);
            if (wend == wbuf || *wend || w < 0 || w > 100) {
                snprintf(err, err_len, "SCORE_ARMS: %s: weight '%s' is not 0..100", g->name, wbuf);
                return -1;
            }
            for (int k = 0; k < g->n_arms; k++)
                if (g->arms[k] == model) {
                    snprintf(err, err_len, "SCORE_ARMS: %s: version listed twice", g->name);
                    return -1;
                }
            total += (int)w;
            g->arms[g->n_arms] = model;
            g->weight[g->n_arms] = (int)w;
            g->upper[g->n_arms++] = (unsigned)total * (SCORE_BUCKETS / 100);
        }
        p = item_end < end ? item_end + 1 : end;
    }
    if (total != 100) {
        snprintf(err, err_len, "SCORE_ARMS: %s: weights sum to %d, not 100", g->name, total);
        return -1;
    }
    return 0;
}

static void default_arms(struct score_group *g)
{
    g->n_arms = 0;
    g->n_shadows = 0;
    if (g->n_versions == 0)
        return; /* declared only: null "no_model" */
    g->arms[0] = g->versions[g->n_versions - 1];
    g->weight[0] = 100;
    g->upper[0] = SCORE_BUCKETS;
    g->n_arms = 1;
}

int scores_set_arms(struct scores *s, const char *spec, char *err, size_t err_len)
{
    const char *p = spec ? spec : "";

    s->arms_set = false;
    for (int i = 0; i < s->n_groups; i++)
        default_arms(&s->groups[i]);
    while (*p) {
        size_t n = strcspn(p, ";");
        const char *eq = memchr(p, '=', n);
        char name[SCORE_NAME_MAX + 1];
        struct score_group *g;

        if (n == 0 || !eq || (size_t)(eq - p) > SCORE_NAME_MAX) {
            snprintf(err, err_len, "SCORE_ARMS: expected score=version:percent,...[;score=...]");
            return -1;
        }
        memcpy(name, p, (size_t)(eq - p));
        name[eq - p] = '\0';
        g = group_find(s, name);
        if (!g || g->n_versions == 0) {
            snprintf(err, err_len, "SCORE_ARMS: no model is loaded for score '%s'", name);
            return -1;
        }
        if (parse_arms(s, g, eq + 1, n - (size_t)(eq - p) - 1, err, err_len) < 0)
            return -1;
        p += n;
        if (*p == ';')
            p++;
    }
    s->arms_set = true;
    return 0;
}

size_t scores_count(const struct scores *s)
{
    return s ? (size_t)s->n_groups : 0;
}

size_t scores_models(const struct scores *s)
{
    return s ? (size_t)s->n_models : 0;
}

bool scores_model_at(const struct scores *s, size_t i, const char **score, const char **version,
                     const char **model_version)
{
    const struct score_model *m;

    if (!s || i >= (size_t)s->n_models)
        return false;
    m = &s->models[i];
    *score = m->score;
    *version = m->version;
    *model_version = *m->model_version ? m->model_version : m->version;
    return true;
}

size_t scores_outcomes_max(const struct scores *s)
{
    size_t n = 0;

    for (int i = 0; s && i < s->n_groups; i++)
        n += 1 + (size_t)s->groups[i].n_shadows;
    return n;
}

void scores_describe(const struct scores *s, char *buf, size_t len)
{
    size_t off = 0;

    if (len)
        buf[0] = '\0';
    for (int i = 0, shown = 0; s && i < s->n_groups && off < len; i++) {
        const struct score_group *g = &s->groups[i];

        if (g->n_arms == 0)
            continue; /* no model loaded */
        off += (size_t)snprintf(buf + off, len - off, "%s%s=", shown++ ? ";" : "", g->name);
        for (int k = 0; k < g->n_arms && off < len; k++)
            off += (size_t)snprintf(buf + off, len - off, "%s%s:%d", k ? "," : "",
                                    s->models[g->arms[k]].version, g->weight[k]);
        for (int k = 0; k < g->n_shadows && off < len; k++)
            off += (size_t)snprintf(buf + off, len - off, ",%s:shadow",
                                    s->models[g->shadows[k]].version);
    }
}

unsigned scores_bucket(const char *client_id, const char *user_id)
{
    unsigned char h[CRYPTO_SHA256_LEN];
    size_t cn = strlen(client_id), un = strlen(user_id);
    char stack[256];
    char *key = cn + un + 2 <= sizeof(stack) ? stack : alloc_bytes(cn + un + 2);
    unsigned long long v = 0;

    memcpy(key, client_id, cn);
    key[cn] = ':';
    memcpy(key + cn + 1, user_id, un);
    crypto_sha256(key, cn + 1 + un, h);
    if (key != stack)
        free(key);
    for (int i = 0; i < 8; i++)
        v = v << 8 | h[i];
    return (unsigned)(v % SCORE_BUCKETS);
}

static int arm_model(const struct score_group *g, unsigned bucket)
{
    for (int k = 0; k < g->n_arms; k++)
        if (bucket < g->upper[k] && g->weight[k] > 0)
            return g->arms[k];
    return g->arms[g->n_arms - 1];
}

const char *scores_arm_for_bucket(const struct scores *s, size_t i, unsigned bucket)
{
    if (!s || i >= (size_t)s->n_groups || !s->arms_set || s->groups[i].n_arms == 0)
        return NULL;
    return s->models[arm_model(&s->groups[i], bucket % SCORE_BUCKETS)].version;
}

/* ------------------------------------------------------------ evaluation */

struct scores_scratch *scores_scratch_new(const struct scores *s)
{
    struct scores_scratch *sc = alloc_zeroed(1, sizeof(*sc));
    int width = 1;

    for (int i = 0; i < s->n_models; i++) {
        size_t need = lgbm_contrib_scratch_size(s->models[i].lgbm);

        if (s->models[i].n_features > width)
            width = s->models[i].n_features;
        if (need > sc->shap_len)
            sc->shap_len = need;
    }
    sc->x = alloc_zeroed((size_t)width, sizeof(double));
    sc->contrib = alloc_zeroed((size_t)width + 1, sizeof(double));
    sc->shap = alloc_bytes(sc->shap_len);
    sc->digest_buf = alloc_bytes((size_t)width * 8);
    return sc;
}

void scores_scratch_free(struct scores_scratch *sc)
{
    if (!sc)
        return;
    free(sc->x);
    free(sc->contrib);
    free(sc->shap);
    free(sc->digest_buf);
    free(sc);
}

static const char *first_group_name(unsigned mask)
{
    for (unsigned bit = 1; bit < FEATURES_GROUP_ALL; bit <<= 1)
        if (mask & bit)
            return features_group_name((enum features_group)bit);
    return "?";
}

/*
 * The reason codes: the top_k factors whose contribution pushes toward the
 * bad outcome (positive for a model whose positive class is bad, negative
 * otherwise), strongest first; equal impacts keep model column order.
 */
static void top_reasons(const struct score_model *m, const double *x, const double *contrib,
                        int top_k, struct score_outcome *o)
{
    double sign = m->higher_is_riskier ? 1.0 : -1.0;

    o->n_reasons = 0;
    o->bias = contrib[m->n_features];
    for (int j = 0; j < m->n_features; j++) {
        double impact = sign * contrib[j];
        int at;

        if (!(impact > 0.0))
            continue;
        if (o->n_reasons == top_k && impact <= o->reasons[top_k - 1].impact)
            continue;
        at = o->n_reasons < top_k ? o->n_reasons++ : top_k - 1;
        while (at > 0 && o->reasons[at - 1].impact < impact) {
            o->reasons[at] = o->reasons[at - 1];
            at--;
        }
        o->reasons[at] = (struct score_reason){.feature = m->names[j],
                                               .missing = isnan(x[j]),
                                               .is_bool = m->is_bool[j],
                                               .value = x[j],
                                               .impact = impact};
    }
}

/* The evidence gate of model m for this user: NULL (score it) or the null reason. */
static const char *gate(const struct score_model *m, const struct score_request *r)
{
    const struct score_evidence *e = &r->evidence;
    const struct score_gates *g = &r->gates;
    bool apps = (m->groups & (FEATURES_GROUP_APPS | FEATURES_GROUP_FRAUD)) && e->apps_present;
    bool device = (m->groups & (FEATURES_GROUP_DEVICE | FEATURES_GROUP_FRAUD)) && e->device_present;

    if (!r->v)
        return "no_data";
    if (!(m->groups & SCORE_SMS_GROUPS))
        return apps || device ? NULL : "no_data";
    if (e->sms_count_used <= 0)
        return "no_data";
    if (!(e->data_recency_days <= (double)g->max_data_recency_days))
        return "stale_data";
    if (e->sms_count_used < g->min_sms_count || !(e->history_days >= (double)g->min_history_days))
        return "thin_file";
    return NULL;
}

/* Why m is not computed for this user, into o->null_reason; false when it is computed. */
static bool null_reason(const struct score_model *m, const struct score_request *r,
                        struct score_outcome *o)
{
    const char *why;

    if (m->groups & r->failed)
        snprintf(o->null_reason, sizeof(o->null_reason), "inputs_failed:%s",
                 first_group_name(m->groups & r->failed));
    else if (m->groups & ~r->asked)
        snprintf(o->null_reason, sizeof(o->null_reason), "inputs_not_requested:%s",
                 first_group_name(m->groups & ~r->asked));
    else if ((why = gate(m, r)) != NULL)
        snprintf(o->null_reason, sizeof(o->null_reason), "%s", why);
    else
        return false;
    o->is_null = true;
    return true;
}

static void outcome_init(struct score_outcome *o, const char *score)
{
    memset(o, 0, sizeof(*o));
    o->score = score;
    o->value = NAN;
    o->raw = NAN;
    o->bias = NAN;
}

/*
 * The digest of one row of predictor values, for the prediction log: the
 * bytes are fixed (little-endian, one NaN) so the digest can be worked out
 * from the reply's features and the predictor list by anyone.
 */
static void predictors_digest(const double *x, int n, unsigned char *buf,
                              char out[CRYPTO_SHA256_HEX_LEN + 1])
{
    for (int j = 0; j < n; j++) {
        uint64_t bits = UINT64_C(0x7ff8000000000000);

        if (!isnan(x[j]))
            memcpy(&bits, &x[j], sizeof(bits));
        for (int b = 0; b < 8; b++)
            buf[8 * j + b] = (unsigned char)(bits >> (8 * b));
    }
    crypto_sha256_hex(buf, 8 * (size_t)n, out);
}

static void evaluate_one(const struct score_model *m, const struct score_request *r, bool shadow,
                         struct scores_scratch *sc, struct score_outcome *o)
{
    int top_k = r->top_k > SCORE_REASONS_MAX ? SCORE_REASONS_MAX : r->top_k;

    outcome_init(o, m->score);
    o->arm = m->version;
    o->model_version = m->model_version;
    o->probability_of = m->probability_of[0] ? m->probability_of : NULL;
    o->higher_is_riskier = m->higher_is_riskier;
    o->has_model = true;
    o->shadow = shadow;
    if (null_reason(m, r, o))
        return;
    for (int j = 0; j < m->n_features; j++)
        sc->x[j] = r->v->values[m->index[j]];
    predictors_digest(sc->x, m->n_features, sc->digest_buf, o->predictors_digest);
    lgbm_predict_raw(m->lgbm, sc->x, &o->raw);
    lgbm_transform(m->lgbm, &o->raw, &o->value);
    if (shadow || top_k <= 0)
        return;
    if (lgbm_predict_contrib(m->lgbm, sc->x, sc->contrib, sc->shap, sc->shap_len) == 0)
        top_reasons(m, sc->x, sc->contrib, top_k, o);
}

size_t scores_evaluate(const struct scores *s, const struct score_request *r,
                       struct scores_scratch *sc, struct score_outcome *out)
{
    unsigned bucket;
    size_t n = 0;

    if (!s || s->n_groups == 0 || !s->arms_set)
        return 0;
    bucket = scores_bucket(r->client_id, r->user_id);
    for (int i = 0; i < s->n_groups; i++) {
        const struct score_group *g = &s->groups[i];

        if (g->n_arms == 0) {
            outcome_init(&out[n], g->name);
            out[n].is_null = true;
            snprintf(out[n].null_reason, sizeof(out[n].null_reason), "no_model");
            n++;
            continue;
        }
        evaluate_one(&s->models[arm_model(g, bucket)], r, false, sc, &out[n++]);
    }
    for (int i = 0; i < s->n_groups; i++)
        for (int k = 0; k < s->groups[i].n_shadows; k++)
            evaluate_one(&s->models[s->groups[i].shadows[k]], r, true, sc, &out[n++]);
    return n;
}

/* ------------------------------------------------------------ the reply */

static void kv_suffix(struct json_writer *w, const char *score, const char *suffix)
{
    char key[SCORE_NAME_MAX + 32];

    snprintf(key, sizeof(key), "%s%s", score, suffix);
    json_writer_key(w, key);
}

static void string_or_null(struct json_writer *w, const char *s)
{
    if (s)
        json_writer_string(w, s);
    else
        json_writer_null(w);
}

/* A feature value as the features are written: bools true/false, integers without a fraction. */
static void feature_value(struct json_writer *w, const struct score_reason *r)
{
    if (r->missing)
        json_writer_null(w);
    else if (r->is_bool)
        json_writer_bool(w, r->value != 0);
    else if (r->value == floor(r->value) && fabs(r->value) < 9e15)
        json_writer_int(w, (long long)r->value);
    else
        json_writer_double(w, round(r->value * 10000) / 10000);
}

/* <score>_reason_N, _value and _impact; null members past the outcome's reasons. */
static void write_reason(struct json_writer *w, const struct score_outcome *o, int k)
{
    const struct score_reason *r = k < o->n_reasons ? &o->reasons[k] : NULL;
    char suffix[32], name[SCORE_NAME_MAX + 200];

    snprintf(suffix, sizeof(suffix), "_reason_%d", k + 1);
    kv_suffix(w, o->score, suffix);
    if (r)
        snprintf(name, sizeof(name), "%s%s", r->missing ? "missing:" : "", r->feature);
    string_or_null(w, r ? name : NULL);
    snprintf(suffix, sizeof(suffix), "_reason_%d_value", k + 1);
    kv_suffix(w, o->score, suffix);
    if (r)
        feature_value(w, r);
    else
        json_writer_null(w);
    snprintf(suffix, sizeof(suffix), "_reason_%d_impact", k + 1);
    kv_suffix(w, o->score, suffix);
    if (r)
        json_writer_double(w, r->impact);
    else
        json_writer_null(w);
}

void scores_write_json(const struct score_outcome *out, size_t n, int reason_keys,
                       struct json_writer *w)
{
    if (reason_keys > SCORE_REASONS_MAX)
        reason_keys = SCORE_REASONS_MAX;
    for (size_t i = 0; i < n; i++) {
        const struct score_outcome *o = &out[i];

        if (o->shadow)
            continue;
        json_writer_key(w, o->score);
        if (o->is_null)
            json_writer_null(w);
        else
            json_writer_double(w, o->value);
        kv_suffix(w, o->score, "_probability_of");
        string_or_null(w, o->probability_of);
        kv_suffix(w, o->score, "_higher_is_riskier");
        if (o->has_model)
            json_writer_bool(w, o->higher_is_riskier);
        else
            json_writer_null(w);
        kv_suffix(w, o->score, "_model_version");
        string_or_null(w, o->model_version);
        kv_suffix(w, o->score, "_arm");
        string_or_null(w, o->arm);
        kv_suffix(w, o->score, "_null_reason");
        string_or_null(w, o->is_null ? o->null_reason : NULL);
        for (int k = 0; k < reason_keys; k++)
            write_reason(w, o, k);
    }
}
