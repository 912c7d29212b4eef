-- SPDX-License-Identifier: Apache-2.0
-- The prediction log (issue 18): one row per score computed for a request, returned or shadow
-- (a score with no model loaded writes none). Written by the store writer off the request
-- path, spooled while PostgreSQL is down, partitioned by day and retained like the dump tables
-- (RETENTION_DAYS), erased by `insights-api forget`.
--   user_key           lowercase hex HMAC-SHA256(USER_KEY_SECRET, user_id): never the user id
--   value              the score's value; NULL when the score was null (null_reason says why)
--   predictors_digest  lowercase hex SHA-256 of the model's predictor values, in the predictor
--                      list's order, each an IEEE-754 double little-endian (missing: the quiet
--                      NaN 0x7ff8000000000000); NULL when the score was null
-- created_at and as_of are timestamptz (absolute instants). The daily partitions' bounds are
-- dates, read in the session's TimeZone: UTC days where the server's TimeZone is UTC.
-- The primary key makes a replayed spool batch a no-op (ON CONFLICT DO NOTHING).

CREATE TABLE IF NOT EXISTS prediction_log (
    created_at timestamptz NOT NULL DEFAULT now(),
    request_id text NOT NULL,
    client_id text NOT NULL,
    user_key text NOT NULL,
    score_name text NOT NULL,
    model_version text,
    arm text NOT NULL,
    shadow boolean NOT NULL,
    value double precision,
    as_of timestamptz,
    predictors_digest text,
    null_reason text,
    PRIMARY KEY (request_id, score_name, arm, shadow, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE IF NOT EXISTS prediction_log_default PARTITION OF prediction_log DEFAULT;
CREATE INDEX IF NOT EXISTS prediction_log_user_idx ON prediction_log (client_id, user_key);
CREATE INDEX IF NOT EXISTS prediction_log_request_id_idx ON prediction_log (request_id);
