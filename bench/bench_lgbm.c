/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How fast the LightGBM evaluator scores one borrower, and whether flattening
 * the trees pays: the same parsed model is evaluated by lgbm_predict_raw()
 * (contiguous node arrays) and by a naive evaluator built here from it (one
 * malloc'd struct per node, left/right pointers), on the binary_nan fixture
 * (200 trees, when ../shared is present) and on a 500-tree depth-8 model
 * generated deterministically as LightGBM text and loaded through the same
 * loader. Also times TreeSHAP contributions. Prints ns per prediction and per
 * tree; the two evaluators' scores are compared, a mismatch aborts.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "insights-api/lgbm.h"

#define GEN_TREES 500
#define GEN_DEPTH 8
#define GEN_FEATURES 40
#define GEN_ROWS 1000
#define ROUNDS 5
#define ROUND_SECONDS 0.15

struct naive_node {
    bool leaf;
    double value;
    int feature;
    int decision_type;
    double threshold;
    const uint32_t *cat_bits;
    int cat_words;
    struct naive_node *left, *right;
};

struct naive_model {
    int num_trees;
    int num_class;
    int *klass;
    struct naive_node **roots;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench_lgbm: out of memory\n");
        exit(1);
    }
    return p;
}

/* ---- the naive evaluator ----------------------------------------------------------------- */

static struct naive_node *naive_build(const struct lgbm_model *m, int t, int child)
{
    struct naive_node *n = xmalloc(sizeof(*n));
    struct lgbm_node_view v;

    memset(n, 0, sizeof(*n));
    if (child < 0) {
        n->leaf = true;
        n->value = lgbm_tree_leaf_value(m, t, ~child);
        return n;
    }
    if (lgbm_tree_node(m, t, child, &v) != 0)
        exit(1);
    n->feature = v.feature;
    n->decision_type = v.decision_type;
    n->threshold = v.threshold;
    n->cat_bits = v.cat_bits;
    n->cat_words = v.cat_words;
    n->left = naive_build(m, t, v.left);
    n->right = naive_build(m, t, v.right);
    return n;
}

static void naive_free_node(struct naive_node *n)
{
    if (!n)
        return;
    naive_free_node(n->left);
    naive_free_node(n->right);
    free(n);
}

static void naive_build_model(const struct lgbm_model *m, struct naive_model *nm)
{
    nm->num_trees = lgbm_model_num_trees(m);
    nm->num_class = lgbm_model_num_class(m);
    nm->klass = xmalloc(sizeof(int) * (size_t)nm->num_trees);
    nm->roots = xmalloc(sizeof(*nm->roots) * (size_t)nm->num_trees);
    for (int t = 0; t < nm->num_trees; t++) {
        nm->klass[t] = lgbm_tree_class(m, t);
        nm->roots[t] = naive_build(m, t, lgbm_tree_num_leaves(m, t) > 1 ? 0 : -1);
    }
}

static void naive_free_model(struct naive_model *nm)
{
    for (int t = 0; t < nm->num_trees; t++)
        naive_free_node(nm->roots[t]);
    free(nm->roots);
    free(nm->klass);
}

static struct naive_node *naive_next(const struct naive_node *n, double v)
{
    if (fabs(v) <= LGBM_ZERO_THRESHOLD)
        v = 0.0;
    if (n->decision_type & 1) {
        if (isnan(v) || v <= -1.0 || v >= 2147483648.0)
            return n->right;
        unsigned c = v < 0 ? 0u : (unsigned)v;
        return c / 32 < (unsigned)n->cat_words && (n->cat_bits[c / 32] >> (c % 32)) & 1 ? n->left
                                                                                        : n->right;
    }
    int missing = (n->decision_type >> 2) & 3;
    if (missing == 2 && isnan(v))
        return n->decision_type & 2 ? n->left : n->right;
    if (isnan(v))
        v = 0.0;
    if (missing == 1 && v == 0.0)
        return n->decision_type & 2 ? n->left : n->right;
    return v <= n->threshold ? n->left : n->right;
}

static void naive_predict_raw(const struct naive_model *nm, const double *x, double *out)
{
    for (int k = 0; k < nm->num_class; k++)
        out[k] = 0;
    for (int t = 0; t < nm->num_trees; t++) {
        const struct naive_node *n = nm->roots[t];
        while (!n->leaf)
            n = naive_next(n, x[n->feature]);
        out[nm->klass[t]] += n->value;
    }
}

/* ---- a generated model ------------------------------------------------------------------- */

struct text {
    char *p;
    size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void emit(struct text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap * 2 + (size_t)n + 64;
        t->p = realloc(t->p, t->cap);
        if (!t->p)
            exit(1);
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double rng_unit(void) /* [0, 1) */
{
    return (double)(rng() >> 11) * (1.0 / 9007199254740992.0);
}

/* "\n<key>=v0 v1 ...": one line of a tree's numeric fields. */
static void emit_longs(struct text *t, const char *key, const long *v, int n)
{
    emit(t, "\n%s=", key);
    for (int i = 0; i < n; i++)
        emit(t, i ? " %ld" : "%ld", v[i]);
}

/* Complete binary tree, BFS numbering: internal nodes 0..254, leaves after them. */
static void emit_tree(struct text *t, int index)
{
    enum { NI = (1 << GEN_DEPTH) - 1, NL = 1 << GEN_DEPTH };
    static const int dts[] = {2, 8, 10, 0, 6};
    long cnt[NI + NL], fixed[NI];

    emit(t, "Tree=%d\nnum_leaves=%d\nnum_cat=0\nsplit_feature=", index, NL);
    for (int i = 0; i < NI; i++)
        emit(t, i ? " %d" : "%d", (int)(rng() % GEN_FEATURES));
    for (int i = 0; i < NI; i++)
        fixed[i] = 1;
    emit_longs(t, "split_gain", fixed, NI);
    emit(t, "\nthreshold=");
    for (int i = 0; i < NI; i++)
        emit(t, i ? " %.17g" : "%.17g", rng_unit() * 2 - 1);
    emit(t, "\ndecision_type=");
    for (int i = 0; i < NI; i++)
        emit(t, i ? " %d" : "%d", dts[rng() % 5]);
    for (int side = 1; side <= 2; side++) {
        emit(t, side == 1 ? "\nleft_child=" : "\nright_child=");
        for (int i = 0; i < NI; i++) {
            int c = 2 * i + side;
            emit(t, i ? " %d" : "%d", c < NI ? c : ~(c - NI));
        }
    }
    emit(t, "\nleaf_value=");
    for (int i = 0; i < NL; i++)
        emit(t, i ? " %.17g" : "%.17g", (rng_unit() - 0.5) * 0.1);
    for (int i = NI + NL - 1; i >= 0; i--)
        cnt[i] = i >= NI ? 1 + (long)(rng() % 100) : cnt[2 * i + 1] + cnt[2 * i + 2];
    emit_longs(t, "leaf_weight", cnt + NI, NL);
    emit_longs(t, "leaf_count", cnt + NI, NL);
    for (int i = 0; i < NI; i++)
        fixed[i] = 0;
    emit_longs(t, "internal_value", fixed, NI);
    emit_longs(t, "internal_weight", cnt, NI);
    emit_longs(t, "internal_count", cnt, NI);
    emit(t, "\nis_linear=0\nshrinkage=0.1\n\n\n");
}

static struct text generate_model(void)
{
    struct text t = {0};

    emit(&t,
         "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\n"
         "max_feature_idx=%d\nobjective=binary sigmoid:1\nfeature_names=",
         GEN_FEATURES - 1);
    for (int f = 0; f < GEN_FEATURES; f++)
        emit(&t, f ? " g%d" : "g%d", f);
    emit(&t, "\nfeature_infos=");
    for (int f = 0; f < GEN_FEATURES; f++)
        emit(&t, f ? " [-1:1]" : "[-1:1]");
    emit(&t, "\n\n");
    for (int i = 0; i < GEN_TREES; i++)
        emit_tree(&t, i);
    emit(&t, "end of trees\n\nparameters:\nend of parameters\n");
    return t;
}

/* ---- timing ------------------------------------------------------------------------------ */

static double *read_inputs(const char *path, int nf, int *rows)
{
    FILE *f = fopen(path, "rb");
    char line[65536];
    int cap = 512, n = 0;
    double *x;

    if (!f)
        return NULL;
    x = xmalloc(sizeof(double) * (size_t)cap * (size_t)nf);
    if (!fgets(line, sizeof(line), f)) { /* header */
        fclose(f);
        free(x);
        return NULL;
    }
    while (fgets(line, sizeof(line), f) && n < cap) {
        char *cur = line;
        for (int j = 0; j < nf; j++) {
            x[(size_t)n * (size_t)nf + (size_t)j] = strtod(cur, &cur);
            if (*cur == ',')
                cur++;
        }
        n++;
    }
    fclose(f);
    *rows = n;
    return x;
}

static volatile double sink;

static void bench_model(const char *label, const struct lgbm_model *m, const double *x, int rows)
{
    int nf = lgbm_model_num_features(m), k = lgbm_model_num_class(m);
    int trees = lgbm_model_num_trees(m);
    struct naive_model nm;
    double raw[64], raw2[64], t0, el;
    long iters;

    naive_build_model(m, &nm);
    for (int r = 0; r < rows; r++) {
        lgbm_predict_raw(m, x + (size_t)r * (size_t)nf, raw);
        naive_predict_raw(&nm, x + (size_t)r * (size_t)nf, raw2);
        for (int j = 0; j < k; j++)
            if (raw[j] != raw2[j]) {
                fprintf(stderr, "bench_lgbm: %s row %d: evaluators disagree\n", label, r);
                exit(1);
            }
    }
    /* the best of ROUNDS short rounds: the machine is shared, the minimum is the signal */
    double ns[2] = {INFINITY, INFINITY};
    for (int round = 0; round < ROUNDS; round++) {
        for (int pass = 0; pass < 2; pass++) {
            iters = 0;
            t0 = now();
            do {
                for (int r = 0; r < rows; r++, iters++) {
                    if (pass == 0)
                        lgbm_predict_raw(m, x + (size_t)r * (size_t)nf, raw);
                    else
                        naive_predict_raw(&nm, x + (size_t)r * (size_t)nf, raw);
                    sink = raw[0];
                }
                el = now() - t0;
            } while (el < ROUND_SECONDS);
            ns[pass] = fmin(ns[pass], el * 1e9 / (double)iters);
        }
    }
    double flat_ns = ns[0], naive_ns = ns[1];
    printf("%-22s flat   %9.0f ns/prediction %6.2f ns/tree (%d trees)\n", label, flat_ns,
           flat_ns / trees, trees);
    printf("%-22s naive  %9.0f ns/prediction %6.2f ns/tree  -> flat is %.2fx faster\n", label,
           naive_ns, naive_ns / trees, naive_ns / flat_ns);

    size_t scratch_len = lgbm_contrib_scratch_size(m);
    void *scratch = xmalloc(scratch_len);
    double *contrib = xmalloc(sizeof(double) * (size_t)(nf + 1) * (size_t)k);
    double shap_us = INFINITY;
    for (int round = 0; round < ROUNDS; round++) {
        iters = 0;
        t0 = now();
        do {
            for (int r = 0; r < rows && r < 50; r++, iters++) {
                if (lgbm_predict_contrib(m, x + (size_t)r * (size_t)nf, contrib, scratch,
                                         scratch_len) != 0)
                    exit(1);
                sink = contrib[0];
            }
            el = now() - t0;
        } while (el < ROUND_SECONDS);
        shap_us = fmin(shap_us, el * 1e6 / (double)iters);
    }
    printf("%-22s treeshap %7.1f us/prediction %6.2f us/tree\n", label, shap_us, shap_us / trees);
    free(contrib);
    free(scratch);
    naive_free_model(&nm);
}

static void bench_fixture(void)
{
    const char *shared = getenv("SHARED_DIR");
    char path[1024];
    char err[256];
    struct lgbm_model *m = NULL;
    size_t len = 0, cap = 1 << 20;
    FILE *f;

    snprintf(path, sizeof(path), "%s/data/lightgbm/binary_nan.model.txt",
             shared && *shared ? shared : "../shared");
    f = fopen(path, "rb");
    if (!f) {
        printf("SKIP: ../shared not present (binary_nan fixture part skipped)\n");
        return;
    }
    char *text = xmalloc(cap);
    size_t n;
    while ((n = fread(text + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap)
            text = realloc(text, cap *= 2);
        if (!text)
            exit(1);
    }
    fclose(f);
    double t0 = now();
    if (lgbm_model_load(text, len, &m, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_lgbm: %s: %s\n", path, err);
        exit(1);
    }
    printf("%-22s load   %9.2f ms (%zu bytes)\n", "binary_nan", (now() - t0) * 1e3, len);
    free(text);
    snprintf(path, sizeof(path), "%s/data/lightgbm/binary_nan.input.csv",
             shared && *shared ? shared : "../shared");
    int rows = 0;
    double *x = read_inputs(path, lgbm_model_num_features(m), &rows);
    if (!x) {
        fprintf(stderr, "bench_lgbm: cannot read %s\n", path);
        exit(1);
    }
    bench_model("binary_nan", m, x, rows);
    free(x);
    lgbm_model_free(m);
}

static void bench_generated(void)
{
    struct text t = generate_model();
    struct lgbm_model *m = NULL;
    char err[256];

    double t0 = now();
    if (lgbm_model_load(t.p, t.len, &m, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_lgbm: generated model: %s\n", err);
        exit(1);
    }
    printf("%-22s load   %9.2f ms (%zu bytes)\n", "generated 500xd8", (now() - t0) * 1e3, t.len);
    free(t.p);
    double *x = xmalloc(sizeof(double) * GEN_ROWS * GEN_FEATURES);
    for (int i = 0; i < GEN_ROWS * GEN_FEATURES; i++) {
        uint64_t r = rng() % 20;
        x[i] = r == 0 ? NAN : r == 1 ? 0.0 : rng_unit() * 2.2 - 1.1;
    }
    bench_model("generated 500xd8", m, x, GEN_ROWS);
    free(x);
    lgbm_model_free(m);
}

int main(void)
{
    printf("bench_lgbm: one prediction = one input row, raw score (no transform); best of %d "
           "rounds\n",
           ROUNDS);
    bench_fixture();
    bench_generated();
    return 0;
}
