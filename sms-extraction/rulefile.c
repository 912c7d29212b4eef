/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a rule artifact's JSON and its header (see rulefile.h). Kept apart
 * from the three loaders so that a fourth artifact, or a format 2, changes
 * one function instead of three copies.
 */
#include "sms-extraction/rulefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *rulefile_parse(const char *json, size_t len, const char **version, char *err,
                       size_t err_len)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);

    *version = NULL;
    if (!root) {
        snprintf(err, err_len, "line %d: %s", jerr.line, jerr.text);
        return NULL;
    }
    if (json_integer_value(json_object_get(root, "format")) != RULEFILE_FORMAT) {
        snprintf(err, err_len, "'format' must be %d", RULEFILE_FORMAT);
        json_decref(root);
        return NULL;
    }
    *version = json_string_value(json_object_get(root, "version"));
    if (!*version) {
        snprintf(err, err_len, "'version' missing");
        json_decref(root);
        return NULL;
    }
    return root;
}

char *rulefile_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (!d)
        abort();
    memcpy(d, s, n);
    return d;
}
