/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Features: from one user's data (insights-api/userdata.h) to the flat vector
 * of named values insights-api replies with and the scores consume.
 *
 * DESIGN
 * The catalogue (insights-api/catalogue/features.tsv: name, group, type,
 * window, definition) is the declarative list of what we publish; the C code
 * holds one computing family per file (features_sms.c, features_txn.c, ...),
 * each declaring the names it computes. features_catalogue_load() checks the
 * two agree both ways (and on group and type) and fails naming the first
 * feature that does not, so a feature cannot ship undocumented or documented
 * but never computed. docs/features.md is generated from the catalogue.
 *
 * features_compute() is pure: no I/O, no logging, no allocation (the vector
 * is sized once by features_vector_init and reused). It makes one pass over
 * the SMS array, accumulating into per-window buckets, then each family reads
 * the buckets. Windows count back from u->now in India time (UTC+05:30):
 *   cN  the last N days: now - N*86400 < ts <= now
 *   mK  the calendar month K months before the month of now (m0 = this month)
 *   all every record (no window)
 * A value that cannot be computed is NAN (JSON null), never 0: with SMS
 * extraction failed every SMS feature is null and sms_data_null_reason says
 * why; with no SMS at all counts are 0 but means, ratios and latest values
 * are null.
 *
 * Groups and Credeau's "groupings" (request body):
 *   "sms"           -> FEATURES_GROUP_SMS            SMS counts by type and sender
 *   "extracted_sms" -> FEATURES_GROUP_EXTRACTED_SMS  transactions, salary, EMI, bounces,
 *                                                    balances, cards, loans, merchants
 *   "fraud"         -> FEATURES_GROUP_FRAUD | _APPS | _DEVICE  (the fraud rules need
 *                                                    the app list and the device)
 *   "apps", "device" are accepted too (our extension: one group alone).
 * The three *_data_null_reason features are computed whatever the mask.
 */
#ifndef INSIGHTS_FEATURES_H
#define INSIGHTS_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/json_writer.h"
#include "insights-api/maps.h"
#include "insights-api/userdata.h"

#define FEATURES_CATALOGUE_DEFAULT_PATH "insights-api/catalogue/features.tsv"

enum features_group {
    FEATURES_GROUP_SMS = 1u << 0,
    FEATURES_GROUP_EXTRACTED_SMS = 1u << 1,
    FEATURES_GROUP_FRAUD = 1u << 2,
    FEATURES_GROUP_APPS = 1u << 3,
    FEATURES_GROUP_DEVICE = 1u << 4,
    FEATURES_GROUP_ALL = (1u << 5) - 1,
};

enum features_type {
    FEATURES_TYPE_NUMBER = 0,
    FEATURES_TYPE_BOOL,   /* value 0 or 1 (NAN = null); JSON true/false */
    FEATURES_TYPE_STRING, /* value in feature_vector.strings (NULL = null) */
};

/* Longest string feature value kept (bytes, without the NUL); longer is cut at a UTF-8 boundary. */
#define FEATURES_STRING_MAX 127

struct features_entry {
    const char *name;
    enum features_group group; /* exactly one bit */
    enum features_type type;
    const char *window;     /* "c30", "m2", "all", ... */
    const char *definition; /* one line for data scientists */
};

struct features_catalogue; /* immutable once loaded; shared by threads */

/*
 * Parse the catalogue TSV (header line "name\tgroup\ttype\twindow\tdefinition",
 * '#' comment lines, one row per feature) and check it against the computing
 * families. Returns 0, or -1 with err naming the line or the feature
 * ("feature 'x' has no computing function", "computed feature 'y' is not in the
 * catalogue", "feature 'z': type bool in the catalogue, number in the code").
 */
int features_catalogue_load(const char *bytes, size_t len, struct features_catalogue **out,
                            char *err, size_t err_len) __attribute__((warn_unused_result));
/* Same, reading a file path (tools, tests, benches). */
int features_catalogue_load_file(const char *path, struct features_catalogue **out, char *err,
                                 size_t err_len) __attribute__((warn_unused_result));
void features_catalogue_free(struct features_catalogue *c);

size_t features_count(const struct features_catalogue *c);
/* Entry i in catalogue order (0 <= i < features_count), else NULL. */
const struct features_entry *features_entry(const struct features_catalogue *c, size_t i);
/* Index of a feature by name, or -1. For scoring's predictor lists. O(1) average. */
int features_index(const struct features_catalogue *c, const char *name);
/* The catalogue's "# version: X" comment line value, or "". */
const char *features_catalogue_version(const struct features_catalogue *c);

/*
 * One user's values, in catalogue order. values[i] is the number (bools 0/1)
 * or NAN for null; for string features strings[i] is the value (owned by the
 * vector, at most FEATURES_STRING_MAX bytes) or NULL. The vector owns all of
 * it and does not point into the user_data or the maps, so it outlives both.
 */
struct feature_vector {
    size_t count;
    double *values;
    const char **strings;
    unsigned groups; /* groups computed (the mask passed to features_compute) */
    void *priv;      /* private scratch (per-family buffers, string store) */
};

/* Size a vector for the catalogue. Returns 0, or -1 on allocation failure. */
int features_vector_init(struct feature_vector *v, const struct features_catalogue *c);
void features_vector_free(struct feature_vector *v);

/*
 * Compute the groups in groups_mask for u into out (initialised for c; all of
 * it is overwritten: features of groups not asked are null). Pure: no I/O, no
 * allocation. maps may have kinds not loaded: the features needing them are null.
 */
void features_compute(const struct features_catalogue *c, const struct maps *maps,
                      const struct user_data *u, unsigned groups_mask, struct feature_vector *out);

/*
 * Write every feature as "name": value members into the object the caller
 * has opened on w (null when NAN/NULL; bools as true/false; integral numbers
 * without a fraction).
 */
void features_write_json(const struct features_catalogue *c, const struct feature_vector *v,
                         struct json_writer *w);

/* Value by name: NAN when absent or null (tests, tools). */
double features_value(const struct features_catalogue *c, const struct feature_vector *v,
                      const char *name);
/* String value by name: NULL when absent or null. */
const char *features_string(const struct features_catalogue *c, const struct feature_vector *v,
                            const char *name);

/* "sms", "extracted_sms", "fraud", "apps", "device" for one group bit; NULL otherwise. */
const char *features_group_name(enum features_group group);
/*
 * Add one request grouping name to *mask (see the table above). Returns 0, or
 * -1 for an unknown name with err saying which names are accepted.
 */
int features_grouping_add(const char *name, unsigned *mask, char *err, size_t err_len);
/* The whole comma-separated list ("sms,fraud"), for tools. Empty = error. */
int features_groupings_parse(const char *csv, unsigned *mask, char *err, size_t err_len);

/* docs/features.md: the catalogue as Markdown (insights-api --features-docs). */
void features_write_markdown(const struct features_catalogue *c, FILE *f);

#endif
