/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The error table: the single place where a project error gets its public
 * face (string code, HTTP status, Retry-After, the shape of the reply body,
 * who sends it, message), and the one renderer of those bodies. Rows are
 * indexed by enum value with designated initialisers, so a value without a
 * row is a NULL hole that tests/unit/common/test_err.c catches, and
 * docs/errors.md is printed from here rather than written by hand.
 */
#include "common/err.h"

#include <stdbool.h>
#include <string.h>

#include "common/alloc.h"
#include "common/json_writer.h"

#define BOTH (ERR_BY_SMSX | ERR_BY_INSIGHTS)
#define ROW(e, c, s, r, st, by, m)                                                                 \
    [e] = {.code = (c),                                                                            \
           .http_status = (s),                                                                     \
           .retry_after = (r),                                                                     \
           .style = (st),                                                                          \
           .sent_by = (by),                                                                        \
           .message = (m)}

static const struct err_info err_table[ERR__COUNT] = {
    ROW(ERR_OK, "ok", 200, 0, ERR_STYLE_JSON, 0, "OK"),
    ROW(ERR_VALIDATION, "validation", 422, 0, ERR_STYLE_DETAIL_LIST, BOTH,
        "Request body failed validation"),
    ROW(ERR_BODY_TOO_LARGE, "body_too_large", 413, 0, ERR_STYLE_JSON, BOTH,
        "Request body is too large"),
    ROW(ERR_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415, 0, ERR_STYLE_JSON, BOTH,
        "Content-Type must be application/json"),
    ROW(ERR_NOT_FOUND, "not_found", 404, 0, ERR_STYLE_JSON, BOTH, "Not Found"),
    ROW(ERR_METHOD_NOT_ALLOWED, "method_not_allowed", 405, 0, ERR_STYLE_JSON, BOTH,
        "Method Not Allowed"),
    ROW(ERR_OVERLOADED, "overloaded", 503, 1, ERR_STYLE_JSON, BOTH,
        "Server is overloaded, retry later"),
    ROW(ERR_DRAINING, "draining", 503, 1, ERR_STYLE_JSON, BOTH, "Server is shutting down"),
    ROW(ERR_NOT_READY, "not_ready", 503, 1, ERR_STYLE_JSON, BOTH, "Server is not ready"),
    ROW(ERR_UNAUTHORIZED, "unauthorized", 401, 0, ERR_STYLE_CREDEAU_401, ERR_BY_INSIGHTS,
        "Could not validate credentials."),
    ROW(ERR_FORBIDDEN, "forbidden", 403, 0, ERR_STYLE_HTML_403, ERR_BY_INSIGHTS, "Forbidden"),
    ROW(ERR_RATE_LIMITED, "rate_limited", 429, 1, ERR_STYLE_JSON, ERR_BY_INSIGHTS,
        "Too many requests, retry later"),
    /* 502/504 for a dependency (Credeau's async sample retries those), 503 only when it shed
       load with 503 itself: 503 otherwise means our own overload or draining (issue 15) */
    ROW(ERR_DEPENDENCY_UNAVAILABLE, "dependency_unavailable", 502, 1, ERR_STYLE_JSON,
        ERR_BY_INSIGHTS, "A backing service is unavailable, retry later"),
    ROW(ERR_INTERNAL, "internal", 500, 0, ERR_STYLE_JSON, BOTH, "Internal Server Error"),
    ROW(ERR_BAD_REQUEST, "bad_request", 400, 0, ERR_STYLE_JSON, BOTH, "Malformed request"),
    ROW(ERR_HEADERS_TOO_LARGE, "headers_too_large", 431, 0, ERR_STYLE_JSON, BOTH,
        "Request header fields too large"),
    ROW(ERR_REQUEST_TIMEOUT, "request_timeout", 408, 0, ERR_STYLE_JSON, BOTH,
        "Request not received in time"),
    ROW(ERR_EXPECTATION_FAILED, "expectation_failed", 417, 0, ERR_STYLE_JSON, BOTH,
        "Only Expect: 100-continue is supported"),
    ROW(ERR_NOT_IMPLEMENTED, "not_implemented", 501, 0, ERR_STYLE_JSON, BOTH,
        "Transfer coding not implemented"),
    ROW(ERR_HTTP_VERSION, "http_version_not_supported", 505, 0, ERR_STYLE_JSON, BOTH,
        "HTTP version not supported"),
    ROW(ERR_DEPENDENCY_TIMEOUT, "dependency_timeout", 504, 1, ERR_STYLE_JSON, ERR_BY_INSIGHTS,
        "A backing service did not answer in time, retry later"),
    ROW(ERR_DEPENDENCY_OVERLOADED, "dependency_overloaded", 503, 1, ERR_STYLE_JSON, ERR_BY_INSIGHTS,
        "A backing service is overloaded, retry later"),
};

/* What each style looks like, for docs/errors.md. */
static const char *const style_doc[ERR_STYLE__COUNT] = {
    [ERR_STYLE_JSON] = "`{\"detail\":\"<message>\",\"code\":\"<code>\"}` (the detail may be a "
                       "more precise fixed text than the message below)",
    [ERR_STYLE_DETAIL_LIST] =
        "FastAPI's pydantic-v2 list, `{\"detail\":[{\"type\":...,\"loc\":[...],"
        "\"msg\":...,\"input\":...}]}`, every problem found up to a cap; "
        "echoed inputs that could hold text are `\"[redacted]\"`",
    [ERR_STYLE_CREDEAU_401] = "Credeau's body, `{\"error\":\"Could not validate credentials. "
                              "(request_id=<id>). It has been logged successfully on our servers. "
                              "Please contact us with the request_id for assistance.\"}`",
    [ERR_STYLE_HTML_403] = "the load balancer's HTML page (`text/html`), "
                           "`<html><head><title>403 Forbidden</title>...`",
};

static const char *const style_name[ERR_STYLE__COUNT] = {
    [ERR_STYLE_JSON] = "JSON",
    [ERR_STYLE_DETAIL_LIST] = "detail list",
    [ERR_STYLE_CREDEAU_401] = "Credeau 401",
    [ERR_STYLE_HTML_403] = "HTML 403",
};

/* credeau.md §2.4, byte for byte. */
static const char forbidden_page[] =
    "<html><head><title>403 Forbidden</title></head><body><center><h1>403 "
    "Forbidden</h1></center></body></html>";

static const char credeau_401_tail[] = "It has been logged successfully on our servers. Please "
                                       "contact us with the request_id for assistance.";

const struct err_info *err_row(int e)
{
    if (e < 0 || e >= ERR__COUNT || !err_table[e].code)
        return NULL;
    return &err_table[e];
}

const struct err_info *err_info(enum err e)
{
    const struct err_info *row = err_row((int)e);

    return row ? row : &err_table[ERR_INTERNAL];
}

const char *err_code(enum err e)
{
    return err_info(e)->code;
}

int err_http_status(enum err e)
{
    return err_info(e)->http_status;
}

const char *err_message(enum err e)
{
    return err_info(e)->message;
}

enum err err_from_code(const char *code)
{
    for (int e = 1; code && e < ERR__COUNT; e++)
        if (strcmp(err_table[e].code, code) == 0)
            return (enum err)e;
    return ERR__COUNT;
}

static void render_json(struct json_writer *w, const struct err_info *row, const char *detail,
                        const char *request_id)
{
    char msg[512];

    json_writer_object_begin(w);
    switch (row->style) {
    case ERR_STYLE_DETAIL_LIST:
        json_writer_key(w, "detail");
        json_writer_raw(w, detail ? detail : "[]", detail ? strlen(detail) : 2);
        break;
    case ERR_STYLE_CREDEAU_401:
        snprintf(msg, sizeof(msg), "%s (request_id=%s). %s", row->message,
                 request_id ? request_id : "", credeau_401_tail);
        json_writer_kv_string(w, "error", msg);
        break;
    default:
        json_writer_kv_string(w, "detail", detail ? detail : row->message);
        json_writer_kv_string(w, "code", row->code);
        break;
    }
    json_writer_object_end(w);
}

void err_reply_render(enum err e, const char *detail, const char *request_id, struct err_reply *out)
{
    const struct err_info *row = err_info(e);
    struct json_writer w;

    out->status = row->http_status;
    out->retry_after = row->retry_after;
    if (row->style == ERR_STYLE_HTML_403) {
        out->content_type = "text/html";
        out->len = sizeof(forbidden_page) - 1;
        out->body = alloc_strndup(forbidden_page, out->len);
        return;
    }
    out->content_type = "application/json";
    json_writer_init(&w, (detail ? strlen(detail) : 0) + 4096);
    render_json(&w, row, detail, request_id);
    if (!json_writer_ok(&w)) { /* cannot happen with the cap above: still, a valid body */
        json_writer_reset(&w);
        render_json(&w, &err_table[ERR_INTERNAL], NULL, NULL);
        out->status = err_table[ERR_INTERNAL].http_status;
    }
    out->body = json_writer_take(&w, &out->len);
    json_writer_free(&w);
}

int err_write_markdown(FILE *out, const char *service, unsigned sender)
{
    bool used[ERR_STYLE__COUNT] = {false};
    int rc = 0;

    rc |= fprintf(out,
                  "## %s\n\n"
                  "| Code | HTTP status | Retry-After | Reply | Message |\n"
                  "|---|---|---|---|---|\n",
                  service) < 0;
    for (int e = 1; e < ERR__COUNT; e++) {
        const struct err_info *row = err_info((enum err)e);

        if (!(row->sent_by & sender))
            continue;
        used[row->style] = true;
        rc |= fprintf(out, "| `%s` | %d | %s | %s | %s |\n", row->code, row->http_status,
                      row->retry_after ? "yes" : "", style_name[row->style], row->message) < 0;
    }
    rc |= fputs("\nReplies:\n\n", out) < 0;
    for (int s = 0; s < ERR_STYLE__COUNT; s++)
        if (used[s])
            rc |= fprintf(out, "- %s: %s.\n", style_name[s], style_doc[s]) < 0;
    return rc ? -1 : 0;
}
