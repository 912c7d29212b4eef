/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credit cards: limits, how much of them is used, bills and how they are
 * paid. A card is the unique_pan of SMS the pre-pass marked as about a credit
 * card (a card issuer's sender, a credit or available limit, a card bill
 * payment or a statement with a due amount). Utilisation is
 * 1 - available / limit over cards whose latest SMS gave both.
 */
#include <string.h>

#include "insights-api/features_impl.h"

#define MAX_CARDS 16

struct card {
    const char *key;
    double limit, avail;
    int64_t limit_ts, avail_ts;
};

struct cards {
    struct card c[MAX_CARDS];
    int n;
    struct fe_acc spend[FE_NWIN], spend_month[FE_NMONTH], pay[FE_NWIN];
    double bill_month[FE_NMONTH], due[FE_NWIN], late180, limit_change180, declined90;
    struct fe_acc bills90;
    double latest_bill, latest_min_due;
    int64_t latest_bill_ts;
};

static struct card *card_of(struct cards *a, const struct sms_fact *f)
{
    const char *key = f->unique_pan ? f->unique_pan : f->sender_name ? f->sender_name : f->sender;
    if (!key)
        return NULL;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->c[i].key, key) == 0)
            return &a->c[i];
    if (a->n == MAX_CARDS)
        return NULL;
    struct card *c = &a->c[a->n++];
    *c = (struct card){.key = key, .limit = NAN, .avail = NAN};
    return c;
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

static void add_one(struct cards *a, const struct sms_fact *f, const struct fe_sms *s)
{
    struct card *c = card_of(a, f);
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
    for (size_t i = 0; i < ctx->n; i++)
        if (ctx->s[i].credit_card && ctx->u->sms[i].ts <= ctx->now)
            add_one(&a, &ctx->u->sms[i], &ctx->s[i]);
    double lim = 0, avail = 0, maxlim = NAN, ulim = 0, uavail = 0;
    int nlim = 0, navail = 0;
    for (int i = 0; i < a.n; i++) {
        const struct card *c = &a.c[i];
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
    fe_num(o, a.n, "cc_count");
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
        fe_num(o, a.spend_month[m].sum, "cc_spend_m%d", m);
    fe_num(o, a.pay[FE_W90].n, "cc_payment_count_c90");
    fe_num(o, a.pay[FE_W90].sum, "cc_payment_sum_c90");
    fe_num(o, a.latest_bill, "cc_latest_bill_amount");
    fe_num(o, a.latest_min_due, "cc_latest_min_due");
    for (int m = 0; m < 4; m++)
        fe_num(o, a.bill_month[m], "cc_bill_m%d", m);
    fe_num(o, fe_ratio(a.pay[FE_W90].sum, a.bills90.sum), "cc_payment_to_bill_ratio_c90");
    fe_num(o, a.due[FE_W30], "cc_due_reminder_count_c30");
    fe_num(o, a.due[FE_W90], "cc_due_reminder_count_c90");
    fe_num(o, a.late180, "cc_late_fee_count_c180");
    fe_num(o, a.limit_change180, "cc_limit_change_count_c180");
    fe_num(o, a.declined90, "cc_declined_count_c90");
}

const struct fe_family fe_family_cards = {"cards", FEATURES_GROUP_EXTRACTED_SMS, false, run_cards};
