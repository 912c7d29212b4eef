/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for outside input of the outcomes (insights-api/outcomes.h):
 * the CSV record reader of `insights-api outcomes import` and the outcome
 * validator of POST /api/outcomes. Any byte string must be split into
 * records or refused with a reason, never reading or writing outside the
 * input and the field buffer; every field must lie inside the buffer and be
 * NUL-terminated; the reader must always advance. The validator is fed the
 * input as a JSON body: a refusal must never echo a string of the input (the
 * ids it may hold), only numbers, booleans, null and "[redacted]".
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "insights-api/outcomes.h"

#define FUZZ_NOW 1795000000.0

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_csv(const char *text, size_t size)
{
    size_t cap = size + OUTCOMES_CSV_FIELDS + 1;
    char *buf = malloc(cap);
    const char *p = text, *end = text + size;
    const char *f[OUTCOMES_CSV_FIELDS];
    long lines = 0;

    if (!buf)
        abort();
    while (p < end) {
        const char *before = p, *why = NULL;
        int n = outcomes_csv_record(&p, end, buf, cap, f, OUTCOMES_CSV_FIELDS, &lines, &why);

        if (n < 0) {
            if (!why)
                abort();
            break;
        }
        if (n == 0 || p <= before || p > end)
            abort(); /* no progress, or past the end */
        for (int i = 0; i < n; i++)
            if (f[i] < buf || f[i] >= buf + cap || strlen(f[i]) >= cap)
                abort();
    }
    free(buf);
}

/* Strings of the body (any depth, keys too) that a refusal must not echo. */
static bool echoes_input(const json_t *detail, const json_t *root)
{
    size_t i;
    json_t *item;
    const char *key;
    json_t *v;

    json_array_foreach(detail, i, item)
    {
        const json_t *input = json_object_get(item, "input");

        if (!json_is_string(input) || strcmp(json_string_value(input), "[redacted]") == 0)
            continue;
        json_object_foreach((json_t *)root, key, v)
        {
            if (json_is_string(v) && json_string_length(v) >= 4 &&
                strcmp(json_string_value(v), json_string_value(input)) == 0)
                return true;
        }
    }
    return false;
}

static void check_validator(const char *text, size_t size)
{
    json_t *root = json_loadb(text, size, 0, NULL);
    struct validation v;
    struct outcome o;

    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    validation_init(&v, 32);
    outcomes_check(&v, root, FUZZ_NOW, true, &o);
    if (json_array_size(v.list) == 0 &&
        (!o.client_id || !o.user_id || (!o.loan_id && !o.request_id)))
        abort(); /* accepted without what the table needs */
    if (echoes_input(v.list, root))
        abort();
    json_decref(v.list);
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);

    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    check_csv(text, size);
    check_validator(text, size);
    free(text);
    return 0;
}
