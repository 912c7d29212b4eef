/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON-lines logging on stdout. One event = one line = one write(2), so lines
 * from different threads never interleave:
 *
 *   {"ts":"2026-11-22T19:17:20.123Z","level":"info","msg":"listening",
 *    "request_id":"4f0c...","port":8082}
 *
 * The API is shaped for privacy: a line carries a fixed message plus typed
 * fields, and string fields are capped at LOG_STR_MAX bytes (longer values
 * are cut and end in "..."), so a line can hold ids, names, counts, sizes,
 * statuses and latencies but not a request body. Never pass message text,
 * tokens, keys or payloads as fields. Messages are lowercase, no full stop,
 * "what failed" first (house style rule 10).
 *
 * Usage:
 *   log_info(NULL, "listening", LOG_INT("port", port));
 *   log_warn(http_request_id(req), "db write failed", LOG_STR("dependency", "postgres"),
 *            LOG_INT("attempt", n));
 *
 * Library code does not log (it fills err buffers); daemons and the HTTP
 * framework do.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
};

#define LOG_STR_MAX 256 /* string field values are cut to this many bytes */

enum log_field_type {
    LOG_FIELD_STR,    /* escaped JSON string, capped at LOG_STR_MAX; NULL -> null */
    LOG_FIELD_INT,    /* long long */
    LOG_FIELD_DOUBLE, /* double, non-finite -> null */
    LOG_FIELD_BOOL,   /* bool */
    LOG_FIELD_JSON,   /* pre-encoded JSON value copied verbatim (config summary);
                         must come from our own serialisers, never from input */
};

struct log_field {
    const char *key;
    enum log_field_type type;
    union {
        const char *s;
        long long i;
        double d;
        bool b;
    } v;
};

#define LOG_STR(k, val) ((struct log_field){.key = (k), .type = LOG_FIELD_STR, .v.s = (val)})
#define LOG_INT(k, val)                                                                            \
    ((struct log_field){.key = (k), .type = LOG_FIELD_INT, .v.i = (long long)(val)})
#define LOG_DOUBLE(k, val)                                                                         \
    ((struct log_field){.key = (k), .type = LOG_FIELD_DOUBLE, .v.d = (double)(val)})
#define LOG_BOOL(k, val) ((struct log_field){.key = (k), .type = LOG_FIELD_BOOL, .v.b = (val)})
#define LOG_JSON(k, val) ((struct log_field){.key = (k), .type = LOG_FIELD_JSON, .v.s = (val)})

/*
 * Emit one line if level passes the threshold. request_id may be NULL (no
 * "request_id" key). fields may be NULL when n is 0. Thread-safe.
 */
void log_emit(enum log_level level, const char *request_id, const char *msg,
              const struct log_field *fields, size_t n);

/* Leveled macros: first argument is the request id (or NULL), then the message, then fields. */
#define LOG_AT_(level, rid, msg, ...)                                                              \
    do {                                                                                           \
        if ((level) >= log_get_level()) {                                                          \
            const struct log_field log_fields_[] = {{.key = NULL}, ##__VA_ARGS__};                 \
            log_emit((level), (rid), (msg), log_fields_ + 1,                                       \
                     sizeof(log_fields_) / sizeof(log_fields_[0]) - 1);                            \
        }                                                                                          \
    } while (0)
#define log_debug(rid, msg, ...) LOG_AT_(LOG_LEVEL_DEBUG, rid, msg, ##__VA_ARGS__)
#define log_info(rid, msg, ...) LOG_AT_(LOG_LEVEL_INFO, rid, msg, ##__VA_ARGS__)
#define log_warn(rid, msg, ...) LOG_AT_(LOG_LEVEL_WARN, rid, msg, ##__VA_ARGS__)
#define log_error(rid, msg, ...) LOG_AT_(LOG_LEVEL_ERROR, rid, msg, ##__VA_ARGS__)

/* Threshold (default LOG_LEVEL_INFO). Atomic: may be changed at any time. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* "debug"|"info"|"warn"|"error" (any case; "warning" accepted). Returns 0 or -1. */
int log_level_parse(const char *text, enum log_level *out);
const char *log_level_name(enum log_level level);

/*
 * Where lines go: a file descriptor (default 1 = stdout). Tests point it at a
 * pipe. Not thread-safe against concurrent log_emit: set it before threads start.
 */
void log_set_fd(int fd);

/*
 * Optional constant fields added to every line after "msg" (e.g. "service").
 * The strings are not copied: pass literals. Set before threads start.
 */
void log_set_service(const char *service);

#endif
