/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delinquency: who is chasing the user for money already overdue, how hard
 * and how recently. A lender's overdue notice, a final notice, a collection
 * or recovery message, a legal notice and a settlement offer are, in that
 * order, the steps of a loan going bad; each is counted by window, and the
 * largest days past due and overdue amount stated anywhere say how far it
 * has gone.
 *
 * The kinds are the record's fine kind (sms_kind, which insights-api reads
 * into sms_fact.sms_sub_type) named in the table below, and the amounts its
 * overdue_amount and days_past_due (docs/api-sms-extraction.md; the
 * extraction's delinquency rule types these messages).
 * An overdue notice without an overdue amount gives its amount (or due
 * amount) instead: the message's one sum is what is overdue.
 */
#include <string.h>

#include "insights-api/features_impl.h"

#define MAX_CHASERS 64

enum dq_kind { DQ_OVERDUE = 0, DQ_FINAL, DQ_COLLECTION, DQ_LEGAL, DQ_SETTLEMENT, DQ_N };

/* sms_kind value -> feature stem: one row per kind, the only place the names live. */
static const struct {
    const char *sms_kind;
    const char *stem;
} kinds[DQ_N] = {
    [DQ_OVERDUE] = {"overdue", "overdue_notice"},
    [DQ_FINAL] = {"final_notice", "final_notice"},
    [DQ_COLLECTION] = {"collection", "collection_msg"},
    [DQ_LEGAL] = {"legal_notice", "legal_notice"},
    [DQ_SETTLEMENT] = {"settlement_offer", "settlement_offer"},
};
static const int dq_windows[] = {FE_W30, FE_W90, FE_W180};
#define NDQW 3

static int kind_of_sms(const struct sms_fact *f)
{
    for (int k = 0; k < DQ_N && f->sms_sub_type; k++)
        if (strcmp(f->sms_sub_type, kinds[k].sms_kind) == 0)
            return k;
    return -1;
}

static bool stated(double v)
{
    return isfinite(v) && v > 0;
}

struct dq {
    double n[DQ_N][NDQW];
    double any180;
    double max_dpd, max_overdue;
    const char *chasers[MAX_CHASERS]; /* distinct senders of the last 90 days */
    int nchasers;
    int64_t last_ts;
};

static void add_chaser(struct dq *a, const char *who)
{
    if (!who)
        return;
    for (int i = 0; i < a->nchasers; i++)
        if (strcmp(a->chasers[i], who) == 0)
            return;
    if (a->nchasers < MAX_CHASERS)
        a->chasers[a->nchasers++] = who;
}

static void add_notice(const struct fe_ctx *ctx, struct dq *a, size_t i, int k)
{
    const struct sms_fact *f = &ctx->sms[i];
    const struct fe_sms *s = &ctx->s[i];
    if (f->ts > ctx->now || s->dup)
        return;
    for (int w = 0; w < NDQW; w++)
        a->n[k][w] += fe_in(s, dq_windows[w]);
    if (!fe_in(s, FE_W180))
        return;
    a->any180++;
    double owed = stated(f->overdue_amount)                  ? f->overdue_amount
                  : k == DQ_OVERDUE && stated(f->amount)     ? f->amount
                  : k == DQ_OVERDUE && stated(f->due_amount) ? f->due_amount
                                                             : NAN;
    if (stated(owed) && (isnan(a->max_overdue) || owed > a->max_overdue))
        a->max_overdue = owed;
    if (stated(f->days_past_due) && (isnan(a->max_dpd) || f->days_past_due > a->max_dpd))
        a->max_dpd = f->days_past_due;
    if (fe_in(s, FE_W90))
        add_chaser(a, f->sender_name ? f->sender_name : f->sender);
    if (f->ts > a->last_ts)
        a->last_ts = f->ts;
}

static void run_delinquency(struct fe_ctx *ctx, struct fe_out *o)
{
    struct dq a;
    memset(&a, 0, sizeof(a));
    a.max_dpd = a.max_overdue = NAN;
    for (size_t i = 0; i < ctx->n; i++) {
        int k = kind_of_sms(&ctx->sms[i]);
        if (k >= 0)
            add_notice(ctx, &a, i, k);
    }
    for (int k = 0; k < DQ_N; k++)
        for (int w = 0; w < NDQW; w++)
            fe_num(o, a.n[k][w], "%s_count_%s", kinds[k].stem, fe_win_names[dq_windows[w]]);
    fe_num(o, a.any180, "delinquency_notice_count_c180");
    fe_num(o, a.max_dpd, "delinquency_max_days_past_due_c180");
    fe_num(o, a.max_overdue, "delinquency_max_overdue_amount_c180");
    fe_num(o, a.nchasers, "delinquency_lenders_count_c90");
    fe_num(o, fe_days_since(ctx, a.last_ts), "days_since_last_delinquency_notice");
}

const struct fe_family fe_family_delinquency = {"delinquency", FEATURES_GROUP_EXTRACTED_SMS, false,
                                                run_delinquency};
