/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Money in and out: debit and credit counts and amounts by window, month and
 * channel, the cash-flow shape (net flow, debit/credit ratio, large tickets)
 * that income and affordability estimates start from. Only records the
 * pre-pass marked as transactions count (duplicates of one transaction are
 * counted once).
 */
#include <string.h>
#include <strings.h>

#include "insights-api/features_impl.h"

static const char *const dir_names[2] = {"debit", "credit"};
static const int chan_windows[] = {FE_W30, FE_W90, FE_W180};
#define NCHW 3
#define LARGE_TICKET 50000.0
#define SMALL_TICKET 200.0
#define MAX_PARTIES 512

struct parties {
    const char *v[MAX_PARTIES];
    int n;
};

static void party_add(struct parties *p, const char *s)
{
    if (!s || !*s)
        return;
    for (int i = 0; i < p->n; i++)
        if (strcasecmp(p->v[i], s) == 0)
            return;
    if (p->n < MAX_PARTIES)
        p->v[p->n++] = s;
}

struct txn_acc {
    struct fe_acc win[2][FE_NWIN];
    struct fe_acc month[2][FE_NMONTH];
    double chan_n[FE_CH_COUNT][2][NCHW], chan_sum[FE_CH_COUNT][2][NCHW];
    struct fe_acc cash_dep90, interest180, refund90;
    double large_credit90, large_debit90, small_debit30;
    unsigned char active[90];
    struct parties debit_parties30, debit_parties90, payers90;
};

static int dir_index(const struct sms_fact *f)
{
    return f->direction == SMS_DIRECTION_CREDIT ? 1 : 0;
}

static void add_subtypes(struct txn_acc *a, const struct sms_fact *f, const struct fe_sms *s)
{
    const char *sub = f->sms_sub_type ? f->sms_sub_type : "";
    if (fe_in(s, FE_W90) && strcmp(sub, "cash_deposit") == 0)
        fe_acc_add(&a->cash_dep90, f->amount);
    if (fe_in(s, FE_W180) && strcmp(sub, "interest") == 0 && f->direction == SMS_DIRECTION_CREDIT)
        fe_acc_add(&a->interest180, f->amount);
    if (fe_in(s, FE_W90) && s->kind == FE_K_REFUND)
        fe_acc_add(&a->refund90, f->amount);
}

static void add_one(const struct fe_ctx *ctx, struct txn_acc *a, size_t i)
{
    const struct sms_fact *f = &ctx->sms[i];
    const struct fe_sms *s = &ctx->s[i];
    int d = dir_index(f);
    for (int w = 0; w < FE_NWIN; w++)
        if (fe_in(s, w))
            fe_acc_add(&a->win[d][w], f->amount);
    if (s->month >= 0)
        fe_acc_add(&a->month[d][s->month], f->amount);
    for (int k = 0; k < NCHW; k++)
        if (fe_in(s, chan_windows[k])) {
            a->chan_n[s->channel][d][k]++;
            a->chan_sum[s->channel][d][k] += f->amount;
        }
    add_subtypes(a, f, s);
    if (fe_in(s, FE_W90)) {
        a->large_credit90 += d == 1 && f->amount >= LARGE_TICKET;
        a->large_debit90 += d == 0 && f->amount >= LARGE_TICKET;
        int age = ctx->today - s->day;
        if (age >= 0 && age < 90)
            a->active[age] = 1;
        if (d == 0)
            party_add(&a->debit_parties90, f->transaction_party);
        else
            party_add(&a->payers90, f->transaction_party);
    }
    if (fe_in(s, FE_W30) && d == 0) {
        a->small_debit30 += f->amount < SMALL_TICKET;
        party_add(&a->debit_parties30, f->transaction_party);
    }
}

static void emit_windows(const struct fe_ctx *ctx, struct fe_out *o, const struct txn_acc *a)
{
    for (int d = 0; d < 2; d++)
        for (int w = 0; w < FE_NWIN; w++) {
            const struct fe_acc *x = &a->win[d][w];
            fe_num(o, x->n, "%s_count_%s", dir_names[d], fe_win_names[w]);
            fe_num(o, x->sum, "%s_sum_%s", dir_names[d], fe_win_names[w]);
            fe_num(o, fe_mean(x), "%s_mean_%s", dir_names[d], fe_win_names[w]);
            fe_num(o, fe_max(x), "%s_max_%s", dir_names[d], fe_win_names[w]);
        }
    for (int d = 0; d < 2; d++)
        for (int m = 0; m < FE_NMONTH; m++) {
            fe_num(o, fe_month_value(ctx, m, a->month[d][m].n), "%s_count_m%d", dir_names[d], m);
            fe_num(o, fe_month_value(ctx, m, a->month[d][m].sum), "%s_sum_m%d", dir_names[d], m);
        }
    for (int c = 1; c < FE_CH_COUNT; c++)
        for (int d = 0; d < 2; d++)
            for (int k = 0; k < NCHW; k++) {
                const char *ch = fe_channel_names[c], *wn = fe_win_names[chan_windows[k]];
                fe_num(o, a->chan_n[c][d][k], "%s_%s_count_%s", ch, dir_names[d], wn);
                fe_num(o, a->chan_sum[c][d][k], "%s_%s_sum_%s", ch, dir_names[d], wn);
            }
}

static void emit_shape(const struct fe_ctx *ctx, struct fe_out *o, const struct txn_acc *a)
{
    fe_num(o, a->cash_dep90.n, "cash_deposit_count_c90");
    fe_num(o, a->cash_dep90.sum, "cash_deposit_sum_c90");
    fe_num(o, a->interest180.sum, "interest_credit_sum_c180");
    fe_num(o, a->refund90.n, "refund_count_c90");
    fe_num(o, a->refund90.sum, "refund_sum_c90");
    static const int flow_w[] = {FE_W30, FE_W90, FE_W180};
    for (int k = 0; k < 3; k++)
        fe_num(o, a->win[1][flow_w[k]].sum - a->win[0][flow_w[k]].sum, "net_flow_%s",
               fe_win_names[flow_w[k]]);
    fe_num(o, fe_ratio(a->win[0][FE_W30].sum, a->win[1][FE_W30].sum), "debit_credit_ratio_c30");
    fe_num(o, fe_ratio(a->win[0][FE_W90].sum, a->win[1][FE_W90].sum), "debit_credit_ratio_c90");
    double cs = 0, ds = 0, nm = 0;
    for (int m = 1; m <= 3; m++) {
        if (!fe_month_observed(ctx, m))
            continue;
        cs += a->month[1][m].sum;
        ds += a->month[0][m].sum;
        nm++;
    }
    fe_num(o, nm ? cs / nm : NAN, "avg_monthly_credit_3m");
    fe_num(o, nm ? ds / nm : NAN, "avg_monthly_debit_3m");
    fe_num(o, a->large_credit90, "large_credit_count_c90");
    fe_num(o, a->large_debit90, "large_debit_count_c90");
    fe_num(o, a->small_debit30, "small_debit_count_c30");
    double act30 = 0, act90 = 0;
    for (int d = 0; d < 90; d++) {
        act90 += a->active[d];
        act30 += d < 30 ? a->active[d] : 0;
    }
    fe_num(o, act30, "txn_active_days_c30");
    fe_num(o, act90, "txn_active_days_c90");
    fe_num(o, a->debit_parties30.n, "distinct_debit_parties_c30");
    fe_num(o, a->debit_parties90.n, "distinct_debit_parties_c90");
    fe_num(o, a->payers90.n, "distinct_credit_payers_c90");
}

static void run_txn(struct fe_ctx *ctx, struct fe_out *o)
{
    static const struct txn_acc zero;
    struct txn_acc a = zero;
    for (size_t i = 0; i < ctx->n; i++)
        if (ctx->s[i].txn)
            add_one(ctx, &a, i);
    emit_windows(ctx, o, &a);
    emit_shape(ctx, o, &a);
}

const struct fe_family fe_family_txn = {"txn", FEATURES_GROUP_EXTRACTED_SMS, false, run_txn};
