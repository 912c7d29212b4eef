/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scores (see the DESIGN note in score.h): binding LightGBM models to the
 * feature catalogue, splitting users into A/B arms, and turning one user's
 * feature vector into the score members of the reply. Kept apart from the
 * evaluator so lgbm.c stays a faithful LightGBM reimplementation and this file
 * holds the serving policy (arms, shadows, nulls, reason codes).
 */
#include "insights-api/score.h"

#include <jansson.h>
#include <math.h>
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
    struct lgbm_model *lgbm;
    int n_features;
    int *index;   /* catalogue index of model column j */
    char **names; /* catalogue name of model column j */
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

/* The predictor list: names[] borrowed from root; returns the array or NULL with err. */
static json_t *predictor_array(json_t *root, struct score_model *m, char *err, size_t err_len)
{
    json_t *arr = root;

    if (json_is_object(root)) {
        json_t *ver = json_object_get(root, "version");

        arr = json_object_get(root, "features");
        if (ver && json_is_string(ver) && json_string_length(ver) < sizeof(m->model_version))
            snprintf(m->model_version, sizeof(m->model_version), "%s", json_string_value(ver));
        else if (ver) {
            snprintf(err, err_len, "predictor list: \"version\" must be a short string");
            return NULL;
        }
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
    if (!m->index || !m->names) {
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
    if (s->n_models == SCORE_MAX_MODELS || (g && g->n_versions == SCORE_VERSIONS_MAX)) {
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
    if (!g) {
        g = &s->groups[s->n_groups++];
        memset(g, 0, sizeof(*g));
        snprintf(g->name, sizeof(g->name), "%s", score);
    }
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
    g->arms[0] = g->versions[g->n_versions - 1];
    g->weight[0] = 100;
    g->upper[0] = SCORE_BUCKETS;
    g->n_arms = 1;
    g->n_shadows = 0;
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
        if (!g) {
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
    for (int i = 0; s && i < s->n_groups && off < len; i++) {
        const struct score_group *g = &s->groups[i];

        off += (size_t)snprintf(buf + off, len - off, "%s%s=", i ? ";" : "", g->name);
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
    char *key = cn + un + 2 <= sizeof(stack) ? stack : malloc(cn + un + 2);
    unsigned long long v = 0;

    if (!key)
        abort();
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
    if (!s || i >= (size_t)s->n_groups || !s->arms_set)
        return NULL;
    return s->models[arm_model(&s->groups[i], bucket % SCORE_BUCKETS)].version;
}

/* ------------------------------------------------------------ evaluation */

struct scores_scratch *scores_scratch_new(const struct scores *s)
{
    struct scores_scratch *sc = calloc(1, sizeof(*sc));
    int width = 1;

    if (!sc)
        return NULL;
    for (int i = 0; i < s->n_models; i++) {
        size_t need = lgbm_contrib_scratch_size(s->models[i].lgbm);

        if (s->models[i].n_features > width)
            width = s->models[i].n_features;
        if (need > sc->shap_len)
            sc->shap_len = need;
    }
    sc->x = calloc((size_t)width, sizeof(double));
    sc->contrib = calloc((size_t)width + 1, sizeof(double));
    sc->shap = malloc(sc->shap_len ? sc->shap_len : 1);
    if (!sc->x || !sc->contrib || !sc->shap) {
        scores_scratch_free(sc);
        return NULL;
    }
    return sc;
}

void scores_scratch_free(struct scores_scratch *sc)
{
    if (!sc)
        return;
    free(sc->x);
    free(sc->contrib);
    free(sc->shap);
    free(sc);
}

static const char *first_group_name(unsigned mask)
{
    for (unsigned bit = 1; bit < FEATURES_GROUP_ALL; bit <<= 1)
        if (mask & bit)
            return features_group_name((enum features_group)bit);
    return "?";
}

/* Keep the top_k largest |contribution| in o->reasons, ordered. */
static void top_reasons(const struct score_model *m, const double *contrib, int top_k,
                        struct score_outcome *o)
{
    o->n_reasons = 0;
    o->bias = contrib[m->n_features];
    for (int j = 0; j < m->n_features; j++) {
        double a = fabs(contrib[j]);
        int at;

        if (contrib[j] == 0.0)
            continue;
        if (o->n_reasons == top_k && a <= fabs(o->reasons[top_k - 1].contribution))
            continue;
        at = o->n_reasons < top_k ? o->n_reasons++ : top_k - 1;
        while (at > 0 && fabs(o->reasons[at - 1].contribution) < a) {
            o->reasons[at] = o->reasons[at - 1];
            at--;
        }
        o->reasons[at].feature = m->names[j];
        o->reasons[at].contribution = contrib[j];
    }
}

static void evaluate_one(const struct score_model *m, const struct feature_vector *v,
                         unsigned asked, unsigned failed, bool shadow, int top_k,
                         struct scores_scratch *sc, struct score_outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->score = m->score;
    o->arm = m->version;
    o->model_version = m->model_version;
    o->shadow = shadow;
    o->value = NAN;
    o->raw = NAN;
    if (m->groups & failed) {
        o->is_null = true;
        snprintf(o->null_reason, sizeof(o->null_reason), "inputs_failed:%s",
                 first_group_name(m->groups & failed));
        return;
    }
    if (m->groups & ~asked) {
        o->is_null = true;
        snprintf(o->null_reason, sizeof(o->null_reason), "inputs_not_requested:%s",
                 first_group_name(m->groups & ~asked));
        return;
    }
    for (int j = 0; j < m->n_features; j++)
        sc->x[j] = v->values[m->index[j]];
    lgbm_predict_raw(m->lgbm, sc->x, &o->raw);
    lgbm_transform(m->lgbm, &o->raw, &o->value);
    if (shadow || top_k <= 0)
        return;
    if (lgbm_predict_contrib(m->lgbm, sc->x, sc->contrib, sc->shap, sc->shap_len) == 0)
        top_reasons(m, sc->contrib, top_k > SCORE_REASONS_MAX ? SCORE_REASONS_MAX : top_k, o);
}

size_t scores_evaluate(const struct scores *s, const struct feature_vector *v, unsigned asked,
                       unsigned failed, const char *client_id, const char *user_id, int top_k,
                       struct scores_scratch *sc, struct score_outcome *out)
{
    unsigned bucket;
    size_t n = 0;

    if (!s || s->n_groups == 0 || !s->arms_set)
        return 0;
    bucket = scores_bucket(client_id, user_id);
    for (int i = 0; i < s->n_groups; i++)
        evaluate_one(&s->models[arm_model(&s->groups[i], bucket)], v, asked, failed, false, top_k,
                     sc, &out[n++]);
    for (int i = 0; i < s->n_groups; i++)
        for (int k = 0; k < s->groups[i].n_shadows; k++)
            evaluate_one(&s->models[s->groups[i].shadows[k]], v, asked, failed, true, 0, sc,
                         &out[n++]);
    return n;
}

static void kv_suffix(struct json_writer *w, const char *score, const char *suffix)
{
    char key[SCORE_NAME_MAX + 32];

    snprintf(key, sizeof(key), "%s%s", score, suffix);
    json_writer_key(w, key);
}

void scores_write_json(const struct score_outcome *out, size_t n, struct json_writer *w)
{
    for (size_t i = 0; i < n; i++) {
        const struct score_outcome *o = &out[i];

        if (o->shadow)
            continue;
        json_writer_key(w, o->score);
        if (o->is_null)
            json_writer_null(w);
        else
            json_writer_double(w, o->value);
        kv_suffix(w, o->score, "_model_version");
        json_writer_string(w, o->model_version);
        kv_suffix(w, o->score, "_arm");
        json_writer_string(w, o->arm);
        if (o->is_null) {
            kv_suffix(w, o->score, "_null_reason");
            json_writer_string(w, o->null_reason);
            continue;
        }
        if (o->n_reasons == 0)
            continue;
        kv_suffix(w, o->score, "_reason_codes");
        json_writer_array_begin(w);
        for (int k = 0; k < o->n_reasons; k++) {
            json_writer_object_begin(w);
            json_writer_kv_string(w, "feature", o->reasons[k].feature);
            json_writer_kv_double(w, "contribution", o->reasons[k].contribution);
            json_writer_object_end(w);
        }
        json_writer_array_end(w);
    }
}
