/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Balances per account: what is left after the month, how low it goes, how
 * often it runs out and what was there when an EMI was taken. Accounts are
 * the pre-pass's instruments of kind account (institution, tail); the three
 * with the most transactions in 90 days are reported one by one (acc0 =
 * primary), the rest only in the totals. Credit-card "balances" are limits
 * and live in the card features instead.
 *
 * A balance is only read when an SMS states one, so each account gets a
 * daily series: the balance at the end of a day is the last one stated on
 * or before it (carried forward), unknown before the first. The user's
 * daily balance is the sum over the accounts known that day. Days negative
 * are days some account ended below zero; days under the floor are days
 * the user's balance ended below the catalogue's balance_floor_inr.
 */
#include <stdlib.h>
#include <string.h>

#include "insights-api/features_impl.h"

#define MAX_ACCOUNTS 16
#define TOP_ACCOUNTS 3
#define SERIES_DAYS 180 /* day 0 = today, day k = k days ago */

struct fit {
    double n, sx, sy, sxx, sxy;
};

static void fit_add(struct fit *f, double x, double y)
{
    f->n++;
    f->sx += x;
    f->sy += y;
    f->sxx += x * x;
    f->sxy += x * y;
}

/* Least-squares slope in INR per day; NAN with fewer than 2 distinct days. */
static double fit_slope(const struct fit *f)
{
    double den = f->n * f->sxx - f->sx * f->sx;
    if (f->n < 2 || den < 1e-9)
        return NAN;
    return (f->n * f->sxy - f->sx * f->sy) / den;
}

struct account {
    int inst; /* index into ctx->inst */
    double txn90;
    bool txn30;
    double latest;
    int64_t latest_ts;
    struct fe_acc b30, b90;
    struct fit f30, f90;
    double before; /* last balance stated before the series starts */
    /* the last balance stated on day k ago (NAN when none), then carried forward */
    double series[SERIES_DAYS];
};

struct bal {
    struct account acc[MAX_ACCOUNTS];
    int n;
    int slot[FE_MAX_INSTRUMENTS]; /* instrument -> acc index, -1 */
    struct fe_acc all30, all90;
    double low30;
};

static struct account *account_of(struct bal *b, int inst)
{
    if (b->slot[inst] >= 0)
        return &b->acc[b->slot[inst]];
    if (b->n == MAX_ACCOUNTS)
        return NULL;
    struct account *a = &b->acc[b->n];
    memset(a, 0, sizeof(*a));
    a->inst = inst;
    a->latest = a->before = NAN;
    for (int d = 0; d < SERIES_DAYS; d++)
        a->series[d] = NAN;
    b->slot[inst] = b->n++;
    return a;
}

static void add_reading(const struct fe_ctx *ctx, struct bal *b, struct account *a,
                        const struct sms_fact *f, const struct fe_sms *s)
{
    double v = f->available_balance;
    int ago = ctx->today - s->day;
    if (f->ts >= a->latest_ts) {
        a->latest_ts = f->ts;
        a->latest = v;
    }
    if (ago >= SERIES_DAYS)
        a->before = v; /* SMS are in time order: the last one before the window wins */
    else if (ago >= 0)
        a->series[ago] = v;
    if (fe_in(s, FE_W30)) {
        fe_acc_add(&a->b30, v);
        fe_acc_add(&b->all30, v);
        fit_add(&a->f30, -s->age_days, v);
        b->low30 += v < ctx->params->balance_floor_inr;
    }
    if (fe_in(s, FE_W90)) {
        fe_acc_add(&a->b90, v);
        fe_acc_add(&b->all90, v);
        fit_add(&a->f90, -s->age_days, v);
    }
}

static void accumulate(const struct fe_ctx *ctx, struct bal *b)
{
    b->n = 0;
    b->low30 = 0;
    memset(&b->all30, 0, sizeof(b->all30));
    memset(&b->all90, 0, sizeof(b->all90));
    for (int i = 0; i < FE_MAX_INSTRUMENTS; i++)
        b->slot[i] = -1;
    for (size_t i = 0; i < ctx->n; i++) {
        const struct sms_fact *f = &ctx->sms[i];
        const struct fe_sms *s = &ctx->s[i];
        bool reading = isfinite(f->available_balance) && f->ts <= ctx->now;
        if (s->inst < 0 || ctx->inst[s->inst].kind != FE_I_ACCOUNT || s->credit_card ||
            (!s->txn && !reading))
            continue;
        struct account *a = account_of(b, s->inst);
        if (!a)
            continue;
        if (s->txn) {
            a->txn90 += fe_in(s, FE_W90);
            a->txn30 |= fe_in(s, FE_W30);
        }
        if (reading)
            add_reading(ctx, b, a, f, s);
    }
    for (int k = 0; k < b->n; k++) { /* carry each balance forward, oldest day first */
        struct account *a = &b->acc[k];
        double cur = a->before;
        for (int d = SERIES_DAYS - 1; d >= 0; d--) {
            if (!isnan(a->series[d]))
                cur = a->series[d];
            a->series[d] = cur;
        }
    }
}

static int by_activity(const void *x, const void *y)
{
    const struct account *a = x, *b = y;
    if (a->txn90 != b->txn90)
        return a->txn90 < b->txn90 ? 1 : -1;
    return (a->latest_ts < b->latest_ts) - (a->latest_ts > b->latest_ts);
}

static void emit_account(struct fe_ctx *ctx, struct fe_out *o, const struct account *a, int k)
{
    static const struct account none = {.inst = -1, .latest = NAN};
    char id[FEATURES_STRING_MAX + 1];
    const struct fe_instrument *in = a ? &ctx->inst[a->inst] : NULL;
    if (!a)
        a = &none;
    if (in)
        snprintf(id, sizeof(id), "%s | account | %s", in->institution ? in->institution : "?",
                 in->tail);
    fe_str(o, in ? id : NULL, "acc%d_id", k);
    fe_num(o, a->latest, "acc%d_latest_balance", k);
    fe_num(o, fe_days_since(ctx, a->latest_ts), "acc%d_days_since_balance", k);
    fe_num(o, fe_min(&a->b30), "acc%d_min_balance_c30", k);
    fe_num(o, fe_min(&a->b90), "acc%d_min_balance_c90", k);
    fe_num(o, fe_mean(&a->b30), "acc%d_mean_balance_c30", k);
    fe_num(o, fe_mean(&a->b90), "acc%d_mean_balance_c90", k);
    fe_num(o, fe_max(&a->b30), "acc%d_max_balance_c30", k);
    fe_num(o, fit_slope(&a->f30), "acc%d_balance_slope_c30", k);
    fe_num(o, fit_slope(&a->f90), "acc%d_balance_slope_c90", k);
    fe_num(o, a == &none ? NAN : a->txn90, "acc%d_txn_count_c90", k);
}

/* The user's balance at the end of day d ago (sum of the accounts known then), NAN if none. */
static double total_on(const struct bal *b, int d, bool *negative)
{
    double t = 0;
    bool known = false;
    *negative = false;
    for (int k = 0; k < b->n; k++) {
        double v = b->acc[k].series[d];
        if (isnan(v))
            continue;
        t += v;
        known = true;
        *negative |= v < 0;
    }
    return known ? t : NAN;
}

static void emit_series(struct fe_ctx *ctx, struct fe_out *o, const struct bal *b)
{
    static const int w[] = {FE_W30, FE_W90};
    for (int k = 0; k < 2; k++) {
        int days = fe_win_days[w[k]];
        double known = 0, neg = 0, under = 0;
        struct fe_acc daily = {0};
        for (int d = 0; d < days; d++) {
            bool negative;
            double t = total_on(b, d, &negative);
            if (isnan(t))
                continue;
            known++;
            neg += negative;
            under += t < ctx->params->balance_floor_inr;
            fe_acc_add(&daily, t);
        }
        const char *wn = fe_win_names[w[k]];
        fe_num(o, known, "balance_days_known_%s", wn);
        fe_num(o, known ? neg : NAN, "balance_days_negative_%s", wn);
        fe_num(o, known ? under : NAN, "balance_days_under_floor_%s", wn);
        fe_num(o, fe_mean(&daily), "balance_daily_mean_%s", wn);
        fe_num(o, fe_min(&daily), "balance_daily_min_%s", wn);
    }
}

/*
 * The debited account's balance at the end of the day before each EMI debit
 * of the last 90 days (what was there to pay it from), and how many EMIs
 * found less than their amount.
 */
static void emit_around_emi(struct fe_ctx *ctx, struct fe_out *o, const struct bal *b)
{
    const struct fe_shared *sh = ctx->shared;
    struct fe_acc before = {0};
    double short_n = 0;
    for (int k = 0; k < sh->n_emi_debits; k++) {
        size_t i = sh->emi_debits[k];
        const struct fe_sms *s = &ctx->s[i];
        int d = ctx->today - s->day + 1, slot = s->inst >= 0 ? b->slot[s->inst] : -1;
        if (!fe_in(s, FE_W90) || slot < 0 || d >= SERIES_DAYS)
            continue;
        double v = b->acc[slot].series[d];
        if (isnan(v))
            continue;
        fe_acc_add(&before, v);
        short_n += v < ctx->sms[i].amount;
    }
    fe_num(o, fe_mean(&before), "balance_before_emi_mean_c90");
    fe_num(o, fe_min(&before), "balance_before_emi_min_c90");
    fe_num(o, before.n ? short_n : NAN, "emi_debits_short_of_balance_c90");
}

/* The user's balance at the end of each complete month m1..m5; null when not known. */
static void emit_month_ends(struct fe_ctx *ctx, struct fe_out *o, const struct bal *b)
{
    for (int m = 1; m < FE_NMONTH; m++) {
        int ago = ctx->today - (fe_month_first_day(ctx, m - 1) - 1);
        bool negative;
        double t = ago >= 0 && ago < SERIES_DAYS ? total_on(b, ago, &negative) : NAN;
        fe_num(o, fe_month_value(ctx, m, t), "balance_month_end_m%d", m);
    }
}

static void run_balance(struct fe_ctx *ctx, struct fe_out *o)
{
    struct bal b;
    accumulate(ctx, &b);
    double active = 0, total = 0, with_latest = 0, accounts = 0;
    for (int i = 0; i < b.n; i++) {
        active += b.acc[i].txn30;
        if (b.acc[i].b30.n > 0) {
            total += b.acc[i].latest;
            with_latest++;
        }
    }
    for (int i = 0; i < ctx->n_inst; i++)
        accounts += ctx->inst[i].kind == FE_I_ACCOUNT;
    fe_num(o, accounts, "accounts_count");
    fe_num(o, active, "active_accounts_count_c30");
    emit_series(ctx, o, &b);
    emit_around_emi(ctx, o, &b);
    emit_month_ends(ctx, o, &b);
    fe_num(o, with_latest ? total : NAN, "total_latest_balance");
    fe_num(o, fe_min(&b.all30), "min_balance_c30");
    fe_num(o, fe_min(&b.all90), "min_balance_c90");
    fe_num(o, fe_mean(&b.all30), "mean_balance_c30");
    fe_num(o, fe_mean(&b.all90), "mean_balance_c90");
    fe_num(o, b.low30, "low_balance_count_c30");
    fe_num(o, b.all90.n, "balance_readings_count_c90");
    /* ranked last: sorting moves the accounts the slots above point to */
    qsort(b.acc, (size_t)b.n, sizeof(b.acc[0]), by_activity);
    for (int k = 0; k < TOP_ACCOUNTS; k++)
        emit_account(ctx, o, k < b.n ? &b.acc[k] : NULL, k);
}

const struct fe_family fe_family_balance = {"balance", FEATURES_GROUP_EXTRACTED_SMS, false,
                                            run_balance};
