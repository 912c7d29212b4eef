/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The user's payment instruments and the money that only moves between
 * them, found once in the pre-pass for every family to use.
 *
 * An instrument is one key: (institution, kind, tail). The institution is
 * the sender's entity (else its header), the tail the last four digits the
 * SMS prints after the mask. Each SMS that names digits hints at a kind: a
 * credit card (the pre-pass's credit-card evidence), a wallet (a wallet
 * sender), a debit card (a card-typed record or a card rail from a bank) or
 * an account (any other record from a bank, or a transaction from an
 * unknown sender). Lenders' SMS give no instrument: their "a/c ending" is a
 * loan account or the user's bank account named by someone else, and
 * OTPs, offers and loan-journey messages name no instrument of the user.
 * The kind of a key is decided over all its SMS, strongest evidence first:
 * credit card, account, debit card, wallet; so a debit card's SMS that print
 * the account number count for the account, and an account is never made
 * from a debit card's tail. A tail printed with fewer digits ("XX34") joins
 * the one longer tail of the same institution that ends with it.
 *
 * A self-transfer is a debit from one of the user's accounts and a credit of
 * the same amount to another within two hours, carrying the same reference
 * or the same party on both sides (the user's own name), or a leg whose
 * counter-party says "self" or whose party_kind is self_transfer. A disbursal is a lender's
 * disbursal SMS, and the bank credit of it: the credit within three days closest in amount to a
 * disbursal (at most 15% less, for fees taken before the money is sent).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "insights-api/features_impl.h"

#define SELF_TRANSFER_SECONDS (2 * 3600)
#define DISBURSAL_ECHO_SECONDS (3 * 86400)
#define DISBURSAL_FEE_SHARE 0.15

static bool lender_sender(const struct fe_sms *s)
{
    return s->sender == FE_S_NBFC || s->sender == FE_S_LENDER || s->sender == FE_S_BNPL;
}

static bool names_no_instrument(const struct fe_sms *s)
{
    switch (s->kind) {
    case FE_K_OTHER:
    case FE_K_OTP:
    case FE_K_PROMO:
    case FE_K_COLLECT:
    case FE_K_LOAN_APPLICATION:
    case FE_K_LOAN_APPROVAL:
    case FE_K_LOAN_REJECTION:
    case FE_K_LOAN_DISBURSAL:
        return true;
    default:
        return lender_sender(s);
    }
}

static enum fe_inst_kind hint_of(const struct sms_fact *f, const struct fe_sms *s)
{
    if (names_no_instrument(s))
        return FE_I_NONE;
    if (s->credit_card)
        return FE_I_CREDIT_CARD;
    if (s->sender == FE_S_WALLET)
        return FE_I_WALLET;
    bool bank = s->sender == FE_S_BANK || (s->sender == FE_S_UNKNOWN && s->txn);
    if (!bank)
        return FE_I_NONE;
    bool card = (f->sms_type && strncmp(f->sms_type, "card_", 5) == 0) ||
                (f->channel && strcmp(f->channel, "card") == 0);
    return card ? FE_I_DEBIT_CARD : FE_I_ACCOUNT;
}

/* The last FE_TAIL_MAX digits of what was printed after the mask; false when none. */
static bool tail_of(const char *digits, char *out)
{
    char all[32];
    size_t n = 0;
    for (const char *p = digits; p && *p && n + 1 < sizeof(all); p++)
        if (*p >= '0' && *p <= '9')
            all[n++] = *p;
    if (n == 0)
        return false;
    size_t k = n > FE_TAIL_MAX ? FE_TAIL_MAX : n;
    memcpy(out, all + n - k, k);
    out[k] = '\0';
    return true;
}

static bool same_institution(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

struct build {
    struct fe_instrument *t;
    unsigned hints[FE_MAX_INSTRUMENTS]; /* bit k: some SMS hinted kind k */
    int n;
};

static int find_or_add(struct build *b, const char *inst, const char *tail)
{
    for (int i = 0; i < b->n; i++)
        if (strcmp(b->t[i].tail, tail) == 0 && same_institution(b->t[i].institution, inst))
            return i;
    if (b->n == FE_MAX_INSTRUMENTS)
        return -1;
    struct fe_instrument *e = &b->t[b->n];
    e->institution = inst;
    memcpy(e->tail, tail, strlen(tail) + 1);
    e->kind = FE_I_NONE;
    b->hints[b->n] = 0;
    return b->n++;
}

/* Index a short tail joins: the one full tail of its institution ending with it, else itself. */
static int join_of(const struct build *b, int i)
{
    size_t l = strlen(b->t[i].tail);
    int found = -1;
    if (l >= FE_TAIL_MAX)
        return i;
    for (int j = 0; j < b->n; j++) {
        if (j == i || strlen(b->t[j].tail) != FE_TAIL_MAX ||
            !same_institution(b->t[i].institution, b->t[j].institution) ||
            strcmp(b->t[j].tail + FE_TAIL_MAX - l, b->t[i].tail) != 0)
            continue;
        if (found >= 0)
            return i; /* two candidates: keep it apart rather than guess */
        found = j;
    }
    return found >= 0 ? found : i;
}

static enum fe_inst_kind resolve(unsigned hints)
{
    static const enum fe_inst_kind order[] = {FE_I_CREDIT_CARD, FE_I_ACCOUNT, FE_I_DEBIT_CARD,
                                              FE_I_WALLET};
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
        if (hints & (1u << order[k]))
            return order[k];
    return FE_I_NONE;
}

int fe_instruments_build(const struct fe_ctx *ctx, struct fe_sms *s, struct fe_instrument *scratch)
{
    struct build b = {.t = scratch};
    int map[FE_MAX_INSTRUMENTS];
    char tail[FE_TAIL_MAX + 1];
    for (size_t i = 0; i < ctx->n; i++) {
        const struct sms_fact *f = &ctx->sms[i];
        enum fe_inst_kind h = hint_of(f, &s[i]);
        if (h == FE_I_NONE || !tail_of(f->account_last_digits, tail))
            continue;
        int k = find_or_add(&b, f->sender_name ? f->sender_name : f->sender, tail);
        s[i].inst = (signed char)k;
        if (k >= 0)
            b.hints[k] |= 1u << h;
    }
    for (int i = 0; i < b.n; i++)
        map[i] = join_of(&b, i);
    for (int i = 0; i < b.n; i++)
        if (map[i] != i)
            b.hints[map[i]] |= b.hints[i];
    int n = 0, renum[FE_MAX_INSTRUMENTS];
    for (int i = 0; i < b.n; i++) { /* compact: joined tails disappear into their full tail */
        if (map[i] != i)
            continue;
        b.t[n] = b.t[i];
        b.t[n].kind = (unsigned char)resolve(b.hints[i]);
        renum[i] = n++;
    }
    for (int i = 0; i < b.n; i++)
        if (map[i] != i)
            renum[i] = renum[map[i]]; /* a full tail never joins another, so it was numbered */
    for (size_t i = 0; i < ctx->n; i++)
        if (s[i].inst >= 0)
            s[i].inst = (signed char)renum[s[i].inst];
    return n;
}

static bool own_account(const struct fe_ctx *ctx, const struct fe_sms *s)
{
    return s->inst >= 0 && ctx->inst[s->inst].kind == FE_I_ACCOUNT;
}

static bool same_text(const char *a, const char *b)
{
    return a && b && *a && strcasecmp(a, b) == 0;
}

/*
 * Two legs of one transfer: the same reference (UPI RRN, IMPS/NEFT UTR), or
 * the same party on both sides (the user's own name, sent to and received
 * from). Equal amounts alone are a coincidence of everyday payments.
 */
static bool same_transfer(const struct sms_fact *c, const struct sms_fact *d)
{
    return same_text(c->reference_no, d->reference_no) ||
           same_text(c->transaction_party, d->transaction_party);
}

/* The other leg of the credit i: a debit of the same transfer from another own account. */
static void pair_self_transfer(const struct fe_ctx *ctx, struct fe_sms *s, size_t i)
{
    const struct sms_fact *c = &ctx->sms[i];
    size_t lo = i;
    while (lo > 0 && c->ts - ctx->sms[lo - 1].ts <= SELF_TRANSFER_SECONDS)
        lo--;
    for (size_t j = lo; j < ctx->n && ctx->sms[j].ts - c->ts <= SELF_TRANSFER_SECONDS; j++) {
        const struct sms_fact *d = &ctx->sms[j];
        if (j == i || !s[j].txn || s[j].self_transfer || d->direction != SMS_DIRECTION_DEBIT ||
            !own_account(ctx, &s[j]) || s[j].inst == s[i].inst ||
            fabs(d->amount - c->amount) > 0.005 || !same_transfer(c, d))
            continue;
        s[i].self_transfer = s[j].self_transfer = true;
        return;
    }
}

/* The bank credit of the disbursal SMS i: closest in amount within the fee share, 3 days around. */
static void mark_disbursal_credit(const struct fe_ctx *ctx, struct fe_sms *s, size_t i)
{
    const struct sms_fact *d = &ctx->sms[i];
    size_t lo = i, best = ctx->n;
    double best_gap = INFINITY;
    while (lo > 0 && d->ts - ctx->sms[lo - 1].ts <= DISBURSAL_ECHO_SECONDS)
        lo--;
    for (size_t j = lo; j < ctx->n && ctx->sms[j].ts - d->ts <= DISBURSAL_ECHO_SECONDS; j++) {
        const struct sms_fact *c = &ctx->sms[j];
        double gap = d->amount - c->amount;
        if (!s[j].txn || s[j].borrowed || c->direction != SMS_DIRECTION_CREDIT ||
            s[j].kind != FE_K_EXECUTED || gap < -0.005 || gap > DISBURSAL_FEE_SHARE * d->amount)
            continue;
        if (gap < best_gap) {
            best_gap = gap;
            best = j;
        }
    }
    if (best < ctx->n)
        s[best].borrowed = true;
}

void fe_mark_transfers(const struct fe_ctx *ctx, struct fe_sms *s)
{
    for (size_t i = 0; i < ctx->n; i++) {
        const struct sms_fact *f = &ctx->sms[i];
        if (s[i].kind == FE_K_LOAN_DISBURSAL) {
            s[i].borrowed = true;
            if (f->amount > 0 && isfinite(f->amount))
                mark_disbursal_credit(ctx, s, i);
            continue;
        }
        if (!s[i].txn)
            continue;
        if (fe_has_word(f->transaction_party, "self") ||
            (f->party_kind && strcmp(f->party_kind, "self_transfer") == 0))
            s[i].self_transfer = true;
        else if (f->direction == SMS_DIRECTION_CREDIT && !s[i].self_transfer &&
                 own_account(ctx, &s[i]))
            pair_self_transfer(ctx, s, i);
    }
}
