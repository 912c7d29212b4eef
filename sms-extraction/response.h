/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The POST /api/extract reply:
 *   {"request_id":"...","extracted_sms_data":[<record>, ...]}
 * one record per input message, in input order, keys in the fixed order of
 * the contract (see docs/api-sms-extraction.md). Absent values are null.
 * Written straight into a reused json_writer: no allocation per message.
 */
#ifndef SMSX_RESPONSE_H
#define SMSX_RESPONSE_H

#include "common/json_writer.h"
#include "sms-extraction/extract.h"
#include "sms-extraction/request.h"

/* Opens the reply object and the record array. */
void response_begin(struct json_writer *w, const char *request_id);
/* One record: the message's own fields from in, the rest from rec. */
void response_record(struct json_writer *w, const struct request_sms *in,
                     const struct extract_record *rec);
/* Closes the array and the object. */
void response_end(struct json_writer *w);

/* "debit-transaction", "credit-transaction" or NULL. */
const char *response_direction_name(enum extract_direction d);

#endif
