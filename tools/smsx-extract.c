/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smsx-extract: run the extraction engine on messages from stdin, without the
 * daemon. Data scientists use it to see what the rules make of a set of
 * messages; rule authors use it to iterate on the artifacts.
 *
 *   smsx-extract [--vocabulary F] [--classification F] [--regex F] < in.jsonl
 *   smsx-extract --check-gates [...] < in.jsonl
 *
 * Each input line is {"sender": "...", "body": "...", "sms_id": optional};
 * each output line is the record the service would return for it. Rules come
 * from sms-extraction/rules/ unless given (plain JSON files).
 *
 * --check-gates prints, instead, each pattern whose gates or anchor changed
 * its result on some body (a gate is a promise about every match; see
 * docs/rules.md) with how many bodies, and exits 1 when there is any.
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
    fprintf(stderr, "usage: smsx-extract [--check-gates] [--vocabulary F] [--classification F] "
                    "[--regex F] < messages.jsonl\n"
                    "  input lines:  {\"sender\": \"VM-HDFCBK\", \"body\": \"...\"}\n"
                    "  output lines: one extraction record each, or with --check-gates the\n"
                    "  patterns whose gates changed their result on some body\n");
}

static int parse_args(int argc, char **argv, const char *paths[3], bool *check_gates)
{
    static const char *const flags[3] = {"--vocabulary", "--classification", "--regex"};
    for (int i = 1; i < argc; i++) {
        int k = -1;
        if (strcmp(argv[i], "--check-gates") == 0) {
            *check_gates = true;
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
        response_record(w, &b->sms[i], &b->rec[i]);
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

    bool gates = false;
    if (parse_args(argc, argv, paths, &gates) < 0) {
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
    if (gates) {
        int rc = check_gates(rules, scratch);
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
