/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the LightGBM evaluator shared by lgbm.c (loader, prediction)
 * and lgbm_shap.c (TreeSHAP): the flattened model layout and the one split
 * decision both must take identically. Not for use outside insights-api/lgbm*.
 */
#ifndef INSIGHTS_API_LGBM_IMPL_H
#define INSIGHTS_API_LGBM_IMPL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "insights-api/lgbm.h"

enum lgbm_node_kind {
    LGBM_NODE_NUM, /* numeric: left iff x <= threshold, after the missing-value rule */
    LGBM_NODE_CAT, /* categorical: bitset of categories going left */
};

/*
 * One internal node; 24 bytes. child[0] is the left child, child[1] the right:
 * >= 0 a node within the tree, < 0 the leaf ~child. The missing-value rule is
 * pre-digested into flags so the numeric decision needs no branch.
 */
struct lgbm_node {
    union {
        double threshold;
        struct {
            uint32_t off; /* into model->cat_words */
            uint32_t words;
        } cat;
    } u;
    int32_t child[2];
    int32_t feature;
    uint8_t kind;
    uint8_t default_left;
    uint8_t nan_default;  /* NaN takes the default side (missing type Zero or NaN) */
    uint8_t zero_default; /* 0.0 takes the default side (missing type Zero) */
};

struct lgbm_tree {
    uint32_t node_base; /* first node in model->nodes */
    uint32_t leaf_base; /* first leaf in model->leaf_value */
    int32_t num_leaves;
    int32_t depth;
    int32_t klass;
    bool linear;
    double expected; /* cover-weighted mean leaf value (TreeSHAP bias) */
};

enum lgbm_transform {
    LGBM_TRANSFORM_IDENTITY,
    LGBM_TRANSFORM_SQRT, /* regression with reg_sqrt: sign(x) * x * x */
    LGBM_TRANSFORM_SIGMOID,
    LGBM_TRANSFORM_SOFTMAX,
    LGBM_TRANSFORM_EXP, /* poisson, gamma, tweedie */
};

struct lgbm_model {
    int num_features;
    int num_class;
    int num_trees;
    int max_depth;
    bool linear;
    enum lgbm_transform transform;
    double sigmoid;
    char *objective;
    char *names;       /* feature names, NUL-separated */
    uint32_t *name_at; /* offset of name i in names */

    struct lgbm_tree *trees;
    struct lgbm_node *nodes;
    double *node_count;
    uint32_t num_nodes;
    double *leaf_value;
    double *leaf_count;
    uint32_t num_leaves;
    uint32_t *cat_words;
    uint32_t num_cat_words;

    /* linear trees, per leaf (indexed like leaf_value) */
    double *lin_const;
    uint32_t *lin_off;
    uint32_t *lin_len;
    int32_t *lin_feat;
    double *lin_coeff;
    uint32_t num_lin;
};

/* The value LightGBM sees: |x| <= kZeroThreshold is dropped to 0.0 before any tree. */
static inline double lgbm_input(double v)
{
    return fabs(v) <= LGBM_ZERO_THRESHOLD ? 0.0 : v;
}

static inline int32_t lgbm_cat_next(const struct lgbm_node *nd, const uint32_t *cat_words, double v)
{
    /* (int)v outside the int range is INT_MIN on x86 (negative): right */
    if (isnan(v) || !(v > -2147483649.0 && v < 2147483648.0))
        return nd->child[1];
    int c = (int)v;
    if (c < 0)
        return nd->child[1];
    uint32_t w = (uint32_t)c / 32u;
    if (w >= nd->u.cat.words)
        return nd->child[1];
    return nd->child[!((cat_words[nd->u.cat.off + w] >> ((uint32_t)c % 32u)) & 1u)];
}

/*
 * Next child of nd for the raw input v, exactly as LightGBM's Tree::Decision:
 * |v| <= kZeroThreshold is 0.0; NaN is 0.0 unless the missing type is NaN;
 * missing type Zero sends 0.0 (and NaN) to the default side, missing type NaN
 * sends NaN there; otherwise left iff v <= threshold. Written without branches
 * on the value (split directions are unpredictable, mispredictions dominate).
 */
static inline int32_t lgbm_node_next(const struct lgbm_node *nd, const uint32_t *cat_words,
                                     double v)
{
    if (nd->kind == LGBM_NODE_CAT)
        return lgbm_cat_next(nd, cat_words, v);
    int is_nan = isnan(v);
    double a = fabs(v) <= LGBM_ZERO_THRESHOLD ? 0.0 : v;
    a = is_nan ? 0.0 : a;
    int use_default = (is_nan & nd->nan_default) | ((a == 0.0) & nd->zero_default);
    int left = use_default ? nd->default_left : a <= nd->u.threshold;
    return nd->child[left ^ 1];
}

#endif
