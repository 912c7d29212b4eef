-- SPDX-License-Identifier: Apache-2.0
-- Request and response dumps (credeau.md §6.1). Documented columns are kept as documented;
-- ours are marked. Differences, explained in docs/database.md:
--   * payload columns (request_dump, response_dump) are nullable: DUMP_MODE=metadata keeps
--     ids, times, sizes and groupings but no payload;
--   * api_name on the four per-API tables and request_bytes/response_bytes everywhere (ours);
--   * every table gets a default partition (as the guide's first version did) so an insert
--     never fails for lack of a daily partition.
-- created_at is UTC wall time (timestamp without time zone), as documented.

CREATE TABLE IF NOT EXISTS api_request_dump (
    request_id varchar(128) NOT NULL,
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    user_id varchar(128),
    client_id varchar(128),
    request_dump json,
    api_name varchar(128),
    request_bytes integer,                -- ours
    PRIMARY KEY (request_id)
);
CREATE INDEX IF NOT EXISTS api_request_dump_api_name_idx ON api_request_dump (api_name);
CREATE INDEX IF NOT EXISTS api_request_dump_client_id_idx ON api_request_dump (client_id);
CREATE INDEX IF NOT EXISTS api_request_dump_created_at_idx ON api_request_dump (created_at);
CREATE INDEX IF NOT EXISTS api_request_dump_user_id_idx ON api_request_dump (user_id);

CREATE TABLE IF NOT EXISTS api_response_dump (
    request_id varchar(128) NOT NULL,
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    user_id varchar(128),
    client_id varchar(128),
    response_dump json,
    time_to_featurize double precision,
    time_json json,
    api_name varchar(128),
    response_bytes integer,               -- ours
    PRIMARY KEY (request_id)
);
CREATE INDEX IF NOT EXISTS api_response_dump_api_name_idx ON api_response_dump (api_name);
CREATE INDEX IF NOT EXISTS api_response_dump_client_id_idx ON api_response_dump (client_id);
CREATE INDEX IF NOT EXISTS api_response_dump_created_at_idx ON api_response_dump (created_at);
CREATE INDEX IF NOT EXISTS api_response_dump_user_id_idx ON api_response_dump (user_id);

CREATE TABLE IF NOT EXISTS fetch_extracted_request_dump (
    request_id varchar(128) NOT NULL,
    user_id varchar(128),
    client_id varchar(128),
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    cutoff_date varchar(128) NOT NULL,
    api_name varchar(128),                -- ours
    request_bytes integer,                -- ours
    PRIMARY KEY (request_id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE IF NOT EXISTS fetch_extracted_request_dump_default
    PARTITION OF fetch_extracted_request_dump DEFAULT;
CREATE INDEX IF NOT EXISTS fetch_extracted_request_dump_client_id_idx
    ON fetch_extracted_request_dump (client_id);
CREATE INDEX IF NOT EXISTS fetch_extracted_request_dump_user_id_idx
    ON fetch_extracted_request_dump (user_id);

CREATE TABLE IF NOT EXISTS fetch_extracted_response_dump (
    request_id varchar(128) NOT NULL,
    user_id varchar(128),
    client_id varchar(128),
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    response_dump json,
    time_to_featurize double precision,
    time_json json,
    api_name varchar(128),                -- ours
    response_bytes integer,               -- ours
    PRIMARY KEY (request_id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE IF NOT EXISTS fetch_extracted_response_dump_default
    PARTITION OF fetch_extracted_response_dump DEFAULT;
CREATE INDEX IF NOT EXISTS fetch_extracted_response_dump_client_id_idx
    ON fetch_extracted_response_dump (client_id);
CREATE INDEX IF NOT EXISTS fetch_extracted_response_dump_user_id_idx
    ON fetch_extracted_response_dump (user_id);

CREATE TABLE IF NOT EXISTS insights_request_dump (
    request_id varchar(128) NOT NULL,
    user_id varchar(128),
    client_id varchar(128),
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    cutoff_date varchar(128) NOT NULL,
    api_name varchar(128),                -- ours
    request_bytes integer,                -- ours
    PRIMARY KEY (request_id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE IF NOT EXISTS insights_request_dump_default
    PARTITION OF insights_request_dump DEFAULT;
CREATE INDEX IF NOT EXISTS insights_request_dump_client_id_idx ON insights_request_dump (client_id);
CREATE INDEX IF NOT EXISTS insights_request_dump_user_id_idx ON insights_request_dump (user_id);

CREATE TABLE IF NOT EXISTS insights_response_dump (
    request_id varchar(128) NOT NULL,
    user_id varchar(128),
    client_id varchar(128),
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    response_dump json,
    time_to_featurize double precision,
    time_json json,
    groupings json NOT NULL DEFAULT '[]',
    api_name varchar(128),                -- ours
    response_bytes integer,               -- ours
    PRIMARY KEY (request_id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE IF NOT EXISTS insights_response_dump_default
    PARTITION OF insights_response_dump DEFAULT;
CREATE INDEX IF NOT EXISTS insights_response_dump_client_id_idx
    ON insights_response_dump (client_id);
CREATE INDEX IF NOT EXISTS insights_response_dump_user_id_idx ON insights_response_dump (user_id);
