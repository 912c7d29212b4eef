/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for the whole outside-input path of POST /api/extract:
 * the bytes are parsed as a request; when valid, every message goes through
 * the engine and the reply is serialised, exactly as routes.c does; when
 * invalid, the detail list is serialised. Every input is also parsed by the
 * jansson-only path, and the two must agree (request_scan.c's contract). The engine's rules are the
 * default artifacts (sms-extraction/rules/, found from REPO_ROOT or the current directory); without
 * them only the parser is fuzzed.
 *
 *   clang -fsanitize=fuzzer,address,undefined ... (see `make fuzz`)
 *   build/fuzz/fuzz_extract_request -max_total_time=30 tests/fuzz/corpus/extract_request
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "common/json_writer.h"
#include "sms-extraction/extract.h"
#include "sms-extraction/request.h"
#include "sms-extraction/response.h"

static struct extract_rules *rules;
static struct extract_scratch *scratch;
static struct request req;
static struct request slow;
static struct json_writer out;
static struct extract_input in[EXTRACT_BATCH];
static struct extract_record recs[EXTRACT_BATCH];

/* A rule file of the repository at dir. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/sms-extraction/rules/%s", dir, name);
    return file_read(path, 0, len, NULL, 0);
}

static void load_rules(void)
{
    const char *root = getenv("REPO_ROOT") ? getenv("REPO_ROOT") : ".";
    size_t len[3] = {0};
    char *data[3] = {slurp(root, "vocabulary.json", &len[0]),
                     slurp(root, "classification.json", &len[1]),
                     slurp(root, "regex.json", &len[2])};
    char err[512];

    if (data[0] && data[1] && data[2] &&
        extract_rules_load(data[0], len[0], data[1], len[1], data[2], len[2], &rules, err,
                           sizeof(err)) == 0)
        scratch = extract_scratch_new(rules);
    else
        fprintf(stderr, "fuzz_extract_request: no rules (%s): fuzzing the parser only\n",
                data[0] ? err : "sms-extraction/rules not found");
    for (int i = 0; i < 3; i++)
        free(data[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    request_init(&req);
    request_init(&slow);
    json_writer_init(&out, 64u << 20);
    load_rules();
    return 0;
}

static void same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    if ((a == NULL) != (b == NULL) || alen != blen || (a && memcmp(a, b, alen) != 0))
        abort();
}

/* The fast path's result must be the jansson path's. */
static void same_as_slow(void)
{
    if (strcmp(req.client_id, slow.client_id) || strcmp(req.user_id, slow.user_id) ||
        strcmp(req.request_id, slow.request_id) || req.sms_count != slow.sms_count)
        abort();
    for (size_t i = 0; i < req.sms_count; i++) {
        const struct request_sms *a = &req.sms[i], *b = &slow.sms[i];

        if (strcmp(a->sms_id, b->sms_id) || strcmp(a->inbox_date, b->inbox_date))
            abort();
        same_bytes(a->sender, a->sender_len, b->sender, b->sender_len);
        same_bytes(a->body, a->body_len, b->body, b->body_len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct extract_record rec;
    json_t *detail = NULL;
    char *text;

    int rc = request_parse(&req, (const char *)data, size, 1000, "fuzz", &detail);
    json_t *slow_detail = NULL;

    if (request_parse_json(&slow, (const char *)data, size, 1000, "fuzz", &slow_detail) != rc)
        abort();
    json_decref(slow_detail);
    if (rc == 0)
        same_as_slow();
    if (rc < 0) {
        text = json_dumps(detail, JSON_COMPACT);
        if (!text)
            abort();
        free(text);
        json_decref(detail);
        return 0;
    }
    json_writer_reset(&out);
    response_begin(&out, RESPONSE_PUBLIC, req.request_id);
    /* as the daemon does: batches through extract_batch, and single messages checked
       against the batch's records for the first batch */
    for (size_t done = 0; done < req.sms_count && scratch; done += EXTRACT_BATCH) {
        size_t n = req.sms_count - done < EXTRACT_BATCH ? req.sms_count - done : EXTRACT_BATCH;
        for (size_t i = 0; i < n; i++) {
            const struct request_sms *m = &req.sms[done + i];
            in[i] = (struct extract_input){m->sender ? m->sender : "", m->sender_len, m->body,
                                           m->body_len};
        }
        extract_batch(rules, scratch, in, n, recs);
        for (size_t i = 0; i < n; i++) {
            if (done == 0) {
                extract_message(rules, scratch, in[i].sender, in[i].sender_len, in[i].body,
                                in[i].body_len, &rec);
                if (rec.sms_type != recs[i].sms_type || rec.is_extracted != recs[i].is_extracted ||
                    strcmp(rec.transaction_party, recs[i].transaction_party) != 0)
                    abort();
            }
            response_record(&out, RESPONSE_PUBLIC, &req.sms[done + i], &recs[i]);
        }
    }
    response_end(&out);
    if (!json_writer_ok(&out))
        abort();
    return 0;
}
