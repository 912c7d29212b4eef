/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the user already owes and how they have been paying it: EMI debits
 * and the monthly obligation, bounced mandates and cheques, penalty charges,
 * and the loan journey (applications, approvals, rejections, disbursals).
 * These are the strongest adverse signals a lender reads from SMS.
 *
 * An EMI is a debit to a lender: the sender is an NBFC/lender/BNPL, or the
 * party is a known lender (sender mapping) or maps to loan_repayment
 * (merchant mapping), or says EMI/loan, or the channel is NACH (not an
 * investment, insurance premium or bank charge). Bounce SMS are
 * bounce_return and bounce_charge, and debits whose party names a return or
 * bounce charge. A bounce event has at most one notice and one charge debit:
 * a charge joins the earliest unjoined bounce SMS of its sender in the 3 days
 * before it (the notice, or a notice the extractor typed as a charge because
 * it quotes the fee, unless another notice came in between), else it is an
 * event of its own; a notice always starts an event, so two loans bouncing
 * on one day at one bank are two events.
 *
 * What the user owes is read from what was contracted, not only from what
 * was paid: an EMI is evidenced by its debit, its reminder (a notice typed
 * EMI due, or a scheduled debit a lender sent, with an amount; not a
 * lender's other bills, which may be several EMIs overdue), an e-mandate
 * registered for a lender or a loan, or its bounce notice (the amount of
 * the returned instrument). Evidence of the last 90 days is
 * de-duplicated per lender and amount (the same amount within 1% whoever
 * names it, or the same named lender within 5%), so a borrower whose EMIs
 * bounce still shows every EMI owed. SIPs and other investment debits
 * (sub-type investment, a mutual-fund clearing house or AMC as party or
 * sender) are never EMIs; they are counted apart.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "insights-api/features_impl.h"

#define BOUNCE_LINK_SECONDS (3 * 86400)
#define MAX_BOUNCE_SMS 512 /* beyond this many bounce SMS each further one is its own event */
#define MAX_EMIS 64
#define EMI_SAME_AMOUNT 0.05
#define EMI_SAME_AMOUNT_ANY 0.01
#define EMI_ECHO_SECONDS (3 * 86400)

static bool is_lender_sender(const struct fe_sms *s)
{
    return s->sender == FE_S_NBFC || s->sender == FE_S_LENDER || s->sender == FE_S_BNPL;
}

static bool is_emi(const struct fe_ctx *ctx, const struct sms_fact *f, const struct fe_sms *s)
{
    if (!s->txn || f->direction != SMS_DIRECTION_DEBIT || s->kind != FE_K_EXECUTED)
        return false;
    const char *sub = f->sms_sub_type ? f->sms_sub_type : "";
    if (strcmp(sub, "investment") == 0 || s->sender == FE_S_INVESTMENT)
        return false;
    const char *p = f->transaction_party;
    const char *cat = s->cat;
    if (cat && (strcmp(cat, "charges") == 0 || strcmp(cat, "investment") == 0 ||
                strcmp(cat, "insurance") == 0))
        return false; /* "ACH return charges", a SIP or a premium by NACH */
    if (is_lender_sender(s) || s->channel == FE_CH_NACH || strstr(sub, "emi"))
        return true;
    if (!p)
        return false;
    if (fe_has_word(p, "emi") || fe_has_word(p, "loan") || maps_is_lender_name(ctx->maps, p))
        return true;
    return cat && strcmp(cat, "loan_repayment") == 0;
}

/* Who names a lender: the lender itself (its sender entity) or a bank's narration. */
enum key_src { KEY_NONE = 0, KEY_SENDER, KEY_NARRATION };

struct lender {
    const char *key;
    enum key_src src;
};

/* A narration that is only a rail word names no lender ("towards NACH/<UMRN>/..."). */
static bool rail_word(const char *p)
{
    static const char *const rails[] = {"nach", "ach",        "ecs",       "si",
                                        "emi",  "auto debit", "autodebit", "mandate"};
    for (size_t i = 0; i < sizeof(rails) / sizeof(rails[0]); i++)
        if (strcasecmp(p, rails[i]) == 0)
            return true;
    return false;
}

/*
 * Who the EMI was paid to, or no key when the SMS does not say: a bank's name
 * is not a lender, and two loans debited from one bank account must not pass
 * for one because their amounts are within 5%.
 */
static struct lender lender_key(const struct sms_fact *f, const struct fe_sms *s)
{
    if (is_lender_sender(s))
        return (struct lender){f->sender_name ? f->sender_name : f->sender, KEY_SENDER};
    if (f->transaction_party && *f->transaction_party && !rail_word(f->transaction_party))
        return (struct lender){f->transaction_party, KEY_NARRATION};
    return (struct lender){NULL, KEY_NONE};
}

/* A loan as the SMS name it: by its lender's own SMS, by banks' narrations, or not at all. */
struct loan_names {
    const char *sender, *narration;
};

struct emi_book {
    struct loan_names who[MAX_EMIS];
    double amount[MAX_EMIS];
    int n;
};

#define LENDER_KEY_MAX 64

static bool word_in(const char *w, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && strncmp(w, *list, n) == 0)
            return true;
    return false;
}

static bool has_alnum(const char *c)
{
    for (; *c; c++)
        if (isalnum((unsigned char)*c))
            return true;
    return false;
}

/*
 * A lender's name as a key: banks write one mandate's payee several ways
 * ("NACH/<umrn>/SI CREVA CAPITAL" reads "CREVA CAPITAL", "towards SI CREVA
 * CAPITAL LOAN EMI" reads "SI CREVA CAPITAL"; "BAJAJ FINANCE LTD" and "Bajaj
 * Finance Ltd."), so letters and digits are lower-cased, words single-spaced,
 * a leading standing-instruction or rail word ("SI", "NACH") and trailing
 * company forms ("LTD", "PVT", "LIMITED") dropped; one word always stays.
 * Longer names are cut at LENDER_KEY_MAX - 1 bytes, the same for both sides.
 */
static void lender_fold(const char *name, char *out)
{
    static const char *const lead[] = {"si", "nach", "enach", "ach", "ecs", "mandate", NULL};
    static const char *const tail[] = {"ltd", "limited", "pvt", "private", "llp", NULL};
    size_t n = 0, words = 0, ends[LENDER_KEY_MAX];
    for (const char *c = name; *c && n < LENDER_KEY_MAX - 1;) {
        while (*c && !isalnum((unsigned char)*c))
            c++;
        size_t start = n + (n > 0);
        if (!*c || start >= LENDER_KEY_MAX - 1)
            break;
        if (n > 0)
            out[n++] = ' ';
        while (*c && isalnum((unsigned char)*c) && n < LENDER_KEY_MAX - 1)
            out[n++] = (char)tolower((unsigned char)*c++);
        if (words == 0 && has_alnum(c) && word_in(out + start, n - start, lead)) {
            n = 0; /* "SI CREVA CAPITAL": the instruction, then the name */
            continue;
        }
        ends[words++] = n;
    }
    while (words > 1) {
        size_t start = ends[words - 2] + 1;
        if (!word_in(out + start, ends[words - 1] - start, tail))
            break;
        n = ends[--words - 1];
    }
    out[n] = '\0';
}

static bool same_lender(const char *a, const char *b)
{
    char ka[LENDER_KEY_MAX], kb[LENDER_KEY_MAX];
    if (strcasecmp(a, b) == 0)
        return true;
    lender_fold(a, ka);
    lender_fold(b, kb);
    return strcmp(ka, kb) == 0;
}

static bool names_differ(const char *a, const char *b)
{
    return a && b && !same_lender(a, b);
}

static bool names_match(const char *a, const char *b)
{
    return a && b && same_lender(a, b);
}

/*
 * One EMI per loan: payments of the same amount (within 1%) whoever names the
 * lender (the bank says "NACH/.../MPOKKET FINANCIAL", the lender "mPokket",
 * and a re-presented EMI comes days later), unless two lenders' SMS or two
 * narrations name different lenders; or to the same named lender within 5%.
 * A loan learns each name the first time an SMS gives it.
 */
static void emi_note(struct emi_book *b, struct lender who, double amount)
{
    const char *snd = who.src == KEY_SENDER ? who.key : NULL;
    const char *nar = who.src == KEY_NARRATION ? who.key : NULL;
    for (int i = 0; i < b->n; i++) {
        struct loan_names *e = &b->who[i];
        double diff = fabs(amount - b->amount[i]);
        bool differ = names_differ(snd, e->sender) || names_differ(nar, e->narration);
        bool match = names_match(snd, e->sender) || names_match(nar, e->narration);
        if ((diff <= EMI_SAME_AMOUNT_ANY * b->amount[i] && !differ) ||
            (diff <= EMI_SAME_AMOUNT * b->amount[i] && match && !differ)) {
            e->sender = e->sender ? e->sender : snd;
            e->narration = e->narration ? e->narration : nar;
            return;
        }
    }
    if (b->n < MAX_EMIS) {
        b->who[b->n] = (struct loan_names){snd, nar};
        b->amount[b->n++] = amount;
    }
}

static bool same_sender(const struct sms_fact *a, const struct sms_fact *b)
{
    const char *x = a->sender_name ? a->sender_name : a->sender;
    const char *y = b->sender_name ? b->sender_name : b->sender;
    return x && y && strcmp(x, y) == 0;
}

/*
 * A charge debit the extractor left as an ordinary debit but whose party
 * names it ("ACH return charges incl GST", "cheque bounce fee").
 */
static bool is_charge_for_bounce(const struct sms_fact *f, const struct fe_sms *s)
{
    const char *p = f->transaction_party;
    if (!s->txn || f->direction != SMS_DIRECTION_DEBIT || !p)
        return false;
    bool bounce = fe_has_word(p, "return") || fe_has_word(p, "bounce") ||
                  fe_has_word(p, "dishonour") || fe_has_word(p, "dishonor");
    bool charge = fe_has_word(p, "charges") || fe_has_word(p, "charge") ||
                  fe_has_word(p, "penalty") || fe_has_word(p, "fee");
    return bounce && charge;
}

static bool is_bounce_sms(const struct fe_ctx *ctx, size_t i)
{
    const struct fe_sms *s = &ctx->s[i];
    return s->kind == FE_K_BOUNCE_RETURN || s->kind == FE_K_BOUNCE_CHARGE ||
           is_charge_for_bounce(&ctx->sms[i], s);
}

/* A debit of a fee: the charge half of a bounce event (else the notice half). */
static bool is_charge_half(const struct fe_ctx *ctx, size_t i)
{
    const struct sms_fact *f = &ctx->sms[i];
    return ctx->s[i].kind != FE_K_BOUNCE_RETURN && f->direction == SMS_DIRECTION_DEBIT &&
           f->amount > 0;
}

/* The bounce SMS of the user in time order and how they pair into events. */
struct bounce_book {
    size_t idx[MAX_BOUNCE_SMS];
    int partner[MAX_BOUNCE_SMS]; /* the charge that joined this SMS, -1 when none */
    bool joined[MAX_BOUNCE_SMS]; /* this charge joined an earlier SMS */
    int n;
};

/* Join rules, tried in turn: a notice quoting the fee (typed a charge, same amount), a notice,
 * any free bounce SMS. */
enum { JOIN_SAME_FEE = 0, JOIN_NOTICE, JOIN_ANY, JOIN_N };

/* A notice of the sender of bounce SMS k between bounce SMS j and k (j < k). */
static bool notice_between(const struct fe_ctx *ctx, const struct bounce_book *b, int j, int k)
{
    for (int i = j + 1; i < k; i++)
        if (!is_charge_half(ctx, b->idx[i]) &&
            same_sender(&ctx->sms[b->idx[i]], &ctx->sms[b->idx[k]]))
            return true;
    return false;
}

/*
 * A fee quoted and then debited pairs only when no other notice came in
 * between: one bank's fee is the same on every bounce, so "charges 354
 * debited" two days after a first return and 354 again after a second
 * return's notice are two events' charges, not a quote and its debit.
 */
static bool can_join(const struct fe_ctx *ctx, const struct bounce_book *b, int k, int j, int rule)
{
    const struct sms_fact *c = &ctx->sms[b->idx[k]], *e = &ctx->sms[b->idx[j]];
    if (b->joined[j] || b->partner[j] >= 0 || !same_sender(c, e))
        return false;
    bool notice = !is_charge_half(ctx, b->idx[j]);
    if (rule == JOIN_SAME_FEE)
        return !notice && fabs(c->amount - e->amount) < 0.005 && !notice_between(ctx, b, j, k);
    return rule == JOIN_ANY || notice;
}

/*
 * Pairs each charge with the earliest free bounce SMS of its sender in the 3
 * days before it, preferring by rule (a fee quoted then debited, then a
 * notice, then anything) so that which notice a charge belongs to, and so
 * each event's channel, comes out right as well as the number of events.
 */
static void bounce_pair(const struct fe_ctx *ctx, struct bounce_book *b)
{
    for (int k = 0; k < b->n; k++) {
        b->partner[k] = -1;
        b->joined[k] = false;
    }
    for (int rule = 0; rule < JOIN_N; rule++)
        for (int k = 0; k < b->n; k++) {
            if (!is_charge_half(ctx, b->idx[k]) || b->joined[k] || b->partner[k] >= 0)
                continue;
            int first = -1;
            for (int j = k; j-- > 0;) {
                if (ctx->sms[b->idx[k]].ts - ctx->sms[b->idx[j]].ts > BOUNCE_LINK_SECONDS)
                    break;
                if (can_join(ctx, b, k, j, rule))
                    first = j;
            }
            if (first >= 0) {
                b->partner[first] = k;
                b->joined[k] = true;
            }
        }
}

static const int loan_w[] = {FE_W7, FE_W30, FE_W90, FE_W180};
enum { L_APP = 0, L_APPROVE, L_REJECT, L_DISBURSE, L_N };
static const char *const loan_names[L_N] = {"loan_application", "loan_approval", "loan_rejection",
                                            "loan_disbursal"};

struct obl {
    struct fe_acc emi[FE_NWIN], emi_month[FE_NMONTH];
    struct emi_book book90;     /* EMIs debited */
    struct emi_book contracted; /* EMIs owed: debits, reminders, mandates, bounce notices */
    struct emi_book sips;       /* recurring investments */
    struct fe_acc sip90;
    struct bounce_book bounces;
    struct fe_acc bounce[FE_NWIN], bounce_charge[FE_NWIN], penalty[FE_NWIN];
    double bounce_month[FE_NMONTH], nach_bounce180, cheque_bounce180;
    double emi_due[FE_NWIN], pay_due[FE_NWIN], mandate[FE_NWIN];
    double loan[L_N][FE_NWIN];
    struct fe_acc disbursed[FE_NWIN];
    const char *applied90[MAX_EMIS];
    int n_applied90;
    int64_t last_bounce, last_disbursal, last_application;
};

static void add_emi(struct fe_ctx *ctx, struct obl *a, size_t i)
{
    const struct sms_fact *f = &ctx->sms[i];
    const struct fe_sms *s = &ctx->s[i];
    for (int w = 0; w < FE_NWIN; w++)
        if (fe_in(s, w))
            fe_acc_add(&a->emi[w], f->amount);
    if (s->month >= 0)
        fe_acc_add(&a->emi_month[s->month], f->amount);
    if (fe_in(s, FE_W90)) {
        emi_note(&a->book90, lender_key(f, s), f->amount);
        emi_note(&a->contracted, lender_key(f, s), f->amount);
    }
    if (ctx->shared->n_emi_debits < FE_MAX_EMI_DEBITS)
        ctx->shared->emi_debits[ctx->shared->n_emi_debits++] = (uint32_t)i;
}

static bool is_investment_debit(const struct fe_ctx *ctx, const struct sms_fact *f,
                                const struct fe_sms *s)
{
    if (!s->txn || f->direction != SMS_DIRECTION_DEBIT)
        return false;
    const char *cat = s->cat;
    (void)ctx;
    return (f->sms_sub_type && strcmp(f->sms_sub_type, "investment") == 0) ||
           s->sender == FE_S_INVESTMENT || (cat && strcmp(cat, "investment") == 0);
}

static bool usable_amount(double v)
{
    return isfinite(v) && v > 0;
}

/*
 * An EMI owed, stated before or instead of its debit: an EMI-due notice, a
 * scheduled debit from a lender, an e-mandate for a lender or a loan, a
 * returned EMI (bounce notice) whose party is not an investment.
 */
static void note_contracted(const struct fe_ctx *ctx, struct obl *a, size_t i)
{
    const struct sms_fact *f = &ctx->sms[i];
    const struct fe_sms *s = &ctx->s[i];
    double v = usable_amount(f->amount) ? f->amount : f->due_amount;
    if (!fe_in(s, FE_W90) || !usable_amount(v) || s->credit_card)
        return;
    const char *sub = f->sms_sub_type ? f->sms_sub_type : "";
    const char *p = f->transaction_party;
    const char *cat = s->cat;
    bool invest = cat && (strcmp(cat, "investment") == 0 || strcmp(cat, "insurance") == 0);
    bool owed = false;
    if (s->kind == FE_K_BILL_DUE)
        owed = strcmp(sub, "emi_due") == 0; /* a lender's other bills may sum overdue EMIs */
    else if (s->kind == FE_K_FUTURE_DEBIT)
        owed = is_lender_sender(s) && !invest;
    else if (s->kind == FE_K_MANDATE)
        owed = is_lender_sender(s) || (p && (maps_is_lender_name(ctx->maps, p) ||
                                             fe_has_word(p, "loan") || fe_has_word(p, "emi")));
    else if (s->kind == FE_K_BOUNCE_RETURN)
        owed = !invest && !is_investment_debit(ctx, f, s);
    if (owed)
        emi_note(&a->contracted, lender_key(f, s), v);
}

/* NACH/ECS/EMI and cheque bounces: the first SMS of the event that says which. */
static void bounce_kind(const struct fe_ctx *ctx, size_t i, double *nach, double *cheque)
{
    const struct sms_fact *f = &ctx->sms[i];
    const struct fe_sms *s = &ctx->s[i];
    const char *sub = f->sms_sub_type ? f->sms_sub_type : "";
    *nach = s->channel == FE_CH_NACH || strstr(sub, "nach") || strstr(sub, "ecs") ||
            strstr(sub, "mandate") || strstr(sub, "emi");
    *cheque = s->channel == FE_CH_CHEQUE || strstr(sub, "cheque") != NULL;
}

/*
 * One bounce SMS i: its fee when it is a charge, and the event when it starts
 * one (partner: the SMS index of the charge that joined it, or -1).
 */
static void add_bounce(const struct fe_ctx *ctx, struct obl *a, size_t i, bool event, bool charge,
                       long partner)
{
    const struct sms_fact *f = &ctx->sms[i];
    const struct fe_sms *s = &ctx->s[i];
    for (int w = 0; w < FE_NWIN; w++) {
        if (!fe_in(s, w))
            continue;
        if (event)
            fe_acc_add(&a->bounce[w], 1);
        if (charge)
            fe_acc_add(&a->bounce_charge[w], f->amount);
    }
    if (!event || f->ts > ctx->now)
        return;
    if (s->month >= 0)
        a->bounce_month[s->month]++;
    if (fe_in(s, FE_W180)) {
        double nach, cheque;
        bounce_kind(ctx, i, &nach, &cheque);
        if (!nach && !cheque && partner >= 0)
            bounce_kind(ctx, (size_t)partner, &nach, &cheque);
        a->nach_bounce180 += nach;
        a->cheque_bounce180 += cheque;
    }
    if (f->ts > a->last_bounce)
        a->last_bounce = f->ts;
}

static void note_bounce(const struct fe_ctx *ctx, struct obl *a, size_t i)
{
    struct bounce_book *b = &a->bounces;
    if (ctx->s[i].dup)
        return; /* the same charge SMS again */
    if (b->n < MAX_BOUNCE_SMS)
        b->idx[b->n++] = i;
    else
        add_bounce(ctx, a, i, true, is_charge_half(ctx, i), -1);
}

/*
 * The paired bounce SMS into events and fees: a charge that a later charge
 * joined was the notice quoting the fee, so its amount is not a second fee.
 */
static void add_bounces(const struct fe_ctx *ctx, struct obl *a)
{
    struct bounce_book *b = &a->bounces;
    bounce_pair(ctx, b);
    for (int k = 0; k < b->n; k++) {
        size_t i = b->idx[k];
        int p = b->partner[k];
        bool quoted = p >= 0 && is_charge_half(ctx, i) && is_charge_half(ctx, b->idx[p]);
        add_bounce(ctx, a, i, !b->joined[k], is_charge_half(ctx, i) && !quoted,
                   p >= 0 ? (long)b->idx[p] : -1);
    }
}

static void add_loan(const struct fe_ctx *ctx, struct obl *a, size_t i)
{
    const struct sms_fact *f = &ctx->sms[i];
    const struct fe_sms *s = &ctx->s[i];
    int k = s->kind == FE_K_LOAN_APPLICATION ? L_APP
            : s->kind == FE_K_LOAN_APPROVAL  ? L_APPROVE
            : s->kind == FE_K_LOAN_REJECTION ? L_REJECT
                                             : L_DISBURSE;
    if (k == L_DISBURSE && s->dup)
        return;
    for (int w = 0; w < FE_NWIN; w++)
        if (fe_in(s, w)) {
            a->loan[k][w]++;
            if (k == L_DISBURSE && f->amount > 0)
                fe_acc_add(&a->disbursed[w], f->amount);
        }
    if (f->ts > ctx->now)
        return;
    if (k == L_DISBURSE && f->ts > a->last_disbursal)
        a->last_disbursal = f->ts;
    if (k == L_APP && f->ts > a->last_application)
        a->last_application = f->ts;
    const char *who = f->sender_name ? f->sender_name : f->sender;
    if (k == L_APP && fe_in(s, FE_W90) && who) {
        for (int j = 0; j < a->n_applied90; j++)
            if (strcmp(a->applied90[j], who) == 0)
                return;
        if (a->n_applied90 < MAX_EMIS)
            a->applied90[a->n_applied90++] = who;
    }
}

static void add_other(const struct fe_ctx *ctx, struct obl *a, size_t i)
{
    const struct sms_fact *f = &ctx->sms[i];
    const struct fe_sms *s = &ctx->s[i];
    bool emi_due =
        s->kind == FE_K_BILL_DUE && f->sms_sub_type && strcmp(f->sms_sub_type, "emi_due") == 0;
    for (int w = 0; w < FE_NWIN; w++) {
        if (!fe_in(s, w))
            continue;
        if (s->kind == FE_K_PENALTY && !s->dup && f->amount > 0)
            fe_acc_add(&a->penalty[w], f->amount);
        a->emi_due[w] += emi_due;
        a->pay_due[w] += s->kind == FE_K_BILL_DUE && !emi_due;
        a->mandate[w] += s->kind == FE_K_MANDATE;
    }
}

/*
 * A lender often confirms an EMI the bank already reported debited ("Payment of
 * Rs 800 for your loan received"): a lender-sent EMI with a bank-sent EMI of
 * the same amount within 3 days either side is the same payment.
 */
static bool is_lender_echo(const struct fe_ctx *ctx, size_t i)
{
    const struct sms_fact *f = &ctx->sms[i];
    if (!is_lender_sender(&ctx->s[i]))
        return false;
    for (size_t j = 0; j < ctx->n; j++) {
        const struct sms_fact *g = &ctx->sms[j];
        if (g->ts < f->ts - EMI_ECHO_SECONDS)
            continue;
        if (g->ts > f->ts + EMI_ECHO_SECONDS)
            break;
        if (j != i && !is_lender_sender(&ctx->s[j]) && fabs(g->amount - f->amount) < 0.01 &&
            is_emi(ctx, g, &ctx->s[j]))
            return true;
    }
    return false;
}

static void accumulate(struct fe_ctx *ctx, struct obl *a)
{
    for (size_t i = 0; i < ctx->n; i++) {
        const struct fe_sms *s = &ctx->s[i];
        const struct sms_fact *f = &ctx->sms[i];
        if (is_investment_debit(ctx, f, s)) {
            if (fe_in(s, FE_W90)) {
                fe_acc_add(&a->sip90, f->amount);
                emi_note(&a->sips, (struct lender){NULL, KEY_NONE}, f->amount);
            }
            continue;
        }
        if (is_emi(ctx, f, s)) {
            if (!is_lender_echo(ctx, i))
                add_emi(ctx, a, i);
            continue;
        }
        note_contracted(ctx, a, i);
        if (is_bounce_sms(ctx, i))
            note_bounce(ctx, a, i);
        else if (s->kind >= FE_K_LOAN_APPLICATION && s->kind <= FE_K_LOAN_DISBURSAL)
            add_loan(ctx, a, i);
        else
            add_other(ctx, a, i);
    }
    add_bounces(ctx, a);
}

static double book_sum(const struct emi_book *b)
{
    double t = 0;
    for (int i = 0; i < b->n; i++)
        t += b->amount[i];
    return t;
}

static void emit_emi(struct fe_ctx *ctx, struct fe_out *o, const struct obl *a)
{
    static const int w3[] = {FE_W30, FE_W90, FE_W180};
    for (int k = 0; k < 3; k++) {
        fe_num(o, a->emi[w3[k]].n, "emi_debit_count_%s", fe_win_names[w3[k]]);
        fe_num(o, a->emi[w3[k]].sum, "emi_debit_sum_%s", fe_win_names[w3[k]]);
    }
    for (int m = 0; m < FE_NMONTH; m++)
        fe_num(o, fe_month_value(ctx, m, a->emi_month[m].sum), "emi_debit_m%d", m);
    fe_num(o, fe_max(&a->emi[FE_W90]), "emi_max_amount_c90");
    fe_num(o, a->book90.n, "emi_loans_debited_count_c90");
    double lenders = 0;
    for (int i = 0; i < a->book90.n; i++) {
        const struct loan_names *e = &a->book90.who[i];
        const char *name = e->sender ? e->sender : e->narration;
        bool dup = false;
        for (int j = 0; j < i && !dup && name; j++) {
            const struct loan_names *f = &a->book90.who[j];
            dup = names_match(e->sender, f->sender) || names_match(e->narration, f->narration);
        }
        lenders += !dup;
    }
    fe_num(o, lenders, "emi_lenders_count_c90");
    fe_num(o, a->contracted.n, "emi_loans_contracted_count_c90");
    double ob = book_sum(&a->contracted);
    ctx->shared->monthly_obligation = ob;
    fe_num(o, ob, "monthly_obligation");
    fe_num(o, a->contracted.n ? book_sum(&a->book90) / ob : NAN,
           "emi_debited_share_of_contracted_c90");
    for (int k = 0; k < 2; k++) {
        fe_num(o, a->emi_due[w3[k]], "emi_due_reminder_count_%s", fe_win_names[w3[k]]);
        fe_num(o, a->pay_due[w3[k]], "payment_due_reminder_count_%s", fe_win_names[w3[k]]);
    }
    fe_num(o, a->mandate[FE_W90], "mandate_setup_count_c90");
    fe_num(o, a->mandate[FE_W180], "mandate_setup_count_c180");
    fe_num(o, a->sip90.n, "investment_debit_count_c90");
    fe_num(o, a->sip90.sum, "investment_debit_sum_c90");
    fe_num(o, a->sips.n, "sip_count_c90");
    fe_num(o, book_sum(&a->sips), "sip_monthly_amount");
}

static void emit_bounce(struct fe_ctx *ctx, struct fe_out *o, const struct obl *a)
{
    static const int w3[] = {FE_W30, FE_W90, FE_W180};
    for (int k = 0; k < 3; k++)
        fe_num(o, a->bounce[w3[k]].n, "bounce_count_%s", fe_win_names[w3[k]]);
    for (int m = 0; m < FE_NMONTH; m++)
        fe_num(o, fe_month_value(ctx, m, a->bounce_month[m]), "bounce_count_m%d", m);
    fe_num(o, a->bounce_charge[FE_W180].n, "bounce_charge_count_c180");
    fe_num(o, a->bounce_charge[FE_W90].sum, "bounce_charge_sum_c90");
    fe_num(o, a->bounce_charge[FE_W180].sum, "bounce_charge_sum_c180");
    fe_num(o, a->nach_bounce180, "nach_bounce_count_c180");
    fe_num(o, a->cheque_bounce180, "cheque_bounce_count_c180");
    fe_num(o, fe_days_since(ctx, a->last_bounce), "days_since_last_bounce");
    for (int k = 0; k < 3; k++)
        fe_num(o, a->penalty[w3[k]].n, "penalty_count_%s", fe_win_names[w3[k]]);
    fe_num(o, a->penalty[FE_W90].sum, "penalty_sum_c90");
    fe_num(o, a->penalty[FE_W180].sum, "penalty_sum_c180");
    fe_num(o, a->penalty[FE_W180].sum + a->bounce_charge[FE_W180].sum,
           "total_bounce_or_penal_charge_c180");
}

static void emit_loans(struct fe_ctx *ctx, struct fe_out *o, const struct obl *a)
{
    for (int k = 0; k < L_N; k++)
        for (size_t w = 0; w < sizeof(loan_w) / sizeof(loan_w[0]); w++)
            fe_num(o, a->loan[k][loan_w[w]], "%s_count_%s", loan_names[k], fe_win_names[loan_w[w]]);
    fe_num(o, a->disbursed[FE_W90].sum, "loan_disbursal_sum_c90");
    fe_num(o, a->disbursed[FE_W180].sum, "loan_disbursal_sum_c180");
    fe_num(o, a->n_applied90, "distinct_lenders_applied_c90");
    fe_num(o, fe_ratio(a->loan[L_APPROVE][FE_W180], a->loan[L_APP][FE_W180]),
           "loan_approval_ratio_c180");
    fe_num(o, fe_ratio(a->loan[L_REJECT][FE_W180], a->loan[L_APP][FE_W180]),
           "loan_rejection_ratio_c180");
    fe_num(o, fe_days_since(ctx, a->last_disbursal), "days_since_last_loan_disbursal");
    fe_num(o, fe_days_since(ctx, a->last_application), "days_since_last_loan_application");
}

static void run_obligations(struct fe_ctx *ctx, struct fe_out *o)
{
    static const struct obl zero;
    struct obl a = zero;
    ctx->shared->n_emi_debits = 0;
    accumulate(ctx, &a);
    emit_emi(ctx, o, &a);
    emit_bounce(ctx, o, &a);
    emit_loans(ctx, o, &a);
}

const struct fe_family fe_family_obligations = {"obligations", FEATURES_GROUP_EXTRACTED_SMS, false,
                                                run_obligations};
