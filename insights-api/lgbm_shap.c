/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Feature contributions (reason codes) for LightGBM models: path-dependent
 * TreeSHAP (Lundberg et al., "Consistent individualized feature attribution
 * for tree ensembles", algorithm 2) as LightGBM's predict_contrib computes it.
 * Written from the published algorithm, with LightGBM's conventions: the cover
 * of a node is its data count (internal_count / leaf_count), the bias of a tree
 * is its count-weighted mean leaf value, single-leaf trees add only to the bias,
 * and the split decision is the one prediction takes (lgbm_impl.h). The
 * arithmetic is kept in the same order as the reference so results agree to
 * the last bits, not just to a tolerance.
 *
 * The recursion keeps one path per depth in caller-provided scratch (a
 * triangle of (depth + 1) (depth + 2) / 2 elements), so nothing is allocated.
 * Linear trees are refused, as LightGBM refuses them.
 */
#include <string.h>

#include "insights-api/lgbm.h"
#include "insights-api/lgbm_impl.h"

struct path_elem {
    int feature;
    double zero_fraction;
    double one_fraction;
    double pweight;
};

struct shap_ctx {
    const struct lgbm_model *m;
    const struct lgbm_tree *t;
    const struct lgbm_node *nodes;
    const double *node_count;
    const double *leaf_count;
    const double *leaf_value;
    const double *x;
    double *phi;
};

static void extend_path(struct path_elem *path, int depth, double zero_fraction,
                        double one_fraction, int feature)
{
    path[depth].feature = feature;
    path[depth].zero_fraction = zero_fraction;
    path[depth].one_fraction = one_fraction;
    path[depth].pweight = depth == 0 ? 1.0 : 0.0;
    for (int i = depth - 1; i >= 0; i--) {
        path[i + 1].pweight += one_fraction * path[i].pweight * (i + 1) / (double)(depth + 1);
        path[i].pweight = zero_fraction * path[i].pweight * (depth - i) / (double)(depth + 1);
    }
}

static void unwind_path(struct path_elem *path, int depth, int index)
{
    const double one_fraction = path[index].one_fraction;
    const double zero_fraction = path[index].zero_fraction;
    double next_one_portion = path[depth].pweight;

    for (int i = depth - 1; i >= 0; i--) {
        if (one_fraction != 0) {
            const double tmp = path[i].pweight;
            path[i].pweight = next_one_portion * (depth + 1) / (double)((i + 1) * one_fraction);
            next_one_portion =
                tmp - path[i].pweight * zero_fraction * (depth - i) / (double)(depth + 1);
        } else {
            path[i].pweight = (path[i].pweight * (depth + 1)) / (zero_fraction * (depth - i));
        }
    }
    for (int i = index; i < depth; i++) {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

static double unwound_path_sum(const struct path_elem *path, int depth, int index)
{
    const double one_fraction = path[index].one_fraction;
    const double zero_fraction = path[index].zero_fraction;
    double next_one_portion = path[depth].pweight;
    double total = 0;

    for (int i = depth - 1; i >= 0; i--) {
        if (one_fraction != 0) {
            const double tmp = next_one_portion * (depth + 1) / (double)((i + 1) * one_fraction);
            total += tmp;
            next_one_portion =
                path[i].pweight - tmp * zero_fraction * ((depth - i) / (double)(depth + 1));
        } else {
            total += (path[i].pweight / zero_fraction) / ((depth - i) / (double)(depth + 1));
        }
    }
    return total;
}

static double cover(const struct shap_ctx *c, int32_t node)
{
    return node >= 0 ? c->node_count[node] : c->leaf_count[~node];
}

static void tree_shap(const struct shap_ctx *c, int32_t node, int depth, struct path_elem *parent,
                      double parent_zero, double parent_one, int parent_feature)
{
    struct path_elem *path = parent + depth;

    if (depth > 0)
        memcpy(path, parent, (size_t)depth * sizeof(*path));
    extend_path(path, depth, parent_zero, parent_one, parent_feature);

    if (node < 0) {
        double value = c->leaf_value[~node];
        for (int i = 1; i <= depth; i++) {
            const double w = unwound_path_sum(path, depth, i);
            c->phi[path[i].feature] += w * (path[i].one_fraction - path[i].zero_fraction) * value;
        }
        return;
    }
    const struct lgbm_node *nd = &c->nodes[node];
    const int32_t hot = lgbm_node_next(nd, c->m->cat_words, c->x[nd->feature]);
    const int32_t cold = hot == nd->child[0] ? nd->child[1] : nd->child[0];
    const double w = cover(c, node);
    const double hot_zero = cover(c, hot) / w;
    const double cold_zero = cover(c, cold) / w;
    double incoming_zero = 1, incoming_one = 1;

    /* a feature already on the path: undo that split and redo it here */
    int index = 0;
    for (; index <= depth; index++)
        if (path[index].feature == nd->feature)
            break;
    if (index != depth + 1) {
        incoming_zero = path[index].zero_fraction;
        incoming_one = path[index].one_fraction;
        unwind_path(path, depth, index);
        depth -= 1;
    }
    tree_shap(c, hot, depth + 1, path, hot_zero * incoming_zero, incoming_one, nd->feature);
    tree_shap(c, cold, depth + 1, path, cold_zero * incoming_zero, 0, nd->feature);
}

size_t lgbm_contrib_scratch_size(const struct lgbm_model *m)
{
    size_t len = (size_t)m->max_depth + 1;
    return len * (len + 1) / 2 * sizeof(struct path_elem);
}

int lgbm_predict_contrib(const struct lgbm_model *m, const double *x, double *out, void *scratch,
                         size_t scratch_len)
{
    size_t stride = (size_t)m->num_features + 1;

    if (m->linear || scratch_len < lgbm_contrib_scratch_size(m) || !scratch)
        return -1;
    memset(out, 0, stride * (size_t)m->num_class * sizeof(*out));
    for (int i = 0; i < m->num_trees; i++) {
        const struct lgbm_tree *t = &m->trees[i];
        double *phi = out + (size_t)t->klass * stride;
        phi[m->num_features] += t->expected;
        if (t->num_leaves == 1)
            continue;
        struct shap_ctx c = {
            .m = m,
            .t = t,
            .nodes = m->nodes + t->node_base,
            .node_count = m->node_count + t->node_base,
            .leaf_count = m->leaf_count + t->leaf_base,
            .leaf_value = m->leaf_value + t->leaf_base,
            .x = x,
            .phi = phi,
        };
        tree_shap(&c, 0, 0, scratch, 1, 1, -1);
    }
    return 0;
}
