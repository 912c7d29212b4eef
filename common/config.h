/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Table-driven configuration from the environment. Each daemon declares ONE
 * table of struct config_var rows describing every variable it reads; the
 * same table parses the environment into the daemon's config struct, prints
 * the effective configuration at start-up (secrets masked) and generates
 * docs/configuration.md (`--config-docs`). A variable that is not in the
 * table is not configuration.
 *
 * Target field types (at `offset` inside the daemon's struct):
 *   CONFIG_STRING  char *      malloc'd copy, freed by config_free(); never NULL
 *                              after a successful config_load ("" when unset)
 *   CONFIG_INT     long        checked against [min, max] when min < max
 *   CONFIG_BOOL    bool        1/0, true/false, yes/no, on/off (any case)
 *   CONFIG_DOUBLE  double      finite; checked against [min, max] when min < max
 *   CONFIG_ENUM    int         index into `choices` ("debug|info|warn|error"
 *                              -> 0..3); matched case-insensitively
 *
 * An unset or empty variable takes the row's default (def, a string in the
 * same form as the environment; NULL means ""). A CONFIG_REQUIRED row whose
 * value ends up empty is an error.
 *
 * Example row:
 *   {"HTTP_PORT", CONFIG_INT, "8082", 0, "service port (0 = any free port)",
 *    offsetof(struct smsx_config, http_port), 0, 65535, NULL},
 */
#ifndef COMMON_CONFIG_H
#define COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum config_type {
    CONFIG_STRING,
    CONFIG_INT,
    CONFIG_BOOL,
    CONFIG_DOUBLE,
    CONFIG_ENUM,
    CONFIG_ROWS, /* not a variable: the rows of `rows`, for a struct embedded at `offset` */
};

/* Row flags (bitwise or). */
#define CONFIG_SECRET 0x1u   /* value masked as "***" in summaries; never logged */
#define CONFIG_REQUIRED 0x2u /* empty after defaults is an error */
#define CONFIG_UNUSED                                                                              \
    0x4u /* accepted and documented but has no effect (compatibility);                             \
            config_unused_present() lists the ones set so the daemon                               \
            can warn at start-up. Parsed like any other row. */
#define CONFIG_KEY                                                                                 \
    0x8u /* key material (a pepper, sealing keys): under config_check_prod a set value must        \
            be at least CONFIG_KEY_MIN_LEN characters with CONFIG_KEY_MIN_DISTINCT different       \
            ones; give it CONFIG_SECRET too */
#define CONFIG_PROD_REQUIRED 0x10u /* empty is an error under config_check_prod */

/* What a CONFIG_KEY value needs in prod: 32 random bytes as text are far above both. */
#define CONFIG_KEY_MIN_LEN 32
#define CONFIG_KEY_MIN_DISTINCT 8

struct config_var {
    const char *name;      /* environment variable, e.g. "HTTP_PORT" */
    enum config_type type; /* see the table above */
    const char *def;       /* default in environment form; NULL = "" */
    unsigned flags;        /* CONFIG_SECRET | CONFIG_REQUIRED | CONFIG_UNUSED */
    const char *doc;       /* one-line meaning, for docs and errors */
    size_t offset;         /* offsetof(daemon struct, field) */
    double min, max;       /* CONFIG_INT / CONFIG_DOUBLE bounds, used when min < max */
    const char *choices;   /* CONFIG_ENUM: "a|b|c" */
    /* CONFIG_ROWS: rows (ended by a row whose name is NULL) shared by several daemons
     * (common/daemon.h's service rows, common/artifact.h's access rows), with offsets inside
     * the struct that the daemon embeds at `offset`. They are read, printed and documented
     * where this row stands, as if written out in the daemon's table. */
    const struct config_var *rows;
};

/* A CONFIG_ROWS row: the shared rows for the struct at offset (offsetof(daemon, member)). */
#define CONFIG_INCLUDE(shared_rows, member_offset)                                                 \
    {                                                                                              \
        .name = "(rows)", .type = CONFIG_ROWS, .offset = (member_offset), .rows = (shared_rows)    \
    }

/*
 * Parse every row from the environment into target (the daemon's struct).
 * Returns 0, or -1 with err set to ONE line naming the variable and the
 * expected form, e.g. "HTTP_PORT: expected an integer 0..65535, got 'abc'".
 * Secret values are never quoted in err. On failure the strings already
 * copied stay owned by target: call config_free() in both cases.
 */
/* The row named name, looking into included rows too; NULL when there is none. */
const struct config_var *config_find(const struct config_var *table, size_t n, const char *name);

int config_load(const struct config_var *table, size_t n, void *target, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* Same as config_load but reads values through getenv_fn (tests). */
int config_load_with(const struct config_var *table, size_t n, void *target,
                     const char *(*getenv_fn)(const char *name, void *arg), void *arg, char *err,
                     size_t err_len) __attribute__((warn_unused_result));

/* Free the CONFIG_STRING fields of target and set them to NULL. Safe to call twice. */
void config_free(const struct config_var *table, size_t n, void *target);

/*
 * The effective configuration as one line "NAME=value NAME=value ..." with
 * secrets shown as "***" (or "" when empty) and values containing spaces
 * quoted. Truncated (ending in "...") when buf is too small. Returns buf.
 */
const char *config_summary(const struct config_var *table, size_t n, const void *target, char *buf,
                           size_t buf_len);

/*
 * The effective configuration as one JSON object {"NAME":value,...} (numbers
 * and booleans unquoted, secrets "***"), for a structured log field. Returns
 * a malloc'd NUL-terminated string owned by the caller.
 */
char *config_summary_json(const struct config_var *table, size_t n, const void *target);

/*
 * Names of CONFIG_UNUSED rows that are set (non-empty) in the environment,
 * comma-separated, into buf. Returns how many there are (0 = nothing to warn).
 */
size_t config_unused_present(const struct config_var *table, size_t n, char *buf, size_t buf_len);

/*
 * The production rules of the table, for a daemon whose LAUNCH_ENVIRONMENT is
 * prod: every CONFIG_SECRET value that is set must not be a placeholder
 * ("change-me", "your_secure_password", "<...>", one repeated character...),
 * every CONFIG_KEY value that is set must be long and varied enough (see
 * CONFIG_KEY_MIN_LEN), every CONFIG_PROD_REQUIRED value must be set. Returns
 * 0, or -1 with err naming the first variable that fails (never its value).
 */
int config_check_prod(const struct config_var *table, size_t n, const void *target, char *err,
                      size_t err_len) __attribute__((warn_unused_result));

/* True when text looks like a placeholder rather than a real secret (see config_check_prod). */
bool config_is_placeholder(const char *text);

/*
 * Write the table as a Markdown table (docs/configuration.md): variable,
 * type with bounds or choices, default, flags (secret/required/unused), meaning.
 * title is printed as a "## " heading when not NULL. Returns 0 or -1 on write error.
 */
int config_write_markdown(const struct config_var *table, size_t n, const char *title, FILE *out);

#endif
