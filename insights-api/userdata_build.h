/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building a struct user_data (insights-api/userdata.h) and the raw SMS list
 * that feeds the extraction client. Both sources (MongoDB, inline request
 * body) fill the same two things:
 *
 *   struct user_data      apps, device and their states, filled directly;
 *                         SMS facts appended later by the extraction client.
 *   struct raw_sms_list   the messages before extraction (id, sender, body,
 *                         time), deduplicated, sorted and capped here.
 *
 * DESIGN. Every string a user_data points to lives in one arena (a chain of
 * blocks, u->owner) freed at once by user_data_free; the sms and apps arrays
 * are separate growable arrays owned by the same user_data. A raw_sms_list
 * has its own arena, so the message bodies can be wiped and released as soon
 * as extraction is done, long before the features are computed. Each
 * collection has a hard cap (USER_DATA_MAX_*): adding past it fails instead
 * of growing. Allocation failure aborts with a log line (house rule 8).
 * Nothing here is thread-safe: one user_data is built by one thread.
 */
#ifndef INSIGHTS_USERDATA_BUILD_H
#define INSIGHTS_USERDATA_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "insights-api/userdata.h"

#define USER_DATA_MAX_SMS 200000 /* hard cap on sms facts and raw messages per user */
#define USER_DATA_MAX_APPS 20000 /* hard cap on apps per user */
#define USER_DATA_ID_MAX 128     /* client_id, sms_id: max length */
#define USER_DATA_USER_ID_MAX 64 /* user_id: max characters (Credeau: non-PII, at most 64) */

/*
 * Start an empty user_data: every state SOURCE_NOT_ASKED, no SMS or apps,
 * device numbers NAN. client_id and user_id are copied (NULL stays NULL).
 * Free with user_data_free (also fine on a zeroed struct).
 */
void user_data_init(struct user_data *u, const char *client_id, const char *user_id, int64_t now);

/* A copy of s[0..len) plus NUL, owned by u. s NULL -> NULL. */
const char *user_data_strndup(struct user_data *u, const char *s, size_t len);
/* A copy of the NUL-terminated s, owned by u. s NULL -> NULL. */
const char *user_data_strdup(struct user_data *u, const char *s);

/*
 * Append one SMS fact, zeroed with every number NAN and direction NONE.
 * The pointer is valid until the next user_data_add_sms. Returns NULL when
 * USER_DATA_MAX_SMS is reached.
 */
struct sms_fact *user_data_add_sms(struct user_data *u);
/* Drop SMS facts from index n on (undo a partial append). */
void user_data_truncate_sms(struct user_data *u, size_t n);

/* Append one app, zeroed. Valid until the next add. NULL past USER_DATA_MAX_APPS. */
struct app_fact *user_data_add_app(struct user_data *u);
/*
 * Find an app by package name (linear; for merging sync documents).
 * Returns NULL when absent.
 */
struct app_fact *user_data_find_app(struct user_data *u, const char *package_name);

/* Reset u->device to unknown (strings NULL, numbers NAN, ints 0). */
void user_data_device_clear(struct device_fact *d);

/*
 * As of a point in time (the request's as_of): drop the apps installed after
 * as_of, forget update times after it (unknown then), and forget a device
 * captured after it (device_state becomes SOURCE_EMPTY; so does apps_state
 * when no app is left). Facts without a date (time 0) are kept: nothing says
 * they came later. Call after the source set the states.
 */
void user_data_cut(struct user_data *u, int64_t as_of);
/* An app installed after as_of (a source skips it while merging, so an earlier copy wins). */
bool user_data_app_after(const struct app_fact *a, int64_t as_of);

/* Sort u->sms by ts ascending; equal times keep their order (stable). */
void user_data_sort_sms(struct user_data *u);

/* ---- raw messages, before extraction ------------------------------------ */

struct raw_sms {
    const char *sms_id; /* never NULL; at most USER_DATA_ID_MAX bytes */
    const char *sender; /* NULL when the message had none */
    const char *body;   /* never NULL; NUL-terminated; never log it */
    size_t body_len;
    int64_t ts;   /* Unix seconds (UTC); epoch ms inputs lose their milliseconds */
    uint32_t seq; /* insertion order, for stable sorting and dedupe */
};

struct raw_sms_list {
    struct raw_sms *items;
    size_t count;
    size_t cap;
    void *arena; /* private: owns the strings */
};

/* A zeroed list is valid; raw_sms_list_free wipes the bodies and frees everything. */
void raw_sms_list_init(struct raw_sms_list *l);
void raw_sms_list_free(struct raw_sms_list *l);

/*
 * Append a message; strings are copied (sender may be NULL, then sender_len
 * is ignored). Returns 0, or -1 when USER_DATA_MAX_SMS is reached.
 */
int raw_sms_list_add(struct raw_sms_list *l, const char *sms_id, size_t id_len, const char *sender,
                     size_t sender_len, const char *body, size_t body_len, int64_t ts)
    __attribute__((warn_unused_result));

/*
 * Keep one message per sms_id: the one added LAST wins (sources add older
 * sync documents first, so the latest sync's copy is kept). Order of the
 * survivors is not preserved: call raw_sms_list_sort afterwards.
 */
void raw_sms_list_dedupe(struct raw_sms_list *l);

/* Sort by ts ascending, then sms_id (strcmp), as docs/data-model.md orders a merge. */
void raw_sms_list_sort(struct raw_sms_list *l);

/*
 * After sorting: drop the messages dated after as_of (the request's as_of:
 * messages, like every fact, count only up to it). Call before
 * raw_sms_list_keep_latest, so the cap keeps the most recent ones as of then.
 */
void raw_sms_list_cut(struct raw_sms_list *l, int64_t as_of);

/*
 * After sorting: keep only the n most recent messages (the last n);
 * n == 0 keeps all.
 */
void raw_sms_list_keep_latest(struct raw_sms_list *l, size_t n);

#endif
