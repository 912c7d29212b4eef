-- SPDX-License-Identifier: Apache-2.0
-- Request ids (issue 11, item 11; docs/api-insights.md "Request ids"): request_id is always
-- the server's own id, the key of every row; a client's X-Request-Id is kept beside it in
-- client_request_id, so a client-chosen id can never collide with (and, through ON CONFLICT
-- DO NOTHING, suppress) another client's rows. ALTER on a partitioned parent reaches every
-- partition; later partitions are created from the parent and get the column too.

ALTER TABLE api_request_dump ADD COLUMN IF NOT EXISTS client_request_id varchar(128);
ALTER TABLE api_response_dump ADD COLUMN IF NOT EXISTS client_request_id varchar(128);
ALTER TABLE fetch_extracted_request_dump ADD COLUMN IF NOT EXISTS client_request_id varchar(128);
ALTER TABLE fetch_extracted_response_dump ADD COLUMN IF NOT EXISTS client_request_id varchar(128);
ALTER TABLE insights_request_dump ADD COLUMN IF NOT EXISTS client_request_id varchar(128);
ALTER TABLE insights_response_dump ADD COLUMN IF NOT EXISTS client_request_id varchar(128);
ALTER TABLE unauthorized_requests ADD COLUMN IF NOT EXISTS client_request_id varchar(128);
ALTER TABLE usage ADD COLUMN IF NOT EXISTS client_request_id varchar(128);
