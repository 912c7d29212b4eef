/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The raw data sent inline to POST /api/generate_features:
 *
 *   {"user_id": "...", "client_id": "...",
 *    "sms_data":    [raw SMS items, docs/data-model.md],
 *    "apps_data":   [app items],
 *    "device_data": {device object},
 *    ...other members ignored}
 *
 * parsed into the same raw form the MongoDB source produces (a struct
 * user_data with apps and device, and a raw_sms_list), so the pipeline after
 * it does not care where the data came from. Validation follows the
 * pydantic-v2 conventions of sms-extraction/request.h: all problems are
 * reported together (up to INLINE_SOURCE_MAX_ERRORS) as a JSON array of
 * detail items {type, loc, msg, input[, ctx]} that the API replies with
 * 422, and no item ever echoes message text: any sms_body value, and any
 * echoed object or list that could contain one, is "[redacted]".
 *
 * A missing sms_data / apps_data / device_data member (or null) is an
 * empty source (SOURCE_EMPTY), not an error: a borrower may refuse a
 * permission. The SMS are deduplicated by sms_id (last wins), sorted by time,
 * cut at `now` (the request's as_of: messages dated after it, apps installed
 * after it and a device captured after it are dropped, update times after it
 * forgotten; userdata_build.h) and capped to the most recent max_sms, exactly
 * as from MongoDB.
 */
#ifndef INSIGHTS_INLINE_SOURCE_H
#define INSIGHTS_INLINE_SOURCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/validation.h"
#include "insights-api/userdata.h"
#include "insights-api/userdata_build.h"

#define INLINE_SOURCE_MAX_ERRORS 100 /* detail items collected before validation stops */
#define INLINE_SOURCE_REDACTED VALIDATION_REDACTED

/*
 * Validate and convert an already parsed body (the API parses once to read
 * the ids for auth). On success returns 0: u (initialised here with the
 * body's client_id and user_id and the given now) owns the apps, device and
 * ids; sms holds the raw messages; u->sms_state is SOURCE_EMPTY when there
 * are none (else left for extraction to decide); apps_state and device_state
 * are SOURCE_OK or SOURCE_EMPTY. max_sms > 0 caps the messages kept
 * (the most recent); the list itself may be longer up to max_items, above
 * which it is a 422 too_long (0 = USER_DATA_MAX_SMS).
 * On failure returns -1, u and sms are left empty (still to be freed by the
 * caller) and *detail is a new JSON array owned by the caller.
 */
int inline_source_parse_json(const json_t *root, int64_t now, size_t max_sms, size_t max_items,
                             struct user_data *u, struct raw_sms_list *sms, json_t **detail);

/*
 * The same for a body read by inline_scan_body: root with sms_data's stand-in,
 * scanned its messages (taken over on success; the caller frees what is left).
 */
int inline_source_parse_scanned(const json_t *root, struct raw_sms_list *scanned, int64_t now,
                                size_t max_sms, size_t max_items, struct user_data *u,
                                struct raw_sms_list *sms, json_t **detail);

/*
 * A time value as the request's times are given: epoch seconds or
 * milliseconds (pydantic's 2e10 rule) as an integer, float or digit string,
 * or a date text in India time or with a zone. Returns 0 with *ts in Unix
 * seconds, or -1 with *why set (NULL when the JSON type itself is wrong).
 */
int inline_source_parse_time(const json_t *v, int64_t *ts, const char **why);

struct validation;

/*
 * A request member (t, present and not null) that must be such a time and
 * not after `latest` (Unix seconds): 0 with *ts, or -1 with pydantic's item
 * added to v at loc field (datetime_type, datetime_from_date_parsing or
 * datetime_past). echo gives what of t the item may carry as its input.
 */
int inline_source_check_past_time(struct validation *v, const char *field, const json_t *t,
                                  double latest, json_t *(*echo)(const json_t *), int64_t *ts);

/*
 * The same from body bytes. Broken JSON gives one item of type json_invalid
 * with loc ["body", <byte offset>] and input {} (never the text); an empty
 * body gives type missing, loc ["body"].
 */
int inline_source_parse(const char *body, size_t len, int64_t now, size_t max_sms, size_t max_items,
                        struct user_data *u, struct raw_sms_list *sms, json_t **detail);

#endif
