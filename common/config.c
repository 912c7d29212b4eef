/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Environment parsing driven by the daemon's config table (see config.h).
 * Keeping parse, summary and documentation on one table is what stops the
 * docs, the start-up log line and the code from disagreeing about a
 * variable. Errors are one line naming the variable and the expected form;
 * secret values never appear in errors or summaries. The prod rules on
 * secrets (no placeholders, keys long and varied) are flags on the rows too,
 * so a secret added later is covered by giving its row the flag.
 */
#include "common/config.h"

#include "common/alloc.h"

#include "common/json_writer.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONFIG_MASK "***"

static const char *env_get(const char *name, void *arg)
{
    (void)arg;
    return getenv(name);
}

static bool has_bounds(const struct config_var *v)
{
    return v->min < v->max;
}

/* How the value is shown in an error: quoted, or masked for secrets. */
static const char *shown(const struct config_var *v, const char *text)
{
    return (v->flags & CONFIG_SECRET) ? CONFIG_MASK : text;
}

static int parse_int(const struct config_var *v, const char *text, void *field, char *err,
                     size_t err_len)
{
    char *end = NULL;
    long val;

    errno = 0;
    val = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || (has_bounds(v) && (val < v->min || val > v->max))) {
        if (has_bounds(v))
            snprintf(err, err_len, "%s: expected an integer %.0f..%.0f, got '%s'", v->name, v->min,
                     v->max, shown(v, text));
        else
            snprintf(err, err_len, "%s: expected an integer, got '%s'", v->name, shown(v, text));
        return -1;
    }
    *(long *)field = val;
    return 0;
}

static int parse_double(const struct config_var *v, const char *text, void *field, char *err,
                        size_t err_len)
{
    char *end = NULL;
    double val;

    errno = 0;
    val = strtod(text, &end);
    if (errno || end == text || *end != '\0' || !isfinite(val) ||
        (has_bounds(v) && (val < v->min || val > v->max))) {
        if (has_bounds(v))
            snprintf(err, err_len, "%s: expected a number %g..%g, got '%s'", v->name, v->min,
                     v->max, shown(v, text));
        else
            snprintf(err, err_len, "%s: expected a number, got '%s'", v->name, shown(v, text));
        return -1;
    }
    *(double *)field = val;
    return 0;
}

static int parse_bool(const struct config_var *v, const char *text, void *field, char *err,
                      size_t err_len)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *(bool *)field = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *(bool *)field = false;
            return 0;
        }
    }
    snprintf(err, err_len, "%s: expected true|false (or 1|0, yes|no, on|off), got '%s'", v->name,
             shown(v, text));
    return -1;
}

/* Index of text among "a|b|c" (case-insensitive), or -1. */
static int enum_index(const char *choices, const char *text)
{
    size_t tlen = strlen(text);
    int idx = 0;

    for (const char *p = choices; p && *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);

        if (n == tlen && strncasecmp(p, text, n) == 0)
            return idx;
        p = bar ? bar + 1 : NULL;
    }
    return -1;
}

static int parse_enum(const struct config_var *v, const char *text, void *field, char *err,
                      size_t err_len)
{
    int idx = enum_index(v->choices, text);

    if (idx < 0) {
        snprintf(err, err_len, "%s: expected one of %s, got '%s'", v->name,
                 v->choices ? v->choices : "(none)", shown(v, text));
        return -1;
    }
    *(int *)field = idx;
    return 0;
}

static int load_one(const struct config_var *v, const char *text, void *target, char *err,
                    size_t err_len)
{
    void *field = (char *)target + v->offset;

    if (*text == '\0' && (v->flags & CONFIG_REQUIRED)) {
        snprintf(err, err_len, "%s: required (%s), not set", v->name, v->doc ? v->doc : "");
        return -1;
    }
    switch (v->type) {
    case CONFIG_STRING:
        free(*(char **)field);
        *(char **)field = alloc_strdup(text);
        return 0;
    case CONFIG_INT:
        if (*text == '\0')
            return parse_int(v, "0", field, err, err_len);
        return parse_int(v, text, field, err, err_len);
    case CONFIG_BOOL:
        return parse_bool(v, *text ? text : "false", field, err, err_len);
    case CONFIG_DOUBLE:
        return parse_double(v, *text ? text : "0", field, err, err_len);
    case CONFIG_ENUM:
        if (*text == '\0') {
            *(int *)field = 0;
            return 0;
        }
        return parse_enum(v, text, field, err, err_len);
    case CONFIG_ROWS:
        break; /* the caller descends into them */
    }
    snprintf(err, err_len, "%s: unknown type in config table", v->name);
    return -1;
}

const struct config_var *config_find(const struct config_var *table, size_t n, const char *name)
{
    for (size_t i = 0; i < n && table[i].name; i++) {
        const struct config_var *hit = table[i].type == CONFIG_ROWS
                                           ? config_find(table[i].rows, SIZE_MAX, name)
                                           : (strcmp(table[i].name, name) == 0 ? &table[i] : NULL);

        if (hit)
            return hit;
    }
    return NULL;
}

int config_load_with(const struct config_var *table, size_t n, void *target,
                     const char *(*getenv_fn)(const char *name, void *arg), void *arg, char *err,
                     size_t err_len)
{
    for (size_t i = 0; i < n && table[i].name; i++) {
        const struct config_var *v = &table[i];
        const char *text;

        if (v->type == CONFIG_ROWS) {
            if (config_load_with(v->rows, SIZE_MAX, (char *)target + v->offset, getenv_fn, arg, err,
                                 err_len) < 0)
                return -1;
            continue;
        }
        text = getenv_fn(v->name, arg);
        if (!text || *text == '\0')
            text = v->def ? v->def : "";
        if (load_one(v, text, target, err, err_len) < 0)
            return -1;
    }
    return 0;
}

int config_load(const struct config_var *table, size_t n, void *target, char *err, size_t err_len)
{
    return config_load_with(table, n, target, env_get, NULL, err, err_len);
}

void config_free(const struct config_var *table, size_t n, void *target)
{
    for (size_t i = 0; i < n && table[i].name; i++) {
        if (table[i].type == CONFIG_ROWS) {
            config_free(table[i].rows, SIZE_MAX, (char *)target + table[i].offset);
        } else if (table[i].type == CONFIG_STRING) {
            char **field = (char **)((char *)target + table[i].offset);

            free(*field);
            *field = NULL;
        }
    }
}

/* The effective value as text (enum by name). Returns buf or a pointer into target. */
static const char *value_text(const struct config_var *v, const void *target, char *buf, size_t len)
{
    const void *field = (const char *)target + v->offset;

    switch (v->type) {
    case CONFIG_STRING: {
        const char *s = *(char *const *)field;
        return s ? s : "";
    }
    case CONFIG_INT:
        snprintf(buf, len, "%ld", *(const long *)field);
        return buf;
    case CONFIG_BOOL:
        return *(const bool *)field ? "true" : "false";
    case CONFIG_DOUBLE:
        snprintf(buf, len, "%g", *(const double *)field);
        return buf;
    case CONFIG_ENUM: {
        int idx = *(const int *)field;
        const char *p = v->choices ? v->choices : "";
        for (int i = 0; i < idx && p; i++) {
            p = strchr(p, '|');
            p = p ? p + 1 : NULL;
        }
        if (!p)
            return "";
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        snprintf(buf, len, "%.*s", (int)n, p);
        return buf;
    }
    case CONFIG_ROWS:
        break;
    }
    return "";
}

static const char *masked_text(const struct config_var *v, const void *target, char *buf,
                               size_t len)
{
    const char *text = value_text(v, target, buf, len);

    if ((v->flags & CONFIG_SECRET) && *text)
        return CONFIG_MASK;
    return text;
}

/* Appends the rows' "NAME=value" to buf at *used; -1 when buf is full. */
static int summary_rows(const struct config_var *table, size_t n, const void *target, char *buf,
                        size_t buf_len, size_t *used)
{
    for (size_t i = 0; i < n && table[i].name; i++) {
        char tmp[64];
        const char *text, *q;
        int w;

        if (table[i].type == CONFIG_ROWS) {
            if (summary_rows(table[i].rows, SIZE_MAX, (const char *)target + table[i].offset, buf,
                             buf_len, used) < 0)
                return -1;
            continue;
        }
        text = masked_text(&table[i], target, tmp, sizeof(tmp));
        q = strpbrk(text, " \t\"") || *text == '\0' ? "\"" : "";
        w = snprintf(buf + *used, buf_len - *used, "%s%s=%s%s%s", *used ? " " : "", table[i].name,
                     q, text, q);
        if (w < 0 || (size_t)w >= buf_len - *used)
            return -1;
        *used += (size_t)w;
    }
    return 0;
}

const char *config_summary(const struct config_var *table, size_t n, const void *target, char *buf,
                           size_t buf_len)
{
    size_t used = 0;

    if (buf_len == 0)
        return buf;
    buf[0] = '\0';
    if (summary_rows(table, n, target, buf, buf_len, &used) < 0 && buf_len > 4)
        memcpy(buf + buf_len - 4, "...", 4);
    return buf;
}

static void summary_json_rows(struct json_writer *w, const struct config_var *table, size_t n,
                              const void *target)
{
    for (size_t i = 0; i < n && table[i].name; i++) {
        const struct config_var *v = &table[i];
        const void *field = (const char *)target + v->offset;
        char tmp[64];

        if (v->type == CONFIG_ROWS) {
            summary_json_rows(w, v->rows, SIZE_MAX, field);
            continue;
        }
        json_writer_key(w, v->name);
        if ((v->flags & CONFIG_SECRET) || v->type == CONFIG_STRING || v->type == CONFIG_ENUM)
            json_writer_string(w, masked_text(v, target, tmp, sizeof(tmp)));
        else if (v->type == CONFIG_INT)
            json_writer_int(w, *(const long *)field);
        else if (v->type == CONFIG_BOOL)
            json_writer_bool(w, *(const bool *)field);
        else
            json_writer_double(w, *(const double *)field);
    }
}

char *config_summary_json(const struct config_var *table, size_t n, const void *target)
{
    struct json_writer w;

    json_writer_init(&w, 0);
    json_writer_object_begin(&w);
    summary_json_rows(&w, table, n, target);
    json_writer_object_end(&w);
    return json_writer_take(&w, NULL);
}

static void unused_rows(const struct config_var *table, size_t n, char *buf, size_t buf_len,
                        size_t *used, size_t *count)
{
    for (size_t i = 0; i < n && table[i].name; i++) {
        const char *text;

        if (table[i].type == CONFIG_ROWS) {
            unused_rows(table[i].rows, SIZE_MAX, buf, buf_len, used, count);
            continue;
        }
        text = getenv(table[i].name);
        if (!(table[i].flags & CONFIG_UNUSED) || !text || !*text)
            continue;
        if (*used < buf_len) {
            int w =
                snprintf(buf + *used, buf_len - *used, "%s%s", *count ? "," : "", table[i].name);
            *used += w > 0 ? (size_t)w : 0;
        }
        (*count)++;
    }
}

size_t config_unused_present(const struct config_var *table, size_t n, char *buf, size_t buf_len)
{
    size_t count = 0, used = 0;

    if (buf_len)
        buf[0] = '\0';
    unused_rows(table, n, buf, buf_len, &used, &count);
    return count;
}

/* Words that mark a value someone meant to replace; matched anywhere, any case. */
static const char *const placeholder_words[] = {
    "change-me",  "changeme",    "change_me",   "replace-me",  "replaceme",
    "replace_me", "placeholder", "your_secure", "your-secure", "example",
};

/* Whole values that are never a real secret; matched any case. */
static const char *const placeholder_values[] = {"password", "secret", "todo", "xxx",  "test",
                                                 "default",  "none",   "null", "dummy"};

static bool has_word(const char *text, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = text; *p; p++)
        if (strncasecmp(p, word, n) == 0)
            return true;
    return false;
}

bool config_is_placeholder(const char *text)
{
    size_t n = strlen(text);
    bool same = n > 0;

    for (size_t i = 0; i < sizeof(placeholder_words) / sizeof(placeholder_words[0]); i++)
        if (has_word(text, placeholder_words[i]))
            return true;
    for (size_t i = 0; i < sizeof(placeholder_values) / sizeof(placeholder_values[0]); i++)
        if (strcasecmp(text, placeholder_values[i]) == 0)
            return true;
    if (n >= 2 && text[0] == '<' && text[n - 1] == '>') /* the guide's "<client id shared ...>" */
        return true;
    for (size_t i = 1; i < n && same; i++)
        same = text[i] == text[0];
    return same;
}

static size_t distinct_chars(const char *text)
{
    bool seen[256] = {false};
    size_t count = 0;

    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        count += !seen[*p];
        seen[*p] = true;
    }
    return count;
}

/* One row's prod rule; the value is never quoted. */
static int check_prod_row(const struct config_var *v, const char *text, char *err, size_t err_len)
{
    if (*text == '\0') {
        if (!(v->flags & CONFIG_PROD_REQUIRED))
            return 0;
        snprintf(err, err_len, "%s: required when LAUNCH_ENVIRONMENT is prod (%s)", v->name,
                 v->doc ? v->doc : "");
        return -1;
    }
    if ((v->flags & (CONFIG_SECRET | CONFIG_KEY)) && config_is_placeholder(text)) {
        snprintf(err, err_len,
                 "%s: placeholder value refused when LAUNCH_ENVIRONMENT is prod (set the real "
                 "secret)",
                 v->name);
        return -1;
    }
    if ((v->flags & CONFIG_KEY) &&
        (strlen(text) < CONFIG_KEY_MIN_LEN || distinct_chars(text) < CONFIG_KEY_MIN_DISTINCT)) {
        snprintf(err, err_len,
                 "%s: too short or too regular for a key when LAUNCH_ENVIRONMENT is prod (want "
                 "at least %d characters of random text, e.g. `openssl rand -hex 32`)",
                 v->name, CONFIG_KEY_MIN_LEN);
        return -1;
    }
    return 0;
}

int config_check_prod(const struct config_var *table, size_t n, const void *target, char *err,
                      size_t err_len)
{
    for (size_t i = 0; i < n && table[i].name; i++) {
        const struct config_var *v = &table[i];
        char tmp[64];

        if (v->type == CONFIG_ROWS) {
            if (config_check_prod(v->rows, SIZE_MAX, (const char *)target + v->offset, err,
                                  err_len) < 0)
                return -1;
            continue;
        }
        if (!(v->flags & (CONFIG_SECRET | CONFIG_KEY | CONFIG_PROD_REQUIRED)))
            continue;
        if (check_prod_row(v, value_text(v, target, tmp, sizeof(tmp)), err, err_len) < 0)
            return -1;
    }
    return 0;
}

static const char *const type_names[] = {"string", "integer", "boolean", "number", "enum"};

static void type_text(const struct config_var *v, char *buf, size_t len)
{
    if (v->type == CONFIG_ENUM)
        snprintf(buf, len, "one of `%s`", v->choices ? v->choices : "");
    else if (v->type == CONFIG_INT && has_bounds(v))
        snprintf(buf, len, "integer %.0f..%.0f", v->min, v->max);
    else if (v->type == CONFIG_DOUBLE && has_bounds(v))
        snprintf(buf, len, "number %g..%g", v->min, v->max);
    else
        snprintf(buf, len, "%s", type_names[v->type]);
}

static int markdown_rows(const struct config_var *table, size_t n, FILE *out)
{
    int rc = 0;

    for (size_t i = 0; i < n && table[i].name; i++) {
        const struct config_var *v = &table[i];
        char type[160];
        char notes[128];

        if (v->type == CONFIG_ROWS) {
            rc |= markdown_rows(v->rows, SIZE_MAX, out);
            continue;
        }
        type_text(v, type, sizeof(type));
        snprintf(notes, sizeof(notes), "%s%s%s%s%s",
                 (v->flags & CONFIG_REQUIRED) ? "required " : "",
                 (v->flags & CONFIG_PROD_REQUIRED) ? "required in prod " : "",
                 (v->flags & CONFIG_SECRET) ? "secret " : "",
                 (v->flags & CONFIG_KEY) ? "key (prod: 32+ random characters) " : "",
                 (v->flags & CONFIG_UNUSED) ? "accepted, unused " : "");
        rc |= fprintf(out, "| `%s` | %s | %s%s%s | %s | %s |\n", v->name, type,
                      (v->def && *v->def) ? "`" : "", (v->def && *v->def) ? v->def : "(empty)",
                      (v->def && *v->def) ? "`" : "", notes, v->doc ? v->doc : "") < 0;
    }
    return rc;
}

int config_write_markdown(const struct config_var *table, size_t n, const char *title, FILE *out)
{
    int rc = 0;

    if (title)
        rc |= fprintf(out, "## %s\n\n", title) < 0;
    rc |=
        fputs("| Variable | Type | Default | Notes | Meaning |\n|---|---|---|---|---|\n", out) < 0;
    rc |= markdown_rows(table, n, out);
    return rc ? -1 : 0;
}
