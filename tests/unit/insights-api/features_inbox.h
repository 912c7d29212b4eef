/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper (header only): a borrower's raw data through the real parts
 * the service uses, in process: the inline-body parser (apps, device, raw
 * SMS, exactly as POST /api/generate_features reads them) and the
 * extraction engine with the shipped rules (sms-extraction/rules/), into a
 * struct user_data ready for features_compute. The planted-truth and
 * persona tests use it, so what they check is what a request would get.
 */
#ifndef TESTS_FEATURES_INBOX_H
#define TESTS_FEATURES_INBOX_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "insights-api/inline_source.h"
#include "insights-api/userdata_build.h"
#include "sms-extraction/extract.h"

static struct extract_rules *inbox_rules;

static inline int inbox_rules_load(void)
{
    size_t lv, lc, lr;
    char err[256];
    char *v = file_read("sms-extraction/rules/vocabulary.json", 0, &lv, NULL, 0);
    char *c = file_read("sms-extraction/rules/classification.json", 0, &lc, NULL, 0);
    char *r = file_read("sms-extraction/rules/regex.json", 0, &lr, NULL, 0);
    int rc =
        v && c && r ? extract_rules_load(v, lv, c, lc, r, lr, &inbox_rules, err, sizeof(err)) : -1;
    if (rc < 0)
        fprintf(stderr, "rules: %s\n", v && c && r ? err : "missing");
    free(v);
    free(c);
    free(r);
    return rc;
}

static inline const char *inbox_str(struct user_data *u, const char *s)
{
    return s && *s ? user_data_strdup(u, s) : NULL;
}

static inline enum sms_direction inbox_direction(enum extract_direction d)
{
    return d == EXTRACT_DIRECTION_DEBIT    ? SMS_DIRECTION_DEBIT
           : d == EXTRACT_DIRECTION_CREDIT ? SMS_DIRECTION_CREDIT
                                           : SMS_DIRECTION_NONE;
}

/* Every raw message through the extractor into u's SMS facts, in time order. */
static inline void inbox_extract(struct user_data *u, const struct raw_sms_list *raw)
{
    struct extract_scratch *scratch = extract_scratch_new(inbox_rules);
    struct extract_record r;
    for (size_t i = 0; i < raw->count; i++) {
        const struct raw_sms *m = &raw->items[i];
        const char *sender = m->sender ? m->sender : "";
        extract_message(inbox_rules, scratch, sender, strlen(sender), m->body, m->body_len, &r);
        struct sms_fact *f = user_data_add_sms(u);
        *f = (struct sms_fact){
            .ts = m->ts,
            .sms_id = inbox_str(u, m->sms_id),
            .sender = inbox_str(u, r.sender),
            .sender_name = inbox_str(u, r.sender_name),
            .sender_type = inbox_str(u, r.sender_type),
            .sms_type = inbox_str(u, r.sms_type),
            .sms_sub_type =
                inbox_str(u, r.sms_kind), /* the fine kind, as extraction_reply.c reads it */
            .channel = inbox_str(u, r.channel),
            .transaction_party = inbox_str(u, r.transaction_party),
            .party_kind = inbox_str(u, r.party_kind),
            .account_last_digits = inbox_str(u, r.account_last_digits),
            .unique_pan = inbox_str(u, r.unique_pan),
            .reference_no = inbox_str(u, r.reference_no),
            .is_classified = r.is_classified,
            .is_extracted = r.is_extracted,
            .is_transactional = r.is_transactional,
            .direction = inbox_direction(r.direction),
            .amount = r.amount,
            .available_balance = r.available_balance,
            .credit_limit = r.credit_limit,
            .available_limit = r.available_limit,
            .due_amount = r.due_amount,
            .min_due = r.min_due,
            .overdue_amount = r.overdue_amount,
            .days_past_due = r.days_past_due};
    }
    extract_scratch_free(scratch);
    user_data_sort_sms(u);
    u->sms_state = u->sms_count ? SOURCE_OK : SOURCE_EMPTY;
}

/*
 * An inline request body ({"client_id", "user_id", "sms_data", "apps_data",
 * "device_data"}) into u at now. Returns 0, or -1 when the parser refuses it.
 */
static inline int inbox_from_body(const json_t *body, int64_t now, struct user_data *u)
{
    struct raw_sms_list raw;
    json_t *detail = NULL;
    raw_sms_list_init(&raw);
    if (inline_source_parse_json(body, now, 0, 0, u, &raw, &detail) < 0) {
        char *d = json_dumps(detail, JSON_COMPACT);
        fprintf(stderr, "inline body refused: %s\n", d ? d : "?");
        free(d);
        json_decref(detail);
        raw_sms_list_free(&raw);
        return -1;
    }
    inbox_extract(u, &raw);
    raw_sms_list_free(&raw);
    return 0;
}

/* A tools/gen-users user file ({client_id, user_id, sms, apps, device}) into u at now. */
static inline int inbox_from_user_file(const char *path, int64_t now, struct user_data *u)
{
    json_error_t je;
    json_t *f = json_load_file(path, 0, &je);
    if (!f)
        return -1;
    json_t *body = json_pack(
        "{s:O, s:O, s:O, s:O, s:O}", "client_id", json_object_get(f, "client_id"), "user_id",
        json_object_get(f, "user_id"), "sms_data", json_object_get(f, "sms"), "apps_data",
        json_object_get(f, "apps"), "device_data", json_object_get(f, "device"));
    int rc = body ? inbox_from_body(body, now, u) : -1;
    json_decref(body);
    json_decref(f);
    return rc;
}

#endif
