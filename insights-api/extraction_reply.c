/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading sms-extraction replies. A user's 2,000 messages come back as about
 * 1.3 MB of JSON; building a jansson tree of it (an object and a hash table
 * per record, a heap string per value) costs more than the extraction itself
 * did, and the tree is thrown away at once. The extractor's records are flat
 * objects of scalars, so a scanner reads them straight into the facts.
 *
 * DESIGN. Both parsers reduce every member to a struct value and hand it to
 * one function (apply) that knows what each key means, so they cannot
 * disagree on semantics; the unit test also compares them on real replies.
 * FIELDS is the one place that maps the extractor's record onto struct
 * sms_fact: a change of the record schema is a change of that table (and of
 * apply when a member needs a new kind). The scan (common/json_scan, the
 * scanner sms-extraction reads its requests with) handles exactly the shape
 * the extractor writes and gives up (returning to jansson) on anything else:
 * jansson stays the judge of malformed input.
 *
 * The internal rows form (common/extract_form.h, asked for by
 * extraction_client.c) carries the same values as arrays after a field
 * list; its reader maps the list's names onto FIELDS once per reply and
 * then calls the same apply per value. It has its own strict scanner and no
 * jansson twin: a malformed rows reply is refused, not reinterpreted.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/extract_form.h"
#include "common/ist_date.h"
#include "common/json_scan.h"
#include "insights-api/extraction_client.h"
#include "insights-api/extraction_reply.h"

enum kind {
    K_SKIP, /* known, not kept (sms_sub_type, transaction_date, due_date, currency, ...) */
    K_STR,  /* string member of struct sms_fact */
    K_NUM,  /* double member */
    K_BOOL, /* bool member */
    K_DATE, /* sms_inbox_date -> ts */
    K_DIR,  /* transaction_type -> direction */
};

struct field {
    const char *key;
    size_t key_len; /* compared before the bytes: most keys differ in length */
    enum kind kind;
    size_t off;
    bool echo; /* the message's own value, taken from the message sent when absent (rows-2) */
};

#define F(k, kind, m)                                                                              \
    {                                                                                              \
        k, sizeof(k) - 1, kind, offsetof(struct sms_fact, m), false                                \
    }
#define ECHO_F(k, kind, m)                                                                         \
    {                                                                                              \
        k, sizeof(k) - 1, kind, offsetof(struct sms_fact, m), true                                 \
    }

/* In the extractor's key order, so the scanner's next key is usually the next row. */
static const struct field FIELDS[] = {
    ECHO_F("sms_id", K_STR, sms_id),
    F("sms_sender", K_STR, sender),
    ECHO_F("sms_inbox_date", K_DATE, ts),
    F("sender_name", K_STR, sender_name),
    F("sender_type", K_STR, sender_type),
    F("sms_type", K_STR, sms_type),
    /* sms_sub_type is the sender kind (sender_type says it already); the fine kind the
       features read as sms_sub_type is the record's sms_kind (docs/api-sms-extraction.md) */
    F("sms_sub_type", K_SKIP, ts),
    F("sms_kind", K_STR, sms_sub_type),
    F("is_classified", K_BOOL, is_classified),
    F("is_extracted", K_BOOL, is_extracted),
    F("is_transactional", K_BOOL, is_transactional),
    F("transaction", K_NUM, amount),
    F("transaction_type", K_DIR, direction),
    F("account_last_digits", K_STR, account_last_digits),
    F("transaction_party", K_STR, transaction_party),
    F("party_kind", K_STR, party_kind),
    F("unique_pan", K_STR, unique_pan),
    F("available_balance", K_NUM, available_balance),
    F("reference_no", K_STR, reference_no),
    F("channel", K_STR, channel),
    F("transaction_date", K_SKIP, ts),
    F("credit_limit", K_NUM, credit_limit),
    F("available_limit", K_NUM, available_limit),
    F("due_amount", K_NUM, due_amount),
    F("min_due", K_NUM, min_due),
    F("due_date", K_SKIP, ts),
    F("overdue_amount", K_NUM, overdue_amount),
    F("days_past_due", K_NUM, days_past_due),
    F("currency", K_SKIP, ts),
    F("template_id", K_SKIP, ts),
};
#define NFIELDS (sizeof(FIELDS) / sizeof(FIELDS[0]))

enum vtype { V_NULL, V_STR, V_NUM, V_TRUE, V_FALSE, V_OTHER };

struct value {
    enum vtype type;
    const char *s; /* V_STR: not NUL-terminated */
    size_t len;
    double num;
};

/* ---- semantics (shared) ------------------------------------------------- */

static void apply(struct user_data *u, struct sms_fact *f, const struct field *fd,
                  const struct value *v, bool *have_ts)
{
    char *base = (char *)f;

    switch (fd->kind) {
    case K_STR:
        *(const char **)(base + fd->off) =
            v->type == V_STR ? user_data_strndup(u, v->s, v->len) : NULL;
        break;
    case K_NUM:
        *(double *)(base + fd->off) = v->type == V_NUM ? v->num : NAN;
        break;
    case K_BOOL:
        *(bool *)(base + fd->off) = v->type == V_TRUE;
        break;
    case K_DATE: {
        char text[20];
        *have_ts = false;
        if (v->type == V_STR && v->len == 19) {
            memcpy(text, v->s, 19);
            text[19] = '\0';
            *have_ts = ist_date_to_unix(text, &f->ts) == 0;
        }
        break;
    }
    case K_DIR:
        f->direction = SMS_DIRECTION_NONE;
        if (v->type == V_STR && v->len == 17 && memcmp(v->s, "debit-transaction", 17) == 0)
            f->direction = SMS_DIRECTION_DEBIT;
        else if (v->type == V_STR && v->len == 18 && memcmp(v->s, "credit-transaction", 18) == 0)
            f->direction = SMS_DIRECTION_CREDIT;
        break;
    case K_SKIP:
        break;
    }
}

/* After a record: fill what it lacked from the message that was sent. */
static void finish_fact(struct user_data *u, struct sms_fact *f, const struct raw_sms *m,
                        bool have_ts)
{
    if (!have_ts)
        f->ts = m ? m->ts : 0;
    if (!f->sms_id && m)
        f->sms_id = user_data_strdup(u, m->sms_id);
}

/* ---- the jansson path --------------------------------------------------- */

static void to_value(const json_t *j, struct value *v)
{
    memset(v, 0, sizeof(*v));
    if (!j || json_is_null(j)) {
        v->type = V_NULL;
    } else if (json_is_string(j)) {
        v->type = V_STR;
        v->s = json_string_value(j);
        v->len = json_string_length(j);
    } else if (json_is_number(j)) {
        v->type = V_NUM;
        v->num = json_number_value(j);
    } else if (json_is_true(j)) {
        v->type = V_TRUE;
    } else if (json_is_false(j)) {
        v->type = V_FALSE;
    } else {
        v->type = V_OTHER;
    }
}

static enum err parse_jansson(const char *body, size_t len, size_t expect,
                              const struct raw_sms *msgs, struct user_data *u, json_t *records,
                              char *why, size_t why_len)
{
    enum err result = ERR_DEPENDENCY_UNAVAILABLE;
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *list = json_object_get(root, "extracted_sms_data");

    if (!json_is_array(list)) {
        snprintf(why, why_len, "reply is not the documented shape (no extracted_sms_data list)");
        goto out;
    }
    if (json_array_size(list) != expect) {
        snprintf(why, why_len, "reply has %zu records for %zu messages", json_array_size(list),
                 expect);
        result = ERR_INTERNAL;
        goto out;
    }
    for (size_t i = 0; i < expect; i++) {
        const json_t *rec = json_array_get(list, i);
        struct sms_fact *f;
        bool have_ts = false;
        struct value v;

        if (!json_is_object(rec)) {
            snprintf(why, why_len, "reply record %zu is not an object", i);
            goto out;
        }
        f = user_data_add_sms(u);
        if (!f) {
            snprintf(why, why_len, "more than %d messages for one user", USER_DATA_MAX_SMS);
            result = ERR_INTERNAL;
            goto out;
        }
        for (size_t k = 0; k < NFIELDS; k++) {
            to_value(json_object_get(rec, FIELDS[k].key), &v);
            apply(u, f, &FIELDS[k], &v, &have_ts);
        }
        finish_fact(u, f, msgs ? &msgs[i] : NULL, have_ts);
    }
    if (records)
        json_array_extend(records, list);
    result = ERR_OK;
out:
    json_decref(root);
    return result;
}

/* ---- the scanner (common/json_scan) ------------------------------------ */

/* A scalar value; containers and anything else make the scanner give up. */
static bool scan_value(struct json_scan *s, struct value *v)
{
    struct json_scan_num n;

    memset(v, 0, sizeof(*v));
    json_scan_ws(s);
    if (s->p >= s->end)
        return false;
    switch (*s->p) {
    case '"':
        v->type = V_STR;
        return json_scan_string(s, false, &v->s, &v->len);
    case 't':
        v->type = V_TRUE;
        return json_scan_literal(s, "true");
    case 'f':
        v->type = V_FALSE;
        return json_scan_literal(s, "false");
    case 'n':
        v->type = V_NULL;
        return json_scan_literal(s, "null");
    default:
        v->type = V_NUM;
        if (!json_scan_number(s, true, &n))
            return false;
        v->num = n.value;
        return true;
    }
}

static const struct field *find_field(const char *key, size_t len, size_t *hint)
{
    for (size_t n = 0; n < NFIELDS; n++) {
        size_t k = (*hint + n) % NFIELDS;

        if (FIELDS[k].key_len == len && memcmp(FIELDS[k].key, key, len) == 0) {
            *hint = k + 1;
            return &FIELDS[k];
        }
    }
    return NULL;
}

/* One record object into a new fact. Duplicate keys: the last wins, as in jansson. */
static bool scan_record(struct json_scan *s, struct user_data *u, const struct raw_sms *m)
{
    struct sms_fact *f;
    size_t hint = 0;
    bool have_ts = false;

    if (!json_scan_eat(s, '{'))
        return false;
    f = user_data_add_sms(u);
    if (!f)
        return false;
    if (json_scan_eat(s, '}'))
        goto done;
    do {
        const char *key;
        size_t klen;
        struct value v;
        const struct field *fd;

        if (!json_scan_string(s, false, &key, &klen) || !json_scan_eat(s, ':'))
            return false;
        fd = find_field(key, klen, &hint);
        if (!scan_value(s, &v))
            return false;
        if (fd)
            apply(u, f, fd, &v, &have_ts);
    } while (json_scan_eat(s, ','));
    if (!json_scan_eat(s, '}'))
        return false;
done:
    finish_fact(u, f, m, have_ts);
    return true;
}

static bool scan_records(struct json_scan *s, size_t expect, const struct raw_sms *msgs,
                         struct user_data *u)
{
    size_t n = 0;

    if (!json_scan_eat(s, '['))
        return false;
    if (json_scan_eat(s, ']'))
        return expect == 0;
    do {
        if (n == expect || !scan_record(s, u, msgs ? &msgs[n] : NULL))
            return false;
        n++;
    } while (json_scan_eat(s, ','));
    return json_scan_eat(s, ']') && n == expect;
}

static bool scan_reply(struct json_scan *s, size_t expect, const struct raw_sms *msgs,
                       struct user_data *u)
{
    bool seen = false;

    if (!json_scan_eat(s, '{'))
        return false;
    do {
        const char *key;
        size_t klen;
        struct value v;

        if (!json_scan_string(s, false, &key, &klen) || !json_scan_eat(s, ':'))
            return false;
        if (klen == 18 && memcmp(key, "extracted_sms_data", 18) == 0) {
            if (seen || !scan_records(s, expect, msgs, u))
                return false;
            seen = true;
        } else if (!scan_value(s, &v)) {
            return false;
        }
    } while (json_scan_eat(s, ','));
    return json_scan_eat(s, '}') && seen && json_scan_done(s);
}

/* ---- the internal rows form (common/extract_form.h) -------------------- */

/*
 * {"form":"rows-1","request_id":...,"fields":[names],"rows":[[values],...]}:
 * the values of each record in the order of the reply's own field list, so
 * nothing here depends on the writer's order. rows-2 is the same without the
 * echo fields: the fact takes them from the message sent at the row's
 * position (finish_fact), as it does for any record lacking them. There is no fallback: the
 * extractor wrote this form because we asked for it, and anything off is
 * the dependency's fault (ERR_DEPENDENCY_UNAVAILABLE), never a guess.
 */

#define ROWS_MAX_FIELDS 64 /* columns a reply may list (the record has 30) */

_Static_assert(NFIELDS <= 64, "FIELDS indices are tracked in a 64-bit set");

struct rows {
    const struct field *col[ROWS_MAX_FIELDS]; /* NULL: a field this reader does not know */
    size_t ncol;
    bool no_echo; /* rows-2: the echo fields may be absent */
    size_t expect;
    const struct raw_sms *msgs;
    struct user_data *u;
    char *why;
    size_t why_len;
};

static enum err rows_bad(struct rows *r, const char *what)
{
    snprintf(r->why, r->why_len, "internal reply form: %s", what);
    return ERR_DEPENDENCY_UNAVAILABLE;
}

/* Is the first member of the reply "form"? Only the rows form starts so. */
static bool reply_is_rows(const char *body, size_t len)
{
    struct json_scan s;
    const char *key;
    size_t klen;
    bool rows;

    json_scan_init(&s, body, len);
    rows = json_scan_eat(&s, '{') && json_scan_string(&s, false, &key, &klen) && klen == 4 &&
           memcmp(key, "form", 4) == 0;
    json_scan_free(&s);
    return rows;
}

/* The field list: every name once, every field the facts need present. */
static enum err rows_fields(struct json_scan *s, struct rows *r)
{
    uint64_t seen = 0;
    size_t hint = 0;

    if (!json_scan_eat(s, '['))
        return rows_bad(r, "fields is not a list");
    if (!json_scan_eat(s, ']')) {
        do {
            const char *name;
            size_t len;
            const struct field *fd;

            if (!json_scan_string(s, false, &name, &len))
                return rows_bad(r, "a field name is not a string");
            if (r->ncol == ROWS_MAX_FIELDS)
                return rows_bad(r, "more fields than a record has");
            fd = find_field(name, len, &hint);
            if (fd && ((seen >> (fd - FIELDS)) & 1))
                return rows_bad(r, "a field is listed twice");
            if (fd)
                seen |= (uint64_t)1 << (fd - FIELDS);
            r->col[r->ncol++] = fd;
        } while (json_scan_eat(s, ','));
        if (!json_scan_eat(s, ']'))
            return rows_bad(r, "fields is not a list");
    }
    for (size_t k = 0; k < NFIELDS; k++) {
        if (FIELDS[k].kind != K_SKIP && !(r->no_echo && FIELDS[k].echo) && !((seen >> k) & 1)) {
            snprintf(r->why, r->why_len, "internal reply form: the field list lacks %s",
                     FIELDS[k].key);
            return ERR_DEPENDENCY_UNAVAILABLE;
        }
    }
    return ERR_OK;
}

/* One row into a new fact: exactly ncol scalars. */
static enum err rows_row(struct json_scan *s, struct rows *r, size_t i)
{
    struct sms_fact *f;
    bool have_ts = false;

    if (!json_scan_eat(s, '['))
        return rows_bad(r, "a row is not a list");
    f = user_data_add_sms(r->u);
    if (!f) {
        snprintf(r->why, r->why_len, "more than %d messages for one user", USER_DATA_MAX_SMS);
        return ERR_INTERNAL;
    }
    for (size_t c = 0; c < r->ncol; c++) {
        struct value v;

        if ((c > 0 && !json_scan_eat(s, ',')) || !scan_value(s, &v))
            return rows_bad(r, "a row is shorter than the field list or holds a non-scalar");
        if (v.type == V_NUM && !isfinite(v.num))
            return rows_bad(r, "a number out of range");
        if (r->col[c])
            apply(r->u, f, r->col[c], &v, &have_ts);
    }
    if (!json_scan_eat(s, ']'))
        return rows_bad(r, "a row is longer than the field list");
    finish_fact(r->u, f, r->msgs ? &r->msgs[i] : NULL, have_ts);
    return ERR_OK;
}

static enum err rows_list(struct json_scan *s, struct rows *r)
{
    size_t n = 0;
    enum err e;

    if (!json_scan_eat(s, '['))
        return rows_bad(r, "rows is not a list");
    if (!json_scan_eat(s, ']')) {
        do {
            if (n == r->expect) {
                snprintf(r->why, r->why_len, "reply has more than %zu records for %zu messages",
                         r->expect, r->expect);
                return ERR_INTERNAL;
            }
            if ((e = rows_row(s, r, n)) != ERR_OK)
                return e;
            n++;
        } while (json_scan_eat(s, ','));
        if (!json_scan_eat(s, ']'))
            return rows_bad(r, "rows is not a list");
    }
    if (n != r->expect) {
        snprintf(r->why, r->why_len, "reply has %zu records for %zu messages", n, r->expect);
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

/* After the "form" key: the form's name, then the members in any order, fields before rows. */
static enum err rows_members(struct json_scan *s, struct rows *r)
{
    const char *text;
    size_t len;
    bool have_fields = false, have_rows = false;
    enum err e;

    if (!json_scan_eat(s, ':') || !json_scan_string(s, false, &text, &len))
        return rows_bad(r, "not a form this reader knows (" EXTRACT_FORM_ROWS
                           ", " EXTRACT_FORM_ROWS_NO_ECHO ")");
    r->no_echo = len == strlen(EXTRACT_FORM_ROWS_NO_ECHO) &&
                 memcmp(text, EXTRACT_FORM_ROWS_NO_ECHO, len) == 0;
    if (!r->no_echo &&
        (len != strlen(EXTRACT_FORM_ROWS) || memcmp(text, EXTRACT_FORM_ROWS, len) != 0))
        return rows_bad(r, "not a form this reader knows (" EXTRACT_FORM_ROWS
                           ", " EXTRACT_FORM_ROWS_NO_ECHO ")");
    if (r->no_echo && !r->msgs)
        return rows_bad(r, EXTRACT_FORM_ROWS_NO_ECHO " without the messages sent");
    while (json_scan_eat(s, ',')) {
        if (!json_scan_string(s, false, &text, &len) || !json_scan_eat(s, ':'))
            return rows_bad(r, "not a JSON object");
        if (len == 6 && memcmp(text, "fields", 6) == 0) {
            if (have_fields)
                return rows_bad(r, "fields given twice");
            if ((e = rows_fields(s, r)) != ERR_OK)
                return e;
            have_fields = true;
        } else if (len == 4 && memcmp(text, "rows", 4) == 0) {
            if (!have_fields || have_rows)
                return rows_bad(r, "rows before fields, or given twice");
            if ((e = rows_list(s, r)) != ERR_OK)
                return e;
            have_rows = true;
        } else if (!json_scan_skip(s, 8)) {
            return rows_bad(r, "not a JSON object");
        }
    }
    if (!json_scan_eat(s, '}') || !json_scan_done(s))
        return rows_bad(r, "not a JSON object");
    return have_rows ? ERR_OK : rows_bad(r, "no rows");
}

static enum err parse_rows(const char *body, size_t len, size_t expect, const struct raw_sms *msgs,
                           struct user_data *u, char *why, size_t why_len)
{
    struct rows r = {.expect = expect, .msgs = msgs, .u = u, .why = why, .why_len = why_len};
    struct json_scan s;
    const char *key;
    size_t klen;
    enum err e;

    json_scan_init(&s, body, len);
    json_scan_eat(&s, '{');
    json_scan_string(&s, false, &key, &klen); /* "form": reply_is_rows saw it */
    e = rows_members(&s, &r);
    json_scan_free(&s);
    return e;
}

/* ---- entry -------------------------------------------------------------- */

enum err extraction_reply_parse(const char *body, size_t len, size_t expect,
                                const struct raw_sms *msgs, enum extraction_reply_mode mode,
                                struct user_data *u, json_t *records, char *why, size_t why_len)
{
    size_t start = u->sms_count;
    struct json_scan s;
    enum err e;
    bool ok;

    if (body && reply_is_rows(body, len)) {
        if (records) {
            snprintf(why, why_len, "internal reply form where the public form was asked for");
            return ERR_DEPENDENCY_UNAVAILABLE;
        }
        e = parse_rows(body, len, expect, msgs, u, why, why_len);
        if (e != ERR_OK)
            user_data_truncate_sms(u, start);
        return e;
    }
    if (!records && mode != EXTRACTION_REPLY_JANSSON && body) {
        json_scan_init(&s, body, len);
        ok = scan_reply(&s, expect, msgs, u);
        json_scan_free(&s);
        if (ok)
            return ERR_OK;
        user_data_truncate_sms(u, start);
        if (mode == EXTRACTION_REPLY_SCAN) {
            snprintf(why, why_len, "reply not in the scanner's shape");
            return ERR_DEPENDENCY_UNAVAILABLE;
        }
    }
    e = parse_jansson(body ? body : "", body ? len : 0, expect, msgs, u, records, why, why_len);
    if (e != ERR_OK)
        user_data_truncate_sms(u, start);
    return e;
}
