/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sequence every insights-api call goes through, whatever its endpoint
 * (see the DESIGN note in api.h): a call's life (made from a request's
 * copies, freed with its secrets wiped), its reply, and api_serve(), which
 * runs an endpoint row's validate and run between the admission steps, the
 * dumps and the usage row. No endpoint is named here.
 */
#include "insights-api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/crypto.h"
#include "common/ist_date.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "insights-api/admission.h"

static double wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void api_init(struct api *api, const struct api_deps *deps)
{
    memset(api, 0, sizeof(*api));
    api->d = *deps;
    api->calls =
        metrics_counter_new(deps->metrics, "api_calls_total", "API calls by endpoint", "api");
    api->auth =
        metrics_counter_new(deps->metrics, "auth_checks_total",
                            "credential checks by result (ok, denied, unavailable)", "result");
}

void api_set_runner(struct api *api, struct jobs_runner *runner)
{
    api->runner = runner;
}

const struct api_endpoint *api_endpoint_find(const char *name)
{
    for (size_t i = 0; i < api_endpoints_count; i++)
        if (strcmp(api_endpoints[i].name, name) == 0)
            return &api_endpoints[i];
    return NULL;
}

/* ------------------------------------------------------------ a call */

struct api_call *api_call_new(const struct api_endpoint *e, const char *request_id,
                              const char *body, size_t len, const char *client_id,
                              const char *token)
{
    struct api_call *c = alloc_zeroed(1, sizeof(*c));

    c->endpoint = e;
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

/* ------------------------------------------------------------ serving */

static char *groupings_json(const struct api_ask *ask)
{
    json_t *arr = json_array();
    char *s;

    for (size_t i = 0; i < ask->n_groupings; i++)
        json_array_append_new(arr, json_string(ask->groupings[i]));
    s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}

/* The request (and, for a 200, response) dump rows of an admitted call. */
static void dump(struct api *api, const struct api_call *c, const struct api_ask *ask)
{
    const struct api_endpoint *e = c->endpoint;
    /* only the insights response tables have a groupings column */
    char *gj = e->dump == STORE_API_INSIGHTS ? groupings_json(ask) : NULL;
    char cutoff[20];
    struct store_dump d = {
        .api = e->dump,
        .api_name = e->name,
        .request_id = c->request_id,
        .client_id = ask->client_id,
        .user_id = ask->user_id,
        .cutoff_date = cutoff,
        .groupings_json = gj,
        .request_json = c->body,
        .request_len = c->body_len,
        .has_response = c->status == 200,
        .response_json = c->reply,
        .response_len = c->reply_len,
        .time_to_featurize = api_call_elapsed(c),
    };

    /* the data's cut-off: as_of when the endpoint takes one (the call's time by default) */
    ist_format_unix(ask->as_of ? (double)ask->as_of : c->requested_at, cutoff);
    store_dump(api->d.store, &d);
    free(gj);
}

void api_serve(struct api *api, struct api_call *c)
{
    struct api_ask ask;

    if (api->d.cfg->test_clock_s)
        c->requested_at = ins_config_now(api->d.cfg);

    if (api_call_elapsed(c) * 1000.0 > (double)api->d.cfg->pipeline_timeout_ms) {
        api_reply_error(c, ERR_OVERLOADED, NULL);
        goto usage;
    }
    if (!admission_body(api, c, &ask))
        goto usage;
    if (admission_credentials(api, c, &ask) == 0) {
        c->endpoint->run(api, c, &ask);
        dump(api, c, &ask);
    }
    json_decref(ask.root);
usage:
    store_usage(api->d.store, c->request_id, c->hdr_client, c->endpoint->name, c->status);
    metrics_counter_add_label(api->calls, c->endpoint->name, 1);
}
