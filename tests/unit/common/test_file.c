/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/file: a whole file comes back NUL-terminated with its length; a
 * missing file, one over the cap and a directory each give an error that
 * names the path and the reason, and no buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"

static char path[64];

static int make_file(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/test_file.%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fputs("twelve bytes", f);
    return fclose(f);
}

static int remove_file(void **state)
{
    (void)state;
    return unlink(path);
}

static void test_reads_whole_file(void **state)
{
    size_t len = 0;
    char err[256] = "";
    (void)state;
    char *buf = file_read(path, 0, &len, err, sizeof(err));
    assert_non_null(buf);
    assert_int_equal(len, 12);
    assert_string_equal(buf, "twelve bytes");
    free(buf);
    buf = file_read(path, 12, NULL, err, sizeof(err)); /* exactly at the cap, no length */
    assert_non_null(buf);
    free(buf);
}

static void test_errors_name_path_and_reason(void **state)
{
    size_t len = 99;
    char err[256];
    (void)state;
    assert_null(file_read("/nonexistent/dir/x.json", 0, &len, err, sizeof(err)));
    assert_string_equal(err, "open '/nonexistent/dir/x.json': No such file or directory");
    assert_int_equal(len, 99); /* untouched on failure */
    assert_null(file_read(path, 11, &len, err, sizeof(err)));
    assert_non_null(strstr(err, "larger than 11 bytes"));
    assert_non_null(strstr(err, path));
    /* a directory opens, but has no size to read: refused, not an abort on its size */
    assert_null(file_read("/tmp", 0, &len, err, sizeof(err)));
    assert_string_equal(err, "read '/tmp': not a regular file");
    assert_null(file_read("/nonexistent", 0, &len, NULL, 0)); /* no error buffer is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_whole_file),
        cmocka_unit_test(test_errors_name_path_and_reason),
    };
    return cmocka_run_group_tests(tests, make_file, remove_file);
}
