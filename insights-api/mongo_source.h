/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading one user's synced data from MongoDB sync_db: the SMS, apps and
 * device collections of docs/data-model.md, by {client_id, user_id}. A user
 * synced several times has several documents per collection; they are merged
 * here as the data model says (SMS deduplicated by sms_id with the latest
 * sync's copy kept, apps deduplicated by package with the latest sync's copy
 * kept, the latest device document wins). Only top-level fields are
 * projected and everything else is done in C, so the same code is right on
 * MongoDB, DocumentDB and the CongoDB test peer.
 *
 * Three outcomes a caller must tell apart:
 *   ERR_OK                      at least one document in some collection;
 *                               a collection with none is SOURCE_EMPTY
 *   ERR_USER_NOT_FOUND          no document in any (enabled) collection
 *   ERR_DEPENDENCY_UNAVAILABLE  MongoDB unreachable (server selection timed
 *                               out, pool wait timed out) or a query failed:
 *                               the API answers 503
 * Document contents never reach logs or error messages.
 *
 * Logging: the first mongo_source_new installs a libmongoc log handler that
 * drops libmongoc's DEBUG/INFO chatter (failed heartbeats) and passes
 * warnings and errors to libmongoc's default handler (stderr); a daemon that
 * wants them in its own log sets its handler after mongo_source_new.
 *
 * Thread safety: one struct mongo_source (a mongoc_client_pool_t) is shared
 * by all worker threads; each read pops a client for its duration.
 */
#ifndef INSIGHTS_MONGO_SOURCE_H
#define INSIGHTS_MONGO_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "insights-api/userdata.h"
#include "insights-api/userdata_build.h"

/* Collection names (docs/data-model.md; Credeau's sync_db names). */
#define MONGO_SOURCE_SMS_COLLECTION "sms_sync_request_sms_data"
#define MONGO_SOURCE_APPS_COLLECTION "device_sync_request_apps_data"
#define MONGO_SOURCE_DEVICE_COLLECTION "device_sync_request_device_data"

/*
 * The DI_MONGODB_* values, as the daemon's config table parsed them (strings
 * may be "" = unset; none is kept after mongo_source_new returns). When uri
 * is non-empty it is used as is (TLS, DocumentDB, replica sets: every option
 * in the URI) and the parts below except database and wait_queue_timeout_ms
 * are ignored; database then defaults to the URI's database, else "sync_db".
 */
struct mongo_source_config {
    const char *uri;                  /* DI_MONGODB_URI: full override */
    const char *username;             /* DI_MONGODB_USERNAME ("" = no auth) */
    const char *password;             /* DI_MONGODB_PASSWORD (secret) */
    const char *host;                 /* DI_MONGODB_HOST */
    long port;                        /* DI_MONGODB_PORT (0 = 27017) */
    const char *database;             /* DI_MONGODB_DATABASE ("" = "sync_db") */
    const char *enabled_sources;      /* DI_MONGODB_ENABLED_SOURCES: "sms,apps,device" subset;
                                         "" = all; others read as SOURCE_NOT_ASKED */
    long max_pool_size;               /* DI_MONGODB_MAX_POOL_SIZE (0 = 40) */
    long min_pool_size;               /* DI_MONGODB_MIN_POOL_SIZE (kept in the URI) */
    long server_selection_timeout_ms; /* DI_MONGODB_SERVER_SELECTION_TIMEOUT_MS (0 = 30000) */
    long connect_timeout_ms;          /* DI_MONGODB_CONNECT_TIMEOUT_MS (0 = 30000) */
    long socket_timeout_ms;           /* DI_MONGODB_SOCKET_TIMEOUT_MS (0 = 30000) */
    bool retry_writes;                /* DI_MONGODB_RETRY_WRITES (we never write) */
    long wait_queue_timeout_ms;       /* DI_MONGODB_WAIT_QUEUE_TIMEOUT_MS (0 = 5000): how
                                         long a read waits for a free pooled client */
    long max_sms;                     /* global cap: most recent N SMS (0 = USER_DATA_MAX_SMS) */
};

struct mongo_source;

/*
 * Build the pool (no network I/O: MongoDB may come up later). Returns NULL
 * with err set (never containing the password) on a bad URI or option.
 */
struct mongo_source *mongo_source_new(const struct mongo_source_config *cfg, char *err,
                                      size_t err_len);
void mongo_source_free(struct mongo_source *ms);

/*
 * Read one user. u must come from user_data_init; sms must be an empty
 * raw_sms_list. On ERR_OK: u->apps/apps_state and u->device/device_state are
 * filled (SOURCE_OK or SOURCE_EMPTY; SOURCE_NOT_ASKED when disabled), the
 * raw messages are in sms (deduplicated, sorted by time, the most recent
 * max_sms kept, where max_sms 0 means the global cap and a larger value is
 * lowered to it), and u->sms_state is SOURCE_EMPTY when there are none, else
 * left for the caller (extraction decides OK or FAILED).
 * Facts dated after as_of are not taken (the request's as_of; INT64_MAX
 * keeps everything): messages dated after it (cut before the max_sms cap,
 * so the cap keeps the most recent as of then), apps installed after it (an
 * older document's copy wins), device documents captured after it (the
 * latest one before wins); update times after it are forgotten.
 * The want_* flags skip collections a request does not need (their states
 * become SOURCE_NOT_ASKED). *found is false when none of the collections
 * read holds a document of the user (an answer, not an error: ERR_OK with u
 * and sms left as they were).
 * On errors u and sms are left as they were.
 */
enum err mongo_source_read(struct mongo_source *ms, const char *client_id, const char *user_id,
                           bool want_sms, bool want_apps, bool want_device, size_t max_sms,
                           int64_t as_of, struct user_data *u, struct raw_sms_list *sms,
                           bool *found, char *err, size_t err_len);

/*
 * The state of the user's synced data as a short text ("<documents>-<hash of
 * their _id>" over the enabled collections): it changes when the user syncs
 * again (a new document) or a document goes, and *found says whether any
 * document is there. Reads only _id. ERR_OK, or ERR_DEPENDENCY_UNAVAILABLE.
 */
#define MONGO_SOURCE_STAMP_MAX 40
enum err mongo_source_stamp(struct mongo_source *ms, const char *client_id, const char *user_id,
                            char out[MONGO_SOURCE_STAMP_MAX + 1], bool *found, char *err,
                            size_t err_len);

/* A ping (for /ready and start-up): ERR_OK or ERR_DEPENDENCY_UNAVAILABLE. */
enum err mongo_source_ping(struct mongo_source *ms, char *err, size_t err_len);

#endif
