/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Salary and income.
 *
 * A salary credit is a credit the extractor typed salary_credit, or one
 * whose party or sub-type says salary/payroll; when a user has none, a payer
 * who credits a similar amount (within 25% of the median, at least 5,000) on
 * a similar day of month (within 5 days) in three or more of the last six
 * months is taken as the employer, unless it is a gig platform
 * (payer_mapping.json) or pays more than twice a month (weekly payouts). Credeau's company model is
 * replaced by this: the employer is the salary credits' party, cleaned of the banking words around
 * it.
 *
 * Salary is read by pay cycle, not by calendar month: credits less than 10
 * days apart are one cycle (a salary split in two), and a salary paid a few
 * days late is still that cycle's salary instead of leaving a month at 0 and
 * the next at double. The usual pay day is the circular median of the
 * cycles' pay days (day 30 and day 2 are 3 days apart); a cycle's delay is
 * its pay day against the usual day of the nearest month; a missed cycle is
 * a usual pay date after the first salary seen, at least 5 days old, with no
 * cycle within 10 days of it.
 *
 * Income is money in that the user earned: credits less loan disbursals
 * (the lender's SMS and the bank credit of it), card-bill payments and card
 * refunds, refunds and reversals, and transfers between the user's own
 * accounts. A calendar month the inbox did not see from its first day is
 * null, not 0.
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
#define SAL_CYCLE_GAP_DAYS 10 /* credits closer than this are one pay cycle */
#define SAL_MISS_GRACE_DAYS 5 /* a pay date this old with no salary is missed */
#define SAL_MAX_CYCLES 64
#define INC_MAX_PAYERS 128

enum sal_method { SAL_NONE = 0, SAL_TYPED, SAL_RECURRING };

struct salary {
    size_t idx[SAL_MAX_ITEMS]; /* SMS indices of salary credits, in time order */
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

/* Money in that is not borrowed and not the user's own money moving. */
static bool is_credit_txn(const struct fe_ctx *ctx, size_t i)
{
    const struct fe_sms *s = &ctx->s[i];
    return s->txn && ctx->sms[i].direction == SMS_DIRECTION_CREDIT && ctx->sms[i].ts <= ctx->now &&
           !s->borrowed && !s->self_transfer;
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
        amounts[k] = ctx->sms[items[k]].amount;
        days[k] = ctx->s[items[k]].mday;
    }
    double med = fe_median(amounts, n), medday = fe_median(days, n);
    out->n = 0;
    for (size_t k = 0; k < n; k++) {
        const struct fe_sms *s = &ctx->s[items[k]];
        double a = ctx->sms[items[k]].amount;
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
        v[k] = ctx->sms[s->idx[k]].amount;
    return fe_median(v, s->n);
}

/*
 * A payer credits like an employer when it is not a gig platform and pays
 * at most twice a month (weekly payouts are not a salary, whatever their
 * rhythm looks like on some days of the month).
 */
static bool employer_like(const struct fe_ctx *ctx, const char *party, int credits, unsigned months)
{
    const struct maps_payer *p = maps_payer_lookup(ctx->maps, party);
    int nm = __builtin_popcount(months);
    return !(p && strcmp(p->kind, "gig_platform") == 0) && nm > 0 && credits <= 2 * nm;
}

static void find_recurring(const struct fe_ctx *ctx, struct salary *best)
{
    const char *payer[SAL_MAX_GROUPS];
    size_t items[SAL_MAX_GROUPS][SAL_MAX_ITEMS / 4], cnt[SAL_MAX_GROUPS] = {0};
    int all[SAL_MAX_GROUPS] = {0}; /* every credit of the payer in m0..m5, small ones too */
    unsigned months[SAL_MAX_GROUPS] = {0};
    int ng = 0;
    double best_med = 0;
    for (size_t i = 0; i < ctx->n; i++) {
        const struct sms_fact *f = &ctx->sms[i];
        if (!is_credit_txn(ctx, i) || ctx->s[i].month < 0 || ctx->s[i].kind != FE_K_EXECUTED ||
            !f->transaction_party || !*f->transaction_party)
            continue;
        int g = 0;
        while (g < ng && strcasecmp(payer[g], f->transaction_party) != 0)
            g++;
        if (g == ng) {
            if (ng == SAL_MAX_GROUPS)
                continue;
            payer[ng++] = f->transaction_party;
        }
        all[g]++;
        months[g] |= 1u << ctx->s[i].month;
        if (f->amount >= SAL_MIN_RECURRING && cnt[g] < SAL_MAX_ITEMS / 4)
            items[g][cnt[g]++] = i;
    }
    for (int g = 0; g < ng; g++) {
        struct salary cand;
        if (cnt[g] < SAL_MIN_MONTHS_RECURRING || !employer_like(ctx, payer[g], all[g], months[g]) ||
            !group_is_salary(ctx, items[g], cnt[g], &cand))
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
        if (is_credit_txn(ctx, i) && says_salary(&ctx->sms[i], &ctx->s[i]))
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

/*
 * The most frequent cleaned party; ties go to the latest. A party that is
 * only banking words, months and numbers (a narration's remark read as the
 * party: "MAY", "SALARY OCT 2026") names no employer and is not counted, so
 * it cannot outvote the one credit that names the payer.
 */
static const char *employer_of(const struct fe_ctx *ctx, const struct salary *sal, char *buf,
                               size_t len)
{
    char key[128], other[128];
    const char *best = NULL;
    int best_n = 0;
    for (size_t k = sal->n; k-- > 0;) {
        const char *p = ctx->sms[sal->idx[k]].transaction_party;
        int c = 0;
        if (!clean_employer(p, key, sizeof(key)))
            continue;
        for (size_t j = 0; j < sal->n; j++) {
            const char *q = ctx->sms[sal->idx[j]].transaction_party;
            c += clean_employer(q, other, sizeof(other)) && strcasecmp(key, other) == 0;
        }
        if (c > best_n) {
            best_n = c;
            best = p;
        }
    }
    return clean_employer(best, buf, len);
}

/* ---- pay cycles ---- */

struct cycle {
    int32_t day;   /* pay day: the day of the cycle's largest credit */
    double amount; /* the cycle's credits together */
    double largest;
    int mday;
};

struct cycles {
    struct cycle c[SAL_MAX_CYCLES];
    int n;
    int usual_day; /* 0 when no cycle */
};

/* Signed distance from day-of-month b to a on a 31-day circle, in [-15, 15]. */
static int circ_offset(int a, int b)
{
    int d = a - b;
    if (d > 15)
        d -= 31;
    if (d < -15)
        d += 31;
    return d;
}

static void build_cycles(const struct fe_ctx *ctx, const struct salary *sal, struct cycles *cy)
{
    memset(cy, 0, sizeof(*cy));
    for (size_t k = 0; k < sal->n; k++) {
        const struct sms_fact *f = &ctx->sms[sal->idx[k]];
        const struct fe_sms *s = &ctx->s[sal->idx[k]];
        struct cycle *last = cy->n ? &cy->c[cy->n - 1] : NULL;
        if (last && s->day - last->day < SAL_CYCLE_GAP_DAYS) {
            last->amount += f->amount;
            if (f->amount > last->largest) {
                last->largest = f->amount;
                last->day = s->day;
                last->mday = s->mday;
            }
            continue;
        }
        if (cy->n == SAL_MAX_CYCLES)
            memmove(&cy->c[0], &cy->c[1], sizeof(cy->c[0]) * (size_t)--cy->n);
        cy->c[cy->n++] = (struct cycle){s->day, f->amount, f->amount, s->mday};
    }
    /* the usual pay day: the day of month closest (on the circle) to all pay days */
    long best = -1;
    for (int d = 1; d <= 31 && cy->n; d++) {
        long sum = 0;
        for (int k = 0; k < cy->n; k++)
            sum += abs(circ_offset(cy->c[k].mday, d));
        if (best < 0 || sum < best) {
            best = sum;
            cy->usual_day = d;
        }
    }
}

/* The usual pay date in the month of day number d (clipped to the month's length). */
static int32_t pay_date_in(int32_t day, int usual, int month_shift)
{
    int y, m, dd;
    fe_civil_date(day, &y, &m, &dd);
    m += month_shift;
    if (m < 1) {
        m += 12;
        y--;
    } else if (m > 12) {
        m -= 12;
        y++;
    }
    int last = fe_days_in_month(y, m);
    return fe_civil_day(y, m, usual < last ? usual : last);
}

/* Days the cycle's pay day is after the nearest usual pay date (negative: early). */
static int delay_of(const struct cycle *c, int usual)
{
    int best = 0;
    bool have = false;
    for (int shift = -1; shift <= 1; shift++) {
        int d = c->day - pay_date_in(c->day, usual, shift);
        if (!have || abs(d) < abs(best)) {
            best = d;
            have = true;
        }
    }
    return best;
}

/* Usual pay dates in the last 180 days after the first cycle, old enough, with no cycle near. */
static int missed_cycles(const struct fe_ctx *ctx, const struct cycles *cy)
{
    int missed = 0;
    if (cy->n == 0)
        return 0;
    int32_t from = ctx->today - fe_win_days[FE_W180] + 1;
    for (int shift = 0; shift < 12; shift++) {
        int32_t e = pay_date_in(cy->c[0].day, cy->usual_day, shift);
        if (e > ctx->today - SAL_MISS_GRACE_DAYS)
            break;
        if (e < from || e <= cy->c[0].day + SAL_CYCLE_GAP_DAYS)
            continue;
        bool paid = false;
        for (int k = 0; k < cy->n && !paid; k++)
            paid = abs(cy->c[k].day - e) <= SAL_CYCLE_GAP_DAYS;
        missed += !paid;
    }
    return missed;
}

struct sal_stats {
    double month_sum[FE_NMONTH];
    struct fe_acc w30, w90, w180, amounts180;
    double latest;
    int64_t latest_ts;
    int accounts;
};

static void sal_stats(const struct fe_ctx *ctx, const struct salary *sal, struct sal_stats *st)
{
    int insts[SAL_MAX_ITEMS], ni = 0, np = 0;
    const char *pans[SAL_MAX_ITEMS];
    memset(st, 0, sizeof(*st));
    st->latest = NAN;
    for (size_t k = 0; k < sal->n; k++) {
        const struct sms_fact *f = &ctx->sms[sal->idx[k]];
        const struct fe_sms *s = &ctx->s[sal->idx[k]];
        if (s->month >= 0)
            st->month_sum[s->month] += f->amount;
        if (fe_in(s, FE_W30))
            fe_acc_add(&st->w30, f->amount);
        if (fe_in(s, FE_W90))
            fe_acc_add(&st->w90, f->amount);
        if (fe_in(s, FE_W180)) {
            fe_acc_add(&st->w180, f->amount);
            fe_acc_add(&st->amounts180, f->amount);
        }
        if (f->ts >= st->latest_ts) {
            st->latest_ts = f->ts;
            st->latest = f->amount;
        }
        /* the account: its instrument, else what the extractor printed */
        bool seen = false;
        if (s->inst >= 0) {
            for (int a = 0; a < ni && !seen; a++)
                seen = insts[a] == s->inst;
            if (!seen)
                insts[ni++] = s->inst;
        } else if (f->unique_pan) {
            for (int a = 0; a < np && !seen; a++)
                seen = strcmp(pans[a], f->unique_pan) == 0;
            if (!seen)
                pans[np++] = f->unique_pan;
        }
    }
    st->accounts = ni + np;
}

/* Median cycle amount, CV and the circular SD of pay days, over the cycles of the last 180 days. */
static double cycle_stats(const struct fe_ctx *ctx, const struct cycles *cy, int *n180, double *cv,
                          double *day_sd)
{
    double v[SAL_MAX_CYCLES], sum = 0, sq = 0, dsq = 0;
    int n = 0;
    for (int k = 0; k < cy->n; k++) {
        if (ctx->today - cy->c[k].day >= fe_win_days[FE_W180])
            continue;
        double off = circ_offset(cy->c[k].mday, cy->usual_day);
        v[n++] = cy->c[k].amount;
        sum += cy->c[k].amount;
        sq += cy->c[k].amount * cy->c[k].amount;
        dsq += off * off;
    }
    *n180 = n;
    *cv = *day_sd = NAN;
    if (n == 0)
        return NAN;
    double mean = sum / n;
    if (n >= 2) {
        *cv = sqrt(fmax(0, sq / n - mean * mean)) / mean;
        *day_sd = sqrt(dsq / n);
    }
    return fe_median(v, (size_t)n);
}

static void emit_salary(struct fe_ctx *ctx, struct fe_out *o, const struct salary *sal)
{
    struct sal_stats st;
    struct cycles cy;
    char emp[FEATURES_STRING_MAX + 1];
    double cv, day_sd;
    int n180;
    sal_stats(ctx, sal, &st);
    build_cycles(ctx, sal, &cy);
    double med = cycle_stats(ctx, &cy, &n180, &cv, &day_sd);
    bool salaried = n180 >= 2;
    ctx->shared->salaried = salaried;
    ctx->shared->estimated_salary = salaried ? med : NAN;

    fe_bool(o, salaried, "salaried_flag");
    fe_num(o, salaried ? med : NAN, "estimated_salary");
    fe_num(o, salaried ? cy.usual_day : NAN, "salary_day_of_month");
    fe_num(o, n180, "salary_cycles_count_c180");
    fe_num(o, salaried ? delay_of(&cy.c[cy.n - 1], cy.usual_day) : NAN, "salary_latest_delay_days");
    fe_num(o, salaried ? missed_cycles(ctx, &cy) : NAN, "salary_missed_cycles_c180");
    fe_str(o, sal->n ? employer_of(ctx, sal, emp, sizeof(emp)) : NULL, "employer");
    fe_str(o,
           sal->method == SAL_TYPED       ? "salary_keyword"
           : sal->method == SAL_RECURRING ? "recurring_credit"
                                          : NULL,
           "salary_detection_method");
    fe_num(o, st.w30.n, "salary_credit_count_c30");
    fe_num(o, st.w90.n, "salary_credit_count_c90");
    fe_num(o, st.w180.n, "salary_credit_count_c180");
    fe_num(o, st.w90.sum, "salary_sum_c90");
    fe_num(o, st.w180.sum, "salary_sum_c180");
    for (int m = 0; m < FE_NMONTH; m++)
        fe_num(o, fe_month_value(ctx, m, st.month_sum[m]), "salary_m%d", m);
    fe_num(o, st.latest, "salary_latest_amount");
    fe_num(o, fe_min(&st.amounts180), "salary_min_amount_c180");
    fe_num(o, fe_max(&st.amounts180), "salary_max_amount_c180");
    fe_num(o, cv, "salary_amount_cv_c180");
    fe_num(o, day_sd, "salary_day_sd_c180");
    fe_num(o, fe_days_since(ctx, st.latest_ts), "days_since_last_salary");
    fe_num(o, st.accounts, "salary_accounts_count");
}

/* ---- clean income ---- */

static bool is_income(const struct fe_ctx *ctx, size_t i)
{
    const struct fe_sms *s = &ctx->s[i];
    const char *sub = ctx->sms[i].sms_sub_type;
    return is_credit_txn(ctx, i) && s->kind != FE_K_LOAN_DISBURSAL && s->kind != FE_K_REFUND &&
           s->kind != FE_K_CARD_PAYMENT && !s->credit_card && !(sub && strcmp(sub, "refund") == 0);
}

#define PAYER_KEY_MAX 64

struct payer {
    char name[PAYER_KEY_MAX]; /* the party without banking words, or a gig platform's name */
    double sum;
    bool gig;
};

struct income {
    double month[FE_NMONTH];
    double c90, gig90;
    struct payer p[INC_MAX_PAYERS];
    int np;
};

/*
 * One payer per cleaned name: "NEFT-ACME LTD-SALARY JUN" and "...-SALARY JUL"
 * are the same employer.
 */
static void add_payer(struct income *in, const char *party, double amount, bool gig)
{
    char key[PAYER_KEY_MAX];
    const char *name = gig ? party : clean_employer(party, key, sizeof(key));
    if (!name)
        return;
    for (int k = 0; k < in->np; k++)
        if (strcasecmp(in->p[k].name, name) == 0) {
            in->p[k].sum += amount;
            return;
        }
    if (in->np < INC_MAX_PAYERS) {
        struct payer *p = &in->p[in->np++];
        snprintf(p->name, sizeof(p->name), "%s", name);
        p->sum = amount;
        p->gig = gig;
    }
}

static void income_of(const struct fe_ctx *ctx, struct income *in)
{
    memset(in, 0, sizeof(*in));
    for (size_t i = 0; i < ctx->n; i++) {
        const struct fe_sms *s = &ctx->s[i];
        const struct sms_fact *f = &ctx->sms[i];
        if (!is_income(ctx, i))
            continue;
        if (s->month >= 0)
            in->month[s->month] += f->amount;
        if (!fe_in(s, FE_W90))
            continue;
        in->c90 += f->amount;
        const struct maps_payer *p = maps_payer_lookup(ctx->maps, f->transaction_party);
        bool gig = p && strcmp(p->kind, "gig_platform") == 0;
        in->gig90 += gig ? f->amount : 0;
        if (gig || (f->transaction_party && *f->transaction_party))
            add_payer(in, gig ? p->name : f->transaction_party, f->amount, gig);
    }
}

/* CV and trend (least-squares slope per month / mean) over the observed months m1..m5. */
static void income_shape(const struct fe_ctx *ctx, const double *month, double *cv, double *trend)
{
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    for (int m = 1; m < FE_NMONTH; m++) {
        if (!fe_month_observed(ctx, m))
            continue;
        double x = -m, y = month[m];
        n++;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
    }
    *cv = *trend = NAN;
    if (n < 3 || sy <= 0)
        return;
    double mean = sy / n;
    *cv = sqrt(fmax(0, syy / n - mean * mean)) / mean;
    *trend = (n * sxy - sx * sy) / (n * sxx - sx * sx) / mean;
}

static void emit_income(struct fe_ctx *ctx, struct fe_out *o)
{
    struct income in;
    double cv, trend, top = 0, gig_payers = 0, est;
    income_of(ctx, &in);
    for (int m = 0; m < FE_NMONTH; m++)
        fe_num(o, fe_month_value(ctx, m, in.month[m]), "income_m%d", m);
    double v[3];
    size_t nv = 0;
    for (int m = 1; m <= 3; m++)
        if (fe_month_observed(ctx, m))
            v[nv++] = in.month[m];
    double inc_med = fe_median(v, nv);
    est = ctx->shared->salaried ? ctx->shared->estimated_salary : (inc_med > 0 ? inc_med : NAN);
    ctx->shared->estimated_income = est;
    fe_num(o, est, "estimated_income");
    fe_str(o, ctx->shared->salaried ? "salary" : (inc_med > 0 ? "credits" : NULL),
           "estimated_income_source");
    income_shape(ctx, in.month, &cv, &trend);
    fe_num(o, cv, "income_cv_6m");
    fe_num(o, trend, "income_trend_6m");
    for (int k = 0; k < in.np; k++) {
        top = fmax(top, in.p[k].sum);
        gig_payers += in.p[k].gig;
    }
    fe_num(o, fe_ratio(top, in.c90), "income_top_payer_share_c90");
    fe_num(o, in.gig90, "income_gig_sum_c90");
    fe_num(o, fe_ratio(in.gig90, in.c90), "income_gig_share_c90");
    fe_num(o, gig_payers, "gig_platforms_count_c90");
}

/* Money moved between the user's own accounts: the debit legs (docs/features.md). */
static void emit_self_transfers(struct fe_ctx *ctx, struct fe_out *o)
{
    struct fe_acc t = {0};
    for (size_t i = 0; i < ctx->n; i++) {
        const struct fe_sms *s = &ctx->s[i];
        if (s->self_transfer && s->txn && ctx->sms[i].direction == SMS_DIRECTION_DEBIT &&
            fe_in(s, FE_W180))
            fe_acc_add(&t, ctx->sms[i].amount);
    }
    fe_num(o, t.n, "self_transfer_count_c180");
    fe_num(o, t.sum, "self_transfer_sum_c180");
}

static void run_salary(struct fe_ctx *ctx, struct fe_out *o)
{
    struct salary sal;
    detect(ctx, &sal);
    emit_salary(ctx, o, &sal);
    emit_income(ctx, o);
    emit_self_transfers(ctx, o);
}

const struct fe_family fe_family_salary = {"salary", FEATURES_GROUP_EXTRACTED_SMS, false,
                                           run_salary};
