/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Affordability: what is left of a month's income once existing EMIs are
 * paid, the number lenders size a new EMI from (Credeau's
 * mobilegator_affordability). It reads the income and obligation the salary
 * and obligations families left in ctx->shared, so it runs after them.
 */
#include "insights-api/features_impl.h"

#define FOIR_CAP 0.5 /* a new EMI plus existing ones within half of income */

static void run_affordability(struct fe_ctx *ctx, struct fe_out *o)
{
    double inc = ctx->shared->estimated_income, ob = ctx->shared->monthly_obligation;
    if (isnan(ob))
        ob = 0;
    fe_num(o, isfinite(inc) ? inc - ob : NAN, "mobilegator_affordability");
    fe_num(o, isfinite(inc) && inc > 0 ? ob / inc : NAN, "obligation_to_income_ratio");
    fe_num(o, isfinite(inc) ? fmax(0, FOIR_CAP * inc - ob) : NAN, "emi_affordability");
}

const struct fe_family fe_family_affordability = {"affordability", FEATURES_GROUP_EXTRACTED_SMS,
                                                  false, run_affordability};
