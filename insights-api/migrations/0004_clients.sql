-- SPDX-License-Identifier: Apache-2.0
-- API clients and tokens (credeau.md §6.1, clients). One row per token; id is the token id.
-- Documented columns are kept; auth_token (the clear token in Credeau's schema) stays NULL:
-- we store token_hash = HMAC-SHA256(pepper, token) in lowercase hex instead. expires_at is
-- set on the old tokens by a rotation (overlap window); revoked_at ends a token at once.

CREATE TABLE IF NOT EXISTS clients (
    id bigint GENERATED ALWAYS AS IDENTITY,
    client_id varchar(72) NOT NULL,
    email varchar(32),
    auth_token varchar(36),               -- never written (kept for schema compatibility)
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    updated_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    geography varchar(128) NOT NULL DEFAULT 'india',
    token_hash char(64) NOT NULL,         -- ours
    expires_at timestamp,                 -- ours: NULL = no expiry
    revoked_at timestamp,                 -- ours: NULL = not revoked
    PRIMARY KEY (id, created_at),
    CONSTRAINT clients_auth_token_unused CHECK (auth_token IS NULL)
);
CREATE INDEX IF NOT EXISTS clients_client_id_idx ON clients (client_id);
CREATE UNIQUE INDEX IF NOT EXISTS clients_token_hash_idx ON clients (token_hash);
