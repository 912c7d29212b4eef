/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smsx-extract: run the extraction engine on messages from stdin, without the
 * daemon. Data scientists use it to see what the rules make of a set of
 * messages; rule authors use it to iterate on the artifacts.
 *
 *   smsx-extract [--vocabulary F] [--classification F] [--regex F] < in.jsonl
 *   smsx-extract --check-gates [...] < in.jsonl
 *   smsx-extract --rule-stats [...] < rows.jsonl
 *   smsx-extract --pattern-cost [...] < in.jsonl
 *
 * Each input line is {"sender": "...", "body": "...", "sms_id": optional};
 * each output line is the record the service would return for it. Rules come
 * from sms-extraction/rules/ unless given (plain JSON files).
 *
 * --check-gates prints, instead, each pattern whose gates or anchor changed
 * its result on some body (a gate is a promise about every match; see
 * docs/rules.md) with how many bodies, and exits 1 when there is any.
 *
 * --rule-stats applies the rule admission policy (docs/rules.md): input rows
 * carry a "source" ("owner/project@rev:path/File.kt" for the dev set,
 * "fixture:<file>" for our own fixtures). Per pattern it prints the dev rows
 * it decided something on, from how many projects and, at most, how many
 * test files of one project, and the fixture rows and banks; a pattern must
 * fire on dev rows of >= 2 projects or of >= 3 test files of one project, or
 * be one of at most 15 listed "fixture_only" exceptions backed by fixtures of
 * >= 3 banks. Exits 1 when one is not.
 *
 * --pattern-cost prints, per pattern, the time it takes per body when tried as
 * the engine tries it (an upper bound: the engine stops at the first match),
 * most expensive first: where to look when the engine got slower.
 */
#include <errno.h>

#include "common/alloc.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "common/json_writer.h"
#include "sms-extraction/extract.h"
#include "sms-extraction/request.h"
#include "sms-extraction/response.h"

#define MAX_RULES_BYTES (16u << 20)

static struct extract_rules *load_rules(const char *paths[3], char *err, size_t err_len)
{
    char *data[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0};
    struct extract_rules *rules = NULL;

    for (int i = 0; i < 3; i++)
        if (!(data[i] = file_read(paths[i], MAX_RULES_BYTES, &len[i], err, err_len)))
            goto out;
    extract_rules_load(data[0], len[0], data[1], len[1], data[2], len[2], &rules, err, err_len);
out:
    for (int i = 0; i < 3; i++)
        free(data[i]);
    return rules;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: smsx-extract [--check-gates | --rule-stats | --pattern-cost] [--vocabulary F] "
            "[--classification F] [--regex F] < messages.jsonl\n"
            "  input lines:  {\"sender\": \"VM-HDFCBK\", \"body\": \"...\"}\n"
            "  output lines: one extraction record each, or with --check-gates the\n"
            "  patterns whose gates changed their result on some body\n"
            "  --rule-stats: rows with a \"source\"; per pattern the dev rows, projects\n"
            "  and fixture banks it fires on, against the rule admission policy\n");
}

enum mode { MODE_EXTRACT, MODE_CHECK_GATES, MODE_RULE_STATS, MODE_PATTERN_COST };

static int parse_args(int argc, char **argv, const char *paths[3], enum mode *mode)
{
    static const char *const flags[3] = {"--vocabulary", "--classification", "--regex"};
    for (int i = 1; i < argc; i++) {
        int k = -1;
        if (strcmp(argv[i], "--check-gates") == 0 || strcmp(argv[i], "--rule-stats") == 0 ||
            strcmp(argv[i], "--pattern-cost") == 0) {
            *mode = argv[i][2] == 'c'   ? MODE_CHECK_GATES
                    : argv[i][2] == 'r' ? MODE_RULE_STATS
                                        : MODE_PATTERN_COST;
            continue;
        }
        for (int f = 0; f < 3; f++)
            if (strcmp(argv[i], flags[f]) == 0)
                k = f;
        if (k < 0 || i + 1 >= argc)
            return -1;
        paths[k] = argv[++i];
    }
    return 0;
}

/* --check-gates: bodies on which each pattern's gates changed its result. */
struct gate_counts {
    const char *id[512];
    long bodies[512];
    size_t n;
};

static void count_gate(const char *pattern_id, void *arg)
{
    struct gate_counts *c = arg;
    size_t i = 0;
    while (i < c->n && strcmp(c->id[i], pattern_id) != 0)
        i++;
    if (i == c->n && c->n < sizeof(c->id) / sizeof(c->id[0]))
        c->id[c->n++] = pattern_id;
    if (i < c->n)
        c->bodies[i]++;
}

static int check_gates(const struct extract_rules *rules, struct extract_scratch *scratch)
{
    struct gate_counts counts = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lines = 0, lineno = 0;

    while ((n = getline(&line, &cap, stdin)) > 0) {
        json_error_t jerr;
        lineno++;
        if (n == 1 && line[0] == '\n')
            continue;
        json_t *in = json_loadb(line, (size_t)n, 0, &jerr);
        const json_t *body = json_object_get(in, "body");
        if (json_is_string(body)) {
            extract_check_gates(rules, scratch, json_string_value(body), json_string_length(body),
                                count_gate, &counts);
            lines++;
        } else {
            fprintf(stderr,
                    "smsx-extract: line %ld: not an object with a string \"body\", skipped\n",
                    lineno);
        }
        json_decref(in);
    }
    free(line);
    printf("check-gates: %ld bodies, %zu patterns whose gates changed a result\n", lines, counts.n);
    for (size_t i = 0; i < counts.n; i++)
        printf("  %-40s %ld bodies\n", counts.id[i], counts.bodies[i]);
    return counts.n ? 1 : 0;
}

/* ---- --rule-stats --------------------------------------------------------- */

#define ADMIT_PROJECTS 2       /* dev rows of this many projects admit a pattern */
#define ADMIT_FILES 3          /* ... or of this many test files of one project */
#define FIXTURE_BANKS 3        /* an exception needs fixtures of this many banks */
#define MAX_FIXTURE_ONLY 15    /* exceptions allowed */
#define STATS_MAX_PATTERNS 512 /* patterns of one rule set */
#define STATS_MAX_KEYS 256     /* distinct projects, files or banks per pattern */

/* A set of short strings (projects, files, banks), kept small and searched linearly. */
struct strset {
    char *s[STATS_MAX_KEYS];
    size_t n;
};

static void strset_add(struct strset *set, const char *s, size_t len)
{
    for (size_t i = 0; i < set->n; i++)
        if (strlen(set->s[i]) == len && memcmp(set->s[i], s, len) == 0)
            return;
    if (set->n < STATS_MAX_KEYS && (set->s[set->n] = strndup(s, len)) != NULL)
        set->n++;
}

static void strset_free(struct strset *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->s[i]);
    set->n = 0;
}

struct pattern_stats {
    const char *id, *what, *fixture_only;
    long rows, fixture_rows;
    struct strset projects, files, banks; /* files: "project\tfile" */
};

struct rule_stats {
    struct pattern_stats p[STATS_MAX_PATTERNS];
    size_t n;
    long dev_rows, fixture_rows;
    struct strset projects;
};

static void stats_pattern(const char *id, const char *what, const char *fixture_only, void *arg)
{
    struct rule_stats *st = arg;
    if (st->n < STATS_MAX_PATTERNS)
        st->p[st->n++] =
            (struct pattern_stats){.id = id, .what = what, .fixture_only = fixture_only};
}

static struct pattern_stats *stats_find(struct rule_stats *st, const char *id)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->p[i].id == id || strcmp(st->p[i].id, id) == 0)
            return &st->p[i];
    return NULL;
}

/* One row's record and trace: credit every pattern that decided part of it. */
static void stats_row(struct rule_stats *st, const char *source, const struct extract_record *rec,
                      const struct extract_trace *tr)
{
    bool fixture = strncmp(source, "fixture:", 8) == 0;
    size_t project = strcspn(source, "@");
    const char *colon = strchr(source, ':');
    const char *file = colon ? strrchr(colon, '/') : NULL;
    file = file ? file + 1 : (colon ? colon + 1 : source);
    char key[512];
    snprintf(key, sizeof(key), "%.*s\t%s", (int)project, source, file);
    const char *bank = rec->sender_name ? rec->sender_name : rec->sender;

    if (fixture)
        st->fixture_rows++;
    else {
        st->dev_rows++;
        strset_add(&st->projects, source, project);
    }
    for (size_t k = 0; k < tr->n; k++) {
        struct pattern_stats *p = stats_find(st, tr->id[k]);
        if (!p)
            continue;
        if (fixture) {
            p->fixture_rows++;
            strset_add(&p->banks, bank, strlen(bank));
            continue;
        }
        p->rows++;
        strset_add(&p->projects, source, project);
        strset_add(&p->files, key, strlen(key));
    }
}

/* The most test files of one project among p's. */
static size_t stats_files_of_one_project(const struct pattern_stats *p)
{
    size_t best = 0;
    for (size_t i = 0; i < p->files.n; i++) {
        size_t plen = strcspn(p->files.s[i], "\t"), n = 0;
        for (size_t j = 0; j < p->files.n; j++)
            n += strncmp(p->files.s[i], p->files.s[j], plen + 1) == 0;
        best = n > best ? n : best;
    }
    return best;
}

/* The verdict on one pattern; *bad set when it breaks the policy. */
static const char *stats_verdict(const struct pattern_stats *p, size_t *exceptions, bool *bad)
{
    bool admitted = p->projects.n >= ADMIT_PROJECTS || stats_files_of_one_project(p) >= ADMIT_FILES;
    if (admitted && p->fixture_only) {
        *bad = true;
        return "ADMITTED BY DEV ROWS: drop its fixture_only";
    }
    if (admitted)
        return "ok";
    if (!p->fixture_only) {
        *bad = true;
        return "UNDER THE BAR";
    }
    (*exceptions)++;
    if (p->banks.n < FIXTURE_BANKS) {
        *bad = true;
        return "EXCEPTION WITHOUT FIXTURES OF 3 BANKS";
    }
    return "fixture-only exception";
}

static int stats_report(struct rule_stats *st)
{
    size_t exceptions = 0, under = 0;
    printf("rule-stats: %ld dev rows of %zu projects, %ld fixture rows\n", st->dev_rows,
           st->projects.n, st->fixture_rows);
    printf("%-36s %-16s %5s %8s %5s %8s %5s  %s\n", "pattern", "what", "rows", "projects", "files",
           "fixtures", "banks", "verdict");
    for (size_t i = 0; i < st->n; i++) {
        struct pattern_stats *p = &st->p[i];
        bool bad = false;
        const char *v = stats_verdict(p, &exceptions, &bad);
        under += bad;
        printf("%-36s %-16s %5ld %8zu %5zu %8ld %5zu  %s%s%s\n", p->id, p->what, p->rows,
               p->projects.n, stats_files_of_one_project(p), p->fixture_rows, p->banks.n, v,
               p->fixture_only ? ": " : "", p->fixture_only ? p->fixture_only : "");
        strset_free(&p->projects);
        strset_free(&p->files);
        strset_free(&p->banks);
    }
    strset_free(&st->projects);
    printf("rule-stats: %zu patterns, %zu breaking the policy, %zu fixture-only exceptions (at "
           "most %d)\n",
           st->n, under, exceptions, MAX_FIXTURE_ONLY);
    return under || exceptions > MAX_FIXTURE_ONLY || st->dev_rows == 0 ? 1 : 0;
}

/* Rows of stdin in batches, each record's trace credited to its patterns. */
static int rule_stats(const struct extract_rules *rules, struct extract_scratch *scratch)
{
    struct rule_stats *st = calloc(1, sizeof(*st));
    json_t *rows[EXTRACT_BATCH];
    struct extract_input in[EXTRACT_BATCH];
    struct extract_record rec[EXTRACT_BATCH];
    struct extract_trace tr[EXTRACT_BATCH];
    size_t n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    bool eof = false;

    if (!st)
        abort();
    extract_patterns(rules, stats_pattern, st);
    while (!eof) {
        eof = (len = getline(&line, &cap, stdin)) <= 0;
        lineno++;
        json_t *row = eof ? NULL : json_loadb(line, (size_t)len, 0, NULL);
        const char *source = json_string_value(json_object_get(row, "source"));
        const json_t *body = json_object_get(row, "body");
        const json_t *sender = json_object_get(row, "sender");
        if (!eof && (!source || !json_is_string(body)))
            fprintf(stderr, "smsx-extract: line %ld: no string \"source\" and \"body\", skipped\n",
                    lineno);
        if (!eof && source && json_is_string(body)) {
            in[n] = (struct extract_input){json_string_value(sender), json_string_length(sender),
                                           json_string_value(body), json_string_length(body)};
            rows[n++] = row;
        } else {
            json_decref(row);
        }
        if (n == EXTRACT_BATCH || (eof && n)) {
            extract_batch_traced(rules, scratch, in, n, rec, tr);
            for (size_t i = 0; i < n; i++) {
                stats_row(st, json_string_value(json_object_get(rows[i], "source")), &rec[i],
                          &tr[i]);
                json_decref(rows[i]);
            }
            n = 0;
        }
    }
    free(line);
    int rc = stats_report(st);
    free(st);
    return rc;
}

/* ---- --pattern-cost -------------------------------------------------------- */

struct cost_table {
    const char *id[STATS_MAX_PATTERNS];
    double cost[STATS_MAX_PATTERNS], best[3][STATS_MAX_PATTERNS];
    size_t n;
};

static void cost_pattern(const char *id, const char *what, const char *fixture_only, void *arg)
{
    struct cost_table *t = arg;
    (void)what;
    (void)fixture_only;
    if (t->n < STATS_MAX_PATTERNS)
        t->id[t->n++] = id;
}

static int by_cost(const void *a, const void *b)
{
    double x = **(const double *const *)a, y = **(const double *const *)b;
    return (x < y) - (x > y);
}

/* One body: each pattern's least time of three runs (a preempted run does not count). */
static void cost_body(const struct extract_rules *rules, struct extract_scratch *scratch,
                      const json_t *body, struct cost_table *t)
{
    for (int r = 0; r < 3; r++) {
        memset(t->best[r], 0, sizeof(t->best[r]));
        extract_pattern_cost(rules, scratch, json_string_value(body), json_string_length(body),
                             t->best[r]);
    }
    for (size_t i = 0; i < t->n; i++) {
        double m = t->best[0][i] < t->best[1][i] ? t->best[0][i] : t->best[1][i];
        t->cost[i] += m < t->best[2][i] ? m : t->best[2][i];
    }
}

/* Per pattern the time it takes per body, most expensive first. */
static int pattern_cost(const struct extract_rules *rules, struct extract_scratch *scratch)
{
    struct cost_table *t = calloc(1, sizeof(*t));
    const double *order[STATS_MAX_PATTERNS];
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long bodies = 0;
    double total = 0;

    if (!t)
        abort();
    extract_patterns(rules, cost_pattern, t);
    while ((len = getline(&line, &cap, stdin)) > 0) {
        json_t *row = json_loadb(line, (size_t)len, 0, NULL);
        const json_t *body = json_object_get(row, "body");
        if (json_is_string(body)) {
            cost_body(rules, scratch, body, t);
            bodies++;
        }
        json_decref(row);
    }
    free(line);
    for (size_t i = 0; i < t->n; i++) {
        order[i] = &t->cost[i];
        total += t->cost[i];
    }
    qsort(order, t->n, sizeof(order[0]), by_cost);
    printf("pattern-cost: %ld bodies, %.0f per body in all (cycles on x86, else ns)\n", bodies,
           bodies ? total / (double)bodies : 0.0);
    for (size_t i = 0; i < t->n && bodies; i++)
        printf("  %-36s %8.0f %5.1f%%\n", t->id[order[i] - t->cost], *order[i] / (double)bodies,
               total > 0 ? 100.0 * *order[i] / total : 0.0);
    free(t);
    return 0;
}

/* Up to EXTRACT_BATCH parsed lines, extracted together as the daemon does. */
struct batch {
    json_t *json[EXTRACT_BATCH];
    struct request_sms sms[EXTRACT_BATCH];
    struct extract_input in[EXTRACT_BATCH];
    struct extract_record rec[EXTRACT_BATCH];
    size_t n;
};

static void flush(const struct extract_rules *rules, struct extract_scratch *scratch,
                  struct json_writer *w, struct batch *b)
{
    extract_batch(rules, scratch, b->in, b->n, b->rec);
    for (size_t i = 0; i < b->n; i++) {
        json_writer_reset(w);
        response_record(w, RESPONSE_PUBLIC, &b->sms[i], &b->rec[i]);
        if (json_writer_ok(w)) {
            size_t out_len;
            const char *out = json_writer_data(w, &out_len);
            fwrite(out, 1, out_len, stdout);
            fputc('\n', stdout);
        }
        json_decref(b->json[i]);
    }
    b->n = 0;
}

static void add_line(struct batch *b, const char *line, size_t len, long lineno)
{
    json_error_t jerr;
    json_t *in = json_loadb(line, len, 0, &jerr);
    struct request_sms *sms = &b->sms[b->n];

    if (!json_is_object(in)) {
        fprintf(stderr, "smsx-extract: line %ld: not a JSON object, skipped\n", lineno);
        json_decref(in);
        return;
    }
    memset(sms, 0, sizeof(*sms));
    const json_t *id = json_object_get(in, "sms_id");
    snprintf(sms->id_buf, sizeof(sms->id_buf), "%ld", lineno);
    sms->sms_id = json_is_string(id) ? json_string_value(id) : sms->id_buf;
    const json_t *sender = json_object_get(in, "sender");
    const json_t *body = json_object_get(in, "body");
    sms->sender = json_string_value(sender);
    sms->sender_len = json_string_length(sender);
    sms->body = json_is_string(body) ? json_string_value(body) : "";
    sms->body_len = json_string_length(body);
    snprintf(sms->inbox_date, sizeof(sms->inbox_date), "1970-01-01 05:30:00");
    b->in[b->n] = (struct extract_input){sms->sender, sms->sender_len, sms->body, sms->body_len};
    b->json[b->n++] = in;
}

int main(int argc, char **argv)
{
    const char *paths[3] = {"sms-extraction/rules/vocabulary.json",
                            "sms-extraction/rules/classification.json",
                            "sms-extraction/rules/regex.json"};
    char err[512];
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    struct json_writer w;

    enum mode mode = MODE_EXTRACT;
    if (parse_args(argc, argv, paths, &mode) < 0) {
        usage();
        return 2;
    }
    struct extract_rules *rules = load_rules(paths, err, sizeof(err));
    if (!rules) {
        fprintf(stderr, "smsx-extract: %s\n", err);
        return 1;
    }
    struct extract_scratch *scratch = extract_scratch_new(rules);
    if (!scratch) {
        fprintf(stderr, "smsx-extract: out of memory\n");
        extract_rules_free(rules);
        return 1;
    }
    if (mode != MODE_EXTRACT) {
        int rc = mode == MODE_CHECK_GATES  ? check_gates(rules, scratch)
                 : mode == MODE_RULE_STATS ? rule_stats(rules, scratch)
                                           : pattern_cost(rules, scratch);
        extract_scratch_free(scratch);
        extract_rules_free(rules);
        return rc;
    }
    struct batch *b = alloc_zeroed(1, sizeof(*b));
    json_writer_init(&w, 0);
    while ((n = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        if (n == 1 && line[0] == '\n')
            continue;
        add_line(b, line, (size_t)n, lineno);
        if (b->n == EXTRACT_BATCH)
            flush(rules, scratch, &w, b);
    }
    flush(rules, scratch, &w, b);
    free(b);
    free(line);
    json_writer_free(&w);
    extract_scratch_free(scratch);
    extract_rules_free(rules);
    return 0;
}
