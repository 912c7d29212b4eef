/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal interface between features.c (catalogue, vector, the shared SMS
 * pre-pass) and the family files (features_sms.c, features_txn.c, ...). Not
 * for use outside insights-api/features*.c.
 *
 * A family is one function run in two modes. In declare mode (at catalogue
 * load, over an empty user) each fe_num/fe_bool/fe_str call records a name;
 * in compute mode the same calls, in the same order, store values and the
 * name format is not even expanded. Running the same code both ways is what
 * keeps names and values from drifting apart.
 */
#ifndef INSIGHTS_FEATURES_IMPL_H
#define INSIGHTS_FEATURES_IMPL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "insights-api/features.h"

#define FE_NWIN 5   /* c7 c30 c60 c90 c180 */
#define FE_NMONTH 6 /* m0..m5 */
enum { FE_W7 = 0, FE_W30, FE_W60, FE_W90, FE_W180 };
extern const int fe_win_days[FE_NWIN];
extern const char *const fe_win_names[FE_NWIN];

/* What an SMS is, from its sms_type (docs/sms-types.md). */
enum fe_kind {
    FE_K_OTHER = 0, /* not_in_the_list or unknown */
    FE_K_OTP,
    FE_K_PROMO,
    FE_K_EXECUTED, /* {account,card,wallet,upi}_{debit,credit}_executed */
    FE_K_SALARY,
    FE_K_CARD_PAYMENT, /* card_credit_executed (bill paid) */
    FE_K_REFUND,
    FE_K_DECLINED,
    FE_K_BALANCE,
    FE_K_STATEMENT,
    FE_K_BILL_DUE,
    FE_K_FUTURE_DEBIT,
    FE_K_PENDING_CREDIT,
    FE_K_COLLECT,
    FE_K_MANDATE,
    FE_K_BOUNCE_RETURN,
    FE_K_BOUNCE_CHARGE,
    FE_K_PENALTY,
    FE_K_LOAN_APPLICATION,
    FE_K_LOAN_APPROVAL,
    FE_K_LOAN_REJECTION,
    FE_K_LOAN_DISBURSAL,
    FE_K_CARD_LIMIT,
    FE_K_COUNT
};

enum fe_channel {
    FE_CH_OTHER = 0,
    FE_CH_UPI,
    FE_CH_IMPS,
    FE_CH_NEFT,
    FE_CH_RTGS,
    FE_CH_CARD,
    FE_CH_ATM,
    FE_CH_NETBANKING,
    FE_CH_CHEQUE,
    FE_CH_NACH,
    FE_CH_WALLET,
    FE_CH_COUNT
};
extern const char *const fe_channel_names[FE_CH_COUNT];

enum fe_sender {
    FE_S_UNKNOWN = 0,
    FE_S_BANK,
    FE_S_NBFC,
    FE_S_LENDER, /* digital lenders */
    FE_S_BNPL,
    FE_S_CREDIT_CARD,
    FE_S_WALLET,
    FE_S_TELCO,
    FE_S_ECOMMERCE,
    FE_S_INVESTMENT, /* broker, mutual_fund */
    FE_S_INSURANCE,
    FE_S_GAMING,
    FE_S_OTHER,
    FE_S_COUNT
};
extern const char *const fe_sender_names[FE_S_COUNT];

/* What a payment instrument is (the account key of docs/features.md). */
enum fe_inst_kind {
    FE_I_NONE = 0,
    FE_I_ACCOUNT,     /* a bank (or payments bank) account */
    FE_I_DEBIT_CARD,  /* a card of a bank account, seen only as a card */
    FE_I_CREDIT_CARD, /* a credit card */
    FE_I_WALLET,      /* a wallet */
    FE_I_COUNT
};

#define FE_MAX_INSTRUMENTS 64
#define FE_TAIL_MAX 4 /* digits of an account or card number that identify it */

/* One instrument of the user: institution, kind and the last digits printed. */
struct fe_instrument {
    const char *institution; /* sender_name, else the normalised header */
    char tail[FE_TAIL_MAX + 1];
    unsigned char kind; /* enum fe_inst_kind */
};

/* Facts derived once per SMS by the shared pre-pass. */
struct fe_sms {
    unsigned char win;     /* bit w set when the SMS is inside window w */
    signed char month;     /* 0..5 for m0..m5, -1 outside */
    unsigned char kind;    /* enum fe_kind */
    unsigned char channel; /* the rail named, else derived from the kind (ATM, VPA -> upi, ...) */
    unsigned char sender;  /* enum fe_sender (sender_type, else the sender mapping) */
    unsigned char mday;    /* India-time day of month */
    signed char inst;      /* index into ctx->inst, -1 when the SMS names none of the user's */
    bool txn;           /* money moved: transactional, debit/credit, amount > 0, not a duplicate */
    bool dup;           /* repeats an earlier SMS's transaction */
    bool credit_card;   /* about a credit card: card sender, limits, card bill paid/statement */
    bool self_transfer; /* one leg of money moved between two of the user's own accounts */
    bool borrowed;      /* a loan disbursal: the lender's SMS or the bank's credit of it */
    int32_t day;        /* India-time day number (days since 1970-01-01) */
    double age_days;    /* (now - ts) / 86400; negative in the future */
    const char *cat;    /* the party's merchant category (merchant mapping), NULL when none */
};

#define FE_MAX_EMI_DEBITS 256

/* Results one family hands to a later one (salary -> affordability, obligations -> balance). */
struct fe_shared {
    double estimated_salary;   /* NAN when not salaried */
    double estimated_income;   /* salary, else median monthly clean income (NAN when unknown) */
    double monthly_obligation; /* contracted EMIs a month; NAN when unknown */
    bool salaried;
    uint32_t emi_debits[FE_MAX_EMI_DEBITS]; /* SMS indices of EMI debits, in time order */
    int n_emi_debits;
};

/* Tunable constants of feature definitions, from the catalogue's "# param:" lines. */
struct fe_params {
    double balance_floor_inr; /* balance_days_under_floor_*: a day ending below this */
};

struct fe_ctx {
    const struct user_data *u;
    const struct maps *maps;
    const struct fe_params *params;
    const struct sms_fact *sms; /* the SMS the features read: u->sms without the client's own */
    const struct fe_sms *s;     /* parallel to sms */
    size_t n;                   /* SMS to read (0 when the source is empty) */
    const struct fe_instrument *inst; /* the user's instruments (accounts, cards, wallets) */
    int n_inst;
    int64_t now;       /* every window counts back from this one value (u->now) */
    int32_t today;     /* India-time day number of now */
    int32_t first_day; /* India-time day of the oldest SMS (history start); INT32_MAX when none */
    int month_index;   /* India-time year*12 + month0 of now */
    unsigned mask;     /* groups asked */
    struct fe_shared *shared;
};

struct fe_out; /* opaque to families */

void fe_num(struct fe_out *o, double v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* v: 0, 1 or NAN */
void fe_bool(struct fe_out *o, double v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* s: NULL for null; copied (cut at FEATURES_STRING_MAX) */
void fe_str(struct fe_out *o, const char *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The group later emits belong to (only the null-reason family changes it). */
void fe_set_group(struct fe_out *o, enum features_group g);

struct fe_family {
    const char *name;
    enum features_group group;
    bool always; /* computed whatever the mask and source state (null reasons) */
    void (*run)(struct fe_ctx *ctx, struct fe_out *o);
};

/* In compute order: families later in the list may read ctx->shared set by earlier ones. */
extern const struct fe_family fe_family_meta, fe_family_sms, fe_family_txn, fe_family_merchant,
    fe_family_salary, fe_family_obligations, fe_family_delinquency, fe_family_balance,
    fe_family_cards, fe_family_affordability, fe_family_apps, fe_family_fraud, fe_family_device;

/*
 * Every feature the code computes, in code order (for the catalogue
 * generator in tests and tools). Returns the count.
 */
size_t fe_declared(void (*cb)(const char *name, enum features_group group, enum features_type type,
                              void *arg),
                   void *arg);

/* ---- small helpers shared by families ---- */

struct fe_acc {
    double n, sum, max, min;
};

static inline void fe_acc_add(struct fe_acc *a, double v)
{
    if (a->n == 0 || v > a->max)
        a->max = v;
    if (a->n == 0 || v < a->min)
        a->min = v;
    a->n += 1;
    a->sum += v;
}
static inline double fe_mean(const struct fe_acc *a)
{
    return a->n > 0 ? a->sum / a->n : NAN;
}
static inline double fe_max(const struct fe_acc *a)
{
    return a->n > 0 ? a->max : NAN;
}
static inline double fe_min(const struct fe_acc *a)
{
    return a->n > 0 ? a->min : NAN;
}
static inline double fe_ratio(double num, double den)
{
    return den > 0 ? num / den : NAN;
}
static inline bool fe_in(const struct fe_sms *s, int w)
{
    return (s->win >> w) & 1u;
}

/*
 * The pre-pass steps in features_instruments.c: group the SMS's account and
 * card digits into the user's instruments (s[i].inst, kinds resolved across
 * all SMS), then mark the legs of self-transfers and the credits that are a
 * loan disbursal. scratch holds FE_MAX_INSTRUMENTS entries.
 */
int fe_instruments_build(const struct fe_ctx *ctx, struct fe_sms *s, struct fe_instrument *scratch);
void fe_mark_transfers(const struct fe_ctx *ctx, struct fe_sms *s);

/*
 * True when the history (the oldest SMS) covers calendar month m (0..5) from
 * its first day; a month the inbox only partly saw reports null, not a
 * number that looks like a bad month.
 */
bool fe_month_observed(const struct fe_ctx *ctx, int m);
/* Day numbers (days since 1970-01-01) and civil dates, both ways. */
int32_t fe_civil_day(int y, int m, int d);
void fe_civil_date(int32_t day, int *y, int *m, int *d);
int fe_days_in_month(int y, int m);
/* India-time day number of the first day of calendar month m (0 = this month). */
int32_t fe_month_first_day(const struct fe_ctx *ctx, int m);
/* v when month m is observed, else NAN. */
static inline double fe_month_value(const struct fe_ctx *ctx, int m, double v);

/* Median of v[0..n) (sorts v in place); NAN when n == 0. */
double fe_median(double *v, size_t n);
/* True when s contains word (ASCII, case-insensitive, on word boundaries). */
bool fe_has_word(const char *s, const char *word);
/* Days since the last SMS matching, as a double; NAN when none (ts <= now only). */
double fe_days_since(const struct fe_ctx *ctx, int64_t ts);

static inline double fe_month_value(const struct fe_ctx *ctx, int m, double v)
{
    return fe_month_observed(ctx, m) ? v : NAN;
}

#endif
