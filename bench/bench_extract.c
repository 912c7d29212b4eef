/* SPDX-License-Identifier: Apache-2.0 */
/*
 * In-process throughput of the extraction engine on one core: messages per
 * second on the labelled dev-set bodies (when ../shared is present) and on a
 * corpus of >= 100,000 distinct bodies generated here from our own templates
 * (deterministic seed), plus resident memory once the rules are loaded.
 *
 *   bench_extract                      run both benchmarks
 *   bench_extract --write-corpus FILE  write the generated corpus as JSONL and exit
 *                                      (bench/npm-parser.sh feeds it to the npm parser)
 *   bench_extract --seconds N          time budget per benchmark (default 2)
 *   bench_extract --passes N           exactly N passes over each corpus (for perf stat)
 *   bench_extract --dev-only           only the dev-set benchmark
 *
 * Messages go through extract_batch, as the daemon sends them; the dev-set
 * run is repeated one message per call (extract_message) as a baseline.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/file.h"
#include "sms-extraction/extract.h"

#define CORPUS_SIZE 100000
#define BODY_MAX 512

struct corpus {
    char **sender;
    char **body;
    size_t *len;
    size_t n, cap;
};

struct bank {
    const char *header;
    const char *name;
};

static const struct bank banks[] = {
    {"VM-HDFCBK", "HDFC Bank"},      {"AD-ICICIB", "ICICI Bank"},  {"JD-SBIINB", "SBI"},
    {"VK-AXISBK", "Axis Bank"},      {"BZ-KOTAKB", "Kotak Bank"},  {"AX-PNBSMS", "PNB"},
    {"VM-BOBTXN", "Bank of Baroda"}, {"CP-CANBNK", "Canara Bank"}, {"JM-YESBNK", "YES BANK"},
    {"AD-IDFCFB", "IDFC FIRST"},     {"VM-INDBNK", "Indian Bank"}, {"TX-UNIONB", "Union Bank"},
    {"AD-FEDBNK", "Federal Bank"},   {"VM-AUBANK", "AU Bank"},     {"JK-RBLBNK", "RBL Bank"},
};

static const char *const merchants[] = {"SHREE GANESH STORES",
                                        "CAFE MOCHA",
                                        "RELIANCE FRESH",
                                        "DMART",
                                        "APOLLO PHARMACY",
                                        "INDIAN OIL",
                                        "HP PETROL PUMP",
                                        "UBER INDIA",
                                        "OLA CABS",
                                        "BOOKMYSHOW",
                                        "ZOMATO",
                                        "SWIGGY",
                                        "AMAZON",
                                        "FLIPKART",
                                        "MYNTRA",
                                        "BLINKIT",
                                        "ZEPTO",
                                        "IRCTC",
                                        "AIRTEL",
                                        "JIO RECHARGE",
                                        "TATA POWER",
                                        "BESCOM",
                                        "MAHANAGAR GAS",
                                        "LENSKART",
                                        "DECATHLON",
                                        "CROMA",
                                        "NYKAA",
                                        "PVR CINEMAS",
                                        "STARBUCKS",
                                        "DOMINOS PIZZA",
                                        "HALDIRAM",
                                        "CHAAYOS",
                                        "MEDPLUS",
                                        "URBAN COMPANY",
                                        "RAPIDO",
                                        "MAKEMYTRIP",
                                        "GOIBIBO",
                                        "SAI KIRANA MART",
                                        "NEW LAXMI HOTEL",
                                        "METRO CASH"};

static const char *const people[] = {"RAMESH KUMAR", "PRIYA SHARMA",  "ANIL GUPTA",
                                     "SUNITA DEVI",  "MOHD IRFAN",    "KAVYA NAIR",
                                     "ARJUN REDDY",  "POOJA PATEL",   "VIKRAM SINGH",
                                     "NEHA JOSHI",   "SURESH BABU K", "FATIMA SHAIKH"};

static const char *const handles[] = {"okicici", "oksbi",      "ybl", "paytm",
                                      "axl",     "okhdfcbank", "ibl"};
static const char *const months[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

/*
 * Message shapes in our own wording. Placeholders: {A} amount, {B} balance,
 * {N} account tail, {M} merchant, {P} person, {V} VPA, {D} date, {T} time,
 * {R} 12-digit reference, {K} bank name, {O} OTP, {L} limit.
 */
static const char *const shapes[] = {
    "Rs.{A} debited from A/c XX{N} on {D} to VPA {V} UPI Ref {R}. Avl Bal Rs.{B} -{K}",
    "INR {A} spent on {K} Credit Card XX{N} at {M} on {D} {T}. Avl Limit: INR {L}",
    "Your A/c XX{N} is credited with Rs {A} on {D} by {P}. IMPS Ref No {R}. Bal: Rs {B}",
    "Dear Customer, Rs {A} has been debited from your account ending {N} towards {M} on {D}. "
    "Available balance Rs {B}.",
    "Sent Rs.{A} from {K} A/c *{N} to {P} on {D}. UPI Ref: {R}. Not you? Call the bank.",
    "Received Rs.{A} in your {K} account XX{N} from {V} on {D}. Ref {R}.",
    "Rs {A} withdrawn at ATM near {M} from A/c X{N} on {D} {T}. Bal Rs {B}",
    "Salary of INR {A} credited to your A/c XX{N} on {D}. Available Bal INR {B}. -{K}",
    "{O} is the OTP for your transaction of Rs {A} at {M}. Valid 10 mins. Do not share it.",
    "Grab {A2}% cashback on {M} orders with {K} cards! Offer valid till {D}. T&C apply.",
    "Reminder: your {K} credit card bill of Rs {A} is due on {D}. Min due Rs {B}. Pay now.",
    "Your {K} card statement is generated. Total Amt Due Rs {A}, Min Amt Due Rs {B}, due by {D}.",
    "Txn of Rs {A} at {M} on your {K} card XX{N} declined due to insufficient funds.",
    "Rs {A} will be debited from your a/c XX{N} on {D} for {M} subscription via e-mandate.",
    "Available balance in your A/c XX{N} is Rs {B} as on {D} {T}. -{K}",
    "Refund of Rs {A} from {M} has been credited to your {K} A/c XX{N} on {D}.",
    "{P} has sent a collect request of Rs {A} via UPI. Approve or decline in your app.",
    "Your loan of Rs {A} has been disbursed to A/c XX{N} on {D}. EMI starts next month. -{K}",
    "NEFT credit of INR {A} received in A/c XX{N} from {P} UTR {K4}{R}. Bal INR {B}",
    "{K}: A/c XX{N} debited Rs {A} on {D} for NACH {M}. Avl Bal Rs {B}.",
    "Cheque no {O} for Rs {A} returned unpaid. Charges of Rs 590 will apply. -{K}",
    "Payment of Rs {A} received towards your {K} Credit Card XX{N}. Thank you.",
    "Acct XX{N} debited for Rs {A} on {D}; {M} credited. UPI:{R}. Call us if not you.",
    "Paid Rs.{A} to {M} using wallet. Updated wallet balance Rs.{B}. Txn ID {R}",
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static size_t pick(size_t n)
{
    return (size_t)(rng() % n);
}

struct out {
    char *p;
    size_t len, cap;
};

static void put(struct out *o, const char *s)
{
    size_t n = strlen(s);
    if (o->len + n >= o->cap)
        n = o->cap - o->len - 1;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void put_money(struct out *o, int big)
{
    char b[32];
    unsigned long r = (unsigned long)(rng() % (big ? 250000 : 25000)) + 1;
    if (rng() % 3)
        snprintf(b, sizeof(b), "%lu.%02lu", r, (unsigned long)(rng() % 100));
    else if (r >= 1000 && rng() % 2)
        snprintf(b, sizeof(b), "%lu,%03lu.00", r / 1000, r % 1000);
    else
        snprintf(b, sizeof(b), "%lu", r);
    put(o, b);
}

static void put_placeholder(struct out *o, char c, char d)
{
    char b[64];
    const struct bank *bk = &banks[pick(sizeof(banks) / sizeof(banks[0]))];
    switch (c) {
    case 'A':
        if (d == '2')
            snprintf(b, sizeof(b), "%d", (int)(5 + pick(45)));
        else {
            put_money(o, 0);
            return;
        }
        break;
    case 'B':
    case 'L':
        put_money(o, 1);
        return;
    case 'N':
        snprintf(b, sizeof(b), "%04d", (int)pick(10000));
        break;
    case 'M':
        snprintf(b, sizeof(b), "%s", merchants[pick(sizeof(merchants) / sizeof(merchants[0]))]);
        break;
    case 'P':
        snprintf(b, sizeof(b), "%s", people[pick(sizeof(people) / sizeof(people[0]))]);
        break;
    case 'V':
        snprintf(b, sizeof(b), "%s%d@%s", pick(2) ? "shop" : "user", (int)pick(100000),
                 handles[pick(sizeof(handles) / sizeof(handles[0]))]);
        break;
    case 'D':
        if (pick(2))
            snprintf(b, sizeof(b), "%02d-%02d-%02d", (int)(1 + pick(28)), (int)(1 + pick(12)),
                     (int)(23 + pick(4)));
        else
            snprintf(b, sizeof(b), "%02d-%s-%d", (int)(1 + pick(28)), months[pick(12)],
                     (int)(2023 + pick(4)));
        break;
    case 'T':
        snprintf(b, sizeof(b), "%02d:%02d:%02d", (int)pick(24), (int)pick(60), (int)pick(60));
        break;
    case 'R':
        snprintf(b, sizeof(b), "%06d%06d", (int)pick(1000000), (int)pick(1000000));
        break;
    case 'K':
        snprintf(b, sizeof(b), "%s", d == '4' ? "NEFTN" : bk->name);
        break;
    case 'O':
        snprintf(b, sizeof(b), "%06d", (int)pick(1000000));
        break;
    default:
        b[0] = '\0';
    }
    put(o, b);
}

static void generate(char *buf, size_t cap, const char **sender)
{
    const char *shape = shapes[pick(sizeof(shapes) / sizeof(shapes[0]))];
    struct out o = {buf, 0, cap};
    buf[0] = '\0';
    *sender = banks[pick(sizeof(banks) / sizeof(banks[0]))].header;
    for (const char *s = shape; *s;) {
        if (s[0] == '{') {
            const char *close = strchr(s, '}');
            put_placeholder(&o, s[1], close && close - s > 2 ? s[2] : 0);
            s = close ? close + 1 : s + 1;
        } else {
            char one[2] = {*s++, 0};
            put(&o, one);
        }
    }
}

static void corpus_add(struct corpus *c, const char *sender, const char *body)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->sender = realloc(c->sender, c->cap * sizeof(char *));
        c->body = realloc(c->body, c->cap * sizeof(char *));
        c->len = realloc(c->len, c->cap * sizeof(size_t));
        if (!c->sender || !c->body || !c->len)
            abort();
    }
    c->sender[c->n] = strdup(sender ? sender : "");
    c->body[c->n] = strdup(body);
    if (!c->sender[c->n] || !c->body[c->n])
        abort();
    c->len[c->n] = strlen(body);
    c->n++;
}

static void corpus_free(struct corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->sender[i]);
        free(c->body[i]);
    }
    free(c->sender);
    free(c->body);
    free(c->len);
    memset(c, 0, sizeof(*c));
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* >= CORPUS_SIZE distinct bodies; duplicates (by 64-bit hash) are skipped. */
static void generate_corpus(struct corpus *c)
{
    size_t slots = 1 << 18;
    uint64_t *seen = calloc(slots, sizeof(uint64_t));
    char body[BODY_MAX];
    const char *sender;

    if (!seen)
        abort();
    while (c->n < CORPUS_SIZE) {
        generate(body, sizeof(body), &sender);
        uint64_t h = hash_str(body) | 1;
        size_t i = h & (slots - 1);
        while (seen[i] && seen[i] != h)
            i = (i + 1) & (slots - 1);
        if (seen[i] == h)
            continue;
        seen[i] = h;
        corpus_add(c, sender, body);
    }
    free(seen);
}

static int load_dev(const char *dir, struct corpus *c)
{
    const char *files[] = {"cases.jsonl", "aux.jsonl"};
    for (int f = 0; f < 2; f++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/data/sms/%s", dir, files[f]);
        FILE *fp = fopen(path, "r");
        if (!fp)
            return -1;
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, fp) > 0) {
            json_t *o = json_loads(line, 0, NULL);
            const char *body = json_string_value(json_object_get(o, "body"));
            if (body)
                corpus_add(c, json_string_value(json_object_get(o, "sender")), body);
            json_decref(o);
        }
        free(line);
        fclose(fp);
    }
    return 0;
}

static void memory(const char *when)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256], rss[256] = "?", hwm[256] = "?";
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            snprintf(rss, sizeof(rss), "%s", line + 6);
        if (strncmp(line, "VmHWM:", 6) == 0)
            snprintf(hwm, sizeof(hwm), "%s", line + 6);
    }
    fclose(f);
    rss[strcspn(rss, "\n")] = '\0';
    hwm[strcspn(hwm, "\n")] = '\0';
    printf("memory %-28s VmRSS %s   VmHWM %s\n", when, rss, hwm);
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this thread: what one core spent, even when the machine is shared. */
static double cpu_now(void)
{
    return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static int fixed_passes; /* --passes N: run exactly N passes (for perf stat) */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int one_at_a_time; /* extract_message per message instead of extract_batch */

/*
 * One pass over the corpus; returns how many records were transactional.
 * Batches go through extract_batch as the daemon sends a request's messages.
 */
static size_t pass(const struct extract_rules *rules, struct extract_scratch *sc,
                   const struct corpus *c, size_t *classified)
{
    struct extract_input in[EXTRACT_BATCH];
    static struct extract_record rec[EXTRACT_BATCH];
    size_t tx = 0;
    for (size_t i = 0; i < c->n; i += EXTRACT_BATCH) {
        size_t k = c->n - i < EXTRACT_BATCH ? c->n - i : EXTRACT_BATCH;
        for (size_t j = 0; j < k; j++) {
            in[j] = (struct extract_input){c->sender[i + j], strlen(c->sender[i + j]),
                                           c->body[i + j], c->len[i + j]};
            if (one_at_a_time)
                extract_message(rules, sc, in[j].sender, in[j].sender_len, in[j].body,
                                in[j].body_len, &rec[j]);
        }
        if (!one_at_a_time)
            extract_batch(rules, sc, in, k, rec);
        for (size_t j = 0; j < k; j++) {
            tx += rec[j].is_transactional;
            *classified += rec[j].is_classified;
        }
    }
    return tx;
}

/*
 * Rounds of whole passes, each >= 50 ms; per round the thread's CPU time per
 * message. The median round is the figure to quote; the best round shows the
 * engine with the least interference from other work on the machine.
 */
static void run(const char *title, const struct extract_rules *rules, struct extract_scratch *sc,
                const struct corpus *c, double budget)
{
    enum { MAX_ROUNDS = 256 };
    double ns[MAX_ROUNDS];
    size_t rounds = 0, done = 0, tx = 0, classified = 0;

    double w0 = now();
    pass(rules, sc, c, &classified); /* warm-up, also sizes a round */
    double one = now() - w0;
    int per_round = fixed_passes ? fixed_passes : (int)(0.05 / (one > 0 ? one : 1e-6)) + 1;
    classified = 0;
    double t0 = now(), c0 = cpu_now(), t1;
    do {
        double r0 = cpu_now();
        for (int k = 0; k < per_round; k++)
            tx += pass(rules, sc, c, &classified);
        ns[rounds++] = (cpu_now() - r0) * 1e9 / ((double)c->n * per_round);
        done += c->n * (size_t)per_round;
        t1 = now();
    } while (!fixed_passes && rounds < MAX_ROUNDS && t1 - t0 < budget);
    double cpu = cpu_now() - c0;
    qsort(ns, rounds, sizeof(double), cmp_double);
    double median = ns[rounds / 2];
    printf("%s: %zu msgs in %zu rounds, %.1f%% classified, %.1f%% transactional\n", title, done,
           rounds, 100.0 * (double)classified / (double)done, 100.0 * (double)tx / (double)done);
    printf("  one core, CPU time, median round : %10.0f messages/s  (%.0f ns/msg)\n", 1e9 / median,
           median);
    printf("  one core, CPU time, best round   : %10.0f messages/s  (%.0f ns/msg)\n", 1e9 / ns[0],
           ns[0]);
    printf("  one core, CPU time, all rounds   : %10.0f messages/s  (%.2fs CPU)\n",
           (double)done / cpu, cpu);
    printf("  wall clock, all rounds           : %10.0f messages/s  (%.2fs; lower when the "
           "machine is shared)\n",
           (double)done / (t1 - t0), t1 - t0);
}

static int write_corpus(const char *path)
{
    struct corpus c = {0};
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_extract: cannot write %s\n", path);
        return 1;
    }
    generate_corpus(&c);
    for (size_t i = 0; i < c.n; i++) {
        json_t *o = json_pack("{s:s,s:s}", "sender", c.sender[i], "body", c.body[i]);
        char *s = json_dumps(o, JSON_COMPACT);
        fprintf(f, "%s\n", s);
        free(s);
        json_decref(o);
    }
    fclose(f);
    printf("wrote %zu distinct bodies to %s\n", c.n, path);
    corpus_free(&c);
    return 0;
}

static struct extract_rules *load_rules(void)
{
    const char *paths[3] = {"sms-extraction/rules/vocabulary.json",
                            "sms-extraction/rules/classification.json",
                            "sms-extraction/rules/regex.json"};
    char *data[3] = {0};
    size_t len[3] = {0};
    char err[512];
    struct extract_rules *rules = NULL;
    for (int i = 0; i < 3; i++) {
        if (!(data[i] = file_read(paths[i], 0, &len[i], NULL, 0))) {
            fprintf(stderr, "bench_extract: cannot read %s (run from the repo root)\n", paths[i]);
            goto out;
        }
    }
    if (extract_rules_load(data[0], len[0], data[1], len[1], data[2], len[2], &rules, err,
                           sizeof(err)) < 0)
        fprintf(stderr, "bench_extract: %s\n", err);
out:
    for (int i = 0; i < 3; i++)
        free(data[i]);
    return rules;
}

int main(int argc, char **argv)
{
    double budget = 2.0;
    int dev_only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--write-corpus") == 0 && i + 1 < argc)
            return write_corpus(argv[i + 1]);
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            budget = strtod(argv[++i], NULL);
        if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
            fixed_passes = (int)strtol(argv[++i], NULL, 10);
        if (strcmp(argv[i], "--dev-only") == 0)
            dev_only = 1;
    }
    memory("at start");
    struct extract_rules *rules = load_rules();
    if (!rules)
        return 1;
    struct extract_scratch *sc = extract_scratch_new(rules);
    if (!sc)
        return 1;
    memory("after loading the rules");
    printf("rules: %s\n", extract_rules_version(rules));

    const char *shared = getenv("SHARED_DIR") ? getenv("SHARED_DIR") : "../shared";
    struct corpus dev = {0};
    if (load_dev(shared, &dev) == 0) {
        run("dev-set bodies (cases + aux)", rules, sc, &dev, budget);
        one_at_a_time = 1; /* the baseline: what the batch buys */
        run("dev-set bodies, one message per call (extract_message)", rules, sc, &dev, budget);
        one_at_a_time = 0;
    } else
        printf("SKIP: %s not present: dev-set benchmark skipped\n", shared);
    corpus_free(&dev);

    struct corpus gen = {0};
    if (dev_only)
        goto out;
    generate_corpus(&gen);
    char title[64];
    snprintf(title, sizeof(title), "generated corpus (%zu distinct bodies)", gen.n);
    run(title, rules, sc, &gen, budget);
    corpus_free(&gen);
out:
    memory("at end");
    extract_scratch_free(sc);
    extract_rules_free(rules);
    return 0;
}
