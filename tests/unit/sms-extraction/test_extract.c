/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The extraction engine through its public header: the shipped rules against
 * our own table of messages (tests/data/sms/extract_cases.tsv), the load
 * errors rule authors will meet, the record conventions (sender, unique_pan,
 * absent values), bodies that are not NUL-terminated or too long, and, when
 * ../shared is present, the labelled dev set as a regression floor.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <glob.h>
#include <jansson.h>

#include "common/file.h"
#include "sms-extraction/extract.h"

#define RULES_DIR "sms-extraction/rules/"

struct artifacts {
    char *data[3];
    size_t len[3];
};

static void artifacts_read(struct artifacts *a)
{
    static const char *const names[3] = {RULES_DIR "vocabulary.json",
                                         RULES_DIR "classification.json", RULES_DIR "regex.json"};
    for (int i = 0; i < 3; i++) {
        a->data[i] = file_read(names[i], 0, &a->len[i], NULL, 0);
        assert_non_null(a->data[i]);
    }
}

static void artifacts_free(struct artifacts *a)
{
    for (int i = 0; i < 3; i++)
        free(a->data[i]);
}

struct fixture {
    struct extract_rules *rules;
    struct extract_scratch *scratch;
};

static int setup(void **state)
{
    struct artifacts a;
    char err[256];
    struct fixture *f = calloc(1, sizeof(*f));
    artifacts_read(&a);
    int rc = extract_rules_load(a.data[0], a.len[0], a.data[1], a.len[1], a.data[2], a.len[2],
                                &f->rules, err, sizeof(err));
    artifacts_free(&a);
    if (rc != 0) {
        fprintf(stderr, "rules: %s\n", err);
        free(f);
        return -1;
    }
    f->scratch = extract_scratch_new(f->rules);
    *state = f;
    return f->scratch ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    extract_scratch_free(f->scratch);
    extract_rules_free(f->rules);
    free(f);
    return 0;
}

static void run(struct fixture *f, const char *sender, const char *body, struct extract_record *rec)
{
    extract_message(f->rules, f->scratch, sender, sender ? strlen(sender) : 0, body, strlen(body),
                    rec);
}

/* Compare one column; returns 1 and prints when it does not hold. */
static int check_text(int line, const char *what, const char *want, const char *got)
{
    if (strcmp(want, "*") == 0)
        return 0;
    bool absent = !got || !*got;
    if (strcmp(want, "-") == 0) {
        if (absent)
            return 0;
    } else if (!absent && strcasecmp(want, got) == 0) {
        return 0;
    }
    fprintf(stderr, "line %d: %s: want '%s', got '%s'\n", line, what, want, got ? got : "(null)");
    return 1;
}

static int check_number(int line, const char *what, const char *want, double got)
{
    if (strcmp(want, "*") == 0)
        return 0;
    if (strcmp(want, "-") == 0) {
        if (isnan(got))
            return 0;
    } else if (!isnan(got) && fabs(strtod(want, NULL) - got) < 0.005) {
        return 0;
    }
    fprintf(stderr, "line %d: %s: want %s, got %.2f\n", line, what, want, got);
    return 1;
}

static const char *direction_word(enum extract_direction d)
{
    return d == EXTRACT_DIRECTION_DEBIT ? "debit" : d == EXTRACT_DIRECTION_CREDIT ? "credit" : "";
}

static int check_row(struct fixture *f, int line, char **col, int ncol)
{
    struct extract_record rec;
    int bad = 0;
    run(f, col[0], col[1], &rec);
    bad += check_text(line, "sms_type", col[2], rec.sms_type);
    bad += check_text(line, "direction", col[3], direction_word(rec.direction));
    bad += check_number(line, "amount", col[4], rec.amount);
    bad += check_text(line, "account", col[5], rec.account_last_digits);
    bad += check_number(line, "balance", col[6], rec.available_balance);
    bad += check_text(line, "party", col[7], rec.transaction_party);
    bad += check_text(line, "reference", col[8], rec.reference_no);
    bad += check_text(line, "is_transactional", col[9], rec.is_transactional ? "1" : "0");
    if (ncol > 10)
        bad += check_text(line, "sms_kind", col[10], rec.sms_kind);
    if (ncol > 11)
        bad += check_text(line, "party_kind", col[11], rec.party_kind);
    if (ncol > 12)
        bad += check_number(line, "overdue_amount", col[12], rec.overdue_amount);
    if (ncol > 13)
        bad += check_number(line, "days_past_due", col[13], rec.days_past_due);
    return bad ? 1 : 0;
}

/*
 * Every row of a fixture table must come out as written: 10 tab-separated
 * columns, then optionally sms_kind, party_kind, overdue_amount and
 * days_past_due. Returns the number of rows read.
 */
#define TABLE_MAX_COLS 14

static int run_table(struct fixture *f, const char *path, int *failed)
{
    FILE *fp = fopen(path, "r");
    char line[2048];
    int lineno = 0, rows = 0;

    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = '\0';
        char *col[TABLE_MAX_COLS];
        int n = 0;
        for (char *p = line; n < TABLE_MAX_COLS; n++) {
            col[n] = p;
            char *tab = strchr(p, '\t');
            if (!tab) {
                n++;
                break;
            }
            *tab = '\0';
            p = tab + 1;
        }
        if (n < 10)
            fprintf(stderr, "%s:%d: %d columns\n", path, lineno, n);
        assert_true(n >= 10);
        rows++;
        if (check_row(f, lineno, col, n)) {
            fprintf(stderr, "  (in %s)\n", path);
            (*failed)++;
        }
    }
    fclose(fp);
    return rows;
}

static bool same_number(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Every field of two records (string buffers up to their NUL). */
static bool same_record(const struct extract_record *a, const struct extract_record *b)
{
    return same_text(a->sender, b->sender) && same_text(a->sender_name, b->sender_name) &&
           same_text(a->sender_type, b->sender_type) && same_text(a->sms_type, b->sms_type) &&
           same_text(a->sms_sub_type, b->sms_sub_type) && same_text(a->sms_kind, b->sms_kind) &&
           same_text(a->party_kind, b->party_kind) &&
           same_number(a->overdue_amount, b->overdue_amount) &&
           same_number(a->days_past_due, b->days_past_due) &&
           same_text(a->template_id, b->template_id) && same_text(a->channel, b->channel) &&
           same_text(a->currency, b->currency) && a->is_classified == b->is_classified &&
           a->is_extracted == b->is_extracted && a->is_transactional == b->is_transactional &&
           a->direction == b->direction && same_number(a->amount, b->amount) &&
           same_number(a->available_balance, b->available_balance) &&
           same_number(a->credit_limit, b->credit_limit) &&
           same_number(a->available_limit, b->available_limit) &&
           same_number(a->due_amount, b->due_amount) && same_number(a->min_due, b->min_due) &&
           same_text(a->account_last_digits, b->account_last_digits) &&
           same_text(a->transaction_party, b->transaction_party) &&
           same_text(a->reference_no, b->reference_no) &&
           same_text(a->transaction_date, b->transaction_date) &&
           same_text(a->due_date, b->due_date) && same_text(a->unique_pan, b->unique_pan);
}

/* Sender and body columns of a fixture table, appended to in[] (bodies kept in lines[]). */
static size_t read_inputs(const char *path, char (*lines)[2048], struct extract_input *in, size_t n,
                          size_t cap)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    while (n < cap && fgets(lines[n], sizeof(lines[n]), fp)) {
        char *line = lines[n], *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab)
            continue;
        *tab = '\0';
        char *body = tab + 1, *end = strchr(body, '\t');
        if (end)
            *end = '\0';
        in[n] = (struct extract_input){line, strlen(line), body, strlen(body)};
        n++;
    }
    fclose(fp);
    return n;
}

/*
 * extract_batch gives every message the record extract_message gives it, over
 * more messages than one batch holds (both fixture tables, several batches,
 * the last one partial), and a batch of one and of none work.
 */
static void test_batch_same_as_single(void **state)
{
    enum { CAP = 400 };
    struct fixture *f = *state;
    static char lines[CAP][2048];
    static struct extract_input in[CAP];
    static struct extract_record batch[CAP];
    struct extract_record single;
    size_t n = read_inputs("tests/data/sms/extract_cases.tsv", lines, in, 0, CAP);
    n = read_inputs("tests/data/sms/extract_events.tsv", lines, in, n, CAP);
    assert_true(n > 2 * EXTRACT_BATCH && n % EXTRACT_BATCH != 0);
    extract_batch(f->rules, f->scratch, in, n, batch);
    for (size_t i = 0; i < n; i++) {
        extract_message(f->rules, f->scratch, in[i].sender, in[i].sender_len, in[i].body,
                        in[i].body_len, &single);
        if (!same_record(&batch[i], &single))
            fprintf(stderr, "message %zu differs between batch and single\n", i);
        assert_true(same_record(&batch[i], &single));
    }
    extract_batch(f->rules, f->scratch, &in[n - 1], 1, batch);
    assert_true(same_record(&batch[0], &single));
    extract_batch(f->rules, f->scratch, in, 0, NULL);
}

/* Mixed fixtures: channels, banks, field conventions. */
static void test_fixture_table(void **state)
{
    int failed = 0;
    assert_true(run_table(*state, "tests/data/sms/extract_cases.tsv", &failed) >= 40);
    assert_int_equal(failed, 0);
}

/*
 * The phrasing-family tables (every .tsv of tests/data/sms but the two above):
 * each family in our own wording, from several banks, at least 6 rows each.
 */
static void test_family_tables(void **state)
{
    glob_t g;
    int failed = 0, files = 0;
    assert_int_equal(glob("tests/data/sms/*.tsv", 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        if (strstr(path, "/extract_cases.tsv") || strstr(path, "/extract_events.tsv"))
            continue;
        int before = failed;
        int rows = run_table(*state, path, &failed);
        if (rows < 6 || failed != before)
            fprintf(stderr, "%s: %d rows, %d failed\n", path, rows, failed - before);
        assert_true(rows >= 6);
        files++;
    }
    globfree(&g);
    assert_true(files > 0);
    assert_int_equal(failed, 0);
}

/* Several phrasings of every event type (salary, EMI, bounce, card, transfer, loans, ...). */
static void test_event_table(void **state)
{
    int failed = 0;
    assert_true(run_table(*state, "tests/data/sms/extract_events.tsv", &failed) >= 50);
    assert_int_equal(failed, 0);
}

static void test_record_conventions(void **state)
{
    struct extract_record rec;
    run(*state, "VM-HDFCBK-S",
        "Rs.520.00 debited from A/c XX4321 on 05-11-25 to VPA corner.shop@oksbi UPI Ref "
        "512345678901. Avl Bal Rs 1,234.50",
        &rec);
    assert_string_equal(rec.sender, "hdfcbk");
    assert_string_equal(rec.sender_name, "hdfc bank");
    assert_string_equal(rec.sender_type, "bank");
    assert_string_equal(rec.unique_pan, "bank | hdfc bank | 21");
    assert_string_equal(rec.channel, "upi");
    assert_string_equal(rec.currency, "INR");
    assert_true(rec.is_classified && rec.is_extracted && rec.is_transactional);
    assert_non_null(rec.template_id);
    assert_true(isnan(rec.due_amount) && isnan(rec.credit_limit));
    assert_string_equal(rec.due_date, "");
    /* a cash withdrawal is the atm channel however "cash wdl" is written, and wherever
       the other trigger words of the channel stand */
    static const char *const atm_bodies[] = {
        "Rs 3,000.00 debited for cash wdl on 14/02/26 from A/c XX7781",
        "Rs.3000 CASHWDL A/c XX7781 14FEB Avl Bal Rs 900",
        "Rs 3000 debited from A/c XX7781 by CASH WDL; withdrawn at your branch",
    };
    for (size_t i = 0; i < sizeof(atm_bodies) / sizeof(atm_bodies[0]); i++) {
        run(*state, "VM-SBIINB", atm_bodies[i], &rec);
        assert_non_null(rec.channel);
        assert_string_equal(rec.channel, "atm");
    }
}

static void test_dues_and_limits(void **state)
{
    struct extract_record rec;
    run(*state, "AD-SBICRD",
        "Statement for your SBI Card ending 7720 has been generated. Total Amt Due Rs 9,870.00; "
        "Min Amt Due Rs 500.00; payable by 20/05/2026.",
        &rec);
    assert_string_equal(rec.sms_type, "statement_generated");
    assert_true(fabs(rec.due_amount - 9870.0) < 0.005);
    assert_true(fabs(rec.min_due - 500.0) < 0.005);
    assert_string_equal(rec.due_date, "20/05/2026");
    assert_string_equal(rec.account_last_digits, "7720");
    assert_false(rec.is_transactional);

    run(*state, "JM-BOBCRD",
        "Your BOBCARD credit limit has been enhanced from Rs 50,000 to Rs 75,000. Happy spending!",
        &rec);
    assert_string_equal(rec.sms_type, "card_limit_change");
    assert_true(fabs(rec.credit_limit - 75000.0) < 0.005);
    assert_true(isnan(rec.amount));

    run(*state, "AX-AXISBK",
        "Spent INR 450.00 on Axis Bank Card XX7731 at BOOK NOOK. Avl Limit: INR 40,100.50", &rec);
    assert_true(fabs(rec.available_limit - 40100.5) < 0.005);
    assert_true(isnan(rec.available_balance));

    /* a statement's "<...> limit Rs X, available Rs Y" (tests/data/sms/notices.tsv) */
    static const struct {
        const char *sender, *body;
        double limit, available;
    } st[] = {
        {"AD-HDFCBK",
         "HDFC Bank Credit Card XX5678 statement: Total due Rs 12,400, Min due Rs 620. Total limit "
         "Rs 2,00,000, available Rs 1,87,600.",
         200000, 187600},
        {"VM-ICICIB",
         "ICICI Bank Card XX3390 statement for Nov: total due INR 8,215.60, minimum due INR "
         "410.00, "
         "due by 18-12-26. Credit limit INR 1,20,000; available INR 96,300.",
         120000, 96300},
        {"JD-AXISBK",
         "Axis Bank card XX7712: statement generated. Total due Rs 4,050; min due Rs 210. Card "
         "limit Rs 75,000 - available Rs 70,950.",
         75000, 70950},
    };
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        run(*state, st[i].sender, st[i].body, &rec);
        assert_string_equal(rec.sms_type, "statement_generated");
        assert_true(fabs(rec.credit_limit - st[i].limit) < 0.005);
        assert_true(fabs(rec.available_limit - st[i].available) < 0.005);
    }
}

static void test_unknown_message(void **state)
{
    struct extract_record rec;
    run(*state, NULL, "see you at the station tomorrow", &rec);
    assert_string_equal(rec.sms_type, "not_in_the_list");
    assert_false(rec.is_classified);
    assert_false(rec.is_transactional);
    assert_null(rec.sender_name);
    assert_string_equal(rec.sender, "");
    assert_string_equal(rec.unique_pan, "");
}

/* The body is read by length only: bytes past it must not leak into the record. */
static void test_body_not_nul_terminated(void **state)
{
    struct fixture *f = *state;
    struct extract_record rec;
    const char text[] = "INR 75.00 spent on Card XX9001 at TEA TIME. Avl Limit INR 900.00 trailing";
    size_t len = strlen("INR 75.00 spent on Card XX9001 at TEA TIME");
    char *body = malloc(len);
    memcpy(body, text, len);
    extract_message(f->rules, f->scratch, "AD-ICICIB", 9, body, len, &rec);
    free(body);
    assert_true(fabs(rec.amount - 75.0) < 0.005);
    assert_string_equal(rec.transaction_party, "TEA TIME");
    assert_true(isnan(rec.available_limit));
}

static void test_long_body(void **state)
{
    struct extract_record rec;
    size_t n = 20000;
    char *body = malloc(n + 1);
    memset(body, 'a', n);
    memcpy(body, "Rs 10.00 debited from A/c XX1111 ", 33);
    body[n] = '\0';
    run(*state, "VM-SBIINB", body, &rec);
    free(body);
    assert_true(fabs(rec.amount - 10.0) < 0.005);
    assert_string_equal(rec.account_last_digits, "1111");
}

static void test_versions(void **state)
{
    struct fixture *f = *state;
    const char *v = extract_rules_version(f->rules);
    assert_non_null(strstr(v, "vocabulary="));
    assert_non_null(strstr(v, ",classification="));
    assert_non_null(strstr(v, ",regex="));
    for (int i = 0; i < 3; i++) {
        assert_non_null(extract_rules_artifact_version(f->rules, i));
        assert_non_null(strstr(v, extract_rules_artifact_version(f->rules, i)));
    }
    assert_null(extract_rules_artifact_version(f->rules, 3));
}

static int load_with(const char *vocab, const char *cls, const char *regex, char *err,
                     size_t err_len)
{
    struct artifacts a;
    struct extract_rules *rules = NULL;
    artifacts_read(&a);
    const char *v = vocab ? vocab : a.data[0];
    const char *c = cls ? cls : a.data[1];
    const char *r = regex ? regex : a.data[2];
    int rc = extract_rules_load(v, strlen(v), c, strlen(c), r, strlen(r), &rules, err, err_len);
    if (rc == 0)
        extract_rules_free(rules);
    else
        assert_null(rules);
    artifacts_free(&a);
    return rc;
}

/* Load cls with the repo's vocabulary and regex artifacts; the type each body gets. */
static void expect_types(const char *cls, const char *const (*cases)[2], size_t n)
{
    struct artifacts a;
    struct extract_rules *rules = NULL;
    struct extract_record rec;
    char err[256];
    artifacts_read(&a);
    assert_int_equal(extract_rules_load(a.data[0], strlen(a.data[0]), cls, strlen(cls), a.data[2],
                                        strlen(a.data[2]), &rules, err, sizeof(err)),
                     0);
    struct extract_scratch *sc = extract_scratch_new(rules);
    assert_non_null(sc);
    for (size_t i = 0; i < n; i++) {
        extract_message(rules, sc, "VM-TEST", 7, cases[i][0], strlen(cases[i][0]), &rec);
        assert_string_equal(rec.sms_type, cases[i][1]);
    }
    extract_scratch_free(sc);
    extract_rules_free(rules);
    artifacts_free(&a);
}

/* A classification artifact that must not load, and the words its error must hold. */
static void expect_load_error(const char *cls, const char *want)
{
    char err[256];
    assert_int_equal(load_with(NULL, cls, NULL, err, sizeof(err)), -1);
    if (!strstr(err, want))
        fprintf(stderr, "error '%s' lacks '%s'\n", err, want);
    assert_non_null(strstr(err, want));
}

/* One otp rule with the given extra fields ("anchor", "then", "reach"...) must not load. */
static void expect_rule_load_error(const char *fields, const char *want)
{
    char json[512];

    snprintf(json, sizeof(json),
             "{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":\"account\"},"
             "\"rules\":[{\"id\":\"e\",\"sms_type\":\"otp\",\"pattern\":\"otp\","
             "\"triggers\":[\"otp\"],%s}]}",
             fields);
    expect_load_error(json, want);
}

/* A rule gated by require_any is skipped unless one word of each clause occurs. */
static void test_require_any(void **state)
{
    static const char cls[] =
        "{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":\"account\"},"
        "\"rules\":[{\"id\":\"gated\",\"sms_type\":\"gated_type\",\"pattern\":\"\\\\bcode\","
        "\"triggers\":[\"code\"],\"anchor\":\"trigger\","
        "\"require_any\":[[\"secret\",\"private\"],[\"today\"]]},"
        "{\"id\":\"open\",\"sms_type\":\"open_type\",\"pattern\":\"\\\\bcode\","
        "\"triggers\":[\"code\"]}]}";
    static const char *const cases[][2] = {
        {"Your private code for today", "gated_type"},
        {"Your SECRET code, valid today only", "gated_type"},
        {"Your secret code", "open_type"},              /* second clause unmet */
        {"Your code for today", "open_type"},           /* first clause unmet */
        {"Your secretive code for today", "open_type"}, /* whole words only */
    };
    (void)state;
    expect_types(cls, cases, sizeof(cases) / sizeof(cases[0]));
    expect_load_error("{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":"
                      "\"account\"},\"rules\":[{\"id\":\"z\",\"sms_type\":\"otp\","
                      "\"pattern\":\"otp\",\"require_any\":[[\"otp\"],\"code\"]}]}",
                      "classification: 'z': require_any: clause 1");
}

/* anchor "each": tried at every occurrence of a trigger word, not only at the first. */
static void test_anchor_each(void **state)
{
    static const char cls[] =
        "{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":\"account\"},"
        "\"rules\":[{\"id\":\"each\",\"sms_type\":\"each_type\","
        "\"pattern\":\"\\\\b(?:code|pin)\\\\s+\\\\d{4}\",\"triggers\":[\"code\",\"pin\"],"
        "\"anchor\":\"each\"}]}";
    /* more occurrences than the scan records: the engine falls back to a search */
    char many[2048];
    size_t n = 0;
    for (int i = 0; i < 300; i++) {
        memcpy(many + n, "code ", 5);
        n += 5;
    }
    memcpy(many + n, "1234", 5);
    const char *const cases[][2] = {
        {"Your code 1234", "each_type"},
        {"A pin is not a code; the PIN 9876 works", "each_type"}, /* third occurrence */
        {"Your code is 1234", "not_in_the_list"},
        {"Your passcode 1234", "not_in_the_list"}, /* not a whole word */
        {many, "each_type"},
    };
    (void)state;
    expect_types(cls, cases, sizeof(cases) / sizeof(cases[0]));
    expect_load_error("{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":"
                      "\"account\"},\"rules\":[{\"id\":\"w\",\"sms_type\":\"otp\","
                      "\"pattern\":\"otp\",\"anchor\":\"each\"}]}",
                      "anchor \"each\" needs triggers");
}

/* "digit_then": the pattern is tried only when a digit is directly followed by one of the
   characters; a bad value is a load error. */
static void test_digit_then(void **state)
{
    static const char cls[] =
        "{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":\"account\"},"
        "\"rules\":[{\"id\":\"dt\",\"sms_type\":\"dt_type\",\"pattern\":\"\\\\d\","
        "\"digit_then\":\"-/\"}]}";
    static const char *const cases[][2] = {
        {"Due on 12/10", "dt_type"},
        {"Ref 7-a", "dt_type"},
        {"Call 5 now", "not_in_the_list"}, /* a digit, but no digit then - or / */
        {"A-1 and /2", "not_in_the_list"}, /* the pair must be digit first */
    };
    (void)state;
    expect_types(cls, cases, sizeof(cases) / sizeof(cases[0]));
    expect_load_error("{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":"
                      "\"account\"},\"rules\":[{\"id\":\"e\",\"sms_type\":\"otp\","
                      "\"pattern\":\"otp\",\"digit_then\":\"\"}]}",
                      "'e': digit_then must hold");
}

/* "then_digit": tried only when one of the characters is directly followed by a digit. */
static void test_then_digit(void **state)
{
    static const char cls[] =
        "{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":\"account\"},"
        "\"rules\":[{\"id\":\"td\",\"sms_type\":\"td_type\",\"pattern\":\"\\\\d\","
        "\"then_digit\":\"x*\"}]}";
    static const char *const cases[][2] = {
        {"A/c XX1234 debited", "td_type"},
        {"Card **9876 used", "td_type"},
        {"Rs 500 debited", "not_in_the_list"}, /* digits, but none after x or * */
        {"Box 5 and 3*", "not_in_the_list"},   /* the pair must be x or * first */
    };
    (void)state;
    expect_types(cls, cases, sizeof(cases) / sizeof(cases[0]));
    expect_load_error("{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":"
                      "\"account\"},\"rules\":[{\"id\":\"e\",\"sms_type\":\"otp\","
                      "\"pattern\":\"otp\",\"then_digit\":\"\"}]}",
                      "'e': then_digit must hold");
}

/* "then": with anchor "each", an occurrence is tried only when the first byte after the
   word and any whitespace is one of the characters. The pattern alone would match every
   body below; the gate is what turns some away. */
static void test_then(void **state)
{
    static const char cls[] =
        "{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":\"account\"},"
        "\"rules\":[{\"id\":\"th\",\"sms_type\":\"th_type\",\"pattern\":\"\\\\bcode\\\\b.*\\\\d\","
        "\"triggers\":[\"code\"],\"anchor\":\"each\",\"then\":\":=\"}]}";
    static const char *const cases[][2] = {
        {"Your code: 1234", "th_type"},
        {"Your code \t\n= 1234", "th_type"},       /* whitespace is skipped */
        {"A code 12, then code:9", "th_type"},     /* the second occurrence passes */
        {"Your code 1234", "not_in_the_list"},     /* next byte is a digit */
        {"Your code is: 1234", "not_in_the_list"}, /* next byte is a letter */
    };
    (void)state;
    expect_types(cls, cases, sizeof(cases) / sizeof(cases[0]));
    expect_load_error("{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":"
                      "\"account\"},\"rules\":[{\"id\":\"e\",\"sms_type\":\"otp\","
                      "\"pattern\":\"otp\",\"triggers\":[\"otp\"],\"then\":\":\"}]}",
                      "'e': then needs anchor \"each\"");
}

/* "then" as an object: each listed trigger word has its own set of next bytes; a word not
   listed is tried at every occurrence. The pattern alone would match every body below. */
static void test_then_words(void **state)
{
    static const char cls[] =
        "{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":\"account\"},"
        "\"rules\":[{\"id\":\"tw\",\"sms_type\":\"tw_type\","
        "\"pattern\":\"\\\\b(?:card|cash|wallet)\\\\b.*\\\\d\","
        "\"triggers\":[\"card\",\"cash\",\"wallet\"],\"anchor\":\"each\","
        "\"then\":{\"card\":\"bp\",\"cash\":\"w\"}}]}";
    static const char *const cases[][2] = {
        {"Card bill of 500", "tw_type"},
        {"Card \t payment 500", "tw_type"},       /* whitespace is skipped */
        {"Cash wdl 500", "tw_type"},              /* its own set */
        {"Wallet: 500", "tw_type"},               /* not listed: every occurrence */
        {"card 12, cash wdl 3", "tw_type"},       /* the second occurrence passes */
        {"Card ending 1234", "not_in_the_list"},  /* e is not in card's set */
        {"Cash back 500", "not_in_the_list"},     /* b is card's, not cash's */
        {"Card 500 cash 300", "not_in_the_list"}, /* digits follow both */
    };
    static const char *const bad[][2] = {
        {"\"anchor\":\"each\",\"then\":{\"bill\":\"x\"}", "'bill' is not one of its trigger"},
        {"\"anchor\":\"each\",\"then\":{\"otp\":\"\"}", "'otp' must hold 1 to 63"},
        {"\"anchor\":\"each\",\"then\":{\"otp\":5}", "'otp' must hold 1 to 63"},
        {"\"anchor\":\"each\",\"then\":{}", "then must list 1 to 255 words"},
        {"\"anchor\":\"trigger\",\"then\":{\"otp\":\":\"}", "then needs anchor \"each\""},
    };
    (void)state;
    expect_types(cls, cases, sizeof(cases) / sizeof(cases[0]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_rule_load_error(bad[i][0], bad[i][1]);
    /* "$" stands for usd: an occurrence of the symbol would be judged by its own byte */
    expect_load_error("{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":"
                      "\"account\"},\"rules\":[{\"id\":\"e\",\"sms_type\":\"otp\","
                      "\"pattern\":\"usd\",\"triggers\":[\"usd\"],\"anchor\":\"each\","
                      "\"then\":{\"usd\":\"1\"}}]}",
                      "'usd' also stands for a symbol");
}

/* "reach": with anchor "trigger", the search starts that many bytes before the first
   trigger word, for a match that ends at its trigger ("pay now", a VPA's "@"). Without it
   the search would start at "now" and miss "pay". */
static void test_reach(void **state)
{
    static const char cls[] =
        "{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":\"account\"},"
        "\"rules\":[{\"id\":\"re\",\"sms_type\":\"re_type\",\"pattern\":\"\\\\bpay\\\\s+now\\\\b\","
        "\"triggers\":[\"now\"],\"anchor\":\"trigger\",\"reach\":5}]}";
    static const char *const cases[][2] = {
        {"Please pay now", "re_type"},
        {"pay now", "re_type"},                           /* reach clipped at the start */
        {"now or later: pay now", "re_type"},             /* found past the first trigger */
        {"Please pay    now", "not_in_the_list"},         /* starts 7 bytes before "now" */
        {"Please pay later, not now", "not_in_the_list"}, /* no match at all */
    };
    static const char *const bad[] = {
        "\"anchor\":\"each\",\"reach\":5", "\"reach\":5", "\"anchor\":\"trigger\",\"reach\":0",
        "\"anchor\":\"trigger\",\"reach\":256", "\"anchor\":\"trigger\",\"reach\":\"5\""};
    (void)state;
    expect_types(cls, cases, sizeof(cases) / sizeof(cases[0]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_rule_load_error(bad[i], "'e': reach must be 1-255, with anchor \"trigger\"");
}

/* Trigger words of every length the scan handles, at chunk edges and inside longer runs. */
static void test_trigger_lengths(void **state)
{
    static const char cls[] =
        "{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":\"account\"},\"rules\":["
        "{\"id\":\"w1\",\"sms_type\":\"len1\",\"pattern\":\"\\\\bq\\\\b\",\"triggers\":[\"q\"]},"
        "{\"id\":\"w8\",\"sms_type\":\"len8\",\"pattern\":\"\\\\bzqxwvuts\\\\b\","
        "\"triggers\":[\"zqxwvuts\"]},"
        "{\"id\":\"w15\",\"sms_type\":\"len15\",\"pattern\":\"\\\\bzqxwvutsrponmlk\\\\b\","
        "\"triggers\":[\"zqxwvutsrponmlk\"]},"
        "{\"id\":\"w16\",\"sms_type\":\"len16\",\"pattern\":\"zqxwvutsrponmlkj\","
        "\"triggers\":[\"zqxwvutsrponmlkj\"]},"
        "{\"id\":\"w31\",\"sms_type\":\"len31\",\"pattern\":"
        "\"\\\\bzqxwvutsrponmlkjihgfedcbazqxwv\\\\b\","
        "\"triggers\":[\"zqxwvutsrponmlkjihgfedcbazqxwv\"]}]}";
    static const char *const cases[][2] = {
        {"Q", "len1"},
        {"see ZQXWVUTS.", "len8"},
        {"zqxwvutsrponmlk", "len15"},
        {"1zqxwvutsrponmlkj2", "len16"}, /* digits end a run (the pattern has no \\b) */
        {"a zqxwvutsrponmlkjihgfedcbazqxwv b", "len31"},
        {"zqxwvutsa qq zqxwvutsrponmlkjx", "not_in_the_list"}, /* longer runs */
        /* a trigger word across the 64-byte boundary of the scan's bitmap */
        {"0123456789012345678901234567890123456789012345678901234567890 zqxwvuts", "len8"},
        {"01234567890123456789012345678901234567890123456789012345678 zqxwvutsrponmlk", "len15"},
    };
    char err[256];
    (void)state;
    expect_types(cls, cases, sizeof(cases) / sizeof(cases[0]));
    /* a symbol must not hold letters: the scan consumes a symbol's bytes */
    assert_int_equal(load_with("{\"format\":1,\"version\":\"t\",\"entities\":[],\"keywords\":{},"
                               "\"symbols\":{\"$x\":\"usd\"}}",
                               NULL, NULL, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "must be non-letters"));
}

/*
 * The body scan has two paths: sixteen bytes at a time when the symbols'
 * first bytes are at most eight (the shipped vocabulary), a byte table when
 * there are more. Both must mark the same symbols and words wherever they
 * fall against the 16- and 64-byte chunks: the shipped vocabulary against one
 * with five more symbols (nine first bytes), on one message at 90 offsets
 * (its amount, currency, VPA party and reference worked out by hand).
 */
static void test_symbol_scan_paths(void **state)
{
    struct fixture *f = *state;
    struct artifacts a;
    struct extract_rules *table_rules = NULL;
    struct extract_record fast, table;
    char err[256], body[512];
    static const char msg[] = "\xe2\x82\xb9 1,234.50 DEBITED from A/c XX1234 to RAVI@okaxis on "
                              "05-12-26 (Ref 612345678901); Avl Bal $20 -- Thanks";
    artifacts_read(&a);
    json_t *vocab = json_loads(a.data[0], 0, NULL);
    assert_non_null(vocab);
    json_t *symbols = json_object_get(vocab, "symbols");
    /* only symbols whose word is a trigger count: the shipped rules read 4 (rupee sign, $, @,
       [), five more make nine first bytes */
    static const char *const more[] = {"~", "^", "`", "|", "="};
    for (size_t k = 0; k < sizeof(more) / sizeof(more[0]); k++)
        json_object_set_new(symbols, more[k], json_string("inr"));
    char *v = json_dumps(vocab, 0);
    assert_int_equal(extract_rules_load(v, strlen(v), a.data[1], a.len[1], a.data[2], a.len[2],
                                        &table_rules, err, sizeof(err)),
                     0);
    struct extract_scratch *table_scratch = extract_scratch_new(table_rules);
    assert_non_null(table_scratch);
    for (size_t pad = 0; pad < 90; pad++) {
        size_t n = 0;
        for (; n < pad; n++)
            body[n] = "Dear CUSTOMER, "[n % 15];
        n += (size_t)snprintf(body + n, sizeof(body) - n, " %s", msg);
        extract_message(f->rules, f->scratch, "VM-TEST", 7, body, n, &fast);
        extract_message(table_rules, table_scratch, "VM-TEST", 7, body, n, &table);
        if (!same_record(&fast, &table))
            fprintf(stderr, "offset %zu: the two scans differ\n", pad);
        assert_true(same_record(&fast, &table));
        assert_true(fast.amount == 1234.50);
        assert_string_equal(fast.currency, "INR");
        assert_string_equal(fast.transaction_party, "RAVI");
        assert_string_equal(fast.reference_no, "612345678901");
    }
    extract_scratch_free(table_scratch);
    extract_rules_free(table_rules);
    free(v);
    json_decref(vocab);
    artifacts_free(&a);
}

/* anchor "each" with more of a pattern's trigger words present than it merges directly
   (32): the engine walks every occurrence instead, and still finds the match. */
static void test_anchor_each_many_words(void **state)
{
    char cls[4096], body[1024];
    size_t n = 0, b = 0;
    (void)state;
    n += (size_t)snprintf(cls + n, sizeof(cls) - n,
                          "{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":"
                          "\"account\"},\"rules\":[{\"id\":\"many\",\"sms_type\":\"many_type\","
                          "\"pattern\":\"\\\\b[a-z]+ 77\",\"anchor\":\"each\",\"triggers\":[");
    for (int i = 0; i < 40; i++) {
        n += (size_t)snprintf(cls + n, sizeof(cls) - n, "%s\"zq%c%c\"", i ? "," : "", 'a' + i / 26,
                              'a' + i % 26);
        b += (size_t)snprintf(body + b, sizeof(body) - b, "zq%c%c ", 'a' + i / 26, 'a' + i % 26);
    }
    snprintf(cls + n, sizeof(cls) - n, "]}]}");
    snprintf(body + b, sizeof(body) - b, "77");
    const char *const cases[][2] = {{body, "many_type"}, {"zqaa zqab 7", "not_in_the_list"}};
    expect_types(cls, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_load_errors(void **state)
{
    char err[256];
    (void)state;
    assert_int_equal(load_with("{not json", NULL, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "vocabulary:"));
    assert_int_equal(load_with("{\"format\":1}", NULL, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "version"));
    assert_int_equal(
        load_with(NULL, NULL,
                  "{\"format\":1,\"version\":\"t\",\"fields\":{\"amount\":[{\"id\":\"broken\","
                  "\"pattern\":\"(?<amount>\\\\d+\"}]}}",
                  err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "regex: 'broken': pattern error"));
    assert_int_equal(load_with(NULL, NULL,
                               "{\"format\":1,\"version\":\"t\",\"fields\":{\"amount\":[{\"id\":"
                               "\"nogroup\",\"pattern\":\"rs\\\\d+\"}]}}",
                               err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "(?<amount>"));
    /* five alternatives naming one group: the engine reads four, so the file is refused */
    assert_int_equal(load_with(NULL, NULL,
                               "{\"format\":1,\"version\":\"t\",\"fields\":{\"amount\":[{\"id\":"
                               "\"five\",\"pattern\":\"a(?<amount>1)|b(?<amount>2)|c(?<amount>3)|"
                               "d(?<amount>4)|e(?<amount>5)\"}]}}",
                               err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "'five': a group name is used by more than 4"));
    assert_int_equal(load_with(NULL,
                               "{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":"
                               "\"account\"},\"rules\":[{\"id\":\"x\",\"sms_type\":\"otp\","
                               "\"pattern\":\"{{nosuchmacro}}\"}]}",
                               NULL, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "classification: 'x': unknown macro"));
    assert_int_equal(load_with(NULL,
                               "{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":"
                               "\"account\"},\"rules\":[{\"id\":\"y\",\"sms_type\":\"otp\","
                               "\"pattern\":\"otp\",\"triggers\":[\"OTP\"]}]}",
                               NULL, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "lower-case"));
    /* the one-transaction bound: a count, a known verb list, lower-case words */
    static const char *const bounds[][2] = {
        {"{\"verbs\":[\"debited\"],\"max_verbs\":0}", "max_verbs 1-16"},
        {"{\"verbs\":[\"debited\"]}", "max_verbs 1-16"},
        {"{\"verbs\":[\"@nosuchlist\"],\"max_verbs\":2}", "verbs: unknown keyword list"},
        {"{\"verbs\":[\"debited\"],\"not_after\":[\"Not\"],\"max_verbs\":2}",
         "not_after 0: a lower-case word"},
        {"{\"verbs\":[\"debited\"],\"not_after\":[\"a\",\"b\",\"c\",\"d\",\"e\"],"
         "\"max_verbs\":2}",
         "at most 4 words"},
    };
    for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
        char cls[512];
        snprintf(cls, sizeof(cls),
                 "{\"format\":1,\"version\":\"t\",\"instruments\":{\"default\":\"account\"},"
                 "\"one_transaction\":%s,\"rules\":[]}",
                 bounds[i][0]);
        assert_int_equal(load_with(NULL, cls, NULL, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "classification: one_transaction"));
        assert_non_null(strstr(err, bounds[i][1]));
    }
}

/* With ../shared present: the labelled dev set must stay above the project's bars. */
static void test_dev_set_floor(void **state)
{
    const char *shared = getenv("SHARED_DIR") ? getenv("SHARED_DIR") : "../shared";
    char path[1024];
    snprintf(path, sizeof(path), "%s/data/sms/cases.jsonl", shared);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        printf("SKIP: ../shared not present (dev-set floor not checked)\n");
        skip();
    }
    char *line = NULL;
    size_t cap = 0;
    int amounts = 0, amount_ok = 0, flagged = 0;
    while (getline(&line, &cap, fp) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        const char *body = json_string_value(json_object_get(o, "body"));
        const char *sender = json_string_value(json_object_get(o, "sender"));
        json_t *want = json_object_get(json_object_get(o, "expected"), "amount");
        struct extract_record rec;
        if (body && json_is_number(want)) {
            run(*state, sender, body, &rec);
            amounts++;
            amount_ok += fabs(json_number_value(want) - rec.amount) < 0.005;
            flagged += rec.is_transactional;
        }
        json_decref(o);
    }
    free(line);
    fclose(fp);
    assert_true(amounts > 200);
    assert_true(amount_ok * 100 >= amounts * 99);
    assert_true(flagged * 100 >= amounts * 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_table),
        cmocka_unit_test(test_batch_same_as_single),
        cmocka_unit_test(test_event_table),
        cmocka_unit_test(test_record_conventions),
        cmocka_unit_test(test_unknown_message),
        cmocka_unit_test(test_body_not_nul_terminated),
        cmocka_unit_test(test_long_body),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_require_any),
        cmocka_unit_test(test_anchor_each),
        cmocka_unit_test(test_digit_then),
        cmocka_unit_test(test_then_digit),
        cmocka_unit_test(test_then),
        cmocka_unit_test(test_then_words),
        cmocka_unit_test(test_reach),
        cmocka_unit_test(test_trigger_lengths),
        cmocka_unit_test(test_symbol_scan_paths),
        cmocka_unit_test(test_anchor_each_many_words),
        cmocka_unit_test(test_dev_set_floor),
        cmocka_unit_test(test_dues_and_limits),
        cmocka_unit_test(test_family_tables),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
