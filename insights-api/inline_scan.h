/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An insights-api request body read in one pass, its sms_data apart
 * (inline_scan.c says why). The result is what jansson would give, split
 * in two: a tree of every member but the messages, in which sms_data is an
 * empty list, and the messages themselves as a raw_sms_list, each known to
 * pass inline_source.c's item checks. inline_source_parse_json takes both.
 */
#ifndef INSIGHTS_INLINE_SCAN_H
#define INSIGHTS_INLINE_SCAN_H

#include <jansson.h>
#include <stddef.h>

#include "insights-api/userdata_build.h"

/*
 * Scan body[0..len). On success returns the top-level object (owned by the
 * caller) and sms holds the messages of sms_data in order (empty when
 * sms_data is absent or not a list: then the tree holds it as sent). Returns
 * NULL when declined (anything unusual, malformed or invalid): sms is then
 * empty and the caller parses the body with jansson as before.
 */
json_t *inline_scan_body(const char *body, size_t len, struct raw_sms_list *sms);

#endif
