/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the three rule artifacts (vocabulary, classification, regex) have in
 * common: they are JSON documents with a "format" and a "version" header, and
 * their loaders copy strings out of them. One place reads and checks that
 * header, so the artifacts cannot drift apart in how they are versioned.
 */
#ifndef SMSX_RULEFILE_H
#define SMSX_RULEFILE_H

#include <jansson.h>
#include <stddef.h>

/* The artifact format this engine reads (docs/rules.md). */
#define RULEFILE_FORMAT 1

/*
 * Parse one artifact and check its header. Returns the document (owned by the
 * caller, json_decref) with *version pointing into it, or NULL with err set
 * ("line N: ...", "'format' must be 1", "'version' missing").
 */
json_t *rulefile_parse(const char *json, size_t len, const char **version, char *err,
                       size_t err_len);

/* strdup that aborts on allocation failure (loaders have no partial states to undo). */
char *rulefile_strdup(const char *s);

#endif
