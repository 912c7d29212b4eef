/* SPDX-License-Identifier: Apache-2.0 */
/*
 * India-time dates (common/ist_date): the accepted forms and their
 * normalised text, the pydantic-style reason for each rejected one, epoch
 * seconds and milliseconds, and the calendar's edges (leap days, times
 * before 1970, an epoch past the year 9999); and back from the stored form to
 * Unix seconds, round-tripped against the C library.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/ist_date.h"

static void test_dates(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } ok[] = {
        {"2026-11-01 10:00:00", "2026-11-01 10:00:00"},
        {"2026-11-01T10:00:00", "2026-11-01 10:00:00"},
        {"2026-11-01T10:00", "2026-11-01 10:00:00"},
        {"2026-11-01 10:00:00.123456", "2026-11-01 10:00:00"},
        {"2026-11-01T04:30:00Z", "2026-11-01 10:00:00"},
        {"2026-11-01T10:00:00+05:30", "2026-11-01 10:00:00"},
        {"2026-11-01T00:00:00-01:00", "2026-11-01 06:30:00"},
        {"2024-02-29", "2024-02-29 00:00:00"},
        {"1795000060000", "2026-11-18 16:37:40"},
        {"1795000060", "2026-11-18 16:37:40"},
        {"0", "1970-01-01 05:30:00"},
    };
    static const struct {
        const char *in, *why;
    } bad[] = {
        {"2026-13-01 10:00:00", "month value is outside expected range of 1-12"},
        {"2026-02-30", "day value is outside expected range"},
        {"2025-02-29", "day value is outside expected range"},
        {"2026-11-01 24:00:00", "hour value is outside expected range of 0-23"},
        {"2026-11-01 10:60:00", "minute value is outside expected range of 0-59"},
        {"2026-11-01 10:00:61", "second value is outside expected range of 0-59"},
        {"2026-1-1", "input is too short"},
        {"yesterday!", "invalid character in year"},
        {"x026-11-01", "invalid character in year"},
        {"2026/11/01", "invalid date separator, expected `-`"},
        {"2026-11-01 10:00:00 IST", "unexpected extra characters at the end of the input"},
        {"2026-11-01X10:00", "invalid datetime separator, expected `T`, `t`, `_` or space"},
        {"", "input is too short"},
    };
    char out[20];
    const char *why;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        why = NULL;
        if (ist_date_normalise(ok[i].in, strlen(ok[i].in), out, &why) != 0)
            fail_msg("'%s' rejected: %s", ok[i].in, why);
        assert_string_equal(out, ok[i].out);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        if (ist_date_normalise(bad[i].in, strlen(bad[i].in), out, &why) == 0)
            fail_msg("'%s' accepted as %s", bad[i].in, out);
        assert_string_equal(why, bad[i].why);
    }
}

static void test_epoch_conversion(void **state)
{
    (void)state;
    char out[20];

    assert_int_equal(ist_from_epoch(1795000060000LL, out), 0);
    assert_string_equal(out, "2026-11-18 16:37:40");
    assert_int_equal(ist_from_epoch(-1000, out), 0);
    assert_string_equal(out, "1970-01-01 05:13:20");
    assert_int_equal(ist_from_epoch(-30000000000LL, out), 0); /* ms: 1969-01-01 ... */
    assert_string_equal(out, "1969-01-19 00:10:00");
    assert_int_equal(ist_from_epoch(400000000000000LL, out), -1);
}

/* "YYYY-MM-DD HH:MM:SS" India time as Unix seconds, from gmtime, for the round trip. */
static void ist_text(int64_t ts, char out[32])
{
    time_t t = (time_t)(ts + 19800);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

static void test_ist_to_unix(void **state)
{
    int64_t t = 0;

    (void)state;
    assert_int_equal(ist_date_to_unix("1970-01-01 05:30:00", &t), 0);
    assert_int_equal(t, 0);
    /* the example of docs/api-sms-extraction.md: 1795000060 is 2026-11-18 16:37:40 IST */
    assert_int_equal(ist_date_to_unix("2026-11-18 16:37:40", &t), 0);
    assert_int_equal(t, 1795000060);
    /* round trip through the C library over several years, leap days included */
    for (int64_t ts = 946684800; ts < 1900000000; ts += 86400 * 37 + 3671) {
        char text[32];
        ist_text(ts, text);
        assert_int_equal(ist_date_to_unix(text, &t), 0);
        assert_int_equal(t, ts);
    }
    static const char *const bad[] = {NULL,
                                      "",
                                      "2026-11-18",
                                      "2026-11-18T16:37:40",
                                      "2026-13-18 16:37:40",
                                      "2026-11-18 24:00:00",
                                      "2026-11-1x 16:37:40",
                                      "2026-11-18 16:37:40Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ist_date_to_unix(bad[i], &t), -1);
}

/* The helpers features and replies use, against gmtime with the offset added by hand. */
static void test_format_day_year(void **state)
{
    char out[20], want[32];
    int y, m, d;
    (void)state;

    assert_int_equal(ist_format_unix(0.0, out), 0);
    assert_string_equal(out, "1970-01-01 05:30:00");
    assert_int_equal(ist_format_unix(1795329000.9, out), 0); /* the fraction is dropped */
    assert_string_equal(out, "2026-11-22 12:00:00");
    assert_int_equal(ist_format_unix(-0.5, out), 0); /* floor, not truncation */
    assert_string_equal(out, "1970-01-01 05:29:59");
    assert_int_equal(ist_format_unix(1e15, out), -1);
    assert_string_equal(out, "");
    for (int64_t t = -400000; t < 400000; t += 977) {
        assert_int_equal(ist_format_unix((double)t, out), 0);
        ist_text(t, want);
        assert_string_equal(out, want);
    }
    /* the India-time day starts at 18:30 UTC */
    assert_int_equal(ist_day(0), 0);
    assert_int_equal(ist_day(-19800), 0);
    assert_int_equal(ist_day(-19801), -1);
    assert_int_equal(ist_day(86400 - 19800), 1);
    ist_civil_date(-1, &y, &m, &d);
    assert_true(y == 1969 && m == 12 && d == 31);
    ist_civil_date(ist_day(1795329000), &y, &m, &d);
    assert_true(y == 2026 && m == 11 && d == 22);
    assert_int_equal(ist_year(1798741800 - 1), 2026); /* 2027-01-01 00:00 IST, one second before */
    assert_int_equal(ist_year(1798741800), 2027);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_epoch_conversion),
        cmocka_unit_test(test_ist_to_unix),
        cmocka_unit_test(test_format_day_year),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
