/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The POST /api/extract reply:
 *   {"request_id":"...","extracted_sms_data":[<record>, ...]}
 * one record per input message, in input order, keys in the fixed order of
 * the contract (see docs/api-sms-extraction.md). Absent values are null.
 * Or, when the caller asked for it (common/extract_form.h), the internal
 * rows form: {"form":"rows-1","request_id":"...","fields":[<key>, ...],
 * "rows":[[<value>, ...], ...]}, the same values as arrays in the order of
 * "fields"; rows-2 is the same without the two fields that echo the
 * message sent (sms_id, sms_inbox_date). Written straight into a reused
 * json_writer: no allocation per message.
 */
#ifndef SMSX_RESPONSE_H
#define SMSX_RESPONSE_H

#include "common/json_writer.h"
#include "sms-extraction/extract.h"
#include "sms-extraction/request.h"

enum response_form {
    RESPONSE_PUBLIC = 0,   /* records as objects: every caller that does not ask */
    RESPONSE_ROWS,         /* records as arrays after a field list (EXTRACT_FORM_ROWS) */
    RESPONSE_ROWS_NO_ECHO, /* the same without the echoed fields (EXTRACT_FORM_ROWS_NO_ECHO) */
};

/* The form asked for by the EXTRACT_FORM_HEADER value (NULL: not sent). */
enum response_form response_form_asked(const char *header);

/* Opens the reply object and the record array. */
void response_begin(struct json_writer *w, enum response_form form, const char *request_id);
/* One record: the message's own fields from in, the rest from rec. */
void response_record(struct json_writer *w, enum response_form form, const struct request_sms *in,
                     const struct extract_record *rec);
/* Closes the array and the object. */
void response_end(struct json_writer *w);

/* "debit-transaction", "credit-transaction" or NULL. */
const char *response_direction_name(enum extract_direction d);

#endif
