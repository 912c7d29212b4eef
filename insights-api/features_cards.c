/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credit cards: limits, how much of them is used, bills and how they are
 * paid. A card is an instrument of kind credit card (institution and the
 * card's last digits; the pre-pass marks SMS about a credit card: the
 * issuer's sender, a credit or available limit, a card bill payment, a
 * statement or bill with a minimum due). A card-SMS that prints no digits
 * belongs to the issuer's only card when it has one. The limit of a card
 * is the latest one stated (statements, limit messages, spends that quote
 * it), the available limit likewise; utilisation is
 * 1 - available / limit over the cards with both.
 */
#include <string.h>

#include "insights-api/features_impl.h"

struct card {
    double limit, avail;
    int64_t limit_ts, avail_ts;
};

struct cards {
    struct card c[FE_MAX_INSTRUMENTS]; /* by instrument index */
    struct fe_acc spend[FE_NWIN], spend_month[FE_NMONTH], pay[FE_NWIN];
    double bill_month[FE_NMONTH], due[FE_NWIN], late180, limit_change180, declined90;
    struct fe_acc bills90;
    double latest_bill, latest_min_due;
    int64_t latest_bill_ts;
};

/* The card an SMS is about: its instrument, else the issuer's only card; NULL when unknown. */
static struct card *card_of(const struct fe_ctx *ctx, struct cards *a, size_t i)
{
    const struct fe_sms *s = &ctx->s[i];
    if (s->inst >= 0)
        return ctx->inst[s->inst].kind == FE_I_CREDIT_CARD ? &a->c[s->inst] : NULL;
    const char *who = ctx->sms[i].sender_name ? ctx->sms[i].sender_name : ctx->sms[i].sender;
    int found = -1;
    for (int k = 0; k < ctx->n_inst; k++) {
        const struct fe_instrument *in = &ctx->inst[k];
        if (in->kind != FE_I_CREDIT_CARD || !who || !in->institution ||
            strcmp(in->institution, who) != 0)
            continue;
        if (found >= 0)
            return NULL;
        found = k;
    }
    return found >= 0 ? &a->c[found] : NULL;
}

static void add_limits(struct card *c, const struct sms_fact *f)
{
    if (isfinite(f->credit_limit) && f->ts >= c->limit_ts) {
        c->limit = f->credit_limit;
        c->limit_ts = f->ts;
    }
    if (isfinite(f->available_limit) && f->ts >= c->avail_ts) {
        c->avail = f->available_limit;
        c->avail_ts = f->ts;
    }
}

static void add_bill(struct cards *a, const struct sms_fact *f, const struct fe_sms *s)
{
    double bill = f->due_amount;
    if (!isfinite(bill))
        return;
    if (s->month >= 0)
        a->bill_month[s->month] += bill;
    if (fe_in(s, FE_W90))
        fe_acc_add(&a->bills90, bill);
    if (f->ts >= a->latest_bill_ts) {
        a->latest_bill_ts = f->ts;
        a->latest_bill = bill;
        a->latest_min_due = f->min_due;
    }
}

static void add_one(const struct fe_ctx *ctx, struct cards *a, size_t i)
{
    const struct sms_fact *f = &ctx->sms[i];
    const struct fe_sms *s = &ctx->s[i];
    struct card *c = card_of(ctx, a, i);
    if (c)
        add_limits(c, f);
    bool spend = s->txn && f->direction == SMS_DIRECTION_DEBIT && s->kind == FE_K_EXECUTED;
    bool pay = s->txn && s->kind == FE_K_CARD_PAYMENT;
    for (int w = 0; w < FE_NWIN; w++) {
        if (!fe_in(s, w))
            continue;
        if (spend)
            fe_acc_add(&a->spend[w], f->amount);
        if (pay)
            fe_acc_add(&a->pay[w], f->amount);
        a->due[w] += s->kind == FE_K_BILL_DUE;
    }
    if (spend && s->month >= 0)
        fe_acc_add(&a->spend_month[s->month], f->amount);
    if (s->kind == FE_K_STATEMENT)
        add_bill(a, f, s);
    a->late180 += fe_in(s, FE_W180) && s->kind == FE_K_PENALTY;
    a->limit_change180 += fe_in(s, FE_W180) && s->kind == FE_K_CARD_LIMIT;
    a->declined90 += fe_in(s, FE_W90) && s->kind == FE_K_DECLINED;
}

static void run_cards(struct fe_ctx *ctx, struct fe_out *o)
{
    static const struct cards zero;
    struct cards a = zero;
    a.latest_bill = a.latest_min_due = NAN;
    for (int k = 0; k < FE_MAX_INSTRUMENTS; k++)
        a.c[k] = (struct card){.limit = NAN, .avail = NAN};
    for (size_t i = 0; i < ctx->n; i++)
        if (ctx->s[i].credit_card && ctx->sms[i].ts <= ctx->now)
            add_one(ctx, &a, i);
    double lim = 0, avail = 0, maxlim = NAN, ulim = 0, uavail = 0, n = 0;
    int nlim = 0, navail = 0;
    for (int i = 0; i < ctx->n_inst; i++) {
        const struct card *c = &a.c[i];
        if (ctx->inst[i].kind != FE_I_CREDIT_CARD)
            continue;
        n++;
        if (isfinite(c->limit)) {
            lim += c->limit;
            nlim++;
            maxlim = isnan(maxlim) || c->limit > maxlim ? c->limit : maxlim;
        }
        if (isfinite(c->avail)) {
            avail += c->avail;
            navail++;
        }
        if (isfinite(c->limit) && isfinite(c->avail)) {
            ulim += c->limit;
            uavail += c->avail;
        }
    }
    fe_num(o, n, "cc_count");
    fe_num(o, nlim, "cc_limit_known_count");
    fe_num(o, nlim ? lim : NAN, "cc_total_limit");
    fe_num(o, maxlim, "cc_max_limit");
    fe_num(o, navail ? avail : NAN, "cc_total_available_limit");
    fe_num(o, ulim > 0 ? fmax(0, 1 - uavail / ulim) : NAN, "cc_utilisation");
    static const int w3[] = {FE_W30, FE_W90, FE_W180};
    for (int k = 0; k < 3; k++) {
        fe_num(o, a.spend[w3[k]].n, "cc_spend_count_%s", fe_win_names[w3[k]]);
        fe_num(o, a.spend[w3[k]].sum, "cc_spend_sum_%s", fe_win_names[w3[k]]);
    }
    for (int m = 0; m < FE_NMONTH; m++)
        fe_num(o, fe_month_value(ctx, m, a.spend_month[m].sum), "cc_spend_m%d", m);
    fe_num(o, a.pay[FE_W90].n, "cc_payment_count_c90");
    fe_num(o, a.pay[FE_W90].sum, "cc_payment_sum_c90");
    fe_num(o, a.latest_bill, "cc_latest_bill_amount");
    fe_num(o, a.latest_min_due, "cc_latest_min_due");
    for (int m = 0; m < 4; m++)
        fe_num(o, fe_month_value(ctx, m, a.bill_month[m]), "cc_bill_m%d", m);
    fe_num(o, fe_ratio(a.pay[FE_W90].sum, a.bills90.sum), "cc_payment_to_bill_ratio_c90");
    fe_num(o, a.due[FE_W30], "cc_due_reminder_count_c30");
    fe_num(o, a.due[FE_W90], "cc_due_reminder_count_c90");
    fe_num(o, a.late180, "cc_late_fee_count_c180");
    fe_num(o, a.limit_change180, "cc_limit_change_count_c180");
    fe_num(o, a.declined90, "cc_declined_count_c90");
}

const struct fe_family fe_family_cards = {"cards", FEATURES_GROUP_EXTRACTED_SMS, false, run_cards};
