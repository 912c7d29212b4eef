/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The extraction engine: one SMS (sender header + body) in, one classified and
 * extracted record out. No I/O, no libevent, no allocation per message: the
 * rules are compiled once at load (PCRE2 with JIT) and shared read-only by
 * every thread; each thread (or request) owns a scratch for match data.
 *
 * Rules come from three artifacts, the bytes of which the caller loads (plain
 * or unsealed, from a file or S3, see common/artifact.h):
 *   vocabulary      sender headers -> entity and type, keyword lists
 *   classification  ordered rules that give sms_type and sms_kind
 *   regex           field templates (amount, account, balance, party, ...)
 * Their formats are documented in docs/rules.md and docs/sms-types.md.
 */
#ifndef SMSX_EXTRACT_H
#define SMSX_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

struct extract_rules;   /* immutable once loaded; safe to share between threads */
struct extract_scratch; /* per thread or per request; never shared concurrently */

enum extract_direction {
    EXTRACT_DIRECTION_NONE = 0,
    EXTRACT_DIRECTION_DEBIT,  /* "debit-transaction" */
    EXTRACT_DIRECTION_CREDIT, /* "credit-transaction" */
};

/*
 * One record per input message. String pointers point into the rules (stable
 * while the rules live) or are NULL when absent; char arrays are empty ("")
 * when absent. Numbers are NAN when absent. The caller serialises absent
 * values as JSON null.
 */
struct extract_record {
    char sender[32];          /* normalised header: lower case, operator prefix and
                                 -S/-T/-P/-G suffix removed ("VM-HDFCBK-S" -> "hdfcbk") */
    const char *sender_name;  /* entity from the vocabulary, e.g. "hdfc bank" */
    const char *sender_type;  /* bank, credit_card, wallet, nbfc, ... */
    const char *sms_type;     /* classification label, see docs/sms-types.md */
    const char *sms_sub_type; /* the sender kind (sender_type) when classified, else the
                                 unknown label ("not_in_the_list") */
    const char *sms_kind;     /* finer kind of event within sms_type */
    const char *party_kind;   /* self_transfer, atm_cash, cash_deposit, ... or NULL */
    const char *template_id;  /* id of the regex template that extracted fields */
    const char *channel;      /* upi imps neft rtgs card atm netbanking cheque nach wallet */
    const char *currency;     /* ISO code, "INR" when a rupee amount was read */
    bool is_classified;       /* a classification rule matched */
    bool is_extracted;        /* at least the amount (or balance) was extracted */
    bool is_transactional;    /* money moved (debit or credit executed) */
    enum extract_direction direction;
    double amount; /* "transaction" */
    double available_balance;
    double credit_limit;
    double available_limit;
    double due_amount;
    double min_due;
    double overdue_amount;        /* delinquency notices */
    double days_past_due;         /* delinquency notices: a whole number of days */
    char account_last_digits[24]; /* digits as printed after the mask: "1234", "000001" */
    char transaction_party[96];   /* counter-party / merchant as printed */
    char reference_no[48];        /* UPI RRN, IMPS/NEFT/RTGS UTR, ... */
    char transaction_date[40];    /* as printed in the body */
    char due_date[40];            /* as printed in the body */
    char unique_pan[160];         /* "<sender_type> | <sender_name> | <last 2 digits or -1>" */
};

/*
 * Compile the three artifacts. On failure returns -1, *out is NULL and err
 * names the artifact and the problem (e.g. "regex: template 'x': pattern
 * error at offset 4: missing )"). The byte buffers are not kept.
 */
int extract_rules_load(const char *vocabulary, size_t vocabulary_len, const char *classification,
                       size_t classification_len, const char *regex, size_t regex_len,
                       struct extract_rules **out, char *err, size_t err_len);
void extract_rules_free(struct extract_rules *rules);

/* "vocabulary=<v>,classification=<v>,regex=<v>": the artifacts' own version fields. */
const char *extract_rules_version(const struct extract_rules *rules);
/* Each artifact's version alone, for metrics: which is 0, 1, 2 in load order. */
const char *extract_rules_artifact_version(const struct extract_rules *rules, int which);

/* Scratch sized for these rules; NULL only on allocation failure. */
struct extract_scratch *extract_scratch_new(const struct extract_rules *rules);
void extract_scratch_free(struct extract_scratch *scratch);

/*
 * Classify and extract one message. Never fails: an unrecognised message gives
 * sms_type "not_in_the_list" and is_classified false. Body may hold any bytes
 * (the caller has checked UTF-8); it is not NUL-terminated necessarily.
 */
void extract_message(const struct extract_rules *rules, struct extract_scratch *scratch,
                     const char *sender, size_t sender_len, const char *body, size_t body_len,
                     struct extract_record *out);

/* One message of a batch (sender and body need not be NUL-terminated). */
struct extract_input {
    const char *sender;
    size_t sender_len;
    const char *body;
    size_t body_len;
};

/* Messages a scratch holds at once; extract_batch takes any number, this many at a time. */
#define EXTRACT_BATCH 32

/*
 * Extract in[0..n) into out[0..n): the same records as n calls of
 * extract_message, faster (each step of the engine runs over up to
 * EXTRACT_BATCH messages before the next step).
 */
void extract_batch(const struct extract_rules *rules, struct extract_scratch *scratch,
                   const struct extract_input *in, size_t n, struct extract_record *out);

/*
 * For rule authors: the patterns that decided a record (the classification
 * rule, the channel pattern, the template that gave each field read), by id.
 */
#define EXTRACT_TRACE_MAX 16
struct extract_trace {
    const char *id[EXTRACT_TRACE_MAX];
    size_t n;
};

/* extract_batch, filling trace[0..n) as well (smsx-extract --rule-stats). */
void extract_batch_traced(const struct extract_rules *rules, struct extract_scratch *scratch,
                          const struct extract_input *in, size_t n, struct extract_record *out,
                          struct extract_trace *trace);

/* Every pattern of the rules: its id, what it is ("rule", "channel" or the field name) and
   its "fixture_only" reason (NULL unless the rule file lists it as a fixture-only exception). */
void extract_patterns(const struct extract_rules *rules,
                      void (*each)(const char *id, const char *what, const char *fixture_only,
                                   void *arg),
                      void *arg);

/*
 * For rule authors: every pattern of the rules (field templates, channels,
 * classification rules) whose gates or anchor change its result on this
 * body (see patterns_gates_agree) is passed to report. Returns how many.
 */
size_t extract_check_gates(const struct extract_rules *rules, struct extract_scratch *scratch,
                           const char *body, size_t body_len,
                           void (*report)(const char *pattern_id, void *arg), void *arg);

/*
 * For rule authors (smsx-extract --pattern-cost): the time each pattern takes
 * on this body when tried as the engine tries it (gates first; CPU cycles on
 * x86, else ns), added to cost[] in the order of extract_patterns (rules,
 * channels, then each field's templates). An upper bound of what a pattern
 * costs: the engine stops at the first rule or template that matches.
 */
void extract_pattern_cost(const struct extract_rules *rules, struct extract_scratch *scratch,
                          const char *body, size_t body_len, double *cost);

#endif
