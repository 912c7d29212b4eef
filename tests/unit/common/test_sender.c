/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sender-header rule both daemons key senders by: operator prefix and
 * route suffix removed, trimmed, lower case; what is not a prefix or a
 * suffix stays; the output is cut to its buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/sender.h"

#include <string.h>

static void expect(const char *raw, const char *want)
{
    char out[64];

    sender_normalise(raw, raw ? strlen(raw) : 0, out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_headers(void **state)
{
    char small[4];
    (void)state;

    expect("VM-HDFCBK-S", "hdfcbk");
    expect("AD-HDFCBK", "hdfcbk");
    expect("HDFCBK-T", "hdfcbk");
    expect("hdfcbk", "hdfcbk");
    expect("JD-SBIINB ", "sbiinb");
    expect("12-34567", "12-34567"); /* digits are no operator */
    expect("VM-", "vm-");           /* a prefix needs something after it */
    expect("AB-C", "c");
    expect("Amazon Pay", "amazon pay");
    expect("+919876543210", "+919876543210");
    expect(NULL, "");
    sender_normalise("VM-HDFCBK", 9, small, sizeof(small));
    assert_string_equal(small, "hdf");
    sender_normalise("VM-HDFCBK", 9, small, 0); /* nothing written */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
