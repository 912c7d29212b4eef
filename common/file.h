/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole small files (artifacts, migrations, models, rule files) read into
 * memory in one call: the daemons, tools, benches and tests all need it, and
 * the one place keeps its errors alike ("open '<path>': <reason>").
 */
#ifndef COMMON_FILE_H
#define COMMON_FILE_H

#include <stddef.h>

/*
 * The whole file at path in a malloc'd buffer with a NUL after its last
 * byte (not counted in *len; len may be NULL). max > 0 refuses a longer file.
 * NULL with err set ("open 'p': ...", "read 'p': not a regular file",
 * "read 'p': larger than N bytes", "read 'p': short read") when it cannot
 * be read; err may be NULL with
 * err_len 0 where the caller has nothing to say.
 */
char *file_read(const char *path, size_t max, size_t *len, char *err, size_t err_len);

#endif
