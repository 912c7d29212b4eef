/* SPDX-License-Identifier: Apache-2.0 */
/*
 * India-time dates: the one form both daemons store and compare,
 * "YYYY-MM-DD HH:MM:SS" in Asia/Kolkata (UTC+05:30, no daylight saving).
 */
#ifndef COMMON_IST_DATE_H
#define COMMON_IST_DATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Convert epoch seconds or milliseconds (pydantic's rule: above 2e10 means
 * milliseconds) to "YYYY-MM-DD HH:MM:SS" India time. Returns 0, or -1 when
 * out of the years 1..9999.
 */
int ist_from_epoch(long long epoch, char out[20]);

/*
 * Validate and normalise a textual date: "YYYY-MM-DD[ T]HH:MM[:SS[.frac]][Z|+hh:mm]",
 * "YYYY-MM-DD", or a digit string taken as an epoch. Naive times are India time;
 * zoned ones are converted to it. Returns 0, or -1 with why set to the
 * pydantic-style reason ("invalid character in year", ...).
 */
int ist_date_normalise(const char *text, size_t len, char out[20], const char **why);

/*
 * The reverse, for the one form only ("YYYY-MM-DD HH:MM:SS", India time, as
 * the extractor replies and the sources store): Unix seconds. Returns 0, or
 * -1 if the text is not in that form.
 */
int ist_date_to_unix(const char *text, int64_t *out);

/*
 * Unix seconds t (the fraction dropped) as "YYYY-MM-DD HH:MM:SS" India time,
 * the form of replies' data_requested_time and dumps' cutoff_date. Returns 0,
 * or -1 (out "") when out of the years 1..9999.
 */
int ist_format_unix(double t, char out[20]);

/* The India-time calendar day of Unix seconds t, as days since 1970-01-01 (floor). */
int64_t ist_day(int64_t t);

/* The civil date (proleptic Gregorian) of a day number of ist_day. */
void ist_civil_date(int64_t day, int *year, int *month, int *mday);

/* The India-time calendar year of Unix seconds t. */
int ist_year(int64_t t);

#endif
