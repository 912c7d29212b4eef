/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON-lines logger. Each line is assembled in a stack buffer and handed to
 * the kernel with a single write(2), which is what keeps lines from different
 * threads whole without a lock (writes to a pipe or file up to PIPE_BUF/line
 * size are not interleaved in practice; we cap a line at LOG_LINE_MAX).
 * String values are capped at LOG_STR_MAX so the API cannot carry payloads.
 */
#include "common/log.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 8192
#define LOG_TAIL_RESERVE 24 /* room kept for ",\"truncated\":true}\n" */

static atomic_int log_threshold = LOG_LEVEL_INFO;
static int log_fd = 1;
static const char *log_service;

static const char *const log_names[] = {"debug", "info", "warn", "error"};

struct line {
    char buf[LOG_LINE_MAX];
    size_t len;
    int truncated;
};

void log_set_level(enum log_level level)
{
    atomic_store(&log_threshold, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load_explicit(&log_threshold, memory_order_relaxed);
}

void log_set_fd(int fd)
{
    log_fd = fd;
}

void log_set_service(const char *service)
{
    log_service = service;
}

const char *log_level_name(enum log_level level)
{
    if ((int)level < 0 || level > LOG_LEVEL_ERROR)
        return "info";
    return log_names[level];
}

int log_level_parse(const char *text, enum log_level *out)
{
    if (!text)
        return -1;
    for (int i = 0; i <= LOG_LEVEL_ERROR; i++) {
        if (strcasecmp(text, log_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(text, "warning") == 0) {
        *out = LOG_LEVEL_WARN;
        return 0;
    }
    return -1;
}

static void put(struct line *l, const char *s, size_t n)
{
    if (l->truncated || l->len + n > LOG_LINE_MAX - LOG_TAIL_RESERVE) {
        l->truncated = 1;
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* Cut at max bytes without splitting a UTF-8 sequence. */
static size_t cut_utf8(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

static void put_escaped(struct line *l, const char *s, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = strlen(s);
    size_t n = cut_utf8(s, len, cap);

    put(l, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

        if (c == '"' || c == '\\') {
            char two[2] = {'\\', (char)c};
            put(l, two, 2);
        } else if (c == '\n') {
            put(l, "\\n", 2);
        } else if (c < 0x20 || c == 0x7f) {
            put(l, esc, 6);
        } else {
            put(l, (const char *)&s[i], 1);
        }
    }
    if (n < len)
        put(l, "...", 3);
    put(l, "\"", 1);
}

static void put_key(struct line *l, const char *key)
{
    put(l, ",", 1);
    put_escaped(l, key, 64);
    put(l, ":", 1);
}

static void put_timestamp(struct line *l)
{
    struct timespec ts;
    struct tm tm;
    char buf[40];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, sizeof(buf), "{\"ts\":\"%Y-%m-%dT%H:%M:%S", &tm);
    int m = snprintf(buf + n, sizeof(buf) - n, ".%03ldZ\"", ts.tv_nsec / 1000000);

    put(l, buf, n + (size_t)m);
}

static void put_field(struct line *l, const struct log_field *f)
{
    char num[48];
    int n = 0;

    if (!f->key)
        return;
    put_key(l, f->key);
    switch (f->type) {
    case LOG_FIELD_STR:
        if (f->v.s)
            put_escaped(l, f->v.s, LOG_STR_MAX);
        else
            puts_(l, "null");
        return;
    case LOG_FIELD_INT:
        n = snprintf(num, sizeof(num), "%lld", f->v.i);
        break;
    case LOG_FIELD_DOUBLE:
        if (!isfinite(f->v.d))
            n = snprintf(num, sizeof(num), "null");
        else
            n = snprintf(num, sizeof(num), "%.6g", f->v.d);
        break;
    case LOG_FIELD_BOOL:
        n = snprintf(num, sizeof(num), "%s", f->v.b ? "true" : "false");
        break;
    case LOG_FIELD_JSON:
        puts_(l, f->v.s ? f->v.s : "null");
        return;
    }
    put(l, num, (size_t)n);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere to report a failed log write */
        p += w;
        n -= (size_t)w;
    }
}

void log_emit(enum log_level level, const char *request_id, const char *msg,
              const struct log_field *fields, size_t n)
{
    struct line l;

    if (level < log_get_level())
        return;
    l.len = 0;
    l.truncated = 0;
    put_timestamp(&l);
    puts_(&l, ",\"level\":");
    put_escaped(&l, log_level_name(level), 16);
    puts_(&l, ",\"msg\":");
    put_escaped(&l, msg ? msg : "", LOG_STR_MAX);
    if (log_service) {
        puts_(&l, ",\"service\":");
        put_escaped(&l, log_service, 64);
    }
    if (request_id) {
        puts_(&l, ",\"request_id\":");
        put_escaped(&l, request_id, 64);
    }
    for (size_t i = 0; fields && i < n && !l.truncated; i++) {
        size_t mark = l.len;

        put_field(&l, &fields[i]);
        if (l.truncated)
            l.len = mark; /* drop the partial field: the line stays valid JSON */
    }
    if (l.truncated) {
        static const char tail[] = ",\"truncated\":true";
        memcpy(l.buf + l.len, tail, sizeof(tail) - 1);
        l.len += sizeof(tail) - 1;
    }
    l.buf[l.len++] = '}';
    l.buf[l.len++] = '\n';
    write_all(log_fd, l.buf, l.len);
}
