-- SPDX-License-Identifier: Apache-2.0
-- Outcomes (issue 18): what became of a borrower, posted by the client (POST /api/outcomes) or
-- imported (`insights-api outcomes import FILE.csv`). One row per (client, loan), or per
-- (client, request) when no loan id is given: a repeat is idempotent, and a later observed_at
-- replaces the outcome (a loan first good can turn bad). user_key is the same keyed hash as
-- prediction_log.user_key. Retained like the dump tables (RETENTION_DAYS, deleted by
-- maintenance by created_at) and erased by `insights-api forget`.
-- Not partitioned: the idempotency keys must be unique across days, and a unique index of a
-- partitioned table has to include the partition key.

CREATE TABLE IF NOT EXISTS outcomes (
    created_at timestamptz NOT NULL DEFAULT now(),
    client_id text NOT NULL,
    user_key text NOT NULL,
    request_id text NULL,
    loan_id text NULL,
    outcome text NOT NULL CHECK (outcome IN ('good', 'bad')),
    observed_at timestamptz NOT NULL,
    CHECK (request_id IS NOT NULL OR loan_id IS NOT NULL)
);
CREATE UNIQUE INDEX IF NOT EXISTS outcomes_client_loan_key
    ON outcomes (client_id, loan_id) WHERE loan_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS outcomes_client_request_key
    ON outcomes (client_id, request_id) WHERE loan_id IS NULL;
CREATE INDEX IF NOT EXISTS outcomes_user_idx ON outcomes (client_id, user_key);
CREATE INDEX IF NOT EXISTS outcomes_request_id_idx ON outcomes (request_id);
CREATE INDEX IF NOT EXISTS outcomes_created_at_idx ON outcomes (created_at);
