/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whether a call may go on, decided in one file: the client address on the
 * event thread (allow-list -> 403 page, rate limit -> 429), then on a pool
 * thread the body (FastAPI's 422 detail list through common/validation:
 * a JSON object, user_id, client_id, then the endpoint's own fields) and the
 * credentials (x-client-id and x-auth-token through auth.c; the header
 * client must be the body's client_id: 401 Credeau body; the clients table
 * unreachable and nothing cached: 503). A refused call is answered from the
 * error table; every refusal is counted, credential refusals are logged and
 * written to unauthorized_requests.
 */
#ifndef INSIGHTS_ADMISSION_H
#define INSIGHTS_ADMISSION_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "common/metrics.h"
#include "common/validation.h"
#include "insights-api/api_call.h"
#include "insights-api/auth.h"
#include "insights-api/ratelimit.h"
#include "insights-api/store.h"

#define ADMISSION_MAX_ERRORS 100 /* detail items collected before validation stops */

/*
 * The client address peer (with X-Forwarded-For xff, believed behind a
 * trusted proxy) at time now: ERR_OK, ERR_FORBIDDEN (not in the allow-list)
 * or ERR_RATE_LIMITED with *retry_after_s set. Non-blocking.
 */
enum err admission_address(struct ratelimit *rl, const char *peer, const char *xff, double now,
                           int *retry_after_s);

/*
 * Parse the body of call and check what every endpoint asks (a JSON object,
 * user_id, client_id) into v (from validation_init) and *ask; the caller
 * then adds the endpoint's own checks. Returns the tree (also ask->root; the
 * caller decrefs), or NULL when it is not an object (v says why). When the
 * body was read by inline_scan_body, sms_data holds its messages and
 * ask->sms_data points to it; the caller frees sms_data either way.
 */
json_t *admission_parse(const struct api_call *call, struct api_ask *ask,
                        struct raw_sms_list *sms_data, struct validation *v);

/* When v holds items: the 422 reply set on call, v's list freed, true. Else false. */
bool admission_refused(struct api_call *call, struct validation *v);

/* What checking credentials works with; borrowed. */
struct admission {
    struct auth *auth;
    struct store *store;            /* unauthorized_requests rows; may be NULL */
    struct metrics_counter *checks; /* credential checks by result */
};

/* Registers the checks counter in metrics. */
void admission_init(struct admission *a, struct auth *auth, struct store *store,
                    struct metrics *metrics);

/*
 * Credentials and the header/body client match. Returns 0, or -1 with the
 * reply (401, or 503 when they cannot be checked) set on call. ask NULL:
 * the credentials alone (from the head, no body yet). A call whose
 * credentials_checked is set (they passed from its head) only has the
 * client match left.
 */
int admission_credentials(const struct admission *a, struct api_call *call,
                          const struct api_ask *ask);

/* ---- checks for the endpoints' validate functions ---- */

/* groupings: a list of at most max known group names; fills ask->mask and ask->groupings. */
void admission_check_groupings(struct validation *v, const json_t *root, struct api_ask *ask,
                               long max);

/*
 * cnt_sms_threshold, optional: pydantic's lax int (10, 10.0, "10"), at least
 * 0; fills ask->threshold, max when absent, null, 0 or above max.
 */
void admission_check_threshold(struct validation *v, const json_t *root, struct api_ask *ask,
                               long max);

/*
 * as_of (optional): a time as the request's times are given (epoch seconds or
 * milliseconds, India time text, or zoned text), not after ask->now. Fills
 * ask->as_of (ask->now, floored, when absent or null) and ask->as_of_given.
 * Malformed -> datetime_type / datetime_from_date_parsing; later than the
 * call's time -> datetime_past.
 */
void admission_check_as_of(struct validation *v, const json_t *root, struct api_ask *ask);

#endif
