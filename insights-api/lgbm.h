/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LightGBM text-model evaluator: scores are computed in-process from the file
 * LightGBM's save_model() writes (format "version=v4"), with results equal to
 * LightGBM 4.6.0's own predictions, so a model trained in Python can be served
 * here without a Python runtime and without drift between training and serving.
 *
 * DESIGN
 * lgbm_model_load() parses outside input: it never reads past the buffer, caps
 * every count, checks every index and the shape of every tree, and refuses
 * (with the line, the tree and the problem in err) whatever it cannot evaluate
 * exactly: unknown keys, objectives without an implemented transform,
 * average_output (random forest), malformed decision types. A loaded model is
 * immutable and can be shared by threads.
 *
 * The trees are flattened into one contiguous node array (children are indices
 * within the tree, leaves are encoded as ~leaf), so one prediction walks a few
 * cache lines and allocates nothing: callers pass the output buffers (and the
 * TreeSHAP scratch). docs/scoring.md describes the semantics (missing values,
 * categorical splits, the 1e-35 zero rule) and what is refused.
 */
#ifndef INSIGHTS_API_LGBM_H
#define INSIGHTS_API_LGBM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* LightGBM's kZeroThreshold (1e-35f) as a double: inputs with |x| <= this are 0.0. */
#define LGBM_ZERO_THRESHOLD 1.0000000180025095e-35

/* Load limits: larger models are refused at load. */
#define LGBM_MAX_LEAVES 131072   /* LightGBM's own num_leaves ceiling */
#define LGBM_MAX_DEPTH 512       /* TreeSHAP scratch grows with depth^2 */
#define LGBM_MAX_FEATURES 100000 /* max_feature_idx + 1 */
#define LGBM_MAX_CLASSES 1024
#define LGBM_MAX_TREES 1000000

struct lgbm_model;

/*
 * Parse a LightGBM text model from text[0..len) (need not be NUL-terminated).
 * On success returns 0 and *out owns the model (free with lgbm_model_free).
 * On failure returns -1, *out is NULL and err names the line, tree and problem.
 */
int lgbm_model_load(const char *text, size_t len, struct lgbm_model **out, char *err,
                    size_t err_len) __attribute__((warn_unused_result));
void lgbm_model_free(struct lgbm_model *model);

/* Length of the input vector x: max_feature_idx + 1. */
int lgbm_model_num_features(const struct lgbm_model *model);
/* Outputs per prediction: num_class for multiclass, else 1. */
int lgbm_model_num_class(const struct lgbm_model *model);
/* Name of feature i from feature_names, or NULL when i is out of range. */
const char *lgbm_model_feature_name(const struct lgbm_model *model, int i);
int lgbm_model_num_trees(const struct lgbm_model *model);
/* The objective as written in the model, e.g. "binary sigmoid:1". */
const char *lgbm_model_objective(const struct lgbm_model *model);
bool lgbm_model_is_linear(const struct lgbm_model *model);

/*
 * Raw scores (sum of leaf values; tree t adds to class t % num_class) into
 * out_raw[num_class]. x has lgbm_model_num_features() values; NaN is missing.
 */
void lgbm_predict_raw(const struct lgbm_model *model, const double *x, double *out_raw);
/* Raw scores through the objective's transform (sigmoid, softmax, exp, ...). */
void lgbm_predict(const struct lgbm_model *model, const double *x, double *out);
/* Apply the objective's transform to raw scores (raw and out may be the same). */
void lgbm_transform(const struct lgbm_model *model, const double *raw, double *out);

/*
 * Bytes of scratch lgbm_predict_contrib() needs (depends on the deepest tree).
 * Allocate it once per thread.
 */
size_t lgbm_contrib_scratch_size(const struct lgbm_model *model);
/*
 * Feature contributions as LightGBM's predict_contrib (path-dependent TreeSHAP
 * weighted by the trees' data counts): out[(num_features + 1) * num_class], per
 * class one value per feature then the bias (expected value). They sum to the
 * raw score. Returns 0, or -1 when scratch_len is too small or the model has
 * linear trees (LightGBM refuses contributions for those as well).
 */
int lgbm_predict_contrib(const struct lgbm_model *model, const double *x, double *out,
                         void *scratch, size_t scratch_len);

/* Read-only view of the parsed trees, for tools, tests and the benchmark. */
struct lgbm_node_view {
    int feature;
    int decision_type; /* as in the file: bit 0 categorical, 1 default left, 2-3 missing */
    double threshold;  /* numeric splits */
    const uint32_t *cat_bits;
    int cat_words; /* categorical splits: bitset words */
    int left;      /* LightGBM encoding: >= 0 internal node, < 0 leaf ~left */
    int right;
    double count; /* internal_count */
};
int lgbm_tree_num_leaves(const struct lgbm_model *model, int tree);
int lgbm_tree_class(const struct lgbm_model *model, int tree);
/* Returns 0, or -1 when tree/node are out of range. */
int lgbm_tree_node(const struct lgbm_model *model, int tree, int node, struct lgbm_node_view *out);
double lgbm_tree_leaf_value(const struct lgbm_model *model, int tree, int leaf);
double lgbm_tree_leaf_count(const struct lgbm_model *model, int tree, int leaf);

#endif
