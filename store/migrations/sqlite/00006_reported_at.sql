-- +goose Up
-- When the latest provider report applied to a charge happened (micro-
-- seconds): a status report older than that is stale.
ALTER TABLE charges ADD COLUMN reported_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE charges DROP COLUMN reported_at;
