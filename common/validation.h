/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pydantic-v2-style validation detail lists, the body of every 422 both
 * daemons send. Clients were written against FastAPI, so a bad request is
 * answered with every problem found (up to a cap) as
 * {"type", "loc", "msg", "input"[, "ctx"]}, in the order found.
 *
 *   struct validation v;
 *   validation_init(&v, 100);
 *   validation_add(&v, "missing", validation_loc("user_id", -1, NULL), "Field required",
 *                  echoed_input, NULL);
 *   if (validation_full(&v)) ... stop checking
 *   json_array_size(v.list) > 0 ... the detail list to send (caller owns v.list)
 *
 * Echoed inputs are the caller's business (which members may be echoed
 * depends on the model), but every caller builds them from the helpers
 * here: a redacted placeholder instead of anything that could hold a
 * borrower's message text, and a key-list test for members known to hold
 * only ids, senders or dates. A JSON syntax error is described by kind and
 * offset only, never by the text near it.
 */
#ifndef COMMON_VALIDATION_H
#define COMMON_VALIDATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define VALIDATION_REDACTED "[redacted]" /* what an echoed input shows instead of text */

struct validation {
    json_t *list; /* the detail items; owned by the caller once validation is done */
    size_t cap;   /* items kept at most; later ones are dropped */
};

/* Starts an empty list of at most cap items. */
void validation_init(struct validation *v, size_t cap);

/* Adds one item; takes ownership of loc, input and ctx. A NULL input is JSON
 * null; a NULL ctx is left out. Past the cap the arguments are freed only. */
void validation_add(struct validation *v, const char *type, json_t *loc, const char *msg,
                    json_t *input, json_t *ctx);

/* True once the cap is reached: further checks can stop. */
bool validation_full(const struct validation *v);

/* ["body"] (a NULL), ["body", a], ["body", a, idx] (idx >= 0), ["body", a, b] or
 * ["body", a, idx, b]: idx < 0 leaves the index out. */
json_t *validation_loc(const char *a, long idx, const char *b);

/* A new "[redacted]" string, for an echoed value that may hold text. */
json_t *validation_redacted(void);

/* True when key is one of known (a NULL-ended list). */
bool validation_key_in(const char *key, const char *const *known);

/* Characters (code points) of valid UTF-8, as pydantic counts string length. */
size_t validation_utf8_chars(const char *s, size_t len);

/* The string_too_long item with pydantic's message and ctx {"max_length": max};
 * takes ownership of loc and input. */
void validation_add_string_too_long(struct validation *v, json_t *loc, json_t *input, size_t max);

/* The json_invalid item for a jansson parse error: loc ["body", offset],
 * input {} and ctx {"error": kind}, never the text near the error. */
void validation_add_json_invalid(struct validation *v, const json_error_t *jerr);

/* Parses a request body as any JSON value. Integers too large for jansson
 * are read as reals (Python reads any integer), so the field holding one gets
 * its type error rather than the whole body a JSON one. NULL with *jerr set
 * on a syntax error. */
json_t *validation_load_body(const char *body, size_t len, json_error_t *jerr);

#endif
