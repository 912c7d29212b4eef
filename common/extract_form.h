/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The internal reply form of POST /api/extract, the one contract detail both
 * daemons must spell the same way: insights-api asks for it with a request
 * header, sms-extraction answers it only when asked (any other caller, or
 * any other header value, gets the public reply byte for byte). See
 * docs/api-sms-extraction.md, "Internal form".
 *
 * The rows form sends each record as a JSON array of its values, in the
 * order of the "fields" list that the reply carries itself, so the reader
 * never depends on the writer's order: it maps the names it knows and
 * refuses a list that lacks one it needs.
 *
 * rows-2 is rows-1 without the two fields that only echo the message sent
 * (sms_id, sms_inbox_date): row i is message i of the request, and the
 * caller has both already. Both forms are understood by insights-api;
 * sms-extraction answers the one asked for.
 */
#ifndef COMMON_EXTRACT_FORM_H
#define COMMON_EXTRACT_FORM_H

/* Request header asking for a form, and the forms. */
#define EXTRACT_FORM_HEADER "X-Extract-Form"
#define EXTRACT_FORM_ROWS "rows-1"
#define EXTRACT_FORM_ROWS_NO_ECHO "rows-2"

#endif
