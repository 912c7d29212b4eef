/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Serialising extraction records. The key order is a contract with clients
 * that compare replies textually and with insights-api, so it is one table,
 * RECORD_FIELDS, top to bottom in exactly the contract's order; every reply
 * form is written from it (the public one as objects, the internal rows
 * forms as arrays after the table's names, rows-2 without the fields marked
 * echo), so they cannot drift apart. The
 * engine marks absence three ways (NULL pointer, empty char array, NAN);
 * all three become JSON null here, in one place.
 */
#include "sms-extraction/response.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "common/extract_form.h"

enum value_kind {
    VK_ID,        /* the input's sms_id */
    VK_SENDER,    /* the normalised sender, null when the input had none */
    VK_DATE,      /* the input's date, normalised */
    VK_TEXT,      /* const char * member of the record */
    VK_CHARS,     /* char array member of the record */
    VK_NUMBER,    /* double member, NAN = absent */
    VK_BOOL,      /* bool member */
    VK_DIRECTION, /* enum extract_direction member */
};

struct record_field {
    const char *key;
    size_t key_len;
    enum value_kind kind;
    size_t off; /* in struct extract_record */
    bool echo;  /* the message's own value, as sent: not in the rows-2 form */
};

#define FIELD(k, kind, m)                                                                          \
    {                                                                                              \
        k, sizeof(k) - 1, kind, offsetof(struct extract_record, m), false                          \
    }
#define ECHO_FIELD(k, kind)                                                                        \
    {                                                                                              \
        k, sizeof(k) - 1, kind, 0, true                                                            \
    }

/* The record, in the contract's order (docs/api-sms-extraction.md). */
static const struct record_field RECORD_FIELDS[] = {
    ECHO_FIELD("sms_id", VK_ID),
    FIELD("sms_sender", VK_SENDER, sender),
    ECHO_FIELD("sms_inbox_date", VK_DATE),
    FIELD("sender_name", VK_TEXT, sender_name),
    FIELD("sender_type", VK_TEXT, sender_type),
    FIELD("sms_type", VK_TEXT, sms_type),
    FIELD("sms_sub_type", VK_TEXT, sms_sub_type),
    FIELD("sms_kind", VK_TEXT, sms_kind),
    FIELD("is_classified", VK_BOOL, is_classified),
    FIELD("is_extracted", VK_BOOL, is_extracted),
    FIELD("is_transactional", VK_BOOL, is_transactional),
    FIELD("transaction", VK_NUMBER, amount),
    FIELD("transaction_type", VK_DIRECTION, direction),
    FIELD("account_last_digits", VK_CHARS, account_last_digits),
    FIELD("transaction_party", VK_CHARS, transaction_party),
    FIELD("party_kind", VK_TEXT, party_kind),
    FIELD("unique_pan", VK_CHARS, unique_pan),
    FIELD("available_balance", VK_NUMBER, available_balance),
    FIELD("reference_no", VK_CHARS, reference_no),
    FIELD("channel", VK_TEXT, channel),
    FIELD("transaction_date", VK_CHARS, transaction_date),
    FIELD("credit_limit", VK_NUMBER, credit_limit),
    FIELD("available_limit", VK_NUMBER, available_limit),
    FIELD("due_amount", VK_NUMBER, due_amount),
    FIELD("min_due", VK_NUMBER, min_due),
    FIELD("due_date", VK_CHARS, due_date),
    FIELD("overdue_amount", VK_NUMBER, overdue_amount),
    FIELD("days_past_due", VK_NUMBER, days_past_due),
    FIELD("currency", VK_TEXT, currency),
    FIELD("template_id", VK_TEXT, template_id),
};
#define N_RECORD_FIELDS (sizeof(RECORD_FIELDS) / sizeof(RECORD_FIELDS[0]))

enum response_form response_form_asked(const char *header)
{
    if (header && strcmp(header, EXTRACT_FORM_ROWS) == 0)
        return RESPONSE_ROWS;
    if (header && strcmp(header, EXTRACT_FORM_ROWS_NO_ECHO) == 0)
        return RESPONSE_ROWS_NO_ECHO;
    return RESPONSE_PUBLIC;
}

/* Whether the form carries field f. */
static bool in_form(enum response_form form, const struct record_field *f)
{
    return form != RESPONSE_ROWS_NO_ECHO || !f->echo;
}

void response_begin(struct json_writer *w, enum response_form form, const char *request_id)
{
    bool rows = form != RESPONSE_PUBLIC;

    json_writer_object_begin(w);
    if (rows)
        json_writer_kv_string(
            w, "form", form == RESPONSE_ROWS ? EXTRACT_FORM_ROWS : EXTRACT_FORM_ROWS_NO_ECHO);
    json_writer_kv_string(w, "request_id", request_id);
    if (rows) {
        json_writer_key(w, "fields");
        json_writer_array_begin(w);
        for (size_t i = 0; i < N_RECORD_FIELDS; i++)
            if (in_form(form, &RECORD_FIELDS[i]))
                json_writer_string_len(w, RECORD_FIELDS[i].key, RECORD_FIELDS[i].key_len);
        json_writer_array_end(w);
    }
    json_writer_key(w, rows ? "rows" : "extracted_sms_data");
    json_writer_array_begin(w);
}

void response_end(struct json_writer *w)
{
    json_writer_array_end(w);
    json_writer_object_end(w);
}

const char *response_direction_name(enum extract_direction d)
{
    switch (d) {
    case EXTRACT_DIRECTION_DEBIT:
        return "debit-transaction";
    case EXTRACT_DIRECTION_CREDIT:
        return "credit-transaction";
    default:
        return NULL;
    }
}

/* What one field writes, resolved before the record's room is reserved. */
struct cell {
    enum { CELL_NONE, CELL_NULL, CELL_TEXT, CELL_INT, CELL_DOUBLE, CELL_TRUE, CELL_FALSE } kind;
    const char *s; /* CELL_TEXT */
    size_t len;
    double num; /* CELL_INT, CELL_DOUBLE */
};

/* NULL and "" are both absent. */
static size_t text_cell(struct cell *c, const char *s)
{
    if (!s || !*s) {
        c->kind = CELL_NULL;
        return 4;
    }
    c->kind = CELL_TEXT;
    c->s = s;
    c->len = strlen(s);
    return JSON_STRING_BOUND(c->len);
}

/* NAN (or any non-finite value) is absent; whole numbers are written as integers (the same
 * text as %.17g, without printf's cost). */
static size_t number_cell(struct cell *c, double v)
{
    c->num = v;
    if (!isfinite(v))
        c->kind = CELL_NULL;
    else if (v == (double)(long long)v && v > -1e15 && v < 1e15)
        c->kind = CELL_INT;
    else
        c->kind = CELL_DOUBLE;
    return JSON_NUMBER_BOUND;
}

/* Field f's cell; returns the most bytes it writes. */
static size_t resolve(struct cell *c, const struct record_field *f, const struct request_sms *in,
                      const struct extract_record *rec)
{
    const char *base = (const char *)rec + f->off;

    switch (f->kind) {
    case VK_ID:
        return text_cell(c, in->sms_id);
    case VK_SENDER:
        return text_cell(c, in->sender ? rec->sender : NULL);
    case VK_DATE:
        return text_cell(c, in->inbox_date);
    case VK_TEXT:
        return text_cell(c, *(const char *const *)base);
    case VK_CHARS:
        return text_cell(c, base);
    case VK_NUMBER:
        return number_cell(c, *(const double *)base);
    case VK_BOOL:
        c->kind = *(const bool *)base ? CELL_TRUE : CELL_FALSE;
        return 5;
    case VK_DIRECTION:
        return text_cell(c, response_direction_name(*(const enum extract_direction *)base));
    }
    c->kind = CELL_NULL;
    return 4;
}

static char *put_literal(char *p, const char *s, size_t len)
{
    memcpy(p, s, len);
    return p + len;
}

static char *put_cell(char *p, const struct cell *c)
{
    switch (c->kind) {
    case CELL_TEXT:
        return json_put_string(p, c->s, c->len);
    case CELL_INT:
        return json_put_int(p, (long long)c->num);
    case CELL_DOUBLE:
        return json_put_double(p, c->num);
    case CELL_TRUE:
        return put_literal(p, "true", 4);
    case CELL_FALSE:
        return put_literal(p, "false", 5);
    case CELL_NONE: /* not in the form: never written */
    case CELL_NULL:
        break;
    }
    return put_literal(p, "null", 4);
}

/*
 * The record in one reserve/commit of the writer: its cells resolved first
 * (with their worst-case sizes), then written without a room check or a
 * call per value. The public form's keys need no escape, so '"key":' is
 * what json_writer_key_len writes for them.
 */
void response_record(struct json_writer *w, enum response_form form, const struct request_sms *in,
                     const struct extract_record *rec)
{
    struct cell cells[N_RECORD_FIELDS];
    bool keys = form == RESPONSE_PUBLIC;
    size_t bound = 2;
    char *p, *first;

    for (size_t i = 0; i < N_RECORD_FIELDS; i++) {
        if (!in_form(form, &RECORD_FIELDS[i])) {
            cells[i].kind = CELL_NONE;
            continue;
        }
        bound += resolve(&cells[i], &RECORD_FIELDS[i], in, rec) + 1;
        if (keys)
            bound += RECORD_FIELDS[i].key_len + 3;
    }
    if (!(p = json_writer_value_reserve(w, bound)))
        return;
    *p++ = keys ? '{' : '[';
    first = p;
    for (size_t i = 0; i < N_RECORD_FIELDS; i++) {
        if (cells[i].kind == CELL_NONE)
            continue;
        if (p != first)
            *p++ = ',';
        if (keys) {
            *p++ = '"';
            p = put_literal(p, RECORD_FIELDS[i].key, RECORD_FIELDS[i].key_len);
            *p++ = '"';
            *p++ = ':';
        }
        p = put_cell(p, &cells[i]);
    }
    *p++ = keys ? '}' : ']';
    json_writer_value_commit(w, p);
}
