/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The extraction request read in one pass with common/json_scan: this file
 * is the request's grammar (client_id, user_id, request_id, sms[] with four
 * members each), the scanner the JSON. Parsing a 1000-message batch with
 * jansson builds ~5000 nodes and hash tables only to read four fields of each
 * message, and it was the largest cost of a request; the scan unescapes
 * strings into one buffer reused across requests and allocates nothing per
 * message.
 *
 * It is deliberately partial. It accepts only input that jansson would accept
 * and that validates; everything else, including anything it is unsure of,
 * is declined so that the one validating implementation (request.c) decides
 * and explains. So the scanner never has to produce an error message.
 */
#include "sms-extraction/request_scan.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/ist_date.h"
#include "common/json_scan.h"

#define SCAN_MAX_DEPTH 64

/* A decoded string: NUL-terminated in the text buffer. */
struct str {
    const char *s;
    size_t len;
};

static bool read_string(struct json_scan *sc, struct str *out)
{
    return json_scan_string(sc, true, &out->s, &out->len);
}

/* A number the jansson path reads the same way: no exponent, at most 18 digits. */
static bool read_number(struct json_scan *sc, long long *value, bool *is_int)
{
    struct json_scan_num n;

    if (!json_scan_number(sc, false, &n) || n.exponent)
        return false;
    *value = n.integer;
    *is_int = n.is_int;
    return true;
}

/* Characters (code points) in valid UTF-8, as pydantic counts length. */
static size_t chars(const struct str *s)
{
    size_t n = 0;

    for (size_t i = 0; i < s->len; i++)
        n += ((unsigned char)s->s[i] & 0xC0) != 0x80;
    return n;
}

static bool read_id(struct json_scan *sc, const char **out, size_t max_chars)
{
    struct str s;

    if (*out || !read_string(sc, &s) || chars(&s) > max_chars)
        return false;
    *out = s.s;
    return true;
}

static bool is_null(struct json_scan *sc)
{
    return json_scan_null(sc);
}

enum { SEEN_ID = 1, SEEN_SENDER = 2, SEEN_BODY = 4, SEEN_DATE = 8 };

static bool sms_id(struct json_scan *sc, struct request_sms *m)
{
    long long v;
    bool is_int;

    json_scan_ws(sc);
    if (sc->p < sc->end && *sc->p == '"')
        return read_id(sc, &m->sms_id, REQUEST_SMS_ID_MAX);
    if (!read_number(sc, &v, &is_int) || !is_int)
        return false;
    snprintf(m->id_buf, sizeof(m->id_buf), "%lld", v);
    m->sms_id = m->id_buf;
    return true;
}

static bool sms_date(struct json_scan *sc, struct request_sms *m)
{
    struct str s;
    long long v;
    bool is_int;
    const char *why;
    char *mark = sc->out;

    json_scan_ws(sc);
    if (sc->p < sc->end && *sc->p == '"') {
        if (!read_string(sc, &s) || ist_date_normalise(s.s, s.len, m->inbox_date, &why) < 0)
            return false;
        sc->out = mark; /* the normalised copy is in m */
        return true;
    }
    return read_number(sc, &v, &is_int) && is_int && ist_from_epoch(v, m->inbox_date) == 0;
}

static bool sms_field(struct json_scan *sc, const struct str *key, struct request_sms *m, int *seen)
{
    static const char *const names[] = {"sms_id", "sms_sender", "sms_body", "sms_inbox_date"};
    struct str s;
    int bit = 0;

    for (int i = 0; i < 4; i++)
        if (key->len == strlen(names[i]) && memcmp(key->s, names[i], key->len) == 0)
            bit = 1 << i;
    if (!bit)
        return json_scan_skip(sc, SCAN_MAX_DEPTH - 1);
    if (*seen & bit)
        return false; /* duplicate: let jansson's last-wins rule apply */
    *seen |= bit;
    switch (bit) {
    case SEEN_ID:
        return sms_id(sc, m);
    case SEEN_SENDER:
        if (is_null(sc))
            return true;
        if (!read_string(sc, &s))
            return false;
        m->sender = s.s;
        m->sender_len = s.len;
        return true;
    case SEEN_BODY:
        if (!read_string(sc, &s))
            return false;
        m->body = s.s;
        m->body_len = s.len;
        return true;
    default:
        return sms_date(sc, m);
    }
}

static bool read_sms(struct json_scan *sc, struct request_sms *m)
{
    struct str key;
    int seen = 0;

    memset(m, 0, offsetof(struct request_sms, id_buf));
    if (!json_scan_eat(sc, '{'))
        return false;
    if (!json_scan_eat(sc, '}')) {
        do {
            char *mark = sc->out;

            /* in place unless escaped; compared by length, never kept */
            if (!json_scan_string(sc, false, &key.s, &key.len) || !json_scan_eat(sc, ':'))
                return false;
            sc->out = mark;
            if (!sms_field(sc, &key, m, &seen))
                return false;
        } while (json_scan_eat(sc, ','));
        if (!json_scan_eat(sc, '}'))
            return false;
    }
    return (seen & (SEEN_ID | SEEN_BODY | SEEN_DATE)) == (SEEN_ID | SEEN_BODY | SEEN_DATE);
}

static bool read_sms_list(struct json_scan *sc, struct request *req, size_t max_sms)
{
    if (!json_scan_eat(sc, '['))
        return false;
    if (json_scan_eat(sc, ']'))
        return true;
    do {
        if (req->sms_count == max_sms)
            return false;
        if (req->sms_count == req->sms_cap) {
            size_t cap = req->sms_cap ? req->sms_cap * 2 : 64;

            cap = cap > max_sms ? max_sms : cap;
            req->sms = alloc_resize(req->sms, cap * sizeof(*req->sms));
            req->sms_cap = cap;
        }
        if (!read_sms(sc, &req->sms[req->sms_count]))
            return false;
        req->sms_count++;
    } while (json_scan_eat(sc, ','));
    return json_scan_eat(sc, ']');
}

static bool top_field(struct json_scan *sc, const struct str *key, struct request *req,
                      size_t max_sms, const char **request_id, bool *seen_sms, bool *seen_rid)
{
    if (strcmp(key->s, "client_id") == 0)
        return read_id(sc, &req->client_id, REQUEST_ID_MAX);
    if (strcmp(key->s, "user_id") == 0)
        return read_id(sc, &req->user_id, REQUEST_ID_MAX);
    if (strcmp(key->s, "request_id") == 0) {
        if (*seen_rid)
            return false;
        *seen_rid = true;
        return is_null(sc) || read_id(sc, request_id, REQUEST_ID_MAX);
    }
    if (strcmp(key->s, "sms") == 0) {
        if (*seen_sms)
            return false;
        *seen_sms = true;
        return read_sms_list(sc, req, max_sms);
    }
    return json_scan_skip(sc, SCAN_MAX_DEPTH);
}

int request_scan(struct request *req, const char *body, size_t len, size_t max_sms,
                 const char **request_id)
{
    struct json_scan sc;
    bool seen_sms = false, seen_rid = false;
    struct str key;

    /* Decoded strings never exceed their escaped form, plus one NUL each. */
    if (req->text_cap < 2 * len + 16) {
        req->text_cap = 2 * len + 16;
        req->text = alloc_resize(req->text, req->text_cap);
    }
    json_scan_init_out(&sc, body, len, req->text, req->text_cap);
    *request_id = NULL;
    if (!json_scan_eat(&sc, '{'))
        return -1;
    if (!json_scan_eat(&sc, '}')) {
        do {
            if (!read_string(&sc, &key) || memchr(key.s, '\0', key.len) ||
                !json_scan_eat(&sc, ':') ||
                !top_field(&sc, &key, req, max_sms, request_id, &seen_sms, &seen_rid))
                return -1;
        } while (json_scan_eat(&sc, ','));
        if (!json_scan_eat(&sc, '}'))
            return -1;
    }
    if (!json_scan_done(&sc) || !req->client_id || !req->user_id || !seen_sms)
        return -1;
    return 0;
}
