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
 * The scanner handles exactly the shape the extractor writes and gives up
 * (returning to jansson) on anything else, so it never has to be a complete
 * JSON parser: jansson stays the judge of malformed input.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ist_date.h"
#include "insights-api/extraction_client.h"
#include "insights-api/extraction_reply.h"

enum kind {
    K_SKIP, /* known, not kept (transaction_date, due_date, currency, template_id) */
    K_STR,  /* string member of struct sms_fact */
    K_NUM,  /* double member */
    K_BOOL, /* bool member */
    K_DATE, /* sms_inbox_date -> ts */
    K_DIR,  /* transaction_type -> direction */
};

struct field {
    const char *key;
    enum kind kind;
    size_t off;
};

#define F(k, kind, m)                                                                              \
    {                                                                                              \
        k, kind, offsetof(struct sms_fact, m)                                                      \
    }

/* In the extractor's key order, so the scanner's next key is usually the next row. */
static const struct field FIELDS[] = {
    F("sms_id", K_STR, sms_id),
    F("sms_sender", K_STR, sender),
    F("sms_inbox_date", K_DATE, ts),
    F("sender_name", K_STR, sender_name),
    F("sender_type", K_STR, sender_type),
    F("sms_type", K_STR, sms_type),
    F("sms_sub_type", K_STR, sms_sub_type),
    F("is_classified", K_BOOL, is_classified),
    F("is_extracted", K_BOOL, is_extracted),
    F("is_transactional", K_BOOL, is_transactional),
    F("transaction", K_NUM, amount),
    F("transaction_type", K_DIR, direction),
    F("account_last_digits", K_STR, account_last_digits),
    F("transaction_party", K_STR, transaction_party),
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

/* ---- the scanner -------------------------------------------------------- */

struct scan {
    const char *p, *end;
    char *buf; /* decoded strings with escapes */
    size_t cap;
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static bool eat(struct scan *s, char c)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One \u escape at p (after the backslash-u); returns bytes consumed after 'u', or -1. */
static int unicode_escape(const char *p, const char *end, char *o, size_t *olen)
{
    unsigned hi, lo;

    if (end - p < 4 || hex4(p, &hi) < 0 || hi == 0)
        return -1;
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return -1;
    if (hi < 0xD800 || hi > 0xDBFF) {
        *olen = put_utf8(o, hi);
        return 4;
    }
    if (end - p < 10 || p[4] != '\\' || p[5] != 'u' || hex4(p + 6, &lo) < 0 || lo < 0xDC00 ||
        lo > 0xDFFF)
        return -1;
    *olen = put_utf8(o, 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
    return 10;
}

static int decode_escapes(struct scan *s, const char *p, size_t done, const char **out, size_t *len)
{
    size_t n = done;

    while (p < s->end && *p != '"') {
        size_t used = 1;
        int step = 1;

        if ((unsigned char)*p < 0x20)
            return -1;
        if (*p != '\\') {
            s->buf[n++] = *p++;
            continue;
        }
        if (++p >= s->end)
            return -1;
        switch (*p) {
        case '"':
            s->buf[n] = '"';
            break;
        case '\\':
            s->buf[n] = '\\';
            break;
        case '/':
            s->buf[n] = '/';
            break;
        case 'b':
            s->buf[n] = '\b';
            break;
        case 'f':
            s->buf[n] = '\f';
            break;
        case 'n':
            s->buf[n] = '\n';
            break;
        case 'r':
            s->buf[n] = '\r';
            break;
        case 't':
            s->buf[n] = '\t';
            break;
        case 'u':
            step = unicode_escape(p + 1, s->end, s->buf + n, &used);
            if (step < 0)
                return -1;
            step++;
            break;
        default:
            return -1;
        }
        n += used;
        p += step;
    }
    if (p >= s->end)
        return -1;
    s->p = p + 1;
    *out = s->buf;
    *len = n;
    return 0;
}

/*
 * A string at s->p. Without escapes it points into the body; with escapes
 * it is decoded into s->buf (decoded text is never longer than its source).
 */
static int scan_string(struct scan *s, const char **out, size_t *len)
{
    const char *start, *p;

    if (!eat(s, '"'))
        return -1;
    start = p = s->p;
    while (p < s->end && *p != '"' && *p != '\\') {
        if ((unsigned char)*p < 0x20)
            return -1;
        p++;
    }
    if (p >= s->end)
        return -1;
    if (*p == '"') {
        *out = start;
        *len = (size_t)(p - start);
        s->p = p + 1;
        return 0;
    }
    if ((size_t)(s->end - start) > s->cap) {
        free(s->buf);
        s->cap = (size_t)(s->end - start);
        s->buf = malloc(s->cap);
        if (!s->buf)
            abort();
    }
    memcpy(s->buf, start, (size_t)(p - start));
    return decode_escapes(s, p, (size_t)(p - start), out, len);
}

static int scan_number(struct scan *s, struct value *v)
{
    const char *p = s->p;
    char *endp;

    while (p < s->end && (strchr("0123456789+-.eE", *p) && *p))
        p++;
    if (p == s->p)
        return -1;
    v->num = strtod(s->p, &endp);
    if (endp != p || !isfinite(v->num))
        return -1;
    v->type = V_NUM;
    s->p = p;
    return 0;
}

static bool word(struct scan *s, const char *w, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* A scalar value; containers and anything else make the scanner give up. */
static int scan_value(struct scan *s, struct value *v)
{
    memset(v, 0, sizeof(*v));
    skip_ws(s);
    if (s->p >= s->end)
        return -1;
    switch (*s->p) {
    case '"':
        v->type = V_STR;
        return scan_string(s, &v->s, &v->len);
    case 't':
        v->type = V_TRUE;
        return word(s, "true", 4) ? 0 : -1;
    case 'f':
        v->type = V_FALSE;
        return word(s, "false", 5) ? 0 : -1;
    case 'n':
        v->type = V_NULL;
        return word(s, "null", 4) ? 0 : -1;
    default:
        return *s->p == '-' || (*s->p >= '0' && *s->p <= '9') ? scan_number(s, v) : -1;
    }
}

static const struct field *find_field(const char *key, size_t len, size_t *hint)
{
    for (size_t n = 0; n < NFIELDS; n++) {
        size_t k = (*hint + n) % NFIELDS;

        if (strlen(FIELDS[k].key) == len && memcmp(FIELDS[k].key, key, len) == 0) {
            *hint = k + 1;
            return &FIELDS[k];
        }
    }
    return NULL;
}

/* One record object into a new fact. Duplicate keys: the last wins, as in jansson. */
static int scan_record(struct scan *s, struct user_data *u, const struct raw_sms *m)
{
    struct sms_fact *f;
    size_t hint = 0;
    bool have_ts = false;

    if (!eat(s, '{'))
        return -1;
    f = user_data_add_sms(u);
    if (!f)
        return -1;
    if (eat(s, '}'))
        goto done;
    do {
        const char *key;
        size_t klen;
        struct value v;
        const struct field *fd;

        /* an escaped key would be decoded into s->buf, which the value may reuse: refused */
        if (scan_string(s, &key, &klen) < 0 || (s->buf && key == s->buf) || !eat(s, ':'))
            return -1;
        fd = find_field(key, klen, &hint);
        if (scan_value(s, &v) < 0)
            return -1;
        if (fd)
            apply(u, f, fd, &v, &have_ts);
    } while (eat(s, ','));
    if (!eat(s, '}'))
        return -1;
done:
    finish_fact(u, f, m, have_ts);
    return 0;
}

static int scan_records(struct scan *s, size_t expect, const struct raw_sms *msgs,
                        struct user_data *u)
{
    size_t n = 0;

    if (!eat(s, '['))
        return -1;
    if (eat(s, ']'))
        return expect == 0 ? 0 : -1;
    do {
        if (n == expect || scan_record(s, u, msgs ? &msgs[n] : NULL) < 0)
            return -1;
        n++;
    } while (eat(s, ','));
    return eat(s, ']') && n == expect ? 0 : -1;
}

static int scan_reply(struct scan *s, size_t expect, const struct raw_sms *msgs,
                      struct user_data *u)
{
    bool seen = false;

    if (!eat(s, '{'))
        return -1;
    do {
        const char *key;
        size_t klen;
        struct value v;

        if (scan_string(s, &key, &klen) < 0 || !eat(s, ':'))
            return -1;
        if (klen == 18 && memcmp(key, "extracted_sms_data", 18) == 0) {
            if (seen || scan_records(s, expect, msgs, u) < 0)
                return -1;
            seen = true;
        } else if (scan_value(s, &v) < 0) {
            return -1;
        }
    } while (eat(s, ','));
    if (!eat(s, '}'))
        return -1;
    skip_ws(s);
    return seen && s->p == s->end ? 0 : -1;
}

/* ---- entry -------------------------------------------------------------- */

enum err extraction_reply_parse(const char *body, size_t len, size_t expect,
                                const struct raw_sms *msgs, enum extraction_reply_mode mode,
                                struct user_data *u, json_t *records, char *why, size_t why_len)
{
    size_t start = u->sms_count;
    struct scan s = {.p = body, .end = body + len};
    enum err e;
    int rc;

    if (!records && mode != EXTRACTION_REPLY_JANSSON && body) {
        rc = scan_reply(&s, expect, msgs, u);
        free(s.buf);
        if (rc == 0)
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
