-- SPDX-License-Identifier: Apache-2.0
-- Tombstones written by `insights-api forget`: dump rows of a forgotten user created before
-- forgotten_at (still queued in a replica or waiting in a spool file) are not inserted
-- afterwards. Kept for RETENTION_DAYS, then deleted by maintenance.

CREATE TABLE IF NOT EXISTS forgotten_users (
    client_id varchar(128) NOT NULL,
    user_id varchar(128) NOT NULL,
    forgotten_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    PRIMARY KEY (client_id, user_id)
);
