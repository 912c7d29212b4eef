-- SPDX-License-Identifier: Apache-2.0
-- Event tables (credeau.md §6.1): the sync events log (written by the sync pipeline, not by
-- insights-api; created so the schema is complete and `forget` covers it), failed
-- authentications and per-call usage. All three are partitioned by day with a default
-- partition. unauthorized_requests.auth_token never holds a token: insights-api writes the
-- first 12 hex digits of HMAC-SHA256(pepper, presented token), and req_body stays NULL.

CREATE TABLE IF NOT EXISTS sync_events_log (
    id bigint GENERATED ALWAYS AS IDENTITY,
    event_type varchar(128),
    event_value varchar(128),
    sync_request_id varchar(128),
    client_id varchar(128),
    user_id varchar(128),
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE IF NOT EXISTS sync_events_log_default PARTITION OF sync_events_log DEFAULT;
CREATE INDEX IF NOT EXISTS sync_events_log_client_id_idx ON sync_events_log (client_id);
CREATE INDEX IF NOT EXISTS sync_events_log_sync_request_id_idx ON sync_events_log (sync_request_id);
CREATE INDEX IF NOT EXISTS sync_events_log_user_id_idx ON sync_events_log (user_id);

CREATE TABLE IF NOT EXISTS unauthorized_requests (
    id bigint GENERATED ALWAYS AS IDENTITY,
    client_id varchar(128),
    request_id varchar(128),
    auth_token varchar(256),              -- a short hash prefix, never the token
    req_body json,                        -- always NULL: bodies are not kept
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE IF NOT EXISTS unauthorized_requests_default
    PARTITION OF unauthorized_requests DEFAULT;
CREATE INDEX IF NOT EXISTS unauthorized_requests_client_id_idx ON unauthorized_requests (client_id);
CREATE INDEX IF NOT EXISTS unauthorized_requests_request_id_idx
    ON unauthorized_requests (request_id);
CREATE INDEX IF NOT EXISTS unauthorized_requests_created_at_idx
    ON unauthorized_requests (created_at);

CREATE TABLE IF NOT EXISTS usage (
    id bigint GENERATED ALWAYS AS IDENTITY,
    request_id varchar(128),
    client_id varchar(128),
    api_name varchar(128),
    response_code integer,
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE IF NOT EXISTS usage_default PARTITION OF usage DEFAULT;
CREATE INDEX IF NOT EXISTS usage_api_name_idx ON usage (api_name);
CREATE INDEX IF NOT EXISTS usage_client_id_idx ON usage (client_id);
