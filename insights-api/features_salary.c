/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Salary and income. A salary credit is a credit the extractor typed
 * salary_credit, or one whose party or sub-type says salary/payroll; when a
 * user has none, a payer who credits a similar amount (within 25% of the
 * median, at least 5,000) on a similar day of month (within 5 days) in three
 * or more of the last six months is taken as the employer. Credeau's company
 * model is replaced by this: the employer is the salary credits' party,
 * cleaned of the banking words around it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "insights-api/features_impl.h"

#define SAL_MIN_RECURRING 5000.0
#define SAL_AMOUNT_TOL 0.25
#define SAL_DAY_TOL 5
#define SAL_MIN_MONTHS_RECURRING 3
#define SAL_MAX_GROUPS 64
#define SAL_MAX_ITEMS 256

enum sal_method { SAL_NONE = 0, SAL_TYPED, SAL_RECURRING };

struct salary {
    size_t idx[SAL_MAX_ITEMS]; /* SMS indices of salary credits, m0..m5 */
    size_t n;
    enum sal_method method;
};

static bool says_salary(const struct sms_fact *f, const struct fe_sms *s)
{
    if (s->kind == FE_K_SALARY)
        return true;
    if (f->sms_sub_type && strcmp(f->sms_sub_type, "salary") == 0)
        return true;
    return fe_has_word(f->transaction_party, "salary") ||
           fe_has_word(f->transaction_party, "sal") || fe_has_word(f->transaction_party, "payroll");
}

static bool is_credit_txn(const struct fe_ctx *ctx, size_t i)
{
    return ctx->s[i].txn && ctx->u->sms[i].direction == SMS_DIRECTION_CREDIT &&
           ctx->s[i].month >= 0;
}

static int circ_day_dist(int a, int b)
{
    int d = abs(a - b);
    return d > 15 ? 31 - d : d;
}

/* Does the payer's group look like a salary? Fills out when it does. */
static bool group_is_salary(const struct fe_ctx *ctx, const size_t *items, size_t n,
                            struct salary *out)
{
    double amounts[SAL_MAX_ITEMS], days[SAL_MAX_ITEMS];
    bool months[FE_NMONTH] = {false};
    int nm = 0;
    for (size_t k = 0; k < n; k++) {
        amounts[k] = ctx->u->sms[items[k]].amount;
        days[k] = ctx->s[items[k]].mday;
    }
    double med = fe_median(amounts, n), medday = fe_median(days, n);
    out->n = 0;
    for (size_t k = 0; k < n; k++) {
        const struct fe_sms *s = &ctx->s[items[k]];
        double a = ctx->u->sms[items[k]].amount;
        if (fabs(a - med) > SAL_AMOUNT_TOL * med ||
            circ_day_dist(s->mday, (int)medday) > SAL_DAY_TOL)
            continue;
        out->idx[out->n++] = items[k];
        if (!months[s->month]) {
            months[s->month] = true;
            nm++;
        }
    }
    return nm >= SAL_MIN_MONTHS_RECURRING;
}

static double group_median(const struct fe_ctx *ctx, const struct salary *s)
{
    double v[SAL_MAX_ITEMS];
    for (size_t k = 0; k < s->n; k++)
        v[k] = ctx->u->sms[s->idx[k]].amount;
    return fe_median(v, s->n);
}

static void find_recurring(const struct fe_ctx *ctx, struct salary *best)
{
    const char *payer[SAL_MAX_GROUPS];
    size_t items[SAL_MAX_GROUPS][SAL_MAX_ITEMS / 4], cnt[SAL_MAX_GROUPS] = {0};
    int ng = 0;
    double best_med = 0;
    for (size_t i = 0; i < ctx->n; i++) {
        const struct sms_fact *f = &ctx->u->sms[i];
        if (!is_credit_txn(ctx, i) || ctx->s[i].kind != FE_K_EXECUTED ||
            f->amount < SAL_MIN_RECURRING || !f->transaction_party || !*f->transaction_party)
            continue;
        int g = 0;
        while (g < ng && strcasecmp(payer[g], f->transaction_party) != 0)
            g++;
        if (g == ng) {
            if (ng == SAL_MAX_GROUPS)
                continue;
            payer[ng++] = f->transaction_party;
        }
        if (cnt[g] < SAL_MAX_ITEMS / 4)
            items[g][cnt[g]++] = i;
    }
    for (int g = 0; g < ng; g++) {
        struct salary cand;
        if (cnt[g] < SAL_MIN_MONTHS_RECURRING || !group_is_salary(ctx, items[g], cnt[g], &cand))
            continue;
        double med = group_median(ctx, &cand);
        if (med > best_med) {
            best_med = med;
            *best = cand;
            best->method = SAL_RECURRING;
        }
    }
}

static void detect(const struct fe_ctx *ctx, struct salary *sal)
{
    memset(sal, 0, sizeof(*sal));
    for (size_t i = 0; i < ctx->n && sal->n < SAL_MAX_ITEMS; i++)
        if (is_credit_txn(ctx, i) && says_salary(&ctx->u->sms[i], &ctx->s[i]))
            sal->idx[sal->n++] = i;
    if (sal->n) {
        sal->method = SAL_TYPED;
        return;
    }
    find_recurring(ctx, sal);
}

/* The party without banking words and numbers: "NEFT-ACME TECH PVT LTD-SALARY" -> "ACME TECH PVT
 * LTD". */
static const char *clean_employer(const char *party, char *buf, size_t len)
{
    static const char *const noise[] = {
        "salary", "sal",     "payroll", "neft", "imps",     "rtgs", "upi", "by",   "from",
        "for",    "credit",  "cr",      "trf",  "transfer", "inb",  "ach", "nach", "month",
        "the",    "towards", "ref",     "jan",  "feb",      "mar",  "apr", "may",  "jun",
        "jul",    "aug",     "sep",     "oct",  "nov",      "dec"};
    size_t n = 0;
    if (!party)
        return NULL;
    for (const char *p = party; *p;) {
        while (*p && !isalnum((unsigned char)*p) && *p != '&')
            p++;
        const char *w = p;
        while (*p && (isalnum((unsigned char)*p) || *p == '&' || *p == '.'))
            p++;
        size_t wl = (size_t)(p - w);
        bool drop = wl == 0;
        for (size_t k = 0; k < wl && !drop; k++)
            drop = isdigit((unsigned char)w[k]) != 0; /* IFSC codes, refs, "OCT26" */
        for (size_t k = 0; !drop && k < sizeof(noise) / sizeof(noise[0]); k++)
            drop = strlen(noise[k]) == wl && strncasecmp(w, noise[k], wl) == 0;
        if (drop || n + wl + 2 > len)
            continue;
        if (n)
            buf[n++] = ' ';
        memcpy(buf + n, w, wl);
        n += wl;
    }
    buf[n] = '\0';
    return n ? buf : NULL;
}

static const char *employer_of(const struct fe_ctx *ctx, const struct salary *sal, char *buf,
                               size_t len)
{
    /* the most frequent cleaned party; ties go to the latest */
    const char *best = NULL;
    int best_n = 0;
    for (size_t k = sal->n; k-- > 0;) {
        const char *p = ctx->u->sms[sal->idx[k]].transaction_party;
        int c = 0;
        if (!p)
            continue;
        for (size_t j = 0; j < sal->n; j++) {
            const char *q = ctx->u->sms[sal->idx[j]].transaction_party;
            c += q && strcasecmp(p, q) == 0;
        }
        if (c > best_n) {
            best_n = c;
            best = p;
        }
    }
    return clean_employer(best, buf, len);
}

struct sal_stats {
    double month_sum[FE_NMONTH], month_day[FE_NMONTH], month_max[FE_NMONTH];
    int months;
    struct fe_acc w30, w90, w180, amounts;
    double latest;
    int64_t latest_ts;
    const char *accounts[SAL_MAX_ITEMS];
    int n_accounts;
};

static void sal_stats(const struct fe_ctx *ctx, const struct salary *sal, struct sal_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->latest = NAN;
    for (size_t k = 0; k < sal->n; k++) {
        const struct sms_fact *f = &ctx->u->sms[sal->idx[k]];
        const struct fe_sms *s = &ctx->s[sal->idx[k]];
        if (st->month_sum[s->month] == 0)
            st->months++;
        st->month_sum[s->month] += f->amount;
        if (f->amount > st->month_max[s->month]) {
            st->month_max[s->month] = f->amount;
            st->month_day[s->month] = s->mday;
        }
        if (fe_in(s, FE_W30))
            fe_acc_add(&st->w30, f->amount);
        if (fe_in(s, FE_W90))
            fe_acc_add(&st->w90, f->amount);
        if (fe_in(s, FE_W180))
            fe_acc_add(&st->w180, f->amount);
        fe_acc_add(&st->amounts, f->amount);
        if (f->ts >= st->latest_ts) {
            st->latest_ts = f->ts;
            st->latest = f->amount;
        }
        const char *acc = f->unique_pan ? f->unique_pan : f->account_last_digits;
        bool seen = !acc;
        for (int a = 0; !seen && a < st->n_accounts; a++)
            seen = strcmp(st->accounts[a], acc) == 0;
        if (!seen)
            st->accounts[st->n_accounts++] = acc;
    }
}

static double monthly_median(const struct sal_stats *st, double *cv, double *day, double *day_sd)
{
    double v[FE_NMONTH], d[FE_NMONTH], sum = 0, sq = 0, dsum = 0, dsq = 0;
    size_t n = 0;
    for (int m = 0; m < FE_NMONTH; m++)
        if (st->month_sum[m] > 0) {
            v[n] = st->month_sum[m];
            d[n] = st->month_day[m];
            sum += v[n];
            sq += v[n] * v[n];
            dsum += d[n];
            dsq += d[n] * d[n];
            n++;
        }
    if (n == 0) {
        *cv = *day = *day_sd = NAN;
        return NAN;
    }
    double mean = sum / n, dmean = dsum / n;
    *cv = n >= 2 ? sqrt(fmax(0, sq / n - mean * mean)) / mean : NAN;
    *day_sd = n >= 2 ? sqrt(fmax(0, dsq / n - dmean * dmean)) : NAN;
    *day = fe_median(d, n);
    return fe_median(v, n);
}

/* Income credits: money in that is not borrowed, refunded or a card bill payment. */
static void income(const struct fe_ctx *ctx, double month[FE_NMONTH])
{
    memset(month, 0, sizeof(double) * FE_NMONTH);
    for (size_t i = 0; i < ctx->n; i++) {
        const struct fe_sms *s = &ctx->s[i];
        if (!is_credit_txn(ctx, i) || s->kind == FE_K_LOAN_DISBURSAL || s->kind == FE_K_REFUND ||
            s->kind == FE_K_CARD_PAYMENT || s->credit_card)
            continue;
        month[s->month] += ctx->u->sms[i].amount;
    }
}

static void run_salary(struct fe_ctx *ctx, struct fe_out *o)
{
    struct salary sal;
    struct sal_stats st;
    char emp[FEATURES_STRING_MAX + 1];
    double cv, day, day_sd, inc[FE_NMONTH];
    detect(ctx, &sal);
    sal_stats(ctx, &sal, &st);
    double med = monthly_median(&st, &cv, &day, &day_sd);
    bool salaried = st.months >= 2;
    ctx->shared->salaried = salaried;
    ctx->shared->estimated_salary = salaried ? med : NAN;

    fe_bool(o, salaried, "salaried_flag");
    fe_num(o, salaried ? med : NAN, "estimated_salary");
    fe_num(o, salaried ? day : NAN, "salary_day_of_month");
    fe_num(o, st.months, "salary_months_count");
    fe_str(o, sal.n ? employer_of(ctx, &sal, emp, sizeof(emp)) : NULL, "employer");
    fe_str(o,
           sal.method == SAL_TYPED       ? "salary_keyword"
           : sal.method == SAL_RECURRING ? "recurring_credit"
                                         : NULL,
           "salary_detection_method");
    fe_num(o, st.w30.n, "salary_credit_count_c30");
    fe_num(o, st.w90.n, "salary_credit_count_c90");
    fe_num(o, st.w180.n, "salary_credit_count_c180");
    fe_num(o, st.w90.sum, "salary_sum_c90");
    fe_num(o, st.w180.sum, "salary_sum_c180");
    for (int m = 0; m < FE_NMONTH; m++)
        fe_num(o, st.month_sum[m], "salary_m%d", m);
    fe_num(o, st.latest, "salary_latest_amount");
    fe_num(o, fe_min(&st.amounts), "salary_min_amount");
    fe_num(o, fe_max(&st.amounts), "salary_max_amount");
    fe_num(o, cv, "salary_amount_cv");
    fe_num(o, day_sd, "salary_day_sd");
    fe_num(o, fe_days_since(ctx, st.latest_ts), "days_since_last_salary");
    fe_num(o, st.n_accounts, "salary_accounts_count");

    income(ctx, inc);
    double v[3] = {inc[1], inc[2], inc[3]};
    double inc_med = fe_median(v, 3);
    for (int m = 0; m < FE_NMONTH; m++)
        fe_num(o, inc[m], "income_m%d", m);
    double est = salaried ? med : (inc_med > 0 ? inc_med : NAN);
    ctx->shared->estimated_income = est;
    fe_num(o, est, "estimated_income");
    fe_str(o, salaried ? "salary" : (inc_med > 0 ? "credits" : NULL), "estimated_income_source");
}

const struct fe_family fe_family_salary = {"salary", FEATURES_GROUP_EXTRACTED_SMS, false,
                                           run_salary};
