-- SPDX-License-Identifier: Apache-2.0
-- Async insights jobs (ours; insights-api/jobs.h has the lifecycle). One row per
-- (client_id, user_id, normalised groupings). timestamptz here: this table is ours and only
-- compared with now().

CREATE TABLE IF NOT EXISTS insights_jobs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id varchar(128) NOT NULL,
    user_id varchar(128) NOT NULL,
    groupings varchar(255) NOT NULL,
    state varchar(16) NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'running', 'done', 'failed')),
    request_id varchar(128) NOT NULL,     -- the request that (re)started the computation
    owner varchar(128),                   -- replica id while running
    lease_until timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    partial boolean NOT NULL DEFAULT false,
    error varchar(64),
    result json,
    delivered_at timestamptz,             -- a partial or failed outcome was reported once
    requested_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT insights_jobs_key UNIQUE (client_id, user_id, groupings)
);
CREATE INDEX IF NOT EXISTS insights_jobs_claim_idx ON insights_jobs (requested_at)
    WHERE state IN ('pending', 'running');
CREATE INDEX IF NOT EXISTS insights_jobs_owner_idx ON insights_jobs (owner) WHERE state = 'running';
