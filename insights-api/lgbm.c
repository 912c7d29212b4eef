/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LightGBM text-model loader and evaluator. The model file is outside input
 * (it arrives as an artifact, possibly from S3), so the loader is written as
 * a strict parser: it works on a private NUL-terminated copy split into lines
 * in place, accepts only the keys it knows, checks every count, index and
 * number, verifies that each tree is a tree (every node and leaf reached
 * exactly once from the root), and refuses whatever it could not evaluate
 * exactly as LightGBM 4.6.0 does. Everything after "end of trees" (feature
 * importances, parameters, pandas_categorical) is informational and skipped.
 *
 * Prediction walks the flattened node array (lgbm_impl.h) and allocates
 * nothing; the split decision itself lives in lgbm_impl.h so TreeSHAP
 * (lgbm_shap.c) takes the very same path.
 */
#include "insights-api/lgbm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "insights-api/lgbm_impl.h"

enum tree_key {
    TK_NUM_LEAVES,
    TK_NUM_CAT,
    TK_SPLIT_FEATURE,
    TK_SPLIT_GAIN,
    TK_THRESHOLD,
    TK_DECISION_TYPE,
    TK_LEFT_CHILD,
    TK_RIGHT_CHILD,
    TK_LEAF_VALUE,
    TK_LEAF_WEIGHT,
    TK_LEAF_COUNT,
    TK_INTERNAL_VALUE,
    TK_INTERNAL_WEIGHT,
    TK_INTERNAL_COUNT,
    TK_CAT_BOUNDARIES,
    TK_CAT_THRESHOLD,
    TK_IS_LINEAR,
    TK_LEAF_CONST,
    TK_NUM_FEATURES,
    TK_LEAF_FEATURES,
    TK_LEAF_COEFF,
    TK_SHRINKAGE,
    TK_COUNT,
};

static const char *const tree_key_names[TK_COUNT] = {
    "num_leaves",    "num_cat",        "split_feature",   "split_gain",     "threshold",
    "decision_type", "left_child",     "right_child",     "leaf_value",     "leaf_weight",
    "leaf_count",    "internal_value", "internal_weight", "internal_count", "cat_boundaries",
    "cat_threshold", "is_linear",      "leaf_const",      "num_features",   "leaf_features",
    "leaf_coeff",    "shrinkage",
};

enum header_key {
    HK_VERSION,
    HK_NUM_CLASS,
    HK_NUM_TREE_PER_ITERATION,
    HK_LABEL_INDEX,
    HK_MAX_FEATURE_IDX,
    HK_OBJECTIVE,
    HK_FEATURE_NAMES,
    HK_FEATURE_INFOS,
    HK_MONOTONE_CONSTRAINTS,
    HK_TREE_SIZES,
    HK_COUNT,
};

static const char *const header_key_names[HK_COUNT] = {
    "version",       "num_class",       "num_tree_per_iteration",
    "label_index",   "max_feature_idx", "objective",
    "feature_names", "feature_infos",   "monotone_constraints",
    "tree_sizes",
};

/* A key's value (points into the parser's copy) and the line it came from. */
struct kv {
    char *val;
    int line;
};

struct parser {
    char *buf; /* private copy, NUL-terminated, lines cut in place */
    char *cur;
    char *end;
    int line;
    char *held; /* a line read ahead and given back */
    int held_line;
    int tree; /* tree being parsed, -1 in the header */
    char *err;
    size_t err_len;

    /* scratch reused for every tree */
    long long *ia;
    double *da;
    size_t ia_cap, da_cap;
    uint8_t *seen;
    int32_t *stack;
    int32_t *depth;
    size_t seen_cap, stack_cap, depth_cap;

    /* capacities of the model's growing arrays */
    size_t trees_cap, nodes_cap, ncount_cap, leaves_cap, lcount_cap, cat_cap;
    size_t lconst_cap, loff_cap, llen_cap, lfeat_cap, lcoeff_cap;
};

__attribute__((format(printf, 3, 4))) static int fail(struct parser *p, int line, const char *fmt,
                                                      ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!p->err || !p->err_len)
        return -1;
    if (p->tree >= 0)
        snprintf(p->err, p->err_len, "line %d: tree %d: %s", line, p->tree, msg);
    else if (line > 0)
        snprintf(p->err, p->err_len, "line %d: %s", line, msg);
    else
        snprintf(p->err, p->err_len, "%s", msg);
    return -1;
}

static char *next_line(struct parser *p)
{
    if (p->held) {
        char *s = p->held;
        p->held = NULL;
        p->line = p->held_line;
        return s;
    }
    if (p->cur >= p->end)
        return NULL;
    char *s = p->cur;
    char *nl = memchr(s, '\n', (size_t)(p->end - s));
    if (nl) {
        *nl = '\0';
        p->cur = nl + 1;
    } else {
        p->cur = p->end;
    }
    size_t n = strlen(s);
    if (n && s[n - 1] == '\r')
        s[n - 1] = '\0';
    p->line++;
    return s;
}

static void hold_line(struct parser *p, char *s)
{
    p->held = s;
    p->held_line = p->line;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Next space-separated token of *cur (runs of spaces are one separator). */
static char *tok_next(char **cur, size_t *len)
{
    char *s = *cur;
    while (*s == ' ')
        s++;
    if (!*s) {
        *cur = s;
        return NULL;
    }
    char *e = s;
    while (*e && *e != ' ')
        e++;
    *len = (size_t)(e - s);
    *cur = e;
    return s;
}

static size_t tok_count(char *s)
{
    size_t n = 0, len;
    while (tok_next(&s, &len))
        n++;
    return n;
}

/* A plain decimal number: no inf/nan/hex, no surrounding space. */
static bool decimal_chars(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E'))
            return false;
    }
    return true;
}

static int tok_double(const char *s, size_t n, double *out)
{
    char *end;

    if (!decimal_chars(s, n))
        return -1;
    double v = strtod(s, &end);
    if (end != s + n || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int tok_int(const char *s, size_t n, long long lo, long long hi, long long *out)
{
    char *end;

    if (n == 0 || n > 20)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (i == 0 && s[i] == '-' && n > 1)))
            return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end != s + n || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int grow(struct parser *p, void **ptr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*ptr, nc * elem);
    if (!np)
        return fail(p, 0, "out of memory");
    *ptr = np;
    *cap = nc;
    return 0;
}

/* Exactly count integers in [lo, hi] from kv into out. */
static int parse_ints(struct parser *p, const struct kv *kv, const char *key, long long lo,
                      long long hi, long long *out, size_t count)
{
    char *cur = kv->val;
    size_t n = 0, len;
    char *t;

    while ((t = tok_next(&cur, &len))) {
        if (n == count)
            return fail(p, kv->line, "'%s' has more than %zu values", key, count);
        if (tok_int(t, len, lo, hi, &out[n]) < 0)
            return fail(p, kv->line, "'%s' value %zu is not an integer in [%lld, %lld]", key, n, lo,
                        hi);
        n++;
    }
    if (n != count)
        return fail(p, kv->line, "'%s' has %zu values, expected %zu", key, n, count);
    return 0;
}

/* Exactly count finite decimal numbers from kv into out. */
static int parse_doubles(struct parser *p, const struct kv *kv, const char *key, double *out,
                         size_t count)
{
    char *cur = kv->val;
    size_t n = 0, len;
    char *t;

    while ((t = tok_next(&cur, &len))) {
        if (n == count)
            return fail(p, kv->line, "'%s' has more than %zu values", key, count);
        if (tok_double(t, len, &out[n]) < 0)
            return fail(p, kv->line, "'%s' value %zu is not a finite decimal number", key, n);
        n++;
    }
    if (n != count)
        return fail(p, kv->line, "'%s' has %zu values, expected %zu", key, n, count);
    return 0;
}

/* Like parse_doubles, also accepting "inf" and "-inf" (never NaN). */
static int parse_thresholds(struct parser *p, const struct kv *kv, double *out, size_t count)
{
    char *cur = kv->val;
    size_t n = 0, len;
    char *t;

    while ((t = tok_next(&cur, &len))) {
        if (n == count)
            return fail(p, kv->line, "'threshold' has more than %zu values", count);
        if (len == 3 && !memcmp(t, "inf", 3))
            out[n] = INFINITY;
        else if (len == 4 && !memcmp(t, "-inf", 4))
            out[n] = -INFINITY;
        else if (tok_double(t, len, &out[n]) < 0)
            return fail(p, kv->line, "'threshold' value %zu is not a number", n);
        n++;
    }
    if (n != count)
        return fail(p, kv->line, "'threshold' has %zu values, expected %zu", n, count);
    return 0;
}

static int parse_int_value(struct parser *p, const struct kv *kv, const char *key, long long lo,
                           long long hi, long long *out)
{
    return parse_ints(p, kv, key, lo, hi, out, 1);
}

static int scratch_ints(struct parser *p, size_t n)
{
    return grow(p, (void **)&p->ia, &p->ia_cap, n ? n : 1, sizeof(*p->ia));
}

static int scratch_doubles(struct parser *p, size_t n)
{
    return grow(p, (void **)&p->da, &p->da_cap, n ? n : 1, sizeof(*p->da));
}

/* ---- header ---------------------------------------------------------------------------- */

/* The parameters after an objective's name: none, or (regression family) "sqrt". */
static int objective_identity(struct parser *p, int line, const char *name, char *cur,
                              struct lgbm_model *m)
{
    size_t len;
    char *t = tok_next(&cur, &len);

    m->transform = LGBM_TRANSFORM_IDENTITY;
    if (t && len == 4 && memcmp(t, "sqrt", 4) == 0) {
        m->transform = LGBM_TRANSFORM_SQRT;
        t = tok_next(&cur, &len);
    }
    if (t)
        return fail(p, line, "objective '%s': unexpected parameter '%.*s'", name,
                    (int)(len > 40 ? 40 : len), t);
    return 0;
}

static int objective_binary(struct parser *p, int line, char *cur, struct lgbm_model *m)
{
    size_t len;
    char *t = tok_next(&cur, &len);

    m->transform = LGBM_TRANSFORM_SIGMOID;
    if (!t || len < 9 || memcmp(t, "sigmoid:", 8) != 0 ||
        tok_double(t + 8, len - 8, &m->sigmoid) < 0 || !(m->sigmoid > 0))
        return fail(p, line, "objective 'binary' needs 'sigmoid:<positive number>'");
    if (tok_next(&cur, &len))
        return fail(p, line, "objective 'binary': unexpected parameter");
    return 0;
}

static int objective_multiclass(struct parser *p, int line, char *cur, struct lgbm_model *m)
{
    size_t len;
    long long k;
    char *t = tok_next(&cur, &len);

    m->transform = LGBM_TRANSFORM_SOFTMAX;
    if (!t || len < 11 || memcmp(t, "num_class:", 10) != 0 ||
        tok_int(t + 10, len - 10, 2, LGBM_MAX_CLASSES, &k) < 0 || k != m->num_class)
        return fail(p, line, "objective 'multiclass' needs 'num_class:<num_class>'");
    if (tok_next(&cur, &len))
        return fail(p, line, "objective 'multiclass': unexpected parameter");
    return 0;
}

static int parse_objective(struct parser *p, int line, struct lgbm_model *m)
{
    static const char *const identity[] = {"regression", "regression_l1", "huber",
                                           "fair",       "quantile",      "mape"};
    char *cur = m->objective, *t;
    size_t len;
    char name[32];

    t = tok_next(&cur, &len);
    if (!t || len >= sizeof(name))
        return fail(p, line, "objective is empty or unknown");
    memcpy(name, t, len);
    name[len] = '\0';
    for (size_t i = 0; i < sizeof(identity) / sizeof(identity[0]); i++)
        if (strcmp(name, identity[i]) == 0)
            return objective_identity(p, line, name, cur, m);
    if (!strcmp(name, "poisson") || !strcmp(name, "gamma") || !strcmp(name, "tweedie")) {
        m->transform = LGBM_TRANSFORM_EXP;
        if (tok_next(&cur, &len))
            return fail(p, line, "objective '%s': unexpected parameter", name);
        return 0;
    }
    if (!strcmp(name, "binary"))
        return objective_binary(p, line, cur, m);
    if (!strcmp(name, "multiclass"))
        return objective_multiclass(p, line, cur, m);
    return fail(p, line,
                "objective '%s' is not supported (supported: regression, regression_l1, huber, "
                "fair, quantile, mape, poisson, gamma, tweedie, binary, multiclass)",
                name);
}

static int header_line(struct parser *p, char *s, struct kv *hk)
{
    char *eq = strchr(s, '=');

    if (!strcmp(s, "average_output"))
        return fail(p, p->line, "average_output (random forest averaging) is not supported");
    if (!eq)
        return fail(p, p->line, "unexpected header line '%.40s'", s);
    *eq = '\0';
    for (int k = 0; k < HK_COUNT; k++) {
        if (strcmp(s, header_key_names[k]) != 0)
            continue;
        if (hk[k].val)
            return fail(p, p->line, "duplicate header key '%s'", s);
        hk[k].val = eq + 1;
        hk[k].line = p->line;
        return 0;
    }
    return fail(p, p->line, "unknown header key '%.40s'", s);
}

static int store_names(struct parser *p, struct lgbm_model *m, const struct kv *kv)
{
    size_t n = tok_count(kv->val), len, at = 0;
    char *cur = kv->val, *t;

    if (n != (size_t)m->num_features)
        return fail(p, kv->line, "feature_names has %zu names, expected %d", n, m->num_features);
    m->names = malloc(strlen(kv->val) + 1);
    m->name_at = malloc(n * sizeof(*m->name_at));
    if (!m->names || !m->name_at)
        return fail(p, 0, "out of memory");
    for (size_t i = 0; (t = tok_next(&cur, &len)); i++) {
        memcpy(m->names + at, t, len);
        m->names[at + len] = '\0';
        m->name_at[i] = (uint32_t)at;
        at += len + 1;
    }
    return 0;
}

static int check_header(struct parser *p, struct lgbm_model *m, struct kv *hk, long long *ntpi)
{
    long long v;

    for (int k = 0; k < HK_COUNT; k++) {
        bool optional = k == HK_LABEL_INDEX || k == HK_FEATURE_INFOS ||
                        k == HK_MONOTONE_CONSTRAINTS || k == HK_TREE_SIZES;
        if (!hk[k].val && !optional)
            return fail(p, 0, "header key '%s' is missing", header_key_names[k]);
    }
    if (strcmp(hk[HK_VERSION].val, "v4") != 0)
        return fail(p, hk[HK_VERSION].line, "model format version '%.16s' is not supported (v4)",
                    hk[HK_VERSION].val);
    if (parse_int_value(p, &hk[HK_NUM_CLASS], "num_class", 1, LGBM_MAX_CLASSES, &v) < 0)
        return -1;
    m->num_class = (int)v;
    if (parse_int_value(p, &hk[HK_NUM_TREE_PER_ITERATION], "num_tree_per_iteration", 1,
                        LGBM_MAX_CLASSES, ntpi) < 0)
        return -1;
    if (parse_int_value(p, &hk[HK_MAX_FEATURE_IDX], "max_feature_idx", 0, LGBM_MAX_FEATURES - 1,
                        &v) < 0)
        return -1;
    m->num_features = (int)v + 1;
    m->objective = strdup(hk[HK_OBJECTIVE].val);
    if (!m->objective)
        return fail(p, 0, "out of memory");
    if (parse_objective(p, hk[HK_OBJECTIVE].line, m) < 0)
        return -1;
    if (m->transform == LGBM_TRANSFORM_SOFTMAX ? *ntpi != m->num_class
                                               : (m->num_class != 1 || *ntpi != 1))
        return fail(p, hk[HK_NUM_TREE_PER_ITERATION].line,
                    "num_class %d / num_tree_per_iteration %lld do not fit objective '%.40s'",
                    m->num_class, *ntpi, m->objective);
    return store_names(p, m, &hk[HK_FEATURE_NAMES]);
}

static int parse_header(struct parser *p, struct lgbm_model *m, struct kv *hk, long long *ntpi)
{
    char *s = next_line(p);

    if (!s || strcmp(s, "tree") != 0)
        return fail(p, 1, "not a LightGBM text model (first line is not 'tree')");
    while ((s = next_line(p))) {
        if (starts_with(s, "Tree=") || !strcmp(s, "end of trees")) {
            hold_line(p, s);
            break;
        }
        if (!*s)
            continue;
        if (header_line(p, s, hk) < 0)
            return -1;
    }
    return check_header(p, m, hk, ntpi);
}

/* ---- trees ----------------------------------------------------------------------------- */

static int tree_line(struct parser *p, char *s, struct kv *tk)
{
    char *eq = strchr(s, '=');

    if (!eq)
        return fail(p, p->line, "unexpected line '%.40s'", s);
    *eq = '\0';
    for (int k = 0; k < TK_COUNT; k++) {
        if (strcmp(s, tree_key_names[k]) != 0)
            continue;
        if (tk[k].val)
            return fail(p, p->line, "duplicate key '%s'", s);
        tk[k].val = eq + 1;
        tk[k].line = p->line;
        return 0;
    }
    return fail(p, p->line, "unknown tree key '%.40s'", s);
}

static int require(struct parser *p, const struct kv *tk, int key, int tree_line)
{
    if (tk[key].val)
        return 0;
    return fail(p, tree_line, "key '%s' is missing", tree_key_names[key]);
}

static int node_kinds(struct parser *p, struct lgbm_node *nodes, const struct kv *tk, size_t ni)
{
    long long *ia = p->ia;

    if (parse_ints(p, &tk[TK_DECISION_TYPE], "decision_type", 0, 15, ia, ni) < 0)
        return -1;
    for (size_t i = 0; i < ni; i++) {
        int dt = (int)ia[i], missing = (dt >> 2) & 3;
        if (missing == 3)
            return fail(p, tk[TK_DECISION_TYPE].line,
                        "node %zu: decision_type %d has an unknown missing type", i, dt);
        nodes[i].default_left = (uint8_t)((dt >> 1) & 1);
        nodes[i].kind = dt & 1 ? LGBM_NODE_CAT : LGBM_NODE_NUM;
        nodes[i].nan_default = missing != 0;
        nodes[i].zero_default = missing == 1;
    }
    return 0;
}

static int node_children(struct parser *p, struct lgbm_node *nodes, const struct kv *tk, size_t ni)
{
    long long lo = -(long long)(ni + 1), hi = (long long)ni - 1;

    if (parse_ints(p, &tk[TK_LEFT_CHILD], "left_child", lo, hi, p->ia, ni) < 0)
        return -1;
    for (size_t i = 0; i < ni; i++)
        nodes[i].child[0] = (int32_t)p->ia[i];
    if (parse_ints(p, &tk[TK_RIGHT_CHILD], "right_child", lo, hi, p->ia, ni) < 0)
        return -1;
    for (size_t i = 0; i < ni; i++)
        nodes[i].child[1] = (int32_t)p->ia[i];
    if (parse_ints(p, &tk[TK_SPLIT_FEATURE], "split_feature", 0, 0x7fffffff, p->ia, ni) < 0)
        return -1;
    for (size_t i = 0; i < ni; i++) {
        if (p->ia[i] >= 0x7fffffff)
            return fail(p, tk[TK_SPLIT_FEATURE].line, "node %zu: bad split_feature", i);
        nodes[i].feature = (int32_t)p->ia[i];
    }
    return 0;
}

/* cat_boundaries / cat_threshold of a tree: appended to model->cat_words. */
static int tree_cats(struct parser *p, struct lgbm_model *m, const struct kv *tk, size_t num_cat,
                     int tline, size_t *words_out)
{
    *words_out = 0;
    if (num_cat == 0) {
        if (tk[TK_CAT_BOUNDARIES].val || tk[TK_CAT_THRESHOLD].val)
            return fail(p, tline, "cat_boundaries/cat_threshold present with num_cat=0");
        return 0;
    }
    if (require(p, tk, TK_CAT_BOUNDARIES, tline) < 0 || require(p, tk, TK_CAT_THRESHOLD, tline) < 0)
        return -1;
    size_t words = tok_count(tk[TK_CAT_THRESHOLD].val);
    if (words > UINT32_MAX / 4 || m->num_cat_words + words > UINT32_MAX / 4)
        return fail(p, tk[TK_CAT_THRESHOLD].line, "too many cat_threshold words");
    if (scratch_ints(p, words > num_cat + 1 ? words : num_cat + 1) < 0)
        return -1;
    if (parse_ints(p, &tk[TK_CAT_BOUNDARIES], "cat_boundaries", 0, (long long)words, p->ia,
                   num_cat + 1) < 0)
        return -1;
    if (p->ia[0] != 0 || p->ia[num_cat] != (long long)words)
        return fail(p, tk[TK_CAT_BOUNDARIES].line,
                    "cat_boundaries must start at 0 and end at the cat_threshold count");
    for (size_t i = 0; i < num_cat; i++)
        if (p->ia[i + 1] < p->ia[i])
            return fail(p, tk[TK_CAT_BOUNDARIES].line, "cat_boundaries decrease at %zu", i);
    /* boundaries stay in p->da as offsets while the words go through p->ia */
    if (scratch_doubles(p, num_cat + 1) < 0)
        return -1;
    for (size_t i = 0; i <= num_cat; i++)
        p->da[i] = (double)p->ia[i];
    if (grow(p, (void **)&m->cat_words, &p->cat_cap, m->num_cat_words + words + 1,
             sizeof(*m->cat_words)) < 0)
        return -1;
    if (parse_ints(p, &tk[TK_CAT_THRESHOLD], "cat_threshold", 0, 0xffffffffLL, p->ia, words) < 0)
        return -1;
    for (size_t i = 0; i < words; i++)
        m->cat_words[m->num_cat_words + i] = (uint32_t)p->ia[i];
    *words_out = words;
    return 0;
}

/*
 * Thresholds: numeric value (LightGBM writes "inf" / "-inf" for open-ended
 * bins), or for categorical nodes an index into cat_boundaries.
 */
static int node_thresholds(struct parser *p, struct lgbm_model *m, struct lgbm_node *nodes,
                           const struct kv *tk, size_t ni, size_t num_cat, const double *bounds)
{
    double *thr = malloc(ni * sizeof(*thr));
    int rc = -1;

    if (!thr)
        return fail(p, 0, "out of memory");
    if (parse_thresholds(p, &tk[TK_THRESHOLD], thr, ni) < 0)
        goto out;
    for (size_t i = 0; i < ni; i++) {
        if (nodes[i].kind != LGBM_NODE_CAT) {
            nodes[i].u.threshold = thr[i];
            continue;
        }
        double c = thr[i];
        if (!(c >= 0 && c < (double)num_cat) || c != floor(c)) {
            fail(p, tk[TK_THRESHOLD].line,
                 "node %zu: categorical threshold is not a category "
                 "set index below num_cat=%zu",
                 i, num_cat);
            goto out;
        }
        size_t ci = (size_t)c;
        nodes[i].u.cat.off = m->num_cat_words + (uint32_t)bounds[ci];
        nodes[i].u.cat.words = (uint32_t)(bounds[ci + 1] - bounds[ci]);
    }
    rc = 0;
out:
    free(thr);
    return rc;
}

/*
 * The children must form one tree rooted at node 0: every internal node but
 * the root and every leaf referenced exactly once and reached from the root.
 * Computes the depth (edges to the deepest leaf) on the way.
 */
static int check_shape(struct parser *p, const struct lgbm_node *nodes, size_t ni, int tline,
                       int *depth_out)
{
    size_t nl = ni + 1, top = 0, reached = 0;
    int depth = 0;

    if (grow(p, (void **)&p->seen, &p->seen_cap, ni + nl, 1) < 0 ||
        grow(p, (void **)&p->stack, &p->stack_cap, ni + 1, sizeof(*p->stack)) < 0 ||
        grow(p, (void **)&p->depth, &p->depth_cap, ni + 1, sizeof(*p->depth)) < 0)
        return -1;
    memset(p->seen, 0, ni + nl);
    p->seen[0] = 1;
    p->stack[top] = 0;
    p->depth[top++] = 0;
    while (top) {
        top--;
        int32_t n = p->stack[top], d = p->depth[top];
        for (int k = 0; k < 2; k++) {
            int32_t c = nodes[n].child[k];
            size_t slot = c >= 0 ? (size_t)c : ni + (size_t)~c;
            if (p->seen[slot])
                return fail(p, tline, "node %d: child %d is the root or reached twice", n, c);
            p->seen[slot] = 1;
            reached++;
            if (c < 0) {
                depth = d + 1 > depth ? d + 1 : depth;
                continue;
            }
            p->stack[top] = c;
            p->depth[top++] = d + 1;
        }
    }
    if (reached != ni - 1 + nl)
        return fail(p, tline, "nodes or leaves not reachable from the root");
    if (depth > LGBM_MAX_DEPTH)
        return fail(p, tline, "depth %d exceeds the supported %d", depth, LGBM_MAX_DEPTH);
    *depth_out = depth;
    return 0;
}

static int tree_splits(struct parser *p, struct lgbm_model *m, struct lgbm_tree *t,
                       const struct kv *tk, size_t num_cat, int tline)
{
    size_t ni = (size_t)t->num_leaves - 1;
    static const int needed[] = {TK_SPLIT_FEATURE, TK_THRESHOLD,   TK_DECISION_TYPE,
                                 TK_LEFT_CHILD,    TK_RIGHT_CHILD, TK_INTERNAL_COUNT};

    for (size_t k = 0; k < sizeof(needed) / sizeof(needed[0]); k++)
        if (require(p, tk, needed[k], tline) < 0)
            return -1;
    if (grow(p, (void **)&m->nodes, &p->nodes_cap, m->num_nodes + ni, sizeof(*m->nodes)) < 0 ||
        grow(p, (void **)&m->node_count, &p->ncount_cap, m->num_nodes + ni,
             sizeof(*m->node_count)) < 0 ||
        scratch_ints(p, ni) < 0)
        return -1;
    struct lgbm_node *nodes = m->nodes + m->num_nodes;
    memset(nodes, 0, ni * sizeof(*nodes));
    if (node_kinds(p, nodes, tk, ni) < 0 || node_children(p, nodes, tk, ni) < 0)
        return -1;
    for (size_t i = 0; i < ni; i++) {
        if (nodes[i].feature >= m->num_features)
            return fail(p, tk[TK_SPLIT_FEATURE].line, "node %zu: split_feature %d >= %d", i,
                        nodes[i].feature, m->num_features);
        if (nodes[i].kind == LGBM_NODE_CAT && num_cat == 0)
            return fail(p, tk[TK_DECISION_TYPE].line, "node %zu: categorical split but num_cat=0",
                        i);
    }
    size_t words;
    if (tree_cats(p, m, tk, num_cat, tline, &words) < 0 ||
        node_thresholds(p, m, nodes, tk, ni, num_cat, p->da) < 0)
        return -1;
    m->num_cat_words += (uint32_t)words;
    if (parse_ints(p, &tk[TK_INTERNAL_COUNT], "internal_count", 0, 0x7fffffff, p->ia, ni) < 0)
        return -1;
    for (size_t i = 0; i < ni; i++)
        m->node_count[m->num_nodes + i] = (double)p->ia[i];
    if (check_shape(p, nodes, ni, tline, &t->depth) < 0)
        return -1;
    m->num_nodes += (uint32_t)ni;
    return 0;
}

static int tree_linear(struct parser *p, struct lgbm_model *m, const struct lgbm_tree *t,
                       const struct kv *tk, int tline)
{
    size_t n = (size_t)t->num_leaves, lb = t->leaf_base, total = 0;

    if (!t->linear) {
        if (tk[TK_LEAF_CONST].val || tk[TK_NUM_FEATURES].val || tk[TK_LEAF_FEATURES].val ||
            tk[TK_LEAF_COEFF].val)
            return fail(p, tline, "linear keys on a tree with is_linear=0");
        return 0;
    }
    if (require(p, tk, TK_LEAF_CONST, tline) < 0 || require(p, tk, TK_NUM_FEATURES, tline) < 0 ||
        require(p, tk, TK_LEAF_FEATURES, tline) < 0 || require(p, tk, TK_LEAF_COEFF, tline) < 0)
        return -1;
    if (parse_doubles(p, &tk[TK_LEAF_CONST], "leaf_const", m->lin_const + lb, n) < 0 ||
        scratch_ints(p, n) < 0 ||
        parse_ints(p, &tk[TK_NUM_FEATURES], "num_features", 0, m->num_features, p->ia, n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        m->lin_off[lb + i] = (uint32_t)(m->num_lin + total);
        m->lin_len[lb + i] = (uint32_t)p->ia[i];
        total += (size_t)p->ia[i];
    }
    if (m->num_lin + total > UINT32_MAX / 4)
        return fail(p, tline, "too many linear coefficients");
    if (grow(p, (void **)&m->lin_feat, &p->lfeat_cap, m->num_lin + total + 1,
             sizeof(*m->lin_feat)) < 0 ||
        grow(p, (void **)&m->lin_coeff, &p->lcoeff_cap, m->num_lin + total + 1,
             sizeof(*m->lin_coeff)) < 0 ||
        scratch_ints(p, total) < 0)
        return -1;
    if (parse_ints(p, &tk[TK_LEAF_FEATURES], "leaf_features", 0, m->num_features - 1, p->ia,
                   total) < 0 ||
        parse_doubles(p, &tk[TK_LEAF_COEFF], "leaf_coeff", m->lin_coeff + m->num_lin, total) < 0)
        return -1;
    for (size_t i = 0; i < total; i++)
        m->lin_feat[m->num_lin + i] = (int32_t)p->ia[i];
    m->num_lin += (uint32_t)total;
    return 0;
}

static void tree_expected(struct lgbm_model *m, struct lgbm_tree *t)
{
    const double *lv = m->leaf_value + t->leaf_base, *lc = m->leaf_count + t->leaf_base;

    if (t->num_leaves == 1) {
        t->expected = lv[0];
        return;
    }
    double total = m->node_count[t->node_base], e = 0.0;
    for (int i = 0; i < t->num_leaves; i++)
        e += (lc[i] / total) * lv[i];
    t->expected = e;
}

static int tree_leaves(struct parser *p, struct lgbm_model *m, struct lgbm_tree *t,
                       const struct kv *tk, int tline)
{
    size_t n = (size_t)t->num_leaves, need = m->num_leaves + n;

    if (require(p, tk, TK_LEAF_VALUE, tline) < 0 || require(p, tk, TK_LEAF_COUNT, tline) < 0)
        return -1;
    if (grow(p, (void **)&m->leaf_value, &p->leaves_cap, need, sizeof(double)) < 0 ||
        grow(p, (void **)&m->leaf_count, &p->lcount_cap, need, sizeof(double)) < 0 ||
        grow(p, (void **)&m->lin_const, &p->lconst_cap, need, sizeof(double)) < 0 ||
        grow(p, (void **)&m->lin_off, &p->loff_cap, need, sizeof(uint32_t)) < 0 ||
        grow(p, (void **)&m->lin_len, &p->llen_cap, need, sizeof(uint32_t)) < 0 ||
        scratch_ints(p, n) < 0)
        return -1;
    if (parse_doubles(p, &tk[TK_LEAF_VALUE], "leaf_value", m->leaf_value + t->leaf_base, n) < 0 ||
        parse_ints(p, &tk[TK_LEAF_COUNT], "leaf_count", 0, 0x7fffffff, p->ia, n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        m->leaf_count[t->leaf_base + i] = (double)p->ia[i];
        m->lin_len[t->leaf_base + i] = 0;
    }
    return 0;
}

static int build_tree(struct parser *p, struct lgbm_model *m, const struct kv *tk, int tline)
{
    long long nl, num_cat = 0, linear = 0;

    if (require(p, tk, TK_NUM_LEAVES, tline) < 0 ||
        parse_int_value(p, &tk[TK_NUM_LEAVES], "num_leaves", 1, LGBM_MAX_LEAVES, &nl) < 0)
        return -1;
    if (tk[TK_NUM_CAT].val &&
        parse_int_value(p, &tk[TK_NUM_CAT], "num_cat", 0, nl - 1, &num_cat) < 0)
        return -1;
    if (tk[TK_IS_LINEAR].val &&
        parse_int_value(p, &tk[TK_IS_LINEAR], "is_linear", 0, 1, &linear) < 0)
        return -1;
    if (m->num_nodes + (size_t)nl > UINT32_MAX / 4 || m->num_leaves + (size_t)nl > UINT32_MAX / 4)
        return fail(p, tline, "model too large");
    if (grow(p, (void **)&m->trees, &p->trees_cap, (size_t)m->num_trees + 1, sizeof(*m->trees)) < 0)
        return -1;
    struct lgbm_tree *t = &m->trees[m->num_trees];
    memset(t, 0, sizeof(*t));
    t->node_base = m->num_nodes;
    t->leaf_base = m->num_leaves;
    t->num_leaves = (int32_t)nl;
    t->linear = linear != 0;
    t->klass = m->num_trees % m->num_class;
    if (nl == 1) {
        static const int split_keys[] = {TK_SPLIT_FEATURE, TK_THRESHOLD,   TK_DECISION_TYPE,
                                         TK_LEFT_CHILD,    TK_RIGHT_CHILD, TK_INTERNAL_COUNT};
        for (size_t k = 0; k < sizeof(split_keys) / sizeof(split_keys[0]); k++)
            if (tk[split_keys[k]].val && tok_count(tk[split_keys[k]].val))
                return fail(p, tk[split_keys[k]].line, "'%s' must be empty when num_leaves=1",
                            tree_key_names[split_keys[k]]);
    } else if (tree_splits(p, m, t, tk, (size_t)num_cat, tline) < 0) {
        return -1;
    }
    if (tree_leaves(p, m, t, tk, tline) < 0 || tree_linear(p, m, t, tk, tline) < 0)
        return -1;
    m->num_leaves += (uint32_t)nl;
    tree_expected(m, t);
    if (t->depth > m->max_depth)
        m->max_depth = t->depth;
    m->linear = m->linear || t->linear;
    m->num_trees++;
    return 0;
}

/* One "Tree=<i>" block up to the next blank line, Tree= or "end of trees". */
static int parse_tree(struct parser *p, struct lgbm_model *m, char *head)
{
    struct kv tk[TK_COUNT];
    long long idx;
    int tline = p->line;
    char *s;
    size_t hlen = strlen(head + 5);

    memset(tk, 0, sizeof(tk));
    p->tree = m->num_trees;
    if (m->num_trees >= LGBM_MAX_TREES)
        return fail(p, tline, "more than %d trees", LGBM_MAX_TREES);
    if (tok_int(head + 5, hlen, 0, LGBM_MAX_TREES, &idx) < 0 || idx != m->num_trees)
        return fail(p, tline, "expected 'Tree=%d'", m->num_trees);
    while ((s = next_line(p))) {
        if (!*s)
            break;
        if (starts_with(s, "Tree=") || !strcmp(s, "end of trees")) {
            hold_line(p, s);
            break;
        }
        if (tree_line(p, s, tk) < 0)
            return -1;
    }
    return build_tree(p, m, tk, tline);
}

static int parse_trees(struct parser *p, struct lgbm_model *m, const struct kv *sizes,
                       long long ntpi)
{
    char *s;

    while ((s = next_line(p))) {
        if (!*s)
            continue;
        if (!strcmp(s, "end of trees"))
            break;
        if (!starts_with(s, "Tree="))
            return fail(p, p->line, "expected 'Tree=' or 'end of trees', found '%.40s'", s);
        if (parse_tree(p, m, s) < 0)
            return -1;
    }
    p->tree = -1;
    if (!s)
        return fail(p, p->line, "truncated model: no 'end of trees' line");
    if (m->num_trees == 0)
        return fail(p, p->line, "model has no trees");
    if (m->num_trees % ntpi != 0)
        return fail(p, p->line, "%d trees is not a multiple of num_tree_per_iteration %lld",
                    m->num_trees, ntpi);
    if (sizes->val && tok_count(sizes->val) != (size_t)m->num_trees)
        return fail(p, sizes->line, "tree_sizes lists %zu trees, the file has %d",
                    tok_count(sizes->val), m->num_trees);
    /* only single-leaf trees: keep nodes non-NULL so node_base offsets stay defined */
    return grow(p, (void **)&m->nodes, &p->nodes_cap, 1, sizeof(*m->nodes));
}

static void parser_free(struct parser *p)
{
    free(p->buf);
    free(p->ia);
    free(p->da);
    free(p->seen);
    free(p->stack);
    free(p->depth);
}

int lgbm_model_load(const char *text, size_t len, struct lgbm_model **out, char *err,
                    size_t err_len)
{
    struct parser p = {.tree = -1, .err = err, .err_len = err_len};
    struct lgbm_model *m = NULL;
    struct kv hk[HK_COUNT];
    long long ntpi = 0;
    int rc = -1;

    *out = NULL;
    memset(hk, 0, sizeof(hk));
    if (err && err_len)
        err[0] = '\0';
    if (!text || len == 0 || memchr(text, '\0', len)) {
        fail(&p, 0, "model text is empty or contains a NUL byte");
        goto out;
    }
    p.buf = malloc(len + 1);
    m = calloc(1, sizeof(*m));
    if (!p.buf || !m) {
        fail(&p, 0, "out of memory");
        goto out;
    }
    memcpy(p.buf, text, len);
    p.buf[len] = '\0';
    p.cur = p.buf;
    p.end = p.buf + len;
    if (parse_header(&p, m, hk, &ntpi) < 0 || parse_trees(&p, m, &hk[HK_TREE_SIZES], ntpi) < 0)
        goto out;
    *out = m;
    m = NULL;
    rc = 0;
out:
    lgbm_model_free(m);
    parser_free(&p);
    return rc;
}

void lgbm_model_free(struct lgbm_model *m)
{
    if (!m)
        return;
    free(m->objective);
    free(m->names);
    free(m->name_at);
    free(m->trees);
    free(m->nodes);
    free(m->node_count);
    free(m->leaf_value);
    free(m->leaf_count);
    free(m->cat_words);
    free(m->lin_const);
    free(m->lin_off);
    free(m->lin_len);
    free(m->lin_feat);
    free(m->lin_coeff);
    free(m);
}

/* ---- accessors ------------------------------------------------------------------------- */

int lgbm_model_num_features(const struct lgbm_model *m)
{
    return m->num_features;
}

int lgbm_model_num_class(const struct lgbm_model *m)
{
    return m->num_class;
}

const char *lgbm_model_feature_name(const struct lgbm_model *m, int i)
{
    if (i < 0 || i >= m->num_features)
        return NULL;
    return m->names + m->name_at[i];
}

int lgbm_model_num_trees(const struct lgbm_model *m)
{
    return m->num_trees;
}

const char *lgbm_model_objective(const struct lgbm_model *m)
{
    return m->objective;
}

bool lgbm_model_is_linear(const struct lgbm_model *m)
{
    return m->linear;
}

int lgbm_tree_num_leaves(const struct lgbm_model *m, int tree)
{
    if (tree < 0 || tree >= m->num_trees)
        return 0;
    return m->trees[tree].num_leaves;
}

int lgbm_tree_class(const struct lgbm_model *m, int tree)
{
    if (tree < 0 || tree >= m->num_trees)
        return -1;
    return m->trees[tree].klass;
}

int lgbm_tree_node(const struct lgbm_model *m, int tree, int node, struct lgbm_node_view *out)
{
    if (tree < 0 || tree >= m->num_trees || node < 0 || node >= m->trees[tree].num_leaves - 1)
        return -1;
    const struct lgbm_tree *t = &m->trees[tree];
    const struct lgbm_node *nd = &m->nodes[t->node_base + (uint32_t)node];
    memset(out, 0, sizeof(*out));
    out->feature = nd->feature;
    out->decision_type = (nd->kind == LGBM_NODE_CAT) | nd->default_left << 1 |
                         (nd->zero_default  ? 1
                          : nd->nan_default ? 2
                                            : 0)
                             << 2;
    if (nd->kind == LGBM_NODE_CAT) {
        out->cat_bits = m->cat_words + nd->u.cat.off;
        out->cat_words = (int)nd->u.cat.words;
    } else {
        out->threshold = nd->u.threshold;
    }
    out->left = nd->child[0];
    out->right = nd->child[1];
    out->count = m->node_count[t->node_base + (uint32_t)node];
    return 0;
}

double lgbm_tree_leaf_value(const struct lgbm_model *m, int tree, int leaf)
{
    if (tree < 0 || tree >= m->num_trees || leaf < 0 || leaf >= m->trees[tree].num_leaves)
        return NAN;
    return m->leaf_value[m->trees[tree].leaf_base + (uint32_t)leaf];
}

double lgbm_tree_leaf_count(const struct lgbm_model *m, int tree, int leaf)
{
    if (tree < 0 || tree >= m->num_trees || leaf < 0 || leaf >= m->trees[tree].num_leaves)
        return NAN;
    return m->leaf_count[m->trees[tree].leaf_base + (uint32_t)leaf];
}

/* ---- prediction ------------------------------------------------------------------------ */

/* Linear leaf: const + sum(coeff * x) in file order; any NaN input -> plain leaf value. */
static double linear_value(const struct lgbm_model *m, uint32_t leaf, const double *x)
{
    const int32_t *feat = m->lin_feat + m->lin_off[leaf];
    const double *coeff = m->lin_coeff + m->lin_off[leaf];
    double out = m->lin_const[leaf];

    for (uint32_t i = 0; i < m->lin_len[leaf]; i++) {
        double v = lgbm_input(x[feat[i]]);
        if (isnan(v))
            return m->leaf_value[leaf];
        out += coeff[i] * v;
    }
    return out;
}

/*
 * Trees are walked LGBM_LANES at a time, in lockstep: one walk is a chain of
 * dependent loads and compares, so interleaving independent trees lets the
 * CPU overlap them. Leaf values are then added in file order, so the sum is
 * bit for bit the sequential one.
 */
#define LGBM_LANES 8

static void predict_block(const struct lgbm_model *m, int first, int count, const double *x,
                          double *out_raw)
{
    const struct lgbm_node *nodes[LGBM_LANES];
    int32_t n[LGBM_LANES];
    int active;

    for (int j = 0; j < LGBM_LANES; j++) {
        const struct lgbm_tree *t = &m->trees[first + (j < count ? j : 0)];
        nodes[j] = m->nodes + t->node_base;
        n[j] = j < count && t->num_leaves > 1 ? 0 : -1;
    }
    do {
        active = 0;
        for (int j = 0; j < LGBM_LANES; j++) {
            if (n[j] < 0)
                continue;
            const struct lgbm_node *nd = &nodes[j][n[j]];
            n[j] = lgbm_node_next(nd, m->cat_words, x[nd->feature]);
            active |= n[j] >= 0;
        }
    } while (active);
    for (int j = 0; j < count; j++) {
        const struct lgbm_tree *t = &m->trees[first + j];
        uint32_t leaf = t->leaf_base + (uint32_t)~n[j];
        out_raw[t->klass] += t->linear ? linear_value(m, leaf, x) : m->leaf_value[leaf];
    }
}

void lgbm_predict_raw(const struct lgbm_model *m, const double *x, double *out_raw)
{
    for (int k = 0; k < m->num_class; k++)
        out_raw[k] = 0.0;
    for (int i = 0; i < m->num_trees; i += LGBM_LANES) {
        int count = m->num_trees - i < LGBM_LANES ? m->num_trees - i : LGBM_LANES;
        predict_block(m, i, count, x, out_raw);
    }
}

static void softmax(const double *in, double *out, int n)
{
    double wmax = in[0], wsum = 0.0;

    for (int i = 1; i < n; i++)
        wmax = in[i] > wmax ? in[i] : wmax;
    for (int i = 0; i < n; i++) {
        out[i] = exp(in[i] - wmax);
        wsum += out[i];
    }
    for (int i = 0; i < n; i++)
        out[i] /= wsum;
}

void lgbm_transform(const struct lgbm_model *m, const double *raw, double *out)
{
    double r = raw[0];

    switch (m->transform) {
    case LGBM_TRANSFORM_IDENTITY:
        out[0] = r;
        break;
    case LGBM_TRANSFORM_SQRT:
        out[0] = (double)((r > 0) - (r < 0)) * r * r;
        break;
    case LGBM_TRANSFORM_SIGMOID:
        out[0] = 1.0 / (1.0 + exp(-m->sigmoid * r));
        break;
    case LGBM_TRANSFORM_EXP:
        out[0] = exp(r);
        break;
    case LGBM_TRANSFORM_SOFTMAX:
        softmax(raw, out, m->num_class);
        break;
    }
}

void lgbm_predict(const struct lgbm_model *m, const double *x, double *out)
{
    lgbm_predict_raw(m, x, out);
    lgbm_transform(m, out, out);
}
