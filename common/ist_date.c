/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dates as both daemons receive them (see ist_date.h): SMS inbox dates in
 * extraction requests, in MongoDB sync documents and in inline data, all
 * normalised to one form, "YYYY-MM-DD HH:MM:SS" India time. Calendar
 * arithmetic is done here on integers (no timegm, no TZ variable), so the
 * result does not depend on the machine's time zone.
 */
#include "common/ist_date.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IST_OFFSET_S (5 * 3600 + 30 * 60)

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's method). */
static long long days_from_civil(int y, int m, int d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static inline void civil_from_days(long long z, int *y, int *m, int *d)
{
    long long era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* Formats local seconds (already shifted to India time) as text. */
static int format_local(long long secs, char out[20])
{
    long long days = secs / 86400, rem = secs % 86400;
    int y, m, d;

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999)
        return -1;
    put2(out, y / 100);
    put2(out + 2, y % 100);
    out[4] = '-';
    put2(out + 5, m);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = ' ';
    put2(out + 11, (int)(rem / 3600));
    out[13] = ':';
    put2(out + 14, (int)(rem / 60 % 60));
    out[16] = ':';
    put2(out + 17, (int)(rem % 60));
    out[19] = '\0';
    return 0;
}

int ist_from_epoch(long long epoch, char out[20])
{
    long long secs = epoch;

    /* pydantic: a number above 2e10 in magnitude is milliseconds. */
    if (epoch > 20000000000LL || epoch < -20000000000LL) {
        secs = epoch / 1000;
        if (epoch % 1000 < 0)
            secs--;
    }
    if (secs > 253402300799LL || secs < -62135596800LL)
        return -1;
    return format_local(secs + IST_OFFSET_S, out);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads n digits at s[*i]; -1 when one is not a digit or the text ends. */
static int read_digits(const char *s, size_t len, size_t *i, int n)
{
    int v = 0;

    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || !is_digit(s[*i]))
            return -1;
        v = v * 10 + (s[*i] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dim[m - 1];
}

struct dt {
    int y, mo, d, h, mi, s;
    int tz_min; /* offset east of UTC in minutes */
    bool zoned;
};

static int parse_date_part(const char *s, size_t len, size_t *i, struct dt *t, const char **why)
{
    if (len < 10) {
        *why = "input is too short";
        return -1;
    }
    if ((t->y = read_digits(s, len, i, 4)) < 0) {
        *why = "invalid character in year";
        return -1;
    }
    if (s[(*i)++] != '-') {
        *why = "invalid date separator, expected `-`";
        return -1;
    }
    if ((t->mo = read_digits(s, len, i, 2)) < 0) {
        *why = "invalid character in month";
        return -1;
    }
    if (s[(*i)++] != '-') {
        *why = "invalid date separator, expected `-`";
        return -1;
    }
    if ((t->d = read_digits(s, len, i, 2)) < 0) {
        *why = "invalid character in day";
        return -1;
    }
    if (t->mo < 1 || t->mo > 12) {
        *why = "month value is outside expected range of 1-12";
        return -1;
    }
    if (t->y < 1 || t->d < 1 || t->d > days_in_month(t->y, t->mo)) {
        *why = "day value is outside expected range";
        return -1;
    }
    return 0;
}

static int parse_tz(const char *s, size_t len, size_t *i, struct dt *t, const char **why)
{
    int sign, hh, mm = 0;

    if (*i >= len)
        return 0;
    if (s[*i] == 'Z' || s[*i] == 'z') {
        (*i)++;
        t->zoned = true;
        return 0;
    }
    if (s[*i] != '+' && s[*i] != '-') {
        *why = "unexpected extra characters at the end of the input";
        return -1;
    }
    sign = s[(*i)++] == '-' ? -1 : 1;
    hh = read_digits(s, len, i, 2);
    if (hh >= 0 && *i < len && s[*i] == ':')
        (*i)++;
    if (hh >= 0 && *i < len)
        mm = read_digits(s, len, i, 2);
    if (hh < 0 || mm < 0 || hh > 23 || mm > 59) {
        *why = "invalid timezone sign";
        return -1;
    }
    t->tz_min = sign * (hh * 60 + mm);
    t->zoned = true;
    return 0;
}

static int parse_time_part(const char *s, size_t len, size_t *i, struct dt *t, const char **why)
{
    if (s[*i] != 'T' && s[*i] != 't' && s[*i] != ' ' && s[*i] != '_') {
        *why = "invalid datetime separator, expected `T`, `t`, `_` or space";
        return -1;
    }
    (*i)++;
    if ((t->h = read_digits(s, len, i, 2)) < 0) {
        *why = *i >= len ? "input is too short" : "invalid character in hour";
        return -1;
    }
    if (*i >= len || s[(*i)++] != ':' || (t->mi = read_digits(s, len, i, 2)) < 0) {
        *why = "invalid character in minute";
        return -1;
    }
    if (*i < len && s[*i] == ':') {
        (*i)++;
        if ((t->s = read_digits(s, len, i, 2)) < 0) {
            *why = "invalid character in second";
            return -1;
        }
        if (*i < len && (s[*i] == '.' || s[*i] == ',')) {
            (*i)++;
            if (*i >= len || !is_digit(s[*i])) {
                *why = "invalid character in second fraction";
                return -1;
            }
            while (*i < len && is_digit(s[*i]))
                (*i)++;
        }
    }
    if (t->h > 23) {
        *why = "hour value is outside expected range of 0-23";
        return -1;
    }
    if (t->mi > 59) {
        *why = "minute value is outside expected range of 0-59";
        return -1;
    }
    if (t->s > 59) {
        *why = "second value is outside expected range of 0-59";
        return -1;
    }
    return parse_tz(s, len, i, t, why);
}

static bool all_digits(const char *s, size_t len)
{
    size_t i = len > 0 && s[0] == '-' ? 1 : 0;

    if (i == len || len - i > 18)
        return false;
    for (; i < len; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

int ist_date_normalise(const char *s, size_t len, char out[20], const char **why)
{
    struct dt t = {0};
    size_t i = 0;
    long long secs;

    if (all_digits(s, len)) {
        if (ist_from_epoch(strtoll(s, NULL, 10), out) < 0) {
            *why = "timestamp is out of range";
            return -1;
        }
        return 0;
    }
    if (parse_date_part(s, len, &i, &t, why) < 0)
        return -1;
    if (i < len && parse_time_part(s, len, &i, &t, why) < 0)
        return -1;
    if (i != len) {
        *why = "unexpected extra characters at the end of the input";
        return -1;
    }
    secs = days_from_civil(t.y, t.mo, t.d) * 86400 + t.h * 3600 + t.mi * 60 + t.s;
    if (t.zoned)
        secs += IST_OFFSET_S - t.tz_min * 60LL;
    if (format_local(secs, out) < 0) {
        *why = "timestamp is out of range";
        return -1;
    }
    return 0;
}

/* n ASCII digits at s as a number; -1 when one is not a digit. */
static int fixed_digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int ist_date_to_unix(const char *text, int64_t *out)
{
    int y, mo, d, h, mi, s;

    if (!text || strlen(text) != 19 || text[4] != '-' || text[7] != '-' || text[10] != ' ' ||
        text[13] != ':' || text[16] != ':')
        return -1;
    if (fixed_digits(text, 4, &y) || fixed_digits(text + 5, 2, &mo) ||
        fixed_digits(text + 8, 2, &d) || fixed_digits(text + 11, 2, &h) ||
        fixed_digits(text + 14, 2, &mi) || fixed_digits(text + 17, 2, &s))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return -1;
    *out = (int64_t)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - IST_OFFSET_S;
    return 0;
}

int ist_format_unix(double t, char out[20])
{
    long long secs = (long long)floor(t);

    if (format_local(secs + IST_OFFSET_S, out) < 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

int64_t ist_day(int64_t t)
{
    int64_t local = t + IST_OFFSET_S;

    return local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
}

void ist_civil_date(int64_t day, int *year, int *month, int *mday)
{
    civil_from_days(day, year, month, mday);
}

int ist_year(int64_t t)
{
    int y, m, d;

    civil_from_days(ist_day(t), &y, &m, &d);
    return y;
}
