/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The body of an insights-api call read with common/json_scan, its sms_data
 * apart. POST /api/generate_features carries a borrower's messages inline;
 * parsing a 2,000-message body with jansson built a node per member and a
 * hash table per message, the largest cost of the whole call (a third of
 * insights-api's CPU, perf on tools/capacity-probe), only for
 * inline_source.c to copy four members of each message and free the tree.
 * Here the messages go straight into a raw_sms_list, and every other member
 * (ids, groupings, as_of, apps, device: small) is parsed by jansson on its
 * own, so admission.c and inline_source.c validate the same tree as before.
 *
 * It is deliberately partial, like sms-extraction/request_scan.c: it
 * accepts only a top-level object without duplicate members whose sms_data
 * items would pass inline_source.c's checks with no detail item, and
 * declines anything else (a real sms_inbox_date, a bad date, a duplicate
 * member, a number jansson may read differently), so that the one validating
 * path (jansson, then inline_source.c) judges and explains it.
 */
#include "insights-api/inline_scan.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/ist_date.h"
#include "common/json_scan.h"
#include "common/validation.h"

#define SCAN_MAX_DEPTH 64
#define SCAN_MAX_KEY 255 /* longer member names: declined */

struct str {
    const char *s;
    size_t len;
};

/* One message as read: what inline_source.c's take_sms would copy. */
struct scanned_sms {
    struct str id, sender, body;
    bool has_sender;
    int64_t ts;
    char id_buf[24];
};

enum { SEEN_ID = 1, SEEN_SENDER = 2, SEEN_BODY = 4, SEEN_DATE = 8 };

static bool at_string(struct json_scan *sc)
{
    json_scan_ws(sc);
    return sc->p < sc->end && *sc->p == '"';
}

/* An integer jansson reads as json_integer: no fraction or exponent, at most 18 digits. */
static bool read_int(struct json_scan *sc, long long *v)
{
    struct json_scan_num n;

    json_scan_ws(sc);
    if (!json_scan_number(sc, false, &n) || n.exponent || !n.is_int)
        return false;
    *v = n.integer;
    return true;
}

/* sms_id: a string of at most USER_DATA_ID_MAX characters, or an integer (as text). */
static bool read_id(struct json_scan *sc, struct scanned_sms *m)
{
    long long v;

    if (at_string(sc))
        return json_scan_string(sc, false, &m->id.s, &m->id.len) &&
               validation_utf8_chars(m->id.s, m->id.len) <= USER_DATA_ID_MAX;
    if (!read_int(sc, &v))
        return false;
    m->id.len = (size_t)snprintf(m->id_buf, sizeof(m->id_buf), "%lld", v);
    m->id.s = m->id_buf;
    return true;
}

/* sms_inbox_date as inline_source_parse_time reads it: a date text or integer epoch. */
static bool read_date(struct json_scan *sc, struct scanned_sms *m)
{
    char ist[20];
    const char *why;
    struct str s;
    long long v;

    if (at_string(sc)) {
        if (!json_scan_string(sc, false, &s.s, &s.len) ||
            ist_date_normalise(s.s, s.len, ist, &why) < 0)
            return false;
    } else if (!read_int(sc, &v) || !((double)v > -1e15 && (double)v < 1e15) ||
               ist_from_epoch(v, ist) < 0) {
        return false;
    }
    return ist_date_to_unix(ist, &m->ts) == 0;
}

static int field_bit(const struct str *key)
{
    static const char *const names[] = {"sms_id", "sms_sender", "sms_body", "sms_inbox_date"};

    for (int i = 0; i < 4; i++)
        if (key->len == strlen(names[i]) && memcmp(key->s, names[i], key->len) == 0)
            return 1 << i;
    return 0;
}

static bool read_field(struct json_scan *sc, const struct str *key, struct scanned_sms *m,
                       int *seen)
{
    int bit = field_bit(key);

    if (!bit)
        return json_scan_skip(sc, SCAN_MAX_DEPTH - 2); /* other members are ignored */
    if (*seen & bit)
        return false; /* duplicate: jansson's last-wins rule decides */
    *seen |= bit;
    switch (bit) {
    case SEEN_ID:
        return read_id(sc, m);
    case SEEN_SENDER:
        if (json_scan_null(sc))
            return true;
        m->has_sender = true;
        return at_string(sc) && json_scan_string(sc, false, &m->sender.s, &m->sender.len);
    case SEEN_BODY:
        return at_string(sc) && json_scan_string(sc, false, &m->body.s, &m->body.len);
    default:
        return read_date(sc, m);
    }
}

static bool read_sms(struct json_scan *sc, struct raw_sms_list *sms)
{
    struct scanned_sms m;
    struct str key;
    int seen = 0;

    memset(&m, 0, sizeof(m));
    if (!json_scan_eat(sc, '{'))
        return false;
    if (!json_scan_eat(sc, '}')) {
        do {
            /* in place unless escaped (then decoded into the scanner's area, which holds the
               rest of the input twice over: no need to reuse it) */
            if (!json_scan_string(sc, false, &key.s, &key.len) || !json_scan_eat(sc, ':'))
                return false;
            if (!read_field(sc, &key, &m, &seen))
                return false;
        } while (json_scan_eat(sc, ','));
        if (!json_scan_eat(sc, '}'))
            return false;
    }
    if ((seen & (SEEN_ID | SEEN_BODY | SEEN_DATE)) != (SEEN_ID | SEEN_BODY | SEEN_DATE))
        return false;
    return raw_sms_list_add(sms, m.id.s, m.id.len, m.has_sender ? m.sender.s : NULL, m.sender.len,
                            m.body.s, m.body.len, m.ts) == 0;
}

static bool read_sms_list(struct json_scan *sc, struct raw_sms_list *sms)
{
    if (!json_scan_eat(sc, '['))
        return false;
    if (json_scan_eat(sc, ']'))
        return true;
    do {
        if (!read_sms(sc, sms))
            return false;
    } while (json_scan_eat(sc, ','));
    return json_scan_eat(sc, ']');
}

/* Any other member: its bytes parsed by jansson alone (json_scan_skip has checked them). */
static json_t *read_other(struct json_scan *sc)
{
    const unsigned char *start;

    json_scan_ws(sc);
    start = sc->p;
    if (!json_scan_skip(sc, SCAN_MAX_DEPTH - 1))
        return NULL;
    return json_loadb((const char *)start, (size_t)(sc->p - start), JSON_DECODE_ANY, NULL);
}

static bool read_member(struct json_scan *sc, json_t *root, struct raw_sms_list *sms)
{
    char name[SCAN_MAX_KEY + 1];
    struct str key;
    json_t *v;

    /* a C string for jansson (json_scan refuses \u0000, so no NUL inside) */
    if (!json_scan_string(sc, false, &key.s, &key.len) || key.len > SCAN_MAX_KEY ||
        !json_scan_eat(sc, ':'))
        return false;
    memcpy(name, key.s, key.len);
    name[key.len] = '\0';
    if (json_object_get(root, name))
        return false; /* duplicate: jansson's last-wins rule decides */
    json_scan_ws(sc);
    if (strcmp(name, "sms_data") == 0 && sc->p < sc->end && *sc->p == '[') {
        if (!read_sms_list(sc, sms))
            return false;
        v = json_array(); /* the items are in sms */
    } else {
        v = read_other(sc);
    }
    return v && json_object_set_new(root, name, v) == 0;
}

json_t *inline_scan_body(const char *body, size_t len, struct raw_sms_list *sms)
{
    struct json_scan sc;
    json_t *root = json_object();
    bool ok = true;

    raw_sms_list_init(sms);
    json_scan_init(&sc, body, len);
    if (!json_scan_eat(&sc, '{')) {
        ok = false;
    } else if (!json_scan_eat(&sc, '}')) {
        do
            ok = read_member(&sc, root, sms);
        while (ok && json_scan_eat(&sc, ','));
        ok = ok && json_scan_eat(&sc, '}');
    }
    ok = ok && json_scan_done(&sc);
    json_scan_free(&sc);
    if (ok)
        return root;
    json_decref(root);
    raw_sms_list_free(sms);
    raw_sms_list_init(sms);
    return NULL;
}
