/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fast path of request parsing: a single-pass scanner for the common
 * case, a well-formed and valid batch, that fills a struct request without
 * building a JSON tree. It declines (and request_parse falls back to the
 * jansson path, which produces the 422 detail) on anything unusual: a
 * validation problem, a duplicate known key, a real number where an id or
 * date is, deep nesting. When it accepts, the result is identical to the
 * jansson path's (tests/fuzz/fuzz_extract_request.c checks this).
 */
#ifndef SMSX_REQUEST_SCAN_H
#define SMSX_REQUEST_SCAN_H

#include <stddef.h>

#include "sms-extraction/request.h"

/*
 * Scan body into req (which must be reset). Returns 0 and sets *request_id
 * (the body's request_id, or NULL when absent or null) on success; -1 when
 * the fast path declines, with req left partly filled (reset it).
 */
int request_scan(struct request *req, const char *body, size_t len, size_t max_sms,
                 const char **request_id);

#endif
