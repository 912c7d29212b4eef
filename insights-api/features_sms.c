/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SMS counts by type, sender and window (Credeau's "sms" grouping, the
 * *_count_nlp family), plus the null-reason features every reply carries so a
 * lender can tell "no SMS" from "extraction failed" from "not asked".
 */
#include <string.h>

#include "insights-api/features_impl.h"

/* ---- null reasons ---- */

static const char *reason(enum source_state st, bool asked, const char *failed)
{
    if (!asked || st == SOURCE_NOT_ASKED)
        return "not_requested";
    if (st == SOURCE_EMPTY)
        return "no_data";
    if (st == SOURCE_FAILED)
        return failed;
    return NULL;
}

static void run_meta(struct fe_ctx *ctx, struct fe_out *o)
{
    const struct user_data *u = ctx->u;
    unsigned sms_groups = FEATURES_GROUP_SMS | FEATURES_GROUP_EXTRACTED_SMS;
    fe_set_group(o, FEATURES_GROUP_SMS);
    fe_str(o, reason(u->sms_state, ctx->mask & sms_groups, "extraction_failed"),
           "sms_data_null_reason");
    fe_set_group(o, FEATURES_GROUP_APPS);
    fe_str(o,
           reason(u->apps_state, ctx->mask & (FEATURES_GROUP_APPS | FEATURES_GROUP_FRAUD),
                  "fetch_failed"),
           "apps_data_null_reason");
    fe_set_group(o, FEATURES_GROUP_DEVICE);
    fe_str(o,
           reason(u->device_state, ctx->mask & (FEATURES_GROUP_DEVICE | FEATURES_GROUP_FRAUD),
                  "fetch_failed"),
           "device_data_null_reason");
}

const struct fe_family fe_family_meta = {"meta", FEATURES_GROUP_SMS, true, run_meta};

/* ---- SMS counts ---- */

enum sms_cls {
    C_ALL = 0,
    C_TXN,
    C_CREDIT,
    C_DEBIT,
    C_OTP,
    C_PROMO,
    C_DECLINED,
    C_BILL_DUE,
    C_BALANCE,
    C_STATEMENT,
    C_COLLECT,
    C_REFUND,
    C_FUTURE_DEBIT,
    C_COUNT
};
static const char *const cls_names[C_COUNT] = {
    "all_sms",         "txn_sms",      "credit_sms",       "debit_sms",   "otp",
    "promo",           "declined_txn", "bill_due_sms",     "balance_sms", "statement_sms",
    "collect_request", "refund_sms",   "future_debit_sms",
};
static const int cls_windows[] = {FE_W7, FE_W30, FE_W90, FE_W180};
#define NCW (sizeof(cls_windows) / sizeof(cls_windows[0]))

#define MAX_DISTINCT 256

struct distinct {
    const char *v[MAX_DISTINCT];
    int n;
};

static void distinct_add(struct distinct *d, const char *s)
{
    if (!s || !*s)
        return;
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->v[i], s) == 0)
            return;
    if (d->n < MAX_DISTINCT)
        d->v[d->n++] = s;
}

struct sms_acc {
    double cls[C_COUNT][FE_NWIN];
    double cls_all[C_COUNT];
    double month_all[FE_NMONTH], month_txn[FE_NMONTH];
    double sender[FE_S_COUNT][3]; /* c30, c180, all */
    double classified, extracted;
    struct distinct senders, banks, lenders, cards;
    unsigned char active30[30];
    int64_t first_ts, last_ts, last_txn_ts;
};

static void classes_of(const struct sms_fact *f, const struct fe_sms *s, bool *c)
{
    memset(c, 0, sizeof(bool) * C_COUNT);
    c[C_ALL] = true;
    c[C_TXN] = f->is_transactional;
    c[C_CREDIT] = f->direction == SMS_DIRECTION_CREDIT;
    c[C_DEBIT] = f->direction == SMS_DIRECTION_DEBIT;
    c[C_OTP] = s->kind == FE_K_OTP;
    c[C_PROMO] = s->kind == FE_K_PROMO;
    c[C_DECLINED] = s->kind == FE_K_DECLINED;
    c[C_BILL_DUE] = s->kind == FE_K_BILL_DUE;
    c[C_BALANCE] = s->kind == FE_K_BALANCE;
    c[C_STATEMENT] = s->kind == FE_K_STATEMENT;
    c[C_COLLECT] = s->kind == FE_K_COLLECT;
    c[C_REFUND] = s->kind == FE_K_REFUND;
    c[C_FUTURE_DEBIT] = s->kind == FE_K_FUTURE_DEBIT;
}

static void accumulate(const struct fe_ctx *ctx, struct sms_acc *a)
{
    for (size_t i = 0; i < ctx->n; i++) {
        const struct sms_fact *f = &ctx->sms[i];
        const struct fe_sms *s = &ctx->s[i];
        bool c[C_COUNT];
        classes_of(f, s, c);
        for (int k = 0; k < C_COUNT; k++) {
            if (!c[k])
                continue;
            a->cls_all[k]++;
            for (int w = 0; w < FE_NWIN; w++)
                a->cls[k][w] += fe_in(s, w);
        }
        if (s->month >= 0) {
            a->month_all[s->month]++;
            a->month_txn[s->month] += f->is_transactional;
        }
        a->sender[s->sender][0] += fe_in(s, FE_W30);
        a->sender[s->sender][1] += fe_in(s, FE_W180);
        a->sender[s->sender][2]++;
        a->classified += f->is_classified;
        a->extracted += f->is_extracted;
        const char *who = f->sender_name ? f->sender_name : f->sender;
        distinct_add(&a->senders, who);
        if (s->sender == FE_S_BANK)
            distinct_add(&a->banks, who);
        if (s->sender == FE_S_NBFC || s->sender == FE_S_LENDER || s->sender == FE_S_BNPL)
            distinct_add(&a->lenders, who);
        if (s->sender == FE_S_CREDIT_CARD)
            distinct_add(&a->cards, who);
        if (fe_in(s, FE_W30)) {
            int d = ctx->today - s->day;
            if (d >= 0 && d < 30)
                a->active30[d] = 1;
        }
        if (f->ts <= ctx->now) {
            if (!a->first_ts || f->ts < a->first_ts)
                a->first_ts = f->ts;
            if (f->ts > a->last_ts)
                a->last_ts = f->ts;
            if (f->is_transactional && f->ts > a->last_txn_ts)
                a->last_txn_ts = f->ts;
        }
    }
}

static void run_sms(struct fe_ctx *ctx, struct fe_out *o)
{
    struct sms_acc a;
    memset(&a, 0, sizeof(a));
    accumulate(ctx, &a);
    fe_num(o, a.cls_all[C_ALL], "all_sms_count_nlp");
    fe_num(o, a.cls_all[C_TXN], "txn_sms_count_nlp");
    fe_num(o, a.cls_all[C_CREDIT], "credit_sms_count_nlp");
    fe_num(o, a.cls_all[C_DEBIT], "debit_sms_count_nlp");
    fe_num(o, a.classified, "classified_sms_count_nlp");
    fe_num(o, a.extracted, "extracted_sms_count_nlp");
    fe_num(o, a.cls_all[C_ALL] - a.classified, "unclassified_sms_count_nlp");
    /* credit_sms and debit_sms by window would repeat credit_count_cN and debit_count_cN */
    for (int k = 0; k < C_COUNT; k++)
        for (size_t w = 0; w < NCW && k != C_CREDIT && k != C_DEBIT; w++)
            fe_num(o, a.cls[k][cls_windows[w]], "%s_count_%s", cls_names[k],
                   fe_win_names[cls_windows[w]]);
    for (int m = 0; m < FE_NMONTH; m++)
        fe_num(o, fe_month_value(ctx, m, a.month_all[m]), "all_sms_count_m%d", m);
    for (int m = 0; m < FE_NMONTH; m++)
        fe_num(o, fe_month_value(ctx, m, a.month_txn[m]), "txn_sms_count_m%d", m);
    for (int t = 0; t < FE_S_COUNT; t++) {
        fe_num(o, a.sender[t][0], "sms_count_sender_%s_c30", fe_sender_names[t]);
        fe_num(o, a.sender[t][1], "sms_count_sender_%s_c180", fe_sender_names[t]);
        fe_num(o, a.sender[t][2], "sms_count_sender_%s", fe_sender_names[t]);
    }
    fe_num(o, a.senders.n, "distinct_senders_count");
    fe_num(o, a.banks.n, "distinct_bank_senders_count");
    fe_num(o, a.lenders.n, "distinct_lender_senders_count");
    fe_num(o, a.cards.n, "distinct_credit_card_senders_count");
    double active = 0;
    for (int d = 0; d < 30; d++)
        active += a.active30[d];
    fe_num(o, a.first_ts ? floor((double)(ctx->now - a.first_ts) / 86400.0) : NAN,
           "sms_history_days");
    fe_num(o, active, "sms_active_days_c30");
    fe_num(o, a.cls[C_ALL][FE_W30] / 30.0, "sms_per_day_c30");
    fe_num(o, fe_ratio(a.cls[C_OTP][FE_W30], a.cls[C_ALL][FE_W30]), "otp_share_c30");
    fe_num(o, fe_ratio(a.cls[C_PROMO][FE_W30], a.cls[C_ALL][FE_W30]), "promo_share_c30");
    fe_num(o, fe_ratio(a.cls[C_TXN][FE_W30], a.cls[C_ALL][FE_W30]), "txn_share_c30");
    fe_num(o, fe_ratio(a.classified, a.cls_all[C_ALL]), "classified_share");
    fe_num(o, fe_days_since(ctx, a.last_ts), "days_since_last_sms");
    fe_num(o, fe_days_since(ctx, a.last_txn_ts), "days_since_last_txn_sms");
}

const struct fe_family fe_family_sms = {"sms", FEATURES_GROUP_SMS, false, run_sms};
