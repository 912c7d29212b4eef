/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Turning one sms-extraction reply (200, {"request_id": ..., "extracted_sms_data":
 * [records]}, or the internal rows forms {"form": "rows-1" or "rows-2", ...,
 * "fields": [...], "rows": [[...], ...]}, see docs/api-sms-extraction.md) into
 * struct sms_fact records. Used by extraction_client.c; public for its tests and fuzzer.
 *
 * Two parsers give the same facts: a scanner for the flat records the
 * extractor writes (no tree, no hashing: several times faster than building
 * a jansson tree of a 1 MB reply), and jansson, which also yields the
 * records as JSON (fetch_extracted_data) and is the fallback whenever the
 * scanner meets anything it does not handle (nested values, \u0000, odd
 * syntax). Errors are always reported by the jansson path, so both give the
 * same messages.
 */
#ifndef INSIGHTS_EXTRACTION_REPLY_H
#define INSIGHTS_EXTRACTION_REPLY_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"
#include "insights-api/userdata.h"
#include "insights-api/userdata_build.h"

enum extraction_reply_mode {
    EXTRACTION_REPLY_AUTO = 0, /* scanner, jansson on anything unexpected */
    EXTRACTION_REPLY_JANSSON,  /* always jansson */
    EXTRACTION_REPLY_SCAN,     /* scanner only: ERR_DEPENDENCY_UNAVAILABLE where AUTO falls back */
};

/*
 * A reply whose first member is "form" is read as the rows form whatever the
 * mode (which chooses between the public form's two parsers); with records
 * not NULL it is refused (the rows form has no records to hand on).
 *
 * Parse body[0..len) (NUL-terminated at len, as http_client returns it) and
 * append exactly `expect` facts to u, in record order; record i falls back to
 * msgs[i]'s time and id when its own are missing or unreadable (msgs may be
 * NULL). With records not NULL (jansson is then used whatever the mode), the
 * records are appended to that array as the extractor sent them.
 * Returns ERR_OK, or with why set (never message content) and u->sms_count
 * restored: ERR_DEPENDENCY_UNAVAILABLE (not the documented shape) or
 * ERR_INTERNAL (record count != expect, or the per-user cap reached). A rows
 * reply that is malformed, names another form, lists a field twice or lacks
 * a field the facts need is ERR_DEPENDENCY_UNAVAILABLE.
 */
enum err extraction_reply_parse(const char *body, size_t len, size_t expect,
                                const struct raw_sms *msgs, enum extraction_reply_mode mode,
                                struct user_data *u, json_t *records, char *why, size_t why_len);

#endif
