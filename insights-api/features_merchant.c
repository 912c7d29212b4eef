/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spend by merchant category. Credeau categorises merchants with a pickled
 * text model; we use the merchant mapping (artifacts/merchant_mapping.csv)
 * and its rules (maps_merchant_category), plus two facts the SMS already
 * states: ATM withdrawals are cash and SIP/mutual-fund debits investments.
 * Categories the code does not know count under "other".
 */
#include <string.h>

#include "insights-api/features_impl.h"

static const char *const cats[] = {
    "food",
    "groceries",
    "shopping",
    "fuel",
    "travel",
    "entertainment",
    "bills_utilities",
    "telecom",
    "medical",
    "education",
    "investment",
    "insurance",
    "loan_repayment",
    "gambling",
    "ewallet",
    "rent",
    "cash",
    "transfers",
    "credit_card_payment",
    "charges",
    "other",
    "uncategorised",
};
#define NCAT (sizeof(cats) / sizeof(cats[0]))
#define CAT_OTHER (NCAT - 2)
#define CAT_NONE (NCAT - 1)

static size_t cat_index(const char *c)
{
    if (!c)
        return CAT_NONE;
    for (size_t i = 0; i < CAT_OTHER; i++)
        if (strcmp(c, cats[i]) == 0)
            return i;
    return CAT_OTHER;
}

static size_t categorise(const struct fe_ctx *ctx, const struct sms_fact *f, const struct fe_sms *s)
{
    const char *sub = f->sms_sub_type ? f->sms_sub_type : "";
    if (s->channel == FE_CH_ATM || strcmp(sub, "atm_withdrawal") == 0)
        return cat_index("cash");
    if (strcmp(sub, "investment") == 0)
        return cat_index("investment");
    if (s->kind == FE_K_BOUNCE_CHARGE || s->kind == FE_K_PENALTY)
        return cat_index("charges");
    (void)ctx;
    return cat_index(s->cat);
}

static void run_merchant(struct fe_ctx *ctx, struct fe_out *o)
{
    double n30[NCAT] = {0}, sum30[NCAT] = {0}, sum90[NCAT] = {0}, total90 = 0;
    for (size_t i = 0; i < ctx->n; i++) {
        const struct sms_fact *f = &ctx->sms[i];
        const struct fe_sms *s = &ctx->s[i];
        if (!s->txn || f->direction != SMS_DIRECTION_DEBIT || !fe_in(s, FE_W90))
            continue;
        size_t c = categorise(ctx, f, s);
        sum90[c] += f->amount;
        total90 += f->amount;
        if (fe_in(s, FE_W30)) {
            n30[c]++;
            sum30[c] += f->amount;
        }
    }
    size_t top = NCAT;
    for (size_t c = 0; c < NCAT; c++) {
        fe_num(o, n30[c], "spend_%s_count_c30", cats[c]);
        fe_num(o, sum30[c], "spend_%s_sum_c30", cats[c]);
        fe_num(o, sum90[c], "spend_%s_sum_c90", cats[c]);
        if (c < CAT_OTHER && sum90[c] > 0 && (top == NCAT || sum90[c] > sum90[top]))
            top = c;
    }
    fe_str(o, top < NCAT ? cats[top] : NULL, "top_spend_category_c90");
    fe_num(o, fe_ratio(total90 - sum90[CAT_NONE], total90), "categorised_spend_share_c90");
    fe_num(o, fe_ratio(sum90[cat_index("gambling")], total90), "gambling_spend_share_c90");
}

const struct fe_family fe_family_merchant = {"merchant", FEATURES_GROUP_EXTRACTED_SMS, false,
                                             run_merchant};
