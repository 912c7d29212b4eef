/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the store writer (store.c, store_rows.c, store_spool.c): the
 * queued row, how a row is written to PostgreSQL and to the spool, and the
 * spool file itself. Not for other modules: use store.h.
 */
#ifndef INSIGHTS_STORE_IMPL_H
#define INSIGHTS_STORE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include "insights-api/store.h"

enum store_row_kind {
    STORE_ROW_USAGE = 0,
    STORE_ROW_UNAUTHORIZED,
    STORE_ROW_REQUEST,
    STORE_ROW_RESPONSE,
    STORE_ROW_PREDICTION, /* prediction_log (user_id kept only for the forgotten_users check) */
};

/* One row to write. Every string is owned by the row (NULL = SQL NULL). */
struct store_row {
    struct store_row *next;
    enum store_row_kind kind;
    enum store_api api;
    double created_at; /* epoch seconds */
    char *request_id, *client_id, *user_id, *api_name;
    char *client_request_id; /* the client's X-Request-Id, beside ours (NULL: none) */
    char *cutoff_date;       /* request dumps */
    char *groupings;         /* insights response dumps (JSON array) */
    char *token_prefix;      /* unauthorized */
    char *payload;           /* request or response JSON (DUMP_MODE=full only) */
    char *time_json;
    char *user_key; /* prediction: hex HMAC of user_id */
    char *score_name, *model_version, *arm, *digest, *null_reason; /* prediction */
    double as_of;                                                  /* prediction; < 0 = NULL */
    double value;                                                  /* prediction; NAN = NULL */
    bool shadow;                                                   /* prediction */
    long long bytes; /* request/response size; < 0 = unknown */
    int response_code;
    double time_to_featurize;
    size_t mem; /* bytes charged to the queue */
};

/* Allocation failure aborts. */
struct store_row *store_row_new(enum store_row_kind kind);
void store_row_free(struct store_row *row);
/*
 * Sets *field to a copy of at most max bytes of s, cut at a character
 * boundary, with every byte that is not valid UTF-8 written as \xHH (so
 * PostgreSQL and the spool accept any header a client sends); NULL stays NULL.
 */
void store_row_set(struct store_row *row, char **field, const char *s, size_t max);
/* The table a row goes to (for metric labels). */
const char *store_row_table(const struct store_row *row);

enum store_write_result {
    STORE_WRITE_OK = 0,  /* inserted, or skipped as a duplicate / forgotten user */
    STORE_WRITE_INVALID, /* the server refused this row (bad data): drop it */
    STORE_WRITE_DOWN,    /* the connection failed: keep the row */
};

/* Insert one row (no transaction handling). err gets the server message. */
enum store_write_result store_row_write(PGconn *conn, const struct store_row *row, char *err,
                                        size_t err_len);

/* One spool line (JSON, no newline), malloc'd; NULL if it cannot be encoded. */
char *store_row_encode(const struct store_row *row, size_t *len);
/* Parse one spool line; NULL when it is not a valid row. */
struct store_row *store_row_decode(const char *line, size_t len);

/* The spool file: appended by the writer, replayed from a saved offset. */
struct store_spool {
    int fd;
    char *path, *offset_path;
    off_t size;   /* bytes in the file */
    off_t offset; /* bytes already replayed */
    size_t max_bytes;
};

/*
 * Open (creating, mode 0600) path and its "<path>.offset" sidecar. A torn
 * last line left by a crash is terminated so the next append starts clean.
 * Returns 0 or -1 with err.
 */
int store_spool_open(struct store_spool *sp, const char *path, size_t max_bytes, char *err,
                     size_t err_len);
void store_spool_close(struct store_spool *sp);
bool store_spool_pending(const struct store_spool *sp);

/*
 * Append the rows of the list (in order) and fdatasync once. Rows that do
 * not fit under max_bytes (or cannot be encoded) are not written: *dropped
 * counts them. Returns the number written, or -1 on an I/O error (err set;
 * nothing counted as written).
 */
int store_spool_append(struct store_spool *sp, const struct store_row *rows, size_t *dropped,
                       char *err, size_t err_len);

/*
 * Read up to max rows from the replay offset. Returns a list (in order) and
 * sets *next to the offset after them; *bad counts undecodable lines
 * skipped. Returns NULL with *next == offset when nothing is pending.
 */
struct store_row *store_spool_read(struct store_spool *sp, size_t max, off_t *next, size_t *bad);

/*
 * Mark everything before next as replayed: saved in the sidecar, and the
 * file is truncated once fully replayed. Returns 0 or -1 with err.
 */
int store_spool_commit(struct store_spool *sp, off_t next, char *err, size_t err_len);

#endif
