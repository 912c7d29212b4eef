/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the LightGBM evaluator (insights-api/lgbm.h). The reference is
 * LightGBM itself: every fixture in $SHARED_DIR/data/lightgbm (models, inputs,
 * LightGBM 4.6.0's raw scores, outputs and contributions) must be reproduced.
 * Our own hand-written models in tests/data/lgbm always run; their expected
 * values were computed outside this code base, and their contributions are
 * checked against a brute-force Shapley computation written here from the
 * definition (an independent implementation, exponential but tiny). Refusals
 * are tested by editing a valid model one line at a time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/file.h"
#include "insights-api/lgbm.h"

#define OWN_DIR "tests/data/lgbm"

struct csv {
    int rows;
    int cols; /* data columns, without a leading "row" column */
    double *v;
    char *header;
};

/* A numeric CSV with one header line; skip_first drops the "row" column. */
static void csv_load(const char *path, bool skip_first, struct csv *out)
{
    size_t len, count = 0, cap = 1024;
    char *text = file_read(path, 0, &len, NULL, 0);

    assert_non_null(text);
    memset(out, 0, sizeof(*out));
    char *line = text, *nl = strchr(line, '\n');
    assert_non_null(nl);
    *nl = '\0';
    out->header = strdup(line);
    out->v = malloc(sizeof(double) * cap);
    for (line = nl + 1; nl && *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        int col = 0;
        for (char *cur = line; *cur; col++) {
            char *end;
            double d = strtod(cur, &end);
            assert_true(end != cur && (*end == ',' || *end == '\0'));
            cur = *end == ',' ? end + 1 : end;
            if (skip_first && col == 0)
                continue;
            if (count == cap) {
                cap *= 2;
                out->v = realloc(out->v, sizeof(double) * cap);
            }
            out->v[count++] = d;
        }
        if (out->rows == 0)
            out->cols = col - skip_first;
        assert_int_equal(col - skip_first, out->cols);
        out->rows++;
    }
    free(text);
}

static void csv_free(struct csv *c)
{
    free(c->v);
    free(c->header);
}

static struct lgbm_model *load_model(const char *path)
{
    size_t len;
    char *text = file_read(path, 0, &len, NULL, 0);
    struct lgbm_model *m = NULL;
    char err[256];

    assert_non_null(text);
    if (lgbm_model_load(text, len, &m, err, sizeof(err)) != 0)
        fail_msg("%s: %s", path, err);
    free(text);
    return m;
}

static double rel_err(double got, double want)
{
    if (got == want)
        return 0;
    return fabs(got - want) / fmax(fabs(want), 1e-300);
}

/* The input header must be the model's feature names, comma-separated, in order. */
static void check_names(const struct lgbm_model *m, const char *header)
{
    char *h = strdup(header), *cur = h;

    for (int i = 0; i < lgbm_model_num_features(m); i++) {
        char *comma = strchr(cur, ',');
        if (comma)
            *comma = '\0';
        assert_string_equal(cur, lgbm_model_feature_name(m, i));
        cur = comma ? comma + 1 : cur + strlen(cur);
    }
    assert_null(lgbm_model_feature_name(m, lgbm_model_num_features(m)));
    free(h);
}

/* Raw scores and outputs of every row equal the expected file within 1e-12 relative. */
static void check_predictions(const char *dir, const char *name)
{
    char path[1024];
    struct csv in, exp;

    snprintf(path, sizeof(path), "%s/%s.model.txt", dir, name);
    struct lgbm_model *m = load_model(path);
    snprintf(path, sizeof(path), "%s/%s.input.csv", dir, name);
    csv_load(path, false, &in);
    snprintf(path, sizeof(path), "%s/%s.expected.csv", dir, name);
    csv_load(path, true, &exp);
    int k = lgbm_model_num_class(m);
    assert_int_equal(in.cols, lgbm_model_num_features(m));
    assert_int_equal(exp.cols, 2 * k);
    assert_int_equal(in.rows, exp.rows);
    check_names(m, in.header);
    double raw[64], out[64], worst = 0;
    for (int r = 0; r < in.rows; r++) {
        const double *x = in.v + (size_t)r * (size_t)in.cols, *want = exp.v + (size_t)r * 2 * k;
        lgbm_predict_raw(m, x, raw);
        lgbm_predict(m, x, out);
        for (int j = 0; j < k; j++) {
            double e1 = rel_err(raw[j], want[j]), e2 = rel_err(out[j], want[k + j]);
            if (e1 > 1e-12 || e2 > 1e-12)
                fail_msg("%s row %d class %d: raw %.17g want %.17g, out %.17g want %.17g", name, r,
                         j, raw[j], want[j], out[j], want[k + j]);
            worst = fmax(worst, fmax(e1, e2));
        }
    }
    printf("%-20s %3d rows, %d trees: max relative error %.3g\n", name, in.rows,
           lgbm_model_num_trees(m), worst);
    csv_free(&in);
    csv_free(&exp);
    lgbm_model_free(m);
}

/* Contributions equal <name>.contrib.csv within 1e-9 (relative, absolute near 0). */
static void check_contrib(const char *dir, const char *name)
{
    char path[1024];
    struct csv in, want;

    snprintf(path, sizeof(path), "%s/%s.model.txt", dir, name);
    struct lgbm_model *m = load_model(path);
    snprintf(path, sizeof(path), "%s/%s.input.csv", dir, name);
    csv_load(path, false, &in);
    snprintf(path, sizeof(path), "%s/%s.contrib.csv", dir, name);
    csv_load(path, true, &want);
    int width = (lgbm_model_num_features(m) + 1) * lgbm_model_num_class(m);
    assert_int_equal(want.cols, width);
    size_t scratch_len = lgbm_contrib_scratch_size(m);
    void *scratch = malloc(scratch_len);
    double *got = malloc(sizeof(double) * (size_t)width), worst = 0;
    for (int r = 0; r < in.rows; r++) {
        assert_int_equal(
            lgbm_predict_contrib(m, in.v + (size_t)r * (size_t)in.cols, got, scratch, scratch_len),
            0);
        for (int j = 0; j < width; j++) {
            double w = want.v[(size_t)r * (size_t)width + (size_t)j];
            double e = fabs(got[j] - w) / fmax(fabs(w), 1.0);
            if (e > 1e-9)
                fail_msg("%s row %d column %d: %.17g want %.17g", name, r, j, got[j], w);
            worst = fmax(worst, e);
        }
    }
    printf("%-20s contributions: max error %.3g\n", name, worst);
    free(got);
    free(scratch);
    csv_free(&in);
    csv_free(&want);
    lgbm_model_free(m);
}

static const char *shared_dir(char *buf, size_t len)
{
    const char *s = getenv("SHARED_DIR");
    struct stat st;

    snprintf(buf, len, "%s/data/lightgbm", s && *s ? s : "../shared");
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return buf;
}

static void test_shared_fixtures(void **state)
{
    static const char *const all[] = {
        "tiny",       "binary_nan",        "binary_categorical", "multiclass",
        "regression", "regression_linear", "zero_as_missing",    "use_missing_false",
        "single_leaf"};
    static const char *const with_contrib[] = {"tiny", "regression", "binary_nan",
                                               "binary_categorical", "multiclass"};
    char dir[512];

    (void)state;
    if (!shared_dir(dir, sizeof(dir))) {
        printf("SKIP: ../shared not present\n");
        skip();
    }
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        check_predictions(dir, all[i]);
    for (size_t i = 0; i < sizeof(with_contrib) / sizeof(with_contrib[0]); i++)
        check_contrib(dir, with_contrib[i]);
}

/* LightGBM refuses contributions for linear trees; so do we. */
static void test_shared_linear_has_no_contrib(void **state)
{
    char dir[512], path[600];

    (void)state;
    if (!shared_dir(dir, sizeof(dir))) {
        printf("SKIP: ../shared not present\n");
        skip();
    }
    snprintf(path, sizeof(path), "%s/regression_linear.model.txt", dir);
    struct lgbm_model *m = load_model(path);
    assert_true(lgbm_model_is_linear(m));
    double x[10] = {0}, out[11];
    char scratch[4096];
    assert_true(lgbm_contrib_scratch_size(m) <= sizeof(scratch));
    assert_int_equal(lgbm_predict_contrib(m, x, out, scratch, sizeof(scratch)), -1);
    lgbm_model_free(m);
}

static void test_own_fixtures(void **state)
{
    static const char *const own[] = {"hand_regression", "hand_binary_cat", "hand_multiclass",
                                      "hand_poisson", "hand_linear"};
    (void)state;
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        check_predictions(OWN_DIR, own[i]);
}

/* ---- brute-force Shapley values from the definition ------------------------------------ */

/* LightGBM's decision, re-derived from the node view (not lgbm_impl.h). */
static int bf_next(const struct lgbm_node_view *n, double v)
{
    if (fabs(v) <= LGBM_ZERO_THRESHOLD)
        v = 0.0;
    if (n->decision_type & 1) {
        /* categories are (int)v: (-1, 0) is category 0, NaN/negative/huge go right */
        if (isnan(v) || v <= -1.0 || v >= 2147483648.0)
            return n->right;
        unsigned c = v < 0 ? 0u : (unsigned)v;
        if (c / 32 < (unsigned)n->cat_words && (n->cat_bits[c / 32] >> (c % 32)) & 1)
            return n->left;
        return n->right;
    }
    int missing = (n->decision_type >> 2) & 3;
    bool dl = n->decision_type & 2;
    if (missing == 2 && isnan(v))
        return dl ? n->left : n->right;
    if (isnan(v))
        v = 0.0;
    if (missing == 1 && v == 0.0)
        return dl ? n->left : n->right;
    return v <= n->threshold ? n->left : n->right;
}

static double bf_count(const struct lgbm_model *m, int t, int node)
{
    struct lgbm_node_view n;
    if (node < 0)
        return lgbm_tree_leaf_count(m, t, ~node);
    assert_int_equal(lgbm_tree_node(m, t, node, &n), 0);
    return n.count;
}

/* E[f(x) | x_S]: features in S follow x, others split by data count. */
static double bf_expect(const struct lgbm_model *m, int t, int node, const double *x, unsigned set)
{
    struct lgbm_node_view n;

    if (node < 0)
        return lgbm_tree_leaf_value(m, t, ~node);
    assert_int_equal(lgbm_tree_node(m, t, node, &n), 0);
    if (set & (1u << n.feature))
        return bf_expect(m, t, bf_next(&n, x[n.feature]), x, set);
    return (bf_count(m, t, n.left) * bf_expect(m, t, n.left, x, set) +
            bf_count(m, t, n.right) * bf_expect(m, t, n.right, x, set)) /
           n.count;
}

static double bf_value(const struct lgbm_model *m, int klass, const double *x, unsigned set)
{
    double v = 0;
    for (int t = 0; t < lgbm_model_num_trees(m); t++) {
        if (lgbm_tree_class(m, t) != klass)
            continue;
        v += lgbm_tree_num_leaves(m, t) == 1 ? lgbm_tree_leaf_value(m, t, 0)
                                             : bf_expect(m, t, 0, x, set);
    }
    return v;
}

static void bf_shapley(const struct lgbm_model *m, const double *x, double *out)
{
    int nf = lgbm_model_num_features(m), k = lgbm_model_num_class(m);
    double fact[17] = {1};

    assert_true(nf <= 16);
    for (int i = 1; i <= 16; i++)
        fact[i] = fact[i - 1] * i;
    for (int c = 0; c < k; c++) {
        double *phi = out + c * (nf + 1);
        for (int i = 0; i < nf; i++) {
            phi[i] = 0;
            for (unsigned s = 0; s < (1u << nf); s++) {
                if (s & (1u << i))
                    continue;
                int size = __builtin_popcount(s);
                double w = fact[size] * fact[nf - size - 1] / fact[nf];
                phi[i] += w * (bf_value(m, c, x, s | (1u << i)) - bf_value(m, c, x, s));
            }
        }
        phi[nf] = bf_value(m, c, x, 0);
    }
}

static void check_contrib_bruteforce(const char *dir, const char *name)
{
    char path[1024];
    struct csv in;

    snprintf(path, sizeof(path), "%s/%s.model.txt", dir, name);
    struct lgbm_model *m = load_model(path);
    snprintf(path, sizeof(path), "%s/%s.input.csv", dir, name);
    csv_load(path, false, &in);
    int width = (lgbm_model_num_features(m) + 1) * lgbm_model_num_class(m);
    size_t scratch_len = lgbm_contrib_scratch_size(m);
    void *scratch = malloc(scratch_len);
    double got[64], want[64], raw[8];
    assert_true(width <= 64);
    for (int r = 0; r < in.rows; r++) {
        const double *x = in.v + (size_t)r * (size_t)in.cols;
        assert_int_equal(lgbm_predict_contrib(m, x, got, scratch, scratch_len), 0);
        bf_shapley(m, x, want);
        lgbm_predict_raw(m, x, raw);
        for (int j = 0; j < width; j++)
            if (fabs(got[j] - want[j]) > 1e-12 * fmax(1.0, fabs(want[j])))
                fail_msg("%s row %d column %d: %.17g, brute force %.17g", name, r, j, got[j],
                         want[j]);
        /* additivity: contributions + bias = raw score */
        int nf = lgbm_model_num_features(m);
        for (int c = 0; c < lgbm_model_num_class(m); c++) {
            double sum = 0;
            for (int j = 0; j <= nf; j++)
                sum += got[c * (nf + 1) + j];
            assert_true(fabs(sum - raw[c]) <= 1e-12 * fmax(1.0, fabs(raw[c])));
        }
    }
    free(scratch);
    csv_free(&in);
    lgbm_model_free(m);
}

static void test_contrib_bruteforce(void **state)
{
    char dir[512];

    (void)state;
    check_contrib_bruteforce(OWN_DIR, "hand_regression");
    check_contrib_bruteforce(OWN_DIR, "hand_binary_cat");
    check_contrib_bruteforce(OWN_DIR, "hand_multiclass");
    if (shared_dir(dir, sizeof(dir)))
        check_contrib_bruteforce(dir, "tiny");
}

static void test_contrib_scratch_too_small(void **state)
{
    struct lgbm_model *m = load_model(OWN_DIR "/hand_regression.model.txt");
    double x[4] = {0}, out[5];
    char scratch[512];

    (void)state;
    assert_true(lgbm_contrib_scratch_size(m) > 0);
    assert_int_equal(lgbm_predict_contrib(m, x, out, scratch, lgbm_contrib_scratch_size(m) - 1),
                     -1);
    assert_int_equal(lgbm_predict_contrib(m, x, out, scratch, sizeof(scratch)), 0);
    lgbm_model_free(m);
}

/* ---- the 1e-35 zero rule ----------------------------------------------------------------- */

/*
 * hand_regression tree 0 splits b at threshold -1.0000000180025095e-35 (missing
 * type None). LightGBM sees |x| <= 1e-35f as 0.0, so b exactly on the threshold
 * goes right; one ulp below it goes left; tiny positive and negative values
 * behave like 0.
 */
static void test_zero_threshold_trap(void **state)
{
    struct lgbm_model *m = load_model(OWN_DIR "/hand_regression.model.txt");
    const double thr = -1.0000000180025095e-35;
    double x[4] = {1.0, thr, 0.25, 0}, on, below, zero, tiny;

    (void)state;
    assert_true(fabs(thr) <= LGBM_ZERO_THRESHOLD);
    lgbm_predict_raw(m, x, &on);
    x[1] = nextafter(thr, -INFINITY);
    lgbm_predict_raw(m, x, &below);
    x[1] = 0.0;
    lgbm_predict_raw(m, x, &zero);
    x[1] = -1e-36;
    lgbm_predict_raw(m, x, &tiny);
    /* right leaf -0.5 vs left leaf 0.125 (same other trees) */
    assert_true(on == zero && tiny == zero);
    assert_true(below - on == 0.625);
    lgbm_model_free(m);
}

/* ---- refusals ---------------------------------------------------------------------------- */

struct edit {
    const char *file;
    const char *from; /* a line of the file (without newline), or NULL to keep it */
    const char *to;   /* replacement line(s) */
    const char *why;  /* expected in the error message */
};

static char *edit_text(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    size_t len = strlen(text) + strlen(to) + 1;
    char *out = malloc(len);

    assert_non_null(at);
    size_t head = (size_t)(at - text);
    memcpy(out, text, head);
    memcpy(out + head, to, strlen(to));
    memcpy(out + head + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
    return out;
}

static void test_refusals(void **state)
{
    static const struct edit edits[] = {
        {"hand_regression", "objective=regression", "objective=lambdarank", "lambdarank"},
        {"hand_regression", "objective=regression", "objective=multiclassova num_class:1",
         "multiclassova"},
        {"hand_regression", "objective=regression", "objective=cross_entropy", "not supported"},
        {"hand_regression", "objective=regression", "objective=regression\naverage_output",
         "average_output"},
        {"hand_regression", "objective=regression", "objective=regression extra",
         "unexpected parameter"},
        {"hand_regression", "objective=regression\n", "", "'objective' is missing"},
        {"hand_regression", "version=v4", "version=v3", "version"},
        {"hand_regression", "label_index=0", "label_index=0\nboost_mode=weird",
         "unknown header key"},
        {"hand_regression", "decision_type=10 0 6", "decision_type=10 12 6", "missing type"},
        {"hand_regression", "decision_type=10 0 6", "decision_type=10 16 6", "decision_type"},
        {"hand_regression", "decision_type=10 0 6", "decision_type=10 0", "expected 3"},
        {"hand_regression", "decision_type=10 0 6", "decision_type=10 1 6", "num_cat=0"},
        {"hand_regression", "left_child=1 -1 -3", "left_child=1 -1 0", "reached twice"},
        {"hand_regression", "left_child=1 -1 -3", "left_child=2 -1 -3", "reached twice"},
        {"hand_regression", "left_child=1 -1 -3", "left_child=1 -1 -9", "left_child"},
        {"hand_regression", "left_child=1 -1 -3", "left_child=1 -1 -2", "reached twice"},
        {"hand_regression", "split_feature=0 1 2", "split_feature=0 1 4", "split_feature 4"},
        {"hand_regression", "threshold=1.5 ", "threshold=nan ", "not a number"},
        {"hand_regression", "threshold=1.5 ", "threshold=infinity ", "not a number"},
        {"hand_regression", "threshold=1.5 ", "threshold=0x1p0 ", "not a number"},
        {"hand_regression", "threshold=1.5 ", "threshold=1e999 ", "not a number"},
        {"hand_regression", "leaf_value=0.125 ", "leaf_value=inf ", "finite"},
        {"hand_regression", "leaf_value=0.125 ", "leaf_value=0.125x ", "leaf_value"},
        {"hand_regression", "leaf_value=0.125 -0.5 0.75 1.5", "leaf_value=0.125 -0.5 0.75",
         "leaf_value"},
        {"hand_regression", "num_leaves=4", "num_leaves=4\nnum_leaves=4", "duplicate"},
        {"hand_regression", "shrinkage=0.5", "shrinkage=0.5\nleaf_magic=1", "unknown tree key"},
        {"hand_regression", "Tree=2", "Tree=7", "Tree=2"},
        {"hand_regression", "end of trees", "", "end of trees"},
        {"hand_regression", "tree_sizes=400 200 300", "tree_sizes=400 200", "tree_sizes"},
        {"hand_regression", "tree\nversion", "model\nversion", "first line"},
        {"hand_regression", "num_leaves=3", "num_leaves=1", "empty when num_leaves=1"},
        {"hand_regression", "feature_names=a b c unused", "feature_names=a b c", "feature_names"},
        {"hand_regression", "max_feature_idx=3", "max_feature_idx=-1", "max_feature_idx"},
        {"hand_binary_cat", "cat_boundaries=0 2", "cat_boundaries=0 3", "cat_boundaries"},
        {"hand_binary_cat", "threshold=0 0.5", "threshold=1 0.5", "categorical threshold"},
        {"hand_binary_cat", "objective=binary sigmoid:0.5", "objective=binary", "sigmoid"},
        {"hand_binary_cat", "objective=binary sigmoid:0.5", "objective=binary sigmoid:-1",
         "sigmoid"},
        {"hand_multiclass", "num_tree_per_iteration=3", "num_tree_per_iteration=1",
         "num_tree_per_iteration"},
        {"hand_multiclass", "objective=multiclass num_class:3", "objective=multiclass num_class:4",
         "num_class"},
        {"hand_poisson", "tree_sizes=300 300 300 300 300 300", "tree_sizes=300 300 300 300 300",
         "tree_sizes"},
        {"hand_linear", "num_features=2 0", "num_features=1 0", "leaf_features"},
        {"hand_linear", "leaf_features=1 2  ", "leaf_features=1 3  ", "leaf_features"},
        {"hand_linear", "is_linear=1\nleaf_const=1", "is_linear=0\nleaf_const=1", "is_linear=0"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        char path[256], err[256];
        size_t len;
        struct lgbm_model *m = (struct lgbm_model *)1;
        snprintf(path, sizeof(path), OWN_DIR "/%s.model.txt", edits[i].file);
        char *text = file_read(path, 0, &len, NULL, 0);
        assert_non_null(text);
        char *bad = edit_text(text, edits[i].from, edits[i].to);
        int rc = lgbm_model_load(bad, strlen(bad), &m, err, sizeof(err));
        if (rc == 0 || m != NULL)
            fail_msg("edit %zu (%s) was accepted", i, edits[i].to);
        if (!strstr(err, edits[i].why))
            fail_msg("edit %zu: error '%s' does not mention '%s'", i, err, edits[i].why);
        if (strncmp(err, "line ", 5) != 0 && strstr(edits[i].why, "missing") == NULL)
            fail_msg("edit %zu: error '%s' does not name a line", i, err);
        free(bad);
        free(text);
    }
}

/* Every prefix that stops before "end of trees" is refused; none crashes. */
static void test_truncated(void **state)
{
    size_t len;
    char *text = file_read(OWN_DIR "/hand_binary_cat.model.txt", 0, &len, NULL, 0), err[256];
    size_t end = (size_t)(strstr(text, "end of trees") - text);

    (void)state;
    for (size_t n = 0; n < len; n++) {
        struct lgbm_model *m = NULL;
        char *copy = malloc(n ? n : 1); /* exact size: ASan sees any overread */
        memcpy(copy, text, n);
        int rc = lgbm_model_load(copy, n, &m, err, sizeof(err));
        if (n < end + strlen("end of trees"))
            assert_int_equal(rc, -1);
        if (rc == 0) {
            double x[2] = {1, 2}, out;
            lgbm_predict(m, x, &out);
            lgbm_model_free(m);
        }
        free(copy);
    }
    free(text);
}

static void test_transforms(void **state)
{
    size_t len;
    char *text = file_read(OWN_DIR "/hand_regression.model.txt", 0, &len, NULL, 0), err[256];
    double x[4] = {2.0, 2.0, 0.0, 0}, raw, out;
    struct lgbm_model *m = NULL;

    (void)state;
    char *sqrt_text = edit_text(text, "objective=regression", "objective=regression sqrt");
    assert_int_equal(lgbm_model_load(sqrt_text, strlen(sqrt_text), &m, err, sizeof(err)), 0);
    lgbm_predict_raw(m, x, &raw);
    lgbm_predict(m, x, &out);
    assert_true(raw == 0.5625);
    assert_true(out == 0.5625 * 0.5625);
    x[0] = -3.0;
    lgbm_predict_raw(m, x, &raw);
    lgbm_predict(m, x, &out);
    assert_true(raw < 0 && out == -(raw * raw));
    assert_string_equal(lgbm_model_objective(m), "regression sqrt");
    lgbm_model_free(m);
    free(sqrt_text);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_fixtures),
        cmocka_unit_test(test_shared_linear_has_no_contrib),
        cmocka_unit_test(test_own_fixtures),
        cmocka_unit_test(test_contrib_bruteforce),
        cmocka_unit_test(test_contrib_scratch_too_small),
        cmocka_unit_test(test_zero_threshold_trap),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_transforms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
