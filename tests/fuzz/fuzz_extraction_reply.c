/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for the sms-extraction reply parsers
 * (insights-api/extraction_reply.h), differential: any byte string must be
 * read or refused without touching memory it does not own, and whenever both
 * the scanner and jansson accept it they must produce the same facts. The
 * first byte picks how many records are expected, so count checks run too.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    if ((es != ERR_OK && s.sms_count) || (ej != ERR_OK && j.sms_count))
        abort();
    user_data_free(&s);
    user_data_free(&j);
    free(body);
    return 0;
}
