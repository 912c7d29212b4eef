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

void api_init(struct api *api, const struct api_deps *deps)
{
    memset(api, 0, sizeof(*api));
    api->d = *deps;
    api->calls =
        metrics_counter_new(deps->metrics, "api_calls_total", "API calls by endpoint", "api");
    admission_init(&api->admission, deps->auth, deps->store, deps->metrics);
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
        .client_request_id = c->client_request_id[0] ? c->client_request_id : NULL,
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

struct api_call *api_call_for(const struct api_endpoint *e, const char *request_id,
                              const char *body, size_t len, const char *client_id,
                              const char *token)
{
    struct api_call *c = api_call_new(e->name, request_id, body, len, client_id, token);

    c->endpoint = e;
    return c;
}

void api_call_dropped(struct api *api, struct api_call *c)
{
    api_reply_error(c, ERR_DRAINING, NULL);
    store_usage(api->d.store, c->request_id, c->client_request_id[0] ? c->client_request_id : NULL,
                c->hdr_client, c->endpoint->name, c->status);
    metrics_counter_add_label(api->calls, c->endpoint->name, 1);
}

int api_serve_head(struct api *api, struct api_call *c)
{
    if (api_call_elapsed(c) * 1000.0 > (double)api->d.cfg->pipeline_timeout_ms)
        api_reply_error(c, ERR_OVERLOADED, NULL);
    else if (admission_credentials(&api->admission, c, NULL) == 0)
        return 0;
    store_usage(api->d.store, c->request_id, c->client_request_id[0] ? c->client_request_id : NULL,
                c->hdr_client, c->endpoint->name, c->status);
    metrics_counter_add_label(api->calls, c->endpoint->name, 1);
    return -1;
}

void api_serve(struct api *api, struct api_call *c)
{
    struct raw_sms_list sms_data;
    struct validation v;
    struct api_ask ask;
    json_t *root;

    if (api->d.cfg->test_clock_s)
        c->requested_at = ins_config_now(api->d.cfg);

    if (api_call_elapsed(c) * 1000.0 > (double)api->d.cfg->pipeline_timeout_ms) {
        api_reply_error(c, ERR_OVERLOADED, NULL);
        goto usage;
    }
    validation_init(&v, ADMISSION_MAX_ERRORS);
    root = admission_parse(c, &ask, &sms_data, &v);
    if (json_is_object(root) && c->endpoint->validate)
        c->endpoint->validate(api, root, &ask, &v);
    if (admission_refused(c, &v))
        goto out;
    if (admission_credentials(&api->admission, c, &ask) == 0) {
        c->endpoint->run(api, c, &ask);
        dump(api, c, &ask);
    }
out:
    json_decref(root);
    raw_sms_list_free(&sms_data);
usage:
    store_usage(api->d.store, c->request_id, c->client_request_id[0] ? c->client_request_id : NULL,
                c->hdr_client, c->endpoint->name, c->status);
    metrics_counter_add_label(api->calls, c->endpoint->name, 1);
}
