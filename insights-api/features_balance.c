/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Balances per account: what is left after the month, how low it goes and
 * which way it is heading. Accounts are the extractor's unique_pan (sender
 * type | entity | last two digits); the three accounts with the most
 * transactions in 90 days are reported one by one (acc0 = primary), the rest
 * only in the totals. Credit-card "balances" are limits and live in the card
 * features instead.
 */
#include <stdlib.h>
#include <string.h>

#include "insights-api/features_impl.h"

#define MAX_ACCOUNTS 32
#define TOP_ACCOUNTS 3
#define LOW_BALANCE 1000.0

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
    const char *key;
    double txn90;
    bool txn30;
    double latest;
    int64_t latest_ts;
    struct fe_acc b30, b90;
    struct fit f30, f90;
    double eom[FE_NMONTH];
    int64_t eom_ts[FE_NMONTH];
};

struct bal {
    struct account acc[MAX_ACCOUNTS];
    int n;
    struct fe_acc all30, all90;
    double low30;
};

static struct account *account_of(struct bal *b, const char *key)
{
    for (int i = 0; i < b->n; i++)
        if (strcmp(b->acc[i].key, key) == 0)
            return &b->acc[i];
    if (b->n == MAX_ACCOUNTS)
        return NULL;
    struct account *a = &b->acc[b->n++];
    memset(a, 0, sizeof(*a));
    a->key = key;
    a->latest = NAN;
    for (int m = 0; m < FE_NMONTH; m++)
        a->eom[m] = NAN;
    return a;
}

static void add_reading(struct bal *b, struct account *a, const struct sms_fact *f,
                        const struct fe_sms *s)
{
    double v = f->available_balance;
    if (f->ts >= a->latest_ts) {
        a->latest_ts = f->ts;
        a->latest = v;
    }
    if (fe_in(s, FE_W30)) {
        fe_acc_add(&a->b30, v);
        fe_acc_add(&b->all30, v);
        fit_add(&a->f30, -s->age_days, v);
        b->low30 += v < LOW_BALANCE;
    }
    if (fe_in(s, FE_W90)) {
        fe_acc_add(&a->b90, v);
        fe_acc_add(&b->all90, v);
        fit_add(&a->f90, -s->age_days, v);
    }
    if (s->month >= 0 && f->ts >= a->eom_ts[s->month]) {
        a->eom_ts[s->month] = f->ts;
        a->eom[s->month] = v;
    }
}

static void accumulate(const struct fe_ctx *ctx, struct bal *b)
{
    for (size_t i = 0; i < ctx->n; i++) {
        const struct sms_fact *f = &ctx->u->sms[i];
        const struct fe_sms *s = &ctx->s[i];
        bool reading = isfinite(f->available_balance) && f->ts <= ctx->now;
        if (s->credit_card || !f->unique_pan || !*f->unique_pan || (!s->txn && !reading))
            continue;
        struct account *a = account_of(b, f->unique_pan);
        if (!a)
            continue;
        if (s->txn) {
            a->txn90 += fe_in(s, FE_W90);
            a->txn30 |= fe_in(s, FE_W30);
        }
        if (reading)
            add_reading(b, a, f, s);
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
    static const struct account none = {.latest = NAN};
    if (!a)
        a = &none;
    fe_str(o, a->key, "acc%d_id", k);
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

static void run_balance(struct fe_ctx *ctx, struct fe_out *o)
{
    static const struct bal zero;
    struct bal b = zero;
    accumulate(ctx, &b);
    qsort(b.acc, (size_t)b.n, sizeof(b.acc[0]), by_activity);
    double active = 0, total = 0, with_latest = 0;
    for (int i = 0; i < b.n; i++) {
        active += b.acc[i].txn30;
        if (b.acc[i].b30.n > 0) {
            total += b.acc[i].latest;
            with_latest++;
        }
    }
    fe_num(o, b.n, "accounts_count");
    fe_num(o, active, "active_accounts_count_c30");
    for (int k = 0; k < TOP_ACCOUNTS; k++)
        emit_account(ctx, o, k < b.n ? &b.acc[k] : NULL, k);
    fe_num(o, with_latest ? total : NAN, "total_latest_balance");
    fe_num(o, fe_min(&b.all30), "min_balance_c30");
    fe_num(o, fe_min(&b.all90), "min_balance_c90");
    fe_num(o, fe_mean(&b.all30), "mean_balance_c30");
    fe_num(o, fe_mean(&b.all90), "mean_balance_c90");
    fe_num(o, b.low30, "low_balance_count_c30");
    fe_num(o, b.all90.n, "balance_readings_count_c90");
    for (int m = 1; m <= 3; m++)
        fe_num(o, b.n ? b.acc[0].eom[m] : NAN, "acc0_eom_balance_m%d", m);
}

const struct fe_family fe_family_balance = {"balance", FEATURES_GROUP_EXTRACTED_SMS, false,
                                            run_balance};
