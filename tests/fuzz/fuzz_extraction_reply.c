/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for the sms-extraction reply parsers
 * (insights-api/extraction_reply.h), differential: any byte string must be
 * read or refused without touching memory it does not own, and whenever both
 * the scanner and jansson accept it they must produce the same facts. The
 * first byte picks how many records are expected, so count checks run too.
 * The internal rows forms ({"form":"rows-1",...}, rows-2 without the echo
 * fields) have one reader: when it accepts a reply, the same reply rewritten
 * by jansson in the public form (each row an object of the field list's
 * names) must give the same facts (rows-2's sms_id and time, like those a
 * public record lacks, from the messages sent).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_scan.h"
#include "insights-api/extraction_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static int same_num(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void compare(const struct user_data *x, const struct user_data *y)
{
    if (x->sms_count != y->sms_count)
        abort();
    for (size_t i = 0; i < x->sms_count; i++) {
        const struct sms_fact *a = &x->sms[i], *b = &y->sms[i];
        if (a->ts != b->ts || !same_str(a->sms_id, b->sms_id) || !same_str(a->sender, b->sender) ||
            !same_str(a->sms_type, b->sms_type) || !same_str(a->unique_pan, b->unique_pan) ||
            !same_str(a->channel, b->channel) || a->direction != b->direction ||
            a->is_transactional != b->is_transactional || !same_num(a->amount, b->amount) ||
            !same_num(a->available_balance, b->available_balance) ||
            !same_num(a->min_due, b->min_due))
            abort();
    }
}

/* The reader's own test of a rows reply: the object's first member is named "form". */
static int first_member_is_form(const char *body, size_t len)
{
    struct json_scan s;
    const char *key;
    size_t klen;
    int yes;

    json_scan_init(&s, body, len);
    yes = json_scan_eat(&s, '{') && json_scan_string(&s, false, &key, &klen) && klen == 4 &&
          memcmp(key, "form", 4) == 0;
    json_scan_free(&s);
    return yes;
}

/* A rows reply as the public form: {"extracted_sms_data":[{name: value, ...}, ...]}. */
static char *public_of_rows(const char *body, size_t len)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *fields = json_object_get(root, "fields"), *rows = json_object_get(root, "rows");
    json_t *list = json_array(), *row, *out;
    size_t i;
    char *text;

    json_array_foreach(rows, i, row)
    {
        json_t *rec = json_object();
        size_t k;
        json_t *name;

        json_array_foreach(fields, k, name)
        {
            json_object_set(rec, json_string_value(name), json_array_get(row, k));
        }
        json_array_append_new(list, rec);
    }
    out = json_pack("{s:o}", "extracted_sms_data", list);
    text = root ? json_dumps(out, JSON_COMPACT) : NULL; /* NULL: jansson refuses the numbers */
    json_decref(out);
    json_decref(root);
    return text;
}

static void rows_differential(const char *body, size_t len, size_t expect,
                              const struct raw_sms *msgs, const struct user_data *rows)
{
    char *pub = public_of_rows(body, len);
    struct user_data j;
    char why[256];

    if (!pub)
        return;
    user_data_init(&j, "c", "u", 0);
    if (extraction_reply_parse(pub, strlen(pub), expect, msgs, EXTRACTION_REPLY_JANSSON, &j, NULL,
                               why, sizeof(why)) != ERR_OK)
        abort();
    compare(rows, &j);
    user_data_free(&j);
    free(pub);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct raw_sms msgs[4] = {{.sms_id = "a", .body = "", .ts = 1},
                              {.sms_id = "b", .body = "", .ts = 2},
                              {.sms_id = "c", .body = "", .ts = 3},
                              {.sms_id = "d", .body = "", .ts = 4}};
    struct user_data s, j;
    char why[256];
    char *body;
    size_t expect;
    enum err es, ej;

    if (size < 1)
        return 0;
    expect = data[0] % 5;
    body = malloc(size); /* NUL-terminated copy, as http_client hands replies over */
    if (!body)
        return 0;
    memcpy(body, data + 1, size - 1);
    body[size - 1] = '\0';
    user_data_init(&s, "c", "u", 0);
    user_data_init(&j, "c", "u", 0);
    es = extraction_reply_parse(body, size - 1, expect, msgs, EXTRACTION_REPLY_SCAN, &s, NULL, why,
                                sizeof(why));
    ej = extraction_reply_parse(body, size - 1, expect, msgs, EXTRACTION_REPLY_JANSSON, &j, NULL,
                                why, sizeof(why));
    if (es == ERR_OK && ej == ERR_OK)
        compare(&s, &j);
    if (es == ERR_OK && first_member_is_form(body, size - 1))
        rows_differential(body, size - 1, expect, msgs, &s);
    if ((es != ERR_OK && s.sms_count) || (ej != ERR_OK && j.sms_count))
        abort();
    user_data_free(&s);
    user_data_free(&j);
    free(body);
    return 0;
}
