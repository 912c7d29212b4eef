/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A call's life (made from a request's copies, freed with its secrets
 * wiped) and its reply (see api_call.h).
 */
#include "insights-api/api_call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/crypto.h"
#include "common/log.h"

static double wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ a call */

struct api_call *api_call_new(const char *api_name, const char *request_id, const char *body,
                              size_t len, const char *client_id, const char *token)
{
    struct api_call *c = alloc_zeroed(1, sizeof(*c));

    c->api_name = api_name;
    snprintf(c->request_id, sizeof(c->request_id), "%s", request_id ? request_id : "");
    c->body = alloc_strndup(body ? body : "", body ? len : 0);
    c->body_len = body ? len : 0;
    c->hdr_client = client_id ? alloc_strdup(client_id) : NULL;
    c->hdr_token = token ? alloc_strdup(token) : NULL;
    c->requested_at = wall_now();
    clock_gettime(CLOCK_MONOTONIC, &c->t_in);
    return c;
}

void api_call_free(struct api_call *c)
{
    if (!c)
        return;
    crypto_wipe(c->body, c->body_len);
    free(c->body);
    free(c->hdr_client);
    if (c->hdr_token)
        crypto_wipe(c->hdr_token, strlen(c->hdr_token));
    free(c->hdr_token);
    free(c->reply);
    free(c);
}

double api_call_elapsed(const struct api_call *c)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)(ts.tv_sec - c->t_in.tv_sec) + (double)(ts.tv_nsec - c->t_in.tv_nsec) / 1e9;
}

/* ------------------------------------------------------------ the reply */

void api_reply_take(struct api_call *c, int status, char *body, size_t len)
{
    free(c->reply);
    c->status = status;
    c->reply = body;
    c->reply_len = len;
    c->content_type = NULL;
    c->retry_after_s = 0;
}

void api_reply_writer(struct api_call *c, int status, struct json_writer *w)
{
    size_t len;
    char *body;

    if (!json_writer_ok(w)) {
        log_error(c->request_id, "reply serialisation failed", LOG_INT("status", status));
        api_reply_error(c, ERR_INTERNAL, NULL);
        return;
    }
    body = json_writer_take(w, &len);
    api_reply_take(c, status, body, len);
}

void api_reply_tree(struct api_call *c, int status, json_t *tree)
{
    char *text = json_dumps(tree, JSON_COMPACT);

    json_decref(tree);
    if (!text) {
        api_reply_error(c, ERR_INTERNAL, NULL);
        return;
    }
    api_reply_take(c, status, text, strlen(text));
}

void api_reply_error(struct api_call *c, enum err e, const char *detail)
{
    struct err_reply r;

    err_reply_render(e, detail, c->request_id, &r);
    api_reply_take(c, r.status, r.body, r.len);
    c->content_type = strcmp(r.content_type, "application/json") == 0 ? NULL : r.content_type;
    c->retry_after_s = r.retry_after ? API_RETRY_AFTER_S : 0;
}
