/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The records of POST /api/fetch_extracted_data as Credeau documents them
 * (credeau.md §3.2): the extractor's record of each message, with the fields
 * Credeau's records carry that the extractor has no reason to know (the
 * owner, the request, the message text, when the record was made, the
 * *_nlp twins), amounts as JSON reals (80.0), newest message first. Our own
 * extra fields (sms_kind, party_kind, available_balance, ...) stay.
 */
#ifndef INSIGHTS_FETCH_RECORDS_H
#define INSIGHTS_FETCH_RECORDS_H

#include <jansson.h>
#include <stdbool.h>

#include "insights-api/userdata_build.h"

struct fetch_records_ctx {
    const char *client_id;
    const char *user_id;
    const char *request_id;
    double created_at; /* the request's time: created_at / created_date */
    bool with_body;    /* FETCH_SMS_BODY: sms_body from the synced message */
};

/*
 * A new array of Credeau-shaped records from records (the extractor's, one
 * per raw message, in raw's order: oldest first), newest first. records is
 * borrowed; NULL gives [].
 */
json_t *fetch_records_credeau(const json_t *records, const struct raw_sms_list *raw,
                              const struct fetch_records_ctx *ctx);

#endif
