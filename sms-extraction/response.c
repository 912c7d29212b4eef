/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Serialising extraction records. The key order is a contract with clients
 * that compare replies textually and with insights-api, so it is written out
 * in one function, top to bottom, in exactly the contract's order. The
 * engine marks absence three ways (NULL pointer, empty char array, NAN);
 * all three become JSON null here, in one place.
 */
#include "sms-extraction/response.h"

#include <math.h>

void response_begin(struct json_writer *w, const char *request_id)
{
    json_writer_object_begin(w);
    json_writer_kv_string(w, "request_id", request_id);
    json_writer_key(w, "extracted_sms_data");
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

/* NULL and "" are both absent. */
static void kv_text(struct json_writer *w, const char *key, const char *s)
{
    json_writer_key(w, key);
    if (s && *s)
        json_writer_string(w, s);
    else
        json_writer_null(w);
}

/* NAN (or any non-finite value) is absent. */
static void kv_number(struct json_writer *w, const char *key, double v)
{
    json_writer_key(w, key);
    if (!isfinite(v))
        json_writer_null(w);
    else if (v == (double)(long long)v && v > -1e15 && v < 1e15)
        json_writer_int(w, (long long)v); /* same text as %.17g, without printf's cost */
    else
        json_writer_double(w, v);
}

void response_record(struct json_writer *w, const struct request_sms *in,
                     const struct extract_record *rec)
{
    json_writer_object_begin(w);
    kv_text(w, "sms_id", in->sms_id);
    kv_text(w, "sms_sender", in->sender ? rec->sender : NULL);
    kv_text(w, "sms_inbox_date", in->inbox_date);
    kv_text(w, "sender_name", rec->sender_name);
    kv_text(w, "sender_type", rec->sender_type);
    kv_text(w, "sms_type", rec->sms_type);
    kv_text(w, "sms_sub_type", rec->sms_sub_type);
    kv_text(w, "sms_kind", rec->sms_kind);
    json_writer_kv_bool(w, "is_classified", rec->is_classified);
    json_writer_kv_bool(w, "is_extracted", rec->is_extracted);
    json_writer_kv_bool(w, "is_transactional", rec->is_transactional);
    kv_number(w, "transaction", rec->amount);
    kv_text(w, "transaction_type", response_direction_name(rec->direction));
    kv_text(w, "account_last_digits", rec->account_last_digits);
    kv_text(w, "transaction_party", rec->transaction_party);
    kv_text(w, "party_kind", rec->party_kind);
    kv_text(w, "unique_pan", rec->unique_pan);
    kv_number(w, "available_balance", rec->available_balance);
    kv_text(w, "reference_no", rec->reference_no);
    kv_text(w, "channel", rec->channel);
    kv_text(w, "transaction_date", rec->transaction_date);
    kv_number(w, "credit_limit", rec->credit_limit);
    kv_number(w, "available_limit", rec->available_limit);
    kv_number(w, "due_amount", rec->due_amount);
    kv_number(w, "min_due", rec->min_due);
    kv_text(w, "due_date", rec->due_date);
    kv_number(w, "overdue_amount", rec->overdue_amount);
    kv_number(w, "days_past_due", rec->days_past_due);
    kv_text(w, "currency", rec->currency);
    kv_text(w, "template_id", rec->template_id);
    json_writer_object_end(w);
}
